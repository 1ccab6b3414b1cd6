"""Pure figure builders: plain arrays in, a Plotly figure out. No streamlit."""
