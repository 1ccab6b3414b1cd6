"""The gridworld page in headless Chromium: the maze and its controls on one
screen, a click on a cell edits the maze (and the link), Start trains and the
live view redraws in place, Pause stops it; screenshots at 1280 x 800, 400 x 800
and in the dark theme."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, quote, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from core.gridworld import PRESETS, parse_maze
from core.plots.gridworld import PIT_COLOUR
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

MAIN, CHARTS = 0, 1  # the live views in page order: the big maze, then the tabular charts


def maze_in_link(page) -> str:
    values = parse_qs(urlparse(page.url).query).get("maze")
    return values[0] if values else PRESETS["cliff"].text


def changed_cells(before: str, after: str) -> list[tuple[tuple[int, int], str, str]]:
    a, b = parse_maze(before), parse_maze(after)
    assert a.shape == b.shape
    return [((r, c), a.kind((r, c)), b.kind((r, c))) for r in range(a.rows) for c in range(a.cols)
            if a.kind((r, c)) != b.kind((r, c))]


def rows_of_colour(png: bytes, colour: str, tolerance: int = 12, least: int = 20) -> np.ndarray:
    """The pixel rows (from the top) of an image where ``colour`` fills at least ``least`` pixels
    (a cell's width, not a stray pixel of a legend sample)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return np.flatnonzero((np.abs(rgb - target).max(axis=2) <= tolerance).sum(axis=1) >= least)


def test_gridworld_click_edits_trains_live_and_pauses(page, server_url, console_errors, screenshot_dir):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_app(page, server_url, "gridworld")
    expect(page.locator("h1").first).to_contain_text("Q-learning")
    expect(page.get_by_test_id("stProgress").first).to_contain_text("Episode 0 of 500")
    assert_charts_drawn(page, 1, MAIN)
    assert_charts_drawn(page, 4, CHARTS)
    assert live_step(page, MAIN) == 0
    # control and result on one screen: the learning settings and the whole maze inside 1280 x 800
    maze = live_root(page, MAIN).locator("canvas").first
    box = maze.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 800, box
    for name in ("α (step size)", "ε (share of random moves)"):
        slider = page.get_by_role("slider", name=name).bounding_box()
        assert 0 <= slider["y"] <= 800, (name, slider)
    page.screenshot(path=screenshot_dir / "gridworld-1280x800.png")
    # the right way up: the cliff (a band of pits, one row high) is drawn along the bottom of the maze
    pits = rows_of_colour(maze.screenshot(), PIT_COLOUR)
    assert pits.size and pits.min() > 0.5 * box["height"], (pits.min(initial=-1), box["height"])
    assert pits.max() - pits.min() < box["height"] / 4, "the pits should fill one row"

    # a click on a cell turns it into a wall: the maze, the world box and the link change
    before = maze_in_link(page)
    maze.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.45})
    expect(page).to_have_url(re.compile(r"maze="), timeout=30_000)
    wait_idle(page)
    changes = changed_cells(before, maze_in_link(page))
    assert len(changes) == 1 and changes[0][1:] == (".", "#"), changes
    expect(page.get_by_role("combobox", name="World")).to_have_value("✏️ Your own maze")
    # a click lower down on the same column lands on a lower row (a higher row number)
    first_row = changes[0][0][0]
    before = maze_in_link(page)
    maze.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.62})
    for _ in range(60):  # the link follows the edit
        if maze_in_link(page) != before:
            break
        page.wait_for_timeout(500)
    wait_idle(page)
    lower = changed_cells(before, maze_in_link(page))
    assert len(lower) == 1 and lower[0][0][0] > first_row and lower[0][0][1] == changes[0][0][1], (changes, lower)

    # Start: the live view advances and redraws in place (the same element, more updates)
    page.get_by_role("button", name="▶ Start").first.click()
    expect(page.get_by_role("button", name="⏸ Pause").first).to_be_visible()
    wait_for_count(lambda: progress_count(page), 30, 90, "the table did not learn in the browser")
    before_updates, before_step = live_updates(page, MAIN), live_step(page, MAIN)
    page.wait_for_timeout(2000)
    assert live_updates(page, MAIN) >= before_updates + 2, "the maze did not redraw in place"
    assert live_step(page, MAIN) > before_step
    page.screenshot(path=screenshot_dir / "gridworld-training.png")
    page.get_by_role("button", name="⏸ Pause").first.click()
    expect(page.get_by_role("button", name="▶ Resume").first).to_be_visible()
    wait_idle(page)
    paused_at = assert_stays_put(lambda: progress_count(page), 1.5, "training went on after Pause")
    expect(live_root(page, MAIN)).to_have_attribute("data-step", str(paused_at))
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)


def test_gridworld_narrow_and_dark(page, server_url, console_errors, screenshot_dir):
    open_app(page, server_url, "gridworld?maze=" + quote(PRESETS["maze8"].text, safe=""))
    page.set_viewport_size({"width": 400, "height": 800})  # (the sidebar folds away on a phone)
    expect(page.get_by_role("combobox", name="World")).to_have_value("8 x 8 maze")
    assert_charts_drawn(page, 1, MAIN)
    page.get_by_role("button", name="⏭ Step").first.click()
    wait_for_count(lambda: live_step(page, MAIN), 1, 60, "Step did not train")
    wait_idle(page)
    page.screenshot(path=screenshot_dir / "gridworld-400x800.png")
    full_screenshot(page, screenshot_dir / "gridworld-400-full.png")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(color_scheme="dark")
    # the deep Q-network trains on the same maze in its own live view
    dqn_start = page.get_by_role("button", name="▶ Start").last  # the table above reads Resume after Step
    dqn_start.scroll_into_view_if_needed()
    dqn_start.click()
    dqn = page.locator("div.lc-root").filter(has=page.locator('div.lc-chart[data-chart="dqn"]'))
    wait_for_count(lambda: int(dqn.get_attribute("data-step") or -1), 200, 90, "the network did not train")
    page.get_by_role("button", name="⏸ Pause").first.click()
    wait_idle(page)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.get_by_test_id("stMain").evaluate("e => e.scrollTo(0, 0)")
    page.screenshot(path=screenshot_dir / "gridworld-dark.png")
    full_screenshot(page, screenshot_dir / "gridworld-dark-full.png")
    assert_no_exception(page)
    assert not real_errors(console_errors), real_errors(console_errors)
