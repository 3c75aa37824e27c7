"""The only module that reads and writes the run history: runs, asset events, check results,
and a mirror of what the warehouse holds.

The history is a SQLite file beside the DuckDB file (`warehouse.duckdb.history.sqlite`). DuckDB
lets one process open a file, so while a run writes its tables no other process could read a
history kept inside it; SQLite in WAL mode lets every process read while one writes (Dagster
keeps its run storage in SQLite for the same reason). Readers open it read-only and never wait.

What is *in* the warehouse is decided by DuckDB itself: every build writes a ledger row in the
same transaction as its table (ledger.py), and `catalog` here mirrors that ledger. A process that
dies between the two is repaired from the ledger by the next one (recovery.py).
"""

from pipeline.store.partitioned import (
    get_backfill,
    latest_partition_checks,
    latest_partition_events,
    list_backfills,
    partition_catalog,
    replace_partition_catalog,
    run_partition_checks,
    run_partition_events,
    start_backfill,
    update_backfill,
)
from pipeline.store.reads import (
    DEAD_RUN,
    asset_history,
    build_durations,
    catalog,
    check_history,
    check_history_until,
    get_run,
    latest_attempts,
    latest_check_records,
    latest_check_results,
    latest_events,
    list_runs,
    run_check_results,
    run_events,
    running_runs,
)
from pipeline.store.records import (
    AssetEvent,
    Backfill,
    CatalogEntry,
    CheckRecord,
    PartitionCheck,
    PartitionEntry,
    PartitionEvent,
    RunRecord,
    jsonable,
)
from pipeline.store.schema import (
    SCHEMA_VERSION,
    history_exists,
    history_path,
    is_disk_full,
    keep_reserve,
    open_store,
    open_writer,
    release_reserve,
    set_warehouse_identity,
)
from pipeline.store.writes import (
    PartitionFacts,
    cancel_request,
    record,
    replace_catalog,
    request_cancel,
    start_run,
    transaction,
    update_run,
)

__all__ = [
    "DEAD_RUN",
    "SCHEMA_VERSION",
    "AssetEvent",
    "Backfill",
    "CatalogEntry",
    "CheckRecord",
    "PartitionCheck",
    "PartitionEntry",
    "PartitionEvent",
    "PartitionFacts",
    "RunRecord",
    "asset_history",
    "build_durations",
    "cancel_request",
    "catalog",
    "check_history",
    "check_history_until",
    "get_backfill",
    "get_run",
    "history_exists",
    "history_path",
    "is_disk_full",
    "jsonable",
    "keep_reserve",
    "latest_attempts",
    "latest_check_records",
    "latest_check_results",
    "latest_events",
    "latest_partition_checks",
    "latest_partition_events",
    "list_backfills",
    "list_runs",
    "open_store",
    "open_writer",
    "partition_catalog",
    "record",
    "release_reserve",
    "replace_catalog",
    "replace_partition_catalog",
    "request_cancel",
    "run_check_results",
    "run_events",
    "run_partition_checks",
    "run_partition_events",
    "running_runs",
    "set_warehouse_identity",
    "start_backfill",
    "start_run",
    "transaction",
    "update_backfill",
    "update_run",
]
