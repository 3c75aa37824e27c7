"""DuckDB connections, the database path's sanity, and the run lock.

DuckDB lets one process hold a database file. Runs hold it for their whole length; the history
lives beside it in SQLite (store.py) so that readers never need the DuckDB file. A held file is
retried with back-off before a clear error, and two runs never rebuild assets at once: a run
holds an advisory file lock. DuckDB never installs or loads an extension by itself here: handed
a SQLite file it would otherwise try to download one.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import lock_wait_seconds
from pipeline.errors import DatabaseFileError, RunInProgressError, WarehouseLockedError

if TYPE_CHECKING:  # duckdb costs 0.13 s to import: commands that only read history skip it
    import duckdb

DEFAULT_DB = "data/warehouse.duckdb"
DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB file
_SQLITE_MAGIC = b"SQLite format 3\0"


def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted so any asset or column name is safe in SQL."""
    return '"' + name.replace('"', '""') + '"'


def one_row(cursor: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple[Any, ...]:
    """The one row an aggregate query returns (DuckDB's fetchone() is typed as optional)."""
    row = (
        cursor.execute(sql, params).fetchone()
        if params is not None
        else cursor.execute(sql).fetchone()
    )
    if row is None:
        raise RuntimeError(f"expected one row from: {sql[:80]}")
    return row


def scalar(cursor: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The single value of a one-row, one-column query, e.g. a count."""
    return one_row(cursor, sql, params)[0]


def utcnow() -> datetime:
    """Naive UTC, the one time convention of the history."""
    return datetime.now(UTC).replace(tzinfo=None)


def check_db_path(db: str | Path, *, creating: bool) -> Path:
    """`db` as a Path, or a DatabaseFileError saying why it cannot be a DuckDB file.

    `creating`: a run may create the file (and its folder); a reader only reads what exists.
    """
    text = str(db)
    if not text.strip():
        raise DatabaseFileError(
            "the database path is empty: pass --db PATH (e.g. data/warehouse.duckdb)"
        )
    path = Path(text).expanduser()
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise DatabaseFileError(
                f"cannot use {path}: {parent} is a file, not a folder; choose a path in a folder"
            )
    if not path.exists():
        if creating and not os.access(_existing_ancestor(path), os.W_OK):
            raise DatabaseFileError(
                f"cannot create {path}: {_existing_ancestor(path)} is not writable"
                " (a read-only file system or folder); choose a writable place"
            )
        return path
    info = path.stat()
    if creating and stat.S_ISREG(info.st_mode) and not os.access(path.parent, os.W_OK):
        raise DatabaseFileError(
            f"cannot build in {path}: its folder is read-only (a read-only file system or"
            " folder); `list`, `runs` and `report` still read it"
        )
    if stat.S_ISDIR(info.st_mode):
        raise DatabaseFileError(f"{path} is a folder: pass the path of a DuckDB file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseFileError(f"{path} is not a regular file (a device or a pipe)")
    if info.st_size == 0:
        raise DatabaseFileError(
            f"{path} is an empty file, not a DuckDB database; delete it to start a new"
            " warehouse there, or choose another path"
        )
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(_SQLITE_MAGIC):
        raise DatabaseFileError(
            f"{path} is a SQLite database, not a DuckDB one; choose a .duckdb file"
        )
    if head[8:12] != _DUCKDB_MAGIC:
        raise DatabaseFileError(
            f"{path} is not a DuckDB database file (it does not start like one); choose"
            " another path, or move this file away to start a new warehouse there"
        )
    return path


def _existing_ancestor(path: Path) -> Path:
    for candidate in [path.parent, *path.parents]:
        if candidate.exists():
            return candidate
    return Path(".")


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


@dataclass(frozen=True)
class FileIdentity:
    """Which file a path named when it was opened: a run notices the file deleted or replaced."""

    path: Path
    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        info = path.stat()
        return cls(path, info.st_dev, info.st_ino)

    def still_there(self) -> bool:
        try:
            info = self.path.stat()
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == (self.device, self.inode)


@contextmanager
def connect(
    db: str | Path, wait_seconds: float | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open `db` for one unit of work, waiting with back-off while another process holds it."""
    import duckdb

    path = check_db_path(db, creating=not read_only)
    if read_only and not path.exists():
        raise DatabaseFileError(f"{path} does not exist yet: materialize something first")
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = lock_wait_seconds() if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=DUCKDB_CONFIG)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise _file_error(path, exc) from exc
            if time.monotonic() + delay > deadline:
                raise WarehouseLockedError(
                    f"the database {path} is held by {_describe_holder(str(exc))}; DuckDB allows"
                    " one process to use a file at a time. Wait for it to finish or stop it,"
                    " then try again."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            raise _file_error(path, exc) from exc
    try:
        yield con
    finally:
        con.close()


def _file_error(path: Path, exc: Exception) -> DatabaseFileError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "No space left" in text:
        return DatabaseFileError(f"no space left on the device of {path}: free some space")
    return DatabaseFileError(
        f"cannot open {path}: {text}. If the file is damaged, restore it from a backup or"
        " point --db at another file"
    )


def _lock_path(db: str | Path) -> Path:
    return Path(f"{db}.runlock")


REPAIR = "history repair"  # what a reader holding the lock for a moment writes in it
REPAIR_WAIT_SECONDS = 5.0


def _acquire(db: str | Path, description: str, wait_for_repairs: bool = True) -> int:
    """The locked file descriptor of `db`'s run lock; RunInProgressError names the holder.

    A reader repairing a dead run holds the lock for milliseconds: a run waits that out
    instead of refusing to start.
    """
    path = _lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + (REPAIR_WAIT_SECONDS if wait_for_repairs else 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = os.pread(fd, 500, 0).decode(errors="replace").strip()
            repairing = not holder or holder.startswith(REPAIR)  # empty: being written
            if repairing and time.monotonic() < deadline:
                time.sleep(0.01)
                continue
            os.close(fd)
            raise RunInProgressError(
                f"a run is already in progress on {db} ({holder or 'unknown'}); wait for it"
                " to finish, then start yours."
            ) from None
    os.ftruncate(fd, 0)
    stamp = utcnow().isoformat(timespec="seconds")
    os.write(fd, f"{description}, PID {os.getpid()}, started {stamp} UTC".encode())
    return fd


def _release(fd: int) -> None:
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextmanager
def run_lock(db: str | Path, description: str) -> Iterator[None]:
    """Hold the run lock of `db`, or raise RunInProgressError naming the run that holds it.

    flock is per open file, so this excludes other threads of this process as well.
    """
    fd = _acquire(db, description)
    try:
        yield
    finally:
        _release(fd)


@contextmanager
def try_run_lock(db: str | Path, description: str) -> Iterator[bool]:
    """The run lock when it is free (True), else False at once: repairs never wait or fail."""
    try:
        fd = _acquire(db, description, wait_for_repairs=False)
    except (RunInProgressError, OSError):  # held, or a read-only place: no repair now
        yield False
        return
    try:
        yield True
    finally:
        _release(fd)


def run_active(db: str | Path) -> bool:
    """True while some thread or process holds the run lock of `db`."""
    return lock_held(_lock_path(db))


def lock_held(path: Path) -> bool:
    """True while some process holds the flock on `path`. It probes by taking the lock for a
    moment, so whoever locks it for real waits a blank holder out (see _acquire)."""
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we may have taken
    return False
