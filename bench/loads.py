"""The three raw CSV loads (group:ingestion) built one at a time against in parallel threads.

Besides wall time it records CPU time per wall second (user + system, this process): a value
near the core count means DuckDB already keeps every core busy, so threads cannot add speed.
The critical-path bound is the best ratio any scheduler could reach: per dependency level the
slowest asset, summed, over the serial sum, where an asset's work is its build, row count and
preview, and its checks, as the serial runs recorded them.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import summarize
from pipeline.engine import RunResult, materialize
from pipeline.examples.sales import build_definitions
from pipeline.selection import select

SELECTION = "group:ingestion"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _work_per_asset(result: RunResult) -> dict[str, float]:
    """Seconds each asset kept a worker busy: build, row count and preview, then its checks."""
    work = {}
    for name, event in result.assets.items():
        ended, started = event.ended_at, event.started_at
        built = (ended - started).total_seconds() if ended and started else 0.0
        checks = sum(r.duration_s or 0.0 for r in result.checks if r.asset == name)
        work[name] = built + checks
    return work


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Wall seconds of `materialize(select=SELECTION)` with 1 worker and with one per load.

    Parallel is explicit: the engine's default is 1 worker on a 2-core machine.
    """
    defs = build_definitions(csv_dir)
    loads = len(select(defs, SELECTION))
    samples: dict[str, list[float]] = {"serial": [], "parallel": []}
    cores_busy: dict[str, list[float]] = {"serial": [], "parallel": []}
    per_asset: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        for round_ in range(warmup + reps):
            for mode, workers in (("serial", 1), ("parallel", loads)):
                db = Path(tmp) / f"{mode}-{round_}.duckdb"
                cpu, started = _cpu_seconds(), time.perf_counter()
                result = materialize(defs, select=SELECTION, db=db, max_workers=workers)
                wall = time.perf_counter() - started
                cpu = _cpu_seconds() - cpu
                if not result.ok:
                    raise RuntimeError(f"{mode} load failed: {result.run.message}")
                if round_ >= warmup:
                    samples[mode].append(wall)
                    cores_busy[mode].append(cpu / wall)
                    if mode == "serial":
                        for name, seconds in _work_per_asset(result).items():
                            per_asset.setdefault(name, []).append(seconds)
                for leftover in (db, Path(f"{db}.wal"), Path(f"{db}.runlock")):
                    leftover.unlink(missing_ok=True)
    medians = {name: summarize(v).median for name, v in per_asset.items()}
    levels = defs.graph.levels(medians)
    critical = sum(max(medians[name] for name in level) for level in levels)
    serial, parallel = summarize(samples["serial"]), summarize(samples["parallel"])
    return {
        "serial": serial,
        "parallel": parallel,
        "ratio": parallel.median / serial.median,
        "cores_busy": {mode: summarize(v) for mode, v in cores_busy.items()},
        "levels": levels,
        "critical_path_bound": critical / sum(medians.values()),
        "serial_per_asset": {name: summarize(v) for name, v in sorted(per_asset.items())},
    }
