"""ROC and precision-recall curves from scratch, in vectorised NumPy.

The whole algorithm is one sort and two cumulative sums:

1. sort the scores from highest to lowest (once: O(n log n));
2. walk down the sorted list: the cumulative sum of the labels is the number
   of true positives above each position, and position + 1 minus that is the
   number of false positives;
3. keep only the last position of each run of equal scores (a threshold
   cannot separate tied scores), which gives one point per distinct score;
4. divide by the class sizes: TPR = TP / P, FPR = FP / N.

Conventions (the same as scikit-learn's):

- a sample is predicted positive when ``score >= threshold``;
- ``roc_curve`` returns thresholds in decreasing order; the first is ``inf``
  (nothing is predicted positive: the point (0, 0)), the others are the
  distinct scores, so the last one (the smallest score) predicts everything
  positive: the point (1, 1). These are exactly the thresholds of
  ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``;
- ``pr_curve`` returns the distinct scores in increasing order and ends with
  the point precision 1, recall 0 that has no threshold, exactly as
  ``sklearn.metrics.precision_recall_curve``;
- ``average_precision`` is scikit-learn's step-wise sum, not a trapezoid.

Everything here is pure NumPy (pandas only to read an uploaded CSV); the page
and the tests use the same functions.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

# -- validation -------------------------------------------------------------


def _preview(values: np.ndarray, k: int = 3) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:k])
    return shown + (", ..." if len(values) > k else "")


def check_binary(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores; return them as (int8 labels, float64 scores).

    Raises ``ValueError`` with a sentence a learner can act on for: lengths
    that differ, empty input, arrays that are not 1-D, labels other than 0 and
    1, a single class, and scores that are not finite numbers.
    """
    y = np.asarray(y_true)
    try:
        s = np.asarray(y_score, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("Scores must be numbers (a score is the classifier's confidence that a case is positive).") from None
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"Labels and scores must be 1-D arrays; got shapes {y.shape} and {s.shape}.")
    if len(y) != len(s):
        raise ValueError(f"Labels and scores must have the same length; got {len(y)} labels and {len(s)} scores.")
    if len(y) == 0:
        raise ValueError("No samples: a ROC curve needs at least one positive and one negative case.")
    if y.dtype == np.bool_:
        labels = y.astype(np.int8)
    elif np.issubdtype(y.dtype, np.number):
        bad = (y != 0) & (y != 1)
        if bad.any():
            raise ValueError(
                f"Labels must be 0 (negative) or 1 (positive); found {_preview(np.unique(y[bad]))}."
            )
        labels = y.astype(np.int8)
    else:
        raise ValueError(f"Labels must be 0 (negative) or 1 (positive); found values of type {y.dtype}.")
    finite = np.isfinite(s)
    if not finite.all():
        bad_s = s[~finite]
        kinds = []
        if np.isnan(bad_s).any():
            kinds.append(f"{int(np.isnan(bad_s).sum())} NaN")
        if np.isinf(bad_s).any():
            kinds.append(f"{int(np.isinf(bad_s).sum())} infinite")
        raise ValueError(f"Scores must be finite numbers; found {' and '.join(kinds)} score(s).")
    n_pos = int(labels.sum())
    if n_pos == 0 or n_pos == len(labels):
        only = "1 (positive)" if n_pos else "0 (negative)"
        raise ValueError(
            f"Only one class: all {len(labels)} labels are {only}. TPR needs positives and FPR needs "
            "negatives, so a ROC curve needs both classes."
        )
    return labels, s


# -- the curve: one sort, cumulative sums -------------------------------------


@dataclass(frozen=True)
class CurveCounts:
    """Confusion counts at every distinct threshold, highest threshold first.

    ``thresholds[0]`` is ``inf`` (nothing predicted positive); the others are
    the distinct scores in decreasing order. ``tp[i]`` and ``fp[i]`` count the
    samples with ``score >= thresholds[i]``.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_pos: int
    n_neg: int

    @property
    def fn(self) -> np.ndarray:
        return self.n_pos - self.tp

    @property
    def tn(self) -> np.ndarray:
        return self.n_neg - self.fp

    @property
    def tpr(self) -> np.ndarray:
        return self.tp / self.n_pos

    @property
    def fpr(self) -> np.ndarray:
        return self.fp / self.n_neg

    @property
    def prevalence(self) -> float:
        return self.n_pos / (self.n_pos + self.n_neg)

    def index_at(self, threshold: float) -> int:
        """Row of the counts for ``score >= threshold``: the lowest listed threshold >= it."""
        if math.isnan(threshold):
            raise ValueError("The threshold must be a number, not NaN.")
        # thresholds decrease; count how many are >= threshold, minus one.
        ascending = self.thresholds[::-1]
        above = len(ascending) - np.searchsorted(ascending, threshold, side="left")
        return max(0, int(above) - 1)

    def rows_at(self, thresholds: np.ndarray) -> np.ndarray:
        """``index_at`` for many thresholds at once."""
        thresholds = np.asarray(thresholds, dtype=np.float64)
        if np.isnan(thresholds).any():
            raise ValueError("Thresholds must be numbers, not NaN.")
        ascending = self.thresholds[::-1]
        above = len(ascending) - np.searchsorted(ascending, thresholds, side="left")
        return np.maximum(0, above - 1)

    def costs_at(self, thresholds: np.ndarray, c_fp: float, c_fn: float) -> np.ndarray:
        """Total error cost c_fp * FP + c_fn * FN at each threshold."""
        rows = self.rows_at(thresholds)
        return c_fp * self.fp[rows] + c_fn * (self.n_pos - self.tp[rows])

    def confusion_at(self, threshold: float) -> Confusion:
        i = self.index_at(threshold)
        tp, fp = int(self.tp[i]), int(self.fp[i])
        return Confusion(tp=tp, fp=fp, fn=self.n_pos - tp, tn=self.n_neg - fp)


def curve_counts(y_true, y_score) -> CurveCounts:
    """Sort once, take cumulative sums, keep the last row of every run of ties."""
    y, s = check_binary(y_true, y_score)
    order = np.argsort(s)[::-1]  # highest score first; ties need no stable order
    s_sorted = s[order]
    cum_tp = np.cumsum(y[order], dtype=np.int64)
    last_of_run = np.flatnonzero(s_sorted[1:] != s_sorted[:-1])
    ends = np.append(last_of_run, len(s_sorted) - 1)
    tp = cum_tp[ends]
    fp = ends + 1 - tp
    return CurveCounts(
        thresholds=np.concatenate(([np.inf], s_sorted[ends])),
        tp=np.concatenate(([0], tp)),
        fp=np.concatenate(([0], fp)),
        n_pos=int(tp[-1]),
        n_neg=int(fp[-1]),
    )


def roc_curve(y_true, y_score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold.

    Returns ``(fpr, tpr, thresholds)``; thresholds decrease, the first is
    ``inf``, so the curve starts at (0, 0) and ends at (1, 1).

    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist(), thr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], [inf, 0.8, 0.4, 0.35, 0.1])
    """
    c = curve_counts(y_true, y_score)
    return c.fpr, c.tpr, c.thresholds


def auc(x, y) -> float:
    """Area under the curve through the points (x, y), by the trapezoidal rule.

    ``x`` must be monotonic (increasing or decreasing).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length; got shapes {x.shape} and {y.shape}.")
    if len(x) < 2:
        raise ValueError(f"At least 2 points are needed to compute an area; got {len(x)}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite numbers.")
    dx = np.diff(x)
    if (dx < 0).any() and (dx > 0).any():
        raise ValueError("x must be monotonic (always increasing or always decreasing).")
    area = float(np.sum(dx * (y[1:] + y[:-1]) / 2.0))
    return -area if (dx < 0).any() else area


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative (ties count half)."""
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return auc(fpr, tpr)


def _pr_from_counts(c: CurveCounts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp, fp = c.tp[1:], c.fp[1:]  # every listed score predicts at least one positive
    precision = tp / (tp + fp)
    recall = tp / c.n_pos
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        c.thresholds[1:][::-1].copy(),
    )


def pr_curve(y_true, y_score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at every distinct threshold, scikit-learn's layout.

    Returns ``(precision, recall, thresholds)``: thresholds increase (the
    distinct scores); precision and recall have one more element, the final
    point (recall 0, precision 1) that no threshold reaches.
    """
    return _pr_from_counts(curve_counts(y_true, y_score))


def _ap_from_counts(c: CurveCounts) -> float:
    tp, fp = c.tp[1:], c.fp[1:]
    recall_step = np.diff(np.concatenate(([0], tp))) / c.n_pos
    return float(np.sum(recall_step * tp / (tp + fp)))


def average_precision(y_true, y_score) -> float:
    """Average precision: sum over thresholds of (recall gained) x (precision there).

    This is scikit-learn's definition, a step-wise sum with no interpolation:
    AP = sum_k (R_k - R_{k-1}) P_k.
    """
    return _ap_from_counts(curve_counts(y_true, y_score))


# -- one threshold ------------------------------------------------------------


@dataclass(frozen=True)
class Confusion:
    """The confusion matrix at one threshold and every metric derived from it.

    Undefined ratios: precision is NaN when nothing is predicted positive;
    MCC is 0 when a row or column of the matrix is empty (scikit-learn's choice).
    """

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n_pos(self) -> int:
        return self.tp + self.fn

    @property
    def n_neg(self) -> int:
        return self.fp + self.tn

    @property
    def n(self) -> int:
        return self.n_pos + self.n_neg

    @property
    def tpr(self) -> float:
        return self.tp / self.n_pos if self.n_pos else math.nan

    recall = tpr

    @property
    def fpr(self) -> float:
        return self.fp / self.n_neg if self.n_neg else math.nan

    @property
    def tnr(self) -> float:
        return self.tn / self.n_neg if self.n_neg else math.nan

    @property
    def fnr(self) -> float:
        return self.fn / self.n_pos if self.n_pos else math.nan

    @property
    def precision(self) -> float:
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else math.nan

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else math.nan

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else math.nan

    @property
    def mcc(self) -> float:
        denom = math.sqrt(float(self.tp + self.fp) * (self.tp + self.fn) * (self.tn + self.fp) * (self.tn + self.fn))
        return (float(self.tp) * self.tn - float(self.fp) * self.fn) / denom if denom else 0.0

    @property
    def youden_j(self) -> float:
        return self.tpr - self.fpr

    def cost(self, c_fp: float, c_fn: float) -> float:
        """Total cost of the errors."""
        return c_fp * self.fp + c_fn * self.fn


def confusion_at(y_true, y_score, threshold: float) -> Confusion:
    """Counts of TP, FP, FN, TN when ``score >= threshold`` is called positive."""
    y, s = check_binary(y_true, y_score)
    if threshold is None or (isinstance(threshold, float) and math.isnan(threshold)):
        raise ValueError("The threshold must be a number, not NaN.")
    predicted = s >= threshold
    positive = y.astype(bool)
    tp = int(np.count_nonzero(predicted & positive))
    fp = int(np.count_nonzero(predicted & ~positive))
    n_pos = int(np.count_nonzero(positive))
    return Confusion(tp=tp, fp=fp, fn=n_pos - tp, tn=len(y) - n_pos - fp)


# -- everything the page needs, computed once per set of scores -------------


@dataclass(frozen=True)
class CostChoice:
    """The threshold that minimises c_fp * FP + c_fn * FN over the curve."""

    index: int  # row in CurveCounts
    threshold: float  # inf: call everything negative
    lower: float  # every threshold in (lower, threshold] gives the same counts
    cost: float
    cost_per_case: float
    c_fp: float
    c_fn: float


def cost_optimal(c: CurveCounts, c_fp: float, c_fn: float) -> CostChoice:
    """The cheapest point of the curve for the given error costs.

    Ties go to the highest threshold. The chosen point is where a line of
    slope ``(c_fp * N) / (c_fn * P)`` first touches the ROC curve from above.
    """
    if not (c_fp >= 0 and c_fn >= 0) or not (math.isfinite(c_fp) and math.isfinite(c_fn)):
        raise ValueError(f"Costs must be finite and >= 0; got c_fp={c_fp}, c_fn={c_fn}.")
    costs = c_fp * c.fp + c_fn * (c.n_pos - c.tp)
    i = int(np.argmin(costs))
    lower = float(c.thresholds[i + 1]) if i + 1 < len(c.thresholds) else -np.inf
    return CostChoice(
        index=i, threshold=float(c.thresholds[i]), lower=lower, cost=float(costs[i]),
        cost_per_case=float(costs[i]) / (c.n_pos + c.n_neg), c_fp=c_fp, c_fn=c_fn,
    )


def cheapest_on_grid(c: CurveCounts, grid: np.ndarray, c_fp: float, c_fn: float) -> float:
    """The value of ``grid`` (say, a slider's positions) with the lowest error cost.

    With continuous scores the exact cheapest threshold may fall between two
    grid values; this is the best a slider can do. Ties go to the value
    closest to the exact optimum.
    """
    grid = np.asarray(grid, dtype=np.float64)
    costs = c.costs_at(grid, c_fp, c_fn)
    best = np.flatnonzero(costs == costs.min())
    exact = cost_optimal(c, c_fp, c_fn).threshold
    target = exact if math.isfinite(exact) else np.inf
    return float(grid[best[np.argmin(np.abs(grid[best] - target))]] if math.isfinite(target) else grid[best[-1]])


def iso_cost_slope(c: CurveCounts, c_fp: float, c_fn: float) -> float:
    """Slope of the lines of equal cost in ROC space, (c_fp x N) / (c_fn x P).

    The cost c_fp x FPR x N + c_fn x (1 - TPR) x P is constant along
    TPR = slope x FPR + constant; ``inf`` (a vertical line) when a miss is free.
    """
    return (c_fp * c.n_neg) / (c_fn * c.n_pos) if c_fn > 0 else math.inf


def cost_per_case(c: CurveCounts, c_fp: float, c_fn: float) -> np.ndarray:
    """Average error cost per case, (c_fp x FP + c_fn x FN) / (P + N), at every threshold of ``c``."""
    return (c_fp * c.fp + c_fn * c.fn) / (c.n_pos + c.n_neg)


@dataclass(frozen=True)
class CostPoints:
    """Everything the page shows about error costs, for one pair of costs and one threshold.

    The cheapest threshold (``choice``) with its errors, where it sits on the
    ROC and PR curves, the slope of the lines of equal cost, the cost per
    case at every threshold, and what the current threshold and the best
    slider position (``grid``) cost.
    """

    choice: CostChoice
    fp: int  # errors at the cheapest threshold
    fn: int
    roc_point: tuple[float, float]  # (FPR, TPR) of the cheapest threshold
    pr_point: tuple[float, float] | None  # (recall, precision); None when it calls nothing positive
    iso_slope: float
    per_case: np.ndarray  # cost per case at every threshold of the counts (``CurveCounts.thresholds``)
    current_per_case: float  # at the threshold asked about
    slider_best: float  # the cheapest value of ``grid``
    slider_best_per_case: float

    @property
    def slider_reaches_optimum(self) -> bool:
        """Whether a grid position costs as little as the exact optimum (it may fall between two)."""
        return math.isclose(self.slider_best_per_case, self.choice.cost_per_case)


def cost_points(c: CurveCounts, c_fp: float, c_fn: float, threshold: float, grid: np.ndarray) -> CostPoints:
    """The cheapest threshold for the costs, its points on the curves and the iso-cost slope,
    and the cost per case of ``threshold`` and of the cheapest of ``grid`` (a slider's positions)."""
    choice = cost_optimal(c, c_fp, c_fn)
    i, n = choice.index, c.n_pos + c.n_neg
    tp, fp = int(c.tp[i]), int(c.fp[i])
    best = cheapest_on_grid(c, grid, c_fp, c_fn)
    at = c.costs_at(np.array([threshold, best], dtype=np.float64), c_fp, c_fn) / n
    return CostPoints(
        choice=choice, fp=fp, fn=c.n_pos - tp,
        roc_point=(fp / c.n_neg, tp / c.n_pos),
        pr_point=(tp / c.n_pos, tp / (tp + fp)) if tp + fp else None,
        iso_slope=iso_cost_slope(c, c_fp, c_fn), per_case=cost_per_case(c, c_fp, c_fn),
        current_per_case=float(at[0]), slider_best=best, slider_best_per_case=float(at[1]),
    )


@dataclass(frozen=True)
class ThresholdRange:
    """The positions of a threshold slider: ``lo``, ``lo + step``, ..., ``hi``.

    Every position is a multiple of ``step`` written exactly with ``decimals``
    decimals, so the slider and every sentence about its value can print the
    same digits (``text``).
    """

    lo: float
    hi: float
    step: float
    decimals: int

    @property
    def format(self) -> str:
        """printf-style format for ``st.slider``: shows every position exactly."""
        return f"%.{self.decimals}f"

    def text(self, value: float) -> str:
        """``value`` as the slider shows it."""
        return f"{value:.{self.decimals}f}"

    def snap(self, value: float) -> float:
        """The position nearest ``value`` (clamped into the range)."""
        k = round((min(max(value, self.lo), self.hi) - self.lo) / self.step)
        return round(self.lo + k * self.step, self.decimals)

    def grid(self) -> np.ndarray:
        """Every position, low to high."""
        k = np.arange(round((self.hi - self.lo) / self.step) + 1)
        return np.round(self.lo + k * self.step, self.decimals)


def step_decimals(step: float) -> int:
    """How many decimals print every multiple of ``step`` exactly (0.05 -> 2, 0.25 -> 2, 5 -> 0)."""
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive finite number; got {step!r}.")
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    while round(step, decimals) != step and decimals < 15:  # a step like 0.25 needs one more decimal
        decimals += 1
    return decimals


def nice_step(span: float, positions: int = 200) -> float:
    """The smallest of 1, 2 and 5 times a power of ten that covers ``span`` in at most ``positions`` steps."""
    if not (math.isfinite(span) and span > 0):
        raise ValueError(f"span must be a positive finite number; got {span!r}.")
    raw = span / positions
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw * (1 - 1e-12):
            return float(f"{m * power:.12g}")
    raise AssertionError("unreachable")


def threshold_range(s_min: float, s_max: float, step: float | None = None, positions: int = 200) -> ThresholdRange:
    """Slider positions that span the scores ``s_min`` .. ``s_max`` and no more.

    ``lo`` is the largest multiple of ``step`` at or below the lowest score
    (there every case is called positive); ``hi`` is the first multiple above
    the highest score (there none is). Without ``step``, a step of 1, 2 or 5
    times a power of ten gives at most about ``positions`` positions.
    """
    if not (math.isfinite(s_min) and math.isfinite(s_max)) or s_min > s_max:
        raise ValueError(f"Need finite scores with s_min <= s_max; got {s_min!r}, {s_max!r}.")
    if step is None:
        step = nice_step(s_max - s_min if s_max > s_min else 1.0, positions)  # one distinct score: span 1
    decimals = step_decimals(step)
    lo = round(math.floor(s_min / step + 1e-9) * step, decimals)
    hi = round((math.floor(s_max / step + 1e-9) + 1) * step, decimals)
    if lo > s_min:  # float noise at a multiple of step
        lo = round(lo - step, decimals)
    if hi <= s_max:
        hi = round(hi + step, decimals)
    return ThresholdRange(lo=lo, hi=hi, step=step, decimals=decimals)


@dataclass(frozen=True)
class ScoreAnalysis:
    """Curves, areas and class histograms of one set of scores."""

    counts: CurveCounts
    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray  # scikit-learn's PR layout (increasing thresholds, then (1, 0))
    recall: np.ndarray
    auc: float
    ap: float
    edges: np.ndarray  # histogram bin edges (score units)
    hist_neg: np.ndarray
    hist_pos: np.ndarray

    @property
    def score_range(self) -> tuple[float, float]:
        return float(self.edges[0]), float(self.edges[-1])


def analyse_scores(y_true, y_score, bins: int = 60) -> ScoreAnalysis:
    """Everything the page draws for one set of scores, from a single sort."""
    y, s = check_binary(y_true, y_score)
    c = curve_counts(y, s)
    precision, recall, _ = _pr_from_counts(c)
    lo, hi = float(s.min()), float(s.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    return ScoreAnalysis(
        counts=c, fpr=c.fpr, tpr=c.tpr, precision=precision, recall=recall,
        auc=auc(c.fpr, c.tpr), ap=_ap_from_counts(c), edges=edges,
        hist_neg=np.histogram(s[y == 0], edges)[0], hist_pos=np.histogram(s[y == 1], edges)[0],
    )


# -- bootstrap confidence intervals -----------------------------------------


def _score_groups(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Index of each positive's and each negative's score among the distinct scores (increasing)."""
    distinct, group = np.unique(s, return_inverse=True)
    return group[y == 1], group[y == 0], len(distinct)


def _replicates(pos_groups: np.ndarray, neg_groups: np.ndarray, g: int,
                pos_idx: np.ndarray, neg_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b = pos_idx.shape[0]
    if neg_idx.shape[0] != b:
        raise ValueError("pos_idx and neg_idx must describe the same number of resamples.")
    offsets = (np.arange(b) * g)[:, None]

    def per_group(groups_of_class: np.ndarray, idx: np.ndarray) -> np.ndarray:
        flat = (groups_of_class[idx] + offsets).ravel()
        return np.bincount(flat, minlength=b * g).reshape(b, g).astype(np.float64)

    pos = per_group(pos_groups, pos_idx)
    neg = per_group(neg_groups, neg_idx)
    n_pos, n_neg = pos_idx.shape[1], neg_idx.shape[1]
    neg_cum = np.cumsum(neg, axis=1)
    # positives at a score beat the negatives strictly below it, and tie half of those at it
    aucs = np.einsum("bg,bg->b", pos, neg_cum - 0.5 * neg) / (n_pos * n_neg)
    pos_d = pos[:, ::-1]  # highest score first
    tp = np.cumsum(pos_d, axis=1)
    called = tp + np.cumsum(neg[:, ::-1], axis=1)
    np.divide(tp, called, out=tp, where=called > 0)  # tp now holds the precision (0 where nothing is called)
    aps = np.einsum("bg,bg->b", pos_d, tp) / n_pos
    return aucs, aps


def replicate_auc_ap(y_true, y_score, pos_idx: np.ndarray, neg_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC and AP of many resamples at once, without sorting any resample.

    ``pos_idx`` (b x P) and ``neg_idx`` (b x N) pick, for each of b
    resamples, which positives and which negatives (by position among the
    positives / negatives, in data order) are drawn. Each resample is reduced
    to how many positives and negatives it holds at each distinct score;
    cumulative sums over those counts give every resample's AUC and AP.
    """
    y, s = check_binary(y_true, y_score)
    return _replicates(*_score_groups(y, s), np.atleast_2d(pos_idx), np.atleast_2d(neg_idx))


@dataclass(frozen=True)
class BootstrapCI:
    """Percentile bootstrap intervals for AUC and average precision."""

    auc: float
    ap: float
    auc_low: float
    auc_high: float
    ap_low: float
    ap_high: float
    level: float
    n_boot: int
    auc_reps: np.ndarray
    ap_reps: np.ndarray


def bootstrap_auc_ap(y_true, y_score, n_boot: int = 1000, *, level: float = 0.95, seed: int = 0,
                     max_chunk: int = 2_000_000) -> BootstrapCI:
    """Stratified bootstrap: each resample redraws the positives among the
    positives and the negatives among the negatives (with replacement), so the
    class sizes stay fixed and no resample loses a class.

    Reproducible from ``seed`` alone: one generator,
    ``numpy.random.default_rng(seed)``, draws resample 0's positives (P
    indices into the positives, in data order), then its negatives (N indices
    into the negatives), then resample 1's, and so on. The draws are the same
    whatever ``max_chunk`` is (it only bounds how many drawn indices are
    reduced to counts at once, to cap memory), and the first k resamples of
    ``n_boot`` are those of any larger ``n_boot``.
    """
    y, s = check_binary(y_true, y_score)
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1; got {n_boot}.")
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1; got {level}.")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    rng = np.random.default_rng(seed)
    pos_groups, neg_groups, g = _score_groups(y, s)
    per_chunk = max(1, max_chunk // max(n_neg, g))
    aucs, aps = [], []
    for start in range(0, n_boot, per_chunk):
        b = min(per_chunk, n_boot - start)
        pos_idx = np.empty((b, n_pos), dtype=np.int32)
        neg_idx = np.empty((b, n_neg), dtype=np.int32)
        for row in range(b):  # resample by resample, so chunking never changes the stream
            pos_idx[row] = rng.integers(0, n_pos, n_pos, dtype=np.int32)
            neg_idx[row] = rng.integers(0, n_neg, n_neg, dtype=np.int32)
        a, p = _replicates(pos_groups, neg_groups, g, pos_idx, neg_idx)
        aucs.append(a)
        aps.append(p)
    auc_reps, ap_reps = np.concatenate(aucs), np.concatenate(aps)
    tail = (1 - level) / 2
    auc_lo, auc_hi = np.quantile(auc_reps, [tail, 1 - tail])
    ap_lo, ap_hi = np.quantile(ap_reps, [tail, 1 - tail])
    c = curve_counts(y, s)
    return BootstrapCI(
        auc=auc(c.fpr, c.tpr), ap=_ap_from_counts(c), auc_low=float(auc_lo), auc_high=float(auc_hi),
        ap_low=float(ap_lo), ap_high=float(ap_hi), level=level, n_boot=n_boot, auc_reps=auc_reps, ap_reps=ap_reps,
    )


# -- curve points as CSV ----------------------------------------------------


def curve_table_csv(c: CurveCounts) -> str:
    """One row per threshold: counts, TPR, FPR, precision, recall (CSV text)."""
    import pandas as pd

    predicted = c.tp + c.fp
    precision = np.divide(c.tp, predicted, out=np.full(len(c.tp), np.nan), where=predicted > 0)
    table = pd.DataFrame({
        "threshold": c.thresholds, "tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn,
        "tpr": c.tpr, "fpr": c.fpr, "precision": precision, "recall": c.tpr,
    })
    return table.to_csv(index=False, float_format="%.10g", na_rep="")


# -- uploaded CSV of labels and scores ----------------------------------------

MAX_ROWS = 200_000
MAX_BYTES = 10 * 1024 * 1024
LABEL_NAMES = ("label", "labels", "y_true", "y", "target", "class", "actual", "truth")
SCORE_NAMES = ("score", "scores", "y_score", "prob", "probability", "proba", "prediction", "predicted", "p")


@dataclass(frozen=True)
class UploadedScores:
    """The result of reading an uploaded CSV: arrays, or a message saying what is wrong."""

    y: np.ndarray | None = None
    s: np.ndarray | None = None
    error: str | None = None
    label_column: str = ""
    score_column: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def _lines(rows: np.ndarray) -> str:
    """File line numbers of bad data rows (row 0 is on line 2, under the header)."""
    shown = ", ".join(str(int(r) + 2) for r in rows[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    return f"line{'s' if len(rows) > 1 else ''} {shown}{more}"


def parse_scores_csv(raw: bytes, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> UploadedScores:
    """Read a CSV with a label column (0/1) and a score column.

    Never raises on bad content: every problem comes back as ``error``, a
    sentence saying what is wrong and how to fix it.
    """
    import pandas as pd

    fmt = (f"Expected a CSV file with a header row naming a label column ({', '.join(LABEL_NAMES[:4])}...) "
           f"holding 0 or 1, and a score column ({', '.join(SCORE_NAMES[:4])}...) holding numbers.")
    if raw is None or len(raw) == 0:
        return UploadedScores(error=f"The file is empty. {fmt}")
    if len(raw) > max_bytes:
        return UploadedScores(error=f"The file is {len(raw) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return UploadedScores(error=f"The file is not UTF-8 text (is it a spreadsheet or an image?). {fmt}")
    if not text.strip():
        return UploadedScores(error=f"The file is empty. {fmt}")
    header = text.lstrip().splitlines()[0]
    sep = ";" if header.count(";") > header.count(",") else ("\t" if header.count("\t") > header.count(",") else ",")
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skipinitialspace=True, nrows=max_rows + 1, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        return UploadedScores(error=f"The file is empty. {fmt}")
    except (pd.errors.ParserError, ValueError) as why:
        detail = str(why).strip().splitlines()[-1][:200]
        return UploadedScores(error=f"The file could not be read as CSV ({detail}). {fmt}")
    names = {str(col).strip().lower(): col for col in table.columns}
    label_col = next((names[n] for n in LABEL_NAMES if n in names), None)
    score_col = next((names[n] for n in SCORE_NAMES if n in names), None)
    if label_col is None or score_col is None:
        found = ", ".join(f"'{c}'" for c in list(table.columns)[:8]) or "none"
        missing = " and ".join(w for w, c in (("label", label_col), ("score", score_col)) if c is None)
        return UploadedScores(error=f"No {missing} column found; the header has: {found}. {fmt}")
    if len(table) == 0:
        return UploadedScores(error="The file has a header but no data rows.")
    if len(table) > max_rows:
        return UploadedScores(error=f"The file has more than {max_rows:,} rows; upload at most {max_rows:,} rows.")
    labels = table[label_col].str.strip()
    scores = table[score_col].str.strip()
    empty = np.flatnonzero((labels == "").to_numpy())
    if len(empty):
        return UploadedScores(error=f"Empty label on {_lines(empty)}: every row needs a label, 0 or 1.")
    label_num = pd.to_numeric(labels, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isin(label_num, (0.0, 1.0)))
    if len(bad):
        values = ", ".join(sorted({f"'{v}'" for v in labels.iloc[bad[:50]]})[:3])
        return UploadedScores(error=(f"Labels must be 0 (negative) or 1 (positive); {_lines(bad)} "
                                     f"{'has' if len(bad) == 1 else 'have'} {values}."))
    empty = np.flatnonzero((scores == "").to_numpy())
    if len(empty):
        return UploadedScores(error=f"Empty score on {_lines(empty)}: every row needs a numeric score.")
    score_num = pd.to_numeric(scores, errors="coerce").to_numpy(dtype=np.float64)
    lowered = scores.str.lower()
    not_number = np.flatnonzero(np.isnan(score_num) & ~lowered.isin(("nan", "-nan", "+nan", "na", "n/a", "null")).to_numpy())
    if len(not_number):
        values = ", ".join(sorted({f"'{v}'" for v in scores.iloc[not_number[:50]]})[:3])
        return UploadedScores(error=f"Scores must be numbers; {_lines(not_number)} "
                                    f"{'has' if len(not_number) == 1 else 'have'} {values}.")
    nan_rows = np.flatnonzero(np.isnan(score_num))
    if len(nan_rows):
        return UploadedScores(error=f"Missing score (NaN) on {_lines(nan_rows)}: remove those rows or fill them in.")
    inf_rows = np.flatnonzero(np.isinf(score_num))
    if len(inf_rows):
        return UploadedScores(error=f"Infinite score on {_lines(inf_rows)}: scores must be finite numbers.")
    y = label_num.astype(np.int8)
    n_pos = int(y.sum())
    if n_pos in (0, len(y)):
        only = "1 (positive)" if n_pos else "0 (negative)"
        return UploadedScores(error=(f"Only one class: all {len(y):,} labels are {only}. A ROC curve needs "
                                     "both positives (for TPR) and negatives (for FPR)."))
    return UploadedScores(y=y, s=score_num, label_column=str(label_col), score_column=str(score_col))


def example_csv(n: int = 200, seed: int = 0) -> str:
    """A small well-formed file to download and edit (label, score)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    s = np.round(1 / (1 + np.exp(-(rng.standard_normal(n) + 1.5 * y - 0.7))), 3)
    return "label,score\n" + "".join(f"{a},{b:.3f}\n" for a, b in zip(y, s, strict=True))


def pairwise_auc(y_true, y_score) -> tuple[float, int]:
    """AUC by brute force over every (positive, negative) pair: O(P x N), for
    checking and for small teaching examples. Returns (AUC, number of pairs);
    a pair counts 1 when the positive scores higher, 1/2 when tied."""
    y, s = check_binary(y_true, y_score)
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    wins = np.count_nonzero(pos > neg) + 0.5 * np.count_nonzero(pos == neg)
    pairs = pos.size * neg.size
    return float(wins / pairs), int(pairs)


def algorithm_table(y_true, y_score):
    """The from-scratch algorithm, one row per sample, for teaching.

    Columns: the scores sorted from high to low, their labels, the running
    counts of true and false positives, whether the row ends a run of equal
    scores (only those rows become curve points), and TPR / FPR there.
    """
    import pandas as pd

    y, s = check_binary(y_true, y_score)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.arange(1, len(y) + 1) - tp
    ends = np.append(s_sorted[1:] != s_sorted[:-1], True)
    return pd.DataFrame({
        "score": s_sorted, "label": y_sorted, "TP so far": tp, "FP so far": fp,
        "curve point?": np.where(ends, "yes", "no (tied with the next)"),
        "TPR": np.where(ends, tp / tp[-1], np.nan), "FPR": np.where(ends, fp / fp[-1], np.nan),
    })
