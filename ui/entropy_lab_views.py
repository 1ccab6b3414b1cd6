"""Streamlit rendering for the entropy page, Part B: the live loss lab.

A small MLP learns the 8x8 digits with plain cross-entropy, label smoothing,
the confidence penalty or distillation from a cached teacher ensemble; the
last few runs of the session are overlaid. Numbers come from
``core.losslab``, figures from ``core.plots.info_losslab``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.info import entropy
from core.info import nats_to
from core.losslab import (
    METHOD_SETTING,
    PARAMS,
    LossLabConfig,
    LossLabSnapshot,
    LossLabTrainer,
    Teacher,
    TeacherConfig,
    digits_split,
    shipped_teacher,
)
from core.plots.info_losslab import (
    RUN_METRICS,
    accuracy_figure,
    class_probabilities_figure,
    confidence_figure,
    digit_figure,
    loss_curves_figure,
    reliability_figure,
    runs_figure,
)
from ui.formula import formula
from ui.live import LiveRun, current_run, live_training_panel
from ui.livechart import Chart, live_charts
from ui.url_state import UrlState

TOPIC = "entropy"
LAB_KEY = f"{TOPIC}:lab"
RUNS_KEY = f"{TOPIC}:runs"
COUNTER_KEY = f"{TOPIC}:run_counter"
KEEP_RUNS = 4


@st.cache_resource(max_entries=2, show_spinner="Loading the teacher (5 MLPs)…")
def shared_teacher(members: int, hidden: int, epochs: int, seed: int) -> Teacher:
    """The teacher ensemble, loaded (or trained) once and shared read-only by every session."""
    config = TeacherConfig(members=members, hidden=hidden, epochs=epochs, seed=seed)
    return shipped_teacher(config, digits_split())


def default_teacher() -> Teacher:
    c = TeacherConfig()
    return shared_teacher(c.members, c.hidden, c.epochs, c.seed)


def _controls(url: UrlState) -> tuple[LossLabConfig, float]:
    """The lab's controls (core.losslab.PARAMS); a method draws only its own setting."""
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        values = {"method": url.widget(PARAMS["method"])}
        setting = METHOD_SETTING.get(values["method"])
        if setting is not None:
            values[setting] = url.widget(PARAMS[setting])
    with c2:
        values |= url.widgets(PARAMS, ["temperature", "hidden"])
    with c3:
        values |= url.widgets(PARAMS, ["n_train", "epochs"])
    with c4:
        values |= url.widgets(PARAMS, ["lr", "seed"])
    config = LossLabConfig(**{**values, "seed": int(values["seed"])}).relevant()
    return config, values["temperature"]


def _dark_knowledge(url: UrlState, teacher: Teacher, temperature: float, unit: str) -> tuple[int, np.ndarray]:
    split = digits_split()
    st.markdown(
        "**What the teacher knows (“dark knowledge”).** At T = 1 the teacher is nearly certain; its small "
        "probabilities for the other digits say which digits this image resembles. Dividing the logits by T "
        "before the softmax makes those visible; distillation trains the student on them."
    )
    left, right = st.columns([1, 3])
    with left:
        index = url.widget(PARAMS["image"])
        st.plotly_chart(digit_figure(split.val_images[index], int(split.y_val[index])), key=f"{TOPIC}:fig:digit")
    p1 = teacher.probabilities(index, 1.0)
    pt = teacher.probabilities(index, temperature)
    base = 2.0 if unit == "bits" else np.e
    fig = class_probabilities_figure(
        {f"teacher at T = 1 (entropy {entropy(p1, base):.2f} {unit})": p1,
         f"teacher at T = {temperature:g} (entropy {entropy(pt, base):.2f} {unit})": pt},
        f"The teacher's probabilities for this image, at T = 1 and at T = {temperature:g}",
        label=int(split.y_val[index]),
    )
    right.plotly_chart(fig, key=f"{TOPIC}:fig:teacher")
    return index, p1


def _remember(run: LiveRun) -> None:
    """Keep the latest state of this run for the comparison (called by the live panel after each tick)."""
    runs: dict = st.session_state.setdefault(RUNS_KEY, {})
    snap = run.snapshot
    if snap.step == 0:
        return
    numbers: dict = st.session_state.setdefault(COUNTER_KEY, {})
    number = numbers.setdefault(run.run_id, len(numbers) + 1)  # runs of this session, numbered 1, 2, 3...
    runs[number] = (f"run {number}: {snap.config.label()}", snap.epochs, snap.history)
    while len(runs) > KEEP_RUNS:
        runs.pop(next(iter(runs)))


def _clear_runs() -> None:
    """Keep only the newest run (the one on screen)."""
    runs = st.session_state.get(RUNS_KEY, {})
    st.session_state[RUNS_KEY] = dict(list(runs.items())[-1:])


def _runs_table(runs: dict, unit: str) -> pd.DataFrame:
    k = nats_to(unit)
    rows = []
    for label, epochs, h in runs.values():
        rows.append({
            "run": label,
            "epochs": int(epochs[-1]),
            "val accuracy (%)": h["val_acc"][-1] * 100,
            f"val cross-entropy ({unit})": h["val_ce"][-1] * k,
            "ECE (% points)": h["val_ece"][-1] * 100,
            f"mean entropy ({unit})": h["val_entropy"][-1] * k,
        })
    return pd.DataFrame(rows)


def _lab_render(unit: str, image: int, teacher_probs: np.ndarray):
    split = digits_split()

    def render(snap: LossLabSnapshot) -> None:
        m, k = snap.metrics, nats_to(unit)
        cols = st.columns(5)
        cols[0].metric("Epoch", f"{snap.step} of {snap.config.epochs}")
        cols[1].metric("Validation accuracy", f"{m['val_acc'] * 100:.1f} %")
        cols[2].metric("Validation cross-entropy", f"{m['val_ce'] * k:.3f} {unit}")
        cols[3].metric("Calibration error (ECE)", f"{m['val_ece'] * 100:.1f} % pts",
                       help="Average gap between confidence and accuracy over 10 confidence bins, weighted by "
                            "how many images fall in each. 0 means perfectly calibrated.")
        cols[4].metric("Mean output entropy", f"{m['val_entropy'] * k:.3f} {unit}",
                       help=f"Average entropy of the student's predictions on the 500 validation images; "
                            f"at most log 10 = {np.log(10) * k:.2f} {unit} (uniform).")
        run = current_run(LAB_KEY)
        student = class_probabilities_figure(
            {"teacher at T = 1": teacher_probs, f"student after {snap.step} epochs (T = 1)": snap.val_probs[image]},
            f"Student and teacher on validation image {image}", label=int(split.y_val[image]))
        live_charts(f"{TOPIC}:charts", [
            Chart("loss", loss_curves_figure(snap, unit), history=True),
            Chart("accuracy", accuracy_figure(snap), history=True),
            Chart("confidence", confidence_figure(snap, unit), history=True),
            Chart("reliability", reliability_figure(snap.reliability, f", epoch {snap.step}")),
            Chart("student", student, span=2),
        ], columns=2, step=snap.step, markers=run.changes if run else ())

    return render


def _comparison(unit: str) -> None:
    """The last runs of this session, overlaid (redrawn when a run ends, pauses or restarts)."""
    runs = st.session_state.get(RUNS_KEY, {})
    st.subheader("Compare your runs")
    st.markdown(f"Change a setting and train again: the last {KEEP_RUNS} runs of this session are kept and "
                "drawn together (the newest is the solid line). The chart updates when a run ends or pauses.")
    if not runs:
        st.caption("No finished epochs yet: press Start.")
        return
    metric = st.radio("Compare by", list(RUN_METRICS), horizontal=True, key=f"{TOPIC}:cmp",
                      format_func=lambda key: RUN_METRICS[key][0])
    data = [(label, epochs, h[metric]) for label, epochs, h in runs.values()]
    st.plotly_chart(runs_figure(data, metric, unit), key=f"{TOPIC}:fig:runs")
    st.dataframe(_runs_table(runs, unit).style.format(precision=3), hide_index=True, width="stretch")
    if len(runs) > 1:
        st.button("🗑 Forget the earlier runs", key=f"{TOPIC}:clear", on_click=_clear_runs)


def lab_panel(config: LossLabConfig, teacher: Teacher, unit: str, image: int, teacher_probs: np.ndarray):
    """The live panel: Start / Pause / Step / Reset and the charts redrawn each tick."""
    return live_training_panel(
        LAB_KEY, build=lambda: LossLabTrainer(config, teacher=teacher if config.method == "distill" else None),
        signature=config, render=_lab_render(unit, image, teacher_probs), on_snapshot=_remember,
        max_steps_per_update=10, default_steps_per_update=2, step_unit="epochs",
    )


def loss_lab_section(unit: str) -> None:
    """Part B: choose a loss, train the student live, compare runs.

    The settings and the live panel come first, so a link that opens this tab shows the
    controls and the charts they change on one screen; the losses' formulas and what to
    look for follow the panel.
    """
    st.markdown(
        "A small network (64 pixels → hidden units → 10 digits) learns scikit-learn's 8×8 handwritten digits. "
        "Pick the loss, press **Start**, and watch accuracy and **how confident** the network becomes: the mean "
        "entropy of its predictions and the reliability diagram. Losses are averages per image."
    )
    teacher = default_teacher()
    url = UrlState(TOPIC)
    config, temperature = _controls(url)
    panel = st.container()
    with st.expander("The four losses, and how they relate through the direction of KL"):
        formula(r"\mathcal{L}_{CE} = -\log q_y", "Plain cross-entropy with the one-hot label y: H(P, Q) for a one-hot P.")
        formula(r"\mathcal{L}_{LS} = -(1-\varepsilon)\log q_y - \frac{\varepsilon}{K}\sum_{k=1}^{K}\log q_k"
                r" = (1-\varepsilon)\,\mathcal{L}_{CE} + \varepsilon\,\big(\mathrm{KL}(u\,\|\,q) + \log K\big)",
                "Label smoothing: the target keeps 1 − ε on the label and spreads ε evenly over the K = 10 classes "
                "(u is uniform). Identical to PyTorch's cross_entropy(label_smoothing=ε).")
        formula(r"\mathcal{L}_{CP} = \mathcal{L}_{CE} - \beta\,H(q) = \mathcal{L}_{CE} + \beta\,\big(\mathrm{KL}(q\,\|\,u) - \log K\big)",
                "The confidence penalty rewards high-entropy outputs. Both regularisers pull q towards the uniform "
                "u; they differ only in the direction of the KL (Pereyra et al., 2017).")
        formula(r"\mathcal{L}_{KD} = \alpha\,T^2\,\mathrm{KL}\big(\mathrm{softmax}(z_t/T)\,\|\,\mathrm{softmax}(z_s/T)\big)"
                r" + (1-\alpha)\,\mathcal{L}_{CE}",
                "Distillation: match the teacher's softened probabilities (logits z_t divided by T), mixed with the "
                "labels. The soft part's gradients shrink like 1/T², hence the T² (Hinton et al., 2015).")
    st.caption(
        "What to look for: plain cross-entropy on this small network is already close to calibrated (the "
        "reliability bars sit near the diagonal). Label smoothing and the confidence penalty raise the entropy "
        "of the predictions; here that overshoots into under-confidence (bars above the diagonal, a larger "
        "ECE). Distillation from the teacher usually gives the most accurate student, because each soft "
        "target says more than a label. Read the numbers above for your own run, and compare runs below."
    )
    st.caption(
        f"Teacher: {teacher.describe()}, trained once on all {len(digits_split().y_train):,} training images "
        f"(validation accuracy {teacher.val_accuracy:.1%}; members alone: "
        f"{', '.join(f'{a:.1%}' for a in teacher.member_val_accuracy)}). Its logits are the members' average. "
        "The student sees only the number of training images you choose."
    )
    image, teacher_probs = _dark_knowledge(url, teacher, temperature, unit)
    with panel:  # drawn above the explanations; it needs the image chosen below for its charts
        lab_panel(config, teacher, unit, image, teacher_probs)  # its ticks keep this session's runs (_remember)
    st.divider()
    _comparison(unit)
