"""Partitions: the slices an asset is built in, shaped like Dagster's.

Time partitions are windows (a month, a week, a day) keyed by their first day, "2024-03-01",
from `start` up to the last window that has ended (Dagster's default; `end_offset=1` adds the
window going on now), or up to `end` when given. Static partitions are a fixed list of keys.
A key that is not a partition gets an error naming the nearest ones.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.errors import PipelineError
from pipeline.textsafe import quoted

KEY_FORMAT = "%Y-%m-%d"


class PartitionError(PipelineError):
    """A partition key or range that the asset does not have; the message says which it has."""


@dataclass(frozen=True)
class TimeWindow:
    """[start, end): the window's first day and the first day after it."""

    start: date
    end: date


@dataclass(frozen=True)
class BackfillPolicy:
    """How many partitions of an asset one build covers when a run asks for several, as in
    Dagster: `single_run()` builds them all in one call of the function (its context then has
    `partition_keys` and a `partition_window` spanning them, and its SQL must derive each row's
    partition itself), `multi_run(n)` at most n per call. Without a policy: one per call."""

    max_partitions_per_run: int | None = 1

    @classmethod
    def single_run(cls) -> BackfillPolicy:
        return cls(None)

    @classmethod
    def multi_run(cls, max_partitions_per_run: int = 1) -> BackfillPolicy:
        if max_partitions_per_run < 1:
            raise PartitionError(
                f"max_partitions_per_run must be 1 or more, not {max_partitions_per_run}"
            )
        return cls(max_partitions_per_run)


class Partitions:
    """What a partitioned asset is built in: its keys, in order."""

    kind = "partitions"

    def get_partition_keys(self, today: date | None = None) -> list[str]:
        raise NotImplementedError

    def window(self, key: str) -> TimeWindow | None:
        """The key's time window; None for static partitions."""
        return None

    def describe(self) -> str:
        raise NotImplementedError

    def check_key(self, key: str, today: date | None = None) -> str:
        """`key` if it is one of the keys; else a PartitionError naming the nearest."""
        keys = self.get_partition_keys(today)
        if key in keys:
            return key
        raise PartitionError(
            f"{quoted(key)} is not a partition of {self.describe()}{_nearest(key, keys)}"
        )

    def key_range(self, first: str, last: str, today: date | None = None) -> list[str]:
        """The keys from `first` to `last`, both included, in order."""
        keys = self.get_partition_keys(today)
        for key in (first, last):
            self.check_key(key, today)
        i, j = keys.index(first), keys.index(last)
        if i > j:
            raise PartitionError(
                f"the range {first}...{last} is reversed: its first key comes after its last;"
                f" write {last}...{first}"
            )
        return keys[i : j + 1]


class StaticPartitions(Partitions):
    """A fixed list of keys, e.g. product categories."""

    kind = "static"

    def __init__(self, keys: list[str] | tuple[str, ...]) -> None:
        cleaned = [str(key) for key in keys]
        if not cleaned:
            raise PartitionError("StaticPartitions needs at least one key")
        if duplicates := sorted({k for k in cleaned if cleaned.count(k) > 1}):
            raise PartitionError(f"StaticPartitions has duplicate keys: {', '.join(duplicates)}")
        if blank := [k for k in cleaned if not k.strip()]:
            raise PartitionError(f"StaticPartitions has {len(blank)} blank key(s)")
        self._keys = cleaned

    def get_partition_keys(self, today: date | None = None) -> list[str]:
        return list(self._keys)

    def describe(self) -> str:
        return f"the static partitions ({len(self._keys)} keys)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticPartitions) and other._keys == self._keys

    def __hash__(self) -> int:
        return hash(tuple(self._keys))

    def __repr__(self) -> str:
        return f"StaticPartitions({self._keys!r})"


class TimePartitions(Partitions):
    """Windows of one length from `start`: a subclass says how long and where they begin."""

    kind = "time"
    unit = "window"

    def __init__(
        self, start: str | date, end: str | date | None = None, end_offset: int = 0
    ) -> None:
        self.start = self._align(_as_date(start, "start"))
        if self.start != _as_date(start, "start"):
            raise PartitionError(
                f"start {_as_date(start, 'start')} is not the first day of a {self.unit}:"
                f" use {self.start}"
            )
        self.end = None if end is None else _as_date(end, "end")
        if self.end is not None and self.end <= self.start:
            raise PartitionError(f"end {self.end} must come after start {self.start}")
        if end_offset < 0:
            raise PartitionError(f"end_offset must be 0 or more, not {end_offset}")
        self.end_offset = end_offset

    def _align(self, day: date) -> date:
        """The first day of the window holding `day`."""
        raise NotImplementedError

    def _next(self, day: date) -> date:
        """The first day of the window after the one starting on `day`."""
        raise NotImplementedError

    def get_partition_keys(self, today: date | None = None) -> list[str]:
        """Every window from start that has ended by `today` (plus end_offset more), or that
        ends by `end`."""
        if self.end is not None:
            limit = self.end
        else:
            limit = self._align(today or datetime.now().date())
            for _ in range(self.end_offset):
                limit = self._next(limit)
        keys, day = [], self.start
        while self._next(day) <= limit:
            keys.append(day.strftime(KEY_FORMAT))
            day = self._next(day)
        return keys

    def window(self, key: str) -> TimeWindow | None:
        day = _as_date(key, "partition key")
        return TimeWindow(day, self._next(day))

    def check_key(self, key: str, today: date | None = None) -> str:
        try:
            day = datetime.strptime(key, KEY_FORMAT).date()
        except ValueError:
            raise PartitionError(
                f"{quoted(key)} is not a partition key of {self.describe()}: keys are dates written"
                f" YYYY-MM-DD{_nearest(key, self.get_partition_keys(today))}"
            ) from None
        if day < self.start:
            raise PartitionError(
                f"{key} is before the first partition of {self.describe()}, {self.start}"
            )
        keys = self.get_partition_keys(today)
        if key in keys:
            return key
        if not keys or day >= self._next(datetime.strptime(keys[-1], KEY_FORMAT).date()):
            last = f"the last is {keys[-1]}" if keys else "none has ended yet"
            why = (
                f"the definition ends them at {self.end}"  # where its data ends, say
                if self.end is not None and day >= self.end
                else f"a {self.unit} is a partition once it has ended, or set end_offset=1 to"
                " include the current one"
            )
            raise PartitionError(
                f"{key} is after the last partition of {self.describe()} ({last}): {why}"
            )
        aligned = self._align(day).strftime(KEY_FORMAT)
        raise PartitionError(
            f"{quoted(key)} is not a partition of {self.describe()}: partitions start on the"
            f" first day of a {self.unit}. Nearest: {aligned}"
        )

    def describe(self) -> str:
        end = "" if self.end is None else f", end={self.end}"
        return f"{type(self).__name__}(start={self.start}{end})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, TimePartitions)
            and (other.start, other.end, other.end_offset)
            == (self.start, self.end, self.end_offset)
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.start, self.end, self.end_offset))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(start={str(self.start)!r}, end={self.end!r})"


class MonthlyPartitions(TimePartitions):
    unit = "month"

    def _align(self, day: date) -> date:
        return day.replace(day=1)

    def _next(self, day: date) -> date:
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class WeeklyPartitions(TimePartitions):
    """Weeks starting on Sunday, as Dagster's."""

    unit = "week (starting on Sunday)"

    def _align(self, day: date) -> date:
        return day - timedelta(days=(day.weekday() + 1) % 7)

    def _next(self, day: date) -> date:
        return day + timedelta(days=7)


class DailyPartitions(TimePartitions):
    unit = "day"

    def _align(self, day: date) -> date:
        return day

    def _next(self, day: date) -> date:
        return day + timedelta(days=1)


def _as_date(value: str | date, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(value, KEY_FORMAT).date()
    except (TypeError, ValueError):
        raise PartitionError(f"{what} {value!r} is not a date written YYYY-MM-DD") from None


def _nearest(key: str, keys: list[str]) -> str:
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
    if close:
        return f". Nearest: {', '.join(close)}"
    if not keys:
        return ". It has no partitions yet"
    shown = keys if len(keys) <= 4 else [*keys[:2], "…", *keys[-2:]]
    return f". It has {len(keys)}: {', '.join(shown)}"
