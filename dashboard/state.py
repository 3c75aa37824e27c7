"""Every query-parameter and session-state key of the dashboard, in one place.

Pages import these names instead of repeating strings, so a renamed key breaks loudly.
Widget keys double as the handles tests use (`at.button(key=state.BTN_ALL)`).
"""

from __future__ import annotations

import hashlib
import re

# --- query parameters (shareable links) -----------------------------------------------------
QP_ASSET = "asset"  # graph page: the selected asset, ?asset=joined_data
QP_RUN = "run"  # runs page: the run shown in detail, ?run=3
QP_CHECK = "check"  # checks page: one check highlighted, ?check=joined_data.missing_dimension_check

# --- materialize toolbar (shared by the Materialize and graph pages) ------------------------
# Each toolbar instance prefixes its widget keys ("toolbar" or "graph") so both can coexist.
BTN_ALL = "materialize_all"
BTN_SELECTED = "materialize_selected"
BTN_DOWNSTREAM = "materialize_downstream"
BTN_UPSTREAM = "materialize_upstream"
BTN_STALE = "materialize_stale"
BTN_CHECKS = "run_checks"
BTN_FREE = "materialize_free"
INPUT_FREE_SELECTION = "free_selection"
SELECT_TOOLBAR_ASSET = "toolbar_asset"


def toolbar_key(prefix: str, key: str) -> str:
    """The widget key of one toolbar control, e.g. toolbar_key("graph", BTN_ALL)."""
    return f"{prefix}:{key}"


# --- every page (dashboard/ui.py) -----------------------------------------------------------
BTN_RETRY = "retry_after_lock"  # shown when another process holds the database file
BTN_CANCEL_RUN = "cancel_run"  # in the live panel of a run in progress
SS_WATCHING_RUN = "watching_run"  # set while this session shows an active run's progress
SS_SEEN_RUN = "seen_run"  # the run this session started or watched (its outcome is shown)
SS_DRAWN_LAST = "drawn_last"  # (placeholder, draw) pairs filled once the page is drawn


# --- graph page -----------------------------------------------------------------------------
QP_OPEN = "open"  # graph page: the group opened in a large graph, ?open=ingestion
GRAPH_COMPONENT = "asset_graph"  # the graph component; a click arrives as its trigger value
GRAPH_COLUMNS = "graph_columns"  # the container of the graph and details columns (page CSS)
BTN_GRAPH_GROUPS = "graph_all_groups"  # back to one box per group
BTN_GRAPH_OPEN_GROUP = "graph_open_group"  # open the selected asset's group
# Bound to the URL (bind="query-params"): the key is the query parameter's name. Search and
# selection use the catalog's words, so ?search= and ?select= mean the same on both pages.
GRAPH_SEARCH = "search"
GRAPH_SELECTION = "select"
GRAPH_DEPTH = "depth"  # steps up and down around the selected asset
GRAPH_FULL = "full"  # draw every asset, however many
# (The select box beside the graph has no key on purpose: its index follows ?asset=.)

# --- partitions of the selected asset (dashboard/partition_panel.py) -------------------------
QP_PARTITION = "partition"  # graph page: the partition shown, ?asset=X&partition=2024-03-01
# The strip is one pills widget per row (a year of months): keys "partition_strip-<asset
# digest>-<row>", safe in the CSS class Streamlit derives from a key.
PARTITION_STRIP = "partition_strip"
SELECT_BACKFILL_FROM = "backfill_from"  # + "-<asset digest>"
SELECT_BACKFILL_TO = "backfill_to"
BTN_REBUILD_PARTITION = "rebuild_partition"

# --- column profile of the selected asset (dashboard/asset_panel.py) ---------------------------
SELECT_PROFILE_COLUMN = "profile_column"  # + "-<asset digest>": the column shown
SELECT_PROFILE_FIGURE = "profile_figure"  # + "-<asset digest>": the figure charted by run
BTN_BACKFILL_RANGE = "backfill_range"
BTN_BACKFILL_MISSING = "backfill_missing"
BTN_BACKFILL_FAILED = "backfill_failed"


def partition_key(prefix: str, digest: str, *more: object) -> str:
    """A widget key of one asset's partition controls: letters, digits and dashes only."""
    return "-".join([prefix, digest, *map(str, more)])


# --- catalog page ---------------------------------------------------------------------------
# Bound to the URL (bind="query-params"): the key is the query parameter's name.
CATALOG_SEARCH = "search"
CATALOG_SELECTION = "select"
CATALOG_GROUPS = "group"
CATALOG_KINDS = "kind"
CATALOG_HEALTH = "health"

# --- runs page ------------------------------------------------------------------------------
SELECT_RUN = "runs_selected_run"
BTN_OPEN_RUN = "runs_open_run"  # + "-<backfill id>-<run id>": show that run below
BTN_RESUME_BACKFILL = "resume_backfill"  # + "-<backfill id>"
BTN_CANCEL_BACKFILL = "cancel_backfill"  # + "-<backfill id>": cancels its active run

# --- automation page ------------------------------------------------------------------------
# Per schedule or sensor: automation_key(prefix, name), e.g. "automation_on-weekly_update_schedule".
TOGGLE_AUTOMATION = "automation_on"  # its on/off switch, kept in the store
BTN_TEST_AUTOMATION = "automation_test"  # evaluate it now without launching
BTN_DISMISS_TEST = "automation_dismiss_test"  # hide the Test button's answer
SS_DRY_RUNS = "automation_dry_runs"  # name -> the Test button's last answer (or its error)
SS_AUTOMATION_ERROR = "automation_error"  # why the last switch could not be saved


def automation_key(prefix: str, name: str) -> str:
    """A widget key of one schedule's or sensor's controls; a name that is not letters,
    digits, `_` and `-` (the key becomes a CSS class) is replaced by its digest."""
    if re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return f"{prefix}-{name}"
    return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


# --- checks page ----------------------------------------------------------------------------
SELECT_CHECK = "checks_selected_check"
BTN_RERUN_CHECK = "checks_rerun_one"

# --- sales page (owned by the sales page's engineer: add its keys here) ---------------------
# Bound to the URL (bind="query-params"): a filtered Sales page can be shared.
SALES_DATE_RANGE = "dates"  # (start, end) date_input
SALES_DATE_SPAN = "sales_date_span"  # the data's (first, last) day the date filter last offered
SALES_CATEGORIES = "category"  # multiselect; empty means every category
SALES_DEPARTMENTS = "department"  # multiselect; empty means every department
BTN_SALES_MATERIALIZE = "sales_materialize"  # shown while joined_data was never materialized
# --- report page (owned by the report page's engineer: add its keys here) -------------------
QP_REPORT_RUN = "run"  # report page: the run reported, ?run=7 (the same word as the runs page)
SELECT_REPORT_RUN = "report_selected_run"


# --- the run config form of an asset that takes config (dashboard/config_form.py) -----------
FORM_RUN_CONFIG = "run_config_form"


def config_field_key(asset: str, field: str) -> str:
    """The text input of one config field; hashed, so any asset name makes a valid key."""
    digest = hashlib.sha256(f"{asset}\0{field}".encode()).hexdigest()[:16]
    return f"run_config:{digest}"
