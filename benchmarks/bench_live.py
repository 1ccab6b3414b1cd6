"""Live pages as a viewer sees them, in headless Chromium (see benchmarks/browser.py).

Targets (issue 10): >= 4 chart updates per second while training, >= 30 frames
per second, 0 blank charts in 30 screenshots, Pause takes effect within 300 ms.
"""

from __future__ import annotations

from benchmarks import browser


def run() -> dict:
    return browser.run(list(browser.PAGES), seconds=8.0)["this checkout"]
