"""Which definitions module and which DuckDB file the dashboard uses.

Stable API for every page (others build on it, keep it):
    settings.current() -> Settings(defs: str, db: Path, read_wait_seconds: float)

Sources, strongest first:
    1. arguments after `--`:   streamlit run dashboard/app.py -- --defs M --db P
    2. environment variables:  ASSETBOARD_DEFS, ASSETBOARD_DB
    3. defaults:               pipeline.examples.sales and <repo>/data/warehouse.duckdb

`current()` is read on every rerun (it is cheap), so tests can set the environment variables
with monkeypatch and need no cache clearing. A relative --db/ASSETBOARD_DB is taken relative to
the current directory, like any command-line path; the default is anchored at the repo root so
`make run` works from anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEFS = "pipeline.examples.sales"
DEFAULT_DB = ROOT / "data" / "warehouse.duckdb"
ENV_DEFS = "ASSETBOARD_DEFS"
ENV_DB = "ASSETBOARD_DB"
# Page reads wait briefly for a file held by another process, then show a message instead.
READ_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class Settings:
    defs: str  # dotted module ("pipeline.examples.sales") or a path to a .py file
    db: Path  # the DuckDB file holding the assets and the run history
    read_wait_seconds: float = READ_WAIT_SECONDS


def _parser() -> argparse.ArgumentParser:
    # allow_abbrev=False: never mistake another program's flag (pytest's) for ours.
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--defs", default=None)
    parser.add_argument("--db", default=None)
    return parser


def from_sources(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> Settings:
    """Settings from explicit argv and environment; `current()` passes the real ones."""
    args, _unknown = _parser().parse_known_args(argv)
    defs = args.defs or environ.get(ENV_DEFS) or DEFAULT_DEFS
    db_text = args.db or environ.get(ENV_DB)
    db = Path(db_text).expanduser().resolve() if db_text else DEFAULT_DB
    return Settings(defs=defs, db=db)


def current() -> Settings:
    """The settings of this dashboard process (arguments after `--`, then env, then defaults)."""
    return from_sources(sys.argv[1:], os.environ)
