"""Automation: the daemon's heartbeat, every schedule and sensor with its on/off switch and
last ticks (with their runs), and a Test button that says what a tick would run now without
launching anything."""

from __future__ import annotations

import streamlit as st

from dashboard import state, ui
from dashboard.models import automation as model
from dashboard.safe import escape_markdown
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.errors import PipelineError
from pipeline.looks import look

REFRESH_SECONDS = 5.0  # the heartbeat's age and new ticks show without a click

st.title("Automation")
cfg, defs = ui.load()
browser_zone = st.context.timezone
ui.run_progress(cfg, show_finished=False)


def _switch(cfg: Settings, defs: Definitions, name: str) -> None:
    """The switch was flipped: keep its new position in the store, where the daemon reads it."""
    on = bool(st.session_state[state.automation_key(state.TOGGLE_AUTOMATION, name)])
    try:
        model.switch(cfg, defs, name, on)
    except (PipelineError, KeyError) as exc:  # KeyError: no longer in the definitions
        st.session_state[state.SS_AUTOMATION_ERROR] = f"Could not switch {name}: {exc}"


def _test(cfg: Settings, defs: Definitions, name: str) -> None:
    """The Test button: evaluate now, launch nothing; the answer stays until dismissed."""
    answers = st.session_state.setdefault(state.SS_DRY_RUNS, {})
    try:
        answers[name] = model.dry_run(cfg, defs, name, browser_zone)
    except PipelineError as exc:
        answers[name] = f"Could not test {name}: {exc}"
    except Exception as exc:  # the team's code (a partitions function) failed: say so here
        answers[name] = f"Could not test {name}: {type(exc).__name__}: {exc}"


def _dismiss(name: str) -> None:
    st.session_state.get(state.SS_DRY_RUNS, {}).pop(name, None)


def _daemon(view: model.DaemonView) -> None:
    host = escape_markdown(view.host or "", one_line=True)
    started = "Schedules and sensors are evaluated only while it runs. Start it beside the"
    started += " dashboard (Ctrl-C stops it):"
    if view.state == model.DaemonState.RUNNING:
        st.success(
            f"**The daemon is running** (pid {view.pid} on {host}): last seen {view.seen_ago},"
            f" evaluating every {view.interval_s:g} s since {view.started_at}.",
            icon=":material/favorite:",
        )
        return
    if view.state == model.DaemonState.BUSY:
        st.warning(
            "**An evaluation holds the daemon lock of this database** but no daemon heartbeat"
            " is fresh: a `python -m pipeline tick` evaluating now, or a daemon that has not"
            f" been seen for a while (last heartbeat {view.seen_ago}, pid {view.pid}).",
            icon=":material/hourglass_top:",
        )
        return
    if view.state == model.DaemonState.STOPPED:
        st.warning(
            f"**The daemon is not running**: it stopped at {view.stopped_at} (pid {view.pid}"
            f" on {host}). {started}",
            icon=":material/pause_circle:",
        )
    elif view.state == model.DaemonState.VANISHED:
        st.error(
            f"**The daemon is not running**: not seen for {view.seen_ago.removesuffix(' ago')}"
            f" (its interval is {view.interval_s:g} s) and it did not stop cleanly: it was"
            f" killed or crashed (pid {view.pid} on {host}). {started}",
            icon=":material/heart_broken:",
        )
    else:
        st.info(f"**The daemon is not running.** {started}", icon=":material/info:")
    st.code(view.command, language="bash", wrap_lines=True)


def _ticks(ticks: list[model.TickRow], show_files: bool) -> None:
    if not ticks:
        st.caption("No ticks yet: it has not been evaluated.")
        return
    st.markdown("**Last ticks**")
    for tick in ticks:
        shown = look(tick.status)
        line = f":{shown.streamlit}[:material/{shown.icon}: {tick.label}]"
        if tick.count > 1:
            line += f" {tick.count} times · {tick.earliest_at} to {tick.evaluated_at}"
        else:
            line += f" · {tick.evaluated_at} · tick {tick.tick_id}"
        if tick.scheduled_for:
            line += f" · for {tick.scheduled_for}"
        row = st.container(horizontal=True, vertical_alignment="center", wrap=True, gap="small")
        row.markdown(line, width="content")
        for run_id in tick.run_ids:
            row.page_link(
                "views/runs.py",
                label=f"Run {run_id}",
                icon=":material/history:",
                query_params={state.QP_RUN: str(run_id)},
                help="Open this run's timeline, errors and checks.",
            )
        notes = []
        if tick.reason:
            notes.append(escape_markdown(tick.reason))
        if show_files and tick.files:
            notes.append("Files: " + escape_markdown(", ".join(tick.files), one_line=True))
        if notes:
            st.caption("  \n".join(notes))


def _header(cfg: Settings, defs: Definitions, name: str, on: bool, kind: str) -> None:
    """The name, the switch and the Test button on one line."""
    key = state.automation_key(state.TOGGLE_AUTOMATION, name)
    st.session_state[key] = on  # the store's word, even if the CLI flipped it meanwhile
    head = st.container(horizontal=True, vertical_alignment="center", wrap=True)
    head.markdown(f"#### {escape_markdown(name, one_line=True)}", width="stretch")
    head.toggle(
        "On" if on else "Off",  # the label says the state, as the switch's position does
        key=key,
        on_change=_switch,
        args=(cfg, defs, name),
        help=f"Switch this {kind} on or off. Kept in the store: the daemon reads it each tick.",
        width="content",
    )
    head.button(
        "Test",
        key=state.automation_key(state.BTN_TEST_AUTOMATION, name),
        icon=":material/science:",
        on_click=_test,
        args=(cfg, defs, name),
        help=f"Evaluate this {kind} now and show what it would run, without launching anything.",
        width="content",
    )


def _answer(name: str) -> None:
    """The Test button's last answer for `name`, if any."""
    answer = st.session_state.get(state.SS_DRY_RUNS, {}).get(name)
    if answer is None:
        return
    box = st.container(border=True)
    top = box.container(horizontal=True, vertical_alignment="top", wrap=False)
    if isinstance(answer, str):
        top.error(escape_markdown(answer), icon=":material/error:")
    else:
        heading = f"**Test at {answer.tested_at}**: nothing was launched."
        if answer.due:
            heading += f" A tick at its next time, {answer.due}, would:"
        elif answer.plans:
            heading += " A tick now would:"
        top.markdown(heading, width="stretch")
    top.button(
        "Dismiss",
        key=state.automation_key(state.BTN_DISMISS_TEST, name),
        type="tertiary",
        icon=":material/close:",
        on_click=_dismiss,
        args=(name,),
        width="content",
    )
    if isinstance(answer, str):
        return
    for plan in answer.plans:
        text = f":material/play_arrow: {escape_markdown(plan.describe, one_line=True)}"
        if plan.file:
            text += f"  \nfrom {escape_markdown(plan.file, one_line=True)}"
        box.markdown(text)  # describe() names the selection, partitions and config
    if answer.skipped:
        box.info(f"Nothing to run: {escape_markdown(answer.skipped)}", icon=":material/info:")
    for error in answer.errors:
        box.warning(
            f"Would fail: {escape_markdown(error)}", icon=":material/warning:"
        )  # a file name and why its request cannot run


def _schedule(card: model.ScheduleCard) -> None:
    with st.container(border=True):
        _header(cfg, defs, card.name, card.on, "schedule")
        if card.description:
            st.caption(escape_markdown(card.description))
        select = escape_markdown(card.select, one_line=True)
        when = escape_markdown(card.in_words, one_line=True)
        cron = escape_markdown(card.cron, one_line=True)
        next_run = f"next run **{card.next_run}**"
        if card.ended:  # a tick comes, a run does not
            next_run = f"next tick {card.next_run}, {escape_markdown(card.ended, one_line=True)}"
        if not card.on:
            next_run = "switched off: nothing runs"
        st.markdown(
            f":material/schedule: {when} (cron {cron}) · {next_run}  \n"
            f":material/category: materializes **{select}**"
        )
        _answer(card.name)
        _ticks(card.ticks, show_files=False)


def _sensor(card: model.SensorCard) -> None:
    with st.container(border=True):
        _header(cfg, defs, card.name, card.on, "sensor")
        if card.description:
            st.caption(escape_markdown(card.description))
        path = escape_markdown(card.path, one_line=True)
        select = escape_markdown(card.select, one_line=True)
        seen = len(card.files_seen)
        checked = f"last checked {card.evaluated_at}" if card.evaluated_at else "never checked"
        st.markdown(
            f":material/folder_open: watches **{path}** · {checked}  \n"
            f":material/category: materializes **{select}** for each new or changed file"
        )
        with st.expander(f"Cursor: {seen} file{'s' if seen != 1 else ''} seen"):
            if card.files_seen:
                st.dataframe(
                    {
                        "File": [path for path, _ in card.files_seen],
                        "Content (sha256)": [digest for _, digest in card.files_seen],
                    },
                    hide_index=True,
                    width="stretch",
                    height=ui.table_height(seen, limit=10),
                )
            else:
                st.caption("None yet: the next file to land there starts a run.")
        _answer(card.name)
        _ticks(card.ticks, show_files=True)


@st.fragment(run_every=REFRESH_SECONDS)
def page() -> None:
    with ui.guard("read the schedules and sensors"):
        found = model.automation_page(cfg, defs, browser_zone)
    _daemon(found.daemon)
    if error := st.session_state.pop(state.SS_AUTOMATION_ERROR, None):
        st.error(escape_markdown(error), icon=":material/error:")
    if found.empty:
        ui.empty_state(
            "No schedules or sensors are defined. Add `schedules=[Schedule(...)]` or"
            " `sensors=[FileSensor(...)]` to your `Definitions` and they show here, with their"
            " switches, ticks and a Test button."
        )
        return
    st.caption(escape_markdown(found.zone_note))
    if found.schedules:
        st.subheader("Schedules")
        for schedule in found.schedules:
            _schedule(schedule)
    if found.sensors:
        st.subheader("Sensors")
        for sensor in found.sensors:
            _sensor(sensor)


page()
