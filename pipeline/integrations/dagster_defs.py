"""What Dagster loads: `dagster dev -m pipeline.integrations.dagster_defs`.

ASSETBOARD_DEFS names the definitions (a dotted module or a .py file, as `--defs`; default
the sales example) and ASSETBOARD_DB the DuckDB file (default the project's warehouse). A team
points Dagster here and writes no Dagster code.
"""

from __future__ import annotations

import os

from pipeline.definitions import load_definitions
from pipeline.integrations.dagster import to_dagster
from pipeline.warehouse import DEFAULT_DB

DEFAULT_DEFS = "pipeline.examples.sales"

defs = to_dagster(
    load_definitions(os.environ.get("ASSETBOARD_DEFS", DEFAULT_DEFS)),
    db=os.environ.get("ASSETBOARD_DB", DEFAULT_DB),
)
