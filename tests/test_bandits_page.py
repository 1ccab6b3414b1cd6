"""The bandit page under AppTest: what it shows, links, presets, the three
views, the live single run, and widget fuzzing."""

from __future__ import annotations

import pytest

from core.bandits import PARAMS, PRESETS, SLOTS, preset_controls, preset_table
from tests.conftest import open_page
from tests.helpers import link, live_figures, metric, shown_count, title, trace
from tests.fuzz import fuzz_widgets, problems

PAGE = "pages/bandits.py"
SMALL = {"runs": "100", "steps": "200"}  # keeps a test fast; the defaults are the book's 2,000 x 1,000
# Sizes (and the preset box, which loads the book's 2,000 x 1,000) stay small while fuzzing.
SIZE_KEYS = ("bandits:runs", "bandits:steps", "bandits:study_runs", "bandits:preset")


@pytest.fixture(autouse=True)
def patient_pages(monkeypatch):
    """A loaded test machine may take longer than a page waits for the worker; these tests read results."""
    import ui.bandits_views as views

    monkeypatch.setattr(views, "QUICK_WAIT", 60.0)


def _table(at):
    return at.dataframe[0].value


def _plotly(at):
    return [c for c in at.get("plotly_chart")]


def _figure_json(chart) -> str:
    return chart.proto.spec


_link = link  # tests.helpers.link: the link, one value per name

def _widgets(at) -> dict:
    """Every control of the page (session key -> value shown)."""
    out = {}
    for kind in ("selectbox", "select_slider", "slider", "number_input", "checkbox", "radio"):
        for widget in getattr(at, kind):
            if widget.key and widget.key.startswith("bandits:") and not widget.key.startswith("bandits:live"):
                out[widget.key] = widget.value
    return out


def test_default_page_reproduces_figure_2_2():
    at = open_page(PAGE)
    assert not problems(at), problems(at)
    assert at.title[0].value.startswith("🎰 Multi-armed bandits")
    assert len(_plotly(at)) == 3
    table = _table(at)
    assert list(table["strategy"]) == ["greedy", "ε-greedy ε=0.01", "ε-greedy ε=0.1"]
    final = [float(v.split(" ± ")[0]) for v in table["final reward"]]
    assert final[0] < final[1] < final[2] and 1.3 < final[2] < 1.45  # the book's ordering and level
    assert any("about 80 %" in i.value for i in at.info)  # what to look for
    caption = " ".join(c.value for c in at.caption)
    assert "10 arms · q*(a) ~ N(0, 1²)" in caption and "2,000 runs × 1,000 steps" in caption
    assert _link(at) == {}  # every control at its default: the default preset as loaded


def test_link_sets_the_controls():
    at = open_page(PAGE, {"preset": "fig24", **SMALL})
    assert not problems(at), problems(at)
    assert at.selectbox(key="bandits:strategy_1").value == "ucb"
    assert at.selectbox(key="bandits:strategy_2").value == "epsilon_greedy"
    assert at.selectbox(key="bandits:strategy_3").value == "none"
    assert list(_table(at)["strategy"]) == ["UCB c=2", "ε-greedy ε=0.1"]
    # The link lists only what differs from the preset it names.
    assert _link(at) == {"preset": "fig24", **SMALL}
    # A parameter in the link wins over the preset's value.
    at = open_page(PAGE, {"preset": "fig24", "c_1": "1", "arms": "5", **SMALL})
    assert list(_table(at)["strategy"]) == ["UCB c=1", "ε-greedy ε=0.1"]
    assert any("5 arms ·" in c.value for c in at.caption)


# A link from before the parameter table (one letter and a slot number per control) and the same link today.
OLD_LINK = {"preset": "fig24", "s1": "ucb", "c1": "1", "s2": "epsilon_greedy", "e2": "0.05", "d2": "0.01",
            "q2": "5", "z2": "0.1", "s3": "softmax", "t3": "0.5", "s4": "gradient", "a4": "0.4", "b4": "0",
            "k": "5", "mu": "1", "sigma": "0.5", "noise": "2", "walk": "0.01", "steps": "200", "runs": "100",
            "seed": "3"}
NEW_LINK = {"preset": "fig24", "strategy_1": "ucb", "c_1": "1", "strategy_2": "epsilon_greedy",
            "epsilon_2": "0.05", "decay_2": "0.01", "initial_value_2": "5", "step_size_2": "0.1",
            "strategy_3": "softmax", "tau_3": "0.5", "strategy_4": "gradient", "alpha_4": "0.4", "baseline_4": "0",
            "arms": "5", "mean": "1", "spread": "0.5", "reward_noise": "2", "walk": "0.01", "steps": "200",
            "runs": "100", "seed": "3"}


def test_a_link_with_the_old_codes_opens_the_same_page_under_the_new_names():
    old, new = open_page(PAGE, OLD_LINK), open_page(PAGE, NEW_LINK)
    assert not problems(old) and not problems(new), (problems(old), problems(new))
    shown = _widgets(old)
    assert shown == _widgets(new)
    expected = {
        "preset": "fig24", "strategy_1": "ucb", "c_1": 1.0, "strategy_2": "epsilon_greedy", "epsilon_2": 0.05,
        "decay_2": 0.01, "initial_value_2": 5.0, "step_size_2": 0.1, "strategy_3": "softmax", "tau_3": 0.5,
        "strategy_4": "gradient", "alpha_4": 0.4, "baseline_4": False, "arms": 5, "mean": 1.0, "spread": 0.5,
        "reward_noise": 2.0, "walk": 0.01, "steps": 200, "runs": 100, "seed": 3}
    for name, value in expected.items():
        assert shown[f"bandits:{name}"] == value, name
    labels = ["UCB c=1", "decaying ε-greedy ε₀=0.05, decay 0.01, Q₁=5, α=0.1", "softmax τ=0.5",
              "gradient α=0.4, no baseline"]
    assert list(_table(old)["strategy"]) == list(_table(new)["strategy"]) == labels
    assert old.caption and any("5 arms · q*(a) ~ N(1, 0.5²) · rewards ~ N(q*(a), 2²)" in c.value
                               for c in old.caption)
    # The link now carries the new names; what equals the preset (slots 1 and 2's strategies) is left out.
    want = {k: v for k, v in NEW_LINK.items() if k not in ("strategy_1", "strategy_2")}
    assert _link(old) == _link(new) == want


def test_an_old_parameter_study_link_opens_the_same_study():
    old_link = {"view": "study", "sruns": "100", "smetric": "last", "f_egreedy": "0", "f_softmax": "1",
                "f_efirst": "1", "f_thompson": "1", "steps": "100", "runs": "100"}
    new_link = {"view": "study", "study_runs": "100", "study_metric": "last", "study_epsilon_greedy": "0",
                "study_softmax": "1", "study_epsilon_first": "1", "study_thompson": "1", "steps": "100",
                "runs": "100"}
    old, new = open_page(PAGE, old_link), open_page(PAGE, new_link)
    assert not problems(old) and not problems(new), (problems(old), problems(new))
    assert _widgets(old) == _widgets(new)
    ticked = {k: v for k, v in _widgets(old).items() if k.startswith("bandits:study_")}
    assert ticked == {"bandits:study_epsilon_greedy": False, "bandits:study_gradient": True,
                      "bandits:study_ucb": True, "bandits:study_optimistic": True, "bandits:study_softmax": True,
                      "bandits:study_epsilon_first": True, "bandits:study_thompson": True,
                      "bandits:study_runs": 100, "bandits:study_metric": "last"}
    assert _figure_json(_plotly(old)[0]) == _figure_json(_plotly(new)[0])
    assert "last 10 % of steps" in _figure_json(_plotly(old)[0])
    assert _link(old) == _link(new) == new_link


def test_bad_link_values_get_a_notice_not_an_error():
    at = open_page(PAGE, {"runs": "banana", "strategy_1": "nope", "steps": "200"})
    assert not problems(at), problems(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "Runs" in warnings and "Strategy 1" in warnings


def test_widgets_change_what_is_shown():
    at = open_page(PAGE, SMALL)
    before = _figure_json(_plotly(at)[0])
    at.select_slider(key="bandits:epsilon_3").set_value(0.3).run()
    assert not problems(at)
    assert list(_table(at)["strategy"])[2] == "ε-greedy ε=0.3"
    assert _figure_json(_plotly(at)[0]) != before
    assert _link(at)["epsilon_3"] == "0.3"  # the link follows
    at.selectbox(key="bandits:strategy_4").set_value("thompson").run()
    assert list(_table(at)["strategy"])[3] == "Thompson sampling"
    at.slider(key="bandits:arms").set_value(20).run()
    assert any("20 arms ·" in c.value for c in at.caption)
    assert not problems(at)


def test_empty_lineup_gets_a_warning():
    at = open_page(PAGE, {**SMALL, "strategy_1": "none", "strategy_2": "none", "strategy_3": "none"})
    assert not problems(at)
    assert any("Every slot is empty" in w.value for w in at.warning)


def test_loading_a_preset_fills_every_control_and_reload_puts_it_back():
    at = open_page(PAGE, SMALL)
    at.selectbox(key="bandits:preset").set_value("fig25").run()
    assert not problems(at), problems(at)
    assert [at.selectbox(key=f"bandits:strategy_{i}").value for i in range(1, 5)] == ["gradient"] * 4
    assert at.slider(key="bandits:mean").value == 4.0
    assert at.select_slider(key="bandits:runs").value == 2000  # the book's size
    assert list(_table(at)["strategy"]) == ["gradient α=0.1, baseline", "gradient α=0.1, no baseline",
                                            "gradient α=0.4, baseline", "gradient α=0.4, no baseline"]
    assert _link(at) == {"preset": "fig25"}  # every other control shows the preset's value
    at.select_slider(key="bandits:runs").set_value(100).run()
    assert any("You changed the preset" in c.value for c in at.caption)
    assert _link(at) == {"preset": "fig25", "runs": "100"}
    at.button[0].click().run()  # ↺ Reload preset
    assert at.select_slider(key="bandits:runs").value == 2000
    assert not any("You changed the preset" in c.value for c in at.caption)
    assert _link(at) == {"preset": "fig25"}


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_renders_from_a_link(key):
    at = open_page(PAGE, {"preset": key, **SMALL})
    assert not problems(at), problems(at)
    assert len(_table(at)) == len(PRESETS[key].lineup)
    # The link's smaller size counts as a change to the preset: say so, with the preset's name.
    assert any("You changed the preset" in c.value and PRESETS[key].title in c.value for c in at.caption)


def test_every_preset_value_is_a_widget_option():
    for key in PRESETS:
        values = preset_controls(key)
        PARAMS.preset(values)  # raises when a value is not one its control can show
        table = preset_table(key)
        assert {p.name: p.default for p in table if p.name in values} == values
        assert len(values) >= SLOTS + 7  # every slot's strategy, the testbed and its size


def test_parameter_study_view():
    at = open_page(PAGE, {**SMALL, "view": "study", "study_runs": "100"})
    assert not problems(at), problems(at)
    charts = _plotly(at)
    assert len(charts) == 1 and "Parameter study" in _figure_json(charts[0])
    assert any("Best point:" in c.value for c in at.caption)
    at.checkbox(key="bandits:study_softmax").check().run()
    assert "softmax" in _figure_json(_plotly(at)[0])
    for key in ("epsilon_greedy", "gradient", "ucb", "optimistic", "softmax"):
        at.checkbox(key=f"bandits:study_{key}").uncheck()
    at.run()
    assert any("Tick at least one strategy" in i.value for i in at.info)


def test_single_run_view_trains_live():
    at = open_page(PAGE, {**SMALL, "view": "single", "preset": "fig24"})
    assert not problems(at), problems(at)
    run = at.session_state["bandits:live"]
    assert run.trainer.config.strategy == "ucb" and run.trainer.max_steps == 200
    at.button(key="bandits:live:toggle").click().run()  # Start: the run after it is the first tick
    assert at.session_state["bandits:live"].trainer.step == 5  # 5 pulls per update by default
    at.run()
    live = at.session_state["bandits:live"]
    assert live.trainer.step == 10
    # A tick draws, then trains: the counter, the charts and the status line show one snapshot (5 pulls).
    assert metric(at, "Pulls") == "5" and shown_count(at) == 5
    figures = live_figures(at, "bandits:charts")
    assert "after 5 pulls" in title(figures["arms"])
    assert sum(trace(figures["arms"], "pulls (the last pull in orange-red)")["y"]) == 5
    # Watching another contender builds a new run.
    at.selectbox(key="bandits:watch").set_value(2).run()
    assert at.session_state["bandits:live"].trainer.config.strategy == "epsilon_greedy"
    assert at.session_state["bandits:live"].trainer.step == 0
    # Emptying the watched slot falls back to the first contender, without an error.
    at.selectbox(key="bandits:strategy_2").set_value("none").run()
    assert not problems(at)
    assert at.selectbox(key="bandits:watch").value == 1
    assert at.session_state["bandits:live"].trainer.config.strategy == "ucb"


@pytest.mark.parametrize("view, seed, rounds", [("average", 1, 8), ("study", 2, 5), ("single", 3, 8)])
def test_fuzz_each_view(view, seed, rounds):
    at = open_page(PAGE, {"runs": "100", "steps": "100", "view": view, "study_runs": "100"})
    assert fuzz_widgets(at, rounds=rounds, seed=seed, skip_keys=(*SIZE_KEYS, "bandits:view")) > 0


def test_a_large_testbed_previews_at_once_and_refines_in_the_background():
    """Issue 11: 2,000 runs x 1,000 steps for several strategies never blocks the server for seconds."""
    import time

    from ui import bandits_views

    at = open_page(PAGE, {"preset": "fig22", "runs": "2000", "steps": "1000", "seed": "7"})
    assert not problems(at), problems(at)
    previews = [i.value for i in at.info if "quick preview" in i.value]
    assert previews and "2,000 runs" in previews[0]
    futures = list(bandits_views._futures.values())[-3:]
    deadline = time.monotonic() + 120
    while not all(f.done() for f in futures) and time.monotonic() < deadline:
        time.sleep(0.5)
    at.run()
    assert not [i.value for i in at.info if "quick preview" in i.value]
    assert list(_table(at)["strategy"])  # the scoreboard of the full result


def test_a_slow_answer_leaves_the_page_usable_and_arrives_by_itself(monkeypatch):
    """The testbed runs in a worker process; a page that would wait too long draws a note instead of curves,
    and its polling fragment reruns the page when the worker is done (the session never blocks)."""
    import ui.bandits_views as views

    views.warm_workers()
    assert views._quick.wait_started(30)
    monkeypatch.setattr(views, "QUICK_WAIT", 0.0)
    at = open_page(PAGE, {**SMALL, "seed": "4242"})  # a seed no other test asked for: nothing cached
    assert not problems(at), problems(at)
    assert not _plotly(at)
    assert any("Simulating 3 strategies × 100 runs" in i.value for i in at.info), [i.value for i in at.info]
    asked = [f for key, f in list(views._futures.items()) if key[-1] == 4242]
    assert len(asked) == 3
    for future in asked:
        future.result(timeout=60)
    monkeypatch.setattr(views, "QUICK_WAIT", 60.0)
    at.run()
    assert len(_plotly(at)) == 3
    assert views._quick.uses_processes, views._quick.fallback


def test_two_slots_asking_the_same_testbed_share_one_answer():
    """Two identical contenders are one job: the page once waited for it 'twice' and reran itself forever."""
    at = open_page(PAGE, {**SMALL, "strategy_4": "epsilon_greedy", "epsilon_4": "0.1"})
    assert not problems(at), problems(at)
    assert len(_plotly(at)) == 3
    assert not [i.value for i in at.info if "Simulating" in i.value]
    assert len(_table(at)) == 4


def _path(at, match) -> tuple[int, ...] | None:
    """Child indices from the page's main block down to the first element that ``match``es."""
    def walk(node, path):
        if match(node):
            return path
        for i, child in getattr(node, "children", {}).items():
            found = walk(child, (*path, i))
            if found is not None:
                return found
        return None

    return walk(at._tree[0], ())


def _keyed(key):
    return lambda node: getattr(node, "key", None) == key


def test_the_curves_are_drawn_beside_the_lineup():
    """Control and result on one screen: the preset box and every slot's strategy and main parameter share
    one row with the average-reward curves (in the column beside them, under tabs); the testbed, regret and
    the scoreboard come after it, and the extra settings wait in one expander under the cards."""
    at = open_page(PAGE, {**SMALL, "preset": "fig23"})
    assert not problems(at), problems(at)
    curves = _path(at, _keyed("bandits:reward"))
    row = curves[0]
    assert at._tree[0].children[row].type == "flex_container"
    controls = ["bandits:preset", *(f"bandits:strategy_{s}" for s in range(1, SLOTS + 1)), "bandits:epsilon_2",
                "bandits:initial_value_1"]
    for key in controls:
        path = _path(at, _keyed(key))
        assert path[0] == row and path[1] != curves[1], (key, path, curves)  # same row, the other column
    assert _path(at, _keyed("bandits:optimal"))[:2] == curves[:2]
    tabs = _path(at, lambda n: getattr(n, "type", None) == "tab_container")
    assert tabs[:2] == curves[:2]
    assert [t.label for t in at._tree[0].children[row].children[curves[1]].children[tabs[2]]
            .children[tabs[3]].children.values()] == ["📈 Average reward", "🎯 Best arm picked (%)"]
    for key in ("bandits:arms", "bandits:regret"):
        assert _path(at, _keyed(key))[0] > row, key
    # Q₁ = 5 sits in the expander, and the card says it is set
    expander = next(e for e in at.expander if e.label.startswith("⚙️ More settings"))
    assert expander.select_slider(key="bandits:initial_value_1").value == 5.0
    assert any("optimistic Q₁ = 5" in c.value for c in at.caption)


def test_the_other_views_keep_the_lineup_in_one_row():
    at = open_page(PAGE, {**SMALL, "view": "study", "study_runs": "100"})
    assert not problems(at), problems(at)
    row = _path(at, _keyed("bandits:strategy_1"))[0]
    assert all(_path(at, _keyed(f"bandits:strategy_{s}"))[0] == row for s in range(2, SLOTS + 1))
    assert _path(at, _keyed("bandits:study"))[0] > _path(at, _keyed("bandits:arms"))[0]
    at = open_page(PAGE, {**SMALL, "preset": "fig25"})  # gradient bandits only: nothing more to set
    assert any("None of the strategies chosen has more settings" in c.value for c in at.caption)
