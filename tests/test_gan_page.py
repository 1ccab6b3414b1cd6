"""The GAN page in AppTest: controls, URL state, presets, live training, divergence, fuzzing."""

from __future__ import annotations

import re

from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems

PAGE = "pages/gan.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _step(at):
    text = " ".join(str(p.proto.text) for p in at.get("progress"))
    match = re.search(r"Generator step ([\d,]+)", text)
    return int(match.group(1).replace(",", "")) if match else -1


def _start(at, ticks):
    at.button(key="gan:run:toggle").click().run()
    for _ in range(ticks):
        at.run()
    return at


def test_page_opens_with_the_default_preset_and_all_views():
    at = open_page(PAGE)
    assert not problems(at)
    assert at.title[0].value.endswith("GAN training live")
    assert at.selectbox(key="gan:preset").value == "default"
    assert at.selectbox(key="gan:target").value == "ring8"
    assert _metric(at, "Modes covered") == "0 of 8"
    assert len(at.get("plotly_chart")) == 7
    assert _step(at) == 0


def test_training_runs_changes_the_numbers_and_pauses():
    at = open_page(PAGE)
    before = _metric(at, "JS divergence (bits)")
    _start(at, ticks=3)
    assert not problems(at)
    assert _step(at) >= 150
    assert _metric(at, "JS divergence (bits)") != before
    assert _metric(at, "D loss") != "—"
    at.button(key="gan:run:toggle").click().run()  # pause
    paused = _step(at)
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
    assert len(at.get("plotly_chart")) == 5


def test_a_diverging_run_stops_with_a_message_and_keeps_its_charts():
    at = open_page(PAGE, {"preset": "diverge"})
    at.slider(key="gan:run:spu").set_value(200).run()
    _start(at, ticks=6)
    assert not at.exception
    assert any("diverged" in e.value for e in at.error)
    assert "stopped" in " ".join(str(p.proto.text) for p in at.get("progress"))
    assert len(at.get("plotly_chart")) == 7


def test_fuzzing_the_widgets_never_breaks_the_page():
    at = open_page(PAGE)
    fuzz_widgets(at, rounds=10, seed=5)
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
