"""A run killed outright (SIGKILL) while some of its checks had run and others not: the next
run records the others as not run because the process died, so every view of the dead run
agrees with its counts: one record per planned check, the Checks page's note, the JUnit cases.
"""

from __future__ import annotations

import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from harness import (
    SCENARIO,
    PipelineProcess,
    assert_history_matches_warehouse,
    run_cli,
)

from dashboard.models import checks as checks_page
from dashboard.settings import Settings
from pipeline import Definitions, load_definitions, store
from pipeline.checks_runner import NOT_RUN_TEXT
from pipeline.states import CheckOutcome, NotRunReason
from pipeline.store import CheckRecord

PARTITIONS = str(Path(__file__).with_name("scenario_partitions.py"))
DIED = NOT_RUN_TEXT[NotRunReason.PROCESS_DIED]


def _kill_at(db: Path, pause_dir: Path, pause_at: str, *args: str, defs: str = SCENARIO) -> int:
    """Start `materialize ARGS`, SIGKILL it at `pause_at`; the id of the run it left (read
    before: a reader now would repair the dead run, and the next run would find it repaired)."""
    with store.open_store(db) as con:
        run_id = store.list_runs(con, 1)[0].run_id + 1
    process = PipelineProcess(
        db, pause_dir, "materialize", *args, "--workers", "1", pause_at=pause_at, defs=defs
    )
    process.reached(pause_at.split(":")[0])
    process.send(signal.SIGKILL)
    assert process.finish().code == -signal.SIGKILL
    return run_id


def _records_agree_with_counts(db: Path, run_id: int, defs: Definitions) -> dict[str, CheckRecord]:
    """Every planned check of the run has exactly one record, and the counts are those records."""
    with store.open_store(db) as con:
        run = store.get_run(con, run_id)
        records = store.run_check_results(con, run_id)
    assert run is not None and run.status == "interrupted"
    planned = sorted(c.key for name in run.planned for c in defs.checks_for(name))
    assert sorted(r.key for r in records) == planned
    outcomes = [r.outcome for r in records]
    assert run.checks_planned == len(records)
    assert run.checks_passed == outcomes.count(CheckOutcome.PASSED)
    assert run.checks_failed == outcomes.count(CheckOutcome.FAILED)
    assert run.checks_errored == outcomes.count(CheckOutcome.ERROR)
    assert run.checks_not_run == outcomes.count(CheckOutcome.SKIPPED)
    return {r.key: r for r in records}


def _junit_cases(db: Path, run_id: int, defs: str = SCENARIO) -> dict[str, ET.Element]:
    """The report's JUnit test cases of checks (a run that did not finish adds one of its own)."""
    report = run_cli(
        db, "report", "--run", str(run_id), "--format", "junit", "--out", "-", defs=defs
    )
    assert report.code == 0, report.stdout + report.stderr
    root = ET.fromstring(report.stdout)
    cases = root.iter("testcase")
    return {
        f"{c.get('classname')}.{c.get('name')}": c
        for c in cases
        if (c.get("classname"), c.get("name")) != ("run", "run")
    }


@pytest.mark.parametrize("reader_first", [False, True], ids=["next-run", "reader-then-next-run"])
def test_checks_a_killed_run_never_ran_are_recorded_as_not_run_by_the_next_run(
    db_path: Path, tmp_path: Path, reader_first: bool
) -> None:
    """raw's check has run; model's is running when the process is killed. A reader (the
    dashboard) may repair the run first without definitions: the next run still records it."""
    assert run_cli(db_path, "materialize").code == 0
    dead = _kill_at(db_path, tmp_path / "pause", "check-running:model.n_not_null")
    if reader_first:
        assert_history_matches_warehouse(db_path)  # the reader path: repaired, no definitions

    after = run_cli(db_path, "materialize", "--select", "side")  # leaves model's check alone
    assert after.code == 0, after.stdout + after.stderr

    defs = load_definitions(SCENARIO)
    records = _records_agree_with_counts(db_path, dead, defs)
    assert records["raw.row_count"].outcome == CheckOutcome.PASSED
    killed = records["model.n_not_null"]
    assert (killed.outcome, killed.skip_reason) == (CheckOutcome.SKIPPED, "process_died")
    assert killed.error == DIED
    assert_history_matches_warehouse(db_path)

    table = checks_page.checks_table(Settings(defs=SCENARIO, db=db_path), defs)
    note = table.frame.set_index("Check").loc["model.n_not_null", "Note"]
    assert note == f"not run in run {dead}: {DIED}"
    cases = _junit_cases(db_path, dead)
    assert set(cases) == {"raw.row_count", "model.n_not_null"}
    skipped = cases["model.n_not_null"].find("skipped")
    assert skipped is not None and skipped.get("message") == DIED


def test_checks_are_left_unrecorded_when_the_definitions_changed_since_the_killed_run(
    db_path: Path, tmp_path: Path
) -> None:
    """model has one check more now: which checks the dead run planned cannot be told, so the
    history keeps what it knows, and the counts still say one check did not run."""
    assert run_cli(db_path, "materialize").code == 0
    dead = _kill_at(db_path, tmp_path / "pause", "check-running:model.n_not_null")

    after = run_cli(
        db_path, "materialize", "--select", "side", env={"RELIABILITY_EXTRA_CHECK": "1"}
    )
    assert after.code == 0, after.stdout + after.stderr

    with store.open_store(db_path) as con:
        run = store.get_run(con, dead)
        records = store.run_check_results(con, dead)
    assert [r.key for r in records] == ["raw.row_count"]
    assert run is not None and (run.checks_planned, run.checks_not_run) == (2, 1)
    assert_history_matches_warehouse(db_path)


def test_a_partitioned_assets_checks_a_killed_run_left_pending_are_not_run_per_partition(
    db_path: Path, tmp_path: Path
) -> None:
    """Killed as the first partition's check starts: every partition the run reached gets the
    check's record as not run, and the run's record of the check says the process died."""
    assert run_cli(db_path, "materialize", "--select", "raw", defs=PARTITIONS).code == 0
    dead = _kill_at(
        db_path,
        tmp_path / "pause",
        "check-running:monthly.days_not_null",
        "--select",
        "monthly",
        defs=PARTITIONS,
    )

    after = run_cli(db_path, "materialize", "--select", "raw", defs=PARTITIONS)
    assert after.code == 0, after.stdout + after.stderr

    defs = load_definitions(PARTITIONS)
    records = _records_agree_with_counts(db_path, dead, defs)
    check = records["monthly.days_not_null"]
    assert (check.outcome, check.skip_reason, check.error) == ("skipped", "process_died", DIED)
    with store.open_store(db_path) as con:
        reached = {e.partition_key for e in store.run_partition_events(con, dead)}
        rows = store.run_partition_checks(con, dead)
    assert reached  # the run got as far as its partitions
    assert sorted(r.partition_key for r in rows) == sorted(reached)  # one row per partition
    assert {(r.outcome, r.skip_reason, r.error) for r in rows} == {
        ("skipped", "process_died", DIED)
    }
    cases = _junit_cases(db_path, dead, PARTITIONS)
    assert set(cases) == {"monthly.days_not_null"}
