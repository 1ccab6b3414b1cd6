"""LRN vs BN page engine against independent references: the seed's worked
example (0.5 at (0,0,0)), torch.nn.LocalResponseNorm (through the conversion),
a NumPy transcription of TensorFlow's documented LRN formula, direct loops,
BatchNorm2d / BatchNorm1d in training mode, SciPy's correlation and
scikit-learn's accuracy score; the race on the page's seed."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d
from sklearn.metrics import accuracy_score
from torch import nn

from core.device import configure_threads
from core.losslab import digits_split
from core.norms import (
    CNN_LRN,
    DEFAULT_LR,
    HIGH_LR,
    LAYERS,
    NORMS,
    LRNParams,
    NormRaceConfig,
    NormRaceSnapshot,
    NormRaceTrainer,
    batch_norm,
    bn_example,
    bn_modes,
    explain_bn,
    explain_lrn,
    feature_maps,
    inter_example,
    intra_example,
    local_response_norm,
    lrn_torch_convention,
    make_cnn,
    running_statistics,
    seed_to_tf,
    seed_to_torch,
    small_batch_message,
    tf_to_seed,
    torch_batch_norm,
    torch_to_seed,
)
from core.plots.common import trace_names
from core.plots.norms import (
    feature_maps_figure,
    layer_stats_figure,
    pair_heatmap_figure,
    race_accuracy_figure,
    race_loss_figure,
    running_stats_figure,
    shared_range,
)

configure_threads()  # one torch thread, as the app: two threads on a busy 2-core machine crawl
CPU = torch.device("cpu")
PAGE_SEED = 0


def rand(shape, seed=0, scale=2.0):
    return np.random.default_rng(seed).normal(0.0, scale, size=shape)


# -- the seed's formulas written out as loops (the references) ---------------------
def seed_inter_loop(a, n, alpha, beta, k):
    out = np.zeros_like(a)
    N, C, H, W = a.shape
    for s in range(N):
        for i in range(C):
            for y in range(H):
                for x in range(W):
                    total = sum(a[s, j, y, x] ** 2 for j in range(max(0, i - n // 2), min(C - 1, i + n // 2) + 1))
                    out[s, i, y, x] = a[s, i, y, x] / (k + alpha * total) ** beta
    return out


def seed_intra_loop(a, n, alpha, beta, k):
    out = np.zeros_like(a)
    N, C, H, W = a.shape
    for s in range(N):
        for c in range(C):
            for y in range(H):
                for x in range(W):
                    total = 0.0
                    for i in range(y - n // 2, y + n // 2 + 1):
                        for j in range(x - n // 2, x + n // 2 + 1):
                            if 0 <= i < H and 0 <= j < W:  # zeros beyond the border
                                total += a[s, c, i, j] ** 2
                    out[s, c, y, x] = a[s, c, y, x] / (k + alpha * total) ** beta
    return out


def tf_documented_lrn(x_nhwc, depth_radius, bias, alpha, beta):
    """TensorFlow's documented formula, channels last:
    sqr_sum[a, b, c, d] = sum(input[a, b, c, d - depth_radius : d + depth_radius + 1] ** 2)
    output = input / (bias + alpha * sqr_sum) ** beta   (the slice starts at 0 at the edge)."""
    out = np.zeros_like(x_nhwc)
    depth = x_nhwc.shape[-1]
    for d in range(depth):
        sqr_sum = np.sum(x_nhwc[..., max(0, d - depth_radius) : d + depth_radius + 1] ** 2, axis=-1)
        out[..., d] = x_nhwc[..., d] / (bias + alpha * sqr_sum) ** beta
    return out


# -- LRN ---------------------------------------------------------------------------------
def test_seed_worked_example_gives_one_half_at_the_origin():
    x = inter_example()
    out = local_response_norm(x, n=2, alpha=1, beta=1, k=0)
    assert out[0, 0, 0, 0] == pytest.approx(0.5)
    terms = explain_lrn(x, (0, 0, 0, 0), n=2, alpha=1, beta=1, k=0)
    assert terms.neighbours == ((0, 0, 0, 0), (0, 1, 0, 0))  # channel -1 does not exist
    assert terms.values == (1.0, 1.0) and terms.sum_squares == 2.0
    assert terms.denominator == 2.0 and terms.result == pytest.approx(0.5)
    assert terms.formula().endswith("= 0.5")


def test_whole_example_grid_matches_the_seed_formula_loop():
    x = inter_example()
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = seed_inter_loop(x, 2, 1.0, 1.0, 0.0)
    ref = np.nan_to_num(ref, nan=0.0)  # 0/0 where the whole window is 0
    np.testing.assert_allclose(local_response_norm(x, 2, 1, 1, 0), ref)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6])
def test_inter_channel_matches_the_loop_and_torch_through_the_conversion(n):
    x = rand((2, 7, 3, 4), seed=n)
    alpha, beta, k = 0.3, 0.75, 1.5
    ours = local_response_norm(x, n, alpha, beta, k)
    np.testing.assert_allclose(ours, seed_inter_loop(x, n, alpha, beta, k), rtol=1e-12)
    conv = seed_to_torch(n, alpha, beta, k)
    assert conv.exact and conv.params["size"] % 2 == 1
    layer = nn.LocalResponseNorm(conv.params["size"], alpha=conv.params["alpha"], beta=conv.params["beta"],
                                 k=conv.params["k"])
    np.testing.assert_allclose(ours, layer(torch.from_numpy(x)).numpy(), rtol=1e-10)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6])
def test_torch_convention_in_numpy_matches_torch_for_odd_and_even_sizes(size):
    x = rand((2, 6, 3, 3), seed=10 + size)
    ref = nn.LocalResponseNorm(size, alpha=0.7, beta=0.6, k=2.0)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(lrn_torch_convention(x, size, 0.7, 0.6, 2.0), ref, rtol=1e-10)


@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_odd_torch_sizes_convert_to_the_seed_exactly(size):
    x = rand((1, 8, 2, 2), seed=size)
    conv = torch_to_seed(size, 0.9, 0.75, 1.0)
    assert conv.exact
    p = conv.params
    ref = nn.LocalResponseNorm(size, alpha=0.9, beta=0.75, k=1.0)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(local_response_norm(x, p["n"], p["alpha"], p["beta"], p["k"]), ref, rtol=1e-10)


@pytest.mark.parametrize("size", [2, 4, 6])
def test_even_torch_sizes_have_no_seed_equivalent(size):
    conv = torch_to_seed(size, 0.9, 0.75, 1.0)
    assert not conv.exact and conv.params is None and "before" in conv.note
    x = rand((1, 8, 2, 2), seed=size)
    torch_out = nn.LocalResponseNorm(size, alpha=0.9, beta=0.75, k=1.0)(torch.from_numpy(x)).numpy()
    # the nearest symmetric windows, with alpha / size as PyTorch uses it, both differ
    for n in (size - 2, size):
        assert not np.allclose(local_response_norm(x, n, 0.9 / size, 0.75, 1.0), torch_out, rtol=1e-6)


def test_even_torch_size_with_alpha_zero_converts_because_the_window_does_not_matter():
    x = rand((1, 5, 2, 2))
    conv = torch_to_seed(4, 0.0, 0.75, 2.0)
    assert conv.exact
    ref = nn.LocalResponseNorm(4, alpha=0.0, beta=0.75, k=2.0)(torch.from_numpy(x)).numpy()
    p = conv.params
    np.testing.assert_allclose(local_response_norm(x, p["n"], p["alpha"], p["beta"], p["k"]), ref)


@pytest.mark.parametrize("n", [0, 2, 4, 5])
def test_tensorflow_conversion_matches_its_documented_formula(n):
    x = rand((2, 9, 3, 3), seed=20 + n)
    conv = seed_to_tf(n, 0.5, 0.75, 1.0)
    p = conv.params
    assert conv.exact and p["depth_radius"] == n // 2
    tf_out = tf_documented_lrn(np.transpose(x, (0, 2, 3, 1)), p["depth_radius"], p["bias"], p["alpha"], p["beta"])
    ours = local_response_norm(x, n, 0.5, 0.75, 1.0)
    np.testing.assert_allclose(ours, np.transpose(tf_out, (0, 3, 1, 2)), rtol=1e-12)
    back = tf_to_seed(p["depth_radius"], p["bias"], p["alpha"], p["beta"]).params
    np.testing.assert_allclose(local_response_norm(x, back["n"], back["alpha"], back["beta"], back["k"]), ours)


def test_tensorflow_defaults_match_its_documented_formula():
    x = rand((1, 13, 2, 2), seed=3)  # TF's defaults: depth_radius 5, bias 1, alpha 1, beta 0.5
    p = tf_to_seed(5, 1.0, 1.0, 0.5).params
    ref = np.transpose(tf_documented_lrn(np.transpose(x, (0, 2, 3, 1)), 5, 1.0, 1.0, 0.5), (0, 3, 1, 2))
    np.testing.assert_allclose(local_response_norm(x, p["n"], p["alpha"], p["beta"], p["k"]), ref, rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_intra_channel_matches_a_direct_loop(n):
    x = rand((2, 3, 5, 6), seed=30 + n)
    np.testing.assert_allclose(local_response_norm(x, n, 0.4, 0.75, 1.0, kind="intra"),
                               seed_intra_loop(x, n, 0.4, 0.75, 1.0), rtol=1e-12)


def test_intra_channel_window_is_n_plus_one_squared_and_clipped_at_the_border():
    x = intra_example()
    inner = explain_lrn(x, (0, 0, 2, 2), n=2, alpha=1, beta=1, k=1, kind="intra")
    corner = explain_lrn(x, (0, 0, 0, 0), n=2, alpha=1, beta=1, k=1, kind="intra")
    assert len(inner.neighbours) == 9 and len(corner.neighbours) == 4
    assert {c[2:] for c in corner.neighbours} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    expected = x[0, 0, 2, 2] / (1 + np.sum(x[0, 0, 1:4, 1:4] ** 2))
    assert inner.result == pytest.approx(expected)
    assert local_response_norm(x, 2, 1, 1, 1, kind="intra")[0, 0, 2, 2] == pytest.approx(expected)


@pytest.mark.parametrize("bad", [dict(n=-1), dict(n=1.5), dict(alpha=-1.0), dict(beta=math.nan), dict(k=-0.1)])
def test_bad_lrn_parameters_are_rejected(bad):
    params = dict(n=2, alpha=1.0, beta=0.75, k=1.0) | bad
    with pytest.raises(ValueError):
        local_response_norm(inter_example(), **params)
    with pytest.raises(ValueError):
        LRNParams(**params)


# -- BN ------------------------------------------------------------------------------------
def test_batch_norm_per_channel_matches_batchnorm2d_in_training_mode():
    x = bn_example()
    ref = nn.BatchNorm2d(4, affine=False).double().train()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(batch_norm(x, per="channel"), ref, rtol=1e-10, atol=1e-12)


def test_batch_norm_per_activation_matches_batchnorm1d_on_flattened_features():
    x = bn_example()
    ref = nn.BatchNorm1d(64, affine=False).double().train()(torch.from_numpy(x).flatten(1)).detach().numpy()
    np.testing.assert_allclose(batch_norm(x, per="activation"), ref.reshape(x.shape), rtol=1e-10, atol=1e-12)
    wrapped, message = torch_batch_norm(x, per="activation")
    assert message is None
    np.testing.assert_allclose(wrapped, ref.reshape(x.shape), rtol=1e-12)


@pytest.mark.parametrize("per", ["channel", "activation"])
def test_explained_bn_cell_matches_batchnorm_with_gamma_and_beta(per):
    x = bn_example(seed=4)
    cell = (1, 2, 3, 0)
    terms = explain_bn(x, cell, per=per, gamma=1.7, beta=-0.4)
    if per == "channel":
        layer, inp = nn.BatchNorm2d(4).double(), torch.from_numpy(x)
        index = cell
    else:
        layer, inp = nn.BatchNorm1d(64).double(), torch.from_numpy(x).flatten(1)
        index = (cell[0], cell[1] * 16 + cell[2] * 4 + cell[3])
    with torch.no_grad():
        layer.weight.fill_(1.7)
        layer.bias.fill_(-0.4)
        out = layer.train()(inp)
    assert terms.result == pytest.approx(float(out[index]), rel=1e-10)
    assert len(terms.values) == (48 if per == "channel" else 3)
    assert terms.variance == pytest.approx(np.var(terms.values))


def test_batch_of_one_gets_a_message_not_an_exception():
    x = bn_example()[:1]
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(64, affine=False).train()(torch.from_numpy(x).float().flatten(1))  # what PyTorch does
    out, message = torch_batch_norm(x, per="activation")
    assert out is None and "Expected more than 1 value" in message and "eval mode" in message
    assert np.all(batch_norm(x, per="activation") == 0.0)  # variance 0: every output is 0
    per_channel, note = torch_batch_norm(x, per="channel")  # 16 positions per channel: PyTorch runs
    assert note is None and per_channel.shape == x.shape
    assert "instance" in small_batch_message(1, "channel", positions=16)


def test_batch_of_two_keeps_only_the_sign_per_activation():
    x = bn_example()[:2]
    out = batch_norm(x, per="activation")
    differs = np.abs(x[0] - x[1]) > 0.05
    assert np.all(np.abs(out[:, differs]) > 0.99) and np.all(np.abs(out) <= 1.0)
    np.testing.assert_array_equal(np.sign(out[0][differs]), np.sign((x[0] - x[1])[differs]))
    assert "+1" in small_batch_message(2, "activation")
    assert small_batch_message(32, "activation") is None


def test_running_statistics_match_batchnorm2d_running_buffers():
    x = bn_example(seed=5).repeat(4, axis=0) + rand((12, 4, 4, 4), seed=6, scale=0.5)
    rs = running_statistics(x, batch_size=3, momentum=0.1, seed=2)
    order = np.random.default_rng(2).permutation(len(x))
    bn = nn.BatchNorm2d(4, momentum=0.1, affine=False).double().train()
    for i, start in enumerate(range(0, len(x), 3)):
        bn(torch.from_numpy(x[order[start : start + 3]]))
        np.testing.assert_allclose(rs.mean[i], bn.running_mean.numpy(), rtol=1e-10)
        np.testing.assert_allclose(rs.var[i], bn.running_var.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rs.data_mean, x.mean(axis=(0, 2, 3)))


# -- the CNN and its feature maps ------------------------------------------------------
def test_every_norm_starts_from_the_same_weights():
    ref = make_cnn("none", seed=3)
    for norm in NORMS:
        model = make_cnn(norm, seed=3)
        for name in ("conv1.weight", "conv2.weight", "fc.weight", "fc.bias"):
            assert torch.equal(model.state_dict()[name], ref.state_dict()[name]), (norm, name)
    assert not torch.equal(make_cnn("none", seed=4).conv1.weight, ref.conv1.weight)
    assert isinstance(make_cnn("lrn").norm1, nn.LocalResponseNorm) and make_cnn("lrn").norm1.size == 3


def test_feature_maps_against_scipy_conv_torch_lrn_and_batch_norm():
    split = digits_split()
    fm = feature_maps(7, seed=PAGE_SEED)
    model = make_cnn("none", PAGE_SEED)
    w, b = model.conv1.weight.detach().double().numpy(), model.conv1.bias.detach().double().numpy()
    image = split.x_val[7].reshape(8, 8).astype(float)
    ref = np.stack([correlate2d(image, w[c, 0], mode="same") + b[c] for c in range(w.shape[0])])
    np.testing.assert_allclose(fm.before, ref, atol=1e-10)
    p = seed_to_torch(CNN_LRN.n, CNN_LRN.alpha, CNN_LRN.beta, CNN_LRN.k).params
    lrn_ref = F.local_response_norm(torch.from_numpy(ref)[None], p["size"], p["alpha"], p["beta"], p["k"])[0]
    np.testing.assert_allclose(fm.after_lrn, lrn_ref.numpy(), rtol=1e-10)
    train = np.stack([np.stack([correlate2d(im.reshape(8, 8).astype(float), w[c, 0], mode="same") + b[c]
                                for c in range(w.shape[0])]) for im in split.x_train[:]])
    mean, var = train.mean(axis=(0, 2, 3)), train.var(axis=(0, 2, 3))
    bn_ref = F.batch_norm(torch.from_numpy(ref)[None], torch.from_numpy(mean), torch.from_numpy(var), eps=1e-5)[0]
    np.testing.assert_allclose(fm.after_bn, bn_ref.numpy(), atol=1e-8)
    assert fm.label == split.y_val[7] and fm.image.shape == (8, 8)
    assert np.abs(fm.after_lrn).max() < np.abs(fm.before).max()  # LRN with k = 1 only shrinks


# -- the race ----------------------------------------------------------------------------
def plain(value) -> bool:
    """Only NumPy arrays of numbers, Python numbers, strings, None, and dicts / tuples of them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    if isinstance(value, (tuple, list)):
        return all(plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    return False


@pytest.fixture(scope="module")
def raised_race():
    """The page's seed: one epoch at the default rate, then the rate raised to HIGH_LR to step 130."""
    config = NormRaceConfig(norms=("none", "bn"), lr=DEFAULT_LR, seed=PAGE_SEED)
    trainer = NormRaceTrainer(config, device=CPU)
    trainer.train(trainer.steps_per_epoch)
    first = trainer.snapshot()
    assert trainer.reconfigure(dataclasses.replace(config, lr=HIGH_LR))
    trainer.train(130 - trainer.step)  # a measurement step: the last validation numbers are current
    return trainer, first, trainer.snapshot()


def test_bn_tolerates_the_raised_rate_where_no_normalisation_dies(raised_race):
    _, first, snap = raised_race
    assert first.val_acc["none"][-1] > 0.3 and first.val_acc["bn"][-1] > 0.85  # both learning before the raise
    assert snap.error is None and all(e is None for e in snap.model_errors.values())
    assert snap.val_acc["bn"][-1] >= 0.8
    assert snap.val_acc["none"][-1] <= 0.2  # chance level: ten classes
    assert snap.dead_fraction["none"][-1, 1] > 0.99  # every ReLU after conv 2 outputs 0
    assert snap.dead_fraction["bn"][-1, 1] < 0.9


def test_no_normalisation_learns_at_the_default_rate_so_the_rate_is_what_kills_it():
    trainer = NormRaceTrainer(NormRaceConfig(norms=("none",), epochs=3, seed=PAGE_SEED), device=CPU)
    snap = trainer.train(trainer.max_steps)
    assert snap.done and snap.val_acc["none"][-1] > 0.8


def test_reconfigure_changes_the_rate_without_a_restart(raised_race):
    trainer, first, snap = raised_race
    assert snap.step == 130 and snap.lr == HIGH_LR
    np.testing.assert_array_equal(snap.train_loss["bn"][: first.step], first.train_loss["bn"])  # history kept
    assert all(g["lr"] == HIGH_LR for r in trainer.runners.values() for g in r.optimizer.param_groups)
    assert snap.changes == ((first.step, f"lr {DEFAULT_LR!r} → {HIGH_LR!r}"),)
    assert not trainer.reconfigure(dataclasses.replace(trainer.config, batch_size=64))  # shape of the run: restart


def test_snapshot_is_plain_data_and_matches_independent_measurements(raised_race):
    trainer, first, snap = raised_race
    assert isinstance(snap, NormRaceSnapshot)
    for f in dataclasses.fields(snap):
        assert plain(getattr(snap, f.name)), f.name
    split = digits_split()
    model = trainer.runners["bn"].model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(np.array(split.x_val))).argmax(1).numpy()
    model.train()
    assert snap.val_acc["bn"][-1] == pytest.approx(accuracy_score(split.y_val, pred), abs=1e-6)
    assert snap.eval_steps["bn"][0] == 0 and np.all(np.diff(snap.eval_steps["bn"]) > 0)
    assert snap.layer_mean["bn"].shape == (len(snap.eval_steps["bn"]), len(LAYERS))
    # BN's data statistics against SciPy's correlation with the current conv 1 weights
    w = model.conv1.weight.detach().double().numpy()
    b = model.conv1.bias.detach().double().numpy()
    conv = np.stack([[correlate2d(im.reshape(8, 8), w[c, 0], mode="same") + b[c] for c in range(8)]
                     for im in split.x_train.astype(float)])
    np.testing.assert_allclose(snap.bn_data_mean[-1], conv.mean(axis=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(snap.bn_running_mean[-1], model.norm1.running_mean.numpy(), rtol=1e-6)
    gap = np.abs(first.bn_running_var - first.bn_data_var).mean(axis=1)
    assert gap[-1] < 0.1 * gap[0]  # from variance 1 at the start, the running average caught up with the data


def test_layer_statistics_match_forward_hooks():
    trainer = NormRaceTrainer(NormRaceConfig(norms=("bn", "lrn"), seed=PAGE_SEED), device=CPU)
    snap = trainer.train(20)
    x = torch.from_numpy(np.array(digits_split().x_val)).reshape(-1, 1, 8, 8)
    for norm in ("bn", "lrn"):
        model = trainer.runners[norm].model.eval()
        seen = {}
        hooks = [getattr(model, name).register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, o))
                 for name in ("conv1", "norm1", "conv2", "norm2", "fc")]
        with torch.no_grad():
            model(x)
        for h in hooks:
            h.remove()
        model.train()
        for i, name in enumerate(("conv1", "norm1", "conv2", "norm2", "fc")):
            assert snap.layer_mean[norm][-1, i] == pytest.approx(float(seen[name].mean()), rel=1e-4, abs=1e-6)
            assert snap.layer_std[norm][-1, i] == pytest.approx(float(seen[name].std()), rel=1e-4)


def test_same_seed_same_race_other_seed_other_race():
    def run(seed):
        return NormRaceTrainer(NormRaceConfig(norms=("none", "bn"), seed=seed), device=CPU).train(25)
    a, b, c = run(1), run(1), run(2)
    for norm in ("none", "bn"):
        np.testing.assert_array_equal(a.train_loss[norm], b.train_loss[norm])
        np.testing.assert_array_equal(a.val_acc[norm], b.val_acc[norm])
        assert not np.allclose(a.train_loss[norm], c.train_loss[norm])


def test_a_diverging_model_stops_alone_and_keeps_its_last_good_state():
    config = NormRaceConfig(norms=("none", "bn"), seed=PAGE_SEED)
    trainer = NormRaceTrainer(config, device=CPU)
    trainer.train(trainer.steps_per_epoch)
    trainer.reconfigure(dataclasses.replace(config, lr=10.0))
    snap = trainer.train(40)
    assert snap.model_errors["none"] is None and snap.error is None and not snap.done
    message = snap.model_errors["bn"]
    assert message.startswith("BatchNorm: Training diverged") and "other models go on" in message
    stopped_at = len(snap.train_loss["bn"])
    assert stopped_at < snap.step == len(snap.train_loss["none"]) == trainer.steps_per_epoch + 40
    assert np.all(np.isfinite(snap.train_loss["bn"]))
    model = trainer.runners["bn"].model
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    split = digits_split()
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(np.array(split.x_val))).argmax(1).numpy()
    model.train()
    # the kept model is the one measured last, at the end of its last good chunk
    assert snap.eval_steps["bn"][-1] == stopped_at
    assert snap.val_acc["bn"][-1] == pytest.approx(accuracy_score(split.y_val, pred), abs=1e-6)
    after = trainer.train(10)
    assert after.step == snap.step + 10 and len(after.train_loss["bn"]) == stopped_at  # stopped stays stopped
    assert race_loss_figure(after).data[-1].marker.symbol == "x"


def test_when_every_model_diverges_the_race_stops_with_an_error():
    config = NormRaceConfig(norms=("bn",), seed=PAGE_SEED)
    trainer = NormRaceTrainer(config, device=CPU)
    trainer.train(trainer.steps_per_epoch)
    trainer.reconfigure(dataclasses.replace(config, lr=10.0))
    snap = trainer.train(40)
    assert snap.error is not None and snap.error.startswith("Every model diverged") and snap.done
    assert snap.step == len(snap.train_loss["bn"]) < trainer.steps_per_epoch + 40  # the last good step
    assert trainer.train(10).step == snap.step


def test_the_race_ends_at_its_last_epoch_and_measures_the_last_step():
    trainer = NormRaceTrainer(NormRaceConfig(norms=("group",), epochs=1, batch_size=100), device=CPU)
    snap = trainer.train(1000)
    assert snap.done and snap.step == trainer.steps_per_epoch == 13
    assert list(snap.eval_steps["group"]) == [0, 10, 13]


@pytest.mark.parametrize("bad", [dict(norms=()), dict(norms=("bn", "bn")), dict(norms=("dropout",)),
                                 dict(lr=0.0), dict(lr=math.inf), dict(batch_size=0), dict(epochs=0)])
def test_race_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        NormRaceConfig(**bad)


def test_bn_modes_compares_batch_and_running_statistics_without_touching_the_model(raised_race):
    trainer, _, snap = raised_race
    model = trainer.runners["bn"].model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    big, one = bn_modes(model, 500), bn_modes(model, 1)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert big.eval_mode_accuracy == pytest.approx(snap.val_acc["bn"][-1], abs=1e-6)
    assert abs(big.train_mode_accuracy - big.eval_mode_accuracy) < 0.05  # 500 images: close statistics
    assert one.message is not None and big.message is None
    with pytest.raises(ValueError):
        bn_modes(make_cnn("none"), 8)


# -- figures --------------------------------------------------------------------------------
def test_pair_heatmap_shares_one_colour_scale_and_outlines_the_window():
    x = inter_example()
    after = local_response_norm(x, 2, 1, 1, 0)
    fig = pair_heatmap_figure(x[0, :, 0, :], after[0, :, 0, :], title="Inter-channel LRN",
                              x_title="position (cells)", y_title="channel", selected=(0, 0), window=[(0, 0), (1, 0)])
    assert isinstance(fig, go.Figure) and len(fig.data) == 2
    assert {t.coloraxis for t in fig.data} == {"coloraxis"}
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 2.0)
    assert len(fig.layout.shapes) == 4 and fig.layout.title.text == "Inter-channel LRN"
    assert fig.layout.xaxis.title.text == "position (cells)" and fig.layout.yaxis.title.text == "channel"
    assert shared_range([-3.0, 1.0], [2.0]) == (-3.0, 3.0)


def test_feature_map_figure_puts_before_and_after_on_one_scale():
    fm = feature_maps(0)
    fig = feature_maps_figure(fm.before, fm.after_bn, after_name="after BN")
    lo, hi = fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax
    assert lo == -hi and hi == pytest.approx(max(np.abs(fm.before).max(), np.abs(fm.after_bn).max()))
    assert fig.data[0].z.shape == (17, 8 * 9 - 1)
    assert list(fig.layout.yaxis.ticktext) == ["before", "after BN"]


def test_race_figures_have_one_line_per_model_titles_and_units(raised_race):
    _, _, snap = raised_race
    loss, acc = race_loss_figure(snap), race_accuracy_figure(snap)
    assert trace_names(loss) == ["no normalisation", "BatchNorm"] == trace_names(acc)
    assert loss.layout.yaxis.type == "log" and "nats" in loss.layout.yaxis.title.text
    assert "%" in acc.layout.yaxis.title.text and acc.data[1].y[-1] == pytest.approx(100 * snap.val_acc["bn"][-1])
    assert len(loss.layout.shapes) == 1 and loss.layout.shapes[0].x0 == snap.changes[0][0]
    stats = layer_stats_figure(snap, "norm1")
    assert len(stats.data) == 4 and "after norm 1" in stats.layout.title.text
    assert [t.name for t in stats.data if t.showlegend is not False] == ["no normalisation", "BatchNorm"]
    bn = running_stats_figure(snap.bn_steps, snap.bn_running_mean, snap.bn_data_mean, stat="mean")
    assert len(bn.data) == 8 and "running mean" in bn.layout.title.text
    empty = race_loss_figure(NormRaceTrainer(NormRaceConfig(norms=("lrn",)), device=CPU).snapshot())
    assert any("press Start" in a.text for a in empty.layout.annotations)
