"""Bring the history back in line with the warehouse: after a crash, and from version 1.

The warehouse's ledger (ledger.py) commits with each table, so it is the truth about what the
DuckDB file holds. A run that died leaves the history behind it: runs still 'running', builds
committed but not recorded, assets 'queued' that never started. The next run repairs all of it
before it starts (it holds the run lock); a reader that finds a dead run repairs it too, under
the same lock, so `list` and the dashboard never show a dead run as running. Which checks a
dead run never ran only the definitions tell: the next run, which has them, records those as
not run because the process died, as a cancel records what it did not run.

Version 1 kept the history in the DuckDB file itself (schema `assetboard`); it is moved into the
SQLite history once, the same way.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline import guard, ledger, store
from pipeline.builder import relation_kind
from pipeline.checks_runner import skipped_checks
from pipeline.definitions import CheckDef, Definitions
from pipeline.errors import PipelineError
from pipeline.partition_runs import combined_check, partition_check
from pipeline.states import (
    CheckKey,
    CheckOutcome,
    EventStatus,
    NotRunReason,
    RunStatus,
    SkipReason,
)
from pipeline.store import (
    AssetEvent,
    CatalogEntry,
    CheckRecord,
    PartitionCheck,
    PartitionEntry,
    PartitionEvent,
    PartitionFacts,
    RunRecord,
)
from pipeline.store.records import _columns, _row, _upsert
from pipeline.warehouse import (
    REPAIR,
    FileIdentity,
    connect,
    quote_ident,
    scalar,
    try_run_lock,
    utcnow,
)

V1_TABLES = ("runs", "asset_events", "check_results", "meta")
# Read beside the status word ("interrupted", "not started"), so without it: never
# "interrupted: interrupted: ...".
DIED = "the process running it stopped before the run finished"
DIED_FIRST = "the process running the run stopped before it started"


@dataclass(frozen=True)
class Inspection:
    """What `inspect` read, so `prepare` does not read it again."""

    ledger: ledger.Standing
    has_v1_history: bool


def inspect(con: duckdb.DuckDBPyConnection) -> Inspection:
    """Read what a run will rely on (catalog, ledger): a damaged file fails here, first."""
    con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
    return Inspection(ledger.read(con), _has_v1_history(con))


def prepare(
    con: duckdb.DuckDBPyConnection,
    history: sqlite3.Connection,
    db: str | Path,
    seen: Inspection | None = None,
    defs: Definitions | None = None,
) -> int | None:
    """Make history and warehouse agree before a run (the caller holds the run lock); `seen`
    is what `inspect` read on this connection just before. With the run's `defs`, the checks a
    dead run never ran are recorded as not run (`_checks_not_run` says when it can tell).

    Returns the smallest run id the next run may take, so ids never go back even when the
    history file was lost and made anew.
    """
    known = seen.ledger if seen is not None else None
    ledger.ensure(con, known)
    if seen.has_v1_history if seen is not None else _has_v1_history(con):
        _migrate_v1(con, history)
        known = None
    if known is None or not known.up_to_date:
        known = ledger.read(con)
    entries = known.whole
    standing = guard.snapshot(con)  # one catalog query, not one per asset
    vanished = {name for name, e in entries.items() if standing.kind_of(name) != e.kind}
    ledger.compact(con, vanished)
    present = {name: e for name, e in entries.items() if name not in vanished}
    parts = {pair: e for pair, e in known.partitions.items() if pair[0] in present}
    _repair_runs(history, present, parts, defs)
    with store.transaction(history):
        store.replace_catalog(history, present.values())
        store.replace_partition_catalog(
            history,
            [
                PartitionEntry(asset, key, e.run_id, e.row_count, e.committed_at)
                for (asset, key), e in parts.items()
            ],
        )
        store.set_warehouse_identity(history, FileIdentity.of(Path(db)))
    newest = max((e.run_id or 0 for e in entries.values()), default=0)
    return newest + 1 if newest else None


def repair(db: str | Path) -> None:
    """For readers: repair a dead run or migrate a version-1 history, if nothing is running.

    Never waits: if a run or another process holds the files, or the place is read-only or
    full, the repair is left to whoever comes next and readers show what is recorded.
    """
    path = Path(db)
    with try_run_lock(path, REPAIR) as locked:
        if not locked:
            return
        try:
            if not store.history_exists(path) and not _file_has_v1_history(path):
                return
            with connect(path, wait_seconds=0) as con, store.open_writer(path) as history:
                prepare(con, history, path)
        except PipelineError:
            return


def _file_has_v1_history(path: Path) -> bool:
    try:
        with connect(path, wait_seconds=0, read_only=True) as con:
            return _has_v1_history(con)
    except PipelineError:
        return False


def _has_v1_history(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
            " AND schema_name = ? AND table_name = 'runs'",
            [ledger.SCHEMA],
        )
    )


def _repair_runs(
    history: sqlite3.Connection,
    present: dict[str, CatalogEntry],
    parts: dict[tuple[str, str], CatalogEntry],
    defs: Definitions | None = None,
) -> list[int]:
    """Finish every run left 'running' and record every committed build the history lacks
    (a partitioned asset's builds are its partitions': recorded one by one); with `defs`, the
    checks dead runs never ran, also of runs a reader repaired before without definitions."""
    dead = store.running_runs(history)
    _repair_partitions(history, dead, parts)
    whole = {name: e for name, e in present.items() if name not in {a for a, _ in parts}}
    events, touched = [], {run.run_id: run for run in dead}
    for run in dead:
        for event in store.run_events(history, run.run_id):
            if event.status == EventStatus.QUEUED:
                event.status, event.error = EventStatus.NOT_STARTED, DIED_FIRST
            elif event.status == EventStatus.RUNNING:
                event.status = EventStatus.INTERRUPTED
                event.error = (
                    f"{DIED}; nothing of it was committed: the previous {event.kind} is kept"
                )
            else:
                continue
            event.ended_at = event.ended_at or utcnow()
            events.append(event)
    committed = _unrecorded_builds(history, whole)
    for event in committed:
        found = store.get_run(history, event.run_id) if event.run_id not in touched else None
        if found is not None:
            touched[event.run_id] = found
    by_key = {(e.run_id, e.asset): e for e in events}
    by_key.update({(e.run_id, e.asset): e for e in committed})
    store.record(history, by_key.values())
    if defs is not None:
        for run in [*dead, *store.runs_lacking_checks(history)]:
            checks, partition_checks = _checks_not_run(history, run, defs)
            if checks:
                store.record(
                    history, checks=checks, partitions=PartitionFacts(checks=partition_checks)
                )
                touched.setdefault(run.run_id, run)
    for run in touched.values():
        _recount(history, run, in_doubt=run.status == RunStatus.RUNNING)
    return sorted(touched)


def _repair_partitions(
    history: sqlite3.Connection,
    dead: list[RunRecord],
    parts: dict[tuple[str, str], CatalogEntry],
) -> None:
    """Partitions a dead run was building become interrupted; partitions the ledger says were
    committed and the history does not, materialized."""
    repaired: dict[tuple[int, str, str], PartitionEvent] = {}
    for run in dead:
        for event in store.run_partition_events(history, run.run_id):
            if event.status == EventStatus.RUNNING:
                event.status, event.ended_at = EventStatus.INTERRUPTED, event.ended_at or utcnow()
                event.error = f"{DIED}; nothing of it was committed: its previous rows are kept"
                repaired[(event.run_id, event.asset, event.partition_key)] = event
    runs: dict[int, dict[tuple[str, str], PartitionEvent]] = {}
    for (asset, key), entry in parts.items():
        if entry.run_id is None:
            continue
        if entry.run_id not in runs:
            runs[entry.run_id] = {
                (e.asset, e.partition_key): e
                for e in store.run_partition_events(history, entry.run_id)
            }
        known = runs[entry.run_id].get((asset, key))
        if known is not None and known.status == EventStatus.MATERIALIZED:
            continue
        if known is None and store.get_run(history, entry.run_id) is None:
            continue  # a run this history never knew
        repaired[(entry.run_id, asset, key)] = PartitionEvent(
            entry.run_id,
            asset,
            key,
            EventStatus.MATERIALIZED,
            started_at=known.started_at if known else None,
            ended_at=entry.committed_at,
            row_count=entry.row_count,
        )
    if repaired:
        store.record(history, partitions=PartitionFacts(events=list(repaired.values())))


def _checks_not_run(
    history: sqlite3.Connection, run: RunRecord, defs: Definitions
) -> tuple[list[CheckRecord], list[PartitionCheck]]:
    """The planned checks of a dead run that have no record, as not run because its process
    died: each planned check then has one record, as a cancelled run leaves them.

    The planned checks are those `defs` give the run's planned assets now; a per-partition
    check gets a record on each partition the run has an event for (partitions it never
    reached left no trace), and the run's record adds them up as a finished run's does. If the
    definitions changed since, so that these checks and the recorded ones do not make the
    run's `checks_planned`, nothing is recorded: the history keeps only what is known.
    """
    if not all(name in defs.assets for name in run.planned):
        return [], []
    planned = {c.key: c for name in run.planned for c in defs.checks_for(name)}
    recorded = {c.key for c in store.run_check_results(history, run.run_id)}
    if len(recorded | set(planned)) != run.checks_planned:
        return [], []
    missing = [c for key, c in planned.items() if key not in recorded]
    keys: dict[str, set[str]] = {}
    for event in store.run_partition_events(history, run.run_id):
        keys.setdefault(event.asset, set()).add(event.partition_key)
    found: dict[tuple[str, str], dict[str, CheckRecord]] = {}
    for row in store.run_partition_checks(history, run.run_id):
        found.setdefault((row.asset, row.check_name), {})[row.partition_key] = CheckRecord(
            row.run_id,
            row.asset,
            row.check_name,
            row.outcome,
            row.severity,
            observed_value=row.observed_value,
            failing_count=row.failing_count,
            error=row.error,
            skip_reason=row.skip_reason,
        )
    checks, partition_rows = [], []
    for check in missing:
        (not_run,) = skipped_checks([check], run.run_id, NotRunReason.PROCESS_DIED)
        if not _per_partition(check, defs) or not keys.get(check.asset):
            checks.append(not_run)
            continue
        by_key = found.get((check.asset, check.name), {})
        for key in sorted(keys[check.asset] - set(by_key)):
            by_key[key] = not_run
            partition_rows.append(partition_check(not_run, key))
        checks.append(combined_check(check, run.run_id, by_key))
    return checks, partition_rows


def _per_partition(check: CheckDef, defs: Definitions) -> bool:
    """Whether a run checks `check` on each partition it builds (runner_partitions.py)."""
    asset = defs.assets[check.asset]
    return asset.partitions is not None and check.per_partition and not check.waits_for


def _unrecorded_builds(
    history: sqlite3.Connection, present: dict[str, CatalogEntry]
) -> list[AssetEvent]:
    """Builds the ledger says were committed whose event does not say materialized."""
    found = []
    events_of: dict[int, dict[str, AssetEvent]] = {}  # each run's events read once
    for entry in present.values():
        if entry.run_id is None:
            continue
        if entry.run_id not in events_of:
            events = store.run_events(history, entry.run_id)
            events_of[entry.run_id] = {e.asset: e for e in events}
        event = events_of[entry.run_id].get(entry.asset)
        if event is not None and event.status == EventStatus.MATERIALIZED:
            continue
        if event is None and store.get_run(history, entry.run_id) is None:
            continue  # a run this history never knew (the file was made anew): catalog only
        found.append(
            AssetEvent(
                entry.run_id,
                entry.asset,
                EventStatus.MATERIALIZED,
                entry.kind,
                started_at=event.started_at if event else None,
                ended_at=entry.committed_at,
                row_count=entry.row_count,
                columns=entry.columns,
                preview=entry.preview,
                code_version=entry.code_version,
                error=None,
            )
        )
    return found


def _recount(history: sqlite3.Connection, run: RunRecord, in_doubt: bool) -> None:
    """A repaired run's status and counts, from what its records now say."""
    events = store.run_events(history, run.run_id)
    checks = store.run_check_results(history, run.run_id)
    statuses = [e.status for e in events]
    run.assets_materialized = statuses.count(EventStatus.MATERIALIZED)
    run.assets_failed = statuses.count(EventStatus.FAILED)
    run.assets_skipped = statuses.count(EventStatus.SKIPPED)
    run.assets_not_built = sum(
        statuses.count(s)
        for s in (EventStatus.CANCELLED, EventStatus.INTERRUPTED, EventStatus.NOT_STARTED)
    )
    outcomes = [c.outcome for c in checks]
    run.checks_planned = run.checks_planned or len(checks)  # version 1 did not record it
    run.checks_passed = outcomes.count(CheckOutcome.PASSED)
    run.checks_warned = outcomes.count(CheckOutcome.WARNED)
    run.checks_failed = outcomes.count(CheckOutcome.FAILED)
    run.checks_errored = outcomes.count(CheckOutcome.ERROR)
    ran = len(outcomes) - outcomes.count(CheckOutcome.SKIPPED)
    run.checks_not_run = max(0, run.checks_planned - ran)
    if in_doubt:
        run.status, run.ended_at = RunStatus.INTERRUPTED, run.ended_at or utcnow()
        built = run.assets_materialized
        run.message = (
            f"{DIED}. Repaired from the warehouse: {built} asset{'s' if built != 1 else ''}"
            " committed before it stopped are recorded; nothing else of it was kept"
        )
    store.update_run(history, run)


# --- version 1 -----------------------------------------------------------------------------


def _migrate_v1(con: duckdb.DuckDBPyConnection, history: sqlite3.Connection) -> None:
    """Copy a version-1 history out of the DuckDB file, then drop it there."""
    migrated = history.execute("SELECT value FROM meta WHERE key = 'migrated_v1'").fetchone()
    if migrated is None:
        runs = _v1_rows(con, "runs")
        events = _v1_rows(con, "asset_events")
        checks = _v1_rows(con, "check_results")
        with store.transaction(history):
            for row in runs:
                run = _v1_run(row)
                names = _columns(RunRecord)
                history.execute(
                    f"INSERT OR REPLACE INTO runs ({', '.join(names)})"
                    f" VALUES ({', '.join('?' * len(names))})",
                    _row(run),
                )
            history.executemany(
                _upsert("asset_events", AssetEvent),
                [_row(_v1_event(row)) for row in events],
            )
            history.executemany(
                _upsert("check_results", CheckRecord),
                [_row(_v1_check(row)) for row in checks],
            )
            history.execute("INSERT INTO meta VALUES ('migrated_v1', ?)", [utcnow().isoformat()])
        for run in store.list_runs(history, 1_000_000):
            _recount(history, run, in_doubt=False)
    con.execute("BEGIN TRANSACTION")
    try:
        _ledger_from_v1(con, history)
        for table in V1_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {ledger.SCHEMA}.{quote_ident(table)}")
        con.execute(f"DROP SEQUENCE IF EXISTS {ledger.SCHEMA}.run_ids")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _v1_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict]:
    cursor = con.execute(f"SELECT * FROM {ledger.SCHEMA}.{table}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _json(value: str | None, empty: Any) -> Any:
    return json.loads(value) if value else empty


def _v1_run(row: dict) -> RunRecord:
    return RunRecord(
        run_id=row["run_id"],
        kind=row["kind"],
        selection=row["selection"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        pid=row["pid"],
        launched_by="version 1",
        planned=_json(row["planned"], []),
        message=row["message"],
    )


# Version 1 said why an asset was skipped only in prose; read once here, kept as facts after.
_V1_BLOCKED = re.compile(r"upstream '([^']+)' is blocked by failed check '([^']+)'")
_V1_UPSTREAM = re.compile(r"upstream '([^']+)' (failed|was skipped)")


def _v1_skip_facts(error: str | None) -> dict[str, object]:
    if match := _V1_BLOCKED.search(error or ""):
        asset, _, name = match.group(2).partition(".")
        return {
            "skip_reason": SkipReason.BLOCKED_BY_CHECK,
            "upstream": match.group(1),
            "blocked_by": CheckKey(asset, name),
        }
    if match := _V1_UPSTREAM.search(error or ""):
        failed = match.group(2) == "failed"
        reason = SkipReason.UPSTREAM_FAILED if failed else SkipReason.UPSTREAM_SKIPPED
        return {"skip_reason": reason, "upstream": match.group(1)}
    return {}


def _v1_event(row: dict) -> AssetEvent:
    status = row["status"]
    if status == "running":
        status = EventStatus.INTERRUPTED
    facts = _v1_skip_facts(row["error"]) if status == EventStatus.SKIPPED else {}
    return AssetEvent(
        run_id=row["run_id"],
        asset=row["asset"],
        status=status,
        kind=row["kind"] or "table",
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        row_count=row["row_count"],
        columns=_json(row["columns"], []),
        preview=_json(row["preview"], []),
        code_version=row["code_version"],
        error=row["error"],
        **facts,  # type: ignore[arg-type]
    )


def _v1_check(row: dict) -> CheckRecord:
    return CheckRecord(
        run_id=row["run_id"],
        asset=row["asset"],
        check_name=row["check_name"],
        outcome=row["outcome"],
        severity=row["severity"] or "error",
        blocking=bool(row["blocking"]),
        description=row["description"],
        started_at=row["started_at"],
        duration_s=row["duration_s"],
        observed_value=row["observed_value"],
        threshold=row["threshold"],
        failing_count=row["failing_count"],
        failing_sample=_json(row["failing_sample"], []),
        metadata=_json(row["metadata"], {}),
        sql=row["sql"],
        error=row["error"],
    )


def _ledger_from_v1(con: duckdb.DuckDBPyConnection, history: sqlite3.Connection) -> None:
    """One ledger row per asset whose last v1 build still stands, with its real row count."""
    known = ledger.current(con)
    for name, event in store.latest_events(history, EventStatus.MATERIALIZED).items():
        if name in known or relation_kind(con, name) != event.kind:
            continue
        count = scalar(con, f"SELECT count(*) FROM {quote_ident(name)}")
        ledger.add(
            con,
            CatalogEntry(
                name,
                event.run_id,
                event.kind,
                count,
                event.columns,
                event.preview,
                event.code_version,
                event.ended_at,
            ),
        )
