"""The asset graph in Chromium: every click on a box selects it (three in a row, the same box
again after picking another asset elsewhere, a click on the empty canvas in between), zoom and
pan, tooltips beside the box, a large graph opening on groups, and the page at 1440 and 800 px
wide. Screenshots land in test-artifacts/graph-*.png for a person to look at.

The component lives in a shadow root: Playwright's CSS locators pierce it, document.querySelector
does not. Every wait is on a condition (a heading, an attribute), never a fixed sleep.
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

pytestmark = pytest.mark.e2e

SALES_ASSETS = len(build_definitions().assets)  # boxes the sales example's graph draws

SALES = """\
from pipeline.examples.sales import build_definitions

defs = build_definitions({data!r})
"""
SYNTHETIC = """\
from bench.resolver import synthetic_assets
from pipeline.definitions import Definitions

defs = Definitions(assets=synthetic_assets(300, 900, layers=10))
"""


def _serve(work: Path, defs: Path, db: Path) -> Iterator[str]:
    log = work / "streamlit.log"
    args = ["--defs", str(defs), "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with dashboard_server(work, env, log, {"server.fileWatcherType": "none"}, args) as app:
        yield app.url


@pytest.fixture(scope="module")
def sales_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sales example, built once; orphan rows make a check of joined_data fail."""
    work = tmp_path_factory.mktemp("graph")
    generate(300, work / "data", orphan_rate=0.05, seed=3)
    defs = work / "sales_defs.py"
    defs.write_text(SALES.format(data=str(work / "data")), encoding="utf-8")
    db = work / "warehouse.duckdb"
    materialize(load_definitions(str(defs)), db=db)
    yield from _serve(work, defs, db)


@pytest.fixture(scope="module")
def large_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """300 synthetic assets in 10 groups, never built: more than the page draws one by one."""
    work = tmp_path_factory.mktemp("graph-large")
    defs = work / "synthetic_defs.py"
    defs.write_text(SYNTHETIC, encoding="utf-8")
    yield from _serve(work, defs, work / "warehouse.duckdb")


def _settled(page) -> None:
    """The script run is over (stale elements of the previous run are gone) without error."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'"
    )
    assert page.get_by_test_id("stException").count() == 0


def _drawn(page, boxes: int | None = None, view: str = "") -> None:
    """The graph of `view` (a prefix of its name) has drawn `boxes` boxes, then two frames,
    and the script run is over. Both are awaited: the previous drawing stays until then."""
    drawn = f"[data-drawn='{boxes}']" if boxes is not None else "[data-drawn]"
    of_view = f"[data-view^='{view}']" if view else ""  # (an empty ^= matches nothing)
    page.locator(f".ag{of_view} .ag-svg{drawn}").wait_for()
    _settled(page)


def _box(page, name: str):
    return page.locator(f".ag-node[data-name='{name}']")


def _details(page, name: str) -> None:
    """The details column shows `name` as its heading."""
    page.get_by_role("heading", name=name, exact=True).wait_for()
    assert page.url.endswith(f"asset={name}")
    _settled(page)


def _zoom(page) -> float:
    return float(page.locator(".ag").get_attribute("data-zoom"))


def _shift(page) -> tuple[float, float]:
    """Where the picture's origin is on screen, in pixels from the frame's corner."""
    x, y = page.locator(".ag").get_attribute("data-pan").split(",")
    return float(x), float(y)


def _until(page, condition: str, *args: object) -> None:
    """Wait until `condition`, JavaScript about the graph's root element `ag`, holds."""
    ag = page.locator(".ag").element_handle()
    page.wait_for_function(f"([ag, args]) => {condition}", arg=[ag, list(args)])


def test_every_click_selects_and_the_canvas_eats_no_click(
    page, sales_url: str, screenshot, outside_requests: list[str]
) -> None:
    page.goto(f"{sales_url}/graph")
    _drawn(page, boxes=SALES_ASSETS)
    for name in ("products", "sales_reps", "joined_data"):  # the issue: every second was lost
        _box(page, name).click()
        _details(page, name)
        assert "ag-selected" in _box(page, name).get_attribute("class")
    screenshot("graph-1440-selected")

    canvas = page.locator(".ag-frame").bounding_box()
    page.mouse.click(canvas["x"] + 12, canvas["y"] + canvas["height"] - 12)  # empty canvas
    _box(page, "sales_data").click()
    _details(page, "sales_data")

    page.get_by_role("combobox", name="Asset", exact=True).click()  # picked outside the graph
    page.get_by_role("option", name="products", exact=True).click()
    _details(page, "products")
    _box(page, "sales_data").click()  # the box clicked before: selected again
    _details(page, "sales_data")
    assert outside_requests == []


def test_zoom_pan_and_a_tooltip_beside_the_box(page, sales_url: str, screenshot) -> None:
    page.goto(f"{sales_url}/graph?asset=joined_data")
    _drawn(page, boxes=SALES_ASSETS)
    _details(page, "joined_data")
    start = _zoom(page)
    page.get_by_role("button", name="Zoom in").click()
    _until(page, "parseFloat(ag.dataset.zoom) > args[0]", start)
    zoomed = _zoom(page)
    canvas = page.locator(".ag-frame").bounding_box()
    page.mouse.move(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    page.mouse.wheel(0, 400)  # the wheel zooms out, around the pointer
    _until(page, "parseFloat(ag.dataset.zoom) < args[0]", zoomed)
    page.get_by_role("button", name="Fit the whole picture").click()
    _until(page, "ag.dataset.zoom === args[0]", f"{start:.3f}")

    x, y = _shift(page)
    page.mouse.move(canvas["x"] + 15, canvas["y"] + canvas["height"] - 15)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 95, canvas["y"] + canvas["height"] - 45, steps=8)
    page.mouse.up()
    moved_x, moved_y = _shift(page)
    assert (moved_x - x, moved_y - y) == pytest.approx((80, -30), abs=1)
    assert page.url.endswith("asset=joined_data")  # a drag selects nothing

    box = _box(page, "products")
    box.hover()
    tip = page.locator(".ag-tip")
    tip.wait_for()
    assert tip.inner_text().splitlines()[:3] == ["products", "group ingestion · table", "Fresh"]
    a, b = box.bounding_box(), tip.bounding_box()
    apart = (
        b["x"] >= a["x"] + a["width"]
        or b["x"] + b["width"] <= a["x"]
        or b["y"] >= a["y"] + a["height"]
        or b["y"] + b["height"] <= a["y"]
    )
    assert apart, "the tooltip covers the box it describes"
    font = tip.evaluate("el => getComputedStyle(el).fontFamily")
    assert "serif" not in font.replace("sans-serif", "")
    screenshot("graph-1440-tooltip")


def test_the_page_works_at_800_pixels_wide(page, sales_url: str, screenshot) -> None:
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto(f"{sales_url}/graph?asset=joined_data")
    _drawn(page, boxes=SALES_ASSETS)
    _details(page, "joined_data")
    graph = page.locator(".ag-frame").bounding_box()
    assert graph["width"] >= 300 and graph["x"] + graph["width"] <= 800
    # Opened readable around joined_data: products, at the far left, is a drag or a fit away.
    page.get_by_role("button", name="Fit the whole picture").click()
    _box(page, "products").click()
    _details(page, "products")
    screenshot("graph-800")


def test_a_large_graph_opens_on_groups_then_a_group_then_an_asset(
    page, large_url: str, screenshot, outside_requests: list[str]
) -> None:
    page.goto(f"{large_url}/graph")
    _drawn(page, boxes=10)
    screenshot("graph-large-groups")
    _box(page, "g4").click()
    _drawn(page, view="group:g4")
    assert page.url.endswith("open=g4")
    screenshot("graph-large-group")
    name = page.locator(".ag-node.ag-asset:not(.ag-context)").first.get_attribute("data-name")
    _box(page, name).click()
    _details(page, name)
    _drawn(page, view=f"around:{name}:")
    assert "ag-selected" in _box(page, name).get_attribute("class")
    screenshot("graph-large-neighbourhood")
    page.get_by_text("Show the full graph").click()
    _drawn(page, boxes=300, view="all")
    screenshot("graph-large-full")
    assert outside_requests == []
