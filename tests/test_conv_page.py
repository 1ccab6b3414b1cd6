"""The convolution-arithmetic page in AppTest: the widgets change the size, the formula and
what the page sends to the in-browser player; links set the controls; impossible settings
are explained; numeric mode and the layer table agree with PyTorch; fuzzing breaks nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core import conv
from core.device import configure_threads
from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from ui.conv_views import ANIM_KEY, GUIDE_INPUT, GUIDE_KERNEL, MASTER_INPUT
from ui.convanim import frames_of, sent_animation
from ui.livechart import plain

configure_threads()
PAGE = "pages/conv.py"


def _payload(at) -> dict:
    data = sent_animation(at, ANIM_KEY)
    assert data, "the page sent nothing to the player"
    return data


def _codes(at) -> str:
    return "\n".join(c.value for c in at.code)


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))[None, None]


def _torch_shape(module: nn.Module, h: int, w: int) -> tuple[int, int]:
    with torch.no_grad():
        return tuple(module(torch.zeros(1, 1, h, w)).shape[2:])


def test_defaults_show_the_size_the_formula_and_send_the_whole_animation():
    at = open_page(PAGE)
    assert not problems(at)
    assert at.title[0].value.endswith("Convolution arithmetic")
    # Dumoulin & Visin's padding-and-strides example: 5x5, kernel 3, stride 2, padding 1 -> 3x3
    assert _torch_shape(nn.Conv2d(1, 1, 3, stride=2, padding=1), 5, 5) == (3, 3)
    assert "Output size: 3 × 3" in _markdown(at)
    assert "o = floor((5 + 2×1 - 1×(3 - 1) - 1) / 2) + 1 = floor(4 / 2) + 1 = 2 + 1 = 3" in _codes(at)
    assert "o = floor((5 + 2×1 - 3 + 2) / 2) = floor(6 / 2) = 3" in _codes(at)  # the seed's form
    data = _payload(at)
    anim = data["anim"]
    assert data["problem"] is None and data["numbers"] is False
    assert anim["n_frames"] == 9 and anim["source_shape"] == [7, 7] and anim["target_shape"] == [3, 3]
    assert anim["source_values"] is None  # no numbers until asked for
    # the frames the browser plays are exactly core's frames, read and written cells alike
    core_frames = conv.animation(conv.Geometry("conv", 5, 5, 3, 2, 1)).frames
    assert frames_of(data, "read") == [f["read"] for f in core_frames]
    assert frames_of(data, "write") == [f["write"] for f in core_frames]
    assert data["src"].startswith("/app/static/convanim.js?v=")


def test_widgets_change_the_size_the_formula_and_the_animation():
    at = open_page(PAGE)
    first = _payload(at)["sig"]
    at.number_input(key="conv:stack_h").set_value(64).run()  # another widget: the same animation, so the
    assert _payload(at)["sig"] == first  # browser keeps playing where it was instead of starting again
    at.slider(key="conv:width").set_value(6).run()
    assert not problems(at)
    assert "Output size: 3 × 3" in _markdown(at)  # floor(5 / 2) + 1 = 3: the floor is visible
    assert ("o = floor((6 + 2×1 - 1×(3 - 1) - 1) / 2) + 1 = floor(5 / 2) + 1 = floor(2.5) + 1 = 2 + 1 = 3"
            in _codes(at))
    assert "The division is not exact: 5 / 2 = 2.5; the floor keeps 2. The last 1 cell of the padded input " \
           "is never read" in _markdown(at)
    data = _payload(at)
    assert data["sig"] != first
    assert data["anim"]["source_shape"] == [7, 8] and data["anim"]["target_shape"] == [3, 3]

    at.slider(key="conv:kernel").set_value(5).run()
    shape = _torch_shape(nn.Conv2d(1, 1, 5, stride=2, padding=1), 5, 6)
    assert f"Output size: {shape[0]} × {shape[1]}" in _markdown(at)
    assert _payload(at)["anim"]["target_shape"] == list(shape)

    at.slider(key="conv:dilation").set_value(2).run()  # span 9 > 5 + 2: impossible, explained
    assert not problems(at)
    assert any("The kernel spans 9 cells (dilation 2 × (kernel 5 - 1) + 1) but the padded input height is only "
               "7 cells" in w.value for w in at.warning)


def test_transposed_convolution_both_views_and_output_padding():
    at = open_page(PAGE)
    at.selectbox(key="conv:operation").set_value("transposed").run()
    assert not problems(at)
    expected = _torch_shape(nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1), 5, 5)
    assert f"Output size: {expected[0]} × {expected[1]}" in _markdown(at)
    data = _payload(at)
    assert data["anim"]["view"] == "sweep" and "zeros inserted" in data["anim"]["title"]
    assert data["anim"]["source_shape"] == [11, 11] and data["anim"]["target_shape"] == list(expected)

    at.slider(key="conv:output_padding").set_value(1).run()
    expected = _torch_shape(nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1), 5, 5)
    assert expected == (10, 10)
    assert "Output size: 10 × 10" in _markdown(at)
    # the convolution maps both 9 and 10 back to 5: output_padding picks one
    assert all(_torch_shape(nn.Conv2d(1, 1, 3, stride=2, padding=1), n, n) == (5, 5) for n in (9, 10))
    assert "maps input sizes 9, 10 all to 5" in _markdown(at)
    assert "output_padding 0 gives 9, output_padding 1 gives 10" in _markdown(at)
    # the seed note's first transposed form counts one cell too many
    assert "gives 11 here, 1 more than PyTorch's 10" in " ".join(c.value for c in at.caption)

    at.radio(key="conv:view").set_value("scatter").run()
    data = _payload(at)
    assert data["anim"]["view"] == "scatter" and data["anim"]["n_frames"] == 25
    assert data["anim"]["target_shape"] == [12, 12] and data["anim"]["output_origin"] == [1, 1]

    at.slider(key="conv:stride").set_value(1).run()  # output_padding 1 is not below stride 1 or dilation 1
    assert not problems(at)
    assert any("The output padding must be smaller than the stride (1) or the dilation (1); got 1." in w.value
               for w in at.warning)
    assert _payload(at)["problem"] and _payload(at)["anim"] is None


def test_a_link_sets_the_controls():
    at = open_page(PAGE, {"op": "max_pool", "h": "7", "w": "4", "kernel": "2", "stride": "2", "padding": "1",
                          "dilation": "2", "ceil": "1", "numbers": "1"})
    assert not problems(at)
    assert at.selectbox(key="conv:operation").value == "max_pool"
    assert (at.slider(key="conv:height").value, at.slider(key="conv:width").value) == (7, 4)
    assert at.slider(key="conv:dilation").value == 2 and at.checkbox(key="conv:ceil_mode").value is True
    assert at.toggle(key="conv:numbers").value is True
    shape = _torch_shape(nn.MaxPool2d(2, stride=2, padding=1, dilation=2, ceil_mode=True), 7, 4)
    assert f"Output size: {shape[0]} × {shape[1]}" in _markdown(at)
    data = _payload(at)
    assert data["numbers"] is True and data["anim"]["target_shape"] == list(shape)
    expected = F.max_pool2d(_t(MASTER_INPUT[:7, :4]), 2, stride=2, padding=1, dilation=2, ceil_mode=True)[0, 0]
    np.testing.assert_array_equal(np.asarray(data["anim"]["target_values"], dtype=float), expected.numpy())


def _link(at) -> dict[str, str]:
    out = {}
    for k in at.query_params:
        v = at.query_params[k]
        out[k] = v[-1] if isinstance(v, list) else v
    return out


# Links from before the parameter table (conv_views' hand-made UrlState calls) and the same settings under
# today's names: op -> operation, h -> height, w -> width, ceil -> ceil_mode; the other codes were already words.
OLD_LINKS = [
    ({"op": "transposed", "h": "7", "w": "4", "kernel": "4", "stride": "3", "padding": "2", "dilation": "2",
      "output_padding": "1", "view": "scatter", "numbers": "1"},
     {"operation": "transposed", "height": "7", "width": "4", "kernel": "4", "stride": "3", "padding": "2",
      "dilation": "2", "output_padding": "1", "view": "scatter", "numbers": "1"},
     {"conv:operation": "transposed", "conv:height": 7, "conv:width": 4, "conv:kernel": 4, "conv:stride": 3,
      "conv:padding": 2, "conv:dilation": 2, "conv:output_padding": 1, "conv:view": "scatter", "conv:numbers": True}),
    ({"op": "max_pool", "h": "9", "w": "6", "kernel": "2", "stride": "3", "padding": "0", "ceil": "1"},
     {"operation": "max_pool", "height": "9", "width": "6", "kernel": "2", "stride": "3", "padding": "0",
      "ceil_mode": "1"},
     {"conv:operation": "max_pool", "conv:height": 9, "conv:width": 6, "conv:kernel": 2, "conv:stride": 3,
      "conv:padding": 0, "conv:dilation": 1, "conv:ceil_mode": True, "conv:numbers": False}),
]


@pytest.mark.parametrize("old, new, widgets", OLD_LINKS)
def test_an_old_link_opens_the_same_settings_and_the_link_takes_the_new_names(old, new, widgets):
    from_old, from_new = open_page(PAGE, old), open_page(PAGE, new)
    assert not problems(from_old) and not problems(from_new)
    for key, value in widgets.items():
        assert from_old.session_state[key] == value == from_new.session_state[key], key
    assert _link(from_old) == new == _link(from_new)
    assert _payload(from_old) == _payload(from_new)  # the same animation


def test_a_bad_link_value_falls_back_with_a_notice():
    at = open_page(PAGE, {"kernel": "banana", "op": "deconv"})
    assert not problems(at)
    assert at.slider(key="conv:kernel").value == 3 and at.selectbox(key="conv:operation").value == "conv"
    assert len(at.warning) >= 2


@pytest.mark.parametrize("params, words", [
    ({"h": "1", "w": "1", "kernel": "5", "padding": "0"},
     "The kernel spans 5 cells but the padded input height is only 1 cells (1 + 2 × padding 0)"),
    ({"op": "max_pool", "kernel": "2", "padding": "2"}, "Pooling padding must be at most half the kernel size"),
    ({"op": "avg_pool", "dilation": "2"}, "Average pooling has no dilation in PyTorch; got dilation 2."),
    ({"op": "transposed", "h": "1", "w": "1", "kernel": "1", "padding": "1"}, "The output would have -1 cells"),
])
def test_impossible_settings_are_explained_never_raised(params, words):
    at = open_page(PAGE, params)
    assert not problems(at)
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    data = _payload(at)
    assert data["anim"] is None and words in data["problem"]
    assert "Output size: impossible" in _markdown(at)


def test_numeric_mode_equals_torch_for_the_defaults():
    at = open_page(PAGE, {"numbers": "1"})
    assert not problems(at)
    x, w = np.asarray(GUIDE_INPUT), np.asarray(GUIDE_KERNEL)
    np.testing.assert_array_equal(MASTER_INPUT[:5, :5], x)
    expected = F.conv2d(_t(x), _t(w), stride=2, padding=1)[0, 0].numpy()
    anim = _payload(at)["anim"]
    np.testing.assert_array_equal(np.asarray(anim["target_values"], dtype=float), expected)
    assert anim["kernel_values"] == GUIDE_KERNEL
    # the selected (centre) output cell: its products, and the value torch gives
    assert _codes(at).count("= 17") == 1 and expected[1, 1] == 17
    assert "0×0 + 1×1 + 3×2 + 1×2 + 2×2 + 2×0 + 0×0 + 0×1 + 2×2 = 17" in _codes(at)
    # stride 1, no padding: Figure 1.1 of Dumoulin & Visin's guide
    at.slider(key="conv:stride").set_value(1).run()
    at.slider(key="conv:padding").set_value(0).run()
    guide = F.conv2d(_t(x), _t(w))[0, 0].numpy()
    assert guide.tolist() == [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
    np.testing.assert_array_equal(np.asarray(_payload(at)["anim"]["target_values"], dtype=float), guide)


@pytest.mark.parametrize("op, reference", [
    ("transposed", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1)),
    ("max_pool", lambda x, w: F.max_pool2d(x, 3, stride=2, padding=1)),
    ("avg_pool", lambda x, w: F.avg_pool2d(x, 3, stride=2, padding=1)),
])
def test_numeric_mode_equals_torch_for_every_operation(op, reference):
    at = open_page(PAGE, {"numbers": "1", "op": op})
    assert not problems(at)
    x, w = _t(GUIDE_INPUT), _t(GUIDE_KERNEL)
    expected = reference(x, w)[0, 0].numpy()
    got = np.asarray(_payload(at)["anim"]["target_values"], dtype=float)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    if op == "transposed":  # the scatter view's sum, cropped, is the same output
        at.radio(key="conv:view").set_value("scatter").run()
        anim = _payload(at)["anim"]
        full = np.asarray(anim["target_values"], dtype=float)
        (oy, ox), (oh, ow) = anim["output_origin"], anim["output_shape"]
        np.testing.assert_allclose(full[oy:oy + oh, ox:ox + ow], expected, atol=1e-9)
        assert "Both views give this same output, cell for cell." in " ".join(c.value for c in at.caption)


def test_edited_numbers_flow_through_and_bad_cells_are_explained():
    at = open_page(PAGE, {"numbers": "1", "stride": "1", "padding": "0"})
    at.session_state["conv:x:5x5"] = {"edited_rows": {0: {"0": -7}, 4: {"4": 9}}, "added_rows": [],
                                      "deleted_rows": []}
    at.session_state["conv:kernel:3"] = {"edited_rows": {1: {"1": -2}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not problems(at)
    x, w = np.asarray(GUIDE_INPUT), np.asarray(GUIDE_KERNEL)
    x[0, 0], x[4, 4], w[1, 1] = -7, 9, -2
    expected = F.conv2d(_t(x), _t(w))[0, 0].numpy()
    anim = _payload(at)["anim"]
    np.testing.assert_array_equal(np.asarray(anim["target_values"], dtype=float), expected)
    assert anim["source_values"][0][0] == -7
    at.session_state["conv:x:5x5"] = {"edited_rows": {2: {"3": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not problems(at)
    assert any("1 empty cell(s) at (row, column) (2, 3): they count as 0" in w.value for w in at.warning)
    assert _payload(at)["anim"]["source_values"][2][3] == 0


def test_padding_presets_valid_and_same():
    at = open_page(PAGE)
    at.button(key="conv:same").click().run()  # stride 2: PyTorch refuses 'same'
    assert not problems(at)
    assert at.slider(key="conv:padding").value == 1
    assert any("No 'same' padding here" in w.value and "stride 1" in w.value for w in at.warning)
    at.slider(key="conv:stride").set_value(1).run()
    at.slider(key="conv:kernel").set_value(5).run()
    at.button(key="conv:same").click().run()
    assert at.slider(key="conv:padding").value == 2
    assert "Output size: 5 × 5 (input 5 × 5" in _markdown(at)
    assert _torch_shape(nn.Conv2d(1, 1, 5, padding="same"), 5, 5) == (5, 5)
    at.button(key="conv:valid").click().run()
    assert at.slider(key="conv:padding").value == 0
    assert "Output size: 1 × 1" in _markdown(at)


def test_the_gif_is_made_on_request_and_offered_for_download():
    at = open_page(PAGE)
    assert not at.get("download_button")
    at.button(key="conv:gif_make").click().run()
    assert not problems(at)
    buttons = at.get("download_button")
    assert len(buttons) == 1 and buttons[0].proto.label == "⬇️ Download this animation as a GIF"
    assert buttons[0].proto.url.endswith(".gif")
    at.slider(key="conv:height").set_value(6).run()  # new settings: back to the button
    assert not at.get("download_button") and at.button(key="conv:gif_make")


def test_layer_table_matches_torch_and_points_at_the_first_impossible_layer():
    at = open_page(PAGE)
    table = next(df.value for df in at.dataframe if df.editing_mode == "read_only")
    stack = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2, 2), nn.Conv2d(16, 32, 3, padding=1),
                          nn.MaxPool2d(2, 2), nn.Conv2d(32, 64, 3, padding=2, dilation=2),
                          nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1))
    x = torch.zeros(1, 3, 32, 32)
    shapes = ["3 × 32 × 32"]
    for layer in stack:
        x = layer(x)
        shapes.append(" × ".join(str(n) for n in x.shape[1:]))
    assert table["output (C × H × W)"].tolist() == shapes
    params = [0] + [sum(p.numel() for p in layer.parameters()) for layer in stack]
    assert table["parameters"].tolist() == [f"{n:,}" for n in params]
    # layer 5 with kernel 40 cannot fit its 8x8 input: the table stops there and says so
    at.session_state["conv:stack"] = {"edited_rows": {4: {"kernel": 40}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not problems(at)
    table = next(df.value for df in at.dataframe if df.editing_mode == "read_only")
    assert len(table) == 5
    assert any("Layer 5 is impossible" in w.value and "kernel spans" in w.value for w in at.warning)
    # an empty cell is named, not guessed
    at.session_state["conv:stack"] = {"edited_rows": {1: {"stride": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not problems(at)
    assert any("Layer 2: fill in stride" in w.value for w in at.warning)


def test_the_checkerboard_rule_on_the_page_matches_the_overlap_map():
    for k, s, d in [(3, 2, 1), (4, 2, 1), (2, 2, 2), (3, 3, 1), (5, 3, 2), (3, 2, 3)]:
        counts = conv.overlap_counts(12, 1, k, s, 0, 0, d)[:, 0]
        span = d * (k - 1) + 1
        interior = counts[span:-span]  # every copy that can reach these cells is there
        by_residue = conv.interior_copies(k, s, d)
        assert sorted(set(interior.tolist())) == sorted(set(by_residue)), (k, s, d)
    at = open_page(PAGE, {"op": "transposed", "kernel": "2", "stride": "2", "dilation": "2"})
    assert not problems(at)
    assert "neighbouring cells receive different numbers of copies (0 to 4)" in _markdown(at)


def _figures(at) -> dict[str, dict]:
    out = {}
    for chart in at.get("plotly_chart"):
        spec = plain(json.loads(chart.proto.spec))
        out[spec["layout"]["title"]["text"]] = spec
    return out


def test_closed_tabs_draw_no_grids_and_open_ones_draw_torchs_numbers():
    at = open_page(PAGE, {"op": "transposed", "stride": "2", "padding": "1"})
    assert not at.get("plotly_chart")  # the first tab (output size) is open: no Plotly grid to draw
    at.session_state["conv:tab"] = "🔢 Numbers"
    at.run()
    assert not problems(at)
    figures = _figures(at)
    output = figures["Output of the transposed convolution"]["data"][0]["z"]
    expected = F.conv_transpose2d(_t(GUIDE_INPUT), _t(GUIDE_KERNEL), stride=2, padding=1)[0, 0].numpy()
    np.testing.assert_allclose(np.asarray(output, dtype=float), expected)
    at.session_state["conv:tab"] = "🔁 Transposed: two views and the checkerboard"
    at.run()
    (title, spec), = _figures(at).items()
    assert "checkerboard" in title
    ones = F.conv_transpose2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 3, 3), stride=2, padding=1)[0, 0]
    np.testing.assert_array_equal(np.asarray(spec["data"][0]["z"], dtype=float), ones.numpy())


def test_fuzzing_the_widgets_never_breaks_the_page():
    at = open_page(PAGE)
    fuzz_widgets(at, rounds=12, seed=16)
    at = open_page(PAGE, {"op": "transposed", "numbers": "1"})
    at.session_state["conv:tab"] = "🔢 Numbers"  # the grids are drawn too
    at.run()
    fuzz_widgets(at, rounds=8, seed=3)
    at.session_state["conv:tab"] = "🔁 Transposed: two views and the checkerboard"
    at.run()
    fuzz_widgets(at, rounds=6, seed=4)
    assert not problems(at)
