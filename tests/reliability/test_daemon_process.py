"""`python -m pipeline daemon` alone, as a real process on the sales example (a temp copy of
data/): its heartbeat shows it running, a request file becomes one run, SIGTERM stops it with
exit 0 and a heartbeat that says stopped, and after a restart the same file never runs again.
(test_daemon_faults.py kills it at each point of a tick; this is the plain life of one.)"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

from harness import ROOT, PipelineProcess, no_traceback, run_cli, wait_for

from pipeline import store
from pipeline.daemon import daemon_status
from pipeline.store import automation as ticks_store

SALES = "pipeline.examples.sales"
SENSOR = "adhoc_request_sensor"
REQUEST = {
    "department": "South",
    "product": "Pro Smartwatch",
    "start_date": "2024-03-01",
    "end_date": "2024-12-31",
}


def _sensor_runs(db: Path) -> list[store.RunRecord]:
    with store.open_store(db) as con:
        runs = store.list_runs(con, 100)
    return [r for r in runs if (r.launched_by or "").startswith(f"sensor {SENSOR} ")]


def _succeeded(db: Path) -> bool:
    return any(run.status == "success" for run in _sensor_runs(db))


def _sensor_ticks(db: Path) -> int:
    with store.open_store(db) as con:
        ticks = ticks_store.ticks(con, SENSOR, 1)
    return ticks[0].tick_id if ticks else 0


def _beating(db: Path) -> bool:
    status = daemon_status(db)
    return status.running and status.beat is not None and status.beat.stopped_at is None


def test_a_daemon_runs_a_request_once_stops_on_sigterm_and_remembers_after_a_restart(
    db_path: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("*.duckdb*", "requests"))
    env = {"ASSETBOARD_SALES_DATA": str(data)}
    built = run_cli(db_path, "materialize", env=env, defs=SALES)  # the request reads joined_data
    assert built.code == 0, built.stdout + built.stderr

    daemon = PipelineProcess(db_path, tmp_path, "daemon", "--interval", "1", env=env, defs=SALES)
    wait_for(lambda: _beating(db_path), "the daemon's heartbeat", daemon.process)
    (data / "requests").mkdir()
    partial = data / "requests" / ".south.partial"
    partial.write_text(json.dumps(REQUEST), encoding="utf-8")
    partial.replace(data / "requests" / "south.json")  # whole, never half a file
    wait_for(lambda: _succeeded(db_path), "the sensor's run to succeed", daemon.process)
    daemon.send(signal.SIGTERM)  # between ticks
    first = daemon.finish()

    no_traceback(first)
    assert first.code == 0, first.stdout + first.stderr
    assert "daemon: SIGTERM received, stopping" in first.stdout
    assert first.stdout.rstrip().endswith("daemon: stopped"), first.stdout
    status = daemon_status(db_path)
    assert not status.running
    assert status.beat is not None and status.beat.stopped_at is not None
    [run] = _sensor_runs(db_path)
    assert run.status == "success" and run.selection == "adhoc_request"

    restarted = PipelineProcess(
        db_path, tmp_path, "daemon", "--interval", "1", env=env, defs=SALES
    )  # the lock was released: a new daemon starts at once
    wait_for(lambda: _beating(db_path), "the restarted daemon's heartbeat", restarted.process)
    seen = _sensor_ticks(db_path)
    wait_for(lambda: _sensor_ticks(db_path) >= seen + 2, "two more ticks", restarted.process)
    restarted.send(signal.SIGINT)
    second = restarted.finish()

    no_traceback(second)
    assert second.code == 0, second.stdout + second.stderr
    assert "(1 seen)" in second.stdout  # the cursor kept the file across the restart
    assert len(_sensor_runs(db_path)) == 1
