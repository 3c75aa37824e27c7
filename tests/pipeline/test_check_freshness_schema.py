"""freshness across DATE / TIMESTAMP / TIMESTAMPTZ and time zones; column_schema across builds."""

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipeline import Definitions, asset, checks, materialize, run_checks
from pipeline.errors import DefinitionError, PipelineError


@pytest.fixture
def con(db_path):
    """A session far from UTC: the verdicts must not depend on the session's TimeZone."""
    with duckdb.connect(str(db_path)) as connection:
        connection.execute("SET TimeZone = 'Pacific/Kiritimati'")  # UTC+14
        yield connection


def _table(con, column_type, value):
    con.execute(f'CREATE OR REPLACE TABLE events (id INTEGER, "at" {column_type})')  # a keyword
    con.execute("INSERT INTO events VALUES (1, ?), (2, NULL)", [value])


def _verdict(con, column_type, value, max_age, **options):
    _table(con, column_type, value)
    return checks.freshness("events", "at", max_age, **options).fn(con)


def _now() -> datetime:
    """Read at each test, not at import: a suite of several minutes must not age the data."""
    return datetime.now(UTC)


@pytest.mark.parametrize(
    ("max_age", "passed"), [(timedelta(hours=3), True), (timedelta(hours=1), False)]
)
def test_timestamptz_is_an_instant_whatever_the_session_zone(con, max_age, passed):
    two_hours_ago = (_now() - timedelta(hours=2)).isoformat()  # '...+00:00'
    result = _verdict(con, "TIMESTAMPTZ", two_hours_ago, max_age)
    assert result.passed is passed
    assert 7000 < result.observed_value < 7400  # about two hours, in seconds
    assert result.metadata["age"].startswith("2h")


@pytest.mark.parametrize(
    ("timezone", "passed"), [("UTC", True), ("Asia/Tokyo", False), ("America/New_York", True)]
)
def test_naive_timestamps_are_wall_clock_time_in_the_given_zone(con, timezone, passed):
    """Two hours ago in UTC wall-clock time: 11 h old if written in Tokyo, in the future in NY."""
    wall_clock = (_now() - timedelta(hours=2)).replace(tzinfo=None)
    result = _verdict(con, "TIMESTAMP", wall_clock, timedelta(hours=3), timezone=timezone)
    assert result.passed is passed
    assert result.threshold == "age <= 3h"


@pytest.mark.parametrize(
    ("days_ago", "max_age", "passed"),
    [(0, timedelta(days=1), True), (2, timedelta(days=1), False), (2, timedelta(days=3), True)],
)
def test_a_date_counts_from_its_midnight_in_utc(con, days_ago, max_age, passed):
    result = _verdict(con, "DATE", _now().date() - timedelta(days=days_ago), max_age)
    assert result.passed is passed


def test_an_empty_or_all_null_column_is_not_fresh(con):
    con.execute('CREATE TABLE events ("at" TIMESTAMP)')
    result = checks.freshness("events", "at", timedelta(days=1)).fn(con)
    assert result.passed is False
    assert result.metadata == {"reason": "'at' has no non-NULL value"}


def test_a_column_that_is_not_a_time_is_a_clear_error(con):
    con.execute('CREATE TABLE events ("at" VARCHAR)')
    with pytest.raises(PipelineError, match="column 'at' is VARCHAR; freshness needs a DATE"):
        checks.freshness("events", "at", timedelta(days=1)).fn(con)
    with pytest.raises(PipelineError, match="'events' has no column 'att'. Did you mean 'at'?"):
        checks.freshness("events", "att", timedelta(days=1)).fn(con)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_age": 3600}, r"max_age=3600 must be a positive datetime.timedelta"),
        ({"max_age": timedelta(0)}, r"must be a positive datetime.timedelta"),
        ({"timezone": "Mars/Olympus"}, r"timezone='Mars/Olympus' is not a known time zone"),
    ],
)
def test_bad_freshness_arguments(options, message):
    arguments = {"max_age": timedelta(hours=1), **options}
    with pytest.raises(DefinitionError, match=message):
        checks.freshness("events", "at", **arguments)


def test_stale_timestamptz_through_the_engine_samples_the_newest_rows(db_path):
    sql = (
        "SELECT * FROM (VALUES (1, TIMESTAMPTZ '2024-01-01 00:00+00'),"
        " (2, TIMESTAMPTZ '2024-01-02 12:00+02'), (3, TIMESTAMPTZ '2024-01-02 12:00+02'))"
        ' t(id, "at")'
    )
    stale = [
        checks.freshness("events", "at", timedelta(days=1)),
        checks.freshness("events", "at", timedelta(days=1), sample_size=0, name="private"),
    ]
    result = materialize(Definitions([asset(lambda con: sql, name="events")], stale), db=db_path)
    record, private = sorted(result.checks, key=lambda r: r.check_name != "at_freshness")
    assert record.outcome == "failed" and record.failing_count == 2
    assert [row["id"] for row in record.failing_sample] == [2, 3]
    newest = datetime.fromisoformat(record.failing_sample[0]["at"])  # kept as text
    assert newest == datetime(2024, 1, 2, 10, tzinfo=UTC)
    assert record.metadata["newest"].startswith("2024-01-02")
    assert (private.failing_sample, "newest" in private.metadata) == ([], False)


class _Versions:
    """One asset whose SELECT the test changes between materializations."""

    def __init__(self, db, sql):
        self.db, self.sql = db, sql

        @asset(name="model")
        def model(con):
            return self.sql

        self.defs = Definitions([model], [checks.column_schema("model")])

    def materialize(self, sql=None):
        self.sql = sql or self.sql
        return materialize(self.defs, db=self.db).checks[0]


def test_column_schema_passes_first_then_reports_added_removed_and_retyped(db_path):
    versions = _Versions(db_path, "SELECT 1 AS id, 'a' AS name, 2.5 AS price")
    first = versions.materialize()
    assert first.outcome == "passed" and first.severity == "warn"
    assert first.metadata["baseline"] == "none: first materialization"
    assert versions.materialize().outcome == "passed"  # rebuilt, same columns

    changed = versions.materialize("SELECT '1' AS id, 2.5 AS price, true AS active")
    assert changed.outcome == "warned" and changed.observed_value == 3
    assert changed.metadata["added"] == ["active"]
    assert changed.metadata["removed"] == ["name"]
    assert changed.metadata["retyped"] == {"id": "INTEGER -> VARCHAR"}
    assert changed.failing_count == 3
    assert [tuple(row.values()) for row in changed.failing_sample] == [
        ("active", "added", None, "BOOLEAN"),
        ("name", "removed", "VARCHAR", None),
        ("id", "retyped", "INTEGER", "VARCHAR"),
    ]
    assert list(changed.failing_sample[0]) == [
        "column_name",
        "change",
        "previous_type",
        "current_type",
    ]

    again = run_checks(versions.defs, db=db_path).checks[0]  # same table, same verdict
    assert (again.outcome, again.observed_value) == ("warned", 3)
    assert versions.materialize().outcome == "passed"  # the new layout is now the baseline


def test_column_schema_ignores_failed_builds_as_baselines(db_path):
    versions = _Versions(db_path, "SELECT 1 AS id")
    versions.materialize()
    assert versions.materialize("SELECT nope FROM nowhere").outcome == "skipped"
    assert versions.materialize("SELECT 1 AS id, 2 AS extra").metadata["added"] == ["extra"]


def test_column_schema_outside_a_run_has_no_baseline_and_passes(con):
    con.execute("CREATE TABLE model (id INTEGER)")
    result = checks.column_schema("model").fn(con)
    assert result.passed and result.metadata["baseline"] == "none: first materialization"
    with pytest.raises(PipelineError, match="'absent' does not exist"):
        checks.column_schema("absent").fn(con)
