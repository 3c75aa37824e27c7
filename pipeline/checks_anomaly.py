"""Anomaly checks, as Elementary offers them for dbt, trained on this project's own run history:
`volume_anomaly` (row counts), `freshness_anomaly` (time between builds, or the newest row's
age) and `metric_anomaly` (an aggregate). Re-exported by `pipeline.checks`.

Each check computes the value it tests from the table itself, and reads its training values
(the earlier ones) from the SQLite history through `context.history_db`, which the engine sets.
The verdict comes from `detect`, a pure function: a value is anomalous when it leaves the
expected band, where both a z-score rule (mean and stddev, `sensitivity` of them, 3 by default
as in Elementary) and a robust rule (median and MAD) agree, each band at least `min_band` of the
median wide on either side; a drop to zero from a history that never had zero is always
anomalous. With fewer than `min_history` training values the check passes and says so.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import duckdb

from pipeline import ledger, store
from pipeline.checks_base import (
    AssetRef,
    asset_name,
    checked_aggregate,
    column_list,
    described,
    filtered,
)
from pipeline.checks_base import column_types as _column_types
from pipeline.definitions import AssetContext, CheckDef, CheckResult, Severity, asset_check
from pipeline.errors import DefinitionError, PipelineError
from pipeline.graph import suggest
from pipeline.warehouse import quote_ident, scalar, utcnow

Direction = Literal["both", "spike", "drop"]
DIRECTIONS = ("both", "spike", "drop")
MAD_TO_SIGMA = 1.4826  # MAD times this estimates the stddev of normally distributed values


@dataclass(frozen=True)
class Verdict:
    """What `detect` decided about one value, with the band and the statistics behind it."""

    anomalous: bool
    value: float
    reason: str
    training_count: int
    enough_history: bool
    low: float | None = None  # None: no lower bound (a spike-only check) or not enough history
    high: float | None = None
    mean: float | None = None
    stddev: float | None = None
    median: float | None = None
    mad: float | None = None
    zscore: float | None = None  # None when the training values never vary

    @property
    def band(self) -> str:
        """The expected band as threshold text ('between 950 and 1050'), as reports show it
        after "expected"."""
        if not self.enough_history:
            return "a band, once there is enough history"
        if self.low is None:
            return f"at most {_num(self.high)}"
        if self.high is None:
            return f"at least {_num(self.low)}"
        return f"between {_num(self.low)} and {_num(self.high)}"

    def metadata(self) -> dict[str, Any]:
        found: dict[str, Any] = {"reason": self.reason, "training_count": self.training_count}
        if self.enough_history:
            found |= {
                "expected_low": _rounded(self.low),
                "expected_high": _rounded(self.high),
                "mean": _rounded(self.mean),
                "stddev": _rounded(self.stddev),
                "median": _rounded(self.median),
                "mad": _rounded(self.mad),
                "zscore": _rounded(self.zscore),
            }
        return found


def detect(
    value: float,
    training: Sequence[float],
    *,
    sensitivity: float = 3.0,
    min_history: int = 5,
    direction: Direction = "both",
    min_band: float = 0.05,
    min_width: float = 0.0,
    seasonality: int | None = None,
    unit: str = "builds",
) -> Verdict:
    """Whether `value` (the newest) is an anomaly against `training` (the values before it,
    oldest first).

    The band is the union of mean ± sensitivity·stddev and median ± sensitivity·1.4826·MAD,
    each half-width at least `min_band`·|median| and `min_width`: the value must leave both to
    be anomalous, so a flat history (stddev 0) does not flag a tiny change, and outliers in the
    history do not make the robust band useless. Leaving a band downwards counts unless
    `direction='spike'`, upwards unless `direction='drop'`. Whatever the band, a drop to zero
    from a history that never had zero is anomalous (unless `direction='spike'`).

    `seasonality=p` trains only on the values one, two, ... periods before (`p=7` on daily
    values: the same weekday). Fewer than `min_history` training values: not anomalous, and
    the reason says "not enough history (N of min_history builds)".
    """
    values = [float(v) for v in training]
    if seasonality:
        values = values[::-1][seasonality - 1 :: seasonality][::-1]
    count = len(values)
    if count < min_history:
        return Verdict(
            False,
            value,
            f"not enough history ({count} of {min_history} {unit})",
            count,
            False,
        )
    mean = statistics.fmean(values)
    stddev = statistics.stdev(values) if count > 1 else 0.0
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    floor = max(min_band * abs(median), min_width)
    half_z = max(sensitivity * stddev, floor)
    half_robust = max(sensitivity * MAD_TO_SIGMA * mad, floor)
    low = min(mean - half_z, median - half_robust)
    high = max(mean + half_z, median + half_robust)
    if stddev > 0:
        zscore: float | None = (value - mean) / stddev
    else:
        zscore = 0.0 if value == mean else None
    downwards, upwards = direction != "spike", direction != "drop"
    if downwards and value == 0 and min(values) > 0:
        anomalous, reason = True, "dropped to zero from a history that never had zero"
    elif downwards and value < low:
        anomalous, reason = True, "below the expected band"
    elif upwards and value > high:
        anomalous, reason = True, "above the expected band"
    else:
        anomalous, reason = False, "within the expected band"
    return Verdict(
        anomalous,
        value,
        reason,
        count,
        True,
        low if downwards else None,
        high if upwards else None,
        mean,
        stddev,
        median,
        mad,
        zscore,
    )


@dataclass(frozen=True)
class _Rule:
    """The detector settings a factory was given, checked when the check is defined."""

    sensitivity: float
    training: int
    min_history: int
    direction: Direction
    min_band: float
    seasonality: int | None

    def judge(self, value: float, training: Sequence[float], unit: str, width: float) -> Verdict:
        return detect(
            value,
            training,
            sensitivity=self.sensitivity,
            min_history=self.min_history,
            direction=self.direction,
            min_band=self.min_band,
            min_width=width,
            seasonality=self.seasonality,
            unit=unit,
        )

    @property
    def window(self) -> int:
        """How many earlier values to read: the training window, times the season."""
        return self.training * (self.seasonality or 1)


def _rule(
    check: str,
    sensitivity: float,
    training: int,
    min_history: int,
    direction: Direction,
    min_band: float,
    seasonality: int | None,
) -> _Rule:
    """The settings as given, or a DefinitionError naming every bad one (they come from user
    code, so their types are checked too)."""
    problems = []
    if not _positive(sensitivity):
        problems.append(f"sensitivity={sensitivity!r} must be a number > 0, e.g. 3")
    if type(training) is not int or training < 2:
        problems.append(f"training_builds={training!r} must be a whole number >= 2")
    if type(min_history) is not int or min_history < 2:
        problems.append(f"min_history={min_history!r} must be a whole number >= 2")
    elif type(training) is int and min_history > training:
        problems.append(
            f"min_history={min_history} is above training_builds={training}: it could never"
            " have enough history"
        )
    if direction not in DIRECTIONS:
        problems.append(f"direction={direction!r} must be one of {', '.join(DIRECTIONS)}")
    if not (_positive(min_band) or min_band == 0) or isinstance(min_band, bool):
        problems.append(f"min_band={min_band!r} must be a share >= 0, e.g. 0.05 for 5 %")
    if seasonality is not None and (type(seasonality) is not int or seasonality < 2):
        problems.append(f"seasonality={seasonality!r} must be None or a period >= 2, e.g. 7")
    if problems:
        raise DefinitionError([f"check '{check}': {problem}" for problem in problems])
    return _Rule(float(sensitivity), training, min_history, direction, float(min_band), seasonality)


def volume_anomaly(
    asset: AssetRef,
    *,
    timestamp_column: str | None = None,
    sensitivity: float = 3.0,
    training_builds: int = 14,
    min_history: int = 5,
    direction: Direction = "both",
    min_band: float = 0.05,
    seasonality: int | None = None,
    name: str | None = None,
    severity: Severity | str = "warn",
    blocking: bool = False,
    description: str | None = None,
) -> CheckDef:
    """The asset's row count is within the band its history expects.

    Per build (default): the value tested is the table's row count now (`count(*)`, so the
    current build counts even before the run records it); the training values are the row
    counts of the asset's `training_builds` previous materialized builds (from the history,
    those before the build that made the current table, so a check run again without a
    rebuild gives the same verdict).

    With `timestamp_column=` (DATE, TIMESTAMP or TIMESTAMPTZ; days in UTC) it reads only the
    table: the rows of each day are counted, the last complete day (yesterday) is tested, and
    the `training_builds` days before it (days without rows count 0, days before the first
    row are left out) are the training values. `seasonality=7` then compares a day with the
    same weekdays only.
    """
    table = asset_name(asset)
    name = name or "volume_anomaly"
    rule = _rule(name, sensitivity, training_builds, min_history, direction, min_band, seasonality)
    column = None if timestamp_column is None else column_list(timestamp_column, name, asset)[0]

    def per_build(con: duckdb.DuckDBPyConnection, context: AssetContext) -> CheckResult:
        count = scalar(con, f"SELECT count(*) FROM {quote_ident(table)}")
        with _history(context, table, name) as history:
            before = _current_build(con, table, context)
            rows = store.build_row_counts(history, table, before, rule.window)
        verdict = rule.judge(count, [c for _, c in rows], "builds", 1.0)
        training_runs = [r for r, _ in rows]
        return _result(verdict, {"row_count": count, "training_runs": training_runs}, "row count")

    def per_day(con: duckdb.DuckDBPyConnection, context: AssetContext) -> CheckResult:
        assert column is not None
        day = _day_expression(con, table, column, name)
        tested = datetime.now(UTC).date() - timedelta(days=1)
        first_day = tested - timedelta(days=rule.window)
        counts = dict(
            con.execute(
                f"SELECT {day} AS day, count(*) FROM {quote_ident(table)}"
                f" WHERE {day} BETWEEN $first AND $tested GROUP BY day",
                {"first": first_day, "tested": tested},
            ).fetchall()
        )
        oldest: date | None = scalar(con, f"SELECT min({day}) FROM {quote_ident(table)}")
        days = [first_day + timedelta(days=i) for i in range(rule.window)]
        training = [counts.get(d, 0) for d in days if oldest is not None and d >= oldest]
        verdict = rule.judge(counts.get(tested, 0), training, "days", 1.0)
        return _result(
            verdict,
            {"day": tested.isoformat(), "row_count": counts.get(tested, 0), "column": column},
            f"rows on {tested.isoformat()}",
        )

    what = "row count" if column is None else f"number of rows per day of {column}"
    return asset_check(
        per_build if column is None else per_day,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=description or f"The {what} is within the band its history expects.",
        per_partition=False,  # the whole table's rows, as its builds recorded them
    )


def freshness_anomaly(
    asset: AssetRef,
    *,
    timestamp_column: str | None = None,
    sensitivity: float = 3.0,
    training_builds: int = 14,
    min_history: int = 5,
    direction: Direction = "spike",
    min_band: float = 0.05,
    name: str | None = None,
    severity: Severity | str = "warn",
    blocking: bool = False,
    description: str | None = None,
) -> CheckDef:
    """The time since the asset was last built (or, with `timestamp_column`, the age of its
    newest value) is not unusually long. Observed value: seconds.

    Per build (default): the value tested is the time from the end of the asset's last build
    before this run until now (in a run that rebuilds it: the gap this build closed; in a
    checks-only run: how long the current table has stood); the training values are the gaps
    between its `training_builds` + 1 builds before this run.

    With `timestamp_column=`: the value tested is now minus the newest value (DATE and
    TIMESTAMP read as UTC); the training values are the ages this check observed when it ran
    after each of the asset's previous builds. By default only a longer time than usual is an
    anomaly (`direction='spike'`).
    """
    table = asset_name(asset)
    name = name or "freshness_anomaly"
    rule = _rule(name, sensitivity, training_builds, min_history, direction, min_band, None)
    column = None if timestamp_column is None else column_list(timestamp_column, name, asset)[0]

    def per_build(con: duckdb.DuckDBPyConnection, context: AssetContext) -> CheckResult:
        del con
        with _history(context, table, name) as history:
            ended = store.build_end_times(history, table, context.run_id or 2**62, rule.window + 1)
        if not ended:
            return _result(rule.judge(0.0, [], "gaps between builds", 1.0), {}, _SINCE_BUILD)
        gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(ended)]
        age = max(0.0, (utcnow() - ended[-1]).total_seconds())
        verdict = rule.judge(round(age, 3), gaps, "gaps between builds", 1.0)
        return _result(verdict, {"last_build_ended": ended[-1].isoformat(sep=" ")}, _SINCE_BUILD)

    def newest_age(con: duckdb.DuckDBPyConnection, context: AssetContext) -> CheckResult:
        assert column is not None
        kind = _temporal_type(con, table, column, name)
        newest = f"max({quote_ident(column)})"
        instant = newest if kind.endswith("TIME ZONE") else f"timezone('UTC', {newest}::TIMESTAMP)"
        epoch = scalar(con, f"SELECT epoch({instant}) FROM {quote_ident(table)}")
        if epoch is None:
            return CheckResult(
                False,
                {"reason": f"'{column}' has no non-NULL value"},
                threshold=f"a non-NULL {column}",
            )
        age = round(time.time() - float(epoch), 1)
        with _history(context, table, name) as history:
            before = _current_build(con, table, context)
            rows = store.check_values_at_builds(history, table, name, before, rule.window)
        verdict = rule.judge(age, [v for _, v in rows], "builds", 1.0)
        return _result(verdict, {"column": column}, f"age of the newest {column} in seconds")

    what = "time since the last build" if column is None else f"age of the newest {column}"
    return asset_check(
        per_build if column is None else newest_age,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=description or f"The {what} is not unusually long for this asset.",
        per_partition=False,
    )


def metric_anomaly(
    asset: AssetRef,
    expression: str,
    *,
    sensitivity: float = 3.0,
    training_builds: int = 14,
    min_history: int = 5,
    direction: Direction = "both",
    min_band: float = 0.05,
    seasonality: int | None = None,
    name: str | None = None,
    severity: Severity | str = "warn",
    blocking: bool = False,
    description: str | None = None,
    where: str | None = None,
) -> CheckDef:
    """One aggregate of the asset's rows (as `checks.metric` takes it: `avg(amount)`,
    `count(DISTINCT customer_id)`, ...) is within the band its history expects.

    It takes an expression, not another check's name: another check's value for the current
    run may not be recorded yet when this one runs, while an expression is computed here.
    The value tested is the aggregate computed now. The training values are what this same
    check observed after each of the asset's `training_builds` previous builds (its own
    results in the history, one per build: running it again without a rebuild adds none), so
    a metric anomaly check starts learning when it is added. A NULL aggregate fails, as in
    `metric`.
    """
    name, expression = checked_aggregate(expression, name, "metric_anomaly")
    table = asset_name(asset)
    rule = _rule(name, sensitivity, training_builds, min_history, direction, min_band, seasonality)
    where, source = filtered(table, where, name)

    def run(con: duckdb.DuckDBPyConnection, context: AssetContext) -> CheckResult:
        value = scalar(con, f"SELECT\n{expression}\nFROM {source}")
        extra: dict[str, Any] = {"expression": expression}
        if where is not None:
            extra["where"] = where
        if value is None:
            extra["reason"] = f"{expression} is NULL (no rows, or only NULL values)"
            return CheckResult(False, extra, threshold=f"{expression} not NULL")
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise PipelineError(
                f"check '{table}.{name}': {expression} gave {type(value).__name__} {value!r};"
                " a metric must be a number"
            )
        with _history(context, table, name) as history:
            before = _current_build(con, table, context)
            rows = store.check_values_at_builds(history, table, name, before, rule.window)
        verdict = rule.judge(float(value), [v for _, v in rows], "builds", 0.0)
        return _result(verdict, extra, expression)

    return asset_check(
        run,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=described(
            description, f"{expression} is within the band its history expects.", where
        ),
        per_partition=False,
    )


_SINCE_BUILD = "seconds since the last build"
BAND_OF = "band_of"  # metadata key every anomaly result carries: what the band is of


@dataclass(frozen=True)
class Band:
    """One anomaly check result's value and expected band, read back from its metadata.

    `low` or `high` is None on a one-sided band (`direction=`); both are None while there is
    not enough history (`enough_history` False, `reason` says how much there is).
    """

    label: str  # what the band is of ('row count'); 'observed' for results without the mark
    value: float | None
    low: float | None
    high: float | None
    enough_history: bool
    reason: str | None
    zscore: float | None
    training_count: int | None

    @property
    def expected(self) -> str | None:
        """Low and high joined by an en dash ('9,500' dash '10,480'), 'at most 4,000' or
        'at least 10'; None without a band."""
        if self.low is None and self.high is None:
            return None
        if self.low is None:
            return f"at most {figure(self.high)}"
        if self.high is None:
            return f"at least {figure(self.low)}"
        joint = " to " if self.low < 0 else "–"
        return f"{figure(self.low)}{joint}{figure(self.high)}"

    @property
    def text(self) -> str:
        """'row count 1,204, expected ' and the band, or why there is no band yet."""
        shown = f"{self.label} {figure(self.value)}"
        if self.expected is not None:
            return f"{shown}, expected {self.expected}"
        return f"{shown}, no band yet: {self.reason or 'not enough history'}"


def band_of(metadata: Any, observed_value: float | None) -> Band | None:
    """The band of an anomaly check's result, or None for any other check's result.

    Known by the BAND_OF mark, or, for results recorded before the mark existed, by the
    expected_low / expected_high keys (such a result without enough history is not known).
    """
    if not isinstance(metadata, dict):
        return None
    marked = isinstance(metadata.get(BAND_OF), str)
    banded = "expected_low" in metadata or "expected_high" in metadata
    if not (marked or banded):
        return None
    reason, count = metadata.get("reason"), metadata.get("training_count")
    return Band(
        label=metadata[BAND_OF] if marked else "observed",
        value=observed_value,
        low=_number_or_none(metadata.get("expected_low")),
        high=_number_or_none(metadata.get("expected_high")),
        enough_history=banded,
        reason=reason if isinstance(reason, str) else None,
        zscore=_number_or_none(metadata.get("zscore")),
        training_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
    )


def figure(value: float | None) -> str:
    """A value or bound as people read it: '1,204', '10,480', '199.5', '0.1235'; '-' for none."""
    if value is None or not math.isfinite(value):
        return "-" if value is None else str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _result(verdict: Verdict, extra: dict[str, Any], label: str) -> CheckResult:
    """The check's result: `label` names what the band is of ('row count'); the metadata says
    so under BAND_OF, the mark by which pages and reports know an anomaly check."""
    return CheckResult(
        not verdict.anomalous,
        {**extra, BAND_OF: label, **verdict.metadata()},
        observed_value=verdict.value,
        threshold=f"{label} {verdict.band}",
    )


@contextmanager
def _history(context: AssetContext, table: str, name: str) -> Iterator[sqlite3.Connection]:
    """The run history of the warehouse a check runs on, read-only."""
    if context.history_db is None:
        raise PipelineError(
            f"check '{table}.{name}' reads the run history, which is known only in a run:"
            " run it with materialize() or run_checks()"
        )
    with store.open_store(context.history_db) as history:
        yield history


def _current_build(con: duckdb.DuckDBPyConnection, table: str, context: AssetContext) -> int:
    """The run whose build of `table` stands: training values come from runs before it."""
    run_id = ledger.current_run_id(con, table)
    if run_id is not None:
        return int(run_id)
    return context.run_id if context.run_id is not None else 2**62


def _temporal_type(con: duckdb.DuckDBPyConnection, table: str, column: str, check: str) -> str:
    types = _column_types(con, table) or {}
    if column not in types:
        raise PipelineError(
            f"check '{table}.{check}': '{table}' has no column '{column}'.{suggest(column, types)}"
        )
    kind = types[column]
    if kind != "DATE" and not kind.startswith("TIMESTAMP"):
        raise PipelineError(
            f"check '{table}.{check}': column '{column}' is {kind}; it needs a DATE, TIMESTAMP"
            " or TIMESTAMPTZ column"
        )
    return kind


def _day_expression(con: duckdb.DuckDBPyConnection, table: str, column: str, check: str) -> str:
    """SQL giving each row's day in UTC."""
    kind = _temporal_type(con, table, column, check)
    quoted = quote_ident(column)
    if kind.endswith("TIME ZONE"):
        return f"CAST(timezone('UTC', {quoted}) AS DATE)"
    return f"CAST({quoted} AS DATE)"


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.0f}" if abs(value) >= 1e6 else f"{value:.6g}"


__all__ = [
    "BAND_OF",
    "Band",
    "Verdict",
    "band_of",
    "detect",
    "figure",
    "freshness_anomaly",
    "metric_anomaly",
    "volume_anomaly",
]
