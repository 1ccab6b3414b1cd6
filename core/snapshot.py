"""What a trainer reports and the protocol the live panel drives: plain Python, no torch.

Lives apart from ``core.trainer`` so that pure NumPy topics (the bandit
testbed) and the worker processes that run them never import torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


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
