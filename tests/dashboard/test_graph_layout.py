"""The graph layout without a browser: levels, order within a level, coordinates without
overlaps, sizes from text, and a 2,000-asset graph laid out whole (no timing here: the
benchmark measures it)."""

from __future__ import annotations

import itertools
import random

import pytest

from bench.resolver import synthetic_assets
from dashboard import graph_layout
from dashboard.graph_layout import Layout, crossings, layout, levels, order

SIZE = (140.0, 50.0)


def _edges(n: int, per_asset: int = 3) -> tuple[list[str], list[tuple[str, str]]]:
    assets = synthetic_assets(n, n * per_asset, layers=max(1, min(10, n // 10)))
    return [a.name for a in assets], [(p, a.name) for a in assets for p in a.deps]


def _no_overlaps(placed: Layout, row_gap: float = 14.0) -> None:
    boxes = sorted(placed.boxes.items(), key=lambda item: (item[1].level, item[1].y))
    for (_, a), (_, b) in itertools.pairwise(boxes):
        if a.level == b.level:
            assert b.y >= a.y + a.height + row_gap - 0.2, (a, b)
    columns: dict[int, tuple[float, float]] = {}
    for box in placed.boxes.values():
        left, right = columns.get(box.level, (box.x, box.x + box.width))
        columns[box.level] = (min(left, box.x), max(right, box.x + box.width))
    spans = [columns[level] for level in sorted(columns)]
    for (_, right), (left, _) in itertools.pairwise(spans):
        assert left > right  # columns never share pixels


# --- levels -------------------------------------------------------------------------------


def test_a_node_sits_one_level_right_of_its_furthest_parent() -> None:
    edges = [("raw", "clean"), ("clean", "mart"), ("raw", "mart")]
    by_level, back = levels(["mart", "raw", "clean"], edges)
    assert by_level == [["raw"], ["clean"], ["mart"]]
    assert back == set()


def test_a_source_sits_just_left_of_its_nearest_child() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("lookup", "d")]
    by_level, _ = levels([*"abcd", "lookup"], edges)
    assert by_level == [["a"], ["b"], ["c", "lookup"], ["d"]]


def test_each_level_is_sorted_and_unknown_or_self_edges_are_ignored() -> None:
    by_level, _ = levels(["z", "y", "x", "w"], [("w", "z"), ("w", "x"), ("x", "x"), ("q", "y")])
    assert by_level == [["w", "y"], ["x", "z"]]


def test_a_cycle_is_broken_at_a_back_edge_and_still_laid_out() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a")]
    by_level, back = levels(["a", "b", "c"], edges)
    assert back == {("c", "a")}
    assert by_level == [["a"], ["b"], ["c"]]
    placed = layout(dict.fromkeys("abc", SIZE), edges)
    assert placed.back_edges == frozenset({("c", "a")})
    _no_overlaps(placed)


def test_given_levels_replace_the_edges_and_mark_the_rest_back_edges() -> None:
    edges = [("g1", "g2"), ("g2", "g1"), ("g1", "g3")]
    placed = layout(dict.fromkeys(["g1", "g2", "g3"], SIZE), edges, fixed_levels={"g3": 7})
    assert {name: box.level for name, box in placed.boxes.items()} == {"g1": 0, "g2": 0, "g3": 1}
    assert placed.back_edges == frozenset({("g1", "g2"), ("g2", "g1")})
    _no_overlaps(placed)


# --- order within a level -------------------------------------------------------------------


def test_barycenter_sweeps_untangle_a_crossing() -> None:
    edges = [("a", "d"), ("b", "c")]
    assert crossings([["a", "b"], ["c", "d"]], edges) == 1
    assert crossings(order([["a", "b"], ["c", "d"]], edges), edges) == 0


def test_ordering_never_adds_crossings_and_removes_most_on_a_real_graph() -> None:
    names, edges = _edges(300)
    by_level, _ = levels(names, edges)
    before = crossings(by_level, edges)
    after = crossings(order(by_level, edges), edges)
    assert after < before * 0.8


def test_the_same_graph_gives_the_same_picture_whatever_the_input_order() -> None:
    names, edges = _edges(120)
    sizes = {name: SIZE for name in names}
    shuffled = edges[:]
    random.Random(1).shuffle(shuffled)
    assert layout(sizes, edges) == layout(dict(reversed(list(sizes.items()))), shuffled)


# --- coordinates and sizes ------------------------------------------------------------------


def test_boxes_never_overlap_and_edges_run_left_to_right() -> None:
    names, edges = _edges(300)
    sizes = {  # boxes of three widths and two heights
        name: graph_layout.box_size([(name * (1 + i % 3), 14, True)] * (1 + i % 2))
        for i, name in enumerate(names)
    }
    placed = layout(sizes, edges)
    _no_overlaps(placed)
    for a, b in edges:
        assert placed.boxes[a].x + placed.boxes[a].width < placed.boxes[b].x
    assert placed.width == pytest.approx(max(b.x + b.width for b in placed.boxes.values()))
    assert min(box.y for box in placed.boxes.values()) == 0


def test_a_child_of_one_parent_lines_up_with_it() -> None:
    placed = layout({"a": SIZE, "b": SIZE, "c": (140.0, 90.0)}, [("a", "b"), ("b", "c")])
    centres = {n: box.y + box.height / 2 for n, box in placed.boxes.items()}
    assert centres["a"] == pytest.approx(centres["b"]) == pytest.approx(centres["c"])


def test_box_size_grows_with_the_text_up_to_the_widest_box() -> None:
    short = graph_layout.box_size([("ab", 14, True), ("fresh", 12, False)])
    longer = graph_layout.box_size([("a" * 24, 14, True), ("fresh", 12, False)])
    huge = graph_layout.box_size([("a" * 400, 14, True)])
    assert short[0] == graph_layout.MIN_WIDTH < longer[0] < huge[0] == graph_layout.MAX_WIDTH
    assert (
        graph_layout.box_size([("a", 14, True), ("b", 12, False), ("c", 12, False)])[1] > (short[1])
    )


def test_fit_text_cuts_a_long_name_with_an_ellipsis() -> None:
    assert graph_layout.fit_text("orders", 14, 200, bold=True) == "orders"
    cut = graph_layout.fit_text("x" * 100, 14, 200, bold=True)
    assert cut.endswith("…") and graph_layout.text_width(cut, 14, bold=True) <= 200


def test_two_thousand_assets_and_six_thousand_edges_are_laid_out_whole() -> None:
    names, edges = _edges(2000)
    assert len(edges) == 6000
    placed = layout({name: SIZE for name in names}, edges)
    assert len(placed.boxes) == 2000 and placed.back_edges == frozenset()
    _no_overlaps(placed)
