"""The resolver: deterministic levels, upstream and downstream walks, cycles with their path."""

import pytest

from pipeline.errors import DefinitionError
from pipeline.graph import AssetGraph

DIAMOND = {"raw_a": [], "raw_b": [], "mid": ["raw_b", "raw_a"], "top": ["mid"], "side": ["raw_a"]}


def test_levels_are_sorted_and_stable_whatever_the_insertion_order():
    forward = AssetGraph(DIAMOND)
    backward = AssetGraph(dict(reversed(list(DIAMOND.items()))))
    assert forward.levels() == [["raw_a", "raw_b"], ["mid", "side"], ["top"]]
    assert backward.levels() == forward.levels()
    assert forward.names == ["raw_a", "raw_b", "mid", "side", "top"]


def test_levels_within_a_subset_keep_the_graph_order():
    assert AssetGraph(DIAMOND).levels(within={"top", "raw_b"}) == [["raw_b"], ["top"]]


def test_upstream_and_downstream_with_and_without_depth():
    graph = AssetGraph(DIAMOND)
    assert graph.upstream("top") == {"mid", "raw_a", "raw_b"}
    assert graph.upstream("top", depth=1) == {"mid"}
    assert graph.downstream("raw_a") == {"mid", "side", "top"}
    assert graph.downstream("raw_a", depth=1) == {"mid", "side"}
    assert graph.parents("mid") == ("raw_a", "raw_b")
    assert graph.children("raw_a") == ("mid", "side")


def test_unknown_dependency_gets_a_suggestion():
    with pytest.raises(DefinitionError, match="unknown asset 'mdi'. Did you mean 'mid'"):
        AssetGraph({**DIAMOND, "other": ["mdi"]})


def test_cycle_message_shows_the_path_from_the_smallest_name():
    with pytest.raises(DefinitionError, match=r"dependency cycle: b -> c -> d -> b"):
        AssetGraph({"a": [], "b": ["a", "d"], "c": ["b"], "d": ["c"]})
