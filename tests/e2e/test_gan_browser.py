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



def test_gan_trains_live_and_pauses(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "gan")
    expect(page.locator("h1").first).to_contain_text("GAN training live")
    expect(page.get_by_test_id("stProgress")).to_contain_text("Generator step 0 of")
    assert_charts_drawn(page, 7)
    assert live_step(page) == 0
    # more steps per redraw, so the run gets somewhere within the test
    slider = page.get_by_role("slider", name="At most generator steps per update")
    slider.focus()
    for _ in range(50):
        slider.press("ArrowRight")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    wait_for_count(lambda: progress_count(page), 150, 90, "the GAN did not train in the browser")
    # the charts stay mounted and redraw in place while it trains
    before = live_updates(page)
    page.wait_for_timeout(2000)
    assert live_updates(page) >= before + 2, "the live view did not redraw in place"
    page.screenshot(path=screenshot_dir / "gan-training.png")  # taken while training runs
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    wait_idle(page)
    paused_at = assert_stays_put(lambda: progress_count(page), 1.5, "training went on after Pause")
    expect(live_root(page)).to_have_attribute("data-step", str(paused_at))
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
