"""The ROC page under AppTest: numbers on screen against scikit-learn, widgets
that change what is shown, links that set the controls, uploads good and bad,
the cost button, the live MLP, and widget fuzzing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from core import roc
from core.roc_models import DatasetConfig, SyntheticConfig, fit_sklearn_models, make_dataset, synthetic_scores
from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems

PAGE = "pages/roc.py"


def shown(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart(at, title_part: str) -> dict:
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if title_part in spec["layout"]["title"]["text"]:
            return spec
    raise AssertionError(f"no chart titled ...{title_part}...")


def trace(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name") == name)


def f3(x: float) -> str:
    return f"{x:.3f}"


def test_default_page_numbers_match_sklearn():
    at = open_page(PAGE)
    assert not problems(at), problems(at)
    assert at.title[0].value.startswith("📈")
    y, s = synthetic_scores(SyntheticConfig())
    values = shown(at)
    pred = (s >= 1.0).astype(int)  # the default threshold
    assert values["TPR = recall"] == f3(skm.recall_score(y, pred))
    assert values["FPR"] == f3(1 - skm.recall_score(y, pred, pos_label=0))
    assert values["Precision"] == f3(skm.precision_score(y, pred))
    assert values["F1"] == f3(skm.f1_score(y, pred))
    assert values["Accuracy"] == f3(skm.accuracy_score(y, pred))
    assert values["MCC"] == f3(skm.matthews_corrcoef(y, pred))
    assert values["Youden's J"] == f3(2 * skm.balanced_accuracy_score(y, pred) - 1)
    assert values["AUC (area under ROC)"] == f3(skm.roc_auc_score(y, s))
    assert values["Average precision (AP)"] == f3(skm.average_precision_score(y, s))
    point = trace(chart(at, "ROC: every"), "current threshold")
    (tn, fp), (fn, tp) = skm.confusion_matrix(y, pred)
    assert point["x"][0] == pytest.approx(fp / (fp + tn)) and point["y"][0] == pytest.approx(tp / (tp + fn))
    texts = " ".join(at.markdown.values) + " ".join(i.value for i in at.info)
    assert "leaves the ROC curve in place" in texts


def test_threshold_slider_moves_metrics_and_points():
    at = open_page(PAGE)
    before = shown(at)
    at.slider(key="roc:t").set_value(2.5).run()
    assert not problems(at)
    after = shown(at)
    assert after["TPR = recall"] != before["TPR = recall"] and after["FPR"] != before["FPR"]
    assert after["AUC (area under ROC)"] == before["AUC (area under ROC)"]  # the curve does not depend on it
    y, s = synthetic_scores(SyntheticConfig())
    pred = (s >= 2.5).astype(int)
    roc_point = trace(chart(at, "ROC: every"), "current threshold")
    pr_point = trace(chart(at, "Precision-recall: the same"), "current threshold")
    assert roc_point["y"][0] == pytest.approx(skm.recall_score(y, pred))
    assert pr_point["y"][0] == pytest.approx(skm.precision_score(y, pred))
    hist = chart(at, "Scores by class")
    assert hist["layout"]["shapes"][0]["x0"] == 2.5
    # nothing called positive: precision undefined, explained with st.info (not an error)
    at.slider(key="roc:t").set_value(10.0).run()
    assert shown(at)["Precision"] == "undefined" and not problems(at)
    assert any("precision is undefined" in i.value for i in at.info)


def test_link_sets_controls_and_prevalence_moves_pr_not_roc():
    common = {"sep": "2", "spread": "1.5", "n": "20000", "t": "1.5", "boot": "200"}
    rare = open_page(PAGE, {**common, "prev": "1"})
    even = open_page(PAGE, {**common, "prev": "50"})
    assert rare.slider(key="roc:sep").value == 2.0 and rare.slider(key="roc:t").value == 1.5
    assert rare.select_slider(key="roc:prev").value == 1
    a_rare, a_even = shown(rare), shown(even)
    auc_rare, auc_even = float(a_rare["AUC (area under ROC)"]), float(a_even["AUC (area under ROC)"])
    ap_rare, ap_even = float(a_rare["Average precision (AP)"]), float(a_even["Average precision (AP)"])
    assert abs(auc_rare - auc_even) < 0.03 and ap_even - ap_rare > 0.3
    assert a_rare["AUC of the infinite sample"] == a_even["AUC of the infinite sample"]
    config = SyntheticConfig(separation=2.0, spread=1.5, prevalence=0.01, n=20000)
    y, s = synthetic_scores(config)
    assert a_rare["Average precision (AP)"] == f3(skm.average_precision_score(y, s))
    bad = open_page(PAGE, {"sep": "banana", "t": "99"})
    assert len(bad.warning) >= 2 and not problems(bad)
    assert bad.slider(key="roc:sep").value == 1.5


def test_cost_button_moves_the_threshold_to_the_cheapest_point():
    at = open_page(PAGE, {"cfp": "1", "cfn": "20"})
    y, s = synthetic_scores(SyntheticConfig())
    choice = roc.cost_optimal(roc.curve_counts(y, s), 1, 20)
    at.button(key="roc:use_cost").click().run()
    assert not problems(at)
    t = at.slider(key="roc:t").value
    grid = np.round(np.arange(-4.0, 10.0 + 1e-9, 0.05), 10)  # the slider's positions
    costs = []
    for g in grid:
        (_, fp), (fn, _) = skm.confusion_matrix(y, (s >= g).astype(int), labels=[0, 1])
        costs.append(fp + 20 * fn)
    (_, fp), (fn, _) = skm.confusion_matrix(y, (s >= t).astype(int))
    assert fp + 20 * fn == min(costs)
    assert min(costs) >= choice.cost
    assert at.button(key="roc:use_cost").disabled
    cost_text = next(m for m in at.markdown.values if "the cheapest rule" in m)
    assert f"{choice.cost_per_case:.4g}" in cost_text


def test_classifier_source_matches_sklearn_and_mlp_trains_live():
    at = open_page(PAGE, {"src": "models", "mn": "2000", "mprev": "10", "boot": "200"})
    assert not problems(at), problems(at)
    config = DatasetConfig(n_samples=2000, prevalence=0.1)
    y = make_dataset(config).y_test
    scores = fit_sklearn_models(config)
    assert shown(at)["AUC (area under ROC)"] == f3(skm.roc_auc_score(y, scores["logistic"]))
    at.radio(key="roc:model").set_value("forest").run()
    pred = (scores["forest"] >= 0.5).astype(int)
    assert shown(at)["AUC (area under ROC)"] == f3(skm.roc_auc_score(y, scores["forest"]))
    assert shown(at)["MCC"] == f3(skm.matthews_corrcoef(y, pred))
    overlay = chart(at, "ROC of the three models")
    assert len([t for t in overlay["data"] if "AUC" in t["name"] and "chance" not in t["name"]]) == 3
    # the live MLP: Start, a few fragment ticks, then analyse it
    at.button(key="roc:mlp:toggle").click().run()
    for _ in range(3):
        at.run()
    run = at.session_state["roc:mlp"]
    assert run.trainer.step > 0 and not problems(at)
    at.button(key="roc:mlp:toggle").click().run()  # pause
    at.radio(key="roc:model").set_value("mlp").run()
    snap = at.session_state["roc:mlp"].snapshot
    assert shown(at)["AUC (area under ROC)"] == f3(skm.roc_auc_score(snap.y_test, snap.scores))
    assert not problems(at)


GOOD = b"label,score\n" + b"".join(b"%d,%.2f\n" % (i % 3 == 0, (i % 17) / 17 + 0.3 * (i % 3 == 0)) for i in range(300))


def test_good_upload_is_analysed():
    at = open_page(PAGE, {"src": "csv"})
    assert not problems(at) and any("No file yet" in i.value for i in at.info)
    at.file_uploader(key="roc:upload").set_value(("mine.csv", GOOD, "text/csv")).run()
    assert not problems(at), problems(at)
    parsed = roc.parse_scores_csv(GOOD)
    values = shown(at)
    assert values["AUC (area under ROC)"] == f3(skm.roc_auc_score(parsed.y, parsed.s))
    assert values["Average precision (AP)"] == f3(skm.average_precision_score(parsed.y, parsed.s))
    assert any("300 rows" in s.value for s in at.success)
    slider = at.slider[0]
    slider.set_value(slider.min + 10 * slider.step).run()
    assert shown(at)["TPR = recall"] != values["TPR = recall"] or shown(at)["FPR"] != values["FPR"]
    assert not problems(at)


@pytest.mark.parametrize(("raw", "phrase"), [
    (b"", "empty"),
    (b"label,score\n", "no data rows"),
    (b"name,value\n1,0.2\n0,0.4\n", "No label and score column"),
    (b"label,score\n1,0.9\n3,0.1\n", "Labels must be 0"),
    (b"label,score\n1,0.9\n1,0.1\n", "Only one class"),
    (b"label,score\n1,0.9\n0,nan\n", "NaN"),
    (b"label,score\n1,inf\n0,0.1\n", "Infinite"),
    (b"label,score\n" + b"1,0.5\n0,0.4\n" * 100_001, "more than 200,000 rows"),
])
def test_malformed_uploads_get_a_clear_message(raw, phrase):
    at = open_page(PAGE, {"src": "csv"})
    at.file_uploader(key="roc:upload").set_value(("bad.csv", raw, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and phrase in at.error[0].value, at.error[0].value if at.error else "no error"
    assert not at.metric  # nothing analysed


def test_download_and_algorithm_expander():
    at = open_page(PAGE)
    labels = [b.label for b in at.get("download_button")] if at.get("download_button") else []
    assert any(label.startswith("⬇️ Curve points") for label in labels) or any(
        "Curve points" in str(b.proto) for b in at.get("download_button"))
    frames = at.dataframe
    assert frames, "the worked example table is missing"
    table = frames[0].value
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    assert any("from scratch" in e.proto.label for e in at.expander)


def test_fuzz_synthetic_source():
    at = open_page(PAGE, {"boot": "200"})
    assert fuzz_widgets(at, rounds=10, seed=3, skip_keys=("roc:src", "roc:boot")) > 0


def test_fuzz_classifier_source():
    at = open_page(PAGE, {"src": "models", "mn": "2000", "boot": "200"})
    assert fuzz_widgets(at, rounds=5, seed=4, skip_keys=("roc:src", "roc:mn", "roc:mseed", "roc:boot")) > 0


def test_big_upload_gets_fewer_resamples_and_says_so():
    rng = np.random.default_rng(0)
    y = (rng.random(25_000) < 0.2).astype(int)
    s = np.round(rng.standard_normal(25_000) + y, 4)
    raw = ("label,score\n" + "".join(f"{a},{b}\n" for a, b in zip(y, s, strict=True))).encode()
    at = open_page(PAGE, {"src": "csv", "boot": "2000"})
    at.file_uploader(key="roc:upload").set_value(("big.csv", raw, "text/csv")).run()
    assert not problems(at), problems(at)
    assert any("use 800 resamples instead of 2,000" in c.value for c in at.caption)
    assert shown(at)["AUC (area under ROC)"] == f3(skm.roc_auc_score(y, s))
