"""The same definitions on Dagster: `to_dagster(defs, db=...)` gives a `dagster.Definitions`.

Nothing is written twice. Each Dagster asset step calls `pipeline.materialize` on that one
asset (and the partitions Dagster asked for): the same asset function, the same atomic build,
the same checks and the same run history the dashboard reads. Dagster sees the outcome as a
materialization with its row count and columns, and one check result per check. A check that
reads other assets (`additional_deps`) becomes an asset check of its own that waits for them,
as the native engine defers it; it calls `pipeline.run_checks`.

DuckDB lets one process write a file, and Dagster's default executor runs each step in a
process of its own: steps that touch the file carry one tag, limited to one at a time by the
executor given to the Definitions, and a step finding the file held anyway (another Dagster
run, a native run, the dashboard's repair) asks Dagster to retry it (README, "Moving to
Dagster").
"""

# No `from __future__ import annotations`: Dagster reads the context annotation itself.

import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext, AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipeline.definitions import AssetDef, CheckDef, Definitions, MultiCheckDef
from pipeline.engine import RunResult, materialize, run_checks
from pipeline.errors import DefinitionError, RunInProgressError, WarehouseLockedError
from pipeline.integrations.dagster_automation import (
    config_schema,
    dagster_schedule,
    dagster_sensor,
)
from pipeline.partition_runs import PartitionRequest
from pipeline.partitions import (
    BackfillPolicy,
    DailyPartitions,
    MonthlyPartitions,
    Partitions,
    StaticPartitions,
    TimePartitions,
    WeeklyPartitions,
)
from pipeline.states import CheckOutcome, EventStatus
from pipeline.store import CheckRecord, jsonable
from pipeline.warehouse import DEFAULT_DB

# Every step that opens the DuckDB file carries this tag; the executor runs one at a time.
WRITER_TAG = {"assetboard/duckdb": "writer"}
# Pool name for run-spanning limits: `concurrency: pools: {default_limit: 1}` in dagster.yaml.
POOL = "assetboard_duckdb"
LOCK_RETRIES = 60  # a step finding the file held tries again this many times ...
LOCK_RETRY_SECONDS = 2.0  # ... this far apart
# The executor of every job of the Definitions: Dagster's default (a process per step), with
# the DuckDB steps one at a time. Steps touching no DuckDB file would still run side by side.
# Each step's process is forked from a server that imported Dagster and the engine once:
# started afresh (Dagster's default), each paid about 1.5 s more (README, "Moving to Dagster").
EXECUTOR = dg.multiprocess_executor.configured(
    {
        "tag_concurrency_limits": [{"key": "assetboard/duckdb", "value": "writer", "limit": 1}],
        "start_method": {"forkserver": {"preload_modules": ["dagster", __name__]}},
    },
    name="assetboard_multiprocess",
)


def to_dagster(
    defs: Definitions,
    db: str | Path = DEFAULT_DB,
    *,
    executor: dg.ExecutorDefinition | None = EXECUTOR,
) -> dg.Definitions:
    """Dagster Definitions running `defs` on the DuckDB file `db`: one asset per asset (same
    key, group, deps, description, tags, code version, partitions, backfill policy, config),
    one asset check per check, its schedules and sensors, and a `DuckDBResource` naming the
    file."""
    with warnings.catch_warnings():  # backfill_policy= is "beta" in Dagster 1.13: it works
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = [_dagster_asset(defs, asset) for asset in defs.assets.values()]
        deferred = [_dagster_check(defs, check) for check in defs.checks if _on_its_own(check)]
        deferred += [_dagster_multi_check(defs, multi) for multi in _spanning(defs)]
    return dg.Definitions(
        assets=assets,
        asset_checks=deferred,
        schedules=[dagster_schedule(defs, schedule) for schedule in defs.schedules],
        sensors=[dagster_sensor(defs, sensor) for sensor in defs.sensors],
        resources={"duckdb": DuckDBResource(database=str(db))},
        executor=executor,
    )


_TIME_PARTITIONS: dict[type, Any] = {
    MonthlyPartitions: dg.MonthlyPartitionsDefinition,
    WeeklyPartitions: dg.WeeklyPartitionsDefinition,
    DailyPartitions: dg.DailyPartitionsDefinition,
}


def dagster_partitions(partitions: Partitions | None) -> dg.PartitionsDefinition | None:
    """Dagster's definition of the same partition keys."""
    if partitions is None:
        return None
    if isinstance(partitions, StaticPartitions):
        return dg.StaticPartitionsDefinition(partitions.get_partition_keys())
    kind = _TIME_PARTITIONS.get(type(partitions))
    if kind is None or not isinstance(partitions, TimePartitions):
        raise DefinitionError(
            [f"{partitions!r} has no Dagster counterpart: use Monthly, Weekly, Daily or Static"]
        )
    end = None if partitions.end is None else partitions.end.isoformat()
    return kind(
        start_date=partitions.start.isoformat(), end_date=end, end_offset=partitions.end_offset
    )


def dagster_backfill_policy(policy: BackfillPolicy | None) -> dg.BackfillPolicy | None:
    """None stays None: one partition per run in both engines."""
    if policy is None:
        return None
    if policy.max_partitions_per_run is None:
        return dg.BackfillPolicy.single_run()
    return dg.BackfillPolicy.multi_run(policy.max_partitions_per_run)


def _deferred(check: CheckDef) -> bool:
    """A check reading other assets runs on its own, once they are built (as natively); so
    do the checks of a multi-asset check on several assets, together."""
    return bool(check.additional_deps) or _spans_assets(check)


def _on_its_own(check: CheckDef) -> bool:
    return _deferred(check) and not _spans_assets(check)


def _spans_assets(check: CheckDef) -> bool:
    return check.multi is not None and len({c.asset for c in check.multi.checks}) > 1


def _spanning(defs: Definitions) -> list[MultiCheckDef]:
    """Each multi-asset check on several assets, once, in the order first seen."""
    found = {id(c.multi): c.multi for c in defs.checks if c.multi and _spans_assets(c)}
    return list(found.values())


def _check_spec(check: CheckDef) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=check.name,
        asset=check.asset,
        description=check.description,
        blocking=check.blocking,
        additional_deps=list(check.additional_deps),
        metadata={"severity": check.severity},
    )


def _dagster_asset(defs: Definitions, asset: AssetDef) -> dg.AssetsDefinition:
    own = [check for check in defs.checks_for(asset.name) if not _deferred(check)]
    step_defs = _step_definitions(defs, asset, own)

    @dg.asset(
        name=asset.name,
        deps=list(asset.deps),
        group_name=asset.group,
        description=asset.description,
        tags=dict(asset.tags),
        kinds={"duckdb", asset.kind},
        code_version=asset.code_version,
        partitions_def=dagster_partitions(asset.partitions),
        backfill_policy=dagster_backfill_policy(asset.backfill_policy),
        check_specs=[_check_spec(check) for check in own],
        config_schema=config_schema(asset),
        op_tags=WRITER_TAG,
        pool=POOL,
    )
    def build(
        context: AssetExecutionContext, duckdb: DuckDBResource
    ) -> Iterator[dg.MaterializeResult]:
        request = _partition_request(context) if asset.partitions is not None else None
        values = context.op_execution_context.op_config if asset.config is not None else None
        result = _locked(
            lambda db: materialize(
                step_defs,
                [asset.name],
                db,
                max_workers=1,
                launched_by=f"dagster run {context.run.run_id}",
                partitions=request,
                run_config={asset.name: dict(values)} if values else None,
            ),
            duckdb,
            context.log,
        )
        event = result.assets[asset.name]
        if event.status != EventStatus.MATERIALIZED:
            raise dg.Failure(
                description=event.error or f"asset '{asset.name}' was not built",
                metadata={"assetboard_run_id": result.run_id, "status": str(event.status)},
            )
        selected = context.selected_asset_check_keys
        yield dg.MaterializeResult(
            metadata=_build_metadata(result, asset.name),
            check_results=[
                _check_result(record)
                for record in result.checks
                if record.outcome != CheckOutcome.SKIPPED  # not run: Dagster shows it so
                and dg.AssetCheckKey(dg.AssetKey(record.asset), record.check_name) in selected
            ],
        )

    return build


def _dagster_check(defs: Definitions, check: CheckDef) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=check.asset,
        name=check.name,
        description=check.description,
        blocking=check.blocking,
        additional_deps=list(check.additional_deps),
        metadata={"severity": check.severity},
        op_tags=WRITER_TAG,
        pool=POOL,
    )
    def run(context: AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        result = _locked(
            lambda db: run_checks(
                defs,
                db=db,
                checks=[check.check_key],
                launched_by=f"dagster run {context.run.run_id}",
            ),
            duckdb,
            context.log,
        )
        (record,) = result.checks
        return _check_result(record)

    return run


def _dagster_multi_check(defs: Definitions, multi: MultiCheckDef) -> dg.AssetChecksDefinition:
    """One Dagster op for a multi-asset check on several assets: it waits for all of them and
    calls the function once (the native check-only run does), as Dagster runs its own."""
    specs = [_check_spec(check) for check in multi.checks]

    @dg.multi_asset_check(specs=specs, name=multi.name, op_tags=WRITER_TAG, pool=POOL)
    def run(context: AssetCheckExecutionContext, duckdb: DuckDBResource) -> Iterator[Any]:
        result = _locked(
            lambda db: run_checks(
                defs,
                db=db,
                checks=[check.check_key for check in multi.checks],
                launched_by=f"dagster run {context.run.run_id}",
            ),
            duckdb,
            context.log,
        )
        for record in result.checks:
            yield _check_result(record)

    return run


def _step_definitions(defs: Definitions, asset: AssetDef, own: list[CheckDef]) -> Definitions:
    """What one Dagster step materializes: the asset and the checks it runs right after its
    build. Dagster orders the steps, so the asset stands alone (its deps are Dagster's)."""
    dropped = [check for check in defs.checks_for(asset.name) if check not in own]
    # A check keeping no failing rows keeps the asset's values out of its profile too
    # (profiles.keeps_raw_values); the step cannot see a dropped one, so it records none.
    keeps_values = all(check.sample_size != 0 for check in dropped)
    alone = replace(asset, deps=(), profile=asset.profile and keeps_values)
    return Definitions([alone], own, failing_sample_size=defs.failing_sample_size)


def _partition_request(context: AssetExecutionContext) -> PartitionRequest:
    """The partitions Dagster asked for: one key, or a range (a single-run backfill)."""
    if context.has_partition_key_range:
        keys = context.partition_key_range
        if keys.start != keys.end:
            return PartitionRequest(first=keys.start, last=keys.end)
    if context.has_partition_key:
        return PartitionRequest(keys=[context.partition_key])
    raise dg.Failure(
        description="a partitioned asset needs a partition: pass --partition KEY or"
        " --partition-range FIRST...LAST (or pick partitions in the UI)"
    )


def _locked(
    call: Callable[[str], RunResult], resource: DuckDBResource, log: logging.Logger
) -> RunResult:
    """`call(db)` on the resource's file; a retry later when another process holds it."""
    database = resource.database
    try:
        return call(database)
    except (RunInProgressError, WarehouseLockedError) as exc:
        log.info(f"{database} is busy ({exc}); trying again in {LOCK_RETRY_SECONDS}s")
        raise dg.RetryRequested(
            max_retries=LOCK_RETRIES, seconds_to_wait=LOCK_RETRY_SECONDS
        ) from exc


def _build_metadata(result: RunResult, name: str) -> dict[str, Any]:
    event = result.assets[name]
    metadata: dict[str, Any] = {
        "assetboard_run_id": result.run_id,
        "dagster/table_name": name,
    }
    if event.row_count is not None:
        metadata["dagster/row_count"] = event.row_count
    if event.columns:
        metadata["dagster/column_schema"] = dg.TableSchema(
            columns=[dg.TableColumn(column, kind) for column, kind in event.columns]
        )
    return metadata


SEVERITIES = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def _check_result(record: CheckRecord) -> dg.AssetCheckResult:
    """A recorded outcome as Dagster's: passed, or failed with the recorded severity; a check
    that raised fails as an ERROR whatever its severity, as it fails the native run."""
    outcome = CheckOutcome(record.outcome)
    severity = "error" if outcome == CheckOutcome.ERROR else record.severity
    metadata: dict[str, Any] = {"outcome": str(outcome)}
    for field in ("observed_value", "threshold", "failing_count", "error", "sql"):
        if (value := getattr(record, field)) is not None:
            metadata[field] = _metadata_value(value)
    if record.failing_sample:
        metadata["failing_sample"] = _metadata_value(record.failing_sample)
    for key, value in record.metadata.items():
        metadata.setdefault(key, _metadata_value(value))
    return dg.AssetCheckResult(
        asset_key=record.asset,
        check_name=record.check_name,
        passed=outcome == CheckOutcome.PASSED,
        severity=SEVERITIES[severity],
        metadata=metadata,
    )


def _metadata_value(value: Any) -> Any:
    """A value Dagster's metadata takes: JSON's scalars as they are, the rest as JSON."""
    value = jsonable(value)
    if value is None:
        return dg.MetadataValue.null()
    if isinstance(value, str):
        return str(value)  # a StrEnum as its plain text
    if isinstance(value, bool | int | float):
        return value
    return dg.MetadataValue.json(value)
