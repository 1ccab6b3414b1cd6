"""Q-learning, SARSA and deep Q-learning on gridworld mazes: the table and the network on the same maze."""

import streamlit as st

from core.gridworld import DQNTrainer, TabularAgent
from ui import gridworld_views as views
from ui.live import live_training_panel
from ui.shell import run_inside_app

run_inside_app()
st.title("🐭 Q-learning, SARSA & DQN in a maze")
st.caption(
    "An agent learns to cross a maze by trial and error: each move costs a little, goals pay, pits hurt. "
    "It keeps a table Q of how good each move is from each cell and improves it after every move. Press "
    "**Start**, change ε or α while it learns, click cells to change the maze."
)

slots = views.layout()
choice = views.controls(slots)

with slots.tabular:
    if choice.problem:
        views.problem_view(choice)
    else:
        live_training_panel(
            views.TAB_KEY,
            build=lambda: TabularAgent(choice.tabular),
            signature=choice.tabular,
            render=views.tabular_render(choice),
            max_steps_per_update=50,
            default_steps_per_update=5,
            step_unit="episodes",
        )

views.averages(choice, slots.averages)

with slots.dqn:
    if choice.problem:
        st.info("The network needs a playable maze too.", icon="🚧")
    else:
        live_training_panel(
            views.DQN_KEY,
            build=lambda: DQNTrainer(choice.dqn),
            signature=choice.dqn,
            render=views.dqn_render(choice),
            max_steps_per_update=2000,
            default_steps_per_update=300,
            step_unit="moves",
        )

views.lessons()
