"""Writing the history: one transaction per batch of facts, the calling thread of a run only."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import faults
from pipeline.states import CheckOutcome, RunStatus
from pipeline.store.records import (
    AssetEvent,
    CatalogEntry,
    CheckRecord,
    PartitionCheck,
    PartitionEntry,
    PartitionEvent,
    Profile,
    RunRecord,
    _columns,
    _encode,
    _row,
    _upsert,
    _utf8,
)
from pipeline.store.schema import open_writer
from pipeline.warehouse import utcnow


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything in it is recorded, or nothing is."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def start_run(
    con: sqlite3.Connection,
    kind: str,
    selection: str | None,
    launched_by: str | None = None,
    first_run_id: int | None = None,
) -> RunRecord:
    """A new run, status running. `first_run_id` keeps ids above those the warehouse knows."""
    run = RunRecord(
        0, kind, selection, RunStatus.RUNNING, utcnow(), pid=os.getpid(), launched_by=launched_by
    )
    names = [n for n in _columns(RunRecord) if n != "run_id"]
    with transaction(con):
        if first_run_id is not None:
            _raise_sequence(con, first_run_id)
        cursor = con.execute(
            f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [_encode(n, getattr(run, n)) for n in names],
        )
        run.run_id = int(cursor.lastrowid or 0)
    return run


def _raise_sequence(con: sqlite3.Connection, at_least: int) -> None:
    """Run ids never go back: a new history for an old warehouse continues its numbering."""
    current = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    if current is None:
        con.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", [at_least - 1])
    elif current[0] < at_least - 1:
        con.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs'", [at_least - 1])


def update_run(con: sqlite3.Connection, run: RunRecord) -> None:
    """Write every field of `run` (its plan, counts, status)."""
    with transaction(con):
        _update_run(con, run)


def _update_run(con: sqlite3.Connection, run: RunRecord) -> None:
    names = [n for n in _columns(RunRecord) if n not in ("run_id", "cancel_requested_at")]
    names.remove("cancel_requested_by")
    con.execute(
        f"UPDATE runs SET {', '.join(f'{n} = ?' for n in names)} WHERE run_id = ?",
        [_encode(n, getattr(run, n)) for n in names] + [run.run_id],
    )


def record(
    con: sqlite3.Connection,
    events: Iterable[AssetEvent] = (),
    checks: Iterable[CheckRecord] = (),
    built: Iterable[CatalogEntry] = (),
    run: RunRecord | None = None,
    partitions: PartitionFacts | None = None,
    profiles: Iterable[Profile] = (),
    check_versions: Mapping[str, str] | None = None,
) -> None:
    """Record asset events, check results, committed builds, partition facts, column profiles
    and the run in one transaction. `check_versions` (key -> code version of the definition
    that ran) is kept beside each executed check, so a check changed since reads as such."""
    events, checks = list(events), list(checks)
    subjects: list[str | None] = [f"{e.status}:{e.asset}" for e in events]
    subjects += [f"check:{c.asset}" for c in checks]
    with transaction(con):
        for subject in subjects or [None]:
            faults.pause("history-write", subject)
        con.executemany(_upsert("asset_events", AssetEvent), [_row(e) for e in events])
        con.executemany(_upsert("check_results", CheckRecord), [_row(c) for c in checks])
        if check_versions:
            con.executemany(
                "INSERT OR REPLACE INTO check_versions VALUES (?, ?, ?, ?)",
                [
                    (c.run_id, c.asset, c.check_name, check_versions[c.key])
                    for c in checks
                    if c.outcome != CheckOutcome.SKIPPED and c.key in check_versions
                ],
            )
        con.executemany(_upsert("catalog", CatalogEntry), [_row(b) for b in built])
        if partitions is not None:
            facts = partitions
            rows = [_row(e) for e in facts.events]
            con.executemany(_upsert("partition_events", PartitionEvent), rows)
            rows = [_row(c) for c in facts.checks]
            con.executemany(_upsert("partition_checks", PartitionCheck), rows)
            rows = [_row(b) for b in facts.built]
            con.executemany(_upsert("partition_catalog", PartitionEntry), rows)
        for profile in profiles:
            _write_profile(con, profile)
        if run is not None:
            _update_run(con, run)


def _write_profile(con: sqlite3.Connection, profile: Profile) -> None:
    key = [profile.run_id, profile.asset]
    con.execute(
        "INSERT OR REPLACE INTO profiles (run_id, asset, row_count, duration_s, raw_values,"
        " error) VALUES (?, ?, ?, ?, ?, ?)",
        [
            *key,
            profile.row_count,
            profile.duration_s,
            int(profile.raw_values),
            _encode("error", profile.error),
        ],
    )
    con.execute("DELETE FROM profile_columns WHERE run_id = ? AND asset = ?", key)
    con.executemany(
        "INSERT INTO profile_columns (run_id, asset, position, column_name, column_type,"
        " figures) VALUES (?, ?, ?, ?, ?, ?)",
        [
            [*key, position, _utf8(column.name), column.type, _encode("figures", column.figures)]
            for position, column in enumerate(profile.columns)
        ],
    )


@dataclass
class PartitionFacts:
    """Partition events, partition check results and committed partition builds."""

    events: list[PartitionEvent] = field(default_factory=list)
    checks: list[PartitionCheck] = field(default_factory=list)
    built: list[PartitionEntry] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.checks or self.built)

    def extend(self, other: PartitionFacts) -> None:
        self.events.extend(other.events)
        self.checks.extend(other.checks)
        self.built.extend(other.built)


def replace_catalog(con: sqlite3.Connection, entries: Iterable[CatalogEntry]) -> None:
    """The mirror becomes exactly `entries`: what the warehouse's ledger says it holds."""
    con.execute("DELETE FROM catalog")
    con.executemany(_upsert("catalog", CatalogEntry), [_row(e) for e in entries])


def request_cancel(db: str | Path, run_id: int, by: str) -> bool:
    """Ask run `run_id` to stop (the engine polls for it); False when it is not running."""
    with open_writer(db) as con, transaction(con):
        cursor = con.execute(
            "UPDATE runs SET cancel_requested_at = ?, cancel_requested_by = ?"
            " WHERE run_id = ? AND status = ? AND cancel_requested_at IS NULL",
            [utcnow().isoformat(sep=" "), by, run_id, RunStatus.RUNNING],
        )
        return cursor.rowcount == 1


def cancel_request(con: sqlite3.Connection, run_id: int) -> str | None:
    """Who asked run `run_id` to stop, or None."""
    row = con.execute(
        "SELECT cancel_requested_by FROM runs WHERE run_id = ? AND cancel_requested_at IS NOT NULL",
        [run_id],
    ).fetchone()
    return None if row is None else (row[0] or "someone")
