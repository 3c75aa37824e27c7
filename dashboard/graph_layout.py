"""Where each box of the asset graph goes: layered left to right, ordered to cross few edges.

Plain Python with no Streamlit import, so the page, the tests and the benchmark share it, and
the browser only draws what it is given (vis-network laid out 2,000 assets in the browser for a
minute). The steps are Sugiyama's, kept small:

1. levels: each node one level right of its furthest parent (graphlib), a source just left of
   its nearest child; a cycle (possible between groups) is broken at its DFS back edges;
2. order within a level: barycenter sweeps down and up, keeping the order with the fewest
   crossings between neighbouring levels; ties keep the previous order, so it is deterministic;
3. coordinates: columns side by side; in each column, boxes keep their order and a gap, and
   move as close as they can to the middle of their neighbours (isotonic regression).

Box sizes come from the text they hold (`box_size`), estimated for the app's sans-serif font.
"""

from __future__ import annotations

import bisect
import graphlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Edge = tuple[str, str]
Size = tuple[float, float]

# Average advance of a character of the app's sans-serif font, in pixels, as a share of its size:
# names are mostly lower-case letters, digits and underscores.
_CHAR_EM = 0.56
_BOLD_CHAR_EM = 0.6
PADDING_X, PADDING_Y, LINE_GAP = 12.0, 9.0, 4.0
MIN_WIDTH, MAX_WIDTH = 120.0, 300.0


@dataclass(frozen=True)
class Placement:
    """One box: its top-left corner, its size, and the level (column) it sits in."""

    x: float
    y: float
    width: float
    height: float
    level: int


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Placement]
    width: float
    height: float
    back_edges: frozenset[Edge]  # edges drawn right to left (only when the graph has a cycle)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An estimate of the text's width in pixels: the browser trims what still overflows."""
    return len(text) * size * (_BOLD_CHAR_EM if bold else _CHAR_EM)


def fit_text(text: str, size: float, width: float, bold: bool = False) -> str:
    """`text`, cut with an ellipsis so that it fits `width` pixels by the estimate above."""
    room = int(width / (size * (_BOLD_CHAR_EM if bold else _CHAR_EM)))
    return text if len(text) <= room else text[: max(1, room - 1)] + "…"


def box_size(lines: Sequence[tuple[str, float, bool]], extra_height: float = 0.0) -> Size:
    """Width and height of a box holding `lines` of (text, font size, bold), one under the
    other, clamped to [MIN_WIDTH, MAX_WIDTH] wide; `extra_height` adds room for a bar."""
    widest = max((text_width(text, size, bold) for text, size, bold in lines), default=0.0)
    width = min(MAX_WIDTH, max(MIN_WIDTH, widest + 2 * PADDING_X))
    height = 2 * PADDING_Y + sum(size * 1.25 for _, size, _ in lines)
    height += LINE_GAP * max(0, len(lines) - 1) + extra_height
    return round(width, 1), round(height, 1)


def levels(nodes: Iterable[str], edges: Iterable[Edge]) -> tuple[list[list[str]], set[Edge]]:
    """Nodes by level, each level sorted, and the edges reversed to break cycles.

    A node sits one level right of its furthest parent; a source (no parent) sits just left of
    its nearest child, so a table read only at the end is not drawn far away from its reader.
    """
    names = sorted(set(nodes))
    kept, back = _acyclic(names, edges)
    parents: dict[str, set[str]] = {name: set() for name in names}
    children: dict[str, set[str]] = {name: set() for name in names}
    for parent, child in kept:
        parents[child].add(parent)
        children[parent].add(child)
    order = list(graphlib.TopologicalSorter(parents).static_order())
    level: dict[str, int] = {}
    for name in order:
        level[name] = 1 + max((level[p] for p in parents[name]), default=-1)
    for name in reversed(order):
        if not parents[name] and children[name]:
            level[name] = min(level[c] for c in children[name]) - 1
    by_level: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for name in names:  # sorted, so each level is sorted
        by_level[level[name]].append(name)
    return by_level, back


def _acyclic(names: list[str], edges: Iterable[Edge]) -> tuple[list[Edge], set[Edge]]:
    """The edges without self-loops, split into a cycle-free part and the DFS back edges."""
    known = set(names)
    unique = sorted({(a, b) for a, b in edges if a != b and a in known and b in known})
    out: dict[str, list[str]] = {name: [] for name in names}
    for a, b in unique:
        out[a].append(b)
    try:
        graphlib.TopologicalSorter(_parents_of(names, unique)).prepare()
        return unique, set()
    except graphlib.CycleError:
        pass  # rare (groups that feed each other): find the back edges below
    back: set[Edge] = set()
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done
    for root in names:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node, todo = stack[-1]
            child: str | None = next(todo, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return [edge for edge in unique if edge not in back], back


def _parents_of(names: list[str], edges: list[Edge]) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {name: [] for name in names}
    for parent, child in edges:
        parents[child].append(parent)
    return parents


def crossings(by_level: Sequence[Sequence[str]], edges: Iterable[Edge]) -> int:
    """How many pairs of edges between neighbouring levels cross (longer edges not counted)."""
    where = {name: (i, j) for i, level in enumerate(by_level) for j, name in enumerate(level)}
    between: dict[int, list[tuple[int, int]]] = {}
    for a, b in edges:
        if a in where and b in where:
            (la, ia), (lb, ib) = where[a], where[b]
            if lb == la + 1:
                between.setdefault(la, []).append((ia, ib))
            elif la == lb + 1:
                between.setdefault(lb, []).append((ib, ia))
    total = 0
    for pairs in between.values():
        pairs.sort()
        seen: list[int] = []  # targets so far, sorted: those greater than this one cross it
        for _, target in pairs:
            total += len(seen) - bisect.bisect_right(seen, target)
            bisect.insort(seen, target)
    return total


def order(
    by_level: Sequence[Sequence[str]], edges: Iterable[Edge], sweeps: int = 4
) -> list[list[str]]:
    """The levels reordered by barycenter sweeps; the best order seen wins (fewest crossings)."""
    current = [list(level) for level in by_level]
    edge_list = list(edges)
    parents: dict[str, list[str]] = {name: [] for level in current for name in level}
    children: dict[str, list[str]] = {name: [] for name in parents}
    for a, b in edge_list:
        if a in parents and b in parents:
            parents[b].append(a)
            children[a].append(b)
    position: dict[str, float] = {}

    def place(level: list[str]) -> None:
        for index, name in enumerate(level):
            position[name] = (index + 0.5) / len(level)

    def sweep(level: list[str], neighbours: dict[str, list[str]]) -> None:
        def key(name: str) -> float:
            near = neighbours[name]
            return sum(position[n] for n in near) / len(near) if near else position[name]

        level.sort(key=key)
        place(level)

    for level in current:
        place(level)
    best, fewest = [list(level) for level in current], crossings(current, edge_list)
    for _ in range(sweeps):
        if fewest == 0:
            break
        for level in current[1:]:
            sweep(level, parents)
        for level in reversed(current[:-1]):
            sweep(level, children)
        if (count := crossings(current, edge_list)) < fewest:
            best, fewest = [list(level) for level in current], count
    return best


def layout(
    sizes: Mapping[str, Size],
    edges: Iterable[Edge],
    *,
    fixed_levels: Mapping[str, int] | None = None,
    column_gap: float = 72.0,
    row_gap: float = 14.0,
    sweeps: int = 4,
) -> Layout:
    """Every node of `sizes` placed left to right by level, without overlaps.

    `fixed_levels` chooses the levels instead of the edges (groups, whose dependencies often
    run both ways): an edge within a level or to an earlier one is then a back edge, and
    only the others order the boxes.
    """
    # Sorted and without duplicates: the same graph gives the same picture, whatever the order.
    edge_list = sorted({(a, b) for a, b in edges if a in sizes and b in sizes and a != b})
    if fixed_levels is None:
        by_level, back = levels(sizes, edge_list)
        forward = [(b, a) if (a, b) in back else (a, b) for a, b in edge_list]
    else:
        by_level = _given_levels(sizes, fixed_levels)
        rank = {name: i for i, level in enumerate(by_level) for name in level}
        back = {(a, b) for a, b in edge_list if rank[a] >= rank[b]}
        forward = [
            (a, b) if rank[a] < rank[b] else (b, a) for a, b in edge_list if rank[a] != rank[b]
        ]
    by_level = order(by_level, forward, sweeps)
    centre = _columns(by_level, sizes, forward, row_gap)
    boxes: dict[str, Placement] = {}
    x = 0.0
    top = min((centre[n] - sizes[n][1] / 2 for n in centre), default=0.0)
    for index, level in enumerate(by_level):
        column = max(sizes[name][0] for name in level)
        for name in level:
            width, height = sizes[name]
            y = centre[name] - height / 2 - top
            boxes[name] = Placement(
                round(x + (column - width) / 2, 1), round(y, 1), width, height, index
            )
        x += column + column_gap
    width = max(x - column_gap, 0.0)
    height = max((box.y + box.height for box in boxes.values()), default=0.0)
    return Layout(boxes, round(width, 1), round(height, 1), frozenset(back))


def _given_levels(sizes: Mapping[str, Size], given: Mapping[str, int]) -> list[list[str]]:
    """The nodes by the levels given (missing ones at 0), numbered 0, 1, 2... without gaps."""
    numbers = sorted({given.get(name, 0) for name in sizes})
    rank = {number: i for i, number in enumerate(numbers)}
    by_level: list[list[str]] = [[] for _ in numbers]
    for name in sorted(sizes):
        by_level[rank[given.get(name, 0)]].append(name)
    return by_level


def _columns(
    by_level: list[list[str]], sizes: Mapping[str, Size], edges: list[Edge], gap: float
) -> dict[str, float]:
    """The vertical centre of each node: stacked first, then pulled towards its neighbours."""
    parents: dict[str, list[str]] = {name: [] for name in sizes}
    children: dict[str, list[str]] = {name: [] for name in sizes}
    for a, b in edges:
        parents[b].append(a)
        children[a].append(b)
    centre: dict[str, float] = {}
    for level in by_level:
        total = sum(sizes[n][1] for n in level) + gap * (len(level) - 1)
        y = -total / 2
        for name in level:
            centre[name] = y + sizes[name][1] / 2
            y += sizes[name][1] + gap

    def pull(level: list[str], neighbours: Sequence[dict[str, list[str]]]) -> None:
        wanted = []
        for name in level:
            near = [centre[n] for side in neighbours for n in side[name]]
            wanted.append(sum(near) / len(near) if near else centre[name])
        for name, y in zip(level, _pack(level, wanted, sizes, gap), strict=True):
            centre[name] = y

    for level in by_level[1:]:
        pull(level, [parents])
    for level in reversed(by_level[:-1]):
        pull(level, [children])
    for level in by_level:
        pull(level, [parents, children])
    return centre


def _pack(
    level: list[str], wanted: list[float], sizes: Mapping[str, Size], gap: float
) -> list[float]:
    """Centres as close as possible (least squares) to `wanted`, in order, `gap` apart.

    With offset_i the room the boxes before i take, z_i = centre_i - offset_i must not
    decrease: pool-adjacent-violators gives the closest such z.
    """
    offsets, room = [], 0.0
    for index, name in enumerate(level):
        half = sizes[name][1] / 2
        if index:
            room += half
        offsets.append(room)
        room += half + gap
    blocks: list[list[float]] = []  # [mean, count]
    for target in (w - o for w, o in zip(wanted, offsets, strict=True)):
        blocks.append([target, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            prev_mean, prev_count = blocks[-1]
            total = prev_count + count
            blocks[-1] = [(prev_mean * prev_count + mean * count) / total, total]
    z = [mean for mean, count in blocks for _ in range(int(count))]
    return [value + offset for value, offset in zip(z, offsets, strict=True)]
