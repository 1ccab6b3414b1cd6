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
from tests.helpers import link, live_figures, press, tick_until, title
from ui.entropy_views import PARAMS, TAB_KEY, TABS
from ui.url_state import UrlState

PAGE = "pages/entropy.py"
KEY = {p.name: UrlState("entropy").param_key(p) for p in PARAMS}  # each control's session key


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


def _show(at, tab: int):
    """Open tab ``tab`` (0, 1 or 2) as a click does: the page reruns and only that tab's content runs."""
    at.session_state[TAB_KEY] = TABS[tab]
    at.run()
    assert not problems(at), problems(at)
    return at


def _set_preset(at, key):
    at.selectbox(key=KEY["preset"]).set_value(key).run()
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
    assert at.text_input(key=KEY["q"]).value == "0.15, 0.60, 0.25"
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
    at.radio(key=KEY["unit"]).set_value("nats").run()
    m = _metrics(at)
    assert _num(m["H(P) in nats"]) == pytest.approx(scipy.stats.entropy([2, 3, 4]), abs=5e-4)
    assert "nats" in _chart(at, "split")["layout"]["xaxis"]["title"]["text"]
    assert at.query_params["unit"] == "nats"


def test_typed_distributions_and_their_problems():
    at = open_page(PAGE)
    at.text_input(key=KEY["p"]).input("0.5, 0.5, 0").run()
    at.text_input(key=KEY["q"]).input("0.25, 0.25, 0.5").run()
    m = _metrics(at)
    assert _num(m["KL(P‖Q) in bits"]) == pytest.approx(1.0, abs=5e-4)
    assert _num(m["JS(P, Q) in bits"]) == pytest.approx(
        scipy.spatial.distance.jensenshannon([0.5, 0.5, 0], [0.25, 0.25, 0.5], base=2) ** 2, abs=5e-4)
    assert at.query_params["p_dist"] == "0.5, 0.5, 0"
    # Q misses an outcome of P: infinite, with a sentence why; never st.error.
    at.text_input(key=KEY["q"]).input("1, 0, 1").run()
    assert _metrics(at)["KL(P‖Q) in bits"] == "∞" and _metrics(at)["H(P, Q) in bits"] == "∞"
    assert any("infinite" in i.value and "**green**" in i.value for i in at.info)
    assert not problems(at)
    split = _chart(at, "split")
    assert "KL = ∞" in split["data"][1]["text"]
    for text, words in (("1, -2, 3", "negative"), ("1, 2", "P has 3 outcomes but Q has 2"),
                        ("1, two, 3", "not a number"), (", ".join(["1"] * 11), "between 2 and 10")):
        at.text_input(key=KEY["q"]).input(text).run()
        if "between" in words:
            at.text_input(key=KEY["p"]).input(text).run()
        assert any(words in w.value for w in at.warning), (text, [w.value for w in at.warning])
        assert not problems(at)


def test_q_temperature_and_restore_button():
    at = open_page(PAGE, {"preset": "guess1"})
    before = _num(_metrics(at)["H(Q) in bits"])
    assert any("0.737 bits" in c.value for c in at.caption)  # the preset's own explanation
    at.select_slider(key=KEY["q_temperature"]).set_value(4.0).run()
    assert _num(_metrics(at)["H(Q) in bits"]) > before
    assert any("You changed the preset" in c.value for c in at.caption)
    at.text_input(key=KEY["p"]).input("1, 1, 1").run()
    at.button(key="entropy:restore").click().run()
    assert at.text_input(key=KEY["p"]).value == "0, 1, 0"
    assert at.select_slider(key=KEY["q_temperature"]).value == 1.0
    assert any("0.737 bits" in c.value for c in at.caption)


def test_binary_entropy_point_follows_the_slider(default_page):
    default_page.slider(key=KEY["heads"]).set_value(0.5).run()
    point = _chart(default_page, "binary")["data"][1]
    assert _arr(point["x"]).tolist() == [0.5] and _arr(point["y"])[0] == pytest.approx(1.0)


def test_a_link_sets_every_main_control():
    params = {"preset": "guess2", "unit": "nats", "p": "1, 2, 3", "q": "3, 2, 1", "qt": "2", "coin": "0.1",
              "gap": "4", "mu0": "-2", "loss": "distill", "T": "8", "alpha": "0.5", "hidden": "64",
              "ntrain": "400", "epochs": "10", "lr": "0.003", "seed": "7", "img": "5"}
    at = open_page(PAGE, params)  # lab settings in the link: it opens on the lab
    assert not problems(at) and not at.warning
    lab = at.session_state["entropy:lab"].trainer.config
    assert (lab.method, lab.temperature, lab.alpha, lab.hidden, lab.n_train, lab.epochs, lab.lr, lab.seed) == (
        "distill", 8.0, 0.5, 64, 400, 10, 0.003, 7)
    assert "a " in _chart(at, "digit")["layout"]["title"]["text"]
    _show(at, 0)
    assert not at.warning
    assert at.selectbox(key=KEY["preset"]).value == "guess2"
    assert at.text_input(key=KEY["p"]).value == "1, 2, 3"
    assert at.slider(key=KEY["heads"]).value == 0.1
    _show(at, 1)
    fit = at.session_state["entropy:klfit"].trainer.config
    assert (fit.gap, fit.start_mean) == (4.0, -2.0)


def test_a_bad_link_value_falls_back_with_a_notice():
    at = open_page(PAGE, {"qt": "banana", "loss": "focal"})  # opens on the lab: "loss" is its setting
    assert "Loss" in " ".join(w.value for w in at.warning)
    assert at.selectbox(key=KEY["method"]).value == "ce"
    _show(at, 0)
    assert "temperature T" in " ".join(w.value for w in at.warning)
    assert at.select_slider(key=KEY["q_temperature"]).value == 1.0
    assert not problems(at)


def test_widget_fuzz_never_breaks_the_page():
    at = open_page(PAGE)
    for tab in (0, 1, 2):  # only the open tab's widgets are on the page
        _show(at, tab)
        assert fuzz_widgets(at, rounds=6, seed=3 + tab) > 0


def test_teacher_view_changes_with_temperature():
    at = _show(open_page(PAGE), 2)
    names = [t["name"] for t in _chart(at, "teacher")["data"]]
    assert names[0].startswith("teacher at T = 1 ") and names[1].startswith("teacher at T = 4 ")
    low = 1 - _arr(_chart(at, "teacher")["data"][1]["y"]).max()
    at.select_slider(key=KEY["temperature"]).set_value(20.0).run()
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
    at.selectbox(key=KEY["method"]).set_value("smooth").run()
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
    ({"p_dist": "1, 2, 3", "heads_probability": "0.2"}, "🎲 A · Entropy, cross-entropy, KL"),
    ({"gap": "8"}, "⛰️ A · Forward vs reverse KL"),
    ({"peak_gap": "8"}, "⛰️ A · Forward vs reverse KL"),
    ({"start_mean": "-1", "unit": "nats"}, "⛰️ A · Forward vs reverse KL"),
    ({"loss": "distill", "T": "8", "unit": "nats"}, "🧪 B · Loss lab (live training)"),
    ({"epochs": "10", "gap": "8"}, "🧪 B · Loss lab (live training)"),
    ({"img": "5"}, "🧪 B · Loss lab (live training)"),  # an old code alone
    ({"temperature": "8", "p_dist": "1, 2, 3"}, "🧪 B · Loss lab (live training)"),
    ({"label_smoothing": "0.2", "peak_gap": "8"}, "🧪 B · Loss lab (live training)"),
    ({"train_images": "400"}, "🧪 B · Loss lab (live training)"),
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
    from ui.entropy_views import FIT_URLS as FIT_PARAMS
    from ui.entropy_views import LAB_URLS as LAB_PARAMS

    lab, fit, first = set(), set(), set()
    for method in ("ce", "smooth", "penalty", "distill"):  # each loss draws its own extra slider
        at = open_page(PAGE, {"loss": method})
        lab |= _url_params_in(at, at.tabs[2])
        assert not _url_params_in(at, at.tabs[0]) | _url_params_in(at, at.tabs[1])  # only the open tab runs
        first |= _url_params_in(_show(at, 0), at.tabs[0])
        fit |= _url_params_in(_show(at, 1), at.tabs[1])
    assert lab == LAB_PARAMS and fit == FIT_PARAMS
    assert lab == {"loss", "label_smoothing", "confidence_penalty", "soft_weight", "temperature", "hidden_units",
                   "train_images", "epochs", "lr", "seed", "image"}
    assert first and not first & (LAB_PARAMS | FIT_PARAMS)
    assert first | fit | lab | {"unit"} == {p.url for p in PARAMS}  # every control is drawn (units: above the tabs)


# -- links from before the parameter table (issue 12) ---------------------------------------

# What a link looked like before the table (the codes of the hand-bound widgets), and the same
# settings under today's names, written out by hand. Each loss draws its own extra slider.
OLD_LINKS = {
    "distill": {"preset": "guess2", "unit": "nats", "p": "1, 2, 3", "q": "3, 2, 1", "qt": "2", "coin": "0.1",
                "gap": "4", "mu0": "-2", "loss": "distill", "T": "8", "alpha": "0.5", "hidden": "64",
                "ntrain": "400", "epochs": "10", "lr": "0.003", "seed": "7", "img": "5"},
    "smooth": {"loss": "smooth", "eps": "0.2", "hidden": "16", "T": "2", "coin": "0.75", "mu0": "0.5"},
    "penalty": {"loss": "penalty", "beta": "0.45", "ntrain": "800", "qt": "0.5", "gap": "9.5", "img": "0"},
}
NEW_LINKS = {
    "distill": {"preset": "guess2", "unit": "nats", "p_dist": "1, 2, 3", "q_dist": "3, 2, 1", "q_temperature": "2",
                "heads_probability": "0.1", "peak_gap": "4", "start_mean": "-2", "loss": "distill",
                "temperature": "8", "soft_weight": "0.5", "hidden_units": "64", "train_images": "400",
                "epochs": "10", "lr": "0.003", "seed": "7", "image": "5"},
    "smooth": {"loss": "smooth", "label_smoothing": "0.2", "hidden_units": "16", "temperature": "2",
               "heads_probability": "0.75", "start_mean": "0.5"},
    "penalty": {"loss": "penalty", "confidence_penalty": "0.45", "train_images": "800", "q_temperature": "0.5",
                "peak_gap": "9.5"},  # image 0 is not the default (487): it stays in the link below
}
NEW_LINKS["penalty"]["image"] = "0"


def _bound_widgets(at) -> dict:
    """Session key -> value of every URL-bound widget on the page, on every tab (each opened in
    turn, the first last)."""
    out = {}
    for tab in (2, 1, 0):
        out |= _bound_here(_show(at, tab))
    return out


def _bound_here(at) -> dict:
    """Session key -> value of every URL-bound widget drawn by the last run."""
    out = {}
    for kind in ("slider", "select_slider", "selectbox", "number_input", "radio", "toggle", "checkbox", "text_input"):
        for w in getattr(at, kind):
            if w.key and w.key.startswith("entropy:") and f"_url_last:{w.key}" in at.session_state:
                out[w.key] = w.value
    return out


_link = link  # tests.helpers.link: the link, one value per name

@pytest.mark.parametrize("method", list(OLD_LINKS))
def test_an_old_link_opens_the_same_settings_and_is_rewritten_with_the_new_names(method):
    old, new = open_page(PAGE, OLD_LINKS[method]), open_page(PAGE, NEW_LINKS[method])
    for at in (old, new):
        assert not problems(at) and not at.warning, [w.value for w in at.warning]
    assert _open_tab(old) == _open_tab(new) == "🧪 B · Loss lab (live training)"
    widgets = _bound_widgets(old)
    assert widgets == _bound_widgets(new)
    for at in (old, new):
        assert not at.warning, [w.value for w in at.warning]
    assert _link(old) == NEW_LINKS[method] == _link(new)  # the page's link now carries the new names
    lab = old.session_state["entropy:lab"].trainer.config
    fit = old.session_state["entropy:klfit"].trainer.config
    if method == "distill":
        assert widgets[KEY["p"]] == "1, 2, 3" and widgets[KEY["q_temperature"]] == 2.0
        assert widgets[KEY["heads"]] == 0.1 and widgets[KEY["image"]] == 5 and widgets[KEY["seed"]] == 7
        assert (lab.method, lab.temperature, lab.alpha, lab.hidden, lab.n_train, lab.epochs, lab.lr, lab.seed) == (
            "distill", 8.0, 0.5, 64, 400, 10, 0.003, 7)
        assert (fit.gap, fit.start_mean) == (4.0, -2.0)
    elif method == "smooth":
        assert (lab.method, lab.smoothing, lab.hidden) == ("smooth", 0.2, 16)
        assert widgets[KEY["temperature"]] == 2.0 and widgets[KEY["heads"]] == 0.75
        assert (fit.gap, fit.start_mean) == (7.0, 0.5)
    else:
        assert (lab.method, lab.penalty, lab.n_train) == ("penalty", 0.45, 800)
        assert widgets[KEY["q_temperature"]] == 0.5 and widgets[KEY["image"]] == 0 and fit.gap == 9.5


def test_defaults_match_the_configs_and_the_presets_set_p_q_and_the_temperature():
    from core.info import PRESETS
    from core.info_fit import KLFitConfig
    from core.losslab import LossLabConfig

    at = open_page(PAGE)
    widgets = _bound_widgets(at)
    assert widgets[KEY["method"]] == LossLabConfig().method and widgets[KEY["temperature"]] == 4.0
    assert widgets[KEY["epochs"]] == 30 and widgets[KEY["lr"]] == 0.01 and widgets[KEY["image"]] == 487
    assert widgets[KEY["gap"]] == KLFitConfig().gap == 7.0 and widgets[KEY["start_mean"]] == 1.0
    assert at.session_state["entropy:lab"].trainer.config == LossLabConfig()
    assert _link(at) == {}
    at.select_slider(key=KEY["q_temperature"]).set_value(4.0).run()
    at.slider(key=KEY["heads"]).set_value(0.9).run()
    _set_preset(at, "zero")
    widgets = _bound_widgets(at)
    assert (widgets[KEY["p"]], widgets[KEY["q"]]) == ("1, 1, 1", "1, 1, 0") == (PRESETS["zero"].p, PRESETS["zero"].q)
    assert widgets[KEY["q_temperature"]] == 1.0 and widgets[KEY["heads"]] == 0.9  # the coin is not the preset's
    # P and Q default to the preset's: the link names the preset only (as before the table)
    assert _link(at) == {"preset": "zero", "heads_probability": "0.9"}
    again = open_page(PAGE, {"preset": "zero"})
    assert (again.text_input(key=KEY["p"]).value, again.text_input(key=KEY["q"]).value) == ("1, 1, 1", "1, 1, 0")

