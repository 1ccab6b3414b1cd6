"""One table per page: every control declared once, next to its config dataclass.

A ``Param`` says everything about one control: the config field it sets, its
label, its readable name in a shared link (``g_lr``, ``noise_dim``,
``label_smoothing``), the widget kind with its range or choices, its default
(read from the config dataclass when the field has one), its help text, and
the short codes older links used. From a ``ParamTable`` come the widgets and
the link (``ui.url_state.UrlState.widget``), the defaults
(``ParamTable.defaults``), presets (``UrlState.apply``) and the mapping of old
links (``ParamTable.upgrade``), so a control has one name in the code (its
field) and one in the link (``url``), and nothing restates them.

Plain Python, no Streamlit: core modules declare their tables here and tests
read them without a page.

    PARAMS = ParamTable(GANConfig, [
        Param("g_lr", "Generator learning rate", "select_slider", options=LRS, old=("glr",)),
        Param("noise_dim", "Noise dimensions", "slider", lo=1, hi=16, url="noise_dim"),
    ])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("slider", "select_slider", "selectbox", "radio", "checkbox", "toggle", "number", "text", "multiselect")
_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One control. ``url`` defaults to ``name``; ``default`` to the config field's default."""

    name: str  # the config field (or page-level setting) it sets
    label: str
    kind: str
    url: str = ""
    default: Any = _MISSING
    lo: float | None = None  # slider / number bounds; a multiselect's least number of choices
    hi: float | None = None
    step: float | None = None
    options: Sequence[Any] = ()  # select_slider / selectbox / radio / multiselect choices
    help: str | None = None
    format: str | None = None  # a slider's printf-style format ("%.2f")
    format_func: Callable[[Any], str] | None = None  # how a choice is shown
    old: tuple[str, ...] = ()  # codes older links used for this control
    widget_args: Mapping[str, Any] = field(default_factory=dict)  # anything else the widget takes

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown widget kind {self.kind!r}; one of {KINDS}")
        if not self.url:
            object.__setattr__(self, "url", self.name)
        if self.kind == "multiselect" and self.default is not _MISSING:
            object.__setattr__(self, "default", tuple(self.default))
        if self.kind in ("select_slider", "selectbox", "radio", "multiselect") and not self.options:
            raise ValueError(f"{self.name}: a {self.kind} needs options")
        if self.kind in ("slider",) and (self.lo is None or self.hi is None):
            raise ValueError(f"{self.name}: a slider needs lo and hi")

    def check(self, value: Any) -> None:
        """Raise ValueError when ``value`` is not one this control can show."""
        if self.kind in ("select_slider", "selectbox", "radio"):
            if value not in list(self.options):
                raise ValueError(f"{self.name}: {value!r} is not one of the options {list(self.options)!r}")
        elif self.kind in ("slider", "number"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{self.name}: {value!r} is not a number")
            if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
                raise ValueError(f"{self.name}: {value!r} is outside {self.lo}..{self.hi}")
        elif self.kind == "multiselect":
            if not isinstance(value, (tuple, list)) or any(v not in list(self.options) for v in value):
                raise ValueError(f"{self.name}: {value!r} is not a choice of {list(self.options)!r}")
            if self.lo is not None and len(value) < self.lo:
                raise ValueError(f"{self.name}: choose at least {self.lo:g}")
        elif self.kind in ("checkbox", "toggle") and not isinstance(value, bool):
            raise ValueError(f"{self.name}: {value!r} is not True or False")


class ParamTable:
    """A page's controls, in the order they are drawn.

    ``config`` (a dataclass type, optional) gives the defaults of the
    parameters named after its fields; a parameter with its own ``default``
    keeps it. Every default must be a value its control can show.
    """

    def __init__(self, config: type | None, params: Iterable[Param]) -> None:
        self.config = config
        fields = {f.name: f for f in dataclasses.fields(config)} if config is not None else {}
        resolved = []
        for p in params:
            if p.default is _MISSING:
                f = fields.get(p.name)
                if f is None:
                    raise ValueError(f"{p.name}: no default, and {getattr(config, '__name__', None)} has no such field")
                if f.default is not dataclasses.MISSING:
                    default = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    default = f.default_factory()
                else:
                    raise ValueError(f"{p.name}: the config field has no default; give the Param one")
                p = dataclasses.replace(p, default=tuple(default) if p.kind == "multiselect" else default)
            p.check(p.default)
            resolved.append(p)
        self.params: tuple[Param, ...] = tuple(resolved)
        self._by_name = {p.name: p for p in self.params}
        if len(self._by_name) != len(self.params):
            raise ValueError("two parameters share a name")
        urls = [p.url for p in self.params] + [code for p in self.params for code in p.old]
        if len(set(urls)) != len(urls):
            raise ValueError(f"two parameters share a link name: {sorted(u for u in urls if urls.count(u) > 1)}")

    def __getitem__(self, name: str) -> Param:
        return self._by_name[name]

    def __iter__(self):
        return iter(self.params)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def defaults(self) -> dict[str, Any]:
        """name -> default, for every control."""
        return {p.name: p.default for p in self.params}

    def config_defaults(self) -> dict[str, Any]:
        """Only the defaults of the config's fields (to build a config from widget values)."""
        fields = {f.name for f in dataclasses.fields(self.config)} if self.config is not None else set()
        return {p.name: p.default for p in self.params if p.name in fields}

    def preset(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every control's value for a preset: its defaults overridden by ``values`` (checked)."""
        unknown = set(values) - set(self._by_name)
        if unknown:
            raise ValueError(f"a preset sets unknown parameters: {sorted(unknown)}")
        out = self.defaults()
        for name, value in values.items():
            self._by_name[name].check(value)
            out[name] = value
        return out

    def upgrade(self, query: Mapping[str, str]) -> dict[str, str]:
        """A link's query parameters with old codes renamed to today's names (a new name wins)."""
        renamed = {code: p.url for p in self.params for code in p.old}
        out = {k: v for k, v in query.items() if k not in renamed}
        for code, url in renamed.items():
            if code in query and url not in out:
                out[url] = query[code]
        return out

    def link(self, values: Mapping[str, Any]) -> dict[str, str]:
        """The query parameters of a link for ``values`` (defaults left out, as the page writes them)."""
        return {self._by_name[n].url: encode(v) for n, v in values.items()
                if n in self._by_name and v != self._by_name[n].default}


def encode(value: Any) -> str:
    """How a value is written in a link: 1/0 for booleans, up to 10 significant digits for floats,
    a list of choices as ``a,b,c``."""
    if isinstance(value, (tuple, list)):
        return ",".join(encode(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format(value, ".10g")
    return str(value)
