"""Activation-functions page: the training race's speed on ONE CPU thread and
the gallery's computation time.

    python3 -m benchmarks.run activations

- ``race_*``: four MLPs (ReLU, tanh, Swish, Mish; 2 hidden layers of 16) on
  1,000 points of the two moons, in optimisation steps per second summed over
  the four racers (target >= 300), best of 3 chunks of 300 race steps after a
  warm-up, with the page's default mini-batch of 32 and with the full batch.
  CPU time is the figure to trust on a shared machine; wall time is reported
  too. The reference is the same four networks (``torch.nn`` modules and
  PyTorch's fused activations) in a bare loop on the same batches, without
  the per-racer guard and measurements, timed in the same run.
- ``redraw_ms``: one live tick's drawing work (snapshot + the four boundary
  heatmaps, loss, accuracy, gradient and dead-unit figures + JSON), median of 10.
- ``gallery_*``: f, f' and f'' of all nine functions on 401 points by autograd,
  the property table of all nine (uncached, the worst case), the Swish beta
  morph (curves, the |f'| = 1 point and the minimum), and the gallery figure;
  medians of 7, in wall and in CPU time (target <= 100 ms for a gallery
  interaction: curves + morph + figure; the worst case adds the uncached
  property table of all nine, which ``properties`` caches afterwards).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.timing import median_of
from core.activations import (
    ACTIVATIONS,
    LABELS,
    RaceConfig,
    Racer,
    RaceTrainer,
    _properties,
    curves,
    properties,
    swish_slope_reaches_one,
)
from core.plots.activations import (
    boundary_figure,
    dead_units_figure,
    gallery_figure,
    grad_norm_figure,
    history_figure,
    swish_figure,
)

CPU = torch.device("cpu")
RACE_STEPS = 300
ACTS = ("relu", "tanh", "swish", "mish")
FUSED = {"relu": nn.ReLU, "tanh": nn.Tanh, "swish": nn.SiLU, "mish": nn.Mish}


def _config(batch_size: int) -> RaceConfig:
    return RaceConfig(dataset="moons", n_points=1000, batch_size=batch_size, max_steps=10**9, seed=0,
                      racers=tuple(Racer(a, 2, 16) for a in ACTS))


def _timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _race_speed(batch_size: int) -> dict:
    trainer = RaceTrainer(_config(batch_size), device=CPU)
    trainer.train(50)
    times = [_timed(lambda: trainer.train(RACE_STEPS)) for _ in range(3)]
    total = RACE_STEPS * len(ACTS)
    return {"wall": total / min(t[0] for t in times), "cpu": total / min(t[1] for t in times)}


def _bare_speed(batch_size: int) -> dict:
    """The same four nets and batches in a plain loop: what the guard and the measurements cost."""
    trainer = RaceTrainer(_config(batch_size), device=CPU)
    x, y = trainer.x, trainer.y
    nets, opts = [], []
    for act in ACTS:
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 16), FUSED[act](), nn.Linear(16, 16), FUSED[act](), nn.Linear(16, 2))
        nets.append(net)
        opts.append(torch.optim.Adam(net.parameters(), lr=0.01, fused=True))
    rng = torch.Generator().manual_seed(0)

    def steps(k: int) -> None:
        for _ in range(k):
            idx = torch.randint(len(y), (batch_size,), generator=rng)
            xb, yb = (x, y) if batch_size >= len(y) else (x[idx], y[idx])
            for net, opt in zip(nets, opts, strict=True):
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(net(xb), yb).backward()
                opt.step()

    steps(50)
    times = [_timed(lambda: steps(RACE_STEPS)) for _ in range(3)]
    total = RACE_STEPS * len(ACTS)
    return {"wall": total / min(t[0] for t in times), "cpu": total / min(t[1] for t in times)}


def _redraw_ms() -> float:
    trainer = RaceTrainer(_config(32), device=CPU)
    trainer.train(300)

    def draw() -> None:
        snap = trainer.snapshot()
        labels = [r.label for r in snap.racers]
        figures = [boundary_figure(snap.grid_x, snap.grid_y, r.proba, snap.points, snap.labels, r.label)
                   for r in snap.racers]
        figures += [
            history_figure(labels, [r.loss_steps for r in snap.racers], [r.losses for r in snap.racers]),
            history_figure(labels, [r.eval_steps for r in snap.racers], [r.accuracy for r in snap.racers],
                           "accuracy"),
            grad_norm_figure(labels, [r.grad_norms[-1] for r in snap.racers]),
            dead_units_figure(labels, [r.eval_steps for r in snap.racers], [r.dead_fraction for r in snap.racers]),
        ]
        for fig in figures:
            fig.to_json()

    draw()
    return 1000 * median_of(draw, 10)


def _gallery() -> dict:
    x = np.linspace(-5, 5, 401)
    names = list(ACTIVATIONS)

    def all_curves():
        return curves(names, x)

    def all_properties():
        _properties.cache_clear()
        return [properties(n) for n in names]

    def swish_morph():
        beta = 1.7
        d = curves(["swish"], x, (0, 1), {"swish": {"beta": beta}})["swish"]
        reach = swish_slope_reaches_one(beta)
        _properties.cache_clear()
        p = properties("swish", beta=beta)
        return swish_figure(x, d[0], d[1], beta, reach, (p.argmin[0], p.minimum))

    data = all_curves()

    def figure():
        return gallery_figure(x, data, LABELS)

    all_curves(), all_properties(), swish_morph(), figure()  # warm-up
    parts = {"curves_all_9": all_curves, "properties_all_9_uncached": all_properties,
             "swish_morph": swish_morph, "figure": figure}
    out = {}
    for clock, cpu in (("wall", False), ("cpu", True)):
        ms = {name: 1000 * _median(fn, 7, cpu) for name, fn in parts.items()}
        out.update({f"gallery_{name}_ms_{clock}": round(v, 1) for name, v in ms.items()})
        # a slider move: new curves, the Swish morph (one uncached property table) and the figure
        out[f"gallery_interaction_ms_{clock}"] = round(ms["curves_all_9"] + ms["swish_morph"] + ms["figure"], 1)
        out[f"gallery_worst_case_ms_{clock}"] = round(sum(ms.values()), 1)
    return out


def _median(fn, repeats: int, cpu: bool) -> float:
    """Median seconds per call, of wall time or of this process's CPU time."""
    if not cpu:
        return median_of(fn, repeats)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return float(np.median(times))


def run() -> dict:
    torch.set_num_threads(1)  # the benchmark process only: the figure to beat is ONE thread
    result: dict = {}
    for name, batch in (("minibatch_32", 32), ("full_batch_1000", 1000)):
        ours, bare = _race_speed(batch), _bare_speed(batch)
        result[f"race_{name}_steps_per_s_cpu"] = round(ours["cpu"], 1)
        result[f"race_{name}_steps_per_s_wall"] = round(ours["wall"], 1)
        result[f"bare_loop_{name}_steps_per_s_cpu"] = round(bare["cpu"], 1)
        result[f"race_{name}_vs_bare_loop_speed_ratio"] = round(ours["cpu"] / bare["cpu"], 3)
    result["race_target_steps_per_s"] = 300
    result["redraw_ms"] = round(_redraw_ms(), 1)
    result.update(_gallery())
    result["gallery_target_ms"] = 100
    return result
