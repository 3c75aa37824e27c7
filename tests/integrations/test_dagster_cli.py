"""The sales example through Dagster's own CLI and its default executor (a process per step):
`dagster asset materialize -m pipeline.integrations.dagster_defs` agrees with the native
engine, and the steps never hold the DuckDB file at the same time. Each run costs seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

dg = pytest.importorskip(
    "dagster", reason="Dagster is not installed: `make test` installs requirements-dagster.txt"
)

from dagster_env import (  # noqa: E402
    UNPARTITIONED,
    blocked_data,
    clean_data,
    contents,
    dagster_outcome,
    native_outcome,
)

from pipeline import PartitionRequest, materialize  # noqa: E402
from pipeline.examples.sales import build_definitions  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"
UPSTREAM_OF_JOINED = "*joined_data"  # Dagster's selection: joined_data and all it reads


def dagster_cli(tmp_path: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dagster asset materialize` as a team types it, on its own instance and warehouse."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSETBOARD_", "DAGSTER_"))}
    env |= {
        "DAGSTER_HOME": str(home),
        "ASSETBOARD_DB": str(tmp_path / "dagster.duckdb"),
        "ASSETBOARD_SALES_DATA": str(data),
    }
    command = [str(DAGSTER), "asset", "materialize", "-m", "pipeline.integrations.dagster_defs"]
    return subprocess.run(
        [*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def last_run_events(tmp_path: Path) -> list:
    """The event log entries of the latest run of the test's Dagster instance."""
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        (run, *_) = instance.get_runs(limit=1)
        return list(instance.all_logs(run.run_id))


def dagster_events(entries: list) -> list:
    return [entry.dagster_event for entry in entries if entry.dagster_event is not None]


def step_spans(entries: list) -> dict[str, tuple[int, float, float]]:
    """step -> (pid, started, ended) from the event log."""
    spans: dict[str, list] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            spans[event.step_key] = [event.pid, entry.timestamp, None]
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            spans[event.step_key][2] = entry.timestamp
    return {step: (pid, start, end) for step, (pid, start, end) in spans.items()}


def test_clean_data_and_a_month_range_agree_with_the_native_engine(tmp_path):
    data = clean_data(tmp_path / "csv")
    native_db = tmp_path / "native.duckdb"
    defs = build_definitions(data)

    done = dagster_cli(tmp_path, data, "--select", UPSTREAM_OF_JOINED)
    assert done.returncode == 0, done.stderr[-3000:]
    entries = last_run_events(tmp_path)
    native = native_outcome(materialize(defs, UNPARTITIONED, native_db))
    assert dagster_outcome(dagster_events(entries)) == native
    assert contents(tmp_path / "dagster.duckdb", UNPARTITIONED) == contents(
        native_db, UNPARTITIONED
    )
    # Dagster's default executor: every step a process of its own, one at a time on the file.
    spans = sorted(step_spans(entries).values(), key=lambda span: span[1])
    assert len(spans) == 6 and len({pid for pid, _, _ in spans}) == 6
    assert all(earlier[2] <= later[1] for earlier, later in pairwise(spans))

    months = "2024-01-01...2024-03-01"
    done = dagster_cli(
        tmp_path, data, "--select", "monthly_sales_performance", "--partition-range", months
    )
    assert done.returncode == 0, done.stderr[-3000:]
    request = PartitionRequest(first="2024-01-01", last="2024-03-01")
    native = native_outcome(
        materialize(defs, ["monthly_sales_performance"], native_db, partitions=request)
    )
    assert dagster_outcome(dagster_events(last_run_events(tmp_path))) == native
    monthly = ["monthly_sales_performance"]
    assert contents(tmp_path / "dagster.duckdb", monthly) == contents(native_db, monthly)


def test_a_failing_blocking_check_fails_the_run_and_skips_downstream(tmp_path):
    data = blocked_data(tmp_path / "csv")
    native_db = tmp_path / "native.duckdb"
    done = dagster_cli(tmp_path, data, "--select", UPSTREAM_OF_JOINED)
    assert done.returncode != 0
    assert "Materialization failed" in done.stderr
    native = native_outcome(materialize(build_definitions(data), UNPARTITIONED, native_db))
    dagster = dagster_outcome(dagster_events(last_run_events(tmp_path)))
    assert dagster.built == native.built == {"products", "sales_reps", "sales_data"}
    # As in process: the check reading the blocked products from sales_data is not run.
    reads_products = "sales_data.product_id_references_products"
    assert dagster.verdicts == {k: v for k, v in native.verdicts.items() if k != reads_products}
    assert contents(tmp_path / "dagster.duckdb", UNPARTITIONED) == contents(
        native_db, UNPARTITIONED
    )


def test_selecting_every_asset_without_a_partition_is_refused_by_dagster(tmp_path):
    """Dagster's CLI wants --partition for partitioned assets; the sales example has two kinds
    (months, categories), so `--select '*'` cannot name one key for both."""
    data = clean_data(tmp_path / "csv")
    done = dagster_cli(tmp_path, data, "--select", "*")
    assert done.returncode != 0
    assert "Asset has partitions, but no '--partition' option was provided" in done.stderr
    assert not (tmp_path / "dagster.duckdb").exists()  # refused before anything ran
