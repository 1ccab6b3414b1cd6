"""GAN training live: a generator and a discriminator play their game on 2-D data."""

import streamlit as st

from core.gan import GANTrainer
from ui import gan_views
from ui.live import live_training_panel
from ui.shell import run_inside_app

run_inside_app()
st.title("🎨 GAN training live")
st.markdown(
    "A **generator** G turns random noise z into points G(z) in the plane. A **discriminator** D "
    "sees real points from the target and points from G, and learns to tell them apart. G never "
    "sees the real data: it only learns from D's verdict, moving its points where D finds them more "
    "real. They take turns, and when the game goes well G's points end up spread like the real ones. "
    "Press **Start** and watch; then pick a failure preset and see how the game can go wrong."
)

config = gan_views.controls()
gan_views.coverage_note(config.target)
views = gan_views.view_toggles()

snap = live_training_panel(
    gan_views.RUN_KEY,
    build=lambda: GANTrainer(config),
    signature=config,
    render=gan_views.make_render(views),
    max_steps_per_update=500,
    default_steps_per_update=50,
    step_unit="generator steps",
)

gan_views.explanations(config)
