"""The status walk-through a first-time user did, in Chromium: what each page says is true.

A blocking key check fails (a duplicate product id): products is degraded, joined_data is
blocked by that check in that run, and every page says so in the same words. At 800 px wide no
label or figure is cut off. And a second tab clicking "Materialize all" while a run goes on is
told which run is going, then the first tab cancels it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_env import ARTIFACTS, dashboard_server

from pipeline.datagen import generate
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions
from tests.reliability.harness import SCENARIO, run_cli, wait_for

pytestmark = pytest.mark.e2e

# Text a person could not read whole: a metric value or label, a button, a tab or a heading
# whose box is narrower than its text (Streamlit cuts such text with an ellipsis).
CUT_OFF_JS = """() => [...document.querySelectorAll(
    '[data-testid=stMetricValue] div, [data-testid=stMetricLabel] p,'
    + ' [data-testid=stBaseButton-primary] p, [data-testid=stBaseButton-secondary] p,'
    + ' button[role=tab] p, h1, h2, h3')]
    .filter(el => el.checkVisibility() && el.scrollWidth > el.clientWidth + 1)
    .map(el => el.innerText)"""


# What a person reads: the main area's text, and the cells of every table (a dataframe draws
# its cells on a canvas; its accessible table beside it holds the same text).
READ_JS = """() => [document.querySelector('[data-testid=stMain]').innerText,
    ...[...document.querySelectorAll('[data-testid=stDataFrame] table')]
        .map(table => [...table.querySelectorAll('tr')]
            .map(row => [...row.children].map(cell => cell.textContent).join(' ')).join(' '))]
    .join(' ').replaceAll('\\u2060', '')"""


def _settle(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(chart => !chart.checkVisibility() || chart.querySelector('canvas, svg'))"
        " && [...document.querySelectorAll('[data-testid=\"stDataFrame\"]')]"
        ".every(frame => !frame.checkVisibility() || frame.querySelector('table tr td'))"
    )
    assert page.get_by_test_id("stException").count() == 0


@pytest.fixture(scope="module")
def blocked_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run 1 builds everything; run 2 sees a duplicate product id, so products' blocking
    unique check fails and joined_data is not built."""
    work = tmp_path_factory.mktemp("walk")
    data = work / "data"
    generate(600, data, orphan_rate=0, seed=3)
    db = work / "warehouse.duckdb"
    assert materialize(build_definitions(data), db=db, launched_by="command line").ok
    products = data / "products.csv"
    lines = products.read_text().splitlines()
    products.write_text("\n".join([*lines, lines[1]]) + "\n")
    materialize(build_definitions(data), db=db, launched_by="command line")
    env = {**os.environ, "ASSETBOARD_SALES_DATA": str(data)}
    log = work / "streamlit.log"
    args = ["--db", str(db)]
    with dashboard_server(work, env, log, {"server.fileWatcherType": "none"}, args) as app:
        yield app.url


PAGES = [  # path, heading, what must be on it
    ("/", "Overview", ["Blocked 3", "Degraded 1", "Run 2: Failed"]),
    ("/catalog", "Asset catalog", ["not built in run 2: blocked by failed check"]),
    ("/graph?asset=joined_data", "Asset graph", ["Blocked", "products.product_id_unique"]),
    ("/checks", "Checks", ["products.product_id_unique"]),
    ("/runs", "Runs", ["Run 2 · Failed", "blocked by failed check"]),
    ("/sales", "Sales", ["The data behind these charts is blocked"]),
    ("/materialize", "Materialize", ["Blocked"]),
]


@pytest.mark.parametrize("width", [1440, 800])
def test_every_page_tells_the_same_truth_and_nothing_is_cut_off(
    browser, blocked_url: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for path, heading, expected in PAGES:
            page.goto(f"{blocked_url}{path}")
            page.get_by_role("heading", name=heading, exact=True).wait_for()
            _settle(page)
            name = heading.lower().replace(" ", "-")
            page.screenshot(path=str(ARTIFACTS / f"walk-{width}-{name}.png"), full_page=True)
            text = " ".join(page.evaluate(READ_JS).split())
            for words in expected:
                assert words in text, f"{path}: {words!r} not shown"
            assert page.evaluate(CUT_OFF_JS) == [], f"{path} at {width} px cuts text off"
        page.goto(f"{blocked_url}/checks")
        _settle(page)
        page.wait_for_url("**check=products.product_id_unique*")  # it opens on the worst check
    finally:
        context.close()


@pytest.fixture
def slow_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A pipeline with a load DuckDB is busy with for minutes, once built."""
    db = tmp_path / "warehouse.duckdb"
    assert run_cli(db, "materialize", version=1).code == 0
    marker = tmp_path / "big_load.started"
    env = {
        **os.environ,
        "ASSETBOARD_DEFS": SCENARIO,
        "ASSETBOARD_DB": str(db),
        "RELIABILITY_VERSION": "2",
        "RELIABILITY_SLOW_MARKER": str(marker),
    }
    with dashboard_server(tmp_path, env, tmp_path / "server.log") as app:
        yield app.url, marker


def test_a_second_tab_is_told_which_run_is_going_and_the_first_cancels_it(
    browser, slow_url: tuple[str, Path]
) -> None:
    url, marker = slow_url
    first, second = browser.new_context(), browser.new_context()
    try:
        tab = first.new_page()
        tab.goto(f"{url}/materialize")
        tab.get_by_role("button", name="Materialize all").click()
        wait_for(marker.exists, "the long load to start")

        other = second.new_page()
        other.goto(f"{url}/materialize")
        other.get_by_text("from the dashboard): ").first.wait_for()  # it follows the run live
        other.get_by_role("button", name="Materialize all").click()
        refusal = other.get_by_text("Nothing started: a run is already in progress.")
        refusal.wait_for()
        assert (
            "was started from the dashboard" in other.get_by_test_id("stAlert").first.inner_text()
        )
        other.screenshot(path=str(ARTIFACTS / "walk-second-tab-refused.png"), full_page=True)

        tab.get_by_role("button", name="Cancel run").click()
        tab.get_by_text("Materialize all: cancelled").wait_for(timeout=60_000)
        tab.screenshot(path=str(ARTIFACTS / "walk-first-tab-cancelled.png"), full_page=True)
        live = other.get_by_text("from the dashboard): ")
        live.first.wait_for(state="detached", timeout=60_000)  # it ended: the page reran
        assert other.get_by_text("Materialize all: cancelled").count() == 0  # not its own run
        other.goto(f"{url}/runs")
        other.get_by_role("heading", name="Run 2 · Cancelled").wait_for()
    finally:
        first.close()
        second.close()
