"""What the history holds, as Python values, and how each value is kept in SQLite.

JSON for lists and dicts, ISO text for times (naive UTC), free text capped when stored.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pipeline.states import CheckKey
from pipeline.textsafe import cap


@dataclass
class RunRecord:
    run_id: int
    kind: str  # RunKind
    selection: str | None
    status: str  # RunStatus
    started_at: datetime
    ended_at: datetime | None = None
    pid: int | None = None
    launched_by: str | None = None  # "command line", "dashboard", ...
    planned: list[str] = field(default_factory=list)
    message: str | None = None
    assets_materialized: int = 0
    assets_failed: int = 0
    assets_skipped: int = 0
    assets_not_built: int = 0  # cancelled, interrupted or never started
    checks_planned: int = 0
    checks_passed: int = 0
    checks_warned: int = 0
    checks_failed: int = 0
    checks_errored: int = 0
    checks_not_run: int = 0
    cancel_requested_at: datetime | None = None
    cancel_requested_by: str | None = None

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def ran_checks(self) -> bool:
        """Whether any check executed in this run (passed, warned, failed or could not run):
        a run without one has nothing to show in a check report."""
        ran = self.checks_passed + self.checks_warned + self.checks_failed + self.checks_errored
        return ran > 0


@dataclass
class AssetEvent:
    run_id: int
    asset: str
    status: str  # EventStatus
    kind: str = "table"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    row_count: int | None = None
    columns: list[list[str]] = field(default_factory=list)  # [name, type]
    preview: list[dict[str, Any]] = field(default_factory=list)
    code_version: str | None = None
    error: str | None = None
    skip_reason: str | None = None  # SkipReason, when skipped
    upstream: str | None = None  # the upstream asset the skip comes from
    blocked_by: CheckKey | None = None  # the check whose failure blocked it


CHECKED_BUILD = "checked_build"  # the metadata key of CheckRecord.checked_build


@dataclass
class CheckRecord:
    run_id: int
    asset: str
    check_name: str
    outcome: str  # CheckOutcome
    severity: str = "error"
    blocking: bool = False
    description: str | None = None
    started_at: datetime | None = None
    duration_s: float | None = None
    observed_value: float | None = None
    threshold: str | None = None
    failing_count: int | None = None
    failing_sample: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    sql: str | None = None
    error: str | None = None
    skip_reason: str | None = None  # NotRunReason, when skipped

    @property
    def key(self) -> str:
        """The check's key as shown: 'asset.check'."""
        return f"{self.asset}.{self.check_name}"

    @property
    def checked_build(self) -> str | None:
        """'checked the table built in run 8; its latest build, run 9, failed': set by a
        checks-only run when the table it checked is not the asset's latest build."""
        note = self.metadata.get(CHECKED_BUILD)
        return note if isinstance(note, str) else None

    @property
    def check_key(self) -> CheckKey:
        return CheckKey(self.asset, self.check_name)


@dataclass
class CatalogEntry:
    """The build that made the table or view now in the warehouse."""

    asset: str
    run_id: int | None
    kind: str
    row_count: int | None
    columns: list[list[str]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    code_version: str | None = None
    committed_at: datetime | None = None


@dataclass
class PartitionEvent:
    """One partition's build in one run: what AssetEvent is to an unpartitioned asset."""

    run_id: int
    asset: str
    partition_key: str
    status: str  # EventStatus
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    row_count: int | None = None  # the partition's rows
    error: str | None = None
    skip_reason: str | None = None
    upstream: str | None = None
    blocked_by: CheckKey | None = None


@dataclass
class PartitionCheck:
    """One check's execution on one partition (the run's CheckRecord holds the worst)."""

    run_id: int
    asset: str
    check_name: str
    partition_key: str
    outcome: str  # CheckOutcome
    severity: str = "error"
    observed_value: float | None = None
    failing_count: int | None = None
    error: str | None = None
    skip_reason: str | None = None


@dataclass
class PartitionEntry:
    """The build that made a partition's rows now in the warehouse (mirrored from the ledger)."""

    asset: str
    partition_key: str
    run_id: int | None
    row_count: int | None
    committed_at: datetime | None = None


@dataclass
class ColumnProfile:
    """One column's figures in a profile (pipeline/profiles.py says which, per kind)."""

    name: str
    type: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Profile:
    """The column profile of one table build, computed after it committed.

    `error` says why it could not be computed (the build stands all the same); `raw_values`
    False when no value from the data was kept (top values, text min and max left out).
    """

    run_id: int
    asset: str
    row_count: int | None
    columns: list[ColumnProfile] = field(default_factory=list)
    duration_s: float | None = None
    raw_values: bool = True
    error: str | None = None


@dataclass
class Backfill:
    """Partitions of some assets to build, over as many runs as it takes (resume)."""

    backfill_id: int
    assets: list[str]
    partition_keys: list[str]
    status: str  # RunStatus of its latest run: running, success, failed, cancelled, ...
    created_at: datetime
    ended_at: datetime | None = None
    launched_by: str | None = None
    run_ids: list[int] = field(default_factory=list)
    message: str | None = None


def jsonable(value: Any) -> Any:
    """JSON's own types kept, containers converted item by item, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


_JSON_FIELDS = {
    "planned",
    "columns",
    "preview",
    "failing_sample",
    "metadata",
    "assets",
    "partition_keys",
    "run_ids",
    "figures",
}
_TIME_FIELDS = {"started_at", "ended_at", "committed_at", "cancel_requested_at", "created_at"}
_TEXT_FIELDS = {"error", "message"}  # free text from errors: capped when stored


def _columns(record_type: type) -> list[str]:
    return [f.name for f in fields(record_type)]


def _encode(name: str, value: Any) -> Any:
    if name == "blocked_by":  # a pair, kept as a pair: names may hold dots
        return None if value is None else _utf8(json.dumps([value.asset, value.name]))
    if name in _JSON_FIELDS:
        return _utf8(json.dumps(jsonable(value), ensure_ascii=False))
    if name in _TIME_FIELDS:
        return None if value is None else value.isoformat(sep=" ")
    if name in _TEXT_FIELDS and value is not None:
        return _utf8(cap(str(value)))
    if isinstance(value, bool):
        return int(value)
    return _utf8(value) if isinstance(value, str) else value


def _utf8(text: str) -> str:
    """Text SQLite can store: a lone surrogate (from a Python error or a check's metadata)
    cannot be encoded as UTF-8, so it is kept as its escape instead of failing the run."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _decode(record_type: type, names: list[str], row: tuple[Any, ...]) -> Any:
    values = dict(zip(names, row, strict=True))
    for name, value in values.items():
        if name == "blocked_by" and value is not None:
            values[name] = CheckKey(*json.loads(value))
        elif name in _JSON_FIELDS:
            values[name] = json.loads(value) if value else ({} if name == "metadata" else [])
        elif name in _TIME_FIELDS and value is not None:
            values[name] = datetime.fromisoformat(value)
        elif name == "blocking":
            values[name] = bool(value)
    return record_type(**values)


def _row(record: Any) -> list[Any]:
    return [_encode(name, getattr(record, name)) for name in _columns(type(record))]


def _select(record_type: type, table: str) -> str:
    return f"SELECT {', '.join(_columns(record_type))} FROM {table}"


def _fetch(con: sqlite3.Connection, record_type: type, sql: str, params: Any = ()) -> list[Any]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [_decode(record_type, names, row) for row in cursor.fetchall()]


def _upsert(table: str, record_type: type) -> str:
    names = _columns(record_type)
    return (
        f"INSERT OR REPLACE INTO {table} ({', '.join(names)})"
        f" VALUES ({', '.join('?' * len(names))})"
    )
