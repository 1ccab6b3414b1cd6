"""The GAN page in AppTest: controls, URL state, presets, live training, divergence, fuzzing."""

from __future__ import annotations

import re

from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from tests.helpers import live_figures, live_view, metric, press, shown_count, status, tick_until, title

PAGE = "pages/gan.py"
ALL_VIEWS = ["plane", "manifold", "loss", "divergence", "coverage", "shares", "gradient"]
_metric = metric


def _step(at):
    match = re.search(r"Generator step ([\d,]+)", status(at))
    return int(match.group(1).replace(",", "")) if match else -1


def _start(at, ticks):
    return press(at, "Start", ticks)


def test_page_opens_with_the_default_preset_and_all_views():
    at = open_page(PAGE)
    assert not problems(at)
    assert at.title[0].value.endswith("GAN training live")
    assert at.selectbox(key="gan:preset").value == "default"
    assert at.selectbox(key="gan:target").value == "ring8"
    assert _metric(at, "Modes covered") == "0 of 8"
    assert list(live_figures(at, "gan:charts")) == ALL_VIEWS
    assert _step(at) == 0


def test_training_runs_changes_the_numbers_and_pauses():
    at = open_page(PAGE)
    before = _metric(at, "JS divergence (bits)")
    _start(at, ticks=1)
    tick_until(at, lambda a: _step(a) >= 60)  # JS and KL are measured every 50 generator steps
    assert not problems(at)
    assert _metric(at, "JS divergence (bits)") != before
    assert _metric(at, "D loss") != "—"
    # the step drawn is the step of the data drawn: the plane's title and the status line agree
    view = live_view(at, "gan:charts")
    assert view["step"] == _step(at)
    assert f"after {view['step']:,} generator steps" in title(live_figures(at, "gan:charts")["plane"])
    press(at, "Pause")
    paused = _step(at)
    at.run()
    at.run()
    assert _step(at) == paused


def test_link_sets_the_controls():
    at = open_page(PAGE, {"target": "grid25", "loss": "hinge", "glr": "0.001", "dsteps": "3", "sn": "1"})
    assert not problems(at)
    assert at.selectbox(key="gan:loss").value == "hinge"
    assert at.select_slider(key="gan:glr").value == 0.001
    assert at.slider(key="gan:dsteps").value == 3
    assert at.checkbox(key="gan:sn").value is True
    assert re.fullmatch(r"\d+ of 25", _metric(at, "Modes covered"))
    # the critic losses have no label to smooth: the control is disabled
    assert at.slider(key="gan:smooth").proto.disabled


def test_a_bad_link_value_falls_back_with_a_notice():
    at = open_page(PAGE, {"loss": "wasserstein", "glr": "banana"})
    assert not problems(at)
    assert at.selectbox(key="gan:loss").value == "nonsaturating"
    assert len(at.warning) >= 2


def test_a_preset_sets_the_other_controls_and_so_does_a_preset_link():
    at = open_page(PAGE)
    at.selectbox(key="gan:preset").set_value("saturating").run()
    assert not problems(at)
    assert at.selectbox(key="gan:loss").value == "minimax"
    assert "Saturating" in at.info[0].value
    at = open_page(PAGE, {"preset": "collapse"})
    assert at.select_slider(key="gan:nz").value == 8
    at = open_page(PAGE, {"preset": "collapse", "nz": "4"})  # an explicit value wins
    assert at.select_slider(key="gan:nz").value == 4


def test_a_target_without_modes_shows_no_count():
    at = open_page(PAGE, {"target": "moons"})
    assert not problems(at)
    assert _metric(at, "Modes covered") == "—"
    assert list(live_figures(at, "gan:charts")) == ["plane", "manifold", "loss", "divergence", "gradient"]


def test_a_diverging_run_stops_with_a_message_and_keeps_its_charts():
    at = open_page(PAGE, {"preset": "diverge"})
    at.slider(key="gan:run:spu").set_value(200).run()
    _start(at, ticks=1)
    tick_until(at, lambda a: "stopped" in status(a), max_ticks=200)
    assert not at.exception
    assert any("diverged" in e.value for e in at.error)
    assert "stopped" in status(at)
    assert list(live_figures(at, "gan:charts")) == ALL_VIEWS


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
    at.select_slider(key="gan:glr").set_value(3e-4).run()
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
    at.select_slider(key="gan:gwidth").set_value(32).run()
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
