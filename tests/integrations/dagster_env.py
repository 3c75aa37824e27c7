"""What the Dagster tests compare: each engine's tables, check verdicts and built assets.

Named so pytest does not collect it; tests import it beside them (tests/dashboard does alike).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline.datagen import generate
from pipeline.engine import RunResult
from pipeline.states import CheckOutcome, EventStatus
from pipeline.warehouse import quote_ident

UNPARTITIONED = ["products", "sales_reps", "sales_data", "joined_data"]


@dataclass
class Outcome:
    """What a person sees after a run, whichever engine ran it."""

    built: set[str]  # assets materialized
    verdicts: dict[str, tuple[bool, str]]  # 'asset.check' -> (passed, severity)


def native_outcome(result: RunResult) -> Outcome:
    """The native run's outcome; checks it did not run have no verdict (as in Dagster)."""
    built = {n for n, e in result.assets.items() if e.status == EventStatus.MATERIALIZED}
    verdicts = {
        c.key: (c.outcome == CheckOutcome.PASSED, c.severity)
        for c in result.checks
        if c.outcome != CheckOutcome.SKIPPED
    }
    return Outcome(built, verdicts)


def dagster_outcome(events: Iterable[Any]) -> Outcome:
    """The same from a Dagster run's events (DagsterEvent objects)."""
    built, verdicts = set(), {}
    for event in events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            built.add(event.event_specific_data.materialization.asset_key.to_user_string())
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            found = event.event_specific_data
            key = f"{found.asset_key.to_user_string()}.{found.check_name}"
            verdicts[key] = (found.passed, found.severity.value.lower())
    return Outcome(built, verdicts)


def contents(db: Path, names: Iterable[str]) -> dict[str, list[tuple] | None]:
    """Each table's rows, sorted; None for a table the file does not have."""
    found: dict[str, list[tuple] | None] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        present = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() UNION ALL"
                " SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        for name in names:
            query = f"SELECT * FROM {quote_ident(name)} ORDER BY ALL"
            found[name] = con.execute(query).fetchall() if name in present else None
    return found


def clean_data(folder: Path) -> Path:
    generate(300, folder, seed=3)
    return folder


def blocked_data(folder: Path) -> Path:
    """Orphan sales, and a product id given twice: the blocking unique check on products
    fails, so nothing built from products may be built after it."""
    generate(300, folder, orphan_rate=0.1, seed=3)
    products = folder / "products.csv"
    lines = products.read_text().splitlines()
    products.write_text("\n".join([*lines, lines[1]]) + "\n")
    return folder
