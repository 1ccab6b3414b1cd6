"""Activation functions, live: the engine behind the activation-functions page.

Four parts, each usable from a notebook exactly as the page uses it:

- **The functions.** ``ACTIVATIONS`` maps a name to a tensor-in, tensor-out
  function with PyTorch's defaults; ``activation(name, **params)`` gives the
  parameterised variants (Leaky ReLU's slope, ELU's alpha, Swish's beta).
  Sigmoid and tanh are torch's own; the others are composed from their
  definitions (not ``torch.nn.functional``'s fused kernels), so comparing
  them with PyTorch's kernels is a real check. ``derivative`` differentiates
  them by autograd;
  ``properties`` measures range, monotonicity, smoothness, the minimum and
  more on a grid refined by root finding; nothing in it is typed in.
- **Swish's slope.** ``swish_slope_reaches_one(beta)``: where |Swish'| first
  reaches 1 (the seed note's "about 1.25"; it is 1.2785 / beta).
- **The initialisation lab.** ``init_statistics``: per-layer mean, spread and
  histograms of activations and gradients of a deep MLP at initialisation,
  where vanishing and exploding signals show.
- **The training race.** ``RaceTrainer``: two to four small MLPs, one
  activation each, trained side by side on the same data from the same
  initial weights; a racer that diverges stops alone.

Own data for the race comes through ``validate_points`` and ``points_from_csv``.
``PARAMS`` (at the end) declares every control of the page, its link name and its
default; ``RACE_PARAMS`` is the part a race preset sets.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy import optimize
from torch import nn

from core.params import Param as Control  # ``Param`` here is an activation's shape parameter
from core.params import ParamTable
from core.trainer import GuardedTrainer, Snapshot, build_seeded, divergence_message

__all__ = [
    "ACTIVATIONS", "DATASETS", "INITS", "INIT_NAMES", "LABELS", "LATEX", "MAX_POINTS", "OPTIMIZERS", "PARAMETERS",
    "PRESETS", "MLP", "InitStats", "Param", "Preset", "Properties", "RaceConfig", "RaceSnapshot", "RaceTrainer",
    "Racer", "RacerSnapshot", "PARAMS", "RACE_PARAMS", "PRESET_CODES", "preset_config", "preset_title",
    "race_values",
    "activation", "curves", "derivative", "elu", "gelu", "init_statistics", "leaky_relu", "make_data",
    "mish", "points_from_csv", "properties", "relu", "softplus", "swish", "swish_slope_reaches_one",
    "validate_points",
]

Tensor = torch.Tensor


# -- the functions ----------------------------------------------------------
def relu(x: Tensor) -> Tensor:
    """max(0, x); slope 0 at x = 0 (as PyTorch)."""
    return torch.where(x > 0, x, 0.0)


def leaky_relu(x: Tensor, slope: float = 0.01) -> Tensor:
    """x for x > 0, ``slope`` * x otherwise."""
    return torch.where(x > 0, x, slope * x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, ``alpha`` (e^x - 1) otherwise.

    The exponential sees min(x, 0), so a large x never makes an infinite
    value in the branch that is not taken (whose gradient would be NaN).
    """
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0.0)))


def gelu(x: Tensor) -> Tensor:
    """x Phi(x), Phi the standard normal CDF (the exact GELU, not the tanh approximation)."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def softplus(x: Tensor) -> Tensor:
    """log(1 + e^x), computed as logaddexp(x, 0) so it never overflows."""
    return torch.logaddexp(x, torch.zeros_like(x))


def swish(x: Tensor, beta: float = 1.0) -> Tensor:
    """x sigmoid(beta x): x / 2 at beta = 0, SiLU at beta = 1, towards ReLU as beta grows."""
    return x * torch.sigmoid(beta * x)


def mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x))."""
    return x * torch.tanh(softplus(x))


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "gelu": gelu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": softplus,
    "swish": swish,
    "mish": mish,
}
LABELS = {
    "relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU", "gelu": "GELU", "sigmoid": "Sigmoid",
    "tanh": "tanh", "softplus": "Softplus", "swish": "Swish", "mish": "Mish",
}


class Param(NamedTuple):
    """An activation's one shape parameter: its keyword, default and sensible range."""

    name: str
    default: float
    low: float
    high: float
    symbol: str


PARAMETERS = {
    "leaky_relu": Param("slope", 0.01, 0.0, 0.5, "a"),
    "elu": Param("alpha", 1.0, 0.1, 3.0, "α"),
    "swish": Param("beta", 1.0, 0.0, 10.0, "β"),
}

# f and f' in LaTeX; a, alpha and beta are the parameters above, sigma the sigmoid.
LATEX = {
    "relu": (r"f(x) = \max(0, x)",
             r"f'(x) = \begin{cases} 1 & x > 0 \\ 0 & x < 0 \end{cases}"),
    "leaky_relu": (r"f(x) = \begin{cases} x & x > 0 \\ a\,x & x \le 0 \end{cases}",
                   r"f'(x) = \begin{cases} 1 & x > 0 \\ a & x < 0 \end{cases}"),
    "elu": (r"f(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}",
            r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha\, e^{x} & x < 0 \end{cases}"),
    "gelu": (r"f(x) = x\,\Phi(x) = \tfrac{x}{2}\left(1 + \operatorname{erf}(x/\sqrt{2})\right)",
             r"f'(x) = \Phi(x) + x\,\varphi(x), \quad \varphi(x) = \tfrac{1}{\sqrt{2\pi}} e^{-x^2/2}"),
    "sigmoid": (r"f(x) = \sigma(x) = \frac{1}{1 + e^{-x}}",
                r"f'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)"),
    "tanh": (r"f(x) = \tanh x = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
             r"f'(x) = 1 - \tanh^2 x"),
    "softplus": (r"f(x) = \ln\left(1 + e^{x}\right)",
                 r"f'(x) = \sigma(x)"),
    "swish": (r"f(x) = x\,\sigma(\beta x)",
              r"f'(x) = \sigma(\beta x) + \beta x\,\sigma(\beta x)\,\bigl(1 - \sigma(\beta x)\bigr)"),
    "mish": (r"f(x) = x \tanh\bigl(\operatorname{softplus}(x)\bigr)",
             r"f'(x) = \tanh\bigl(\operatorname{softplus}(x)\bigr) "
             r"+ x\,\sigma(x)\,\Bigl(1 - \tanh^2\bigl(\operatorname{softplus}(x)\bigr)\Bigr)"),
}


def activation(name: str, **params: float) -> Callable[[Tensor], Tensor]:
    """The function ``name`` with its shape parameter set, e.g. ``activation("swish", beta=2.0)``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {name!r}")
    allowed = {PARAMETERS[name].name} if name in PARAMETERS else set()
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(f"{name} takes {sorted(allowed) or 'no parameters'}, got {sorted(unknown)}")
    fn = ACTIVATIONS[name]
    return functools.partial(fn, **params) if params else fn


def _as_tensor(x) -> tuple[Tensor, bool]:
    """``x`` as a tensor (float64 for array-likes) and whether it came as one."""
    if isinstance(x, torch.Tensor):
        return x, True
    return torch.as_tensor(np.asarray(x, dtype=np.float64)), False


def _derivatives(fn: Callable[[Tensor], Tensor], x: Tensor, order: int) -> list[Tensor]:
    """[f, f', ..., f^(order)] at ``x`` by autograd (every function here is elementwise)."""
    t = x.detach().clone().requires_grad_(True)
    out = []
    with torch.enable_grad():
        y = fn(t)
        out.append(y.detach())
        for k in range(order):
            if not y.requires_grad:  # piecewise linear: the next derivative is 0
                y = torch.zeros_like(t)
            else:
                (y,) = torch.autograd.grad(y.sum(), t, create_graph=k + 1 < order)
            out.append(y.detach())
    return out


def derivative(name: str, x, order: int = 1, **params: float):
    """The ``order``-th derivative (1 or 2) of activation ``name`` at ``x``, by autograd.

    Returns the same shape as ``x``: a tensor for a tensor, a float64 NumPy
    array for anything else. At a kink the value is PyTorch's one-sided choice
    (ReLU'(0) = 0, Leaky ReLU'(0) = slope, ELU'(0) = alpha).

    >>> float(derivative("sigmoid", 0.0))
    0.25
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order}")
    t, was_tensor = _as_tensor(x)
    d = _derivatives(activation(name, **params), t, order)[order]
    return d if was_tensor else d.numpy()


def curves(names: Sequence[str], x, orders: Sequence[int] = (0, 1, 2),
           params: dict[str, dict[str, float]] | None = None) -> dict[str, dict[int, np.ndarray]]:
    """What the gallery draws: ``{name: {order: values at x}}`` (order 0 is f itself), float64."""
    t, _ = _as_tensor(x)
    t = t.double()
    params = params or {}
    top = max(orders, default=0)
    out = {}
    for name in names:
        values = _derivatives(activation(name, **params.get(name, {})), t, top)
        out[name] = {k: values[k].numpy() for k in orders}
    return out


# -- properties, measured ---------------------------------------------------
_FAR = 1e8  # "x -> infinity" for the limits (float64)
_CORE = np.linspace(-50.0, 50.0, 20001)  # step 0.005
_TAIL = np.logspace(np.log10(50.0), np.log10(_FAR), 241)[1:]
_GRID = np.unique(np.concatenate([-_TAIL, _CORE, _TAIL, [0.0, -10.0, 10.0, -_FAR / 10, _FAR / 10]]))
_NORMAL = np.linspace(-12.0, 12.0, 24001)  # for E f(z), z ~ N(0, 1)
ZERO_CENTRED_TOL = 0.05
_FLAT_WINDOW = 10.0


@dataclass(frozen=True)
class Properties:
    """What ``properties`` measured about one activation (with its parameter)."""

    name: str
    low: float  # infimum of f over the reals (-inf when unbounded below)
    high: float  # supremum (inf when unbounded above)
    bounded_below: bool
    bounded_above: bool
    monotonic: bool
    smooth: bool  # f' continuous: no jump at x = 0, the only place these functions are pieced together
    zero_centred: bool  # |E f(z)| < ZERO_CENTRED_TOL for standard-normal z
    mean_output: float  # E f(z), z ~ N(0, 1)
    value_at_0: float
    slope_at_0: float  # NaN where f' jumps at 0
    slope_left_0: float
    slope_right_0: float
    max_slope: float  # max |f'|: below 1, a deep stack of this function shrinks gradients
    minimum: float  # the lowest value f reaches; NaN when it is only approached (or f is unbounded below)
    argmin: tuple[float, float]  # where: (x, x) for one point, (-inf, 0) for ReLU; NaNs when not reached


def _on_grid(fn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f, d = _derivatives(fn, torch.from_numpy(x), 1)
    return f.numpy(), d.numpy()


def _scalar_slope(fn) -> Callable[[float], float]:
    return lambda x: float(_derivatives(fn, torch.tensor([x], dtype=torch.float64), 1)[1][0])


def properties(name: str, **params: float) -> Properties:
    """Measure the properties of activation ``name`` numerically (cached).

    On a float64 grid over [-1e8, 1e8] (step 0.005 within |x| <= 50) with
    slopes by autograd. Bounded above (below): f stops growing (falling) at
    both ends, i.e. it changes by less than 1 between |x| = 1e7 and 1e8.
    Smooth: the one-sided slopes at -h and +h converge as h shrinks (a kink
    keeps its jump). Zero-centred: the mean output for standard-normal inputs
    lies within ``ZERO_CENTRED_TOL`` of 0. The minimum is the grid's lowest
    point refined by root finding on f' (brentq); a minimum reached on a
    whole half-line (ReLU) is reported as an interval.

    >>> round(properties("swish").minimum, 4), round(properties("swish").argmin[0], 4)
    (-0.2785, -1.2785)
    """
    return _properties(name, tuple(sorted(params.items())))


@functools.lru_cache(maxsize=256)
def _properties(name: str, params: tuple) -> Properties:
    fn = activation(name, **dict(params))
    x = _GRID
    f, d = _on_grid(fn, x)
    at = {v: float(f[np.searchsorted(x, v)]) for v in (-_FAR, -_FAR / 10, _FAR / 10, _FAR)}
    runs_up = at[_FAR] - at[_FAR / 10] > 1 or at[-_FAR] - at[-_FAR / 10] > 1
    runs_down = at[_FAR] - at[_FAR / 10] < -1 or at[-_FAR] - at[-_FAR / 10] < -1
    bounded_above, bounded_below = not runs_up, not runs_down
    low = float(np.min(f)) + 0.0 if bounded_below else -math.inf
    high = float(np.max(f)) if bounded_above else math.inf

    tol = 1e-9 * max(1.0, float(np.max(np.abs(d))))
    monotonic = bool(np.all(d >= -tol) or np.all(d <= tol))

    def jump(h: float) -> float:
        left, right = _on_grid(fn, np.array([-h, h]))[1]
        return abs(float(right - left))

    smooth = jump(1e-8) <= 0.05 * jump(1e-5) + 1e-9  # a real jump does not shrink with h
    f0, d0 = _on_grid(fn, np.array([0.0]))
    dl, dr = _on_grid(fn, np.array([-1e-9, 1e-9]))[1]
    z_f, _ = _on_grid(fn, _NORMAL)
    mean_output = float(np.trapezoid(z_f * np.exp(-_NORMAL**2 / 2) / math.sqrt(2 * math.pi), _NORMAL))

    minimum, argmin = math.nan, (math.nan, math.nan)
    if bounded_below:
        i = int(np.argmin(f))
        # A stretch where f sits exactly at its minimum with slope exactly 0, e.g. ReLU for
        # x <= 0. Looked for within |x| <= 10 only: further out, float64 rounds tails such as
        # ELU's -1 + e^x to the limit itself, and autograd's slope of them to 0.
        window = np.abs(x) <= _FLAT_WINDOW
        flat = window & (d == 0.0) & (f == f[i])
        if flat.any():
            lo, hi = float(x[flat].min()), float(x[flat].max())
            minimum = float(f[i]) + 0.0  # no -0.0
            argmin = (-math.inf if lo == -_FLAT_WINDOW else lo, math.inf if hi == _FLAT_WINDOW else hi)
        elif 0 < i < len(x) - 1 and d[i - 1] < 0 < d[i + 1]:
            root = optimize.brentq(_scalar_slope(fn), x[i - 1], x[i + 1], xtol=1e-14, rtol=1e-14)
            minimum = float(_on_grid(fn, np.array([root]))[0][0])
            argmin = (float(root), float(root))
            low = min(low, minimum)
    return Properties(
        name=name, low=low, high=high, bounded_below=bounded_below, bounded_above=bounded_above,
        monotonic=monotonic, smooth=smooth, zero_centred=abs(mean_output) < ZERO_CENTRED_TOL,
        mean_output=mean_output, value_at_0=float(f0[0]), slope_at_0=float(d0[0]) if smooth else math.nan,
        slope_left_0=float(dl), slope_right_0=float(dr), max_slope=float(np.max(np.abs(d))),
        minimum=minimum, argmin=argmin,
    )


def swish_slope_reaches_one(beta: float = 1.0) -> float:
    """The smallest x > 0 where |Swish'(x)| = 1, by root finding (brentq on the autograd slope).

    Below it, Swish's slope has magnitude under 1 (the seed note's "about 1.25";
    at beta = 1 it is 1.2785). Swish_beta(x) = Swish_1(beta x) / beta, so the
    point scales as 1 / beta. At beta = 0 the slope is 1/2 everywhere: inf.
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if beta == 0:
        return math.inf
    fn = activation("swish", beta=beta)
    x = np.linspace(0.0, 20.0 / beta, 4001)[1:]
    _, d = _on_grid(fn, x)
    above = np.flatnonzero(np.abs(d) >= 1.0)
    if not above.size:
        return math.inf
    k = int(above[0])
    left = x[k - 1] if k else 0.0
    slope = _scalar_slope(fn)
    return float(optimize.brentq(lambda v: abs(slope(v)) - 1.0, left, x[k], xtol=1e-14, rtol=1e-14))


# -- networks ---------------------------------------------------------------
INITS = {
    "default": "PyTorch default (uniform, ±1/√fan-in)",
    "xavier": "Xavier / Glorot (normal, std √(2/(fan-in + fan-out)))",
    "he": "He / Kaiming (normal, std √(2/fan-in))",
}
INIT_NAMES = {"default": "default", "xavier": "Xavier", "he": "He"}


class Activation(nn.Module):
    """An activation from ``ACTIVATIONS`` as a module."""

    def __init__(self, name: str, **params: float) -> None:
        super().__init__()
        self.name = name
        self.fn = activation(name, **params)

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)


class MLP(nn.Module):
    """``depth`` hidden layers of ``width`` units, one activation, a linear output layer."""

    def __init__(self, n_in: int, n_out: int, depth: int, width: int, act: str, init: str = "default",
                 weight_scale: float = 1.0, **params: float) -> None:
        super().__init__()
        sizes = [n_in] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.out = nn.Linear(width, n_out)
        self.act = Activation(act, **params)
        for layer in self.layers:
            if init == "xavier":
                nn.init.xavier_normal_(layer.weight)
                nn.init.zeros_(layer.bias)
            elif init == "he":
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
            if weight_scale != 1.0:
                with torch.no_grad():
                    layer.weight.mul_(weight_scale)

    @property
    def layers(self) -> list[nn.Linear]:
        return [*self.hidden, self.out]

    def forward(self, x: Tensor, keep: list | None = None) -> Tensor:
        """The logits; with ``keep``, every hidden layer's output is appended to it."""
        act = self.act.fn  # plain calls: module-call overhead is a fair share of a step for nets this small
        for layer in self.hidden:
            x = act(F.linear(x, layer.weight, layer.bias))
            if keep is not None:
                keep.append(x)
        return F.linear(x, self.out.weight, self.out.bias)


# -- the initialisation lab ---------------------------------------------------
ACT_BINS = np.linspace(-3.0, 3.0, 61)  # activation values; outside values count in the end bins
GRAD_BINS = np.linspace(-12.0, 2.0, 57)  # log10 |gradient|; zeros count in the first bin


@dataclass(frozen=True, eq=False)
class InitStats:
    """Per-layer statistics of a deep MLP at initialisation (layer 1 is next to the input)."""

    activation: str
    init: str
    layers: np.ndarray  # 1..depth
    act_mean: np.ndarray  # (depth,) over samples and units of each hidden layer's output
    act_std: np.ndarray
    grad_mean: np.ndarray  # (depth,) dLoss / d(hidden output)
    grad_std: np.ndarray
    act_bins: np.ndarray  # histogram edges
    act_hist: np.ndarray  # (depth, bins) share of values per bin
    grad_bins: np.ndarray  # edges in log10 |gradient|
    grad_hist: np.ndarray  # (depth, bins)


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    clipped = np.clip(values, edges[0], edges[-1])
    counts, _ = np.histogram(clipped, bins=edges)
    return counts / max(values.size, 1)


def init_statistics(activation: str, init: str = "default", depth: int = 10, width: int = 64,
                    n_samples: int = 512, seed: int = 0, weight_scale: float = 1.0,
                    **params: float) -> InitStats:
    """Push standard-normal inputs through a fresh ``depth``-layer MLP and measure every layer.

    The loss is half the summed squared error against standard-normal targets,
    so a gradient's size does not depend on ``n_samples``. ``weight_scale``
    multiplies every initial weight (above 1 the signal explodes).
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {tuple(INITS)}, got {init!r}")
    if not 1 <= depth <= 10:
        raise ValueError(f"depth must lie in 1..10, got {depth}")
    if width < 1 or n_samples < 1:
        raise ValueError("width and n_samples must be >= 1")
    if not 0 < weight_scale <= 4:
        raise ValueError(f"weight_scale must lie in (0, 4], got {weight_scale}")
    rng = torch.Generator().manual_seed(seed)
    x = torch.randn(n_samples, width, generator=rng)
    target = torch.randn(n_samples, 1, generator=rng)
    model = build_seeded(seed, lambda: MLP(width, 1, depth, width, activation, init, weight_scale, **params))
    hidden: list[Tensor] = []
    out = model(x, keep=hidden)
    for h in hidden:
        h.retain_grad()
    (0.5 * ((out - target) ** 2).sum()).backward()
    acts = [h.detach().numpy().ravel() for h in hidden]
    grads = [h.grad.numpy().ravel() for h in hidden]
    with np.errstate(divide="ignore"):
        logs = [np.log10(np.abs(g)) for g in grads]
    return InitStats(
        activation=activation, init=init, layers=np.arange(1, depth + 1),
        act_mean=np.array([a.mean() for a in acts]), act_std=np.array([a.std() for a in acts]),
        grad_mean=np.array([g.mean() for g in grads]), grad_std=np.array([g.std() for g in grads]),
        act_bins=ACT_BINS, act_hist=np.stack([_histogram(a, ACT_BINS) for a in acts]),
        grad_bins=GRAD_BINS, grad_hist=np.stack([_histogram(v, GRAD_BINS) for v in logs]),
    )


# -- data for the race --------------------------------------------------------
DATASETS = {
    "moons": "Two moons",
    "circles": "Circles",
    "spirals": "Spirals",
    "xor": "XOR",
    "blobs": "Gaussian blobs",
    "digits": "Digits (8 x 8 images, 10 classes)",
    "custom": "Your points",
}
PLANE = 2.0  # the built-in 2-D sets live in [-PLANE, PLANE]^2
MAX_POINTS = 2000
MIN_PER_CLASS = 2


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


def _two_d(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free points of a built-in 2-D set, in about [-1.5, 1.5]^2, and labels 0 / 1."""
    y = (np.arange(n) >= n // 2).astype(np.int64)
    u = rng.uniform(size=n)
    if kind == "moons":
        t = np.pi * u
        x = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
        x = (x - [0.5, 0.25]) * 1.2
    elif kind == "circles":
        r = np.where(y == 0, 1.25, 0.5)
        x = r[:, None] * np.c_[np.cos(2 * np.pi * u), np.sin(2 * np.pi * u)]
    elif kind == "spirals":
        r = 0.1 + 1.4 * u
        angle = 1.75 * 2 * np.pi * u + np.pi * y
        x = r[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    elif kind == "xor":
        x = rng.uniform(-1.0, 1.0, size=(n, 2))
        x = np.sign(x) * (0.1 + 1.3 * np.abs(x))
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    else:  # blobs: two round Gaussian clusters (their own spread; the noise adds more)
        centres = np.array([[-0.7, -0.5], [0.7, 0.5]])
        x = centres[y] + 0.3 * rng.standard_normal((n, 2))
    return x, y


def make_data(config: RaceConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clean inputs, unit noise, labels) for ``config``: the inputs are clean + noise * unit noise.

    The unit noise is drawn once from the seed, so a live change of the noise
    level moves every point smoothly along its own direction.
    """
    rng = np.random.default_rng(config.seed)
    if config.dataset == "digits":
        images, labels = _digits()
        keep = rng.permutation(len(labels))[: min(config.n_points, len(labels))]
        clean, y = images[keep], labels[keep]
    elif config.dataset == "custom":
        pts = validate_points(config.points)
        clean, y = pts[:, :2], pts[:, 2].astype(np.int64)
    else:
        clean, y = _two_d(config.dataset, config.n_points, rng)
    unit = rng.standard_normal(clean.shape)
    return clean.astype(np.float32), unit.astype(np.float32), y


def validate_points(points) -> np.ndarray:
    """Check a 2-D point set with labels; return it as a float (n, 3) array, labels 0 / 1.

    ``points`` is a sequence of (x, y, label) rows. The two label values, in
    sorted order, become 0 and 1. Raises ValueError with one sentence for the
    learner when the set cannot train a race.
    """
    arr = np.asarray(points, dtype=object)
    if arr.size == 0:
        raise ValueError(f"There are no points yet: add at least {MIN_PER_CLASS} points of each of two classes.")
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError("Each point needs three values: x, y and a class label.")
    if len(arr) > MAX_POINTS:
        raise ValueError(f"There are {len(arr):,} points; the limit is {MAX_POINTS:,}.")
    try:
        values = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("Every x, y and label must be a number.") from None
    if not np.all(np.isfinite(values)):
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0]) + 1
        raise ValueError(f"Point {row} has a missing, NaN or infinite value.")
    classes = np.unique(values[:, 2])
    if len(classes) < 2:
        raise ValueError(f"All {len(values)} points have the label {classes[0]:g}: add points of a second class.")
    if len(classes) > 2:
        shown = ", ".join(f"{c:g}" for c in classes[:5])
        raise ValueError(f"The labels must take exactly two values; these points have {len(classes)}: {shown}.")
    labels = (values[:, 2] == classes[1]).astype(np.float64)
    smallest = int(min(labels.sum(), len(labels) - labels.sum()))
    if smallest < MIN_PER_CLASS:
        raise ValueError(f"Each class needs at least {MIN_PER_CLASS} points; one has only {smallest}.")
    return np.c_[values[:, :2], labels]


def points_from_csv(data: str | bytes) -> tuple[tuple[float, float, int], ...]:
    """Read an uploaded CSV with the columns ``x,y,label`` (a header row; other columns are ignored).

    Labels may be two numbers or two words; in sorted order they become 0 and 1.
    Returns the rows ready for ``RaceConfig(dataset="custom", points=...)`` or
    raises ValueError with one sentence saying what is wrong with the file.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("The file is not a text (UTF-8) CSV file.") from None
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ValueError("The file is empty: it needs a header row x,y,label and one row per point.")
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in ("x", "y", "label") if c not in header]
    if missing:
        raise ValueError(f"The file needs the columns x, y and label in its first row; it lacks {', '.join(missing)}.")
    body = rows[1:]
    if len(body) > MAX_POINTS:
        raise ValueError(f"The file has {len(body):,} rows of points; the limit is {MAX_POINTS:,}.")
    cols = [header.index(c) for c in ("x", "y", "label")]
    coords, labels = [], []
    for line, row in enumerate(body, start=2):
        if len(row) <= max(cols):
            raise ValueError(f"Line {line} has {len(row)} values; it needs x, y and label.")
        cells = [row[i].strip() for i in cols]
        for name, cell in zip(("x", "y"), cells[:2], strict=True):
            if cell == "" or cell.lower() in {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}:
                raise ValueError(f"Line {line} has a missing, NaN or infinite {name}: {cell or 'empty'}.")
            try:
                float(cell)
            except ValueError:
                raise ValueError(f"Line {line} has {name} = {cell!r}, which is not a number.") from None
        if cells[2] == "" or cells[2].lower() == "nan":
            raise ValueError(f"Line {line} has a missing or NaN label.")
        coords.append((float(cells[0]), float(cells[1])))
        labels.append(cells[2])
    try:
        keys = [float(v) for v in labels]
    except ValueError:
        keys = labels  # words: sorted alphabetically
    classes = sorted(set(keys))
    if len(classes) == 1:
        raise ValueError(f"Every row has the label {labels[0]}: the file needs points of two classes.")
    if len(classes) > 2:
        shown = ", ".join(str(c) for c in classes[:5])
        raise ValueError(f"The labels must take exactly two values; the file has {len(classes)}: {shown}.")
    points = tuple((x, y, int(k == classes[1])) for (x, y), k in zip(coords, keys, strict=True))
    validate_points(points)
    return points


# -- the race -----------------------------------------------------------------
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}


@dataclass(frozen=True)
class Racer:
    """One network in the race. ``param`` is the activation's shape parameter (None: the default)."""

    activation: str = "relu"
    depth: int = 2
    width: int = 16
    init: str = "default"
    param: float | None = None

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {self.activation!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {tuple(INITS)}, got {self.init!r}")
        if not 1 <= self.depth <= 10:
            raise ValueError(f"depth must lie in 1..10, got {self.depth}")
        if not 1 <= self.width <= 128:
            raise ValueError(f"width must lie in 1..128, got {self.width}")
        if self.param is not None:
            spec = PARAMETERS.get(self.activation)
            if spec is None:
                raise ValueError(f"{self.activation} has no shape parameter")
            if not spec.low <= self.param <= spec.high:
                raise ValueError(f"{spec.name} must lie in [{spec.low}, {spec.high}], got {self.param}")

    @property
    def params(self) -> dict[str, float]:
        return {} if self.param is None else {PARAMETERS[self.activation].name: self.param}

    @property
    def label(self) -> str:
        name = LABELS[self.activation]
        if self.param is not None:
            name += f" ({PARAMETERS[self.activation].symbol} = {self.param:g})"
        return f"{name}, {self.depth} x {self.width}, {INIT_NAMES[self.init]} init"


@dataclass(frozen=True)
class RaceConfig:
    """Everything that defines a race; ``LIVE_FIELDS`` change a running race without a restart."""

    LIVE_FIELDS = ("lr", "noise", "batch_size", "max_steps")

    dataset: str = "moons"
    noise: float = 0.1  # std of the Gaussian jitter added to every input
    n_points: int = 400  # built-in sets (digits: at most 1,797)
    racers: tuple[Racer, ...] = (Racer("relu"), Racer("tanh"), Racer("swish"), Racer("mish"))
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int = 32  # >= the number of points: full batch
    max_steps: int = 3000
    seed: int = 0
    points: tuple[tuple[float, float, float], ...] = ()  # the "custom" set: (x, y, label) rows

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {tuple(DATASETS)}, got {self.dataset!r}")
        if not 0.0 <= self.noise <= 1.0:
            raise ValueError(f"noise must lie in [0, 1], got {self.noise}")
        if not 20 <= self.n_points <= MAX_POINTS:
            raise ValueError(f"n_points must lie in 20..{MAX_POINTS}, got {self.n_points}")
        if not 2 <= len(self.racers) <= 4 or not all(isinstance(r, Racer) for r in self.racers):
            raise ValueError("a race needs 2 to 4 Racer entries")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {tuple(OPTIMIZERS)}, got {self.optimizer!r}")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 100):
            raise ValueError(f"lr must lie in (0, 100], got {self.lr}")
        if self.batch_size < 1 or self.max_steps < 1:
            raise ValueError("batch_size and max_steps must be >= 1")
        if self.dataset == "custom":
            validate_points(self.points)


@dataclass
class RacerSnapshot:
    """One racer's state: plain arrays and numbers."""

    label: str
    activation: str
    step: int  # steps this racer has trained (it stays put once stopped)
    error: str | None
    loss_steps: np.ndarray  # (steps,)
    losses: np.ndarray  # mini-batch cross-entropy per step, nats
    eval_steps: np.ndarray  # (evals,) every EVAL_EVERY steps, on all the data
    eval_loss: np.ndarray  # nats
    accuracy: np.ndarray  # share correct
    grad_norms: np.ndarray  # (evals, layers): |dLoss/dW| per layer, the output layer last
    dead_fraction: np.ndarray  # (evals,) share of hidden units that output 0 for every input
    dead_per_layer: np.ndarray  # (depth,) now
    proba: np.ndarray | None  # (m, m) P(class 1) on the grid, [i, j] at (grid_x[j], grid_y[i]); None for digits


@dataclass
class RaceSnapshot(Snapshot):
    dataset: str = ""
    n_classes: int = 2
    points: np.ndarray | None = None  # (n, 2) the current inputs (2-D sets only)
    labels: np.ndarray | None = None  # (n,)
    grid_x: np.ndarray | None = None  # (m,) heatmap axes in the plane's units
    grid_y: np.ndarray | None = None
    racers: tuple[RacerSnapshot, ...] = ()
    change_steps: np.ndarray | None = None  # steps at which a live setting changed


class _Eval(NamedTuple):
    """One measurement of a racer on all the data."""

    step: int
    loss: float
    accuracy: float
    grad_norms: np.ndarray  # per layer, the output layer last
    dead: float  # share of all hidden units
    dead_per_layer: np.ndarray


class _Runner:
    """One racer's model, optimiser and history."""

    def __init__(self, spec: Racer, model: MLP, optimizer: torch.optim.Optimizer) -> None:
        self.spec, self.model, self.opt = spec, model, optimizer
        self.step = 0
        self.error: str | None = None
        self.losses: list[np.ndarray] = []
        self.evals: list[_Eval] = []

    @property
    def running(self) -> bool:
        return self.error is None

    def checkpoint(self) -> tuple:
        """Copies of the weights and the optimiser's state (cloning tensors: far cheaper than deepcopy)."""
        weights = [p.detach().clone() for p in self.model.parameters()]
        state = {p: {k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()}
                 for p, s in self.opt.state.items()}
        return weights, state

    def restore(self, saved: tuple) -> None:
        weights, state = saved
        with torch.no_grad():
            for p, w in zip(self.model.parameters(), weights, strict=True):
                p.copy_(w)
        self.opt.state.clear()
        self.opt.state.update(state)


class RaceTrainer(GuardedTrainer):
    """Two to four MLPs trained side by side on the same mini-batches.

    Racers with the same input size, depth, width and init start from the
    same weights (built from the same seed). The base's ``advance`` runs chunks of
    ``EVAL_EVERY`` steps; ``_guarded_chunk`` guards each racer on its own: a racer whose loss turns
    NaN, infinite or above ``loss_limit``, or whose weights turn non-finite,
    goes back to its state at the start of the chunk and stops with its own
    message while the others go on. The whole trainer stops (``error``) only
    when every racer has.
    """

    loss_limit = 1e4
    divergence_hint = "Its learning rate is too high for it: lower the rate and press Reset."
    EVAL_EVERY = 10  # steps between measurements on all the data; chunks end at its multiples
    chunk_every = EVAL_EVERY
    GRID = 41

    def __init__(self, config: RaceConfig | None = None, device: torch.device | None = None) -> None:
        config = RaceConfig() if config is None else config
        super().__init__(config, max_steps=config.max_steps, device=device)
        self.clean, self.unit, y = make_data(config)
        self.n_classes = 10 if config.dataset == "digits" else 2
        self.two_d = config.dataset != "digits"
        # custom points: centre them and scale them into the built-in sets' box for the networks
        if config.dataset == "custom":
            lo, hi = self.clean.min(axis=0), self.clean.max(axis=0)
            self.shift = (lo + hi) / 2
            self.scale = np.float32(max(float(np.max(hi - lo)) / 3.0, 1e-6))
        else:
            self.shift, self.scale = np.zeros(self.clean.shape[1], np.float32), np.float32(1.0)
        self.y = torch.from_numpy(y).to(self.device)
        self._set_inputs(config.noise)
        self.runners = [self._build(spec) for spec in config.racers]
        self.rng = torch.Generator().manual_seed(config.seed)  # on the CPU: the same batches on any device
        self._grid_points = self._make_grid() if self.two_d else None
        for runner in self.runners:
            self._evaluate(runner)

    # -- building -------------------------------------------------------------
    def _build(self, spec: Racer) -> _Runner:
        n_in = self.clean.shape[1]
        model = build_seeded(self.config.seed, lambda: MLP(n_in, self.n_classes, spec.depth, spec.width,
                                                           spec.activation, spec.init, **spec.params))
        model = model.to(self.device)
        # fused kernels: one update for all of a net's tensors, about 2x faster steps for these tiny nets
        fused = self.device.type in ("cpu", "cuda")
        kind = torch.optim.Adam if self.config.optimizer == "adam" else torch.optim.SGD
        opt = kind(model.parameters(), lr=self.config.lr, fused=fused)
        return _Runner(spec, model, opt)

    def _set_inputs(self, noise: float) -> None:
        self.points_np = self.clean + np.float32(noise) * self.unit
        net_in = (self.points_np - self.shift) / self.scale
        self.x = torch.from_numpy(net_in.astype(np.float32)).to(self.device)

    def _make_grid(self) -> Tensor:
        if self.config.dataset == "custom":
            half = 1.15 * 1.5 * float(self.scale)  # the points span +-1.5 scale units
            centre = self.shift
        else:
            half, centre = PLANE, np.zeros(2, np.float32)
        self.grid_x = np.linspace(centre[0] - half, centre[0] + half, self.GRID, dtype=np.float32)
        self.grid_y = np.linspace(centre[1] - half, centre[1] + half, self.GRID, dtype=np.float32)
        gx, gy = np.meshgrid(self.grid_x, self.grid_y)  # gx varies along columns
        plane = np.stack([gx.ravel(), gy.ravel()], axis=1)
        return torch.from_numpy(((plane - self.shift) / self.scale).astype(np.float32)).to(self.device)

    # -- live settings ----------------------------------------------------------
    def _apply_live(self, old: RaceConfig, new: RaceConfig) -> None:
        if new.lr != old.lr:
            for runner in self.runners:
                self.set_lr(runner.opt, new.lr)
        if new.noise != old.noise:
            self._set_inputs(new.noise)
        self.max_steps = new.max_steps

    # -- the protocol -------------------------------------------------------------
    def _stateful(self):
        return [obj for r in self.runners for obj in (r.model, r.opt)]

    def _batch(self) -> tuple[Tensor, Tensor]:
        n = len(self.y)
        if self.config.batch_size >= n:
            return self.x, self.y
        idx = torch.randint(n, (self.config.batch_size,), generator=self.rng)
        if self.device.type != "cpu":
            idx = idx.to(self.device)
        return self.x[idx], self.y[idx]

    def _train_step(self) -> Tensor:
        """One step of every running racer on the same mini-batch; their losses (before the step)."""
        xb, yb = self._batch()
        losses = []
        for runner in self.runners:
            if not runner.running:
                continue
            runner.opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(runner.model(xb), yb)
            loss.backward()
            runner.opt.step()
            losses.append(loss.detach())
        return torch.stack(losses)

    def _guarded_chunk(self, n: int) -> bool:
        """``n`` steps with the guard per racer: a racer that diverged goes back to its state before the
        chunk and stops with its own message while the others go on. False only when every racer stopped."""
        running = [r for r in self.runners if r.running]
        saved = [r.checkpoint() for r in running]
        losses = torch.stack([self._train_step() for _ in range(n)]).float().cpu().numpy()
        good = []
        for j, (runner, state) in enumerate(zip(running, saved, strict=True)):
            column = losses[:, j]
            bad = np.flatnonzero(~np.isfinite(column) | (np.abs(np.nan_to_num(column)) > self.loss_limit))
            weights_ok = all(bool(torch.isfinite(p).all()) for p in runner.model.parameters())
            if not bad.size and weights_ok:
                good.append(j)
                continue
            runner.restore(state)
            row = int(bad[0]) if bad.size else n - 1
            value = float(column[row]) if bad.size else math.nan
            text = divergence_message(self.step + row + 1, value, self.divergence_hint)
            runner.error = f"{runner.spec.label}: " + text.replace("the chart shows", "its charts show")
            self._evaluate(runner)  # its last good state, measured
        if not good:  # the race clock stays where the last racer was good
            self.error = ("Every network diverged, so the race stopped; each chart shows that network's "
                          "last good state. Lower the learning rate and press Reset.")
            return False
        self._record(self.step, losses[:, good])
        self.step += n  # the race clock: as far as the racers still running got
        return True

    def _record(self, first_step: int, losses: np.ndarray) -> None:
        """Keep a chunk's losses per racer still running (one column each, in order), then measure."""
        for runner, column in zip([r for r in self.runners if r.running], losses.T, strict=True):
            runner.losses.append(column.astype(np.float32))
            runner.step = first_step + len(column)
        self._after_chunk(first_step, losses)

    def _after_chunk(self, first_step: int, losses: np.ndarray) -> None:
        """Measure the running racers on all the data every ``EVAL_EVERY`` steps and at ``max_steps``."""
        end = first_step + len(losses)
        if end % self.EVAL_EVERY == 0 or (self.max_steps is not None and end >= self.max_steps):
            for runner in self.runners:
                if runner.running:
                    self._evaluate(runner)

    # -- measurements -------------------------------------------------------------
    def _evaluate(self, runner: _Runner) -> None:
        """Loss, accuracy, per-layer gradient norms and dead units on all the data."""
        if runner.evals and runner.evals[-1].step == runner.step:
            return  # measured already
        model = runner.model
        hidden: list[Tensor] = []
        model.zero_grad(set_to_none=True)
        logits = model(self.x, keep=hidden)
        loss = F.cross_entropy(logits, self.y)
        loss.backward()
        with torch.no_grad():
            norms = torch.stack([layer.weight.grad.norm() for layer in model.layers]).cpu().numpy()
            dead = torch.stack([(h == 0).all(dim=0).float().mean() for h in hidden]).cpu().numpy()
            acc = float((logits.argmax(dim=1) == self.y).float().mean())
        model.zero_grad(set_to_none=True)
        # every hidden layer has the same width, so the share of all units is the mean over layers
        runner.evals.append(_Eval(runner.step, float(loss.detach()), acc, norms, float(dead.mean()), dead))

    @torch.no_grad()
    def _racer_snapshot(self, runner: _Runner) -> RacerSnapshot:
        losses = np.concatenate(runner.losses) if runner.losses else np.zeros(0, np.float32)
        ev = runner.evals
        proba = None
        if self._grid_points is not None:
            p = torch.softmax(runner.model(self._grid_points), dim=1)[:, 1]
            proba = p.reshape(self.GRID, self.GRID).cpu().numpy()
        return RacerSnapshot(
            label=runner.spec.label, activation=runner.spec.activation, step=runner.step, error=runner.error,
            loss_steps=np.arange(1, len(losses) + 1), losses=losses,
            eval_steps=np.array([e.step for e in ev], dtype=np.int64),
            eval_loss=np.array([e.loss for e in ev]), accuracy=np.array([e.accuracy for e in ev]),
            grad_norms=np.stack([e.grad_norms for e in ev]), dead_fraction=np.array([e.dead for e in ev]),
            dead_per_layer=ev[-1].dead_per_layer, proba=proba,
        )

    def snapshot(self) -> RaceSnapshot:
        racers = tuple(self._racer_snapshot(r) for r in self.runners)
        metrics = {}
        for i, r in enumerate(racers):
            metrics[f"accuracy_{i}"] = float(r.accuracy[-1])
            metrics[f"loss_{i}"] = float(r.eval_loss[-1])
        return RaceSnapshot(
            step=self.step, done=self.done, error=self.error, metrics=metrics, dataset=self.config.dataset,
            n_classes=self.n_classes, points=self.points_np.copy() if self.two_d else None,
            labels=self.y.cpu().numpy(), grid_x=getattr(self, "grid_x", None), grid_y=getattr(self, "grid_y", None),
            racers=racers, change_steps=np.array([s for s, _ in self.changes], dtype=np.int64),
        )


# -- presets --------------------------------------------------------------------
class Preset(NamedTuple):
    config: RaceConfig
    lesson: str


PRESETS: dict[str, Preset] = {
    "sigmoid in a deep net vanishes": Preset(
        RaceConfig(dataset="moons", noise=0.1, n_points=400, optimizer="sgd", lr=0.1, batch_size=32,
                   max_steps=500, seed=0,
                   racers=(Racer("sigmoid", 8, 16, "default"), Racer("relu", 8, 16, "he"),
                           Racer("tanh", 8, 16, "xavier"))),
        "Eight sigmoid layers with PyTorch's default init shrink the backward signal at every layer "
        "(sigmoid's slope is at most 1/4), so the first layer starts with a gradient over 100,000 times "
        "smaller than the last layer's and the net stays at chance (50 %), while ReLU with He init and tanh "
        "with Xavier init, just as deep, reach 100 % within 500 steps.",
    ),
    "ReLU with a large learning rate dies": Preset(
        RaceConfig(dataset="moons", noise=0.1, n_points=400, optimizer="sgd", lr=3.0, batch_size=32,
                   max_steps=1000, seed=0,
                   racers=(Racer("relu", 2, 16), Racer("leaky_relu", 2, 16), Racer("swish", 2, 16))),
        "With plain SGD at learning rate 3, the first ten steps push every unit of the ReLU net's second "
        "layer below zero for all points: those units output 0, get no gradient and never recover, so the "
        "net is stuck at chance (50 %), while Leaky ReLU and Swish, whose slope is never exactly 0, learn "
        "the moons at the same rate.",
    ),
    "Swish and Mish vs ReLU on spirals": Preset(
        RaceConfig(dataset="spirals", noise=0.05, n_points=400, optimizer="adam", lr=0.01, batch_size=32,
                   max_steps=1000, seed=0,
                   racers=(Racer("relu", 6, 8), Racer("swish", 6, 8), Racer("mish", 6, 8))),
        "Six narrow layers of 8 units from the same starting weights: at every check a quarter or more of "
        "the ReLU net's units are dead (they output 0 on every point, so they pass no gradient back) and it "
        "stays below 85 % accuracy, while Swish and Mish, whose slope is never exactly 0, wind their "
        "boundaries around both arms to 100 % within 1,000 steps.",
    ),
}


# -- the page's controls -------------------------------------------------------------
DEFAULT_FUNCTIONS = ("relu", "tanh", "swish", "mish")
LAB_WIDTHS = (8, 16, 32, 64, 128, 256)
LAB_SCALES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)
DATA_NAMES = {**DATASETS, "digits": "Digits (images)"}  # short enough for the box; the help has the rest
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
NOISES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
BATCHES = (8, 16, 32, 64, 128, MAX_POINTS)  # MAX_POINTS: all the points, full batch
SIZES = (100, 200, 400, 1000, 2000)
STEPS = (300, 500, 1000, 2000, 3000, 5000, 10_000)
WIDTHS = (2, 4, 8, 16, 32, 64, 128)
SLOTS = 4  # networks a race can have

# preset code in the link -> the preset's name in PRESETS ("default": the page's own starting race)
PRESET_CODES = {
    "default": None,
    "sigmoid-vanishes": "sigmoid in a deep net vanishes",
    "relu-dies": "ReLU with a large learning rate dies",
    "swish-mish-spirals": "Swish and Mish vs ReLU on spirals",
}


def preset_config(code: str) -> RaceConfig:
    """The race a preset loads (``default``: the page's own starting race)."""
    name = PRESET_CODES[code]
    return RaceConfig() if name is None else PRESETS[name].config


def preset_title(code: str) -> str:
    name = PRESET_CODES[code]
    return "Default: four activations on the moons" if name is None else name[:1].upper() + name[1:]


def _slot(k: int) -> list[Control]:
    """The four controls of network ``k`` (1-based); they start as the default race's network k."""
    racers = RaceConfig().racers
    start = racers[min(k, len(racers)) - 1]
    return [
        Control(f"net{k}_activation", "Activation", "selectbox", default=start.activation, options=tuple(ACTIVATIONS),
                format_func=LABELS.get, old=(f"act{k}",)),
        Control(f"net{k}_depth", "Hidden layers", "slider", default=start.depth, lo=1, hi=10, old=(f"depth{k}",)),
        Control(f"net{k}_width", "Units per layer", "select_slider", default=start.width, options=WIDTHS,
                old=(f"width{k}",)),
        Control(f"net{k}_init", "Initialisation", "selectbox", default=start.init, options=tuple(INITS),
                format_func=INIT_NAMES.get, old=(f"init{k}",)),
    ]


_SWISH, _LEAKY, _ELU = PARAMETERS["swish"], PARAMETERS["leaky_relu"], PARAMETERS["elu"]

# Every control of the page, in the order the page draws them. The race's controls set RaceConfig's
# fields (defaults from it); the others are the page's own settings. "functions" is a multiselect
# (written to the link as comma-separated names).
PARAMS = ParamTable(RaceConfig, [
    # 2 · Swish's beta first: the gallery's Swish uses it too
    Control("swish_beta", "Swish's β", "slider", default=_SWISH.default, lo=_SWISH.low, hi=_SWISH.high, step=0.05,
            old=("beta",), help="f(x) = x·σ(βx). β = 0 gives x/2; a large β bends it towards ReLU. The gallery "
                                "above draws Swish with this β too."),
    # 1 · the gallery
    Control("functions", "Functions", "multiselect", default=DEFAULT_FUNCTIONS, options=tuple(ACTIVATIONS),
            format_func=LABELS.get, widget_args={"placeholder": "Pick functions"}),
    Control("show_value", "f: the value (solid)", "toggle", default=True, old=("f",)),
    Control("show_slope", "f′: the slope (dashed)", "toggle", default=True, old=("df",)),
    Control("show_curvature", "f″: the curvature (dotted)", "toggle", default=False, old=("d2f",)),
    Control("leaky_slope", "Leaky ReLU's slope a", "slider", default=_LEAKY.default, lo=_LEAKY.low, hi=_LEAKY.high,
            step=0.01, old=("slope",), help=f"f(x) = a·x for x ≤ 0. PyTorch's default is {_LEAKY.default:g}."),
    Control("elu_alpha", "ELU's α", "slider", default=_ELU.default, lo=_ELU.low, hi=_ELU.high, step=0.1,
            old=("alpha",), help="f(x) = α(eˣ − 1) for x ≤ 0: the value f approaches far to the left is −α."),
    # 3 · the initialisation lab
    Control("lab_activation", "Activation", "selectbox", default="sigmoid", options=tuple(ACTIVATIONS),
            format_func=LABELS.get, old=("lab_act",)),
    Control("lab_init", "Initialisation", "selectbox", default="default", options=tuple(INITS),
            format_func=INIT_NAMES.get, help=" · ".join(INITS.values())),
    Control("lab_depth", "Hidden layers", "slider", default=10, lo=1, hi=10),
    Control("lab_width", "Units per layer", "select_slider", default=64, options=LAB_WIDTHS),
    Control("lab_weight_scale", "Weight scale", "select_slider", default=1.0, options=LAB_SCALES,
            old=("lab_scale",), format_func=lambda v: f"× {v:g}",
            help="Every initial weight is multiplied by this: above 1 the signal grows from layer to layer, "
                 "below 1 it shrinks."),
    # 4 · the race
    Control("preset", "Preset", "selectbox", default="default", options=tuple(PRESET_CODES), format_func=preset_title,
            help="A preset sets every control of the race; you can then change anything."),
    Control("networks", "Networks in the race", "slider", default=len(RaceConfig().racers), lo=2, hi=SLOTS,
            old=("racers",)),
    *(control for k in range(1, SLOTS + 1) for control in _slot(k)),
    Control("dataset", "Data", "selectbox", options=tuple(DATASETS), format_func=DATA_NAMES.get,
            help=f"{DATASETS['digits']}: scikit-learn's handwritten digits. "
                 "Your points: click them onto a plane that appears above, or upload a CSV."),
    Control("lr", "Learning rate (applies live)", "select_slider", options=LRS,
            help="Changing it while the race runs applies to the running networks."),
    Control("noise", "Noise (applies live)", "select_slider", options=NOISES,
            help="Standard deviation of the Gaussian jitter added to every input. Each point moves along its own "
                 "fixed random direction, so a change is smooth."),
    Control("optimizer", "Optimiser", "selectbox", options=tuple(OPTIMIZERS), format_func=OPTIMIZERS.get,
            old=("opt",)),
    Control("batch_size", "Mini-batch (applies live)", "select_slider", options=BATCHES, old=("batch",),
            format_func=lambda b: "all" if b >= MAX_POINTS else str(b)),
    Control("n_points", "Points (built-in sets)", "select_slider", options=SIZES, old=("size",),
            help="For the digits: at most as many images as the set holds."),
    Control("max_steps", "Stop after (steps)", "select_slider", options=STEPS, url="steps"),
    Control("seed", "Seed", "number", lo=0, hi=9999, step=1,
            help="The same seed gives the same data, first weights and mini-batches."),
])

# The race's controls: what a preset sets (the preset box itself excluded).
RACE_PARAMS = ParamTable(None, [PARAMS[name] for name in PARAMS.names()[PARAMS.names().index("networks"):]])


def race_values(config: RaceConfig) -> dict[str, Any]:
    """The value of each race control (by name) for ``config``; network slots beyond its racers are left out."""
    values: dict[str, Any] = {
        "networks": len(config.racers), "dataset": config.dataset, "lr": config.lr, "noise": config.noise,
        "optimizer": config.optimizer, "batch_size": config.batch_size if config.batch_size in BATCHES else MAX_POINTS,
        "n_points": config.n_points, "max_steps": config.max_steps, "seed": config.seed,
    }
    for k, racer in enumerate(config.racers, start=1):
        values.update({f"net{k}_activation": racer.activation, f"net{k}_depth": racer.depth,
                       f"net{k}_width": racer.width, f"net{k}_init": racer.init})
    return values
