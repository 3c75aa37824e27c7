"""The details of one asset beside the graph: health and why, last build, the buttons that
rebuild it, and tabs for its preview, schema, column profile, build history and checks."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, config_form, formatting, partition_panel, state, ui
from dashboard.models import asset as asset_model
from dashboard.models import toolbar, words
from dashboard.safe import escape_markdown
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.looks import look
from pipeline.states import AssetHealth, EventStatus


def render(cfg: Settings, defs: Definitions, selected: str | None) -> None:
    """Everything the details column shows for `selected` (or how to pick one)."""
    if selected is None:
        ui.empty_state(
            "Click an asset in the graph to see its schema, preview, history and checks."
        )
        ui.materialize_toolbar(cfg, defs, "graph", actions=("all", "stale"), compact=True)
        ui.run_progress(cfg, show_finished=True)
    else:
        with ui.guard(f"read the details of {selected}"):
            details = asset_model.asset_details(cfg, defs, selected)
        name = escape_markdown(details.name, one_line=True)  # names and texts: definitions
        st.subheader(name)
        if details.description:
            st.markdown(escape_markdown(details.description))
        else:
            st.markdown("_No description._")
        health = details.status.health
        reason = escape_markdown(words.headline(details.status.reason))
        st.markdown(f"{ui.badge(health)} — {reason}")
        if details.error:
            with st.expander("Full error"):
                ui.error_text(details.error)
        if details.status.stale_reason and health != AssetHealth.STALE:
            st.caption(
                f":material/update: Also stale: {escape_markdown(details.status.stale_reason)}"
            )
        deps = escape_markdown(", ".join(details.deps) or "none", one_line=True)
        children = escape_markdown(", ".join(details.children) or "none", one_line=True)
        group = escape_markdown(details.group, one_line=True)
        kind = escape_markdown(details.kind, one_line=True)
        st.caption(f"Group **{group}** · {kind} · depends on: {deps} · used by: {children}")
        last = details.last
        if last is None and health == AssetHealth.FAILED:
            st.caption("No successful build yet: fix the error above, then materialize it.")
        elif last is None:
            how = (
                "fill its Run config form below and click **Materialize with this config**"
                if selected in toolbar.needs_config(defs)
                else "use the buttons"
            )
            ui.empty_state(f"**{name}** has not been materialized yet: {how}.")
        else:
            label = "Built" if health != AssetHealth.FAILED else "The build still standing:"
            when = last.ended_at or last.started_at
            rows = asset_model.rows_text(last) or "rows unknown"
            took = (  # a partitioned asset's table is many builds: no one duration
                f" · took {formatting.format_duration(last.duration_s)}"
                if last.duration_s is not None
                else ""
            )
            st.markdown(
                f"**{label}** {formatting.format_ago(when)} ({formatting.format_time(when)})"
                f"{took} · **{rows}**"
            )
        if defs.assets[selected].partitions is not None:
            partition_panel.render(cfg, defs, selected)
        config_form.render(cfg, defs, selected)
        ui.materialize_toolbar(
            cfg,
            defs,
            "graph",
            asset=selected,
            actions=("selected", "downstream", "upstream"),
            compact=True,
            form_above=defs.assets[selected].config is not None,
        )
        ui.run_progress(cfg, show_finished=True)
        preview, schema, profile, history, checks = st.tabs(
            ["Preview", "Schema", "Profile", "History", "Checks"]
        )
        with preview:
            if details.last is not None:
                st.dataframe(details.preview, hide_index=True, width="stretch")
            st.caption(details.preview_note)
        with schema:
            if details.schema.empty:
                st.caption("No schema yet: materialize the asset first.")
            else:
                st.dataframe(details.schema, hide_index=True, width="stretch")
        with profile:
            _profile(details)
        with history:
            built, failed = look(EventStatus.MATERIALIZED).label, look(EventStatus.FAILED).label
            builds = details.history[details.history["status"] == built]
            if len(builds) < 2:
                st.caption(
                    f"{len(builds)} successful build so far: the row count over time shows"
                    " from the second build on."
                )
            else:
                st.altair_chart(charts.row_count_history(details.history), width="stretch")
            if (details.history["status"] == failed).any():
                failed_runs = details.history.loc[details.history["status"] == failed, "run_id"]
                st.caption(f"Failed builds in runs {', '.join(map(str, failed_runs))}.")
        with checks:
            if details.checks.empty:
                st.caption(f"No checks are defined on {name}.")
            else:
                st.dataframe(
                    ui.tinted(details.checks, "Latest outcome", details.check_outcomes),
                    hide_index=True,
                    width="stretch",
                    column_order=["Check", "Latest outcome", "Observed", "Severity", "Last ran"],
                )
                if not details.check_history.empty:
                    chart = charts.check_outcome_heatmap(details.check_history)
                    st.altair_chart(chart, width="stretch")


def _profile(details: asset_model.AssetDetails) -> None:
    """An overview of every column (it fits the side panel), then one column's figures read
    top to bottom, its distribution, and how one of its figures moved over recent builds.
    Every cell is plain text (a dataframe); chart labels are data, drawn as text by Vega."""
    view = details.profile
    if view is None:
        return
    st.caption(escape_markdown(view.note))
    if view.error:
        st.caption("The profile could not be computed (the build itself stands):")
        ui.error_text(view.error)
    if view.table.empty:
        return
    st.dataframe(view.table[asset_model.PROFILE_OVERVIEW], hide_index=True, width="stretch")
    digest = partition_panel.digest(details.name)
    column = st.selectbox(
        "Column", list(view.table["Column"]), key=f"{state.SELECT_PROFILE_COLUMN}-{digest}"
    )
    st.dataframe(asset_model.column_figures(view.table, column), hide_index=True, width="stretch")
    shape = view.distributions.get(column)
    if shape is not None:
        st.altair_chart(charts.column_distribution(shape), width="stretch")
    figures = view.trend_figures(column)
    if figures:
        figure = st.selectbox(
            "Over recent builds", figures, key=f"{state.SELECT_PROFILE_FIGURE}-{digest}"
        )
        chosen = view.trend[(view.trend["column"] == column) & (view.trend["figure"] == figure)]
        st.altair_chart(charts.profile_trend(chosen), width="stretch")
