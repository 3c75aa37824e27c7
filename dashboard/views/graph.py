"""Asset graph: one node per asset coloured by status, failing checks on the node, and the
clicked asset's details beside it. The selection lives in the URL (?asset=name)."""

from __future__ import annotations

import streamlit as st
import streamlit_agraph
from streamlit_agraph import Config, Edge, Node

from dashboard import asset_panel, state, ui
from dashboard.models import graph as graph_model
from dashboard.safe import escape_markdown
from pipeline.looks import look
from pipeline.states import AssetHealth


def _fill(health: AssetHealth) -> tuple[str, str]:
    """Node fill by health, and a text colour that stays readable on it."""
    shown = look(health)
    if health == AssetHealth.NEVER:
        return shown.tint, "#37474f"
    dark_text = health in (AssetHealth.STALE, AssetHealth.WARNING)
    return shown.colour, "#1f1f1f" if dark_text else "#ffffff"


LAYOUT = {"direction": "LR", "sortMethod": "directed", "levelSeparation": 200, "nodeSpacing": 100}


def graph_config(tallest_level: int) -> Config:
    """Hierarchical left-to-right, physics off: the same picture on every rerun."""
    height = min(900, max(360, 95 * tallest_level))  # room for the widest column of nodes
    config = Config(height=height, directed=True, physics=False, hierarchical=True, **LAYOUT)
    for option in LAYOUT:  # Config copies its kwargs to the top level, where vis rejects them
        config.__dict__.pop(option, None)
    config.width = "100%"  # fill the column instead of a fixed pixel width
    config.interaction = {"hover": True, "zoomView": False, "dragView": False}
    config.edges = {"smooth": {"type": "cubicBezier", "forceDirection": "horizontal"}}
    return config


def build_nodes(model: graph_model.GraphModel, selected: str | None) -> list[Node]:
    levels: dict[str, int] = {}
    for node in model.nodes:
        parents = [p for p, child in model.edges if child == node.name]
        levels[node.name] = 1 + max((levels[p] for p in parents), default=-1)
    nodes = []
    for node in model.nodes:
        fill, text = _fill(node.health)
        lines = [node.name, f"{node.group} · {look(node.health).label.lower()}"]
        border, width = "#455a64", 1
        if node.failing_checks:
            count = len(node.failing_checks)
            lines.append(f"✖ {count} failing check{'s' if count != 1 else ''}")
            border, width = "#b71c1c", 4
        elif node.warning_checks:
            count = len(node.warning_checks)
            lines.append(f"⚠ {count} check warning{'s' if count != 1 else ''}")
            border, width = "#e65100", 3
        if node.name == selected:  # a failing check's border wins; the shadow marks selection
            border = border if node.failing_checks or node.warning_checks else "#0d47a1"
            width = max(width, 4) + 1
        # Short on purpose: vis-network shows it on hover (long errors covered the graph).
        tooltip = f"{node.name}: {look(node.health).label.lower()}, group {node.group}"
        nodes.append(
            Node(
                id=node.name,
                label="\n".join(lines),
                title=tooltip,
                shape="box",
                level=levels[node.name],
                color={
                    "background": fill,
                    "border": border,
                    "highlight": {"background": fill, "border": "#0d47a1"},
                },
                borderWidth=width,
                borderWidthSelected=max(width, 4),
                font={"color": text, "size": 17, "face": "sans-serif"},
                margin=12,
                shadow=node.name == selected,
                shapeProperties={"borderDashes": [6, 4] if node.kind == "view" else False},
            )
        )
    return nodes


st.title("Asset graph")
cfg, defs = ui.load()
with ui.guard("read the asset statuses"):
    model = graph_model.graph_model(cfg, defs)

names = [node.name for node in model.nodes]
selected = st.query_params.get(state.QP_ASSET)
if selected is not None and selected not in names:
    st.warning(  # `selected` comes from the URL: anyone can craft it
        f"There is no asset named **{escape_markdown(selected, one_line=True)}** in"
        f" {escape_markdown(cfg.defs)}; pick one in the graph.",
        icon=":material/help:",
    )
    selected = None

graph_column, details_column = st.columns([3, 2], gap="large")
with graph_column:
    edges = [
        Edge(source=p, target=c, id=f"{p}->{c}", color="#78909c", width=2)  # ids: no duplicates
        for p, c in model.edges
    ]
    tallest = max(map(len, defs.graph.levels()), default=1)
    clicked = streamlit_agraph.agraph(
        nodes=build_nodes(model, selected), edges=edges, config=graph_config(tallest)
    )
    # The component keeps returning its last click: only a new click changes the selection.
    if clicked and clicked in names and clicked != st.session_state.get(state.SS_GRAPH_SELECTED):
        st.session_state[state.SS_GRAPH_SELECTED] = clicked
        if clicked != selected:
            selected = clicked
            st.query_params[state.QP_ASSET] = clicked
    legend = " · ".join(f":{look(h).streamlit}[{look(h).label.lower()}]" for h in AssetHealth)
    st.caption(
        f"Fill: {legend}. A red border means a failing check, an orange one a warning; a dashed"
        " border is a view. Click a node for details."
    )
    picked = st.selectbox(
        "Asset",
        names,
        index=names.index(selected) if selected in names else None,
        placeholder="…or pick an asset here",
        label_visibility="collapsed",
    )
    if picked is not None and picked != selected:
        selected = picked
        st.query_params[state.QP_ASSET] = picked
        st.rerun()

with details_column:
    asset_panel.render(cfg, defs, selected)
