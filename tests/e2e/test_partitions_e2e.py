"""Partitions in Chromium: backfill three months of monthly_sales_performance from its strip
and watch those cells turn materialized, then find the backfill on the Runs page. The pages
are photographed at 1440 and 800 px wide (test-artifacts/partitions-*.png) for a person to
look at. Every wait is on a condition, never a fixed sleep; no request leaves the machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_env import dashboard_server

from pipeline.datagen import generate
from pipeline.definitions import load_definitions
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions
from pipeline.looks import look
from pipeline.states import PartitionStatus

pytestmark = pytest.mark.e2e

SALES_ASSETS = len(build_definitions().assets)  # boxes the sales example's graph draws

RUN_TIMEOUT_MS = 90_000  # a loaded 2-core machine
MONTHLY = "monthly_sales_performance"
SALES = """\
from pipeline.examples.sales import build_definitions

defs = build_definitions({data!r})
"""


@pytest.fixture(scope="module")
def sales_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sales example with joined_data built and no partition yet."""
    work = tmp_path_factory.mktemp("partitions")
    generate(600, work / "data", orphan_rate=0.0, seed=5)
    defs = work / "sales_defs.py"
    defs.write_text(SALES.format(data=str(work / "data")), encoding="utf-8")
    db = work / "warehouse.duckdb"
    assert materialize(load_definitions(str(defs)), "+joined_data", db=db).ok
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = ["--defs", str(defs), "--db", str(db)]
    log = work / "streamlit.log"
    with dashboard_server(work, env, log, {"server.fileWatcherType": "none"}, args) as app:
        yield app.url


def _settled(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'"
    )
    assert page.get_by_test_id("stException").count() == 0


def _cell(page, year: str, month: str):
    """A cell of the strip, found as a person (or a screen reader) finds it."""
    return page.get_by_role("radiogroup", name=year).get_by_role("radio", name=month)


def _fill(status: PartitionStatus) -> str:
    """The cell background a status gets (pipeline/looks.py), as the browser reports it."""
    if status == PartitionStatus.MISSING:
        return "rgba(0, 0, 0, 0)"
    tint = look(status).tint.lstrip("#")
    red, green, blue = (int(tint[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"


def _background(locator) -> str:
    return locator.evaluate("cell => getComputedStyle(cell).backgroundColor")


def _pick(page, label: str, option: str) -> None:
    """Choose `option` in the select box labelled `label`, opened from the keyboard: a click
    right after another select box closed can be taken as the click that closes it."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.focus()
    box.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_function(
        "([label, option]) => document.querySelector(`input[aria-label='${label}']`)"
        "?.value === option",
        arg=[label, option],
    )
    _settled(page)


def test_backfill_three_months_from_the_strip(
    page, sales_url, screenshot, outside_requests: list[str]
) -> None:
    page.goto(f"{sales_url}/graph?asset={MONTHLY}")
    page.get_by_text("0 of 24 partitions materialized").first.wait_for()
    _cell(page, "2025", "Dec").wait_for()  # the pills' code loads after the page's
    page.locator(f".ag-svg[data-drawn='{SALES_ASSETS}']").wait_for()  # the graph has drawn
    _settled(page)
    assert page.get_by_role("radiogroup", name="2024").get_by_role("radio").count() == 12
    assert page.get_by_role("radiogroup", name="2025").get_by_role("radio").count() == 12
    assert _background(_cell(page, "2024", "Jan")) == _fill(PartitionStatus.MISSING)
    screenshot("partitions-01-strip-missing")

    _pick(page, "From", "January 2024")
    _pick(page, "To (included)", "March 2024")
    page.get_by_role("button", name="Backfill 3 partitions").click()

    materialized = _fill(PartitionStatus.MATERIALIZED)
    for month in ("Jan", "Feb", "Mar"):  # the strip follows the run, then the page reruns
        page.wait_for_function(
            "([year, month, colour]) => [...document.querySelectorAll("
            "`[role=radiogroup][aria-label='${year}'] [role=radio]`)]"
            ".some(cell => cell.textContent.trim().startsWith(month)"
            " && getComputedStyle(cell).backgroundColor === colour)",
            arg=["2024", month, materialized],
            timeout=RUN_TIMEOUT_MS,
        )
    page.get_by_text("3 of 24 partitions materialized").first.wait_for(timeout=RUN_TIMEOUT_MS)
    _settled(page)
    assert _background(_cell(page, "2024", "Apr")) == _fill(PartitionStatus.MISSING)
    assert _background(_cell(page, "2025", "Jan")) == _fill(PartitionStatus.MISSING)

    _cell(page, "2024", "Feb").click()
    page.get_by_text("February 2024").first.wait_for()
    page.get_by_role("button", name="Rebuild this partition").wait_for()
    _settled(page)
    assert "partition=2024-02-01" in page.url
    screenshot("partitions-02-strip-after-backfill-1440")
    page.set_viewport_size({"width": 800, "height": 960})
    _settled(page)
    screenshot("partitions-03-strip-after-backfill-800")

    page.set_viewport_size({"width": 1440, "height": 960})
    page.get_by_test_id("stSidebarNav").get_by_text("Runs", exact=True).click()
    page.get_by_role("heading", name="Backfills").wait_for()
    page.get_by_text("3 of 3 partitions built").first.wait_for()
    _settled(page)
    screenshot("partitions-04-runs-1440")
    page.set_viewport_size({"width": 800, "height": 960})
    _settled(page)
    screenshot("partitions-05-runs-800")
    assert outside_requests == [], "the browser reached out of this machine"
