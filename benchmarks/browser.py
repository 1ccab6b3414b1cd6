"""Measure a live page as a viewer sees it, in headless Chromium.

    python3 -m benchmarks.browser gan            # this checkout
    python3 -m benchmarks.browser gan --against /path/to/an/older/checkout

For each page it starts ``streamlit run app.py`` (on a free loopback port),
opens the page at 1280 x 800, presses Start and measures, while training runs:

- ``updates_per_second``: how often the step drawn in the charts changes
  (read from the live view's ``data-step``; for an older checkout drawing with
  ``st.plotly_chart``, from the first chart's title);
- ``frames_per_second``: animation frames the browser managed (a busy main
  thread drops frames: a page that freezes shows it here);
- ``blank_of_30``: of 30 screenshots of the main chart taken while training,
  how many show no chart (a blank or missing element);
- ``pause_ms``: click on Pause to the button reading Resume (median of 3).

``--against`` runs the same measurement on another checkout in the same run,
so the two sets of figures are comparable on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = {  # page -> (url path, what to do before pressing Start)
    "home": ("", None),
    "gan": ("gan", None),
    "entropy": ("entropy?epochs=100", "tab:2"),
    "bandits": ("bandits?view=single", None),
    "gridworld": ("gridworld?episodes=5000", None),
    "activations": ("activations", None),
}

# Installed in the page: counts animation frames and records each change of the step drawn.
SAMPLER = """
() => {
  const st = window.__live = { frames: 0, changes: [], host: null };
  function stepShown() {
    if (!st.host || !st.host.isConnected) {
      st.host = null;
      for (const e of document.querySelectorAll('div')) {  // the last visible live view: the one trained
        if (e.shadowRoot && e.shadowRoot.querySelector('.lc-root') && e.offsetParent !== null) st.host = e;
      }
    }
    if (st.host) {
      const root = st.host.shadowRoot.querySelector('.lc-root');
      if (root && root.dataset.step) return Number(root.dataset.step);
    }
    const title = document.querySelector('[data-testid="stPlotlyChart"] .gtitle');
    if (title) {
      const m = title.textContent.match(/([\\d,]+)/);
      if (m) return Number(m[1].replace(/,/g, ''));
    }
    return null;
  }
  function tick(t) {
    st.frames += 1;
    if (st.frames % 2 === 0) {
      const s = stepShown();
      const last = st.changes[st.changes.length - 1];
      if (s !== null && (!last || last[1] !== s)) st.changes.push([t, s]);
    }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = open(Path(tempfile.gettempdir()) / f"bench-server-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(root)},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start in 90 s")


def _chart_box(page):
    """The main chart's element: the visible live view, or (older checkouts) the first visible Plotly chart."""
    live = page.locator("div.lc-root").filter(visible=True)
    if live.count():
        return live.last
    return page.get_by_test_id("stPlotlyChart").filter(visible=True).first


def _blank(png: bytes) -> bool:
    """A screenshot of a chart with (almost) one colour: nothing drawn."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    low, high = image.getextrema()
    return high - low < 24


def measure(page, url: str, name: str, seconds: float = 10.0, keep: Path | None = None) -> dict:
    from playwright.sync_api import expect

    path, before = PAGES[name]
    page.goto(f"{url}/{path}")
    expect(page.get_by_test_id("stMain").locator("h1").first).to_be_visible(timeout=90_000)
    page.wait_for_timeout(4000)
    if before and before.startswith("tab:"):
        page.get_by_role("tab").nth(int(before[4:])).click()
        page.wait_for_timeout(2000)
    start = page.get_by_role("button", name="▶ Start").first
    start.scroll_into_view_if_needed()
    start.click()
    expect(page.get_by_role("button", name="⏸ Pause").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)  # the first ticks (imports, first chunk) are not steady state
    pauses = []
    for _ in range(3):
        pause = page.get_by_role("button", name="⏸ Pause").first
        if not pause.count():
            break  # the run finished
        t0 = time.perf_counter()
        pause.click()
        page.get_by_role("button", name="▶ Resume").first.wait_for(timeout=30_000)
        pauses.append((time.perf_counter() - t0) * 1000)
        page.wait_for_timeout(500)
        page.get_by_role("button", name="▶ Resume").first.click()
        page.get_by_role("button", name="⏸ Pause").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
    pause_ms = round(statistics.median(pauses)) if pauses else None
    page.evaluate(SAMPLER)
    page.wait_for_timeout(seconds * 1000)
    live = page.evaluate("() => ({ frames: window.__live.frames, changes: window.__live.changes })")
    changes = live["changes"]
    result = {
        "updates_per_second": round(max(0, len(changes) - 1) / seconds, 2),
        "frames_per_second": round(live["frames"] / seconds, 1),
        "steps_drawn": [changes[0][1], changes[-1][1]] if changes else None,
        "pause_ms": pause_ms,
    }
    box = _chart_box(page)
    blanks = failed = 0
    for i in range(30):
        try:
            png = box.screenshot(timeout=5000, animations="disabled")
        except Exception:  # the element was missing or being replaced: nothing to see
            failed += 1
            continue
        if _blank(png):
            blanks += 1
            if keep:
                (keep / f"{name}-blank-{i}.png").write_bytes(png)
        page.wait_for_timeout(150)
    result["blank_of_30"] = blanks + failed
    result["missing_of_30"] = failed
    return result


def run_pages(root: Path, names: list[str], seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    proc, url = start_server(root)
    out = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            for name in names:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                try:
                    keep = ROOT / "test-output" / "blank-frames" / root.name
                    keep.mkdir(parents=True, exist_ok=True)
                    out[name] = measure(page, url, name, seconds, keep)
                except Exception as exc:  # report and go on with the next page
                    out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                page.close()
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("Chromium not found: install it (scripts/test.sh does) or set CHROMIUM_PATH")


def run(names: list[str] | None = None, against: Path | None = None, seconds: float = 10.0) -> dict:
    names = names or list(PAGES)
    report = {"this checkout": run_pages(ROOT, names, seconds)}
    if against is not None:
        report[f"against {against}"] = run_pages(against, names, seconds)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help=f"pages to measure, of {sorted(PAGES)} (default: all)")
    parser.add_argument("--against", type=Path, help="another checkout to measure the same way, in the same run")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window per page")
    args = parser.parse_args()
    unknown = sorted(set(args.pages) - set(PAGES))
    if unknown:
        parser.error(f"unknown page(s) {unknown}; choose from {sorted(PAGES)}")
    print(json.dumps(run(args.pages or None, args.against, args.seconds), indent=2))


if __name__ == "__main__":
    main()
