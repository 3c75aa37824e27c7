"""What data quality adds to a run: the sales pipeline bare, with its checks, and with its checks
and column profiles.

In process, `+joined_data` of the sales example (its four tables), each side on a fresh
database file, taking turns (A B C A B C ...) after discarded warm-up rounds. The sides differ
only in their definitions: no checks and no profiles, the example's checks, the checks and a
profile of every table (the default). Issue 13's target: checks and profiles together add at
most 25 % to the run at 10M rows.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import datasets
from bench.measure import summarize, take_turns
from bench.report import verdict
from bench.runs import remove_db
from pipeline.definitions import Definitions
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions
from pipeline.selection import select

TARGET = 1.25
BARE, CHECKS, BOTH = "no checks, no profiles", "checks", "checks and profiles"


def variants(csv_dir: Path) -> dict[str, Definitions]:
    """The example's four tables three ways."""
    example = build_definitions(csv_dir)
    names = select(example, datasets.SELECTION)
    assets = [example.assets[name] for name in sorted(names)]
    unprofiled = [dataclasses.replace(a, profile=False) for a in assets]
    checks = [c for c in example.checks if c.asset in names]
    return {
        BARE: Definitions(unprofiled),
        CHECKS: Definitions(unprofiled, checks),
        BOTH: Definitions(assets, checks),
    }


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Wall seconds per side, and each side's ratio to the bare one."""
    defs = variants(csv_dir)
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-quality-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"

        def side(name: str) -> Callable[[], float]:
            def run() -> float:
                try:
                    started = time.perf_counter()
                    result = materialize(defs[name], db=db)
                    wall = time.perf_counter() - started
                    if len(result.assets) != 4 or any(
                        e.status != "materialized" for e in result.assets.values()
                    ):
                        raise RuntimeError(f"{name}: not every table was built: {result.run}")
                    return wall
                finally:
                    remove_db(db)

            return run

        samples = take_turns({name: side(name) for name in defs}, reps, warmup)
    stats = {name: summarize(values) for name, values in samples.items()}
    bare = stats[BARE].median
    return {
        "stats": stats,
        "checks_ratio": stats[CHECKS].median / bare,
        "both_ratio": stats[BOTH].median / bare,
    }


def table(result: dict[str, Any], rows: int) -> list[str]:
    runs = result["stats"][BARE].n
    lines = [
        f"`materialize(defs, db=FRESH)` of the example's four tables at {datasets.label(rows)}"
        f" rows, in process, {runs} runs per side taking turns.",
        "",
        "| side | wall s median (min–max) | / no checks, no profiles |",
        "|---|---:|---:|",
    ]
    for name, stats in result["stats"].items():
        ratio = stats.median / result["stats"][BARE].median
        lines.append(
            f"| {name} | {stats.median:.2f} ({stats.low:.2f}–{stats.high:.2f}) | {ratio:.3f} |"
        )
    both = result["both_ratio"]
    lines += ["", f"Checks and profiles together: **{both:.3f}×**, {verdict(both, TARGET)}.", ""]
    return lines
