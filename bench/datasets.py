"""The sales CSVs at each benchmarked size, generated once and reused (bench/data/, git-ignored)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline import datagen

DATA_ROOT = Path(__file__).resolve().parent / "data"
# What the plain and bare floors mirror: the sales example's four tables and their checks. The
# partitioned performance assets have no floor script; bench/partitions.py measures them.
SELECTION = "+joined_data"
_SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000}


def parse_rows(text: str) -> int:
    """'100', '100k', '1M', '10_000_000' -> a row count."""
    match = re.fullmatch(r"(\d+)([kKmM]?)", text.strip().replace("_", ""))
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not a row count: use e.g. 100, 100k, 1M or 10M")
    return int(match.group(1)) * _SUFFIXES[match.group(2).lower()]


def label(rows: int) -> str:
    for suffix, factor in (("M", 1_000_000), ("k", 1_000)):
        if rows >= factor and rows % factor == 0:
            return f"{rows // factor}{suffix}"
    return str(rows)


def folder_name(rows: int, orphan_rate: float = 0.0) -> str:
    """rows-1000000 for clean data (the name the first harness used), rows-1000000-orphans-5pct."""
    if not orphan_rate:
        return f"rows-{rows}"
    return f"rows-{rows}-orphans-{orphan_rate * 100:g}pct"


def ensure(rows: int, root: Path = DATA_ROOT, orphan_rate: float = 0.0) -> Path:
    """The folder holding the three CSVs for `rows` sales rows, generating it if needed.

    `orphan_rate`: the fraction of sales rows whose rep and product exist nowhere
    (`pipeline.datagen.generate(rows, folder, orphan_rate=..., seed=0)`), so the relationship
    and missing-dimension checks find failing rows. A stamp file is written last, so a
    generation interrupted half-way is redone next time.
    """
    folder = root / folder_name(rows, orphan_rate)
    stamp = folder / ".complete"
    expected = f"{rows} rows, orphan_rate {orphan_rate:g}, seed 0, {datagen.SALES_ORDER}\n"
    if stamp.is_file() and stamp.read_text() == expected:
        return folder
    datagen.generate(rows, folder, orphan_rate=orphan_rate, seed=0)
    stamp.write_text(expected)
    return folder
