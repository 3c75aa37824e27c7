"""Overview: assets by status, checks by outcome, the last run, the most recent failures."""

from __future__ import annotations

import streamlit as st

from dashboard import formatting, services, state, ui
from dashboard.safe import escape_markdown

st.title("Overview")
cfg, defs = ui.load()
with ui.guard("read the run history"):
    summary = services.overview(cfg, defs)

st.subheader("Assets")
columns = st.columns(4)
for column, status in zip(columns, services.STATUS_LABELS, strict=True):
    column.metric(services.STATUS_LABELS[status], summary.asset_counts[status], border=True)

st.subheader("Checks")
columns = st.columns(4)
for column, bucket in zip(columns, services.CHECK_BUCKETS, strict=True):
    column.metric(services.OUTCOME_LABELS[bucket], summary.check_counts[bucket], border=True)

st.subheader("Last run")
run = summary.last_run
if run is None:
    ui.empty_state(
        "No runs yet. Click **Materialize all** to build every asset and run its checks;"
        " the graph, runs and checks pages fill in as soon as it finishes."
    )
    ui.materialize_toolbar(cfg, defs, "overview", actions=("all",))
else:
    outcome = escape_markdown(services.RUN_STATUS_LABELS.get(run.status, run.status))
    text = (
        f"**Run {run.run_id}: {outcome}**"
        f" · {formatting.format_ago(run.started_at)} · {formatting.format_duration(run.duration_s)}"
        f"  \n{escape_markdown(services.run_summary(run))}"  # names the selection typed
    )
    if run.status == "success":
        st.success(text, icon=":material/check_circle:")
    elif run.status == "running":
        st.info(text, icon=":material/progress_activity:")
    else:
        message = f"  \n{escape_markdown(run.message)}" if run.message else ""
        st.error(text + message, icon=":material/error:")
    st.page_link(
        "views/runs.py",
        label="See this run's timeline and errors",
        icon=":material/history:",
        query_params={state.QP_RUN: str(run.run_id)},
    )
ui.run_progress(cfg, show_finished=True, only_if_seen=True)

st.subheader("Recent failures")
if not summary.failures:
    if run is None:
        st.caption("Nothing has run yet, so nothing has failed.")
    else:
        st.success("No failing assets or checks.", icon=":material/verified:")
for failure in summary.failures[:10]:
    badge = ui.OUTCOME_BADGES.get(failure.outcome, escape_markdown(failure.outcome))
    with st.container(border=True):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(  # names from the definitions, the message from an error or the data
            f"{badge} · **{escape_markdown(failure.name, one_line=True)}**"
            f" · {formatting.format_ago(failure.when)}  \n{escape_markdown(failure.message)}"
        )
        if failure.kind == "asset":
            right.page_link(
                "views/graph.py",
                label="Asset details",
                icon=":material/account_tree:",
                query_params={state.QP_ASSET: failure.asset},
            )
        else:
            right.page_link(
                "views/checks.py",
                label="Check details",
                icon=":material/fact_check:",
                query_params={state.QP_CHECK: failure.name},
            )
