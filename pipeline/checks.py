"""Built-in asset checks: the tests dbt, Soda and Great Expectations users reach for first.

Each factory returns a CheckDef with a default name, severity and description. Row-level checks
count the rows that break a rule and hand the engine the SQL selecting them, so it records the
failing count and a capped sample. Identifiers are quoted with quote_ident; values are bound
parameters, never text in the SQL. Row-level checks take dbt-style `warn_if` / `error_if` and
`where`. The factories beyond dbt's (metric, regex, expected_schema, row_count_compare) live in
checks_more, the anomaly checks trained on the run history (volume_anomaly, freshness_anomaly,
metric_anomaly) in checks_anomaly; both are re-exported here; what they share lives in
checks_base.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from pipeline import ledger
from pipeline.checks_anomaly import freshness_anomaly, metric_anomaly, volume_anomaly
from pipeline.checks_base import AssetRef, Columns, counting_check, described, filtered
from pipeline.checks_base import asset_name as _asset_name
from pipeline.checks_base import column_list as _column_list
from pipeline.checks_base import column_types as _column_types
from pipeline.checks_base import duration as _duration
from pipeline.checks_more import FORMATS, expected_schema, metric, regex, row_count_compare
from pipeline.definitions import CheckDef, CheckResult, Severity, asset_check
from pipeline.errors import DefinitionError, PipelineError
from pipeline.graph import suggest
from pipeline.thresholds import thresholds
from pipeline.warehouse import one_row, quote_ident, scalar

__all__ = [
    "FORMATS",
    "accepted_values",
    "column_schema",
    "expected_schema",
    "expression",
    "freshness",
    "freshness_anomaly",
    "metric",
    "metric_anomaly",
    "not_null",
    "regex",
    "relationships",
    "row_count",
    "row_count_compare",
    "unique",
    "volume_anomaly",
]


def not_null(
    asset: AssetRef,
    columns: Columns,
    *,
    name: str | None = None,
    severity: Severity | str | None = None,
    warn_if: str | None = None,
    error_if: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
    where: str | None = None,
) -> CheckDef:
    """Rows where any of `columns` is NULL; observed value: how many such rows.

    Every row-level factory takes `where=`, dbt's `where` config: a SQL condition on the asset's
    rows, and the check reads only the rows matching it (a share such as `'>1%'` is of them).
    """
    table, cols = _asset_name(asset), _column_list(columns, "not_null", asset)
    name = name or f"{'_'.join(cols)}_not_null"
    where, source = filtered(table, where, name)
    condition = " OR ".join(f"{quote_ident(c)} IS NULL" for c in cols)
    nulls_per_column = ", ".join(f"count(*) FILTER ({quote_ident(c)} IS NULL)" for c in cols)

    def details(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        counts = one_row(con, f"SELECT {nulls_per_column} FROM {source}")
        return {"nulls_per_column": dict(zip(cols, counts, strict=True))}

    return counting_check(
        table,
        name,
        described(
            description,
            f"{', '.join(cols)} {'is' if len(cols) == 1 else 'are'} never NULL.",
            where,
        ),
        f"SELECT * FROM {source} WHERE {condition}",
        thresholds(name, severity, warn_if, error_if),
        blocking,
        sample_size,
        total_sql=f"SELECT count(*) FROM {source}",
        details=details,
    )


def unique(
    asset: AssetRef,
    columns: Columns,
    *,
    name: str | None = None,
    severity: Severity | str | None = None,
    warn_if: str | None = None,
    error_if: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
    where: str | None = None,
) -> CheckDef:
    """Key values (one column or a composite key) that occur more than once.

    Rows with a NULL in the key are ignored, as in SQL's UNIQUE; add not_null to forbid them.
    Observed value: how many key values are repeated; each failing row is one such key with its
    number of occurrences. The metadata has both `duplicate_keys` and `duplicate_rows` (the rows
    holding a repeated key).
    """
    table, cols = _asset_name(asset), _column_list(columns, "unique", asset)
    name = name or f"{'_'.join(cols)}_unique"
    where, source = filtered(table, where, name)
    key = ", ".join(quote_ident(c) for c in cols)
    present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in cols)
    counted = quote_ident("occurrences" if "occurrences" not in cols else "assetboard_occurrences")
    failing_sql = (
        f"SELECT {key}, count(*) AS {counted} FROM {source} WHERE {present}"
        f" GROUP BY {key} HAVING count(*) > 1"
    )
    label = cols[0] if len(cols) == 1 else f"({', '.join(cols)})"

    def duplicates(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        keys, rows = one_row(con, f"SELECT count(*), sum({counted}) FROM ({failing_sql})")
        return {"duplicate_keys": keys, "duplicate_rows": int(rows or 0)}

    return counting_check(
        table,
        name,
        described(description, f"Each {label} occurs at most once (NULL keys ignored).", where),
        failing_sql,
        thresholds(name, severity, warn_if, error_if),
        blocking,
        sample_size,
        total_sql=f"SELECT count(*) FROM {source}",
        details=lambda con: {"duplicate_keys": 0, "duplicate_rows": 0},
        failing_details=duplicates,
    )


def accepted_values(
    asset: AssetRef,
    column: str,
    values: Sequence[Any],
    *,
    name: str | None = None,
    severity: Severity | str | None = None,
    warn_if: str | None = None,
    error_if: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
    where: str | None = None,
) -> CheckDef:
    """Rows whose `column` holds a value outside `values` (NULLs ignored: use not_null).

    Values given as text compare with the column's text form, as dbt's quoted values do:
    `["1", "2"]` accepts the INTEGER 1 and 2 (on a DECIMAL or DOUBLE column give numbers:
    1.5 prints as '1.50' in a DECIMAL(10,2)). The metadata lists up to 20 distinct failing
    values (`failing_values`, none with `sample_size=0`) and how many there are.
    """
    table, col = _asset_name(asset), _column_list(column, "accepted_values", asset)[0]
    name = name or f"{col}_accepted_values"
    where, source = filtered(table, where, name)
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise DefinitionError(
            [f"check '{name}': values={values!r} must be a non-empty list such as ['a', 'b']"]
        )
    if any(value is None for value in values):
        raise DefinitionError(
            [f"check '{name}': values contains None; NULLs are ignored here, use not_null"]
        )
    shown = ", ".join(map(str, values[:6])) + (", ..." if len(values) > 6 else "")
    quoted = quote_ident(col)
    compared = f"CAST({quoted} AS VARCHAR)" if all(isinstance(v, str) for v in values) else quoted
    failing_sql = (
        f"SELECT * FROM {source} WHERE {quoted} IS NOT NULL"
        f" AND {compared} NOT IN (SELECT unnest($accepted_values))"
    )
    params = {"accepted_values": list(values)}

    def failing_values(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        count, listed = one_row(
            con,
            f"SELECT count(DISTINCT {quoted}),"
            f" list(DISTINCT {quoted} ORDER BY {quoted})[:{_FAILING_VALUES}]"
            f" FROM ({failing_sql})",
            params,
        )
        shown_values = {} if sample_size == 0 else {"failing_values": listed}  # data: kept out
        return {"failing_values_count": count, **shown_values}

    return counting_check(
        table,
        name,
        described(description, f"{col} is one of: {shown} (NULLs ignored).", where),
        failing_sql,
        thresholds(name, severity, warn_if, error_if),
        blocking,
        sample_size,
        total_sql=f"SELECT count(*) FROM {source}",
        params=params,
        details=lambda con: {"accepted_values": list(values)},  # the SQL shows $accepted_values
        failing_details=failing_values,
    )


def relationships(
    asset: AssetRef,
    column: str,
    to_asset: AssetRef,
    to_column: str,
    *,
    name: str | None = None,
    severity: Severity | str | None = None,
    warn_if: str | None = None,
    error_if: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
    where: str | None = None,
) -> CheckDef:
    """Orphan keys: rows whose `column` has no match in `to_asset.to_column` (NULLs ignored).

    The check reads `to_asset` too, so in a run that rebuilds both it waits for `to_asset`.
    `where` filters the rows of `asset` (the child keys), not those of `to_asset`.
    """
    table, col = _asset_name(asset), _column_list(column, "relationships", asset)[0]
    parent, parent_col = (
        _asset_name(to_asset),
        _column_list(to_column, "relationships", to_asset)[0],
    )
    name = name or f"{col}_references_{parent}"
    where, source = filtered(table, where, name)
    # An ANTI JOIN, not NOT EXISTS: the same rows (a NULL on either side never matches), but
    # NOT EXISTS made DuckDB hold every column of the child table: +500 MB and 0.35 s at 10 M
    # rows against +15 MB and 0.1 s (BENCHMARKS.md).
    failing_sql = (
        f"SELECT child.* FROM {source} AS child"
        f" ANTI JOIN {quote_ident(parent)} AS parent"
        f" ON parent.{quote_ident(parent_col)} = child.{quote_ident(col)}"
        f" WHERE child.{quote_ident(col)} IS NOT NULL"
    )

    def details(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        if _column_types(con, parent) is None:
            raise PipelineError(
                f"check '{table}.{name}': '{parent}' does not exist yet; materialize '{parent}'"
            )
        return {"references": f"{parent}.{parent_col}"}

    return counting_check(
        table,
        name,
        described(
            description, f"Every {col} matches a {parent}.{parent_col} (NULLs ignored).", where
        ),
        failing_sql,
        thresholds(name, severity, warn_if, error_if),
        blocking,
        sample_size,
        total_sql=f"SELECT count(*) FROM {source}",
        details=details,
        details_first=True,
        additional_deps=(parent,),
    )


def expression(
    asset: AssetRef,
    predicate: str,
    *,
    name: str | None = None,
    severity: Severity | str | None = None,
    warn_if: str | None = None,
    error_if: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
    where: str | None = None,
) -> CheckDef:
    """Rows for which the SQL `predicate` is false or NULL; there must be none.

    Stricter than dbt's `not (expr)`: a NULL verdict fails, so `amount >= 0` also catches a NULL
    amount. Write `amount IS NULL OR amount >= 0` to allow NULLs.
    """
    if not isinstance(predicate, str) or not predicate.strip():
        raise DefinitionError(
            [f"check '{name or 'expression'}': predicate must be SQL text such as 'amount >= 0'"]
        )
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", predicate).strip("_").lower()[:40]
    name = name or f"expression_{slug or 'predicate'}"
    table = _asset_name(asset)
    where, source = filtered(table, where, name)
    return counting_check(
        table,
        name,
        described(description, f"Every row satisfies: {predicate.strip()}", where),
        f"SELECT * FROM {source} WHERE (\n{predicate.strip()}\n) IS NOT TRUE",
        thresholds(name, severity, warn_if, error_if),
        blocking,
        sample_size,
        total_sql=f"SELECT count(*) FROM {source}",
    )


def row_count(
    asset: AssetRef,
    min: int | None = None,  # shadows the builtin on purpose: the names users expect
    max: int | None = None,
    *,
    name: str | None = None,
    severity: Severity | str = "error",
    blocking: bool = False,
    description: str | None = None,
    where: str | None = None,
) -> CheckDef:
    """The number of rows (with `where`, of rows matching it) lies within [min, max]; there are
    no failing rows to sample."""
    table, name = _asset_name(asset), name or "row_count"
    where, source = filtered(table, where, name)
    bounds = {"min": min, "max": max}
    bad = [k for k, v in bounds.items() if v is not None and (type(v) is not int or v < 0)]
    reversed_bounds = min is not None and max is not None and min > max
    if bad or (min is None and max is None) or reversed_bounds:
        raise DefinitionError(
            [f"check '{name}': row_count needs min and/or max as whole numbers >= 0 with"
             f" min <= max; got min={min!r}, max={max!r}"]
        )  # fmt: skip
    if max is None:
        expected = f">= {min}"
    elif min is None:
        expected = f"<= {max}"
    else:
        expected = f"between {min} and {max}"

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        count = scalar(con, f"SELECT count(*) FROM {source}")
        passed = (min is None or count >= min) and (max is None or count <= max)
        return CheckResult(
            passed, {"row_count": count}, observed_value=count, threshold=f"row count {expected}"
        )

    return asset_check(
        run,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=described(description, f"The row count is {expected}.", where),
    )


_TEMPORAL = (
    "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
)  # fmt: skip


def freshness(
    asset: AssetRef,
    column: str,
    max_age: timedelta,
    *,
    timezone: str = "UTC",
    name: str | None = None,
    severity: Severity | str = "error",
    blocking: bool = False,
    description: str | None = None,
    sample_size: int | None = None,
) -> CheckDef:
    """The newest value of `column` is at most `max_age` old.

    TIMESTAMPTZ values are instants. A DATE or TIMESTAMP has no zone: it is read as wall-clock
    time in `timezone` (UTC by default, the convention of this project), a DATE as its midnight.
    Observed value: the age in seconds. Failing rows: the newest rows, which are too old.
    """
    table, col = _asset_name(asset), _column_list(column, "freshness", asset)[0]
    name = name or f"{col}_freshness"
    if not isinstance(max_age, timedelta) or max_age <= timedelta(0):
        raise DefinitionError(
            [f"check '{name}': max_age={max_age!r} must be a positive datetime.timedelta,"
             " e.g. timedelta(hours=6)"]
        )  # fmt: skip
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DefinitionError(
            [f"check '{name}': timezone={timezone!r} is not a known time zone; use an IANA name"
             " such as 'UTC' or 'Europe/Berlin'"]
        ) from None  # fmt: skip
    target, quoted = quote_ident(table), quote_ident(col)
    failing_sql = f"SELECT * FROM {target} WHERE {quoted} = (SELECT max({quoted}) FROM {target})"

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        types = _column_types(con, table) or {}
        if col not in types:
            raise PipelineError(
                f"check '{table}.{name}': '{table}' has no column '{col}'.{suggest(col, types)}"
            )
        column_type = types[col]
        if column_type not in _TEMPORAL:
            raise PipelineError(
                f"check '{table}.{name}': column '{col}' is {column_type}; freshness needs a"
                " DATE, TIMESTAMP or TIMESTAMPTZ column"
            )
        if column_type.endswith("TIME ZONE"):
            instant, params = f"max({quoted})", {}  # an instant: the session's zone is irrelevant
        else:  # wall-clock time in `timezone`
            instant, params = f"timezone($zone, max({quoted})::TIMESTAMP)", {"zone": timezone}
        epoch, shown = one_row(
            con, f"SELECT epoch({instant}), max({quoted})::VARCHAR FROM {target}", params
        )
        limit = f"age <= {_duration(max_age.total_seconds())}"
        if epoch is None:
            return CheckResult(False, {"reason": f"'{col}' has no non-NULL value"}, threshold=limit)
        age = time.time() - epoch
        metadata = {"age": _duration(age), "max_age_s": max_age.total_seconds()}
        if sample_size != 0:  # the newest value is data: kept out when samples are off
            metadata["newest"] = shown
        return CheckResult(
            age <= max_age.total_seconds(),
            metadata,
            failing_rows_sql=failing_sql,
            observed_value=round(age, 1),
            threshold=limit,
        )

    return asset_check(
        run,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=description or f"The newest {col} is at most {_duration(max_age)} old.",
        sample_size=sample_size,
    )


def column_schema(
    asset: AssetRef,
    *,
    name: str | None = None,
    severity: Severity | str = "warn",
    blocking: bool = False,
    description: str | None = None,
) -> CheckDef:
    """Columns added, removed or retyped since the previous materialization.

    The baseline is the columns of the asset's build before the one being checked;
    the first materialization passes. Run again without rebuilding, it gives the same verdict.
    Failing rows: one per changed column.
    """
    table, name = _asset_name(asset), name or "column_schema"

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        current = _column_types(con, table)
        if current is None:
            raise PipelineError(f"check '{table}.{name}': '{table}' does not exist")
        baseline = _previous_build(con, table)
        if baseline is None:
            return CheckResult(
                True,
                {"baseline": "none: first materialization", "columns": len(current)},
                observed_value=0,
                threshold="0 changed columns",
            )
        before = dict(baseline.columns)
        changes: list[tuple[str, str, str | None, str | None]] = [
            (c, "added", None, t) for c, t in current.items() if c not in before
        ]
        changes += [(c, "removed", t, None) for c, t in before.items() if c not in current]
        changes += [
            (c, "retyped", t, current[c])
            for c, t in before.items()
            if c in current and t != current[c]
        ]
        metadata = {
            "baseline_run_id": baseline.run_id,
            **{kind: [c for c, k, *_ in changes if k == kind] for kind in ("added", "removed")},
            "retyped": {c: f"{old} -> {new}" for c, k, old, new in changes if k == "retyped"},
        }
        return CheckResult(
            not changes,
            metadata,
            failing_rows_sql=(
                "SELECT unnest($column) AS column_name, unnest($change) AS change,"
                " unnest($previous_type) AS previous_type, unnest($current_type) AS current_type"
            ),
            observed_value=len(changes),
            threshold="0 changed columns",
            failing_rows_params={
                key: [str(change[i]) if change[i] else None for change in changes]
                for i, key in enumerate(("column", "change", "previous_type", "current_type"))
            },
        )

    return asset_check(
        run,
        asset=table,
        name=name,
        severity=severity,
        blocking=blocking,
        description=description
        or f"No column of {table} was added, removed or retyped since its previous build.",
    )


def _previous_build(con: duckdb.DuckDBPyConnection, table: str) -> ledger.CatalogEntry | None:
    """The build before the one that made the table being checked, from the warehouse's ledger
    (which commits with each table, so the newest row always made the table checked)."""
    return ledger.previous(con, table)


_FAILING_VALUES = 20  # distinct failing values accepted_values lists in its metadata
