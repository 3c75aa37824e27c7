"""The sensor end to end, as `make run` serves it: the launcher starts the dashboard and the
daemon on a temp warehouse and a temp copy of data/ (so requests/ is the test's own); a request
file dropped there becomes a run of adhoc_request that the Runs page lists as launched by the
sensor; the Automation page says the daemon is running and links the sensor's tick to that run;
the table holds exactly the requested sales, and the history agrees with the database.

Pages are photographed (test-artifacts/automation-*.png) for a person to look at. Every wait
is on a condition, never a fixed sleep; no request leaves the machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from e2e_env import ROOT, Server, dashboard_and_daemon

from pipeline import store
from pipeline.daemon import daemon_status
from pipeline.store import automation as ticks_store

pytestmark = pytest.mark.e2e

SENSOR = "adhoc_request_sensor"
REQUEST = {
    "department": "North",
    "product": "Pro Webcam",
    "start_date": "2024-01-01",
    "end_date": "2025-06-30",
}
WAIT_SECONDS = 90.0  # a loaded 2-core machine
LAUNCHED = re.compile(rf"sensor {SENSOR} \(tick (\d+)\)")
# What a person reads: the main area's text and every table's cells (a dataframe draws them on a
# canvas; its accessible table beside it holds the same text).
READ_JS = """() => [document.querySelector('[data-testid=stMain]').innerText,
    ...[...document.querySelectorAll('[data-testid=stDataFrame] table')]
        .map(table => [...table.querySelectorAll('tr')]
            .map(row => [...row.children].map(cell => cell.textContent).join(' | ')).join('\\n'))]
    .join('\\n').replaceAll('\\u2060', '')"""
# The sales the request asks for, straight from the CSVs: what adhoc_request must hold.
EXPECTED_SQL = """
SELECT s.date::DATE, round(s.dollar_amount::DOUBLE, 2), s.customer_name, s.quantity::BIGINT,
       r.rep_name, r.department, p.product_name
FROM read_csv($sales) s
JOIN read_csv($reps) r ON r.rep_id = s.rep_id
JOIN read_csv($products) p ON p.product_id = s.product_id
WHERE r.department = $department AND p.product_name = $product
  AND s.date::DATE BETWEEN $start_date::DATE AND $end_date::DATE
ORDER BY ALL
"""
BUILT_SQL = """
SELECT date::DATE, round(dollar_amount::DOUBLE, 2), customer_name, quantity::BIGINT,
       rep_name, department, product_name
FROM adhoc_request ORDER BY ALL
"""


@dataclass
class Served:
    server: Server
    db: Path
    data: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The sample data copied, joined_data built (the request reads it), then `make run`'s
    launcher with the daemon evaluating every second."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("*.duckdb*", "requests"))
    db = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "ASSETBOARD_SALES_DATA": str(data)}
    built = subprocess.run(
        [sys.executable, "-m", "pipeline", "materialize", "--db", str(db)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    log = tmp_path / "serve.log"
    args = ["--db", str(db), "--interval", "1"]
    with dashboard_and_daemon(env, log, args, ["--server.fileWatcherType", "none"]) as server:
        _until(lambda: daemon_status(db).running, "the daemon to take its lock", server)
        yield Served(server, db, data)


def _until(condition, what: str, server: Server) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if server.process.poll() is not None:
            raise AssertionError(f"the launcher ended before {what}:\n{server.output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{server.output}")
        time.sleep(0.05)


def _settled(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && [...document.querySelectorAll('[data-testid=\"stDataFrame\"]')]"
        ".every(frame => !frame.checkVisibility() || frame.querySelector('table tr td'))"
    )
    assert page.get_by_test_id("stException").count() == 0


def _read(page) -> str:
    return page.evaluate(READ_JS)


def _drop(folder: Path, name: str, request: dict[str, str]) -> Path:
    """Write the request beside, then rename it in: the sensor never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    partial.write_text(json.dumps(request), encoding="utf-8")
    return partial.replace(folder / name)


def _sensor_runs(db: Path) -> list[store.RunRecord]:
    with store.open_store(db) as con:
        return [r for r in store.list_runs(con, 100) if LAUNCHED.fullmatch(r.launched_by or "")]


def _last_sensor_tick(db: Path) -> int:
    with store.open_store(db) as con:
        ticks = ticks_store.ticks(con, SENSOR, 1)
    return ticks[0].tick_id if ticks else 0


def test_a_request_file_becomes_a_run_the_runs_page_shows(
    served: Served, page, screenshot, outside_requests: list[str]
) -> None:
    url, db = served.server.url, served.db
    page.goto(f"{url}/runs")
    _settled(page)
    before = _read(page)
    assert "Run 1 · Succeeded" in before and SENSOR not in before, before
    screenshot("automation-01-runs-before-the-request")

    _drop(served.data / "requests", "north-webcam.json", REQUEST)
    dropped = time.monotonic()
    # No reload: an idle page looks for runs started elsewhere every few seconds.
    shown = page.get_by_text(f"sensor {SENSOR} (tick").first  # a cell of the runs table
    shown.wait_for(state="attached", timeout=WAIT_SECONDS * 1000)
    _settled(page)
    seen_after = time.monotonic() - dropped
    screenshot("automation-02-runs-after-the-request")
    # The details below still show run 1 (kept in the URL, ?run=1): open the new one.
    box = page.get_by_role("combobox", name="Run", exact=True)
    box.focus()
    box.press("ArrowDown")
    page.get_by_role("option", name="Run 2", exact=True).click()
    page.get_by_role("heading", name="Run 2 · Succeeded").wait_for()
    _settled(page)
    text = _read(page)
    screenshot("automation-03-the-sensors-run")
    page.set_viewport_size({"width": 800, "height": 900})
    _settled(page)
    screenshot("automation-04-the-sensors-run-800px")

    [run] = _sensor_runs(db)
    tick_id = int(LAUNCHED.fullmatch(run.launched_by or "")[1])  # type: ignore[index]
    assert run.run_id == 2 and run.status == "success" and run.selection == "adhoc_request"
    assert f"from sensor {SENSOR} (tick {tick_id})" in text, text  # the run's own caption
    row = next(line for line in text.splitlines() if line.startswith("2 |"))
    assert f"sensor {SENSOR} (tick {tick_id})" in row and "adhoc_request" in row, row

    # The Automation page, as make run serves it: the daemon beside the dashboard is running,
    # and the sensor's tick links to its run.
    daemon_pid = re.search(r"the daemon \(pid (\d+)\)", served.server.output)
    assert daemon_pid is not None, served.server.output
    page.set_viewport_size({"width": 1440, "height": 960})
    page.goto(f"{url}/automation")
    page.get_by_text(f"The daemon is running (pid {daemon_pid[1]} on").wait_for()
    link = page.get_by_role("link").filter(has_text=re.compile(r"^\W*(history)?\W*Run 2$"))
    link.wait_for()
    _settled(page)
    screenshot("automation-05-automation-page")
    link.scroll_into_view_if_needed()  # the page scrolls inside the app: show the sensor
    screenshot("automation-06-the-sensors-tick")
    link.click()  # the tick's run opens on the Runs page
    page.get_by_role("heading", name="Run 2 · Succeeded").wait_for()

    # Later ticks see the same file and launch nothing more.
    _until(lambda: _last_sensor_tick(db) >= tick_id + 2, "two more sensor ticks", served.server)
    assert len(_sensor_runs(db)) == 1

    served.server.process.send_signal(signal.SIGINT)  # Ctrl-C, as in `make run`
    assert served.server.process.wait(timeout=60) == 0, served.server.output
    assert "Traceback" not in served.server.output, served.server.output

    with duckdb.connect(str(db), read_only=True) as con:
        built = con.execute(BUILT_SQL).fetchall()
        data = served.data
        expected = con.execute(
            EXPECTED_SQL,
            {
                "sales": str(data / "sales_data.csv"),
                "reps": str(data / "sales_reps.csv"),
                "products": str(data / "products.csv"),
                **REQUEST,
            },
        ).fetchall()
    assert len(expected) > 10 and built == expected

    with store.open_store(db) as con:
        [event] = [e for e in store.run_events(con, run.run_id) if e.asset == "adhoc_request"]
        entry = store.catalog(con)["adhoc_request"]
        tick = ticks_store.get_tick(con, tick_id)
    assert event.status == "materialized" and event.row_count == len(built)
    assert (entry.run_id, entry.row_count) == (run.run_id, len(built))
    assert tick is not None and tick.status == "requested" and tick.run_ids == [run.run_id]
    assert tick.files and tick.files[0].endswith("north-webcam.json"), tick.files
    assert outside_requests == []
    print(f"the run showed on the Runs page {seen_after:.1f} s after the file was dropped")
