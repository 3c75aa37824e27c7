"""Column profiles: recorded after each table build, never able to fail it (pipeline/profiles)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import (
    AssetContext,
    CheckResult,
    Definitions,
    PartitionRequest,
    StaticPartitions,
    asset,
    asset_check,
    materialize,
    profiles,
    store,
)
from pipeline.engine import CancelToken
from pipeline.states import EventStatus, RunStatus

SMALL = """
SELECT * FROM (VALUES
    (1, 2.5::DOUBLE, DATE '2024-01-02', 'apple', 'red'),
    (2, NULL, DATE '2024-03-01', 'fig', 'red'),
    (3, 4.5, NULL, NULL, 'green'),
    (NULL, 8.5, DATE '2024-02-10', 'kiwi', 'red')
) AS v(n, amount, day, fruit, colour)
"""


def _figures(db: Path, name: str) -> dict[str, dict[str, Any]]:
    with store.open_store(db) as con:
        latest = store.asset_profiles(con, name)[0]
    assert latest.error is None
    return {column.name: column.figures for column in latest.columns}


def test_figures_of_a_small_table(db_path: Path) -> None:
    result = materialize(Definitions(assets=[asset(lambda con: SMALL, name="fruit")]), db=db_path)
    assert result.ok
    figures = _figures(db_path, "fruit")
    assert figures["n"] == {
        "nulls": 1,
        "null_share": 0.25,
        "distinct": 3,
        "distinct_exact": True,
        "min": 1,
        "max": 3,
        "mean": 2.0,
        "stddev": 1.0,
        "q25": 1,
        "q50": 2,
        "q75": 3,
        "top": [[1, 1], [2, 1], [3, 1]],
        "bins": {"edges": [1, 2, 3, 4], "counts": [1, 1, 1]},  # whole numbers: 1 value a bin
    }
    amount = figures["amount"]
    assert (amount["nulls"], amount["min"], amount["max"]) == (1, 2.5, 8.5)
    assert amount["mean"] == pytest.approx(5.1666, abs=1e-3)
    assert amount["stddev"] == pytest.approx(3.0550, abs=1e-3)
    day = figures["day"]
    assert (day["nulls"], day["min"], day["max"]) == (1, "2024-01-02", "2024-03-01")
    assert "mean" not in day
    fruit = figures["fruit"]
    assert "min" not in fruit and "max" not in fruit  # text: lengths and top values, as peers
    assert (fruit["min_length"], fruit["max_length"], fruit["avg_length"]) == (3, 5, 4.0)
    assert figures["colour"]["top"] == [["red", 3], ["green", 1]]
    assert figures["colour"]["distinct"] == 2


def test_bins_of_numbers_dates_and_timestamps_count_every_non_null_row(db_path: Path) -> None:
    sql = """
    SELECT
        CASE WHEN range >= 900 THEN NULL ELSE range % 20 + 1 END AS rep,
        range / 7 AS amount,
        DATE '2024-01-01' + (range % 60)::INTEGER AS day,
        TIMESTAMP '2024-01-01 00:00' + INTERVAL (range % 25) HOUR AS at,
        TIME '10:00' AS clock,
        'x' || range AS label
    FROM range(1000)
    """
    materialize(Definitions(assets=[asset(lambda con: sql, name="spread")]), db=db_path)
    figures = _figures(db_path, "spread")
    for name in ("rep", "amount", "day", "at"):
        bins = figures[name]["bins"]
        assert len(bins["edges"]) == len(bins["counts"]) + 1 <= profiles.BINS + 1
        assert sum(bins["counts"]) == 1000 - figures[name]["nulls"], name
        assert bins["edges"][0] == figures[name]["min"]
    rep = figures["rep"]["bins"]  # 1..20: 10 bins of 2 whole values, not 12 uneven ones
    assert rep["edges"] == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert rep["counts"] == [90, 90, 90, 90, 90, 90, 90, 90, 90, 90]
    amount = figures["amount"]["bins"]  # 0..142.71 in 12 equal widths, the max in the last
    assert amount["edges"][-1] == figures["amount"]["max"] and amount["counts"][-1] > 0
    day = figures["day"]["bins"]  # 60 days: 12 bins of 5 days
    assert day["edges"][:3] == ["2024-01-01", "2024-01-06", "2024-01-11"]
    assert day["counts"] == [85] * 8 + [80] * 4  # days 0-39 hold 17 rows each, 40-59 16
    at = figures["at"]["bins"]  # 24 hours: bins of 2 hours, the max on the last edge
    assert at["edges"][:2] == ["2024-01-01T00:00:00", "2024-01-01T02:00:00"]
    assert at["edges"][-1] == "2024-01-02T00:00:00" and len(at["counts"]) == 12
    assert "bins" not in figures["clock"] and "bins" not in figures["label"]


def test_no_bins_that_would_leave_infinite_values_out(db_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "CREATE TABLE t AS SELECT * FROM (VALUES"
            " (DATE '2024-01-01', TIMESTAMP '2024-01-01', 1.0::DOUBLE),"
            " ('infinity'::DATE, 'infinity'::TIMESTAMP, 'inf'::DOUBLE)) AS v(d, ts, x)"
        )
        columns = [["d", "DATE"], ["ts", "TIMESTAMP"], ["x", "DOUBLE"]]
        profile = profiles.profile_table(con, "t", 1, columns, 2)
    assert profile.error is None
    assert not any("bins" in column.figures for column in profile.columns)


def test_top_values_only_for_few_distinct_values(db_path: Path) -> None:
    sql = "SELECT range AS id, range % 3 AS bucket FROM range(50)"
    materialize(Definitions(assets=[asset(lambda con: sql, name="many")]), db=db_path)
    figures = _figures(db_path, "many")
    assert "top" not in figures["id"]  # 50 distinct values
    assert figures["bucket"]["top"] == [[0, 17], [1, 17], [2, 16]]


def test_distinct_is_approximate_above_the_threshold(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiles, "EXACT_DISTINCT_UP_TO", 10)
    monkeypatch.setattr(profiles, "VALUES_COUNTED_UP_TO", 100)
    sql = "SELECT range AS id, range % 50 AS few, range / 3 AS ratio FROM range(1000)"
    materialize(Definitions(assets=[asset(lambda con: sql, name="ids")]), db=db_path)
    figures = _figures(db_path, "ids")
    for many in ("id", "ratio"):  # 1000 possible whole values, or not whole numbers
        assert figures[many]["distinct_exact"] is False
        assert figures[many]["distinct"] == pytest.approx(1000, rel=0.1)
    # 0..49: each value counted, which gives its distinct count exactly
    assert (figures["few"]["distinct"], figures["few"]["distinct_exact"]) == (50, True)
    assert figures["few"]["bins"]["counts"] == [100] * 10  # 10 bins of 5 values, 20 rows each


def test_few_whole_values_give_bins_distinct_and_top_values_from_one_count(
    db_path: Path,
) -> None:
    """Dates and whole numbers with few possible values are counted value by value."""
    sql = """
    SELECT DATE '2024-01-01' + (range % 3)::INTEGER AS day, (range % 4) * 10 AS tens
    FROM range(12)
    """
    materialize(Definitions(assets=[asset(lambda con: sql, name="few")]), db=db_path)
    figures = _figures(db_path, "few")
    assert figures["day"]["top"] == [["2024-01-01", 4], ["2024-01-02", 4], ["2024-01-03", 4]]
    assert figures["day"]["bins"] == {
        "edges": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        "counts": [4, 4, 4],
    }
    assert figures["tens"]["distinct"] == 4 and figures["tens"]["top"][0] == [0, 3]
    assert sum(figures["tens"]["bins"]["counts"]) == 12


def test_views_and_profile_false_record_nothing(db_path: Path) -> None:
    defs = Definitions(
        assets=[
            asset(lambda con: SMALL, name="quiet", profile=False),
            asset(lambda con: SMALL, name="shown", kind="view"),
        ]
    )
    assert materialize(defs, db=db_path).ok
    with store.open_store(db_path) as con:
        assert store.asset_profiles(con, "quiet") == []
        assert store.asset_profiles(con, "shown") == []


def _keeps_nothing(con: duckdb.DuckDBPyConnection) -> CheckResult:
    return CheckResult(passed=True)


@pytest.mark.parametrize("where", ["check", "definitions"])
def test_sample_size_zero_keeps_no_raw_values(db_path: Path, where: str) -> None:
    fruit = asset(lambda con: SMALL, name="fruit")
    check = asset_check(_keeps_nothing, asset=fruit, sample_size=0 if where == "check" else None)
    size = 0 if where == "definitions" else 20
    defs = Definitions(assets=[fruit], checks=[check], failing_sample_size=size)
    assert materialize(defs, db=db_path).ok
    with store.open_store(db_path) as con:
        latest = store.asset_profiles(con, "fruit")[0]
    assert latest.raw_values is False
    figures = {column.name: column.figures for column in latest.columns}
    assert not any("top" in f for f in figures.values())
    assert "min" not in figures["fruit"] and "max" not in figures["fruit"]
    assert figures["fruit"]["max_length"] == 5  # figures about values, not values, are kept
    assert (figures["n"]["min"], figures["day"]["max"]) == (1, "2024-03-01")
    assert sum(figures["n"]["bins"]["counts"]) == 3  # bins are counts between a kept min and max


def test_a_profile_failure_does_not_fail_the_build(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # avg() of a MAP column does not bind: as if DuckDB could not aggregate a column's type.
    monkeypatch.setattr(profiles, "column_kind", lambda type_name: "number")
    sql = "SELECT 1 AS n, MAP {'a': 1} AS m"
    result = materialize(Definitions(assets=[asset(lambda con: sql, name="odd")]), db=db_path)
    assert result.ok
    assert result.assets["odd"].status == EventStatus.MATERIALIZED
    with duckdb.connect(str(db_path)) as con:
        assert con.execute("SELECT n FROM odd").fetchall() == [(1,)]
    with store.open_store(db_path) as con:
        [profile] = store.asset_profiles(con, "odd")
        assert store.catalog(con)["odd"].row_count == 1
    assert profile.columns == []
    assert profile.error  # recorded as the profile's, not the build's


def test_cheap_builds_sharing_a_transaction_are_profiled(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "60")  # both are batched from the 2nd run on
    defs = Definitions(
        assets=[
            asset(lambda con: "SELECT 1 AS one", name="first"),
            asset(lambda con: "SELECT 2 AS two", name="second"),
        ]
    )
    materialize(defs, db=db_path)
    run = materialize(defs, db=db_path)
    with store.open_store(db_path) as con:
        for name in ("first", "second"):
            latest = store.asset_profiles(con, name)[0]
            assert (latest.run_id, latest.row_count, latest.error) == (run.run_id, 1, None)


def test_recent_profiles_newest_first(db_path: Path) -> None:
    defs = Definitions(assets=[asset(lambda con: SMALL, name="fruit")])
    runs = [materialize(defs, db=db_path).run_id for _ in range(3)]
    with store.open_store(db_path) as con:
        assert [p.run_id for p in store.asset_profiles(con, "fruit")] == runs[::-1]
        assert [p.run_id for p in store.asset_profiles(con, "fruit", limit=2)] == runs[:0:-1]


def test_a_version_2_history_is_read_as_it_is_then_migrated(db_path: Path) -> None:
    defs = Definitions(assets=[asset(lambda con: SMALL, name="fruit")])
    first = materialize(defs, db=db_path)
    history = store.history_path(db_path)
    with sqlite3.connect(history) as con:  # what version 2 wrote: no profile tables
        con.execute("DROP TABLE profile_columns")
        con.execute("DROP TABLE profiles")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()

    with store.open_store(db_path) as con:  # readers read it as it is and change nothing
        assert store.asset_profiles(con, "fruit") == []
        assert store.list_runs(con)[0].run_id == first.run_id
    assert _version_and_tables(history) == ("2", set())

    second = materialize(defs, db=db_path)  # a run migrates it
    assert second.run.status == RunStatus.SUCCESS
    assert _version_and_tables(history) == (
        str(store.SCHEMA_VERSION),
        {"profiles", "profile_columns"},
    )
    with store.open_store(db_path) as con:
        assert [p.run_id for p in store.asset_profiles(con, "fruit")] == [second.run_id]
        assert [r.run_id for r in store.list_runs(con)] == [second.run_id, first.run_id]


def _version_and_tables(history: Path) -> tuple[str, set[str]]:
    con = sqlite3.connect(history)
    try:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        tables = con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'profile%'"
        ).fetchall()
    finally:
        con.close()
    return version[0], {name for (name,) in tables}


def _parted(con: duckdb.DuckDBPyConnection, context: AssetContext) -> str:
    rows = {"a": 3, "b": 2}[context.partition_key or ""]
    return f"SELECT '{context.partition_key}' AS k, range AS n FROM range({rows})"


def _whole(con: duckdb.DuckDBPyConnection) -> CheckResult:
    return CheckResult(passed=True)


def test_a_partitioned_table_is_profiled_whole_after_its_partitions(db_path: Path) -> None:
    parted = asset(
        _parted, name="parted", partitions=StaticPartitions(["a", "b"]), partition_column="k"
    )
    whole = asset_check(_whole, asset=parted, per_partition=False)
    defs = Definitions(assets=[parted], checks=[whole])
    first = materialize(defs, db=db_path)
    assert first.ok and [c.check_name for c in first.checks] == ["_whole"]
    again = materialize(defs, db=db_path, partitions=PartitionRequest(["b"]))
    assert again.ok
    with store.open_store(db_path) as con:
        profiles_seen = store.asset_profiles(con, "parted")
    assert [p.run_id for p in profiles_seen] == [again.run_id, first.run_id]
    latest = profiles_seen[0]
    assert latest.row_count == 5  # the whole table, not the one partition rebuilt
    figures = {column.name: column.figures for column in latest.columns}
    assert figures["k"]["top"] == [["a", 3], ["b", 2]]
    assert (figures["n"]["min"], figures["n"]["max"]) == (0, 2)


def test_a_cancel_during_the_profile_keeps_the_build(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = CancelToken()

    def interrupted(*args: Any, **kwargs: Any) -> None:
        token.cancel("a test")  # as Ctrl-C while the profile query runs
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(profiles, "profile_table", interrupted)
    defs = Definitions(assets=[asset(lambda con: SMALL, name="fruit")])
    result = materialize(defs, db=db_path, cancel=token)
    assert result.run.status == RunStatus.CANCELLED
    assert result.assets["fruit"].status == EventStatus.MATERIALIZED
    with store.open_store(db_path) as con:
        [profile] = store.asset_profiles(con, "fruit")
        assert store.catalog(con)["fruit"].row_count == 4
    assert profile.error is not None and "Interrupted" in profile.error


def test_a_large_tables_quartiles_come_from_a_sample_and_say_so(db_path, monkeypatch):
    """Quartiles are read from a sample above a size; the other figures from every row."""
    monkeypatch.setattr(profiles, "QUARTILES_FROM_EVERY_ROW_UP_TO", 1_000)
    monkeypatch.setattr(profiles, "QUARTILE_SAMPLE_ROWS", 2_000)
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS x FROM range(20000)")
        profile = profiles.profile_table(con, "t", 1, [["x", "BIGINT"]], 20_000)
    (column,) = profile.columns
    figures = column.figures
    assert figures["quartiles_sampled"] is True
    assert (figures["min"], figures["max"], figures["nulls"]) == (0, 19_999, 0)  # every row
    assert 3_000 < figures["q25"] < 7_000 and 8_000 < figures["q50"] < 12_000


def test_the_standard_deviation_equals_stddev_samp_even_far_from_zero(db_path: Path) -> None:
    """It is computed from sums around the middle of the range, not by stddev_samp: values
    near 1e12 that differ by units would lose their spread to rounding around zero."""
    sql = """
    SELECT 1e12::DOUBLE + (range * 7919) % 1000 / 10 AS far, (range % 97)::INTEGER AS near,
           ((range * 31) % 10000 / 100)::DECIMAL(18, 2) AS money, 'inf'::DOUBLE AS endless
    FROM range(50000)
    """
    with duckdb.connect(str(db_path)) as con:
        con.execute(f"CREATE TABLE t AS {sql}")
        expected = con.execute(
            "SELECT stddev_samp(far), stddev_samp(near), stddev_samp(money) FROM t"
        ).fetchone()
        columns = [["far", "DOUBLE"], ["near", "INTEGER"], ["money", "DECIMAL(18,2)"]]
        profile = profiles.profile_table(con, "t", 1, [*columns, ["endless", "DOUBLE"]], 50_000)
    stddevs = [column.figures["stddev"] for column in profile.columns]
    assert stddevs[:3] == pytest.approx(list(expected or ()), rel=1e-6)
    assert stddevs[3] is None  # infinite values have no spread to give, and fail nothing


def test_decimals_are_binned_in_whole_units_of_their_last_digit(db_path: Path) -> None:
    """0.00 .. 0.23 is 24 cents: 12 bins of 2 cents each, every edge a whole cent."""
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "CREATE TABLE t AS SELECT (range % 24 / 100)::DECIMAL(9, 2) AS c FROM range(240)"
        )
        profile = profiles.profile_table(con, "t", 1, [["c", "DECIMAL(9,2)"]], 240)
    bins = profile.columns[0].figures["bins"]
    assert bins["edges"] == [round(0.02 * i, 2) for i in range(13)]
    assert bins["counts"] == [20] * 12


def test_a_bigint_column_is_binned_as_numbers_not_as_microseconds(db_path: Path) -> None:
    """Widths of whole time units (days, hours, ...) are for timestamps only."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE TABLE t AS SELECT range * 1000 AS n FROM range(240)")
        profile = profiles.profile_table(con, "t", 1, [["n", "BIGINT"]], 240)
    bins = profile.columns[0].figures["bins"]
    assert bins["edges"][:3] == [0, 19_917, 39_834]  # ceil(239,001 / 12) values a bin
    assert sum(bins["counts"]) == 240 and len(bins["counts"]) == 12


def test_bins_counted_together_or_column_by_column_are_the_same(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small tables count every GROUP BY binning in one statement, bigger ones one per column:
    the figures must not depend on which (whole numbers, dates, decimals, values counted one
    by one, a NULL, a fractional column between them)."""
    sql = """
    SELECT range % 7 AS few, (range * 37) % 50000 AS many,
           DATE '2024-01-01' + (range % 400)::INTEGER AS day,
           (range % 2400 / 100)::DECIMAL(9, 2) AS cents, range / 3.0 AS ratio,
           CASE WHEN range % 11 = 0 THEN NULL ELSE range % 3 END AS gappy
    FROM range(3000)
    """
    columns = [
        ["few", "BIGINT"],
        ["many", "BIGINT"],
        ["day", "DATE"],
        ["cents", "DECIMAL(9,2)"],
        ["ratio", "DOUBLE"],
        ["gappy", "BIGINT"],
    ]
    with duckdb.connect(str(db_path)) as con:
        con.execute(f"CREATE TABLE t AS {sql}")
        together = profiles.profile_table(con, "t", 1, columns, 3000)
        monkeypatch.setattr(profiles, "BINS_TOGETHER_UP_TO", 0)
        apart = profiles.profile_table(con, "t", 1, columns, 3000)
    assert [c.figures for c in together.columns] == [c.figures for c in apart.columns]
    assert sum(together.columns[1].figures["bins"]["counts"]) == 3000
    assert together.columns[5].figures["top"] == [[0, 909], [1, 909], [2, 909]]  # 273 NULLs


def test_checks_and_downstream_builds_do_not_wait_for_a_profile(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile of `fruit` only ends once its check and `basket` have run: had either
    waited for the profile, the run would not end (the wait gives up after 30 s and fails)."""
    import threading

    others_ran = threading.Event()
    real_profile = profiles.profile_table

    def slow_profile(*args: Any, **kwargs: Any) -> Any:
        if args[1] == "fruit" and not others_ran.wait(30):
            raise RuntimeError("the check and the downstream build waited for the profile")
        return real_profile(*args, **kwargs)

    monkeypatch.setattr(profiles, "profile_table", slow_profile)
    fruit = asset(lambda con: SMALL, name="fruit")
    seen: list[str] = []

    def fruit_is_there(con: Any) -> CheckResult:
        seen.append("check")
        return CheckResult(passed=True)

    def basket(con: Any) -> str:
        seen.append("basket")
        if len(seen) == 2:
            others_ran.set()
        return "SELECT count(*) AS n FROM fruit"

    check = asset_check(fruit_is_there, asset=fruit, name="fruit_is_there")
    defs = Definitions(assets=[fruit, asset(basket, name="basket", deps=[fruit])], checks=[check])
    result = materialize(defs, db=db_path, max_workers=2)
    assert result.ok, result.run.message
    with store.open_store(db_path) as con:
        [profile] = store.asset_profiles(con, "fruit")  # recorded before the run ended
    assert profile.error is None and sorted(seen) == ["basket", "check"]


def test_a_profile_task_that_crashes_never_unrecords_the_build(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug past the profile's own error handling: the build and its checks still stand."""
    from pipeline import engine

    def broken(self: Any, asset: Any, entry: Any) -> None:
        raise RuntimeError("a bug in the profile task")

    monkeypatch.setattr(engine._Runner, "_profile", broken)
    fruit = asset(lambda con: SMALL, name="fruit")
    check = asset_check(lambda con: CheckResult(passed=True), asset=fruit, name="fine")
    result = materialize(Definitions(assets=[fruit], checks=[check]), db=db_path)
    assert result.ok and result.assets["fruit"].status == EventStatus.MATERIALIZED
    with store.open_store(db_path) as con:
        assert store.asset_profiles(con, "fruit") == []
        events = {e.asset: e.status for e in store.run_events(con, result.run_id)}
    assert events == {"fruit": "materialized"}


def test_few_whole_values_give_an_exact_mean_spread_and_quartiles(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the value counts, not a sample: a table above the sampling size still says exact."""
    monkeypatch.setattr(profiles, "QUARTILES_FROM_EVERY_ROW_UP_TO", 1_000)
    sql = """
    SELECT (range * range) % 97 AS skewed, (range % 7)::DECIMAL(5, 2) AS cents FROM range(5000)
    """
    with duckdb.connect(str(db_path)) as con:
        con.execute(f"CREATE TABLE t AS {sql}")
        mean, stddev = con.execute("SELECT avg(skewed), stddev_samp(skewed) FROM t").fetchone()
        ordered = sorted(v for (v,) in con.execute("SELECT skewed FROM t").fetchall())
        columns = [["skewed", "BIGINT"], ["cents", "DECIMAL(5,2)"]]
        profile = profiles.profile_table(con, "t", 1, columns, 5000)
    figures = profile.columns[0].figures
    assert figures["mean"] == pytest.approx(mean) and figures["stddev"] == pytest.approx(stddev)
    nearest_rank = [ordered[math.ceil(q * len(ordered)) - 1] for q in (0.25, 0.5, 0.75)]
    assert [figures["q25"], figures["q50"], figures["q75"]] == nearest_rank
    assert "quartiles_sampled" not in figures and figures["distinct_exact"] is True
    assert profile.columns[1].figures["q50"] == 3.0  # decimals by value too, as numbers
