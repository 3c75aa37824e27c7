"""The warehouse file deleted or replaced in the middle of a run, and a full disk.

A run cannot keep what it committed into a file that is no longer at its path: it ends as
failed and says so, and no reader calls anything in the lost file fresh.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import (
    SCENARIO,
    PipelineProcess,
    assert_history_matches_warehouse,
    no_traceback,
    run_cli,
    table_versions,
)

from pipeline import store
from pipeline.definitions import load_definitions
from pipeline.states import EventStatus, RunStatus
from pipeline.status import asset_statuses


def _statuses(db: Path) -> dict[str, str]:
    defs = load_definitions(SCENARIO)
    with store.open_store(db) as con:
        return {name: state.status for name, state in asset_statuses(defs, con).items()}


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_warehouse_deleted_or_replaced_mid_run_fails_the_run_and_is_not_called_fresh(
    db_path: Path, tmp_path: Path, how: str
) -> None:
    assert run_cli(db_path, "materialize", version=1).code == 0
    process = PipelineProcess(
        db_path, tmp_path / "pause", "materialize", "--workers", "1",
        pause_at="after-record:raw", version=2,
    )  # fmt: skip
    process.reached("after-record")  # raw is committed and recorded; side comes next
    for path in (db_path, Path(f"{db_path}.wal")):
        path.unlink(missing_ok=True)
    if how == "replaced":
        other = tmp_path / "other.duckdb"
        assert run_cli(other, "materialize", "--select", "side", version=9).code == 0
        shutil.copy(other, db_path)
    process.release("after-record")
    finished = process.finish()

    assert finished.code == 1, finished.stdout + finished.stderr
    no_traceback(finished)
    assert "was deleted or replaced during the run" in finished.stdout
    with store.open_store(db_path) as con:
        run = store.list_runs(con, 1)[0]
    assert run.status == RunStatus.FAILED and "deleted or replaced" in run.message
    statuses = _statuses(db_path)
    assert "fresh" not in statuses.values(), statuses  # the history describes a lost file

    again = run_cli(db_path, "materialize", version=3)
    assert again.code == 0, again.stdout + again.stderr
    assert set(table_versions(db_path).values()) == {3}
    assert_history_matches_warehouse(db_path)
    assert set(_statuses(db_path).values()) == {"fresh"}


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 24 MiB file system of its own (root only), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk is simulated with a small tmpfs: that needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_bytes: int) -> None:
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, max(0, free - leave_bytes))


def test_a_full_disk_fails_the_run_with_the_reason_and_loses_nothing(small_disk: Path) -> None:
    db = small_disk / "w.duckdb"
    assert run_cli(db, "materialize", version=1).code == 0
    before = table_versions(db)
    _fill(small_disk, leave_bytes=3 * 1024 * 1024)
    # Room for the history, not for a raw table of 2 M hashed rows: its build cannot be written.
    finished = run_cli(db, "materialize", version=2, env={"RELIABILITY_ROWS": "2000000"})

    assert finished.code == 1, finished.stdout + finished.stderr
    no_traceback(finished)
    assert "no space left" in finished.stdout
    (small_disk / "filler").unlink()
    with store.open_store(db) as con:
        run = store.list_runs(con, 1)[0]
        events = {e.asset: e.status for e in store.run_events(con, run.run_id)}
    assert run.status == RunStatus.FAILED and run.message.startswith("failed: no space left")
    assert events["raw"] == EventStatus.FAILED
    assert table_versions(db)["raw"] == before["raw"]
    assert_history_matches_warehouse(db)
    assert run_cli(db, "materialize", version=3).code == 0
    assert_history_matches_warehouse(db)
