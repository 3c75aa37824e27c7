"""What SQL each check of the sales example runs: the source of plain_duckdb.CHECKS.

The example's checks come from pipeline.checks factories whose SQL is built at definition time,
so the plain script cannot import it without importing the engine. Instead this module runs
every check once on a recording connection, and `python -m bench.check_sql --write` saves what
they ran to bench/plain_checks.json, which the plain script replays. tests/bench/
test_bench_smoke.py compares that file with a fresh recording, so a change to the example's
checks fails the smoke test until the file is rewritten.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from bench import datasets
from bench.plain_duckdb import CHECKS_FILE
from pipeline.definitions import Definitions
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions
from pipeline.selection import select

Statement = tuple[str, Any]


def _plain(value: Any) -> Any:
    """Parameters as plain lists and dicts, so they compare and print the same every time."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class RecordingConnection:
    """Runs what a check asks on a real connection and remembers every statement."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[Statement] = []

    def execute(self, query: str, parameters: Any = None) -> RecordingConnection:
        self.statements.append((query, _plain(parameters) if parameters else None))
        self._con.execute(query, parameters) if parameters else self._con.execute(query)
        return self

    def fetchone(self) -> Any:
        return self._con.fetchone()

    def fetchall(self) -> list[Any]:
        return self._con.fetchall()

    @property
    def description(self) -> Any:
        return self._con.description

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"a sales check called con.{name}(), which bench/check_sql.py does not record yet:"
            " add it to RecordingConnection so the plain script can mirror it"
        )


def example_checks(defs: Definitions, db: Path) -> dict[str, dict[str, Any]]:
    """{check key: {"statements": [...], "failing_rows": (sql, params) | None}} on `db`."""
    captured: dict[str, dict[str, Any]] = {}
    mirrored = select(defs, datasets.SELECTION)
    with duckdb.connect(str(db)) as con:
        for check in defs.checks:
            if check.asset not in mirrored:
                continue
            recorder = RecordingConnection(con)
            result = check.fn(recorder)
            failing = None
            if result.failing_rows_sql:
                params = result.failing_rows_params
                failing = (result.failing_rows_sql, _plain(dict(params)) if params else None)
            captured[check.key] = {"statements": recorder.statements, "failing_rows": failing}
    return captured


def capture(csv_dir: Path) -> dict[str, dict[str, Any]]:
    """Materialize the example from `csv_dir` into a scratch file and record its checks."""
    defs = build_definitions(csv_dir)
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        run = materialize(defs, datasets.SELECTION, db=db)
        if not run.ok:
            raise RuntimeError(f"the sales example failed on {csv_dir}: {run.run.message}")
        return example_checks(defs, db)


def as_json(checks: dict[str, dict[str, Any]]) -> str:
    return json.dumps(checks, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.check_sql",
        description="Record the SQL of the sales example's checks for bench/plain_duckdb.py.",
    )
    parser.add_argument("--write", action="store_true", help=f"save to {CHECKS_FILE}")
    args = parser.parse_args(argv)
    text = as_json(capture(datasets.ensure(100)))
    if args.write:
        CHECKS_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {CHECKS_FILE}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
