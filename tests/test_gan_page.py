"""The GAN page in AppTest: controls, URL state, presets, live training, divergence, fuzzing."""

from __future__ import annotations

import re

from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from tests.helpers import link, live_figures, live_view, metric, press, shown_count, status, tick_until, title

from core.gan import PARAMS, GANConfig
from ui.gan_views import url

PAGE = "pages/gan.py"
ALL_VIEWS = ["plane", "manifold", "loss", "divergence", "coverage", "shares", "gradient"]
_metric = metric


def _key(name):
    return url.param_key(PARAMS[name])


def _step(at):
    match = re.search(r"Generator step ([\d,]+)", status(at))
    return int(match.group(1).replace(",", "")) if match else -1


def _start(at, ticks):
    return press(at, "Start", ticks)


def _views(at) -> list[str]:
    """The charts shown, in page order: the plane (its own live view, beside the settings), then the rest."""
    return list(live_figures(at, "gan:plane")) + list(live_figures(at, "gan:charts"))


def test_page_opens_with_the_default_preset_and_all_views():
    at = open_page(PAGE)
    assert not problems(at)
    assert at.title[0].value.endswith("GAN training live")
    assert at.selectbox(key=_key("preset")).value == "default"
    assert at.selectbox(key=_key("target")).value == "ring8"
    assert _metric(at, "Modes covered") == "0 of 8"
    assert _views(at) == ALL_VIEWS
    assert _step(at) == 0
    # the plane is the main view: drawn taller than any other chart (the browser test checks the screen)
    figures = {**live_figures(at, "gan:plane"), **live_figures(at, "gan:charts")}
    heights = {name: fig["layout"].get("height", 0) for name, fig in figures.items()}
    assert max(heights, key=heights.get) == "plane" and list(heights.values()).count(heights["plane"]) == 1, heights


def test_training_runs_changes_the_numbers_and_pauses():
    at = open_page(PAGE)
    before = _metric(at, "JS divergence (bits)")
    _start(at, ticks=1)
    tick_until(at, lambda a: _step(a) >= 60)  # JS and KL are measured every 50 generator steps
    assert not problems(at)
    assert _metric(at, "JS divergence (bits)") != before
    assert _metric(at, "D loss") != "—"
    # the step drawn is the step of the data drawn: the plane's title and the status line agree
    view = live_view(at, "gan:plane")
    assert view["step"] == _step(at) == live_view(at, "gan:charts")["step"]
    assert f"after {view['step']:,} generator steps" in title(live_figures(at, "gan:plane")["plane"])
    press(at, "Pause")
    paused = _step(at)
    at.run()
    at.run()
    assert _step(at) == paused


def test_link_sets_the_controls():
    at = open_page(PAGE, {"target": "grid25", "loss": "hinge", "glr": "0.001", "dsteps": "3", "sn": "1"})
    assert not problems(at)
    assert at.selectbox(key=_key("loss")).value == "hinge"
    assert at.select_slider(key=_key("g_lr")).value == 0.001
    assert at.slider(key=_key("d_steps")).value == 3
    assert at.checkbox(key=_key("spectral_norm")).value is True
    assert re.fullmatch(r"\d+ of 25", _metric(at, "Modes covered"))
    # the critic losses have no label to smooth: the control is disabled
    assert at.slider(key=_key("label_smoothing")).proto.disabled


# A link from before the parameter table (short codes) and the same settings under today's names,
# written out by hand, with the values every control must then show.
OLD_LINK = {
    "target": "grid25", "loss": "lsgan", "glr": "0.0003", "dlr": "0.003", "dsteps": "3", "seed": "7",
    "gopt": "rmsprop", "gdepth": "3", "gwidth": "64", "dopt": "sgd", "ddepth": "1", "dwidth": "32",
    "nz": "4", "noise": "uniform", "batch": "64", "b1": "0.5", "b2": "0.9", "sched": "constant",
    "act": "tanh", "smooth": "0.1", "inoise": "0.05", "gp": "1", "sn": "1", "steps": "2000",
}
NEW_LINK = {
    "target": "grid25", "loss": "lsgan", "g_lr": "0.0003", "d_lr": "0.003", "d_steps": "3", "seed": "7",
    "g_optimizer": "rmsprop", "g_depth": "3", "g_width": "64", "d_optimizer": "sgd", "d_depth": "1",
    "d_width": "32", "noise_dim": "4", "noise": "uniform", "batch_size": "64", "beta1": "0.5", "beta2": "0.9",
    "lr_schedule": "constant", "activation": "tanh", "label_smoothing": "0.1", "instance_noise": "0.05",
    "gp_weight": "1", "spectral_norm": "1", "max_steps": "2000",
}
SHOWN = {
    "target": "grid25", "loss": "lsgan", "g_lr": 3e-4, "d_lr": 3e-3, "d_steps": 3, "seed": 7,
    "g_optimizer": "rmsprop", "g_depth": 3, "g_width": 64, "d_optimizer": "sgd", "d_depth": 1, "d_width": 32,
    "noise_dim": 4, "noise": "uniform", "batch_size": 64, "beta1": 0.5, "beta2": 0.9, "lr_schedule": "constant",
    "activation": "tanh", "label_smoothing": 0.1, "instance_noise": 0.05, "gp_weight": 1.0, "spectral_norm": True,
    "max_steps": 2000,
}


def _shown(at) -> dict:
    """Every control's value as the page shows it."""
    widgets = {}
    for name in SHOWN:
        kind = PARAMS[name].kind
        getter = {"select_slider": at.select_slider, "slider": at.slider, "selectbox": at.selectbox,
                  "checkbox": at.checkbox, "number": at.number_input}[kind]
        widgets[name] = getter(key=_key(name)).value
    return widgets


_link = link  # tests.helpers.link: the link, one value per name

def test_a_link_with_the_old_short_codes_opens_the_same_run_under_the_new_names():
    old = open_page(PAGE, OLD_LINK)
    new = open_page(PAGE, NEW_LINK)
    for at in (old, new):
        assert not problems(at)
        assert not at.warning, [w.value for w in at.warning]
        assert _shown(at) == SHOWN
        assert _link(at) == NEW_LINK  # the old codes are gone from the link, the new names carry the values
    # the run the page builds is the one the link describes
    expected = GANConfig(**SHOWN)
    assert old.session_state["gan:run"].trainer.config == expected
    assert new.session_state["gan:run"].trainer.config == expected


def test_a_new_name_wins_over_an_old_code_in_the_same_link():
    at = open_page(PAGE, {"nz": "8", "noise_dim": "1", "glr": "0.1"})
    assert at.select_slider(key=_key("noise_dim")).value == 1
    assert at.select_slider(key=_key("g_lr")).value == 0.1
    assert _link(at) == {"noise_dim": "1", "g_lr": "0.1"}


def test_a_bad_link_value_falls_back_with_a_notice():
    at = open_page(PAGE, {"loss": "wasserstein", "glr": "banana"})
    assert not problems(at)
    assert at.selectbox(key=_key("loss")).value == "nonsaturating"
    assert len(at.warning) >= 2


def test_a_preset_sets_the_other_controls_and_so_does_a_preset_link():
    at = open_page(PAGE)
    at.selectbox(key=_key("preset")).set_value("saturating").run()
    assert not problems(at)
    assert at.selectbox(key=_key("loss")).value == "minimax"
    assert "Saturating" in at.info[0].value
    at = open_page(PAGE, {"preset": "collapse"})
    assert at.select_slider(key=_key("noise_dim")).value == 8
    at = open_page(PAGE, {"preset": "collapse", "nz": "4"})  # an explicit value wins
    assert at.select_slider(key=_key("noise_dim")).value == 4
    assert at.select_slider(key=_key("g_lr")).value == 2e-4  # the others come from the preset
    assert _link(at) == {"preset": "collapse", "noise_dim": "4", "g_lr": "0.0002", "d_lr": "0.0002",
                         "beta1": "0.5", "lr_schedule": "constant", "max_steps": "10000"}


def test_a_preset_keeps_the_target_and_the_seed_and_resets_the_rest():
    at = open_page(PAGE, {"target": "moons", "seed": "12", "batch_size": "32", "preset": "ganlab"})
    assert at.select_slider(key=_key("batch_size")).value == 32  # the link's value beats the preset's 64
    at.selectbox(key=_key("preset")).set_value("wgan").run()
    assert not problems(at)
    assert at.selectbox(key=_key("target")).value == "moons"
    assert at.number_input(key=_key("seed")).value == 12
    assert at.selectbox(key=_key("loss")).value == "wgan-gp"
    assert at.select_slider(key=_key("batch_size")).value == 256  # the default, which WGAN-GP keeps
    assert at.select_slider(key=_key("g_width")).value == 128  # ganlab's 16 is gone
    assert _link(at) == {"target": "moons", "seed": "12", "preset": "wgan", "loss": "wgan-gp", "d_steps": "5",
                         "g_lr": "0.0001", "d_lr": "0.0001", "beta1": "0.5", "beta2": "0.9",
                         "lr_schedule": "constant", "max_steps": "10000"}
    assert not [c for c in at.caption if c.value.startswith("Changed from the preset")]
    at.slider(key=_key("d_steps")).set_value(2).run()
    assert [c.value for c in at.caption if c.value.startswith("Changed from the preset")] == [
        "Changed from the preset: D steps per G step."]


def test_a_target_without_modes_shows_no_count():
    at = open_page(PAGE, {"target": "moons"})
    assert not problems(at)
    assert _metric(at, "Modes covered") == "—"
    assert _views(at) == ["plane", "manifold", "loss", "divergence", "gradient"]


def test_a_diverging_run_stops_with_a_message_and_keeps_its_charts():
    at = open_page(PAGE, {"preset": "diverge"})
    at.slider(key="gan:run:spu").set_value(200).run()
    _start(at, ticks=1)
    tick_until(at, lambda a: "stopped" in status(a), max_ticks=200)
    assert not at.exception
    assert any("diverged" in e.value for e in at.error)
    assert "stopped" in status(at)
    assert _views(at) == ALL_VIEWS


def test_fuzzing_the_widgets_never_breaks_the_page():
    at = open_page(PAGE)
    changed = fuzz_widgets(at, rounds=10, seed=5)
    assert changed >= 10  # at least one widget per round was really set
    _start(at, ticks=1)
    assert not problems(at)


def test_the_samples_csv_holds_every_point_shown():
    import io

    import numpy as np
    import pandas as pd

    from core.gan import GANConfig, GANTrainer
    from ui.gan_views import _samples_csv

    snap = GANTrainer(GANConfig(max_steps=100)).train(10)
    table = pd.read_csv(io.StringIO(_samples_csv(snap)))
    assert list(table.columns) == ["kind", "x1", "x2"]
    for kind, points in (("real", snap.real), ("generated", snap.fake)):
        rows = table[table.kind == kind][["x1", "x2"]].to_numpy()
        np.testing.assert_allclose(rows, points, atol=1e-5)


def test_a_new_learning_rate_applies_while_training_and_is_marked():
    at = open_page(PAGE)
    _start(at, ticks=2)
    run = at.session_state["gan:run"]
    trainer, step = run.trainer, run.trainer.step
    at.select_slider(key=_key("g_lr")).set_value(3e-4).run()
    assert at.session_state["gan:run"].trainer is trainer, "the same networks go on training"
    assert trainer.config.g_lr == 3e-4 and trainer.step >= step
    # the default schedule scales the new rate down linearly over the run
    assert 0.9 * 3e-4 < trainer.g_opt.param_groups[0]["lr"] <= 3e-4
    at.run()
    view = live_view(at, "gan:charts")
    assert view["markers"] and view["markers"][0][0] == step
    assert "g_lr" in view["markers"][0][1]
    assert any("Applied to the running model" in c.value for c in at.caption)
    # the width of a network is not a live setting: that starts again
    at.select_slider(key=_key("g_width")).set_value(32).run()
    assert at.session_state["gan:run"].trainer is not trainer and shown_count(at) == 0


def test_modes_covered_on_screen_matches_an_independent_count():
    """Recount the modes from the generator's own samples with plain NumPy."""
    import numpy as np

    from core.gan_targets import MODES

    at = open_page(PAGE, {"seed": "3"})
    _start(at, ticks=1)
    tick_until(at, lambda a: _step(a) >= 120)
    press(at, "Pause")
    trainer = at.session_state["gan:run"].trainer
    with __import__("torch").no_grad():
        fake = trainer.G(trainer.z_eval).numpy()
    modes = MODES["ring8"]
    near = np.linalg.norm(fake[:, None, :] - modes.centres[None, :, :], axis=2) <= 3 * modes.std
    covered = int(np.sum(near.mean(axis=0) >= 0.4 / len(modes.centres)))
    at.run()
    assert metric(at, "Modes covered") == f"{covered} of 8"
