"""`python -m bench`: every benchmark of BENCHMARKS.md, printed as Markdown and saved.

Examples:
    python -m bench                                  # the full run behind BENCHMARKS.md
    python -m bench --sizes 100,1M --reps 3          # quicker, fewer sizes
    python -m bench --only resolver,loads            # some parts only
    python -m bench --only graph-page                # the graph page in Chromium, 500 and 2,000
    python -m bench --only graph-page --graph-page-baseline 8dfeb8c   # and an older page beside it
    python -m bench --only floors --sizes 100        # engine vs the plain and bare floors
    python -m bench --only memory                    # peak RSS at 10M rows, clean and orphans
    python -m bench --only views2000,cli             # 2,000 views; --help and list
    python -m bench --only dashboard-run             # a browser click against the CLI
    python -m bench --only costs                     # where the time goes (instrumented)
    python -m bench --only partitions                # one month vs all, backfill vs one rebuild
    python -m bench --only quality                   # what checks and profiles add to a run
    python -m bench --only dagster --sizes 100,10M   # the same run natively and via Dagster
    python -m bench --only automation --sizes 100k   # an idle tick; a tick's run vs a direct one
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from bench import datasets, machine, report, resolver, versus_plain
from bench.measure import Stats, summarize

PARTS = (
    "materialize",
    "floors",
    "memory",
    "views2000",
    "cli",
    "dashboard-run",
    "costs",
    "resolver",
    "loads",
    "graph",
    "graph-page",
    "pages",
    "partitions",
    "quality",
    "dagster",
    "automation",
)
DEFAULT_SIZES = "100,100k,1M,10M"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _sizes(text: str) -> list[int]:
    try:
        return sorted({datasets.parse_rows(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rows(text: str) -> int:
    try:
        return datasets.parse_rows(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parts(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if unknown := sorted(set(parts) - set(PARTS)):
        raise argparse.ArgumentTypeError(
            f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}"
        )
    return parts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the engine against its plain and bare DuckDB floors, 2,000 view"
        " assets, the command line's start, dashboard-started runs, the resolver, raw loads and"
        " the dashboard pages, and profile where the time goes. Timings are medians (min–max)"
        " over alternating repetitions.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes(DEFAULT_SIZES),
        help=f"sales rows per dataset (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=None,
        help="runs per side and size (default 5)",
    )
    parser.add_argument(
        "--warmup", type=int, default=1, help="discarded runs per side before measuring (default 1)"
    )
    parser.add_argument(
        "--only",
        type=_parts,
        default=list(PARTS),
        help=f"comma-separated parts to run (default all: {','.join(PARTS)})",
    )
    parser.add_argument(
        "--memory-rows",
        type=_rows,
        default=None,
        help="rows for the memory part (default: the largest size)",
    )
    parser.add_argument(
        "--orphan-rate",
        type=float,
        default=0.05,
        help="orphan sales rows in the memory part's second dataset (default 0.05)",
    )
    parser.add_argument(
        "--views", type=int, default=2_000, help="view assets in views2000 and cli (default 2000)"
    )
    parser.add_argument("--views-layers", type=int, default=20)
    parser.add_argument(
        "--views-reps",
        type=int,
        default=3,
        help="runs per side of the views2000 part (default 3: an engine run takes minutes)",
    )
    parser.add_argument(
        "--dashboard-sizes",
        type=_sizes,
        default=_sizes("1M,10M"),
        help="rows for dashboard-run (default 1M,10M)",
    )
    parser.add_argument(
        "--profile-rows",
        type=_rows,
        default=None,
        help="rows of the sales run the costs part profiles (default: the smallest size)",
    )
    parser.add_argument(
        "--costs-views",
        type=int,
        default=None,
        help="views the costs part profiles (default: --views; 0 profiles the sales run only)",
    )
    parser.add_argument("--resolver-assets", type=int, default=10_000)
    parser.add_argument("--resolver-edges", type=int, default=30_000)
    parser.add_argument("--resolver-reps", type=int, default=7)
    parser.add_argument(
        "--graph-assets",
        type=int,
        default=500,
        help="assets in the graph page benchmark (default 500)",
    )
    parser.add_argument(
        "--graph-page-sizes",
        type=lambda text: [int(part) for part in text.split(",") if part.strip()],
        default=[500, 2000],
        help="synthetic assets for the graph page in Chromium (default 500,2000)",
    )
    parser.add_argument(
        "--graph-page-reps",
        type=int,
        default=5,
        help="navigations per size and view in Chromium (default 5)",
    )
    parser.add_argument(
        "--graph-page-baseline",
        metavar="REF",
        default=None,
        help="also time the graph page of git REF, side by side (git archive; default: no)",
    )
    parser.add_argument(
        "--partition-rows",
        type=_rows,
        default=None,
        help="sales rows for the partitions and quality parts (default: the largest size)",
    )
    parser.add_argument(
        "--large-rows",
        type=_rows,
        default=None,
        help="rows for raw loads and page timings (default: the largest size)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=datasets.DATA_ROOT,
        help="where generated CSVs are kept and reused (default bench/data)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        help="folder for the Markdown and JSON results (default bench/results)",
    )
    return parser  # fmt: skip


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _reps(args: argparse.Namespace, rows: int) -> int:
    if args.reps is not None:
        return args.reps
    return 5  # at 10M too: 3 runs were not enough to outvote other engineers' jobs


def _jsonable(value: Any) -> Any:
    if isinstance(value, Stats) or (is_dataclass(value) and not isinstance(value, type)):
        return asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def run(args: argparse.Namespace, command: str) -> tuple[str, dict[str, Any]]:
    """Run the chosen parts; returns the Markdown report and the raw results."""
    results: dict[str, Any] = {"machine": machine.describe(), "command": command}
    lines = ["# Benchmark results", "", f"Command: `{results['command']}`", ""]
    lines += ["## Machine", "", *report.machine_table(results["machine"])]
    large = args.large_rows or max(args.sizes)

    if "materialize" in args.only:
        results["materialize"] = {}
        for rows in args.sizes:
            csv_dir = datasets.ensure(rows, args.data_dir)
            reps = _reps(args, rows)
            _log(f"materialize vs plain at {datasets.label(rows)} rows: {reps} runs each")
            results["materialize"][rows] = versus_plain.compare(csv_dir, reps, args.warmup)
        lines += [
            "## `python -m pipeline materialize` vs plain DuckDB script",
            "",
            "Wall time and peak RSS of each whole process (os.wait4), median (min–max) over the"
            " runs; the three commands take turns (A B C A B C ...), each on a fresh database"
            f" file, after {args.warmup} discarded warm-up round(s). Ratios are engine / plain.",
            "",
            *report.materialize_table(results["materialize"]),
        ]

    if "floors" in args.only:
        from bench import floors

        results["floors"] = {}
        for rows in args.sizes:
            csv_dir = datasets.ensure(rows, args.data_dir)
            reps = _reps(args, rows)
            _log(f"engine vs plain and bare floors at {datasets.label(rows)} rows: {reps} runs")
            results["floors"][rows] = floors.compare(csv_dir, reps, args.warmup)
        lines += [
            "## `python -m pipeline materialize` vs the plain and the bare floors",
            "",
            "Whole processes taking turns (engine, plain, bare), fresh database files,"
            f" {args.warmup} discarded warm-up round(s). bare = the SQL alone"
            " (bench/bare_duckdb.py); plain = the SQL plus the history and ledger writes"
            " (bench/plain_duckdb.py).",
            "",
            *report.floors_table(results["floors"]),
        ]

    if "memory" in args.only:
        from bench import floors

        rows = args.memory_rows or max(args.sizes)
        reps = _reps(args, rows)
        results["memory"] = {}
        for name, rate in (("clean", 0.0), (f"{args.orphan_rate:.0%} orphans", args.orphan_rate)):
            csv_dir = datasets.ensure(rows, args.data_dir, orphan_rate=rate)
            _log(f"peak memory at {datasets.label(rows)} rows, {name}: {reps} runs per side")
            results["memory"][name] = floors.compare(csv_dir, reps, args.warmup, failing=rate > 0)
        lines += ["## Peak memory against the bare floor", ""]
        lines += report.memory_table(results["memory"], rows)

    if "views2000" in args.only or "cli" in args.only:
        from bench import cli, views

        with tempfile.TemporaryDirectory(prefix="assetboard-bench-views-") as tmp:
            workspace = views.Workspace(Path(tmp), args.views, args.views_layers)
            if "views2000" in args.only:
                _log(
                    f"{args.views} views: engine vs both plain floors, {args.views_reps} runs each"
                )
                results["views2000"] = views.compare(workspace, args.views_reps, args.warmup)
                lines += [f"## {args.views:,} view assets vs a plain script", ""]
                lines += report.views_table(results["views2000"])
            if "cli" in args.only:
                _log(f"--help and list on {args.views} assets: {_reps(args, 0)} runs each")
                results["cli"] = cli.compare(workspace, _reps(args, 0), args.warmup)
                lines += ["## Command-line start: `--help` and `list`", ""]
                lines += report.cli_table(results["cli"])

    if "dashboard-run" in args.only:
        from bench import dashboard_run

        results["dashboard-run"] = {}
        for rows in args.dashboard_sizes:
            csv_dir = datasets.ensure(rows, args.data_dir)
            reps = _reps(args, rows)
            _log(f"dashboard run vs CLI at {datasets.label(rows)} rows: {reps} runs each")
            results["dashboard-run"][rows] = dashboard_run.compare(csv_dir, reps, args.warmup)
        lines += [
            "## A run started from the dashboard vs the command line",
            "",
            "Headless Chromium clicks Materialize all on a fresh `streamlit run` server; the"
            " time runs from the click to the outcome on the page. The CLI side is the whole"
            " `python -m pipeline materialize` process; run times are the history's own. The"
            " page follows a run by polling, so run end → outcome shown depends on where the"
            " end falls between two polls: a run of fixed length lands on much the same phase"
            " every time; read it across sizes.",
            "",
            *report.dashboard_run_table(results["dashboard-run"]),
        ]

    if "costs" in args.only:
        from bench import profiles, views

        rows = args.profile_rows or min(args.sizes)
        csv_dir = datasets.ensure(rows, args.data_dir)
        reps = _reps(args, rows)
        results["costs"] = {}
        n_views = args.views if args.costs_views is None else args.costs_views
        with tempfile.TemporaryDirectory(prefix="assetboard-bench-costs-") as tmp:
            _log(f"costs: instrumented materialize at {datasets.label(rows)} rows, {reps} runs")
            env = dict(os.environ, ASSETBOARD_SALES_DATA=str(csv_dir))
            db = Path(tmp) / "warehouse.duckdb"
            results["costs"]["sales"] = profiles.profile_command(
                ["materialize", "--select", datasets.SELECTION], db, reps, env
            )
            if n_views:
                workspace = views.Workspace(Path(tmp), n_views, args.views_layers)
                _log(f"costs: instrumented materialize of {n_views} views, 1 run")
                views_db = Path(tmp) / "views.duckdb"
                argv = ["materialize", "--defs", str(workspace.module)]
                results["costs"]["views"] = profiles.profile_command(argv, views_db, 1, keep=True)
                _log(f"costs: instrumented list of {n_views} views, {reps} runs")
                argv = ["list", "--defs", str(workspace.module)]
                results["costs"]["list"] = profiles.profile_command(
                    argv, views_db, reps, fresh=False
                )
            results["costs"]["imports"] = profiles.import_times(reps)
        lines += [
            "## Where the time goes",
            "",
            f"### `python -m pipeline materialize` at {datasets.label(rows)} rows",
            "",
            *report.costs_tables(results["costs"]["sales"], 4),
        ]
        if n_views:
            lines += [
                f"### `python -m pipeline materialize` of {n_views:,} views",
                "",
                *report.costs_tables(results["costs"]["views"], n_views),
                f"### `python -m pipeline list` on {n_views:,} views",
                "",
                *report.costs_tables(results["costs"]["list"], n_views),
            ]
        lines += [
            "### Imports of `python -m pipeline`",
            "",
            *report.imports_table(results["costs"]["imports"]),
        ]

    if "resolver" in args.only:
        _log(f"resolver at {args.resolver_assets:,} assets")
        raw = resolver.measure(args.resolver_assets, args.resolver_edges, args.resolver_reps)
        raw["stats"] = {step: summarize(v) for step, v in raw.pop("samples").items()}
        total_ms = sum(s.median for s in raw["stats"].values()) * 1000
        raw["total_ms"] = total_ms
        results["resolver"] = raw
        lines += ["## Resolver and selection", "", *report.resolver_table(raw, total_ms)]

    if "loads" in args.only:
        from bench import loads  # imports the sales example only when needed

        csv_dir = datasets.ensure(large, args.data_dir)
        reps = _reps(args, large) + 2
        _log(f"raw loads serial vs parallel at {datasets.label(large)} rows: {reps} runs each")
        results["loads"] = loads.compare(csv_dir, reps, args.warmup)
        lines += ["## Raw loads: serial vs parallel", ""]
        lines += report.loads_table(results["loads"], large)

    if "graph-page" in args.only:
        from bench import graph_page

        sizes = ", ".join(f"{n:,}" for n in args.graph_page_sizes)
        _log(f"graph page in Chromium at {sizes} assets: {args.graph_page_reps} visits each")
        results["graph-page"] = graph_page.measure(
            args.graph_page_sizes, args.graph_page_reps, log=_log
        )
        lines += ["## Graph page in Chromium: navigation to the first complete draw", ""]
        lines += graph_page.table(results["graph-page"])
        if args.graph_page_baseline:
            from bench import graph_baseline

            ref = args.graph_page_baseline
            _log(f"graph page of {ref} beside this one (never-built assets)")
            results["graph-page-baseline"] = graph_baseline.compare(
                ref, args.graph_page_sizes, args.graph_page_reps, log=_log
            )
            lines += [f"### Beside the graph page of {ref}, never-built assets", ""]
            lines += graph_baseline.table(results["graph-page-baseline"])

    if "graph" in args.only or "pages" in args.only:
        from bench import dashboard

        if "graph" in args.only:
            _log(f"graph page data at {args.graph_assets} assets")
            results["graph"] = dashboard.graph_timings(args.graph_assets, _reps(args, 0) * 2)
            lines += [f"## Graph page at {args.graph_assets} assets", ""]
            lines += report.timings_table(results["graph"], None)
        if "pages" in args.only:
            csv_dir = datasets.ensure(large, args.data_dir)
            _log(f"dashboard pages at {datasets.label(large)} rows")
            results["pages"] = dashboard.page_timings(csv_dir, _reps(args, 0))
            lines += [f"## Dashboard pages, warm reruns at {datasets.label(large)} rows", ""]
            lines += report.timings_table(results["pages"], report.TARGETS["page_ms"])

    if "partitions" in args.only:
        from bench import partitions

        rows = args.partition_rows or max(args.sizes)
        reps = _reps(args, rows)
        _log(f"partitions at {datasets.label(rows)} rows: {reps} runs per side")
        results["partitions"] = partitions.compare(
            datasets.ensure(rows, args.data_dir), reps, args.warmup
        )
        lines += [
            f"## Partitions at {datasets.label(rows)} rows",
            "",
            *partitions.table(results["partitions"]),
        ]

    if "quality" in args.only:
        from bench import quality_cost

        rows = args.partition_rows or max(args.sizes)
        reps = _reps(args, rows)
        _log(f"checks and profiles at {datasets.label(rows)} rows: {reps} runs per side")
        csv_dir = datasets.ensure(rows, args.data_dir)
        results["quality"] = quality_cost.compare(csv_dir, reps, args.warmup)
        lines += [f"## What checks and profiles add, at {datasets.label(rows)} rows", ""]
        lines += quality_cost.table(results["quality"], rows)

    if "dagster" in args.only:
        from importlib.util import find_spec

        from bench import on_dagster

        heading = ["## The same pipeline natively and through Dagster", ""]
        if find_spec("dagster") is None:
            _log("dagster: skipped, Dagster is not installed (make bench installs it)")
            results["dagster"] = {"skipped": "Dagster is not installed"}
            lines += [*heading, "Skipped: Dagster is not installed (`make bench` installs it).", ""]
        else:
            results["dagster"] = {}
            for rows in args.sizes:
                csv_dir = datasets.ensure(rows, args.data_dir)
                reps = _reps(args, rows)
                _log(f"native vs Dagster at {datasets.label(rows)} rows: {reps} runs per side")
                results["dagster"][rows] = on_dagster.compare(csv_dir, reps, args.warmup)
            lines += [
                *heading,
                "`+joined_data` of the sales example (four tables, twelve checks), whole"
                " processes taking turns on fresh database files, after"
                f" {args.warmup} discarded warm-up round(s); see bench/on_dagster.py.",
                "",
                *on_dagster.table(results["dagster"]),
            ]

    if "automation" in args.only:
        from bench import automation

        rows = min(args.sizes)
        csv_dir = datasets.ensure(rows, args.data_dir)
        reps = _reps(args, rows)
        _log(f"automation at {datasets.label(rows)} rows: {reps} runs per side")
        results["automation"] = automation.compare(csv_dir, reps, args.warmup)
        lines += [
            f"## What automation costs, at {datasets.label(rows)} rows",
            "",
            "In process; the two runs take turns on copies of one built warehouse (see"
            " bench/automation.py).",
            "",
            *automation.table(results["automation"]),
            "",
        ]

    results["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines += [f"Load average at the end: {results['load average at end']}.", ""]
    return "\n".join(lines), results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    markdown, results = run(args, " ".join(["python -m bench", *argv]))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (args.out / f"bench-{stamp}.md").write_text(markdown + "\n")
    (args.out / f"bench-{stamp}.json").write_text(json.dumps(_jsonable(results), indent=2))
    print(markdown)
    _log(f"saved {args.out / f'bench-{stamp}.md'} and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
