"""The floor: the sales pipeline's work written as a plain DuckDB script, no engine.

Usage: ``python bench/plain_duckdb.py CSV_DIR DB_FILE``

It does what ``python -m pipeline materialize`` does for pipeline/examples/sales.py, in the
engine's order (sorted dependency levels; each level's checks once the level is built), serially
on one connection:
- the three typed ``read_csv`` loads and the join, as ``CREATE OR REPLACE TABLE ... AS``;
- every statement each check runs (bench/plain_checks.json, recorded from the example's own
  checks by ``python -m bench.check_sql --write``), and when a check finds failing rows the
  engine's failing-row count and 20-row sample;
- per asset the row count, ``DESCRIBE`` and 10-row preview the engine records;
- the same run-history statements into the same ``assetboard`` tables (schema DDL, run start and
  finish, a 'running' and a final event per asset, one row per check), since a check
  (column_schema) reads that history.
It does not: take the run lock, wrap each asset in BEGIN/COMMIT, look assets up in the catalog
before and after building them, validate CSV headers in Python, build independent assets in
threads, judge thresholds (a check fails when it counted failing rows, as the example's
counting checks do), or skip downstream assets. Those are what the engine adds.

It imports only duckdb and the standard library: tests/bench/test_bench_smoke.py fails when the
SQL here drifts from the example's.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

CSV_COLUMNS: dict[str, dict[str, str]] = {
    "products": {
        "product_id": "INTEGER",
        "product_name": "VARCHAR",
        "category": "VARCHAR",
        "price": "DECIMAL(18,2)",
    },
    "sales_reps": {
        "rep_id": "INTEGER",
        "rep_name": "VARCHAR",
        "department": "VARCHAR",
        "hire_date": "DATE",
    },
    "sales_data": {
        "date": "DATE",
        "rep_id": "INTEGER",
        "dollar_amount": "DECIMAL(18,2)",
        "customer_name": "VARCHAR",
        "product_id": "INTEGER",
        "quantity": "INTEGER",
    },
}

JOINED_SQL = """
SELECT
    sales_data.date, sales_data.dollar_amount, sales_data.customer_name, sales_data.quantity,
    sales_reps.rep_name, sales_reps.department, sales_reps.hire_date,
    products.product_name, products.category, products.price
FROM sales_data
LEFT JOIN sales_reps ON sales_reps.rep_id = sales_data.rep_id
LEFT JOIN products ON products.product_id = sales_data.product_id
"""

# The engine's plan for the example: topological levels, sorted within each level.
LEVELS = (("products", "sales_data", "sales_reps"), ("joined_data",))
TABLES = tuple(name for level in LEVELS for name in level)
CHECKS_FILE = Path(__file__).resolve().with_name("plain_checks.json")
PREVIEW_ROWS = 10
FAILING_SAMPLE = 20

# pipeline/store.py's layout, so the example's column_schema check finds its history.
HISTORY_DDL = """
CREATE SCHEMA IF NOT EXISTS assetboard;
CREATE TABLE IF NOT EXISTS assetboard.meta (key VARCHAR, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS assetboard.run_ids START 1;
CREATE TABLE IF NOT EXISTS assetboard.runs (
    run_id BIGINT, kind VARCHAR, selection VARCHAR, status VARCHAR,
    started_at TIMESTAMP, ended_at TIMESTAMP, pid INTEGER, planned VARCHAR, message VARCHAR,
    assets_materialized INTEGER, assets_failed INTEGER, assets_skipped INTEGER,
    checks_passed INTEGER, checks_warned INTEGER, checks_failed INTEGER);
CREATE TABLE IF NOT EXISTS assetboard.asset_events (
    run_id BIGINT, asset VARCHAR, status VARCHAR, kind VARCHAR,
    started_at TIMESTAMP, ended_at TIMESTAMP, duration_s DOUBLE, row_count BIGINT,
    columns VARCHAR, preview VARCHAR, code_version VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS assetboard.check_results (
    run_id BIGINT, asset VARCHAR, check_name VARCHAR, outcome VARCHAR, severity VARCHAR,
    blocking BOOLEAN, description VARCHAR, started_at TIMESTAMP, duration_s DOUBLE,
    observed_value DOUBLE, threshold VARCHAR, failing_count BIGINT, failing_sample VARCHAR,
    metadata VARCHAR, sql VARCHAR, error VARCHAR);
"""


def load_checks() -> dict[str, dict[str, Any]]:
    """{check key: {"statements": [[sql, params]...], "failing_rows": [sql, params] | null}}."""
    return json.loads(CHECKS_FILE.read_text(encoding="utf-8"))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    return con.execute(sql, params) if params else con.execute(sql)


def build(con: duckdb.DuckDBPyConnection, name: str, csv_dir: Path) -> None:
    if name in CSV_COLUMNS:
        con.execute(
            f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM read_csv($path, header = true,'
            " auto_detect = false, columns = $columns)",
            {"path": str(csv_dir / f"{name}.csv"), "columns": CSV_COLUMNS[name]},
        )
    else:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS {JOINED_SQL}')


def describe(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, list, list]:
    row_count = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    columns = [[row[0], row[1]] for row in con.execute(f'DESCRIBE "{name}"').fetchall()]
    con.execute(f'SELECT * FROM "{name}" LIMIT ?', [PREVIEW_ROWS])
    preview = [
        {column[0]: _text(value) for column, value in zip(columns, row, strict=True)}
        for row in con.fetchall()
    ]
    return row_count, columns, preview


def check(con: duckdb.DuckDBPyConnection, spec: dict[str, Any]) -> dict[str, Any]:
    """Run a check's statements; on failing rows, their count and a sample as the engine does."""
    failing_sql, params = spec["failing_rows"] or (None, None)
    query = failing_sql.strip().rstrip(";") if failing_sql else None
    observed = None
    for sql, statement_params in spec["statements"]:
        rows = _execute(con, sql, statement_params).fetchall()
        if sql == f"SELECT count(*) FROM ({query})":
            observed = rows[0][0]
    result: dict[str, Any] = {"passed": not observed, "observed": observed}
    if not result["passed"]:
        result["failing_count"] = _execute(con, f"SELECT count(*) FROM ({query})", params)
        result["failing_count"] = result["failing_count"].fetchone()[0]
        params = {**(params or {}), "assetboard_sample_size": FAILING_SAMPLE}
        con.execute(f"SELECT * FROM ({query}) LIMIT $assetboard_sample_size", params)
        names = [d[0] for d in con.description]
        result["sample"] = [dict(zip(names, map(_text, r), strict=True)) for r in con.fetchall()]
    return result


def record_event(
    con: duckdb.DuckDBPyConnection, run_id: int, asset: str, status: str, **values: Any
) -> None:
    con.execute(
        "DELETE FROM assetboard.asset_events WHERE run_id = ? AND asset = ?", [run_id, asset]
    )
    con.execute(
        f"INSERT INTO assetboard.asset_events VALUES ({', '.join('?' * 12)})",
        [
            run_id,
            asset,
            status,
            "table",
            values.get("started_at"),
            values.get("ended_at"),
            values.get("duration_s"),
            values.get("row_count"),
            json.dumps(values.get("columns", [])),
            json.dumps(values.get("preview", []), default=str),
            None,
            None,
        ],
    )


def materialize_one(con: duckdb.DuckDBPyConnection, run_id: int, name: str, csv_dir: Path) -> None:
    started_at = _now()
    record_event(con, run_id, name, "running", started_at=started_at)
    started = time.perf_counter()
    build(con, name, csv_dir)
    duration = time.perf_counter() - started
    row_count, columns, preview = describe(con, name)
    record_event(
        con,
        run_id,
        name,
        "materialized",
        started_at=started_at,
        ended_at=_now(),
        duration_s=duration,
        row_count=row_count,
        columns=columns,
        preview=preview,
    )


def check_one(
    con: duckdb.DuckDBPyConnection, run_id: int, name: str, checks: dict[str, Any]
) -> int:
    """Run and record the checks of asset `name`; returns how many found failing rows."""
    failed = 0
    for key in sorted(k for k in checks if k.split(".", 1)[0] == name):
        check_started, started = _now(), time.perf_counter()
        result = check(con, checks[key])
        failed += not result["passed"]
        outcome = "passed" if result["passed"] else "failed"
        sample = json.dumps(result.get("sample", []), default=str)
        con.execute(
            f"INSERT INTO assetboard.check_results VALUES ({', '.join('?' * 16)})",
            [
                *(run_id, name, key.split(".", 1)[1], outcome, "error", False, None),
                *(check_started, time.perf_counter() - started, result["observed"]),
                *(None, result.get("failing_count"), sample, "{}", None, None),
            ],
        )
    return failed


def run(csv_dir: Path, db: Path) -> int:
    """Materialize the four tables and run every check; returns how many found failing rows."""
    checks = load_checks()
    failed = 0
    with duckdb.connect(str(db)) as con:
        con.execute(HISTORY_DDL)
        if con.execute("SELECT value FROM assetboard.meta").fetchone() is None:
            con.execute("INSERT INTO assetboard.meta VALUES ('schema_version', '1')")
        con.execute("UPDATE assetboard.runs SET status = 'interrupted' WHERE status = 'running'")
        con.execute("UPDATE assetboard.asset_events SET status = 'failed' WHERE status = 'running'")
        run_id = con.execute("SELECT nextval('assetboard.run_ids')").fetchone()[0]
        con.execute(
            f"INSERT INTO assetboard.runs VALUES ({', '.join('?' * 15)})",
            [run_id, "materialize", None, "running", _now(), None, os.getpid(), "[]", None]
            + [0] * 6,
        )
        for level in LEVELS:
            for name in level:
                materialize_one(con, run_id, name, csv_dir)
            for name in level:  # after the level: a check may read its neighbours
                failed += check_one(con, run_id, name, checks)
        con.execute(
            "UPDATE assetboard.runs SET status = ?, ended_at = ?, assets_materialized = ?,"
            " checks_passed = ?, checks_failed = ? WHERE run_id = ?",
            ["success", _now(), len(TABLES), len(checks) - failed, failed, run_id],
        )
    return failed


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python bench/plain_duckdb.py CSV_DIR DB_FILE", file=sys.stderr)
        return 2
    failed = run(Path(argv[0]), Path(argv[1]))
    print(f"plain run: {len(TABLES)} tables, {len(load_checks())} checks, {failed} failing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
