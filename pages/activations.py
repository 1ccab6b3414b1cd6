"""Activation functions: a gallery with derivatives, Swish's β, the initialisation lab and a live training race."""

import streamlit as st

from core.activations import PARAMS
from ui import activations_views as views
from ui.shell import run_inside_app

run_inside_app()
st.title("⚡ Activation functions")
st.markdown(
    "Between two layers of a neural network sits an **activation function** f: each unit adds up its weighted "
    "inputs into a number x and passes on f(x). Without it, any stack of layers would collapse into one linear "
    "map. Its shape decides how the signal travels forward and, through its slope f′, how the gradient travels "
    "back during training. Compare the classics with **Swish** (x·σ(βx)) and **Mish** (x·tanh(softplus(x))), "
    "see what happens in a deep network at initialisation, then race networks live, on your own points too. "
    "Unlike TensorFlow Playground, each network here has its own activation, and you see the derivatives."
)

views.url.upgrade_link(PARAMS)  # links from before the table: old codes become today's names
slots = views.layout()  # every section's place, in page order
params = views.controls(slots)  # every widget, each next to the result it changes

views.gallery(slots, params)
views.swish_section(slots, params)
views.lab_section(slots, params)
views.own_data(slots, params)
views.race(slots, params)
views.notes()
