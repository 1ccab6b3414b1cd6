"""The ROC page in headless Chromium: the threshold slider, uploads of a good
and of a malformed CSV, and the live MLP; the layout at 1280 x 800, the
confusion matrix in the dark theme, and widgets that come back after a trip to
another source."""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.browser import (
    assert_charts_drawn,
    live_root,
    live_step,
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
    assert "threshold=1.5" in page.url  # the link now shares the threshold
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
    # the live view holds the three models' ROC and PR curves and the MLP's loss, drawn at the paused step
    assert_charts_drawn(page, 3)
    labels = live_root(page).locator("canvas").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert any("three models" in t for t in labels) and any("MLP training loss" in t for t in labels), labels
    assert live_step(page) == progress_count(page)
    time.sleep(1.0)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "roc-models.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def chart_titled(page, title: str):
    return page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".gtitle", has_text=title)).first


def slider_labelled(page, label: str):
    return page.get_by_test_id("stSlider").filter(has_text=label).first


def test_threshold_and_the_charts_it_moves_share_one_screen(page, server_url, console_errors, screenshot_dir):
    """On first load at 1280 x 800 (sidebar open), without scrolling: the source's main sliders
    (separation, prevalence), the threshold slider and the histogram, ROC and PR curves they move
    are all inside the window, below Streamlit's header, and the charts are big enough to read.
    The confusion matrix further down stays large."""
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "roc")
    expect(chart_titled(page, "Precision-recall")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_be_in_viewport()
    wait_idle(page)
    page.wait_for_timeout(500)
    scrolled = page.evaluate("() => [...document.querySelectorAll('*')].map(e => e.scrollTop)"
                             ".concat([window.scrollY]).filter(v => v > 0)")
    assert scrolled == [], scrolled  # the first screen, as the page opens
    top = page.get_by_test_id("stHeader").bounding_box()
    top_edge = top["y"] + top["height"] if top else 0
    charts = {name: chart_titled(page, title) for name, title in (
        ("histogram", "Scores by class"), ("ROC", "ROC: every threshold"), ("PR", "Precision-recall"))}
    boxes = {name: loc.bounding_box() for name, loc in (
        ("separation slider", slider_labelled(page, "Separation of the classes")),
        ("prevalence slider", slider_labelled(page, "Prevalence")),
        ("threshold slider", slider_labelled(page, "Threshold")), *charts.items())}
    for name, box in boxes.items():
        assert box is not None, name
        assert box["y"] >= top_edge - 1 and box["y"] + box["height"] <= 800 + 1, (name, box, top_edge)
    for name, chart in charts.items():  # readable: a plot area, not a thumbnail
        area = chart.locator(".nsewdrag").first.bounding_box()
        assert area["width"] >= 150 and area["height"] >= 150, (name, area)
    page.screenshot(path=screenshot_dir / "roc-1280x800-threshold.png")
    confusion = chart_titled(page, "Confusion matrix")
    confusion.scroll_into_view_if_needed()
    area = confusion.locator(".nsewdrag").first.bounding_box()
    assert area["width"] >= 250 and area["height"] >= 220, area  # was about 115 x 170
    sizes = confusion.locator(".annotation-text").evaluate_all(
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert len(sizes) == 12 and min(sizes) >= 14 and max(sizes) >= 24, sizes
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def _tile_contrasts(png: bytes, area: dict, chart: dict) -> list[float]:
    """WCAG contrast between each quarter of the plot area's background (its median
    colour) and its text (the 1 % of pixels farthest from that), from a screenshot."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    x0, y0 = area["x"] - chart["x"], area["y"] - chart["y"]
    w, h = area["width"] / 2, area["height"] / 2
    out = []
    for i in range(2):
        for j in range(2):
            tile = lum[int(y0 + i * h + 0.1 * h):int(y0 + (i + 1) * h - 0.1 * h),
                       int(x0 + j * w + 0.1 * w):int(x0 + (j + 1) * w - 0.1 * w)].ravel()
            bg = float(np.median(tile))
            far = tile[np.argsort(np.abs(tile - bg))[-max(20, tile.size // 100):]]
            ink = float(np.median(far))
            out.append((max(bg, ink) + 0.05) / (min(bg, ink) + 0.05))
    return out


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_confusion_matrix_reads_in_both_themes(page, server_url, console_errors, screenshot_dir, scheme):
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "roc")
    confusion = chart_titled(page, "Confusion matrix")
    expect(confusion).to_be_visible()
    wait_idle(page)
    confusion.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    background = page.get_by_test_id("stApp").evaluate("e => getComputedStyle(e).backgroundColor")
    dark_page = sum(int(v) for v in re.findall(r"\d+", background)[:3]) < 3 * 100
    assert dark_page == (scheme == "dark"), background  # the theme follows the browser
    png = confusion.screenshot(path=screenshot_dir / f"roc-confusion-{scheme}.png")
    contrasts = _tile_contrasts(png, confusion.locator(".nsewdrag").first.bounding_box(), confusion.bounding_box())
    assert min(contrasts) >= 4.5, contrasts  # TP, FN, FP, TN: text against its own tile
    full_screenshot(page, screenshot_dir / f"roc-{scheme}.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_widgets_come_back_showing_their_values(page, server_url, console_errors):
    """Synthetic (from a link) -> Your own CSV -> a file -> Synthetic: every slider shows the
    value the page computes with (they showed their minimum; the costs showed 0.1)."""
    open_app(page, server_url, "roc?sep=2.5&t=1.5&cfp=2&cfn=20")
    sep = page.get_by_role("slider", name=re.compile("Separation"))
    expect(sep).to_have_attribute("aria-valuetext", "2.50")
    page.get_by_text("Your own CSV").click()
    expect(page.get_by_test_id("stAlertContentInfo").first).to_contain_text("No file yet")
    wait_idle(page)
    file_input = page.get_by_test_id("stFileUploader").locator("input[type=file]")
    file_input.set_input_files(files=[{"name": "scores.csv", "mimeType": "text/csv", "buffer": GOOD.encode()}])
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("300 rows")
    wait_idle(page)
    cfp = page.get_by_role("slider", name=re.compile("Cost of one false positive"))
    cfn = page.get_by_role("slider", name=re.compile("Cost of one false negative"))
    expect(cfp).to_have_attribute("aria-valuetext", "2")
    expect(cfn).to_have_attribute("aria-valuetext", "20")
    expect(page.get_by_test_id("stMarkdown").filter(has_text="the cheapest rule").first).to_contain_text(
        "costing 2 and a false negative 20")
    threshold = page.get_by_role("slider", name=re.compile("Threshold"))
    shown = threshold.get_attribute("aria-valuetext")
    expect(page.get_by_text(re.compile("cases called positive at threshold")).first).to_contain_text(
        f"at threshold {shown}.")
    page.get_by_text("Synthetic scores").click()
    expect(page.get_by_role("slider", name=re.compile("Separation"))).to_be_visible()
    wait_idle(page)
    time.sleep(1.0)
    wait_idle(page)
    expect(page.get_by_role("slider", name=re.compile("Separation"))).to_have_attribute("aria-valuetext", "2.50")
    expect(page.get_by_role("slider", name=re.compile("Threshold"))).to_have_attribute("aria-valuetext", "1.50")
    expect(cfp).to_have_attribute("aria-valuetext", "2")
    expect(cfn).to_have_attribute("aria-valuetext", "20")
    # the link keeps the settings, under today's names (the page opened with the old codes)
    assert "separation=2.5" in page.url and "threshold=1.5" in page.url
    assert "false_positive_cost=2" in page.url and "false_negative_cost=20" in page.url
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)

