"""Partition keys and windows: month ends, leap years, weeks, ranges across a year, bad keys."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.partitions import (
    DailyPartitions,
    MonthlyPartitions,
    PartitionError,
    StaticPartitions,
    TimeWindow,
    WeeklyPartitions,
)

TODAY = date(2024, 4, 15)


def test_monthly_keys_are_the_months_that_have_ended() -> None:
    months = MonthlyPartitions(start="2023-11-01")

    keys = months.get_partition_keys(TODAY)
    assert keys == ["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01", "2024-03-01"]
    assert (
        MonthlyPartitions("2023-11-01", end_offset=1).get_partition_keys(TODAY)[-1] == "2024-04-01"
    )
    assert (
        MonthlyPartitions("2023-11-01", end="2024-02-01").get_partition_keys()[-1] == "2024-01-01"
    )


def test_windows_end_where_the_next_begins_across_a_leap_february_and_a_year() -> None:
    months = MonthlyPartitions(start="2023-01-01")

    assert months.window("2024-02-01") == TimeWindow(date(2024, 2, 1), date(2024, 3, 1))
    assert months.window("2023-12-01") == TimeWindow(date(2023, 12, 1), date(2024, 1, 1))
    days = DailyPartitions(start="2024-02-27")
    assert days.get_partition_keys(date(2024, 3, 2)) == [
        "2024-02-27",
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
    ]


def test_weeks_start_on_sunday() -> None:
    weeks = WeeklyPartitions(start="2024-03-03")  # a Sunday

    assert weeks.get_partition_keys(date(2024, 3, 20)) == ["2024-03-03", "2024-03-10"]
    assert weeks.window("2024-03-10") == TimeWindow(date(2024, 3, 10), date(2024, 3, 17))
    with pytest.raises(PartitionError, match=r"not the first day of a week .*use 2024-03-03"):
        WeeklyPartitions(start="2024-03-05")


def test_a_range_across_a_year_includes_both_ends() -> None:
    months = MonthlyPartitions(start="2023-01-01")

    keys = months.key_range("2023-11-01", "2024-02-01", TODAY)

    assert keys == ["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"]


def test_a_reversed_range_says_how_to_write_it() -> None:
    with pytest.raises(PartitionError, match=r"reversed.*write 2023-11-01\.\.\.2024-02-01"):
        MonthlyPartitions(start="2023-01-01").key_range("2024-02-01", "2023-11-01", TODAY)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("2024-03-15", r"'2024-03-15' is not a partition .*Nearest: 2024-03-01"),
        ("March", r"keys are dates written YYYY-MM-DD"),
        ("2022-12-01", r"before the first partition .*2023-01-01"),
        ("2024-04-01", r"after the last partition .*the last is 2024-03-01.*end_offset=1"),
    ],
)
def test_a_key_that_is_not_a_partition_names_the_nearest(key: str, message: str) -> None:
    with pytest.raises(PartitionError, match=message):
        MonthlyPartitions(start="2023-01-01").check_key(key, TODAY)


def test_a_key_after_a_definitions_end_says_the_definition_ends_there() -> None:
    """Not 'set end_offset=1': that would not help when the definition stops the partitions."""
    months = MonthlyPartitions(start="2023-01-01", end="2024-01-01")
    message = (
        r"2024-02-01 is after the last partition of MonthlyPartitions\(start=2023-01-01,"
        r" end=2024-01-01\) \(the last is 2023-12-01\): the definition ends them at 2024-01-01$"
    )
    with pytest.raises(PartitionError, match=message):
        months.check_key("2024-02-01", TODAY)


def test_static_partitions_keep_their_order_and_refuse_bad_lists() -> None:
    categories = StaticPartitions(["Electronics", "Books", "Toys"])

    assert categories.get_partition_keys() == ["Electronics", "Books", "Toys"]
    assert categories.window("Books") is None
    with pytest.raises(PartitionError, match=r"'Book' is not a partition .*Nearest: Books"):
        categories.check_key("Book")
    with pytest.raises(PartitionError, match=r"duplicate keys: Books"):
        StaticPartitions(["Books", "Toys", "Books"])
    with pytest.raises(PartitionError, match=r"at least one key"):
        StaticPartitions([])


def test_bad_dates_are_named() -> None:
    with pytest.raises(PartitionError, match=r"start '2024-13-01' is not a date"):
        MonthlyPartitions(start="2024-13-01")
    with pytest.raises(PartitionError, match=r"end 2023-01-01 must come after start 2024-01-01"):
        MonthlyPartitions(start="2024-01-01", end="2023-01-01")
