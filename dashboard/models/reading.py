"""The one way pages read: the history (never waits on a run) and the definitions.

Every reader opens the history for one short unit of work and returns ready-to-show values;
a SQLite error becomes a PipelineError whose message says what to do (pages show it with
dashboard.ui.guard).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from dashboard.settings import Settings
from pipeline import store
from pipeline.definitions import Definitions, load_definitions
from pipeline.errors import PipelineError
from pipeline.status import AssetStatus, asset_statuses


@contextmanager
def history(cfg: Settings) -> Iterator[sqlite3.Connection]:
    """The run history of the configured warehouse, read-only."""
    try:
        with store.open_store(cfg.db) as con:
            yield con
    except sqlite3.Error as exc:
        raise PipelineError(
            f"cannot read the run history of {cfg.db}: {exc}. If this is not an Assetboard"
            " warehouse, point ASSETBOARD_DB (or --db) at another file."
        ) from exc


def load_defs(cfg: Settings) -> Definitions:
    """The Definitions named by the settings (DefinitionError says what is wrong)."""
    return load_definitions(cfg.defs)


def statuses(cfg: Settings, defs: Definitions) -> dict[str, AssetStatus]:
    """The health of every asset now."""
    with history(cfg) as con:
        return asset_statuses(defs, con)
