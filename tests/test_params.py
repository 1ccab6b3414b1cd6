"""core.params and UrlState.widget/apply/upgrade_link: one table per page gives widgets, links,
defaults, presets and old links."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from streamlit.testing.v1 import AppTest

from core.params import Param, ParamTable, encode


@dataclass(frozen=True)
class DemoConfig:
    lr: float = 0.01
    hidden: int = 32
    act: str = "relu"
    smooth: bool = False


TABLE = ParamTable(DemoConfig, [
    Param("lr", "Learning rate", "select_slider", options=(0.001, 0.01, 0.1), old=("l",)),
    Param("hidden", "Hidden units", "slider", lo=1, hi=256, url="hidden_units", old=("h",)),
    Param("act", "Activation", "radio", options=("relu", "tanh")),
    Param("smooth", "Label smoothing", "checkbox", url="label_smoothing"),
    Param("view", "View", "selectbox", options=("curves", "table"), default="curves"),
])


def test_defaults_come_from_the_config_and_are_checked():
    assert TABLE.defaults() == {"lr": 0.01, "hidden": 32, "act": "relu", "smooth": False, "view": "curves"}
    assert TABLE.config_defaults() == {"lr": 0.01, "hidden": 32, "act": "relu", "smooth": False}
    assert DemoConfig(**TABLE.config_defaults()) == DemoConfig()
    with pytest.raises(ValueError, match="not one of the options"):
        ParamTable(DemoConfig, [Param("lr", "Learning rate", "select_slider", options=(0.5, 1.0))])
    with pytest.raises(ValueError, match="no such field"):
        ParamTable(DemoConfig, [Param("nope", "Nope", "checkbox")])
    with pytest.raises(ValueError, match="share a link name"):
        ParamTable(DemoConfig, [Param("lr", "a", "select_slider", options=(0.01,), old=("act",)),
                                Param("act", "b", "radio", options=("relu",))])


def test_presets_old_links_and_links():
    assert TABLE.preset({"hidden": 64})["hidden"] == 64
    with pytest.raises(ValueError, match="outside 1..256"):
        TABLE.preset({"hidden": 1000})
    with pytest.raises(ValueError, match="unknown parameters"):
        TABLE.preset({"depth": 3})
    assert TABLE.upgrade({"l": "0.1", "h": "64", "other": "x"}) == {"lr": "0.1", "hidden_units": "64", "other": "x"}
    assert TABLE.upgrade({"h": "64", "hidden_units": "8"}) == {"hidden_units": "8"}  # the new name wins
    assert TABLE.link({"lr": 0.1, "hidden": 32, "smooth": True}) == {"lr": "0.1", "label_smoothing": "1"}
    assert encode(1e-3) == "0.001" and encode(True) == "1"


PRESETS = {"small": {"hidden": 8, "act": "tanh"}, "big": {"hidden": 200}}
WITH_PRESET = ParamTable(DemoConfig, [*TABLE, Param("preset", "Preset", "selectbox", options=("none", *PRESETS),
                                                    default="none")])


def _script():
    import streamlit as st

    from tests.test_params import PRESETS, TABLE, WITH_PRESET
    from ui.url_state import UrlState

    url = UrlState("demo")
    url.upgrade_link(TABLE)
    st.write(f"link sets={sorted(url.link_names(TABLE))!r}")
    url.start_from_preset(WITH_PRESET, WITH_PRESET["preset"], lambda name: PRESETS.get(name, {}))
    url.widget(WITH_PRESET["preset"])
    st.button("Preset: wide", on_click=url.apply, args=(TABLE, {"hidden": 128, "act": "tanh"}))
    values = url.widgets(TABLE)
    st.write(f"values={values!r}")


def _run(params=None) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=30)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _values(at) -> dict:
    text = next(m.value for m in at.markdown if m.value.startswith("values="))
    return eval(text[len("values="):])  # noqa: S307 - our own repr of plain values


def test_the_table_draws_every_widget_with_its_default_and_an_empty_link():
    at = _run()
    assert _values(at) == TABLE.defaults()
    assert at.slider(key="demo:hidden_units").label == "Hidden units"
    assert dict(at.query_params) == {}


def test_a_link_from_before_the_table_opens_the_same_settings_under_the_new_names():
    at = _run({"l": "0.1", "h": "64", "label_smoothing": "1"})
    assert _values(at) == {**TABLE.defaults(), "lr": 0.1, "hidden": 64, "smooth": True}
    link = {k: at.query_params[k] for k in at.query_params}
    assert link == {"lr": ["0.1"], "hidden_units": ["64"], "label_smoothing": ["1"]} or link == {
        "lr": "0.1", "hidden_units": "64", "label_smoothing": "1"}


def test_a_preset_sets_its_values_over_the_defaults_and_writes_the_link():
    at = _run({"lr": "0.1"})
    at.button[0].click().run()
    assert _values(at) == {**TABLE.defaults(), "hidden": 128, "act": "tanh"}  # lr back to its default
    link = {k: at.query_params[k] for k in at.query_params}
    assert set(link) == {"hidden_units", "act"}


def test_a_link_naming_a_preset_starts_from_it_and_its_own_values_win():
    at = _run({"preset": "small", "act": "relu"})
    assert _values(at) == {**TABLE.defaults(), "hidden": 8, "act": "relu"}  # hidden from the preset, act from the link
    assert next(m.value for m in at.markdown if m.value.startswith("link sets=")) == "link sets=['act']"
    at = _run({"preset": "nonsense"})  # an unknown preset: the preset box says so, nothing else moves
    assert _values(at) == TABLE.defaults()
    assert any("cannot be used" in w.value for w in at.warning)


def test_a_multiselect_is_a_tuple_of_choices_written_with_commas():
    p = Param("fns", "Functions", "multiselect", options=("relu", "tanh", "gelu"), default=["tanh", "relu"], lo=1)
    assert p.default == ("tanh", "relu")
    p.check(("gelu",))
    with pytest.raises(ValueError, match="at least 1"):
        p.check(())
    with pytest.raises(ValueError, match="not a choice"):
        p.check(("swish",))
    assert encode(("relu", "gelu")) == "relu,gelu"
