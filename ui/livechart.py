"""Live charts that stay mounted and redraw in place.

``st.plotly_chart`` inside a ticking fragment is a new element on every tick
(its id hashes the figure), so the browser tears the chart down and draws it
again from scratch: blank flashes and about one update a second. Here one
Custom Components v2 element per live view stays mounted (it has a ``key``);
each tick sends only plain data, and ``static/livechart.js`` draws it on
canvases in place.

    live_charts("gan:charts", [
        Chart("plane", plane_figure(snap)),
        Chart("loss", loss_figure(snap), history=True),
    ], columns=2, step=snap.step, markers=run.changes)

The figures are the ordinary Plotly figures from ``core/plots`` (titles, axis
titles with units, legends): the browser draws the subset of Plotly they use.
``history=True`` marks a chart whose x axis is the trainer's step, where the
settings changed while training are drawn as dotted lines.

AppTest has no browser: ``ui.static_module.sent_data(at, key)`` (or
``tests.helpers.live_view``) reads back what a page sent.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui.static_module import STATIC, module_url, static_component

JS_FILE = STATIC / "livechart.js"
SIGNIFICANT_DIGITS = 5

_CSS = ".lc-root { width: 100%; } .lc-chart canvas { touch-action: pan-y; }"

_component = static_component("ml_explorables.livechart", css=_CSS)


@dataclass(frozen=True)
class Chart:
    """One chart of a live view.

    ``span=2`` makes it as wide as two columns; ``history=True`` says its x
    axis counts the trainer's steps, so setting changes are marked on it.
    """

    id: str
    figure: go.Figure | dict
    span: int = 1
    history: bool = False
    clickable: bool = False  # clicks on the plot area reach ``live_charts``'s ``on_click``


def _round_array(a: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> list:
    """Floats rounded to ``digits`` significant digits, as a nested list; NaN and infinity become None."""
    a = np.asarray(a, dtype=float)
    out = a.copy()
    finite = np.isfinite(a)
    nz = finite & (a != 0)
    if nz.any():
        v = a[nz]
        shift = digits - 1 - np.floor(np.log10(np.abs(v)))
        small = shift >= 0  # divide by an exact power of ten: the result prints short
        r = np.empty_like(v)
        r[small] = np.round(v[small] * 10.0 ** shift[small]) / 10.0 ** shift[small]
        r[~small] = np.round(v[~small] / 10.0 ** -shift[~small]) * 10.0 ** -shift[~small]
        out[nz] = r
    if finite.all():
        return out.tolist()
    obj = out.astype(object)
    obj[~finite] = None
    return obj.tolist()


def _decode(spec: dict) -> np.ndarray:
    """A Plotly typed array ``{"dtype": "f8", "bdata": base64, "shape": "41, 41"}`` as a NumPy array."""
    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
    shape = spec.get("shape")
    if shape:
        array = array.reshape([int(n) for n in str(shape).split(",")])
    return array


def plain(value: Any) -> Any:
    """``value`` as plain JSON: numpy arrays and scalars to rounded lists and numbers, NaN to None.

    Streamlit's component sends ``json.dumps(data)``: a NumPy scalar would
    arrive as its repr string, NaN as invalid JSON.
    """
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:  # Plotly stores arrays base64-encoded
            return plain(_decode(value))
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            return _round_array(value.real)
        if value.dtype.kind in "iub":
            return value.tolist()
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (float, np.floating)) for v in value):
            return _round_array(np.asarray(value, dtype=float))
        return [plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return _round_array(np.asarray([v]))[0] if math.isfinite(v) else None
    return value


def figure_data(fig: go.Figure | dict) -> dict:
    """A Plotly figure as the plain ``{"data": [...], "layout": {...}}`` the browser draws."""
    if isinstance(fig, go.Figure):
        # Read the figure's own property tree: ``to_plotly_json`` deep-copies it and turns every array into
        # base64 text, which ``plain`` would decode again (a third of a live tick's chart time, measured).
        # ``plain`` builds new lists and dicts and never writes into what it reads.
        data, layout = getattr(fig, "_data", None), getattr(fig, "_layout", None)
        if not isinstance(data, list) or not isinstance(layout, dict):  # not the Plotly this was written for
            spec = fig.to_plotly_json()
            data, layout = spec.get("data", []), spec.get("layout", {})
    else:
        data, layout = fig.get("data", []), fig.get("layout", {})
    layout = {k: v for k, v in layout.items() if k != "template"}
    return {"data": plain(list(data)), "layout": plain(layout)}


def chart_payload(charts: Sequence[Chart], *, columns: int = 2, step: int | None = None,
                  markers: Iterable[tuple[int, str]] = ()) -> dict:
    """Everything one tick sends: the charts, the step they show, the settings-change markers."""
    return {
        "src": module_url(JS_FILE.name),
        "columns": int(columns),
        "step": None if step is None else int(step),
        "markers": [[int(s), str(text)] for s, text in markers],
        "charts": [{"id": c.id, "span": int(c.span), "history": bool(c.history), "clickable": bool(c.clickable),
                    "fig": figure_data(c.figure)} for c in charts],
    }


def live_charts(key: str, charts: Sequence[Chart], *, columns: int = 2, step: int | None = None,
                markers: Iterable[tuple[int, str]] = (), on_click: Callable[[], None] | None = None) -> dict | None:
    """Draw ``charts`` in one element that stays mounted across ticks (``key`` must be stable).

    With ``on_click``, a click on a ``clickable`` chart reruns the app with the click
    available: the callback (and the return value) get ``{"chart", "x", "y", "n", "shift"}``
    in data coordinates (``n`` counts clicks, so a repeated delivery can be recognised).
    Read it in the callback with ``clicked(key)``.
    """
    payload = chart_payload(charts, columns=columns, step=step, markers=markers)
    if on_click is None:
        _component(key=key, data=payload)
        return None
    result = _component(key=key, data=payload, on_click_change=on_click)
    return getattr(result, "click", None)


def clicked(key: str) -> dict | None:
    """The last click sent by the live view ``key`` (inside its ``on_click`` callback)."""
    state = st.session_state.get(key)
    value = getattr(state, "click", None) if state is not None else None
    if value is None and isinstance(state, dict):
        value = state.get("click")
    return value
