"""Partitions in a run's report: which partitions each asset built, failed or skipped, and
which checks did not pass in which partition.

The run's own check record holds each check's worst outcome over its partitions; this module
keeps the outcome of every partition beside it, so a reader learns *where* a check failed.
Read once by `collect`; every renderer words it through the helpers here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline import store
from pipeline.states import CheckOutcome, EventStatus

STATUS_ORDER = ("failed", "skipped", "materialized")  # what went wrong first
NOT_PASSING = ("error", "failed", "warned")  # worst first
KEYS_SHOWN = 6


@dataclass
class PartitionBuild:
    """One partition's build in the run."""

    asset: str
    key: str
    status: str  # EventStatus
    row_count: int | None
    duration_s: float | None
    error: str | None


@dataclass
class PartitionCheckResult:
    """One check's execution on one partition in the run."""

    asset: str
    check_name: str
    key: str  # the partition
    outcome: str  # CheckOutcome
    severity: str
    observed_value: float | None
    failing_count: int | None
    error: str | None

    @property
    def check_key(self) -> str:
        return f"{self.asset}.{self.check_name}"

    @property
    def headline(self) -> str:
        """'3 failing rows', 'could not run: ...', what happened on this partition."""
        if self.outcome == CheckOutcome.ERROR:
            return f"could not run: {self.error or 'unknown error'}"
        if self.outcome == CheckOutcome.SKIPPED:
            return f"not run: {self.error or 'its partition was not built'}"
        if self.failing_count:
            return f"{self.failing_count:,} failing row{'s' if self.failing_count != 1 else ''}"
        return self.outcome


@dataclass
class AssetPartitions:
    """The partitions of one asset the run worked on, in key order."""

    asset: str
    builds: list[PartitionBuild]

    def keys(self, status: str) -> list[str]:
        return [build.key for build in self.builds if build.status == status]

    @property
    def failed(self) -> list[PartitionBuild]:
        return [build for build in self.builds if build.status == EventStatus.FAILED]

    @property
    def counts(self) -> dict[str, int]:
        """Statuses with their number of partitions, worst first, only those that occur."""
        order = [*STATUS_ORDER, *sorted({b.status for b in self.builds} - set(STATUS_ORDER))]
        found = {status: len(self.keys(status)) for status in order}
        return {status: count for status, count in found.items() if count}

    def summary(self) -> str:
        """'3 built (2024-01-01, ...), 1 failed (2024-02-01)': words from the run's statuses."""
        words = {"materialized": "built", "not_started": "not started"}
        return "; ".join(
            f"{count} {words.get(status, status)} ({key_list(self.keys(status))})"
            for status, count in self.counts.items()
        )


def collect(
    con: sqlite3.Connection, run_id: int
) -> tuple[list[PartitionBuild], list[PartitionCheckResult]]:
    """The run's partition builds and per-partition check results (empty when it had none)."""
    builds = [
        PartitionBuild(e.asset, e.partition_key, e.status, e.row_count, e.duration_s, e.error)
        for e in store.run_partition_events(con, run_id)
    ]
    checks = [
        PartitionCheckResult(
            c.asset,
            c.check_name,
            c.partition_key,
            c.outcome,
            c.severity,
            c.observed_value,
            c.failing_count,
            c.error,
        )
        for c in store.run_partition_checks(con, run_id)
    ]
    return builds, checks


def by_asset(builds: Iterable[PartitionBuild], order: dict[str, int]) -> list[AssetPartitions]:
    """Builds grouped per asset, assets in `order` (the graph's) then by name."""
    grouped: dict[str, list[PartitionBuild]] = {}
    for build in sorted(builds, key=lambda b: (order.get(b.asset, len(order)), b.asset, b.key)):
        grouped.setdefault(build.asset, []).append(build)
    return [AssetPartitions(asset, found) for asset, found in grouped.items()]


def worst_by_key(results: Iterable[PartitionCheckResult]) -> dict[str, str]:
    """Partition key -> the worst outcome of its checks that did not pass (for a mark)."""
    worst: dict[str, str] = {}
    for result in results:
        if result.outcome not in NOT_PASSING:
            continue
        seen = worst.get(result.key)
        if seen is None or NOT_PASSING.index(result.outcome) < NOT_PASSING.index(seen):
            worst[result.key] = result.outcome
    return worst


def key_list(keys: list[str], limit: int = KEYS_SHOWN) -> str:
    """'2024-01-01, 2024-02-01' or, for many, '2024-01-01, 2024-02-01, … 2024-12-01'."""
    if len(keys) <= limit:
        return ", ".join(keys)
    return f"{', '.join(keys[: limit - 1])}, … {keys[-1]}"
