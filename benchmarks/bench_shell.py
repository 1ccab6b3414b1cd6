"""The app shell: the settings in .streamlit/config.toml, measured.

- ``postScriptGC``: what one forced full collection costs once the app's
  modules are loaded, and what it does to several learners training at once
  (real server, real Chromium tabs, the home page's live demo).
- ``showSidebarNavigation``: how often a fresh load shows Streamlit's
  auto-discovered file list before the app's own navigation.
- The home page's rerun time and the demo trainer's raw speed.

Needs Debian's Chromium (scripts/test.sh installs it).
"""

from __future__ import annotations

import gc
import re
import time
from pathlib import Path

from benchmarks.timing import median_of

SESSIONS = 6
TRAIN_SECONDS = 20
FLASH_LOADS = 40
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _gc_cost_ms() -> float:
    import altair  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import streamlit  # noqa: F401
    import torch  # noqa: F401

    return 1000 * median_of(lambda: gc.collect(2), repeats=5)


def _home_rerun_ms() -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    slider = at.select_slider(key="home:hidden_units")
    values = ["16", "32"]

    def rerun():
        values.reverse()
        slider.set_value(int(values[0])).run()

    rerun()
    return 1000 * median_of(rerun, repeats=9)


def _trainer_steps_per_second(threads: int) -> float:
    """The home demo's trainer at a given torch thread count (set here only:
    this benchmark process is not the app)."""
    import torch

    from core.regression import RegressionConfig, RegressionTrainer

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        trainer = RegressionTrainer(RegressionConfig(max_steps=10_000))
        trainer.train(50)
        start = time.perf_counter()
        trainer.train(2000)
        return 2000 / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)


def _browser():
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    return pw, browser


def _concurrent_training(post_script_gc: bool) -> dict:
    """SESSIONS tabs press Start on the home demo; total steps per second."""
    from tests.e2e.conftest import start_server, stop_server

    proc, url, _ = start_server(("--runner.postScriptGC", str(post_script_gc).lower()))
    pw, browser = _browser()
    try:
        pages = []
        for _ in range(SESSIONS):
            page = browser.new_page()
            page.goto(url)
            page.get_by_role("button", name="Start").wait_for(timeout=120_000)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
            pages.append(page)
        for page in pages:
            page.get_by_role("button", name="Start").click()
        time.sleep(TRAIN_SECONDS)
        steps = []
        for page in pages:
            text = " ".join(page.get_by_test_id("stProgress").all_inner_texts())
            match = re.search(r"Step ([\d,]+) of", text)
            steps.append(int(match.group(1).replace(",", "")) if match else 0)
        return {"total_steps_per_second": round(sum(steps) / TRAIN_SECONDS, 1), "steps_per_session": steps}
    finally:
        browser.close()
        pw.stop()
        stop_server(proc)


def _nav_flash(show_sidebar_navigation: bool) -> int:
    from tests.e2e.conftest import start_server, stop_server
    from tests.e2e.test_app_browser import FLASH_WATCH

    proc, url, _ = start_server(("--client.showSidebarNavigation", str(show_sidebar_navigation).lower()))
    pw, browser = _browser()
    try:
        context = browser.new_context()
        context.add_init_script(FLASH_WATCH)
        page = context.new_page()
        flashes = 0
        for _ in range(FLASH_LOADS):
            page.goto(url)
            page.wait_for_selector('[data-testid="stPageLink"]', timeout=120_000)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
            flashes += bool(page.evaluate("window.__navFlash"))
        return flashes
    finally:
        browser.close()
        pw.stop()
        stop_server(proc)


def run() -> dict:
    gc_on = _concurrent_training(True)
    gc_off = _concurrent_training(False)
    flash_on = _nav_flash(True)
    flash_off = _nav_flash(False)
    return {
        "full_gc_ms_with_app_modules": round(_gc_cost_ms(), 1),
        "home_rerun_ms_apptest_no_gc": round(_home_rerun_ms(), 1),
        "demo_trainer_steps_per_second_1_thread": round(one := _trainer_steps_per_second(1)),
        "demo_trainer_steps_per_second_2_threads": round(two := _trainer_steps_per_second(2)),
        "demo_trainer_speed_ratio_2_vs_1_threads": round(two / one, 2),
        "concurrent_sessions": SESSIONS,
        "concurrent_training_seconds": TRAIN_SECONDS,
        "postScriptGC_true": gc_on,
        "postScriptGC_false": gc_off,
        "training_throughput_ratio_gc_off_vs_on": round(
            gc_off["total_steps_per_second"] / max(gc_on["total_steps_per_second"], 1e-9), 2
        ),
        "fresh_loads": FLASH_LOADS,
        "loads_showing_file_list_with_showSidebarNavigation_true": flash_on,
        "loads_showing_file_list_with_showSidebarNavigation_false": flash_off,
    }
