"""A person's first visit, in a real browser: materialize everything, then look at each page.

Every request the browser makes is recorded: none may leave this machine (the README promises
no network calls). Screenshots of every page land in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import pytest

from pipeline.examples.sales import build_definitions

SALES_ASSETS = len(build_definitions().assets)  # boxes the sales example's graph draws

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 90_000  # the whole sample pipeline; generous for a loaded 2-core machine


def _open(page, app_url: str, title: str) -> None:
    """Go to a page through the sidebar, as a person would, and wait for its title."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()


def _no_traceback(page) -> None:
    assert page.get_by_test_id("stException").count() == 0


def _settle(page) -> None:
    """Wait until the script run finished and every chart has drawn, then check for errors."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(chart => chart.querySelector('canvas, svg'))"
    )
    _no_traceback(page)


def test_materialize_all_then_browse_every_page(
    page, app_url, screenshot, outside_requests: list[str]
) -> None:
    page.goto(app_url)
    page.get_by_role("heading", name="Overview", exact=True).wait_for()
    page.get_by_text("No runs yet").first.wait_for()
    screenshot("01-overview-empty")

    _open(page, app_url, "Materialize")
    page.get_by_role("button", name="Materialize all").click()
    page.get_by_text("Materialize all: succeeded").wait_for(timeout=RUN_TIMEOUT_MS)
    _no_traceback(page)
    screenshot("02-materialize-done")

    _open(page, app_url, "Overview")
    page.get_by_role("heading", name="Needs attention").wait_for()
    _settle(page)
    assert page.get_by_text("No runs yet").count() == 0
    screenshot("03-overview-after-run")

    _open(page, app_url, "Asset graph")
    page.locator(
        f".ag-svg[data-drawn='{SALES_ASSETS}']"
    ).wait_for()  # every box drawn (tests: graph_e2e)
    graph = page.locator(".ag-frame").bounding_box()
    assert graph["width"] > 300 and graph["height"] > 200
    _no_traceback(page)
    screenshot("04-graph")

    page.goto(f"{app_url}/graph?asset=joined_data")
    page.get_by_role("heading", name="joined_data").first.wait_for()
    page.get_by_role("tab", name="Checks").click()
    page.get_by_text("missing_dimension_check").first.wait_for()
    _no_traceback(page)
    screenshot("05-graph-joined-data")

    _open(page, app_url, "Sales")
    page.get_by_test_id("stMetric").first.wait_for()
    page.wait_for_function(  # KPIs, then the five charts: by month, category, department, reps
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 5"
    )
    _settle(page)
    screenshot("06-sales")

    _open(page, app_url, "Runs")
    page.get_by_role("heading", name="Run 1 · Succeeded").wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    _settle(page)
    screenshot("07-runs")

    _open(page, app_url, "Checks")
    page.get_by_role("heading", name="One check").wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    _settle(page)
    screenshot("08-checks")

    _open(page, app_url, "Report")
    page.get_by_test_id("stDownloadButton").first.wait_for()
    _settle(page)
    screenshot("09-report")
    assert outside_requests == [], "the browser reached out of this machine"
