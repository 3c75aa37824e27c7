"""Render helpers shared by the pages: error guard, status badges, the materialize toolbar and
the live progress of a background run.

The toolbar lives on the Materialize page and on the graph page (for the selected asset); both
call `materialize_toolbar`, with a key prefix so the two never collide.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum

import duckdb
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from dashboard import formatting, runs, settings, state
from dashboard import live as live_runs
from dashboard.models import toolbar, words
from dashboard.safe import escape_markdown
from dashboard.settings import Settings
from pipeline.definitions import Definitions, definitions_stamp, load_definitions
from pipeline.errors import (
    PipelineError,
    RunInProgressError,
    SelectionError,
    WarehouseLockedError,
)
from pipeline.looks import look
from pipeline.states import CheckOutcome, EventStatus, RunStatus
from pipeline.store import CheckRecord
from pipeline.warehouse import run_active


def badge(state: StrEnum | str | None, kind: type[StrEnum] | None = None) -> str:
    """A state as Streamlit Markdown: its icon and label in its colour (pipeline/looks.py)."""
    shown = look(state, kind)
    return f":{shown.streamlit}[:material/{shown.icon}: {shown.label}]"


# What a finished run's panel says of an asset in words the engine does not record.
_LIVE_WORDS = {
    "pending": badge("queued", EventStatus),
    "checked": ":green[:material/check_circle: Checked]",
}
REFRESH_SECONDS = 1.0
END_POLL_SECONDS = 0.2  # how soon the end of a run is noticed (issue 14: within 0.3 s)
IDLE_POLL_SECONDS = 5.0  # how soon an idle page notices a run started elsewhere (the daemon)


@contextmanager
def guard(doing: str) -> Iterator[None]:
    """Show a pipeline or DuckDB error as one readable message and stop the page there.

    `doing` is plain text ("read the details of X"): it and the error are escaped, since both
    may carry names and values from the definitions or the data.
    """
    headline = f"**Could not {escape_markdown(doing, one_line=True)}.**"
    try:
        yield
    except WarehouseLockedError as exc:
        st.error(f"{headline} {escape_markdown(exc)}", icon=":material/lock:")
        st.button("Try again", key=state.BTN_RETRY, icon=":material/refresh:")
        st.stop()
    except PipelineError as exc:
        st.error(f"{headline} {escape_markdown(exc)}", icon=":material/error:")
        st.stop()
    except duckdb.Error as exc:
        st.error(f"{headline} DuckDB said: {escape_markdown(exc)}", icon=":material/error:")
        st.stop()


def load() -> tuple[Settings, Definitions]:
    """The settings and definitions every page starts from; stops with a message if broken.

    The definitions are loaded once per file version (and ASSETBOARD_* environment), not on
    every rerun: loading imports the user's module and validates the whole graph.
    """
    cfg = settings.current()
    with guard(f"load the definitions '{cfg.defs}'"):
        defs = definitions(cfg)
    return cfg, defs


def definitions(cfg: Settings) -> Definitions:
    """The cached definitions of `cfg` (DefinitionError when they cannot be loaded)."""
    environment = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.startswith("ASSETBOARD_"))
    )
    return _definitions(cfg.defs, definitions_stamp(cfg.defs), environment)


@st.cache_resource(max_entries=8, show_spinner=False)
def _definitions(target: str, stamp: float | None, environment: tuple) -> Definitions:
    """Keyed on the file's modification time: an edited module is loaded again."""
    del environment  # part of the key only: the example reads its data folder from it
    return load_definitions(target, reload=stamp is not None)


# --- the materialize toolbar ------------------------------------------------------------------

_LABELS = {  # one wording wherever a toolbar is shown; the help says the rest
    "all": "Materialize all",
    "selected": "Materialize this asset",
    "downstream": "+ downstream",
    "upstream": "+ upstream",
    "stale": "Stale only",
    "checks": "Run checks only",
    "free": "Materialize selection",
}
_HELP = {
    "all": "Rebuild every asset in dependency order and run all checks (an asset that needs run"
    " config is named and left out: use its config form).",
    "selected": "Rebuild only this asset (its upstream tables are used as they are).",
    "downstream": "Rebuild this asset and everything that depends on it.",
    "upstream": "Rebuild everything this asset depends on, then the asset itself.",
    "stale": "Rebuild assets that are stale, failed, blocked or never materialized, and their"
    " downstream. Not those only failing checks (degraded): the same code and data would give"
    " the same rows. An asset that needs run config is named, not built: use its config form.",
    "checks": "Run every check on the current tables without rebuilding anything.",
    "free": "Rebuild the assets matched by the selection typed on the left.",
}
_BUTTON_KEYS = {
    "all": state.BTN_ALL,
    "selected": state.BTN_SELECTED,
    "downstream": state.BTN_DOWNSTREAM,
    "upstream": state.BTN_UPSTREAM,
    "stale": state.BTN_STALE,
    "checks": state.BTN_CHECKS,
    "free": state.BTN_FREE,
}


def materialize_toolbar(
    cfg: Settings,
    defs: Definitions,
    prefix: str,
    asset: str | None = None,
    actions: Sequence[str] = toolbar.ACTIONS,
    pick_asset: bool = False,
    compact: bool = False,
    form_above: bool = False,
) -> None:
    """Buttons that start a background run; a click shows what started or why it cannot.

    `prefix` keeps widget keys apart when two toolbars share a page; `compact` (a narrow
    column) puts the main asset action on a row of its own; `form_above` says the asset's run
    config form is drawn just above, for messages to point at.
    """
    labels = _LABELS
    live = runs.current(cfg.db)
    busy = (live is not None and live.active) or run_active(cfg.db)
    clicked: str | None = None
    free_text: str | None = None

    row = [a for a in ("all", "stale", "checks") if a in actions]
    if row:
        for column, action in zip(st.columns(len(row)), row, strict=True):
            if column.button(
                labels[action],
                key=state.toolbar_key(prefix, _BUTTON_KEYS[action]),
                help=_HELP[action],
                type="primary" if action == "all" else "secondary",
                icon=":material/play_arrow:" if action == "all" else None,
                width="stretch",
            ):
                clicked = action
        building = [labels[a] for a in row if a != "checks"]
        if building and (on_request := toolbar.needs_config(defs)):  # said before the click too
            who = " and ".join(building) + (" leaves" if len(building) == 1 else " leave")
            st.caption(f":material/info: {_left_out_text(on_request, who)}")
    asset_actions = [a for a in ("selected", "downstream", "upstream") if a in actions]
    if asset_actions:
        if pick_asset:
            asset = st.selectbox(
                "Asset",
                defs.graph.names,
                index=defs.graph.names.index(asset) if asset in defs.assets else None,
                key=state.toolbar_key(prefix, state.SELECT_TOOLBAR_ASSET),
                placeholder="Pick an asset",
            )
        if compact and len(asset_actions) == 3:  # a narrow column: the main action on its own row
            slots = [st.container(), *st.columns(2)]
        else:
            slots = st.columns(len(asset_actions))
        for column, action in zip(slots, asset_actions, strict=True):
            if column.button(
                labels[action],
                key=state.toolbar_key(prefix, _BUTTON_KEYS[action]),
                help=_HELP[action],
                type="primary" if compact and action == "selected" else "secondary",
                icon=":material/play_arrow:" if compact and action == "selected" else None,
                disabled=asset is None,
                width="stretch",
            ):
                clicked = action
    if "free" in actions:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        free_text = left.text_input(
            "Selection",
            key=state.toolbar_key(prefix, state.INPUT_FREE_SELECTION),
            placeholder="e.g. +joined_data, sales_data+, group:ingestion, tag:source=csv",
            help="The pipeline's selection syntax: `name`, `+name` (with upstream), `name+`"
            " (with downstream), `group:X`, `tag:K=V`, `kind:view`, combined with `,`, `and`,"
            " `not` and parentheses.",
        )
        if right.button(
            _LABELS["free"],
            key=state.toolbar_key(prefix, _BUTTON_KEYS["free"]),
            help=_HELP["free"],
            width="stretch",
        ):
            clicked = "free"
    if busy:  # the buttons stay live: a click says which run is going, never nothing
        st.caption(
            ":material/hourglass_top: A run is in progress: a new one can start when it ends."
        )
    if clicked is not None:
        _start(cfg, defs, clicked, asset, free_text, form_above)


def _start(
    cfg: Settings,
    defs: Definitions,
    action: str,
    asset: str | None,
    free_text: str | None,
    form_above: bool,
) -> None:
    def begin() -> runs.LiveRun:
        plan = toolbar.plan(cfg, action, defs, asset, free_text, form_above)
        if action == "checks":
            kind, label = "checks", "Run checks"
        else:
            kind = "materialize"
            label = f"{_LABELS[action]}" + (
                f" ({asset})" if asset and action in ("selected", "downstream", "upstream") else ""
            )
        return runs.start(
            defs,
            cfg.db,
            plan.selection,
            kind=kind,
            label=label,
            planned=plan.planned,
            left_out=plan.left_out,
        )

    launch(cfg, begin)


def launch(cfg: Settings, begin: Callable[[], runs.LiveRun]) -> None:
    """Start a background run with `begin` and show the whole page with it going, or say
    where the click was made why nothing started (a run going on, a bad selection)."""
    try:
        live = begin()
        st.session_state[state.SS_SEEN_RUN] = _token(live)
        st.rerun()  # the whole page, not just the button, now shows the run going on
    except RunInProgressError as exc:
        st.session_state.pop(state.SS_SEEN_RUN, None)  # an older outcome would read as this one
        st.warning(
            f"**Nothing started: a run is already in progress.** {_who_runs(cfg, exc)}",
            icon=":material/hourglass_top:",
        )
    except SelectionError as exc:
        st.session_state.pop(state.SS_SEEN_RUN, None)
        st.warning(f"**Nothing started:** {escape_markdown(exc)}", icon=":material/info:")
    except PipelineError as exc:
        st.session_state.pop(state.SS_SEEN_RUN, None)
        st.error(f"**Could not start the run.** {escape_markdown(exc)}", icon=":material/error:")


def _who_runs(cfg: Settings, refusal: Exception) -> str:
    """Which run is going and who started it, from the history when it is recorded there."""
    view = live_runs.active_run(cfg)
    if view is None:
        return escape_markdown(refusal)
    run = view.run
    who = escape_markdown(words.launched_from(run.launched_by), one_line=True)
    return (
        f"Run {run.run_id} was started from {who} at {formatting.format_time(run.started_at)}"
        f" and has done {view.done} of {view.total} assets. Wait for it to end, or cancel it"
        " below."
    )


# --- live progress ----------------------------------------------------------------------------


def run_progress(cfg: Settings, show_finished: bool = False, only_if_seen: bool = True) -> None:
    """The run going on now, whoever started it (read from the history, so a run started on
    the command line or in another tab shows too), refreshed every second while it lasts.

    When it ends the page reruns. The outcome box of a finished run is shown where
    `show_finished`, and only to the session that started that run: another tab that merely
    followed it does not show it as its own.
    """
    live = runs.current(cfg.db)
    if not _running(cfg, live):
        _notice_new_runs(cfg)
    if _running(cfg, live):
        st.session_state[state.SS_WATCHING_RUN] = True
    elif (
        live is None
        or not show_finished
        or (only_if_seen and st.session_state.get(state.SS_SEEN_RUN) != _token(live))
    ):
        if st.session_state.pop(state.SS_WATCHING_RUN, False):
            st.rerun()  # a run this page followed ended elsewhere: show its results
        return
    else:  # finished: its outcome here, drawn once the page below it shows the run's results
        if st.session_state.pop(state.SS_WATCHING_RUN, False):
            st.rerun()
        _draw_last(lambda: _render_live(live))
        return

    @st.fragment(run_every=END_POLL_SECONDS if _running(cfg, live) else None)
    def _watch() -> None:
        """Draws nothing: notices the end of the run within a fifth of a second (the panel
        below redraws its progress once a second: every redraw costs the browser)."""
        if not _running(cfg, runs.current(cfg.db)) and st.session_state.pop(
            state.SS_WATCHING_RUN, False
        ):
            st.rerun()

    @st.fragment(run_every=REFRESH_SECONDS if _running(cfg, live) else None)
    def _panel() -> None:
        now = runs.current(cfg.db)
        view = live_runs.active_run(cfg)
        if view is not None:
            _render_view(cfg, view)
        elif _running(cfg, now):  # the lock is taken, the run not recorded yet
            what = escape_markdown(now.label) if now is not None and now.active else "A run"
            st.caption(f":material/hourglass_top: {what} is starting…")
        elif st.session_state.pop(state.SS_WATCHING_RUN, False):
            st.rerun()  # the run just ended: refresh the whole page, and stop ticking
        elif now is not None and show_finished:
            _render_live(now)

    _watch()
    _panel()


def _draw_last(draw: Callable[[], None]) -> None:
    """Keep this place on the page for `draw`, called once the rest of the page is drawn
    (app.py, `draw_deferred`). A rerun replaces the page from the top down, so an outcome
    drawn first stood for a moment above the tables of before the run: "succeeded" beside
    "never built". For page scripts: a fragment rerun does not reach app.py's end."""
    slot = st.empty()
    st.session_state.setdefault(state.SS_DRAWN_LAST, []).append((slot, draw))


def start_page() -> None:
    """Forget what a page left undrawn (a page stopped by an error keeps nothing for later)."""
    st.session_state[state.SS_DRAWN_LAST] = []


def draw_deferred() -> None:
    """Draw what the page kept a place for, in the order it asked."""
    for slot, draw in st.session_state.pop(state.SS_DRAWN_LAST, []):
        with slot.container():
            draw()


def _notice_new_runs(cfg: Settings) -> None:
    """While nothing runs, look every few seconds for a run started elsewhere (the daemon, the
    command line): one that is going, or one that came and went between two looks."""
    seen = live_runs.latest_run_id(cfg)

    @st.fragment(run_every=IDLE_POLL_SECONDS)
    def _idle() -> None:
        if run_active(cfg.db) or live_runs.latest_run_id(cfg) != seen:
            st.rerun()

    _idle()


def running(cfg: Settings) -> bool:
    """A run holds this warehouse now (started here, in another tab or elsewhere)."""
    return _running(cfg, runs.current(cfg.db))


def _running(cfg: Settings, live: runs.LiveRun | None) -> bool:
    return (live is not None and live.active) or run_active(cfg.db)


def run_token(live: runs.LiveRun) -> str:
    """What a session remembers of the run it started, to show that run's outcome to it."""
    return _token(live)


def _token(live: runs.LiveRun) -> str:
    return f"{live.db}@{live.started_at.isoformat()}"


def _render_view(cfg: Settings, view: live_runs.LiveView) -> None:
    """A run in progress: what each asset is doing now, the checks so far, and Cancel."""
    run = view.run
    who = escape_markdown(words.launched_from(run.launched_by), one_line=True)
    noun = "asset" if view.total == 1 else "assets"
    # Not st.status: its spinner turns into a check mark between two fragment ticks, as if
    # the run had finished. A bordered box with a progress bar says "running" all along.
    box = st.container(border=True)
    head, button = box.columns([4, 1], vertical_alignment="center")
    done = "checked" if view.checks_only else "done"
    head.markdown(
        f"**:blue[:material/progress_activity:] Run {run.run_id} ({escape_markdown(run.kind)},"
        f" from {who}): {view.done} of {view.total} {noun} {done}…**"
    )
    if view.cancelling:
        by = escape_markdown(run.cancel_requested_by or "someone", one_line=True)
        button.caption(f":material/hourglass_top: cancelling (asked by {by})…")
    elif button.button(
        "Cancel run",
        key=state.BTN_CANCEL_RUN,
        icon=":material/stop_circle:",
        help="Stop the run: what is being built now is rolled back, nothing new starts, and"
        " the history records what was and was not built.",
        width="stretch",
    ):
        runs.cancel(cfg.db, run.run_id, by="the Cancel button in the dashboard")
        button.caption(":material/hourglass_top: cancelling…")
    box.progress(view.done / view.total if view.total else 0.0, text=f"{view.done} / {view.total}")
    with box:
        if view.backfill is not None:
            backfill, progress = view.backfill
            st.caption(
                f":material/calendar_view_month: Backfill {backfill.backfill_id}: {progress}"
            )
        for event in view.events:
            shown = badge(event.status, EventStatus)
            line = f"**{escape_markdown(event.asset, one_line=True)}** {shown}"
            if counts := view.partition_counts(event.asset):
                line += " · " + ", ".join(
                    f"{n} partition{'s' if n != 1 else ''} {look(s).label.lower()}"
                    for s, n in counts.items()
                )
            if (elapsed := view.elapsed_s(event)) is not None:
                line += f" · {formatting.format_duration(elapsed)}"
            st.markdown(line)
            if event.error and event.status in ("failed", "skipped"):
                error_text(event.error)
        if view.checks:
            st.markdown(_check_line(view.checks))
        for record in view.checks:
            if record.outcome in ("failed", "error", "warned"):
                key = escape_markdown(record.key, one_line=True)
                message = escape_markdown(words.check_message(record))
                st.markdown(f"{badge(record.outcome, CheckOutcome)} **{key}** — {message}")


def _render_live(live: runs.LiveRun) -> None:
    done, total = live.progress()
    noun = "asset" if total == 1 else "assets"
    records = live.check_records()
    if live.active:
        label = f"{live.label}: {done} of {total} {noun} done…"
    else:  # succeeded, failed, cancelled: the history's word for how it ended
        ended = look(live.status or RunStatus.FAILED).label.lower()
        label = f"{live.label}: {ended} — {_outcome_text(live, records)}"
    label = escape_markdown(label, one_line=True)  # the run's label names the asset clicked
    if live.active:
        # Not st.status: its spinner turns into a check mark between two fragment ticks, as if
        # the run had finished. A bordered box with a progress bar says "running" all along.
        box = st.container(border=True)
        box.markdown(f"**:blue[:material/progress_activity:] {label}**")
        box.progress(done / total if total else 0.0, text=f"{done} / {total} {noun}")
    else:
        box = st.status(label, state="complete" if live.ok else "error", expanded=not live.ok)
    if live.left_out and not live.active:  # beside the outcome, not folded away inside it
        st.info(_left_out_text(live.left_out, "this run left"), icon=":material/info:")
    snapshot = live.snapshot()
    if not live.active and live.run_id is None and set(snapshot.values()) <= {"pending"}:
        snapshot = {}  # it never started: nothing was queued, the error below says why
    with box:
        for name, event_status in snapshot.items():
            shown = _LIVE_WORDS.get(event_status) or badge(event_status, EventStatus)
            line = f"**{escape_markdown(name, one_line=True)}** {shown}"
            if note := next((r.checked_build for r in records if r.asset == name), None):
                line += f" · {escape_markdown(note, one_line=True)}"  # not its latest build
            error = live.asset_error.get(name)
            st.markdown(line)
            if error and event_status in ("failed", "skipped"):
                error_text(error)
        if records:
            st.markdown(_check_line(records))
        for record in records:
            if record.outcome in ("failed", "error", "warned"):
                key = escape_markdown(record.key, one_line=True)
                message = escape_markdown(words.check_message(record))
                st.markdown(f"{badge(record.outcome, CheckOutcome)} **{key}** — {message}")
        if live.error:
            st.error(escape_markdown(live.error), icon=":material/error:")
        if not live.active and live.run_id is not None:
            st.page_link(
                "views/runs.py",
                label=f"Open run {live.run_id} in the run history",
                icon=":material/history:",
                query_params={state.QP_RUN: str(live.run_id)},
            )


def _left_out_text(names: Sequence[str], who: str) -> str:
    """'adhoc_request needs run config, so this run left it out: ...' (Markdown, escaped)."""
    shown = escape_markdown(", ".join(names), one_line=True)
    one = len(names) == 1
    return (
        f"**{shown}** {'needs' if one else 'need'} run config, so {who} {'it' if one else 'them'}"
        f" out: build {'it' if one else 'each'} with its Run config form on the Asset graph page."
    )


def _outcome_text(live: runs.LiveRun, records: list[CheckRecord]) -> str:
    """'4 assets built, 3 checks failed' or the reason the run could not complete."""
    statuses = list(live.snapshot().values())
    parts = []
    if live.kind == "materialize":
        built = statuses.count("materialized")
        parts.append(f"{built} asset{'s' if built != 1 else ''} built")
        for status in ("failed", "skipped"):
            if count := statuses.count(status):
                parts.append(f"{count} {status}")
        if unbuilt := sum(statuses.count(s) for s in ("cancelled", "interrupted", "not_started")):
            parts.append(f"{unbuilt} not built")
        if live.left_out and not live.active:
            parts.append(f"{len(live.left_out)} left out (needs run config)")
    if records:  # by the rule of the Runs page: all passed only when every planned check did
        parts.append(words.record_counts(records))
    if live.error and not records and not any(s != "pending" for s in statuses):
        return "it could not start, see below"
    return ", ".join(parts)


def _check_line(records: list[CheckRecord]) -> str:
    outcomes = [r.outcome for r in records]
    parts = [
        f"{outcomes.count(o)} {look(o).label.lower()}" for o in CheckOutcome if outcomes.count(o)
    ]
    return "Checks: " + ", ".join(parts)


def tinted(frame: pd.DataFrame, column: str, states: Sequence[StrEnum | None]) -> Styler:
    """The frame with `column` tinted by each row's state (one per row, in order), for
    st.dataframe: colours follow the state, never the text shown."""
    tints = [f"background-color: {look(s).tint}" if s is not None else "" for s in states]
    return frame.style.apply(lambda _: tints, subset=[column])


def metric_row(items: Sequence[tuple[str, int | str]], help: Sequence[str | None] = ()) -> None:
    """Bordered metrics in a row that wraps: each as wide as its text needs, so a label or a
    figure is never cut off on a narrow screen (columns would squeeze them to an ellipsis)."""
    with st.container(horizontal=True, wrap=True):
        for i, (label, value) in enumerate(items):
            shown = f"{value:,}" if isinstance(value, int) else value
            st.metric(label, shown, border=True, help=help[i] if i < len(help) else None)


def run_box(status: RunStatus, text: str) -> None:
    """A run's one-paragraph summary in the box its status calls for."""
    icon = f":material/{look(status).icon}:"
    if status == RunStatus.SUCCESS:
        st.success(text, icon=icon)
    elif status == RunStatus.RUNNING:
        st.info(text, icon=icon)
    elif status == RunStatus.FAILED:
        st.error(text, icon=icon)
    else:  # cancelled, interrupted: nothing wrong with the data, the run did not finish
        st.warning(text, icon=icon)


def error_text(message: str) -> None:
    """An error message from DuckDB or a check, monospaced so its caret line (^^^) lines up."""
    st.code(message, language="text", wrap_lines=True)


def table_height(rows: int, limit: int = 20) -> int:
    """Pixels for st.dataframe to show `rows` rows (up to `limit`) without a scroll bar."""
    return 35 * (min(rows, limit) + 1) + 3


def empty_state(message: str) -> None:
    """The same look for every 'nothing here yet, do this next' message.

    `message` is Markdown: escape any name or value in it with `escape_markdown`.
    """
    st.info(message, icon=":material/lightbulb:")
