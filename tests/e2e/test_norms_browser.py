"""The LRN vs BN page in headless Chromium: the worked example and its controls on one screen,
the race trains live (the live view's step advances), a raised learning rate applies while it
runs, Pause stops it; screenshots at 1280 x 800, 400 x 800 and in the dark theme."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    assert_no_exception,
    assert_stays_put,
    full_screenshot,
    open_app,
    real_errors,
    wait_for_count,
    wait_idle,
)

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}


def live_step(page) -> int:
    """The step the live view drew last (``data-step`` of ``.lc-root`` inside the component's shadow root)."""
    values = page.locator(".lc-root").evaluate_all("els => els.map(e => e.dataset.step || '-1')")
    return int(values[0]) if values else -1


def live_updates(page) -> int:
    values = page.locator(".lc-root").evaluate_all("els => els.map(e => e.dataset.updates || '0')")
    return int(values[0]) if values else 0


def scroll_to_top(page, locator, gap: float = 8.0) -> float:
    """Scroll ``locator`` to just below Streamlit's header; returns the header's bottom edge."""
    header = page.get_by_test_id("stHeader").bounding_box()
    top_edge = header["y"] + header["height"] if header else 0.0
    locator.evaluate(
        """(e, offset) => {
             e.scrollIntoView({block: 'start'});
             let box = e.parentElement;
             const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowY)
                                     && el.scrollHeight > el.clientHeight;
             while (box && !scrolls(box)) box = box.parentElement;
             if (box) box.scrollTop -= offset;
           }""", top_edge + gap)
    page.wait_for_timeout(600)
    return top_edge


def scroll_to_heading(page, text: str) -> float:
    """Scroll the section heading to the top; returns the bottom edge of Streamlit's header."""
    page.get_by_test_id("stHeading").filter(has_text=text).first.evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(600)
    top = page.get_by_test_id("stHeader").bounding_box()
    return top["y"] + top["height"] if top else 0.0


def assert_on_screen(boxes: dict, top_edge: float, height: int) -> None:
    for name, box in boxes.items():
        assert box is not None, f"{name} is not drawn"
        assert box["y"] >= top_edge - 1 and box["y"] + box["height"] <= height + 1, (name, box, top_edge)


def test_worked_example_and_its_controls_share_one_screen(page, server_url, console_errors, screenshot_dir):
    page.set_viewport_size(DESKTOP)
    open_app(page, server_url, "norms")
    expect(page.locator("h1").first).to_contain_text("LRN vs batch normalisation")
    formula = page.get_by_test_id("stCode").filter(has_text="b[channel 0, position 0]").first
    expect(formula).to_contain_text("= 1 / 2 = 0.5")
    page.screenshot(path=screenshot_dir / "norms-1280x800-top.png")
    top_edge = scroll_to_heading(page, "1 · LRN by hand")
    assert_on_screen({
        "n slider": page.get_by_test_id("stSlider").filter(has_text="n: the window").first.bounding_box(),
        "grid editor": page.get_by_test_id("stDataFrame").first.bounding_box(),
        "before / after grids": page.get_by_test_id("stPlotlyChart").first.bounding_box(),
        "formula": formula.bounding_box(),
    }, top_edge, DESKTOP["height"])
    page.screenshot(path=screenshot_dir / "norms-1280x800-lrn.png")
    # a wider window: the formula follows the slider
    slider = page.get_by_role("slider", name=re.compile("n: the window"))
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "4")
    expect(page.get_by_test_id("stCode").filter(has_text="b[channel 0, position 0]").first).to_contain_text(
        "1 / (0 + 1·(1² + 1² + 0²))^1")
    wait_idle(page)
    assert "n=4" in page.url  # the link shares it
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_the_race_trains_live_takes_a_new_rate_and_pauses(page, server_url, console_errors, screenshot_dir):
    page.set_viewport_size(DESKTOP)
    # 20 epochs (820 steps) at 4 steps a redraw: at the view's 6 redraws a second the race lasts at least
    # 34 s on any machine, so it still runs when the test presses Pause (the default 410 steps at 20 a
    # redraw could end on a fast machine before the new rate had been watched)
    open_app(page, server_url, "norms?epochs=20")
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text("Step 0 of 820")
    expect(page.locator(".lc-root")).to_have_attribute("data-step", "0")
    top_edge = scroll_to_top(page, page.get_by_test_id("stMultiSelect").first)
    lr = page.get_by_test_id("stSlider").filter(has_text="Learning rate").first
    first_chart = page.locator(".lc-chart").first
    assert_on_screen({"learning-rate slider": lr.bounding_box(), "Start": page.get_by_role(
        "button", name="▶ Start", exact=True).bounding_box(), "loss chart": first_chart.bounding_box()},
        top_edge, DESKTOP["height"])
    speed = page.get_by_role("slider", name="At most steps per update")
    speed.focus()
    for _ in range(16):
        speed.press("ArrowLeft")
    expect(speed).to_have_attribute("aria-valuetext", "4")
    wait_idle(page)
    page.get_by_role("button", name="▶ Start", exact=True).click()
    expect(page.get_by_role("button", name="⏸ Pause", exact=True)).to_be_visible()
    wait_for_count(lambda: live_step(page), 20, 90, "the race did not train in the browser")
    updates0, t0 = live_updates(page), time.monotonic()
    time.sleep(4.0)
    rate = (live_updates(page) - updates0) / (time.monotonic() - t0)
    print(f"live view updates per second while training: {rate:.1f}")
    assert rate >= 1.0, f"the live view updated {rate:.2f} times a second"
    # raise the learning rate while it trains: 0.05 -> 0.1 -> 0.2 -> 0.3
    updates_before = live_updates(page)
    slider = page.get_by_role("slider", name=re.compile("Learning rate"))
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "0.3")
    # each key press may arrive as its own rerun: the last change applied ends at 0.3
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text="Applied to the running model")
    expect(caption).to_contain_text("→ 0.3")
    applied_at = int(re.search(r"at step ([\d,]+)", caption.inner_text()).group(1).replace(",", ""))
    wait_for_count(lambda: live_step(page), applied_at + 10, 90, "the race stopped after the new rate")
    assert "lr=0.3" in page.url
    # the same live view went on drawing: a view mounted anew (moved down the page by the note above it)
    # starts counting its redraws at 1 and blanks its charts for a moment
    assert live_updates(page) > updates_before, (live_updates(page), updates_before)
    page.screenshot(path=screenshot_dir / "norms-1280x800-race.png")  # while it trains
    expect(progress).to_contain_text("· training", timeout=5_000)  # if not, the message shows the status
    page.get_by_role("button", name="⏸ Pause", exact=True).click()
    expect(page.get_by_role("button", name="▶ Resume", exact=True)).to_be_visible()
    wait_idle(page)
    paused = assert_stays_put(lambda: live_step(page), 2.0, "the race went on after Pause")
    expect(progress).to_contain_text(f"Step {paused:,} of 820")
    time.sleep(0.5)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "norms-1280-full.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def test_narrow_window(page, server_url, console_errors, screenshot_dir):
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(f"{server_url}/norms")  # not open_app: on a phone the sidebar may start collapsed
    expect(page.get_by_test_id("stCode").filter(has_text="b[channel 0, position 0]").first).to_contain_text("0.5")
    expect(page.locator(".lc-root")).to_have_attribute("data-step", "0")
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    if sidebar.get_attribute("data-collapsed") != "true":  # expanded, it covers the page
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        expect(sidebar).to_have_attribute("data-collapsed", "true")
    time.sleep(1.0)
    page.screenshot(path=screenshot_dir / "norms-400x800-top.png")
    for name, heading in (("lrn", "1 · LRN by hand"), ("bn", "3 · Batch normalisation by hand"),
                          ("digit", "4 · A real digit"), ("race", "5 · The race")):
        scroll_to_heading(page, heading)
        page.screenshot(path=screenshot_dir / f"norms-400x800-{name}.png")
    width = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth")
    assert width <= 400, f"the page is {width} px wide: it scrolls sideways"
    full_screenshot(page, screenshot_dir / "norms-400x800-full.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_dark_theme(page, server_url, console_errors, screenshot_dir):
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size(DESKTOP)
    open_app(page, server_url, "norms?batch=1")
    expect(page.get_by_test_id("stAlertContentWarning").filter(
        has_text="Expected more than 1 value per channel").first).to_be_visible()
    background = page.get_by_test_id("stApp").evaluate("e => getComputedStyle(e).backgroundColor")
    assert sum(int(v) for v in re.findall(r"\d+", background)[:3]) < 3 * 100, background  # the theme follows
    scroll_to_heading(page, "1 · LRN by hand")
    page.screenshot(path=screenshot_dir / "norms-dark-lrn.png")
    scroll_to_heading(page, "3 · Batch normalisation by hand")
    page.screenshot(path=screenshot_dir / "norms-dark-bn.png")
    scroll_to_top(page, page.get_by_test_id("stMultiSelect").first)
    wait_idle(page)
    page.get_by_role("button", name="⏭ Step", exact=True).click()
    wait_for_count(lambda: live_step(page), 1, 60, "Step did not train: " + " ".join(
        page.get_by_test_id("stProgress").all_inner_texts()))
    wait_idle(page)
    page.wait_for_timeout(800)
    page.screenshot(path=screenshot_dir / "norms-dark-race.png")
    full_screenshot(page, screenshot_dir / "norms-dark-full.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)
