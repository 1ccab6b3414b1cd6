"""ROC curves, AUC and precision-recall: slide a threshold, watch the trade-offs."""

import streamlit as st

from core import roc
from ui import roc_views as views
from ui.shell import run_inside_app

run_inside_app()
st.title("📈 ROC curves, AUC and precision-recall")
st.markdown(
    "A classifier gives every case a **score**; you choose a **threshold** and call every case at or above it "
    "positive. Each threshold trades caught positives (**true positive rate**) against false alarms (**false "
    "positive rate**). The **ROC curve** draws that trade-off for every threshold at once, and the **area under "
    "it (AUC)** sums it up in one number. With rare events, the **precision-recall curve** tells the part of the "
    "story the ROC curve hides."
)

url = views.PageUrlState("roc")
views.begin_run()
SOURCES = {"synthetic": "🎲 Synthetic scores", "models": "🧠 Trained classifiers", "csv": "📄 Your own CSV"}

st.header("1 · Where the scores come from")
source = url.radio("Source of scores", "src", list(SOURCES), "synthetic", format_func=SOURCES.get, horizontal=True)
if source == "synthetic":
    scores = views.synthetic_source(url)
elif source == "models":
    scores = views.models_source(url)
else:
    scores = views.upload_source()
if scores is None:
    st.stop()

st.header("2 · Pick a threshold")
c_t, c_fp, c_fn = st.columns([4, 2, 2])
with c_t:
    threshold = views.threshold_slider(url, scores)
with c_fp:
    cost_fp = url.select_slider("Cost of one false positive", "cfp", views.COSTS, 1,
                                help="A false alarm: a negative case called positive.")
with c_fn:
    cost_fn = url.select_slider("Cost of one false negative", "cfn", views.COSTS, 5,
                                help="A miss: a positive case called negative.")

counts = scores.analysis.counts
point = counts.confusion_at(threshold)
choice = roc.cost_optimal(counts, cost_fp, cost_fn)
views.threshold_charts(url, scores, threshold, point, choice)
if point.tp + point.fp == 0:
    st.info("No case scores at or above this threshold, so nothing is called positive: precision is undefined "
            "(0 / 0) and the point sits at (0, 0) on the ROC curve.", icon="ℹ️")
views.confusion_and_metrics(point, threshold, scores.range)

st.header("3 · How sure are the areas? Bootstrap intervals")
with st.columns([2, 3])[0]:
    n_boot = url.select_slider("Bootstrap resamples for the intervals", "boot", [200, 500, 1000, 2000], 500)
views.intervals_section(scores, n_boot)

st.header("4 · What do mistakes cost?")
views.cost_section(scores, threshold, choice, point)

views.algorithm_expander()
