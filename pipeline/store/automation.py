"""Automation's part of the history: ticks, run requests, each schedule's and sensor's state,
and the daemon's heartbeat.

A run request is keyed by (schedule or sensor, run key): the scheduled time, or a file and its
content hash. Its primary key is what makes "never launch the same run twice" hold across
restarts and concurrent evaluations: whoever inserts the row first owns the launch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.states import TickStatus
from pipeline.store.writes import transaction

KEEP_QUIET_TICKS = 200  # skipped ticks kept per schedule or sensor (Dagster purges them too)


@dataclass
class Tick:
    """One evaluation of a schedule or sensor and what came of it."""

    tick_id: int
    name: str
    kind: str  # schedule | sensor
    evaluated_at: datetime
    scheduled_for: datetime | None
    status: TickStatus
    reason: str | None = None
    run_ids: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # files whose request could not run


@dataclass
class AutomationState:
    """What the store keeps of a schedule or sensor: its switch and its cursor."""

    name: str
    kind: str
    enabled: bool | None = None  # None: as the definition says
    cursor: dict[str, Any] = field(default_factory=dict)
    evaluated_at: datetime | None = None


@dataclass
class DaemonBeat:
    pid: int
    host: str
    started_at: datetime
    last_seen: datetime
    interval_s: float
    stopped_at: datetime | None = None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@contextmanager
def _tolerant() -> Iterator[None]:
    """A history written before automation existed has none of its tables: nothing to read."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise


# --- state -------------------------------------------------------------------------------


def states(con: sqlite3.Connection) -> dict[str, AutomationState]:
    found: dict[str, AutomationState] = {}
    with _tolerant():
        rows = con.execute(
            "SELECT name, kind, enabled, cursor, evaluated_at FROM automation_state"
        ).fetchall()
        for name, kind, enabled, cursor, evaluated_at in rows:
            found[name] = AutomationState(
                name,
                kind,
                None if enabled is None else bool(enabled),
                json.loads(cursor) if cursor else {},
                _time(evaluated_at),
            )
    return found


def state(con: sqlite3.Connection, name: str, kind: str) -> AutomationState:
    return states(con).get(name) or AutomationState(name, kind)


def save_state(con: sqlite3.Connection, item: AutomationState, now: datetime) -> None:
    con.execute(
        "INSERT INTO automation_state VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE"
        " SET kind = excluded.kind, enabled = excluded.enabled, cursor = excluded.cursor,"
        " evaluated_at = excluded.evaluated_at, updated_at = excluded.updated_at",
        [
            item.name,
            item.kind,
            None if item.enabled is None else int(item.enabled),
            json.dumps(item.cursor, ensure_ascii=False),
            item.evaluated_at.isoformat() if item.evaluated_at else None,
            now.isoformat(),
        ],
    )


# --- ticks and run requests --------------------------------------------------------------

_TICK_COLUMNS = "tick_id, name, kind, evaluated_at, scheduled_for, status, reason, run_ids, files"


def _tick_columns(con: sqlite3.Connection) -> str:
    """The columns to read; a history not yet migrated to version 5 has no `rejected`."""
    have = {row[1] for row in con.execute("PRAGMA table_info(ticks)")}
    rejected = "rejected" if "rejected" in have else "'[]' AS rejected"
    return f"{_TICK_COLUMNS}, {rejected}"


def _tick(row: tuple[Any, ...]) -> Tick:
    tick_id, name, kind, evaluated_at, scheduled_for, status, reason, run_ids, files, rejected = row
    evaluated = _time(evaluated_at)
    assert evaluated is not None
    return Tick(
        tick_id,
        name,
        kind,
        evaluated,
        _time(scheduled_for),
        TickStatus(status),
        reason,
        json.loads(run_ids),
        json.loads(files),
        json.loads(rejected or "[]"),
    )


def start_tick(
    con: sqlite3.Connection, name: str, kind: str, now: datetime, scheduled_for: datetime | None
) -> Tick:
    cursor = con.execute(
        "INSERT INTO ticks (name, kind, evaluated_at, scheduled_for, status)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            name,
            kind,
            now.isoformat(),
            scheduled_for.isoformat() if scheduled_for else None,
            TickStatus.STARTED,
        ],
    )
    return Tick(int(cursor.lastrowid or 0), name, kind, now, scheduled_for, TickStatus.STARTED)


def save_tick(con: sqlite3.Connection, tick: Tick) -> None:
    con.execute(
        "UPDATE ticks SET status = ?, reason = ?, run_ids = ?, files = ?, rejected = ?"
        " WHERE tick_id = ?",
        [
            tick.status,
            tick.reason,
            json.dumps(tick.run_ids),
            json.dumps(tick.files, ensure_ascii=False),
            json.dumps(tick.rejected, ensure_ascii=False),
            tick.tick_id,
        ],
    )
    if tick.status == TickStatus.SKIPPED:
        con.execute(
            "DELETE FROM ticks WHERE name = ? AND status = 'skipped' AND tick_id <= ("
            " SELECT tick_id FROM ticks WHERE name = ? AND status = 'skipped'"
            " ORDER BY tick_id DESC LIMIT 1 OFFSET ?)",
            [tick.name, tick.name, KEEP_QUIET_TICKS],
        )


def ticks(con: sqlite3.Connection, name: str | None = None, limit: int = 20) -> list[Tick]:
    """Newest first; of one schedule or sensor when `name` is given."""
    found: list[Tick] = []
    with _tolerant():
        where, params = ("WHERE name = ?", [name]) if name is not None else ("", [])
        rows = con.execute(
            f"SELECT {_tick_columns(con)} FROM ticks {where} ORDER BY tick_id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        found = [_tick(row) for row in rows]
    return found


def get_tick(con: sqlite3.Connection, tick_id: int) -> Tick | None:
    with _tolerant():
        row = con.execute(
            f"SELECT {_tick_columns(con)} FROM ticks WHERE tick_id = ?", [tick_id]
        ).fetchone()
        return _tick(row) if row else None
    return None


def claim(
    con: sqlite3.Connection,
    name: str,
    run_key: str,
    tick_id: int,
    launched_by: str,
    plan: dict[str, Any],
) -> int | None:
    """Own the launch of (name, run_key): None when this call does, else the tick that did.
    `plan` is kept so that a launch interrupted by a crash can be made by the next evaluator."""
    cursor = con.execute(
        "INSERT OR IGNORE INTO run_requests (name, run_key, tick_id, launched_by, plan, state)"
        " VALUES (?, ?, ?, ?, ?, 'claimed')",
        [name, run_key, tick_id, launched_by, json.dumps(plan, ensure_ascii=False)],
    )
    if cursor.rowcount:
        return None
    row = con.execute(
        "SELECT tick_id FROM run_requests WHERE name = ? AND run_key = ?", [name, run_key]
    ).fetchone()
    return int(row[0])


def launched(con: sqlite3.Connection, name: str, run_key: str, run_id: int) -> None:
    con.execute(
        "UPDATE run_requests SET run_id = ?, state = 'launched' WHERE name = ? AND run_key = ?",
        [run_id, name, run_key],
    )


def release(con: sqlite3.Connection, name: str, run_key: str) -> None:
    """Give a claim back: its run could not start (another run held the warehouse)."""
    con.execute("DELETE FROM run_requests WHERE name = ? AND run_key = ?", [name, run_key])


@dataclass
class PendingRequest:
    name: str
    run_key: str
    tick_id: int
    launched_by: str
    plan: dict[str, Any]


def pending(con: sqlite3.Connection) -> list[PendingRequest]:
    """Claims whose launch was never confirmed: the evaluator died in between."""
    rows = con.execute(
        "SELECT name, run_key, tick_id, launched_by, plan FROM run_requests"
        " WHERE state = 'claimed' ORDER BY tick_id"
    ).fetchall()
    return [PendingRequest(row[0], row[1], row[2], row[3], json.loads(row[4])) for row in rows]


def run_launched_as(con: sqlite3.Connection, launched_by: str) -> int | None:
    """The run recorded as launched by `launched_by` (a tick's own label), if one started."""
    row = con.execute(
        "SELECT max(run_id) FROM runs WHERE launched_by = ?", [launched_by]
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def requests_of_runs(con: sqlite3.Connection, run_ids: list[int]) -> dict[int, tuple[str, int]]:
    """run id -> (schedule or sensor, tick) for the runs automation launched."""
    found: dict[int, tuple[str, int]] = {}
    if not run_ids:
        return found
    with _tolerant():
        marks = ", ".join("?" * len(run_ids))
        rows = con.execute(
            f"SELECT run_id, name, tick_id FROM run_requests WHERE run_id IN ({marks})", run_ids
        ).fetchall()
        found = {run_id: (name, tick_id) for run_id, name, tick_id in rows}
    return found


# --- the daemon's heartbeat ----------------------------------------------------------------


def beat(
    con: sqlite3.Connection,
    pid: int,
    host: str,
    started_at: datetime,
    now: datetime,
    interval_s: float,
    stopped: bool = False,
) -> None:
    with transaction(con):
        con.execute(
            "INSERT OR REPLACE INTO daemon VALUES (1, ?, ?, ?, ?, ?, ?)",
            [
                pid,
                host,
                started_at.isoformat(),
                now.isoformat(),
                interval_s,
                now.isoformat() if stopped else None,
            ],
        )


def daemon_beat(con: sqlite3.Connection) -> DaemonBeat | None:
    with _tolerant():
        row = con.execute(
            "SELECT pid, host, started_at, last_seen, interval_s, stopped_at FROM daemon"
        ).fetchone()
        if row:
            pid, host, started_at, last_seen, interval_s, stopped_at = row
            started, seen = _time(started_at), _time(last_seen)
            assert started is not None and seen is not None
            return DaemonBeat(pid, host, started, seen, interval_s, _time(stopped_at))
    return None
