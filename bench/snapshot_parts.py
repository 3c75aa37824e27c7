"""What each branch of the guard's catalog snapshot costs, on an empty warehouse and on one
holding N views: `python -m bench.snapshot_parts [--views 2000] [--reps 50]`.

The snapshot (pipeline/guard.py, run twice per build) is one UNION ALL over DuckDB's catalog
functions; this times the whole statement and each branch alone, in one process, after one
untimed call each, and prints median (min-max) milliseconds. It reads the statement from
pipeline.guard, so it measures the code of the checkout it runs in.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb


def _time(con: duckdb.DuckDBPyConnection, sql: str, reps: int) -> tuple[float, float, float]:
    con.execute(sql).fetchall()
    seconds = []
    for _ in range(reps):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), min(seconds), max(seconds)


def measure(views: int, reps: int) -> list[tuple[str, tuple[float, float, float]]]:
    from pipeline import guard, ledger

    snapshot = getattr(guard, "_SNAPSHOT", None)
    if snapshot is None:
        return []
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-snap-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        try:
            con.execute(ledger._DDL)
            for i in range(views):
                con.execute(f'CREATE VIEW "v{i:05d}" AS SELECT {i} AS x')
            rows = [("whole snapshot", _time(con, snapshot, reps))]
            for branch in snapshot.split("UNION ALL"):
                text = " ".join(branch.split())
                rows.append((text[:60], _time(con, text, reps)))
            rows.append(("SELECT txid_current()", _time(con, "SELECT txid_current()", reps)))
            rows.append(("SELECT 1", _time(con, "SELECT 1", reps)))
            count = "SELECT count(*) FROM duckdb_functions()"
            rows.append((f"{count} (all)", _time(con, count, reps)))
        finally:
            con.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.snapshot_parts")
    parser.add_argument("--views", type=int, nargs="*", default=[0, 2000])
    parser.add_argument("--reps", type=int, default=50)
    args = parser.parse_args(argv)
    print("| statement | " + " | ".join(f"{n:,} views: ms" for n in args.views) + " |")
    print("|---|" + "---:|" * len(args.views))
    results = [measure(n, args.reps) for n in args.views]
    if not results[0]:
        print("pipeline.guard has no _SNAPSHOT any more: nothing to time")
        return 0
    for i, (name, _) in enumerate(results[0]):
        cells = []
        for result in results:
            median, low, high = result[i][1]
            cells.append(f"{median * 1000:.2f} ({low * 1000:.2f}-{high * 1000:.2f})")
        print(f"| `{name}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
