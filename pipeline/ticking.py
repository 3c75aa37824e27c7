"""One evaluation of every schedule and sensor: what is due, what to run, and launching it.

`tick()` is what the daemon does each interval and what `python -m pipeline tick` does once.
It holds no lock of its own; its caller holds the daemon lock (daemon.py), so one evaluator
works on a database at a time, and the run-request key (store/automation.py) makes a second
launch of the same scheduled time or the same file impossible even so. The order that makes
"nothing runs twice" survive a crash at any point:

1. the tick, its run request (with the plan) and the cursor are written in one transaction;
2. the run starts, labelled with the tick (`launched_by`);
3. the request is marked launched with its run id.

A request left claimed (a crash between 1 and 3) is settled by the next evaluation: the run
labelled with its tick is found and linked, or, when it never started, launched then.

`preview()` evaluates one schedule or sensor without writing or launching: the Test button.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import faults, run_config, selection, store
from pipeline.automation import MAX_MISSED_COUNTED, FileSensor, Schedule, partition_keys_for
from pipeline.definitions import Definitions
from pipeline.errors import PipelineError, RunInProgressError
from pipeline.partitions import TimePartitions
from pipeline.states import TickStatus
from pipeline.store import automation as ticks_store
from pipeline.store.automation import AutomationState, Tick
from pipeline.warehouse import run_active

MAX_REQUEST_BYTES = 1_000_000  # a request file larger than this is refused, not read
MAX_FILES_PER_TICK = 100  # more files wait for the next tick


@dataclass
class RunPlan:
    """A run a tick asks for: its selection, partitions and config, and why."""

    run_key: str
    select: str | None
    partition_keys: list[str] | None = None  # None: the run's default (every partition)
    config: dict[str, Any] | None = None
    file: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "select": self.select,
            "partition_keys": self.partition_keys,
            "config": self.config,
            "file": self.file,
        }

    @classmethod
    def from_json(cls, run_key: str, data: dict[str, Any]) -> RunPlan:
        return cls(run_key, data["select"], data["partition_keys"], data["config"], data["file"])

    def describe(self) -> str:
        text = f"materialize {self.select or '*'}"
        if self.partition_keys:
            text += f" [{', '.join(self.partition_keys)}]"
        if self.config:
            text += f" with config {json.dumps(self.config, ensure_ascii=False)}"
        return text


@dataclass
class Preview:
    """What a tick of one schedule or sensor would do now, launching nothing."""

    name: str
    kind: str
    plans: list[RunPlan] = field(default_factory=list)
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)  # 'file: why', for a sensor


Launch = Callable[[RunPlan, str], int]  # (plan, launched_by) -> run id; raises to refuse


def label(kind: str, name: str, tick_id: int) -> str:
    """How a run launched by automation says so wherever runs are listed."""
    return f"{kind} {name} (tick {tick_id})"


# --- schedules -----------------------------------------------------------------------------


def _schedule_plan(defs: Definitions, schedule: Schedule, due: datetime) -> RunPlan | str:
    """The run for scheduled time `due`, or why there is none."""
    keys_for = partition_keys_for(defs, schedule, due)
    if empty := [name for name, keys in keys_for.items() if not keys]:
        return _nothing_ended(defs, schedule, empty[0], due)
    keys = sorted({key for found in keys_for.values() for key in found}) or None
    return RunPlan(due.isoformat(), schedule.select, keys)


def _nothing_ended(defs: Definitions, schedule: Schedule, name: str, due: datetime) -> str:
    """Why a tick at `due` has no partition of `name` to build. Most often the definition's
    partitions end (its data ends there): then every later tick skips, and says so plainly."""
    partitions = defs.assets[name].partitions
    assert isinstance(partitions, TimePartitions)  # partition_keys_for chooses only for these
    head = f"no partition of {name} has just ended at {due:%Y-%m-%d %H:%M %Z}"
    if callable(schedule.partitions):
        return f"{head}: the schedule's partitions function chose none"
    keys = partitions.get_partition_keys(today=due.astimezone(schedule.zone).date())
    if not keys:
        return f"{head}: its first partition, {partitions.start}, has not ended yet"
    if partitions.end is not None:  # without an end, the last window ended within a month
        return (
            f"{head}: nothing newer to build, its partitions end with {keys[-1]}"
            f" ({partitions.describe()})"
        )
    return f"{head}: its last partition, {keys[-1]}, ended over a month before"


def partitions_ended(defs: Definitions, schedule: Schedule, due: datetime) -> str | None:
    """'nothing newer to build: its partitions end with 2025-12-01' when a tick at `due` skips
    because the partitions of an asset it selects ended before it: that tick, and every later
    one, runs nothing, so neither the card nor the first tick may promise a run then."""
    if callable(schedule.partitions):
        return None
    day = due.astimezone(schedule.zone).date()
    for name, keys in partition_keys_for(defs, schedule, due).items():
        partitions = defs.assets[name].partitions
        if keys or not isinstance(partitions, TimePartitions) or partitions.end is None:
            continue
        ended = partitions.get_partition_keys(today=day)
        if ended and partitions.end <= day:
            return f"nothing newer to build: its partitions end with {ended[-1]}"
    return None


def _missed_note(schedule: Schedule, last: datetime, due: datetime) -> str | None:
    """'missed 5 scheduled times (2026-11-02 00:00 UTC to 2026-11-30 00:00 UTC) ...' when
    times between the last one evaluated and `due` passed with no evaluator running."""
    missed: list[datetime] = []
    for moment in schedule.times_between(last, due):
        if moment >= due or len(missed) >= MAX_MISSED_COUNTED:
            break
        missed.append(moment)
    if not missed:
        return None
    count = f"{len(missed)}{'+' if len(missed) >= MAX_MISSED_COUNTED else ''}"
    span = f"{missed[0]:%Y-%m-%d %H:%M %Z}"
    if len(missed) > 1:
        span += f" to {missed[-1]:%Y-%m-%d %H:%M %Z}"
    times = "time" if len(missed) == 1 else "times"
    return (
        f"missed {count} scheduled {times} ({span}) while nothing evaluated: ran once, for"
        f" {due:%Y-%m-%d %H:%M %Z}"
    )


def _tick_schedule(
    defs: Definitions, db: Path, schedule: Schedule, state: AutomationState, now: datetime,
    launch: Launch,
) -> Tick | None:  # fmt: skip
    latest = schedule.latest_time(now)
    last_text = state.cursor.get("last_scheduled")
    state.evaluated_at = now
    if last_text is None:  # first evaluation: the schedule starts now, as Dagster's does
        state.cursor = {"last_scheduled": latest.isoformat()}
        due = schedule.next_time(now)
        first = f"the first run will be at {due:%Y-%m-%d %H:%M %Z}"
        if ended := partitions_ended(defs, schedule, due):
            first = f"the next tick is at {due:%Y-%m-%d %H:%M %Z} and runs nothing ({ended})"
        return _quiet_tick(db, schedule, state, now, None, f"Started: {first}")
    last = datetime.fromisoformat(last_text)
    if latest <= last:
        _save_state(db, state, now)
        return None
    state.cursor = {"last_scheduled": latest.isoformat()}
    plan = _schedule_plan(defs, schedule, latest)
    if isinstance(plan, str):
        return _quiet_tick(db, schedule, state, now, latest, plan)
    note = _missed_note(schedule, last, latest)
    return _launch_all(db, schedule, state, now, latest, [plan], [], launch, note)


# --- sensors -------------------------------------------------------------------------------


@dataclass
class _Found:
    key: str  # the file as the cursor names it
    digest: str
    data: bytes | None = None
    error: str | None = None


def _scan(sensor: FileSensor, seen: dict[str, str]) -> tuple[list[_Found], int]:
    """New or changed files (by content), oldest name first, and how many match at all."""
    folder, pattern = sensor.pattern()
    try:
        paths = sorted(p for p in folder.glob(pattern) if p.is_file())
    except OSError:
        paths = []
    found = []
    for path in paths:
        key = str(path)
        try:
            if path.stat().st_size > MAX_REQUEST_BYTES:
                digest = f"size:{path.stat().st_size}:{path.stat().st_mtime_ns}"
                if seen.get(key) != digest:
                    found.append(_Found(key, digest, error=f"over {MAX_REQUEST_BYTES:,} bytes"))
                continue
            data = path.read_bytes()
        except OSError as exc:
            found.append(_Found(key, "unreadable", error=f"cannot be read: {exc.strerror}"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if seen.get(key) != digest:
            found.append(_Found(key, digest, data))
    return found[:MAX_FILES_PER_TICK], len(paths)


def _file_plan(defs: Definitions, sensor: FileSensor, found: _Found) -> RunPlan | str:
    """The run a request file asks for, or why it cannot be run."""
    if found.error is not None:
        return found.error
    assert found.data is not None
    try:
        parsed = json.loads(found.data.decode("utf-8"))
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return f"is not valid JSON: {exc}"
    names = selection.select(defs, sensor.select)
    try:
        if sensor.config is not None:
            config = {k: dict(v) for k, v in sensor.config(Path(found.key), parsed).items()}
        else:
            takers = sorted(n for n in names if defs.assets[n].config is not None)
            config = {takers[0]: parsed} if takers else {}
        configs = run_config.resolve(defs, config)
        run_config.plan(defs, names, selection.named(sensor.select), configs)
    except PipelineError as exc:
        return str(exc)
    except Exception as exc:  # the team's config function failed on this file
        return f"config function failed: {type(exc).__name__}: {exc}"
    jsonable = {name: run_config.jsonable_config(value) for name, value in configs.items()}
    return RunPlan(f"{found.key}@{found.digest}", sensor.select, None, jsonable, found.key)


def _tick_sensor(
    defs: Definitions, db: Path, sensor: FileSensor, state: AutomationState, now: datetime,
    launch: Launch,
) -> Tick:  # fmt: skip
    present = {str(p) for p in _matching(sensor)}
    seen = {k: v for k, v in state.cursor.get("files", {}).items() if k in present}
    found, matching = _scan(sensor, seen)
    state.evaluated_at = now
    state.cursor = {"files": seen}
    if not found:
        return _quiet_tick(
            db, sensor, state, now, None,
            f"no new or changed file in {sensor.path} ({matching} seen)",
        )  # fmt: skip
    plans, errors = [], []
    for item in found:
        plan = _file_plan(defs, sensor, item)
        if isinstance(plan, str):
            errors.append((item.key, plan))
            seen[item.key] = item.digest  # refused once per content, not every tick
        else:
            plans.append(plan)
    return _launch_all(db, sensor, state, now, None, plans, errors, launch, None)


def _matching(sensor: FileSensor) -> list[Path]:
    folder, pattern = sensor.pattern()
    try:
        return [p for p in folder.glob(pattern) if p.is_file()]
    except OSError:
        return []


# --- launching -----------------------------------------------------------------------------


def _save_state(db: Path, state: AutomationState, now: datetime) -> None:
    with store.open_writer(db) as con, store.transaction(con):
        ticks_store.save_state(con, state, now)


def _quiet_tick(
    db: Path, item: Schedule | FileSensor, state: AutomationState, now: datetime,
    scheduled_for: datetime | None, reason: str,
) -> Tick:  # fmt: skip
    with store.open_writer(db) as con, store.transaction(con):
        tick = ticks_store.start_tick(con, item.name, item.kind, now, scheduled_for)
        tick.status, tick.reason = TickStatus.SKIPPED, reason
        ticks_store.save_tick(con, tick)
        ticks_store.save_state(con, state, now)
    return tick


def _launch_all(
    db: Path,
    item: Schedule | FileSensor,
    state: AutomationState,
    now: datetime,
    scheduled_for: datetime | None,
    plans: list[RunPlan],
    errors: list[tuple[str, str]],
    launch: Launch,
    note: str | None,
) -> Tick:
    """Record the tick, claim its runs and move the cursor in one transaction, then launch
    each claimed run. While another run holds the warehouse nothing is claimed: a schedule's
    time is skipped (no pile-up), a sensor's files wait for the next tick."""
    busy = _run_going(db)
    reasons = [f"{file}: {why}" for file, why in errors]
    mine: list[RunPlan] = []
    with store.open_writer(db) as con, store.transaction(con):
        tick = ticks_store.start_tick(con, item.name, item.kind, now, scheduled_for)
        tick.files = [p.file for p in plans if p.file] + [file for file, _ in errors]
        tick.rejected = [file for file, _ in errors]
        by = label(item.kind, item.name, tick.tick_id)
        for plan in plans if busy is None else ():
            owner = ticks_store.claim(
                con, item.name, plan.run_key, tick.tick_id, by, plan.as_json()
            )
            if owner is None:
                mine.append(plan)
            else:
                reasons.append(f"{plan.file or plan.run_key} already requested by tick {owner}")
            _mark_seen(state, plan)
        tick.status = TickStatus.FAILED if errors else TickStatus.STARTED
        ticks_store.save_tick(con, tick)
        ticks_store.save_state(con, state, now)
    faults.pause("tick-claimed", item.name)
    if busy is not None and plans:
        then = "the files wait for the next tick" if plans[0].file else "skipped, not queued"
        reasons.append(f"{busy}: {then}")
    for plan in mine:
        outcome = _launch_one(db, item, plan, by, launch)
        if isinstance(outcome, int):
            tick.run_ids.append(outcome)
            continue
        reasons.append(outcome)
        if outcome.startswith("not started"):  # lost a race with another run: try again later
            _unmark_seen(db, state, plan, now)
        else:
            tick.status = TickStatus.FAILED
            if plan.file:
                tick.rejected.append(plan.file)
    if note:
        reasons.append(note)
    tick.status = _ended(tick.status == TickStatus.FAILED, tick.run_ids)
    tick.reason = "\n".join(reasons) or None
    with store.open_writer(db) as con, store.transaction(con):
        ticks_store.save_tick(con, tick)
    return tick


def _ended(failed: bool, run_ids: list[int]) -> TickStatus:
    """A tick that started runs and refused others is partial: neither a plain failure nor
    a plain success."""
    if failed:
        return TickStatus.PARTIAL if run_ids else TickStatus.FAILED
    return TickStatus.REQUESTED if run_ids else TickStatus.SKIPPED


def _mark_seen(state: AutomationState, plan: RunPlan) -> None:
    if plan.file is not None:
        state.cursor.setdefault("files", {})[plan.file] = plan.run_key.rsplit("@", 1)[1]


def _unmark_seen(db: Path, state: AutomationState, plan: RunPlan, now: datetime) -> None:
    if plan.file is not None:
        state.cursor.get("files", {}).pop(plan.file, None)
        _save_state(db, state, now)


def _launch_one(
    db: Path, item: Schedule | FileSensor, plan: RunPlan, by: str, launch: Launch
) -> int | str:
    """The run id, or why the run did not start (its claim is then given back)."""
    try:
        run_id = launch(plan, by)
    except RunInProgressError as exc:
        outcome: int | str = f"not started: {exc}"
    except PipelineError as exc:
        outcome = f"{plan.file + ': ' if plan.file else ''}could not start: {exc}"
    else:
        faults.pause("tick-launched", item.name)
        with store.open_writer(db) as con, store.transaction(con):
            ticks_store.launched(con, item.name, plan.run_key, run_id)
        return run_id
    with store.open_writer(db) as con, store.transaction(con):
        ticks_store.release(con, item.name, plan.run_key)
    return outcome


def _run_going(db: Path) -> str | None:
    """'run 7 (dashboard) is in progress' while a run holds the warehouse, else None."""
    if not run_active(db):
        return None
    with store.open_store(db) as con:
        going = store.running_runs(con)
    if going:
        return f"run {going[-1].run_id} ({going[-1].launched_by or 'unknown'}) is in progress"
    return "a run is in progress"


def settle_pending(db: Path, launch: Launch) -> list[Tick]:
    """Finish the launches a dead evaluator claimed: link the run it started, or start it."""
    with store.open_writer(db) as con:
        requests = ticks_store.pending(con)
        found = {r.launched_by: ticks_store.run_launched_as(con, r.launched_by) for r in requests}
    settled = []
    for request in requests:
        with store.open_writer(db) as con:
            tick = ticks_store.get_tick(con, request.tick_id)
        if tick is None:
            continue
        run_id = found[request.launched_by]
        if run_id is not None:
            note = f"its run {run_id} was found after the evaluator stopped"
            with store.open_writer(db) as con, store.transaction(con):
                ticks_store.launched(con, request.name, request.run_key, run_id)
        else:
            plan = RunPlan.from_json(request.run_key, request.plan)
            kind = tick.kind
            item: Any = (
                Schedule(request.name, "* * * * *")
                if kind == "schedule"
                else FileSensor(request.name, "")
            )
            outcome = _launch_one(db, item, plan, request.launched_by, launch)
            run_id = outcome if isinstance(outcome, int) else None
            note = (
                "launched after a restart: the evaluator stopped between recording this tick"
                " and starting its run"
                if run_id is not None
                else str(outcome)
            )
        if run_id is not None and run_id not in tick.run_ids:
            tick.run_ids.append(run_id)
        if tick.run_ids:
            failed = tick.status in (TickStatus.FAILED, TickStatus.PARTIAL) or tick.rejected
            tick.status = _ended(bool(failed), tick.run_ids)
        tick.reason = "\n".join(filter(None, [tick.reason, note]))
        with store.open_writer(db) as con, store.transaction(con):
            ticks_store.save_tick(con, tick)
        settled.append(tick)
    return settled


# --- the entry points ----------------------------------------------------------------------


def enabled(item: Schedule | FileSensor, state: AutomationState) -> bool:
    return item.enabled if state.enabled is None else state.enabled


def tick(defs: Definitions, db: str | Path, now: datetime, launch: Launch) -> list[Tick]:
    """Evaluate every switched-on schedule and sensor at `now`, launching what is due.

    The caller holds the daemon lock. Returns the ticks recorded (a schedule with nothing due
    records none).
    """
    path = Path(db)
    recorded = settle_pending(path, launch)
    with store.open_writer(path) as con:
        known = ticks_store.states(con)
    for item in defs.automations.values():
        state = known.get(item.name) or AutomationState(item.name, item.kind)
        if not enabled(item, state):
            continue
        if isinstance(item, Schedule):
            found = _tick_schedule(defs, path, item, state, now, launch)
        else:
            found = _tick_sensor(defs, path, item, state, now, launch)
        if found is not None:
            recorded.append(found)
    return recorded


def set_enabled(db: str | Path, defs: Definitions, name: str, on: bool) -> None:
    """Switch a schedule or sensor on or off in the store (the daemon reads it each tick). A
    schedule switched on starts from then: the times it was off are not made up for."""
    item = defs.automations[name]
    now = datetime.now(UTC)
    with store.open_writer(db) as con, store.transaction(con):
        state = ticks_store.state(con, name, item.kind)
        state.enabled = on
        if on and isinstance(item, Schedule):
            state.cursor = {}
        ticks_store.save_state(con, state, now)


def preview(defs: Definitions, db: str | Path, name: str, now: datetime) -> Preview:
    """What a tick of `name` would run at `now`, without writing or launching anything."""
    item = defs.automations[name]
    with store.open_store(db) as con:
        state = ticks_store.state(con, item.name, item.kind)
    result = Preview(item.name, item.kind)
    if isinstance(item, Schedule):
        due = item.next_time(now)
        plan = _schedule_plan(defs, item, due)
        if isinstance(plan, str):
            result.skipped = plan
        else:
            result.plans.append(plan)
        return result
    found, matching = _scan(item, dict(state.cursor.get("files", {})))
    for entry in found:
        plan = _file_plan(defs, item, entry)
        if isinstance(plan, str):
            result.errors.append(f"{entry.key}: {plan}")
        else:
            result.plans.append(plan)
    if not found:
        result.skipped = f"no new or changed file in {item.path} ({matching} seen)"
    return result
