"""The only module that reads and writes the run history: runs, asset events, check results,
and a mirror of what the warehouse holds.

The history is a SQLite file beside the DuckDB file (`warehouse.duckdb.history.sqlite`). DuckDB
lets one process open a file, so while a run writes its tables no other process could read a
history kept inside it; SQLite in WAL mode lets every process read while one writes (Dagster
keeps its run storage in SQLite for the same reason). Readers open it read-only and never wait.

What is *in* the warehouse is decided by DuckDB itself: every build writes a ledger row in the
same transaction as its table (ledger.py), and `catalog` here mirrors that ledger. A process that
dies between the two is repaired from the ledger by the next one (recovery.py).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline import faults
from pipeline.errors import HistoryError
from pipeline.states import CheckOutcome, EventStatus, RunStatus
from pipeline.textsafe import cap
from pipeline.warehouse import FileIdentity, check_db_path, run_active, utcnow

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 10_000
RESERVE_BYTES = 1024 * 1024  # ballast given up on a full disk, so a run can record its end

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, selection TEXT,
    status TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, pid INTEGER,
    launched_by TEXT, planned TEXT NOT NULL DEFAULT '[]', message TEXT,
    assets_materialized INTEGER NOT NULL DEFAULT 0, assets_failed INTEGER NOT NULL DEFAULT 0,
    assets_skipped INTEGER NOT NULL DEFAULT 0, assets_not_built INTEGER NOT NULL DEFAULT 0,
    checks_planned INTEGER NOT NULL DEFAULT 0, checks_passed INTEGER NOT NULL DEFAULT 0,
    checks_warned INTEGER NOT NULL DEFAULT 0, checks_failed INTEGER NOT NULL DEFAULT 0,
    checks_errored INTEGER NOT NULL DEFAULT 0, checks_not_run INTEGER NOT NULL DEFAULT 0,
    cancel_requested_at TEXT, cancel_requested_by TEXT);
CREATE TABLE IF NOT EXISTS asset_events (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, status TEXT NOT NULL, kind TEXT,
    started_at TEXT, ended_at TEXT, duration_s REAL, row_count INTEGER,
    columns TEXT, preview TEXT, code_version TEXT, error TEXT,
    skip_reason TEXT, upstream TEXT, blocked_by TEXT,
    PRIMARY KEY (run_id, asset));
CREATE INDEX IF NOT EXISTS asset_events_by_asset ON asset_events (asset, run_id);
CREATE TABLE IF NOT EXISTS check_results (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, check_name TEXT NOT NULL,
    outcome TEXT NOT NULL, severity TEXT, blocking INTEGER, description TEXT,
    started_at TEXT, duration_s REAL, observed_value REAL, threshold TEXT,
    failing_count INTEGER, failing_sample TEXT, metadata TEXT, sql TEXT, error TEXT,
    skip_reason TEXT,
    PRIMARY KEY (run_id, asset, check_name));
CREATE INDEX IF NOT EXISTS check_results_by_check ON check_results (asset, check_name, run_id);
CREATE TABLE IF NOT EXISTS catalog (
    asset TEXT PRIMARY KEY, run_id INTEGER, kind TEXT, row_count INTEGER, columns TEXT,
    preview TEXT, code_version TEXT, committed_at TEXT);
"""


def history_path(db: str | Path) -> Path:
    """Where the history of the warehouse `db` lives: a SQLite file beside it."""
    return Path(f"{db}.history.sqlite")


def _reserve_path(db: str | Path) -> Path:
    return Path(f"{history_path(db)}-reserve")


def keep_reserve(db: str | Path) -> None:
    """A ballast file beside the history, made while there is room (kept if it cannot be)."""
    path = _reserve_path(db)
    if path.exists():
        return
    try:
        with path.open("wb") as handle:
            os.posix_fallocate(handle.fileno(), 0, RESERVE_BYTES)
    except OSError:
        path.unlink(missing_ok=True)


def release_reserve(db: str | Path) -> bool:
    """Give the ballast back to a full disk; True when there was one to give."""
    path = _reserve_path(db)
    if not path.exists():
        return False
    path.unlink()
    return True


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's and DuckDB's ways of saying the device has no room left."""
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text


# --- records -------------------------------------------------------------------------------


@dataclass
class RunRecord:
    run_id: int
    kind: str  # RunKind
    selection: str | None
    status: str  # RunStatus
    started_at: datetime
    ended_at: datetime | None = None
    pid: int | None = None
    launched_by: str | None = None  # "command line", "dashboard", ...
    planned: list[str] = field(default_factory=list)
    message: str | None = None
    assets_materialized: int = 0
    assets_failed: int = 0
    assets_skipped: int = 0
    assets_not_built: int = 0  # cancelled, interrupted or never started
    checks_planned: int = 0
    checks_passed: int = 0
    checks_warned: int = 0
    checks_failed: int = 0
    checks_errored: int = 0
    checks_not_run: int = 0
    cancel_requested_at: datetime | None = None
    cancel_requested_by: str | None = None

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass
class AssetEvent:
    run_id: int
    asset: str
    status: str  # EventStatus
    kind: str = "table"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    row_count: int | None = None
    columns: list[list[str]] = field(default_factory=list)  # [name, type]
    preview: list[dict[str, Any]] = field(default_factory=list)
    code_version: str | None = None
    error: str | None = None
    skip_reason: str | None = None  # SkipReason, when skipped
    upstream: str | None = None  # the upstream asset the skip comes from
    blocked_by: str | None = None  # the check key whose failure blocked it


@dataclass
class CheckRecord:
    run_id: int
    asset: str
    check_name: str
    outcome: str  # CheckOutcome
    severity: str = "error"
    blocking: bool = False
    description: str | None = None
    started_at: datetime | None = None
    duration_s: float | None = None
    observed_value: float | None = None
    threshold: str | None = None
    failing_count: int | None = None
    failing_sample: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    sql: str | None = None
    error: str | None = None
    skip_reason: str | None = None  # NotRunReason, when skipped

    @property
    def key(self) -> str:
        return f"{self.asset}.{self.check_name}"


@dataclass
class CatalogEntry:
    """The build that made the table or view now in the warehouse."""

    asset: str
    run_id: int | None
    kind: str
    row_count: int | None
    columns: list[list[str]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    code_version: str | None = None
    committed_at: datetime | None = None


def jsonable(value: Any) -> Any:
    """JSON's own types kept, containers converted item by item, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


_JSON_FIELDS = {"planned", "columns", "preview", "failing_sample", "metadata"}
_TIME_FIELDS = {"started_at", "ended_at", "committed_at", "cancel_requested_at"}
_TEXT_FIELDS = {"error", "message"}  # free text from errors: capped when stored


def _columns(record_type: type) -> list[str]:
    return [f.name for f in fields(record_type)]


def _encode(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS:
        return json.dumps(jsonable(value), ensure_ascii=False)
    if name in _TIME_FIELDS:
        return None if value is None else value.isoformat(sep=" ")
    if name in _TEXT_FIELDS and value is not None:
        return cap(str(value))
    if isinstance(value, bool):
        return int(value)
    return value


def _decode(record_type: type, names: list[str], row: tuple[Any, ...]) -> Any:
    values = dict(zip(names, row, strict=True))
    for name, value in values.items():
        if name in _JSON_FIELDS:
            values[name] = json.loads(value) if value else ({} if name == "metadata" else [])
        elif name in _TIME_FIELDS and value is not None:
            values[name] = datetime.fromisoformat(value)
        elif name == "blocking":
            values[name] = bool(value)
    return record_type(**values)


def _row(record: Any) -> list[Any]:
    return [_encode(name, getattr(record, name)) for name in _columns(type(record))]


def _select(record_type: type, table: str) -> str:
    return f"SELECT {', '.join(_columns(record_type))} FROM {table}"


def _fetch(con: sqlite3.Connection, record_type: type, sql: str, params: Any = ()) -> list[Any]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [_decode(record_type, names, row) for row in cursor.fetchall()]


def _upsert(table: str, record_type: type) -> str:
    names = _columns(record_type)
    return (
        f"INSERT OR REPLACE INTO {table} ({', '.join(names)})"
        f" VALUES ({', '.join('?' * len(names))})"
    )


# --- opening -------------------------------------------------------------------------------


def _configure(con: sqlite3.Connection) -> sqlite3.Connection:
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return con


@contextmanager
def open_writer(db: str | Path) -> Iterator[sqlite3.Connection]:
    """The history of `db` for writing (created on first use); the caller holds the run lock
    or writes one small thing (a cancel request)."""
    path = history_path(check_db_path(db, creating=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = _configure(sqlite3.connect(path, isolation_level=None, check_same_thread=False))
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot open the run history {path}: {exc}") from exc
    try:
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")  # the ledger in DuckDB is the durable truth
        _ensure_schema(con, path)
        keep_reserve(db)
        yield con
    except sqlite3.Error as exc:
        raise HistoryError(_sqlite_message(path, exc)) from exc
    finally:
        con.close()


def _sqlite_message(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if is_disk_full(exc):
        return f"no space left to write the run history {path}: free some space"
    return f"the run history {path} cannot be used: {text}"


def _ensure_schema(con: sqlite3.Connection, path: Path) -> None:
    con.execute("BEGIN IMMEDIATE")
    try:
        for statement in _DDL.split(";"):
            if statement.strip():
                con.execute(statement)
        version = _schema_version(con, path)
        if version is None:
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _schema_version(con: sqlite3.Connection, path: Path) -> int | None:
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return None
    try:
        version = int(row[0])
    except ValueError:
        raise HistoryError(
            f"the run history {path} has schema version {row[0]!r}, which is not a number:"
            " the file was edited or damaged; move it away to start a new history"
        ) from None
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"the run history {path} has schema version {version}, newer than this Assetboard"
            f" understands ({SCHEMA_VERSION}); upgrade Assetboard"
        )
    return version


@contextmanager
def open_store(db: str | Path, wait_seconds: float | None = None) -> Iterator[sqlite3.Connection]:
    """The history of `db` for reading: never waits on a run, never changes anything.

    A history left by a run whose process died is repaired first when nothing runs (under the
    run lock, by recovery.py), and a version-1 history kept inside the DuckDB file is migrated
    once. When a repair cannot happen (a full disk, a read-only place), a dead run still reads
    as interrupted, never as running.
    """
    del wait_seconds  # reading never waits; kept so callers need not change
    path = history_path(check_db_path(db, creating=False))
    alive = run_active(db)
    if not alive and _needs_repair(Path(db), path):
        from pipeline import recovery  # imports duckdb: only when something needs repair

        recovery.repair(db)
    if not path.exists():
        con = sqlite3.connect(":memory:", factory=_Reader)  # no history yet: nothing written
        for statement in _DDL.split(";"):
            if statement.strip():
                con.execute(statement)
        try:
            yield con
        finally:
            con.close()
        return
    con = _open_read_only(path)
    con.runs_alive = alive
    try:
        _schema_version(con, path)
        con.warehouse_known = _same_warehouse(con, Path(db))
        yield con
    except sqlite3.Error as exc:
        raise HistoryError(_sqlite_message(path, exc)) from exc
    finally:
        con.close()


class _Reader(sqlite3.Connection):
    """A read-only history connection that knows whether a run holds the lock right now, and
    whether the DuckDB file is still the one the history describes."""

    runs_alive = True
    warehouse_known = True


def set_warehouse_identity(con: sqlite3.Connection, identity: FileIdentity) -> None:
    """Remember which file the catalog describes (a run writes it after syncing the catalog)."""
    con.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        [("warehouse_device", str(identity.device)), ("warehouse_inode", str(identity.inode))],
    )


def _same_warehouse(con: sqlite3.Connection, db: Path) -> bool:
    """False when the DuckDB file was deleted or replaced since a run last looked at it."""
    rows = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'warehouse_%'").fetchall())
    if not rows:
        return True  # a history from before identities were kept: nothing to compare
    try:
        info = db.stat()
    except OSError:
        return False
    return (str(info.st_dev), str(info.st_ino)) == (
        rows.get("warehouse_device"),
        rows.get("warehouse_inode"),
    )


def _needs_repair(db: Path, path: Path) -> bool:
    """A run left 'running' by a dead process, or a DuckDB file with no history beside it."""
    if not db.exists():
        return False
    if not path.exists():
        return True  # perhaps a version-1 file: recovery looks inside
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = con.execute("SELECT count(*) FROM runs WHERE status = ?", [RunStatus.RUNNING])
        return bool(row.fetchone()[0])
    except sqlite3.Error:
        return False
    finally:
        con.close()


def _open_read_only(path: Path) -> _Reader:
    uri = path.resolve().as_uri()
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, factory=_Reader)
        _configure(con)
        con.execute("SELECT count(*) FROM meta").fetchone()
        return con
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise HistoryError(
                f"the run history {path} is not a readable SQLite file ({exc}); move it away"
                " to start a new history"
            ) from exc
    # A read-only place: WAL readers cannot create the shared-memory file, so read the file
    # as it stands (nothing can be writing to a read-only file system anyway).
    try:
        con = sqlite3.connect(
            f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False, factory=_Reader
        )
        con.execute("SELECT count(*) FROM meta").fetchone()
        return con
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot read the run history {path}: {exc}") from exc


def history_exists(db: str | Path) -> bool:
    return history_path(db).exists()


# --- writing -------------------------------------------------------------------------------


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything in it is recorded, or nothing is."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def start_run(
    con: sqlite3.Connection,
    kind: str,
    selection: str | None,
    launched_by: str | None = None,
    first_run_id: int | None = None,
) -> RunRecord:
    """A new run, status running. `first_run_id` keeps ids above those the warehouse knows."""
    run = RunRecord(
        0, kind, selection, RunStatus.RUNNING, utcnow(), pid=os.getpid(), launched_by=launched_by
    )
    names = [n for n in _columns(RunRecord) if n != "run_id"]
    with transaction(con):
        if first_run_id is not None:
            _raise_sequence(con, first_run_id)
        cursor = con.execute(
            f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [_encode(n, getattr(run, n)) for n in names],
        )
        run.run_id = int(cursor.lastrowid or 0)
    return run


def _raise_sequence(con: sqlite3.Connection, at_least: int) -> None:
    """Run ids never go back: a new history for an old warehouse continues its numbering."""
    current = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    if current is None:
        con.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", [at_least - 1])
    elif current[0] < at_least - 1:
        con.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs'", [at_least - 1])


def update_run(con: sqlite3.Connection, run: RunRecord) -> None:
    """Write every field of `run` (its plan, counts, status)."""
    with transaction(con):
        _update_run(con, run)


def _update_run(con: sqlite3.Connection, run: RunRecord) -> None:
    names = [n for n in _columns(RunRecord) if n not in ("run_id", "cancel_requested_at")]
    names.remove("cancel_requested_by")
    con.execute(
        f"UPDATE runs SET {', '.join(f'{n} = ?' for n in names)} WHERE run_id = ?",
        [_encode(n, getattr(run, n)) for n in names] + [run.run_id],
    )


def record(
    con: sqlite3.Connection,
    events: Iterable[AssetEvent] = (),
    checks: Iterable[CheckRecord] = (),
    built: Iterable[CatalogEntry] = (),
    run: RunRecord | None = None,
) -> None:
    """Record asset events, check results, committed builds and the run in one transaction."""
    events, checks = list(events), list(checks)
    first = next(iter([*events, *checks]), None)
    subject = None if first is None else f"{getattr(first, 'status', 'check')}:{first.asset}"
    with transaction(con):
        faults.pause("history-write", subject)
        con.executemany(_upsert("asset_events", AssetEvent), [_row(e) for e in events])
        con.executemany(_upsert("check_results", CheckRecord), [_row(c) for c in checks])
        con.executemany(_upsert("catalog", CatalogEntry), [_row(b) for b in built])
        if run is not None:
            _update_run(con, run)


def replace_catalog(con: sqlite3.Connection, entries: Iterable[CatalogEntry]) -> None:
    """The mirror becomes exactly `entries`: what the warehouse's ledger says it holds."""
    con.execute("DELETE FROM catalog")
    con.executemany(_upsert("catalog", CatalogEntry), [_row(e) for e in entries])


def request_cancel(db: str | Path, run_id: int, by: str) -> bool:
    """Ask run `run_id` to stop (the engine polls for it); False when it is not running."""
    with open_writer(db) as con, transaction(con):
        cursor = con.execute(
            "UPDATE runs SET cancel_requested_at = ?, cancel_requested_by = ?"
            " WHERE run_id = ? AND status = ? AND cancel_requested_at IS NULL",
            [utcnow().isoformat(sep=" "), by, run_id, RunStatus.RUNNING],
        )
        return cursor.rowcount == 1


def cancel_request(con: sqlite3.Connection, run_id: int) -> str | None:
    """Who asked run `run_id` to stop, or None."""
    row = con.execute(
        "SELECT cancel_requested_by FROM runs WHERE run_id = ? AND cancel_requested_at IS NOT NULL",
        [run_id],
    ).fetchone()
    return None if row is None else (row[0] or "someone")


# --- reading -------------------------------------------------------------------------------


DEAD_RUN = (
    "interrupted: the process running it stopped before the run finished (the next run"
    " records what it left)"
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
                event.status, event.error = EventStatus.NOT_STARTED, f"not started: {DEAD_RUN}"
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


def latest_events(con: sqlite3.Connection, status: str | None = None) -> dict[str, AssetEvent]:
    """The newest finished attempt per asset (materialized or failed), or only `status` ones."""
    wanted = [status] if status else [EventStatus.MATERIALIZED, EventStatus.FAILED]
    marks = ", ".join("?" * len(wanted))
    rows = _fetch(
        con,
        AssetEvent,
        f"SELECT {', '.join(_columns(AssetEvent))} FROM ("
        f" SELECT *, row_number() OVER (PARTITION BY asset ORDER BY run_id DESC) AS newest"
        f" FROM asset_events WHERE status IN ({marks})) WHERE newest = 1",
        wanted,
    )
    return {event.asset: event for event in rows}


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


def catalog(con: sqlite3.Connection) -> dict[str, CatalogEntry]:
    """What the warehouse holds, by asset, as of the last build or repair; nothing when the
    DuckDB file was deleted or replaced since (the next run looks at the new one)."""
    if not getattr(con, "warehouse_known", True):
        return {}
    return {e.asset: e for e in _fetch(con, CatalogEntry, _select(CatalogEntry, "catalog"))}
