"""The activation-functions page in headless Chromium: the race trains live and redraws in place,
Pause stops it, a click on the plane adds a point, and the page is looked at on a laptop, a
phone and in dark mode."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    assert_charts_drawn,
    assert_no_exception,
    assert_stays_put,
    full_screenshot,
    live_root,
    live_step,
    live_updates,
    open_app,
    progress_count,
    real_errors,
    wait_for_count,
    wait_idle,
)

pytestmark = pytest.mark.e2e

RACE_CHARTS = 8  # four decision planes, accuracy, loss, gradient sizes, dead units
CSV = "x,y,label\n" + "\n".join(f"{x},{y},{int(x * y > 0)}" for x in (-1.5, -0.5, 0.5, 1.5) for y in (-1.2, 1.2))


def _show_race(page) -> None:
    """Scroll the race's controls (data, learning rate, noise) to the top of the window: the view a class
    sees while it runs, with the Start button and the first row of planes under them."""
    data = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Data", exact=True))
    data.evaluate("e => { e.style.scrollMarginTop = '72px'; e.scrollIntoView({block: 'start'}); }")
    page.wait_for_timeout(500)


def test_the_race_trains_live_redraws_in_place_and_pauses(page, server_url, console_errors, screenshot_dir):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "activations")
    expect(page.locator("h1").first).to_contain_text("Activation functions")
    expect(page.get_by_test_id("stProgress")).to_contain_text("Step 0 of 3,000")
    assert_charts_drawn(page, RACE_CHARTS)
    assert live_step(page) == 0
    page.screenshot(path=screenshot_dir / "activations-top-1280.png")
    _show_race(page)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    wait_for_count(lambda: progress_count(page), 30, 90, "the race did not train in the browser")
    # the same element redraws: the step drawn advances and the update counter grows, with no remount
    step, before = live_step(page), live_updates(page)
    page.wait_for_timeout(2500)
    assert live_step(page) > step, "the live view's step did not advance"
    assert live_updates(page) >= before + 3, "the live view did not redraw in place"
    page.screenshot(path=screenshot_dir / "activations-race-1280.png")  # taken while the race runs
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    wait_idle(page)
    paused_at = assert_stays_put(lambda: progress_count(page), 1.5, "training went on after Pause")
    expect(live_root(page)).to_have_attribute("data-step", str(paused_at))
    assert_charts_drawn(page, RACE_CHARTS)
    full_screenshot(page, screenshot_dir / "activations-paused-full-1280.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_own_points_by_file_and_by_click(page, server_url, console_errors, screenshot_dir, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "activations?dataset=custom&noise=0")
    expect(page.get_by_text("There are no points yet").first).to_be_visible()
    csv = tmp_path / "xor.csv"
    csv.write_text(CSV)
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(csv))
    expect(page.get_by_text("Loaded 8 points from xor.csv").first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"^8 points: 4 blue \(class 0\), 4 orange \(class 1\)"))).to_be_visible()
    assert_charts_drawn(page, RACE_CHARTS, index=1)  # the race on the file's points, under the plane
    # a click on the plane adds a point of the class the toggle picks
    page.get_by_text("Clicks add orange points").click()
    wait_idle(page)
    plane = live_root(page, 0).locator("canvas").first
    plane.scroll_into_view_if_needed()
    plane.click()
    expect(page.get_by_text(re.compile(r"^9 points: 4 blue \(class 0\), 5 orange \(class 1\)"))).to_be_visible()
    wait_idle(page)
    expect(live_root(page, 0)).to_have_attribute("data-clicks", "1")
    # the race restarted on the new data and says so
    expect(page.get_by_test_id("stProgress")).to_contain_text("Step 0 of")
    full_screenshot(page, screenshot_dir / "activations-own-points-1280.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_the_page_reads_on_a_phone_and_in_dark_mode(browser, server_url, screenshot_dir):
    for name, options in (("activations-phone-400", {"viewport": {"width": 400, "height": 800}}),
                          ("activations-dark-1280", {"viewport": {"width": 1280, "height": 800},
                                                     "color_scheme": "dark"})):
        context = browser.new_context(**options)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        open_app(page, server_url, "activations") if name.endswith("1280") else _open_on_phone(page, server_url)
        assert_charts_drawn(page, RACE_CHARTS)
        page.screenshot(path=screenshot_dir / f"{name}-top.png")
        _show_race(page)
        page.get_by_role("button", name="⏭ Step", exact=True).click()  # a trained plane, not a blank one
        wait_for_count(lambda page=page: progress_count(page), 1, 60, "Step did not train")
        wait_idle(page)
        page.mouse.move(0, 0)  # no button tooltip over the charts
        page.wait_for_timeout(300)
        page.screenshot(path=screenshot_dir / f"{name}-race.png")
        full_screenshot(page, screenshot_dir / f"{name}-full.png")
        if "dark" in name:  # the live charts read the dark theme: their text is light
            colour = page.get_by_test_id("stApp").evaluate("e => getComputedStyle(e).backgroundColor")
            assert _dark(colour), colour
        assert_no_exception(page)
        assert not real_errors(errors), real_errors(errors)
        context.close()


def _open_on_phone(page, server_url) -> None:
    """On a narrow window the sidebar starts collapsed: wait for the title only."""
    page.goto(f"{server_url}/activations")
    expect(page.get_by_test_id("stMain").locator("h1").first).to_be_visible()
    wait_idle(page)


def _dark(css_colour: str) -> bool:
    values = [int(v) for v in re.findall(r"\d+", css_colour)[:3]]
    return sum(values) / 3 < 80
