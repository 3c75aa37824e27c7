"""Reports of partition runs, in every format: which partitions the run built and failed, and
which checks did not pass in which partition.

One backfill of a tiny pipeline gives every case: January and April build and pass, February
fails to build, March builds but fails an ERROR check, April warns; a static asset has keys
made of markup and Markdown.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from pipeline import (
    CheckResult,
    Definitions,
    MonthlyPartitions,
    StaticPartitions,
    asset,
    asset_check,
    checks,
    materialize,
)
from pipeline.partition_runs import PartitionRequest
from pipeline.report import build_report, load_schema, render, to_dict
from pipeline.report.model import Report
from pipeline.report.partitions import key_list

HOSTILE_KEY = "<script>alert('k')</script>|`x`"


def _monthly(con, context):
    start = str(context.partition_window.start)
    if start == "2024-02-01":
        raise RuntimeError("source for <February> & co is missing")
    amount = {"2024-03-01": -5, "2024-04-01": 500}.get(start, 2)
    return f"SELECT DATE '{start}' AS month, {amount} AS amount"


def _tagged(con, context):
    return con.sql("SELECT $k AS tag", params={"k": context.partition_key})


def _not_huge(con):
    count = con.execute("SELECT count(*) FROM monthly WHERE amount > 100").fetchone()[0]
    return CheckResult(count == 0, observed_value=count, failing_count=count)


def build_defs() -> Definitions:
    months = MonthlyPartitions(start="2024-01-01", end="2024-07-01")
    monthly = asset(_monthly, name="monthly", partitions=months, partition_column="month")
    keys = StaticPartitions(["plain", HOSTILE_KEY])
    tagged = asset(_tagged, name="tagged", partitions=keys, partition_column="tag")
    return Definitions(
        assets=[monthly, tagged],
        checks=[
            checks.expression("monthly", "amount >= 0", name="non_negative"),
            asset_check(_not_huge, asset="monthly", name="not_huge", severity="warn"),
            checks.row_count("tagged", min=1),
        ],
    )


@pytest.fixture
def report(db_path: Path) -> Report:
    defs = build_defs()
    request = PartitionRequest(first="2024-01-01", last="2024-04-01")
    materialize(defs, "monthly", db=db_path, partitions=request)
    materialize(defs, "tagged", db=db_path)
    return build_report(db_path, run=1, defs=defs)


def test_the_model_knows_each_partition_and_where_each_check_did_not_pass(report) -> None:
    assert [(b.key, b.status) for b in report.partitions] == [
        ("2024-01-01", "materialized"),
        ("2024-02-01", "failed"),
        ("2024-03-01", "materialized"),
        ("2024-04-01", "materialized"),
    ]
    assert report.partition_counts == {"materialized": 3, "failed": 1, "skipped": 0}
    (group,) = report.partitioned_assets
    assert group.summary() == "1 failed (2024-02-01); 3 built (2024-01-01, 2024-03-01, 2024-04-01)"
    failing = report.failing_partitions("monthly.non_negative")
    assert [(c.key, c.outcome, c.failing_count) for c in failing] == [("2024-03-01", "failed", 1)]
    warned = report.failing_partitions("monthly.not_huge")
    assert [(c.key, c.outcome) for c in warned] == [("2024-04-01", "warned")]
    assert report.partition_marks("monthly") == {"2024-03-01": "failed", "2024-04-01": "warned"}
    check = next(c for c in report.checks if c.key == "monthly.non_negative")
    assert check.headline == "1 failing row; failed in partition 2024-03-01"  # not "expected"


def test_html_shows_the_partitions_built_failed_and_where_checks_failed(report) -> None:
    text = render(report, "html")
    assert "Partitions in this run (4)" in text
    assert "partition 2024-02-01 of monthly</a> did not build" in text
    assert "source for &lt;February&gt; &amp; co is missing" in text
    assert "<February>" not in text
    assert "Partitions where it did not pass (1)" in text
    assert '<td class="mono">2024-03-01</td>' in text
    assert 'title="2024-04-01: built, 1 rows; a check warned"' in text
    assert '<div class="l">partitions failed</div>' in text


def test_json_lists_partitions_and_partition_checks_and_validates(report) -> None:
    document = json.loads(render(report, "json"))
    jsonschema.validate(document, load_schema())
    assert document["counts"]["partitions"] == {"materialized": 3, "failed": 1, "skipped": 0}
    assert document["partitions"][1] == {
        "asset": "monthly",
        "partition_key": "2024-02-01",
        "status": "failed",
        "row_count": None,
        "duration_s": document["partitions"][1]["duration_s"],
        "error": "RuntimeError: source for <February> & co is missing",
    }
    checks_by_key = {c["key"]: c for c in document["checks"]}
    assert checks_by_key["monthly.non_negative"]["failing_partitions"] == ["2024-03-01"]
    assert checks_by_key["monthly.not_huge"]["failing_partitions"] == ["2024-04-01"]
    failed = [c for c in document["partition_checks"] if c["outcome"] == "failed"]
    assert failed == [
        {
            "key": "monthly.non_negative",
            "asset": "monthly",
            "check": "non_negative",
            "partition_key": "2024-03-01",
            "outcome": "failed",
            "severity": "error",
            "headline": "1 failing row",
            "observed_value": 1,
            "failing_count": 1,
            "error": None,
        }
    ]


def test_junit_names_the_failing_partitions_of_a_check_and_the_failed_builds(report) -> None:
    root = ET.fromstring(render(report, "junit"))
    case = root.find(".//testcase[@name='non_negative']")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["failing_partitions"] == "2024-03-01"
    failure = case.find("failure")
    assert failure is not None and "partition 2024-03-01: failed, 1 failing row" in failure.text
    warned = root.find(".//testcase[@name='not_huge']")
    assert warned is not None and warned.find("failure") is None  # a WARN check passes
    assert "partition 2024-04-01: warned" in warned.findtext("system-out", "")
    build = root.find(".//testcase[@name='materialize']/error")
    assert build is not None and "partition 2024-02-01 failed: RuntimeError" in build.text


def test_markdown_lists_each_assets_partitions_and_failing_partition_checks(report) -> None:
    text = render(report, "md")
    assert "**Partitions:** 3 built · 1 failed · 0 skipped" in text
    assert (
        "- `monthly`: 1 failed (2024-02-01); 3 built (2024-01-01, 2024-03-01, 2024-04-01)" in text
    )
    assert "  - ❌ partition `2024-02-01` failed: RuntimeError: source for \\<February\\>" in text
    assert "| ❌ Failed | `monthly.non_negative` | `2024-03-01` | 1 | 1 failing row |" in text
    assert "| ⚠️ Warned | `monthly.not_huge` | `2024-04-01` | 1 | warned |" in text


def test_keys_from_the_definitions_are_escaped_in_every_format(db_path: Path) -> None:
    defs = build_defs()
    materialize(defs, "tagged", db=db_path)
    report = build_report(db_path, defs=defs)
    assert "<script>alert" not in render(report, "html")
    assert "&lt;script&gt;alert(&#39;k&#39;)&lt;/script&gt;|`x`" in render(report, "html")
    assert json.loads(render(report, "json"))["partitions"][0]["partition_key"] == HOSTILE_KEY
    ET.fromstring(render(report, "junit"))  # parses
    markdown = render(report, "md")
    assert "\\<script\\>alert('k')\\</script\\>\\|\\`x\\`" in markdown


def test_a_run_without_partitions_reports_none(db_path: Path) -> None:
    defs = Definitions(assets=[asset(lambda con: "SELECT 1 AS n", name="one")])
    materialize(defs, db=db_path)
    report = build_report(db_path, defs=defs)
    document = to_dict(report)
    jsonschema.validate(json.loads(json.dumps(document)), load_schema())
    assert document["partitions"] == [] and document["partition_checks"] == []
    assert document["counts"]["partitions"] == {"materialized": 0, "failed": 0, "skipped": 0}
    assert "Partitions in this run" not in render(report, "html")
    assert "**Partitions:**" not in render(report, "md")


def test_many_keys_are_shortened_with_the_last_one_kept() -> None:
    keys = [f"2024-{month:02d}-01" for month in range(1, 13)]
    assert (
        key_list(keys) == "2024-01-01, 2024-02-01, 2024-03-01, 2024-04-01, 2024-05-01, … 2024-12-01"
    )
    assert key_list(keys[:2]) == "2024-01-01, 2024-02-01"
