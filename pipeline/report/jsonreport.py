"""The report as JSON: stable keys, ISO-8601 UTC timestamps, validated by report.schema.json.

Every key is always present (null when unknown), so consumers never need `.get` guesses; the
layout is versioned by `schema_version` and documented in the schema file next to this module.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.report.model import AssetEntry, CheckEntry, Report
from pipeline.store import jsonable

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def iso(value: datetime | None) -> str | None:
    """Naive UTC datetimes from the store, written with an explicit Z."""
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def _check(entry: CheckEntry) -> dict[str, Any]:
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
        "duration_s": entry.duration_s,
        "observed_value": entry.observed_value,
        "threshold": entry.threshold,
        "failing_count": entry.failing_count,
        "failing_sample": [
            {k: jsonable(v) for k, v in row.items()} for row in entry.failing_sample
        ],
        "metadata": {str(k): jsonable(v) for k, v in entry.metadata.items()},
        "sql": entry.sql,
        "error": entry.error,
        "history": [
            {
                "run_id": point.run_id,
                "outcome": point.outcome,
                "started_at": iso(point.started_at),
                "observed_value": point.observed_value,
            }
            for point in entry.history
        ],
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
        "duration_s": entry.duration_s,
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
        },
        "counts": {"checks": report.check_counts, "assets": report.asset_counts},
        "history_length": report.history_length,
        "checks": [_check(entry) for entry in report.checks],
        "assets": [_asset(entry) for entry in report.assets],
        "skipped_assets": [
            {"name": e.name, "reason": e.error, "blocked_by": e.blocked_by}
            for e in report.skipped_assets
        ],
    }


def render_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema every rendered report satisfies."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
