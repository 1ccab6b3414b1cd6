"""ui.live: Start / Pause / Step / Reset, fragment ticks, stopping, divergence."""

from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from core.regression import RegressionConfig, RegressionTrainer
    from ui.live import live_training_panel

    lr = st.select_slider("lr", [0.03, 0.3, 3.0], value=0.03, key="lr")
    max_steps = st.number_input("max", 10, 1000, 100, key="max")
    config = RegressionConfig(lr=lr, max_steps=max_steps)
    live_training_panel(
        "t", build=lambda: RegressionTrainer(config), signature=config,
        render=lambda snap: st.write(f"rendered step {snap.step}"),
        max_steps_per_update=50, default_steps_per_update=10,
    )


def _app():
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert not at.exception
    return at


def _run(at):
    return at.session_state["t"]


def _rendered(at):
    return [m.value for m in at.markdown if m.value.startswith("rendered")]


def test_starts_idle_and_renders_the_initial_state():
    at = _app()
    assert _run(at).trainer.step == 0 and not _run(at).running
    assert _rendered(at) == ["rendered step 0"]
    assert at.button(key="t:toggle").label == "▶ Start"
    assert "ready" in at.get("progress")[0].proto.text


def test_start_ticks_pause():
    at = _app()
    at.button(key="t:toggle").click().run()
    assert _run(at).running and _run(at).trainer.step == 10  # the run after Start is the first tick
    at.run()
    assert _run(at).trainer.step == 20 and _rendered(at) == ["rendered step 20"]
    assert at.button(key="t:toggle").label == "⏸ Pause"
    assert at.button(key="t:step").proto.disabled
    at.button(key="t:toggle").click().run()
    assert not _run(at).running and _run(at).trainer.step == 20
    at.run()
    assert _run(at).trainer.step == 20  # paused: reruns do not train
    assert at.button(key="t:toggle").label == "▶ Resume"


def test_step_trains_one_update_and_stays_paused():
    at = _app()
    at.slider(key="t:spu").set_value(7).run()
    at.button(key="t:step").click().run()
    assert _run(at).trainer.step == 7 and not _run(at).running


def test_stops_by_itself_at_max_steps():
    at = _app()
    at.number_input(key="max").set_value(25).run()
    at.button(key="t:toggle").click().run()
    for _ in range(5):
        at.run()
    assert _run(at).trainer.step == 25 and not _run(at).running
    assert at.button(key="t:toggle").proto.disabled
    assert "finished" in at.get("progress")[0].proto.text


def test_reset_and_settings_change_start_again():
    at = _app()
    at.button(key="t:step").click().run()
    old = _run(at).trainer
    at.button(key="t:reset").click().run()
    assert _run(at).trainer is not old and _run(at).trainer.step == 0
    at.button(key="t:step").click().run()
    at.select_slider(key="lr").set_value(0.3).run()
    assert _run(at).trainer.step == 0 and _run(at).trainer.config.lr == 0.3
    assert any("starts again" in c.value for c in at.caption)


def test_divergence_stops_with_a_message_and_keeps_the_last_state():
    at = _app()
    at.select_slider(key="lr").set_value(3.0).run()
    at.button(key="t:toggle").click().run()
    at.run()
    assert not _run(at).running and _run(at).trainer.error
    assert "diverged" in at.error[0].value
    assert "stopped" in at.get("progress")[0].proto.text
    assert not at.exception


def test_callbacks_survive_a_click_delivered_twice(monkeypatch):
    """Streamlit can deliver one click's trigger twice (fragment tick + full
    rerun): the panel's callbacks must give the same result either way."""
    import ui.live as live
    from core.regression import RegressionConfig, RegressionTrainer

    config = RegressionConfig()
    state = {"k:spu": 5}
    monkeypatch.setattr(live.st, "session_state", state)
    trainer = RegressionTrainer(config)
    state["k"] = live.LiveRun(trainer, config, trainer.snapshot(), running=True)

    for _ in range(2):  # Pause, delivered twice
        live._set_running("k", False)
    assert state["k"].running is False
    for _ in range(2):  # Start, delivered twice
        live._set_running("k", True)
    assert state["k"].running is True

    for _ in range(2):  # Step drawn at step 0, delivered twice: one update only
        live._step("k", id(trainer), 0)
    assert trainer.step == 5 and state["k"].running is False

    for _ in range(2):  # Reset drawn for this trainer, delivered twice: one new trainer
        live._reset("k", lambda: RegressionTrainer(config), id(trainer))
    fresh = state["k"].trainer
    assert fresh is not trainer and fresh.step == 0
    live._reset("k", lambda: RegressionTrainer(config), id(trainer))
    assert state["k"].trainer is fresh


def test_status_line_speaks_the_step_unit():
    import ui.live as live
    from core.regression import RegressionConfig, RegressionTrainer

    trainer = RegressionTrainer(RegressionConfig(max_steps=30))
    run = live.LiveRun(trainer, None, trainer.snapshot(), running=True, steps_per_second=4.25)
    assert live._status_line(run, "epochs") == "Epoch 0 of 30 · training · about 4.2 epochs/s"
    run.steps_per_second = 1834.4
    assert live._status_line(run, "generator steps") == "Generator step 0 of 30 · training · about 1,834 generator steps/s"
