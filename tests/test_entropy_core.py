"""Entropy page engine against independent references: SciPy, scikit-learn,
PyTorch's own losses, numerical integration, closed forms and the seeds'
worked examples (ball bins: H(P) = 1.53 bits; classifier: 0.736 and 0.15 bits).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from scipy import integrate, special
from scipy.spatial.distance import jensenshannon
from sklearn.calibration import calibration_curve

from core import info
from core.info import (
    binary_entropy,
    compare,
    cross_entropy,
    entropy,
    information_content,
    js_divergence,
    kl_divergence,
    parse_pair,
    parse_weights,
    sharpen,
    softmax,
)
from core.info_fit import (
    FitMath,
    Gaussian,
    KLFitConfig,
    KLFitTrainer,
    gaussian_log_density,
    mixture_entropy,
    mixture_log_density,
    moment_match,
)
from core.losslab import (
    N_VAL,
    EnsembleMLP,
    LossLabConfig,
    TEACHER_FILE,
    LossLabTrainer,
    Teacher,
    TeacherConfig,
    confidence_penalty_loss,
    digits_split,
    distillation_loss,
    expected_calibration_error,
    expected_calibration_error_tensor,
    label_smoothing_loss,
    mlp,
    output_entropy,
    reliability,
    subset_indices,
)
from core.plots.common import trace_names
from core.plots.info import (
    binary_entropy_figure,
    contributions_figure,
    decomposition_figure,
    distributions_figure,
    kl_fit_figure,
    kl_fit_loss_figure,
    surprise_figure,
)
from core.plots.info_losslab import (
    accuracy_figure,
    class_probabilities_figure,
    confidence_figure,
    digit_figure,
    loss_curves_figure,
    reliability_figure,
    runs_figure,
)
from core.trainer import build_seeded

CPU = torch.device("cpu")
RNG = np.random.default_rng(20240601)


def _random_pairs(n_pairs=25, zeros=False):
    for _ in range(n_pairs):
        k = int(RNG.integers(2, 11))
        p, q = RNG.dirichlet(np.ones(k)), RNG.dirichlet(np.ones(k))
        if zeros:
            p[RNG.integers(k)] = 0.0
        yield p, q


# -- the seeds' worked examples --------------------------------------------------------
def test_seed_ball_bins():
    # P = 2 red, 3 green, 4 blue: "Entropy = 1.53 bits" (seed 004).
    assert round(entropy([2, 3, 4]), 2) == 1.53
    # H(P, Q) with Q = 4, 4, 1, written out as in the seed.
    by_hand = -((2 / 9) * math.log2(4 / 9) + (3 / 9) * math.log2(4 / 9) + (4 / 9) * math.log2(1 / 9))
    assert cross_entropy([2, 3, 4], [4, 4, 1]) == pytest.approx(by_hand, rel=1e-12)


def test_seed_classifier_losses():
    # True class B, prediction (0.15, 0.60, 0.25): "0.736" (truncated from 0.7370).
    first = cross_entropy([0, 1, 0], [0.15, 0.60, 0.25])
    assert abs(first - 0.736) < 1.5e-3
    # The confident prediction (0.05, 0.90, 0.05): "0.15", lower than the first.
    second = cross_entropy([0, 1, 0], [0.05, 0.90, 0.05])
    assert abs(second - 0.15) < 5e-3 and second < first
    # With a one-hot P the cross-entropy is exactly the negative log-likelihood of the label.
    assert first == pytest.approx(-math.log2(0.60), rel=1e-12)


# -- entropy, cross-entropy, KL, JS against SciPy -----------------------------------------
@pytest.mark.parametrize("base", [2, math.e, 10])
def test_entropy_and_kl_match_scipy(base):
    for p, q in _random_pairs(zeros=False):
        assert entropy(p, base) == pytest.approx(scipy.stats.entropy(p, base=base), rel=1e-10)
        assert kl_divergence(p, q, base) == pytest.approx(scipy.stats.entropy(p, q, base=base), rel=1e-10)
        assert cross_entropy(p, q, base) == pytest.approx(
            scipy.stats.entropy(p, base=base) + scipy.stats.entropy(p, q, base=base), rel=1e-10)
        assert js_divergence(p, q, base) == pytest.approx(jensenshannon(p, q, base=base) ** 2, rel=1e-8, abs=1e-12)


def test_zero_probabilities_follow_the_conventions():
    for p, q in _random_pairs(zeros=True):
        # 0 log 0 = 0: an outcome P never produces adds nothing.
        assert entropy(p) == pytest.approx(scipy.stats.entropy(p, base=2), rel=1e-10)
        assert kl_divergence(p, q) == pytest.approx(scipy.stats.entropy(p, q, base=2), rel=1e-10)
    assert entropy([1, 0]) == 0.0 and math.copysign(1, entropy([0, 1, 0])) == 1.0  # no "-0.0"
    assert kl_divergence([1, 0], [0.5, 0.5]) == pytest.approx(1.0)


def test_kl_is_infinite_where_q_misses_an_outcome_of_p():
    p, q = [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]
    assert kl_divergence(p, q) == math.inf == scipy.stats.entropy(p, q)
    assert cross_entropy(p, q) == math.inf
    # The other direction is finite: q's outcomes are all possible under p.
    assert kl_divergence(q, p) == pytest.approx(scipy.stats.entropy(q, p, base=2))
    assert math.isfinite(js_divergence(p, q)) and js_divergence(p, q) <= 1.0 + 1e-12


def test_counts_are_normalised_like_scipy():
    assert entropy([2, 3, 4]) == pytest.approx(entropy([2 / 9, 3 / 9, 4 / 9]))
    assert kl_divergence([20, 30, 40], [4, 4, 1]) == pytest.approx(scipy.stats.entropy([2, 3, 4], [4, 4, 1], base=2))


def test_properties_kl_nonnegative_zero_at_equality_js_symmetric_and_bounded():
    for p, q in _random_pairs():
        assert kl_divergence(p, q) > 0 and kl_divergence(p, p) == 0.0
        assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), rel=1e-12)
        assert 0 < js_divergence(p, q) <= 1.0
        assert entropy(p) <= math.log2(len(p)) + 1e-12


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: entropy([0.5, -0.1, 0.6]), "negative"),
        (lambda: kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), "same number of outcomes"),
        (lambda: cross_entropy([[0.5, 0.5]], [0.5, 0.5]), "same number of outcomes"),
        (lambda: entropy([[0.5, 0.5]]), "one-dimensional"),
        (lambda: entropy([]), "empty"),
        (lambda: entropy([0, 0]), "all zeros"),
        (lambda: entropy([0.5, float("nan")]), "finite"),
        (lambda: entropy(["a", "b"]), "list of numbers"),
        (lambda: js_divergence([1, 2], [1, -2]), "negative"),
        (lambda: entropy([0.5, 0.5], base=1), "base"),
        (lambda: softmax([1.0, 2.0], temperature=0), "temperature"),
        (lambda: softmax([float("nan"), 1.0]), "finite"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_functions_return_python_floats():
    for fn in (entropy,):
        assert type(fn([1, 2])) is float
    for fn in (cross_entropy, kl_divergence, js_divergence):
        assert type(fn([1, 2], [2, 1])) is float


def test_softmax_matches_scipy_at_every_temperature():
    z = RNG.normal(size=(6, 10)) * 3
    for t in (0.3, 1.0, 4.0, 20.0):
        np.testing.assert_allclose(softmax(z, t), special.softmax(z / t, axis=-1), rtol=1e-12)
    # Higher T, higher entropy (flatter).
    ents = [scipy.stats.entropy(softmax(z[0], t)) for t in (0.5, 1, 2, 4, 8)]
    assert all(a < b for a, b in itertools.pairwise(ents))
    # Huge logits stay finite; -inf gives exactly 0.
    np.testing.assert_allclose(softmax([1000.0, 0.0]), [1.0, 0.0], atol=1e-300)
    assert softmax([0.0, -np.inf, 0.0]).tolist() == [0.5, 0.0, 0.5]


def test_binary_entropy_and_information_content():
    ps = np.linspace(0, 1, 41)
    expected = [scipy.stats.entropy([p, 1 - p], base=2) for p in ps]
    np.testing.assert_allclose(binary_entropy(ps), expected, atol=1e-12)
    assert binary_entropy(np.array([0.5]), math.e)[0] == pytest.approx(math.log(2))
    np.testing.assert_allclose(information_content([1, 1, 2]), [2.0, 2.0, 1.0])
    assert information_content([1, 0])[1] == math.inf


def test_sharpen_is_a_tempered_softmax_of_log_q():
    q = np.array([0.15, 0.6, 0.25, 0.0])
    np.testing.assert_allclose(sharpen(q, 1.0), q, atol=1e-15)
    for t in (0.5, 2.0):
        expected = q ** (1 / t) / (q ** (1 / t)).sum()
        np.testing.assert_allclose(sharpen(q, t), expected, rtol=1e-12)
    assert sharpen(q, 3.0)[3] == 0.0


def test_compare_terms_add_up_to_their_totals():
    for unit, base in (("bits", 2), ("nats", math.e)):
        cmp = compare([2, 3, 4], [4, 4, 1], unit)
        assert cmp.h_p == pytest.approx(scipy.stats.entropy([2, 3, 4], base=base))
        assert cmp.ce_terms.sum() == pytest.approx(cmp.h_pq)
        assert cmp.h_terms.sum() == pytest.approx(cmp.h_p)
        assert cmp.kl_pq_terms.sum() == pytest.approx(cmp.kl_pq)
        assert cmp.h_pq == pytest.approx(cmp.h_p + cmp.kl_pq)
        assert cmp.h_qp == pytest.approx(cmp.h_q + cmp.kl_qp)
    cmp = compare([1, 1, 1], [1, 1, 0])
    assert cmp.missing_in_q.tolist() == [2] and cmp.missing_in_p.tolist() == []
    with pytest.raises(ValueError, match="unit"):
        compare([1, 1], [1, 1], "hartleys")


def test_parsing_what_a_learner_types():
    np.testing.assert_array_equal(parse_weights("2, 3, 4"), [2, 3, 4])
    np.testing.assert_array_equal(parse_weights("0.2; 0.3 0.5"), [0.2, 0.3, 0.5])
    for text, message in (("2, -1, 3", "negative"), ("2, x", "not a number"), ("", "empty"),
                          ("0, 0", "all zeros"), ("1, inf", "finite")):
        with pytest.raises(ValueError, match=message):
            parse_weights(text)
    with pytest.raises(ValueError, match="P has 3 outcomes but Q has 2"):
        parse_pair("1, 2, 3", "1, 2")
    with pytest.raises(ValueError, match="between 2 and 10"):
        parse_pair(", ".join(["1"] * 11), ", ".join(["1"] * 11))
    with pytest.raises(ValueError, match="between 2 and 10"):
        parse_pair("1", "1")


def test_module_doctests_hold():
    import doctest

    assert doctest.testmod(info).failed == 0


# -- the loss lab's losses against PyTorch and hand computations -----------------------------
def _batch(n=64, k=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=gen, dtype=torch.float64) * 3
    target = torch.randint(0, k, (n,), generator=gen)
    return logits, target


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.1, 0.3, 0.5, 1.0])
def test_label_smoothing_equals_pytorch(eps):
    logits, target = _batch()
    ours = label_smoothing_loss(logits, target, eps)
    ref = F.cross_entropy(logits, target, label_smoothing=eps)
    assert float(ours) == pytest.approx(float(ref), rel=1e-12)


def test_label_smoothing_is_ce_plus_kl_from_uniform():
    # (1 - eps) CE + eps (KL(u || q) + log K), with KL from SciPy.
    logits, target = _batch(n=16)
    eps, k = 0.2, 10
    q = special.softmax(logits.numpy(), axis=1)
    ce = -np.log(q[np.arange(16), target.numpy()])
    kl_u = np.array([scipy.stats.entropy(np.full(k, 1 / k), row) for row in q])
    expected = np.mean((1 - eps) * ce + eps * (kl_u + math.log(k)))
    assert float(label_smoothing_loss(logits, target, eps)) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
def test_confidence_penalty_against_a_direct_entropy(beta):
    logits, target = _batch()
    z = logits.numpy()
    ce = np.mean(special.logsumexp(z, axis=1) - z[np.arange(len(z)), target.numpy()])
    h = np.mean([scipy.stats.entropy(row) for row in special.softmax(z, axis=1)])
    assert float(confidence_penalty_loss(logits, target, beta)) == pytest.approx(ce - beta * h, rel=1e-10)
    np.testing.assert_allclose(output_entropy(logits).numpy(),
                               [scipy.stats.entropy(r) for r in special.softmax(z, axis=1)], rtol=1e-10)


@pytest.mark.parametrize(("temperature", "alpha"), [(1.0, 0.5), (4.0, 0.7), (10.0, 1.0), (2.0, 0.0)])
def test_distillation_against_kl_div_and_by_hand(temperature, alpha):
    s, target = _batch(seed=1)
    t, _ = _batch(seed=2)
    ours = float(distillation_loss(s, t, target, temperature, alpha))
    soft = F.kl_div(F.log_softmax(s / temperature, dim=1), F.softmax(t / temperature, dim=1), reduction="batchmean")
    ref = alpha * temperature**2 * soft + (1 - alpha) * F.cross_entropy(s, target)
    assert ours == pytest.approx(float(ref), rel=1e-10)
    ps, pt = special.softmax(s.numpy() / temperature, axis=1), special.softmax(t.numpy() / temperature, axis=1)
    by_hand = np.mean([scipy.stats.entropy(a, b) for a, b in zip(pt, ps, strict=True)])
    ce = np.mean(-np.log(special.softmax(s.numpy(), axis=1)[np.arange(len(target)), target.numpy()]))
    assert ours == pytest.approx(alpha * temperature**2 * by_hand + (1 - alpha) * ce, rel=1e-9)


def test_soft_gradients_shrink_like_one_over_t_squared():
    # Why the T^2 factor: without it, doubling a large T quarters the soft gradient.
    s, target = _batch(seed=3)
    t, _ = _batch(seed=4)
    s, t = s - s.mean(1, keepdim=True), t - t.mean(1, keepdim=True)

    def grad_norm(temperature):
        x = s.clone().requires_grad_(True)
        (distillation_loss(x, t, target, temperature, 1.0) / temperature**2).backward()
        return float(x.grad.norm())

    assert grad_norm(20.0) / grad_norm(40.0) == pytest.approx(4.0, rel=0.05)


def test_loss_arguments_are_checked():
    logits, target = _batch(n=4)
    with pytest.raises(ValueError, match="eps"):
        label_smoothing_loss(logits, target, 1.5)
    with pytest.raises(ValueError, match="beta"):
        confidence_penalty_loss(logits, target, -0.1)
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(logits, logits, target, 0.0, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        distillation_loss(logits, logits, target, 2.0, 1.5)


# -- calibration -------------------------------------------------------------------------
def test_reliability_and_ece_against_scikit_learn():
    n, k = 2000, 10
    probs = special.softmax(RNG.normal(size=(n, k)) * RNG.uniform(0.5, 4, size=(n, 1)), axis=1)
    labels = np.where(RNG.random(n) < 0.7, probs.argmax(1), RNG.integers(0, k, n))
    rel = reliability(probs, labels, n_bins=10)
    conf, correct = probs.max(1), (probs.argmax(1) == labels).astype(int)
    frac_pos, mean_pred = calibration_curve(correct, conf, n_bins=10, strategy="uniform")
    has = rel.counts > 0
    np.testing.assert_allclose(rel.accuracy[has], frac_pos, rtol=1e-12)
    np.testing.assert_allclose(rel.confidence[has], mean_pred, rtol=1e-12)
    counts, _ = np.histogram(conf, bins=np.linspace(0, 1, 11))
    np.testing.assert_array_equal(rel.counts, counts)
    expected_ece = np.sum(counts[has] / n * np.abs(frac_pos - mean_pred))
    assert rel.ece == pytest.approx(expected_ece, rel=1e-12)
    assert expected_calibration_error(probs, labels) == rel.ece


def test_ece_small_example_by_hand():
    # Two predictions at 0.9 (one right), two at 0.6 (both right):
    # ECE = 2/4 * |0.5 - 0.9| + 2/4 * |1.0 - 0.6| = 0.4.
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    labels = np.array([0, 1, 1, 1])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.4)
    # A perfectly calibrated, perfectly confident classifier: 0.
    assert expected_calibration_error(np.eye(3), np.arange(3)) == 0.0


def test_the_ece_measured_on_the_device_is_the_numpy_ece():
    """The trainer measures ECE each epoch without copying to the host; it must be the checked one above."""
    cases = [(np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]]), np.array([0, 1, 1, 1])),  # 0.4 by hand
             (np.eye(3), np.arange(3)),
             (np.full((4, 2), 0.5), np.array([0, 1, 0, 0]))]  # every confidence on the edge 0.5
    for n, k in ((2000, 10), (500, 10), (7, 3)):
        probs = special.softmax(RNG.normal(size=(n, k)) * RNG.uniform(0.5, 6, size=(n, 1)), axis=1)
        cases.append((probs, np.where(RNG.random(n) < 0.7, probs.argmax(1), RNG.integers(0, k, n))))
    for probs, labels in cases:
        for dtype in (torch.float64, torch.float32):  # the trainer's probabilities are float32
            t = torch.as_tensor(probs, dtype=dtype)
            expected = expected_calibration_error(t.numpy().astype(float), labels)
            got = expected_calibration_error_tensor(t, torch.as_tensor(labels))
            assert got.dim() == 0 and float(got) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert float(expected_calibration_error_tensor(torch.as_tensor(cases[0][0]), torch.as_tensor(cases[0][1]))) \
        == pytest.approx(0.4)


# -- data, teacher, student ------------------------------------------------------------------
def test_digits_split_is_stratified_and_complete():
    split = digits_split()
    assert split.x_train.shape == (1797 - N_VAL, 64) and split.x_val.shape == (N_VAL, 64)
    assert 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0
    train_share = np.bincount(split.y_train, minlength=10) / len(split.y_train)
    val_share = np.bincount(split.y_val, minlength=10) / len(split.y_val)
    np.testing.assert_allclose(train_share, val_share, atol=0.01)
    assert not split.x_train.flags.writeable
    idx = subset_indices(split, 200, seed=3)
    assert len(idx) == 200 == len(np.unique(idx))
    assert np.bincount(split.y_train[idx], minlength=10).min() >= 18
    np.testing.assert_array_equal(idx, subset_indices(split, 200, seed=3))
    with pytest.raises(ValueError, match="between 10"):
        subset_indices(split, 5, seed=0)


def test_ensemble_members_equal_separately_built_mlps():
    ens = EnsembleMLP(members=3, hidden=16, layers=2, seed=7)
    x = torch.rand(5, 64)
    out = ens(x)
    assert out.shape == (3, 5, 10)
    for m in range(3):
        net = build_seeded(7 * 100 + m, lambda: mlp(16, 2))
        torch.testing.assert_close(out[m], net(x), rtol=1e-5, atol=1e-6)


def test_shipped_teacher_is_what_training_produces(tmp_path):
    """assets/digits_teacher.npz (loaded by the page instead of training under load) equals a fresh training."""
    split, config = digits_split(), TeacherConfig()
    shipped = Teacher.load(TEACHER_FILE, config, split)
    assert shipped is not None, "assets/digits_teacher.npz is missing or stale: run python3 -m scripts.make_teacher"
    fresh = Teacher(config, split, device=CPU)
    np.testing.assert_allclose(special.softmax(shipped.val_logits, axis=1), special.softmax(fresh.val_logits, axis=1),
                               atol=2e-3)
    np.testing.assert_allclose(special.softmax(shipped.train_logits, axis=1),
                               special.softmax(fresh.train_logits, axis=1), atol=2e-3)
    assert shipped.val_accuracy == pytest.approx(fresh.val_accuracy, abs=1 / 360)
    np.testing.assert_allclose(shipped.member_val_accuracy, fresh.member_val_accuracy, atol=2 / 360)
    assert shipped.n_parameters == sum(p.numel() for p in fresh.net.parameters())
    # a file made for another config is not used, and save/load round-trips
    assert Teacher.load(TEACHER_FILE, TeacherConfig(epochs=3), split) is None
    fresh.save(tmp_path / "t.npz")
    again = Teacher.load(tmp_path / "t.npz", config, split)
    np.testing.assert_allclose(again.val_logits, fresh.val_logits, rtol=1e-6, atol=1e-6)
    assert Teacher.load(tmp_path / "missing.npz", config, split) is None


@pytest.fixture(scope="module")
def small_teacher():
    return Teacher(TeacherConfig(members=2, hidden=64, epochs=8), digits_split(), device=CPU)


def test_teacher_learns_and_averages_its_members(small_teacher):
    t, split = small_teacher, digits_split()
    assert t.val_accuracy > 0.9 and all(a > 0.85 for a in t.member_val_accuracy)
    x = torch.from_numpy(np.array(split.x_val[:7]))
    with torch.no_grad():
        members = t.net(x).numpy()
    np.testing.assert_allclose(t.val_logits[:7], members.mean(0), rtol=1e-5, atol=1e-5)
    assert not t.val_logits.flags.writeable
    assert not any(p.requires_grad for p in t.net.parameters())
    p1, p4 = t.probabilities(3, 1.0), t.probabilities(3, 4.0)
    np.testing.assert_allclose(p4, special.softmax(t.val_logits[3].astype(float) / 4.0), rtol=1e-10)
    assert scipy.stats.entropy(p4) > scipy.stats.entropy(p1)


def test_student_snapshot_numbers_are_what_they_claim(small_teacher):
    trainer = LossLabTrainer(LossLabConfig(method="distill", epochs=3, n_train=200), teacher=small_teacher, device=CPU)
    snap0 = trainer.snapshot()
    assert snap0.step == 0 and len(snap0.epochs) == 1
    snap = trainer.train(3)
    assert snap.done and snap.step == 3 and snap.epochs.tolist() == [0, 1, 2, 3]
    split = digits_split()
    with torch.no_grad():
        logits = trainer.model(torch.from_numpy(np.array(split.x_val)))
    probs = special.softmax(logits.numpy().astype(float), axis=1)
    h = snap.history
    assert h["val_acc"][-1] == pytest.approx(np.mean(probs.argmax(1) == split.y_val), abs=1e-6)
    val_ce = np.mean(-np.log(probs[np.arange(N_VAL), split.y_val]))
    assert h["val_ce"][-1] == pytest.approx(val_ce, rel=1e-4)
    assert h["val_entropy"][-1] == pytest.approx(np.mean([scipy.stats.entropy(r) for r in probs]), rel=1e-4)
    assert h["val_ece"][-1] == pytest.approx(expected_calibration_error(probs, split.y_val), abs=1e-5)
    np.testing.assert_allclose(snap.val_probs.sum(1), 1.0, rtol=1e-5)
    assert snap.reliability.counts.sum() == N_VAL


def test_students_learn_with_every_loss(small_teacher):
    final = {}
    for method in ("ce", "smooth", "penalty", "distill"):
        config = LossLabConfig(method=method, smoothing=0.3, epochs=6, n_train=200)
        snap = LossLabTrainer(config, teacher=small_teacher, device=CPU).train(6)
        assert snap.history["val_acc"][-1] > 0.8, (method, snap.history["val_acc"])
        assert snap.history["val_acc"][-1] > snap.history["val_acc"][0] + 0.5
        final[method] = snap.history
    # Label smoothing keeps the predictions less peaked than plain cross-entropy.
    assert final["smooth"]["val_entropy"][-1] > final["ce"]["val_entropy"][-1] + 0.2


def test_epoch_zero_objective_is_the_plain_loss():
    trainer = LossLabTrainer(LossLabConfig(method="ce", n_train=100), device=CPU)
    split = digits_split()
    idx = subset_indices(split, 100, 0)
    with torch.no_grad():
        ref = F.cross_entropy(trainer.model(torch.from_numpy(np.array(split.x_train[idx]))),
                              torch.from_numpy(np.array(split.y_train[idx])))
    assert trainer.snapshot().history["objective"][0] == pytest.approx(float(ref), rel=1e-5)


def test_a_diverging_student_stops_and_keeps_its_last_good_state():
    trainer = LossLabTrainer(LossLabConfig(lr=1e6, epochs=5), device=CPU)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    snap = trainer.train(2)
    assert snap.error and "diverged" in snap.error and snap.step == 0
    for a, b in zip(before, trainer.model.parameters(), strict=True):
        torch.testing.assert_close(a, b.detach())
    assert len(snap.epochs) == 1


def test_config_checks_and_irrelevant_settings():
    with pytest.raises(ValueError, match="method"):
        LossLabConfig(method="focal")
    with pytest.raises(ValueError, match="distillation needs a teacher"):
        LossLabTrainer(LossLabConfig(method="distill"), device=CPU)
    a = LossLabConfig(method="ce", smoothing=0.4, temperature=9.0).relevant()
    assert a == LossLabConfig(method="ce")
    b = LossLabConfig(method="smooth", smoothing=0.4, temperature=9.0).relevant()
    assert b.smoothing == 0.4 and b.temperature == LossLabConfig().temperature
    assert "ε=0.4" in b.label()


# -- forward vs reverse KL ---------------------------------------------------------------------
@pytest.mark.parametrize("gap", [0.0, 3.0, 8.0])
def test_fit_objectives_match_numerical_integration(gap):
    fm = FitMath(gap, CPU)
    lo, hi = -gap / 2 - 15, gap / 2 + 15
    peaks = sorted({-gap / 2, 0.0, gap / 2})

    def log_p(x):
        return float(mixture_log_density(np.array(x), gap))

    h_p = integrate.quad(lambda x: -math.exp(log_p(x)) * log_p(x), lo, hi, points=peaks, limit=200)[0]
    assert mixture_entropy(gap) == pytest.approx(h_p, abs=1e-8)
    for mean, sd in ((0.0, 1.0), (1.5, 0.7), (-2.0, 3.0)):
        q = Gaussian(mean, sd)

        def log_q(x, m=mean, s=sd):
            return float(gaussian_log_density(np.array(x), m, s))

        def forward_integrand(x, log_q=log_q):
            return math.exp(log_p(x)) * (log_p(x) - log_q(x))

        def reverse_integrand(x, log_q=log_q):
            return math.exp(log_q(x)) * (log_q(x) - log_p(x))

        fwd = integrate.quad(forward_integrand, lo, hi, points=peaks, limit=200)[0]
        rev = integrate.quad(reverse_integrand, mean - 12 * sd, mean + 12 * sd, points=peaks, limit=200)[0]
        with torch.no_grad():
            assert float(fm.forward_kl(q)) == pytest.approx(fwd, abs=1e-7)
            assert float(fm.reverse_kl(q)) == pytest.approx(rev, abs=1e-7)


def test_forward_fit_matches_moments_and_reverse_fit_picks_a_peak():
    for start, side in ((1.0, 1), (-1.5, -1)):
        snap = KLFitTrainer(KLFitConfig(gap=8.0, start_mean=start, lr=0.1, max_steps=300), device=CPU).train(300)
        mean, sd = moment_match(8.0)
        assert snap.forward_params == pytest.approx((mean, sd), abs=5e-3)
        assert sd == pytest.approx(math.sqrt(17))  # variance 1 + gap^2 / 4
        assert snap.reverse_params == pytest.approx((side * 4.0, 1.0), abs=5e-3)
        # On one peak, q misses the other half of p: KL(q || p) = ln 2.
        assert snap.reverse_kl[-1] == pytest.approx(math.log(2), abs=1e-4)
        assert snap.forward_kl[-1] < snap.forward_kl[0] and snap.reverse_kl[-1] < snap.reverse_kl[0]


def test_both_fits_recover_a_single_peak():
    snap = KLFitTrainer(KLFitConfig(gap=0.0, start_mean=2.0, start_std=2.0, lr=0.1), device=CPU).train(300)
    assert snap.forward_params == pytest.approx((0.0, 1.0), abs=1e-3)
    assert snap.reverse_params == pytest.approx((0.0, 1.0), abs=1e-3)
    assert snap.forward_kl[-1] == pytest.approx(0.0, abs=1e-6) and snap.reverse_kl[-1] == pytest.approx(0.0, abs=1e-6)
    dx = snap.x[1] - snap.x[0]
    assert snap.p.sum() * dx == pytest.approx(1.0, abs=1e-4)


def test_fit_config_is_checked():
    with pytest.raises(ValueError, match="gap"):
        KLFitConfig(gap=-1)
    with pytest.raises(ValueError, match="start_std"):
        KLFitConfig(start_std=0)


# -- figure builders: titles, axis titles with units, traces, infinities -----------------------
def _titles(fig):
    return fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def _assert_labelled(fig):
    title, x, y = _titles(fig)
    assert title and x and y, _titles(fig)


def test_part_a_figures_are_labelled_and_show_infinity():
    cmp = compare([2, 3, 4], [4, 4, 0], "bits")
    labels = ["red", "green", "blue"]
    figs = [distributions_figure(cmp, labels), decomposition_figure(cmp), contributions_figure(cmp, labels),
            surprise_figure(cmp, labels), binary_entropy_figure(0.3, "bits")]
    for fig in figs:
        _assert_labelled(fig)
    assert "(bits" in decomposition_figure(cmp).layout.xaxis.title.text
    assert "KL = ∞" in decomposition_figure(cmp).data[1].text
    ce_bar = contributions_figure(cmp, labels).data[1]
    assert ce_bar.text[2] == "∞" and ce_bar.marker.pattern.shape[2] == "/"
    assert trace_names(distributions_figure(cmp, labels)) == ["P", "Q"]
    nats = compare([2, 3, 4], [4, 4, 1], "nats")
    assert "(nats" in surprise_figure(nats, labels).layout.yaxis.title.text
    # An infinite bar is drawn taller than every finite bar beside it, and labelled ∞.
    onehot = compare([0, 1, 0], [0.15, 0.6, 0.25], "bits")
    fig = surprise_figure(onehot, ["A", "B", "C"])
    assert fig.data[0].text[0] == "∞" and fig.data[0].y[0] > max(fig.data[1].y)
    point = binary_entropy_figure(0.3, "bits").data[1]
    assert point.y[0] == pytest.approx(scipy.stats.entropy([0.3, 0.7], base=2))


def test_fit_and_lab_figures_are_labelled(small_teacher):
    fit = KLFitTrainer(KLFitConfig(), device=CPU).train(5)
    for fig in (kl_fit_figure(fit), kl_fit_loss_figure(fit, "bits")):
        _assert_labelled(fig)
    assert "5 gradient steps" in kl_fit_figure(fit).layout.title.text
    snap = LossLabTrainer(LossLabConfig(epochs=2), device=CPU).train(2)
    for fig in (loss_curves_figure(snap, "bits"), accuracy_figure(snap), confidence_figure(snap, "nats"),
                reliability_figure(snap.reliability), digit_figure(digits_split().val_images[0], 3),
                class_probabilities_figure({"a": np.full(10, 0.1)}, "t", label=3),
                runs_figure([("run 1", snap.epochs, snap.history["val_acc"])], "val_acc")):
        _assert_labelled(fig)
    bits = loss_curves_figure(snap, "bits").data[1].y
    nats = loss_curves_figure(snap, "nats").data[1].y
    np.testing.assert_allclose(np.asarray(bits) * math.log(2), nats, rtol=1e-12)
    assert confidence_figure(snap, "bits").layout.yaxis2.title.text == "ECE (% points)"


@pytest.mark.parametrize("huge", [1e308, 1.7e308, 1e300])
def test_huge_counts_normalise_without_overflow(huge):
    """The sum of huge counts overflows to infinity: dividing by it turned P into zeros and
    entropy([1e308, 1e308]) into 0 bits instead of 1. Scaled down by hand, SciPy agrees."""
    assert entropy([huge, huge]) == pytest.approx(1.0, abs=1e-12)
    weights = [huge, huge / 2, huge / 4, 1.0]
    by_hand = [1.0, 0.5, 0.25, 1.0 / huge]
    probs = info.as_distribution(weights)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12) and np.isfinite(probs).all()
    np.testing.assert_allclose(probs, np.asarray(by_hand) / math.fsum(by_hand), rtol=1e-12)
    assert entropy(weights) == pytest.approx(scipy.stats.entropy(by_hand, base=2), abs=1e-12)
    q = [1.0, 2.0, 3.0, 4.0]
    assert kl_divergence(weights, q) == pytest.approx(scipy.stats.entropy(by_hand, q, base=2), abs=1e-12)
    assert cross_entropy(weights, q) == pytest.approx(
        scipy.stats.entropy(by_hand, base=2) + scipy.stats.entropy(by_hand, q, base=2), abs=1e-12)
    assert js_divergence(weights, q) == pytest.approx(jensenshannon(by_hand, q, base=2) ** 2, abs=1e-12)
    parsed = parse_weights(f"{huge!r}, {huge!r}, 1")  # what a learner can type
    assert entropy(parsed) == pytest.approx(1.0, abs=1e-12)


def test_total_weight_gives_sums_beyond_the_float_range():
    from decimal import Decimal

    for values in ([1e308, 1e308, 1.0], [2.0, 3.0, 4.0], [0.2, 0.3, 0.5], [1.5e307] * 10, [5e-324, 5e-324]):
        mantissa, power = info.total_weight(values)
        exact = sum(Decimal(v) for v in values)  # exact decimal arithmetic: no overflow
        assert 1 <= mantissa < 10
        assert float(Decimal(mantissa) * Decimal(10) ** power / exact) == pytest.approx(1.0, abs=1e-12), values
    assert info.total_weight([0.0, 0.0]) == (0.0, 0)



def test_every_epochs_objective_is_measured_on_the_whole_training_set():
    """Issue 13: epoch 0 was a full-set value and later epochs minibatch means; now all are full-set."""
    import torch.nn.functional as F

    trainer = LossLabTrainer(LossLabConfig(method="smooth", epochs=3, n_train=200, seed=1))
    snap = trainer.train(3)
    with torch.no_grad():
        trainer.model.eval()
        logits = trainer.model(trainer.x)
        trainer.model.train()
    reference = F.cross_entropy(logits, trainer.y, label_smoothing=0.1)  # PyTorch's own smoothed loss
    assert snap.history["objective"][-1] == pytest.approx(float(reference), rel=1e-5)


# -- the trainers on the shared base (issue 12) -------------------------------------------------------


def test_the_student_waits_for_the_device_a_fixed_number_of_times_per_chunk(monkeypatch):
    """The lab copied each epoch's calibration to the host (a device sync per epoch). Now an epoch's
    measurements stay on the device until its chunk ends: the host waits as often for 1 epoch as for 6."""
    import sys

    waits = []
    for name in ("cpu", "item", "tolist", "numpy", "__bool__", "__float__", "__int__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            # Adam reads its step counter, which PyTorch keeps on the host (not capturable): no wait
            if "torch/optim/" not in sys._getframe(1).f_code.co_filename.replace("\\", "/"):
                waits.append(1)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    counts = {}
    for epochs in (1, 6):
        trainer = LossLabTrainer(LossLabConfig(method="smooth", n_train=100, epochs=10), device=CPU)
        waits.clear()
        assert trainer.advance(epochs) == epochs
        counts[epochs] = len(waits)
    monkeypatch.undo()
    assert counts[1] == counts[6] > 0, counts
    assert len(trainer.snapshot().epochs) == 7  # the six epochs' rows all arrived


def test_the_student_reports_its_objective_as_the_loss_and_its_measurements_per_epoch():
    trainer = LossLabTrainer(LossLabConfig(method="penalty", n_train=200, epochs=4, seed=2), device=CPU)
    trainer.train(1)
    snap = trainer.train(3)
    steps, losses = trainer.loss_history
    assert steps.tolist() == [1, 2, 3, 4] and losses.shape == (4, 1)  # one loss per epoch: the objective
    np.testing.assert_array_equal(losses[:, 0], snap.history["objective"][1:])
    # The last row's measurements, recomputed here from the model (PyTorch and NumPy, independently).
    with torch.no_grad():
        trainer.model.eval()
        train_logits, val_logits = trainer.model(trainer.x), trainer.model(trainer.x_val)
        trainer.model.train()
    probs = special.softmax(val_logits.numpy().astype(float), axis=1)
    labels = trainer.split.y_val
    h = snap.history
    assert h["objective"][-1] == pytest.approx(float(confidence_penalty_loss(train_logits, trainer.y, 0.3)), rel=1e-5)
    assert h["train_ce"][-1] == pytest.approx(float(F.cross_entropy(train_logits, trainer.y)), rel=1e-5)
    assert h["train_acc"][-1] == pytest.approx(float((train_logits.argmax(1) == trainer.y).float().mean()))
    assert h["val_acc"][-1] == pytest.approx(np.mean(probs.argmax(1) == labels))
    assert h["val_ece"][-1] == pytest.approx(expected_calibration_error(probs, labels), abs=1e-6)
    assert h["val_entropy"][-1] == pytest.approx(np.mean(scipy.stats.entropy(probs, axis=1)), rel=1e-4)


def test_each_method_draws_its_own_setting_and_the_others_keep_their_defaults():
    from core.losslab import METHOD_SETTING, METHODS
    from core.losslab import PARAMS as LAB

    assert LossLabConfig(**LAB.config_defaults()) == LossLabConfig()
    for method in METHODS:
        changed = {"smoothing": 0.25, "penalty": 0.55, "alpha": 0.2, "temperature": 8.0}
        config = LossLabConfig(method=method, **changed).relevant()
        kept = {name for name, value in changed.items() if getattr(config, name) == value}
        own = {METHOD_SETTING[method]} if method in METHOD_SETTING else set()
        assert kept == own | ({"temperature"} if method == "distill" else set()), method


def test_the_kl_fit_keeps_its_losses_in_the_base_history():
    trainer = KLFitTrainer(KLFitConfig(gap=5.0, lr=0.1), device=CPU)
    start = trainer.snapshot()
    assert start.steps.tolist() == [0] and start.forward_kl.shape == (1,)
    snap = trainer.train(7)
    steps, losses = trainer.loss_history
    assert steps.tolist() == list(range(1, 8))
    np.testing.assert_array_equal(snap.forward_kl, np.concatenate([start.forward_kl, losses[:, 0]]))
    np.testing.assert_array_equal(snap.reverse_kl[1:], losses[:, 1])
    with torch.no_grad():  # the last values are the objectives of the fits on screen
        assert snap.forward_kl[-1] == pytest.approx(float(trainer.math.forward_kl(trainer.q_fwd)), rel=1e-6)
        assert snap.reverse_kl[-1] == pytest.approx(float(trainer.math.reverse_kl(trainer.q_rev)), rel=1e-6)
