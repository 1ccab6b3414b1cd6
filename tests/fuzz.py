"""Widget fuzzing for AppTest: random valid values on every input, then rerun.

    from tests.fuzz import fuzz_widgets
    at = open_page("pages/roc.py")          # an AppTest already run once
    fuzz_widgets(at, rounds=12, seed=1)

Each round picks a random subset of the page's enabled widgets (sliders,
select sliders, select boxes, radios, checkboxes, toggles, number inputs,
multiselects), gives each a random value a user could choose, reruns the page
and fails with the round's values when the page shows an exception or an
``st.error``. Widgets that appear or vanish between rounds are picked up
afresh each round. Buttons and uploads are left alone: pages test those
themselves.

Convention this enforces: a combination of settings that a user can reach
with the widgets must never raise, and a problem it causes is explained with
``st.warning`` or ``st.info`` (``st.error`` is for real failures).
"""

from __future__ import annotations

import math
import random
from typing import Any

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

_INT = 0  # Slider / NumberInput DataType.INT


def _force_state(widget: Any, ws: WidgetState) -> None:
    """Make ``widget`` report ``ws`` on the next run, as the browser would send it.

    Select boxes, radios, select sliders and multiselects send their
    *formatted* option strings; AppTest only knows those strings (not the
    Python option objects), so the state is set directly.
    """
    cls = type(widget)
    widget.__class__ = type(f"Fuzzed{cls.__name__}", (cls,), {"_widget_state": property(lambda self: ws)})


def _slider_value(rng: random.Random, proto: Any) -> float | int:
    lo, hi, step = proto.min, proto.max, proto.step or 1
    n = max(0, math.floor((hi - lo) / step + 1e-9))
    value = lo + rng.randint(0, n) * step
    value = min(hi, value)
    return int(round(value)) if proto.data_type == _INT else value


def _fuzz_slider(rng: random.Random, w: Any) -> Any:
    proto = w.proto
    if proto.data_type not in (0, 1):  # dates and times: leave alone
        return None
    if len(proto.default) == 2:  # a range slider
        a, b = sorted((_slider_value(rng, proto), _slider_value(rng, proto)))
        w.set_value([a, b])
        return (a, b)
    v = _slider_value(rng, proto)
    w.set_value(v)
    return v


def _fuzz_number(rng: random.Random, w: Any) -> Any:
    proto = w.proto
    step = proto.step or 1
    lo = proto.min if proto.has_min else None
    hi = proto.max if proto.has_max else None
    if lo is not None and hi is not None:
        n = max(0, math.floor((hi - lo) / step + 1e-9))
        v = lo + rng.randint(0, min(n, 10_000)) * step
    else:
        centre = w.value if w.value is not None else (lo if lo is not None else (hi if hi is not None else 0))
        v = centre + rng.randint(-20, 20) * step
        if lo is not None:
            v = max(lo, v)
        if hi is not None:
            v = min(hi, v)
    v = int(round(v)) if proto.data_type == _INT else float(v)
    w.set_value(v)
    return v


def _fuzz_choice(rng: random.Random, w: Any) -> Any:
    options = list(w.options)
    if not options:
        return None
    choice = rng.choice(options)
    ws = WidgetState(id=w.id)
    ws.string_value = choice
    _force_state(w, ws)
    return choice


def _fuzz_select_slider(rng: random.Random, w: Any) -> Any:
    options = list(w.options)
    if not options:
        return None
    ws = WidgetState(id=w.id)
    if len(w.proto.default) == 2:
        i, j = sorted((rng.randrange(len(options)), rng.randrange(len(options))))
        chosen = [options[i], options[j]]
    else:
        chosen = [rng.choice(options)]
    ws.string_array_value.data[:] = chosen
    _force_state(w, ws)
    return chosen


def _fuzz_multiselect(rng: random.Random, w: Any) -> Any:
    options = list(w.options)
    if not options:
        return None
    cap = w.proto.max_selections or len(options)
    k = rng.randint(1, min(cap, len(options)))
    chosen = rng.sample(options, k)
    ws = WidgetState(id=w.id)
    ws.string_array_value.data[:] = chosen
    _force_state(w, ws)
    return chosen


def _fuzz_bool(rng: random.Random, w: Any) -> Any:
    v = rng.random() < 0.5
    w.set_value(v)
    return v


_KINDS = (
    ("slider", _fuzz_slider),
    ("select_slider", _fuzz_select_slider),
    ("selectbox", _fuzz_choice),
    ("radio", _fuzz_choice),
    ("multiselect", _fuzz_multiselect),
    ("checkbox", _fuzz_bool),
    ("toggle", _fuzz_bool),
    ("number_input", _fuzz_number),
)


def fuzzable_widgets(at: AppTest, skip_keys: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """The enabled widgets the fuzzer can set, as (kind, widget) pairs."""
    found = []
    for kind, _ in _KINDS:
        for w in getattr(at, kind):
            if getattr(w.proto, "disabled", False):
                continue
            if w.key is not None and w.key in skip_keys:
                continue
            found.append((kind, w))
    return found


def problems(at: AppTest) -> list[str]:
    """Exceptions and error messages currently on the page."""
    found = [f"exception: {e.value}" for e in at.exception]
    found += [f"st.error: {e.value}" for e in at.error]
    return found


def fuzz_widgets(
    at: AppTest,
    *,
    rounds: int = 10,
    seed: int = 0,
    skip_keys: tuple[str, ...] = (),
    fraction: float = 0.5,
) -> int:
    """Fuzz ``at`` (already run once) for ``rounds`` rounds; return widgets set.

    ``skip_keys``: widget keys to leave alone (say, a size that only makes the
    test slow). ``fraction``: the chance that each widget is changed in a round
    (at least one always is).
    """
    fuzzers = dict(_KINDS)
    rng = random.Random(seed)
    assert not problems(at), f"page broken before fuzzing: {problems(at)}"
    total = 0
    for round_no in range(rounds):
        widgets = fuzzable_widgets(at, skip_keys)
        assert widgets, "nothing to fuzz: the page has no fuzzable widgets"
        chosen = [pair for pair in widgets if rng.random() < fraction] or [rng.choice(widgets)]
        applied = []
        for kind, w in chosen:
            value = fuzzers[kind](rng, w)
            if value is not None:
                applied.append(f"{kind} {w.label!r} (key={w.key}) = {value!r}")
        total += len(applied)
        at.run()
        found = problems(at)
        assert not found, (
            f"round {round_no} (seed {seed}) broke the page.\nSet:\n  "
            + "\n  ".join(applied)
            + "\nFound:\n  "
            + "\n  ".join(found)
        )
    return total
