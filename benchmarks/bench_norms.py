"""LRN vs BN page: the issue's speed targets, on ONE CPU thread.

    python3 -m benchmarks.run norms

- ``epoch_3_cnns_s_*``: one epoch of the digits (1,297 training images,
  batches of 32) for the race's three default CNNs (no norm, LRN, BN) through
  ``NormRaceTrainer``, measurements every 10 steps included; best of 3 fresh
  races. Target: <= 3 s. CPU time is the figure to trust on a shared machine.
  ``bare_loop_*``: the same three models and batches in a plain PyTorch loop
  (no guard, no measurements), timed in the same run, and the ratio.
- ``examples_ms``: everything the interactive examples compute after an edit
  (inter- and intra-channel LRN with the expanded formula, BN per channel and
  per activation with its formula, the PyTorch and TensorFlow conversions)
  plus their three before/after figures serialised to JSON; median of 15.
  Target: <= 100 ms. ``feature_maps_ms``: one digit's feature maps and both
  figures (the conv layer runs over all training images for BN's statistics).
- ``race_redraw_ms``: snapshot + the race's four figures to JSON after an epoch.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.timing import median_of

CPU = torch.device("cpu")


def _timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _epoch_of_race() -> tuple[float, float]:
    from core.norms import NormRaceConfig, NormRaceTrainer

    trainer = NormRaceTrainer(NormRaceConfig(norms=("none", "lrn", "bn")), device=CPU)
    return _timed(lambda: trainer.advance(trainer.steps_per_epoch))


def _epoch_bare() -> tuple[float, float]:
    from core.losslab import digits_split
    from core.norms import MOMENTUM, NormRaceConfig, make_cnn

    config = NormRaceConfig(norms=("none", "lrn", "bn"))
    split = digits_split()
    x = torch.from_numpy(np.array(split.x_train)).reshape(-1, 1, 8, 8)
    y = torch.from_numpy(np.array(split.y_train))
    models = [make_cnn(n, config.seed) for n in config.norms]
    opts = [torch.optim.SGD(m.parameters(), lr=config.lr, momentum=MOMENTUM) for m in models]
    perm = torch.from_numpy(np.random.default_rng([config.seed, 0]).permutation(len(y)))

    def epoch() -> None:
        for i in range(0, len(y), config.batch_size):
            idx = perm[i : i + config.batch_size]
            for m, opt in zip(models, opts, strict=True):
                loss = F.cross_entropy(m(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()

    return _timed(epoch)


def _examples() -> None:
    from core.norms import (
        batch_norm,
        bn_example,
        explain_bn,
        explain_lrn,
        inter_example,
        intra_example,
        local_response_norm,
        lrn_window,
        seed_to_tf,
        seed_to_torch,
    )
    from core.plots.norms import pair_heatmap_figure

    x, m, b = inter_example(), intra_example(), bn_example()
    inter = local_response_norm(x, 2, 1.0, 1.0, 0.0)
    terms = explain_lrn(x, (0, 1, 0, 2), 2, 1.0, 1.0, 0.0)
    intra = local_response_norm(m, 2, 1.0, 1.0, 1.0, kind="intra")
    explain_lrn(m, (0, 0, 2, 2), 2, 1.0, 1.0, 1.0, kind="intra").formula()
    seed_to_torch(2, 1.0, 1.0, 0.0), seed_to_tf(2, 1.0, 1.0, 0.0)
    per_channel, per_activation = batch_norm(b, per="channel"), batch_norm(b, per="activation")
    explain_bn(b, (0, 1, 2, 3), per="activation", gamma=1.5, beta=0.2).formula()
    explain_bn(b, (0, 1, 2, 3), per="channel", gamma=1.5, beta=0.2).formula()
    lo, hi = lrn_window(1, 2, 4)
    figures = [
        pair_heatmap_figure(x[0, :, 0], inter[0, :, 0], title=terms.formula(), x_title="position (cells)",
                            y_title="channel", selected=(1, 2), window=[(c, 2) for c in range(lo, hi + 1)]),
        pair_heatmap_figure(m[0, 0], intra[0, 0], title="intra", x_title="x (cells)", y_title="y (cells)"),
        pair_heatmap_figure(b[:, 1, 2], per_activation[:, 1, 2], title="BN", x_title="x", y_title="sample"),
    ]
    _ = per_channel
    for fig in figures:
        fig.to_json()


def _feature_maps() -> None:
    from core.norms import feature_maps
    from core.plots.norms import feature_maps_figure

    fm = feature_maps(3)
    feature_maps_figure(fm.before, fm.after_lrn, after_name="after LRN").to_json()
    feature_maps_figure(fm.before, fm.after_bn, after_name="after BN").to_json()


def _race_redraw() -> float:
    from core.norms import NormRaceConfig, NormRaceTrainer
    from core.plots.norms import layer_stats_figure, race_accuracy_figure, race_loss_figure, running_stats_figure

    trainer = NormRaceTrainer(NormRaceConfig(), device=CPU)
    trainer.advance(trainer.steps_per_epoch)

    def draw() -> None:
        snap = trainer.snapshot()
        figs = [race_loss_figure(snap), race_accuracy_figure(snap), layer_stats_figure(snap),
                running_stats_figure(snap.bn_steps, snap.bn_running_var, snap.bn_data_var, stat="var")]
        for fig in figs:
            fig.to_json()

    return median_of(draw, repeats=10)


def run() -> dict:
    torch.set_num_threads(1)  # the benchmark process only: the figure to beat is ONE thread
    _examples()  # warm-up: imports, plotly validators
    _epoch_of_race()
    ours = [_epoch_of_race() for _ in range(3)]
    bare = [_epoch_bare() for _ in range(3)]
    ours_cpu, bare_cpu = min(t[1] for t in ours), min(t[1] for t in bare)
    _feature_maps()
    return {
        "epoch_3_cnns_s_wall": round(min(t[0] for t in ours), 3),
        "epoch_3_cnns_s_cpu": round(ours_cpu, 3),
        "epoch_target_s": 3.0,
        "bare_loop_epoch_3_cnns_s_cpu": round(bare_cpu, 3),
        "ours_vs_bare_loop_time_ratio": round(ours_cpu / bare_cpu, 3),
        "examples_ms": round(1000 * median_of(_examples, repeats=15), 1),
        "examples_target_ms": 100.0,
        "feature_maps_ms": round(1000 * median_of(_feature_maps, repeats=10), 1),
        "race_redraw_ms": round(1000 * _race_redraw(), 1),
    }
