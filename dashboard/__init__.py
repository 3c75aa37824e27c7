"""Assetboard's Streamlit dashboard: thin pages over a plain-Python service layer."""
