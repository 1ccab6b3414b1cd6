"""The loss lab: one small classifier on scikit-learn's 8x8 digits, four losses.

- plain cross-entropy with the hard labels;
- label smoothing: the target puts ``1 - eps`` on the label and spreads ``eps``
  evenly over all K classes (PyTorch's ``label_smoothing=eps``);
- the confidence penalty: cross-entropy minus ``beta`` times the entropy of
  the prediction, which rewards less peaked outputs (Pereyra et al., 2017);
- knowledge distillation (Hinton et al., 2015): match a teacher's soft
  targets at temperature T, mixed with the hard-label loss:
  ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(label, student)``.
  The teacher is an ensemble of larger MLPs whose averaged logits (the
  geometric mean of their predictions) are distilled into one small network.

The link between the two regularisers is the direction of a KL divergence:
label smoothing adds ``KL(u || q)`` (uniform u against the prediction q),
the confidence penalty adds ``-H(q) = KL(q || u) - log K``.

Everything a page shows comes out of ``LossLabTrainer.snapshot()`` as NumPy
arrays: per-epoch train / validation cross-entropy and accuracy, the mean
entropy of the validation predictions, the expected calibration error (ECE)
and the reliability-diagram bins. One trainer step is one epoch.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from core.device import pick
from core.info import softmax
from core.params import Param, ParamTable
from core.trainer import GuardedTrainer, Snapshot, build_seeded

N_CLASSES = 10
N_FEATURES = 64
N_VAL = 500
METHODS = ("ce", "smooth", "penalty", "distill")
METHOD_NAMES = {
    "ce": "cross-entropy",
    "smooth": "label smoothing",
    "penalty": "confidence penalty",
    "distill": "distillation",
}


# -- the losses (mean over the batch, in nats) ----------------------------------
def output_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of ``softmax(logits)`` for each row."""
    logq = F.log_softmax(logits, dim=-1)
    return -(logq.exp() * logq).sum(dim=-1)


def label_smoothing_loss(logits: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Cross-entropy against the smoothed target ``(1 - eps) one_hot + eps / K``.

    Written out from the definition: ``(1 - eps)`` times the usual loss plus
    ``eps`` times the mean over classes of ``-log q_k``.
    """
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label smoothing eps must lie in [0, 1], got {eps}")
    logq = F.log_softmax(logits, dim=-1)
    hard = -logq.gather(1, target.unsqueeze(1)).squeeze(1)
    uniform = -logq.mean(dim=-1)
    return ((1.0 - eps) * hard + eps * uniform).mean()


def confidence_penalty_loss(logits: torch.Tensor, target: torch.Tensor, beta: float) -> torch.Tensor:
    """Cross-entropy minus ``beta`` times the entropy of the prediction."""
    if beta < 0:
        raise ValueError(f"confidence penalty beta must be >= 0, got {beta}")
    return F.cross_entropy(logits, target) - beta * output_entropy(logits).mean()


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: torch.Tensor,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """``alpha * T^2 * KL(p_teacher(T) || p_student(T)) + (1 - alpha) * CE(label, p_student)``.

    The soft part's gradients shrink like ``1 / T^2``; the ``T^2`` factor keeps
    its weight comparable across temperatures (Hinton et al., 2015).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    log_s = F.log_softmax(student_logits / temperature, dim=-1)
    log_t = F.log_softmax(teacher_logits / temperature, dim=-1)
    soft = (log_t.exp() * (log_t - log_s)).sum(dim=-1).mean()
    hard = F.cross_entropy(student_logits, target)
    return alpha * temperature**2 * soft + (1.0 - alpha) * hard


# -- calibration ---------------------------------------------------------------
@dataclass(frozen=True)
class Reliability:
    """A reliability diagram: predictions binned by their confidence.

    Bin m holds predictions whose top probability lies in ``(edges[m], edges[m+1]]``
    (the first bin also holds 0). Empty bins have NaN accuracy and confidence.
    """

    edges: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray  # fraction correct in each bin
    confidence: np.ndarray  # mean top probability in each bin
    ece: float  # sum over bins of (count / n) * |accuracy - confidence|


def reliability(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> Reliability:
    """Bin the top-class confidence of ``probs`` (n x K) against ``labels`` (n)."""
    probs = np.asarray(probs, dtype=float)
    labels = np.asarray(labels)
    if probs.ndim != 2 or labels.shape != (probs.shape[0],):
        raise ValueError(f"probs must be (n, K) and labels (n,), got {probs.shape} and {labels.shape}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.searchsorted(edges[1:-1], conf, side="left")  # right-closed bins
    counts = np.bincount(idx, minlength=n_bins).astype(float)
    conf_sum = np.bincount(idx, weights=conf, minlength=n_bins)
    acc_sum = np.bincount(idx, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(counts > 0, acc_sum / counts, np.nan)
        mean_conf = np.where(counts > 0, conf_sum / counts, np.nan)
    n = max(len(labels), 1)
    ece = float(np.nansum(counts / n * np.abs(acc - mean_conf)))
    return Reliability(edges, counts.astype(int), acc, mean_conf, ece)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """ECE: how far, on average, confidence is from accuracy (0 = calibrated)."""
    return reliability(probs, labels, n_bins).ece


def expected_calibration_error_tensor(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 10) -> torch.Tensor:
    """``expected_calibration_error`` computed where ``probs`` lives, as a 0-d tensor: the same bins
    (right-closed, the first also holds 0), in float64 except on MPS, and no copy to the host."""
    dtype = torch.float32 if probs.device.type == "mps" else torch.float64
    top, predicted = probs.max(dim=1)
    conf = top.to(dtype)
    correct = (predicted == labels).to(dtype)
    # np.linspace's inner edges (i * (1 / n_bins)), made on the device: no copy that would wait for it
    edges = torch.arange(1, n_bins, dtype=dtype, device=probs.device) * (1.0 / n_bins)
    idx = torch.bucketize(conf, edges, right=False)  # edges[i-1] < conf <= edges[i], as np.searchsorted(side="left")
    zeros = torch.zeros(n_bins, dtype=dtype, device=probs.device)
    counts = zeros.scatter_add(0, idx, torch.ones_like(conf))
    conf_sum = zeros.scatter_add(0, idx, conf)
    acc_sum = zeros.scatter_add(0, idx, correct)
    filled = counts > 0
    safe = torch.where(filled, counts, torch.ones_like(counts))
    gap = torch.abs(acc_sum / safe - conf_sum / safe)
    return torch.where(filled, counts / max(len(labels), 1) * gap, zeros).sum()


# -- data ----------------------------------------------------------------------
@dataclass(frozen=True)
class DigitsSplit:
    """scikit-learn's 1,797 digits (pixels scaled to [0, 1]), split once."""

    x_train: np.ndarray  # (n_train, 64) float32
    y_train: np.ndarray  # (n_train,) int64
    x_val: np.ndarray
    y_val: np.ndarray

    @property
    def val_images(self) -> np.ndarray:
        return self.x_val.reshape(-1, 8, 8)


SPLIT_SEED = 0


@functools.lru_cache(maxsize=4)
def digits_split(seed: int = SPLIT_SEED, n_val: int = N_VAL) -> DigitsSplit:
    """A stratified train / validation split of the digits, reproducible from ``seed``."""
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=n_val, stratify=y, random_state=seed)
    for arr in (x_tr, x_va, y_tr, y_va):
        arr.setflags(write=False)
    return DigitsSplit(x_tr, y_tr, x_va, y_va)


def subset_indices(split: DigitsSplit, n: int, seed: int) -> np.ndarray:
    """``n`` stratified training indices (all of them when ``n`` is the whole split)."""
    total = len(split.y_train)
    if not 10 <= n <= total:
        raise ValueError(f"the student needs between 10 and {total} training images, got {n}")
    if n == total:
        return np.arange(total)
    idx, _ = train_test_split(np.arange(total), train_size=n, stratify=split.y_train, random_state=seed + 1)
    return np.sort(idx)


def mlp(hidden: int, layers: int = 1) -> nn.Sequential:
    """64 pixels -> ``layers`` ReLU layers of ``hidden`` units -> 10 logits."""
    mods: list[nn.Module] = []
    width = N_FEATURES
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    mods.append(nn.Linear(width, N_CLASSES))
    return nn.Sequential(*mods)


# -- the teacher -----------------------------------------------------------------
class EnsembleMLP(nn.Module):
    """``members`` independent MLPs (64 -> hidden x layers -> 10), run in one batched pass.

    Member m's weights are initialised exactly as ``mlp(hidden, layers)`` built
    with seed ``seed * 100 + m``; ``forward`` returns logits of shape (members, n, 10).
    Training the sum of the members' losses trains each member on its own,
    because no parameter is shared.
    """

    def __init__(self, members: int, hidden: int, layers: int, seed: int) -> None:
        super().__init__()
        nets = [build_seeded(seed * 100 + m, lambda: mlp(hidden, layers)) for m in range(members)]
        linears = [[mod for mod in net if isinstance(mod, nn.Linear)] for net in nets]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer in range(layers + 1):
            w = torch.stack([lin[layer].weight.detach().T for lin in linears])  # (M, in, out)
            b = torch.stack([lin[layer].bias.detach().unsqueeze(0) for lin in linears])  # (M, 1, out)
            self.weights.append(nn.Parameter(w.clone()))
            self.biases.append(nn.Parameter(b.clone()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(0).expand(len(self.weights[0]), -1, -1)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = F.relu(h)
        return h


@dataclass(frozen=True)
class TeacherConfig:
    members: int = 5  # MLPs in the ensemble
    hidden: int = 256
    layers: int = 1
    epochs: int = 30
    lr: float = 3e-3
    batch_size: int = 128
    seed: int = 0


class Teacher:
    """An ensemble of MLPs trained on the whole training split, then frozen.

    Its logits are the mean of the members' logits (so its probabilities are
    the normalised geometric mean of theirs). Read-only once built: a page may
    share one teacher between all sessions.
    """

    def __init__(self, config: TeacherConfig, split: DigitsSplit, device: torch.device | None = None) -> None:
        start = time.perf_counter()
        self.config = config
        self.device = pick() if device is None else device
        self.net: EnsembleMLP | None = EnsembleMLP(config.members, config.hidden, config.layers, config.seed)
        self.net.to(self.device)
        x = torch.from_numpy(np.array(split.x_train)).to(self.device)
        y = torch.from_numpy(np.array(split.y_train)).to(self.device)
        gen = torch.Generator().manual_seed(config.seed)
        opt = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        n, m = len(y), config.members
        for _ in range(config.epochs):
            perm = torch.randperm(n, generator=gen).to(self.device)
            for i in range(0, n, config.batch_size):
                idx = perm[i : i + config.batch_size]
                out = self.net(x[idx])  # (M, b, 10)
                loss = F.cross_entropy(out.reshape(-1, N_CLASSES), y[idx].repeat(m)) * m
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        self.net.eval()
        self.net.requires_grad_(False)
        member_val = self._member_logits(split.x_val)
        self._set_logits(split, self._member_logits(split.x_train).mean(axis=0), member_val.mean(axis=0),
                         tuple(float((lg.argmax(1) == split.y_val).mean()) for lg in member_val))
        self.train_seconds = time.perf_counter() - start

    def _set_logits(self, split: DigitsSplit, train_logits: np.ndarray, val_logits: np.ndarray,
                    member_val_accuracy: tuple[float, ...]) -> None:
        self.train_logits, self.val_logits = train_logits, val_logits
        self.member_val_accuracy = member_val_accuracy
        self.val_accuracy = float((self.val_logits.argmax(1) == split.y_val).mean())
        self.train_accuracy = float((self.train_logits.argmax(1) == split.y_train).mean())
        for arr in (self.train_logits, self.val_logits):
            arr.setflags(write=False)

    # -- a teacher saved to a file: the page loads it instead of training it under a class's load --

    def save(self, path: Path) -> None:
        """Write the config, the averaged logits and the members' accuracies (about 60 KB)."""
        np.savez_compressed(
            path, config=np.array(json.dumps(dataclasses.asdict(self.config))),
            train_logits=self.train_logits.astype(np.float32), val_logits=self.val_logits.astype(np.float32),
            member_val_accuracy=np.array(self.member_val_accuracy),
        )

    @classmethod
    def load(cls, path: Path, config: TeacherConfig, split: DigitsSplit) -> Teacher | None:
        """The teacher saved at ``path``, or None when the file is missing or was made for another config/split."""
        try:
            with np.load(path) as data:
                if json.loads(str(data["config"])) != dataclasses.asdict(config):
                    return None
                train_logits = np.array(data["train_logits"], dtype=np.float32)
                val_logits = np.array(data["val_logits"], dtype=np.float32)
                member_acc = tuple(float(a) for a in data["member_val_accuracy"])
        except (OSError, KeyError, ValueError):
            return None
        if train_logits.shape != (len(split.y_train), N_CLASSES) or val_logits.shape != (len(split.y_val), N_CLASSES):
            return None
        teacher = cls.__new__(cls)
        teacher.config, teacher.device, teacher.net = config, torch.device("cpu"), None
        teacher._set_logits(split, train_logits, val_logits, member_acc)
        teacher.train_seconds = 0.0
        return teacher

    @torch.no_grad()
    def _member_logits(self, x: np.ndarray) -> np.ndarray:
        return self.net(torch.from_numpy(np.array(x)).to(self.device)).cpu().numpy()

    def probabilities(self, index: int, temperature: float = 1.0) -> np.ndarray:
        """The teacher's class probabilities for validation image ``index`` at ``temperature``."""
        return softmax(self.val_logits[index], temperature)

    def describe(self) -> str:
        c = self.config
        return (
            f"an ensemble of {c.members} MLPs (64 → {' → '.join([str(c.hidden)] * c.layers)} → 10 units, "
            f"{self.n_parameters // c.members:,} weights each)"
        )

    @property
    def n_parameters(self) -> int:
        """Weights and biases of all members (the same whether trained here or loaded)."""
        c = self.config
        sizes = [64] + [c.hidden] * c.layers + [N_CLASSES]
        return c.members * sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))


TEACHER_FILE = Path(__file__).resolve().parent.parent / "assets" / "digits_teacher.npz"


def shipped_teacher(config: TeacherConfig, split: DigitsSplit) -> Teacher:
    """The default teacher from ``assets/`` (made by ``python3 -m scripts.make_teacher``; a test checks it
    against a fresh training), or trained now when the file does not match ``config``."""
    return Teacher.load(TEACHER_FILE, config, split) or Teacher(config, split)


# -- the student -------------------------------------------------------------------
@dataclass(frozen=True)
class LossLabConfig:
    # Apply to the running student (``LossLabTrainer.reconfigure``); the rest starts a new run.
    LIVE_FIELDS = ("smoothing", "penalty", "temperature", "alpha", "lr", "epochs")

    method: str = "ce"
    smoothing: float = 0.1  # eps, for "smooth"
    penalty: float = 0.3  # beta, for "penalty"
    temperature: float = 4.0  # T, for "distill"
    alpha: float = 0.7  # weight of the soft part, for "distill"
    hidden: int = 32
    n_train: int = 200
    epochs: int = 30
    lr: float = 0.01
    batch_size: int = 32
    seed: int = 0  # the student's initial weights, its subset of images and their order

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not 0.0 <= self.smoothing <= 1.0:
            raise ValueError(f"smoothing must lie in [0, 1], got {self.smoothing}")
        if self.penalty < 0:
            raise ValueError(f"penalty must be >= 0, got {self.penalty}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.hidden < 1 or self.epochs < 1 or self.batch_size < 1:
            raise ValueError("hidden, epochs and batch_size must be positive")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def relevant(self) -> LossLabConfig:
        """The same run with the settings its method ignores put back to defaults,
        so that moving an unused slider does not restart training."""
        base = LossLabConfig()
        return replace(
            self,
            smoothing=self.smoothing if self.method == "smooth" else base.smoothing,
            penalty=self.penalty if self.method == "penalty" else base.penalty,
            temperature=self.temperature if self.method == "distill" else base.temperature,
            alpha=self.alpha if self.method == "distill" else base.alpha,
        )

    def label(self) -> str:
        """A short description for legends: method and its setting."""
        extra = {
            "ce": "",
            "smooth": f" ε={self.smoothing:g}",
            "penalty": f" β={self.penalty:g}",
            "distill": f" T={self.temperature:g} α={self.alpha:g}",
        }[self.method]
        return f"{METHOD_NAMES[self.method]}{extra}, {self.hidden} units, {self.n_train} images"


# The loss lab's controls on the entropy page (its third tab), in the order they are drawn. Each method
# draws only its own setting (METHOD_SETTING); ``relevant()`` puts the others back to their defaults.
METHOD_SETTING = {"smooth": "smoothing", "penalty": "penalty", "distill": "alpha"}
TEMPERATURES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0)
DEFAULT_IMAGE = 487  # a validation 4: the teacher says 99.5 % "4" at T = 1, and at T = 4 shows it looks a bit like a 6

PARAMS = ParamTable(LossLabConfig, [
    Param("method", "Loss", "selectbox", options=METHODS, format_func=METHOD_NAMES.get, url="loss"),
    Param("smoothing", "Label smoothing ε", "slider", lo=0.0, hi=0.5, step=0.05, url="label_smoothing",
          old=("eps",), help="The target puts 1 − ε on the label and ε/10 on every digit."),
    Param("penalty", "Confidence penalty β", "slider", lo=0.0, hi=1.0, step=0.05, url="confidence_penalty",
          old=("beta",), help="Loss = cross-entropy − β × entropy of the prediction (in nats)."),
    Param("alpha", "Weight α of the teacher's soft targets", "slider", lo=0.0, hi=1.0, step=0.1, url="soft_weight",
          old=("alpha",),
          help="Loss = α·T²·KL(teacher_T ‖ student_T) + (1 − α)·cross-entropy with the labels."),
    Param("temperature", "Temperature T", "select_slider", options=TEMPERATURES, old=("T",),
          help="Softens the teacher's probabilities: softmax(logits / T). Used by distillation, and by the "
               "teacher view below whatever the loss."),
    Param("hidden", "Student hidden units", "select_slider", options=(8, 16, 32, 64, 128), url="hidden_units",
          old=("hidden",)),
    Param("n_train", "Training images for the student", "select_slider", options=(100, 200, 400, 800, 1297),
          url="train_images", old=("ntrain",)),
    Param("epochs", "Epochs", "select_slider", options=(10, 20, 30, 50, 100)),
    Param("lr", "Learning rate (Adam)", "select_slider", options=(0.001, 0.003, 0.01, 0.03, 0.1, 0.3)),
    Param("seed", "Seed", "number", lo=0, hi=9999, step=1,
          help="Sets the student's initial weights, its training images and their order."),
    Param("image", "Validation image", "slider", lo=0, hi=N_VAL - 1, default=DEFAULT_IMAGE, old=("img",)),
])


METRIC_NAMES = ("objective", "train_ce", "train_acc", "val_ce", "val_acc", "val_entropy", "val_ece")


@dataclass
class LossLabSnapshot(Snapshot):
    """Per-epoch curves (index 0 = before training) and the current validation picture."""

    epochs: np.ndarray | None = None
    history: dict[str, np.ndarray] | None = None  # METRIC_NAMES -> values per epoch (nats, fractions)
    reliability: Reliability | None = None
    val_probs: np.ndarray | None = None  # (n_val, 10)
    config: LossLabConfig | None = None


class LossLabTrainer(GuardedTrainer):
    """Mini-batch Adam on the chosen loss; one ``train`` step is one epoch."""

    divergence_hint = "The learning rate is too high for this loss: lower it and press Reset."

    def __init__(
        self,
        config: LossLabConfig,
        teacher: Teacher | None = None,
        device: torch.device | None = None,
        split: DigitsSplit | None = None,
    ) -> None:
        if config.method == "distill" and teacher is None:
            raise ValueError("distillation needs a teacher")
        super().__init__(config, max_steps=config.epochs, device=device)
        self.split = digits_split() if split is None else split
        if teacher is not None and teacher.train_logits.shape[0] != len(self.split.y_train):
            raise ValueError("the teacher was trained on a different split of the digits")
        idx = subset_indices(self.split, config.n_train, config.seed)
        to = lambda a: torch.from_numpy(np.array(a)).to(self.device)
        self.x, self.y = to(self.split.x_train[idx]), to(self.split.y_train[idx])
        self.x_val, self.y_val = to(self.split.x_val), to(self.split.y_val)
        self.teacher_logits = to(teacher.train_logits[idx]) if config.method == "distill" else None
        self.model = build_seeded(config.seed, lambda: mlp(config.hidden)).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        # One row of METRIC_NAMES per epoch (row 0: before training), on the host. An epoch's
        # measurements wait on the device in ``_pending`` until its chunk ends (``_after_chunk``).
        self._rows: list[np.ndarray] = [self._evaluate(objective=None).cpu().numpy()]
        self._pending: list[torch.Tensor] = []

    def _apply_live(self, old: LossLabConfig, new: LossLabConfig) -> None:
        """A new rate or loss weight applies from the next epoch; more epochs extend the run."""
        self.set_lr(self.optimizer, new.lr)
        self.max_steps = new.epochs

    def _objective(self, logits: torch.Tensor, idx: torch.Tensor | slice) -> torch.Tensor:
        c, y = self.config, self.y[idx]
        if c.method == "smooth":
            return label_smoothing_loss(logits, y, c.smoothing)
        if c.method == "penalty":
            return confidence_penalty_loss(logits, y, c.penalty)
        if c.method == "distill":
            return distillation_loss(logits, self.teacher_logits[idx], y, c.temperature, c.alpha)
        return F.cross_entropy(logits, y)

    @torch.no_grad()
    def _evaluate(self, objective: torch.Tensor | None) -> torch.Tensor:
        self.model.eval()
        train_logits = self.model(self.x)
        if objective is None:
            objective = self._objective(train_logits, slice(None))
        val_logits = self.model(self.x_val)
        val_probs = F.softmax(val_logits, dim=-1)
        row = torch.stack([  # METRIC_NAMES, all on the device: nothing here waits for it
            objective.reshape(()),
            F.cross_entropy(train_logits, self.y),
            (train_logits.argmax(1) == self.y).float().mean(),
            F.cross_entropy(val_logits, self.y_val),
            (val_logits.argmax(1) == self.y_val).float().mean(),
            output_entropy(val_logits).mean(),
            expected_calibration_error_tensor(val_probs, self.y_val).to(val_logits.dtype),
        ])
        self.model.train()
        return row

    def _stateful(self):
        return (self.model, self.optimizer)

    def _train_step(self) -> torch.Tensor:
        n, bs = len(self.y), self.config.batch_size
        perm = torch.randperm(n, generator=self.generator)  # drawn on the CPU: the same order on every device
        if self.device.type == "cuda":  # a plain copy to the GPU would wait for its queue every epoch
            perm = perm.pin_memory().to(self.device, non_blocking=True)
        else:
            perm = perm.to(self.device)
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            loss = self._objective(self.model(self.x[idx]), idx)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        # The objective shown per epoch is measured like epoch 0's: on the whole training set after the
        # epoch (the minibatch mean would mix weights from across the epoch with a full-set start).
        # It is the loss; the other measurements of the epoch wait on the device for ``_after_chunk``.
        row = self._evaluate(objective=None)
        self._pending.append(row[1:])
        return row[0]

    def _after_chunk(self, first_step: int, losses: np.ndarray) -> None:
        """One copy to the host per chunk: its epochs' measurements, next to their losses (the objective)."""
        measured = torch.stack(self._pending[-len(losses):]).cpu().numpy()  # this chunk's epochs
        self._pending.clear()
        self._rows.extend(np.column_stack([np.asarray(losses)[:, 0], measured]))

    @torch.no_grad()
    def val_probabilities(self) -> np.ndarray:
        self.model.eval()
        probs = F.softmax(self.model(self.x_val), dim=-1).cpu().numpy()
        self.model.train()
        return probs

    def snapshot(self) -> LossLabSnapshot:
        rows = np.asarray(self._rows, dtype=float)
        history = {name: rows[:, i] for i, name in enumerate(METRIC_NAMES)}
        probs = self.val_probabilities()
        latest = {name: float(v[-1]) for name, v in history.items()}
        return LossLabSnapshot(
            step=self.step,
            done=self.done,
            error=self.error,
            metrics=latest,
            epochs=np.arange(len(rows)),
            history=history,
            reliability=reliability(probs, self.split.y_val),
            val_probs=probs,
            config=self.config,
        )


