"""A partitioned pipeline for the fault tests: `monthly` in three months, read from `raw`.

RELIABILITY_VERSION goes into every row, as in scenario_pipeline.py, so a test can tell a
partition kept from before a fault from one the faulty run committed.
"""

from __future__ import annotations

import os

from pipeline import Definitions, MonthlyPartitions, asset, checks

VERSION = int(os.environ.get("RELIABILITY_VERSION", "1"))
MONTHS = MonthlyPartitions(start="2024-01-01", end="2024-04-01")


@asset(code_version="1")
def raw(con):
    return (
        "SELECT DATE '2024-01-01' + INTERVAL (range % 91) DAY AS day, range AS n"
        f", {VERSION} AS version FROM range(910)"
    )


@asset(deps=[raw], partitions=MONTHS, partition_column="month", code_version="1")
def monthly(con, context):
    window = context.partition_window
    return (
        "SELECT date_trunc('month', day)::DATE AS month, count(*) AS days, max(version) AS version"
        f" FROM raw WHERE day >= DATE '{window.start}' AND day < DATE '{window.end}' GROUP BY 1"
    )


defs = Definitions(assets=[raw, monthly], checks=[checks.not_null("monthly", "days")])
