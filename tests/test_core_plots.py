"""Figure builders: structure (titles, axes, traces), not pixels."""

import json

import numpy as np
import pytest

from core.plots.common import series_figure, thin, trace_names
from core.plots.regression import fit_figure, loss_figure
from core.regression import RegressionConfig, RegressionTrainer
from tests.conftest import open_page
from ui.registry import all_pages
from ui.static_module import decoded


def _titles(fig):
    return fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def test_regression_figures_are_labelled():
    snap = RegressionTrainer(RegressionConfig()).train(20)
    for fig in (fit_figure(snap), loss_figure(snap)):
        assert all(_titles(fig)), _titles(fig)
    assert trace_names(fit_figure(snap)) == ["training points", "true curve", "network"]
    assert "20 steps" in fit_figure(snap).layout.title.text
    assert loss_figure(snap).layout.yaxis.type == "log"


def test_thin_keeps_ends_and_bounds_size():
    x = np.arange(10_000)
    xs, ys = thin(x, x * 2, max_points=500)
    assert len(xs) <= 500 and xs[0] == 0 and xs[-1] == 9_999
    np.testing.assert_array_equal(ys, xs * 2)
    xs, _ = thin(x[:100], x[:100], max_points=500)
    assert len(xs) == 100


def test_series_figure_one_trace_per_series():
    fig = series_figure(np.arange(5), {"a": np.ones(5), "b": np.zeros(5)},
                        title="T", x_title="step", y_title="loss (nats)")
    assert trace_names(fig) == ["a", "b"] and _titles(fig) == ("T", "step", "loss (nats)")


def test_empty_history_says_what_to_do():
    fig = series_figure(np.array([]), {"loss": np.array([])}, title="T", x_title="step", y_title="loss")
    assert "press Start" in fig.layout.annotations[0].text
    assert not series_figure(np.arange(3), {"loss": np.ones(3)}, title="T", x_title="s", y_title="l").layout.annotations


# Pages whose tabs run only when open (st.tabs with on_change="rerun"): links that open the other tabs.
TAB_LINKS = [("pages/entropy.py", {"peak_gap": "8"}), ("pages/entropy.py", {"epochs": "10"})]


@pytest.mark.parametrize(("page", "link"), [(p.path, None) for p in all_pages()] + TAB_LINKS)
def test_figures_built_without_validation_send_the_same_json(page, link, monkeypatch):
    """core/plots/fastgo.py skips Plotly's property checks in the app: every chart each page sends
    (st.plotly_chart specs and live views) must be the same as with the checks on."""
    import ui.live

    monkeypatch.setattr(ui.live, "STEP_SECONDS", 120.0)  # Step trains its full count, however busy the machine
    sent = {}
    for validate in ("1", "0"):
        monkeypatch.setenv("EXPLORABLES_VALIDATE_FIGURES", validate)
        at = open_page(page, link)
        steps = [b for b in at.button if b.label == "⏭ Step"]
        if steps:  # the live views' charts after some training, too
            steps[0].click().run()
        assert not at.exception, [e.value for e in at.exception]
        charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        views = [decoded(node) for node in at.get("bidi_component")]
        sent[validate] = (charts, views)
    assert sent["0"][0] or sent["0"][1], "the page sent no chart"
    assert sent["0"] == sent["1"]


LIVE_PAGES = ["pages/home.py", "pages/gan.py", "pages/norms.py", "pages/gridworld.py",  # activations sends dicts
              ("pages/entropy.py", {"epochs": "10"})]


@pytest.mark.parametrize("page", LIVE_PAGES, ids=lambda p: p if isinstance(p, str) else p[0] + "?lab")
def test_live_views_send_what_plotly_itself_would_serialise(page, monkeypatch):
    """ui.livechart.figure_data reads a figure's property tree directly (no deep copy, no base64 round
    trip): for every live chart of the page, after some training, it must send exactly what the plain
    form of Plotly's own ``to_plotly_json`` gives."""
    import plotly.graph_objects as go

    import ui.live
    import ui.livechart as lc

    monkeypatch.setattr(ui.live, "STEP_SECONDS", 120.0)
    seen: list = []
    real = lc.chart_payload

    def recording(charts, **kwargs):
        seen.extend(c.figure for c in charts)
        return real(charts, **kwargs)

    monkeypatch.setattr(lc, "chart_payload", recording)
    path, link = (page, None) if isinstance(page, str) else page
    at = open_page(path, link)
    steps = [b for b in at.button if b.label == "⏭ Step"]
    if steps:
        steps[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    figures = [f for f in seen if isinstance(f, go.Figure)]
    assert figures, "the page drew no live chart from a Plotly figure"
    for fig in figures:
        spec = fig.to_plotly_json()
        layout = {k: v for k, v in spec["layout"].items() if k != "template"}
        assert lc.figure_data(fig) == {"data": lc.plain(list(spec["data"])), "layout": lc.plain(layout)}
