"""The warehouse's own record of which build made each table or view it holds.

A build appends its row to `assetboard.builds` inside the same DuckDB transaction that replaces
its table, so the ledger and the tables commit together or not at all: whatever stops a run, the
ledger tells the truth. The SQLite history mirrors it (store.catalog) and is repaired from it
(recovery.py). Append-only, because one single-row INSERT is the cheapest write DuckDB offers;
`compact` keeps two rows per asset (a build and its baseline) at the start of each run.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from pipeline.store import CatalogEntry, jsonable

SCHEMA = "assetboard"
BUILDS = f"{SCHEMA}.builds"
_COLUMNS = "asset, run_id, kind, row_count, columns, preview, code_version, committed_at"
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.build_ids START 1;
CREATE TABLE IF NOT EXISTS {BUILDS} (
    build_id BIGINT, asset VARCHAR, run_id BIGINT, kind VARCHAR, row_count BIGINT,
    columns VARCHAR, preview VARCHAR, code_version VARCHAR, committed_at TIMESTAMP);
"""


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = ? AND table_name = 'builds'",
        [SCHEMA],
    ).fetchone()
    return bool(row and row[0])


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger on first use (a run does it before any build starts)."""
    if not exists(con):
        con.execute(_DDL)


def add(cursor: duckdb.DuckDBPyConnection, *entries: CatalogEntry) -> None:
    """Append `entries` inside the caller's open transaction, beside the tables they describe:
    one INSERT however many (a batch of builds commits its rows together)."""
    if not entries:
        return
    row = f"(nextval('{SCHEMA}.build_ids'), ?, ?, ?, ?, ?, ?, ?, ?)"
    values = [
        value
        for entry in entries
        for value in (
            entry.asset,
            entry.run_id,
            entry.kind,
            entry.row_count,
            json.dumps(jsonable(entry.columns)),
            json.dumps(jsonable(entry.preview)),  # ASCII: nothing DuckDB could refuse
            entry.code_version,
            entry.committed_at,
        )
    ]
    cursor.execute(f"INSERT INTO {BUILDS} VALUES {', '.join([row] * len(entries))}", values)


def current(con: duckdb.DuckDBPyConnection) -> dict[str, CatalogEntry]:
    """The newest build of every asset the ledger knows."""
    if not exists(con):
        return {}
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM {BUILDS}"
        " QUALIFY row_number() OVER (PARTITION BY asset ORDER BY build_id DESC) = 1"
    ).fetchall()
    return {row[0]: _entry(row) for row in rows}


def _entry(row: tuple) -> CatalogEntry:
    asset, run_id, kind, row_count, columns, preview, code_version, committed_at = row
    return CatalogEntry(
        asset=asset,
        run_id=run_id,
        kind=kind,
        row_count=row_count,
        columns=json.loads(columns) if columns else [],
        preview=json.loads(preview) if preview else [],
        code_version=code_version,
        committed_at=committed_at if isinstance(committed_at, datetime) else None,
    )


def previous(con: duckdb.DuckDBPyConnection, asset: str) -> CatalogEntry | None:
    """The build before the newest one of `asset` (the baseline a schema check compares to)."""
    if not exists(con):
        return None
    row = con.execute(
        f"SELECT {_COLUMNS} FROM {BUILDS} WHERE asset = ? ORDER BY build_id DESC LIMIT 1 OFFSET 1",
        [asset],
    ).fetchone()
    return None if row is None else _entry(row)


def compact(
    con: duckdb.DuckDBPyConnection, forget: frozenset[str] | set[str] = frozenset()
) -> None:
    """Keep the two newest rows per asset (the current build and its baseline), and none for
    the assets in `forget` (no longer in the warehouse)."""
    con.execute(
        f"DELETE FROM {BUILDS} WHERE list_contains($forget, asset) OR build_id IN ("
        f" SELECT build_id FROM {BUILDS}"
        " QUALIFY row_number() OVER (PARTITION BY asset ORDER BY build_id DESC) > 2)",
        {"forget": sorted(forget)},
    )
