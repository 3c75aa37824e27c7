"""Where each asset stands, and why: one answer for the graph, the overview, `list` and reports.

Health, worst first: failed (its latest build failed), blocked (its latest planned build was
skipped because an upstream failed or a blocking check failed), degraded (current, but its
latest ERROR check fails), stale (its code changed, something upstream is newer, or an upstream
is stale: transitively), warning (its latest WARN check warns), fresh, never (not in the
warehouse). What stands in the warehouse comes from the catalog (mirrored from the warehouse's
own ledger), never from events alone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from pipeline import store
from pipeline.definitions import Definitions
from pipeline.partition_status import (
    Summary,
    code_changed_reason,
    partition_states,
    summarize,
    upstream_newer_reason,
)
from pipeline.run_config import describe_fields, requires_config
from pipeline.states import AssetHealth, CheckKey, CheckOutcome, EventStatus, SkipReason
from pipeline.store import AssetEvent, CatalogEntry, CheckRecord

STATUSES = tuple(AssetHealth)  # kept for callers of the first release


@dataclass
class CheckState:
    """A check's latest record (it may say it did not run) and its latest execution."""

    key: CheckKey
    latest: CheckRecord | None  # the newest record, skipped included
    executed: CheckRecord | None  # the newest record of an execution (not skipped)
    changed: bool = False  # its definition is not the one that gave `executed`

    @property
    def outcome(self) -> CheckOutcome | None:
        return None if self.executed is None else CheckOutcome(self.executed.outcome)

    @property
    def not_run_since(self) -> bool:
        """Its newest record says it did not run: its outcome is older than that run."""
        return self.latest is not None and self.latest.outcome == CheckOutcome.SKIPPED


@dataclass
class AssetStatus:
    asset: str
    health: AssetHealth
    reason: str
    last_materialization: AssetEvent | None  # the build that stands in the warehouse now
    last_attempt: AssetEvent | None  # the newest build, failure or skip
    blocked_by: CheckKey | None = None  # blocked: the failed check, when one blocked it
    upstream: str | None = None  # blocked or stale: the upstream asset it comes from
    run_id: int | None = None  # blocked or failed: the run it happened in
    failing_checks: list[CheckKey] = field(default_factory=list)  # ERROR checks failing now
    warning_checks: list[CheckKey] = field(default_factory=list)
    stale_reason: str | None = None  # set when stale, also under a worse health
    check_changed: str | None = None  # one of its checks changed since it last ran
    partitions: Summary | None = None  # a partitioned asset's partitions, counted

    @property
    def status(self) -> str:
        """The health as text (the first release called it status)."""
        return self.health.value


def asset_statuses(
    defs: Definitions, con: sqlite3.Connection, *, previews: bool = True
) -> dict[str, AssetStatus]:
    """The health of every defined asset, from the history in `con`, upstream first; without
    `previews`, the builds' columns and preview rows are left out (lists and tables)."""
    standing = store.catalog(con, previews=previews)
    built_events = store.latest_events(con, EventStatus.MATERIALIZED, previews=previews)
    attempts = store.latest_attempts(con, previews=previews)
    checks = check_states(defs, con)
    result: dict[str, AssetStatus] = {}
    newest_above: dict[str, tuple[datetime, str] | None] = {}
    for name in defs.graph.names:
        entry = standing.get(name)
        state = AssetStatus(
            name,
            AssetHealth.FRESH,
            "built and up to date; its checks pass",
            _build_event(entry, built_events.get(name)),
            attempts.get(name),
        )
        own = [checks[c.check_key] for c in defs.checks_for(name)]
        state.failing_checks = [s.key for s in own if _fails(s.executed)]
        state.warning_checks = [s.key for s in own if s.outcome == CheckOutcome.WARNED]
        state.stale_reason = _stale_reason(defs, name, entry, standing, result, newest_above)
        parts = None
        if defs.assets[name].partitions is not None:
            parts = partition_states(defs, con, name, standing)
            # The recorded build is the newest partition's: rebuilding one partition after a
            # code change must not make the others, built by the old code, read as fresh.
            state.stale_reason = (
                state.stale_reason or code_changed_reason(parts) or upstream_newer_reason(parts)
            )
        if changed := [s for s in own if s.changed]:  # its checks' answers are out of date,
            assert changed[0].executed is not None  # not its data: nothing downstream cares
            state.check_changed = (
                f"check '{changed[0].key.name}' changed since it last ran (run"
                f" {changed[0].executed.run_id}): run its checks again"
            )
        _decide(state, entry, built_events.get(name))
        asset = defs.assets[name]
        if state.health in (AssetHealth.NEVER, AssetHealth.STALE) and requires_config(asset):
            state.reason += (  # why a plain run leaves it so: said wherever the reason shows
                f"; built on request only: it needs run config ({describe_fields(asset)})"
            )
        if parts is not None:
            state.partitions = summarize(parts)
            state.reason = f"{state.partitions}; {state.reason}"
        result[name] = state
    return result


def _decide(state: AssetStatus, entry: CatalogEntry | None, last_built: AssetEvent | None) -> None:
    """The worst thing that holds decides the health; the reason says it in words."""
    attempt = state.last_attempt
    if attempt is not None and attempt.status == EventStatus.FAILED:
        first_line = (attempt.error or "unknown error").splitlines()[0]
        kept = "; the previous build is kept" if entry is not None else ""
        state.health, state.run_id = AssetHealth.FAILED, attempt.run_id
        state.reason = f"its build failed in run {attempt.run_id}{kept}: {first_line}"
    elif attempt is not None and attempt.status == EventStatus.SKIPPED:
        state.health, state.run_id = AssetHealth.BLOCKED, attempt.run_id
        state.upstream = attempt.upstream
        state.blocked_by = attempt.blocked_by
        state.reason = _blocked_reason(attempt)
    elif entry is None:
        state.health, state.reason = AssetHealth.NEVER, _never_reason(last_built)
    elif state.failing_checks:
        state.health = AssetHealth.DEGRADED
        state.reason = f"failing {_checks(state.failing_checks)}"
        if state.check_changed:
            state.reason += f"; {state.check_changed}"
    elif state.stale_reason or state.check_changed:
        state.health = AssetHealth.STALE
        state.reason = state.stale_reason or state.check_changed or ""
    elif state.warning_checks:
        state.health = AssetHealth.WARNING
        state.reason = f"warning from {_checks(state.warning_checks)}"


def _blocked_reason(event: AssetEvent) -> str:
    prefix = f"not built in run {event.run_id}"
    if event.skip_reason == SkipReason.BLOCKED_BY_CHECK or (
        event.skip_reason == SkipReason.UPSTREAM_SKIPPED and event.blocked_by
    ):
        return f"{prefix}: blocked by failed check '{event.blocked_by}'"
    if event.skip_reason == SkipReason.UPSTREAM_FAILED:
        return f"{prefix}: upstream '{event.upstream}' failed"
    if event.skip_reason == SkipReason.UPSTREAM_SKIPPED:
        return f"{prefix}: upstream '{event.upstream}' was not built either"
    return f"{prefix}: {event.error or 'skipped'}"  # recorded by version 1: prose only


def _stale_reason(
    defs: Definitions,
    name: str,
    entry: CatalogEntry | None,
    standing: dict[str, CatalogEntry],
    upstream_states: dict[str, AssetStatus],
    newest_above: dict[str, tuple[datetime, str] | None],
) -> str | None:
    """Why `name`'s table is out of date, looking through every level upstream.

    `newest_above` holds, per asset already seen, the newest build anywhere upstream of it:
    one pass in dependency order instead of a walk over every ancestor of every asset.
    """
    newest: tuple[datetime, str] | None = None
    for parent in defs.graph.parents(name):
        built = standing.get(parent)
        own = (built.committed_at, parent) if built and built.committed_at else None
        for candidate in (newest_above.get(parent), own):
            if candidate is not None and (newest is None or candidate > newest):
                newest = candidate
    newest_above[name] = newest
    if entry is None:
        return None
    if entry.code_version != defs.assets[name].code_version:
        return "its code changed since it was built"
    if newest is not None and entry.committed_at is not None and newest[0] > entry.committed_at:
        return f"upstream '{newest[1]}' was built after it"
    for parent in defs.graph.parents(name):
        if parent not in standing:
            return f"upstream '{parent}' is not in the warehouse"
        parent_reason = upstream_states[parent].stale_reason
        if parent_reason is not None:
            return f"upstream '{parent}' is stale ({parent_reason})"
    return None


def _fails(record: CheckRecord | None) -> bool:
    return record is not None and CheckOutcome(record.outcome).fails_run


def _checks(keys: list[CheckKey]) -> str:
    noun = "check" if len(keys) == 1 else "checks"
    return f"{noun} " + ", ".join(str(k) for k in keys)


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
        return "never built"
    return (
        f"not in the warehouse: built in run {last_recorded.run_id}, then dropped or the"
        " database file replaced"
    )


def check_states(defs: Definitions, con: sqlite3.Connection) -> dict[CheckKey, CheckState]:
    """Every defined check's latest record and latest execution, and whether its definition
    changed since (a threshold moved, a factory's argument changed): its outcome is then not
    an answer about the check as defined now."""
    executed = store.latest_check_results(con)
    latest = store.latest_check_records(con)
    versions = store.latest_check_versions(con)
    states = {}
    for check in defs.checks:
        ran = executed.get(check.key)
        version = versions.get(check.check_key)
        changed = (
            ran is not None
            and version is not None
            and version[0] == ran.run_id
            and version[1] != check.code_version
        )
        states[check.check_key] = CheckState(check.check_key, latest.get(check.key), ran, changed)
    return states


def check_outcomes(defs: Definitions, con: sqlite3.Connection) -> dict[str, CheckRecord | None]:
    """The latest executed result of every defined check (None: never run), by 'asset.check'."""
    latest = store.latest_check_results(con)
    return {check.key: latest.get(check.key) for check in defs.checks}
