"""Bandit testbed speed: the vectorised engine vs a plain per-run, per-step loop.

    python3 -m benchmarks.run bandits

- ``vectorised_s``: seconds for the 2,000 runs x 1,000 steps testbed, per strategy
  (best of 3).
- ``loop_*``: the same epsilon-greedy testbed written the straightforward way
  (one run at a time, one step at a time, NumPy scalars; ties broken at random
  as in the book). It is timed on ``LOOP_RUNS`` runs and scaled to 2,000 (its
  cost is linear in the runs); ``speedup_vs_loop`` compares seconds per
  run-step, both measured in this run.
- ``agreement``: both implementations' average reward over all steps with its
  standard error over the runs, to show they compute the same thing (they
  differ by Monte-Carlo noise only).
- ``page_default_s``: the page's first view (figure 2.2: three strategies);
  ``largest_page_run_s``: one strategy at the page's largest size, 5,000 x 5,000.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.timing import best_of
from core.bandits import PRESETS, STRATEGIES, run_testbed

RUNS, STEPS = 2000, 1000
LOOP_RUNS = 100


def loop_epsilon_greedy(n_runs: int, n_steps: int, epsilon: float, k: int = 10, seed: int = 0):
    """The 10-armed testbed one run and one step at a time (the reference)."""
    rng = np.random.default_rng(seed)
    reward_sum = np.zeros(n_steps)
    optimal_sum = np.zeros(n_steps)
    run_means = np.zeros(n_runs)
    for run in range(n_runs):
        q = rng.normal(size=k)
        best = q.argmax()
        estimates = np.zeros(k)
        counts = np.zeros(k)
        for t in range(n_steps):
            if rng.random() < epsilon:
                a = rng.integers(k)
            else:
                ties = np.flatnonzero(estimates == estimates.max())
                a = ties[rng.integers(len(ties))]
            r = q[a] + rng.normal()
            counts[a] += 1
            estimates[a] += (r - estimates[a]) / counts[a]
            reward_sum[t] += r
            optimal_sum[t] += a == best
            run_means[run] += r / n_steps
    return reward_sum / n_runs, optimal_sum / n_runs, run_means


def run() -> dict:
    vectorised = {}
    for name in STRATEGIES:
        vectorised[name] = round(best_of(lambda name=name: run_testbed(name, n_runs=RUNS, n_steps=STEPS), repeats=3), 3)
    eg = best_of(lambda: run_testbed("epsilon_greedy", n_runs=RUNS, n_steps=STEPS, epsilon=0.1), repeats=3)
    walk = best_of(lambda: run_testbed("epsilon_greedy", n_runs=RUNS, n_steps=STEPS, epsilon=0.1, walk_std=0.01,
                                       step_size=0.1), repeats=3)

    start = time.perf_counter()
    loop_reward, loop_optimal, loop_runs = loop_epsilon_greedy(LOOP_RUNS, STEPS, 0.1)
    loop_s = time.perf_counter() - start
    loop_per_step = loop_s / (LOOP_RUNS * STEPS)
    vec_per_step = eg / (RUNS * STEPS)
    vec = run_testbed("epsilon_greedy", n_runs=RUNS, n_steps=STEPS, epsilon=0.1)

    preset = PRESETS["fig22"]
    page_default = best_of(lambda: [run_testbed(s, n_runs=preset.n_runs, n_steps=preset.n_steps, **p)
                                    for s, p in preset.contenders()], repeats=2)
    start = time.perf_counter()
    run_testbed("epsilon_greedy", n_runs=5000, n_steps=5000, epsilon=0.1)
    largest = time.perf_counter() - start
    return {
        "testbed": f"{RUNS} runs x {STEPS} steps, 10 arms",
        "vectorised_s": vectorised,
        "vectorised_epsilon_greedy_0.1_s": round(eg, 3),
        "vectorised_nonstationary_s": round(walk, 3),
        "loop_runs_timed": LOOP_RUNS,
        "loop_s_timed": round(loop_s, 3),
        "loop_s_scaled_to_2000_runs": round(loop_per_step * RUNS * STEPS, 2),
        "speedup_vs_loop": round(loop_per_step / vec_per_step, 1),
        "agreement": {
            "loop_mean_reward": round(float(loop_reward.mean()), 3),
            "loop_mean_reward_se": round(float(loop_runs.std(ddof=1) / np.sqrt(LOOP_RUNS)), 3),
            "loop_final_optimal": round(float(loop_optimal[-100:].mean()), 3),
            "vectorised_mean_reward": round(vec.mean_reward, 3),
            "vectorised_mean_reward_se": round(vec.mean_reward_se, 3),
            "vectorised_final_optimal": round(vec.final_optimal(), 3),
        },
        "page_default_s": round(page_default, 3),
        "largest_page_run_s": round(largest, 2),
    }
