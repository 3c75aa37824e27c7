"""The Automation page: the daemon's heartbeat, each schedule and sensor with its switch and
last ticks, and the Test button's answer (what a tick would run now, launching nothing).

Plain Python: the page passes the browser's timezone in and renders what comes back. Times are
shown in that zone; when the browser does not say, a schedule's times are shown in its own zone
and the rest in the server's, each time with its zone's abbreviation.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.models.reading import history
from dashboard.settings import ENV_DB, ENV_DEFS, Settings
from pipeline import ticking
from pipeline.automation import FileSensor, Schedule
from pipeline.daemon import HEARTBEAT_EVERY, daemon_active
from pipeline.definitions import Definitions
from pipeline.looks import look
from pipeline.states import TickStatus
from pipeline.store import automation as ticks_store

TICKS_SHOWN = 5  # lines per schedule or sensor, a run of alike skipped ticks being one line
TICKS_READ = 100  # the newest ticks read to fill them: a sensor skips every interval
STALE_BEATS = 3  # a daemon unheard for this many heartbeats is no longer taken as running


class DaemonState(StrEnum):
    RUNNING = "running"  # holds the daemon lock and its heartbeat is fresh
    BUSY = "busy"  # holds the lock without a fresh heartbeat: a `tick`, or a daemon stuck
    STOPPED = "stopped"  # stopped cleanly (Ctrl-C, SIGTERM)
    VANISHED = "vanished"  # its heartbeat stopped without a clean stop: killed or crashed
    NEVER = "never"  # no daemon ever ran on this database


@dataclass
class DaemonView:
    state: DaemonState
    command: str  # how to start one with the dashboard's definitions and database
    pid: int | None = None
    host: str | None = None
    seen_ago_s: float | None = None
    interval_s: float | None = None
    started_at: str | None = None  # formatted, with its zone
    stopped_at: str | None = None

    @property
    def seen_ago(self) -> str:
        """'12 s ago', '4 min ago', '3 h ago': since its last heartbeat."""
        return seconds_ago(self.seen_ago_s)


@dataclass
class TickRow:
    tick_id: int
    status: TickStatus
    evaluated_at: str  # formatted, with its zone
    scheduled_for: str | None
    reason: str | None
    run_ids: list[int]
    files: list[str]
    rejected: int = 0  # request files it refused
    count: int = 1  # alike skipped ticks in a row, shown as this one line
    earliest_at: str | None = None  # the oldest of them, when more than one

    @property
    def label(self) -> str:
        """'Requested 1 run, 2 files rejected': what came of it, so a tick that started runs
        and refused files reads neither as a plain failure nor as a plain success."""
        runs = _count(len(self.run_ids), "run")
        refused = _count(self.rejected, "file") + " rejected"
        if self.status == TickStatus.PARTIAL:
            return f"Requested {runs}, {refused}"
        if self.status == TickStatus.REQUESTED and len(self.run_ids) > 1:
            return f"Requested {runs}"
        if self.status == TickStatus.FAILED and self.rejected:
            return f"Failed: {refused}"
        return look(self.status).label


@dataclass
class ScheduleCard:
    name: str
    description: str | None
    select: str
    cron: str
    in_words: str
    timezone: str
    on: bool
    next_run: str  # formatted in the zone shown, with its abbreviation
    ticks: list[TickRow]
    ended: str | None = None  # why its next tick runs nothing: its partitions end before it


@dataclass
class SensorCard:
    name: str
    description: str | None
    select: str
    path: str
    on: bool
    files_seen: list[tuple[str, str]]  # (file, the start of its sha256), sorted by file
    evaluated_at: str | None
    ticks: list[TickRow]


@dataclass
class AutomationModel:
    daemon: DaemonView
    schedules: list[ScheduleCard]
    sensors: list[SensorCard]
    zone_note: str  # which zone the times are in

    @property
    def empty(self) -> bool:
        return not self.schedules and not self.sensors


@dataclass
class PlannedRun:
    """One run the Test button found a tick would request."""

    describe: str
    file: str | None
    config: dict[str, Any] | None
    partition_keys: list[str] | None


@dataclass
class DryRun:
    name: str
    kind: str
    tested_at: str
    due: str | None  # a schedule: the scheduled time evaluated
    plans: list[PlannedRun] = field(default_factory=list)
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)  # 'file: why', for a sensor


def _count(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def seconds_ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} days ago"


def viewer_zone(name: str | None) -> ZoneInfo | None:
    """The browser's timezone (st.context.timezone), when it names a real one."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _server_zone() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


def _when(moment: datetime | None, zone: tzinfo) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the store keeps UTC
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def start_command(cfg: Settings) -> str:
    """`python -m pipeline daemon` with the definitions and database this dashboard reads,
    and the ASSETBOARD_* variables the definitions may read (the example's data folder)."""
    extra = sorted(
        (key, value)
        for key, value in os.environ.items()
        if key.startswith("ASSETBOARD_") and key not in (ENV_DEFS, ENV_DB)
    )
    words = [f"{key}={shlex.quote(value)}" for key, value in extra]
    words += ["python", "-m", "pipeline", "daemon"]
    words += ["--defs", shlex.quote(cfg.defs), "--db", shlex.quote(str(cfg.db))]
    return " ".join(words)


def _daemon(
    cfg: Settings, beat: ticks_store.DaemonBeat | None, now: datetime, zone: tzinfo
) -> DaemonView:
    view = DaemonView(DaemonState.NEVER, start_command(cfg))
    holds_lock = daemon_active(cfg.db)
    if beat is not None:
        view.pid, view.host, view.interval_s = beat.pid, beat.host, beat.interval_s
        view.seen_ago_s = max(0.0, (now - beat.last_seen).total_seconds())
        view.started_at = _when(beat.started_at, zone)
        view.stopped_at = _when(beat.stopped_at, zone)
    fresh = (
        beat is not None
        and beat.stopped_at is None
        and view.seen_ago_s is not None
        and view.seen_ago_s <= STALE_BEATS * min(HEARTBEAT_EVERY, beat.interval_s)
    )
    if holds_lock:
        view.state = DaemonState.RUNNING if fresh else DaemonState.BUSY
    elif beat is None:
        view.state = DaemonState.NEVER
    elif beat.stopped_at is not None:
        view.state = DaemonState.STOPPED
    else:
        view.state = DaemonState.VANISHED
    return view


def _tick_row(tick: ticks_store.Tick, zone: tzinfo) -> TickRow:
    try:
        status = TickStatus(tick.status)
    except ValueError:  # a word a newer pipeline writes: shown as being evaluated
        status = TickStatus.STARTED
    evaluated = _when(tick.evaluated_at, zone)
    assert evaluated is not None
    return TickRow(
        tick.tick_id,
        status,
        evaluated,
        _when(tick.scheduled_for, zone),
        tick.reason,
        list(tick.run_ids),
        list(tick.files),
        len(tick.rejected),
    )


def _tick_rows(ticks: list[ticks_store.Tick], zone: tzinfo) -> list[TickRow]:
    """Newest first; skipped ticks in a row with the same reason as one line, so a sensor
    that finds nothing every 30 s does not push the ticks that did something off the page."""
    rows: list[TickRow] = []
    for tick in ticks:
        row = _tick_row(tick, zone)
        last = rows[-1] if rows else None
        if (
            last is not None
            and row.status == last.status == TickStatus.SKIPPED
            and row.reason == last.reason
        ):
            last.count += 1
            last.earliest_at = row.evaluated_at
            continue
        if len(rows) == TICKS_SHOWN:
            break
        rows.append(row)
    return rows


def automation_page(
    cfg: Settings, defs: Definitions, browser_zone: str | None, now: datetime | None = None
) -> AutomationModel:
    """Everything the page shows, read in one short visit to the history."""
    now = now or datetime.now(UTC)
    viewer = viewer_zone(browser_zone)
    server = viewer or _server_zone()
    with history(cfg) as con:
        known = ticks_store.states(con)
        recent = {name: ticks_store.ticks(con, name, TICKS_READ) for name in defs.automations}
        beat = ticks_store.daemon_beat(con)
    schedules, sensors = [], []
    for name, item in defs.automations.items():
        state = known.get(name) or ticks_store.AutomationState(name, item.kind)
        on = ticking.enabled(item, state)
        if isinstance(item, Schedule):
            zone = viewer or item.zone
            due = item.next_time(now)
            next_run = _when(due, zone)
            assert next_run is not None
            schedules.append(
                ScheduleCard(
                    name,
                    item.description,
                    item.select or "*",
                    item.cron,
                    item.in_words(),
                    item.timezone,
                    on,
                    next_run,
                    _tick_rows(recent[name], zone),
                    ticking.partitions_ended(defs, item, due),
                )
            )
        elif isinstance(item, FileSensor):
            seen = state.cursor.get("files", {})
            sensors.append(
                SensorCard(
                    name,
                    item.description,
                    item.select or "*",
                    item.path,
                    on,
                    sorted((str(path), str(digest)[:12]) for path, digest in seen.items()),
                    _when(state.evaluated_at, server),
                    _tick_rows(recent[name], server),
                )
            )
    if viewer is not None:
        note = f"Times are in your browser's timezone, {browser_zone}."
    else:
        note = (
            "Your browser did not say its timezone: a schedule's times are in its own timezone,"
            f" the others in the server's ({datetime.now(server).strftime('%Z')})."
        )
    return AutomationModel(_daemon(cfg, beat, now, server), schedules, sensors, note)


def switch(cfg: Settings, defs: Definitions, name: str, on: bool) -> None:
    """Switch a schedule or sensor on or off in the store; the daemon reads it each tick."""
    ticking.set_enabled(cfg.db, defs, name, on)


def dry_run(
    cfg: Settings,
    defs: Definitions,
    name: str,
    browser_zone: str | None,
    now: datetime | None = None,
) -> DryRun:
    """What a tick of `name` would request now (a schedule: at its next time), launching
    nothing and writing nothing."""
    now = now or datetime.now(UTC)
    item = defs.automations[name]
    zone: tzinfo = viewer_zone(browser_zone) or (
        item.zone if isinstance(item, Schedule) else _server_zone()
    )
    found = ticking.preview(defs, cfg.db, name, now)
    tested_at = _when(now, zone)
    assert tested_at is not None
    due = _when(item.next_time(now), zone) if isinstance(item, Schedule) else None
    return DryRun(
        name,
        item.kind,
        tested_at,
        due,
        [PlannedRun(p.describe(), p.file, p.config, p.partition_keys) for p in found.plans],
        found.skipped,
        list(found.errors),
    )
