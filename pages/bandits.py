"""Multi-armed bandits: exploration vs exploitation on Sutton & Barto's 10-armed testbed."""

import streamlit as st

from core.bandits import PARAMS, PRESETS, VIEWS, preset_modified, preset_table
from ui.bandits_views import (
    compare_view,
    intro,
    lineup_editor,
    preset_box,
    single_run_view,
    strategy_explainer,
    study_view,
    testbed_controls,
)
from ui.shell import run_inside_app
from ui.url_state import UrlState

run_inside_app()

st.title("🎰 Multi-armed bandits")
st.caption(
    "**Explore or exploit?** Each slot-machine arm pays a noisy reward around its own hidden value: pick up "
    "to four strategies and watch them race on Sutton & Barto's *k-armed testbed* (more in *What is this "
    "about?* below)."
)

url = UrlState("bandits")
url.upgrade_link(PARAMS)  # links from before the parameter table (s1, e1, k, noise...) keep working

view = url.widget(PARAMS["view"])
# Control and result on one screen: in the averages view the lineup sits beside its curves (1280 x 800).
beside = view == "average"
if beside:
    contenders, curves = st.columns([9, 10], gap="medium")
else:
    contenders, curves = st.container(), None
with contenders:
    preset = preset_box(url, narrow=beside)
    # The controls a preset sets start from its values: a link that names a preset only lists what differs.
    table = preset_table(preset)
    values: dict = {}
    lineup = lineup_editor(url, table, values, per_row=2 if beside else 4)

st.subheader("The testbed")
choice = testbed_controls(url, table, values)
st.caption(choice.describe())

if preset_modified(values, preset):
    st.caption(f"✏️ You changed the preset's settings (“{PRESETS[preset].title}”): the book's curves "
               "describe the preset as loaded (press ↺ Reload to go back).")
else:
    st.info(PRESETS[preset].look_for, icon="👀")

if view != "average":
    st.subheader(VIEWS[view])
if view == "study":
    study_view(url, choice)
elif not lineup:
    with curves or st.container():
        st.warning("Every slot is empty: pick at least one strategy.", icon="☝️")
elif view == "average":
    compare_view(lineup, choice, curves)
else:
    single_run_view(url, lineup, choice)

intro()
strategy_explainer()
with st.expander("🔄 When the arms change over time (non-stationary bandits)"):
    st.markdown(
        "In a real casino, or for a recommender system, the payouts may drift: the distribution of rewards "
        "can change over time. Set **Random walk of true values** above 0 (or load the *Non-stationary* "
        "preset) and every arm's true value wanders a little after each pull. Sample averages then trust "
        "old rewards too much; a **constant step size** α keeps forgetting them and follows the drift. "
        "Strategies whose exploration dies out (greedy, ε-first, a fast decaying ε) stop noticing when "
        "another arm becomes the best."
    )
