"""The sales CSVs at each benchmarked size, generated once and reused (bench/data/, git-ignored)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline import datagen

DATA_ROOT = Path(__file__).resolve().parent / "data"
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


def ensure(rows: int, root: Path = DATA_ROOT) -> Path:
    """The folder holding the three CSVs for `rows` sales rows, generating it if needed.

    A stamp file is written last, so a generation interrupted half-way is redone next time.
    """
    folder = root / f"rows-{rows}"
    stamp = folder / ".complete"
    if stamp.is_file() and stamp.read_text() == f"{rows} rows, orphan_rate 0, seed 0\n":
        return folder
    datagen.generate(rows, folder, orphan_rate=0.0, seed=0)
    stamp.write_text(f"{rows} rows, orphan_rate 0, seed 0\n")
    return folder
