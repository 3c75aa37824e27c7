"""Runs: the history table, the backfills (progress, their runs, Resume, Cancel), and for one
run its per-asset timeline, errors and checks."""

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


BACKFILLS_SHOWN = 5

# What was run and from where are read in full, not cut to an ellipsis: wide enough for the
# usual text, and wrapped when longer (Streamlit wraps a cell's text only in rows taller than
# 4rem, three lines). Outcome, Selection and From come first (models/runs.py), so they fit a
# laptop's screen; the counts after them may scroll.
ROW_HEIGHT = 66
ROWS_SHOWN = 8  # then the table scrolls
RUNS_COLUMNS = {
    "Run": st.column_config.NumberColumn(format="%d", width="small"),
    "Selection": st.column_config.TextColumn(
        width=300,
        help="What the run was asked to build: the selection typed (all assets when none),"
        " then [its partitions], a long list shortened. The run's details below give it in"
        " full.",
    ),
    "From": st.column_config.TextColumn(
        width=220,  # "schedule weekly_update_schedule" and "(tick 7)": two lines
        help="Where the run was started: the command line, the dashboard, Python, or a"
        " schedule or sensor with its tick (see the Automation page).",
    ),
}


def _show_run(run_id: int) -> None:
    """A backfill's run clicked, before the rerun: it becomes the run shown below (the select
    box starts again from the URL)."""
    st.session_state.pop(state.SELECT_RUN, None)
    st.query_params[state.QP_RUN] = str(run_id)


def _backfill(row: model.BackfillRow, run_ids: list[int]) -> None:
    """One backfill: progress, how it stands, its runs (each opens below), Resume, Cancel."""
    box = st.container(border=True)
    who = escape_markdown(words.launched_from(row.launched_by), one_line=True)
    assets = escape_markdown(", ".join(row.assets), one_line=True)
    box.markdown(f"**Backfill {row.backfill_id}** · {ui.badge(row.status)} · **{assets}**")
    box.caption(
        f"{escape_markdown(row.keys, one_line=True)} · started"
        f" {formatting.format_ago(row.created_at)} from {who}"
    )
    box.progress(row.share, text=escape_markdown(row.progress))
    line = box.container(horizontal=True, vertical_alignment="center", wrap=True)
    line.caption("Its runs:", width="content")
    for run_id in row.run_ids:
        label = f"Run {run_id}" + (" (going on)" if run_id == row.active_run else "")
        line.button(
            label,
            key=f"{state.BTN_OPEN_RUN}-{row.backfill_id}-{run_id}",
            type="tertiary",
            icon=":material/history:",
            on_click=_show_run,
            args=(run_id,),
            disabled=run_id not in run_ids,  # older than the table: no details to show
            help="Show this run's timeline and errors below.",
        )
    if row.active_run is not None:
        if line.button(
            "Cancel",
            key=f"{state.BTN_CANCEL_BACKFILL}-{row.backfill_id}",
            icon=":material/stop_circle:",
            help="Stop its run going on now: what it built stays built; Resume goes on later.",
        ):
            model.cancel_backfill(cfg, row)
            line.caption(":material/hourglass_top: cancelling…")
    elif row.resumable and line.button(
        "Resume",
        key=f"{state.BTN_RESUME_BACKFILL}-{row.backfill_id}",
        icon=":material/play_arrow:",
        help="Build the partitions none of its runs has built yet, and nothing else.",
    ):
        ui.launch(cfg, lambda: model.resume_backfill(cfg, defs, row))


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
        column_config=RUNS_COLUMNS,
        row_height=ROW_HEIGHT,
        height=ROW_HEIGHT * min(len(table.frame), ROWS_SHOWN) + 38,  # 38: the header row
    )

    run_ids = [int(run_id) for run_id in table.frame["Run"]]
    with ui.guard("read the backfills"):
        backfills = model.backfill_rows(cfg)
    if backfills:
        st.subheader("Backfills")
        for row in backfills[:BACKFILLS_SHOWN]:
            _backfill(row, run_ids)
        if len(backfills) > BACKFILLS_SHOWN:
            st.caption(
                f"{len(backfills) - BACKFILLS_SHOWN} older backfills:"
                " `python -m pipeline backfills` lists them all."
            )

    wanted = st.query_params.get(state.QP_RUN)
    try:
        default = run_ids.index(int(wanted)) if wanted is not None else 0
    except ValueError:
        shown = escape_markdown(wanted, one_line=True)  # straight from the URL
        if not str(wanted).strip():  # ?run= with nothing after it: no "****" to show
            said = "The link names no run; showing the latest run instead."
        elif not str(wanted).strip().isdigit():  # "among the last 10 runs" would call it a run
            said = f"**{shown}** is not a run number; showing the latest run instead."
        else:
            said = f"Run {shown} is not among the last {len(run_ids)} runs."
        st.warning(said, icon=":material/help:")
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
    if details.automation is not None:
        name, tick_id = details.automation
        st.page_link(
            "views/automation.py",
            label=f"Launched by tick {tick_id} of {escape_markdown(name, one_line=True)}:"
            " see it on the Automation page",
            icon=":material/schedule:",
        )
    if details.timeline.dropna(subset=["start_s"]).empty:
        st.caption("No asset was built in this run.")
    else:
        st.altair_chart(charts.run_gantt(details.timeline), width="stretch")

    if details.errors:  # a run whose only news is a warned check has no error to head
        st.markdown("**Errors**" if any(not e.warning for e in details.errors) else "**Warnings**")
        for error in details.errors:
            what = escape_markdown(error.what, one_line=True)
            if error.consequence:  # a skip or a stop: a consequence, not a failure of its own
                st.warning(
                    f"**{what}**: {escape_markdown(error.headline)}", icon=":material/block:"
                )
            elif error.warning:
                st.warning(
                    f"**{what}**: {escape_markdown(error.headline)}", icon=":material/warning:"
                )
            else:
                st.error(f"**{what}**: {escape_markdown(error.headline)}", icon=":material/error:")
                if error.text.strip() != error.headline.strip():
                    with st.expander("Full error"):
                        ui.error_text(error.text)
    elif status == RunStatus.SUCCESS:
        st.success("No errors in this run.", icon=":material/check_circle:")

    if not details.partitions.empty:
        st.markdown("**Partitions in this run**")
        st.dataframe(
            ui.tinted(details.partitions, "Status", details.partition_statuses),
            hide_index=True,
            width="stretch",
            height=ui.table_height(len(details.partitions), limit=12),
        )

    if not details.checks.empty:
        st.markdown("**Checks in this run**")
        st.dataframe(
            ui.tinted(details.checks, "Outcome", details.check_outcomes),
            hide_index=True,
            width="stretch",
        )


history()
