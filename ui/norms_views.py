"""Streamlit pieces of the LRN vs BN page (page-private): the places, every widget, the sections.

The page asks ``layout()`` for the places of its sections, then ``controls(slots)``
draws every widget of the page (each next to the result it changes) from the table
``core.norms.PARAMS`` and returns the ``Params`` the sections compute with. Numbers come from
``core.norms``, figures from ``core.plots.norms``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.losslab import DigitsSplit, digits_split
from core.norms import (
    ALEXNET,
    BN_C,
    BN_H,
    BN_W,
    CNN_LRN,
    DEFAULT_LR,
    HIGH_LR,
    LAYER_LABELS,
    LRN_PARAMS,
    MOMENTUM,
    NORM_LABELS,
    PARAMS,
    SEED_ALPHA,
    SEED_BETA,
    SEED_K,
    SEED_N,
    NormRaceConfig,
    NormRaceSnapshot,
    NormRaceTrainer,
    batch_norm,
    bn_example,
    bn_modes,
    check_seed_to_torch,
    check_torch_to_seed,
    explain_bn,
    explain_lrn,
    feature_maps,
    inter_example,
    intra_example,
    local_response_norm,
    lrn_window,
    make_cnn,
    race_verdicts,
    seed_to_tf,
    seed_to_torch,
    small_batch_message,
    torch_batch_norm,
    torch_to_seed,
    trainable_norm_parameters,
)
from core.plots.norms import (
    dead_relu_figure,
    digit_figure,
    feature_maps_figure,
    layer_stats_figure,
    pair_heatmap_figure,
    race_accuracy_figure,
    race_loss_figure,
    running_stats_figure,
)
from ui.live import current_run, live_training_panel
from ui.livechart import Chart, live_charts
from ui.url_state import UrlState

RUN_KEY = "norms:race"  # the live panel
CHARTS_KEY = "norms:charts"  # its live view
PAGE_SEED = PARAMS["seed"].default  # the seed the page opens with; the race's lesson below is checked on it

# (the controls, their choices and defaults are in core.norms.PARAMS)
GRID_LIMIT = 100.0  # grid values are kept within +-this
RACE_DEFAULT = NormRaceConfig()
STATS_LAYERS = [name for name in LAYER_LABELS if name != "logits"]


# -- URL state with a multiselect ------------------------------------------------------
url = UrlState("norms")


# -- the places -------------------------------------------------------------------------
@dataclass
class Slots:
    """Where each section draws: its controls next to its results."""

    lrn_params: DeltaGenerator
    inter_controls: DeltaGenerator
    inter_result: DeltaGenerator
    intra_controls: DeltaGenerator
    intra_result: DeltaGenerator
    conventions: DeltaGenerator
    reverse_controls: DeltaGenerator
    reverse_result: DeltaGenerator
    bn_controls: DeltaGenerator
    bn_result: DeltaGenerator
    fm_controls: DeltaGenerator
    fm_digit: DeltaGenerator
    fm_text: DeltaGenerator
    fm_result: DeltaGenerator
    race_intro: DeltaGenerator
    race_controls: DeltaGenerator
    race_panel: DeltaGenerator
    modes_controls: DeltaGenerator
    modes_result: DeltaGenerator


def layout() -> Slots:
    """Headers, short texts and empty places for every section, in page order."""
    st.header("1 · LRN by hand")
    st.markdown(
        "LRN divides each activation by a power of the energy around it: a neuron that fires strongly damps its "
        "neighbours (*lateral inhibition*). It has **no trainable parameter**, only four hyper-parameters fixed "
        "before training: **k** keeps the denominator away from 0, **α** scales the sum of squares, **β** sets "
        "how hard it divides, **n** how far it looks (⌊n/2⌋ neighbours on each side)."
    )
    lrn_params = st.container()
    inter, intra = st.tabs(["Inter-channel: across channels (AlexNet)", "Intra-channel: within one channel"])
    with inter:
        left, right = st.columns([2, 3], gap="large")
        inter_controls, inter_result = left.container(), right.container()
    with intra:
        left, right = st.columns([2, 3], gap="large")
        intra_controls, intra_result = left.container(), right.container()

    st.header("2 · One LRN, three conventions")
    st.markdown(
        "Papers and libraries write LRN differently, so the same numbers give different layers. Here are your "
        "parameters from section 1 in each convention, converted live, and checked against PyTorch itself on "
        "your grid."
    )
    conventions = st.container()
    left, right = st.columns([1, 2], gap="large")
    reverse_controls, reverse_result = left.container(), right.container()

    st.header("3 · Batch normalisation by hand")
    st.markdown(
        "BN is a **trainable** layer, brought in against *internal covariate shift*: the inputs of a layer keep "
        "changing distribution while the layers before it learn. During training it standardises each unit with "
        "the mean μ and variance σ² of the mini-batch, then scales by γ and shifts by β, both learned. Which "
        "values share one μ and σ² is the difference between the seed's picture and what CNNs do."
    )
    st.latex(r"\hat{x} = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma\,\hat{x} + \beta")
    left, right = st.columns([5, 7], gap="large")
    bn_controls, bn_result = left.container(), right.container()

    st.header("4 · A real digit through the first conv layer")
    left, mid, right = st.columns([3, 3, 5], gap="medium")
    fm_controls, fm_digit, fm_text = left.container(), mid.container(), right.container()
    fm_result = st.container()

    st.header("5 · The race: the same CNN with each normalisation")
    race_intro = st.container()
    race_controls = st.container()
    race_panel = st.container()

    st.header("6 · BatchNorm's two modes: training and evaluation")
    left, right = st.columns([1, 2], gap="large")
    modes_controls, modes_result = left.container(), right.container()
    return Slots(lrn_params, inter_controls, inter_result, intra_controls, intra_result, conventions,
                 reverse_controls, reverse_result, bn_controls, bn_result, fm_controls, fm_digit, fm_text, fm_result,
                 race_intro, race_controls, race_panel, modes_controls, modes_result)


# -- every widget -------------------------------------------------------------------------
@dataclass(frozen=True)
class Params:
    """Everything the widgets set, as the sections use it."""

    grid: np.ndarray  # (channels, positions) of the inter-channel example
    grid_notes: tuple[str, ...]
    fmap: np.ndarray  # (rows, columns) of the intra-channel example
    fmap_notes: tuple[str, ...]
    n: int
    alpha: float
    beta: float
    k: float
    channel: int
    position: int
    row: int
    col: int
    torch_size: int
    per: str
    batch: int
    sample: int
    bn_channel: int
    bn_row: int
    bn_col: int
    gamma: float
    shift: float
    digit: int
    fm_source: str
    race: NormRaceConfig | None  # None while no normalisation is picked
    layer: str
    modes_batch: int
    seed: int


def _set_state(key: str, value) -> None:
    """Button callback: set a state (never toggle; a click can arrive twice)."""
    st.session_state[key] = value


def _grid_editor(key: str, start: np.ndarray, row_name: str, col_name: str) -> tuple[np.ndarray, list[str]]:
    """An editable grid (a fresh editor after each reset) and the notes on what its values needed."""
    version = st.session_state.get(f"{key}:version", 0)
    columns = [str(j) for j in range(start.shape[1])]
    frame = pd.DataFrame(start, columns=columns, index=[f"{row_name[:2]} {i}" for i in range(start.shape[0])])
    config = {c: st.column_config.NumberColumn(c, min_value=-GRID_LIMIT, max_value=GRID_LIMIT, format="%g",
                                               width=44) for c in columns}
    st.caption(f"Rows: {row_name}s ({row_name[:2]}); columns: {col_name}s. Click a number to change it.")
    table = st.data_editor(frame, key=f"{key}:{version}", column_config=config, num_rows="fixed",
                           hide_index=False, width="content")
    st.button("↺ Back to the starting values", key=f"{key}:reset", on_click=_set_state,
              args=(f"{key}:version", version + 1))
    return parse_grid(table, start.shape, row_name, col_name)


def parse_grid(table: pd.DataFrame, shape: tuple[int, int], row_name: str,
               col_name: str) -> tuple[np.ndarray, list[str]]:
    """An edited table as finite numbers of ``shape``; notes say what was empty, not a number or too large."""
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    notes = []
    if values.shape != tuple(shape):  # a fixed-size editor keeps its shape; never trust a table anyway
        fixed = np.zeros(shape)
        r, c = min(shape[0], values.shape[0]), min(shape[1], values.shape[1])
        fixed[:r, :c] = values[:r, :c]
        values = fixed
    bad = np.argwhere(np.isnan(values))
    if len(bad):
        where = ", ".join(f"{row_name} {i} / {col_name} {j}" for i, j in bad[:3].tolist())
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        notes.append(f"{len(bad)} cell(s) hold no number ({where}{more}): they count as 0 until you type one.")
        values = np.where(np.isnan(values), 0.0, values)
    if np.any(np.abs(values) > GRID_LIMIT):
        notes.append(f"Values are kept between −{GRID_LIMIT:g} and {GRID_LIMIT:g}: larger ones were clipped.")
        values = np.clip(values, -GRID_LIMIT, GRID_LIMIT)
    return values, notes


def _clamp_state(key: str, options: list) -> None:
    """Before a widget whose options shrank: a kept value it no longer offers becomes the nearest one."""
    value = st.session_state.get(key)
    if value is not None and value not in options:
        st.session_state[key] = min(options, key=lambda o: abs(o - value)) if isinstance(value, int) else options[0]


def _set_lrn(values: tuple[int, float, float, float]) -> None:
    """Button callback: put (n, alpha, beta, k) into the four LRN controls."""
    url.apply(LRN_PARAMS, dict(zip(LRN_PARAMS.names(), values, strict=True)))


def controls(slots: Slots) -> Params:
    """Every widget of the page, each in its section's place; returns what they are set to."""
    with slots.lrn_params:
        *columns, c5 = st.columns([3, 2, 2, 2, 2], vertical_alignment="bottom")
        lrn = []
        for column, param in zip(columns, LRN_PARAMS, strict=True):
            with column:
                lrn.append(url.widget(param))
        n, alpha, beta, k = lrn
        with c5:
            st.button("Seed's values", key="norms:use-seed", on_click=_set_lrn,
                      args=((SEED_N, SEED_ALPHA, SEED_BETA, SEED_K),), width="stretch",
                      help=f"The seed's worked example: (k, α, β, n) = ({SEED_K:g}, {SEED_ALPHA:g}, "
                           f"{SEED_BETA:g}, {SEED_N})")
            st.button("AlexNet's", key="norms:use-alexnet", on_click=_set_lrn, args=(ALEXNET,),
                      width="stretch", help="AlexNet's (k, α, β, n) = ({3:g}, {1:g}, {2:g}, {0})"
                      .format(*ALEXNET))
    with slots.inter_controls:
        grid, grid_notes = _grid_editor("norms:grid", inter_example()[0, :, 0, :], "channel", "position")
        c1, c2 = st.columns(2)
        with c1:
            channel = url.widget(PARAMS["channel"])
        with c2:
            position = url.widget(PARAMS["position"])
        worked = explain_lrn(inter_example(), (0, 0, 0, 0), SEED_N, SEED_ALPHA, SEED_BETA, SEED_K).result
        st.caption(f"The seed's worked example: (k, α, β, n) = ({SEED_K:g}, {SEED_ALPHA:g}, {SEED_BETA:g}, "
                   f"{SEED_N}) on the starting grid gives {worked:g} at channel 0, position 0.")
        st.latex(r"b^{i}_{x,y} = \frac{a^{i}_{x,y}}{\Big(k + \alpha \sum_{j=\max(0,\ i-\lfloor n/2\rfloor)}"
                 r"^{\min(N-1,\ i+\lfloor n/2\rfloor)} \big(a^{j}_{x,y}\big)^2\Big)^{\beta}}")
    with slots.intra_controls:
        fmap, fmap_notes = _grid_editor("norms:map", intra_example(PAGE_SEED)[0, 0], "row", "column")
        c1, c2 = st.columns(2)
        with c1:
            row = url.widget(PARAMS["row"])
        with c2:
            col = url.widget(PARAMS["column"])
        st.latex(r"b^{c}_{x,y} = \frac{a^{c}_{x,y}}{\Big(k + \alpha \sum_{x'=x-\lfloor n/2\rfloor}"
                 r"^{x+\lfloor n/2\rfloor} \sum_{y'=y-\lfloor n/2\rfloor}^{y+\lfloor n/2\rfloor}"
                 r" \big(a^{c}_{x',y'}\big)^2\Big)^{\beta}}")
    with slots.reverse_controls:
        torch_size = url.widget(PARAMS["torch_size"])
    with slots.bn_controls:
        per = url.widget(PARAMS["bn_per"])
        batch = url.widget(PARAMS["bn_batch"])
        images = replace(PARAMS["bn_image"], options=tuple(range(batch)))  # only the images in the batch
        _clamp_state(url.param_key(images), list(images.options))
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            sample = url.widget(images)
        with c2:
            bn_channel = url.widget(PARAMS["bn_channel"])
        with c3:
            bn_row = url.widget(PARAMS["bn_row"])
        with c4:
            bn_col = url.widget(PARAMS["bn_column"])
        c1, c2 = st.columns(2)
        with c1:
            gamma = url.widget(PARAMS["bn_gamma"])
        with c2:
            shift = url.widget(PARAMS["bn_shift"])
    with slots.race_controls:
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        with c1:
            norms = url.widget(PARAMS["norms"])
        with c2:
            lr = url.widget(PARAMS["lr"])
        c1, c2, c3, c4 = st.columns([2, 2, 1, 2], vertical_alignment="bottom")
        with c1:
            batch_size = url.widget(PARAMS["batch_size"])
        with c2:
            epochs = url.widget(PARAMS["epochs"])
        with c3:
            seed = url.widget(PARAMS["seed"])
        with c4:
            layer = url.widget(PARAMS["layer"])
    race = (NormRaceConfig(norms=tuple(norms), lr=lr, batch_size=batch_size, epochs=epochs, seed=int(seed))
            if norms else None)
    with slots.fm_controls:
        digit = url.widget(PARAMS["digit"])
        run = current_run(RUN_KEY)
        sources = ["fresh", *(run.trainer.runners if run is not None else ())]
        _clamp_state("norms:fm-source", sources)
        fm_source = st.selectbox("First conv layer", sources, key="norms:fm-source",
                                 format_func=lambda s: f"fresh, seed {int(seed)}" if s == "fresh"
                                 else f"trained in the race: {NORM_LABELS[s]}")
    with slots.modes_controls:
        modes_batch = url.widget(PARAMS["mode_batch_size"])
    return Params(grid, tuple(grid_notes), fmap, tuple(fmap_notes), int(n), float(alpha), float(beta), float(k),
                  int(channel), int(position), int(row), int(col), int(torch_size), per, int(batch), int(sample),
                  int(bn_channel), int(bn_row), int(bn_col), float(gamma), float(shift), int(digit), fm_source,
                  race, layer, int(modes_batch), int(seed))


# -- shared data -------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _split() -> DigitsSplit:
    """The digits split (read-only arrays), loaded once per server."""
    return digits_split()


def _agree(gap: float) -> str:
    """How closely two computations agree, in words."""
    return "give exactly the same numbers" if gap == 0 else f"differ by at most {gap:.1e} (rounding)"


def _fmt(v: float) -> str:
    return f"{v:.4g}".replace("-", "−")


def _notes(notes) -> None:
    for note in notes:
        st.warning(note, icon="✏️")


def _no_denominator(p: Params) -> bool:
    """k = 0 and α = 0 (with β > 0): every denominator is 0^β = 0."""
    if p.k == 0 and p.alpha == 0 and p.beta > 0:
        st.warning("With k = 0 and α = 0 every denominator is 0^β = 0: LRN would divide by zero everywhere. "
                   "This is what k is for: it keeps the denominator away from 0. Raise k or α.", icon="➗")
        return True
    return False


def _zero_window_note(terms) -> None:
    if terms.base == 0:
        st.caption("Every value in this window is 0 and k = 0, so the formula reads 0 / 0. The page shows 0 "
                   "(the input there is 0 too); PyTorch's layer returns NaN (not a number) for such a cell.")


# -- 1 · LRN by hand ------------------------------------------------------------------------
def inter_channel(slots: Slots, p: Params) -> None:
    with slots.inter_controls:
        _notes(p.grid_notes)
    with slots.inter_result:
        if _no_denominator(p):
            return
        x = p.grid[None, :, None, :]
        after = local_response_norm(x, p.n, p.alpha, p.beta, p.k)[0, :, 0, :]
        terms = explain_lrn(x, (0, p.channel, 0, p.position), p.n, p.alpha, p.beta, p.k)
        lo, hi = lrn_window(p.channel, p.n, p.grid.shape[0])
        fig = pair_heatmap_figure(
            p.grid, after, title="Each channel divided by the energy of its neighbouring channels",
            x_title="position (x, y)", y_title="channel", before_title="a (before)", after_title="b (after LRN)",
            selected=(p.channel, p.position), window=[(j, p.position) for j in range(lo, hi + 1)], height=300,
            colour_bar=False)
        st.plotly_chart(fig, key="norms:fig:inter")
        st.code(f"b[channel {p.channel}, position {p.position}] = {terms.formula()}", language=None,
                wrap_lines=True)
        half = p.n // 2
        missing = [j for j in range(p.channel - half, p.channel + half + 1) if not 0 <= j < p.grid.shape[0]]
        clipped = (f"; channel {', '.join(_fmt(j) for j in missing)} does not exist, so the sum leaves it out"
                   if missing else "")
        st.caption(f"Orange frame: the window, channels {lo} to {hi} (⌊n/2⌋ = {half} on each side{clipped}). "
                   "Pink frame: the cell the formula explains. Both grids share one colour scale.")
        _zero_window_note(terms)


def intra_channel(slots: Slots, p: Params) -> None:
    with slots.intra_controls:
        _notes(p.fmap_notes)
    with slots.intra_result:
        if _no_denominator(p):
            return
        x = p.fmap[None, None]
        after = local_response_norm(x, p.n, p.alpha, p.beta, p.k, kind="intra")[0, 0]
        terms = explain_lrn(x, (0, 0, p.row, p.col), p.n, p.alpha, p.beta, p.k, kind="intra")
        window = [(r, c) for (_, _, r, c) in terms.neighbours]
        fig = pair_heatmap_figure(
            p.fmap, after, title="Each pixel divided by the energy of the pixels around it",
            x_title="column x", y_title="row y", before_title="a (before)", after_title="b (after LRN)",
            selected=(p.row, p.col), window=window, height=320, colour_bar=False)
        st.plotly_chart(fig, key="norms:fig:intra")
        st.code(f"b[row {p.row}, column {p.col}] = {terms.formula()}", language=None, wrap_lines=True)
        side = 2 * (p.n // 2) + 1
        st.caption(f"Orange frame: the {side} × {side} window around the pink cell ((n+1) × (n+1) for an even n), "
                   f"{len(window)} of its cells inside the map: zeros are assumed beyond the border.")
        _zero_window_note(terms)


# -- 2 · conventions ---------------------------------------------------------------------------
def conventions(slots: Slots, p: Params) -> None:
    grid = p.grid[None, :, None, :]
    half = p.n // 2
    with slots.conventions:
        c1, c2, c3 = st.columns(3, gap="medium")
        with c1:
            st.markdown("**The seed / AlexNet**")
            st.code(f"n = {p.n}, α = {p.alpha:g}\nβ = {p.beta:g}, k = {p.k:g}\n"
                    f"b = a / (k + α·Σa²)^β\nΣ: channels c−{half} … c+{half}", language=None, wrap_lines=True)
            st.caption("α multiplies the plain sum of squares; the window is symmetric, so an odd n and the even "
                       "n below it give the same layer.")
        with c2:
            torch_conv = seed_to_torch(p.n, p.alpha, p.beta, p.k)
            tp = torch_conv.params
            st.markdown("**PyTorch**")
            st.code(f"nn.LocalResponseNorm(\n  size={tp['size']},\n  alpha={tp['alpha']:g},\n  beta={tp['beta']:g},\n"
                    f"  k={tp['k']:g})", language=None, wrap_lines=True)
            st.caption(torch_conv.note)
            if not _no_denominator(p):
                check = check_seed_to_torch(grid, p.n, p.alpha, p.beta, p.k)
                text = (f"✅ Run now on your grid: PyTorch's layer and the seed's formula "
                        f"{_agree(check.gaps[p.n])}.")
                if check.undefined:
                    text += (f" On {check.undefined} cell(s) PyTorch returns NaN (0 / 0, k = 0 and an all-zero "
                             "window) where the seed's formula gives 0.")
                st.caption(text)
        with c3:
            tf_conv = seed_to_tf(p.n, p.alpha, p.beta, p.k)
            fp = tf_conv.params
            st.markdown("**TensorFlow**")
            st.code(f"tf.nn.lrn(\n  x,\n  depth_radius={fp['depth_radius']},\n"
                    f"  bias={fp['bias']:g},\n  alpha={fp['alpha']:g},\n  beta={fp['beta']:g})", language=None,
                    wrap_lines=True)
            st.caption(tf_conv.note + " Always exact (the tests check it against TensorFlow's documented formula). "
                       "tf.nn.lrn is short for tf.nn.local_response_normalization.")
    with slots.reverse_controls:
        st.caption("The other way round: a PyTorch layer written with these numbers, and the seed's parameters "
                   "that compute the same, if any.")
    with slots.reverse_result:
        size = p.torch_size
        st.code(f"nn.LocalResponseNorm(size={size}, alpha={p.alpha:g}, beta={p.beta:g}, k={p.k:g})", language=None,
                wrap_lines=True)
        conv = torch_to_seed(size, p.alpha, p.beta, p.k)
        zero = p.k == 0 and p.alpha == 0 and p.beta > 0
        check = None if zero else check_torch_to_seed(grid, size, p.alpha, p.beta, p.k)
        if conv.exact:
            q = conv.params
            text = (f"**Exact:** the seed's n = {q['n']}, α = {q['alpha']:g}, β = {q['beta']:g}, k = {q['k']:g}. "
                    f"{conv.note}")
            if check is not None:
                gap = check.gaps.get(int(q["n"]), max(check.gaps.values()))
                text += f" On your grid the two {_agree(gap)}."
            st.success(text, icon="✅")
        else:
            text = f"**No exact mapping.** {conv.note}"
            if check is not None:
                misses = "; ".join(f"n = {m} (α/size = {p.alpha / size:g}) misses by up to {gap:.3g}"
                                   for m, gap in check.gaps.items())
                text += f" On your grid: {misses}."
            st.info(text, icon="↔️")


# -- 3 · BN by hand --------------------------------------------------------------------------------
def batch_norm_by_hand(slots: Slots, p: Params) -> None:
    x = bn_example(PAGE_SEED)[: p.batch]
    cell = (p.sample, p.bn_channel, p.bn_row, p.bn_col)
    terms = explain_bn(x, cell, per=p.per, gamma=p.gamma, beta=p.shift)
    normed = batch_norm(x, per=p.per)
    theirs, refusal = torch_batch_norm(x, per=p.per)
    units = BN_C * BN_H * BN_W
    layer = f"BatchNorm1d({units})" if p.per == "activation" else f"BatchNorm2d({BN_C})"
    with slots.bn_controls:
        learned = units if p.per == "activation" else BN_C
        st.caption(f"The batch: {p.batch} activation(s) of shape (C, H, W) = ({BN_C}, {BN_H}, {BN_W}). "
                   f"Here BN is {layer}: it learns {learned} γ and {learned} β.")
    with slots.bn_result:
        c = p.bn_channel
        before, after = x[:, c].reshape(-1, BN_W), normed[:, c].reshape(-1, BN_W)
        ticks = [(s * BN_H + (BN_H - 1) / 2, f"image {s}") for s in range(p.batch)]
        window = [(s * BN_H + p.bn_row, p.bn_col) for s in range(p.batch)] if p.per == "activation" else []
        fig = pair_heatmap_figure(
            before, after, title=f"Channel {c} of each image ({BN_H} rows each)",
            x_title="column", y_title="", before_title="x (before)", after_title="x̂ (after)",
            selected=(p.sample * BN_H + p.bn_row, p.bn_col), window=window, row_ticks=ticks, row_groups=BN_H,
            height=150 + 26 * p.batch * BN_H, colour_bar=False)
        st.plotly_chart(fig, key="norms:fig:bn")
        st.code(f"image {p.sample}, channel {c}, row {p.bn_row}, column {p.bn_col}:\n{terms.formula()}",
                language=None, wrap_lines=True)
        count = len(terms.values)
        if p.per == "activation":
            shown = " + ".join(_fmt(v) for v in terms.values)
            devs = " + ".join(f"({_fmt(v)} − {_fmt(terms.mean)})²" for v in terms.values)
            st.caption(f"Orange frames: the {count} value(s) of this position, one per image, that share μ and σ². "
                       f"μ = ({shown}) / {count} = {_fmt(terms.mean)}; σ² = ({devs}) / {count} = "
                       f"{_fmt(terms.variance)}.")
        else:
            st.caption(f"All {count} values of channel {c} ({p.batch} image(s) × {BN_H * BN_W} positions) share "
                       f"μ = {_fmt(terms.mean)} and σ² = {_fmt(terms.variance)}.")
        if refusal:
            st.warning(refusal, icon="⚠️")
        else:
            gap = float(np.max(np.abs(theirs - normed)))
            st.caption(f"✅ PyTorch's {layer} in training mode on the same batch: the two {_agree(gap)}.")
            note = small_batch_message(p.batch, p.per, BN_H * BN_W)
            if note:
                st.info(note, icon="⚠️")


# -- 4 · feature maps ------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner=False)
def _fresh_maps(digit: int, seed: int):
    return feature_maps(digit, seed=seed, split=_split())


def feature_maps_section(slots: Slots, p: Params) -> None:
    run = current_run(RUN_KEY)
    trained = run is not None and p.fm_source in run.trainer.runners
    if trained:
        fm = feature_maps(p.digit, model=run.trainer.runners[p.fm_source].model, split=_split())
        source = f"the first conv layer of the race's {NORM_LABELS[p.fm_source]} model after {run.trainer.step:,} steps"
    else:
        fm = _fresh_maps(p.digit, p.seed)
        source = f"a freshly initialised first conv layer (seed {p.seed})"
    with slots.fm_digit:
        st.plotly_chart(digit_figure(fm.image, fm.label, height=240), key="norms:fig:digit")
    lrn_torch = seed_to_torch(CNN_LRN.n, CNN_LRN.alpha, CNN_LRN.beta, CNN_LRN.k).params
    with slots.fm_text:
        st.markdown(f"The digit goes through {source}: {fm.before.shape[0]} feature maps of "
                    f"{fm.before.shape[1]} × {fm.before.shape[2]} pixels. Each picture below shares one colour "
                    "scale between its two rows, so a change of size shows as a change of colour.")
    with slots.fm_result:
        st.plotly_chart(feature_maps_figure(fm.before, fm.after_lrn, after_name="after LRN", height=300,
                                            title="Before and after LRN (one colour scale)"),
                        key="norms:fig:fm-lrn")
        st.plotly_chart(feature_maps_figure(fm.before, fm.after_bn, after_name="after BN", height=300,
                                            title="Before and after BN (one colour scale)"),
                        key="norms:fig:fm-bn")
        st.caption(
            f"Largest |activation|: {np.abs(fm.before).max():.2f} before, {np.abs(fm.after_lrn).max():.2f} after "
            f"LRN, {np.abs(fm.after_bn).max():.2f} after BN. LRN as in the race's CNN: (k, α, β, n) = "
            f"({CNN_LRN.k:g}, {CNN_LRN.alpha:g}, {CNN_LRN.beta:g}, {CNN_LRN.n}), nn.LocalResponseNorm(size="
            f"{lrn_torch['size']}, alpha={lrn_torch['alpha']:g}); with k ≥ 1 it can only shrink values and never "
            f"changes their sign. BN uses each channel's mean and variance over all {len(_split().y_train):,} "
            "training digits (what eval mode uses once the running averages settle), without γ and β: every "
            "channel is centred and scaled, so weak channels are boosted and strong ones damped.")


# -- 5 · the race -------------------------------------------------------------------------------------
CHART_HEIGHT = 270
CLASSES = 10  # the digits 0 to 9


def _verdict_lines(snap: NormRaceSnapshot) -> list[tuple[str, str]]:
    """(kind, sentence) for every model that stopped or died."""
    lines = []
    for norm, v in race_verdicts(snap).items():
        label = NORM_LABELS[norm]
        if v.state == "stopped" and v.message:
            lines.append(("warning", v.message))
        elif v.state == "dead":
            lines.append(("info", (
                f"**{label[:1].upper()}{label[1:]} has died; it did not diverge.** At step {v.step:,}, "
                f"{100 * v.dead_share:.1f} % of its ReLU outputs after conv 2 are 0 on the validation digits, so "
                f"almost nothing of the image reaches its classifier: {100 * v.accuracy:.1f} % right (chance: "
                f"{100 / CLASSES:g} %), loss {v.loss:.2f} nats (a uniform guess costs ln {CLASSES} = "
                f"{math.log(CLASSES):.2f}). Its loss stayed finite; no gradient passes a ReLU whose output is 0, so "
                "those units have stopped learning.")))
    return lines


def make_render(layer: str):
    """The ``render(snapshot)`` the live panel calls on every tick."""

    def render(snap: NormRaceSnapshot) -> None:
        verdicts = race_verdicts(snap)
        cols = st.columns(len(snap.norms))
        for col, norm in zip(cols, snap.norms, strict=True):
            v = verdicts[norm]
            col.metric(f"{NORM_LABELS[norm]}: accuracy", f"{100 * v.accuracy:.1f} %",
                       help=f"On the {len(_split().y_val)} held-out digits (eval mode), measured at step {v.step:,}.")
            col.caption(f"{v.state} · dead ReLUs {100 * v.dead_share:.0f} % · loss {v.loss:.2f} nats")
        # one slot, drawn on every tick: a verdict appearing mid-race (a model dying after a raised rate)
        # must not move the charts down a place, which would mount them anew, blank, just then
        verdict_slot, lines = st.empty(), _verdict_lines(snap)
        if lines:
            with verdict_slot.container():
                for kind, line in lines:
                    (st.warning if kind == "warning" else st.info)(line, icon="🛑" if kind == "warning" else "💀")
        run = current_run(RUN_KEY)
        live_charts(CHARTS_KEY, _race_charts(snap, layer, run.run_id if run else 0), columns=3, step=snap.step,
                    markers=run.changes if run else ())

    return render


def _race_charts(snap: NormRaceSnapshot, layer: str, run_id: int) -> list[Chart]:
    """The race's charts; kept while the snapshot stays the same (a paused race redrawn by a rerun)."""
    key = (run_id, snap.step, layer, snap.model_errors.__repr__())
    kept = st.session_state.get(_CHART_CACHE)
    if kept is not None and kept[0] == key:
        return kept[1]
    h = CHART_HEIGHT
    charts = [
        Chart("loss", race_loss_figure(snap, height=h, mark_changes=False), history=True),
        Chart("accuracy", race_accuracy_figure(snap, height=h, mark_changes=False), history=True),
        Chart("dead", dead_relu_figure(snap, height=h, mark_changes=False), history=True),
        Chart("layer", layer_stats_figure(snap, layer, height=h, mark_changes=False), history=True),
    ]
    if snap.bn_steps is not None:
        for stat, running, data in (("mean", snap.bn_running_mean, snap.bn_data_mean),
                                    ("var", snap.bn_running_var, snap.bn_data_var)):
            charts.append(Chart(f"bn_{stat}", running_stats_figure(snap.bn_steps, running, data, stat=stat,
                                                                  height=h), history=True))
    st.session_state[_CHART_CACHE] = (key, charts)
    return charts


_CHART_CACHE = "norms:_race-charts"


def race(slots: Slots, p: Params) -> None:
    steps_per_epoch = math.ceil(len(_split().y_train) / RACE_DEFAULT.batch_size)
    side = math.isqrt(_split().x_train.shape[1])  # pixels per side of a digit
    with slots.race_intro:
        st.markdown(
            f"The same small CNN learns the {side} × {side} digits with each normalisation after both conv layers: "
            "conv → norm → ReLU → max-pool, twice, then a linear layer. Every model starts from the same weights and "
            f"sees the same mini-batches (SGD with momentum {MOMENTUM:g}). The charts show each model's loss and "
            "accuracy, how many of its ReLUs output 0, the mean and spread of one layer's activations, and "
            "BatchNorm's running averages catching up with the statistics of the data.")
        st.info(
            f"**Try this.** Press **Start**. After the first epoch ({steps_per_epoch} steps) raise the learning "
            f"rate from {DEFAULT_LR:g} to {HIGH_LR:g}: the new rate applies to the running models. With the "
            f"settings this page opens with (seed {PAGE_SEED}), the network without normalisation then dies: its "
            "ReLUs after conv 2 all output 0 and it guesses at chance. BatchNorm and LRN keep learning at the "
            "high rate; LRN is the slowest starter of the three.", icon="👀")
    with slots.race_panel:
        if p.race is None:
            st.warning("Pick at least one normalisation to race.", icon="👆")
            return
        config = p.race
        if "bn" in config.norms:
            note = small_batch_message(config.batch_size, "channel", 8 * 8)
            if note:
                st.info(note, icon="⚠️")
        live_training_panel(
            RUN_KEY,
            build=lambda: _new_race(config),
            signature=config,
            render=make_render(p.layer),
            max_steps_per_update=200,
            default_steps_per_update=20,
        )


@st.cache_resource(max_entries=8, show_spinner=False)
def _pristine_race(key: str, _config: NormRaceConfig) -> NormRaceTrainer:
    """An untrained race for the settings ``key`` (their repr), shared by the server: never trained itself."""
    return NormRaceTrainer(_config, split=_split())


def _new_race(config: NormRaceConfig) -> NormRaceTrainer:
    """A fresh race for one session: a copy of the shared untrained one (2 ms instead of 25-50 ms to build
    three CNNs and measure them at step 0, for every student who opens the page). The data tensors are
    only read, so every copy shares them."""
    pristine = _pristine_race(repr(config), config)
    shared = {id(v): v for v in (pristine.split, pristine.x, pristine.y, pristine.x_val, pristine.y_val)}
    return copy.deepcopy(pristine, shared)


# -- 6 · BN's two modes -------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def _modes(run: int | str, step: int, batch: int, _model):
    """``run``: the run's id, or at step 0 its settings (an untrained model is the same for every
    session with those settings: a class opening the page computes it once, not 0.2 s per student)."""
    return bn_modes(_model, batch, _split())


@st.cache_resource(show_spinner=False)
def _cnn_facts() -> dict:
    """Fixed facts of the race's CNN (building one costs a few ms a rerun): BN's momentum and the
    trainable numbers of each normalisation."""
    return {"momentum": make_cnn("bn").norm1.momentum,
            "trainable": {norm: trainable_norm_parameters(norm) for norm in ("lrn", "bn")}}


def bn_modes_section(slots: Slots, p: Params) -> None:
    momentum = _cnn_facts()["momentum"]
    with slots.modes_controls:
        st.markdown(
            "In **training mode** BN normalises each mini-batch with that batch's own mean and variance, and "
            f"updates its running averages: running = {1 - momentum:g} · running + {momentum:g} · batch. In "
            "**eval mode** it uses the running averages instead, so an image's output no longer depends on the "
            "other images it arrives with.")
    with slots.modes_result:
        run = current_run(RUN_KEY)
        if run is None or "bn" not in run.trainer.runners:
            st.info("BatchNorm is not in the race: add it in section 5 to compare its two modes on its model.",
                    icon="👆")
            note = small_batch_message(p.modes_batch, "channel", 8 * 8)
            if note:
                st.info(note, icon="⚠️")
            return
        step = run.trainer.step
        which = repr(run.trainer.config) if step == 0 else run.run_id
        modes = _modes(which, step, p.modes_batch, run.trainer.runners["bn"].model)
        c1, c2 = st.columns(2)
        c1.metric(f"Training mode, batches of {p.modes_batch}", f"{100 * modes.train_mode_accuracy:.1f} %",
                  help="Each batch of validation digits normalised by its own statistics.")
        c2.metric("Eval mode (running statistics)", f"{100 * modes.eval_mode_accuracy:.1f} %")
        st.caption(f"Accuracy on the {len(_split().y_val)} validation digits of the race's BatchNorm model after "
                   f"{step:,} steps. Training mode is measured on a copy that leaves the running averages as "
                   "they are.")
        if step == 0:
            st.caption("The model has not trained yet, so both are near chance: press Start in section 5.")
        if modes.message:
            st.info(modes.message, icon="⚠️")


# -- at a glance --------------------------------------------------------------------------------------
def comparison() -> None:
    st.header("LRN vs BN at a glance")
    st.markdown(
        "| | LRN | BatchNorm |\n|---|---|---|\n"
        f"| Trainable numbers in the race's CNN | {_cnn_facts()['trainable']['lrn']} | "
        f"{_cnn_facts()['trainable']['bn']} (a γ and a β per channel) |\n"
        "| Normalises with | the squares of nearby channels (or pixels) of the same image | the mean and "
        "variance of the mini-batch |\n"
        "| Subtracts a mean | no: it only divides, so signs stay | yes |\n"
        "| Depends on the other images in the batch | no | yes, in training mode |\n"
        "| Training vs evaluation | the same computation | batch statistics vs running averages |\n"
    )
