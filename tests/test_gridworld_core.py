"""core.gridworld and core.plots.gridworld against independent references.

References: Sutton & Barto, Reinforcement Learning: An Introduction (2nd ed.),
example 6.6 and figure 6.4 (cliff walking: SARSA about -25 per episode on the
safe path, Q-learning about -50 on the edge path, epsilon 0.1, alpha 0.5);
exact values solved here by hand (a 1 x 3 corridor, with and without slips)
and in closed form (the cliff's optimal values are minus the number of moves
to the goal); a cliff model written again in this file for the Bellman
optimality check; exact expected online returns of epsilon-greedy policies by
solving their Bellman equations (``online_return``), which Monte-Carlo means
must match within a few standard errors; scipy's chi-square test for slips.
Tolerances on Monte-Carlo results: Z standard errors computed from the runs,
plus, for values read off the book's figure, the reading range (+-5 points).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy import stats

from core.gridworld import (
    PRESETS,
    DQNConfig,
    DQNSnapshot,
    DQNTrainer,
    GridWorld,
    Maze,
    TabularAgent,
    TabularConfig,
    TabularLearner,
    TabularSnapshot,
    cliff_maze,
    cliff_walking,
    encode_maze,
    epsilon_greedy_optimum,
    epsilon_greedy_probabilities,
    expected_sarsa,
    greedy_path,
    greedy_return,
    online_return,
    parse_maze,
    policy_return,
    policy_values,
    q_learning,
    return_gap,
    run_batch,
    sarsa,
    validate,
    value_iteration,
)
from core.plots.gridworld import dqn_loss_figure, episode_figure, maze_figure, moving_average, q_figure
from core.trainer import Trainer

Z = 3.0  # tolerance in standard errors for Monte-Carlo comparisons
UP, RIGHT, DOWN, LEFT = range(4)
FIG64_RUNS = 200
LATE = slice(400, 500)  # the last 100 of figure 6.4's 500 episodes


def se(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1) / math.sqrt(len(x)))


def cells(env: GridWorld, states) -> list[tuple[int, int]]:
    return [env.cell(s) for s in states]


EDGE_PATH = [(3, 0)] + [(2, c) for c in range(12)] + [(3, 11)]  # 13 moves along the cliff
TOP_PATH = [(3, 0), (2, 0), (1, 0)] + [(0, c) for c in range(12)] + [(1, 11), (2, 11), (3, 11)]  # 17 moves


# -- Sutton & Barto figure 6.4 -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fig64():
    env = cliff_walking()
    return env, {alg: run_batch(env, alg, FIG64_RUNS, 500, alpha=0.5, epsilon=0.1, seed=0)
                 for alg in ("q_learning", "sarsa", "expected_sarsa")}


def test_fig64_late_rewards_match_the_book_and_the_exact_online_values(fig64):
    env, res = fig64
    late = {alg: r.episode_rewards[:, LATE].mean(axis=1) for alg, r in res.items()}
    q, s, e = late["q_learning"], late["sarsa"], late["expected_sarsa"]
    # The book's figure: Q-learning near -50, SARSA near -25 (reading range +-5 points).
    assert -55 - Z * se(q) < q.mean() < -45 + Z * se(q)
    assert -30 - Z * se(s) < s.mean() < -20 + Z * se(s)
    # Exact: Q-learning's table settles at Q*, and acting epsilon-greedily on Q* earns -50.80 per episode.
    q_star = value_iteration(env, 1.0).Q
    exact_q = online_return(env, q_star, 0.1, 1.0)
    assert exact_q == pytest.approx(-50.80, abs=0.01)
    assert abs(q.mean() - exact_q) < Z * se(q) + 1.0  # + 1 point: the learned table is close to, not at, Q*
    # No epsilon-greedy learner earns more than the best epsilon-greedy policy (-20.71); Expected SARSA
    # settles at it, SARSA with alpha = 0.5 stays below it (its table keeps jumping).
    best_soft = online_return(env, np.nan_to_num(epsilon_greedy_optimum(env, 0.1, 1.0)), 0.1, 1.0)
    assert best_soft == pytest.approx(-20.71, abs=0.01)
    assert abs(e.mean() - best_soft) < Z * se(e) + 0.3
    assert s.mean() < best_soft - Z * se(s)


def test_fig64_sarsa_earns_more_online_but_q_learning_finds_the_shorter_way(fig64):
    env, res = fig64
    q = res["q_learning"].episode_rewards[:, LATE].mean(axis=1)
    s = res["sarsa"].episode_rewards[:, LATE].mean(axis=1)
    assert s.mean() - q.mean() > Z * math.hypot(se(s), se(q))
    # ... while Q-learning's greedy policy is the optimal one (-13) and SARSA's is longer.
    q_returns = [greedy_return(env, Q, 1.0) for Q in res["q_learning"].Q]
    assert np.mean(np.array(q_returns) == -13.0) >= 0.95
    assert greedy_return(env, res["sarsa"].Q.mean(axis=0), 1.0) == -17.0


def test_fig64_greedy_paths_are_the_edge_and_the_safe_path(fig64):
    env, res = fig64
    q_paths = [cells(env, greedy_path(env, Q)) for Q in res["q_learning"].Q]
    assert np.mean([p == EDGE_PATH for p in q_paths]) >= 0.95
    s_paths = [cells(env, greedy_path(env, Q)) for Q in res["sarsa"].Q]
    # The runs' average table points along the top row, the book's "safer path".
    assert cells(env, greedy_path(env, res["sarsa"].Q.mean(axis=0))) == TOP_PATH
    assert np.mean([p == EDGE_PATH for p in s_paths]) <= 0.02
    # Single runs: alpha = 0.5 keeps SARSA's table noisy, so some greedy paths bump into an edge and
    # stop (about 1 in 5 here); those that reach the goal go up to the top row, away from the cliff.
    finished = [p for p in s_paths if p[-1] == (3, 11)]
    assert len(finished) >= 0.7 * FIG64_RUNS
    assert np.mean([min(r for r, _ in p) == 0 for p in finished]) >= 0.95


def test_fig64_mean_curve_starts_low_and_rises(fig64):
    _, res = fig64
    for r in res.values():
        curve = r.mean_rewards()
        assert curve[:10].mean() < -100 < curve[LATE].mean()
        assert r.episode_lengths.min() >= 13  # nothing beats the 13-move path


# -- value iteration -------------------------------------------------------------------------


CORRIDOR = "S.G(10)"


def test_value_iteration_solves_the_corridor_by_hand():
    env = GridWorld(parse_maze(CORRIDOR))
    # gamma = 0.9: V(middle) = 10 (step into the goal); V(start) = -1 + 0.9 * 10 = 8.
    # Bumping into an edge costs 1 and stays: Q = -1 + 0.9 V(same cell).
    V, Q, policy = value_iteration(env, 0.9)
    np.testing.assert_allclose(V[:2], [8.0, 10.0], atol=1e-9)
    assert np.isnan(V[2])  # the goal is not a state
    np.testing.assert_allclose(Q[0], [6.2, 8.0, 6.2, 6.2], atol=1e-9)
    np.testing.assert_allclose(Q[1], [8.0, 10.0, 8.0, 6.2], atol=1e-9)
    assert policy.tolist() == [RIGHT, RIGHT, -1]
    # gamma = 1: 9 and 10.
    np.testing.assert_allclose(value_iteration(env, 1.0).V[:2], [9.0, 10.0], atol=1e-9)


def test_value_iteration_solves_the_slippery_corridor_by_hand():
    env = GridWorld(parse_maze(CORRIDOR + ";slip=0.2"))
    # Right from the middle: 0.8 into the goal, 0.1 + 0.1 turned up/down into the edge:
    # V1 = 0.8 * 10 + 0.2 (-1 + 0.9 V1)  =>  V1 = 7.8 / 0.82.
    # Right from the start: V0 = 0.8 (-1 + 0.9 V1) + 0.2 (-1 + 0.9 V0)  =>  V0 = (-1 + 0.72 V1) / 0.82.
    v1 = 7.8 / 0.82
    v0 = (-1 + 0.72 * v1) / 0.82
    V, _, policy = value_iteration(env, 0.9)
    np.testing.assert_allclose(V[:2], [v0, v1], rtol=1e-9)
    assert policy[:2].tolist() == [RIGHT, RIGHT]


def _cliff_move(cell, a):
    """The cliff written again from the book: -1 per move, -100 and back to the start off the cliff."""
    dr, dc = [(-1, 0), (0, 1), (1, 0), (0, -1)][a]
    r, c = min(max(cell[0] + dr, 0), 3), min(max(cell[1] + dc, 0), 11)
    if r == 3 and 1 <= c <= 10:
        return (3, 0), -100.0, False
    if (r, c) == (3, 11):
        return (3, 11), -1.0, True
    return (r, c), -1.0, False


def test_value_iteration_on_the_cliff_is_minus_the_moves_to_the_goal():
    env = cliff_walking()
    V, Q, _ = value_iteration(env, 1.0)
    assert V[env.start] == -13.0
    grid = V.reshape(4, 12)
    for r in range(3):
        for c in range(12):
            assert grid[r, c] == -((3 - r) + (11 - c))  # free to walk straight there
    # Bellman optimality on every state, with the dynamics from _cliff_move (not the engine's tables).
    for s in np.flatnonzero(env.is_state):
        cell = env.cell(s)
        backups = []
        for a in range(4):
            nxt, r, done = _cliff_move(cell, a)
            backups.append(r + (0.0 if done else V[env.index(nxt)]))
        np.testing.assert_allclose(Q[s], backups, atol=1e-9)
        assert V[s] == pytest.approx(max(backups), abs=1e-9)
    assert cells(env, greedy_path(env, Q)) == EDGE_PATH


def test_gamma_one_with_a_paying_loop_is_rejected():
    maze = parse_maze(CORRIDOR + ";step=1")
    with pytest.raises(ValueError, match="wandering forever"):
        value_iteration(GridWorld(maze), 1.0)
    assert value_iteration(GridWorld(maze), 0.5).V[0] == pytest.approx(1 + 0.5 * 10)


def test_policy_values_by_hand_and_a_policy_that_never_finishes():
    env = cliff_walking()
    always_up = np.full(env.n_states, UP)
    assert policy_return(env, always_up, 1.0) == -math.inf  # bumps into the top edge forever
    assert policy_return(env, always_up, 0.9) == pytest.approx(-1 / (1 - 0.9))  # -1 per move, discounted
    # Always right from the start walks off the cliff and starts again: never finishes.
    assert policy_return(env, np.full(env.n_states, RIGHT), 1.0) == -math.inf
    Q = value_iteration(env, 1.0).Q
    assert return_gap(env, Q, 1.0) == 0.0
    V = policy_values(env, np.argmax(Q, axis=1), 1.0)
    assert V[env.start] == -13.0 and np.isnan(V[env.index((3, 5))])  # a cliff cell is not a state


def test_expected_sarsa_probabilities_share_the_greedy_mass_among_ties():
    pi = epsilon_greedy_probabilities(np.array([[4.0, 4.0, 2.0, -2.0], [0.0, 1.0, 0.0, 0.0]]), 0.1)
    np.testing.assert_allclose(pi, [[0.475, 0.475, 0.025, 0.025], [0.025, 0.925, 0.025, 0.025]])


# -- hand-checked updates --------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "next_action", "expected"), [
    ("q_learning", None, 2.3),  # target -1 + 0.9 * max(1, 4, 2, -3) = 2.6; 2 + 0.5 (2.6 - 2)
    ("sarsa", LEFT, -0.85),  # the explored action: -1 + 0.9 * (-3) = -3.7; 2 + 0.5 (-3.7 - 2)
    ("expected_sarsa", None, 2.165),  # E = 0.1 * mean(Q) + 0.9 * 4 = 3.7; target 2.33; 2 + 0.5 * 0.33
])
def test_single_update_by_hand(algorithm, next_action, expected):
    env = GridWorld(parse_maze(CORRIDOR))
    learner = TabularLearner(env, algorithm, alpha=0.5, epsilon=0.1, gamma=0.9)
    learner.Q[:] = 0.0
    learner.Q[1] = [1.0, 4.0, 2.0, -3.0]
    learner.Q[0, RIGHT] = 2.0
    delta = learner.learn(0, RIGHT, -1.0, 1, False, next_action)
    assert learner.Q[0, RIGHT] == pytest.approx(expected, abs=1e-12)
    assert delta == pytest.approx((expected - 2.0) / 0.5, abs=1e-12)
    # Into the goal: the target is the reward alone, 4 + 0.5 (10 - 4) = 7.
    learner.learn(1, RIGHT, 10.0, 2, True, next_action)
    assert learner.Q[1, RIGHT] == pytest.approx(7.0, abs=1e-12)


@pytest.mark.parametrize("algorithm", ["q_learning", "sarsa", "expected_sarsa"])
def test_one_greedy_episode_by_hand(algorithm):
    env = GridWorld(parse_maze(CORRIDOR))
    learner = TabularLearner(env, algorithm, alpha=0.5, epsilon=0.0, gamma=0.9)
    learner.Q[0] = [0.0, 2.0, 0.0, 0.0]
    learner.Q[1] = [0.0, 4.0, 0.0, 1.0]
    learner.next_action = RIGHT  # SARSA's first action, as if chosen from this table
    ep = learner.run_episode()
    assert (ep.reward, ep.length, ep.path) == (9.0, 2, [0, 1, 2])
    assert learner.Q[0, RIGHT] == pytest.approx(2.3) and learner.Q[1, RIGHT] == pytest.approx(7.0)


# -- the batched runner ------------------------------------------------------------------------


SLIPPERY = "S..#G/.#...;slip=0.3;goal=5"  # 2 x 5, slips, walls in the way


@pytest.mark.parametrize("algorithm", ["q_learning", "sarsa", "expected_sarsa"])
def test_one_batched_run_is_the_single_run_exactly(algorithm):
    fn = {"q_learning": q_learning, "sarsa": sarsa, "expected_sarsa": expected_sarsa}[algorithm]
    env = cliff_walking()
    Q, rewards = fn(env, 60, 0.5, 0.1, 1.0, seed=7)
    batch = run_batch(env, algorithm, 1, 60, 0.5, 0.1, 1.0, seed=7)
    np.testing.assert_array_equal(batch.Q[0], Q)
    np.testing.assert_array_equal(batch.episode_rewards[0], rewards)
    # Slips, decaying epsilon, cut episodes (max_steps) and optimistic starting values too.
    slippery = GridWorld(parse_maze(SLIPPERY))
    kwargs = {"epsilon_decay": 0.05, "max_steps": 12, "initial_q": 1.0}
    Q, rewards = fn(slippery, 80, 0.3, 0.5, 0.9, seed=3, **kwargs)
    batch = run_batch(slippery, algorithm, 1, 80, 0.3, 0.5, 0.9, seed=3, **kwargs)
    np.testing.assert_array_equal(batch.Q[0], Q)
    np.testing.assert_array_equal(batch.episode_rewards[0], rewards)
    assert batch.episode_lengths.max() == 12  # some episodes were cut


def test_many_batched_runs_match_single_runs_in_distribution():
    # With n_runs > 1 run i draws other numbers than seed i would: compare distributions instead.
    env = GridWorld(parse_maze(SLIPPERY))
    n, episodes = 300, 40
    batch = run_batch(env, "sarsa", n, episodes, 0.3, 0.2, 0.9, seed=11).episode_rewards.mean(axis=1)
    single = np.array([sarsa(env, episodes, 0.3, 0.2, 0.9, seed=1000 + i)[1].mean() for i in range(n)])
    assert abs(batch.mean() - single.mean()) < Z * math.hypot(se(batch), se(single))
    assert stats.ks_2samp(batch, single).pvalue > 1e-3
    assert len(np.unique(batch)) > n // 3  # the runs are independent, not copies


# -- mazes: text form, checks, environment -------------------------------------------------------


def test_cliff_text_form_and_preset_round_trips():
    assert encode_maze(cliff_maze()) == "............/............/............/SPPPPPPPPPPG;goal=-1;pits=restart"
    for preset in PRESETS.values():
        maze = preset.maze
        assert encode_maze(maze) == preset.text
        validate(maze)
    assert PRESETS["maze8"].maze.shape == (8, 8)
    m = parse_maze("S.G(10)\n#P(-2.5).;step=-0.5;slip=0.1")
    assert m == Maze(2, 3, start=(0, 0), walls=((1, 0),), goals={(0, 2): 10.0}, pits={(1, 1): -2.5},
                     step_reward=-0.5, slip=0.1)


def test_random_mazes_round_trip():
    rng = np.random.default_rng(5)
    for _ in range(200):
        rows, cols = rng.integers(1, 7, size=2)
        if rows * cols < 2:
            continue
        kinds = rng.choice(list(".#GP"), size=(rows, cols), p=[0.55, 0.2, 0.1, 0.15])
        rewards = [-100.0, -1.0, 0.0, 0.1, 2.5, 10.0, -7.25]
        goals = {(r, c): float(rng.choice(rewards)) for r, c in zip(*np.nonzero(kinds == "G"), strict=True)}
        pits = {(r, c): float(rng.choice(rewards)) for r, c in zip(*np.nonzero(kinds == "P"), strict=True)}
        free = [(r, c) for r, c in zip(*np.nonzero(kinds == "."), strict=True)]
        start = free[rng.integers(len(free))] if free and rng.random() < 0.8 else None
        maze = Maze(int(rows), int(cols), start=start, walls=tuple(zip(*np.nonzero(kinds == "#"), strict=True)),
                    goals=goals, pits=pits, step_reward=float(rng.choice([-1.0, 0.0, -0.3])),
                    slip=float(rng.choice([0.0, 0.1, 0.25])), pits_restart=bool(rng.random() < 0.5))
        assert parse_maze(encode_maze(maze)) == maze, encode_maze(maze)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the maze is empty"),
    ("S.x.G", "unknown cell 'x' in row 1, column 3"),
    ("S..G/..", "row 2 has 2 cells but row 1 has 4"),
    ("S.S.G", "two starts (row 1, column 1 and row 1, column 3)"),
    ("S.(3)G", "only goals and pits carry a reward, but row 1, column 2 is '.'"),
    ("S.G(3", "unknown cell '('"),
    ("S#(3)G", "only goals and pits carry a reward"),
    ("S.G(ten)", "must be a number, got 'ten'"),
    ("S.G(5000)", "must be <= 1000"),
    ("S.G;colour=red", "unknown maze option 'colour=red'"),
    ("S.G;slip=1", "slip must be < 1"),
    ("S.G;slip=-0.1", "slip must be >= 0"),
    ("S.G;pits=maybe", "pits must be 'end' or 'restart'"),
    ("S.G;step=-1;step=-2", "given twice"),
    ("S" + "." * 16 + "G", "at most 16"),
])
def test_bad_text_gets_a_clear_message(text, message):
    with pytest.raises(ValueError) as info:
        parse_maze(text)
    assert message in str(info.value)


NO_WAY = "No goal can be reached from the start: open a way through the walls and pits."


@pytest.mark.parametrize(("text", "message"), [
    ("..G", "The maze has no start: mark one cell 'S'."),
    ("S..", "The maze has no goal: mark at least one cell 'G'."),
    ("S.#G", NO_WAY),
    ("S.#./##../...G", NO_WAY),  # walled in
    ("SPG", NO_WAY),  # a pit is not a way through
])
def test_impossible_mazes_are_rejected_with_one_sentence(text, message):
    maze = parse_maze(text)
    with pytest.raises(ValueError) as info:
        validate(maze)
    assert str(info.value) == message
    with pytest.raises(ValueError) as info:
        GridWorld(maze)
    assert str(info.value) == message
    validate(parse_maze("S.../.##./...G"))  # the long way round is a way



def test_maze_editor_moves_cells():
    maze = parse_maze("S..G")
    edited = maze.with_cell((0, 2), "#").with_cell((0, 1), "S").with_cell((0, 0), "P", -5)
    assert edited.grid() == ["PS#G"] and edited.start == (0, 1) and dict(edited.pits) == {(0, 0): -5.0}
    with pytest.raises(ValueError, match="No goal can be reached"):
        validate(edited)  # the start is boxed in by the pit and the wall
    assert maze.with_cell((0, 3), "G", 7.0).goals == (((0, 3), 7.0),)
    with pytest.raises(ValueError, match="outside the 1 x 4 grid"):
        maze.with_cell((2, 0), "#")
    with pytest.raises(ValueError, match="both a wall and a goal"):
        Maze(1, 3, start=(0, 0), walls=((0, 2),), goals={(0, 2): 1.0})


def test_cliff_steps_follow_the_book():
    env = cliff_walking()
    s = env.reset()
    assert env.cell(s) == (3, 0) and env.n_states == 48 and env.n_actions == 4
    assert env.step(RIGHT) == (env.start, -100.0, False)  # off the cliff: -100, back to the start
    assert env.step(LEFT) == (env.start, -1.0, False)  # the edge: stay, -1
    total, done = 0.0, False
    for a in [UP] + [RIGHT] * 11 + [DOWN]:
        s, r, done = env.step(a)
        total += r
    assert done and total == -13.0 and env.cell(s) == (3, 11)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(UP)


def test_slips_turn_left_or_right_at_the_given_rate():
    env = GridWorld(parse_maze("G..../..S../.....;slip=0.3"), seed=2)
    centre = env.index((1, 2))
    outcomes = {env.index((0, 2)): 0, env.index((1, 1)): 1, env.index((1, 3)): 2}  # up, turned left, right
    counts = np.zeros(3)
    for _ in range(3000):
        env.reset()
        s2, _, _ = env.step(UP)
        counts[outcomes[s2]] += 1
    assert env.cell(centre) == (1, 2)
    assert stats.chisquare(counts, np.array([0.7, 0.15, 0.15]) * 3000).pvalue > 1e-3


# -- the live tabular agent ------------------------------------------------------------------------


def _assert_plain(value, where="snapshot"):
    """Plain data only: NumPy arrays of numbers, Python scalars, strings, lists, dicts."""
    if isinstance(value, np.ndarray):
        assert value.dtype.kind in "biuf", where
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _assert_plain(v, f"{where}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), where
            _assert_plain(v, f"{where}[{k!r}]")
    else:
        assert value is None or type(value) in (bool, int, float, str), (where, type(value))


def _assert_snapshot_plain(snap):
    for f in dataclasses.fields(snap):
        _assert_plain(getattr(snap, f.name), f.name)


@pytest.mark.parametrize("algorithm", ["q_learning", "sarsa", "expected_sarsa"])
def test_live_agent_is_the_single_run_function(algorithm):
    config = TabularConfig(algorithm=algorithm, episodes=40, seed=4)
    agent = TabularAgent(config)
    assert isinstance(agent, Trainer)
    agent.train(7)
    snap = agent.train(13)
    fn = {"q_learning": q_learning, "sarsa": sarsa, "expected_sarsa": expected_sarsa}[algorithm]
    Q, rewards = fn(cliff_walking(), 20, 0.5, 0.1, 1.0, seed=4)
    np.testing.assert_array_equal(agent.learner.Q, Q)
    np.testing.assert_array_equal(snap.episode_rewards, rewards)
    assert snap.step == 20 and len(snap.episode_lengths) == 20
    assert tuple(snap.path[0]) == (3, 0) and tuple(snap.path[-1]) == (3, 11)
    assert len(snap.path) == snap.episode_lengths[-1] + 1


def test_live_agent_snapshot_is_plain_and_shaped_like_the_maze():
    agent = TabularAgent(TabularConfig(episodes=300, seed=0))
    snap = agent.train(300)
    assert isinstance(snap, TabularSnapshot) and snap.done and snap.error is None
    _assert_snapshot_plain(snap)
    assert snap.q.shape == (4, 12, 4) and snap.v.shape == (4, 12) and snap.policy.shape == (4, 12)
    states = np.isfinite(snap.v)
    np.testing.assert_array_equal(snap.v[states], snap.q[states].max(axis=1))
    assert np.isnan(snap.q[~states]).all()
    assert np.isnan(snap.v[3, 1:]).all() and np.isfinite(snap.v[:3]).all()  # cliff and goal: no value
    assert set(np.unique(snap.policy[3, 1:])) == {-1} and snap.policy.min() >= -1 and snap.policy.max() <= 3
    # Q-learning after 300 episodes: the greedy policy is optimal (-13), the gap 0.
    assert (snap.greedy_return, snap.optimal_return, snap.gap) == (-13.0, -13.0, 0.0)
    assert snap.optimal_v[3, 0] == -13.0 and snap.optimal_policy[3, 0] == UP
    assert snap.metrics["reward (last episode)"] == snap.episode_rewards[-1]
    assert agent.train(10).step == 300  # stops at its number of episodes


def test_live_epsilon_change_applies_without_a_restart():
    config = TabularConfig(episodes=400, seed=2)
    agent = TabularAgent(config)
    agent.train(200)
    Q = agent.learner.Q.copy()
    assert agent.reconfigure(replace(config, epsilon=0.0, alpha=0.1))
    assert agent.step == 200 and np.array_equal(agent.learner.Q, Q)  # the same run goes on
    assert agent.changes == [(200, "alpha 0.5 → 0.1, epsilon 0.1 → 0.0")]
    snap = agent.train(1)
    # With epsilon 0 the agent walks its greedy path: the episode earns exactly the greedy return.
    assert snap.epsilon == 0.0 and snap.episode_rewards[-1] == greedy_return(agent.env, Q, 1.0) == -13.0
    assert agent.reconfigure(replace(config, epsilon=0.0, alpha=0.1, epsilon_decay=1.0))
    assert agent.snapshot().epsilon == 0.0
    assert agent.reconfigure(replace(agent.config, epsilon=0.2)) and agent.snapshot().epsilon == pytest.approx(
        0.2 / (1 + 1.0 * 201))
    # A new maze, gamma or algorithm is a new run.
    assert not agent.reconfigure(replace(agent.config, gamma=0.9))
    assert not agent.reconfigure(replace(agent.config, algorithm="sarsa"))
    assert not agent.reconfigure(replace(agent.config, maze=PRESETS["maze8"].maze))


def test_live_agent_is_reproducible_from_its_seed():
    a = TabularAgent(TabularConfig(algorithm="sarsa", seed=9)).train(50)
    b = TabularAgent(TabularConfig(algorithm="sarsa", seed=9)).train(50)
    c = TabularAgent(TabularConfig(algorithm="sarsa", seed=10)).train(50)
    np.testing.assert_array_equal(a.episode_rewards, b.episode_rewards)
    np.testing.assert_array_equal(a.q, b.q)
    assert not np.array_equal(a.episode_rewards, c.episode_rewards)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"algorithm": "td"}, "unknown algorithm 'td'"),
    ({"alpha": 0.0}, "alpha must be > 0"),
    ({"epsilon": 1.5}, "epsilon must be <= 1"),
    ({"gamma": 1.2}, "gamma must be <= 1"),
    ({"episodes": 0}, "episodes must be between 1"),
    ({"maze": parse_maze("S.#G")}, "No goal can be reached"),
])
def test_tabular_config_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TabularConfig(**kwargs)


# -- deep Q-learning -----------------------------------------------------------------------------


SMALL = "S..#/.#.G/....;goal=10"  # 3 x 4, optimal return with gamma 0.9: 4 moves


def test_dqn_reaches_the_optimal_return_on_a_small_maze():
    torch.set_num_threads(1)
    trainer = DQNTrainer(DQNConfig(maze=parse_maze(SMALL), seed=0), device=torch.device("cpu"))
    optimal = value_iteration(trainer.env, 0.9).V[trainer.env.start]
    assert optimal == pytest.approx(-1 - 0.9 - 0.81 + 0.9**3 * 10)
    reached = None
    while trainer.step < 1500:
        snap = trainer.train(100)
        if snap.gap < 1e-9:
            reached = snap.step
            break
    assert reached is not None and reached <= 1500, snap.greedy_return
    assert snap.greedy_return == pytest.approx(optimal)
    # The ranking of actions comes first, the values later: by move 1000 the values along the
    # optimal path are within half a point of V*.
    snap = trainer.train(1000 - trainer.step)
    assert snap.gap < 1e-9
    for r, c in cells(trainer.env, greedy_path(trainer.env, trainer.q_table())[:-1]):
        assert abs(snap.v[r, c] - snap.optimal_v[r, c]) < 0.5, (r, c, snap.v[r, c], snap.optimal_v[r, c])


def test_dqn_bookkeeping_buffer_syncs_and_plain_snapshot():
    config = DQNConfig(maze=parse_maze(SMALL), buffer_size=100, batch_size=16, sync_every=20, seed=1)
    trainer = DQNTrainer(config, device=torch.device("cpu"))
    assert isinstance(trainer, Trainer)
    snap = trainer.train(150)
    assert isinstance(snap, DQNSnapshot)
    _assert_snapshot_plain(snap)
    assert snap.buffer_fill == 100 and snap.buffer_size == 100  # full, the oldest moves overwritten
    assert snap.gradient_steps == 150 - 16 + 1  # one per move once the buffer holds a batch
    assert snap.loss_steps.tolist() == list(range(16, 151))
    assert snap.sync_steps.tolist() == [16 + 20 * k - 1 for k in range(1, 7)]
    assert np.all(snap.losses >= 0) and len(snap.losses) == snap.gradient_steps
    assert snap.episodes == len(snap.episode_rewards) and sum(snap.episode_lengths) <= 150
    assert snap.q.shape == (3, 4, 4) and np.isnan(snap.v[0, 3]) and snap.policy[0, 3] == -1
    # The target network equals the trained one right after a sync, and differs after the next step.
    same = lambda: all(torch.equal(p, q) for p, q in zip(trainer.online.parameters(),  # noqa: E731
                                                         trainer.target.parameters(), strict=True))
    trainer.train(5)  # the 7th sync, at move 155
    assert same()
    trainer.train(1)
    assert not same()


def test_dqn_live_settings_and_seeds():
    config = DQNConfig(maze=parse_maze(SMALL), seed=3)
    a = DQNTrainer(config, device=torch.device("cpu"))
    a.train(80)
    assert a.reconfigure(replace(config, lr=0.01, epsilon=0.3))
    assert all(g["lr"] == 0.01 for g in a.optimizer.param_groups)
    assert a.snapshot().epsilon == pytest.approx(0.3 / (1 + 0.2 * a.episode))
    assert a.changes and a.changes[0][0] == 80
    assert not a.reconfigure(replace(config, lr=0.01, epsilon=0.3, hidden=32))  # a new network: a new run
    b = DQNTrainer(config, device=torch.device("cpu")).train(80)
    b2 = DQNTrainer(config, device=torch.device("cpu")).train(80)
    c = DQNTrainer(replace(config, seed=4), device=torch.device("cpu")).train(80)
    np.testing.assert_array_equal(b.losses, b2.losses)
    np.testing.assert_array_equal(b.q, b2.q)
    assert not np.array_equal(b.losses, c.losses)


# -- figures ---------------------------------------------------------------------------------------


def _titles(fig):
    return fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def test_maze_figure_draws_values_arrows_marks_and_path():
    env = cliff_walking()
    snap = TabularAgent(TabularConfig(episodes=50, seed=0)).train(50)
    fig = maze_figure(env.maze, snap.v, snap.policy, snap.path, title="Q-learning")
    assert all(_titles(fig))
    names = [t.name for t in fig.data]
    assert names[0] == "V (return, points)" and "greedy action" in names and "start" in names
    arrows = next(t for t in fig.data if t.name == "greedy action")
    assert len(arrows.text) == int(env.is_state.sum()) == 37  # one per cell the agent can stand on
    path = next(t for t in fig.data if t.name.startswith("episode path"))
    assert path.name == f"episode path ({len(snap.path) - 1} moves)"
    # the line breaks (NaN) wherever the agent jumps: a pit on the cliff sends it back to the start
    cells = [tuple(c) for c in np.asarray(snap.path).tolist()]
    jumps = [i for i in range(1, len(cells))
             if abs(cells[i][0] - cells[i - 1][0]) + abs(cells[i][1] - cells[i - 1][1]) > 1]
    x, y = np.asarray(path.x, dtype=float), np.asarray(path.y, dtype=float)
    assert len(x) == len(cells) + len(jumps) and int(np.isnan(x).sum()) == len(jumps)
    assert [(int(r), int(c)) for r, c in zip(y[~np.isnan(y)], x[~np.isnan(x)])] == cells  # y = row, x = column
    jumped = maze_figure(env.maze, path=np.array([(2, 0), (2, 1), (3, 0), (2, 0)])).data[-3]  # a pit, then the start
    assert np.allclose(jumped.x, [0, 1, np.nan, 0, 0], equal_nan=True)
    assert np.allclose(jumped.y, [2, 2, np.nan, 3, 2], equal_nan=True)
    marks = next(t for t in fig.data if t.name.startswith("goals"))
    assert "<b>G</b> -1" in marks.text and sum("<b>P</b> -100" in t for t in marks.text) == 10
    kinds = next(t for t in fig.data if t.name == "walls, goals and pits").z
    assert kinds[3, 11] == 1 and np.all(kinds[3, 1:11] == 2) and np.isnan(kinds[:3]).all()
    assert list(fig.layout.yaxis.range) == [3.5, -0.5]  # row 1 on top
    assert fig.layout.yaxis.scaleanchor == "x"


def test_q_figure_has_one_heatmap_per_action_on_one_scale():
    snap = TabularAgent(TabularConfig(episodes=20, seed=0)).train(20)
    fig = q_figure(cliff_maze(), snap.q)
    heat = [t for t in fig.data if t.type == "heatmap" and t.name.startswith("Q(s,")]
    assert [t.name for t in heat] == ["Q(s, up)", "Q(s, right)", "Q(s, down)", "Q(s, left)"]
    assert all(t.coloraxis == "coloraxis" for t in heat)
    assert fig.layout.coloraxis.cmin == pytest.approx(np.nanmin(snap.q))
    # each map's x title names its action (equal scales shrink a map inside its domain: no title above it)
    x_titles = [fig.layout[f"xaxis{s}"].title.text for s in ("", "2", "3", "4")]
    assert x_titles == [f"{a}: column (cell)" for a in ("↑ up", "→ right", "↓ down", "← left")]
    assert all(list(fig.layout[f"yaxis{s}"].range) == [3.5, -0.5] for s in ("", "2", "3", "4"))  # row 1 on top
    np.testing.assert_array_equal(np.asarray(heat[0].z, dtype=float), snap.q[:, :, 0])  # z rows are maze rows


def test_episode_and_loss_figures():
    rewards = {"SARSA": np.linspace(-100, -20, 50), "Q-learning": np.linspace(-120, -50, 50)}
    fig = episode_figure(rewards, window=10, y_range=(-100, 0), reference={"optimal": -13.0})
    assert [t.name for t in fig.data] == ["SARSA (10-episode mean)", "Q-learning (10-episode mean)", "optimal"]
    assert list(fig.layout.yaxis.range) == [-100, 0] and all(_titles(fig))
    y = np.arange(10.0)
    np.testing.assert_allclose(moving_average(y, 3)[2:], np.convolve(y, np.ones(3) / 3, mode="valid"))
    assert moving_average(y, 3)[0] == 0.0 and moving_average(y, 3)[1] == 0.5
    loss = dqn_loss_figure(np.arange(16, 151), np.linspace(1, 0.1, 135), np.array([35, 55, 75]))
    sync = next(t for t in loss.data if t.name == "target network synced")
    assert list(sync.x) == [35, 55, 75] and loss.layout.yaxis.type == "log" and all(_titles(loss))
