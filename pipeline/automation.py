"""Schedules and sensors: what starts a run when nobody clicks.

`Schedule` materializes a selection on a cron schedule in a timezone; `FileSensor` starts a run
for each new or changed file matching a pattern. Both are declared in `Definitions(...,
schedules=[...], sensors=[...])` and validated there, all problems at once. The daemon
(daemon.py) or `python -m pipeline tick` evaluates them (ticking.py); this module holds what is
true of them regardless of any store: their due times, the partitions a tick builds, their words.

Cron times come from croniter (the library Dagster uses), never parsed here. Across a DST change
a schedule runs once per wall-clock time: a time skipped in spring runs at the first instant
after the gap (croniter's answer), a time repeated in autumn runs at its first occurrence only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import SelectionError

if TYPE_CHECKING:
    from pipeline.definitions import Definitions

# A schedule's partitions: the one that has just ended (default), all of them, or a function
# of the scheduled time giving the keys.
PartitionChoice = Literal["last_ended", "all"] | Callable[[datetime], list[str]]
# A sensor's run config from a file: (path, its parsed JSON) -> {asset: {field: value}}.
ConfigFromFile = Callable[[Path, Any], Mapping[str, Mapping[str, Any]]]
_LONGEST = timedelta(days=31)  # a window longer ago than a month has not "just ended"
MAX_MISSED_COUNTED = 1000  # after long downtime, "missed 1000+ times" is enough to say


@dataclass(frozen=True)
class Schedule:
    """Materialize `select` (every asset when None) at each time `cron` gives in `timezone`."""

    name: str
    cron: str
    select: str | None = None
    timezone: str = "UTC"
    partitions: PartitionChoice = "last_ended"
    description: str | None = None
    enabled: bool = True  # until switched off or on in the dashboard (kept in the store)

    @property
    def kind(self) -> str:
        return "schedule"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def times_between(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Scheduled times t with after < t <= until, once per wall-clock time, oldest first."""
        from croniter import croniter

        seen_wall: datetime | None = None
        for moment in croniter(self.cron, after.astimezone(self.zone)).all_next(datetime):
            if moment > until:
                return
            wall = moment.replace(tzinfo=None)
            if wall == seen_wall:  # autumn's repeated hour: the first occurrence ran already
                continue
            seen_wall = wall
            yield moment

    def latest_time(self, now: datetime) -> datetime:
        """The last scheduled time at or before `now`."""
        from croniter import croniter

        return croniter(self.cron, (now + timedelta(seconds=1)).astimezone(self.zone)).get_prev(
            datetime
        )

    def next_time(self, now: datetime) -> datetime:
        """The first scheduled time after `now`, in the schedule's timezone."""
        from croniter import croniter

        moment: datetime = croniter(self.cron, now.astimezone(self.zone)).get_next(datetime)
        return moment

    def in_words(self) -> str:
        """'At 12:00 AM, only on Monday (UTC)': what the cron means, for people."""
        from cron_descriptor import get_description

        return f"{get_description(self.cron)} ({self.timezone})"


@dataclass(frozen=True)
class FileSensor:
    """Start a run of `select` for each new or changed file matching `path` (a glob, relative
    to the working folder unless absolute). Each file is read as JSON; its object is the run
    config of the one selected asset that takes config, unless `config` says otherwise."""

    name: str
    path: str
    select: str | None = None
    config: ConfigFromFile | None = None
    description: str | None = None
    enabled: bool = True

    @property
    def kind(self) -> str:
        return "sensor"

    def pattern(self) -> tuple[Path, str]:
        """(folder, glob) of `path`: 'data/requests/*.json' -> (data/requests, '*.json')."""
        parts = Path(self.path).parts
        cut = next((i for i, p in enumerate(parts) if any(c in p for c in "*?[")), len(parts))
        folder = Path(*parts[:cut]) if cut else Path(".")
        glob = str(Path(*parts[cut:])) if cut < len(parts) else "*"
        return folder, glob


Automation = Schedule | FileSensor


def partition_keys_for(defs: Definitions, schedule: Schedule, at: datetime) -> dict[str, list[str]]:
    """The partitions a tick of `schedule` at `at` builds, per partitioned asset it selects.

    'last_ended' gives a time-partitioned asset the window that ended last by `at` (the
    previous month for a monthly asset at 00:00 on the 1st); an asset whose definition has no
    such window gets an empty list, and the tick says why. Static partitions build whole.
    """
    from pipeline import selection

    names = selection.select(defs, schedule.select)
    chosen: dict[str, list[str]] = {}
    for name in sorted(names):
        partitions = defs.assets[name].partitions
        if partitions is None or schedule.partitions == "all" or partitions.kind != "time":
            continue
        if callable(schedule.partitions):
            chosen[name] = [str(key) for key in schedule.partitions(at)]
            continue
        day = at.astimezone(schedule.zone).date()
        ended = [
            key for key in partitions.get_partition_keys(today=day) if _end(partitions, key) <= day
        ]
        # The window that ended last by `day`; none when the definition ends earlier.
        chosen[name] = ended[-1:] if ended and _end(partitions, ended[-1]) > day - _LONGEST else []
    return chosen


def _end(partitions: Any, key: str) -> date:
    window = partitions.window(key)
    assert window is not None
    end: date = window.end
    return end


def problems(defs: Definitions) -> list[str]:
    """Everything wrong with the definitions' schedules and sensors, all at once."""
    from pipeline import run_config, selection

    found: list[str] = []
    seen: dict[str, str] = {}
    for item in [*defs.schedules, *defs.sensors]:
        if not isinstance(item, Schedule | FileSensor):
            found.append(f"{item!r} is not a Schedule or FileSensor")
            continue
        label = f"{item.kind} '{item.name}'"
        if not item.name or not item.name.strip():
            found.append(f"a {item.kind} has an empty name: give it one")
        elif item.name in seen:
            found.append(f"{label} is defined twice (also as a {seen[item.name]}): rename one")
        seen[item.name] = item.kind
        try:
            names = selection.select(defs, item.select)
        except SelectionError as exc:
            found.append(f"{label} selects {item.select!r}: {exc}")
            names = set()
        if isinstance(item, Schedule):
            found += _schedule_problems(item, label)
        else:
            if not item.path.strip():
                found.append(f"{label} has an empty path: give a glob such as data/requests/*.json")
            configurable = [n for n in sorted(names) if defs.assets[n].config is not None]
            if item.config is None and len(configurable) > 1:
                found.append(
                    f"{label} selects {len(configurable)} assets that take config"
                    f" ({', '.join(configurable)}): pass config=fn(path, data) to say which"
                    " values go to which"
                )
        if isinstance(item, Schedule):
            needing = [n for n in sorted(names) if run_config.requires_config(defs.assets[n])]
            if needing and item.select is not None and needing[0] in selection.named(item.select):
                found.append(
                    f"{label} selects '{needing[0]}', which needs run config: a schedule gives"
                    " none; let a sensor request it"
                )
    return found


def _schedule_problems(schedule: Schedule, label: str) -> list[str]:
    from croniter import croniter

    found = []
    if not isinstance(schedule.cron, str) or not croniter.is_valid(schedule.cron):
        found.append(
            f"{label} has cron {schedule.cron!r}, which is not a cron expression: write five"
            ' fields, minute hour day-of-month month day-of-week, e.g. "0 0 * * 1" (Mondays)'
        )
    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        found.append(
            f"{label} has timezone {schedule.timezone!r}, which is not an IANA timezone:"
            ' write e.g. "UTC" or "Europe/Berlin"'
        )
    if not (schedule.partitions in ("last_ended", "all") or callable(schedule.partitions)):
        found.append(
            f"{label} has partitions={schedule.partitions!r}: use 'last_ended', 'all' or a"
            " function of the scheduled time giving partition keys"
        )
    return found
