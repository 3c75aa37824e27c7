"""Where each partition of an asset stands: one answer for `partitions`, the strip, the health.

A partition is materialized (its rows stand and nothing upstream is newer), stale (it stands,
but the asset's code changed since, or an asset at any level upstream was built after it), failed
(its latest build failed; rows an older build left, if any, are still there) or missing (never
built, or built before the table was rebuilt whole). Its checks are those of its latest records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pipeline import store
from pipeline.definitions import Definitions
from pipeline.states import CheckOutcome, EventStatus
from pipeline.store import CatalogEntry, PartitionCheck, PartitionEntry, PartitionEvent

MATERIALIZED, STALE, FAILED, MISSING = "materialized", "stale", "failed", "missing"
ORDER = (FAILED, MISSING, STALE, MATERIALIZED)  # worst first


@dataclass
class PartitionState:
    key: str
    status: str  # materialized | stale | failed | missing
    entry: PartitionEntry | None  # the build whose rows stand
    latest: PartitionEvent | None  # the newest finished build (failed ones included)
    checks: dict[str, PartitionCheck] = field(default_factory=dict)
    stale_reason: str | None = None  # why, when stale

    @property
    def check_outcome(self) -> str | None:
        """The worst outcome among its checks' latest records, if any ran."""
        ran = [c.outcome for c in self.checks.values() if c.outcome != CheckOutcome.SKIPPED]
        order = [CheckOutcome.ERROR, CheckOutcome.FAILED, CheckOutcome.WARNED, CheckOutcome.PASSED]
        return min(ran, key=lambda outcome: order.index(CheckOutcome(outcome))) if ran else None


@dataclass(frozen=True)
class Summary:
    total: int
    materialized: int
    stale: int
    failed: int
    missing: int
    checks_failing: int

    def __str__(self) -> str:
        text = f"{self.materialized + self.stale} of {self.total} partitions materialized"
        extra = [f"{self.failed} failed"] * bool(self.failed) + [f"{self.stale} stale"] * bool(
            self.stale
        )
        if self.checks_failing:
            extra.append(f"{self.checks_failing} failing checks")
        return text + (f", {', '.join(extra)}" if extra else "")


def partition_states(
    defs: Definitions,
    con: sqlite3.Connection,
    asset_name: str,
    catalog: Mapping[str, CatalogEntry] | None = None,
) -> list[PartitionState]:
    """Every partition of `asset_name` (in key order), from the history in `con`; `catalog`:
    the builds standing, when the caller has just read them (every asset's status does)."""
    asset = defs.assets[asset_name]
    if asset.partitions is None:
        return []
    standing = store.partition_catalog(con, asset_name)
    latest = store.latest_partition_events(con, asset_name)
    checks = store.latest_partition_checks(con, asset_name)
    upstream = _upstream_times(defs, con, asset_name, catalog)
    versions = store.partition_code_versions(con, asset_name)
    states = []
    for key in asset.partitions.get_partition_keys():
        entry, event = standing.get(key), latest.get(key)
        why = None
        if event is not None and event.status == EventStatus.FAILED:
            status = FAILED
        elif entry is None:
            status = MISSING
        elif versions.get(key, asset.code_version) != asset.code_version:
            status, why = STALE, CODE_CHANGED
        elif newer := _newer_upstream(upstream, key, entry.committed_at):
            status, why = STALE, f"upstream '{newer}' was built after it"
        else:
            status = MATERIALIZED
        states.append(PartitionState(key, status, entry, event, checks.get(key, {}), why))
    return states


CODE_CHANGED = "its code changed since it was built"


def code_changed_reason(states: list[PartitionState]) -> str | None:
    """Why the asset is stale when some of its partitions were built by older code, even if
    the newest one (the asset's recorded build) was not: None when none were."""
    old = [s.key for s in states if s.stale_reason == CODE_CHANGED]
    if not old:
        return None
    if len(old) == 1:
        return f"its code changed since partition {old[0]} was built"
    built = sum(1 for s in states if s.entry is not None)
    return f"its code changed since {len(old)} of its {built} partitions were built ({old[0]}, ...)"


def upstream_newer_reason(states: list[PartitionState]) -> str | None:
    """Why the asset is stale when an upstream was built after some of its partitions, even if
    not after the newest one (the asset's recorded build): None when none were."""
    old = [s for s in states if s.status == STALE and s.stale_reason != CODE_CHANGED]
    if not old:
        return None
    if len(old) == 1:
        return f"{old[0].stale_reason} (partition {old[0].key})"
    built = sum(1 for s in states if s.entry is not None)
    return f"{old[0].stale_reason} ({len(old)} of its {built} partitions, {old[0].key}, ...)"


def summarize(states: list[PartitionState]) -> Summary:
    def count(status: str) -> int:
        return sum(1 for s in states if s.status == status)

    failing = sum(1 for s in states if s.check_outcome in (CheckOutcome.FAILED, CheckOutcome.ERROR))
    return Summary(len(states), count(MATERIALIZED), count(STALE), count(FAILED), count(MISSING),
                   failing)  # fmt: skip


UpstreamTimes = list[tuple[str, dict[str, datetime] | None, datetime | None]]


def _upstream_times(
    defs: Definitions,
    con: sqlite3.Connection,
    name: str,
    catalog: Mapping[str, CatalogEntry] | None,
) -> UpstreamTimes:
    """Per asset anywhere upstream (as the asset's own status looks through every level): its
    partitions' commit times when partitioned alike, else its own."""
    asset = defs.assets[name]
    catalog = store.catalog(con, previews=False) if catalog is None else catalog
    found: UpstreamTimes = []
    for above in sorted(defs.graph.upstream(name)):
        above_def = defs.assets[above]
        if above_def.partitions is not None and above_def.partitions == asset.partitions:
            parts = store.partition_catalog(con, above)
            times = {k: e.committed_at for k, e in parts.items() if e.committed_at}
            found.append((above, times, None))
        else:
            entry = catalog.get(above)
            found.append((above, None, entry.committed_at if entry else None))
    return found


def _newer_upstream(upstream: UpstreamTimes, key: str, built: datetime | None) -> str | None:
    """The upstream built most recently after `built`, if any, for the partition `key`."""
    if built is None:
        return None
    newest: tuple[datetime, str] | None = None
    for above, per_key, whole in upstream:
        when = per_key.get(key) if per_key is not None else whole
        if when is not None and when > built and (newest is None or (when, above) > newest):
            newest = (when, above)
    return newest[1] if newest else None
