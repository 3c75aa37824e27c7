"""Asset graph: one node per asset coloured by status, failing checks on the node, and the
clicked asset's details beside it. The selection lives in the URL (?asset=name)."""

from __future__ import annotations

import streamlit as st
import streamlit_agraph
from streamlit_agraph import Config, Edge, Node

from dashboard import charts, formatting, services, state, ui
from dashboard.safe import escape_markdown

# Node fill by status; text colour chosen to stay readable on it.
FILL = {
    "fresh": (charts.GREEN, "#ffffff"),
    "stale": (charts.AMBER, "#1f1f1f"),
    "never": ("#eceff1", "#37474f"),
    "failed": (charts.RED, "#ffffff"),
}
STATUS_WORDS = {"fresh": "fresh", "stale": "stale", "never": "never built", "failed": "failed"}


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


def build_nodes(model: services.GraphModel, selected: str | None) -> list[Node]:
    levels = {}
    for node in model.nodes:
        parents = [p for p, child in model.edges if child == node.name]
        levels[node.name] = 1 + max((levels[p] for p in parents), default=-1)
    nodes = []
    for node in model.nodes:
        fill, text = FILL[node.status]
        lines = [node.name, f"{node.group} · {STATUS_WORDS[node.status]}"]
        border, width = "#455a64", 1
        if node.failed_checks:
            count = len(node.failed_checks)
            lines.append(f"✖ {count} failing check{'s' if count != 1 else ''}")
            border, width = "#b71c1c", 4
        elif node.warned_checks:
            count = len(node.warned_checks)
            lines.append(f"⚠ {count} check warning{'s' if count != 1 else ''}")
            border, width = "#e65100", 3
        if node.name == selected:  # a failing check's border wins; the shadow marks selection
            border = border if node.failed_checks or node.warned_checks else "#0d47a1"
            width = max(width, 4) + 1
        # Short on purpose: vis-network shows it on hover (long errors covered the graph).
        tooltip = f"{node.name}: {STATUS_WORDS[node.status]}, group {node.group}"
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
    model = services.graph_model(cfg, defs)

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
    st.caption(
        "Fill: :green[fresh] · :orange[stale] · :gray[never built] · :red[failed]."
        " A red border means a failing check, an orange one a warning; a dashed border is a view."
        " Click a node for details."
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
    if selected is None:
        ui.empty_state(
            "Click an asset in the graph to see its schema, preview, history and checks."
        )
        ui.materialize_toolbar(cfg, defs, "graph", actions=("all", "stale"), compact=True)
        ui.run_progress(cfg, show_finished=True, only_if_seen=True)
    else:
        with ui.guard(f"read the details of {selected}"):
            details = services.asset_details(cfg, defs, selected)
        name = escape_markdown(details.name, one_line=True)  # names and texts: definitions
        st.subheader(name)
        if details.description:
            st.markdown(escape_markdown(details.description))
        else:
            st.markdown("_No description._")
        if details.status.status == "failed":
            st.markdown(f"{ui.STATUS_BADGES['failed']} — the last build failed:")
            ui.error_text(details.status.reason)
        else:
            reason = escape_markdown(details.status.reason)
            st.markdown(f"{ui.STATUS_BADGES[details.status.status]} — {reason}")
        deps = escape_markdown(", ".join(details.deps) or "none", one_line=True)
        children = escape_markdown(", ".join(details.children) or "none", one_line=True)
        group = escape_markdown(details.group, one_line=True)
        kind = escape_markdown(details.kind, one_line=True)
        st.caption(f"Group **{group}** · {kind} · depends on: {deps} · used by: {children}")
        last = details.last
        if last is None and details.status.status == "failed":
            st.caption("No successful build yet: fix the error above, then materialize it.")
        elif last is None:
            ui.empty_state(f"**{name}** has not been materialized yet: use the buttons.")
        else:
            label = "Last successful build" if details.status.status == "failed" else "Built"
            when = last.ended_at or last.started_at
            rows = f"{last.row_count:,} rows" if last.row_count is not None else "rows unknown"
            st.markdown(
                f"**{label}** {formatting.format_ago(when)} ({formatting.format_time(when)})"
                f" · took {formatting.format_duration(last.duration_s)} · **{rows}**"
            )
        ui.materialize_toolbar(
            cfg,
            defs,
            "graph",
            asset=selected,
            actions=("selected", "downstream", "upstream"),
            compact=True,
        )
        ui.run_progress(cfg, show_finished=True, only_if_seen=True)
        preview, schema, history, checks = st.tabs(["Preview", "Schema", "History", "Checks"])
        with preview:
            if details.preview.empty:
                st.caption("No preview yet: materialize the asset first.")
            else:
                st.dataframe(details.preview, hide_index=True, width="stretch")
                st.caption("The first 10 rows of the last materialization.")
        with schema:
            if details.schema.empty:
                st.caption("No schema yet: materialize the asset first.")
            else:
                st.dataframe(details.schema, hide_index=True, width="stretch")
        with history:
            builds = details.history[details.history["status"] == "materialized"]
            if len(builds) < 2:
                st.caption(
                    f"{len(builds)} successful build so far: the row count over time shows"
                    " from the second build on."
                )
            else:
                st.altair_chart(charts.row_count_history(details.history), width="stretch")
            if (details.history["status"] == "failed").any():
                failed_runs = details.history.loc[details.history["status"] == "failed", "run_id"]
                st.caption(f"Failed builds in runs {', '.join(map(str, failed_runs))}.")
        with checks:
            if details.checks.empty:
                st.caption(f"No checks are defined on {name}.")
            else:
                st.dataframe(
                    ui.tinted(details.checks, "Latest outcome"),
                    hide_index=True,
                    width="stretch",
                    column_order=["Check", "Latest outcome", "Observed", "Severity", "Last run"],
                )
                if not details.check_history.empty:
                    chart = charts.check_outcome_heatmap(details.check_history)
                    st.altair_chart(chart, width="stretch")
