"""The one shape every live trainer has.

A trainer is built from a config dataclass, holds its model(s) on
``core.device.pick()``'s device, and advances by N steps with
``train(steps) -> snapshot``. A snapshot is small and plain (NumPy arrays and
Python numbers), so figure builders and tests never touch torch.

``GuardedTrainer`` implements the loop once for every topic:

- steps run in chunks; losses stay on the device and are checked for NaN /
  infinity / blow-up once per chunk (one device sync per chunk, not per step);
- before each chunk the model and optimiser state is saved, and a diverged
  chunk is rolled back, so the screen keeps the last good state and
  ``error`` says why training stopped;
- ``done`` turns true at ``max_steps``.

Subclasses provide ``_stateful()``, ``_train_step()``, ``_record()`` and
``snapshot()``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch

from core.snapshot import Snapshot, Trainer  # noqa: F401  (re-exported: every trainer imports them from here)

T = TypeVar("T")

_SEED_LOCK = threading.Lock()


def build_seeded(seed: int, factory: Callable[[], T]) -> T:
    """Call ``factory`` with torch's global RNG seeded, without disturbing it.

    ``nn.Linear`` and friends draw their initial weights from the global RNG.
    Streamlit runs every browser session in a thread of one process, so the
    global RNG is shared: the lock keeps two sessions building models at the
    same moment from interleaving their draws, and ``fork_rng`` restores the
    RNG afterwards.
    """
    with _SEED_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def divergence_message(step: int, value: float, hint: str) -> str:
    """The sentence shown when training stops because it diverged."""
    shown = "NaN" if math.isnan(value) else ("infinite" if math.isinf(value) else f"{value:.3g}")
    return (
        f"Training diverged near step {step}: the loss became {shown}. {hint} "
        "Training stopped; the chart shows the last good state."
    )


class GuardedTrainer(ABC):
    """Base class that runs guarded chunks of training steps.

    Attributes a subclass may override: ``max_steps`` (None: no limit),
    ``loss_limit`` (a finite loss above this counts as divergence),
    ``divergence_hint`` (one sentence on what to change).
    """

    max_steps: int | None = None
    loss_limit: float = 1e6
    divergence_hint: str = "The learning rate is probably too high: lower it and press Reset."

    def __init__(self) -> None:
        self.step = 0
        self.error: str | None = None
        self.config: Any = getattr(self, "config", None)
        # (step, sentence) for every setting changed while the run went on
        self.changes: list[tuple[int, str]] = []
        # After a divergence: (steps, losses) of the rolled-back chunk up to the
        # first bad step, so a chart can show the blow-up that happened.
        self.blowup: tuple[np.ndarray, np.ndarray] | None = None

    # -- settings that apply while training runs ---------------------------
    def reconfigure(self, config: Any) -> bool:
        """Apply ``config`` to the running trainer if only live fields changed.

        A config dataclass lists in ``LIVE_FIELDS`` the fields that do not
        change a model's shape (learning rates, noise, epsilon, loss weights).
        When only those differ from the current config, ``_apply_live`` updates
        the running optimisers and data, the change is remembered in
        ``changes`` (for the history charts' markers) and True is returned.
        Any other difference returns False: the caller builds a new trainer.
        """
        old = self.config
        if old is None or type(config) is not type(old):
            return False
        live = set(getattr(type(config), "LIVE_FIELDS", ()))
        changed = [f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(old, f.name)]
        if not changed:
            return True
        if any(name not in live for name in changed):
            return False
        self._apply_live(old, config)
        self.config = config
        text = ", ".join(f"{name} {getattr(old, name)!r} → {getattr(config, name)!r}" for name in changed)
        self.changes.append((self.step, text))
        return True

    def _apply_live(self, old: Any, new: Any) -> None:
        """Update the running trainer for new live settings (override when a trainer has any)."""
        raise NotImplementedError(f"{type(self).__name__} declares LIVE_FIELDS but no _apply_live")

    @staticmethod
    def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
        """Give every parameter group of ``optimizer`` the learning rate ``lr``."""
        for group in optimizer.param_groups:
            group["lr"] = lr

    # -- to implement ----------------------------------------------------
    @abstractmethod
    def _stateful(self) -> Sequence[Any]:
        """Modules and optimisers whose state a rollback restores."""

    @abstractmethod
    def _train_step(self) -> torch.Tensor:
        """One optimisation step; return its loss(es) as a 0-d or 1-d tensor."""

    @abstractmethod
    def _record(self, first_step: int, losses: np.ndarray) -> None:
        """Keep the losses of a good chunk (shape: steps x losses per step)."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """The current state, as plain arrays and numbers."""

    # -- provided --------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.error is not None or (
            self.max_steps is not None and self.step >= self.max_steps
        )

    def _steps_allowed(self, steps: int) -> int:
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        if self.max_steps is None:
            return steps
        return max(0, min(steps, self.max_steps - self.step))

    # Chunks end at multiples of this many steps (None: anywhere). A trainer
    # that measures every N steps sets it, so each measurement point is the
    # end of a chunk and ``_record`` sees it.
    chunk_every: int | None = None

    def advance(self, steps: int) -> int:
        """Train up to ``steps`` steps in guarded chunks, without building a snapshot.

        Returns how many steps were taken (fewer at ``max_steps`` or when a
        chunk diverged, which sets ``error`` and rolls that chunk back).
        """
        total = 0 if self.error is not None else self._steps_allowed(steps)
        taken = 0
        while taken < total and self.error is None:
            n = total - taken
            if self.chunk_every:
                n = min(n, self.chunk_every - self.step % self.chunk_every)
            if not self._guarded_chunk(n):
                break
            taken += n
        return taken

    def train(self, steps: int) -> Snapshot:
        """Advance by up to ``steps`` steps (fewer at ``max_steps``), then report."""
        self.advance(steps)
        return self.snapshot()

    def _guarded_chunk(self, n: int) -> bool:
        """Run ``n`` steps; on divergence restore the state before them, set ``error``, return False."""
        saved = [copy.deepcopy(obj.state_dict()) for obj in self._stateful()]
        losses = torch.stack([torch.as_tensor(self._train_step()).detach().reshape(-1) for _ in range(n)])
        values = losses.float().cpu().numpy()
        finite = np.isfinite(values)
        too_big = np.abs(np.where(finite, values, 0.0)) > self.loss_limit
        bad_rows = np.flatnonzero(~finite.all(axis=1) | too_big.any(axis=1))
        params_ok = all(
            bool(torch.isfinite(p).all())
            for obj in self._stateful()
            if isinstance(obj, torch.nn.Module)
            for p in obj.parameters()
        )
        if bad_rows.size or not params_ok:
            for obj, state in zip(self._stateful(), saved, strict=True):
                obj.load_state_dict(state)
            row = int(bad_rows[0]) if bad_rows.size else n - 1
            self.blowup = (np.arange(self.step + 1, self.step + row + 2), values[: row + 1].copy())
            bad = values[row]
            worst = next((float(v) for v in bad if not math.isfinite(v)), float(np.max(np.abs(bad))))
            self.error = divergence_message(self.step + row + 1, worst, self.divergence_hint)
            return False
        self._record(self.step, values)
        self.step += n
        return True
