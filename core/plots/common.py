"""Shared look for every figure: a title, labelled axes with units, a legend.

Colours come from Streamlit's theme when a figure is shown with
``st.plotly_chart(..., theme="streamlit")``, so figures read well in light
and dark mode; builders set only structure, never a background.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

# A colour-blind-safe palette (Okabe & Ito), readable on light and dark.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#999999")


def styled(
    fig: go.Figure,
    title: str,
    x_title: str,
    y_title: str,
    *,
    height: int = 360,
    legend: bool = True,
) -> go.Figure:
    """Give ``fig`` a title, axis titles and a compact, consistent layout."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        uirevision="keep",  # keep the user's zoom when a live chart redraws
    )
    return fig


def thin(x: np.ndarray, y: np.ndarray, max_points: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` evenly spaced points (always keeping the last)."""
    n = len(x)
    if n <= max_points:
        return x, y
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return x[idx], y[idx]


def series_figure(
    x: np.ndarray,
    series: Mapping[str, np.ndarray],
    *,
    title: str,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    max_points: int = 600,
    height: int = 320,
    empty_text: str = "No steps yet: press Start",
) -> go.Figure:
    """One line per named series over a shared x (steps, epochs...).

    Long histories are thinned to ``max_points`` so a live chart stays cheap
    to send to the browser however long training runs.
    """
    fig = go.Figure()
    if len(x) == 0:
        fig.add_annotation(text=empty_text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                           font={"size": 14})
    for i, (name, y) in enumerate(series.items()):
        xs, ys = thin(np.asarray(x), np.asarray(y), max_points)
        fig.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", name=name, line={"color": PALETTE[i % len(PALETTE)], "width": 2})
        )
    if log_y:
        fig.update_yaxes(type="log", minorloglabels="none")
    return styled(fig, title, x_title, y_title, height=height, legend=len(series) > 1)


def trace_names(fig: go.Figure) -> Sequence[str]:
    """Names of a figure's traces (handy in tests)."""
    return [t.name for t in fig.data]
