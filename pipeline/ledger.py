"""The warehouse's own record of which build made each table or view it holds.

A build appends its row to `assetboard.builds` inside the same DuckDB transaction that replaces
its table, so the ledger and the tables commit together or not at all: whatever stops a run, the
ledger tells the truth. The SQLite history mirrors it (store.catalog) and is repaired from it
(recovery.py). Append-only, because one single-row INSERT is the cheapest write DuckDB offers;
`compact` keeps two rows per asset (a build and its baseline) at the start of each run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
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
    columns VARCHAR, preview VARCHAR, code_version VARCHAR, committed_at TIMESTAMP,
    partition_key VARCHAR);
"""
_FEW_ROWS = 4  # up to this many rows, one VALUES row each is cheaper than unnesting lists
_TYPES = {
    "asset": "VARCHAR",
    "run_id": "BIGINT",
    "kind": "VARCHAR",
    "row_count": "BIGINT",
    "columns": "VARCHAR",
    "preview": "VARCHAR",
    "code_version": "VARCHAR",
    "committed_at": "TIMESTAMP",
    "partition_key": "VARCHAR",
}
# One list parameter per column, unnested side by side: the rows in the lists' order, so the
# build_ids follow the entries.
_INSERT_LISTS = (
    f"INSERT INTO {BUILDS} (build_id, {', '.join(_TYPES)})"
    f" SELECT nextval('{SCHEMA}.build_ids'), * FROM (SELECT"
    f" {', '.join(f'unnest(${name}::{kind}[])' for name, kind in _TYPES.items())})"
)
# A partition's build has its key; a whole table's build none. Ledgers written before
# partitions existed lack the column: `ensure` adds it.


@dataclass(frozen=True)
class Standing:
    """What the ledger says stands, read once: each asset's current build (its partitions
    summed), each partition's, and whether the ledger has today's shape (`ensure` has nothing
    to do)."""

    whole: dict[str, CatalogEntry] = field(default_factory=dict)
    partitions: dict[tuple[str, str], CatalogEntry] = field(default_factory=dict)
    up_to_date: bool = False


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = ? AND table_name = 'builds'",
        [SCHEMA],
    ).fetchone()
    return bool(row and row[0])


def ensure(con: duckdb.DuckDBPyConnection, known: Standing | None = None) -> None:
    """Create the ledger on first use (a run does it before any build starts); `known`, a
    reading of this connection's ledger, saves asking again."""
    if known is not None and known.up_to_date:
        return
    if not exists(con):
        con.execute(_DDL)
    elif not _has_partition_key(con):
        con.execute(f"ALTER TABLE {BUILDS} ADD COLUMN partition_key VARCHAR")


def _has_partition_key(con: duckdb.DuckDBPyConnection) -> bool:
    con.execute(f"SELECT * FROM {BUILDS} LIMIT 0")  # its columns, without a catalog scan
    names = [column[0] for column in con.description or []]
    con.fetchall()
    return "partition_key" in names


def add(
    cursor: duckdb.DuckDBPyConnection,
    *entries: CatalogEntry,
    partition_key: str | None = None,
    partition_keys: Sequence[str] | None = None,
) -> None:
    """Append `entries` inside the caller's open transaction, beside the tables they describe:
    one INSERT however many (a batch of builds commits its rows together). A partition's build
    gives its key, or each entry's in `partition_keys` (an entry then describes that
    partition's rows)."""
    if not entries:
        return
    keys = list(partition_keys) if partition_keys is not None else [partition_key] * len(entries)
    rows = [
        (
            entry.asset,
            entry.run_id,
            entry.kind,
            entry.row_count,
            json.dumps(jsonable(entry.columns)),
            json.dumps(jsonable(entry.preview)),  # ASCII: nothing DuckDB could refuse
            entry.code_version,
            entry.committed_at,
            key,
        )
        for entry, key in zip(entries, keys, strict=True)
    ]
    if len(rows) <= _FEW_ROWS:
        row = f"(nextval('{SCHEMA}.build_ids'), ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        values = [value for r in rows for value in r]
        cursor.execute(f"INSERT INTO {BUILDS} VALUES {', '.join([row] * len(rows))}", values)
    else:  # nine parameters per row bind slowly: 15 ms for 100 rows, 2.5 ms as nine lists
        lists = {name: [r[i] for r in rows] for i, name in enumerate(_TYPES)}
        cursor.execute(_INSERT_LISTS, lists)


def commit(cursor: duckdb.DuckDBPyConnection, entry: CatalogEntry) -> None:
    """COMMIT the caller's transaction, which added `entry` (and any entries committed with it).

    A cancel interrupts the cursor; landing during COMMIT, DuckDB may report the interrupt
    once the commit is done. Taken for a rollback, that build would be recorded as cancelled,
    the previous table kept, while the new one stands: the ledger row says which happened.
    """
    try:
        cursor.execute("COMMIT")
    except duckdb.InterruptException:
        with suppress(duckdb.Error):
            cursor.execute("ROLLBACK")  # when the commit did not happen, nothing of it stays
        if not _committed(cursor, entry):
            raise


def _committed(cursor: duckdb.DuckDBPyConnection, entry: CatalogEntry) -> bool:
    row = cursor.execute(
        f"SELECT count(*) FROM {BUILDS} WHERE asset = ? AND run_id = ? AND committed_at = ?",
        [entry.asset, entry.run_id, entry.committed_at],
    ).fetchone()
    return bool(row and row[0])


def read(con: duckdb.DuckDBPyConnection) -> Standing:
    """The whole ledger's current state in two queries, for a run's start (recovery)."""
    if not exists(con):
        return Standing()
    has_key = _has_partition_key(con)
    whole = {
        row[0]: _entry(row)
        for row in con.execute(
            f"SELECT {_COLUMNS} FROM {BUILDS}"
            f" WHERE {'partition_key IS NULL' if has_key else 'true'}"
            " QUALIFY row_number() OVER (PARTITION BY asset ORDER BY build_id DESC) = 1"
        ).fetchall()
    }
    by_asset = _partition_rows(con) if has_key else {}
    for asset, parts in by_asset.items():
        newest = max(parts, key=lambda p: p[0])[1]
        whole[asset] = CatalogEntry(
            asset,
            max(p[1].run_id or 0 for p in parts) or None,
            newest.kind,
            sum(p[1].row_count or 0 for p in parts),
            newest.columns,
            table_preview([(key, entry) for _, entry, key in parts]),
            newest.code_version,
            max((p[1].committed_at for p in parts if p[1].committed_at), default=None),
        )
    partitions = {
        (asset, key): entry for asset, parts in by_asset.items() for _, entry, key in parts
    }
    return Standing(whole, partitions, up_to_date=has_key)


def current(con: duckdb.DuckDBPyConnection) -> dict[str, CatalogEntry]:
    """What stands of every asset the ledger knows: its newest whole build, or, for an asset
    built in partitions since, all its partitions together (rows summed, previews joined)."""
    return read(con).whole


PREVIEW_ROWS = 10  # builder.PREVIEW_ROWS: builder imports this module


def table_preview(parts: Sequence[tuple[str, CatalogEntry]]) -> list[dict]:
    """A partitioned table's preview: its first rows partition by partition, in key order.

    The newest partition's preview alone showed one month's single row as the preview of a
    207-row table, and an empty one as "not materialized yet"."""
    rows: list[dict] = []
    for _, entry in sorted(parts, key=lambda part: part[0]):
        rows.extend(entry.preview[: PREVIEW_ROWS - len(rows)])
        if len(rows) >= PREVIEW_ROWS:
            break
    return rows


def partitioned_preview(con: duckdb.DuckDBPyConnection, asset: str) -> list[dict]:
    """`table_preview` of `asset` as its ledger stands (a run reads it right after committing
    partitions, so the run's record and the next run's catalog show the same rows)."""
    if not _has_partition_key(con):
        return []
    con.execute(
        f"SELECT preview FROM {BUILDS} b WHERE asset = $asset AND partition_key IS NOT NULL"
        " AND build_id > coalesce((SELECT max(build_id)"
        f" FROM {BUILDS} w WHERE w.asset = b.asset AND w.partition_key IS NULL), 0)"
        " QUALIFY row_number() OVER (PARTITION BY partition_key ORDER BY build_id DESC) = 1"
        " ORDER BY partition_key",
        {"asset": asset},
    )
    rows: list[dict] = []
    while len(rows) < PREVIEW_ROWS and (batch := con.fetchmany(16)):
        # Decoded only as far as needed: a daily asset has a thousand partitions' previews.
        for (preview,) in batch:
            rows.extend((json.loads(preview) if preview else [])[: PREVIEW_ROWS - len(rows)])
    con.fetchall()  # an unread result would block the next statement on this cursor
    return rows


def current_partitions(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], CatalogEntry]:
    """(asset, partition key) -> the build whose rows stand for that partition now."""
    return read(con).partitions


def _partition_rows(
    con: duckdb.DuckDBPyConnection,
) -> dict[str, list[tuple[int, CatalogEntry, str]]]:
    """Per asset, the newest build of each partition built after its newest whole build."""
    rows = con.execute(
        f"SELECT build_id, partition_key, {_COLUMNS} FROM {BUILDS} b"
        " WHERE partition_key IS NOT NULL AND build_id > coalesce((SELECT max(build_id)"
        f" FROM {BUILDS} w WHERE w.asset = b.asset AND w.partition_key IS NULL), 0)"
        " QUALIFY row_number() OVER (PARTITION BY asset, partition_key"
        " ORDER BY build_id DESC) = 1"
    ).fetchall()
    found: dict[str, list[tuple[int, CatalogEntry, str]]] = {}
    for build_id, key, *row in rows:
        entry = _entry(tuple(row))
        found.setdefault(entry.asset, []).append((build_id, entry, key))
    return found


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
        f"SELECT {_COLUMNS} FROM {BUILDS} WHERE asset = ? AND partition_key IS NULL"
        " ORDER BY build_id DESC LIMIT 1 OFFSET 1",
        [asset],
    ).fetchone()
    return None if row is None else _entry(row)


def current_run_id(con: duckdb.DuckDBPyConnection, asset: str) -> int | None:
    """The run of the newest build of `asset`, whole or one partition (None without one): the
    rows it stands on now. An anomaly check trains on the builds before it, so running it
    again without a rebuild gives the same verdict."""
    if not exists(con):
        return None
    row = con.execute(
        f"SELECT run_id FROM {BUILDS} WHERE asset = ? ORDER BY build_id DESC LIMIT 1", [asset]
    ).fetchone()
    return None if row is None else row[0]


def compact(
    con: duckdb.DuckDBPyConnection, forget: frozenset[str] | set[str] = frozenset()
) -> None:
    """Keep the two newest rows per asset (the current build and its baseline), and none for
    the assets in `forget` (no longer in the warehouse)."""
    con.execute(
        f"DELETE FROM {BUILDS} WHERE list_contains($forget, asset) OR build_id IN ("
        f" SELECT build_id FROM {BUILDS}"
        " QUALIFY row_number() OVER (PARTITION BY asset, partition_key"
        " ORDER BY build_id DESC) > 2)",
        {"forget": sorted(forget)},
    )
