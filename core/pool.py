"""Pure computations in a worker process: the server's other core, free of its interpreter lock.

Streamlit runs every browser session as a thread of one Python process, so
pure-Python work (the bandit testbed steps through NumPy one step at a time)
holds the interpreter lock and every other student waits. A ``WorkerPool``
runs such functions in a separate process instead: the waiting session thread
releases the lock, the server keeps answering everyone else, and the work
uses a core the server process cannot.

The worker is a plain ``python -m core.pool`` child talking over its stdin and
stdout (pickled jobs and results, length-prefixed). It imports only what the
jobs need (never torch, never Streamlit, never the page scripts, which
``multiprocessing`` would re-run in every child), so it costs about 30 MB.
Jobs run one at a time in the order sent; a job still queued can be
cancelled (``Future.cancel``). A worker that dies is replaced for the next
job; where no process can be started, the pool says so in ``fallback`` and
runs the jobs in its own thread, as before.

The functions sent must be importable at module level and their arguments
and results picklable (plain values and NumPy arrays).
"""

from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct("!Q")


def _ping() -> int:
    return os.getpid()


def _send(stream: BinaryIO, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: BinaryIO) -> bytes:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("the worker process closed its pipe")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the worker process closed its pipe mid-answer")
    return data


class WorkerPool:
    """One worker process and a queue of jobs for it; a thread fallback.

    ``niceness`` lowers the worker's priority (background work then only uses
    what the server leaves idle); ``preload`` names modules the worker imports
    when it starts, so the first job does not pay for them.
    """

    def __init__(self, name: str, *, niceness: int = 0, preload: Sequence[str] = ()) -> None:
        self.name = name
        self.niceness = niceness
        self.preload = tuple(preload)
        self.fallback: str | None = None  # why jobs run in a thread instead of a process
        self._jobs: deque[tuple[Future, Callable[..., Any], tuple, dict]] = deque()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None
        self._started: Future | None = None
        self.pid: int | None = None

    # -- the caller's side --

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Queue ``fn(*args, **kwargs)`` for the worker; the future holds its result or exception."""
        future: Future = Future()
        with self._cv:
            self._jobs.append((future, fn, args, kwargs))
            if self._thread is None:
                self._thread = threading.Thread(target=self._dispatch, name=f"{self.name}-dispatch", daemon=True)
                self._thread.start()
            self._cv.notify()
        return future

    def warm(self) -> Future:
        """Start the worker now (a fresh one takes about a second); later calls return the same answer."""
        with self._cv:
            started = self._started
        if started is None or (started.done() and (started.cancelled() or started.exception() is not None)):
            started = self.submit(_ping)
            with self._cv:
                self._started = started
        return started

    def wait_started(self, timeout: float) -> bool:
        """Wait (up to ``timeout`` s) until the worker has answered once."""
        done, _ = wait([self.warm()], timeout=timeout)
        return bool(done)

    @property
    def uses_processes(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def shutdown(self) -> None:
        with self._cv:
            proc, self._proc = self._proc, None
            for future, *_ in self._jobs:
                future.cancel()
            self._jobs.clear()
        if proc is not None:
            proc.kill()

    # -- the dispatcher thread --

    def _process(self) -> subprocess.Popen | None:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self.fallback is not None:
            return None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "core.pool", str(self.niceness), *self.preload],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env,
            )
        except OSError as exc:
            self.fallback = f"no worker process ({exc}); computing in a thread of the server"
            self._proc = None
            return None
        self.pid = self._proc.pid
        atexit.register(self._proc.kill)
        return self._proc

    def _dispatch(self) -> None:
        while True:
            with self._cv:
                while not self._jobs:
                    self._cv.wait()
                future, fn, args, kwargs = self._jobs.popleft()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            proc = self._process()
            if proc is None:
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                    future.set_exception(exc)
                continue
            try:
                _send(proc.stdin, pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL))
                ok, value = pickle.loads(_receive(proc.stdout))
            except Exception as exc:  # noqa: BLE001 - a broken pipe, a lost worker, an answer that will not load
                proc.kill()
                self._proc = None
                future.set_exception(RuntimeError(f"the {self.name} worker process stopped ({exc}); "
                                                  "it restarts for the next request"))
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


def _serve(niceness: int, preload: Sequence[str]) -> None:
    """The worker: answer jobs from stdin on stdout until stdin closes."""
    import importlib

    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the answers
    inp = sys.stdin.buffer
    if niceness and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:
            pass
    for module in preload:
        importlib.import_module(module)
    while True:
        try:
            fn, args, kwargs = pickle.loads(_receive(inp))
        except EOFError:
            return
        try:
            answer = (True, fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - sent back to the caller
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001
            data = pickle.dumps((False, RuntimeError(f"the answer could not be sent back: {exc}")))
        _send(out, data)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2:])
