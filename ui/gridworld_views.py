"""Streamlit helpers private to the gridworld page: the layout, every widget
(``controls``), the click editor, the two live views, the averages over many
runs and the lessons.

The page file stays thin: ``layout()`` makes the places, ``controls(slots)``
draws every widget into them (those bound to the link are declared once, in
``core.gridworld.PARAMS``) and returns a ``Choice`` (the maze and the configs
of both learners), the page hands ``tabular_render`` and
``dqn_render`` to two live-training panels, then calls ``averages`` and
``lessons``.

The maze lives in one place, the text box bound to the link (``maze=``): the
world box, the slip slider and clicks on the maze all rewrite that text, and
everything else is computed from it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import streamlit as st

from core.gridworld import (
    ALGORITHMS,
    BOOK,
    BOOK_PARAMS,
    PARAMS,
    PRESETS,
    DQNConfig,
    DQNSnapshot,
    GridWorld,
    Maze,
    TabularConfig,
    TabularSnapshot,
    encode_maze,
    greedy_path,
    greedy_return,
    late_episodes,
    page_configs,
    parse_maze,
    run_batch,
    validate,
    value_iteration,
)
from core.plots.gridworld import (
    cell_at,
    dqn_loss_figure,
    episode_figure,
    lengths_figure,
    maze_figure,
    moving_average,
    q_figure,
)
from ui.formula import formula
from ui.live import current_run
from ui.livechart import Chart, clicked, live_charts
from ui.url_state import UrlState

TOPIC = "gridworld"
url = UrlState(TOPIC)
TAB_KEY = "gridworld:tabular"  # the live panel of the tabular learner
DQN_KEY = "gridworld:dqn"  # the live panel of the deep Q-network
MAZE_VIEW = "gridworld:fig:maze"  # live view: the main maze (clickable)
CHARTS_VIEW = "gridworld:fig:charts"  # live view: optimal values, Q, episodes
DQN_VIEW = "gridworld:fig:dqn"
AVG_VIEW = "gridworld:fig:averages"
MAZE_KEY = url.param_key(PARAMS["maze_text"])
WORLD_KEY = "gridworld:world"
SLIP_KEY = "gridworld:slip"
EDIT_KEY = "gridworld:edit"
GOAL_REWARD_KEY = "gridworld:goal-reward"
PIT_REWARD_KEY = "gridworld:pit-reward"
NOTE_KEY = "gridworld:edit-note"  # why the last click was not applied
CLICK_N_KEY = "gridworld:click-n"  # the counter of the last click handled
PENDING_KEY = "gridworld:edited"  # a click changed something the whole page must redraw
AVG_ASK_KEY = "gridworld:avg-ask"
AVG_STORE_KEY = "gridworld:avg-results"

CUSTOM = "custom"
ROOM = ("room", "Open room 6 x 8 (draw your own)", "S......./......../......../......../......../.......G;goal=10",
        "An empty room: pick a kind of cell below the title of the maze and click cells to build a maze.")
WORLDS = {**{k: (p.title, p.text, p.note) for k, p in PRESETS.items()}, ROOM[0]: ROOM[1:]}
DEFAULT_MAZE = PARAMS["maze_text"].default
EDIT_KINDS = {"#": "⬛ wall", ".": "⬜ free", "P": "🟧 pit", "G": "🟩 goal", "S": "🚩 start"}
LOOPS = "loops"  # shown for a return of -inf: the greedy policy never reaches a goal

RUNS_PER_CHUNK = 20  # runs of one algorithm per cached computation
AVERAGE_SECONDS = 6.0  # a press of the button computes for about this long at most
MIN_CHUNK_SECONDS = 2.0  # ... and gives a chunk started in time at least this long


@dataclass(frozen=True)
class Slots:
    """Where each group of widgets and views goes."""

    world: Any
    learner: Any
    slip: Any
    maze_text: Any
    editor: Any
    tabular: Any
    avg_controls: Any
    averages: Any
    dqn_controls: Any
    dqn: Any


@dataclass(frozen=True)
class Choice:
    """What the widgets ask for. ``maze`` is None when the text cannot be played
    (``problem`` says why; ``drawn`` is the parsed maze, if it parses)."""

    maze_text: str
    maze: Maze | None
    drawn: Maze | None
    problem: str | None
    tabular: TabularConfig | None
    dqn: DQNConfig | None
    avg_runs: int
    avg_algorithms: tuple[str, ...]


def layout() -> Slots:
    """The page's places: settings on the left, the maze and its charts on the right."""
    left, right = st.columns([1, 2.8], gap="medium")
    with left:
        world, editor, learner, slip = st.container(), st.container(), st.container(), st.container()
        maze_text = st.expander("🔗 The maze as text (it travels in the link)")
    with right:
        tabular = st.container()
    st.divider()
    st.subheader("📊 Many runs averaged: Sutton & Barto's figure 6.4")
    st.markdown(
        "One run is noisy. Here many independent learners of each kind learn the same maze with the "
        "settings above, and their rewards per episode are averaged. On the cliff with α = 0.5, "
        "ε = 0.1 and 500 episodes (the **📖 Book's settings** button) this is figure 6.4 of Sutton & "
        "Barto's *Reinforcement Learning: An Introduction* (2nd ed.)."
    )
    avg_controls, averages = st.container(), st.container()
    st.divider()
    st.subheader("🧠 Deep Q-learning: a network instead of the table")
    st.markdown(
        "When there are too many states for a table, a neural network takes the state as input and "
        "outputs one Q value per action. Here it learns the **same maze** (the input is a one-hot "
        "vector of the cell), so you can compare its values with the table's. Two tricks keep it "
        "stable: an **experience (replay) buffer** of past moves, from which each gradient step "
        "draws a random batch, and a second, **target network** that produces the targets and "
        "copies the trained one every few steps."
    )
    d_left, d_right = st.columns([1, 2.8], gap="medium")
    return Slots(world, learner, slip, maze_text, editor, tabular, avg_controls, averages, d_left, d_right)


# -- the maze text and its editors -------------------------------------------------------------


def maze_problem(maze: Maze) -> str | None:
    """Why ``maze`` cannot be played (one sentence), or None."""
    try:
        validate(maze)
    except ValueError as why:
        return str(why)
    return None


def read_maze(text: str) -> tuple[Maze | None, str | None]:
    """(the parsed maze or None, why it cannot be played or None)."""
    try:
        maze = parse_maze(text)
    except ValueError as why:
        return None, f"The maze text cannot be read: {why}."
    return maze, maze_problem(maze)


def world_of(text: str) -> str:
    """The world whose maze ``text`` is (compared as mazes), or ``CUSTOM``."""
    maze, _ = read_maze(text)
    if maze is not None:
        for key, (_, world_text, _) in WORLDS.items():
            if parse_maze(world_text) == maze:
                return key
    return CUSTOM


def _load_world() -> None:
    """on_change of the world box: put that world's maze in the text (a state, never a toggle)."""
    key = st.session_state[WORLD_KEY]
    if key in WORLDS:
        st.session_state[MAZE_KEY] = WORLDS[key][1]
        st.session_state[NOTE_KEY] = None


def _set_slip() -> None:
    """on_change of the slip slider: rewrite the maze text with the new slip."""
    maze, _ = read_maze(st.session_state.get(MAZE_KEY, DEFAULT_MAZE))
    if maze is not None:
        st.session_state[MAZE_KEY] = encode_maze(replace(maze, slip=float(st.session_state[SLIP_KEY])))


def _book_settings() -> None:
    """on_click of 📖: the cliff and Sutton & Barto's settings for figure 6.4 (the other controls stay)."""
    url.apply(BOOK_PARAMS, BOOK)
    st.session_state[NOTE_KEY] = None


def apply_click(state: MutableMapping, click: dict | None) -> None:
    """A click on the maze: turn the cell under it into the chosen kind.

    Idempotent: a click Streamlit delivers twice (same counter ``n``) is
    handled once, and setting a cell to a kind is the same however often it is
    done. An edit that would make a playable maze unplayable is refused, and
    the reason is kept in ``state[NOTE_KEY]`` for the page to show.
    """
    if not click or click.get("chart") != "maze":
        return
    n = click.get("n")
    if n is not None and state.get(CLICK_N_KEY) == n:
        return
    state[CLICK_N_KEY] = n
    maze, problem = read_maze(state.get(MAZE_KEY, DEFAULT_MAZE))
    try:
        cell = cell_at(maze.rows, maze.cols, float(click["x"]), float(click["y"])) if maze else None
    except (KeyError, TypeError, ValueError):
        cell = None
    if cell is None:
        return
    kind = state.get(EDIT_KEY, "#")
    reward = {"G": state.get(GOAL_REWARD_KEY, 10.0), "P": state.get(PIT_REWARD_KEY, -100.0)}.get(kind)
    edited = maze.with_cell(cell, kind, None if reward is None else float(reward))
    state[PENDING_KEY] = True
    why = maze_problem(edited)
    if why is not None and problem is None:
        state[NOTE_KEY] = (f"Not applied: a {EDIT_KINDS[kind].split()[1]} at row {cell[0] + 1}, column "
                           f"{cell[1] + 1} would make the maze unplayable. {why}")
        return
    state[NOTE_KEY] = None
    state[MAZE_KEY] = encode_maze(edited)


def _on_maze_click() -> None:
    apply_click(st.session_state, clicked(MAZE_VIEW))


def redraw_page_after_edit(maze_text: str) -> None:
    """Inside a live view: a click edited the maze (or was refused), so the
    whole page must redraw (the settings and the trainer come from the maze)."""
    if st.session_state.pop(PENDING_KEY, False) or st.session_state.get(MAZE_KEY, maze_text) != maze_text:
        st.rerun(scope="app")


# -- every widget -----------------------------------------------------------------------------


def controls(slots: Slots) -> Choice:
    """Every widget of the page, each in its place; returns what they ask for."""
    st.session_state.pop(PENDING_KEY, None)  # this run redraws the whole page anyway
    url.upgrade_link(PARAMS)  # a link from before the table: its old codes renamed, before any widget reads it
    with slots.maze_text:
        text = url.widget(PARAMS["maze_text"])
        st.caption("Copy the page's address to share this maze: the text above is part of it "
                   "(a wall # shows as %23 in a link).")
    drawn, problem = read_maze(text)

    with slots.world:
        st.session_state[WORLD_KEY] = world_of(text)
        st.selectbox("World", [*WORLDS, CUSTOM], key=WORLD_KEY, on_change=_load_world,
                             format_func=lambda k: WORLDS[k][0] if k in WORLDS else "✏️ Your own maze",
                             help="Pick a maze, then edit it by clicking cells on the big chart.")
    with slots.slip:
        if drawn is not None:
            st.session_state[SLIP_KEY] = float(drawn.slip)
        st.slider("Slippery floor (chance a move turns 90°)", 0.0, 0.9, key=SLIP_KEY, step=0.05,
                  on_change=_set_slip, disabled=drawn is None,
                  help="With slip p, a move goes where intended with probability 1 − p and turns left or "
                       "right with probability p / 2 each. Part of the maze (and of its text).")

    values = {"maze_text": text}
    with slots.learner:
        values.update(url.widgets(PARAMS, ("algorithm", "alpha", "epsilon", "epsilon_decay", "gamma", "episodes",
                                           "seed")))
        st.button("📖 Book's settings (figure 6.4)", on_click=_book_settings, width="stretch",
                  key="gridworld:book",
                  help="Cliff walking with α = 0.5, ε = 0.1 (no decay), γ = 1 and 500 episodes.")

    with slots.editor:
        kind = st.selectbox("✏️ Clicking a cell makes it", list(EDIT_KINDS), key=EDIT_KEY,
                            format_func=EDIT_KINDS.get,
                            help="Click cells of the big maze on the right to build your own; the link follows.")
        if kind == "G":
            st.number_input("Reward of the goals you click", -1000.0, 1000.0, 10.0, step=1.0, key=GOAL_REWARD_KEY)
        elif kind == "P":
            st.number_input("Reward of the pits you click", -1000.0, 1000.0, -100.0, step=1.0, key=PIT_REWARD_KEY)
        note = st.session_state.get(NOTE_KEY)
        if note:
            st.warning(note, icon="🚧")

    with slots.avg_controls:
        c_runs, c_algs, c_go = st.columns([1.2, 2, 1.4], vertical_alignment="bottom")
        with c_runs:
            runs = values["runs"] = url.widget(PARAMS["runs"])
        algorithms = c_algs.multiselect("Algorithms", list(ALGORITHMS), ["q_learning", "sarsa"],
                                        format_func=ALGORITHMS.get, key="gridworld:avg-algorithms")
        c_go.button(f"📊 Average {runs} runs", key="gridworld:avg-go", width="stretch", type="primary",
                    on_click=_ask_averages, args=(runs,), disabled=not algorithms,
                    help=f"Computes for about {AVERAGE_SECONDS:g} s at most; press again to add the rest.")

    with slots.dqn_controls:
        values.update(url.widgets(PARAMS, ("hidden", "lr", "buffer_size", "batch_size", "sync_every", "dqn_epsilon",
                                           "dqn_epsilon_decay", "max_steps")))

    maze = drawn if problem is None else None
    tabular = dqn = None
    if maze is not None:
        try:
            tabular, dqn = page_configs(values, maze)
        except ValueError as why:
            problem, maze = f"{why}", None
    return Choice(text, maze, drawn, problem, tabular, dqn, runs, tuple(algorithms))


# -- figures sized for the page ----------------------------------------------------------------


MAIN_WIDTH = 450  # a maze chart's plot, in pixels, at 1280 px (the chart's width less axes and colour bar)
MAIN_HEIGHT = 330  # ... and at most this high, so that the big maze fits under the controls at 1280 x 800


def _maze_cell(maze: Maze) -> float:
    """The side of a cell in a maze chart: up to 50 px, within MAIN_WIDTH x MAIN_HEIGHT."""
    return min(MAIN_WIDTH / maze.cols, MAIN_HEIGHT / maze.rows, 50.0)


def _maze_height(maze: Maze) -> int:
    """A maze chart's height: its cells plus title, axes and legend."""
    return int(105 + maze.rows * _maze_cell(maze))


def _sizes(cell: float) -> dict:
    """Reward labels and arrows that fit a cell of ``cell`` pixels."""
    return {"text_size": 12 if cell >= 44 else 10 if cell >= 34 else 8, "arrow_size": 18 if cell >= 34 else 13}


def _value_range(*grids: np.ndarray | None) -> tuple[float, float] | None:
    """One colour scale for several value maps (learned and optimal)."""
    finite = [g[np.isfinite(g)] for g in grids if g is not None]
    finite = [f for f in finite if f.size]
    if not finite:
        return None
    values = np.concatenate(finite)
    lo, hi = float(values.min()), float(values.max())
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


def _focus_range(curves: list[np.ndarray], extra: list[float] = (), share: float = 5.0) -> list[float] | None:
    """A y range that shows all but the worst ``share`` % of the values (early
    episodes can cost thousands of points and would flatten everything else)."""
    values = np.concatenate([np.asarray(c, dtype=float) for c in curves if len(c)] or [np.zeros(0)])
    values = np.concatenate([values, np.asarray([v for v in extra if np.isfinite(v)], dtype=float)])
    values = values[np.isfinite(values)]
    if values.size < 2:
        return None
    lo, hi = float(np.percentile(values, share)), float(values.max())
    pad = 0.06 * (hi - lo) if hi > lo else 1.0
    return [lo - pad, hi + pad]


def _points(value: float, digits: int = 2) -> str:
    if value is None or not np.isfinite(value):
        return LOOPS if value == -math.inf else "—"
    text = f"{0.0 if abs(value) < 0.5 * 10 ** -digits else value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# -- the tabular learner's live view -----------------------------------------------------------


def tabular_render(choice: Choice) -> Callable[[TabularSnapshot], None]:
    """The ``render(snapshot)`` the tabular panel calls on every tick."""
    maze = choice.maze
    wide = maze.cols > 8  # on a wide screen, wide mazes get whole rows; narrow ones sit side by side
    sizes = _sizes(_maze_cell(maze))
    world = world_of(choice.maze_text)
    note = f"{WORLDS[world][2]} " if world in WORLDS else ""

    def render(snap: TabularSnapshot) -> None:
        redraw_page_after_edit(choice.maze_text)
        run = current_run(TAB_KEY)
        name = ALGORITHMS[snap.algorithm]
        zrange = _value_range(snap.v, snap.optimal_v)
        moves = len(snap.path) - 1
        main = maze_figure(
            maze, snap.v, snap.policy, snap.path, zrange=zrange, height=_maze_height(maze),
            title=f"{name}: V = max Q (colour) and greedy policy (arrows) after {snap.step:,} episodes", **sizes)
        live_charts(MAZE_VIEW, [Chart("maze", main, clickable=True)], columns=1, step=snap.step,
                    on_click=_on_maze_click)
        line = (f"Orange line: the latest episode ({moves:,} moves, exploring included). " if snap.step else "")
        st.caption(f"{note}{line}Grey: walls; green: goals; orange: pits, with the reward for entering them; "
                   "S: the start. Click a cell to change it.")
        cols = st.columns(4)
        cols[0].metric("Greedy return", _points(snap.greedy_return),
                       help="What following the arrows from the start earns (no exploration), in expectation. "
                            f"'{LOOPS}': the arrows never lead to a goal (they go round in circles or into an edge).")
        cols[1].metric("Optimal", _points(snap.optimal_return),
                       help="Value iteration's V*(start): the most any policy earns.")
        cols[2].metric("Gap", _points(snap.gap) if np.isfinite(snap.gap) else "—",
                       help="Optimal − greedy return: 0 once the arrows are an optimal policy.")
        cols[3].metric("ε now", f"{snap.epsilon:.3g}", help="The exploration rate of the current episode.")
        rewards, lengths = snap.episode_rewards, snap.episode_lengths
        charts = [
            Chart("optimal", maze_figure(maze, snap.optimal_v, snap.optimal_policy, zrange=zrange,
                                         title="Optimal V* and policy (value iteration)",
                                         height=_maze_height(maze), **sizes),
                  span=2 if wide else 1),
            Chart("q", q_figure(maze, snap.q, title="The Q-table: Q(s, a) for each action",
                                height=_q_height(maze)), span=2 if wide else 1),
            Chart("rewards", episode_figure({"reward": rewards}, reference={"optimal return": snap.optimal_return},
                                            y_range=_focus_range([rewards], [snap.optimal_return]),
                                            title="Reward per episode"), history=True),
            Chart("lengths", lengths_figure({"moves": lengths}, height=340), history=True),
        ]
        live_charts(CHARTS_VIEW, charts, columns=2, step=snap.step, markers=run.changes if run else ())
        if rewards.size > 40:
            st.caption("The reward and length axes leave out the worst 5 % of episodes (the first ones, "
                       "mostly) so that the later ones stay readable.")

    return render


def _q_height(maze: Maze) -> int:
    """Four maps in two rows (each 0.38 of the plot's height, 0.47 of its width), plus title and axes."""
    cell = min(0.47 * MAIN_WIDTH / maze.cols, 22.0)
    return int(100 + maze.rows * cell / 0.38)


# -- the deep Q-network's live view ------------------------------------------------------------


def dqn_render(choice: Choice) -> Callable[[DQNSnapshot], None]:
    """The ``render(snapshot)`` the DQN panel calls on every tick."""
    maze = choice.maze
    wide = maze.cols > 8
    sizes = _sizes(_maze_cell(maze))

    def render(snap: DQNSnapshot) -> None:
        redraw_page_after_edit(choice.maze_text)
        run = current_run(DQN_KEY)
        tab = current_run(TAB_KEY)
        table = tab.snapshot if tab is not None and tab.snapshot.rows == snap.rows else None
        cols = st.columns(4)
        cols[0].metric("DQN return", _points(snap.greedy_return),
                       help="What following the network's arrows from the start earns, in expectation. "
                            f"'{LOOPS}': they never lead to a goal.")
        cols[1].metric("DQN gap", _points(snap.gap) if np.isfinite(snap.gap) else "—",
                       help=f"Value iteration's optimal return ({_points(snap.optimal_return)}) − the DQN's.")
        cols[2].metric("Buffer filled", f"{snap.buffer_fill / snap.buffer_size:.0%}",
                       help=f"{snap.buffer_fill:,} of {snap.buffer_size:,} moves stored; once full, the oldest "
                            f"are overwritten. {snap.episodes:,} episodes so far.")
        cols[3].metric("DQN ε", f"{snap.epsilon:.3g}", help="The exploration rate of the current episode.")
        zrange = _value_range(snap.v, table.v if table is not None else None)
        charts = [Chart("dqn", maze_figure(maze, snap.v, snap.policy, snap.path, zrange=zrange,
                                           title=f"Network: V = max Q and greedy policy after {snap.step:,} moves",
                                           height=_maze_height(maze), **sizes),
                        span=2 if wide else 1)]
        if table is not None:
            trained = f"after {table.step:,} episodes" if table.step else "not trained yet: press Start above"
            charts.append(Chart("table", maze_figure(
                maze, table.v, table.policy, zrange=zrange, height=_maze_height(maze),
                title=f"Table ({ALGORITHMS[table.algorithm]}), {trained}", **sizes), span=2 if wide else 1))
        charts += [
            Chart("loss", dqn_loss_figure(snap.loss_steps, snap.losses, snap.sync_steps, height=340), history=True),
            Chart("rewards", episode_figure({"reward": snap.episode_rewards},
                                            reference={"optimal return": snap.optimal_return},
                                            y_range=_focus_range([snap.episode_rewards], [snap.optimal_return]),
                                            title="Reward per episode (network)")),
        ]
        live_charts(DQN_VIEW, charts, columns=2, step=snap.step, markers=run.changes if run else ())

    return render


# -- the maze while it cannot be played ---------------------------------------------------------


def problem_view(choice: Choice) -> None:
    """No learner can run: say why, and still draw the maze so clicks can fix it."""
    st.warning(f"{choice.problem} Fix the maze (click cells, or edit its text on the left) or pick a world.",
               icon="🚧")
    if choice.drawn is not None:
        fig = maze_figure(choice.drawn, height=_maze_height(choice.drawn),
                          title="The maze (not playable yet)", **_sizes(_maze_cell(choice.drawn)))
        live_charts(MAZE_VIEW, [Chart("maze", fig, clickable=True)], columns=1, on_click=_on_maze_click)


# -- many runs averaged -----------------------------------------------------------------------


def _ask_averages(runs: int) -> None:
    """on_click of 📊: ask for the averages of ``runs`` runs (a state, never a toggle)."""
    st.session_state[AVG_ASK_KEY] = runs


@st.cache_data(max_entries=120, show_spinner=False)
def _chunk(maze_text: str, algorithm: str, alpha: float, epsilon: float, decay: float, gamma: float,
           episodes: int, seed: int, _max_seconds: float) -> dict:
    """``RUNS_PER_CHUNK`` runs of one algorithm, summarised (small, so cheap to cache; the time limit is not
    part of the key). Raises ``TimeoutError`` past ``_max_seconds`` (nothing is cached then)."""
    env = GridWorld(parse_maze(maze_text))
    res = run_batch(env, algorithm, RUNS_PER_CHUNK, episodes, alpha, epsilon, gamma, seed, epsilon_decay=decay,
                    max_seconds=_max_seconds)
    late = late_episodes(episodes)
    return {
        "reward_sum": res.episode_rewards.sum(axis=0),
        "late": res.episode_rewards[:, late.start:late.stop].mean(axis=1),
        "q_sum": res.Q.sum(axis=0),
        "returns": np.array([greedy_return(env, Q, gamma) for Q in res.Q]),
    }


def _settings_key(cfg: TabularConfig, algorithms: tuple[str, ...]) -> tuple:
    return (encode_maze(cfg.maze), cfg.alpha, cfg.epsilon, cfg.epsilon_decay, cfg.gamma, cfg.episodes, cfg.seed,
            algorithms)


def compute_averages(cfg: TabularConfig, algorithms: tuple[str, ...], runs: int,
                     seconds: float = AVERAGE_SECONDS) -> dict:
    """Chunks of ``RUNS_PER_CHUNK`` runs per algorithm (cached), in turn, until
    ``runs`` runs of each are done or about ``seconds`` have passed: no chunk
    starts after that, and none runs longer than the time left (at least
    ``MIN_CHUNK_SECONDS``). Returns per algorithm the mean reward per episode,
    the late mean of each run, the runs' mean Q and their greedy returns;
    ``slow`` says a chunk ran out of time (the settings need too many moves)."""
    text = encode_maze(cfg.maze)
    start = time.perf_counter()
    parts: dict[str, list[dict]] = {alg: [] for alg in algorithms}
    slow = False
    for chunk in range(math.ceil(runs / RUNS_PER_CHUNK)):
        for alg in algorithms:
            left = seconds - (time.perf_counter() - start)
            if (left <= 0 and any(parts.values())) or slow:
                break
            try:
                parts[alg].append(_chunk(text, alg, cfg.alpha, cfg.epsilon, cfg.epsilon_decay, cfg.gamma,
                                         cfg.episodes, 1000 * cfg.seed + chunk, max(left, MIN_CHUNK_SECONDS)))
            except TimeoutError:
                slow = True
    done = min(len(p) for p in parts.values())
    out = {"runs": done * RUNS_PER_CHUNK, "asked": runs, "seconds": time.perf_counter() - start, "slow": slow,
           "algorithms": {}}
    for alg, chunks in parts.items() if done else ():
        chunks = chunks[:done]
        n = done * RUNS_PER_CHUNK
        out["algorithms"][alg] = {
            "mean_rewards": sum(c["reward_sum"] for c in chunks) / n,
            "late": np.concatenate([c["late"] for c in chunks]),
            "mean_q": sum(c["q_sum"] for c in chunks) / n,
            "returns": np.concatenate([c["returns"] for c in chunks]),
        }
    return out


def averages(choice: Choice, slot: Any) -> None:
    """The averages over many runs: computed when asked, kept for the settings they belong to."""
    cfg = choice.tabular
    with slot:
        if cfg is None:
            st.info("The averages need a playable maze.", icon="🚧")
            return
        if not choice.avg_algorithms:
            st.info("Pick at least one algorithm to average.", icon="☝️")
            return
        key = _settings_key(cfg, choice.avg_algorithms)
        store = st.session_state.setdefault(AVG_STORE_KEY, {})
        asked = st.session_state.pop(AVG_ASK_KEY, None)
        if asked:
            with st.spinner(f"Averaging {asked} runs of each algorithm (for {AVERAGE_SECONDS:g} s at most)..."):
                store.clear()  # one result per session: the current settings'
                store[key] = compute_averages(cfg, choice.avg_algorithms, int(asked))
        result = store.get(key)
        if result is None:
            st.caption("Press **📊 Average** to run them (nothing is computed until then).")
            return
        if result["slow"] and not result["runs"]:
            st.warning(f"{RUNS_PER_CHUNK} runs with these settings take longer than this page allows "
                       f"({max(AVERAGE_SECONDS, MIN_CHUNK_SECONDS):g} s): fewer episodes, a smaller maze or a "
                       "lower ε (fewer random moves) make them faster.", icon="⏳")
            return
        if not result["runs"]:
            st.info("Not every algorithm got its first runs in time: press the button again to go on "
                    "(what is done is kept).", icon="⏳")
            return
        _show_averages(cfg, result)


def _show_averages(cfg: TabularConfig, result: dict) -> None:
    env = GridWorld(cfg.maze)
    late = late_episodes(cfg.episodes)
    names = {alg: ALGORITHMS[alg] for alg in result["algorithms"]}
    runs = result["runs"]
    more = ""
    if runs < result["asked"]:
        more = (f" (asked for {result['asked']}: more would take longer than this page allows)" if result["slow"]
                else f" (asked for {result['asked']}: press the button again for the rest)")
    st.caption(f"{runs} runs of each algorithm, seeds as set above, in {result['seconds']:.1f} s{more}. "
               f"Mean reward per episode over episodes {late.start + 1}–{late.stop} (online: exploring with "
               f"ε = {cfg.epsilon:g}), and what the runs' average Q-table does when it acts greedily:")
    cols = st.columns(len(names))
    summary = {}
    for col, (alg, name) in zip(cols, names.items()):
        data = result["algorithms"][alg]
        path = greedy_path(env, data["mean_q"])
        ret = greedy_return(env, data["mean_q"], cfg.gamma)
        reaching = int(np.isfinite(data["returns"]).sum())
        summary[alg] = (float(data["late"].mean()), ret, len(path) - 1)
        col.metric(name, _points(summary[alg][0], 1), help=f"Mean reward per episode, episodes {late.start + 1}–"
                   f"{late.stop}, averaged over {runs} runs (standard error "
                   f"{np.std(data['late'], ddof=1) / np.sqrt(len(data['late'])):.2f}).")
        col.caption(f"Acting greedily, the runs' average table {_walk(ret, len(path) - 1)}. "
                    f"{reaching} of {runs} runs' own greedy policies reach a goal.")
    _compare_sentence(summary)
    window = 10 if cfg.episodes >= 100 else 1
    curves = {name: result["algorithms"][alg]["mean_rewards"] for alg, name in names.items()}
    optimal = float(value_iteration(env, cfg.gamma).V[env.start])
    drawn = [moving_average(c, window)[window:] for c in curves.values()]  # the first points average fewer
    charts = [Chart("curves", episode_figure(curves, window=window, reference={"optimal return": optimal},
                                             y_range=_focus_range(drawn, [optimal], share=2.0),
                                             title=f"Mean reward per episode over {runs} runs", height=380), span=2)]
    wide = cfg.maze.cols > 8
    sizes = _sizes(_maze_cell(cfg.maze))
    for alg, name in names.items():
        path = greedy_path(env, result["algorithms"][alg]["mean_q"])
        cells = np.array([env.cell(s) for s in path])
        what = f"{len(path) - 1} moves" if np.isfinite(summary[alg][1]) else "it never reaches a goal"
        charts.append(Chart(f"path-{alg}", maze_figure(
            cfg.maze, path=cells, height=_maze_height(cfg.maze),
            title=f"{name}: greedy path of the runs' average table ({what})", **sizes), span=2 if wide else 1))
    live_charts(AVG_VIEW, charts, columns=2)


def _walk(ret: float, moves: int) -> str:
    """What a greedy path does, in words."""
    return f"walks {moves} moves for a return of {_points(ret)}" if np.isfinite(ret) else "never reaches a goal"


def _compare_sentence(summary: dict[str, tuple[float, float, int]]) -> None:
    """What the numbers above say, in words (every number comes from them)."""
    if "q_learning" not in summary or "sarsa" not in summary:
        return
    (q_on, q_ret, q_moves), (s_on, s_ret, s_moves) = summary["q_learning"], summary["sarsa"]
    online = "SARSA earns more online" if s_on > q_on else "Q-learning earns more online"
    st.markdown(
        f"**{online}** ({_points(s_on, 1)} vs {_points(q_on, 1)} points per episode), exploring included. "
        f"Acting greedily, Q-learning's average table {_walk(q_ret, q_moves)} and SARSA's {_walk(s_ret, s_moves)}. "
        "Q-learning learns the values of the *best* policy, whatever it does while exploring; "
        "SARSA learns the values of the policy it *follows*, random moves included, so it keeps away from "
        "places where a random move is expensive."
    )


# -- the lessons --------------------------------------------------------------------------------


def lessons() -> None:
    st.divider()
    st.subheader("What the page shows, and the formulas")
    st.markdown(
        "- **The value V(s)** is the return (the sum of rewards, each discounted by γ per move) that an "
        "agent can expect from cell s on. **The action value Q(s, a)** is the same, after taking action a "
        "first. A table with one Q per cell and action is the **Q-table**; the arrows pick the action with "
        "the largest Q (the greedy policy), and the colour shows V = max Q.\n"
        "- **Value iteration** knows the maze's rules and computes the optimal V* directly; the learners "
        "do not know the rules: they only see the rewards of the moves they make.\n"
        "- **Exploration vs exploitation**: with probability ε the agent makes a random move (exploring), "
        "otherwise the best one it knows (exploiting). Without exploration it may never find a better way; "
        "with too much it keeps paying for random moves."
    )
    formula(
        r"Q(s,a) \leftarrow Q(s,a) + \alpha\,\big[\,\text{target} - Q(s,a)\,\big]",
        "After each move from s with action a, reward r, into s': move Q(s, a) a step α towards a target. "
        "The three learners differ only in the target.",
        title="The update",
    )
    formula(
        r"\text{Q-learning: } r + \gamma \max_{a'} Q(s',a') \qquad \text{SARSA: } r + \gamma\, Q(s',a'_{\text{taken}})"
        r"\qquad \text{Expected SARSA: } r + \gamma \sum_{a'} \pi(a'|s')\, Q(s',a')",
        "Q-learning assumes the best action next (off-policy: it learns the greedy policy's values while "
        "exploring). SARSA uses the action it really takes next, random or not (on-policy). Expected SARSA "
        "averages over what the ε-greedy policy π would do. When the move ends the episode, the target is r.",
        title="Three targets",
    )
    formula(
        r"L(\theta) = \operatorname{Huber}\Big(r + \gamma \max_{a'} Q_{\theta^-}(s',a') - Q_\theta(s,a)\Big)",
        "Deep Q-learning: the network Q_θ is trained by gradient descent on batches drawn from the replay "
        "buffer; the target uses a copy θ⁻ of the weights, refreshed every few gradient steps (the diamonds "
        "on the loss chart), so the target does not move with every step. Random batches break the "
        "correlation between consecutive moves. A small network on a small maze does not always find the "
        "optimal policy: compare its gap with the table's.",
        title="Deep Q-learning (DQN)",
    )
