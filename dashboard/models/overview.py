"""The Overview page: assets by health, checks by latest outcome, the last run, what needs
attention (worst first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dashboard.models import words
from dashboard.models.reading import history
from dashboard.models.runs import live_counts
from dashboard.settings import Settings
from pipeline import store
from pipeline.definitions import Definitions
from pipeline.partition_status import Summary
from pipeline.states import HEALTH_ORDER, AssetHealth, CheckKey, CheckOutcome
from pipeline.status import asset_statuses, check_states
from pipeline.store import RunRecord

CHECK_BUCKETS = ("passed", "warned", "failed", "never")  # failed holds "could not run" too
_ATTENTION = (AssetHealth.FAILED, AssetHealth.BLOCKED, AssetHealth.DEGRADED)


@dataclass
class Attention:
    """One thing that needs a look, for a card on the Overview."""

    kind: str  # asset | check
    name: str  # the asset, or the check key as shown
    asset: str
    state: AssetHealth | CheckOutcome
    when: datetime | None
    headline: str  # one line
    detail: str | None = None  # the full error text, behind a toggle
    check: CheckKey | None = None


@dataclass(frozen=True)
class PartitionedAsset:
    """A partitioned asset's health and its partitions counted, for a line on the Overview."""

    name: str
    health: AssetHealth
    summary: Summary

    @property
    def share(self) -> float:
        """The share of its partitions whose rows stand (materialized or stale)."""
        built = self.summary.materialized + self.summary.stale
        return built / self.summary.total if self.summary.total else 0.0


@dataclass
class OverviewModel:
    health_counts: dict[AssetHealth, int]
    check_counts: dict[str, int]
    last_run: RunRecord | None
    attention: list[Attention] = field(default_factory=list)
    asset_count: int = 0
    check_count: int = 0
    partitioned: list[PartitionedAsset] = field(default_factory=list)  # in graph order
    # each health's assets and why they stand so, in graph order: what a count stands for
    health_reasons: dict[AssetHealth, list[tuple[str, str]]] = field(default_factory=dict)
    # checks the last run did not execute (not planned, or skipped): their tile counts an
    # older outcome, which beside the last run's "5 passed" would read as more checks passing
    not_in_last_run: int = 0


def overview(cfg: Settings, defs: Definitions) -> OverviewModel:
    """Assets by health, checks by outcome, the last run (live counts if it is running)."""
    with history(cfg) as con:
        states = asset_statuses(defs, con, previews=False)
        checks = check_states(defs, con)
        runs = store.list_runs(con, 1)
        last = live_counts(con, runs[0]) if runs else None
    health_counts = {health: 0 for health in HEALTH_ORDER}
    for state in states.values():
        health_counts[state.health] += 1
    check_counts = dict.fromkeys(CHECK_BUCKETS, 0)
    attention: list[Attention] = []
    for key, check_state in checks.items():
        outcome = check_state.outcome
        bucket = "never" if outcome is None else "failed" if outcome.fails_run else outcome.value
        check_counts[bucket] += 1
        record = check_state.executed
        if record is not None and outcome in (
            CheckOutcome.FAILED,
            CheckOutcome.ERROR,
            CheckOutcome.WARNED,
        ):
            attention.append(
                Attention(
                    "check",
                    str(key),
                    key.asset,
                    outcome,
                    record.started_at,
                    words.check_message(record),
                    words.full_error(record.error) if record.error else None,
                    check=key,
                )
            )
    for state in states.values():
        if state.health in _ATTENTION:
            attempt = state.last_attempt
            when = (attempt.ended_at or attempt.started_at) if attempt else None
            error = attempt.error if attempt and state.health == AssetHealth.FAILED else None
            attention.append(
                Attention(
                    "asset",
                    state.asset,
                    state.asset,
                    state.health,
                    when,
                    words.headline(state.reason),
                    words.full_error(error) if error else None,
                )
            )
    not_in_last_run = 0
    if last is not None:
        not_in_last_run = sum(
            1
            for check_state in checks.values()
            if check_state.executed is None or check_state.executed.run_id != last.run_id
        )
    attention.sort(key=lambda a: (_rank(a.state), -(a.when.timestamp() if a.when else 0), a.name))
    return OverviewModel(
        health_counts=health_counts,
        check_counts=check_counts,
        last_run=last,
        attention=attention,
        asset_count=len(states),
        check_count=len(checks),
        not_in_last_run=not_in_last_run,
        partitioned=[
            PartitionedAsset(state.asset, state.health, state.partitions)
            for state in states.values()
            if state.partitions is not None
        ],
        health_reasons={
            health: [(s.asset, s.reason) for s in states.values() if s.health == health]
            for health in HEALTH_ORDER
        },
    )


def _rank(state: AssetHealth | CheckOutcome) -> int:
    """Failures first (asset or check), then blocked, then warnings."""
    order = {
        AssetHealth.FAILED: 0,
        CheckOutcome.FAILED: 0,
        CheckOutcome.ERROR: 0,
        AssetHealth.BLOCKED: 1,
        AssetHealth.DEGRADED: 2,
        CheckOutcome.WARNED: 3,
    }
    for member, rank in order.items():
        if type(member) is type(state) and member == state:
            return rank
    return 4
