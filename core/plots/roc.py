"""Figures of the ROC page: arrays in, Plotly figures out (no Streamlit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from core.plots import fastgo as go

from core.plots.common import PALETTE, base_layout, merge_layout, legend_under

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
        spec["legend"] = legend_under(-0.12 - 40 / height)
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
                           x_title: str = "score (classifier output, unitless)",
                           x_range: Sequence[float] | None = None, threshold_text: str | None = None,
                           height: int = 320, legend: bool = True,
                           title: str = "Scores by class: right of the line is called positive") -> go.Figure:
    """Bars of each class's scores with the threshold as a vertical line.

    ``share``: heights as a share of each class (%) instead of counts, so a
    rare class stays visible. ``x_range``: a fixed x-axis (the threshold
    slider's range), so moving the threshold never rescales the axis.
    ``threshold_text``: the threshold as the slider prints it. ``legend``:
    off where the page shows one key for several charts.
    """
    centres = (edges[:-1] + edges[1:]) / 2
    width = float(edges[1] - edges[0])
    traces = []
    for name, counts, colour in (("negatives (label 0)", hist_neg, NEG_COLOUR),
                                 ("positives (label 1)", hist_pos, POS_COLOUR)):
        total = max(int(counts.sum()), 1)
        heights = 100.0 * counts / total if share else counts
        traces.append(go.Bar(x=centres, y=heights, width=width, name=name, marker={"color": colour}, opacity=0.6))
    label = threshold_text if threshold_text is not None else f"{threshold:.3g}"
    lines = [vline(threshold, POINT_COLOUR, 3, label=f" threshold {label}")]
    if cost_threshold is not None and np.isfinite(cost_threshold):
        lines.append(vline(cost_threshold, COST_COLOUR, 2, "dash", " cheapest", top=False))
    y_title = "share of its class (%)" if share else "number of cases (count)"
    return figure(traces, title, x_title, y_title, height=height, legend=legend,
                  lines=lines, barmode="overlay", bargap=0, x_range=x_range)


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21; 4.5 is enough for text)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _mix(base: str, amount: float) -> str:
    """``base`` mixed with white: ``amount`` 0 is white, 1 is ``base``."""
    channels = [int(base[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 + (c - 255) * amount):02x}" for c in channels)


CONFUSION_INK = ("#000000", "#ffffff")  # black or white text: on any tile one of them reaches 4.5:1


def confusion_figure(tp: int, fp: int, fn: int, tn: int, *, height: int = 380) -> go.Figure:
    """The 2 x 2 confusion matrix, drawn as four opaque tiles.

    Each tile shows its name, its count (large) and, on its own line, its
    rate within the actual class (TPR, FNR, FPR, TNR). Right calls are blue,
    errors vermillion (orange-red); the colour deepens with the rate. Tiles are opaque and each
    picks dark or light text by contrast, so the matrix reads the same on a
    light and a dark theme.
    """
    n_pos, n_neg = tp + fn, fp + tn
    cells = (  # row (0: actual positive), column (0: predicted positive), name, count, rate name, rate, right call
        (0, 0, "TP", tp, "TPR", tp / n_pos if n_pos else float("nan"), True),
        (0, 1, "FN", fn, "FNR", fn / n_pos if n_pos else float("nan"), False),
        (1, 0, "FP", fp, "FPR", fp / n_neg if n_neg else float("nan"), False),
        (1, 1, "TN", tn, "TNR", tn / n_neg if n_neg else float("nan"), True),
    )
    shapes, notes, xs, ys, hover = [], [], [], [], []
    for row, col, name, count, rate_name, rate, right in cells:
        fill = _mix(NEG_COLOUR if right else POINT_COLOUR, 0.12 + 0.78 * (0.0 if rate != rate else rate))
        ink = max(CONFUSION_INK, key=lambda c, f=fill: contrast_ratio(c, f))
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "x0": col - 0.48, "x1": col + 0.48,
                       "y0": row - 0.48, "y1": row + 0.48, "fillcolor": fill, "line": {"width": 0}, "layer": "below"})
        rate_text = "undefined" if rate != rate else f"{100 * rate:.1f} %"
        for dy, text, size in ((-0.27, name, 15), (0.0, f"<b>{count:,}</b>", 26), (0.27, f"{rate_name} {rate_text}", 15)):
            notes.append({"x": col, "y": row + dy, "xref": "x", "yref": "y", "text": text, "showarrow": False,
                          "font": {"size": size, "color": ink}})
        xs.append(col)
        ys.append(row)
        hover.append(f"{name} = {count:,}; {rate_name} = {rate_text}")
    points = go.Scatter(x=xs, y=ys, mode="markers", marker={"size": 1, "opacity": 0}, text=hover,
                        hovertemplate="%{text}<extra></extra>", showlegend=False)
    axis = {"showgrid": False, "zeroline": False, "tickvals": [0, 1], "tickfont": {"size": 13}}
    return figure([points], "Confusion matrix at this threshold", "prediction (class)", "truth (class)",
                  height=height, legend=False, legend_below=False,
                  xaxis={**axis, "range": [-0.5, 1.5], "ticktext": ["predicted<br>positive", "predicted<br>negative"],
                         "tickangle": 0},
                  yaxis={**axis, "range": [1.5, -0.5], "ticktext": ["actual<br>positive", "actual<br>negative"]},
                  shapes=shapes, annotations=notes, margin={"l": 75, "r": 10, "t": 50, "b": 85})


def _point_trace(x: float, y: float, name: str, colour: str, symbol: str) -> go.Scatter:
    return go.Scatter(x=[x], y=[y], mode="markers", name=name,
                      marker={"color": colour, "size": 14, "symbol": symbol, "line": {"width": 2, "color": "white"}})


UNIT = (-0.02, 1.02)


def roc_figure(curves: Sequence[Curve], *, point: tuple[float, float] | None = None,
               cost_point: tuple[float, float] | None = None, iso_slope: float | None = None,
               population: Curve | None = None, title: str = "ROC curve", height: int = 400,
               legend: bool = True) -> go.Figure:
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
                  height=height, x_range=UNIT, y_range=(-0.02, 1.05), legend=legend)


def pr_figure(curves: Sequence[Curve], *, prevalence: float, point: tuple[float, float] | None = None,
              cost_point: tuple[float, float] | None = None, population: Curve | None = None,
              title: str = "Precision-recall curve", height: int = 400, legend: bool = True) -> go.Figure:
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
                  height=height, x_range=UNIT, y_range=(-0.02, 1.05), legend=legend)


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


def cost_steps(thresholds: np.ndarray, cost_per_case: np.ndarray, x_range: Sequence[float] | None = None,
               exact_at: Sequence[float] = (), max_points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """The cost at every threshold as points of a ``line_shape="vh"`` step line, low to high.

    ``thresholds`` and ``cost_per_case`` are a ``CurveCounts`` layout (``inf``
    first, then the distinct scores decreasing). The cost of a threshold t is
    the one of the lowest listed score >= t, so a point (s, c) holds c on the
    interval just left of s. With ``x_range`` the line runs over all of it:
    below the lowest score every case is called positive, above the highest
    none is (the ``inf`` row). Past ``max_points`` points the line is thinned,
    but it stays exact at every value of ``exact_at`` (say, the slider's
    positions and the cheapest threshold).
    """
    thresholds = np.asarray(thresholds, dtype=float)
    cost_per_case = np.asarray(cost_per_case, dtype=float)
    finite = np.isfinite(thresholds)
    x, y = thresholds[finite][::-1], cost_per_case[finite][::-1]
    if x_range is not None:
        lo, hi = float(x_range[0]), float(x_range[1])
        none_called = cost_per_case[~finite]
        if lo < x[0]:
            x, y = np.concatenate(([lo], x)), np.concatenate(([y[0]], y))
        if hi > x[-1] and len(none_called):
            x, y = np.append(x, hi), np.append(y, none_called[0])
    if len(x) > 2:  # a point whose cost equals the next point's adds nothing to a vh line
        keep = np.concatenate(([True], y[1:-1] != y[2:], [True]))
        x, y = x[keep], y[keep]
    if len(x) > max_points:
        wanted = np.asarray([v for v in exact_at if np.isfinite(v) and x[0] <= v <= x[-1]], dtype=float)
        picked = x[np.unique(np.linspace(0, len(x) - 1, max(2, max_points - len(wanted))).round().astype(int))]
        sample = np.unique(np.concatenate((picked, wanted)))
        y = y[np.searchsorted(x, sample, side="left")]  # what the full line draws there
        x = sample
    return x, y


def cost_figure(thresholds: np.ndarray, cost_per_case: np.ndarray, threshold: float, best: float,
                x_title: str = "threshold (score units)", *, x_range: Sequence[float] | None = None,
                threshold_text: str | None = None, exact_at: Sequence[float] = ()) -> go.Figure:
    """Average cost per case at every threshold, over the whole ``x_range`` (the slider's);
    exact at every value of ``exact_at`` (the slider's positions), at the threshold and at ``best``."""
    x, y = cost_steps(thresholds, cost_per_case, x_range, exact_at=(*exact_at, threshold, best))
    label = threshold_text if threshold_text is not None else f"{threshold:.3g}"
    lines = [vline(threshold, POINT_COLOUR, 3, label=f" threshold {label}")]
    if np.isfinite(best):
        lines.append(vline(best, COST_COLOUR, 2, "dash", " cheapest", top=False))
    line = go.Scatter(x=x, y=y, mode="lines", name="cost per case", line={"color": COST_COLOUR, "width": 2,
                                                                          "shape": "vh"})
    return figure([line], "Average cost per case (solid line: current threshold, dashed: cheapest)", x_title,
                  "cost per case (cost units)", height=300, legend=False, lines=lines, x_range=x_range)


def loss_figure(steps: np.ndarray, losses: np.ndarray, *, height: int = 490) -> go.Figure:
    """The MLP's training loss per step, on a log axis."""
    from core.plots.common import thin

    x, y = thin(np.asarray(steps), np.asarray(losses), 600)
    line = go.Scatter(x=x, y=y, mode="lines", name="training loss", line={"color": PALETTE[0], "width": 2})
    return figure([line], "MLP training loss", "training step (full batch)", "cross-entropy (nats, log scale)",
                  height=height, legend=False, yaxis={"type": "log"})
