"""The worked example: raw sales CSVs, a joined model, and the checks a sales team relies on.

The CSV folder comes from ASSETBOARD_SALES_DATA (default: the project's data/ sample), or call
`build_definitions(folder)` to point the same pipeline at other files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline import checks, csvfiles
from pipeline.automation import FileSensor, Schedule
from pipeline.definitions import (
    AssetContext,
    AssetDef,
    CheckDef,
    CheckResult,
    Definitions,
    asset,
    asset_check,
)
from pipeline.errors import AssetFailure
from pipeline.partitions import BackfillPolicy, MonthlyPartitions, StaticPartitions
from pipeline.warehouse import scalar

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"

# Explicit types: a lenient auto-detected read would turn a bad amount into text silently.
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

CATEGORIES = ("Electronics", "Books", "Home and Garden", "Clothing")
# The tutorial's next step: monthly figures from the first month of the data, and figures per
# product category. The sample data (datagen.SALES_START to SALES_END) spans these months.
MONTHS = MonthlyPartitions(start="2024-01-01", end="2026-01-01")
PRODUCT_CATEGORIES = StaticPartitions(list(CATEGORIES))
MISSING_DIMENSION_SQL = "SELECT * FROM joined_data WHERE rep_name IS NULL OR product_name IS NULL"


def load_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Replace `table` with the typed contents of `path`, with errors that name the file."""
    if not path.is_file():
        raise AssetFailure(
            f"{path} not found: put {path.name} in {path.parent}"
            " (python -m pipeline.datagen --out DIR writes sample files)"
        )
    csvfiles.load_csv(con, table, path, CSV_COLUMNS[table])


def build_definitions(data_dir: str | Path = DEFAULT_DATA_DIR) -> Definitions:
    """The sales pipeline reading its three CSVs from `data_dir`.

    The loads close over the folder as an absolute path, so their code version changes when
    the pipeline is pointed at other files (`data` from another working directory included)
    and the assets read from them go stale."""
    folder = Path(data_dir).resolve()

    def raw_table(table: str, description: str) -> AssetDef:
        def load(con: duckdb.DuckDBPyConnection) -> None:
            load_csv(con, table, folder / f"{table}.csv")

        return asset(
            load,
            name=table,
            group="ingestion",
            description=description,
            tags={"source": "csv"},
        )

    products = raw_table("products", "Product catalogue: id, name, category and unit price.")
    sales_reps = raw_table("sales_reps", "Sales representatives with department and hire date.")
    # The three loads are independent and run in parallel; the relationships checks on
    # sales_data declare that they read the dimensions, so they wait for those loads.
    sales_data = raw_table("sales_data", "One row per sale: date, rep, product, amount, quantity.")

    @asset(
        deps=[sales_data, sales_reps, products],
        group="joins",
        description="Sales with their rep and product: the table the sales charts read.",
    )
    def joined_data(con: duckdb.DuckDBPyConnection) -> str:
        return JOINED_SQL

    return Definitions(
        assets=[
            products,
            sales_reps,
            sales_data,
            joined_data,
            monthly_sales_performance,
            product_performance,
            adhoc_request,
        ],
        checks=[missing_dimension_check, *sales_checks(), *performance_checks()],
        schedules=[
            Schedule("weekly_update_schedule", cron="0 0 * * 1", select="+joined_data"),
            Schedule(
                "monthly_sales_performance_schedule",
                cron="0 0 1 * *",
                select="monthly_sales_performance",
                description="On the 1st, the month that has just ended. The partitions end"
                " with the sample data in December 2025: later ticks skip, with nothing newer to"
                " build.",
            ),
        ],
        sensors=[
            FileSensor(
                "adhoc_request_sensor",
                path=str(folder / "requests" / "*.json"),
                select="adhoc_request",
                description="A JSON request file dropped in requests/ builds adhoc_request.",
            )
        ],
    )


@asset(
    deps=["joined_data"],
    group="performance",
    partitions=MONTHS,
    partition_column="month",
    backfill_policy=BackfillPolicy.single_run(),  # a backfill reads joined_data once
    description="Per month, sales rep and product: the total dollar amount sold.",
)
def monthly_sales_performance(con: duckdb.DuckDBPyConnection, context: AssetContext) -> str:
    window = context.partition_window  # one month, or every month a backfill asked for
    assert window is not None
    return f"""
        SELECT date_trunc('month', date)::DATE AS month, rep_name, product_name,
               sum(dollar_amount) AS total_dollar_amount
        FROM joined_data
        WHERE date >= DATE '{window.start}' AND date < DATE '{window.end}'
        GROUP BY ALL
    """


@asset(
    deps=["joined_data"],
    group="performance",
    partitions=PRODUCT_CATEGORIES,
    partition_column="category",
    description="Per product of a category: dollars sold, units sold and the average price.",
)
def product_performance(con: duckdb.DuckDBPyConnection, context: AssetContext) -> Any:
    return con.sql(
        "SELECT category, product_name, sum(dollar_amount) AS total_dollar_amount,"
        " sum(quantity) AS units_sold, avg(price) AS average_price"
        " FROM joined_data WHERE category = $category GROUP BY ALL",
        params={"category": context.partition_key},
    )


@dataclass
class AdhocRequest:
    """The tutorial's ad-hoc request: one department's sales of one product over dates."""

    department: str
    product: str
    start_date: date
    end_date: date


@asset(
    deps=["joined_data"],
    group="requests",
    config=AdhocRequest,
    description="The sales an ad-hoc request asked for: built by adhoc_request_sensor from a"
    " request file, or with --config.",
)
def adhoc_request(con: duckdb.DuckDBPyConnection, context: AssetContext) -> Any:
    request = context.config
    return con.sql(
        "SELECT * FROM joined_data WHERE department = $department AND product_name = $product"
        " AND date BETWEEN $start_date AND $end_date",
        params={
            "department": request.department,
            "product": request.product,
            "start_date": request.start_date,
            "end_date": request.end_date,
        },
    )


def performance_checks() -> list[CheckDef]:
    """Checked per partition: each month's and each category's own rows."""
    return [
        checks.expression(
            "monthly_sales_performance",
            "total_dollar_amount >= 0",
            name="non_negative_totals",
            severity="warn",
            description="No rep sold a product for less than nothing in a month.",
        ),
        checks.not_null("product_performance", "product_name"),
        checks.row_count("product_performance", min=1),
    ]


@asset_check(
    asset="joined_data",
    description="No joined sale lacks its product or its sales rep (orphan keys in sales_data).",
)
def missing_dimension_check(con: duckdb.DuckDBPyConnection) -> CheckResult:
    count = scalar(con, f"SELECT count(*) FROM ({MISSING_DIMENSION_SQL})")
    return CheckResult(
        passed=count == 0,
        metadata={"missing_dimensions": count},
        failing_rows_sql=MISSING_DIMENSION_SQL,
        failing_count=count,
        observed_value=count,
        threshold="error if > 0",
    )


def sales_checks() -> list[CheckDef]:
    """The built-in checks a sales team relies on; see pipeline.checks for each one."""
    return [
        *key_checks("products", "product_id"),
        *key_checks("sales_reps", "rep_id"),
        checks.relationships("sales_data", "rep_id", "sales_reps", "rep_id"),
        checks.relationships("sales_data", "product_id", "products", "product_id"),
        checks.accepted_values("products", "category", CATEGORIES),
        checks.expression(
            "sales_data",
            "dollar_amount >= 0",
            name="non_negative_amounts",
            severity="warn",
            description="Amounts are not negative (refunds would need their own table).",
        ),
        checks.expression(
            "sales_data",
            "quantity > 0",
            name="positive_quantities",
            description="Every sale has a positive quantity.",
        ),
        checks.row_count("joined_data", min=1),
        checks.column_schema("joined_data", severity="warn"),
    ]


def key_checks(table: str, column: str) -> list[CheckDef]:
    """The key of a dimension must be present and unique, or joins multiply or drop sales."""
    return [
        checks.unique(table, column, blocking=True),
        checks.not_null(table, column, blocking=True),
    ]


def __getattr__(name: str) -> Definitions:
    """`defs`, built on each access so ASSETBOARD_SALES_DATA is read when the pipeline loads."""
    if name == "defs":
        return build_definitions(os.environ.get("ASSETBOARD_SALES_DATA", DEFAULT_DATA_DIR))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
