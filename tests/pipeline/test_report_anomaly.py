"""Reports of anomaly checks (issue 13): every format gives the value and the expected band.

Two tables built eight times: `orders` steady until its last build collapses (the volume
anomaly check warns), `customers` steady throughout (its check passes with a band).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import jsonschema
import pytest

from pipeline import Definitions, asset, checks, materialize
from pipeline.checks_anomaly import figure
from pipeline.report import build_report, load_schema, render
from pipeline.report.model import Report

ORDERS = [1000, 1020, 980, 1010, 990, 1005, 995, 120]
CUSTOMERS = [500, 505, 495, 500, 502, 498, 500, 501]
NOT_ENOUGH = "row count 1,020, no band yet: not enough history (1 of 5 builds)"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Definitions]:
    db = tmp_path_factory.mktemp("anomaly_report") / "warehouse.duckdb"
    state = {"orders": 0, "customers": 0}

    @asset(name="orders")
    def orders(con: object) -> str:
        return f"SELECT range AS id FROM range({state['orders']})"

    @asset(name="customers")
    def customers(con: object) -> str:
        return f"SELECT range AS id FROM range({state['customers']})"

    defs = Definitions(
        [orders, customers], [checks.volume_anomaly("orders"), checks.volume_anomaly("customers")]
    )
    for state["orders"], state["customers"] in zip(ORDERS, CUSTOMERS, strict=True):
        materialize(defs, db=db)
    return db, defs


@pytest.fixture(scope="module")
def report(built: tuple[Path, Definitions]) -> Report:
    db, defs = built
    return build_report(db, "latest", defs=defs)


def _expected(report: Report, key: str) -> str:
    band = next(c for c in report.checks if c.key == key).band
    assert band is not None and band.low is not None and band.high is not None
    return f"{figure(band.low)}–{figure(band.high)}"


def test_the_headline_gives_the_value_against_the_band(report: Report) -> None:
    orders = next(c for c in report.checks if c.key == "orders.volume_anomaly")
    assert orders.outcome == "warned"
    band = orders.band
    assert band is not None and band.value == 120 and band.low is not None and band.low > 120
    expected = _expected(report, "orders.volume_anomaly")
    assert orders.headline == f"row count 120, expected {expected}: below the expected band"
    customers = next(c for c in report.checks if c.key == "customers.volume_anomaly")
    assert customers.outcome == "passed"
    expected = _expected(report, "customers.volume_anomaly")
    assert customers.headline == f"row count 501, expected {expected}"


def test_an_early_run_says_there_is_no_band_yet(built: tuple[Path, Definitions]) -> None:
    db, defs = built
    early = build_report(db, 2, defs=defs)
    orders = next(c for c in early.checks if c.key == "orders.volume_anomaly")
    assert orders.headline == NOT_ENOUGH
    document = json.loads(render(early, "json"))
    jsonschema.validate(document, load_schema())
    (entry,) = [c for c in document["checks"] if c["key"] == "orders.volume_anomaly"]
    assert entry["band"]["enough_history"] is False and entry["band"]["expected_low"] is None


def test_markdown_shows_the_value_and_band_of_each_anomaly_check(report: Report) -> None:
    text = render(report, "md")
    orders = _expected(report, "orders.volume_anomaly")
    customers = _expected(report, "customers.volume_anomaly")
    assert f"| 120 | row count expected {orders} | - |" in text  # observed and threshold cells
    assert f"row count 120, expected {orders}: below the expected band |" in text
    assert "**Within their expected band:**" in text
    assert f"- `customers.volume_anomaly`: row count 501, expected {customers}" in text


def test_html_shows_the_value_and_band_of_each_anomaly_check(report: Report) -> None:
    page = render(report, "html")
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))
    orders = _expected(report, "orders.volume_anomaly")
    customers = _expected(report, "customers.volume_anomaly")
    assert f"row count 120, expected {orders}: below the expected band" in text  # at a glance
    assert f"row count 120 below the expected band Expected {orders}" in text  # the card's facts
    assert "from 7 earlier values" in text and "z-score" in text
    assert f"501 row count, expected {customers}" in text  # the passed table


def test_json_carries_the_band_as_numbers_and_stays_valid(report: Report) -> None:
    document = json.loads(render(report, "json"))
    jsonschema.validate(document, load_schema())
    by_key = {c["key"]: c for c in document["checks"]}
    band = by_key["orders.volume_anomaly"]["band"]
    entry = next(c for c in report.checks if c.key == "orders.volume_anomaly").band
    assert entry is not None
    assert band == {
        "label": "row count",
        "value": 120.0,
        "expected_low": entry.low,
        "expected_high": entry.high,
        "enough_history": True,
        "reason": "below the expected band",
        "zscore": entry.zscore,
        "training_count": 7,
        "text": f"row count 120, expected {_expected(report, 'orders.volume_anomaly')}",
    }
    without = {k: v for k, v in document["checks"][0].items() if k != "band"}
    jsonschema.validate({**document, "checks": [without]}, load_schema())  # band is optional


def test_junit_carries_the_band_in_its_properties_and_message(report: Report) -> None:
    root = ET.fromstring(render(report, "junit"))
    case = root.find(".//testcase[@classname='orders']")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    expected = _expected(report, "orders.volume_anomaly")
    assert props["band"] == f"row count 120, expected {expected}"
    assert float(props["value"] or "nan") == 120.0 and float(props["expected_low"] or 0) > 120
    out = case.findtext("system-out") or ""
    assert out.startswith(f"WARN orders.volume_anomaly: row count 120, expected {expected}")
