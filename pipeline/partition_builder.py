"""One partition's build: replace that partition's rows of the asset's table in one transaction.

The function returns the rows of `context.partition_key`. They are kept in a temporary table
first, so they are read once and checked before anything is replaced: they must hold the
partition column, and every row must belong to the partition. Then, in the same transaction,
the partition's old rows are deleted and the new ones inserted (the table is created from the
first partition built). Anything failing rolls back: the other partitions and this partition's
old rows are untouched. The ledger row (with the key) commits with the rows, as for any build.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import date
from typing import Any

import duckdb

from pipeline import builder, faults, guard, ledger
from pipeline.definitions import AssetContext, AssetDef
from pipeline.errors import AssetFailure
from pipeline.store import CatalogEntry, jsonable
from pipeline.warehouse import quote_ident, scalar, utcnow

STAGED = "__assetboard_partition"  # a temporary table: outside the guard's view, and free

_TIME_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS")


def predicate(asset: AssetDef, key: str, column_type: str) -> tuple[str, dict[str, Any]]:
    """SQL saying a row belongs to partition `key`, and its parameters: a time partition is
    its window [start, end) on a date or timestamp column, a static one its key as text."""
    column = quote_ident(asset.partition_column or "")
    assert asset.partitions is not None
    window = asset.partitions.window(key)
    if window is None:
        return f"CAST({column} AS VARCHAR) = $key", {"key": key}
    value = column if column_type.upper() in _TIME_TYPES else f"CAST({column} AS DATE)"
    return f"{value} >= $start AND {value} < $end", {"start": window.start, "end": window.end}


def scope_sql(asset: AssetDef, key: str, column_type: str, database: str) -> str:
    """A temporary view named like the asset that shows only partition `key`: created inside a
    check's transaction (always rolled back), every query of the check reads that partition."""
    where, params = predicate(asset, key, column_type)
    for name, value in params.items():
        where = where.replace(f"${name}", _literal(value))
    source = f"{quote_ident(database)}.main.{quote_ident(asset.name)}"
    return f"CREATE TEMP VIEW {quote_ident(asset.name)} AS SELECT * FROM {source} WHERE {where}"


def _literal(value: Any) -> str:
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def column_type(cursor: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    """The type of `column` in `table` (AssetFailure when it has none)."""
    return _column_type(cursor, table, column)


def rebuild_partition(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, key: str, run_id: int, stop: threading.Event
) -> CatalogEntry:
    """Replace partition `key` of `asset` atomically; the committed build, describing the
    partition's rows (row count, columns, preview)."""
    assert asset.partitions is not None and asset.partition_column is not None
    subject = f"{asset.name}[{key}]"
    cursor.execute("BEGIN TRANSACTION")
    try:
        before = guard.snapshot(cursor)
        faults.pause("asset-running", subject, stop)
        context = AssetContext(asset.name, run_id, key, asset.partitions.window(key))
        value = asset.build(cursor, context)
        if value is None:  # the function wrote the partition itself
            column_type = _column_type(cursor, asset.name, asset.partition_column)
        else:
            column_type = _stage(cursor, asset, value, before)
            del value
            where, params = predicate(asset, key, column_type)
            _refuse_strangers(cursor, asset, key, where, params)
            _replace_rows(cursor, asset, where, params, before)
        guard.verify(cursor, before, asset.name)
        where, params = predicate(asset, key, column_type)
        entry = _describe(cursor, asset, run_id, where, params)
        entry.committed_at = utcnow()
        ledger.add(cursor, entry, partition_key=key)
        cursor.execute("SELECT 1")  # raises 'transaction is aborted' if fn swallowed an error
        faults.pause("before-commit", subject, stop)
        if stop.is_set():
            raise builder.Cancelled(f"the run was cancelled before {subject} committed")
        cursor.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
        raise
    return entry


def _stage(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, value: Any, before: guard.Snapshot
) -> str:
    """Keep the returned rows in the temporary table; the partition column's type."""
    staged = quote_ident(STAGED)
    if isinstance(value, str):
        query = builder.single_query(cursor, asset.name, value)
    elif isinstance(value, duckdb.DuckDBPyRelation):
        value.to_view("__assetboard_rows", replace=True)  # keeps the relation's parameters
        query = 'SELECT * FROM "__assetboard_rows"'
    elif builder.is_dataframe(value):
        cursor.register("__assetboard_frame", value)
        query = 'SELECT * FROM "__assetboard_frame"'
    else:
        raise AssetFailure(
            f"asset '{asset.name}' returned {type(value).__name__}, which cannot be written as a"
            " partition: return a SQL SELECT string, a DuckDB relation or a pandas DataFrame"
        )
    cursor.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS {query}")
    with suppress(duckdb.Error):
        cursor.unregister("__assetboard_frame")
    cursor.execute('DROP VIEW IF EXISTS "__assetboard_rows"')
    cursor.execute(f"SELECT * FROM {staged} LIMIT 0")
    types = {name: str(kind) for name, kind, *_ in cursor.description or []}
    cursor.fetchall()
    column = asset.partition_column or ""
    found = next((name for name in types if name.lower() == column.lower()), None)
    if found is None:
        raise AssetFailure(
            f"asset '{asset.name}' returned rows without its partition column '{column}'"
            f" (it returned {', '.join(types) or 'no columns'}): return that column, holding each"
            " row's partition"
        )
    return types[found]


def _refuse_strangers(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, key: str, where: str, params: dict
) -> None:
    """Every returned row must belong to the partition: one that does not would overwrite
    nothing yet be deleted by no later build of its own partition."""
    staged = quote_ident(STAGED)
    try:
        strangers = scalar(
            cursor, f"SELECT count(*) FROM {staged} WHERE ({where}) IS NOT TRUE", params
        )
    except duckdb.Error as exc:
        raise AssetFailure(
            f"asset '{asset.name}': its partition column '{asset.partition_column}' cannot be"
            f" compared with partition {key} ({str(exc).splitlines()[0]}); for time partitions"
            " use a DATE or TIMESTAMP column"
        ) from exc
    if strangers:
        column = quote_ident(asset.partition_column or "")
        sample = cursor.execute(
            f"SELECT DISTINCT CAST({column} AS VARCHAR) FROM {staged}"
            f" WHERE ({where}) IS NOT TRUE LIMIT 3",
            params,
        ).fetchall()
        shown = ", ".join(repr(row[0]) for row in sample)
        raise AssetFailure(
            f"asset '{asset.name}' returned {strangers:,} rows outside partition {key}"
            f" ({asset.partition_column} = {shown}): return only that partition's rows"
            " (context.partition_key, context.partition_window)"
        )


def _replace_rows(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    where: str,
    params: dict,
    before: guard.Snapshot,
) -> None:
    target, staged = quote_ident(asset.name), quote_ident(STAGED)
    existing = before.kind_of(asset.name)
    if existing == "view":
        cursor.execute(f"DROP VIEW {target}")
        existing = None
    if existing is None:
        cursor.execute(f"CREATE TABLE {target} AS SELECT * FROM {staged}")
    else:
        cursor.execute(f"DELETE FROM {target} WHERE {where}", params)
        try:
            cursor.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {staged}")
        except duckdb.Error as exc:
            raise AssetFailure(
                f"asset '{asset.name}': the partition's rows do not fit its table"
                f" ({str(exc).splitlines()[0]}). A partition must have the table's columns;"
                " rebuild every partition after changing them"
            ) from exc
    cursor.execute(f"DROP TABLE {staged}")


def _column_type(cursor: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    cursor.execute(f"SELECT * FROM {quote_ident(table)} LIMIT 0")
    types = {name.lower(): str(kind) for name, kind, *_ in cursor.description or []}
    cursor.fetchall()
    if column.lower() not in types:
        raise AssetFailure(f"asset '{table}' has no partition column '{column}'")
    return types[column.lower()]


def _describe(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, run_id: int, where: str, params: dict
) -> CatalogEntry:
    target = quote_ident(asset.name)
    row_count = scalar(cursor, f"SELECT count(*) FROM {target} WHERE {where}", params)
    cursor.execute(f"SELECT * FROM {target} WHERE {where} LIMIT {builder.PREVIEW_ROWS}", params)
    columns = [[name, str(kind)] for name, kind, *_ in cursor.description or []]
    preview = [
        {column[0]: jsonable(value) for column, value in zip(columns, row, strict=True)}
        for row in cursor.fetchall()
    ]
    return CatalogEntry(
        asset.name, run_id, asset.kind, row_count, columns, preview, asset.code_version
    )
