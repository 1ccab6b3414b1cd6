"""The GAN engine against independent references: hand computations, SciPy, autograd,
finite differences, and constructed samples whose coverage is known by design."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare, entropy

from core.gan import (
    PARAMS,
    PRESETS,
    GANConfig,
    GANTrainer,
    d_loss,
    g_loss,
    gradient_penalty,
    mode_coverage,
    preset_values,
    sample_target,
)
from core.gan_targets import EXTENT, MODES, TARGETS, divergences, mode_shares, reference_histogram
from core.plots.gan import (
    arrow_ends,
    coverage_figure,
    divergence_figure,
    gradient_figure,
    loss_figure,
    manifold_figure,
    plane_figure,
    segments,
    shares_figure,
)

# -- targets ----------------------------------------------------------------


@pytest.mark.parametrize("name", TARGETS)
def test_every_target_has_the_right_shape_and_stays_in_the_plane(name):
    x = sample_target(name, 5000, seed=1)
    assert x.shape == (5000, 2) and x.dtype == np.float32
    assert np.all(np.isfinite(x))
    inside = np.all(np.abs(x) <= EXTENT, axis=1).mean()
    assert inside > 0.999, f"{name}: only {inside:.4f} of the points lie in [-3, 3]^2"
    assert x.std(axis=0).max() > 0.5, f"{name} is not spread over the plane"


@pytest.mark.parametrize("name", TARGETS)
def test_targets_are_seeded(name):
    np.testing.assert_array_equal(sample_target(name, 300, seed=4), sample_target(name, 300, seed=4))
    assert not np.allclose(sample_target(name, 300, seed=4), sample_target(name, 300, seed=5))


def test_ring8_geometry():
    centres = MODES["ring8"].centres
    assert centres.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0, atol=1e-12)
    angles = np.sort(np.degrees(np.arctan2(centres[:, 1], centres[:, 0])) % 360)
    np.testing.assert_allclose(angles, np.arange(8) * 45.0, atol=1e-9)
    x = sample_target("ring8", 40_000, seed=0).astype(np.float64)
    nearest = np.argmin(np.linalg.norm(x[:, None] - centres[None], axis=2), axis=1)
    offsets = x - centres[nearest]
    # each coordinate of the offset is N(0, 0.02^2)
    np.testing.assert_allclose(offsets.std(axis=0), 0.02, rtol=0.03)
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.001)
    # the eight modes are equally likely (a chi-square test would flag a bias)
    assert chisquare(np.bincount(nearest, minlength=8)).pvalue > 1e-3


def test_grid25_geometry():
    centres = MODES["grid25"].centres
    assert sorted(map(tuple, centres.tolist())) == [(float(a), float(b)) for a in range(-2, 3) for b in range(-2, 3)]


def test_unknown_target_and_negative_n_are_refused():
    with pytest.raises(ValueError, match="target"):
        sample_target("ring9", 10, 0)
    with pytest.raises(ValueError):
        sample_target("ring8", -1, 0)
    with pytest.raises(ValueError, match="no modes"):
        mode_coverage(np.zeros((10, 2)), "moons")


# -- mode coverage --------------------------------------------------------


def _at(centre, n, rng, radius):
    """n points at exactly ``radius`` from ``centre`` in random directions."""
    angle = rng.uniform(0, 2 * np.pi, n)
    return centre + radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def test_mode_coverage_counts_modes_with_five_percent_within_three_std():
    rng = np.random.default_rng(0)
    c = MODES["ring8"].centres
    parts = [_at(c[i], 300, rng, 0.05) for i in range(6)]  # 15 % each, within 2.5 std
    parts.append(_at(c[6], 100, rng, 0.059))  # exactly 5 % of 2,000, just inside 3 std: counts
    parts.append(_at(c[7], 99, rng, 0.0))  # 4.95 %: does not count
    parts.append(np.zeros((2000 - 1800 - 199, 2)))  # the rest at the origin, far from every mode
    samples = np.concatenate(parts)
    assert len(samples) == 2000
    assert mode_coverage(samples, "ring8") == 7
    shares = mode_shares(samples, "ring8")
    np.testing.assert_allclose(shares, [0.15] * 6 + [0.05, 0.0495])


def test_points_just_outside_three_std_do_not_count():
    rng = np.random.default_rng(1)
    c = MODES["ring8"].centres
    near = np.concatenate([_at(c[i], 250, rng, 0.061) for i in range(8)])  # 3.05 std away
    assert mode_coverage(near, "ring8") == 0
    assert mode_coverage(near * (0.0595 / 0.061) + c.repeat(250, axis=0) * (1 - 0.0595 / 0.061), "ring8") == 8


def test_real_samples_cover_every_mode_and_collapsed_ones_cover_one():
    for name in ("ring8", "grid25", "blobs2", "blobs3"):
        assert mode_coverage(sample_target(name, 2000, seed=3), name) == len(MODES[name].centres)
    collapsed = MODES["ring8"].centres[2] + 0.02 * np.random.default_rng(2).standard_normal((2000, 2))
    assert mode_coverage(collapsed, "ring8") == 1


# -- divergences on the grid ----------------------------------------------


def _independent_hist(points, bins=30):
    clipped = np.clip(points, -3, 3)
    counts, _, _ = np.histogram2d(clipped[:, 0], clipped[:, 1], bins=bins, range=[[-3, 3], [-3, 3]])
    counts = counts + 0.5
    return (counts / counts.sum()).ravel()


def test_kl_and_js_match_scipy():
    fake = sample_target("blobs3", 2000, seed=9) * 1.3 + 0.2
    kl, js = divergences(fake, "ring8")
    p = _independent_hist(sample_target("ring8", 200_000, seed=20_240_601))
    q = _independent_hist(fake)
    assert kl == pytest.approx(entropy(p, q, base=2), rel=1e-9)
    assert js == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9)
    np.testing.assert_allclose(reference_histogram("ring8"), p)


def test_divergences_are_small_for_real_samples_and_near_one_bit_for_disjoint_ones():
    _, js_same = divergences(sample_target("ring8", 2000, seed=11), "ring8")
    _, js_far = divergences(np.full((2000, 2), 0.0), "ring8")  # every point at the origin
    assert js_same < 0.1
    assert 0.9 < js_far <= 1.0


# -- the losses, against hand computations ------------------------------------

R = torch.tensor([0.5, -1.0, 2.0])
F_ = torch.tensor([-0.3, 1.5])


def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def _mean(values):
    return sum(values) / len(values)


def test_classifier_d_loss_is_binary_cross_entropy():
    expected = _mean([-math.log(_sig(r)) for r in R.tolist()]) + _mean([-math.log(1 - _sig(f)) for f in F_.tolist()])
    for loss in ("minimax", "nonsaturating"):
        assert float(d_loss(loss, R, F_)) == pytest.approx(expected, rel=1e-6)
    # and against torch's BCE on probabilities
    bce = torch.nn.functional.binary_cross_entropy
    ref = bce(torch.sigmoid(R), torch.ones(3)) + bce(torch.sigmoid(F_), torch.zeros(2))
    assert float(d_loss("minimax", R, F_)) == pytest.approx(float(ref), rel=1e-5)


def test_one_sided_label_smoothing_targets_point_nine_for_real_only():
    s = 0.1
    real = _mean([-(1 - s) * math.log(_sig(r)) - s * math.log(1 - _sig(r)) for r in R.tolist()])
    fake = _mean([-math.log(1 - _sig(f)) for f in F_.tolist()])
    assert float(d_loss("nonsaturating", R, F_, smoothing=s)) == pytest.approx(real + fake, rel=1e-6)
    ls_expected = 0.5 * _mean([(r - 0.9) ** 2 for r in R.tolist()]) + 0.5 * _mean([f**2 for f in F_.tolist()])
    assert float(d_loss("lsgan", R, F_, smoothing=s)) == pytest.approx(ls_expected, rel=1e-6)


def test_generator_losses_by_hand():
    f = F_.tolist()
    assert float(g_loss("minimax", F_)) == pytest.approx(_mean([math.log(1 - _sig(v)) for v in f]), rel=1e-6)
    assert float(g_loss("nonsaturating", F_)) == pytest.approx(_mean([-math.log(_sig(v)) for v in f]), rel=1e-6)
    assert float(g_loss("lsgan", F_)) == pytest.approx(_mean([0.5 * (v - 1) ** 2 for v in f]), rel=1e-6)
    for loss in ("wgan-gp", "hinge"):
        assert float(g_loss(loss, F_)) == pytest.approx(-_mean(f), rel=1e-6)


def test_other_d_losses_by_hand():
    r, f = R.tolist(), F_.tolist()
    assert float(d_loss("lsgan", R, F_)) == pytest.approx(
        0.5 * _mean([(v - 1) ** 2 for v in r]) + 0.5 * _mean([v**2 for v in f]), rel=1e-6)
    assert float(d_loss("wgan-gp", R, F_)) == pytest.approx(_mean(f) - _mean(r), rel=1e-6)
    assert float(d_loss("hinge", R, F_)) == pytest.approx(
        _mean([max(0, 1 - v) for v in r]) + _mean([max(0, 1 + v) for v in f]), rel=1e-6)


def test_minimax_generator_gradient_saturates_and_the_non_saturating_one_does_not():
    """d/df of log(1 - s(f)) is -s(f) (tiny when D rejects, f << 0); of -log s(f) it is s(f) - 1."""
    f = torch.tensor([-6.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(g_loss("minimax", f), f)
    (g_ns,) = torch.autograd.grad(g_loss("nonsaturating", f), f)
    assert float(g_mm) == pytest.approx(-_sig(-6.0), rel=1e-5)
    assert float(g_ns) == pytest.approx(_sig(-6.0) - 1.0, rel=1e-5)
    assert abs(float(g_ns)) > 100 * abs(float(g_mm))


def test_gradient_penalty_of_a_linear_critic():
    """A linear critic w.x + b has gradient w everywhere: the penalty is (|w| - 1)^2."""
    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |w| = 5
        critic.bias.fill_(0.7)
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    gp = gradient_penalty(critic, real, fake, torch.rand(6, 1))
    assert float(gp.detach()) == pytest.approx(16.0, rel=1e-6)


def test_gradient_penalty_of_a_quadratic_critic_by_hand():
    """critic(x) = |x|^2 / 2 has gradient x: the penalty is mean((|x^| - 1)^2)."""

    class Half(torch.nn.Module):
        def forward(self, x):
            return 0.5 * (x**2).sum(dim=1, keepdim=True)

    real = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    fake = torch.tensor([[0.0, 0.0], [0.0, 3.0]])
    mix = torch.tensor([[0.5], [0.25]])  # x^ = (1, 0) and (0, 2.25)
    assert float(gradient_penalty(Half(), real, fake, mix).detach()) == pytest.approx(0.5 * (0.0 + 1.25**2), rel=1e-6)


# -- the trainer ------------------------------------------------------------


def _small(**kw):
    base = {"g_width": 16, "d_width": 16, "batch_size": 32, "max_steps": 400}
    return GANConfig(**{**base, **kw})


def test_train_counts_generator_steps_and_each_has_d_steps_discriminator_updates():
    trainer = GANTrainer(_small(d_steps=3))
    snap = trainer.train(7)
    assert snap.step == 7 and len(snap.d_losses) == 7 and len(snap.g_losses) == 7
    d_state = trainer.d_opt.state[next(iter(trainer.D.parameters()))]
    g_state = trainer.g_opt.state[next(iter(trainer.G.parameters()))]
    assert int(d_state["step"]) == 21 and int(g_state["step"]) == 7


def test_same_seed_same_run_whatever_the_chunking():
    a = GANTrainer(_small(seed=3))
    a.train(120)
    b = GANTrainer(_small(seed=3))
    for chunk in (1, 30, 19, 70):
        b.train(chunk)
    sa, sb = a.snapshot(), b.snapshot()
    np.testing.assert_array_equal(sa.g_losses, sb.g_losses)
    np.testing.assert_array_equal(sa.js, sb.js)
    np.testing.assert_array_equal(sa.eval_steps, [0, 50, 100])
    c = GANTrainer(_small(seed=4)).train(120)
    assert not np.allclose(sa.g_losses, c.g_losses)


def test_training_improves_coverage_on_a_fixed_seed():
    """1,000 steps of the default recipe (rates decaying over those 1,000 steps) on the CPU."""
    trainer = GANTrainer(GANConfig(max_steps=1000, seed=2), device=torch.device("cpu"))
    start = trainer.snapshot()
    assert start.coverage[0] == 0 and start.js[0] > 0.9  # G starts as a blob at the origin
    snap = trainer.train(1000)
    assert snap.error is None and snap.done
    assert snap.coverage[-1] >= 4
    assert snap.js[-1] < 0.4
    # the reported coverage is that of fresh samples too, not only of the fixed evaluation noise
    assert mode_coverage(trainer.sample(2000), "ring8") >= 3


def test_sample_is_seeded_and_leaves_training_alone():
    a, b = GANTrainer(_small()), GANTrainer(_small())
    x1 = a.sample(500)
    assert x1.shape == (500, 2)
    np.testing.assert_array_equal(x1, a.sample(500))
    a.train(20)
    b.train(20)
    np.testing.assert_array_equal(a.snapshot().g_losses, b.snapshot().g_losses)


def test_snapshot_views_match_the_networks():
    trainer = GANTrainer(_small(loss="nonsaturating", spectral_norm=True))
    snap = trainer.train(60)
    trainer.D.eval()
    axis = snap.heat_axis
    i, j = 7, 30
    point = torch.tensor([[axis[j], axis[i]]])
    with torch.no_grad():
        expected = torch.sigmoid(trainer.D(point)).item()
    assert snap.heat[i, j] == pytest.approx(expected, rel=1e-5)
    # the arrows are -dL_G/dx, checked by central finite differences on D
    x0 = snap.arrow_from[5].astype(np.float64)
    eps = 1e-3
    numeric = []
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        with torch.no_grad():
            up = torch.nn.functional.softplus(-trainer.D(torch.tensor(np.array([x0 + e]), dtype=torch.float32))).item()
            down = torch.nn.functional.softplus(-trainer.D(torch.tensor(np.array([x0 - e]), dtype=torch.float32))).item()
        numeric.append(-(up - down) / (2 * eps))
    np.testing.assert_allclose(snap.arrow_dir[5], numeric, rtol=0.02, atol=1e-4)
    assert snap.manifold.shape == (15, 15, 2) and snap.fake.shape == (GANTrainer.SHOW, 2)


def test_divergence_stops_and_keeps_the_last_good_state():
    trainer = GANTrainer(PRESETS["diverge"].config(max_steps=2000))
    good = None
    snap = trainer.snapshot()
    for _ in range(40):
        before = [p.detach().clone() for p in trainer.G.parameters()]
        snap = trainer.train(50)
        if snap.error:
            good = before
            break
    assert snap.error and "diverged" in snap.error
    assert snap.step % 50 == 0  # the failed chunk was rolled back
    for p, q in zip(trainer.G.parameters(), good, strict=True):
        assert torch.equal(p, q) and torch.isfinite(p).all()
    assert trainer.done and trainer.train(50).step == snap.step


def _lrs(trainer):
    return trainer.g_opt.param_groups[0]["lr"], trainer.d_opt.param_groups[0]["lr"]


def test_the_linear_schedule_lowers_both_rates_at_every_step_even_inside_a_chunk():
    trainer = GANTrainer(_small(g_lr=1e-3, d_lr=4e-3, max_steps=40), device=torch.device("cpu"))
    assert _lrs(trainer) == (1e-3, 4e-3)
    trainer.train(7)  # one chunk: the base's step counter only moves at its end
    assert _lrs(trainer) == pytest.approx((1e-3 * 33 / 40, 4e-3 * 33 / 40), rel=1e-12)
    # a live change: the new rate, scaled from where the run stands over the new number of steps
    assert trainer.reconfigure(_small(g_lr=3e-4, d_lr=4e-3, max_steps=20))
    assert _lrs(trainer) == pytest.approx((3e-4 * 13 / 20, 4e-3 * 13 / 20), rel=1e-12)
    snap = trainer.train(100)
    assert snap.step == 20 and snap.done and _lrs(trainer) == (0.0, 0.0)
    constant = GANTrainer(_small(lr_schedule="constant"), device=torch.device("cpu"))
    constant.train(9)
    assert _lrs(constant) == (1e-3, 1e-3)


def test_a_rolled_back_chunk_takes_the_schedule_back_too():
    trainer = GANTrainer(_small(max_steps=100), device=torch.device("cpu"))
    trainer.train(10)
    before = _lrs(trainer)
    good, calls = trainer._train_step, []

    def blows_up():
        calls.append(1)
        loss = good()
        return loss * float("nan") if len(calls) == 3 else loss

    trainer._train_step = blows_up
    trainer.advance(5)
    assert trainer.error and trainer.step == 10
    assert _lrs(trainer) == before == pytest.approx((1e-3 * 0.9, 1e-3 * 0.9), rel=1e-12)


def test_the_page_table_gives_the_config_defaults_and_every_preset():
    defaults = PARAMS.defaults()
    assert defaults.pop("preset") == "default"
    assert GANConfig(**defaults) == GANConfig()
    for name in PRESETS:
        values = PARAMS.preset(preset_values(name))
        assert values["preset"] == name
        assert GANConfig(**{k: values[k] for k in PARAMS.config_defaults()}) == PRESETS[name].config()
    # readable link names, and every short code links used before
    assert {p.url for p in PARAMS} >= {"g_lr", "d_lr", "d_steps", "beta1", "noise_dim", "instance_noise",
                                       "spectral_norm", "label_smoothing"}
    assert all(len(p.url) >= 4 for p in PARAMS)
    assert {code for p in PARAMS for code in p.old} == {
        "glr", "dlr", "dsteps", "gopt", "dopt", "b1", "b2", "gdepth", "gwidth", "ddepth", "dwidth", "act", "nz",
        "batch", "smooth", "inoise", "sn", "gp", "sched", "steps"}


def test_config_refuses_nonsense():
    with pytest.raises(ValueError):
        GANConfig(loss="wasserstein")
    with pytest.raises(ValueError):
        GANConfig(loss="hinge", label_smoothing=0.1)
    with pytest.raises(ValueError):
        GANConfig(g_lr=0)
    with pytest.raises(ValueError):
        GANConfig(d_steps=0)


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_valid_configs(name):
    config = PRESETS[name].config()
    assert isinstance(config, GANConfig) and config.target == "ring8"
    assert PRESETS[name].label and PRESETS[name].lesson


# -- figures ----------------------------------------------------------------


def test_figures_have_titles_axis_titles_with_units_and_traces():
    snap = GANTrainer(_small()).train(50)
    figures = [plane_figure(snap), manifold_figure(snap), loss_figure(snap), coverage_figure(snap),
               divergence_figure(snap, (0.5, 0.1)), gradient_figure(snap), shares_figure(snap)]
    for fig in figures:
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text in ("generator step", "mode (number)", "x₁ (plane units)")
        assert "(" in fig.layout.yaxis.title.text, fig.layout.yaxis.title.text  # a unit
        assert len(fig.data) >= 1
    names = [t.name for t in plane_figure(snap).data]
    assert "real samples" in names and "generated samples" in names
    assert not any(t.type == "heatmap" for t in plane_figure(snap, heatmap=False).data)


def test_arrows_keep_relative_lengths():
    starts = np.zeros((3, 2))
    directions = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    tips, biggest = arrow_ends(starts, directions, longest=0.5)
    np.testing.assert_allclose(tips, [[0.5, 0.0], [0.0, 0.25], [0.0, 0.0]])
    assert biggest == 2.0
    xs, _ys = segments(starts, tips)
    assert len(xs) == 9 and np.isnan(xs[2]) and xs[1] == 0.5
