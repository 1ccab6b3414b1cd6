"""Figures for the GAN page: pure functions, snapshot (plain arrays) in, Plotly figure out.

They are redrawn about four times a second while training runs, so each one
is cheap: a 41 x 41 heatmap, at most a few hundred points per trace, arrows
and grid lines drawn as ONE trace each (segments separated by gaps), long
histories thinned by ``series_figure``, and every figure built in one
constructor call (``figure``), never trace by trace.
"""

from __future__ import annotations

import numpy as np
from core.plots import fastgo as go

from core.gan import GANSnapshot
from core.gan_targets import EXTENT, MODES
from core.plots.common import PALETTE, figure, series_figure, legend_under

REAL_COLOUR = "#1B7837"  # dark green, like the green (real) end of the heatmap
FAKE_COLOUR = "#762A83"  # dark purple, like the purple (fake) end
ARROW_COLOUR = "#E66100"
MISSED_COLOUR = "#D55E00"
# purple (looks generated) to clear to green (looks real): pale, so the dots on top stay visible, and
# undecided (0.5) is transparent, so an untrained D shows the page's own background in light and dark
# (each side fades out in its own hue, so the fade never turns grey on a dark page)
HEAT_SCALE = [[0.0, "#C2A5CF"], [0.499, "rgba(194, 165, 207, 0)"], [0.501, "rgba(166, 219, 160, 0)"], [1.0, "#A6DBA0"]]
PLANE_RANGE = [-EXTENT, EXTENT]
LOSS_UNITS = {
    "minimax": "loss (nats)",
    "nonsaturating": "loss (nats)",
    "lsgan": "loss (squared D units)",
    "wgan-gp": "loss (critic units)",
    "hinge": "loss (critic units)",
}


# Equal scales on both axes over the plane, and the legend under the plot (it has many entries).
SQUARE = {
    "xaxis": {"range": PLANE_RANGE, "zeroline": False, "constrain": "domain"},
    "yaxis": {"range": PLANE_RANGE, "zeroline": False, "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
    "legend": legend_under(-0.12),
    "margin": {"l": 60, "r": 20, "t": 50, "b": 110},
}
PLANE_AXES = ("x₁ (plane units)", "x₂ (plane units)")


def segments(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y arrays drawing every segment start -> end in one trace (NaN gaps between)."""
    k = len(starts)
    xs = np.full(3 * k, np.nan)
    ys = np.full(3 * k, np.nan)
    xs[0::3], ys[0::3] = starts[:, 0], starts[:, 1]
    xs[1::3], ys[1::3] = ends[:, 0], ends[:, 1]
    return xs, ys


def arrow_ends(starts: np.ndarray, directions: np.ndarray, longest: float = 0.45) -> tuple[np.ndarray, float]:
    """Arrow tips, scaled so the longest arrow is ``longest`` plane units long.

    Returns the tips and the largest gradient length (0 when every arrow is 0).
    Relative lengths are kept: a short arrow is a weak push.
    """
    lengths = np.linalg.norm(directions, axis=1)
    biggest = float(lengths.max()) if len(lengths) else 0.0
    if not np.isfinite(biggest) or biggest == 0.0:
        return starts.copy(), 0.0
    return starts + directions * (longest / biggest), biggest


def plane_figure(
    snap: GANSnapshot,
    *,
    heatmap: bool = True,
    real: bool = True,
    fake: bool = True,
    arrows: bool = True,
    modes: bool = True,
    height: int = 520,
) -> go.Figure:
    """Real and generated samples over D's value on the plane, with G's gradient arrows.

    The heatmap is D(x) (or the critic's value) on a grid; arrows start at
    generated points and show -dL_G/dx, where the next generator update moves them.
    """
    traces: list = []
    if heatmap and snap.heat is not None:
        classifier = snap.loss in ("minimax", "nonsaturating")
        traces.append(go.Heatmap(
            x=snap.heat_axis, y=snap.heat_axis, z=snap.heat, colorscale=HEAT_SCALE,
            zmin=0.0 if classifier else None, zmax=1.0 if classifier else None,
            zmid=None if classifier else float(np.median(snap.heat)),
            colorbar={"title": {"text": snap.heat_label, "side": "right"}, "thickness": 12, "len": 0.8},
            name=snap.heat_label, hovertemplate="x1=%{x:.2f}<br>x2=%{y:.2f}<br>value=%{z:.3f}<extra></extra>",
        ))
    if real and snap.real is not None:
        traces.append(go.Scatter(x=snap.real[:, 0], y=snap.real[:, 1], mode="markers", name="real samples",
                                   marker={"color": REAL_COLOUR, "size": 4, "opacity": 0.8}))
    if fake and snap.fake is not None:
        traces.append(go.Scatter(x=snap.fake[:, 0], y=snap.fake[:, 1], mode="markers", name="generated samples",
                                   marker={"color": FAKE_COLOUR, "size": 4, "opacity": 0.8}))
    if arrows and snap.arrow_from is not None and len(snap.arrow_from):
        tips, biggest = arrow_ends(snap.arrow_from, snap.arrow_dir)
        xs, ys = segments(snap.arrow_from, tips)
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", name=f"G's gradient (longest |∇| = {biggest:.2g})",
                                 line={"color": ARROW_COLOUR, "width": 1.5}, hoverinfo="skip"))
        traces.append(go.Scatter(x=tips[:, 0], y=tips[:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker={"color": ARROW_COLOUR, "size": 4}))
    if modes and snap.n_modes and snap.shares is not None:
        centres = MODES[snap.target].centres
        threshold = 0.4 / snap.n_modes
        missed = snap.shares < threshold
        labels = ("mode covered", f"mode missed (< {100 * threshold:.2g} % within 3 std)")
        for label, mask, colour in ((labels[0], ~missed, "black"), (labels[1], missed, MISSED_COLOUR)):
            if mask.any():
                traces.append(go.Scatter(
                    x=centres[mask, 0], y=centres[mask, 1], mode="markers", name=label,
                    marker={"symbol": "circle-open", "size": 16, "color": colour, "line": {"width": 2}},
                    customdata=100 * snap.shares[mask],
                    hovertemplate="mode at (%{x:.2f}, %{y:.2f})<br>%{customdata:.1f} % of samples<extra></extra>",
                ))
    title = f"Real vs generated after {snap.step:,} generator steps"
    return figure(traces, title, *PLANE_AXES, height=height, layout=SQUARE)


def manifold_figure(snap: GANSnapshot, *, height: int = 520) -> go.Figure:
    """A square grid of noise vectors pushed through G, drawn as a deformed grid."""
    traces: list = []
    if snap.real is not None:
        traces.append(go.Scatter(x=snap.real[:, 0], y=snap.real[:, 1], mode="markers", name="real samples",
                                   marker={"color": REAL_COLOUR, "size": 3, "opacity": 0.35}))
    if snap.manifold is not None:
        grid = snap.manifold
        lines = [grid[i, :, :] for i in range(grid.shape[0])] + [grid[:, j, :] for j in range(grid.shape[1])]
        gap = np.full((1, 2), np.nan)
        path = np.concatenate([np.concatenate([line, gap]) for line in lines])
        traces.append(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", name="G(noise grid)",
                                 line={"color": FAKE_COLOUR, "width": 1}, hoverinfo="skip"))
        traces.append(go.Scatter(x=grid[..., 0].ravel(), y=grid[..., 1].ravel(), mode="markers", showlegend=False,
                                 marker={"color": FAKE_COLOUR, "size": 3}, hoverinfo="skip"))
    n = 0 if snap.manifold is None else snap.manifold.shape[0]
    title = f"Generator manifold: a {n} x {n} noise grid through G"
    return figure(traces, title, *PLANE_AXES, height=height, layout=SQUARE)


def loss_figure(snap: GANSnapshot) -> go.Figure:
    """D's and G's losses per generator step."""
    return series_figure(
        snap.loss_steps, {"D loss": snap.d_losses, "G loss": snap.g_losses},
        title="Losses", x_title="generator step", y_title=LOSS_UNITS.get(snap.loss, "loss"),
    )


def coverage_figure(snap: GANSnapshot) -> go.Figure:
    """Modes covered (of 2,000 samples, >= 40 % of a fair share within 3 std) over time."""
    right = max(int(snap.eval_steps[-1]), 1) if len(snap.eval_steps) else 1
    traces = [
        go.Scatter(x=snap.eval_steps, y=snap.coverage, mode="lines+markers", name="modes covered",
                   line={"color": PALETTE[2], "width": 2, "shape": "hv"}, marker={"size": 4}),
        go.Scatter(x=[0, right], y=[snap.n_modes] * 2, mode="lines", name=f"all {snap.n_modes} modes",
                   line={"dash": "dot", "color": PALETTE[7]}, hoverinfo="skip"),
    ]
    return figure(traces, "Modes covered", "generator step", "modes covered (count)", height=320,
                  yaxis={"range": [-0.3, snap.n_modes + 0.7]})


def divergence_figure(snap: GANSnapshot, floor: tuple[float, float] | None = None) -> go.Figure:
    """KL(target || generated) and JS on a 30 x 30 grid, in bits; dotted: a perfect generator's values."""
    floors = []
    if floor is not None and len(snap.eval_steps):
        ends = [0, max(int(snap.eval_steps[-1]), 1)]
        for name, value, colour in zip(("KL", "JS"), floor, PALETTE[:2], strict=True):
            floors.append(go.Scatter(x=ends, y=[value, value], mode="lines", name=f"{name} of a perfect generator",
                                     line={"dash": "dot", "color": colour, "width": 1.5}, hoverinfo="skip"))
    return series_figure(
        snap.eval_steps, {"KL(real ‖ generated)": snap.kl, "JS(real, generated)": snap.js},
        title="Divergence between real and generated (30 x 30 grid)", x_title="generator step",
        y_title="divergence (bits)", height=360, extra_traces=floors,
        layout={"legend": legend_under(-0.25),
                "margin": {"b": 100}},
    )


def gradient_figure(snap: GANSnapshot) -> go.Figure:
    """Mean length of G's loss gradient at its samples: near zero means G has stopped learning."""
    return series_figure(
        snap.eval_steps, {"mean |∂L_G/∂x|": snap.grad_norm}, title="How hard D pushes the generated points",
        x_title="generator step", y_title="mean |∂L_G/∂x| (loss per plane unit, log)", log_y=True,
    )


def shares_figure(snap: GANSnapshot) -> go.Figure:
    """Share of generated samples near each mode, against the threshold for 'covered'."""
    threshold = 100 * 0.4 / max(snap.n_modes, 1)
    shares = 100 * (snap.shares if snap.shares is not None else np.zeros(snap.n_modes))
    colours = [PALETTE[2] if s >= threshold else MISSED_COLOUR for s in shares]
    modes = np.arange(1, len(shares) + 1)
    ends = [0.5, len(shares) + 0.5]
    traces = [
        go.Bar(x=modes, y=shares, marker={"color": colours}, name="share near the mode",
               hovertemplate="mode %{x}: %{y:.1f} %<extra></extra>"),
        go.Scatter(x=ends, y=[threshold] * 2, mode="lines", name=f"covered from {threshold:.3g} %",
                   line={"dash": "dot", "color": "black"}, hoverinfo="skip"),
        go.Scatter(x=ends, y=[100 / max(snap.n_modes, 1)] * 2, mode="lines", name="fair share",
                   line={"dash": "dash", "color": PALETTE[7]}, hoverinfo="skip"),
    ]
    return figure(traces, "Generated samples near each mode (within 3 std)", "mode (number)",
                  "share of samples (%)", height=320, xaxis={"range": ends, "dtick": 1 if len(shares) <= 10 else 2})
