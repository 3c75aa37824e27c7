"""Which picture the graph page draws: everything when small, groups when large, a group
opened, an asset's neighbourhood, the filter; and what the browser is sent for it."""

from __future__ import annotations

import json

import pytest

from bench.resolver import synthetic_assets
from dashboard import graph_views
from dashboard.components import asset_graph
from dashboard.graph_views import GROUP_THRESHOLD, asset_id, group_id
from dashboard.models.graph import GraphModel, GraphNode
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.looks import look
from pipeline.states import AssetHealth, CheckKey, CheckOutcome, Severity

HEALTHS = list(AssetHealth)


def _model(n: int) -> tuple[Definitions, GraphModel]:
    """`n` synthetic assets in 10 groups, their health taken in turn from every AssetHealth."""
    defs = Definitions(assets=synthetic_assets(n, n * 3, layers=max(1, min(10, n // 10))))
    nodes = [
        GraphNode(
            name,
            defs.assets[name].group,
            "view" if i % 7 == 0 else "table",
            HEALTHS[i % len(HEALTHS)],
            f"reason of {name}",
            [CheckKey(name, "rows")] if i % 11 == 0 else [],
            [CheckKey(name, "soft")] if i % 13 == 0 else [],
            None,
        )
        for i, name in enumerate(defs.graph.names)
    ]
    edges = [(p, name) for name in defs.graph.names for p in defs.graph.parents(name)]
    return defs, GraphModel(nodes, edges, sorted({node.group for node in nodes}))


@pytest.fixture(scope="module")
def small() -> tuple[Definitions, GraphModel]:
    return _model(40)


@pytest.fixture(scope="module")
def large() -> tuple[Definitions, GraphModel]:
    return _model(2000)


def _names(picture: graph_views.Picture) -> set[str]:
    return {shape.name for shape in picture.shapes if shape.kind == "asset"}


# --- which picture ----------------------------------------------------------------------------


def test_a_small_graph_is_drawn_whole(small: tuple[Definitions, GraphModel]) -> None:
    _, model = small
    picture = graph_views.picture(model, selected=model.nodes[5].name)
    assert picture.kind == "all" and len(picture.shapes) == 40
    assert len(picture.links) == len(model.edges)
    assert picture.caption == "All 40 assets."


def test_a_large_graph_opens_on_its_groups(large: tuple[Definitions, GraphModel]) -> None:
    _, model = large
    picture = graph_views.picture(model)
    assert picture.kind == "groups" and [s.name for s in picture.shapes] == model.groups
    g0 = picture.shapes[0]
    assert sum(count for _, count in g0.counts) == 200
    assert [health for health, _ in g0.counts] == sorted(
        (h for h, _ in g0.counts), key=HEALTHS.index
    )  # worst first
    assert g0.health == g0.counts[0][0]
    weights = {(link.source, link.target): link.weight for link in picture.links}
    group_of = {n.name: n.group for n in model.nodes}
    expected = sum(1 for a, b in model.edges if (group_of[a], group_of[b]) == ("g0", "g1"))
    assert weights[group_id("g0"), group_id("g1")] == expected
    assert picture.levels is not None and set(picture.levels) == {s.id for s in picture.shapes}
    assert picture.caption.startswith("2,000 assets in 10 groups.")


def test_the_full_graph_is_drawn_on_demand(large: tuple[Definitions, GraphModel]) -> None:
    _, model = large
    picture = graph_views.picture(model, full=True)
    assert picture.kind == "all" and len(picture.shapes) == 2000 and len(picture.links) == 6000
    assert "A large picture" in picture.caption


def test_an_opened_group_shows_its_assets_and_neighbours_per_group(
    large: tuple[Definitions, GraphModel],
) -> None:
    _, model = large
    picture = graph_views.picture(model, opened="g3")
    inside = {n.name for n in model.nodes if n.group == "g3"}
    assert {s.name for s in picture.shapes if s.kind == "asset"} == inside
    others = [s for s in picture.shapes if s.kind == "group"]
    assert others and all(s.context and s.name != "g3" for s in others)
    crossing = sum(1 for a, b in model.edges if (a in inside) != (b in inside))
    assert sum(link.weight for link in picture.links if "group:" in link.source + link.target) == (
        crossing
    )


def test_a_small_opened_group_shows_its_neighbours_one_by_one(
    large: tuple[Definitions, GraphModel],
) -> None:
    _, model = large
    few = {n.name for n in model.nodes[:400]}  # the filter leaves a group of about 40
    picture = graph_views.group(model, "g2", within=few)
    inside = {n.name for n in model.nodes if n.group == "g2" and n.name in few}
    assert {s.name for s in picture.shapes if not s.context} == inside
    neighbours = {s.name for s in picture.shapes if s.context}
    assert neighbours and all(s.kind == "asset" for s in picture.shapes)
    for a, b in model.edges:
        if a in inside and b in few and b not in inside:
            assert b in neighbours


def test_a_selected_asset_shows_its_neighbourhood(large: tuple[Definitions, GraphModel]) -> None:
    defs, model = large
    name = "a005_01000"
    one = graph_views.picture(model, selected=name, depth=1)
    two = graph_views.picture(model, selected=name, depth=2)
    near = {name} | set(defs.graph.parents(name)) | set(defs.graph.children(name))
    assert _names(one) == near
    assert _names(two) == {name} | defs.graph.upstream(name, 2) | defs.graph.downstream(name, 2)
    assert one.kind == "around" and one.view != two.view
    assert all(link.source in {s.id for s in one.shapes} for link in one.links)


def test_the_filter_limits_what_is_drawn(large: tuple[Definitions, GraphModel]) -> None:
    defs, model = large
    within = graph_views.matching(defs, "+a009_01999", "a00")
    assert within == {n for n in defs.graph.upstream("a009_01999") | {"a009_01999"} if "a00" in n}
    picture = graph_views.picture(model, within=within)
    assert picture.kind == ("all" if len(within) <= GROUP_THRESHOLD else "groups")
    assert graph_views.matching(defs, "", "") is None
    assert graph_views.matching(defs, "", "A005_0100") == {f"a005_0100{i}" for i in range(10)}
    with pytest.raises(SelectionError, match="unknown asset 'nope'"):
        graph_views.matching(defs, "nope", "")


def test_a_filtered_small_graph_says_how_many_match(small: tuple[Definitions, GraphModel]) -> None:
    defs, model = small
    picture = graph_views.picture(model, within=graph_views.matching(defs, "group:g1", ""))
    assert picture.caption == "4 assets of 40 match the filter."
    assert {s.group for s in picture.shapes} == {"g1"}


# --- what the browser is sent -----------------------------------------------------------------


def test_the_drawing_takes_colours_and_words_from_the_looks(
    small: tuple[Definitions, GraphModel],
) -> None:
    _, model = small
    data = asset_graph.drawing(graph_views.picture(model), selected=model.nodes[3].name)
    json.dumps(data)  # what the component is sent must be JSON
    by_name = {node["name"]: node for node in data["nodes"]}
    for shape in model.nodes:
        node = by_name[shape.name]
        assert node["fill"] == asset_graph.fill(shape.health)
        assert node["tip"]["health"] == look(shape.health).label
        assert node["dashed"] == (shape.kind == "view")
        if shape.failing_checks:
            assert node["ring"] == look(Severity.ERROR).colour
            assert node["lines"][2][0].startswith(look(CheckOutcome.FAILED).symbol)
        elif shape.warning_checks:
            assert node["ring"] == look(Severity.WARN).colour
        else:
            assert node["ring"] is None
    assert data["selected"] == asset_id(model.nodes[3].name)
    labels = [item["label"] for item in data["legend"]]
    assert labels[: len(HEALTHS)] == [look(h).label for h in AssetHealth]


def test_text_goes_to_the_browser_as_it_is() -> None:
    """The component sets it with textContent: escaping it here would show backslashes."""
    hostile = "<img src=x onerror=alert(1)> **bold** ![x](http://evil.invalid/a.png)"
    node = GraphNode(hostile, "g0", "table", AssetHealth.FAILED, hostile, [], [], None)
    picture = graph_views.everything(GraphModel([node], [], ["g0"]), [hostile])
    [sent] = asset_graph.drawing(picture)["nodes"]
    assert sent["name"] == sent["tip"]["title"] == hostile
    assert sent["tip"]["reason"] == hostile


def test_only_the_selection_changes_between_two_clicks(
    small: tuple[Definitions, GraphModel],
) -> None:
    _, model = small
    picture = graph_views.picture(model)
    first = asset_graph.drawing(picture, model.nodes[1].name)
    second = asset_graph.drawing(picture, model.nodes[2].name)
    assert first["digest"] == second["digest"] and first["view"] == second["view"]
    assert first["selected"] != second["selected"]
    assert asset_graph.drawing(picture, "not drawn")["selected"] is None


def test_text_is_dark_or_white_whichever_reads_better() -> None:
    assert asset_graph.ink(look(AssetHealth.FAILED).colour) == asset_graph.LIGHT_INK
    assert asset_graph.ink(look(AssetHealth.FRESH).colour) == asset_graph.LIGHT_INK
    assert asset_graph.ink(look(AssetHealth.STALE).colour) == asset_graph.DARK_INK
    assert asset_graph.ink(asset_graph.fill(AssetHealth.NEVER)) == asset_graph.DARK_INK
