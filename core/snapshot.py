"""What a trainer reports and the protocol the live panel drives: plain Python, no torch.

Lives apart from ``core.trainer`` so that pure NumPy topics (the bandit
testbed) and the worker processes that run them never import torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class Snapshot:
    """What every trainer reports after ``train``; topics subclass it."""

    step: int
    done: bool
    error: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Trainer(Protocol):
    """The protocol the live-training panel drives."""

    step: int
    max_steps: int | None
    error: str | None

    @property
    def done(self) -> bool: ...

    def train(self, steps: int) -> Snapshot: ...

    def snapshot(self) -> Snapshot: ...


class RunBase:
    """What every trainer has, without torch: ``config``, ``max_steps``, the step counter,
    ``error``, ``changes`` (settings applied while it runs), ``done``, ``train`` and ``reconfigure``.

    ``core.trainer.GuardedTrainer`` (torch models) and ``core.bandits.BanditRun``
    (NumPy) build on it. A subclass implements ``advance(steps) -> steps taken``
    and ``snapshot()``; ``_apply_live`` when its config declares ``LIVE_FIELDS``.
    """

    max_steps: int | None = None

    def __init__(self, config: Any = None, *, max_steps: int | None = None) -> None:
        self.step = 0
        self.error: str | None = None
        self.config: Any = config if config is not None else getattr(self, "config", None)
        if max_steps is not None:
            self.max_steps = max_steps
        # (step, sentence) for every setting changed while the run went on
        self.changes: list[tuple[int, str]] = []

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

    def advance(self, steps: int) -> int:
        """Take up to ``steps`` steps (fewer at ``max_steps`` or on an error); return how many."""
        raise NotImplementedError

    def snapshot(self) -> Snapshot:
        raise NotImplementedError

    def train(self, steps: int) -> Snapshot:
        """Advance by up to ``steps`` steps (fewer at ``max_steps``), then report."""
        self.advance(steps)
        return self.snapshot()
