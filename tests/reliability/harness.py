"""Real pipeline processes stopped at named points, and the check that history equals tables.

A test starts `python -m pipeline materialize` with ASSETBOARD_PAUSE_AT set: the engine holds
at that point and writes a marker file; the test then sends a real signal (SIGKILL, SIGTERM,
SIGINT as Ctrl-C sends it) and, once the process has ended, compares what the history says
with what the DuckDB file holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline import Definitions, load_definitions, store
from pipeline.builder import relation_kind
from pipeline.states import AssetHealth, EventStatus, RunStatus
from pipeline.status import asset_statuses

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(Path(__file__).with_name("scenario_pipeline.py"))
ASSETS = ("raw", "side", "model", "summary")
VIEW_READS = {"summary": ("model",)}  # the scenario's views and the assets they read
WAIT_SECONDS = 60.0


def wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    """Poll `condition` until it holds; fail early, with the process's output, if it ended."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"process ended before {what}: {process.returncode}\n{out}{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str


STARTED: list[subprocess.Popen] = []  # killed after each test (conftest), even a failed one


class PipelineProcess:
    """`python -m pipeline ARGS` on the scenario pipeline, pausable at one named point."""

    def __init__(
        self,
        db: Path | str,
        pause_dir: Path,
        *args: str,
        pause_at: str | None = None,
        version: int = 2,
        env: dict[str, str] | None = None,
        defs: str = SCENARIO,
    ) -> None:
        self.pause_dir = pause_dir
        environ = {
            **os.environ,
            "RELIABILITY_VERSION": str(version),
            # Which builds share a transaction must not depend on how busy the machine is.
            "ASSETBOARD_BATCH_BELOW": "60",
            **(env or {}),
        }
        if pause_at:
            pause_dir.mkdir(parents=True, exist_ok=True)
            environ["ASSETBOARD_PAUSE_AT"] = pause_at
            environ["ASSETBOARD_PAUSE_DIR"] = str(pause_dir)
        command = args or ("materialize",)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", *command, "--defs", defs, "--db", str(db)],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        STARTED.append(self.process)

    def reached(self, phase: str) -> None:
        marker = self.pause_dir / f"{phase}.reached"
        wait_for(marker.exists, f"pause point {phase}", self.process)

    def started(self, marker: Path) -> None:
        wait_for(marker.exists, f"{marker.name}", self.process)

    def release(self, phase: str) -> None:
        (self.pause_dir / f"{phase}.release").touch()

    def send(self, signum: int) -> None:
        os.kill(self.process.pid, signum)

    def finish(self) -> Finished:
        try:
            out, err = self.process.communicate(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(
                f"the process did not end in {WAIT_SECONDS} s:\n{out}{err}"
            ) from None
        return Finished(self.process.returncode, out, err)


def kill_leftovers() -> None:
    """No test leaves a pipeline process behind, whatever happened to it."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate()


def run_cli(
    db: Path | str,
    *args: str,
    version: int = 1,
    env: dict[str, str] | None = None,
    defs: str = SCENARIO,
) -> Finished:
    process = PipelineProcess(db, Path("unused"), *args, version=version, env=env, defs=defs)
    return process.finish()


def table_versions(db: Path) -> dict[str, int | None]:
    """The RELIABILITY_VERSION each asset's object holds now (None: it is not there)."""
    found: dict[str, int | None] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for name in ASSETS:
            if relation_kind(con, name) is None:
                found[name] = None
            else:
                found[name] = con.execute(f'SELECT max(version) FROM "{name}"').fetchone()[0]
    return found


def scenario_defs() -> Definitions:
    return load_definitions(SCENARIO)  # its structure does not depend on the env


def assert_history_matches_warehouse(db: Path) -> None:
    """What every reader sees equals what the file holds: each object present is recorded as
    built by the run that built it, with its real row count; nothing is left 'running'."""
    with store.open_store(db) as con:  # the reader path: a dead run is repaired first
        runs = store.list_runs(con, 1000)
        catalog = store.catalog(con)
        built = store.latest_events(con, EventStatus.MATERIALIZED)
        events = [e for run in runs for e in store.run_events(con, run.run_id)]
        statuses = asset_statuses(scenario_defs(), con)
    assert all(run.status != RunStatus.RUNNING for run in runs), runs
    unfinished = [e for e in events if not EventStatus(e.status).finished]
    assert not unfinished, unfinished
    with duckdb.connect(str(db), read_only=True) as con:
        for name in ASSETS:
            kind = relation_kind(con, name)
            if kind is None:
                assert name not in catalog, f"{name} is recorded but not in the warehouse"
                continue
            (count,) = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            (version,) = con.execute(f'SELECT max(version) FROM "{name}"').fetchone()
            entry, event = catalog[name], built[name]
            assert (entry.kind, entry.row_count) == (kind, count), (name, entry, count)
            assert (event.run_id, event.row_count) == (entry.run_id, count), (name, event)
            recorded = {row["version"] for row in event.preview}
            if kind == "view" and _upstream_rebuilt(name, entry.run_id, catalog):
                # A view holds no rows: it shows what its upstream holds now. Built before that
                # upstream's newest build, its preview is older, and the status model says so.
                assert statuses[name].health == AssetHealth.STALE, statuses[name]
                continue
            assert recorded == {version}, f"{name}: history shows {recorded}, table has {version}"


def _upstream_rebuilt(view: str, built_by: int | None, catalog: dict) -> bool:
    return any((catalog[up].run_id or 0) > (built_by or 0) for up in VIEW_READS[view])


def no_traceback(finished: Finished) -> None:
    assert "Traceback" not in finished.stderr, finished.stderr
    assert "terminate called" not in finished.stderr, finished.stderr


SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}
