"""Once per server: set torch's threads, start the worker process and import every page's modules,
in the background.

A fresh server otherwise imports torch, scikit-learn and each page's code the
first time a student opens that page, holding the interpreter lock for
seconds while the rest of the class waits (measured: a page opened 5-6 s
after the home page on a crowded server, 0.5 s once imported). The imports
run in one background thread as soon as the first visitor arrives; a session
that needs a module sooner simply waits for it (Python's import lock).
pandas is imported by app.py before any session runs (see the note there).

Then the server visits its own pages once (``visit_pages``): a session per page
over its own websocket opens each page, so the shared caches (data sets, the
teacher, the bandit testbed's default answers, the first call of each torch
layer) are filled before the class arrives rather than by the first student on
each page. The visit gives way to real visitors: it opens a page only when no
page run of anyone else is under way (``page_began``/``page_ended``, called
by app.py) and skips the pages a visitor has opened already (their caches
are filled). A class that arrives at once on a fresh server otherwise shared
the interpreter lock with the visit while 30 pages opened. Measured with the
classroom load test (30 students, 5 training, all pages, a fresh server): see
the README's "Serving a class".

After the imports, and again after the visit, everything the process holds
is moved out of the garbage collector's sight (``gc.freeze``): the modules,
classes and caches live as long as the server. Without it, each full
collection walked them all, holding the interpreter lock for 250-300 ms
every 15 s or so while a class worked (measured with a probe in the server),
and every student's rerun waited for it.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import threading
import time
from pathlib import Path

_log = logging.getLogger(__name__)
HEAVY = ("torch", "sklearn.metrics", "scipy.stats")
VISIT_TIMEOUT = 60.0  # seconds one page of the self-visit may take before the visit gives up
VISIT_PAUSE = 2.0  # after each page the self-visit waits this many times what the page took: a class that
# arrives meanwhile shares the interpreter lock with a visit using at most a third of it
IDLE_FOR = 0.5  # seconds without a visitor's page run before the self-visit opens its next page
IDLE_WAIT_MAX = 30.0  # ... but after this long it opens it anyway
_runs_lock = threading.Lock()
_running = 0  # page runs under way now (app.py), the self-visit's own included
_last_run_end = 0.0  # monotonic time the last page run ended
opened: set[str] = set()  # url paths of the pages that have run at least once in this server
state: dict[str, float | str | None] = {"started": None, "finished": None, "error": None,
                                        "visited": None, "visit_error": None}


def page_modules() -> list[str]:
    """Every page's helper module (ui/*_views.py), which imports that page's core and plots."""
    here = Path(__file__).resolve().parent
    return [f"ui.{p.stem}" for p in sorted(here.glob("*_views.py"))]


def ready() -> bool:
    """True once every page's modules are imported (then a page draws at full speed)."""
    return state["finished"] is not None


def _import_all() -> None:
    state["started"] = time.monotonic()
    try:
        from core.device import configure_threads

        configure_threads()  # once per process, before any model trains
        from ui.bandits_views import warm_workers

        warm_workers()
        for name in (*HEAVY, *page_modules()):
            importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - a page that fails to import says so itself when opened
        state["error"] = f"{type(exc).__name__}: {exc}"
        _log.warning("background import stopped: %s", state["error"])
    state["finished"] = time.monotonic()
    if not _in_a_server():
        return
    gc.collect()  # what is garbage now goes; everything left lives as long as the server (see above)
    gc.freeze()
    if os.environ.get("ML_EXPLORABLES_WARM_VISIT", "1") != "0":
        try:
            state["visited"] = visit_pages()
        except Exception as exc:  # noqa: BLE001 - a warm-up that fails leaves the pages as they were
            state["visit_error"] = f"{type(exc).__name__}: {exc}"
            _log.warning("self-visit stopped: %s", state["visit_error"])
        gc.freeze()  # and the shared caches the visit filled (no full collection now: a class may be here)


def page_began(url_path: str) -> None:
    """app.py, before a page runs (any session, the self-visit's too)."""
    global _running
    with _runs_lock:
        _running += 1
        opened.add(url_path)


def page_ended() -> None:
    """app.py, when that run ends (finished, stopped or cut short by the next rerun)."""
    global _running, _last_run_end
    with _runs_lock:
        _running -= 1
        _last_run_end = time.monotonic()


def _quiet() -> bool:
    """No page run under way, and none ended in the last ``IDLE_FOR`` seconds."""
    with _runs_lock:
        return _running <= 0 and time.monotonic() - _last_run_end >= IDLE_FOR


def _in_a_server() -> bool:
    """True inside ``streamlit run`` (not under AppTest, whose runtime is a mock)."""
    from streamlit.runtime import Runtime

    return type(Runtime._instance) is Runtime


def visit_links() -> list[str]:
    """Every page once, and the entropy page's lab tab (only the open tab of that page runs)."""
    from ui.registry import all_pages

    return [p.url_path for p in all_pages()] + ["entropy?epochs=30"]


def visit_pages(port: int | None = None, links: list[str] | None = None, pause: float = VISIT_PAUSE) -> int:
    """Open every link once over the server's own websocket, each as a new visitor; return how many
    finished cleanly."""
    import asyncio

    import streamlit as st

    port = port or int(st.get_option("server.port"))
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    url = f"ws://127.0.0.1:{port}/{base + '/' if base else ''}_stcore/stream"
    links = links or visit_links()
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no event loop in this thread (the warm-up thread): run one here
        return asyncio.run(_visit(url, links, pause))
    import concurrent.futures  # called from a thread that runs a loop already: use a thread of its own

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(_visit(url, links, pause))).result()


async def _visit(url: str, links: list[str], pause: float) -> int:
    import asyncio

    finished = 0
    took = 0.0
    for link in links:
        if took and pause and link not in opened:
            await asyncio.sleep(pause * took)
        waited = time.monotonic()
        while link not in opened and not _quiet() and time.monotonic() - waited < IDLE_WAIT_MAX:
            await asyncio.sleep(0.1)
        if link in opened:  # a visitor opened it: its caches are filled (the link counts as visited)
            finished += 1
            continue
        began = time.monotonic()
        finished += await _open_once(url, link)
        took = time.monotonic() - began
    return finished


async def _open_once(url: str, link: str) -> bool:
    """Open ``link`` as a new visitor would (a session of its own: a page that decides something once
    per session, such as the entropy page's opening tab, decides it from this link); True when the
    page's run finished cleanly."""
    import asyncio

    import websockets  # a dependency of streamlit itself
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    done = ForwardMsg.ScriptFinishedStatus
    page, _, query = link.partition("?")
    msg = BackMsg()
    msg.rerun_script.page_name = page
    msg.rerun_script.query_string = query
    ws = await websockets.connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=VISIT_TIMEOUT,
                                  ping_interval=None)
    try:
        await ws.send(msg.SerializeToString())
        while True:  # until this page's run has finished
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(ws.recv(), VISIT_TIMEOUT))
            if reply.WhichOneof("type") != "script_finished":
                continue
            status = reply.script_finished
            if status in (done.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, done.FINISHED_EARLY_FOR_RERUN):
                continue  # a fragment's tick, or a run the page restarted itself: wait for its end
            _log.debug("self-visit %s: %s", link, status)
            return status == done.FINISHED_SUCCESSFULLY
    finally:
        await ws.close()


def start() -> threading.Thread:
    """Start the background warm-up: torch's thread count, the worker process, every page's imports
    (call once per server; it returns at once)."""
    thread = threading.Thread(target=_import_all, name="warm-imports", daemon=True)
    thread.start()
    return thread
