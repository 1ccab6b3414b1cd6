"""The LRN vs BN page in AppTest: the worked examples follow their widgets (checked against
independent loops and PyTorch), links set the controls, the race trains live, a raised
learning rate applies to the running race, the race's lesson holds on the page's seed,
small batches are explained, and fuzzing the widgets never breaks the page."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from core.norms import PARAMS, bn_example, inter_example, intra_example
from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from tests.helpers import link, shown_controls, live_figures, live_view, metric, press, shown_count, status, tick_until, title
from ui.livechart import plain

PAGE = "pages/norms.py"
RUN = "norms:race"
CHARTS = "norms:charts"
EDIT = {"added_rows": [], "deleted_rows": []}


# -- readers -------------------------------------------------------------------------------
def codes(at) -> list[str]:
    return [c.value for c in at.code]


def code_starting(at, prefix: str) -> str:
    found = [c for c in codes(at) if c.startswith(prefix)]
    assert found, f"no formula starting {prefix!r}; shown: {codes(at)}"
    return found[0]


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


def fmt(v: float) -> str:
    """A number as the formulas print it (4 significant digits, a true minus sign)."""
    return f"{v:.4g}".replace("-", "−")


def percent(at, label: str) -> float:
    return float(metric(at, label).rstrip(" %"))


# -- independent references: the seed's formulas written out as loops -------------------------
def seed_inter(grid, n, alpha, beta, k):
    grid = np.asarray(grid, dtype=float)
    out = np.zeros_like(grid)
    channels = grid.shape[0]
    for i in range(channels):
        for p in range(grid.shape[1]):
            total = sum(grid[j, p] ** 2 for j in range(max(0, i - n // 2), min(channels - 1, i + n // 2) + 1))
            out[i, p] = grid[i, p] / (k + alpha * total) ** beta
    return out


def seed_intra(fmap, n, alpha, beta, k):
    fmap = np.asarray(fmap, dtype=float)
    rows, cols = fmap.shape
    out = np.zeros_like(fmap)
    for y in range(rows):
        for x in range(cols):
            total = sum(fmap[i, j] ** 2 for i in range(y - n // 2, y + n // 2 + 1)
                        for j in range(x - n // 2, x + n // 2 + 1) if 0 <= i < rows and 0 <= j < cols)
            out[y, x] = fmap[y, x] / (k + alpha * total) ** beta
    return out


# -- the worked examples ------------------------------------------------------------------------
def test_page_opens_on_the_seeds_worked_example():
    at = open_page(PAGE)
    assert not problems(at)
    assert at.title[0].value.endswith("LRN vs batch normalisation")
    assert code_starting(at, "b[channel 0, position 0]") == (
        "b[channel 0, position 0] = 1 / (0 + 1·(1² + 1²))^1 = 1 / 2^1 = 1 / 2 = 0.5")
    assert "gives 0.5 at channel 0, position 0" in texts(at)
    fig = figure(at, "norms:fig:inter")
    grid = inter_example()[0, :, 0, :]
    np.testing.assert_allclose(fig["data"][0]["z"], grid)
    np.testing.assert_allclose(fig["data"][1]["z"], seed_inter(grid, 2, 1.0, 1.0, 0.0), rtol=1e-4)
    assert len(fig["layout"]["shapes"]) == 4  # window (channels 0, 1) + the explained cell on both grids
    assert "channel −1 does not exist" in texts(at)
    assert shown_count(at) == 0 and "press Start" in status(at)
    assert list(live_figures(at, CHARTS)) == ["loss", "accuracy", "dead", "layer", "bn_mean", "bn_var"]


def test_lrn_widgets_change_the_formula_and_the_grids():
    at = open_page(PAGE)
    at.slider(key="norms:lrn_n").set_value(4).run()
    at.number_input(key="norms:lrn_alpha").set_value(0.5).run()
    at.number_input(key="norms:lrn_beta").set_value(0.75).run()
    at.number_input(key="norms:lrn_k").set_value(2.0).run()
    at.slider(key="norms:channel").set_value(2).run()
    at.slider(key="norms:position").set_value(3).run()
    assert not problems(at)
    grid = inter_example()[0, :, 0, :]
    expected = seed_inter(grid, 4, 0.5, 0.75, 2.0)
    text = code_starting(at, "b[channel 2, position 3]")
    assert text.startswith("b[channel 2, position 3] = 2 / (2 + 0.5·(1² + 0² + 2² + 1²))^0.75")
    assert text.endswith(f"= {fmt(expected[2, 3])}")
    fig = figure(at, "norms:fig:inter")
    np.testing.assert_allclose(fig["data"][1]["z"], expected, rtol=1e-4)
    assert len(fig["layout"]["shapes"]) == 4 + 2  # channels 0 to 3 framed, and the explained cell twice
    # intra-channel on the 5 x 5 map, with the same hyper-parameters
    at.slider(key="norms:row").set_value(0).run()
    at.slider(key="norms:column").set_value(4).run()
    fmap = intra_example(0)[0, 0]
    ref = seed_intra(fmap, 4, 0.5, 0.75, 2.0)
    assert code_starting(at, "b[row 0, column 4]").endswith(f"= {fmt(ref[0, 4])}")
    np.testing.assert_allclose(figure(at, "norms:fig:intra")["data"][1]["z"], ref, rtol=1e-4)
    assert "9 of its cells inside the map" in texts(at)  # a 5 x 5 window in the corner: 3 x 3 inside


def test_edited_grid_and_bad_cells_get_a_message():
    at = open_page(PAGE)
    at.session_state["norms:grid:0"] = {"edited_rows": {0: {"0": 3.0}}, **EDIT}
    at.run()
    assert code_starting(at, "b[channel 0, position 0]").endswith("= 3 / 10^1 = 3 / 10 = 0.3")
    at.session_state["norms:grid:0"] = {"edited_rows": {0: {"0": 3.0}, 1: {"0": None}, 2: {"1": "abc"}}, **EDIT}
    at.run()
    assert not problems(at)
    assert any("2 cell(s) hold no number (channel 1 / position 0, channel 2 / position 1)" in w.value
               for w in at.warning)
    assert code_starting(at, "b[channel 0, position 0]").endswith("= 3 / 9^1 = 3 / 9 = 0.3333")  # empty = 0
    # the reset button brings back the seed's grid (a fresh editor)
    press(at, "Back to the starting values")
    assert code_starting(at, "b[channel 0, position 0]").endswith("= 0.5")
    assert not at.warning


def test_alexnet_and_seed_buttons_set_the_four_hyper_parameters():
    at = open_page(PAGE)
    press(at, "AlexNet's")
    assert at.slider(key="norms:lrn_n").value == 5 and at.number_input(key="norms:lrn_alpha").value == 1e-4
    assert at.number_input(key="norms:lrn_beta").value == 0.75 and at.number_input(key="norms:lrn_k").value == 2.0
    torch_code = code_starting(at, "nn.LocalResponseNorm(\n")
    assert "size=5" in torch_code and "alpha=0.0005" in torch_code
    expected = seed_inter(inter_example()[0, :, 0, :], 5, 1e-4, 0.75, 2.0)[0, 0]
    assert code_starting(at, "b[channel 0, position 0]").endswith(f"= {fmt(expected)}")
    assert at.query_params["lrn_n"] == "5" and at.query_params["lrn_k"] == "2"
    press(at, "Seed's values")
    assert code_starting(at, "b[channel 0, position 0]").endswith("= 0.5")
    assert "lrn_n" not in at.query_params  # back to the defaults: the link is short again


def test_k_and_alpha_zero_explain_the_division_by_zero():
    at = open_page(PAGE, {"alpha": "0", "k": "0"})
    assert not problems(at)
    assert any("divide by zero" in w.value for w in at.warning)
    assert not [c for c in codes(at) if c.startswith("b[")]


def test_conventions_are_converted_live_and_checked_against_pytorch():
    at = open_page(PAGE, {"n": "4", "alpha": "0.5", "beta": "0.75", "k": "2"})
    assert not problems(at)
    torch_code = code_starting(at, "nn.LocalResponseNorm(\n")
    assert "size=5" in torch_code and "alpha=2.5" in torch_code
    assert "depth_radius=2" in code_starting(at, "tf.nn.lrn(") and "bias=2" in code_starting(at, "tf.nn.lrn(")
    assert "PyTorch's layer and the seed's formula" in texts(at)
    # PyTorch's own layer with the page's arguments gives the seed's numbers
    grid = inter_example()
    ours = seed_inter(grid[0, :, 0, :], 4, 0.5, 0.75, 2.0)
    theirs = nn.LocalResponseNorm(5, alpha=2.5, beta=0.75, k=2.0)(torch.from_numpy(grid)).numpy()[0, :, 0, :]
    np.testing.assert_allclose(theirs, ours, rtol=1e-12)
    # the other way round: an even size has no exact equivalent, an odd one has
    assert at.select_slider(key="norms:torch_size").value == 4
    assert any("No exact mapping" in i.value and "misses by up to" in i.value for i in at.info)
    at.select_slider(key="norms:torch_size").set_value(3).run()
    assert any("Exact" in s.value and "n = 2, α = 0.166667" in s.value for s in at.success)


# -- batch normalisation by hand ---------------------------------------------------------------------
def test_bn_formula_per_activation_and_per_channel_against_independent_numbers():
    at = open_page(PAGE, {"bch": "1", "brow": "2", "bcol": "3", "img": "2", "gamma": "1.5", "shift": "-0.5"})
    assert not problems(at)
    x = bn_example()
    values = x[:, 1, 2, 3]
    mean, var = values.mean(), values.var()
    norm = (x[2, 1, 2, 3] - mean) / math.sqrt(var + 1e-5)
    text = code_starting(at, "image 2, channel 1, row 2, column 3")
    assert f"= {fmt(norm)};" in text and text.endswith(f"= {fmt(1.5 * norm - 0.5)}")
    assert f"μ = (" in texts(at) and f"/ 3 = {fmt(mean)}; σ² = (" in texts(at) and f"/ 3 = {fmt(var)}." in texts(at)
    assert "BatchNorm1d(64)" in texts(at)
    fig = figure(at, "norms:fig:bn")
    assert len(fig["layout"]["shapes"]) == 3 + 2 + 4  # 3 images framed, the cell twice, 2 separators twice
    at.radio(key="norms:bn_per").set_value("channel").run()
    pooled = x[:, 1]
    norm = (x[2, 1, 2, 3] - pooled.mean()) / math.sqrt(pooled.var() + 1e-5)
    assert code_starting(at, "image 2, channel 1").endswith(f"= {fmt(1.5 * norm - 0.5)}")
    assert "All 48 values of channel 1" in texts(at) and "BatchNorm2d(4)" in texts(at)
    ref = nn.BatchNorm2d(4, affine=False).double().train()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(figure(at, "norms:fig:bn")["data"][1]["z"], ref[:, 1].reshape(-1, 4), atol=1e-4)


def test_batch_size_one_and_two_are_explained_not_raised():
    at = open_page(PAGE, {"batch": "1", "img": "2"})
    assert not problems(at)
    assert at.selectbox(key="norms:bn_image").value == 0  # only one image left
    refusal = [w.value for w in at.warning if "Expected more than 1 value per channel" in w.value]
    assert refusal and "eval mode" in refusal[0]
    assert code_starting(at, "image 0, channel 0").endswith("= 0")  # variance 0: x̂ = 0, y = β = 0
    at.select_slider(key="norms:bn_batch").set_value(2).run()
    assert any("+1 and −1" in i.value for i in at.info)
    at.radio(key="norms:bn_per").set_value("channel").run()
    at.select_slider(key="norms:bn_batch").set_value(1).run()
    assert not problems(at)
    assert any("instance normalisation" in i.value for i in at.info)  # BatchNorm2d pools the 16 positions


def test_bn_modes_of_the_race_model_and_batch_one():
    at = open_page(PAGE)
    assert at.select_slider(key="norms:mode_batch_size").value == 1
    assert metric(at, "Training mode, batches of 1").endswith("%")
    assert "Eval mode (running statistics)" in [m.label for m in at.metric]
    assert any("instance normalisation" in i.value and "running statistics jump" in i.value for i in at.info)
    at = open_page(PAGE, {"norms": "none,lrn"})
    assert any("BatchNorm is not in the race" in i.value for i in at.info)
    assert "Training mode, batches of 1" not in [m.label for m in at.metric]


# -- links ----------------------------------------------------------------------------------------
def test_a_link_sets_the_controls():
    at = open_page(PAGE, {"n": "3", "beta": "0.75", "ch": "1", "per": "channel", "batch": "2", "lr": "0.3",
                          "norms": "bn,lrn", "bs": "64", "epochs": "2", "seed": "3", "layer": "conv2", "digit": "7"})
    assert not problems(at)
    assert at.slider(key="norms:lrn_n").value == 3 and at.number_input(key="norms:lrn_beta").value == 0.75
    assert at.radio(key="norms:bn_per").value == "channel" and at.select_slider(key="norms:bn_batch").value == 2
    assert at.select_slider(key="norms:lr").value == 0.3 and at.number_input(key="norms:seed").value == 3
    assert list(at.multiselect(key="norms:norms").value) == ["lrn", "bn"]  # in the page's order
    assert code_starting(at, "b[channel 1, position 0]").startswith(
        "b[channel 1, position 0] = 1 / (0 + 1·(1² + 1² + 0²))^0.75")
    labels = [m.label for m in at.metric]
    assert "LRN: accuracy" in labels and "BatchNorm: accuracy" in labels and "no normalisation: accuracy" not in labels
    assert re.search(r"Step 0 of 42\b", status(at))  # 2 epochs of 21 batches of 64
    assert "“conv 2”" in title(live_figures(at, CHARTS)["layer"])
    assert title(figure(at, "norms:fig:digit")).startswith("Input digit (label")


def test_a_bad_link_falls_back_with_a_notice():
    at = open_page(PAGE, {"norms": "dropout", "lr": "7", "n": "many"})
    assert not problems(at)
    assert list(at.multiselect(key="norms:norms").value) == ["none", "lrn", "bn"]
    assert at.select_slider(key="norms:lr").value == 0.05 and at.slider(key="norms:lrn_n").value == 2
    assert len([w for w in at.warning if "The link sets" in w.value]) == 3


def test_changing_a_control_writes_it_to_the_link():
    at = open_page(PAGE)
    at.multiselect(key="norms:norms").set_value(["group", "bn"]).run()
    at.select_slider(key="norms:lr").set_value(0.2).run()
    assert at.query_params["norms"] == "bn,group" and at.query_params["lr"] == "0.2"
    at.multiselect(key="norms:norms").set_value([]).run()
    assert any("Pick at least one normalisation" in w.value for w in at.warning) and not problems(at)


# -- links from before the parameter table ---------------------------------------------------------
def shown(at) -> dict:
    return shown_controls(at, "norms", PARAMS)



# a link written before the table (the codes of git show a9e26e4:ui/norms_views.py), every control moved
OLD_LINK = {"n": "4", "alpha": "0.5", "beta": "0.75", "k": "2", "ch": "3", "pos": "1", "row": "1", "col": "4",
            "size": "5", "per": "channel", "batch": "2", "img": "1", "bch": "2", "brow": "3", "bcol": "1",
            "gamma": "1.5", "shift": "-0.5", "norms": "bn,lrn", "lr": "0.3", "bs": "64", "epochs": "2",
            "seed": "3", "layer": "conv2", "digit": "7", "modebs": "8"}
RENAMED = {"n": "lrn_n", "alpha": "lrn_alpha", "beta": "lrn_beta", "k": "lrn_k", "ch": "channel", "pos": "position",
           "col": "column", "size": "torch_size", "per": "bn_per", "batch": "bn_batch", "img": "bn_image",
           "bch": "bn_channel", "brow": "bn_row", "bcol": "bn_column", "gamma": "bn_gamma", "shift": "bn_shift",
           "bs": "batch_size", "modebs": "mode_batch_size"}
NEW_LINK = {RENAMED.get(code, code): value for code, value in OLD_LINK.items()}


def test_a_link_from_before_the_table_opens_the_same_page_under_the_new_names():
    old, new = open_page(PAGE, OLD_LINK), open_page(PAGE, NEW_LINK)
    assert not problems(old) and not problems(new), (problems(old), problems(new))
    expected = {"lrn_n": 4, "lrn_alpha": 0.5, "lrn_beta": 0.75, "lrn_k": 2.0, "channel": 3, "position": 1, "row": 1,
                "column": 4, "torch_size": 5, "bn_per": "channel", "bn_batch": 2, "bn_image": 1, "bn_channel": 2,
                "bn_row": 3, "bn_column": 1, "bn_gamma": 1.5, "bn_shift": -0.5, "norms": ["lrn", "bn"], "lr": 0.3,
                "batch_size": 64, "epochs": 2, "seed": 3, "layer": "conv2", "digit": 7, "mode_batch_size": 8}
    assert shown(old) == expected
    assert shown(new) == expected
    config = old.session_state[RUN].trainer.config
    assert (config.norms, config.lr, config.batch_size, config.epochs, config.seed) == (("lrn", "bn"), 0.3, 64, 2, 3)
    # the worked example uses the link's n, alpha, beta and k (and channel 3, position 1)
    expected_b = seed_inter(inter_example()[0, :, 0, :], 4, 0.5, 0.75, 2.0)[3, 1]
    for at in (old, new):
        assert code_starting(at, "b[channel 3, position 1]").endswith(f"= {fmt(expected_b)}")
    # the link now carries the new names only (norms in the page's order)
    want = {**NEW_LINK, "norms": "lrn,bn"}
    assert link(old) == want and link(new) == want


def test_no_link_name_takes_a_key_the_page_uses_for_something_else():
    import ui.norms_views as views

    taken = {views.RUN_KEY, views.CHARTS_KEY, "norms:grid", "norms:map", "norms:fm-source", "norms:use-seed",
             "norms:use-alexnet", views._CHART_CACHE}
    keys = {f"norms:{p.url}" for p in PARAMS}
    assert not keys & taken
    assert not any(k.startswith(f"{t}:") for k in keys for t in taken)  # nor one under another's prefix


# -- the race ----------------------------------------------------------------------------------------
def test_start_trains_the_race_and_pause_stops_it():
    at = open_page(PAGE)
    press(at, "Start", ticks=1)
    tick_until(at, lambda a: shown_count(a) >= 12, max_ticks=200)
    assert not problems(at)
    view = live_view(at, CHARTS)
    assert view["step"] == shown_count(at)  # the step drawn is the step in the status line
    loss = live_figures(at, CHARTS)["loss"]
    assert [t["name"] for t in loss["data"]][:3] == ["no normalisation", "LRN", "BatchNorm"]
    assert len(loss["data"][2]["y"]) == view["step"]  # one mini-batch loss per step
    assert all(c["history"] for c in view["charts"])
    press(at, "Pause")
    paused = shown_count(at)
    at.run()
    at.run()
    assert shown_count(at) == paused and "paused" in status(at)


def test_raising_the_learning_rate_mid_race_keeps_the_same_run():
    at = open_page(PAGE)
    press(at, "Start", ticks=1)
    tick_until(at, lambda a: shown_count(a) >= 5, max_ticks=200)
    trainer = at.session_state[RUN].trainer
    at.select_slider(key="norms:lr").set_value(0.3).run()  # while it trains
    assert at.session_state[RUN].trainer is trainer, "the same models go on training"
    assert len(trainer.changes) == 1
    applied_at, what = trainer.changes[0]
    assert what == "lr 0.05 → 0.3" and applied_at >= 5
    assert all(g["lr"] == 0.3 for r in trainer.runners.values() for g in r.optimizer.param_groups)
    assert any(f"Applied to the running model at step {applied_at:,}: lr 0.05 → 0.3" in c.value for c in at.caption)
    tick_until(at, lambda a: shown_count(a) > applied_at + 5, max_ticks=200)
    assert live_view(at, CHARTS)["markers"] == [[applied_at, "lr 0.05 → 0.3"]]
    # the batch size shapes the run: that starts again
    at.select_slider(key="norms:batch_size").set_value(64).run()
    assert at.session_state[RUN].trainer is not trainer and shown_count(at) == 0
    assert any("starts again from step 0" in c.value for c in at.caption)


def test_the_race_lesson_on_screen_holds_on_the_page_seed(monkeypatch):
    """The "Try this" box: one epoch at 0.05, then 0.3. The Step button is given a long time
    budget so the steps-per-update cap alone sets how far it trains: 41 steps, then 89 more."""
    monkeypatch.setattr("ui.live.STEP_SECONDS", 120.0)
    at = open_page(PAGE)
    info = next(i.value for i in at.info if i.value.startswith("**Try this.**"))
    assert "first epoch (41 steps)" in info and "from 0.05 to 0.3" in info and "seed 0" in info
    at.slider(key="norms:race:spu").set_value(41).run()
    press(at, "Step")
    assert shown_count(at) == 41
    first = {n: percent(at, f"{n}: accuracy") for n in ("no normalisation", "LRN", "BatchNorm")}
    assert first["LRN"] < first["no normalisation"] < first["BatchNorm"]  # LRN: the slowest starter
    at.select_slider(key="norms:lr").set_value(0.3).run()
    at.slider(key="norms:race:spu").set_value(89).run()
    press(at, "Step")
    assert shown_count(at) == 130 and not problems(at)
    assert live_view(at, CHARTS)["markers"] == [[41, "lr 0.05 → 0.3"]]
    now = {n: percent(at, f"{n}: accuracy") for n in ("no normalisation", "LRN", "BatchNorm")}
    assert now["no normalisation"] <= 20.0  # chance is 10 %
    assert now["BatchNorm"] >= 80.0 and now["LRN"] >= 80.0 and now["LRN"] > first["LRN"]
    died = [i.value for i in at.info if "has died; it did not diverge" in i.value]
    assert len(died) == 1 and died[0].startswith("**No normalisation has died")
    assert "100.0 % of its ReLU outputs after conv 2 are 0" in died[0]
    assert not [w for w in at.warning if "diverged" in w.value]  # nobody diverged
    dead = live_figures(at, CHARTS)["dead"]
    assert dead["data"][0]["y"][-1] == 100.0 and max(dead["data"][2]["y"]) < 95


def test_a_diverging_model_stops_alone_with_its_own_message(monkeypatch):
    monkeypatch.setattr("ui.live.STEP_SECONDS", 120.0)  # the cap alone sets how far Step trains
    at = open_page(PAGE)
    at.slider(key="norms:race:spu").set_value(41).run()
    press(at, "Step")
    at.select_slider(key="norms:lr").set_value(10.0).run()
    at.slider(key="norms:race:spu").set_value(20).run()
    press(at, "Step")
    assert shown_count(at) == 61 and "diverged" not in status(at)  # the race goes on
    stopped = [w.value for w in at.warning if "diverged" in w.value]
    assert len(stopped) == 1 and stopped[0].startswith("BatchNorm: Training diverged near step 50")
    assert "the other models go on" in stopped[0] and not at.error
    loss = live_figures(at, CHARTS)["loss"]
    bn_line = next(t for t in loss["data"] if t["name"] == "BatchNorm")
    assert len(bn_line["y"]) == 41 and all(math.isfinite(v) for v in bn_line["y"])  # rolled back: last good state
    assert any(t.get("marker", {}).get("symbol") == "x" for t in loss["data"])  # where it stopped
    assert any("stopped · " in c.value for c in at.caption)


def test_feature_maps_follow_the_digit_and_the_race_model():
    at = open_page(PAGE, {"digit": "7"})
    fresh = figure(at, "norms:fig:fm-lrn")["data"][0]["z"]
    assert "freshly initialised first conv layer (seed 0)" in texts(at)
    at.slider(key="norms:race:spu").set_value(20).run()
    press(at, "Step")
    steps = shown_count(at)
    assert steps >= 1
    at.selectbox(key="norms:fm-source").set_value("bn").run()
    assert f"race's BatchNorm model after {steps:,} steps" in texts(at)
    trained = np.array(figure(at, "norms:fig:fm-lrn")["data"][0]["z"], dtype=float)  # NaN between the maps
    assert not np.allclose(np.nan_to_num(trained), np.nan_to_num(np.array(fresh, dtype=float)))
    at.number_input(key="norms:digit").set_value(8).run()
    assert not problems(at)


# -- robustness --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [3, 11])
def test_fuzzing_the_widgets_never_breaks_the_page(seed):
    at = open_page(PAGE)
    fuzz_widgets(at, rounds=8, seed=seed)
    press(at, "Step")
    assert not problems(at)


def test_each_session_gets_its_own_copy_of_one_shared_untrained_race():
    """ui.norms_views._new_race copies an untrained race kept once per settings (opening the page no
    longer builds and measures three CNNs per student). A copy trains exactly as a race built from
    scratch, shares only the read-only data, and training it changes neither the shared one nor another
    session's copy."""
    from core.norms import NormRaceConfig, NormRaceTrainer, digits_split
    from ui.norms_views import _new_race, _pristine_race

    config = NormRaceConfig()
    mine, theirs = _new_race(config), _new_race(config)
    fresh = NormRaceTrainer(config, split=digits_split(), device=mine.device)
    pristine = _pristine_race(repr(config), config)
    assert mine.x is pristine.x and mine.y_val is pristine.y_val  # one copy of the digits for the server
    assert mine.runners["bn"].model is not theirs.runners["bn"].model
    mine.train(6)
    fresh.train(6)
    a, b = mine.snapshot(), fresh.snapshot()
    assert a.step == b.step == 6
    assert {k: float(v) for k, v in a.metrics.items()} == {k: float(v) for k, v in b.metrics.items()}
    for norm in config.norms:  # the same weights, to the last bit
        for p, q in zip(mine.runners[norm].model.parameters(), fresh.runners[norm].model.parameters()):
            assert torch.equal(p, q)
        # the optimiser steps the copy's own weights, not the shared race's
        opt_params = {id(p) for g in mine.runners[norm].optimizer.param_groups for p in g["params"]}
        assert opt_params == {id(p) for p in mine.runners[norm].model.parameters()}
    assert theirs.step == pristine.step == 0
    assert torch.equal(next(theirs.runners["bn"].model.parameters()), next(pristine.runners["bn"].model.parameters()))
    assert not torch.equal(next(mine.runners["bn"].model.parameters()), next(theirs.runners["bn"].model.parameters()))
