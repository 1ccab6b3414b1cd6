"""Streamlit pieces of the ROC page (page-private): sources, cached results, sections.

Caches are keyed on small values (configs, a file id, a training step);
arrays travel as ``_``-prefixed arguments that Streamlit does not hash.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import roc
from core.plots import roc as plots
from core.params import Param
from core.roc_models import (
    MODEL_NAMES,
    MODEL_THRESHOLDS,
    PARAMS,
    SYNTHETIC_STEP,
    DatasetConfig,
    MlpConfig,
    MlpTrainer,
    SyntheticConfig,
    dataset_config,
    fit_sklearn_models,
    make_dataset,
    mlp_config,
    population_auc,
    population_curves,
    synthetic_config,
    synthetic_scores,
)
from ui.live import current_run, live_training_panel
from ui.livechart import Chart, live_charts
from ui.url_state import UrlState

# The page's first two lines; the rest of the story (READING) comes under the charts, so that the
# controls and the charts they move share the first screen at 1280 x 800.
INTRO = (
    "A classifier gives every case a **score**; every case at or above your **threshold** is called positive. "
    "Move the threshold and watch what it catches and costs on the **ROC** and **precision-recall** curves."
)
READING = (
    "**Reading the charts.** Each threshold trades caught positives (**true positive rate**) against false alarms "
    "(**false positive rate**). The **ROC curve** draws that trade-off for every threshold at once, and the **area "
    "under it (AUC)** sums it up in one number. With rare events, the **precision-recall curve** tells the part of "
    "the story the ROC curve hides."
)
BOOT_BUDGET = 20_000_000  # resamples x cases drawn for one set of intervals
WORKED = ([1, 1, 0, 1, 0, 1, 0, 0], [0.9, 0.8, 0.8, 0.6, 0.5, 0.5, 0.5, 0.2])


@dataclass(frozen=True)
class Scores:
    """One set of labels and scores, with everything computed from it."""

    key: tuple  # small and hashable: identifies the scores for the caches
    title: str
    y: np.ndarray
    s: np.ndarray
    analysis: roc.ScoreAnalysis
    range: roc.ThresholdRange  # the threshold slider's positions, and how it prints them
    threshold_default: float
    threshold_key: str  # the session key of this source's threshold slider
    threshold_param: Param | None = None  # URL-bound (its range narrowed to the scores); None: an upload's own
    population: dict | None = None  # synthetic only: the model's own curves
    population_auc: float | None = None
    note: str = ""  # how the scores were made: a caption under the charts
    warning: str = ""  # a caveat about them (too few positives): under the charts


# -- cached work ------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _synthetic(config: SyntheticConfig):
    y, s = synthetic_scores(config)
    return y, s, roc.analyse_scores(y, s)


@st.cache_data(max_entries=6, show_spinner="Training a logistic regression and a random forest...")
def _sklearn(config: DatasetConfig):
    y = make_dataset(config).y_test
    return {name: (y, s, roc.analyse_scores(y, s)) for name, s in fit_sklearn_models(config).items()}


@st.cache_data(max_entries=32, show_spinner=False)
def _analysis(key: tuple, _y: np.ndarray, _s: np.ndarray) -> roc.ScoreAnalysis:
    return roc.analyse_scores(_y, _s)


@st.cache_data(max_entries=32, show_spinner="Resampling for the confidence intervals...")
def _bootstrap(key: tuple, n_boot: int, _y: np.ndarray, _s: np.ndarray) -> roc.BootstrapCI:
    return roc.bootstrap_auc_ap(_y, _s, n_boot, seed=0)


@st.cache_data(max_entries=16, show_spinner=False)
def _curve_csv(key: tuple, _counts: roc.CurveCounts) -> str:
    return roc.curve_table_csv(_counts)


@st.cache_data(max_entries=8, show_spinner=False)
def _upload(file_id: str, _raw: bytes) -> tuple[roc.UploadedScores, roc.ScoreAnalysis | None]:
    parsed = roc.parse_scores_csv(_raw)
    return parsed, (roc.analyse_scores(parsed.y, parsed.s) if parsed.ok else None)


# -- sources ------------------------------------------------------------------------


def _row(url: UrlState, names: tuple[str, ...], widths: list[int] | int) -> dict:
    """Draw the controls ``names`` of ``PARAMS`` side by side; name -> value."""
    values = {}
    for col, name in zip(st.columns(widths), names, strict=True):
        with col:
            values[name] = url.widget(PARAMS[name])
    return values


def synthetic_source(url: UrlState, beside: DeltaGenerator) -> Scores:
    """Sample size and seed ``beside`` the source radio; the three sliders that shape the scores in a row."""
    with beside:
        values = _row(url, ("n", "seed"), [2, 1])
    values.update(_row(url, ("separation", "spread", "prevalence_percent"), [5, 5, 6]))
    config = synthetic_config(values)
    y, s, analysis = _synthetic(config)
    note = (
        f"Negatives score N(0, 1); positives score N({config.separation:g}, {config.spread:g}²). "
        f"{config.n - config.n_pos:,} negatives and {config.n_pos:,} positives. For these two bell curves the ROC "
        f"curve of an infinite sample is known exactly (dashed grey above) and its AUC is Φ(d / √(1 + spread²)) = "
        f"**{population_auc(config):.3f}**."
    )
    warning = ""
    if config.n_pos < 20:
        warning = (f"Only {config.n_pos} positives: the curves are coarse steps and the confidence intervals wide. "
                   "Rare events need many cases before the curves settle.")
    span = roc.threshold_range(float(s.min()), float(s.max()), step=SYNTHETIC_STEP)
    table = PARAMS["threshold"]  # its bounds narrowed to the scores drawn
    param = dataclasses.replace(table, lo=span.lo, hi=span.hi, step=span.step, default=span.snap(table.default),
                                format=span.format)
    return Scores(("syn", config), "synthetic scores", y, s, analysis, span, param.default, url.param_key(param),
                  param, population=population_curves(config), population_auc=population_auc(config), note=note,
                  warning=warning)


def _models_view(fixed: dict, y_test: np.ndarray, config: MlpConfig):
    def render(snap) -> None:
        names = list(fixed) + ["mlp"]
        mlp = _analysis(("mlp", config, snap.step), y_test, snap.scores)
        analyses = {**{k: v[2] for k, v in fixed.items()}, "mlp": mlp}
        curves_roc = [plots.Curve(f"{MODEL_NAMES[k]} (AUC {analyses[k].auc:.3f})", analyses[k].fpr, analyses[k].tpr)
                      for k in names]
        curves_pr = [plots.Curve(f"{MODEL_NAMES[k]} (AP {analyses[k].ap:.3f})", analyses[k].recall,
                                 analyses[k].precision) for k in names]
        prevalence = analyses["mlp"].counts.prevalence
        charts = [Chart("roc", plots.roc_figure(curves_roc, title="ROC of the three models (test half)")),
                  Chart("pr", plots.pr_figure(curves_pr, prevalence=prevalence, title="Precision-recall (test half)"))]
        if len(snap.losses):
            charts.append(Chart("loss", plots.loss_figure(snap.loss_steps, snap.losses), history=True))
        else:
            st.info("Press **Start** to train the MLP: its curves rise from the chance line as it learns.")
        run = current_run("roc:mlp")
        live_charts("roc:models:charts", charts, columns=3, step=snap.step, markers=run.changes if run else ())

    return render


def models_source(url: UrlState, beside: DeltaGenerator) -> Scores:
    """The data's size and seed ``beside`` the source radio, its prevalence and separation in a row."""
    with beside:
        values = _row(url, ("n_samples", "data_seed"), [2, 1])
    values.update(_row(url, ("data_prevalence_percent", "class_sep"), 2))
    data = dataset_config(values)
    fixed = _sklearn(data)
    y_test = next(iter(fixed.values()))[0]
    st.caption(f"`make_classification` with 20 features ({values['data_prevalence_percent']} % positives); every "
               f"model trains on one half and is scored on the other: {len(y_test):,} test cases, "
               f"{int(y_test.sum()):,} positive.")
    values.update(_row(url, ("hidden", "lr", "balanced"), 3))
    config = mlp_config(values)
    snap = live_training_panel("roc:mlp", build=lambda: MlpTrainer(config), signature=config,
                               render=_models_view(fixed, y_test, config), max_steps_per_update=100,
                               default_steps_per_update=10, step_unit="steps")
    model = url.widget(PARAMS["model"])
    param, span = PARAMS["model_threshold"], MODEL_THRESHOLDS
    if model == "mlp":
        st.caption(f"The MLP as it was at step {snap.step:,} (the sections below refresh when you move a control).")
        analysis = _analysis(("mlp", config, snap.step), snap.y_test, snap.scores)
        return Scores(("mlp", config, snap.step), MODEL_NAMES[model], snap.y_test, snap.scores, analysis, span,
                      param.default, url.param_key(param), param)
    y, s, analysis = fixed[model]
    return Scores((model, data), MODEL_NAMES[model], y, s, analysis, span, param.default, url.param_key(param),
                  param)


def upload_source(url: UrlState, beside: DeltaGenerator) -> Scores | None:
    """The example file ``beside`` the source radio, the uploader under it."""
    beside.download_button("⬇️ Example CSV", roc.example_csv(), "example_scores.csv", "text/csv",
                           help="200 rows in the expected format, to try the upload or to edit.")
    st.markdown("Upload a CSV with a header row, a **label** column (0 or 1) and a **score** column (any numbers; "
                f"higher means more likely positive). Up to {roc.MAX_ROWS:,} rows.")
    file = st.file_uploader("CSV of labels and scores", type=["csv", "txt"], key="roc:upload")
    if file is None:
        st.info("No file yet: download the example, or export `label,score` rows from your own classifier.", icon="📄")
        return None
    parsed, analysis = _upload(file.file_id, file.getvalue())
    if not parsed.ok:
        st.error(f"**{file.name}** cannot be used. {parsed.error}", icon="🚫")
        return None
    y, s = parsed.y, parsed.s
    st.success(f"Read **{file.name}**: {len(y):,} rows, {int(y.sum()):,} positive, columns "
               f"'{parsed.label_column}' and '{parsed.score_column}'.", icon="✅")
    span = roc.threshold_range(float(s.min()), float(s.max()))
    # not in the link (the file is not): one slider per file, keyed by the file
    return Scores(("csv", file.file_id), file.name, y, s, analysis, span, span.snap((span.lo + span.hi) / 2),
                  url.key(f"threshold:{file.file_id}"))


# -- the threshold ------------------------------------------------------------------


def threshold_slider(url: UrlState, scores: Scores) -> float:
    """The threshold, over the scores' range only; it prints as many decimals as its step needs."""
    span, key = scores.range, scores.threshold_key
    if key in st.session_state and not span.lo <= st.session_state[key] <= span.hi:
        st.session_state[key] = span.snap(st.session_state[key])  # new scores, narrower range
    if scores.threshold_param is not None:
        return url.widget(scores.threshold_param)
    url.resend_if_remounted(key)
    if key not in st.session_state:
        st.session_state[key] = scores.threshold_default
    return st.slider(PARAMS["threshold"].label, span.lo, span.hi, step=span.step, key=key, format=span.format)


def _fmt(v: float) -> str:
    return "undefined" if v is None or not math.isfinite(v) else f"{v:.3f}"


def metrics_grid(c: roc.Confusion) -> None:
    items = [
        ("TPR = recall", c.tpr, "TP / P: the share of actual positives caught."),
        ("FPR", c.fpr, "FP / N: the share of actual negatives wrongly flagged."),
        ("Precision", c.precision, "TP / (TP + FP): how many flagged cases are real. Undefined when nothing is flagged."),
        ("F1", c.f1, "2·TP / (2·TP + FP + FN): the harmonic mean of precision and recall."),
        ("Accuracy", c.accuracy,
         "(TP + TN) / all. Misleading for rare events: calling everything negative scores 1 - prevalence."),
        ("MCC", c.mcc,
         ("Matthews correlation, from -1 to 1; 0 means no better than chance (0 is also shown when nothing, "
          "or everything, is called positive: then MCC is 0 / 0).")),
        ("Youden's J", c.youden_j, "TPR - FPR: the height of the point above the chance diagonal."),
        ("Specificity = TNR", c.tnr, "TN / N = 1 - FPR."),
    ]
    for row in (items[0:2], items[2:4], items[4:6], items[6:8]):
        for col, (name, value, help_text) in zip(st.columns(2), row, strict=True):
            col.metric(name, _fmt(value), help=help_text)


# -- the threshold and its charts, intervals, costs, the algorithm ----------------------

CHART_HEIGHT = 320  # the three charts under the threshold slider: on the first screen at 1280 x 800


def _swatch(colour: str, mark: str) -> str:
    return f'<span style="color:{colour}; font-size:1.4em">{mark}</span>'


# One key for the three charts (a legend under each would not fit a third of the width).
CHART_KEY = (
    f"{_swatch(plots.NEG_COLOUR, '■')} negatives (label 0) &nbsp; {_swatch(plots.POS_COLOUR, '■')} positives "
    f"(label 1) &nbsp;·&nbsp; {_swatch(plots.POINT_COLOUR, '●')} the threshold: right of the line is called "
    f"positive &nbsp;·&nbsp; {_swatch(plots.COST_COLOUR, '◆')} the cheapest threshold for the costs above (dashed: "
    f"points of equal cost) &nbsp;·&nbsp; grey: dashed, an infinite sample; dotted, chance (ROC) and no skill (PR)"
)


def threshold_charts(url: UrlState, scores: Scores, threshold: float, point: roc.Confusion,
                     costs: roc.CostPoints) -> None:
    """The charts the threshold moves, in one row under its slider: the scores by class, ROC and PR."""
    a, c, span = scores.analysis, scores.analysis.counts, scores.range
    pop = scores.population
    charts = st.container()  # filled after the toggle drawn under it, which the histogram reads
    toggle_col, key_col = st.columns([1, 3])
    with toggle_col:
        share = not url.widget(PARAMS["histogram_counts"])
    key_col.markdown(f'<div style="font-size:0.85em">{CHART_KEY}</div>', unsafe_allow_html=True)
    hist_col, roc_col, pr_col = charts.columns(3)
    hist_col.plotly_chart(plots.score_histogram_figure(
        a.edges, a.hist_neg, a.hist_pos, threshold, share=share, cost_threshold=costs.choice.threshold,
        x_range=(span.lo, span.hi), threshold_text=span.text(threshold), height=CHART_HEIGHT, legend=False,
        title="Scores by class"), key="roc:fig:hist")
    roc_col.plotly_chart(plots.roc_figure(
        [plots.Curve(f"{scores.title} (AUC {a.auc:.3f})", a.fpr, a.tpr)],
        point=(point.fpr, point.tpr), cost_point=costs.roc_point, iso_slope=costs.iso_slope,
        population=None if pop is None else plots.Curve("infinite sample", pop["fpr"], pop["tpr"]),
        title=f"ROC: every threshold (AUC {a.auc:.3f})", height=CHART_HEIGHT, legend=False), key="roc:fig:roc")
    pr_point = (point.recall, point.precision) if math.isfinite(point.precision) else None
    pr_col.plotly_chart(plots.pr_figure(
        [plots.Curve(f"{scores.title} (AP {a.ap:.3f})", a.recall, a.precision)], prevalence=c.prevalence,
        point=pr_point, cost_point=costs.pr_point,
        population=None if pop is None else plots.Curve("infinite sample", pop["recall"], pop["precision"]),
        title=f"Precision-recall (AP {a.ap:.3f})", height=CHART_HEIGHT, legend=False), key="roc:fig:pr")


def reading_notes(scores: Scores) -> None:
    """Under the charts: how to read them, then how these scores were made (and any caveat)."""
    st.markdown(READING)
    if scores.note:
        st.caption(scores.note)
    if scores.warning:
        st.info(scores.warning, icon="🔎")


def confusion_and_metrics(point: roc.Confusion, threshold: float, span: roc.ThresholdRange) -> None:
    """The confusion matrix at the threshold, and the eight metrics computed from it."""
    left, right = st.columns(2)
    with left:
        st.plotly_chart(plots.confusion_figure(point.tp, point.fp, point.fn, point.tn), key="roc:fig:confusion")
        st.caption(f"{point.tp + point.fp:,} of {point.n:,} cases called positive at threshold "
                   f"{span.text(threshold)}. P = {point.n_pos:,} actual positives, N = {point.n_neg:,} actual "
                   "negatives.")
    with right:
        metrics_grid(point)


def intervals_section(url: UrlState, scores: Scores, n_boot: int) -> None:
    c = scores.analysis.counts
    if scores.population is not None:  # the synthetic source: its prevalence slider keeps the scores drawn
        st.info("**Prevalence moves one curve, not the other.** TPR and FPR are each computed within one class, so "
                "changing the share of positives leaves the ROC curve in place. Precision mixes the classes "
                "(TP / (TP + FP)): with fewer positives, the same FPR buys many more false alarms per true hit, "
                "and the PR curve sinks. Try the prevalence slider and watch the dashed curves.", icon="⚖️")
    affordable = max(100, BOOT_BUDGET // len(scores.y))  # keeps a big upload's intervals to a few seconds
    boot = _bootstrap(scores.key, min(n_boot, affordable), scores.y, scores.s)
    pct = f"{100 * boot.level:.0f} %"
    if boot.n_boot < n_boot:
        st.caption(f"With {len(scores.y):,} cases the intervals use {boot.n_boot:,} resamples instead of {n_boot:,}, "
                   "to keep the page responsive.")
    m1, m2, m3 = st.columns(3)
    m1.metric("AUC (area under ROC)", f"{boot.auc:.3f}", help="Trapezoids under the ROC curve. Equals the chance "
              "that a random positive scores above a random negative (ties count half).")
    m1.caption(f"{pct} bootstrap interval: {boot.auc_low:.3f} to {boot.auc_high:.3f}")
    m2.metric("Average precision (AP)", f"{boot.ap:.3f}", help="Σ (recall gained) × (precision there), "
              "scikit-learn's step-wise definition. A no-skill classifier scores about the prevalence.")
    m2.caption(f"{pct} bootstrap interval: {boot.ap_low:.3f} to {boot.ap_high:.3f}")
    if scores.population_auc is not None:
        m3.metric("AUC of the infinite sample", f"{scores.population_auc:.3f}",
                  help="Φ(d / √(1 + spread²)) for two bell curves: what the sample AUC estimates.")
    else:
        m3.metric("Prevalence", f"{100 * c.prevalence:.2f} %", help="P / (P + N): where the no-skill PR line lies.")
    with st.expander(f"How the intervals were made ({boot.n_boot:,} bootstrap resamples)"):
        st.markdown(f"Each resample draws {c.n_pos:,} positives from the positives and {c.n_neg:,} negatives from "
                    "the negatives, with replacement (a stratified bootstrap: no resample loses a class), and "
                    f"computes AUC and AP again. The middle {pct} of those values is the interval. The resamples "
                    "come from one random generator seeded with 0, so the same scores always give the same "
                    "interval. All resamples are computed at once: each is reduced to counts per distinct score, "
                    "then cumulative sums.")
        show_key = url.key("show_boot")
        url.resend_if_remounted(show_key)
        if st.toggle("Show the resampled values", key=show_key):
            st.plotly_chart(plots.bootstrap_figure(boot.auc_reps, boot.ap_reps, (boot.auc_low, boot.auc_high),
                                                   (boot.ap_low, boot.ap_high)), key="roc:fig:boot")
    st.download_button("⬇️ Curve points (CSV: threshold, TP, FP, FN, TN, TPR, FPR, precision, recall)",
                       functools.partial(_curve_csv, scores.key, c),  # written when clicked
                       "roc_curve_points.csv", "text/csv", key="roc:download")


def _set_state(key: str, value: float) -> None:
    st.session_state[key] = value


def cost_section(scores: Scores, threshold: float, costs: roc.CostPoints) -> None:
    c, span, choice = scores.analysis.counts, scores.range, costs.choice
    where = ("call every case negative" if not math.isfinite(choice.threshold)
             else f"call positive every score ≥ **{choice.threshold:.4g}**")
    st.markdown(
        f"With a false positive costing **{choice.c_fp:g}** and a false negative **{choice.c_fn:g}**, the cheapest "
        f"rule is to {where}: {costs.fp:,} false positives and {costs.fn:,} false negatives, "
        f"**{choice.cost_per_case:.4g}** per case on average. The current threshold, {span.text(threshold)}, costs "
        f"**{costs.current_per_case:.4g}** per case. On the ROC curve the cheapest point (green diamond) is where a "
        f"line of slope (cost FP × N) / (cost FN × P) first touches the curve; every point on that dashed line costs "
        f"the same."
    )
    b1, b2 = st.columns([2, 3], vertical_alignment="center")
    b1.button("🎯 Move the threshold to the cheapest point", key="roc:use_cost", on_click=_set_state,
              args=(scores.threshold_key, costs.slider_best), disabled=math.isclose(threshold, costs.slider_best))
    b2.caption(f"The slider's cheapest position is {span.text(costs.slider_best)} "
               f"({costs.slider_best_per_case:.4g} per case)"
               + ("." if costs.slider_reaches_optimum else ": the exact optimum falls between two slider positions."))
    st.plotly_chart(plots.cost_figure(c.thresholds, costs.per_case, threshold, choice.threshold,
                                      "threshold (score units)", x_range=(span.lo, span.hi),
                                      threshold_text=span.text(threshold), exact_at=span.grid()), key="roc:fig:cost")


def algorithm_expander() -> None:
    with st.expander("🧮 How the ROC curve is computed from scratch (one sort, two running counts)"):
        st.markdown(
            "1. **Sort once**, from the highest score to the lowest: O(n log n).\n"
            "2. **Walk down the list.** Lowering the threshold past a case flags it: a positive adds one true "
            "positive, a negative one false positive. Running sums (`cumsum`) give TP and FP at every position.\n"
            "3. **One point per distinct score.** A threshold cannot separate tied scores, so only the last row "
            "of each run of ties becomes a point.\n"
            "4. **Divide by the class sizes**: TPR = TP / P, FPR = FP / N, and prepend (0, 0): the threshold +∞ "
            "flags nothing. The lowest score flags everything: (1, 1).\n"
            "5. **AUC by trapezoids**: Σ (FPR step) × (average of the two TPRs). A tie between a positive and a "
            "negative makes a diagonal step, which counts as half a win.\n\n"
            "A worked example with ties (8 cases):"
        )
        table = roc.algorithm_table(*WORKED)
        for column in ("TPR", "FPR"):
            table[column] = ["" if math.isnan(v) else f"{v:.2f}" for v in table[column]]
        st.dataframe(table, hide_index=True, width="stretch")
        fpr, tpr, _ = roc.roc_curve(*WORKED)
        pair_auc, pairs = roc.pairwise_auc(*WORKED)
        st.markdown(
            f"Points (FPR, TPR): {', '.join(f'({f:.2f}, {t:.2f})' for f, t in zip(fpr, tpr, strict=True))}; "
            f"the trapezoids add up to AUC = **{roc.auc(fpr, tpr):.4f}**. Check by brute force: of the {pairs} "
            f"(positive, negative) pairs, the positive scores higher in {pair_auc * pairs:g} (a tie counts "
            f"half), and {pair_auc * pairs:g} / {pairs} = **{pair_auc:.4f}**. The code this page runs:"
        )
        st.code(inspect.getsource(roc.curve_counts), language="python")
        st.caption(
            "Thresholds are the same as scikit-learn's `roc_curve(..., drop_intermediate=False)`: `inf` first, "
            "then the distinct scores from high to low. scikit-learn's default (`drop_intermediate=True`) also "
            "drops points that lie on a straight line between their neighbours; the area does not change. "
            "Average precision is Σ (R_k - R_(k-1)) P_k over the same thresholds, with no interpolation."
        )
