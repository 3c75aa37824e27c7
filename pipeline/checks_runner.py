"""Executing asset checks and turning their CheckResult into a recorded CheckRecord.

A check that raises is recorded as 'error' with its message: one broken check never stops a run.
A check never changes the warehouse: it runs inside a transaction that is always rolled back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline import faults
from pipeline.builder import error_text
from pipeline.definitions import SEVERITIES, AssetContext, CheckDef, CheckResult, Definitions
from pipeline.errors import PipelineError
from pipeline.partitions import TimeWindow
from pipeline.states import CheckOutcome, NotRunReason
from pipeline.store import CheckRecord, jsonable
from pipeline.warehouse import scalar, utcnow

NOT_RUN_TEXT = {  # the same cause in the same words everywhere it is shown
    NotRunReason.ASSET_FAILED: "asset '{asset}' failed to build in this run",
    NotRunReason.ASSET_SKIPPED: "asset '{asset}' was skipped in this run",
    NotRunReason.ASSET_NOT_BUILT: "an asset it reads was not built in this run",
    NotRunReason.RUN_STOPPED: "the run stopped before it could run",
    NotRunReason.PROCESS_DIED: "the process running the run died before it could run",
}


def _record(check: CheckDef, run_id: int, outcome: str) -> CheckRecord:
    return CheckRecord(
        run_id=run_id,
        asset=check.asset,
        check_name=check.name,
        outcome=outcome,
        severity=check.severity,
        blocking=check.blocking,
        description=check.description,
    )


def skipped_checks(
    checks: Iterable[CheckDef],
    run_id: int,
    reason: NotRunReason | None,
    text: str | None = None,
) -> list[CheckRecord]:
    """Checks that could not run, recorded as skipped with the reason as a fact and in words."""
    records = []
    for check in checks:
        record = _record(check, run_id, CheckOutcome.SKIPPED)
        record.skip_reason = reason
        record.error = text or (NOT_RUN_TEXT[reason].format(asset=check.asset) if reason else None)
        records.append(record)
    return records


def run_asset_checks(
    defs: Definitions,
    checks: Iterable[CheckDef],
    cursor: duckdb.DuckDBPyConnection,
    run_id: int,
    stop: threading.Event | None = None,
    scope: Scope | None = None,
    history_db: Path | None = None,
) -> list[CheckRecord]:
    """Run `checks` on `cursor` in order, each keeping its own or the default sample size;
    with a `scope`, on one partition of the asset. `history_db` (the warehouse file) lets a
    check read the run history through its context.

    Once `stop` is set the remaining checks are recorded as not run.
    """
    checks = list(checks)
    records = []
    done: dict[str, CheckRecord] = {}  # checks already run with a sibling of their multi-check
    for check in checks:
        if check.key in done:
            records.append(done.pop(check.key))
            continue
        if stop is not None and stop.is_set():
            records += skipped_checks([check], run_id, NotRunReason.RUN_STOPPED)
            continue
        together = [c for c in checks if c.multi is check.multi] if check.multi else [check]
        sizes = [
            defs.failing_sample_size if c.sample_size is None else c.sample_size for c in together
        ]
        faults.pause("check-running", check.key, stop)
        ran = run_together(together, cursor, run_id, sizes, scope, history_db)
        done.update((record.key, record) for record in ran)
        record = done.pop(check.key)
        if stop is not None and stop.is_set() and record.outcome == CheckOutcome.ERROR:
            record = skipped_checks([check], run_id, NotRunReason.RUN_STOPPED)[0]
        records.append(record)
    return records


@dataclass(frozen=True)
class Scope:
    """One partition a check runs on: its key and the temporary view showing only it."""

    key: str
    view_sql: str
    window: TimeWindow | None = None


def run_check(
    check: CheckDef,
    cursor: duckdb.DuckDBPyConnection,
    run_id: int,
    sample_size: int,
    scope: Scope | None = None,
    history_db: Path | None = None,
) -> CheckRecord:
    return run_together([check], cursor, run_id, [sample_size], scope, history_db)[0]


def run_together(
    checks: list[CheckDef],
    cursor: duckdb.DuckDBPyConnection,
    run_id: int,
    sample_sizes: list[int],
    scope: Scope | None = None,
    history_db: Path | None = None,
) -> list[CheckRecord]:
    """Run one check, or checks of one @multi_asset_check (its function called once), and
    record each on its own; one transaction, rolled back."""
    records = [_record(check, run_id, CheckOutcome.ERROR) for check in checks]
    started_at = utcnow()
    started = time.perf_counter()
    try:  # BEGIN too: a cancel may interrupt it, and that must read as a check not run
        cursor.execute("BEGIN TRANSACTION")
        if scope is not None:
            cursor.execute(scope.view_sql)
        context = AssetContext(
            checks[0].asset,
            run_id,
            scope.key if scope else None,
            scope.window if scope else None,
            history_db=history_db,
        )
        results = _results(checks, cursor, context)
        for check, record, size, result in zip(checks, records, sample_sizes, results, strict=True):
            try:
                if isinstance(result, Exception):
                    raise result
                _judge(check, record, result, cursor, size)
            except Exception as exc:
                record.outcome = CheckOutcome.ERROR
                record.error = error_text(exc)
                _begin_again(cursor, scope)  # a failed query aborts the transaction: not theirs
    except Exception as exc:
        for record in records:
            record.outcome = CheckOutcome.ERROR
            record.error = error_text(exc)
    finally:
        with suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
    for record in records:
        record.started_at = started_at
        record.duration_s = time.perf_counter() - started
    return records


def _begin_again(cursor: duckdb.DuckDBPyConnection, scope: Scope | None) -> None:
    """A fresh transaction (and partition view) for the results still to judge."""
    with suppress(duckdb.Error):
        cursor.execute("ROLLBACK")
    cursor.execute("BEGIN TRANSACTION")
    if scope is not None:
        cursor.execute(scope.view_sql)


def _results(
    checks: list[CheckDef], cursor: duckdb.DuckDBPyConnection, context: AssetContext
) -> list[CheckResult | PipelineError]:
    """Each check's result, or the error saying why its multi-check function left it out."""
    multi = checks[0].multi
    if multi is None:
        return [checks[0].run(cursor, context)]
    found = multi.by_key(multi.results(cursor, context))
    return [found.get(check.key) or PipelineError(multi.missing(check)) for check in checks]


def _judge(
    check: CheckDef,
    record: CheckRecord,
    result: CheckResult,
    cursor: duckdb.DuckDBPyConnection,
    sample_size: int,
) -> None:
    """Fill `record` from `result`: the outcome by severity, the explanation, failing rows."""
    passed = bool(result.passed)
    returned = result.severity.lower() if isinstance(result.severity, str) else result.severity
    if returned not in (None, *SEVERITIES):
        raise PipelineError(
            f"check '{check.key}' returned severity {result.severity!r}; use error or warn"
        )
    record.severity = returned or check.severity
    if passed:
        record.outcome = CheckOutcome.PASSED
    else:
        record.outcome = CheckOutcome.WARNED if record.severity == "warn" else CheckOutcome.FAILED
    record.metadata = dict(result.metadata)
    record.observed_value = result.observed_value
    record.threshold = result.threshold
    record.sql = result.failing_rows_sql
    if result.failing_rows_sql and not passed:
        record.failing_count, record.failing_sample = failing_rows(
            cursor,
            result.failing_rows_sql,
            sample_size,
            result.failing_rows_params,
            known_count=result.failing_count,
        )


def failing_rows(
    cursor: duckdb.DuckDBPyConnection,
    sql: str,
    sample_size: int,
    params: Mapping[str, Any] | None = None,
    known_count: int | None = None,
) -> tuple[int, list[dict]]:
    """How many rows break the check (counted unless the check already did), and a capped
    sample (none when sample_size is 0)."""
    query = sql.strip().rstrip(";")
    count = (
        known_count
        if known_count is not None
        else scalar(cursor, f"SELECT count(*) FROM ({query})", dict(params or {}))
    )
    if sample_size <= 0:
        return count, []
    cursor.execute(
        f"SELECT * FROM ({query}) LIMIT $assetboard_sample_size",
        {**(params or {}), "assetboard_sample_size": sample_size},
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, map(jsonable, row), strict=True)) for row in cursor.fetchall()]
    return count, rows
