"""The trainer protocol, its divergence guard, and the regression that proves it."""

import math

import numpy as np
import pytest
import torch

from core.regression import TARGETS, RegressionConfig, RegressionTrainer, make_data
from core.trainer import GuardedTrainer, Snapshot, Trainer, build_seeded


def test_regression_is_a_trainer():
    assert isinstance(RegressionTrainer(RegressionConfig()), Trainer)


def test_fit_reaches_the_noise_floor():
    """After training, the fit is close to the noiseless curve (checked in NumPy)."""
    config = RegressionConfig(noise=0.1, max_steps=2000, seed=1)
    trainer = RegressionTrainer(config)
    start = trainer.snapshot().metrics["mse"]
    snap = trainer.train(2000)
    x, y = make_data(config)
    noise_floor = float(np.mean((y - np.sin(x)) ** 2))  # the MSE of the true curve itself
    assert snap.done and snap.error is None and snap.step == 2000
    assert snap.metrics["mse"] < 1.5 * noise_floor < start / 10
    rmse_to_truth = float(np.sqrt(np.mean((snap.fit - np.sin(snap.grid)) ** 2)))
    assert rmse_to_truth < 0.1


def test_reported_mse_matches_torch_reference():
    trainer = RegressionTrainer(RegressionConfig(seed=3))
    trainer.train(50)
    with torch.no_grad():
        pred = trainer.model(torch.from_numpy(trainer.x_np).unsqueeze(1)).squeeze(1).numpy()
    assert trainer.snapshot().metrics["mse"] == pytest.approx(float(np.mean((pred - trainer.y_np) ** 2)), rel=1e-5)


def test_loss_history_is_one_value_per_step():
    trainer = RegressionTrainer(RegressionConfig())
    trainer.train(7)
    snap = trainer.train(5)
    assert list(snap.loss_steps) == list(range(1, 13))
    assert snap.losses.shape == (12,) and np.all(np.isfinite(snap.losses))


def test_same_seed_same_run_other_seed_other_run():
    a = RegressionTrainer(RegressionConfig(seed=5)).train(30)
    b = RegressionTrainer(RegressionConfig(seed=5)).train(30)
    c = RegressionTrainer(RegressionConfig(seed=6)).train(30)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.allclose(a.losses, c.losses)


def test_seeding_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_seeded(0, lambda: torch.nn.Linear(4, 4))
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_stops_at_max_steps():
    trainer = RegressionTrainer(RegressionConfig(max_steps=30))
    assert trainer.train(25).step == 25
    snap = trainer.train(25)
    assert snap.step == 30 and snap.done
    assert trainer.train(25).step == 30


def test_divergence_keeps_last_good_state():
    trainer = RegressionTrainer(RegressionConfig(optimizer="sgd", lr=3.0))
    before = [p.detach().clone() for p in trainer.model.parameters()]
    snap = trainer.train(100)
    assert snap.error is not None and "diverged" in snap.error and "learning rate" in snap.error
    assert snap.step == 0 and trainer.done
    for p, q in zip(trainer.model.parameters(), before, strict=True):
        assert torch.equal(p, q)
    assert np.all(np.isfinite(snap.fit))
    assert trainer.train(10).step == 0  # a stopped run stays stopped


class NaNAfter(GuardedTrainer):
    """Loss 1/(k+1) for k < bad_at, then NaN: a controlled divergence."""

    max_steps = 100

    def __init__(self, bad_at):
        super().__init__()
        self.bad_at = bad_at
        self.weight = torch.nn.Linear(1, 1)
        self.seen = []

    def _stateful(self):
        return (self.weight,)

    def _train_step(self):
        k = self.step + len(self._pending)
        self._pending.append(k)
        with torch.no_grad():
            self.weight.weight += 1.0
        return torch.tensor(float("nan") if k >= self.bad_at else 1.0 / (k + 1))

    def train(self, steps):
        self._pending = []
        return super().train(steps)

    def _record(self, first_step, losses):
        self.seen.append((first_step, losses[:, 0].tolist()))

    def snapshot(self):
        return Snapshot(step=self.step, done=self.done, error=self.error,
                        metrics={"w": float(self.weight.weight.detach())})


def test_guard_rolls_back_the_whole_chunk_and_names_the_step():
    t = NaNAfter(bad_at=13)
    w0 = float(t.weight.weight.detach())
    t.train(10)
    assert t.seen[0][0] == 0 and t.seen[0][1] == pytest.approx([1.0 / (k + 1) for k in range(10)])
    snap = t.train(10)  # steps 11..20; step 14 (k = 13) is NaN
    assert snap.step == 10
    assert snap.metrics["w"] == pytest.approx(w0 + 10)  # rolled back to the end of the good chunk
    assert "near step 14" in snap.error and "NaN" in snap.error


def test_guard_catches_exploding_but_finite_loss():
    class Exploding(NaNAfter):
        def _train_step(self):
            k = self.step + len(self._pending)
            self._pending.append(k)
            return torch.tensor(10.0 ** k)

    t = Exploding(bad_at=0)
    snap = t.train(10)
    assert snap.error is not None and "1e+07" in snap.error  # first value above loss_limit = 1e6


def test_negative_steps_rejected():
    with pytest.raises(ValueError):
        RegressionTrainer(RegressionConfig()).train(-1)


@pytest.mark.parametrize(
    "bad",
    [dict(target="wave"), dict(activation="gelu"), dict(optimizer="rmsprop"), dict(n_points=1),
     dict(noise=-0.1), dict(hidden=0), dict(lr=0.0), dict(lr=math.nan)],
)
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        RegressionConfig(**bad)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_target_trains(target):
    snap = RegressionTrainer(RegressionConfig(target=target, max_steps=300)).train(300)
    assert snap.error is None and snap.losses[-1] < snap.losses[0]


def test_the_home_pages_claims_about_learning_rates_hold_on_its_default_run():
    """The warm-up's caption: with SGD + momentum and tanh, 0.3 diverges; Adam survives it."""
    def diverges(**settings) -> bool:
        trainer = RegressionTrainer(RegressionConfig(**settings))
        trainer.train(trainer.max_steps)
        return trainer.error is not None

    assert not diverges(optimizer="sgd", activation="tanh", lr=0.03)  # the default trains
    assert diverges(optimizer="sgd", activation="tanh", lr=0.3)
    assert not diverges(optimizer="adam", activation="tanh", lr=0.3)


def test_a_diverged_run_keeps_the_blow_up_it_rolled_back():
    """The loss chart can show what happened: the rolled-back steps up to the first bad loss."""
    from core.plots.regression import loss_figure

    trainer = RegressionTrainer(RegressionConfig(optimizer="sgd", lr=3.0))
    trainer.train(5)
    snap = trainer.train(200)
    assert snap.error is not None
    steps, losses = trainer.blowup
    assert steps[0] == snap.step + 1 and len(steps) == len(losses)
    assert not np.isfinite(losses[-1]).all() or np.abs(losses[-1]).max() > trainer.loss_limit
    fig = loss_figure(snap)
    names = [t.name for t in fig.data]
    assert any("diverged" in n for n in names)
    assert not fig.layout.annotations, "the chart no longer says 'No steps yet' after a blow-up"
