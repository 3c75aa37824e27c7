"""Resolver and selection at scale: a seeded, layered synthetic graph of assets and edges.

The graph has `layers` layers; every asset outside the first depends on assets of earlier layers
(mostly the layer right before), so upstream and downstream walks reach far, as in real lineage.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from pipeline.definitions import AssetDef, Definitions, asset
from pipeline.selection import select

SELECTIONS = ("+{last}", "{first}+", "group:g1 and not tag:x=y", "2+{middle}+2", "*")


def _noop(con: Any) -> None:
    return None


def select_one(con: Any) -> str:
    """A body that materializes quickly: for benchmarks that need a real history."""
    return "SELECT 1 AS x"


def synthetic_assets(
    n_assets: int,
    n_edges: int,
    layers: int = 50,
    seed: int = 0,
    fn: Callable[[Any], Any] = _noop,
) -> list[AssetDef]:
    """`n_assets` assets in `layers` layers joined by exactly `n_edges` distinct edges."""
    rng = random.Random(seed)
    per_layer = max(1, n_assets // layers)
    names = [f"a{i // per_layer:03d}_{i:05d}" for i in range(n_assets)]
    layer_of = [min(i // per_layer, layers - 1) for i in range(n_assets)]
    starts = {layer: layer_of.index(layer) for layer in sorted(set(layer_of))}
    candidates = [i for i in range(n_assets) if layer_of[i] > 0]
    deps: dict[int, set[int]] = {i: set() for i in range(n_assets)}
    edges = 0
    # Every non-root asset gets one parent in the previous layer; the rest are spread at random.
    for i in candidates:
        prev = layer_of[i] - 1
        deps[i].add(rng.randrange(starts[prev], starts[prev + 1]))
        edges += 1
    max_possible = sum(starts[layer_of[i]] for i in candidates)
    if n_edges > max_possible:
        raise ValueError(f"{n_edges} edges do not fit in {n_assets} assets over {layers} layers")
    while edges < n_edges:
        i = rng.choice(candidates)
        layer = layer_of[i]
        if rng.random() < 0.7:
            parent = rng.randrange(starts[layer - 1], starts[layer])
        else:
            parent = rng.randrange(0, starts[layer])
        if parent not in deps[i]:
            deps[i].add(parent)
            edges += 1
    return [
        asset(
            fn,
            name=names[i],
            deps=[names[p] for p in sorted(deps[i])],
            group=f"g{i % 10}",
            tags={"x": "y"} if i % 3 == 0 else {},
            code_version="1",
        )
        for i in range(n_assets)
    ]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def measure(n_assets: int = 10_000, n_edges: int = 30_000, reps: int = 5) -> dict[str, Any]:
    """Median seconds per step over `reps` runs: build Definitions, each selection, its plan."""
    assets = synthetic_assets(n_assets, n_edges)
    names = sorted(a.name for a in assets)
    fill = {"first": names[0], "last": names[-1], "middle": names[len(names) // 2]}
    samples: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    for _ in range(reps):
        seconds, defs = _timed(lambda: Definitions(assets=assets))
        samples.setdefault("build Definitions (validate + levels)", []).append(seconds)
        for pattern in SELECTIONS:
            text = pattern.format(**fill)
            seconds, chosen = _timed(partial(select, defs, text))
            samples.setdefault(f"select `{text}`", []).append(seconds)
            sizes[f"select `{text}`"] = len(chosen)
            seconds, _ = _timed(partial(defs.graph.levels, chosen))
            samples.setdefault(f"plan levels of `{text}`", []).append(seconds)
    return {"assets": n_assets, "edges": n_edges, "samples": samples, "sizes": sizes}
