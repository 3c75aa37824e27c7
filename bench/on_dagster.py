"""The same pipeline natively and through Dagster: what the move costs per run.

Three whole processes take turns on a fresh DuckDB file each, building the sales example's
`+joined_data` (its four tables and their twelve checks):
- native: `python -m pipeline materialize --select +joined_data`;
- Dagster in process: `python -m bench.on_dagster DB`, the Definitions' asset job run with
  `execute_in_process` on the same assets and their checks (one process, an ephemeral
  instance);
- Dagster CLI: `dagster asset materialize -m pipeline.integrations.dagster_defs --select
  '*joined_data'`, the default executor (a process per step, one at a time on the file) and a
  persistent instance in a temporary DAGSTER_HOME.
Peak RSS is each command's own (os.wait4); the CLI's steps run in processes forked by Dagster's
forkserver, which that figure cannot see, so the CLI side has none.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import datasets
from bench.measure import Sample, run_process, summarize, take_turns
from bench.report import label
from bench.runs import remove_db
from bench.versus_plain import ROOT, engine_command

SIDES = ("native", "dagster_in_process", "dagster_cli")
UPSTREAM_OF_JOINED = ["products", "sales_reps", "sales_data", "joined_data"]


def dagster_cli_command() -> list[str]:
    dagster = Path(sys.executable).parent / "dagster"
    module = ["-m", "pipeline.integrations.dagster_defs"]
    return [str(dagster), "asset", "materialize", *module, "--select", "*joined_data"]


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Wall time and peak RSS per side (medians and ranges), and each Dagster side's ratio."""
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-dagster-") as tmp:
        db, home = Path(tmp) / "warehouse.duckdb", Path(tmp) / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = dict(
            os.environ,
            ASSETBOARD_SALES_DATA=str(csv_dir),
            ASSETBOARD_DB=str(db),
            DAGSTER_HOME=str(home),
        )
        commands = {
            "native": engine_command(db),
            "dagster_in_process": [sys.executable, "-m", "bench.on_dagster", str(db)],
            "dagster_cli": dagster_cli_command(),
        }

        def side(name: str) -> Any:
            def fresh_run() -> Sample:
                try:
                    return run_process(commands[name], env=env, cwd=ROOT)
                finally:
                    remove_db(db)

            return fresh_run

        samples = take_turns({name: side(name) for name in SIDES}, reps, warmup)
    result: dict[str, Any] = {
        name: {
            "wall_s": summarize([s.wall_s for s in runs]),
            "rss_mb": summarize([s.max_rss_mb for s in runs]),
        }
        for name, runs in samples.items()
    }
    for name in SIDES[1:]:
        result[f"{name}_wall_ratio"] = (
            result[name]["wall_s"].median / result["native"]["wall_s"].median
        )
    return result


def table(results: dict[int, dict[str, Any]]) -> list[str]:
    lines = [
        "| rows | runs | native s | Dagster in process s | Dagster CLI s | in process / native"
        " | CLI / native | native MB | in process MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rows in sorted(results):
        r = results[rows]
        native, in_process, cli = r["native"], r["dagster_in_process"], r["dagster_cli"]
        lines.append(
            f"| {label(rows)} | {native['wall_s'].n} | {native['wall_s']} | {in_process['wall_s']}"
            f" | {cli['wall_s']} | {r['dagster_in_process_wall_ratio']:.2f}"
            f" | {r['dagster_cli_wall_ratio']:.2f} | {native['rss_mb'].median:.0f}"
            f" | {in_process['rss_mb'].median:.0f} |"
        )
    return [*lines, ""]


def main(db: str) -> int:
    """One in-process Dagster run of `+joined_data` on `db` (the in-process side)."""
    import dagster as dg

    from pipeline.examples.sales import build_definitions
    from pipeline.integrations.dagster import to_dagster

    data = os.environ.get("ASSETBOARD_SALES_DATA", str(datasets.DATA_ROOT))
    defs = to_dagster(build_definitions(data), db=db)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        asset_selection=[dg.AssetKey(name) for name in UPSTREAM_OF_JOINED]
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
