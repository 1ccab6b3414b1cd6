"""The sidebar every page shares: navigation, the training device, sharing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from core.device import describe

SHARE_NOTE = (
    "🔗 **Share these settings:** each page keeps its main controls in the "
    "address bar, so copying the link shares exactly what you see."
)


def device_line() -> str:
    info = describe()
    return f"⚙️ **Models train on:** {info.label}"


def render_sidebar(sections: Mapping[str | None, Sequence[st.Page]]) -> None:
    """Draw the navigation (grouped by section), the device and the share note.

    The navigation is drawn here rather than by ``st.navigation`` so that the
    sidebar never shows Streamlit's auto-discovered file list first (see
    ``client.showSidebarNavigation`` in ``.streamlit/config.toml``).
    """
    with st.sidebar:
        st.markdown("### 🧭 ML Explorables")
        for section, pages in sections.items():
            if section:
                st.caption(section.upper())
            for page in pages:
                st.page_link(page, width="stretch")
        st.divider()
        st.markdown(device_line())
        st.markdown(SHARE_NOTE)
