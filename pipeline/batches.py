"""Cheap builds committed together: one transaction for many independent assets.

A single build pays a fixed price (two catalog snapshots, a ledger INSERT, a COMMIT) that is
most of its cost when the asset is a trivial view: 2,000 of them spent 90 % of their time
there. A batch pays it once. It promises what a single build promises (builder.py): every asset
of a batch is committed with its ledger row, or none is, and an asset may change only its own
table or view. The second is checked per asset (`guard.own_objects` right after it is built,
compared with the end of the batch) and for the batch as a whole (`guard.verify_batch`).

Anything going wrong rolls the batch back and raises `BatchFailed`; the engine then builds
those assets one at a time, so a failure is reported exactly as a single build reports it and
costs at most one batch's work twice. Batches are cut by time (`SLICE_SECONDS`) so a slow asset
that slipped in delays its neighbours' commit by little.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

import duckdb

from pipeline import builder, faults, guard, ledger
from pipeline.definitions import AssetDef
from pipeline.errors import AssetFailure
from pipeline.store import CatalogEntry
from pipeline.warehouse import utcnow

SLICE_SECONDS = 0.2  # stop adding assets to a batch after this long, and commit it


class BatchFailed(Exception):
    """The batch was rolled back: `attempted` assets must be built one at a time."""

    def __init__(self, attempted: list[str], cause: BaseException) -> None:
        super().__init__(f"batch of {len(attempted)} rolled back: {cause}")
        self.attempted = attempted
        self.cause = cause


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


def rebuild_batch(
    cursor: duckdb.DuckDBPyConnection,
    assets: Sequence[AssetDef],
    run_id: int,
    stop: threading.Event,
    on_start: Callable[[str], None],
) -> list[Built]:
    """Build a leading part of `assets` (as many as fit in SLICE_SECONDS, at least one) in one
    transaction and commit them; the builds, in order. BatchFailed after a rollback;
    builder.Cancelled when the run was cancelled."""
    started = time.perf_counter()
    attempted: list[str] = []
    cursor.execute("BEGIN TRANSACTION")
    try:
        before = guard.snapshot(cursor)
        built: list[Built] = []
        owned: dict[str, guard.Objects] = {}
        for asset in assets:
            if built and time.perf_counter() - started > SLICE_SECONDS:
                break
            attempted.append(asset.name)
            on_start(asset.name)
            built.append(_build_one(cursor, asset, run_id, stop, before, owned))
        guard.verify_batch(cursor, before, owned)
        committed_at = utcnow()
        for build in built:
            build.entry.committed_at = committed_at
        ledger.add(cursor, *(build.entry for build in built))
        cursor.execute("SELECT 1")  # raises 'transaction is aborted' if a function hid an error
        for name in attempted:
            faults.pause("before-commit", name, stop)
        if stop.is_set():
            raise builder.Cancelled("the run was cancelled before the batch committed")
        cursor.execute("COMMIT")
    except builder.Cancelled:
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


def _build_one(
    cursor: duckdb.DuckDBPyConnection,
    asset: AssetDef,
    run_id: int,
    stop: threading.Event,
    before: guard.Snapshot,
    owned: dict[str, guard.Objects],
) -> Built:
    started = time.perf_counter()
    faults.pause("asset-running", asset.name, stop)
    if stop.is_set():
        raise builder.Cancelled(f"the run was cancelled before '{asset.name}' started")
    first = _statement_number(cursor)
    value = asset.fn(cursor)
    if _statement_number(cursor) != first + 1:  # the function ran statements of its own
        guard.verify(cursor, guard.expected(before, owned), asset.name)
    builder.write(cursor, asset, value, before)
    del value  # as in builder.rebuild: a view needing a released object fails now
    owned[asset.name] = objects = guard.own_objects(cursor, asset.name, asset.kind)
    if (asset.kind, "main", asset.name.lower()) not in objects:
        raise AssetFailure(f"asset '{asset.name}' did not leave a {asset.kind} of its name")
    row_count, columns, preview = builder.describe(cursor, asset)
    entry = CatalogEntry(
        asset.name, run_id, asset.kind, row_count, columns, preview, asset.code_version
    )
    return Built(entry, time.perf_counter() - started)


def _statement_number(cursor: duckdb.DuckDBPyConnection) -> int:
    """DuckDB numbers every statement of the database: a function that ran none leaves the
    next number to this query. Another thread's statement makes a gap too; then the function
    is verified in full for nothing, never trusted wrongly."""
    ((number,),) = cursor.execute("SELECT current_query_id()").fetchall()
    return int(number)


def _rollback(cursor: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):
        cursor.execute("ROLLBACK")
