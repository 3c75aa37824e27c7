"""The history's files: where they are, their layout and version, opening them to read or
write, the ballast that lets a run record its end on a full disk, and which DuckDB file the
catalog describes."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import HistoryError
from pipeline.states import RunStatus
from pipeline.warehouse import FileIdentity, check_db_path, run_active

SCHEMA_VERSION = 5  # 3: column profiles; 4: automation's ticks, check versions;
# 5: the files a tick rejected
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
CREATE TABLE IF NOT EXISTS partition_events (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, partition_key TEXT NOT NULL,
    status TEXT NOT NULL, started_at TEXT, ended_at TEXT, duration_s REAL, row_count INTEGER,
    error TEXT, skip_reason TEXT, upstream TEXT, blocked_by TEXT,
    PRIMARY KEY (run_id, asset, partition_key));
CREATE INDEX IF NOT EXISTS partition_events_by_key
    ON partition_events (asset, partition_key, run_id);
CREATE TABLE IF NOT EXISTS partition_checks (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, check_name TEXT NOT NULL,
    partition_key TEXT NOT NULL, outcome TEXT NOT NULL, severity TEXT, observed_value REAL,
    failing_count INTEGER, error TEXT, skip_reason TEXT,
    PRIMARY KEY (run_id, asset, check_name, partition_key));
CREATE INDEX IF NOT EXISTS partition_checks_by_key
    ON partition_checks (asset, partition_key, run_id);
CREATE TABLE IF NOT EXISTS partition_catalog (
    asset TEXT NOT NULL, partition_key TEXT NOT NULL, run_id INTEGER, row_count INTEGER,
    committed_at TEXT, PRIMARY KEY (asset, partition_key));
CREATE TABLE IF NOT EXISTS backfills (
    backfill_id INTEGER PRIMARY KEY AUTOINCREMENT, assets TEXT NOT NULL,
    partition_keys TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    ended_at TEXT, launched_by TEXT, run_ids TEXT NOT NULL DEFAULT '[]', message TEXT);
CREATE TABLE IF NOT EXISTS profiles (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, row_count INTEGER, duration_s REAL,
    raw_values INTEGER NOT NULL DEFAULT 1, error TEXT, PRIMARY KEY (run_id, asset));
CREATE INDEX IF NOT EXISTS profiles_by_asset ON profiles (asset, run_id);
CREATE TABLE IF NOT EXISTS profile_columns (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, position INTEGER NOT NULL,
    column_name TEXT NOT NULL, column_type TEXT NOT NULL, figures TEXT NOT NULL,
    PRIMARY KEY (run_id, asset, position));
CREATE TABLE IF NOT EXISTS automation_state (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, enabled INTEGER, cursor TEXT,
    evaluated_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS ticks (
    tick_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, kind TEXT NOT NULL,
    evaluated_at TEXT NOT NULL, scheduled_for TEXT, status TEXT NOT NULL, reason TEXT,
    run_ids TEXT NOT NULL DEFAULT '[]', files TEXT NOT NULL DEFAULT '[]',
    rejected TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS ticks_by_name ON ticks (name, tick_id);
CREATE TABLE IF NOT EXISTS run_requests (
    name TEXT NOT NULL, run_key TEXT NOT NULL, tick_id INTEGER NOT NULL, run_id INTEGER,
    launched_by TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (name, run_key));
CREATE TABLE IF NOT EXISTS check_versions (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, check_name TEXT NOT NULL,
    code_version TEXT NOT NULL, PRIMARY KEY (run_id, asset, check_name));
CREATE TABLE IF NOT EXISTS daemon (
    id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, host TEXT, started_at TEXT,
    last_seen TEXT, interval_s REAL, stopped_at TEXT);
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
        elif version < SCHEMA_VERSION:
            _migrate(con, version)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _migrate(con: sqlite3.Connection, version: int) -> None:
    """Bring a history written by an older release up to SCHEMA_VERSION, in the writer's
    transaction. Added tables the DDL above has just created (`IF NOT EXISTS`): 2 -> 3
    profiles and profile_columns, 3 -> 4 automation_state, ticks, run_requests, daemon and
    check_versions. 4 -> 5 adds the column ticks.rejected (the files a tick refused, so a page
    counts them without parsing its reason). Readers never migrate: they read an old file as
    it is (store.reads copes with the missing tables, store.automation with the column)."""
    if version == 4:  # older files had no ticks table: the DDL above made it with the column
        con.execute("ALTER TABLE ticks ADD COLUMN rejected TEXT NOT NULL DEFAULT '[]'")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])


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
    con = _open_read_only(path) if path.exists() else None
    if con is None:
        con = sqlite3.connect(":memory:", factory=_Reader)  # no history yet: nothing written
        for statement in _DDL.split(";"):
            if statement.strip():
                con.execute(statement)
        try:
            yield con
        finally:
            con.close()
        return
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


_NOT_YET = "no such table: meta"  # the file is there, its tables not yet committed


def _open_read_only(path: Path) -> _Reader | None:
    """The history read-only; None while its first writer has not yet committed its tables
    (the file exists from the first PRAGMA on): nothing is written yet."""
    uri = path.resolve().as_uri()
    con: _Reader | None = None
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, factory=_Reader)
        _configure(con)
        con.execute("SELECT count(*) FROM meta").fetchone()
        return con
    except sqlite3.DatabaseError as exc:
        if con is not None:
            con.close()
        if _NOT_YET in str(exc):
            return None
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
        if _NOT_YET in str(exc):
            return None
        raise HistoryError(f"cannot read the run history {path}: {exc}") from exc


def history_exists(db: str | Path) -> bool:
    return history_path(db).exists()
