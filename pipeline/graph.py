"""The asset dependency graph: validated once when built, then queried by selection, engine and UI.

Ordering is always sorted so that the same definitions give the same plan and the same picture.
"""

from __future__ import annotations

import difflib
import graphlib
from collections.abc import Iterable, Mapping

from pipeline.errors import DefinitionError


def suggest(name: str, known: Iterable[str]) -> str:
    """A ' Did you mean ...?' suffix for an unknown name, or '' when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(match) for match in matches) + "?"


class AssetGraph:
    """Assets and the names they depend on; edges point from upstream to downstream."""

    def __init__(self, deps: Mapping[str, Iterable[str]]) -> None:
        self._upstream: dict[str, tuple[str, ...]] = {
            name: tuple(sorted(set(parents))) for name, parents in sorted(deps.items())
        }
        if problems := unknown_dependencies(self._upstream):
            raise DefinitionError(problems)
        self._downstream: dict[str, list[str]] = {name: [] for name in self._upstream}
        for name, parents in self._upstream.items():
            for parent in parents:
                self._downstream[parent].append(name)
        self._levels = self._sorted_levels()

    def _sorted_levels(self) -> list[list[str]]:
        sorter = graphlib.TopologicalSorter(self._upstream)
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            raise DefinitionError([f"dependency cycle: {format_cycle(exc.args[1])}"]) from exc
        levels = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            levels.append(ready)
            sorter.done(*ready)
        return levels

    @property
    def names(self) -> list[str]:
        """Every asset, upstream before downstream, sorted within a level."""
        return [name for level in self._levels for name in level]

    def __contains__(self, name: object) -> bool:
        return name in self._upstream

    def parents(self, name: str) -> tuple[str, ...]:
        return self._upstream[name]

    def children(self, name: str) -> tuple[str, ...]:
        return tuple(self._downstream[name])

    def levels(self, within: Iterable[str] | None = None) -> list[list[str]]:
        """Sorted levels of the whole graph, or of a subset kept in the same relative order."""
        if within is None:
            return [list(level) for level in self._levels]
        keep = set(within)
        return [kept for level in self._levels if (kept := [n for n in level if n in keep])]

    def upstream(self, name: str, depth: int | None = None) -> set[str]:
        """Every ancestor of `name` up to `depth` hops (all when None), excluding `name`."""
        return self._walk(name, self._upstream, depth)

    def downstream(self, name: str, depth: int | None = None) -> set[str]:
        """Every descendant of `name` up to `depth` hops (all when None), excluding `name`."""
        return self._walk(name, self._downstream, depth)

    @staticmethod
    def _walk(start: str, edges: Mapping[str, Iterable[str]], depth: int | None) -> set[str]:
        seen: set[str] = set()
        frontier = [start]
        hops = 0
        while frontier and (depth is None or hops < depth):
            hops += 1
            frontier = [n for node in frontier for n in edges[node] if n not in seen]
            seen.update(frontier)
        seen.discard(start)
        return seen


def unknown_dependencies(deps: Mapping[str, Iterable[str]]) -> list[str]:
    """One message per dependency on a name that is not an asset, with a suggestion."""
    return [
        f"asset '{name}' depends on unknown asset '{parent}'.{suggest(parent, deps)}"
        f" Define '{parent}' or remove it from deps."
        for name, parents in sorted(deps.items())
        for parent in sorted(parents)
        if parent not in deps
    ]


def format_cycle(path: list[str]) -> str:
    """'a -> b -> c -> a', rotated to start at the smallest name so the message is stable."""
    ring = path[:-1]
    start = ring.index(min(ring))
    ring = ring[start:] + ring[:start]
    return " -> ".join([*ring, ring[0]])
