"""Real-browser fixtures: a Streamlit server and Debian's headless Chromium.

Page issues reuse these: ``server_url`` (the app on a free port),
``page`` (pytest-playwright's page, launched with Debian's Chromium),
``console_errors`` (collected console errors and page errors),
``open_app(page, path)`` and ``wait_idle(page)`` from ``tests.e2e.browser``.

A missing browser fails the run loudly: a skipped browser test proves nothing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's Chromium; fail (never skip) when it is missing."""
    override = os.environ.get("CHROMIUM_PATH")
    for candidate in ((override,) if override else ()) + CHROMIUM_CANDIDATES:
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    pytest.fail(
        "Chromium was not found. Install it with `apt-get install -y chromium` "
        "(scripts/test.sh does this) or set CHROMIUM_PATH.",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session", autouse=True)
def _expect_timeout():
    # The first run of a page imports torch, plotly, altair and scikit-learn.
    expect.set_options(timeout=60_000)


def start_server(extra_args: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, Path]:
    """Start ``streamlit run app.py`` on a free port; return (process, url, log)."""
    OUTPUT.mkdir(exist_ok=True)
    port = _free_port()
    log = OUTPUT / f"server-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", *extra_args,
    ]
    handle = log.open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc, url, log
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    pytest.fail(f"streamlit did not become healthy in 90 s:\n{log.read_text()}", pytrace=False)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def server_url():
    proc, url, _ = start_server()
    yield url
    stop_server(proc)


@pytest.fixture
def console_errors(page):
    """Console errors and uncaught page errors seen during the test."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = OUTPUT / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
