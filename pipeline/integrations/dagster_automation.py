"""Schedules, the file sensor and run config, as Dagster's.

A `Schedule` becomes a `dagster.ScheduleDefinition` with the same cron and timezone whose
evaluation asks `ticking` for the run a native tick would start (the partition that has just
ended, or why there is none); a `FileSensor` becomes a sensor whose cursor remembers each
file's digest, so a new or changed request file gives one run request, with the run config
the native sensor would give. An asset's `config=` dataclass becomes its Dagster config
schema; a Dagster step hands the values to `pipeline.materialize`, which validates them.
The evaluation itself is the native one (`ticking._schedule_plan`, `_scan`, `_file_plan`):
only the launching is Dagster's.
"""

# No `from __future__ import annotations`: Dagster reads the context annotation itself.

import dataclasses
import json
import typing
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
from dagster import ScheduleEvaluationContext, SensorEvaluationContext

from pipeline import run_config, selection, ticking
from pipeline.automation import FileSensor, Schedule
from pipeline.definitions import AssetDef, Definitions

SENSOR_INTERVAL_SECONDS = 30  # Dagster's default; the native daemon's interval is its own
_CONFIG_TYPES: dict[Any, Any] = {str: dg.String, int: dg.Int, float: dg.Float, bool: dg.Bool}


def config_schema(asset: AssetDef) -> dict[str, dg.Field] | None:
    """The Dagster config of an asset's `config=` dataclass: a field per field, required when
    it has no default. Dates are ISO text, as in a request file; the engine parses them."""
    if asset.config is None:
        return None
    hints = typing.get_type_hints(asset.config)
    schema = {}
    for field in dataclasses.fields(asset.config):
        hint = hints.get(field.name, Any)
        kind = dg.String if hint in (date, datetime) else _CONFIG_TYPES.get(hint, dg.Any)
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        schema[field.name] = dg.Field(kind, is_required=required)
    return schema


def dagster_run_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """{asset: {field: value}} as Dagster run config: each asset's op takes its values."""
    return {"ops": {name: {"config": values} for name, values in (config or {}).items()}}


def _target(defs: Definitions, text: str | None) -> dg.AssetSelection:
    """The assets a selection runs: those needing config it does not give are left out, as
    in a native run (run_config.buildable)."""
    names = run_config.buildable(defs, selection.select(defs, text), selection.named(text))
    return dg.AssetSelection.assets(*sorted(names))


def _status(enabled: bool) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if enabled else dg.DefaultScheduleStatus.STOPPED


def dagster_schedule(defs: Definitions, schedule: Schedule) -> dg.ScheduleDefinition:
    """The schedule on Dagster's daemon: same cron, timezone, selection and partitions."""

    @dg.schedule(
        name=schedule.name,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        target=_target(defs, schedule.select),
        description=schedule.description,
        default_status=_status(schedule.enabled),
    )
    def evaluate(context: ScheduleEvaluationContext) -> Any:
        due = context.scheduled_execution_time or schedule.latest_time(datetime.now(UTC))
        plan = ticking._schedule_plan(defs, schedule, due)
        if isinstance(plan, str):
            return dg.SkipReason(plan)
        if not plan.partition_keys:
            return dg.RunRequest(run_key=plan.run_key)
        return [
            dg.RunRequest(run_key=f"{plan.run_key} {key}", partition_key=key)
            for key in plan.partition_keys
        ]

    return evaluate


def dagster_sensor(defs: Definitions, sensor: FileSensor) -> dg.SensorDefinition:
    """The file sensor on Dagster's daemon: its cursor is {file: digest} of the files seen."""

    @dg.sensor(
        name=sensor.name,
        target=_target(defs, sensor.select),
        description=sensor.description,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus(_status(sensor.enabled).value),
    )
    def evaluate(context: SensorEvaluationContext) -> Any:
        present = {str(path) for path in ticking._matching(sensor)}
        seen = {k: v for k, v in json.loads(context.cursor or "{}").items() if k in present}
        found, matching = ticking._scan(sensor, seen)
        requests = []
        for item in found:
            seen[item.key] = item.digest  # each content once: refused or requested
            plan = ticking._file_plan(defs, sensor, item)
            if isinstance(plan, str):
                context.log.warning(f"{item.key} {plan}")
                continue
            requests.append(
                dg.RunRequest(
                    run_key=plan.run_key,
                    run_config=dagster_run_config(plan.config),
                )
            )
        context.update_cursor(json.dumps(seen, sort_keys=True))
        if not requests:
            return dg.SkipReason(f"no new or changed file in {sensor.path} ({matching} seen)")
        return requests

    return evaluate
