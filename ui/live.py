"""The live-training panel every trainer page uses.

    snap = live_training_panel(
        "gan", build=lambda: GANTrainer(config), signature=config,
        render=draw_gan_views, max_steps_per_update=500, default_steps_per_update=50,
    )

- Start / Pause, Step and Reset buttons, and a "steps per update" slider.
- While running, an ``st.fragment`` reruns a few times a second: each tick
  trains ``steps per update`` steps, then ``render(snapshot)`` redraws the
  charts. Training speed and chart speed are decoupled: never one redraw per
  step. The rest of the page stays responsive between ticks.
- The trainer lives in ``st.session_state`` (one per browser session). A new
  ``signature`` (the config) builds a new trainer: changing a setting starts
  training again.
- Training stops by itself at ``max_steps`` or when the trainer reports an
  error (a diverged run keeps its last good state on screen).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.trainer import Snapshot, Trainer


@dataclass
class LiveRun:
    """What the panel keeps between reruns for one trainer."""

    trainer: Trainer
    signature: Hashable
    snapshot: Snapshot
    running: bool = False
    steps_per_second: float | None = None
    restarted: bool = False  # built anew because the settings changed


# The button callbacks are idempotent on purpose. When a click lands while a
# ``run_every`` tick is being requested, Streamlit 1.67 can deliver the
# button's trigger twice (once with the fragment rerun, once with the full
# rerun), so a "toggle" callback would undo itself and the click would look
# lost. Each callback therefore names the state it wants, or the trainer and
# step it was drawn for, and does nothing when that no longer holds.


def _set_running(key: str, running: bool) -> None:
    run: LiveRun = st.session_state[key]
    run.running = running and not run.trainer.done


def _step(key: str, trainer_id: int, at_step: int) -> None:
    run: LiveRun = st.session_state[key]
    if id(run.trainer) != trainer_id or run.trainer.step != at_step:
        return  # a repeated delivery of the same click
    run.running = False
    run.snapshot = run.trainer.train(st.session_state[f"{key}:spu"])


def _reset(key: str, build: Callable[[], Trainer], trainer_id: int) -> None:
    run: LiveRun = st.session_state[key]
    if id(run.trainer) != trainer_id:
        return  # a repeated delivery of the same click
    trainer = build()
    st.session_state[key] = LiveRun(trainer, run.signature, trainer.snapshot())


def _status_line(run: LiveRun, step_unit: str = "steps") -> str:
    trainer = run.trainer
    one = step_unit[:-1] if step_unit.endswith("s") else step_unit
    text = f"{one[:1].upper()}{one[1:]} {trainer.step:,}"
    if trainer.max_steps:
        text += f" of {trainer.max_steps:,}"
    if run.snapshot.error:
        return text + " · stopped: training diverged"
    if trainer.done:
        return text + " · finished"
    state = "training" if run.running else ("paused" if trainer.step else "ready: press Start")
    rate = ""
    if run.running and run.steps_per_second:
        speed = run.steps_per_second
        rate = f" · about {speed:,.0f} {step_unit}/s" if speed >= 10 else f" · about {speed:.1f} {step_unit}/s"
    return f"{text} · {state}{rate}"


def live_training_panel(
    key: str,
    *,
    build: Callable[[], Trainer],
    signature: Hashable,
    render: Callable[[Any], None],
    max_steps_per_update: int = 500,
    default_steps_per_update: int = 50,
    updates_per_second: float = 4.0,
    step_unit: str = "steps",
) -> Snapshot:
    """Draw the controls and the live view; return the latest snapshot.

    ``key`` must be unique in the app (it names the session state); ``build``
    makes a fresh trainer from the current settings; ``signature`` identifies
    those settings (a frozen config dataclass is ideal); ``render`` draws a
    snapshot with Streamlit calls and is called inside the fragment.
    """
    run: LiveRun | None = st.session_state.get(key)
    if run is None or run.signature != signature:
        trainer = build()
        run = LiveRun(trainer, signature, trainer.snapshot(), restarted=run is not None)
        st.session_state[key] = run

    spu_key = f"{key}:spu"
    if spu_key not in st.session_state:
        st.session_state[spu_key] = default_steps_per_update

    done = run.trainer.done
    c_start, c_step, c_reset, c_speed = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
    label = "⏸ Pause" if run.running else ("▶ Resume" if run.trainer.step else "▶ Start")
    trainer_id = id(run.trainer)
    c_start.button(label, key=f"{key}:toggle", on_click=_set_running, args=(key, not run.running),
                   disabled=done, width="stretch", type="primary")
    c_step.button("⏭ Step", key=f"{key}:step", on_click=_step, args=(key, trainer_id, run.trainer.step),
                  disabled=done or run.running, width="stretch",
                  help="Train one update's worth of steps, then stop.")
    c_reset.button("↺ Reset", key=f"{key}:reset", on_click=_reset, args=(key, build, trainer_id),
                   width="stretch", help="Start again from freshly initialised weights.")
    c_speed.slider(f"{step_unit.capitalize()} per update", 1, max_steps_per_update, key=spu_key,
                   help=f"How many {step_unit} run between two redraws of the charts "
                        f"(about {updates_per_second:g} redraws a second while training).")
    if run.restarted and run.trainer.step == 0:
        st.caption("The settings changed, so training starts again from step 0.")

    @st.fragment(run_every=1.0 / updates_per_second if run.running else None)
    def _live_view() -> None:
        live: LiveRun = st.session_state[key]
        if live.running:
            steps = st.session_state[spu_key]
            start = time.perf_counter()
            live.snapshot = live.trainer.train(steps)
            elapsed = time.perf_counter() - start
            if elapsed > 0:
                live.steps_per_second = steps / elapsed
            if live.trainer.done:
                live.running = False
                st.rerun(scope="app")  # redraw the buttons; stops the ticks
        trainer = live.trainer
        progress = trainer.step / trainer.max_steps if trainer.max_steps else 0.0
        st.progress(min(1.0, progress), text=_status_line(live, step_unit))
        if live.snapshot.error:
            st.error(live.snapshot.error, icon="🛑")
        render(live.snapshot)

    _live_view()
    return st.session_state[key].snapshot
