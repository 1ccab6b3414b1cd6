"""Convolution arithmetic: output sizes, padding, stride, dilation, transposed convolution and
pooling, animated in the browser and checked against PyTorch."""

import streamlit as st

from ui import conv_views
from ui.shell import run_inside_app

run_inside_app()
st.title("🔲 Convolution arithmetic")
st.caption(
    "Set the input, the kernel, the stride, the padding and the dilation, and watch the kernel sweep the "
    "input: **orange** cells are read, the **green** cell is written. The output size follows from the "
    "formula below the animation; every size here matches what PyTorch's layers produce."
)

slots = conv_views.layout()
settings = conv_views.controls(slots)
conv_views.animation(settings, slots.anim)
conv_views.output_size(settings, slots.size)
conv_views.numbers(settings, slots.numbers)
conv_views.transposed(settings, slots.transposed)
conv_views.stack(settings, slots.stack)
