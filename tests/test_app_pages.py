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
