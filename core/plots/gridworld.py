"""Figures for the gridworld page: pure functions, plain arrays in, Plotly figure out.

- ``maze_figure``: the maze with V as colour, greedy-policy arrows, the
  cells' rewards and (optionally) an episode's path; ``path_figure`` is the
  path alone.
- ``q_figure``: one heatmap per action, Q(s, a), on a shared colour scale.
- ``episode_figure``: reward (or length) per episode, one line per learner
  (Sutton & Barto figure 6.4 with ``y_range=(-100, 0)``).
- ``dqn_loss_figure``: the DQN's loss per gradient step with the target
  network's sync steps marked.

Each figure is built in one constructor call (``core.plots.common.figure``),
arrows and markers as one text trace each, so a live view stays cheap.
Rewards and values are in points (the maze's reward unit); rows and columns
are counted from 1 on the axes, as in the page's messages.

The y axis is reversed (row 1 at the top, y = row), as the app's canvas
renderer (``static/livechart.js``) draws it too; ``cell_at`` turns a click on
a maze figure back into a (row, column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from core.plots import fastgo as go

from core.gridworld import ACTIONS, ARROWS, Maze
from core.plots.common import PALETTE, figure, series_figure, thin, legend_under

VALUE_SCALE = "Viridis"
WALL_COLOUR = "#555555"
GOAL_COLOUR = "#A6DBA0"  # light green
PIT_COLOUR = "#F4A582"  # light vermillion
MARK_TEXT = "#222222"  # dark text on the light goal, pit and start marks
LIGHT_TEXT = "#FAFAFA"  # not "white": the canvas renderer turns pure white into the dark theme's background
START_FILL = "#FDFDFD"
PATH_COLOUR = PALETTE[4]
VALUE_AXIS = "V (return, points)"
EPISODE_AXIS = "episode (number)"
REWARD_AXIS = "reward per episode (points)"
LENGTH_AXIS = "moves per episode (count)"
CELL_AXES = ("column (cell)", "row (cell)")


def cell_at(rows: int, cols: int, x: float, y: float) -> tuple[int, int] | None:
    """The (row, column) under a click at data coordinates (x, y) on a maze figure; None off the grid."""
    if not (np.isfinite(x) and np.isfinite(y)):
        return None
    c, r = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
    return (r, c) if 0 <= r < rows and 0 <= c < cols else None


def _axes(rows: int, cols: int, suffix: str = "", domain: dict | None = None) -> dict:
    """Square cells, row 1 at the top, one tick per cell (labelled from 1)."""
    x = {"range": [-0.5, cols - 0.5], "tickvals": list(range(cols)), "ticktext": [str(c + 1) for c in range(cols)],
         "showgrid": False, "zeroline": False, "constrain": "domain"}
    y = {"range": [rows - 0.5, -0.5], "tickvals": list(range(rows)), "ticktext": [str(r + 1) for r in range(rows)],
         "showgrid": False, "zeroline": False, "scaleanchor": f"x{suffix}", "scaleratio": 1, "constrain": "domain"}
    if domain:
        x["domain"], y["domain"] = domain["x"], domain["y"]
        x["anchor"], y["anchor"] = f"y{suffix}", f"x{suffix}"
    return {"xaxis": x, "yaxis": y}


def _cells_trace(maze: Maze, axes: tuple[str, str] = ("x", "y")) -> go.Heatmap:
    """Walls (grey), goals (green) and pits (orange) as one heatmap; other cells transparent."""
    z = np.full(maze.shape, np.nan)
    for r, c in maze.walls:
        z[r, c] = 0.0
    for (r, c), _ in maze.goals:
        z[r, c] = 1.0
    for (r, c), _ in maze.pits:
        z[r, c] = 2.0
    scale = [[0.0, WALL_COLOUR], [0.33, WALL_COLOUR], [0.34, GOAL_COLOUR], [0.66, GOAL_COLOUR],
             [0.67, PIT_COLOUR], [1.0, PIT_COLOUR]]
    return go.Heatmap(z=z, zmin=0, zmax=2, colorscale=scale, showscale=False, hoverinfo="skip",
                      name="walls, goals and pits", xaxis=axes[0], yaxis=axes[1])


def _reward(value: float) -> str:
    return f"{value:+g}"


def _rewards_trace(maze: Maze, size: int = 12) -> go.Scatter:
    """G and P letters with the reward for entering the cell, as one text trace."""
    marks = [(cell, f"<b>G</b> {_reward(v)}") for cell, v in maze.goals]
    marks += [(cell, f"<b>P</b> {_reward(v)}") for cell, v in maze.pits]
    return go.Scatter(x=[c for (_, c), _ in marks], y=[r for (r, _), _ in marks],
                      mode="text", text=[t for _, t in marks], textfont={"size": size, "color": MARK_TEXT},
                      name="goals (G) and pits (P): reward for entering", hoverinfo="skip", showlegend=False)


def _start_trace(maze: Maze) -> go.Scatter:
    """An S in the start cell's top-left corner (the cell's arrow stays visible)."""
    r, c = (maze.start[0] - 0.3, maze.start[1] - 0.3) if maze.start is not None else (None, None)
    return go.Scatter(x=[c], y=[r], mode="markers+text", text=["<b>S</b>"], name="start",
                      marker={"size": 16, "color": START_FILL, "line": {"color": MARK_TEXT, "width": 1.5}},
                      textfont={"size": 10, "color": MARK_TEXT}, hoverinfo="skip", showlegend=False)


def _arrow_trace(policy: np.ndarray, shade: np.ndarray | None = None, size: int = 18) -> go.Scatter:
    """Greedy-action arrows; ``shade`` (0-1 per cell, the colour's place on the
    scale) picks dark arrows on the light end of Viridis, white on the dark end."""
    rr, cc = np.nonzero(policy >= 0)
    font: dict = {"size": size}
    if shade is not None:
        light = np.nan_to_num(shade[rr, cc], nan=0.0) > 0.6
        font["color"] = np.where(light, MARK_TEXT, LIGHT_TEXT).tolist()
    return go.Scatter(x=cc, y=rr, mode="text", text=[ARROWS[a] for a in policy[rr, cc]], textfont=font,
                      name="greedy action", hoverinfo="skip",
                      marker={"color": "black"})  # the legend's sample arrow: the theme's text colour


def _break_jumps(p: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A gap in the path wherever it jumps (a pit that sends the agent back to the start)."""
    jumps = np.flatnonzero(np.abs(np.diff(p, axis=0)).sum(axis=1) > 1) + 1
    return np.insert(x.astype(float), jumps, np.nan), np.insert(y.astype(float), jumps, np.nan)


def maze_figure(maze: Maze, values: np.ndarray | None = None, policy: np.ndarray | None = None,
                path: np.ndarray | None = None, *, title: str = "Values and greedy policy",
                colour_title: str = VALUE_AXIS, zrange: tuple[float, float] | None = None,
                height: int | None = None, text_size: int = 12, arrow_size: int = 18) -> go.Figure:
    """The maze: ``values`` (rows x cols, NaN: no colour) as a heatmap,
    ``policy`` (rows x cols action indices, -1: none) as arrows, ``path``
    ((row, col) per visited cell) as a line, broken where it jumps (a pit that
    sends the agent back to the start). ``zrange`` fixes the colour scale (to
    compare two figures: learned and optimal); the default height fits the
    maze's shape; ``text_size`` and ``arrow_size`` size the reward labels and
    the arrows. Walls, goals, pits and the start are not in the legend (the
    page's caption names them)."""
    traces: list = []
    shade = None
    if values is not None:
        v = np.asarray(values, dtype=float)
        finite = v[np.isfinite(v)]
        zmin, zmax = zrange if zrange is not None else (
            (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
        shade = (v - zmin) / (zmax - zmin) if zmax > zmin else np.zeros_like(v)
        traces.append(go.Heatmap(
            z=v, colorscale=VALUE_SCALE, zmin=zmin, zmax=zmax, name=colour_title,
            customdata=np.dstack(np.meshgrid(np.arange(1, maze.rows + 1), np.arange(1, maze.cols + 1),
                                             indexing="ij")),
            hovertemplate="row %{customdata[0]}, column %{customdata[1]}<br>%{z:.2f} points<extra></extra>",
            colorbar={"title": {"text": colour_title, "side": "right"}, "thickness": 14},
        ))
    traces.append(_cells_trace(maze))
    if policy is not None:
        traces.append(_arrow_trace(np.asarray(policy), shade, arrow_size))
    if path is not None and len(path):
        p = np.asarray(path)
        px, py = _break_jumps(p, p[:, 1], p[:, 0])
        traces.append(go.Scatter(x=px, y=py, mode="lines+markers",
                                 name=f"episode path ({len(p) - 1} moves)",
                                 line={"color": PATH_COLOUR, "width": 3}, marker={"size": 6, "color": PATH_COLOUR},
                                 opacity=0.7, hoverinfo="skip"))
    traces += [_rewards_trace(maze, text_size), _start_trace(maze)]
    if height is None:  # cells up to 44 px in a plot about 640 px wide, plus title, axes and legend
        height = int(140 + maze.rows * min(640 / maze.cols, 44))
    below_axis = -62 / max(height - 140, 60)  # the legend's top 62 px under the plot, past the axis title
    layout = {**_axes(maze.rows, maze.cols),
              "legend": legend_under(below_axis),
              "margin": {"l": 50, "r": 20, "t": 50, "b": 90}}
    return figure(traces, title, *CELL_AXES, height=height, layout=layout)


def path_figure(maze: Maze, path: np.ndarray, *, title: str = "The latest episode's path",
                height: int | None = None, text_size: int = 12) -> go.Figure:
    """The maze with one episode's path drawn on it."""
    return maze_figure(maze, path=path, title=title, height=height, text_size=text_size)


def q_figure(maze: Maze, q: np.ndarray, *, title: str = "Q(s, a) for each action", height: int = 520) -> go.Figure:
    """Four heatmaps, one per action (up, right, down, left), on one colour
    scale (a shared ``coloraxis``); ``q`` is rows x cols x actions (NaN: not a
    state). Each map's x title names its action: equal scales shrink a map
    inside its domain, so a title above the domain could float away from it."""
    q = np.asarray(q, dtype=float)
    finite = q[np.isfinite(q)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    top, bottom = [0.62, 1.0], [0.0, 0.38]
    domains = [{"x": [0.0, 0.47], "y": top}, {"x": [0.53, 1.0], "y": top},
               {"x": [0.0, 0.47], "y": bottom}, {"x": [0.53, 1.0], "y": bottom}]
    traces: list = []
    layout: dict = {}
    for a in range(4):
        suffix = "" if a == 0 else str(a + 1)
        ax = (f"x{suffix}", f"y{suffix}")
        traces.append(go.Heatmap(
            z=q[:, :, a], coloraxis="coloraxis", xaxis=ax[0], yaxis=ax[1], name=f"Q(s, {ACTIONS[a]})",
            hovertemplate=f"Q(s, {ACTIONS[a]}) = %{{z:.2f}} points<extra></extra>"))
        traces.append(_cells_trace(maze, ax))
        axes = _axes(maze.rows, maze.cols, suffix, domains[a])
        layout[f"xaxis{suffix}"] = {**axes["xaxis"], "title": {"text": f"{ARROWS[a]} {ACTIONS[a]}: column (cell)"}}
        layout[f"yaxis{suffix}"] = {**axes["yaxis"], "title": {"text": CELL_AXES[1] if a % 2 == 0 else ""}}
    layout["coloraxis"] = {"colorscale": VALUE_SCALE, "cmin": lo, "cmax": hi,
                           "colorbar": {"title": {"text": "Q (return, points)", "side": "right"}, "thickness": 14}}
    layout["margin"] = {"l": 50, "r": 20, "t": 70, "b": 50}
    return figure(traces, title, CELL_AXES[0], CELL_AXES[1], height=height, legend=False, layout=layout)


def moving_average(y: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each point (fewer at the start)."""
    y = np.asarray(y, dtype=float)
    if window <= 1 or y.size == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    n = np.arange(1, y.size + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def episode_figure(series: Mapping[str, np.ndarray], *, title: str = "Reward per episode",
                   y_title: str = REWARD_AXIS, window: int = 1, y_range: Sequence[float] | None = None,
                   reference: Mapping[str, float] | None = None, height: int = 340) -> go.Figure:
    """One line per learner over episodes (optionally a moving average over
    ``window`` episodes); ``reference`` draws dashed horizontal lines (e.g. the
    optimal return); ``y_range=(-100, 0)`` is figure 6.4's view."""
    n = max((len(y) for y in series.values()), default=0)
    x = np.arange(1, n + 1)
    smoothed = {(f"{name} ({window}-episode mean)" if window > 1 else name): moving_average(y, window)
                for name, y in series.items()}
    extra = [go.Scatter(x=[1, max(n, 1)], y=[value, value], mode="lines", name=name,
                        line={"color": PALETTE[(len(series) + i) % len(PALETTE)], "dash": "dash", "width": 1.5})
             for i, (name, value) in enumerate((reference or {}).items()) if np.isfinite(value)]
    layout = {"yaxis": {"range": list(y_range)}} if y_range is not None else None
    return series_figure(x, smoothed, title=title, x_title=EPISODE_AXIS, y_title=y_title, height=height,
                         extra_traces=extra, layout=layout, empty_text="No episodes yet: press Start")


def lengths_figure(series: Mapping[str, np.ndarray], *, window: int = 1, height: int = 320) -> go.Figure:
    """Moves per episode, one line per learner."""
    return episode_figure(series, title="Episode length", y_title=LENGTH_AXIS, window=window, height=height)


def dqn_loss_figure(loss_steps: np.ndarray, losses: np.ndarray, sync_steps: np.ndarray, *,
                    log_y: bool = True, height: int = 320, max_marks: int = 300) -> go.Figure:
    """The DQN's Huber loss per gradient step (x: the agent's move), with a
    marker on the curve wherever the target network copied the trained one."""
    x, y = np.asarray(loss_steps), np.asarray(losses, dtype=float)
    sync = np.asarray(sync_steps)
    extra = []
    if sync.size and x.size:
        if sync.size > max_marks:
            sync = sync[np.unique(np.linspace(0, sync.size - 1, max_marks).round().astype(int))]
        xs, ys = thin(x, y)
        extra.append(go.Scatter(x=sync, y=np.interp(sync, xs, ys), mode="markers", name="target network synced",
                                marker={"symbol": "diamond", "size": 7, "color": PALETTE[1]}))
    return series_figure(x, {"loss": y}, title="DQN loss (Huber, on TD errors)", x_title="move (count)",
                         y_title="loss (Huber of the TD error in points)", log_y=log_y, height=height,
                         extra_traces=extra)


__all__ = ["cell_at", "dqn_loss_figure", "episode_figure", "lengths_figure", "maze_figure", "moving_average",
           "path_figure", "q_figure"]
