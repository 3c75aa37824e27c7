"""Checks: every check worst first with its latest outcome, outcomes per run, and one check's
executions, observed value against its rule, failing rows, and a button to run it again."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, formatting, runs, state, ui
from dashboard.models import checks as model
from dashboard.safe import escape_markdown
from pipeline.errors import PipelineError, RunInProgressError
from pipeline.states import CheckOutcome

st.title("Checks")
cfg, defs = ui.load()
if not defs.checks:
    ui.empty_state(f"{escape_markdown(cfg.defs)} defines no checks. Add some with `@asset_check`.")
    st.stop()
with ui.guard("read the check results"):
    table = model.checks_table(cfg, defs)
    outcomes = model.all_outcomes(cfg)
ui.run_progress(cfg, show_finished=True)

st.dataframe(
    ui.tinted(table.frame, "Latest outcome", table.outcomes),
    hide_index=True,
    width="stretch",
    height=ui.table_height(len(table.frame)),
    column_order=["Check", "Latest outcome", "Note", "Severity", "Observed", "Rule",
                  "Failing rows", "Last ran"],
    column_config={"Note": st.column_config.TextColumn("Note", width="medium")},
)  # fmt: skip
keys = [str(key) for key in table.keys]  # worst first: the page opens on the worst check
wanted = st.query_params.get(state.QP_CHECK)
if outcomes.empty:
    if wanted is not None and wanted not in keys:  # no check to show, but never silently
        st.warning(
            f"There is no check named **{escape_markdown(wanted, one_line=True)}**.",
            icon=":material/help:",
        )
    ui.empty_state(
        "No check has run yet. Checks run after each materialization, or on their own with"
        " **Run checks only**."
    )
    ui.materialize_toolbar(cfg, defs, "checks", actions=("all", "checks"))
    st.stop()

RECENT_RUNS = 30  # columns in the heatmap: more would make every cell a sliver
run_ids = sorted(outcomes["run_id"].unique())
recent = outcomes[outcomes["run_id"].isin(run_ids[-RECENT_RUNS:])]
st.altair_chart(charts.check_outcome_heatmap(recent), width="stretch")
if len(run_ids) > RECENT_RUNS:
    st.caption(f"The last {RECENT_RUNS} of {len(run_ids)} runs with checks.")

st.subheader("One check")
if wanted is not None and wanted not in keys:  # `wanted` comes from the URL: anyone can craft it
    st.warning(
        f"There is no check named **{escape_markdown(wanted, one_line=True)}**; showing"
        f" {escape_markdown(keys[0], one_line=True)} instead.",
        icon=":material/help:",
    )
shown = st.selectbox(
    "Check", keys, index=keys.index(wanted) if wanted in keys else 0, key=state.SELECT_CHECK
)
if shown != wanted:
    st.query_params[state.QP_CHECK] = shown
key = table.keys[keys.index(shown)]
with ui.guard(f"read the results of {shown}"):
    detail = model.check_detail(cfg, defs, key)
check = detail.check
st.markdown(escape_markdown(check.description) if check.description else "_No description._")

record = detail.executed
if record is None:
    st.caption("This check has not run yet.")
else:
    when = formatting.format_ago(record.started_at)
    rule = f" · rule: {escape_markdown(record.threshold)}" if record.threshold else ""
    seen = f"observed {formatting.format_value(record.observed_value)}{rule}"
    if detail.band_text:  # an anomaly check: its value against its band
        seen = escape_markdown(detail.band_text, one_line=True)
    st.markdown(
        f"Latest: {ui.badge(record.outcome, CheckOutcome)} in run {record.run_id}, {when} · {seen}"
    )
    if detail.note:
        st.caption(f":material/block: {escape_markdown(detail.note)}")
    if detail.full_error:
        st.error(
            f"**It could not run:** {escape_markdown(detail.full_error.splitlines()[0])}",
            icon=":material/error:",
        )
        with st.expander("Full error"):
            ui.error_text(detail.full_error)

if st.button(
    "Run this check again",
    key=state.BTN_RERUN_CHECK,
    icon=":material/replay:",
    help="Runs only this check on the current table; nothing is rebuilt.",
):
    try:
        live = runs.start(
            defs, cfg.db, None, kind="checks", label=f"Check {shown}", planned=[key.asset],
            checks=[key],
        )  # fmt: skip
        st.session_state[state.SS_SEEN_RUN] = ui.run_token(live)
        st.rerun()
    except RunInProgressError as exc:
        st.warning(f"**Nothing started:** {escape_markdown(exc)}", icon=":material/hourglass_top:")
    except PipelineError as exc:
        st.error(f"**Could not start the check.** {escape_markdown(exc)}", icon=":material/error:")

if detail.band is not None and not detail.band.empty:  # an anomaly check: its band, not a rule
    st.altair_chart(charts.anomaly_band(detail.band), width="stretch")
    st.caption(
        "Shaded: the band its history expected at each run. Red, ringed: anomalous (the check"
        " warned or failed). Grey: not enough history for a band yet."
    )
elif not detail.observed.empty:
    st.altair_chart(
        charts.observed_value_over_time(detail.observed, detail.rule_lines), width="stretch"
    )
if record is not None and record.failing_sample:
    st.markdown(
        f"**Failing rows** ({formatting.format_count(record.failing_count)} in all, a sample below)"
    )
    st.dataframe(model.failing_rows_frame(record.failing_sample), hide_index=True)
if record is not None and record.sql:
    with st.expander("SQL of the failing rows"):
        st.code(record.sql, language="sql")

if not detail.executions.empty:
    st.markdown("**Every execution**")
    executions = detail.executions.assign(
        Run=[f"./runs?{state.QP_RUN}={run_id}" for run_id in detail.executions["Run"]]
    )
    st.dataframe(
        ui.tinted(executions, "Outcome", detail.outcomes),
        hide_index=True,
        width="stretch",
        column_config={
            "Run": st.column_config.LinkColumn(
                "Run", display_text=rf"\./runs\?{state.QP_RUN}=(\d+)", help="Open the run"
            ),
        },
    )
