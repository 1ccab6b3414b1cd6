"""Screenshots of every page's first screen at 1280x800, 400x800 and in the dark theme.

    python3 -m scripts.screenshots            # all pages -> test-output/screens/<page>-<view>.png
    python3 -m scripts.screenshots roc gan    # some pages
    python3 -m scripts.screenshots "entropy?epochs=10"   # a page opened by a link -> entropy-epochs10-<view>.png

Starts its own server; needs Debian's Chromium (scripts/test.sh installs it).
Open the files and look at them: the page rules in the README say what to check.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.bench_pages import ROOT, _open, _pages, _stop
from benchmarks.browser import CHROMIUM_ARGS, _chromium, start_server

OUT = ROOT / "test-output" / "screens"
VIEWS = {"1280": ({"width": 1280, "height": 800}, "light"), "400": ({"width": 400, "height": 800}, "light"),
         "dark": ({"width": 1280, "height": 800}, "dark")}


def main(only: list[str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    saved = []
    proc, url = start_server(ROOT)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            links = [(a.replace("?", "-").replace("&", "-").replace("=", ""), a) for a in only if "?" in a]
            for name, path in [((p or "home"), p) for _, p in _pages()] + links:
                if only and name not in only and path not in only:
                    continue
                for view, (size, scheme) in VIEWS.items():
                    context = browser.new_context(viewport=size, color_scheme=scheme)
                    tab = context.new_page()
                    _open(tab, f"{url}/{path}")
                    tab.wait_for_timeout(1500)
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
