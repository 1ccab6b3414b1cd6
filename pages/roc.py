"""ROC curves, AUC and precision-recall: slide a threshold, watch the trade-offs."""

import streamlit as st

from core import roc
from core.roc_models import PARAMS
from ui import roc_views as views
from ui.shell import run_inside_app
from ui.url_state import UrlState

run_inside_app()
st.title("📈 ROC curves, AUC and precision-recall")
st.markdown(views.INTRO)  # two lines: the controls and the charts they move fit the first screen

url = UrlState("roc").resend_remounted()  # widgets that come back show the values the page uses
url.upgrade_link(PARAMS)

# One screen at 1280 x 800: the source's controls, the threshold, then the three charts they move.
source_col, beside = st.columns([5.3, 3.7], vertical_alignment="bottom")  # beside the source: its smaller controls
with source_col:
    source = url.widget(PARAMS["source"])
if source == "synthetic":
    scores = views.synthetic_source(url, beside)
elif source == "models":
    scores = views.models_source(url, beside)
else:
    scores = views.upload_source(url, beside)
if scores is None:
    url.run_complete()
    st.stop()

c_t, c_fp, c_fn = st.columns([4, 2, 2])
with c_t:
    threshold = views.threshold_slider(url, scores)
with c_fp:
    cost_fp = url.widget(PARAMS["cost_fp"])
with c_fn:
    cost_fn = url.widget(PARAMS["cost_fn"])

point = scores.analysis.counts.confusion_at(threshold)
costs = roc.cost_points(scores.analysis.counts, cost_fp, cost_fn, threshold, scores.range.grid())
views.threshold_charts(url, scores, threshold, point, costs)
views.reading_notes(scores)

st.header("1 · The confusion matrix at this threshold")
if point.tp + point.fp == 0:
    st.info("No case scores at or above this threshold, so nothing is called positive: precision is undefined "
            "(0 / 0) and the point sits at (0, 0) on the ROC curve.", icon="ℹ️")
views.confusion_and_metrics(point, threshold, scores.range)

st.header("2 · How sure are the areas? Bootstrap intervals")
with st.columns([2, 3])[0]:
    n_boot = url.widget(PARAMS["n_boot"])
views.intervals_section(url, scores, n_boot)

st.header("3 · What do mistakes cost?")
views.cost_section(scores, threshold, costs)

views.algorithm_expander()
url.run_complete()  # the widgets drawn in this run are on screen (see UrlState.resend_remounted)
