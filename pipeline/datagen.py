"""Deterministic sample data for the sales pipeline: products, sales reps and sales rows.

The small dimension tables are drawn in Python from a seeded ``random.Random``. The fact table
can be tens of millions of rows, so it is drawn inside DuckDB from ``hash(i, seed, k)``: unlike
``random()`` a hash gives the same value on every thread and every run, so the same arguments
always write byte-identical files. Sales rows come in date order, as a sales log grows day by
day (the tutorial's own sample does too): DuckDB's min-max indexes then let a query for one
month skip the rest, which is what makes rebuilding one monthly partition cheap.

Usage: ``python -m pipeline.datagen --rows 3000 --orphan-rate 0 --out data [--seed 0]``
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from pipeline.cli_support import exit_code_of, os_error_reason, print_error

__all__ = ["generate", "main"]

CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[int, int]]] = {
    # category: (adjectives, nouns, whole-dollar price range)
    "Electronics": (
        ("Wireless", "Smart", "Portable", "Compact", "Pro", "Ultra HD"),
        (
            "Headphones",
            "Speaker",
            "Monitor",
            "Keyboard",
            "Mouse",
            "Charger",
            "Webcam",
            "Router",
            "Tablet",
            "Smartwatch",
        ),
        (19, 1299),
    ),
    "Books": (
        ("The Complete", "Practical", "Modern", "Essential", "Illustrated", "Pocket"),
        (
            "Cookbook",
            "Guide to Python",
            "History of Rome",
            "Atlas",
            "Field Guide to Birds",
            "Gardening Handbook",
            "Poetry Collection",
            "Guide to Statistics",
            "Travel Guide",
            "Mystery Omnibus",
        ),
        (8, 59),
    ),
    "Home and Garden": (
        ("Ceramic", "Bamboo", "Stainless Steel", "Cedar", "Outdoor", "Handwoven"),
        (
            "Planter",
            "Garden Hose",
            "Cutting Board",
            "Bird Feeder",
            "Table Lamp",
            "Doormat",
            "Watering Can",
            "Bench",
            "Storage Basket",
            "Tool Set",
        ),
        (9, 349),
    ),
    "Clothing": (
        ("Classic", "Slim Fit", "Organic Cotton", "Waterproof", "Merino Wool", "Vintage"),
        (
            "T-Shirt",
            "Jacket",
            "Hoodie",
            "Jeans",
            "Sweater",
            "Socks",
            "Scarf",
            "Rain Coat",
            "Chinos",
            "Cap",
        ),
        (12, 199),
    ),
}
DEPARTMENTS = ("North", "South", "East", "West")
FIRST_NAMES = (
    "Alice", "Bruno", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal",
    "Kara", "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Samir", "Tara",
    "Umar", "Vera", "Wes", "Yara",
)  # fmt: skip
LAST_NAMES = (
    "Anderson", "Brooks", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes",
    "Ivanova", "Jensen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Patel",
    "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Young", "Zhang",
)  # fmt: skip
_COMPANY_STEMS = (
    "Acme", "Alpha", "Beta", "Gamma", "Delta", "Apex", "Summit", "Pioneer", "Horizon",
    "Evergreen", "Bluewater", "Redwood", "Silverline", "Northwind", "Brightpath", "Ironclad",
    "Keystone", "Lakeside", "Meridian", "Oakridge", "Pinnacle", "Quantum", "Riverstone",
    "Sterling", "Trident", "Unity", "Vertex", "Westfield", "Zenith", "Cobalt",
)  # fmt: skip
_COMPANY_SUFFIXES = ("Corp", "LLC", "Inc", "Ltd", "Group", "Partners", "Holdings", "Co")
# Two suffixes per stem: 60 distinct customers, the same for every seed.
CUSTOMERS = tuple(
    f"{stem} {_COMPANY_SUFFIXES[(i + shift) % len(_COMPANY_SUFFIXES)]}"
    for i, stem in enumerate(_COMPANY_STEMS)
    for shift in (0, 3)
)

PRODUCTS_PER_CATEGORY = 10
N_PRODUCTS = PRODUCTS_PER_CATEGORY * len(CATEGORIES)
N_REPS = 20
FIRST_PRODUCT_ID = 101
FIRST_REP_ID = 1
# Orphan rows point here; real ids never reach this range.
ORPHAN_ID_MIN, ORPHAN_ID_MAX = 9000, 9999
SALES_START, SALES_END = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
HIRE_START, HIRE_END = dt.date(2015, 1, 1), dt.date(2023, 12, 31)
SALES_ORDER = "sales in date order"  # what changed the files; bench/datasets.py redoes older ones
MAX_QUANTITY = 50
MAX_DISCOUNT_PERCENT = 15
# orphan_rate is compared against hash % this, so its resolution is one in a million.
_ORPHAN_SCALE = 1_000_000
_SEED_MIN, _SEED_MAX = -(2**63), 2**63 - 1

PRODUCTS_HEADER = ("product_id", "product_name", "category", "price")
REPS_HEADER = ("rep_id", "rep_name", "department", "hire_date")

# Each draw hashes (row number, seed, stream) with its own stream number, so draws are
# independent of each other; all values come in as bound parameters. Every divisor is cast to
# UBIGINT, the type of hash(): mixing it with a signed INTEGER widens the modulo to HUGEINT,
# which made the query ten times slower.
_SALES_SQL = """
COPY (
    WITH draws AS (
        SELECT
            i,
            hash(i, $seed::BIGINT, 2) AS h_rep,
            hash(i, $seed::BIGINT, 3) AS h_product,
            hash(i, $seed::BIGINT, 4) AS h_quantity,
            hash(i, $seed::BIGINT, 5) AS h_customer,
            hash(i, $seed::BIGINT, 6) AS h_discount,
            hash(i, $seed::BIGINT, 7) AS h_orphan
        FROM range($rows) AS t(i)
    ),
    picks AS (
        SELECT
            i,
            $start + (i * $days // $rows)::INTEGER AS date,
            $rep_ids[1 + (h_rep % len($rep_ids)::UBIGINT)::INTEGER] AS rep_id,
            1 + (h_product % len($product_ids)::UBIGINT)::INTEGER AS product_idx,
            1 + (h_quantity % $max_quantity::UBIGINT)::INTEGER AS quantity,
            $customers[1 + (h_customer % len($customers)::UBIGINT)::INTEGER] AS customer_name,
            (h_discount % ($max_discount + 1)::UBIGINT)::INTEGER AS discount_percent,
            (h_orphan % $orphan_scale::UBIGINT) < $orphan_threshold::UBIGINT AS is_orphan,
            $orphan_min + ((h_orphan >> 20) % $orphan_span::UBIGINT)::INTEGER AS orphan_rep_id,
            $orphan_min + ((h_orphan >> 42) % $orphan_span::UBIGINT)::INTEGER AS orphan_product_id
        FROM draws
    )
    SELECT
        date,
        CASE WHEN is_orphan THEN orphan_rep_id ELSE rep_id END AS rep_id,
        (
            (($price_cents[product_idx]::BIGINT * quantity * (100 - discount_percent) + 50)
                // 100) / 100
        )::DECIMAL(14, 2) AS dollar_amount,
        customer_name,
        CASE WHEN is_orphan THEN orphan_product_id ELSE $product_ids[product_idx] END
            AS product_id,
        quantity
    FROM picks
) TO $path (HEADER, DELIMITER ',')
"""


def generate(
    rows: int, out_dir: str | Path, orphan_rate: float = 0.0, seed: int = 0
) -> dict[str, Path]:
    """Write products.csv, sales_reps.csv and sales_data.csv into ``out_dir``.

    A fraction ``orphan_rate`` of sales rows gets both a rep_id and a product_id in
    9000..9999, which no rep or product has, so left joins leave their names NULL.
    """
    _validate(rows, orphan_rate, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    products = _products(rng)
    reps = _reps(rng)
    paths = {
        "products": out / "products.csv",
        "sales_reps": out / "sales_reps.csv",
        "sales_data": out / "sales_data.csv",
    }
    _write_atomically(paths["products"], lambda tmp: _write_csv(tmp, PRODUCTS_HEADER, products))
    _write_atomically(paths["sales_reps"], lambda tmp: _write_csv(tmp, REPS_HEADER, reps))
    _write_atomically(
        paths["sales_data"], lambda tmp: _write_sales(tmp, rows, orphan_rate, seed, products, reps)
    )
    return paths


def _validate(rows: int, orphan_rate: float, seed: int) -> None:
    """Refuse bad arguments up front, before any file is touched."""
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be an integer >= 1, got {rows!r}")
    if (
        isinstance(orphan_rate, bool)
        or not isinstance(orphan_rate, (int, float))
        or not 0.0 <= orphan_rate <= 1.0  # also rejects NaN
    ):
        raise ValueError(
            f"orphan_rate must be a number between 0 and 1 inclusive "
            f"(0 = no orphan rows, 1 = all rows orphaned), got {orphan_rate!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not _SEED_MIN <= seed <= _SEED_MAX:
        raise ValueError(f"seed must be an integer that fits in 64 bits, got {seed!r}")


def _products(rng: random.Random) -> list[tuple[int, str, str, str]]:
    """Ten products per category, each noun once, prices ending in .99."""
    products = []
    product_id = FIRST_PRODUCT_ID
    for category, (adjectives, nouns, (low, high)) in CATEGORIES.items():
        for noun in rng.sample(nouns, PRODUCTS_PER_CATEGORY):
            name = f"{rng.choice(adjectives)} {noun}"
            cents = rng.randint(low, high) * 100 + 99
            products.append((product_id, name, category, _format_cents(cents)))
            product_id += 1
    return products


def _reps(rng: random.Random) -> list[tuple[int, str, str, str]]:
    """Reps with distinct names, spread evenly over the four departments."""
    firsts = rng.sample(FIRST_NAMES, N_REPS)
    lasts = rng.sample(LAST_NAMES, N_REPS)
    hire_span = (HIRE_END - HIRE_START).days + 1
    return [
        (
            FIRST_REP_ID + n,
            f"{first} {last}",
            DEPARTMENTS[n % len(DEPARTMENTS)],
            (HIRE_START + dt.timedelta(days=rng.randrange(hire_span))).isoformat(),
        )
        for n, (first, last) in enumerate(zip(firsts, lasts, strict=True))
    ]


def _format_cents(cents: int) -> str:
    """Exact two-decimal text, without going through a float."""
    return f"{cents // 100}.{cents % 100:02d}"


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    """Write with '\\n' line ends, as DuckDB's COPY does, so all three files look alike."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_sales(
    path: Path,
    rows: int,
    orphan_rate: float,
    seed: int,
    products: list[tuple[int, str, str, str]],
    reps: list[tuple[int, str, str, str]],
) -> None:
    """Draw the sales rows in DuckDB and COPY them straight to CSV, in row-number order."""
    params = {
        "seed": seed,
        "rows": rows,
        "start": SALES_START,
        "days": (SALES_END - SALES_START).days + 1,
        "rep_ids": [rep[0] for rep in reps],
        "product_ids": [product[0] for product in products],
        "price_cents": [int(product[3].replace(".", "")) for product in products],
        "customers": list(CUSTOMERS),
        "max_quantity": MAX_QUANTITY,
        "max_discount": MAX_DISCOUNT_PERCENT,
        "orphan_scale": _ORPHAN_SCALE,
        "orphan_threshold": math.floor(orphan_rate * _ORPHAN_SCALE + 0.5),
        "orphan_min": ORPHAN_ID_MIN,
        "orphan_span": ORPHAN_ID_MAX - ORPHAN_ID_MIN + 1,
        "path": str(path),
    }
    # A CTE chain over range() keeps row order under preserve_insertion_order (DuckDB's
    # order-preservation rules), so the file is in row-number order without an ORDER BY,
    # which would hold all rows in memory (1.1 GB instead of 80 MB at 10M rows).
    with duckdb.connect(":memory:") as con:
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        con.execute(_SALES_SQL, params)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary sibling and rename, so readers never see a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 inclusive, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not _SEED_MIN <= value <= _SEED_MAX:
        raise argparse.ArgumentTypeError(f"must fit in 64 bits, got {text}")
    return value


def _folder(text: str) -> Path:
    # Path("") is ".", which would quietly write into the current folder.
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give the folder to write into")
    return Path(text)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code.

    2 for bad arguments, including an --out that cannot be written: the fix is another --out.
    """
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.datagen",
        description="Write deterministic sample CSVs for the sales pipeline.",
    )
    parser.add_argument(
        "--rows", type=_positive_int, required=True, help="number of sales rows (>= 1)"
    )
    parser.add_argument(
        "--orphan-rate",
        type=_rate,
        default=0.0,
        help="fraction of sales rows whose rep_id and product_id do not exist (0..1, default 0)",
    )
    parser.add_argument("--out", type=_folder, required=True, help="directory to write into")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)

    try:
        paths = generate(args.rows, args.out, orphan_rate=args.orphan_rate, seed=args.seed)
    except (OSError, duckdb.Error) as exc:
        reason = os_error_reason(exc, args.out) if isinstance(exc, OSError) else str(exc)
        print_error(
            f"cannot write the sample data to {args.out}: {reason}. Pass --out a folder you can"
            " write to (it is created if missing)"
        )
        return 2
    counts = {"products": N_PRODUCTS, "sales_reps": N_REPS, "sales_data": args.rows}
    for name, path in paths.items():
        print(f"wrote {path} ({counts[name]:,} rows)", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(exit_code_of(main))
