"""The words the engine, the store, the CLI, the reports and the dashboard share for states.

Each kind of state is one StrEnum: code compares members, never display labels, and the value
is what the store keeps. Presentation (labels, colours, icons) lives with whoever presents.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run is: going, or how it ended."""

    RUNNING = "running"
    SUCCESS = "success"  # every planned asset built, no check failed that fails a run
    FAILED = "failed"  # an asset failed, an ERROR check failed, a check could not run
    CANCELLED = "cancelled"  # stopped on request (Ctrl-C, SIGTERM, Cancel button)
    INTERRUPTED = "interrupted"  # the process died; recorded by the next process that looked

    @property
    def finished(self) -> bool:
        return self is not RunStatus.RUNNING


class EventStatus(StrEnum):
    """What happened to one asset in one run."""

    QUEUED = "queued"  # planned, waiting for its upstream or a worker
    RUNNING = "running"  # its function or its checks are running now
    MATERIALIZED = "materialized"  # committed: the table or view in the file is this build
    FAILED = "failed"  # rolled back: the previous table or view is unchanged
    SKIPPED = "skipped"  # not attempted: see skip_reason
    CANCELLED = "cancelled"  # the run was cancelled while it was building: rolled back
    INTERRUPTED = "interrupted"  # the process died while it was building: nothing committed
    NOT_STARTED = "not_started"  # the run stopped (cancelled or died) before its turn came

    @property
    def finished(self) -> bool:
        return self not in (EventStatus.QUEUED, EventStatus.RUNNING)


class SkipReason(StrEnum):
    """Why an asset was not attempted: stored as a fact, never recovered from prose."""

    UPSTREAM_FAILED = "upstream_failed"  # `upstream` failed to build
    UPSTREAM_SKIPPED = "upstream_skipped"  # `upstream` was itself skipped (see its reason)
    BLOCKED_BY_CHECK = "blocked_by_check"  # a blocking check of `upstream` failed: `blocked_by`


class NotRunReason(StrEnum):
    """Why a check did not run (its outcome is SKIPPED): a fact, not prose."""

    ASSET_FAILED = "asset_failed"  # its asset failed to build in this run
    ASSET_SKIPPED = "asset_skipped"  # its asset was skipped in this run
    ASSET_NOT_BUILT = "asset_not_built"  # another asset it reads was not built in this run
    RUN_STOPPED = "run_stopped"  # the run was cancelled or stopped after an error first
    PROCESS_DIED = "process_died"  # the run's process died first (killed, power lost): repaired


class CheckOutcome(StrEnum):
    """The result of one check execution."""

    PASSED = "passed"
    WARNED = "warned"  # failed, at WARN severity: shown, never fails a run
    FAILED = "failed"  # failed, at ERROR severity: fails the run
    ERROR = "error"  # could not run (broken SQL, missing table): fails the run, as in dbt
    SKIPPED = "skipped"  # not run: see the record's reason

    @property
    def fails_run(self) -> bool:
        return self in (CheckOutcome.FAILED, CheckOutcome.ERROR)


class TickStatus(StrEnum):
    """How one evaluation of a schedule or sensor ended (pipeline/ticking.py)."""

    REQUESTED = "requested"  # it launched one or more runs
    SKIPPED = "skipped"  # nothing to run, or a run held the warehouse: see its reason
    PARTIAL = "partial"  # it launched runs and rejected other files: see its reason
    FAILED = "failed"  # a request file or a launch failed, no run started: see its reason
    STARTED = "started"  # being evaluated now, or its evaluator died before it ended


class Severity(StrEnum):
    ERROR = "error"
    WARN = "warn"


class RunKind(StrEnum):
    MATERIALIZE = "materialize"
    CHECKS = "checks"


class Verdict(StrEnum):
    """What a report says about its run, in one word (decided from what happened in it)."""

    PASSED = "passed"
    WARNED = "warned"  # passed, with WARN checks that found failing rows
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    RUNNING = "running"
    NO_CHECKS = "no_checks"  # nothing failed, and no check ran: not a pass of anything


class AssetHealth(StrEnum):
    """Where an asset stands now, worst first in `SEVERITY_ORDER`: one word everywhere."""

    FAILED = "failed"  # its latest build failed (the previous table, if any, is kept)
    BLOCKED = "blocked"  # its latest planned build was skipped: a failed upstream or check
    DEGRADED = "degraded"  # built and current, but its latest ERROR check fails
    STALE = "stale"  # its code changed, or something upstream is newer or stale
    WARNING = "warning"  # built and current, but its latest WARN check warns
    FRESH = "fresh"  # built, current, every check it ran passing
    NEVER = "never"  # not in the warehouse: never built (or dropped since)


HEALTH_ORDER = tuple(AssetHealth)  # worst first: what needs attention comes first


class PartitionStatus(StrEnum):
    """Where one partition stands (pipeline/partition_status.py decides which)."""

    MATERIALIZED = "materialized"  # its rows stand and nothing it reads is newer
    STALE = "stale"  # its rows stand, but an upstream it reads was built after it
    FAILED = "failed"  # its latest build failed; rows an older build left are kept
    MISSING = "missing"  # never built, or built before the table was rebuilt whole


@dataclass(frozen=True, order=True)
class CheckKey:
    """A check's identity: check names are unique per asset, so the pair is unique.

    Shown as 'asset.check'; the pair, not that text, is what code compares (an asset or check
    name may itself hold a dot).
    """

    asset: str
    name: str

    def __str__(self) -> str:
        return f"{self.asset}.{self.name}"
