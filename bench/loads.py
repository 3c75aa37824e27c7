"""The three raw CSV loads (group:ingestion) built one at a time against in parallel threads."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import summarize
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Wall seconds of `materialize(select="group:ingestion")` with 1 worker and the default."""
    defs = build_definitions(csv_dir)
    samples: dict[str, list[float]] = {"serial": [], "parallel": []}
    per_asset: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        for round_ in range(warmup + reps):
            for mode, workers in (("serial", 1), ("parallel", None)):
                db = Path(tmp) / f"{mode}-{round_}.duckdb"
                started = time.perf_counter()
                result = materialize(defs, select="group:ingestion", db=db, max_workers=workers)
                wall = time.perf_counter() - started
                if not result.ok:
                    raise RuntimeError(f"{mode} load failed: {result.run.message}")
                if round_ >= warmup:
                    samples[mode].append(wall)
                    if mode == "serial":
                        for name, event in result.assets.items():
                            per_asset.setdefault(name, []).append(event.duration_s or 0.0)
                for leftover in (db, Path(f"{db}.wal"), Path(f"{db}.runlock")):
                    leftover.unlink(missing_ok=True)
    serial, parallel = summarize(samples["serial"]), summarize(samples["parallel"])
    return {
        "serial": serial,
        "parallel": parallel,
        "ratio": parallel.median / serial.median,
        "serial_per_asset": {name: summarize(v) for name, v in sorted(per_asset.items())},
    }
