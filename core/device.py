"""Where the models train: CUDA, then Apple MPS, then the CPU; small models on the CPU.

``pick()`` is the only place that decides. Set ``ML_EXPLORABLES_FORCE_CPU=1``
to keep everything on the CPU (handy for reproducible numbers or a busy GPU).

Most of the app's networks are tiny (a few thousand weights): on a GPU each
step is a few dozen kernel launches that cost more than their arithmetic.
Measured twice on an NVIDIA H200 against one CPU thread of the same machine
(``benchmarks/bench_device.py``, each page's default steps per update, a
snapshot after each update as a live view takes), the GPU trained the home
demo at 0.29-0.34x the CPU's speed, DQN at 0.41-0.44x, the KL fit at
0.42-0.53x, the activation race at 0.30-0.52x, the loss lab at 0.67-0.80x,
the GAN at 0.71-0.98x and the ROC MLP at 0.93-0.94x; only the norm race's
CNNs gained (1.41-1.6x). So a trainer says whether its model is small
(``GuardedTrainer.small_model``), and ``pick(small_model=True)`` keeps it on
the CPU unless ``ML_EXPLORABLES_SMALL_ON_GPU=1``. A small model on the CPU
also keeps its seed's run: the GAN draws its noise with the device's own
generator, and on CUDA the same seed gives other numbers.

``configure_threads()`` sets torch's process-wide thread count once; call it
at start-up, never per page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

FORCE_CPU_ENV = "ML_EXPLORABLES_FORCE_CPU"
SMALL_ON_GPU_ENV = "ML_EXPLORABLES_SMALL_ON_GPU"
THREADS_ENV = "ML_EXPLORABLES_THREADS"

_threads_configured: int | None = None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def cpu_forced() -> bool:
    """True when the environment asks for CPU-only training."""
    return _truthy(os.environ.get(FORCE_CPU_ENV))


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def small_on_gpu() -> bool:
    """True when the environment asks for small models on the GPU too."""
    return _truthy(os.environ.get(SMALL_ON_GPU_ENV))


def pick(small_model: bool = False) -> torch.device:
    """The device a model should train on.

    CUDA when a GPU is visible, else Apple's MPS, else the CPU; the CPU
    whenever ``ML_EXPLORABLES_FORCE_CPU`` is set to a true value, and for a
    ``small_model`` (faster on the CPU, see above) unless
    ``ML_EXPLORABLES_SMALL_ON_GPU`` is.

    >>> pick().type in {"cuda", "mps", "cpu"}
    True
    >>> pick(small_model=True).type == "cpu" or small_on_gpu()
    True
    """
    if cpu_forced() or (small_model and not small_on_gpu()):
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_thread_count() -> int:
    """Threads for torch's CPU kernels: ``ML_EXPLORABLES_THREADS``, else 1.

    The models here are tiny, and one server process trains every learner's
    model in threads of its own. Measured on 2 cores with other work running,
    the home demo trained at about 1,800 steps/s with one torch thread and
    about 110 with two (``benchmarks/bench_shell.py``): torch's worker threads
    spin while competing with the server's. One thread is the safe default;
    a machine that serves one learner can raise it.
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a whole number, got {raw!r}") from None
        if n < 1:
            raise ValueError(f"{THREADS_ENV} must be at least 1, got {n}")
        return n
    return 1


def configure_threads(n: int | None = None) -> int:
    """Set torch's CPU thread count once per process and return it.

    Later calls return the count chosen first and change nothing: the setting
    is process-wide, so a page must never change it for everybody else.
    """
    global _threads_configured
    if _threads_configured is None:
        n = default_thread_count() if n is None else n
        torch.set_num_threads(n)
        _threads_configured = n
    return _threads_configured


@dataclass(frozen=True)
class DeviceInfo:
    """What the sidebar says about the training device."""

    kind: str  # "cuda", "mps" or "cpu"
    name: str  # e.g. "NVIDIA H100 80GB HBM3", "Apple MPS", "CPU"
    threads: int  # torch's CPU thread count
    forced_cpu: bool

    @property
    def label(self) -> str:
        if self.kind == "cuda":
            return f"GPU (CUDA): {self.name}"
        if self.kind == "mps":
            return "Apple GPU (MPS)"
        suffix = ", forced by ML_EXPLORABLES_FORCE_CPU" if self.forced_cpu else ""
        plural = "s" if self.threads != 1 else ""
        return f"CPU, {self.threads} thread{plural}{suffix}"


def describe(device: torch.device | None = None) -> DeviceInfo:
    """Describe ``device`` (default: ``pick()``) for display."""
    device = pick() if device is None else device
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "Apple MPS"
    else:
        name = "CPU"
    return DeviceInfo(
        kind=device.type,
        name=name,
        threads=torch.get_num_threads(),
        forced_cpu=cpu_forced(),
    )
