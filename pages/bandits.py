"""Multi-armed bandits: exploration vs exploitation on Sutton & Barto's 10-armed testbed."""

import streamlit as st

from core.bandits import PARAMS, PRESETS, SLOTS, preset_modified, preset_table
from ui.bandits_views import (
    compare_view,
    contender_editor,
    load_preset,
    single_run_view,
    strategy_explainer,
    study_view,
    testbed_controls,
)
from ui.shell import run_inside_app
from ui.url_state import UrlState

run_inside_app()

st.title("🎰 Multi-armed bandits: explore or exploit?")
st.markdown(
    "A row of slot machines (**arms**) stands in front of you. Each arm pays a noisy reward around its own "
    "hidden average, its true value q*(a). With a limited number of pulls, how do you collect the most? "
    "**Exploration** acquires knowledge: pull arms you know little about. **Exploitation** uses that "
    "knowledge: pull the arm that looks best. Only exploiting can lock you onto a mediocre arm; only "
    "exploring wastes pulls. Every strategy below balances the two differently; they race on the "
    "*k-armed testbed* of Sutton & Barto (*Reinforcement Learning: An Introduction*, 2nd ed., chapter 2), "
    "averaged over many independent bandit problems."
)

url = UrlState("bandits")
url.upgrade_link(PARAMS)  # links from before the parameter table (s1, e1, k, noise...) keep working

st.subheader("1. The contenders")
c_preset, c_reload = st.columns([5, 1], vertical_alignment="bottom")
with c_preset:
    preset = url.widget(PARAMS["preset"], on_change=load_preset, args=(url,))
c_reload.button("↺ Reload preset", on_click=load_preset, args=(url,), width="stretch",
                help="Put back the preset's settings after you changed them.")
# The controls a preset sets start from its values: a link that names a preset only lists what differs.
table = preset_table(preset)
values: dict = {}

columns = st.columns(SLOTS)
lineup = []
for slot, column in enumerate(columns, start=1):
    with column.container(border=True):
        contender = contender_editor(url, table, slot, values)
        if contender is not None:
            lineup.append(contender)

st.subheader("2. The testbed")
choice = testbed_controls(url, table, values)
st.caption(choice.describe())

if preset_modified(values, preset):
    st.caption(f"✏️ You changed the preset's settings (“{PRESETS[preset].title}”): the book's curves "
               "describe the preset as loaded (press ↺ Reload preset to go back).")
else:
    st.info(PRESETS[preset].look_for, icon="👀")

st.subheader("3. Watch them race")
view = url.widget(PARAMS["view"])

if view == "study":
    study_view(url, choice)
elif not lineup:
    st.warning("Every slot is empty: pick at least one strategy above.", icon="☝️")
elif view == "average":
    compare_view(lineup, choice)
else:
    single_run_view(url, lineup, choice)

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
