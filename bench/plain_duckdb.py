"""The floor: the sales pipeline's work written as a plain DuckDB script, no engine.

Usage: ``python bench/plain_duckdb.py CSV_DIR DB_FILE``

It does what ``python -m pipeline materialize`` does for pipeline/examples/sales.py, in the
engine's order (sorted dependency levels; each level's checks once the level is built), serially
on one connection:
- the three typed ``read_csv`` loads and the join, as ``CREATE OR REPLACE TABLE ... AS``;
- every statement each check runs (bench/plain_checks.json, recorded from the example's own
  checks by ``python -m bench.check_sql --write``), and when a check finds failing rows the
  engine's failing-row count and 20-row sample;
- per asset the row count, ``DESCRIBE`` and 10-row preview the engine records, and its ledger
  row in ``assetboard.builds`` (a check, column_schema, reads it);
- per table the column profile the engine records after the build (pipeline/profiles.py): the
  same aggregate query, and the same top-values query for columns with few distinct values;
- the same history writes into the same SQLite layout beside the database (run start and
  finish, queued / running / final events, one transaction per asset's checks).
It does not: take the run lock, wrap each asset in BEGIN/COMMIT, snapshot the catalog before and
after building an asset, validate CSV headers in Python, build independent assets in threads,
judge thresholds (a check fails when it counted failing rows, as the example's counting checks
do), or skip downstream assets. Those are what the engine adds.

It imports only duckdb and the standard library: tests/bench/test_bench_smoke.py fails when the
SQL here drifts from the example's.
"""

from __future__ import annotations

import json
import os
import sqlite3
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

# pipeline/store.py's history layout (SQLite) and pipeline/ledger.py's ledger (DuckDB).
HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, selection TEXT,
    status TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, pid INTEGER,
    launched_by TEXT, planned TEXT NOT NULL DEFAULT '[]', message TEXT,
    assets_materialized INTEGER NOT NULL DEFAULT 0, assets_failed INTEGER NOT NULL DEFAULT 0,
    assets_skipped INTEGER NOT NULL DEFAULT 0, assets_not_built INTEGER NOT NULL DEFAULT 0,
    checks_planned INTEGER NOT NULL DEFAULT 0, checks_passed INTEGER NOT NULL DEFAULT 0,
    checks_warned INTEGER NOT NULL DEFAULT 0, checks_failed INTEGER NOT NULL DEFAULT 0,
    checks_errored INTEGER NOT NULL DEFAULT 0, checks_not_run INTEGER NOT NULL DEFAULT 0,
    cancel_requested_at TEXT, cancel_requested_by TEXT);
CREATE TABLE IF NOT EXISTS asset_events (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, status TEXT NOT NULL, kind TEXT,
    started_at TEXT, ended_at TEXT, duration_s REAL, row_count INTEGER,
    columns TEXT, preview TEXT, code_version TEXT, error TEXT,
    skip_reason TEXT, upstream TEXT, blocked_by TEXT,
    PRIMARY KEY (run_id, asset));
CREATE INDEX IF NOT EXISTS asset_events_by_asset ON asset_events (asset, run_id);
CREATE TABLE IF NOT EXISTS check_results (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, check_name TEXT NOT NULL,
    outcome TEXT NOT NULL, severity TEXT, blocking INTEGER, description TEXT,
    started_at TEXT, duration_s REAL, observed_value REAL, threshold TEXT,
    failing_count INTEGER, failing_sample TEXT, metadata TEXT, sql TEXT, error TEXT,
    skip_reason TEXT,
    PRIMARY KEY (run_id, asset, check_name));
CREATE INDEX IF NOT EXISTS check_results_by_check ON check_results (asset, check_name, run_id);
CREATE TABLE IF NOT EXISTS catalog (
    asset TEXT PRIMARY KEY, run_id INTEGER, kind TEXT, row_count INTEGER, columns TEXT,
    preview TEXT, code_version TEXT, committed_at TEXT);
CREATE TABLE IF NOT EXISTS partition_events (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, partition_key TEXT NOT NULL,
    status TEXT NOT NULL, started_at TEXT, ended_at TEXT, duration_s REAL, row_count INTEGER,
    error TEXT, skip_reason TEXT, upstream TEXT, blocked_by TEXT,
    PRIMARY KEY (run_id, asset, partition_key));
CREATE INDEX IF NOT EXISTS partition_events_by_key
    ON partition_events (asset, partition_key, run_id);
CREATE TABLE IF NOT EXISTS partition_checks (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, check_name TEXT NOT NULL,
    partition_key TEXT NOT NULL, outcome TEXT NOT NULL, severity TEXT, observed_value REAL,
    failing_count INTEGER, error TEXT, skip_reason TEXT,
    PRIMARY KEY (run_id, asset, check_name, partition_key));
CREATE INDEX IF NOT EXISTS partition_checks_by_key
    ON partition_checks (asset, partition_key, run_id);
CREATE TABLE IF NOT EXISTS partition_catalog (
    asset TEXT NOT NULL, partition_key TEXT NOT NULL, run_id INTEGER, row_count INTEGER,
    committed_at TEXT, PRIMARY KEY (asset, partition_key));
CREATE TABLE IF NOT EXISTS backfills (
    backfill_id INTEGER PRIMARY KEY AUTOINCREMENT, assets TEXT NOT NULL,
    partition_keys TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    ended_at TEXT, launched_by TEXT, run_ids TEXT NOT NULL DEFAULT '[]', message TEXT);
CREATE TABLE IF NOT EXISTS profiles (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, row_count INTEGER, duration_s REAL,
    raw_values INTEGER NOT NULL DEFAULT 1, error TEXT, PRIMARY KEY (run_id, asset));
CREATE INDEX IF NOT EXISTS profiles_by_asset ON profiles (asset, run_id);
CREATE TABLE IF NOT EXISTS profile_columns (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, position INTEGER NOT NULL,
    column_name TEXT NOT NULL, column_type TEXT NOT NULL, figures TEXT NOT NULL,
    PRIMARY KEY (run_id, asset, position));
CREATE TABLE IF NOT EXISTS automation_state (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, enabled INTEGER, cursor TEXT,
    evaluated_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS ticks (
    tick_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, kind TEXT NOT NULL,
    evaluated_at TEXT NOT NULL, scheduled_for TEXT, status TEXT NOT NULL, reason TEXT,
    run_ids TEXT NOT NULL DEFAULT '[]', files TEXT NOT NULL DEFAULT '[]',
    rejected TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS ticks_by_name ON ticks (name, tick_id);
CREATE TABLE IF NOT EXISTS run_requests (
    name TEXT NOT NULL, run_key TEXT NOT NULL, tick_id INTEGER NOT NULL, run_id INTEGER,
    launched_by TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (name, run_key));
CREATE TABLE IF NOT EXISTS check_versions (
    run_id INTEGER NOT NULL, asset TEXT NOT NULL, check_name TEXT NOT NULL,
    code_version TEXT NOT NULL, PRIMARY KEY (run_id, asset, check_name));
CREATE TABLE IF NOT EXISTS daemon (
    id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, host TEXT, started_at TEXT,
    last_seen TEXT, interval_s REAL, stopped_at TEXT);
"""
LEDGER_DDL = """
CREATE SCHEMA IF NOT EXISTS assetboard;
CREATE SEQUENCE IF NOT EXISTS assetboard.build_ids START 1;
CREATE TABLE IF NOT EXISTS assetboard.builds (
    build_id BIGINT, asset VARCHAR, run_id BIGINT, kind VARCHAR, row_count BIGINT,
    columns VARCHAR, preview VARCHAR, code_version VARCHAR, committed_at TIMESTAMP,
    partition_key VARCHAR);
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
    (row_count,) = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0]
    columns = [[row[0], row[1]] for row in con.execute(f'DESCRIBE "{name}"').fetchall()]
    con.execute(f'SELECT * FROM "{name}" LIMIT ?', [PREVIEW_ROWS])
    preview = [
        {column[0]: _text(value) for column, value in zip(columns, row, strict=True)}
        for row in con.fetchall()
    ]
    return row_count, columns, preview


NUMBERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE"}
EXACT_DISTINCT_UP_TO, TOP_WHEN_AT_MOST, TOP_VALUES = 100_000, 20, 5


def profile(
    con: duckdb.DuckDBPyConnection, name: str, columns: list, row_count: int
) -> list[dict[str, Any]]:
    """The figures pipeline/profiles.py records, per column, in its two queries."""
    parts: list[tuple[int, str, str]] = []
    for i, (column, kind) in enumerate(columns):
        q = '"' + column.replace('"', '""') + '"'
        exact = row_count <= EXACT_DISTINCT_UP_TO
        parts += [(i, "non_null", f"count({q})")]
        distinct = f"count(DISTINCT {q})" if exact else f"approx_count_distinct({q})"
        parts += [(i, "distinct", distinct)]
        number = kind in NUMBERS or kind.startswith("DECIMAL")
        if number or kind in ("DATE", "TIMESTAMP"):
            parts += [(i, "min", f"min({q})"), (i, "max", f"max({q})")]
        if number:
            parts += [(i, "mean", f"avg({q})"), (i, "stddev", f"stddev_samp({q})")]
            parts += [(i, "quartiles", f"approx_quantile({q}, [0.25, 0.5, 0.75])")]
        if kind == "VARCHAR":
            parts += [(i, f"{f}_length", f"{f}(length({q}))") for f in ("min", "max", "avg")]
    (row,) = con.execute(f'SELECT {", ".join(p[2] for p in parts)} FROM "{name}"').fetchall()
    figures: list[dict[str, Any]] = [{} for _ in columns]
    for (i, figure, _), value in zip(parts, row, strict=True):
        figures[i][figure] = _text(value)
    few = [i for i, f in enumerate(figures) if 0 < f["distinct"] <= TOP_WHEN_AT_MOST]
    if few:
        tops = ", ".join(f'map_entries(histogram("{columns[i][0]}"))' for i in few)
        (row,) = con.execute(f'SELECT {tops} FROM "{name}"').fetchall()
        for i, entries in zip(few, row, strict=True):
            ranked = sorted(entries, key=lambda e: (-e["value"], str(e["key"])))[:TOP_VALUES]
            figures[i]["top"] = [[_text(e["key"]), e["value"]] for e in ranked]
    return figures


def record_profile(
    history: sqlite3.Connection,
    run_id: int,
    name: str,
    columns: list,
    row_count: int,
    figures: list[dict[str, Any]],
    duration: float,
) -> None:
    with history:
        history.execute(
            "INSERT OR REPLACE INTO profiles VALUES (?, ?, ?, ?, 1, NULL)",
            [run_id, name, row_count, duration],
        )
        history.executemany(
            "INSERT OR REPLACE INTO profile_columns VALUES (?, ?, ?, ?, ?, ?)",
            [
                [run_id, name, i, column, kind, json.dumps(f, default=str)]
                for i, ((column, kind), f) in enumerate(zip(columns, figures, strict=True))
            ],
        )


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
        result["failing_count"] = observed  # counted once, as the engine now does
        params = {**(params or {}), "assetboard_sample_size": FAILING_SAMPLE}
        con.execute(f"SELECT * FROM ({query}) LIMIT $assetboard_sample_size", params)
        names = [d[0] for d in con.description]
        result["sample"] = [dict(zip(names, map(_text, r), strict=True)) for r in con.fetchall()]
    return result


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(sep=" ")


def record_event(
    history: sqlite3.Connection, run_id: int, asset: str, status: str, **values: Any
) -> None:
    with history:
        history.execute(
            f"INSERT OR REPLACE INTO asset_events VALUES ({', '.join('?' * 15)})",
            [
                *(run_id, asset, status, "table", _stamp(values.get("started_at"))),
                *(_stamp(values.get("ended_at")), values.get("duration_s")),
                *(values.get("row_count"), json.dumps(values.get("columns", []))),
                *(json.dumps(values.get("preview", []), default=str), None, None),
                *(None, None, None),
            ],
        )
        if status == "materialized":
            history.execute(
                "INSERT OR REPLACE INTO catalog VALUES (?, ?, 'table', ?, ?, ?, NULL, ?)",
                [
                    *(asset, run_id, values["row_count"], json.dumps(values["columns"])),
                    *(json.dumps(values["preview"], default=str), _stamp(values["ended_at"])),
                ],
            )


def materialize_one(
    con: duckdb.DuckDBPyConnection,
    history: sqlite3.Connection,
    run_id: int,
    name: str,
    csv_dir: Path,
) -> None:
    started_at = _now()
    record_event(history, run_id, name, "running", started_at=started_at)
    started = time.perf_counter()
    build(con, name, csv_dir)
    duration = time.perf_counter() - started
    row_count, columns, preview = describe(con, name)
    ended_at = _now()
    con.execute(
        "INSERT INTO assetboard.builds VALUES (nextval('assetboard.build_ids'), ?, ?, 'table',"
        " ?, ?, ?, NULL, ?, NULL)",
        [name, run_id, row_count, json.dumps(columns), json.dumps(preview, default=str), ended_at],
    )
    record_event(
        history,
        run_id,
        name,
        "materialized",
        started_at=started_at,
        ended_at=ended_at,
        duration_s=duration,
        row_count=row_count,
        columns=columns,
        preview=preview,
    )
    started = time.perf_counter()
    figures = profile(con, name, columns, row_count)
    record_profile(
        history, run_id, name, columns, row_count, figures, time.perf_counter() - started
    )


def check_one(
    con: duckdb.DuckDBPyConnection,
    history: sqlite3.Connection,
    run_id: int,
    name: str,
    checks: dict[str, Any],
) -> int:
    """Run and record the checks of asset `name`; returns how many found failing rows."""
    failed, rows = 0, []
    for key in sorted(k for k in checks if k.split(".", 1)[0] == name):
        check_started, started = _now(), time.perf_counter()
        result = check(con, checks[key])
        failed += not result["passed"]
        outcome = "passed" if result["passed"] else "failed"
        sample = json.dumps(result.get("sample", []), default=str)
        rows.append(
            [
                *(run_id, name, key.split(".", 1)[1], outcome, "error", 0, None),
                *(_stamp(check_started), time.perf_counter() - started, result["observed"]),
                *(None, result.get("failing_count"), sample, "{}", None, None, None),
            ]
        )
    versions = [(row[0], row[1], row[2], "v") for row in rows]  # as the engine keeps them
    with history:
        history.executemany(f"INSERT INTO check_results VALUES ({', '.join('?' * 17)})", rows)
        history.executemany("INSERT INTO check_versions VALUES (?, ?, ?, ?)", versions)
    return failed


def history_path(db: Path) -> Path:
    return Path(f"{db}.history.sqlite")


def run(csv_dir: Path, db: Path) -> int:
    """Materialize the four tables and run every check; returns how many found failing rows."""
    checks = load_checks()
    failed = 0
    history = sqlite3.connect(history_path(db))
    try:
        history.execute("PRAGMA journal_mode = WAL")
        history.execute("PRAGMA synchronous = NORMAL")
        with history:
            history.executescript(HISTORY_DDL)
            history.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '4')")
        with duckdb.connect(str(db)) as con, history:
            con.execute(LEDGER_DDL)
            run_id = int(
                history.execute(
                    "INSERT INTO runs (kind, status, started_at, pid, planned) VALUES"
                    " ('materialize', 'running', ?, ?, ?)",
                    [_stamp(_now()), os.getpid(), json.dumps(list(TABLES))],
                ).lastrowid
                or 0
            )
            history.executemany(
                "INSERT INTO asset_events (run_id, asset, status, kind) VALUES (?, ?, ?, ?)",
                [(run_id, name, "queued", "table") for name in TABLES],
            )
        with duckdb.connect(str(db)) as con:
            for level in LEVELS:
                for name in level:
                    materialize_one(con, history, run_id, name, csv_dir)
                for name in level:  # after the level: a check may read its neighbours
                    failed += check_one(con, history, run_id, name, checks)
        with history:
            history.execute(
                "UPDATE runs SET status = ?, ended_at = ?, assets_materialized = ?,"
                " checks_passed = ?, checks_failed = ? WHERE run_id = ?",
                ["success", _stamp(_now()), len(TABLES), len(checks) - failed, failed, run_id],
            )
    finally:
        history.close()
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
