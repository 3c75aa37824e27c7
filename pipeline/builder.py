"""One asset's rebuild: run its function and replace its table or view in one transaction.

Everything that could make the new object wrong is checked before COMMIT, so a failure of any
kind leaves the previous table or view exactly as it was: returned SQL must be one query, a view
must be readable (a view's SQL can fail only when read), the function may touch nothing but its
own object (guard.py), and the ledger row describing the build commits with it (ledger.py).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import duckdb

from pipeline import faults, guard, ledger
from pipeline.definitions import AssetContext, AssetDef
from pipeline.errors import AssetFailure, PipelineError
from pipeline.store import CatalogEntry, jsonable
from pipeline.textsafe import cap
from pipeline.warehouse import quote_ident, scalar, utcnow

PREVIEW_ROWS = ledger.PREVIEW_ROWS


class Cancelled(Exception):
    """The run was asked to stop; the build was rolled back (or never started)."""


def rebuild(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    run_id: int,
    stop: threading.Event,
    call: Callable[[AssetDef, duckdb.DuckDBPyConnection], Any] | None = None,
) -> CatalogEntry:
    """Replace `asset`'s object and append its ledger row atomically; the committed build.

    DuckDB's trap: once a statement fails inside a transaction, COMMIT returns without error and
    silently rolls everything back. A probe statement before COMMIT turns that into an error.
    """
    cursor.execute("BEGIN TRANSACTION")
    try:
        before = guard.snapshot(cursor)
        faults.pause("asset-running", asset.name, stop)
        value = (
            call(asset, cursor) if call else asset.build(cursor, AssetContext(asset.name, run_id))
        )
        write(cursor, asset, value, before)
        del value  # a view that needs a released Python object must fail now, not later
        after = guard.verify(cursor, before, asset.name)
        if (found := after.kind_of(asset.name)) != asset.kind:
            raise AssetFailure(
                f"asset '{asset.name}' did not leave a {asset.kind} named '{asset.name}'"
                + (f" (it left a {found})" if found else "")
            )
        row_count, columns, preview = describe(cursor, asset)
        entry = CatalogEntry(
            asset.name, run_id, asset.kind, row_count, columns, preview, asset.code_version
        )
        entry.committed_at = utcnow()
        ledger.add(cursor, entry)
        cursor.execute("SELECT 1")  # raises 'transaction is aborted' if fn swallowed an error
        faults.pause("before-commit", asset.name, stop)
        if stop.is_set():
            raise Cancelled(f"the run was cancelled before '{asset.name}' committed")
        ledger.commit(cursor, entry)
    except BaseException:
        with suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
        raise
    return entry


def write(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, value: Any, before: guard.Snapshot
) -> None:
    scratch = f"__assetboard_{asset.name}"
    if isinstance(value, str):
        replace_with_sql(cursor, asset, value, before)
    elif isinstance(value, duckdb.DuckDBPyRelation):
        if asset.kind == "view":
            query = value.sql_query()
            if "__duckdb_source_" in query:
                raise AssetFailure(
                    f"asset '{asset.name}' returned a relation made from a DataFrame or another"
                    " Python object, but has kind='view': a view cannot keep the object alive"
                    " after this run. Use kind='table'"
                )
            replace(cursor, asset, query, before)
        else:
            value.to_view(scratch, replace=True)
            replace(cursor, asset, f"SELECT * FROM {quote_ident(scratch)}", before)
            cursor.execute(f"DROP VIEW {quote_ident(scratch)}")
    elif is_dataframe(value):
        if asset.kind == "view":
            raise AssetFailure(
                f"asset '{asset.name}' returned a DataFrame but has kind='view'; a DataFrame"
                " can only be stored as a table: use kind='table'"
            )
        cursor.register(scratch, value)
        replace(cursor, asset, f"SELECT * FROM {quote_ident(scratch)}", before)
        cursor.unregister(scratch)
    elif value is None:
        if relation_kind(cursor, asset.name) is None:
            raise AssetFailure(
                f"asset '{asset.name}' returned None but did not create '{asset.name}': create it"
                " in the function, or return a SELECT string, a DuckDB relation or a DataFrame"
            )
    else:
        raise AssetFailure(
            f"asset '{asset.name}' returned {type(value).__name__}, which cannot be materialized:"
            " return a SQL SELECT string, a DuckDB relation, a pandas DataFrame, or None after"
            " creating the table yourself"
        )


def single_query(cursor: duckdb.DuckDBPyConnection, asset: str, sql: str) -> str:
    """`sql` if it is exactly one SELECT-like query; else an AssetFailure saying what it is."""
    try:
        statements = cursor.extract_statements(sql)
    except duckdb.Error as exc:
        raise AssetFailure(f"asset '{asset}' returned SQL that does not parse: {exc}") from exc
    if len(statements) != 1:
        raise AssetFailure(
            f"asset '{asset}' returned {len(statements)} SQL statements; return exactly one"
            " SELECT query (run other statements yourself and return None)"
        )
    (statement,) = statements
    if statement.type != duckdb.StatementType.SELECT:
        raise AssetFailure(
            f"asset '{asset}' returned a {statement.type.name} statement, not a query; return a"
            " SELECT query, or run your statements and return None"
        )
    return statement.query.strip().rstrip(";")


def replace_with_sql(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, sql: str, before: guard.Snapshot
) -> int:
    """`replace` with the SQL an asset returned, which must be one query (`single_query`).

    A view's SQL without a ';' skips that separate parse (0.15 ms a view, a tenth of a
    trivial view's build): text without one cannot hold two statements, and DuckDB's grammar
    takes only a query after CREATE VIEW ... AS, so the CREATE's own parse refuses the rest.
    When it does, `single_query` says what the SQL is, as it would have before. A table's
    CREATE ... AS takes a trailing WITH [NO] DATA, so a table's SQL is always parsed first.
    """
    if asset.kind != "view" or ";" in sql:
        return replace(cursor, asset, single_query(cursor, asset.name, sql), before)
    try:
        return replace(cursor, asset, sql.strip(), before)
    except duckdb.ParserException:
        single_query(cursor, asset.name, sql)  # an AssetFailure saying what the SQL is
        raise


def is_dataframe(value: Any) -> bool:
    pandas = sys.modules.get("pandas")  # not imported means it cannot be a DataFrame
    return pandas is not None and isinstance(value, pandas.DataFrame)


def replace(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef, query: str, before: guard.Snapshot
) -> int:
    """Put `query`'s result in `asset`'s place; the number of statements that took (1, or 2
    when an object of the other kind stood there before the run)."""
    target = quote_ident(asset.name)
    existing = before.kind_of(asset.name)
    if existing is not None and existing != asset.kind:
        cursor.execute(f"DROP {existing.upper()} {target}")
        cursor.execute(f"CREATE OR REPLACE {asset.kind.upper()} {target} AS {query}")
        return 2
    cursor.execute(f"CREATE OR REPLACE {asset.kind.upper()} {target} AS {query}")
    return 1


def relation_kind(cursor: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'table', 'view' or None: what currently stands under `name` in the main schema."""
    # The catalog functions directly: information_schema.tables is a view over them that cost
    # twice as much (BENCHMARKS.md, 100-row materialize). Names compare as DuckDB does: no case.
    row = cursor.execute(
        "SELECT 'table' FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND lower(table_name) = lower($name) UNION ALL"
        " SELECT 'view' FROM duckdb_views() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND lower(view_name) = lower($name)",
        {"name": name},
    ).fetchall()  # fetchall: an unread result would block the relation API on this cursor
    return row[0][0] if row else None


def describe(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef
) -> tuple[int, list[list[str]], list[dict[str, Any]]]:
    """Row count, [column, type] pairs and a short preview, recorded with each build: two
    queries (the preview's own column types stand in for DESCRIBE)."""
    row_count = scalar(cursor, f"SELECT {count_sql(asset)}")
    return row_count, *preview(cursor, asset)


def count_sql(asset: AssetDef) -> str:
    """A scalar subquery counting `asset`'s rows. A view is read in full (every column hashed):
    its SQL is only evaluated when read, and a view that cannot be read must fail here, before
    COMMIT, not in the next reader's hands."""
    target = quote_ident(asset.name)
    if asset.kind == "view":
        return f"(SELECT count(hash(v)) FROM {target} AS v)"
    return f"(SELECT count(*) FROM {target})"


def preview(
    cursor: duckdb.DuckDBPyConnection, asset: AssetDef
) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """[column, type] pairs and the first rows: one statement."""
    target = quote_ident(asset.name)
    cursor.execute(f"SELECT * FROM {target} LIMIT {PREVIEW_ROWS}")
    columns = [[name, str(kind)] for name, kind, *_ in cursor.description or []]
    rows = [
        {column[0]: jsonable(value) for column, value in zip(columns, row, strict=True)}
        for row in cursor.fetchall()
    ]
    return columns, rows


def error_text(exc: BaseException) -> str:
    """One readable paragraph, capped: DuckDB's messages already say 'X Error: ...', and an
    error quoting a gigabyte of data must not travel on whole."""
    text = (
        str(exc)
        if isinstance(exc, duckdb.Error | PipelineError)
        else f"{type(exc).__name__}: {exc}"
    )
    return cap(text)
