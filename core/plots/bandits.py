"""Figures for the multi-armed bandit page (pure: results in, Plotly figures out).

- ``reward_figure`` / ``optimal_figure`` / ``regret_figure``: per-step
  averages over the runs, one line per strategy (Sutton & Barto figures 2.2-2.5).
- ``study_figure``: a parameter study (``core.bandits.study_curves``), final or overall average reward
  against each strategy's parameter on a log2 axis (figure 2.6).
- ``arm_figure`` / ``run_history_figure``: one run, arm by arm, for the
  animated view.

Rewards are in points (the testbed's arbitrary reward unit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
from core.plots import fastgo as go
from plotly.subplots import make_subplots

from core.bandits import BanditSnapshot, StudyCurve, TestbedResult
from core.plots.common import PALETTE, series_figure, styled, thin, legend_under

REWARD_AXIS = "average reward (points)"
STEP_AXIS = "step (pulls of the lever)"


def _series(results: Sequence[TestbedResult], values) -> dict[str, np.ndarray]:
    """One entry per result, labels made unique (two identical settings stay visible)."""
    out: dict[str, np.ndarray] = {}
    for res in results:
        name = res.label
        n = 2
        while name in out:
            name = f"{res.label} ({n})"
            n += 1
        out[name] = values(res)
    return out


def _legend_below(fig: go.Figure, height: int) -> go.Figure:
    """A horizontal legend under the x-axis title, where it cannot cover the title."""
    fig.update_layout(showlegend=True, height=height,
                      legend=legend_under(-0.22),
                      margin={"l": 60, "r": 20, "t": 50, "b": 110})
    return fig


def _steps(results: Sequence[TestbedResult]) -> np.ndarray:
    return np.arange(1, (results[0].n_steps if results else 0) + 1)


def reward_figure(results: Sequence[TestbedResult], *, show_best: bool = True, height: int = 430) -> go.Figure:
    """Average reward per step, one line per strategy (S&B figure 2.2, top)."""
    series = _series(results, lambda r: r.avg_reward)
    fig = series_figure(_steps(results), series, title="Average reward at each step", x_title=STEP_AXIS,
                        y_title=REWARD_AXIS, height=height)
    if show_best and results:
        best = results[0].best_value
        fig.add_trace(go.Scatter(x=_steps(results), y=best, mode="lines", name="best arm (oracle)",
                                 line={"color": PALETTE[7], "dash": "dot", "width": 1.5}))
    return _legend_below(fig, height)


def optimal_figure(results: Sequence[TestbedResult], *, height: int = 430) -> go.Figure:
    """% of runs that picked the best arm at each step (S&B figure 2.2, bottom)."""
    series = _series(results, lambda r: 100.0 * r.optimal_action)
    fig = series_figure(_steps(results), series, title="How often the best arm is picked", x_title=STEP_AXIS,
                        y_title="optimal action (% of runs)", height=height)
    fig.update_yaxes(range=[0, 100])
    return _legend_below(fig, height)


def regret_figure(results: Sequence[TestbedResult], *, height: int = 400) -> go.Figure:
    """Cumulative regret: reward lost to not always pulling the best arm."""
    series = _series(results, lambda r: r.regret)
    fig = series_figure(_steps(results), series, title="Cumulative regret (lower is better)", x_title=STEP_AXIS,
                        y_title="cumulative regret (points)", height=height)
    return _legend_below(fig, height)


# -- parameter study -------------------------------------------------------------------


def power_of_two_label(exponent: int) -> str:
    """2**e as the book writes it: 1/128, 1/4, 1, 2, 4."""
    return str(Fraction(2) ** exponent)


def study_figure(curves: Sequence[StudyCurve], *, reference: Mapping[str, tuple[float, float]] | None = None,
                 y_title: str = "average reward over all steps (points)", height: int = 500) -> go.Figure:
    """Reward against each strategy's parameter, on a log2 x-axis (S&B figure 2.6).

    ``reference``: name -> (value, se) for parameter-free strategies, drawn as
    horizontal dashed lines (e.g. Thompson sampling). Error bars: ±1.96 SE.
    """
    fig = go.Figure()
    lo, hi = 0, 0
    for i, curve in enumerate(curves):
        x = np.asarray(curve.exponents)
        lo, hi = min(lo, int(x.min())), max(hi, int(x.max()))
        fig.add_trace(go.Scatter(
            x=x, y=curve.rewards, mode="lines+markers", name=f"{curve.title} ({curve.symbol})",
            line={"color": PALETTE[i % len(PALETTE)], "width": 2},
            error_y={"type": "data", "array": 1.96 * np.asarray(curve.se), "thickness": 1, "width": 3},
            customdata=[power_of_two_label(int(e)) for e in x],
            hovertemplate=f"{curve.symbol} = %{{customdata}}<br>reward %{{y:.3f}}<extra>{curve.title}</extra>",
        ))
    for j, (name, (value, _se)) in enumerate((reference or {}).items()):
        fig.add_trace(go.Scatter(x=[lo, hi], y=[value, value], mode="lines", name=f"{name} (no parameter)",
                                 line={"color": PALETTE[(len(curves) + j) % len(PALETTE)], "dash": "dash"}))
    ticks = list(range(lo, hi + 1))
    fig.update_xaxes(tickvals=ticks, ticktext=[power_of_two_label(e) for e in ticks])
    fig = styled(fig, "Parameter study: how much does tuning matter?",
                 "parameter value: ε, α, c, Q₁, τ (log scale, powers of 2)", y_title, height=height)
    return _legend_below(fig, height)


# -- one run ---------------------------------------------------------------------------


def arm_figure(snap: BanditSnapshot, *, height: int = 560) -> go.Figure:
    """Each arm of one run: true value, the learner's estimate (with its UCB
    score or posterior interval), how often it was pulled, and the chance of
    pulling it next."""
    k = len(snap.true_values)
    arms = np.arange(1, k + 1)
    last = snap.last_action
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.5, 0.25, 0.25],
                        subplot_titles=("What the learner believes", "Pulls so far", "Chance of each arm next"))
    if snap.estimates is not None:
        error = None
        if snap.upper is not None:  # UCB: a bar up to the score; Thompson: the interval
            finite = np.isfinite(snap.upper)
            plus = np.where(finite, snap.upper - snap.estimates, 0.0)
            minus = np.zeros(len(plus)) if snap.lower is None else snap.estimates - snap.lower
            error = {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                     "color": PALETTE[1], "thickness": 2}
        name = "posterior mean" if snap.strategy == "thompson" else "estimate Q(a)"
        if snap.bound_name:
            name += f" with {snap.bound_name}"
        fig.add_trace(go.Bar(x=arms, y=snap.estimates, name=name, marker_color=PALETTE[0], opacity=0.85,
                             error_y=error), row=1, col=1)
        if snap.upper is not None and not np.all(np.isfinite(snap.upper)):
            untried = arms[~np.isfinite(snap.upper)]
            fig.add_trace(go.Scatter(x=untried, y=np.zeros(len(untried)), mode="text", text=["∞"] * len(untried),
                                     textposition="top center", name="untried: UCB score = ∞",
                                     textfont={"size": 16, "color": PALETTE[1]}), row=1, col=1)
    if snap.preferences is not None:
        fig.add_trace(go.Bar(x=arms, y=snap.preferences, name="preference H(a) (unitless)", marker_color=PALETTE[0],
                             opacity=0.85), row=1, col=1)
        if snap.baseline is not None:
            fig.add_trace(go.Scatter(x=[0.5, k + 0.5], y=[snap.baseline] * 2, mode="lines",
                                     name="baseline R̄ (average reward so far)",
                                     line={"color": PALETTE[4], "dash": "dash"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=arms, y=snap.true_values, mode="markers", name="true value q*(a)",
                             marker={"symbol": "diamond", "size": 11, "color": PALETTE[2],
                                     "line": {"width": 1, "color": "white"}}), row=1, col=1)
    colours = [PALETTE[4] if last is not None and a == last + 1 else PALETTE[5] for a in arms]
    fig.add_trace(go.Bar(x=arms, y=snap.counts, name="pulls (the last pull in orange-red)", marker_color=colours,
                         showlegend=True), row=2, col=1)
    if snap.probabilities is not None:
        fig.add_trace(go.Bar(x=arms, y=snap.probabilities, name="probability of the next pull",
                             marker_color=PALETTE[3]), row=3, col=1)
    fig.update_yaxes(title_text="value (points)", row=1, col=1)
    fig.update_yaxes(title_text="pulls (count)", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title_text="probability (0-1)", range=[0, 1.05], row=3, col=1)
    fig.update_xaxes(title_text="arm (number)", tickvals=arms if k <= 25 else None, row=3, col=1)
    fig = styled(fig, f"One run of {snap.label} after {snap.step:,} pulls", "", "value (points)", height=height)
    fig.update_layout(xaxis3_title="arm (number)", barmode="overlay",
                      legend=legend_under(-0.12))
    return fig


def run_history_figure(snap: BanditSnapshot, *, height: int = 400) -> go.Figure:
    """The run so far: running average reward, and the best arm's value for comparison."""
    steps = np.arange(1, len(snap.rewards) + 1)
    running = np.cumsum(snap.rewards) / np.maximum(steps, 1) if len(steps) else np.zeros(0)
    fig = series_figure(steps, {"running average reward": running}, title="This run's average reward so far",
                        x_title=STEP_AXIS, y_title=REWARD_AXIS, height=height)
    if len(steps):
        xs, ys = thin(steps, np.asarray(snap.rewards), 1500)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name="reward of each pull",
                                 marker={"size": 4, "color": PALETTE[7], "opacity": 0.5}))
    best = float(np.max(snap.true_values))
    right = max(len(steps), 1)
    # A legend entry, not a label on the line: a label would sit on the reward points.
    fig.add_trace(go.Scatter(x=[0, right], y=[best, best], mode="lines", name="best arm's true value now",
                             line={"dash": "dot", "color": PALETTE[2], "width": 2}, hoverinfo="skip"))
    return _legend_below(fig, height)
