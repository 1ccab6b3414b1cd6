"""The entropy page under AppTest: presets, typed distributions, units, links,
infinite KL, widget fuzzing, and both live panels (KL fits, loss lab)."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
import scipy.stats

from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from tests.helpers import live_figures, press, tick_until, title

PAGE = "pages/entropy.py"


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _chart(at, name: str) -> dict:
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(f"entropy:fig:{name}"):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart entropy:fig:{name}")


def _arr(value) -> np.ndarray:
    """A Plotly JSON array: a list, or {"dtype", "bdata"} (base64 of the raw array)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def _num(text: str) -> float:
    return math.inf if text == "∞" else float(text.split()[0])


def _set_preset(at, key):
    at.selectbox(key="entropy:preset").set_value(key).run()
    assert not problems(at), problems(at)


@pytest.fixture(scope="module")
def default_page():
    at = open_page(PAGE)
    assert not problems(at), problems(at)
    return at


def test_defaults_show_the_seed_bins(default_page):
    m = _metrics(default_page)
    p, q = [2, 3, 4], [4, 4, 1]
    assert _num(m["H(P) in bits"]) == pytest.approx(1.53, abs=5e-4)  # the seed's 1.53 bits
    assert _num(m["H(Q) in bits"]) == pytest.approx(scipy.stats.entropy(q, base=2), abs=5e-4)
    assert _num(m["KL(P‖Q) in bits"]) == pytest.approx(scipy.stats.entropy(p, q, base=2), abs=5e-4)
    assert _num(m["KL(Q‖P) in bits"]) == pytest.approx(scipy.stats.entropy(q, p, base=2), abs=5e-4)
    assert any("divided by 9" in i.value for i in default_page.info)  # counts are normalised with a notice
    assert default_page.title[0].value.startswith("🎲")
    assert [t.get("name") for t in _chart(default_page, "dist")["data"]] == ["P", "Q"]


def test_classifier_presets_give_the_seed_losses():
    at = open_page(PAGE)
    _set_preset(at, "guess1")
    assert at.text_input(key="entropy:q").value == "0.15, 0.60, 0.25"
    assert _metrics(at)["H(P, Q) in bits"] == "0.737"  # the seed: 0.736, truncated
    assert _metrics(at)["H(P) in bits"] == "0.000"
    # One-hot P has zeros where Q has mass: KL(Q || P) is infinite, explained as info.
    assert _metrics(at)["KL(Q‖P) in bits"] == "∞"
    assert any("infinite" in i.value and "**A**, **C**" in i.value for i in at.info)
    _set_preset(at, "guess2")
    assert _metrics(at)["H(P, Q) in bits"] == "0.152"  # the seed: 0.15
    _set_preset(at, "onehot")
    assert _metrics(at)["H(P) in bits"] == "0.000" and _metrics(at)["KL(P‖Q) in bits"] == "2.000"
    _set_preset(at, "uniform")
    assert _metrics(at)["H(P) in bits"] == "2.000"
    assert dict(at.query_params) == {"preset": "uniform"}


def test_units_switch_to_nats():
    at = open_page(PAGE)
    at.radio(key="entropy:unit").set_value("nats").run()
    m = _metrics(at)
    assert _num(m["H(P) in nats"]) == pytest.approx(scipy.stats.entropy([2, 3, 4]), abs=5e-4)
    assert "nats" in _chart(at, "split")["layout"]["xaxis"]["title"]["text"]
    assert at.query_params["unit"] == "nats"


def test_typed_distributions_and_their_problems():
    at = open_page(PAGE)
    at.text_input(key="entropy:p").input("0.5, 0.5, 0").run()
    at.text_input(key="entropy:q").input("0.25, 0.25, 0.5").run()
    m = _metrics(at)
    assert _num(m["KL(P‖Q) in bits"]) == pytest.approx(1.0, abs=5e-4)
    assert _num(m["JS(P, Q) in bits"]) == pytest.approx(
        scipy.spatial.distance.jensenshannon([0.5, 0.5, 0], [0.25, 0.25, 0.5], base=2) ** 2, abs=5e-4)
    assert at.query_params["p"] == "0.5, 0.5, 0"
    # Q misses an outcome of P: infinite, with a sentence why; never st.error.
    at.text_input(key="entropy:q").input("1, 0, 1").run()
    assert _metrics(at)["KL(P‖Q) in bits"] == "∞" and _metrics(at)["H(P, Q) in bits"] == "∞"
    assert any("infinite" in i.value and "**green**" in i.value for i in at.info)
    assert not problems(at)
    split = _chart(at, "split")
    assert "KL = ∞" in split["data"][1]["text"]
    for text, words in (("1, -2, 3", "negative"), ("1, 2", "P has 3 outcomes but Q has 2"),
                        ("1, two, 3", "not a number"), (", ".join(["1"] * 11), "between 2 and 10")):
        at.text_input(key="entropy:q").input(text).run()
        if "between" in words:
            at.text_input(key="entropy:p").input(text).run()
        assert any(words in w.value for w in at.warning), (text, [w.value for w in at.warning])
        assert not problems(at)


def test_q_temperature_and_restore_button():
    at = open_page(PAGE, {"preset": "guess1"})
    before = _num(_metrics(at)["H(Q) in bits"])
    assert any("0.737 bits" in c.value for c in at.caption)  # the preset's own explanation
    at.select_slider(key="entropy:qt").set_value(4.0).run()
    assert _num(_metrics(at)["H(Q) in bits"]) > before
    assert any("You changed the preset" in c.value for c in at.caption)
    at.text_input(key="entropy:p").input("1, 1, 1").run()
    at.button(key="entropy:restore").click().run()
    assert at.text_input(key="entropy:p").value == "0, 1, 0"
    assert at.select_slider(key="entropy:qt").value == 1.0
    assert any("0.737 bits" in c.value for c in at.caption)


def test_binary_entropy_point_follows_the_slider(default_page):
    default_page.slider(key="entropy:coin").set_value(0.5).run()
    point = _chart(default_page, "binary")["data"][1]
    assert _arr(point["x"]).tolist() == [0.5] and _arr(point["y"])[0] == pytest.approx(1.0)


def test_a_link_sets_every_main_control():
    params = {"preset": "guess2", "unit": "nats", "p": "1, 2, 3", "q": "3, 2, 1", "qt": "2", "coin": "0.1",
              "gap": "4", "mu0": "-2", "loss": "distill", "T": "8", "alpha": "0.5", "hidden": "64",
              "ntrain": "400", "epochs": "10", "lr": "0.003", "seed": "7", "img": "5"}
    at = open_page(PAGE, params)
    assert not problems(at) and not at.warning
    assert at.selectbox(key="entropy:preset").value == "guess2"
    assert at.text_input(key="entropy:p").value == "1, 2, 3"
    assert at.slider(key="entropy:coin").value == 0.1
    fit = at.session_state["entropy:klfit"].trainer.config
    assert (fit.gap, fit.start_mean) == (4.0, -2.0)
    lab = at.session_state["entropy:lab"].trainer.config
    assert (lab.method, lab.temperature, lab.alpha, lab.hidden, lab.n_train, lab.epochs, lab.lr, lab.seed) == (
        "distill", 8.0, 0.5, 64, 400, 10, 0.003, 7)
    assert "a " in _chart(at, "digit")["layout"]["title"]["text"]


def test_a_bad_link_value_falls_back_with_a_notice():
    at = open_page(PAGE, {"qt": "banana", "loss": "focal"})
    warnings = " ".join(w.value for w in at.warning)
    assert "temperature T" in warnings and "Loss" in warnings
    assert at.select_slider(key="entropy:qt").value == 1.0
    assert not problems(at)


def test_widget_fuzz_never_breaks_the_page():
    at = open_page(PAGE)
    assert fuzz_widgets(at, rounds=12, seed=3) > 0


def test_teacher_view_changes_with_temperature():
    at = open_page(PAGE)
    names = [t["name"] for t in _chart(at, "teacher")["data"]]
    assert names[0].startswith("teacher at T = 1 ") and names[1].startswith("teacher at T = 4 ")
    low = 1 - _arr(_chart(at, "teacher")["data"][1]["y"]).max()
    at.select_slider(key="entropy:T").set_value(20.0).run()
    data = _chart(at, "teacher")["data"]
    assert data[1]["name"].startswith("teacher at T = 20 ")
    assert 1 - _arr(data[1]["y"]).max() > low + 0.1  # softer: more mass off the top class


def test_kl_fit_panel_animates_and_converges():
    at = open_page(PAGE, {"gap": "8.0"})
    at.slider(key="entropy:klfit:spu").set_value(60).run()
    press(at, "Start", panel="entropy:klfit")
    tick_until(at, lambda a: not a.session_state["entropy:klfit"].running)
    at.run()
    run = at.session_state["entropy:klfit"]
    assert run.trainer.step == 300 and not run.running
    m = _metrics(at)
    assert m["Forward fit: mean, sd"] == "0.00, 4.12"  # moment matching: sd = sqrt(1 + 8^2/4)
    assert m["Reverse fit: mean, sd"] == "4.00, 1.00"
    assert "300 gradient steps" in title(live_figures(at, "entropy:klfit:charts")["fit"])


def test_loss_lab_trains_live_and_overlays_runs():
    import torch
    from sklearn.metrics import accuracy_score

    at = open_page(PAGE, {"epochs": "10", "ntrain": "100"})
    press(at, "Start", panel="entropy:lab")
    assert _metrics(at)["Epoch"] == "0 of 10"  # a tick draws, then trains: the next tick shows the epochs
    tick_until(at, lambda a: _metrics(a)["Epoch"] == "10 of 10" and not a.session_state["entropy:lab"].running)
    trainer = at.session_state["entropy:lab"].trainer
    with torch.no_grad():
        predicted = trainer.model(trainer.x_val).argmax(dim=1).numpy()
    independent = accuracy_score(trainer.split.y_val, predicted)  # scikit-learn on the model's own outputs
    assert _metrics(at)["Validation accuracy"] == f"{independent * 100:.1f} %"
    figures = live_figures(at, "entropy:charts")
    rel = figures["reliability"]
    assert sum(int(t) for t in rel["data"][0]["text"]) == 500  # every validation image is in a bin
    assert figures["loss"]["data"][0]["x"] == list(range(11))  # epochs 0..10
    runs = _chart(at, "runs")
    assert [t["name"] for t in runs["data"]] == ["run 1: cross-entropy, 32 units, 100 images"]
    # A second run, with label smoothing, is drawn next to the first.
    at.selectbox(key="entropy:loss").set_value("smooth").run()
    press(at, "Start", panel="entropy:lab")
    tick_until(at, lambda a: _metrics(a)["Epoch"] == "10 of 10" and not a.session_state["entropy:lab"].running)
    names = [t["name"] for t in _chart(at, "runs")["data"]]
    assert names == ["run 1: cross-entropy, 32 units, 100 images",
                     "run 2: label smoothing ε=0.1, 32 units, 100 images"]
    table = at.dataframe[-1].value
    assert list(table["epochs"]) == [10, 10]
    at.radio(key="entropy:cmp").set_value("val_ece").run()
    assert "calibration" in _chart(at, "runs")["layout"]["title"]["text"]
    at.button(key="entropy:clear").click().run()
    assert list(at.session_state["entropy:runs"]) == [2]
    assert len(_chart(at, "runs")["data"]) == 1
    assert not problems(at)


# -- huge weights; links to the later tabs -----------------------------------------------


def test_huge_weights_are_normalised_without_overflow():
    """1e308 + 1e308 overflows to infinity: P became (0, 0, 0) and the page raised."""
    at = open_page(PAGE, {"p": "1e308, 1e308, 1", "q": "1, 1, 1"})
    assert not problems(at), problems(at)
    m = _metrics(at)
    scaled = [1.0, 1.0, 1e-308]  # the same P divided by 1e308 by hand: SciPy can sum these
    assert _num(m["H(P) in bits"]) == pytest.approx(scipy.stats.entropy(scaled, base=2), abs=5e-4)
    assert _num(m["H(P) in bits"]) == pytest.approx(1.0, abs=5e-4)
    assert _num(m["KL(P‖Q) in bits"]) == pytest.approx(scipy.stats.entropy(scaled, [1, 1, 1], base=2), abs=5e-4)
    note = " ".join(i.value for i in at.info)
    assert "P sums to 2e+308, so each entry is divided by 2e+308: P = (0.5, 0.5, 5e-309)." in note


def _tab_container(at):
    def find(node):
        proto = getattr(node, "proto", None)
        if proto is not None and "tab_container" in [f.name for f in proto.DESCRIPTOR.fields] \
                and proto.HasField("tab_container"):
            return node
        for child in getattr(node, "children", {}).values():
            found = find(child)
            if found is not None:
                return found
        return None

    return find(at._tree)


def _open_tab(at) -> str:
    """The tab the browser opens: the tab container's default index."""
    container = _tab_container(at)
    labels = [child.label for child in container.children.values()]
    return labels[container.proto.tab_container.default_tab_index]


@pytest.mark.parametrize(("link", "tab"), [
    ({}, "🎲 A · Entropy, cross-entropy, KL"),
    ({"p": "1, 2, 3", "unit": "nats"}, "🎲 A · Entropy, cross-entropy, KL"),
    ({"gap": "8"}, "⛰️ A · Forward vs reverse KL"),
    ({"loss": "distill", "T": "8", "unit": "nats"}, "🧪 B · Loss lab (live training)"),
    ({"epochs": "10", "gap": "8"}, "🧪 B · Loss lab (live training)"),
])
def test_a_link_opens_the_tab_its_settings_belong_to(link, tab):
    """A link to loss-lab settings opened on the first tab, where none of them are on screen."""
    at = open_page(PAGE, link)
    assert not problems(at), problems(at)
    assert _open_tab(at) == tab
    at.run()  # a rerun (a learner editing a setting) keeps the tab the visit opened with
    assert _open_tab(at) == tab


def _url_params_in(at, block) -> set[str]:
    """The link parameters of the URL-bound widgets drawn inside ``block``."""
    found = set()
    for kind in ("slider", "select_slider", "selectbox", "number_input", "radio", "toggle", "checkbox", "text_input"):
        for w in getattr(block, kind):
            if w.key and w.key.startswith("entropy:") and f"_url_last:{w.key}" in at.session_state:
                found.add(w.key.removeprefix("entropy:"))
    return found


def test_the_tab_parameter_lists_match_the_widgets_each_tab_draws():
    from ui.entropy_views import FIT_PARAMS, LAB_PARAMS

    lab, fit, first = set(), set(), set()
    for method in ("ce", "smooth", "penalty", "distill"):  # each loss draws its own extra slider
        at = open_page(PAGE, {"loss": method})
        first |= _url_params_in(at, at.tabs[0])
        fit |= _url_params_in(at, at.tabs[1])
        lab |= _url_params_in(at, at.tabs[2])
    assert lab == LAB_PARAMS and fit == FIT_PARAMS
    assert first and not first & (LAB_PARAMS | FIT_PARAMS)

