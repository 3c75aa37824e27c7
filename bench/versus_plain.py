"""`python -m pipeline materialize` against bench/plain_duckdb.py, alternating A B A B.

Each run gets a fresh DuckDB file, deleted afterwards, so every run does the full work. The
pairs alternate so that drift on a shared machine (other jobs, page cache) hits both sides alike.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import datasets
from bench.measure import Sample, run_process, summarize
from bench.runs import remove_db

ROOT = Path(__file__).resolve().parents[1]
PLAIN_SCRIPT = ROOT / "bench" / "plain_duckdb.py"
SIDES = ("engine", "engine_serial", "plain")


def engine_command(db: Path) -> list[str]:
    select = ["--select", datasets.SELECTION]
    return [sys.executable, "-m", "pipeline", "materialize", *select, "--db", str(db)]


def plain_command(csv_dir: Path, db: Path) -> list[str]:
    return [sys.executable, str(PLAIN_SCRIPT), str(csv_dir), str(db)]


def _fresh_run(command: list[str], db: Path, env: dict[str, str]) -> Sample:
    try:
        return run_process(command, env=env, cwd=ROOT)
    finally:
        remove_db(db)


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Medians and ranges of wall time and peak RSS per side, and each engine side's ratios.

    Sides: the engine as shipped (default workers), the engine with `--workers 1` (shows what
    the worker threads cost or save), and the plain script; they run in turn, A B C A B C.
    """
    env = dict(os.environ, ASSETBOARD_SALES_DATA=str(csv_dir))
    samples: dict[str, list[Sample]] = {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        commands = {
            "engine": engine_command(db),
            "engine_serial": [*engine_command(db), "--workers", "1"],
            "plain": plain_command(csv_dir, db),
        }
        for round_ in range(warmup + reps):
            for side in SIDES:
                sample = _fresh_run(commands[side], db, env)
                if round_ >= warmup:  # the warm-up round fills the page cache for every side
                    samples[side].append(sample)
    result: dict[str, Any] = {}
    for side, runs in samples.items():
        result[side] = {
            "wall_s": summarize([s.wall_s for s in runs]),
            "rss_mb": summarize([s.max_rss_mb for s in runs]),
        }
    for side in ("engine", "engine_serial"):
        for measure in ("wall_s", "rss_mb"):
            ratio = result[side][measure].median / result["plain"][measure].median
            result[f"{side}_{measure.split('_')[0]}_ratio"] = ratio
    result["wall_ratio"] = result["engine_wall_ratio"]
    result["rss_ratio"] = result["engine_rss_ratio"]
    return result
