"""The run going on now, read from the history: whoever started it (this dashboard, another
tab, the command line), every page can follow it and cancel it.

Plain Python over `pipeline.store`; the pages render what `active_run` returns.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from dashboard.settings import Settings
from pipeline import backfills, store
from pipeline.backfills import Progress
from pipeline.states import EventStatus, RunKind
from pipeline.store import AssetEvent, Backfill, CheckRecord, PartitionEvent, RunRecord
from pipeline.warehouse import run_active, utcnow


@dataclass
class LiveView:
    """One running run as the history has it now."""

    run: RunRecord
    events: list[AssetEvent]  # every planned asset, in plan order
    checks: list[CheckRecord] = field(default_factory=list)
    now: datetime = field(default_factory=utcnow)
    partitions: list[PartitionEvent] = field(default_factory=list)  # this run's so far
    backfill: tuple[Backfill, Progress] | None = None  # the backfill it works on

    def partition_counts(self, asset: str) -> dict[EventStatus, int]:
        """How many of `asset`'s partitions this run has built, failed, is building now."""
        counts: dict[EventStatus, int] = {}
        for event in self.partitions:
            if event.asset == asset:
                status = EventStatus(event.status)
                counts[status] = counts.get(status, 0) + 1
        return counts

    @property
    def checks_only(self) -> bool:
        return self.run.kind == RunKind.CHECKS

    @property
    def done(self) -> int:
        """Assets finished: built, failed or skipped; in a checks run, assets checked."""
        if self.checks_only:
            return len({c.asset for c in self.checks} & set(self.run.planned))
        return sum(EventStatus(e.status).finished for e in self.events)

    @property
    def total(self) -> int:
        return len(self.events) if self.events else len(self.run.planned)

    @property
    def cancelling(self) -> bool:
        return self.run.cancel_requested_at is not None

    def elapsed_s(self, event: AssetEvent) -> float | None:
        """Seconds a running asset has been at work (None while it waits)."""
        if event.status != EventStatus.RUNNING or event.started_at is None:
            return None
        return max(0.0, (self.now - event.started_at).total_seconds())


def active_run(cfg: Settings) -> LiveView | None:
    """The run holding the run lock of this warehouse now, or None.

    A run recorded as running whose process is gone reads as interrupted (store.open_store),
    so only a live run is returned.
    """
    if not run_active(cfg.db):
        return None
    with store.open_store(cfg.db) as con:
        running = store.running_runs(con)
        if not running:
            return None  # the lock is held, the run not yet recorded: it is starting
        run = running[-1]
        events = store.run_events(con, run.run_id)
        checks = store.run_check_results(con, run.run_id)
        partitions = store.run_partition_events(con, run.run_id)  # one row per partition
        found = _backfill_of(con, run.run_id)
        backfill = (found, backfills.progress(con, found)) if found else None
    order = {name: i for i, name in enumerate(run.planned)}
    events.sort(key=lambda e: order.get(e.asset, len(order)))
    return LiveView(run, events, checks, partitions=partitions, backfill=backfill)


def latest_run_id(cfg: Settings) -> int | None:
    """The newest run recorded: a page idle since it was drawn compares it to notice a run the
    daemon or the command line started (and perhaps finished) in the meantime."""
    if not store.history_exists(cfg.db):
        return None
    with store.open_store(cfg.db) as con:
        newest = store.list_runs(con, 1)
    return newest[0].run_id if newest else None


def _backfill_of(con: sqlite3.Connection, run_id: int) -> Backfill | None:
    """The backfill a run works on: one of the newest, since it is running now."""
    return next((b for b in store.list_backfills(con, 20) if run_id in b.run_ids), None)
