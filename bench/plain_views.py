"""The floors for many small assets: create the same views as the engine, and nothing else.

Usage: ``python bench/plain_views.py [--read] SPEC_JSON DB_FILE``

SPEC_JSON is written by bench/views.py: views in dependency order, each with its SQL. This
script runs one ``CREATE OR REPLACE VIEW`` per view, in that order, autocommit, on one
connection. No history, no ledger, no transaction per view, no row count, DESCRIBE or preview:
everything the engine does beyond that is what the views2000 ratio prices.

``--read`` prices the engine's promise that a view failing when read is never committed: after
each CREATE the view is read once, in one statement (`READ_SQL`), that hashes every column of
every row, counts the rows and keeps the first `PREVIEW_ROWS` of them, the column types coming
with the result. Still autocommit and nothing else, so a view that fails to read is reported,
not undone: the floor pays the read, not the guarantee around it.

It imports only duckdb and the standard library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

PREVIEW_ROWS = 10  # as pipeline/builder.py
# The engine's own read of a new view (pipeline/batches.py, _describe) without its statement
# number: no cheaper one-statement shape was found (a top-10 arg_min instead of the window
# costs the same; only dropping the preview, count(hash(v)) alone, is 0.3-0.5 ms cheaper).
READ_SQL = (
    "SELECT count(hash(v)), list(v) FILTER (WHERE n <= {rows})"
    " FROM (SELECT v, row_number() OVER () AS n FROM {view} AS v)"
)


def run(spec: Path, db: Path, read: bool = False) -> int:
    """Create every view of `spec` in `db` (and read each once after its CREATE, `read`)."""
    views = json.loads(spec.read_text(encoding="utf-8"))["views"]
    with duckdb.connect(str(db)) as con:
        for name, _parent, sql in views:
            quoted = '"' + name.replace('"', '""') + '"'
            con.execute(f"CREATE OR REPLACE VIEW {quoted} AS {sql}")
            if read:
                con.execute(READ_SQL.format(rows=PREVIEW_ROWS, view=quoted)).fetchall()
    return len(views)


def main(argv: list[str]) -> int:
    read = "--read" in argv
    args = [arg for arg in argv if arg != "--read"]
    if len(args) != 2:
        print("usage: python bench/plain_views.py [--read] SPEC_JSON DB_FILE", file=sys.stderr)
        return 2
    created = run(Path(args[0]), Path(args[1]), read)
    print(f"plain views: {created} created" + (", each read once" if read else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
