"""Runs: the history table, and for one run its per-asset timeline, errors and checks."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, formatting, state, ui
from dashboard.models import runs as model
from dashboard.models import words
from dashboard.safe import escape_markdown
from pipeline.looks import look
from pipeline.states import RunStatus

st.title("Runs")
cfg, defs = ui.load()
ui.run_progress(cfg, show_finished=True)


@st.fragment(run_every=ui.REFRESH_SECONDS if ui.running(cfg) else None)
def history() -> None:
    """The table and the chosen run; refreshed every second while a run goes on, so its row
    and details agree with the live panel above."""
    with ui.guard("read the run history"):
        table = model.runs_table(cfg)

    if table.frame.empty:
        ui.empty_state(
            "No runs yet. Start one here or on the **Materialize** page; every run is listed"
            " here with its timeline and errors."
        )
        ui.materialize_toolbar(cfg, defs, "runs", actions=("all",))
        return

    st.dataframe(
        ui.tinted(table.frame, "Outcome", table.statuses),
        hide_index=True,
        width="stretch",
        column_config={"Run": st.column_config.NumberColumn(format="%d", width="small")},
    )

    run_ids = [int(run_id) for run_id in table.frame["Run"]]
    wanted = st.query_params.get(state.QP_RUN)
    try:
        default = run_ids.index(int(wanted)) if wanted is not None else 0
    except ValueError:
        shown = escape_markdown(wanted, one_line=True)  # straight from the URL
        st.warning(
            f"Run {shown} is not among the last {len(run_ids)} runs.", icon=":material/help:"
        )
        default = 0
    run_id = st.selectbox(
        "Run", run_ids, index=default, format_func=lambda rid: f"Run {rid}", key=state.SELECT_RUN
    )
    if str(run_id) != wanted:
        st.query_params[state.QP_RUN] = str(run_id)

    with ui.guard(f"read run {run_id}"):
        details = model.run_details(cfg, run_id)
    if details is None:
        st.warning(f"Run {run_id} no longer exists.", icon=":material/help:")
        return

    run = details.run
    status = RunStatus(run.status)
    st.subheader(f"Run {run.run_id} · {look(status).label}")
    who = escape_markdown(words.launched_from(run.launched_by), one_line=True)
    took = f"took {formatting.format_duration(run.duration_s)}" if status.finished else "running"
    st.caption(
        f"Started {formatting.format_time(run.started_at)} ({formatting.timezone_name()}) from"
        f" {who} · {took} · {escape_markdown(words.run_summary(run))}"  # names the selection typed
    )
    if details.timeline.dropna(subset=["start_s"]).empty:
        st.caption("No asset was built in this run.")
    else:
        st.altair_chart(charts.run_gantt(details.timeline), width="stretch")

    if details.errors:
        st.markdown("**Errors**")
        for error in details.errors:
            what = escape_markdown(error.what, one_line=True)
            if error.consequence:  # a skip or a stop: a consequence, not a failure of its own
                st.warning(
                    f"**{what}**: {escape_markdown(error.headline)}", icon=":material/block:"
                )
            else:
                st.error(f"**{what}**: {escape_markdown(error.headline)}", icon=":material/error:")
                if error.text.strip() != error.headline.strip():
                    with st.expander("Full error"):
                        ui.error_text(error.text)
    elif status == RunStatus.SUCCESS:
        st.success("No errors in this run.", icon=":material/check_circle:")

    if not details.checks.empty:
        st.markdown("**Checks in this run**")
        st.dataframe(
            ui.tinted(details.checks, "Outcome", details.check_outcomes),
            hide_index=True,
            width="stretch",
        )


history()
