"""Components v2 elements whose code is an ES module served once from ``static/``.

A Components v2 element carries its inline JS with every run, so the code
that draws stays in ``static/<file>.js`` (``server.enableStaticServing``) and
the element's own JS is a tiny loader: it imports the module once (by a
content-versioned URL) and calls its ``draw(component, data)``; the module's
``cleanup(parentElement)`` runs on unmount. The live charts
(``ui/livechart.py``) and the convolution player (``ui/convanim.py``) use it.

The data travels as one compact JSON text, encoded once here. Handed a dict,
Streamlit walks it looking for data frames, encodes it, then encodes it again
with sorted keys to hash an identity that a keyed element does not use: three
passes over a payload of thousands of numbers on every live tick, all holding
the interpreter lock. A string is encoded and hashed as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit as st

STATIC = Path(__file__).resolve().parent.parent / "static"

_LOADER = """
const modules = new Map();
function fail(parentElement, error) {
  let box = parentElement.querySelector(".sm-failed");
  if (!box) {
    box = document.createElement("div");
    box.className = "sm-failed";
    box.style.cssText = "padding:12px;border:1px solid #d55e00;border-radius:6px";
    parentElement.appendChild(box);
  }
  box.textContent = "This view could not load (" + error + "). Reload the page; if it persists, " +
    "the server needs server.enableStaticServing = true.";
  console.error("static module", error);
}
export default function (component) {
  const { parentElement } = component;
  const data = component.data ? JSON.parse(component.data) : null;  // JSON text (element() below)
  if (!data || !data.src) return;
  const url = new URL(data.src, window.location.origin).href;
  let loading = modules.get(url);
  if (!loading) {
    loading = import(url);
    modules.set(url, loading);
  }
  loading.then((m) => m.draw(component, data)).catch((e) => fail(parentElement, e));
  return () => { loading.then((m) => m.cleanup(parentElement)).catch(() => {}); };
}
"""


def static_component(name: str, css: str = "") -> Callable[..., Any]:
    """Register the element ``name``; call it with ``data=`` a dict that carries ``"src": module_url(file)``
    (plain JSON values only: see ``ui.livechart.plain``)."""
    mount = st.components.v2.component(name, js=_LOADER, css=css)

    def element(*, data: dict, **kwargs: Any) -> Any:
        return mount(data=json.dumps(data, separators=(",", ":"), allow_nan=False), **kwargs)

    return element


@lru_cache(maxsize=8)
def module_url(filename: str) -> str:
    """Where the browser fetches ``static/filename`` (versioned by content, so a new deploy is not cached)."""
    digest = hashlib.sha1((STATIC / filename).read_bytes()).hexdigest()[:10]
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    return f"{prefix}/app/static/{filename}?v={digest}"


def decoded(node: Any) -> dict:
    """The data of one element node of an AppTest run (``element()`` sent it as JSON text)."""
    return json.loads(json.loads(node.proto.json))


def sent_data(at: Any, key: str) -> dict:
    """What a page sent to the element ``key`` in an AppTest run (``{}`` if nothing)."""
    for node in at.get("bidi_component"):
        if node.proto.id.endswith(key):
            return decoded(node)
    return {}
