"""A partitioned asset's partitions, for its details: the strip's cells (grouped by year or
month), each partition's build and checks, and the runs its buttons start (rebuild one
partition, backfill a range, every missing or failed one).

Plain Python over `pipeline.partition_status`; the strip (dashboard/partition_panel.py) only
renders what `partitions_view` returns and calls `start` with what was clicked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dashboard import runs
from dashboard.formatting import format_count, format_value
from dashboard.models import words
from dashboard.models.reading import history
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.partition_runs import PartitionRequest
from pipeline.partition_status import Summary, partition_states, summarize
from pipeline.partitions import KEY_FORMAT, MonthlyPartitions, Partitions, TimePartitions
from pipeline.states import CheckOutcome, PartitionStatus
from pipeline.store import PartitionCheck


@dataclass(frozen=True)
class CheckLine:
    """One check's latest outcome on one partition, said in a line."""

    name: str
    outcome: CheckOutcome
    detail: str  # "observed 0 · run 2", "3 failing rows · run 4", why it did not run


def _check_line(check: PartitionCheck) -> CheckLine:
    parts = []
    if check.error:
        parts.append(words.headline(check.error))
    if check.observed_value is not None:
        parts.append(f"observed {format_value(check.observed_value)}")
    if check.failing_count:
        noun = "row" if check.failing_count == 1 else "rows"
        parts.append(f"{format_count(check.failing_count)} failing {noun}")
    parts.append(f"run {check.run_id}")
    return CheckLine(check.check_name, CheckOutcome(check.outcome), " · ".join(parts))


@dataclass
class PartitionCell:
    """One partition: its cell in the strip and what a click on it shows."""

    key: str
    label: str  # in the cell: "Mar" under 2024, a day under its month, a static key as is
    group: str  # the strip's row: "2024", "Mar 2024"; "" for static partitions
    status: PartitionStatus
    check_outcome: CheckOutcome | None  # the worst of its checks' latest outcomes
    standing: bool = False  # rows of a build of it are in the warehouse
    rows: int | None = None  # of the build that stands
    built_at: datetime | None = None
    built_in_run: int | None = None
    failed_in_run: int | None = None  # its latest build failed, in this run
    error: str | None = None  # that failure's text
    stale_reason: str | None = None  # why, when stale: its code changed, or an upstream
    check_lines: list[CheckLine] = field(default_factory=list)  # its checks, by name


@dataclass
class PartitionsView:
    asset: str
    summary: Summary
    cells: list[PartitionCell]

    @property
    def keys(self) -> list[str]:
        return [cell.key for cell in self.cells]

    @property
    def groups(self) -> list[tuple[str, list[PartitionCell]]]:
        """The strip's rows in key order: a year of months, a month of days or weeks."""
        rows: dict[str, list[PartitionCell]] = {}
        for cell in self.cells:
            rows.setdefault(cell.group, []).append(cell)
        return list(rows.items())

    def cell(self, key: str | None) -> PartitionCell | None:
        return next((cell for cell in self.cells if cell.key == key), None)

    def with_status(self, status: PartitionStatus) -> list[str]:
        return [cell.key for cell in self.cells if cell.status == status]

    def count(self, status: PartitionStatus) -> int:
        return len(self.with_status(status))

    @property
    def missing(self) -> int:
        """Partitions with no rows in the warehouse: what "all missing" builds (a failed
        partition that never built counts too, as in `materialize --missing`)."""
        return sum(1 for cell in self.cells if not cell.standing)


def partitions_view(cfg: Settings, defs: Definitions, asset: str) -> PartitionsView | None:
    """Every partition of `asset` as the history has it; None for an unpartitioned asset."""
    partitions = defs.assets[asset].partitions
    if partitions is None:
        return None
    with history(cfg) as con:
        states = partition_states(defs, con, asset)
    cells = []
    for state in states:
        group, label = _place(partitions, state.key)
        entry, latest = state.entry, state.latest
        failed = latest if state.status == PartitionStatus.FAILED else None
        checks = sorted(state.checks.values(), key=lambda c: c.check_name)
        cells.append(
            PartitionCell(
                key=state.key,
                label=label,
                group=group,
                status=PartitionStatus(state.status),
                check_outcome=CheckOutcome(state.check_outcome) if state.check_outcome else None,
                standing=entry is not None,
                rows=entry.row_count if entry else None,
                built_at=entry.committed_at if entry else None,
                built_in_run=entry.run_id if entry else None,
                failed_in_run=failed.run_id if failed else None,
                error=words.full_error(failed.error) if failed and failed.error else None,
                stale_reason=state.stale_reason,
                check_lines=[_check_line(c) for c in checks],
            )
        )
    return PartitionsView(asset, summarize(states), cells)


def _place(partitions: Partitions, key: str) -> tuple[str, str]:
    """(row, cell label) of a key: months under their year, days and weeks under their month."""
    if not isinstance(partitions, TimePartitions):
        return "", key
    day = datetime.strptime(key, KEY_FORMAT).date()
    if isinstance(partitions, MonthlyPartitions):
        return str(day.year), f"{day:%b}"
    return f"{day:%b %Y}", str(day.day)


def key_label(key: str) -> str:
    """A key as a person reads it in a sentence: 'March 2024' for a month, else the key."""
    try:
        day = datetime.strptime(key, KEY_FORMAT).date()
    except ValueError:
        return key
    return f"{day:%B %Y}" if day.day == 1 else f"{day:%d %b %Y}"


@dataclass(frozen=True)
class PartitionAction:
    """What one of the strip's buttons asks for: the request and how the run is labelled."""

    request: PartitionRequest
    label: str
    count: int  # partitions it builds (as the strip knows them now)


def backfill(view: PartitionsView, what: str, first: str = "", last: str = "") -> PartitionAction:
    """The request behind a button: one partition ("one", `first`), a range (`first`..`last`,
    in either order), every missing or every failed partition."""
    name = view.asset
    if what == "one":
        return PartitionAction(PartitionRequest(keys=[first]), f"Rebuild {name} [{first}]", 1)
    if what == "range":
        i, j = sorted((view.keys.index(first), view.keys.index(last)))
        low, high = view.keys[i], view.keys[j]
        request = PartitionRequest(first=low, last=high)
        shown = low if i == j else f"{low}...{high}"
        return PartitionAction(request, f"Backfill {name} [{shown}]", j - i + 1)
    if what == "missing":
        count = view.missing
        return PartitionAction(PartitionRequest(missing=True), f"Backfill {name} [missing]", count)
    if what == "failed":
        count = view.count(PartitionStatus.FAILED)
        return PartitionAction(PartitionRequest(failed=True), f"Backfill {name} [failed]", count)
    raise ValueError(f"unknown partition action {what!r}")


def start(cfg: Settings, defs: Definitions, asset: str, wanted: PartitionAction) -> runs.LiveRun:
    """Build the partitions `wanted` asks for, in the background (one run at a time)."""
    return runs.start(
        defs,
        cfg.db,
        asset,
        kind="materialize",
        label=wanted.label,
        planned=[asset],
        partitions=wanted.request,
    )
