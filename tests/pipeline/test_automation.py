"""Schedules and sensors as declared: validation, cron times across DST and month ends, the
partitions a scheduled run builds, and what they say in words."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline import Definitions, MonthlyPartitions, StaticPartitions, WeeklyPartitions, asset
from pipeline.automation import FileSensor, Schedule, partition_keys_for
from pipeline.errors import DefinitionError

BERLIN = ZoneInfo("Europe/Berlin")


@asset
def raw(con):
    return "SELECT 1 AS x"


@asset(deps=[raw], partitions=MonthlyPartitions("2024-01-01"), partition_column="month")
def monthly(con, context):
    return f"SELECT DATE '{context.partition_key}' AS month"


@asset(deps=[raw], partitions=WeeklyPartitions("2023-12-31"), partition_column="week")
def weekly(con, context):
    return f"SELECT DATE '{context.partition_key}' AS week"


@asset(deps=[raw], partitions=StaticPartitions(["a", "b"]), partition_column="letter")
def lettered(con, context):
    return f"SELECT '{context.partition_key}' AS letter"


ASSETS = [raw, monthly, weekly, lettered]


def _at(text: str, zone: ZoneInfo | None = None) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone or UTC)


# --- validation ----------------------------------------------------------------------------


def test_every_problem_of_schedules_and_sensors_is_reported_at_once() -> None:
    with pytest.raises(DefinitionError) as caught:
        Definitions(
            ASSETS,
            schedules=[
                Schedule("nightly", cron="0 25 * * *", timezone="Mars/Olympus"),
                Schedule("nightly", cron="0 0 * * *", select="rawx"),
            ],
            sensors=[FileSensor("", path=" ", select="raw")],
        )
    problems = caught.value.problems
    assert len(problems) == 6, problems
    text = "\n".join(problems)
    assert "schedule 'nightly' has cron '0 25 * * *', which is not a cron expression" in text
    assert "timezone 'Mars/Olympus', which is not an IANA timezone" in text
    assert "schedule 'nightly' is defined twice" in text
    assert "schedule 'nightly' selects 'rawx': unknown asset 'rawx'" in text
    assert "a sensor has an empty name" in text
    assert "sensor '' has an empty path" in text


def test_a_schedule_cannot_name_an_asset_that_needs_run_config() -> None:
    from dataclasses import dataclass

    @dataclass
    class Wanted:
        who: str

    @asset(config=Wanted)
    def on_request(con, context):
        return f"SELECT '{context.config.who}' AS who"

    with pytest.raises(DefinitionError, match="needs run config: a schedule gives none"):
        Definitions([on_request], schedules=[Schedule("s", "0 0 * * *", select="on_request")])
    # reached by `*`, it is left out of the scheduled run instead: a valid definition
    Definitions([on_request], schedules=[Schedule("s", "0 0 * * *")])


# --- cron times ----------------------------------------------------------------------------


def test_the_latest_time_counts_a_moment_that_is_exactly_scheduled() -> None:
    weekly_run = Schedule("w", "0 0 * * 1")
    assert weekly_run.latest_time(_at("2026-12-07T00:00:00")) == _at("2026-12-07T00:00:00")
    assert weekly_run.latest_time(_at("2026-12-06T23:59:59")) == _at("2026-11-30T00:00:00")
    assert weekly_run.next_time(_at("2026-12-07T00:00:00")) == _at("2026-12-14T00:00:00")


def test_a_time_skipped_by_the_spring_dst_change_runs_once_after_the_gap() -> None:
    """02:30 does not exist in Berlin on 2026-03-29: the run happens at 03:00, once."""
    nightly = Schedule("n", "30 2 * * *", timezone="Europe/Berlin")
    times = list(
        nightly.times_between(_at("2026-03-28T12:00", BERLIN), _at("2026-03-30T12:00", BERLIN))
    )
    assert [t.isoformat() for t in times] == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_a_time_repeated_by_the_autumn_dst_change_runs_once() -> None:
    """02:30 happens twice in Berlin on 2026-10-25: only the first one is a scheduled time."""
    nightly = Schedule("n", "30 2 * * *", timezone="Europe/Berlin")
    times = list(
        nightly.times_between(_at("2026-10-24T12:00", BERLIN), _at("2026-10-26T12:00", BERLIN))
    )
    assert [t.isoformat() for t in times] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_month_ends_and_leap_days_come_only_when_they_exist() -> None:
    last_day = Schedule("m", "0 0 31 * *")
    times = list(last_day.times_between(_at("2027-01-01T00:00"), _at("2027-12-31T23:00")))
    assert [t.date().isoformat() for t in times] == [
        "2027-01-31",
        "2027-03-31",
        "2027-05-31",
        "2027-07-31",
        "2027-08-31",
        "2027-10-31",
        "2027-12-31",
    ]
    leap = Schedule("l", "0 6 29 2 *")
    times = list(leap.times_between(_at("2026-01-01T00:00"), _at("2033-01-01T00:00")))
    assert [t.date().isoformat() for t in times] == ["2028-02-29", "2032-02-29"]


def test_a_schedule_in_a_timezone_runs_at_local_midnight() -> None:
    berlin_monday = Schedule("w", "0 0 * * 1", timezone="Europe/Berlin")
    due = berlin_monday.latest_time(_at("2026-12-07T00:00:00"))  # 01:00 in Berlin
    assert due.isoformat() == "2026-12-07T00:00:00+01:00"
    assert due.astimezone(UTC).isoformat() == "2026-12-06T23:00:00+00:00"


def test_cron_in_words_names_the_timezone() -> None:
    assert Schedule("w", "0 0 * * 1").in_words() == "At 12:00 AM, only on Monday (UTC)"
    monthly_run = Schedule("m", "0 0 1 * *", timezone="Europe/Berlin")
    assert monthly_run.in_words() == "At 12:00 AM, on day 1 of the month (Europe/Berlin)"


# --- the partitions a scheduled run builds --------------------------------------------------


def test_a_monthly_asset_gets_the_month_that_has_just_ended() -> None:
    defs = Definitions(ASSETS)
    schedule = Schedule("m", "0 0 1 * *", select="monthly")
    assert partition_keys_for(defs, schedule, _at("2026-12-01T00:00")) == {
        "monthly": ["2026-11-01"]
    }
    # on the 3rd, November is still the month that ended last
    assert partition_keys_for(defs, schedule, _at("2026-12-03T05:00")) == {
        "monthly": ["2026-11-01"]
    }


def test_a_weekly_asset_gets_the_week_ended_last_sunday_and_static_ones_build_whole() -> None:
    defs = Definitions(ASSETS)
    schedule = Schedule("w", "0 0 * * 1", select="weekly, lettered")
    assert partition_keys_for(defs, schedule, _at("2026-12-07T00:00")) == {"weekly": ["2026-11-29"]}


def test_partitions_all_or_a_function_of_the_scheduled_time() -> None:
    defs = Definitions(ASSETS)
    everything = Schedule("a", "0 0 1 * *", select="monthly", partitions="all")
    assert partition_keys_for(defs, everything, _at("2026-12-01T00:00")) == {}
    chosen = Schedule(
        "f", "0 0 1 * *", select="monthly", partitions=lambda at: [f"{at.year - 1}-01-01"]
    )
    assert partition_keys_for(defs, chosen, _at("2026-12-01T00:00")) == {"monthly": ["2025-01-01"]}


def test_a_definition_that_ends_earlier_has_no_partition_that_just_ended() -> None:
    @asset(partitions=MonthlyPartitions("2024-01-01", end="2026-01-01"), partition_column="m")
    def ended(con, context):
        return f"SELECT DATE '{context.partition_key}' AS m"

    defs = Definitions([ended])
    schedule = Schedule("m", "0 0 1 * *")
    assert partition_keys_for(defs, schedule, _at("2026-01-01T00:00")) == {"ended": ["2025-12-01"]}
    assert partition_keys_for(defs, schedule, _at("2026-12-01T00:00")) == {"ended": []}


def test_a_sensor_path_splits_into_folder_and_pattern() -> None:
    sensor = FileSensor("s", path="data/requests/*.json")
    assert sensor.pattern() == (__import__("pathlib").Path("data/requests"), "*.json")
    assert FileSensor("s", path="/abs/in/*/x?.json").pattern()[1] == "*/x?.json"
