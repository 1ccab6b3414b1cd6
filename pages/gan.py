"""GAN training live: a generator and a discriminator play their game on 2-D data."""

import streamlit as st

from core.gan import GANTrainer
from ui import gan_views
from ui.live import live_training_panel
from ui.shell import run_inside_app

run_inside_app()
st.title("🎨 GAN training live")
st.caption(
    "A **generator** G turns random noise into points in the plane; a **discriminator** D learns to tell them "
    "from real ones, and G learns only from D's verdict. Press **Start** and watch, then pick a failure preset "
    "and see how the game can go wrong."
)

settings_column, live_column = gan_views.layout()
with settings_column:
    settings = gan_views.controls()
    views = gan_views.view_toggles()
    gan_views.coverage_note(settings.config.target)

with live_column:
    snap = live_training_panel(
        gan_views.RUN_KEY,
        build=lambda: GANTrainer(settings.config),
        signature=settings.config,
        render=gan_views.make_render(views, settings.preset),
        max_steps_per_update=500,
        default_steps_per_update=50,
        step_unit="generator steps",
    )

gan_views.explanations(settings.config)
