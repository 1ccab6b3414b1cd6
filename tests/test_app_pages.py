"""The whole app under AppTest: every registered page renders from app.py,
the shared sidebar is there, the home page lists exactly the topic pages,
and the home page survives widget fuzzing."""

import pytest

from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from ui.registry import TOPICS, all_pages
from ui.sidebar import SHARE_NOTE


def test_home_page(app):
    assert not problems(app)
    assert app.title[0].value.endswith("ML Explorables")
    sidebar = [m.value for m in app.sidebar.markdown]
    assert any(s.startswith("⚙️ **Models train on:** ") for s in sidebar)
    assert SHARE_NOTE in sidebar
    assert app.latex and "theta" in app.latex[0].value  # the demo's formula block


def test_navigation_and_cards_list_exactly_the_registered_pages(app):
    sidebar_links = [link.proto.page for link in app.sidebar.get("page_link")]
    main_links = [link.proto.page for link in app.main.get("page_link")]
    assert len(sidebar_links) == len(all_pages())
    assert len(main_links) == len(TOPICS)  # one card per topic, no more


@pytest.mark.parametrize("info", all_pages(), ids=lambda p: p.url_path)
def test_every_page_renders(info):
    at = open_page(info.path)
    assert not problems(at), problems(at)
    assert at.title, f"{info.path} has no st.title"


def test_home_page_fuzz():
    at = open_page("pages/home.py")
    assert fuzz_widgets(at, rounds=10, seed=2) > 0


def test_home_link_restores_settings():
    at = open_page("pages/home.py", {"target": "step", "lr": "0.1", "opt": "adam"})
    run = at.session_state["home:demo"]
    assert (run.trainer.config.target, run.trainer.config.lr, run.trainer.config.optimizer) == ("step", 0.1, "adam")


def _home_widgets(at) -> dict:
    """What the home page's controls show, read by their labels."""
    return {
        "target": at.selectbox(key="home:target").value,
        "activation": at.selectbox(key="home:activation").value,
        "optimizer": at.selectbox(key="home:optimizer").value,
        "lr": at.select_slider(key="home:lr").value,
        "hidden": at.select_slider(key="home:hidden_units").value,
    }


def _link(at) -> dict:
    return {k: at.query_params[k] for k in at.query_params}


def test_home_link_from_before_the_table_opens_the_same_settings_under_the_new_names():
    old = open_page("pages/home.py", {"target": "step", "act": "relu", "opt": "adam", "lr": "0.1", "hidden": "8"})
    new = open_page("pages/home.py", {"target": "step", "activation": "relu", "optimizer": "adam", "lr": "0.1",
                                      "hidden_units": "8"})
    assert not problems(old) and not problems(new)
    expected = {"target": "step", "activation": "relu", "optimizer": "adam", "lr": 0.1, "hidden": 8}
    assert _home_widgets(old) == _home_widgets(new) == expected
    config = old.session_state["home:demo"].trainer.config
    assert (config.target, config.activation, config.optimizer, config.lr, config.hidden) == ("step", "relu", "adam",
                                                                                              0.1, 8)
    names = {"target": "step", "activation": "relu", "optimizer": "adam", "lr": "0.1", "hidden_units": "8"}
    for at in (old, new):
        link = _link(at)
        assert {k: v[0] if isinstance(v, list) else v for k, v in link.items()} == names


def test_home_widgets_start_from_the_regression_defaults():
    at = open_page("pages/home.py")
    from core.regression import RegressionConfig

    d = RegressionConfig()
    assert _home_widgets(at) == {"target": d.target, "activation": d.activation, "optimizer": d.optimizer,
                                 "lr": d.lr, "hidden": d.hidden} == {"target": "sine", "activation": "tanh",
                                                                     "optimizer": "sgd", "lr": 0.03, "hidden": 32}
    assert _link(at) == {}
    assert at.selectbox(key="home:optimizer").options == ["SGD + momentum", "Adam"]
