"""How the app starts for a teacher: a first `streamlit run app.py` on a desktop,
and the toolbar a class sees.

The first test starts Streamlit as a desktop user would (a display, no
``--server.headless``, a home folder with no Streamlit credentials yet) with a
stand-in ``xdg-open`` that records the address it is asked to open.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import open_app
from tests.e2e.conftest import ROOT, _free_port, stop_server

pytestmark = pytest.mark.e2e


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


def test_first_desktop_launch_opens_the_browser_without_a_prompt(tmp_path):
    """Streamlit asked for an e-mail address in the terminal and waited for it before
    starting the server; the app's config turns the prompt off, and the browser still opens."""
    home, bin_dir, opened = tmp_path / "home", tmp_path / "bin", tmp_path / "opened.txt"
    home.mkdir()
    bin_dir.mkdir()
    fake = bin_dir / "xdg-open"
    fake.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n')
    fake.chmod(0o755)
    env = {**os.environ, "HOME": str(home), "DISPLAY": ":0", "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("STREAMLIT_SERVER_HEADLESS", None)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None and not _healthy(url):
            time.sleep(0.3)
        text = log.read_text()
        assert _healthy(url), f"the server did not start within 90 s (a prompt waiting for input?):\n{text}"
        assert "Email" not in text and "email" not in text, text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (opened.exists() and opened.read_text().strip()):
            time.sleep(0.2)
        assert opened.exists() and f"localhost:{port}" in opened.read_text(), (
            f"the browser was not opened on a desktop:\n{text}")
        assert not (home / ".streamlit" / "credentials.toml").exists()  # nothing was asked, nothing stored
    finally:
        stop_server(proc)


def test_a_class_sees_no_deploy_button_but_keeps_the_viewer_menu(page, server_url):
    open_app(page, server_url)
    expect(page.get_by_test_id("stMainMenu")).to_be_visible()
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0
    page.get_by_test_id("stMainMenu").click()
    menu = page.get_by_test_id("stMainMenuPopover")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitemradio", name="Dark")).to_be_visible()  # the theme choice stays
    expect(menu.get_by_role("menuitem", name="Print")).to_be_visible()
    expect(menu).not_to_contain_text("Rerun")
    expect(menu).not_to_contain_text("Clear cache")


def test_a_fresh_server_can_visit_every_page_itself():
    """ui.warm.visit_pages: one session over the server's own websocket opens every page (and the
    entropy page's lab tab) once, so the shared caches are filled before a class arrives (with 30
    students opening all eight pages on a fresh server: opening p95 6.1 s before, 3.1 s after)."""
    from tests.e2e.conftest import start_server
    from ui import warm

    proc, url, _ = start_server()
    try:
        links = warm.visit_links()
        assert len(links) == len({link.partition("?")[0] for link in links}) + 1  # every page, and the lab
        assert warm.visit_pages(int(url.rsplit(":", 1)[1]), links, pause=0) == len(links)  # each run finished cleanly
    finally:
        stop_server(proc)
