"""Figures for the entropy page's Part B, the loss lab on the 8x8 digits.

Snapshots hold losses and entropies in nats; every builder takes the unit
to show ("bits" or "nats") and converts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from core.plots import fastgo as go

from core.info import nats_to
from core.losslab import LossLabSnapshot, Reliability
from core.plots.common import PALETTE, styled
from core.plots.info import legend_below, nice_step

DIGITS = [str(d) for d in range(10)]


def _lines(fig: go.Figure, x, series: Mapping[str, tuple[np.ndarray, dict]]) -> None:
    for name, (y, line) in series.items():
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, line=line, marker={"size": 4}))


def loss_curves_figure(snap: LossLabSnapshot, unit: str = "bits") -> go.Figure:
    """Train / validation cross-entropy per epoch, and the objective being minimised."""
    k = nats_to(unit)
    h = snap.history
    fig = go.Figure()
    _lines(fig, snap.epochs, {
        "training cross-entropy": (h["train_ce"] * k, {"color": PALETTE[0], "width": 2}),
        "validation cross-entropy": (h["val_ce"] * k, {"color": PALETTE[1], "width": 3}),
        "training objective (the loss being minimised)": (h["objective"] * k, {"color": PALETTE[7], "dash": "dot"}),
    })
    return legend_below(styled(fig, "Loss per epoch", "epoch", f"loss ({unit} per image)", height=320), rows=2)


def accuracy_figure(snap: LossLabSnapshot) -> go.Figure:
    h = snap.history
    fig = go.Figure()
    _lines(fig, snap.epochs, {
        "training accuracy": (h["train_acc"] * 100, {"color": PALETTE[0], "width": 2}),
        "validation accuracy": (h["val_acc"] * 100, {"color": PALETTE[1], "width": 3}),
    })
    fig.update_yaxes(range=[0, 101])
    return legend_below(styled(fig, "Accuracy per epoch", "epoch", "accuracy (% of images)", height=320), rows=2)


def confidence_figure(snap: LossLabSnapshot, unit: str = "bits") -> go.Figure:
    """Mean entropy of the predictions and the calibration error, per epoch (two y axes)."""
    k = nats_to(unit)
    h = snap.history
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=snap.epochs, y=h["val_entropy"] * k, mode="lines+markers", marker={"size": 4},
                             name="mean entropy of the predictions", line={"color": PALETTE[2], "width": 3}))
    fig.add_trace(go.Scatter(x=snap.epochs, y=h["val_ece"] * 100, mode="lines+markers", marker={"size": 4},
                             name="expected calibration error", yaxis="y2", line={"color": PALETTE[4], "dash": "dash"}))
    fig = styled(fig, "How sure, and how honest (validation)", "epoch", f"mean output entropy ({unit})", height=320)
    top = float(np.nanmax(h["val_ece"])) * 100 * 1.05 + 1e-9
    fig.update_layout(yaxis2={"title": {"text": "ECE (% points)"}, "overlaying": "y", "side": "right",
                              "range": [0, top], "showgrid": False, "tickmode": "linear", "tick0": 0,
                              "dtick": nice_step(top)})
    fig.update_layout(yaxis={"rangemode": "tozero"})
    fig = legend_below(fig, rows=2)
    fig.update_layout(margin={"r": 60})
    return fig


def reliability_figure(rel: Reliability, title_suffix: str = "") -> go.Figure:
    """Accuracy against confidence per bin; a calibrated model sits on the diagonal."""
    centres = 0.5 * (rel.edges[:-1] + rel.edges[1:])
    width = float(rel.edges[1] - rel.edges[0])
    has = rel.counts > 0
    fig = go.Figure()
    fig.add_trace(go.Bar(x=centres[has], y=rel.accuracy[has], width=width * 0.92, name="accuracy in the bin (number: images in it)",
                         marker_color=PALETTE[0], text=[f"{c}" for c in rel.counts[has]], textposition="inside",
                         insidetextanchor="end", customdata=np.stack([rel.counts[has], rel.confidence[has]], axis=1),
                         hovertemplate="confidence %{x:.2f}±0.05<br>accuracy %{y:.2f}<br>"
                                       "mean confidence %{customdata[1]:.2f}<br>%{customdata[0]} images<extra></extra>"))
    fig.add_trace(go.Scatter(x=centres[has], y=rel.confidence[has], mode="markers", name="mean confidence in the bin",
                             marker={"color": PALETTE[4], "symbol": "line-ew-open", "size": 22, "line": {"width": 3}}))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                             line={"color": PALETTE[7], "dash": "dot"}))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    fig = styled(fig, f"Reliability diagram (ECE {rel.ece * 100:.1f} % points){title_suffix}",
                 "confidence: top-class probability (fraction)", "accuracy (fraction correct)", height=320)
    return legend_below(fig, rows=2)


def digit_figure(image: np.ndarray, label: int) -> go.Figure:
    """One 8x8 digit as a grey-scale picture."""
    fig = go.Figure(go.Heatmap(z=np.asarray(image)[::-1], colorscale="Greys", showscale=False, zmin=0, zmax=1,
                               hovertemplate="row %{y}, column %{x}: ink %{z:.2f}<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x")
    return styled(fig, f"Validation image: a {label}", "8 pixels (columns)", "8 pixels (rows)",
                  height=300, legend=False)


def class_probabilities_figure(named: Mapping[str, np.ndarray], title: str, label: int | None = None) -> go.Figure:
    """Grouped bars of one or more probability vectors over the ten digits."""
    colours = (PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3])
    fig = go.Figure()
    for i, (name, probs) in enumerate(named.items()):
        fig.add_trace(go.Bar(x=DIGITS, y=probs, name=name, marker_color=colours[i % len(colours)],
                             hovertemplate="digit %{x}: %{y:.4f}<extra></extra>"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.02])
    if label is not None:
        fig.update_xaxes(tickmode="array", tickvals=DIGITS,
                         ticktext=[f"<b>{d} (label)</b>" if d == str(label) else d for d in DIGITS])
    return legend_below(styled(fig, title, "digit (class)", "probability (fraction)", height=300),
                        rows=max(1, (len(named) + 1) // 2))


RUN_METRICS = {
    "val_acc": ("validation accuracy", "accuracy (% of images)", 100.0),
    "val_ce": ("validation cross-entropy", "loss ({unit} per image)", None),
    "val_ece": ("expected calibration error", "ECE (% points)", 100.0),
    "val_entropy": ("mean output entropy", "entropy ({unit})", None),
}


def runs_figure(runs: Sequence[tuple[str, np.ndarray, np.ndarray]], metric: str, unit: str = "bits") -> go.Figure:
    """One line per run: (label, epochs, values in nats or fractions)."""
    name, y_title, scale = RUN_METRICS[metric]
    scale = nats_to(unit) if scale is None else scale
    fig = go.Figure()
    for i, (label, epochs, values) in enumerate(runs):
        last = i == len(runs) - 1
        fig.add_trace(go.Scatter(x=epochs, y=np.asarray(values) * scale, mode="lines", name=label,
                                 line={"color": PALETTE[i % len(PALETTE)], "width": 3 if last else 2,
                                       "dash": None if last else "dot"}))
    fig = styled(fig, f"Your last runs compared: {name}", "epoch", y_title.format(unit=unit), height=360)
    fig.update_layout(legend={"orientation": "v", "y": -0.25, "x": 0, "xanchor": "left", "yanchor": "top"},
                      height=360 + 22 * len(runs))
    return fig
