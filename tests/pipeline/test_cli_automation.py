"""The command line's automation: `--config`, `tick`, `automation`, and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline import store
from pipeline.datagen import generate

ROOT = Path(__file__).resolve().parents[2]
REQUEST = {
    "department": "North",
    "product": "Pro Webcam",
    "start_date": "2024-01-01",
    "end_date": "2025-06-30",
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    generate(2000, folder)
    return folder


def cli(data: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"ASSETBOARD_SALES_DATA": str(data), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def expected_rows(data: Path, request: dict[str, str]) -> int:
    """The request's rows counted straight from the CSVs, as a user would check them."""
    with duckdb.connect() as con:
        return con.execute(
            f"""SELECT count(*) FROM read_csv('{data}/sales_data.csv') s
                JOIN read_csv('{data}/sales_reps.csv') r USING (rep_id)
                JOIN read_csv('{data}/products.csv') p USING (product_id)
                WHERE r.department = ? AND p.product_name = ? AND s.date BETWEEN ? AND ?""",
            [request["department"], request["product"], request["start_date"], request["end_date"]],
        ).fetchone()[0]


def test_config_on_the_command_line_builds_the_requested_rows(data: Path, db_path: Path) -> None:
    assert cli(data, db_path, "materialize").returncode == 0
    config = json.dumps({"adhoc_request": REQUEST})
    result = cli(data, db_path, "materialize", "--select", "adhoc_request", "--config", config)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(db_path), read_only=True) as con:
        [(built,)] = con.sql("SELECT count(*) FROM adhoc_request").fetchall()
    assert built == expected_rows(data, REQUEST) > 0
    request_file = data / "request.json"
    request_file.write_text(json.dumps({"adhoc_request": {**REQUEST, "department": "South"}}))
    from_file = cli(data, db_path, "materialize", "--select", "adhoc_request", "--config",
                    str(request_file))  # fmt: skip
    assert from_file.returncode == 0, from_file.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--select", "adhoc_request"], "asset 'adhoc_request' needs run config (department,"),
        (["--select", "adhoc_request", "--config", "{nope"], "--config is not valid JSON"),
        (["--select", "adhoc_request", "--config", "/no/such/file.json"], "neither a JSON"),
        (
            ["--select", "adhoc_request", "--config", '{"adhoc_request": {"department": 1}}'],
            "department: Input should be a valid string; product: missing",
        ),
        (
            ["--select", "joined_data", "--config", json.dumps({"adhoc_request": REQUEST})],
            "run config is given for 'adhoc_request', which this run does not build",
        ),
        (["--config", '{"joined_data": {}}'], "asset 'joined_data' takes no config"),
    ],
)
def test_run_config_mistakes_are_usage_errors_that_build_nothing(
    data: Path, db_path: Path, args: list[str], message: str
) -> None:
    result = cli(data, db_path, "materialize", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    with store.open_store(db_path) as con:
        assert store.list_runs(con) == []


def test_tick_and_automation_on_the_sales_example(data: Path, db_path: Path) -> None:
    assert cli(data, db_path, "materialize").returncode == 0
    assert cli(data, db_path, "tick", "--now", "2026-12-06T12:00:00").returncode == 0
    (data / "requests").mkdir()
    (data / "requests" / "north.json").write_text(json.dumps(REQUEST))
    ticked = cli(data, db_path, "tick", "--now", "2026-12-07T00:00:30")
    assert ticked.returncode == 0, ticked.stdout + ticked.stderr
    lines = [line for line in ticked.stdout.splitlines() if " tick " in line]
    assert lines == [
        "schedule weekly_update_schedule tick 4: requested run 2",
        "sensor adhoc_request_sensor tick 5: requested run 3",
    ]
    listed = cli(data, db_path, "automation").stdout
    assert "daemon: not running (python -m pipeline daemon)" in listed
    assert "schedule weekly_update_schedule [on]: At 12:00 AM, only on Monday (UTC); next" in listed
    assert "sensor adhoc_request_sensor [on]: watches" in listed and "1 file seen" in listed
    monthly = next(line for line in listed.splitlines() if "monthly_sales_performance_" in line)
    assert monthly.endswith(", nothing newer to build: its partitions end with 2025-12-01")
    runs = cli(data, db_path, "runs").stdout
    assert "launched by sensor adhoc_request_sensor (tick 5)" in runs

    switched = cli(data, db_path, "automation", "--off", "weekly_update_schedule")
    assert switched.stdout.strip() == "schedule weekly_update_schedule switched off"
    (data / "requests" / "south.json").write_text(json.dumps({**REQUEST, "department": "South"}))
    (data / "requests" / "bad.json").write_text("{not json")
    later = cli(data, db_path, "tick", "--now", "2026-12-14T00:00:30")
    assert "weekly_update_schedule" not in later.stdout
    # one request ran and one was refused: said so, and the exit code asks for a look
    assert "sensor adhoc_request_sensor tick 6: requested run 4, rejected 1 file: " in later.stdout
    assert later.returncode == 1


def test_automation_usage_errors_exit_2(data: Path, db_path: Path, tmp_path: Path) -> None:
    unknown = cli(data, db_path, "automation", "--on", "nightly")
    assert unknown.returncode == 2 and "no schedule or sensor 'nightly'" in unknown.stderr
    assert "weekly_update_schedule" in unknown.stderr
    when = cli(data, db_path, "tick", "--now", "next monday")
    assert when.returncode == 2 and "is not a date and time" in when.stderr
    broken = tmp_path / "broken_defs.py"
    broken.write_text(
        "from pipeline import Definitions, asset\n"
        "from pipeline.automation import Schedule\n"
        "a = asset(lambda con: 'SELECT 1 AS x', name='a')\n"
        "defs = Definitions([a], schedules=[Schedule('s', '0 0 * *'), Schedule('s', '@hourly',"
        " select='b')])\n"
    )
    bad = cli(data, db_path, "tick", "--defs", str(broken))
    assert bad.returncode == 2
    assert "3 problems in the definitions" in bad.stderr
    assert "cron '0 0 * *', which is not a cron expression" in bad.stderr
