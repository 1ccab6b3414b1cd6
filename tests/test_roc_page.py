"""The ROC page under AppTest: numbers on screen against scikit-learn, widgets
that change what is shown, links that set the controls, uploads good and bad,
the cost button, the live MLP, and widget fuzzing."""

from __future__ import annotations

import base64
import json

from tests.helpers import link, live_figures, live_view, press, title

import numpy as np
import pytest
from sklearn import metrics as skm

from core import roc
from core.roc_models import (
    PARAMS,
    DatasetConfig,
    SyntheticConfig,
    fit_sklearn_models,
    make_dataset,
    synthetic_scores,
)
from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from ui.url_state import UrlState

PAGE = "pages/roc.py"
KEY = {p.name: UrlState("roc").param_key(p) for p in PARAMS}  # the session key of each control


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


def arr(value) -> np.ndarray:
    """A Plotly JSON array: a list, or {"dtype", "bdata"} (base64 of the raw array)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


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
    at.slider(key=KEY["threshold"]).set_value(2.5).run()
    assert not problems(at)
    after = shown(at)
    assert after["TPR = recall"] != before["TPR = recall"] and after["FPR"] != before["FPR"]
    assert after["AUC (area under ROC)"] == before["AUC (area under ROC)"]  # the curve does not depend on it
    y, s = synthetic_scores(SyntheticConfig())
    pred = (s >= 2.5).astype(int)
    roc_point = trace(chart(at, "ROC: every"), "current threshold")
    pr_point = trace(chart(at, "Precision-recall (AP"), "current threshold")
    assert roc_point["y"][0] == pytest.approx(skm.recall_score(y, pred))
    assert pr_point["y"][0] == pytest.approx(skm.precision_score(y, pred))
    hist = chart(at, "Scores by class")
    assert hist["layout"]["shapes"][0]["x0"] == 2.5
    # nothing called positive at the slider's top: precision undefined, explained with st.info (not an error)
    assert at.slider(key=KEY["threshold"]).max > s.max()
    at.slider(key=KEY["threshold"]).set_value(at.slider(key=KEY["threshold"]).max).run()
    assert shown(at)["Precision"] == "undefined" and not problems(at)
    assert any("precision is undefined" in i.value for i in at.info)


def test_link_sets_controls_and_prevalence_moves_pr_not_roc():
    common = {"sep": "2", "spread": "1.5", "n": "20000", "t": "1.5", "boot": "200"}
    rare = open_page(PAGE, {**common, "prev": "1"})
    even = open_page(PAGE, {**common, "prev": "50"})
    assert rare.slider(key=KEY["separation"]).value == 2.0 and rare.slider(key=KEY["threshold"]).value == 1.5
    assert rare.select_slider(key=KEY["prevalence_percent"]).value == 1
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
    assert bad.slider(key=KEY["separation"]).value == 1.5


def test_cost_button_moves_the_threshold_to_the_cheapest_point():
    at = open_page(PAGE, {"cfp": "1", "cfn": "20"})
    y, s = synthetic_scores(SyntheticConfig())
    choice = roc.cost_optimal(roc.curve_counts(y, s), 1, 20)
    at.button(key="roc:use_cost").click().run()
    assert not problems(at)
    slider = at.slider(key=KEY["threshold"])
    t = slider.value
    grid = np.round(np.arange(slider.min, slider.max + 1e-9, slider.proto.step), 10)  # the slider's positions
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
    at.radio(key=KEY["model"]).set_value("forest").run()
    pred = (scores["forest"] >= 0.5).astype(int)
    assert shown(at)["AUC (area under ROC)"] == f3(skm.roc_auc_score(y, scores["forest"]))
    assert shown(at)["MCC"] == f3(skm.matthews_corrcoef(y, pred))
    overlay = live_figures(at, "roc:models:charts")["roc"]
    assert "ROC of the three models" in title(overlay)
    assert len([t for t in overlay["data"] if "AUC" in t["name"] and "chance" not in t["name"]]) == 3
    # the live MLP: Start, a few fragment ticks, then analyse it
    press(at, "Start", ticks=3, panel="roc:mlp")
    run = at.session_state["roc:mlp"]
    assert run.trainer.step > 0 and not problems(at)
    press(at, "Pause", panel="roc:mlp")
    # paused, the curves drawn are the MLP's at the step drawn, scored by scikit-learn
    view = live_view(at, "roc:models:charts")
    drawn = at.session_state["roc:mlp"].snapshot
    assert view["step"] == drawn.step > 0
    mlp_curve = next(t for t in view["charts"][0]["fig"]["data"] if t["name"].startswith("MLP"))
    assert f"AUC {skm.roc_auc_score(drawn.y_test, drawn.scores):.3f}" in mlp_curve["name"]
    at.radio(key=KEY["model"]).set_value("mlp").run()
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
    assert fuzz_widgets(at, rounds=10, seed=3, skip_keys=(KEY["source"], KEY["n_boot"])) > 0


def test_fuzz_classifier_source():
    at = open_page(PAGE, {"src": "models", "mn": "2000", "boot": "200"})
    skip = (KEY["source"], KEY["n_samples"], KEY["data_seed"], KEY["n_boot"])
    assert fuzz_widgets(at, rounds=5, seed=4, skip_keys=skip) > 0


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


# -- a widget always shows the value the page uses -----------------------------------------


def _all_widgets(at) -> list:
    return [w for kind in ("slider", "select_slider", "number_input", "toggle", "radio") for w in getattr(at, kind)]


def _browser_shows(w):
    """What the browser draws for ``w``, from what the server sent: the value sent with
    it (``set_value``), else the widget's own default (a slider's minimum, the first
    option). Valid for a widget the browser draws afresh: one missing from the run before."""
    p = w.proto
    kind = type(w).__name__
    if kind == "Slider":
        return (list(p.value) if p.set_value else list(p.default))[0]
    if kind == "SelectSlider":
        return p.raw_value[0] if p.set_value else p.options[int(p.default[0])]
    if kind == "Radio":
        return p.raw_value if p.set_value else p.options[p.default]
    return p.value if p.set_value else p.default  # number input, toggle


def _page_uses(w):
    kind = type(w).__name__
    if kind == "SelectSlider":
        return str(w.value)
    if kind == "Radio":
        return w.proto.options[w.index]
    return w.value


def assert_widgets_truthful(at, before: set[str]) -> set[str]:
    """Every widget the browser draws afresh (absent from the last run) must show the value
    the page computes with; returns the ids on screen now, for the next check."""
    lies = [f"{w.key}: shows {_browser_shows(w)!r}, page uses {_page_uses(w)!r}"
            for w in _all_widgets(at) if w.id not in before and _browser_shows(w) != _page_uses(w)]
    assert not lies, lies
    return {w.id for w in _all_widgets(at)}


def test_sliders_show_their_values_after_a_trip_to_the_csv_source():
    """Synthetic -> "Your own CSV" (no file yet) -> Synthetic: the sliders come back showing
    the values the results use (they showed their minimum)."""
    link = {"sep": "2.5", "spread": "1.5", "prev": "20", "n": "5000", "seed": "7", "t": "1.5", "cfp": "2",
            "cfn": "20", "boot": "200", "counts": "1"}
    at = open_page(PAGE, link)
    on_screen = assert_widgets_truthful(at, set())
    at.radio(key=KEY["source"]).set_value("csv").run()
    on_screen = assert_widgets_truthful(at, on_screen)
    at.radio(key=KEY["source"]).set_value("synthetic").run()
    assert not problems(at), problems(at)
    assert at.slider(key=KEY["separation"]).value == 2.5 and at.select_slider(key=KEY["cost_fn"]).value == 20
    assert_widgets_truthful(at, on_screen)
    # the results use those values: the numbers are the ones of that link's scores
    y, s = synthetic_scores(SyntheticConfig(separation=2.5, spread=1.5, prevalence=0.2, n=5000, seed=7))
    assert shown(at)["TPR = recall"] == f3(skm.recall_score(y, (s >= 1.5).astype(int)))


def test_cost_sliders_show_the_costs_the_text_uses_once_a_csv_is_loaded():
    at = open_page(PAGE, {"boot": "1000"})
    on_screen = assert_widgets_truthful(at, set())
    at.radio(key=KEY["source"]).set_value("csv").run()
    on_screen = assert_widgets_truthful(at, on_screen)
    at.file_uploader(key="roc:upload").set_value(("mine.csv", GOOD, "text/csv")).run()
    assert not problems(at), problems(at)
    assert_widgets_truthful(at, on_screen)
    assert _browser_shows(at.select_slider(key=KEY["cost_fp"])) == "1"
    assert _browser_shows(at.select_slider(key=KEY["cost_fn"])) == "5"
    assert _browser_shows(at.select_slider(key=KEY["n_boot"])) == "1000"
    text = next(m for m in at.markdown.values if "the cheapest rule" in m)
    assert "costing **1** and a false negative **5**" in text


# -- the threshold slider spans the scores; charts keep their axes -----------------------------


def _cost_on_line(x: list[float], y: list[float], t: float) -> float:
    """The value a ``line_shape="vh"`` step line (x increasing) draws at ``t``."""
    j = int(np.searchsorted(np.asarray(x), t, side="left"))
    return y[min(j, len(y) - 1)]


@pytest.mark.parametrize("link", [{}, {"sep": "0", "n": "200", "seed": "5"}, {"sep": "4", "spread": "2", "n": "20000"}])
def test_threshold_slider_spans_the_scores_and_charts_keep_their_axes(link):
    at = open_page(PAGE, {**link, "boot": "200"})
    assert not problems(at), problems(at)
    cfg = {"sep": "separation", "spread": "spread", "n": "n", "seed": "seed"}
    y, s = synthetic_scores(SyntheticConfig(**{cfg[k]: (int(v) if k in ("n", "seed") else float(v))
                                               for k, v in link.items()}))
    slider = at.slider(key=KEY["threshold"])
    lo, hi, step = slider.min, slider.max, slider.proto.step
    # from the lowest score (everything called positive) to just above the highest (nothing is)
    assert lo <= s.min() < lo + step and hi - step <= s.max() < hi, (lo, hi, s.min(), s.max())
    ranges = []
    for t in (lo, slider.value, hi):
        at.slider(key=KEY["threshold"]).set_value(t).run()
        assert not problems(at), problems(at)
        hist, cost = chart(at, "Scores by class"), chart(at, "Average cost per case")
        ranges.append((tuple(hist["layout"]["xaxis"]["range"]), tuple(cost["layout"]["xaxis"]["range"])))
    assert ranges[0] == ranges[1] == ranges[2] == ((lo, hi), (lo, hi))  # no rescaling as the threshold moves
    # the cost curve covers every slider position and draws the cost of each one (brute force with sklearn)
    line = cost["data"][0]
    x, c = arr(line["x"]).astype(float).tolist(), arr(line["y"]).astype(float).tolist()
    assert line["line"]["shape"] == "vh" and x[0] <= lo and x[-1] >= hi
    for t in np.round(np.arange(lo, hi + step / 2, step), 10).tolist():  # every position, by brute force
        called = s >= t
        fp, fn = np.count_nonzero(called & (y == 0)), np.count_nonzero(~called & (y == 1))
        assert _cost_on_line(x, c, t) == pytest.approx((1 * fp + 5 * fn) / len(y)), t


def test_threshold_reads_the_same_on_the_slider_and_in_the_text():
    """An upload whose scores need a fine step: the slider showed 0.49 where the text said 0.4949."""
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.4).astype(int)
    s = np.round(0.13 + 0.7 * rng.random(400) + 0.2 * y, 4)  # about 0.13 to 1.03
    raw = ("label,score\n" + "".join(f"{a},{b}\n" for a, b in zip(y, s, strict=True))).encode()
    at = open_page(PAGE, {"src": "csv", "boot": "200"})
    at.file_uploader(key="roc:upload").set_value(("fine.csv", raw, "text/csv")).run()
    assert not problems(at), problems(at)
    slider = at.slider[0]
    for k in (0, 37, 101, 160):
        t = float(np.round(slider.min + k * slider.proto.step, 10))
        at.slider[0].set_value(t).run()
        slider = at.slider[0]
        on_slider = slider.proto.format % slider.value
        assert float(on_slider) == slider.value  # the slider prints its value exactly
        caption = next(c.value for c in at.caption if "cases called positive at threshold" in c.value)
        assert f"at threshold {on_slider}." in caption
        assert chart(at, "Scores by class")["layout"]["annotations"][0]["text"] == f" threshold {on_slider}"
        cost_text = next(m for m in at.markdown.values if "the cheapest rule" in m)
        assert f"The current threshold, {on_slider}, costs" in cost_text
        # and the numbers are those of that threshold
        assert shown(at)["TPR = recall"] == f3(skm.recall_score(y, (s >= slider.value).astype(int)))


def test_threshold_charts_sit_under_the_slider_and_the_confusion_matrix_is_exact():
    at = open_page(PAGE)
    y, s = synthetic_scores(SyntheticConfig())
    keys = [el.proto.id.split("-", 2)[-1] if el.proto.id else "" for el in at.get("plotly_chart")]
    order = [k for k in keys if k in ("roc:fig:hist", "roc:fig:roc", "roc:fig:pr", "roc:fig:confusion")]
    assert order[:3] == ["roc:fig:hist", "roc:fig:roc", "roc:fig:pr"], keys  # the row under the slider
    confusion = chart(at, "Confusion matrix")
    (tn, fp), (fn, tp) = skm.confusion_matrix(y, (s >= 1.0).astype(int))
    texts = [a["text"] for a in confusion["layout"]["annotations"]]
    for name, count, rate_name, rate in (("TP", tp, "TPR", tp / (tp + fn)), ("FN", fn, "FNR", fn / (tp + fn)),
                                         ("FP", fp, "FPR", fp / (fp + tn)), ("TN", tn, "TNR", tn / (fp + tn))):
        i = texts.index(name)
        assert texts[i + 1] == f"<b>{count:,}</b>" and texts[i + 2] == f"{rate_name} {100 * rate:.1f} %"


# -- links from before the parameter table, the forest's threshold, the prevalence note ------

# every code a link used before the parameter table -> the name it has now (written out here, not read
# from the table, so that a renamed control breaks this test)
RENAMED = {"src": "source", "sep": "separation", "prev": "prevalence", "n": "sample_size",
           "mprev": "data_prevalence", "mn": "data_samples", "msep": "data_separation", "mseed": "data_seed", "hid": "hidden_units",
           "lr": "learning_rate", "bal": "balanced_loss", "t": "threshold", "tp": "model_threshold",
           "cfp": "false_positive_cost", "cfn": "false_negative_cost", "boot": "bootstrap_resamples",
           "counts": "histogram_counts"}
OLD_LINKS = [
    {"sep": "2.5", "spread": "1.5", "prev": "20", "n": "5000", "seed": "7", "t": "1.5", "cfp": "2", "cfn": "20",
     "boot": "200", "counts": "1"},
    {"src": "models", "mprev": "10", "mn": "2000", "msep": "1.5", "mseed": "3", "hid": "16", "lr": "0.03",
     "bal": "1", "model": "forest", "tp": "0.3", "cfp": "0.5", "boot": "200"},
]


_link = link  # tests.helpers.link: the link, one value per name

def _shows(w, raw: str) -> bool:
    """Whether widget ``w`` shows the link's value ``raw``."""
    value = w.value if type(w).__name__ == "Radio" else _page_uses(w)  # a radio's option, not its label
    if isinstance(value, bool):
        return value == (raw == "1")
    try:
        return float(value) == float(raw)
    except ValueError:
        return value == raw


@pytest.mark.parametrize("old", OLD_LINKS, ids=["synthetic", "models"])
def test_a_link_with_the_old_codes_opens_the_same_page_under_the_new_names(old):
    new = {RENAMED.get(code, code): raw for code, raw in old.items()}
    at_old, at_new = open_page(PAGE, old), open_page(PAGE, new)
    assert not problems(at_old) and not problems(at_new), (problems(at_old), problems(at_new))
    widgets_old = {w.key: _page_uses(w) for w in _all_widgets(at_old)}
    widgets_new = {w.key: _page_uses(w) for w in _all_widgets(at_new)}
    assert widgets_old == widgets_new
    by_key = {w.key: w for w in _all_widgets(at_new)}
    for name, raw in new.items():  # and they show the link's values (so the link was read at all)
        key = next(KEY[p.name] for p in PARAMS if p.url == name)
        assert _shows(by_key[key], raw), (name, raw, _page_uses(by_key[key]))
    assert _link(at_old) == _link(at_new) == new  # the page's link now carries the new names


def test_a_forest_scoring_one_still_gets_a_threshold_that_calls_nothing_positive():
    link = {"source": "models", "data_samples": "2000", "data_prevalence": "50", "data_separation": "2",
            "model": "forest", "bootstrap_resamples": "200"}
    at = open_page(PAGE, link)
    config = DatasetConfig(n_samples=2000, prevalence=0.5, class_sep=2.0)
    y, s = make_dataset(config).y_test, fit_sklearn_models(config)["forest"]
    assert s.max() == 1.0  # the case of the issue: a slider ending at 1.0 called these cases positive
    slider = at.slider(key=KEY["model_threshold"])
    assert slider.min <= s.min() and slider.max > s.max()
    at.slider(key=KEY["model_threshold"]).set_value(slider.max).run()
    assert not problems(at), problems(at)
    assert shown(at)["Precision"] == "undefined" and shown(at)["TPR = recall"] == "0.000"
    at.slider(key=KEY["model_threshold"]).set_value(1.0).run()
    assert shown(at)["TPR = recall"] == f3(skm.recall_score(y, (s >= 1.0).astype(int))) != "0.000"


def _prevalence_note(at) -> bool:
    return any("Prevalence moves one curve" in i.value for i in at.info)


def test_the_prevalence_note_shows_only_with_the_synthetic_prevalence_slider():
    """It tells the learner to move a prevalence slider and watch dashed curves: the synthetic source
    has both; an upload has neither, and the classifiers' slider draws a new data set (both curves move)."""
    assert _prevalence_note(open_page(PAGE, {"bootstrap_resamples": "200"}))
    at = open_page(PAGE, {"source": "csv", "bootstrap_resamples": "200"})
    at.file_uploader(key="roc:upload").set_value(("mine.csv", GOOD, "text/csv")).run()
    assert shown(at)["AUC (area under ROC)"] and not problems(at)  # analysed
    assert not _prevalence_note(at)
    at = open_page(PAGE, {"source": "models", "data_samples": "2000", "bootstrap_resamples": "200"})
    assert shown(at)["AUC (area under ROC)"] and not _prevalence_note(at)
