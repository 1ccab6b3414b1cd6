"""core.roc, core.roc_models and core.plots.roc against independent references:
scikit-learn's metrics, SciPy (Mann-Whitney U, numerical integration, the
normal CDF) and brute force over thresholds."""

from __future__ import annotations

import doctest
import io
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from sklearn import metrics as skm

from core import roc
from core.plots import roc as plots
from core.roc_models import (
    MODEL_THRESHOLDS,
    PARAMS,
    DatasetConfig,
    MlpConfig,
    MlpTrainer,
    SyntheticConfig,
    dataset_config,
    fit_sklearn_models,
    make_dataset,
    mlp_config,
    population_auc,
    population_curves,
    synthetic_config,
    synthetic_scores,
)

SIZES = (2, 3, 7, 50, 400, 3000)


def random_case(rng: np.random.Generator, n: int, ties: str):
    """Labels with both classes and scores with many ties (or none)."""
    y = (rng.random(n) < rng.uniform(0.05, 0.7)).astype(int)
    y[0], y[-1] = 1, 0
    if ties == "few levels":
        s = rng.integers(0, 4, n).astype(float)  # at most 4 distinct scores
    elif ties == "rounded":
        s = np.round(rng.random(n), 2)
    else:
        s = rng.standard_normal(n) + 0.8 * y
    return y, s


def cases(n_seeds: int = 6):
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        for n in SIZES:
            for ties in ("few levels", "rounded", "continuous"):
                yield (seed, n, ties), *random_case(rng, n, ties)


# -- the curves against scikit-learn ------------------------------------------------


def test_roc_curve_matches_sklearn_exactly_with_ties():
    checked = 0
    for tag, y, s in cases():
        fpr, tpr, thr = roc.roc_curve(y, s)
        ref_fpr, ref_tpr, ref_thr = skm.roc_curve(y, s, drop_intermediate=False)
        assert np.array_equal(thr, ref_thr), tag
        np.testing.assert_allclose(fpr, ref_fpr, rtol=0, atol=1e-15, err_msg=str(tag))
        np.testing.assert_allclose(tpr, ref_tpr, rtol=0, atol=1e-15, err_msg=str(tag))
        checked += 1
    assert checked == 6 * len(SIZES) * 3


def test_roc_curve_shape_one_point_per_distinct_score():
    for tag, y, s in cases(3):
        fpr, tpr, thr = roc.roc_curve(y, s)
        assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0), tag
        assert len(thr) == len(np.unique(s)) + 1 and thr[0] == np.inf, tag
        assert np.all(np.diff(thr) < 0) and np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0), tag


def test_auc_matches_sklearn_and_mann_whitney():
    for tag, y, s in cases():
        ours = roc.roc_auc(y, s)
        assert ours == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12), tag
        u = stats.mannwhitneyu(s[y == 1], s[y == 0], alternative="two-sided").statistic
        assert ours == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=1e-12), tag


def test_pairwise_auc_is_the_same_number():
    for tag, y, s in cases(2):
        value, pairs = roc.pairwise_auc(y, s)
        assert pairs == (y == 1).sum() * (y == 0).sum()
        assert value == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12), tag
    # the page's worked example, counted by hand: 4 + 3.5 + 3 + 2 = 12.5 pairs won of 16
    assert roc.pairwise_auc([1, 1, 0, 1, 0, 1, 0, 0], [0.9, 0.8, 0.8, 0.6, 0.5, 0.5, 0.5, 0.2]) == (12.5 / 16, 16)


def test_pr_curve_and_average_precision_match_sklearn():
    for tag, y, s in cases():
        p, r, t = roc.pr_curve(y, s)
        ref_p, ref_r, ref_t = skm.precision_recall_curve(y, s)
        assert np.array_equal(t, ref_t), tag
        np.testing.assert_allclose(p, ref_p, atol=1e-15, err_msg=str(tag))
        np.testing.assert_allclose(r, ref_r, atol=1e-15, err_msg=str(tag))
        assert roc.average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12), tag


def test_trapezoid_auc_matches_sklearn_both_directions():
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = np.sort(rng.random(rng.integers(2, 30)))
        y = rng.random(len(x))
        assert roc.auc(x, y) == pytest.approx(skm.auc(x, y), abs=1e-14)
        assert roc.auc(x[::-1], y[::-1]) == pytest.approx(skm.auc(x[::-1], y[::-1]), abs=1e-14)
    assert roc.auc([0, 1], [1, 1]) == 1.0  # a unit square
    with pytest.raises(ValueError, match="monotonic"):
        roc.auc([0, 1, 0.5], [0, 1, 1])
    with pytest.raises(ValueError, match="At least 2 points"):
        roc.auc([0.5], [1])


def test_roc_is_invariant_under_increasing_transforms():
    rng = np.random.default_rng(11)
    y, s = random_case(rng, 500, "rounded")
    fpr, tpr, _ = roc.roc_curve(y, s)
    fpr2, tpr2, _ = roc.roc_curve(y, np.exp(3 * s) - 7)
    assert np.array_equal(fpr, fpr2) and np.array_equal(tpr, tpr2)
    fpr3, tpr3, _ = roc.roc_curve(y, -s)  # reversed ranking: the mirror image, AUC becomes 1 - AUC
    assert roc.auc(fpr3, tpr3) == pytest.approx(1 - roc.auc(fpr, tpr))


def test_docstring_examples():
    assert doctest.testmod(roc, raise_on_error=False).failed == 0


# -- one threshold -------------------------------------------------------------------


def test_confusion_and_metrics_match_sklearn_at_many_thresholds():
    rng = np.random.default_rng(5)
    checked = 0
    for tag, y, s in cases(2):
        if len(y) > 400:
            continue
        candidates = np.concatenate((np.unique(s)[:3], [s.min() - 1, s.max() + 1, np.inf, -np.inf],
                                     rng.uniform(s.min(), s.max(), 2)))
        counts = roc.curve_counts(y, s)
        for t in candidates:
            pred = (s >= t).astype(int)
            c = roc.confusion_at(y, s, t)
            assert counts.confusion_at(t) == c, (tag, t)
            (tn, fp), (fn, tp) = skm.confusion_matrix(y, pred, labels=[0, 1])
            assert (c.tp, c.fp, c.fn, c.tn) == (tp, fp, fn, tn), (tag, t)
            ref_precision = skm.precision_score(y, pred, zero_division=np.nan)
            assert (math.isnan(c.precision) and math.isnan(ref_precision)) or c.precision == pytest.approx(
                ref_precision), (tag, t)
            assert c.recall == pytest.approx(skm.recall_score(y, pred))
            assert c.tnr == pytest.approx(skm.recall_score(y, pred, pos_label=0))
            assert c.f1 == pytest.approx(skm.f1_score(y, pred, zero_division=0.0))
            assert c.accuracy == pytest.approx(skm.accuracy_score(y, pred))
            assert c.mcc == pytest.approx(skm.matthews_corrcoef(y, pred), abs=1e-12)
            # Youden's J = sensitivity + specificity - 1 = 2 x balanced accuracy - 1
            assert c.youden_j == pytest.approx(2 * skm.balanced_accuracy_score(y, pred) - 1, abs=1e-12)
            checked += 1
    assert checked > 200


def test_counts_lookup_at_exact_scores_and_between():
    y = np.array([1, 0, 1, 0, 1])
    s = np.array([0.9, 0.5, 0.5, 0.2, 0.1])
    c = roc.curve_counts(y, s)
    assert c.confusion_at(0.5) == roc.Confusion(tp=2, fp=1, fn=1, tn=1)  # >= includes the tie at 0.5
    assert c.confusion_at(0.50001) == roc.Confusion(tp=1, fp=0, fn=2, tn=2)
    assert c.confusion_at(10) == roc.Confusion(tp=0, fp=0, fn=3, tn=2)
    assert c.confusion_at(-10) == roc.Confusion(tp=3, fp=2, fn=0, tn=0)
    assert math.isnan(c.confusion_at(10).precision)


# -- validation --------------------------------------------------------------------


@pytest.mark.parametrize(("y", "s", "phrase"), [
    ([1, 1, 1], [0.1, 0.2, 0.3], "Only one class"),
    ([0, 0], [0.1, 0.2], "Only one class"),
    ([0, 2, 1], [0.1, 0.2, 0.3], "Labels must be 0"),
    ([0, -1, 1], [0.1, 0.2, 0.3], "Labels must be 0"),
    (["a", "b"], [0.1, 0.2], "Labels must be 0"),
    ([0, 1, 1], [0.1, np.nan, 0.3], "NaN"),
    ([0, 1, 1], [0.1, np.inf, 0.3], "infinite"),
    ([0, 1, 1], [0.1, 0.2], "same length"),
    ([], [], "No samples"),
    ([[0, 1]], [[0.1, 0.2]], "1-D"),
    ([0, 1], ["x", "y"], "Scores must be numbers"),
])
def test_clear_errors(y, s, phrase):
    for fn in (roc.roc_curve, roc.roc_auc, roc.pr_curve, roc.average_precision):
        with pytest.raises(ValueError, match=phrase):
            fn(y, s)
    with pytest.raises(ValueError, match=phrase):
        roc.confusion_at(y, s, 0.5)


def test_boolean_and_float_labels_are_accepted():
    s = [0.1, 0.4, 0.35, 0.8]
    expected = roc.roc_curve([0, 0, 1, 1], s)
    for y in ([False, False, True, True], [0.0, 0.0, 1.0, 1.0]):
        for a, b in zip(roc.roc_curve(y, s), expected, strict=True):
            assert np.array_equal(a, b)


# -- cost-sensitive threshold ----------------------------------------------------------


def test_cost_optimal_matches_brute_force():
    for tag, y, s in cases(2):
        counts = roc.curve_counts(y, s)
        grid = np.concatenate((np.unique(s), [np.inf]))
        called = s[None, :] >= grid[:, None]  # every candidate rule, by brute force
        fp_all = (called & (y == 0)).sum(axis=1)
        fn_all = (~called & (y == 1)).sum(axis=1)
        for c_fp, c_fn in ((1, 1), (1, 5), (10, 1), (0.1, 100), (0, 1)):
            choice = roc.cost_optimal(counts, c_fp, c_fn)
            assert choice.cost == pytest.approx((c_fp * fp_all + c_fn * fn_all).min()), (tag, c_fp, c_fn)
            (_, fp), (fn, _) = skm.confusion_matrix(y, (s >= choice.threshold).astype(int), labels=[0, 1])
            assert c_fp * fp + c_fn * fn == pytest.approx(choice.cost), (tag, c_fp, c_fn)
            if np.isfinite(choice.threshold) and np.isfinite(choice.lower):  # any threshold in (lower, threshold]
                middle = (choice.threshold + choice.lower) / 2
                assert roc.confusion_at(y, s, middle).cost(c_fp, c_fn) == pytest.approx(choice.cost)
            assert choice.cost_per_case == pytest.approx(choice.cost / len(y))


def test_cheapest_on_grid_matches_brute_force():
    for tag, y, s in cases(2):
        counts = roc.curve_counts(y, s)
        grid = np.linspace(s.min() - 0.1, s.max() + 0.1, 37)
        for c_fp, c_fn in ((1, 1), (1, 10), (5, 1)):
            best = roc.cheapest_on_grid(counts, grid, c_fp, c_fn)
            brute = [c_fp * ((s >= g) & (y == 0)).sum() + c_fn * ((s < g) & (y == 1)).sum() for g in grid]
            assert best in grid
            chosen = c_fp * ((s >= best) & (y == 0)).sum() + c_fn * ((s < best) & (y == 1)).sum()
            assert chosen == min(brute), (tag, c_fp, c_fn)
            np.testing.assert_allclose(counts.costs_at(grid, c_fp, c_fn), brute)


def _brute_costs(y, s, thresholds, c_fp, c_fn):
    """fp, fn, tp and cost of the rule ``score >= t`` for every t, counted case by case."""
    called = s[None, :] >= np.asarray(thresholds, dtype=float)[:, None]
    fp = (called & (y == 0)).sum(axis=1)
    fn = (~called & (y == 1)).sum(axis=1)
    tp = (called & (y == 1)).sum(axis=1)
    return fp, fn, tp, c_fp * fp + c_fn * fn


def test_cost_points_match_brute_force_over_thresholds():
    """The cheapest point on both curves, the iso-cost slope, the cost per case everywhere, and the
    slider's best position, each against counting every rule ``score >= t`` directly."""
    for tag, y, s in cases(2):
        counts = roc.curve_counts(y, s)
        n_pos, n_neg = int(y.sum()), int((y == 0).sum())
        rules = np.concatenate(([np.inf], np.unique(s)[::-1]))  # every distinct rule, highest threshold first
        span = roc.threshold_range(float(s.min()), float(s.max()))
        grid = span.grid()
        for c_fp, c_fn in ((1, 1), (1, 5), (10, 1), (0.1, 100), (2, 0), (0, 3)):
            t_now = float(grid[len(grid) // 3])
            cp = roc.cost_points(counts, c_fp, c_fn, t_now, grid)
            fp, fn, tp, cost = _brute_costs(y, s, rules, c_fp, c_fn)
            best = int(np.argmin(cost))  # first minimum: the highest threshold among ties
            assert (cp.fp, cp.fn) == (fp[best], fn[best]), (tag, c_fp, c_fn)
            assert cp.choice.threshold == rules[best]
            assert cp.roc_point == pytest.approx((fp[best] / n_neg, tp[best] / n_pos))
            if tp[best] + fp[best]:
                assert cp.pr_point == pytest.approx((tp[best] / n_pos, tp[best] / (tp[best] + fp[best])))
            else:
                assert cp.pr_point is None
            # the line of slope iso_slope through the cheapest point has every ROC point on or below it
            fpr, tpr = fp / n_neg, tp / n_pos
            if math.isinf(cp.iso_slope):
                assert c_fn == 0 and (fpr >= cp.roc_point[0] - 1e-12).all()
            else:
                above = tpr - cp.iso_slope * fpr - (cp.roc_point[1] - cp.iso_slope * cp.roc_point[0])
                assert (above <= 1e-9).all(), (tag, c_fp, c_fn)
                equal = np.isclose(cost, cost[best])  # and points that cost the same lie on it
                np.testing.assert_allclose(above[equal], 0.0, atol=1e-9)
            # cost per case at every threshold of the counts, at the current threshold, on the slider
            np.testing.assert_allclose(cp.per_case, _brute_costs(y, s, counts.thresholds, c_fp, c_fn)[3] / len(y))
            assert cp.current_per_case == pytest.approx(_brute_costs(y, s, [t_now], c_fp, c_fn)[3][0] / len(y))
            on_grid = _brute_costs(y, s, grid, c_fp, c_fn)[3]
            assert cp.slider_best in grid and cp.slider_best_per_case == pytest.approx(on_grid.min() / len(y))
            assert _brute_costs(y, s, [cp.slider_best], c_fp, c_fn)[3][0] == on_grid.min()
            assert cp.slider_reaches_optimum == math.isclose(on_grid.min(), cost[best])


def test_iso_cost_slope_is_the_exchange_rate_of_the_costs():
    counts = roc.curve_counts([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4])  # N = 3, P = 1
    assert roc.iso_cost_slope(counts, 2, 5) == pytest.approx(2 * 3 / (5 * 1))
    assert roc.iso_cost_slope(counts, 1, 0) == math.inf


def test_costs_must_be_valid():
    counts = roc.curve_counts([0, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="Costs"):
        roc.cost_optimal(counts, -1, 1)


# -- bootstrap -----------------------------------------------------------------------


def test_bootstrap_replicates_match_sklearn_on_the_explicit_resamples():
    rng = np.random.default_rng(21)
    for ties in ("few levels", "rounded", "continuous"):
        y, s = random_case(rng, 120, ties)
        pos, neg = s[y == 1], s[y == 0]
        pos_idx = rng.integers(0, len(pos), (6, len(pos)))
        neg_idx = rng.integers(0, len(neg), (6, len(neg)))
        aucs, aps = roc.replicate_auc_ap(y, s, pos_idx, neg_idx)
        for b in range(6):
            yy = np.concatenate((np.ones(len(pos)), np.zeros(len(neg))))
            ss = np.concatenate((pos[pos_idx[b]], neg[neg_idx[b]]))
            assert aucs[b] == pytest.approx(skm.roc_auc_score(yy, ss), abs=1e-12), ties
            assert aps[b] == pytest.approx(skm.average_precision_score(yy, ss), abs=1e-12), ties


def test_bootstrap_is_seeded_and_sane():
    y, s = synthetic_scores(SyntheticConfig(n=400, prevalence=0.2))
    a = roc.bootstrap_auc_ap(y, s, 300, seed=4)
    c = roc.bootstrap_auc_ap(y, s, 300, seed=5)
    assert np.array_equal(a.auc_reps, roc.bootstrap_auc_ap(y, s, 300, seed=4).auc_reps)
    assert not np.array_equal(a.auc_reps, c.auc_reps)
    # chunking only bounds memory: any max_chunk gives the same resamples, so the same intervals
    for max_chunk in (1, 5_000, 40_000, 10**9):
        b = roc.bootstrap_auc_ap(y, s, 300, seed=4, max_chunk=max_chunk)
        assert np.array_equal(b.auc_reps, a.auc_reps) and np.array_equal(b.ap_reps, a.ap_reps), max_chunk
        assert (b.auc_low, b.auc_high, b.ap_low, b.ap_high) == (a.auc_low, a.auc_high, a.ap_low, a.ap_high)
    # the first k resamples do not depend on how many follow
    assert np.array_equal(roc.bootstrap_auc_ap(y, s, 120, seed=4).auc_reps, a.auc_reps[:120])
    assert a.auc == pytest.approx(skm.roc_auc_score(y, s))
    assert a.ap == pytest.approx(skm.average_precision_score(y, s))
    assert a.auc_low < a.auc < a.auc_high and a.ap_low < a.ap < a.ap_high
    assert (a.auc_low, a.auc_high) == pytest.approx(tuple(np.quantile(a.auc_reps, [0.025, 0.975])))
    assert len(a.auc_reps) == 300 and len(b.auc_reps) == 300
    # the spread of the replicates is close to the Hanley-McNeil standard error of the AUC
    auc_value, n1, n0 = a.auc, int(y.sum()), int(len(y) - y.sum())
    q1, q2 = auc_value / (2 - auc_value), 2 * auc_value**2 / (1 + auc_value)
    se = math.sqrt((auc_value * (1 - auc_value) + (n1 - 1) * (q1 - auc_value**2) + (n0 - 1) * (q2 - auc_value**2))
                   / (n1 * n0))
    assert np.std(a.auc_reps) == pytest.approx(se, rel=0.25)


def test_bootstrap_interval_matches_an_independent_computation():
    """The interval, rebuilt from the resampling scheme the docstring states: the same
    generator draws each resample's positives, then its negatives; scikit-learn scores
    each resample; NumPy's percentile takes the middle 95 %."""
    y, s = synthetic_scores(SyntheticConfig(n=300, prevalence=0.25, seed=2))
    s = np.round(s, 1)  # ties, so the AUC's half wins and AP's tied steps are exercised too
    ci = roc.bootstrap_auc_ap(y, s, 400, seed=11, max_chunk=3_000)
    pos, neg = s[y == 1], s[y == 0]
    rng = np.random.default_rng(11)
    aucs, aps = [], []
    labels = np.concatenate((np.ones(len(pos)), np.zeros(len(neg))))
    for _ in range(400):
        p_idx = rng.integers(0, len(pos), len(pos), dtype=np.int32)
        n_idx = rng.integers(0, len(neg), len(neg), dtype=np.int32)
        scores = np.concatenate((pos[p_idx], neg[n_idx]))
        aucs.append(skm.roc_auc_score(labels, scores))
        aps.append(skm.average_precision_score(labels, scores))
    np.testing.assert_allclose(ci.auc_reps, aucs, atol=1e-12)
    np.testing.assert_allclose(ci.ap_reps, aps, atol=1e-12)
    assert (ci.auc_low, ci.auc_high) == pytest.approx(tuple(np.percentile(aucs, [2.5, 97.5])), abs=1e-12)
    assert (ci.ap_low, ci.ap_high) == pytest.approx(tuple(np.percentile(aps, [2.5, 97.5])), abs=1e-12)


def test_bootstrap_interval_agrees_with_scipy_bootstrap():
    """SciPy's own stratified percentile bootstrap (two independent samples, its own random
    draws, AUC from the Mann-Whitney U statistic) lands on the same interval within the
    Monte Carlo error of 2,000 resamples (about 0.002 per end here)."""
    y, s = synthetic_scores(SyntheticConfig(n=500, prevalence=0.3, seed=8))
    ours = roc.bootstrap_auc_ap(y, s, 2000, seed=1)
    pos, neg = s[y == 1], s[y == 0]

    def auc(p, n, axis=-1):
        return stats.mannwhitneyu(p, n, axis=axis).statistic / (p.shape[axis] * n.shape[axis])

    ref = stats.bootstrap((pos, neg), auc, n_resamples=2000, method="percentile", paired=False, vectorized=True,
                          confidence_level=0.95, rng=np.random.default_rng(99))
    assert ours.auc_low == pytest.approx(ref.confidence_interval.low, abs=0.008)
    assert ours.auc_high == pytest.approx(ref.confidence_interval.high, abs=0.008)
    assert np.std(ours.auc_reps) == pytest.approx(ref.standard_error, rel=0.1)


def test_bootstrap_interval_covers_the_population_auc():
    config = SyntheticConfig(separation=1.0, n=300, prevalence=0.3)
    truth = population_auc(config)
    hits = 0
    for seed in range(40):
        y, s = synthetic_scores(SyntheticConfig(separation=1.0, n=300, prevalence=0.3, seed=seed))
        ci = roc.bootstrap_auc_ap(y, s, 300, seed=seed)
        hits += ci.auc_low <= truth <= ci.auc_high
    assert hits >= 33  # 95 % nominal; 33 of 40 or more is expected with probability > 0.99


# -- uploads ---------------------------------------------------------------------------


GOOD = b"label,score\n1,0.9\n0,0.2\n1,0.55\n0,0.55\n0,0.1\n"


def test_good_csv_and_variants():
    for raw in (GOOD, b"\xef\xbb\xbf" + GOOD, GOOD.replace(b",", b";"), GOOD.replace(b",", b"\t"),
                b" Y_True , Score \n1, 0.9\n0, 0.2\n", b"score,label,extra\n0.9,1,a\n0.2,0,b\n", GOOD + b"\n\n"):
        parsed = roc.parse_scores_csv(raw)
        assert parsed.ok, (raw, parsed.error)
        assert set(np.unique(parsed.y)) == {0, 1}
    parsed = roc.parse_scores_csv(GOOD)
    assert parsed.y.tolist() == [1, 0, 1, 0, 0] and parsed.s.tolist() == [0.9, 0.2, 0.55, 0.55, 0.1]
    ref = pd.read_csv(io.BytesIO(roc.example_csv().encode()))
    ex = roc.parse_scores_csv(roc.example_csv().encode())
    assert ex.ok and np.array_equal(ex.y, ref["label"]) and np.array_equal(ex.s, ref["score"])


@pytest.mark.parametrize(("raw", "phrase"), [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"label,score\n", "no data rows"),
    (b"a,b\n1,0.3\n0,0.2\n", "No label and score column"),
    (b"label,value\n1,0.3\n0,0.2\n", "No score column"),
    (b"1,0.9\n0,0.1\n", "No label and score column"),
    (b"label,score\n1,0.9\n2,0.1\n0,0.3\n", "Labels must be 0 (negative) or 1"),
    (b"label,score\n1,0.9\nyes,0.1\n", "'yes'"),
    (b"label,score\n1,0.9\n,0.1\n", "Empty label on line 3"),
    (b"label,score\n1,0.9\n0,\n", "Empty score on line 3"),
    (b"label,score\n1,0.9\n0,abc\n", "Scores must be numbers"),
    (b"label,score\n1,0.9\n0,nan\n0,0.1\n", "NaN"),
    (b"label,score\n1,inf\n0,0.1\n", "Infinite score on line 2"),
    (b"label,score\n1,0.9\n0,-inf\n", "Infinite"),
    (b"label,score\n1,0.9\n1,0.1\n", "Only one class"),
    (b"label,score\n0,0.9\n0,0.1\n", "Only one class"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8"),
    (b'label,score\n1,0.9\n0,"0.1\n', "could not be read"),
])
def test_malformed_csv_gets_a_clear_message(raw, phrase):
    parsed = roc.parse_scores_csv(raw)
    assert not parsed.ok and parsed.y is None
    assert phrase in parsed.error, parsed.error


def test_size_limits():
    many = b"label,score\n" + b"".join(b"%d,0.%d\n" % (i % 2, i % 10) for i in range(60))
    assert "more than 50 rows" in roc.parse_scores_csv(many, max_rows=50).error
    assert roc.parse_scores_csv(many, max_rows=60).ok
    assert "limit" in roc.parse_scores_csv(many, max_bytes=100).error


def test_random_bytes_never_raise():
    rng = np.random.default_rng(0)
    pieces = [b"label", b"score", b",", b"\n", b"0", b"1", b"0.5", b"nan", b"inf", b"\"", b";", b"x", b"\xff", b" "]
    for _ in range(300):
        raw = b"".join(rng.choice(pieces, rng.integers(0, 40)))
        parsed = roc.parse_scores_csv(raw)
        assert parsed.ok or parsed.error


# -- tables shown or downloaded ----------------------------------------------------------


def test_curve_table_csv_round_trips_to_sklearn():
    rng = np.random.default_rng(2)
    y, s = random_case(rng, 300, "rounded")
    table = pd.read_csv(io.StringIO(roc.curve_table_csv(roc.curve_counts(y, s))))
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(table["fpr"], fpr, atol=1e-9)
    np.testing.assert_allclose(table["tpr"], tpr, atol=1e-9)
    np.testing.assert_allclose(table["threshold"], thr, rtol=1e-9)
    p, _, _ = skm.precision_recall_curve(y, s)
    np.testing.assert_allclose(table["precision"][1:][::-1], p[:-1], atol=1e-9)
    assert np.isnan(table["precision"][0])
    assert (table["tp"] + table["fn"] == y.sum()).all() and (table["fp"] + table["tn"] == len(y) - y.sum()).all()


def test_algorithm_table_points_are_the_roc_points():
    y, s = [1, 1, 0, 1, 0, 1, 0, 0], [0.9, 0.8, 0.8, 0.6, 0.5, 0.5, 0.5, 0.2]
    table = roc.algorithm_table(y, s)
    points = table[table["curve point?"] == "yes"]
    fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(points["FPR"], fpr[1:])
    np.testing.assert_allclose(points["TPR"], tpr[1:])
    assert list(table["score"]) == sorted(s, reverse=True)


def test_analysis_bundle():
    rng = np.random.default_rng(9)
    y, s = random_case(rng, 1000, "continuous")
    a = roc.analyse_scores(y, s)
    assert a.auc == pytest.approx(skm.roc_auc_score(y, s)) and a.ap == pytest.approx(skm.average_precision_score(y, s))
    assert a.hist_pos.sum() == y.sum() and a.hist_neg.sum() == len(y) - y.sum()
    assert a.edges[0] == s.min() and a.edges[-1] == s.max()


# -- score sources ----------------------------------------------------------------------


def test_binormal_auc_formula_against_integration_and_a_big_sample():
    for sep, spread in ((0.0, 1.0), (1.5, 1.0), (1.0, 2.0), (3.0, 0.5)):
        config = SyntheticConfig(separation=sep, spread=spread, prevalence=0.3, n=200_000, seed=1)
        integral, _ = integrate.quad(
            lambda t, sep=sep, spread=spread: stats.norm.pdf(t, sep, spread) * stats.norm.cdf(t), -30, 30)
        assert population_auc(config) == pytest.approx(integral, abs=1e-8)
        y, s = synthetic_scores(config)
        assert roc.roc_auc(y, s) == pytest.approx(population_auc(config), abs=0.006)
        assert y.mean() == pytest.approx(0.3, abs=1e-4)


def test_population_curves_roc_ignores_prevalence_pr_does_not():
    a = population_curves(SyntheticConfig(prevalence=0.5))
    b = population_curves(SyntheticConfig(prevalence=0.01))
    assert np.array_equal(a["fpr"], b["fpr"]) and np.array_equal(a["tpr"], b["tpr"])
    assert np.all(b["precision"][5:] < a["precision"][5:])
    t = a["threshold"]
    np.testing.assert_allclose(a["fpr"], stats.norm.sf(t), atol=1e-12)
    np.testing.assert_allclose(a["tpr"], stats.norm.sf(t, 1.5, 1.0), atol=1e-12)
    # against a big sample: precision at a threshold
    config = SyntheticConfig(prevalence=0.05, n=400_000)
    y, s = synthetic_scores(config)
    c = roc.confusion_at(y, s, 2.0)
    pop = population_curves(config, points=4001)
    i = int(np.argmin(np.abs(pop["threshold"] - 2.0)))
    assert c.precision == pytest.approx(pop["precision"][i], abs=0.01)


def test_changing_prevalence_keeps_the_scores_already_drawn():
    y1, s1 = synthetic_scores(SyntheticConfig(prevalence=0.1, n=1000))
    y2, s2 = synthetic_scores(SyntheticConfig(prevalence=0.02, n=1000))
    neg1, neg2 = s1[y1 == 0], s2[y2 == 0]
    assert np.array_equal(neg1, neg2[: len(neg1)])
    pos1, pos2 = s1[y1 == 1], s2[y2 == 1]
    assert np.array_equal(pos2, pos1[: len(pos2)])
    assert SyntheticConfig(prevalence=0.01, n=200).n_pos == 2
    with pytest.raises(ValueError, match="prevalence"):
        SyntheticConfig(prevalence=0.0)


def test_dataset_and_sklearn_models():
    config = DatasetConfig(n_samples=2000, prevalence=0.1, seed=3)
    data = make_dataset(config)
    assert data.y_train.mean() == pytest.approx(0.1, abs=0.01) and data.y_test.mean() == pytest.approx(0.1, abs=0.01)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    scores = fit_sklearn_models(config)
    for name, s in scores.items():
        assert s.shape == data.y_test.shape and s.min() >= 0 and s.max() <= 1
        assert skm.roc_auc_score(data.y_test, s) > 0.8, name
    again = fit_sklearn_models(config)
    assert all(np.array_equal(scores[k], again[k]) for k in scores)


def test_the_parameter_table_builds_the_configs_defaults():
    values = PARAMS.defaults()
    assert synthetic_config(values) == SyntheticConfig()
    assert dataset_config(values) == DatasetConfig() and mlp_config(values) == MlpConfig()
    assert synthetic_config({**values, "prevalence_percent": 30}).prevalence == pytest.approx(0.3)
    for p in PARAMS:  # readable link names: whole words joined by underscores
        assert all(len(word) > 1 for word in p.url.split("_")) and p.url.islower(), p.url


def test_the_classifiers_threshold_reaches_past_a_forest_scoring_one():
    """A random forest scores exactly 1.0 on easy data (every tree's leaf pure): the slider must still
    reach a threshold that calls nothing positive (it stopped at 1.0, which called those cases positive)."""
    config = DatasetConfig(n_samples=2000, prevalence=0.5, class_sep=2.0)
    s = fit_sklearn_models(config)["forest"]
    assert s.max() == 1.0 and s.min() >= MODEL_THRESHOLDS.lo
    assert MODEL_THRESHOLDS.hi > s.max() and not (s >= MODEL_THRESHOLDS.hi).any()
    assert (s >= MODEL_THRESHOLDS.lo).all()  # and the lowest position calls every case positive
    assert PARAMS["model_threshold"].hi == MODEL_THRESHOLDS.hi


def test_mlp_trainer_learns_and_reports_verified_metrics():
    config = MlpConfig(data=DatasetConfig(n_samples=600, prevalence=0.2), hidden=16, lr=0.02, max_steps=100)
    trainer = MlpTrainer(config)
    first = trainer.snapshot()
    snap = trainer.train(100)
    assert snap.step == 100 and snap.done and snap.error is None
    assert snap.losses[-1] < snap.losses[0]
    assert snap.metrics["auc"] == pytest.approx(skm.roc_auc_score(snap.y_test, snap.scores))
    assert snap.metrics["ap"] == pytest.approx(skm.average_precision_score(snap.y_test, snap.scores))
    assert snap.metrics["auc"] > max(0.8, first.metrics["auc"])
    again = MlpTrainer(config).train(100)
    np.testing.assert_allclose(again.scores, snap.scores, atol=1e-6)


# -- figure builders -------------------------------------------------------------------


def _axis_titles(fig):
    return fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def test_figures_have_titles_units_and_expected_traces():
    rng = np.random.default_rng(4)
    y, s = random_case(rng, 500, "continuous")
    a = roc.analyse_scores(y, s)
    figs = [
        plots.score_histogram_figure(a.edges, a.hist_neg, a.hist_pos, 0.3, cost_threshold=0.5),
        plots.confusion_figure(5, 2, 1, 9),
        plots.roc_figure([plots.Curve("model", a.fpr, a.tpr)], point=(0.1, 0.5), cost_point=(0.2, 0.6), iso_slope=2.0),
        plots.pr_figure([plots.Curve("model", a.recall, a.precision)], prevalence=0.3, point=(0.5, 0.7)),
        plots.bootstrap_figure(rng.random(50), rng.random(50), (0.1, 0.9), (0.2, 0.8)),
        plots.cost_figure(a.counts.thresholds, a.counts.fp + 2.0 * a.counts.fn, 0.3, 0.5),
        plots.loss_figure(np.arange(1, 11), np.linspace(1, 0.1, 10)),
    ]
    for fig in figs:
        title, x_title, y_title = _axis_titles(fig)
        assert title and "(" in x_title and "(" in y_title, (title, x_title, y_title)
    names = [t.name for t in figs[2].data]
    assert names == ["chance (AUC 0.5)", "model", "equal-cost line", "cheapest threshold", "current threshold"]
    assert len(figs[0].layout.shapes) == 2 and figs[0].layout.shapes[0].x0 == 0.3
    share = plots.score_histogram_figure(a.edges, a.hist_neg, a.hist_pos, 0.3, share=True)
    assert sum(share.data[1].y) == pytest.approx(100.0)
    texts = [a.text for a in figs[1].layout.annotations]
    assert texts == ["TP", "<b>5</b>", "TPR 83.3 %", "FN", "<b>1</b>", "FNR 16.7 %",
                     "FP", "<b>2</b>", "FPR 18.2 %", "TN", "<b>9</b>", "TNR 81.8 %"]


def _rgb(colour: str) -> tuple[float, ...]:
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))


def _wcag_contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio, written out here independently of core.plots.roc."""
    def lum(c):
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in _rgb(c)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(("tp", "fp", "fn", "tn"), [(139, 270, 61, 1530), (0, 0, 200, 1800), (200, 1800, 0, 0),
                                                    (5, 2, 1, 9), (19_999, 1, 1, 19_999), (1, 0, 0, 1)])
def test_confusion_matrix_is_readable_on_any_theme(tp, fp, fn, tn):
    """Opaque tiles (the theme's background never shows through), counts and rates on separate
    lines, and every line of text at WCAG AA contrast (4.5:1) with its own tile."""
    fig = plots.confusion_figure(tp, fp, fn, tn)
    tiles = list(fig.layout.shapes)
    assert len(tiles) == 4
    for tile in tiles:
        assert len(tile.fillcolor) == 7 and tile.fillcolor.startswith("#")  # #rrggbb: no transparency
        assert tile.x1 - tile.x0 > 0.9 and tile.y1 - tile.y0 > 0.9  # tiles fill the plot, a thin gap apart
    notes = list(fig.layout.annotations)
    assert len(notes) == 12
    for k, tile in enumerate(tiles):
        name, count, rate = notes[3 * k: 3 * k + 3]
        assert name.y < count.y < rate.y and count.font.size > rate.font.size  # apart, count largest
        for note in (name, count, rate):
            assert tile.x0 < note.x < tile.x1 and tile.y0 < note.y < tile.y1
            assert _wcag_contrast(note.font.color, tile.fillcolor) >= 4.5, (note.text, note.font.color, tile.fillcolor)
    assert fig.layout.height >= 360


def test_confusion_tiles_keep_their_contrast_at_every_rate():
    for k in range(101):  # every rate from 0 % to 100 %, right calls and errors
        fig = plots.confusion_figure(k, 100 - k, 100 - k, k)
        assert len(fig.layout.shapes) == 4 and len(fig.layout.annotations) == 12
        for j, tile in enumerate(fig.layout.shapes):
            for note in list(fig.layout.annotations)[3 * j: 3 * j + 3]:
                assert _wcag_contrast(note.font.color, tile.fillcolor) >= 4.5, (k, note.text, tile.fillcolor)


@pytest.mark.parametrize(("lo", "hi", "step"), [(-3.23, 4.44, 0.05), (0.1305, 1.03, None), (5.0, 5.0, None),
                                                (-1e6, 3e6, None), (1e-5, 3e-5, None), (0.0, 1.0, 0.01)])
def test_threshold_range_spans_the_scores_and_prints_exactly(lo, hi, step):
    r = roc.threshold_range(lo, hi, step)
    assert r.lo <= lo < r.lo + r.step and hi < r.hi <= hi + r.step + 1e-12  # everything positive ... nothing
    grid = r.grid()
    assert grid[0] == r.lo and grid[-1] == r.hi and len(grid) <= 203
    np.testing.assert_allclose(np.diff(grid), r.step, rtol=1e-9)
    for v in grid:
        assert float(r.text(v)) == v and r.format % v == r.text(v)  # the slider prints the value itself
    if step is None:
        mantissa = r.step / 10 ** math.floor(math.log10(r.step))
        assert round(mantissa, 9) in (1, 2, 5)
    assert r.snap(lo - 100 * r.step) == r.lo and r.snap(hi + 100 * r.step) == r.hi and r.snap(grid[len(grid) // 2]) == grid[len(grid) // 2]


def test_cost_line_is_exact_at_every_requested_threshold_even_when_thinned():
    rng = np.random.default_rng(12)
    y = (rng.random(30_000) < 0.2).astype(int)
    s = rng.standard_normal(30_000) + 1.3 * y
    c = roc.curve_counts(y, s)
    per_case = (1.0 * c.fp + 4.0 * c.fn) / len(y)
    r = roc.threshold_range(float(s.min()), float(s.max()), 0.05)
    x, v = plots.cost_steps(c.thresholds, per_case, (r.lo, r.hi), exact_at=r.grid(), max_points=800)
    assert len(x) <= 800 + len(r.grid()) and x[0] == r.lo and x[-1] == r.hi
    for t in r.grid():
        drawn = v[min(int(np.searchsorted(x, t, side="left")), len(v) - 1)]  # a vh line at t
        called = s >= t
        truth = (np.count_nonzero(called & (y == 0)) + 4.0 * np.count_nonzero(~called & (y == 1))) / len(y)
        assert drawn == pytest.approx(truth), t


def test_simplified_curves_keep_the_picture():
    rng = np.random.default_rng(6)
    y, s = random_case(rng, 20_000, "rounded")
    fpr, tpr, _ = roc.roc_curve(y, s)
    x2, y2 = plots.simplify_curve(fpr, tpr)
    assert len(x2) <= 1500 and roc.auc(x2, y2) == pytest.approx(roc.auc(fpr, tpr), abs=1e-12)
    assert (x2[0], y2[0], x2[-1], y2[-1]) == (0, 0, 1, 1)
    p, r, _ = roc.pr_curve(y, s)
    r2, p2 = plots.simplify_steps(r, p)
    # the step picture's area (the AP sum) is unchanged
    assert -np.sum(np.diff(r2) * p2[:-1]) == pytest.approx(roc.average_precision(y, s), abs=1e-12)
