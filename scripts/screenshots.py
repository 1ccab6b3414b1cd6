"""Screenshots of every page's first screen at 1280x800, 400x800 and in the dark theme.

    python3 -m scripts.screenshots            # all pages -> test-output/screens/<page>-<view>.png
    python3 -m scripts.screenshots roc gan    # some pages
    python3 -m scripts.screenshots "entropy?epochs=10"   # a page opened by a link -> entropy-epochs10-<view>.png

Starts its own server; needs Debian's Chromium (scripts/test.sh installs it).
Open the files and look at them: the page rules in the README say what to check.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from benchmarks.bench_pages import ROOT, _open, _pages, _stop
from benchmarks.browser import CHROMIUM_ARGS, _chromium, start_server

OUT = ROOT / "test-output" / "screens"
VIEWS = {"1280": ({"width": 1280, "height": 800}, "light"), "400": ({"width": 400, "height": 800}, "light"),
         "dark": ({"width": 1280, "height": 800}, "dark")}


def _settle(tab, quiet_s: float = 1.5, timeout_s: float = 90.0) -> None:
    """Wait until the page has not run for ``quiet_s`` and shows no loading skeleton (a fresh server's
    first visit runs a page twice, and the server's own warm-up visit can slow it): a screenshot of a page
    mid-run shows placeholders. Before its first run starts, a page reads "notRunning" too, with every
    widget drawn as a grey skeleton: that is not quiet."""
    app = tab.locator('[data-testid="stApp"]')
    skeletons = tab.locator('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        if app.get_attribute("data-test-script-state") == "notRunning" and skeletons.count() == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_s:
                return
        else:
            quiet_since = None
        tab.wait_for_timeout(100)


def main(only: list[str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    saved = []
    proc, url = start_server(ROOT)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            first = browser.new_context(viewport=VIEWS["1280"][0])  # the server's first visit (and its warm-up)
            warm = first.new_page()
            _open(warm, url)
            _settle(warm, quiet_s=5.0)
            first.close()
            links = [(a.replace("?", "-").replace("&", "-").replace("=", ""), a) for a in only if "?" in a]
            for name, path in [((p or "home"), p) for _, p in _pages()] + links:
                if only and name not in only and path not in only:
                    continue
                for view, (size, scheme) in VIEWS.items():
                    context = browser.new_context(viewport=size, color_scheme=scheme)
                    tab = context.new_page()
                    _open(tab, f"{url}/{path}")
                    _settle(tab)
                    target = OUT / f"{name}-{view}.png"
                    tab.screenshot(path=str(target))
                    saved.append(target)
                    context.close()
            browser.close()
    finally:
        _stop(proc)
    return saved


if __name__ == "__main__":
    for f in main(sys.argv[1:]):
        print(f)
