"""``plotly.graph_objects`` for the figure builders, without per-property validation.

Plotly checks every property of every object as it is built (about two thirds
of the time a live view spends building its charts: 17 ms for the GAN page's
seven figures, 5.5 ms without, on this machine). The builders here are fixed
code, not user input, so the app builds its figures with validation off:
``Figure``, ``Scatter``, ``Bar`` and ``Heatmap`` below pass ``_validate=False``
(a keyword of Plotly's own constructors). Everything else is Plotly's.

The test suite sets ``EXPLORABLES_VALIDATE_FIGURES=1`` (tests/conftest.py), so
every figure a test builds is validated as before, and
``tests/test_core_plots.py`` checks that each builder gives the same JSON
either way.
"""

from __future__ import annotations

import os
from typing import Any

import plotly.graph_objects as _go


def validating() -> bool:
    """True when figures are validated (the tests), read at every call."""
    return os.environ.get("EXPLORABLES_VALIDATE_FIGURES") == "1"


_EMPTY_DROPPED = ("shapes", "annotations", "images")  # validation drops these when empty


def _colorscale(name: str) -> list:
    """A named colour scale as the list validation would have made of it ("Viridis", "RdBu_r"...)."""
    from _plotly_utils.basevalidators import ColorscaleValidator

    return ColorscaleValidator("colorscale", "heatmap").validate_coerce(name)


def _clean(value: Any, *, layout: bool = False) -> Any:
    """What validation would have normalised, done on plain dicts: named colour scales become lists
    (the live view's renderer draws lists only) and empty shape/annotation lists are dropped."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "colorscale" and isinstance(item, str):
                out[key] = _colorscale(item)
            elif layout and key in _EMPTY_DROPPED and isinstance(item, (list, tuple)) and not item:
                continue
            else:
                out[key] = _clean(item) if isinstance(item, dict) else item
        return out
    return value


def _fast(base: type) -> type:
    is_figure = issubclass(base, _go.Figure)

    class Fast(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            validate = kwargs.setdefault("_validate", validating())
            if not validate:
                if is_figure:
                    if isinstance(kwargs.get("layout"), dict):
                        kwargs["layout"] = _clean(kwargs["layout"], layout=True)
                    if kwargs.get("data") is not None:
                        kwargs["data"] = [_clean(t) if isinstance(t, dict) else t for t in kwargs["data"]]
                else:
                    kwargs = _clean(kwargs)
            super().__init__(*args, **kwargs)

    Fast.__name__ = Fast.__qualname__ = base.__name__
    Fast.__module__ = __name__
    return Fast


def _deep_merge(base: dict, update: dict) -> dict:
    """Plotly's ``update`` on plain dicts: nested dicts merge, anything else (lists too) replaces."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


class Figure(_fast(_go.Figure)):  # type: ignore[misc, valid-type]
    def update_layout(self, dict1: dict | None = None, overwrite: bool = False, **kwargs: Any) -> Figure:
        """``update_layout`` as one dict merge (Plotly walks and checks every key: 10 ms a call here)."""
        update = {**(dict1 or {}), **kwargs}
        if self._validate or overwrite or any(key not in self.layout._valid_props for key in update):
            return super().update_layout(dict1, overwrite, **kwargs)  # "xaxis_title=" paths: Plotly's way
        # Merged straight into the layout's own data (its child objects read through it); copying the whole
        # layout out and back, template included, cost more than Plotly's way.
        props = self.layout._props
        if props is None:
            return super().update_layout(dict1, overwrite, **kwargs)
        _deep_merge(props, _clean(update, layout=True))
        for key in _EMPTY_DROPPED:
            if props.get(key) == []:
                del props[key]
        return self


Figure.__name__ = Figure.__qualname__ = "Figure"
Scatter = _fast(_go.Scatter)
Bar = _fast(_go.Bar)
Heatmap = _fast(_go.Heatmap)


def __getattr__(name: str) -> Any:
    return getattr(_go, name)
