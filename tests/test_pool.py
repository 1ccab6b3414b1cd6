"""core.pool: jobs run in a separate process, answer exactly as in-process, and survive a dead worker."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from core.bandits import run_testbed
from core.pool import WorkerPool


@pytest.fixture
def pool():
    p = WorkerPool("test", preload=["core.bandits"])
    yield p
    p.shutdown()


def test_a_job_runs_in_another_process_and_matches_the_same_call_here(pool):
    assert pool.warm().result(timeout=60) != os.getpid()
    assert pool.uses_processes and pool.fallback is None
    there = pool.submit(run_testbed, "ucb", n_runs=50, n_steps=200, seed=3, c=2.0).result(timeout=60)
    here = run_testbed("ucb", n_runs=50, n_steps=200, seed=3, c=2.0)
    np.testing.assert_array_equal(there.avg_reward, here.avg_reward)
    np.testing.assert_array_equal(there.regret, here.regret)


def test_errors_come_back_as_the_original_exception(pool):
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        pool.submit(run_testbed, "nope").result(timeout=60)
    assert pool.submit(os.getpid).result(timeout=60) == pool.pid  # the worker survived


def test_queued_jobs_can_be_cancelled_and_run_in_order(pool):
    pool.warm().result(timeout=60)
    first = pool.submit(run_testbed, "epsilon_greedy", n_runs=200, n_steps=2000, epsilon=0.1)
    queued = [pool.submit(run_testbed, "ucb", n_runs=10, n_steps=10, seed=s) for s in range(3)]
    assert queued[1].cancel()
    assert first.result(timeout=60).n_steps == 2000
    assert [q.result(timeout=60).seed for q in (queued[0], queued[2])] == [0, 2]
    assert queued[1].cancelled()


def test_a_worker_killed_mid_job_fails_that_job_clearly_and_is_replaced(pool):
    old = pool.warm().result(timeout=60)
    long = pool.submit(time.sleep, 30)
    deadline = time.monotonic() + 30
    while not long.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(old, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="worker process stopped"):
        long.result(timeout=60)
    new = pool.submit(os.getpid).result(timeout=60)
    assert new not in (old, os.getpid())


def test_without_processes_jobs_run_in_a_thread(pool, monkeypatch):
    import subprocess

    def refuse(*args, **kwargs):
        raise OSError("no processes here")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    assert pool.submit(os.getpid).result(timeout=60) == os.getpid()
    assert "no processes here" in pool.fallback
