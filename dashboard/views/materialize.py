"""Materialize: the toolbar (all, one asset, up/downstream, stale, checks, free selection) and
the live progress of the run it starts in the background."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import formatting, services, state, ui

st.title("Materialize")
st.caption(
    "Runs go on in the background: you can leave this page or reload it, the run keeps going"
    " and its progress shows here again."
)
cfg, defs = ui.load()
with ui.guard("read the asset statuses"):
    states = services.statuses(cfg, defs)

ui.materialize_toolbar(
    cfg, defs, "toolbar", asset=st.query_params.get(state.QP_ASSET), pick_asset=True
)
ui.run_progress(cfg, show_finished=True)

st.subheader("Assets")
rows = [
    {
        "Asset": name,
        "Group": defs.assets[name].group,
        "Status": services.STATUS_LABELS[states[name].status],
        "Why": states[name].reason,
        "Last materialized": formatting.format_ago(
            states[name].last_materialization.ended_at
            if states[name].last_materialization
            else None
        ),
    }
    for name in defs.graph.names
]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
