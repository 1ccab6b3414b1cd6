"""Gridworld page: batched tabular learners vs a per-step Python loop, DQN time
to the optimal return, and the cost of a live redraw.

    python3 -m benchmarks.run gridworld

- ``tabular``: Sutton & Barto's figure 6.4 setting (cliff walking, ε = 0.1,
  α = 0.5, γ = 1), 100 runs x 500 episodes, per algorithm. ``batched_s`` is
  ``run_batch`` (best of 2). ``loop_s_scaled_to_100_runs`` is the
  straightforward implementation written here (one run at a time, one move at
  a time through ``env.step``, a NumPy Q-table, ``rng.choice`` among tied
  best actions), timed on ``LOOP_RUNS`` runs and scaled (its cost is linear
  in the runs). ``speedup`` compares the two, both measured in this run;
  ``agreement`` gives both late-episode (401-500) mean rewards with their
  standard errors, to show they compute the same thing.
- ``dqn``: ``DQNTrainer`` on the 8 x 8 maze preset, page defaults, ONE torch
  thread, trained in chunks of 100 moves until its greedy policy earns the
  optimal return: wall and CPU seconds and moves, for the page's seed (0) and
  four more seeds.
- ``redraw_ms``: snapshot + the page's figures for a live tabular agent on the
  cliff and for the DQN on the 8 x 8 maze, median of 10.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from benchmarks.timing import best_of
from core.gridworld import PRESETS, DQNConfig, DQNTrainer, TabularAgent, TabularConfig, cliff_walking, run_batch
from core.plots.gridworld import dqn_loss_figure, episode_figure, maze_figure, q_figure

RUNS, EPISODES = 100, 500
LOOP_RUNS = 10
ALPHA, EPSILON = 0.5, 0.1
DQN_SEEDS = (0, 1, 2, 3, 4)
DQN_MAX_MOVES = 20_000


def loop_learner(algorithm: str, episodes: int, seed: int) -> np.ndarray:
    """The textbook loop (Sutton & Barto, sections 6.4-6.5): one move at a time."""
    env = cliff_walking(seed=seed)
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.n_states, env.n_actions))

    def choose(s: int) -> int:
        if rng.random() < EPSILON:
            return int(rng.integers(env.n_actions))
        return int(rng.choice(np.flatnonzero(Q[s] == Q[s].max())))

    rewards = np.zeros(episodes)
    for episode in range(episodes):
        s = env.reset()
        a = choose(s)
        done = False
        while not done:
            s2, r, done = env.step(a)
            rewards[episode] += r
            a2 = choose(s2) if not done else 0
            if done:
                target = r
            elif algorithm == "sarsa":
                target = r + Q[s2, a2]
            else:
                target = r + Q[s2].max()
            Q[s, a] += ALPHA * (target - Q[s, a])
            s = s2
            a = a2
    return rewards


def _late(rewards: np.ndarray) -> tuple[float, float]:
    per_run = rewards[:, 400:].mean(axis=1)
    return round(float(per_run.mean()), 2), round(float(per_run.std(ddof=1) / np.sqrt(len(per_run))), 2)


def tabular() -> dict:
    env = cliff_walking()
    out = {}
    for algorithm in ("q_learning", "sarsa"):
        batched = best_of(lambda algorithm=algorithm: run_batch(env, algorithm, RUNS, EPISODES, ALPHA, EPSILON),
                          repeats=2)
        result = run_batch(env, algorithm, RUNS, EPISODES, ALPHA, EPSILON)
        start = time.perf_counter()
        loop = np.array([loop_learner(algorithm, EPISODES, seed) for seed in range(LOOP_RUNS)])
        loop_s = (time.perf_counter() - start) * RUNS / LOOP_RUNS
        out[algorithm] = {
            "batched_s": round(batched, 3),
            "loop_s_scaled_to_100_runs": round(loop_s, 2),
            "speedup": round(loop_s / batched, 1),
            "agreement": {"batched_late_mean_reward_and_se": _late(result.episode_rewards),
                          "loop_late_mean_reward_and_se": _late(loop)},
        }
    return out


def dqn_time_to_optimal(seed: int) -> dict:
    trainer = DQNTrainer(DQNConfig(maze=PRESETS["maze8"].maze, seed=seed), device=torch.device("cpu"))
    wall, cpu = time.perf_counter(), time.process_time()
    reached = None
    while trainer.step < DQN_MAX_MOVES:
        if trainer.train(100).gap < 1e-9:
            reached = trainer.step
            break
    return {"seed": seed, "moves": reached, "wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2)}


def redraw_ms() -> dict:
    agent = TabularAgent(TabularConfig(episodes=10_000))
    agent.train(200)
    maze = agent.config.maze

    def tabular_tick():
        snap = agent.snapshot()
        maze_figure(maze, snap.v, snap.policy, snap.path)
        q_figure(maze, snap.q)
        episode_figure({"Q-learning": snap.episode_rewards}, window=10)

    dqn = DQNTrainer(DQNConfig(maze=PRESETS["maze8"].maze), device=torch.device("cpu"))
    dqn.train(1000)

    def dqn_tick():
        snap = dqn.snapshot()
        maze_figure(dqn.config.maze, snap.v, snap.policy, snap.path)
        dqn_loss_figure(snap.loss_steps, snap.losses, snap.sync_steps)
        episode_figure({"DQN": snap.episode_rewards}, window=10)

    def median_ms(fn) -> float:
        times = []
        for _ in range(10):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return round(1000 * statistics.median(times), 1)

    return {"tabular": median_ms(tabular_tick), "dqn": median_ms(dqn_tick)}


def run() -> dict:
    torch.set_num_threads(1)
    runs = [dqn_time_to_optimal(seed) for seed in DQN_SEEDS]
    return {
        "setting": f"cliff walking, {RUNS} runs x {EPISODES} episodes, epsilon {EPSILON}, alpha {ALPHA}",
        "tabular": tabular(),
        "dqn_8x8_to_optimal_return": {"page_seed": runs[0], "all_seeds": runs,
                                      "slowest_wall_s": max(r["wall_s"] for r in runs)},
        "redraw_ms": redraw_ms(),
    }
