"""The HTML report opened from disk in Chromium, and the Report page reached by a permalink."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.datagen import generate
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions
from pipeline.report import build_report, render

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run where a blocking key check fails (skipping joined_data) and a warning fires."""
    work = tmp_path_factory.mktemp("report-e2e")
    data = work / "data"
    generate(500, data, orphan_rate=0.05, seed=3)
    with (data / "products.csv").open(encoding="utf-8") as handle:
        first_product = handle.read().splitlines()[1]
    with (data / "products.csv").open("a", encoding="utf-8") as handle:
        handle.write(first_product + "\n")  # a duplicate key
    rows = list(csv.reader((data / "sales_data.csv").open(encoding="utf-8")))
    rows[1][2] = "-5.00"  # a refund in the sales table: the warn check
    with (data / "sales_data.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    defs = build_definitions(data)
    db = work / "warehouse.duckdb"
    materialize(defs, db=db)
    path = work / "report.html"
    path.write_text(render(build_report(db, defs=defs), "html"), encoding="utf-8")
    return path


def test_report_from_disk_loads_nothing_from_the_network_and_leads_with_the_failure(
    page, screenshot, report_file: Path
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report_file.as_uri())
    assert [url for url in requests if not url.startswith("file:")] == []

    title = page.locator("h1")
    assert "failed" in title.inner_text() and "3 assets skipped" in title.inner_text()
    first = page.locator("#glance li").first
    assert "products › product_id_unique" in first.inner_text()
    assert "blocked downstream: joined_data" in first.inner_text()
    # At a glance: the failing check is on the first screen, without scrolling.
    assert first.bounding_box()["y"] + first.bounding_box()["height"] < 960
    screenshot("report-e2e")


def test_a_permalink_opened_first_on_a_fresh_server_gets_the_report_page(
    page, app_url, outside_requests: list[str]
) -> None:
    page.goto(f"{app_url}/report?run=1")
    page.get_by_text("No runs yet, so there is nothing to report").wait_for()
    nav = page.get_by_test_id("stSidebarNav")
    assert "Overview" in nav.inner_text() and "Report" in nav.inner_text()
    assert outside_requests == []
