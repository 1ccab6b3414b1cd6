"""A tiny live regression: a small MLP learns a 1-D curve from noisy points.

It is the smallest real user of the trainer protocol (``core.trainer``): the
home page trains it live, and the tests use it to check the protocol, the
divergence guard and the device handling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.params import Param, ParamTable
from core.trainer import GuardedTrainer, Snapshot, build_seeded

TARGETS = {
    "sine": lambda x: np.sin(x),
    "step": lambda x: np.where(x < 0.0, -0.8, 0.8),
    "abs": lambda x: np.abs(x) - 1.5,
    "cubic": lambda x: 0.08 * x**3 - 0.5 * x,
}
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "silu": nn.SiLU}
OPTIMIZERS = ("sgd", "adam")  # sgd: with momentum 0.9
OPTIMIZER_NAMES = {"sgd": "SGD + momentum", "adam": "Adam"}
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
HIDDEN_SIZES = (2, 4, 8, 16, 32, 64, 128)
X_RANGE = (-np.pi, np.pi)


@dataclass(frozen=True)
class RegressionConfig:
    LIVE_FIELDS = ("lr",)  # applies to the running optimiser; the rest restarts the run

    target: str = "sine"
    n_points: int = 64
    noise: float = 0.1
    hidden: int = 32
    activation: str = "tanh"
    optimizer: str = "sgd"
    lr: float = 0.03
    max_steps: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {sorted(TARGETS)}, got {self.target!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.n_points < 2:
            raise ValueError(f"n_points must be >= 2, got {self.n_points}")
        if self.noise < 0:
            raise ValueError(f"noise must be >= 0, got {self.noise}")
        if self.hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {self.hidden}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


# The home page's controls, in the order they are drawn (defaults: RegressionConfig's).
PARAMS = ParamTable(RegressionConfig, [
    Param("target", "Target curve", "selectbox", options=tuple(TARGETS)),
    Param("activation", "Activation", "selectbox", options=tuple(ACTIVATIONS), old=("act",)),
    Param("optimizer", "Optimiser", "selectbox", options=OPTIMIZERS, format_func=OPTIMIZER_NAMES.get,
          old=("opt",)),
    Param("lr", "Learning rate", "select_slider", options=LRS),
    Param("hidden", "Hidden units per layer", "select_slider", options=HIDDEN_SIZES, url="hidden_units",
          old=("hidden",)),
])


def make_data(config: RegressionConfig) -> tuple[np.ndarray, np.ndarray]:
    """Noisy samples of the target curve, reproducible from ``config.seed``."""
    rng = np.random.default_rng(config.seed)
    x = np.sort(rng.uniform(*X_RANGE, size=config.n_points))
    y = TARGETS[config.target](x) + config.noise * rng.standard_normal(config.n_points)
    return x.astype(np.float32), y.astype(np.float32)


@dataclass
class RegressionSnapshot(Snapshot):
    x: np.ndarray | None = None  # the training points
    y: np.ndarray | None = None
    grid: np.ndarray | None = None  # where the fitted curve is drawn
    fit: np.ndarray | None = None
    truth: np.ndarray | None = None  # the noiseless target on the grid
    loss_steps: np.ndarray | None = None
    losses: np.ndarray | None = None
    blowup_steps: np.ndarray | None = None  # the diverged chunk's losses, up to the first bad one
    blowup_losses: np.ndarray | None = None


class RegressionTrainer(GuardedTrainer):
    """Full-batch SGD with momentum (or Adam) on mean squared error."""

    def __init__(self, config: RegressionConfig, device: torch.device | None = None) -> None:
        super().__init__(config, max_steps=config.max_steps, device=device)
        self.x_np, self.y_np = make_data(config)
        self.x = torch.from_numpy(self.x_np).to(self.device).unsqueeze(1)
        self.y = torch.from_numpy(self.y_np).to(self.device).unsqueeze(1)
        act = ACTIVATIONS[config.activation]
        self.model = build_seeded(
            config.seed,
            lambda: nn.Sequential(
                nn.Linear(1, config.hidden), act(), nn.Linear(config.hidden, config.hidden), act(),
                nn.Linear(config.hidden, 1),
            ),
        ).to(self.device)
        if config.optimizer == "adam":
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        else:
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=0.9)
        self.grid_np = np.linspace(*X_RANGE, 200, dtype=np.float32)
        self._grid = torch.from_numpy(self.grid_np).to(self.device).unsqueeze(1)

    def _stateful(self):
        return (self.model, self.optimizer)

    def _apply_live(self, old: RegressionConfig, new: RegressionConfig) -> None:
        self.set_lr(self.optimizer, new.lr)

    def _train_step(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def current_loss(self) -> float:
        return float(nn.functional.mse_loss(self.model(self.x), self.y))

    @torch.no_grad()
    def snapshot(self) -> RegressionSnapshot:
        fit = self.model(self._grid).squeeze(1).cpu().numpy()
        loss_steps, losses = self.loss_history  # every good step's loss, kept by the base
        return RegressionSnapshot(
            step=self.step,
            done=self.done,
            error=self.error,
            metrics={"mse": self.current_loss()},
            x=self.x_np,
            y=self.y_np,
            grid=self.grid_np,
            fit=fit,
            truth=TARGETS[self.config.target](self.grid_np),
            loss_steps=loss_steps,
            losses=losses[:, 0] if len(losses) else np.zeros(0),
            blowup_steps=None if self.blowup is None else self.blowup[0],
            blowup_losses=None if self.blowup is None else self.blowup[1][:, 0],
        )
