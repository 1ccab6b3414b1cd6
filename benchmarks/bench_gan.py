"""GAN page: training speed on ONE CPU thread, the cost of a live redraw, and how
reliably each preset covers the 8 modes of the ring (10 seeds, 5,000 generator steps).

    python3 -m benchmarks.run gan

- ``steps_per_s_*``: generator steps (each with its D steps) per second of the
  default preset, one thread, best of 3 chunks of 1,000 steps; CPU time is the
  figure to trust on a shared machine, wall time is reported too. The
  reference is the same networks and losses in a bare PyTorch loop (default
  Adam, no divergence guard, no measurements), timed in the same run.
- ``redraw_ms``: one live tick's drawing work (snapshot + the seven figures +
  JSON), median of 10.
- ``coverage``: per preset, the modes covered at step 5,000 for each seed
  (2,000 samples, a mode counts with >= 5 % within 3 std), the lowest and
  highest count over the last 1,000 steps (measured every 50), and the first
  step with >= 7 modes. Runs go to worker processes, one thread each.
  ``GAN_BENCH_SEEDS`` (default 10) sets the number of seeds;
  ``GAN_BENCH_PRESETS`` (comma-separated names) limits the study to some
  presets and ablations.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import torch

from core.gan import PRESETS, GANConfig, GANTrainer, d_loss, g_loss, mlp
from core.gan_targets import perfect_divergences, sample_target
from core.plots.gan import (
    coverage_figure,
    divergence_figure,
    gradient_figure,
    loss_figure,
    manifold_figure,
    plane_figure,
    shares_figure,
)

STEPS = 5000
SPEED_STEPS = 1000
FAILURE_PRESETS = ("saturating", "collapse", "ganlab")
OTHER_PRESETS = ("wgan", "hinge_sn")
# One change at a time away from the default: why each of its three choices is there.
ABLATIONS = {
    "default_with_8d_noise": {"noise_dim": 8},
    "default_with_adam_beta1_0.5": {"beta1": 0.5},
    "default_with_constant_rates": {"lr_schedule": "constant"},
    "default_with_minimax_loss": {"loss": "minimax"},
    # the saturating preset's twin: the same D steps, only G's loss switched back
    "saturating_with_nonsaturating_loss": {"loss": "nonsaturating", "d_steps": 5, "d_lr": 3e-3},
}


def _endless(config: GANConfig) -> GANConfig:
    return replace(config, max_steps=10**9)


def _timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _speed(config: GANConfig) -> dict:
    trainer = GANTrainer(_endless(config), device=torch.device("cpu"))
    trainer.train(100)  # warm-up
    times = [_timed(lambda: trainer.train(SPEED_STEPS)) for _ in range(3)]
    return {"wall": SPEED_STEPS / min(t[0] for t in times), "cpu": SPEED_STEPS / min(t[1] for t in times)}


def _bare_speed(config: GANConfig) -> dict:
    """The same game in a plain loop: what the engine's guard, chunking and measurements cost."""
    torch.manual_seed(config.seed)
    g = mlp(config.noise_dim, 2, config.g_depth, config.g_width, config.activation)
    d = mlp(2, 1, config.d_depth, config.d_width, config.activation)
    g_opt = torch.optim.Adam(g.parameters(), lr=config.g_lr, betas=(config.beta1, config.beta2))
    d_opt = torch.optim.Adam(d.parameters(), lr=config.d_lr, betas=(config.beta1, config.beta2))
    data = torch.from_numpy(sample_target(config.target, 20_000, config.seed))
    n = config.batch_size

    def steps(k: int) -> None:
        for _ in range(k):
            for _ in range(config.d_steps):
                real = data[torch.randint(len(data), (n,))]
                with torch.no_grad():
                    fake = g(torch.randn(n, config.noise_dim))
                loss = d_loss(config.loss, d(real), d(fake))
                d_opt.zero_grad()
                loss.backward()
                d_opt.step()
            loss = g_loss(config.loss, d(g(torch.randn(n, config.noise_dim))))
            g_opt.zero_grad()
            loss.backward()
            g_opt.step()

    steps(100)
    times = [_timed(lambda: steps(SPEED_STEPS)) for _ in range(3)]
    return {"wall": SPEED_STEPS / min(t[0] for t in times), "cpu": SPEED_STEPS / min(t[1] for t in times)}


def _redraw_ms(config: GANConfig) -> float:
    trainer = GANTrainer(config, device=torch.device("cpu"))
    trainer.train(500)
    floor = perfect_divergences(config.target)

    def draw() -> None:
        snap = trainer.snapshot()
        figures = [plane_figure(snap), manifold_figure(snap), loss_figure(snap), divergence_figure(snap, floor),
                   coverage_figure(snap), shares_figure(snap), gradient_figure(snap)]
        for fig in figures:
            fig.to_json()

    draw()
    times = []
    for _ in range(10):
        start = time.perf_counter()
        draw()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _init_worker() -> None:
    torch.set_num_threads(1)


def _config(name: str, seed: int, steps: int) -> GANConfig:
    if name in PRESETS:
        return PRESETS[name].config(seed=seed, max_steps=steps)
    return GANConfig(**ABLATIONS[name], seed=seed, max_steps=steps)


def coverage_run(name: str, seed: int, steps: int = STEPS) -> dict:
    """Train preset or ablation ``name`` for ``steps`` generator steps on the CPU; summarise its coverage."""
    config = _config(name, seed, steps)
    trainer = GANTrainer(config, device=torch.device("cpu"))
    snap = trainer.train(steps)
    cov, at = snap.coverage, snap.eval_steps
    last = cov[at >= snap.step - 1000]
    reached = at[cov >= 7]
    return {
        "seed": seed,
        "steps_done": int(snap.step),
        "diverged": snap.error is not None,
        "final": int(cov[-1]),
        "min_last_1000": int(last.min()),
        "max_last_1000": int(last.max()),
        "max_ever": int(cov.max()),
        "first_step_7": int(reached[0]) if len(reached) else -1,
        "js_bits": round(float(snap.js[-1]), 4),
        "median_grad_norm": round(float(np.median(snap.grad_norm)), 4),
    }


def _summary(rows: list[dict]) -> dict:
    finals = [r["final"] for r in rows]
    return {
        "final_per_seed": finals,
        "min_last_1000_per_seed": [r["min_last_1000"] for r in rows],
        "max_last_1000_per_seed": [r["max_last_1000"] for r in rows],
        "first_step_7_per_seed": [r["first_step_7"] for r in rows],
        "js_bits_per_seed": [r["js_bits"] for r in rows],
        "median_grad_norm_per_seed": [r["median_grad_norm"] for r in rows],
        "seeds_with_7_or_more_at_end": sum(f >= 7 for f in finals),
        "seeds_with_7_or_more_throughout_last_1000": sum(r["min_last_1000"] >= 7 for r in rows),
        "median_final": float(np.median(finals)),
        "diverged_runs": sum(r["diverged"] for r in rows),
        "steps_done_per_seed": [r["steps_done"] for r in rows],
    }


def run() -> dict:
    torch.set_num_threads(1)  # the benchmark process only: the figure to beat is ONE thread
    default = GANConfig()
    ours = _speed(default)
    bare = _bare_speed(default)
    result: dict = {
        "default_config": {k: v for k, v in vars(default).items() if not k.startswith("_")},
        "steps_per_s_cpu": round(ours["cpu"], 1),
        "steps_per_s_wall": round(ours["wall"], 1),
        "bare_loop_steps_per_s_cpu": round(bare["cpu"], 1),
        "ours_vs_bare_loop_speed_ratio": round(ours["cpu"] / bare["cpu"], 3),
        "redraw_ms": round(_redraw_ms(default), 1),
        "default_steps_per_update": 50,
    }
    result["live_tick_ms_estimate"] = round(1000 * 50 / ours["wall"] + result["redraw_ms"], 1)

    n_seeds = int(os.environ.get("GAN_BENCH_SEEDS", "10"))
    presets = ("default", *FAILURE_PRESETS, *OTHER_PRESETS, *ABLATIONS)
    if os.environ.get("GAN_BENCH_PRESETS"):
        presets = tuple(os.environ["GAN_BENCH_PRESETS"].split(","))
    jobs = [(p, s) for p in presets for s in range(n_seeds)]
    workers = max(1, min(len(jobs), (os.cpu_count() or 1)))
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        rows = list(pool.map(coverage_run, *zip(*jobs, strict=True)))
    by_preset: dict[str, list[dict]] = {p: [] for p in presets}
    for (preset, _), row in zip(jobs, rows, strict=True):
        by_preset[preset].append(row)
    result["coverage"] = {p: _summary(r) for p, r in by_preset.items()}
    result["coverage_study_seconds"] = round(time.perf_counter() - start, 1)
    result["coverage_workers"] = workers

    diverge_steps = []
    for seed in range(5):
        trainer = GANTrainer(PRESETS["diverge"].config(seed=seed), device=torch.device("cpu"))
        while not trainer.done:
            trainer.train(50)
        diverge_steps.append(int(trainer.step) if trainer.error else -1)
    result["diverge_preset_stopped_at_step"] = diverge_steps
    return result

