"""The ROC page in headless Chromium: the threshold slider, uploads of a good
and of a malformed CSV, and the live MLP."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    assert_no_exception,
    full_screenshot,
    open_app,
    progress_count,
    real_errors,
    wait_for_count,
    wait_idle,
)

pytestmark = pytest.mark.e2e

GOOD = "label,score\n" + "".join(f"{int(i % 3 == 0)},{(i % 17) / 17 + 0.3 * (i % 3 == 0):.2f}\n" for i in range(300))
BAD = "label,score\n1,0.9\n0,0.2\nmaybe,0.4\n"


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text()


def test_threshold_slider_moves_the_numbers(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "roc")
    expect(page.get_by_test_id("stPlotlyChart").nth(4)).to_be_visible()  # at least five charts, once drawn
    before = metric(page, "TPR = recall")
    slider = page.get_by_role("slider", name=re.compile("Threshold"))
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "1.50")
    expect(page.get_by_test_id("stMetric").filter(has_text="TPR = recall").first).not_to_contain_text(before)
    wait_idle(page)
    assert "t=1.5" in page.url  # the link now shares the threshold
    titles = [t or "" for t in page.get_by_test_id("stPlotlyChart").locator(".gtitle").all_text_contents()]
    assert any("ROC" in t for t in titles) and any("Precision-recall" in t for t in titles)
    page.get_by_role("button", name=re.compile("Move the threshold to the cheapest")).click()
    wait_idle(page)
    expect(page.get_by_role("button", name=re.compile("Move the threshold to the cheapest"))).to_be_disabled()
    page.get_by_text("How the ROC curve is computed from scratch").click()
    expect(page.get_by_test_id("stCode")).to_contain_text("np.cumsum")
    page.get_by_text("How the intervals were made").click()
    page.get_by_text("Show the resampled values").click()
    wait_idle(page)
    time.sleep(1.0)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "roc-synthetic.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def test_upload_good_then_malformed_csv(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "roc?src=csv")
    expect(page.get_by_test_id("stAlertContentInfo").first).to_contain_text("No file yet")
    file_input = page.get_by_test_id("stFileUploader").locator("input[type=file]")
    file_input.set_input_files(files=[{"name": "scores.csv", "mimeType": "text/csv", "buffer": GOOD.encode()}])
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("300 rows")
    wait_idle(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="AUC (area under ROC)").first).to_be_visible()
    assert float(metric(page, "AUC (area under ROC)")) > 0.5
    time.sleep(1.0)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "roc-upload-good.png")
    file_input.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD.encode()}])
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Labels must be 0 (negative) or 1")
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("line 4")
    wait_idle(page)
    assert page.get_by_test_id("stMetric").count() == 0
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "roc-upload-bad.png")
    assert not real_errors(console_errors), real_errors(console_errors)



def test_models_and_live_mlp(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "roc?src=models&mn=2000")
    expect(page.get_by_test_id("stProgress")).to_contain_text("Step 0 of")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    wait_for_count(lambda: progress_count(page), 60, 60, "the MLP did not train in the browser")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    wait_idle(page)
    titles = [t or "" for t in page.get_by_test_id("stPlotlyChart").locator(".gtitle").all_text_contents()]
    assert any("three models" in t for t in titles) and any("MLP training loss" in t for t in titles)
    time.sleep(1.0)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "roc-models.png")
    assert not real_errors(console_errors), real_errors(console_errors)
