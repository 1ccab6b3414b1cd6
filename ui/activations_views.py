"""Streamlit pieces of the activation-functions page (page-private): the places, every widget, the sections.

The page asks ``layout()`` for the places of its sections, then ``controls(slots)``
draws every widget of the page (each next to the result it changes) from the table
``core.activations.PARAMS`` and returns the ``Params`` the sections draw with.
Numbers come from ``core.activations``, figures from ``core.plots.activations``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.activations import (
    INIT_NAMES,
    LABELS,
    LATEX,
    MAX_POINTS,
    PARAMETERS,
    PARAMS,
    PRESET_CODES,
    PRESETS,
    RACE_PARAMS,
    ZERO_CENTRED_TOL,
    InitStats,
    Properties,
    RaceConfig,
    Racer,
    RaceSnapshot,
    RaceTrainer,
    RacerSnapshot,
    curves,
    init_statistics,
    points_from_csv,
    preset_config,
    preset_title,
    properties,
    race_values,
    swish_slope_reaches_one,
    validate_points,
)
from core.plots.activations import (
    boundary_spec,
    dead_units_spec,
    gallery_figure,
    grad_norm_spec,
    history_spec,
    init_histogram_figure,
    init_stats_figure,
    points_figure,
    swish_figure,
)
from ui.live import current_run, live_training_panel
from ui.livechart import Chart, clicked, live_charts
from ui.url_state import UrlState

TOPIC = "activations"
RUN_KEY = "activations:race"  # the live panel
CHARTS_KEY = "activations:charts"  # its live view
PLANE_KEY = "activations:plane"  # the plane where own points are placed (a live view that takes clicks)
POINTS_KEY = "activations:points"  # own points: ((x, y, label), ...)
CLASS_KEY = "activations:class1"  # the toggle: clicks add class 1 when on
LAST_CLICK = "activations:last-click"  # the click last applied (one click can arrive twice)
UPLOAD_KEY = "activations:upload"
UPLOAD_SEEN = "activations:upload-seen"  # file id of the upload whose points were loaded

# -- options --------------------------------------------------------------------------------------
# (the controls, their choices and defaults are in core.activations.PARAMS)
# one colour per function, the same in every chart (Okabe & Ito's eight, then a ninth)
FUNCTION_COLOURS = {"relu": "#0072B2", "leaky_relu": "#56B4E9", "elu": "#CC79A7", "gelu": "#999933",
                    "sigmoid": "#AA4499", "tanh": "#D55E00", "softplus": "#999999", "swish": "#E69F00",
                    "mish": "#009E73"}
GALLERY_X = np.linspace(-4.0, 4.0, 401)
SWISH_X = np.linspace(-5.0, 5.0, 501)
LAB_SAMPLES = 512
LAB_SEED = 0
BOUNDARY_HEIGHT = 420
HISTORY_HEIGHT = 300


# -- URL state with a list ----------------------------------------------------------------------------------
url = UrlState(TOPIC)


# -- the places ---------------------------------------------------------------------------------------------
@dataclass
class Slots:
    """Where each section draws: its controls next to its results."""

    gallery_controls: DeltaGenerator
    gallery_chart: DeltaGenerator
    gallery_details: DeltaGenerator
    swish_controls: DeltaGenerator
    swish_chart: DeltaGenerator
    lab_controls: DeltaGenerator
    lab_charts: DeltaGenerator
    race_preset: DeltaGenerator
    race_lesson: DeltaGenerator
    racers: DeltaGenerator
    own: DeltaGenerator  # own data: split into the plane and its controls only when it is shown
    own_plane: DeltaGenerator
    own_controls: DeltaGenerator
    race_controls: DeltaGenerator
    race_panel: DeltaGenerator


def layout() -> Slots:
    """Headers, short texts and empty places for every section, in page order."""
    st.header("1 · The gallery", divider="gray")
    left, right = st.columns([1, 3], gap="medium")
    gallery_controls, gallery_chart = left.container(), right.container()
    gallery_details = st.container()

    st.header("2 · Swish: from x/2 to ReLU", divider="gray")
    left, right = st.columns([1, 3], gap="medium")
    swish_controls, swish_chart = left.container(), right.container()

    st.header("3 · The initialisation lab", divider="gray")
    st.markdown(
        "A fresh deep network, before any training: standard-normal inputs go forward through every layer, "
        "the error of random targets comes back. If each layer shrinks the signal a little, after many layers "
        "nothing is left (**vanishing**); if each layer grows it, it blows up (**exploding**). The activation's "
        "slope and the spread of the initial weights decide which. **Xavier** (Glorot) initialisation keeps "
        "the spread steady for tanh; **He** (Kaiming) initialisation gives the weights twice that variance, to make "
        "up for ReLU zeroing half of its inputs.")
    lab_controls, lab_charts = st.container(), st.container()

    st.header("4 · The race", divider="gray")
    st.markdown(
        "Small networks learn the same points side by side, each with its own activation. Each plane is blue "
        "where its network says class 0 and orange where it says class 1. Change the **learning rate** or the "
        "**noise** while they train: the running networks take the change.")
    c1, c2 = st.columns([1, 1], vertical_alignment="top")
    race_preset, race_lesson = c1.container(), c2.container()
    racers = st.expander("🧠 The networks in the race: activation, depth, width and initialisation of each")
    own = st.container()
    race_controls, race_panel = st.container(), st.container()
    return Slots(gallery_controls, gallery_chart, gallery_details, swish_controls, swish_chart, lab_controls,
                 lab_charts, race_preset, race_lesson, racers, own, own, own, race_controls, race_panel)


# -- every widget -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabSettings:
    activation: str
    init: str
    depth: int
    width: int
    scale: float


@dataclass(frozen=True)
class Params:
    """Everything the widgets set, as the sections use it."""

    functions: tuple[str, ...]
    orders: tuple[int, ...]
    shape: dict  # {name: {parameter: value}} for the functions that have one
    beta: float
    lab: LabSettings
    preset: str
    race: RaceConfig | None  # None while the own points cannot train a race
    race_problem: str  # why there is no race ("" when there is one)
    dataset: str
    points: tuple  # own points ((x, y, label), ...)
    upload_error: str  # a message about an uploaded file ("" when it was fine or there is none)
    upload_note: str


def _apply_preset() -> None:
    """on_change of the preset box (and the reload button): put the preset's race into every race control
    (the network slots it does not use go back to their defaults)."""
    url.apply(RACE_PARAMS, race_values(preset_config(st.session_state[url.param_key(PARAMS["preset"])])))


def _set_points(points: tuple) -> None:
    """Button callback: set the own points (never toggle: a click can arrive twice)."""
    st.session_state[POINTS_KEY] = tuple(points)


def _add_clicked_point() -> None:
    """on_click of the plane: add the clicked point, once per click (a repeated delivery is ignored)."""
    click = clicked(PLANE_KEY)
    if not isinstance(click, dict):
        return
    x, y = click.get("x"), click.get("y")
    event = (click.get("n"), x, y)
    if st.session_state.get(LAST_CLICK) == event:
        return
    st.session_state[LAST_CLICK] = event
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (x, y)):
        return
    points = st.session_state.get(POINTS_KEY, ())
    if len(points) >= MAX_POINTS:
        return
    label = 1 if st.session_state.get(CLASS_KEY, False) else 0
    st.session_state[POINTS_KEY] = (*points, (round(float(x), 3), round(float(y), 3), label))


def _upload(file) -> tuple[str, str]:
    """Load an uploaded CSV's points once per file; (error, note) to show while the file stays in the box."""
    if file is None:
        return "", ""
    try:
        points = points_from_csv(file.getvalue())
    except ValueError as why:
        return f"**{file.name}** cannot be used: {why}", ""
    seen = st.session_state.get(UPLOAD_SEEN)
    if not seen or seen[0] != file.file_id:
        st.session_state[UPLOAD_SEEN] = (file.file_id, points)
        st.session_state[POINTS_KEY] = points
    if tuple(st.session_state.get(POINTS_KEY, ()))[: len(points)] != points:
        return "", ""  # cleared since: the file's points are no longer the data
    return "", f"Loaded {len(points):,} points from **{file.name}** (clicks add to them)."


def controls(slots: Slots) -> Params:
    """Every widget of the page, each in its section's place; returns what they are set to."""
    url.start_from_preset(RACE_PARAMS, PARAMS["preset"], lambda code: race_values(preset_config(code)))
    # 2 · Swish's beta first: the gallery's Swish uses it too
    with slots.swish_controls:
        beta = url.widget(PARAMS["swish_beta"])
    # 1 · the gallery
    with slots.gallery_controls:
        functions, show_f, show_d1, show_d2, slope, alpha = url.widgets(
            PARAMS, ["functions", "show_value", "show_slope", "show_curvature", "leaky_slope", "elu_alpha"]).values()
        st.caption(f"Swish's β = {beta:g} (its slider is in section 2, next to the Swish chart).")
    orders = tuple(k for k, on in ((0, show_f), (1, show_d1), (2, show_d2)) if on)
    shape = {"leaky_relu": {"slope": float(slope)}, "elu": {"alpha": float(alpha)}, "swish": {"beta": float(beta)}}

    # 3 · the initialisation lab
    with slots.lab_controls:
        lab_names = ["lab_activation", "lab_init", "lab_depth", "lab_width", "lab_weight_scale"]
        lab_values = []
        for column, name in zip(st.columns(len(lab_names)), lab_names, strict=True):
            with column:
                lab_values.append(url.widget(PARAMS[name]))
    lab_act, lab_init, lab_depth, lab_width, lab_scale = lab_values
    lab = LabSettings(lab_act, lab_init, int(lab_depth), int(lab_width), float(lab_scale))

    # 4 · the race
    with slots.race_preset:
        c1, c2 = st.columns([6, 1], vertical_alignment="bottom")
        with c1:
            preset = url.widget(PARAMS["preset"], on_change=_apply_preset)
        c2.button("↺", key="activations:reload", on_click=_apply_preset, width="stretch",
                  help="Reload the preset: put back its settings after you changed them.")
    with slots.racers:
        networks = PARAMS["networks"]
        with st.columns([1, 2])[0]:
            count = url.widget(networks)
        specs = []
        for k, column in enumerate(st.columns(int(networks.hi)), start=1):
            off = k > count
            with column:
                st.markdown(f"**Network {k}**" + (" (not racing)" if off else ""))
                act, depth, width, init = (url.widget(PARAMS[f"net{k}_{part}"], disabled=off)
                                           for part in ("activation", "depth", "width", "init"))
            if not off:
                specs.append(Racer(act, int(depth), int(width), init))
    with slots.race_controls:
        c1, c2, c3, c4 = st.columns([2, 3, 3, 2], vertical_alignment="bottom")
    with c1:
        dataset = url.widget(PARAMS["dataset"])
    with c2:
        lr = url.widget(PARAMS["lr"])
    with c3:
        noise = url.widget(PARAMS["noise"])
    with c4:
        with st.popover("More settings", width="stretch"):
            more = url.widgets(PARAMS, ["optimizer", "batch_size", "n_points", "max_steps", "seed"])
    upload_error = upload_note = ""
    if dataset == "custom":
        slots.own_plane, slots.own_controls = slots.own.columns([3, 2], gap="medium")
        with slots.own_controls:
            st.markdown("**Your own points.** Click on the plane to add a point; the race trains on them "
                        "(adding points starts it again).")
            st.toggle("Clicks add orange points (class 1)", key=CLASS_KEY,
                      help="Off: clicks add blue points (class 0).")
            st.button("🗑 Clear the points", key="activations:clear", on_click=_set_points, args=((),))
            file = st.file_uploader("Or upload a CSV with the columns x,y,label", type=["csv", "txt"],
                                    key=UPLOAD_KEY, help=f"A header row x,y,label, then one row per point (at "
                                                         f"most {MAX_POINTS:,}); labels: two values, numbers "
                                                         "or words.")
            upload_error, upload_note = _upload(file)
    points = tuple(st.session_state.get(POINTS_KEY, ()))
    if dataset == "custom":
        with slots.own_plane:
            own_plane(points)

    race, problem = None, ""
    try:
        race = RaceConfig(dataset=dataset, noise=float(noise), lr=float(lr), racers=tuple(specs),
                          optimizer=more["optimizer"], batch_size=int(more["batch_size"]),
                          n_points=int(more["n_points"]), max_steps=int(more["max_steps"]), seed=int(more["seed"]),
                          points=points if dataset == "custom" else ())
    except ValueError as why:
        problem = str(why)
    return Params(tuple(functions), orders, shape, float(beta), lab, preset, race, problem, dataset, points,
                  upload_error, upload_note)


# -- formatting -----------------------------------------------------------------------------------------------
def _num(v: float, digits: int = 4) -> str:
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    text = f"{v:.{digits}g}"
    return "0" if text == "-0" else text.replace("-", "−")


def function_label(name: str, shape: dict | None = None) -> str:
    """The function's name with its parameter, e.g. 'Swish (β = 2)'."""
    label = LABELS[name]
    if shape and name in PARAMETERS and name in shape:
        spec = PARAMETERS[name]
        label += f" ({spec.symbol} = {shape[name][spec.name]:g})"
    return label


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def property_row(name: str, p: Properties, shape: dict | None = None) -> dict[str, str]:
    """One row of the property table, from ``core.activations.properties``."""
    reached = not math.isnan(p.minimum)
    low = _num(p.low) if p.bounded_below else "−∞"
    high = _num(p.high) if p.bounded_above else "∞"
    if p.smooth:
        slope0 = _num(p.slope_at_0)
    else:
        slope0 = f"jumps {_num(p.slope_left_0, 3)} → {_num(p.slope_right_0, 3)}"
    if reached and p.argmin[0] != p.argmin[1]:
        where = "every x ≤ 0" if p.argmin == (-math.inf, 0.0) else f"x in [{_num(p.argmin[0])}, {_num(p.argmin[1])}]"
        minimum = f"{_num(p.minimum)} at {where}"
    elif reached:
        minimum = f"{_num(p.minimum)} at x = {_num(p.argmin[0])}"
    elif p.bounded_below:
        minimum = f"none: approaches {_num(p.low)}"
    else:
        minimum = "none: unbounded below"
    return {
        "function": function_label(name, shape),
        "range": f"{'[' if reached else '('}{low}, {high})",
        "bounded below": _yes(p.bounded_below),
        "bounded above": _yes(p.bounded_above),
        "monotonic": _yes(p.monotonic),
        "smooth": _yes(p.smooth),
        "zero-centred": f"{_yes(p.zero_centred)} (E f(z) = {_num(p.mean_output, 3)})",
        "f(0)": _num(p.value_at_0),
        "f′(0)": slope0,
        "max |f′|": _num(p.max_slope),
        "minimum": minimum,
    }


def property_table(functions, shape: dict) -> pd.DataFrame:
    """One column per function, one row per property (narrow enough for a laptop screen)."""
    rows = [property_row(name, properties(name, **shape.get(name, {})), shape) for name in functions]
    table = pd.DataFrame(rows).set_index("function").T
    table.columns.name = None
    table.index.name = "property"
    return table


# -- 1 · the gallery -------------------------------------------------------------------------------------------
def gallery(slots: Slots, p: Params) -> None:
    with slots.gallery_chart:
        if not p.functions:
            st.info("Pick at least one function on the left.", icon="👈")
        elif not p.orders:
            st.info("Switch on at least one of f, f′ and f″ on the left.", icon="👈")
        data = curves(p.functions, GALLERY_X, p.orders, p.shape) if p.orders else {}
        labels = {name: function_label(name, p.shape) for name in p.functions}
        empty = "Pick at least one function" if not p.functions else "Switch on f, f′ or f″"
        fig = gallery_figure(GALLERY_X, data, labels, colours=FUNCTION_COLOURS, height=470, empty_text=empty)
        st.plotly_chart(fig, key="activations:fig:gallery")
    with slots.gallery_details:
        table, forms = st.tabs(["📋 Properties, computed", "∑ Closed forms"])
        with table:
            if not p.functions:
                st.info("Pick at least one function to see its properties.", icon="👆")
            else:
                st.table(property_table(p.functions, p.shape))
            st.caption(
                "Every entry is measured by `core.activations.properties` on a fine grid that reaches very large "
                "|x|, with slopes by autograd and the minimum refined by root finding, not typed in. **Range**: "
                "the lowest and highest values f takes; '[' when the lowest is reached, '(' when f only "
                "approaches it. **Bounded below / above**: f stops falling / growing at the far ends. "
                "**Monotonic**: f′ never changes sign. **Smooth**: f′ is continuous (no jump at 0, the only place "
                "these functions are pieced together); where it jumps, f′(0) shows the slopes just left and "
                f"right of 0. **Zero-centred**: |E f(z)| < {ZERO_CENTRED_TOL:g} for a standard-normal input z "
                "~ N(0, 1), so a layer's outputs average near 0 when its inputs are standard normal. "
                "**max |f′|**: below 1, every layer of this function can only shrink the gradient it passes "
                "back. **Minimum**: the lowest value f reaches and where.")
        with forms:
            if not p.functions:
                st.info("Pick at least one function to see its formulas.", icon="👆")
            columns = st.columns(2)
            for i, name in enumerate(p.functions):
                f, df = LATEX[name]
                with columns[i % 2]:
                    st.markdown(f"**{LABELS[name]}**")
                    st.latex(f)
                    st.latex(df)
            st.caption("σ is the sigmoid, Φ and φ the standard normal's distribution and density. The charts "
                       "compute f′ and f″ by automatic differentiation (PyTorch's autograd), not from these "
                       "formulas; the tests check the two against each other.")


# -- 2 · Swish's beta ----------------------------------------------------------------------------------------------
def swish_section(slots: Slots, p: Params) -> None:
    beta = p.beta
    values = curves(["swish"], SWISH_X, (0, 1), {"swish": {"beta": beta}})["swish"]
    reach = swish_slope_reaches_one(beta)
    prop = properties("swish", beta=beta)
    minimum = (prop.argmin[0], prop.minimum) if not math.isnan(prop.minimum) else None
    at_one = swish_slope_reaches_one(1.0)
    with slots.swish_chart:
        st.plotly_chart(swish_figure(SWISH_X, values[0], values[1], beta, reach, minimum, height=440),
                        key="activations:fig:swish")
    with slots.swish_controls:
        if math.isfinite(reach):
            st.markdown(f"At β = {beta:g}, |f′(x)| < 1 for every x below **{reach:.4f}** (the diamond), and the "
                        f"slope peaks at {prop.max_slope:.4f} beyond it.")
        else:
            st.markdown(f"At β = {beta:g}, Swish is x/2: its slope is {prop.max_slope:g} everywhere and never "
                        "reaches 1.")
        if minimum is not None:
            st.markdown(f"Its minimum is **{prop.minimum:.4f}** at x = {prop.argmin[0]:.4f} (the green dot): "
                        "below 0, unlike ReLU, so it is non-monotonic.")
        st.caption(f"The seed note says Swish's slope stays below 1 in magnitude for inputs below 'about 1.25'. "
                   f"Computed by root finding at β = 1 (SiLU): {at_one:.4f}. Since Swish_β(x) = Swish_1(βx) / β, "
                   "the point moves as 1/β.")


# -- 3 · the initialisation lab ---------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def _lab_stats(activation: str, init: str, depth: int, width: int, scale: float) -> InitStats:
    return init_statistics(activation, init, depth, width, n_samples=LAB_SAMPLES, seed=LAB_SEED, weight_scale=scale)


def lab_section(slots: Slots, p: Params) -> None:
    lab = p.lab
    stats = _lab_stats(lab.activation, lab.init, lab.depth, lab.width, lab.scale)
    with slots.lab_charts:
        c1, c2 = st.columns(2)
        c1.plotly_chart(init_stats_figure(stats.layers, stats.act_mean, stats.act_std, "activations", height=300),
                        key="activations:fig:lab-act")
        c2.plotly_chart(init_stats_figure(stats.layers, stats.grad_mean, stats.grad_std, "gradients", height=300),
                        key="activations:fig:lab-grad")
        c1.plotly_chart(init_histogram_figure(stats.act_bins, stats.act_hist, "activations", height=300),
                        key="activations:fig:lab-act-hist")
        c2.plotly_chart(init_histogram_figure(stats.grad_bins, stats.grad_hist, "gradients", height=300),
                        key="activations:fig:lab-grad-hist")
        first, last = stats.grad_std[0], stats.grad_std[-1]
        text = (f"{LABELS[lab.activation]}, {INIT_NAMES[lab.init]} init, {lab.depth} layer(s) of {lab.width} "
                f"units, weights × {lab.scale:g}, {LAB_SAMPLES} standard-normal inputs (seed {LAB_SEED}). The "
                f"activations' spread (std) is {stats.act_std[0]:.3g} after layer 1 and {stats.act_std[-1]:.3g} "
                f"after layer {lab.depth}.")
        if lab.depth > 1 and last > 0:
            text += (f" The gradient reaching layer 1 has a spread of {first:.3g}, {first / last:.3g} times that "
                     f"at layer {lab.depth}.")
        st.caption(text + " Histograms: each row is one layer; the end bins hold everything beyond them.")


# -- own data --------------------------------------------------------------------------------------------------
def shown_labels(points: tuple) -> np.ndarray:
    """The own points' classes as the race sees them (the two label values, sorted, become 0 and 1)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    try:
        return validate_points(points)[:, 2].astype(int)
    except ValueError:  # not a valid set yet (say, one class only): show the labels as given
        return (pts[:, 2] != 0).astype(int)


def own_plane(points: tuple) -> None:
    """The plane that takes clicks (drawn by ``controls``: it is an input)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    live_charts(PLANE_KEY, [Chart("plane", points_figure(pts[:, :2], shown_labels(points),
                                                          "Your points: click to add one", height=420),
                                  clickable=True)], columns=1, on_click=_add_clicked_point)


def own_data(slots: Slots, p: Params) -> None:
    if p.dataset != "custom":
        return
    n = len(p.points)
    n1 = int(shown_labels(p.points).sum())
    with slots.own_controls:
        st.markdown(f"**{n:,} point{'' if n == 1 else 's'}**: {n - n1:,} blue (class 0), {n1:,} orange (class 1).")
        if p.upload_error:
            st.error(p.upload_error, icon="🚫")
        elif p.upload_note:
            st.success(p.upload_note, icon="✅")
        if p.race is None and p.race_problem:
            st.info(p.race_problem, icon="☝️")
        elif p.race is not None and p.race.noise > 0:
            st.caption(f"The race adds the noise set below (std {p.race.noise:g}) to your points; set it to 0 to "
                       "train on them exactly where they are.")


# -- 4 · the race ------------------------------------------------------------------------------------------------
def _racer_names(snap: RaceSnapshot) -> list[str]:
    return [f"{i} · {r.label}" for i, r in enumerate(snap.racers, start=1)]


def _boundary_title(name: str, r: RacerSnapshot) -> str:
    text = f"{name}: {100 * r.accuracy[-1]:.1f} % right, loss {r.eval_loss[-1]:.3f} nats"
    return text + (f" · stopped at step {r.step:,}" if r.error else "")


def race_charts(snap: RaceSnapshot) -> list[Chart]:
    """What the race view draws for one snapshot: a plane per network (2-D data), then the histories."""
    names = _racer_names(snap)
    racers = snap.racers
    charts = []
    if snap.points is not None:
        # three decimals are more than a screen shows, and keep each tick's message small
        points = np.round(snap.points, 3)
        for i, (name, r) in enumerate(zip(names, racers, strict=True)):
            charts.append(Chart(f"boundary{i + 1}", boundary_spec(
                snap.grid_x, snap.grid_y, np.round(r.proba, 3), points, snap.labels, _boundary_title(name, r),
                height=BOUNDARY_HEIGHT)))
    charts += [
        Chart("accuracy", history_spec(names, [r.eval_steps for r in racers], [r.accuracy for r in racers],
                                         "accuracy", height=HISTORY_HEIGHT), history=True),
        Chart("loss", history_spec(names, [r.loss_steps for r in racers], [r.losses for r in racers], "loss",
                                     height=HISTORY_HEIGHT), history=True),
        Chart("gradients", grad_norm_spec(names, [r.grad_norms[-1] for r in racers], height=HISTORY_HEIGHT)),
        Chart("dead", dead_units_spec(names, [r.eval_steps for r in racers], [r.dead_fraction for r in racers],
                                        height=HISTORY_HEIGHT), history=True),
    ]
    return charts


def render(snap: RaceSnapshot) -> None:
    """Draw one snapshot of the race (the live panel calls this on every tick)."""
    # one slot on every tick: a network stopping mid-race must not move the charts down a place
    # (the browser would mount them anew, blank for a moment)
    stopped_slot = st.empty()
    stopped = [r.error for r in snap.racers if r.error and not snap.error]
    if stopped:
        with stopped_slot.container():
            for error in stopped:
                st.warning(error + " The other networks go on.", icon="🛑")
    if snap.points is None:
        st.caption("The digits are small images, not points in a plane, so there is no plane to draw: watch the "
                   "accuracy.")
    run = current_run(RUN_KEY)
    live_charts(CHARTS_KEY, race_charts(snap), columns=2, step=snap.step, markers=run.changes if run else ())


def race(slots: Slots, p: Params) -> None:
    with slots.race_lesson:
        name = PRESET_CODES[p.preset]
        if p.race is not None and p.race == preset_config(p.preset) and name is not None:
            st.info(f"**{preset_title(p.preset)}.** {PRESETS[name].lesson}", icon="👀")
        elif name is not None:
            st.caption(f"✏️ You changed the race of the preset “{preset_title(p.preset)}”: its lesson "
                       "describes the preset as loaded (press ↺ Reload to go back to it).")
        else:
            st.caption("Press **Start** and watch the four planes. Then raise the learning rate while they run, or "
                       "pick a preset: each one shows a lesson about activations, checked on the page's seed.")
    with slots.race_panel:
        if p.race is None:
            if p.dataset != "custom":
                st.warning(p.race_problem, icon="⚠️")
            return
        config = p.race
        live_training_panel(
            RUN_KEY,
            build=lambda: RaceTrainer(config),
            signature=config,
            render=render,
            max_steps_per_update=200,
            default_steps_per_update=50,
        )


def notes() -> None:
    st.header("How the race is measured", divider="gray")
    st.markdown(
        "- **The networks** are multi-layer perceptrons: hidden layers of the same width, one activation, a "
        "linear output layer, trained on the same mini-batches with the same optimiser. Networks of the same "
        "shape and initialisation start from the same weights, so the activation is the only difference.\n"
        "- **Live settings**: the learning rate, the noise, the mini-batch size and the number of steps change "
        "the running networks; a dotted line marks the step on the history charts. Any other change (data, "
        "networks, optimiser, seed) starts the race again.\n"
        "- **Accuracy and loss** are measured on all the points every "
        f"{RaceTrainer.EVAL_EVERY} steps; the loss chart also shows every mini-batch's loss (cross-entropy, in "
        "nats).\n"
        "- **Gradient size per layer**: the Frobenius norm of ∂L/∂W for each layer's weights, on all the points. "
        "When the first layers' bars sit far below the last layer's, the early layers barely learn: the gradient "
        "vanished on its way back.\n"
        "- **Dead units**: hidden units that output exactly 0 for every point. Their slope is 0 there too, so no "
        "gradient flows through them and they cannot come back. A function that is exactly 0 on a whole "
        "half-line, like ReLU, can die this way; Leaky ReLU, ELU, Swish and Mish keep a slope there.\n"
        "- **A network that diverges** (its loss becomes infinite, NaN or huge) goes back to its last good state "
        "and stops with its own message; the others go on. Lower the learning rate and press Reset.\n"
        "- **Your points** are centred and scaled into the same box as the built-in sets before training; the "
        "planes show them in your own units.")
