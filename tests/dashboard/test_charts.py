"""Altair chart builders: the encodings and colours a reader relies on, via chart.to_dict()."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from dashboard import charts
from pipeline.looks import look
from pipeline.states import CheckOutcome, EventStatus

BUILT = look(EventStatus.MATERIALIZED).label
FAILED = look(EventStatus.FAILED).label
SKIPPED = look(EventStatus.SKIPPED).label
PASSED = look(CheckOutcome.PASSED).label
WARNED = look(CheckOutcome.WARNED).label
CHECK_FAILED = look(CheckOutcome.FAILED).label


def spec_of(chart: Any) -> dict[str, Any]:
    return chart.to_dict()


def values_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    (rows,) = spec["datasets"].values()
    return rows


def encoding_of(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["encoding"] if "encoding" in spec else spec["layer"][0]["encoding"]


def test_gantt_bars_run_from_start_to_end_coloured_by_status() -> None:
    timeline = pd.DataFrame(
        {
            "asset": ["products", "sales_data", "joined_data"],
            "status": [BUILT, FAILED, SKIPPED],
            "start_s": [0.0, 0.5, None],
            "end_s": [0.4, 0.5, None],
            "duration": ["400 ms", "0 ms", "—"],
            "rows": [10, None, None],
            "error": ["", "boom", "upstream 'sales_data' failed"],
        }
    )
    spec = spec_of(charts.run_gantt(timeline))
    assert spec["mark"]["type"] == "bar"
    encoding = spec["encoding"]
    assert encoding["x"]["field"] == "start_s" and encoding["x2"]["field"] == "end_shown"
    assert encoding["y"]["sort"] == ["products", "sales_data"]  # never-started assets left out
    scale = encoding["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        BUILT: look(EventStatus.MATERIALIZED).colour,  # the colour of the state, everywhere
        FAILED: look(EventStatus.FAILED).colour,
    }
    rows = {row["asset"]: row for row in values_of(spec)}
    assert rows["sales_data"]["end_shown"] > rows["sales_data"]["start_s"]  # 0 ms stays visible
    assert rows["products"]["end_shown"] == 0.4


def test_outcome_heatmap_has_one_cell_per_check_and_run_in_fixed_colours() -> None:
    history = pd.DataFrame(
        {
            "run_id": [1, 1, 2, 2],
            "check": ["b.second", "a.first", "b.second", "a.first"],
            "outcome": [PASSED, PASSED, CHECK_FAILED, WARNED],
            "observed_value": [0.0, 0.0, 3.0, 1.0],
            "when": [datetime(2026, 1, 1)] * 4,
        }
    )
    spec = spec_of(charts.check_outcome_heatmap(history))
    assert spec["mark"]["type"] == "rect"
    encoding = spec["encoding"]
    assert encoding["x"]["field"] == "run_id" and encoding["x"]["type"] == "ordinal"
    assert encoding["y"]["sort"] == ["a.first", "b.second"]
    scale = encoding["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        PASSED: look(CheckOutcome.PASSED).colour,
        WARNED: look(CheckOutcome.WARNED).colour,
        CHECK_FAILED: look(CheckOutcome.FAILED).colour,
    }
    assert len(values_of(spec)) == 4


def test_observed_values_are_coloured_by_outcome_with_the_rule_as_lines() -> None:
    observed = pd.DataFrame(
        {
            "run_id": [1, 2, 3],
            "observed_value": [0.0, 4.0, None],
            "outcome": [PASSED, CHECK_FAILED, CHECK_FAILED],
        }
    )
    spec = spec_of(charts.observed_value_over_time(observed, [("error if > 0", 0.0)]))
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["line", "point", "rule", "text"]
    points = spec["layer"][1]["encoding"]
    assert points["color"]["scale"]["domain"] == [PASSED, CHECK_FAILED]
    datasets = list(spec["datasets"].values())
    assert [row["run_id"] for row in datasets[0]] == [1, 2]  # runs without a value left out
    assert datasets[1] == [{"rule": "error if > 0", "value": 0.0}]
    no_rule = spec_of(charts.observed_value_over_time(observed))
    assert [layer["mark"]["type"] for layer in no_rule["layer"]] == ["line", "point"]


def test_row_count_history_plots_successful_builds_only() -> None:
    history = pd.DataFrame(
        {
            "run_id": [1, 2, 3],
            "finished": [datetime(2026, 1, d) for d in (1, 2, 3)],
            "status": [BUILT, FAILED, BUILT],
            "row_count": [100, None, 120],
            "duration_s": [0.1, 0.2, 0.1],
        }
    )
    spec = spec_of(charts.row_count_history(history))
    assert encoding_of(spec)["y"]["field"] == "row_count"
    assert [row["row_count"] for row in values_of(spec)] == [100, 120]


def _band_series() -> pd.DataFrame:
    nan = float("nan")
    return pd.DataFrame(
        {
            "run_id": [1, 2, 3, 4],
            "when": [datetime(2026, 1, d) for d in (1, 2, 3, 4)],
            "observed_value": [100.0, 102.0, 101.0, 5.0],
            "expected_low": [nan, nan, 95.0, 96.0],
            "expected_high": [nan, nan, 105.0, 106.0],
            "outcome": [PASSED, PASSED, PASSED, WARNED],
            "anomalous": [False, False, False, True],
            "enough_history": [False, False, True, True],
            "band": ["not enough history (0 of 2 builds)", "not enough history (1 of 2 builds)",
                     "95–105", "96–106"],
            "zscore": [nan, nan, 0.1, -40.0],
            "reason": ["not enough history", "not enough history", "within", "below"],
            "label": ["row count"] * 4,
        }
    )  # fmt: skip


def test_the_anomaly_band_is_shaded_where_it_exists_and_anomalies_are_red() -> None:
    spec = spec_of(charts.anomaly_band(_band_series()))
    assert spec["title"] == "Value by run, against the band its history expected"
    assert spec["layer"][3]["encoding"]["y"]["title"] == "row count"
    layers = spec["layer"]
    band = next(layer for layer in layers if layer.get("name") == "band")
    assert band["mark"]["type"] == "area"
    assert band["encoding"]["y"]["field"] == "expected_low"
    assert band["encoding"]["y2"]["field"] == "expected_high"
    assert [row["run_id"] for row in spec["datasets"][band["data"]["name"]]] == [3, 4]
    ringed = next(layer for layer in layers if layer.get("name") == "anomalous")
    assert ringed["mark"]["color"] == look(CheckOutcome.FAILED).colour  # red
    assert [row["run_id"] for row in spec["datasets"][ringed["data"]["name"]]] == [4]
    titles = {t["title"] for t in ringed["encoding"]["tooltip"]}
    assert {"Run", "Value", "Expected", "z-score"} <= titles
    points = next(layer for layer in layers if "color" in layer.get("encoding", {}))
    scale = points["encoding"]["color"]["scale"]
    assert scale["domain"] == [charts.WITHIN, charts.NO_BAND, charts.ANOMALOUS]
    assert scale["range"][-1] == look(CheckOutcome.FAILED).colour


def test_observed_values_all_zero_get_an_axis_from_0_to_1_not_nan() -> None:
    observed = pd.DataFrame(
        {"run_id": [1, 2], "observed_value": [0.0, 0.0], "outcome": [PASSED] * 2}
    )
    spec = spec_of(charts.observed_value_over_time(observed, [("0 changed columns", 0.0)]))
    # Vega draws an empty domain [0, 0] with "NaN" as its only tick label
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"domain": [0, 1]}
    assert spec["layer"][0]["encoding"]["y"]["axis"]["values"] == [0, 1]  # no 0.5 tick
    assert spec["layer"][2]["encoding"]["y"]["scale"] == {"domain": [0, 1]}
    varied = observed.assign(observed_value=[0.0, 3.0])
    assert (
        "scale" not in spec_of(charts.observed_value_over_time(varied))["layer"][0]["encoding"]["y"]
    )
