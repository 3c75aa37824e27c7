"""Checks: every check with its latest outcome and severity, outcomes per run, and the observed
value over time."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, formatting, services, state, ui
from dashboard.safe import escape_markdown

st.title("Checks")
cfg, defs = ui.load()
if not defs.checks:
    ui.empty_state(f"{escape_markdown(cfg.defs)} defines no checks. Add some with `@asset_check`.")
    st.stop()
with ui.guard("read the check results"):
    table = services.checks_table(cfg, defs)
    history = services.check_history(cfg)

st.dataframe(
    ui.tinted(table, "Latest outcome"),
    hide_index=True,
    width="stretch",
    height=ui.table_height(len(table)),
)
if history.empty:
    ui.empty_state(
        "No check has run yet. Checks run after each materialization, or on their own with"
        " **Run checks only**."
    )
    ui.materialize_toolbar(cfg, defs, "checks", actions=("all", "checks"))
    ui.run_progress(cfg, show_finished=True, only_if_seen=True)
    st.stop()

RECENT_RUNS = 30  # columns in the heatmap: more would make every cell a sliver
run_ids = sorted(history["run_id"].unique())
recent = history[history["run_id"].isin(run_ids[-RECENT_RUNS:])]
st.altair_chart(charts.check_outcome_heatmap(recent), width="stretch")
if len(run_ids) > RECENT_RUNS:
    st.caption(f"The last {RECENT_RUNS} of {len(run_ids)} runs with checks.")

st.subheader("One check")
keys = list(table["Check"])
wanted = st.query_params.get(state.QP_CHECK)
if wanted is not None and wanted not in keys:  # `wanted` comes from the URL: anyone can craft it
    st.warning(
        f"There is no check named **{escape_markdown(wanted, one_line=True)}**; showing"
        f" {escape_markdown(keys[0], one_line=True)} instead.",
        icon=":material/help:",
    )
key = st.selectbox(
    "Check",
    keys,
    index=keys.index(wanted) if wanted in keys else 0,
    key=state.SELECT_CHECK,
)
if key != wanted:
    st.query_params[state.QP_CHECK] = key
check = next(c for c in defs.checks if c.key == key)
st.markdown(escape_markdown(check.description) if check.description else "_No description._")
with ui.guard(f"read the latest result of {key}"):
    record = services.latest_check(cfg, defs, key)
if record is None:
    st.caption("This check has not run yet.")
else:
    badge = ui.OUTCOME_BADGES.get(record.outcome, escape_markdown(record.outcome))
    st.markdown(
        f"Latest: {badge} in run {record.run_id}, {formatting.format_ago(record.started_at)}"
        f" · observed {formatting.format_value(record.observed_value)}"
        + (f" · rule: {escape_markdown(record.threshold)}" if record.threshold else "")
    )
    if record.error:  # the error text as it is, monospaced, like on the Runs page
        st.error("**The check could not complete:**", icon=":material/error:")
        ui.error_text(record.error)
    observed = history[history["check"] == key]
    if observed["observed_value"].notna().any():
        st.altair_chart(charts.observed_value_over_time(observed), width="stretch")
    if record.failing_sample:
        st.markdown(f"**Failing rows** ({record.failing_count:,} in all, a sample below)")
        st.dataframe(services.table_preview(record.failing_sample), hide_index=True)
    if record.sql:
        with st.expander("SQL of the failing rows"):
            st.code(record.sql, language="sql")
ui.run_progress(cfg, show_finished=True, only_if_seen=True)
