"""Every torch trainer on the CPU and on the GPU: does it train there, how fast, and do the two agree.

    python3 -m benchmarks.bench_device        # JSON on stdout
    python3 -m benchmarks device              # the same in the report (RESULTS.md: pass --out elsewhere)

For each torch trainer of the app (the trainer contract's list, each page's
default settings):

- ``placed``: built the way a page builds it (no device named), every
  parameter and buffer of every model sits where ``core.device.pick`` sends
  it (the GPU for a model that gains from one, the CPU for a small one, see
  core/device.py), and a step there leaves them there;
- ``agree``: 20 steps on the CPU and 20 on the GPU from the same seed end with
  the same metrics within ``AGREE_REL`` (GPUs sum in another order, and
  convolutions may use TF32: the runs cannot be bit-equal);
- speed, measured the way a live view trains: ticks of the page's default
  steps per update, each ``advance(n)`` then ``snapshot()`` (the snapshot
  copies what the charts need back to the CPU), for about ``SECONDS`` each
  way, after one warm-up tick. Steps per second and milliseconds per tick,
  with the CPU on the app's one torch thread (``core.device.configure_threads``).
  Both devices are named here, so the GPU figure exists for the small models
  too: ``gpu_over_cpu`` below 1 is why they stay on the CPU.

On a machine without a GPU only the CPU figures are measured, and
``gpu`` says so.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable

import torch
from torch import nn

from core.activations import RaceConfig, RaceTrainer
from core.device import configure_threads, describe, pick
from core.gan import GANConfig, GANTrainer
from core.gridworld import DQNConfig, DQNTrainer
from core.info_fit import KLFitConfig, KLFitTrainer
from core.losslab import LossLabConfig, LossLabTrainer
from core.norms import NormRaceConfig, NormRaceTrainer
from core.regression import RegressionConfig, RegressionTrainer
from core.roc_models import MlpConfig, MlpTrainer

SECONDS = float(os.environ.get("BENCH_DEVICE_SECONDS", "2.0"))  # timed training per trainer and device
AGREE_STEPS = 20
AGREE_REL = 0.02  # metrics of the CPU and GPU runs after AGREE_STEPS steps: relative difference at most
# Trainers that draw their random numbers with the device's own generator: on a GPU the same seed gives
# another stream (CUDA's Philox, not the CPU's Mersenne Twister), so the two runs are different runs and
# their metrics are not compared (each is still checked for finite numbers).
OWN_DEVICE_RNG = {"GAN"}

# name -> (build(device or None), the page's default steps per update)
TRAINERS: dict[str, tuple[Callable[[torch.device | None], object], int]] = {
    "regression (home)": (lambda d: RegressionTrainer(RegressionConfig(), device=d), 25),
    "ROC MLP": (lambda d: MlpTrainer(MlpConfig(), device=d), 10),
    "GAN": (lambda d: GANTrainer(GANConfig(), device=d), 50),
    "loss lab (epochs)": (lambda d: LossLabTrainer(LossLabConfig(), device=d), 2),
    "KL fit": (lambda d: KLFitTrainer(KLFitConfig(), device=d), 8),
    "activation race": (lambda d: RaceTrainer(RaceConfig(), device=d), 50),
    "norm race": (lambda d: NormRaceTrainer(NormRaceConfig(), device=d), 20),
    "DQN (moves)": (lambda d: DQNTrainer(DQNConfig(), device=d), 300),
}


def devices_of(trainer) -> set[str]:
    """The device types of every parameter and buffer of the models the trainer trains (the modules
    among its ``_stateful()``, what a diverged chunk rolls back)."""
    found = set()
    for m in trainer._stateful():
        if isinstance(m, nn.Module):
            found |= {t.device.type for t in m.parameters()} | {t.device.type for t in m.buffers()}
    return found


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def speed(build: Callable[[], object], per_tick: int, device: torch.device) -> dict:
    """Ticks of ``advance(per_tick)`` + ``snapshot()`` for about ``SECONDS``: steps/s and ms per tick."""
    trainer = build()
    trainer.advance(per_tick)  # warm-up: first kernels, allocator, lazy initialisation
    trainer.snapshot()
    _sync(device)
    steps, ticks, busy = 0, [], 0.0
    while busy < SECONDS:
        if trainer.done or trainer.error:
            trainer = build()
        t0 = time.perf_counter()
        taken = trainer.advance(per_tick)
        trainer.snapshot()
        _sync(device)
        took = time.perf_counter() - t0
        busy += took
        steps += taken
        ticks.append(took)
    ticks.sort()
    return {"steps_per_s": round(steps / busy, 1), "ms_per_tick_median": round(1000 * ticks[len(ticks) // 2], 2),
            "ticks": len(ticks)}


def agreement(build: Callable[[torch.device], object], device: torch.device, comparable: bool = True) -> dict:
    """Metrics after ``AGREE_STEPS`` steps on the CPU and on ``device``: the largest relative difference
    (``comparable=False``: the devices draw different random numbers, so only finiteness is checked)."""
    a = build(torch.device("cpu"))
    b = build(device)
    sa, sb = a.train(AGREE_STEPS), b.train(AGREE_STEPS)
    if not comparable:
        finite = all(math.isfinite(float(v)) for s in (sa, sb) for v in s.metrics.values())
        return {"same_step": sa.step == sb.step, "metrics": len(sa.metrics), "compared": False,
                "agree": sa.step == sb.step and finite}
    worst, where = 0.0, None
    for key, va in sa.metrics.items():
        va, vb = float(va), float(sb.metrics[key])
        if math.isnan(va) and math.isnan(vb):
            continue
        rel = abs(va - vb) / max(abs(va), abs(vb), 1e-6)
        if not math.isfinite(rel):
            rel = math.inf
        if rel > worst:
            worst, where = rel, key
    return {"same_step": sa.step == sb.step, "metrics": len(sa.metrics), "max_rel_diff": round(worst, 6),
            "worst_metric": where, "agree": sa.step == sb.step and worst <= AGREE_REL}


def run() -> dict:
    configure_threads()
    gpu = pick()
    has_gpu = gpu.type in ("cuda", "mps")
    report: dict = {"gpu": describe(gpu).label if has_gpu else "none (CPU only)",
                    "cpu_threads": torch.get_num_threads(), "seconds_each": SECONDS, "trainers": {}}
    for name, (build, per_tick) in TRAINERS.items():
        row: dict = {"steps_per_update": per_tick}
        row["cpu"] = speed(lambda b=build: b(torch.device("cpu")), per_tick, torch.device("cpu"))
        if has_gpu:
            default = build(None)  # built the way a page builds it
            wanted = pick(small_model=default.small_model).type
            placed_at_start = devices_of(default)
            default.advance(2)
            row["placed"] = {"small_model": default.small_model, "wanted": wanted,
                             "devices": sorted(placed_at_start | devices_of(default)),
                             "as_wanted": placed_at_start == devices_of(default) == {wanted}}
            row["gpu"] = speed(lambda b=build: b(gpu), per_tick, gpu)
            row["gpu_over_cpu"] = round(row["gpu"]["steps_per_s"] / row["cpu"]["steps_per_s"], 2)
            row["agreement"] = agreement(build, gpu, comparable=name not in OWN_DEVICE_RNG)
        report["trainers"][name] = row
        print(f"[device: {name} done]", file=sys.stderr, flush=True)
    if has_gpu:
        rows = report["trainers"].values()
        report["all_placed_as_wanted"] = all(r["placed"]["as_wanted"] for r in rows)
        report["all_agree"] = all(r["agreement"]["agree"] for r in rows)
    return report


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
