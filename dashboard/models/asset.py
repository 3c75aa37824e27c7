"""One asset's details beside the graph: health and why, the build standing in the warehouse,
its schema and preview, its column profile, its builds over time and its checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from dashboard.formatting import (
    format_ago,
    format_count,
    format_duration,
    format_value,
    local_time,
)
from dashboard.models import words
from dashboard.models.checks import outcome_history
from dashboard.models.reading import history
from dashboard.settings import Settings
from pipeline import profiles, store
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.looks import NEVER_RUN, look
from pipeline.states import CheckOutcome, EventStatus
from pipeline.status import AssetStatus, asset_statuses, check_states
from pipeline.store import AssetEvent, Profile

CHECK_COLUMNS = ["Check", "Latest outcome", "Observed", "Severity", "Last ran", "Description"]
PROFILE_COLUMNS = [
    "Column",
    "Type",
    "Nulls",
    "Distinct",
    "Min",
    "Max",
    "Mean",
    "Std dev",
    "Quartiles",
    "Length",
    "Top values",
]
TREND_COLUMNS = ["run_id", "column", "figure", "value"]
MEAN, NULL_SHARE = "Mean", "Null share"
# The figures whose moves over recent builds can be charted, by label, in the order offered;
# a column has those its profiles recorded as numbers (a date's min and max are not).
TREND_FIGURES = {
    NULL_SHARE: "null_share",
    "Distinct": "distinct",
    MEAN: "mean",
    "Min": "min",
    "Max": "max",
    "Median": "q50",
    "Std dev": "stddev",
    "Avg length": "avg_length",
}
DISTRIBUTION_COLUMNS = ["label", "start", "end", "rows"]


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
    preview: pd.DataFrame  # the recorded first rows, with the table's columns even when empty
    history: pd.DataFrame  # run_id, finished, status (label), row_count, duration_s
    checks: pd.DataFrame  # one row per check, latest execution
    check_outcomes: list[CheckOutcome | None] = field(default_factory=list)  # per checks row
    check_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    profile: ProfileView | None = None
    preview_note: str = "No preview yet: materialize the asset first."


def preview_note(last: AssetEvent | None, partitioned: bool, shown: int) -> str:
    """What the Preview tab says its rows are: an empty table is not an unbuilt one, and a
    partitioned table's preview is taken partition by partition."""
    if last is None:
        return "No preview yet: materialize the asset first."
    run = f"run {last.run_id}"
    total = last.row_count
    noun = "view" if last.kind == "view" else "table"
    if total == 0:
        return f"The {noun} is empty: {run} built it with 0 rows (its columns above)."
    if total is None:
        return f"The first {shown} rows, as built by {run}."
    counted = format_count(total)
    rows = f"All {counted} rows" if shown >= total else f"The first {shown} of {counted} rows"
    if partitioned:
        return (
            f"{rows} of the {noun}, partition by partition in key order"
            f" (newest partition build: {run})."
        )
    return f"{rows}, as built by {run}."


PROFILE_OVERVIEW = ["Column", "Type", "Nulls", "Distinct"]  # what fits the side panel


def column_figures(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """One column's profile read top to bottom (Figure, Value), without the empty ones."""
    row = table[table["Column"] == column].iloc[0]
    figures = [(name, row[name]) for name in table.columns if name != "Column" and row[name] != "—"]
    return pd.DataFrame(figures, columns=["Figure", "Value"])


@dataclass
class Distribution:
    """What one column holds, as a small bar chart reads it: its bins between min and max
    (numbers, dates, timestamps), or else its top values (few distinct values, raw values kept).
    """

    binned: bool  # bins (start, end: the range of each bar) or top values (label, rows)
    temporal: bool  # bins of dates or timestamps: start and end are ISO texts
    frame: pd.DataFrame  # DISTRIBUTION_COLUMNS; label is the bar's range or value, as text


def distribution(type_name: str, figures: dict[str, Any]) -> Distribution | None:
    """A column's distribution from its profile figures; None when it has neither."""
    bins = figures.get("bins")
    if bins and bins.get("counts"):
        edges, counts = bins["edges"], bins["counts"]
        temporal = profiles.column_kind(type_name) == "temporal"
        whole = not temporal and all(isinstance(e, int) for e in edges)
        day = type_name.upper() == "DATE"
        rows = []
        for start, end, count in zip(edges, edges[1:], counts, strict=False):
            rows.append([_bin_label(start, end, whole, day), start, end, count])
        return Distribution(True, temporal, pd.DataFrame(rows, columns=DISTRIBUTION_COLUMNS))
    top = figures.get("top")
    if top:
        rows = [[str(value), None, None, count] for value, count in top]
        return Distribution(False, False, pd.DataFrame(rows, columns=DISTRIBUTION_COLUMNS))
    return None


def _bin_label(start: Any, end: Any, whole: bool, day: bool) -> str:
    """The values a bin holds: 1-5 (whole numbers, both included), dates likewise, otherwise
    from its start up to its end (the next bin's start)."""
    if whole and isinstance(start, int) and isinstance(end, int):
        last = end - 1
        return (
            format_value(start) if last == start else f"{format_value(start)}–{format_value(last)}"
        )
    if day:
        until = (date.fromisoformat(str(end)) - timedelta(days=1)).isoformat()
        return str(start) if until == start else f"{start} – {until}"
    if isinstance(start, int | float) and isinstance(end, int | float):
        return f"{format_value(start)} – {format_value(end)}"
    return f"{start} – {end}"


@dataclass
class ProfileView:
    """The column profile of the asset's latest profiled build, and its recent builds'."""

    note: str  # which run, how long; why there is none; what was left out
    error: str | None  # why the latest profile could not be computed (the build stands)
    table: pd.DataFrame  # PROFILE_COLUMNS, one row per column, every cell text
    trend: pd.DataFrame  # TREND_COLUMNS: each column's TREND_FIGURES by run
    distributions: dict[str, Distribution] = field(default_factory=dict)  # by column

    def trend_figures(self, column: str) -> list[str]:
        """The figures of `column` recorded by at least two builds, in TREND_FIGURES order."""
        chosen = self.trend[self.trend["column"] == column]
        runs = chosen.groupby("figure")["run_id"].nunique()
        return [label for label in TREND_FIGURES if runs.get(label, 0) >= 2]


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
        recent_profiles = store.asset_profiles(con, name)
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
        preview=pd.DataFrame(
            last.preview if last else [], columns=[c[0] for c in last.columns] if last else None
        ),
        preview_note=preview_note(
            last, asset.partitions is not None, len(last.preview) if last else 0
        ),
        history=builds,
        checks=pd.DataFrame(rows, columns=CHECK_COLUMNS),
        check_outcomes=[s.outcome for s in own],
        check_history=outcome_history(seen, short=True),
        profile=profile_view(defs, name, recent_profiles),
    )


def profile_view(defs: Definitions, name: str, recent: list[Profile]) -> ProfileView:
    """What the Profile tab shows, from `name`'s recent profiles (newest first)."""
    asset = defs.assets[name]
    empty = pd.DataFrame(columns=PROFILE_COLUMNS)
    if not recent:
        if not profiles.wanted(asset):
            why = (
                "Views are not profiled."
                if asset.kind == "view"
                else "Profiling is off for this asset (profile=False)."
            )
        elif asset.partitions is not None:
            why = "No profile yet: the whole table is profiled once a run's partitions all built."
        else:
            why = "No profile yet: each build of a table records one."
        return ProfileView(why, None, empty, pd.DataFrame(columns=TREND_COLUMNS))
    latest = recent[0]
    note = f"Profile of run {latest.run_id}"
    if latest.row_count is not None:
        note += f" ({format_count(latest.row_count)} rows)"
    if latest.duration_s is not None:
        note += f", computed in {format_duration(latest.duration_s)}"
    note += "."
    if not latest.raw_values:
        note += " No values of the data are kept (sample_size=0): no top values."
    table = pd.DataFrame(
        [_profile_row(c.name, c.type, c.figures) for c in latest.columns], columns=PROFILE_COLUMNS
    )
    shapes = {c.name: distribution(c.type, c.figures) for c in latest.columns}
    found = {name: shape for name, shape in shapes.items() if shape is not None}
    return ProfileView(note, latest.error, table, _trend(recent), found)


def _profile_row(name: str, type_name: str, figures: dict[str, Any]) -> dict[str, str]:
    def shown(key: str) -> str:
        value = figures.get(key)
        if value is None:
            return "—"
        return format_value(value) if isinstance(value, int | float) else str(value)

    share = figures.get("null_share")
    nulls = format_count(figures.get("nulls"))
    if share:
        nulls += f" ({share:.1%})"
    distinct = format_count(figures.get("distinct"))
    if not figures.get("distinct_exact", True):
        distinct = f"≈{distinct}"
    quartiles = " / ".join(shown(k) for k in ("q25", "q50", "q75")) if "q50" in figures else "—"
    if figures.get("quartiles_sampled") and quartiles != "—":
        quartiles = f"≈{quartiles} (sample)"
    length = "—"
    if figures.get("max_length") is not None:
        length = f"{shown('min_length')}–{shown('max_length')}, avg {shown('avg_length')}"
    top = ", ".join(f"{value} ({format_count(count)})" for value, count in figures.get("top", []))
    return {
        "Column": name,
        "Type": type_name,
        "Nulls": nulls,
        "Distinct": distinct,
        "Min": shown("min"),
        "Max": shown("max"),
        "Mean": shown("mean"),
        "Std dev": shown("stddev"),
        "Quartiles": quartiles,
        "Length": length,
        "Top values": top or "—",
    }


def _trend(recent: list[Profile]) -> pd.DataFrame:
    """Each column's TREND_FIGURES that are numbers, per profiled build, oldest first."""
    rows = []
    for profile in reversed(recent):
        for column in profile.columns:
            for figure, key in TREND_FIGURES.items():
                value = column.figures.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    rows.append([profile.run_id, column.name, figure, float(value)])
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def rows_text(event: AssetEvent | None) -> str:
    return f"{format_count(event.row_count)} rows" if event and event.row_count is not None else ""
