"""The activation-functions engine against independent references: PyTorch's own
kernels (torch.nn.functional), hand-derived closed forms of f' and f'' in NumPy,
SciPy (Lambert W, root finding, quadrature, the normal distribution), scikit-learn's
metrics, Gaussian theory for initialisation, and NumPy re-computations of the race."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import integrate, optimize
from scipy.special import expit, lambertw
from scipy.stats import norm
from sklearn.metrics import accuracy_score, log_loss

from core.activations import (
    ACTIVATIONS,
    LATEX,
    PRESETS,
    RaceConfig,
    Racer,
    RaceTrainer,
    curves,
    derivative,
    init_statistics,
    make_data,
    points_from_csv,
    properties,
    swish,
    swish_slope_reaches_one,
    validate_points,
)
from core.plots.activations import (
    boundary_figure,
    dead_units_figure,
    gallery_figure,
    grad_norm_figure,
    history_figure,
    init_histogram_figure,
    init_stats_figure,
    swish_figure,
)

CPU = torch.device("cpu")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread, as the app runs (core.device.configure_threads): these nets are tiny, and on a
    busy 2-core machine a second thread made the races many times slower. Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

W = float(lambertw(1 / math.e).real)  # 0.27846...: Swish-1's minimum is -W at x = -(1 + W)

# -- the functions against PyTorch's kernels --------------------------------------------------------------
REFERENCES = [
    ("relu", {}, F.relu),
    ("leaky_relu", {}, F.leaky_relu),
    ("leaky_relu", {"slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    ("elu", {}, F.elu),
    ("elu", {"alpha": 2.0}, lambda x: F.elu(x, alpha=2.0)),
    ("gelu", {}, F.gelu),
    ("softplus", {}, F.softplus),  # PyTorch returns x itself above x = 20: compared below that only
    ("swish", {}, F.silu),
    ("swish", {"beta": 2.0}, lambda x: F.silu(2.0 * x) / 2.0),  # Swish_b(x) = SiLU(b x) / b
    ("mish", {}, F.mish),
]


@pytest.mark.parametrize(("name", "params", "reference"), REFERENCES, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_functions_match_torch_functional_and_its_gradients(name, params, reference, dtype):
    from core.activations import activation

    x = torch.linspace(-30, 20 if name == "softplus" else 30, 2001, dtype=dtype)  # includes 0 exactly
    ours, theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    y, y_ref = activation(name, **params)(ours), reference(theirs)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(y, y_ref, atol=tol, rtol=tol)
    y.sum().backward()
    y_ref.sum().backward()  # the one-sided choices at kinks agree with PyTorch's too
    torch.testing.assert_close(ours.grad, theirs.grad, atol=10 * tol, rtol=10 * tol)


def test_sigmoid_tanh_and_softplus_match_numpy():
    x = np.linspace(-40, 40, 801)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(ACTIVATIONS["softplus"](t).numpy(), np.logaddexp(x, 0), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"](t).numpy(), expit(x), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(ACTIVATIONS["tanh"](t).numpy(), np.tanh(x), rtol=1e-14, atol=1e-300)


def test_swish_morphs_from_half_x_to_relu():
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    torch.testing.assert_close(swish(x, 0.0), x / 2)
    assert float((swish(x, 50.0) - F.relu(x)).abs().max()) < 0.01  # |error| <= max(x sigma(-50 x)) ~ 0.0074


# -- derivatives against hand-derived closed forms --------------------------------------------------------
def _closed_forms(name: str, x: np.ndarray, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """(f', f'') derived by hand, in NumPy float64."""
    if name == "relu":
        return (x > 0).astype(float), np.zeros_like(x)
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, p.get("slope", 0.01)), np.zeros_like(x)
    if name == "elu":
        a = p.get("alpha", 1.0)
        return np.where(x > 0, 1.0, a * np.exp(x)), np.where(x > 0, 0.0, a * np.exp(x))
    if name == "gelu":
        return norm.cdf(x) + x * norm.pdf(x), norm.pdf(x) * (2 - x**2)
    if name == "sigmoid":
        s = expit(x)
        return s * (1 - s), s * (1 - s) * (1 - 2 * s)
    if name == "tanh":
        t = np.tanh(x)
        return 1 - t**2, -2 * t * (1 - t**2)
    if name == "softplus":
        s = expit(x)
        return s, s * (1 - s)
    if name == "swish":
        b = p.get("beta", 1.0)
        s = expit(b * x)
        return s + b * x * s * (1 - s), b * s * (1 - s) * (2 + b * x * (1 - 2 * s))
    if name == "mish":
        s, t = expit(x), np.tanh(np.logaddexp(x, 0))
        return t + x * s * (1 - t**2), s * (1 - t**2) * (2 + x * (1 - s) - 2 * x * s * t)
    raise AssertionError(name)


CASES = [(n, {}) for n in ACTIVATIONS] + [
    ("leaky_relu", {"slope": 0.3}), ("elu", {"alpha": 2.5}), ("swish", {"beta": 0.5}), ("swish", {"beta": 4.0}),
]


@pytest.mark.parametrize(("name", "params"), CASES, ids=lambda v: str(v))
def test_first_and_second_derivatives_match_closed_forms(name, params):
    x = np.linspace(-8, 8, 1600)  # an even count: 0 is not on it (the kinks)
    got = curves([name], x, orders=(1, 2), params={name: params})[name]
    d1, d2 = _closed_forms(name, x, params)
    np.testing.assert_allclose(got[1], d1, atol=1e-12, rtol=1e-10)
    np.testing.assert_allclose(got[2], d2, atol=1e-12, rtol=1e-9)


def test_derivative_keeps_shape_and_type():
    grid = np.linspace(-2, 2, 12).reshape(3, 4)
    d = derivative("swish", grid, beta=2.0)
    assert isinstance(d, np.ndarray) and d.shape == (3, 4)
    np.testing.assert_allclose(d, _closed_forms("swish", grid, {"beta": 2.0})[0], rtol=1e-12)
    t = torch.linspace(-2, 2, 5, dtype=torch.float32)
    d2 = derivative("tanh", t, order=2)
    assert isinstance(d2, torch.Tensor) and d2.shape == t.shape and d2.dtype == torch.float32
    np.testing.assert_allclose(d2.numpy(), _closed_forms("tanh", t.double().numpy(), {})[1], atol=1e-6)
    assert float(derivative("sigmoid", 0.0)) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        derivative("relu", grid, order=3)
    with pytest.raises(ValueError):
        derivative("relu", grid, beta=1.0)  # ReLU has no parameter


def test_latex_forms_exist_for_every_function():
    for name in ACTIVATIONS:
        f, df = LATEX[name]
        assert f.startswith("f(x)") and df.startswith("f'(x)")


# -- properties, against facts and independent computations ----------------------------------------------------
# (bounded below, bounded above, monotonic, smooth, zero-centred): textbook facts
FACTS = {
    "relu": (True, False, True, False, False),
    "leaky_relu": (False, False, True, False, False),
    "elu": (True, False, True, True, False),  # alpha = 1: f' is continuous (f'' is not)
    "gelu": (True, False, False, True, False),
    "sigmoid": (True, True, True, True, False),
    "tanh": (True, True, True, True, True),
    "softplus": (True, False, True, True, False),
    "swish": (True, False, False, True, False),  # the seed: bounded below, unbounded above, smooth, non-monotonic
    "mish": (True, False, False, True, False),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_property_flags_match_the_known_facts(name):
    p = properties(name)
    assert (p.bounded_below, p.bounded_above, p.monotonic, p.smooth, p.zero_centred) == FACTS[name]
    assert (p.low > -math.inf) == p.bounded_below and (p.high < math.inf) == p.bounded_above


def test_ranges_values_and_slopes_at_zero():
    expected_range = {"relu": (0, math.inf), "elu": (-1, math.inf), "sigmoid": (0, 1), "tanh": (-1, 1),
                      "softplus": (0, math.inf), "leaky_relu": (-math.inf, math.inf), "swish": (-W, math.inf)}
    for name, (low, high) in expected_range.items():
        p = properties(name)
        assert (p.low, p.high) == pytest.approx((low, high), abs=1e-9), name
    assert properties("softplus").value_at_0 == pytest.approx(math.log(2))
    assert properties("sigmoid").value_at_0 == 0.5
    slopes = {"sigmoid": 0.25, "tanh": 1.0, "swish": 0.5, "gelu": 0.5, "softplus": 0.5, "elu": 1.0,
              "mish": math.tanh(math.log(2))}  # Mish'(0) = tanh(softplus(0)) = 0.6
    for name, slope in slopes.items():
        assert properties(name).slope_at_0 == pytest.approx(slope, abs=1e-9), name
    relu = properties("relu")
    assert math.isnan(relu.slope_at_0) and (relu.slope_left_0, relu.slope_right_0) == (0.0, 1.0)
    assert math.isnan(properties("leaky_relu", slope=0.3).slope_at_0)
    assert not properties("elu", alpha=2.0).smooth and properties("elu", alpha=2.0).low == pytest.approx(-2.0)


def test_mean_output_for_normal_inputs_matches_gaussian_integrals():
    c = 1 / math.sqrt(2 * math.pi)
    expected = {
        "relu": c,
        "leaky_relu": 0.99 * c,
        "gelu": 1 / (2 * math.sqrt(math.pi)),  # Stein: E[z Phi(z)] = E[phi(z)]
        "elu": c + math.exp(0.5) * norm.cdf(-1) - 0.5,
        "sigmoid": 0.5,
        "tanh": 0.0,
    }
    for name, value in expected.items():
        assert properties(name).mean_output == pytest.approx(value, abs=1e-6), name
    swish_mean = integrate.quad(lambda z: z * expit(z) * norm.pdf(z), -np.inf, np.inf)[0]
    assert properties("swish").mean_output == pytest.approx(swish_mean, abs=1e-6)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 5.0])
def test_swish_minimum_is_lambert_w(beta):
    """Swish'(x) = 0 <=> -beta x sigma(-beta x) = 1 <=> -beta x = 1 + W(1/e); the value there is -W(1/e) / beta."""
    p = properties("swish", beta=beta)
    assert p.minimum == pytest.approx(-W / beta, rel=1e-10)
    assert p.argmin[0] == p.argmin[1] == pytest.approx(-(1 + W) / beta, rel=1e-8)
    if beta == 1.0:
        assert (round(p.minimum, 4), round(p.argmin[0], 4)) == (-0.2785, -1.2785)


def test_gelu_and_mish_minima_match_scipy():
    gelu_x = optimize.brentq(lambda x: norm.cdf(x) + x * norm.pdf(x), -2, -0.1, xtol=1e-14)
    p = properties("gelu")
    assert p.argmin[0] == pytest.approx(gelu_x, abs=1e-9) and p.minimum == pytest.approx(gelu_x * norm.cdf(gelu_x))
    res = optimize.minimize_scalar(lambda x: x * np.tanh(np.logaddexp(x, 0)), bracket=(-3, -1, 0), tol=1e-12)
    p = properties("mish")
    assert p.argmin[0] == pytest.approx(res.x, abs=1e-6) and p.minimum == pytest.approx(res.fun, abs=1e-12)


def test_minimum_reached_on_a_half_line_or_only_approached():
    assert properties("relu").minimum == 0.0 and properties("relu").argmin == (-math.inf, 0.0)
    for name in ("sigmoid", "tanh", "softplus", "elu"):  # infimum is a limit at -infinity, never reached
        assert math.isnan(properties(name).minimum), name
    assert math.isnan(properties("leaky_relu").minimum)  # unbounded below


def test_max_slopes():
    assert properties("sigmoid").max_slope == pytest.approx(0.25)
    # GELU: f'' = phi(x)(2 - x^2) = 0 at x = sqrt(2)
    assert properties("gelu").max_slope == pytest.approx(norm.cdf(math.sqrt(2)) + math.sqrt(2) * norm.pdf(math.sqrt(2)),
                                                         abs=1e-6)
    peak = optimize.brentq(lambda x: _closed_forms("swish", np.array([x]), {})[1][0], 1.0, 4.0)
    assert properties("swish").max_slope == pytest.approx(_closed_forms("swish", np.array([peak]), {})[0][0], abs=1e-6)


def test_swish_at_beta_zero_is_a_line():
    p = properties("swish", beta=0.0)
    assert not p.bounded_below and not p.bounded_above and p.monotonic and p.zero_centred
    assert p.max_slope == pytest.approx(0.5) and swish_slope_reaches_one(0.0) == math.inf


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 7.0])
def test_swish_slope_reaches_one_where_lambert_w_says(beta):
    """Swish'(x) = 1 <=> beta x sigma(beta x) = 1 <=> beta x = 1 + W(1/e): independent of the root finder."""
    x1 = swish_slope_reaches_one(beta)
    assert x1 == pytest.approx((1 + W) / beta, rel=1e-10)
    below = np.linspace(0, x1, 2000, endpoint=False)[1:]
    assert np.all(np.abs(_closed_forms("swish", below, {"beta": beta})[0]) < 1)
    assert _closed_forms("swish", np.array([x1]), {"beta": beta})[0][0] == pytest.approx(1.0, abs=1e-12)
    if beta == 1.0:  # the seed note's "for inputs less than about 1.25"
        assert 1.25 < x1 < 1.3


# -- the initialisation lab (thresholds measured on seed 0, depth 10, width 64, 512 samples) -----------------------
def _ratio(stats):
    return stats.grad_std[0] / stats.grad_std[-1]


def test_sigmoid_with_default_init_vanishes_and_relu_with_he_holds():
    sig = init_statistics("sigmoid", "default", depth=10, width=64, n_samples=512, seed=0)
    he = init_statistics("relu", "he", depth=10, width=64, n_samples=512, seed=0)
    assert _ratio(sig) < 1e-6  # measured 1.9e-8: every layer multiplies the gradient by well under 1
    assert np.all(np.diff(np.log10(sig.grad_std)) > 0.5)  # more than 3x smaller at every layer down
    assert 0.5 < _ratio(he) < 2.0  # measured 1.17
    assert np.all((he.act_std > 0.6) & (he.act_std < 1.2))  # the signal keeps its size through 10 layers
    assert sig.grad_hist[0][sig.grad_bins[1:] <= -7].sum() > 0.9  # layer 1: nearly all gradients < 1e-7


def test_he_relu_first_layer_matches_gaussian_theory():
    """Pre-activations ~ N(0, 2) (He: var 2/fan-in times fan-in unit inputs): ReLU's mean is 1/sqrt(pi), std sqrt(1 - 1/pi)."""
    he = init_statistics("relu", "he", depth=3, width=256, n_samples=2048, seed=0)
    assert he.act_mean[0] == pytest.approx(1 / math.sqrt(math.pi), rel=0.05)
    assert he.act_std[0] == pytest.approx(math.sqrt(1 - 1 / math.pi), rel=0.05)


def test_xavier_rescues_tanh_and_a_large_scale_explodes():
    assert _ratio(init_statistics("tanh", "default", seed=0)) < 0.02  # measured 5.2e-3
    assert _ratio(init_statistics("tanh", "xavier", seed=0)) > 0.25  # measured 0.50
    boom = init_statistics("relu", "he", weight_scale=1.5, seed=0)
    assert boom.act_std[-1] / boom.act_std[0] > 20  # 1.5^2 / 2 * 2 per layer in variance: measured 40x
    for stats in (boom, init_statistics("gelu", "he", depth=4, seed=1)):
        np.testing.assert_allclose(stats.act_hist.sum(axis=1), 1.0)
        np.testing.assert_allclose(stats.grad_hist.sum(axis=1), 1.0)


def test_init_statistics_are_seeded_and_checked():
    a, b = init_statistics("mish", "he", depth=4, seed=3), init_statistics("mish", "he", depth=4, seed=3)
    np.testing.assert_array_equal(a.grad_std, b.grad_std)
    assert not np.allclose(a.grad_std, init_statistics("mish", "he", depth=4, seed=4).grad_std)
    with pytest.raises(ValueError):
        init_statistics("relu", "lecun")
    with pytest.raises(ValueError):
        init_statistics("relu", "he", depth=11)


# -- the race -----------------------------------------------------------------------------------------------------
SMALL = RaceConfig(dataset="moons", n_points=120, batch_size=32, max_steps=60, seed=2,
                   racers=(Racer("relu"), Racer("tanh"), Racer("swish", init="he")))


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def test_race_is_reproducible_from_its_seed():
    a = RaceTrainer(SMALL, device=CPU).train(40)
    b = RaceTrainer(SMALL, device=CPU).train(40)
    c = RaceTrainer(replace(SMALL, seed=3), device=CPU).train(40)
    for ra, rb, rc in zip(a.racers, b.racers, c.racers, strict=True):
        np.testing.assert_array_equal(ra.losses, rb.losses)
        np.testing.assert_array_equal(ra.proba, rb.proba)
        assert not np.allclose(ra.losses, rc.losses)


def test_racers_of_the_same_shape_start_from_the_same_weights():
    config = replace(SMALL, racers=(Racer("relu"), Racer("mish"), Racer("relu", init="he"), Racer("relu", width=8)))
    nets = [r.model for r in RaceTrainer(config, device=CPU).runners]
    for p, q in zip(_weights(nets[0]), _weights(nets[1]), strict=True):
        assert torch.equal(p, q)
    assert not torch.equal(nets[0].hidden[0].weight, nets[2].hidden[0].weight)  # He draws differ
    assert nets[3].hidden[0].weight.shape == (8, 2)


def test_reconfigure_changes_the_learning_rate_without_a_restart():
    config = RaceConfig(dataset="moons", n_points=100, optimizer="sgd", lr=0.1, batch_size=1000, max_steps=100,
                        seed=0, racers=(Racer("relu"), Racer("tanh")))
    trainer = RaceTrainer(config, device=CPU)
    trainer.train(10)
    assert trainer.reconfigure(replace(config, lr=0.5)) is True
    assert trainer.step == 10 and trainer.changes == [(10, "lr 0.1 → 0.5")]
    # full batch, plain SGD: the next step must move every weight by exactly -0.5 * its full-data gradient
    expected = []
    for runner in trainer.runners:
        model = type(runner.model)(2, 2, 2, 16, runner.spec.activation)
        model.load_state_dict(runner.model.state_dict())
        F.cross_entropy(model(trainer.x), trainer.y).backward()
        expected.append([p.detach() - 0.5 * p.grad for p in model.parameters()])
    snap = trainer.train(1)
    assert snap.step == 11 and list(snap.change_steps) == [10]
    for runner, want in zip(trainer.runners, expected, strict=True):
        for p, q in zip(runner.model.parameters(), want, strict=True):
            torch.testing.assert_close(p.detach(), q, atol=1e-6, rtol=1e-5)
    assert trainer.reconfigure(replace(config, lr=0.5, racers=(Racer("relu"), Racer("elu")))) is False


def test_reconfigure_regenerates_the_noise_live():
    trainer = RaceTrainer(SMALL, device=CPU)
    trainer.train(20)
    assert trainer.reconfigure(replace(SMALL, noise=0.4))
    fresh = RaceTrainer(replace(SMALL, noise=0.4), device=CPU).snapshot()
    snap = trainer.snapshot()
    assert snap.step == 20 and len(snap.racers[0].losses) == 20
    np.testing.assert_array_equal(snap.points, fresh.points)
    clean, unit, _ = make_data(SMALL)
    np.testing.assert_allclose(snap.points, clean + 0.4 * unit, rtol=1e-6)


def test_a_diverging_racer_stops_alone_and_keeps_its_last_good_state():
    """Measured: at SGD rate 1.5 the ELU net (He init) on this data diverges between steps 120 and 130."""
    config = RaceConfig(dataset="moons", noise=0.1, n_points=200, optimizer="sgd", lr=1.5, batch_size=32,
                        max_steps=300, seed=0, racers=(Racer("relu", init="he"), Racer("elu", init="he")))
    trainer = RaceTrainer(config, device=CPU)
    relu, elu = trainer.runners
    last_good = _weights(elu.model)
    while not trainer.done:
        assert trainer.advance(10) == 10  # the live panel's path (train() is advance() + snapshot())
        if elu.running:
            last_good = _weights(elu.model)
    snap = trainer.snapshot()
    assert trainer.error is None and snap.step == 300  # the race went on to the end
    assert relu.error is None and snap.racers[0].step == 300 and len(snap.racers[0].losses) == 300
    e = snap.racers[1]
    assert e.step == 120 and len(e.losses) == 120 and e.eval_steps[-1] == 120
    match = re.search(r"diverged near step (\d+)", e.error)
    assert match and 120 < int(match.group(1)) <= 130 and e.error.startswith("ELU")
    for p, q in zip(elu.model.parameters(), last_good, strict=True):
        assert torch.equal(p, q)
    assert np.all(np.isfinite(e.proba))


def test_the_race_stops_when_every_racer_diverged():
    config = RaceConfig(dataset="moons", n_points=200, optimizer="adam", lr=100.0, max_steps=300, seed=0,
                        racers=(Racer("relu", init="he"), Racer("elu", init="he")))
    trainer = RaceTrainer(config, device=CPU)
    start = [_weights(r.model) for r in trainer.runners]
    snap = trainer.train(100)
    assert snap.error is not None and "diverged" in snap.error and trainer.done and snap.step == 0
    assert all(r.error for r in snap.racers)
    for runner, weights in zip(trainer.runners, start, strict=True):
        for p, q in zip(runner.model.parameters(), weights, strict=True):
            assert torch.equal(p, q)
    assert trainer.train(10).step == 0


def _plain(value, path="snap"):
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _plain(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _plain(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), path
            _plain(v, f"{path}[{k!r}]")
    elif isinstance(value, np.ndarray):
        assert value.dtype.kind in "biuf", f"{path}: {value.dtype}"
    else:
        assert value is None or type(value) in (int, float, bool, str), f"{path}: {type(value)}"


def test_snapshot_is_plain_data_with_the_documented_shapes():
    trainer = RaceTrainer(SMALL, device=CPU)
    snap = trainer.train(25)
    _plain(snap)
    assert snap.points.shape == (120, 2) and snap.labels.shape == (120,) and snap.grid_x.shape == (41,)
    for r in snap.racers:
        assert r.proba.shape == (41, 41) and r.grad_norms.shape == (len(r.eval_steps), 3)
        assert list(r.eval_steps) == [0, 10, 20] and r.dead_per_layer.shape == (2,)


def test_measurements_match_sklearn_and_the_grid_orientation():
    trainer = RaceTrainer(SMALL, device=CPU)
    snap = trainer.train(30)
    for runner, r in zip(trainer.runners, snap.racers, strict=True):
        with torch.no_grad():
            p = torch.softmax(runner.model(trainer.x), dim=1).numpy()
        y = trainer.y.numpy()
        assert r.eval_loss[-1] == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=1e-4)
        assert r.accuracy[-1] == pytest.approx(accuracy_score(y, p.argmax(axis=1)))
        i, j = 5, 30  # proba[i, j] is at (grid_x[j], grid_y[i])
        point = torch.tensor([[snap.grid_x[j], snap.grid_y[i]]])
        with torch.no_grad():
            assert r.proba[i, j] == pytest.approx(float(torch.softmax(runner.model(point), 1)[0, 1]), abs=1e-6)


def test_stops_at_max_steps_and_trains_digits():
    config = RaceConfig(dataset="digits", n_points=300, batch_size=64, max_steps=150, seed=0,
                        racers=(Racer("relu", width=32), Racer("gelu", width=32)))
    trainer = RaceTrainer(config, device=CPU)
    snap = trainer.train(1000)
    assert snap.step == 150 and snap.done and snap.n_classes == 10
    assert snap.points is None and all(r.proba is None for r in snap.racers)
    assert all(r.accuracy[-1] > 0.8 and r.accuracy[0] < 0.3 for r in snap.racers)


def test_custom_points_train_in_their_own_coordinates():
    rng = np.random.default_rng(0)
    pts = np.r_[np.c_[rng.normal(100, 5, (30, 2)), np.zeros(30)], np.c_[rng.normal(130, 5, (30, 2)), np.ones(30)]]
    config = RaceConfig(dataset="custom", points=tuple(map(tuple, pts)), noise=0.0, max_steps=200,
                        racers=(Racer("relu"), Racer("swish")))
    snap = RaceTrainer(config, device=CPU).train(200)
    np.testing.assert_allclose(snap.points, pts[:, :2], rtol=1e-6)
    assert snap.grid_x[0] < pts[:, 0].min() and snap.grid_x[-1] > pts[:, 0].max()
    assert all(r.accuracy[-1] == 1.0 for r in snap.racers)


@pytest.mark.parametrize("bad", [dict(dataset="iris"), dict(noise=-0.1), dict(n_points=5), dict(lr=0.0),
                                 dict(lr=math.nan), dict(racers=(Racer(),)), dict(racers=(Racer(),) * 5),
                                 dict(optimizer="rmsprop"), dict(dataset="custom", points=())])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        RaceConfig(**bad)


def test_racer_rejects_bad_values():
    for bad in (dict(activation="selu"), dict(depth=0), dict(depth=11), dict(width=0), dict(init="lecun"),
                dict(activation="relu", param=0.5), dict(activation="swish", param=-1.0)):
        with pytest.raises(ValueError):
            Racer(**bad)


# -- own data ---------------------------------------------------------------------------------------------------------
def _one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and len(re.findall(r"[.!?](\s|$)", message)) == 1


def test_csv_with_words_or_numbers_as_labels():
    points = points_from_csv("x,y,label\n0,0,red\n1,1,blue\n0,1,red\n1,0,blue\n")
    assert points == ((0.0, 0.0, 1), (1.0, 1.0, 0), (0.0, 1.0, 1), (1.0, 0.0, 0))  # blue < red
    points = points_from_csv(b"\xef\xbb\xbfLabel,X,Y,note\n-1,0.5,2,a\n1,1e-3,-2,b\n-1,3,4,c\n1.0,5,6,d\n")
    assert points == ((0.5, 2.0, 0), (0.001, -2.0, 1), (3.0, 4.0, 0), (5.0, 6.0, 1))
    RaceConfig(dataset="custom", points=points)  # accepted by the race


CSV_ERRORS = [
    ("", "empty"),
    ("x,y\n1,2\n3,4\n", "lacks label"),
    ("a,b,c\n1,2,0\n", "lacks x, y, label"),
    ("x,y,label\n1,2,0\nabc,3,1\n", "Line 3 has x = 'abc'"),
    ("x,y,label\n1,2,0\n3,NaN,1\n", "Line 3 has a missing, NaN or infinite y"),
    ("x,y,label\n1,2,0\n3,,1\n", "missing"),
    ("x,y,label\n1,2,0\n3,4\n", "Line 3 has 2 values"),
    ("x,y,label\n1,2,0\n3,4,0\n5,6,0\n", "two classes"),
    ("x,y,label\n1,2,0\n3,4,1\n5,6,2\n", "exactly two values"),
    ("x,y,label\n1,2,0\n3,4,1\n5,6,1\n", "at least 2 points"),
    ("x,y,label\n" + "1,2,0\n3,4,1\n" * 1001, "limit is 2,000"),
]


@pytest.mark.parametrize(("text", "expected"), CSV_ERRORS, ids=[e for _, e in CSV_ERRORS])
def test_malformed_csv_gets_one_clear_sentence(text, expected):
    with pytest.raises(ValueError) as info:
        points_from_csv(text)
    message = str(info.value)
    assert expected in message and _one_sentence(message), message


def test_clicked_points_are_validated():
    assert validate_points([(0, 0, 3), (1, 1, 7), (0, 1, 3), (2, 2, 7)])[:, 2].tolist() == [0, 1, 0, 1]
    for points, expected in (([], "no points"), ([(0, 0, 1), (1, 1, 1)], "second class"),
                             ([(0, 0, 1), (np.nan, 1, 0)], "Point 2"), ([(0, 0)], "three values"),
                             ([(0, 0, 0)] * 1500 + [(1, 1, 1)] * 501, "limit is 2,000")):
        with pytest.raises(ValueError) as info:
            validate_points(points)
        assert expected in str(info.value) and _one_sentence(str(info.value)), str(info.value)


# -- presets: each lesson holds on the page's seed ----------------------------------------------------------------------
def _run_preset(name):
    config, lesson = PRESETS[name]
    trainer = RaceTrainer(config, device=CPU)
    return trainer, trainer.train(config.max_steps), lesson


def test_preset_sigmoid_in_a_deep_net_vanishes():
    _, snap, lesson = _run_preset("sigmoid in a deep net vanishes")
    sig, relu, tanh = snap.racers
    assert snap.step == 500 and "100,000" in lesson and "500 steps" in lesson
    assert sig.grad_norms[0, 0] / sig.grad_norms[0, -1] < 1e-5  # first vs output layer at the start: measured 1.9e-7
    for other in (relu, tanh):
        assert other.grad_norms[0, 0] / other.grad_norms[0, -1] > 0.1
        assert other.accuracy[-1] == 1.0
    assert abs(sig.accuracy[-1] - 0.5) < 0.02 and sig.eval_loss[-1] > 0.68  # chance, ln 2 = 0.693


def test_preset_relu_with_a_large_learning_rate_dies():
    trainer, snap, lesson = _run_preset("ReLU with a large learning rate dies")
    relu, leaky, sw = snap.racers
    assert "rate 3" in lesson and "first ten steps" in lesson and trainer.config.lr == 3.0
    assert relu.dead_per_layer[1] == 1.0 and abs(relu.accuracy[-1] - 0.5) < 0.02
    # dead by the check at step 10 and never back: the share of dead units stays what it was then
    assert relu.eval_steps[1] == 10 and np.all(relu.dead_fraction[1:] == relu.dead_fraction[-1])
    for other in (leaky, sw):
        assert other.error is None and other.accuracy[-1] >= 0.99 and other.dead_fraction[-1] == 0.0
    # independent check in NumPy: every second-layer unit's pre-activation is <= 0 for every point
    net = trainer.runners[0].model
    w1, b1, w2, b2 = (p.detach().double().numpy() for p in (*net.hidden[0].parameters(), *net.hidden[1].parameters()))
    h1 = np.maximum(trainer.x.double().numpy() @ w1.T + b1, 0)
    assert np.all(h1 @ w2.T + b2 <= 0)


def test_preset_swish_and_mish_beat_relu_on_spirals():
    _, snap, lesson = _run_preset("Swish and Mish vs ReLU on spirals")
    relu, sw, mi = snap.racers
    assert "85 %" in lesson and "a quarter or more" in lesson and "1,000 steps" in lesson
    assert relu.accuracy.max() < 0.85 and relu.dead_fraction.min() >= 0.25  # measured 0.805 and 0.25 (12 of 48)
    assert sw.accuracy[-1] == 1.0 and mi.accuracy[-1] == 1.0


# -- figures ------------------------------------------------------------------------------------------------------------------
def test_figures_have_titles_axes_and_the_right_traces():
    x = np.linspace(-4, 4, 81)
    gallery = gallery_figure(x, curves(["swish", "relu"], x), {"swish": "Swish", "relu": "ReLU"})
    assert [t.name for t in gallery.data] == ["Swish f", "Swish f′", "Swish f″", "ReLU f", "ReLU f′", "ReLU f″"]
    assert gallery.data[0].line.color == gallery.data[2].line.color and gallery.data[1].line.dash == "dash"
    assert "unitless" in gallery.layout.xaxis.title.text

    reach = swish_slope_reaches_one(2.0)
    d = curves(["swish"], x, (0, 1), {"swish": {"beta": 2.0}})["swish"]
    sw = swish_figure(x, d[0], d[1], 2.0, reach, minimum=(-(1 + W) / 2, -W / 2))
    marker = next(t for t in sw.data if t.name.startswith("|f′| = 1"))
    assert marker.x[0] == reach and f"{reach:.4f}" in sw.layout.title.text
    assert "never" in swish_figure(x, x / 2, x * 0 + 0.5, 0.0, math.inf).layout.title.text

    stats = init_statistics("tanh", "xavier", depth=4, seed=0)
    assert init_stats_figure(stats.layers, stats.grad_mean, stats.grad_std, "gradients").layout.yaxis.type == "log"
    assert [t.name for t in init_stats_figure(stats.layers, stats.act_mean, stats.act_std).data] == ["mean", "std"]
    heat = init_histogram_figure(stats.grad_bins, stats.grad_hist, "gradients")
    assert np.asarray(heat.data[0].z).shape == (4, len(stats.grad_bins) - 1)

    snap = RaceTrainer(SMALL, device=CPU).train(20)
    r = snap.racers[0]
    board = boundary_figure(snap.grid_x, snap.grid_y, r.proba, snap.points, snap.labels, r.label)
    assert [t.type for t in board.data] == ["heatmap", "scatter", "scatter"] and board.layout.title.text == r.label
    assert board.layout.yaxis.scaleanchor == "x"
    labels = [q.label for q in snap.racers]
    loss = history_figure(labels, [q.loss_steps for q in snap.racers], [q.losses for q in snap.racers],
                          change_steps=[10])
    assert [t.name for t in loss.data] == labels and loss.layout.yaxis.type == "log" and len(loss.layout.shapes) == 1
    acc = history_figure(labels, [q.eval_steps for q in snap.racers], [q.accuracy for q in snap.racers], "accuracy")
    assert max(acc.data[0].y) <= 100 and acc.layout.yaxis.title.text == "accuracy (%)"
    bars = grad_norm_figure(labels, [q.grad_norms[-1] for q in snap.racers])
    assert list(bars.data[0].x) == ["layer 1", "layer 2", "output"] and bars.layout.yaxis.type == "log"
    dead = dead_units_figure(labels, [q.eval_steps for q in snap.racers], [q.dead_fraction for q in snap.racers])
    assert len(dead.data) == 3 and "%" in dead.layout.yaxis.title.text
