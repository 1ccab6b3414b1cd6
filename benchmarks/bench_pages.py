"""Every page on a fresh server, as a browser sees it; and the server's memory.

    python3 -m benchmarks.run pages

- ``pages.<name>``: a fresh ``streamlit run`` for each page, then headless
  Chromium (1280 x 800) opens the page's URL: ``first_content_s`` is the time
  from navigation to the page's title on screen (what a student sees first),
  ``full_render_s`` to the end of the first run with every chart drawn
  (Plotly charts have their SVG, live views have drawn once). ``warm_*``: the
  same page opened again in a new tab of the same server (the imports and
  shared caches are then warm: what the 2nd to 30th student of a class meet).
- ``memory``: one fresh server; every page opened once in its own tab and
  every live view started for a few seconds (the trainer runs), then the
  resident memory of the server and its worker processes (``after_every_page_mb``);
  then 10 more tabs on the home page, and ``per_extra_session_mb`` is the
  growth divided by 10.

Needs Debian's Chromium (scripts/test.sh installs it).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from benchmarks.browser import CHROMIUM_ARGS, _chromium, start_server
from benchmarks.classroom import process_family

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb(pid: int) -> float:
    total = 0.0
    for p in process_family(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return round(total, 1)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _open(page, url: str, timeout_s: float = 120.0) -> dict:
    """Navigate and time the first content and the full render (seconds)."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.locator('[data-testid="stMain"] h1').first.wait_for(state="visible", timeout=timeout_s * 1000)
    first = time.perf_counter() - start
    app = page.locator('[data-testid="stApp"]')
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = app.get_attribute("data-test-script-state")
        ready = page.evaluate("""() => {
            const plots = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
            const drawn = plots.every(p => p.querySelector('.main-svg'));
            const live = [...document.querySelectorAll('[data-updates]')];
            return drawn && live.every(l => Number(l.getAttribute('data-updates')) >= 1);
        }""")
        if state == "notRunning" and ready:
            break
        time.sleep(0.05)
    full = time.perf_counter() - start
    return {"first_content_s": round(first, 3), "full_render_s": round(full, 3)}


def _pages() -> list[tuple[str, str]]:
    from ui.registry import HOME, all_pages

    # the home page is the default page: it lives at "/" ("/home" opens it under a "Page not found" notice)
    return [(p.title, "" if p is HOME else p.url_path) for p in all_pages()]


def page_times(only: list[str] | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        for title, path in _pages():
            if only is not None and (path or "home") not in only:
                continue
            proc, url = start_server(ROOT)
            try:
                tab = browser.new_page(viewport={"width": 1280, "height": 800})
                cold = _open(tab, f"{url}/{path}")
                tab.close()
                tab = browser.new_page(viewport={"width": 1280, "height": 800})
                warm = _open(tab, f"{url}/{path}")
                tab.close()
                out[path or "home"] = {"title": title, **cold, **{f"warm_{k}": v for k, v in warm.items()}}
            except Exception as exc:  # report and go on with the next page
                out[path or "home"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            finally:
                _stop(proc)
    return out


def memory(extra_sessions: int = 10, train_seconds: float = 3.0) -> dict:
    from playwright.sync_api import sync_playwright

    proc, url = start_server(ROOT)
    out: dict = {"at_start_mb": _rss_mb(proc.pid)}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            tabs = []
            for _, path in _pages():
                tab = browser.new_page(viewport={"width": 1280, "height": 800})
                _open(tab, f"{url}/{path}")
                for button in tab.get_by_role("button", name="▶ Start").all():
                    if button.is_enabled():
                        button.click()
                tabs.append(tab)
            time.sleep(train_seconds)
            for tab in tabs:
                for button in tab.get_by_role("button", name="⏸ Pause").all():
                    button.click()
            time.sleep(2)
            out["after_every_page_mb"] = _rss_mb(proc.pid)
            for _ in range(extra_sessions):
                tab = browser.new_page(viewport={"width": 1280, "height": 800})
                _open(tab, url)
                tabs.append(tab)
            time.sleep(2)
            after = _rss_mb(proc.pid)
            out[f"after_{extra_sessions}_more_sessions_mb"] = after
            out["per_extra_session_mb"] = round((after - out["after_every_page_mb"]) / extra_sessions, 1)
            browser.close()
        time.sleep(3)
        out["after_every_tab_closed_mb"] = _rss_mb(proc.pid)
    finally:
        _stop(proc)
    return out


def run() -> dict:
    return {"pages": page_times(), "memory": memory()}
