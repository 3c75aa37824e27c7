"""Runs of an asset that takes config, started from the dashboard: its fields, and a run with
the values typed in, validated as the command line's `--config` is (pipeline/run_config.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dashboard import runs
from dashboard.settings import Settings
from pipeline import run_config
from pipeline.definitions import Definitions
from pipeline.selection import quote_name


@dataclass(frozen=True)
class ConfigField:
    name: str
    type_name: str  # "str", "date", "int | None": what the value must read as
    default: str  # the default as text, "" when the field is required
    required: bool


def config_fields(defs: Definitions, asset: str) -> list[ConfigField]:
    """The fields of `asset`'s config class, in their declared order; [] when it takes none."""
    config = defs.assets[asset].config
    if config is None:
        return []
    found = []
    for field in dataclasses.fields(config):
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        default = "" if required or field.default is dataclasses.MISSING else str(field.default)
        kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
        found.append(ConfigField(field.name, str(kind), default, required))
    return found


def start_with_config(
    cfg: Settings, defs: Definitions, asset: str, typed: dict[str, str]
) -> runs.LiveRun:
    """Materialize `asset` with the typed values (an empty optional field keeps its default).

    ConfigError (a SelectionError) names every value its class refuses; nothing starts then.
    """
    values = {name: text.strip() for name, text in typed.items() if text.strip()}
    run_config.resolve(defs, {asset: values})  # refused here, before a thread starts
    return runs.start(
        defs,
        cfg.db,
        quote_name(asset),
        label=f"Materialize {asset} with config",
        planned=[asset],
        run_config={asset: values},
    )
