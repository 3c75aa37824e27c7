"""Run config: values an asset declared with `config=SomeDataclass` receives in
`context.config`, given per run (a sensor's request file, `--config` on the command line).

Values are validated against the dataclass by pydantic, the library Dagster's own Config uses:
a date written "2024-13-01", a missing field or an unknown one is refused before anything is
built, with every problem named. An asset whose dataclass has required fields cannot be built
without config: named in a selection it is an error; reached by `*` or `+name` it is left out of
the run, and the run says so.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.definitions import AssetDef, Definitions
from pipeline.errors import SelectionError
from pipeline.textsafe import quoted

RunConfig = Mapping[str, Mapping[str, Any]]  # asset name -> the values of its config dataclass
MAX_CONFIG_BYTES = 1_000_000


class ConfigError(SelectionError):
    """Run config that the assets' config classes refuse: a usage error (exit 2)."""


def requires_config(asset: AssetDef) -> bool:
    """True when the asset's config class has a field without a default."""
    if asset.config is None:
        return False
    return any(
        f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        for f in dataclasses.fields(asset.config)
    )


def describe_fields(asset: AssetDef) -> str:
    """'department, product, start_date, end_date': what a request must give."""
    assert asset.config is not None
    return ", ".join(f.name for f in dataclasses.fields(asset.config))


def validate(asset: AssetDef, values: Any) -> Any:
    """An instance of `asset.config` made from `values`; ConfigError listing every problem."""
    import pydantic  # only runs with config pay for importing it

    if asset.config is None:
        raise ConfigError(f"asset '{asset.name}' takes no config: remove it from the run config")
    if not isinstance(values, Mapping):
        raise ConfigError(
            f"the config of '{asset.name}' must be an object of {describe_fields(asset)},"
            f" not {type(values).__name__}"
        )
    known = {f.name for f in dataclasses.fields(asset.config)}
    problems = [f"{name}: unknown field" for name in values if name not in known]
    instance: Any = None
    try:
        instance = pydantic.TypeAdapter(asset.config).validate_python(dict(values))
    except pydantic.ValidationError as exc:
        problems += [
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {_message(e)}" for e in exc.errors()
        ]
    if problems:
        raise ConfigError(
            f"the config of '{asset.name}' is not valid: {'; '.join(problems)}"
            f" (fields: {describe_fields(asset)})"
        )
    return instance


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "missing"
    return str(error["msg"])


def resolve(defs: Definitions, config: RunConfig | None) -> dict[str, Any]:
    """Each configured asset's validated config instance; ConfigError for unknown assets,
    assets without config, and values their class refuses."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ConfigError("run config must map asset names to their config values")
    resolved = {}
    for name, values in config.items():
        asset = defs.assets.get(name)
        if asset is None:
            raise ConfigError(f"run config names unknown asset '{name}'")
        resolved[name] = validate(asset, values)
    return resolved


def plan(
    defs: Definitions, names: set[str], explicit: set[str], configs: Mapping[str, Any]
) -> tuple[set[str], list[str]]:
    """The assets to build, and those left out for want of config (reached by a pattern).

    `explicit` are the names the selection spelled out: one of those without its required
    config is a ConfigError, not a silent omission.
    """
    left_out = sorted(
        name for name in names if name not in configs and requires_config(defs.assets[name])
    )
    if named := [name for name in left_out if name in explicit]:
        asset = defs.assets[named[0]]
        raise ConfigError(
            f"asset '{asset.name}' needs run config ({describe_fields(asset)}): pass it with"
            f" --config '{{\"{asset.name}\": {{...}}}}' or a JSON file, or let a sensor request it"
        )
    unknown = [name for name in configs if name not in names]
    if unknown:
        raise ConfigError(
            f"run config is given for '{unknown[0]}', which this run does not build: select it"
        )
    return names - set(left_out), left_out


def left_out_note(defs: Definitions, left_out: list[str]) -> str | None:
    """What the command line says about the assets a run left out."""
    if not left_out:
        return None
    shown = ", ".join(f"{name} ({describe_fields(defs.assets[name])})" for name in left_out)
    return f"left out, for want of run config: {shown}"


def buildable(defs: Definitions, names: set[str], explicit: set[str]) -> set[str]:
    """`names` without the assets a run leaves out for want of config (plan(), no config)."""
    return {n for n in names if n in explicit or not requires_config(defs.assets[n])}


def bind(defs: Definitions, configs: Mapping[str, Any]) -> Definitions:
    """A shallow copy of `defs` whose configured assets carry their config for this run."""
    if not configs:
        return defs
    bound = copy.copy(defs)
    bound.assets = {
        name: dataclasses.replace(asset, run_config=configs[name]) if name in configs else asset
        for name, asset in defs.assets.items()
    }
    return bound


def parse_text(text: str) -> dict[str, Any]:
    """`--config`: a JSON object, or the path of a file holding one."""
    source = "--config"
    stripped = text.strip()
    if not stripped.startswith("{"):
        path = Path(text)
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                raise ConfigError(f"{path} is over {MAX_CONFIG_BYTES:,} bytes: not run config")
            stripped = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"--config {quoted(text)} is neither a JSON object nor a readable file: {exc}"
            ) from None
        source = str(path)
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f'{source} must be a JSON object: {{"asset": {{"field": value}}}}')
    return value


def jsonable_config(config: Any) -> Any:
    """A config instance as JSON-ready values (dates as ISO text), to record with the run."""
    import pydantic

    return pydantic.TypeAdapter(type(config)).dump_python(config, mode="json")
