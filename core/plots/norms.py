"""Figures of the LRN vs BN page: plain arrays (or a race snapshot) in, Plotly figures out.

Before/after pictures share ONE colour axis, so a value has the same colour
on both sides and a shrink or shift caused by the normalisation is visible.
Grids put row 0 (channel 0) at the top. Every figure is built in one
constructor call (``core.plots.common.figure``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from core.plots import fastgo as go

from core.norms import LAYER_LABELS, NORM_LABELS, NormRaceSnapshot
from core.plots.common import PALETTE, figure, thin

NORM_COLOURS = {"none": PALETTE[7], "lrn": PALETTE[1], "bn": PALETTE[0], "layer": PALETTE[2], "group": PALETTE[3]}
SELECTED_COLOUR, WINDOW_COLOUR = PALETTE[3], PALETTE[1]
DIVERGING = "RdBu_r"  # signed values: blue below 0, red above, white at 0
SEQUENTIAL = "Viridis"
STEP_AXIS = "training step (mini-batches)"


def shared_range(*arrays) -> tuple[float, float]:
    """One colour range for several arrays: symmetric about 0 when any value is negative."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    if lo < 0:
        m = max(-lo, hi, 1e-12)
        return -m, m
    return min(lo, 0.0), hi if hi > lo else lo + 1.0


def _colour_axis(lo: float, hi: float, title: str) -> dict:
    return {"cmin": lo, "cmax": hi, "colorscale": DIVERGING if lo < 0 else SEQUENTIAL,
            "colorbar": {"title": {"text": title}, "thickness": 12}}


def _boxes(cells: Sequence[Sequence[int]], colour: str, axis: str, width: int) -> list[dict]:
    ref = "" if axis == "1" else axis
    return [{"type": "rect", "xref": f"x{ref}", "yref": f"y{ref}", "x0": c - 0.5, "x1": c + 0.5,
             "y0": r - 0.5, "y1": r + 0.5, "line": {"color": colour, "width": width}} for r, c in cells]


def _label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}"


def pair_heatmap_figure(before, after, *, title: str, x_title: str, y_title: str, before_title: str = "before",
                        after_title: str = "after", selected: Sequence[int] | None = None,
                        window: Sequence[Sequence[int]] = (), colour_title: str = "value",
                        height: int = 340, row_ticks: Sequence[tuple[float, str]] | None = None,
                        row_groups: int | None = None, colour_bar: bool = True) -> go.Figure:
    """Two 2-D grids side by side with one colour scale, each cell labelled with its value.

    ``window`` cells (row, column) are outlined on the left, the ``selected``
    cell on both sides (it is the cell the formula explains). ``row_ticks``
    (position, text) replace the row numbers on the left (the right grid then
    shows none); ``row_groups`` draws a line between every block of that many
    rows (say, the images of a batch stacked). ``colour_bar=False`` leaves out
    the colour bar (every cell is labelled with its value anyway).
    """
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"before and after must be 2-D of one shape, got {a.shape} and {b.shape}")
    lo, hi = shared_range(a, b)
    label = a.size <= 100
    traces = []
    for i, (z, name) in enumerate(((a, before_title), (b, after_title)), start=1):
        ref = "" if i == 1 else str(i)
        traces.append(go.Heatmap(
            z=z, coloraxis="coloraxis", xgap=1, ygap=1, name=name, xaxis=f"x{ref}", yaxis=f"y{ref}",
            text=[[_label(v) for v in row] for row in z] if label else None,
            texttemplate="%{text}" if label else None,
            hovertemplate=f"{name}: row %{{y}}, column %{{x}}: %{{z:.4g}}<extra></extra>",
        ))
    shapes = _boxes(window, WINDOW_COLOUR, "1", 3)
    if selected is not None:
        shapes += _boxes([selected], SELECTED_COLOUR, "1", 4) + _boxes([selected], SELECTED_COLOUR, "2", 4)
    rows, cols = a.shape
    if row_groups:
        for ref in ("", "2"):
            shapes += [{"type": "line", "xref": f"x{ref}", "yref": f"y{ref}", "x0": -0.5, "x1": cols - 0.5,
                        "y0": r - 0.5, "y1": r - 0.5, "line": {"color": PALETTE[7], "width": 3}}
                       for r in range(row_groups, rows, row_groups)]
    x_axis = {"dtick": 1, "showgrid": False, "zeroline": False, "range": [-0.5, cols - 0.5]}
    y_axis = {"title": {"text": y_title}, "autorange": False, "range": [rows - 0.5, -0.5], "dtick": 1,
              "showgrid": False, "zeroline": False}
    y_axis2 = {**y_axis, "anchor": "x2", "title": {"text": ""}}
    if row_ticks is not None:
        y_axis = {**y_axis, "tickvals": [float(v) for v, _ in row_ticks], "ticktext": [t for _, t in row_ticks]}
        y_axis2 = {**y_axis2, "showticklabels": False}
    heads = [{"text": t, "x": x, "xref": "paper", "y": 1.0, "yref": "paper", "yanchor": "bottom",
              "showarrow": False, "font": {"size": 13}} for t, x in ((before_title, 0.21), (after_title, 0.72))]
    return figure(
        traces, title, x_title, y_title, height=height, legend=False,
        xaxis={**x_axis, "domain": [0.0, 0.42]},
        xaxis2={**x_axis, "domain": [0.5, 0.92], "anchor": "y2", "title": {"text": x_title}},
        yaxis=y_axis, yaxis2=y_axis2,
        coloraxis={**_colour_axis(lo, hi, colour_title), "showscale": bool(colour_bar)}, shapes=shapes,
        annotations=heads,
        margin={"t": 80},
    )


def mosaic(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """(C, H, W) maps laid side by side in one (H, C*(W+gap)-gap) array, NaN in the gaps."""
    c, h, w = maps.shape
    out = np.full((h, c * (w + gap) - gap), np.nan)
    for i in range(c):
        out[:, i * (w + gap) : i * (w + gap) + w] = maps[i]
    return out


def feature_maps_figure(before, after, *, after_name: str, title: str | None = None,
                        height: int = 300) -> go.Figure:
    """A digit's conv feature maps (C, H, W): the raw maps on top, ``after_name`` below, one colour scale."""
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if a.ndim != 3 or a.shape != b.shape:
        raise ValueError(f"before and after must be (C, H, W) of one shape, got {a.shape} and {b.shape}")
    c, h, w = a.shape
    gap = 1
    z = np.vstack([mosaic(a, gap), np.full((gap, c * (w + gap) - gap), np.nan), mosaic(b, gap)])
    lo, hi = shared_range(a, b)
    trace = go.Heatmap(z=z, coloraxis="coloraxis", hoverongaps=False,
                       hovertemplate="column %{x}, row %{y}: %{z:.3f}<extra></extra>")
    centres = [i * (w + gap) + (w - 1) / 2 for i in range(c)]
    return figure(
        [trace], title or f"First-layer feature maps before and {after_name} (one colour scale)",
        "channel (8 × 8 pixels each)", "", height=height, legend=False,
        xaxis={"tickvals": centres, "ticktext": [f"ch {i}" for i in range(c)], "showgrid": False, "zeroline": False},
        yaxis={"tickvals": [(h - 1) / 2, h + gap + (h - 1) / 2], "ticktext": ["before", after_name],
               "autorange": "reversed", "scaleanchor": "x", "showgrid": False, "zeroline": False, "title": {"text": ""}},
        coloraxis=_colour_axis(lo, hi, "activation"),
    )


def digit_figure(image, label: int, height: int = 220) -> go.Figure:
    """The 8 x 8 input digit in grey levels."""
    trace = go.Heatmap(z=np.asarray(image, dtype=float), colorscale="Greys", zmin=0, zmax=1, showscale=False,
                       hovertemplate="row %{y}, column %{x}: %{z:.2f}<extra></extra>")
    return figure([trace], f"Input digit (label {label})", "column (pixels)", "row (pixels)", height=height,
                  legend=False, yaxis={"autorange": "reversed", "scaleanchor": "x"}, margin={"l": 40, "r": 10})


# -- the race ---------------------------------------------------------------------------
def _change_marks(changes: Sequence[tuple[int, str]]) -> tuple[list[dict], list[dict]]:
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": s, "x1": s, "y0": 0, "y1": 1,
               "line": {"color": PALETTE[7], "dash": "dot", "width": 1}} for s, _ in changes]
    notes = [{"text": text, "x": s, "xref": "x", "y": 1.0, "yref": "paper", "yanchor": "top", "xanchor": "left",
              "showarrow": False, "font": {"size": 11}} for s, text in changes]
    return shapes, notes


def _stop_marker(norm: str, x: float, y: float) -> go.Scatter:
    return go.Scatter(x=[x], y=[y], mode="markers", name=f"{NORM_LABELS[norm]} stopped",
                      marker={"symbol": "x", "size": 12, "color": NORM_COLOURS[norm]}, showlegend=False,
                      hovertemplate=f"{NORM_LABELS[norm]} stopped here (diverged)<extra></extra>")


def _race_figure(snap: NormRaceSnapshot, xs: dict, ys: dict, *, title: str, y_title: str, log_y: bool = False,
                 y_range: Sequence[float] | None = None, height: int = 320, mark_changes: bool = True) -> go.Figure:
    traces = []
    for norm in snap.norms:
        x, y = thin(np.asarray(xs[norm]), np.asarray(ys[norm]))
        traces.append(go.Scatter(x=x, y=y, mode="lines", name=NORM_LABELS[norm],
                                 line={"color": NORM_COLOURS[norm], "width": 2}))
        if snap.model_errors.get(norm) and len(x):
            traces.append(_stop_marker(norm, x[-1], y[-1]))
    shapes, notes = _change_marks(snap.changes if mark_changes else ())
    extra: dict = {"shapes": shapes, "annotations": notes, "xaxis": {"range": [0, max(snap.max_steps, 1)]}}
    if log_y:
        extra["yaxis"] = {"type": "log"}
    if y_range is not None:
        extra["yaxis"] = {"range": list(y_range)}
    if snap.step == 0:
        extra["annotations"] = notes + [{"text": "No steps yet: press Start", "showarrow": False, "xref": "paper",
                                         "yref": "paper", "x": 0.5, "y": 0.5, "font": {"size": 14}}]
    return figure(traces, title, STEP_AXIS, y_title, height=height, layout=extra)


def race_loss_figure(snap: NormRaceSnapshot, height: int = 320, mark_changes: bool = True) -> go.Figure:
    """Mini-batch cross-entropy of every model per step (log scale); dotted lines mark live changes
    (``mark_changes=False`` when the live view draws its own markers)."""
    return _race_figure(snap, snap.train_steps, snap.train_loss, title="Training loss per mini-batch",
                        y_title="cross-entropy (nats, log scale)", log_y=True, height=height,
                        mark_changes=mark_changes)


def race_accuracy_figure(snap: NormRaceSnapshot, height: int = 320, mark_changes: bool = True) -> go.Figure:
    """Validation accuracy (500 digits, eval mode) of every model."""
    pct = {n: 100 * np.asarray(v) for n, v in snap.val_acc.items()}
    return _race_figure(snap, snap.eval_steps, pct, title="Validation accuracy (500 held-out digits)",
                        y_title="accuracy (%)", y_range=(0, 100), height=height, mark_changes=mark_changes)


def dead_relu_figure(snap: NormRaceSnapshot, height: int = 320, mark_changes: bool = True) -> go.Figure:
    """Share of the ReLU outputs after conv 2 that are exactly 0 on the validation digits, per model.

    At 100 % no image reaches the classifier: the model is dead (not diverged).
    """
    pct = {n: 100 * np.asarray(v)[:, 1] for n, v in snap.dead_fraction.items()}
    return _race_figure(snap, snap.eval_steps, pct, title="Dead ReLUs after conv 2 (outputs that are 0)",
                        y_title="share of ReLU outputs (%)", y_range=(0, 105), height=height,
                        mark_changes=mark_changes)


def layer_stats_figure(snap: NormRaceSnapshot, layer: str = "norm1", height: int = 320,
                       mark_changes: bool = True) -> go.Figure:
    """Mean (dashed) and standard deviation (solid) of one layer's activations, per model (eval mode)."""
    if layer not in LAYER_LABELS:
        raise ValueError(f"layer must be one of {tuple(LAYER_LABELS)}, got {layer!r}")
    i = list(LAYER_LABELS).index(layer)
    traces = []
    for norm in snap.norms:
        steps = snap.eval_steps[norm]
        colour = NORM_COLOURS[norm]
        label = NORM_LABELS[norm]
        traces.append(go.Scatter(x=steps, y=snap.layer_std[norm][:, i], mode="lines", name=label, legendgroup=norm,
                                 line={"color": colour, "width": 2}, hovertemplate=f"{label} std: %{{y:.3f}}<extra></extra>"))
        traces.append(go.Scatter(x=steps, y=snap.layer_mean[norm][:, i], mode="lines", name=f"{label} mean",
                                 legendgroup=norm, showlegend=False, line={"color": colour, "width": 2, "dash": "dash"},
                                 hovertemplate=f"{label} mean: %{{y:.3f}}<extra></extra>"))
    shapes, notes = _change_marks(snap.changes if mark_changes else ())
    return figure(traces, f"“{LAYER_LABELS[layer]}”: std (solid) and mean (dashed)",
                  STEP_AXIS, "activation (unitless)", height=height,
                  layout={"shapes": shapes, "annotations": notes, "xaxis": {"range": [0, max(snap.max_steps, 1)]}})


def running_stats_figure(steps, running, data, *, stat: str = "mean", x_title: str = STEP_AXIS,
                         channels: int = 4, height: int = 320) -> go.Figure:
    """BN's running average (solid) chasing the statistic of all the data (dotted), per channel.

    ``running`` and ``data`` are (points, C), or ``data`` is (C,) for a fixed target.
    """
    running = np.asarray(running, dtype=float)
    data = np.asarray(data, dtype=float)
    if data.ndim == 1:
        data = np.broadcast_to(data, running.shape)
    traces = []
    for c in range(min(channels, running.shape[1] if running.ndim == 2 else 0)):
        colour = PALETTE[c % len(PALETTE)]
        traces.append(go.Scatter(x=steps, y=running[:, c], mode="lines", name=f"ch {c} running",
                                 line={"color": colour, "width": 2}))
        traces.append(go.Scatter(x=steps, y=data[:, c], mode="lines", name=f"ch {c} all data",
                                 line={"color": colour, "width": 1, "dash": "dot"}, showlegend=False))
    word = "mean" if stat == "mean" else "variance"
    return figure(traces, f"BatchNorm's running {word} (solid) and the {word} of all the data (dotted)",
                  x_title, f"conv 1 output {word}", height=height)
