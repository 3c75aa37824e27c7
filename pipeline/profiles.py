"""Column profiles: what each column of a freshly built table holds, recorded with its build.

Computed on a worker right after the build committed, on its own cursor and outside the build's
transaction, beside the asset's checks and downstream builds: a profile that fails (or is
interrupted) can never roll back or fail the build; its error is recorded as the profile's,
and the table stands.

Three reads of the table: what DuckDB's statistics answer without reading rows (counts, min
and max), one aggregate pass for every other figure of every column (exact distinct counts in a
statement of their own beside it), then the distributions, knowing the first answers: an
equi-width histogram of each number, date and timestamp column between its min and max, and
the top values of the columns found to hold at most
`TOP_WHEN_AT_MOST` distinct values. Per column:

| kind     | figures                                                                     |
|----------|-----------------------------------------------------------------------------|
| every    | nulls, null_share, distinct, distinct_exact, top (low cardinality only)     |
| number   | min, max, mean, stddev, q25, q50, q75 (approx_quantile), bins               |
| temporal | min, max (DATE, TIME, TIMESTAMP of any precision or zone), bins (not TIME)  |
| text     | min_length, max_length, avg_length                                          |

Text gets lengths, not a min and max, as in Soda's, Great Expectations' and Elementary's
profiles: the alphabetical first and last names say little, and at 10M rows they cost 0.5 s
of string comparisons, as much as every other figure of the table together.

Without raw values (an asset whose checks, or the definitions, keep no failing rows:
`sample_size=0`) the top values, which are values of the data themselves, are left out. Bins
stay: their edges are spaced evenly between a min and a max that are kept anyway, and their
counts are counts.

`bins` is `{"edges": [e0, ..., en], "counts": [c0, ..., cn-1]}`: bin i holds the values from
e_i up to but not including e_i+1, the last one also the max when it lies on e_n; the counts add
up to the column's non-null rows. Whole numbers, decimals (in units of their last digit) and
dates (whole days) get bins of a whole width, so no bin covers more values than another (1..20
in 12 bins would be 10 bins of 2 values, not 12 of 1 or 2); timestamps bins of whole days,
hours, minutes, ... Edges of dates and timestamps are ISO texts, as their min and max are.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pipeline.definitions import AssetDef, Definitions
from pipeline.store import ColumnProfile, Profile, jsonable
from pipeline.warehouse import quote_ident

if TYPE_CHECKING:  # the dashboard reads column_kind and wanted: no DuckDB import for them
    import duckdb

# count(DISTINCT) up to this many rows, approx_count_distinct (HyperLogLog, a few % off) above.
# Measured on this 2-core machine, DuckDB 2.0: at 1M rows with 1M distinct values, exact costs
# 0.26 s (BIGINT) and 0.29 s (32-character text) against 0.004 s and 0.065 s approximate, and
# it grows with the distinct count; at 100k rows both take about 0.02 s. Low-cardinality
# columns cost the same either way (sales_data at 1M rows: 0.026 s exact for all six columns).
# So exact where it is as cheap, approximate where exact would dominate the profile.
EXACT_DISTINCT_UP_TO = 100_000
# Exact distinct counts are each a query of their own, joined by UNION ALL: DuckDB 2.0 counts
# several count(DISTINCT) of one SELECT slowly (joined_data's ten columns, this machine: 25 ms
# at 100 rows and 31-60 ms at 100k together, against 3 ms and 12 ms apart).
TOP_WHEN_AT_MOST = 20  # columns with at most this many distinct values get top values
TOP_VALUES = 5
QUARTILES = (0.25, 0.5, 0.75)
# approx_quantile is the one expensive figure: at 10M rows it took 1.0-1.3 s of a 1.9 s profile.
# Above a million rows the quartiles come from a Bernoulli sample of about 100,000 rows: 0.08-
# 0.12 s there, and within 1 % of the quartiles of every row (they are approximate either way).
QUARTILES_FROM_EVERY_ROW_UP_TO = 1_000_000
QUARTILE_SAMPLE_ROWS = 100_000

# Bins per histogram: enough to see a shape, few enough for a chart 300 px wide.
BINS = 12
# Up to this many rows the bins counted by GROUP BY are one statement, their queries joined by
# UNION ALL: at 100 rows a statement costs 1-2 ms of a profile's 10-20 ms. Bigger tables keep
# a statement per column, whose hash tables are not held together (see _add_distributions).
BINS_TOGETHER_UP_TO = 100_000
# A whole-number or date column with at most this many possible values between its min and max
# is counted value by value: the same pass as its bins (0.05-0.10 s at 10M rows), and it spares
# approx_count_distinct (0.03 s) and the query for the top values (0.05-0.08 s), exactly.
VALUES_COUNTED_UP_TO = 10_000
# What such a column's value counts give exactly, so the aggregate pass and the sample skip it.
_FROM_VALUES = {"distinct", "mean", "sum_away", "sum_squares_away", "quartiles"}
# Histograms are counted over every row, one column a query (the Bernoulli sample the quartiles
# use would cost less, but it loses the few outliers a histogram is there to show and its counts
# would not add up to the rows). Measured on this 2-core machine, DuckDB 2.0, at 10M rows, a
# column a query: `histogram(x, [upper edges])` 0.11-0.18 s, grouping the bin's number
# `(x - min) // width` 0.05-0.10 s, one `count(*) FILTER (...)` per bin 0.7 s. So whole numbers
# (dates as days, decimals in their last digit's units) are grouped, and only fractional
# numbers, whose edges the arithmetic could put a value on the wrong side of, use `histogram`.
_WHOLE = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$")
_SCALED_DECIMAL = re.compile(r"^DECIMAL\((?:[1-9]|1[0-8]),\s*(\d+)\)$")  # fits a BIGINT
_EPOCH = date(1970, 1, 1)
_TIME_UNITS_US = (86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000, 1_000, 1)
_NUMBER = re.compile(
    r"^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$"
)
_TEMPORAL = re.compile(r"^(DATE|TIME|TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE)$")


def column_kind(type_name: str) -> str:
    """'number', 'temporal', 'text' or 'other', from DuckDB's name of a column's type."""
    name = type_name.upper()
    if _NUMBER.match(name):
        return "number"
    if _TEMPORAL.match(name):
        return "temporal"
    if name == "VARCHAR":
        return "text"
    return "other"


def wanted(asset: AssetDef) -> bool:
    """Whether builds of `asset` are profiled: tables, unless `profile=False`. A partitioned
    table is profiled whole, once the partitions a run builds are all built."""
    return asset.profile and asset.kind == "table"


def keeps_raw_values(defs: Definitions, name: str) -> bool:
    """False when the definitions or one of `name`'s checks keep no failing rows
    (sample_size=0): its data must not leave the warehouse, so neither do profile values."""
    if defs.failing_sample_size == 0:
        return False
    return all(check.sample_size != 0 for check in defs.checks_for(name))


def profile_table(
    cursor: duckdb.DuckDBPyConnection,
    asset: str,
    run_id: int,
    columns: list[list[str]],
    row_count: int,
    raw_values: bool = True,
) -> Profile:
    """The profile of table `asset` as it stands (`columns`: [name, type] pairs, `row_count`
    its rows, both as its build recorded them; the rows are counted again with the figures).
    Raises what DuckDB raises."""
    started = time.perf_counter()
    exact = row_count <= EXACT_DISTINCT_UP_TO
    sampled = row_count > QUARTILES_FROM_EVERY_ROW_UP_TO
    target = quote_ident(asset)
    kinds = [column_kind(type_name) for _, type_name in columns]
    quoted = [quote_ident(name) for name, _ in columns]
    # First what the table's statistics answer without reading its rows (DuckDB keeps the
    # count and the min and max of each row group): 2 ms at 10M rows, against 0.5 s for the
    # rest. Knowing the bounds first also gives the shift that makes the sums of squares exact
    # enough for the standard deviation.
    bounds: list[tuple[int, str, str]] = []  # (column position, figure, SQL expression)
    for position, (_, type_name) in enumerate(columns):
        bounds.append((position, "non_null", f"count({quoted[position]})"))
        if kinds[position] in ("number", "temporal"):
            bounds += [
                (position, "min", f"min({quoted[position]})"),
                (position, "max", f"max({quoted[position]})"),
            ]
        column = quoted[position]
        if _temporal_key(column, type_name) is not None:  # bins count days or microseconds
            finite = f"isfinite(min({column})) AND isfinite(max({column}))"  # no 'infinity'
            bounds += [
                (position, f"key_{end}", f"CASE WHEN {finite} THEN {key} END")
                for end in ("min", "max")
                if (key := _temporal_key(f"{end}({column})", type_name))
            ]
    found: list[dict[str, Any]] = [{} for _ in columns]
    row_count = _read_into(cursor, target, bounds, found, first="count(*)")
    binnings: dict[int, _Binning] = {}
    for position, (_, type_name) in enumerate(columns):
        binning = _binning(quoted[position], type_name, found[position])
        if binning is not None:
            binnings[position] = binning
    counted = {position for position, binning in binnings.items() if binning.by_value}
    rest: list[tuple[int, str, str]] = []
    from_sample: list[tuple[int, str, str]] = []
    apart: list[tuple[int, str, str]] = []
    for position, kind in enumerate(kinds):
        column = quoted[position]
        for figure, sql in _expressions(column, kind, exact, _shift(found[position])):
            if figure in _FROM_VALUES and position in counted:
                continue  # figured exactly from its values' counts
            if sampled and figure == "quartiles":
                from_sample.append((position, figure, sql))
            elif exact and figure == "distinct":
                apart.append((position, figure, sql))
            else:
                rest.append((position, figure, sql))
    _read_into(cursor, target, rest, found)
    _read_apart(cursor, target, apart, found)
    if from_sample:
        share = min(100.0, 100.0 * QUARTILE_SAMPLE_ROWS / max(row_count, 1))
        _read_into(cursor, f"{target} USING SAMPLE {share:.6f}% (bernoulli)", from_sample, found)
        for position, _, _ in from_sample:
            found[position]["quartiles_sampled"] = True
    profile = Profile(run_id, asset, row_count, raw_values=raw_values)
    for position, ((name, type_name), figures) in enumerate(zip(columns, found, strict=True)):
        finished = _finish(figures, row_count, exact or position in counted)
        profile.columns.append(ColumnProfile(name, type_name, finished))
    _add_distributions(cursor, target, profile, binnings)
    profile.duration_s = time.perf_counter() - started
    return profile


def _read_into(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    parts: list[tuple[int, str, str]],
    found: list[dict[str, Any]],
    first: str | None = None,
) -> int:
    """Runs one aggregate query over `source` and files each answer under its column's
    figure; returns the value of `first` when one is asked (the row count)."""
    select = [first] if first else []
    select += [sql for *_, sql in parts]
    if not select:
        return 0
    ((*row,),) = cursor.execute(f"SELECT {', '.join(select)} FROM {source}").fetchall()
    head = row.pop(0) if first else 0
    for (position, figure, _), value in zip(parts, row, strict=True):
        found[position][figure] = value
    return int(head or 0)


def _read_apart(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    parts: list[tuple[int, str, str]],
    found: list[dict[str, Any]],
) -> None:
    """As _read_into, each aggregate in a SELECT of its own, all in one statement."""
    if not parts:
        return
    union = " UNION ALL ".join(
        f"SELECT {index} AS part, {sql} AS answer FROM {source}"
        for index, (*_, sql) in enumerate(parts)
    )
    for index, answer in cursor.execute(union).fetchall():
        position, figure, _ = parts[index]
        found[position][figure] = answer


def _shift(found: dict[str, Any]) -> float:
    """The middle of a number column's range (0 without one): the sums of squares are taken
    around it, so that they do not lose the variance to rounding."""
    low, high = found.get("min"), found.get("max")
    if low is None or high is None:
        return 0.0
    try:
        middle = (float(low) + float(high)) / 2
    except (TypeError, ValueError):  # a date's bounds: no sums are taken for it
        return 0.0
    return middle if math.isfinite(middle) else 0.0


def _expressions(column: str, kind: str, exact: bool, shift: float) -> list[tuple[str, str]]:
    """(figure, aggregate) pairs for one quoted column of `kind`, beyond what the statistics
    answer. The standard deviation comes from sums around `shift`: stddev_samp cost 0.10 s a
    column at 10M rows, the two sums 0.05 s."""
    distinct = f"count(DISTINCT {column})" if exact else f"approx_count_distinct({column})"
    found = [("distinct", distinct)]
    if kind == "number":
        quartiles = ", ".join(map(str, QUARTILES))
        away = f"({column}::DOUBLE - {shift!r})"
        found += [
            ("mean", f"avg({column})"),
            ("sum_away", f"sum({away})"),
            ("sum_squares_away", f"sum({away} * {away})"),
            ("quartiles", f"approx_quantile({column}, [{quartiles}])"),
        ]
    if kind == "text":
        found += [
            ("min_length", f"min(length({column}))"),
            ("max_length", f"max(length({column}))"),
            ("avg_length", f"avg(length({column}))"),
        ]
    return found


def _stddev(count: int, away: float | None, squares: float | None) -> float | None:
    """The sample standard deviation of `count` values from their sums around a shift (None
    below two values, as stddev_samp, and where a value is infinite)."""
    if count < 2 or away is None or squares is None:
        return None
    variance = (squares - away * away / count) / (count - 1)
    return math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else None


def _finish(found: dict[str, Any], row_count: int, exact: bool) -> dict[str, Any]:
    """The stored figures (JSON values) from one column's aggregates."""
    nulls = row_count - int(found.pop("non_null"))
    figures: dict[str, Any] = {
        "nulls": nulls,
        "null_share": nulls / row_count if row_count else None,
        "distinct": int(found.pop("distinct", 0)),  # or counted with the values, later
        "distinct_exact": exact,
    }
    quartiles = found.pop("quartiles", None)
    if "sum_away" in found:
        away, squares = found.pop("sum_away"), found.pop("sum_squares_away")
        found["stddev"] = _stddev(row_count - nulls, away, squares)
    for name, value in found.items():
        figures[name] = jsonable(value)
    if "mean" in found or quartiles is not None:
        values = list(quartiles) if quartiles is not None else [None] * len(QUARTILES)
        for label, value in zip(("q25", "q50", "q75"), values, strict=True):
            figures[label] = jsonable(value)
    return figures


@dataclass
class _Binning:
    """How one column's histogram is counted, its bins being `edges` (JSON values). Whole
    numbers (dates as days, timestamps as microseconds, decimals in units of their last digit)
    are binned by arithmetic, `(key - low) // width` grouped; other numbers, whose bins have
    fractional edges, by DuckDB's `histogram(key, uppers)`, which counts key <= upper."""

    key: str  # SQL: the column as a number
    cast: str  # the SQL type `key` is counted in
    edges: list[Any]
    low: int = 0
    width: int = 0
    uppers: list[float] | None = None
    # Few possible values (at most VALUES_COUNTED_UP_TO between min and max): each value is
    # counted, which gives the bins, the exact distinct count and the top values in one pass.
    decode: Callable[[int], Any] | None = None

    @property
    def by_value(self) -> bool:
        return self.decode is not None

    @property
    def grouped(self) -> bool:
        """Counted by GROUP BY: (grouped, count) rows. Otherwise one row, DuckDB's histogram."""
        return self.uppers is None

    def query(self, target: str, part: int | None = None) -> tuple[str, list[Any]]:
        """The query counting this column's bins; with `part`, its rows start with `part`."""
        if self.uppers is not None:
            return f"SELECT histogram({self.key}, ?::DOUBLE[]) FROM {target}", [self.uppers]
        number = f"({self.key})::{self.cast}"
        grouped = number if self.by_value else f"({number} - {self.low}) // {self.width}"
        first = "" if part is None else f"{part} AS part, "
        return f"SELECT {first}{grouped} AS grouped, count(*) FROM {target} GROUP BY grouped", []

    def counts(self, rows: list[tuple[Any, ...]]) -> list[int]:
        if self.uppers is not None:
            counted = dict(rows[0][0] or {})
            return [int(counted.get(upper, 0)) for upper in self.uppers]
        bins = [0] * (len(self.edges) - 1)
        for grouped, n in rows:
            if grouped is not None:
                index = (int(grouped) - self.low) // self.width if self.by_value else int(grouped)
                bins[min(index, len(bins) - 1)] += int(n)  # the max may lie on the last edge
        return bins

    def values(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, int]]:
        """Each value (as JSON) with its count, when counted by value."""
        decode = self.decode or int
        return [(decode(int(value)), int(n)) for value, n in rows if value is not None]


def _temporal_key(column: str, type_name: str) -> str | None:
    """A date (days) or a timestamp (microseconds) as a whole number, to bin it (`column`: any
    SQL expression of its type); TIME has no bins (nor does any other type)."""
    name = type_name.upper()
    if column_kind(name) != "temporal" or name == "TIME":
        return None
    return f"({column} - DATE '1970-01-01')" if name == "DATE" else f"epoch_us({column})"


def _binning(column: str, type_name: str, found: dict[str, Any]) -> _Binning | None:
    """The bins of one column between its min and max (None without any, or for its type).
    Pops the temporal key's min and max out of `found`."""
    low, high = found.pop("key_min", None), found.pop("key_max", None)
    name = type_name.upper()
    decode: Callable[[int], Any] = int
    scaled = _SCALED_DECIMAL.match(name)
    if _temporal_key(column, name) is not None:
        key = _temporal_key(column, name) or ""
        if name == "DATE":
            decode = lambda n: (_EPOCH + timedelta(days=n)).isoformat()  # noqa: E731
        else:
            zone = UTC if "ZONE" in name else None
            start = datetime(1970, 1, 1, tzinfo=zone)
            decode = lambda n: (start + timedelta(microseconds=n)).isoformat()  # noqa: E731
    elif column_kind(name) != "number":
        return None
    else:
        low, high = found.get("min"), found.get("max")
        if _WHOLE.match(name):
            key = column
        elif scaled and low is not None and high is not None:  # exact: whole units of 10^-s
            unit = 10 ** int(scaled.group(1))
            key = f"({column} * {unit})"
            low, high = int(Decimal(low) * unit), int(Decimal(high) * unit)
            decode = lambda n: float(Decimal(n) / unit)  # noqa: E731
        else:
            return _fractional_binning(column, low, high)
    if low is None or high is None:
        return None  # no value, or not a number
    low, high = int(low), int(high)
    timestamp = "TIMESTAMP" in name
    # Values per bin, rounded up; a timestamp's microseconds are near enough to continuous
    # that its bins span the range between min and max and are whole days, hours, ... wide.
    extent = high - low if timestamp else high - low + 1
    width = max(1, -(-extent // BINS))
    if timestamp:
        unit_us = next(u for u in _TIME_UNITS_US if u <= width)
        width = -(-width // unit_us) * unit_us
    count = max(1, -(-extent // width))
    try:
        edges = [decode(low + width * i) for i in range(count + 1)]
    except (OverflowError, ValueError):  # 'infinity' dates and timestamps: no bins
        return None
    fits = low >= -(2**62) and high < 2**62  # so that key - low fits a BIGINT too
    few = not timestamp and high - low < VALUES_COUNTED_UP_TO
    binning = _Binning(key, "BIGINT" if fits else "HUGEINT", edges, low, width)
    return replace(binning, decode=decode) if few else binning


def _fractional_binning(column: str, low: Any, high: Any) -> _Binning | None:
    """BINS equal widths between a float column's min and max, the max in the last one."""
    if low is None or high is None:
        return None
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    count = BINS if high > low else 1
    width = (high - low) / count
    edges = [low + width * i for i in range(count)] + [high]
    # Just below each inner edge, so a value on it counts in the bin it starts.
    uppers = [math.nextafter(e, -math.inf) for e in edges[1:-1]] + [high]
    return _Binning(f"{column}::DOUBLE", "DOUBLE", edges, uppers=uppers)


def _add_distributions(
    cursor: duckdb.DuckDBPyConnection,
    target: str,
    profile: Profile,
    binnings: dict[int, _Binning],
) -> None:
    """The bins of each column in `binnings` (by position), and, when raw values are kept,
    the TOP_VALUES most frequent values, with their counts, of each column holding at most
    TOP_WHEN_AT_MOST distinct values. One query per column: several histograms in one query
    held 339 MB at 10M rows where each alone holds 2-43 MB (the columns are read column by
    column either way). A small table's GROUP BY counts are one statement (UNION ALL)."""
    together = _count_together(cursor, target, profile.row_count or 0, binnings)
    for position, binning in binnings.items():
        if position in together:
            rows = together[position]
        else:
            sql, params = binning.query(target)
            rows = cursor.execute(sql, params).fetchall()
        figures = profile.columns[position].figures
        figures["bins"] = {"edges": jsonable(binning.edges), "counts": binning.counts(rows)}
        if binning.by_value:
            values = binning.values(rows)
            figures["distinct"] = len(values)
            if profile.raw_values and len(values) <= TOP_WHEN_AT_MOST:
                figures["top"] = _top(values)
            if column_kind(profile.columns[position].type) == "number":
                figures.update(_spread(values))
    if not profile.raw_values:
        return
    for position, column in enumerate(profile.columns):
        counted = position in binnings and binnings[position].by_value
        if not counted and 0 < column.figures["distinct"] <= TOP_WHEN_AT_MOST:
            sql = f"SELECT map_entries(histogram({quote_ident(column.name)})) FROM {target}"
            ((value,),) = cursor.execute(sql).fetchall()
            column.figures["top"] = _top([(jsonable(e["key"]), int(e["value"])) for e in value])


def _count_together(
    cursor: duckdb.DuckDBPyConnection, target: str, row_count: int, binnings: dict[int, _Binning]
) -> dict[int, list[tuple[Any, ...]]]:
    """The (grouped, count) rows of every GROUP BY binning of a table of at most
    BINS_TOGETHER_UP_TO rows, by position, from one statement; {} for bigger tables."""
    grouped = [position for position, binning in binnings.items() if binning.grouped]
    if row_count > BINS_TOGETHER_UP_TO or len(grouped) < 2:
        return {}
    union = " UNION ALL ".join(binnings[p].query(target, part=p)[0] for p in grouped)
    found: dict[int, list[tuple[Any, ...]]] = {position: [] for position in grouped}
    for position, *row in cursor.execute(union).fetchall():
        found[position].append(tuple(row))
    return found


def _spread(values: list[tuple[Any, int]]) -> dict[str, Any]:
    """Mean, standard deviation (sample) and quartiles (nearest rank: the smallest value with at
    least that share of the rows at or below it) from each value's count: exact, and no pass of
    their own."""
    ordered = sorted(values)
    total = sum(n for _, n in ordered)
    if not total:
        return {"mean": None, "stddev": None, "q25": None, "q50": None, "q75": None}
    mean = sum(v * n for v, n in ordered) / total
    squares = sum(n * (v - mean) ** 2 for v, n in ordered)
    figures: dict[str, Any] = {
        "mean": mean,
        "stddev": math.sqrt(squares / (total - 1)) if total > 1 else None,
    }
    for label, share in zip(("q25", "q50", "q75"), QUARTILES, strict=True):
        rank, seen = math.ceil(share * total), 0
        for value, n in ordered:
            seen += n
            if seen >= rank:
                figures[label] = value
                break
    return figures


def _top(values: list[tuple[Any, int]]) -> list[list[Any]]:
    """The TOP_VALUES most frequent (value, count) pairs, ties in the order of the values."""
    ranked = sorted(values, key=lambda item: (-item[1], str(item[0])))
    return [list(item) for item in ranked[:TOP_VALUES]]
