"""Local Response Normalization and Batch Normalization: formulas, conventions, a race.

LRN in the seed's (and AlexNet's) convention, for activations ``a`` of shape
(N, C, H, W) and hyper-parameters (k, alpha, beta, n):

- inter-channel: ``b[c] = a[c] / (k + alpha * sum_j a[j]^2) ** beta`` with j
  over channels ``c - n//2 .. c + n//2``, clipped at the first and last channel;
- intra-channel: the same with the sum over an (n+1) x (n+1) window of one
  channel centred at (y, x) (n even; for odd n the window is n x n), zeros
  beyond the border.

LRN has no trainable parameter. Batch normalization (training mode) subtracts
the batch mean and divides by ``sqrt(batch variance + eps)``, then scales by a
trainable gamma and shifts by a trainable beta. ``per="activation"`` takes the
statistics of each activation (c, y, x) over the batch (the seed's picture,
BatchNorm1d on flattened features); ``per="channel"`` pools each channel over
the batch and all positions (BatchNorm2d, what CNNs use).

Other libraries write LRN differently: PyTorch's ``nn.LocalResponseNorm(size,
alpha, beta, k)`` divides alpha by ``size`` and, for an even size, takes one
more channel before c than after it; TensorFlow's
``tf.nn.local_response_normalization(depth_radius, bias, alpha, beta)`` sums
over ``d - depth_radius .. d + depth_radius`` without dividing. The
``seed_to_*`` / ``*_to_seed`` functions convert and say when no exact
conversion exists.

The race (``NormRaceTrainer``) trains the same small CNN on scikit-learn's
8x8 digits with each normalisation after both conv layers, from the same
initial weights and on the same batches.

``PARAMS`` (after ``NormRaceConfig``) declares every control of the page, its
link name and its default.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.losslab import N_VAL, DigitsSplit, digits_split
from core.params import Param, ParamTable
from core.trainer import GuardedTrainer, Snapshot, build_seeded, divergence_message

KINDS = ("inter", "intra")
PERS = ("channel", "activation")


# -- formulas ------------------------------------------------------------------
@dataclass(frozen=True)
class LRNParams:
    """LRN hyper-parameters in the seed's convention (AlexNet: n=5, alpha=1e-4, beta=0.75, k=2)."""

    n: int = 2
    alpha: float = 1.0
    beta: float = 1.0
    k: float = 0.0

    def __post_init__(self) -> None:
        _check_lrn(self.n, self.alpha, self.beta, self.k)


def _check_lrn(n: int, alpha: float, beta: float, k: float) -> None:
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}")
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _as_batch(x, name: str = "x") -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers only")
    return arr


def _window_sum(values: np.ndarray, axis: int, before: int, after: int) -> np.ndarray:
    """Sum of ``values[i - before .. i + after]`` along ``axis``, zeros beyond the ends."""
    pad = [(0, 0)] * values.ndim
    pad[axis] = (before, after)
    padded = np.pad(values, pad)
    size = values.shape[axis]
    return sum(np.take(padded, range(o, o + size), axis=axis) for o in range(before + after + 1))


def _divide(a: np.ndarray, base: np.ndarray, beta: float) -> np.ndarray:
    """``a / base**beta``, with 0 where base is 0 (then a is 0 too: it is in its own window)."""
    den = base**beta
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, 0.0, a / np.where(den == 0, 1.0, den))


def local_response_norm(x, n: int, alpha: float, beta: float, k: float, kind: str = "inter") -> np.ndarray:
    """LRN of ``x`` (N, C, H, W) in the seed's convention, in float64.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    n, alpha, beta, k : the seed's hyper-parameters; the window reaches
        ``n // 2`` channels (inter) or positions (intra) each side.
    kind : "inter" (across channels) or "intra" (within a channel).

    Where ``k + alpha * sum`` is 0 the output is 0 (0/0: every value in the
    window, the centre included, is 0).

    Examples
    --------
    >>> x = np.zeros((1, 4, 1, 1)); x[0, :2] = 1.0
    >>> float(local_response_norm(x, n=2, alpha=1, beta=1, k=0)[0, 0, 0, 0])
    0.5
    """
    _check_lrn(n, alpha, beta, k)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    a = _as_batch(x)
    half = int(n) // 2
    sq = a * a
    if kind == "inter":
        sums = _window_sum(sq, 1, half, half)
    else:
        sums = _window_sum(_window_sum(sq, 2, half, half), 3, half, half)
    return _divide(a, k + alpha * sums, beta)


def lrn_torch_convention(x, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """What ``torch.nn.LocalResponseNorm(size, alpha, beta, k)`` computes, in NumPy.

    PyTorch averages the squares over channels ``c - size//2 .. c + (size-1)//2``
    (zeros beyond the ends), i.e. it uses ``alpha / size``. For an even size
    the window holds one more channel before c than after it.
    """
    if isinstance(size, bool) or int(size) != size or size < 1:
        raise ValueError(f"size must be a whole number >= 1, got {size!r}")
    _check_lrn(0, alpha, beta, k)
    a = _as_batch(x)
    sums = _window_sum(a * a, 1, size // 2, (size - 1) // 2)
    return _divide(a, k + alpha / size * sums, beta)


def lrn_window(index: int, n: int, length: int) -> tuple[int, int]:
    """First and last index (inclusive) of the seed's window around ``index`` on an axis of ``length``."""
    half = int(n) // 2
    return max(0, index - half), min(length - 1, index + half)


def _fmt(v: float, term: bool = False) -> str:
    """A number for a formula; a negative term is bracketed (``(−1.5)²``)."""
    text = f"{v:.4g}".replace("-", "−")
    return f"({text})" if term and v < 0 else text


@dataclass(frozen=True)
class LRNTerms:
    """One LRN output cell with every number that enters it."""

    kind: str
    cell: tuple[int, int, int, int]  # (sample, channel, row, column)
    value: float  # a: the input at the cell
    neighbours: tuple[tuple[int, int, int, int], ...]  # the cells of the window inside the tensor
    values: tuple[float, ...]
    squares: tuple[float, ...]
    sum_squares: float
    base: float  # k + alpha * sum_squares
    denominator: float  # base ** beta
    result: float
    n: int
    alpha: float
    beta: float
    k: float

    def formula(self) -> str:
        """The formula with the numbers in it, e.g. ``1 / (0 + 1·(1² + 1²))^1 = 1 / 2 = 0.5``."""
        terms = " + ".join(f"{_fmt(v, term=True)}²" for v in self.values)
        return (
            f"{_fmt(self.value)} / ({_fmt(self.k)} + {_fmt(self.alpha)}·({terms}))^{_fmt(self.beta)}"
            f" = {_fmt(self.value)} / {_fmt(self.base)}^{_fmt(self.beta)}"
            f" = {_fmt(self.value)} / {_fmt(self.denominator)} = {_fmt(self.result)}"
        )


def _cell(a: np.ndarray, cell: Sequence[int]) -> tuple[int, int, int, int]:
    if len(cell) != 4:
        raise ValueError(f"cell must be (sample, channel, row, column), got {tuple(cell)}")
    idx = tuple(int(i) for i in cell)
    if not all(0 <= i < s for i, s in zip(idx, a.shape, strict=True)):
        raise ValueError(f"cell {idx} lies outside a tensor of shape {a.shape}")
    return idx  # type: ignore[return-value]


def explain_lrn(x, cell: Sequence[int], n: int, alpha: float, beta: float, k: float,
                kind: str = "inter") -> LRNTerms:
    """Expand the LRN formula at ``cell`` = (sample, channel, row, column) of ``x``."""
    _check_lrn(n, alpha, beta, k)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    a = _as_batch(x)
    s, c, r, q = _cell(a, cell)
    if kind == "inter":
        lo, hi = lrn_window(c, n, a.shape[1])
        cells = tuple((s, j, r, q) for j in range(lo, hi + 1))
    else:
        r0, r1 = lrn_window(r, n, a.shape[2])
        q0, q1 = lrn_window(q, n, a.shape[3])
        cells = tuple((s, c, i, j) for i in range(r0, r1 + 1) for j in range(q0, q1 + 1))
    values = tuple(float(a[i]) for i in cells)
    squares = tuple(v * v for v in values)
    total = float(sum(squares))
    base = k + alpha * total
    den = base**beta
    value = float(a[s, c, r, q])
    return LRNTerms(kind, (s, c, r, q), value, cells, values, squares, total, base, den,
                    0.0 if den == 0 else value / den, int(n), float(alpha), float(beta), float(k))


def _bn_axes(ndim: int, per: str) -> tuple[int, ...]:
    if per not in PERS:
        raise ValueError(f"per must be one of {PERS}, got {per!r}")
    return (0, *range(2, ndim)) if per == "channel" else (0,)


def batch_stats(x, per: str = "channel") -> tuple[np.ndarray, np.ndarray]:
    """Batch mean and (biased) variance that training-mode BN uses, broadcastable to ``x``."""
    a = _as_batch(x)
    axes = _bn_axes(a.ndim, per)
    return a.mean(axis=axes, keepdims=True), a.var(axis=axes, keepdims=True)


def batch_norm(x, eps: float = 1e-5, per: str = "channel") -> np.ndarray:
    """Training-mode batch normalisation of ``x`` (N, C, H, W) without gamma and beta.

    ``per="channel"``: statistics over (N, H, W) for each channel (BatchNorm2d);
    ``per="activation"``: over N for each (c, y, x) (BatchNorm1d on the
    flattened features). The variance is the biased one, as in PyTorch's
    forward pass. A batch of one has variance 0 per activation: the output is
    0 there (PyTorch refuses that case; see ``small_batch_message``).
    """
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    a = _as_batch(x)
    mean, var = batch_stats(a, per)
    return (a - mean) / np.sqrt(var + eps)


@dataclass(frozen=True)
class BNTerms:
    """One BN output cell: the batch values pooled, mean, variance, normalised value, affine step."""

    per: str
    cell: tuple[int, int, int, int]
    value: float
    group: tuple[tuple[int, int, int, int], ...]  # the cells whose statistics normalise this one
    values: tuple[float, ...]
    mean: float
    variance: float  # biased: mean of squared deviations
    eps: float
    std: float  # sqrt(variance + eps)
    normalised: float
    gamma: float
    beta: float
    result: float  # gamma * normalised + beta

    def formula(self) -> str:
        """The two steps with the numbers in them."""
        return (
            f"x̂ = ({_fmt(self.value)} − {_fmt(self.mean, term=True)}) / √({_fmt(self.variance)} + {self.eps:g})"
            f" = {_fmt(self.normalised)};  y = {_fmt(self.gamma)}·{_fmt(self.normalised, term=True)}"
            f" + {_fmt(self.beta, term=True)} = {_fmt(self.result)}"
        )


def explain_bn(x, cell: Sequence[int], per: str = "channel", gamma: float = 1.0, beta: float = 0.0,
               eps: float = 1e-5) -> BNTerms:
    """Expand training-mode BN at ``cell`` = (sample, channel, row, column) of ``x``."""
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    a = _as_batch(x)
    s, c, r, q = _cell(a, cell)
    _bn_axes(4, per)
    if per == "channel":
        group = tuple((i, c, y, z) for i in range(a.shape[0]) for y in range(a.shape[2]) for z in range(a.shape[3]))
    else:
        group = tuple((i, c, r, q) for i in range(a.shape[0]))
    values = np.array([a[i] for i in group])
    mean, var = float(values.mean()), float(values.var())
    std = math.sqrt(var + eps)
    value = float(a[s, c, r, q])
    normalised = (value - mean) / std
    return BNTerms(per, (s, c, r, q), value, group, tuple(values.tolist()), mean, var, eps, std,
                   normalised, float(gamma), float(beta), gamma * normalised + beta)


def small_batch_message(batch_size: int, per: str = "channel", positions: int = 64) -> str | None:
    """What goes wrong with training-mode BN on a tiny batch, or None when nothing special does.

    ``positions`` is H * W of the feature map (per-channel statistics pool them).
    """
    _bn_axes(4, per)
    values = batch_size * (positions if per == "channel" else 1)
    if values <= 1:
        return (
            "A batch of one image gives each normalised unit a single value: its batch mean is that value "
            "and its variance 0, so training-mode BN outputs 0 everywhere (β after the affine step) and the "
            "input is lost. PyTorch refuses this case ('Expected more than 1 value per channel when "
            "training'). Use batches of 2 or more, or eval mode, which uses the running statistics."
        )
    if per == "activation" and batch_size == 2:
        return (
            "With two images per batch each activation has two values a and b, so BN turns them into "
            "about +1 and −1: only which of the two is larger survives. Batch statistics from so few "
            "values are noisy, and eval mode (running statistics) then sees different numbers."
        )
    if per == "channel" and batch_size == 1:
        return (
            "With one image per batch, BatchNorm2d still runs: it pools that image's positions, so each "
            "image is normalised by its own statistics (like instance normalisation) and the running "
            "statistics jump from image to image."
        )
    return None


def torch_batch_norm(x, per: str = "channel", eps: float = 1e-5) -> tuple[np.ndarray | None, str | None]:
    """PyTorch's training-mode BN without affine (BatchNorm2d, or BatchNorm1d on flattened features).

    Returns ``(output, None)``, or ``(None, explanation)`` when PyTorch refuses
    the batch (one value per unit); never raises for that case.
    """
    a = _as_batch(x)
    _bn_axes(4, per)
    t = torch.from_numpy(a)
    if per == "channel":
        layer, inp = nn.BatchNorm2d(a.shape[1], eps=eps, affine=False).double(), t
    else:
        layer, inp = nn.BatchNorm1d(int(np.prod(a.shape[1:])), eps=eps, affine=False).double(), t.flatten(1)
    layer.train()
    try:
        with torch.no_grad():
            out = layer(inp)
    except ValueError as exc:
        positions = a.shape[2] * a.shape[3]
        note = small_batch_message(a.shape[0], per, positions) or "PyTorch refused this batch."
        return None, f"{note} (PyTorch: {exc})"
    return out.reshape(a.shape).numpy(), None


@dataclass(frozen=True)
class RunningStats:
    """BN's running averages after each mini-batch, against the statistics of all the data."""

    batches: np.ndarray  # 1, 2, ... (batches seen)
    mean: np.ndarray  # (batches, C) running mean after each batch
    var: np.ndarray  # (batches, C) running variance (unbiased batch variances averaged)
    data_mean: np.ndarray  # (C,) mean of all the data
    data_var: np.ndarray  # (C,) unbiased variance of all the data


def running_statistics(x, batch_size: int, momentum: float = 0.1, seed: int = 0) -> RunningStats:
    """Feed ``x`` (N, C, H, W) in shuffled mini-batches through BN's running-average update.

    ``running = (1 - momentum) * running + momentum * batch statistic``, from
    mean 0 and variance 1, with the unbiased batch variance (as PyTorch's
    BatchNorm2d). One pass over the data.
    """
    a = _as_batch(x)
    if not 1 <= batch_size <= len(a):
        raise ValueError(f"batch_size must lie between 1 and {len(a)}, got {batch_size}")
    if not 0 < momentum <= 1:
        raise ValueError(f"momentum must lie in (0, 1], got {momentum}")
    if batch_size * a.shape[2] * a.shape[3] < 2:
        raise ValueError("each batch needs at least 2 values per channel for a variance")
    order = np.random.default_rng(seed).permutation(len(a))
    mean, var = np.zeros(a.shape[1]), np.ones(a.shape[1])
    means, vars_ = [], []
    for start in range(0, len(a) - batch_size + 1, batch_size):
        b = a[order[start : start + batch_size]]
        mean = (1 - momentum) * mean + momentum * b.mean(axis=(0, 2, 3))
        var = (1 - momentum) * var + momentum * b.var(axis=(0, 2, 3), ddof=1)
        means.append(mean)
        vars_.append(var)
    return RunningStats(np.arange(1, len(means) + 1), np.array(means), np.array(vars_),
                        a.mean(axis=(0, 2, 3)), a.var(axis=(0, 2, 3), ddof=1))


# -- the worked examples ---------------------------------------------------------
def inter_example() -> np.ndarray:
    """4 channels x 4 positions, as (1, 4, 1, 4). Channels 0 and 1 hold 1 at position 0 (the seed's
    case: (k, alpha, beta, n) = (0, 1, 1, 2) gives 0.5 there); the other values are ours."""
    grid = np.array([[1, 0, 2, 1], [1, 2, 1, 0], [0, 1, 1, 2], [2, 1, 0, 1]], dtype=float)
    return grid.reshape(1, 4, 1, 4)


def intra_example(seed: int = 0) -> np.ndarray:
    """One 5 x 5 feature map of small whole numbers, as (1, 1, 5, 5)."""
    return np.random.default_rng(seed).integers(0, 4, size=(1, 1, 5, 5)).astype(float)


def bn_example(seed: int = 0) -> np.ndarray:
    """The seed's batch: 3 activations of shape (C, H, W) = (4, 4, 4), values to one decimal."""
    return np.round(np.random.default_rng(seed).normal(1.0, 1.0, size=(3, 4, 4, 4)), 1)


# -- conventions -------------------------------------------------------------------
@dataclass(frozen=True)
class Conversion:
    """Parameters in another convention, whether they give exactly the same output, and why."""

    exact: bool
    params: dict[str, float] | None  # None when no exact conversion exists
    note: str


def seed_to_torch(n: int, alpha: float, beta: float, k: float) -> Conversion:
    """``nn.LocalResponseNorm`` arguments that compute the seed's inter-channel LRN exactly.

    The seed's window is always symmetric and holds ``2 * (n // 2) + 1``
    channels; PyTorch with that odd size uses the same window, and divides
    alpha by the size, so alpha is multiplied by it.
    """
    _check_lrn(n, alpha, beta, k)
    size = 2 * (int(n) // 2) + 1
    note = f"size = 2·⌊n/2⌋ + 1 = {size} channels; PyTorch uses α/size, so α is multiplied by {size}."
    if n % 2:
        note += f" In the seed's formula n = {n} and n = {n - 1} give the same window (n/2 rounds down)."
    return Conversion(True, {"size": size, "alpha": alpha * size, "beta": beta, "k": k}, note)


def torch_to_seed(size: int, alpha: float, beta: float, k: float) -> Conversion:
    """The seed's (n, alpha, beta, k) for ``nn.LocalResponseNorm(size, alpha, beta, k)``, when one exists."""
    if isinstance(size, bool) or int(size) != size or size < 1:
        raise ValueError(f"size must be a whole number >= 1, got {size!r}")
    _check_lrn(0, alpha, beta, k)
    if size % 2 == 1:
        return Conversion(True, {"n": size - 1, "alpha": alpha / size, "beta": beta, "k": k},
                          f"An odd size is the symmetric window c − {size // 2} .. c + {size // 2}: n = {size - 1}, "
                          f"α divided by {size}.")
    if alpha == 0:
        return Conversion(True, {"n": size, "alpha": 0.0, "beta": beta, "k": k},
                          "With α = 0 the window does not matter: every value is divided by k^β.")
    return Conversion(False, None,
                      f"PyTorch's window for the even size {size} is c − {size // 2} .. c + {size // 2 - 1}: "
                      "one channel more before c than after it. The seed's window is symmetric, so no (n, α, β, k) gives "
                      f"the same output; sizes {size - 1} and {size + 1} convert exactly.")


def seed_to_tf(n: int, alpha: float, beta: float, k: float) -> Conversion:
    """``tf.nn.local_response_normalization`` arguments for the seed's inter-channel LRN (always exact)."""
    _check_lrn(n, alpha, beta, k)
    radius = int(n) // 2
    return Conversion(True, {"depth_radius": radius, "bias": k, "alpha": alpha, "beta": beta},
                      f"depth_radius = ⌊n/2⌋ = {radius}; TensorFlow sums the squares without dividing, "
                      "so α and β stay, and k is called bias. TensorFlow wants channels last (NHWC).")


def tf_to_seed(depth_radius: int, bias: float, alpha: float, beta: float) -> Conversion:
    """The seed's (n, alpha, beta, k) for TensorFlow's LRN (always exact)."""
    if isinstance(depth_radius, bool) or int(depth_radius) != depth_radius or depth_radius < 0:
        raise ValueError(f"depth_radius must be a whole number >= 0, got {depth_radius!r}")
    _check_lrn(0, alpha, beta, bias)
    return Conversion(True, {"n": 2 * int(depth_radius), "alpha": alpha, "beta": beta, "k": bias},
                      f"n = 2·depth_radius = {2 * int(depth_radius)}; bias is k.")


# -- the CNN -------------------------------------------------------------------------
NORMS = ("none", "lrn", "bn", "layer", "group")
NORM_LABELS = {
    "none": "no normalisation",
    "lrn": "LRN",
    "bn": "BatchNorm",
    "layer": "LayerNorm",
    "group": "GroupNorm",
}
CNN_LRN = LRNParams(n=2, alpha=1.0, beta=0.75, k=1.0)  # seed convention; PyTorch: size 3, alpha 3
WIDTHS = (8, 16)  # channels of the two conv layers
GROUPS = 4  # GroupNorm's groups per layer
LAYERS = ("conv1", "norm1", "conv2", "norm2", "logits")
LAYER_LABELS = {
    "conv1": "conv 1",
    "norm1": "after norm 1",
    "conv2": "conv 2",
    "norm2": "after norm 2",
    "logits": "logits",
}


def make_norm(norm: str, channels: int, lrn: LRNParams = CNN_LRN) -> nn.Module:
    """The normalisation layer ``norm`` for ``channels`` feature maps.

    "layer" is LayerNorm over (C, H, W) with one scale and shift per channel
    (``GroupNorm(1, C)``); "group" is ``GroupNorm(4, C)``; "lrn" uses PyTorch's
    layer through ``seed_to_torch``.
    """
    if norm == "none":
        return nn.Identity()
    if norm == "lrn":
        p = seed_to_torch(lrn.n, lrn.alpha, lrn.beta, lrn.k).params
        return nn.LocalResponseNorm(int(p["size"]), alpha=p["alpha"], beta=p["beta"], k=p["k"])
    if norm == "bn":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)
    if norm == "group":
        return nn.GroupNorm(GROUPS, channels)
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


class DigitCNN(nn.Module):
    """8x8 digit -> conv 3x3 (8) -> norm -> ReLU -> max-pool 2 -> conv 3x3 (16) -> norm -> ReLU
    -> max-pool 2 -> linear -> 10 logits. The same ``norm`` follows both conv layers."""

    def __init__(self, norm: str = "none", lrn: LRNParams = CNN_LRN) -> None:
        super().__init__()
        c1, c2 = WIDTHS
        self.norm = norm
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.norm1 = make_norm(norm, c1, lrn)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.norm2 = make_norm(norm, c2, lrn)
        self.fc = nn.Linear(c2 * 4, 10)

    def forward_all(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits and every intermediate activation (``LAYERS`` plus "relu1", "relu2")."""
        out: dict[str, torch.Tensor] = {}
        out["conv1"] = self.conv1(x.reshape(-1, 1, 8, 8))
        out["norm1"] = self.norm1(out["conv1"])
        out["relu1"] = F.relu(out["norm1"])
        out["conv2"] = self.conv2(F.max_pool2d(out["relu1"], 2))
        out["norm2"] = self.norm2(out["conv2"])
        out["relu2"] = F.relu(out["norm2"])
        out["logits"] = self.fc(F.max_pool2d(out["relu2"], 2).flatten(1))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)["logits"]


def make_cnn(norm: str, seed: int = 0, lrn: LRNParams = CNN_LRN) -> DigitCNN:
    """A ``DigitCNN`` whose initial weights depend on ``seed`` only (the same for every norm)."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    return build_seeded(seed, lambda: DigitCNN(norm, lrn))


@dataclass(frozen=True)
class FeatureMaps:
    """A digit's first-conv feature maps before and after LRN and BN, all (C, 8, 8)."""

    image: np.ndarray  # (8, 8), pixels in [0, 1]
    label: int
    before: np.ndarray
    after_lrn: np.ndarray
    after_bn: np.ndarray
    bn_mean: np.ndarray  # (C,) per-channel statistics of the conv output over the training images
    bn_var: np.ndarray
    lrn: LRNParams


@torch.no_grad()
def feature_maps(index: int, model: DigitCNN | None = None, seed: int = 0, lrn: LRNParams = CNN_LRN,
                 split: DigitsSplit | None = None) -> FeatureMaps:
    """Validation digit ``index`` through the first conv layer, then LRN and BN (no gamma, beta).

    BN uses per-channel statistics over all the training images (what
    eval mode would use once the running averages have converged). The conv
    layer is ``model``'s (e.g. a trained one) or a fresh one built from ``seed``.
    """
    split = digits_split() if split is None else split
    if not 0 <= index < len(split.y_val):
        raise ValueError(f"index must lie between 0 and {len(split.y_val) - 1}, got {index}")
    conv = (make_cnn("none", seed) if model is None else model).conv1
    conv = copy.deepcopy(conv).cpu().double()
    train = conv(torch.from_numpy(np.array(split.x_train, dtype=float)).reshape(-1, 1, 8, 8)).numpy()
    image = np.array(split.x_val[index], dtype=float).reshape(8, 8)
    before = conv(torch.from_numpy(image).reshape(1, 1, 8, 8)).numpy()
    mean, var = train.mean(axis=(0, 2, 3)), train.var(axis=(0, 2, 3))
    after_bn = (before - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    after_lrn = local_response_norm(before, lrn.n, lrn.alpha, lrn.beta, lrn.k)
    return FeatureMaps(image, int(split.y_val[index]), before[0], after_lrn[0], after_bn[0], mean, var, lrn)


@dataclass(frozen=True)
class BNModes:
    """Validation accuracy of a BN model normalising with batch statistics vs running statistics."""

    batch_size: int
    train_mode_accuracy: float  # batch statistics of batches of ``batch_size`` validation images
    eval_mode_accuracy: float  # running statistics
    message: str | None  # what goes wrong with this batch size, if anything


@torch.no_grad()
def bn_modes(model: DigitCNN, batch_size: int, split: DigitsSplit | None = None) -> BNModes:
    """Compare training-mode and eval-mode BN on the validation digits, without touching ``model``.

    Training mode normalises each batch by its own statistics (a copy of the
    model with momentum 0 keeps the running statistics as they are).
    """
    if model.norm != "bn":
        raise ValueError(f"bn_modes needs a BatchNorm model, got norm={model.norm!r}")
    split = digits_split() if split is None else split
    if not 1 <= batch_size <= len(split.y_val):
        raise ValueError(f"batch_size must lie between 1 and {len(split.y_val)}, got {batch_size}")
    device = next(model.parameters()).device
    x = torch.from_numpy(np.array(split.x_val)).to(device)
    y = torch.from_numpy(np.array(split.y_val)).to(device)
    probe = copy.deepcopy(model)
    for mod in probe.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.momentum = 0.0
    probe.train()
    correct = sum(int((probe(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
                  for i in range(0, len(y), batch_size))
    probe.eval()
    eval_acc = float((probe(x).argmax(1) == y).float().mean())
    return BNModes(batch_size, correct / len(y), eval_acc, small_batch_message(batch_size, "channel", 64))


# -- the race -----------------------------------------------------------------------
MOMENTUM = 0.9  # SGD with momentum for every model
EVAL_EVERY = 10  # steps between measurements on the validation digits
DEFAULT_LR = 0.05
HIGH_LR = 0.3  # raised to this after an epoch at DEFAULT_LR, BN keeps learning where no norm dies (seed 0)


@dataclass(frozen=True)
class NormRaceConfig:
    """One race: which normalisations, and how they all train. Only ``lr`` changes live."""

    LIVE_FIELDS = ("lr",)

    norms: tuple[str, ...] = ("none", "lrn", "bn")
    lr: float = DEFAULT_LR
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.norms:
            raise ValueError("pick at least one normalisation to race")
        unknown = [n for n in self.norms if n not in NORMS]
        if unknown:
            raise ValueError(f"norms must come from {NORMS}, got {unknown}")
        if len(set(self.norms)) != len(self.norms):
            raise ValueError(f"each normalisation races once, got {self.norms}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if not 1 <= self.batch_size <= 512:
            raise ValueError(f"batch_size must lie between 1 and 512, got {self.batch_size}")
        if not 1 <= self.epochs <= 500:
            raise ValueError(f"epochs must lie between 1 and 500, got {self.epochs}")


# -- the page's controls ---------------------------------------------------------------
SEED_N, SEED_ALPHA, SEED_BETA, SEED_K = 2, 1.0, 1.0, 0.0  # the seed's worked example (inter-channel)
ALEXNET = (5, 1e-4, 0.75, 2.0)  # (n, alpha, beta, k) in AlexNet's paper, in the seed's convention
LRN_FIELDS = ("lrn_n", "lrn_alpha", "lrn_beta", "lrn_k")  # the four controls the two LRN buttons set
SEED_BATCH = bn_example().shape[0]  # the seed's batch of activations (C, H, W)
_, BN_C, BN_H, BN_W = bn_example().shape
_INTER_C, _INTER_W = inter_example()[0, :, 0, :].shape  # channels x positions of the inter-channel grid
_MAP_H, _MAP_W = intra_example()[0, 0].shape  # the intra-channel feature map
LRS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)
RACE_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)
RACE_EPOCHS = (1, 2, 3, 5, 10, 20, 50)
MODE_BATCHES = (1, 2, 4, 8, 32, 500)
TORCH_SIZES = tuple(range(1, 10))
PER_LABELS = {
    "activation": "per activation: each (c, y, x) over the batch (the seed's picture, BatchNorm1d)",
    "channel": "per channel: each channel over the batch and every position (BatchNorm2d, in CNNs)",
}

# Every control of the page, in the order the page draws them. The race's controls set NormRaceConfig's
# fields (defaults from it); the others are the page's own settings. "norms" is a multiselect of at
# least one (written to the link as comma-separated names). The page narrows the image choice
# ("bn_image") to the images in the batch.
PARAMS = ParamTable(NormRaceConfig, [
    # 1 · LRN by hand
    Param("lrn_n", "n: the window reaches ⌊n/2⌋ neighbours each side", "slider", default=SEED_N, lo=0, hi=8,
          old=("n",)),
    Param("lrn_alpha", "α: scale of the sum", "number", default=SEED_ALPHA, lo=0.0, hi=100.0, step=0.1, format="%g",
          old=("alpha",)),
    Param("lrn_beta", "β: exponent", "number", default=SEED_BETA, lo=0.0, hi=10.0, step=0.05, format="%g",
          old=("beta",)),
    Param("lrn_k", "k: added to the sum", "number", default=SEED_K, lo=0.0, hi=100.0, step=0.5, format="%g",
          old=("k",)),
    Param("channel", "Output channel i", "slider", default=0, lo=0, hi=_INTER_C - 1, old=("ch",)),
    Param("position", "Position (x, y)", "slider", default=0, lo=0, hi=_INTER_W - 1, old=("pos",)),
    Param("row", "Output row y", "slider", default=_MAP_H // 2, lo=0, hi=_MAP_H - 1),
    Param("column", "Output column x", "slider", default=_MAP_W // 2, lo=0, hi=_MAP_W - 1, old=("col",)),
    # 2 · the conventions
    Param("torch_size", "PyTorch's size, with your α, β and k as PyTorch's arguments", "select_slider", default=4,
          options=TORCH_SIZES, old=("size",), help="nn.LocalResponseNorm(size, alpha, beta, k)"),
    # 3 · batch normalisation by hand
    Param("bn_per", "Which values share μ and σ²", "radio", default="activation", options=tuple(PER_LABELS),
          format_func=PER_LABELS.get, old=("per",)),
    Param("bn_batch", f"Images in the batch (the seed's batch has {SEED_BATCH})", "select_slider",
          default=SEED_BATCH, options=tuple(range(1, SEED_BATCH + 1)), old=("batch",)),
    Param("bn_image", "Image", "selectbox", default=0, options=tuple(range(SEED_BATCH)), old=("img",)),
    Param("bn_channel", "Channel", "selectbox", default=0, options=tuple(range(BN_C)), old=("bch",)),
    Param("bn_row", "Row", "selectbox", default=0, options=tuple(range(BN_H)), old=("brow",)),
    Param("bn_column", "Column", "selectbox", default=0, options=tuple(range(BN_W)), old=("bcol",)),
    Param("bn_gamma", "γ: scale (learned)", "number", default=1.0, lo=-10.0, hi=10.0, step=0.1, format="%g",
          old=("gamma",)),
    Param("bn_shift", "β: shift (learned)", "number", default=0.0, lo=-10.0, hi=10.0, step=0.1, format="%g",
          old=("shift",)),
    # 5 · the race
    Param("norms", "Normalisations in the race", "multiselect", options=NORMS, lo=1, format_func=NORM_LABELS.get),
    Param("lr", "Learning rate: applies while it trains", "select_slider", options=LRS),
    Param("batch_size", "Batch size", "select_slider", options=RACE_BATCHES, old=("bs",)),
    Param("epochs", "Epochs", "select_slider", options=RACE_EPOCHS),
    Param("seed", "Seed", "number", lo=0, hi=9999, step=1,
          help="The same seed gives every model the same first weights and batches."),
    Param("layer", "Layer whose statistics are charted", "selectbox", default="norm1", options=tuple(LAYER_LABELS),
          format_func=LAYER_LABELS.get),
    # 4 · a real digit (drawn after the race's controls: its fresh network uses the race's seed)
    Param("digit", f"Validation digit (0 to {N_VAL - 1})", "number", default=0, lo=0, hi=N_VAL - 1, step=1),
    # 6 · BN's two modes
    Param("mode_batch_size", "Batch size in training mode", "select_slider", default=1, options=MODE_BATCHES,
          old=("modebs",)),
])
# The LRN buttons set these four controls (and only these).
LRN_PARAMS = ParamTable(None, [PARAMS[name] for name in LRN_FIELDS])


@dataclass
class NormRaceSnapshot(Snapshot):
    """Histories per model (keyed by norm), all plain NumPy arrays and numbers.

    Training curves have one value per step (the mini-batch's cross-entropy in
    nats and accuracy as a fraction); measurements on the 500 validation
    digits (eval mode) come every ``EVAL_EVERY`` steps, with step 0 first.
    """

    norms: tuple[str, ...] = ()
    steps_per_epoch: int = 0
    max_steps: int = 0
    lr: float = 0.0
    train_steps: dict[str, np.ndarray] = field(default_factory=dict)
    train_loss: dict[str, np.ndarray] = field(default_factory=dict)
    train_acc: dict[str, np.ndarray] = field(default_factory=dict)
    eval_steps: dict[str, np.ndarray] = field(default_factory=dict)
    val_loss: dict[str, np.ndarray] = field(default_factory=dict)
    val_acc: dict[str, np.ndarray] = field(default_factory=dict)
    layer_mean: dict[str, np.ndarray] = field(default_factory=dict)  # (evals, len(LAYERS))
    layer_std: dict[str, np.ndarray] = field(default_factory=dict)
    dead_fraction: dict[str, np.ndarray] = field(default_factory=dict)  # (evals, 2): ReLU outputs that are 0
    bn_steps: np.ndarray | None = None  # None when BN does not race
    bn_running_mean: np.ndarray | None = None  # (evals, 8): first BN layer's running averages
    bn_running_var: np.ndarray | None = None
    bn_data_mean: np.ndarray | None = None  # (evals, 8): conv 1's statistics over all training images
    bn_data_var: np.ndarray | None = None
    model_errors: dict[str, str | None] = field(default_factory=dict)
    changes: tuple[tuple[int, str], ...] = ()


class _Runner:
    """One model of the race with its optimiser, its histories and its own stop message."""

    def __init__(self, norm: str, config: NormRaceConfig, device: torch.device) -> None:
        self.norm = norm
        self.model = make_cnn(norm, config.seed).to(device)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=MOMENTUM)
        self.error: str | None = None
        self.train_rows: list[np.ndarray] = []  # (steps, 2): loss, accuracy
        self.eval_steps: list[int] = []
        self.eval_rows: list[np.ndarray] = []  # (2 + 2*len(LAYERS) + 2 [+ 4*C],) per measurement

    def state(self) -> list[dict]:
        return [copy.deepcopy(self.model.state_dict()), copy.deepcopy(self.optimizer.state_dict())]

    def restore(self, state: list[dict]) -> None:
        self.model.load_state_dict(state[0])
        self.optimizer.load_state_dict(state[1])

    def finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())


class NormRaceTrainer(GuardedTrainer):
    """The same CNN with each normalisation, trained side by side on the digits.

    One step is one mini-batch for every model still racing (the same batch
    for all). A model whose loss turns NaN, infinite or above ``loss_limit``
    is rolled back to its state before the chunk and stops with its own
    message; the others go on. ``error`` is set only when every model stopped.
    """

    chunk_every = EVAL_EVERY
    divergence_hint = "The learning rate is too high for this model; the other models go on."
    small_model = False  # three CNNs a step: 1.6x faster on an H200 than on one CPU thread (core/device.py)

    def __init__(self, config: NormRaceConfig, device: torch.device | None = None,
                 split: DigitsSplit | None = None) -> None:
        split = digits_split() if split is None else split
        steps_per_epoch = math.ceil(len(split.y_train) / config.batch_size)
        super().__init__(config, max_steps=config.epochs * steps_per_epoch, device=device)
        self.split, self.steps_per_epoch = split, steps_per_epoch
        to = lambda a: torch.from_numpy(np.array(a)).to(self.device)
        self.x, self.y = to(self.split.x_train), to(self.split.y_train)
        self.x_val, self.y_val = to(self.split.x_val), to(self.split.y_val)
        self.runners = {norm: _Runner(norm, config, self.device) for norm in config.norms}
        self._order: tuple[int, torch.Tensor] | None = None
        for r in self.runners.values():
            self._measure(r, 0)

    # -- data -----------------------------------------------------------------
    def _batch(self, step: int) -> torch.Tensor:
        """Indices of the mini-batch of 1-based ``step``: epochs are seeded permutations."""
        epoch, pos = divmod(step - 1, self.steps_per_epoch)
        if self._order is None or self._order[0] != epoch:
            perm = np.random.default_rng([self.config.seed, epoch]).permutation(len(self.y))
            self._order = (epoch, torch.from_numpy(perm).to(self.device))
        bs = self.config.batch_size
        return self._order[1][pos * bs : (pos + 1) * bs]

    # -- the protocol -----------------------------------------------------------
    def _racing(self) -> list[_Runner]:
        return [r for r in self.runners.values() if r.error is None]

    def _stateful(self):
        return [obj for r in self._racing() for obj in (r.model, r.optimizer)]

    def _apply_live(self, old: NormRaceConfig, new: NormRaceConfig) -> None:
        for r in self.runners.values():
            self.set_lr(r.optimizer, new.lr)

    def _train_step(self) -> torch.Tensor:
        """The next step for every racing model (the protocol's single step)."""
        return self._step_models(self._racing(), self.step + 1)

    def _step_models(self, racing: list[_Runner], step: int) -> torch.Tensor:
        """Mini-batch ``step`` for each model of ``racing``; (models, 2): loss and accuracy."""
        idx = self._batch(step)
        x, y = self.x[idx], self.y[idx]
        rows = []
        for r in racing:
            logits = r.model(x)
            loss = F.cross_entropy(logits, y)
            r.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            r.optimizer.step()
            rows.append(torch.stack([loss.detach(), (logits.argmax(1) == y).float().mean()]))
        return torch.stack(rows)

    @torch.no_grad()
    def _evaluate(self, r: _Runner) -> torch.Tensor:
        """Validation loss and accuracy, per-layer mean and std, dead ReLU shares [, BN statistics]."""
        r.model.eval()
        acts = r.model.forward_all(self.x_val)
        logits = acts["logits"]
        accuracy = (logits.argmax(1) == self.y_val).float().mean()
        parts = [F.cross_entropy(logits, self.y_val).reshape(1), accuracy.reshape(1),
                 torch.stack([acts[name].mean() for name in LAYERS]),
                 torch.stack([acts[name].std() for name in LAYERS])]
        parts.append(torch.stack([(acts[name] == 0).float().mean() for name in ("relu1", "relu2")]))
        if r.norm == "bn":
            conv = r.model.conv1(self.x.reshape(-1, 1, 8, 8))
            parts += [r.model.norm1.running_mean, r.model.norm1.running_var,
                      conv.mean(dim=(0, 2, 3)), conv.var(dim=(0, 2, 3))]
        r.model.train()
        return torch.cat([p.float().reshape(-1) for p in parts])

    def _measure(self, r: _Runner, step: int) -> None:
        r.eval_steps.append(step)
        r.eval_rows.append(self._evaluate(r).cpu().numpy())

    def _guarded_chunk(self, n: int) -> bool:
        """Run ``n`` steps; roll back and stop each diverged model on its own (False when none is left)."""
        racing = self._racing()
        saved = {r.norm: r.state() for r in racing}
        steps = range(self.step + 1, self.step + n + 1)
        values = torch.stack([self._step_models(racing, step) for step in steps]).cpu().numpy()  # (n, models, 2)
        good = []
        for i, r in enumerate(racing):
            loss = values[:, i, 0]
            bad = np.flatnonzero(~np.isfinite(loss) | (np.abs(np.nan_to_num(loss)) > self.loss_limit))
            if not bad.size and r.finite():
                good.append(i)
                continue
            r.restore(saved[r.norm])
            if not r.eval_steps or r.eval_steps[-1] != self.step:
                self._measure(r, self.step)  # the kept state, as the charts will show it
            row = int(bad[0]) if bad.size else n - 1
            message = divergence_message(self.step + row + 1, float(loss[row]), self.divergence_hint)
            r.error = f"{NORM_LABELS[r.norm]}: {message}"
        if not good:  # the race step stays where the last model was good
            self.error = "Every model diverged. " + " ".join(r.error or "" for r in self.runners.values())
            return False
        self._record(self.step, values[:, good])
        self.step += n
        return True

    def _record(self, first_step: int, losses: np.ndarray) -> None:
        """Keep each racing model's (loss, accuracy) rows (``losses``: steps x models x 2), then measure."""
        for i, r in enumerate(self._racing()):
            r.train_rows.append(losses[:, i])
        self._after_chunk(first_step, losses)

    def _after_chunk(self, first_step: int, losses: np.ndarray) -> None:
        """Measure the racing models on the validation digits every ``EVAL_EVERY`` steps and at the last step."""
        end = first_step + len(losses)
        if end % EVAL_EVERY == 0 or end == self.max_steps:
            for r in self._racing():
                self._measure(r, end)

    def snapshot(self) -> NormRaceSnapshot:
        snap = NormRaceSnapshot(
            step=self.step, done=self.done, error=self.error, norms=tuple(self.runners),
            steps_per_epoch=self.steps_per_epoch, max_steps=self.max_steps, lr=float(self.config.lr),
            changes=tuple(self.changes),
        )
        L = len(LAYERS)
        for norm, r in self.runners.items():
            train = np.concatenate(r.train_rows) if r.train_rows else np.zeros((0, 2))
            ev = np.array(r.eval_rows, dtype=float)
            snap.train_steps[norm] = np.arange(1, len(train) + 1)
            snap.train_loss[norm] = train[:, 0].astype(float)
            snap.train_acc[norm] = train[:, 1].astype(float)
            snap.eval_steps[norm] = np.array(r.eval_steps)
            snap.val_loss[norm], snap.val_acc[norm] = ev[:, 0], ev[:, 1]
            snap.layer_mean[norm] = ev[:, 2 : 2 + L]
            snap.layer_std[norm] = ev[:, 2 + L : 2 + 2 * L]
            snap.dead_fraction[norm] = ev[:, 2 + 2 * L : 4 + 2 * L]
            snap.model_errors[norm] = r.error
            snap.metrics[f"{norm}_val_acc"] = float(ev[-1, 1])
            snap.metrics[f"{norm}_val_loss"] = float(ev[-1, 0])
            if norm == "bn":
                c = WIDTHS[0]
                bn = ev[:, 4 + 2 * L :].reshape(len(ev), 4, c)
                snap.bn_steps = np.array(r.eval_steps)
                snap.bn_running_mean, snap.bn_running_var = bn[:, 0], bn[:, 1]
                snap.bn_data_mean, snap.bn_data_var = bn[:, 2], bn[:, 3]
        return snap


# -- what the page reads off the engine ------------------------------------------------
def _torch_lrn(x: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """``torch.nn.LocalResponseNorm`` itself (not our transcription), in float64."""
    layer = nn.LocalResponseNorm(int(size), alpha=float(alpha), beta=float(beta), k=float(k))
    with torch.no_grad():
        return layer(torch.from_numpy(np.array(x, dtype=float))).numpy()


def _gap(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, int]:
    both = np.isfinite(ours) & np.isfinite(theirs)
    gap = float(np.max(np.abs(ours[both] - theirs[both]))) if both.any() else 0.0
    return gap, int(np.sum(~np.isfinite(theirs)))


@dataclass(frozen=True)
class TorchCheck:
    """The seed's formula against ``nn.LocalResponseNorm`` on one tensor.

    ``gaps`` maps each seed ``n`` compared to the largest absolute difference
    over the cells where PyTorch's output is a number; ``undefined`` counts
    the cells where PyTorch returns NaN (0 / 0: k = 0 and an all-zero window;
    the seed's formula gives 0 there).
    """

    size: int
    alpha: float  # PyTorch's alpha
    gaps: dict[int, float]
    undefined: int


def check_seed_to_torch(x, n: int, alpha: float, beta: float, k: float) -> TorchCheck:
    """Run ``nn.LocalResponseNorm`` with ``seed_to_torch``'s arguments on ``x`` and compare."""
    a = _as_batch(x)
    p = seed_to_torch(n, alpha, beta, k).params
    gap, undefined = _gap(local_response_norm(a, n, alpha, beta, k), _torch_lrn(a, p["size"], p["alpha"], beta, k))
    return TorchCheck(int(p["size"]), float(p["alpha"]), {int(n): gap}, undefined)


def check_torch_to_seed(x, size: int, alpha: float, beta: float, k: float) -> TorchCheck:
    """``nn.LocalResponseNorm(size, alpha, beta, k)`` on ``x`` against the seed's formula with alpha / size.

    An odd size is compared with n = size - 1 (its exact equivalent); an even
    size, which has none, with the two symmetric windows around it.
    """
    a = _as_batch(x)
    torch_to_seed(size, alpha, beta, k)  # validates the arguments
    theirs = _torch_lrn(a, size, alpha, beta, k)
    candidates = [size - 1] if size % 2 else [m for m in (size - 2, size) if m >= 0]
    gaps, undefined = {}, 0
    for m in candidates:
        gaps[m], undefined = _gap(local_response_norm(a, m, alpha / size, beta, k), theirs)
    return TorchCheck(int(size), float(alpha), gaps, undefined)


def trainable_norm_parameters(norm: str) -> int:
    """Trainable numbers in the two normalisation layers of the race's CNN (LRN: none; BN: gamma and beta)."""
    model = make_cnn(norm)
    return sum(p.numel() for layer in (model.norm1, model.norm2) for p in layer.parameters() if p.requires_grad)


DEAD_SHARE = 0.99  # ReLU outputs after conv 2 that are 0 on the validation digits: above this, the model is dead
RACE_STATES = ("not started", "training", "dead", "stopped")


@dataclass(frozen=True)
class RaceVerdict:
    """Where one model of the race stands at its last measurement (validation digits, eval mode)."""

    norm: str
    state: str  # one of RACE_STATES
    step: int  # the step of the last measurement
    accuracy: float  # fraction
    best_accuracy: float
    loss: float  # cross-entropy, nats
    dead_share: float  # ReLU outputs after conv 2 that are 0
    message: str | None  # the model's own stop message


def race_verdicts(snap: NormRaceSnapshot) -> dict[str, RaceVerdict]:
    """Each model's state: stopped (diverged, rolled back), dead (its ReLUs after conv 2 output
    only 0, so its prediction no longer depends on the image and no gradient flows), training.

    A dead model has not diverged: its loss stays finite, near ln 10 for ten classes.
    """
    out = {}
    for norm in snap.norms:
        steps, acc = snap.eval_steps[norm], snap.val_acc[norm]
        dead = float(snap.dead_fraction[norm][-1, 1])
        error = snap.model_errors.get(norm)
        if error:
            state = "stopped"
        elif dead >= DEAD_SHARE:
            state = "dead"
        elif len(snap.train_steps[norm]) == 0:
            state = "not started"
        else:
            state = "training"
        out[norm] = RaceVerdict(norm, state, int(steps[-1]), float(acc[-1]), float(np.max(acc)),
                                float(snap.val_loss[norm][-1]), dead, error)
    return out
