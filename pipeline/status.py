"""Where each asset stands: fresh, stale, never materialized, or failed, and why.

What stands in the warehouse comes from the catalog (mirrored from the warehouse's own ledger),
never from the events alone: a table dropped by hand or a replaced file is not "fresh".
Stale means its code changed since it was built, or an upstream asset was built after it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from pipeline import store
from pipeline.definitions import Definitions
from pipeline.states import EventStatus
from pipeline.store import AssetEvent, CatalogEntry, CheckRecord

STATUSES = ("fresh", "stale", "never", "failed")


@dataclass
class AssetStatus:
    asset: str
    status: str  # fresh | stale | never | failed
    reason: str
    last_materialization: AssetEvent | None
    last_attempt: AssetEvent | None


def asset_statuses(defs: Definitions, con: sqlite3.Connection) -> dict[str, AssetStatus]:
    """The status of every defined asset, from the history in `con`."""
    standing = store.catalog(con)
    built_events = store.latest_events(con, EventStatus.MATERIALIZED)
    attempts = store.latest_events(con)
    result: dict[str, AssetStatus] = {}
    for name in defs.graph.names:
        entry, attempt = standing.get(name), attempts.get(name)
        last = _build_event(entry, built_events.get(name))
        if attempt is not None and attempt.status == EventStatus.FAILED:
            status, reason = "failed", attempt.error or "the last build failed"
        elif last is None:
            status, reason = "never", _never_reason(built_events.get(name))
        elif last.code_version != defs.assets[name].code_version:
            status, reason = "stale", "its code changed since it was last materialized"
        elif newer := [
            parent
            for parent in defs.graph.parents(name)
            if parent in standing and _after(standing[parent], entry)
        ]:
            status, reason = (
                "stale",
                f"upstream {', '.join(map(repr, newer))} materialized after it",
            )
        else:
            status, reason = "fresh", "materialized and up to date"
        result[name] = AssetStatus(name, status, reason, last, attempt)
    return result


def _build_event(entry: CatalogEntry | None, event: AssetEvent | None) -> AssetEvent | None:
    """The materialization that made what stands now: its event, or one made from the ledger."""
    if entry is None:
        return None
    if event is not None and event.run_id == entry.run_id:
        return event
    return AssetEvent(
        entry.run_id or 0,
        entry.asset,
        EventStatus.MATERIALIZED,
        entry.kind,
        ended_at=entry.committed_at,
        row_count=entry.row_count,
        columns=entry.columns,
        preview=entry.preview,
        code_version=entry.code_version,
    )


def _never_reason(last_recorded: AssetEvent | None) -> str:
    if last_recorded is None:
        return "never materialized"
    return (
        f"not in the warehouse: built in run {last_recorded.run_id}, then dropped or the"
        " database file replaced"
    )


def _after(upstream: CatalogEntry, entry: CatalogEntry | None) -> bool:
    if entry is None or upstream.committed_at is None or entry.committed_at is None:
        return False
    return upstream.committed_at > entry.committed_at


def check_outcomes(defs: Definitions, con: sqlite3.Connection) -> dict[str, CheckRecord | None]:
    """The latest executed result of every defined check (None: never run), by 'asset.check'."""
    latest = store.latest_check_results(con)
    return {check.key: latest.get(check.key) for check in defs.checks}
