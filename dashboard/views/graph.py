"""Asset graph: one box per asset coloured by health, dependencies as curves left to right, and
the clicked asset's details beside it. Above a few hundred assets it opens on one box per group
(dashboard/graph_views.py has the rules). The selection (?asset=), the opened group (?open=),
the filter (?search=, ?select=) and the other controls live in the URL, so a view can be
shared."""

from __future__ import annotations

import streamlit as st

from dashboard import asset_panel, graph_views, state, ui
from dashboard.components import asset_graph
from dashboard.models import graph as graph_model
from dashboard.models import words
from dashboard.safe import escape_markdown
from pipeline.errors import SelectionError

# Graph and details side by side while each column has room; in a narrower main area (an
# 800 px window with the sidebar open) the details go under the graph. Streamlit itself stacks
# columns only in a window below 640 px.
_COLUMNS_CSS = f"""<style>
.st-key-{state.GRAPH_COLUMNS} > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"]
  > [data-testid="stColumn"] {{ min-width: min(100%, 22rem); }}
</style>"""


def _clicked(kind: str, name: str) -> None:
    """A click on a box, before the rerun: an asset becomes the selection, a group opens."""
    if kind == "group":
        _open_group(name)
    else:
        if st.query_params.get(state.QP_ASSET) != name:
            st.query_params.pop(state.QP_PARTITION, None)  # a partition of the asset before
        st.query_params[state.QP_ASSET] = name


def _open_group(name: str) -> None:
    st.query_params.pop(state.QP_ASSET, None)
    st.query_params.pop(state.QP_PARTITION, None)
    st.query_params[state.QP_OPEN] = name


def _show_groups() -> None:
    st.query_params.pop(state.QP_ASSET, None)
    st.query_params.pop(state.QP_PARTITION, None)
    st.query_params.pop(state.QP_OPEN, None)


st.title("Asset graph")
cfg, defs = ui.load()
with ui.guard("read the asset statuses"):
    model = graph_model.graph_model(cfg, defs)

names = [node.name for node in model.nodes]
selected = st.query_params.get(state.QP_ASSET)
if selected is not None and selected not in defs.assets:
    st.warning(  # `selected` comes from the URL: anyone can craft it
        f"There is no asset named **{escape_markdown(selected, one_line=True)}** in"
        f" {escape_markdown(cfg.defs)}; pick one in the graph.",
        icon=":material/help:",
    )
    selected = None
opened = st.query_params.get(state.QP_OPEN)
if opened is not None and opened not in model.groups:
    st.warning(
        f"There is no group named **{escape_markdown(opened, one_line=True)}**; these are"
        " the groups.",
        icon=":material/help:",
    )
    opened = None

top = st.columns([2, 3], vertical_alignment="bottom")
search = top[0].text_input(
    "Search", key=state.GRAPH_SEARCH, placeholder="part of a name", bind="query-params"
)
selection = top[1].text_input(
    "Selection",
    key=state.GRAPH_SELECTION,
    bind="query-params",
    placeholder="e.g. +joined_data+ or group:ingestion",
    help="The pipeline's selection syntax: `name`, `+name` (with upstream), `name+` (with"
    " downstream), `group:X`, `tag:K=V`, `kind:view`, combined with `,`, `and`, `not`.",
)
try:
    within = graph_views.matching(defs, selection or "", search or "")
except SelectionError as exc:
    st.warning(
        f"**{words.selection_problem(exc)}:** {escape_markdown(exc)} The graph ignores it.",
        icon=":material/info:",
    )
    within = graph_views.matching(defs, "", search or "")

shown = len(names) if within is None else len(within)
st.html(_COLUMNS_CSS)
with st.container(key=state.GRAPH_COLUMNS):
    graph_column, details_column = st.columns([3, 2], gap="large")
with graph_column:
    full, depth = False, graph_views.DEFAULT_DEPTH
    if shown > graph_views.GROUP_THRESHOLD:
        controls = st.columns([3, 2], vertical_alignment="center")
        full = controls[0].toggle(
            f"Show the full graph ({shown:,} assets)",
            key=state.GRAPH_FULL,
            bind="query-params",
            help="Draw every asset at once instead of groups or one asset's neighbourhood."
            " Heavy above a few hundred assets: BENCHMARKS.md has the times.",
        )
        if selected is not None and not full:
            depth = int(
                controls[1].number_input(
                    "Steps up and down",
                    min_value=1,
                    max_value=10,
                    value=graph_views.DEFAULT_DEPTH,
                    key=state.GRAPH_DEPTH,
                    bind="query-params",
                )
            )
    picture = graph_views.picture(
        model, within=within, selected=selected, opened=opened, depth=depth, full=full
    )
    if picture.kind in ("around", "group"):
        back = st.columns([1, 2])
        back[0].button(
            "All groups",
            key=state.BTN_GRAPH_GROUPS,
            icon=":material/arrow_back:",
            on_click=_show_groups,
            width="stretch",
        )
        if picture.kind == "around" and selected is not None:
            home = defs.assets[selected].group
            back[1].button(
                f"Open group {escape_markdown(home, one_line=True)}",
                key=state.BTN_GRAPH_OPEN_GROUP,
                icon=":material/account_tree:",
                on_click=_open_group,
                args=(home,),
            )
    if not picture.shapes:
        ui.empty_state("No asset matches the search and selection: change or clear them.")
    else:
        st.caption(escape_markdown(picture.caption))
        asset_graph.asset_graph(
            asset_graph.drawing(picture, selected),
            key=state.GRAPH_COMPONENT,
            on_select=_clicked,
        )
    picked = st.selectbox(
        "Asset",
        names,
        index=names.index(selected) if selected in names else None,
        placeholder="…or pick an asset here",
        label_visibility="collapsed",
    )
    if picked is not None and picked != selected:
        st.query_params.pop(state.QP_PARTITION, None)
        st.query_params[state.QP_ASSET] = picked
        st.rerun()

with details_column:
    asset_panel.render(cfg, defs, selected)
