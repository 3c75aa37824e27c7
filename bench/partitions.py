"""Partitions at scale: one month against every month, a backfill against one unpartitioned
rebuild, and per-partition checks against the same check on the whole table.

In process, on one warehouse where `+joined_data` is built once beforehand (not measured). The
unpartitioned side is a twin of `monthly_sales_performance` made from the same asset function
called with a window of every month, with the same check, so both sides run the same SQL. Sides
take turns (A B C D A B C D ...) after discarded warm-up rounds. Dagster launches one run per
partition by default: that side is a loop of one-month runs, reported beside the single-run
backfill the example declares (`BackfillPolicy.single_run()`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from bench.measure import Stats, summarize, take_turns
from bench.report import verdict
from pipeline import checks
from pipeline.definitions import AssetContext, Definitions, asset
from pipeline.engine import RunResult, materialize
from pipeline.examples import sales
from pipeline.partition_runs import PartitionRequest
from pipeline.partitions import TimeWindow

MONTHLY = "monthly_sales_performance"
TWIN = "monthly_sales_whole"
CHECK = "non_negative_totals"
TARGETS = {"one_of_all": 0.2, "backfill_of_whole": 1.5, "check_one_of_whole": 0.2}


def definitions(csv_dir: Path) -> Definitions:
    """The sales example plus an unpartitioned twin of the monthly table with the same check."""
    example = sales.build_definitions(csv_dir)
    monthly = example.assets[MONTHLY]
    assert monthly.partitions is not None
    keys = monthly.partitions.get_partition_keys()
    first, last = monthly.partitions.window(keys[0]), monthly.partitions.window(keys[-1])
    assert first is not None and last is not None
    every_month = AssetContext(
        asset=MONTHLY,
        partition_window=TimeWindow(first.start, last.end),
        partition_keys=tuple(keys),
    )

    @asset(name=TWIN, deps=["joined_data"], group="bench")
    def twin(con: duckdb.DuckDBPyConnection) -> Any:
        return monthly.fn(con, every_month)

    twin_check = checks.expression(TWIN, "total_dollar_amount >= 0", name=CHECK, severity="warn")
    return Definitions([*example.assets.values(), twin], [*example.checks, twin_check])


def _timed(run: Callable[[], list[RunResult]]) -> dict[str, float]:
    started = time.perf_counter()
    results = run()
    wall = time.perf_counter() - started
    for result in results:
        if not result.ok:
            raise RuntimeError(f"run {result.run_id} did not succeed: {result.run.message}")
    check_s = sum(
        r.duration_s or 0.0 for res in results for r in res.checks if r.check_name == CHECK
    )
    return {"wall_s": wall, "check_s": check_s}


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Wall seconds and check seconds per side, and the three ratios the targets bound."""
    defs = definitions(csv_dir)
    monthly = defs.assets[MONTHLY]
    assert monthly.partitions is not None
    keys = monthly.partitions.get_partition_keys()
    middle = keys[len(keys) // 2]
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-partitions-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        if not materialize(defs, "+joined_data", db=db).ok:
            raise RuntimeError("the sales example's joined_data did not build")

        def one(keys_: list[str]) -> RunResult:
            return materialize(defs, MONTHLY, db=db, partitions=PartitionRequest(keys=keys_))

        sides: dict[str, Callable[[], dict[str, float]]] = {
            "one month": lambda: _timed(lambda: [one([middle])]),
            "every month, one run": lambda: _timed(
                lambda: [
                    materialize(
                        defs,
                        MONTHLY,
                        db=db,
                        partitions=PartitionRequest(first=keys[0], last=keys[-1]),
                    )
                ]
            ),
            "every month, a run each": lambda: _timed(lambda: [one([key]) for key in keys]),
            "unpartitioned twin": lambda: _timed(lambda: [materialize(defs, TWIN, db=db)]),
        }
        samples = take_turns(sides, reps, warmup)
        rows = duckdb.connect(str(db), read_only=True)
        try:
            table_rows = rows.execute(f'SELECT count(*) FROM "{MONTHLY}"').fetchone()
            sales_rows = rows.execute("SELECT count(*) FROM joined_data").fetchone()
        finally:
            rows.close()
    stats = {
        side: {m: summarize([s[m] for s in runs]) for m in ("wall_s", "check_s")}
        for side, runs in samples.items()
    }
    wall = {side: stats[side]["wall_s"].median for side in stats}
    check = {side: stats[side]["check_s"].median for side in stats}
    return {
        "partitions": len(keys),
        "partition": middle,
        "table_rows": table_rows[0] if table_rows else 0,
        "sales_rows": sales_rows[0] if sales_rows else 0,
        "stats": stats,
        "one_of_all": wall["one month"] / wall["every month, one run"],
        "backfill_of_whole": wall["every month, one run"] / wall["unpartitioned twin"],
        "run_each_of_whole": wall["every month, a run each"] / wall["unpartitioned twin"],
        "check_one_of_whole": check["one month"] / check["unpartitioned twin"],
        "measured_on": date.today().isoformat(),
    }


def table(r: dict[str, Any]) -> list[str]:
    """The sides, then the targets, as Markdown."""
    runs = next(iter(r["stats"].values()))["wall_s"].n
    lines = [
        f"`{MONTHLY}` ({r['partitions']} monthly partitions, {r['table_rows']:,} rows) from"
        f" `joined_data` ({r['sales_rows']:,} rows), in process; {runs} runs per side"
        " taking turns. Check s is the run's own time for"
        f" `{CHECK}` (per partition on the partitioned asset).",
        "",
        "| side | wall s median (min–max) | check s median (min–max) |",
        "|---|---:|---:|",
    ]
    for side, stats in r["stats"].items():
        lines.append(f"| {side} | {_range(stats['wall_s'])} | {_range(stats['check_s'], 3)} |")
    lines += [
        "",
        "| measure | ratio | target |",
        "|---|---:|---|",
        f"| one month ({r['partition']}) / every month | {r['one_of_all']:.3f}"
        f" | {verdict(r['one_of_all'], TARGETS['one_of_all'])} |",
        "| backfill of every month (one run) / unpartitioned rebuild"
        f" | {r['backfill_of_whole']:.3f}"
        f" | {verdict(r['backfill_of_whole'], TARGETS['backfill_of_whole'])} |",
        "| every month, a run each (Dagster's default) / unpartitioned"
        f" | {r['run_each_of_whole']:.3f}"
        " | (for comparison) |",
        f"| check on one partition / on the whole table | {r['check_one_of_whole']:.3f}"
        f" | {verdict(r['check_one_of_whole'], TARGETS['check_one_of_whole'])} |",
        "",
    ]
    return lines


def _range(stats: Stats, digits: int = 2) -> str:
    return f"{stats.median:.{digits}f} ({stats.low:.{digits}f}–{stats.high:.{digits}f})"
