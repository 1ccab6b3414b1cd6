"""ui.url_state: links set widgets, widgets write links, bad links get a notice."""

from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from ui.url_state import UrlState

    url = UrlState("demo")
    sep = url.slider("Separation", "sep", 0.0, 4.0, 1.5, step=0.1)
    n = url.slider("Points", "n", 10, 1000, 200)
    model = url.selectbox("Model", "model", ["logistic", "forest"], "logistic")
    lr = url.select_slider("Learning rate", "lr", [0.001, 0.01, 0.1], 0.01)
    smooth = url.checkbox("Smooth", "smooth", False)
    k = url.number_input("Arms", "k", 2, 50, 10)
    name = url.text_input("Name", "name", "P", max_chars=5)
    st.write(f"values={sep!r},{n!r},{model!r},{lr!r},{smooth!r},{k!r}")
    st.write(f"name={name!r}")


def _run(params=None):
    at = AppTest.from_function(_script, default_timeout=30)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def _values(at):
    return next(m.value for m in at.markdown if m.value.startswith("values="))


def test_defaults_without_a_link():
    at = _run()
    assert _values(at) == "values=1.5,200,'logistic',0.01,False,10"
    assert dict(at.query_params) == {} and not at.warning


def test_link_sets_every_widget():
    at = _run({"sep": "2.5", "n": "300", "model": "forest", "lr": "0.1", "smooth": "1", "k": "7"})
    assert _values(at) == "values=2.5,300,'forest',0.1,True,7"
    assert not at.warning


def test_invalid_values_fall_back_with_a_notice():
    at = _run({"sep": "9", "n": "12.5", "model": "svm", "lr": "abc", "smooth": "maybe", "k": "1"})
    assert _values(at) == "values=1.5,200,'logistic',0.01,False,10"
    notices = " ".join(w.value for w in at.warning)
    assert len(at.warning) == 6
    for text in ("between 0 and 4", "not a whole number", "one of: logistic, forest", "1 or 0", "between 2 and 50"):
        assert text in notices
    assert "Using the default, 1.5" in notices


def test_nan_and_inf_are_rejected():
    at = _run({"sep": "nan"})
    assert "not a finite number" in at.warning[0].value
    assert _values(at).startswith("values=1.5,")


def test_changes_are_written_and_defaults_removed():
    at = _run()
    at.slider(key="demo:sep").set_value(3.0).run()
    at.selectbox(key="demo:model").set_value("forest").run()
    assert at.query_params["sep"] == "3" and at.query_params["model"] == "forest"
    at.slider(key="demo:sep").set_value(1.5).run()
    assert "sep" not in at.query_params and at.query_params["model"] == "forest"


def test_widget_wins_over_the_link_after_first_load():
    at = _run({"sep": "2.5"})
    at.slider(key="demo:sep").set_value(0.5).run()
    assert _values(at).startswith("values=0.5,")
    assert at.query_params["sep"] == "0.5"


def _conditional_script():
    import streamlit as st

    from ui.url_state import UrlState

    if st.checkbox("show", value=True, key="show"):
        value = UrlState("demo").slider("Separation", "sep", 0.0, 4.0, 1.5, step=0.1)
        st.write(f"sep={value!r}")


def test_value_survives_the_widget_leaving_the_page():
    """Streamlit forgets a widget's state when it is not drawn (as on a page
    switch); the helper brings the learner's last value back."""
    at = AppTest.from_function(_conditional_script, default_timeout=30).run()
    at.slider(key="demo:sep").set_value(3.2).run()
    at.checkbox(key="show").set_value(False).run()
    assert not at.slider
    at.checkbox(key="show").set_value(True).run()
    assert at.slider(key="demo:sep").value == 3.2


def test_numbers_written_differently_still_match_options():
    at = _run({"lr": "1e-1", "sep": "2.50"})
    assert _values(at).startswith("values=2.5,200,'logistic',0.1,")
    assert not at.warning


def test_text_from_the_link_and_its_length_limit():
    at = _run({"name": "Q2"})
    assert any(m.value == "name='Q2'" for m in at.markdown)
    at = _run({"name": "far too long"})
    assert any(m.value == "name='P'" for m in at.markdown)
    assert "longer than 5 characters" in at.warning[0].value


def _stop_script():
    import streamlit as st

    from ui.url_state import UrlState

    url = UrlState("demo")
    if st.session_state.get("opt_in"):
        url.resend_remounted()
    if not st.checkbox("show", value=True, key="show"):
        if st.session_state.get("opt_in"):
            url.run_complete()
        st.stop()  # Streamlit keeps the state of the widgets below, but the browser forgets them
    sep = url.slider("Separation", "sep", 0.0, 4.0, 1.5, step=0.1)
    own = "demo:own"
    if st.session_state.get("opt_in"):
        url.resend_if_remounted(own)
    picked = st.select_slider("Own widget", [1, 2, 3], key=own)
    st.write(f"sep={sep!r},own={picked!r}")
    if st.session_state.get("opt_in"):
        url.run_complete()


def _round_trip(opt_in: bool):
    """Set both widgets, hide them behind st.stop(), show them again: the widgets as last sent."""
    at = AppTest.from_function(_stop_script, default_timeout=30)
    at.session_state["opt_in"] = opt_in
    at.run()
    at.slider(key="demo:sep").set_value(3.2).run()
    at.select_slider(key="demo:own").set_value(3).run()
    quiet = (at.slider(key="demo:sep").proto, at.select_slider(key="demo:own").proto)
    at.checkbox(key="show").set_value(False).run()
    assert not at.slider
    at.checkbox(key="show").set_value(True).run()
    assert not at.exception
    assert any(m.value == "sep=3.2,own=3" for m in at.markdown)  # the page computes with the kept values
    back = (at.slider(key="demo:sep").proto, at.select_slider(key="demo:own").proto)
    at.run()  # a plain rerun: both widgets were drawn in the run before
    again = (at.slider(key="demo:sep").proto, at.select_slider(key="demo:own").proto)
    return quiet, back, again


def test_widgets_that_come_back_after_a_stopped_run_are_sent_with_their_value():
    quiet, back, again = _round_trip(opt_in=True)
    slider, own = back
    # what the browser draws: the value sent with the widget (without it, its own default: 0.0 and 1)
    assert slider.set_value and list(slider.value) == [3.2]
    assert own.set_value and list(own.raw_value) == ["3"]
    # only widgets that come back are re-sent: a widget on screen is never pulled under the learner's hand
    assert not any(p.set_value for p in quiet + again)


def test_without_the_option_the_browser_would_show_the_defaults():
    """Why the option exists (and that it changes nothing for pages that do not ask for it)."""
    _, back, _ = _round_trip(opt_in=False)
    slider, own = back
    assert not slider.set_value and list(slider.default) == [0.0]  # the page uses 3.2
    assert not own.set_value and list(own.default) == [0]  # the page uses 3


def _interrupted_script():
    import streamlit as st

    from ui.url_state import UrlState

    url = UrlState("demo").resend_remounted()
    if st.session_state.pop("interrupt", False):
        st.rerun()  # the run ends here, as when the next arrow-key press on the slider interrupts it
    sep = url.slider("Separation", "sep", 0.0, 4.0, 1.5, step=0.1)
    st.write(f"sep={sep!r}")
    url.run_complete()


def test_a_run_cut_short_does_not_pull_a_slider_back():
    """A run interrupted before it reached a slider made the next run re-send the slider's value:
    on a busy server, ten quick arrow-key presses moved the ROC threshold 2 to 9 steps instead of 10."""
    at = AppTest.from_function(_interrupted_script, default_timeout=30)
    at.run()
    at.slider(key="demo:sep").set_value(3.2).run()
    at.session_state["interrupt"] = True
    at.slider(key="demo:sep").set_value(3.3).run()
    assert any(m.value == "sep=3.3" for m in at.markdown)
    assert not at.slider(key="demo:sep").proto.set_value  # the browser's slider is left where the learner put it
