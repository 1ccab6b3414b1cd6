"""Figures for the activation-functions page: plain arrays in, Plotly figure out.

Every figure is built in one constructor call (``figure`` / ``series_figure``).
The race figures are redrawn while training runs, so they stay small: a
41 x 41 heatmap, histories thinned to a few hundred points per line. Each
also has a ``*_spec`` twin returning the same figure as a plain dict, which
the live view sends without Plotly's validation (``go.Figure(spec)`` is the
figure itself: the ``*_figure`` builders are exactly that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from core.plots import fastgo as go

from core.plots.common import PALETTE, base_layout, figure, merge_layout, series_figure, thin, legend_under

ORDER_NAMES = {0: "f", 1: "f′", 2: "f″"}
ORDER_DASH = {0: "solid", 1: "dash", 2: "dot"}
CLASS_COLOURS = ("#0072B2", "#E69F00")  # class 0 blue, class 1 orange (Okabe & Ito)
# pale blue (class 0 likely) to white to pale orange (class 1 likely): the points on top stay visible
BOUNDARY_SCALE = [[0.0, "#9ECAE9"], [0.5, "#F7F7F7"], [1.0, "#F6C77A"]]
REFERENCE = "#999999"
X_TITLE = "input x (pre-activation, unitless)"
LEGEND_BELOW = {"legend": legend_under(-0.2),
                "margin": {"b": 100}}


def gallery_figure(x: np.ndarray, curves: Mapping[str, Mapping[int, np.ndarray]], labels: Mapping[str, str],
                   colours: Mapping[str, str] | None = None, y_range: Sequence[float] = (-1.5, 3.0),
                   height: int = 460, empty_text: str = "Pick at least one function") -> go.Figure:
    """f (solid), f′ (dashed) and f″ (dotted) of each chosen function, one colour per function.

    ``curves`` is ``{name: {order: values at x}}`` as ``core.activations.curves`` returns it;
    ``empty_text`` is written on the plot when there is nothing to draw.
    """
    traces = []
    for i, (name, by_order) in enumerate(curves.items()):
        colour = (colours or {}).get(name, PALETTE[i % len(PALETTE)])
        for order, y in sorted(by_order.items()):
            traces.append(go.Scatter(
                x=x, y=y, mode="lines", name=f"{labels.get(name, name)} {ORDER_NAMES[order]}",
                legendgroup=name, line={"color": colour, "dash": ORDER_DASH[order], "width": 2},
                hovertemplate="x=%{x:.3f}<br>%{y:.4f}<extra>%{fullData.name}</extra>",
            ))
    extra = {"annotations": [{"text": empty_text, "showarrow": False, "xref": "paper",
                              "yref": "paper", "x": 0.5, "y": 0.5}]} if not traces else {}
    return figure(traces, "Activation functions: value f, slope f′ and curvature f″", X_TITLE,
                  "f(x), f′(x), f″(x) (unitless)", height=height,
                  layout={**LEGEND_BELOW, "yaxis": {"range": list(y_range)}, **extra})


def swish_figure(x: np.ndarray, f: np.ndarray, df: np.ndarray, beta: float, reach_x: float,
                 minimum: tuple[float, float] | None = None, height: int = 440) -> go.Figure:
    """Swish at ``beta`` with its slope, its two limits (x/2 and ReLU) and where |f′| first reaches 1."""
    traces = [
        go.Scatter(x=x, y=x / 2, mode="lines", name="β = 0 limit: x/2",
                   line={"color": REFERENCE, "dash": "dot", "width": 1.5}, hoverinfo="skip"),
        go.Scatter(x=x, y=np.maximum(x, 0), mode="lines", name="β → ∞ limit: ReLU",
                   line={"color": REFERENCE, "dash": "dash", "width": 1.5}, hoverinfo="skip"),
        go.Scatter(x=[x[0], x[-1]], y=[1, 1], mode="lines", name="slope 1",
                   line={"color": PALETTE[4], "dash": "dot", "width": 1}, hoverinfo="skip"),
        go.Scatter(x=x, y=f, mode="lines", name=f"Swish f (β = {beta:g})", line={"color": PALETTE[0], "width": 3}),
        go.Scatter(x=x, y=df, mode="lines", name="Swish f′", line={"color": PALETTE[1], "width": 2, "dash": "dash"}),
    ]
    if np.isfinite(reach_x):
        title = f"Swish, β = {beta:g}: |f′| < 1 for every x below {reach_x:.4f}"
        traces.append(go.Scatter(
            x=[reach_x], y=[1.0], mode="markers", name=f"|f′| = 1 first at x = {reach_x:.4f}",
            marker={"color": PALETTE[4], "size": 11, "symbol": "diamond"},
            hovertemplate="x=%{x:.5f}<br>f′=1<extra></extra>"))
    else:
        title = f"Swish, β = {beta:g}: the slope never reaches 1"
    if minimum is not None and np.all(np.isfinite(minimum)):
        traces.append(go.Scatter(
            x=[minimum[0]], y=[minimum[1]], mode="markers", name=f"minimum {minimum[1]:.4f} at x = {minimum[0]:.4f}",
            marker={"color": PALETTE[2], "size": 10}, hovertemplate="x=%{x:.5f}<br>f=%{y:.5f}<extra></extra>"))
    return figure(traces, title, X_TITLE, "f(x), f′(x) (unitless)", height=height,
                  layout={**LEGEND_BELOW, "yaxis": {"range": [-1.0, 3.0]}})


def init_stats_figure(layers: np.ndarray, mean: np.ndarray, std: np.ndarray, what: str = "activations",
                      height: int = 340) -> go.Figure:
    """Per-layer spread of the activations (mean and std) or of the gradients (std, log scale)."""
    if what == "activations":
        return series_figure(
            layers, {"mean": mean, "std": std}, title="Activations at initialisation, layer by layer",
            x_title="hidden layer (1 = next to the input)", y_title="activation value (unitless)", height=height,
            layout={"xaxis": {"dtick": 1}},
        )
    if what != "gradients":
        raise ValueError(f"what must be 'activations' or 'gradients', got {what!r}")
    safe = np.where(std > 0, std, np.nan)
    return series_figure(
        layers, {"std of ∂L/∂h": safe}, title="Gradients at initialisation, layer by layer",
        x_title="hidden layer (1 = next to the input)", y_title="std of ∂L/∂h (loss per unit, log)",
        log_y=True, height=height, layout={"xaxis": {"dtick": 1}, "yaxis": {"exponentformat": "power"}},
    )


def init_histogram_figure(edges: np.ndarray, hist: np.ndarray, what: str = "activations",
                          height: int = 340) -> go.Figure:
    """Histograms of every layer as a heatmap: one row per layer, the share of values per bin."""
    centres = (edges[:-1] + edges[1:]) / 2
    layers = np.arange(1, hist.shape[0] + 1)
    if what == "activations":
        title, x_title = "Where the activations lie, layer by layer", "activation value (unitless; ends hold outliers)"
    elif what == "gradients":
        title, x_title = "How big the gradients are, layer by layer", "log10 |∂L/∂h| (first bin holds zeros)"
    else:
        raise ValueError(f"what must be 'activations' or 'gradients', got {what!r}")
    trace = go.Heatmap(x=centres, y=layers, z=100 * hist, colorscale="Blues", zmin=0,
                       colorbar={"title": {"text": "% of values", "side": "right"}, "thickness": 12},
                       hovertemplate="layer %{y}<br>bin %{x:.2f}<br>%{z:.1f} %<extra></extra>")
    return figure([trace], title, x_title, "hidden layer (1 = next to the input)", height=height, legend=False,
                  layout={"yaxis": {"dtick": 1}})


def _spec(traces: list[dict], title: str, x_title: str, y_title: str, *, height: int, legend: bool = True,
          layout: Mapping | None = None) -> dict:
    """``common.figure``'s look as a plain ``{"data", "layout"}`` dict, without Plotly's validation.

    The race's charts are rebuilt on every live tick: validating them as ``go.Figure`` objects
    and serialising them again cost most of a tick's drawing time. ``go.Figure(spec)`` gives
    the same figure (the ``*_figure`` builders below do that).
    """
    return {"data": traces, "layout": merge_layout(base_layout(title, x_title, y_title, height=height,
                                                               legend=legend), layout or {})}


def boundary_spec(grid_x: np.ndarray, grid_y: np.ndarray, proba: np.ndarray, points: np.ndarray,
                  labels: np.ndarray, title: str, height: int = 360) -> dict:
    """``boundary_figure`` as a plain dict (for the live view)."""
    traces: list[dict] = [{
        "type": "heatmap", "x": grid_x, "y": grid_y, "z": proba, "zmin": 0.0, "zmax": 1.0,
        "colorscale": BOUNDARY_SCALE, "showscale": False, "name": "P(class 1)",
        "hovertemplate": "x=%{x:.2f}<br>y=%{y:.2f}<br>P(class 1)=%{z:.3f}<extra></extra>"}]
    for cls, colour in enumerate(CLASS_COLOURS):
        mask = labels == cls
        traces.append({
            "type": "scatter", "x": points[mask, 0], "y": points[mask, 1], "mode": "markers", "name": f"class {cls}",
            "marker": {"color": colour, "size": 5, "line": {"color": "white", "width": 0.5}}, "hoverinfo": "skip"})
    square = {
        "xaxis": {"range": [float(grid_x[0]), float(grid_x[-1])], "zeroline": False, "constrain": "domain"},
        "yaxis": {"range": [float(grid_y[0]), float(grid_y[-1])], "zeroline": False, "scaleanchor": "x",
                  "scaleratio": 1, "constrain": "domain"},
        "margin": {"l": 50, "r": 10, "t": 50, "b": 40},
    }
    return _spec(traces, title, "x₁ (plane units)", "x₂ (plane units)", height=height, legend=False, layout=square)


def boundary_figure(grid_x: np.ndarray, grid_y: np.ndarray, proba: np.ndarray, points: np.ndarray,
                    labels: np.ndarray, title: str, height: int = 360) -> go.Figure:
    """One racer's P(class 1) over the plane, with the data points on top (as TensorFlow Playground)."""
    return go.Figure(boundary_spec(grid_x, grid_y, proba, points, labels, title, height))


def _racer_lines(labels: Sequence[str], xs: Sequence[np.ndarray], ys: Sequence[np.ndarray],
                 scale: float = 1.0, max_points: int = 500) -> list[dict]:
    traces = []
    for i, (label, x, y) in enumerate(zip(labels, xs, ys, strict=True)):
        tx, ty = thin(np.asarray(x), np.asarray(y) * scale, max_points)
        traces.append({"type": "scatter", "x": tx, "y": ty, "mode": "lines", "name": label,
                       "line": {"color": PALETTE[i % len(PALETTE)], "width": 2}})
    return traces


def _change_lines(change_steps: Sequence[int] | None) -> dict:
    if change_steps is None or not len(change_steps):
        return {}
    return {"shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": int(s), "x1": int(s), "y0": 0, "y1": 1,
                        "line": {"color": REFERENCE, "dash": "dot", "width": 1}} for s in change_steps]}


def history_spec(labels: Sequence[str], steps: Sequence[np.ndarray], values: Sequence[np.ndarray],
                 what: str = "loss", change_steps: Sequence[int] | None = None, height: int = 320) -> dict:
    """``history_figure`` as a plain dict (for the live view)."""
    if what == "loss":
        title, y_title, scale, yaxis = "Training loss (mini-batch)", "cross-entropy (nats, log)", 1.0, {"type": "log"}
    elif what == "accuracy":
        title, y_title, scale, yaxis = "Accuracy on all points", "accuracy (%)", 100.0, {"range": [0, 101]}
    else:
        raise ValueError(f"what must be 'loss' or 'accuracy', got {what!r}")
    traces = _racer_lines(labels, steps, values, scale)
    return _spec(traces, title, "step", y_title, height=height,
                 layout={**LEGEND_BELOW, "yaxis": yaxis, **_change_lines(change_steps)})


def history_figure(labels: Sequence[str], steps: Sequence[np.ndarray], values: Sequence[np.ndarray],
                   what: str = "loss", change_steps: Sequence[int] | None = None, height: int = 320) -> go.Figure:
    """One line per racer: training loss per step (log scale) or accuracy on all points.

    Dotted vertical lines mark the steps where a live setting (learning rate, noise) changed.
    """
    return go.Figure(history_spec(labels, steps, values, what, change_steps, height))


def grad_norm_spec(labels: Sequence[str], norms: Sequence[np.ndarray], height: int = 320) -> dict:
    """``grad_norm_figure`` as a plain dict (for the live view)."""
    depth = max(len(n) for n in norms) - 1
    names = [f"layer {k}" for k in range(1, depth + 1)] + ["output"]
    traces = []
    for i, (label, n) in enumerate(zip(labels, norms, strict=True)):
        x = [f"layer {k}" for k in range(1, len(n))] + ["output"]
        y = np.where(np.asarray(n) > 0, n, np.nan)
        traces.append({"type": "bar", "x": x, "y": y, "name": label, "marker": {"color": PALETTE[i % len(PALETTE)]},
                       "hovertemplate": "%{x}: %{y:.3g}<extra>" + label + "</extra>"})
    return _spec(traces, "Gradient size per layer", "layer (from the input to the output)",
                 "|∂L/∂W| (Frobenius norm, log)", height=height,
                 layout={**LEGEND_BELOW, "barmode": "group", "yaxis": {"type": "log"},
                         "xaxis": {"categoryorder": "array", "categoryarray": names}})


def grad_norm_figure(labels: Sequence[str], norms: Sequence[np.ndarray], height: int = 320) -> go.Figure:
    """Each racer's weight-gradient norm per layer now (log scale): vanishing shows as falling bars."""
    return go.Figure(grad_norm_spec(labels, norms, height))


def dead_units_spec(labels: Sequence[str], steps: Sequence[np.ndarray], dead: Sequence[np.ndarray],
                    height: int = 320) -> dict:
    """``dead_units_figure`` as a plain dict (for the live view)."""
    traces = _racer_lines(labels, steps, dead, 100.0)
    return _spec(traces, "Dead units: output 0 for every point", "step", "dead hidden units (%)", height=height,
                 layout={**LEGEND_BELOW, "yaxis": {"range": [-2, 102]}})


def dead_units_figure(labels: Sequence[str], steps: Sequence[np.ndarray], dead: Sequence[np.ndarray],
                      height: int = 320) -> go.Figure:
    """Share of hidden units that output 0 for every point (dead), per racer over time."""
    return go.Figure(dead_units_spec(labels, steps, dead, height))


def plane_extent(points: np.ndarray | None, base: float = 2.3) -> tuple[float, float, float, float]:
    """A square (x0, x1, y0, y1) around the origin covering [-base, base]² and every point, with a margin."""
    half = base
    if points is not None and len(points):
        half = max(half, 1.1 * float(np.max(np.abs(np.asarray(points, dtype=float)[:, :2]))))
    return -half, half, -half, half


def points_figure(points: np.ndarray, labels: np.ndarray, title: str, height: int = 420,
                  empty_text: str = "Click to add a point") -> go.Figure:
    """The plane where a learner places labelled points: class 0 blue, class 1 orange, equal axes."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    labels = np.asarray(labels).reshape(-1)
    x0, x1, y0, y1 = plane_extent(points)
    traces = []
    for cls, colour in enumerate(CLASS_COLOURS):
        mask = labels == cls
        traces.append(go.Scatter(
            x=points[mask, 0], y=points[mask, 1], mode="markers", name=f"class {cls} ({int(mask.sum())})",
            marker={"color": colour, "size": 8, "line": {"color": "white", "width": 1}},
            hovertemplate="x=%{x:.2f}<br>y=%{y:.2f}<extra>%{fullData.name}</extra>"))
    extra = {"annotations": [{"text": empty_text, "showarrow": False, "xref": "paper", "yref": "paper",
                              "x": 0.5, "y": 0.5, "font": {"size": 14}}]} if not len(points) else {}
    layout = {
        "xaxis": {"range": [x0, x1], "zeroline": False, "constrain": "domain"},
        "yaxis": {"range": [y0, y1], "zeroline": False, "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
        "margin": {"l": 50, "r": 10, "t": 50, "b": 40}, "showlegend": True, **extra,
    }
    return figure(traces, title, "x₁ (plane units)", "x₂ (plane units)", height=height, layout=layout)
