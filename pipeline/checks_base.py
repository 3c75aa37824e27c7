"""What the built-in check factories share: names, column lists, `where=` filters, SQL parsed
at definition time, and the check that counts failing rows and judges them by thresholds."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import duckdb

from pipeline.definitions import AssetDef, CheckDef, CheckResult, asset_check
from pipeline.errors import DefinitionError
from pipeline.thresholds import Thresholds
from pipeline.warehouse import quote_ident, scalar

AssetRef = str | AssetDef
Columns = str | Sequence[str]
Details = Callable[[duckdb.DuckDBPyConnection], dict[str, Any]]

# The table name SQL fragments are parsed against at definition time: no asset is called this.
_PROBE = "assetboard_probe_table"


def counting_check(
    table: str,
    name: str,
    description: str,
    failing_sql: str,
    rules: Thresholds,
    blocking: bool,
    sample_size: int | None,
    *,
    total_sql: str | None = None,
    params: Mapping[str, Any] | None = None,
    details: Details | None = None,
    details_first: bool = False,
    failing_details: Details | None = None,
    additional_deps: tuple[str, ...] = (),
) -> CheckDef:
    """A check that counts the rows of `failing_sql` and judges the count by `rules`.

    `total_sql` counts the rows a share (`'>1%'`) is taken of (default: every row of the asset);
    `failing_details` adds metadata only when some rows fail.
    """
    total_query = total_sql or f"SELECT count(*) FROM {quote_ident(table)}"

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        extra = details(con) if details and details_first else {}
        failing = scalar(con, f"SELECT count(*) FROM ({failing_sql})", params or {})
        total = scalar(con, total_query)
        if details and not details_first:
            extra = details(con)
        if failing_details and failing:
            extra = {**extra, **failing_details(con)}
        verdict = rules.evaluate(failing, total)
        share = round(100.0 * failing / total, 4) if total else 0.0
        return CheckResult(
            passed=verdict is None,
            metadata={"failing_rows": failing, "total_rows": total, "failing_pct": share, **extra},
            failing_rows_sql=failing_sql,
            observed_value=failing,
            threshold=str(rules),
            severity=verdict,
            failing_rows_params=dict(params) if params else None,
            failing_count=failing,
        )

    return asset_check(
        run,
        asset=table,
        name=name,
        severity=rules.severity,
        blocking=blocking,
        description=description,
        sample_size=sample_size,
        additional_deps=additional_deps,
    )


def filtered(table: str, where: object, check: str) -> tuple[str | None, str]:
    """(the checked `where=`, the relation the check reads: the asset or its matching rows)."""
    condition = checked_where(where, check)
    return condition, rows_of(table, condition)


def described(description: str | None, default: str, where: str | None) -> str:
    """The user's description, or the default one naming the `where=` filter."""
    if description:
        return description
    return default if where is None else f"{default} Only rows where {where}."


def rows_of(table: str, where: str | None) -> str:
    """The relation a row-level check reads: the asset, or only its rows matching `where`.

    The condition sits on lines of its own, so a trailing `-- comment` ends with it.
    """
    if where is None:
        return quote_ident(table)
    return f"(SELECT * FROM {quote_ident(table)} WHERE (\n{where.strip()}\n))"


def checked_where(where: object, check: str) -> str | None:
    """A `where=` filter (dbt's `where` config): None, or one SQL condition on the asset's rows,
    parsed now so a typo is a DefinitionError at import."""
    if where is None:
        return None
    example = "e.g. where=\"order_date >= DATE '2024-01-01'\""
    if not isinstance(where, str) or not where.strip():
        raise DefinitionError(
            [f"check '{check}': where={where!r} must be a SQL condition on the asset's rows,"
             f" {example}"]
        )  # fmt: skip
    tree = parse_select(f"SELECT * FROM {_PROBE} WHERE (\n{where.strip()}\n)", check, "where")
    if tree.get("where_clause") is None or _shape_problem(tree, "*", where=True):
        raise DefinitionError(
            [f"check '{check}': where={where!r} is not a single SQL condition; write one,"
             f" {example}"]
        )  # fmt: skip
    return where.strip()


def parse_select(sql: str, check: str, option: str) -> dict[str, Any]:
    """The parse tree of a single SELECT, or a DefinitionError with DuckDB's own message."""
    if ";" in sql:
        raise DefinitionError(
            [f"check '{check}': {option} contains ';': give one SQL expression, not statements"]
        )
    parsed = json.loads(_serialized(sql))
    if parsed.get("error") or len(parsed.get("statements", [])) != 1:
        reason = parsed.get("error_message", "not a single SELECT")
        raise DefinitionError([f"check '{check}': {option} is not valid SQL here: {reason}"])
    node: dict[str, Any] = parsed["statements"][0]["node"]
    return node


def _shape_problem(node: dict[str, Any], select_list: str, where: bool = False) -> bool:
    """Whether a parsed `SELECT ... FROM probe [WHERE ...]` has grown anything else (a GROUP BY,
    a CTE, another table...): the text given broke out of its slot."""
    table = node.get("from_table") or {}
    extras = (
        node.get("group_expressions"),
        node.get("having"),
        node.get("qualify"),
        node.get("modifiers"),
        (node.get("cte_map") or {}).get("map"),
        None if where else node.get("where_clause"),
    )
    star = select_list == "*" and [e.get("class") for e in node.get("select_list", [])] != ["STAR"]
    return (
        node.get("type") != "SELECT_NODE"
        or table.get("type") != "BASE_TABLE"
        or table.get("table_name") != _PROBE
        or any(extras)
        or star
    )


def checked_aggregate(expression: object, name: str | None, prefix: str) -> tuple[str, str]:
    """(the check's name, the expression) for a factory taking one aggregate SQL expression:
    the name defaults to `prefix` and the expression's words; anything but a single aggregate
    is a DefinitionError now."""
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", expression if isinstance(expression, str) else "")
    name = name or f"{prefix}_{slug.strip('_').lower()[:40] or 'value'}"
    if not isinstance(expression, str) or not expression.strip():
        raise DefinitionError(
            [f"check '{name}': expression={expression!r} must be an aggregate SQL expression"
             " such as 'avg(amount)'"]
        )  # fmt: skip
    expression = expression.strip()
    if why := aggregate_problem(expression, name):
        raise DefinitionError(
            [f"check '{name}': expression={expression!r} is not a single aggregate: {why}"]
        )
    return name, expression


def aggregate_problem(expression: str, check: str) -> str | None:
    """Why `expression` is not one aggregate over the asset's rows (None when it is): one
    expression, no subquery or window, every column inside an aggregate function."""
    node = parse_select(f"SELECT\n{expression}\nFROM {_PROBE}", check, "expression")
    if _shape_problem(node, "one") or len(node.get("select_list", [])) != 1:
        return "it must be one expression, such as 'avg(amount)', without FROM, WHERE or commas"
    found_aggregate = False
    for kind, node_name, inside in _walk(node["select_list"][0], inside=False):
        if kind == "SUBQUERY":
            return "it contains a SELECT; a metric reads only its own asset's rows"
        if kind == "WINDOW":
            return f"{node_name}() OVER (...) is a window function, not an aggregate"
        if kind == "FUNCTION" and node_name in _aggregates():
            found_aggregate = True
        if kind == "COLUMN_REF" and not inside:
            return f"column {node_name} is outside an aggregate; wrap it, e.g. avg({node_name})"
    if not found_aggregate:
        return "it has no aggregate function (avg, median, sum, count, quantile_cont, ...)"
    return None


def _walk(node: Any, inside: bool) -> Iterator[tuple[str, str, bool]]:
    """(class, function or column name, inside an aggregate) for each expression node."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, inside)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("class")
    if isinstance(kind, str):
        if kind == "COLUMN_REF":
            label = ".".join(node.get("column_names", []))
        else:
            label = str(node.get("function_name", "")).lower()
        yield kind, label, inside
        inside = inside or (kind == "FUNCTION" and label in _aggregates())
    for value in node.values():
        yield from _walk(value, inside)


@functools.cache
def _aggregates() -> frozenset[str]:
    with _PARSER_LOCK:
        rows = (
            _parser()
            .execute(
                "SELECT DISTINCT lower(function_name) FROM duckdb_functions()"
                " WHERE function_type = 'aggregate'"
            )
            .fetchall()
        )
    return frozenset(row[0] for row in rows) | {"count_star"}


@functools.lru_cache(maxsize=1024)
def _serialized(sql: str) -> str:
    """DuckDB's parse tree of `sql` as JSON; a factory making 2,000 checks with one `where`
    parses it once."""
    with _PARSER_LOCK:
        text: str = scalar(_parser(), "SELECT json_serialize_sql($sql)", {"sql": sql})
    return text


def sql_error(sql: str, params: Mapping[str, Any]) -> str | None:
    """DuckDB's message when `sql` (a constant query, e.g. compiling a regular expression) fails
    on the parser's connection, or None."""
    try:
        with _PARSER_LOCK:
            _parser().execute(sql, dict(params)).fetchall()
    except duckdb.Error as exc:
        return str(exc)
    return None


_PARSER_LOCK = threading.Lock()


@functools.cache
def _parser() -> duckdb.DuckDBPyConnection:
    """An in-memory connection holding no data, opened on first use (connecting costs ~20 ms,
    too much per check when a factory makes thousands) and used under _PARSER_LOCK."""
    return duckdb.connect(":memory:")


def asset_name(asset: AssetRef) -> str:
    if isinstance(asset, AssetDef):
        return asset.name
    if isinstance(asset, str) and asset:
        return asset
    raise DefinitionError([f"{asset!r} is not an asset: pass an asset name or an @asset"])


def column_list(columns: Columns, factory: str, asset: AssetRef) -> list[str]:
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols or not all(isinstance(c, str) and c for c in cols) or len(set(cols)) < len(cols):
        raise DefinitionError(
            [f"{factory} on '{asset_name(asset)}': columns={columns!r} must be a column name"
             " or a list of distinct names"]
        )  # fmt: skip
    return cols


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str] | None:
    """{column: DuckDB type} of a table or view in the main schema, None when it is absent."""
    rows = con.execute(  # duckdb_columns(): same answer, cheaper than information_schema
        "SELECT column_name, data_type FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?"
        " ORDER BY column_index",
        [table],
    ).fetchall()
    return dict(rows) if rows else None


def duration(value: timedelta | float) -> str:
    """3725 s -> '1h 2m 5s': short and exact enough for a threshold or an observed age."""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h")]
    parts += [(seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or "0s"
