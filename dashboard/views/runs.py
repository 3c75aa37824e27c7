"""Runs: the history table, and for one run its per-asset timeline and error texts."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, formatting, services, state, ui
from dashboard.safe import escape_markdown

st.title("Runs")
cfg, defs = ui.load()
ui.run_progress(cfg, show_finished=True, only_if_seen=True)
with ui.guard("read the run history"):
    table = services.runs_table(cfg)

if table.empty:
    ui.empty_state(
        "No runs yet. Start one here or on the **Materialize** page; every run is listed"
        " here with its timeline and errors."
    )
    ui.materialize_toolbar(cfg, defs, "runs", actions=("all",))
    st.stop()

st.dataframe(
    ui.tinted(table, "Outcome"),
    hide_index=True,
    width="stretch",
    column_config={"Run": st.column_config.NumberColumn(format="%d", width="small")},
)

run_ids = [int(run_id) for run_id in table["Run"]]
wanted = st.query_params.get(state.QP_RUN)
try:
    default = run_ids.index(int(wanted)) if wanted is not None else 0
except ValueError:  # `wanted` comes from the URL: anyone can craft it
    st.warning(
        f"Run {escape_markdown(wanted, one_line=True)} is not among the last {len(run_ids)} runs.",
        icon=":material/help:",
    )
    default = 0
run_id = st.selectbox(
    "Run",
    run_ids,
    index=default,
    format_func=lambda rid: f"Run {rid}",
    key=state.SELECT_RUN,
)
if str(run_id) != wanted:
    st.query_params[state.QP_RUN] = str(run_id)

with ui.guard(f"read run {run_id}"):
    details = services.run_details(cfg, run_id)
if details is None:
    st.warning(f"Run {run_id} no longer exists.", icon=":material/help:")
    st.stop()

run = details.run
outcome = escape_markdown(services.RUN_STATUS_LABELS.get(run.status, run.status), one_line=True)
st.subheader(f"Run {run.run_id} · {outcome}")
st.caption(
    f"Started {formatting.format_time(run.started_at)} ({formatting.timezone_name()}) ·"
    f" took {formatting.format_duration(run.duration_s)}"
    f" · {escape_markdown(services.run_summary(run))}"  # names the selection typed
)
if details.timeline.dropna(subset=["start_s"]).empty:
    st.caption("No asset was built in this run.")
else:
    st.altair_chart(charts.run_gantt(details.timeline), width="stretch")

if details.errors:
    st.markdown("**Errors**")
    for what, message in details.errors:  # asset and check names, error texts: escaped
        if "(skipped)" in what:  # a consequence of another failure, not a failure of its own
            st.warning(
                f"**{escape_markdown(what, one_line=True)}**  \n{escape_markdown(message)}",
                icon=":material/block:",
            )
        else:
            st.error(f"**{escape_markdown(what, one_line=True)}**", icon=":material/error:")
            ui.error_text(message)
elif run.status == "success":
    st.success("No errors in this run.", icon=":material/check_circle:")

if not details.checks.empty:
    st.markdown("**Checks in this run**")
    st.dataframe(details.checks, hide_index=True, width="stretch")
