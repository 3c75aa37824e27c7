"""What the materialize buttons mean: each action as a selection, and the assets it plans."""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.models.reading import statuses
from dashboard.settings import Settings
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.run_config import buildable, describe_fields, requires_config
from pipeline.selection import named, quote_name, select
from pipeline.states import AssetHealth
from pipeline.status import AssetStatus
from pipeline.textsafe import cap

ACTIONS = ("all", "selected", "downstream", "upstream", "stale", "checks", "free")
# What "Stale only" rebuilds: behind its inputs or code, or not built as it should be. Not
# DEGRADED or WARNING: built and current, their checks fail on the data, and a rebuild with the
# same code and data gives the same rows (Dagster's "Materialize stale and missing" neither).
BEHIND = frozenset({AssetHealth.STALE, AssetHealth.FAILED, AssetHealth.BLOCKED, AssetHealth.NEVER})
SHOWN_MAX = 200  # characters of a typed selection echoed back in a message


@dataclass(frozen=True)
class ToolbarPlan:
    """What a click will do: the selection, the assets it builds in order, and the assets it
    leaves out because they need run config a button cannot give (named, never dropped)."""

    selection: str | None
    planned: list[str]
    left_out: list[str] = field(default_factory=list)


def needs_config(defs: Definitions) -> list[str]:
    """The assets no button can build: their config class has required fields."""
    return sorted(name for name, asset in defs.assets.items() if requires_config(asset))


def config_hint(defs: Definitions, name: str, form_above: bool = False) -> str:
    """Why `name` is not built by a button, and where its values are typed in instead."""
    where = "above" if form_above else f"on the Asset graph page (pick {name})"
    return (
        f"{name} needs run config ({describe_fields(defs.assets[name])}): fill its Run config"
        f" form {where} and click 'Materialize with this config'"
    )


def shown_selection(text: str) -> str:
    """A typed selection as a message quotes it: a 5,000-character paste is cut short."""
    return repr(cap(text, SHOWN_MAX))


def plan(
    cfg: Settings,
    action: str,
    defs: Definitions,
    asset: str | None = None,
    free_text: str | None = None,
    form_above: bool = False,
) -> ToolbarPlan:
    """What a toolbar action builds, refused (SelectionError, nothing recorded) when it would
    build nothing or an asset it cannot give config to. `form_above`: the asset's config form
    is drawn above the buttons, so a message points there."""
    states = statuses(cfg, defs) if action == "stale" else None  # read once, used twice
    selection = toolbar_selection(action, defs, asset, states, free_text)
    if action == "checks":
        return ToolbarPlan(selection, [n for n in defs.graph.names if defs.checks_for(n)])
    reached = select(defs, selection)
    if not reached:  # `not *`: a run of nothing would still be recorded as the last run
        raise SelectionError(f"the selection {shown_selection(selection or '*')} matches no asset")
    if refused := sorted(n for n in named(selection) & reached if requires_config(defs.assets[n])):
        raise SelectionError(config_hint(defs, refused[0], form_above))
    planned = planned_assets(defs, selection)
    left_out = sorted(reached - set(planned))
    if states is not None:  # behind, but needing config: named with the run, never dropped
        left_out = sorted(
            set(left_out) | {n for n in needs_config(defs) if states[n].health in BEHIND}
        )
    if not planned:
        raise SelectionError(
            "nothing to build: " + "; ".join(config_hint(defs, n, form_above) for n in left_out)
        )
    return ToolbarPlan(selection, planned, left_out)


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
        # Every asset behind (staleness is transitive, so the pages call their downstream stale
        # too), and what depends on them: rebuilt, those would be stale next.
        behind = [n for n in defs.graph.names if states[n].health in BEHIND]
        on_request = [n for n in behind if requires_config(defs.assets[n])]
        behind = [n for n in behind if n not in on_request]
        if not behind:
            raise SelectionError(_nothing_stale(defs, states, on_request))
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


def _nothing_stale(defs: Definitions, states: dict[str, AssetStatus], on_request: list[str]) -> str:
    """Why 'Stale only' has nothing to build: each asset not fresh is named, with what to do."""
    parts = [config_hint(defs, name) for name in on_request]
    if failing := sorted(n for n in defs.assets if states[n].health == AssetHealth.DEGRADED):
        parts.append(
            f"{', '.join(failing)} {'is' if len(failing) == 1 else 'are'} built and current but"
            " failing checks: a rebuild with the same code and data would not change that (fix"
            " the data, then use Materialize all or + downstream)"
        )
    if not parts:
        fresh = all(state.health == AssetHealth.FRESH for state in states.values())
        return f"nothing to do: every asset is {'fresh' if fresh else 'built and current'}"
    return "nothing stale to rebuild: " + "; ".join(parts)
