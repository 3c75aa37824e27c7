"""Background runs: they start at once, report progress per asset, refuse a second start, and
are found again from anywhere in the process (a reloaded page is a new session)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_env import (
    defs_file,
    held_by_other_process,
    hold_database,
    hold_run_lock,
    sample_data,
)

from dashboard import runs
from dashboard.models import reading, toolbar
from dashboard.settings import Settings
from pipeline import store
from pipeline.definitions import Definitions
from pipeline.engine import RunResult
from pipeline.errors import RunInProgressError, SelectionError, WarehouseLockedError
from pipeline.store import AssetEvent, RunRecord
from pipeline.warehouse import utcnow


@pytest.fixture
def defs(tmp_path: Path) -> Definitions:
    data = sample_data(tmp_path / "data")
    return reading.load_defs(Settings(defs=str(defs_file(tmp_path, data)), db=Path("unused")))


class GatedRunner:
    """A stand-in for engine.materialize that reports one asset, then waits to be released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(
        self, defs: Definitions, select: Any, db: Path, on_event: Callable[..., None], **_: Any
    ) -> RunResult:
        on_event(AssetEvent(7, "products", "running"))
        self.started.set()
        assert self.release.wait(30), "the test never released the run"
        on_event(AssetEvent(7, "products", "materialized"))
        run = RunRecord(7, "materialize", select, "success", utcnow(), utcnow())
        return RunResult(run, {}, [])


@pytest.fixture
def gated(db_path: Path, defs: Definitions) -> Iterator[tuple[GatedRunner, runs.LiveRun]]:
    runner = GatedRunner()
    live = runs.start(
        defs, db_path, "products", label="Materialize products", planned=["products"], runner=runner
    )
    assert runner.started.wait(30)
    yield runner, live
    runner.release.set()
    runs.wait(db_path)


def test_a_run_starts_in_the_background_and_reports_progress(
    gated: tuple[GatedRunner, runs.LiveRun], db_path: Path
) -> None:
    runner, live = gated
    assert live.active
    assert live.snapshot() == {"products": "running"}
    assert live.progress() == (0, 1)

    runner.release.set()
    assert runs.wait(db_path) is live
    assert not live.active and live.ok is True
    assert live.snapshot() == {"products": "materialized"}
    assert live.progress() == (1, 1)
    assert live.run_id == 7


def test_a_second_start_while_active_is_refused_with_a_message(
    gated: tuple[GatedRunner, runs.LiveRun], db_path: Path, defs: Definitions
) -> None:
    with pytest.raises(RunInProgressError, match="'Materialize products' is still running"):
        runs.start(defs, db_path, None, label="Materialize all")
    assert runs.current(db_path) is gated[1]


def test_the_registry_is_per_database_and_outlives_sessions(
    gated: tuple[GatedRunner, runs.LiveRun], db_path: Path, tmp_path: Path
) -> None:
    # The same file spelled differently is the same run; another file has none.
    same_file = tmp_path / "sub" / ".." / db_path.name
    assert runs.current(same_file) is gated[1]
    assert runs.current(tmp_path / "other.duckdb") is None


def test_a_real_run_records_every_asset_and_check(db_path: Path, defs: Definitions) -> None:
    planned = toolbar.planned_assets(defs, None)
    live = runs.start(defs, db_path, None, label="Materialize all", planned=planned)
    runs.wait(db_path)

    assert live.ok is True and live.error is None
    assert live.snapshot() == dict.fromkeys(planned, "materialized")
    assert {record.key for record in live.check_records()} == {c.key for c in defs.checks}
    with store.open_store(db_path) as con:
        assert store.list_runs(con, 1)[0].run_id == live.run_id


def test_a_finished_run_lets_the_next_one_start(db_path: Path, defs: Definitions) -> None:
    first = runs.start(defs, db_path, "products", planned=["products"])
    runs.wait(db_path)
    second = runs.start(defs, db_path, "products", planned=["products"])
    runs.wait(db_path)
    assert first is not second and first.ok and second.ok
    assert second.run_id == first.run_id + 1


def test_a_failing_asset_shows_its_error_and_skips_its_downstream(
    db_path: Path, defs: Definitions, tmp_path: Path
) -> None:
    (tmp_path / "data" / "sales_reps.csv").unlink()
    live = runs.start(defs, db_path, None, planned=toolbar.planned_assets(defs, None))
    runs.wait(db_path)

    assert live.ok is False
    snapshot = live.snapshot()
    assert snapshot["sales_reps"] == "failed"
    assert "sales_reps.csv not found" in live.asset_error["sales_reps"]
    downstream = defs.graph.downstream("sales_reps") - {"adhoc_request"}  # not planned: config
    assert "joined_data" in downstream and "adhoc_request" not in snapshot
    for name in downstream:
        assert snapshot[name] == "skipped"
        assert "upstream" in live.asset_error[name]
    assert "upstream 'sales_reps' failed" in live.asset_error["joined_data"]


def test_checks_only_runs_count_checked_assets(db_path: Path, defs: Definitions) -> None:
    runs.start(defs, db_path, None, planned=toolbar.planned_assets(defs, None))
    runs.wait(db_path)
    with_checks = [name for name in defs.graph.names if defs.checks_for(name)]
    live = runs.start(defs, db_path, None, kind="checks", label="Run checks", planned=with_checks)
    runs.wait(db_path)
    assert live.ok is True
    assert live.progress() == (len(with_checks), len(with_checks))
    assert set(live.snapshot().values()) == {"checked"}


def test_errors_inside_the_thread_end_the_run_with_a_message(
    db_path: Path, defs: Definitions
) -> None:
    def bad_selection(*args: Any, **kwargs: Any) -> RunResult:
        raise SelectionError("unknown asset 'nope'")

    def crash(*args: Any, **kwargs: Any) -> RunResult:
        raise ZeroDivisionError("division by zero")

    live = runs.start(defs, db_path, "nope", runner=bad_selection)
    runs.wait(db_path)
    assert (live.ok, live.error) == (False, "unknown asset 'nope'")

    live = runs.start(defs, db_path, None, runner=crash)
    runs.wait(db_path)
    assert (live.ok, live.error) == (False, "ZeroDivisionError: division by zero")


def test_a_run_of_another_process_blocks_a_start(db_path: Path, defs: Definitions) -> None:
    refused = pytest.raises(RunInProgressError, match="another process is running the pipeline")
    with held_by_other_process(hold_run_lock(db_path)), refused:
        runs.start(defs, db_path, None)
    assert runs.current(db_path) is None


def test_unknown_run_kind_is_refused(db_path: Path, defs: Definitions) -> None:
    with pytest.raises(ValueError, match="unknown run kind 'rebuild'"):
        runs.start(defs, db_path, None, kind="rebuild")


def test_a_database_held_by_another_process_fails_the_start_not_the_thread(
    db_path: Path, defs: Definitions
) -> None:
    refused = pytest.raises(WarehouseLockedError, match="is held by process")
    with held_by_other_process(hold_database(db_path)), refused:
        runs.start(defs, db_path, None, wait_seconds=0.2)
    assert runs.current(db_path) is None
