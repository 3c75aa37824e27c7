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

from bench.measure import Sample, run_process, summarize

ROOT = Path(__file__).resolve().parents[1]
PLAIN_SCRIPT = ROOT / "bench" / "plain_duckdb.py"


def engine_command(db: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline", "materialize", "--db", str(db)]


def plain_command(csv_dir: Path, db: Path) -> list[str]:
    return [sys.executable, str(PLAIN_SCRIPT), str(csv_dir), str(db)]


def _fresh_run(command: list[str], db: Path, env: dict[str, str]) -> Sample:
    try:
        return run_process(command, env=env, cwd=ROOT)
    finally:
        for leftover in (db, Path(f"{db}.wal"), Path(f"{db}.runlock")):
            leftover.unlink(missing_ok=True)


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Medians and ranges of wall time and peak RSS for both sides, and their ratios."""
    env = dict(os.environ, ASSETBOARD_SALES_DATA=str(csv_dir))
    samples: dict[str, list[Sample]] = {"engine": [], "plain": []}
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        for round_ in range(warmup + reps):
            engine = _fresh_run(engine_command(db), db, env)
            plain = _fresh_run(plain_command(csv_dir, db), db, env)
            if round_ >= warmup:  # the warm-up pair fills the page cache for both sides
                samples["engine"].append(engine)
                samples["plain"].append(plain)
    result: dict[str, Any] = {}
    for side, runs in samples.items():
        result[side] = {
            "wall_s": summarize([s.wall_s for s in runs]),
            "rss_mb": summarize([s.max_rss_mb for s in runs]),
        }
    result["wall_ratio"] = result["engine"]["wall_s"].median / result["plain"]["wall_s"].median
    result["rss_ratio"] = result["engine"]["rss_mb"].median / result["plain"]["rss_mb"].median
    return result
