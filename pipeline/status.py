"""Where each asset stands: fresh, stale, never materialized, or failed, and why.

Stale means its code changed since it was built, or an upstream asset was built after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline import store
from pipeline.definitions import Definitions
from pipeline.store import AssetEvent, CheckRecord

STATUSES = ("fresh", "stale", "never", "failed")


@dataclass
class AssetStatus:
    asset: str
    status: str  # fresh | stale | never | failed
    reason: str
    last_materialization: AssetEvent | None
    last_attempt: AssetEvent | None


def asset_statuses(defs: Definitions, con: duckdb.DuckDBPyConnection) -> dict[str, AssetStatus]:
    """The status of every defined asset, from the run history in `con`."""
    built = store.latest_events(con, "materialized")
    attempts = store.latest_events(con)
    result: dict[str, AssetStatus] = {}
    for name in defs.graph.names:
        last, attempt = built.get(name), attempts.get(name)
        if attempt is not None and attempt.status == "failed":
            status, reason = "failed", attempt.error or "the last build failed"
        elif last is None:
            status, reason = "never", "never materialized"
        elif last.code_version != defs.assets[name].code_version:
            status, reason = "stale", "its code changed since it was last materialized"
        elif newer := [
            parent
            for parent in defs.graph.parents(name)
            if parent in built and _after(built[parent], last)
        ]:
            status, reason = (
                "stale",
                f"upstream {', '.join(map(repr, newer))} materialized after it",
            )
        else:
            status, reason = "fresh", "materialized and up to date"
        result[name] = AssetStatus(name, status, reason, last, attempt)
    return result


def _after(upstream: AssetEvent, event: AssetEvent) -> bool:
    return (upstream.ended_at or upstream.started_at) > (event.ended_at or event.started_at)


def check_outcomes(
    defs: Definitions, con: duckdb.DuckDBPyConnection
) -> dict[str, CheckRecord | None]:
    """The latest executed result of every defined check (None: never run), by 'asset.check'."""
    latest = store.latest_check_results(con)
    return {check.key: latest.get(check.key) for check in defs.checks}
