"""Ticks through the real engine on a real DuckDB file: what a schedule or sensor launches, and
that nothing is launched twice (restarts, repeated evaluations, a run in the way)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline import Definitions, MonthlyPartitions, asset, store
from pipeline.automation import FileSensor, Schedule
from pipeline.daemon import DaemonRunningError, daemon_lock, engine_launcher, tick_once
from pipeline.store import automation as ticks_store
from pipeline.ticking import partitions_ended, preview, set_enabled, tick
from pipeline.warehouse import run_lock


@dataclass
class Wanted:
    colour: str
    since: date


@asset
def fruit(con):
    return "SELECT * FROM (VALUES ('apple', 'red'), ('lime', 'green')) t(name, colour)"


@asset(deps=[fruit], config=Wanted)
def picked(con, context):
    return con.sql(
        "SELECT name, $since::DATE AS since FROM fruit WHERE colour = $colour",
        params={"colour": context.config.colour, "since": context.config.since},
    )


@asset(deps=[fruit], partitions=MonthlyPartitions("2026-01-01"), partition_column="month")
def monthly(con, context):
    return f"SELECT DATE '{context.partition_key}' AS month, count(*) AS n FROM fruit"


def make_defs(requests: Path) -> Definitions:
    return Definitions(
        [fruit, picked, monthly],
        schedules=[
            Schedule("weekly", cron="0 0 * * 1", select="fruit"),
            Schedule("month_end", cron="0 0 1 * *", select="monthly"),
        ],
        sensors=[FileSensor("requests", path=str(requests / "*.json"), select="+picked")],
    )


@pytest.fixture
def requests(tmp_path: Path) -> Path:
    folder = tmp_path / "requests"
    folder.mkdir()
    return folder


@pytest.fixture
def defs(requests: Path) -> Definitions:
    return make_defs(requests)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run_tick(defs: Definitions, db: Path, when: str) -> dict[str, ticks_store.Tick]:
    """One evaluation, as `python -m pipeline tick --now WHEN` makes it, by schedule/sensor."""
    return {t.name: t for t in tick_once(defs, db, at(when))}


def runs_of(db: Path) -> list[store.RunRecord]:
    with store.open_store(db) as con:
        return store.list_runs(con, 100)[::-1]


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value) if not isinstance(value, str) else value)
    return path


# --- schedules -----------------------------------------------------------------------------


def test_a_schedule_starts_from_its_first_evaluation_then_runs_each_time_once(
    defs: Definitions, db_path: Path
) -> None:
    first = run_tick(defs, db_path, "2026-12-06T10:00:00")
    assert first["weekly"].status == "skipped"
    assert first["weekly"].reason == "Started: the first run will be at 2026-12-07 00:00 UTC"
    assert runs_of(db_path) == []

    due = run_tick(defs, db_path, "2026-12-07T00:00:20")["weekly"]
    assert due.status == "requested" and due.scheduled_for == at("2026-12-07T00:00:00")
    [run] = runs_of(db_path)
    assert (run.run_id, run.selection, run.status) == (due.run_ids[0], "fruit", "success")
    assert run.launched_by == f"schedule weekly (tick {due.tick_id})"

    # evaluated again at the same time, and after a restart (new definitions, same file)
    assert "weekly" not in run_tick(defs, db_path, "2026-12-07T00:00:50")
    assert "weekly" not in run_tick(make_defs(Path(defs.sensors[0].path).parent), db_path,
                                    "2026-12-07T00:05:00")  # fmt: skip
    assert len(runs_of(db_path)) == 1


def test_after_downtime_a_schedule_runs_once_and_says_what_it_missed(
    defs: Definitions, db_path: Path
) -> None:
    run_tick(defs, db_path, "2026-11-01T10:00:00")
    late = run_tick(defs, db_path, "2026-12-08T09:00:00")["weekly"]
    assert late.status == "requested" and late.scheduled_for == at("2026-12-07T00:00:00")
    assert late.reason == (
        "missed 5 scheduled times (2026-11-02 00:00 UTC to 2026-11-30 00:00 UTC) while nothing"
        " evaluated: ran once, for 2026-12-07 00:00 UTC"
    )
    assert [r.selection for r in runs_of(db_path)] == ["fruit", "monthly [2026-11-01]"]


def test_a_monthly_schedule_builds_the_month_that_just_ended(
    defs: Definitions, db_path: Path
) -> None:
    run_tick(defs, db_path, "2026-11-15T00:00:00")
    ticked = run_tick(defs, db_path, "2026-12-01T00:00:05")["month_end"]
    assert ticked.status == "requested"
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.sql("SELECT month FROM monthly").fetchall() == [(date(2026, 11, 1),)]


def test_a_monthly_schedule_past_the_end_of_its_data_says_there_is_nothing_newer(
    db_path: Path,
) -> None:
    """The sales example's case: the partitions end with the data (December 2025), so each
    tick after the last month skips, and says why in words, not as 'ends earlier'."""

    @asset(partitions=MonthlyPartitions("2024-01-01", end="2026-01-01"), partition_column="m")
    def sales_by_month(con, context):
        return f"SELECT DATE '{context.partition_key}' AS m"

    @asset(partitions=MonthlyPartitions("2027-01-01"), partition_column="m")
    def not_yet(con, context):
        return f"SELECT DATE '{context.partition_key}' AS m"

    defs = Definitions(
        [sales_by_month, not_yet],
        schedules=[
            Schedule("sales", cron="0 0 1 * *", select="sales_by_month"),
            Schedule("early", cron="0 0 1 * *", select="not_yet"),
            Schedule("picky", cron="0 0 1 * *", select="sales_by_month", partitions=lambda at: []),
        ],
    )
    run_tick(defs, db_path, "2025-12-15T00:00:00")
    last = run_tick(defs, db_path, "2026-01-01T00:00:05")["sales"]
    assert last.status == "requested"
    assert [r.selection for r in runs_of(db_path)] == ["sales_by_month [2025-12-01]"]

    later = run_tick(defs, db_path, "2026-12-01T00:00:05")
    assert later["sales"].status == "skipped"
    assert later["sales"].reason == (
        "no partition of sales_by_month has just ended at 2026-12-01 00:00 UTC: nothing newer to"
        " build, its partitions end with 2025-12-01"
        " (MonthlyPartitions(start=2024-01-01, end=2026-01-01))"
    )
    assert later["early"].reason == (
        "no partition of not_yet has just ended at 2026-12-01 00:00 UTC: its first partition,"
        " 2027-01-01, has not ended yet"
    )
    assert later["picky"].reason == (
        "no partition of sales_by_month has just ended at 2026-12-01 00:00 UTC: the schedule's"
        " partitions function chose none"
    )
    assert len(runs_of(db_path)) == 1
    shown = preview(defs, db_path, "sales", at("2026-12-06T10:00:00"))
    assert not shown.plans and "nothing newer to build" in (shown.skipped or "")


def test_a_tick_while_a_run_holds_the_warehouse_is_skipped_not_queued(
    defs: Definitions, db_path: Path
) -> None:
    run_tick(defs, db_path, "2026-12-06T10:00:00")
    with run_lock(db_path, "materialize run from a test"):
        busy = run_tick(defs, db_path, "2026-12-07T00:00:10")["weekly"]
    assert busy.status == "skipped" and busy.run_ids == []
    assert busy.reason == "a run is in progress: skipped, not queued"
    assert "weekly" not in run_tick(defs, db_path, "2026-12-07T00:10:00")  # no pile-up
    assert run_tick(defs, db_path, "2026-12-14T00:00:10")["weekly"].status == "requested"
    assert len(runs_of(db_path)) == 1


def test_a_schedule_switched_off_is_not_evaluated_and_restarts_from_now(
    defs: Definitions, db_path: Path
) -> None:
    run_tick(defs, db_path, "2026-12-06T10:00:00")
    set_enabled(db_path, defs, "weekly", False)
    assert "weekly" not in run_tick(defs, db_path, "2026-12-07T00:00:10")
    set_enabled(db_path, defs, "weekly", True)
    restarted = run_tick(defs, db_path, "2026-12-21T10:00:00")["weekly"]
    assert restarted.status == "skipped" and restarted.reason.startswith("Started")
    assert runs_of(db_path) == []


# --- the file sensor -----------------------------------------------------------------------


def test_each_new_or_changed_request_file_runs_once_with_its_config(
    defs: Definitions, db_path: Path, requests: Path
) -> None:
    write(requests / "red.json", {"colour": "red", "since": "2026-01-02"})
    found = run_tick(defs, db_path, "2026-12-06T10:00:00")["requests"]
    assert found.status == "requested" and found.files == [str(requests / "red.json")]
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.sql("SELECT * FROM picked").fetchall() == [("apple", date(2026, 1, 2))]
    quiet = run_tick(defs, db_path, "2026-12-06T10:01:00")["requests"]
    assert quiet.status == "skipped" and quiet.reason.endswith("(1 seen)")

    write(requests / "red.json", {"colour": "green", "since": "2026-03-04"})  # changed
    changed = run_tick(defs, db_path, "2026-12-06T10:02:00")["requests"]
    assert changed.status == "requested"
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.sql("SELECT * FROM picked").fetchall() == [("lime", date(2026, 3, 4))]
    assert [r.launched_by for r in runs_of(db_path)] == [
        f"sensor requests (tick {found.tick_id})",
        f"sensor requests (tick {changed.tick_id})",
    ]


def test_the_cursor_survives_a_restart_and_a_file_put_back_never_runs_twice(
    db_path: Path, requests: Path
) -> None:
    request = write(requests / "red.json", {"colour": "red", "since": "2026-01-02"})
    run_tick(make_defs(requests), db_path, "2026-12-06T10:00:00")
    again = run_tick(make_defs(requests), db_path, "2026-12-06T11:00:00")  # a new process
    assert again["requests"].status == "skipped"
    request.unlink()
    run_tick(make_defs(requests), db_path, "2026-12-06T12:00:00")  # forgotten by the cursor
    write(requests / "red.json", {"colour": "red", "since": "2026-01-02"})  # same content back
    back = run_tick(make_defs(requests), db_path, "2026-12-06T13:00:00")["requests"]
    assert back.run_ids == [] and "already requested by tick" in (back.reason or "")
    assert len(runs_of(db_path)) == 1


def test_invalid_request_files_are_rejected_once_each_with_file_and_reason(
    defs: Definitions, db_path: Path, requests: Path
) -> None:
    write(requests / "wrong.json", {"colour": 3, "since": "2026-13-01", "extra": 1})
    write(requests / "broken.json", "{not json")
    (requests / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    write(requests / "list.json", [1, 2])
    (requests / "huge.json").write_bytes(b" " * 1_000_001)
    (requests / "folder.json").mkdir()
    write(requests / "good.json", {"colour": "red", "since": "2026-01-02"})
    write(requests / "odd: name.json", "[")

    failed = run_tick(defs, db_path, "2026-12-06T10:00:00")["requests"]
    assert f"{requests}/odd: name.json" in failed.files  # whole, though it holds ': '
    # the good one still ran: partly done, neither a plain failure nor a plain success
    assert failed.status == "partial" and len(failed.run_ids) == 1
    assert len(failed.rejected) == 6 and f"{requests}/good.json" not in failed.rejected
    with store.open_store(db_path) as con:  # kept as data, for a page to count
        assert ticks_store.ticks(con, "requests", 1)[0].rejected == failed.rejected
    reasons = dict(line.split(": ", 1) for line in (failed.reason or "").splitlines())
    folder = str(requests)
    assert reasons[f"{folder}/wrong.json"].startswith("the config of 'picked' is not valid:")
    assert "extra: unknown field" in reasons[f"{folder}/wrong.json"]
    assert "colour: Input should be a valid string" in reasons[f"{folder}/wrong.json"]
    assert reasons[f"{folder}/broken.json"].startswith("is not valid JSON")
    assert reasons[f"{folder}/binary.json"] == "is not UTF-8 text"
    assert reasons[f"{folder}/list.json"].startswith("the config of 'picked' must be an object")
    assert reasons[f"{folder}/huge.json"] == "over 1,000,000 bytes"
    assert f"{folder}/odd: name.json: is not valid JSON" in (failed.reason or "")
    assert f"{folder}/folder.json" not in reasons  # not a file: not a request
    # refused once per content: the next tick does not fail again
    assert run_tick(defs, db_path, "2026-12-06T10:01:00")["requests"].status == "skipped"


def test_only_bad_request_files_fail_the_tick(
    defs: Definitions, db_path: Path, requests: Path
) -> None:
    write(requests / "broken.json", "{not json")
    failed = run_tick(defs, db_path, "2026-12-06T10:00:00")["requests"]
    assert failed.status == "failed" and failed.run_ids == []
    assert failed.rejected == [f"{requests}/broken.json"]


def test_a_version_4_history_reads_ticks_without_rejected_files_then_migrates(
    defs: Definitions, db_path: Path, requests: Path
) -> None:
    write(requests / "broken.json", "{not json")
    run_tick(defs, db_path, "2026-12-06T10:00:00")
    history = store.history_path(db_path)
    with sqlite3.connect(history) as con:  # what version 4 wrote: ticks without `rejected`
        con.execute("ALTER TABLE ticks DROP COLUMN rejected")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    with store.open_store(db_path) as con:  # readers read it as it is
        assert ticks_store.ticks(con, "requests", 1)[0].rejected == []

    write(requests / "wrong.json", "[")
    newer = run_tick(defs, db_path, "2026-12-06T10:01:00")["requests"]  # a writer migrates it
    with store.open_store(db_path) as con:
        assert ticks_store.ticks(con, "requests", 1)[0].rejected == newer.rejected != []


def test_request_files_wait_while_a_run_holds_the_warehouse(
    defs: Definitions, db_path: Path, requests: Path
) -> None:
    write(requests / "red.json", {"colour": "red", "since": "2026-01-02"})
    with run_lock(db_path, "materialize run from a test"):
        waiting = run_tick(defs, db_path, "2026-12-06T10:00:00")["requests"]
    assert waiting.status == "skipped" and waiting.reason.endswith(
        "the files wait for the next tick"
    )
    later = run_tick(defs, db_path, "2026-12-06T10:01:00")["requests"]
    assert later.status == "requested" and len(runs_of(db_path)) == 1


# --- evaluating without launching, and one evaluator at a time ------------------------------


def test_preview_says_what_would_run_and_writes_nothing(
    defs: Definitions, db_path: Path, requests: Path
) -> None:
    write(requests / "red.json", {"colour": "red", "since": "2026-01-02"})
    write(requests / "bad.json", "[")
    seen = preview(defs, db_path, "requests", at("2026-12-06T10:00:00"))
    [plan] = seen.plans
    assert plan.config == {"picked": {"colour": "red", "since": "2026-01-02"}}
    assert plan.describe() == (
        'materialize +picked with config {"picked": {"colour": "red", "since": "2026-01-02"}}'
    )
    assert seen.errors[0].startswith(f"{requests}/bad.json: is not valid JSON")
    schedule = preview(defs, db_path, "month_end", at("2026-12-06T10:00:00"))
    assert [p.describe() for p in schedule.plans] == ["materialize monthly [2026-12-01]"]
    assert not store.history_exists(db_path)  # nothing was written, nothing launched


def test_one_evaluator_per_database(defs: Definitions, db_path: Path) -> None:
    refused = pytest.raises(DaemonRunningError, match=r"the daemon \(pid \d+ on .*, since .*\)")
    with daemon_lock(db_path, "the daemon"), refused:
        tick_once(defs, db_path, at("2026-12-06T10:00:00"))
    assert tick_once(defs, db_path, at("2026-12-06T10:00:00"))  # free again


def test_a_claim_left_by_a_dead_evaluator_is_launched_once_by_the_next(
    defs: Definitions, db_path: Path
) -> None:
    """The evaluator recorded the tick and its request, then died before starting the run."""
    run_tick(defs, db_path, "2026-12-06T10:00:00")

    def dies(plan: object, launched_by: str) -> int:  # the first evaluator dies here
        raise SystemExit("killed")

    with pytest.raises(SystemExit):
        tick(defs, db_path, at("2026-12-07T00:00:10"), dies)
    assert runs_of(db_path) == []
    settled = run_tick(defs, db_path, "2026-12-07T00:00:40")["weekly"]
    assert settled.status == "requested" and len(settled.run_ids) == 1
    assert "launched after a restart" in (settled.reason or "")
    assert "weekly" not in run_tick(defs, db_path, "2026-12-07T00:01:40")
    assert len(runs_of(db_path)) == 1


def test_engine_launcher_passes_partitions_and_config(defs: Definitions, db_path: Path) -> None:
    from pipeline.ticking import RunPlan

    launch = engine_launcher(defs, db_path)
    run_id = launch(
        RunPlan("k", "+picked", None, {"picked": {"colour": "red", "since": "2026-01-02"}}),
        "a test",
    )
    [run] = runs_of(db_path)
    assert (run.run_id, run.launched_by, run.status) == (run_id, "a test", "success")
    with store.open_store(db_path) as con:
        assert sorted(e.asset for e in store.run_events(con, run_id)) == ["fruit", "picked"]
    run_id = launch(RunPlan("m", "monthly", ["2026-02-01", "2026-03-01"]), "a test")
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.sql("SELECT month FROM monthly ORDER BY 1").fetchall() == [
            (date(2026, 2, 1),),
            (date(2026, 3, 1),),
        ]


def test_a_schedule_started_after_its_partitions_end_promises_no_run(db_path: Path) -> None:
    @asset(partitions=MonthlyPartitions("2024-01-01", end="2026-01-01"), partition_column="m")
    def sales_by_month(con, context):
        return f"SELECT DATE '{context.partition_key}' AS m"

    defs = Definitions(
        [sales_by_month], schedules=[Schedule("sales", cron="0 0 1 * *", select="sales_by_month")]
    )
    schedule = defs.automations["sales"]
    assert isinstance(schedule, Schedule)
    assert partitions_ended(defs, schedule, at("2026-01-01T00:00:00")) is None  # builds Dec 2025
    assert partitions_ended(defs, schedule, at("2026-02-01T00:00:00")) == (
        "nothing newer to build: its partitions end with 2025-12-01"
    )

    first = run_tick(defs, db_path, "2026-02-15T00:00:00")["sales"]

    assert first.reason == (
        "Started: the next tick is at 2026-03-01 00:00 UTC and runs nothing (nothing newer to"
        " build: its partitions end with 2025-12-01)"
    )
