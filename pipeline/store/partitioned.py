"""The history of partitions and backfills: per-partition builds and checks, and what stands.

Kept beside the per-asset history, not inside it: a run that builds partitions of an asset
also records one AssetEvent for the asset (materialized when every partition it built was,
failed otherwise), so everything that reads assets reads partitioned ones unchanged. A history
written before partitions existed has none of these tables until its next run: reading it gives
no partitions, never an error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from pipeline.states import EventStatus, RunStatus
from pipeline.store.records import (
    Backfill,
    PartitionCheck,
    PartitionEntry,
    PartitionEvent,
    _columns,
    _encode,
    _fetch,
    _row,
    _select,
    _upsert,
)
from pipeline.store.writes import transaction
from pipeline.warehouse import utcnow


def replace_partition_catalog(con: sqlite3.Connection, entries: Iterable[PartitionEntry]) -> None:
    """The mirror becomes exactly `entries`, what the ledger says stands (caller's transaction)."""
    con.execute("DELETE FROM partition_catalog")
    con.executemany(_upsert("partition_catalog", PartitionEntry), [_row(e) for e in entries])


def _has(con: sqlite3.Connection, table: str) -> bool:
    found = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    return found.fetchone() is not None


def partition_catalog(con: sqlite3.Connection, asset: str) -> dict[str, PartitionEntry]:
    """The partitions of `asset` that stand in the warehouse, by key."""
    if not _has(con, "partition_catalog") or not getattr(con, "warehouse_known", True):
        return {}
    sql = f"{_select(PartitionEntry, 'partition_catalog')} WHERE asset = ?"
    return {e.partition_key: e for e in _fetch(con, PartitionEntry, sql, [asset])}


def partition_code_versions(con: sqlite3.Connection, asset: str) -> dict[str, str]:
    """Partition key -> the code version `asset` had in the run whose rows stand for that
    partition (that run's asset event records it), for the partitions it is known of."""
    if not _has(con, "partition_catalog"):
        return {}
    rows = con.execute(
        "SELECT p.partition_key, e.code_version FROM partition_catalog p"
        " JOIN asset_events e ON e.asset = p.asset AND e.run_id = p.run_id"
        " WHERE p.asset = ? AND e.code_version IS NOT NULL",
        [asset],
    ).fetchall()
    return {key: version for key, version in rows}


def latest_partition_events(con: sqlite3.Connection, asset: str) -> dict[str, PartitionEvent]:
    """The newest event of each partition of `asset` that finished (built, failed, skipped)."""
    if not _has(con, "partition_events"):
        return {}
    finished = [EventStatus.MATERIALIZED, EventStatus.FAILED, EventStatus.SKIPPED]
    rows = _fetch(
        con,
        PartitionEvent,
        f"SELECT {', '.join(_columns(PartitionEvent))} FROM ("
        " SELECT *, row_number() OVER (PARTITION BY partition_key ORDER BY run_id DESC) AS n"
        f" FROM partition_events WHERE asset = ? AND status IN (?, ?, ?)) WHERE n = 1",
        [asset, *finished],
    )
    return {e.partition_key: e for e in rows}


def run_partition_events(con: sqlite3.Connection, run_id: int) -> list[PartitionEvent]:
    if not _has(con, "partition_events"):
        return []
    sql = f"{_select(PartitionEvent, 'partition_events')} WHERE run_id = ?"
    return _fetch(con, PartitionEvent, f"{sql} ORDER BY asset, partition_key", [run_id])


def latest_partition_checks(
    con: sqlite3.Connection, asset: str
) -> dict[str, dict[str, PartitionCheck]]:
    """partition key -> check name -> that check's newest record on that partition."""
    if not _has(con, "partition_checks"):
        return {}
    rows = _fetch(
        con,
        PartitionCheck,
        f"SELECT {', '.join(_columns(PartitionCheck))} FROM ("
        " SELECT *, row_number() OVER (PARTITION BY partition_key, check_name"
        " ORDER BY run_id DESC) AS n FROM partition_checks WHERE asset = ?) WHERE n = 1",
        [asset],
    )
    found: dict[str, dict[str, PartitionCheck]] = {}
    for check in rows:
        found.setdefault(check.partition_key, {})[check.check_name] = check
    return found


def run_partition_checks(con: sqlite3.Connection, run_id: int) -> list[PartitionCheck]:
    if not _has(con, "partition_checks"):
        return []
    sql = f"{_select(PartitionCheck, 'partition_checks')} WHERE run_id = ?"
    return _fetch(con, PartitionCheck, f"{sql} ORDER BY asset, check_name, partition_key", [run_id])


# --- backfills ----------------------------------------------------------------------------


def start_backfill(
    con: sqlite3.Connection, assets: list[str], keys: list[str], launched_by: str | None
) -> Backfill:
    backfill = Backfill(0, assets, keys, RunStatus.RUNNING, utcnow(), launched_by=launched_by)
    names = [n for n in _columns(Backfill) if n != "backfill_id"]
    with transaction(con):
        cursor = con.execute(
            f"INSERT INTO backfills ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [_encode(n, getattr(backfill, n)) for n in names],
        )
        backfill.backfill_id = int(cursor.lastrowid or 0)
    return backfill


def update_backfill(con: sqlite3.Connection, backfill: Backfill) -> None:
    """Inside the caller's transaction."""
    names = [n for n in _columns(Backfill) if n != "backfill_id"]
    con.execute(
        f"UPDATE backfills SET {', '.join(f'{n} = ?' for n in names)} WHERE backfill_id = ?",
        [_encode(n, getattr(backfill, n)) for n in names] + [backfill.backfill_id],
    )


def list_backfills(con: sqlite3.Connection, limit: int = 50) -> list[Backfill]:
    if not _has(con, "backfills"):
        return []
    sql = f"{_select(Backfill, 'backfills')} ORDER BY backfill_id DESC LIMIT ?"
    return _fetch(con, Backfill, sql, [limit])


def get_backfill(con: sqlite3.Connection, backfill_id: int) -> Backfill | None:
    if not _has(con, "backfills"):
        return None
    sql = f"{_select(Backfill, 'backfills')} WHERE backfill_id = ?"
    found = _fetch(con, Backfill, sql, [backfill_id])
    return found[0] if found else None
