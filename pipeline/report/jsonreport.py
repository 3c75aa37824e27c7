"""The report as JSON: stable keys, ISO-8601 UTC timestamps, validated by report.schema.json.

Every key is always present (null when unknown), so consumers never need `.get` guesses; the
layout is versioned by `schema_version` and documented in the schema file next to this module.
Check metadata and failing rows keep their shape (objects stay objects, lists arrays); the
document is strict JSON, so NaN and infinities become the strings "NaN", "Infinity".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.report.model import AssetEntry, CheckEntry, Report
from pipeline.report.partitions import PartitionBuild, PartitionCheckResult

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def iso(value: datetime | None) -> str | None:
    """Naive UTC datetimes from the store, written with an explicit Z."""
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def json_value(value: Any) -> Any:
    """`value` as JSON data, recursively: what JSON lacks becomes the closest JSON value.

    Mappings become objects (keys as text), lists, tuples and sets arrays, dates ISO text,
    decimals numbers when a float holds them exactly (else text, never rounded), bytes text with
    \\xNN for what is not UTF-8, NaN and infinities the strings JavaScript prints, and anything
    else its str().
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, set | frozenset):
        return [json_value(item) for item in sorted(value, key=repr)]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            return _non_finite(float(value)) if not value.is_nan() else "NaN"
        number = float(value)
        return number if Decimal(repr(number)) == value else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return str(value)


def _non_finite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _number(value: float | None) -> float | None:
    """A number field of the schema: NaN and infinities, which JSON lacks, are null there
    (the check's headline still says what was observed)."""
    return value if value is None or math.isfinite(value) else None


def _check(entry: CheckEntry, failing_partitions: list[str]) -> dict[str, Any]:
    return {
        "key": entry.key,
        "asset": entry.asset,
        "name": entry.name,
        "outcome": entry.outcome,
        "severity": entry.severity,
        "blocking": entry.blocking,
        "description": entry.description,
        "headline": entry.headline,
        "started_at": iso(entry.started_at),
        "duration_s": _number(entry.duration_s),
        "observed_value": _number(entry.observed_value),
        "threshold": entry.threshold,
        "failing_count": entry.failing_count,
        "failing_sample": [json_value(dict(row)) for row in entry.failing_sample],
        "metadata": json_value(dict(entry.metadata)),
        "sql": entry.sql,
        "error": entry.error,
        "history": [
            {
                "run_id": point.run_id,
                "outcome": point.outcome,
                "started_at": iso(point.started_at),
                "observed_value": _number(point.observed_value),
            }
            for point in entry.history
        ],
        "failing_partitions": failing_partitions,
        "band": _band(entry),
    }


def _band(entry: CheckEntry) -> dict[str, Any] | None:
    """An anomaly check's value and expected band (null for other checks)."""
    band = entry.band
    if band is None:
        return None
    return {
        "label": band.label,
        "value": _number(band.value),
        "expected_low": _number(band.low),
        "expected_high": _number(band.high),
        "enough_history": band.enough_history,
        "reason": band.reason,
        "zscore": _number(band.zscore),
        "training_count": band.training_count,
        "text": band.text,
    }


def _partition(build: PartitionBuild) -> dict[str, Any]:
    return {
        "asset": build.asset,
        "partition_key": build.key,
        "status": build.status,
        "row_count": build.row_count,
        "duration_s": _number(build.duration_s),
        "error": build.error,
    }


def _partition_check(result: PartitionCheckResult) -> dict[str, Any]:
    return {
        "key": result.check_key,
        "asset": result.asset,
        "check": result.check_name,
        "partition_key": result.key,
        "outcome": result.outcome,
        "severity": result.severity,
        "headline": result.headline,
        "observed_value": _number(result.observed_value),
        "failing_count": result.failing_count,
        "error": result.error,
    }


def _asset(entry: AssetEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "group": entry.group,
        "description": entry.description,
        "status": entry.status,
        "kind": entry.kind,
        "started_at": iso(entry.started_at),
        "ended_at": iso(entry.ended_at),
        "duration_s": _number(entry.duration_s),
        "row_count": entry.row_count,
        "error": entry.error,
        "blocked_by": entry.blocked_by,
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The JSON document as Python data (what `render_json` serialises)."""
    run = report.run
    return {
        "schema_version": report.schema_version,
        "project": report.project,
        "defs_module": report.defs_module,
        "database": report.database,
        "generated_at": iso(report.generated_at),
        "run": {
            "run_id": run.run_id,
            "kind": run.kind,
            "selection": run.selection,
            "status": run.status,
            "started_at": iso(run.started_at),
            "ended_at": iso(run.ended_at),
            "duration_s": run.duration_s,
            "message": run.message,
            "planned": list(run.planned),
            "launched_by": run.launched_by,
        },
        "verdict": report.verdict.value,
        "counts": {
            "checks": report.check_counts,
            "assets": report.asset_counts,
            "partitions": report.partition_counts,
        },
        "history_length": report.history_length,
        "checks": [
            _check(entry, [c.key for c in report.failing_partitions(entry.key)])
            for entry in report.checks
        ],
        "assets": [_asset(entry) for entry in report.assets],
        "skipped_assets": [
            {"name": e.name, "reason": e.error, "blocked_by": e.blocked_by}
            for e in report.skipped_assets
        ],
        "partitions": [
            _partition(build) for group in report.partitioned_assets for build in group.builds
        ],
        "partition_checks": [_partition_check(result) for result in report.partition_checks],
    }


def render_json(report: Report) -> str:
    """Strict JSON: allow_nan=False makes anything non-finite that slipped through an error."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema every rendered report satisfies."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
