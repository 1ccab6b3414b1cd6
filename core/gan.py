"""A GAN learning a 2-D distribution, live: the engine behind the GAN page.

A generator G maps noise z to points G(z) in the plane; a discriminator D
(a critic, for the Wasserstein and hinge losses) scores points. They take
turns: ``d_steps`` updates of D on a batch of real and generated points,
then one update of G through D. ``GANTrainer.train(steps)`` advances
``steps`` GENERATOR updates and returns a ``GANSnapshot`` with everything the
page draws: real and generated samples, D over the plane, the generator's
gradient at its samples, the noise grid pushed through G, loss curves, and
mode coverage and KL / JS divergence over time.

The losses, on D's raw output f (a logit for the first three):

=================  ==========================================  ==========================
loss               D minimises                                 G minimises
=================  ==========================================  ==========================
minimax            -log s(f(x)) - log(1 - s(f(G(z))))          log(1 - s(f(G(z))))
non-saturating     same as minimax                             -log s(f(G(z)))
least squares      (f(x) - 1)^2 / 2 + f(G(z))^2 / 2            (f(G(z)) - 1)^2 / 2
WGAN-GP            f(G(z)) - f(x) + l (|grad f(x^)| - 1)^2     -f(G(z))
hinge              max(0, 1 - f(x)) + max(0, 1 + f(G(z)))      -f(G(z))
=================  ==========================================  ==========================

(s is the sigmoid; x^ a random point between a real and a generated one.)
One-sided label smoothing replaces the real target 1 by 1 - smoothing (the
classifier losses only); instance noise adds Gaussian noise to every point
D sees, real or generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.gan_targets import (
    EXTENT,
    MODES,
    TARGET_LABELS,
    TARGETS,
    divergences,
    has_modes,
    high_quality_share,
    mode_coverage,
    mode_shares,
    sample_target,
)
from core.params import Param, ParamTable
from core.trainer import GuardedTrainer, Snapshot, build_seeded

__all__ = [
    "LOSSES",
    "PARAMS",
    "PRESETS",
    "TARGETS",
    "GANConfig",
    "GANSnapshot",
    "GANTrainer",
    "d_loss",
    "g_loss",
    "gradient_penalty",
    "mode_coverage",
    "mode_shares",
    "sample_target",
]

LOSSES = {
    "minimax": "Minimax (saturating)",
    "nonsaturating": "Non-saturating",
    "lsgan": "Least squares",
    "wgan-gp": "WGAN-GP",
    "hinge": "Hinge",
}
CLASSIFIER_LOSSES = ("minimax", "nonsaturating")  # D outputs a logit; the heatmap shows s(f)
SMOOTHABLE = ("minimax", "nonsaturating", "lsgan")  # losses with a "real" target to smooth
OPTIMIZERS = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}
ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh}
NOISES = {"gaussian": "Gaussian N(0, 1)", "uniform": "Uniform [-1, 1]"}
SCHEDULES = {"constant": "constant", "linear": "linear decay to 0"}


@dataclass(frozen=True)
class GANConfig:
    """Everything that defines a run. The defaults are the page's default preset.

    The default was chosen by a sweep over loss, Adam's betas, learning rates
    (equal and TTUR), batch size, D steps, widths and depths, noise dimension,
    spectral normalisation and instance noise (see benchmarks/bench_gan.py).
    Three choices made the ring reliable: 2-D noise (8-D noise collapsed far
    more often), Adam without momentum (beta1 = 0) and rates that fall
    linearly to 0 at the last step (a constant rate kept coverage swinging).
    """

    # Settings that apply to the running networks (``GANTrainer.reconfigure``);
    # any other change builds new networks and starts again.
    LIVE_FIELDS = ("g_lr", "d_lr", "d_steps", "beta1", "beta2", "label_smoothing", "instance_noise",
                   "gp_weight", "max_steps")


    target: str = "ring8"
    loss: str = "nonsaturating"
    g_optimizer: str = "adam"
    d_optimizer: str = "adam"
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    beta1: float = 0.0  # Adam's first-moment (momentum) decay
    beta2: float = 0.999  # Adam's second-moment decay; RMSprop's smoothing constant
    d_steps: int = 1
    g_depth: int = 2  # hidden layers
    g_width: int = 128
    d_depth: int = 2
    d_width: int = 128
    activation: str = "relu"
    noise_dim: int = 2
    noise: str = "gaussian"
    batch_size: int = 256
    label_smoothing: float = 0.0
    instance_noise: float = 0.0  # std of the Gaussian noise added to D's inputs
    spectral_norm: bool = False
    gp_weight: float = 10.0  # WGAN-GP only
    lr_schedule: str = "linear"  # "linear": both rates fall linearly to 0 at max_steps; or "constant"
    max_steps: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(what)

        need(self.target in TARGETS, f"target must be one of {TARGETS}, got {self.target!r}")
        need(self.loss in LOSSES, f"loss must be one of {tuple(LOSSES)}, got {self.loss!r}")
        for name in ("g_optimizer", "d_optimizer"):
            need(getattr(self, name) in OPTIMIZERS, f"{name} must be one of {tuple(OPTIMIZERS)}")
        need(self.activation in ACTIVATIONS, f"activation must be one of {tuple(ACTIVATIONS)}")
        need(self.noise in NOISES, f"noise must be one of {tuple(NOISES)}")
        need(self.g_lr > 0 and self.d_lr > 0, "learning rates must be > 0")
        need(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "betas must lie in [0, 1)")
        need(self.d_steps >= 1, "d_steps must be >= 1")
        for name in ("g_depth", "d_depth"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1")
        for name in ("g_width", "d_width", "noise_dim", "batch_size", "max_steps"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1")
        need(0 <= self.label_smoothing < 0.5, "label_smoothing must lie in [0, 0.5)")
        need(self.label_smoothing == 0 or self.loss in SMOOTHABLE,
             f"label smoothing needs a classifier or least-squares loss, not {self.loss!r}")
        need(self.instance_noise >= 0, "instance_noise must be >= 0")
        need(self.gp_weight >= 0, "gp_weight must be >= 0")
        need(self.lr_schedule in SCHEDULES, f"lr_schedule must be one of {tuple(SCHEDULES)}")


# -- the losses, as plain functions of D's outputs ---------------------------
def d_loss(loss: str, real_out: torch.Tensor, fake_out: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """D's loss (without WGAN-GP's penalty) from its raw outputs on real and generated points."""
    if loss in CLASSIFIER_LOSSES:
        # binary cross-entropy with logits: -log s(f) = softplus(-f), -log(1 - s(f)) = softplus(f)
        real_term = F.softplus(-real_out).mean()
        if smoothing:
            real_term = (1.0 - smoothing) * real_term + smoothing * F.softplus(real_out).mean()
        return real_term + F.softplus(fake_out).mean()
    if loss == "lsgan":
        return 0.5 * ((real_out - (1.0 - smoothing)) ** 2).mean() + 0.5 * (fake_out**2).mean()
    if loss == "wgan-gp":
        return fake_out.mean() - real_out.mean()
    if loss == "hinge":
        return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()
    raise ValueError(f"unknown loss {loss!r}")


def g_loss_per_sample(loss: str, fake_out: torch.Tensor) -> torch.Tensor:
    """G's loss for each generated point (its mean is G's loss)."""
    if loss == "minimax":
        return -F.softplus(fake_out)  # log(1 - s(f)) = -softplus(f)
    if loss == "nonsaturating":
        return F.softplus(-fake_out)  # -log s(f) = softplus(-f)
    if loss == "lsgan":
        return 0.5 * (fake_out - 1.0) ** 2
    if loss in ("wgan-gp", "hinge"):
        return -fake_out
    raise ValueError(f"unknown loss {loss!r}")


def g_loss(loss: str, fake_out: torch.Tensor) -> torch.Tensor:
    """G's loss from D's raw outputs on generated points."""
    return g_loss_per_sample(loss, fake_out).mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty: mean of (|grad critic(x^)| - 1)^2 at x^ = mix * real + (1 - mix) * fake."""
    between = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return ((grad.norm(dim=1) - 1.0) ** 2).mean()


# -- networks ---------------------------------------------------------------
def mlp(n_in: int, n_out: int, depth: int, width: int, activation: str, spectral: bool = False) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units; optional spectral normalisation on every layer."""
    wrap = nn.utils.parametrizations.spectral_norm if spectral else (lambda layer: layer)
    layers: list[nn.Module] = []
    size = n_in
    for _ in range(depth):
        layers += [wrap(nn.Linear(size, width)), ACTIVATIONS[activation]()]
        size = width
    layers.append(wrap(nn.Linear(size, n_out)))
    return nn.Sequential(*layers)


def make_optimizer(kind: str, params, lr: float, beta1: float, beta2: float) -> torch.optim.Optimizer:
    params = list(params)
    if kind == "adam":
        try:  # the fused kernel is about 3x faster than the default on the CPU
            return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), fused=True)
        except (RuntimeError, ValueError):  # a device without a fused kernel
            return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=beta2)
    return torch.optim.SGD(params, lr=lr)


# -- presets ----------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    label: str
    lesson: str  # what the learner should see
    changes: dict = field(default_factory=dict)  # GANConfig fields that differ from the defaults

    def config(self, **overrides) -> GANConfig:
        return GANConfig(**{**self.changes, **overrides})


PRESETS: dict[str, Preset] = {
    "default": Preset(
        "Reliable default",
        "Non-saturating loss, Adam without momentum, learning rates falling to 0 over 5,000 steps, 2-D noise. "
        "G's cloud first spreads over the ring, then splits: all eight modes appear within a few thousand "
        "steps (8 of 8 at step 5,000 on 10 of 10 seeds in our benchmark); coverage can dip and recover on "
        "the way, so watch the coverage chart rather than one moment.",
    ),
    "saturating": Preset(
        "Saturating minimax (failure)",
        "The default with the original minimax loss for G and a stronger D (5 D steps per G step at a 3x larger "
        "rate), so D wins early and rejects G's points with confidence (purple under them). log(1 − D) is flat "
        "there: the arrows shrink, the gradient chart sinks and G stalls (1 mode covered on the median of ten "
        "seeds, 2 at best). Then switch the loss to non-saturating, nothing else, "
        "and compare the arrows and the gradient chart: how strongly D pulls G now depends on the seed, and a D "
        "this strong still costs modes (the default's single D step gets all eight).",
        {"loss": "minimax", "d_steps": 5, "d_lr": 3e-3},
    ),
    "collapse": Preset(
        "Mode collapse (failure)",
        "A common image-GAN recipe on this toy: 8 noise dimensions, Adam with momentum (β₁ = 0.5) and a small "
        "constant rate. G piles its samples onto one or two modes, D learns to reject them and G hops to "
        "another: the cloud jumps around the ring while coverage stays low (0 modes at step 5,000 on 8 of ten "
        "seeds).",
        {"noise_dim": 8, "g_lr": 2e-4, "d_lr": 2e-4, "beta1": 0.5, "lr_schedule": "constant",
         "max_steps": 10_000},
    ),
    "ganlab": Preset(
        "GAN Lab-sized nets with SGD",
        "One hidden layer of 16 units and plain SGD, in the spirit of GAN Lab's small defaults. Too small and "
        "too slow for eight sharp modes: G smears its points but never sharpens onto the modes.",
        {"g_depth": 1, "g_width": 16, "d_depth": 1, "d_width": 16, "g_optimizer": "sgd", "d_optimizer": "sgd",
         "g_lr": 0.1, "d_lr": 0.1, "batch_size": 64, "lr_schedule": "constant", "max_steps": 10_000},
    ),
    "wgan": Preset(
        "WGAN-GP",
        "A critic instead of a classifier: the heatmap is a score, not a probability. Five critic steps per "
        "generator step, a gradient penalty and the usual Adam(0.5, 0.9). The critic keeps giving G "
        "gradients everywhere; expect a smooth but slow approach to the ring (4 modes at step 5,000 on the "
        "median of ten seeds).",
        {"loss": "wgan-gp", "d_steps": 5, "g_lr": 1e-4, "d_lr": 1e-4, "beta1": 0.5, "beta2": 0.9,
         "lr_schedule": "constant", "max_steps": 10_000},
    ),
    "hinge_sn": Preset(
        "Hinge loss + spectral normalisation",
        "The recipe of many modern image GANs: a hinge loss and a spectrally normalised D (the heatmap is "
        "smooth, its slope bounded), with the default's optimiser and schedule: 8 of 8 modes on 10 of 10 seeds "
        "in our benchmark.",
        {"loss": "hinge", "spectral_norm": True},
    ),
    "diverge": Preset(
        "WGAN without its penalty (diverges)",
        "The Wasserstein critic with λ = 0 and a large learning rate: nothing bounds the critic, its values "
        "run away, and training stops with a message while the charts keep the last good state.",
        {"loss": "wgan-gp", "gp_weight": 0.0, "g_lr": 3e-2, "d_lr": 3e-2, "beta1": 0.5, "beta2": 0.9,
         "lr_schedule": "constant", "max_steps": 10_000},
    ),
}


# -- the page's controls ----------------------------------------------------
LRS = (1e-5, 3e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
BETA1S = (0.0, 0.5, 0.9)
BETA2S = (0.9, 0.99, 0.999)
WIDTHS = (4, 8, 16, 32, 64, 128, 256)
NOISE_DIMS = (1, 2, 4, 8, 16)
BATCHES = (16, 32, 64, 128, 256, 512)
INSTANCE_NOISE = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
GP_WEIGHTS = (0.0, 0.1, 1.0, 10.0, 100.0)
MAX_STEPS = (1000, 2000, 5000, 10_000, 20_000)

# Every control of the GAN page, in the order drawn; the link names are the config's field names.
# ``old`` lists the short codes links used before (glr=0.001&nz=8&sn=1 still opens the same run).
PARAMS = ParamTable(GANConfig, [
    Param("preset", "Preset", "selectbox", default="default", options=tuple(PRESETS),
          format_func=lambda name: PRESETS[name].label,
          help="A preset sets every control below except the target and the seed."),
    Param("target", "Target distribution", "selectbox", options=tuple(TARGET_LABELS), format_func=TARGET_LABELS.get),
    Param("loss", "Loss", "selectbox", options=tuple(LOSSES), format_func=LOSSES.get),
    Param("g_lr", "Generator learning rate", "select_slider", options=LRS, old=("glr",)),
    Param("d_lr", "Discriminator learning rate", "select_slider", options=LRS, old=("dlr",),
          help="A larger D rate than G rate is the two time-scale update rule (TTUR)."),
    Param("d_steps", "D steps per G step", "slider", lo=1, hi=10, old=("dsteps",),
          help="How many times D is updated before each generator update."),
    Param("seed", "Seed", "number", lo=0, hi=9999, step=1,
          help="The same seed and settings give exactly the same run."),
    Param("g_optimizer", "G optimiser", "selectbox", options=tuple(OPTIMIZERS), format_func=OPTIMIZERS.get,
          old=("gopt",)),
    Param("g_depth", "G hidden layers", "slider", lo=1, hi=4, old=("gdepth",)),
    Param("g_width", "G units per layer", "select_slider", options=WIDTHS, old=("gwidth",)),
    Param("d_optimizer", "D optimiser", "selectbox", options=tuple(OPTIMIZERS), format_func=OPTIMIZERS.get,
          old=("dopt",)),
    Param("d_depth", "D hidden layers", "slider", lo=1, hi=4, old=("ddepth",)),
    Param("d_width", "D units per layer", "select_slider", options=WIDTHS, old=("dwidth",)),
    Param("noise_dim", "Noise dimension", "select_slider", options=NOISE_DIMS, old=("nz",)),
    Param("noise", "Noise distribution", "selectbox", options=tuple(NOISES), format_func=NOISES.get),
    Param("batch_size", "Batch size", "select_slider", options=BATCHES, old=("batch",)),
    Param("beta1", "Adam β₁ (momentum)", "select_slider", options=BETA1S, old=("b1",),
          help="Adam's first-moment decay (ignored by SGD and RMSprop)."),
    Param("beta2", "Adam β₂ / RMSprop decay", "select_slider", options=BETA2S, old=("b2",)),
    Param("lr_schedule", "Learning-rate schedule", "selectbox", options=tuple(SCHEDULES),
          format_func=SCHEDULES.get, old=("sched",),
          help="Linear decay lowers both rates steadily to 0 at the last step."),
    Param("activation", "Activation", "selectbox", options=tuple(ACTIVATIONS), old=("act",)),
    Param("label_smoothing", "One-sided label smoothing", "slider", lo=0.0, hi=0.3, step=0.05, old=("smooth",),
          help="D's target for real points becomes 1 − this (classifier losses only)."),
    Param("instance_noise", "Instance noise (std)", "select_slider", options=INSTANCE_NOISE, old=("inoise",),
          help="Gaussian noise added to every point D sees, real or generated."),
    Param("gp_weight", "Gradient penalty weight λ", "select_slider", options=GP_WEIGHTS, old=("gp",),
          help="WGAN-GP only."),
    Param("spectral_norm", "Spectral normalisation on D", "checkbox", old=("sn",)),
    Param("max_steps", "Stop after (G steps)", "select_slider", options=MAX_STEPS, old=("steps",)),
])
PRESET_KEEPS = ("target", "seed")  # the controls a preset leaves as they are


def preset_values(name: str) -> dict:
    """What preset ``name`` sets: its own changes and the preset box itself (``PARAMS.preset`` adds the defaults)."""
    return {**PRESETS[name].changes, "preset": name}


# -- the trainer ------------------------------------------------------------
@dataclass
class GANSnapshot(Snapshot):
    target: str = ""
    loss: str = ""
    real: np.ndarray | None = None  # (n, 2) training points shown
    fake: np.ndarray | None = None  # (n, 2) generated points shown
    heat_axis: np.ndarray | None = None  # (m,) grid coordinates, same on both axes
    heat: np.ndarray | None = None  # (m, m) D's value, heat[i, j] at (x=axis[j], y=axis[i])
    heat_label: str = ""
    arrow_from: np.ndarray | None = None  # (k, 2) generated points
    arrow_dir: np.ndarray | None = None  # (k, 2) -dL_G/dx: where G's update pushes each point
    manifold: np.ndarray | None = None  # (r, r, 2) a grid of noise pushed through G
    loss_steps: np.ndarray | None = None
    d_losses: np.ndarray | None = None
    g_losses: np.ndarray | None = None
    eval_steps: np.ndarray | None = None
    coverage: np.ndarray | None = None  # modes covered at each eval step (empty: no modes)
    kl: np.ndarray | None = None  # KL(target || generated), bits
    js: np.ndarray | None = None  # JS(target, generated), bits
    grad_norm: np.ndarray | None = None  # mean |dL_G/dx| at generated points
    shares: np.ndarray | None = None  # share of samples near each mode, now
    n_modes: int = 0


class GANTrainer(GuardedTrainer):
    """Alternating GAN training on a 2-D target; one step = ``d_steps`` D updates + one G update."""

    loss_limit = 1e4
    divergence_hint = ("The networks' outputs exploded: lower the learning rates, turn on spectral "
                       "normalisation, or pick a bounded loss.")
    EVAL_EVERY = 50  # generator steps between two measurements of coverage and KL / JS
    chunk_every = EVAL_EVERY  # so every measurement point ends a chunk
    EVAL_SAMPLES = 2000
    POOL = 20_000  # size of the training set drawn from the target
    SHOW = 400  # points of each kind sent to the scatter plot (the browser redraws them twice a second)
    HEAT = 41  # heatmap resolution (HEAT x HEAT)
    ARROWS = 80
    MANIFOLD = 15

    def __init__(self, config: GANConfig | None = None, device: torch.device | None = None) -> None:
        config = GANConfig() if config is None else config
        super().__init__(config, max_steps=config.max_steps, device=device)
        if config.loss == "wgan-gp" and config.gp_weight == 0 and not config.spectral_norm:
            self.divergence_hint = ("Without its gradient penalty nothing bounds the critic, so its values ran "
                                    "away: set λ back to 10 (and lower the learning rates), then press Reset.")
        dev = self.device
        self.G = build_seeded(config.seed, lambda: mlp(config.noise_dim, 2, config.g_depth, config.g_width,
                                                         config.activation)).to(dev)
        self.D = build_seeded(config.seed + 1, lambda: mlp(2, 1, config.d_depth, config.d_width,
                                                             config.activation, config.spectral_norm)).to(dev)
        self.g_opt = make_optimizer(config.g_optimizer, self.G.parameters(), config.g_lr, config.beta1, config.beta2)
        self.d_opt = make_optimizer(config.d_optimizer, self.D.parameters(), config.d_lr, config.beta1, config.beta2)
        self._g_params = list(self.G.parameters())
        self.rng = torch.Generator(device=dev)
        self.rng.manual_seed(config.seed)
        self.pool = torch.from_numpy(sample_target(config.target, self.POOL, config.seed)).to(dev)
        eval_rng = torch.Generator(device=dev)
        eval_rng.manual_seed(10_000 + config.seed)
        self.z_eval = self._draw_noise(self.EVAL_SAMPLES, eval_rng)
        self.real_show = self.pool[: self.SHOW].cpu().numpy()
        axis = np.linspace(-EXTENT, EXTENT, self.HEAT, dtype=np.float32)
        self.heat_axis = axis
        gx, gy = np.meshgrid(axis, axis)  # gx varies along columns: heat[i, j] is at (axis[j], axis[i])
        self._heat_points = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)).to(dev)
        span = 2.0 if config.noise == "gaussian" else 1.0
        u = np.linspace(-span, span, self.MANIFOLD, dtype=np.float32)
        zz = np.zeros((self.MANIFOLD, self.MANIFOLD, config.noise_dim), dtype=np.float32)
        zz[..., 0], zz[..., 1 % config.noise_dim] = np.meshgrid(u, u, indexing="ij")
        self._manifold_z = torch.from_numpy(zz.reshape(-1, config.noise_dim)).to(dev)
        # The linear schedule scales both rates by 1 - t / max_steps before generator step t (counted
        # from 0). ``step`` only moves at the end of a chunk, so the position inside a chunk lives in
        # torch's schedulers, which the rollback restores with the optimisers.
        self._schedules = []
        if config.lr_schedule == "linear":
            self._schedules = [torch.optim.lr_scheduler.LambdaLR(opt, lambda t: self._linear_scale(t, self.config))
                               for opt in (self.g_opt, self.d_opt)]
        self._evals: dict[str, list[float]] = {k: [] for k in ("step", "coverage", "kl", "js", "grad")}
        self._evaluate()

    # -- sampling -----------------------------------------------------------
    def _draw_noise(self, n: int, rng: torch.Generator) -> torch.Tensor:
        shape = (n, self.config.noise_dim)
        if self.config.noise == "gaussian":
            return torch.randn(shape, generator=rng, device=self.device)
        return torch.rand(shape, generator=rng, device=self.device) * 2.0 - 1.0

    def _real_batch(self, n: int) -> torch.Tensor:
        return self.pool[torch.randint(self.POOL, (n,), generator=self.rng, device=self.device)]

    def _jitter(self, x: torch.Tensor) -> torch.Tensor:
        sigma = self.config.instance_noise
        if sigma == 0:
            return x
        return x + sigma * torch.randn(x.shape, generator=self.rng, device=self.device)

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` points from the generator as it is now, shape (n, 2).

        Fresh noise from ``seed`` (default: the config's seed + 1 million),
        so sampling never disturbs the training run.
        """
        rng = torch.Generator(device=self.device)
        rng.manual_seed(1_000_000 + self.config.seed if seed is None else seed)
        return self.G(self._draw_noise(n, rng)).cpu().numpy()

    # -- the training step --------------------------------------------------
    def _stateful(self):
        return (self.G, self.D, self.g_opt, self.d_opt, *self._schedules)

    @staticmethod
    def _linear_scale(t: int, config: GANConfig) -> float:
        """The linear schedule's factor on both rates at generator step ``t`` (from 0)."""
        return max(0.0, 1.0 - t / config.max_steps)

    def _apply_live(self, old: GANConfig, new: GANConfig) -> None:
        """New rates, betas, D steps, smoothing, noise or penalty take effect at the next step."""
        for opt, lr, kind in ((self.g_opt, new.g_lr, new.g_optimizer), (self.d_opt, new.d_lr, new.d_optimizer)):
            for group in opt.param_groups:
                group["lr"] = lr
                if kind == "adam":
                    group["betas"] = (new.beta1, new.beta2)
                elif kind == "rmsprop":
                    group["alpha"] = new.beta2
        for schedule, lr in zip(self._schedules, (new.g_lr, new.d_lr), strict=False):
            # the schedule scales the new rate from where it stands, over the new number of steps
            schedule.base_lrs = [lr] * len(schedule.base_lrs)
            for group in schedule.optimizer.param_groups:
                group["initial_lr"] = lr
                group["lr"] = lr * self._linear_scale(schedule.last_epoch, new)
        self.max_steps = new.max_steps

    def _train_step(self) -> torch.Tensor:
        cfg = self.config
        n = cfg.batch_size
        for _ in range(cfg.d_steps):
            real = self._real_batch(n)
            with torch.no_grad():
                fake = self.G(self._draw_noise(n, self.rng))
            real, fake = self._jitter(real), self._jitter(fake)
            out = self.D(torch.cat([real, fake]))
            loss_d = d_loss(cfg.loss, out[:n], out[n:], cfg.label_smoothing)
            if cfg.loss == "wgan-gp" and cfg.gp_weight > 0:
                mix = torch.rand((n, 1), generator=self.rng, device=self.device)
                loss_d = loss_d + cfg.gp_weight * gradient_penalty(self.D, real, fake, mix)
            self.d_opt.zero_grad(set_to_none=True)
            loss_d.backward()
            self.d_opt.step()
        fake = self._jitter(self.G(self._draw_noise(n, self.rng)))
        loss_g = g_loss(cfg.loss, self.D(fake))
        self.g_opt.zero_grad(set_to_none=True)
        loss_g.backward(inputs=self._g_params)  # D's weights need no gradient here
        self.g_opt.step()
        for schedule in self._schedules:  # the rates of the next step
            schedule.step()
        return torch.stack([loss_d.detach(), loss_g.detach()])

    def _after_chunk(self, first_step: int, losses: np.ndarray) -> None:
        if (first_step + len(losses)) % self.EVAL_EVERY == 0:
            self._evaluate(first_step + len(losses))

    # -- measurements -------------------------------------------------------
    def _g_gradient(self, points: torch.Tensor) -> torch.Tensor:
        """dL_G/dx at ``points``: how G's loss changes as a generated point moves."""
        x = points.detach().clone().requires_grad_(True)
        per_point = g_loss_per_sample(self.config.loss, self.D(x))
        (grad,) = torch.autograd.grad(per_point.sum(), x)
        return grad

    def _evaluate(self, step: int = 0) -> None:
        self.D.eval()  # spectral norm: use its current estimate, do not advance it
        try:
            with torch.no_grad():
                fake_t = self.G(self.z_eval)
            grad = self._g_gradient(fake_t)
        finally:
            self.D.train()
        fake = fake_t.cpu().numpy()
        kl, js = divergences(fake, self.config.target)
        self._evals["step"].append(step)
        self._evals["coverage"].append(
            mode_coverage(fake, self.config.target) if has_modes(self.config.target) else np.nan)
        self._evals["kl"].append(kl)
        self._evals["js"].append(js)
        self._evals["grad"].append(float(grad.norm(dim=1).mean()))
        self._last_fake = fake

    def snapshot(self) -> GANSnapshot:
        cfg = self.config
        evals = {k: np.asarray(v, dtype=float) for k, v in self._evals.items()}
        _, losses = self.loss_history
        if not len(losses):
            losses = np.zeros((0, 2))
        metrics = {
            "kl_bits": float(evals["kl"][-1]),
            "js_bits": float(evals["js"][-1]),
            "grad_norm": float(evals["grad"][-1]),
        }
        if len(losses):
            metrics["d_loss"], metrics["g_loss"] = (float(v) for v in losses[-1])
        n_modes = len(MODES[cfg.target].centres) if has_modes(cfg.target) else 0
        shares = None
        if n_modes:
            metrics["coverage"] = float(evals["coverage"][-1])
            shares = mode_shares(self._last_fake, cfg.target)
            metrics["near_modes"] = high_quality_share(self._last_fake, cfg.target)
        snap = GANSnapshot(
            step=self.step, done=self.done, error=self.error, metrics=metrics, target=cfg.target, loss=cfg.loss,
            loss_steps=np.arange(1, len(losses) + 1), d_losses=losses[:, 0], g_losses=losses[:, 1],
            eval_steps=evals["step"].astype(int), coverage=evals["coverage"], kl=evals["kl"], js=evals["js"],
            grad_norm=evals["grad"], shares=shares, n_modes=n_modes,
        )
        return self._add_views(snap)

    def _add_views(self, snap: GANSnapshot) -> GANSnapshot:
        cfg = self.config
        self.D.eval()
        try:
            with torch.no_grad():
                fake_t = self.G(self.z_eval[: self.SHOW])
                heat = self.D(self._heat_points).reshape(self.HEAT, self.HEAT)
                if cfg.loss in CLASSIFIER_LOSSES:
                    heat = torch.sigmoid(heat)
                manifold = self.G(self._manifold_z).reshape(self.MANIFOLD, self.MANIFOLD, 2)
            arrows_at = fake_t[: self.ARROWS]
            arrow_dir = -self._g_gradient(arrows_at)
        finally:
            self.D.train()
        snap.real = self.real_show
        snap.fake = fake_t.cpu().numpy()
        snap.heat_axis = self.heat_axis
        snap.heat = heat.cpu().numpy()
        snap.heat_label = {
            "minimax": "D(x): probability real",
            "nonsaturating": "D(x): probability real",
            "lsgan": "D(x) (1 = real, 0 = fake)",
        }.get(cfg.loss, "critic f(x) (higher = more real)")
        snap.arrow_from = arrows_at.cpu().numpy()
        snap.arrow_dir = arrow_dir.cpu().numpy()
        snap.manifold = manifold.cpu().numpy()
        return snap
