"""Figures for the entropy page's Part A: two distributions, their entropies and
KL divergences, the binary entropy curve, and the forward / reverse KL fits.

Pure builders: arrays and dataclasses in, ``plotly.graph_objects.Figure`` out.
Infinite values (``-log 0``) cannot be drawn as bars: they are drawn as a
hatched stub with an "∞" label, and the page says why in a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from core.plots import fastgo as go

from core.info import Comparison, binary_entropy, nats_to
from core.info_fit import KLFitSnapshot, moment_match
from core.plots.common import PALETTE, series_figure, styled

P_COLOUR, Q_COLOUR, KL_COLOUR = PALETTE[0], PALETTE[1], PALETTE[4]


def legend_below(fig: go.Figure, rows: int = 1) -> go.Figure:
    """Move the legend to the bottom edge, under the x-axis title (long legend
    names at the top would collide with the chart title)."""
    fig.update_layout(
        legend={"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom", "x": 0.0, "xanchor": "left"},
        margin={"b": 62 + 22 * rows},
        height=fig.layout.height + 22 * rows,
    )
    return fig


def nice_step(top: float, ticks: int = 4) -> float:
    """A round tick spacing (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks up to ``top``."""
    raw = max(top, 1e-9) / ticks
    power = 10 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def clean(value: float, digits: int = 2) -> float:
    """``value`` with a rounding-size negative (which prints as "-0.00") set to 0."""
    return 0.0 if abs(value) < 0.5 * 10**-digits else value


def _finite_bars(values: np.ndarray, others: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, list[str], float]:
    """Bar heights with infinities replaced by a stub taller than every finite bar
    (of ``values`` and of the ``others`` drawn beside them), their text labels,
    and the stub height."""
    values = np.asarray(values, dtype=float)
    every = np.concatenate([values, *[np.asarray(o, dtype=float) for o in others]])
    finite = every[np.isfinite(every)]
    top = float(finite.max()) if finite.size else 0.0
    stub = max(top * 1.15, 1.0)
    heights = np.where(np.isfinite(values), values, stub)
    text = ["∞" if not np.isfinite(v) else f"{clean(v):.2f}" for v in values]
    return heights, text, stub


def _pattern(values: np.ndarray) -> dict:
    """Faint white hatching marks a bar that stands for an infinite value."""
    return {"shape": ["/" if not np.isfinite(v) else "" for v in values], "fillmode": "overlay",
            "fgcolor": "white", "fgopacity": 0.6}


def distributions_figure(cmp: Comparison, labels: Sequence[str]) -> go.Figure:
    """P and Q side by side, one pair of bars per outcome."""
    bars = [go.Bar(x=list(labels), y=probs, name=name, marker_color=colour,
                   text=[f"{v:.2f}" for v in probs], textposition="outside")
            for name, probs, colour in (("P", cmp.p, P_COLOUR), ("Q", cmp.q, Q_COLOUR))]
    top = min(1.15, max(float(cmp.p.max()), float(cmp.q.max())) * 1.25 + 0.02)
    fig = go.Figure(bars, layout={"barmode": "group", "yaxis": {"range": [0, top]}})
    return styled(fig, "The two distributions", "outcome", "probability (fraction)", height=340)


def decomposition_figure(cmp: Comparison) -> go.Figure:
    """Stacked bars: H(P, Q) = H(P) + KL(P || Q), and the same the other way round."""
    unit = cmp.unit
    rows = ["H(P, Q)", "H(Q, P)"]
    bases = [cmp.h_p, cmp.h_q]
    extras = np.array([cmp.kl_pq, cmp.kl_qp])
    heights, text, _ = _finite_bars(extras, [np.array([cmp.h_p, cmp.h_q])])
    bars = [
        go.Bar(y=rows, x=bases, orientation="h", name="entropy of the true source: H(P), H(Q)",
               marker_color=P_COLOUR, text=[f"H = {b:.3f}" for b in bases], textposition="inside",
               insidetextanchor="middle"),
        go.Bar(y=rows, x=heights, orientation="h", name="extra cost: KL(P‖Q), KL(Q‖P)",
               marker={"color": KL_COLOUR, "pattern": _pattern(extras)},
               text=[f"KL = {t}" for t in text], textposition="inside", insidetextanchor="middle"),
    ]
    notes = [
        {"y": row, "x": base + h, "text": f" = {'∞' if not np.isfinite(total) else f'{total:.3f}'} {unit}",
         "showarrow": False, "xanchor": "left"}
        for row, total, base, h in zip(rows, [cmp.h_pq, cmp.h_qp], bases, heights, strict=True)
    ]
    right = max(b + h for b, h in zip(bases, heights, strict=True)) * 1.35
    fig = go.Figure(bars, layout={"barmode": "stack", "legend": {"traceorder": "normal"}, "annotations": notes,
                                  "xaxis": {"range": [0, right]}, "yaxis": {"autorange": "reversed"}})
    fig = styled(fig, "Cross-entropy = entropy + KL divergence", f"average code length ({unit} per outcome)",
                 "which cross-entropy", height=320)
    return legend_below(fig, rows=2)


def _paired_bars(labels: Sequence[str], series, title: str, y_title: str) -> go.Figure:
    """Grouped bars, two per outcome; infinite values become hatched stubs labelled ∞."""
    bars = []
    every = [values for _, values, _ in series]
    for name, values, colour in series:
        heights, text, _ = _finite_bars(values, every)
        bars.append(go.Bar(x=list(labels), y=heights, name=name, marker={"color": colour, "pattern": _pattern(values)},
                           text=text, textposition="outside"))
    fig = go.Figure(bars, layout={"barmode": "group", "yaxis": {"rangemode": "tozero"}})
    return legend_below(styled(fig, title, "outcome", y_title, height=320))


def contributions_figure(cmp: Comparison, labels: Sequence[str]) -> go.Figure:
    """Each outcome's share of H(P) (-p log p) and of H(P, Q) (-p log q)."""
    return _paired_bars(labels, (("−p log p (share of H(P))", cmp.h_terms, P_COLOUR),
                                 ("−p log q (share of H(P, Q))", cmp.ce_terms, Q_COLOUR)),
                        "Each outcome's contribution", f"contribution ({cmp.unit})")


def surprise_figure(cmp: Comparison, labels: Sequence[str]) -> go.Figure:
    """Information content -log p and -log q of each outcome (rare means surprising)."""
    return _paired_bars(labels, (("−log p (surprise under P)", cmp.surprise_p, P_COLOUR),
                                 ("−log q (surprise under Q)", cmp.surprise_q, Q_COLOUR)),
                        "Information content of each outcome", f"surprise ({cmp.unit})")


_GRID = np.linspace(0.0, 1.0, 201)


def binary_entropy_figure(p: float, unit: str = "bits") -> go.Figure:
    """H(p) for a two-outcome source, with the chosen p marked."""
    base = 2.0 if unit == "bits" else np.e
    h = float(binary_entropy(np.array([p]), base)[0])
    top = float(binary_entropy(np.array([0.5]), base)[0]) * 1.2
    fig = go.Figure(
        [go.Scatter(x=_GRID, y=binary_entropy(_GRID, base), mode="lines", name="H(p)",
                    line={"color": P_COLOUR, "width": 3}),
         go.Scatter(x=[p], y=[h], mode="markers+text", name="your coin", marker={"color": KL_COLOUR, "size": 13},
                    text=[f"H({p:.2f}) = {h:.3f} {unit}"], textposition="top center")],
        layout={"yaxis": {"range": [0, top]}},
    )
    return styled(fig, "Binary entropy: a coin that lands heads with probability p",
                  "p = probability of heads (fraction)", f"entropy ({unit})", height=340)


def kl_fit_figure(snap: KLFitSnapshot) -> go.Figure:
    """p (two peaks) and the two Gaussian fits, with their means and widths in the legend."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=snap.x, y=snap.p, mode="lines", name="p: two peaks", fill="tozeroy",
                             line={"color": PALETTE[7], "width": 2}))
    (mf, sf), (mr, sr) = snap.forward_params, snap.reverse_params
    fig.add_trace(go.Scatter(x=snap.x, y=snap.q_forward, mode="lines",
                             name=f"q minimising KL(p‖q): mean {clean(mf):.2f}, sd {sf:.2f}",
                             line={"color": P_COLOUR, "width": 3}))
    fig.add_trace(go.Scatter(x=snap.x, y=snap.q_reverse, mode="lines",
                             name=f"q minimising KL(q‖p): mean {clean(mr):.2f}, sd {sr:.2f}",
                             line={"color": KL_COLOUR, "width": 3, "dash": "dash"}))
    top = max(float(np.max(snap.p)), float(np.max(snap.q_forward)), float(np.max(snap.q_reverse)))
    fig.update_yaxes(range=[0, top * 1.1])
    fig = styled(fig, f"One Gaussian fitted to two peaks, after {snap.step:,} gradient steps",
                 "x (unitless)", "probability density (per unit of x)", height=380)
    fig.update_layout(legend={"orientation": "v", "y": 0.98, "x": 0.01, "xanchor": "left", "yanchor": "top",
                              "bgcolor": "rgba(0,0,0,0)"})
    return fig


def kl_fit_loss_figure(snap: KLFitSnapshot, unit: str = "nats") -> go.Figure:
    """Each fit's objective over the gradient steps."""
    scale = nats_to(unit)
    fig = series_figure(
        snap.steps,
        {"KL(p‖q), the forward fit": snap.forward_kl * scale, "KL(q‖p), the reverse fit": snap.reverse_kl * scale},
        title="Each fit's own objective", x_title="gradient step", y_title=f"KL divergence ({unit})", height=380,
    )
    fig.data[1].line.color = KL_COLOUR
    fig.data[1].line.dash = "dash"
    # The first steps can be far above the rest: keep the plateau readable.
    last = max(float(snap.forward_kl[-1]), float(snap.reverse_kl[-1])) * scale
    first = max(float(snap.forward_kl[0]), float(snap.reverse_kl[0])) * scale
    if first > 3 * last + 1:
        fig.update_yaxes(range=[0, 3 * last + 1])
    else:
        fig.update_yaxes(rangemode="tozero")
    return legend_below(fig)


def moment_match_text(gap: float) -> str:
    """What the forward fit should end at, from p's mean and variance."""
    mean, sd = moment_match(gap)
    return f"mean {mean:.2f}, sd {sd:.2f}"
