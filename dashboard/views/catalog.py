"""Asset catalog: every asset in one table with its group, kind, health, last build, rows and
checks; search by name, filter by the selection syntax, group, kind and health. The filters
live in the URL (?search=, ?select=, ?group=, ?kind=, ?health=), so a filtered catalog
can be shared."""

from __future__ import annotations

import streamlit as st

from dashboard import state, ui
from dashboard.models import catalog as model
from dashboard.models import words
from dashboard.safe import escape_markdown
from pipeline.looks import look
from pipeline.states import AssetHealth

st.title("Asset catalog")
cfg, defs = ui.load()
ui.run_progress(cfg, show_finished=True)

kinds = ["table", "view"]
health_labels = {look(h).label: h for h in AssetHealth}
top = st.columns([2, 3], vertical_alignment="bottom")
search = top[0].text_input(
    "Search", key=state.CATALOG_SEARCH, placeholder="part of a name", bind="query-params"
)
selection = top[1].text_input(
    "Selection",
    key=state.CATALOG_SELECTION,
    bind="query-params",
    placeholder="e.g. +joined_data, group:ingestion, kind:view",
    help="The pipeline's selection syntax: `name`, `+name` (with upstream), `name+` (with"
    " downstream), `group:X`, `tag:K=V`, `kind:view`, combined with `,`, `and`, `not`.",
)
bottom = st.columns(3)
groups = bottom[0].multiselect(
    "Groups", sorted({a.group for a in defs.assets.values()}), key=state.CATALOG_GROUPS,
    placeholder="All groups", bind="query-params",
)  # fmt: skip
chosen_kinds = bottom[1].multiselect(
    "Kinds", kinds, key=state.CATALOG_KINDS, placeholder="Tables and views", bind="query-params"
)
chosen_health = bottom[2].multiselect(
    "Health",
    list(health_labels),
    key=state.CATALOG_HEALTH,
    placeholder="Any health",
    bind="query-params",
)
usable, problem = model.usable_selection(defs, selection or "")
if problem is not None:
    st.warning(
        f"**{words.selection_problem(problem)}:** {escape_markdown(str(problem))}"
        " The table ignores it.",
        icon=":material/info:",
    )
wanted = model.CatalogFilter(
    search=search or "",
    selection=usable,
    groups=tuple(groups),
    kinds=tuple(chosen_kinds),
    health=tuple(health_labels[label] for label in chosen_health),
)
with ui.guard("read the asset catalog"):
    found = model.catalog(cfg, defs, wanted)

shown = len(found.frame)
st.caption(
    f"{shown:,} of {found.total:,} assets"
    + (" match the filters." if shown != found.total else ".")
    + " Click an asset name to open it in the graph."
)
if found.frame.empty:
    ui.empty_state("No asset matches these filters: clear one of them.")
    st.stop()
frame = found.frame.assign(
    Asset=[f"./graph?{state.QP_ASSET}={name}" for name in found.frame["Asset"]]
)
st.dataframe(
    ui.tinted(frame, "Health", found.health),
    hide_index=True,
    width="stretch",
    height=ui.table_height(len(frame), limit=25),
    column_config={
        "Asset": st.column_config.LinkColumn(
            "Asset", display_text=rf"\./graph\?{state.QP_ASSET}=(.*)", help="Open in the graph"
        ),
        "Why": st.column_config.TextColumn("Why", width="large"),
    },
)
