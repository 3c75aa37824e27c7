"""Materialization: plan the selected assets, build each atomically, run its checks, record all.

The calling thread owns the run: it schedules builds and checks on a thread pool (each on its own
DuckDB cursor), receives their results through one queue, and is the only writer of the history.
A build is recorded only after its COMMIT; the ledger row committed with the table makes that
true even if the process dies in between (recovery.py). A cancel (Ctrl-C, SIGTERM, a Cancel
button, `CancelToken.cancel`) interrupts DuckDB's running statements, rolls back every build not
yet committed, starts nothing new, and records what was and was not built.
"""

from __future__ import annotations

import functools
import graphlib
import os
import queue
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipeline import (
    backfills,
    batches,
    builder,
    config,
    faults,
    partition_runs,
    profiles,
    recovery,
    selection,
    store,
)
from pipeline import run_config as run_configs
from pipeline.checks_runner import skipped_checks
from pipeline.definitions import AssetDef, CheckDef, CheckNode, Definitions
from pipeline.errors import DatabaseFileError, PipelineError, SelectionError
from pipeline.partition_runs import PartitionNode, PartitionRequest, partition_events
from pipeline.run_config import RunConfig
from pipeline.runner_checks import CANCEL_POLL_SECONDS, CheckSteps
from pipeline.runner_partitions import PartitionSteps
from pipeline.states import (
    CheckKey,
    CheckOutcome,
    EventStatus,
    NotRunReason,
    RunKind,
    RunStatus,
    SkipReason,
)
from pipeline.store import (
    AssetEvent,
    Backfill,
    CatalogEntry,
    CheckRecord,
    PartitionEvent,
    PartitionFacts,
    Profile,
    RunRecord,
)
from pipeline.textsafe import cap
from pipeline.warehouse import (
    DEFAULT_DB,
    FileIdentity,
    check_db_path,
    connect,
    run_lock,
    utcnow,
)

ProgressCallback = Callable[[AssetEvent | CheckRecord | PartitionEvent], None]
Selection = str | Iterable[str] | None
EXIT_OK, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130


@dataclass
class RunResult:
    """What a run did: its record, the event of every planned asset, every check result."""

    run: RunRecord
    assets: dict[str, AssetEvent]
    checks: list[CheckRecord]
    backfill: Backfill | None = None  # the backfill this run worked on
    left_out: list[str] = field(default_factory=list)  # selected, but no run config was given

    @property
    def run_id(self) -> int:
        return self.run.run_id

    @property
    def ok(self) -> bool:
        return self.run.status == RunStatus.SUCCESS

    @property
    def exit_code(self) -> int:
        """0 when every asset built and no check failed a run (warnings allowed); 130 when the
        run was cancelled; else 1."""
        if self.ok:
            return EXIT_OK
        return EXIT_CANCELLED if self.run.status == RunStatus.CANCELLED else EXIT_FAILED


class CancelToken:
    """Stops a run from another thread or a signal handler: interrupts DuckDB, starts nothing."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason: str | None = None
        self._cursors: set[duckdb.DuckDBPyConnection] = set()
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def cancel(self, reason: str) -> None:
        """Ask the run to stop; safe to call more than once and from a signal handler."""
        if self.reason is None:
            self.reason = reason
        self.event.set()
        faults.stopping()
        with self._lock:
            cursors = list(self._cursors)
        for cursor in cursors:
            cursor.interrupt()

    @contextmanager
    def watching(self, cursor: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Interrupt `cursor` on cancel while it is in use."""
        with self._lock:
            self._cursors.add(cursor)
        if self.cancelled:
            cursor.interrupt()
        try:
            yield
        finally:
            with self._lock:
                self._cursors.discard(cursor)


def materialize(
    defs: Definitions,
    select: Selection = None,
    db: str | Path = DEFAULT_DB,
    max_workers: int | None = None,
    on_event: ProgressCallback | None = None,
    *,
    cancel: CancelToken | None = None,
    launched_by: str = "python",
    partitions: PartitionRequest | None = None,
    run_config: RunConfig | None = None,
) -> RunResult:
    """Rebuild the selected assets (all when None) in dependency order, checks after each.

    Partitioned assets build the partitions `partitions` asks for (every one when None), each
    in its own transaction, with its checks on its own rows. `run_config` gives assets declared
    with `config=` their values for this run (run_config.py).
    """
    return _run(
        defs,
        RunKind.MATERIALIZE,
        select,
        db,
        max_workers,
        on_event,
        cancel,
        launched_by,
        partitions=partitions,
        run_config=run_config,
    )


def run_checks(
    defs: Definitions,
    select: Selection = None,
    db: str | Path = DEFAULT_DB,
    on_event: ProgressCallback | None = None,
    *,
    checks: Iterable[CheckKey | str] | None = None,
    cancel: CancelToken | None = None,
    launched_by: str = "python",
) -> RunResult:
    """Run the checks of the selected assets on their current tables, rebuilding nothing.

    `checks` narrows the run to those checks (keys, or 'asset.check' text): one check can be
    run again on its own.
    """
    only = None if checks is None else {defs.find_check(c).check_key for c in checks}
    if only is not None:
        assets = {key.asset for key in only}
        select = assets if select is None else _resolve(defs, select) & assets
    return _run(defs, RunKind.CHECKS, select, db, 1, on_event, cancel, launched_by, only)


def default_workers() -> int:
    """Assets built at once when the caller does not say: half the cores, 1 to 4.

    DuckDB already spreads each statement over every core, so a second asset thread on a
    2-core machine only competes with it: bench/ measured no wall-time gain there and a 15 %
    higher peak memory. More cores leave room for independent assets to overlap.
    """
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def record_failed_run(db: str | Path, kind: str, selection_text: str | None, message: str) -> int:
    """Record a run that could not start (e.g. broken definitions) so the history says why."""
    with run_lock(db, f"{kind} run"), store.open_writer(db) as history:
        run = store.start_run(history, kind, selection_text)
        run.status, run.message, run.ended_at = RunStatus.FAILED, message, utcnow()
        store.update_run(history, run)
        return run.run_id


def _selection_text(select: Selection) -> str | None:
    if select is None or isinstance(select, str):
        return select
    return ", ".join(sorted(select))


def _quoted(select: Selection) -> str:
    """A selection as an error quotes it: a pasted 5,000 characters are cut short."""
    text = _selection_text(select)
    return "(empty)" if not text else repr(cap(text, 200))


def _resolve(defs: Definitions, select: Selection) -> set[str]:
    if select is None or isinstance(select, str):
        return selection.select(defs, select)
    names = set(select)
    if unknown := sorted(names - set(defs.assets)):
        raise SelectionError(f"unknown assets in selection: {', '.join(unknown)}")
    return names


def _run(
    defs: Definitions,
    kind: RunKind,
    select: Selection,
    db: str | Path,
    max_workers: int | None,
    on_event: ProgressCallback | None,
    cancel: CancelToken | None,
    launched_by: str,
    only: set[CheckKey] | None = None,
    partitions: PartitionRequest | None = None,
    run_config: RunConfig | None = None,
) -> RunResult:
    names = _resolve(defs, select)  # a bad selection is a usage error: nothing is touched
    if not names:  # as is one that matches nothing: no empty run to stand as the last run
        raise SelectionError(f"the selection {_quoted(select)} matches no asset: nothing was run")
    config.batch_below_seconds()  # as is a bad setting
    left_out: list[str] = []
    if kind == RunKind.MATERIALIZE:  # as are partitions the selection does not have
        partition_runs.resolve_keys(defs, names, partitions, {}, {})
        configs = run_configs.resolve(defs, run_config)  # and config the assets refuse
        named = set(select) if not isinstance(select, str | None) else selection.named(select)
        names, left_out = run_configs.plan(defs, names, named, configs)
        if not names:
            raise run_configs.ConfigError(
                f"the selection {_quoted(select)} reaches only assets that need run config,"
                f" so nothing was run; {run_configs.left_out_note(defs, left_out)}: select it by"
                " name and pass its --config"
            )
        defs = run_configs.bind(defs, configs)
    if max_workers is not None and max_workers < 1:
        raise PipelineError(f"max_workers={max_workers} must be 1 or more")
    path = check_db_path(db, creating=True)
    token = cancel or CancelToken()
    with run_lock(path, f"{kind} run from {launched_by}"), connect(path) as con:
        try:  # damage DuckDB finds only when it reads: found before anything is written
            seen = recovery.inspect(con)
        except duckdb.Error as exc:
            raise DatabaseFileError(
                f"cannot use {path}: {str(exc).splitlines()[0]}. The file is damaged: restore"
                " it from a backup, or move it away to build a new warehouse"
            ) from exc
        with store.open_writer(path) as history:
            identity = FileIdentity.of(path)
            first_id = recovery.prepare(con, history, path, seen, defs)
            keys_for: dict[str, list[str]] = {}
            backfill = None
            if kind == RunKind.MATERIALIZE:
                names, keys_for, backfill = _plan_partitions(
                    defs, names, partitions, history, launched_by
                )
            shown = _selection_text(select) if only is None else ", ".join(map(str, sorted(only)))
            if partitions is not None and partitions.narrowed:
                shown = f"{shown or '*'} [{partitions.describe()}]"
            run = store.start_run(history, kind, shown, launched_by, first_id)
            if backfill is not None:
                backfills.attach(history, backfill, run.run_id)
            runner = _Runner(defs, con, history, run, identity, token, on_event, only, keys_for)
            try:
                with _signals_cancel(token):
                    runner.execute(kind, names, max_workers or default_workers())
            finally:
                if backfill is not None:
                    backfills.finish(history, backfill, run.status)
            return RunResult(run, runner.events, runner.checks, backfill, left_out)


def _plan_partitions(
    defs: Definitions,
    names: set[str],
    request: PartitionRequest | None,
    history: sqlite3.Connection,
    launched_by: str,
) -> tuple[set[str], dict[str, list[str]], Backfill | None]:
    """The assets to build, the partitions per partitioned asset, and the backfill the run
    works on: resumed, or started when more than one partition was asked for."""
    if request is not None and request.backfill is not None:
        resumed, keys_for = backfills.remaining(history, request.backfill)
        for name, keys in keys_for.items():
            asset = defs.assets.get(name)
            if asset is None or asset.partitions is None:
                raise SelectionError(
                    f"backfill {resumed.backfill_id} builds '{name}', which is no longer a"
                    " partitioned asset of these definitions"
                )
            for key in keys:
                asset.partitions.check_key(key)
        return set(keys_for), keys_for, resumed
    keys_for = _partition_keys(defs, names, request, history)
    names = names - {name for name, keys in keys_for.items() if not keys}
    keys_for = {name: keys for name, keys in keys_for.items() if keys}
    if request is not None and request.narrowed and sum(map(len, keys_for.values())) > 1:
        return names, keys_for, backfills.start(history, keys_for, launched_by)
    return names, keys_for, None


def _partition_keys(
    defs: Definitions,
    names: set[str],
    request: PartitionRequest | None,
    history: sqlite3.Connection,
) -> dict[str, list[str]]:
    """The partitions to build per partitioned asset, knowing which stand and which failed."""
    built, failed = {}, {}
    for asset in partition_runs.partitioned(defs, names):
        built[asset.name] = set(store.partition_catalog(history, asset.name))
        latest = store.latest_partition_events(history, asset.name)
        failed[asset.name] = {k for k, e in latest.items() if e.status == EventStatus.FAILED}
    return partition_runs.resolve_keys(defs, names, request, built, failed)


@contextmanager
def _signals_cancel(token: CancelToken) -> Iterator[None]:
    """In the main thread, the first SIGINT or SIGTERM cancels the run cleanly; a second one
    stops the process at once (the next run repairs the history)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if token.cancelled:
            os.write(2, b"\nStopped at once; the next run records what this one left.\n")
            os._exit(EXIT_CANCELLED)
        token.cancel(f"{name} ({'Ctrl-C' if signum == signal.SIGINT else 'stop request'})")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class _Message:
    what: str  # started | built | checked | part-started | part-built | part-checked | ...
    node: Any  # an asset's name, a CheckNode or a PartitionNode
    payload: Any = None


@dataclass
class _Buffer:
    """History writes held by `_Runner._one_transaction`."""

    events: list[AssetEvent] = field(default_factory=list)
    checks: list[CheckRecord] = field(default_factory=list)
    built: list[CatalogEntry] = field(default_factory=list)
    run: bool = False
    recorded: list[str] = field(default_factory=list)  # assets whose after-record pause waits
    partitions: PartitionFacts = field(default_factory=PartitionFacts)
    profiles: list[Profile] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return bool(
            self.events or self.checks or self.built or self.run or self.partitions or self.profiles
        )

    def hold(
        self,
        events: list[AssetEvent],
        checks: list[CheckRecord],
        built: list[CatalogEntry],
        run: bool,
        partitions: PartitionFacts | None,
        profiles: list[Profile],
    ) -> None:
        self.events.extend(events)
        self.checks.extend(checks)
        self.built.extend(built)
        self.profiles.extend(profiles)
        self.run = self.run or run
        if partitions:
            self.partitions.extend(partitions)


@dataclass
class _Build:
    """A worker's answer for one asset: its outcome, the committed build if any."""

    status: EventStatus
    started_at: Any
    duration_s: float | None = None
    entry: CatalogEntry | None = None
    error: str | None = None


class _Runner(CheckSteps, PartitionSteps):
    """One run's state. Only the calling thread touches it and writes the history."""

    def __init__(
        self,
        defs: Definitions,
        con: duckdb.DuckDBPyConnection,
        history: sqlite3.Connection,
        run: RunRecord,
        identity: FileIdentity,
        token: CancelToken,
        on_event: ProgressCallback | None,
        only: set[CheckKey] | None = None,
        keys_for: dict[str, list[str]] | None = None,
    ) -> None:
        self._init_partitions(keys_for or {})
        self.graph: dict[Any, set[Any]] = {}
        self.defs = defs
        self.only = only  # a checks run of these checks alone
        self.con = con
        self.history = history
        self.run = run
        self.identity = identity
        self.token = token
        self.on_event = on_event
        self.events: dict[str, AssetEvent] = {}
        self.checks: list[CheckRecord] = []
        self.inbox: queue.Queue[_Message] = queue.Queue()
        self.outstanding = 0  # tasks submitted whose message is not handled yet
        self.failure: str | None = None  # a run-level failure (the file vanished)
        self.check_versions = {check.key: check.code_version for check in defs.checks}
        self._deferred: dict[str, CheckDef] = {}
        self._stopped: dict[str, AssetEvent] = {}
        self._claimed: set[str] = set()  # deferred checks submitted (with a multi-check sibling)
        self._sorter: graphlib.TopologicalSorter = graphlib.TopologicalSorter()
        self._last_poll = 0.0
        self.workers = 1
        self.durations: dict[str, float] = {}  # each asset's last build time: what to batch
        self.batch_below = config.batch_below_seconds()
        self._buffer: _Buffer | None = None  # history writes held for one transaction

    # --- the run ---------------------------------------------------------------------------

    def execute(self, kind: RunKind, names: set[str], workers: int) -> None:
        planned = [n for level in self.defs.graph.levels(names) for n in level]
        self.run.planned = planned
        self.run.checks_planned = sum(len(self._checks_of(n)) for n in planned)
        queued = [
            AssetEvent(self.run.run_id, n, EventStatus.QUEUED, self.defs.assets[n].kind)
            for n in planned
        ]
        self._record(events=queued if kind == RunKind.MATERIALIZE else (), run=True)
        self.workers = workers
        if kind == RunKind.MATERIALIZE:
            self.durations = store.build_durations(self.history)
        with ThreadPoolExecutor(workers, thread_name_prefix="asset") as pool:
            self.pool = pool
            try:
                if kind == RunKind.MATERIALIZE:
                    self._materialize(names)
                else:
                    self._check_only(planned)
            except BaseException as exc:  # e.g. KeyboardInterrupt with no handler installed
                self.token.cancel(type(exc).__name__)
                self._drain()
                self._finish()
                raise
        self._finish()

    def _drain(self) -> None:
        """Wait for the tasks already running (a cancel makes them quick) and record them."""
        while self.outstanding:
            message = self._next_message()
            if message is not None:
                self._handle(message, self._deferred, self._stopped, self._sorter)

    def _finish(self) -> None:
        never_reached = [  # the run stopped before their turn
            self._not_started(name)
            for name, event in self.events.items()
            if not EventStatus(event.status).finished
        ]
        for event in never_reached:
            self.events[event.asset] = event
        self.run.status, self.run.message = self._outcome()
        self.run.ended_at = utcnow()
        self._record(checks=self._unrecorded_checks())
        self._count()
        self._record(events=never_reached, run=True)

    def _unrecorded_checks(self) -> list[CheckRecord]:
        """Planned checks no step recorded, as not run: a check without a record would vanish
        from the history while the run's counts still hold it."""
        recorded = {c.key for c in self.checks}
        missing = [c for n in self.run.planned for c in self._checks_of(n) if c.key not in recorded]
        reasons = {
            EventStatus.SKIPPED: NotRunReason.ASSET_SKIPPED,
            EventStatus.FAILED: NotRunReason.ASSET_FAILED,
        }
        records = []
        for check in missing:
            event = self.events.get(check.asset)
            reason = reasons.get(EventStatus(event.status)) if event else None
            records += skipped_checks([check], self.run.run_id, reason or NotRunReason.RUN_STOPPED)
        return records

    def _outcome(self) -> tuple[RunStatus, str | None]:
        if self.failure:
            return RunStatus.FAILED, self.failure
        if self.token.cancelled:
            return RunStatus.CANCELLED, f"cancelled by {self.token.reason}"
        assets_ok = all(e.status == EventStatus.MATERIALIZED for e in self.events.values())
        checks_ok = not any(CheckOutcome(c.outcome).fails_run for c in self.checks)
        return (RunStatus.SUCCESS if assets_ok and checks_ok else RunStatus.FAILED), None

    def _count(self) -> None:
        run, statuses = self.run, [e.status for e in self.events.values()]
        run.assets_materialized = statuses.count(EventStatus.MATERIALIZED)
        run.assets_failed = statuses.count(EventStatus.FAILED)
        run.assets_skipped = statuses.count(EventStatus.SKIPPED)
        run.assets_not_built = sum(
            statuses.count(s)
            for s in (EventStatus.CANCELLED, EventStatus.INTERRUPTED, EventStatus.NOT_STARTED)
        )
        outcomes = [c.outcome for c in self.checks]
        run.checks_passed = outcomes.count(CheckOutcome.PASSED)
        run.checks_warned = outcomes.count(CheckOutcome.WARNED)
        run.checks_failed = outcomes.count(CheckOutcome.FAILED)
        run.checks_errored = outcomes.count(CheckOutcome.ERROR)
        ran = len(outcomes) - outcomes.count(CheckOutcome.SKIPPED)
        run.checks_not_run = max(0, run.checks_planned - ran)

    # --- recording -------------------------------------------------------------------------

    def _record(
        self,
        events: Iterable[AssetEvent] = (),
        checks: Iterable[CheckRecord] = (),
        built: Iterable[CatalogEntry] = (),
        run: bool = False,
        partitions: PartitionFacts | None = None,
        profiles: Iterable[Profile] = (),
    ) -> None:
        events, checks, built = list(events), list(checks), list(built)
        for event in events:
            self.events[event.asset] = event
        self.checks.extend(checks)
        if self._buffer is not None:
            self._buffer.hold(events, checks, built, run, partitions, list(profiles))
            return
        self._write(events, checks, built, run, partitions, list(profiles))

    def _write(
        self,
        events: list[AssetEvent],
        checks: list[CheckRecord],
        built: list[CatalogEntry],
        run: bool,
        partitions: PartitionFacts | None = None,
        profiles: list[Profile] | None = None,
    ) -> None:
        record = self.run if run else None
        facts = (events, checks, built, record, partitions, profiles or (), self.check_versions)
        try:
            store.record(self.history, *facts)
        except sqlite3.OperationalError as exc:
            if not store.is_disk_full(exc) or not store.release_reserve(self.identity.path):
                raise
            self._out_of_space(f"the run history could not be written ({exc})")
            store.record(self.history, *facts)
        if self.on_event is not None:
            for event in events:
                self.on_event(event)
            for part in partitions.events if partitions else ():
                self.on_event(part)
            for check in checks:
                self.on_event(check)

    @contextmanager
    def _one_transaction(self) -> Iterator[None]:
        """Hold the history writes made inside, then write them in one SQLite transaction:
        a message burst from a batch of builds costs one commit, not one per event."""
        self._buffer = buffer = _Buffer()
        try:
            yield
        finally:
            self._buffer = None
            if buffer.held:
                self._write(
                    buffer.events,
                    buffer.checks,
                    buffer.built,
                    buffer.run,
                    buffer.partitions,
                    buffer.profiles,
                )
            for name in buffer.recorded:
                faults.pause("after-record", name, self.token.event)

    def _after_record(self, name: str) -> None:
        if self._buffer is not None:
            self._buffer.recorded.append(name)
        else:
            faults.pause("after-record", name, self.token.event)

    def _out_of_space(self, what: str) -> None:
        """A full disk ends the run: nothing more can be built, and its end must be recorded
        while the ballast given back to the disk lasts."""
        if self.failure is None:
            self.failure = (
                f"failed: no space left on the device of {self.identity.path}: {what}."
                " Free some space, then run again"
            )
            self.run.status, self.run.message = RunStatus.FAILED, self.failure
        self.token.cancel("a full disk")

    def _not_started(self, name: str) -> AssetEvent:
        event = self.events[name]
        return AssetEvent(
            self.run.run_id,
            name,
            EventStatus.NOT_STARTED,
            event.kind,
            ended_at=utcnow(),
            error=self._why_not_started(),
        )

    def _why_not_started(self) -> str:
        """Why the run did not start something, as a sentence beside the status 'not started'
        (so without those words again): a cancel names who asked for it."""
        if self.failure:
            return "the run stopped after an error before it started (see the run's message)"
        if self.token.reason:
            return f"the run was cancelled by {self.token.reason} before it started"
        return "the run stopped before it started"

    # --- materialize -----------------------------------------------------------------------

    def _materialize(self, names: set[str]) -> None:
        self._deferred = deferred = self.defs.deferred_checks(names)
        graph = self.defs.execution_graph(names)
        self.graph = partition_runs.with_partitions(self.defs, graph, self.keys_for)
        self._sorter = sorter = graphlib.TopologicalSorter(self.graph)
        sorter.prepare()
        stopped: dict[Any, AssetEvent] = {}  # asset or partition -> failed/skipped/blocked
        self._stopped = stopped
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=str)
            to_build = [self._schedule(n, names, deferred, stopped, sorter) for n in ready]
            self._start_builds([name for name in to_build if name is not None])
            if self.outstanding:
                self._receive(deferred, stopped, sorter)
        while self.outstanding:  # the profiles still being computed
            self._receive(deferred, stopped, sorter)

    def _schedule(
        self,
        node: str | CheckNode,
        names: set[str],
        deferred: dict[str, CheckDef],
        stopped: dict[str, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> str | None:
        """Start a ready check or partition, or record why a ready asset is not built; the
        asset's name when it is to be built."""
        if isinstance(node, PartitionNode):
            self._schedule_partition(node, stopped, sorter)
            return None
        if isinstance(node, str) and node in self.keys_for:  # its partitions are done
            self._aggregate(node, stopped, sorter)
            return None
        if isinstance(node, CheckNode):
            check = deferred[node.key]
            missing = self._unbuilt(check, names)
            if missing or self._stopping():
                reason = NotRunReason.RUN_STOPPED if not missing else NotRunReason.ASSET_NOT_BUILT
                text = f"asset '{missing}' was not built in this run" if missing else None
                self._record(checks=skipped_checks([check], self.run.run_id, reason, text))
                sorter.done(node)
            elif node.key not in self._claimed:  # else it ran with a sibling of its multi-check
                together = self._together(check, deferred)
                self._claimed.update(c.key for c in together)
                self._submit(self._check_task, node, together)
            return None
        if self._stopping():
            self._record(events=[self._not_started(node)])
            self._record(checks=self._skip_own(node, NotRunReason.RUN_STOPPED, deferred))
            sorter.done(node)
            return None
        cause = next((stopped[p] for p in self.defs.graph.parents(node) if p in stopped), None)
        if cause is not None:
            event = self._skip_event(node, cause)
            stopped[node] = event
            self._record(events=[event])
            self._record(checks=self._skip_own(node, NotRunReason.ASSET_SKIPPED, deferred))
            sorter.done(node)
            return None
        return node

    def _start_builds(self, names: list[str]) -> None:
        """Build expensive assets one per task; split cheap ones into a batch per worker."""
        below = self.batch_below
        cheap = [
            n for n in names if batches.batchable(self.defs.assets[n], self.durations.get(n), below)
        ]
        if len(cheap) < 2:
            cheap = []
        for name in names:
            if name not in cheap:
                self._submit(self._build_task, name, self.defs.assets[name])
        parts = min(self.workers, len(cheap))
        for i in range(parts):
            self._submit_batch(cheap[i * len(cheap) // parts : (i + 1) * len(cheap) // parts])

    def _skip_event(self, name: str, cause: AssetEvent) -> AssetEvent:
        """Why `name` is skipped, as facts: the upstream, and the blocking check if any."""
        kind = self.defs.assets[name].kind
        if cause.status == EventStatus.SKIPPED:
            reason, upstream, blocked_by = SkipReason.UPSTREAM_SKIPPED, cause.asset, None
            blocked_by = cause.blocked_by
            text = f"upstream '{cause.asset}' was skipped"
        elif cause.blocked_by:
            reason, upstream, blocked_by = (
                SkipReason.BLOCKED_BY_CHECK,
                cause.asset,
                cause.blocked_by,
            )
            text = f"upstream '{cause.asset}' is blocked by failed check '{cause.blocked_by}'"
        else:
            reason, upstream, blocked_by = SkipReason.UPSTREAM_FAILED, cause.asset, None
            text = f"upstream '{cause.asset}' failed"
        return AssetEvent(
            self.run.run_id,
            name,
            EventStatus.SKIPPED,
            kind,
            ended_at=utcnow(),  # when the run decided not to build it
            error=text,
            skip_reason=reason,
            upstream=upstream,
            blocked_by=blocked_by,
        )

    def _stopping(self) -> bool:
        return self.token.cancelled or self.failure is not None

    def _submit(self, task: Callable[..., Any], node: str | CheckNode, *args: Any) -> None:
        self.outstanding += 1
        future = self.pool.submit(task, node, *args)
        future.add_done_callback(self._relay_crash(node))

    def _submit_profile(self, name: str, entry: CatalogEntry) -> None:
        """A profile task that fails reports no profile, never a crash: a crash would be taken
        for a build that never started, and the build it follows stands recorded. (A pool of
        its own, for profiles beside builds on this 2-core machine, measured no gain: DuckDB
        already keeps both cores busy.)"""
        self.outstanding += 1
        future = self.pool.submit(self._profile_task, name, entry)

        def done(future: Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                self.inbox.put(_Message("profile", name, None))

        future.add_done_callback(done)

    def _submit_batch(self, names: list[str]) -> None:
        self.outstanding += len(names)
        reported: set[str] = set()
        future = self.pool.submit(self._batch_task, names, reported)

        def done(future: Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                error = "not started" if future.cancelled() else repr(future.exception())
                for name in names:
                    if name not in reported:
                        self.inbox.put(_Message("crashed", name, error))

        future.add_done_callback(done)

    def _relay_crash(self, node: str | CheckNode) -> Callable[[Future[Any]], None]:
        """A task that raised (a bug, not a build failure) still reports back, so the run
        never waits for it forever."""

        def done(future: Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                error = "not started" if future.cancelled() else repr(future.exception())
                self.inbox.put(_Message("crashed", node, error))

        return done

    def _receive(
        self,
        deferred: dict[str, CheckDef],
        stopped: dict[str, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        """Handle every message that has arrived (at least one), recording them together."""
        messages = [self._next_message()]
        while True:
            try:
                messages.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        with self._one_transaction():
            for message in messages:
                if message is not None:
                    self._handle(message, deferred, stopped, sorter)

    def _next_message(self) -> _Message | None:
        """The next message, looking for a cancel request in the history while waiting."""
        try:
            return self.inbox.get(timeout=CANCEL_POLL_SECONDS)
        except queue.Empty:
            self._poll_cancel()
            return None

    def _poll_cancel(self) -> None:
        now = time.monotonic()
        if self.token.cancelled or now - self._last_poll < CANCEL_POLL_SECONDS:
            return
        self._last_poll = now
        who = store.cancel_request(self.history, self.run.run_id)
        if who is not None:
            self.token.cancel(who)

    def _handle(
        self,
        message: _Message,
        deferred: dict[str, CheckDef],
        stopped: dict[Any, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        node = message.node
        if message.what == "full":  # a worker ran out of disk: stop the run (no task ended)
            store.release_reserve(self.identity.path)
            self._out_of_space(f"'{node}' could not be written")
            return
        if message.what not in ("started", "part-started", "profiled"):
            self.outstanding -= 1
        if message.what == "part-started":
            self._partition_started(node, message.payload)
        elif message.what == "part-built":
            self._partition_built(node, message.payload, stopped, sorter)
        elif message.what == "part-checked":
            self._partition_checked(node, message.payload, stopped, sorter)
        elif message.what == "started" and isinstance(node, str):
            event = self.events[node]
            event.status, event.started_at = EventStatus.RUNNING, message.payload
            self._record(events=[event])
        elif message.what == "built" and isinstance(node, str):
            self._built(node, message.payload, deferred, stopped, sorter)
        elif message.what == "checked":
            self._checked(node, message.payload, deferred, stopped, sorter)
        elif message.what in ("profiled", "profile"):  # "profiled": a partitioned table's
            if message.payload is not None:
                self._record(profiles=[message.payload])
        else:  # crashed: a task that never reported its own outcome
            if isinstance(node, PartitionNode):
                text = (
                    self._why_not_started()
                    if message.payload == "not started"
                    else f"its task stopped before reporting: {message.payload}"
                )
                lost = partition_events(
                    self.run.run_id, node, EventStatus.NOT_STARTED, ended_at=utcnow(), error=text
                )
                stopped[node] = AssetEvent(self.run.run_id, node.asset, EventStatus.NOT_STARTED)
                self._partition_done(node, lost, [], self._not_run(node, NotRunReason.RUN_STOPPED))
            elif isinstance(node, CheckNode):
                together = self._together(deferred[node.key], deferred)
                self._record(
                    checks=skipped_checks(together, self.run.run_id, NotRunReason.RUN_STOPPED)
                )
                for check in together[1:]:
                    sorter.done(CheckNode(check.key))
            else:
                event = self._not_started(node)
                stopped[node] = event
                self._record(events=[event])
            sorter.done(node)
        self._poll_cancel()

    def _built(
        self,
        name: str,
        build: _Build,
        deferred: dict[str, CheckDef],
        stopped: dict[str, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        asset = self.defs.assets[name]
        event = AssetEvent(
            self.run.run_id,
            name,
            build.status,
            asset.kind,
            started_at=build.started_at,
            ended_at=utcnow(),
            duration_s=build.duration_s,
            code_version=asset.code_version,
            error=build.error,
        )
        built = []
        if build.entry is not None:
            if self.identity.still_there():
                event.row_count = build.entry.row_count
                event.columns, event.preview = build.entry.columns, build.entry.preview
                built.append(build.entry)
                if profiles.wanted(asset) and not self.token.cancelled:
                    self._submit_profile(name, build.entry)
            else:  # committed into a file that is no longer at the path: it is gone
                event.status = EventStatus.FAILED
                event.error = self.failure = (
                    f"the database file {self.identity.path} was deleted or replaced during the"
                    f" run: '{name}' was committed into the old file and is lost; start a new"
                    " run to rebuild the warehouse"
                )
        self._after_build(name, event, built, sorter)

    def _after_build(
        self,
        name: str,
        event: AssetEvent,
        built: list[CatalogEntry],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        """Record the asset's build, then start its checks or say why they do not run."""
        deferred, stopped = self._deferred, self._stopped
        self._record(events=[event], built=built)
        self._after_record(name)
        whole = [c for c in self.defs.checks_for(name) if c.key not in deferred]
        if name in self.keys_for:  # its per-partition checks ran with its partitions
            whole = [c for c in whole if c not in self._partition_checks_of(name)]
        own = whole
        if event.status != EventStatus.MATERIALIZED:
            stopped.setdefault(name, event)
            reason = {
                EventStatus.CANCELLED: NotRunReason.RUN_STOPPED,
                EventStatus.NOT_STARTED: NotRunReason.RUN_STOPPED,
                EventStatus.SKIPPED: NotRunReason.ASSET_SKIPPED,
            }.get(EventStatus(event.status), NotRunReason.ASSET_FAILED)
            self._record(checks=skipped_checks(own, self.run.run_id, reason))
            sorter.done(name)
        elif name in self.keys_for and profiles.wanted(self.defs.assets[name]) and built:
            if self._stopping():  # as below: its checks are not run
                self._record(checks=skipped_checks(own, self.run.run_id, NotRunReason.RUN_STOPPED))
                sorter.done(name)
            else:  # the whole table, now that the run's partitions are built
                self._submit(self._whole_table_task, name, own, built[0])
        elif own and not self._stopping():
            event.status = EventStatus.MATERIALIZED
            self._submit(self._check_task, name, own)
        else:
            self._record(checks=skipped_checks(own, self.run.run_id, NotRunReason.RUN_STOPPED))
            sorter.done(name)

    # --- tasks (worker threads: no history writes here) ------------------------------------

    def _build_task(self, name: str, asset: AssetDef) -> None:
        self.inbox.put(_Message("built", name, self._build_alone(asset)))

    def _profile_task(self, name: str, entry: CatalogEntry) -> None:
        """The column profile of the table `entry` committed (profiles.py), outside its
        transaction and beside the asset's checks and downstream builds, which need not wait
        for it: at 10M rows it took as long as the checks and the next build's set-up together.
        None once the run is cancelled."""
        asset = self.defs.assets[name]
        profile = None if self.token.cancelled else self._profile(asset, entry)
        self.inbox.put(_Message("profile", name, profile))

    def _profile(self, asset: AssetDef, entry: CatalogEntry) -> Profile:
        """The profile of `asset`'s table as `entry` committed it; a profile that fails or is
        interrupted carries its error and never touches the build."""
        started = time.perf_counter()
        raw_values = profiles.keeps_raw_values(self.defs, asset.name)
        cursor = self.con.cursor()
        try:
            with self.token.watching(cursor):
                return profiles.profile_table(
                    cursor,
                    asset.name,
                    self.run.run_id,
                    entry.columns,
                    entry.row_count or 0,
                    raw_values,
                )
        except Exception as exc:
            return Profile(
                self.run.run_id,
                asset.name,
                entry.row_count,
                duration_s=time.perf_counter() - started,
                raw_values=raw_values,
                error=builder.error_text(exc),
            )
        finally:
            cursor.close()

    def _whole_table_task(self, name: str, checks: list[CheckDef], entry: CatalogEntry) -> None:
        """A partitioned table after the run's partitions: its profile, then its whole-table
        checks (per_partition=False)."""
        if not self.token.cancelled:
            self.inbox.put(_Message("profiled", name, self._profile(self.defs.assets[name], entry)))
        self._check_task(name, checks)

    def _build_alone(self, asset: AssetDef) -> _Build:
        """One asset in its own transaction: its outcome, never an exception."""
        name = asset.name
        if self.token.cancelled:
            return _Build(EventStatus.NOT_STARTED, None, error=self._why_not_started())
        started_at = utcnow()
        self.inbox.put(_Message("started", name, started_at))
        cursor = self.con.cursor()
        started = time.perf_counter()
        try:
            with self.token.watching(cursor):
                entry = builder.rebuild(cursor, asset, self.run.run_id, self.token.event)
            faults.pause("after-commit", name, self.token.event)
            build = _Build(EventStatus.MATERIALIZED, started_at, entry=entry)
        except Exception as exc:
            if self.token.cancelled:  # interrupted (perhaps wrapped by the asset's own code)
                build = self._cancelled(asset, started_at)
            else:
                build = _Build(EventStatus.FAILED, started_at, error=builder.error_text(exc))
                if store.is_disk_full(exc):
                    self.inbox.put(_Message("full", name, build.error))
        finally:
            cursor.close()
        build.duration_s = time.perf_counter() - started
        return build

    def _message(self, what: str, node: Any, payload: Any = None) -> _Message:
        return _Message(what, node, payload)

    def _still_there(self) -> bool:
        return self.identity.still_there()

    def _build_answer(self, status: EventStatus, started_at: Any, **details: Any) -> _Build:
        return _Build(status, started_at, **details)

    def _not_started_build(self) -> _Build:
        return _Build(EventStatus.NOT_STARTED, None, error=self._why_not_started())

    def _cancelled(self, asset: AssetDef, started_at: Any) -> _Build:
        reason = self.token.reason or "an interrupt"
        error = f"cancelled by {reason}: rolled back, the previous {asset.kind} is kept"
        return _Build(EventStatus.CANCELLED, started_at, error=error)

    def _batch_task(self, names: list[str], reported: set[str]) -> None:
        """Build `names` in batches (batches.py), each committed whole; a batch that fails is
        built again one asset at a time, so every failure is a single build's failure."""

        def report(name: str, build: _Build) -> None:
            reported.add(name)
            self.inbox.put(_Message("built", name, build))

        pending = [self.defs.assets[n] for n in names]
        careful = False  # until a function running statements of its own shows up
        while pending:
            if self.token.cancelled or len(pending) == 1:
                for asset in pending:
                    report(asset.name, self._build_alone(asset))
                return
            started: dict[str, Any] = {}
            on_start = functools.partial(self._announce, started)
            cursor = self.con.cursor()
            try:
                with self.token.watching(cursor):
                    builds = batches.rebuild_batch(
                        cursor, pending, self.run.run_id, self.token.event, on_start, careful
                    )
            except batches.NeedsCare:
                careful = True  # the same assets again, keeping what each one leaves
                continue
            except builder.Cancelled:
                for asset in pending[: len(started)]:
                    report(asset.name, self._cancelled(asset, started[asset.name]))
                pending = pending[len(started) :]
                continue
            except batches.BatchFailed as failed:
                if not failed.attempted:  # its BEGIN failed: no batch now, so one at a time
                    for asset in pending:
                        report(asset.name, self._build_alone(asset))
                    return
                full = store.is_disk_full(failed.cause)  # trying again would fill it again
                error = builder.error_text(failed.cause)
                if full:
                    self.inbox.put(_Message("full", failed.attempted[0], error))
                for asset in pending[: len(failed.attempted)]:
                    build = _Build(EventStatus.FAILED, started[asset.name], error=error)
                    report(asset.name, build if full else self._build_alone(asset))
                pending = pending[len(failed.attempted) :]
                continue
            finally:
                cursor.close()
            for done in builds:
                faults.pause("after-commit", done.entry.asset, self.token.event)
            for done in builds:
                name = done.entry.asset
                report(
                    name,
                    _Build(
                        EventStatus.MATERIALIZED,
                        started[name],
                        duration_s=done.duration_s,
                        entry=done.entry,
                    ),
                )
            pending = pending[len(builds) :]

    def _announce(self, started: dict[str, Any], name: str) -> None:
        started[name] = utcnow()
        self.inbox.put(_Message("started", name, started[name]))


# Kept for callers of the first release: where these now live.
error_text = builder.error_text
relation_kind = builder.relation_kind
rebuild = builder.rebuild
describe = builder.describe
