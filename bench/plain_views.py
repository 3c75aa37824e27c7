"""The floor for many small assets: create the same views as the engine, and nothing else.

Usage: ``python bench/plain_views.py SPEC_JSON DB_FILE``

SPEC_JSON is written by bench/views.py: views in dependency order, each with its SQL. This
script runs one ``CREATE OR REPLACE VIEW`` per view, in that order, autocommit, on one
connection. No history, no ledger, no transaction per view, no row count, DESCRIBE or preview:
everything the engine does beyond that is what the views2000 ratio prices.

It imports only duckdb and the standard library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb


def run(spec: Path, db: Path) -> int:
    views = json.loads(spec.read_text(encoding="utf-8"))["views"]
    with duckdb.connect(str(db)) as con:
        for name, _parent, sql in views:
            quoted = '"' + name.replace('"', '""') + '"'
            con.execute(f"CREATE OR REPLACE VIEW {quoted} AS {sql}")
    return len(views)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python bench/plain_views.py SPEC_JSON DB_FILE", file=sys.stderr)
        return 2
    print(f"plain views: {run(Path(argv[0]), Path(argv[1]))} created")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
