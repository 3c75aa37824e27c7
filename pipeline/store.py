"""The only module that reads and writes run history: runs, asset events and check results.

They live in the `assetboard` schema of the same DuckDB file as the assets, versioned so a newer
layout is never misread. Every function takes an open connection; callers keep it short-lived.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline.errors import PipelineError
from pipeline.warehouse import connect, run_active, utcnow

SCHEMA = "assetboard"
SCHEMA_VERSION = 1

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (key VARCHAR, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.run_ids START 1;
CREATE TABLE IF NOT EXISTS {SCHEMA}.runs (
    run_id BIGINT, kind VARCHAR, selection VARCHAR, status VARCHAR,
    started_at TIMESTAMP, ended_at TIMESTAMP, pid INTEGER, planned VARCHAR, message VARCHAR,
    assets_materialized INTEGER, assets_failed INTEGER, assets_skipped INTEGER,
    checks_passed INTEGER, checks_warned INTEGER, checks_failed INTEGER);
CREATE TABLE IF NOT EXISTS {SCHEMA}.asset_events (
    run_id BIGINT, asset VARCHAR, status VARCHAR, kind VARCHAR,
    started_at TIMESTAMP, ended_at TIMESTAMP, duration_s DOUBLE, row_count BIGINT,
    columns VARCHAR, preview VARCHAR, code_version VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS {SCHEMA}.check_results (
    run_id BIGINT, asset VARCHAR, check_name VARCHAR, outcome VARCHAR, severity VARCHAR,
    blocking BOOLEAN, description VARCHAR, started_at TIMESTAMP, duration_s DOUBLE,
    observed_value DOUBLE, threshold VARCHAR, failing_count BIGINT, failing_sample VARCHAR,
    metadata VARCHAR, sql VARCHAR, error VARCHAR);
"""


@dataclass
class RunRecord:
    run_id: int
    kind: str  # materialize | checks
    selection: str | None
    status: str  # running | success | failed | interrupted
    started_at: datetime
    ended_at: datetime | None = None
    pid: int | None = None
    planned: list[str] = field(default_factory=list)
    message: str | None = None
    assets_materialized: int = 0
    assets_failed: int = 0
    assets_skipped: int = 0
    checks_passed: int = 0
    checks_warned: int = 0
    checks_failed: int = 0

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass
class AssetEvent:
    run_id: int
    asset: str
    status: str  # running | materialized | failed | skipped
    kind: str = "table"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    row_count: int | None = None
    columns: list[list[str]] = field(default_factory=list)  # [name, type]
    preview: list[dict[str, Any]] = field(default_factory=list)
    code_version: str | None = None
    error: str | None = None


@dataclass
class CheckRecord:
    run_id: int
    asset: str
    check_name: str
    outcome: str  # passed | warned | failed | error | skipped
    severity: str = "error"
    blocking: bool = False
    description: str | None = None
    started_at: datetime | None = None
    duration_s: float | None = None
    observed_value: float | None = None
    threshold: str | None = None
    failing_count: int | None = None
    failing_sample: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    sql: str | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.asset}.{self.check_name}"


def jsonable(value: Any) -> Any:
    """Keep JSON's own types; show everything else (dates, decimals) as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_JSON_FIELDS = {"planned", "columns", "preview", "failing_sample", "metadata"}


def _columns(record_type: type) -> list[str]:
    return [f.name for f in fields(record_type)]


def _to_row(record: Any) -> list[Any]:
    return [
        json.dumps(getattr(record, name), default=str)
        if name in _JSON_FIELDS
        else getattr(record, name)
        for name in _columns(type(record))
    ]


def _from_rows(record_type: type, cursor: duckdb.DuckDBPyConnection) -> list[Any]:
    names = [d[0] for d in cursor.description]
    records = []
    for row in cursor.fetchall():
        values = dict(zip(names, row, strict=True))
        for name in _JSON_FIELDS & values.keys():
            values[name] = json.loads(values[name]) if values[name] else type(values[name])()
        records.append(record_type(**values))
    return records


def _select(record_type: type, table: str) -> str:
    return f"SELECT {', '.join(_columns(record_type))} FROM {SCHEMA}.{table}"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the history tables on first use; refuse a file written by a newer layout."""
    con.execute(_DDL)
    row = con.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        con.execute(
            f"INSERT INTO {SCHEMA}.meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )
    elif int(row[0]) > SCHEMA_VERSION:
        raise PipelineError(
            f"this database's run history has schema version {row[0]}, newer than this"
            f" Assetboard understands ({SCHEMA_VERSION}); upgrade Assetboard"
        )


def mark_interrupted(
    con: duckdb.DuckDBPyConnection, started_before: datetime | None = None
) -> None:
    """Runs left 'running' by a process that died are shown as interrupted, not running.

    `started_before` spares a run that took the run lock after the caller found it free.
    """
    message = "interrupted: the process running it stopped before the run finished"
    dead = f"SELECT run_id FROM {SCHEMA}.runs WHERE status = 'running' AND started_at < ?"
    before = started_before or datetime.max
    con.execute(
        f"UPDATE {SCHEMA}.asset_events SET status = 'failed', error = ?"
        f" WHERE status = 'running' AND run_id IN ({dead})",
        [message, before],
    )
    con.execute(
        f"UPDATE {SCHEMA}.runs SET status = 'interrupted', message = ? WHERE run_id IN ({dead})",
        [message, before],
    )


@contextmanager
def open_store(
    db: str | Path, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection with the history tables ready and dead runs marked."""
    with connect(db, wait_seconds) as con:
        ensure_schema(con)
        checked_at = utcnow()
        if not run_active(db):
            mark_interrupted(con, started_before=checked_at)
        yield con


def start_run(
    con: duckdb.DuckDBPyConnection, kind: str, selection: str | None, planned: list[str]
) -> RunRecord:
    run_id = con.execute(f"SELECT nextval('{SCHEMA}.run_ids')").fetchone()[0]
    run = RunRecord(run_id, kind, selection, "running", utcnow(), pid=os.getpid(), planned=planned)
    con.execute(
        f"INSERT INTO {SCHEMA}.runs ({', '.join(_columns(RunRecord))}) VALUES"
        f" ({', '.join('?' * len(_columns(RunRecord)))})",
        _to_row(run),
    )
    return run


def finish_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> None:
    names = [n for n in _columns(RunRecord) if n != "run_id"]
    assignments = ", ".join(f"{name} = ?" for name in names)
    values = dict(zip(_columns(RunRecord), _to_row(run), strict=True))
    con.execute(
        f"UPDATE {SCHEMA}.runs SET {assignments} WHERE run_id = ?",
        [values[name] for name in names] + [run.run_id],
    )


def record_asset_event(con: duckdb.DuckDBPyConnection, event: AssetEvent) -> None:
    """Insert or replace the event of one asset in one run (running, then its outcome)."""
    con.execute(
        f"DELETE FROM {SCHEMA}.asset_events WHERE run_id = ? AND asset = ?",
        [event.run_id, event.asset],
    )
    con.execute(
        f"INSERT INTO {SCHEMA}.asset_events ({', '.join(_columns(AssetEvent))}) VALUES"
        f" ({', '.join('?' * len(_columns(AssetEvent)))})",
        _to_row(event),
    )


def record_check(con: duckdb.DuckDBPyConnection, record: CheckRecord) -> None:
    con.execute(
        f"INSERT INTO {SCHEMA}.check_results ({', '.join(_columns(CheckRecord))}) VALUES"
        f" ({', '.join('?' * len(_columns(CheckRecord)))})",
        _to_row(record),
    )


def list_runs(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[RunRecord]:
    con.execute(f"{_select(RunRecord, 'runs')} ORDER BY run_id DESC LIMIT ?", [limit])
    return _from_rows(RunRecord, con)


def get_run(con: duckdb.DuckDBPyConnection, run_id: int) -> RunRecord | None:
    con.execute(f"{_select(RunRecord, 'runs')} WHERE run_id = ?", [run_id])
    found = _from_rows(RunRecord, con)
    return found[0] if found else None


def run_events(con: duckdb.DuckDBPyConnection, run_id: int) -> list[AssetEvent]:
    con.execute(
        f"{_select(AssetEvent, 'asset_events')} WHERE run_id = ?"
        " ORDER BY started_at NULLS LAST, asset",
        [run_id],
    )
    return _from_rows(AssetEvent, con)


def run_check_results(con: duckdb.DuckDBPyConnection, run_id: int) -> list[CheckRecord]:
    con.execute(
        f"{_select(CheckRecord, 'check_results')} WHERE run_id = ? ORDER BY asset, check_name",
        [run_id],
    )
    return _from_rows(CheckRecord, con)


def asset_history(con: duckdb.DuckDBPyConnection, asset: str, limit: int = 200) -> list[AssetEvent]:
    """Newest first: every recorded event of one asset."""
    con.execute(
        f"{_select(AssetEvent, 'asset_events')} WHERE asset = ? ORDER BY run_id DESC LIMIT ?",
        [asset, limit],
    )
    return _from_rows(AssetEvent, con)


def check_history(
    con: duckdb.DuckDBPyConnection, asset: str | None = None, limit: int = 1000
) -> list[CheckRecord]:
    """Newest first: every recorded check execution, optionally of one asset's checks."""
    con.execute(
        f"{_select(CheckRecord, 'check_results')} WHERE ? IS NULL OR asset = ?"
        " ORDER BY run_id DESC, asset, check_name LIMIT ?",
        [asset, asset, limit],
    )
    return _from_rows(CheckRecord, con)


def latest_events(
    con: duckdb.DuckDBPyConnection, status: str | None = None
) -> dict[str, AssetEvent]:
    """The newest finished build per asset (materialized or failed), or only those with `status`."""
    con.execute(
        f"{_select(AssetEvent, 'asset_events')} WHERE (? IS NULL OR status = ?)"
        " AND status IN ('materialized', 'failed')"
        " QUALIFY row_number() OVER (PARTITION BY asset ORDER BY run_id DESC) = 1",
        [status, status],
    )
    return {event.asset: event for event in _from_rows(AssetEvent, con)}


def latest_check_results(con: duckdb.DuckDBPyConnection) -> dict[str, CheckRecord]:
    """The newest executed result per check key ('asset.check'), skips ignored."""
    con.execute(
        f"{_select(CheckRecord, 'check_results')} WHERE outcome <> 'skipped'"
        " QUALIFY row_number() OVER (PARTITION BY asset, check_name ORDER BY run_id DESC) = 1"
    )
    return {record.key: record for record in _from_rows(CheckRecord, con)}


def check_history_until(
    con: duckdb.DuckDBPyConnection, run_id: int, per_check: int = 20
) -> list[CheckRecord]:
    """The last `per_check` results of every check up to and including `run_id`, oldest first.

    A report of an old run shows the history as it was then, not outcomes that came later.
    """
    con.execute(
        f"{_select(CheckRecord, 'check_results')} WHERE run_id <= ?"
        " QUALIFY row_number() OVER (PARTITION BY asset, check_name ORDER BY run_id DESC) <= ?"
        " ORDER BY asset, check_name, run_id",
        [run_id, per_check],
    )
    return _from_rows(CheckRecord, con)
