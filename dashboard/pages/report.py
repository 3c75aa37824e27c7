"""Report: placeholder until the report page lands (its engineer replaces this file)."""

import streamlit as st

st.title("Report")
st.info("The report page is being built. Meanwhile: `python -m pipeline report --help`.")
