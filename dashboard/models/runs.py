"""The Runs page: the history table, backfills with their progress (resume, cancel), and one
run's timeline, errors and checks. A run still going shows the counts its records have so
far, the same as the live panel."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime

import pandas as pd

from dashboard import runs
from dashboard.formatting import (
    format_count,
    format_duration,
    format_time,
    format_value,
    timezone_name,
)
from dashboard.models import words
from dashboard.models.reading import history
from dashboard.settings import Settings
from pipeline import backfills, store
from pipeline.backfills import Progress
from pipeline.definitions import Definitions
from pipeline.looks import look
from pipeline.partition_runs import PartitionRequest
from pipeline.states import CheckOutcome, EventStatus, RunStatus
from pipeline.store import PartitionCheck, PartitionEvent, RunRecord
from pipeline.store import automation as ticks_store
from pipeline.warehouse import run_active


def live_counts(con: sqlite3.Connection, run: RunRecord) -> RunRecord:
    """`run` with its counts taken from its records while it is running (its own are written
    at the end): the tables then agree with the live panel."""
    if run.status != RunStatus.RUNNING:
        return run
    events = [e.status for e in store.run_events(con, run.run_id)]
    outcomes = [c.outcome for c in store.run_check_results(con, run.run_id)]
    skipped = outcomes.count(CheckOutcome.SKIPPED)
    return replace(
        run,
        assets_materialized=events.count(EventStatus.MATERIALIZED),
        assets_failed=events.count(EventStatus.FAILED),
        assets_skipped=events.count(EventStatus.SKIPPED),
        checks_passed=outcomes.count(CheckOutcome.PASSED),
        checks_warned=outcomes.count(CheckOutcome.WARNED),
        checks_failed=outcomes.count(CheckOutcome.FAILED),
        checks_errored=outcomes.count(CheckOutcome.ERROR),
        # as the engine counts at the end: planned minus those that ran (not run: not yet, or
        # recorded as not run because their asset was not built)
        checks_not_run=max(0, run.checks_planned - len(outcomes) + skipped),
    )


@dataclass
class RunsTable:
    frame: pd.DataFrame
    statuses: list[RunStatus] = field(default_factory=list)  # one per row, for its colour


def runs_table(cfg: Settings, limit: int = 100) -> RunsTable:
    """Run history, newest first, with the column names a person reads."""
    with history(cfg) as con:
        runs = [live_counts(con, run) for run in store.list_runs(con, limit)]
    zone = timezone_name()
    rows = [
        {
            "Run": run.run_id,
            f"Started ({zone})": format_time(run.started_at),
            "Outcome": look(run.status, RunStatus).label,
            "Selection": selection_shown(run.selection),
            "From": run.launched_by or "—",
            "Kind": "Materialize" if run.kind == "materialize" else "Checks only",
            "Assets": words.run_summary(run).split(" · ")[1] if run.kind == "materialize" else "—",
            "Checks": words.check_counts(run),
            "Duration": format_duration(run.duration_s),
        }
        for run in runs
    ]
    return RunsTable(pd.DataFrame(rows), [RunStatus(run.status) for run in runs])


_NOT_KEYS = ("missing", "failed")  # PartitionRequest.describe's words beside the keys


def selection_shown(selection: str | None) -> str:
    """A run's selection as the table shows it: a long list of partitions (the engine writes
    'name [k1, k2, ...]') shortened as the backfills show theirs, so the row stays readable;
    the run's own details give the selection in full."""
    if not selection:
        return "all assets"
    head, bracket, inner = selection.rpartition(" [")
    if not bracket or not inner.endswith("]"):
        return selection
    items = inner[:-1].split(", ")
    keys = [item for item in items if item not in _NOT_KEYS and "..." not in item]
    if len(keys) <= 3:
        return selection
    rest = [item for item in items if item not in keys]
    return f"{head} [{', '.join([_keys_text(keys), *rest])}]"


@dataclass
class RunError:
    """One error of a run: what it is about, whether it is a consequence (a skip), its text."""

    what: str
    consequence: bool
    headline: str
    text: str
    warning: bool = False  # a check that warned: worth reading, not a failure


# The run's checks in the order worth reading: what failed first, what passed last.
CHECKS_FIRST = [
    CheckOutcome.FAILED,
    CheckOutcome.ERROR,
    CheckOutcome.WARNED,
    CheckOutcome.SKIPPED,
    CheckOutcome.PASSED,
]
_TO_READ = (CheckOutcome.FAILED, CheckOutcome.ERROR, CheckOutcome.WARNED)


@dataclass
class RunDetails:
    run: RunRecord
    timeline: pd.DataFrame  # asset, status, start_s, end_s, duration, rows, error
    errors: list[RunError]
    checks: pd.DataFrame
    check_outcomes: list[CheckOutcome] = field(default_factory=list)  # one per checks row
    partitions: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per partition
    partition_statuses: list[EventStatus] = field(default_factory=list)  # one per row
    automation: tuple[str, int] | None = None  # (schedule or sensor, tick) that launched it


def run_details(cfg: Settings, run_id: int) -> RunDetails | None:
    """One run: per-asset timeline (seconds since the run started), errors, check results."""
    with history(cfg) as con:
        run = store.get_run(con, run_id)
        if run is None:
            return None
        run = live_counts(con, run)
        events = store.run_events(con, run_id)
        checks = store.run_check_results(con, run_id)
        partitions = store.run_partition_events(con, run_id)
        partition_checks = store.run_partition_checks(con, run_id)
        automation = ticks_store.requests_of_runs(con, [run_id]).get(run_id)
    rows = []
    for event in events:
        start = _offset(run, event.started_at)
        end = _offset(run, event.ended_at)
        if start is not None and end is None and event.duration_s is not None:
            end = start + event.duration_s
        rows.append(
            {
                "asset": event.asset,
                "status": look(event.status, EventStatus).label,
                "start_s": start,
                "end_s": end,
                "duration": format_duration(event.duration_s),
                "rows": event.row_count,
                "error": words.headline(event.error),
            }
        )
    timeline = pd.DataFrame(
        rows, columns=["asset", "status", "start_s", "end_s", "duration", "rows", "error"]
    )
    errors = []
    if run.message:
        errors.append(RunError("Run", False, words.headline(run.message), run.message))
    consequences = (EventStatus.SKIPPED, EventStatus.NOT_STARTED, EventStatus.CANCELLED)
    for event in events:
        consequence = event.status in consequences
        if event.error or consequence:  # every asset the run counts as not built is named
            error = event.error or "not built in this run"  # recorded before runs said why
            what = f"Asset {event.asset}: {look(event.status, EventStatus).label.lower()}"
            errors.append(
                RunError(what, consequence, words.headline(error), words.full_error(error))
            )
    checks = sorted(checks, key=lambda r: (CHECKS_FIRST.index(CheckOutcome(r.outcome)), r.key))
    for record in checks:  # failed, could not run, warned: each named under the asset errors
        if record.outcome in _TO_READ:
            what = f"Check {record.key}: {look(record.outcome, CheckOutcome).label.lower()}"
            text = words.full_error(record.error) if record.error else words.check_message(record)
            warned = record.outcome == CheckOutcome.WARNED
            errors.append(RunError(what, False, words.check_message(record), text, warned))
    frame = pd.DataFrame(
        [
            {
                "Check": r.key,
                "Outcome": look(r.outcome, CheckOutcome).label,
                "Severity": r.severity,
                "Observed": format_value(r.observed_value),
                "Rule": r.threshold or "—",
                "Failing rows": format_count(r.failing_count),
                "Duration": format_duration(r.duration_s),
                "Note": words.headline(r.error) or r.checked_build or "",
            }
            for r in checks
        ],
        columns=["Check", "Outcome", "Severity", "Observed", "Rule", "Failing rows",
                 "Duration", "Note"],
    )  # fmt: skip
    outcomes = [CheckOutcome(r.outcome) for r in checks]
    built = _partition_frame(partitions, partition_checks)
    statuses = [EventStatus(e.status) for e in partitions]
    return RunDetails(run, timeline, errors, frame, outcomes, built, statuses, automation)


PARTITION_COLUMNS = ["Asset", "Partition", "Status", "Rows", "Took", "Checks", "Error"]


def _partition_frame(events: list[PartitionEvent], checks: list[PartitionCheck]) -> pd.DataFrame:
    """Each partition the run worked on, with each of its checks there and how it went (the
    worst first): a blank would read as no check at all."""
    ordered = sorted(
        checks, key=lambda c: (CHECKS_FIRST.index(CheckOutcome(c.outcome)), c.check_name)
    )
    bad: dict[tuple[str, str], list[str]] = {}
    for check in ordered:
        word = look(check.outcome, CheckOutcome).label.lower()
        bad.setdefault((check.asset, check.partition_key), []).append(f"{check.check_name} {word}")
    return pd.DataFrame(
        [
            {
                "Asset": e.asset,
                "Partition": e.partition_key,
                "Status": look(e.status, EventStatus).label,
                "Rows": format_count(e.row_count),
                "Took": format_duration(e.duration_s),
                "Checks": ", ".join(bad.get((e.asset, e.partition_key), [])) or "—",
                "Error": words.headline(e.error),
            }
            for e in events
        ],
        columns=PARTITION_COLUMNS,
    )


def _offset(run: RunRecord, value: datetime | None) -> float | None:
    if value is None:
        return None
    return max(0.0, (value - run.started_at).total_seconds())


@dataclass
class BackfillRow:
    """One backfill as the Runs page shows it: progress, how it stands, its runs, what can
    be done with it now."""

    backfill_id: int
    status: RunStatus  # running only while one of its runs is going on
    progress: Progress
    assets: list[str]
    keys: str  # "2024-01-01 … 2024-03-01 (3 partitions)"
    created_at: datetime
    launched_by: str | None
    run_ids: list[int]
    active_run: int | None  # its run going on now, which Cancel stops

    @property
    def resumable(self) -> bool:
        """Something is left to build and none of its runs is going on."""
        return not self.progress.done and self.active_run is None

    @property
    def share(self) -> float:
        return self.progress.built / self.progress.total if self.progress.total else 0.0


def backfill_rows(cfg: Settings, limit: int = 20) -> list[BackfillRow]:
    """The newest backfills first. One recorded as running whose run is no longer going on
    (its process died) reads as interrupted, as `python -m pipeline backfills` says."""
    alive = run_active(cfg.db)
    with history(cfg) as con:
        found = store.list_backfills(con, limit)
        running = {run.run_id for run in store.running_runs(con)} if alive else set()
        progress = [backfills.progress(con, b) for b in found]
    rows = []
    for backfill, done in zip(found, progress, strict=True):
        active = next((r for r in reversed(backfill.run_ids) if r in running), None)
        status = RunStatus(backfill.status)
        if status == RunStatus.RUNNING and active is None:
            status = RunStatus.INTERRUPTED
        rows.append(
            BackfillRow(
                backfill.backfill_id,
                status,
                done,
                list(backfill.assets),
                _keys_text(backfill.partition_keys),
                backfill.created_at,
                backfill.launched_by,
                list(backfill.run_ids),
                active,
            )
        )
    return rows


def _keys_text(keys: list[str]) -> str:
    if len(keys) == 1:
        return keys[0]
    if len(keys) <= 3:
        return ", ".join(keys)
    return f"{keys[0]} … {keys[-1]} ({len(keys)} partitions)"


def resume_backfill(cfg: Settings, defs: Definitions, row: BackfillRow) -> runs.LiveRun:
    """Start a run that builds what none of the backfill's runs has built yet."""
    return runs.start(
        defs,
        cfg.db,
        None,
        kind="materialize",
        label=f"Resume backfill {row.backfill_id}",
        planned=row.assets,
        partitions=PartitionRequest(backfill=row.backfill_id),
    )


def cancel_backfill(cfg: Settings, row: BackfillRow) -> bool:
    """Stop the backfill's run going on now (its progress stays; Resume goes on later)."""
    if row.active_run is None:
        return False
    by = f"the Cancel button of backfill {row.backfill_id} in the dashboard"
    return runs.cancel(cfg.db, row.active_run, by=by)
