"""The live-training panel every trainer page uses.

    snap = live_training_panel(
        "gan", build=lambda: GANTrainer(config), signature=config,
        render=draw_gan_views, max_steps_per_update=500, default_steps_per_update=50,
    )

- Start / Pause, Step and Reset buttons, and a cap on the steps per update.
- While running, an ``st.fragment`` reruns several times a second. Each tick
  trains for a bounded *time* (about 0.1 s, less when many students train on
  the same server), never more than the cap, then ``render(snapshot)``
  redraws. Charts go through ``ui.livechart`` and stay mounted: the browser
  redraws them in place. The rest of the page stays responsive between ticks.
- The trainer lives in ``st.session_state`` (one per browser session). When
  the settings change, the running trainer takes them if they do not change
  a model's shape (``LIVE_FIELDS`` of the config: learning rates, noise...):
  training goes on and the change is marked on the history charts. Any other
  change builds a new trainer, and the page says so.
- Training stops by itself at ``max_steps`` or when the trainer reports an
  error (a diverged run keeps its last good state on screen).
- The status line shows the speed the viewer sees: steps advanced per second
  of wall time, not the compute speed of one chunk.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.trainer import Snapshot, Trainer

TICK_SECONDS = 0.1  # training time per tick for one student alone on the server
MIN_TICK_SECONDS = 0.02  # the least a tick trains when the server is crowded
STEP_SECONDS = 0.3  # training time the Step button may use
ACTIVE_WINDOW = 2.0  # a trainer that ticked this recently counts as active
MAX_INTERVAL = 2.0  # the slowest tick rate a crowded server falls back to (seconds between ticks)
SERVER_TICKS_PER_SECOND = 6.0  # live-view redraws per second the whole server aims at, shared by the trainers
# (12 left too little of the one interpreter lock to the students moving sliders: with 5 of 30 training,
# slider reruns p50 0.45-0.93 s at 12 vs 0.11-0.36 s at 6, trainers still at 1.2-1.5 updates/s; benchmarks/classroom.py)
RETUNE_AFTER = 5.0  # seconds: the least time between two changes of one view's tick rate

_run_ids = itertools.count(1)
_active: dict[int, float] = {}  # run id -> when it last ticked, over every session of the server
_active_lock = threading.Lock()


@dataclass
class LiveRun:
    """What the panel keeps between reruns for one trainer."""

    trainer: Trainer
    signature: Hashable
    snapshot: Snapshot
    running: bool = False
    restarted: bool = False  # built anew because a setting that shapes the model changed
    run_id: int = field(default_factory=lambda: next(_run_ids))
    seconds_per_step: float | None = None  # measured, smoothed
    progress: deque = field(default_factory=lambda: deque(maxlen=40))  # (wall time, step) per tick
    applied: str | None = None  # the last settings change applied live
    tick_seconds: float | None = None  # how long a tick takes here (draw + train), smoothed
    interval: float | None = None  # the tick interval the browser was given at the last full rerun
    retuned_at: float = 0.0  # when a tick last asked for a new interval (monotonic)
    tick_open: bool = False  # a tick started and has not finished (the next one cut it short)
    cut_short: int = 0  # ticks cut short since the interval was set

    @property
    def changes(self) -> list[tuple[int, str]]:
        """(step, what changed) for every setting applied while this run went on."""
        return list(getattr(self.trainer, "changes", []))

    def viewer_rate(self) -> float | None:
        """Steps per second of wall time over the last few ticks (what the viewer sees advance)."""
        if len(self.progress) < 2:
            return None
        (t0, s0), (t1, s1) = self.progress[0], self.progress[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None


def current_run(key: str) -> LiveRun | None:
    """The live run of panel ``key`` in this session (for a page's render or its comparison of runs)."""
    run = st.session_state.get(key)
    return run if isinstance(run, LiveRun) else None


def active_trainers(now: float | None = None) -> int:
    """How many live views ticked on this server in the last ``ACTIVE_WINDOW`` seconds (at least 1)."""
    now = time.monotonic() if now is None else now
    with _active_lock:
        for rid, seen in list(_active.items()):
            if now - seen > ACTIVE_WINDOW:
                del _active[rid]
        return max(1, len(_active))


def tick_budget(now: float | None = None) -> float:
    """Seconds of training one tick may use: shared out when several students train at once.

    Every live panel on the server registers its ticks here. Sessions share
    one interpreter lock (the server is one process), so with n trainers each
    tick gets 1/n of ``TICK_SECONDS``: every student's view keeps moving and
    no one starves the others.
    """
    return max(MIN_TICK_SECONDS, TICK_SECONDS / active_trainers(now))


def crowd_interval(now: float | None = None) -> float:
    """The least interval between ticks when ``n`` views train: the server redraws at most
    ``SERVER_TICKS_PER_SECOND`` views a second in all (each redraw builds every chart of a view).
    Alone on the server, a view keeps its page's own rate."""
    n = active_trainers(now)
    return n / SERVER_TICKS_PER_SECOND if n > 1 else 0.0


def tick_interval(run: LiveRun, base: float) -> float:
    """Seconds between two ticks: ``base``, or longer when ticks take longer here.

    The browser asks for a tick every ``run_every`` seconds whether or not the
    last one has finished, and a request that lands while a tick draws cuts
    that tick short. On a crowded server the ticks therefore slow down to a
    little more than they take (at most ``MAX_INTERVAL``), so each one finishes.
    """
    crowd = crowd_interval()
    if run.tick_seconds is None:
        return min(MAX_INTERVAL, max(base, crowd))
    return min(MAX_INTERVAL, max(base, crowd, 1.25 * run.tick_seconds))


def needs_retune(run: LiveRun, base: float, now: float | None = None) -> bool:
    """True when the browser's tick interval is far from what this server can now keep up with.

    The interval is fixed when the page last ran in full; the crowd may have
    grown since (ticks cut short, or a slower rate needed) or left. A change of
    at least 1.5x, at most once per ``RETUNE_AFTER`` seconds, is worth a full
    rerun (which sets the new interval).
    """
    now = time.monotonic() if now is None else now
    if run.interval is None or now - run.retuned_at < RETUNE_AFTER:
        return False
    wanted = tick_interval(run, base)
    if run.cut_short >= 3:
        wanted = max(wanted, min(MAX_INTERVAL, 2 * run.interval))
    return wanted > 1.5 * run.interval or wanted < run.interval / 1.5


def _mark_active(run: LiveRun) -> None:
    with _active_lock:
        _active[run.run_id] = time.monotonic()


def train_for(run: LiveRun, cap: int, budget: float) -> int:
    """Train ``run`` for at most ``budget`` seconds and ``cap`` steps; returns the steps taken.

    The first chunk of a new run is one step, to measure how long a step
    takes; later chunks are sized from that measurement (smoothed), so a
    large model or a crowded server gets fewer steps per tick instead of a
    longer tick.
    """
    trainer = run.trainer
    advance = getattr(trainer, "advance", None)
    start = time.perf_counter()
    deadline = start + budget
    taken = 0
    while taken < cap and not trainer.done:
        if run.seconds_per_step is None:
            n = 1
        else:
            n = int((deadline - time.perf_counter()) / run.seconds_per_step)
            n = max(1, min(cap - taken, n))
        before = trainer.step
        t0 = time.perf_counter()
        if advance is not None:
            advance(n)
        else:
            trainer.train(n)
        took = trainer.step - before
        if took <= 0:
            break
        per_step = (time.perf_counter() - t0) / took
        run.seconds_per_step = per_step if run.seconds_per_step is None else 0.5 * run.seconds_per_step + 0.5 * per_step
        taken += took
        if time.perf_counter() + run.seconds_per_step > deadline:
            break
    run.snapshot = trainer.snapshot()
    return taken


# The button callbacks are idempotent on purpose. When a click lands while a
# ``run_every`` tick is being requested, Streamlit 1.67 can deliver the
# button's trigger twice (once with the fragment rerun, once with the full
# rerun), so a "toggle" callback would undo itself and the click would look
# lost. Each callback therefore names the state it wants, or the trainer and
# step it was drawn for, and does nothing when that no longer holds.


def _set_running(key: str, running: bool) -> None:
    run: LiveRun = st.session_state[key]
    run.running = running and not run.trainer.done
    run.progress.clear()


def _step(key: str, trainer_id: int, at_step: int) -> None:
    run: LiveRun = st.session_state[key]
    if id(run.trainer) != trainer_id or run.trainer.step != at_step:
        return  # a repeated delivery of the same click
    run.running = False
    train_for(run, st.session_state[f"{key}:spu"], STEP_SECONDS)


def _reset(key: str, build: Callable[[], Trainer], trainer_id: int) -> None:
    run: LiveRun = st.session_state[key]
    if id(run.trainer) != trainer_id:
        return  # a repeated delivery of the same click
    trainer = build()
    st.session_state[key] = LiveRun(trainer, run.signature, trainer.snapshot())


def status_line(run: LiveRun, step_unit: str = "steps") -> str:
    """"Step 340 of 2,000 · training · about 85 steps/s" (the rate the viewer sees)."""
    trainer, snap = run.trainer, run.snapshot
    one = step_unit[:-1] if step_unit.endswith("s") else step_unit
    text = f"{one[:1].upper()}{one[1:]} {snap.step:,}"
    if trainer.max_steps:
        text += f" of {trainer.max_steps:,}"
    if snap.error:
        return text + " · stopped: training diverged"
    if snap.done:
        return text + " · finished"
    state = "training" if run.running else ("paused" if snap.step else "ready: press Start")
    rate = ""
    speed = run.viewer_rate() if run.running else None
    if speed:
        rate = f" · about {speed:,.0f} {step_unit}/s" if speed >= 10 else f" · about {speed:.1f} {step_unit}/s"
    return f"{text} · {state}{rate}"


def _adopt(run: LiveRun | None, signature: Hashable, build: Callable[[], Trainer]) -> LiveRun:
    """The run for ``signature``: the current one (settings applied live when possible) or a new one."""
    if run is not None and run.signature == signature:
        return run
    if run is not None:
        reconfigure = getattr(run.trainer, "reconfigure", None)
        if reconfigure is not None and not run.trainer.done and reconfigure(signature):
            run.signature = signature
            last = run.changes[-1:] if run.changes else []
            run.applied = last[0][1] if last else None
            run.snapshot = run.trainer.snapshot()
            return run
    trainer = build()
    return LiveRun(trainer, signature, trainer.snapshot(), restarted=run is not None)


def live_training_panel(
    key: str,
    *,
    build: Callable[[], Trainer],
    signature: Hashable,
    render: Callable[[Any], None],
    max_steps_per_update: int = 500,
    default_steps_per_update: int = 50,
    updates_per_second: float = 6.0,
    step_unit: str = "steps",
    on_snapshot: Callable[[LiveRun], None] | None = None,
) -> Snapshot:
    """Draw the controls and the live view; return the latest snapshot.

    ``key`` must be unique in the app (it names the session state); ``build``
    makes a fresh trainer from the current settings; ``signature`` identifies
    those settings (a frozen config dataclass: its ``LIVE_FIELDS`` may change
    while training runs); ``render`` draws a snapshot and is called inside
    the fragment; ``on_snapshot(run)`` is called after every tick (for a
    page that keeps a record of its runs).
    """
    run = _adopt(current_run(key), signature, build)
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
    c_speed.slider(f"At most {step_unit} per update", 1, max_steps_per_update, key=spu_key,
                   help=f"The most {step_unit} trained between two redraws. Each update trains for about "
                        f"{TICK_SECONDS:g} s at most (less when many people train on this server), so large "
                        "models take fewer steps per update instead of freezing the page.")
    # The note's slot is drawn on every run, shown or not: an element that appears only after a live
    # change would move the live view one place down the page, and the browser would mount it anew
    # (its charts redrawn from scratch, blank for a moment) just when the learner watches for the effect.
    note = st.empty()
    if run.restarted and run.trainer.step == 0:
        note.caption("A setting that changes the model, the data or the seed changed, so training starts "
                     "again from step 0.")
    elif run.applied:
        note.caption(f"Applied to the running model at {step_unit[:-1] if step_unit.endswith('s') else step_unit} "
                     f"{run.changes[-1][0]:,}: {run.applied}. Training goes on; the dotted line on the history "
                     "charts marks the change.")

    base = 1.0 / updates_per_second
    interval = tick_interval(run, base)
    run.interval, run.cut_short, run.tick_open = interval, 0, False
    run.retuned_at = max(run.retuned_at, time.monotonic() - RETUNE_AFTER / 2)

    @st.fragment(run_every=interval if run.running else None)
    def _live_view() -> None:
        # Draw first, then train: the browser gets this tick's charts at once
        # (so Streamlit never shows them faded as stale while a chunk trains),
        # and the chunk trained now is drawn at the next tick. What is drawn
        # is always one snapshot: the step shown matches the data shown.
        live: LiveRun = st.session_state[key]
        started = time.perf_counter()
        if live.tick_open:
            live.cut_short += 1  # the last tick never finished: the browser asked again too soon
        live.tick_open = True
        if on_snapshot is not None:
            on_snapshot(live)
        snap = live.snapshot
        progress = snap.step / live.trainer.max_steps if live.trainer.max_steps else 0.0
        st.progress(min(1.0, progress), text=status_line(live, step_unit))
        stop_note = st.empty()  # a slot on every tick: the message appearing must not move the view (see note)
        if snap.error:
            stop_note.error(snap.error, icon="🛑")
        render(snap)
        if live.running:
            if not live.progress:
                live.progress.append((time.monotonic(), live.snapshot.step))
            _mark_active(live)
            train_for(live, st.session_state[spu_key], tick_budget())
            live.progress.append((time.monotonic(), live.snapshot.step))
            if live.trainer.done:
                live.running = False
                st.rerun(scope="app")  # draw the end state and the buttons; stops the ticks
            took = time.perf_counter() - started
            live.tick_seconds = took if live.tick_seconds is None else 0.7 * live.tick_seconds + 0.3 * took
            live.tick_open = False
            # The browser's tick rate is set by a full rerun. When the server has become crowded (or quiet)
            # enough to matter, ask for one, rarely: a crowd of ticks cut short moves nobody's view.
            if needs_retune(live, base):
                live.retuned_at = time.monotonic()
                st.rerun(scope="app")
        live.tick_open = False

    _live_view()
    return st.session_state[key].snapshot
