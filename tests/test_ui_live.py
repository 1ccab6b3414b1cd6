"""ui.live: Start / Pause / Step / Reset, fragment ticks, stopping, divergence."""

import pytest

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
    # A tick draws first, then trains: what is drawn is the snapshot of the tick before.
    assert _run(at).trainer.step == 20 and _rendered(at) == ["rendered step 10"]
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
    at.number_input(key="max").set_value(200).run()  # not a live setting: a new run
    assert _run(at).trainer.step == 0 and _run(at).trainer.max_steps == 200
    assert any("starts again" in c.value for c in at.caption)


def test_a_new_learning_rate_applies_to_the_running_model():
    at = _app()
    at.button(key="t:toggle").click().run()
    at.run()
    trainer = _run(at).trainer
    at.select_slider(key="lr").set_value(0.3).run()
    live = _run(at)
    assert live.trainer is trainer and live.running, "the run goes on with the same model"
    assert trainer.step >= 20 and trainer.optimizer.param_groups[0]["lr"] == 0.3
    assert trainer.changes == [(20, "lr 0.03 → 0.3")]
    assert any("Applied to the running model at step 20" in c.value for c in at.caption)


def _place_of_the_live_view(at) -> tuple[int, ...]:
    """Where the fragment (the block holding the progress bar) sits in the page: its index path."""
    def find(node, path):
        for i, child in enumerate(getattr(node, "children", {}).values()):
            if getattr(child, "type", None) == "progress":
                return path
            found = find(child, path + (i,))
            if found is not None:
                return found
        return None
    return find(at.main, ())


def test_the_live_view_keeps_its_place_when_a_note_appears():
    # An element that appears above the view moves it one place down, and the browser mounts it anew:
    # its charts blank and redraw from scratch just when a learner looks for the change's effect.
    at = _app()
    at.button(key="t:toggle").click().run()
    place = _place_of_the_live_view(at)
    assert not any("Applied" in c.value or "starts again" in c.value for c in at.caption)
    at.select_slider(key="lr").set_value(0.3).run()
    assert any("Applied to the running model" in c.value for c in at.caption)
    assert _place_of_the_live_view(at) == place
    at.number_input(key="max").set_value(200).run()
    assert any("starts again" in c.value for c in at.caption)
    assert _place_of_the_live_view(at) == place


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
    run = live.LiveRun(trainer, None, trainer.snapshot(), running=True)
    run.progress.extend([(10.0, 0), (14.0, 17)])  # 17 steps over 4 s of wall time
    assert live.status_line(run, "epochs") == "Epoch 0 of 30 · training · about 4.2 epochs/s"
    run.progress.extend([(15.0, 1017)])  # over the window: 1,017 steps in 5 s
    assert live.status_line(run, "generator steps") == "Generator step 0 of 30 · training · about 203 generator steps/s"


def test_the_rate_shown_is_progress_over_wall_time_not_compute_speed():
    """Steps that train in 10 ms but are drawn every 0.5 s advance at 20 steps/s for the viewer."""
    import ui.live as live
    from core.regression import RegressionConfig, RegressionTrainer

    trainer = RegressionTrainer(RegressionConfig())
    run = live.LiveRun(trainer, None, trainer.snapshot(), running=True)
    for tick in range(5):
        run.progress.append((tick * 0.5, tick * 10))
    assert run.viewer_rate() == 20.0


def test_a_tick_trains_for_a_bounded_time_however_large_the_cap():
    import time

    import ui.live as live
    from core.gan import GANConfig, GANTrainer

    trainer = GANTrainer(GANConfig(d_steps=4, batch_size=256, g_width=128, d_width=128))
    run = live.LiveRun(trainer, None, trainer.snapshot())
    live.train_for(run, 500, 0.05)  # the first tick measures one step
    start = time.perf_counter()
    taken = live.train_for(run, 500, 0.1)
    elapsed = time.perf_counter() - start
    assert 1 <= taken < 500
    # within the budget plus one step's time and the snapshot (generous: a busy 2-core machine)
    assert elapsed < 0.1 + 3 * run.seconds_per_step + 0.5


def test_the_tick_budget_is_shared_when_many_train():
    import ui.live as live

    live._active.clear()
    assert live.tick_budget(now=100.0) == live.TICK_SECONDS
    for rid in range(10):
        live._active[rid] = 100.0
    crowded = live.tick_budget(now=100.5)
    assert live.MIN_TICK_SECONDS <= crowded < live.TICK_SECONDS / 2
    assert live.tick_budget(now=100.0 + live.ACTIVE_WINDOW + 1) == live.TICK_SECONDS  # they left
    live._active.clear()


def test_a_crowd_of_trainers_shares_the_server_redraw_rate_and_views_retune_rarely():
    import time

    import ui.live as live
    from core.regression import RegressionConfig, RegressionTrainer

    live._active.clear()
    trainer = RegressionTrainer(RegressionConfig())
    run = live.LiveRun(trainer, None, trainer.snapshot())
    alone = live.tick_interval(run, 1 / 6)
    assert alone == pytest.approx(1 / 6)
    now = time.monotonic()
    for rid in range(6):
        live._active[rid] = now
    crowded = live.tick_interval(run, 1 / 6)
    assert crowded == pytest.approx(6 / live.SERVER_TICKS_PER_SECOND)  # 6 views share the server's redraws per second
    # a view told 1/6 s before the crowd came asks for a new interval, but not twice within RETUNE_AFTER
    run.interval, run.retuned_at = alone, now - 60
    assert live.needs_retune(run, 1 / 6, now=now)
    run.retuned_at = now - 1
    assert not live.needs_retune(run, 1 / 6, now=now)
    # at the crowd's rate already: nothing to do; then ticks keep being cut short: slow down
    run.interval, run.retuned_at = crowded, now - 60
    assert not live.needs_retune(run, 1 / 6, now=now)
    run.cut_short = 3
    assert live.needs_retune(run, 1 / 6, now=now)
    live._active.clear()
    run.cut_short = 0
    assert live.needs_retune(run, 1 / 6, now=now)  # the crowd left: back to the page's own rate


def test_ticks_slow_down_to_what_they_take_on_a_crowded_server():
    import ui.live as live
    from core.regression import RegressionConfig, RegressionTrainer

    live._active.clear()
    trainer = RegressionTrainer(RegressionConfig())
    run = live.LiveRun(trainer, None, trainer.snapshot())
    assert live.tick_interval(run, 0.15) == 0.15  # nothing measured yet
    run.tick_seconds = 0.05
    assert live.tick_interval(run, 0.15) == 0.15  # quick ticks: the page's own rate
    run.tick_seconds = 0.6
    assert live.tick_interval(run, 0.15) == pytest.approx(0.75)  # slow ticks: a little slower than they take
    run.tick_seconds = 10.0
    assert live.tick_interval(run, 0.15) == live.MAX_INTERVAL
