"""bench/anomaly_eval.py at a few series, so it cannot rot: its table, its determinism, and the
scenario facts the BENCHMARKS.md section states."""

from __future__ import annotations

import itertools

import pytest

from bench import anomaly_eval


def test_the_table_has_every_scenario_and_an_overall_row(capsys: pytest.CaptureFixture[str]):
    anomaly_eval.main(["--series", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| scenario | series | points | anomalies | found")
    assert len(lines) == 2 + len(anomaly_eval.SCENARIOS) + 1
    assert lines[-1].startswith(f"| **overall** | {3 * len(anomaly_eval.SCENARIOS)} |")
    assert anomaly_eval.table(3) == anomaly_eval.table(3)  # seeded: the same table every time


def test_injected_anomalies_are_where_the_series_says():
    scenario = anomaly_eval.SCENARIOS[0]  # drop to zero
    values, positions = anomaly_eval.series(scenario, seed=0)
    assert len(values) == anomaly_eval.LENGTH and len(positions) == anomaly_eval.ANOMALIES
    assert all(values[spot] == 0 for spot in positions)
    assert min(b - a for a, b in itertools.pairwise(sorted(positions))) >= 15


def test_seasonality_finds_what_a_plain_window_misses_and_flat_history_never_false_alarms():
    by_name = {scenario.name: scenario for scenario in anomaly_eval.SCENARIOS}
    plain = anomaly_eval.evaluate(by_name["weekly seasonal"], 5)
    seasonal = anomaly_eval.evaluate(by_name["weekly seasonal, seasonality=7"], 5)
    assert seasonal.true_positives > plain.true_positives
    assert anomaly_eval.evaluate(by_name["flat with tiny changes"], 5).false_alarms == 0
