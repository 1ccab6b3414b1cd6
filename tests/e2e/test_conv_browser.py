"""The convolution-arithmetic page in headless Chromium: the animation plays in the browser
(the frame shown advances with no message to the server), pause stops it, the step buttons
move one frame, numbers and the GIF download work, and the page reads at 1280 x 800, at
400 x 800 and in the dark theme (screenshots of several frames are saved for a look)."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.browser import assert_no_exception, full_screenshot, open_app, real_errors, wait_idle

pytestmark = pytest.mark.e2e

ROOT = ".ca-root"  # the player's root element, inside the component's shadow root (locators pierce it)


def _frame(page) -> int:
    return int(page.locator(ROOT).get_attribute("data-frame"))


def _button(page, act: str):
    return page.locator(f"{ROOT} button[data-act={act}]")


def _sent_messages(page) -> list[str]:
    """Record every message the browser sends the server over its websockets (call it before
    the page opens: a listener only sees the websockets opened after it)."""
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append("frame")))
    return sent


def _pixel_luminance(page, which: str, row: int, col: int) -> float:
    """Luminance (0 black .. 1 white) at the centre of a cell of the source or target canvas."""
    return page.locator(f"{ROOT} .ca-{which} canvas").evaluate(
        """(canvas, [row, col]) => {
            const rect = canvas.getBoundingClientRect();
            const ctx = canvas.getContext("2d");
            const scale = canvas.width / rect.width;
            const cell = (rect.width - 2) / Number(canvas.dataset.cols || 1);
            const x = Math.round((1 + (col + 0.5) * cell) * scale), y = Math.round((1 + (row + 0.5) * cell) * scale);
            const [r, g, b] = ctx.getImageData(x, y, 1, 1).data;
            return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
        }""", [row, col])


def _open(page, server_url, path: str, width: int = 1280, height: int = 800) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})  # open_app waits for the sidebar to show
    open_app(page, server_url, path)
    if width != 1280 or height != 800:
        page.set_viewport_size({"width": width, "height": height})
    expect(page.locator(ROOT)).to_have_attribute("data-frames", re.compile(r"^[1-9]\d*$"))
    wait_idle(page)


def test_the_animation_plays_in_the_browser_and_pauses(page, server_url, console_errors, screenshot_dir):
    sent = _sent_messages(page)
    _open(page, server_url, "conv")
    root = page.locator(ROOT)
    expect(root).to_have_attribute("data-frames", "9")
    expect(root).to_have_attribute("data-playing", "1")
    expect(root.locator(".ca-source .ca-label")).to_contain_text("INPUT 5×5 + padding 1")
    expect(root.locator(".ca-target .ca-label")).to_contain_text("OUTPUT 3×3")
    # the main controls and the animation share one screen at 1280 x 800
    for box in (page.get_by_role("slider", name="Kernel size").bounding_box(),
                page.get_by_role("slider", name="Stride").bounding_box(),
                root.locator(".ca-source canvas").bounding_box(), root.locator(".ca-target canvas").bounding_box(),
                _button(page, "play").bounding_box()):
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 800, box
    page.screenshot(path=screenshot_dir / "conv-1280x800.png")

    root.locator("select").select_option("8")  # 8 frames per second
    assert sent, "the websocket listener saw nothing: it cannot tell whether playing talks to the server"
    sent.clear()
    seen, states = set(), set()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3.0:
        seen.add(_frame(page))
        states.add(page.get_by_test_id("stApp").get_attribute("data-test-script-state"))
        time.sleep(0.05)
    assert len(seen) >= 6, f"the frame shown hardly moved: {sorted(seen)}"
    assert not sent, f"playing sent {len(sent)} message(s) to the server: it must play in the browser"
    assert states == {"notRunning"}, states

    _button(page, "play").click()  # pause
    expect(root).to_have_attribute("data-playing", "0")
    expect(_button(page, "play")).to_have_attribute("aria-label", "Play")
    paused = _frame(page)
    time.sleep(1.5)
    assert _frame(page) == paused, "the animation went on after Pause"

    _button(page, "first").click()
    expect(root).to_have_attribute("data-frame", "0")
    expect(root.locator(".ca-caption")).to_contain_text("Output cell (0, 0)")
    expect(root.locator(".ca-counter")).to_have_text("Frame 1 of 9")
    root.screenshot(path=screenshot_dir / "conv-frame-1.png")
    for _ in range(4):
        _button(page, "next").click()
    expect(root).to_have_attribute("data-frame", "4")
    expect(root.locator(".ca-caption")).to_contain_text("Output cell (1, 1)")
    root.screenshot(path=screenshot_dir / "conv-frame-5.png")
    _button(page, "back").click()
    expect(root).to_have_attribute("data-frame", "3")
    expect(root.locator(".ca-caption")).to_contain_text("Output cell (1, 0)")
    root.locator("input[type=range]").fill("8")
    expect(root).to_have_attribute("data-frame", "8")
    root.screenshot(path=screenshot_dir / "conv-frame-9.png")
    assert not sent, "stepping sent messages to the server"

    # a control change is a server run: the player gets the new animation and starts it from frame 0
    before = root.get_attribute("data-sig")
    slider = page.get_by_role("slider", name="Kernel size")
    slider.focus()
    slider.press("ArrowRight")
    expect(root).not_to_have_attribute("data-sig", before)
    assert sent, "a control change must reach the server (and the listener must see it)"
    wait_idle(page)
    expect(root).to_have_attribute("data-frames", "4")  # kernel 4: (5 + 2 - 4) // 2 + 1 = 2, so 2 x 2
    expect(root.locator(".ca-target .ca-label")).to_contain_text("OUTPUT 2×2")
    assert "kernel=4" in page.url
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_numbers_and_the_gif_download(page, server_url, console_errors, screenshot_dir):
    _open(page, server_url, "conv?numbers=1&stride=1&padding=0")
    root = page.locator(ROOT)
    _button(page, "play").click()
    _button(page, "first").click()
    # Figure 1.1 of Dumoulin & Visin's guide: the first output cell is 12
    expect(root.locator(".ca-caption")).to_have_text(
        "Output cell (0, 0) = 3×0 + 3×1 + 2×2 + 0×2 + 0×2 + 1×0 + 3×0 + 1×1 + 2×2 = 12.")
    root.locator("input[type=range]").fill("8")
    expect(root.locator(".ca-caption")).to_contain_text("= 14.")
    root.screenshot(path=screenshot_dir / "conv-numbers-last-frame.png")
    page.get_by_role("button", name=re.compile("Make a GIF")).click()
    download_button = page.get_by_test_id("stDownloadButton")
    expect(download_button).to_contain_text("Download this animation as a GIF")
    with page.expect_download() as info:
        download_button.locator("button").click()
    path = info.value.path()
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 9  # one GIF frame per animation frame
        assert gif.size[0] >= 300
    assert info.value.suggested_filename == "conv-5x5-k3-s1-p0-d1.gif"
    wait_idle(page)
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_transposed_views_at_400_wide_and_in_the_dark(page, server_url, console_errors, screenshot_dir):
    page.emulate_media(color_scheme="dark")
    _open(page, server_url, "conv?op=transposed&numbers=1", width=400, height=800)
    collapse = page.get_by_test_id("stSidebarCollapseButton").locator("button")
    if collapse.count() and collapse.first.is_visible():  # the sidebar covers a phone's screen
        collapse.first.click()
        page.wait_for_timeout(500)
    root = page.locator(ROOT)
    expect(root).to_have_attribute("data-frames", "81")
    expect(root.locator(".ca-title")).to_contain_text("zeros inserted")
    # narrow: the output goes below the input, both fit the width
    expect(root.locator(".ca-arrow")).to_have_text("↓")
    for side in ("source", "target"):
        box = root.locator(f".ca-{side} canvas").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 400, (side, box)
    _button(page, "play").click()
    _button(page, "first").click()
    expect(root.locator(".ca-caption")).to_contain_text("Output cell (0, 0)")
    # dark theme: an empty output cell is dark, the text light
    assert _pixel_luminance(page, "target", 8, 8) < 0.25
    colour = root.evaluate("e => getComputedStyle(e).color")
    assert sum(int(v) for v in re.findall(r"\d+", colour)[:3]) > 3 * 180, colour
    root.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "conv-400x800-dark-zero-insertion.png")

    page.get_by_test_id("stRadioGroup").get_by_text("each input cell scatters the kernel").click()
    expect(root.locator(".ca-title")).to_contain_text("scatters a copy of the kernel")
    wait_idle(page)
    expect(root).to_have_attribute("data-frames", "25")
    root.locator("input[type=range]").fill("24")
    expect(root.locator(".ca-caption")).to_contain_text("Input cell (4, 4)")
    root.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "conv-400x800-dark-scatter-last.png")
    full_screenshot(page, screenshot_dir / "conv-400x800-dark-full.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_light_theme_transposed_frames_at_1280(page, server_url, console_errors, screenshot_dir):
    page.emulate_media(color_scheme="light")
    _open(page, server_url, "conv?op=transposed&view=scatter&output_padding=1")
    root = page.locator(ROOT)
    expect(root).to_have_attribute("data-frames", "25")
    _button(page, "play").click()
    for n in (0, 12, 24):
        root.locator("input[type=range]").fill(str(n))
        expect(root).to_have_attribute("data-frame", str(n))
        root.screenshot(path=screenshot_dir / f"conv-scatter-frame-{n + 1}.png")
    assert _pixel_luminance(page, "target", 6, 6) > 0.8  # light: an empty cell is light
    png = page.screenshot(path=screenshot_dir / "conv-1280x800-scatter.png")
    assert Image.open(io.BytesIO(png)).size == (1280, 800)
    full_screenshot(page, screenshot_dir / "conv-1280-full.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_frames_per_second_on_the_longest_animation(page, server_url, console_errors):
    """The longest animation the sliders allow (1,764 frames, numbers on) still plays at >= 10
    frames per second, and the browser keeps >= 10 frames per second of its own."""
    _open(page, server_url, "conv?op=transposed&h=10&w=10&kernel=5&stride=3&padding=0&dilation=3"
                            "&output_padding=2&numbers=1")
    root = page.locator(ROOT)
    expect(root).to_have_attribute("data-frames", "1764")
    root.locator("select").select_option("30")
    page.evaluate("""() => { const s = window.__fps = { frames: 0 };
        const tick = () => { s.frames += 1; requestAnimationFrame(tick); }; requestAnimationFrame(tick); }""")
    draws0 = int(root.get_attribute("data-draws"))
    page.wait_for_timeout(4000)
    frames = page.evaluate("() => window.__fps.frames")
    draws = int(root.get_attribute("data-draws")) - draws0
    assert frames / 4 >= 10, f"the browser managed {frames / 4:.1f} frames/s"
    assert draws / 4 >= 10, f"the animation advanced {draws / 4:.1f} frames/s"
    assert not real_errors(console_errors), real_errors(console_errors)


def test_impossible_settings_say_why_then_the_animation_comes_back(page, server_url, console_errors):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "conv?h=2&w=2&kernel=5&padding=0")
    root = page.locator(ROOT)
    expect(page.get_by_test_id("stAlertContentWarning").first).to_contain_text(
        "The kernel spans 5 cells but the padded input height is only 2 cells")
    expect(root.locator(".ca-problem")).to_contain_text("Nothing to animate")
    expect(root).to_have_attribute("data-frames", "0")
    slider = page.get_by_role("slider", name="Kernel size")
    slider.focus()
    for _ in range(3):  # kernel 5 -> 2: fits the 2 x 2 input
        slider.press("ArrowLeft")
    expect(root).to_have_attribute("data-frames", "1")  # (2 - 2) // 2 + 1 = 1 cell: nothing to play
    expect(root).to_have_attribute("data-playing", "0")
    page.get_by_role("slider", name="Stride").focus()
    page.keyboard.press("ArrowLeft")  # stride 1 ...
    page.get_by_role("slider", name="Padding").focus()
    page.keyboard.press("ArrowRight")  # ... padding 1: a 3 x 3 output, so it plays again
    expect(root).to_have_attribute("data-frames", "9")
    expect(root).to_have_attribute("data-playing", "1")
    expect(root.locator(".ca-problem")).to_be_hidden()
    wait_idle(page)
    assert page.get_by_test_id("stAlertContentWarning").count() == 0
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)
