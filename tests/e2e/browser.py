"""Helpers for driving the app in Chromium (Streamlit 1.67's DOM)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

# Harmless: a sub-page URL opened directly asks <subpage>/_stcore/health and
# <subpage>/_stcore/host-config first and gets a 404.
_HARMLESS = re.compile(r"(_stcore/(health|host-config))|Failed to load resource: the server responded with a status of 404")


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script has finished running and the app is connected."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


def open_app(page: Page, base_url: str, path: str = "") -> None:
    """Open ``base_url/path`` and wait for the first run to finish."""
    page.goto(f"{base_url}/{path}".rstrip("/"))
    # The state reads notRunning before the first run starts: wait for
    # something the script draws first (every page has an st.title).
    expect(page.get_by_test_id("stMain").locator("h1").first).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    wait_idle(page)


def real_errors(errors: list[str]) -> list[str]:
    """Console errors other than the known harmless 404s."""
    return [e for e in errors if not _HARMLESS.search(e)]


def assert_no_exception(page: Page) -> None:
    count = page.get_by_test_id("stException").count()
    assert count == 0, f"{count} Python exception(s) shown: " + " | ".join(
        page.get_by_test_id("stException").all_inner_texts()
    )


def sidebar_link(page: Page, title: str):
    """The app's own navigation link to the page titled ``title``."""
    return page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").filter(has_text=title).first


def full_screenshot(page: Page, path) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its own container,
    so ``full_page=True`` alone stops at the window; grow the window first."""
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height + 40, size["height"]), 8000)})
    page.wait_for_timeout(400)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)


def wait_for_count(read: Callable[[], int], at_least: int, timeout: float, what: str) -> int:
    """Poll ``read()`` (a step or pull counter shown on the page) until it reaches
    ``at_least``; fail with ``what`` when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while read() < at_least and time.monotonic() < deadline:
        time.sleep(0.25)
    value = read()
    assert value >= at_least, f"{what} (counter at {value}, wanted {at_least} within {timeout:.0f} s)"
    return value


def assert_stays_put(read: Callable[[], int], seconds: float, what: str) -> int:
    """After Pause: the counter must not move for ``seconds``; returns its value."""
    before = read()
    time.sleep(seconds)
    assert read() == before, what
    return before


def progress_count(page: Page) -> int:
    """The live panel's counter, from its status line ("Step 150 of 2,000",
    "Generator step 50 of 5,000", "Pull 5 of 1,000"); -1 when none is shown."""
    texts = page.get_by_test_id("stProgress").all_inner_texts()
    match = re.search(r"([\d,]+) of [\d,]+", " ".join(texts))
    return int(match.group(1).replace(",", "")) if match else -1


def live_root(page: Page, index: int = 0):
    """The root of a live view (``ui.livechart``), inside its shadow root (CSS locators pierce it)."""
    return page.locator("div.lc-root").nth(index)


def live_step(page: Page, index: int = 0) -> int:
    """The step drawn by a live view (its charts' data); -1 before the first draw."""
    value = live_root(page, index).get_attribute("data-step", timeout=10_000)
    return int(value) if value not in (None, "") else -1


def live_updates(page: Page, index: int = 0) -> int:
    """How many times a live view has redrawn in place since it was mounted."""
    value = live_root(page, index).get_attribute("data-updates", timeout=10_000)
    return int(value) if value else 0


def assert_charts_drawn(page: Page, count: int, index: int = 0) -> None:
    """The live view holds ``count`` charts and none failed to draw."""
    charts = live_root(page, index).locator("div.lc-chart")
    expect(charts).to_have_count(count)
    errors = [e for e in charts.evaluate_all("els => els.map(e => e.dataset.error || '')") if e]
    assert not errors, errors
