"""The Sales page under AppTest: empty state and its button, KPIs and charts, live filters."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from dashboard_env import held_by_other_process, hold_database, shown
from streamlit.testing.v1 import AppTest

from dashboard import runs, state
from pipeline.datagen import generate
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it
PAGE = "views/sales.py"  # relative to the app script, as switch_page resolves it


@pytest.fixture
def page_env(monkeypatch: pytest.MonkeyPatch, db_path: Path, tutorial_dir: Path) -> Path:
    """Point the dashboard's settings at a temp warehouse and the tutorial CSVs."""
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    monkeypatch.setenv("ASSETBOARD_DEFS", "pipeline.examples.sales")
    monkeypatch.setenv("ASSETBOARD_SALES_DATA", str(tutorial_dir))
    return db_path


@pytest.fixture
def built(page_env: Path, tutorial_dir: Path) -> Path:
    assert materialize(build_definitions(tutorial_dir), db=page_env).ok
    return page_env


def open_page() -> AppTest:
    """The Sales page through the app's navigation, as a user reaches it (page links work)."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def chart_titles(at: AppTest) -> list[str]:
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    return [spec["title"] for spec in specs]


def test_empty_store_explains_and_the_button_builds_the_sales(page_env: Path) -> None:
    at = open_page()

    assert "No sales data yet" in at.info[0].value
    assert "never been materialized" in at.info[0].value
    assert not at.metric and not at.get("vega_lite_chart")

    at.button(key=state.BTN_SALES_MATERIALIZE).click().run()
    assert not at.exception, at.exception
    live = runs.wait(page_env)
    assert live is not None and live.ok, live and live.error
    assert live.selection == "+joined_data"

    at.run()
    assert not at.exception, at.exception
    assert metrics(at)["Orders"] == "300"
    assert not at.button  # the offer is gone once the data exists


def test_after_a_run_shows_kpis_and_every_chart(built: Path) -> None:
    at = open_page()

    assert metrics(at) == {
        "Revenue": "$1.97M",  # from a million on, every filter: the help gives every digit
        "Orders": "300",
        "Average order value": "$6,557.53",
        "Units sold": "5,931",
    }
    assert sorted(chart_titles(at)) == [
        "Revenue by category",
        "Revenue by department",
        "Revenue by month",
        "Top customers by revenue",
        "Top sales reps by revenue",
    ]
    assert "run 1" in at.caption[0].value


def test_changing_filters_changes_the_figures(built: Path) -> None:
    at = open_page()
    assert at.multiselect(key=state.SALES_CATEGORIES).options == [
        "Books",
        "Clothing",
        "Electronics",
        "Home and Garden",
    ]

    at.multiselect(key=state.SALES_CATEGORIES).select("Electronics").run()
    assert metrics(at)["Revenue"] == "$1.16M"
    assert metrics(at)["Orders"] == "160"

    at.multiselect(key=state.SALES_DEPARTMENTS).select("North").run()
    north_electronics = int(metrics(at)["Orders"])
    assert 0 < north_electronics < 160

    at.date_input(key=state.SALES_DATE_RANGE).set_value((date(2024, 1, 1), date(2024, 1, 31)))
    at.run()
    assert 0 < int(metrics(at)["Orders"]) < north_electronics
    assert not at.exception


def test_filters_matching_nothing_say_how_to_widen_them(built: Path) -> None:
    at = open_page()
    # On the tutorial's last day (2024-04-09) no East rep sold a book.
    at.date_input(key=state.SALES_DATE_RANGE).set_value((date(2024, 4, 9), date(2024, 4, 9)))
    at.multiselect(key=state.SALES_CATEGORIES).select("Books")
    at.multiselect(key=state.SALES_DEPARTMENTS).select("East").run()

    assert not at.exception
    assert "No sales match these filters" in at.info[0].value
    assert not at.metric and not at.get("vega_lite_chart")


def test_a_rebuild_with_new_data_replaces_cached_figures(built: Path, tmp_path: Path) -> None:
    at = open_page()
    assert metrics(at)["Orders"] == "300"

    generate(500, tmp_path / "csv")
    assert materialize(build_definitions(tmp_path / "csv"), db=built).ok
    at.run()

    assert not at.exception
    assert metrics(at)["Orders"] == "500"
    assert "run 2" in at.caption[0].value


def test_while_another_process_holds_the_warehouse_seen_figures_show_and_new_ones_wait(
    built: Path,
) -> None:
    seen = metrics(open_page())  # the default filters' figures, now cached
    with held_by_other_process(hold_database(built)):
        at = open_page()
        assert metrics(at) == seen and not at.error  # served without touching the file
        at.multiselect(key=state.SALES_CATEGORIES).select("Books").run()
        assert "The warehouse is busy" in shown(at.info[0].value)
        assert not at.error and not at.exception
    at.run()  # the run is over: the new figures are read
    assert metrics(at)["Orders"] != seen["Orders"]


def test_a_failed_build_shows_why_and_keeps_the_offer(
    page_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSETBOARD_SALES_DATA", str(tmp_path / "no-csv-here"))
    at = open_page()

    at.button(key=state.BTN_SALES_MATERIALIZE).click().run()
    live = runs.wait(page_env)
    assert live is not None and not live.ok
    at.run()

    assert not at.exception, at.exception
    assert "The last build failed" in shown(at.error[0].value)
    assert "products.csv not found" in shown(at.error[0].value)  # the reason, naming the file
    assert "No sales data yet" in at.info[0].value
    assert at.button(key=state.BTN_SALES_MATERIALIZE)  # fix the files, then try again


def test_a_banner_says_when_the_data_behind_the_charts_is_not_fresh(built: Path) -> None:
    assert not open_page().warning  # fresh: no banner
    defs = build_definitions(Path(os.environ["ASSETBOARD_SALES_DATA"]))
    materialize(defs, "sales_reps", db=built)  # joined_data is now behind its upstream
    at = open_page()
    banner = shown(at.warning[0].value)
    assert banner.startswith("**The data behind these charts is stale:**")
    assert "upstream 'sales_reps' was built after it" in banner
    assert metrics(at)["Orders"] == "300"  # the figures still show, with the warning above


def test_a_chosen_date_range_is_kept_when_new_data_arrives(built: Path, tmp_path: Path) -> None:
    at = open_page()
    at.date_input(key=state.SALES_DATE_RANGE).set_value((date(2024, 1, 1), date(2024, 1, 31)))
    at.run()
    january = int(metrics(at)["Orders"])

    generate(500, tmp_path / "csv")
    assert materialize(build_definitions(tmp_path / "csv"), db=built).ok
    at.run()

    assert not at.exception
    assert at.date_input(key=state.SALES_DATE_RANGE).value == (date(2024, 1, 1), date(2024, 1, 31))
    assert 0 < int(metrics(at)["Orders"]) != january  # the new data's January
