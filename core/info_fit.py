"""Forward vs reverse KL: fit one Gaussian q to a two-peaked p, both ways.

p is an equal mixture of two unit-variance Gaussians at ``-gap/2`` and
``+gap/2``. Two copies of q = N(mu, sigma^2) start at the same place and
follow gradient descent (Adam on mu and log sigma):

- one minimises the forward KL ``KL(p || q) = E_p[log p - log q]``. It is
  infinite-averse where p has mass and q has none, so q stretches to cover
  both peaks; its minimiser is moment matching (mean 0, variance
  ``1 + gap^2 / 4``), which the tests check;
- the other minimises the reverse KL ``KL(q || p) = E_q[log q - log p]``. It
  punishes q for putting mass where p has none, so q settles on one peak
  (the one nearer its start) once the peaks are far apart.

``FitMath`` says how each objective is computed (closed forms plus
quadrature, so the fits stay right however far q wanders). Values in nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.params import Param, ParamTable
from core.trainer import GuardedTrainer, Snapshot

PLOT_POINTS = 801
PEAK_STD = 1.0
MAX_GAP = 10.0
STD_GRID = np.linspace(-10.0, 10.0, 2001)  # standardised x = mean + std * z, for E_q[...]
_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class KLFitConfig:
    gap: float = 7.0  # distance between p's two peaks
    start_mean: float = 1.0  # where both fits start
    start_std: float = 1.0
    lr: float = 0.05
    max_steps: int = 300

    def __post_init__(self) -> None:
        if not 0 <= self.gap <= MAX_GAP:
            raise ValueError(f"gap must lie in [0, {MAX_GAP:g}], got {self.gap}")
        if not abs(self.start_mean) <= 8:
            raise ValueError(f"start_mean must lie in [-8, 8], got {self.start_mean}")
        if not 0.1 <= self.start_std <= 6:
            raise ValueError(f"start_std must lie in [0.1, 6], got {self.start_std}")
        if not self.lr > 0 or self.max_steps < 1:
            raise ValueError("lr must be > 0 and max_steps >= 1")


# The fit's controls on the entropy page (its second tab); the rest of the config keeps its defaults.
PARAMS = ParamTable(KLFitConfig, [
    Param("gap", "Gap between the two peaks", "slider", lo=0.0, hi=MAX_GAP, step=0.5, url="peak_gap", old=("gap",),
          help="Each peak is a Gaussian with standard deviation 1; the gap is the distance between them."),
    Param("start_mean", "Where both fits start (mean of q at step 0)", "slider", lo=-3.0, hi=3.0, step=0.5,
          old=("mu0",),
          help="The reverse fit settles on the peak nearer its start; starting exactly at 0 it "
               "stays balanced between them."),
])


def plot_grid(gap: float) -> np.ndarray:
    """Where the densities are drawn: both peaks and the widest sensible fit."""
    half = gap / 2 + 4 * PEAK_STD + 0.5 * gap
    return np.linspace(-half, half, PLOT_POINTS)


def mixture_log_density(x, gap: float):
    """log p(x) for the equal two-peak mixture, computed stably (NumPy or torch)."""
    a = -0.5 * ((x + gap / 2) / PEAK_STD) ** 2
    b = -0.5 * ((x - gap / 2) / PEAK_STD) ** 2
    const = math.log(0.5) - 0.5 * _LOG_2PI - math.log(PEAK_STD)
    if isinstance(x, torch.Tensor):
        return torch.logaddexp(a, b) + const
    return np.logaddexp(a, b) + const


def gaussian_log_density(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std) - 0.5 * _LOG_2PI


def mixture_entropy(gap: float) -> float:
    """H(p) in nats, by a fine Riemann sum over +-(gap/2 + 12 std)."""
    half = gap / 2 + 12 * PEAK_STD
    x, dx = np.linspace(-half, half, 24001, retstep=True)
    log_p = mixture_log_density(x, gap)
    return float(-(np.exp(log_p) * log_p).sum() * dx)


def moment_match(gap: float) -> tuple[float, float]:
    """The Gaussian with p's mean and variance: the exact minimiser of KL(p || q)."""
    return 0.0, math.sqrt(PEAK_STD**2 + gap**2 / 4)


class Gaussian(nn.Module):
    """q = N(mean, exp(log_std)^2) with both numbers trainable."""

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.tensor(float(mean), dtype=torch.float64))
        self.log_std = nn.Parameter(torch.tensor(math.log(std), dtype=torch.float64))

    def entropy(self) -> torch.Tensor:
        """Differential entropy of q (nats): 0.5 log(2 pi e sigma^2)."""
        return self.log_std + 0.5 * (_LOG_2PI + 1.0)

    def params(self) -> tuple[float, float]:
        return float(self.mean.detach()), float(self.log_std.detach().exp())


class FitMath:
    """The two KL objectives of q against p, exact up to quadrature error.

    ``KL(p || q) = -H(p) - E_p[log q]``: E_p[log q] is closed-form, since p has
    mean 0 and variance ``1 + gap^2/4``; H(p) is a constant from a fine sum.
    ``KL(q || p) = -H(q) - E_q[log p]``: H(q) is closed-form, E_q[log p] is a
    sum over ``x = mean + std * z`` for 2,001 z in [-10, 10], weighted by the
    standard normal density, so it follows q wherever it goes (it agrees with
    SciPy's adaptive quadrature to about 1e-12).
    """

    def __init__(self, gap: float, device: torch.device) -> None:
        self.gap = gap
        self.h_p = mixture_entropy(gap)
        self.var_p = PEAK_STD**2 + gap**2 / 4
        dz = STD_GRID[1] - STD_GRID[0]
        self.z = torch.from_numpy(STD_GRID).to(device)
        self.weights = torch.from_numpy(np.exp(-0.5 * STD_GRID**2) / math.sqrt(2 * math.pi) * dz).to(device)

    def forward_kl(self, q: Gaussian) -> torch.Tensor:
        """KL(p || q)."""
        var_q = torch.exp(2 * q.log_std)
        e_p_log_q = -0.5 * _LOG_2PI - q.log_std - (self.var_p + q.mean**2) / (2 * var_q)
        return -self.h_p - e_p_log_q

    def reverse_kl(self, q: Gaussian) -> torch.Tensor:
        """KL(q || p)."""
        x = q.mean + q.log_std.exp() * self.z
        e_q_log_p = (self.weights * mixture_log_density(x, self.gap)).sum()
        return -q.entropy() - e_q_log_p


@dataclass
class KLFitSnapshot(Snapshot):
    x: np.ndarray | None = None
    p: np.ndarray | None = None
    q_forward: np.ndarray | None = None  # density of the fit that minimises KL(p || q)
    q_reverse: np.ndarray | None = None  # density of the fit that minimises KL(q || p)
    forward_params: tuple[float, float] = (0.0, 1.0)  # (mean, std)
    reverse_params: tuple[float, float] = (0.0, 1.0)
    steps: np.ndarray | None = None
    forward_kl: np.ndarray | None = None  # nats, per step (index 0 = start)
    reverse_kl: np.ndarray | None = None
    gap: float = 0.0


class KLFitTrainer(GuardedTrainer):
    """Both fits advance together: one train step is one Adam step for each."""

    divergence_hint = "Lower the learning rate and press Reset."

    def __init__(self, config: KLFitConfig, device: torch.device | None = None) -> None:
        super().__init__(config, max_steps=config.max_steps, device=device)
        if self.device.type == "mps":  # MPS has no float64; this fit is tiny anyway
            self.device = torch.device("cpu")
        self.math = FitMath(config.gap, self.device)
        self.q_fwd = Gaussian(config.start_mean, config.start_std).to(self.device)
        self.q_rev = Gaussian(config.start_mean, config.start_std).to(self.device)
        self.opt_fwd = torch.optim.Adam(self.q_fwd.parameters(), lr=config.lr)
        self.opt_rev = torch.optim.Adam(self.q_rev.parameters(), lr=config.lr)
        with torch.no_grad():  # step 0's values; later steps' are the losses in ``loss_history``
            self._start = np.array([float(self.math.forward_kl(self.q_fwd)), float(self.math.reverse_kl(self.q_rev))])

    def _stateful(self):
        return (self.q_fwd, self.q_rev, self.opt_fwd, self.opt_rev)

    def _train_step(self) -> torch.Tensor:
        for q, opt, objective in (
            (self.q_fwd, self.opt_fwd, self.math.forward_kl),
            (self.q_rev, self.opt_rev, self.math.reverse_kl),
        ):
            opt.zero_grad(set_to_none=True)
            loss = objective(q)
            loss.backward()
            opt.step()
        # the losses were measured before each step: report the values after it
        with torch.no_grad():
            return torch.stack([self.math.forward_kl(self.q_fwd), self.math.reverse_kl(self.q_rev)])

    def snapshot(self) -> KLFitSnapshot:
        _, losses = self.loss_history
        hist = np.vstack([self._start, losses]) if len(losses) else self._start[None]
        fwd, rev = self.q_fwd.params(), self.q_rev.params()
        x = plot_grid(self.config.gap)
        return KLFitSnapshot(
            step=self.step,
            done=self.done,
            error=self.error,
            metrics={"forward_kl": float(hist[-1, 0]), "reverse_kl": float(hist[-1, 1])},
            x=x,
            p=np.exp(mixture_log_density(x, self.config.gap)),
            q_forward=np.exp(gaussian_log_density(x, *fwd)),
            q_reverse=np.exp(gaussian_log_density(x, *rev)),
            forward_params=fwd,
            reverse_params=rev,
            steps=np.arange(len(hist)),
            forward_kl=hist[:, 0],
            reverse_kl=hist[:, 1],
            gap=self.config.gap,
        )
