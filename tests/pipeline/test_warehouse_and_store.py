"""One writer per file, one run at a time, and a history that tells the truth after a crash."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline import (
    Definitions,
    RunInProgressError,
    WarehouseLockedError,
    asset,
    materialize,
    store,
)
from pipeline.errors import PipelineError
from pipeline.status import asset_statuses
from pipeline.warehouse import connect, run_active, run_lock

ROOT = Path(__file__).resolve().parents[2]


def _holder(script: str, *args: str) -> subprocess.Popen:
    """A second process that prints 'ready' once it holds what the test needs held."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_file_held_by_another_process_fails_clearly_after_waiting(db_path):
    script = """
        import sys, duckdb
        con = duckdb.connect(sys.argv[1])
        print("ready", flush=True)
        sys.stdin.read()
    """
    holder = _holder(script, str(db_path))
    try:
        with pytest.raises(WarehouseLockedError) as caught, connect(db_path, wait_seconds=0.3):
            pass
        assert f"is held by process {holder.pid}" in str(caught.value)
        assert "Wait for it to finish or stop it" in str(caught.value)
    finally:
        holder.communicate("")
    with connect(db_path, wait_seconds=0.3) as con:  # released: opens at once
        assert con.execute("SELECT 42").fetchone() == (42,)


def test_a_second_run_gets_a_clear_message(db_path):
    defs = Definitions(assets=[asset(lambda con: "SELECT 1 AS x", name="x")])
    with run_lock(db_path, "materialize run"):
        assert run_active(db_path)
        with pytest.raises(RunInProgressError, match="a run is already in progress on .*PID"):
            materialize(defs, db=db_path)
    assert not run_active(db_path)
    assert materialize(defs, db=db_path).ok


def test_a_run_whose_process_died_shows_as_interrupted(db_path):
    script = """
        import sys
        from pipeline import Definitions, asset, materialize

        def stuck(con):
            print("ready", flush=True)
            sys.stdin.read()
            return "SELECT 1 AS x"

        materialize(Definitions(assets=[asset(stuck)]), db=sys.argv[1])
    """
    process = _holder(script, str(db_path))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with store.open_store(db_path) as con:
        run = store.list_runs(con)[0]
        events = store.run_events(con, run.run_id)
    assert run.status == "interrupted"
    assert "stopped before the run finished" in run.message
    assert [(e.asset, e.status) for e in events] == [("stuck", "interrupted")]
    # beside the status 'interrupted', the reason does not say it again
    assert events[0].error.startswith("the process running it stopped"), events[0].error


@pytest.mark.parametrize(
    ("version", "message"),
    [("99", "schema version 99, newer than"), ("two", "schema version 'two', which is not a")],
)
def test_history_with_a_version_this_release_cannot_read_is_refused(db_path, version, message):
    materialize(Definitions(assets=[asset(lambda con: "SELECT 1 AS x", name="x")]), db=db_path)
    with store.open_writer(db_path) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [version])
    with pytest.raises(PipelineError, match=message), store.open_store(db_path):
        pass
    with pytest.raises(PipelineError, match=message):
        materialize(Definitions(assets=[asset(lambda con: "SELECT 1 AS x", name="x")]), db=db_path)


def _defs(model_sql="SELECT n FROM raw"):
    return Definitions(
        assets=[
            asset(lambda con: "SELECT 1 AS n", name="raw", code_version="1"),
            asset(lambda con: model_sql, name="model", deps=["raw"], code_version=model_sql),
        ]
    )


def _statuses(defs, db_path):
    with store.open_store(db_path) as con:
        return {name: s.status for name, s in asset_statuses(defs, con).items()}


def test_status_never_fresh_stale_failed(db_path):
    assert _statuses(_defs(), db_path) == {"raw": "never", "model": "never"}
    materialize(_defs(), db=db_path)
    assert _statuses(_defs(), db_path) == {"raw": "fresh", "model": "fresh"}
    materialize(_defs(), db=db_path, select="raw")
    assert _statuses(_defs(), db_path) == {"raw": "fresh", "model": "stale"}
    materialize(_defs(), db=db_path)
    changed = _defs("SELECT n + 1 AS n FROM raw")
    assert _statuses(changed, db_path) == {"raw": "fresh", "model": "stale"}
    materialize(_defs("SELECT nope FROM raw"), db=db_path, select="model")
    assert _statuses(_defs("SELECT nope FROM raw"), db_path)["model"] == "failed"


def test_a_history_whose_first_writer_has_not_committed_reads_as_empty(db_path: Path) -> None:
    """The first writer creates the file (PRAGMA journal_mode) before its tables: a reader
    in between sees no history yet, not an error (a daemon's first heartbeat, a page)."""
    import sqlite3

    half = sqlite3.connect(store.history_path(db_path))
    half.execute("PRAGMA journal_mode = WAL")
    half.close()
    with store.open_store(db_path) as con:
        assert store.list_runs(con) == []
