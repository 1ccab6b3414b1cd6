"""Make sure every page runs inside app.py, even on a fresh server.

Because this project keeps its pages in a folder named ``pages/``, Streamlit
1.67 starts each new server in its old multipage mode: until app.py has
called ``st.navigation`` once, a request for ``/roc`` runs ``pages/roc.py``
on its own, without app.py's page config, sidebar and thread setting. The
first learner to open a shared link to a sub-page would see a bare page
(``streamlit.commands.navigation`` clears the flag; ``ScriptRunner`` reads it).

``run_inside_app()`` is the first call of every page: in that old mode it
switches it off and reruns, and Streamlit then runs app.py, which opens the
same page with the same query parameters. Inside app.py it does nothing.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def run_inside_app() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
