"""Hostile text in the data, in errors and in the URL, in a real browser: it reads as plain text.

A product name made of Markdown and HTML, an asset whose build fails quoting it, a check that
crashes quoting it, and crafted ?asset=, ?run=, ?check= parameters. On each page the text is
shown as it is: no link, image, maths or colour is made from it, and the browser requests
nothing outside this machine (the image and links point at evil.invalid). Screenshots land in
test-artifacts/hostile-*.png for a person to judge that the text reads naturally.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from e2e_env import dashboard_server

from pipeline.datagen import generate
from pipeline.definitions import load_definitions
from pipeline.engine import materialize

pytestmark = pytest.mark.e2e

HOSTILE = (
    "![x](http://evil.invalid/a.png) [click me](http://evil.invalid/phish)"
    " :red[red] :material/home: $x$ <b>bold</b> **strong** http://evil.invalid/auto"
)
CRASHED_CHECK = "products.names_printable"

DEFS = """
from pipeline import Definitions, asset, asset_check
from pipeline.errors import AssetFailure
from pipeline.examples.sales import build_definitions

base = build_definitions({data!r})
FIRST_NAME = "SELECT product_name FROM products ORDER BY product_id LIMIT 1"


@asset(deps=["products"], group="labels", description="Shelf labels for every product.")
def product_labels(con):
    name = con.execute(FIRST_NAME).fetchone()[0]
    raise AssetFailure(f"no label fits the product name {{name}}")


@asset_check(asset="products", description="Product names print on a label.")
def names_printable(con):
    name = con.execute(FIRST_NAME).fetchone()[0]
    raise RuntimeError(f"cannot print {{name}}")


defs = Definitions(
    assets=[*base.assets.values(), product_labels], checks=[*base.checks, names_printable]
)
"""


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on sample data whose first product is named HOSTILE, after one run."""
    work = tmp_path_factory.mktemp("hostile")
    data = work / "data"
    generate(300, data, orphan_rate=0, seed=5)
    products = list(csv.reader((data / "products.csv").open(encoding="utf-8")))
    products[1][1] = HOSTILE  # product_name of the first product
    with (data / "products.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(products)
    defs = work / "hostile_defs.py"
    defs.write_text(DEFS.format(data=str(data)), encoding="utf-8")
    db = work / "warehouse.duckdb"
    result = materialize(load_definitions(str(defs)), db=db)
    assert result.assets["product_labels"].status == "failed"  # the run the pages show
    args = ["--defs", str(defs), "--db", str(db)]
    log = work / "streamlit.log"
    with dashboard_server(work, os.environ, log, {"server.fileWatcherType": "none"}, args) as app:
        yield app.url


def _settle(page) -> None:
    """The script run finished, no element still shows its loading skeleton (code blocks load
    their highlighter lazily) and every visible chart has drawn (charts in a tab not shown
    never draw): the page is as a person sees it."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(chart => !chart.checkVisibility() || chart.querySelector('canvas, svg'))"
    )
    assert page.get_by_test_id("stException").count() == 0


# The main area's text as a person reads it (the escaper's word joiners are invisible).
READ_JS = (
    "document.querySelector('[data-testid=stMain]').innerText"
    ".replaceAll('\\u2060', '').split(/\\s+/).join(' ')"
)


def _made_from_hostile_text(page) -> list[str]:
    """Elements the hostile text turned into: links, images, maths, colours, HTML, in any frame."""
    found = []
    for frame in page.frames:
        found += frame.evaluate(
            """() => {
                const made = [...document.querySelectorAll(
                    '[href*="evil.invalid"], [src*="evil.invalid"], .katex')];
                // Containers showing the text must hold no element built from its syntax.
                for (const box of document.querySelectorAll(
                        '[data-testid=stMarkdownContainer], [data-testid=stCaptionContainer]')) {
                    if (!box.innerText.includes('click me')) continue;
                    made.push(...box.querySelectorAll(
                        'a, img, b, em, code, [aria-label="home icon"]'));
                    made.push(...[...box.querySelectorAll('span[class*=stMarkdownColored]')]
                        .filter(span => span.innerText === 'red'));
                }
                return made.map(el => el.outerHTML.slice(0, 120));
            }"""
        )
    return found


# (screenshot name, path, heading, what a person must read there)
VIEWS = [
    (
        "overview",
        "/",
        "Overview",
        [f"no label fits the product name {HOSTILE}", f"cannot print {HOSTILE}"],
    ),
    ("graph-unknown-asset", f"/graph?asset={quote(HOSTILE)}", "Asset graph", [HOSTILE]),
    (
        "graph-failed-asset",
        "/graph?asset=product_labels",
        "Asset graph",
        [f"no label fits the product name {HOSTILE}"],
    ),
    ("graph-products-preview", "/graph?asset=products", "Asset graph", []),
    ("runs-unknown-run", f"/runs?run={quote(HOSTILE)}", "Runs", [f"{HOSTILE} is not a run number"]),
    (
        "checks-unknown-check",
        f"/checks?check={quote(HOSTILE)}",
        "Checks",
        [f"There is no check named {HOSTILE}"],
    ),
    ("checks-crashed", f"/checks?check={CRASHED_CHECK}", "Checks", [f"cannot print {HOSTILE}"]),
    (
        "report-unknown-run",
        f"/report?run={quote(HOSTILE)}",
        "Report",
        [f"There is no run '{HOSTILE}'"],
    ),
]


@pytest.mark.parametrize(("name", "path", "heading", "expected"), VIEWS, ids=[v[0] for v in VIEWS])
def test_hostile_text_reads_as_plain_text_and_nothing_leaves_the_machine(
    page,
    hostile_url: str,
    screenshot,
    outside_requests: list[str],
    name: str,
    path: str,
    heading: str,
    expected: list[str],
) -> None:
    page.goto(f"{hostile_url}{path}")
    _settle(page)
    page.get_by_role("heading", name=heading, exact=True).wait_for()
    hostile_on_screen = page.get_by_text("click me").filter(visible=True)
    if hostile_on_screen.count():  # in the picture, however far down the page it is
        hostile_on_screen.last.scroll_into_view_if_needed()
    screenshot(f"hostile-{name}")

    shown = page.evaluate(f"() => {READ_JS}")
    for text in expected:
        assert text in shown
    assert _made_from_hostile_text(page) == []
    assert outside_requests == []
