"""The daemon and `tick` killed or stopped at each named point of a tick: no scheduled time and
no request file ever runs twice, none is lost, and the history equals the warehouse after.

Points: after the tick and its run request are recorded but before the run starts
(tick-claimed), inside the run (asset-running), and after the run ended but before the request
is linked to it (tick-launched).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from harness import (
    PipelineProcess,
    assert_history_matches_warehouse,
    no_traceback,
    run_cli,
    wait_for,
)

from pipeline import store
from pipeline.daemon import daemon_status
from pipeline.store import automation as ticks_store

FIRST, DUE, LATER = "2026-12-07T09:30:00", "2026-12-07T10:00:20", "2026-12-07T10:30:00"


@pytest.fixture
def requests(tmp_path: Path) -> Path:
    folder = tmp_path / "requests"
    folder.mkdir()
    return folder


@pytest.fixture
def env(requests: Path) -> dict[str, str]:
    return {"RELIABILITY_AUTOMATION": str(requests)}


def _tick(db: Path, env: dict[str, str], when: str) -> str:
    finished = run_cli(db, "tick", "--now", when, env=env)
    no_traceback(finished)
    assert finished.code == 0, finished.stdout + finished.stderr
    return finished.stdout


def _runs_launched_by(db: Path, name: str) -> list[store.RunRecord]:
    with store.open_store(db) as con:
        return [r for r in store.list_runs(con, 100) if (r.launched_by or "").startswith(name)]


def _ticks(db: Path, name: str) -> list[ticks_store.Tick]:
    with store.open_store(db) as con:
        return ticks_store.ticks(con, name, 100)


def _killed_at(db: Path, tmp_path: Path, env: dict[str, str], point: str) -> None:
    process = PipelineProcess(
        db, tmp_path / "pause", "tick", "--now", DUE, pause_at=point, env=env, version=2
    )
    process.reached(point.split(":")[0])
    process.send(signal.SIGKILL)
    assert process.finish().code == -signal.SIGKILL


@pytest.mark.parametrize(
    ("point", "settled_as"),
    [
        ("tick-claimed:hourly", "launched after a restart"),
        ("asset-running:raw", "was found after the evaluator stopped"),
        ("tick-launched:hourly", "was found after the evaluator stopped"),
    ],
)
def test_a_schedule_killed_at_any_point_of_a_tick_runs_its_time_exactly_once(
    db_path: Path, tmp_path: Path, env: dict[str, str], point: str, settled_as: str
) -> None:
    _tick(db_path, env, FIRST)
    _killed_at(db_path, tmp_path, env, point)

    _tick(db_path, env, LATER)  # the next evaluation settles the claim it left
    [run] = _runs_launched_by(db_path, "schedule hourly")
    [tick] = [t for t in _ticks(db_path, "hourly") if t.run_ids]
    assert tick.run_ids == [run.run_id] and settled_as in (tick.reason or "")
    assert run.status == ("interrupted" if point.startswith("asset") else "success")
    _tick(db_path, env, LATER)  # and nothing more, however often it is evaluated
    assert len(_runs_launched_by(db_path, "schedule hourly")) == 1
    assert_history_matches_warehouse(db_path)


def test_a_sensor_killed_before_its_run_starts_runs_the_file_once_after_restart(
    db_path: Path, tmp_path: Path, env: dict[str, str], requests: Path
) -> None:
    (requests / "one.json").write_text(json.dumps({}))
    _killed_at(db_path, tmp_path, env, "tick-claimed:requests")
    _tick(db_path, env, LATER)
    _tick(db_path, env, LATER)
    [run] = _runs_launched_by(db_path, "sensor requests")
    assert run.status == "success"
    assert_history_matches_warehouse(db_path)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_daemon_stops_cleanly_on_a_signal_during_a_run(
    db_path: Path, tmp_path: Path, env: dict[str, str], requests: Path, signum: int
) -> None:
    (requests / "one.json").write_text(json.dumps({}))
    daemon = PipelineProcess(
        db_path, tmp_path / "pause", "daemon", "--interval", "1",
        pause_at="asset-running:raw", env=env, version=2,
    )  # fmt: skip
    daemon.reached("asset-running")
    assert daemon_status(db_path).running
    daemon.send(signum)
    finished = daemon.finish()
    no_traceback(finished)
    assert finished.code == 0, finished.stdout + finished.stderr
    assert "daemon: stopped" in finished.stdout
    [run] = _runs_launched_by(db_path, "sensor requests")
    assert run.status == "cancelled"
    status = daemon_status(db_path)
    assert not status.running and status.beat is not None and status.beat.stopped_at
    assert_history_matches_warehouse(db_path)


def test_a_second_daemon_is_refused_naming_the_first(
    db_path: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    assert run_cli(db_path, "materialize", env=env).code == 0
    first = PipelineProcess(db_path, tmp_path, "daemon", "--interval", "1", env=env)
    wait_for(lambda: daemon_status(db_path).beat is not None, "the first heartbeat", first.process)
    second = run_cli(db_path, "daemon", env=env)
    assert second.code == 1
    assert f"the daemon (pid {first.process.pid} on" in second.stderr
    assert "one evaluator per database" in second.stderr
    tick = run_cli(db_path, "tick", env=env)  # a one-off evaluation is refused alike
    assert tick.code == 1 and f"pid {first.process.pid}" in tick.stderr
    first.send(signal.SIGTERM)
    assert first.finish().code == 0
    assert_history_matches_warehouse(db_path)
