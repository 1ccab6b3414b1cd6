"""Streamlit rendering for the entropy page, Part A: two distributions you can
touch, the binary entropy curve, and the forward / reverse KL fit.

Page-private: ``pages/entropy.py`` calls ``distributions_section`` and
``kl_fit_section``. Numbers come from ``core.info`` / ``core.info_fit``,
figures from ``core.plots.info``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from core import info_fit, losslab
from core.info import (
    MAX_OUTCOMES,
    PRESET_CONTROLS,
    PRESETS,
    Comparison,
    Preset,
    as_distribution,
    compare,
    nats_to,
    parse_pair,
    sharpen,
    total_weight,
)
from core.info import PARAMS as INFO_PARAMS
from core.info_fit import KLFitConfig, KLFitTrainer, moment_match
from core.params import ParamTable
from core.plots.info import (
    binary_entropy_figure,
    clean,
    contributions_figure,
    decomposition_figure,
    distributions_figure,
    kl_fit_figure,
    kl_fit_loss_figure,
    surprise_figure,
)
from ui.formula import formula
from ui.live import live_training_panel
from ui.livechart import Chart, live_charts
from ui.url_state import UrlState

TOPIC = "entropy"
LETTERS = tuple("ABCDEFGHIJ")
FIT_LR = 0.1  # the page's rate for both fits: 300 steps reach the optimum (tests/test_entropy_page.py)

# The page's one table: Part A and the units (core.info), the KL fit (core.info_fit), the loss lab
# (core.losslab). Each control's label, link name, range, default and old link codes live there.
PARAMS = ParamTable(None, [*INFO_PARAMS, *info_fit.PARAMS, *losslab.PARAMS])

TAB_A = "🎲 A · Entropy, cross-entropy, KL"
TAB_FIT = "⛰️ A · Forward vs reverse KL"
TAB_LAB = "🧪 B · Loss lab (live training)"
TABS = (TAB_A, TAB_FIT, TAB_LAB)
# A link carrying any of a later tab's settings opens that tab (a test checks these against the
# widgets each tab draws).
LAB_URLS = frozenset(p.url for p in losslab.PARAMS)
FIT_URLS = frozenset(p.url for p in info_fit.PARAMS)


def upgrade_link() -> None:
    """Rename the codes of links from before the parameter table; call before any widget."""
    UrlState(TOPIC).upgrade_link(PARAMS)


def opening_tab() -> str:
    """The tab to open: the loss lab's when the link carries lab settings, else the fit's when
    it carries fit settings, else the first. Decided once per session, at the first visit,
    so the open tab never changes under a learner who edits settings. Call after ``upgrade_link``."""
    key = f"{TOPIC}:opening_tab"
    if key not in st.session_state:
        url = UrlState(TOPIC)
        lab, fit = url.link_names(losslab.PARAMS), url.link_names(info_fit.PARAMS)
        st.session_state[key] = TAB_LAB if lab else TAB_FIT if fit else TAB_A
    return st.session_state[key]


TAB_KEY = f"{TOPIC}:tab"  # the open tab (its label); a test opens a tab through it
_LAST_TAB = f"_{TOPIC}:last_tab"  # kept across pages: the widget's own state goes when another page runs


def tabs():
    """The page's three tabs. Only the open tab's content runs: a learner moving a slider on the
    first tab no longer pays for the fit's and the loss lab's charts (about two thirds of the page's
    rerun), and a class on one server does not pay for them either. Switching tabs reruns the page.
    The tab opened first comes from the link (``opening_tab``); coming back from another page
    reopens the tab the learner left."""
    if TAB_KEY not in st.session_state:
        st.session_state[TAB_KEY] = st.session_state.get(_LAST_TAB, opening_tab())
    containers = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
    st.session_state[_LAST_TAB] = st.session_state[TAB_KEY]
    return containers


def unit_picker() -> str:
    """The bits / nats choice every section of the page uses."""
    return UrlState(TOPIC).widget(PARAMS["unit"])


def fmt(value: float, unit: str = "") -> str:
    """A number for a metric: 3 decimals, "∞" for infinity, the unit after it if given."""
    if math.isinf(value):
        return "∞"
    return f"{value + 0.0:.3f} {unit}".strip()


def _apply_preset(url: UrlState) -> None:
    """The preset box's and the restore button's callback: the preset's P and Q, temperature 1."""
    preset = PRESETS[st.session_state[url.param_key(PARAMS["preset"])]]
    url.apply(PRESET_CONTROLS, {"p": preset.p, "q": preset.q})


def _outcome_labels(preset: Preset, n: int) -> list[str]:
    if preset.labels and len(preset.labels) == n:
        return list(preset.labels)
    return list(LETTERS[:n])


def _sum_text(mantissa: float, power: int) -> str:
    """A sum from ``total_weight``; past the float range (1e308 + 1e308) as mantissa and exponent."""
    if abs(power) < 300:
        return f"{mantissa * 10.0 ** power:g}"
    return f"{mantissa:.6g}e{power:+d}"


def _normalisation_note(name: str, weights: np.ndarray) -> str | None:
    mantissa, power = total_weight(weights)  # the plain sum can overflow to infinity
    if abs(power) < 300 and abs(mantissa * 10.0 ** power - 1.0) <= 1e-9:
        return None
    total = _sum_text(mantissa, power)
    probs = ", ".join(f"{v:.3g}" for v in as_distribution(weights, name))
    return f"{name} sums to {total}, so each entry is divided by {total}: {name} = ({probs})."


def _infinity_notes(cmp: Comparison, labels: list[str]) -> list[str]:
    notes = []
    for idx, kl, src, other, src_probs in (
        (cmp.missing_in_q, "KL(P‖Q) and H(P, Q)", "P", "Q", cmp.p),
        (cmp.missing_in_p, "KL(Q‖P) and H(Q, P)", "Q", "P", cmp.q),
    ):
        if idx.size:
            names = ", ".join(f"**{labels[i]}**" for i in idx)
            share = ", ".join(f"{src_probs[i]:.0%}" for i in idx)
            notes.append(
                f"{kl} are **infinite**: {other} gives outcome {names} probability 0, yet {src} produces it "
                f"({share} of the time). A code built for {other} has no code word for something it calls "
                f"impossible: its length, −log 0, is infinite. Give {other} even a tiny probability there "
                "and the number becomes finite (but large)."
            )
    return notes


def outcome_table(cmp: Comparison, labels: list[str]) -> pd.DataFrame:
    u = cmp.unit
    return pd.DataFrame({
        "outcome": labels,
        "p": cmp.p,
        "q": cmp.q,
        f"-log p ({u})": cmp.surprise_p,
        f"-log q ({u})": cmp.surprise_q,
        f"-p log p ({u})": cmp.h_terms,
        f"-p log q ({u})": cmp.ce_terms,
        f"p log(p/q) ({u})": cmp.kl_pq_terms,
    })


@st.fragment
def distributions_section(unit: str) -> None:
    """Part A: P and Q, every quantity, the split of H(P, Q), the binary entropy curve.

    A fragment: moving these controls reruns only this section.
    """
    url = UrlState(TOPIC)
    # Control and result on one screen: P, Q and the temperature sit beside the chart of the two
    # distributions they change (1280 x 800); the numbers and the other charts follow.
    left, right = st.columns([1, 1], gap="medium")
    with left:
        key = url.widget(PARAMS["preset"], on_change=_apply_preset, args=(url,))
        preset = PRESETS[key]
        # P and Q default to the chosen preset's (so a link names them only when they differ from it)
        p_text = url.widget(replace(PARAMS["p"], default=preset.p))
        q_text = url.widget(replace(PARAMS["q"], default=preset.q))
        c_t, c_b = st.columns([3, 2], vertical_alignment="bottom")
        with c_t:
            qt = url.widget(PARAMS["q_temperature"])
        c_b.button("↺ Preset's P, Q", key=f"{TOPIC}:restore", on_click=_apply_preset, args=(url,),
                   help="Back to the preset's P and Q, at temperature 1.", width="stretch")
        shown = {"p": p_text.strip(), "q": q_text.strip(), "q_temperature": qt}
        if shown != PRESET_CONTROLS.preset({"p": preset.p, "q": preset.q}):
            st.caption("You changed the preset's P, Q or temperature: the numbers are yours. "
                       "↺ brings the preset back.")
        elif preset.note:
            st.caption(preset.note)

    try:
        p_w, q_w = parse_pair(p_text, q_text)
    except ValueError as why:
        with right:
            st.warning(f"{why}. Fix the entry to see the numbers (at most {MAX_OUTCOMES} outcomes).", icon="✋")
        _binary_entropy_block(url, unit)
        return
    notes = [n for n in (_normalisation_note("P", p_w), _normalisation_note("Q", q_w)) if n]
    q_used = sharpen(q_w, qt) if qt != 1.0 else q_w
    if qt != 1.0:
        notes.append(f"Q is flattened or sharpened at T = {qt:g}: Q = ({', '.join(f'{v:.3g}' for v in q_used)}).")
    if notes:
        st.info(" ".join(notes), icon="ℹ️")

    cmp = compare(p_w, q_used, unit)
    labels = _outcome_labels(preset, len(p_w))
    right.plotly_chart(distributions_figure(cmp, labels), key=f"{TOPIC}:fig:dist")
    cols = st.columns(6)
    metrics = (
        ("H(P)", cmp.h_p, "Entropy of P: the average surprise −log p of P's outcomes."),
        ("H(Q)", cmp.h_q, "Entropy of Q."),
        ("H(P, Q)", cmp.h_pq, "Cross-entropy: average code length for P's outcomes with a code built for Q."),
        ("KL(P‖Q)", cmp.kl_pq, "The extra length: H(P, Q) − H(P). Zero only when Q = P."),
        ("KL(Q‖P)", cmp.kl_qp, "The other direction: KL is not symmetric."),
        ("JS(P, Q)", cmp.js, "Jensen-Shannon: mean KL of P and Q to their average. Symmetric, at most 1 bit."),
    )
    for col, (name, value, help_text) in zip(cols, metrics, strict=True):
        col.metric(f"{name} in {unit}", fmt(value, ""), help=help_text)
    for note in _infinity_notes(cmp, labels):
        st.info(note, icon="♾️")

    st.plotly_chart(decomposition_figure(cmp), key=f"{TOPIC}:fig:split")
    c3, c4 = st.columns(2)
    c3.plotly_chart(contributions_figure(cmp, labels), key=f"{TOPIC}:fig:terms")
    c4.plotly_chart(surprise_figure(cmp, labels), key=f"{TOPIC}:fig:surprise")
    c3.caption("Each pair's gap, p log(p/q), is that outcome's share of KL(P‖Q): it can be negative for one "
               "outcome, but the shares always add up to a KL of zero or more.")
    c4.caption("Rare outcomes are surprising: an outcome with probability 1/8 carries log₂ 8 = 3 bits. "
               "Entropy is the P-weighted average of the blue bars.")
    table = outcome_table(cmp, labels)
    with st.expander("Every number, outcome by outcome (table and download)"):
        st.dataframe(table.style.format(precision=4), hide_index=True, width="stretch")
        st.download_button("⬇️ Download the table (CSV)", functools.partial(table.to_csv, index=False),
                           "entropy_outcomes.csv",
                           "text/csv", key=f"{TOPIC}:csv")
    with st.expander("The formulas", expanded=False):
        formula(r"I(x) = -\log p(x) \qquad H(P) = \mathbb{E}_{x\sim P}[-\log p(x)] = -\sum_x p(x)\log p(x)",
                "Information content (surprise) of one outcome, and entropy: its average under P. "
                "Base 2 gives bits, base e gives nats; 0 log 0 counts as 0.")
        formula(r"H(P,Q) = -\sum_x p(x)\log q(x) = H(P) + \mathrm{KL}(P\,\|\,Q)",
                "Cross-entropy: outcomes come from P, the code (or the model) is Q. With a one-hot P (a label) "
                "it is the classification loss −log q(label), and minimising it is maximum likelihood.")
        formula(r"\mathrm{KL}(P\,\|\,Q) = \sum_x p(x)\log\frac{p(x)}{q(x)} \ge 0, \qquad "
                r"\mathrm{JS}(P,Q) = \tfrac12\mathrm{KL}(P\,\|\,M) + \tfrac12\mathrm{KL}(Q\,\|\,M),\ M = \tfrac{P+Q}{2}",
                "KL is the price of using Q in place of P; it is zero only when they are equal, and it is not "
                "symmetric. Jensen-Shannon is a symmetric, always finite cousin.")
    _binary_entropy_block(url, unit)


def _binary_entropy_block(url: UrlState, unit: str) -> None:
    st.subheader("The binary entropy curve")
    left, right = st.columns([1, 2])
    with left:
        coin = url.widget(PARAMS["heads"])
        st.markdown(
            "A fair coin (p = 0.5) is the most uncertain two-outcome source: 1 bit (ln 2 = 0.693 nats) per toss. "
            "A coin that always lands heads tells you nothing: 0 bits. The curve is symmetric, "
            "because swapping heads and tails changes nothing about the uncertainty."
        )
    right.plotly_chart(binary_entropy_figure(coin, unit), key=f"{TOPIC}:fig:binary")


def _fit_render(unit: str):
    def render(snap) -> None:
        (mf, sf), (mr, sr) = snap.forward_params, snap.reverse_params
        c = st.columns(4)
        c[0].metric("KL(p‖q) of the forward fit", fmt(snap.metrics["forward_kl"] * nats_to(unit), unit))
        c[1].metric("Forward fit: mean, sd", f"{clean(mf):.2f}, {sf:.2f}")
        c[2].metric("KL(q‖p) of the reverse fit", fmt(snap.metrics["reverse_kl"] * nats_to(unit), unit))
        c[3].metric("Reverse fit: mean, sd", f"{clean(mr):.2f}, {sr:.2f}")
        live_charts(f"{TOPIC}:klfit:charts", [Chart("fit", kl_fit_figure(snap), span=3),
                                              Chart("fitloss", kl_fit_loss_figure(snap, unit), span=2)],
                    columns=5, step=snap.step)

    return render


def kl_fit_section(unit: str) -> None:
    """Part A, continued: fit one Gaussian to two peaks with each direction of KL."""
    st.markdown(
        "p has two peaks; q is a single Gaussian, so it cannot match p exactly. Which q is best depends on "
        "the direction of the KL divergence. Both fits start at the same q and follow gradient descent (Adam) "
        "on q's mean and log-width. **Forward KL(p‖q)** averages over p: wherever p has mass and q has almost "
        "none, −log q explodes, so q stretches to **cover both peaks**. **Reverse KL(q‖p)** averages over q: "
        "putting q's mass where p has none is what costs, so q **locks onto one peak**."
    )
    url = UrlState(TOPIC)
    c1, c2 = st.columns(2)
    with c1:
        gap = url.widget(PARAMS["gap"])
    with c2:
        start = url.widget(PARAMS["start_mean"])
    mean, sd = moment_match(gap)
    st.caption(
        f"Check: the forward fit must end at p's own mean and standard deviation (moment matching): "
        f"mean {mean:.2f}, sd {sd:.2f}. With well separated peaks the reverse fit ends on one peak, "
        f"mean ±{gap / 2:.2f}, sd 1, where KL(q‖p) ≈ ln 2 = 0.693 nats = 1 bit (q misses half of p). "
        "For close peaks (gap below about 6), a single wide q can be the best reverse fit too: try starts near 0 and 3."
    )
    config = KLFitConfig(gap=gap, start_mean=start, lr=FIT_LR)
    live_training_panel(
        f"{TOPIC}:klfit", build=lambda: KLFitTrainer(config), signature=config, render=_fit_render(unit),
        max_steps_per_update=60, default_steps_per_update=8, step_unit="gradient steps",
    )
