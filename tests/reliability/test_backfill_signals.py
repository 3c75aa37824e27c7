"""A backfill stopped by SIGKILL, SIGTERM or Ctrl-C in the middle of a partition: the partitions
committed before stay and are recorded, the one in flight keeps its old rows, and resuming the
backfill builds only what it had not built. The history always equals the table."""

from __future__ import annotations

import signal
from pathlib import Path

import duckdb
import pytest
from harness import SIGNALS, PipelineProcess, no_traceback, run_cli

from pipeline import load_definitions, store
from pipeline.partition_status import partition_states

SCENARIO = str(Path(__file__).with_name("scenario_partitions.py"))
KEYS = ["2024-01-01", "2024-02-01", "2024-03-01"]


def _partitions_in_table(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT month::VARCHAR, version FROM monthly").fetchall()
    return dict(rows)


def assert_partitions_match_the_table(db: Path) -> None:
    """Every partition the history says stands is in the table with its row count, and no
    other partition is."""
    with store.open_store(db) as con:
        catalog = store.partition_catalog(con, "monthly")
        events = [
            e for r in store.list_runs(con) for e in store.run_partition_events(con, r.run_id)
        ]
    running = [e for e in events if e.status == "running"]
    assert not running, running
    in_table = _partitions_in_table(db)
    assert set(catalog) == set(in_table), (catalog, in_table)
    assert all(entry.row_count == 1 for entry in catalog.values())


@pytest.fixture
def raw_built(db_path: Path) -> Path:
    first = run_cli(db_path, "materialize", "--select", "raw", defs=SCENARIO)
    assert first.code == 0, first.stdout + first.stderr
    return db_path


@pytest.mark.parametrize("fault", list(SIGNALS))
def test_a_backfill_stopped_mid_partition_resumes_with_what_is_missing(
    raw_built: Path, tmp_path: Path, fault: str
) -> None:
    process = PipelineProcess(
        raw_built,
        tmp_path / "pause",
        "materialize", "--select", "monthly", "--partition-range", f"{KEYS[0]}...{KEYS[-1]}",
        "--workers", "1",
        pause_at="before-commit:monthly[2024-02-01]",
        defs=SCENARIO,
    )  # fmt: skip
    process.reached("before-commit")
    process.send(SIGNALS[fault])
    finished = process.finish()

    if fault == "SIGKILL":
        assert finished.code == -signal.SIGKILL
    else:
        assert finished.code == 130, finished.stdout + finished.stderr
        no_traceback(finished)
    assert _partitions_in_table(raw_built) == {"2024-01-01": 1}  # February rolled back
    assert_partitions_match_the_table(raw_built)
    defs = load_definitions(SCENARIO)
    with store.open_store(raw_built) as con:
        states = {s.key: s.status for s in partition_states(defs, con, "monthly")}
        (backfill,) = store.list_backfills(con)
    assert states == {
        "2024-01-01": "materialized",
        "2024-02-01": "missing",
        "2024-03-01": "missing",
    }

    resumed = run_cli(
        raw_built, "materialize", "--backfill", str(backfill.backfill_id), defs=SCENARIO
    )

    assert resumed.code == 0, resumed.stdout + resumed.stderr
    assert "monthly[2024-01-01]" not in resumed.stdout  # built before the fault: not again
    assert (
        "ok  monthly[2024-02-01]" in resumed.stdout and "ok  monthly[2024-03-01]" in resumed.stdout
    )
    assert set(_partitions_in_table(raw_built)) == set(KEYS)
    assert_partitions_match_the_table(raw_built)
    with store.open_store(raw_built) as con:
        done = store.get_backfill(con, backfill.backfill_id)
    assert done is not None and done.status == "success" and len(done.run_ids) == 2
