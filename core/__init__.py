"""The engine of ML Explorables: NumPy / PyTorch / scikit-learn, never streamlit.

Everything here can be used from a notebook, a test or a benchmark exactly as
the pages use it.
"""
