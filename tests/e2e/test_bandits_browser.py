"""The bandit page in headless Chromium: presets, sliders, the parameter study
and the animated single run, as a learner drives them."""

from __future__ import annotations

import re

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
    wait_for_count,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def _chart_titles(page) -> list[str]:
    return page.get_by_test_id("stPlotlyChart").locator(".gtitle").all_text_contents()


def _legend(page) -> str:
    return " | ".join(page.get_by_test_id("stPlotlyChart").first.locator(".legendtext").all_text_contents())


def test_presets_and_testbed_slider(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "bandits")
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(3)
    titles = _chart_titles(page)
    assert "Average reward at each step" in titles and "How often the best arm is picked" in titles
    assert "greedy" in _legend(page) and "ε-greedy ε=0.1" in _legend(page)
    full_screenshot(page, screenshot_dir / "bandits-fig22.png")

    # Load the figure 2.4 preset from the select box.
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name=re.compile("fig. 2.4")).click()
    expect(page.get_by_test_id("stPlotlyChart").first.locator(".legendtext").first).to_have_text("UCB c=2")
    wait_idle(page)
    assert "ε-greedy ε=0.1" in _legend(page)
    expect(page).to_have_url(re.compile(r"preset=fig24"))

    # One more arm: the testbed line and the link follow.
    slider = page.get_by_role("slider", name="Arms k")
    slider.focus()
    slider.press("ArrowRight")
    expect(page.get_by_text(re.compile(r"^11 arms · "))).to_be_visible()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"arms=11"))
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "bandits-fig24-11arms.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def test_parameter_study(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "bandits?view=study&sruns=100")
    expect(page.get_by_test_id("stPlotlyChart").locator(".gtitle")).to_have_text(re.compile("Parameter study"))
    before = page.get_by_test_id("stPlotlyChart").locator(".legendtext").count()
    page.get_by_text("Thompson (reference line)").click()
    expect(page.get_by_test_id("stPlotlyChart").locator(".legendtext")).to_have_count(before + 1)
    wait_idle(page)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "bandits-study.png")
    assert not real_errors(console_errors), real_errors(console_errors)



def _pause(page) -> None:
    page.get_by_role("button", name=re.compile(r"Pause$")).click()
    expect(page.get_by_role("button", name=re.compile(r"Resume$"))).to_be_visible()


def test_single_run_animates_and_pauses(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "bandits?view=single&preset=fig24")
    expect(page.get_by_test_id("stProgress")).to_contain_text("Pull 0 of 1,000")
    page.get_by_role("button", name=re.compile(r"^▶ Start$")).click()
    expect(page.get_by_role("button", name=re.compile(r"Pause$"))).to_be_visible()
    wait_for_count(lambda: progress_count(page), 25, 60, "the single run did not advance in the browser")
    _pause(page)
    wait_idle(page)
    paused_at = assert_stays_put(lambda: progress_count(page), 1.2, "the run went on after Pause")
    assert live_step(page) == paused_at  # the charts show the pull the counter shows
    assert_charts_drawn(page, 2)
    metrics = " ".join(page.get_by_test_id("stMetricValue").all_inner_texts())
    assert f"{paused_at:,}" in metrics
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "bandits-single-run.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def _chart_titled(page, title: str):
    return page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".gtitle", has_text=title)).first


def test_contenders_and_their_chart_share_one_screen(page, server_url, console_errors, screenshot_dir):
    """Page rule: on first load at 1280 x 800 (sidebar open), without scrolling, the preset box, the first
    strategy's choice and its slider, and the whole average-reward chart they change are inside the window,
    below Streamlit's header."""
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "bandits")
    chart = _chart_titled(page, "Average reward at each step")
    expect(chart).to_be_visible()
    wait_idle(page)
    page.wait_for_timeout(500)  # the chart settles into its column
    top = page.get_by_test_id("stHeader").bounding_box()
    top_edge = top["y"] + top["height"] if top else 0
    boxes = {
        "preset box": page.get_by_test_id("stSelectbox").filter(has_text="Start from a preset").first,
        "strategy 1": page.get_by_test_id("stSelectbox").filter(has_text="Strategy 1").first,
        "strategy 1's slider": page.get_by_test_id("stSlider").filter(has_text="ε (share of random pulls)").first,
        "average-reward chart": chart,
    }
    for name, locator in boxes.items():
        box = locator.bounding_box()
        assert box is not None, name
        assert box["y"] >= top_edge - 1 and box["y"] + box["height"] <= 800 + 1, (name, box, top_edge)
    area = chart.locator(".nsewdrag").first.bounding_box()  # the plot area stays large enough to read
    assert area["width"] >= 300 and area["height"] >= 200, area
    page.screenshot(path=screenshot_dir / "bandits-1280x800-first-screen.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_the_curves_csv_is_written_when_clicked(page, server_url, console_errors):
    """The CSV is built by a callable when the button is clicked (deferred download), not on every
    rerun: the file that arrives holds every step and every strategy's three curves."""
    import csv
    import io

    open_app(page, server_url, "bandits?steps=200&runs=100")
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(3)
    wait_idle(page)
    button = page.get_by_test_id("stDownloadButton").filter(has_text="Curves as CSV")
    with page.expect_download() as info:
        button.locator("button").click()
    assert info.value.suggested_filename == "bandit_curves.csv"
    with open(info.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    header, body = rows[0], rows[1:]
    assert header[0] == "step" and len(body) == 200 and body[0][0] == "1" and body[-1][0] == "200"
    strategies = {name.split(" | ")[0] for name in header[1:]}
    assert len(header) == 1 + 3 * len(strategies) and any("greedy" in s for s in strategies)
    reward = [float(r[1]) for r in body]
    assert all(-5 < v < 5 for v in reward)  # average rewards around the testbed's true values
    wait_idle(page)
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)
