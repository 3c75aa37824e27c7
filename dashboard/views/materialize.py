"""Materialize: the toolbar (all, one asset, up/downstream, stale, checks, free selection),
the live progress of the run it starts in the background, and every asset's health."""

from __future__ import annotations

import streamlit as st

from dashboard import state, ui
from dashboard.models import catalog as catalog_model

st.title("Materialize")
st.caption(
    "Runs go on in the background: you can leave this page or reload it, the run keeps going"
    " and its progress shows here again."
)
cfg, defs = ui.load()
ui.materialize_toolbar(
    cfg, defs, "toolbar", asset=st.query_params.get(state.QP_ASSET), pick_asset=True
)
ui.run_progress(cfg, show_finished=True)

st.subheader("Assets")
with ui.guard("read the asset health"):
    assets = catalog_model.catalog(cfg, defs, catalog_model.CatalogFilter())
st.dataframe(
    ui.tinted(assets.frame, "Health", assets.health),
    hide_index=True,
    width="stretch",
    column_order=["Asset", "Group", "Health", "Why", "Last build"],
)
