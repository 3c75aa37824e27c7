"""One asset's details beside the graph: health and why, the build standing in the warehouse,
its schema and preview, its builds over time and its checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboard.formatting import format_ago, format_count, format_value, local_time
from dashboard.models import words
from dashboard.models.checks import outcome_history
from dashboard.models.reading import history
from dashboard.settings import Settings
from pipeline import store
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.looks import NEVER_RUN, look
from pipeline.states import CheckOutcome, EventStatus
from pipeline.status import AssetStatus, asset_statuses, check_states
from pipeline.store import AssetEvent

CHECK_COLUMNS = ["Check", "Latest outcome", "Observed", "Severity", "Last ran", "Description"]


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
    last: AssetEvent | None  # the build that stands in the warehouse
    error: str | None  # the full text of the failed build, when it failed
    schema: pd.DataFrame  # Column, Type
    preview: pd.DataFrame
    history: pd.DataFrame  # run_id, finished, status (label), row_count, duration_s
    checks: pd.DataFrame  # one row per check, latest execution
    check_outcomes: list[CheckOutcome | None] = field(default_factory=list)  # per checks row
    check_history: pd.DataFrame = field(default_factory=pd.DataFrame)


def asset_details(cfg: Settings, defs: Definitions, name: str) -> AssetDetails:
    """Everything the graph page shows beside the graph for one asset."""
    if name not in defs.assets:
        raise SelectionError(f"no asset named {name!r}; pick one of {', '.join(defs.graph.names)}")
    asset = defs.assets[name]
    with history(cfg) as con:
        state = asset_statuses(defs, con)[name]
        checks = check_states(defs, con)
        events = store.asset_history(con, name)
        seen = store.check_history(con, name)
    last = state.last_materialization
    finished = [e for e in events if e.status in (EventStatus.MATERIALIZED, EventStatus.FAILED)]
    builds = pd.DataFrame(
        {
            "run_id": [e.run_id for e in finished],
            "finished": [local_time(e.ended_at or e.started_at) for e in finished],
            "status": [look(e.status, EventStatus).label for e in finished],
            "row_count": [e.row_count for e in finished],
            "duration_s": [e.duration_s for e in finished],
        }
    ).sort_values("run_id")
    own = [checks[c.check_key] for c in defs.checks_for(name)]
    rows = []
    for check, check_state in zip(defs.checks_for(name), own, strict=True):
        record = check_state.executed
        rows.append(
            {
                "Check": check.name,
                "Latest outcome": look(check_state.outcome).label if record else NEVER_RUN.label,
                "Observed": format_value(record.observed_value) if record else "—",
                "Severity": (record.severity if record else check.severity)
                + (", blocking" if check.blocking else ""),
                "Last ran": format_ago(record.started_at) if record else "never",
                "Description": check.description or "",
            }
        )
    failed = state.last_attempt if state.health == "failed" else None
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
        error=words.full_error(failed.error) if failed and failed.error else None,
        schema=pd.DataFrame(last.columns if last else [], columns=["Column", "Type"]),
        preview=pd.DataFrame(last.preview if last else []),
        history=builds,
        checks=pd.DataFrame(rows, columns=CHECK_COLUMNS),
        check_outcomes=[s.outcome for s in own],
        check_history=outcome_history(seen, short=True),
    )


def rows_text(event: AssetEvent | None) -> str:
    return f"{format_count(event.row_count)} rows" if event and event.row_count is not None else ""
