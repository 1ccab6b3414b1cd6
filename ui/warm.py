"""Once per server: set torch's threads, start the worker process and import every page's modules,
in the background.

A fresh server otherwise imports torch, scikit-learn and each page's code the
first time a student opens that page, holding the interpreter lock for
seconds while the rest of the class waits (measured: a page opened 5-6 s
after the home page on a crowded server, 0.5 s once imported). The imports
run in one background thread as soon as the first visitor arrives; a session
that needs a module sooner simply waits for it (Python's import lock).
pandas is imported by app.py before any session runs (see the note there).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from pathlib import Path

_log = logging.getLogger(__name__)
HEAVY = ("torch", "sklearn.metrics", "scipy.stats")
state: dict[str, float | str | None] = {"started": None, "finished": None, "error": None}


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


def start() -> threading.Thread:
    """Start the background warm-up: torch's thread count, the worker process, every page's imports
    (call once per server; it returns at once)."""
    thread = threading.Thread(target=_import_all, name="warm-imports", daemon=True)
    thread.start()
    return thread
