"""Cheap builds committed together: one transaction for many independent assets.

A build of its own pays a fixed price (two catalog snapshots, a ledger INSERT, a COMMIT) that
is most of its cost when the asset is a trivial view. A batch pays it once, and reads each view
once. It promises what a build of its own promises (builder.py): every asset of a batch is
committed with its ledger row, or none is, and an asset may change only its own table or view.

The second promise is kept by counting statements. DuckDB numbers every statement it runs
(current_query_id); counting our own, a gap means the asset's function ran statements of its
own ("noisy"; most return a query and run none). A function that ran none changed nothing. A
noisy one is compared in full with what the catalog must be at that point (guard.expected),
which needs what each asset before it in the batch left behind: a batch starts without that
record (it costs a catalog read per asset), and on meeting a noisy asset after the first it
rolls back and is started again `careful`, keeping the record. Another thread's statement makes
a gap too: that costs a needless comparison, never a missed one.

Anything else going wrong rolls the batch back and raises `BatchFailed`; the engine then builds
those assets one at a time, so a failure reads exactly as it would alone. Batches are cut by
time (`SLICE_SECONDS`) so a slow asset that slipped in delays its neighbours' commit by little.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import duckdb

from pipeline import builder, faults, guard, ledger
from pipeline.definitions import AssetContext, AssetDef
from pipeline.errors import AssetFailure
from pipeline.store import CatalogEntry, jsonable
from pipeline.warehouse import quote_ident, utcnow

SLICE_SECONDS = 0.5  # stop adding assets to a batch after this long, and commit it


class BatchFailed(Exception):
    """The batch was rolled back: `attempted` assets must be built one at a time."""

    def __init__(self, attempted: list[str], cause: BaseException) -> None:
        super().__init__(f"batch of {len(attempted)} rolled back: {cause}")
        self.attempted = attempted
        self.cause = cause


class NeedsCare(Exception):
    """A noisy asset came after the first: the batch was rolled back, to be run `careful`."""


@dataclass
class Built:
    entry: CatalogEntry
    duration_s: float  # the asset's own work; the shared COMMIT is not counted


def batchable(asset: AssetDef, last_duration_s: float | None, below_s: float) -> bool:
    """Cheap enough to share a transaction: built in under `below_s` last time, or a view never
    built (a view's definition is cheap; reading it is the cost, and the slice bounds it). A
    table never built is not: it may be a ten-million-row load whose failure would cost it
    twice. `below_s` 0 batches nothing."""
    if below_s <= 0:
        return False
    if last_duration_s is None:
        return asset.kind == "view"
    return last_duration_s < below_s


@dataclass
class _Batch:
    cursor: duckdb.DuckDBPyConnection
    run_id: int
    stop: threading.Event
    careful: bool
    before: guard.Snapshot
    next_statement: int  # the number DuckDB gives our next statement if no one else runs one
    owned: dict[str, guard.Objects]  # careful: what each asset left, right after its build


def rebuild_batch(
    cursor: duckdb.DuckDBPyConnection,
    assets: Sequence[AssetDef],
    run_id: int,
    stop: threading.Event,
    on_start: Callable[[str], None],
    careful: bool = False,
) -> list[Built]:
    """Build a leading part of `assets` (as many as fit in SLICE_SECONDS, at least one) in one
    transaction and commit them; the builds, in order. After a rollback: BatchFailed, NeedsCare,
    or builder.Cancelled when the run was cancelled. A BEGIN that failed is a BatchFailed with
    nothing attempted (the ROLLBACK after it finds no transaction, and says nothing)."""
    started = time.perf_counter()
    attempted: list[str] = []
    try:  # BEGIN too: a cancel may interrupt it, and that must read as a cancel, not a crash
        cursor.execute("BEGIN TRANSACTION")
        before = guard.snapshot(cursor)
        batch = _Batch(cursor, run_id, stop, careful, before, _statement_number(cursor) + 1, {})
        built: list[Built] = []
        for asset in assets:
            if built and time.perf_counter() - started > SLICE_SECONDS:
                break
            attempted.append(asset.name)
            on_start(asset.name)
            built.append(_build_one(batch, asset, first=not built))
        guard.verify_batch(cursor, before, attempted, batch.owned if careful else None)
        committed_at = utcnow()
        for build in built:
            build.entry.committed_at = committed_at
        ledger.add(cursor, *(build.entry for build in built))
        cursor.execute("SELECT 1")  # raises 'transaction is aborted' if a function hid an error
        for name in attempted:
            faults.pause("before-commit", name, stop)
        if stop.is_set():
            raise builder.Cancelled("the run was cancelled before the batch committed")
        ledger.commit(cursor, built[0].entry)
    except (builder.Cancelled, NeedsCare):
        _rollback(cursor)
        raise
    except Exception as exc:
        _rollback(cursor)
        if stop.is_set():
            raise builder.Cancelled(str(exc)) from exc
        raise BatchFailed(attempted, exc) from exc
    except BaseException:
        _rollback(cursor)
        raise
    return built


def _build_one(batch: _Batch, asset: AssetDef, first: bool) -> Built:
    started = time.perf_counter()
    cursor = batch.cursor
    faults.pause("asset-running", asset.name, batch.stop)
    if batch.stop.is_set():
        raise builder.Cancelled(f"the run was cancelled before '{asset.name}' started")
    value = asset.build(cursor, AssetContext(asset.name, batch.run_id))
    if isinstance(value, str):
        taken = builder.replace_with_sql(cursor, asset, value, batch.before)
        expected_number = batch.next_statement + taken  # a parse in Python takes no number
        found = _describe(cursor, asset, batch.careful)
        noisy = found.number != expected_number
    else:  # other values take a varying number of statements: look before writing
        noisy = _statement_number(cursor) != batch.next_statement
        returned_none = value is None
        builder.write(cursor, asset, value, batch.before)
        del value  # as in builder.rebuild: a view needing a released object fails now
        if returned_none and builder.relation_kind(cursor, asset.name) != asset.kind:
            raise AssetFailure(f"asset '{asset.name}' did not leave a {asset.kind} of its name")
        found = _describe(cursor, asset, batch.careful)
    if noisy:
        if not first and not batch.careful:
            raise NeedsCare(asset.name)
        guard.verify(cursor, guard.expected(batch.before, batch.owned), asset.name)
    if batch.careful:
        batch.owned[asset.name] = guard.objects_from(found.objects)
    batch.next_statement = found.number + 1
    entry = CatalogEntry(
        asset.name,
        batch.run_id,
        asset.kind,
        found.row_count,
        found.columns,
        found.preview,
        asset.code_version,
    )
    return Built(entry, time.perf_counter() - started)


@dataclass
class _Found:
    row_count: int
    columns: list[list[str]]
    preview: list[dict[str, Any]]
    number: int  # DuckDB's number for the statement that found these
    objects: list[list[str | None]] | None  # careful: guard.own_objects_sql's answer


def _describe(cursor: duckdb.DuckDBPyConnection, asset: AssetDef, careful: bool) -> _Found:
    """builder.describe's row count and preview, the statement's own number, and (careful) what
    the asset owns, in one statement. A view is bound once (its row numbers stream, nothing is
    held): binding a view binds every view it reads, the biggest cost of a deep chain."""
    target = quote_ident(asset.name)
    own = guard.own_objects_sql(asset.kind) if careful else "NULL"
    found = f"current_query_id(), {own}"
    if asset.kind == "view":
        query = (
            f"SELECT count(hash(v)), list(v) FILTER (WHERE n <= {builder.PREVIEW_ROWS}), {found}"
            f" FROM (SELECT v, row_number() OVER () AS n FROM {target} AS v)"
        )
    else:  # a table's count is known without reading it
        query = (
            f"SELECT (SELECT count(*) FROM {target}),"
            f" (SELECT list(v) FROM (SELECT v FROM {target} AS v LIMIT {builder.PREVIEW_ROWS})),"
            f" {found}"
        )
    cursor.execute(query, {"own": asset.name.lower()} if careful else None)
    row_type = (cursor.description or [])[1][1].child  # STRUCT(column type, ...)
    ((row_count, rows, number, objects),) = cursor.fetchall()
    columns = [[name, str(kind)] for name, kind in row_type.children]
    preview = [{name: jsonable(value) for name, value in row.items()} for row in rows or []]
    return _Found(int(row_count), columns, preview, int(number), objects)


def _statement_number(cursor: duckdb.DuckDBPyConnection) -> int:
    """The number DuckDB gave this very statement."""
    ((number,),) = cursor.execute("SELECT current_query_id()").fetchall()
    return int(number)


def _rollback(cursor: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):
        cursor.execute("ROLLBACK")
