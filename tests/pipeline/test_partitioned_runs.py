"""Partitioned assets in runs: each partition atomic and recorded, checks on its own rows,
dependencies partition by partition, backfills resumed, and every mistake named."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline import (
    BackfillPolicy,
    CheckResult,
    Definitions,
    MonthlyPartitions,
    PartitionRequest,
    SelectionError,
    StaticPartitions,
    asset,
    asset_check,
    checks,
    materialize,
    store,
)
from pipeline.partition_status import partition_states
from pipeline.states import EventStatus

MONTHS = MonthlyPartitions(start="2024-01-01", end="2024-05-01")
KEYS = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]


def _defs(broken: set[str] | None = None, strays: bool = False, version: int = 1) -> Definitions:
    """sales -> monthly (by month) -> monthly_share (by month) and -> summary (whole)."""

    @asset
    def sales(con):
        return (
            "SELECT DATE '2024-01-01' + INTERVAL (range % 121) DAY AS day, range AS amount"
            " FROM range(1210)"
        )

    @asset(deps=[sales], partitions=MONTHS, partition_column="month")
    def monthly(con, context):
        if context.partition_key in (broken or set()):
            raise ValueError(f"cannot build {context.partition_key}")
        window = context.partition_window
        where = (
            "" if strays else f"WHERE day >= DATE '{window.start}' AND day < DATE '{window.end}'"
        )
        return (
            f"SELECT date_trunc('month', day)::DATE AS month, sum(amount) AS total,"
            f" count(*) AS n, {version} AS version FROM sales {where} GROUP BY 1"
        )

    @asset(deps=[monthly], partitions=MONTHS, partition_column="month")
    def monthly_share(con, context):
        key = context.partition_key
        return f"SELECT month, total / 1000 AS share FROM monthly WHERE month = '{key}'"

    @asset(deps=[monthly])
    def summary(con):
        return "SELECT count(*) AS months, max(version) AS version FROM monthly"

    @asset_check(asset=monthly)
    def one_month_seen(con, context):
        (seen,) = con.execute("SELECT count(*) FROM monthly").fetchall()[0]
        return CheckResult(
            passed=seen == 1, observed_value=seen, metadata={"key": context.partition_key}
        )

    @asset_check(asset=monthly, per_partition=False)
    def all_months_seen(con):
        (seen,) = con.execute("SELECT count(*) FROM monthly").fetchall()[0]
        return CheckResult(passed=seen >= 1, observed_value=seen)

    return Definitions(
        assets=[sales, monthly, monthly_share, summary],
        checks=[one_month_seen, all_months_seen, checks.not_null("monthly", "total")],
    )


def _rows(db: Path, table: str = "monthly") -> dict[str, tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            f"SELECT month::VARCHAR, total, version FROM {table} ORDER BY 1"
        ).fetchall()
    return {month: (total, version) for month, total, version in rows}


def _states(db: Path, defs: Definitions, asset_name: str = "monthly") -> dict[str, str]:
    with store.open_store(db) as con:
        return {s.key: s.status for s in partition_states(defs, con, asset_name)}


def test_every_partition_is_built_recorded_and_checked_on_its_own_rows(db_path: Path) -> None:
    defs = _defs()

    result = materialize(defs, db=db_path)

    assert result.ok, result.assets
    assert set(_rows(db_path)) == set(KEYS)
    assert _states(db_path, defs) == dict.fromkeys(KEYS, "materialized")
    record = next(c for c in result.checks if c.check_name == "one_month_seen")
    assert record.outcome == "passed"  # each partition's check saw one month, not four
    assert record.metadata["partitions"] == dict.fromkeys(KEYS, "passed")
    whole = next(c for c in result.checks if c.check_name == "all_months_seen")
    assert whole.observed_value == 4  # the whole-table check saw every month
    with store.open_store(db_path) as con:
        assert store.catalog(con)["monthly"].row_count == 4
        parts = store.partition_catalog(con, "monthly")
    assert {k: e.row_count for k, e in parts.items()} == dict.fromkeys(KEYS, 1)


def test_one_partition_rebuilt_leaves_the_others_as_they_were(db_path: Path) -> None:
    assert materialize(_defs(version=1), db=db_path).ok

    result = materialize(
        _defs(version=2), db=db_path, select="monthly", partitions=PartitionRequest(["2024-02-01"])
    )

    assert result.ok
    versions = {month: version for month, (_, version) in _rows(db_path).items()}
    assert versions == {"2024-01-01": 1, "2024-02-01": 2, "2024-03-01": 1, "2024-04-01": 1}
    assert _states(db_path, _defs(version=2))["2024-02-01"] == "materialized"


def test_the_recorded_preview_is_the_tables_first_rows_after_one_partition(
    db_path: Path,
) -> None:
    """Not the rebuilt partition's row alone: the run's record and, after the next run has
    re-read the warehouse's ledger, the catalog show the table partition by partition."""
    assert materialize(_defs(version=1), db=db_path).ok
    one = PartitionRequest(["2024-03-01"])
    result = materialize(_defs(version=2), db=db_path, select="monthly", partitions=one)
    event = result.assets["monthly"]
    expected = [("2024-01-01", 1), ("2024-02-01", 1), ("2024-03-01", 2), ("2024-04-01", 1)]
    assert [(row["month"], row["version"]) for row in event.preview] == expected
    assert materialize(_defs(version=2), db=db_path, select="sales").ok  # syncs the catalog
    with store.open_store(db_path) as con:
        entry = store.catalog(con)["monthly"]
    assert [(row["month"], row["version"]) for row in entry.preview] == expected
    assert entry.row_count == 4


def test_partitions_built_by_older_code_stay_stale_when_one_is_rebuilt(db_path: Path) -> None:
    from pipeline.status import asset_statuses

    assert materialize(_defs(version=1), db=db_path).ok
    changed = _defs(version=2)
    assert _states(db_path, changed) == dict.fromkeys(KEYS, "stale")
    one = PartitionRequest(["2024-02-01"])
    assert materialize(changed, db=db_path, select="monthly", partitions=one).ok
    assert _states(db_path, changed) == {
        **dict.fromkeys(KEYS, "stale"),
        "2024-02-01": "materialized",
    }
    with store.open_store(db_path) as con:
        state = asset_statuses(changed, con)["monthly"]
    # It read fresh: its recorded build is the newest partition's, which had the new code.
    assert (state.status, state.stale_reason) == (
        "stale",
        "its code changed since 3 of its 4 partitions were built (2024-01-01, ...)",
    )
    assert state.partitions is not None and state.partitions.stale == 3


def test_a_failed_partition_keeps_its_old_rows_and_fails_only_itself(db_path: Path) -> None:
    assert materialize(_defs(version=1), db=db_path).ok
    before = _rows(db_path)

    result = materialize(_defs({"2024-03-01"}, version=2), db=db_path)

    assert not result.ok
    assert result.assets["monthly"].status == EventStatus.FAILED
    assert "partition 2024-03-01 failed" in (result.assets["monthly"].error or "")
    rows = _rows(db_path)
    assert rows["2024-03-01"] == before["2024-03-01"]  # the previous build's rows, untouched
    assert {rows[k][1] for k in KEYS if k != "2024-03-01"} == {2}
    assert _states(db_path, _defs({"2024-03-01"}, version=2)) == {
        "2024-01-01": "materialized", "2024-02-01": "materialized",
        "2024-03-01": "failed", "2024-04-01": "materialized",
    }  # fmt: skip
    with store.open_store(db_path) as con:
        shares = {e.partition_key: e.status for e in store.run_partition_events(con, result.run_id)
                  if e.asset == "monthly_share"}  # fmt: skip
    assert shares["2024-03-01"] == EventStatus.SKIPPED  # only the same month downstream
    assert shares["2024-02-01"] == EventStatus.MATERIALIZED
    assert result.assets["summary"].status == EventStatus.SKIPPED  # it reads every month


def test_rows_outside_the_partition_fail_it_and_change_nothing(db_path: Path) -> None:
    assert materialize(_defs(), db=db_path).ok
    before = _rows(db_path)

    result = materialize(
        _defs(strays=True),
        db=db_path,
        select="monthly",
        partitions=PartitionRequest(["2024-02-01"]),
    )

    error = result.assets["monthly"].error or ""
    assert "rows outside partition 2024-02-01" in error and "'2024-01-01'" in error
    assert _rows(db_path) == before


def test_a_first_partition_with_strays_creates_no_table(db_path: Path) -> None:
    result = materialize(
        _defs(strays=True),
        db=db_path,
        select="+monthly",
        partitions=PartitionRequest(["2024-02-01"]),
    )

    assert "rows outside partition 2024-02-01" in (result.assets["monthly"].error or "")
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
    assert "monthly" not in tables


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("SELECT 1 AS total", "without its partition column 'month' (it returned total)"),
        ("SELECT 'March' AS month, 1 AS total", "cannot be compared with partition 2024-03-01"),
    ],
)
def test_a_partition_missing_or_mistyping_its_column_is_named(
    db_path: Path, returned: str, message: str
) -> None:
    @asset(partitions=MONTHS, partition_column="month")
    def monthly(con, context):
        return returned

    result = materialize(
        Definitions(assets=[monthly]), db=db_path, partitions=PartitionRequest(["2024-03-01"])
    )

    assert message in (result.assets["monthly"].error or "")


def test_static_partitions_and_a_column_change_that_does_not_fit(db_path: Path) -> None:
    categories = StaticPartitions(["Books", "Toys"])
    shape = {"extra": ""}

    @asset(partitions=categories, partition_column="category")
    def by_category(con, context):
        return f"SELECT '{context.partition_key}' AS category, 3 AS units{shape['extra']}"

    defs = Definitions(assets=[by_category])
    assert materialize(defs, db=db_path).ok
    shape["extra"] = ", 'new' AS surprise"

    result = materialize(defs, db=db_path, partitions=PartitionRequest(["Toys"]))

    assert "do not fit its table" in (result.assets["by_category"].error or "")
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT category FROM by_category ORDER BY 1").fetchall() == [
            ("Books",),
            ("Toys",),
        ]


def _built_in(db: Path, run_id: int) -> set[str]:
    with store.open_store(db) as con:
        return {e.partition_key for e in store.run_partition_events(con, run_id)}


def test_missing_and_failed_pick_only_those_partitions(db_path: Path) -> None:
    def run(defs: Definitions, request: PartitionRequest) -> int:
        return materialize(defs, db=db_path, select="monthly", partitions=request).run_id

    assert materialize(_defs(), db=db_path, select="sales").ok
    run(_defs(), PartitionRequest(["2024-01-01"]))
    run(_defs({"2024-02-01"}), PartitionRequest(["2024-02-01"]))

    assert _built_in(db_path, run(_defs(), PartitionRequest(failed=True))) == {"2024-02-01"}

    run(_defs({"2024-03-01"}), PartitionRequest(["2024-03-01"]))
    # March failed and holds no rows: missing, as is April, never built.
    missing = run(_defs(), PartitionRequest(missing=True))
    assert _built_in(db_path, missing) == {"2024-03-01", "2024-04-01"}
    assert _states(db_path, _defs()) == dict.fromkeys(KEYS, "materialized")


def test_a_backfill_resumed_builds_only_what_it_has_not(db_path: Path) -> None:
    assert materialize(_defs(), db=db_path, select="sales").ok
    months = PartitionRequest(first="2024-01-01", last="2024-04-01")
    first = materialize(_defs({"2024-03-01"}), db=db_path, select="monthly", partitions=months)
    assert first.backfill is not None and not first.ok

    resumed = materialize(
        _defs(), db=db_path, partitions=PartitionRequest(backfill=first.backfill.backfill_id)
    )

    assert resumed.ok
    with store.open_store(db_path) as con:
        built = {e.partition_key for e in store.run_partition_events(con, resumed.run_id)}
        backfill = store.get_backfill(con, first.backfill.backfill_id)
    assert built == {"2024-03-01"}
    assert backfill is not None and backfill.status == "success"
    assert backfill.run_ids == [first.run_id, resumed.run_id]


@pytest.mark.parametrize(
    ("select", "request_", "message"),
    [
        ("monthly", PartitionRequest(["2024-02-15"]), r"Nearest: 2024-02-01"),
        ("sales", PartitionRequest(["2024-02-01"]), r"no selected asset is partitioned"),
        ("monthly", PartitionRequest(first="2024-04-01", last="2024-01-01"), r"reversed"),
        ("monthly", PartitionRequest(["2023-12-01"]), r"before the first partition"),
        (None, PartitionRequest(backfill=99), r"no backfill 99"),
    ],
)
def test_bad_partition_requests_are_refused_before_anything_is_built(
    db_path: Path, select: str | None, request_: PartitionRequest, message: str
) -> None:
    with pytest.raises(SelectionError, match=message):
        materialize(_defs(), db=db_path, select=select, partitions=request_)
    with duckdb.connect(str(db_path)) as con:
        assert not con.execute(
            "SELECT * FROM duckdb_tables() WHERE table_name = 'monthly'"
        ).fetchall()


def test_a_single_run_backfill_policy_builds_a_range_in_one_call(db_path: Path) -> None:
    calls: list[tuple[str | None, tuple[str, ...], str]] = []

    @asset(partitions=MONTHS, partition_column="month", backfill_policy=BackfillPolicy.single_run())
    def monthly(con, context):
        window = context.partition_window
        calls.append(
            (context.partition_key, context.partition_keys, f"{window.start}..{window.end}")
        )
        return (
            "SELECT date_trunc('month', d)::DATE AS month, count(*) AS days FROM ("
            f"SELECT unnest(generate_series(DATE '{window.start}', DATE '{window.end}'"
            " - INTERVAL 1 DAY, INTERVAL 1 DAY)) AS d) GROUP BY 1"
        )

    defs = Definitions(assets=[monthly], checks=[checks.row_count("monthly", min=1)])
    everything = materialize(defs, db=db_path)
    assert calls == [(None, tuple(KEYS), "2024-01-01..2024-05-01")]
    with store.open_store(db_path) as con:
        rows = {k: e.row_count for k, e in store.partition_catalog(con, "monthly").items()}
        events = store.run_partition_events(con, everything.run_id)
    assert rows == dict.fromkeys(KEYS, 1) and {e.status for e in events} == {"materialized"}
    record = next(c for c in everything.checks if c.check_name == "row_count")
    assert record.metadata["partitions"] == dict.fromkeys(KEYS, "passed")  # still one by one

    calls.clear()
    materialize(defs, db=db_path, partitions=PartitionRequest(["2024-01-01", "2024-03-01"]))
    assert [c[1] for c in calls] == [("2024-01-01",), ("2024-03-01",)]  # not adjacent: two calls
    assert calls[0][0] == "2024-01-01"  # one partition: its key, as without a policy


def test_a_multi_run_policy_builds_at_most_so_many_at_once(db_path: Path) -> None:
    seen: list[tuple[str, ...]] = []

    @asset(partitions=MONTHS, partition_column="month", backfill_policy=BackfillPolicy.multi_run(3))
    def monthly(con, context):
        seen.append(context.partition_keys)
        window = context.partition_window
        return f"SELECT DATE '{window.start}' AS month"

    assert materialize(Definitions(assets=[monthly]), db=db_path).ok
    assert seen == [tuple(KEYS[:3]), tuple(KEYS[3:])]


def test_partitions_are_stale_when_an_asset_two_levels_up_was_rebuilt(db_path: Path) -> None:
    """The strip and its counts say what the asset's status says: stale, and why."""
    from pipeline.status import asset_statuses

    defs = _defs()
    assert materialize(defs, db=db_path).ok
    assert materialize(defs, db=db_path, select="sales").ok

    with store.open_store(db_path) as con:
        states = partition_states(defs, con, "monthly_share")
        state = asset_statuses(defs, con)["monthly_share"]
    assert {s.key: (s.status, s.stale_reason) for s in states} == dict.fromkeys(
        KEYS, ("stale", "upstream 'sales' was built after it")
    )
    assert state.stale_reason == "upstream 'sales' was built after it"
    assert state.partitions is not None and state.partitions.stale == 4


def test_an_asset_is_stale_while_partitions_older_than_its_upstream_remain(
    db_path: Path,
) -> None:
    from pipeline.status import asset_statuses

    defs = _defs()
    assert materialize(defs, db=db_path).ok
    assert materialize(defs, db=db_path, select="monthly").ok
    one = PartitionRequest(["2024-02-01"])
    assert materialize(defs, db=db_path, select="monthly_share", partitions=one).ok

    with store.open_store(db_path) as con:
        state = asset_statuses(defs, con)["monthly_share"]
    # It read fresh: its recorded build is the newest partition's, built after 'monthly'.
    assert (state.status, state.stale_reason) == (
        "stale",
        "upstream 'monthly' was built after it (3 of its 4 partitions, 2024-01-01, ...)",
    )
    assert state.partitions is not None and state.partitions.stale == 3
