"""The entropy page in headless Chromium: Part A reacts, both live panels train."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    assert_no_exception,
    full_screenshot,
    open_app,
    real_errors,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def _metric(page, label: str) -> str:
    """The value of the metric whose label is ``label`` (first match on the page)."""
    card = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return card.first.get_by_test_id("stMetricValue").inner_text().strip()


def _panel(page, name: str):
    return page.get_by_role("tabpanel", name=re.compile(re.escape(name)))


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=re.compile(re.escape(name))).click()


def _set_text(page, label: str, value: str) -> None:
    box = page.get_by_role("textbox", name=label)
    box.fill(value)
    box.press("Enter")


def test_part_a_reacts_to_every_control(page, server_url, console_errors, screenshot_dir):
    # Straight to the page on a fresh server, as a shared link would: the sidebar must be there too.
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "entropy")
    assert_no_exception(page)
    # The seed's bins: H(P) = 1.53 bits.
    expect(page.get_by_test_id("stMetric").first).to_contain_text("1.530")
    # Control and result on one screen: P, Q, the temperature and the chart of the two distributions
    # (it was below the fold, under the inputs).
    chart = page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".gtitle", has_text="The two distributions"))
    for name, box in (("P", page.get_by_role("textbox", name=re.compile("^P, the true")).bounding_box()),
                      ("Q", page.get_by_role("textbox", name=re.compile("^Q, the model")).bounding_box()),
                      ("T", page.get_by_role("slider", name=re.compile("temperature T")).bounding_box()),
                      ("chart", chart.first.bounding_box())):
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 800, (name, box)
    page.set_viewport_size({"width": 1400, "height": 1000})
    assert _metric(page, "H(P) in bits") == "1.530"
    full_screenshot(page, screenshot_dir / "entropy-part-a.png")

    # A zero in Q where P has mass: KL is infinite, with a sentence why (not an error).
    _set_text(page, "Q, the model's distribution (same number of entries)", "4, 4, 0")
    expect(page.get_by_text(re.compile("are \\*?\\*?infinite"))).to_be_visible()
    wait_idle(page)
    assert _metric(page, "KL(P‖Q) in bits") == "∞"
    assert page.get_by_test_id("stAlertContentError").count() == 0

    # A negative entry is refused with a message.
    _set_text(page, "Q, the model's distribution (same number of entries)", "4, -1, 1")
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("negative")
    wait_idle(page)

    # The seed's classifier example, then nats.
    page.get_by_role("combobox", name="Preset").click()
    page.get_by_role("option", name=re.compile(r"prediction \(0\.15")).click()
    expect(page.get_by_test_id("stMetric").nth(2)).to_contain_text("0.737")
    page.get_by_text("nats (natural log)").click()
    expect(page.get_by_test_id("stMetric").nth(2)).to_contain_text("0.511")
    assert _metric(page, "H(P, Q) in nats") == "0.511"
    wait_idle(page)
    assert "unit=nats" in page.url and "preset=guess1" in page.url

    # The binary entropy slider moves the point on the curve.
    slider = page.get_by_role("slider", name="Probability of heads, p")
    slider.focus()
    for _ in range(20):
        slider.press("ArrowRight")
    expect(page.get_by_text("H(0.50) = 0.693 nats")).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "entropy-part-a-classifier-nats.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def _progress(panel) -> int:
    texts = panel.get_by_test_id("stProgress").all_inner_texts()
    match = re.search(r"([\d,]+) of [\d,]+", " ".join(texts))
    return int(match.group(1).replace(",", "")) if match else -1


def test_forward_and_reverse_fits_animate(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "entropy?gap=8")
    _tab(page, "Forward vs reverse")
    panel = _panel(page, "Forward vs reverse")
    speed = panel.get_by_role("slider", name="Gradient steps per update")
    speed.focus()
    speed.press("End")  # 60 steps per redraw: 5 redraws to the end
    expect(speed).to_have_attribute("aria-valuetext", "60")
    wait_idle(page)
    panel.get_by_role("button", name="▶ Start").click()
    deadline = time.monotonic() + 90
    seen = set()
    while time.monotonic() < deadline and _progress(panel) < 300:
        seen.add(_progress(panel))
        time.sleep(0.2)
    assert _progress(panel) == 300, "the fit did not run to its last step"
    assert len(seen) >= 3, f"the chart was not redrawn while it ran: saw steps {sorted(seen)}"
    wait_idle(page)
    # gap 8: the forward fit matches p's moments (sd = sqrt(1 + 16)), the reverse fit sits on a peak.
    expect(panel.get_by_test_id("stMetric").nth(1)).to_contain_text("0.00, 4.12")
    expect(panel.get_by_test_id("stMetric").nth(3)).to_contain_text("4.00, 1.00")
    assert_no_exception(page)
    full_screenshot(page, screenshot_dir / "entropy-kl-fit.png")
    assert not real_errors(console_errors), real_errors(console_errors)


def _wait_finished(panel, timeout: float = 90) -> tuple[float, set[int]]:
    """Poll (without strict locators: old and new elements coexist during a rerun)
    until the panel says "finished"; return the seconds taken and the steps seen."""
    start, seen = time.monotonic(), set()
    while time.monotonic() - start < timeout:
        texts = " ".join(panel.get_by_test_id("stProgress").all_inner_texts())
        if "finished" in texts:
            return time.monotonic() - start, seen
        seen.add(_progress(panel))
        time.sleep(0.2)
    raise AssertionError(f"training did not finish in {timeout} s; saw steps {sorted(seen)}")


def test_loss_lab_trains_live_and_keeps_runs(page, server_url, console_errors, screenshot_dir):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "entropy?epochs=10&T=8")  # "T": a code from before the parameter table
    panel = _panel(page, "Loss lab")
    # A link with lab settings opens on the lab's tab: its controls are on screen without a click.
    expect(panel.get_by_role("combobox", name="Loss")).to_be_visible()
    temperature = panel.get_by_role("slider", name="Temperature T")
    expect(temperature).to_have_attribute("aria-valuetext", re.compile(r"^8(\.0)?$"))
    wait_idle(page)
    # ...and Start sits with them: the settings and the Start button share the first 1280 x 800 screen
    # (they were below two paragraphs, an expander and two captions).
    for name, box in (("Loss", panel.get_by_role("combobox", name="Loss").bounding_box()),
                      ("Temperature", temperature.bounding_box()),
                      ("Learning rate", panel.get_by_role("slider", name=re.compile("Learning rate")).bounding_box()),
                      ("Start", panel.get_by_role("button", name="▶ Start").bounding_box())):
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 800, (name, box)
    assert "temperature=8" in page.url and "T=8" not in page.url  # the link now says it in today's name
    _tab(page, "Loss lab")
    expect(panel.get_by_test_id("stProgress")).to_contain_text("Epoch 0 of 10")
    panel.get_by_role("button", name="▶ Start").click()
    elapsed, epochs_seen = _wait_finished(panel)
    assert len(epochs_seen) >= 3, f"the charts were not redrawn while training: {sorted(epochs_seen)}"
    print(f"10 epochs in the browser: {elapsed:.1f} s (shared 2-core machine)")
    wait_idle(page)
    expect(panel.get_by_text(re.compile(r"run 1: cross-entropy")).first).to_be_visible()

    # A second run with label smoothing is overlaid on the first.
    full_screenshot(page, screenshot_dir / "entropy-loss-lab-run1.png")
    panel.get_by_role("combobox", name="Loss").click()
    page.get_by_role("option", name="label smoothing").click()
    expect(panel.get_by_text("Label smoothing ε")).to_be_visible()
    wait_idle(page)
    panel.get_by_role("button", name="▶ Start").click()
    _wait_finished(panel)
    wait_idle(page)
    legend = " ".join(panel.get_by_test_id("stPlotlyChart").last.locator(".legendtext").all_text_contents())
    assert "run 1: cross-entropy" in legend and "run 2: label smoothing ε=0.1" in legend, legend
    assert_no_exception(page)
    time.sleep(0.5)
    full_screenshot(page, screenshot_dir / "entropy-loss-lab.png")
    assert not real_errors(console_errors), real_errors(console_errors)
