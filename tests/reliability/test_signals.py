"""Every fault at every phase of a run: the history always equals the warehouse afterwards.

Faults: SIGKILL (nothing can run after it), SIGTERM (a service manager stopping the process),
SIGINT (Ctrl-C). Phases: while an asset waits in the queue, during a load DuckDB is busy with,
just before COMMIT, between COMMIT and the history write, inside the history write, and while
checks run. After each: every table is the previous build or the faulty run's build, never
damaged; the history says which; nothing is left 'running'; the next run succeeds.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from harness import (
    SIGNALS,
    PipelineProcess,
    assert_history_matches_warehouse,
    no_traceback,
    run_cli,
    table_versions,
)

from pipeline import store

# phase -> (ASSETBOARD_PAUSE_AT, the marker it writes, whether raw's new build is committed,
# what became of `side`). raw and side are cheap (batches.py): with one worker they share one
# transaction, raw first. A pause before raw's function leaves side not started; one before the
# batch's COMMIT rolls back both; after it both are committed. raw's checks run after the batch.
# A pause in the main thread's history write leaves the worker free: the history must say.
ANY = None
PHASES = {
    "queued": ("asset-running:raw", "asset-running", False, "not_started"),
    "before-commit": ("before-commit:raw", "before-commit", False, "cancelled"),
    "after-commit": ("after-commit:raw", "after-commit", True, "materialized"),
    "history-write": ("history-write:materialized:raw", "history-write", True, ANY),
    "checks": ("check-running:raw.row_count", "check-running", True, "materialized"),
}


@pytest.fixture
def built(db_path: Path) -> Path:
    """A warehouse whose every asset holds version 1, built by run 1."""
    first = run_cli(db_path, "materialize", version=1)
    assert first.code == 0, first.stdout + first.stderr
    assert set(table_versions(db_path).values()) == {1}
    return db_path


def _stop_at(db: Path, tmp_path: Path, phase: str, fault: str):
    spec, marker, _, _ = PHASES[phase]
    process = PipelineProcess(
        db, tmp_path / "pause", "materialize", "--workers", "1", pause_at=spec, version=2
    )
    process.reached(marker)
    process.send(SIGNALS[fault])
    return process.finish()


@pytest.mark.parametrize("fault", list(SIGNALS))
@pytest.mark.parametrize("phase", list(PHASES))
def test_a_fault_at_any_phase_loses_nothing_and_misreports_nothing(
    built: Path, tmp_path: Path, phase: str, fault: str
) -> None:
    finished = _stop_at(built, tmp_path, phase, fault)

    if fault == "SIGKILL":
        assert finished.code == -signal.SIGKILL
    else:
        assert finished.code == 130, finished.stdout + finished.stderr
        no_traceback(finished)
        assert "cancelled" in finished.stdout
    _, _, committed, side = PHASES[phase]
    versions = table_versions(built)
    assert versions["raw"] == (2 if committed else 1)
    assert versions["model"] == 1  # downstream of raw: never started
    assert_history_matches_warehouse(built)

    with store.open_store(built) as con:
        run = store.list_runs(con, 1)[0]
        events = {e.asset: e.status for e in store.run_events(con, run.run_id)}
    assert run.status == ("interrupted" if fault == "SIGKILL" else "cancelled")
    assert events["raw"] == ("materialized" if committed else _unbuilt(fault))
    assert events["model"] == "not_started"  # it never ran: not "running", not "failed"
    if side is not ANY:
        assert events["side"] == (_unbuilt(fault) if side == "cancelled" else side)
        assert versions["side"] == (2 if side == "materialized" else 1)

    again = run_cli(built, "materialize", version=3)
    assert again.code == 0, again.stdout + again.stderr
    assert set(table_versions(built).values()) == {3}
    assert_history_matches_warehouse(built)


@pytest.mark.parametrize("fault", ["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize(("phase", "committed"), [("before-commit", False), ("after-commit", True)])
def test_a_fault_in_a_build_of_its_own_loses_nothing(
    built: Path, tmp_path: Path, phase: str, committed: bool, fault: str
) -> None:
    """model is the only asset ready after raw: it is built alone (builder.py), not batched."""
    process = PipelineProcess(
        built,
        tmp_path / "pause",
        "materialize",
        "--workers",
        "1",
        pause_at=f"{phase}:model",
        version=2,
    )
    process.reached(phase)
    process.send(SIGNALS[fault])
    finished = process.finish()

    assert finished.code == (-signal.SIGKILL if fault == "SIGKILL" else 130)
    versions = table_versions(built)
    assert versions["raw"] == 2
    assert versions["model"] == (2 if committed else 1)
    assert_history_matches_warehouse(built)
    with store.open_store(built) as con:
        run = store.list_runs(con, 1)[0]
        events = {e.asset: e.status for e in store.run_events(con, run.run_id)}
    assert events["model"] == ("materialized" if committed else _unbuilt(fault))
    assert events["summary"] == "not_started"


def _unbuilt(fault: str) -> str:
    return "interrupted" if fault == "SIGKILL" else "cancelled"


@pytest.mark.parametrize("fault", list(SIGNALS))
def test_a_fault_during_a_long_load_stops_duckdb_and_keeps_the_previous_tables(
    built: Path, tmp_path: Path, fault: str
) -> None:
    marker = tmp_path / "big_load.started"
    process = PipelineProcess(
        built,
        tmp_path / "pause",
        "materialize",
        "--workers",
        "1",
        version=2,
        env={"RELIABILITY_SLOW_MARKER": str(marker)},
    )
    process.started(marker)  # DuckDB is now busy with minutes of work
    process.send(SIGNALS[fault])
    finished = process.finish()  # a cancel that did not interrupt DuckDB would time out here

    if fault != "SIGKILL":
        assert finished.code == 130
        no_traceback(finished)
        assert "big_load  cancelled by" in finished.stdout or "rolled back  big_load" in (
            finished.stdout
        )
    assert_history_matches_warehouse(built)
    with store.open_store(built) as con:
        run = store.list_runs(con, 1)[0]
        big = next(e for e in store.run_events(con, run.run_id) if e.asset == "big_load")
    assert big.status == ("interrupted" if fault == "SIGKILL" else "cancelled")
    assert "previous" in (big.error or "")
