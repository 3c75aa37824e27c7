"""Assetboard's pipeline: declare DuckDB assets and checks, materialize them, keep the history."""

from typing import TYPE_CHECKING, Any

from pipeline.definitions import (
    AssetDef,
    CheckDef,
    CheckResult,
    Definitions,
    asset,
    asset_check,
    load_definitions,
)
from pipeline.errors import (
    AssetFailure,
    DefinitionError,
    PipelineError,
    RunInProgressError,
    SelectionError,
    WarehouseLockedError,
)
from pipeline.selection import select

if TYPE_CHECKING:
    from pipeline.engine import RunResult, materialize, run_checks

_ENGINE = ("RunResult", "materialize", "run_checks")


def __getattr__(name: str) -> Any:
    """The engine (and DuckDB behind it) is imported on first use: `python -m pipeline --help`
    and the commands that only read the history start without it."""
    if name in _ENGINE:
        from pipeline import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


__all__ = [
    "AssetDef",
    "AssetFailure",
    "CheckDef",
    "CheckResult",
    "DefinitionError",
    "Definitions",
    "PipelineError",
    "RunInProgressError",
    "RunResult",
    "SelectionError",
    "WarehouseLockedError",
    "asset",
    "asset_check",
    "load_definitions",
    "materialize",
    "run_checks",
    "select",
]
