"""Figures for the home page's live regression demo."""

from __future__ import annotations

import numpy as np
from core.plots import fastgo as go

from core.plots.common import PALETTE, figure, series_figure
from core.regression import RegressionSnapshot


def fit_figure(snap: RegressionSnapshot) -> go.Figure:
    """The noisy points, the true curve and the network's current fit."""
    traces = [
        go.Scatter(x=snap.x, y=snap.y, mode="markers", name="training points", marker={"color": PALETTE[7], "size": 6}),
        go.Scatter(x=snap.grid, y=snap.truth, mode="lines", name="true curve",
                   line={"color": PALETTE[2], "dash": "dot", "width": 2}),
        go.Scatter(x=snap.grid, y=snap.fit, mode="lines", name="network", line={"color": PALETTE[0], "width": 3}),
    ]
    return figure(traces, f"The network's fit after {snap.step:,} steps", "input x (unitless)", "output y (unitless)")


def loss_figure(snap: RegressionSnapshot) -> go.Figure:
    """Training loss per step, on a log axis; after a divergence, the blow-up that was rolled back."""
    extra = []
    if snap.blowup_steps is not None and len(snap.blowup_steps):
        ys = np.asarray(snap.blowup_losses, dtype=float)
        finite = np.isfinite(ys) & (ys > 0)
        known = np.concatenate([ys[finite], np.asarray(snap.losses, dtype=float)])
        ceiling = float(known.max()) * 10 if len(known) else 1e6
        shown = np.where(finite, ys, ceiling)  # NaN or infinity: drawn at the top, marked with a cross
        extra.append(go.Scatter(
            x=snap.blowup_steps, y=shown, mode="lines+markers", name="diverged steps (rolled back; × = NaN or ∞)",
            line={"color": PALETTE[4], "width": 2, "dash": "dot"},
            marker={"color": PALETTE[4], "size": [6 if f else 12 for f in finite],
                    "symbol": ["circle" if f else "x" for f in finite]},
        ))
    return series_figure(
        snap.loss_steps,
        {"training MSE": snap.losses},
        title="Mean squared error while training",
        x_title="training step",
        y_title="MSE (squared units of y, log scale)",
        log_y=True,
        extra_traces=extra,
        empty_text="" if extra else "No steps yet: press Start",
    )
