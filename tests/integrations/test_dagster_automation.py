"""Schedules, the file sensor and run config on Dagster, evaluated with Dagster's own test
utilities: the same runs a native tick would start, and a request file's run building the
same rows in both engines."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

dg = pytest.importorskip(
    "dagster", reason="Dagster is not installed: `make test` installs requirements-dagster.txt"
)

from dagster_env import UNPARTITIONED, clean_data, contents  # noqa: E402

from pipeline import materialize  # noqa: E402
from pipeline.examples.sales import build_definitions  # noqa: E402
from pipeline.integrations.dagster import to_dagster  # noqa: E402


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = clean_data(tmp_path / "csv")
    (folder / "requests").mkdir()
    return folder


@pytest.fixture
def defs(data: Path, tmp_path: Path):
    return to_dagster(build_definitions(data), db=tmp_path / "dagster.duckdb")


def tick(defs, name: str, when: datetime):
    schedule = defs.resolve_schedule_def(name)
    context = dg.build_schedule_context(
        scheduled_execution_time=when, repository_def=defs.get_repository_def()
    )
    return schedule.evaluate_tick(context)


def sense(defs, cursor: str | None):
    sensor = defs.resolve_sensor_def("adhoc_request_sensor")
    context = dg.build_sensor_context(cursor=cursor, repository_def=defs.get_repository_def())
    return sensor.evaluate_tick(context)


def a_request(data: Path) -> dict[str, str]:
    """A request some sales match: a department and a product of the generated files."""
    with (data / "sales_reps.csv").open() as reps, (data / "products.csv").open() as products:
        department = next(csv.DictReader(reps))["department"]
        product = next(csv.DictReader(products))["product_name"]
    return {
        "department": department,
        "product": product,
        "start_date": "2024-01-01",
        "end_date": "2025-12-31",
    }


def test_schedules_keep_their_cron_timezone_and_assets(defs):
    weekly = defs.resolve_schedule_def("weekly_update_schedule")
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("0 0 * * 1", "UTC")
    keys = defs.resolve_job_def(weekly.job_name).asset_layer.executable_asset_keys
    assert {key.to_user_string() for key in keys} == set(UNPARTITIONED)  # +joined_data


def test_a_weekly_tick_requests_one_run_and_a_monthly_one_the_month_just_ended(defs):
    weekly = tick(defs, "weekly_update_schedule", datetime(2025, 12, 1, tzinfo=UTC))
    assert [r.partition_key for r in weekly.run_requests] == [None]
    monthly = tick(defs, "monthly_sales_performance_schedule", datetime(2025, 12, 1, tzinfo=UTC))
    assert [r.partition_key for r in monthly.run_requests] == ["2025-11-01"]
    after = tick(defs, "monthly_sales_performance_schedule", datetime(2026, 3, 1, tzinfo=UTC))
    assert not after.run_requests
    assert "no partition of monthly_sales_performance has just ended" in after.skip_message


def test_the_sensor_requests_each_new_or_changed_file_once(defs, data):
    request = a_request(data)
    path = data / "requests" / "one.json"
    path.write_text(json.dumps(request))
    first = sense(defs, None)
    (run,) = first.run_requests
    assert run.run_config == {"ops": {"adhoc_request": {"config": request}}}
    again = sense(defs, first.cursor)
    assert not again.run_requests and "no new or changed file" in again.skip_message
    path.write_text(json.dumps({**request, "end_date": "2024-12-31"}))
    changed = sense(defs, again.cursor)
    assert [r.run_config["ops"]["adhoc_request"]["config"]["end_date"] for r in
            changed.run_requests] == ["2024-12-31"]  # fmt: skip
    assert changed.run_requests[0].run_key != run.run_key


def test_a_file_the_assets_refuse_starts_no_run_and_is_not_read_again(defs, data):
    (data / "requests" / "bad.json").write_text('{"department": "North"}')
    first = sense(defs, None)
    assert not first.run_requests
    assert str(data / "requests" / "bad.json") in json.loads(first.cursor)
    assert not sense(defs, first.cursor).run_requests


def test_a_requested_run_builds_the_same_rows_in_both_engines(defs, data, tmp_path):
    request = a_request(data)
    (data / "requests" / "one.json").write_text(json.dumps(request))
    (run,) = sense(defs, None).run_requests
    native_db = tmp_path / "native.duckdb"
    native_defs = build_definitions(data)
    assert materialize(native_defs, UNPARTITIONED, native_db).ok
    native = materialize(
        native_defs, ["adhoc_request"], native_db, run_config={"adhoc_request": request}
    )
    assert native.ok
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(asset_selection=[dg.AssetKey(n) for n in UNPARTITIONED]).success
    done = job.execute_in_process(
        asset_selection=[dg.AssetKey("adhoc_request")], run_config=run.run_config
    )
    assert done.success
    built = contents(tmp_path / "dagster.duckdb", ["adhoc_request"])
    assert built == contents(native_db, ["adhoc_request"])
    assert built["adhoc_request"]  # the request matched some sales


def test_dagster_refuses_a_run_of_a_configured_asset_without_its_config(defs):
    job = defs.resolve_implicit_global_asset_job_def()
    with pytest.raises(dg.DagsterInvalidConfigError, match="department"):
        job.execute_in_process(asset_selection=[dg.AssetKey("adhoc_request")])
