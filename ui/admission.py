"""Page opens take turns; the reruns of pages already open do not wait for them.

When a class follows one link, about 30 pages open within a few seconds on one
interpreter lock. Each open costs 100-250 ms of that lock (widgets, figures, a
trainer, the session's first state), and Python shares the lock among all the
threads that want it. With ten opens under way at once, a student who already
has the page and moves a slider waits for a tenth of the lock: a 60 ms rerun
took 0.8-1.5 s in the first seconds of a class (the classroom load test's
rerun timeline), while later in the same class it took 0.1-0.3 s.

So app.py lets at most ``OPENS_AT_ONCE`` first runs of a page (per session and
page: an open, or a switch to a page not yet seen in that session) run at a
time, in the order they arrive; reruns and the live views' ticks never wait
here. The work is the same, done in turn instead of side by side, and a
slider moved meanwhile shares the lock with one open instead of with all of
them. An open waits at most ``OPEN_WAIT_MAX`` seconds for its turn and then
runs anyway, so a slow page (or a stuck one) cannot hold up the class.

Measured with the classroom load test (30 students, 5 training, all eight
pages, 4 runs each way): the reruns of the first 10 s went from p50 / p95
0.65 / 1.48 s to 0.38 / 1.07 s, and opening p95 from 1.8-3.4 s to 1.8-2.4 s.
A class on three light pages opens a little later (p95 0.7 s -> 0.7-1.1 s):
each open waits for the one before it, and an open that waits for the bandit
worker keeps its turn meanwhile. Two opens at a time were no better than
none in turn: the second open takes the share of the lock a rerun would get.

Nothing here imports Streamlit: app.py decides what counts as a first run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

OPENS_AT_ONCE = 1  # one open at a time: the lock runs one thread at a time anyway
OPEN_WAIT_MAX = 3.0  # seconds an open waits for its turn before it runs anyway

_turns = threading.Semaphore(OPENS_AT_ONCE)
_stats_lock = threading.Lock()
stats = {"opens": 0, "gave_up": 0}  # first runs, and those of them that waited too long and ran without a turn


@contextmanager
def turn(first_run: bool, wait_max: float | None = None) -> Iterator[float]:
    """Run the body of a page run in its turn when ``first_run``; at once otherwise.

    Yields the seconds it waited. The turn is given back however the body
    ends (Streamlit stops and restarts scripts with exceptions)."""
    if not first_run:
        yield 0.0
        return
    began = time.monotonic()
    got = _turns.acquire(timeout=OPEN_WAIT_MAX if wait_max is None else wait_max)
    waited = time.monotonic() - began
    with _stats_lock:
        stats["opens"] += 1
        stats["gave_up"] += not got
    try:
        yield waited
    finally:
        if got:
            _turns.release()
