"""The run's steps for checks: which run with an asset, which wait for other assets (deferred,
as nodes of the run's graph), what their blocking failures stop, and check-only runs.

A mixin of engine._Runner, kept apart so each stays readable (as runner_partitions.py). Checks
run on worker threads and never raise there: a task that raised would be taken for a build that
never started, and the build a check follows is already recorded.
"""

from __future__ import annotations

import graphlib
import sqlite3
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline import builder, store
from pipeline.checks_runner import run_asset_checks, skipped_checks
from pipeline.definitions import CheckDef, CheckNode, Definitions
from pipeline.states import CheckOutcome, EventStatus, NotRunReason
from pipeline.store import AssetEvent, CheckRecord, RunRecord
from pipeline.store.records import CHECKED_BUILD
from pipeline.warehouse import FileIdentity

if TYPE_CHECKING:
    import queue
    from concurrent.futures import ThreadPoolExecutor

CANCEL_POLL_SECONDS = 0.25  # how often a run looks for a cancel request in the history


class CheckSteps:
    """Check scheduling, running and recording, for engine._Runner."""

    if TYPE_CHECKING:  # provided by engine._Runner
        defs: Definitions
        run: RunRecord
        con: duckdb.DuckDBPyConnection
        history: sqlite3.Connection
        inbox: queue.Queue[Any]
        token: Any
        identity: FileIdentity
        events: dict[str, AssetEvent]
        only: set[Any] | None
        pool: ThreadPoolExecutor

        def _record(
            self,
            events: Any = (),
            checks: Any = (),
            built: Any = (),
            run: bool = False,
            partitions: Any = None,
            profiles: Any = (),
        ) -> None: ...
        def _stopping(self) -> bool: ...
        def _poll_cancel(self) -> None: ...
        def _message(self, what: str, node: Any, payload: Any = None) -> Any: ...

    def _skip_own(
        self, name: str, reason: NotRunReason, deferred: dict[str, CheckDef]
    ) -> list[CheckRecord]:
        own = [c for c in self.defs.checks_for(name) if c.key not in deferred]
        return skipped_checks(own, self.run.run_id, reason)

    def _unbuilt(self, check: CheckDef, names: set[str]) -> str | None:
        """The first asset a deferred check reads that this run should have built but did not."""
        needed = [check.asset, *check.waits_for]
        return next(
            (n for n in needed if n in names and self.events[n].status != EventStatus.MATERIALIZED),
            None,
        )

    def _together(self, check: CheckDef, deferred: dict[str, CheckDef]) -> list[CheckDef]:
        """`check` with the deferred checks of its multi-check: they wait for the same assets,
        so they are ready together, and its function is called once for all of them."""
        if check.multi is None:
            return [check]
        siblings = [c for c in deferred.values() if c.multi is check.multi and c.key != check.key]
        return [check, *siblings]

    def _checked(
        self,
        node: str | CheckNode,
        records: list[CheckRecord],
        deferred: dict[str, CheckDef],
        stopped: dict[str, AssetEvent],
        sorter: graphlib.TopologicalSorter,
    ) -> None:
        """Record the outcomes of an asset's checks, or of deferred checks run together, and
        stop what their blocking failures block."""
        self._record(checks=records)
        nodes: list[str | CheckNode] = [node]
        if isinstance(node, CheckNode):
            nodes = [CheckNode(r.key) for r in records if r.key in deferred] or nodes
        for record in records:
            owner = record.asset
            if _blocks(record) and owner not in stopped:
                marker = AssetEvent(
                    self.run.run_id, owner, EventStatus.MATERIALIZED, blocked_by=record.check_key
                )
                stopped[owner] = marker
        for done in nodes:
            sorter.done(done)

    def _run_checks(
        self, cursor: duckdb.DuckDBPyConnection, checks: list[CheckDef]
    ) -> list[CheckRecord]:
        """`checks` on `cursor`, stopping with the run, able to read the run history."""
        return run_asset_checks(
            self.defs,
            checks,
            cursor,
            self.run.run_id,
            self.token.event,
            history_db=self.identity.path,
        )

    def _check_task(self, node: str | CheckNode, checks: list[CheckDef]) -> None:
        """Run `checks` and report their records, never raising: the asset's build is already
        recorded, and a task that raised would be taken for a build that never started."""
        try:
            cursor = self.con.cursor()
            try:
                with self.token.watching(cursor):
                    records = self._run_checks(cursor, checks)
            finally:
                cursor.close()
        except Exception as exc:  # the checks could not run; the build stands as recorded
            records = self._checks_not_run(checks, exc)
        self.inbox.put(self._message("checked", node, records))

    def _checks_not_run(self, checks: list[CheckDef], exc: Exception) -> list[CheckRecord]:
        """Checks the check machinery could not run: not run when the run is stopping, else
        errors saying why (as a check that raises is recorded)."""
        if self.token.cancelled:
            return skipped_checks(checks, self.run.run_id, NotRunReason.RUN_STOPPED)
        records = skipped_checks(checks, self.run.run_id, None, builder.error_text(exc))
        for record in records:
            record.outcome, record.skip_reason = CheckOutcome.ERROR, None
        return records

    def _checks_of(self, name: str) -> list[CheckDef]:
        checks = self.defs.checks_for(name)
        return checks if self.only is None else [c for c in checks if c.check_key in self.only]

    def _check_only(self, names: list[str]) -> None:
        ran: set[str] = set()  # checks already run with a multi-check sibling
        older = self._older_tables()
        for name in names:
            checks = [c for c in self._checks_of(name) if c.key not in ran]
            checks += [  # the function of a multi-check runs once for all of its assets
                sibling
                for other in names
                if other != name
                for sibling in self._checks_of(other)
                if sibling.key not in ran
                and any(c.multi is not None and sibling.multi is c.multi for c in checks)
            ]
            ran.update(c.key for c in checks)
            if not checks:
                continue
            if self._stopping():
                reason = NotRunReason.RUN_STOPPED
                self._record(checks=skipped_checks(checks, self.run.run_id, reason))
                continue
            future = self.pool.submit(self._checks_if_present, checks)
            while True:
                try:
                    records = future.result(timeout=CANCEL_POLL_SECONDS)
                    break
                except FutureTimeout:
                    self._poll_cancel()
            for record in records:
                if (note := older.get(record.asset)) and record.outcome != CheckOutcome.SKIPPED:
                    record.metadata = {**record.metadata, CHECKED_BUILD: note}
            self._record(checks=records)

    def _older_tables(self) -> dict[str, str]:
        """Per asset whose latest build failed: which build's table its checks see instead
        (a failed build leaves the previous one standing, as Dagster's latest
        materialization), so a checks-only run never reads as checking the latest build."""
        standing = store.catalog(self.history, previews=False)
        notes = {}
        for name, attempt in store.latest_attempts(self.history, previews=False).items():
            entry = standing.get(name)
            if attempt.status != EventStatus.FAILED or entry is None:
                continue
            table = f"the table built in run {entry.run_id}" if entry.run_id else "the table"
            notes[name] = f"checked {table}; its latest build, run {attempt.run_id}, failed"
        return notes

    def _checks_if_present(self, checks: list[CheckDef]) -> list[CheckRecord]:
        """Run `checks`, except those whose asset has no table or view yet: an error each."""
        cursor = self.con.cursor()
        try:
            assets = dict.fromkeys(c.asset for c in checks)
            missing = {a for a in assets if builder.relation_kind(cursor, a) is None}
            errors = []
            for name in missing:
                text = f"asset '{name}' has not been materialized yet; materialize it first"
                errors += skipped_checks(
                    [c for c in checks if c.asset == name], self.run.run_id, None, text
                )
            for record in errors:
                record.outcome, record.skip_reason = CheckOutcome.ERROR, None
            present = [c for c in checks if c.asset not in missing]
            with self.token.watching(cursor):
                records = self._run_checks(cursor, present) if present else []
            return records + errors
        finally:
            cursor.close()


def _blocks(record: CheckRecord) -> bool:
    return record.blocking and CheckOutcome(record.outcome).fails_run
