"""The run's steps for partitioned assets (partition_runs.py says how they fit together).

A mixin of engine._Runner, kept apart so each stays readable: the main thread schedules a
partition, a worker builds it (partition_builder.py) and checks it on its own rows, the main
thread records both; when all the run's partitions of an asset are done, `_aggregate` records
the asset.
"""

from __future__ import annotations

import graphlib
import time
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline import builder, faults, ledger, partition_builder, store
from pipeline.checks_runner import Scope, run_asset_checks, skipped_checks
from pipeline.definitions import AssetDef, CheckDef, Definitions
from pipeline.partition_runs import (
    AssetTotal,
    PartitionNode,
    combined_check,
    partition_check,
    partition_events,
    whole_entry,
)
from pipeline.states import CheckOutcome, EventStatus, NotRunReason, SkipReason
from pipeline.store import (
    AssetEvent,
    CatalogEntry,
    CheckRecord,
    PartitionEntry,
    PartitionEvent,
    PartitionFacts,
    RunRecord,
)
from pipeline.warehouse import FileIdentity, quote_ident, scalar, utcnow

if TYPE_CHECKING:
    import queue
    from collections.abc import Callable


class PartitionSteps:
    """Partition scheduling, building, checking and adding up, for engine._Runner."""

    if TYPE_CHECKING:  # provided by engine._Runner
        defs: Definitions
        run: RunRecord
        con: duckdb.DuckDBPyConnection
        inbox: queue.Queue[Any]
        graph: dict[Any, set[Any]]
        keys_for: dict[str, list[str]]
        token: Any
        identity: FileIdentity

        def _record(
            self,
            events: Any = (),
            checks: Any = (),
            built: Any = (),
            run: bool = False,
            partitions: PartitionFacts | None = None,
        ) -> None: ...
        def _submit(self, task: Callable[..., Any], node: Any, *args: Any) -> None: ...
        def _stopping(self) -> bool: ...
        def _why_not_started(self) -> str: ...
        def _skip_event(self, name: str, cause: AssetEvent) -> AssetEvent: ...
        def _cancelled(self, asset: AssetDef, started_at: Any) -> Any: ...
        def _after_build(
            self, name: str, event: AssetEvent, built: list[CatalogEntry], sorter: Any
        ) -> None: ...
        def _message(self, what: str, node: Any, payload: Any = None) -> Any: ...
        def _still_there(self) -> bool: ...

    def _init_partitions(self, keys_for: dict[str, list[str]]) -> None:
        self.keys_for = keys_for
        self.partition_outcomes: dict[str, dict[str, PartitionEvent]] = {}
        self.partition_records: dict[tuple[str, str], dict[str, CheckRecord]] = {}
        self.newest_partition: dict[str, CatalogEntry] = {}
        self.totals: dict[str, AssetTotal] = {}

    # --- main thread ------------------------------------------------------------------------

    def _schedule_partition(
        self,
        node: PartitionNode,
        stopped: dict[Any, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        run_id = self.run.run_id
        if self._stopping():
            events = partition_events(
                run_id,
                node,
                EventStatus.NOT_STARTED,
                ended_at=utcnow(),
                error=self._why_not_started(),
            )
            self._partition_done(node, events, [], self._not_run(node, NotRunReason.RUN_STOPPED))
            sorter.done(node)
            return
        cause = next((stopped[p] for p in self.graph[node] if p in stopped), None)
        if cause is not None:
            skip = self._skip_event(node.asset, cause)
            events = partition_events(
                run_id,
                node,
                EventStatus.SKIPPED,
                ended_at=skip.ended_at,
                error=skip.error,
                skip_reason=skip.skip_reason,
                upstream=skip.upstream,
                blocked_by=skip.blocked_by,
            )
            stopped[node] = skip
            self._partition_done(node, events, [], self._not_run(node, NotRunReason.ASSET_SKIPPED))
            sorter.done(node)
            return
        self._submit(self._partition_task, node)

    def _partition_started(self, node: PartitionNode, started_at: Any) -> None:
        events = partition_events(self.run.run_id, node, EventStatus.RUNNING, started_at=started_at)
        self._record(partitions=PartitionFacts(events=events))

    def _partition_built(
        self,
        node: PartitionNode,
        payload: tuple[Any, list[CatalogEntry], AssetTotal | None],
        stopped: dict[Any, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        build, entries, total = payload
        share = None if build.duration_s is None else build.duration_s / len(node.keys)
        events = partition_events(
            self.run.run_id,
            node,
            build.status,
            started_at=build.started_at,
            ended_at=utcnow(),
            duration_s=share,  # one call built them all: each gets its share of the time
            error=build.error,
        )
        built: list[PartitionEntry] = []
        if entries and not self._still_there():
            for event in events:
                event.status, event.error = EventStatus.FAILED, "the database file was replaced"
        elif entries:
            for event, entry in zip(events, entries, strict=True):
                event.row_count = entry.row_count
                built.append(
                    PartitionEntry(
                        node.asset, event.partition_key, entry.run_id, entry.row_count,
                        entry.committed_at,
                    )
                )  # fmt: skip
            self.newest_partition[node.asset] = entries[-1]
            if total is not None and (
                node.asset not in self.totals
                or total.counted_at >= self.totals[node.asset].counted_at
            ):
                self.totals[node.asset] = total
        checks = self._partition_checks_of(node.asset)
        status = events[0].status
        if status != EventStatus.MATERIALIZED:
            stopped[node] = AssetEvent(self.run.run_id, node.asset, status)
            reason = (
                NotRunReason.RUN_STOPPED
                if status in (EventStatus.CANCELLED, EventStatus.NOT_STARTED)
                else NotRunReason.ASSET_FAILED
            )
            self._partition_done(
                node, events, built, skipped_checks(checks, self.run.run_id, reason)
            )
            sorter.done(node)
        elif checks and not self._stopping():
            self._partition_done(node, events, built)
            self._submit(self._partition_check_task, node, checks)
        else:
            skipped = skipped_checks(checks, self.run.run_id, NotRunReason.RUN_STOPPED)
            self._partition_done(node, events, built, skipped)
            sorter.done(node)
        faults.pause("after-record", str(node), self.token.event)

    def _partition_checked(
        self,
        node: PartitionNode,
        by_key: dict[str, list[CheckRecord]],
        stopped: dict[Any, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        rows = []
        for key, records in by_key.items():
            self._keep_check_records(node.asset, key, records)
            rows += [partition_check(r, key) for r in records]
        self._record(partitions=PartitionFacts(checks=rows))
        blocker = next(
            (
                r
                for records in by_key.values()
                for r in records
                if r.blocking and CheckOutcome(r.outcome).fails_run
            ),
            None,
        )
        if blocker is not None:
            stopped[node] = AssetEvent(
                self.run.run_id, node.asset, EventStatus.MATERIALIZED, blocked_by=blocker.check_key
            )
        sorter.done(node)

    def _partition_done(
        self,
        node: PartitionNode,
        events: list[PartitionEvent],
        built: list[PartitionEntry],
        checks: list[CheckRecord] | None = None,
    ) -> None:
        """Record the partitions' events (and, when their checks could not run, why)."""
        rows = []
        for event in events:
            self.partition_outcomes.setdefault(node.asset, {})[event.partition_key] = event
            self._keep_check_records(node.asset, event.partition_key, checks or [])
            rows += [partition_check(r, event.partition_key) for r in checks or []]
        self._record(partitions=PartitionFacts(events=events, checks=rows, built=built))

    def _keep_check_records(self, asset: str, key: str, records: list[CheckRecord]) -> None:
        for record in records:
            self.partition_records.setdefault((asset, record.check_name), {})[key] = record

    def _not_run(self, node: PartitionNode, reason: NotRunReason) -> list[CheckRecord]:
        """The partitions' checks, recorded as not run: without a record a planned check would
        vanish from the run, and the counts of every page would disagree."""
        return skipped_checks(self._partition_checks_of(node.asset), self.run.run_id, reason)

    def _partition_checks_of(self, name: str) -> list[CheckDef]:
        return [c for c in self.defs.checks_for(name) if c.per_partition and not c.waits_for]

    def _aggregate(
        self, name: str, stopped: dict[Any, AssetEvent], sorter: graphlib.TopologicalSorter
    ) -> None:
        """All the run's partitions of `name` are done: record the asset, then its checks."""
        asset = self.defs.assets[name]
        outcomes = self.partition_outcomes.get(name, {})
        statuses = [EventStatus(e.status) for e in outcomes.values()]
        combined = [
            combined_check(check, self.run.run_id, self.partition_records[(name, check.name)])
            for check in self._partition_checks_of(name)
            if (name, check.name) in self.partition_records
        ]
        self._record(checks=combined)
        newest = self.newest_partition.get(name)
        entry = (
            whole_entry(asset, self.run.run_id, newest, self.totals.get(name)) if newest else None
        )
        event = self._asset_event(asset, outcomes, statuses, stopped)
        if entry is not None:
            event.row_count, event.columns, event.preview = (
                entry.row_count,
                entry.columns,
                entry.preview,
            )
        blocked = next(
            (
                marker
                for node, marker in stopped.items()
                if isinstance(node, PartitionNode)
                and node.asset == name
                and marker.blocked_by is not None
            ),
            None,
        )
        if event.status == EventStatus.MATERIALIZED and blocked is not None:
            stopped[name] = AssetEvent(
                self.run.run_id, name, EventStatus.MATERIALIZED, blocked_by=blocked.blocked_by
            )
        self._after_build(name, event, [entry] if entry else [], sorter)

    def _asset_event(
        self,
        asset: AssetDef,
        outcomes: dict[str, PartitionEvent],
        statuses: list[EventStatus],
        stopped: dict[Any, AssetEvent],
    ) -> AssetEvent:
        run_id, name = self.run.run_id, asset.name
        started = [e.started_at for e in outcomes.values() if e.started_at]
        durations = [e.duration_s for e in outcomes.values() if e.duration_s is not None]
        event = AssetEvent(
            run_id,
            name,
            EventStatus.MATERIALIZED,
            asset.kind,
            started_at=min(started) if started else None,
            ended_at=utcnow(),
            duration_s=sum(durations) if durations else None,
            code_version=asset.code_version,
        )
        built = statuses.count(EventStatus.MATERIALIZED)
        of = f"{built} of {len(statuses)} partitions built"
        if EventStatus.FAILED in statuses:
            failed = sorted(k for k, e in outcomes.items() if e.status == EventStatus.FAILED)
            first = outcomes[failed[0]]
            event.status = EventStatus.FAILED
            event.error = (
                f"partition {failed[0]} failed ({of}; {len(failed)} failed): {first.error}"
            )
        elif EventStatus.SKIPPED in statuses:
            key = min(k for k, e in outcomes.items() if e.status == EventStatus.SKIPPED)
            skip = outcomes[key]
            event.status = EventStatus.SKIPPED
            event.skip_reason = skip.skip_reason or SkipReason.UPSTREAM_FAILED
            event.upstream, event.blocked_by = skip.upstream, skip.blocked_by
            event.error = f"partition {key}: {skip.error} ({of})"
        elif EventStatus.CANCELLED in statuses or EventStatus.NOT_STARTED in statuses:
            cancelled = EventStatus.CANCELLED in statuses
            event.status = EventStatus.CANCELLED if cancelled else EventStatus.NOT_STARTED
            event.error = f"the run stopped: {of}"
        return event

    # --- worker threads -----------------------------------------------------------------------

    def _partition_task(self, node: PartitionNode) -> None:
        asset = self.defs.assets[node.asset]
        if self.token.cancelled:
            nothing: list[CatalogEntry] = []
            self.inbox.put(
                self._message("part-built", node, (self._not_started_build(), nothing, None))
            )
            return
        started_at = utcnow()
        self.inbox.put(self._message("part-started", node, started_at))
        cursor = self.con.cursor()
        started = time.perf_counter()
        entries: list[CatalogEntry] = []
        total = None
        try:
            with self.token.watching(cursor):
                entries = partition_builder.rebuild_partitions(
                    cursor, asset, node.keys, self.run.run_id, self.token.event
                )
                count = scalar(cursor, f"SELECT count(*) FROM {quote_ident(asset.name)}")
                shown = ledger.partitioned_preview(cursor, asset.name)
                total = AssetTotal(int(count), time.monotonic(), shown)
            faults.pause("after-commit", str(node), self.token.event)
            build = self._build_answer(EventStatus.MATERIALIZED, started_at)
        except Exception as exc:
            if self.token.cancelled and not entries:
                build = self._cancelled(asset, started_at)
            elif entries:  # committed; only the count after it failed
                build = self._build_answer(EventStatus.MATERIALIZED, started_at)
            else:
                error = builder.error_text(exc)
                build = self._build_answer(EventStatus.FAILED, started_at, error=error)
                if store.is_disk_full(exc):
                    self.inbox.put(self._message("full", node.asset, build.error))
        finally:
            cursor.close()
        build.duration_s = time.perf_counter() - started
        self.inbox.put(self._message("part-built", node, (build, entries, total)))

    def _partition_check_task(self, node: PartitionNode, checks: list[CheckDef]) -> None:
        """Each partition's checks on its own rows."""
        asset = self.defs.assets[node.asset]
        by_key: dict[str, list[CheckRecord]] = {}
        cursor = self.con.cursor()
        try:
            with self.token.watching(cursor):
                column = asset.partition_column or ""
                kind = partition_builder.column_type(cursor, asset.name, column)
                ((database,),) = cursor.execute("SELECT current_database()").fetchall()
                for key in node.keys:
                    view = partition_builder.scope_sql(asset, key, kind, str(database))
                    window = asset.partitions.window(key) if asset.partitions else None
                    by_key[key] = run_asset_checks(
                        self.defs,
                        checks,
                        cursor,
                        self.run.run_id,
                        self.token.event,
                        Scope(key, view, window),
                        history_db=self.identity.path,
                    )
        except Exception as exc:  # the partition's column vanished: each check says so
            for key in node.keys:
                if key in by_key:
                    continue
                records = skipped_checks(checks, self.run.run_id, None, builder.error_text(exc))
                for record in records:
                    record.outcome, record.skip_reason = CheckOutcome.ERROR, None
                by_key[key] = records
        finally:
            cursor.close()
        self.inbox.put(self._message("part-checked", node, by_key))

    if TYPE_CHECKING:

        def _build_answer(self, status: EventStatus, started_at: Any, **details: Any) -> Any: ...
        def _not_started_build(self) -> Any: ...
