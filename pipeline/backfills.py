"""Backfills: many partitions asked for at once, built over as many runs as it takes.

A run asked for more than one partition starts a backfill: a record of the assets and keys,
and of every run working on it. Its progress is the share of (asset, partition) pairs built by
one of those runs. Resuming it (after a crash, a cancel or failures) starts a run for the pairs
not built yet, nothing else.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from pipeline import store
from pipeline.errors import SelectionError
from pipeline.states import EventStatus, RunStatus
from pipeline.store import Backfill
from pipeline.warehouse import utcnow


@dataclass(frozen=True)
class Progress:
    built: int
    failed: int
    total: int

    @property
    def done(self) -> bool:
        return self.built == self.total

    def __str__(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.built} of {self.total} partitions built{failed}"


def _latest_in_runs(history: sqlite3.Connection, backfill: Backfill) -> dict[tuple[str, str], str]:
    """(asset, key) -> its newest status among the backfill's runs."""
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for run_id in backfill.run_ids:
        for event in store.run_partition_events(history, run_id):
            pair = (event.asset, event.partition_key)
            if pair not in found or found[pair][0] <= run_id:
                found[pair] = (run_id, event.status)
    return {pair: status for pair, (_, status) in found.items()}


def progress(history: sqlite3.Connection, backfill: Backfill) -> Progress:
    latest = _latest_in_runs(history, backfill)
    pairs = [(a, k) for a in backfill.assets for k in backfill.partition_keys]
    built = sum(1 for p in pairs if latest.get(p) == EventStatus.MATERIALIZED)
    failed = sum(1 for p in pairs if latest.get(p) == EventStatus.FAILED)
    return Progress(built, failed, len(pairs))


def remaining(
    history: sqlite3.Connection, backfill_id: int
) -> tuple[Backfill, dict[str, list[str]]]:
    """The backfill and, per asset, its partitions no run of it has built yet."""
    backfill = store.get_backfill(history, backfill_id)
    if backfill is None:
        shown = [str(b.backfill_id) for b in store.list_backfills(history, 5)]
        known = f"; recent backfills: {', '.join(shown)}" if shown else "; there are none yet"
        raise SelectionError(f"no backfill {backfill_id}{known}")
    latest = _latest_in_runs(history, backfill)
    todo = {
        asset: [
            k for k in backfill.partition_keys if latest.get((asset, k)) != EventStatus.MATERIALIZED
        ]
        for asset in backfill.assets
    }
    return backfill, {asset: keys for asset, keys in todo.items() if keys}


def start(
    history: sqlite3.Connection, keys_for: dict[str, list[str]], launched_by: str | None
) -> Backfill:
    assets = sorted(keys_for)
    keys = sorted({k for ks in keys_for.values() for k in ks})
    return store.start_backfill(history, assets, keys, launched_by)


def attach(history: sqlite3.Connection, backfill: Backfill, run_id: int) -> None:
    backfill.run_ids = [*backfill.run_ids, run_id]
    backfill.status, backfill.ended_at = RunStatus.RUNNING, None
    with store.transaction(history):
        store.update_backfill(history, backfill)


def finish(history: sqlite3.Connection, backfill: Backfill, run_status: str) -> None:
    """After each of its runs: done when every pair is built, else as its last run ended."""
    now = progress(history, backfill)
    backfill.status = RunStatus.SUCCESS if now.done else run_status
    if backfill.status == RunStatus.SUCCESS and not now.done:
        backfill.status = RunStatus.FAILED
    backfill.ended_at = utcnow()
    backfill.message = str(now)
    with store.transaction(history):
        store.update_backfill(history, backfill)
