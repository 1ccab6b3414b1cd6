"""core.bandits against independent references.

References: Sutton & Barto, Reinforcement Learning: An Introduction (2nd ed.),
chapter 2 (the 10-armed testbed, figures 2.2-2.6 and the text around them);
closed forms computed here with SciPy (the expected maximum of normals, the
softmax, chi-square tests, a posterior by numerical integration); hand-worked
small cases; and a straightforward per-run loop written from the book's
pseudocode. Tolerances on Monte-Carlo results are a few standard errors
computed from the runs themselves, plus, for values read off the book's
figures, the reading range.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from core.bandits import (
    DEFAULT_PRESET,
    PARAMS,
    PRESET_NAMES,
    PRESETS,
    SLOTS,
    STRATEGIES,
    STUDY_FAMILIES,
    BanditEngine,
    BanditRun,
    BanditRunConfig,
    BanditSnapshot,
    Testbed,
    best_study_point,
    build_testbed,
    contender_from,
    label,
    preset_controls,
    preset_modified,
    preset_table,
    resolve,
    run_testbed,
    study_curves,
    study_lineup,
)
from core.snapshot import RunBase, Trainer

Z = 3.0  # tolerance in standard errors for Monte-Carlo comparisons (two-sided p ~ 0.003)


def expected_max_of_normals(k: int) -> float:
    """E[max of k iid N(0, 1)] by quadrature: the integral of x k phi(x) Phi(x)^(k-1)."""
    value, _ = integrate.quad(lambda x: x * k * stats.norm.pdf(x) * stats.norm.cdf(x) ** (k - 1), -np.inf, np.inf)
    return value


def tail_se(res, start: int, stop: int) -> float:
    """Rough standard error of a window mean of avg_reward: the largest per-step SE in it."""
    return float(res.reward_se[start:stop].max())


def binomial_se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


# -- the book's figure 2.2: greedy vs epsilon-greedy -------------------------------------


@pytest.fixture(scope="module")
def fig22():
    preset = PRESETS["fig22"]
    assert preset.n_runs == 2000 and preset.n_steps == 1000
    return {params["epsilon"]: run_testbed(s, n_runs=preset.n_runs, n_steps=preset.n_steps, **params)
            for s, params in preset.contenders()}


def test_fig22_greedy_gets_about_one_and_finds_the_best_arm_in_a_third_of_runs(fig22):
    greedy = fig22[0.0]
    # S&B p. 29: greedy "achieved a reward-per-step of only about 1" and "found the optimal action in
    # only approximately one-third of the tasks". Reading range: 0.97-1.06 and 0.30-0.37.
    assert 0.97 - Z * greedy.final_reward_se <= greedy.final_reward() <= 1.06 + Z * greedy.final_reward_se
    se = binomial_se(1 / 3, greedy.n_runs)
    assert 0.30 - Z * se <= greedy.final_optimal() <= 0.37 + Z * se


def test_fig22_epsilon_01_reaches_about_1_37_and_80_percent(fig22):
    eps = fig22[0.1]
    # Figure 2.2: epsilon = 0.1 ends near 1.35-1.4 average reward and about 80 % optimal action.
    assert 1.35 - Z * eps.final_reward_se <= eps.final_reward() <= 1.40 + Z * eps.final_reward_se
    se = binomial_se(0.8, eps.n_runs)
    assert 0.77 - Z * se <= eps.final_optimal() <= 0.83 + Z * se
    # "it never selected that action more than 91 % of the time": 0.9 + 0.1/10.
    assert eps.final_optimal() <= 0.91 + Z * se


def test_fig22_ordering_and_the_slow_learner(fig22):
    greedy, slow, fast = fig22[0.0], fig22[0.01], fig22[0.1]
    for a, b in ((greedy, slow), (slow, fast)):
        # Same seed, so the same bandit problems in both: compare run by run (paired).
        diff = b.run_final_reward - a.run_final_reward
        assert diff.mean() > Z * diff.std(ddof=1) / math.sqrt(len(diff))
        assert b.final_optimal() - a.final_optimal() > Z * binomial_se(0.5, a.n_runs) * math.sqrt(2)
    # epsilon = 0.01 is still improving at step 1000 (it would overtake 0.1 in the long run).
    assert slow.optimal_action[900:].mean() - slow.optimal_action[400:500].mean() > 0.05
    # greedy stopped learning: locked arms, flat % optimal after the first steps.
    assert abs(greedy.optimal_action[900:].mean() - greedy.optimal_action[100:200].mean()) < 0.03


def test_fig22_first_step_is_a_uniform_guess(fig22):
    for res in fig22.values():
        # All estimates start at 0: the first pull is a uniformly random arm, E[q*] = 0.
        assert abs(res.avg_reward[0]) < Z * res.reward_se[0]
        assert abs(res.optimal_action[0] - 0.1) < Z * binomial_se(0.1, res.n_runs)


def test_best_possible_is_the_expected_maximum_of_ten_normals(fig22):
    # S&B: "the best possible of about 1.55 on this testbed" = E[max of 10 N(0, 1)] = 1.5388.
    exact = expected_max_of_normals(10)
    assert exact == pytest.approx(1.5388, abs=1e-4)
    res = fig22[0.1]
    sd_of_max = math.sqrt(integrate.quad(
        lambda x: x * x * 10 * stats.norm.pdf(x) * stats.norm.cdf(x) ** 9, -np.inf, np.inf)[0] - exact**2)
    assert abs(res.best_value[0] - exact) < Z * sd_of_max / math.sqrt(res.n_runs)
    assert np.all(res.best_value == res.best_value[0])  # stationary
    # Regret adds up max q* - q*(A_t) >= 0 and cumulates: never decreases.
    assert np.all(np.diff(res.regret) >= -1e-12)
    assert res.regret[-1] == pytest.approx(np.sum(res.best_value - res.avg_reward), abs=Z * 30 * res.reward_se.max())


# -- figure 2.4: UCB -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fig24():
    preset = PRESETS["fig24"]
    return [run_testbed(s, n_runs=preset.n_runs, n_steps=preset.n_steps, **p) for s, p in preset.contenders()]


def test_fig24_ucb_beats_epsilon_greedy_from_about_step_100(fig24):
    ucb, eps = fig24
    assert (ucb.strategy, ucb.params["c"], eps.params["epsilon"]) == ("ucb", 2.0, 0.1)
    se = math.hypot(ucb.final_reward_se, eps.final_reward_se)
    assert ucb.final_reward() - eps.final_reward() > Z * se
    # the preset's text: "from about step 100 on it stays above ε-greedy": every 100-step window from step 100
    for start in range(100, 1000, 100):
        assert ucb.avg_reward[start:start + 100].mean() > eps.avg_reward[start:start + 100].mean()


def test_fig24_ucb_spike_at_step_11(fig24):
    ucb = fig24[0]
    # Steps 1-10 pull every arm once in random order: E[reward] = E[q*] = 0.
    assert abs(ucb.avg_reward[:10].mean()) < Z * ucb.reward_se[:10].max() / math.sqrt(10) * 2
    # Step 11: all bonuses equal (N = 1), so UCB pulls the arm with the best single reward
    # X = q* + noise. With q*, noise ~ N(0, 1): E[q* | X] = X / 2, so the expected reward is
    # E[max of 10 N(0, 2)] / 2 = E[max of 10 N(0, 1)] / sqrt(2) = 1.088.
    expected = expected_max_of_normals(10) / math.sqrt(2)
    assert abs(ucb.avg_reward[10] - expected) < Z * ucb.reward_se[10]
    # ... a spike: above step 10 and above the next steps.
    assert ucb.avg_reward[10] > ucb.avg_reward[9] + 0.5
    assert ucb.avg_reward[10] > ucb.avg_reward[11:20].max()


# -- figure 2.3: optimistic initial values; figure 2.5: the gradient bandit ------------------


def test_fig23_optimistic_greedy_explores_early_and_wins_late():
    preset = PRESETS["fig23"]
    optimistic, realistic = (run_testbed(s, n_runs=preset.n_runs, n_steps=preset.n_steps, **p)
                             for s, p in preset.contenders())
    assert optimistic.params["initial_value"] == 5.0 and optimistic.params["step_size"] == 0.1
    # First 10 steps: every estimate starts at 5, far above any reward, so each arm is tried once.
    assert abs(optimistic.optimal_action[:10].mean() - 0.1) < Z * binomial_se(0.1, 10 * preset.n_runs)
    # S&B: "Initially, the optimistic method performs worse because it explores more, but
    # eventually it performs better because its exploration decreases with time."
    se = binomial_se(0.4, preset.n_runs)
    assert realistic.optimal_action[20:100].mean() - optimistic.optimal_action[20:100].mean() > Z * se
    assert optimistic.final_optimal() - realistic.final_optimal() > Z * se


def test_fig25_baseline_matters_when_values_are_shifted():
    preset = PRESETS["fig25"]
    assert preset.testbed_params() == {"mu": 4.0}
    results = {(p["alpha"], p["baseline"]): run_testbed(s, n_runs=1000, n_steps=preset.n_steps, mu=4.0, **p)
               for s, p in preset.contenders()}
    se = binomial_se(0.5, 1000) * math.sqrt(2)
    for alpha in (0.1, 0.4):
        assert results[(alpha, True)].final_optimal() - results[(alpha, False)].final_optimal() > Z * se
    # Figure 2.5 (readings): with baseline, alpha = 0.1 ends above 80 % optimal; without, alpha = 0.4 ends
    # near 30 %, the worst of the four.
    assert results[(0.1, True)].final_optimal() > 0.78
    assert min(results, key=lambda k: results[k].final_optimal()) == (0.4, False)
    assert results[(0.4, False)].final_optimal() < 0.40


def test_fig26_parameter_study_shapes():
    # Figure 2.6 at 300 runs per point: every curve is an inverted U (the best value is inside the
    # range) and UCB's best beats epsilon-greedy's best.
    best = {}
    for key in ("epsilon_greedy", "ucb"):
        fam = STUDY_FAMILIES[key]
        scores = [run_testbed(fam.strategy, n_runs=300, n_steps=1000, **fam.params(v)) for v in fam.values]
        means = np.array([r.mean_reward for r in scores])
        top = int(means.argmax())
        assert 0 < top < len(means) - 1, (key, means)
        for end in (0, -1):  # same seed: the same 300 problems at every point, so compare run by run
            diff = scores[top].run_mean_reward - scores[end].run_mean_reward
            assert diff.mean() > Z * diff.std(ddof=1) / math.sqrt(len(diff)), (key, means)
        best[key] = (means[top], scores[top].mean_reward_se)
    assert best["ucb"][0] - best["epsilon_greedy"][0] > Z * math.hypot(best["ucb"][1], best["epsilon_greedy"][1])
    # Figure 2.6's y-axis runs from 1 to 1.5: every best point lies there.
    assert all(1.2 < m < 1.55 for m, _ in best.values())
    assert STUDY_FAMILIES["epsilon_greedy"].values[0] == 1 / 128 and STUDY_FAMILIES["ucb"].values[-1] == 4


# -- hand-checked small cases -------------------------------------------------------------


def test_greedy_on_a_deterministic_testbed_tries_each_bad_arm_once():
    # True values -1, -2, -3 and no noise; estimates start at 0. A pulled arm's estimate
    # drops below 0, so the greedy learner moves on to an untried arm (still 0) until all three
    # are tried (steps 1-3, in random order), then keeps the best (-1) forever.
    res = run_testbed("epsilon_greedy", n_arms=3, n_runs=50, n_steps=20, epsilon=0.0,
                      true_values=[-1.0, -2.0, -3.0], reward_std=0.0)
    assert res.avg_reward[:3].sum() == pytest.approx(-6.0)
    assert np.all(res.avg_reward[3:] == -1.0)
    assert np.all(res.optimal_action[3:] == 1.0)
    assert res.regret[2] == pytest.approx(3.0) and np.all(res.regret[3:] == pytest.approx(3.0))
    assert np.all(res.reward_se[3:] == 0.0)


def test_greedy_on_good_arms_locks_onto_its_first_pull():
    # True values 1, 2, 3, no noise: the first pull (a random arm) already beats the untried
    # zeros, so each run keeps its first arm: flat curves, 1/3 of runs optimal.
    res = run_testbed("epsilon_greedy", n_arms=3, n_runs=3000, n_steps=30, epsilon=0.0,
                      true_values=[1.0, 2.0, 3.0], reward_std=0.0)
    assert np.all(res.avg_reward == res.avg_reward[0])
    assert np.all(res.optimal_action == res.optimal_action[0])
    assert abs(res.optimal_action[0] - 1 / 3) < Z * binomial_se(1 / 3, 3000)
    assert abs(res.avg_reward[0] - 2.0) < Z * math.sqrt(2 / 3 / 3000)


def test_tied_best_arms_both_count_as_optimal():
    res = run_testbed("epsilon_greedy", n_arms=3, n_runs=2000, n_steps=50, epsilon=1.0,
                      true_values=[1.0, 1.0, 0.0], reward_std=0.0)
    assert abs(res.optimal_action.mean() - 2 / 3) < Z * binomial_se(2 / 3, 2000 * 50) * 5


def test_epsilon_first_explores_uniformly_then_exploits():
    k, runs, steps, eps = 3, 2000, 100, 0.5
    eng = BanditEngine("epsilon_first", {"epsilon": eps, "true_values": [0.0, 0.5, 1.0], "reward_std": 0.0},
                       k, runs, steps, np.random.default_rng(1))
    assert eng.n_explore == 50
    counts = np.zeros(k)
    for _ in range(50):
        assert eng.exploring_phase()
        a, *_ = eng.step()
        counts += np.bincount(a, minlength=k)
    assert stats.chisquare(counts).pvalue > 1e-3  # uniform over the arms
    assert not eng.exploring_phase()
    assert np.all(eng.N.sum(axis=0) == 50)
    # Noise-free: after exploring every arm (missing one has probability 3 (2/3)^50 ~ 5e-9),
    # exploitation always pulls the best arm.
    res = run_testbed("epsilon_first", n_arms=k, n_runs=runs, n_steps=steps, epsilon=eps,
                      true_values=[0.0, 0.5, 1.0], reward_std=0.0)
    assert abs(res.optimal_action[:50].mean() - 1 / 3) < Z * binomial_se(1 / 3, runs * 50)
    assert np.all(res.optimal_action[50:] == 1.0)


def test_epsilon_first_softmax_explores_with_softmax_probabilities():
    eng = BanditEngine("epsilon_first_softmax", {"epsilon": 0.5, "tau": 0.5}, 4, 40_000, 10,
                       np.random.default_rng(2))
    q = np.array([0.0, 0.5, 1.0, -1.0])
    eng.Q[:] = q[:, None]
    expected = special.softmax(q / 0.5)
    np.testing.assert_allclose(eng.policy()[0], expected, rtol=1e-12)
    counts = np.bincount(eng.select(), minlength=4)
    assert stats.chisquare(counts, expected * counts.sum()).pvalue > 1e-3
    eng.t = 5  # the exploration phase (round(0.5 * 10) = 5 steps) is over: greedy
    assert np.all(eng.select() == 2)


def test_ucb_pulls_every_arm_once_first_then_follows_its_formula():
    k, runs = 10, 400
    eng = BanditEngine("ucb", {"c": 2.0}, k, runs, 100, np.random.default_rng(3))
    first = np.array([eng.step()[0] for _ in range(k)])  # steps x runs
    assert np.all(np.sort(first, axis=0) == np.arange(k)[:, None])  # a permutation in every run
    assert np.all(eng.N == 1)
    for _ in range(20):
        eng.step()
    t = eng.t + 1
    expected = eng.Q + 2.0 * np.sqrt(np.log(t) / eng.N)
    np.testing.assert_allclose(eng.ucb_scores(), expected, rtol=1e-12)
    chosen = eng.select()
    assert np.all(expected[chosen, np.arange(runs)] == expected.max(axis=0))
    # c = 0 is greedy, but untried arms still come first.
    eng0 = BanditEngine("ucb", {"c": 0.0}, k, 5, 100, np.random.default_rng(4))
    for _ in range(k):
        eng0.step()
    assert np.all(eng0.N == 1)


def test_gradient_bandit_update_matches_the_book_by_hand():
    # K = 3, alpha = 0.1, H starts at 0 (pi = 1/3 each). Step 1: A = 0, R = 1. The baseline is the
    # average of the rewards before step t, with R-bar_1 = R_1, so step 1 changes nothing.
    eng = BanditEngine("gradient", {"alpha": 0.1, "baseline": True}, 3, 1, 10, np.random.default_rng(0))
    eng.select()
    eng.learn(np.array([0]), np.array([1.0]))
    np.testing.assert_array_equal(eng.H[:, 0], [0.0, 0.0, 0.0])
    # Step 2: A = 1, R = 3, R-bar_2 = 1. Chosen arm: 0 + 0.1 (3 - 1)(1 - 1/3) = 0.4/3;
    # the others: 0 - 0.1 (3 - 1)(1/3) = -0.2/3.
    eng.select()
    eng.learn(np.array([1]), np.array([3.0]))
    np.testing.assert_allclose(eng.H[:, 0], [-0.2 / 3, 0.4 / 3, -0.2 / 3], rtol=1e-12)
    # Step 3: A = 2, R = 0, R-bar_3 = (1 + 3) / 2 = 2; pi from scipy's softmax of H.
    h = np.array([-0.2 / 3, 0.4 / 3, -0.2 / 3])
    pi = special.softmax(h)
    np.testing.assert_allclose(eng.policy()[0], pi, rtol=1e-12)
    eng.select()
    eng.learn(np.array([2]), np.array([0.0]))
    want = h + 0.1 * (0.0 - 2.0) * (np.array([0, 0, 1]) - pi)
    np.testing.assert_allclose(eng.H[:, 0], want, rtol=1e-12)
    # Without a baseline (R-bar = 0) the very first reward moves the preferences.
    eng = BanditEngine("gradient", {"alpha": 0.1, "baseline": False}, 3, 1, 10, np.random.default_rng(0))
    eng.select()
    eng.learn(np.array([0]), np.array([1.0]))
    np.testing.assert_allclose(eng.H[:, 0], [0.1 * 2 / 3, -0.1 / 3, -0.1 / 3], rtol=1e-12)


@pytest.mark.parametrize("strategy, params, weights", [
    ("softmax", {"tau": 0.25}, "softmax"),
    ("gradient", {"alpha": 0.1}, "gradient"),
    ("epsilon_greedy", {"epsilon": 0.3}, "egreedy"),
])
def test_choice_probabilities_and_sampling(strategy, params, weights):
    runs = 50_000
    eng = BanditEngine(strategy, params, 5, runs, 100, np.random.default_rng(5))
    values = np.array([0.2, -0.4, 1.1, 0.9, 0.0])
    if strategy == "gradient":
        eng.H[:] = values[:, None]
        expected = special.softmax(values)
    else:
        eng.Q[:] = values[:, None]
        if weights == "softmax":
            expected = special.softmax(values / 0.25)
        else:
            expected = np.full(5, 0.3 / 5)
            expected[2] += 0.7
    np.testing.assert_allclose(eng.policy()[0], expected, rtol=1e-12)
    counts = np.bincount(eng.select(), minlength=5)
    assert stats.chisquare(counts, expected * runs).pvalue > 1e-3


def test_greedy_ties_are_broken_uniformly():
    eng = BanditEngine("epsilon_greedy", {"epsilon": 0.0}, 6, 30_000, 10, np.random.default_rng(6))
    eng.Q[:] = np.array([1.0, 3.0, 3.0, 0.0, 3.0, -1.0])[:, None]
    counts = np.bincount(eng.select(), minlength=6)
    assert counts[[0, 3, 5]].sum() == 0
    assert stats.chisquare(counts[[1, 2, 4]]).pvalue > 1e-3


def test_decaying_epsilon_follows_its_schedule():
    eng = BanditEngine("epsilon_greedy", {"epsilon": 0.8, "decay": 0.5}, 4, 40_000, 100, np.random.default_rng(7))
    assert eng.epsilon_now() == 0.8
    eng.Q[:] = np.array([0.0, 1.0, 0.0, 0.0])[:, None]
    eng.t = 6  # next step t = 7: epsilon = 0.8 / (1 + 0.5 * 6) = 0.2
    assert eng.epsilon_now() == pytest.approx(0.2)
    counts = np.bincount(eng.select(), minlength=4)
    expected = np.array([0.05, 0.85, 0.05, 0.05])
    assert stats.chisquare(counts, expected * 40_000).pvalue > 1e-3


def test_thompson_posterior_against_numerical_bayes():
    prior_mean, prior_std, noise = 0.5, 2.0, 1.5
    eng = BanditEngine("thompson", {"prior_mean": prior_mean, "prior_std": prior_std, "reward_std": noise},
                       2, 1, 10, np.random.default_rng(8))
    rewards = [1.2, -0.3, 2.5, 0.7]
    for r in rewards:
        eng.learn(np.array([0]), np.array([r]))
    mean, sd = eng.posterior()
    # Posterior by brute force on a grid: prior density times the likelihood of each reward.
    grid = np.linspace(-15, 15, 200_001)
    log_post = stats.norm.logpdf(grid, prior_mean, prior_std) + sum(stats.norm.logpdf(r, grid, noise) for r in rewards)
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    grid_mean = float((w * grid).sum())
    grid_sd = float(np.sqrt((w * (grid - grid_mean) ** 2).sum()))
    assert mean[0, 0] == pytest.approx(grid_mean, abs=1e-6)
    assert sd[0, 0] == pytest.approx(grid_sd, abs=1e-6)
    # The arm never pulled keeps its prior.
    assert (mean[1, 0], sd[1, 0]) == pytest.approx((prior_mean, prior_std))


def test_thompson_pulls_each_arm_with_its_probability_of_being_best():
    runs = 40_000
    eng = BanditEngine("thompson", {}, 3, runs, 100, np.random.default_rng(9))
    eng.Q[:] = np.array([0.3, 0.6, 0.0])[:, None]
    eng.N[:] = np.array([2.0, 1.0, 4.0])[:, None]
    mean, sd = eng.posterior()
    # P(arm i is the largest draw) by quadrature, independently of the code's Monte Carlo.
    m, s = mean[:, 0], sd[:, 0]
    exact = [integrate.quad(lambda x, i=i: stats.norm.pdf(x, m[i], s[i]) * np.prod(
        [stats.norm.cdf(x, m[j], s[j]) for j in range(3) if j != i]), -20, 20)[0] for i in range(3)]
    assert sum(exact) == pytest.approx(1.0, abs=1e-6)
    counts = np.bincount(eng.select(), minlength=3)
    assert stats.chisquare(counts, np.array(exact) * runs).pvalue > 1e-3
    one = BanditEngine("thompson", {}, 3, 1, 100, np.random.default_rng(9))
    one.Q[:], one.N[:] = eng.Q[:, :1], eng.N[:, :1]
    np.testing.assert_allclose(one.policy(mc_samples=20_000)[0], exact, atol=0.015)


def test_thompson_without_noise_learns_an_arm_in_one_pull():
    # Noise-free rewards: one pull gives an arm's exact value (posterior sd 0). An untried arm is
    # drawn from the prior N(0, 1), which beats these known negative values most of the time, so
    # every arm is soon tried; once all are known, the best one is pulled every time.
    res = run_testbed("thompson", n_arms=4, n_runs=200, n_steps=100, true_values=[-3.0, -2.0, -1.0, -2.5],
                      reward_std=0.0, sigma=1.0)
    assert np.all(res.optimal_action[-5:] == 1.0)
    eng = BanditEngine("thompson", {"reward_std": 0.0}, 2, 1, 10, np.random.default_rng(0))
    eng.learn(np.array([0]), np.array([0.7]))
    mean, sd = eng.posterior()
    assert (mean[0, 0], sd[0, 0], mean[1, 0], sd[1, 0]) == (0.7, 0.0, 0.0, 1.0)


def test_random_walk_variance_grows_linearly():
    walk, steps, runs = 0.05, 200, 4000
    eng = BanditEngine("epsilon_greedy", {"walk_std": walk, "sigma": 0.0}, 5, runs, steps, np.random.default_rng(10))
    start = eng.q.copy()
    assert np.all(start == 0.0)  # sigma = 0: all arms start equal
    for _ in range(steps):
        eng.step()
    drift = (eng.q - start).ravel()
    dof = drift.size
    chi2 = float((drift**2).sum() / (walk**2 * steps))  # ~ chi-square with dof degrees of freedom
    assert stats.chi2.sf(chi2, dof) > 1e-4 and stats.chi2.cdf(chi2, dof) > 1e-4


def test_nonstationary_constant_step_size_beats_sample_averages():
    preset = PRESETS["nonstat"]
    bed = preset.testbed_params()
    avg, const = (run_testbed(s, n_runs=400, n_steps=2000, **bed, **p) for s, p in preset.contenders())
    assert const.params["step_size"] == 0.1 and avg.params["step_size"] is None
    assert const.final_reward() - avg.final_reward() > Z * math.hypot(const.final_reward_se, avg.final_reward_se)
    assert not np.all(const.best_value == const.best_value[0])  # the best value moves


# -- the vectorised engine against a plain per-run loop -------------------------------------


def loop_reference(strategy: str, params: dict, n_runs: int, n_steps: int, seed: int) -> np.ndarray:
    """Each run's mean reward, one run and one step at a time, as in the book's pseudocode."""
    rng = np.random.default_rng(seed)
    k = 10
    means = np.empty(n_runs)
    for run in range(n_runs):
        q = rng.normal(0.0, 1.0, k)
        est = np.zeros(k)
        n = np.zeros(k)
        h = np.zeros(k)
        rbar = 0.0
        total = 0.0
        for t in range(1, n_steps + 1):
            if strategy == "epsilon_greedy":
                if rng.random() < params["epsilon"]:
                    a = int(rng.integers(k))
                else:
                    a = int(rng.choice(np.flatnonzero(est == est.max())))
            elif strategy == "ucb":
                untried = np.flatnonzero(n == 0)
                if untried.size:
                    a = int(rng.choice(untried))
                else:
                    score = est + params["c"] * np.sqrt(math.log(t) / n)
                    a = int(rng.choice(np.flatnonzero(score == score.max())))
            elif strategy == "softmax":
                a = int(rng.choice(k, p=special.softmax(est / params["tau"])))
            else:  # gradient with baseline
                pi = special.softmax(h)
                a = int(rng.choice(k, p=pi))
            r = rng.normal(q[a], 1.0)
            total += r
            n[a] += 1
            if strategy == "gradient":
                base = r if t == 1 else rbar
                one_hot = np.eye(k)[a]
                h += params["alpha"] * (r - base) * (one_hot - pi)
                rbar += (r - rbar) / t
            else:
                est[a] += (r - est[a]) / n[a]
        means[run] = total / n_steps
    return means


@pytest.mark.parametrize("strategy, params", [
    ("epsilon_greedy", {"epsilon": 0.1}),
    ("ucb", {"c": 1.0}),
    ("softmax", {"tau": 0.2}),
    ("gradient", {"alpha": 0.2}),
])
def test_vectorised_engine_agrees_with_a_plain_loop(strategy, params):
    runs, steps = 150, 150
    ref = loop_reference(strategy, params, runs, steps, seed=11)
    res = run_testbed(strategy, n_runs=2000, n_steps=steps, seed=12, **params)
    se = math.hypot(ref.std(ddof=1) / math.sqrt(runs), res.mean_reward_se)
    assert abs(ref.mean() - res.mean_reward) < 4 * se, (ref.mean(), res.mean_reward, se)


# -- API, validation, reproducibility ----------------------------------------------------------


def test_result_shapes_ranges_and_reproducibility():
    for strategy in STRATEGIES:
        res = run_testbed(strategy, n_arms=7, n_runs=64, n_steps=40, seed=3)
        for name in ("avg_reward", "optimal_action", "regret", "reward_se", "best_value"):
            assert getattr(res, name).shape == (40,), (strategy, name)
        assert res.run_mean_reward.shape == (64,)
        assert np.all((res.optimal_action >= 0) & (res.optimal_action <= 1))
        assert np.all(np.diff(res.regret) >= -1e-12)
        again = run_testbed(strategy, n_arms=7, n_runs=64, n_steps=40, seed=3)
        np.testing.assert_array_equal(res.avg_reward, again.avg_reward)
        other = run_testbed(strategy, n_arms=7, n_runs=64, n_steps=40, seed=4)
        assert not np.array_equal(res.avg_reward, other.avg_reward)
        assert res.label == label(strategy)


@pytest.mark.parametrize("kwargs, message", [
    ({"strategy": "greedy"}, "unknown strategy 'greedy'"),
    ({"strategy": "ucb", "tau": 0.1}, "unknown parameter(s) 'tau' for strategy 'ucb'"),
    ({"strategy": "thompson", "initial_value": 5.0}, "unknown parameter(s) 'initial_value'"),
    ({"strategy": "epsilon_greedy", "epsilon": 1.5}, "epsilon must be <= 1"),
    ({"strategy": "epsilon_greedy", "epsilon": -0.1}, "epsilon must be >= 0"),
    ({"strategy": "epsilon_greedy", "epsilon": float("nan")}, "epsilon must be a finite number"),
    ({"strategy": "epsilon_greedy", "epsilon": "0.1"}, "epsilon must be a finite number"),
    ({"strategy": "epsilon_greedy", "decay": -1.0}, "decay must be >= 0"),
    ({"strategy": "softmax", "tau": 0.0}, "tau (the softmax temperature) must be > 0"),
    ({"strategy": "ucb", "c": -1.0}, "c (the UCB exploration weight) must be >= 0"),
    ({"strategy": "gradient", "alpha": 0.0}, "alpha (the gradient step size) must be > 0"),
    ({"strategy": "gradient", "baseline": "yes"}, "baseline must be True or False"),
    ({"strategy": "epsilon_greedy", "step_size": 0.0}, "step_size must be > 0"),
    ({"strategy": "epsilon_greedy", "step_size": 1.5}, "step_size must be <= 1"),
    ({"strategy": "thompson", "prior_std": 0.0}, "prior_std must be > 0"),
    ({"strategy": "ucb", "n_arms": 1}, "n_arms must be between 2 and 1000"),
    ({"strategy": "ucb", "n_arms": 2.5}, "n_arms must be a whole number"),
    ({"strategy": "ucb", "n_runs": 0}, "n_runs must be >= 1"),
    ({"strategy": "ucb", "n_steps": 0}, "n_steps must be >= 1"),
    ({"strategy": "ucb", "seed": -1}, "seed must be >= 0"),
    ({"strategy": "ucb", "sigma": -1.0}, "sigma must be >= 0"),
    ({"strategy": "ucb", "reward_std": -0.5}, "reward_std must be >= 0"),
    ({"strategy": "ucb", "walk_std": -0.01}, "walk_std must be >= 0"),
    ({"strategy": "ucb", "true_values": [1.0, 2.0]}, "true_values must hold n_arms = 10 numbers, got 2"),
])
def test_bad_input_gets_a_clear_value_error(kwargs, message):
    kwargs = {"n_runs": 4, "n_steps": 3, **kwargs}
    with pytest.raises(ValueError) as info:
        run_testbed(**kwargs)
    assert message in str(info.value)


def test_resolve_fills_defaults_and_labels_read_well():
    own, bed = resolve("epsilon_greedy", {"epsilon": 0.2, "mu": 1.0})
    assert own == {"epsilon": 0.2, "decay": 0.0, "initial_value": 0.0, "step_size": None}
    assert bed["mu"] == 1.0 and bed["sigma"] == 1.0 and bed["reward_std"] == 1.0
    assert label("epsilon_greedy", {"epsilon": 0.0}) == "greedy"
    assert label("epsilon_greedy", {"epsilon": 0.0, "initial_value": 5.0, "step_size": 0.1}) == "greedy Q₁=5, α=0.1"
    assert label("ucb", {"c": math.sqrt(2)}) == "UCB1 c=√2"
    assert label("gradient", {"alpha": 0.4, "baseline": False}) == "gradient α=0.4, no baseline"
    with pytest.raises(ValueError):
        Testbed(n_arms=3, true_values=(1.0, 2.0))


def test_every_preset_is_valid():
    for preset in PRESETS.values():
        assert 1 <= len(preset.contenders()) <= 4
        for strategy, params in preset.contenders():
            resolve(strategy, {**params, **preset.testbed_params()})
        Testbed(**preset.testbed_params())


# -- the single-run stepper (live view) ---------------------------------------------------------


def test_bandit_run_follows_the_trainer_protocol():
    config = BanditRunConfig("ucb", (("c", 2.0),), Testbed(n_arms=5), n_steps=30, seed=1)
    run = BanditRun(config)
    assert isinstance(run, Trainer) and isinstance(run, RunBase)
    assert run.max_steps == 30 and run.config is config and run.changes == []
    snap = run.snapshot()
    assert isinstance(snap, BanditSnapshot) and snap.step == 0 and not snap.done and snap.last_action is None
    assert np.all(np.isinf(snap.upper))  # nothing pulled: every UCB score is infinite
    snap = run.train(5)
    assert snap.step == 5 and np.all(snap.counts == 1)  # UCB: each arm once
    assert np.isfinite(snap.upper).all() and snap.probabilities.sum() == pytest.approx(1.0)
    assert len(snap.rewards) == 5 and snap.metrics["average reward"] == pytest.approx(np.mean(snap.rewards))
    snap = run.train(100)  # clamps at max_steps
    assert snap.step == 30 and snap.done and run.done and snap.counts.sum() == 30
    assert run.train(5).step == 30
    with pytest.raises(ValueError):
        run.train(-1)
    # The same seed replays the same run; the single run is the engine with one run.
    again = BanditRun(config)
    again.train(30)
    np.testing.assert_array_equal(again.snapshot().rewards, snap.rewards)
    # Stationary: regret = sum over arms of pulls x (best value - arm value).
    assert snap.regret[-1] == pytest.approx(np.sum(snap.counts * (snap.true_values.max() - snap.true_values)))


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_bandit_run_snapshot_for_every_strategy(strategy):
    run = BanditRun(BanditRunConfig(strategy, (), Testbed(), n_steps=50, seed=2))
    snap = run.train(50)
    assert snap.counts.sum() == 50 and snap.probabilities.shape == (10,)
    assert snap.probabilities.sum() == pytest.approx(1.0)
    if strategy == "gradient":
        assert snap.estimates is None and snap.preferences is not None
        assert snap.baseline == pytest.approx(np.mean(snap.rewards))
    else:
        assert snap.estimates is not None
    if strategy == "thompson":
        assert np.all(snap.lower <= snap.estimates) and np.all(snap.estimates <= snap.upper)
    if strategy.startswith("epsilon_first"):
        assert snap.phase == "exploiting"  # 5 of 50 steps explored


def test_bandit_run_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown strategy"):
        BanditRunConfig("nope")
    with pytest.raises(ValueError, match="epsilon"):
        BanditRunConfig("epsilon_greedy", (("epsilon", 2.0),))


def test_core_bandits_stays_free_of_torch_and_streamlit():
    """The testbed runs in a worker process that never imports torch (nor Streamlit)."""
    import subprocess
    import sys

    code = "import sys, core.bandits; print(sorted(m for m in ('torch', 'streamlit') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


# -- the parameter study's curves ---------------------------------------------------------------


def test_study_curves_match_a_direct_computation():
    families = [STUDY_FAMILIES["ucb"], STUDY_FAMILIES["gradient"]]
    lineup = study_lineup(families, thompson=True)
    ucb_values = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4]
    alphas = [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2]
    assert [(strategy, params) for _, strategy, params in lineup] == (
        [("ucb", (("c", c),)) for c in ucb_values] + [("gradient", (("alpha", a),)) for a in alphas]
        + [("thompson", ())])
    assert lineup[0][0] == "UCB, c = 0.0625" and lineup[-1][0] == "Thompson sampling"
    size = {"n_runs": 30, "n_steps": 60, "seed": 4}
    results = [run_testbed(strategy, **size, **dict(params)) for _, strategy, params in lineup]

    def direct(strategy, metric, **params):
        res = run_testbed(strategy, **size, **params)
        # per run: its average reward over all steps, or over the last 6 (10 % of 60)
        per_run = res.run_mean_reward if metric == "all" else res.run_final_reward
        y = res.avg_reward.mean() if metric == "all" else res.avg_reward[-6:].mean()
        return y, per_run.std(ddof=1) / math.sqrt(30)

    for metric in ("all", "last"):
        curves, reference = study_curves(families, results, metric, thompson=True)
        assert [c.title for c in curves] == ["UCB", "gradient bandit"]
        assert curves[0].exponents == tuple(range(-4, 3)) and curves[1].exponents == tuple(range(-5, 2))
        for curve, strategy, name, values in ((curves[0], "ucb", "c", ucb_values),
                                              (curves[1], "gradient", "alpha", alphas)):
            want = np.array([direct(strategy, metric, **{name: v}) for v in values])
            np.testing.assert_allclose(curve.rewards, want[:, 0], rtol=1e-12)
            np.testing.assert_allclose(curve.se, want[:, 1], rtol=1e-9)
        np.testing.assert_allclose(reference["Thompson sampling"], direct("thompson", metric), rtol=1e-9)
        curve, value, reward = best_study_point(curves)
        everything = np.concatenate([c.rewards for c in curves])
        assert reward == everything.max()
        index = int(curve.rewards.argmax())
        assert value == (ucb_values if curve.title == "UCB" else alphas)[index]
    curves, reference = study_curves(families, results[:-1], "all")
    assert reference is None and len(curves) == 2
    assert best_study_point([]) is None
    with pytest.raises(ValueError, match="takes 15 results"):
        study_curves(families, results[:-2], "all", thompson=True)
    with pytest.raises(ValueError, match="unknown study metric"):
        study_curves(families, results, "median", thompson=True)


# -- the page's parameter table ---------------------------------------------------------------


def test_the_page_opens_with_the_default_preset_and_its_defaults_come_from_core():
    assert PARAMS.preset(preset_controls(DEFAULT_PRESET)) == PARAMS.defaults()
    assert not preset_modified(PARAMS.defaults(), DEFAULT_PRESET)
    bed = Testbed()
    assert build_testbed(PARAMS.defaults()) == bed
    assert [PARAMS[n].default for n in ("n_arms", "mu", "sigma", "reward_std", "walk_std")] == [
        bed.n_arms, bed.mu, bed.sigma, bed.reward_std, bed.walk_std]
    assert PARAMS["seed"].default == BanditRunConfig().seed
    # fig. 2.2: greedy, epsilon = 0.01, epsilon = 0.1, and an empty fourth slot
    assert [PARAMS[f"strategy_{i}"].default for i in range(1, SLOTS + 1)] == ["epsilon_greedy"] * 3 + ["none"]
    assert [PARAMS[f"epsilon_{i}"].default for i in range(1, 4)] == [0.0, 0.01, 0.1]
    # a parameter the default lineup does not set starts at the strategy's own default
    assert PARAMS["c_1"].default == STRATEGIES["ucb"].defaults["c"] == 2.0
    assert PARAMS["tau_4"].default == STRATEGIES["softmax"].defaults["tau"]
    assert PARAMS["alpha_2"].default == STRATEGIES["gradient"].defaults["alpha"]
    assert PARAMS["baseline_3"].default is True and PARAMS["step_size_4"].default == 0.0  # 0: sample averages


def test_every_preset_fits_the_controls_and_names_the_same_lineup():
    for key, preset in PRESETS.items():
        values = PARAMS.preset(preset_controls(key))  # every value is one its control can show
        lineup = [contender_from(values, slot) for slot in range(1, SLOTS + 1)]
        assert [c for c in lineup if c is not None] == [
            (strategy, tuple((p, v) for p, v in resolve(strategy, params)[0].items()
                             if p not in ("prior_mean", "prior_std")))
            for strategy, params in preset.contenders()], key
        assert lineup[len(preset.lineup):] == [None] * (SLOTS - len(preset.lineup))
        assert build_testbed(values) == Testbed(**preset.testbed_params())
        assert (values["n_steps"], values["n_runs"]) == (preset.n_steps, preset.n_runs)
        assert not preset_modified(values, key)
        table = preset_table(key)
        assert set(table.names()) == set(PRESET_NAMES)
        assert {n: table[n].default for n in PRESET_NAMES} == {n: values[n] for n in PRESET_NAMES}
    # Only what the preset sets counts as a change: fig. 2.4 leaves slot 3 empty, so its c is hidden.
    values = PARAMS.preset(preset_controls("fig24"))
    assert not preset_modified({**values, "c_3": 1.0, "seed": 9, "view": "study"}, "fig24")
    assert preset_modified({**values, "c_1": 1.0}, "fig24")
    assert preset_modified({**values, "n_runs": 100}, "fig24")


def test_old_links_map_to_readable_names():
    old = {"preset": "fig23", "s1": "ucb", "e1": "0.1", "d1": "0.01", "t2": "0.5", "c3": "1", "a4": "0.4",
           "b4": "0", "q2": "5", "z2": "0.1", "k": "5", "mu": "1", "sigma": "0.5", "noise": "2",
           "walk": "0.01", "steps": "200", "runs": "100", "seed": "3", "view": "study", "watch": "2",
           "f_egreedy": "0", "f_efirst": "1", "f_thompson": "1", "sruns": "100", "smetric": "last"}
    assert PARAMS.upgrade(old) == {
        "preset": "fig23", "strategy_1": "ucb", "epsilon_1": "0.1", "decay_1": "0.01", "tau_2": "0.5", "c_3": "1",
        "alpha_4": "0.4", "baseline_4": "0", "initial_value_2": "5", "step_size_2": "0.1", "arms": "5",
        "mean": "1", "spread": "0.5", "reward_noise": "2", "walk": "0.01", "steps": "200", "runs": "100",
        "seed": "3", "view": "study", "watch": "2", "study_epsilon_greedy": "0", "study_epsilon_first": "1",
        "study_thompson": "1", "study_runs": "100", "study_metric": "last"}
    for p in PARAMS:
        # whole words with underscores; a parameter symbol (c) only with its slot number
        assert p.url.replace("_", "").isalnum() and p.url.islower(), p.url
        assert len(p.url.split("_")[0]) > 1 or p.url[2:].isdigit(), p.url


def test_contenders_from_the_controls():
    values = {"strategy_2": "epsilon_greedy", "epsilon_2": 0.1, "decay_2": 0.0, "initial_value_2": 5.0,
              "step_size_2": 0.0, "strategy_3": "none", "strategy_1": "gradient", "alpha_1": 0.4,
              "baseline_1": False}
    assert contender_from(values, 2) == ("epsilon_greedy", (("epsilon", 0.1), ("decay", 0.0),
                                                            ("initial_value", 5.0), ("step_size", None)))
    assert contender_from({**values, "step_size_2": 0.1}, 2)[1][-1] == ("step_size", 0.1)
    assert contender_from(values, 3) is None
    assert contender_from(values, 1) == ("gradient", (("alpha", 0.4), ("baseline", False)))
