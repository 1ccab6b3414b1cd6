"""core.conv and core.plots.conv against PyTorch: output shapes of nn.Conv2d,
nn.ConvTranspose2d, nn.MaxPool2d and nn.AvgPool2d (and which settings they
refuse), values of F.conv2d / F.conv_transpose2d / F.max_pool2d /
F.avg_pool2d, receptive fields measured by backpropagation through real
stacks, parameter counts of the modules and torch's FLOP counter."""

from __future__ import annotations

import doctest
import io
import itertools
import json
import math
import time
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from core import conv
from core.conv import Geometry, Layer
from core.device import configure_threads
from core.plots import conv as plots

# One torch thread, as app.py sets it: thousands of tiny convolutions ran
# about 5x slower with two threads on the shared 2-core machine.
configure_threads()


def _torch_shape(module: nn.Module, h: int, w: int) -> tuple[int, int] | None:
    """Output (rows, columns) of ``module`` on a 1x1xhxw input, ``None`` if torch refuses.

    An empty output counts as refused: most of torch's kernels raise "Output
    size is too small" for it, but some transposed-convolution kernels
    return an empty tensor instead (kernel 4, padding 2 on one input row
    gives 0 rows, while kernel 1, padding 2 on four rows raises).
    """
    try:
        with torch.no_grad():
            shape = tuple(module(torch.zeros(1, 1, h, w)).shape[2:])
    except (RuntimeError, ValueError):
        return None
    return shape if min(shape) > 0 else None


def _ours(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


def _t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))[None, None]


# -- sizes: the same numbers and the same refusals as PyTorch ------------------------------


def test_conv_sizes_match_nn_conv2d():
    checked = refused = 0
    for k, s, p, d in itertools.product(range(1, 5), range(1, 4), range(4), range(1, 4)):
        module = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        for i in range(1, 9):
            expected = _torch_shape(module, i, 9)
            expected = expected and expected[0]
            assert _ours(conv.conv_output_size, i, k, s, p, d) == expected, (i, k, s, p, d)
            checked += 1
            refused += expected is None
    assert checked == 1152 and 50 < refused < 600


def test_transposed_sizes_match_nn_conv_transpose2d():
    refused_by_output_padding = refused_by_size = 0
    for k, s, p, d, op in itertools.product(range(1, 5), range(1, 4), range(4), range(1, 4), range(3)):
        module = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d, bias=False)
        for i in range(1, 7):
            expected = _torch_shape(module, i, 6)
            expected = expected and expected[0]
            assert _ours(conv.conv_transpose_output_size, i, k, s, p, op, d) == expected, (i, k, s, p, d, op)
            if expected is None:
                refused_by_output_padding += op >= max(s, d)
                refused_by_size += op < max(s, d)
    assert refused_by_output_padding > 100 and refused_by_size > 20


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_sizes_match_nn_max_pool2d_and_avg_pool2d(ceil_mode):
    ceil_changed = 0
    for i, k, s, p, d in itertools.product(range(1, 8), range(1, 5), range(1, 4), range(3), range(1, 4)):
        ours = _ours(conv.pool_output_size, i, k, s, p, d, ceil_mode)
        expected = _torch_shape(nn.MaxPool2d(k, s, p, d, ceil_mode=ceil_mode), i, 8)  # no weights: cheap
        assert ours == (expected and expected[0]), (i, k, s, p, d, ceil_mode)
        if d == 1:
            expected_avg = _torch_shape(nn.AvgPool2d(k, s, p, ceil_mode=ceil_mode), i, 8)
            assert ours == (expected_avg and expected_avg[0]), (i, k, s, p, ceil_mode)
        floor_size = _ours(conv.pool_output_size, i, k, s, p, d, False)
        ceil_changed += ours is not None and ours != floor_size
    assert (ceil_changed > 50) == ceil_mode
    assert conv.pool_output_size(5, 2) == _torch_shape(nn.MaxPool2d(2), 5, 5)[0] == 2  # stride defaults to k


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize(("op", "settings", "module", "phrase"), [
    ("conv", dict(k=0), lambda: nn.Conv2d(1, 1, 0), "kernel size must be at least 1"),
    ("conv", dict(s=0), lambda: nn.Conv2d(1, 1, 3, stride=0), "stride must be at least 1"),
    ("conv", dict(p=-1), lambda: nn.Conv2d(1, 1, 3, padding=-1), "padding cannot be negative"),
    ("conv", dict(d=0), lambda: nn.Conv2d(1, 1, 3, dilation=0), "dilation must be at least 1"),
    ("conv", dict(k=3, d=3), lambda: nn.Conv2d(1, 1, 3, dilation=3), "spans 7 cells"),
    ("conv", dict(i=0), lambda: nn.Conv2d(1, 1, 1), "at least 1 cell"),
    ("transposed", dict(output_padding=-1), lambda: nn.ConvTranspose2d(1, 1, 3, output_padding=-1),
     "cannot be negative"),
    ("transposed", dict(s=2, output_padding=2), lambda: nn.ConvTranspose2d(1, 1, 3, 2, output_padding=2),
     "smaller than the stride (2) or the dilation (1)"),
    ("transposed", dict(k=1, p=3), lambda: nn.ConvTranspose2d(1, 1, 1, padding=3), "padding at most 2"),
    ("transposed", dict(s=0), lambda: nn.ConvTranspose2d(1, 1, 3, stride=0), "stride must be at least 1"),
    ("max_pool", dict(k=3, p=2), lambda: nn.MaxPool2d(3, 1, 2), "at most half the kernel size (3 // 2 = 1)"),
    ("max_pool", dict(k=3, p=2, d=2), lambda: nn.MaxPool2d(3, 1, 2, dilation=2), "at most half the kernel"),
    ("max_pool", dict(k=6, s=6), lambda: nn.MaxPool2d(6), "not even one output cell fits"),
    ("avg_pool", dict(k=0), lambda: nn.AvgPool2d(0, 1), "kernel size must be at least 1"),
    ("avg_pool", dict(k=2, p=-1), lambda: nn.AvgPool2d(2, padding=-1), "padding cannot be negative"),
])
def test_impossible_settings_fail_in_both_with_a_clear_message(op, settings, module, phrase):
    args = {"i": 5, "k": 3, "s": 1, "p": 0, "d": 1} | settings
    i = args.pop("i")
    message = conv.size_problem(op, i, **args)
    assert message and phrase in message, message
    assert message.count(". ") == 0 and message.endswith("."), "one sentence"
    g = Geometry(op, i, 5, args["k"], args["s"], args["p"], args["d"], args.get("output_padding", 0))
    assert g.problem() and phrase in g.problem()
    with pytest.raises(ValueError, match="."):
        conv.output_size(op, i, **args)
    with pytest.raises((RuntimeError, ValueError)):
        module()(torch.zeros(1, 1, i, 5))


def test_transposed_output_padding_may_reach_the_stride_when_below_the_dilation():
    # PyTorch's rule is "smaller than the stride OR the dilation"
    assert conv.conv_transpose_output_size(5, 3, s=1, p=0, output_padding=1, d=2) == 10
    assert _torch_shape(nn.ConvTranspose2d(1, 1, 3, 1, output_padding=1, dilation=2), 5, 5) == (10, 10)


def test_non_square_inputs_match_torch_and_report_the_failing_axis():
    for op, module in (("conv", nn.Conv2d(1, 1, 3, 2, 1)), ("transposed", nn.ConvTranspose2d(1, 1, 3, 2, 1, 1)),
                       ("max_pool", nn.MaxPool2d(3, 2, 1, ceil_mode=True))):
        g = Geometry(op, 4, 9, 3, 2, 1, 1, 1 if op == "transposed" else 0, ceil_mode=True)
        assert g.output_shape == _torch_shape(module, 4, 9)
    wide = Geometry("conv", 7, 2, k=3)
    assert "input width" in wide.problem() and _torch_shape(nn.Conv2d(1, 1, 3), 7, 2) is None
    assert "dilation" in Geometry("avg_pool", 5, 5, k=2, s=2, d=2).problem()


def test_same_padding_keeps_the_size_like_pytorch():
    rng = np.random.default_rng(0)
    for k, d in itertools.product((1, 3, 5, 7), (1, 2, 3)):
        module = nn.Conv2d(1, 1, k, padding="same", dilation=d, bias=False)
        x = torch.as_tensor(rng.integers(-3, 4, (1, 1, 9, 8)), dtype=torch.float32)
        ours = F.conv2d(x, module.weight, padding=conv.same_padding(k, d), dilation=d)
        assert ours.shape == x.shape
        torch.testing.assert_close(ours, module(x))
    with pytest.raises(ValueError, match="stride 1"):
        conv.same_padding(3, s=2)
    with pytest.raises(ValueError, match="uneven"):
        conv.same_padding(4)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")


# -- the formula, written out --------------------------------------------------------------


def test_formula_numbers_are_the_size_and_show_the_floor():
    inexact = 0
    for i, k, s, p, d in itertools.product(range(1, 10), range(1, 5), range(1, 4), range(3), range(1, 3)):
        f = conv.formula("conv", i, k, s, p, d)
        size = _ours(conv.conv_output_size, i, k, s, p, d)
        if size is None:
            assert f.error and (f.result is None or f.result < 1)
            continue
        assert f.error is None and f.result == size
        assert f.numerator == i + 2 * p - d * (k - 1) - 1 and f.denominator == s
        assert f.quotient == pytest.approx(f.numerator / s) and f.floored == math.floor(f.quotient)
        assert f.exact == (f.numerator % s == 0)
        assert math.floor((i + 2 * p - (d * (k - 1) + 1) + s) / s) == size  # the seed's form
        assert f"= {size}" in f.seed_substituted and str(i) in f.substituted
        if not f.exact:
            inexact += 1
            assert "floor(" in f.seed_substituted and f"{f.quotient + 1:g}" in f.seed_substituted
        # the cells the floor drops are the output_padding that gives i back
        assert conv.conv_transpose_output_size(size, k, s, p, f.unread, d) == i
    assert inexact > 100


def test_formula_for_transposed_and_ceil_pooling_and_bad_settings():
    f = conv.formula("transposed", 3, 3, s=2, p=1, output_padding=1)
    assert f.result == conv.conv_transpose_output_size(3, 3, 2, 1, 1) == 6 and f.rounding == "none"
    assert "= 6" in f.substituted and "= 6" in f.seed_substituted
    up = conv.formula("max_pool", 5, 2, s=2, ceil_mode=True)
    assert up.result == _torch_shape(nn.MaxPool2d(2, ceil_mode=True), 5, 5)[0] == 3 and up.rounding == "ceil"
    dropped = conv.formula("max_pool", 5, 2, s=2, p=1, ceil_mode=True)  # torch drops a window in the padding
    assert dropped.result == _torch_shape(nn.MaxPool2d(2, 2, 1, ceil_mode=True), 5, 5)[0] == 3 and dropped.note
    assert not conv.formula("max_pool", 6, 3, s=2, p=1, ceil_mode=True).note
    assert conv.formula("conv", 5, 3, s=0).error.startswith("The stride")
    negative = conv.formula("conv", 3, 5)
    assert negative.result < 1 and "not even one output cell" in negative.error
    assert conv.formula("conv", 5, 2.5).error and conv.formula("conv", 5, True).error


# -- numeric mode ----------------------------------------------------------------------------


def _random_settings(rng, op):
    while True:
        h, w, k = int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 5))
        s, p, d = int(rng.integers(1, 4)), int(rng.integers(0, 3)), int(rng.integers(1, 3))
        d = 1 if op == "avg_pool" else d
        out_pad = int(rng.integers(0, max(s, d))) if op == "transposed" else 0
        g = Geometry(op, h, w, k, s, p, d, out_pad, ceil_mode=bool(rng.integers(0, 2)))
        if g.problem() is None:
            return g


def _torch_apply(g: Geometry, x, w) -> np.ndarray:
    if g.op == "conv":
        out = F.conv2d(_t(x), _t(w), stride=g.s, padding=g.p, dilation=g.d)
    elif g.op == "transposed":
        out = F.conv_transpose2d(_t(x), _t(w), stride=g.s, padding=g.p, output_padding=g.output_padding,
                                 dilation=g.d)
    elif g.op == "max_pool":
        out = F.max_pool2d(_t(x), g.k, g.s, g.p, g.d, ceil_mode=g.ceil_mode)
    else:
        out = F.avg_pool2d(_t(x), g.k, g.s, g.p, ceil_mode=g.ceil_mode)
    return out[0, 0].numpy()


@pytest.mark.parametrize("op", conv.OPS)
def test_numeric_mode_equals_torch(op):
    rng = np.random.default_rng(1)
    for _ in range(150):
        g = _random_settings(rng, op)
        x = rng.integers(-5, 6, (g.h, g.w))
        w = rng.integers(-3, 4, (g.k, g.k))
        expected = _torch_apply(g, x, w)
        ours = conv.apply(g, x, w)
        assert ours.shape == expected.shape == g.output_shape, g
        np.testing.assert_allclose(ours, expected, atol=1e-12, err_msg=str(g))


def test_avg_pool_without_padding_in_the_mean_equals_torch():
    rng = np.random.default_rng(2)
    for _ in range(100):
        g = _random_settings(rng, "avg_pool")
        x = rng.integers(-5, 6, (g.h, g.w))
        expected = F.avg_pool2d(_t(x), g.k, g.s, g.p, ceil_mode=g.ceil_mode, count_include_pad=False)[0, 0]
        np.testing.assert_allclose(conv.avg_pool2d(x, g.k, g.s, g.p, g.ceil_mode, count_include_pad=False),
                                   expected.numpy(), atol=1e-12)


def test_both_views_of_the_transposed_convolution_equal_torch():
    rng = np.random.default_rng(3)
    for _ in range(200):
        g = _random_settings(rng, "transposed")
        x, w = rng.integers(-5, 6, (g.h, g.w)), rng.integers(-3, 4, (g.k, g.k))
        expected = _torch_apply(g, x, w)
        scatter = conv.conv_transpose2d_scatter(x, w, g.s, g.p, g.output_padding, g.d)
        inserted = conv.conv_transpose2d_zero_insertion(x, w, g.s, g.p, g.output_padding, g.d)
        np.testing.assert_array_equal(scatter, expected, err_msg=str(g))
        np.testing.assert_array_equal(inserted, expected, err_msg=str(g))


def test_numeric_functions_refuse_bad_input_in_words():
    with pytest.raises(ValueError, match="2-D"):
        conv.conv2d([1, 2, 3], [[1]])
    with pytest.raises(ValueError, match="numbers"):
        conv.conv2d([["a"]], [[1]])
    with pytest.raises(ValueError, match="kernel spans 3 cells"):
        conv.conv2d(np.ones((2, 2)), np.ones((3, 3)))


def test_overlap_counts_equal_torch_and_show_the_checkerboard():
    for k, s, p in itertools.product(range(1, 6), range(1, 4), range(2)):
        counts = conv.overlap_counts(16, 16, k, s, p)
        expected = F.conv_transpose2d(torch.ones(1, 1, 16, 16), torch.ones(1, 1, k, k), stride=s, padding=p)[0, 0]
        np.testing.assert_array_equal(counts, expected.numpy().astype(int))
        interior = counts[k + 1: -k - 1, k + 1: -k - 1]  # away from the border, where fewer copies reach
        assert interior.shape[0] >= 2 * s
        assert (np.ptp(interior) == 0) == (k % s == 0), (k, s, interior)
    assert conv.overlap_counts(4, 4, 3, s=2)[2:5, 2:5].tolist() == [[4, 2, 4], [2, 1, 2], [4, 2, 4]]


@pytest.mark.parametrize("op", conv.OPS)
def test_breakdown_terms_make_each_output_cell(op):
    rng = np.random.default_rng(4)
    for _ in range(25):
        g = _random_settings(rng, op)
        x, w = rng.integers(-5, 6, (g.h, g.w)), rng.integers(-3, 4, (g.k, g.k))
        expected = _torch_apply(g, x, w)
        for cell in itertools.product(range(expected.shape[0]), range(expected.shape[1])):
            b = conv.breakdown(g, x, w, cell)
            assert b.result == pytest.approx(expected[cell]), (g, cell)
            for term in b.terms:
                if term.input_cell is not None:
                    assert term.value == x[term.input_cell]
                if term.weight is not None:
                    assert term.weight == w[term.kernel_cell] and term.product == term.value * term.weight
            if op == "conv":
                assert len(b.terms) == g.k ** 2
            if op == "avg_pool":
                assert b.divisor == len(b.terms)
    with pytest.raises(ValueError, match="outside"):
        conv.breakdown(Geometry("conv", 4, 4, 3), np.ones((4, 4)), np.ones((3, 3)), (2, 0))


# -- animation frames --------------------------------------------------------------------------


def _replay(anim: conv.Animation) -> np.ndarray:
    """Rebuild the output from the frames alone: read cells x kernel taps (or pooled)."""
    a = anim.to_dict()
    src = np.asarray(a["source_values"], dtype=float)
    roles = np.asarray(a["source_roles"])
    taps = np.asarray(a["taps"])
    kernel = None if a["kernel_values"] is None else np.asarray(a["kernel_values"], dtype=float)
    out = np.zeros(a["target_shape"])
    for frame in a["frames"]:
        read, write = np.asarray(frame["read"]), np.asarray(frame["write"])
        values, role = src[read[:, 0], read[:, 1]], roles[read[:, 0], read[:, 1]]
        if a["view"] == "scatter":
            out[write[:, 0], write[:, 1]] += values[0] * kernel[taps[:, 0], taps[:, 1]]
        elif a["op"] in ("conv", "transposed"):
            out[tuple(write[0])] = values @ kernel[taps[:, 0], taps[:, 1]]
        elif a["op"] == "max_pool":
            out[tuple(write[0])] = values[role == conv.INPUT].max(initial=-np.inf)  # no input cell: -inf
        else:
            kept = role != conv.BEYOND
            out[tuple(write[0])] = values[kept].sum() / kept.sum()
    (r0, c0), (h, w) = a["output_origin"], a["output_shape"]
    return out[r0: r0 + h, c0: c0 + w]


@pytest.mark.parametrize(("op", "view"), [("conv", "sweep"), ("transposed", "sweep"), ("transposed", "scatter"),
                                          ("max_pool", "sweep"), ("avg_pool", "sweep")])
def test_frames_reproduce_torch(op, view):
    rng = np.random.default_rng(5)
    for _ in range(60):
        g = _random_settings(rng, op)
        x, w = rng.integers(-5, 6, (g.h, g.w)), rng.integers(-3, 4, (g.k, g.k))
        anim = conv.animation(g, view, x, w if op in ("conv", "transposed") else None)
        assert len(anim.frames) == (g.h * g.w if view == "scatter" else math.prod(g.output_shape))
        np.testing.assert_allclose(_replay(anim), _torch_apply(g, x, w), atol=1e-9, err_msg=f"{g} {view}")
        roles, index = np.asarray(anim.source_roles), np.asarray(anim.source_index)
        assert (roles == conv.INPUT).sum() == g.h * g.w or op == "transposed" and g.p > g.d * (g.k - 1)
        src = np.asarray(anim.source_values)
        np.testing.assert_array_equal(src[roles == conv.INPUT], x.ravel()[index[roles == conv.INPUT]])


def test_sweep_frames_read_the_dilated_footprint_in_order():
    anim = conv.animation(Geometry("conv", 5, 5, k=2, s=2, p=1, d=2))
    assert anim.source_shape == [7, 7] and anim.output_shape == [3, 3] == list(
        _torch_shape(nn.Conv2d(1, 1, 2, 2, 1, 2), 5, 5))
    assert anim.frames[1] == {"read": [[0, 2], [0, 4], [2, 2], [2, 4]], "write": [[0, 1]]}
    assert anim.frames[8]["read"][-1] == [6, 6]  # the last tap reaches the last padding cell
    assert [f["write"][0] for f in anim.frames] == [[r, c] for r in range(3) for c in range(3)]
    assert np.asarray(anim.source_roles)[0].tolist() == [conv.PAD] * 7
    inserted = conv.animation(Geometry("transposed", 2, 2, k=3, s=3))
    assert np.asarray(inserted.source_roles)[2].tolist() == [2, 2, 0, 1, 1, 0, 2, 2]
    with pytest.raises(ValueError, match="scatter"):
        conv.animation(Geometry("conv"), "scatter")


def test_animation_is_plain_json():
    g = Geometry("transposed", 4, 3, k=3, s=2, p=1, output_padding=1)
    x, w = np.arange(12).reshape(4, 3), np.eye(3, dtype=np.int64)
    expected = _torch_apply(g, x, w).astype(int)
    for view in ("sweep", "scatter"):
        data = conv.animation(g, view, x, w).to_dict()
        assert json.loads(json.dumps(data)) == data  # json.dumps refuses np.int64
        assert _only_plain(data)
        (r0, c0), (h, w_out) = data["output_origin"], data["output_shape"]
        target = np.asarray(data["target_values"])[r0: r0 + h, c0: c0 + w_out]
        np.testing.assert_array_equal(target, expected)


def _only_plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _only_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_only_plain(v) for v in value)
    return value is None or type(value) in (int, float, str, bool)


# -- the layer stack -------------------------------------------------------------------------


def _measurement_module(layer: Layer) -> nn.Module:
    """One channel, weights 1, no bias; pooling measured through a module with
    the same connectivity that passes gradient to every cell it reads."""
    if layer.kind == "transposed":
        m = nn.ConvTranspose2d(1, 1, layer.k, layer.s, layer.p, layer.output_padding, bias=False, dilation=layer.d)
    elif layer.kind == "avg_pool" or (layer.kind == "max_pool" and layer.d == 1):
        return nn.AvgPool2d(layer.k, layer.s, layer.p, ceil_mode=layer.ceil_mode)
    else:
        m = nn.Conv2d(1, 1, layer.k, layer.s, layer.p, layer.d, bias=False)
    nn.init.ones_(m.weight)
    return m.double()


def _measured_fields(layers: list[Layer], period: int, n: int = 160) -> dict[int, tuple[int, int]]:
    """First input row and row span of the nonzero input gradient of central
    output units (units that reach no input cell are left out)."""
    stack = nn.Sequential(*[_measurement_module(layer) for layer in layers])
    x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = stack(x)
    mid, fields = y.shape[2] // 2, {}
    for unit in range(mid, mid + 2 * period + 1):
        (grad,) = torch.autograd.grad(y[0, 0, unit, unit], x, retain_graph=True)
        rows = torch.nonzero(grad[0, 0].abs().sum(dim=1)).ravel()
        if rows.numel():
            assert rows.min() > 0 and rows.max() < n - 1, "measurement clipped by the input border"
            fields[unit] = int(rows.min()), int(rows.max() - rows.min() + 1)
    return fields


STACKS = [
    [Layer("conv", 3), Layer("conv", 3), Layer("max_pool", 2, 2), Layer("conv", 3, d=2), Layer("conv", 5, 2, 2)],
    [Layer("conv", 7, 2, 3), Layer("max_pool", 3, 2, 1), Layer("conv", 3, p=1), Layer("conv", 3, p=1)],
    [Layer("conv", 3, 2, 1), Layer("transposed", 4, 2, 1), Layer("conv", 3)],
    [Layer("transposed", 3, 2), Layer("transposed", 3, 2, 1, output_padding=1), Layer("conv", 2, d=3)],
    [Layer("max_pool", 3, 2, 1, d=2), Layer("conv", 1), Layer("avg_pool", 3, 1, 1, ceil_mode=True)],
    [Layer("transposed", 2, 2, d=2), Layer("conv", 3, 3, d=2)],
]


@pytest.mark.parametrize("stack", STACKS)
def test_receptive_field_equals_gradient_measurement(stack):
    report = conv.receptive_field(stack, input_size=160)
    assert report.error is None and len(report.rows) == len(stack) + 1
    for depth in range(1, len(stack) + 1):
        period = math.prod(layer.s for layer in stack[:depth] if layer.kind == "transposed")
        fields = _measured_fields(stack[:depth], period)
        row = report.rows[depth]
        assert row.receptive_field == max(width for _, width in fields.values()), (depth, row, fields)
        # moving `period` output cells on moves the field `period x jump` input cells on
        pairs = [(u, u + period) for u in fields if u + period in fields]
        assert pairs
        for u, v in pairs:
            assert fields[v][0] - fields[u][0] == period * row.jump, (depth, fields, row.jump)


def test_stack_shapes_params_and_multiply_adds_equal_torch():
    stack = [Layer("conv", 3, 1, 1, channels=8), Layer("max_pool", 2, 2), Layer("conv", 3, 2, 1, 2, channels=16),
             Layer("transposed", 4, 2, 1, channels=4), Layer("avg_pool", 3, 1, 1, ceil_mode=True),
             Layer("transposed", 3, 2, 1, output_padding=1, channels=2, bias=False)]
    report = conv.receptive_field(stack, input_size=(20, 28), in_channels=3)
    x = torch.zeros(1, 3, 20, 28)
    channels = 3
    for layer, row in zip(stack, report.rows[1:], strict=True):
        if layer.kind == "conv":
            module = nn.Conv2d(channels, layer.channels, layer.k, layer.s, layer.p, layer.d, bias=layer.bias)
        elif layer.kind == "transposed":
            module = nn.ConvTranspose2d(channels, layer.channels, layer.k, layer.s, layer.p, layer.output_padding,
                                        bias=layer.bias, dilation=layer.d)
        elif layer.kind == "max_pool":
            module = nn.MaxPool2d(layer.k, layer.s, layer.p, layer.d, ceil_mode=layer.ceil_mode)
        else:
            module = nn.AvgPool2d(layer.k, layer.s, layer.p, ceil_mode=layer.ceil_mode)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            x = module(x)
        assert row.shape == tuple(x.shape[1:]), row
        assert row.params == sum(p.numel() for p in module.parameters())
        assert 2 * row.macs == counter.get_total_flops(), (row, counter.get_total_flops())
        channels = x.shape[1]
    assert report.rows[1].macs > 0 and report.rows[2].macs == 0


def test_the_first_impossible_layer_is_named_where_torch_fails():
    stack = [Layer("conv", 3, channels=4), Layer("max_pool", 2, 2), Layer("conv", 5), Layer("conv", 1)]
    report = conv.receptive_field(stack, input_size=8)
    assert report.error_layer == 3 and len(report.rows) == 3 and "Layer 3 (convolution" in report.error
    assert "spans 5 cells" in report.error
    x = torch.zeros(1, 1, 8, 8)
    modules = [nn.Conv2d(1, 4, 3), nn.MaxPool2d(2, 2), nn.Conv2d(4, 8, 5)]
    x = modules[1](modules[0](x))
    with pytest.raises(RuntimeError):
        modules[2](x)
    bad = conv.receptive_field([Layer("transposed", 3, 2, output_padding=2)], 4)
    assert bad.error_layer == 1 and "output padding" in bad.error
    assert conv.receptive_field([{"kind": "pool"}], 4).error_layer == 1
    assert "channels" in conv.receptive_field([Layer("conv", channels=0)], 4).error
    unknown = conv.receptive_field([{"kind": "conv", "size": 3}], 4)
    assert unknown.error_layer == 1 and "Unknown setting(s) size" in unknown.error
    assert conv.receptive_field([Layer()], 4, in_channels=0).error_layer == 0


# -- GIF -----------------------------------------------------------------------------------


def _rgb(img: Image.Image, box) -> tuple[int, int, int]:
    """Colour of a cell, sampled inside its top-left corner (clear of numbers and outlines)."""
    return img.convert("RGB").getpixel((box[0] + 4, box[1] + 4))


@pytest.mark.parametrize(("geometry", "view"), [
    (Geometry("conv", 7, 7, k=3, s=2, p=1), "sweep"),
    (Geometry("transposed", 3, 3, k=3, s=2, p=1, output_padding=1), "scatter"),
    (Geometry("max_pool", 5, 5, k=2, s=2, ceil_mode=True), "sweep"),
])
def test_gif_decodes_with_one_frame_per_step_and_highlights_the_cells(geometry, view):
    x = np.arange(geometry.h * geometry.w).reshape(geometry.h, geometry.w) % 7
    anim = conv.animation(geometry, view, x, np.ones((3, 3), int) if geometry.op != "max_pool" else None)
    start = time.perf_counter()
    data = conv.animation_gif(anim)
    assert time.perf_counter() - start < 2.0
    gif = Image.open(io.BytesIO(data))
    lay = conv.gif_layout(anim)
    assert gif.format == "GIF" and gif.n_frames == len(anim.frames) and gif.size == lay.size
    written_colour, read_colour = conv._COLOURS["written"], conv._COLOURS["read"]
    for t in (0, len(anim.frames) // 2, len(anim.frames) - 1):
        gif.seek(t)
        frame = anim.frames[t]
        for r, c in frame["write"]:
            assert _rgb(gif, lay.target_box(r, c)) == written_colour
        for r, c in frame["read"]:
            assert _rgb(gif, lay.source_box(r, c)) == read_colour
        if view == "sweep" and t == 0:  # the last output cell is not written yet
            last = lay.target_box(anim.output_shape[0] - 1, anim.output_shape[1] - 1)
            assert _rgb(gif, last) == conv._COLOURS["background"]


# -- figures and the docstring examples ------------------------------------------------------


def test_figures_have_titles_units_and_the_frame_highlights():
    anim = conv.animation(Geometry("conv", 5, 5, k=3, s=2, p=1, d=1), "sweep", np.ones((5, 5), int),
                          np.ones((3, 3), int))
    fig = plots.frame_figure(anim.to_dict(), 2)
    assert "frame 3 of 9" in fig.layout.title.text and len(fig.data) == 2
    assert "(cells)" in fig.layout.xaxis.title.text and "output" in fig.layout.xaxis2.title.text
    assert len(fig.layout.shapes) == 9 + 1 + 1  # read cells, the footprint, the written cell
    assert np.asarray(fig.data[1].z)[0].tolist() == [1, 1, 2]
    with pytest.raises(ValueError, match="frames 0 to 8"):
        plots.frame_figure(anim, 9)
    shown = np.asarray(fig.data[1].text)  # the values of the cells written so far, no others
    expected = _torch_apply(Geometry("conv", 5, 5, 3, 2, 1), np.ones((5, 5)), np.ones((3, 3))).astype(int)
    assert shown[0].tolist() == expected[0].astype(str).tolist() == ["4", "6", "4"]
    assert shown[1:].tolist() == [["", "", ""]] * 2
    scatter = conv.animation(Geometry("transposed", 2, 2, k=3, s=2, p=1), "scatter")
    late = plots.frame_figure(scatter, 3)
    state = np.asarray(late.data[1].z)
    assert state[0, 0] == plots.CROPPED and state[1, 1] == plots.DONE and state[3, 3] == plots.NOW
    assert len(late.layout.shapes) == 1 + 9  # the input cell read, the kernel copy written
    counts = conv.overlap_counts(3, 3, 3, 2)
    over = plots.overlap_figure(counts, kernel=3, stride=2)
    assert "checkerboard" in over.layout.title.text and np.array_equal(np.asarray(over.data[0].z), counts)
    assert "(cells)" in over.layout.yaxis.title.text
    figs = plots.numeric_figures(np.ones((4, 4)), np.ones((2, 2)), np.ones((3, 3)), op_name="convolution",
                                 read=[[0, 0], [0, 1]], selected=(0, 0))
    assert set(figs) == {"input", "kernel", "output"} and len(figs["input"].layout.shapes) == 2
    assert all(f.layout.title.text and "(cells)" in f.layout.xaxis.title.text for f in figs.values())
    assert "kernel" not in plots.numeric_figures(np.ones((4, 4)), None, np.ones((2, 2)), op_name="max pooling")


@pytest.mark.parametrize("k, s, d", [(3, 2, 1), (4, 2, 1), (2, 2, 2), (4, 2, 2), (3, 3, 2), (4, 4, 3), (3, 2, 3)])
def test_the_overlap_figure_title_states_the_settings_drawn_and_the_verdict_of_the_counts(k, s, d):
    # independent: PyTorch's transposed convolution of ones, away from the border (every copy that can reach)
    ones = F.conv_transpose1d(torch.ones(1, 1, 16), torch.ones(1, 1, k), stride=s, dilation=d)[0, 0]
    span = d * (k - 1) + 1
    even = len(set(ones[span:-span].tolist())) == 1
    counts = conv.overlap_counts(5, 5, k, s, 0, 0, d)
    title = plots.overlap_figure(counts, kernel=k, stride=s, dilation=d).layout.title.text
    assert ("even overlap away from the border" in title) == even
    assert ("uneven overlap (checkerboard)" in title) == (not even)
    assert f"kernel {k}" in title and f"stride {s}" in title
    if d == 1:  # the rule with dilation 1: the kernel size a multiple of the stride
        assert (f"kernel {k} is a multiple of stride {s}" in title) == even == (k % s == 0)
    else:  # with dilation that rule does not decide: the title says the dilation and never claims it
        assert f"dilation {d}" in title and "multiple" not in title
    assert conv.even_overlap(k, s, d) == even


def test_docstring_examples():
    result = doctest.testmod(conv)
    assert result.attempted >= 10 and result.failed == 0


def test_jump_is_a_fraction_after_transposed_layers():
    report = conv.receptive_field([Layer("transposed", 4, 2, 1), Layer("transposed", 4, 2, 1)], 8)
    assert [r.jump for r in report.rows] == [1, Fraction(1, 2), Fraction(1, 4)]
    assert [r.shape[1] for r in report.rows] == [8, 16, 32]
