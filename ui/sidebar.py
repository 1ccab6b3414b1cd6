"""The sidebar every page shares: navigation, the training device, sharing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st


SHARE_NOTE = (
    "🔗 **Share these settings:** each page keeps its main controls in the "
    "address bar, so copying the link shares exactly what you see."
)


def device_line() -> str:
    import torch  # imports torch: drawn after the page (see render_sidebar)

    from core.device import describe, small_on_gpu

    info = describe()
    line = f"⚙️ **Models train on:** {info.label}"
    if info.kind != "cpu" and not small_on_gpu():  # core/device.py: small networks run faster on the CPU
        line += f" for the CNNs; the small networks on the {describe(torch.device('cpu')).label} (faster there)"
    return line


def render_sidebar(sections: Mapping[str | None, Sequence[st.Page]]) -> Callable[[], None]:
    """Draw the navigation (grouped by section) and the share note; return a function that draws
    the training device's line in its place (call it after the page: it imports torch, which on a
    fresh server would otherwise delay everything on screen by a second or more).

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
        slot = st.empty()
        st.markdown(SHARE_NOTE)

    def draw_device() -> None:
        slot.markdown(device_line())

    return draw_device
