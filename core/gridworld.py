"""Gridworld mazes, tabular Q-learning / SARSA / Expected SARSA and deep Q-learning.

The engine behind the gridworld page (issue 17). An agent stands on one cell
of a grid and moves up, right, down or left. Every move pays the maze's step
reward; entering a goal or a pit pays that cell's reward *instead*. A goal
ends the episode; a pit ends it too, or (``pits_restart``, as on Sutton &
Barto's cliff) sends the agent back to the start without ending it. Walls
and the edge of the grid block a move: the agent stays put and pays the step
reward. On a slippery maze (``slip`` = p) a move goes in the intended
direction with probability 1 - p and turns 90° left or right with
probability p / 2 each.

The learners (Sutton & Barto, 2nd ed., chapter 6) keep a table Q(s, a) of
the return expected after action a in state s, act ε-greedily (a random
action with probability ε, else the best one, ties broken at random) and
after each move from s with action a, reward r, next state s' update
Q(s, a) ← Q(s, a) + α (target − Q(s, a)) with the target

- Q-learning:      r + γ max_a' Q(s', a')                  (off-policy)
- SARSA:           r + γ Q(s', a'), a' the action it takes next (on-policy)
- Expected SARSA:  r + γ Σ_a' π(a'|s') Q(s', a'), π the ε-greedy policy

and target = r when s' ends the episode. ε may decay: at episode k (from 0)
it is ε_k = ε / (1 + decay · k), the bandit page's schedule. An episode
longer than ``max_steps`` moves is cut (not ended): its last update still
bootstraps, SARSA's from the ε-greedy expectation (it has no next action).

``run_batch`` runs many independent learners at once in NumPy (one row per
run, a Python loop over moves) for Sutton & Barto's figure 6.4 averages. It
draws its random numbers so that with ``n_runs=1`` it reproduces the
single-run functions (``q_learning``, ``sarsa``, ``expected_sarsa``) on the
same seed exactly.

``DQNTrainer`` replaces the table by a small torch network on one-hot states
(deep Q-learning, Mnih et al. 2015): moves are stored in an experience
(replay) buffer, each step trains on a random batch from it, and the targets
come from a second, target network that copies the trained one every
``sync_every`` gradient steps.

The reference is ``value_iteration``: the optimal values V*, Q* and a
greedy optimal policy, to which a learned greedy policy's return is compared
(``return_gap``).

Mazes travel in the page's link as text (``encode_maze`` / ``parse_maze``):
rows of cells joined by ``/``, then ``;option=value`` settings::

    "#S..G(10)/#.#P.;step=-1;slip=0.1"

Cells: ``.`` free, ``#`` wall, ``S`` start, ``G`` goal, ``P`` pit; a goal or
pit may carry its reward in parentheses (else the ``goal=`` / ``pit=``
option, default 0 and -100). Options: ``step`` (reward per move, default -1),
``slip`` (default 0), ``goal``, ``pit``, ``pits`` (``end``, the default, or
``restart``).
"""

from __future__ import annotations

import copy
import math
import numbers
import re
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, NamedTuple

import numpy as np

from core.checks import check_int, check_real, is_real
import torch
from torch import nn

from core.params import Param, ParamTable
from core.trainer import GuardedTrainer, Snapshot, build_seeded

Cell = tuple[int, int]

ACTIONS = ("up", "right", "down", "left")
ARROWS = ("↑", "→", "↓", "←")
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))  # (row, column) change of each action
N_ACTIONS = 4
ALGORITHMS = {"q_learning": "Q-learning", "sarsa": "SARSA", "expected_sarsa": "Expected SARSA"}

MAX_SIDE = 16  # rows and columns
MAX_REWARD = 1000.0  # largest |reward| of a cell or a move
DEFAULT_STEP_REWARD = -1.0
DEFAULT_GOAL_REWARD = 0.0
DEFAULT_PIT_REWARD = -100.0
CELL_KINDS = {".": "free", "#": "wall", "S": "start", "G": "goal", "P": "pit"}


# -- checks -------------------------------------------------------------------------


_is_real, _check_real, _check_int = is_real, check_real, check_int  # core.checks, shared by the engines


def _where(cell: Cell) -> str:
    return f"row {cell[0] + 1}, column {cell[1] + 1}"


# -- the maze -----------------------------------------------------------------------


def _reward_cells(name: str, cells: Any) -> tuple[tuple[Cell, float], ...]:
    """Goals or pits as a sorted tuple of ((row, col), reward) from a mapping or pairs."""
    items = cells.items() if isinstance(cells, Mapping) else cells
    out = {}
    for cell, reward in items:
        cell = (int(cell[0]), int(cell[1]))
        if cell in out:
            raise ValueError(f"{name}: {_where(cell)} is listed twice")
        out[cell] = _check_real(f"the reward of the {name[:-1]} at {_where(cell)}", reward, -MAX_REWARD, MAX_REWARD)
    return tuple(sorted(out.items()))


@dataclass(frozen=True)
class Maze:
    """A frozen maze: its size, start, walls, goals and pits (with the reward
    for entering each), the reward per move, the slip probability and what
    pits do (end the episode, or ``pits_restart``: back to the start).

    Cells are (row, column) from the top left, counted from 0. Goals and
    pits may be given as ``{cell: reward}``; they are kept as sorted tuples
    so that two equal mazes compare (and hash) equal.
    """

    rows: int
    cols: int
    start: Cell | None = None
    walls: tuple[Cell, ...] = ()
    goals: tuple[tuple[Cell, float], ...] = ()
    pits: tuple[tuple[Cell, float], ...] = ()
    step_reward: float = DEFAULT_STEP_REWARD
    slip: float = 0.0
    pits_restart: bool = False

    def __post_init__(self) -> None:
        _check_int("rows", self.rows, 1, MAX_SIDE)
        _check_int("cols", self.cols, 1, MAX_SIDE)
        if self.rows * self.cols < 2:
            raise ValueError("a maze needs at least 2 cells (a start and a goal)")
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        set_("walls", tuple(sorted({(int(r), int(c)) for r, c in self.walls})))
        set_("goals", _reward_cells("goals", self.goals))
        set_("pits", _reward_cells("pits", self.pits))
        if self.start is not None:
            set_("start", (int(self.start[0]), int(self.start[1])))
        set_("step_reward", _check_real("step reward", self.step_reward, -MAX_REWARD, MAX_REWARD))
        set_("slip", _check_real("slip", self.slip, 0.0, 1.0, hi_open=True))
        if not isinstance(self.pits_restart, (bool, np.bool_)):
            raise ValueError(f"pits_restart must be True or False, got {self.pits_restart!r}")
        set_("pits_restart", bool(self.pits_restart))
        seen: dict[Cell, str] = {}
        named = [("start", [self.start] if self.start is not None else []), ("wall", self.walls),
                 ("goal", [c for c, _ in self.goals]), ("pit", [c for c, _ in self.pits])]
        for kind, cells in named:
            for cell in cells:
                if not (0 <= cell[0] < self.rows and 0 <= cell[1] < self.cols):
                    raise ValueError(f"the {kind} at {_where(cell)} is outside the {self.rows} x {self.cols} grid")
                if cell in seen:
                    raise ValueError(f"{_where(cell)} is both a {seen[cell]} and a {kind}")
                seen[cell] = kind

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def kind(self, cell: Cell) -> str:
        """The cell's character: ``.`` ``#`` ``S`` ``G`` or ``P``."""
        if cell == self.start:
            return "S"
        if cell in set(self.walls):
            return "#"
        if cell in dict(self.goals):
            return "G"
        if cell in dict(self.pits):
            return "P"
        return "."

    def grid(self) -> list[str]:
        """The maze as rows of cell characters (rewards left out)."""
        chars = [["."] * self.cols for _ in range(self.rows)]
        for r, c in self.walls:
            chars[r][c] = "#"
        for (r, c), _ in self.goals:
            chars[r][c] = "G"
        for (r, c), _ in self.pits:
            chars[r][c] = "P"
        if self.start is not None:
            chars[self.start[0]][self.start[1]] = "S"
        return ["".join(row) for row in chars]

    def with_cell(self, cell: Cell, kind: str, reward: float | None = None) -> Maze:
        """A copy with ``cell`` turned into ``kind`` (one of ``. # S G P``).

        The maze editor's click: ``S`` moves the start there; ``G`` / ``P``
        take ``reward`` (default: the cell's current reward of that kind, else
        the defaults 0 and -100).
        """
        if kind not in CELL_KINDS:
            raise ValueError(f"unknown cell kind {kind!r}: use one of {' '.join(CELL_KINDS)}")
        cell = (int(cell[0]), int(cell[1]))
        if not (0 <= cell[0] < self.rows and 0 <= cell[1] < self.cols):
            raise ValueError(f"{_where(cell)} is outside the {self.rows} x {self.cols} grid")
        goals, pits = dict(self.goals), dict(self.pits)
        old_goal, old_pit = goals.pop(cell, None), pits.pop(cell, None)
        walls = set(self.walls) - {cell}
        start = None if self.start == cell else self.start
        if kind == "#":
            walls.add(cell)
        elif kind == "S":
            start = cell
        elif kind == "G":
            goals[cell] = reward if reward is not None else (old_goal if old_goal is not None else DEFAULT_GOAL_REWARD)
        elif kind == "P":
            pits[cell] = reward if reward is not None else (old_pit if old_pit is not None else DEFAULT_PIT_REWARD)
        return replace(self, start=start, walls=tuple(walls), goals=goals, pits=pits)


# -- the text form (the page's link) ---------------------------------------------------

_TOKEN = re.compile(r"([.#SGP])(?:\(([^()]*)\))?")
_OPTIONS = ("step", "slip", "goal", "pit", "pits")


def _number_text(x: float) -> str:
    """Shortest text that reads back as exactly ``x``: 10, -0.5, 0.1."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _most_common(values: Iterable[float], default: float) -> float:
    counts = Counter(values)
    return max(counts, key=lambda v: (counts[v], v == default)) if counts else default


def encode_maze(maze: Maze) -> str:
    """The maze as one line of text for the link (``parse_maze`` reads it back).

    Rewards that differ from the ``goal=`` / ``pit=`` default are written
    next to their cell; options at their defaults are left out.

    >>> encode_maze(Maze(1, 3, start=(0, 0), goals={(0, 2): 10.0}))
    'S.G;goal=10'
    """
    goal_default = _most_common((r for _, r in maze.goals), DEFAULT_GOAL_REWARD)
    pit_default = _most_common((r for _, r in maze.pits), DEFAULT_PIT_REWARD)
    rewards = {**dict(maze.goals), **dict(maze.pits)}
    defaults = {"G": goal_default, "P": pit_default}
    rows = []
    for r, line in enumerate(maze.grid()):
        cells = []
        for c, ch in enumerate(line):
            if ch in "GP" and rewards[(r, c)] != defaults[ch]:
                ch += f"({_number_text(rewards[(r, c)])})"
            cells.append(ch)
        rows.append("".join(cells))
    options = []
    if maze.step_reward != DEFAULT_STEP_REWARD:
        options.append(f"step={_number_text(maze.step_reward)}")
    if maze.slip:
        options.append(f"slip={_number_text(maze.slip)}")
    if goal_default != DEFAULT_GOAL_REWARD:
        options.append(f"goal={_number_text(goal_default)}")
    if pit_default != DEFAULT_PIT_REWARD:
        options.append(f"pit={_number_text(pit_default)}")
    if maze.pits_restart:
        options.append("pits=restart")
    return ";".join(["/".join(rows), *options])


def _parse_number(what: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {raw!r}")
    return value


def parse_maze(text: str) -> Maze:
    """Read a maze from its text form (see the module docstring); rows may
    also be separated by new lines. Raises ``ValueError`` saying what is wrong
    and where; a maze that parses may still be impossible (see ``validate``).

    >>> parse_maze("S.G(10)").goals
    (((0, 2), 10.0),)
    """
    if not isinstance(text, str):
        raise ValueError(f"a maze must be text, got {type(text).__name__}")  # noqa: TRY004 (the API's contract)
    grid_text, *option_parts = text.strip().split(";")
    options: dict[str, str] = {}
    for part in option_parts:
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in _OPTIONS:
            raise ValueError(f"unknown maze option {part!r}: the options are "
                             "step=<reward per move>, slip=<0 to 1>, goal=<reward>, pit=<reward>, pits=end|restart")
        if name in options:
            raise ValueError(f"the maze option {name!r} is given twice")
        options[name] = value.strip()
    step = _parse_number("step (the reward per move)", options.get("step", str(DEFAULT_STEP_REWARD)))
    slip = _parse_number("slip", options.get("slip", "0"))
    goal_default = _parse_number("goal (the default goal reward)", options.get("goal", str(DEFAULT_GOAL_REWARD)))
    pit_default = _parse_number("pit (the default pit reward)", options.get("pit", str(DEFAULT_PIT_REWARD)))
    pits_mode = options.get("pits", "end").lower()
    if pits_mode not in ("end", "restart"):
        raise ValueError(f"pits must be 'end' or 'restart', got {options['pits']!r}")

    lines = [line.strip() for line in re.split(r"[/\n]", grid_text)]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("the maze is empty: give rows of cells such as 'S..G'")
    if len(lines) > MAX_SIDE:
        raise ValueError(f"the maze has {len(lines)} rows; at most {MAX_SIDE} are allowed")
    start: Cell | None = None
    walls: list[Cell] = []
    goals: dict[Cell, float] = {}
    pits: dict[Cell, float] = {}
    width = None
    for r, line in enumerate(lines):
        pos, c = 0, 0
        while pos < len(line):
            m = _TOKEN.match(line, pos)
            if m is None:
                raise ValueError(f"unknown cell {line[pos]!r} in row {r + 1}, column {c + 1}: "
                                 "use . (free), # (wall), S (start), G (goal), P (pit)")
            ch, reward_text = m.group(1), m.group(2)
            cell = (r, c)
            if reward_text is not None and ch not in "GP":
                raise ValueError(f"only goals and pits carry a reward, but {_where(cell)} is {ch!r}")
            if ch == "#":
                walls.append(cell)
            elif ch == "S":
                if start is not None:
                    raise ValueError(f"the maze has two starts ({_where(start)} and {_where(cell)}): keep one 'S'")
                start = cell
            elif ch in "GP":
                what = f"the reward of the {'goal' if ch == 'G' else 'pit'} at {_where(cell)}"
                default = goal_default if ch == "G" else pit_default
                reward = default if reward_text is None else _parse_number(what, reward_text)
                (goals if ch == "G" else pits)[cell] = reward
            pos, c = m.end(), c + 1
        if c > MAX_SIDE:
            raise ValueError(f"row {r + 1} has {c} cells; at most {MAX_SIDE} are allowed")
        if width is None:
            width = c
        elif c != width:
            raise ValueError(f"row {r + 1} has {c} cells but row 1 has {width}: every row needs the same length")
    return Maze(len(lines), width, start=start, walls=tuple(walls), goals=goals, pits=pits, step_reward=step,
                slip=slip, pits_restart=pits_mode == "restart")


def validate(maze: Maze) -> None:
    """Raise ``ValueError`` (one sentence) unless an agent can play ``maze``:
    it needs a start, a goal, and a goal it can reach from the start through
    free cells (breadth-first search; pits and walls block the way)."""
    if maze.start is None:
        raise ValueError("The maze has no start: mark one cell 'S'.")
    if not maze.goals:
        raise ValueError("The maze has no goal: mark at least one cell 'G'.")
    blocked = set(maze.walls) | {c for c, _ in maze.pits}
    goals = {c for c, _ in maze.goals}
    seen, queue = {maze.start}, deque([maze.start])
    while queue:
        r, c = queue.popleft()
        for dr, dc in MOVES:
            nxt = (r + dr, c + dc)
            if nxt in goals:
                return
            if 0 <= nxt[0] < maze.rows and 0 <= nxt[1] < maze.cols and nxt not in blocked and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    raise ValueError("No goal can be reached from the start: open a way through the walls and pits.")


def check_gamma(maze: Maze, gamma: float) -> float:
    """``gamma`` checked against the maze: in [0, 1], and below 1 when moving
    about forever would pay (a positive step reward or restarting pit)."""
    gamma = _check_real("gamma", gamma, 0.0, 1.0)
    if gamma == 1.0:
        loop_pays = maze.step_reward > 0 or (maze.pits_restart and any(r > 0 for _, r in maze.pits))
        if loop_pays:
            raise ValueError("With gamma = 1 and positive rewards for moving about, wandering forever beats "
                             "any goal: lower gamma below 1 or make those rewards negative.")
    return gamma


# -- the environment -----------------------------------------------------------------------


class GridWorld:
    """A playable maze: ``reset()`` and ``step(action)`` like a Gym
    environment, plus the tables that the fast learners use.

    States are cells, numbered ``row * cols + col``; ``n_states`` counts
    every cell, walls too (they are never visited). Actions are 0 up,
    1 right, 2 down, 3 left. The tables hold the outcome of moving in
    *direction* d from state s: ``next_state[s, d]``, ``reward[s, d]`` and
    ``terminal[s, d]``; ``slip_probs[a, d]`` is the chance that action a moves
    in direction d. ``is_state[s]`` marks the cells an agent can stand on.
    """

    n_actions = N_ACTIONS

    def __init__(self, maze: Maze, seed: int = 0) -> None:
        validate(maze)
        self.maze = maze
        self.rows, self.cols = maze.rows, maze.cols
        self.n_states = maze.rows * maze.cols
        self.start = self.index(maze.start)
        S = self.n_states
        walls, goals, pits = set(maze.walls), dict(maze.goals), dict(maze.pits)
        self.next_state = np.repeat(np.arange(S)[:, None], N_ACTIONS, axis=1)
        self.reward = np.zeros((S, N_ACTIONS))
        self.terminal = np.ones((S, N_ACTIONS), dtype=bool)
        self.is_state = np.zeros(S, dtype=bool)
        for s in range(S):
            cell = self.cell(s)
            if cell in walls or cell in goals or cell in pits:
                continue
            self.is_state[s] = True
            for d, (dr, dc) in enumerate(MOVES):
                to = (cell[0] + dr, cell[1] + dc)
                if not (0 <= to[0] < self.rows and 0 <= to[1] < self.cols) or to in walls:
                    nxt, rew, end = s, maze.step_reward, False
                elif to in goals:
                    nxt, rew, end = self.index(to), goals[to], True
                elif to in pits:
                    restart = maze.pits_restart
                    nxt, rew, end = (self.start if restart else self.index(to)), pits[to], not restart
                else:
                    nxt, rew, end = self.index(to), maze.step_reward, False
                self.next_state[s, d], self.reward[s, d], self.terminal[s, d] = nxt, rew, end
        p = maze.slip
        self.slip_probs = np.zeros((N_ACTIONS, N_ACTIONS))
        for a in range(N_ACTIONS):
            self.slip_probs[a, a] += 1.0 - p
            self.slip_probs[a, (a + 3) % 4] += p / 2  # turned left
            self.slip_probs[a, (a + 1) % 4] += p / 2  # turned right
        self.rng = np.random.default_rng(seed)
        self.state: int | None = None
        self._model: tuple[np.ndarray, np.ndarray] | None = None

    def index(self, cell: Cell) -> int:
        return int(cell[0]) * self.cols + int(cell[1])

    def cell(self, state: int) -> Cell:
        return divmod(int(state), self.cols)

    def direction(self, action: int, u: float) -> int:
        """The direction action ``action`` moves in, given a uniform number ``u``."""
        half = self.maze.slip / 2
        if u < half:
            return (action + 3) % 4
        if u < 2 * half:
            return (action + 1) % 4
        return action

    def transition(self, state: int, action: int, u: float) -> tuple[int, float, bool]:
        """(next state, reward, episode ended) of ``action`` in ``state``; ``u``
        (uniform in [0, 1)) decides a slip."""
        d = self.direction(action, u) if self.maze.slip else action
        return int(self.next_state[state, d]), float(self.reward[state, d]), bool(self.terminal[state, d])

    def reset(self, seed: int | None = None) -> int:
        """Start a new episode at the start cell; return the state."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self.start
        return self.state

    def step(self, action: int) -> tuple[int, float, bool]:
        """Take ``action``: return (next state, reward, done)."""
        if self.state is None:
            raise RuntimeError("the episode is over (or never began): call reset() first")
        if action not in range(N_ACTIONS):
            raise ValueError(f"action must be 0 (up), 1 (right), 2 (down) or 3 (left), got {action!r}")
        s2, r, done = self.transition(self.state, action, self.rng.random())
        self.state = None if done else s2
        return s2, r, done

    def model(self) -> tuple[np.ndarray, np.ndarray]:
        """The expected model: P[s, a, s'] (the chance of reaching s' and going
        on; terminal moves are left out, so rows may sum to less than 1) and
        R[s, a], the expected reward. Non-states have P = 0, R = 0. Computed
        once and shared: do not modify."""
        if self._model is None:
            S = self.n_states
            P = np.zeros((S, N_ACTIONS, S))
            cont = ~self.terminal
            for a in range(N_ACTIONS):
                for d in range(N_ACTIONS):
                    np.add.at(P, (np.arange(S), a, self.next_state[:, d]), self.slip_probs[a, d] * cont[:, d])
            R = self.reward @ self.slip_probs.T
            P[~self.is_state] = 0.0
            R[~self.is_state] = 0.0
            self._model = (P, R)
        return self._model


def cliff_maze() -> Maze:
    """Sutton & Barto's cliff walking (example 6.6): 4 x 12, start bottom left,
    goal bottom right, the cliff between them; -1 per move, -100 and back to
    the start for stepping off the cliff."""
    return Maze(4, 12, start=(3, 0), goals={(3, 11): -1.0}, pits={(3, c): -100.0 for c in range(1, 11)},
                step_reward=-1.0, pits_restart=True)


def cliff_walking(slip: float = 0.0, seed: int = 0) -> GridWorld:
    """The cliff-walking environment (optionally slippery)."""
    return GridWorld(replace(cliff_maze(), slip=slip), seed=seed)


@dataclass(frozen=True)
class MazePreset:
    key: str
    title: str
    text: str  # the maze in its link form
    note: str  # one sentence on what it shows

    @property
    def maze(self) -> Maze:
        return parse_maze(self.text)


PRESETS: dict[str, MazePreset] = {
    p.key: p
    for p in (
        MazePreset("cliff", "Cliff walking (Sutton & Barto 4 x 12)", encode_maze(cliff_maze()),
                   "The shortest way runs along the cliff edge; one exploring step off it costs 100."),
        MazePreset("maze8", "8 x 8 maze",
                   "S..#..../.#.#.##./.#...#../.####.#./......#./.##.###./..#...#./#...#..G;goal=10",
                   "Walls make the way to the goal long and winding."),
        MazePreset("bridge", "Bridge between pits",
                   "......./.PPPPP./S.....G/.PPPPP./.......;goal=10;pit=-10",
                   "The short way crosses a bridge between pits; on a slippery floor the long way round is safer."),
        MazePreset("two_goals", "Near small goal, far big goal",
                   "......../G.S....G(10)/........;goal=1",
                   "A small reward close by or a big one farther away: gamma decides."),
    )
}


# -- optimal values and policy evaluation ---------------------------------------------------


class Solution(NamedTuple):
    V: np.ndarray  # optimal value per state (NaN on walls, goals, pits and cells with no way out)
    Q: np.ndarray  # optimal action values, states x actions
    policy: np.ndarray  # a greedy optimal action per state (-1 where there is no decision)


def _reaching(targets: np.ndarray, edges: np.ndarray, states: np.ndarray) -> np.ndarray:
    """The ``states`` from which a chain of ``edges[s, t]`` leads into ``targets`` (targets included)."""
    found = targets & states
    while True:
        new = found | (states & (edges & found[None, :]).any(axis=1))
        if (new == found).all():
            return found
        found = new


def _can_finish(env: GridWorld) -> np.ndarray:
    """States from which some sequence of moves ends the episode."""
    edges = np.zeros((env.n_states, env.n_states), dtype=bool)
    rows = np.repeat(np.arange(env.n_states), N_ACTIONS)
    go_on = ~env.terminal.ravel()
    edges[rows[go_on], env.next_state.ravel()[go_on]] = True
    return _reaching(env.terminal.any(axis=1), edges, env.is_state)


def value_iteration(env: GridWorld, gamma: float, tol: float = 1e-10, max_iterations: int = 100_000) -> Solution:
    """Optimal V*, Q* and a greedy optimal policy by value iteration:
    V(s) ← max_a Σ_s' P(s'|s, a) [r + γ V(s')], with V = 0 after the episode ends,
    until V changes by less than ``tol``. Ties in the policy go to the first
    action (up, right, down, left).
    """
    gamma = check_gamma(env.maze, gamma)
    live = _can_finish(env)
    cont = ~env.terminal
    V = np.zeros(env.n_states)
    for _ in range(max_iterations):
        Q = (env.reward + gamma * cont * V[env.next_state]) @ env.slip_probs.T
        new = np.where(live, Q.max(axis=1), 0.0)
        if np.max(np.abs(new - V)) < tol:
            V = new
            break
        V = new
    else:
        raise RuntimeError(f"value iteration did not converge in {max_iterations} sweeps")
    Q = (env.reward + gamma * cont * V[env.next_state]) @ env.slip_probs.T
    Q[~live] = np.nan
    V = np.where(live, V, np.nan)
    policy = np.where(live, np.argmax(np.nan_to_num(Q, nan=-np.inf), axis=1), -1)
    return Solution(V, Q, policy)


def as_probabilities(policy: np.ndarray) -> np.ndarray:
    """A deterministic policy (one action per state) as states x actions probabilities."""
    policy = np.asarray(policy)
    if policy.ndim == 2:
        return policy.astype(float)
    pi = np.zeros((len(policy), N_ACTIONS))
    ok = policy >= 0
    pi[np.flatnonzero(ok), policy[ok]] = 1.0
    return pi


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """The greedy action per state (ties to the first action)."""
    return np.argmax(Q, axis=1)


def epsilon_greedy_probabilities(Q: np.ndarray, epsilon: float) -> np.ndarray:
    """π(a|s) of ε-greedy on Q with ties broken at random: ε/4 each, plus
    (1 − ε) shared by the best actions."""
    Q = np.where(np.isnan(Q), -np.inf, Q)  # rows with no decision: uniform
    best = Q == Q.max(axis=1, keepdims=True)
    return epsilon / N_ACTIONS + (1.0 - epsilon) * best / best.sum(axis=1, keepdims=True)


def online_return(env: GridWorld, Q: np.ndarray, epsilon: float, gamma: float) -> float:
    """What acting ε-greedily on ``Q`` earns per episode in expectation: the
    online reward of a learner whose table has settled at ``Q``."""
    return policy_return(env, epsilon_greedy_probabilities(Q, epsilon), gamma)


def policy_values(env: GridWorld, policy: np.ndarray, gamma: float) -> np.ndarray:
    """V^π for ``policy`` (an action per state, or states x actions
    probabilities) by solving the Bellman equation V = R_π + γ P_π V.

    With γ = 1 a state from which the policy may never end the episode has
    V = -inf (it never collects the goal: "never finishes"). Non-states: NaN.
    """
    gamma = check_gamma(env.maze, gamma)
    pi = as_probabilities(policy)
    P, R = env.model()
    P_pi = np.einsum("sa,sat->st", pi, P)
    R_pi = np.einsum("sa,sa->s", pi, R)
    states = env.is_state
    proper = states
    if gamma == 1.0:
        edges = P_pi > 0
        ends = P_pi.sum(axis=1) < 1.0 - 1e-12  # an ending move has some probability
        stuck = states & ~_reaching(ends, edges, states)  # can never end
        proper = states & ~_reaching(stuck, edges, states)  # can never get stuck either
    idx = np.flatnonzero(proper)
    V = np.full(env.n_states, np.nan)
    V[states & ~proper] = -np.inf
    if idx.size:
        A = np.eye(idx.size) - gamma * P_pi[np.ix_(idx, idx)]
        V[idx] = np.linalg.solve(A, R_pi[idx])
    return V


def policy_return(env: GridWorld, policy: np.ndarray, gamma: float) -> float:
    """The expected (discounted) return of ``policy`` from the start."""
    return float(policy_values(env, policy, gamma)[env.start])


def greedy_return(env: GridWorld, Q: np.ndarray, gamma: float) -> float:
    """The return of acting greedily on ``Q`` from the start (-inf: never finishes)."""
    return policy_return(env, greedy_policy(Q), gamma)


def return_gap(env: GridWorld, Q: np.ndarray, gamma: float, optimal: float | None = None) -> float:
    """How much return the greedy policy on ``Q`` loses to the optimal one (>= 0)."""
    best = value_iteration(env, gamma).V[env.start] if optimal is None else optimal
    return float(best - greedy_return(env, Q, gamma))


def epsilon_greedy_optimum(env: GridWorld, epsilon: float, gamma: float, tol: float = 1e-10,
                           max_iterations: int = 100_000) -> np.ndarray:
    """Q of the best policy among ε-greedy ones: the fixed point of
    Q(s, a) = E[r + γ Σ_a' π_ε(a'|s') Q(s', a')] that SARSA and Expected SARSA
    with a constant ε settle at (what they earn online). Returns states x actions."""
    gamma = check_gamma(env.maze, gamma)
    _check_real("epsilon", epsilon, 0.0, 1.0)
    live = _can_finish(env)
    cont = ~env.terminal
    Q = np.zeros((env.n_states, N_ACTIONS))
    for _ in range(max_iterations):
        V = epsilon * Q.mean(axis=1) + (1.0 - epsilon) * Q.max(axis=1)
        new = (env.reward + gamma * cont * V[env.next_state]) @ env.slip_probs.T
        new[~live] = 0.0
        if np.max(np.abs(new - Q)) < tol:
            Q = new
            break
        Q = new
    else:
        raise RuntimeError(f"the ε-greedy fixed point did not converge in {max_iterations} sweeps")
    Q[~live] = np.nan
    return Q


def greedy_path(env: GridWorld, Q: np.ndarray, max_steps: int | None = None) -> list[int]:
    """States visited by the greedy policy on ``Q`` from the start, moving in
    the intended direction (no slips), until the episode ends, a state
    repeats, or ``max_steps`` moves (default: the number of cells)."""
    policy = greedy_policy(Q)
    s, path = env.start, [env.start]
    seen = {env.start}
    for _ in range(max_steps or env.n_states):
        a = int(policy[s])
        s2, end = int(env.next_state[s, a]), bool(env.terminal[s, a])
        path.append(s2)
        if end or s2 in seen:
            break
        seen.add(s2)
        s = s2
    return path


# -- tabular learners: one run -----------------------------------------------------------------


def epsilon_at(epsilon: float, decay: float, episode: int | np.ndarray) -> float | np.ndarray:
    """ε at episode ``episode`` (from 0): ε / (1 + decay · episode)."""
    return epsilon / (1.0 + decay * episode)


def default_max_steps(env: GridWorld) -> int:
    """Moves after which an episode is cut: 100 per cell."""
    return 100 * env.n_states


def _check_learning(env: GridWorld, algorithm: str, alpha: float, epsilon: float, gamma: float,
                    epsilon_decay: float, max_steps: int | None) -> tuple[float, int]:
    """Checked (gamma, max_steps) of a tabular learner's settings."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
    _check_real("alpha", alpha, 0.0, 1.0, lo_open=True)
    _check_real("epsilon", epsilon, 0.0, 1.0)
    _check_real("epsilon_decay", epsilon_decay, lo=0.0)
    gamma = check_gamma(env.maze, gamma)
    max_steps = default_max_steps(env) if max_steps is None else _check_int("max_steps", max_steps, 1)
    return gamma, max_steps


@dataclass
class Episode:
    reward: float  # the sum of its rewards
    length: int  # moves
    path: list[int]  # states visited, start first
    td_error: float  # mean |target − Q(s, a)| of its updates


class TabularLearner:
    """One tabular agent, advanced an episode at a time (``run_episode``).

    Random numbers: each move draws one row of 3 + 4 uniforms (explore?,
    which random action, slip, tie-breaking noise per action) from
    ``numpy.random.default_rng(seed)``; SARSA draws one more row for its first
    action. ``run_batch`` draws the same way, one row per run.
    """

    def __init__(self, env: GridWorld, algorithm: str, alpha: float, epsilon: float, gamma: float = 1.0,
                 seed: int = 0, *, epsilon_decay: float = 0.0, max_steps: int | None = None,
                 initial_q: float = 0.0) -> None:
        self.gamma, self.max_steps = _check_learning(env, algorithm, alpha, epsilon, gamma, epsilon_decay, max_steps)
        self.env, self.algorithm = env, algorithm
        self.alpha, self.epsilon, self.epsilon_decay = float(alpha), float(epsilon), float(epsilon_decay)
        self.Q = np.full((env.n_states, N_ACTIONS), _check_real("initial_q", initial_q))
        self.rng = np.random.default_rng(_check_int("seed", seed, 0))
        self.episode = 0
        self.next_action: int | None = None
        if algorithm == "sarsa":
            self.next_action = self.choose(env.start, self.epsilon_now(), self._draw())

    def _draw(self) -> np.ndarray:
        return self.rng.random(3 + N_ACTIONS)

    def epsilon_now(self) -> float:
        """ε for the current episode."""
        return float(epsilon_at(self.epsilon, self.epsilon_decay, self.episode))

    def choose(self, state: int, epsilon: float, u: np.ndarray) -> int:
        """ε-greedy action from the uniforms ``u`` (see the class docstring)."""
        if u[0] < epsilon:
            return int(u[1] * N_ACTIONS)
        q = self.Q[state].tolist()
        best = max(q)
        ties = [a for a in range(N_ACTIONS) if q[a] == best]
        return ties[0] if len(ties) == 1 else max(ties, key=lambda a: u[3 + a])

    def target(self, reward: float, next_state: int, terminal: bool, next_action: int | None = None) -> float:
        """The update target of a move (``next_action``: SARSA's a'; None: the ε-greedy expectation)."""
        if terminal:
            return reward
        q = self.Q[next_state].tolist()
        if self.algorithm == "q_learning":
            boot = max(q)
        elif self.algorithm == "sarsa" and next_action is not None:
            boot = q[next_action]
        else:
            eps = self.epsilon_now()
            boot = eps * (sum(q) / N_ACTIONS) + (1.0 - eps) * max(q)
        return reward + self.gamma * boot

    def learn(self, state: int, action: int, reward: float, next_state: int, terminal: bool,
              next_action: int | None = None) -> float:
        """Q(s, a) ← Q(s, a) + α (target − Q(s, a)); returns the TD error."""
        old = float(self.Q[state, action])
        delta = self.target(reward, next_state, terminal, next_action) - old
        self.Q[state, action] = old + self.alpha * delta
        return delta

    def run_episode(self) -> Episode:
        """Play one episode from the start, learning after every move."""
        env, sarsa = self.env, self.algorithm == "sarsa"
        s, path = env.start, [env.start]
        total, steps, abs_td = 0.0, 0, 0.0
        eps = self.epsilon_now()
        while True:
            u = self._draw()
            a = self.next_action if sarsa else self.choose(s, eps, u)
            s2, r, terminal = env.transition(s, a, u[2])
            steps += 1
            total += r
            path.append(s2)
            end = terminal or steps >= self.max_steps
            if sarsa and not end:
                a2 = self.choose(s2, eps, u)  # chosen before the update, as in the book
                abs_td += abs(self.learn(s, a, r, s2, terminal, a2))
                self.next_action = a2
            else:
                abs_td += abs(self.learn(s, a, r, s2, terminal))
            if end:
                self.episode += 1
                if sarsa:  # the next episode's first action, with the same row of uniforms
                    self.next_action = self.choose(env.start, self.epsilon_now(), u)
                return Episode(total, steps, path, abs_td / steps)
            s = s2

    # rollback support for the live trainer (core.trainer restores these)
    def state_dict(self) -> dict:
        return {"Q": self.Q.copy(), "rng": self.rng.bit_generator.state, "episode": self.episode,
                "next_action": self.next_action}

    def load_state_dict(self, state: dict) -> None:
        self.Q = state["Q"].copy()
        self.rng.bit_generator.state = state["rng"]
        self.episode, self.next_action = state["episode"], state["next_action"]


def _learn(algorithm: str, env: GridWorld, episodes: int, alpha: float, epsilon: float, gamma: float, seed: int,
           **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    _check_int("episodes", episodes, 1)
    learner = TabularLearner(env, algorithm, alpha, epsilon, gamma, seed, **kwargs)
    rewards = np.array([learner.run_episode().reward for _ in range(episodes)])
    return learner.Q, rewards


def q_learning(env: GridWorld, episodes: int, alpha: float, epsilon: float, gamma: float = 1.0, seed: int = 0,
               **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Tabular Q-learning for ``episodes`` episodes: (Q, reward of each episode).

    Keyword options: ``epsilon_decay``, ``max_steps``, ``initial_q`` (see
    ``TabularLearner``).

    >>> Q, rewards = q_learning(cliff_walking(), 200, alpha=0.5, epsilon=0.1)
    >>> greedy_return(cliff_walking(), Q, 1.0)
    -13.0
    """
    return _learn("q_learning", env, episodes, alpha, epsilon, gamma, seed, **kwargs)


def sarsa(env: GridWorld, episodes: int, alpha: float, epsilon: float, gamma: float = 1.0, seed: int = 0,
          **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Tabular SARSA (on-policy TD control): (Q, reward of each episode)."""
    return _learn("sarsa", env, episodes, alpha, epsilon, gamma, seed, **kwargs)


def expected_sarsa(env: GridWorld, episodes: int, alpha: float, epsilon: float, gamma: float = 1.0, seed: int = 0,
                   **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Tabular Expected SARSA: (Q, reward of each episode)."""
    return _learn("expected_sarsa", env, episodes, alpha, epsilon, gamma, seed, **kwargs)


def late_episodes(episodes: int) -> range:
    """The episodes (0-based) whose rewards tell what a settled learner earns
    online: the last 100 (Sutton & Barto figure 6.4's 401-500 of 500), or the
    last fifth of a run shorter than 200 episodes.

    >>> late_episodes(500)
    range(400, 500)
    """
    episodes = _check_int("episodes", episodes, 1)
    n = 100 if episodes >= 200 else max(1, episodes // 5)
    return range(episodes - n, episodes)


# -- tabular learners: many runs at once ---------------------------------------------------------


@dataclass
class BatchResult:
    """``n_runs`` independent runs of one algorithm."""

    algorithm: str
    Q: np.ndarray  # runs x states x actions
    episode_rewards: np.ndarray  # runs x episodes
    episode_lengths: np.ndarray  # runs x episodes

    @property
    def n_runs(self) -> int:
        return self.Q.shape[0]

    def mean_rewards(self) -> np.ndarray:
        """Reward per episode averaged over the runs (Sutton & Barto figure 6.4's curve)."""
        return self.episode_rewards.mean(axis=0)


def run_batch(env: GridWorld, algorithm: str, n_runs: int, episodes: int, alpha: float, epsilon: float,
              gamma: float = 1.0, seed: int = 0, *, epsilon_decay: float = 0.0, max_steps: int | None = None,
              initial_q: float = 0.0, block: int = 512, max_seconds: float | None = None) -> BatchResult:
    """Run ``n_runs`` independent learners for ``episodes`` episodes each, in lockstep.

    Arrays hold one row per run; the Python loop is over moves, and a run
    that finishes an episode starts its next one at once (runs are not
    synchronised by episode). Random numbers come in blocks of ``block``
    moves: with ``n_runs=1`` every number matches the single-run learner with
    the same seed, so the results are identical. ``max_seconds``: raise
    ``TimeoutError`` when the runs take longer than that (a page's time limit).
    """
    gamma, max_steps = _check_learning(env, algorithm, alpha, epsilon, gamma, epsilon_decay, max_steps)
    deadline = None if max_seconds is None else (
        time.perf_counter() + _check_real("max_seconds", max_seconds, 0.0, lo_open=True))
    R, S, A, E = _check_int("n_runs", n_runs, 1), env.n_states, N_ACTIONS, _check_int("episodes", episodes, 1)
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    Q = np.full((R * S, A), _check_real("initial_q", initial_q))  # row run * S + state
    base = np.arange(R) * S
    runs = np.arange(R)
    nxt, rew, term = env.next_state, env.reward, env.terminal
    start, slip, half = env.start, env.maze.slip, env.maze.slip / 2
    s = np.full(R, start)
    ep = np.zeros(R, dtype=np.intp)
    steps = np.zeros(R, dtype=np.intp)
    total = np.zeros(R)
    rewards, lengths = np.zeros((R, E)), np.zeros((R, E), dtype=np.intp)
    active = np.ones(R, dtype=bool)
    sarsa_, expected = algorithm == "sarsa", algorithm == "expected_sarsa"

    def choose(rows: np.ndarray, eps: np.ndarray, u: np.ndarray) -> np.ndarray:
        q = Q[rows]
        ties = np.where(q == q.max(axis=1, keepdims=True), u[:, 3:], -1.0).argmax(axis=1)
        return np.where(u[:, 0] < eps, (u[:, 1] * A).astype(np.intp), ties)

    def expectation(q: np.ndarray, eps: np.ndarray) -> np.ndarray:
        return eps * (q.sum(axis=1) / A) + (1.0 - eps) * q.max(axis=1)

    def uniforms():  # the same stream as one rng.random((R, 3 + A)) per move
        while True:
            yield from rng.random((block, R, 3 + A))

    draws = uniforms()
    a = choose(base + start, epsilon_at(epsilon, epsilon_decay, ep), next(draws)) if sarsa_ else None
    moves = 0
    while active.any():
        moves += 1
        if deadline is not None and moves % 256 == 0 and time.perf_counter() > deadline:
            raise TimeoutError(f"{R} runs of {E} episodes take longer than {max_seconds:g} s")
        u = next(draws)
        eps = epsilon_at(epsilon, epsilon_decay, ep)
        if not sarsa_:
            a = choose(base + s, eps, u)
        d = a
        if slip:
            d = (a + np.where(u[:, 2] < half, 3, np.where(u[:, 2] < slip, 1, 0))) % 4
        s2, r, t = nxt[s, d], rew[s, d], term[s, d]
        steps += 1
        total += r
        end = t | (steps >= max_steps)
        q2 = Q[base + s2]
        if algorithm == "q_learning":
            boot = q2.max(axis=1)
        elif expected:
            boot = expectation(q2, eps)
        else:
            a2 = choose(base + s2, eps, u)
            boot = np.where(end, expectation(q2, eps), q2[runs, a2])
        target = np.where(t, r, r + gamma * boot)
        rows = base + s
        old = Q[rows, a]
        Q[rows, a] = np.where(active, old + alpha * (target - old), old)
        done = np.flatnonzero(end & active)
        if done.size:
            rewards[done, ep[done]] = total[done]
            lengths[done, ep[done]] = steps[done]
            ep[done] += 1
            total[done] = 0.0
            steps[done] = 0
            s2 = s2.copy()
            s2[done] = start
            if sarsa_:
                a2[done] = choose(base[done] + start, epsilon_at(epsilon, epsilon_decay, ep[done]), u[done])
            active = ep < E
        s = s2
        if sarsa_:
            a = a2
    return BatchResult(algorithm, Q.reshape(R, S, A), rewards, lengths)


# -- live trainers ---------------------------------------------------------------------------


def _check_maze_config(maze: Any, gamma: float) -> None:
    if not isinstance(maze, Maze):
        raise ValueError(f"maze must be a Maze, got {type(maze).__name__}")  # noqa: TRY004 (the API's contract)
    validate(maze)
    check_gamma(maze, gamma)


@dataclass(frozen=True)
class TabularConfig:
    """A live tabular agent. ``alpha``, ``epsilon`` and ``epsilon_decay`` change
    while it learns; anything else starts a new run."""

    LIVE_FIELDS: ClassVar[tuple[str, ...]] = ("alpha", "epsilon", "epsilon_decay")

    maze: Maze = field(default_factory=cliff_maze)
    algorithm: str = "q_learning"
    alpha: float = 0.5
    epsilon: float = 0.1
    epsilon_decay: float = 0.0
    gamma: float = 1.0
    episodes: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        _check_maze_config(self.maze, self.gamma)
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
        _check_real("alpha", self.alpha, 0.0, 1.0, lo_open=True)
        _check_real("epsilon", self.epsilon, 0.0, 1.0)
        _check_real("epsilon_decay", self.epsilon_decay, lo=0.0)
        _check_int("episodes", self.episodes, 1, 1_000_000)
        _check_int("seed", self.seed, 0)


def _grid(env: GridWorld, per_state: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Per-state values as a rows x cols (x actions) grid, ``fill`` off the states."""
    out = np.array(per_state, dtype=float)
    out[~env.is_state] = fill
    return out.reshape(env.rows, env.cols, *out.shape[1:])


def _policy_grid(env: GridWorld, policy: np.ndarray) -> np.ndarray:
    return np.where(env.is_state, policy, -1).astype(int).reshape(env.rows, env.cols)


def _path_cells(env: GridWorld, path: list[int]) -> np.ndarray:
    return np.array([env.cell(s) for s in path], dtype=int).reshape(-1, 2)


@dataclass
class GridSnapshot(Snapshot):
    """What both live agents report (arrays are rows x cols unless said)."""

    rows: int = 0
    cols: int = 0
    q: np.ndarray | None = None  # rows x cols x actions; NaN off the states
    v: np.ndarray | None = None  # max_a Q; NaN on walls, goals and pits
    policy: np.ndarray | None = None  # greedy action per cell, -1 off the states
    optimal_v: np.ndarray | None = None  # value iteration's V*
    optimal_policy: np.ndarray | None = None
    path: np.ndarray | None = None  # (row, col) of each cell of the latest episode
    episode_rewards: np.ndarray | None = None
    episode_lengths: np.ndarray | None = None
    epsilon: float = 0.0  # ε for the next move
    greedy_return: float = 0.0  # return of the greedy policy from the start (-inf: never finishes)
    optimal_return: float = 0.0
    gap: float = 0.0  # optimal_return - greedy_return
    changes: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class TabularSnapshot(GridSnapshot):
    algorithm: str = ""
    td_errors: np.ndarray | None = None  # mean |TD error| per episode


class TabularAgent(GuardedTrainer):
    """A live tabular learner: one ``train`` step is one episode."""

    loss_limit = math.inf  # only non-finite values count as divergence
    divergence_hint = "The values became too large: lower alpha or gamma and press Reset."

    def __init__(self, config: TabularConfig) -> None:
        # NumPy does the learning; the per-episode numbers the base checks are small CPU tensors
        super().__init__(config, max_steps=config.episodes, device=torch.device("cpu"))
        self.env = GridWorld(config.maze, seed=config.seed)
        self.learner = TabularLearner(self.env, config.algorithm, config.alpha, config.epsilon, config.gamma,
                                      config.seed, epsilon_decay=config.epsilon_decay)
        self.solution = value_iteration(self.env, config.gamma)
        self._rewards: list[float] = []
        self._lengths: list[int] = []
        self._td: list[float] = []
        self._path: list[int] = [self.env.start]
        self._pending: list[Episode] = []  # episodes of the chunk in progress, kept if it succeeds

    def _apply_live(self, old: TabularConfig, new: TabularConfig) -> None:
        self.learner.alpha, self.learner.epsilon = float(new.alpha), float(new.epsilon)
        self.learner.epsilon_decay = float(new.epsilon_decay)

    def _stateful(self):
        return (self.learner,)

    def _train_step(self) -> torch.Tensor:
        ep = self.learner.run_episode()
        self._pending.append(ep)
        return torch.tensor([ep.td_error, ep.reward], dtype=torch.float64)

    def _after_chunk(self, first_step: int, losses: np.ndarray) -> None:
        # the episodes themselves, not the losses' float32 copies: rewards and TD errors at full precision
        episodes, self._pending = self._pending, []
        self._rewards += [ep.reward for ep in episodes]
        self._lengths += [ep.length for ep in episodes]
        self._td += [ep.td_error for ep in episodes]
        self._path = episodes[-1].path

    def snapshot(self) -> TabularSnapshot:
        env, Q, sol = self.env, self.learner.Q, self.solution
        optimal = float(sol.V[env.start])
        ret = greedy_return(env, Q, self.config.gamma)
        rewards = np.asarray(self._rewards, dtype=float)
        metrics = {"greedy return": ret, "gap to optimal": optimal - ret}
        if rewards.size:
            metrics["reward (last episode)"] = float(rewards[-1])
            metrics["mean reward (last 20)"] = float(rewards[-20:].mean())
        return TabularSnapshot(
            step=self.step, done=self.done, error=self.error, metrics=metrics,
            rows=env.rows, cols=env.cols, q=_grid(env, Q), v=_grid(env, Q.max(axis=1)),
            policy=_policy_grid(env, greedy_policy(Q)), optimal_v=_grid(env, sol.V),
            optimal_policy=_policy_grid(env, sol.policy), path=_path_cells(env, self._path),
            episode_rewards=rewards, episode_lengths=np.asarray(self._lengths, dtype=int),
            epsilon=self.learner.epsilon_now(), greedy_return=ret, optimal_return=optimal, gap=optimal - ret,
            changes=list(self.changes), algorithm=self.config.algorithm, td_errors=np.asarray(self._td, dtype=float),
        )


# -- deep Q-learning -------------------------------------------------------------------------


@dataclass(frozen=True)
class DQNConfig:
    """Deep Q-learning on a maze. One ``train`` step is one move of the agent
    followed by one gradient step on a batch from the replay buffer (once it
    holds ``batch_size`` moves). ``lr``, ``epsilon``, ``epsilon_decay``,
    ``batch_size`` and ``sync_every`` change while it learns."""

    LIVE_FIELDS: ClassVar[tuple[str, ...]] = ("lr", "epsilon", "epsilon_decay", "batch_size", "sync_every")

    maze: Maze = field(default_factory=lambda: PRESETS["maze8"].maze)
    hidden: int = 64
    lr: float = 1e-3
    gamma: float = 0.9
    buffer_size: int = 10_000
    batch_size: int = 64
    sync_every: int = 50  # gradient steps between copies into the target network
    epsilon: float = 1.0
    epsilon_decay: float = 0.2  # per episode: ε / (1 + decay · episode)
    max_episode_steps: int = 200  # an episode is cut after this many moves
    max_steps: int = 50_000
    seed: int = 0

    def __post_init__(self) -> None:
        _check_maze_config(self.maze, self.gamma)
        _check_int("hidden", self.hidden, 1, 1024)
        _check_real("lr", self.lr, 0.0, 1.0, lo_open=True)
        _check_int("buffer_size", self.buffer_size, 1, 1_000_000)
        _check_int("batch_size", self.batch_size, 1, 4096)
        _check_int("sync_every", self.sync_every, 1)
        _check_real("epsilon", self.epsilon, 0.0, 1.0)
        _check_real("epsilon_decay", self.epsilon_decay, lo=0.0)
        _check_int("max_episode_steps", self.max_episode_steps, 1)
        _check_int("max_steps", self.max_steps, 1)
        _check_int("seed", self.seed, 0)


@dataclass
class DQNSnapshot(GridSnapshot):
    loss_steps: np.ndarray | None = None  # the move at which each gradient step ran
    losses: np.ndarray | None = None  # Huber loss of each gradient step
    sync_steps: np.ndarray | None = None  # moves at which the target network was synced
    buffer_fill: int = 0
    buffer_size: int = 0
    gradient_steps: int = 0
    episodes: int = 0


class DQNTrainer(GuardedTrainer):
    """Deep Q-learning with an experience buffer and a target network."""

    divergence_hint = "The learning rate is probably too high: lower it and press Reset."

    def __init__(self, config: DQNConfig, device: torch.device | None = None) -> None:
        super().__init__(config, max_steps=config.max_steps, device=device)
        self.env = env = GridWorld(config.maze, seed=config.seed)
        S = env.n_states

        def network() -> nn.Module:
            return nn.Sequential(nn.Linear(S, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.hidden),
                                 nn.ReLU(), nn.Linear(config.hidden, N_ACTIONS))

        self.online = build_seeded(config.seed, network).to(self.device)
        self.target = copy.deepcopy(self.online)  # the second network: produces the targets
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=config.lr, foreach=True)
        self.one_hot = torch.eye(S, device=self.device)
        self.rng = np.random.default_rng(config.seed)
        n = config.buffer_size
        self.buf_s, self.buf_a = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        self.buf_r, self.buf_s2 = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.int64)
        self.buf_cont = np.zeros(n, dtype=np.float32)  # 0 where the move ended the episode
        self.buf_pos = self.buf_fill = 0
        self.gradient_steps = 0
        self.episode = 0
        self.solution = value_iteration(env, config.gamma)
        self._begin_episode()
        self._rewards: list[float] = []
        self._lengths: list[int] = []
        self._last_path: list[int] | None = None
        self._pending: list[tuple[float, int, list[int]]] = []  # episodes ended in the chunk in progress

    def _begin_episode(self) -> None:
        self.s, self.ep_steps, self.ep_reward = self.env.start, 0, 0.0
        self.path = [self.env.start]

    def _apply_live(self, old: DQNConfig, new: DQNConfig) -> None:
        if new.lr != old.lr:
            self.set_lr(self.optimizer, new.lr)

    def _stateful(self):
        return (self.online, self.target, self.optimizer)

    def epsilon_now(self) -> float:
        return float(epsilon_at(self.config.epsilon, self.config.epsilon_decay, self.episode))

    def _act(self, u: np.ndarray) -> int:
        if u[0] < self.epsilon_now():
            return int(u[1] * N_ACTIONS)
        with torch.no_grad():
            return int(self.online(self.one_hot[self.s]).argmax())

    def _train_step(self) -> torch.Tensor:
        cfg, env = self.config, self.env
        u = self.rng.random(3)
        a = self._act(u)
        s2, r, terminal = env.transition(self.s, a, u[2])
        i = self.buf_pos
        self.buf_s[i], self.buf_a[i], self.buf_r[i], self.buf_s2[i] = self.s, a, r, s2
        self.buf_cont[i] = 0.0 if terminal else 1.0
        self.buf_pos = (i + 1) % cfg.buffer_size
        self.buf_fill = min(self.buf_fill + 1, cfg.buffer_size)
        self.ep_steps += 1
        self.ep_reward += r
        self.path.append(s2)
        ended = terminal or self.ep_steps >= cfg.max_episode_steps
        info = [0.0, 0.0, 0.0, float(ended)]  # loss, trained (1: a gradient step ran), synced, episode ended
        if ended:
            self._pending.append((self.ep_reward, self.ep_steps, self.path))
            self.episode += 1
            self._begin_episode()
        else:
            self.s = s2
        if self.buf_fill >= cfg.batch_size:
            info[0] = self._learn()
            info[1] = 1.0
            self.gradient_steps += 1
            if self.gradient_steps % cfg.sync_every == 0:
                self.target.load_state_dict(self.online.state_dict())
                info[2] = 1.0
        return torch.tensor(info, dtype=torch.float64)

    def _learn(self) -> float:
        cfg = self.config
        idx = self.rng.integers(0, self.buf_fill, cfg.batch_size)
        dev = self.device
        s = torch.from_numpy(self.buf_s[idx]).to(dev)
        a = torch.from_numpy(self.buf_a[idx]).to(dev)
        r = torch.from_numpy(self.buf_r[idx]).to(dev)
        s2 = torch.from_numpy(self.buf_s2[idx]).to(dev)
        cont = torch.from_numpy(self.buf_cont[idx]).to(dev)
        with torch.no_grad():
            target = r + cfg.gamma * cont * self.target(self.one_hot[s2]).max(dim=1).values
        q = self.online(self.one_hot[s]).gather(1, a[:, None]).squeeze(1)
        loss = nn.functional.smooth_l1_loss(q, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def _after_chunk(self, first_step: int, losses: np.ndarray) -> None:
        # the losses, gradient steps and syncs stay in the base's loss_history (one row per move)
        episodes, self._pending = self._pending, []
        self._rewards += [reward for reward, _, _ in episodes]
        self._lengths += [length for _, length, _ in episodes]
        if episodes:
            self._last_path = episodes[-1][2]

    @torch.no_grad()
    def q_table(self) -> np.ndarray:
        """The network's Q for every state (states x actions)."""
        return self.online(self.one_hot).double().cpu().numpy()

    def snapshot(self) -> DQNSnapshot:
        env, sol = self.env, self.solution
        Q = self.q_table()
        optimal = float(sol.V[env.start])
        ret = greedy_return(env, Q, self.config.gamma)
        moves, rows = self.loss_history  # one row per move: loss, trained, synced, ended
        rows = rows.reshape(-1, 4)
        trained = rows[:, 1] > 0.5
        losses = rows[trained, 0]
        metrics = {"greedy return": ret, "gap to optimal": optimal - ret, "buffer fill": float(self.buf_fill)}
        if losses.size:
            metrics["loss"] = float(losses[-1])
        return DQNSnapshot(
            step=self.step, done=self.done, error=self.error, metrics=metrics,
            rows=env.rows, cols=env.cols, q=_grid(env, Q), v=_grid(env, Q.max(axis=1)),
            policy=_policy_grid(env, greedy_policy(Q)), optimal_v=_grid(env, sol.V),
            optimal_policy=_policy_grid(env, sol.policy),
            path=_path_cells(env, self._last_path if self._last_path is not None else self.path),
            episode_rewards=np.asarray(self._rewards, dtype=float),
            episode_lengths=np.asarray(self._lengths, dtype=int),
            epsilon=self.epsilon_now(), greedy_return=ret, optimal_return=optimal, gap=optimal - ret,
            changes=list(self.changes), loss_steps=moves[trained].astype(int), losses=losses,
            sync_steps=moves[rows[:, 2] > 0.5].astype(int), buffer_fill=int(self.buf_fill),
            buffer_size=self.config.buffer_size,
            gradient_steps=self.gradient_steps, episodes=self.episode,
        )


# -- the page's controls -------------------------------------------------------------------

ALPHAS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)
EPSILONS = (0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
DECAYS = (0.0, 0.001, 0.01, 0.05, 0.1, 0.5)
GAMMAS = (0.5, 0.8, 0.9, 0.95, 0.99, 1.0)
EPISODES = (50, 100, 200, 500, 1000, 2000, 5000)
AVG_RUNS = (20, 40, 100, 200)
HIDDEN = (8, 16, 32, 64, 128, 256)
LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
BUFFERS = (500, 1000, 2000, 5000, 10_000, 50_000)
BATCHES = (8, 16, 32, 64, 128, 256)
SYNCS = (1, 10, 50, 200, 1000)
DQN_EPSILONS = (0.1, 0.2, 0.5, 1.0)
DQN_DECAYS = (0.0, 0.05, 0.2, 1.0)
MAX_MOVES = (5000, 10_000, 20_000, 50_000, 100_000)
MAZE_HELP = ("Rows separated by /, then ;option=value. Cells: . free, # wall, S start, G goal, P pit; a goal or pit "
             "may carry its reward, G(10). Options: step (reward per move, default -1), slip, goal, pit (default "
             "rewards), pits=restart (back to the start instead of the end).")


def _dqn_default(name: str) -> Any:
    return DQNConfig.__dataclass_fields__[name].default


# Every control of the page bound to the link, in the order they are drawn. The
# learner's take ``TabularConfig``'s defaults; γ and the seed are shared by value
# iteration, the table and the network; the network's own controls take
# ``DQNConfig``'s defaults (its ε and ε decay are named ``dqn_...``: the table has
# its own). The maze travels as its text (``encode_maze``).
PARAMS = ParamTable(TabularConfig, [
    Param("maze_text", "Maze", "text", url="maze", default=PRESETS["cliff"].text, help=MAZE_HELP,
          widget_args={"max_chars": 800}),
    Param("algorithm", "Algorithm", "selectbox", options=tuple(ALGORITHMS), format_func=ALGORITHMS.get,
          help="How the target of each update looks one step ahead: see the formulas at the bottom of the page."),
    Param("alpha", "α (step size)", "select_slider", options=ALPHAS,
          help="How far one update moves Q(s, a) towards its target. Changes apply while it learns."),
    Param("epsilon", "ε (share of random moves)", "select_slider", options=EPSILONS,
          help="Exploration: the chance of a random action instead of the best one. Changes apply while it learns."),
    Param("epsilon_decay", "ε decay per episode", "select_slider", options=DECAYS, old=("decay",),
          help="ε at episode k is ε / (1 + decay · k); 0 keeps ε constant."),
    Param("gamma", "γ (discount)", "select_slider", options=GAMMAS,
          help="A reward t moves away counts γᵗ times. Shared by value iteration, the table and the network, so "
               "their values compare."),
    Param("episodes", "Episodes", "select_slider", options=EPISODES),
    Param("seed", "Seed", "number", lo=0, hi=9999, step=1,
          help="The same seed and settings give exactly the same run."),
    Param("runs", "Runs of each algorithm", "select_slider", options=AVG_RUNS, default=40),
    Param("hidden", "Hidden units (2 layers)", "select_slider", url="hidden_units", options=HIDDEN,
          default=_dqn_default("hidden"), old=("hidden",)),
    Param("lr", "Learning rate", "select_slider", url="learning_rate", options=LRS, default=_dqn_default("lr"),
          old=("lr",), help="Adam's step size; applies live."),
    Param("buffer_size", "Replay buffer (moves kept)", "select_slider", options=BUFFERS,
          default=_dqn_default("buffer_size"), old=("buffer",)),
    Param("batch_size", "Batch size", "select_slider", options=BATCHES, default=_dqn_default("batch_size"),
          old=("batch",), help="Applies live."),
    Param("sync_every", "Target network copies every (gradient steps)", "select_slider", options=SYNCS,
          default=_dqn_default("sync_every"), old=("sync",), help="How long the targets stay fixed. Applies live."),
    Param("dqn_epsilon", "ε at the start", "select_slider", options=DQN_EPSILONS, default=_dqn_default("epsilon"),
          help="Applies live."),
    Param("dqn_epsilon_decay", "ε decay per episode", "select_slider", options=DQN_DECAYS,
          default=_dqn_default("epsilon_decay"), old=("dqn_decay",),
          help="ε at episode k is ε / (1 + decay · k). Applies live."),
    Param("max_steps", "Stop after (moves)", "select_slider", url="max_moves", options=MAX_MOVES,
          default=_dqn_default("max_steps"), old=("moves",)),
])
# The network's controls: PARAMS name -> DQNConfig field (γ and the seed come from the shared controls).
DQN_FIELDS = {"hidden": "hidden", "lr": "lr", "buffer_size": "buffer_size", "batch_size": "batch_size",
              "sync_every": "sync_every", "dqn_epsilon": "epsilon", "dqn_epsilon_decay": "epsilon_decay",
              "max_steps": "max_steps", "gamma": "gamma", "seed": "seed"}

# Sutton & Barto's figure 6.4 (Reinforcement Learning: An Introduction, 2nd ed.): cliff walking with
# α = 0.5, ε = 0.1 (constant), γ = 1 and 500 episodes. The 📖 button sets these controls and no others.
BOOK = {"maze_text": PRESETS["cliff"].text, "alpha": 0.5, "epsilon": 0.1, "epsilon_decay": 0.0, "gamma": 1.0,
        "episodes": 500}
BOOK_PARAMS = ParamTable(None, [PARAMS[name] for name in BOOK])


def page_configs(values: Mapping[str, Any], maze: Maze) -> tuple[TabularConfig, DQNConfig]:
    """The two learners' configs for the page's controls (``values``: PARAMS name -> value) on ``maze``.

    Raises ``ValueError`` (from the configs' checks) when the settings do not fit the maze.
    """
    tabular = TabularConfig(maze=maze, **{name: values[name] for name in PARAMS.config_defaults()})
    dqn = DQNConfig(maze=maze, **{field_: values[name] for name, field_ in DQN_FIELDS.items()})
    return tabular, dqn


__all__ = [
    "ACTIONS", "ALGORITHMS", "ARROWS", "BOOK", "BOOK_PARAMS", "PARAMS", "PRESETS", "BatchResult", "DQNConfig",
    "DQNSnapshot", "DQNTrainer", "Episode", "GridSnapshot", "GridWorld", "Maze", "MazePreset", "Solution",
    "TabularAgent", "TabularConfig", "TabularLearner", "TabularSnapshot", "check_gamma", "cliff_maze",
    "cliff_walking", "encode_maze", "epsilon_at", "epsilon_greedy_optimum", "epsilon_greedy_probabilities",
    "expected_sarsa", "greedy_path", "greedy_policy", "greedy_return", "late_episodes", "online_return",
    "page_configs", "parse_maze", "policy_return", "policy_values", "q_learning", "return_gap", "run_batch", "sarsa",
    "validate", "value_iteration",
]
