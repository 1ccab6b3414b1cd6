"""The classroom load test (benchmarks/classroom.py), run for real.

One test starts a real ``streamlit run app.py`` and lets two simulated students
(one moving the ROC threshold, one training the home page's demo) work for
15 s over Streamlit's websocket protocol; the others check the instrument's
small parts against independent references.
"""

from __future__ import annotations

import os
import random
import socket

import numpy as np
import pytest
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks import classroom


def test_two_students_on_a_real_server():
    result = classroom.main([
        "--students", "2", "--training", "1", "--seconds", "15", "--ramp", "0", "--warmup", "--think", "1",
        "--analytic-pages", "roc", "--live-pages", "home",
    ])
    assert result["error_count"] == 0, result["errors"]

    roc = result["pages"]["roc"]
    assert roc["rerun"]["n"] >= 3, roc
    assert 0 < roc["rerun"]["p50_s"] <= roc["rerun"]["p95_s"] <= roc["rerun"]["max_s"]
    assert roc["open"]["n"] == 1 and roc["open"]["p50_s"] > 0
    timeline = result["rerun_timeline"]  # every rerun, in the order sent, with its latency
    assert len(timeline) == roc["rerun"]["n"] and {page for _, page, _ in timeline} == {"roc"}
    assert [at for at, _, _ in timeline] == sorted(at for at, _, _ in timeline)
    assert max(lat for _, _, lat in timeline) == roc["rerun"]["max_s"]
    settled = [lat for at, _, lat in timeline if at >= 5.0]  # no ramp: every page opened before 5 s
    assert roc["rerun_after_opens"]["n"] == len(settled) < len(timeline)

    (trainer,) = result["training"]
    assert trainer["page"] == "home"
    assert trainer["steps"] > 0 and trainer["updates"] >= 2, trainer
    assert trainer["ticks_completed"] >= 2  # fragment reruns sent on the auto-rerun interval came back
    assert trainer["ticks_sent"] >= trainer["ticks_completed"]
    assert trainer["steps_per_s"] > 0 and trainer["updates_per_s"] > 0
    assert trainer["last_status"].startswith("Step ")

    server = result["server"]
    assert server["pid"] is not None
    assert server["rss_mb_peak"] >= server["rss_mb_start"] > 10
    assert server["cpu_percent_mean"] > 0
    assert result["server_log"]["tracebacks"] == []


def test_percentile_matches_numpy():
    rng = random.Random(1)
    for n in (1, 2, 7, 100):
        values = [rng.expovariate(1.0) for _ in range(n)]
        for q in (0, 50, 95, 100):
            assert classroom.percentile(values, q) == pytest.approx(np.percentile(values, q), rel=1e-12)
    assert classroom.percentile([], 50) is None


def test_new_slider_values_stay_on_the_slider_grid():
    classroom._import_protos()
    proto = Slider(id="s", label="Threshold", min=-1.0, max=1.0, step=0.25, type=Slider.SLIDER)
    proto.default[:] = [0.5]
    widget = classroom.Widget("slider", proto, (0, 1), "")
    rng = random.Random(0)
    held = None
    seen = set()
    for _ in range(200):
        state = classroom.new_value(widget, held, classroom.Control("Threshold"), rng)
        (value,) = state.double_array_value.data
        previous = held.double_array_value.data[0] if held is not None else 0.5
        assert value != previous
        assert -1.0 <= value <= 1.0 and (value + 1.0) / 0.25 == round((value + 1.0) / 0.25)
        seen.add(value)
        held = state
    assert seen == {-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0}


def test_select_slider_moves_away_from_the_value_shown():
    classroom._import_protos()
    proto = Slider(id="q", label="Temperature", min=0, max=2, step=1, type=Slider.SELECT_SLIDER)
    proto.options[:] = ["0.5", "1", "2"]
    proto.default[:] = [0]
    rng = random.Random(0)
    control = classroom.Control("Temp")

    # A keyed widget arrives with set_value and its formatted value in raw_value.
    proto.set_value = True
    proto.raw_value[:] = ["1"]
    widget = classroom.Widget("slider", proto, (0,), "")
    for _ in range(20):
        state = classroom.new_value(widget, None, control, rng)
        assert isinstance(state, WidgetState)
        assert list(state.string_array_value.data) in (["0.5"], ["2"])

    # A later run may send it without set_value: the browser keeps the value it had.
    bare = Slider()
    bare.CopyFrom(proto)
    bare.set_value = False
    del bare.raw_value[:]
    widget = classroom.Widget("slider", bare, (0,), "", known=["2"])
    assert classroom.current_value(widget) == ["2"]
    for _ in range(20):
        assert list(classroom.new_value(widget, None, control, rng).string_array_value.data) in (["0.5"], ["1"])


def test_finds_the_process_listening_on_a_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert classroom.pid_listening_on(s.getsockname()[1]) == os.getpid()


def test_only_local_servers_are_accepted():
    for url in ("http://example.com:8501", "http://10.0.0.1:8501", "https://127.0.0.1:8501"):
        try:
            classroom.parse_args(["--url", url])
        except SystemExit:
            continue
        raise AssertionError(f"{url} was accepted")
    assert classroom.parse_args(["--url", "http://localhost:8501"]).url == "http://127.0.0.1:8501"


def test_traceback_lines_from_a_server_log():
    log = ("starting\nTraceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
           "    import pandas\nAttributeError: partially initialized module 'pandas' has no attribute 'Series'\n"
           "more log\n")
    assert classroom.traceback_lines(log) == [
        "AttributeError: partially initialized module 'pandas' has no attribute 'Series'"]


def test_app_imports_pandas_before_any_page_runs():
    """Regression (issue 11): plotly reads sys.modules["pandas"] without importing it, so a session
    building a figure while another session's thread ran the server's first `import pandas` met a
    half-initialised module (red exception boxes under load, reproduced with this load test on the
    earlier code: 8 of 8 runs). app.py must import pandas before it runs any page."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[1] / "app.py").read_text())
    imports_pandas = [node.lineno for node in tree.body if isinstance(node, ast.Import)
                      and any(alias.name == "pandas" for alias in node.names)]
    runs_page = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr == "run"]
    assert imports_pandas, "app.py does not import pandas at start-up"
    assert runs_page and imports_pandas[0] < min(runs_page)
