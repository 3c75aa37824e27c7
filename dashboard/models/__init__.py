"""One view-model module per page: plain Python over `pipeline` (no Streamlit), unit-tested.

A page reads its widgets, calls its model's one function, and renders what comes back.
"""
