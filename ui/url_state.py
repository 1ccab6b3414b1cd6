"""Bind a page's main widgets to the URL, so a teacher can share a link.

    url = UrlState("roc")
    sep = url.slider("Class separation", "sep", 0.0, 4.0, 1.5, step=0.1)
    model = url.selectbox("Model", "model", ["logistic", "forest"], "logistic")

Each bound widget

- starts, on its first render in a session, from the link's value when the
  link has one and it is valid; else from the value it had when the learner
  last left the page; else from its default;
- writes its value back to the link on every change (defaults are left out,
  which keeps links short);
- falls back to the default with a visible notice when the link's value is
  invalid (out of range, not a number, not an option).

Query parameters belong to the page shown: Streamlit clears them when the
learner switches page, so parameter names only need to be unique per page.
Widget keys in ``st.session_state`` are namespaced by page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import streamlit as st

from core.params import Param, ParamTable
from core.params import encode as _encode  # one way to write a value in a link

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class InvalidValue(ValueError):
    """A URL value that cannot be used; the message says why."""




def _parse_number(raw: str, kind: type, lo: float | None, hi: float | None) -> Any:
    try:
        value = kind(raw) if kind is int else float(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise InvalidValue(f"it is not {what}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue("it is not a finite number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise InvalidValue(f"it must lie between {_encode(lo)} and {_encode(hi)}")
    return value


def _same_number(raw: str, option: Any) -> bool:
    if isinstance(option, bool) or not isinstance(option, (int, float)):
        return False
    try:
        return float(raw) == option
    except ValueError:
        return False


def _parse_option(raw: str, options: Sequence[T]) -> T:
    for option in options:
        if _encode(option) == raw:
            return option
    for option in options:  # "8.0" for 8, "1e-3" for 0.001
        if _same_number(raw, option):
            return option
    shown = ", ".join(_encode(o) for o in options[:8]) + (", ..." if len(options) > 8 else "")
    raise InvalidValue(f"it must be one of: {shown}")


def _parse_bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise InvalidValue("it must be 1 or 0")


class UrlState:
    """URL-bound widgets for one page; ``page`` namespaces the session keys."""

    _run: int | None = None  # this run's number, once resend_remounted() was called

    def __init__(self, page: str) -> None:
        self.page = page

    # -- the mechanism -----------------------------------------------------
    def key(self, param: str) -> str:
        """The ``st.session_state`` key of the widget bound to ``param``."""
        return f"{self.page}:{param}"

    def _shadow(self, param: str) -> str:
        return f"_url_last:{self.page}:{param}"

    def _bind(self, label: str, param: str, default: Any, parse: Callable[[str], Any],
              widget: Callable[..., Any], **kwargs: Any) -> Any:
        key = self.key(param)
        if self._run is not None:  # only for a page that called resend_remounted()
            self.resend_if_remounted(key)
        if key not in st.session_state:
            start = st.session_state.get(self._shadow(param), default)
            raw = st.query_params.get(param)
            if raw is not None:
                try:
                    start = parse(raw)
                except InvalidValue as why:
                    start = default
                    st.warning(
                        f"The link sets **{label}** to `{raw}`, which cannot be used: {why}. "
                        f"Using the default, {_encode(default)}.",
                        icon="🔗",
                    )
            st.session_state[key] = start
        value = widget(label, key=key, **kwargs)
        st.session_state[self._shadow(param)] = value
        if value == default:
            if param in st.query_params:
                del st.query_params[param]
        elif st.query_params.get(param) != _encode(value):
            st.query_params[param] = _encode(value)
        return value

    # -- the widgets -------------------------------------------------------
    def slider(self, label: str, param: str, min_value: float, max_value: float, value: float,
               *, step: float | None = None, **kwargs: Any) -> Any:
        """A number slider; ints stay ints when the bounds and default are ints."""
        kind = int if all(isinstance(v, int) for v in (min_value, max_value, value)) else float
        return self._bind(
            label, param, value, lambda raw: _parse_number(raw, kind, min_value, max_value),
            st.slider, min_value=min_value, max_value=max_value, step=step, **kwargs,
        )

    def number_input(self, label: str, param: str, min_value: float | None, max_value: float | None,
                     value: float, *, step: float | None = None, **kwargs: Any) -> Any:
        kind = int if isinstance(value, int) and not isinstance(value, bool) else float
        return self._bind(
            label, param, value, lambda raw: _parse_number(raw, kind, min_value, max_value),
            st.number_input, min_value=min_value, max_value=max_value, step=step, **kwargs,
        )

    def select_slider(self, label: str, param: str, options: Sequence[T], value: T, **kwargs: Any) -> T:
        options = list(options)
        return self._bind(label, param, value, lambda raw: _parse_option(raw, options),
                          st.select_slider, options=options, **kwargs)

    def selectbox(self, label: str, param: str, options: Sequence[T], value: T, **kwargs: Any) -> T:
        options = list(options)
        return self._bind(label, param, value, lambda raw: _parse_option(raw, options),
                          st.selectbox, options=options, **kwargs)

    def radio(self, label: str, param: str, options: Sequence[T], value: T, **kwargs: Any) -> T:
        options = list(options)
        return self._bind(label, param, value, lambda raw: _parse_option(raw, options),
                          st.radio, options=options, **kwargs)

    def text_input(self, label: str, param: str, value: str, *, max_chars: int = 200, **kwargs: Any) -> str:
        """A text box; links longer than ``max_chars`` fall back to the default."""

        def parse(raw: str) -> str:
            if len(raw) > max_chars:
                raise InvalidValue(f"it is longer than {max_chars} characters")
            return raw

        return self._bind(label, param, value, parse, st.text_input, max_chars=max_chars, **kwargs)

    def multiselect(self, label: str, param: str, options: Sequence[T], value: Sequence[T], *,
                    min_items: int = 0, **kwargs: Any) -> tuple[T, ...]:
        """Several choices, as a tuple in the options' order; written to the link as ``a,b,c``."""
        options = list(options)

        def parse(raw: str) -> tuple:
            parts = [part.strip() for part in raw.split(",") if part.strip()]
            chosen = [_parse_option(part, options) for part in parts]
            if len(chosen) < min_items:
                raise InvalidValue(f"it must name at least {min_items} of: {', '.join(_encode(o) for o in options)}")
            return tuple(o for o in options if o in chosen)

        def widget(label: str, key: str, **kw: Any) -> tuple:
            chosen = st.multiselect(label, options=options, key=key, **kw)
            return tuple(o for o in options if o in chosen)

        return self._bind(label, param, tuple(value), parse, widget, **kwargs)

    def checkbox(self, label: str, param: str, value: bool = False, **kwargs: Any) -> bool:
        return self._bind(label, param, value, _parse_bool, st.checkbox, **kwargs)

    def toggle(self, label: str, param: str, value: bool = False, **kwargs: Any) -> bool:
        return self._bind(label, param, value, _parse_bool, st.toggle, **kwargs)

    # -- from a page's parameter table (core.params) -------------------------
    def widget(self, p: Param, **overrides: Any) -> Any:
        """Draw control ``p`` bound to the link under ``p.url``; ``overrides`` go to the widget
        (``disabled``, ``label_visibility``, a ``help`` computed on the page...)."""
        args: dict[str, Any] = {"help": p.help, **p.widget_args}
        if p.format_func is not None and p.kind in ("select_slider", "selectbox", "radio", "multiselect"):
            args["format_func"] = p.format_func
        args.update(overrides)
        if p.kind == "slider":
            if p.format is not None:
                args.setdefault("format", p.format)
            return self.slider(p.label, p.url, p.lo, p.hi, p.default, step=p.step, **args)
        if p.kind == "number":
            if p.format is not None:
                args.setdefault("format", p.format)
            return self.number_input(p.label, p.url, p.lo, p.hi, p.default, step=p.step, **args)
        if p.kind in ("select_slider", "selectbox", "radio"):
            return getattr(self, p.kind)(p.label, p.url, p.options, p.default, **args)
        if p.kind == "multiselect":
            return self.multiselect(p.label, p.url, p.options, p.default, min_items=int(p.lo or 0), **args)
        if p.kind in ("checkbox", "toggle"):
            return getattr(self, p.kind)(p.label, p.url, p.default, **args)
        return self.text_input(p.label, p.url, p.default, **args)

    def widgets(self, table: ParamTable, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Draw several controls of ``table`` in order (all by default); name -> value."""
        return {name: self.widget(table[name]) for name in (names if names is not None else table.names())}

    def param_key(self, p: Param) -> str:
        """The session key of control ``p`` (for a test or a callback)."""
        return self.key(p.url)

    def apply(self, table: ParamTable, values: Mapping[str, Any]) -> None:
        """Set every control of ``table`` to a preset: ``values`` over the defaults.

        Call it before the widgets are drawn (a preset box's ``on_change`` or a
        button's ``on_click``); the link follows when the widgets draw.
        """
        for name, value in table.preset(values).items():
            p = table[name]
            st.session_state[self.key(p.url)] = value
            st.session_state[self._shadow(p.url)] = value

    def link_names(self, table: ParamTable) -> set[str]:
        """The controls of ``table`` (their names) that the current link sets (after ``upgrade_link``)."""
        return {p.name for p in table if p.url in st.query_params}

    def start_from_preset(self, table: ParamTable, preset: Param,
                          values_of: Callable[[Any], Mapping[str, Any]]) -> None:
        """A link naming a preset: on its first visit, every control of ``table`` the link does
        not set starts from the preset's value (``values_of(name)``); the link's own values win.

        Call after ``upgrade_link`` and before any widget is drawn. A session that
        already drew the preset control is left alone (the learner has moved on).
        """
        raw = st.query_params.get(preset.url)
        if raw is None or self.key(preset.url) in st.session_state:
            return
        try:
            name = _parse_option(raw, list(preset.options))
        except InvalidValue:
            return  # the preset control says so when it draws
        for p_name, value in table.preset(values_of(name)).items():
            p = table[p_name]
            if p is not preset and p.url not in st.query_params and self.key(p.url) not in st.session_state:
                st.session_state[self._shadow(p.url)] = value

    def upgrade_link(self, table: ParamTable) -> None:
        """Rename the old codes of a link from before the table (``Param.old``) to today's names.

        Call once at the top of the page, before any widget is drawn.
        """
        current = {k: st.query_params.get(k) for k in st.query_params}
        upgraded = table.upgrade(current)
        if upgraded != current:
            for k in current:
                if k not in upgraded:
                    del st.query_params[k]
            for k, v in upgraded.items():
                if current.get(k) != v:
                    st.query_params[k] = v

    # -- widgets that come back show their kept value (opt-in) -----------------
    def resend_remounted(self) -> UrlState:
        """Send a widget's kept value along with it when the widget comes back after a run that
        did not draw it; returns ``self``: ``url = UrlState("roc").resend_remounted()``.

        A page that draws different widgets for different choices, or stops
        early (``st.stop()``, after which Streamlit keeps the state of the
        widgets it skipped), leaves a missing widget's value in
        ``st.session_state`` while the browser forgets it: drawn again without
        a value, the widget shows its own default (a slider's minimum) while
        the page computes with the kept value. Call this once at the top of
        every full run of the page, before any widget; from then on this
        object's widgets, and the page's own widgets whose keys go through
        ``resend_if_remounted``, come back showing the value the page uses.
        Only widgets missing from the last run that reached its end (``run_complete``)
        are re-sent: re-sending every run could pull a slider back under a learner's hand.
        """
        counter = f"_url_run:{self.page}"
        self._run = st.session_state.get(counter, 0) + 1
        st.session_state[counter] = self._run
        st.session_state.setdefault(f"_url_seen:{self.page}", {})
        return self

    def run_complete(self) -> None:
        """Call at the end of every full run of a page that called ``resend_remounted`` (and just before
        its ``st.stop()``): the widgets this run drew are the ones the browser now shows.

        A run cut short (the next keypress on a slider interrupts it) proves nothing about the widgets
        it did not reach: they are still on screen, and re-sending one would pull it back under the
        learner's hand (ten arrow-key presses on a busy server ended at 1.10 or 1.45 instead of 1.50)."""
        st.session_state[f"_url_done:{self.page}"] = self._run

    def resend_if_remounted(self, key: str) -> None:
        """Before drawing the widget with session key ``key``: if the run before did not draw it,
        assign its kept value again so that Streamlit sends the value with the widget.
        (URL-bound widgets do this themselves after ``resend_remounted``.)"""
        if self._run is None:
            raise RuntimeError("call resend_remounted() once at the top of the run first")
        seen = st.session_state.setdefault(f"_url_seen:{self.page}", {})
        done = st.session_state.get(f"_url_done:{self.page}", 0)  # the last run that reached its end
        if key in st.session_state and seen.get(key, 0) < done:  # that run did not draw it: the browser forgot it
            st.session_state[key] = st.session_state[key]
        seen[key] = self._run
