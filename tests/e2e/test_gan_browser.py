"""The GAN page in headless Chromium: train live, look at it while it trains, pause,
and open a shared link with a preset."""

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

PLANE, CHARTS = 0, 1  # the live views in page order: the plane beside the settings, then the other charts


def test_start_the_settings_and_the_whole_plane_share_one_screen(page, server_url, console_errors, screenshot_dir):
    """The page rule at 1280 x 800 on first load, without scrolling: the Start button, the preset,
    target, loss and the two learning rates, and the whole plane (the main live view) lie below
    Streamlit's header and above the bottom edge; the plane is the largest chart."""
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "gan")
    plane = page.locator("div.lc-chart[data-chart=plane] canvas").first
    expect(plane).to_be_visible()
    wait_idle(page)
    page.wait_for_timeout(500)  # the canvases size themselves after the first draw
    top = page.get_by_test_id("stHeader").bounding_box()
    top_edge = top["y"] + top["height"] if top else 0
    boxes = {
        "Start button": page.get_by_role("button", name="Start").bounding_box(),
        "preset": page.get_by_role("combobox", name="Preset").bounding_box(),
        "target": page.get_by_role("combobox", name="Target distribution").bounding_box(),
        "loss": page.get_by_role("combobox", name="Loss").bounding_box(),
        "generator learning rate": page.get_by_role("slider", name="Generator learning rate").bounding_box(),
        "discriminator learning rate": page.get_by_role("slider", name="Discriminator learning rate").bounding_box(),
        "plane": plane.bounding_box(),
    }
    for name, box in boxes.items():
        assert box is not None, name
        assert box["y"] >= top_edge - 1 and box["y"] + box["height"] <= 800 + 1, (name, box, top_edge)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280 + 1, (name, box)
    plane_box = boxes["plane"]
    assert plane_box["width"] >= 400 and plane_box["height"] >= 400, plane_box
    # the plane is the biggest thing on the page: larger than every other chart
    areas = {c["id"]: c["w"] * c["h"] for c in page.locator("div.lc-chart").evaluate_all(
        "els => els.map(e => ({id: e.dataset.chart, w: e.getBoundingClientRect().width,"
        " h: e.getBoundingClientRect().height}))")}
    assert len(areas) == 7, areas
    assert max(areas, key=areas.get) == "plane", areas
    page.screenshot(path=screenshot_dir / "gan-1280x800-first-screen.png")
    # the live column is wide enough for its buttons: after a Step, "▶ Resume" is not cut to "▶ Res…"
    page.get_by_role("button", name="⏭ Step", exact=True).click()
    resume = page.get_by_role("button", name="▶ Resume", exact=True)
    expect(resume).to_be_visible()
    label = resume.get_by_test_id("stMarkdownContainer")
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), label.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_gan_trains_live_and_pauses(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "gan")
    expect(page.locator("h1").first).to_contain_text("GAN training live")
    expect(page.get_by_test_id("stProgress")).to_contain_text("Generator step 0 of")
    assert_charts_drawn(page, 1, PLANE)
    assert_charts_drawn(page, 6, CHARTS)
    assert live_step(page, PLANE) == live_step(page, CHARTS) == 0
    # more steps per redraw, so the run gets somewhere within the test
    # (one press first: the first rerun after a fresh server's loading notice shifts the page, and
    # until it ends the old controls still show beside the new ones)
    slider = page.get_by_role("slider", name="At most generator steps per update")
    slider.focus()
    slider.press("ArrowRight")
    wait_idle(page)
    for _ in range(49):
        slider.press("ArrowRight")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    wait_for_count(lambda: progress_count(page), 150, 90, "the GAN did not train in the browser")
    # the charts stay mounted and redraw in place while it trains
    # (each view counts its redraws since it was mounted: a remount would start again from 1)
    for view, what in ((PLANE, "the plane"), (CHARTS, "the other charts")):
        before = live_updates(page, view)
        wait_for_count(lambda v=view: live_updates(page, v), before + 2, 15, f"{what} did not redraw in place")
    page.screenshot(path=screenshot_dir / "gan-training.png")  # taken while training runs
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    wait_idle(page)
    paused_at = assert_stays_put(lambda: progress_count(page), 1.5, "training went on after Pause")
    expect(live_root(page, PLANE)).to_have_attribute("data-step", str(paused_at))
    expect(live_root(page, CHARTS)).to_have_attribute("data-step", str(paused_at))
    covered = page.get_by_test_id("stMetric").filter(has_text="Modes covered").inner_text()
    assert re.search(r"\d of 8", covered), covered
    full_screenshot(page, screenshot_dir / "gan-paused.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_a_shared_link_sets_a_failure_preset(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "gan?preset=saturating&target=grid25")
    expect(page.get_by_role("combobox", name="Loss")).to_have_value("Minimax (saturating)")
    expect(page.get_by_role("combobox", name="Target distribution")).to_have_value("5 x 5 grid of Gaussians")
    expect(page.get_by_test_id("stAlertContentInfo").first).to_contain_text("Saturating")
    expect(page.get_by_test_id("stMetric").filter(has_text="Modes covered")).to_contain_text("of 25")
    slider = page.get_by_role("slider", name="D steps per G step")
    slider.focus()
    slider.press("ArrowRight")
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"d_steps=6"))
    page.get_by_role("button", name="⏭ Step", exact=True).click()
    wait_for_count(lambda: progress_count(page), 1, 60, "Step did not train")
    # at most one update's worth of steps (fewer when a step is slow: Step trains for a bounded time)
    assert 1 <= progress_count(page) <= 50, "Step did not train a bounded update"
    wait_idle(page)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "gan-saturating-grid.png")
    assert not real_errors(console_errors), real_errors(console_errors)
