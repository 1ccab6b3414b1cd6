"""The whole app in headless Chromium, as a learner uses it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    assert_charts_drawn,
    live_step,
    assert_no_exception,
    assert_stays_put,
    full_screenshot,
    open_app,
    progress_count,
    real_errors,
    sidebar_link,
    wait_for_count,
    wait_idle,
)
from tests.e2e.conftest import start_server, stop_server
from ui.registry import HOME, TOPICS, all_pages

pytestmark = pytest.mark.e2e

# Records, from the very first paint, any sign of Streamlit's auto-discovered
# page list: its sidebar nav element, or a link named after a file ("app").
FLASH_WATCH = """
window.__navFlash = [];
new MutationObserver(() => {
  if (document.querySelector('[data-testid="stSidebarNav"], [data-testid="stSidebarNavItems"]'))
    window.__navFlash.push('stSidebarNav');
  for (const a of document.querySelectorAll('[data-testid="stSidebar"] a')) {
    const text = a.textContent.trim().toLowerCase();
    if (text === 'app' || text === 'home.py' || text === 'app.py') window.__navFlash.push('file link: ' + text);
  }
}).observe(document, {childList: true, subtree: true});
"""


def test_every_page_through_the_sidebar(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / f"{HOME.url_path}.png")
    for info in (*TOPICS, HOME):
        sidebar_link(page, info.title).click()
        expected = "" if info is HOME else info.url_path
        page.wait_for_url(re.compile(rf"{re.escape(server_url)}/{re.escape(expected)}(\?.*)?$"))
        expect(page.locator("h1").first).to_be_visible()
        wait_idle(page)
        time.sleep(1.0)  # let charts finish drawing before the screenshot
        assert_no_exception(page)
        full_screenshot(page, screenshot_dir / f"{info.url_path}.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def test_cards_open_their_pages(page, server_url, console_errors):
    open_app(page, server_url)
    for info in TOPICS:
        page.get_by_test_id("stMain").get_by_test_id("stPageLink").filter(has_text=f"Open {info.title}").click()
        page.wait_for_url(re.compile(rf"/{re.escape(info.url_path)}(\?.*)?$"))
        wait_idle(page)
        assert_no_exception(page)
        sidebar_link(page, HOME.title).click()
        wait_idle(page)
    assert not real_errors(console_errors), real_errors(console_errors)


@pytest.mark.parametrize("path", ["", *(p.url_path for p in TOPICS[:1])])
def test_sidebar_never_shows_the_file_list(page, server_url, path):
    """Twelve fresh loads; from the first paint on, no auto-discovered list."""
    page.add_init_script(FLASH_WATCH)
    for _ in range(12):
        page.goto(f"{server_url}/{path}")
        expect(sidebar_link(page, HOME.title)).to_be_visible()
        wait_idle(page)
        assert page.evaluate("window.__navFlash") == []
        links = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").all_inner_texts()
        assert [text.strip() for text in links][-len(all_pages()):] != []
        assert len(links) == len(all_pages())



def test_live_demo_trains_and_pauses(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url)
    expect(page.get_by_test_id("stProgress")).to_contain_text("Step 0 of")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    # generous: CI machines can be busy
    wait_for_count(lambda: progress_count(page), 100, 120, "the live demo did not train in the browser")
    full_screenshot(page, screenshot_dir / "home-training.png")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    wait_idle(page)
    paused_at = assert_stays_put(lambda: progress_count(page), 1.5, "training went on after Pause")
    assert live_step(page) == paused_at  # the charts show the step the counter shows
    assert_charts_drawn(page, 2)
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_link_sets_the_controls_and_bad_values_get_a_notice(page, server_url):
    open_app(page, server_url, "?target=step&hidden=8")
    expect(page.get_by_role("combobox", name="Target curve")).to_have_value("step")
    expect(page.get_by_role("slider", name="Hidden units per layer")).to_have_attribute("aria-valuetext", "8")
    open_app(page, server_url, "?lr=banana")
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("Learning rate")
    assert_no_exception(page)


def test_a_shared_link_to_a_page_works_on_a_fresh_server(page, console_errors):
    """The very first request of a new server is a link to a topic page with
    settings: it must open inside the app (sidebar, navigation, settings)."""
    info = TOPICS[0] if TOPICS else HOME
    proc, url, _ = start_server()
    try:
        page.goto(f"{url}/{info.url_path}")
        expect(page.get_by_test_id("stMain").locator("h1").first).to_be_visible()
        expect(sidebar_link(page, HOME.title)).to_be_visible()
        wait_idle(page)
        links = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").all_inner_texts()
        assert len(links) == len(all_pages())
        assert page.url.rstrip("/").endswith(info.url_path)
        assert_no_exception(page)
        assert not real_errors(console_errors), real_errors(console_errors)
    finally:
        stop_server(proc)


def test_a_slider_keeps_the_keyboard_on_a_fresh_server(page, console_errors):
    """The first visit of a fresh server drew a loading note that later runs did not: every element
    after it moved up one place at the first rerun, the browser rebuilt them, and the slider a learner
    was moving with the arrow keys lost the focus (ten presses moved the ROC threshold once)."""
    proc, url, _ = start_server()
    try:
        page.goto(f"{url}/roc")
        expect(page.get_by_test_id("stPlotlyChart").nth(2)).to_be_visible(timeout=60_000)
        wait_idle(page)
        slider = page.get_by_role("slider", name=re.compile("Threshold"))
        start = float(slider.get_attribute("aria-valuetext"))
        slider.focus()
        page.keyboard.press("ArrowRight")
        expect(page).to_have_url(re.compile(r"threshold="), timeout=30_000)  # the rerun has come back
        wait_idle(page)
        assert slider.evaluate("e => e === document.activeElement"), "the slider lost the keyboard focus"
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        expect(slider).to_have_attribute("aria-valuetext", f"{start + 0.2:.2f}")
        assert_no_exception(page)
    finally:
        stop_server(proc)
