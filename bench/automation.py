"""What automation costs: an idle tick, and a run launched by a tick against the same run
started directly.

In process, on the sales example at the size asked: `ticking.tick` with nothing due (the
daemon's cost every interval), and, taking turns on fresh database files, a sensor tick that
finds one request file and launches its run (`adhoc_request`, after the rest is built) against
`engine.materialize` of the same selection and config. The difference is the tick's own
bookkeeping: the request's claim, the cursor, the tick record.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import summarize, take_turns
from pipeline import engine, ticking
from pipeline.daemon import engine_launcher
from pipeline.examples.sales import build_definitions

REQUEST = {
    "department": "North",
    "product": "Pro Webcam",
    "start_date": "2024-01-01",
    "end_date": "2025-12-31",
}


def _built(csv_dir: Path, work: Path) -> Path:
    """A warehouse with everything but adhoc_request built: what each side starts from."""
    db = work / "built.duckdb"
    if not db.exists():
        engine.materialize(build_definitions(csv_dir), None, db)
    return db


def _copy(db: Path, to: Path) -> Path:
    for suffix in ("", ".history.sqlite"):
        shutil.copy(f"{db}{suffix}", f"{to}{suffix}")
    return to


def compare(csv_dir: Path, reps: int, warmup: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-automation-") as tmp:
        work = Path(tmp)
        data = work / "data"
        shutil.copytree(csv_dir, data)
        defs = build_definitions(data)
        built = _built(data, work)
        idle_db = _copy(built, work / "idle.duckdb")
        launch = engine_launcher(defs, idle_db)
        ticking.tick(defs, idle_db, datetime.now(UTC), launch)  # the first tick starts them
        idle = []
        for _ in range(max(reps * 5, 20)):
            start = time.perf_counter()
            ticking.tick(defs, idle_db, datetime.now(UTC), launch)
            idle.append(time.perf_counter() - start)
        counter = iter(range(10**6))

        def by_tick() -> float:
            db = _copy(built, work / f"t{next(counter)}.duckdb")
            requests = data / "requests"
            shutil.rmtree(requests, ignore_errors=True)
            requests.mkdir()
            (requests / "r.json").write_text(json.dumps(REQUEST))
            launch_here = engine_launcher(defs, db)
            start = time.perf_counter()
            ticks = ticking.tick(defs, db, datetime.now(UTC), launch_here)
            took = time.perf_counter() - start
            [tick] = [t for t in ticks if t.kind == "sensor"]
            assert tick.run_ids, tick.reason
            return took

        def direct() -> float:
            db = _copy(built, work / f"d{next(counter)}.duckdb")
            start = time.perf_counter()
            config = {"adhoc_request": REQUEST}
            result = engine.materialize(defs, "adhoc_request", db, run_config=config)
            took = time.perf_counter() - start
            assert result.ok, result.run.message
            return took

        samples = take_turns({"tick": by_tick, "direct": direct}, reps, warmup)
    tick, plain = summarize(samples["tick"]), summarize(samples["direct"])
    return {
        "idle_tick_s": summarize(idle),
        "tick_run_s": tick,
        "direct_run_s": plain,
        "ratio": tick.median / plain.median,
    }


def table(result: dict[str, Any]) -> list[str]:
    def ms(stats: Any) -> str:
        return f"{stats.median * 1000:.1f} ms ({stats.low * 1000:.1f}–{stats.high * 1000:.1f})"

    return [
        "| measure | median (min–max) |",
        "|---|---|",
        f"| idle tick (nothing due), every interval | {ms(result['idle_tick_s'])} |",
        f"| a sensor tick launching adhoc_request's run | {ms(result['tick_run_s'])} |",
        f"| the same run by engine.materialize | {ms(result['direct_run_s'])} |",
        f"| tick / direct | {result['ratio']:.2f}× |",
    ]
