"""Figures of the ROC page: arrays in, Plotly figures out (no Streamlit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from core.plots.common import PALETTE, base_layout, merge_layout

NEG_COLOUR, POS_COLOUR = PALETTE[0], PALETTE[1]
POINT_COLOUR, COST_COLOUR = PALETTE[4], PALETTE[2]


def figure(traces: Sequence, title: str, x_title: str, y_title: str, *, height: int = 360,
           legend: bool = True, legend_below: bool = True, x_range: Sequence[float] | None = None,
           y_range: Sequence[float] | None = None, lines: Sequence[tuple[dict, list]] = (), **layout) -> go.Figure:
    """``core.plots.common.figure`` with this page's extras, in one constructor
    call (this page redraws six figures on every threshold move).
    ``legend_below`` puts the legend under the x-axis title, where it never
    covers the title or the curves; ``lines`` are vertical lines from ``vline``.
    """
    rows = 0
    if legend and legend_below:
        rows = 40 + 18 * ((len([t for t in traces if getattr(t, "showlegend", None) is not False]) + 1) // 2)
    spec = base_layout(title, x_title, y_title, height=height + rows, legend=legend)
    if x_range is not None:
        spec["xaxis"]["range"] = list(x_range)
    if y_range is not None:
        spec["yaxis"]["range"] = list(y_range)
    if legend_below:
        spec["margin"].update(t=50, b=50 + rows)
        spec["legend"] = {"orientation": "h", "yanchor": "top", "y": -0.12 - 40 / height, "xanchor": "left", "x": 0.0}
    spec["shapes"] = [s for s, _ in lines]
    spec["annotations"] = [a for _, notes in lines for a in notes]
    merge_layout(spec, layout)
    return go.Figure(data=list(traces), layout=spec)


def vline(x: float, colour: str, width: int, dash: str = "solid", label: str = "",
          top: bool = True) -> tuple[dict, list]:
    """A vertical line (and its label) as a layout shape: much cheaper than ``fig.add_vline``."""
    shape = {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
             "line": {"color": colour, "width": width, "dash": dash}}
    notes = [{"x": x, "xref": "x", "yref": "paper", "y": 1.0 if top else 0.9, "yanchor": "bottom" if top else "top",
              "xanchor": "left", "text": label, "showarrow": False, "font": {"color": colour}}] if label else []
    return shape, notes


def simplify_curve(x: np.ndarray, y: np.ndarray, max_points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Fewer points, same picture: drop points in the middle of straight
    runs (collinear with both neighbours), then thin evenly if still too many.
    The first and last points are always kept."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) > 2:
        dx1, dy1 = x[1:-1] - x[:-2], y[1:-1] - y[:-2]
        dx2, dy2 = x[2:] - x[1:-1], y[2:] - y[1:-1]
        bend = np.abs(dx1 * dy2 - dy1 * dx2) > 1e-12
        keep = np.concatenate(([True], bend, [True]))
        x, y = x[keep], y[keep]
    if len(x) > max_points:
        idx = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(int))
        x, y = x[idx], y[idx]
    return x, y


def simplify_steps(x: np.ndarray, y: np.ndarray, max_points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Fewer points for a curve drawn as steps (horizontal, then vertical):
    a point at the same height as the previous one adds nothing."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) > 2:
        keep = np.concatenate(([True], y[1:-1] != y[:-2], [True]))
        x, y = x[keep], y[keep]
    if len(x) > max_points:
        idx = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(int))
        x, y = x[idx], y[idx]
    return x, y


@dataclass(frozen=True)
class Curve:
    """One named curve: x and y in the figure's coordinates."""

    name: str
    x: np.ndarray
    y: np.ndarray


def score_histogram_figure(edges: np.ndarray, hist_neg: np.ndarray, hist_pos: np.ndarray, threshold: float,
                           *, share: bool = False, cost_threshold: float | None = None,
                           x_title: str = "score (classifier output, unitless)") -> go.Figure:
    """Bars of each class's scores with the threshold as a vertical line.

    ``share``: heights as a share of each class (%) instead of counts, so a
    rare class stays visible.
    """
    centres = (edges[:-1] + edges[1:]) / 2
    width = float(edges[1] - edges[0])
    traces = []
    for name, counts, colour in (("negatives (label 0)", hist_neg, NEG_COLOUR),
                                 ("positives (label 1)", hist_pos, POS_COLOUR)):
        total = max(int(counts.sum()), 1)
        heights = 100.0 * counts / total if share else counts
        traces.append(go.Bar(x=centres, y=heights, width=width, name=name, marker={"color": colour}, opacity=0.6))
    lines = [vline(threshold, POINT_COLOUR, 3, label=f" threshold {threshold:.3g}")]
    if cost_threshold is not None and np.isfinite(cost_threshold):
        lines.append(vline(cost_threshold, COST_COLOUR, 2, "dash", " cheapest", top=False))
    y_title = "share of its class (%)" if share else "number of cases (count)"
    return figure(traces, "Scores by class: right of the line is called positive", x_title, y_title, height=320,
                  lines=lines, barmode="overlay", bargap=0)


def confusion_figure(tp: int, fp: int, fn: int, tn: int) -> go.Figure:
    """The 2 x 2 confusion matrix: counts, and each cell's share of its actual class."""
    n_pos, n_neg = tp + fn, fp + tn
    rates = np.array([[tp / n_pos, fn / n_pos], [fp / n_neg, tn / n_neg]])
    names = [["TP", "FN"], ["FP", "TN"]]
    rate_names = [["TPR", "FNR"], ["FPR", "TNR"]]
    counts = [[tp, fn], [fp, tn]]
    text = [[f"<b>{names[i][j]} = {counts[i][j]:,}</b><br>{rate_names[i][j]} {100 * rates[i][j]:.1f} %"
             for j in range(2)] for i in range(2)]
    heat = go.Heatmap(
        z=rates, x=["predicted positive", "predicted negative"], y=["actual positive", "actual negative"],
        text=text, texttemplate="%{text}", textfont={"size": 15}, zmin=0, zmax=1,
        colorscale=[[0, "rgba(0,114,178,0.05)"], [1, "rgba(0,114,178,0.75)"]], showscale=False,
        hovertemplate="%{y}, %{x}: %{text}<extra></extra>",
    )
    return figure([heat], "Confusion matrix (% of each actual class)", "prediction at this threshold (class)",
                  "truth (class)", height=340, legend=False, yaxis={"autorange": "reversed"})


def _point_trace(x: float, y: float, name: str, colour: str, symbol: str) -> go.Scatter:
    return go.Scatter(x=[x], y=[y], mode="markers", name=name,
                      marker={"color": colour, "size": 14, "symbol": symbol, "line": {"width": 2, "color": "white"}})


UNIT = (-0.02, 1.02)


def roc_figure(curves: Sequence[Curve], *, point: tuple[float, float] | None = None,
               cost_point: tuple[float, float] | None = None, iso_slope: float | None = None,
               population: Curve | None = None, title: str = "ROC curve") -> go.Figure:
    """TPR against FPR; the chance diagonal; optional current and cheapest points.

    ``iso_slope``: slope of the iso-cost line through ``cost_point``
    (every point on it costs the same).
    """
    traces = [go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance (AUC 0.5)",
                         line={"color": PALETTE[7], "dash": "dot", "width": 1})]
    if population is not None:
        traces.append(go.Scatter(x=population.x, y=population.y, mode="lines", name=population.name,
                                 line={"color": PALETTE[7], "dash": "dash", "width": 2}))
    for i, c in enumerate(curves):
        x, y = simplify_curve(c.x, c.y)
        traces.append(go.Scatter(x=x, y=y, mode="lines", name=c.name, line={"color": PALETTE[i % 4], "width": 3}))
    if cost_point is not None and iso_slope is not None and np.isfinite(iso_slope):
        xs = np.array([0.0, 1.0])
        traces.append(go.Scatter(x=xs, y=cost_point[1] + iso_slope * (xs - cost_point[0]), mode="lines",
                                 name="equal-cost line", line={"color": COST_COLOUR, "dash": "dash", "width": 1}))
    if cost_point is not None:
        traces.append(_point_trace(*cost_point, "cheapest threshold", COST_COLOUR, "diamond"))
    if point is not None:
        traces.append(_point_trace(*point, "current threshold", POINT_COLOUR, "circle"))
    return figure(traces, title, "false positive rate, FP / N (fraction)", "true positive rate, TP / P (fraction)",
                  height=400, x_range=UNIT, y_range=(-0.02, 1.05))


def pr_figure(curves: Sequence[Curve], *, prevalence: float, point: tuple[float, float] | None = None,
              cost_point: tuple[float, float] | None = None, population: Curve | None = None,
              title: str = "Precision-recall curve") -> go.Figure:
    """Precision against recall, drawn as steps; the no-skill line sits at the prevalence.

    Give each curve in scikit-learn's order (recall decreasing): each step
    is then one rectangle of the average-precision sum.
    """
    traces = [go.Scatter(x=[0, 1], y=[prevalence, prevalence], mode="lines",
                         name=f"no skill (precision = prevalence {100 * prevalence:.3g} %)",
                         line={"color": PALETTE[7], "dash": "dot", "width": 1})]
    if population is not None:
        traces.append(go.Scatter(x=population.x, y=population.y, mode="lines", name=population.name,
                                 line={"color": PALETTE[7], "dash": "dash", "width": 2}))
    for i, c in enumerate(curves):
        x, y = simplify_steps(c.x, c.y)
        traces.append(go.Scatter(x=x, y=y, mode="lines", name=c.name,
                                 line={"color": PALETTE[i % 4], "width": 3, "shape": "hv"}))
    if cost_point is not None:
        traces.append(_point_trace(*cost_point, "cheapest threshold", COST_COLOUR, "diamond"))
    if point is not None:
        traces.append(_point_trace(*point, "current threshold", POINT_COLOUR, "circle"))
    return figure(traces, title, "recall = TPR, TP / P (fraction)", "precision, TP / (TP + FP) (fraction)",
                  height=400, x_range=UNIT, y_range=(-0.02, 1.05))


def bootstrap_figure(auc_reps: np.ndarray, ap_reps: np.ndarray, auc_ci: tuple[float, float],
                     ap_ci: tuple[float, float]) -> go.Figure:
    """Histograms of the bootstrap replicates of AUC and AP, with their intervals."""
    traces, lines = [], []
    for name, reps, ci, colour in (("AUC", auc_reps, auc_ci, PALETTE[0]), ("AP", ap_reps, ap_ci, PALETTE[1])):
        counts, edges = np.histogram(reps, bins=40)
        traces.append(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=float(edges[1] - edges[0]),
                             name=f"{name} of each resample", marker={"color": colour}, opacity=0.6))
        lines += [vline(v, colour, 1, "dash") for v in ci]
    return figure(traces, "Bootstrap resamples: dashed lines bound the interval", "AUC or AP (fraction)",
                  "number of resamples (count)", height=300, lines=lines, barmode="overlay", bargap=0)


def cost_figure(thresholds: np.ndarray, cost_per_case: np.ndarray, threshold: float, best: float,
                x_title: str = "threshold (score units)") -> go.Figure:
    """Average cost per case at every threshold (finite thresholds only)."""
    finite = np.isfinite(thresholds)
    x, y = simplify_steps(thresholds[finite], cost_per_case[finite])
    lines = [vline(threshold, POINT_COLOUR, 3)]
    if np.isfinite(best):
        lines.append(vline(best, COST_COLOUR, 2, "dash"))
    line = go.Scatter(x=x, y=y, mode="lines", name="cost per case", line={"color": COST_COLOUR, "width": 2,
                                                                          "shape": "hv"})
    return figure([line], "Average cost per case (solid line: current threshold, dashed: cheapest)", x_title,
                  "cost per case (cost units)", height=300, legend=False, lines=lines)


def loss_figure(steps: np.ndarray, losses: np.ndarray, *, height: int = 490) -> go.Figure:
    """The MLP's training loss per step, on a log axis."""
    from core.plots.common import thin

    x, y = thin(np.asarray(steps), np.asarray(losses), 600)
    line = go.Scatter(x=x, y=y, mode="lines", name="training loss", line={"color": PALETTE[0], "width": 2})
    return figure([line], "MLP training loss", "training step (full batch)", "cross-entropy (nats, log scale)",
                  height=height, legend=False, yaxis={"type": "log"})
