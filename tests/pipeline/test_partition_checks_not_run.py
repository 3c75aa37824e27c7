"""Every planned check of a partitioned asset gets a record when its asset is not built: the
history, the run's counts and every page must agree on how many checks did not run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pipeline import CheckResult, Definitions, asset, asset_check, checks, materialize, store
from pipeline.engine import CancelToken
from pipeline.partitions import MonthlyPartitions
from pipeline.report import build_report, render
from pipeline.states import NotRunReason

MONTHS = MonthlyPartitions(start="2024-01-01", end="2024-03-01")
KEYS = ["2024-01-01", "2024-02-01"]


def _defs(on_sales: object) -> Definitions:
    """sales -> monthly (by month, two per-partition checks and one whole-table check)."""

    @asset
    def sales(con):
        on_sales()  # type: ignore[operator]
        return "SELECT DATE '2024-01-01' + INTERVAL (range % 59) DAY AS day FROM range(59)"

    @asset(deps=[sales], partitions=MONTHS, partition_column="month")
    def monthly(con, context):
        window = context.partition_window
        return (
            "SELECT date_trunc('month', day)::DATE AS month, count(*) AS n FROM sales"
            f" WHERE day >= DATE '{window.start}' AND day < DATE '{window.end}' GROUP BY 1"
        )

    @asset_check(asset=monthly, per_partition=False)
    def all_months_seen(con):
        return CheckResult(passed=True)

    return Definitions(
        assets=[sales, monthly],
        checks=[
            all_months_seen,
            checks.not_null("monthly", "n"),
            checks.row_count("monthly", min=1),
        ],
    )


def _recorded(db: Path, run_id: int) -> tuple[dict[str, str | None], list[tuple[str, str]]]:
    with store.open_store(db) as con:
        records = store.run_check_results(con, run_id)
        per_partition = store.run_partition_checks(con, run_id)
    return (
        {r.key: r.skip_reason for r in records if r.outcome == "skipped"},
        sorted((p.partition_key, p.check_name) for p in per_partition if p.outcome == "skipped"),
    )


def _fail() -> None:
    raise ValueError("sales_data.csv is missing")


def test_checks_of_a_skipped_partitioned_asset_are_recorded_as_not_run(db_path: Path) -> None:
    result = materialize(_defs(_fail), db=db_path)

    assert result.assets["monthly"].status == "skipped"
    not_run, per_partition = _recorded(db_path, result.run_id)
    assert not_run == dict.fromkeys(
        ["monthly.all_months_seen", "monthly.n_not_null", "monthly.row_count"],
        NotRunReason.ASSET_SKIPPED,
    )
    assert per_partition == sorted(
        (key, name) for key in KEYS for name in ("n_not_null", "row_count")
    )
    assert result.run.checks_planned == 3 and result.run.checks_not_run == 3
    row_count = next(c for c in result.checks if c.check_name == "row_count")
    assert row_count.threshold is None  # no rule was applied: the Rule column stays empty
    report = build_report(db_path, str(result.run_id))  # the report counts them the same
    assert report.check_counts["skipped"] == 3
    junit = ET.fromstring(render(report, "junit"))
    assert len(junit.findall(".//testcase[skipped]")) == 3


def test_checks_of_a_partitioned_asset_a_cancel_never_reached_are_not_run(db_path: Path) -> None:
    token = CancelToken()
    result = materialize(_defs(lambda: token.cancel("a test")), db=db_path, cancel=token)

    assert result.run.status == "cancelled"
    not_run, _ = _recorded(db_path, result.run_id)
    assert not_run == dict.fromkeys(
        ["monthly.all_months_seen", "monthly.n_not_null", "monthly.row_count"],
        NotRunReason.RUN_STOPPED,
    )
    assert result.run.checks_planned == 3 and result.run.checks_not_run == 3
