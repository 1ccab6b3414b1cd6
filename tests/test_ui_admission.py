"""Page opens take turns (ui.admission): at most ``OPENS_AT_ONCE`` first runs at a time, reruns never wait, a waiter
gives up after its limit, and the turn comes back however a page run ends. app.py marks which runs are
first runs: checked under AppTest through the gate's counters."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest

from tests.conftest import open_page
from ui import admission


def _crowd(n: int, first_run: bool, hold: float) -> tuple[int, list[float]]:
    """``n`` threads enter the gate at once and each stays ``hold`` s inside; returns the most that were
    inside at the same time and each thread's time from the start to its entry."""
    inside, most, lock = 0, 0, threading.Lock()
    entered: list[float] = []
    start = threading.Barrier(n)
    t0 = time.monotonic()

    def student() -> None:
        nonlocal inside, most
        start.wait()
        with admission.turn(first_run):
            with lock:
                inside += 1
                most = max(most, inside)
                entered.append(time.monotonic() - t0)
            time.sleep(hold)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=student) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return most, sorted(entered)


def test_opens_run_a_few_at_a_time_in_turn():
    n = admission.OPENS_AT_ONCE
    assert 1 <= n <= 2  # the interpreter lock runs one thread at a time: more at once only share it
    most, entered = _crowd(3 * n, first_run=True, hold=0.1)
    assert most == n
    # they came in three waves of n, each about 0.1 s after the one before: not all at once
    waves = [entered[i] for i in range(0, 3 * n, n)]
    gaps = [b - a for a, b in zip(waves, waves[1:])]
    assert all(g >= 0.08 for g in gaps), entered


@contextmanager
def _all_turns_held():
    """Every turn taken by an open that stays until the block ends."""
    held = threading.Barrier(admission.OPENS_AT_ONCE + 1)
    release = threading.Event()

    def opening() -> None:
        with admission.turn(True):
            held.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=opening) for _ in range(admission.OPENS_AT_ONCE)]
    for t in threads:
        t.start()
    held.wait(5)
    try:
        yield
    finally:
        release.set()
        for t in threads:
            t.join(5)


def test_reruns_never_wait_even_while_opens_hold_every_turn():
    with _all_turns_held():
        most, entered = _crowd(4, first_run=False, hold=0.1)
    assert most == 4  # all four reruns ran side by side, beside the opens
    assert entered[-1] < 0.05, entered


def test_an_open_waits_at_most_its_limit_then_runs_anyway():
    gave_up = admission.stats["gave_up"]
    with _all_turns_held():
        began = time.monotonic()
        with admission.turn(True, wait_max=0.3) as waited:
            ran_after = time.monotonic() - began
    assert 0.25 <= waited <= ran_after < 2.0
    assert admission.stats["gave_up"] == gave_up + 1
    # the one that gave up did not hand back a turn it never had: still OPENS_AT_ONCE at a time
    most, _ = _crowd(3 * admission.OPENS_AT_ONCE, first_run=True, hold=0.05)
    assert most == admission.OPENS_AT_ONCE


def test_the_turn_comes_back_when_a_page_run_is_stopped():
    class Stopped(Exception):  # Streamlit stops and restarts scripts with exceptions
        pass

    for _ in range(admission.OPENS_AT_ONCE + 1):
        with pytest.raises(Stopped):
            with admission.turn(True):
                raise Stopped
    with admission.turn(True, wait_max=0.5) as waited:
        assert waited < 0.05  # free at once: every stopped run gave its turn back


def test_app_takes_a_turn_for_a_pages_first_run_only():
    before = admission.stats["opens"]
    at = open_page("pages/entropy.py")  # the page's first run in this session
    assert admission.stats["opens"] == before + 1
    at.run()  # a rerun of the same page: no turn
    assert admission.stats["opens"] == before + 1
    at.switch_page("pages/roc.py").run()  # a page this session has not seen: a turn
    assert admission.stats["opens"] == before + 2
    at.switch_page("pages/entropy.py").run()  # back to a page it has seen
    assert admission.stats["opens"] == before + 2
