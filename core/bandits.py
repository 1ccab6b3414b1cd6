"""Multi-armed bandits: the k-armed testbed of Sutton & Barto, chapter 2.

A k-armed bandit has ``k`` arms (slot machines). Arm ``a`` has a true value
q*(a), the mean of its rewards; pulling it pays a reward drawn from
N(q*(a), reward_std²). The learner does not know q* and must both explore
(pull arms to learn their values) and exploit (pull the arm that looks best).

``run_testbed`` plays ``n_runs`` independent bandit problems for ``n_steps``
steps each and averages over the runs, as in Sutton & Barto (2nd ed.),
section 2.3. It is vectorised across runs: every array holds one row per run
and the only Python loop is over the steps.

The testbed (keyword parameters of ``run_testbed``, defaults as in the book):

- ``mu=0.0``, ``sigma=1.0``: each run draws q*(a) ~ N(mu, sigma²);
  ``true_values=[...]`` instead fixes the same q* for every run (small,
  hand-checkable testbeds).
- ``reward_std=1.0``: rewards are N(q*(a), reward_std²) (0: deterministic).
- ``walk_std=0.0``: a positive value makes the problem non-stationary: after
  every step each q*(a) takes an independent N(0, walk_std²) random-walk step
  (Sutton & Barto, exercise 2.5 uses 0.01). Track it with a constant
  ``step_size``.

The strategies (``STRATEGIES``) and their parameters:

- ``'epsilon_greedy'`` (``epsilon=0.1``, ``decay=0.0``): with probability
  ε_t pick an arm uniformly at random, else the arm with the highest estimate
  (ties broken at random). **Decaying epsilon** is the ``decay`` parameter:
  ε_t = epsilon / (1 + decay·(t − 1)) at step t = 1, 2, ... (decay = 0 keeps
  ε constant; decay > 0 shrinks it like 1/t, the schedule of Auer et al. 2002).
- ``'epsilon_first'`` (``epsilon=0.1``): the first round(epsilon·n_steps) steps
  pick arms uniformly at random (pure exploration), the rest are greedy.
- ``'epsilon_first_softmax'`` (``epsilon=0.1``, ``tau=0.1``): as epsilon-first,
  but the exploration phase picks arms with the softmax (Boltzmann)
  probabilities exp(Q(a)/τ) / Σ_b exp(Q(b)/τ) of the current estimates.
- ``'softmax'`` (``tau=0.1``): Boltzmann exploration at every step.
- ``'ucb'`` (``c=2.0``): A_t = argmax_a [Q_t(a) + c·sqrt(ln t / N_t(a))], an arm
  never pulled counts as maximising (so every arm is pulled once first).
  c = sqrt(2) is Auer et al.'s UCB1.
- ``'thompson'`` (``prior_mean=None``, ``prior_std=None``): Gaussian Thompson
  sampling with a known reward noise: each arm's prior is
  q*(a) ~ N(prior_mean, prior_std²) (default: the testbed's own N(mu, sigma²),
  with prior_std = 1 when sigma is 0); after n pulls with sample mean x̄ the
  posterior is normal with precision 1/prior_std² + n/reward_std² and mean
  (prior_mean/prior_std² + n·x̄/reward_std²) / precision. Each step draws one
  sample per arm from its posterior and pulls the arm with the largest draw.
- ``'gradient'`` (``alpha=0.1``, ``baseline=True``): preferences H(a) start at 0,
  π = softmax(H), and after reward R_t for action A_t
  H(a) ← H(a) + α (R_t − R̄_t)(1[a = A_t] − π_t(a)), where the baseline R̄_t is
  the average of the rewards before step t (R̄_1 = R_1), or 0 without baseline
  (Sutton & Barto, section 2.8).

Value-based strategies (all but thompson and gradient) also take
``initial_value=0.0`` (the initial estimate Q_1(a); **optimistic initial
values** are a large one, as in the book's figure 2.3 with Q_1 = 5) and
``step_size=None`` (None: sample averages Q ← Q + (R − Q)/n; a number α in
(0, 1]: the constant step size Q ← Q + α(R − Q), which tracks a
non-stationary problem).

Bad input (an unknown strategy or parameter, a value out of range) raises a
``ValueError`` that says what is wrong and what is allowed.

Also here, so that the page's views stay thin: the parameter study's curves
(``study_lineup``, ``study_curves``), the live single run (``BanditRun``, a
``core.snapshot.RunBase``) and the page's controls (``PARAMS``, one
``core.params`` table; ``preset_controls`` gives a preset's values). The module
imports neither torch nor Streamlit: the testbed runs in worker processes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.checks import check_int, check_real, is_real

from core.params import Param, ParamTable
from core.snapshot import RunBase, Snapshot

# -- the strategies -------------------------------------------------------------


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    title: str  # shown on the page and in legends
    defaults: Mapping[str, Any]  # strategy-specific parameters and their defaults
    value_based: bool  # keeps action-value estimates Q (takes initial_value, step_size)


STRATEGIES: dict[str, StrategyInfo] = {
    s.name: s
    for s in (
        StrategyInfo("epsilon_greedy", "ε-greedy", {"epsilon": 0.1, "decay": 0.0}, True),
        StrategyInfo("epsilon_first", "ε-first", {"epsilon": 0.1}, True),
        StrategyInfo("epsilon_first_softmax", "ε-first, softmax exploration", {"epsilon": 0.1, "tau": 0.1}, True),
        StrategyInfo("softmax", "softmax (Boltzmann)", {"tau": 0.1}, True),
        StrategyInfo("ucb", "UCB", {"c": 2.0}, True),
        StrategyInfo("thompson", "Thompson sampling", {"prior_mean": None, "prior_std": None}, False),
        StrategyInfo("gradient", "gradient bandit", {"alpha": 0.1, "baseline": True}, False),
    )
}

VALUE_DEFAULTS: dict[str, Any] = {"initial_value": 0.0, "step_size": None}
TESTBED_DEFAULTS: dict[str, Any] = {"mu": 0.0, "sigma": 1.0, "reward_std": 1.0, "walk_std": 0.0, "true_values": None}

MAX_ARMS = 1000


@dataclass(frozen=True)
class Testbed:
    """The bandit problems: k arms, q*(a) ~ N(mu, sigma²), rewards N(q*(a), reward_std²)."""

    __test__ = False  # not a pytest class despite its name

    n_arms: int = 10
    mu: float = 0.0
    sigma: float = 1.0
    reward_std: float = 1.0
    walk_std: float = 0.0  # > 0: the true values random-walk (non-stationary)
    true_values: tuple[float, ...] | None = None  # fixed q*, the same in every run

    def __post_init__(self) -> None:
        _check_int("n_arms", self.n_arms, 2, MAX_ARMS)
        _check_real("mu", self.mu)
        for name in ("sigma", "reward_std", "walk_std"):
            _check_real(name, getattr(self, name), lo=0.0)
        if self.true_values is not None:
            values = tuple(self.true_values)
            if len(values) != self.n_arms:
                raise ValueError(f"true_values must hold n_arms = {self.n_arms} numbers, got {len(values)}")
            for v in values:
                _check_real("each of true_values", v)
            object.__setattr__(self, "true_values", tuple(float(v) for v in values))

    @property
    def stationary(self) -> bool:
        return self.walk_std == 0.0


_is_real, _check_real, _check_int = is_real, check_real, check_int  # core.checks, shared by the engines


def resolve(strategy: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split and check ``params``: (the strategy's parameters, the testbed's).

    Missing parameters get their defaults; an unknown strategy or parameter,
    or a value out of range, raises ``ValueError``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    info = STRATEGIES[strategy]
    own = dict(info.defaults)
    if info.value_based:
        own.update(VALUE_DEFAULTS)
    bed = dict(TESTBED_DEFAULTS)
    unknown = sorted(set(params) - set(own) - set(bed))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for strategy {strategy!r}; "
            f"it takes: {', '.join(own) or 'nothing'} (and the testbed's {', '.join(bed)})"
        )
    for name, value in params.items():
        (own if name in own else bed)[name] = value

    if "epsilon" in own:
        own["epsilon"] = _check_real("epsilon", own["epsilon"], 0.0, 1.0)
    if "decay" in own:
        own["decay"] = _check_real("decay", own["decay"], lo=0.0)
    if "tau" in own:
        own["tau"] = _check_real("tau (the softmax temperature)", own["tau"], lo=0.0, lo_open=True)
    if "c" in own:
        own["c"] = _check_real("c (the UCB exploration weight)", own["c"], lo=0.0)
    if "alpha" in own:
        own["alpha"] = _check_real("alpha (the gradient step size)", own["alpha"], lo=0.0, lo_open=True)
    if "baseline" in own and not isinstance(own["baseline"], (bool, np.bool_)):
        raise ValueError(f"baseline must be True or False, got {own['baseline']!r}")
    if "initial_value" in own:
        own["initial_value"] = _check_real("initial_value", own["initial_value"])
    if own.get("step_size") is not None:
        own["step_size"] = _check_real("step_size", own["step_size"], 0.0, 1.0, lo_open=True)
    if own.get("prior_mean") is not None:
        own["prior_mean"] = _check_real("prior_mean", own["prior_mean"])
    if own.get("prior_std") is not None:
        own["prior_std"] = _check_real("prior_std", own["prior_std"], lo=0.0, lo_open=True)
    return own, bed


def label(strategy: str, params: Mapping[str, Any] | None = None) -> str:
    """A short legend label, e.g. ``'ε-greedy ε=0.1'``, ``'greedy Q₁=5, α=0.1'``, ``'UCB c=2'``."""
    own, _ = resolve(strategy, params or {})
    name = STRATEGIES[strategy].title
    parts: list[str] = []
    if strategy == "epsilon_greedy":
        if own["epsilon"] == 0:
            name = "greedy"
        elif own["decay"] > 0:
            name = "decaying ε-greedy"
            parts += [f"ε₀={own['epsilon']:g}", f"decay {own['decay']:g}"]
        else:
            parts.append(f"ε={own['epsilon']:g}")
    elif strategy == "epsilon_first":
        parts.append(f"ε={own['epsilon']:g}")
    elif strategy == "epsilon_first_softmax":
        name = "ε-first + softmax"
        parts += [f"ε={own['epsilon']:g}", f"τ={own['tau']:g}"]
    elif strategy == "softmax":
        name = "softmax"
        parts.append(f"τ={own['tau']:g}")
    elif strategy == "ucb":
        if math.isclose(own["c"], math.sqrt(2.0), rel_tol=1e-9):
            name, c = "UCB1", "√2"
        else:
            c = f"{own['c']:g}"
        parts.append(f"c={c}")
    elif strategy == "thompson":
        if own["prior_mean"] is not None or own["prior_std"] is not None:
            m = "μ" if own["prior_mean"] is None else f"{own['prior_mean']:g}"
            sd = "σ" if own["prior_std"] is None else f"{own['prior_std']:g}"
            parts.append(f"prior N({m}, {sd}²)")
    elif strategy == "gradient":
        name = "gradient"
        parts += [f"α={own['alpha']:g}", "baseline" if own["baseline"] else "no baseline"]
    if own.get("initial_value"):
        parts.append(f"Q₁={own['initial_value']:g}")
    if own.get("step_size") is not None:
        parts.append(f"α={own['step_size']:g}")
    if not parts:
        return name
    return f"{name} {', '.join(parts)}"


# -- the engine: many runs at once ---------------------------------------------------
#
# Arrays are laid out arms x runs (shape k x r): reductions over the arms then
# run along the first axis, which NumPy does with fast whole-row operations,
# and sums over the arms become one BLAS product. (With runs x arms, a max or
# cumsum over a last axis of length 10 is several times slower.)


def _argmax_random_ties(values: np.ndarray, rng: np.random.Generator, index_count: np.ndarray,
                        buf: np.ndarray) -> np.ndarray:
    """Argmax over the arms (axis 0) of each run's column; exact ties broken
    uniformly at random.

    ``index_count`` is the 2 x k matrix [0, 1, ..., k-1; 1, 1, ..., 1] and
    ``buf`` a float scratch array shaped like ``values``: one product gives,
    per run, the sum of the maximising arms' indices and their number. Runs
    with a single maximum take that index; only tied runs draw random numbers.
    """
    best = values.max(axis=0)
    np.equal(values, best, out=buf)
    index_sum, count = index_count @ buf
    a = index_sum.astype(np.intp)
    tied = np.flatnonzero(count > 1.5)
    if tied.size:
        is_max = buf[:, tied] > 0.5
        a[tied] = np.where(is_max, rng.random(is_max.shape), -1.0).argmax(axis=0)
    return a


def _sample_from(weights: np.ndarray, cumulate: np.ndarray, ones: np.ndarray, rng: np.random.Generator,
                 buf: np.ndarray) -> np.ndarray:
    """One arm per run, with probabilities proportional to the run's
    non-negative ``weights`` (a k x r array), by the inverse CDF.

    ``cumulate`` is the lower-triangular k x k matrix of ones, so
    ``cumulate @ weights`` holds the running sums over the arms; the chosen arm
    is the number of running sums <= u, for u uniform on [0, total).
    """
    cdf = cumulate @ weights
    u = rng.random(cdf.shape[1]) * cdf[-1]
    np.less_equal(cdf, u, out=buf)
    return np.minimum((ones @ buf).astype(np.intp), weights.shape[0] - 1)


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, computed stably."""
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class BanditEngine:
    """``n_runs`` independent bandit problems played by one strategy, in lockstep.

    ``horizon`` is the planned number of steps (epsilon-first explores for
    round(epsilon · horizon) of them). State arrays are arms x runs: ``q``
    (true values), ``Q`` (estimates), ``N`` (pull counts), ``H`` (gradient
    preferences); ``rbar`` (gradient baseline) and ``qmax`` (best true value)
    have one entry per run. ``select``/``pull``/``learn`` are one step;
    ``policy`` gives the exact probabilities of the next choice.
    """

    def __init__(self, strategy: str, params: Mapping[str, Any], n_arms: int, n_runs: int, horizon: int,
                 rng: np.random.Generator) -> None:
        own, bed = resolve(strategy, params)
        self.strategy = strategy
        self.params = own
        self.testbed = tb = Testbed(n_arms=n_arms, **bed)
        self.n_runs = r = _check_int("n_runs", n_runs, 1)
        self.horizon = _check_int("n_steps", horizon, 1)
        self.rng = rng
        self.k = k = tb.n_arms
        self.cols = np.arange(r)
        if tb.true_values is not None:
            self.q = np.repeat(np.asarray(tb.true_values, dtype=float)[:, None], r, axis=1)
        else:
            self.q = tb.mu + tb.sigma * rng.standard_normal((k, r))
        self.qmax = self.q.max(axis=0)
        self.Q = np.full((k, r), float(own.get("initial_value", 0.0)))
        self.N = np.zeros((k, r))
        self.H = np.zeros((k, r)) if strategy == "gradient" else None
        self.rbar = np.zeros(r)
        self.t = 0  # steps completed; the next step is t + 1
        self._pi: np.ndarray | None = None  # gradient: the policy the last choice used
        self._buf = np.empty((k, r))
        self._ones = np.ones(k)
        self._index_count = np.stack([np.arange(k, dtype=float), self._ones])
        self._cumulate = np.tril(np.ones((k, k)))
        self._inv_sqrt_n = np.full((k, r), np.inf) if strategy == "ucb" else None  # 1/sqrt(N); inf if N = 0
        eps = own.get("epsilon", 0.0)
        self.n_explore = math.floor(eps * self.horizon + 0.5) if strategy.startswith("epsilon_first") else 0
        if strategy == "thompson":
            self.prior_mean = tb.mu if own["prior_mean"] is None else own["prior_mean"]
            default_std = tb.sigma if tb.sigma > 0 else 1.0
            self.prior_std = default_std if own["prior_std"] is None else own["prior_std"]

    # -- what the strategy believes ---------------------------------------------------
    def epsilon_now(self) -> float:
        """ε for the next step (epsilon-greedy; 0 for the others)."""
        if self.strategy != "epsilon_greedy":
            return 0.0
        return self.params["epsilon"] / (1.0 + self.params["decay"] * self.t)

    def exploring_phase(self) -> bool:
        """Epsilon-first strategies: is the next step in the exploration phase?"""
        return self.t < self.n_explore

    def ucb_scores(self) -> np.ndarray:
        """Q + c·sqrt(ln t / N) for the next step t; +inf for arms never pulled."""
        coef = self.params["c"] * math.sqrt(math.log(self.t + 1))
        if coef == 0.0:  # c = 0, or t = 1 (ln 1 = 0): no bonus, untried arms still first
            return np.where(self.N > 0, self.Q, np.inf)
        return self.Q + coef * self._inv_sqrt_n  # inf where N = 0

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Thompson sampling: each arm's posterior mean and standard deviation."""
        v0 = self.prior_std**2
        s2 = self.testbed.reward_std**2
        n = self.N
        if s2 > 0:
            precision = 1.0 / v0 + n / s2
            mean = (self.prior_mean / v0 + n * self.Q / s2) / precision
            return mean, 1.0 / np.sqrt(precision)
        pulled = n > 0  # noiseless rewards: one pull reveals the value exactly
        return np.where(pulled, self.Q, self.prior_mean), np.where(pulled, 0.0, self.prior_std)

    def _boltzmann(self, x: np.ndarray, tau: float = 1.0) -> np.ndarray:
        """Unnormalised softmax weights exp((x − max x) / τ) over the arms."""
        return np.exp((x - x.max(axis=0)) / tau)

    @staticmethod
    def _greedy_probs(values: np.ndarray) -> np.ndarray:
        is_max = values == values.max(axis=0)
        return is_max / is_max.sum(axis=0)

    def policy(self, mc_samples: int = 4000, rng: np.random.Generator | None = None) -> np.ndarray:
        """Probability of each arm at the next step, one row per run (runs x arms).

        Exact for every strategy but Thompson sampling, whose probabilities
        (the posterior probability that each arm is best) are estimated from
        ``mc_samples`` posterior draws of ``rng`` (a fixed seed by default).
        """
        s, k = self.strategy, self.k
        uniform = np.full((k, self.n_runs), 1.0 / k)
        if s == "epsilon_greedy":
            eps = self.epsilon_now()
            probs = eps * uniform + (1.0 - eps) * self._greedy_probs(self.Q)
        elif s in ("epsilon_first", "epsilon_first_softmax"):
            if not self.exploring_phase():
                probs = self._greedy_probs(self.Q)
            elif s == "epsilon_first":
                probs = uniform
            else:
                w = self._boltzmann(self.Q, self.params["tau"])
                probs = w / w.sum(axis=0)
        elif s == "softmax":
            w = self._boltzmann(self.Q, self.params["tau"])
            probs = w / w.sum(axis=0)
        elif s == "ucb":
            probs = self._greedy_probs(self.ucb_scores())
        elif s == "gradient":
            w = self._boltzmann(self.H)
            probs = w / w.sum(axis=0)
        else:  # thompson: Monte Carlo over the posterior, a few runs at a time (bounded memory)
            rng = np.random.default_rng(12345) if rng is None else rng
            mean, sd = self.posterior()
            out = np.empty((self.n_runs, k))
            chunk = max(1, 2_000_000 // (mc_samples * k))
            for lo in range(0, self.n_runs, chunk):
                m, s = mean.T[lo:lo + chunk, None, :], sd.T[lo:lo + chunk, None, :]
                winners = (m + s * rng.standard_normal((m.shape[0], mc_samples, k))).argmax(axis=2)
                out[lo:lo + chunk] = [np.bincount(w, minlength=k) / mc_samples for w in winners]
            return out
        return probs.T.copy()

    # -- one step ----------------------------------------------------------------
    def _argmax(self, values: np.ndarray) -> np.ndarray:
        return _argmax_random_ties(values, self.rng, self._index_count, self._buf)

    def _sample(self, weights: np.ndarray) -> np.ndarray:
        return _sample_from(weights, self._cumulate, self._ones, self.rng, self._buf)

    def select(self) -> np.ndarray:
        """Each run's action (arm index) for the next step."""
        s, rng, r = self.strategy, self.rng, self.n_runs
        if s == "epsilon_greedy":
            a = self._argmax(self.Q)
            eps = self.epsilon_now()
            if eps > 0:
                explore = np.flatnonzero(rng.random(r) < eps)
                if explore.size:
                    a[explore] = rng.integers(self.k, size=explore.size)
            return a
        if s in ("epsilon_first", "epsilon_first_softmax"):
            if not self.exploring_phase():
                return self._argmax(self.Q)
            if s == "epsilon_first":
                return rng.integers(self.k, size=r)
            return self._sample(self._boltzmann(self.Q, self.params["tau"]))
        if s == "softmax":
            return self._sample(self._boltzmann(self.Q, self.params["tau"]))
        if s == "ucb":
            return self._argmax(self.ucb_scores())
        if s == "thompson":
            mean, sd = self.posterior()
            return self._argmax(mean + sd * rng.standard_normal(mean.shape))
        # gradient: remember the policy; the update needs pi_t
        w = self._boltzmann(self.H)
        self._pi = w / (self._ones @ w)
        return self._sample(self._pi)

    def pull(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(true value of each run's chosen arm, its reward)."""
        qa = self.q.reshape(-1)[actions * self.n_runs + self.cols]
        std = self.testbed.reward_std
        rewards = qa + std * self.rng.standard_normal(self.n_runs) if std > 0 else qa.copy()
        return qa, rewards

    def learn(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        """Update counts and estimates (or preferences) with the rewards, then
        let the true values drift when the testbed is non-stationary."""
        flat = actions * self.n_runs + self.cols
        n_flat = self.N.reshape(-1)
        n = n_flat[flat] + 1.0
        n_flat[flat] = n
        self.t += 1
        if self.strategy == "gradient":
            alpha = self.params["alpha"]
            if self.params["baseline"]:
                base = rewards if self.t == 1 else self.rbar  # R̄_t: mean reward before t; R̄_1 = R_1
            else:
                base = 0.0
            delta = alpha * (rewards - base)
            self.H -= delta * self._pi  # every arm: −α (R − R̄) π(a)
            self.H.reshape(-1)[flat] += delta  # the chosen arm: + α (R − R̄)
            self.rbar += (rewards - self.rbar) / self.t
        else:
            q_flat = self.Q.reshape(-1)
            old = q_flat[flat]
            step = self.params.get("step_size")
            q_flat[flat] = old + (rewards - old) * ((1.0 / n) if step is None else step)
            if self._inv_sqrt_n is not None:
                self._inv_sqrt_n.reshape(-1)[flat] = 1.0 / np.sqrt(n)
        if self.testbed.walk_std > 0:
            self.q += self.testbed.walk_std * self.rng.standard_normal(self.q.shape)
            self.qmax = self.q.max(axis=0)

    def step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Play one step in every run: (actions, their true values, the best
        true value at that moment, rewards)."""
        a = self.select()
        qa, rewards = self.pull(a)
        qmax = self.qmax
        self.learn(a, rewards)
        return a, qa, qmax, rewards


# -- many runs, averaged -------------------------------------------------------------


FINAL_FRACTION = 0.1  # "final" reward: the last 10 % of the steps


def _tail(n_steps: int, fraction: float) -> slice:
    n = max(1, round(n_steps * fraction))
    return slice(n_steps - n, n_steps)


def _se(per_run: np.ndarray) -> float:
    n = len(per_run)
    return float(per_run.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")


@dataclass(frozen=True)
class TestbedResult:
    """Per-step averages over the runs (arrays of length ``n_steps``).

    ``avg_reward[t]``: mean reward at step t + 1; ``optimal_action[t]``:
    fraction of runs whose action at step t + 1 had the highest true value;
    ``regret[t]``: mean cumulative regret Σ_{s<=t+1} (max_a q*_s(a) − q*_s(A_s));
    ``reward_se[t]``: standard error of ``avg_reward[t]`` over the runs;
    ``best_value[t]``: mean over runs of max_a q*(a) (what an oracle earns).
    Per run (arrays of length ``n_runs``): ``run_mean_reward`` (its average
    reward over all steps) and ``run_final_reward`` (over the last
    ``FINAL_FRACTION`` of the steps). Averages over steps of one run are
    correlated (the same arms), so their standard errors come from these
    per-run values, not from ``reward_se``.
    """

    __test__ = False  # not a pytest class despite its name

    strategy: str
    label: str
    params: dict[str, Any]
    n_arms: int
    n_runs: int
    n_steps: int
    seed: int
    avg_reward: np.ndarray
    optimal_action: np.ndarray
    regret: np.ndarray
    reward_se: np.ndarray
    best_value: np.ndarray
    run_mean_reward: np.ndarray
    run_final_reward: np.ndarray

    def tail(self, fraction: float = FINAL_FRACTION) -> slice:
        """The last ``fraction`` of the steps (at least one)."""
        return _tail(self.n_steps, fraction)

    @property
    def mean_reward(self) -> float:
        """Average reward over all steps (the y-axis of S&B figure 2.6)."""
        return float(self.run_mean_reward.mean())

    @property
    def mean_reward_se(self) -> float:
        """Standard error of ``mean_reward`` over the runs."""
        return _se(self.run_mean_reward)

    def final_reward(self, fraction: float = FINAL_FRACTION) -> float:
        """Average reward over the last ``fraction`` of the steps."""
        return float(self.avg_reward[self.tail(fraction)].mean())

    @property
    def final_reward_se(self) -> float:
        """Standard error of ``final_reward()`` (last ``FINAL_FRACTION`` of the steps) over the runs."""
        return _se(self.run_final_reward)

    def final_optimal(self, fraction: float = FINAL_FRACTION) -> float:
        """Fraction of optimal actions over the last ``fraction`` of the steps."""
        return float(self.optimal_action[self.tail(fraction)].mean())



def run_testbed(strategy: str, n_arms: int = 10, n_runs: int = 2000, n_steps: int = 1000, seed: int = 0,
                **params: Any) -> TestbedResult:
    """Play ``n_runs`` bandit problems for ``n_steps`` steps with ``strategy``.

    >>> res = run_testbed("epsilon_greedy", n_runs=200, n_steps=100, epsilon=0.1)
    >>> res.avg_reward.shape, 0.0 <= res.optimal_action.min() <= res.optimal_action.max() <= 1.0
    ((100,), True)

    See the module docstring for the strategies, their parameters and the
    testbed options. Reproducible: the same arguments give the same result.
    """
    _check_int("n_steps", n_steps, 1)
    _check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    eng = BanditEngine(strategy, params, n_arms, n_runs, n_steps, rng)
    sum_r = np.empty(n_steps)
    sum_r2 = np.empty(n_steps)
    n_opt = np.empty(n_steps)
    sum_qa = np.empty(n_steps)
    sum_best = np.empty(n_steps)
    best_total = float(eng.qmax.sum())
    moving = not eng.testbed.stationary
    run_total = np.zeros(eng.n_runs)
    run_final = np.zeros(eng.n_runs)
    final = _tail(n_steps, FINAL_FRACTION)
    for t in range(n_steps):
        _, qa, qmax, r = eng.step()
        run_total += r
        if t >= final.start:
            run_final += r
        sum_r[t] = r.sum()
        sum_r2[t] = r @ r
        n_opt[t] = np.count_nonzero(qa == qmax)
        sum_qa[t] = qa.sum()
        sum_best[t] = qmax.sum() if moving else best_total
    runs = eng.n_runs
    mean = sum_r / runs
    var = np.maximum(sum_r2 / runs - mean**2, 0.0) * (runs / max(runs - 1, 1))
    return TestbedResult(
        strategy=strategy,
        label=label(strategy, {k: v for k, v in params.items() if k not in TESTBED_DEFAULTS}),
        params=eng.params,
        n_arms=eng.k,
        n_runs=runs,
        n_steps=n_steps,
        seed=seed,
        avg_reward=mean,
        optimal_action=n_opt / runs,
        regret=np.cumsum(sum_best - sum_qa) / runs,
        reward_se=np.sqrt(var / runs),
        best_value=sum_best / runs,
        run_mean_reward=run_total / n_steps,
        run_final_reward=run_final / (final.stop - final.start),
    )


# -- parameter studies (Sutton & Barto figure 2.6) --------------------------------------


@dataclass(frozen=True)
class StudyFamily:
    """One curve of a parameter study: a strategy, the swept parameter and its values."""

    key: str
    title: str
    strategy: str
    param: str  # the swept parameter
    symbol: str  # its symbol on the x-axis
    exponents: tuple[int, ...]  # the values are 2**exponent
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(2.0**e for e in self.exponents)

    def params(self, value: float) -> dict[str, Any]:
        return {**dict(self.fixed), self.param: value}


STUDY_FAMILIES: dict[str, StudyFamily] = {
    f.key: f
    for f in (
        StudyFamily("epsilon_greedy", "ε-greedy", "epsilon_greedy", "epsilon", "ε", tuple(range(-7, -1))),
        StudyFamily("gradient", "gradient bandit", "gradient", "alpha", "α", tuple(range(-5, 2))),
        StudyFamily("ucb", "UCB", "ucb", "c", "c", tuple(range(-4, 3))),
        StudyFamily("optimistic", "greedy, optimistic Q₁ (α = 0.1)", "epsilon_greedy", "initial_value", "Q₁",
                    tuple(range(-2, 3)), (("epsilon", 0.0), ("step_size", 0.1))),
        StudyFamily("softmax", "softmax", "softmax", "tau", "τ", tuple(range(-7, 1))),
        StudyFamily("epsilon_first", "ε-first", "epsilon_first", "epsilon", "ε", tuple(range(-7, 0))),
    )
}
BOOK_FAMILIES = ("epsilon_greedy", "gradient", "ucb", "optimistic")  # the four curves of figure 2.6

# What a point of the study measures: the average reward over all steps (the book's score) or over the last
# FINAL_FRACTION of them.
STUDY_METRICS: dict[str, str] = {"all": "all steps (as in the book)", "last": "the last 10 % of steps"}
STUDY_REFERENCE = "Thompson sampling"  # the parameter-free strategy a study can draw as a horizontal line


@dataclass(frozen=True)
class StudyCurve:
    """One family of a parameter study: y (and its standard error) at each x = 2**exponent."""

    title: str
    symbol: str
    exponents: tuple[int, ...]
    rewards: np.ndarray
    se: np.ndarray


def study_lineup(families: Sequence[StudyFamily], thompson: bool = False) -> list[tuple[str, str, tuple]]:
    """The testbed runs of a parameter study, in order: (label, strategy, params) for every value of every
    family, then Thompson sampling when ``thompson`` (the reference line)."""
    jobs = [(f"{f.title}, {f.symbol} = {v:g}", f.strategy, tuple(sorted(f.params(v).items())))
            for f in families for v in f.values]
    if thompson:
        jobs.append((STUDY_REFERENCE, "thompson", ()))
    return jobs


def study_score(result: TestbedResult, metric: str = "all") -> tuple[float, float]:
    """A study point: (average reward, its standard error) over all steps or the last ones (``STUDY_METRICS``)."""
    if metric == "all":
        return result.mean_reward, result.mean_reward_se
    if metric == "last":
        return result.final_reward(), result.final_reward_se
    raise ValueError(f"unknown study metric {metric!r}; choose one of: {', '.join(STUDY_METRICS)}")


def study_curves(families: Sequence[StudyFamily], results: Sequence[TestbedResult], metric: str = "all",
                 thompson: bool = False) -> tuple[list[StudyCurve], dict[str, tuple[float, float]] | None]:
    """The curves of a parameter study from the results of ``study_lineup(families, thompson)`` (same order),
    and the reference line (name -> (value, se)) when ``thompson``, else None."""
    expected = sum(len(f.values) for f in families) + bool(thompson)
    if len(results) != expected:
        raise ValueError(f"a study of these families takes {expected} results, got {len(results)}")
    curves, i = [], 0
    for f in families:
        scores = [study_score(r, metric) for r in results[i:i + len(f.values)]]
        i += len(f.values)
        curves.append(StudyCurve(f.title, f.symbol, f.exponents, np.array([s[0] for s in scores]),
                                 np.array([s[1] for s in scores])))
    reference = {STUDY_REFERENCE: study_score(results[-1], metric)} if thompson else None
    return curves, reference


def best_study_point(curves: Sequence[StudyCurve]) -> tuple[StudyCurve, float, float] | None:
    """The highest point of a study: (its curve, the parameter value 2**exponent, the reward); None without curves."""
    if not curves:
        return None
    best = max(curves, key=lambda c: c.rewards.max())
    j = int(best.rewards.argmax())
    return best, 2.0 ** best.exponents[j], float(best.rewards[j])



# -- presets: the book's figures and the seed's strategies -------------------------------


@dataclass(frozen=True)
class Preset:
    """A lineup of strategies on a testbed, e.g. one of Sutton & Barto's figures."""

    key: str
    title: str
    lineup: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]  # (strategy, params) pairs
    look_for: str  # what the learner should notice (and what the book reports)
    testbed: tuple[tuple[str, Any], ...] = ()  # overrides of the Testbed defaults
    n_runs: int = 2000
    n_steps: int = 1000

    def contenders(self) -> list[tuple[str, dict[str, Any]]]:
        return [(strategy, dict(params)) for strategy, params in self.lineup]

    def testbed_params(self) -> dict[str, Any]:
        return dict(self.testbed)


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "fig22", "S&B fig. 2.2: greedy vs ε-greedy (ε = 0, 0.01, 0.1)",
            (("epsilon_greedy", (("epsilon", 0.0),)), ("epsilon_greedy", (("epsilon", 0.01),)),
             ("epsilon_greedy", (("epsilon", 0.1),))),
            "The greedy learner locks onto the first arm that looks good and stays near 1.0 average "
            "reward, picking the best arm in only about a third of the runs. ε = 0.1 explores enough to "
            "find the best arm in about 80 % of runs by step 1,000 (average reward near 1.35-1.4); "
            "ε = 0.01 learns more slowly but would overtake it in the long run.",
        ),
        Preset(
            "fig23", "S&B fig. 2.3: optimistic initial values (Q₁ = 5) vs ε-greedy",
            (("epsilon_greedy", (("epsilon", 0.0), ("initial_value", 5.0), ("step_size", 0.1))),
             ("epsilon_greedy", (("epsilon", 0.1), ("initial_value", 0.0), ("step_size", 0.1)))),
            "Starting every estimate at 5, far above any true value, makes even a greedy learner try "
            "every arm: each reward disappoints, so it moves on. It explores a lot early (note the dip), "
            "then beats ε-greedy on % optimal action. Both use a constant step size α = 0.1.",
        ),
        Preset(
            "fig24", "S&B fig. 2.4: UCB (c = 2) vs ε-greedy (ε = 0.1)",
            (("ucb", (("c", 2.0),)), ("epsilon_greedy", (("epsilon", 0.1),))),
            "UCB pulls every arm once (steps 1-10), then at step 11 picks the arm whose single reward "
            "was highest: a spike in average reward. From about step 100 on it stays above "
            "ε-greedy, because it explores arms in proportion to how uncertain they still are.",
        ),
        Preset(
            "fig25", "S&B fig. 2.5: gradient bandit with and without baseline (q* ~ N(4, 1))",
            (("gradient", (("alpha", 0.1), ("baseline", True))), ("gradient", (("alpha", 0.1), ("baseline", False))),
             ("gradient", (("alpha", 0.4), ("baseline", True))), ("gradient", (("alpha", 0.4), ("baseline", False)))),
            "Here every true value is shifted up by 4. With the average reward as a baseline the "
            "preferences only move for better-than-usual rewards, and the shift does not matter. "
            "Without it every reward looks good, whatever arm gave it, and learning is much worse.",
            testbed=(("mu", 4.0),),
        ),
        Preset(
            "seed", "The classic four: ε-first, ε-first with softmax, ε-greedy, UCB1",
            (("epsilon_first", (("epsilon", 0.1),)), ("epsilon_first_softmax", (("epsilon", 0.1), ("tau", 0.5))),
             ("epsilon_greedy", (("epsilon", 0.1),)), ("ucb", (("c", math.sqrt(2.0)),))),
            "ε-first spends its first 10 % of pulls exploring (rewards near 0, the average arm), then "
            "only exploits what it learned: a sudden jump at step 100. Softmax exploration spends those "
            "pulls more on promising arms. ε-greedy keeps exploring forever; UCB1 explores where it is "
            "still unsure.",
        ),
        Preset(
            "beyond", "Beyond ε: softmax, decaying ε, Thompson sampling, gradient bandit",
            (("softmax", (("tau", 0.2),)), ("epsilon_greedy", (("epsilon", 1.0), ("decay", 0.05))),
             ("thompson", ()), ("gradient", (("alpha", 0.1), ("baseline", True)))),
            "Decaying ε explores a lot at first and less and less later. Thompson sampling keeps a "
            "belief (a normal posterior) about each arm and pulls each arm with the probability that "
            "it is the best one: on this testbed it is hard to beat.",
        ),
        Preset(
            "nonstat", "Non-stationary: sample averages vs a constant step size (S&B exercise 2.5)",
            (("epsilon_greedy", (("epsilon", 0.1),)), ("epsilon_greedy", (("epsilon", 0.1), ("step_size", 0.1)))),
            "All arms start equal, then every true value takes a small random step (standard deviation "
            "0.01) after each pull. Sample averages weigh a reward from step 10 as much as one from step "
            "4,000, so they fall behind; a constant step size α = 0.1 forgets old rewards and keeps up.",
            testbed=(("sigma", 0.0), ("walk_std", 0.01)), n_runs=500, n_steps=5000,
        ),
    )
}


# -- one run, step by step (the live view) ----------------------------------------------


@dataclass(frozen=True)
class BanditRunConfig:
    """Everything that defines one animated run (hashable: the live panel's signature)."""

    strategy: str = "ucb"
    params: tuple[tuple[str, Any], ...] = ()
    testbed: Testbed = Testbed()
    n_steps: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int("n_steps", self.n_steps, 1)
        _check_int("seed", self.seed, 0)
        resolve(self.strategy, dict(self.params))  # fail early on bad settings


@dataclass
class BanditSnapshot(Snapshot):
    """One run's state after ``step`` steps (all arrays indexed by arm unless said)."""

    strategy: str = ""
    label: str = ""
    true_values: np.ndarray | None = None
    estimates: np.ndarray | None = None  # Q (or Thompson's posterior mean); None for gradient
    upper: np.ndarray | None = None  # UCB score or upper end of Thompson's 95 % interval; inf: untried
    lower: np.ndarray | None = None  # lower end of Thompson's 95 % interval
    bound_name: str = ""
    counts: np.ndarray | None = None
    probabilities: np.ndarray | None = None  # chance of each arm at the next step
    preferences: np.ndarray | None = None  # gradient bandit's H
    baseline: float | None = None  # gradient bandit's R̄
    epsilon: float | None = None  # epsilon-greedy's ε for the next step
    phase: str = ""  # epsilon-first: "exploring" / "exploiting"
    last_action: int | None = None
    last_reward: float | None = None
    rewards: np.ndarray | None = None  # per step
    optimal: np.ndarray | None = None  # per step: was the action optimal?
    regret: np.ndarray | None = None  # cumulative


class BanditRun(RunBase):
    """A single bandit run advanced a few steps at a time (``core.snapshot.RunBase``: one step is one pull)."""

    def __init__(self, config: BanditRunConfig) -> None:
        super().__init__(config, max_steps=config.n_steps)
        tb = config.testbed
        params = {**dict(config.params), "mu": tb.mu, "sigma": tb.sigma, "reward_std": tb.reward_std,
                  "walk_std": tb.walk_std, "true_values": tb.true_values}
        self.engine = BanditEngine(config.strategy, params, tb.n_arms, 1, config.n_steps,
                                   np.random.default_rng(config.seed))
        self.label = label(config.strategy, dict(config.params))
        self._rewards: list[float] = []
        self._optimal: list[bool] = []
        self._regret: list[float] = []
        self._last: tuple[int, float] | None = None

    def advance(self, steps: int) -> int:
        """Pull ``steps`` times (fewer at the end of the run); returns the pulls made."""
        n = self._steps_allowed(int(steps))
        eng = self.engine
        for _ in range(n):
            a, qa, qmax, r = eng.step()
            self._rewards.append(float(r[0]))
            self._optimal.append(bool(qa[0] == qmax[0]))
            self._regret.append(float(qmax[0] - qa[0]))
            self._last = (int(a[0]), float(r[0]))
        self.step += n
        return n

    def snapshot(self) -> BanditSnapshot:
        eng = self.engine
        s = eng.strategy
        estimates = upper = lower = preferences = None
        baseline = epsilon = None
        bound_name = phase = ""
        if eng.params.get("initial_value") is not None:  # value-based
            estimates = eng.Q[:, 0].copy()
        if s == "ucb":
            upper = eng.ucb_scores()[:, 0]
            bound_name = "UCB score Q + c√(ln t / N)"
        elif s == "thompson":
            mean, sd = eng.posterior()
            mean, sd = mean[:, 0], sd[:, 0]
            estimates, upper, lower = mean, mean + 1.96 * sd, mean - 1.96 * sd
            bound_name = "95 % posterior interval"
        elif s == "gradient":
            preferences = eng.H[:, 0].copy()
            baseline = float(eng.rbar[0]) if eng.t else None
        if s == "epsilon_greedy":
            epsilon = eng.epsilon_now()
        if s.startswith("epsilon_first"):
            phase = "exploring" if eng.exploring_phase() else "exploiting"
        rewards = np.asarray(self._rewards)
        optimal = np.asarray(self._optimal, dtype=bool)
        metrics = {}
        if self.step:
            metrics = {"average reward": float(rewards.mean()), "optimal (%)": 100.0 * float(optimal.mean()),
                       "regret": float(np.sum(self._regret))}
        return BanditSnapshot(
            step=self.step, done=self.done, error=self.error, metrics=metrics,
            strategy=s, label=self.label, true_values=eng.q[:, 0].copy(), estimates=estimates,
            upper=upper, lower=lower, bound_name=bound_name, counts=eng.N[:, 0].astype(int),
            probabilities=eng.policy(rng=np.random.default_rng(self.config.seed + 7919 * self.step))[0],
            preferences=preferences, baseline=baseline, epsilon=epsilon, phase=phase,
            last_action=None if self._last is None else self._last[0],
            last_reward=None if self._last is None else self._last[1],
            rewards=rewards, optimal=optimal, regret=np.cumsum(self._regret),
        )


# -- the page's controls: one table (core.params) --------------------------------------------
#
# The page lines up SLOTS contenders (a strategy and its parameters each) on one testbed. Every control is
# declared once below: its name (a Testbed field, a BanditRunConfig field, or a page setting), its label and
# its readable name in a link, with the one-letter codes older links used. The page opens with the
# DEFAULT_PRESET loaded; a link that names another preset starts every control it leaves out from that
# preset (``preset_table``).

SLOTS = 4  # contenders side by side
NONE = "none"  # an empty slot
DEFAULT_PRESET = "fig22"
SAMPLE_AVERAGE = 0.0  # the step-size control's value for 1/n: sample averages (step_size=None)
SQRT2 = math.sqrt(2.0)
TITLES: dict[str, str] = {NONE: "— (empty)", **{k: v.title for k, v in STRATEGIES.items()}}
WALK_OPTIONS = (0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1)
STEPS_OPTIONS = (100, 200, 500, 1000, 2000, 5000)
RUNS_OPTIONS = (100, 200, 500, 1000, 2000, 5000)
VIEWS: dict[str, str] = {"average": "📈 Average over many runs", "study": "🎚️ Parameter study",
                         "single": "🎰 Watch one run, pull by pull"}


def _strategy_param_defaults() -> dict[str, Any]:
    """Each strategy parameter's default (``STRATEGIES``, ``VALUE_DEFAULTS``); a parameter shared by several
    strategies must have one default."""
    out: dict[str, Any] = {}
    for info in STRATEGIES.values():
        for name, value in {**info.defaults, **(VALUE_DEFAULTS if info.value_based else {})}.items():
            if out.setdefault(name, value) != value:
                raise ValueError(f"{name} has two defaults: {out[name]!r} and {value!r}")
    return out


PARAM_DEFAULTS = _strategy_param_defaults()


def _format_c(v: float) -> str:
    return "√2 (UCB1)" if math.isclose(v, SQRT2) else f"{v:g}"


def _format_step_size(v: float) -> str:
    return "1/n (sample average)" if v == SAMPLE_AVERAGE else f"α = {v:g}"


# strategy parameter -> (its letter in the links before the table, its control without a slot)
STRATEGY_CONTROLS: dict[str, tuple[str, Param]] = {
    "epsilon": ("e", Param(
        "epsilon", "ε (share of random pulls)", "select_slider",
        options=(0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0), format_func="{:g}".format,
        help=("ε-greedy: the chance of a random arm at each step. ε-first: the share of all steps spent "
              "exploring at the start."))),
    "decay": ("d", Param(
        "decay", "ε decay", "select_slider", options=(0.0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5),
        format_func="{:g}".format,
        help="0 keeps ε constant. Otherwise ε at step t is ε / (1 + decay·(t − 1)): it shrinks like 1/t.")),
    "tau": ("t", Param(
        "tau", "τ (temperature)", "select_slider", options=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
        format_func="{:g}".format, help="Softmax temperature: small τ is nearly greedy, large τ nearly uniform.")),
    "c": ("c", Param(
        "c", "c (confidence weight)", "select_slider", options=(0.0, 0.25, 0.5, 1.0, SQRT2, 2.0, 3.0, 4.0),
        format_func=_format_c, help="How much UCB values uncertainty; c = √2 is UCB1.")),
    "alpha": ("a", Param(
        "alpha", "α (preference step size)", "select_slider", options=(0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6),
        format_func="{:g}".format, help="How far one reward moves the gradient bandit's preferences.")),
    "baseline": ("b", Param(
        "baseline", "baseline R̄ (average reward)", "checkbox",
        help="Subtract the average reward so far before updating preferences.")),
    "initial_value": ("q", Param(
        "initial_value", "Q₁ (initial estimate)", "select_slider", options=(0.0, 0.5, 1.0, 2.0, 5.0, 10.0),
        format_func="{:g}".format,
        help=("The estimate of every arm before any pull. A large value is 'optimistic': every first reward "
              "disappoints, so the learner tries the other arms."))),
    "step_size": ("z", Param(
        "step_size", "estimate step size", "select_slider", options=(SAMPLE_AVERAGE, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0),
        format_func=_format_step_size,
        help=("1/n: sample averages (every reward counts the same). A constant α weighs recent rewards more, "
              "which tracks a non-stationary problem."))),
}


def slot_params(strategy: str) -> list[str]:
    """The parameters of ``strategy`` that a slot shows a control for, in order (none for an empty slot)."""
    if strategy == NONE:
        return []
    info = STRATEGIES[strategy]
    names = [p for p in info.defaults if p in STRATEGY_CONTROLS]
    return names + (list(VALUE_DEFAULTS) if info.value_based else [])


def control_name(param: str, slot: int) -> str:
    """The control of strategy parameter ``param`` in ``slot`` (also its name in a link): ``epsilon_1``."""
    return f"{param}_{slot}"


def study_control(family: str) -> str:
    """The check box of study family ``family`` (also its name in a link): ``study_ucb``."""
    return f"study_{family}"


def _control_value(param: str, value: Any) -> Any:
    return SAMPLE_AVERAGE if param == "step_size" and value is None else value


def _strategy_value(param: str, value: Any) -> Any:
    return None if param == "step_size" and value == SAMPLE_AVERAGE else value


def contender_from(values: Mapping[str, Any], slot: int) -> tuple[str, tuple[tuple[str, Any], ...]] | None:
    """``slot``'s (strategy, params) from the controls' values; None for an empty slot."""
    strategy = values[control_name("strategy", slot)]
    if strategy == NONE:
        return None
    return strategy, tuple((p, _strategy_value(p, values[control_name(p, slot)])) for p in slot_params(strategy))


_TESTBED_CONTROLS = ("n_arms", "mu", "sigma", "reward_std", "walk_std")


def preset_controls(key: str) -> dict[str, Any]:
    """The values preset ``key`` gives the controls it sets: each slot's strategy and that strategy's
    parameters, the testbed and its size (the others keep their defaults when it loads)."""
    preset = PRESETS[key]
    lineup = preset.contenders()
    values: dict[str, Any] = {}
    for slot in range(1, SLOTS + 1):
        strategy, params = lineup[slot - 1] if slot <= len(lineup) else (NONE, {})
        values[control_name("strategy", slot)] = strategy
        for param in slot_params(strategy):
            values[control_name(param, slot)] = _control_value(param, params.get(param, PARAM_DEFAULTS[param]))
    bed, defaults = preset.testbed_params(), Testbed()
    values.update({name: bed.get(name, getattr(defaults, name)) for name in _TESTBED_CONTROLS})
    values.update(n_steps=preset.n_steps, n_runs=preset.n_runs)
    return values


def _build_params() -> list[Param]:
    start = preset_controls(DEFAULT_PRESET)
    params = [Param("preset", "Start from a preset", "selectbox", options=tuple(PRESETS), default=DEFAULT_PRESET,
                    format_func=lambda k: PRESETS[k].title,
                    help="Loads a lineup and testbed; you can then change anything.")]
    for slot in range(1, SLOTS + 1):
        params.append(Param(
            control_name("strategy", slot), f"Strategy {slot}", "selectbox", options=(NONE, *STRATEGIES),
            default=start[control_name("strategy", slot)], format_func=TITLES.get, old=(f"s{slot}",)))
        for param, (letter, control) in STRATEGY_CONTROLS.items():
            name = control_name(param, slot)
            default = start.get(name, _control_value(param, PARAM_DEFAULTS[param]))
            params.append(dataclasses.replace(control, name=name, url=name, default=default, old=(f"{letter}{slot}",)))
    params += [
        Param("n_arms", "Arms k", "slider", url="arms", lo=2, hi=50, old=("k",),
              help="How many slot machines (actions)."),
        Param("mu", "Mean of true values μ", "slider", url="mean", lo=-5.0, hi=5.0, step=0.5, old=("mu",),
              help="Each run draws every arm's true value q*(a) from N(μ, σ²)."),
        Param("sigma", "Spread of true values σ", "slider", url="spread", lo=0.0, hi=3.0, step=0.25, old=("sigma",),
              help="0: all arms start equal."),
        Param("reward_std", "Reward noise (sd)", "slider", url="reward_noise", lo=0.0, hi=4.0, step=0.25,
              old=("noise",), help="A pull of arm a pays q*(a) plus normal noise with this standard deviation."),
        Param("walk_std", "Random walk of true values (sd per step)", "select_slider", url="walk",
              options=WALK_OPTIONS, format_func=lambda v: "0 (stationary)" if v == 0 else f"{v:g}",
              help="Non-stationary bandit: after every step each q*(a) moves by N(0, sd²)."),
        Param("n_steps", "Steps per run", "select_slider", url="steps", options=STEPS_OPTIONS,
              default=start["n_steps"], format_func="{:,}".format),
        Param("n_runs", "Runs (independent bandit problems)", "select_slider", url="runs", options=RUNS_OPTIONS,
              default=start["n_runs"], format_func="{:,}".format,
              help="Curves average over this many runs. More runs: smoother curves, slower."),
        Param("seed", "Random seed", "number", lo=0, hi=999_999, step=1, default=BanditRunConfig.seed,
              help="The same seed replays exactly the same runs."),
        Param("view", "View", "radio", options=tuple(VIEWS), default="average", format_func=VIEWS.get,
              widget_args={"horizontal": True, "label_visibility": "collapsed"}),
        # the options are the slots in use: the page passes them
        Param("watch", "Strategy to watch", "selectbox", options=tuple(range(1, SLOTS + 1)), default=1),
    ]
    old_keys = {"epsilon_greedy": "egreedy", "epsilon_first": "efirst"}  # the families' keys before the table
    for key, family in STUDY_FAMILIES.items():
        params.append(Param(study_control(key), family.title, "checkbox", default=key in BOOK_FAMILIES,
                            old=(f"f_{old_keys.get(key, key)}",)))
    params += [
        Param("study_thompson", "Thompson (reference line)", "checkbox", default=False, old=("f_thompson",),
              help="Thompson sampling has no parameter to tune: a horizontal line."),
        Param("study_runs", "Runs per point", "select_slider", options=(100, 200, 500, 1000, 2000), default=200,
              format_func="{:,}".format, old=("sruns",), help="The book used 2,000; fewer is faster."),
        Param("study_metric", "Reward measured over", "radio", options=tuple(STUDY_METRICS), default="all",
              format_func=STUDY_METRICS.get, widget_args={"horizontal": True}, old=("smetric",)),
    ]
    return params


PARAMS = ParamTable(Testbed, _build_params())
# the controls a preset sets (the lineup, the testbed and its size); loading one leaves the others alone
PRESET_NAMES: tuple[str, ...] = tuple(
    n for n in PARAMS.names()
    if n in (*_TESTBED_CONTROLS, "n_steps", "n_runs")
    or n in {control_name(p, slot) for slot in range(1, SLOTS + 1) for p in ("strategy", *STRATEGY_CONTROLS)})


@functools.cache
def preset_table(key: str) -> ParamTable:
    """The controls a preset sets, with preset ``key``'s values as their defaults: a link that names the
    preset starts every control it leaves out from the preset, and leaves out what equals the preset."""
    values = PARAMS.preset(preset_controls(key))
    return ParamTable(None, [dataclasses.replace(PARAMS[n], default=values[n]) for n in PARAMS.names()
                             if n in PRESET_NAMES])


def preset_modified(values: Mapping[str, Any], key: str) -> bool:
    """Do the controls' ``values`` differ from preset ``key`` in anything it sets (the lineup, the testbed)?"""
    return any(values.get(name, _UNSET) != value for name, value in preset_controls(key).items())


_UNSET = object()


def build_testbed(values: Mapping[str, Any]) -> Testbed:
    """The testbed the controls' ``values`` describe."""
    return Testbed(**{name: values[name] for name in PARAMS.config_defaults()})


__all__ = [
    "BOOK_FAMILIES", "DEFAULT_PRESET", "NONE", "PARAMS", "PRESETS", "PRESET_NAMES", "SLOTS", "STRATEGIES",
    "STRATEGY_CONTROLS", "STUDY_FAMILIES", "STUDY_METRICS", "BanditEngine", "BanditRun", "BanditRunConfig",
    "BanditSnapshot", "Preset", "StrategyInfo", "StudyCurve", "StudyFamily", "Testbed", "TestbedResult",
    "best_study_point", "build_testbed", "contender_from", "control_name", "label", "preset_controls",
    "preset_modified", "preset_table", "resolve", "run_testbed", "slot_params", "softmax_rows", "study_control",
    "study_curves", "study_lineup", "study_score",
]
