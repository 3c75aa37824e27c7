"""The bare floor: the sales pipeline's SQL and nothing else: the cost of the work itself.

Usage: ``python bench/bare_duckdb.py CSV_DIR DB_FILE``

On one connection, autocommit, in the engine's order (sorted dependency levels; each level's
checks once the level is built):
- the three typed ``read_csv`` loads and the join, as ``CREATE OR REPLACE TABLE ... AS``;
- every statement of every check in bench/plain_checks.json (recorded from the example's own
  checks by ``python -m bench.check_sql --write``), and for a check that finds failing rows
  its 20-row sample (their count is the check's own result); the one statement that reads the
  engine's ledger (``assetboard.builds``, which a bare script does not have) is left out, as a
  real check does when the catalog query before it finds no ledger;
- per table the row count, ``DESCRIBE`` and the 10-row preview.

No run history, no ledger, no transactions, no run lock, no catalog snapshots, no CSV header
checks in Python. bench/plain_duckdb.py is the other floor: the same work plus the engine's
history and ledger writes. Both are reported, so the engine's overhead can be split into what
its bookkeeping costs when written plainly and what the engine adds on top.

It imports only duckdb and the standard library; tests/bench/test_bench_smoke.py pins its SQL
to the example's and checks it builds the same tables with the same check outcomes.
"""

from __future__ import annotations

import json
import sys
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

LEVELS = (("products", "sales_data", "sales_reps"), ("joined_data",))
TABLES = tuple(name for level in LEVELS for name in level)
CHECKS_FILE = Path(__file__).resolve().with_name("plain_checks.json")
PREVIEW_ROWS = 10
FAILING_SAMPLE = 20
LEDGER = "assetboard."  # statements reading the engine's ledger: not part of the bare work


def load_checks() -> dict[str, dict[str, Any]]:
    return json.loads(CHECKS_FILE.read_text(encoding="utf-8"))


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
    columns = con.execute(f'DESCRIBE "{name}"').fetchall()
    preview = con.execute(f'SELECT * FROM "{name}" LIMIT ?', [PREVIEW_ROWS]).fetchall()
    return row_count, columns, preview


def check(con: duckdb.DuckDBPyConnection, spec: dict[str, Any]) -> bool:
    """Run a check's statements; on failing rows, their count and a sample. True if passed."""
    failing_sql, params = spec["failing_rows"] or (None, None)
    query = failing_sql.strip().rstrip(";") if failing_sql else None
    observed = None
    for sql, statement_params in spec["statements"]:
        if LEDGER in sql:
            continue
        cursor = con.execute(sql, statement_params) if statement_params else con.execute(sql)
        rows = cursor.fetchall()
        if sql == f"SELECT count(*) FROM ({query})":
            observed = rows[0][0]
    if not observed:
        return True
    # The failing rows are counted once, by the check's own statement (the engine of the branch
    # point counted them a second time: that is the engine's cost, not the work's).
    sample_params = {**(params or {}), "assetboard_sample_size": FAILING_SAMPLE}
    con.execute(f"SELECT * FROM ({query}) LIMIT $assetboard_sample_size", sample_params)
    con.fetchall()
    return False


def run(csv_dir: Path, db: Path) -> int:
    """Build the four tables and run every check; returns how many found failing rows."""
    checks = load_checks()
    failed = 0
    with duckdb.connect(str(db)) as con:
        for level in LEVELS:
            for name in level:
                build(con, name, csv_dir)
                describe(con, name)
            for name in level:  # after the level: a check may read its neighbours
                for key in sorted(k for k in checks if k.split(".", 1)[0] == name):
                    failed += not check(con, checks[key])
    return failed


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python bench/bare_duckdb.py CSV_DIR DB_FILE", file=sys.stderr)
        return 2
    failed = run(Path(argv[0]), Path(argv[1]))
    print(f"bare run: {len(TABLES)} tables, {len(load_checks())} checks, {failed} failing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
