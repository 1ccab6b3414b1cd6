"""Convolution arithmetic: output sizes, formulas, animation frames, numbers.

One spatial axis at a time, the rules are (PyTorch's, for ``nn.Conv2d``,
``nn.ConvTranspose2d``, ``nn.MaxPool2d`` and ``nn.AvgPool2d``):

- a kernel of ``k`` taps spaced ``d`` apart (dilation) covers
  ``d (k - 1) + 1`` cells, its *span*;
- convolution and pooling slide the span over the input padded with ``p``
  cells on each side, ``s`` cells at a time (stride):
  ``o = floor((i + 2p - d (k - 1) - 1) / s) + 1``. With ``d = 1`` this is the
  classic ``(i + 2p - k + s) / s`` rounded down; when the division is not
  exact, the last cells of the padded input are never read;
- pooling may round up instead (``ceil_mode``), but a last window that starts
  in the right padding is dropped, and its padding is at most half the kernel;
- a transposed convolution runs the map the other way:
  ``o = (i - 1) s - 2p + d (k - 1) + output_padding + 1``. The convolution
  with the same settings maps ``o`` back to ``i`` (when output_padding < s):
  the forward floor sends ``s`` neighbouring input sizes to one output size,
  and ``output_padding`` picks which of them the transposed one gives back.
  PyTorch allows output_padding below the stride *or* the dilation.

A transposed convolution is drawn two ways that give the same numbers: the
input with ``s - 1`` zeros inserted between cells, padded with
``d (k - 1) - p`` zeros, swept by the flipped kernel at stride 1; or each
input cell scattering a scaled copy of the kernel into the output, ``s``
cells apart, the overlaps summed and ``p`` cells cropped from each border.

Everything here is plain Python and NumPy; the page, the tests, the benchmark
and the GIF use the same functions.
"""

from __future__ import annotations

import functools
import io
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from fractions import Fraction

import numpy as np

from core.params import Param, ParamTable

OPS = ("conv", "transposed", "max_pool", "avg_pool")
OP_NAMES = {"conv": "convolution", "transposed": "transposed convolution",
            "max_pool": "max pooling", "avg_pool": "average pooling"}

# Roles of the cells of the grid the kernel sweeps (the "source"). Combining a
# row role with a column role keeps the larger code.
INPUT, INSERTED, PAD, BEYOND = 0, 1, 2, 3
SOURCE_ROLES = {INPUT: "input", INSERTED: "inserted zero", PAD: "padding", BEYOND: "beyond the input (ceil mode)"}
# Roles of the grid that is written (the "target").
OUT, OUT_PAD, CROPPED = 0, 1, 2
TARGET_ROLES = {OUT: "output", OUT_PAD: "added by output_padding", CROPPED: "cropped by padding"}


# -- sizes and their rules ---------------------------------------------------------------


def _whole(name: str, value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"The {name} must be a whole number; got {value!r}.")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"The {name} must be a whole number; got {value!r}.") from None


def span(k: int, d: int = 1) -> int:
    """Cells covered by ``k`` taps spaced ``d`` apart: ``d (k - 1) + 1``."""
    return d * (k - 1) + 1


def _basic_problem(i: int, k: int, s: int, p: int, d: int, what: str) -> str | None:
    if i < 1:
        return f"The {what} must be at least 1 cell; got {i}."
    if k < 1:
        return f"The kernel size must be at least 1; got {k}."
    if s < 1:
        return f"The stride must be at least 1; got {s}."
    if d < 1:
        return f"The dilation must be at least 1; got {d}."
    if p < 0:
        return f"The padding cannot be negative; got {p}."
    return None


def _fit_problem(i: int, k: int, s: int, p: int, d: int, what: str, ceil_mode: bool) -> str | None:
    reach = span(k, d)
    detail = f" (dilation {d} × (kernel {k} - 1) + 1)" if d > 1 else ""
    if ceil_mode:  # rounding up lets a window hang over the end by up to s - 1 cells
        if reach < i + 2 * p + s:
            return None
        return (f"The kernel spans {reach} cells{detail} but the padded {what} is only {i + 2 * p} cells "
                f"({i} + 2 × padding {p}), so even rounding up (ceil mode) no output cell fits.")
    if reach <= i + 2 * p:
        return None
    return (f"The kernel spans {reach} cells{detail} but the padded {what} is only {i + 2 * p} cells "
            f"({i} + 2 × padding {p}), so not even one output cell fits.")


def size_problem(op: str, i, k, s=1, p=0, d=1, output_padding=0, ceil_mode=False,
                 what: str = "input size") -> str | None:
    """Why these settings are impossible, in one sentence, or ``None`` if they are fine.

    The rules are PyTorch's: sizes, kernel, stride and dilation at least 1,
    padding at least 0; a convolution or pooling kernel must fit inside the
    padded input (a ceil-mode pooling window may hang over the end by less
    than a stride); pooling padding at most half the kernel; a transposed
    convolution's output_padding smaller than the stride or the dilation and
    its output at least one cell.
    """
    if op not in OPS:
        return f"Unknown operation {op!r}; choose one of {', '.join(OPS)}."
    try:
        i, k, s, p, d = (_whole(n, v) for n, v in
                         ((what, i), ("kernel size", k), ("stride", s), ("padding", p), ("dilation", d)))
        output_padding = _whole("output padding", output_padding)
    except ValueError as e:
        return str(e)
    found = _basic_problem(i, k, s, p, d, what)
    if found:
        return found
    if op == "transposed":
        if output_padding < 0:
            return f"The output padding cannot be negative; got {output_padding}."
        if output_padding >= max(s, d):
            return (f"The output padding must be smaller than the stride ({s}) or the dilation ({d}); "
                    f"got {output_padding}.")
        full = (i - 1) * s + span(k, d) + output_padding
        if full - 2 * p < 1:
            return (f"The output would have {full - 2 * p} cells: padding {p} crops 2 × {p} = {2 * p} of the "
                    f"{full} cells the transposed convolution produces; use padding at most {(full - 1) // 2}.")
        return None
    pooling = op in ("max_pool", "avg_pool")
    if pooling and 2 * p > k:
        return f"Pooling padding must be at most half the kernel size ({k} // 2 = {k // 2}); got {p}."
    return _fit_problem(i, k, s, p, d, what, pooling and bool(ceil_mode))


def conv_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output size of a convolution along one axis.

    ``floor((i + 2p - d (k - 1) - 1) / s) + 1``, as ``nn.Conv2d``.

    Raises
    ------
    ValueError
        When a setting is out of range or the kernel does not fit.

    Examples
    --------
    >>> conv_output_size(5, 3, s=2, p=1)
    3
    >>> conv_output_size(6, 3, s=2)  # (6 - 3) / 2 = 1.5, floored
    2
    """
    problem = size_problem("conv", i, k, s, p, d)
    if problem:
        raise ValueError(problem)
    return (i + 2 * p - span(k, d)) // s + 1


def conv_transpose_output_size(i: int, k: int, s: int = 1, p: int = 0, output_padding: int = 0, d: int = 1) -> int:
    """Output size of a transposed convolution along one axis.

    ``(i - 1) s - 2p + d (k - 1) + output_padding + 1``, as ``nn.ConvTranspose2d``.

    Examples
    --------
    >>> conv_transpose_output_size(3, 3, s=2, p=1)
    5
    >>> conv_transpose_output_size(3, 3, s=2, p=1, output_padding=1)
    6
    """
    problem = size_problem("transposed", i, k, s, p, d, output_padding)
    if problem:
        raise ValueError(problem)
    return (i - 1) * s - 2 * p + span(k, d) + output_padding


def pool_output_size(i: int, k: int, s: int | None = None, p: int = 0, d: int = 1, ceil_mode: bool = False) -> int:
    """Output size of max or average pooling along one axis (stride defaults to ``k``).

    Rounds down, or up with ``ceil_mode`` (dropping a last window that would
    start in the right padding), as ``nn.MaxPool2d`` / ``nn.AvgPool2d``.

    Examples
    --------
    >>> pool_output_size(5, 2), pool_output_size(5, 2, ceil_mode=True)
    (2, 3)
    """
    s = k if s is None else s
    problem = size_problem("max_pool", i, k, s, p, d, ceil_mode=ceil_mode)
    if problem:
        raise ValueError(problem)
    return _pool_size(i, k, s, p, d, ceil_mode)


def _pool_size(i: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    reach = i + 2 * p - span(k, d)
    if not ceil_mode:
        return reach // s + 1
    out = -(-reach // s) + 1
    if (out - 1) * s >= i + p:  # the last window would start in the right padding
        out -= 1
    return out


def output_size(op: str, i: int, k: int, s: int = 1, p: int = 0, d: int = 1,
                output_padding: int = 0, ceil_mode: bool = False) -> int:
    """The output size for any of ``OPS`` along one axis (raises ``ValueError``)."""
    problem = size_problem(op, i, k, s, p, d, output_padding, ceil_mode)
    if problem:
        raise ValueError(problem)
    if op == "conv":
        return conv_output_size(i, k, s, p, d)
    if op == "transposed":
        return conv_transpose_output_size(i, k, s, p, output_padding, d)
    return _pool_size(i, k, s, p, d, ceil_mode)


def same_padding(k: int, d: int = 1, s: int = 1) -> int:
    """Padding that keeps the size (PyTorch's ``padding='same'``) when it is symmetric.

    Raises ``ValueError`` for a stride above 1 (PyTorch refuses it) or an odd
    span minus one (PyTorch would pad one side more than the other).
    """
    if s != 1:
        raise ValueError(f"'same' padding needs stride 1 (PyTorch refuses strided 'same'); got stride {s}.")
    extra = d * (k - 1)
    if extra % 2:
        raise ValueError(f"'same' padding would be uneven: the kernel spans {extra + 1} cells, so {extra} cells "
                         "of padding cannot be split equally; use an odd kernel size.")
    return extra // 2


# -- the formula, written out ------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """An output size worked out step by step, for one axis.

    For a convolution or pooling, ``result = rounded(numerator / denominator) + 1``;
    ``exact`` says whether the division leaves no remainder (else the floor
    is visible: ``quotient`` has a fraction, ``floored`` drops it) and
    ``unread`` counts the padded input's last cells the kernel never reaches
    (the output_padding that a transposed convolution needs to give this
    input size back). ``seed_general`` / ``seed_substituted`` write the same
    size as ``(i + 2p - k' + s) / s`` with ``k'`` the kernel's span (the
    seed note's form). A transposed convolution needs no division
    (``denominator`` 1, ``rounding`` "none"). ``note`` explains a ceil-mode
    window that PyTorch drops; ``error`` says why impossible settings are.
    """

    op: str
    general: str
    substituted: str
    seed_general: str
    seed_substituted: str
    latex: str
    numerator: int | None = None
    denominator: int | None = None
    quotient: float | None = None
    floored: int | None = None
    result: int | None = None
    exact: bool = True
    rounding: str = "floor"
    unread: int = 0
    note: str = ""
    error: str | None = None


def formula(op: str, i: int, k: int, s: int = 1, p: int = 0, d: int = 1,
            output_padding: int = 0, ceil_mode: bool = False) -> Formula:
    """The output-size formula with the numbers substituted; never raises.

    Impossible settings still get the substitution when the numbers allow it
    (a negative size shows why), with ``error`` saying what is wrong.

    Examples
    --------
    >>> f = formula("conv", 6, 3, s=2)
    >>> f.quotient, f.floored, f.result
    (1.5, 1, 2)
    >>> f.substituted
    'o = floor((6 + 2×0 - 1×(3 - 1) - 1) / 2) + 1 = floor(3 / 2) + 1 = floor(1.5) + 1 = 1 + 1 = 2'
    >>> f.seed_substituted
    'o = floor((6 + 2×0 - 3 + 2) / 2) = floor(5 / 2) = floor(2.5) = 2'
    """
    error = size_problem(op, i, k, s, p, d, output_padding, ceil_mode)
    try:
        i, k, s, p, d, output_padding = (_whole("setting", v) for v in (i, k, s, p, d, output_padding))
    except ValueError:
        return Formula(op, "", "", "", "", "", error=error)
    if op not in OPS or _basic_problem(i, k, s, p, d, "input") or output_padding < 0:
        return Formula(op, "", "", "", "", "", error=error)  # no meaningful numbers to substitute
    reach = span(k, d)
    if op == "transposed":
        out = (i - 1) * s - 2 * p + reach + output_padding
        return Formula(
            op,
            general="o = (i - 1) s - 2p + d (k - 1) + output_padding + 1",
            substituted=f"o = ({i} - 1)×{s} - 2×{p} + {d}×({k} - 1) + {output_padding} + 1 = {out}",
            seed_general="o = (i - 1) s - 2p + k' + output_padding, with k' = d (k - 1) + 1",
            seed_substituted=f"o = ({i} - 1)×{s} - 2×{p} + {reach} + {output_padding} = {out}",
            latex=(rf"o = ({i} - 1)\cdot{s} - 2\cdot{p} + {d}\cdot({k} - 1) + {output_padding} + 1 = {out}"),
            numerator=out, denominator=1, quotient=float(out), floored=out, result=out,
            exact=True, rounding="none", error=error,
        )
    numerator = i + 2 * p - reach
    up = op != "conv" and ceil_mode
    rounded = -(-numerator // s) if up else numerator // s
    result = rounded + 1
    note = ""
    if up and error is None and (result - 1) * s >= i + p:
        result -= 1
        note = ("ceil mode would add a last window that starts in the right padding; "
                "PyTorch drops it, so the size is one less")
    name, sym = ("ceil", r"\left\lceil") if up else ("floor", r"\left\lfloor")
    close = r"\right\rceil" if up else r"\right\rfloor"
    def steps(top: int, plus: str) -> str:  # "= floor(3 / 2) + 1 = floor(1.5) + 1 = 1 + 1 = 2"
        value = -(-top // s) if up else top // s
        shown = f" = {name}({top} / {s}){plus}"
        if top % s:
            shown += f" = {name}({top / s:g}){plus}"
        return shown + (f" = {value}{plus} = {value + 1}" if plus else f" = {value}")

    dropped = f" - 1 (that window is dropped) = {result}" if note else ""
    return Formula(
        op,
        general=f"o = {name}((i + 2p - d (k - 1) - 1) / s) + 1",
        substituted=f"o = {name}(({i} + 2×{p} - {d}×({k} - 1) - 1) / {s}) + 1" + steps(numerator, " + 1") + dropped,
        seed_general=f"o = {name}((i + 2p - k' + s) / s), with k' = d (k - 1) + 1",
        seed_substituted=f"o = {name}(({i} + 2×{p} - {reach} + {s}) / {s})" + steps(numerator + s, "") + dropped,
        latex=(rf"o = {sym}\frac{{{i} + 2\cdot{p} - {d}\cdot({k} - 1) - 1}}{{{s}}}{close} + 1"
               rf" = {sym}\frac{{{numerator}}}{{{s}}}{close} + 1 = {result}"),
        numerator=numerator, denominator=s, quotient=numerator / s, floored=rounded, result=result,
        exact=numerator % s == 0, rounding=name, unread=numerator % s if not up and numerator >= 0 else 0,
        note=note, error=error,
    )


# -- geometry of a 2-D setting ------------------------------------------------------------


@dataclass(frozen=True)
class Geometry:
    """One operation on an ``h x w`` input with a square ``k x k`` kernel.

    Stride, padding, dilation and output padding are the same along both
    axes. Pooling uses ``s`` as given (the page chooses the default).
    """

    op: str = "conv"
    h: int = 5
    w: int = 5
    k: int = 3
    s: int = 1
    p: int = 0
    d: int = 1
    output_padding: int = 0
    ceil_mode: bool = False

    def problem(self) -> str | None:
        """What is impossible about these settings (one sentence), or ``None``."""
        if self.op == "avg_pool" and self.d != 1:
            return f"Average pooling has no dilation in PyTorch; got dilation {self.d}."
        for n, what in ((self.h, "input height"), (self.w, "input width")):
            found = size_problem(self.op, n, self.k, self.s, self.p, self.d, self.output_padding,
                                 self.ceil_mode, what=what)
            if found:
                return found
        return None

    def _size(self, n: int) -> int:
        return output_size(self.op, n, self.k, self.s, self.p, self.d, self.output_padding, self.ceil_mode)

    @property
    def output_shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the output; raises ``ValueError`` when impossible."""
        problem = self.problem()
        if problem:
            raise ValueError(problem)
        return self._size(self.h), self._size(self.w)

    def formulas(self) -> tuple[Formula, Formula]:
        """The size formula for the height and for the width."""
        return tuple(formula(self.op, n, self.k, self.s, self.p, self.d, self.output_padding, self.ceil_mode)
                     for n in (self.h, self.w))


# -- the page's controls -------------------------------------------------------------------

# Slider ranges. The largest animation they allow (a transposed convolution of
# a 10x10 input, kernel 5, stride 3, dilation 3) has 1,764 frames and takes
# about 40 ms to compute; larger ranges grow that quadratically.
SIZE_MAX, KERNEL_MAX, STRIDE_MAX, PADDING_MAX, DILATION_MAX, OUTPUT_PADDING_MAX = 10, 5, 3, 4, 3, 2
TRANSPOSED_VIEWS = {  # the two pictures of a transposed convolution
    "sweep": "zeros inserted, then an ordinary convolution",
    "scatter": "each input cell scatters the kernel",
}

# Every control of the page, in the order it is drawn. The geometry's fields
# take ``Geometry``'s defaults, except stride 2 and padding 1: the page opens on
# Dumoulin & Visin's "padding and strides" example (a 5x5 input, kernel 3,
# stride 2, padding 1 gives a 3x3 output).
PARAMS = ParamTable(Geometry, [
    Param("op", "Operation", "selectbox", url="operation", options=OPS, old=("op",),
          format_func=lambda o: OP_NAMES[o].capitalize()),
    Param("h", "Input height", "slider", url="height", lo=1, hi=SIZE_MAX, old=("h",)),
    Param("w", "Input width", "slider", url="width", lo=1, hi=SIZE_MAX, old=("w",)),
    Param("k", "Kernel size", "slider", url="kernel", lo=1, hi=KERNEL_MAX, help="A square k × k kernel."),
    Param("s", "Stride", "slider", url="stride", lo=1, hi=STRIDE_MAX, default=2,
          help="How many cells the kernel moves per step (PyTorch's pooling default is the kernel size)."),
    Param("p", "Padding", "slider", url="padding", lo=0, hi=PADDING_MAX, default=1,
          help="Cells added on every side (zeros; max pooling pads with minus infinity)."),
    Param("d", "Dilation", "slider", url="dilation", lo=1, hi=DILATION_MAX,
          help="Spacing between the kernel's taps: the kernel spans d (k - 1) + 1 cells."),
    Param("output_padding", "Output padding", "slider", lo=0, hi=OUTPUT_PADDING_MAX,
          help="Extra cells on one side of the output (below the stride or the dilation): picks which input "
               "size a convolution would map back to."),
    Param("view", "Show the transposed convolution as", "radio", options=tuple(TRANSPOSED_VIEWS), default="sweep",
          format_func=TRANSPOSED_VIEWS.get, widget_args={"horizontal": True},
          help="Two pictures of the same operation: they give the same numbers."),
    Param("ceil_mode", "Round up (ceil_mode)", "checkbox", old=("ceil",),
          help="PyTorch's ceil_mode: a last window may hang over the end."),
    Param("numbers", "Numbers in the cells", "toggle", default=False,
          help="Small whole numbers: edit them in the Numbers tab below."),
])


def geometry_of(values: Mapping) -> Geometry:
    """The ``Geometry`` the page's controls ask for (``values``: name -> value, as ``PARAMS`` names them).

    Output padding only belongs to a transposed convolution and ceil mode only
    to pooling: the other operations get their defaults, whatever the hidden
    controls hold.
    """
    g = {name: values[name] for name in PARAMS.config_defaults()}
    if g["op"] != "transposed":
        g["output_padding"] = PARAMS["output_padding"].default
    if g["op"] not in ("max_pool", "avg_pool"):
        g["ceil_mode"] = PARAMS["ceil_mode"].default
    return Geometry(**g)


# -- animation frames ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    """One axis of a sweep: the grid swept, its roles, and where each window starts."""

    roles: np.ndarray  # role code per cell of the swept grid
    source: np.ndarray  # input index per cell, -1 where the cell holds a zero
    starts: np.ndarray  # first cell of each output's window
    n_out: int


def _window_axis(op: str, n: int, k: int, s: int, p: int, d: int, output_padding: int, ceil_mode: bool) -> _Axis:
    n_out = output_size(op, n, k, s, p, d, output_padding, ceil_mode)
    if op == "transposed":
        full = d * (k - 1)
        before = full - p  # zeros before the dilated input (negative: cropped)
        cells = np.arange(n_out + full) - before  # index in the dilated input
        inside = (cells >= 0) & (cells <= (n - 1) * s)
        on_input = inside & (cells % s == 0)
        roles = np.where(on_input, INPUT, np.where(inside, INSERTED, PAD))
        source = np.where(on_input, cells // s, -1)
        return _Axis(roles, source, np.arange(n_out), n_out)
    length = max(n + 2 * p, (n_out - 1) * s + span(k, d))
    cells = np.arange(length) - p
    inside = (cells >= 0) & (cells < n)
    roles = np.where(inside, INPUT, np.where(cells < n + p, PAD, BEYOND))
    return _Axis(roles, np.where(inside, cells, -1), np.arange(n_out) * s, n_out)


@dataclass(frozen=True)
class Animation:
    """Frames of the kernel at work, as plain lists of ints (ready for JSON).

    ``source`` is the grid the frames read, ``target`` the grid they write,
    both ``[row][column]``. For a sweep (convolution, pooling, transposed
    convolution by zero insertion) each frame reads the kernel's footprint in
    the padded (and, transposed, zero-inserted) input and writes one output
    cell; for the scatter view each frame reads one input cell and writes a
    copy of the kernel into the uncropped output, whose cells inside
    ``output_origin`` + ``output_shape`` are the real output. ``taps[j]`` is
    the kernel cell that pairs with the ``j``-th read cell (sweep) or written
    cell (scatter): the zero-insertion view uses the flipped kernel.

    ``source_roles`` codes each swept cell (``INPUT``, ``INSERTED`` zero,
    ``PAD``, ``BEYOND`` the padded input in ceil mode, never part of a
    window), ``target_roles`` each written cell (``OUT``, ``OUT_PAD``,
    ``CROPPED``); ``role_names`` names the codes. ``source_index`` is the
    input cell (row-major index) a swept cell shows, -1 for zeros.
    ``*_values`` are filled when numbers are given: zeros, padding included,
    hold 0 (max pooling ignores padding), and a max-pooling window that
    misses every input cell gives ``None`` (PyTorch: minus infinity).
    """

    op: str
    view: str
    title: str
    source_label: str
    target_label: str
    input_shape: list[int]
    output_shape: list[int]
    kernel_shape: list[int]
    source_shape: list[int]
    target_shape: list[int]
    output_origin: list[int]
    source_roles: list[list[int]]
    source_index: list[list[int]]
    target_roles: list[list[int]]
    taps: list[list[int]]
    frames: list[dict[str, list[list[int]]]]
    source_values: list[list[float]] | None = None
    kernel_values: list[list[float]] | None = None
    target_values: list[list[float]] | None = None
    role_names: dict[str, dict[int, str]] = field(default_factory=lambda: {"source": SOURCE_ROLES,
                                                                          "target": TARGET_ROLES})

    def to_dict(self) -> dict:
        """Everything as plain JSON-ready Python (lists, ints, floats, strings).

        The lists are shared with the animation, not copied (a deep copy of a
        1,000-frame animation costs about 0.1 s): read them, do not change them.
        """
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["role_names"] = {side: {str(c): name for c, name in names.items()}
                              for side, names in self.role_names.items()}
        return data


def _plain(a: np.ndarray) -> list:
    """A NumPy array as nested lists of Python numbers (whole numbers as ints,
    minus infinity, a max-pooling window with no input cell, as ``None``)."""
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(int).tolist()
    return [[None if not math.isfinite(v) else int(v) if v.is_integer() else round(v, 4) for v in row]
            for row in a.astype(float).tolist()]


def _settings_text(g: Geometry) -> str:
    parts = [f"k={g.k}", f"s={g.s}", f"p={g.p}"]
    if g.d != 1 or g.op in ("conv", "transposed", "max_pool"):
        parts.append(f"d={g.d}")
    if g.op == "transposed":
        parts.append(f"output_padding={g.output_padding}")
    if g.op in ("max_pool", "avg_pool") and g.ceil_mode:
        parts.append("ceil_mode")
    return ", ".join(parts)


def animation(g: Geometry, view: str = "sweep", x=None, w=None) -> Animation:
    """The frames of ``g``'s animation; ``view`` is ``"sweep"`` or (transposed) ``"scatter"``.

    A transposed convolution's sweep is the zero-insertion view. Give the
    integer input ``x`` (``h x w``) and, for convolutions, kernel ``w``
    (``k x k``) to carry the numbers along. Raises ``ValueError`` for
    impossible settings (check ``g.problem()`` first).
    """
    problem = g.problem()
    if problem:
        raise ValueError(problem)
    if view not in ("sweep", "scatter") or (view == "scatter" and g.op != "transposed"):
        raise ValueError(f"View {view!r} is not available for {OP_NAMES[g.op]}: use 'sweep'"
                         + (" or 'scatter'." if g.op == "transposed" else "."))
    oh, ow = g.output_shape
    kk = np.arange(g.k)
    title = f"{OP_NAMES[g.op].capitalize()} ({_settings_text(g)})"
    values = _values(g, x, w, view)
    if view == "scatter":
        full = [(n - 1) * g.s + span(g.k, g.d) + g.output_padding for n in (g.h, g.w)]
        axes = [_target_axis(n_full, g.p, g.output_padding) for n_full in full]
        target_roles = np.maximum(axes[0][:, None], axes[1][None, :])
        ty, tx = np.meshgrid(kk, kk, indexing="ij")
        taps = np.stack([ty.ravel(), tx.ravel()], 1)
        cells = np.stack(np.meshgrid(np.arange(g.h), np.arange(g.w), indexing="ij"), -1).reshape(-1, 1, 2)
        writes = cells * g.s + taps * g.d  # (input cells, taps, 2)
        frames = [{"read": [cell], "write": write}
                  for cell, write in zip(cells[:, 0].tolist(), writes.tolist(), strict=True)]
        return Animation(
            op=g.op, view=view, title=title + ": each input cell scatters a copy of the kernel",
            source_label=f"Input {g.h}x{g.w}",
            target_label=f"Output {oh}x{ow} (black box) inside the {full[0]}x{full[1]} sum; the grey border is cropped "
            f"by padding {g.p}" if g.p else f"Output {oh}x{ow}",
            input_shape=[g.h, g.w], output_shape=[oh, ow], kernel_shape=[g.k, g.k],
            source_shape=[g.h, g.w], target_shape=full, output_origin=[g.p, g.p],
            source_roles=np.zeros((g.h, g.w), int).tolist(),
            source_index=np.arange(g.h * g.w).reshape(g.h, g.w).tolist(),
            target_roles=target_roles.tolist(), taps=taps.tolist(), frames=frames, **values,
        )
    rows, cols = (_window_axis(g.op, n, g.k, g.s, g.p, g.d, g.output_padding, g.ceil_mode) for n in (g.h, g.w))
    roles = np.maximum(rows.roles[:, None], cols.roles[None, :])
    index = np.where(roles == INPUT, rows.source[:, None] * g.w + cols.source[None, :], -1)
    ty, tx = np.meshgrid(kk, kk, indexing="ij")
    offsets = np.stack([ty.ravel() * g.d, tx.ravel() * g.d], 1)
    taps = np.stack([ty.ravel(), tx.ravel()], 1)
    if g.op == "transposed":
        taps = g.k - 1 - taps  # the zero-insertion view sweeps the flipped kernel
    origins = np.stack(np.meshgrid(rows.starts, cols.starts, indexing="ij"), -1).reshape(-1, 1, 2)
    outputs = np.stack(np.meshgrid(np.arange(rows.n_out), np.arange(cols.n_out), indexing="ij"), -1).reshape(-1, 2)
    frames = [{"read": read, "write": [cell]}
              for read, cell in zip((origins + offsets).tolist(), outputs.tolist(), strict=True)]
    if g.op == "transposed":
        q = g.d * (g.k - 1) - g.p
        how = (f"{g.s - 1} zero(s) inserted between input cells, " if g.s > 1 else "") + (
            f"padded with d(k-1) - p = {q}" if q >= 0 else f"cropped by p - d(k-1) = {-q}") + (
            f", {g.output_padding} more zero(s) after the last row and column (output_padding)"
            if g.output_padding else "")
        source_label = f"Input {g.h}x{g.w}, {how}: {roles.shape[0]}x{roles.shape[1]}"
        title += ": zeros inserted, then an ordinary convolution with the flipped kernel"
    else:
        source_label = f"Input {g.h}x{g.w}" + (f" + padding {g.p} (grey)" if g.p else "")
        if (roles == BEYOND).any():
            source_label += "; faint cells: past the padded input (ceil mode), not read"
    return Animation(
        op=g.op, view=view, title=title, source_label=source_label, target_label=f"Output {oh}x{ow}",
        input_shape=[g.h, g.w], output_shape=[oh, ow], kernel_shape=[g.k, g.k],
        source_shape=list(roles.shape), target_shape=[oh, ow], output_origin=[0, 0],
        source_roles=roles.tolist(), source_index=index.tolist(),
        target_roles=np.zeros((oh, ow), int).tolist(), taps=taps.tolist(), frames=frames, **values,
    )


def _target_axis(n_full: int, p: int, output_padding: int) -> np.ndarray:
    cells = np.arange(n_full)
    roles = np.where(cells >= n_full - output_padding, OUT_PAD, OUT)
    return np.where((cells < p) | (cells >= n_full - p), CROPPED, roles)


def _values(g: Geometry, x, w, view: str) -> dict:
    if x is None:
        return {}
    x = np.asarray(x)
    if x.shape != (g.h, g.w):
        raise ValueError(f"The input must be {g.h}x{g.w}; got {x.shape[0]}x{x.shape[1] if x.ndim > 1 else 1}.")
    kernel = None
    if g.op in ("conv", "transposed"):
        if w is None:
            raise ValueError("A convolution needs a kernel to carry numbers.")
        kernel = np.asarray(w)
        if kernel.shape != (g.k, g.k):
            raise ValueError(f"The kernel must be {g.k}x{g.k}; got shape {kernel.shape}.")
    if view == "scatter":
        src = x
        target = _scatter_full(x, kernel, g.s, g.d, g.output_padding)
    else:
        rows, cols = (_window_axis(g.op, n, g.k, g.s, g.p, g.d, g.output_padding, g.ceil_mode) for n in (g.h, g.w))
        src = np.zeros((len(rows.roles), len(cols.roles)), dtype=x.dtype)
        r_in, c_in = rows.source >= 0, cols.source >= 0
        src[np.ix_(r_in, c_in)] = x[np.ix_(rows.source[r_in], cols.source[c_in])]
        target = apply(g, x, kernel)
    return {"source_values": _plain(src), "kernel_values": None if kernel is None else _plain(kernel),
            "target_values": _plain(np.asarray(target))}


# -- numeric mode: the operations themselves ------------------------------------------------


def _as_grid(name: str, a) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"The {name} must be a non-empty 2-D grid; got shape {a.shape}.")
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"The {name} must hold numbers; got {a.dtype}.")
    return a


def _check(op: str, x: np.ndarray, kh: int, kw: int, s: int, p: int, d: int, op_pad: int = 0,
           ceil_mode: bool = False) -> tuple[int, int]:
    sizes = []
    for n, k, what in ((x.shape[0], kh, "input height"), (x.shape[1], kw, "input width")):
        problem = size_problem(op, n, k, s, p, d, op_pad, ceil_mode, what=what)
        if problem:
            raise ValueError(problem)
        sizes.append(output_size(op, n, k, s, p, d, op_pad, ceil_mode))
    return sizes[0], sizes[1]


def _gather(canvas: np.ndarray, oh: int, ow: int, kh: int, kw: int, s: int, d: int) -> np.ndarray:
    """Every window of ``canvas``: shape ``(oh, ow, kh, kw)``."""
    rows = (np.arange(oh) * s)[:, None] + np.arange(kh) * d
    cols = (np.arange(ow) * s)[:, None] + np.arange(kw) * d
    return canvas[rows[:, None, :, None], cols[None, :, None, :]]


def conv2d(x, w, s: int = 1, p: int = 0, d: int = 1) -> np.ndarray:
    """Cross-correlation of one channel (what ``F.conv2d`` computes), zero padding.

    Examples
    --------
    >>> conv2d([[1, 2, 0], [0, 1, 3], [2, 0, 1]], [[1, 0], [0, -1]]).tolist()
    [[0, -1], [0, 0]]
    """
    x, w = _as_grid("input", x), _as_grid("kernel", w)
    oh, ow = _check("conv", x, w.shape[0], w.shape[1], s, p, d)
    windows = _gather(np.pad(x, p), oh, ow, w.shape[0], w.shape[1], s, d)
    return np.einsum("ijab,ab->ij", windows, w)


def _scatter_full(x: np.ndarray, w: np.ndarray | None, s: int, d: int, output_padding: int) -> np.ndarray:
    """Every input cell adds ``x[y, c] * w`` at ``(y s, c s)``, taps ``d`` apart; nothing cropped.

    Without a kernel it counts the copies landing on each cell.
    """
    w = np.ones((1, 1), dtype=int) if w is None else w
    kh, kw = w.shape
    size = [(n - 1) * s + span(k, d) + output_padding for n, k in ((x.shape[0], kh), (x.shape[1], kw))]
    full = np.zeros(size, dtype=np.result_type(x, w))
    for y in range(x.shape[0]):
        for c in range(x.shape[1]):
            full[y * s: y * s + span(kh, d): d, c * s: c * s + span(kw, d): d] += x[y, c] * w
    return full


def conv_transpose2d_scatter(x, w, s: int = 1, p: int = 0, output_padding: int = 0, d: int = 1) -> np.ndarray:
    """Transposed convolution as a scatter: each input cell adds a scaled copy
    of the kernel to the output, ``s`` cells further on per input cell; the
    sum is then cropped by ``p`` cells on each side."""
    x, w = _as_grid("input", x), _as_grid("kernel", w)
    oh, ow = _check("transposed", x, w.shape[0], w.shape[1], s, p, d, output_padding)
    return _scatter_full(x, w, s, d, output_padding)[p: p + oh, p: p + ow]


def zero_inserted_input(x, kh: int, kw: int, s: int = 1, p: int = 0, output_padding: int = 0,
                        d: int = 1) -> np.ndarray:
    """The grid the zero-insertion view sweeps: ``s - 1`` zeros between input
    cells, ``d (k - 1) - p`` zeros around (cropped when negative), and
    ``output_padding`` more zeros after the last row and column."""
    x = _as_grid("input", x)
    oh, ow = _check("transposed", x, kh, kw, s, p, d, output_padding)
    qh, qw = d * (kh - 1), d * (kw - 1)
    big = np.zeros(((x.shape[0] - 1) * s + 1 + 2 * qh + output_padding,
                    (x.shape[1] - 1) * s + 1 + 2 * qw + output_padding), dtype=x.dtype)
    big[qh: qh + (x.shape[0] - 1) * s + 1: s, qw: qw + (x.shape[1] - 1) * s + 1: s] = x
    return big[p: p + oh + qh, p: p + ow + qw]


def conv_transpose2d_zero_insertion(x, w, s: int = 1, p: int = 0, output_padding: int = 0,
                                    d: int = 1) -> np.ndarray:
    """Transposed convolution as zeros inserted into the input, then an
    ordinary stride-1 convolution with the flipped kernel."""
    w = _as_grid("kernel", w)
    canvas = zero_inserted_input(x, w.shape[0], w.shape[1], s, p, output_padding, d)
    return conv2d(canvas, w[::-1, ::-1], s=1, p=0, d=d)


conv_transpose2d = conv_transpose2d_scatter


def max_pool2d(x, k: int, s: int | None = None, p: int = 0, d: int = 1, ceil_mode: bool = False) -> np.ndarray:
    """Max pooling; padding counts as minus infinity, so it never wins.

    Returns floats: a dilated window can miss every input cell, and then its
    maximum is minus infinity (as in PyTorch).
    """
    x = _as_grid("input", x)
    s = k if s is None else s
    oh, ow = _check("max_pool", x, k, k, s, p, d, 0, ceil_mode)
    canvas = np.full((max(x.shape[0] + 2 * p, (oh - 1) * s + span(k, d)),
                      max(x.shape[1] + 2 * p, (ow - 1) * s + span(k, d))), -np.inf)
    canvas[p: p + x.shape[0], p: p + x.shape[1]] = x
    return _gather(canvas, oh, ow, k, k, s, d).max(axis=(2, 3))


def _avg_divisor(n: int, n_out: int, k: int, s: int, p: int, count_include_pad: bool) -> np.ndarray:
    start = np.arange(n_out) * s - p
    end = np.minimum(start + k, n + p)  # a ceil-mode window stops at the padded edge
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def avg_pool2d(x, k: int, s: int | None = None, p: int = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> np.ndarray:
    """Average pooling; padding counts as zeros in the mean (``count_include_pad``)."""
    x = _as_grid("input", x)
    s = k if s is None else s
    oh, ow = _check("avg_pool", x, k, k, s, p, 1, 0, ceil_mode)
    canvas = np.zeros((max(x.shape[0] + 2 * p, (oh - 1) * s + k), max(x.shape[1] + 2 * p, (ow - 1) * s + k)))
    canvas[p: p + x.shape[0], p: p + x.shape[1]] = x
    sums = _gather(canvas, oh, ow, k, k, s, 1).sum(axis=(2, 3))
    rows = _avg_divisor(x.shape[0], oh, k, s, p, count_include_pad)
    cols = _avg_divisor(x.shape[1], ow, k, s, p, count_include_pad)
    return sums / (rows[:, None] * cols[None, :])


def apply(g: Geometry, x, w=None) -> np.ndarray:
    """Run ``g``'s operation on the input ``x`` (and kernel ``w`` for convolutions)."""
    if g.op == "conv":
        return conv2d(x, w, g.s, g.p, g.d)
    if g.op == "transposed":
        return conv_transpose2d(x, w, g.s, g.p, g.output_padding, g.d)
    if g.op == "max_pool":
        return max_pool2d(x, g.k, g.s, g.p, g.d, g.ceil_mode)
    if g.d != 1:
        raise ValueError(f"Average pooling has no dilation in PyTorch; got dilation {g.d}.")
    return avg_pool2d(x, g.k, g.s, g.p, g.ceil_mode)


def overlap_counts(h: int, w: int, k: int, s: int = 1, p: int = 0, output_padding: int = 0,
                   d: int = 1) -> np.ndarray:
    """How many kernel copies land on each output cell of a transposed convolution.

    Uneven counts (a checkerboard) appear away from the border when the
    kernel's taps do not fall evenly on the stride's grid (``even_overlap``):
    with dilation 1, when the kernel size is not a multiple of the stride.

    Examples
    --------
    >>> overlap_counts(3, 1, 3, s=2)[:, 0].tolist()
    [1, 1, 2, 1, 2, 1, 1]
    """
    ones = np.ones((h, w), dtype=int)
    return conv_transpose2d(ones, np.ones((k, k), dtype=int), s, p, output_padding, d)


def interior_copies(k: int, s: int, d: int = 1) -> list[int]:
    """Away from the border, along one axis: how many of the kernel's taps land on an output
    cell of a transposed convolution, for each position of the cell modulo the stride (a cell
    at ``n`` is hit by tap ``j`` of the copy from input ``(n - j d) / s`` when that is whole).
    Equal counts: no checkerboard. With ``d = 1`` they are equal exactly when ``s`` divides ``k``.

    Examples
    --------
    >>> interior_copies(3, 2), interior_copies(4, 2), interior_copies(2, 2, d=2)
    ([2, 1], [2, 2], [2, 0])
    """
    return [sum(1 for j in range(k) if (j * d) % s == r) for r in range(s)]


def even_overlap(k: int, s: int, d: int = 1) -> bool:
    """Whether, away from the border, every output cell of a transposed convolution receives
    the same number of kernel copies (no checkerboard)."""
    counts = interior_copies(k, s, d)
    return min(counts) == max(counts)


@dataclass(frozen=True)
class Term:
    """One input value that feeds the selected output cell.

    ``input_cell`` is ``None`` for padding (the value is then 0, or minus
    infinity for max pooling); ``weight`` and ``product`` are ``None`` for pooling.
    """

    input_cell: tuple[int, int] | None
    value: float
    kernel_cell: tuple[int, int] | None = None
    weight: float | None = None
    product: float | None = None


@dataclass(frozen=True)
class Breakdown:
    """How one output cell is made: its terms, how they combine, the result."""

    cell: tuple[int, int]
    terms: list[Term]
    combine: str  # "sum" of products, "max" or "mean"
    divisor: int
    result: float
    text: str


def _num(v) -> str:
    v = float(v)
    if math.isinf(v):
        return "-inf" if v < 0 else "inf"
    return str(int(v)) if v.is_integer() else f"{v:.3g}"


def breakdown(g: Geometry, x, w, cell: tuple[int, int]) -> Breakdown:
    """The products (or pooled values) that make output ``cell`` of ``apply(g, x, w)``.

    For a transposed convolution the terms are the input cells whose kernel
    copy lands on ``cell`` (the scatter view: no inserted zeros listed).

    Examples
    --------
    >>> g = Geometry("conv", 2, 2, k=2)
    >>> breakdown(g, [[1, 2], [3, 4]], [[1, 0], [0, -1]], (0, 0)).text
    '1×1 + 2×0 + 3×0 + 4×(-1) = -3'
    """
    x = _as_grid("input", x)
    oh, ow = g.output_shape
    if x.shape != (g.h, g.w):
        raise ValueError(f"The input must be {g.h}x{g.w}; got {x.shape[0]}x{x.shape[1]}.")
    oy, ox = (int(v) for v in cell)
    if not (0 <= oy < oh and 0 <= ox < ow):
        raise ValueError(f"Output cell ({oy}, {ox}) is outside the {oh}x{ow} output.")
    kernel = None if g.op.endswith("pool") else _as_grid("kernel", w)
    if kernel is not None and kernel.shape != (g.k, g.k):
        raise ValueError(f"The kernel must be {g.k}x{g.k}; got {kernel.shape[0]}x{kernel.shape[1]}.")
    terms = []
    if g.op == "transposed":
        for a in range(g.k):
            for b in range(g.k):
                ry, rx = oy + g.p - a * g.d, ox + g.p - b * g.d
                if ry % g.s or rx % g.s:
                    continue
                y, c = ry // g.s, rx // g.s
                if 0 <= y < g.h and 0 <= c < g.w:
                    value, weight = x[y, c].item(), kernel[a, b].item()
                    terms.append(Term((y, c), value, (a, b), weight, value * weight))
    else:
        for a in range(g.k):
            for b in range(g.k):
                y, c = oy * g.s - g.p + a * g.d, ox * g.s - g.p + b * g.d
                if g.op.endswith("pool") and (y >= g.h + g.p or c >= g.w + g.p):
                    continue  # ceil mode: past the padded input, not part of the window
                inside = 0 <= y < g.h and 0 <= c < g.w
                pad_value = -math.inf if g.op == "max_pool" else 0
                value = x[y, c].item() if inside else pad_value
                if kernel is None:
                    terms.append(Term((y, c) if inside else None, value))
                else:
                    weight = kernel[a, b].item()
                    terms.append(Term((y, c) if inside else None, value, (a, b), weight, value * weight))
    shown = [f"{_num(t.value)}×{_num(t.weight) if t.weight >= 0 else '(' + _num(t.weight) + ')'}"
             for t in terms] if kernel is not None else [_num(t.value) for t in terms]
    if g.op == "max_pool":
        result = max(t.value for t in terms)
        text = f"max({', '.join(shown)}) = {_num(result)}"
        return Breakdown((oy, ox), terms, "max", 1, result, text)
    if g.op == "avg_pool":
        divisor = len(terms)
        result = sum(t.value for t in terms) / divisor
        text = f"({' + '.join(shown)}) / {divisor} = {_num(result)}"
        return Breakdown((oy, ox), terms, "mean", divisor, result, text)
    result = sum(t.product for t in terms)
    text = f"{' + '.join(shown) if shown else 'nothing lands here'} = {_num(result)}"
    return Breakdown((oy, ox), terms, "sum", 1, result, text)


# -- a stack of layers: shapes, receptive field, cost ---------------------------------------


@dataclass(frozen=True)
class Layer:
    """One layer of a stack: ``kind`` is one of ``OPS``; ``channels`` (output
    channels) only matters for convolutions, pooling keeps its input's."""

    kind: str = "conv"
    k: int = 3
    s: int = 1
    p: int = 0
    d: int = 1
    channels: int = 8
    output_padding: int = 0
    ceil_mode: bool = False
    bias: bool = True


@dataclass(frozen=True)
class LayerRow:
    """One row of the stack table (row 0 is the input itself)."""

    index: int
    kind: str
    shape: tuple[int, int, int]  # channels, height, width
    receptive_field: int  # input cells spanned by one output cell, per axis (the widest)
    jump: Fraction  # input cells between neighbouring output cells
    params: int
    macs: int  # multiply-adds (pooling: 0)


@dataclass(frozen=True)
class StackReport:
    rows: list[LayerRow]
    error_layer: int | None = None  # 1-based index of the first impossible layer
    error: str | None = None


def _inputs_of(units: np.ndarray, layer: Layer) -> np.ndarray:
    """Indices (unbounded: padding included) of the cells that ``units`` read, one axis."""
    taps = np.arange(layer.k) * layer.d
    if layer.kind == "transposed":
        reached = units[:, None] + layer.p - taps[None, :]
        reached = reached[reached % layer.s == 0] // layer.s
    else:
        reached = units[:, None] * layer.s - layer.p + taps[None, :]
    return np.unique(reached)


def _receptive_field(layers: Sequence[Layer]) -> int:
    """Widest span in the input of one output cell of the last layer.

    The span depends on the output cell only through its position modulo
    the product of the transposed strides, so those cells are enough.
    """
    period = math.prod(layer.s for layer in layers if layer.kind == "transposed")
    widest = 0
    for unit in range(period):
        cells = np.array([unit])
        for layer in reversed(layers):
            cells = _inputs_of(cells, layer)
            if cells.size == 0:
                break
        if cells.size:
            widest = max(widest, int(cells[-1] - cells[0] + 1))
    return widest


def _as_layer(spec) -> Layer:
    if isinstance(spec, Layer):
        return spec
    if not isinstance(spec, Mapping):
        raise ValueError(f"A layer must be a Layer or a mapping of its settings; got {type(spec).__name__}.")
    unknown = sorted(set(spec) - {f.name for f in fields(Layer)})
    if unknown:
        known = ", ".join(f.name for f in fields(Layer))
        raise ValueError(f"Unknown setting(s) {', '.join(map(str, unknown))}; a layer has {known}.")
    return Layer(**spec)


def receptive_field(layers, input_size: int | tuple[int, int] = 32, in_channels: int = 1) -> StackReport:
    """Shapes, receptive field, jump, parameters and multiply-adds of a stack.

    Never raises for impossible settings: the table stops at the first
    impossible layer, which ``error_layer`` (1-based; 0 for the input
    itself) and ``error`` name. ``layers`` holds ``Layer`` objects or
    mappings of their fields.

    Examples
    --------
    >>> report = receptive_field([Layer("conv", k=3), Layer("max_pool", k=2, s=2), Layer("conv", k=3)], 32)
    >>> [(r.shape, r.receptive_field, int(r.jump)) for r in report.rows]
    [((1, 32, 32), 1, 1), ((8, 30, 30), 3, 1), ((8, 15, 15), 4, 2), ((8, 13, 13), 8, 2)]
    """
    h, w = (input_size, input_size) if isinstance(input_size, (int, np.integer)) else input_size
    if isinstance(in_channels, bool) or not isinstance(in_channels, (int, np.integer)) or in_channels < 1:
        return StackReport([], 0, f"The input needs at least 1 channel; got {in_channels}.")
    rows = [LayerRow(0, "input", (in_channels, h, w), 1, Fraction(1), 0, 0)]
    channels, jump, done = in_channels, Fraction(1), []
    for number, spec in enumerate(layers, start=1):
        try:
            layer = _as_layer(spec)
        except ValueError as e:
            return StackReport(rows, number, f"Layer {number}: {e}")
        problem = None
        if layer.kind == "avg_pool" and layer.d != 1:
            problem = f"Average pooling has no dilation in PyTorch; got dilation {layer.d}."
        if layer.kind in ("conv", "transposed") and (isinstance(layer.channels, bool) or not isinstance(
                layer.channels, (int, np.integer)) or layer.channels < 1):
            problem = f"The number of channels must be at least 1; got {layer.channels}."
        for n, what in ((h, "input height"), (w, "input width")):
            problem = problem or size_problem(layer.kind, n, layer.k, layer.s, layer.p, layer.d,
                                              layer.output_padding, layer.ceil_mode, what=what)
        if problem:
            name = OP_NAMES.get(layer.kind, layer.kind)
            return StackReport(rows, number, f"Layer {number} ({name}, input {channels}x{h}x{w}): {problem}")
        out_h, out_w = (output_size(layer.kind, n, layer.k, layer.s, layer.p, layer.d, layer.output_padding,
                                    layer.ceil_mode) for n in (h, w))
        params = macs = 0
        if layer.kind in ("conv", "transposed"):
            weights = channels * layer.channels * layer.k * layer.k
            params = weights + (layer.channels if layer.bias else 0)
            # a convolution computes each output cell; a transposed one scatters each input cell
            macs = weights * (out_h * out_w if layer.kind == "conv" else h * w)
            channels = layer.channels
        jump = jump / layer.s if layer.kind == "transposed" else jump * layer.s
        done.append(layer)
        h, w = out_h, out_w
        rows.append(LayerRow(number, layer.kind, (channels, h, w), _receptive_field(done), jump, params, macs))
    return StackReport(rows)


# -- animated GIF ---------------------------------------------------------------------------

_COLOURS = {  # palette index -> RGB; the GIF is drawn straight in palette mode
    "background": (255, 255, 255), "text": (25, 25, 25), "grid": (110, 110, 110),
    "input": (204, 227, 245), "inserted": (244, 244, 244), "pad": (205, 205, 205), "beyond": (255, 255, 255),
    "read": (230, 159, 0), "footprint": (213, 94, 0), "written": (0, 158, 115), "done": (178, 226, 208),
    "cropped": (205, 205, 205), "out_pad": (244, 244, 244), "faint": (150, 150, 150),
}
_INDEX = {name: i for i, name in enumerate(_COLOURS)}
_SOURCE_FILL = {INPUT: "input", INSERTED: "inserted", PAD: "pad", BEYOND: "beyond"}
_TARGET_FILL = {OUT: "background", OUT_PAD: "out_pad", CROPPED: "cropped"}
_LINE = 18  # pixels per line of text


@functools.lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType
        return ImageFont.load_default()


def _wrap(text: str, width: int, font) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and font.getlength(trial, mode="1") > width:  # "1": unsmoothed, as drawn in palette mode
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line] if line else lines


def _footer(anim: Animation) -> str:
    if anim.view == "scatter":
        return ("orange: the input cell read; green: the kernel copy it writes; pale green: written before; "
                "grey: cropped by padding; the numbers are " + ("the sums so far." if anim.target_values
                                                                else "the copies landed so far."))
    return ("orange: the cells read, inside the kernel's footprint (dark orange box); green: the output cell "
            "written; pale green: written before; grey: padding" + (", light: inserted zeros." if anim.op ==
                                                                     "transposed" else "."))


@dataclass(frozen=True)
class GifLayout:
    """Where the GIF draws: cell size, the top-left pixel of both grids, the text lines."""

    cell: int
    source_origin: tuple[int, int]  # (x, y) pixels
    target_origin: tuple[int, int]
    size: tuple[int, int]  # width, height
    title: list[str]
    source_label: list[str]
    target_label: list[str]
    footer: list[str]

    def source_box(self, r: int, c: int) -> tuple[int, int, int, int]:
        x0, y0 = self.source_origin
        return x0 + c * self.cell, y0 + r * self.cell, x0 + (c + 1) * self.cell, y0 + (r + 1) * self.cell

    def target_box(self, r: int, c: int) -> tuple[int, int, int, int]:
        x0, y0 = self.target_origin
        return x0 + c * self.cell, y0 + r * self.cell, x0 + (c + 1) * self.cell, y0 + (r + 1) * self.cell


def gif_layout(anim: Animation, max_width: int = 900) -> GifLayout:
    """Cell size, grid positions and wrapped text of ``animation_gif`` (tests use it too)."""
    font = _font(14)
    columns = anim.source_shape[1] + anim.target_shape[1]
    cell = int(max(14, min(34, (max_width - 100) // max(columns, 1))))
    if len(anim.frames) > 200:  # smaller cells keep long animations quick to encode
        cell = max(min(cell, 16), int(cell * (200 / len(anim.frames)) ** 0.5))
    left, gap = 20, 40
    source_width, target_width = (max(n * cell, 220) for n in (anim.source_shape[1], anim.target_shape[1]))
    width = left + source_width + gap + target_width + left
    title = _wrap(anim.title, width - 2 * left - 110, font)
    source_label = _wrap(anim.source_label, source_width, font)
    target_label = _wrap(anim.target_label, target_width, font)
    footer = _wrap(_footer(anim), width - 2 * left, _font(12))
    top = 10 + _LINE * len(title) + 10 + _LINE * max(len(source_label), len(target_label)) + 4
    height = top + max(anim.source_shape[0], anim.target_shape[0]) * cell + 12 + 15 * len(footer) + 6
    return GifLayout(cell, (left, top), (left + source_width + gap, top), (width, height),
                     title, source_label, target_label, footer)


def _centre(box: tuple[int, int, int, int]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _outline(draw, lay: GifLayout, box_of, corner0, corner1, colour: str, width: int) -> None:
    x0, y0 = box_of(*corner0)[:2]
    x1, y1 = box_of(*corner1)[2:]
    draw.rectangle((x0 - 1, y0 - 1, x1 + 1, y1 + 1), outline=_INDEX[colour], width=width)


def _running_values(anim: Animation) -> list[np.ndarray] | None:
    """What the output cells hold after each frame (scatter: partial sums), or ``None``."""
    if anim.target_values is None:
        return None
    final = np.asarray(anim.target_values, dtype=float)
    if anim.view != "scatter":
        return [final] * len(anim.frames)
    x, w = np.asarray(anim.source_values, dtype=float), np.asarray(anim.kernel_values, dtype=float)
    taps = np.asarray(anim.taps)
    total, out = np.zeros(anim.target_shape), []
    for frame in anim.frames:
        (y, c), write = frame["read"][0], np.asarray(frame["write"])
        total[write[:, 0], write[:, 1]] += x[y, c] * w[taps[:, 0], taps[:, 1]]
        out.append(total.copy())
    return out


def animation_gif(anim: Animation, ms_per_frame: int = 450, max_width: int = 900) -> bytes:
    """The animation as a looping animated GIF, one GIF frame per animation frame.

    Input and output are labelled; padding, inserted zeros and cropped cells
    are grey; the cells read are orange (a sweep also outlines the kernel's
    footprint), the cells written green, those written before pale green.
    Numbers are drawn when the animation carries them; without numbers the
    scatter view counts the kernel copies landed on each output cell so far.
    """
    from PIL import Image, ImageDraw

    lay = gif_layout(anim, max_width)
    font, small = _font(14), _font(max(9, lay.cell // 3))
    base = Image.new("P", lay.size, _INDEX["background"])
    base.putpalette([channel for rgb in _COLOURS.values() for channel in rgb])
    draw = ImageDraw.Draw(base)
    for n, line in enumerate(lay.title):
        draw.text((lay.source_origin[0], 10 + _LINE * n), line, fill=_INDEX["text"], font=font)
    for origin, lines in ((lay.source_origin, lay.source_label), (lay.target_origin, lay.target_label)):
        for n, line in enumerate(lines):
            draw.text((origin[0], origin[1] - 4 - _LINE * (len(lines) - n)), line, fill=_INDEX["text"], font=font)
    for n, line in enumerate(lay.footer):
        draw.text((lay.source_origin[0], lay.size[1] - 6 - 15 * (len(lay.footer) - n)), line,
                  fill=_INDEX["text"], font=_font(12))
    for r, row in enumerate(anim.source_roles):
        for c, role in enumerate(row):
            box = lay.source_box(r, c)
            draw.rectangle(box, fill=_INDEX[_SOURCE_FILL[role]], outline=_INDEX["faint" if role == BEYOND else "grid"])
            text = _cell_text(anim.source_values, r, c, role == INSERTED)
            if text and _shows_value(anim, role):
                draw.text(_centre(box), text, fill=_INDEX["text"], font=small, anchor="mm")

    for r, row in enumerate(anim.target_roles):
        for c, role in enumerate(row):
            draw.rectangle(lay.target_box(r, c), fill=_INDEX[_TARGET_FILL[role]], outline=_INDEX["grid"])

    # ``state`` holds everything written so far; each frame is a copy with the highlights on top
    state, scatter, running = base, anim.view == "scatter", _running_values(anim)
    counts = np.zeros(anim.target_shape, dtype=int)
    last = (anim.output_origin[0] + anim.output_shape[0] - 1, anim.output_origin[1] + anim.output_shape[1] - 1)
    images = []
    for t, frame in enumerate(anim.frames):
        for r, c in frame["write"]:
            counts[r, c] += 1
        texts = {(r, c): str(counts[r, c]) if running is None else _num(running[t][r, c])
                 for r, c in frame["write"]}
        img = state.copy()
        draw = ImageDraw.Draw(img)
        read = np.asarray(frame["read"])
        for r, c in read:
            box = lay.source_box(r, c)
            draw.rectangle(box, fill=_INDEX["read"], outline=_INDEX["grid"])
            role = anim.source_roles[r][c]
            text = _cell_text(anim.source_values, r, c, role == INSERTED)
            if text and _shows_value(anim, role):
                draw.text(_centre(box), text, fill=_INDEX["text"], font=small, anchor="mm")
        if not scatter:
            _outline(draw, lay, lay.source_box, read.min(axis=0), read.max(axis=0), "footprint", 3)
        for done in (False, True):  # the frame shows "written" cells; the state keeps them as "done"
            if done:  # ``img`` is already copied: the state may change in place
                draw = ImageDraw.Draw(state)
            for (r, c), text in texts.items():
                cropped = anim.target_roles[r][c] == CROPPED
                fill = "written" if not done else "cropped" if cropped else "done"
                box = lay.target_box(r, c)
                draw.rectangle(box, fill=_INDEX[fill], outline=_INDEX["grid"])
                if scatter or running is not None:
                    draw.text(_centre(box), text, fill=_INDEX["text"], font=small, anchor="mm")
            if scatter and not done:  # the real output inside the uncropped sum
                _outline(draw, lay, lay.target_box, anim.output_origin, last, "text", 2)
        images.append(img)
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame,
                   loop=0, optimize=False, disposal=1)
    return buffer.getvalue()


def _shows_value(anim: Animation, role: int) -> bool:
    """Max pooling never picks padding (PyTorch pads with minus infinity) and
    no window reads past the padded input: such cells stay blank."""
    return role != BEYOND and not (anim.op == "max_pool" and role == PAD)


def _cell_text(values, r: int, c: int, inserted: bool = False) -> str:
    if values is None:
        return "0" if inserted else ""
    return _num(values[r][c])
