"""Shared fixtures: open the app or one page with AppTest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

# The app builds its figures without Plotly's per-property checks (core/plots/fastgo.py); every
# figure a test builds is checked (test_core_plots compares the two ways on every page).
os.environ["EXPLORABLES_VALIDATE_FIGURES"] = "1"

APP = str(Path(__file__).resolve().parent.parent / "app.py")

# The first run imports torch, plotly and scikit-learn: AppTest's default 3 s
# is too short for that on a busy 2-core machine.
APPTEST_TIMEOUT = 120


def open_app() -> AppTest:
    """The whole app (home page), run once."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.run()
    return at


def open_page(path: str, query_params: dict[str, str] | None = None) -> AppTest:
    """The app switched to ``path`` (for example ``"pages/roc.py"``), run once.

    The page runs inside app.py, exactly as in the browser: the navigation
    and the shared sidebar run too.
    """
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    at.switch_page(path)
    at.run()
    return at


@pytest.fixture
def app() -> AppTest:
    return open_app()
