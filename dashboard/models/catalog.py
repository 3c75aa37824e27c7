"""The Asset catalog page: one row per asset with group, kind, health, last build, rows and
checks, searchable by name and filterable by the selection syntax, group, kind and health (as
Dagster's catalog is)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboard.formatting import format_ago, format_count
from dashboard.models.reading import history
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.looks import look
from pipeline.selection import select
from pipeline.states import AssetHealth, CheckOutcome
from pipeline.status import asset_statuses, check_states


@dataclass(frozen=True)
class CatalogFilter:
    search: str = ""  # part of the name, any case
    selection: str = ""  # the selection syntax; SelectionError when it does not parse
    groups: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    health: tuple[AssetHealth, ...] = ()


@dataclass
class Catalog:
    frame: pd.DataFrame
    health: list[AssetHealth] = field(default_factory=list)  # one per row, for its colour
    total: int = 0
    groups: list[str] = field(default_factory=list)


COLUMNS = ["Asset", "Group", "Kind", "Health", "Why", "Last build", "Rows", "Checks"]


def usable_selection(defs: Definitions, text: str) -> tuple[str, SelectionError | None]:
    """(`text`, None) when it parses, else ("", why): a typo in the selection box leaves the
    table standing, unfiltered by it, as the graph page does."""
    try:
        if text.strip():
            select(defs, text)
    except SelectionError as exc:
        return "", exc
    return text, None


def catalog(cfg: Settings, defs: Definitions, wanted: CatalogFilter) -> Catalog:
    """The assets matching every part of `wanted`, upstream first."""
    names = defs.graph.names
    if wanted.selection.strip():
        chosen = select(defs, wanted.selection)
        names = [name for name in names if name in chosen]
    needle = wanted.search.strip().casefold()
    with history(cfg) as con:
        states = asset_statuses(defs, con, previews=False)
        checks = check_states(defs, con)
    rows, health = [], []
    for name in names:
        asset, state = defs.assets[name], states[name]
        if needle and needle not in name.casefold():
            continue
        if wanted.groups and asset.group not in wanted.groups:
            continue
        if wanted.kinds and asset.kind not in wanted.kinds:
            continue
        if wanted.health and state.health not in wanted.health:
            continue
        built = state.last_materialization
        own = [checks[c.check_key] for c in defs.checks_for(name)]
        rows.append(
            {
                "Asset": name,
                "Group": asset.group,
                "Kind": asset.kind,
                "Health": look(state.health).label,
                "Why": state.reason,
                "Last build": format_ago(built.ended_at) if built else "never",
                "Rows": format_count(built.row_count if built else None),
                "Checks": _check_summary([c.outcome for c in own]),
            }
        )
        health.append(state.health)
    groups = sorted({a.group for a in defs.assets.values()})
    return Catalog(pd.DataFrame(rows, columns=COLUMNS), health, len(defs.assets), groups)


def _check_summary(outcomes: list[CheckOutcome | None]) -> str:
    """'3 passed, 1 failed' over an asset's checks by their latest execution; '—' for none."""
    if not outcomes:
        return "—"
    labels = [look(o).label.lower() if o is not None else "never run" for o in outcomes]
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} {label}" for label, n in counts.items())
