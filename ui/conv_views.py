"""Streamlit pieces of the convolution-arithmetic page: its widgets, layout and text.

The page file stays thin: ``layout()`` places the sections, ``controls()``
draws every widget of the page (the settings in the link come from
``core.conv.PARAMS``, which declares each of them once) and returns the
``Settings`` they make, then one function per section draws it. Every number
shown comes from ``core.conv``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core import conv
from core.conv import KERNEL_MAX, OP_NAMES, PADDING_MAX, PARAMS, SIZE_MAX, Geometry, Layer
from core.plots import conv as plots
from ui.convanim import animation_payload, conv_animation, problem_payload
from ui.url_state import UrlState

TOPIC = "conv"
url = UrlState(TOPIC)
ANIM_KEY = "conv:anim"
GIF_KEY = "conv:gif_for"  # the settings a GIF was asked for (a button sets it; never toggled)
PAD_NOTE_KEY = "conv:pad_note"

STILL = {"displayModeBar": False}  # static grids: no zoom, and no tool bar over their titles
# Plotly draws one SVG text per labelled cell: a 42 x 42 grid with labels blocked the browser for
# 1 to 2 s after each change (measured in headless Chromium). Larger grids show values on hover.
MAX_LABELLED_CELLS = 225
VALUE_MIN, VALUE_MAX = -9, 9  # numeric mode: small whole numbers

# Numeric mode's starting numbers: the top-left 5x5 input and 3x3 kernel are
# those of Figure 1.1 in Dumoulin & Visin's guide (whose stride-1, unpadded
# output is [[12, 12, 17], [10, 17, 19], [9, 6, 14]]); the rest is seeded.
GUIDE_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
GUIDE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def _master(shape: tuple[int, int], low: int, high: int, seed: int, corner: list[list[int]]) -> np.ndarray:
    grid = np.random.default_rng(seed).integers(low, high, shape)
    grid[: len(corner), : len(corner[0])] = corner
    return grid


MASTER_INPUT = _master((SIZE_MAX, SIZE_MAX), 0, 4, 0, GUIDE_INPUT)
MASTER_KERNEL = _master((KERNEL_MAX, KERNEL_MAX), -1, 3, 1, GUIDE_KERNEL)

STACK_COLUMNS = ("layer", "kernel", "stride", "padding", "dilation", "output_padding", "channels")
STACK_DEFAULT = [
    ("conv", 3, 1, 1, 1, 0, 16),
    ("max_pool", 2, 2, 0, 1, 0, 16),
    ("conv", 3, 1, 1, 1, 0, 32),
    ("max_pool", 2, 2, 0, 1, 0, 32),
    ("conv", 3, 1, 2, 2, 0, 64),
    ("transposed", 4, 2, 1, 1, 0, 32),
]
STACK_INPUT = (32, 32, 3)  # height, width, channels


@dataclass
class Slots:
    """Where each part of the page goes. ``layout()`` makes the containers; the tabs below
    are a widget (they rerun when opened), so ``controls()`` makes them inside ``below``."""

    controls: st.delta_generator.DeltaGenerator
    view: st.delta_generator.DeltaGenerator  # above the animation: how to picture a transposed convolution
    anim: st.delta_generator.DeltaGenerator
    gif: st.delta_generator.DeltaGenerator
    below: st.delta_generator.DeltaGenerator
    size: Any = None
    numbers: Any = None
    transposed: Any = None
    stack: Any = None


@dataclass(frozen=True)
class Settings:
    """Everything the widgets chose, checked; ``problem`` says why the geometry is impossible."""

    g: Geometry
    view: str
    numbers: bool
    x: np.ndarray  # the input values, h x w
    kernel: np.ndarray | None  # k x k, None for pooling
    problem: str | None
    output_shape: tuple[int, int] | None
    cell: tuple[int, int] | None  # numeric mode's selected output cell
    value_notes: tuple[str, ...] = ()  # what was fixed in the edited values
    stack: tuple[dict, ...] = ()
    stack_input: tuple[int, int, int] = STACK_INPUT
    stack_notes: tuple[str, ...] = ()


def layout() -> Slots:
    """The controls beside the animation (one screen at 1280 x 800), the tabs below."""
    left, right = st.columns([1, 2.05], gap="medium")
    with right:
        view = st.container()
        anim = st.container()
        gif = st.container()
    return Slots(left.container(), view, anim, gif, st.container())


def _is_open(tab) -> bool:
    return getattr(tab, "open", None) is not False


# -- the widgets (every one of them) ----------------------------------------------------


def _set_padding(preset: str) -> None:
    """on_click of the 'valid' / 'same' buttons: set the padding slider (a state, never a toggle)."""
    k, d, s = (st.session_state.get(url.param_key(PARAMS[n]), PARAMS[n].default) for n in ("k", "d", "s"))
    if preset == "valid":
        st.session_state[url.param_key(PARAMS["p"])] = 0
        st.session_state[PAD_NOTE_KEY] = ("info", "'valid': no padding; the kernel only visits places where it "
                                          "fits inside the input, so the output shrinks.")
        return
    try:
        p = conv.same_padding(k, d, s)
    except ValueError as why:
        st.session_state[PAD_NOTE_KEY] = ("warning", f"No 'same' padding here: {why}")
        return
    if p > PADDING_MAX:
        st.session_state[PAD_NOTE_KEY] = ("warning", f"'same' padding would be {p}, above this page's {PADDING_MAX}.")
        return
    st.session_state[url.param_key(PARAMS["p"])] = p
    st.session_state[PAD_NOTE_KEY] = ("info", f"'same': padding {p} = dilation {d} × (kernel {k} - 1) / 2 on each "
                                      "side keeps the size (stride 1).")


def _ask_gif(signature: str) -> None:
    st.session_state[GIF_KEY] = signature


def _grid_editor(key: str, start: np.ndarray, help_text: str) -> pd.DataFrame:
    """A fixed-size table of small whole numbers (column names are the column indices)."""
    frame = pd.DataFrame(start, columns=[str(c) for c in range(start.shape[1])])
    config = {str(c): st.column_config.NumberColumn(str(c), min_value=VALUE_MIN, max_value=VALUE_MAX, step=1,
                                                    format="%d", width=44)
              for c in range(start.shape[1])}
    table = st.data_editor(frame, key=key, column_config=config, num_rows="fixed", hide_index=False,
                           width="content")
    st.caption(help_text)
    return table


def _whole_grid(name: str, table: pd.DataFrame, shape: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    """The edited grid as whole numbers; notes say what was empty, fractional or out of range."""
    notes = []
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if values.shape != shape:  # cannot happen with a fixed-size editor, but never trust a table
        fixed = np.zeros(shape)
        rows, cols = min(shape[0], values.shape[0]), min(shape[1], values.shape[1])
        fixed[:rows, :cols] = values[:rows, :cols]
        values = fixed
    empty = np.argwhere(~np.isfinite(values))
    if len(empty):
        where = ", ".join(f"({r}, {c})" for r, c in empty[:4].tolist()) + (" ..." if len(empty) > 4 else "")
        notes.append(f"The {name} has {len(empty)} empty cell(s) at (row, column) {where}: they count as 0 "
                     "until you fill them in.")
        values = np.where(np.isfinite(values), values, 0)
    if not np.all(values == np.round(values)):
        notes.append(f"The {name} takes whole numbers only: fractions were rounded.")
        values = np.round(values)
    if values.min(initial=0) < VALUE_MIN or values.max(initial=0) > VALUE_MAX:
        notes.append(f"The {name} takes numbers from {VALUE_MIN} to {VALUE_MAX}: larger ones were clipped.")
        values = np.clip(values, VALUE_MIN, VALUE_MAX)
    return values.astype(int), notes


def _stack_layers(table: pd.DataFrame) -> tuple[list[dict], list[str]]:
    """The layer table as ``core.conv.Layer`` settings; notes name empty or unknown cells."""
    layers, notes = [], []
    for number, row in enumerate(table.to_dict("records"), start=1):
        kind = row.get("layer")
        if kind not in conv.OPS:
            notes.append(f"Layer {number}: choose its kind (one of {', '.join(conv.OPS)}); it is left out.")
            continue
        spec, missing = {"kind": kind}, []
        for column, name in (("kernel", "k"), ("stride", "s"), ("padding", "p"), ("dilation", "d"),
                             ("output_padding", "output_padding"), ("channels", "channels")):
            value = pd.to_numeric(row.get(column), errors="coerce")
            if value is None or not math.isfinite(value):
                missing.append(column)
                continue
            spec[name] = int(round(value))
        if missing:
            notes.append(f"Layer {number}: fill in {', '.join(missing)}; it is left out until then.")
            continue
        layers.append(spec)
    return layers, notes


def _signature(*parts) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def controls(slots: Slots) -> Settings:
    """Every widget of the page, bound to the link where it is a setting; returns the checked settings."""
    url.upgrade_link(PARAMS)  # a link from before the table: its old codes renamed, before any widget reads it
    with slots.below:
        # Lazy tabs: a closed tab's Plotly grids are not drawn (each cost the browser up to a second
        # after every change); its widgets and text always are, so edits survive a change of tab.
        slots.size, slots.numbers, slots.transposed, slots.stack = st.tabs(
            ["📐 Output size", "🔢 Numbers", "🔁 Transposed: two views and the checkerboard", "🧱 Layer stack"],
            key="conv:tab", on_change="rerun")
    with slots.controls:
        chosen = {"op": url.widget(PARAMS["op"])}
        for pair in (("h", "w"), ("k", "s"), ("p", "d")):
            columns = st.columns(2)  # one row per pair: on a phone they stack in reading order
            for column, name in zip(columns, pair):
                with column:
                    chosen[name] = url.widget(PARAMS[name])
        b1, b2 = st.columns(2)
        b1.button("valid", key="conv:valid", on_click=_set_padding, args=("valid",), width="stretch",
                  help="Padding 0: the kernel only visits places where it fits inside the input.")
        b2.button("same", key="conv:same", on_click=_set_padding, args=("same",), width="stretch",
                  help="The padding that keeps the output as large as the input (stride 1 only).")
        note = st.session_state.pop(PAD_NOTE_KEY, None)
        if note:
            (st.info if note[0] == "info" else st.warning)(note[1])
        op = chosen["op"]
        if op == "transposed":  # only drawn where they mean something: the others keep their defaults
            chosen["output_padding"] = url.widget(PARAMS["output_padding"])
            with slots.view:
                chosen["view"] = url.widget(PARAMS["view"])
        if op in ("max_pool", "avg_pool"):
            chosen["ceil_mode"] = url.widget(PARAMS["ceil_mode"])
        chosen["numbers"] = url.widget(PARAMS["numbers"])

    values = {**PARAMS.defaults(), **chosen}
    view, numbers = values["view"], values["numbers"]
    g = conv.geometry_of(values)
    h, w, k = g.h, g.w, g.k
    problem = g.problem()
    out_shape = None if problem else g.output_shape

    with slots.numbers:
        e1, e2, e3 = st.columns([2, 1.4, 1])
        with e1:
            st.markdown(f"**Input** ({h} × {w})")
            x_table = _grid_editor(f"conv:x:{h}x{w}", MASTER_INPUT[:h, :w],
                                   "Edit any cell; changing the input size starts again from the example.")
        x, notes = _whole_grid("input", x_table, (h, w))
        kernel = None
        with e2:
            if op in ("conv", "transposed"):
                st.markdown(f"**Kernel** ({k} × {k})")
                k_table = _grid_editor(f"conv:kernel:{k}", MASTER_KERNEL[:k, :k], "The weights.")
                kernel, kernel_notes = _whole_grid("kernel", k_table, (k, k))
                notes += kernel_notes
            else:
                st.markdown("**Kernel**")
                st.caption(f"{OP_NAMES[op].capitalize()} has no weights: its {k} × {k} window takes the "
                           + ("largest value." if op == "max_pool" else "mean."))
        cell = None
        with e3:
            if out_shape:
                st.markdown(f"**Output cell to explain** (of {out_shape[0]} × {out_shape[1]})")
                row = st.number_input("Row", 0, out_shape[0] - 1, out_shape[0] // 2, step=1,
                                      key=f"conv:cell_row:{out_shape[0]}")
                col = st.number_input("Column", 0, out_shape[1] - 1, out_shape[1] // 2, step=1,
                                      key=f"conv:cell_col:{out_shape[1]}")
                cell = (int(row), int(col))

    with slots.stack:
        st.markdown("A stack of layers, one row each: the table below it gives every layer's output shape, "
                    "receptive field, jump, parameters and multiply-adds. Add, remove or edit rows.")
        s1, s2, s3 = st.columns(3)
        stack_h = s1.number_input("Stack input height", 1, 1024, STACK_INPUT[0], step=1, key="conv:stack_h")
        stack_w = s2.number_input("Stack input width", 1, 1024, STACK_INPUT[1], step=1, key="conv:stack_w")
        stack_c = s3.number_input("Input channels", 1, 512, STACK_INPUT[2], step=1, key="conv:stack_c")
        table = st.data_editor(
            pd.DataFrame(STACK_DEFAULT, columns=list(STACK_COLUMNS)), key="conv:stack", num_rows="dynamic",
            hide_index=True, width="stretch",
            column_config={
                "layer": st.column_config.SelectboxColumn("layer", options=list(conv.OPS), default="conv",
                                                          required=True),
                "kernel": st.column_config.NumberColumn("kernel", min_value=1, max_value=64, step=1, default=3),
                "stride": st.column_config.NumberColumn("stride", min_value=1, max_value=64, step=1, default=1),
                "padding": st.column_config.NumberColumn("padding", min_value=0, max_value=64, step=1, default=0),
                "dilation": st.column_config.NumberColumn("dilation", min_value=1, max_value=64, step=1,
                                                          default=1),
                "output_padding": st.column_config.NumberColumn("output_padding", min_value=0, max_value=63,
                                                                step=1, default=0),
                "channels": st.column_config.NumberColumn("channels (out)", min_value=1, max_value=4096,
                                                          step=1, default=16,
                                                          help="Output channels; pooling keeps its input's."),
            })
        layers, stack_notes = _stack_layers(table)

    settings = Settings(g, view, numbers, x, kernel, problem, out_shape, cell, tuple(notes), tuple(layers),
                        (int(stack_h), int(stack_w), int(stack_c)), tuple(stack_notes))

    with slots.gif:  # built on request (a GIF takes up to seconds), then offered with its bytes
        if problem is None:
            wanted = _signature(*_anim_args(settings))
            if st.session_state.get(GIF_KEY) == wanted:
                st.download_button("⬇️ Download this animation as a GIF", gif_bytes(*_anim_args(settings)),
                                   file_name=_gif_name(settings), mime="image/gif", key="conv:gif_download")
            else:
                st.button("🎞️ Make a GIF of this animation (for slides)", key="conv:gif_make",
                          on_click=_ask_gif, args=(wanted,))
    return settings


# -- the animation ------------------------------------------------------------------------------


def _anim_args(s: Settings) -> tuple:
    """Small hashable values that fix the animation (cache keys)."""
    g = s.g
    values = tuple(map(tuple, s.x.tolist())) if s.numbers else None
    weights = tuple(map(tuple, s.kernel.tolist())) if s.numbers and s.kernel is not None else None
    return (g.op, g.h, g.w, g.k, g.s, g.p, g.d, g.output_padding, g.ceil_mode), s.view, values, weights


def _animation(geometry: tuple, view: str, values, weights) -> conv.Animation:
    g = Geometry(*geometry)
    return conv.animation(g, view, None if values is None else np.asarray(values),
                          None if weights is None else np.asarray(weights))


@st.cache_data(max_entries=64, show_spinner=False)
def animation_data(geometry: tuple, view: str, values, weights) -> dict:
    """The player's payload for these settings (cached: a rerun for another widget costs nothing)."""
    anim = _animation(geometry, view, values, weights)
    return animation_payload(anim, sig=_signature(geometry, view, values, weights), numbers=values is not None)


@st.cache_data(max_entries=16, show_spinner="Drawing the GIF…")
def gif_bytes(geometry: tuple, view: str, values, weights) -> bytes:
    return conv.animation_gif(_animation(geometry, view, values, weights))


def _gif_name(s: Settings) -> str:
    g = s.g
    extra = f"-op{g.output_padding}-{s.view}" if g.op == "transposed" else ("-ceil" if g.ceil_mode else "")
    return f"{g.op}-{g.h}x{g.w}-k{g.k}-s{g.s}-p{g.p}-d{g.d}{extra}.gif"


def animation(s: Settings, slot) -> None:
    """The player, fed the whole animation once per settings change; or why there is nothing to play."""
    with slot:
        if s.problem:
            st.warning(f"**These settings are impossible.** {s.problem}", icon="⚠️")
            conv_animation(ANIM_KEY, problem_payload(s.problem, sig=_signature("problem", s.problem)))
            return
        conv_animation(ANIM_KEY, animation_data(*_anim_args(s)))


# -- the output size ------------------------------------------------------------------------------


def _axis_formula(f: conv.Formula, axis: str) -> None:
    if not f.substituted:
        return
    st.markdown(f"**{axis}**")
    st.code(f"{f.general}\n{f.substituted}", language=None, wrap_lines=True)
    if f.rounding != "none" and not f.exact and f.error is None:
        kept = "keeps" if f.rounding == "floor" else "rounds up to"
        unread = (f" The last {f.unread} cell{'s' if f.unread != 1 else ''} of the padded input "
                  f"{'are' if f.unread != 1 else 'is'} never read: the kernel cannot take another full step."
                  if f.unread else "")
        st.markdown(f"The division is not exact: {f.numerator} / {f.denominator} = {f.quotient:g}; "
                    f"the {f.rounding} {kept} {f.floored}.{unread}")
    if f.note:
        st.caption(f.note[0].upper() + f.note[1:] + ".")
    st.markdown("The seed note's form, with k' the kernel's span:")
    st.code(f"{f.seed_general}\n{f.seed_substituted}", language=None, wrap_lines=True)


def output_size(s: Settings, slot) -> None:
    """The size formula for each axis, numbers substituted, the floor made visible."""
    g = s.g
    fh, fw = g.formulas()
    with slot:
        if s.output_shape:
            st.markdown(f"#### Output size: {s.output_shape[0]} × {s.output_shape[1]} "
                        f"(input {g.h} × {g.w}, {OP_NAMES[g.op]})")
        else:
            st.markdown("#### Output size: impossible")
            st.caption("The formula below shows why: a size below 1 means not even one output cell fits.")
        if g.h == g.w:
            _axis_formula(fh, f"Height and width (i = {g.h})")
        else:
            c1, c2 = st.columns(2)
            with c1:
                _axis_formula(fh, f"Height (i = {g.h})")
            with c2:
                _axis_formula(fw, f"Width (i = {g.w})")
        if g.op == "transposed" and s.output_shape:
            _transposed_size_notes(g, s.output_shape[0])


def _transposed_size_notes(g: Geometry, out: int) -> None:
    """Why output_padding exists: the convolution's floor sends several sizes to one."""
    same = [n for n in range(1, out + g.s + 1)
            if conv.size_problem("conv", n, g.k, g.s, g.p, g.d) is None and conv.conv_output_size(n, g.k, g.s, g.p,
                                                                                                  g.d) == g.h]
    if same:
        sizes = ", ".join(str(n) for n in same)
        choices = ", ".join(f"output_padding {n - same[0]} gives {n}" for n in same
                            if n - same[0] < max(g.s, g.d))
        st.markdown(f"**Back and forth.** A convolution with the same kernel, stride, padding and dilation maps "
                    f"input sizes {sizes} all to {g.h} (the floor). The transposed convolution undoes it, but "
                    f"it has to pick one: {choices}. That is what output_padding is for: it makes a decoder's "
                    f"sizes match its encoder's when the input was not divisible by the stride.")
    if g.d == 1:
        seed = (g.h - 1) * g.s - 2 * g.p + g.k + g.output_padding + 1
        st.caption(f"The seed note also writes (i − 1) s − 2p + k + output_padding + 1, which gives {seed} here, "
                   f"{seed - out} more than PyTorch's {out}: with d = 1 its second form, "
                   "(i − 1) s − 2p + d (k − 1) + output_padding + 1, is the right one.")


def _lean(figure):
    """``figure`` without cell labels when a grid has too many cells to label cheaply (hover still shows them)."""
    for trace in figure.data:
        z = getattr(trace, "z", None)
        if z is not None and np.size(z) > MAX_LABELLED_CELLS:
            trace.texttemplate = None
    return figure


# -- numeric mode ------------------------------------------------------------------------------------


def numbers(s: Settings, slot) -> None:
    """The output values for the edited numbers and, for one output cell, the products that make it."""
    with slot:
        for note in s.value_notes:
            st.warning(note)
        if s.problem:
            st.info(f"No output to compute: {s.problem}")
            return
        g = s.g
        out = conv.apply(g, s.x, s.kernel)
        parts = conv.breakdown(g, s.x, s.kernel, s.cell)
        read = [list(t.input_cell) for t in parts.terms if t.input_cell is not None]
        how = {"sum": "the sum of the products of each weight and the value under it",
               "max": "the largest value in the window (padding never wins: PyTorch pads with minus infinity)",
               "mean": f"the mean of the {parts.divisor} cells of the window (padding counts as 0)"}[parts.combine]
        st.markdown(f"**Output cell ({s.cell[0]}, {s.cell[1]})** is {how}:")
        st.code(parts.text, language=None, wrap_lines=True)
        if g.op == "transposed":
            zero = conv.conv_transpose2d_zero_insertion(s.x, s.kernel, g.s, g.p, g.output_padding, g.d)
            scatter = conv.conv_transpose2d_scatter(s.x, s.kernel, g.s, g.p, g.output_padding, g.d)
            same = np.array_equal(zero, scatter)
            st.caption("The terms are the input cells whose kernel copy lands on this cell (the scatter view). "
                       + ("Both views give this same output, cell for cell." if same
                          else "The two views disagree here: please report these settings."))
        if not _is_open(slot):
            return
        figures = plots.numeric_figures(s.x, s.kernel, out, op_name=OP_NAMES[g.op], read=read, selected=s.cell)
        c1, c2 = st.columns(2)
        c1.plotly_chart(_lean(figures["input"]), key="conv:fig:input", config=STILL)
        c2.plotly_chart(_lean(figures["output"]), key="conv:fig:output", config=STILL)
        unlabelled = (f" Grids of more than {MAX_LABELLED_CELLS} cells show their values when you point at a cell."
                      if max(s.x.size, out.size) > MAX_LABELLED_CELLS else "")
        st.caption("Orange outlines: the input cells that feed the selected output cell (green outline). "
                   "Rows and columns count from 0, as in PyTorch." + unlabelled)


# -- transposed convolution ----------------------------------------------------------------------------


def transposed(s: Settings, slot) -> None:
    """The two ways to see a transposed convolution, and the overlap map (checkerboard)."""
    g = s.g
    with slot:
        st.markdown(
            "A transposed convolution can be drawn two ways that give exactly the same numbers "
            "(choose **Transposed convolution** above, then how to show it, above the animation):\n"
            "- **Zeros inserted, then an ordinary convolution:** put s − 1 zeros between neighbouring input "
            "cells, pad with d (k − 1) − p zeros, and slide the kernel, flipped, one cell at a time.\n"
            "- **Each input cell scatters the kernel:** every input cell adds a copy of the kernel, scaled by "
            "its value, into the output, s cells further on per input cell; overlaps add up and p cells are "
            "cropped from each border.")
        problem = conv.size_problem("transposed", g.h, g.k, g.s, g.p, g.d, g.output_padding if g.op == "transposed"
                                    else 0) or conv.size_problem("transposed", g.w, g.k, g.s, g.p, g.d,
                                                                 g.output_padding if g.op == "transposed" else 0)
        if problem:
            st.info(f"No overlap map for these settings: {problem}")
            return
        op_pad = g.output_padding if g.op == "transposed" else 0
        if g.op != "transposed":
            st.caption(f"Below: a transposed convolution with this page's kernel {g.k}, stride {g.s}, padding "
                       f"{g.p} and dilation {g.d}, on the {g.h} × {g.w} input.")
        else:
            q = g.d * (g.k - 1) - g.p
            st.caption(f"Here: {g.s - 1} zero(s) between input cells and d (k − 1) − p = {q} cells of "
                       f"{'padding' if q >= 0 else 'cropping'} in the first view; copies {g.s} cells apart and "
                       f"{g.p} cropped from each border in the second.")
        counts = conv.overlap_counts(g.h, g.w, g.k, g.s, g.p, op_pad, g.d)
        per_residue = conv.interior_copies(g.k, g.s, g.d)
        even = min(per_residue) == max(per_residue)
        left, right = st.columns([3, 2])
        if _is_open(slot):
            figure = plots.overlap_figure(counts, kernel=g.k, stride=g.s, dilation=g.d)
            left.plotly_chart(_lean(figure), key="conv:fig:overlap", config=STILL)
        with right:
            taps = f", its taps {g.d} cells apart" if g.d > 1 else ""
            st.markdown(f"**Copies per output cell.** Each input cell's copy of the kernel covers {g.k} × {g.k} "
                        f"output cells{taps}, and neighbouring copies start {g.s} cells apart.")
            low, high = min(per_residue) ** 2, max(per_residue) ** 2
            if not even:
                why = f"Kernel {g.k} is not a multiple of stride {g.s}" if g.d == 1 else (
                    f"With kernel {g.k}, stride {g.s} and dilation {g.d} the taps do not fall evenly on the stride's "
                    "grid")
                st.markdown(f"{why}, so away from the border neighbouring cells receive different numbers of "
                            f"copies ({low} to {high}): a generator built from such layers starts with a "
                            "checkerboard pattern that training must undo. A kernel divisible by the stride, or "
                            "resizing followed by an ordinary convolution, avoids it.")
            else:
                st.markdown(f"Away from the border every cell receives the same number of copies ({low}), "
                            "so no checkerboard; only the border, where fewer copies reach, is lighter.")


# -- the layer stack --------------------------------------------------------------------------------------


def _stack_frame(report: conv.StackReport) -> pd.DataFrame:
    rows = []
    for r in report.rows:
        rows.append({
            "#": r.index,
            "layer": "input" if r.index == 0 else OP_NAMES[r.kind],
            "output (C × H × W)": " × ".join(str(n) for n in r.shape),
            "receptive field": f"{r.receptive_field} × {r.receptive_field}",
            "jump": str(r.jump),
            "parameters": f"{r.params:,}",
            "multiply-adds": f"{r.macs:,}",
        })
    return pd.DataFrame(rows)


def stack(s: Settings, slot) -> None:
    """Shapes, receptive field, jump, parameters and multiply-adds of the layer table."""
    with slot:
        for note in s.stack_notes:
            st.warning(note)
        h, w, c = s.stack_input
        report = conv.receptive_field([Layer(**spec) for spec in s.stack], input_size=(h, w), in_channels=c)
        st.dataframe(_stack_frame(report), hide_index=True, width="stretch", key="conv:stack_table")
        if report.error:
            st.warning(f"**Layer {report.error_layer} is impossible**, so the table stops before it. "
                       f"{report.error}", icon="⚠️")
        elif len(report.rows) > 1:
            last = report.rows[-1]
            total_params = sum(r.params for r in report.rows)
            total_macs = sum(r.macs for r in report.rows)
            st.caption(f"One output cell of the last layer sees {last.receptive_field} × {last.receptive_field} "
                       f"input cells; neighbouring output cells are {last.jump} input cell(s) apart (the jump). "
                       f"In all: {total_params:,} parameters and {total_macs:,} multiply-adds per image. "
                       "The receptive field is the widest span over the output cells (with dilation or a "
                       "transposed layer it can have gaps).")
