"""DuckDB connections and the run lock: the two guards around DuckDB's one-writer rule.

DuckDB lets one process hold a database file. The CLI and the dashboard are separate processes,
so connections are short-lived, and a held file is retried with back-off before a clear error.
Two runs must never rebuild the same asset at once, so a run holds an advisory file lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline.errors import RunInProgressError, WarehouseLockedError

DEFAULT_DB = "data/warehouse.duckdb"
LOCK_WAIT_SECONDS = float(os.environ.get("ASSETBOARD_LOCK_WAIT", "10"))


def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted so any asset or column name is safe in SQL."""
    return '"' + name.replace('"', '""') + '"'


def utcnow() -> datetime:
    """Naive UTC: the store keeps TIMESTAMP columns (TIMESTAMPTZ trips pandas warnings)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _describe_holder(message: str) -> str:
    match = re.search(r"PID (\d+)", message)
    if not match:
        return "another process"
    pid = match.group(1)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        cmdline = ""
    return f"process {pid}" + (f" ({cmdline[:120]})" if cmdline else "")


@contextmanager
def connect(
    db: str | Path, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open `db` read-write for one unit of work, waiting with back-off while it is held."""
    path = Path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() + delay > deadline:
                raise WarehouseLockedError(
                    f"the database {path} is held by {_describe_holder(str(exc))}; DuckDB allows"
                    " one process to use a file at a time. Wait for it to finish or stop it,"
                    " then try again."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    try:
        yield con
    finally:
        con.close()


def _lock_path(db: str | Path) -> Path:
    return Path(f"{db}.runlock")


@contextmanager
def run_lock(db: str | Path, description: str) -> Iterator[None]:
    """Hold the run lock of `db`, or raise RunInProgressError naming the run that holds it.

    flock is per open file, so this excludes other threads of this process as well.
    """
    path = _lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 500).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunInProgressError(
            f"a run is already in progress on {db} ({holder}); wait for it to finish,"
            " then start yours."
        ) from None
    try:
        os.ftruncate(fd, 0)
        stamp = utcnow().isoformat(timespec="seconds")
        os.write(fd, f"{description}, PID {os.getpid()}, started {stamp} UTC".encode())
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def run_active(db: str | Path) -> bool:
    """True while some thread or process holds the run lock of `db`."""
    path = _lock_path(db)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we may have taken
    return False
