"""Loading a CSV file into a table so that a bad file fails loudly and the old table stays.

DuckDB's reader is lenient in ways a data-quality tool cannot be: a line longer than its read
buffer is dropped without a word (a 50 MB junk line at the end vanishes; a header plus one 1 GB
line loads as zero rows), and its error messages quote the offending line whole. So before DuckDB
reads a file, its header is compared with the expected columns and every line's length is
checked, in C-speed passes over the bytes; and the types are given, never guessed.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import duckdb

from pipeline.errors import AssetFailure
from pipeline.textsafe import cap
from pipeline.warehouse import quote_ident

# What follows DuckDB's error and line: "Possible solutions:" / "Possible fixes:", advice in
# "* " lines about options Assetboard sets itself, and a dump of the reader's settings
# ("  delimiter = , (Auto-Detected)"). None of it helps someone fixing the file.
_ADVICE = re.compile(
    r"^(?:possible (?:solution|fix)|original line:|\* |\s+\w+ = )|auto.detect", re.IGNORECASE
)
MAX_LINE_BYTES = 2 * 1024 * 1024  # DuckDB's own max_line_size default, passed explicitly
_CHUNK = 8 * 1024 * 1024


def load_csv(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    columns: Mapping[str, str],
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> None:
    """Replace `table` with the typed rows of `path`; AssetFailure naming the file otherwise."""
    if not path.is_file():
        raise AssetFailure(f"{path} not found: put {path.name} in {path.parent}")
    expected = ",".join(columns)
    with path.open("rb") as handle:
        header = handle.readline(max_line_bytes + 1).decode("utf-8", errors="replace")
        first_row = handle.readline(max_line_bytes + 1)
    if not header.strip():
        raise AssetFailure(f"{path} is empty: expected a header line '{expected}' and data rows")
    if header.strip().lstrip("\ufeff") != expected:
        raise AssetFailure(f"{path} has header {cap(header.strip(), 200)!r}, expected '{expected}'")
    if not first_row.strip():
        raise AssetFailure(f"{path} has a header but no data rows")
    if (too_long := first_long_line(path, max_line_bytes)) is not None:
        number, length = too_long
        raise AssetFailure(
            f"{path}: line {number:,} is {_size(length)} long, more than the"
            f" {_size(max_line_bytes)} a CSV line may have; DuckDB would drop it silently."
            " Fix or remove that line"
        )
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(table)} AS SELECT * FROM read_csv($path,"
            " header = true, auto_detect = false, columns = $columns,"
            " max_line_size = $max_line)",
            {"path": str(path), "columns": dict(columns), "max_line": max_line_bytes},
        )
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        raise AssetFailure(f"{path}: {_headline(exc)}") from exc


def first_long_line(path: Path, limit: int) -> tuple[int, int] | None:
    """(line number, length) of the first line longer than `limit` bytes, or None.

    From each line start it jumps to the last newline within the next `limit` + 1 bytes:
    every line in between is short enough; a window without a newline starts a line that is
    too long. Over a memory map, a few hundred C-speed searches per gigabyte and no copies.
    """
    size = path.stat().st_size
    if size <= limit:
        return None
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = 0
        while size - start > limit:
            last = data.rfind(b"\n", start, start + limit + 1)
            if last == -1:
                end = data.find(b"\n", start)
                length = (size if end == -1 else end) - start
                return _line_number(handle, start), length
            start = last + 1
    return None


def _line_number(handle: BinaryIO, offset: int) -> int:
    """1 + the newlines before `offset`: counted only to say where a bad line is."""
    handle.seek(0)
    count, left = 0, offset
    while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count + 1


def _size(length: int) -> str:
    if length >= 1024 * 1024:
        return f"{length / 1024 / 1024:,.1f} MiB"
    return f"{length / 1024:,.0f} KiB" if length >= 1024 else f"{length} bytes"


def _headline(exc: duckdb.Error) -> str:
    """DuckDB's message without the quoted line and the advice that does not apply here."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    kept = [line for line in lines if not _ADVICE.search(line)]
    return cap("\n".join(kept) or lines[0] if lines else type(exc).__name__, 2_000)
