"""What the asset graph draws: every asset, one box per group, one group opened up, or the
neighbourhood of one asset, so that a picture of 2,000 assets still reads.

Plain Python with no Streamlit import: the page picks a picture with `picture()`, the
component draws it, and the tests check each rule without a browser.

The rules, in order:
1. the filter (selection syntax and name search) decides which assets may be drawn;
2. up to GROUP_THRESHOLD of them, or when the full graph is asked for, all are drawn;
3. above it, a selected asset shows its neighbourhood (`depth` steps up and down);
4. else an opened group shows its assets and their direct neighbours in other groups;
5. else one box per group, with its assets counted by health, and edges weighted by how
   many dependencies join two groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from statistics import median_low
from typing import Literal

from dashboard.models.graph import GraphModel, GraphNode
from pipeline.definitions import Definitions
from pipeline.selection import select
from pipeline.states import HEALTH_ORDER, AssetHealth

# Above this many assets the page opens on groups. Measured with graph_layout on the bench's
# synthetic graphs (10 levels): 150 assets make a picture of 1,848 x 1,240 px, so a graph
# column (~600 x 550 px) shows it whole only at zoom 0.30 (4 px names); at the smallest zoom
# the component opens at (0.55, 7.7 px names) it is 1.7 columns wide and 1.2 tall. Past that,
# panning turns into searching (300 assets: 1.7 x 2.2 columns; 2,000: 1.7 x 14), and one box
# per group with its counts by health says more. 150 boxes cost the browser next to nothing.
GROUP_THRESHOLD = 150
DEFAULT_DEPTH = 2

Kind = Literal["asset", "group"]


@dataclass(frozen=True)
class Shape:
    """One box: an asset, or a group standing for its assets."""

    id: str  # unique in the picture: "asset:<name>" or "group:<name>"
    kind: Kind
    name: str
    group: str
    health: AssetHealth  # the asset's, or the worst among the group's assets
    reason: str  # why, in one line (a group: its counts)
    failing: int  # failing ERROR checks (a group: assets with one)
    warnings: int  # warning checks (a group: assets with one)
    is_view: bool = False
    context: bool = False  # drawn as a neighbour of what was asked for, not part of it
    counts: tuple[tuple[AssetHealth, int], ...] = ()  # a group's assets by health, worst first


@dataclass(frozen=True)
class Link:
    source: str  # Shape ids
    target: str
    weight: int = 1  # dependencies it stands for (between groups)


@dataclass(frozen=True)
class Picture:
    view: str  # which picture: the browser keeps a zoom per view
    shapes: list[Shape]
    links: list[Link]
    caption: str  # what is drawn, in plain words (escape it for Markdown)
    kind: Literal["all", "groups", "group", "around"] = "all"
    groups: list[str] = field(default_factory=list)  # groups drawn or opened
    levels: dict[str, int] | None = None  # columns chosen here, not by the edges (groups)


def asset_id(name: str) -> str:
    return f"asset:{name}"


def group_id(name: str) -> str:
    return f"group:{name}"


def matching(defs: Definitions, selection: str = "", search: str = "") -> set[str] | None:
    """The assets the filter lets through, or None when there is no filter: the selection
    syntax (SelectionError when it does not parse) and a part of the name, in any case."""
    chosen: set[str] | None = None
    if selection.strip():
        chosen = select(defs, selection)
    if needle := search.strip().casefold():
        pool = defs.assets if chosen is None else chosen
        chosen = {name for name in pool if needle in name.casefold()}
    return chosen


def picture(
    model: GraphModel,
    *,
    within: Collection[str] | None = None,
    selected: str | None = None,
    opened: str | None = None,
    depth: int = DEFAULT_DEPTH,
    full: bool = False,
) -> Picture:
    """The picture the rules of this module choose (see the module docstring)."""
    names = [n.name for n in model.nodes if within is None or n.name in within]
    if full or len(names) <= GROUP_THRESHOLD:
        return everything(model, names, total=len(model.nodes))
    if selected is not None:
        return around(model, selected, depth, within=set(names))
    if opened is not None:
        return group(model, opened, within=set(names))
    return groups(model, within=set(names))


def everything(model: GraphModel, names: Iterable[str], total: int | None = None) -> Picture:
    """Every asset of `names` and the dependencies between them."""
    keep = set(names)
    nodes = [node for node in model.nodes if node.name in keep]
    count = f"{len(nodes):,} asset{'s' if len(nodes) != 1 else ''}"
    if total is not None and len(nodes) < total:
        caption = f"{count} of {total:,} match the filter."
    else:
        caption = f"All {count}." if len(nodes) != 1 else "The only asset."
    if len(nodes) > GROUP_THRESHOLD:
        caption += " A large picture: zoom with the wheel or the buttons, drag to move."
    return Picture(
        "all",
        [_asset_shape(node) for node in nodes],
        _asset_links(model, keep),
        caption,
        "all",
        sorted({node.group for node in nodes}),
    )


def groups(model: GraphModel, within: Collection[str] | None = None) -> Picture:
    """One box per group (its assets counted by health) and one edge per pair of groups
    that depend on each other, weighted by the number of dependencies.

    Groups often depend on each other both ways, so their columns do not come from the
    edges: a group sits at the level most of its assets sit at (the median), upstream left.
    """
    members: dict[str, list[GraphNode]] = {}
    for node in model.nodes:
        if within is None or node.name in within:
            members.setdefault(node.group, []).append(node)
    group_of = {node.name: node.group for nodes in members.values() for node in nodes}
    weights = Counter(
        (group_id(group_of[a]), group_id(group_of[b]))
        for a, b in model.edges
        if a in group_of and b in group_of and group_of[a] != group_of[b]
    )
    shapes = [_group_shape(name, members[name]) for name in sorted(members)]
    level = asset_levels(model)
    columns = {
        group_id(name): median_low(level[node.name] for node in nodes)
        for name, nodes in members.items()
    }
    assets = sum(len(nodes) for nodes in members.values())
    caption = (
        f"{assets:,} assets in {len(shapes)} group{'s' if len(shapes) != 1 else ''}."
        " Click a group to open it, or pick an asset."
    )
    return Picture(
        "groups", shapes, _weighted(weights), caption, "groups", sorted(members), columns
    )


def group(model: GraphModel, name: str, within: Collection[str] | None = None) -> Picture:
    """The group's assets and, faded, their direct parents and children in other groups:
    one by one when the picture stays small, else one box per other group."""
    allowed = {n.name for n in model.nodes} if within is None else set(within)
    inside = {n.name for n in model.nodes if n.group == name and n.name in allowed}
    outside = {
        other
        for a, b in model.edges
        for here, other in ((a, b), (b, a))
        if here in inside and other not in inside and other in allowed
    }
    own = f"Group {name}: {_count(len(inside), 'asset')}"
    if len(inside) + len(outside) <= GROUP_THRESHOLD:
        nodes = [node for node in model.nodes if node.name in inside or node.name in outside]
        shapes = [_asset_shape(node, context=node.name in outside) for node in nodes]
        links = [
            Link(asset_id(a), asset_id(b))
            for a, b in model.edges
            if (a in inside and (b in inside or b in outside)) or (b in inside and a in outside)
        ]
        caption = own
        if outside:
            caption += f", and {_count(len(outside), 'direct neighbour')} in other groups (faded)"
        return Picture(f"group:{name}", shapes, links, caption + ".", "group", [name])
    node_of = {node.name: node for node in model.nodes}
    around_by_group: dict[str, list[GraphNode]] = {}
    for other in sorted(outside):
        around_by_group.setdefault(node_of[other].group, []).append(node_of[other])
    weights: Counter[tuple[str, str]] = Counter()
    for a, b in model.edges:
        if a in inside and b in inside:
            weights[asset_id(a), asset_id(b)] += 1
        elif a in inside and b in outside:
            weights[asset_id(a), group_id(node_of[b].group)] += 1
        elif b in inside and a in outside:
            weights[group_id(node_of[a].group), asset_id(b)] += 1
    shapes = [_asset_shape(node) for node in model.nodes if node.name in inside]
    shapes += [
        _group_shape(other, nodes, context=True, reason=f"{_count(len(nodes), 'neighbour')}")
        for other, nodes in sorted(around_by_group.items())
    ]
    caption = (
        f"{own}. Their {_count(len(outside), 'direct neighbour')} in other groups are one"
        " faded box per group: click one to open that group."
    )
    return Picture(f"group:{name}", shapes, _weighted(weights), caption, "group", [name])


def around(
    model: GraphModel, name: str, depth: int, within: Collection[str] | None = None
) -> Picture:
    """`name` and every asset up to `depth` steps upstream or downstream of it."""
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for a, b in model.edges:
        children.setdefault(a, []).append(b)
        parents.setdefault(b, []).append(a)
    near = {name} | _walk(name, parents, depth) | _walk(name, children, depth)
    if within is not None:
        near = {n for n in near if n in within} | {name}
    nodes = [node for node in model.nodes if node.name in near]
    steps = f"{depth} step{'s' if depth != 1 else ''}"
    caption = (
        f"{name} and the assets up to {steps} upstream and downstream of it:"
        f" {len(nodes):,} of {len(model.nodes):,}."
    )
    groups_drawn = sorted({node.group for node in nodes})
    return Picture(
        f"around:{name}:{depth}",
        [_asset_shape(node) for node in nodes],
        _asset_links(model, near),
        caption,
        "around",
        groups_drawn,
    )


def asset_levels(model: GraphModel) -> dict[str, int]:
    """Each asset's level: one right of its furthest parent (the nodes come upstream first)."""
    parents: dict[str, list[str]] = {}
    for a, b in model.edges:
        parents.setdefault(b, []).append(a)
    level: dict[str, int] = {}
    for node in model.nodes:
        level[node.name] = 1 + max((level[p] for p in parents.get(node.name, ())), default=-1)
    return level


def _count(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def _weighted(weights: Counter[tuple[str, str]]) -> list[Link]:
    return [Link(a, b, weight) for (a, b), weight in sorted(weights.items())]


def _walk(start: str, edges: dict[str, list[str]], depth: int) -> set[str]:
    seen: set[str] = set()
    frontier = [start]
    for _ in range(depth):
        frontier = [n for node in frontier for n in edges.get(node, ()) if n not in seen]
        seen.update(frontier)
    seen.discard(start)
    return seen


def _asset_links(model: GraphModel, keep: Collection[str]) -> list[Link]:
    return [Link(asset_id(a), asset_id(b)) for a, b in model.edges if a in keep and b in keep]


def _asset_shape(node: GraphNode, context: bool = False) -> Shape:
    return Shape(
        asset_id(node.name),
        "asset",
        node.name,
        node.group,
        node.health,
        node.reason,
        len(node.failing_checks),
        len(node.warning_checks),
        is_view=node.kind == "view",
        context=context,
    )


def _group_shape(
    name: str, nodes: list[GraphNode], context: bool = False, reason: str | None = None
) -> Shape:
    by_health = Counter(node.health for node in nodes)
    counts = tuple((health, by_health[health]) for health in HEALTH_ORDER if by_health[health])
    return Shape(
        group_id(name),
        "group",
        name,
        name,
        counts[0][0],  # the worst health among its assets
        reason or _count(len(nodes), "asset"),
        sum(1 for node in nodes if node.failing_checks),
        sum(1 for node in nodes if node.warning_checks),
        context=context,
        counts=counts,
    )
