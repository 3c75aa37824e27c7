"""One partition's build: replace that partition's rows of the asset's table in one transaction.

The function returns the rows of `context.partition_key`. In one transaction the partition's
old rows are deleted and the new ones inserted straight from the returned query (the table is
created from the first partition built): one pass over the rows, no copy kept in memory. Then
the rows must hold the partition column and all belong to the partition: the rows outside it
are counted before and after, and any new one fails the build. Anything failing rolls back:
the other partitions and this partition's old rows are untouched. The ledger row (with the
key) commits with the rows, as for any build. A query that reads the asset's own table sees
the other partitions, not the old rows of the partitions it rebuilds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import suppress
from datetime import date
from typing import Any

import duckdb

from pipeline import builder, faults, guard, ledger
from pipeline.definitions import AssetContext, AssetDef
from pipeline.errors import AssetFailure
from pipeline.partitions import TimeWindow
from pipeline.store import CatalogEntry, jsonable
from pipeline.warehouse import one_row, quote_ident, scalar, utcnow

ROWS_VIEW = "__assetboard_rows"  # a returned relation, as a view the INSERT reads
FRAME = "__assetboard_frame"  # a returned DataFrame, registered for the same

_TIME_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS")


def predicate(
    asset: AssetDef, keys: Sequence[str], column_type: str, tag: str = ""
) -> tuple[str, dict[str, Any]]:
    """SQL saying a row belongs to one of the partitions `keys` (adjacent ones, in order), and
    its parameters: time partitions are their window [start, end) on a date or timestamp
    column, static ones their keys as text. `tag` keeps parameter names apart in one query."""
    column = quote_ident(asset.partition_column or "")
    assert asset.partitions is not None
    first, last = asset.partitions.window(keys[0]), asset.partitions.window(keys[-1])
    if first is None or last is None:
        return f"list_contains($keys{tag}, CAST({column} AS VARCHAR))", {f"keys{tag}": list(keys)}
    value = column if column_type.upper() in _TIME_TYPES else f"CAST({column} AS DATE)"
    where = f"{value} >= $start{tag} AND {value} < $end{tag}"
    return where, {f"start{tag}": first.start, f"end{tag}": last.end}


def scope_sql(asset: AssetDef, key: str, column_type: str, database: str) -> str:
    """A temporary view named like the asset that shows only partition `key`: created inside a
    check's transaction (always rolled back), every query of the check reads that partition."""
    where, params = predicate(asset, [key], column_type)
    for name, value in params.items():
        where = where.replace(f"${name}", _literal(value))
    source = f"{quote_ident(database)}.main.{quote_ident(asset.name)}"
    return f"CREATE TEMP VIEW {quote_ident(asset.name)} AS SELECT * FROM {source} WHERE {where}"


def _literal(value: Any) -> str:
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def column_type(cursor: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    """The type of `column` in `table` (AssetFailure when it has none)."""
    return _column_type(cursor, table, column)


def rebuild_partition(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, key: str, run_id: int, stop: threading.Event
) -> CatalogEntry:
    """Replace partition `key` of `asset` atomically; the committed build."""
    return rebuild_partitions(cursor, asset, [key], run_id, stop)[0]


def rebuild_partitions(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    keys: Sequence[str],
    run_id: int,
    stop: threading.Event,
) -> list[CatalogEntry]:
    """Replace partitions `keys` (adjacent, in order) of `asset` in one call of its function
    and one transaction; the committed build of each, describing its rows."""
    assert asset.partitions is not None and asset.partition_column is not None
    subject = f"{asset.name}[{keys[0]}]" if len(keys) == 1 else f"{asset.name}[{keys[0]}...]"
    cursor.execute("BEGIN TRANSACTION")
    try:
        before = guard.snapshot(cursor)
        faults.pause("asset-running", subject, stop)
        value = asset.build(cursor, _context(asset, keys, run_id))
        if value is None:  # the function wrote the partition itself
            column_type = _column_type(cursor, asset.name, asset.partition_column)
        else:
            query = _query_of(cursor, asset, value)
            del value
            columns = _returned_columns(cursor, query)
            column_type = _partition_column_type(asset, columns)
            _write_rows(cursor, asset, keys, query, columns, column_type, before)
            _forget_query(cursor)
        guard.verify(cursor, before, asset.name)
        entries = _describe(cursor, asset, keys, run_id, column_type)
        committed_at = utcnow()
        for entry in entries:
            entry.committed_at = committed_at
        ledger.add(cursor, *entries, partition_keys=keys)
        cursor.execute("SELECT 1")  # raises 'transaction is aborted' if fn swallowed an error
        faults.pause("before-commit", subject, stop)
        if stop.is_set():
            raise builder.Cancelled(f"the run was cancelled before {subject} committed")
        ledger.commit(cursor, entries[0])
    except BaseException:
        with suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
        raise
    return entries


def _context(asset: AssetDef, keys: Sequence[str], run_id: int) -> AssetContext:
    assert asset.partitions is not None
    first, last = asset.partitions.window(keys[0]), asset.partitions.window(keys[-1])
    window = TimeWindow(first.start, last.end) if first and last else None
    key = keys[0] if len(keys) == 1 else None
    return AssetContext(asset.name, run_id, key, window, tuple(keys))


def _query_of(cursor: duckdb.DuckDBPyConnection, asset: AssetDef, value: Any) -> str:
    """A query giving the returned rows, read straight into the table (no copy in between)."""
    if isinstance(value, str):
        return builder.single_query(cursor, asset.name, value)
    if isinstance(value, duckdb.DuckDBPyRelation):
        value.to_view(ROWS_VIEW, replace=True)  # keeps the relation's parameters
        return f"SELECT * FROM {quote_ident(ROWS_VIEW)}"
    if builder.is_dataframe(value):
        cursor.register(FRAME, value)
        return f"SELECT * FROM {quote_ident(FRAME)}"
    raise AssetFailure(
        f"asset '{asset.name}' returned {type(value).__name__}, which cannot be written as a"
        " partition: return a SQL SELECT string, a DuckDB relation or a pandas DataFrame"
    )


def _forget_query(cursor: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):
        cursor.unregister(FRAME)
    cursor.execute(f"DROP VIEW IF EXISTS {quote_ident(ROWS_VIEW)}")


def _returned_columns(cursor: duckdb.DuckDBPyConnection, query: str) -> dict[str, str]:
    """Name -> type of the columns `query` gives (planned, not run)."""
    cursor.execute(f"SELECT * FROM ({query}) LIMIT 0")
    types = {name: str(kind) for name, kind, *_ in cursor.description or []}
    cursor.fetchall()
    return types


def _partition_column_type(asset: AssetDef, types: dict[str, str]) -> str:
    """The type of the partition column among the returned columns."""
    column = asset.partition_column or ""
    found = next((name for name in types if name.lower() == column.lower()), None)
    if found is None:
        raise AssetFailure(
            f"asset '{asset.name}' returned rows without its partition column '{column}'"
            f" (it returned {', '.join(types) or 'no columns'}): return that column, holding each"
            " row's partition"
        )
    return types[found]


def _write_rows(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    keys: Sequence[str],
    query: str,
    columns: dict[str, str],
    column_type: str,
    before: guard.Snapshot,
) -> None:
    """Delete the partitions' old rows and insert the new ones straight from `query`, then
    refuse the lot (the caller rolls back) if any new row lies outside those partitions."""
    target = quote_ident(asset.name)
    where, params = predicate(asset, keys, column_type)
    existing = before.kind_of(asset.name)
    if existing == "view":
        cursor.execute(f"DROP VIEW {target}")
        existing = None
    if existing is None:
        cursor.execute(f"CREATE TABLE {target} AS {query}")
        outside_before = 0
    else:
        _refuse_new_columns(cursor, asset, columns)
        outside_before = _outside(cursor, asset, keys, where, params)
        cursor.execute(f"DELETE FROM {target} WHERE {where}", params)
        cursor.execute(f"INSERT INTO {target} BY NAME {query}")
    strangers = _outside(cursor, asset, keys, where, params) - outside_before
    if strangers:
        _refuse_strangers(cursor, asset, keys, query, where, params, strangers)


def _refuse_new_columns(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, columns: dict[str, str]
) -> None:
    """A partition with a column its table lacks cannot be inserted: say which, and what to do."""
    cursor.execute(f"SELECT * FROM {quote_ident(asset.name)} LIMIT 0")
    table = {name.lower() for name, *_ in cursor.description or []}
    cursor.fetchall()
    if extra := [name for name in columns if name.lower() not in table]:
        raise AssetFailure(
            f"asset '{asset.name}': the partition's rows do not fit its table (it has no column"
            f" {', '.join(map(repr, extra))}). A partition must have the table's columns;"
            " rebuild every partition after changing them"
        )


def _outside(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    keys: Sequence[str],
    where: str,
    params: dict,
) -> int:
    """Rows of the table outside partitions `keys` (a scan of one column, min-max pruned)."""
    try:
        return int(
            scalar(
                cursor,
                f"SELECT count(*) FROM {quote_ident(asset.name)} WHERE ({where}) IS NOT TRUE",
                params,
            )
        )
    except duckdb.Error as exc:
        raise AssetFailure(
            f"asset '{asset.name}': its partition column '{asset.partition_column}' cannot be"
            f" compared with partition {_shown(keys)} ({str(exc).splitlines()[0]}); for time"
            " partitions use a DATE or TIMESTAMP column"
        ) from exc


def _shown(keys: Sequence[str]) -> str:
    return keys[0] if len(keys) == 1 else f"{keys[0]}...{keys[-1]}"


def _refuse_strangers(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    keys: Sequence[str],
    query: str,
    where: str,
    params: dict,
    strangers: int,
) -> None:
    """Every returned row must belong to the partitions built: one that does not would
    overwrite nothing yet be deleted by no later build of its own partition."""
    column = quote_ident(asset.partition_column or "")
    sample = cursor.execute(
        f"SELECT DISTINCT CAST({column} AS VARCHAR) FROM ({query})"
        f" WHERE ({where}) IS NOT TRUE LIMIT 3",
        params,
    ).fetchall()
    shown = ", ".join(repr(row[0]) for row in sample)
    raise AssetFailure(
        f"asset '{asset.name}' returned {strangers:,} rows outside partition {_shown(keys)}"
        f" ({asset.partition_column} = {shown}): return only that partition's rows"
        " (context.partition_key, context.partition_window)"
    )


def _column_type(cursor: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    cursor.execute(f"SELECT * FROM {quote_ident(table)} LIMIT 0")
    types = {name.lower(): str(kind) for name, kind, *_ in cursor.description or []}
    cursor.fetchall()
    if column.lower() not in types:
        raise AssetFailure(f"asset '{table}' has no partition column '{column}'")
    return types[column.lower()]


def _describe(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    keys: Sequence[str],
    run_id: int,
    column_type: str,
) -> list[CatalogEntry]:
    """Each partition's row count and preview: two statements however many partitions."""
    target = quote_ident(asset.name)
    parts = [predicate(asset, [key], column_type, tag=f"_{i}") for i, key in enumerate(keys)]
    params = {name: value for _, p in parts for name, value in p.items()}
    counted = ", ".join(f"count(*) FILTER (WHERE {where})" for where, _ in parts)
    counts = one_row(cursor, f"SELECT {counted} FROM {target}", params)
    previews = " UNION ALL ".join(
        f"(SELECT {i} AS __assetboard_part, * FROM {target} WHERE {where}"
        f" LIMIT {builder.PREVIEW_ROWS})"
        for i, (where, _) in enumerate(parts)
    )
    cursor.execute(previews, params)
    columns = [[name, str(kind)] for name, kind, *_ in (cursor.description or [])[1:]]
    rows: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(keys))}
    for part, *values in cursor.fetchall():
        rows[part].append(
            {column[0]: jsonable(v) for column, v in zip(columns, values, strict=True)}
        )
    return [
        CatalogEntry(
            asset.name,
            run_id,
            asset.kind,
            int(counts[i]),
            columns,
            rows[i],
            asset.code_version,
        )
        for i in range(len(keys))
    ]
