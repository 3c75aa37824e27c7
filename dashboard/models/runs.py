"""The Runs page: the history table, and one run's timeline, errors and checks. A run still
going shows the counts its records have so far, the same as the live panel."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime

import pandas as pd

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
from pipeline import store
from pipeline.looks import look
from pipeline.states import CheckOutcome, EventStatus, RunStatus
from pipeline.store import RunRecord


def live_counts(con: sqlite3.Connection, run: RunRecord) -> RunRecord:
    """`run` with its counts taken from its records while it is running (its own are written
    at the end): the tables then agree with the live panel."""
    if run.status != RunStatus.RUNNING:
        return run
    events = [e.status for e in store.run_events(con, run.run_id)]
    outcomes = [c.outcome for c in store.run_check_results(con, run.run_id)]
    return replace(
        run,
        assets_materialized=events.count(EventStatus.MATERIALIZED),
        assets_failed=events.count(EventStatus.FAILED),
        assets_skipped=events.count(EventStatus.SKIPPED),
        checks_passed=outcomes.count(CheckOutcome.PASSED),
        checks_warned=outcomes.count(CheckOutcome.WARNED),
        checks_failed=outcomes.count(CheckOutcome.FAILED),
        checks_errored=outcomes.count(CheckOutcome.ERROR),
        checks_not_run=max(0, run.checks_planned - len(outcomes)),
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
            "Duration": format_duration(run.duration_s),
            "Kind": "Materialize" if run.kind == "materialize" else "Checks only",
            "Selection": run.selection or "all assets",
            "From": run.launched_by or "—",
            "Outcome": look(run.status, RunStatus).label,
            "Assets": words.run_summary(run).split(" · ")[1] if run.kind == "materialize" else "—",
            "Checks": words.check_counts(run),
        }
        for run in runs
    ]
    return RunsTable(pd.DataFrame(rows), [RunStatus(run.status) for run in runs])


@dataclass
class RunError:
    """One error of a run: what it is about, whether it is a consequence (a skip), its text."""

    what: str
    consequence: bool
    headline: str
    text: str


@dataclass
class RunDetails:
    run: RunRecord
    timeline: pd.DataFrame  # asset, status, start_s, end_s, duration, rows, error
    errors: list[RunError]
    checks: pd.DataFrame
    check_outcomes: list[CheckOutcome] = field(default_factory=list)  # one per checks row


def run_details(cfg: Settings, run_id: int) -> RunDetails | None:
    """One run: per-asset timeline (seconds since the run started), errors, check results."""
    with history(cfg) as con:
        run = store.get_run(con, run_id)
        if run is None:
            return None
        run = live_counts(con, run)
        events = store.run_events(con, run_id)
        checks = store.run_check_results(con, run_id)
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
        if event.error:
            what = f"Asset {event.asset}: {look(event.status, EventStatus).label.lower()}"
            consequence = event.status in consequences
            errors.append(
                RunError(
                    what, consequence, words.headline(event.error), words.full_error(event.error)
                )
            )
    for record in checks:
        if record.error and record.outcome != CheckOutcome.SKIPPED:
            what = f"Check {record.key}: {look(record.outcome, CheckOutcome).label.lower()}"
            errors.append(
                RunError(what, False, words.headline(record.error), words.full_error(record.error))
            )
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
                "Note": words.headline(r.error),
            }
            for r in checks
        ],
        columns=["Check", "Outcome", "Severity", "Observed", "Rule", "Failing rows",
                 "Duration", "Note"],
    )  # fmt: skip
    return RunDetails(run, timeline, errors, frame, [CheckOutcome(r.outcome) for r in checks])


def _offset(run: RunRecord, value: datetime | None) -> float | None:
    if value is None:
        return None
    return max(0.0, (value - run.started_at).total_seconds())
