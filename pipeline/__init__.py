"""Assetboard's pipeline: declare DuckDB assets and checks, materialize them, keep the history."""

from pipeline.definitions import (
    AssetDef,
    CheckDef,
    CheckResult,
    Definitions,
    asset,
    asset_check,
    load_definitions,
)
from pipeline.engine import RunResult, materialize, run_checks
from pipeline.errors import (
    AssetFailure,
    DefinitionError,
    PipelineError,
    RunInProgressError,
    SelectionError,
    WarehouseLockedError,
)
from pipeline.selection import select

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
