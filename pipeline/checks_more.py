"""Built-in checks beyond dbt's four: an aggregate within bounds (`metric`), values matching a
pattern (`regex`), an exact set of typed columns (`expected_schema`) and row counts compared
across two assets (`row_count_compare`). Re-exported by `pipeline.checks`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb

from pipeline.checks_base import (
    AssetRef,
    asset_name,
    checked_aggregate,
    column_list,
    column_types,
    counting_check,
    described,
    filtered,
    sql_error,
)
from pipeline.definitions import CheckDef, CheckResult, Severity, asset_check
from pipeline.errors import DefinitionError, PipelineError
from pipeline.thresholds import thresholds
from pipeline.warehouse import quote_ident, scalar

Number = int | float

# Named patterns for regex(format=...), in RE2 syntax (DuckDB's), matched against the whole value.
FORMATS: dict[str, str] = {
    # The usual practical shape (GE's and most validators'): local@domain.tld, no spaces.
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    # YYYY-MM-DD with a month 01-12 and a day 01-31: the shape, not the calendar (02-30 passes).
    "iso_date": r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])",
}


def metric(
    asset: AssetRef,
    expression: str,
    *,
    between: Sequence[Number] | None = None,
    min: Number | None = None,  # shadows the builtin on purpose, as row_count does
    max: Number | None = None,
    name: str | None = None,
    severity: Severity | str = "error",
    blocking: bool = False,
    description: str | None = None,
    where: str | None = None,
) -> CheckDef:
    """One aggregate of the asset's rows lies within bounds (inclusive).

    `expression` is a single aggregate SQL expression: `avg(x)` (or `mean`), `median(x)`,
    `stddev(x)`, `sum(x)`, `min(x)`, `max(x)`, a percentile `quantile_cont(x, 0.9)`, the share
    of distinct values `count(DISTINCT x) / count(*)`, or any arithmetic on aggregates. Give
    `between=(low, high)` or `min=` and/or `max=`. Observed value: the number. An empty table
    (or no rows matching `where`) gives NULL, which fails. There are no failing rows to sample.
    """
    name, expression = checked_aggregate(expression, name, "metric")
    table = asset_name(asset)
    low, high = _bounds(name, between, min, max)
    where, source = filtered(table, where, name)
    band = _band(expression, low, high)

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        value = scalar(con, f"SELECT\n{expression}\nFROM {source}")
        metadata: dict[str, Any] = {"expression": expression}
        if where is not None:
            metadata["where"] = where
        if value is None:
            reason = "no rows" if where is None else "no rows matching where"
            metadata["reason"] = f"{expression} is NULL ({reason}, or only NULL values)"
            return CheckResult(False, metadata, threshold=band)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise PipelineError(
                f"check '{table}.{name}': {expression} gave {type(value).__name__} {value!r};"
                " a metric must be a number"
            )
        number = float(value)
        passed = (low is None or number >= low) and (high is None or number <= high)
        return CheckResult(passed, metadata, observed_value=number, threshold=band)

    return asset_check(
        run,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=described(description, f"{band}.", where),
    )


def regex(
    asset: AssetRef,
    column: str,
    pattern: str | None = None,
    *,
    format: str | None = None,  # shadows the builtin: the name users of GE expect
    name: str | None = None,
    severity: Severity | str | None = None,
    warn_if: str | None = None,
    error_if: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
    where: str | None = None,
) -> CheckDef:
    """Rows whose `column` does not match `pattern` as a whole (DuckDB's regexp_full_match, RE2
    syntax), or a named `format`: 'email', 'uuid' or 'iso_date' (YYYY-MM-DD); give exactly one.

    NULLs are excluded, as Great Expectations does: they neither pass nor fail (use not_null).
    So a share in `warn_if` / `error_if` (`'>1%'`) is of the non-NULL values. A non-text column
    is matched in its text form.
    """
    table, col = asset_name(asset), column_list(column, "regex", asset)[0]
    label = format if isinstance(format, str) and format in FORMATS else "pattern"
    name = name or f"{col}_matches_{label}"
    if (pattern is None) == (format is None):
        raise DefinitionError(
            [f"check '{name}': give exactly one of pattern= (a regular expression) or format="
             f" (one of {', '.join(sorted(FORMATS))}); got pattern={pattern!r}, format={format!r}"]
        )  # fmt: skip
    if format is not None and format not in FORMATS:
        raise DefinitionError(
            [f"check '{name}': format={format!r} is not known; use one of"
             f" {', '.join(sorted(FORMATS))}, or pass your own pattern="]
        )  # fmt: skip
    regexp = FORMATS[format] if format is not None else pattern
    if not isinstance(regexp, str) or not regexp:
        raise DefinitionError(
            [f"check '{name}': pattern={pattern!r} must be a non-empty regular expression"]
        )
    _compile(name, regexp)
    where, source = filtered(table, where, name)
    quoted = quote_ident(col)
    failing_sql = (
        f"SELECT * FROM {source} WHERE {quoted} IS NOT NULL"
        f" AND NOT regexp_full_match(CAST({quoted} AS VARCHAR), $pattern)"
    )
    shape = f"a valid {format}" if format else f"a match of {regexp}"
    return counting_check(
        table,
        name,
        described(description, f"Every non-NULL {col} is {shape}.", where),
        failing_sql,
        thresholds(name, severity, warn_if, error_if),
        blocking,
        sample_size,
        total_sql=f"SELECT count({quoted}) FROM {source}",
        params={"pattern": regexp},
        details=lambda con: {"pattern": regexp, **({"format": format} if format else {})},
    )


def expected_schema(
    asset: AssetRef,
    columns: Mapping[str, str],
    *,
    name: str | None = None,
    severity: Severity | str = "error",
    blocking: bool = False,
    description: str | None = None,
) -> CheckDef:
    """The asset has exactly these columns with these types, in any order.

    Types are compared as DuckDB prints them (`INTEGER`, `BIGINT`, `VARCHAR`, `DECIMAL(18,3)`,
    `TIMESTAMP WITH TIME ZONE`), ignoring case and spaces; `INT` is not `INTEGER`. Column
    names compare ignoring case, as DuckDB identifiers do. Observed value: how many columns
    are missing, extra or of another type; failing rows: one per such column.
    """
    table, name = asset_name(asset), name or "expected_schema"
    expected = _expected_columns(name, columns)

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        actual = column_types(con, table)
        if actual is None:
            raise PipelineError(f"check '{table}.{name}': '{table}' does not exist")
        found = {column.lower(): (column, kind) for column, kind in actual.items()}
        wanted = {column.lower(): (column, kind) for column, kind in expected.items()}
        missing = [wanted[key][0] for key in wanted if key not in found]
        extra = [found[key][0] for key in found if key not in wanted]
        retyped = {
            found[key][0]: (wanted[key][1], found[key][1])
            for key in wanted
            if key in found and _type_key(wanted[key][1]) != _type_key(found[key][1])
        }
        rows: list[tuple[str, str, str | None, str | None]] = [
            (c, "missing", expected[c], None) for c in missing
        ]
        rows += [(c, "extra", None, actual[c]) for c in extra]
        rows += [(c, "other type", want, got) for c, (want, got) in retyped.items()]
        summary = "; ".join(
            part
            for part in (
                f"missing: {', '.join(missing)}" if missing else "",
                f"extra: {', '.join(extra)}" if extra else "",
                ", ".join(f"{c} is {got}, expected {want}" for c, (want, got) in retyped.items()),
            )
            if part
        )
        metadata = {
            "missing": missing,
            "extra": extra,
            "retyped": {c: f"expected {want}, found {got}" for c, (want, got) in retyped.items()},
            "summary": summary or "as expected",
        }
        return CheckResult(
            not rows,
            metadata,
            failing_rows_sql=(
                "SELECT unnest($column) AS column_name, unnest($problem) AS problem,"
                " unnest($expected_type) AS expected_type, unnest($actual_type) AS actual_type"
            ),
            observed_value=len(rows),
            threshold="0 columns missing, extra or of another type",
            failing_rows_params={
                key: [row[i] for row in rows]
                for i, key in enumerate(("column", "problem", "expected_type", "actual_type"))
            },
        )

    shown = ", ".join(f"{column} {kind}" for column, kind in expected.items())
    return asset_check(
        run,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=description or f"{table} has exactly the columns {shown}.",
        per_partition=False,  # the table's columns, not one partition's
    )


def row_count_compare(
    asset: AssetRef,
    other: AssetRef,
    *,
    ratio_between: Sequence[Number] | None = None,
    equal: bool = False,
    name: str | None = None,
    severity: Severity | str = "error",
    blocking: bool = False,
    description: str | None = None,
) -> CheckDef:
    """The asset's row count compared with `other`'s: `equal=True`, or the ratio
    (asset rows / other rows) within `ratio_between=(low, high)`, inclusive.

    Observed value: the ratio (None when `other` is empty). The check reads `other` too, so in
    a run that rebuilds both it waits for `other`.
    """
    table, compared = asset_name(asset), asset_name(other)
    name = name or f"row_count_compare_{compared}"
    if compared == table:
        raise DefinitionError(
            [f"check '{name}': row_count_compare compares '{table}' with itself; name another"
             " asset as other="]
        )  # fmt: skip
    if type(equal) is not bool or equal == (ratio_between is not None):
        raise DefinitionError(
            [f"check '{name}': give exactly one of equal=True or ratio_between=(low, high);"
             f" got equal={equal!r}, ratio_between={ratio_between!r}"]
        )  # fmt: skip
    low, high = _bounds(name, ratio_between, None, None) if ratio_between is not None else (1, 1)
    if (low is not None and low < 0) or high is None:
        raise DefinitionError(
            [f"check '{name}': ratio_between={ratio_between!r} must be two numbers >= 0"]
        )
    rule = (
        f"row count equal to {compared}'s"
        if equal
        else f"row count / {compared}'s between {low!s} and {high!s}"
    )

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        if column_types(con, compared) is None:
            raise PipelineError(
                f"check '{table}.{name}': '{compared}' does not exist yet; materialize '{compared}'"
            )
        count = scalar(con, f"SELECT count(*) FROM {quote_ident(table)}")
        other_count = scalar(con, f"SELECT count(*) FROM {quote_ident(compared)}")
        ratio = count / other_count if other_count else None
        metadata = {"row_count": count, "other": compared, "other_row_count": other_count}
        if equal:
            passed = count == other_count
        elif ratio is None:
            passed = False
            metadata["reason"] = f"'{compared}' has no rows: the ratio is undefined"
        else:
            passed = (low or 0) <= ratio <= high
        return CheckResult(passed, metadata, observed_value=ratio, threshold=rule)

    return asset_check(
        run,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=description or f"The {rule}.",
        additional_deps=(compared,),
        per_partition=False,  # compares whole tables
    )


def _bounds(
    name: str, between: Sequence[Number] | None, low: Number | None, high: Number | None
) -> tuple[Number | None, Number | None]:
    """(low, high) from `between=(low, high)` or `min=` / `max=`; one side may be None."""
    problem = None
    if between is not None:
        if low is not None or high is not None:
            problem = "give between=(low, high) or min= / max=, not both"
        elif (
            isinstance(between, str | bytes)
            or not isinstance(between, Sequence)
            or len(between) != 2
        ):
            problem = f"between={between!r} must be a pair (low, high)"
        else:
            low, high = between
            if low is None or high is None:
                problem = f"between={between!r} needs two numbers; use min= or max= for one side"
    elif low is None and high is None:
        problem = "give between=(low, high), or min= and/or max="
    if problem is None:
        bad = [v for v in (low, high) if v is not None and not _is_number(v)]
        if bad:
            problem = f"bounds must be finite numbers; got {', '.join(map(repr, bad))}"
        elif low is not None and high is not None and low > high:
            problem = f"the low bound {low!r} is above the high bound {high!r}"
    if problem:
        raise DefinitionError([f"check '{name}': {problem}"])
    return low, high


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _band(expression: str, low: Number | None, high: Number | None) -> str:
    if high is None:
        return f"{expression} >= {low!s}"
    if low is None:
        return f"{expression} <= {high!s}"
    return f"{expression} between {low!s} and {high!s}"


def _compile(name: str, pattern: str) -> None:
    """Refuse a pattern DuckDB's RE2 cannot compile, with RE2's own message, now."""
    if error := sql_error("SELECT regexp_full_match('', $pattern)", {"pattern": pattern}):
        raise DefinitionError(
            [f"check '{name}': pattern {pattern!r} is not a valid regular expression (RE2):"
             f" {error}"]
        )  # fmt: skip


def _expected_columns(name: str, columns: object) -> dict[str, str]:
    example = "e.g. columns={'id': 'INTEGER', 'name': 'VARCHAR'}"
    if not isinstance(columns, Mapping) or not columns:
        raise DefinitionError(
            [f"check '{name}': columns={columns!r} must be a non-empty dict of name to type,"
             f" {example}"]
        )  # fmt: skip
    bad = sorted(
        repr(key)
        for key, kind in columns.items()
        if not (isinstance(key, str) and key and isinstance(kind, str) and kind.strip())
    )
    if bad:
        raise DefinitionError(
            [f"check '{name}': columns {', '.join(bad)} need a name and a DuckDB type as text,"
             f" {example}"]
        )  # fmt: skip
    lowered = [key.lower() for key in columns]
    twice = sorted({key for key in columns if lowered.count(key.lower()) > 1})
    if twice:
        raise DefinitionError(
            [f"check '{name}': columns {', '.join(twice)} name the same column (DuckDB names"
             " ignore case); keep one"]
        )  # fmt: skip
    return {key: " ".join(kind.split()) for key, kind in columns.items()}


def _type_key(kind: str) -> str:
    """'decimal(18, 3)' and 'DECIMAL(18,3)' are the same type as DuckDB prints it."""
    return re.sub(r"\s*([(),])\s*", r"\1", " ".join(kind.split())).upper()


__all__ = ["FORMATS", "expected_schema", "metric", "regex", "row_count_compare"]
