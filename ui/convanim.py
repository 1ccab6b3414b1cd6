"""The convolution animation, played in the browser.

``core.conv.animation(...)`` gives every frame of the kernel at work (the
cells read, the cells written). This module sends that whole animation once
per settings change to one Custom Components v2 element with a stable key;
``static/convanim.js`` plays it on canvases (play, pause, step, speed, a
frame slider) without asking the server for anything: no rerun per frame.

    conv_animation("conv:anim", animation_payload(anim, sig="..."))

AppTest has no browser: ``sent_animation(at, key)`` reads back what a page sent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ui.static_module import STATIC, module_url, sent_data, static_component

from core.conv import Animation

JS_FILE = STATIC / "convanim.js"

_CSS = """
.ca-root { width: 100%; color: var(--st-text-color, #31333f); font-family: var(--st-font, sans-serif);
  font-size: 14px; line-height: 1.35; }
.ca-title { font-weight: 600; font-size: 15px; margin: 0 0 6px 0; }
.ca-grids { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 8px 14px; }
.ca-panel { margin: 0; min-width: 0; }
.ca-label { font-size: 13px; margin: 0 0 4px 0; overflow-wrap: anywhere; }
.ca-label b { letter-spacing: .04em; }
.ca-arrow { align-self: center; font-size: 22px; opacity: .7; }
.ca-panel canvas { display: block; }
.ca-caption { min-height: 2.7em; margin: 6px 0 4px 0; font-size: 13px; overflow-wrap: anywhere; }
.ca-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 8px; margin: 0 0 8px 0; }
.ca-controls button { font: inherit; font-size: 14px; min-width: 36px; height: 32px; padding: 0 10px;
  border-radius: 6px; cursor: pointer; color: inherit; background: transparent;
  border: 1px solid var(--st-border-color, rgba(128,128,128,.45)); }
.ca-controls button:hover { border-color: var(--st-primary-color, #0b6bcb); }
.ca-controls button.ca-play { min-width: 86px; font-weight: 600; }
.ca-controls input[type=range] { flex: 1 1 80px; min-width: 60px; accent-color: var(--st-primary-color, #0b6bcb); }
.ca-controls select { font: inherit; font-size: 13px; height: 30px; color: inherit;
  background: var(--st-background-color, #fff); border: 1px solid var(--st-border-color, rgba(128,128,128,.45));
  border-radius: 6px; }
.ca-counter { font-variant-numeric: tabular-nums; font-size: 13px; white-space: nowrap; }
.ca-legend { display: flex; flex-wrap: wrap; gap: 4px 12px; margin-top: 6px; font-size: 12px; }
.ca-legend span { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap; }
.ca-legend i { display: inline-block; width: 14px; height: 14px; border-radius: 2px; }
.ca-problem { padding: 14px; border: 1px dashed var(--st-border-color, rgba(128,128,128,.6));
  border-radius: 6px; font-size: 14px; }
"""

_component = static_component("ml_explorables.convanim", css=_CSS)


def _cells(frames: list[dict], part: str) -> dict:
    """The ``part`` ("read" or "write") cells of every frame, compactly.

    When every frame's cells are the first frame's pattern moved (true for a
    kernel sweep and for the scatter view), send the pattern once and one
    anchor cell per frame: ``{"anchor": [r0, c0, r1, c1, ...], "offsets": [dr, dc, ...]}``.
    Otherwise ``{"lists": [[r, c, r, c, ...], ...]}``. Lossless either way.
    """
    sizes = {len(f[part]) for f in frames}
    if len(sizes) == 1:
        cells = np.asarray([f[part] for f in frames], dtype=np.int64)  # (frames, cells, 2)
        offsets = cells - cells[:, :1]
        if (offsets == offsets[:1]).all():
            return {"anchor": cells[:, 0].ravel().tolist(), "offsets": offsets[0].ravel().tolist()}
    return {"lists": [np.asarray(f[part], dtype=np.int64).ravel().tolist() for f in frames]}


def animation_payload(anim: Animation, *, sig: str, numbers: bool) -> dict:
    """What the browser needs to play ``anim``: plain JSON, frames compacted."""
    a = anim.to_dict()
    frames = a.pop("frames")
    a.pop("role_names", None)
    a.pop("source_index", None)  # the player does not need it
    if not numbers:
        for name in ("source_values", "kernel_values", "target_values"):
            a[name] = None
    return {"src": module_url(JS_FILE.name), "sig": sig, "numbers": bool(numbers), "problem": None,
            "anim": {**a, "n_frames": len(frames), "read": _cells(frames, "read"), "write": _cells(frames, "write")}}


def problem_payload(problem: str, *, sig: str) -> dict:
    """Impossible settings: the element stays mounted and says why instead of playing."""
    return {"src": module_url(JS_FILE.name), "sig": sig, "numbers": False, "problem": problem, "anim": None}


def frames_of(payload: dict, part: str) -> list[list[list[int]]]:
    """Decode a payload's ``part`` cells back into core's per-frame lists (tests use it)."""
    spec = payload["anim"][part]
    if "lists" in spec:
        return [np.asarray(cells).reshape(-1, 2).tolist() for cells in spec["lists"]]
    anchor = np.asarray(spec["anchor"]).reshape(-1, 1, 2)
    offsets = np.asarray(spec["offsets"]).reshape(1, -1, 2)
    return (anchor + offsets).tolist()


def conv_animation(key: str, payload: dict) -> None:
    """Mount (or update) the player; ``key`` must stay the same across runs."""
    _component(key=key, data=payload)


def sent_animation(at: Any, key: str) -> dict:
    """What a page sent to the player ``key`` in an AppTest run (``{}`` if nothing)."""
    return sent_data(at, key)
