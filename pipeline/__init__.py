"""Assetboard's pipeline: declare DuckDB assets and checks, materialize them, keep the history."""

from typing import TYPE_CHECKING, Any

from pipeline.automation import FileSensor, Schedule
from pipeline.definitions import (
    AssetCheckSpec,
    AssetContext,
    AssetDef,
    CheckDef,
    CheckResult,
    Definitions,
    asset,
    asset_check,
    load_definitions,
    multi_asset_check,
)
from pipeline.errors import (
    AssetFailure,
    DefinitionError,
    PipelineError,
    RunInProgressError,
    SelectionError,
    WarehouseLockedError,
)
from pipeline.partitions import (
    BackfillPolicy,
    DailyPartitions,
    MonthlyPartitions,
    PartitionError,
    StaticPartitions,
    TimeWindow,
    WeeklyPartitions,
)
from pipeline.selection import select

if TYPE_CHECKING:
    from pipeline.engine import RunResult, materialize, run_checks
    from pipeline.partition_runs import PartitionRequest

_ENGINE = ("RunResult", "materialize", "run_checks", "PartitionRequest")


def __getattr__(name: str) -> Any:
    """The engine (and DuckDB behind it) is imported on first use: `python -m pipeline --help`
    and the commands that only read the history start without it."""
    if name in _ENGINE:
        from pipeline import engine, partition_runs

        return getattr(partition_runs if name == "PartitionRequest" else engine, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


__all__ = [
    "AssetCheckSpec",
    "AssetContext",
    "AssetDef",
    "AssetFailure",
    "BackfillPolicy",
    "CheckDef",
    "CheckResult",
    "DailyPartitions",
    "DefinitionError",
    "Definitions",
    "FileSensor",
    "MonthlyPartitions",
    "PartitionError",
    "PartitionRequest",
    "PipelineError",
    "RunInProgressError",
    "RunResult",
    "Schedule",
    "SelectionError",
    "StaticPartitions",
    "TimeWindow",
    "WarehouseLockedError",
    "WeeklyPartitions",
    "asset",
    "asset_check",
    "load_definitions",
    "materialize",
    "multi_asset_check",
    "run_checks",
    "select",
]
