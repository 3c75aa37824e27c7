"""Column profiles: what each column of a freshly built table holds, recorded with its build.

Computed by the worker right after the build committed, on its own cursor and outside the
build's transaction, so a profile that fails (or is interrupted) can never roll back or fail
the build: its error is recorded as the profile's, and the table stands.

One aggregate query reads the table once for every column's figures; a second one gives the
distributions, knowing the first one's answers: an equi-width histogram of each number, date and
timestamp column between its min and max, and the top values of the columns found to hold at
most `TOP_WHEN_AT_MOST` distinct values (`histogram`, one pass over those columns). Per column:

| kind     | figures                                                                     |
|----------|-----------------------------------------------------------------------------|
| every    | nulls, null_share, distinct, distinct_exact, top (low cardinality only)     |
| number   | min, max, mean, stddev, q25, q50, q75 (approx_quantile), bins               |
| temporal | min, max (DATE, TIME, TIMESTAMP of any precision or zone), bins (not TIME)  |
| text     | min, max, min_length, max_length, avg_length                                |

Without raw values (an asset whose checks, or the definitions, keep no failing rows:
`sample_size=0`) the figures that are values of the data themselves are left out: top values
and the min and max of text columns. Bins stay: their edges are spaced evenly between a min and
a max that are kept anyway, and their counts are counts.

`bins` is `{"edges": [e0, ..., en], "counts": [c0, ..., cn-1]}`: bin i holds the values from
e_i up to but not including e_i+1, the last one also the max when it lies on e_n; the counts add
up to the column's non-null rows. Whole numbers and dates (whole days) get bins of a whole
width, so no bin covers more values than another (1..20 in 12 bins would be 10 bins of 2
values, not 12 of 1 or 2); timestamps bins of whole days, hours, minutes, ... Edges of dates and
timestamps are ISO texts, as their min and max are.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
# Histograms are counted over every row, in the query that also gives the top values: one more
# pass over the number, date and timestamp columns. Measured on this 2-core machine, DuckDB
# 2.0, sales_data (a date and four number columns): `histogram(x, [upper edges])` took 0.03-
# 0.05 s at 1M rows (the profile without it 0.28-0.35 s) and 0.24-0.25 s at 10M rows (0.58-
# 0.65 s); `histogram(floor((x - min) / width))` 0.06 s and 0.37-0.39 s; one
# `count(*) FILTER (...)` per bin 0.45-0.82 s and 3.4-3.6 s. The Bernoulli sample the quartiles
# use above 1M rows would cost 0.09-0.12 s at 10M, but it loses the few outliers a histogram
# is there to show and its counts would not add up to the rows: every row it is. The whole
# profile with and without bins, taking turns (machine under load, medians of 9): 365 vs
# 354 ms at 1M rows (fastest 226 vs 164), 1.47 vs 1.01 s at 10M (sales_data repeated 10 times).
_WHOLE = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$")
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
    its rows, both as its build recorded them; the rows are counted again with the figures,
    which costs nothing in the same pass). Raises what DuckDB raises."""
    started = time.perf_counter()
    exact = row_count <= EXACT_DISTINCT_UP_TO
    sampled = row_count > QUARTILES_FROM_EVERY_ROW_UP_TO
    parts: list[tuple[int, str, str]] = []  # (column position, figure, SQL expression)
    sample_parts: list[tuple[int, str, str]] = []  # the same, read from a sample
    for position, (name, type_name) in enumerate(columns):
        key = _temporal_key(quote_ident(name), type_name)
        for figure, sql in _expressions(quote_ident(name), column_kind(type_name), exact, key):
            if raw_values or figure not in ("min", "max") or column_kind(type_name) != "text":
                wanted_in = sample_parts if sampled and figure == "quartiles" else parts
                wanted_in.append((position, figure, sql))
    target = quote_ident(asset)
    select = ", ".join(["count(*)", *(sql for *_, sql in parts)])
    ((counted, *row),) = cursor.execute(f"SELECT {select} FROM {target}").fetchall()
    row_count = int(counted)
    found: list[dict[str, Any]] = [{} for _ in columns]
    for (position, figure, _), value in zip(parts, row, strict=True):
        found[position][figure] = value
    if sample_parts:
        share = min(100.0, 100.0 * QUARTILE_SAMPLE_ROWS / max(row_count, 1))
        select = ", ".join(sql for *_, sql in sample_parts)
        sample = f"USING SAMPLE {share:.6f}% (bernoulli)"
        ((*values,),) = cursor.execute(f"SELECT {select} FROM {target} {sample}").fetchall()
        for (position, figure, _), value in zip(sample_parts, values, strict=True):
            found[position][figure] = value
            found[position]["quartiles_sampled"] = True
    profile = Profile(run_id, asset, row_count, raw_values=raw_values)
    binnings: dict[int, _Binning] = {}
    for position, ((name, type_name), figures) in enumerate(zip(columns, found, strict=True)):
        binning = _binning(quote_ident(name), type_name, figures)
        if binning is not None:
            binnings[position] = binning
        profile.columns.append(ColumnProfile(name, type_name, _finish(figures, row_count, exact)))
    _add_distributions(cursor, target, profile, binnings)
    profile.duration_s = time.perf_counter() - started
    return profile


def _expressions(
    column: str, kind: str, exact: bool, key: str | None = None
) -> list[tuple[str, str]]:
    """(figure, aggregate) pairs for one quoted column of `kind` (`key`: its temporal key)."""
    distinct = f"count(DISTINCT {column})" if exact else f"approx_count_distinct({column})"
    found = [("non_null", f"count({column})"), ("distinct", distinct)]
    if kind in ("number", "temporal", "text"):
        found += [("min", f"min({column})"), ("max", f"max({column})")]
    if key is not None:  # a date's or a timestamp's bins are counted on a whole number
        found += [
            ("key_min", f"min({key})"),
            ("key_max", f"max({key})"),
            ("key_count", f"count({key})"),  # fewer than count(column): 'infinity' in it
        ]
    if kind == "number":
        quartiles = ", ".join(map(str, QUARTILES))
        found += [
            ("mean", f"avg({column})"),
            ("stddev", f"stddev_samp({column})"),
            ("quartiles", f"approx_quantile({column}, [{quartiles}])"),
        ]
    if kind == "text":
        found += [
            ("min_length", f"min(length({column}))"),
            ("max_length", f"max(length({column}))"),
            ("avg_length", f"avg(length({column}))"),
        ]
    return found


def _finish(found: dict[str, Any], row_count: int, exact: bool) -> dict[str, Any]:
    """The stored figures (JSON values) from one column's aggregates."""
    nulls = row_count - int(found.pop("non_null"))
    figures: dict[str, Any] = {
        "nulls": nulls,
        "null_share": nulls / row_count if row_count else None,
        "distinct": int(found.pop("distinct")),
        "distinct_exact": exact,
    }
    quartiles = found.pop("quartiles", None)
    for name, value in found.items():
        figures[name] = jsonable(value)
    if "mean" in found or quartiles is not None:
        values = list(quartiles) if quartiles is not None else [None] * len(QUARTILES)
        for label, value in zip(("q25", "q50", "q75"), values, strict=True):
            figures[label] = jsonable(value)
    return figures


@dataclass
class _Binning:
    """How one column's histogram is counted: on `key` (the column as a number), below each
    of `uppers` (DuckDB's `histogram(x, boundaries)` counts x <= boundary), as `edges`."""

    key: str  # SQL
    cast: str  # the SQL type of `uppers`
    uppers: list[Any]
    edges: list[Any]  # JSON values


def _temporal_key(column: str, type_name: str) -> str | None:
    """A date (days) or a timestamp (microseconds) as a whole number, to bin it; TIME has no
    bins (nor does any other type)."""
    name = type_name.upper()
    if column_kind(name) != "temporal" or name == "TIME":
        return None
    return f"({column} - DATE '1970-01-01')" if name == "DATE" else f"epoch_us({column})"


def _binning(column: str, type_name: str, found: dict[str, Any]) -> _Binning | None:
    """The bins of one column between its min and max (None without any, or for its type).
    Pops the temporal key's min and max out of `found`."""
    low, high = found.pop("key_min", None), found.pop("key_max", None)
    if found.pop("key_count", found.get("non_null")) != found.get("non_null"):
        return None  # bins would leave rows out
    name = type_name.upper()
    decode: Callable[[int], Any]
    if _temporal_key(column, name) is not None:
        key, cast = _temporal_key(column, name) or "", "BIGINT"
        if name == "DATE":
            decode = lambda n: (_EPOCH + timedelta(days=n)).isoformat()  # noqa: E731
        else:
            zone = UTC if "ZONE" in name else None
            start = datetime(1970, 1, 1, tzinfo=zone)
            decode = lambda n: (start + timedelta(microseconds=n)).isoformat()  # noqa: E731
    elif column_kind(name) == "number":
        low, high = found.get("min"), found.get("max")
        if _WHOLE.match(name):
            key, cast, decode = column, name, int
        else:
            key, cast = f"{column}::DOUBLE", "DOUBLE"
            if low is not None and high is not None:
                low, high = float(low), float(high)
    else:
        return None
    if low is None or high is None:
        return None  # no value, or not a number
    if isinstance(low, float):
        if not (math.isfinite(low) and math.isfinite(high)):
            return None
        count = BINS if high > low else 1
        width = (high - low) / count
        edges = [low + width * i for i in range(count)] + [high]
        # Just below each inner edge, so a value on it counts in the bin it starts.
        uppers = [math.nextafter(e, -math.inf) for e in edges[1:-1]] + [high]
        return _Binning(key, cast, uppers, edges)
    low, high = int(low), int(high)
    timestamp = cast == "BIGINT" and name != "DATE"
    # Values per bin, rounded up; a timestamp's microseconds are near enough to continuous
    # that its bins span the range between min and max and are whole days, hours, ... wide.
    extent = high - low if timestamp else high - low + 1
    width = max(1, -(-extent // BINS))
    if timestamp:
        unit = next(u for u in _TIME_UNITS_US if u <= width)
        width = -(-width // unit) * unit
    count = max(1, -(-extent // width))
    starts = [low + width * i for i in range(count + 1)]
    uppers = [start - 1 for start in starts[1:-1]] + [high]
    try:
        edges = [decode(start) for start in starts]
    except (OverflowError, ValueError):  # 'infinity' dates and timestamps: no bins
        return None
    return _Binning(key, cast, uppers, edges)


def _add_distributions(
    cursor: duckdb.DuckDBPyConnection,
    target: str,
    profile: Profile,
    binnings: dict[int, _Binning],
) -> None:
    """In one pass: the bins of each column in `binnings` (by position), and, when raw values
    are kept, the TOP_VALUES most frequent values, with their counts, of each column holding
    at most TOP_WHEN_AT_MOST distinct values."""
    parts: list[tuple[int, str]] = []  # (column position, "bins" or "top")
    select: list[str] = []
    params: list[Any] = []
    for position, binning in binnings.items():
        parts.append((position, "bins"))
        select.append(f"histogram({binning.key}, ?::{binning.cast}[])")
        params.append(binning.uppers)
    if profile.raw_values:
        for position, column in enumerate(profile.columns):
            if 0 < column.figures["distinct"] <= TOP_WHEN_AT_MOST:
                parts.append((position, "top"))
                select.append(f"map_entries(histogram({quote_ident(column.name)}))")
    if not parts:
        return
    # One query per column: several histograms in one query held 339 MB at 10M rows where
    # each alone holds 2-43 MB (the columns are read column by column either way).
    row = []
    for index, sql in enumerate(select):
        bound = [params[index]] if index < len(binnings) else []
        ((value,),) = cursor.execute(f"SELECT {sql} FROM {target}", bound).fetchall()
        row.append(value)
    for (position, figure), value in zip(parts, row, strict=True):
        column = profile.columns[position]
        if figure == "bins":
            binning = binnings[position]
            counted = dict(value or {})
            counts = [int(counted.get(upper, 0)) for upper in binning.uppers]
            column.figures["bins"] = {"edges": jsonable(binning.edges), "counts": counts}
        else:
            entries = [(jsonable(e["key"]), int(e["value"])) for e in value or []]
            ranked = sorted(entries, key=lambda item: (-item[1], str(item[0])))
            column.figures["top"] = [list(item) for item in ranked[:TOP_VALUES]]
