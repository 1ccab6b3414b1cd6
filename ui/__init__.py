"""Shared Streamlit helpers: the page registry, sidebar, live-training panel,
URL-state binding and formula blocks. Pages use these; core/ never does."""
