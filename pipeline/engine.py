"""Materialization: plan the selected assets, build each atomically, run its checks, record all.

An asset is rebuilt inside one transaction on its own cursor, so a failure in SQL or Python leaves
the previous table or view exactly as it was. Independent assets build in parallel threads.
"""

from __future__ import annotations

import graphlib
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline import selection, store
from pipeline.checks_runner import run_asset_checks, skipped_checks
from pipeline.definitions import AssetDef, CheckDef, CheckNode, Definitions
from pipeline.errors import AssetFailure, PipelineError, SelectionError
from pipeline.store import AssetEvent, CheckRecord, RunRecord, jsonable
from pipeline.warehouse import DEFAULT_DB, connect, quote_ident, run_lock, utcnow

ProgressCallback = Callable[[AssetEvent | CheckRecord], None]
Selection = str | Iterable[str] | None
_QUERY_STARTS = ("select", "with", "from", "values", "table", "(", "pivot", "unpivot", "summarize")


@dataclass
class RunResult:
    """What a run did: its record, the event of every planned asset, every check result."""

    run: RunRecord
    assets: dict[str, AssetEvent]
    checks: list[CheckRecord]

    @property
    def run_id(self) -> int:
        return self.run.run_id

    @property
    def ok(self) -> bool:
        return self.run.status == "success"

    @property
    def exit_code(self) -> int:
        """0 when every asset built and no ERROR check failed (warnings allowed), else 1."""
        return 0 if self.ok else 1


def materialize(
    defs: Definitions,
    select: Selection = None,
    db: str | Path = DEFAULT_DB,
    max_workers: int | None = None,
    on_event: ProgressCallback | None = None,
) -> RunResult:
    """Rebuild the selected assets (all when None) in dependency order, checks after each."""
    return _run(defs, "materialize", select, db, max_workers, on_event)


def run_checks(
    defs: Definitions,
    select: Selection = None,
    db: str | Path = DEFAULT_DB,
    on_event: ProgressCallback | None = None,
) -> RunResult:
    """Run the checks of the selected assets on their current tables, rebuilding nothing."""
    return _run(defs, "checks", select, db, 1, on_event)


def default_workers() -> int:
    """Assets built at once when the caller does not say: half the cores, 1 to 4.

    DuckDB already spreads each statement over every core, so a second asset thread on a
    2-core machine only competes with it: bench/ measured no wall-time gain there and a 15 %
    higher peak memory. More cores leave room for independent assets to overlap.
    """
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def record_failed_run(db: str | Path, kind: str, selection_text: str | None, message: str) -> int:
    """Record a run that could not start (e.g. broken definitions) so the history says why."""
    with run_lock(db, f"{kind} run"), connect(db) as con:
        store.ensure_schema(con)
        run = store.start_run(con, kind, selection_text, [])
        run.status, run.message, run.ended_at = "failed", message, utcnow()
        store.finish_run(con, run)
        return run.run_id


def _selection_text(select: Selection) -> str | None:
    if select is None or isinstance(select, str):
        return select
    return ", ".join(sorted(select))


def _resolve(defs: Definitions, select: Selection) -> set[str]:
    if select is None or isinstance(select, str):
        return selection.select(defs, select)
    names = set(select)
    if unknown := sorted(names - set(defs.assets)):
        raise SelectionError(f"unknown assets in selection: {', '.join(unknown)}")
    return names


def _run(
    defs: Definitions,
    kind: str,
    select: Selection,
    db: str | Path,
    max_workers: int | None,
    on_event: ProgressCallback | None,
) -> RunResult:
    with run_lock(db, f"{kind} run"), connect(db) as con:
        store.ensure_schema(con)
        store.mark_interrupted(con)  # we hold the run lock: any 'running' run is dead
        run = store.start_run(con, kind, _selection_text(select), [])
        runner = _Runner(defs, con, run, on_event)
        try:
            names = _resolve(defs, select)
            run.planned = [name for level in defs.graph.levels(names) for name in level]
            if kind == "materialize":
                runner.materialize(names, max_workers or default_workers())
            else:
                runner.check_only(run.planned)
            run.status = "success" if runner.succeeded() else "failed"
        except PipelineError as exc:
            run.status, run.message = "failed", str(exc)
            raise
        except BaseException as exc:
            run.status, run.message = "interrupted", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            runner.count_into(run)
            run.ended_at = utcnow()
            store.finish_run(con, run)
        return RunResult(run, runner.events, runner.checks)


class _Runner:
    """One run's state; only the calling thread writes to the store."""

    def __init__(
        self,
        defs: Definitions,
        con: duckdb.DuckDBPyConnection,
        run: RunRecord,
        on_event: ProgressCallback | None,
    ) -> None:
        self.defs = defs
        self.con = con
        self.run = run
        self.on_event = on_event
        self.events: dict[str, AssetEvent] = {}
        self.checks: list[CheckRecord] = []

    def _emit(self, item: AssetEvent | CheckRecord) -> None:
        if isinstance(item, AssetEvent):
            self.events[item.asset] = item
            store.record_asset_event(self.con, item)
        else:
            self.checks.append(item)
            store.record_check(self.con, item)
        if self.on_event is not None:
            self.on_event(item)

    def materialize(self, names: set[str], max_workers: int) -> None:
        graph = self.defs.graph
        deferred = self.defs.deferred_checks(names)
        sorter = graphlib.TopologicalSorter(self.defs.execution_graph(names))
        sorter.prepare()
        stopped: dict[str, str] = {}  # asset -> what happened to it, for its downstream's reason
        pending: dict[Future[Any], str | CheckNode] = {}
        with ThreadPoolExecutor(max_workers, thread_name_prefix="asset") as pool:
            while sorter.is_active():
                for node in sorted(sorter.get_ready(), key=str):
                    if isinstance(node, CheckNode):
                        check = deferred[node.key]
                        if unbuilt := self._unbuilt(check, names):
                            reason = f"asset '{unbuilt}' was not built in this run"
                            self._emit_all(skipped_checks([check], self.run.run_id, reason))
                            sorter.done(node)
                        else:  # cursors are made here: a connection is not for two threads
                            cursor = self.con.cursor()
                            pending[pool.submit(self._check, check, cursor)] = node
                        continue
                    parent = next((p for p in graph.parents(node) if p in stopped), None)
                    if parent is not None:
                        self._skip(node, f"upstream '{parent}' {stopped[parent]}", deferred)
                        stopped[node] = "was skipped"
                        sorter.done(node)
                        continue
                    asset = self.defs.assets[node]
                    self._emit(AssetEvent(self.run.run_id, node, "running", asset.kind, utcnow()))
                    checks = [c for c in self.defs.checks_for(node) if c.key not in deferred]
                    future = pool.submit(self._build, asset, checks, self.con.cursor())
                    pending[future] = node
                if not pending:
                    continue
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: str(pending[f])):
                    node = pending.pop(future)
                    if isinstance(node, CheckNode):
                        results = future.result()
                        owner = deferred[node.key].asset
                    else:
                        event, results = future.result()
                        self._emit(event)
                        owner = node
                        if event.status != "materialized":
                            stopped[node] = "failed"
                    self._emit_all(results)
                    if blocker := next((r for r in results if _blocks(r)), None):
                        stopped.setdefault(owner, f"is blocked by failed check '{blocker.key}'")
                    sorter.done(node)

    def _emit_all(self, items: Iterable[AssetEvent | CheckRecord]) -> None:
        for item in items:
            self._emit(item)

    def _unbuilt(self, check: CheckDef, names: set[str]) -> str | None:
        """The first asset a deferred check reads that this run should have built but did not."""
        needed = [check.asset, *check.additional_deps]
        return next(
            (n for n in needed if n in names and self.events[n].status != "materialized"), None
        )

    def _skip(self, name: str, reason: str, deferred: dict[str, CheckDef]) -> None:
        asset = self.defs.assets[name]
        self._emit(AssetEvent(self.run.run_id, name, "skipped", asset.kind, error=reason))
        own = [c for c in self.defs.checks_for(name) if c.key not in deferred]
        self._emit_all(skipped_checks(own, self.run.run_id, reason))

    def _check(self, check: CheckDef, cursor: duckdb.DuckDBPyConnection) -> list[CheckRecord]:
        """A deferred check, in a worker thread once every asset it reads is built."""
        try:
            return run_asset_checks(self.defs, [check], cursor, self.run.run_id)
        finally:
            cursor.close()

    def _build(
        self, asset: AssetDef, checks: list[CheckDef], cursor: duckdb.DuckDBPyConnection
    ) -> tuple[AssetEvent, list[CheckRecord]]:
        """Runs in a worker thread on its own cursor; returns results for the caller to record."""
        event = AssetEvent(self.run.run_id, asset.name, "materialized", asset.kind, utcnow())
        event.code_version = asset.code_version
        try:
            started = time.perf_counter()
            try:
                rebuild(cursor, asset)
                event.duration_s = time.perf_counter() - started
                event.row_count, event.columns, event.preview = describe(cursor, asset.name)
            except Exception as exc:
                event.duration_s = time.perf_counter() - started
                event.status, event.error = "failed", error_text(exc)
            event.ended_at = utcnow()
            if event.status != "materialized":
                reason = f"asset '{asset.name}' failed to materialize"
                return event, skipped_checks(checks, self.run.run_id, reason)
            return event, run_asset_checks(self.defs, checks, cursor, self.run.run_id)
        finally:
            cursor.close()

    def check_only(self, names: list[str]) -> None:
        cursor = self.con.cursor()
        try:
            for name in names:
                checks = self.defs.checks_for(name)
                if relation_kind(cursor, name) is None:
                    reason = f"asset '{name}' has not been materialized yet; materialize it first"
                    for record in skipped_checks(checks, self.run.run_id, reason):
                        record.outcome = "error"
                        self._emit(record)
                    continue
                self._emit_all(run_asset_checks(self.defs, checks, cursor, self.run.run_id))
        finally:
            cursor.close()

    def succeeded(self) -> bool:
        assets_ok = all(e.status == "materialized" for e in self.events.values())
        return assets_ok and not any(_fails_run(r) for r in self.checks)

    def count_into(self, run: RunRecord) -> None:
        statuses = [e.status for e in self.events.values()]
        run.assets_materialized = statuses.count("materialized")
        run.assets_failed = statuses.count("failed")
        run.assets_skipped = statuses.count("skipped")
        outcomes = [r.outcome for r in self.checks]
        run.checks_passed = outcomes.count("passed")
        run.checks_warned = outcomes.count("warned")
        run.checks_failed = outcomes.count("failed") + outcomes.count("error")


def _fails_run(record: CheckRecord) -> bool:
    return record.severity == "error" and record.outcome in ("failed", "error")


def _blocks(record: CheckRecord) -> bool:
    return record.blocking and _fails_run(record)


def error_text(exc: BaseException) -> str:
    """One readable line or paragraph: DuckDB's messages already say 'X Error: ...'."""
    if isinstance(exc, duckdb.Error | PipelineError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def relation_kind(cursor: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'table', 'view' or None: what currently stands under `name` in the main schema."""
    # The catalog functions directly: information_schema.tables is a view over them that cost
    # twice as much, and this runs twice per asset (BENCHMARKS.md, 100-row materialize).
    row = cursor.execute(
        "SELECT 'table' FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name = $name UNION ALL"
        " SELECT 'view' FROM duckdb_views() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND view_name = $name",
        {"name": name},
    ).fetchone()
    return None if row is None else row[0]


def rebuild(cursor: duckdb.DuckDBPyConnection, asset: AssetDef) -> None:
    """Run the asset function and replace its table or view in one transaction.

    DuckDB's trap: once a statement fails inside a transaction, COMMIT returns without error and
    silently rolls everything back. A probe statement before COMMIT turns that into an error.
    """
    cursor.execute("BEGIN TRANSACTION")
    try:
        value = asset.fn(cursor)
        _write(cursor, asset, value)
        cursor.execute("SELECT 1")  # raises 'transaction is aborted' if fn swallowed an error
        cursor.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
        raise
    if relation_kind(cursor, asset.name) != asset.kind:
        raise AssetFailure(
            f"asset '{asset.name}' did not leave a {asset.kind} named '{asset.name}' after commit"
        )


def _write(cursor: duckdb.DuckDBPyConnection, asset: AssetDef, value: Any) -> None:
    scratch = quote_ident(f"__assetboard_{asset.name}")
    if isinstance(value, str):
        query = value.strip().rstrip(";")
        if not query.lower().startswith(_QUERY_STARTS):
            raise AssetFailure(
                f"asset '{asset.name}' returned SQL that is not a query ({query[:40]!r}...):"
                " return a SELECT statement, or run your statements and return None"
            )
        _replace(cursor, asset, query)
    elif isinstance(value, duckdb.DuckDBPyRelation):
        if asset.kind == "view":
            _replace(cursor, asset, value.sql_query())
        else:
            value.to_view(scratch.strip('"'), replace=True)
            _replace(cursor, asset, f"SELECT * FROM {scratch}")
            cursor.execute(f"DROP VIEW {scratch}")
    elif _is_dataframe(value):
        if asset.kind == "view":
            raise AssetFailure(
                f"asset '{asset.name}' returned a DataFrame but has kind='view'; a DataFrame"
                " can only be stored as a table: use kind='table'"
            )
        cursor.register(scratch.strip('"'), value)
        _replace(cursor, asset, f"SELECT * FROM {scratch}")
        cursor.unregister(scratch.strip('"'))
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


def _is_dataframe(value: Any) -> bool:
    pandas = sys.modules.get("pandas")  # not imported means it cannot be a DataFrame
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _replace(cursor: duckdb.DuckDBPyConnection, asset: AssetDef, query: str) -> None:
    target = quote_ident(asset.name)
    existing = relation_kind(cursor, asset.name)
    if existing is not None and existing != asset.kind:
        cursor.execute(f"DROP {existing.upper()} {target}")
    cursor.execute(f"CREATE OR REPLACE {asset.kind.upper()} {target} AS {query}")


def describe(
    cursor: duckdb.DuckDBPyConnection, name: str, preview_rows: int = 10
) -> tuple[int, list[list[str]], list[dict[str, Any]]]:
    """Row count, [column, type] pairs and a short preview, recorded with each build."""
    target = quote_ident(name)
    row_count = cursor.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    columns = [[row[0], row[1]] for row in cursor.execute(f"DESCRIBE {target}").fetchall()]
    cursor.execute(f"SELECT * FROM {target} LIMIT ?", [preview_rows])
    preview = [
        {column[0]: jsonable(value) for column, value in zip(columns, row, strict=True)}
        for row in cursor.fetchall()
    ]
    return row_count, columns, preview
