"""Column profiles against one hand-written aggregate query computing the same figures.

    .venv/bin/python -m pipeline.datagen --rows 1000000 --orphan-rate 0 --out /tmp/prof-data
    .venv/bin/python -m bench.column_profiles /tmp/prof-data [--reps 7]

Loads sales_data.csv (typed as the sales example types it) into a fresh DuckDB file, then
times, taking turns after one discarded warm-up round each: `profiles.profile_table` (its
aggregate query and its top-values query) and `HAND_WRITTEN`, one query a person would write
knowing the table (which columns are numbers, dates or text, which one has few values).
Prints medians and (min-max) in milliseconds, and the load's own time for scale.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from pipeline import profiles
from pipeline.examples.sales import CSV_COLUMNS

# The same figures as profiles.profile_table at 1M rows (approximate distinct counts; top
# values for rep_id, the one column with at most 20 distinct values), in one pass.
HAND_WRITTEN = """
SELECT
    count(*),
    count(date), approx_count_distinct(date), min(date), max(date),
    count(rep_id), approx_count_distinct(rep_id), min(rep_id), max(rep_id), avg(rep_id),
        stddev_samp(rep_id), approx_quantile(rep_id, [0.25, 0.5, 0.75]), histogram(rep_id),
    count(dollar_amount), approx_count_distinct(dollar_amount), min(dollar_amount),
        max(dollar_amount), avg(dollar_amount), stddev_samp(dollar_amount),
        approx_quantile(dollar_amount, [0.25, 0.5, 0.75]),
    count(customer_name), approx_count_distinct(customer_name), min(customer_name),
        max(customer_name), min(length(customer_name)), max(length(customer_name)),
        avg(length(customer_name)),
    count(product_id), approx_count_distinct(product_id), min(product_id), max(product_id),
        avg(product_id), stddev_samp(product_id),
        approx_quantile(product_id, [0.25, 0.5, 0.75]),
    count(quantity), approx_count_distinct(quantity), min(quantity), max(quantity),
        avg(quantity), stddev_samp(quantity), approx_quantile(quantity, [0.25, 0.5, 0.75])
FROM sales_data
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv_dir", type=Path)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    types = ", ".join(f"'{name}': '{kind}'" for name, kind in CSV_COLUMNS["sales_data"].items())
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(Path(folder) / "bench.duckdb"))
        started = time.perf_counter()
        con.execute(
            "CREATE TABLE sales_data AS SELECT * FROM"
            f" read_csv($path, header = true, columns = {{{types}}})",
            {"path": str(args.csv_dir / "sales_data.csv")},
        )
        load_s = time.perf_counter() - started
        rows = con.execute("SELECT count(*) FROM sales_data").fetchone()[0]  # type: ignore[index]
        con.execute("CHECKPOINT")
        columns = [[n, str(t)] for n, t, *_ in con.execute("FROM sales_data LIMIT 0").description]
        profile_ms: list[float] = []
        hand_ms: list[float] = []
        for rep in range(args.reps + 1):
            started = time.perf_counter()
            profile = profiles.profile_table(con, "sales_data", 1, columns, rows)
            profiled = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            con.execute(HAND_WRITTEN).fetchall()
            hand = (time.perf_counter() - started) * 1000
            if rep:  # the first round warms both up
                profile_ms.append(profiled)
                hand_ms.append(hand)
        top = [c.name for c in profile.columns if "top" in c.figures]
        print(f"sales_data: {rows:,} rows, loaded in {load_s * 1000:.0f} ms; top values: {top}")
        for label, times in (("profile_table", profile_ms), ("hand-written", hand_ms)):
            print(
                f"{label:>14}: {statistics.median(times):7.1f} ms"
                f" ({min(times):.1f}-{max(times):.1f}), {len(times)} runs"
            )
        ratio = statistics.median(profile_ms) / statistics.median(hand_ms)
        print(f"{'ratio':>14}: {ratio:.2f}x")
        con.close()


if __name__ == "__main__":
    main()
