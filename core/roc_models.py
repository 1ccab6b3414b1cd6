"""Where the ROC page's scores come from.

1. ``synthetic_scores``: two bell curves, one per class (the binormal model).
   Negatives score N(0, 1), positives N(separation, spread^2). Its
   population ROC curve and AUC are known in closed form, so the page can draw
   the curve that the sample estimates, and tests can check the estimate.
2. ``make_dataset`` + ``fit_sklearn_models``: an imbalanced
   ``make_classification`` problem and two scikit-learn classifiers
   (logistic regression, random forest) scored on a held-out half.
3. ``MlpTrainer``: a small torch MLP trained live on the same problem (a
   ``GuardedTrainer``), whose test scores feed the same curves.

``PARAMS`` declares every control of the page once (``core.params``), and
``synthetic_config`` / ``dataset_config`` / ``mlp_config`` build the configs
from the controls' values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtr
from torch import nn

from core.params import Param, ParamTable
from core.roc import average_precision, roc_auc, threshold_range
from core.trainer import GuardedTrainer, Snapshot, build_seeded

# -- 1. synthetic scores -------------------------------------------------------


@dataclass(frozen=True)
class SyntheticConfig:
    separation: float = 1.5  # mean positive score minus mean negative score (in negative-class SDs)
    spread: float = 1.0  # SD of the positive scores (the negatives' SD is 1)
    prevalence: float = 0.1  # share of positives
    n: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.spread > 0:
            raise ValueError(f"spread must be > 0, got {self.spread}")
        if not 0 < self.prevalence < 1:
            raise ValueError(f"prevalence must lie strictly between 0 and 1, got {self.prevalence}")
        if self.n < 4:
            raise ValueError(f"n must be >= 4, got {self.n}")

    @property
    def n_pos(self) -> int:
        """Number of positives: prevalence x n, but at least 2 (and at least 2 negatives)."""
        return int(min(self.n - 2, max(2, round(self.prevalence * self.n))))


def synthetic_scores(config: SyntheticConfig) -> tuple[np.ndarray, np.ndarray]:
    """Labels (negatives first) and scores, reproducible from ``config.seed``.

    Each class draws from its own random stream, so changing the prevalence
    keeps the scores already drawn and only adds or removes some: the ROC
    curve then barely moves while the precision-recall curve does.
    """
    neg_stream, pos_stream = np.random.SeedSequence(config.seed).spawn(2)
    n_pos = config.n_pos
    neg = np.random.default_rng(neg_stream).standard_normal(config.n - n_pos)
    pos = config.separation + config.spread * np.random.default_rng(pos_stream).standard_normal(n_pos)
    y = np.concatenate((np.zeros(config.n - n_pos, dtype=np.int8), np.ones(n_pos, dtype=np.int8)))
    return y, np.concatenate((neg, pos))


def population_auc(config: SyntheticConfig) -> float:
    """AUC of the binormal model: P(positive score > negative score) = Phi(d / sqrt(1 + spread^2))."""
    return float(ndtr(config.separation / np.sqrt(1.0 + config.spread**2)))


def population_curves(config: SyntheticConfig, points: int = 400) -> dict[str, np.ndarray]:
    """The ROC and PR curves of the model itself (an infinite sample).

    FPR(t) = 1 - Phi(t), TPR(t) = 1 - Phi((t - d) / spread); precision at
    prevalence pi is pi TPR / (pi TPR + (1 - pi) FPR). The ROC part does not
    depend on the prevalence; the PR part does.
    """
    lo = min(-6.0, config.separation - 6 * config.spread)
    hi = max(6.0, config.separation + 6 * config.spread)
    t = np.linspace(hi, lo, points)
    fpr = ndtr(-t)
    tpr = ndtr((config.separation - t) / config.spread)
    pi = config.prevalence
    called = pi * tpr + (1 - pi) * fpr
    precision = np.divide(pi * tpr, called, out=np.ones_like(called), where=called > 0)
    return {"threshold": t, "fpr": fpr, "tpr": tpr, "recall": tpr, "precision": precision}


# -- 2. a real, imbalanced problem ---------------------------------------------


@dataclass(frozen=True)
class DatasetConfig:
    n_samples: int = 4000
    prevalence: float = 0.05
    class_sep: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.prevalence < 0.5 + 1e-12:
            raise ValueError(f"prevalence must lie in (0, 0.5], got {self.prevalence}")
        if self.n_samples < 200:
            raise ValueError(f"n_samples must be >= 200, got {self.n_samples}")
        if not self.class_sep > 0:
            raise ValueError(f"class_sep must be > 0, got {self.class_sep}")


@dataclass(frozen=True)
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


N_FEATURES = 20


def make_dataset(config: DatasetConfig) -> Dataset:
    """``make_classification`` with the given share of positives, split 50/50
    (stratified) and standardised with the training half's statistics."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(
        n_samples=config.n_samples, n_features=N_FEATURES, n_informative=6, n_redundant=4,
        n_clusters_per_class=2, weights=[1 - config.prevalence], flip_y=0.0,
        class_sep=config.class_sep, random_state=config.seed,
    )
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.5, stratify=y, random_state=config.seed)
    mean, sd = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-12
    return Dataset(
        ((x_tr - mean) / sd).astype(np.float32), y_tr.astype(np.int8),
        ((x_te - mean) / sd).astype(np.float32), y_te.astype(np.int8),
    )


SKLEARN_MODELS = {"logistic": "logistic regression", "forest": "random forest"}


def fit_sklearn_models(config: DatasetConfig) -> dict[str, np.ndarray]:
    """Test-set scores (probability of class 1) of each scikit-learn model."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    data = make_dataset(config)
    models = {
        "logistic": LogisticRegression(max_iter=2000),
        "forest": RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=config.seed, n_jobs=1),
    }
    return {name: m.fit(data.x_train, data.y_train).predict_proba(data.x_test)[:, 1] for name, m in models.items()}


# -- 3. a small MLP trained live ------------------------------------------------


@dataclass(frozen=True)
class MlpConfig:
    LIVE_FIELDS = ("lr", "max_steps")  # apply to the running MLP; the rest trains a new one

    data: DatasetConfig = DatasetConfig()
    hidden: int = 32
    lr: float = 0.01
    balanced: bool = False  # weight the positives by N/P in the loss
    max_steps: int = 400
    seed: int = 0

    def __post_init__(self) -> None:
        if self.hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {self.hidden}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclass
class MlpSnapshot(Snapshot):
    y_test: np.ndarray | None = None
    scores: np.ndarray | None = None  # sigmoid outputs on the test half
    loss_steps: np.ndarray | None = None
    losses: np.ndarray | None = None  # training loss per step


class MlpTrainer(GuardedTrainer):
    """Full-batch Adam on binary cross-entropy, two hidden ReLU layers."""

    divergence_hint = "The learning rate is too high for this network: lower it and press Reset."

    def __init__(self, config: MlpConfig, device: torch.device | None = None) -> None:
        super().__init__(config, max_steps=config.max_steps, device=device)
        data = make_dataset(config.data)
        self.y_test = data.y_test
        self.x = torch.from_numpy(data.x_train).to(self.device)
        self.y = torch.from_numpy(data.y_train.astype(np.float32)).to(self.device)
        self.x_test = torch.from_numpy(data.x_test).to(self.device)
        h = config.hidden
        self.model = build_seeded(
            config.seed,
            lambda: nn.Sequential(nn.Linear(N_FEATURES, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1)),
        ).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        n_pos = float(data.y_train.sum())
        weight = (len(data.y_train) - n_pos) / n_pos if config.balanced else 1.0
        self.pos_weight = torch.tensor([weight], device=self.device)

    def _stateful(self):
        return (self.model, self.optimizer)

    def _apply_live(self, old: MlpConfig, new: MlpConfig) -> None:
        self.set_lr(self.optimizer, new.lr)
        self.max_steps = new.max_steps

    def _train_step(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(self.x).squeeze(1)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, self.y, pos_weight=self.pos_weight)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def test_scores(self) -> np.ndarray:
        return torch.sigmoid(self.model(self.x_test).squeeze(1)).double().cpu().numpy()

    def snapshot(self) -> MlpSnapshot:
        scores = self.test_scores()
        steps, losses = self.loss_history  # the base keeps every good step's loss (one column)
        return MlpSnapshot(
            step=self.step, done=self.done, error=self.error,
            metrics={"auc": roc_auc(self.y_test, scores), "ap": average_precision(self.y_test, scores)},
            y_test=self.y_test, scores=scores,
            loss_steps=steps, losses=losses[:, 0] if losses.size else np.zeros(0),
        )



# -- 4. the page's controls: one table ----------------------------------------------

SOURCES = {"synthetic": "🎲 Synthetic scores", "models": "🧠 Trained classifiers", "csv": "📄 Your own CSV"}
MODEL_NAMES = {**SKLEARN_MODELS, "mlp": "MLP (torch, trained live)"}
COSTS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)

# Threshold sliders. The synthetic one spans the scores drawn (the page narrows ``lo`` / ``hi``
# to ``threshold_range(min, max, SYNTHETIC_STEP)``; the table's bounds only hold every score
# the controls can produce). The classifiers' scores are probabilities, 0 to 1 inclusive (a
# random forest often scores exactly 1.0): the slider goes one step past 1, where nothing is
# called positive.
SYNTHETIC_STEP = 0.05
MODEL_THRESHOLDS = threshold_range(0.0, 1.0, step=0.01)


def _pct(fraction: float) -> int:
    return round(100 * fraction)


PARAMS = ParamTable(None, [
    Param("source", "Source of scores", "radio", default="synthetic", options=tuple(SOURCES),
          format_func=SOURCES.get, widget_args={"horizontal": True}, old=("src",)),
    # synthetic scores (SyntheticConfig)
    Param("separation", "Separation of the classes", "slider", default=SyntheticConfig.separation,
          lo=0.0, hi=4.0, step=0.1, old=("sep",),
          help="Mean positive score minus mean negative score, in units of the negatives' spread."),
    Param("spread", "Spread of the positives", "slider", default=SyntheticConfig.spread, lo=0.5, hi=2.0, step=0.1,
          help="Standard deviation of the positives' scores; the negatives' is 1."),
    Param("prevalence_percent", "Prevalence (share of positives, %)", "select_slider", url="prevalence",
          default=_pct(SyntheticConfig.prevalence), options=(1, 2, 5, 10, 20, 30, 50), old=("prev",)),
    Param("n", "Sample size", "select_slider", url="sample_size", default=SyntheticConfig.n,
          options=(200, 500, 1000, 2000, 5000, 10000, 20000), old=("n",)),
    Param("seed", "Seed", "number", default=SyntheticConfig.seed, lo=0, hi=9999, step=1),
    # trained classifiers (DatasetConfig, MlpConfig)
    Param("data_prevalence_percent", "Prevalence (share of positives, %)", "select_slider", url="data_prevalence",
          default=_pct(DatasetConfig.prevalence), options=(1, 2, 5, 10, 20, 50), old=("mprev",)),
    Param("n_samples", "Samples (half train, half test)", "select_slider", url="data_samples",
          default=DatasetConfig.n_samples, options=(2000, 4000, 8000), old=("mn",)),
    Param("class_sep", "Class separation", "slider", url="data_separation", default=DatasetConfig.class_sep,
          lo=0.5, hi=2.0, step=0.1, old=("msep",), help="make_classification's class_sep: larger is easier."),
    Param("data_seed", "Seed", "number", default=DatasetConfig.seed, lo=0, hi=9999, step=1, old=("mseed",)),
    Param("hidden", "MLP hidden units per layer", "select_slider", url="hidden_units", default=MlpConfig.hidden,
          options=(4, 8, 16, 32, 64), old=("hid",)),
    Param("lr", "MLP learning rate", "select_slider", url="learning_rate", default=MlpConfig.lr,
          options=(0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0), old=("lr",)),
    Param("balanced", "Weight positives by N/P in the loss", "toggle", url="balanced_loss",
          default=MlpConfig.balanced, old=("bal",),
          help="Re-weighting shifts the scores (and so the best threshold) much more than the ROC."),
    Param("model", "Model to analyse below", "radio", default="logistic", options=tuple(MODEL_NAMES),
          format_func=MODEL_NAMES.get, widget_args={"horizontal": True}),
    # the threshold, the costs, the intervals, the histogram
    Param("threshold", "Threshold: a case is called positive when its score ≥ this", "slider", default=1.0,
          lo=-10.0, hi=20.0, step=SYNTHETIC_STEP, old=("t",)),
    Param("model_threshold", "Threshold: a case is called positive when its score ≥ this", "slider",
          default=0.5, lo=MODEL_THRESHOLDS.lo, hi=MODEL_THRESHOLDS.hi, step=MODEL_THRESHOLDS.step,
          format=MODEL_THRESHOLDS.format, old=("tp",)),
    Param("cost_fp", "Cost of one false positive", "select_slider", url="false_positive_cost", default=1,
          options=COSTS, old=("cfp",), help="A false alarm: a negative case called positive."),
    Param("cost_fn", "Cost of one false negative", "select_slider", url="false_negative_cost", default=5,
          options=COSTS, old=("cfn",), help="A miss: a positive case called negative."),
    Param("n_boot", "Bootstrap resamples for the intervals", "select_slider", url="bootstrap_resamples",
          default=500, options=(200, 500, 1000, 2000), old=("boot",)),
    Param("histogram_counts", "Bar heights as counts", "toggle", default=False, old=("counts",),
          help="Off: each bar is a share of its own class (%), so a rare class stays visible. On: numbers of cases."),
])


def synthetic_config(values: dict) -> SyntheticConfig:
    """The synthetic scores' config from the controls' values (``PARAMS`` names)."""
    return SyntheticConfig(separation=values["separation"], spread=values["spread"],
                           prevalence=values["prevalence_percent"] / 100, n=values["n"], seed=values["seed"])


def dataset_config(values: dict) -> DatasetConfig:
    """The classifiers' data set from the controls' values."""
    return DatasetConfig(n_samples=values["n_samples"], prevalence=values["data_prevalence_percent"] / 100,
                         class_sep=values["class_sep"], seed=values["data_seed"])


def mlp_config(values: dict) -> MlpConfig:
    """The live MLP's config from the controls' values (it trains on ``dataset_config``'s data)."""
    return MlpConfig(data=dataset_config(values), hidden=values["hidden"], lr=values["lr"],
                     balanced=values["balanced"], seed=values["data_seed"])
