"""The report of one run, read from the store: one model that every renderer formats.

Building the model once keeps HTML, JSON, JUnit and Markdown telling the same story; renderers
only choose how to show it. Checks come failing first so the reader meets the problem first.
The run's verdict (passed, warned, failed...) is decided here once, by `verdict`, from what its
checks and assets did; every format shows that verdict, never the stored run status alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import store
from pipeline.checks_anomaly import Band, band_of
from pipeline.definitions import Definitions, load_definitions
from pipeline.errors import ReportError
from pipeline.looks import look
from pipeline.report.partitions import (
    NOT_PASSING,
    AssetPartitions,
    PartitionBuild,
    PartitionCheckResult,
    by_asset,
    collect,
    worst_by_key,
)
from pipeline.states import CheckOutcome, Verdict
from pipeline.store import AssetEvent, CheckRecord, RunRecord
from pipeline.warehouse import utcnow

SCHEMA_VERSION = 1
HISTORY_LENGTH = 20
RECENT_RUNS_SHOWN = 10
# Reading order: what broke, what might break, what could not run, what is fine.
OUTCOME_ORDER = ("failed", "error", "warned", "skipped", "passed")
CHECK_OUTCOMES = OUTCOME_ORDER
ASSET_STATUSES = ("materialized", "failed", "skipped", "running")


@dataclass(frozen=True)
class VerdictStyle:
    label: str  # completes "run 7 ..."
    icon: str  # emoji, for Markdown
    mark: str  # a plain glyph, for HTML (no emoji font needed)
    color: str  # from pipeline/looks.py, as everywhere else


def _style(verdict: Verdict, label: str, icon: str) -> VerdictStyle:
    shown = look(verdict)
    return VerdictStyle(label, icon, shown.symbol, shown.colour)


VERDICT_STYLES = {
    Verdict.PASSED: _style(Verdict.PASSED, "passed", "✅"),
    Verdict.WARNED: _style(Verdict.WARNED, "passed with warnings", "⚠️"),
    Verdict.FAILED: _style(Verdict.FAILED, "failed", "❌"),
    Verdict.CANCELLED: _style(Verdict.CANCELLED, "was cancelled", "⏹️"),
    Verdict.INTERRUPTED: _style(Verdict.INTERRUPTED, "was interrupted", "⛔"),
    Verdict.RUNNING: _style(Verdict.RUNNING, "is still running", "⏳"),
    Verdict.NO_CHECKS: _style(Verdict.NO_CHECKS, "ran no checks", "➖"),
}


@dataclass
class HistoryPoint:
    """One past execution of a check, for the history strip."""

    run_id: int
    outcome: str
    started_at: datetime | None
    observed_value: float | None


@dataclass
class CheckEntry:
    """One check's result in the run, with everything a reader needs to act on it."""

    key: str
    asset: str
    name: str
    outcome: str
    severity: str
    blocking: bool
    description: str | None
    started_at: datetime | None
    duration_s: float | None
    observed_value: float | None
    threshold: str | None
    failing_count: int | None
    failing_sample: list[dict[str, Any]]
    metadata: dict[str, Any]
    sql: str | None
    error: str | None
    history: list[HistoryPoint] = field(default_factory=list)

    @property
    def sample_columns(self) -> list[str]:
        """Column names of the failing-row sample, in first-seen order."""
        names: dict[str, None] = {}
        for row in self.failing_sample:
            names.update(dict.fromkeys(row))
        return list(names)

    @property
    def total_rows(self) -> int | None:
        """Rows the check looked at, when its metadata says (built-in checks record it)."""
        value = self.metadata.get("total_rows")
        return (
            int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )

    @property
    def failing_share(self) -> str | None:
        """'of 2,000 rows (3.95%)', under the failing count, when the rows checked are known."""
        total = self.total_rows
        if self.failing_count is None or not total:
            return None
        return f"of {total:,} rows ({100 * self.failing_count / total:.3g}%)"

    @property
    def per_partition(self) -> bool:
        """Run on each partition of its asset: the run's record holds the worst outcome."""
        return isinstance(self.metadata.get("partitions"), dict)

    @property
    def band(self) -> Band | None:
        """An anomaly check's value and expected band; None for any other check."""
        return band_of(self.metadata, self.observed_value)

    @property
    def headline(self) -> str:
        """One sentence: what happened to this check, for summaries and failure messages.

        An anomaly check says its value against its band: 'row count 120, expected 950' dash
        '1,050: below the expected band'."""
        if self.outcome == "error":
            return f"could not run: {self.error or 'unknown error'}"
        if self.outcome == "skipped":
            return f"skipped: {self.error or 'its asset was not built'}"
        band = self.band
        if band is not None:
            anomalous = self.outcome != "passed" and band.enough_history and band.reason
            return f"{band.text}: {band.reason}" if anomalous else band.text
        parts = []
        failing = self.failing_count
        counted = failing is not None and self.outcome != "passed"
        if failing is not None and counted:
            noun = "row" if failing == 1 else "rows"
            total = self.total_rows
            parts.append(
                f"{failing:,} of {total:,} rows {'fails' if noun == 'row' else 'fail'}"
                f" ({100 * failing / total:.3g}%)"
                if total
                else f"{failing:,} failing {noun}"
            )
        if self.observed_value is not None and not (
            counted and self.observed_value == self.failing_count
        ):
            parts.append(f"observed {format_number(self.observed_value)}")
        if self.threshold:
            # dbt-style rules read as they are ("error if > 0"); bare ones are expectations,
            # but a check run per partition states where it failed ("failed in partition K").
            rule = " if " in f" {self.threshold} " or self.per_partition
            parts.append(self.threshold if rule else f"expected {self.threshold}")
        return "; ".join(parts) or self.outcome


@dataclass
class AssetEntry:
    """What happened to one asset in the run."""

    name: str
    group: str | None
    description: str | None
    status: str
    kind: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    row_count: int | None
    error: str | None
    blocked_by: str | None = None  # the check key that stopped it, when skipped for a check


@dataclass
class Report:
    """Everything about one run that a report shows, in reading order."""

    project: str
    defs_module: str | None
    database: str
    generated_at: datetime
    run: RunRecord
    checks: list[CheckEntry]
    assets: list[AssetEntry]
    history_length: int = HISTORY_LENGTH
    schema_version: int = SCHEMA_VERSION
    partitions: list[PartitionBuild] = field(default_factory=list)  # partitioned assets only
    partition_checks: list[PartitionCheckResult] = field(default_factory=list)

    @property
    def check_counts(self) -> dict[str, int]:
        counts = {outcome: 0 for outcome in CHECK_OUTCOMES}
        for check in self.checks:
            counts[check.outcome] = counts.get(check.outcome, 0) + 1
        return counts

    @property
    def asset_counts(self) -> dict[str, int]:
        counts = {status: 0 for status in ASSET_STATUSES}
        for entry in self.assets:
            counts[entry.status] = counts.get(entry.status, 0) + 1
        return counts

    @property
    def skipped_assets(self) -> list[AssetEntry]:
        return [entry for entry in self.assets if entry.status == "skipped"]

    @property
    def failed_assets(self) -> list[AssetEntry]:
        return [entry for entry in self.assets if entry.status == "failed"]

    @property
    def partitioned_assets(self) -> list[AssetPartitions]:
        """Each partitioned asset the run worked on, with its partitions, in asset order."""
        order = {entry.name: i for i, entry in enumerate(self.assets)}
        return by_asset(self.partitions, order)

    @property
    def partition_counts(self) -> dict[str, int]:
        """Partitions built, failed and skipped in the run (0 when it built none)."""
        counts = {status: 0 for status in ("materialized", "failed", "skipped")}
        for build in self.partitions:
            counts[build.status] = counts.get(build.status, 0) + 1
        return counts

    def partition_marks(self, asset: str) -> dict[str, str]:
        """Partition key of `asset` -> the worst outcome of its checks that did not pass."""
        return worst_by_key(c for c in self.partition_checks if c.asset == asset)

    def failing_partitions(self, check_key: str) -> list[PartitionCheckResult]:
        """The partitions where `check_key` failed, warned or could not run, in key order."""
        found = [c for c in self.partition_checks if c.check_key == check_key]
        return [c for c in found if c.outcome in NOT_PASSING]

    def skipped_because(self, check_key: str) -> list[str]:
        """Assets skipped in this run because `check_key` failed (directly or further up)."""
        return [entry.name for entry in self.assets if entry.blocked_by == check_key]

    @property
    def attention(self) -> list[CheckEntry]:
        """The checks a reader must look at: everything but passes."""
        return [check for check in self.checks if check.outcome != "passed"]

    @property
    def verdict(self) -> Verdict:
        return verdict(self.checks, self.assets, self.run.status)

    @property
    def verdict_style(self) -> VerdictStyle:
        return VERDICT_STYLES[self.verdict]

    @property
    def ok(self) -> bool:
        """Nothing failed (warnings allowed, or no checks at all): what CI should treat as green.
        A run with no checks is not red, but it never reads as "passed" (its verdict says so)."""
        return self.verdict in (Verdict.PASSED, Verdict.WARNED, Verdict.NO_CHECKS)

    def check_summary(self, separator: str = ", ") -> str:
        """'1 failed, 1 could not run, 1 warned, 1 passed, 1 not run': every format says the
        counts in the words of pipeline/looks.py."""
        counts = self.check_counts
        return separator.join(
            f"{counts[outcome]} {look(outcome, CheckOutcome).label.lower()}"
            for outcome in OUTCOME_ORDER
        )

    @property
    def title(self) -> str:
        return f"{self.project}: run {self.run.run_id} {self.verdict_style.label}"


def verdict(checks: Iterable[CheckEntry], assets: Iterable[AssetEntry], run_status: str) -> Verdict:
    """The run's verdict from what happened in it, as dbt decides: every renderer uses this.

    A check that could not run (outcome "error") fails the run whatever its severity, as do a
    failed ERROR check and an asset that failed to build; a WARN check that ran and found
    failing rows only warns. Without such a failure the stored status still counts: a run that
    was interrupted, is still running, or failed before any check ran (broken definitions)
    says so rather than "passed", and so does a run in which no check ran at all (a
    materialization of assets without checks): a check report with nothing checked is not green.
    """
    outcomes = {check.outcome for check in checks}
    if outcomes & {"failed", "error"} or any(entry.status == "failed" for entry in assets):
        return Verdict.FAILED
    if run_status == "cancelled":
        return Verdict.CANCELLED
    if run_status == "interrupted":
        return Verdict.INTERRUPTED
    if run_status == "running":
        return Verdict.RUNNING
    if run_status == "failed":
        return Verdict.FAILED
    if not outcomes & {"passed", "warned"}:
        return Verdict.NO_CHECKS  # none at all, or only checks not run (skipped)
    return Verdict.WARNED if "warned" in outcomes else Verdict.PASSED


def format_number(value: float | None) -> str:
    """Integers without a trailing .0, others with up to four significant decimals."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def build_report(
    db: str | Path,
    run: int | str = "latest",
    *,
    defs: Definitions | None = None,
    defs_module: str | None = None,
    history_length: int = HISTORY_LENGTH,
    wait_seconds: float | None = None,
) -> Report:
    """Read one run (an id, or "latest") from the store at `db` and build its report.

    `defs` (or `defs_module`, loaded when `defs` is not given) adds asset groups and
    descriptions and orders assets as the graph does; without them the store alone is used.
    `wait_seconds` bounds the wait for a file held by another process (None: the default).
    Raises ReportError when there are no runs or the run does not exist.
    """
    if defs is None and defs_module is not None:
        defs = load_definitions(defs_module)
    if not store.history_exists(db):
        raise ReportError(
            f"no run history for {db}: nothing has run yet. Start a run with"
            " `python -m pipeline materialize`, or pass --db the warehouse you ran"
        )
    with store.open_store(db, wait_seconds) as con:
        record = _find_run(con, run)
        events = store.run_events(con, record.run_id)
        results = store.run_check_results(con, record.run_id)
        history = store.check_history_until(con, record.run_id, history_length)
        partitions, partition_checks = collect(con, record.run_id)
    return Report(
        project=_project_name(defs_module),
        defs_module=defs_module,
        database=str(db),
        generated_at=utcnow(),
        run=record,
        checks=_check_entries(results, history, defs),
        assets=_asset_entries(events, defs),
        history_length=history_length,
        partitions=partitions,
        partition_checks=partition_checks,
    )


def recent_run_ids(db: str | Path, limit: int = RECENT_RUNS_SHOWN) -> list[int]:
    """Newest first; empty when the database does not exist yet."""
    if not store.history_exists(db):
        return []
    with store.open_store(db) as con:
        return [record.run_id for record in store.list_runs(con, limit)]


def _find_run(con: Any, run: int | str) -> RunRecord:
    recent = store.list_runs(con, RECENT_RUNS_SHOWN)
    if not recent:
        raise ReportError(
            "no runs yet in this database: start one with `python -m pipeline materialize`"
        )
    if str(run).strip().lower() == "latest":
        return recent[0]
    try:
        run_id = int(str(run).strip())
    except ValueError:
        run_id = None
    found = store.get_run(con, run_id) if run_id is not None else None
    if found is None:
        ids = [r.run_id for r in recent]
        raise ReportError(
            f"no run with id {run!r}; recent runs: {', '.join(map(str, ids))} (or use 'latest')",
            ids,
        )
    return found


def _project_name(defs_module: str | None) -> str:
    if not defs_module:
        return "Assetboard"
    stem = Path(defs_module).stem if defs_module.endswith(".py") else defs_module
    return stem.rsplit(".", 1)[-1]


def _check_entries(
    results: list[CheckRecord], history: list[CheckRecord], defs: Definitions | None
) -> list[CheckEntry]:
    past: dict[str, list[HistoryPoint]] = {}
    for item in history:
        point = HistoryPoint(item.run_id, item.outcome, item.started_at, item.observed_value)
        past.setdefault(item.key, []).append(point)
    order = _asset_order(defs)
    entries = [
        CheckEntry(
            key=r.key,
            asset=r.asset,
            name=r.check_name,
            outcome=r.outcome,
            severity=r.severity,
            blocking=r.blocking,
            description=r.description,
            started_at=r.started_at,
            duration_s=r.duration_s,
            observed_value=r.observed_value,
            threshold=r.threshold,
            failing_count=r.failing_count,
            failing_sample=r.failing_sample,
            metadata=r.metadata,
            sql=r.sql,
            error=r.error,
            history=past.get(r.key, []),
        )
        for r in results
    ]
    rank = {outcome: i for i, outcome in enumerate(OUTCOME_ORDER)}
    entries.sort(
        key=lambda e: (
            rank.get(e.outcome, len(rank)),
            order.get(e.asset, len(order)),
            e.asset,
            e.name,
        )
    )
    return entries


def _asset_order(defs: Definitions | None) -> dict[str, int]:
    return {name: i for i, name in enumerate(defs.graph.names)} if defs else {}


def _asset_entries(events: list[AssetEvent], defs: Definitions | None) -> list[AssetEntry]:
    order = _asset_order(defs)
    entries = []
    for event in events:
        definition = defs.assets.get(event.asset) if defs else None
        entries.append(
            AssetEntry(
                name=event.asset,
                group=definition.group if definition else None,
                description=definition.description if definition else None,
                status=event.status,
                kind=event.kind,
                started_at=event.started_at,
                ended_at=event.ended_at,
                duration_s=event.duration_s,
                row_count=event.row_count,
                error=event.error,
                blocked_by=str(event.blocked_by) if event.blocked_by else None,
            )
        )
    entries.sort(key=lambda e: (order.get(e.name, len(order)), e.name))
    return entries
