"""What the pages call: plain Python over `pipeline`, no Streamlit, so it is unit-tested.

Every reader opens the store for one short unit of work (another process may want the file) and
returns ready-to-show values: DataFrames with the column names a user reads, times in local
time to the second. Errors are the pipeline's own (PipelineError and children, with messages
that say what to do); pages show them with dashboard.ui.guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from dashboard.formatting import (
    format_ago,
    format_duration,
    format_time,
    format_value,
    local_time,
    timezone_name,
)
from dashboard.settings import Settings
from pipeline import store
from pipeline.definitions import Definitions, load_definitions
from pipeline.errors import PipelineError, SelectionError
from pipeline.selection import quote_name, select
from pipeline.status import STATUSES, AssetStatus, asset_statuses, check_outcomes
from pipeline.store import AssetEvent, CheckRecord, RunRecord

STATUS_LABELS = {
    "fresh": "Fresh",
    "stale": "Stale",
    "never": "Never materialized",
    "failed": "Failed",
}
OUTCOME_LABELS = {
    "passed": "Passed",
    "warned": "Warned",
    "failed": "Failed",
    "error": "Error",
    "skipped": "Skipped",
    "never": "Never run",
}
CHECK_BUCKETS = ("passed", "warned", "failed", "never")  # error counts as failed on the overview
RUN_STATUS_LABELS = {
    "running": "Running",
    "success": "Succeeded",
    "failed": "Failed",
    "interrupted": "Interrupted",
}

# Toolbar actions -> how they turn into a selection (see toolbar_selection).
ACTIONS = ("all", "selected", "downstream", "upstream", "stale", "checks", "free")


# --- definitions and store access ---------------------------------------------------------------


def load_defs(cfg: Settings) -> Definitions:
    """The Definitions named by the settings (DefinitionError says what is wrong)."""
    return load_definitions(cfg.defs)


@contextmanager
def _reading(cfg: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived store connection; a DuckDB error while reading becomes a readable one."""
    try:
        with store.open_store(cfg.db, cfg.read_wait_seconds) as con:
            yield con
    except duckdb.Error as exc:
        raise read_error(exc, cfg) from exc


def read_error(exc: Exception, cfg: Settings) -> PipelineError:
    """A DuckDB error while reading history, as a message a user can act on."""
    return PipelineError(
        f"cannot read the run history in {cfg.db}: {exc}. If this file is not an Assetboard"
        " warehouse, point ASSETBOARD_DB (or --db) at another file."
    )


def statuses(cfg: Settings, defs: Definitions) -> dict[str, AssetStatus]:
    with _reading(cfg) as con:
        return asset_statuses(defs, con)


# --- overview -----------------------------------------------------------------------------------


@dataclass
class Failure:
    """One thing that went wrong recently, newest first on the overview."""

    kind: str  # asset | check
    name: str  # asset name or check key
    asset: str
    outcome: str  # failed | error | warned
    when: datetime | None
    message: str


@dataclass
class Overview:
    asset_counts: dict[str, int]
    check_counts: dict[str, int]
    last_run: RunRecord | None
    failures: list[Failure] = field(default_factory=list)
    asset_count: int = 0
    check_count: int = 0


def overview(cfg: Settings, defs: Definitions) -> Overview:
    """Assets by status, checks by outcome, the last run and the recent failures."""
    with _reading(cfg) as con:
        states = asset_statuses(defs, con)
        outcomes = check_outcomes(defs, con)
        runs = store.list_runs(con, 1)
    asset_counts = {status: 0 for status in STATUSES}
    for state in states.values():
        asset_counts[state.status] += 1
    check_counts = {bucket: 0 for bucket in CHECK_BUCKETS}
    failures: list[Failure] = []
    for key, record in outcomes.items():
        bucket = "never" if record is None else record.outcome
        check_counts["failed" if bucket == "error" else bucket] += 1
        if record is not None and record.outcome in ("failed", "error", "warned"):
            failures.append(
                Failure(
                    "check",
                    key,
                    record.asset,
                    record.outcome,
                    record.started_at,
                    check_message(record),
                )
            )
    for state in states.values():
        if state.status == "failed" and state.last_attempt is not None:
            attempt = state.last_attempt
            when = attempt.ended_at or attempt.started_at
            failures.append(
                Failure("asset", state.asset, state.asset, "failed", when, state.reason)
            )
    order = {"failed": 0, "error": 0, "warned": 1}
    failures.sort(key=lambda f: (order[f.outcome], -(f.when.timestamp() if f.when else 0), f.name))
    return Overview(
        asset_counts=asset_counts,
        check_counts=check_counts,
        last_run=runs[0] if runs else None,
        failures=failures,
        asset_count=len(states),
        check_count=len(outcomes),
    )


def check_message(record: CheckRecord) -> str:
    """What a failing check saw: its error, or observed vs expected and failing rows."""
    if record.error:
        return record.error
    parts = []
    if record.observed_value is not None:
        parts.append(f"observed {format_value(record.observed_value)}")
    if record.threshold:
        parts.append(f"rule: {record.threshold}")
    if record.failing_count:
        plural = "s" if record.failing_count != 1 else ""
        parts.append(f"{record.failing_count:,} failing row{plural}")
    return ", ".join(parts) or (record.description or "check did not pass")


def run_summary(run: RunRecord) -> str:
    """'Materialize all · 4 built, 0 failed · 5 checks passed, 1 warned' for one run."""
    what = "Materialize" if run.kind == "materialize" else "Checks"
    selection = run.selection or "all assets"
    parts = [f"{what} {selection}"]
    if run.kind == "materialize":
        parts.append(
            f"{run.assets_materialized} built, {run.assets_failed} failed,"
            f" {run.assets_skipped} skipped"
        )
    parts.append(
        f"checks: {run.checks_passed} passed, {run.checks_warned} warned,"
        f" {run.checks_failed} failed"
    )
    return " · ".join(parts)


# --- graph ---------------------------------------------------------------------------------------


@dataclass
class GraphNode:
    name: str
    group: str
    kind: str
    status: str
    reason: str
    failed_checks: list[str]
    warned_checks: list[str]
    description: str | None


@dataclass
class GraphModel:
    nodes: list[GraphNode]
    edges: list[tuple[str, str]]  # (parent, child)
    groups: list[str]


def graph_model(cfg: Settings, defs: Definitions) -> GraphModel:
    """One node per asset with its status and failing checks, edges by dependency."""
    with _reading(cfg) as con:
        states = asset_statuses(defs, con)
        outcomes = check_outcomes(defs, con)
    nodes = []
    for name in defs.graph.names:
        asset = defs.assets[name]
        records = [outcomes[check.key] for check in defs.checks_for(name)]
        failed = [r.check_name for r in records if r and r.outcome in ("failed", "error")]
        warned = [r.check_name for r in records if r and r.outcome == "warned"]
        state = states[name]
        nodes.append(
            GraphNode(
                name,
                asset.group,
                asset.kind,
                state.status,
                state.reason,
                failed,
                warned,
                asset.description,
            )
        )
    edges = [(parent, name) for name in defs.graph.names for parent in defs.graph.parents(name)]
    groups = sorted({node.group for node in nodes})
    return GraphModel(nodes, edges, groups)


# --- one asset -----------------------------------------------------------------------------------


@dataclass
class AssetDetails:
    name: str
    description: str | None
    group: str
    kind: str
    deps: list[str]
    children: list[str]
    tags: dict[str, str]
    status: AssetStatus
    last: AssetEvent | None  # the last successful materialization
    schema: pd.DataFrame  # Column, Type
    preview: pd.DataFrame
    history: pd.DataFrame  # run_id, finished, status, row_count, duration_s
    checks: pd.DataFrame  # one row per check, latest outcome
    check_history: pd.DataFrame  # run_id, check, outcome, observed_value, when


def asset_details(cfg: Settings, defs: Definitions, name: str) -> AssetDetails:
    """Everything the graph page shows beside the graph for one asset."""
    if name not in defs.assets:
        raise SelectionError(f"no asset named {name!r}; pick one of {', '.join(defs.graph.names)}")
    asset = defs.assets[name]
    with _reading(cfg) as con:
        state = asset_statuses(defs, con)[name]
        outcomes = check_outcomes(defs, con)
        events = store.asset_history(con, name)
        checks_seen = store.check_history(con, name)
    last = state.last_materialization
    schema = pd.DataFrame(last.columns if last else [], columns=["Column", "Type"])
    preview = pd.DataFrame(last.preview if last else [])
    finished = [e for e in events if e.status in ("materialized", "failed")]
    history = pd.DataFrame(
        {
            "run_id": [e.run_id for e in finished],
            "finished": [local_time(e.ended_at or e.started_at) for e in finished],
            "status": [e.status for e in finished],
            "row_count": [e.row_count for e in finished],
            "duration_s": [e.duration_s for e in finished],
        }
    ).sort_values("run_id")
    check_rows = []
    for check in defs.checks_for(name):
        record = outcomes[check.key]
        check_rows.append(
            {
                "Check": check.name,
                "Latest outcome": OUTCOME_LABELS[record.outcome if record else "never"],
                "Severity": check.severity + (", blocking" if check.blocking else ""),
                "Observed": format_value(record.observed_value) if record else "—",
                "Last run": format_time(record.started_at) if record else "—",
                "Description": check.description or "",
            }
        )
    return AssetDetails(
        name=name,
        description=asset.description,
        group=asset.group,
        kind=asset.kind,
        deps=list(defs.graph.parents(name)),
        children=list(defs.graph.children(name)),
        tags=dict(asset.tags),
        status=state,
        last=last,
        schema=schema,
        preview=preview,
        history=history,
        checks=pd.DataFrame(
            check_rows,
            columns=[
                "Check",
                "Latest outcome",
                "Severity",
                "Observed",
                "Last run",
                "Description",
            ],
        ),
        check_history=_check_history_frame(checks_seen, short=True),
    )


def _check_history_frame(records: Iterable[CheckRecord], short: bool = False) -> pd.DataFrame:
    """One row per check execution; `short` names checks without their asset (one asset)."""
    rows = [
        {
            "run_id": r.run_id,
            "check": r.check_name if short else r.key,
            "outcome": r.outcome,
            "observed_value": r.observed_value,
            "when": local_time(r.started_at),
        }
        for r in records
    ]
    frame = pd.DataFrame(rows, columns=["run_id", "check", "outcome", "observed_value", "when"])
    return frame.sort_values(["run_id", "check"]).reset_index(drop=True)


# --- runs ---------------------------------------------------------------------------------------


def runs_table(cfg: Settings, limit: int = 100) -> pd.DataFrame:
    """Run history, newest first, with the column names a person reads."""
    with _reading(cfg) as con:
        runs = store.list_runs(con, limit)
    zone = timezone_name()
    rows = [
        {
            "Run": run.run_id,
            f"Started ({zone})": format_time(run.started_at),
            "Duration": format_duration(run.duration_s),
            "Kind": "Materialize" if run.kind == "materialize" else "Checks only",
            "Selection": run.selection or "all assets",
            "Outcome": RUN_STATUS_LABELS.get(run.status, run.status),
            "Built": run.assets_materialized,
            "Failed": run.assets_failed,
            "Skipped": run.assets_skipped,
            "Checks passed": run.checks_passed,
            "Checks warned": run.checks_warned,
            "Checks failed": run.checks_failed,
        }
        for run in runs
    ]
    return pd.DataFrame(rows)


@dataclass
class RunDetails:
    run: RunRecord
    timeline: pd.DataFrame  # asset, status, start_s, end_s, duration, rows, error
    errors: list[tuple[str, str]]  # (what, message)
    checks: pd.DataFrame


def run_details(cfg: Settings, run_id: int) -> RunDetails | None:
    """One run: per-asset timeline (seconds since the run started), errors, check results."""
    with _reading(cfg) as con:
        run = store.get_run(con, run_id)
        if run is None:
            return None
        events = store.run_events(con, run_id)
        checks = store.run_check_results(con, run_id)
    rows = []
    for event in events:
        start = _offset(run, event.started_at)
        end = _offset(run, event.ended_at)
        if start is not None and end is None and event.duration_s is not None:
            end = start + event.duration_s
        rows.append(
            {
                "asset": event.asset,
                "status": event.status,
                "start_s": start,
                "end_s": end,
                "duration": format_duration(event.duration_s),
                "rows": event.row_count,
                "error": event.error or "",
            }
        )
    timeline = pd.DataFrame(
        rows, columns=["asset", "status", "start_s", "end_s", "duration", "rows", "error"]
    )
    errors = [(f"Asset {e.asset} ({e.status})", e.error) for e in events if e.error]
    errors += [
        (f"Check {r.key} ({r.outcome})", r.error)
        for r in checks
        if r.error and r.outcome != "skipped"
    ]
    if run.message:
        errors.insert(0, ("Run", run.message))
    check_frame = pd.DataFrame(
        [
            {
                "Check": r.key,
                "Outcome": OUTCOME_LABELS.get(r.outcome, r.outcome),
                "Severity": r.severity,
                "Observed": format_value(r.observed_value),
                "Rule": r.threshold or "—",
                "Failing rows": r.failing_count if r.failing_count is not None else 0,
                "Duration": format_duration(r.duration_s),
                "Note": r.error or "",
            }
            for r in checks
        ],
        columns=[
            "Check",
            "Outcome",
            "Severity",
            "Observed",
            "Rule",
            "Failing rows",
            "Duration",
            "Note",
        ],
    )
    return RunDetails(run, timeline, errors, check_frame)


def _offset(run: RunRecord, value: datetime | None) -> float | None:
    if value is None:
        return None
    return max(0.0, (value - run.started_at).total_seconds())


# --- checks ---------------------------------------------------------------------------------------


def checks_table(cfg: Settings, defs: Definitions) -> pd.DataFrame:
    """Every defined check with its latest outcome (never-run checks included)."""
    with _reading(cfg) as con:
        outcomes = check_outcomes(defs, con)
    rows = []
    for check in defs.checks:
        record = outcomes[check.key]
        rows.append(
            {
                "Check": check.key,
                "Latest outcome": OUTCOME_LABELS[record.outcome if record else "never"],
                "Severity": check.severity + (", blocking" if check.blocking else ""),
                "Observed": format_value(record.observed_value) if record else "—",
                "Rule": (record.threshold if record and record.threshold else "—"),
                "Failing rows": (record.failing_count or 0) if record else 0,
                "Last run": format_ago(record.started_at) if record else "never",
                "Description": check.description or "",
            }
        )
    return pd.DataFrame(rows)


def check_history(cfg: Settings, limit: int = 2000) -> pd.DataFrame:
    """Every recorded check result (skips too, they show as grey cells): run_id, check, outcome,
    observed_value, when."""
    with _reading(cfg) as con:
        records = store.check_history(con, None, limit)
    return _check_history_frame(records)


def latest_check(cfg: Settings, defs: Definitions, key: str) -> CheckRecord | None:
    """The newest executed result of one check, with its failing-row sample and SQL."""
    with _reading(cfg) as con:
        return check_outcomes(defs, con).get(key)


# --- the materialize toolbar ------------------------------------------------------------------


def toolbar_selection(
    action: str,
    defs: Definitions,
    asset: str | None = None,
    states: dict[str, AssetStatus] | None = None,
    free_text: str | None = None,
) -> str | None:
    """The selection string (pipeline syntax) a toolbar action means; None means everything.

    Raises SelectionError with a message to show when the action cannot apply, e.g. no asset
    picked, or nothing is stale.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown toolbar action {action!r}; expected one of {ACTIONS}")
    if action in ("all", "checks"):
        return None
    if action == "free":
        text = (free_text or "").strip()
        if not text:
            raise SelectionError(
                "type a selection first, e.g. 'joined_data', '+joined_data' (with upstream),"
                " 'sales_data+' (with downstream) or 'group:ingestion'"
            )
        select(defs, text)  # raises SelectionError with the position of the problem
        return text
    if action == "stale":
        if states is None:
            raise ValueError("the 'stale' action needs the asset statuses")
        behind = [name for name in defs.graph.names if states[name].status != "fresh"]
        if not behind:
            raise SelectionError("nothing to do: every asset is fresh")
        # Their downstream too, or rebuilding them would leave the downstream stale.
        return ", ".join(f"{quote_name(name)}+" for name in behind)
    if not asset:
        raise SelectionError("pick an asset first")
    if asset not in defs.assets:
        raise SelectionError(f"no asset named {asset!r}")
    quoted = quote_name(asset)  # any asset name, spaces and dashes included
    return {"selected": quoted, "downstream": f"{quoted}+", "upstream": f"+{quoted}"}[action]


def planned_assets(defs: Definitions, selection: str | None) -> list[str]:
    """The assets a selection will build, in the order the run plans them."""
    names = select(defs, selection)
    return [name for level in defs.graph.levels(names) for name in level]


def table_preview(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A failing-row sample or preview as a DataFrame (empty when there is none)."""
    return pd.DataFrame(rows)
