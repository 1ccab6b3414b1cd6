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

The base owns what every trainer has: ``config``, ``device``, ``max_steps``,
the step counter, ``error``, ``changes`` (settings applied live), ``blowup``
and ``loss_history``. Subclasses provide ``_stateful()``, ``_train_step()``
and ``snapshot()``, and may add measurements in ``_after_chunk()`` (or keep
their own history by overriding ``_record()``).
tests/test_trainer_contract.py runs every trainer of the app through the same checks.
"""

from __future__ import annotations

import copy
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from core.snapshot import RunBase, Snapshot, Trainer  # noqa: F401  (re-exported: every trainer imports them from here)

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


class GuardedTrainer(RunBase, ABC):
    """Base class that runs guarded chunks of training steps.

    Attributes a subclass may override: ``max_steps`` (None: no limit),
    ``loss_limit`` (a finite loss above this counts as divergence),
    ``divergence_hint`` (one sentence on what to change), ``small_model``
    (False: the model gains from a GPU, so it trains there when one is present).
    """

    max_steps: int | None = None
    # A network of a few thousand weights trains faster on one CPU thread than on a GPU, whose kernel
    # launches cost more than their arithmetic (core/device.py has the measurements): such a trainer stays
    # on the CPU when no device is named. A trainer whose model gains from a GPU sets this to False.
    small_model: bool = True
    loss_limit: float = 1e6
    divergence_hint: str = "The learning rate is probably too high: lower it and press Reset."

    def __init__(self, config: Any = None, *, max_steps: int | None = None,
                 device: torch.device | None = None) -> None:
        """Set what every trainer has: ``config``, ``max_steps``, ``device``, the step counter,
        ``error``, ``changes``, ``blowup`` and the loss history. Subclasses call this first."""
        RunBase.__init__(self, config, max_steps=max_steps)
        if device is not None or getattr(self, "device", None) is None:
            from core.device import pick

            self.device = device if device is not None else pick(small_model=self.small_model)
        # After a divergence: (steps, losses) of the rolled-back chunk up to the
        # first bad step, so a chart can show the blow-up that happened.
        self.blowup: tuple[np.ndarray, np.ndarray] | None = None
        self._loss_chunks: list[np.ndarray] = []  # one (steps x losses) array per good chunk

    @property
    def loss_history(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps 1..n, losses n x k) of every good step so far, as recorded by ``_record``."""
        if not self._loss_chunks:
            return np.arange(1, 1), np.zeros((0, 0))
        values = np.concatenate(self._loss_chunks)
        if len(self._loss_chunks) > 64:
            self._loss_chunks = [values]
        return np.arange(1, len(values) + 1), values

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

    def _record(self, first_step: int, losses: np.ndarray) -> None:
        """Keep the losses of a good chunk (shape: steps x losses per step) in ``loss_history``,
        then call ``_after_chunk``. A trainer that keeps its own history may override it."""
        self._loss_chunks.append(np.asarray(losses, dtype=np.float64))
        self._after_chunk(first_step, losses)

    def _after_chunk(self, first_step: int, losses: np.ndarray) -> None:
        """The end-of-chunk hook: measurements a trainer takes after good steps (nothing by default)."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """The current state, as plain arrays and numbers."""

    # -- provided --------------------------------------------------------
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
