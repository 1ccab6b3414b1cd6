"""The activation-functions page in AppTest: the gallery and its property table, Swish's beta,
the initialisation lab, the live race (live learning rate, a racer that diverges alone), own
data from a CSV, presets, links and widget fuzzing."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit
from scipy.stats import norm

from core.activations import LATEX, PARAMS, PRESET_CODES, PRESETS, preset_config
from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from tests.helpers import link, shown_controls, live_figures, live_view, press, shown_count, status, tick_until, title, trace
from ui.livechart import plain

PAGE = "pages/activations.py"
RUN = "activations:race"
CHARTS = "activations:charts"
PLANE = "activations:plane"
HISTORIES = ["accuracy", "loss", "gradients", "dead"]
BOUNDARIES = ["boundary1", "boundary2", "boundary3", "boundary4"]


# -- readers -----------------------------------------------------------------------------------------------
def figure(at, key: str) -> dict:
    """The static Plotly figure drawn with ``key`` (``st.plotly_chart``), arrays decoded."""
    for node in at.get("plotly_chart"):
        if node.proto.id.endswith(key):
            return plain(json.loads(node.proto.spec))
    raise AssertionError(f"no chart {key!r}")


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(parts)


def table(at):
    assert at.table, "no property table"
    return at.table[0].value


def trace_names(fig: dict) -> list[str]:
    return [t.get("name") for t in fig["data"]]


# -- independent references ---------------------------------------------------------------------------------
def swish_slope(x: float, beta: float) -> float:
    """Swish's slope from its closed form: s + beta x s (1 - s), s = sigmoid(beta x)."""
    s = expit(beta * x)
    return s + beta * x * s * (1 - s)


def swish_reach(beta: float) -> float:
    """The first x > 0 where Swish' = 1, by SciPy's root finder on the closed form."""
    return optimize.brentq(lambda x: swish_slope(x, beta) - 1.0, 1e-6 / beta, 20.0 / beta, xtol=1e-13)


# -- the gallery and its table ------------------------------------------------------------------------------
def test_page_opens_with_every_section():
    at = open_page(PAGE)
    assert not problems(at), problems(at)
    assert at.title[0].value.endswith("Activation functions")
    gallery = figure(at, "activations:fig:gallery")
    assert trace_names(gallery) == ["ReLU f", "ReLU f′", "tanh f", "tanh f′", "Swish (β = 1) f",
                                    "Swish (β = 1) f′", "Mish f", "Mish f′"]
    assert list(table(at).columns) == ["ReLU", "tanh", "Swish (β = 1)", "Mish"]
    assert list(live_figures(at, CHARTS)) == BOUNDARIES + HISTORIES
    assert status(at).startswith("Step 0 of 3,000")
    # the boundary planes show the 400 moons with both classes, P(class 1) between 0 and 1
    plane = live_figures(at, CHARTS)["boundary1"]
    assert sum(len(trace(plane, f"class {c}")["x"]) for c in (0, 1)) == 400
    z = np.array(plane["data"][0]["z"], dtype=float)
    assert z.shape == (41, 41) and 0 <= z.min() and z.max() <= 1


def test_the_property_table_agrees_with_independent_references():
    at = open_page(PAGE, {"functions": "sigmoid,gelu,swish,relu,elu", "alpha": "2"})
    assert not problems(at)
    t = table(at)
    assert list(t.columns) == ["ReLU", "ELU (α = 2)", "GELU", "Sigmoid", "Swish (β = 1)"]
    # sigmoid: (0, 1), slope 1/4 at 0 and nowhere steeper, E sigmoid(z) = 1/2 by symmetry
    assert t.loc["range", "Sigmoid"] == "(0, 1)" and t.loc["max |f′|", "Sigmoid"] == "0.25"
    assert t.loc["zero-centred", "Sigmoid"] == "no (E f(z) = 0.5)"
    # GELU's minimum: where Phi(x) + x phi(x) = 0 (SciPy)
    x_min = optimize.brentq(lambda x: norm.cdf(x) + x * norm.pdf(x), -2, -0.1)
    minimum = t.loc["minimum", "GELU"]
    assert minimum == f"{x_min * norm.cdf(x_min):.4g} at x = {x_min:.4g}".replace("-", "−"), minimum
    # Swish (beta = 1): the minimum where its closed-form slope is 0 (the issue's -0.278 at -1.278)
    s_min = optimize.brentq(lambda x: swish_slope(x, 1.0), -3, -0.5)
    assert t.loc["minimum", "Swish (β = 1)"] == f"{s_min * expit(s_min):.4g} at x = {s_min:.4g}".replace("-", "−")
    # ReLU: minimum 0 on the whole half-line, a kink at 0; E max(0, z) = 1 / sqrt(2 pi)
    assert t.loc["minimum", "ReLU"] == "0 at every x ≤ 0" and t.loc["f′(0)", "ReLU"] == "jumps 0 → 1"
    assert t.loc["zero-centred", "ReLU"] == f"no (E f(z) = {1 / math.sqrt(2 * math.pi):.3f})"
    # ELU with alpha = 2: approaches -2, and its slope jumps from alpha to 1 at 0, so it is not smooth
    assert t.loc["range", "ELU (α = 2)"] == "(−2, ∞)" and t.loc["smooth", "ELU (α = 2)"] == "no"
    assert t.loc["f′(0)", "ELU (α = 2)"] == "jumps 2 → 1"
    assert "|E f(z)| < 0.05" in texts(at)  # the definition of zero-centred is stated


def test_gallery_widgets_change_what_is_shown():
    at = open_page(PAGE)
    at.toggle(key="activations:show_curvature").set_value(True).run()
    assert "Mish f″" in trace_names(figure(at, "activations:fig:gallery"))
    at.multiselect(key="activations:functions").set_value(["leaky_relu"]).run()
    at.slider(key="activations:leaky_slope").set_value(0.2).run()
    assert not problems(at)
    fig = figure(at, "activations:fig:gallery")
    f = trace(fig, "Leaky ReLU (a = 0.2) f")
    x, y = np.array(f["x"], dtype=float), np.array(f["y"], dtype=float)
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.2 * x), atol=1e-4)
    assert list(table(at).columns) == ["Leaky ReLU (a = 0.2)"]
    assert [lx.value.strip("$\n") for lx in at.latex] == list(LATEX["leaky_relu"])  # the closed forms follow
    at.multiselect(key="activations:functions").set_value([]).run()
    assert not problems(at) and any("Pick at least one function" in i.value for i in at.info)


def test_swish_beta_marks_where_the_slope_reaches_one():
    at = open_page(PAGE)
    shown = texts(at)
    reach = swish_reach(1.0)
    assert f"{reach:.4f}" in shown and "about 1.25" in shown  # the seed's claim, with the computed value
    assert abs(reach - 1.25) < 0.03
    at.slider(key="activations:swish_beta").set_value(2.0).run()
    fig = figure(at, "activations:fig:swish")
    marker = [t for t in fig["data"] if str(t.get("name", "")).startswith("|f′| = 1 first at")][0]
    assert marker["x"][0] == pytest.approx(swish_reach(2.0), abs=1e-4)
    assert f"{swish_reach(2.0):.4f}" in title(fig)
    # the gallery's Swish follows the same beta
    assert "Swish (β = 2) f" in trace_names(figure(at, "activations:fig:gallery"))
    at.slider(key="activations:swish_beta").set_value(0.0).run()
    assert not problems(at) and "never reaches 1" in title(figure(at, "activations:fig:swish"))


def _ratio(at) -> float:
    match = re.search(r"spread of [\d.e+-]+, ([\d.e+-]+) times that at layer", texts(at))
    assert match, texts(at)
    return float(match.group(1))


def test_the_initialisation_lab_shows_vanishing_and_its_cure():
    at = open_page(PAGE)
    # sigmoid (slope at most 1/4) with PyTorch's default init: the gradient all but vanishes over 10 layers
    assert _ratio(at) < 1e-5
    at.selectbox(key="activations:lab_activation").set_value("relu")
    at.selectbox(key="activations:lab_init").set_value("he").run()
    assert not problems(at)
    # He init keeps the variance of a ReLU net's backward signal: no layer-to-layer collapse
    assert 0.3 < _ratio(at) < 3
    grads = figure(at, "activations:fig:lab-grad")
    assert len(grads["data"][0]["y"]) == 10 and "Gradients" in title(grads)
    at.select_slider(key="activations:lab_weight_scale").set_value(2.0).run()
    # twice the weights: each layer multiplies the backward signal by about 2, so layer 1's is far larger
    assert _ratio(at) > 50


def test_he_init_gives_twice_xaviers_variance_on_the_labs_square_layers():
    """The lab's text: He gives the weights twice Xavier's variance (its layers are width x width)."""
    import torch

    from core.activations import MLP

    torch.manual_seed(0)
    xavier, he = MLP(64, 1, 2, 64, "tanh", "xavier"), MLP(64, 1, 2, 64, "relu", "he")
    ratio = float(he.hidden[1].weight.detach().var() / xavier.hidden[1].weight.detach().var())
    assert abs(ratio - 2.0) < 0.2, ratio


# -- links and presets -----------------------------------------------------------------------------------------
def test_a_link_sets_the_controls():
    at = open_page(PAGE, {"functions": "gelu,elu", "beta": "2", "dataset": "xor", "lr": "0.1", "noise": "0.3",
                          "lab_act": "tanh", "racers": "3", "act1": "gelu", "depth2": "4"})
    assert not problems(at), problems(at)
    assert list(at.multiselect(key="activations:functions").value) == ["elu", "gelu"]
    assert at.slider(key="activations:swish_beta").value == 2.0
    assert at.selectbox(key="activations:dataset").value == "xor"
    assert at.select_slider(key="activations:lr").value == 0.1
    assert at.select_slider(key="activations:noise").value == 0.3
    assert at.selectbox(key="activations:lab_activation").value == "tanh"
    charts = live_figures(at, CHARTS)
    assert list(charts) == BOUNDARIES[:3] + HISTORIES
    assert title(charts["boundary1"]).startswith("1 · GELU, 2 x 16") and "4 x 16" in title(charts["boundary2"])
    run = at.session_state[RUN]
    assert run.trainer.config.lr == 0.1 and run.trainer.config.noise == 0.3 and run.trainer.config.dataset == "xor"


def test_a_bad_link_falls_back_with_a_notice():
    at = open_page(PAGE, {"functions": "relu,banana", "lr": "7", "dataset": "mnist"})
    assert not problems(at)
    assert len(at.warning) >= 3
    assert at.select_slider(key="activations:lr").value == 0.01
    assert at.selectbox(key="activations:dataset").value == "moons"


@pytest.mark.parametrize("code", [c for c in PRESET_CODES if c != "default"])
def test_each_preset_loads_its_race_and_lesson(code):
    at = open_page(PAGE)
    at.selectbox(key="activations:preset").set_value(code).run()
    assert not problems(at)
    expected = PRESETS[PRESET_CODES[code]]
    assert at.session_state[RUN].trainer.config == expected.config  # the race the lesson was checked on
    assert any(expected.lesson in i.value for i in at.info)
    assert len([c for c in live_figures(at, CHARTS) if c.startswith("boundary")]) == len(expected.config.racers)
    # a change to the race keeps the preset's name but says its lesson no longer describes it
    at.select_slider(key="activations:steps").set_value(10_000).run()
    assert not any(expected.lesson in i.value for i in at.info)
    assert "You changed the race of the preset" in texts(at)
    press(at, "↺", panel="activations:reload")  # reload: the preset's race again
    assert at.select_slider(key="activations:steps").value == expected.config.max_steps
    assert at.session_state[RUN].trainer.config == expected.config
    assert any(expected.lesson in i.value for i in at.info)


def test_a_preset_link_sets_the_race_and_an_explicit_value_wins():
    at = open_page(PAGE, {"preset": "relu-dies"})
    assert at.session_state[RUN].trainer.config == preset_config("relu-dies")
    at = open_page(PAGE, {"preset": "relu-dies", "lr": "0.3"})
    assert at.select_slider(key="activations:lr").value == 0.3
    assert at.select_slider(key="activations:steps").value == 1000  # the rest still from the preset
    assert at.selectbox(key="activations:optimizer").value == "sgd"


# -- links from before the parameter table -------------------------------------------------------------------
def shown(at) -> dict:
    return shown_controls(at, "activations", PARAMS)



# a link written before the table (the codes of git show 2b501d8:ui/activations_views.py), every control moved
OLD_LINK = {"beta": "2", "functions": "gelu,elu", "f": "0", "df": "0", "d2f": "1", "slope": "0.2", "alpha": "2",
            "lab_act": "tanh", "lab_init": "he", "lab_depth": "4", "lab_width": "16", "lab_scale": "2",
            "racers": "3", "act1": "gelu", "depth1": "3", "width1": "8", "init1": "he",
            "act2": "elu", "depth2": "4", "width2": "32", "init2": "xavier",
            "act3": "sigmoid", "depth3": "5", "width3": "64", "init3": "he",
            "act4": "softplus", "depth4": "1", "width4": "4", "init4": "xavier",
            "dataset": "xor", "lr": "0.1", "noise": "0.3", "opt": "sgd", "batch": "64", "size": "200",
            "steps": "500", "seed": "7"}
RENAMED = {"beta": "swish_beta", "f": "show_value", "df": "show_slope", "d2f": "show_curvature",
           "slope": "leaky_slope", "alpha": "elu_alpha", "lab_act": "lab_activation", "lab_scale": "lab_weight_scale",
           "racers": "networks", "opt": "optimizer", "batch": "batch_size", "size": "n_points",
           **{f"{old}{k}": f"net{k}_{new}" for k in range(1, 5)
              for old, new in (("act", "activation"), ("depth", "depth"), ("width", "width"), ("init", "init"))}}
NEW_LINK = {RENAMED.get(code, code): value for code, value in OLD_LINK.items()}


def test_a_link_from_before_the_table_opens_the_same_page_under_the_new_names():
    old, new = open_page(PAGE, OLD_LINK), open_page(PAGE, NEW_LINK)
    assert not problems(old) and not problems(new), (problems(old), problems(new))
    expected = {
        "swish_beta": 2.0, "functions": ["elu", "gelu"], "show_value": False, "show_slope": False,
        "show_curvature": True, "leaky_slope": 0.2, "elu_alpha": 2.0, "lab_activation": "tanh", "lab_init": "he",
        "lab_depth": 4, "lab_width": 16, "lab_weight_scale": 2.0, "preset": "default", "networks": 3,
        "net1_activation": "gelu", "net1_depth": 3, "net1_width": 8, "net1_init": "he",
        "net2_activation": "elu", "net2_depth": 4, "net2_width": 32, "net2_init": "xavier",
        "net3_activation": "sigmoid", "net3_depth": 5, "net3_width": 64, "net3_init": "he",
        "net4_activation": "softplus", "net4_depth": 1, "net4_width": 4, "net4_init": "xavier",
        "dataset": "xor", "lr": 0.1, "noise": 0.3, "optimizer": "sgd", "batch_size": 64, "n_points": 200,
        "max_steps": 500, "seed": 7,
    }
    assert shown(old) == expected
    assert shown(new) == expected
    # the race trains what the widgets show
    config = old.session_state[RUN].trainer.config
    assert (config.dataset, config.lr, config.noise, config.optimizer, config.batch_size, config.n_points,
            config.max_steps, config.seed) == ("xor", 0.1, 0.3, "sgd", 64, 200, 500, 7)
    assert [(r.activation, r.depth, r.width, r.init) for r in config.racers] == [
        ("gelu", 3, 8, "he"), ("elu", 4, 32, "xavier"), ("sigmoid", 5, 64, "he")]
    # the link now carries the new names only (functions in the options' order)
    want = {**NEW_LINK, "functions": "elu,gelu"}
    assert link(old) == want and link(new) == want
    assert not set(link(old)) & (set(RENAMED) - set(RENAMED.values()))


def test_an_old_preset_link_loads_the_preset_and_its_explicit_values_win():
    old = open_page(PAGE, {"preset": "relu-dies", "opt": "adam", "racers": "2"})
    new = open_page(PAGE, {"preset": "relu-dies", "optimizer": "adam", "networks": "2"})
    assert shown(old) == shown(new)
    preset = preset_config("relu-dies")  # sgd at rate 3, 1,000 steps, three networks
    config = old.session_state[RUN].trainer.config
    assert config.optimizer == "adam" and len(config.racers) == 2  # the link's values
    assert (config.lr, config.max_steps, config.racers) == (3.0, 1000, preset.racers[:2])  # the preset's
    # new names; Adam is the optimiser's default, so the link leaves it out (as every default)
    assert link(old) == link(new) == {"preset": "relu-dies", "networks": "2", "net2_activation": "leaky_relu",
                                      "lr": "3", "steps": "1000"}


def test_no_link_name_takes_a_key_the_page_uses_for_something_else():
    import ui.activations_views as views

    others = {views.RUN_KEY, views.CHARTS_KEY, views.PLANE_KEY, views.POINTS_KEY, views.CLASS_KEY,
              views.LAST_CLICK, views.UPLOAD_KEY, views.UPLOAD_SEEN, "activations:reload", "activations:clear"}
    assert not {f"activations:{p.url}" for p in PARAMS} & others


# -- the live race ----------------------------------------------------------------------------------------------
def test_start_trains_and_the_view_shows_the_step_trained():
    at = open_page(PAGE)
    press(at, "Start")
    tick_until(at, lambda a: shown_count(a) >= 20)
    assert not problems(at)
    view = live_view(at, CHARTS)
    assert view["step"] == shown_count(at)
    accuracy = live_figures(at, CHARTS)["accuracy"]
    assert all(len(t["x"]) >= 2 for t in accuracy["data"])  # measured at step 0 and again since
    press(at, "Pause")
    paused = shown_count(at)
    at.run()
    assert shown_count(at) == paused


def test_a_new_learning_rate_applies_to_the_running_race():
    at = open_page(PAGE)
    press(at, "Start", ticks=1)
    tick_until(at, lambda a: shown_count(a) >= 10)
    trainer = at.session_state[RUN].trainer
    step = trainer.step
    at.select_slider(key="activations:lr").set_value(0.03).run()
    assert at.session_state[RUN].trainer is trainer, "the same networks go on training"
    assert trainer.config.lr == 0.03 and trainer.step >= step
    assert all(r.opt.param_groups[0]["lr"] == 0.03 for r in trainer.runners)
    at.select_slider(key="activations:noise").set_value(0.3).run()
    assert at.session_state[RUN].trainer is trainer and trainer.config.noise == 0.3
    at.run()
    view = live_view(at, CHARTS)
    assert [m[0] for m in view["markers"]][:1] == [step] and "lr" in view["markers"][0][1]
    assert any("noise" in m[1] for m in view["markers"])
    assert any("Applied to the running model" in c.value for c in at.caption)
    # the depth of a network shapes it: that starts the race again
    at.slider(key="activations:net1_depth").set_value(3).run()
    assert at.session_state[RUN].trainer is not trainer and shown_count(at) == 0


def test_a_huge_learning_rate_stops_one_racer_and_the_others_go_on():
    # plain SGD at rate 10 on the page's seed: the Swish net diverges in its first steps, the others do not
    at = open_page(PAGE, {"opt": "sgd", "lr": "10"})
    press(at, "Start")
    tick_until(at, lambda a: any("diverged" in w.value for w in a.warning), max_ticks=60)
    stopped = [w.value for w in at.warning if "diverged" in w.value]
    assert len(stopped) == 1 and stopped[0].startswith("Swish, 2 x 16, default init: Training diverged"), stopped
    assert "The other networks go on" in stopped[0]
    tick_until(at, lambda a: shown_count(a) >= 40)
    assert not problems(at), problems(at)  # no st.error: the race as a whole did not stop
    charts = live_figures(at, CHARTS)
    assert "stopped at step" in title(charts["boundary3"])
    assert all("stopped" not in title(charts[b]) for b in ("boundary1", "boundary2", "boundary4"))
    racers = at.session_state[RUN].trainer.runners
    assert racers[2].step < 40 <= min(r.step for i, r in enumerate(racers) if i != 2)


# -- own data -------------------------------------------------------------------------------------------------------
GOOD_CSV = "x,y,label\n" + "\n".join(f"{x:.2f},{y:.2f},{'a' if x * y > 0 else 'b'}"
                                     for x, y in np.random.default_rng(1).uniform(-1, 1, (40, 2)))


def test_own_points_without_enough_classes_ask_for_more():
    at = open_page(PAGE, {"dataset": "custom"})
    assert not problems(at)
    assert list(live_figures(at, PLANE)) == ["plane"]
    assert live_view(at, PLANE)["charts"][0]["clickable"] is True
    assert any("no points yet" in i.value for i in at.info)
    assert not [b for b in at.button if "Start" in b.label]  # no race without data


@pytest.mark.parametrize(("raw", "phrase"), [
    (b"", "empty"),
    (b"x,y\n1,2\n", "lacks label"),
    (b"x,y,label\n1,2,0\nabc,3,1\n", "Line 3 has x = 'abc'"),
    (b"x,y,label\n1,2,0\n3,4,0\n", "two classes"),
    (b"\xff\xfe\x00bad", "not a text"),
])
def test_a_malformed_csv_gets_a_clear_message(raw, phrase):
    at = open_page(PAGE, {"dataset": "custom"})
    at.file_uploader(key="activations:upload").set_value(("mine.csv", raw, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and phrase in at.error[0].value and "mine.csv" in at.error[0].value, at.error


def test_a_good_csv_becomes_the_race_data():
    at = open_page(PAGE, {"dataset": "custom", "noise": "0"})
    at.file_uploader(key="activations:upload").set_value(("xor.csv", GOOD_CSV.encode(), "text/csv")).run()
    assert not problems(at), problems(at)
    assert any("Loaded 40 points" in s.value for s in at.success)
    assert "**40 points**" in texts(at)
    plane = live_figures(at, CHARTS)["boundary1"]
    xs = np.concatenate([trace(plane, f"class {c}")["x"] for c in (0, 1)])
    assert len(xs) == 40
    rows = np.array([[float(v) for v in line.split(",")[:2]] for line in GOOD_CSV.splitlines()[1:]])
    np.testing.assert_allclose(np.sort(xs), np.sort(rows[:, 0]), atol=1e-3)  # noise 0: the points as uploaded
    # 'a' sorts before 'b': 'a' (x y > 0) is class 0
    assert len(trace(plane, "class 0")["x"]) == int(np.sum(rows[:, 0] * rows[:, 1] > 0))
    press(at, "Clear the points")
    assert any("no points yet" in i.value for i in at.info) and "**0 points**" in texts(at)


# -- fuzzing ----------------------------------------------------------------------------------------------------------
def test_fuzzing_the_widgets_never_breaks_the_page():
    at = open_page(PAGE)
    changed = fuzz_widgets(at, rounds=10, seed=3)
    assert changed >= 10
    if any("Start" in b.label for b in at.button):  # whatever the fuzzer left, the race trains...
        press(at, "Start", ticks=1)
        assert shown_count(at) > 0 or "stopped" in status(at)
    else:  # ...or the page says why it cannot (own points not placed yet)
        assert at.info
    assert not problems(at), problems(at)


def test_the_live_view_sends_exactly_the_figures_core_builds():
    """The race's charts go out as plain dicts (no Plotly validation per tick): the same as the figures."""
    import plotly.graph_objects as go
    import torch

    from core.activations import RaceConfig, RaceTrainer
    from ui.activations_views import race_charts
    from ui.livechart import figure_data

    snap = RaceTrainer(RaceConfig(max_steps=30), device=torch.device("cpu")).train(30)
    charts = race_charts(snap)
    assert [c.id for c in charts] == BOUNDARIES + HISTORIES
    for chart in charts:
        assert figure_data(chart.figure) == figure_data(go.Figure(chart.figure)), chart.id
