"""LRN vs batch normalisation: compute both by hand, see them on a digit, race them live."""

import streamlit as st

from core.norms import PARAMS
from ui import norms_views as views
from ui.shell import run_inside_app

run_inside_app()
st.title("⚖️ LRN vs batch normalisation")
st.markdown(
    "ReLU and its relatives are unbounded above, so activations can grow from layer to layer and from one "
    "training step to the next. **Normalisation** rescales them before the activation function. **Local "
    "response normalisation (LRN)**, from AlexNet, divides each activation by the energy of its neighbours "
    "and learns nothing. **Batch normalisation (BN)** standardises each unit with statistics of the mini-batch, "
    "then scales and shifts it with two learned numbers. Work both out by hand, see them on a real digit, then "
    "race them while you raise the learning rate."
)

views.url.upgrade_link(PARAMS)  # links from before the table: old codes become today's names
slots = views.layout()  # every section's place, in page order
params = views.controls(slots)  # every widget, each next to the result it changes

views.inter_channel(slots, params)
views.intra_channel(slots, params)
views.conventions(slots, params)
views.batch_norm_by_hand(slots, params)
views.feature_maps_section(slots, params)
views.race(slots, params)
views.bn_modes_section(slots, params)
views.comparison()
