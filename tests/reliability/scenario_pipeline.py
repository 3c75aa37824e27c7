"""The pipeline the fault-injection tests run in a real process.

RELIABILITY_VERSION goes into every row, so a test can tell a table kept from before a fault
(the previous version) from one the faulty run committed. RELIABILITY_SLOW_MARKER adds an asset
whose function, once it has written that file, runs a DuckDB query that would take minutes:
the test signals the process while DuckDB is busy, as a user pressing Ctrl-C during a big load.
RELIABILITY_EXTRA_CHECK adds a check on model, as definitions edited after a run.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline import Definitions, asset, checks

VERSION = int(os.environ.get("RELIABILITY_VERSION", "1"))
ROWS = int(os.environ.get("RELIABILITY_ROWS", "1000"))
SLOW_MARKER = os.environ.get("RELIABILITY_SLOW_MARKER")


@asset(code_version="1")
def raw(con):
    return f"SELECT range AS n, hash(range) AS h, {VERSION} AS version FROM range({ROWS})"


@asset(code_version="1")
def side(con):
    """Independent of raw: with one worker it waits in the queue while raw builds."""
    return f"SELECT {VERSION} AS version"


@asset(deps=[raw], code_version="1")
def model(con):
    return "SELECT n * 2 AS n, version FROM raw"


@asset(deps=[model], kind="view", code_version="1")
def summary(con):
    return "SELECT count(*) AS n, max(version) AS version FROM model"


def _slow(con):
    Path(SLOW_MARKER).write_text("started")
    # Minutes of work unless interrupted: a load of the kind a user stops with Ctrl-C.
    con.execute("SELECT sum(hash(a.range * b.range)) FROM range(200000) a, range(200000) b")
    return f"SELECT {VERSION} AS version"


ASSETS = [raw, side, model, summary]
if SLOW_MARKER:
    ASSETS.append(asset(_slow, name="big_load", deps=[raw], code_version="1"))

CHECKS = [checks.row_count("raw", min=1), checks.not_null("model", "n")]
if os.environ.get("RELIABILITY_EXTRA_CHECK"):  # definitions changed since a run: one check more
    CHECKS.append(checks.row_count("model", min=1))

defs = Definitions(assets=ASSETS, checks=CHECKS)

if os.environ.get("RELIABILITY_AUTOMATION"):  # the daemon's fault tests (test_daemon_faults.py)
    from pipeline.automation import FileSensor, Schedule

    defs = Definitions(
        assets=ASSETS,
        checks=[checks.row_count("raw", min=1), checks.not_null("model", "n")],
        schedules=[Schedule("hourly", cron="0 * * * *")],
        sensors=[FileSensor("requests", path=os.environ["RELIABILITY_AUTOMATION"] + "/*.json")],
    )
