"""Figures of the convolution-arithmetic page: plain data in, Plotly figures out.

Grids are heatmaps with row 0 at the top and square cells; the cells read
and written are outlined with layout shapes (cheap: built in the one
constructor call of ``core.plots.common.figure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from core.plots import fastgo as go

from core import conv
from core.plots.common import PALETTE, figure

READ_COLOUR, WRITE_COLOUR, FOOTPRINT_COLOUR = PALETTE[1], PALETTE[2], PALETTE[4]
# source roles (core.conv: input, inserted zero, padding, past the input)
SOURCE_COLOURS = ("#cfe3f5", "#f2f2f2", "#bdbdbd", "#ffffff")
# states of a written grid's cells in a frame, and their colours
EMPTY, DONE, NOW, CROPPED, OUT_PAD = range(5)
TARGET_COLOURS = ("#ffffff", "#b2e2d0", WRITE_COLOUR, "#bdbdbd", "#f2f2f2")
CELL_AXIS = {"title": {"text": "column (cells)"}, "dtick": 1, "showgrid": False, "zeroline": False}


def _steps(colours: Sequence[str]) -> list:
    """A colour scale that maps integer codes 0..n-1 to flat colours."""
    n = len(colours)
    return [pair for i, c in enumerate(colours) for pair in ((i / n, c), ((i + 1) / n, c))]


def _boxes(cells: Sequence[Sequence[int]], colour: str, *, width: int = 3, fill: bool = False,
           xref: str = "x", yref: str = "y") -> list[dict]:
    return [{"type": "rect", "xref": xref, "yref": yref, "x0": c - 0.5, "x1": c + 0.5, "y0": r - 0.5, "y1": r + 0.5,
             "line": {"color": colour, "width": width},
             **({"fillcolor": colour, "opacity": 0.55} if fill else {})} for r, c in cells]


def _y_axis(title: str, n_rows: int, anchor: str = "x") -> dict:
    return {"title": {"text": title}, "autorange": False, "range": [n_rows - 0.5, -0.5], "dtick": 1,
            "showgrid": False, "zeroline": False, "scaleanchor": anchor, "constrain": "domain"}


def _grid(values) -> np.ndarray:
    """Nested lists (``None`` for no value) or an array, as floats with NaN for no value."""
    if isinstance(values, np.ndarray):
        return values.astype(float)
    return np.asarray([[np.nan if v is None else v for v in row] for row in values], dtype=float)


def _text(values) -> np.ndarray | None:
    """Cell labels, whole numbers without decimals, as one NumPy array (Plotly
    validates nested lists element by element: about 10x slower)."""
    if values is None:
        return None
    grid = _grid(values)
    finite = np.isfinite(grid)
    whole = finite & (grid == np.round(grid))
    text = np.char.mod("%.2f", np.where(finite, grid, 0))
    text = np.where(whole, np.char.mod("%d", np.where(whole, grid, 0)), text)
    return np.where(finite, text, np.where(np.isnan(grid), "", np.where(grid < 0, "-inf", "inf")))


def grid_figure(values, title: str, *, highlight: Sequence[Sequence[int]] = (), selected: Sequence[int] | None = None,
                colour_title: str = "value", colorscale: str = "Blues", height: int = 320) -> go.Figure:
    """A grid of numbers as a heatmap, each cell labelled with its value.

    ``highlight`` cells get an orange outline (the cells read), ``selected``
    a thick green one (the cell written).
    """
    text = _text(values)
    z = _grid(values)
    z[~np.isfinite(z)] = np.nan  # minus infinity (a max-pooling window with no input cell): no colour
    shapes = _boxes(highlight, READ_COLOUR) + (_boxes([selected], WRITE_COLOUR, width=4) if selected else [])
    trace = go.Heatmap(z=z, text=text, texttemplate="%{text}", colorscale=colorscale, xgap=1, ygap=1,
                       colorbar={"title": {"text": colour_title}, "thickness": 12},
                       hovertemplate="row %{y}, column %{x}: %{text}<extra></extra>")
    return figure([trace], title, "column (cells)", "row (cells)", height=height, legend=False,
                  xaxis={**CELL_AXIS, "range": [-0.5, z.shape[1] - 0.5], "constrain": "domain"},
                  yaxis=_y_axis("row (cells)", z.shape[0]), shapes=shapes)


def overlap_figure(counts, *, kernel: int, stride: int, dilation: int = 1) -> go.Figure:
    """How many kernel copies a transposed convolution adds into each output cell.

    The title names the settings drawn and says whether the overlap away from
    the border is even or a checkerboard (``core.conv.even_overlap``). With
    dilation 1 it gives the rule (the kernel size a multiple of the stride);
    with dilation it is the taps, ``dilation`` cells apart, that must fall
    evenly on the stride's grid, so the title states the dilation instead.
    """
    even = conv.even_overlap(kernel, stride, dilation)
    verdict = "even overlap away from the border" if even else "uneven overlap (checkerboard)"
    if dilation == 1:
        why = (f"kernel {kernel} is a multiple of stride {stride}: {verdict}" if even
               else f"kernel {kernel} is not a multiple of stride {stride}: {verdict}")
    else:
        why = f"kernel {kernel}, stride {stride}, dilation {dilation}: {verdict}"
    return grid_figure(counts, f"Kernel copies per output cell ({why})", colour_title="copies",
                       colorscale="Oranges")


def numeric_figures(x, w, out, *, op_name: str, read: Sequence[Sequence[int]] = (),
                    selected: Sequence[int] | None = None) -> dict[str, go.Figure]:
    """The input, kernel (``None`` for pooling) and output grids of numeric mode.

    ``read`` are the input cells that feed the ``selected`` output cell (in
    input coordinates; padding cells are left out).
    """
    figures = {
        "input": grid_figure(x, "Input (the values you entered)", highlight=read),
        "output": grid_figure(out, f"Output of the {op_name}", selected=selected, colorscale="Greens"),
    }
    if w is not None:
        figures["kernel"] = grid_figure(w, "Kernel (weights)", colorscale="RdBu", colour_title="weight", height=260)
    return figures


def frame_figure(anim: Mapping | object, t: int, *, height: int = 420) -> go.Figure:
    """One frame of an animation (``core.conv.Animation`` or its ``to_dict()``):
    the swept grid on the left, the written grid on the right."""
    a = anim if isinstance(anim, Mapping) else anim.to_dict()
    frames = a["frames"]
    if not 0 <= t < len(frames):
        raise ValueError(f"Frame {t} does not exist: the animation has frames 0 to {len(frames) - 1}.")
    roles = np.asarray(a["source_roles"])
    target_roles = np.asarray(a["target_roles"])  # 0 output, 1 added by output_padding, 2 cropped
    state = np.choose(target_roles, (EMPTY, OUT_PAD, CROPPED))
    if t:
        before = np.concatenate([np.asarray(f["write"]) for f in frames[:t]])
        state[before[:, 0], before[:, 1]] = np.where(state[before[:, 0], before[:, 1]] == CROPPED, CROPPED, DONE)
    now = np.asarray(frames[t]["write"])
    state[now[:, 0], now[:, 1]] = NOW
    source = go.Heatmap(z=roles, text=_text(a.get("source_values")), texttemplate="%{text}",
                        colorscale=_steps(SOURCE_COLOURS), zmin=-0.5, zmax=len(SOURCE_COLOURS) - 0.5,
                        showscale=False, xgap=1, ygap=1, hoverinfo="skip")
    shown = None
    if a.get("target_values") is not None and a["view"] == "sweep":  # values of the cells written so far
        shown = np.where(np.isin(state, (DONE, NOW)), _text(a["target_values"]), "")
    target = go.Heatmap(z=state, text=shown, texttemplate="%{text}" if shown is not None else None,
                        colorscale=_steps(TARGET_COLOURS), zmin=-0.5, zmax=len(TARGET_COLOURS) - 0.5,
                        showscale=False, xgap=1, ygap=1, hoverinfo="skip", xaxis="x2", yaxis="y2")
    read = frames[t]["read"]
    shapes = _boxes(read, READ_COLOUR, fill=True, width=1)
    if a["view"] == "sweep":
        (r0, c0), (r1, c1) = np.min(read, axis=0), np.max(read, axis=0)
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "x0": c0 - 0.5, "x1": c1 + 0.5,
                       "y0": r0 - 0.5, "y1": r1 + 0.5, "line": {"color": FOOTPRINT_COLOUR, "width": 3}})
    shapes += _boxes(frames[t]["write"], WRITE_COLOUR, width=3, xref="x2", yref="y2")
    (sh, sw), (th, tw) = a["source_shape"], a["target_shape"]
    split = 0.05 + 0.9 * sw / (sw + tw)
    return figure(
        [source, target], "<br>".join(a["title"].split(": ", 1)) + f"<br><sub>frame {t + 1} of {len(frames)}</sub>",
        "", "", height=height, legend=False,
        xaxis={**CELL_AXIS, "title": {"text": "input grid column (cells)"}, "domain": [0, split - 0.05],
               "range": [-0.5, sw - 0.5]},
        yaxis=_y_axis("row (cells)", sh),
        xaxis2={**CELL_AXIS, "title": {"text": "output column (cells)"}, "domain": [split + 0.05, 1],
                "range": [-0.5, tw - 0.5], "anchor": "y2"},
        yaxis2={**_y_axis("row (cells)", th, anchor="x2"), "anchor": "x2"},
        shapes=shapes, margin={"t": 110},
    )
