"""Page-private Streamlit helpers for pages/bandits.py: the preset box, the lineup editor, the
testbed controls, cached simulations and the three views. Every control is declared once in
``core.bandits.PARAMS``; a preset's values come from ``core.bandits.preset_controls``."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.bandits import (
    NONE,
    PARAMS,
    SLOTS,
    STUDY_FAMILIES,
    TITLES,
    BanditRun,
    BanditRunConfig,
    Testbed,
    TestbedResult,
    best_study_point,
    build_testbed,
    contender_from,
    control_name,
    label,
    preset_controls,
    preset_table,
    run_testbed,
    slot_params,
    study_control,
    study_curves,
    study_lineup,
)
from core.params import ParamTable
from core.pool import WorkerPool
from core.plots.bandits import (
    arm_figure,
    optimal_figure,
    regret_figure,
    reward_figure,
    run_history_figure,
    study_figure,
)
from ui.formula import formula
from ui.live import live_training_panel
from ui.livechart import Chart, live_charts
from ui.url_state import UrlState


def load_preset(url: UrlState) -> None:
    """on_change of the preset box (and the reload button): set every control the preset sets."""
    key = st.session_state[url.param_key(PARAMS["preset"])]
    url.apply(preset_table(key), preset_controls(key))


def preset_box(url: UrlState, *, narrow: bool = False) -> str:
    """The preset box and its reload button on one line; the preset's key. ``narrow``: a half-width column."""
    c_preset, c_reload = st.columns([3, 1] if narrow else [5, 1], vertical_alignment="bottom")
    with c_preset:
        preset = url.widget(PARAMS["preset"], on_change=load_preset, args=(url,))
    c_reload.button("↺ Reload", on_click=load_preset, args=(url,), width="stretch",
                    help="Reload the preset: put back its settings after you changed them.")
    return preset


# -- the lineup -------------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    slot: int
    strategy: str
    params: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        return label(self.strategy, dict(self.params))


EXTRAS = ("decay", "initial_value", "step_size")  # tucked into one expander under the cards
MORE = "⚙️ More settings (ε decay, Q₁, step size)"


def contender_editor(url: UrlState, table: ParamTable, slot: int, values: dict[str, Any],
                     more: Any) -> Contender | None:
    """One slot of the lineup: a strategy and its main parameters here, its extra settings in ``more`` (a
    container under the cards). ``table``: the controls with the loaded preset's values as defaults. The
    values drawn are added to ``values``."""
    name = control_name("strategy", slot)
    values[name] = url.widget(table[name])
    if values[name] == NONE:
        st.caption("Empty slot: pick a strategy to add a line.")
        return None
    names = slot_params(values[name])
    extras = [p for p in names if p in EXTRAS]
    for param in names:
        if param not in EXTRAS:
            values[control_name(param, slot)] = url.widget(table[control_name(param, slot)])
    if extras:
        with more:
            st.markdown(f"**Strategy {slot}**: {TITLES[values[name]]}")
            for param in extras:
                values[control_name(param, slot)] = url.widget(table[control_name(param, slot)])
    strategy, params = contender_from(values, slot)
    chosen = dict(params)
    changed = [_extra_summary(p, chosen[p]) for p in extras if chosen[p] not in (None, 0.0)]
    if changed:
        st.caption(" · ".join(changed))
    if strategy == "thompson":
        st.caption("Prior: each arm's value ~ N(μ, σ²) of the testbed (σ = 1 if σ is 0); "
                   "reward noise known.")
    return Contender(slot, strategy, params)


def lineup_editor(url: UrlState, table: ParamTable, values: dict[str, Any], *, per_row: int) -> list[Contender]:
    """Every slot as a compact card (its strategy and main parameter), ``per_row`` cards a row (2: a 2 x 2
    grid beside the curves), then one expander with every slot's extra settings in the same columns; the
    contenders chosen. ``table`` and ``values`` as in ``contender_editor``."""
    cards = [column.container(border=True) for _ in range(0, SLOTS, per_row) for column in st.columns(per_row)]
    more = st.expander(MORE)
    with more:
        sections = [column.container() for _ in range(0, SLOTS, per_row) for column in st.columns(per_row)]
    lineup = []
    for slot, (card, section) in enumerate(zip(cards, sections, strict=True), start=1):
        with card:
            contender = contender_editor(url, table, slot, values, section)
        if contender is not None:
            lineup.append(contender)
    if not any(p in EXTRAS for c in lineup for p, _ in c.params):
        more.caption("None of the strategies chosen has more settings.")
    return lineup


def _extra_summary(param: str, value: Any) -> str:
    if param == "decay":
        return f"ε decays (decay {value:g})"
    if param == "initial_value":
        return f"optimistic Q₁ = {value:g}"
    return f"constant step α = {value:g}"


@dataclass(frozen=True)
class TestbedChoice:
    __test__ = False
    testbed: Testbed
    n_steps: int
    n_runs: int
    seed: int

    def kwargs(self) -> tuple[tuple[str, Any], ...]:
        tb = self.testbed
        return (("mu", tb.mu), ("sigma", tb.sigma), ("reward_std", tb.reward_std), ("walk_std", tb.walk_std))

    def describe(self) -> str:
        tb = self.testbed
        moving = (f"true values random-walk (step sd {tb.walk_std:g})" if tb.walk_std else "stationary")
        return (f"{tb.n_arms} arms · q*(a) ~ N({tb.mu:g}, {tb.sigma:g}²) · rewards ~ N(q*(a), {tb.reward_std:g}²) · "
                f"{moving} · {self.n_runs:,} runs × {self.n_steps:,} steps · seed {self.seed}")


def testbed_controls(url: UrlState, table: ParamTable, values: dict[str, Any]) -> TestbedChoice:
    """The testbed and its size (``table``: the controls with the loaded preset's values as defaults) and the
    seed; the values drawn are added to ``values``."""
    for column, name in zip(st.columns(4), ("n_arms", "mu", "sigma", "reward_std"), strict=True):
        with column:
            values[name] = url.widget(table[name])
    for column, p in zip(st.columns(4), (table["walk_std"], table["n_steps"], table["n_runs"], PARAMS["seed"]),
                         strict=True):
        with column:
            values[p.name] = url.widget(p)
    return TestbedChoice(build_testbed(values), values["n_steps"], values["n_runs"], int(values["seed"]))


# -- cached simulations -----------------------------------------------------------------


QUICK_WORK = 400_000  # run-steps answered at once; more is previewed, then refined in the background
QUICK_WAIT = 1.5  # seconds a rerun waits for its answer before drawing the page without it
STARTUP_WAIT = 20.0  # seconds the first page waits for the worker process to start
WATCHED_FOR = 3.0  # seconds: queued work nobody asked for since is dropped
KEEP_RESULTS = 96  # finished simulations kept for every session (about 100 KB each)

# The testbed steps through NumPy one step at a time: pure Python work that would hold the server's
# interpreter lock for every student. It runs in worker processes instead (the second core): one for the
# answers a page waits for, one at low priority for the large background averages. Results are shared by
# the whole server, keyed by small values only (a class following one link asks the same thing).
_quick = WorkerPool("bandits-quick", preload=["core.bandits"])
_background = WorkerPool("bandits-full", niceness=10, preload=["core.bandits"])
_futures: OrderedDict[tuple, Future] = OrderedDict()
_futures_lock = threading.Lock()
_asked: dict[tuple, float] = {}  # key -> when a page last asked for it


def warm_workers() -> None:
    """Start the worker that answers pages early (app.py, once per server), so the first student does not wait."""
    _quick.warm()


def _job_key(job, n_runs: int) -> tuple:
    _, strategy, params, ch = job
    return (strategy, params, ch.kwargs(), ch.testbed.n_arms, n_runs, ch.n_steps, ch.seed)


def _failed(future: Future) -> bool:
    return future.cancelled() or (future.done() and future.exception() is not None)


def _simulation(job, n_runs: int, pool: WorkerPool) -> Future:
    """The testbed for ``job`` with ``n_runs`` runs: computed once for the whole server, then kept."""
    key = _job_key(job, n_runs)
    now = time.monotonic()
    with _futures_lock:
        _asked[key] = now
        # A class moving sliders asks for many testbeds: drop the queued ones nobody waits for any more,
        # so the workers only compute what a student still looks at.
        for other, pending in list(_futures.items()):
            if other != key and not pending.done() and now - _asked.get(other, 0.0) > WATCHED_FOR:
                if pending.cancel():
                    del _futures[other]
                    _asked.pop(other, None)
        future = _futures.get(key)
        if future is None or _failed(future):
            strategy, params, testbed, n_arms, runs, steps, seed = key
            future = pool.submit(run_testbed, strategy, n_arms=n_arms, n_runs=runs, n_steps=steps, seed=seed,
                                 **dict(params), **dict(testbed))
            _futures[key] = future
        _futures.move_to_end(key)
        while len(_futures) > KEEP_RESULTS:
            old, _ = _futures.popitem(last=False)
            _asked.pop(old, None)
    return future


def _ready(futures: list[Future], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds (the interpreter lock is free meanwhile) for every future."""
    wait(futures, timeout=timeout)
    return all(f.done() for f in futures)  # two slots may ask the same thing: one future, listed twice


def _results(futures: list[Future]) -> list[TestbedResult]:
    errors = [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]
    if errors:
        raise errors[0]
    return [f.result() for f in futures]


def _run_all(jobs: list[tuple[str, str, tuple, TestbedChoice]]) -> list[TestbedResult] | None:
    """Run (label, strategy, params, choice) jobs without holding up the server.

    Small requests are answered in about 0.1 s by the worker process. A large
    one shows a preview from fewer runs straight away while the full average is
    computed in the background (one at a time for the whole server, shared by
    every student who asks the same), and the page redraws itself when it is
    ready. A page that waited ``QUICK_WAIT`` seconds draws without curves and a
    note that they are on their way (``None``), so no click holds a session.
    """
    n_runs = jobs[0][3].n_runs
    work = sum(ch.n_runs * ch.n_steps for *_, ch in jobs)
    big = work > QUICK_WORK
    _quick.wait_started(STARTUP_WAIT)
    full = [_simulation(job, n_runs, _background if big else _quick) for job in jobs]
    if not big:
        if _ready(full, QUICK_WAIT):
            return _results(full)
        _wait_for(jobs, n_runs, None)
        return None
    if all(f.done() and not _failed(f) for f in full):
        return _results(full)
    quick_runs = _quick_runs(jobs)
    preview = [_simulation(job, quick_runs, _quick) for job in jobs]
    if _ready(preview, QUICK_WAIT):
        _wait_for(jobs, n_runs, quick_runs)
        return _results(preview)
    _wait_for(jobs, n_runs, None)
    return None


def _quick_runs(jobs: list) -> int:
    n_runs, steps = jobs[0][3].n_runs, jobs[0][3].n_steps
    return max(20, min(n_runs, QUICK_WORK // max(1, steps * len(jobs))))


def _wait_for(jobs: list, n_runs: int, showing: int | None) -> None:
    """A note on what is still being computed; the page redraws itself when there is more to show.

    ``showing``: the runs behind the curves on screen (a preview), or None when none are drawn yet.
    """
    big = sum(ch.n_runs * ch.n_steps for *_, ch in jobs) > QUICK_WORK

    inline = [True]  # the first call runs inside the page's own run: never rerun the page from there

    @st.fragment(run_every=0.5)
    def _progress() -> None:
        # asking again keeps the work queued while this page waits
        full = [_simulation(job, n_runs, _background if big else _quick) for job in jobs]
        done = sum(f.done() for f in full)
        better = done == len(full)
        if big and showing is None:
            better = better or all(f.done() for f in (_simulation(j, _quick_runs(jobs), _quick) for j in jobs))
        first, inline[0] = inline[0], False
        if better and not first:
            st.rerun(scope="app")
        if showing is None:
            st.info(f"⏳ Simulating {len(jobs)} strateg{'y' if len(jobs) == 1 else 'ies'} × {n_runs:,} runs "
                    f"({done} of {len(full)} done); the curves appear by themselves in a moment.")
        else:
            st.info(f"⏳ A quick preview from {showing:,} runs. The full average over {n_runs:,} runs is being "
                    f"computed in the background ({done} of {len(full)} strategies done); the curves update by "
                    "themselves when it is ready, and the page stays usable meanwhile.")

    _progress()


# -- view 1: averages over many runs ----------------------------------------------------


def summary_table(results: list[TestbedResult]) -> pd.DataFrame:
    rows = []
    for res in results:
        rows.append({
            "strategy": res.label,
            "final reward": f"{res.final_reward():.3f} ± {1.96 * res.final_reward_se:.3f}",
            "final % optimal": round(100 * res.final_optimal(), 1),
            "mean reward": f"{res.mean_reward:.3f} ± {1.96 * res.mean_reward_se:.3f}",
            "regret": round(float(res.regret[-1]), 1),
        })
    return pd.DataFrame(rows)


def curves_csv(results: list[TestbedResult]) -> bytes:
    data = {"step": np.arange(1, results[0].n_steps + 1)}
    for i, res in enumerate(results, 1):
        data[f"{i}: {res.label} | average reward"] = res.avg_reward
        data[f"{i}: {res.label} | optimal action (fraction)"] = res.optimal_action
        data[f"{i}: {res.label} | cumulative regret"] = res.regret
    return pd.DataFrame(data).to_csv(index=False).encode()


def compare_view(lineup: list[Contender], choice: TestbedChoice, curves: Any) -> list[TestbedResult] | None:
    """The averages: the reward and best-arm curves as two tabs in ``curves`` (the column beside the lineup,
    created by the page), then regret and the scoreboard where the page is."""
    with curves:
        charts, note = st.container(), st.container()
    with note:  # a preview's note (a polling fragment) goes under the curves, so they never move down
        results = _run_all([(c.label, c.strategy, c.params, choice) for c in lineup])
    if results is None:
        return None
    with charts:
        reward_tab, optimal_tab = st.tabs(["📈 Average reward", "🎯 Best arm picked (%)"])
        reward_tab.plotly_chart(reward_figure(results), key="bandits:reward")
        optimal_tab.plotly_chart(optimal_figure(results), key="bandits:optimal")
    left, right = st.columns(2)
    left.plotly_chart(regret_figure(results), key="bandits:regret")
    with right:
        st.markdown("**Scoreboard**")
        st.dataframe(summary_table(results), hide_index=True)
        st.caption("**Final**: average over the last 10 % of the steps; **mean**: over all steps (the "
                   "book's figure 2.6 score). ± is a 95 % interval (1.96 standard errors over the runs). "
                   "**Regret** (points): the reward lost by not always pulling the best arm, "
                   "Σₜ (max q* − q*(Aₜ)).")
        # built when clicked (a 1,000-row table: 15 ms a rerun otherwise, for a file few download)
        st.download_button("⬇️ Curves as CSV", functools.partial(curves_csv, results), "bandit_curves.csv",
                           "text/csv")
    return results


# -- view 2: parameter study ------------------------------------------------------------


def study_view(url: UrlState, choice: TestbedChoice) -> None:
    st.markdown("Each point is a whole testbed run with one parameter value, as in Sutton & Barto's "
                "figure 2.6. An inverted U means the strategy needs tuning; a flat top means it is forgiving.")
    cols = st.columns(4)
    families = []
    for i, family in enumerate(STUDY_FAMILIES.values()):
        with cols[i % 4]:
            if url.widget(PARAMS[study_control(family.key)]):
                families.append(family)
    with cols[len(STUDY_FAMILIES) % 4]:
        thompson = url.widget(PARAMS["study_thompson"])
    c1, c2 = st.columns(2)
    with c1:
        runs = url.widget(PARAMS["study_runs"])
    with c2:
        metric = url.widget(PARAMS["study_metric"])
    if not families and not thompson:
        st.info("Tick at least one strategy to study.", icon="☝️")
        return
    sub = TestbedChoice(choice.testbed, choice.n_steps, runs, choice.seed)
    results = _run_all([(*job, sub) for job in study_lineup(families, thompson)])
    if results is None:
        return
    curves, reference = study_curves(families, results, metric, thompson)
    y_title = ("average reward over all steps (points)" if metric == "all"
               else "average reward, last 10 % of steps (points)")
    st.plotly_chart(study_figure(curves, reference=reference, y_title=y_title), key="bandits:study")
    best = best_study_point(curves)
    if best is not None:
        curve, value, reward = best
        st.caption(f"Best point: {curve.title} with {curve.symbol} = {value:g} "
                   f"({reward:.3f} points per step). Error bars: ±1.96 standard errors over "
                   f"{runs:,} runs. Every point plays the same {runs:,} bandit problems (same seed), so "
                   f"differences between points are more reliable than the bars suggest. Testbed: "
                   f"{choice.testbed.n_arms} arms, {choice.n_steps:,} steps.")


# -- view 3: one run, animated ----------------------------------------------------------


def _render_run(snap) -> None:
    m = st.columns(5)
    m[0].metric("Pulls", f"{snap.step:,}")
    m[1].metric("Average reward", f"{snap.metrics['average reward']:.3f}" if snap.step else "–")
    m[2].metric("Best arm picked", f"{snap.metrics['optimal (%)']:.1f} %" if snap.step else "–")
    m[3].metric("Regret so far", f"{snap.metrics['regret']:.1f}" if snap.step else "–")
    if snap.last_action is None:
        m[4].metric("Last pull", "–")
    else:
        m[4].metric("Last pull", f"arm {snap.last_action + 1}", f"{snap.last_reward:+.2f} points", delta_color="off")
    notes = []
    if snap.epsilon is not None:
        notes.append(f"ε for the next pull: {snap.epsilon:.3g}")
    if snap.phase:
        notes.append(f"phase: {snap.phase}")
    if snap.strategy == "thompson":
        notes.append("chance of each arm next: estimated from 4,000 draws of the posterior")
    notes_slot = st.empty()  # on every tick, so a note appearing never moves the charts down a place
    if notes:
        notes_slot.caption(" · ".join(notes))
    live_charts("bandits:charts", [Chart("arms", arm_figure(snap)), Chart("history", run_history_figure(snap))],
                columns=2, step=snap.step)


def single_run_view(url: UrlState, lineup: list[Contender], choice: TestbedChoice) -> None:
    st.markdown("One bandit problem, pull by pull: the diamonds are the true values (hidden from the learner), "
                "the bars its current beliefs, then how often it pulled each arm and how likely each arm "
                "is to be pulled next. Press **Start**, or **Step** through a few pulls.")
    slots = [c.slot for c in lineup]
    names = {c.slot: f"{c.slot}: {c.label}" for c in lineup}
    watch = dataclasses.replace(PARAMS["watch"], options=tuple(slots), default=slots[0])  # the slots in use
    slot = url.widget(watch, format_func=names.get)
    chosen = next(c for c in lineup if c.slot == slot)
    config = BanditRunConfig(chosen.strategy, chosen.params, choice.testbed, choice.n_steps, choice.seed)
    live_training_panel("bandits:live", build=lambda: BanditRun(config), signature=config, render=_render_run,
                        max_steps_per_update=200, default_steps_per_update=5, step_unit="pulls")


# -- how each strategy decides ------------------------------------------------------------


def intro() -> None:
    with st.expander("📖 What is this about? Exploration, exploitation and the testbed"):
        st.markdown(
            "A row of slot machines (**arms**) stands in front of you. Each arm pays a noisy reward around its "
            "own hidden average, its true value q*(a). With a limited number of pulls, how do you collect the "
            "most? **Exploration** acquires knowledge: pull arms you know little about. **Exploitation** uses "
            "that knowledge: pull the arm that looks best. Only exploiting can lock you onto a mediocre arm; "
            "only exploring wastes pulls. Every strategy on this page balances the two differently; they race "
            "on the *k-armed testbed* of Sutton & Barto (*Reinforcement Learning: An Introduction*, 2nd ed., "
            "chapter 2), averaged over many independent bandit problems."
        )


def strategy_explainer() -> None:
    with st.expander("📐 How each strategy picks an arm (formulas)"):
        formula(r"Q_{n+1} = Q_n + \frac{1}{n}\,(R_n - Q_n) \quad\text{or}\quad Q_{n+1} = Q_n + \alpha\,(R_n - Q_n)",
                "The estimate of an arm after its n-th reward: the sample average (every reward counts the "
                "same) or a constant step size α (recent rewards count more, which tracks a changing arm). "
                "Estimates start at Q₁: 0, or a large 'optimistic' value that drives early exploration.",
                title="Learning the value of an arm")
        formula(r"A_t = \begin{cases}\text{a random arm} & \text{with probability } \varepsilon_t\\"
                r"\arg\max_a Q_t(a) & \text{otherwise}\end{cases}\qquad \varepsilon_t = "
                r"\frac{\varepsilon}{1 + \text{decay}\,(t-1)}",
                "ε-greedy exploits the best-looking arm and explores a random one a fraction ε of the time "
                "(decay > 0 lowers ε over time). ε = 0 is the greedy learner. ε-first instead explores "
                "uniformly for the first ε·T steps only, then always exploits; with softmax exploration those "
                "first steps follow the softmax below.", title="ε-greedy, ε-first")
        formula(r"\Pr\{A_t = a\} = \frac{e^{Q_t(a)/\tau}}{\sum_{b} e^{Q_t(b)/\tau}}",
                "Softmax (Boltzmann) exploration: better-looking arms are pulled more often; the temperature "
                "τ sets how strongly (τ → 0: greedy, τ → ∞: uniform).", title="Softmax")
        formula(r"A_t = \arg\max_a \left[ Q_t(a) + c \sqrt{\frac{\ln t}{N_t(a)}} \right]",
                "Upper confidence bound: an arm pulled few times (small N) gets a bonus for its uncertainty. "
                "Arms never pulled count as maximising, so every arm is tried once first.",
                title="UCB")
        formula(r"\tilde q(a) \sim \mathcal N\!\left(m_a, s_a^2\right),\quad "
                r"\frac{1}{s_a^2} = \frac{1}{\sigma_0^2} + \frac{N(a)}{\sigma_r^2},\quad "
                r"m_a = s_a^2\left(\frac{\mu_0}{\sigma_0^2} + \frac{N(a)\,\bar R_a}{\sigma_r^2}\right),\quad "
                r"A_t = \arg\max_a \tilde q(a)",
                "Thompson sampling keeps a normal belief about each arm (prior N(μ₀, σ₀²) = the testbed's "
                "N(μ, σ²), reward noise σᵣ known), draws one plausible value per arm and pulls the largest: "
                "each arm is pulled with the probability that it is the best.", title="Thompson sampling")
        formula(r"H_{t+1}(a) = H_t(a) + \alpha\,(R_t - \bar R_t)\,(\mathbb 1_{a = A_t} - \pi_t(a)),\quad "
                r"\pi_t(a) = \frac{e^{H_t(a)}}{\sum_b e^{H_t(b)}}",
                "The gradient bandit learns preferences H rather than values. A reward above the baseline "
                "R̄ (the average reward so far) makes the chosen arm more likely, one below makes it less "
                "likely.", title="Gradient bandit")
