"""Fresh database files for each measured run, and what the run history says of a run."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

SUFFIXES = (
    "",
    ".wal",
    ".runlock",
    ".history.sqlite",
    ".history.sqlite-wal",
    ".history.sqlite-shm",
    ".history.sqlite-reserve",
)


def remove_db(db: Path) -> None:
    """The DuckDB file and everything a run or a script leaves beside it."""
    for suffix in SUFFIXES:
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def recorded_run(db: Path) -> dict[str, Any]:
    """The newest run in `db`'s history: status, its own duration, assets built, and when it
    started and ended (naive UTC, the history's convention)."""
    with sqlite3.connect(f"file:{db}.history.sqlite?mode=ro", uri=True) as con:
        row = con.execute(
            "SELECT run_id, status, started_at, ended_at, assets_materialized, launched_by"
            " FROM runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise RuntimeError(f"no run recorded in {db}.history.sqlite")
        events = con.execute(
            "SELECT count(*) FROM asset_events WHERE run_id = ? AND status = 'materialized'",
            [row[0]],
        ).fetchone()[0]
    started = datetime.fromisoformat(row[2])
    ended = datetime.fromisoformat(row[3]) if row[3] else None
    return {
        "run_id": row[0],
        "status": row[1],
        "started_at": started,
        "ended_at": ended,
        "duration_s": (ended - started).total_seconds() if ended else None,
        "materialized": row[4],
        "materialized_events": events,
        "launched_by": row[5],
    }
