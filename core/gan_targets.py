"""Two-dimensional target distributions for the GAN page, and how to score a generator.

Every target lives in the square ``[-3, 3] x [-3, 3]`` (``EXTENT``), so one
heatmap grid and one histogram grid serve them all.

- ``sample_target(name, n, seed)``: ``n`` points of a target, reproducible.
- ``MODES``: for the mixture targets (the ring, the grid, the blobs) the
  centres and the common standard deviation of their Gaussians.
- ``mode_shares`` / ``mode_coverage``: how many modes a set of samples covers.
  A mode counts when at least ``min_share`` of the samples fall within three
  standard deviations of its centre; by default ``min_share = 0.4 / modes``,
  which is the 5 % of the 8-mode ring (0.4 x 12.5 %).
- ``histogram`` / ``divergences``: KL and JS divergence (in bits) between the
  target and a set of samples, measured on a 30 x 30 grid of cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

EXTENT = 3.0  # every target lies in [-EXTENT, EXTENT]^2
TARGET_LABELS = {
    "ring8": "Ring of 8 Gaussians",
    "grid25": "5 x 5 grid of Gaussians",
    "moons": "Two moons",
    "spiral": "Spiral",
    "line": "Line segment",
    "blobs2": "Two blobs",
    "blobs3": "Three blobs",
}
TARGETS = tuple(TARGET_LABELS)


@dataclass(frozen=True)
class Modes:
    """The Gaussians of a mixture target: equal weights, one common std."""

    centres: np.ndarray  # (k, 2)
    std: float


def _ring_centres(k: int, radius: float) -> np.ndarray:
    angles = 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


_GRID = np.arange(-2.0, 3.0, 1.0)
MODES: dict[str, Modes] = {
    "ring8": Modes(_ring_centres(8, 2.0), 0.02),
    "grid25": Modes(np.stack(np.meshgrid(_GRID, _GRID, indexing="ij"), axis=-1).reshape(-1, 2), 0.05),
    "blobs2": Modes(np.array([[-1.5, 0.0], [1.5, 0.0]]), 0.15),
    "blobs3": Modes(_ring_centres(3, 1.5) @ np.array([[0.0, 1.0], [-1.0, 0.0]]), 0.15),
}


def has_modes(target: str) -> bool:
    """True for the mixture targets, whose modes ``mode_coverage`` counts."""
    return target in MODES


def _check_target(name: str) -> None:
    if name not in TARGET_LABELS:
        raise ValueError(f"target must be one of {TARGETS}, got {name!r}")


def sample_target(name: str, n: int, seed: int) -> np.ndarray:
    """``n`` points drawn from target ``name``, as a float32 array of shape (n, 2).

    The same ``(name, n, seed)`` always gives the same points.

    >>> sample_target("ring8", 3, seed=0).shape
    (3, 2)
    """
    _check_target(name)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    if name in MODES:
        modes = MODES[name]
        which = rng.integers(len(modes.centres), size=n)
        points = modes.centres[which] + modes.std * rng.standard_normal((n, 2))
    elif name == "moons":
        upper = rng.random(n) < 0.5
        t = np.pi * rng.random(n)
        x = np.where(upper, np.cos(t), 1.0 - np.cos(t))
        y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
        points = 1.6 * (np.stack([x, y], axis=1) - [0.5, 0.25]) + 0.06 * rng.standard_normal((n, 2))
    elif name == "spiral":
        # Two turns; points spread evenly along the arc (arc length ~ t^2).
        t = 4 * np.pi * np.sqrt(0.04 + 0.96 * rng.random(n))
        r = 2.5 * t / (4 * np.pi)
        points = np.stack([r * np.cos(t), r * np.sin(t)], axis=1) + 0.05 * rng.standard_normal((n, 2))
    else:  # line
        s = rng.uniform(-1.0, 1.0, size=n)
        points = np.stack([2.0 * s, 1.0 * s], axis=1) + 0.03 * rng.standard_normal((n, 2))
    return points.astype(np.float32)


def mode_shares(samples: np.ndarray, target: str) -> np.ndarray:
    """For each mode of ``target``, the fraction of ``samples`` within 3 std of its centre."""
    _check_target(target)
    if target not in MODES:
        raise ValueError(f"target {target!r} is not a mixture of Gaussians: it has no modes to count")
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    if len(samples) == 0:
        raise ValueError("need at least one sample")
    modes = MODES[target]
    dist = np.linalg.norm(samples[:, None, :] - modes.centres[None, :, :], axis=2)
    return (dist <= 3 * modes.std).mean(axis=0)


def default_min_share(target: str) -> float:
    """0.4 of a mode's fair share: 5 % for the 8-mode ring."""
    return 0.4 / len(MODES[target].centres)


def mode_coverage(samples: np.ndarray, target: str, min_share: float | None = None) -> int:
    """How many modes of ``target`` receive at least ``min_share`` of ``samples``
    within three standard deviations of their centre.

    ``min_share`` defaults to ``0.4 / number of modes`` (5 % for ``ring8``:
    100 of 2,000 samples). Samples are best 2,000 fresh generator outputs.
    """
    shares = mode_shares(samples, target)
    threshold = default_min_share(target) if min_share is None else min_share
    return int(np.sum(shares >= threshold))


def high_quality_share(samples: np.ndarray, target: str) -> float:
    """The fraction of samples within 3 std of SOME mode (the rest fall between modes)."""
    shares = mode_shares(samples, target)
    return float(shares.sum())  # the 3-std discs of a target never overlap


# -- divergences on a grid ------------------------------------------------
BINS = 30
SMOOTHING = 0.5  # pseudo-count added to every cell before normalising


def histogram(samples: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Smoothed cell probabilities of ``samples`` on a ``bins x bins`` grid over the plane.

    Points outside ``[-3, 3]^2`` are clipped onto the border cells, so every
    sample counts; every cell gets a pseudo-count of 0.5 so that no
    probability is zero and KL stays finite.
    """
    samples = np.clip(np.asarray(samples, dtype=np.float64).reshape(-1, 2), -EXTENT, EXTENT)
    edges = np.linspace(-EXTENT, EXTENT, bins + 1)
    counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=[edges, edges])
    counts = counts.ravel() + SMOOTHING
    return counts / counts.sum()


@lru_cache(maxsize=16)
def reference_histogram(target: str, bins: int = BINS) -> np.ndarray:
    """The target's cell probabilities, estimated from 200,000 samples (fixed seed)."""
    return histogram(sample_target(target, 200_000, seed=20_240_601), bins)


def divergences(samples: np.ndarray, target: str) -> tuple[float, float]:
    """(KL(target || samples), JS(target, samples)) in bits, on the 30 x 30 grid."""
    p = reference_histogram(target)
    q = histogram(samples)
    kl = float(np.sum(p * np.log2(p / q)))
    m = 0.5 * (p + q)
    js = float(0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m)))
    return kl, js


@lru_cache(maxsize=16)
def perfect_divergences(target: str, n: int = 2000) -> tuple[float, float]:
    """The KL and JS a PERFECT generator scores with ``n`` samples (fresh target samples):
    the floor set by sampling noise, drawn on the page as a reference line."""
    return divergences(sample_target(target, n, seed=7), target)
