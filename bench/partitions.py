"""Partitions at scale: one month against every month, a backfill against one unpartitioned
rebuild, and per-partition checks against the same checks on the whole table.

Two monthly assets, each beside an unpartitioned twin with the same SQL and the same checks:
the example's `monthly_sales_performance` (a few thousand aggregate rows, so fixed per-run costs
weigh), and `sales_by_month`, the joined rows themselves partitioned by their date (a
partition is a month of sales, as a fact table would be split). In process, on one warehouse
where `+joined_data` is built once beforehand (not measured); sides take turns (A B C D A B C
D ...) after discarded warm-up rounds. Dagster launches one run per partition by default: that
side is a loop of one-month runs, beside the single-run backfill.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bench.measure import Stats, summarize, take_turns
from bench.report import verdict
from pipeline import checks
from pipeline.definitions import AssetContext, AssetDef, CheckDef, Definitions, asset
from pipeline.engine import RunResult, materialize
from pipeline.examples import sales
from pipeline.partition_runs import PartitionRequest
from pipeline.partitions import BackfillPolicy, TimeWindow

TARGETS = {"one_of_all": 0.2, "backfill_of_whole": 1.5, "check_one_of_whole": 0.2}
ROWS_ASSET = "sales_by_month"


@dataclass(frozen=True)
class Subject:
    asset: str
    twin: str
    about: str


SUBJECTS = (
    Subject(sales.monthly_sales_performance.name, "monthly_sales_whole", "the example's aggregate"),
    Subject(ROWS_ASSET, "sales_whole", "the joined rows by date"),
)


def _sales_by_month(con: duckdb.DuckDBPyConnection, context: AssetContext) -> str:
    window = context.partition_window
    assert window is not None
    return (
        f"SELECT * FROM joined_data WHERE date >= DATE '{window.start}'"
        f" AND date < DATE '{window.end}'"
    )


def _row_checks(name: str) -> list[CheckDef]:
    return [
        checks.not_null(name, ["product_name", "rep_name"]),
        checks.expression(name, "dollar_amount >= 0", name="non_negative_amounts"),
    ]


def _every_month(monthly: AssetDef) -> AssetContext:
    assert monthly.partitions is not None
    keys = monthly.partitions.get_partition_keys()
    first, last = monthly.partitions.window(keys[0]), monthly.partitions.window(keys[-1])
    assert first is not None and last is not None
    window = TimeWindow(first.start, last.end)
    return AssetContext(asset=monthly.name, partition_window=window, partition_keys=tuple(keys))


def _twin(of: AssetDef, name: str) -> AssetDef:
    """An unpartitioned asset running `of`'s function once over every month."""
    every_month = _every_month(of)

    @asset(name=name, deps=of.deps, group="bench")
    def twin(con: duckdb.DuckDBPyConnection) -> Any:
        return of.fn(con, every_month)

    return twin


def definitions(csv_dir: Path) -> Definitions:
    """The sales example, `sales_by_month`, and the twins, each with its original's checks."""
    example = sales.build_definitions(csv_dir)
    monthly = example.assets[SUBJECTS[0].asset]
    by_month = asset(
        _sales_by_month,
        name=ROWS_ASSET,
        deps=["joined_data"],
        group="bench",
        partitions=monthly.partitions,
        partition_column="date",
        backfill_policy=BackfillPolicy.single_run(),
    )
    twins = [_twin(monthly, SUBJECTS[0].twin), _twin(by_month, SUBJECTS[1].twin)]
    twin_checks = [
        checks.expression(SUBJECTS[0].twin, "total_dollar_amount >= 0", name="non_negative_totals"),
        *_row_checks(SUBJECTS[1].twin),
    ]
    return Definitions(
        [*example.assets.values(), by_month, *twins],
        [*example.checks, *_row_checks(ROWS_ASSET), *twin_checks],
    )


def _timed(runs: Callable[[], list[RunResult]], subject: Subject) -> dict[str, float]:
    started = time.perf_counter()
    results = runs()
    wall = time.perf_counter() - started
    for result in results:
        if not result.ok:
            raise RuntimeError(f"run {result.run_id} did not succeed: {result.run.message}")
    mine = (subject.asset, subject.twin)
    check_s = sum(r.duration_s or 0.0 for res in results for r in res.checks if r.asset in mine)
    return {"wall_s": wall, "check_s": check_s}


def _sides(
    defs: Definitions, db: Path, subject: Subject
) -> dict[str, Callable[[], dict[str, float]]]:
    partitions = defs.assets[subject.asset].partitions
    assert partitions is not None
    keys = partitions.get_partition_keys()
    middle = keys[len(keys) // 2]

    def build(request: PartitionRequest) -> RunResult:
        return materialize(defs, subject.asset, db=db, partitions=request)

    every = PartitionRequest(first=keys[0], last=keys[-1])
    return {
        f"one month ({middle})": lambda: _timed(
            lambda: [build(PartitionRequest(keys=[middle]))], subject
        ),
        "every month, one run": lambda: _timed(lambda: [build(every)], subject),
        "every month, a run each": lambda: _timed(
            lambda: [build(PartitionRequest(keys=[key])) for key in keys], subject
        ),
        "unpartitioned twin": lambda: _timed(
            lambda: [materialize(defs, subject.twin, db=db)], subject
        ),
    }


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Per subject: wall and check seconds per side, table rows, and the ratios."""
    defs = definitions(csv_dir)
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-partitions-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        if not materialize(defs, "+joined_data", db=db).ok:
            raise RuntimeError("the sales example's joined_data did not build")
        for subject in SUBJECTS:
            samples = take_turns(_sides(defs, db, subject), reps, warmup)
            stats = {
                side: {m: summarize([s[m] for s in runs]) for m in ("wall_s", "check_s")}
                for side, runs in samples.items()
            }
            with duckdb.connect(str(db), read_only=True) as con:
                row = con.execute(f'SELECT count(*) FROM "{subject.asset}"').fetchone()
            found[subject.asset] = {"about": subject.about, "rows": row[0] if row else 0}
            found[subject.asset].update(_ratios(stats))
            found[subject.asset]["stats"] = stats
    return found


def _ratios(stats: dict[str, dict[str, Stats]]) -> dict[str, float]:
    one = next(side for side in stats if side.startswith("one month"))
    wall = {side: s["wall_s"].median for side, s in stats.items()}
    check = {side: s["check_s"].median for side, s in stats.items()}
    whole = wall["unpartitioned twin"]
    return {
        "one_of_all": wall[one] / wall["every month, one run"],
        "backfill_of_whole": wall["every month, one run"] / whole,
        "run_each_of_whole": wall["every month, a run each"] / whole,
        "check_one_of_whole": check[one] / check["unpartitioned twin"],
    }


def table(results: dict[str, Any]) -> list[str]:
    """Per subject, the sides, then the ratios against their targets, as Markdown."""
    lines: list[str] = []
    for name, r in results.items():
        runs = next(iter(r["stats"].values()))["wall_s"].n
        lines += [
            f"### `{name}`: {r['about']}, {r['rows']:,} rows in 24 monthly partitions",
            "",
            f"{runs} runs per side taking turns. Check s: the runs' own check times (on the"
            " partitioned asset, per partition).",
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
            f"| one month / every month | {r['one_of_all']:.3f}"
            f" | {verdict(r['one_of_all'], TARGETS['one_of_all'])} |",
            f"| every month in one run (backfill) / unpartitioned | {r['backfill_of_whole']:.3f}"
            f" | {verdict(r['backfill_of_whole'], TARGETS['backfill_of_whole'])} |",
            f"| every month, a run each / unpartitioned | {r['run_each_of_whole']:.3f}"
            " | (Dagster's default, for comparison) |",
            f"| checks on one month / on the whole table | {r['check_one_of_whole']:.3f}"
            f" | {verdict(r['check_one_of_whole'], TARGETS['check_one_of_whole'])} |",
            "",
        ]
    return lines


def _range(stats: Stats, digits: int = 2) -> str:
    return f"{stats.median:.{digits}f} ({stats.low:.{digits}f}–{stats.high:.{digits}f})"
