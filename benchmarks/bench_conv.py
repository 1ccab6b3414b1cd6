"""Convolution-arithmetic engine speed (core only: the page itself is not run).

    python3 -m benchmarks.run conv

- ``control_change_ms``: everything the engine and the figure builders do after
  one control moves (size check, both formulas, the animation frames as
  JSON-ready data, numeric mode's output and one cell's products, the
  overlap map, the layer-stack table, and the static frame, overlap and
  numeric figures), over a sweep of settings of every operation: each
  setting's best of 3 (the machine is shared: a single run can stall), then
  the median and the worst over the settings; ``core_only`` leaves out the
  figures. Target: <= 100 ms.
- ``gif_7x7_s``: seconds to build the animated GIF for a 7x7 input (best of
  3), for the usual cases and the longest one a 7x7 input makes here (a
  transposed convolution with a 19x19 output: 361 frames). Target: <= 2 s.
- ``load_average_1min``: the machine's load when the run started (2 cores).
"""

from __future__ import annotations

import itertools
import os
import statistics

import numpy as np

from benchmarks.timing import best_of
from core import conv
from core.plots import conv as plots

STACK = [conv.Layer("conv", 3, 1, 1, channels=16), conv.Layer("max_pool", 2, 2), conv.Layer("conv", 3, 1, 1, 2, 32),
         conv.Layer("transposed", 4, 2, 1, channels=16), conv.Layer("conv", 3, 1, 1, channels=3)]


def _settings(size: int) -> list[conv.Geometry]:
    out = []
    for op, k, s, p in itertools.product(conv.OPS, (2, 3), (1, 2), (0, 1)):
        g = conv.Geometry(op, size, size, k, s, p, output_padding=1 if op == "transposed" and s > 1 else 0)
        if g.problem() is None:
            out.append(g)
    return out


def control_change(g: conv.Geometry, x: np.ndarray, w: np.ndarray, figures: bool = True) -> None:
    """What one control change costs the engine (and the figure builders)."""
    g.formulas()
    kernel = w[: g.k, : g.k] if g.op in ("conv", "transposed") else None
    anim = conv.animation(g, "sweep", x, kernel).to_dict()
    out = conv.apply(g, x, kernel)
    cell = (out.shape[0] // 2, out.shape[1] // 2)
    parts = conv.breakdown(g, x, kernel, cell)
    counts = conv.overlap_counts(g.h, g.w, g.k, g.s, g.p, g.output_padding, g.d) if g.op == "transposed" else None
    conv.receptive_field(STACK, input_size=(g.h, g.w), in_channels=3)
    if figures:
        plots.frame_figure(anim, len(anim["frames"]) // 2)
        read = [list(t.input_cell) for t in parts.terms if t.input_cell is not None]
        plots.numeric_figures(x, kernel, out, op_name=conv.OP_NAMES[g.op], read=read, selected=cell)
        if counts is not None:
            plots.overlap_figure(counts, kernel=g.k, stride=g.s)


def _control_changes(size: int, figures: bool) -> dict:
    rng = np.random.default_rng(0)
    x, w = rng.integers(-4, 5, (size, size)), rng.integers(-2, 3, (3, 3))
    settings = _settings(size)
    control_change(settings[0], x, w, figures)  # warm-up (imports, Plotly validators)
    times = [best_of(lambda g=g: control_change(g, x, w, figures), 3) for g in settings]
    return {"settings": len(settings), "median_ms": round(1000 * statistics.median(times), 1),
            "worst_ms": round(1000 * max(times), 1)}


def _gif(g: conv.Geometry, view: str = "sweep") -> dict:
    x = np.arange(g.h * g.w).reshape(g.h, g.w) % 10
    w = np.ones((g.k, g.k), dtype=int) if g.op in ("conv", "transposed") else None
    anim = conv.animation(g, view, x, w)
    size = len(conv.animation_gif(anim))
    return {"frames": len(anim.frames), "seconds": round(best_of(lambda: conv.animation_gif(anim), 3), 3),
            "kib": round(size / 1024)}


def run() -> dict:
    return {
        "note": "2-core machine shared with other work: figures vary from run to run",
        "load_average_1min": round(os.getloadavg()[0], 1),
        "control_change_ms": {
            "input_7x7": _control_changes(7, figures=True),
            "input_16x16": _control_changes(16, figures=True),
            "core_only_input_16x16": _control_changes(16, figures=False),
            "target_ms": 100,
        },
        "gif_7x7_s": {
            "conv_k3_s1_p1": _gif(conv.Geometry("conv", 7, 7, 3, 1, 1)),
            "conv_k3_s2_p1": _gif(conv.Geometry("conv", 7, 7, 3, 2, 1)),
            "max_pool_k2_s2_ceil": _gif(conv.Geometry("max_pool", 7, 7, 2, 2, ceil_mode=True)),
            "transposed_k3_s2_scatter": _gif(conv.Geometry("transposed", 7, 7, 3, 2), "scatter"),
            "transposed_k3_s2_zero_insertion": _gif(conv.Geometry("transposed", 7, 7, 3, 2)),
            "transposed_k4_s2_d2_longest": _gif(conv.Geometry("transposed", 7, 7, 4, 2, d=2)),
            "target_s": 2.0,
        },
    }
