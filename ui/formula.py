"""A formula with a short explanation under it."""

from __future__ import annotations

import streamlit as st


def formula(latex: str, explanation: str, *, title: str | None = None) -> None:
    """Show ``latex`` as a display formula, then ``explanation`` (Markdown).

    ``title`` (optional) goes above, in bold. Keep the explanation to a few
    sentences: say what each symbol is and why the formula matters here.
    """
    if title:
        st.markdown(f"**{title}**")
    st.latex(latex)
    st.caption(explanation)
