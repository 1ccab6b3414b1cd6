"""Entropy, cross-entropy and KL divergence, then a live loss lab.

Part A (instant): two distributions to edit, every information quantity, the
binary entropy curve, and forward vs reverse KL fits of one Gaussian to two
peaks. Part B (live): a small MLP on the 8x8 digits trained with
cross-entropy, label smoothing, the confidence penalty or distillation.
"""

import streamlit as st

from ui.entropy_lab_views import loss_lab_section
from ui.entropy_views import distributions_section, kl_fit_section, tabs, unit_picker, upgrade_link
from ui.shell import run_inside_app

run_inside_app()
upgrade_link()  # links from before the parameter table: old codes -> today's names, before any widget
st.title("🎲 Entropy, cross-entropy & KL")
intro, units = st.columns([3, 1], vertical_alignment="center")
intro.caption(
    "How surprising is an outcome, and how many bits does a message cost when the code was built for the "
    "wrong distribution? Edit two distributions, watch one Gaussian chase two peaks, then train a network "
    "with four losses."
)
with units:
    unit = unit_picker()

part_a, part_fit, part_b = tabs()  # a link to lab settings opens the lab; only the open tab runs
with part_a:
    if part_a.open:
        distributions_section(unit)
with part_fit:
    if part_fit.open:
        kl_fit_section(unit)
with part_b:
    if part_b.open:
        loss_lab_section(unit)
