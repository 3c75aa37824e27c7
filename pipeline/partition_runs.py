"""Partitions in a run: which to build, in what order, and how an asset's partitions add up.

Each partition is a node of the run's graph (`PartitionNode`), built and checked on its own
(partition_builder.py). Partition k of an asset waits for partition k of an upstream with the
same partitions, and for the whole of any other upstream. The asset itself stays a node too,
waiting for all its partitions in the run: when they are done it records one event for the
asset (materialized only if every partition it built was), runs its whole-table checks, and
releases the unpartitioned assets downstream. A failed partition skips the same partition
downstream; a blocking check failing on a partition blocks that partition downstream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.definitions import AssetDef, CheckDef, CheckNode, Definitions
from pipeline.errors import SelectionError
from pipeline.partitions import PartitionError
from pipeline.states import CheckOutcome, EventStatus
from pipeline.store import CatalogEntry, CheckRecord, PartitionCheck, PartitionEvent

Node = str | CheckNode


@dataclass(frozen=True, order=True)
class PartitionNode:
    """Partitions of `asset` built by one call of its function (one, unless its backfill
    policy groups adjacent ones), as a node of the run's graph."""

    asset: str
    keys: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.keys[0]

    def __str__(self) -> str:
        if len(self.keys) == 1:
            return f"{self.asset}[{self.key}]"
        return f"{self.asset}[{self.keys[0]}...{self.keys[-1]}]"


@dataclass
class PartitionRequest:
    """Which partitions a run builds: given keys, a range, and/or only missing or failed ones.
    Nothing given means every partition."""

    keys: list[str] = field(default_factory=list)
    first: str | None = None  # a range first...last, both included
    last: str | None = None
    missing: bool = False
    failed: bool = False
    backfill: int | None = None  # resume this backfill: its partitions not built yet

    @property
    def narrowed(self) -> bool:
        return bool(self.keys or self.first or self.missing or self.failed or self.backfill)

    def describe(self) -> str:
        if self.backfill is not None:
            return f"backfill {self.backfill}"
        parts = [*self.keys]
        if self.first:
            parts.append(f"{self.first}...{self.last}")
        parts += ["missing"] * self.missing + ["failed"] * self.failed
        return ", ".join(parts) or "all partitions"


def partitioned(defs: Definitions, names: set[str]) -> list[AssetDef]:
    return [defs.assets[n] for n in sorted(names) if defs.assets[n].partitions is not None]


def resolve_keys(
    defs: Definitions,
    names: set[str],
    request: PartitionRequest | None,
    built: dict[str, set[str]],
    failed: dict[str, set[str]],
) -> dict[str, list[str]]:
    """The keys to build for each partitioned asset of `names`; SelectionError (exit 2)
    naming the problem: a partition asked of no partitioned asset, an unknown key, a reversed
    range. `built` and `failed` are the partitions that stand and whose latest build failed."""
    request = request or PartitionRequest()
    if request.backfill is not None:
        return {}  # the backfill's own record says which (backfills.remaining)
    assets = partitioned(defs, names)
    if request.narrowed and not assets:
        shown = ", ".join(sorted(names)) or "nothing"
        raise SelectionError(
            f"--partition was given but no selected asset is partitioned (selected: {shown});"
            " select a partitioned asset or leave out the partition options"
        )
    chosen: dict[str, list[str]] = {}
    for asset in assets:
        assert asset.partitions is not None
        try:
            keys = asset.partitions.get_partition_keys()
            if request.keys:
                keys = [asset.partitions.check_key(k) for k in dict.fromkeys(request.keys)]
            if request.first is not None:
                span = asset.partitions.key_range(request.first, request.last or request.first)
                keys = [k for k in keys if k in span] if request.keys else span
        except PartitionError as exc:
            raise SelectionError(f"asset '{asset.name}': {exc}") from None
        if request.missing or request.failed:
            keys = [
                k
                for k in keys
                if (request.missing and k not in built.get(asset.name, set()))
                or (request.failed and k in failed.get(asset.name, set()))
            ]
        chosen[asset.name] = keys
    return chosen


def with_partitions(
    defs: Definitions, graph: dict[Node, set[Node]], keys_for: dict[str, list[str]]
) -> dict[Any, set[Any]]:
    """The run's graph with each partitioned asset's partitions as nodes of their own."""
    result: dict[Any, set[Any]] = {node: set(parents) for node, parents in graph.items()}
    node_of = {
        (name, key): node
        for name, keys in keys_for.items()
        for node in chunks(defs.assets[name], keys)
        for key in node.keys
    }
    for name, keys in keys_for.items():
        asset = defs.assets[name]
        nodes = sorted({node_of[(name, key)] for key in keys})
        for node in nodes:
            result[node] = {
                _parent_node(defs, parent, asset, key, node_of)
                for parent in graph[name]
                for key in node.keys
            }
        result[name] = set(nodes)
    return result


def chunks(asset: AssetDef, keys: list[str]) -> list[PartitionNode]:
    """`keys` in calls of the function: one each, or, under a backfill policy, runs of
    adjacent keys (adjacent among all the asset's partitions) up to its maximum."""
    policy = asset.backfill_policy
    most = 1 if policy is None else policy.max_partitions_per_run
    if most == 1:
        return [PartitionNode(asset.name, (key,)) for key in keys]
    assert asset.partitions is not None
    order = {key: i for i, key in enumerate(asset.partitions.get_partition_keys())}
    groups: list[list[str]] = []
    for key in sorted(keys, key=order.__getitem__):
        last = groups[-1] if groups else None
        if last and order[key] == order[last[-1]] + 1 and (most is None or len(last) < most):
            last.append(key)
        else:
            groups.append([key])
    return [PartitionNode(asset.name, tuple(group)) for group in groups]


def _parent_node(
    defs: Definitions,
    parent: Node,
    child: AssetDef,
    key: str,
    node_of: dict[tuple[str, str], PartitionNode],
) -> Any:
    """Partition k waits for partition k of an upstream partitioned alike and in this run."""
    if (
        isinstance(parent, str)
        and (parent, key) in node_of
        and defs.assets[parent].partitions == child.partitions
    ):
        return node_of[(parent, key)]
    return parent


_WORST = [
    CheckOutcome.ERROR,
    CheckOutcome.FAILED,
    CheckOutcome.WARNED,
    CheckOutcome.PASSED,
    CheckOutcome.SKIPPED,
]


def combined_check(check: CheckDef, run_id: int, records: dict[str, CheckRecord]) -> CheckRecord:
    """One check's record for the run from its records per partition: the worst outcome, the
    failing rows summed, each partition's outcome kept in the metadata."""
    ran = [r for r in records.values() if r.outcome != CheckOutcome.SKIPPED]
    worst = min(records.values(), key=lambda r: _WORST.index(CheckOutcome(r.outcome)))
    bad = [k for k, r in sorted(records.items()) if r.outcome == worst.outcome]
    counts = [r.failing_count for r in ran if r.failing_count is not None]
    summary = ", ".join(
        f"{sum(1 for r in records.values() if r.outcome == o)} {o}"
        for o in _WORST
        if any(r.outcome == o for r in records.values())
    )
    record = CheckRecord(
        run_id=run_id,
        asset=check.asset,
        check_name=check.name,
        outcome=worst.outcome,
        severity=worst.severity,
        blocking=check.blocking,
        description=check.description,
        started_at=min((r.started_at for r in ran if r.started_at), default=None),
        duration_s=sum(r.duration_s or 0 for r in ran) or None,
        failing_count=sum(counts) if counts else None,
        failing_sample=worst.failing_sample,
        metadata={
            "partitions": {k: r.outcome for k, r in sorted(records.items())},
            "summary": f"per partition: {summary}",
        },
        sql=worst.sql,
        error=worst.error,
        skip_reason=worst.skip_reason if not ran else None,
    )
    if worst.outcome not in (CheckOutcome.PASSED, CheckOutcome.SKIPPED) and bad:  # not a rule
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        record.threshold = f"{worst.outcome} in partition {shown}"
    return record


def partition_check(record: CheckRecord, key: str) -> PartitionCheck:
    return PartitionCheck(
        record.run_id,
        record.asset,
        record.check_name,
        key,
        record.outcome,
        record.severity,
        record.observed_value,
        record.failing_count,
        record.error,
        record.skip_reason,
    )


def partition_events(
    run_id: int, node: PartitionNode, status: EventStatus, **details: Any
) -> list[PartitionEvent]:
    """The same event for each partition of `node`."""
    return [PartitionEvent(run_id, node.asset, key, status, **details) for key in node.keys]


@dataclass
class AssetTotal:
    """A partition task's view of the whole table right after its commit."""

    row_count: int
    counted_at: float
    preview: list[dict[str, Any]] = field(default_factory=list)  # ledger.partitioned_preview


def whole_entry(
    asset: AssetDef, run_id: int, newest: CatalogEntry, total: AssetTotal | None
) -> CatalogEntry:
    """The asset's catalog entry after partitions were built: the table's rows and preview,
    the newest partition's columns."""
    return CatalogEntry(
        asset.name,
        run_id,
        asset.kind,
        total.row_count if total else newest.row_count,
        newest.columns,
        total.preview if total else newest.preview,
        asset.code_version,
        newest.committed_at,
    )
