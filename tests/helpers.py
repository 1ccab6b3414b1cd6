"""Readers and actions shared by the AppTest page tests.

They go through what a user sees (labels, the status line, the charts a page
sends to the browser), never through a panel's private session keys.
"""

from __future__ import annotations

import re
from typing import Any

from streamlit.testing.v1 import AppTest

from ui.static_module import sent_data


def metric(at: AppTest, label: str) -> str:
    """The value shown by the ``st.metric`` labelled ``label``."""
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric labelled {label!r}; shown: {[m.label for m in at.metric]}"
    return values[0]


def live_view(at: AppTest, key: str) -> dict:
    """What the page sent to the live view ``key`` (``ui.livechart``): charts, step, markers."""
    data = sent_data(at, key)
    assert data, f"no live view {key!r} on the page"
    return data


def live_figures(at: AppTest, key: str) -> dict[str, dict]:
    """chart id -> Plotly figure data (``{"data": [...], "layout": {...}}``) of the live view ``key``."""
    return {chart["id"]: chart["fig"] for chart in live_view(at, key)["charts"]}


def title(fig: dict) -> str:
    """A figure's title text."""
    t = fig["layout"].get("title", {})
    return t.get("text", "") if isinstance(t, dict) else str(t)


def trace(fig: dict, name: str) -> dict:
    """The trace called ``name`` in a figure."""
    for t in fig["data"]:
        if t.get("name") == name:
            return t
    raise AssertionError(f"no trace {name!r}; traces: {[t.get('name') for t in fig['data']]}")


def status(at: AppTest) -> str:
    """The live panel's status line ("Step 150 of 2,000 · training · ...")."""
    return " ".join(str(p.proto.text) for p in at.get("progress"))


def shown_count(at: AppTest) -> int:
    """The counter in the status line (steps, epochs, pulls); -1 when none is shown."""
    match = re.search(r"([\d,]+) of [\d,]+", status(at))
    return int(match.group(1).replace(",", "")) if match else -1


def press(at: AppTest, label: str, ticks: int = 0, panel: str = "") -> AppTest:
    """Click the button whose label contains ``label`` (e.g. "Start", "Pause"), then run ``ticks`` more ticks.

    ``panel`` picks the live panel when a page has several (its key, e.g. "entropy:lab").
    """
    buttons = [b for b in at.button if label in b.label and (b.key or "").startswith(panel)]
    assert buttons, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    buttons[0].click().run()
    for _ in range(ticks):
        at.run()
    return at


def tick_until(at: AppTest, done, max_ticks: int = 100) -> AppTest:
    """Run fragment ticks until ``done(at)`` holds (each tick trains for a bounded time, not N steps)."""
    for _ in range(max_ticks):
        if done(at):
            return at
        at.run()
    assert done(at), f"not reached after {max_ticks} ticks; status: {status(at)!r}"
    return at


def widget(at: AppTest, label: str) -> Any:
    """The widget labelled ``label`` (any kind)."""
    for kind in ("slider", "select_slider", "selectbox", "number_input", "checkbox", "radio", "toggle",
                 "text_input", "multiselect"):
        for w in getattr(at, kind):
            if w.label == label:
                return w
    raise AssertionError(f"no widget labelled {label!r}")


# AppTest element readers by a parameter table's widget kind (core.params)
READERS = {"slider": "slider", "select_slider": "select_slider", "selectbox": "selectbox", "radio": "radio",
           "toggle": "toggle", "checkbox": "checkbox", "number": "number_input", "multiselect": "multiselect",
           "text": "text_input"}


def shown_controls(at: AppTest, page: str, table) -> dict:
    """Every control of ``table`` as the page ``page`` shows it, by control name (found by its link name's key)."""
    out = {}
    for p in table:
        value = getattr(at, READERS[p.kind])(key=f"{page}:{p.url}").value
        out[p.name] = list(value) if p.kind == "multiselect" else value
    return out


def link(at: AppTest) -> dict:
    """The page's link as a plain dict (one value per name)."""
    return {k: (v[0] if isinstance(v, list) else v) for k, v in ((k, at.query_params[k]) for k in at.query_params)}
