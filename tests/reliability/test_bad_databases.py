"""Every kind of --db that cannot be a warehouse gets one clear message and exit 2.

No traceback, no half-made files, and DuckDB never reaches for the internet (handed a SQLite
file, it used to try to download an extension). On a read-only file system the commands that
only read (list, runs, report) still work.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from harness import no_traceback, run_cli


def _duckdb_file(path: Path) -> Path:
    assert run_cli(path, "materialize").code == 0
    return path


def _truncated(tmp_path: Path) -> Path:
    good = _duckdb_file(tmp_path / "good.duckdb")
    data = good.read_bytes()
    path = tmp_path / "truncated.duckdb"
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupt(tmp_path: Path) -> Path:
    good = _duckdb_file(tmp_path / "good.duckdb")
    data = bytearray(good.read_bytes())
    data[5000] ^= 0xFF  # inside the first block: its checksum no longer matches
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(bytes(data))
    return path


def _sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x)")
    return path


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile" / "w.duckdb"


BAD = {
    "a folder": (lambda t: t, "is a folder"),
    "a text file": (
        lambda t: (t / "notes.duckdb", (t / "notes.duckdb").write_text("notes\n" * 100))[0],
        "is not a DuckDB database file",
    ),
    "an empty file": (
        lambda t: (t / "empty.duckdb", (t / "empty.duckdb").touch())[0],
        "is an empty file",
    ),
    "random bytes": (
        lambda t: (t / "rand.duckdb", (t / "rand.duckdb").write_bytes(os.urandom(50_000)))[0],
        "is not a DuckDB database file",
    ),
    "a truncated file": (_truncated, "restore it from a backup"),
    "a checksum-corrupt file": (_corrupt, "restore it from a backup"),
    "a SQLite file": (_sqlite, "is a SQLite database, not a DuckDB one"),
    "/dev/null": (lambda t: Path("/dev/null"), "is not a regular file"),
    "an empty path": (lambda t: "", "is empty: give the path of a DuckDB file"),
    "a path under a file": (_under_a_file, "is a file, not a folder"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_materialize_refuses_a_bad_database_clearly(tmp_path: Path, case: str) -> None:
    make, message = BAD[case]
    db = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    finished = run_cli(db, "materialize")
    assert finished.code == 2, finished.stdout + finished.stderr
    assert message in finished.stderr
    lines = finished.stderr.splitlines()  # a message (argparse adds its usage), no traceback
    assert message in lines[-1] and all(line.startswith(("usage:", " ")) for line in lines[:-1])
    no_traceback(finished)
    assert "extension" not in finished.stderr.lower()
    after = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".runlock"))
    assert after == [name for name in before if not name.endswith(".runlock")]


@pytest.mark.parametrize("case", ["a folder", "a text file", "an empty path", "a SQLite file"])
@pytest.mark.parametrize("command", ["list", "runs"])
def test_readers_refuse_a_bad_database_clearly(tmp_path: Path, case: str, command: str) -> None:
    make, message = BAD[case]
    finished = run_cli(make(tmp_path), command)
    assert finished.code == 2 and message in finished.stderr
    no_traceback(finished)


@pytest.fixture
def read_only_place(tmp_path: Path):
    """A warehouse with a history on a file system mounted read-only (root only)."""
    mount = tmp_path / "ro"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a read-only file system needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        db = mount / "w.duckdb"
        assert run_cli(db, "materialize").code == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield db
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_on_a_read_only_file_system_readers_work_and_a_run_says_why_not(
    read_only_place: Path, tmp_path: Path
) -> None:
    db = read_only_place
    listed = run_cli(db, "list")
    assert listed.code == 0 and "Fresh" in listed.stdout
    runs = run_cli(db, "runs")
    assert runs.code == 0 and "Succeeded" in runs.stdout
    out = tmp_path / "report.json"
    report = run_cli(db, "report", "--format", "json", "--out", str(out))
    assert report.code == 0 and out.exists()
    refused = run_cli(db, "materialize")
    assert refused.code in (1, 2) and "read-only" in refused.stderr
    no_traceback(refused)
