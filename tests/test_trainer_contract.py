"""Every trainer in the app through the same checks (issue 12's contract).

Each entry builds a trainer from its config's defaults (small where the
defaults are slow). Checks: it is a ``RunBase`` (config, max_steps, step
counter, changes, done, train); the same config gives the same numbers;
training in chunks adds up to the same run as one call; a snapshot is plain
data (no torch tensors); ``done`` at ``max_steps`` and no step past it; and,
for the torch trainers, a diverging chunk is rolled back to the last good
state with ``error`` saying why.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from core.activations import RaceConfig, RaceTrainer
from core.bandits import BanditRun, BanditRunConfig
from core.gan import GANConfig, GANTrainer
from core.gridworld import DQNConfig, DQNTrainer, TabularAgent, TabularConfig
from core.info_fit import KLFitConfig, KLFitTrainer
from core.losslab import LossLabConfig, LossLabTrainer
from core.norms import NormRaceConfig, NormRaceTrainer
from core.regression import RegressionConfig, RegressionTrainer
from core.roc_models import MlpConfig, MlpTrainer
from core.snapshot import RunBase
from core.trainer import GuardedTrainer

CPU = torch.device("cpu")

# name -> (build(), steps for a short run)
TRAINERS = {
    "regression (home)": (lambda: RegressionTrainer(RegressionConfig(), device=CPU), 12),
    "GAN": (lambda: GANTrainer(GANConfig(), device=CPU), 6),
    "loss lab": (lambda: LossLabTrainer(LossLabConfig(), device=CPU), 2),
    "KL fit": (lambda: KLFitTrainer(KLFitConfig(), device=CPU), 12),
    "ROC MLP": (lambda: MlpTrainer(MlpConfig(), device=CPU), 12),
    "bandit run": (lambda: BanditRun(BanditRunConfig()), 40),
    "activation race": (lambda: RaceTrainer(RaceConfig(), device=CPU), 6),
    "norm race": (lambda: NormRaceTrainer(NormRaceConfig(), device=CPU), 4),
    "tabular agent": (lambda: TabularAgent(TabularConfig()), 40),
    "DQN": (lambda: DQNTrainer(DQNConfig(), device=CPU), 12),
}
IDS = list(TRAINERS)


def _plain(value, path="snapshot"):
    """Fail on anything a figure builder should not see (torch tensors, modules, generators...)."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return
    if isinstance(value, np.ndarray):
        assert value.dtype != object, f"{path}: an object array"
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _plain(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _plain(v, f"{path}[{k!r}]")
        return
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _plain(getattr(value, f.name), f"{path}.{f.name}")
        return
    raise AssertionError(f"{path} is a {type(value).__name__}, not plain data")


def _numbers(snap) -> dict:
    """The snapshot's step and metrics, for comparing two runs."""
    return {"step": snap.step, **{k: float(v) for k, v in snap.metrics.items()}}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if math.isnan(a[k]):
            assert math.isnan(b[k]), k
        else:
            assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-7), k


@pytest.mark.parametrize("name", IDS)
def test_every_trainer_is_a_runbase_with_the_shared_state(name):
    trainer = TRAINERS[name][0]()
    assert isinstance(trainer, RunBase)
    assert trainer.step == 0 and trainer.error is None and trainer.changes == [] and not trainer.done
    assert trainer.config is not None


@pytest.mark.parametrize("name", IDS)
def test_the_same_config_gives_the_same_numbers(name):
    build, steps = TRAINERS[name]
    _same(_numbers(build().train(steps)), _numbers(build().train(steps)))


@pytest.mark.parametrize("name", IDS)
def test_chunks_add_up_to_one_call(name):
    build, steps = TRAINERS[name]
    whole = build().train(steps)
    chunked = build()
    for n in (1, steps // 2 - 1, steps - steps // 2):
        chunked.train(n)
    _same(_numbers(chunked.snapshot()), _numbers(whole))


@pytest.mark.parametrize("name", IDS)
def test_a_snapshot_is_plain_data(name):
    build, steps = TRAINERS[name]
    trainer = build()
    _plain(trainer.snapshot())
    _plain(trainer.train(steps))


@pytest.mark.parametrize("name", IDS)
def test_done_at_max_steps_and_never_past_it(name):
    build, steps = TRAINERS[name]
    trainer = build()
    trainer.max_steps = steps
    snap = trainer.train(steps * 3)
    assert trainer.step == steps == snap.step
    assert trainer.done and snap.done
    assert trainer.advance(5) == 0 and trainer.step == steps


# The two races train several networks side by side: a lane that diverges stops alone and says so while
# the others go on (tests/test_activations_core.py and tests/test_norms_core.py check that).
RACES = ("activation race", "norm race")


@pytest.mark.parametrize("name", [n for n in IDS if n not in RACES and isinstance(TRAINERS[n][0](), GuardedTrainer)])
def test_a_diverging_chunk_is_rolled_back_and_explained(name):
    build, steps = TRAINERS[name]
    trainer = build()
    trainer.train(steps)
    before_step = trainer.step
    before = [{k: v.clone() if torch.is_tensor(v) else v for k, v in obj.state_dict().items()}
              for obj in trainer._stateful() if isinstance(obj, torch.nn.Module)]
    good = trainer._train_step
    calls = []

    def blows_up():
        loss = good()
        calls.append(1)
        return torch.full_like(torch.as_tensor(loss, dtype=torch.float32), float("nan")) if len(calls) == 2 else loss

    trainer._train_step = blows_up
    trainer.advance(3)
    assert trainer.error and ("diverged" in trainer.error.lower() or "nan" in trainer.error.lower())
    assert trainer.step == before_step and trainer.done
    after = [obj.state_dict() for obj in trainer._stateful() if isinstance(obj, torch.nn.Module)]
    for old, new in zip(before, after, strict=True):
        for k, v in old.items():
            if torch.is_tensor(v):
                assert torch.equal(v, new[k]), k
    assert trainer.blowup is not None and len(trainer.blowup[0]) == 2
    assert trainer.snapshot().error == trainer.error
