"""ML Explorables: the entry point. Run with ``streamlit run app.py``.

It sets the page config once, starts the server's background warm-up once
(``ui.warm``: torch's thread count, the worker process, every page's imports),
declares every page (from ``ui.registry``) with ``st.navigation``, draws the
shared sidebar and runs the chosen page.
"""

# Imported once, here, before any session runs: plotly reads sys.modules["pandas"]
# without importing it, so while a first `import pandas` runs in one session's
# thread, another session building a figure saw a half-initialised module
# ("partially initialized module 'pandas' has no attribute 'Series'").
import pandas  # noqa: F401
import streamlit as st

from ui import admission, warm
from ui.registry import HOME, topics_by_section
from ui.sidebar import render_sidebar

st.set_page_config(
    page_title="ML Explorables",
    page_icon="🧭",
    layout="wide",
    initial_sidebar_state="auto",  # open on a wide screen, closed on a phone, where it would cover the page
)


@st.cache_resource(show_spinner=False)
def _warm_server() -> bool:
    """Once per server: torch's thread count, the worker process (core.pool) and every page's imports,
    in the background (ui.warm)."""
    warm.start()
    return True


_warm_server()


def _page(info):
    return st.Page(info.path, title=info.title, icon=info.icon, url_path=info.url_path, default=info is HOME)


sections = {None: [_page(HOME)]}
sections.update({name: [_page(p) for p in pages] for name, pages in topics_by_section().items()})

current = st.navigation([p for pages in sections.values() for p in pages], position="hidden")
draw_device = render_sidebar(sections)
# Streamlit leaves 6rem above a page's title; a page's main control and its chart must share the first
# screen at 1280 x 800 (the page rules), so the title starts just under the toolbar instead.
st.html("<style>[data-testid='stMainBlockContainer']{padding-top:3rem}</style>")
# On a fresh server the first visitors wait while torch and the page's modules load: show the page's
# title and say so at once, instead of a blank page (removed when the page has drawn).
# The placeholder is there on every run, drawn or not: a page's elements keep their place in the
# page from the first run to the next, so the browser does not rebuild them (which dropped the
# keyboard focus of the slider a learner was moving on a fresh server's first visit).
loading = st.empty()
if not warm.ready():
    loading.markdown(f"# {current.icon} {current.title}\n\n⏳ *Loading the models and charts: the first visit "
                     "after the server starts takes a few seconds.*")
link = current.url_path or HOME.url_path  # the default page's url_path is ""
# A page's first run in this session (an open) takes its turn with the other opens; its reruns never wait
# (ui.admission: a class opening 30 pages at once otherwise slowed every rerun of the pages already open)
opened_key = f"app:opened:{link}"
first_run = opened_key not in st.session_state
st.session_state[opened_key] = True
# the server's self-visit (ui.warm) gives way while visitors' pages run, and skips the pages they opened
warm.page_began(link)
try:
    with admission.turn(first_run):
        current.run()
finally:
    warm.page_ended()
    loading.empty()
    draw_device()
