"""The asset graph component: our own SVG drawing through Streamlit's components v2 (no iframe,
no build step, its JS and CSS served inline by Streamlit itself), in place of streamlit-agraph.

`drawing()` turns a Picture (dashboard/graph_views.py) into what the browser draws: boxes placed
by dashboard/graph_layout.py, colours and words from pipeline/looks.py. `asset_graph()` mounts
it. A click on a box comes back as a trigger value, "select": {kind, name}, which Streamlit
resets after the rerun it causes; so every click is a new event, even on the box clicked last
(streamlit-agraph returned its last click as a value, and the page had to guess what was new).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import graph_layout
from dashboard.graph_layout import LINE_GAP, PADDING_X, PADDING_Y
from dashboard.graph_views import Picture, Shape, asset_id
from dashboard.models.words import headline
from pipeline.looks import look
from pipeline.states import AssetHealth, CheckOutcome, Severity

_HERE = Path(__file__).resolve().parent
NAME = "assetboard_asset_graph"
_COMPONENT = st.components.v2.component(
    NAME,
    css=(_HERE / "asset_graph.css").read_text(encoding="utf-8"),
    js=(_HERE / "asset_graph.js").read_text(encoding="utf-8"),
)

NAME_SIZE, LINE_SIZE, GROUP_SIZE, BAR_HEIGHT = 14.0, 12.0, 15.0, 8.0
DARK_INK, LIGHT_INK = "#1f1f1f", "#ffffff"
SELECTED_EDGE, VIEW_EDGE = "#0d47a1", "#37474f"
MIN_FRAME, MAX_FRAME = 260, 620  # pixels: the frame grows with the picture up to this
OPEN_AT_LEAST = 0.55  # the smallest zoom a picture opens at (asset_graph.js says the same)


def asset_graph(data: dict[str, Any], *, key: str, on_select: Callable[[str, str], None]) -> None:
    """Draw `data` (from `drawing`); a click on a box calls on_select(kind, name) before the
    rerun it causes, so the page is drawn once, with the new selection."""

    def clicked() -> None:
        value = st.session_state[key].get("select")  # this run's trigger value
        if not isinstance(value, dict):  # it comes from the browser: check its shape
            return
        kind, name = value.get("kind"), value.get("name")
        if kind in ("asset", "group") and isinstance(name, str):
            on_select(kind, name)

    _COMPONENT(key=key, data=data, height="content", on_select_change=clicked)


def drawing(picture: Picture, selected: str | None = None) -> dict[str, Any]:
    """What the browser draws for `picture`, with the asset `selected` marked."""
    lines = {shape.id: box_lines(shape) for shape in picture.shapes}
    sizes = tuple(
        (s.id, *graph_layout.box_size(lines[s.id], BAR_HEIGHT + 6 if s.counts else 0.0))
        for s in picture.shapes
    )
    links = tuple((link.source, link.target) for link in picture.links)
    levels = tuple(sorted(picture.levels.items())) if picture.levels is not None else None
    placed = _layout(sizes, links, levels)
    index = {shape.id: i for i, shape in enumerate(picture.shapes)}
    nodes = [_node(shape, placed.boxes[shape.id], lines[shape.id]) for shape in picture.shapes]
    back = placed.back_edges
    edges = [
        [
            index[link.source],
            index[link.target],
            link.weight,
            int((link.source, link.target) in back),
        ]
        for link in picture.links
    ]
    body = {"nodes": nodes, "edges": edges, "width": placed.width, "height": placed.height}
    ids = "\n".join(sorted(index)).encode()
    chosen = asset_id(selected) if selected is not None else None
    return {
        **body,
        "digest": _digest(json.dumps(body, sort_keys=True).encode()),
        "view": f"{picture.view}#{_digest(ids)}",  # the browser keeps a zoom per view
        "selected": chosen if chosen in index else None,
        "frame_height": frame_height(placed.width, placed.height),
        "metrics": {
            "pad_x": PADDING_X,
            "pad_y": PADDING_Y,
            "line_gap": LINE_GAP,
            "line_height": 1.25,
            "bar_height": BAR_HEIGHT,
        },
        "legend": legend(picture),
    }


def frame_height(width: float, height: float, column: float = 620.0) -> int:
    """Pixels for the graph's frame: the picture's height at the zoom it will likely open at
    in a graph column about `column` wide (whole when it fits, else readable), with room for
    the zoom buttons; a short picture gets a short frame."""
    zoom = min(1.0, max(OPEN_AT_LEAST, (column - 40) / max(width, 1.0)))
    return int(min(MAX_FRAME, max(MIN_FRAME, height * zoom + 72)))


def legend(picture: Picture) -> list[dict[str, str]]:
    """Every fill by health (pipeline/looks.py), then what rings, dashes and fading mean."""
    items = [
        {"label": look(h).label, "style": "fill", "fill": fill(h), "edge": fill(h)}
        for h in AssetHealth
    ]
    items += [
        {"label": "failing check", "style": "ring", "fill": "", "edge": _ring(Severity.ERROR)},
        {"label": "check warning", "style": "ring", "fill": "", "edge": _ring(Severity.WARN)},
        {"label": "view", "style": "dashed", "fill": "", "edge": VIEW_EDGE},
        {"label": "selected", "style": "selected", "fill": "", "edge": SELECTED_EDGE},
    ]
    if any(shape.context for shape in picture.shapes):
        items.append(
            {"label": "in another group", "style": "context", "fill": "#b0bec5", "edge": ""}
        )
    return items


def fill(health: AssetHealth) -> str:
    """A box's fill: the health's strong colour; a never-built asset's pale tint."""
    shown = look(health)
    return shown.tint if health is AssetHealth.NEVER else shown.colour


def ink(background: str) -> str:
    """Near-black or white, whichever contrasts more with `background` (WCAG 2 formula)."""
    ratio_dark = (_luminance(background) + 0.05) / (_luminance(DARK_INK) + 0.05)
    ratio_light = 1.05 / (_luminance(background) + 0.05)
    return DARK_INK if ratio_dark >= ratio_light else LIGHT_INK


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ring(severity: Severity) -> str:
    return look(severity).colour


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def box_lines(shape: Shape) -> list[tuple[str, float, bool]]:
    """The text in `shape`'s box as (text, font size, bold) lines, each cut to the widest box."""
    room = graph_layout.MAX_WIDTH - 2 * PADDING_X
    if shape.kind == "group":
        lines = [
            (graph_layout.fit_text(shape.name, GROUP_SIZE, room, bold=True), GROUP_SIZE, True),
            (shape.reason, LINE_SIZE, False),  # "200 assets", "80 neighbours"
        ]
        if shape.failing:
            mark = look(CheckOutcome.FAILED).symbol
            lines.append((f"{mark} {shape.failing:,} with failing checks", LINE_SIZE, False))
        return lines
    health = look(shape.health).label.lower()
    lines = [
        (graph_layout.fit_text(shape.name, NAME_SIZE, room, bold=True), NAME_SIZE, True),
        (graph_layout.fit_text(f"{shape.group} · {health}", LINE_SIZE, room), LINE_SIZE, False),
    ]
    if shape.failing:
        mark = look(CheckOutcome.FAILED).symbol
        lines.append((f"{mark} {_plural(shape.failing, 'failing check')}", LINE_SIZE, False))
    elif shape.warnings:
        mark = look(CheckOutcome.WARNED).symbol
        lines.append((f"{mark} {_plural(shape.warnings, 'check warning')}", LINE_SIZE, False))
    return lines


def _node(
    shape: Shape, box: graph_layout.Placement, lines: list[tuple[str, float, bool]]
) -> dict[str, Any]:
    shown = look(shape.health)
    if shape.kind == "group":
        background = shown.tint
        counts = ", ".join(f"{n:,} {look(h).label.lower()}" for h, n in shape.counts)
        tip = {
            "title": f"Group {shape.name}",
            "meta": shape.reason,
            "health": counts,
            "reason": _plural(shape.failing, "asset") + " with a failing check"
            if shape.failing
            else "",
            "hint": "Click to open the group.",
        }
    else:
        background = fill(shape.health)
        kind = "view" if shape.is_view else "table"
        tip = {
            "title": shape.name,
            "meta": f"group {shape.group} · {kind}"
            + (" · a neighbour in another group" if shape.context else ""),
            "health": shown.label,
            "reason": headline(shape.reason)[:160],
            "hint": "Click for its details.",
        }
    tip["colour"] = shown.colour
    ring = None
    if shape.failing:
        ring = _ring(Severity.ERROR)
    elif shape.warnings:
        ring = _ring(Severity.WARN)
    return {
        "id": shape.id,
        "kind": shape.kind,
        "name": shape.name,
        "x": box.x,
        "y": box.y,
        "w": box.width,
        "h": box.height,
        "level": box.level,
        "lines": [[text, size, bold] for text, size, bold in lines],
        "fill": background,
        "ink": ink(background),
        "ring": ring,
        "dashed": shape.is_view,
        "context": shape.context,
        "bar": [[look(h).colour, n] for h, n in shape.counts],
        "tip": tip,
    }


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


@lru_cache(maxsize=16)
def _layout(
    sizes: tuple[tuple[str, float, float], ...],
    edges: tuple[tuple[str, str], ...],
    levels: tuple[tuple[str, int], ...] | None,
) -> graph_layout.Layout:
    """Kept per process: the same boxes and edges are laid out once (the layout does not
    depend on colours, so a finished run redraws without laying out again)."""
    boxes = {name: (w, h) for name, w, h in sizes}
    return graph_layout.layout(boxes, edges, fixed_levels=dict(levels) if levels else None)
