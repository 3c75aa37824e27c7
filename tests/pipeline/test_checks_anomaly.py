"""Anomaly checks (issue 13): the pure detector on generated histories with known anomalies,
the factories' definition errors, and the checks end to end through materialize."""

import math
import random
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipeline import (
    Definitions,
    PartitionRequest,
    StaticPartitions,
    asset,
    checks,
    materialize,
    run_checks,
)
from pipeline.checks_anomaly import BAND_OF, band_of, detect, figure
from pipeline.definitions import AssetContext
from pipeline.errors import DefinitionError, PipelineError


def _noisy(n, level=1000.0, noise=0.05, seed=1):
    rng = random.Random(seed)
    return [round(level * (1 + rng.gauss(0, noise))) for _ in range(n)]


# --- the detector: values -> verdict with band ---------------------------------------------


def test_a_drop_to_zero_is_anomalous_even_when_the_noisy_band_reaches_zero():
    history = [1000, 150, 1900, 300, 1700, 200, 1800, 400, 1600, 250]
    verdict = detect(0, history)
    assert verdict.low is not None and verdict.low < 0  # the band alone would accept 0
    assert verdict.anomalous
    assert verdict.reason == "dropped to zero from a history that never had zero"


def test_a_zero_is_judged_by_the_band_when_the_history_had_zeros():
    history = [1000, 0, 1900, 300, 1700, 0, 1800, 400, 1600, 250]
    verdict = detect(0, history)
    assert not verdict.anomalous
    assert verdict.reason == "within the expected band"


def test_a_spike_leaves_the_band_and_the_verdict_explains_it():
    history = _noisy(14)
    verdict = detect(3000, history)
    assert verdict.anomalous and verdict.reason == "above the expected band"
    assert verdict.training_count == 14 and verdict.enough_history
    assert verdict.low is not None and verdict.high is not None
    assert verdict.low < min(history) <= max(history) < verdict.high < 3000
    assert verdict.zscore is not None and verdict.zscore > 3
    assert verdict.band == f"between {verdict.low:.6g} and {verdict.high:.6g}"
    metadata = verdict.metadata()
    assert set(metadata) == {
        "reason", "training_count", "expected_low", "expected_high", "mean", "stddev",
        "median", "mad", "zscore",
    }  # fmt: skip
    assert metadata["mean"] == pytest.approx(sum(history) / 14)


def test_an_ordinary_value_stays_inside_the_band():
    history = _noisy(15, seed=7)
    verdict = detect(history[-1], history[:-1])
    assert not verdict.anomalous and verdict.reason == "within the expected band"


def test_a_slow_drift_is_not_an_anomaly_but_a_jump_on_top_of_it_is():
    series = [1000 * 1.01**t for t in range(15)]
    assert not detect(series[-1], series[:-1]).anomalous  # the trend continues
    assert detect(series[-1] * 1.5, series[:-1]).anomalous
    assert detect(series[-1] * 0.6, series[:-1]).anomalous


def test_a_weekly_pattern_hides_a_weekday_drop_unless_seasonality_compares_same_weekdays():
    rng = random.Random(3)
    week = [1000, 1000, 1000, 1000, 1000, 300, 300]  # weekends are quiet
    series = [week[t % 7] * (1 + rng.gauss(0, 0.03)) for t in range(7 * 8)]
    monday = 7 * 8  # the next value is a Monday (t % 7 == 0)
    assert monday % 7 == 0
    dropped = 450.0  # a Monday at nearly a weekend's level
    assert not detect(dropped, series[-14:]).anomalous  # hidden by the weekends
    seasonal = detect(dropped, series, seasonality=7)
    assert seasonal.anomalous and seasonal.training_count == 8
    assert not detect(1010.0, series, seasonality=7).anomalous  # an ordinary Monday
    saturday = series[:-2]  # the next value after these is a Saturday
    assert not detect(305.0, saturday, seasonality=7).anomalous


def test_a_flat_history_does_not_flag_a_tiny_change():
    flat = [1000] * 14
    tiny = detect(1003, flat)
    assert not tiny.anomalous
    assert (tiny.low, tiny.high) == (950, 1050)  # min_band: 5 % of the median either side
    assert tiny.stddev == 0 and tiny.mad == 0 and tiny.zscore is None
    assert detect(1000, flat).zscore == 0
    assert detect(1100, flat).anomalous
    assert detect(900, flat).anomalous


def test_too_little_history_passes_and_says_so():
    verdict = detect(0, [1000, 1010, 990])
    assert not verdict.anomalous and not verdict.enough_history
    assert verdict.reason == "not enough history (3 of 5 builds)"
    assert verdict.metadata() == {"reason": verdict.reason, "training_count": 3}
    assert verdict.band == "a band, once there is enough history"
    assert detect(5, [], min_history=2, unit="days").reason == "not enough history (0 of 2 days)"


def test_direction_limits_the_band_to_one_side():
    history = _noisy(14)
    spike = detect(0, history, direction="spike")
    assert not spike.anomalous and spike.low is None
    assert spike.band.startswith("at most ")
    drop = detect(5000, history, direction="drop")
    assert not drop.anomalous and drop.high is None
    assert drop.band.startswith("at least ")


def test_sensitivity_widens_the_band():
    history = _noisy(14)
    narrow, wide = detect(1000, history, sensitivity=2), detect(1000, history, sensitivity=4)
    assert wide.low is not None and narrow.low is not None and wide.low < narrow.low
    assert math.isclose(
        (wide.high or 0) - (wide.low or 0), 2 * ((narrow.high or 0) - (narrow.low or 0))
    )


# --- definitions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: checks.volume_anomaly("t", sensitivity=0), r"sensitivity=0 must be a number > 0"),
        (
            lambda: checks.volume_anomaly("t", training_builds=4, min_history=5),
            r"min_history=5 is above training_builds=4",
        ),
        (lambda: checks.volume_anomaly("t", direction="up"), r"direction='up' must be one of"),
        (lambda: checks.freshness_anomaly("t", min_band=-1), r"min_band=-1 must be a share"),
        (lambda: checks.volume_anomaly("t", seasonality=1), r"seasonality=1 must be None"),
        (lambda: checks.metric_anomaly("t", "amount"), r"is not a single aggregate"),
        (lambda: checks.metric_anomaly("t", ""), r"must be an aggregate SQL expression"),
    ],
)
def test_bad_settings_are_refused_when_the_check_is_defined(make, message):
    with pytest.raises(DefinitionError, match=message):
        make()


def test_defaults_names_and_severity():
    volume = checks.volume_anomaly("t")
    assert (volume.name, volume.severity, volume.per_partition) == ("volume_anomaly", "warn", False)
    assert checks.freshness_anomaly("t").name == "freshness_anomaly"
    assert checks.metric_anomaly("t", "avg(amount)").name == "metric_anomaly_avg_amount"


def test_a_history_check_outside_a_run_says_how_to_run_it():
    check = checks.volume_anomaly("t")
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(PipelineError, match=r"run it with materialize\(\) or run_checks\(\)"):
        check.run(con, AssetContext("t", run_id=1))


# --- end to end ----------------------------------------------------------------------------


def _builds(db, counts, *more_checks, sql="SELECT range AS id FROM range({n})"):
    """Materialize table `t` once per count; the check results of each run, by check name."""
    state = {"n": counts[0]}

    @asset(name="t")
    def t(con):
        return sql.format(n=state["n"])

    defs = Definitions([t], [checks.volume_anomaly("t"), *more_checks])
    runs = []
    for n in counts:
        state["n"] = n
        result = materialize(defs, db=db)
        runs.append({record.check_name: record for record in result.checks})
    return defs, runs


def test_volume_anomaly_flags_the_last_build_of_a_steady_table(db_path):
    defs, runs = _builds(db_path, [100, 102, 98, 101, 99, 100, 103, 0])
    first = runs[0]["volume_anomaly"]
    assert first.outcome == "passed"
    assert first.metadata["reason"] == "not enough history (0 of 5 builds)"
    assert runs[4]["volume_anomaly"].metadata["reason"] == "not enough history (4 of 5 builds)"
    assert [r["volume_anomaly"].outcome for r in runs[5:]] == ["passed", "passed", "warned"]
    last = runs[-1]["volume_anomaly"]
    assert last.observed_value == 0
    assert last.metadata["reason"] == "dropped to zero from a history that never had zero"
    assert last.metadata["training_count"] == 7
    assert last.metadata["row_count"] == 0
    assert last.threshold.startswith("row count between ")
    # Run again without a rebuild: the same training window, the same verdict.
    again = run_checks(defs, db=db_path).checks[0]
    assert (again.outcome, again.threshold) == ("warned", last.threshold)
    assert again.metadata["training_runs"] == last.metadata["training_runs"]


def test_volume_anomaly_flags_a_spike_and_not_an_ordinary_build(db_path):
    _, runs = _builds(db_path, [500, 510, 490, 505, 495, 500, 2000])
    assert runs[-2]["volume_anomaly"].outcome == "passed"
    spike = runs[-1]["volume_anomaly"]
    assert spike.outcome == "warned" and spike.metadata["reason"] == "above the expected band"
    assert spike.metadata["zscore"] > 3


def test_metric_anomaly_learns_from_its_own_results_at_each_build(db_path):
    metric = checks.metric_anomaly("t", "avg(id)", severity="error")
    _, runs = _builds(
        db_path,
        [100, 102, 98, 101, 99, 100, 400],
        metric,
    )
    assert runs[5]["metric_anomaly_avg_id"].outcome == "passed"
    last = runs[-1]["metric_anomaly_avg_id"]
    assert last.outcome == "failed" and last.observed_value == pytest.approx(199.5)
    assert last.threshold.startswith("avg(id) between ")
    assert last.metadata["expression"] == "avg(id)" and last.metadata["training_count"] == 6


def test_freshness_anomaly_on_a_timestamp_column_flags_stale_data(db_path):
    ages = ["1 hour"] * 6 + ["3 days"]
    state = {"age": ages[0]}

    @asset(name="events")
    def events(con):
        return f"SELECT now() - INTERVAL '{state['age']}' AS loaded_at"

    defs = Definitions([events], [checks.freshness_anomaly("events", timestamp_column="loaded_at")])
    outcomes = []
    for age in ages:
        state["age"] = age
        record = materialize(defs, db=db_path).checks[0]
        outcomes.append(record.outcome)
    assert outcomes == ["passed"] * 6 + ["warned"]
    assert record.observed_value == pytest.approx(3 * 86400, abs=60)
    assert record.threshold.startswith("age of the newest loaded_at in seconds at most ")


def test_freshness_anomaly_per_build_flags_an_unusually_long_wait(db_path):
    check = checks.freshness_anomaly("t", min_history=3)
    defs, runs = _builds(db_path, [10] * 5, check)
    assert runs[0]["freshness_anomaly"].metadata["reason"] == (
        "not enough history (0 of 3 gaps between builds)"
    )
    last = runs[-1]["freshness_anomaly"]
    assert last.outcome == "passed"
    # Builds came a fraction of a second apart (more on a busy machine); now wait well past
    # the band and past the last gap, which the next check trains on too.
    wait = 2 * max(last.metadata["expected_high"], last.observed_value) + 0.5
    time.sleep(wait)
    late = run_checks(defs, db=db_path, checks=["t.freshness_anomaly"]).checks[0]
    assert late.outcome == "warned", late.metadata
    assert late.observed_value >= wait
    assert late.threshold.startswith("seconds since the last build at most ")


def _orders_by_day(db_path, per_day, check):
    """Materialize `orders` with per_day(day) rows on each of the 110 days before today (UTC)
    and 3 rows today; the check's record."""
    today = datetime.now(UTC).date()

    @asset(name="orders")
    def orders(con):
        days = [today - timedelta(days=d) for d in range(1, 110)]
        con.execute("CREATE TEMP TABLE counts (day DATE, n INTEGER)")
        con.executemany("INSERT INTO counts VALUES (?, ?)", [(d, per_day(d)) for d in days])
        return (
            "SELECT day::TIMESTAMP + INTERVAL 9 HOUR AS ordered_at FROM counts, range(200) r(i)"
            f" WHERE i < n UNION ALL SELECT TIMESTAMP '{today} 08:00' FROM range(3)"
        )  # today: incomplete, not tested

    return materialize(Definitions([orders], [check]), db=db_path).checks[0]


def test_volume_anomaly_by_day_reads_the_table(db_path):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    check = checks.volume_anomaly("orders", timestamp_column="ordered_at")
    normal = _orders_by_day(db_path, lambda day: 98 if day == yesterday else 100, check)
    assert normal.outcome == "passed", normal.metadata
    assert normal.metadata["training_count"] == 14 and normal.observed_value == 98
    assert normal.metadata["day"] == yesterday.isoformat()
    dropped = _orders_by_day(db_path, lambda day: 5 if day == yesterday else 100, check)
    assert dropped.outcome == "warned" and dropped.metadata["reason"] == "below the expected band"
    assert dropped.metadata["column"] == "ordered_at"
    assert dropped.threshold.startswith(f"rows on {yesterday} between ")


def test_volume_anomaly_by_day_with_seasonality_compares_the_same_weekdays(db_path):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)

    def weekend(day):
        return day.weekday() >= 5

    def per_day(day):  # weekends are quiet; yesterday looks like the other kind of day
        if day == yesterday:
            return 100 if weekend(day) else 30
        return 30 if weekend(day) else 100

    plain = checks.volume_anomaly("orders", timestamp_column="ordered_at")
    assert _orders_by_day(db_path, per_day, plain).outcome == "passed"
    seasonal = checks.volume_anomaly("orders", timestamp_column="ordered_at", seasonality=7)
    record = _orders_by_day(db_path, per_day, seasonal)
    assert record.outcome == "warned", record.metadata
    assert record.metadata["training_count"] == 14


def test_on_a_partitioned_asset_volume_anomaly_runs_once_on_the_whole_table(db_path):
    rows = {"Books": 50, "Toys": 50}

    @asset(partitions=StaticPartitions(["Books", "Toys"]), partition_column="category")
    def stock(con, context):
        n = rows[context.partition_key]
        return f"SELECT '{context.partition_key}' AS category, range AS id FROM range({n})"

    defs = Definitions([stock], [checks.volume_anomaly("stock", min_history=3)])
    records = [materialize(defs, db=db_path).checks for _ in range(4)]
    assert [len(r) for r in records] == [1, 1, 1, 1]
    assert [r[0].outcome for r in records] == ["passed"] * 4
    assert records[-1][0].observed_value == 100
    rows["Toys"] = 0
    partial = materialize(defs, db=db_path, partitions=PartitionRequest(keys=["Toys"]))
    record = partial.checks[0]  # one partition rebuilt empty: the whole table lost half its rows
    assert (record.outcome, record.observed_value) == ("warned", 50)
    assert record.metadata["reason"] == "below the expected band"
    assert record.metadata["training_runs"] == [1, 2, 3, 4]


def test_each_result_carries_its_band_for_pages_and_reports(db_path):
    _, runs = _builds(db_path, [100, 102, 98, 101, 99, 100, 0])
    early = band_of(runs[2]["volume_anomaly"].metadata, runs[2]["volume_anomaly"].observed_value)
    assert early is not None and not early.enough_history and early.expected is None
    assert early.text == "row count 98, no band yet: not enough history (2 of 5 builds)"
    last = runs[-1]["volume_anomaly"]
    assert last.metadata[BAND_OF] == "row count"
    band = band_of(last.metadata, last.observed_value)
    assert band is not None and band.enough_history
    assert band.low == last.metadata["expected_low"] and band.high == last.metadata["expected_high"]
    assert band.text == f"row count 0, expected {figure(band.low)}–{figure(band.high)}"
    assert band_of({"reason": "x"}, 1.0) is None  # any other check's result
    old = band_of({"expected_low": 9500.0, "expected_high": 10480.0}, 1204)  # before the mark
    assert old is not None and old.text == "observed 1,204, expected 9,500–10,480"
    one_sided = band_of({BAND_OF: "seconds", "expected_low": None, "expected_high": 4000}, 9e4)
    assert one_sided is not None and one_sided.expected == "at most 4,000"
