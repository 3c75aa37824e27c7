"""The engine against both floors on the sales pipeline: the plain script and the bare script.

- engine: `python -m pipeline materialize --db FRESH` (ASSETBOARD_SALES_DATA=CSV_DIR);
- plain: bench/plain_duckdb.py, the same SQL plus the engine's history and ledger writes;
- bare: bench/bare_duckdb.py, the same SQL (loads, join, checks, row counts, DESCRIBE,
  previews) and nothing else.

Child processes taking turns (A B C A B C ...), each on a fresh database file deleted after
it, after discarded warm-up rounds; wall time around each child, peak RSS from os.wait4.
On data with orphan rows some checks fail: the engine then exits 1 by design, and the run is
accepted when its history says every asset was built.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import versus_plain
from bench.measure import Sample, run_process, summarize, take_turns
from bench.runs import recorded_run, remove_db

ROOT = Path(__file__).resolve().parents[1]
PLAIN_SCRIPT = ROOT / "bench" / "plain_duckdb.py"
BARE_SCRIPT = ROOT / "bench" / "bare_duckdb.py"
SIDES = ("engine", "plain", "bare")
ASSETS = 4  # the sales example's tables


def commands(csv_dir: Path, db: Path) -> dict[str, list[str]]:
    return {
        "engine": versus_plain.engine_command(db),
        "plain": [sys.executable, str(PLAIN_SCRIPT), str(csv_dir), str(db)],
        "bare": [sys.executable, str(BARE_SCRIPT), str(csv_dir), str(db)],
    }


def compare(csv_dir: Path, reps: int, warmup: int = 1, failing: bool = False) -> dict[str, Any]:
    """Medians and ranges of wall time and peak RSS per side, and the engine's ratios to each
    floor (of medians, and of minima). `failing`: the data makes checks fail (orphan rows)."""
    env = dict(os.environ, ASSETBOARD_SALES_DATA=str(csv_dir))
    engine_runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-floors-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        argv = commands(csv_dir, db)

        def side(name: str) -> Any:
            def run() -> Sample:
                try:
                    ok = (0, 1) if name == "engine" and failing else (0,)
                    sample = run_process(argv[name], env=env, cwd=ROOT, ok_codes=ok)
                    if name == "engine":
                        recorded = recorded_run(db)
                        if recorded["materialized"] != ASSETS:
                            raise RuntimeError(f"the engine did not build every asset: {recorded}")
                        engine_runs.append(recorded["duration_s"])
                    return sample
                finally:
                    remove_db(db)

            return run

        samples = take_turns({name: side(name) for name in SIDES}, reps, warmup)
    result: dict[str, Any] = {}
    for name, runs in samples.items():
        result[name] = {
            "wall_s": summarize([s.wall_s for s in runs]),
            "rss_mb": summarize([s.max_rss_mb for s in runs]),
        }
    result["engine_recorded_run_s"] = summarize(engine_runs[warmup:])
    for floor in ("plain", "bare"):
        for measure in ("wall_s", "rss_mb"):
            engine, other = result["engine"][measure], result[floor][measure]
            short = measure.split("_")[0]
            result[f"{short}_vs_{floor}"] = engine.median / other.median
            result[f"{short}_vs_{floor}_minima"] = engine.low / other.low
    return result
