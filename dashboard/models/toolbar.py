"""What the materialize buttons mean: each action as a selection, and the assets it plans."""

from __future__ import annotations

from dashboard.models.reading import statuses
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.run_config import buildable, requires_config
from pipeline.selection import named, quote_name, select
from pipeline.states import AssetHealth
from pipeline.status import AssetStatus

ACTIONS = ("all", "selected", "downstream", "upstream", "stale", "checks", "free")


def selection_for(
    cfg: Settings,
    action: str,
    defs: Definitions,
    asset: str | None = None,
    free_text: str | None = None,
) -> str | None:
    """The selection (pipeline syntax) an action means; None means everything."""
    states = statuses(cfg, defs) if action == "stale" else None
    return toolbar_selection(action, defs, asset, states, free_text)


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
        # Every asset not fresh (staleness is transitive, so the pages call their downstream
        # stale too), and what depends on them: rebuilt, those would be stale next.
        behind = [n for n in defs.graph.names if states[n].health != AssetHealth.FRESH]
        on_request = [n for n in behind if requires_config(defs.assets[n])]
        behind = [n for n in behind if n not in on_request]
        if not behind:
            aside = f" ({', '.join(on_request)} is built on request: it needs run config)"
            raise SelectionError(f"nothing to do: every asset is fresh{aside * bool(on_request)}")
        return ", ".join(f"{quote_name(name)}+" for name in behind)
    if not asset:
        raise SelectionError("pick an asset first")
    if asset not in defs.assets:
        raise SelectionError(f"no asset named {asset!r}")
    quoted = quote_name(asset)  # any asset name, spaces and dashes included
    return {"selected": quoted, "downstream": f"{quoted}+", "upstream": f"+{quoted}"}[action]


def planned_assets(defs: Definitions, selection: str | None) -> list[str]:
    """The assets a selection will build, in the order the run plans them: not those a run
    leaves out for want of config."""
    names = buildable(defs, select(defs, selection), named(selection))
    return [name for level in defs.graph.levels(names) for name in level]
