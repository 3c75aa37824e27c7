"""Reading the history: what every page, report and command shows.

A run recorded as running while no process holds the run lock is shown as interrupted, and
the catalog of a warehouse file deleted or replaced since is shown as empty.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from pipeline.states import CheckKey, CheckOutcome, EventStatus, RunStatus
from pipeline.store.records import (
    AssetEvent,
    CatalogEntry,
    CheckRecord,
    ColumnProfile,
    Profile,
    RunRecord,
    _columns,
    _fetch,
    _select,
)

# Read beside the status word ("interrupted", "not started"), so without it.
DEAD_RUN = (
    "the process running it stopped before the run finished (the next run records what it left)"
)


def _as_seen(con: sqlite3.Connection, runs: list[RunRecord]) -> list[RunRecord]:
    """A run recorded as running while no process holds the run lock is shown as what it is."""
    if getattr(con, "runs_alive", True):
        return runs
    for run in runs:
        if run.status == RunStatus.RUNNING:
            run.status, run.message = RunStatus.INTERRUPTED, DEAD_RUN
    return runs


def list_runs(con: sqlite3.Connection, limit: int = 50) -> list[RunRecord]:
    sql = f"{_select(RunRecord, 'runs')} ORDER BY run_id DESC LIMIT ?"
    return _as_seen(con, _fetch(con, RunRecord, sql, [limit]))


def get_run(con: sqlite3.Connection, run_id: int) -> RunRecord | None:
    sql = f"{_select(RunRecord, 'runs')} WHERE run_id = ?"
    found = _as_seen(con, _fetch(con, RunRecord, sql, [run_id]))
    return found[0] if found else None


def running_runs(con: sqlite3.Connection) -> list[RunRecord]:
    """Runs recorded as running (alive, or dead and not yet repaired), oldest first."""
    return _fetch(
        con,
        RunRecord,
        f"{_select(RunRecord, 'runs')} WHERE status = ? ORDER BY run_id",
        [RunStatus.RUNNING],
    )


def runs_lacking_checks(con: sqlite3.Connection) -> list[RunRecord]:
    """Interrupted runs with fewer check records than planned checks, oldest first: a repair
    that had no definitions (a reader's) could not say which checks those were."""
    return _fetch(
        con,
        RunRecord,
        f"{_select(RunRecord, 'runs')} WHERE status = ? AND checks_planned > ("
        " SELECT count(*) FROM check_results c WHERE c.run_id = runs.run_id) ORDER BY run_id",
        [RunStatus.INTERRUPTED],
    )


def run_events(con: sqlite3.Connection, run_id: int) -> list[AssetEvent]:
    events = _fetch(
        con,
        AssetEvent,
        f"{_select(AssetEvent, 'asset_events')} WHERE run_id = ?"
        " ORDER BY started_at IS NULL, started_at, asset",
        [run_id],
    )
    if not getattr(con, "runs_alive", True):  # a dead run's unfinished assets, as they are
        for event in events:
            if event.status == EventStatus.RUNNING:
                event.status = EventStatus.INTERRUPTED
                event.error = f"{DEAD_RUN}; the previous {event.kind} is kept"
            elif event.status == EventStatus.QUEUED:
                event.status = EventStatus.NOT_STARTED
                event.error = "the process running the run stopped before it started"
    return events


def run_check_results(con: sqlite3.Connection, run_id: int) -> list[CheckRecord]:
    return _fetch(
        con,
        CheckRecord,
        f"{_select(CheckRecord, 'check_results')} WHERE run_id = ? ORDER BY asset, check_name",
        [run_id],
    )


def asset_history(con: sqlite3.Connection, asset: str, limit: int = 200) -> list[AssetEvent]:
    """Newest first: every recorded event of one asset."""
    return _fetch(
        con,
        AssetEvent,
        f"{_select(AssetEvent, 'asset_events')} WHERE asset = ? ORDER BY run_id DESC LIMIT ?",
        [asset, limit],
    )


def check_history(
    con: sqlite3.Connection, asset: str | None = None, limit: int = 1000
) -> list[CheckRecord]:
    """Newest first: every recorded check execution, optionally of one asset's checks."""
    return _fetch(
        con,
        CheckRecord,
        f"{_select(CheckRecord, 'check_results')} WHERE ? IS NULL OR asset = ?"
        " ORDER BY run_id DESC, asset, check_name LIMIT ?",
        [asset, asset, limit],
    )


def latest_events(
    con: sqlite3.Connection,
    status: str | None = None,
    among: tuple[str, ...] = (EventStatus.MATERIALIZED, EventStatus.FAILED),
    *,
    previews: bool = True,
) -> dict[str, AssetEvent]:
    """The newest event per asset whose status is `status`, or one of `among`; without
    `previews`, no columns and preview rows (decoding them is most of the cost at 2,000)."""
    wanted = [status] if status else list(among)
    marks = ", ".join("?" * len(wanted))
    names = [n for n in _columns(AssetEvent) if previews or n not in ("columns", "preview")]
    rows = _fetch(
        con,
        AssetEvent,
        f"SELECT {', '.join(names)} FROM ("
        f" SELECT *, row_number() OVER (PARTITION BY asset ORDER BY run_id DESC) AS newest"
        f" FROM asset_events WHERE status IN ({marks})) WHERE newest = 1",
        wanted,
    )
    return {event.asset: event for event in rows}


def build_durations(con: sqlite3.Connection) -> dict[str, float]:
    """How long each asset's newest successful build took: what the engine batches by."""
    rows = con.execute(
        "SELECT asset, duration_s FROM ("
        " SELECT asset, duration_s, row_number() OVER (PARTITION BY asset ORDER BY run_id DESC)"
        " AS newest FROM asset_events WHERE status = ?) WHERE newest = 1",
        [EventStatus.MATERIALIZED],
    ).fetchall()
    return {asset: duration for asset, duration in rows if duration is not None}


def latest_attempts(con: sqlite3.Connection, *, previews: bool = True) -> dict[str, AssetEvent]:
    """The newest build per asset that decided something: built, failed, or skipped.

    Cancelled, interrupted and never-started builds changed nothing, so they do not count.
    """
    decided = (EventStatus.MATERIALIZED, EventStatus.FAILED, EventStatus.SKIPPED)
    return latest_events(con, None, decided, previews=previews)


def latest_check_records(con: sqlite3.Connection) -> dict[str, CheckRecord]:
    """The newest record per check key ('asset.check'), a record of not running included."""
    rows = _fetch(
        con,
        CheckRecord,
        f"SELECT {', '.join(_columns(CheckRecord))} FROM ("
        " SELECT *, row_number() OVER (PARTITION BY asset, check_name ORDER BY run_id DESC)"
        " AS newest FROM check_results) WHERE newest = 1",
    )
    return {record.key: record for record in rows}


def latest_check_results(con: sqlite3.Connection) -> dict[str, CheckRecord]:
    """The newest executed result per check key ('asset.check'); skips ignored."""
    rows = _fetch(
        con,
        CheckRecord,
        f"SELECT {', '.join(_columns(CheckRecord))} FROM ("
        " SELECT *, row_number() OVER (PARTITION BY asset, check_name ORDER BY run_id DESC)"
        " AS newest FROM check_results WHERE outcome <> ?) WHERE newest = 1",
        [CheckOutcome.SKIPPED],
    )
    return {record.key: record for record in rows}


def latest_check_versions(con: sqlite3.Connection) -> dict[CheckKey, tuple[int, str]]:
    """Per check, the run of its newest execution and the code version of the definition that
    ran then; empty for a history written before versions were kept."""
    try:
        rows = con.execute(
            "SELECT asset, check_name, run_id, code_version FROM check_versions"
            " JOIN (SELECT asset, check_name, max(run_id) AS run_id FROM check_versions"
            " GROUP BY asset, check_name) USING (asset, check_name, run_id)"
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return {}
    return {CheckKey(asset, name): (run_id, version) for asset, name, run_id, version in rows}


def check_history_until(
    con: sqlite3.Connection, run_id: int, per_check: int = 20
) -> list[CheckRecord]:
    """The last `per_check` results of every check up to and including `run_id`, oldest first.

    A report of an old run shows the history as it was then, not outcomes that came later.
    """
    return _fetch(
        con,
        CheckRecord,
        f"SELECT {', '.join(_columns(CheckRecord))} FROM ("
        " SELECT *, row_number() OVER (PARTITION BY asset, check_name ORDER BY run_id DESC)"
        " AS newest FROM check_results WHERE run_id <= ?) WHERE newest <= ?"
        " ORDER BY asset, check_name, run_id",
        [run_id, per_check],
    )


def catalog(con: sqlite3.Connection, *, previews: bool = True) -> dict[str, CatalogEntry]:
    """What the warehouse holds, by asset, as of the last build or repair; nothing when the
    DuckDB file was deleted or replaced since (the next run looks at the new one). Without
    `previews`, no columns and preview rows."""
    if not getattr(con, "warehouse_known", True):
        return {}
    names = [n for n in _columns(CatalogEntry) if previews or n not in ("columns", "preview")]
    return {
        e.asset: e for e in _fetch(con, CatalogEntry, f"SELECT {', '.join(names)} FROM catalog")
    }


PROFILE_BUILDS = 20  # builds whose profiles the asset details chart


def asset_profiles(
    con: sqlite3.Connection, asset: str, limit: int = PROFILE_BUILDS
) -> list[Profile]:
    """The column profiles of `asset`'s last `limit` profiled builds, newest first: the first
    is its latest profile, the rest show how its figures moved. A history written before
    profiles existed (schema version 2, read as it is) has none."""
    known = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'profile_columns'"
    ).fetchone()[0]
    if not known:
        return []
    rows = con.execute(
        "SELECT run_id, row_count, duration_s, raw_values, error FROM profiles"
        " WHERE asset = ? ORDER BY run_id DESC LIMIT ?",
        [asset, limit],
    ).fetchall()
    if not rows:
        return []
    profiles = {
        run_id: Profile(run_id, asset, row_count, [], duration_s, bool(raw), error)
        for run_id, row_count, duration_s, raw, error in rows
    }
    columns = con.execute(
        "SELECT run_id, column_name, column_type, figures FROM profile_columns"
        " WHERE asset = ? AND run_id >= ? ORDER BY run_id, position",
        [asset, min(profiles)],
    ).fetchall()
    for run_id, name, kind, figures in columns:
        if run_id in profiles:
            profiles[run_id].columns.append(ColumnProfile(name, kind, json.loads(figures)))
    return list(profiles.values())


def build_row_counts(
    con: sqlite3.Connection, asset: str, before_run: int, limit: int
) -> list[tuple[int, int]]:
    """(run_id, row_count) of the newest `limit` materialized builds of `asset` in runs before
    `before_run`, oldest first: the training window of a volume anomaly check."""
    rows = con.execute(
        "SELECT run_id, row_count FROM asset_events WHERE asset = ? AND status = ?"
        " AND run_id < ? AND row_count IS NOT NULL ORDER BY run_id DESC LIMIT ?",
        [asset, EventStatus.MATERIALIZED, before_run, limit],
    ).fetchall()
    return [(run_id, count) for run_id, count in reversed(rows)]


def build_end_times(
    con: sqlite3.Connection, asset: str, before_run: int, limit: int
) -> list[datetime]:
    """When each of the newest `limit` materialized builds of `asset` in runs before
    `before_run` ended (naive UTC), oldest first."""
    rows = con.execute(
        "SELECT ended_at FROM asset_events WHERE asset = ? AND status = ? AND run_id < ?"
        " AND ended_at IS NOT NULL ORDER BY run_id DESC LIMIT ?",
        [asset, EventStatus.MATERIALIZED, before_run, limit],
    ).fetchall()
    return [datetime.fromisoformat(str(ended)) for (ended,) in reversed(rows)]


def check_values_at_builds(
    con: sqlite3.Connection, asset: str, check_name: str, before_run: int, limit: int
) -> list[tuple[int, float]]:
    """(run_id, observed_value) of one check in the newest `limit` runs before `before_run`
    that materialized its asset (one value per build: a check run again without a rebuild
    adds none), oldest first."""
    rows = con.execute(
        "SELECT c.run_id, c.observed_value FROM check_results c JOIN asset_events e"
        " ON e.run_id = c.run_id AND e.asset = c.asset AND e.status = ?"
        " WHERE c.asset = ? AND c.check_name = ? AND c.run_id < ?"
        " AND c.observed_value IS NOT NULL AND c.outcome IN (?, ?, ?)"
        " ORDER BY c.run_id DESC LIMIT ?",
        [
            EventStatus.MATERIALIZED,
            asset,
            check_name,
            before_run,
            CheckOutcome.PASSED,
            CheckOutcome.WARNED,
            CheckOutcome.FAILED,
            limit,
        ],
    ).fetchall()
    return [(run_id, float(value)) for run_id, value in reversed(rows)]
