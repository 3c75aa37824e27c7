"""Stopping the dashboard while a run it started is busy in DuckDB: the run is cancelled and
recorded, the server exits cleanly, and the history equals the warehouse.

The first release crashed here (`terminate called after throwing an instance of ''`, exit
134) and left a table committed but recorded as failed with its old row count.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from e2e_env import dashboard_server

from pipeline import store
from tests.reliability.harness import (
    SCENARIO,
    assert_history_matches_warehouse,
    run_cli,
    table_versions,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_the_server_cancels_its_run_and_records_it(
    browser, tmp_path: Path, stop: signal.Signals
) -> None:
    db = tmp_path / "warehouse.duckdb"
    assert run_cli(db, "materialize", version=1).code == 0
    marker = tmp_path / "big_load.started"
    env = {
        **os.environ,
        "ASSETBOARD_DEFS": SCENARIO,
        "ASSETBOARD_DB": str(db),
        "RELIABILITY_VERSION": "2",
        "RELIABILITY_SLOW_MARKER": str(marker),  # an asset DuckDB is busy with for minutes
    }
    log = tmp_path / "server.log"
    with dashboard_server(tmp_path, env, log) as server:
        page = browser.new_page()
        page.goto(f"{server.url}/materialize")
        page.get_by_role("button", name="Materialize all").click()
        wait_for(marker.exists, "the long load to start", server.process)
        page.close()
        server.process.send_signal(stop)
        code = server.process.wait(timeout=60)
        output = server.output

    assert code == 0, output
    assert "terminate called" not in output and "Traceback" not in output, output
    with store.open_store(db) as con:
        run = store.list_runs(con, 1)[0]
        big = next(e for e in store.run_events(con, run.run_id) if e.asset == "big_load")
    assert run.status == "cancelled" and "the dashboard server stopping" in run.message
    assert big.status == "cancelled"
    versions = table_versions(db)
    assert (versions["raw"], versions["model"]) == (2, 1)  # raw was committed; model never ran
    assert_history_matches_warehouse(db)
