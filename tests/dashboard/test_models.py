"""The pages' view models and settings: what each page shows, without Streamlit."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dashboard_env import (
    defs_file,
    held_by_other_process,
    hold_database,
    sample_data,
    settings_for,
)

from dashboard import formatting, settings
from dashboard.models import asset, catalog, checks, graph, overview, reading, runs, toolbar, words
from dashboard.settings import Settings
from pipeline import CheckResult, Definitions, asset_check, store
from pipeline import checks as builtin
from pipeline.checks_anomaly import figure
from pipeline.definitions import asset as declare
from pipeline.definitions import load_definitions
from pipeline.engine import materialize
from pipeline.errors import DefinitionError, PipelineError, SelectionError
from pipeline.partition_runs import PartitionRequest
from pipeline.states import AssetHealth, CheckKey, CheckOutcome
from pipeline.store import CheckRecord


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return sample_data(tmp_path / "data")


@pytest.fixture
def cfg(tmp_path: Path, data_dir: Path, db_path: Path) -> Settings:
    return settings_for(defs_file(tmp_path, data_dir), db_path)


@pytest.fixture
def defs(cfg: Settings) -> Definitions:
    return reading.load_defs(cfg)


def _health(cfg: Settings, defs: Definitions) -> dict[str, AssetHealth]:
    return {name: state.health for name, state in reading.statuses(cfg, defs).items()}


# --- settings -------------------------------------------------------------------------------------


def test_settings_default_to_the_sales_example_and_the_repo_warehouse() -> None:
    current = settings.from_sources([], {})
    assert current.defs == "pipeline.examples.sales"
    assert current.db == settings.ROOT / "data" / "warehouse.duckdb"


def test_settings_arguments_after_dashdash_beat_the_environment(tmp_path: Path) -> None:
    env = {"ASSETBOARD_DEFS": "env.module", "ASSETBOARD_DB": str(tmp_path / "env.duckdb")}
    from_env = settings.from_sources([], env)
    assert (from_env.defs, from_env.db) == ("env.module", tmp_path / "env.duckdb")
    argv = ["--defs", "arg.module", "--db", str(tmp_path / "arg.duckdb")]
    from_args = settings.from_sources(argv, env)
    assert (from_args.defs, from_args.db) == ("arg.module", tmp_path / "arg.duckdb")


def test_settings_ignore_other_programs_flags_and_resolve_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    current = settings.from_sources(["-q", "--durations=5", "--db", "w.duckdb"], {})
    assert current.db == tmp_path / "w.duckdb"
    assert current.defs == "pipeline.examples.sales"


def test_current_reads_the_environment_on_every_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["dashboard/app.py"])
    monkeypatch.setenv("ASSETBOARD_DB", str(tmp_path / "one.duckdb"))
    assert settings.current().db == tmp_path / "one.duckdb"
    monkeypatch.setenv("ASSETBOARD_DB", str(tmp_path / "two.duckdb"))
    assert settings.current().db == tmp_path / "two.duckdb"


# --- health, everywhere the same ------------------------------------------------------------------


def test_a_failed_blocking_check_blocks_the_downstream_and_degrades_its_asset(
    cfg: Settings, defs: Definitions, data_dir: Path
) -> None:
    assert materialize(defs, db=cfg.db).ok
    products = data_dir / "products.csv"
    lines = products.read_text().splitlines()
    products.write_text("\n".join([*lines, lines[1]]) + "\n")  # a duplicate product_id
    result = materialize(defs, db=cfg.db)

    health = _health(cfg, defs)
    assert health["products"] == AssetHealth.DEGRADED  # built; its ERROR check fails
    assert health["joined_data"] == AssetHealth.BLOCKED
    state = reading.statuses(cfg, defs)["joined_data"]
    assert state.blocked_by == CheckKey("products", "product_id_unique")
    assert state.reason == (
        f"not built in run {result.run_id}: blocked by failed check 'products.product_id_unique'"
    )
    summary = overview.overview(cfg, defs)
    assert summary.health_counts[AssetHealth.BLOCKED] == 3  # joined_data and what reads it
    assert summary.health_counts[AssetHealth.DEGRADED] == 1
    assert summary.attention[0].state in (AssetHealth.BLOCKED, CheckOutcome.FAILED)
    # The run says how many checks did not run, never "all checks passed".
    assert words.run_summary(summary.last_run) == (
        "Materialize all assets · 3 built, 3 skipped · checks: 8 passed, 1 failed, 6 not run"
    )
    node = next(n for n in graph.graph_model(cfg, defs).nodes if n.name == "joined_data")
    assert node.health == AssetHealth.BLOCKED


def test_a_failing_error_check_degrades_and_a_warning_warns(tmp_path: Path, db_path: Path) -> None:
    @asset_check(asset="loud", severity="warn")
    def grumbles(con):
        return CheckResult(passed=False)

    model = Definitions(
        assets=[
            declare(lambda con: "SELECT 1 AS n", name="quiet"),
            declare(lambda con: "SELECT NULL AS n", name="broken"),
            declare(lambda con: "SELECT 1 AS n", name="loud"),
        ],
        checks=[builtin.not_null("broken", "n"), grumbles],
    )
    cfg = settings_for("unused", db_path)
    materialize(model, db=db_path)
    assert _health(cfg, model) == {
        "broken": AssetHealth.DEGRADED,
        "loud": AssetHealth.WARNING,
        "quiet": AssetHealth.FRESH,
    }
    reason = reading.statuses(cfg, model)["broken"].reason
    assert reason == "failing check broken.n_not_null"


def test_staleness_reaches_every_level_below_what_was_rebuilt(db_path: Path) -> None:
    chain = Definitions(
        assets=[
            declare(lambda con: "SELECT 1 AS n", name="a", code_version="1"),
            declare(lambda con: "SELECT n FROM a", name="b", deps=["a"], code_version="1"),
            declare(lambda con: "SELECT n FROM b", name="c", deps=["b"], code_version="1"),
        ]
    )
    cfg = settings_for("unused", db_path)
    materialize(chain, db=db_path)
    materialize(chain, "a", db=db_path)
    assert _health(cfg, chain) == {
        "a": AssetHealth.FRESH,
        "b": AssetHealth.STALE,
        "c": AssetHealth.STALE,  # two levels down: stale too, not fresh
    }
    assert reading.statuses(cfg, chain)["c"].reason == "upstream 'a' was built after it"
    selection = toolbar.selection_for(cfg, "stale", chain)
    assert toolbar.planned_assets(chain, selection) == ["b", "c"]  # what the pages call stale


# --- overview and runs ----------------------------------------------------------------------------


def test_overview_of_an_empty_store_says_nothing_ran(cfg: Settings, defs: Definitions) -> None:
    summary = overview.overview(cfg, defs)
    assert summary.health_counts[AssetHealth.NEVER] == len(defs.assets) == 7
    assert sum(summary.health_counts.values()) == 7
    assert summary.check_counts["never"] == len(defs.checks)
    assert summary.last_run is None and summary.attention == []


def test_overview_after_a_clean_run(cfg: Settings, defs: Definitions) -> None:
    assert materialize(defs, db=cfg.db).ok
    summary = overview.overview(cfg, defs)
    # adhoc_request is built on request only (it needs run config): a plain run leaves it out
    assert summary.health_counts[AssetHealth.FRESH] == 6
    assert summary.health_counts[AssetHealth.NEVER] == 1
    assert summary.check_counts == {
        "passed": len(defs.checks),
        "warned": 0,
        "failed": 0,
        "never": 0,
    }
    assert summary.last_run is not None and summary.last_run.status == "success"
    assert words.run_summary(summary.last_run) == (
        f"Materialize all assets · {len(defs.assets) - 1} built · all {len(defs.checks)} checks"
        " passed"
    )


def test_a_missing_csv_is_a_failed_asset_with_its_message(
    cfg: Settings, defs: Definitions, data_dir: Path
) -> None:
    (data_dir / "products.csv").unlink()
    result = materialize(defs, db=cfg.db)
    summary = overview.overview(cfg, defs)
    assert summary.health_counts[AssetHealth.FAILED] == 1
    item = next(a for a in summary.attention if a.kind == "asset" and a.name == "products")
    assert "products.csv not found" in item.headline
    details = runs.run_details(cfg, result.run_id)
    assert details is not None
    statuses = dict(zip(details.timeline["asset"], details.timeline["status"], strict=True))
    assert statuses == {
        "products": "Failed",
        "sales_data": "Built",
        "sales_reps": "Built",
        "joined_data": "Skipped",
        "monthly_sales_performance": "Skipped",
        "product_performance": "Skipped",
    }
    [joined] = [e for e in details.errors if e.what.startswith("Asset joined_data")]
    assert joined.consequence and "upstream 'products' failed" in joined.headline
    [products] = [e for e in details.errors if e.what.startswith("Asset products")]
    assert not products.consequence and "products.csv not found" in products.text


def test_runs_table_uses_words_a_person_reads(cfg: Settings, defs: Definitions) -> None:
    assert runs.runs_table(cfg).frame.empty
    materialize(defs, db=cfg.db)
    table = runs.runs_table(cfg)
    row = table.frame.iloc[0]
    assert row["Outcome"] == "Succeeded" and row["Selection"] == "all assets"
    assert row["From"] == "python" and row["Checks"].startswith("all ")
    started = next(column for column in table.frame.columns if column.startswith("Started"))
    assert "." not in row[started]  # seconds, never microseconds
    assert table.statuses == ["success"]
    assert runs.run_details(cfg, 999) is None
    materialize(defs, "monthly_sales_performance", db=cfg.db)  # one check: never "all 1 checks"
    assert runs.runs_table(cfg).frame.iloc[0]["Checks"] == "the one check passed"


def test_the_runs_table_shortens_a_long_list_of_partitions(
    cfg: Settings, defs: Definitions
) -> None:
    """Ten months typed one by one read as the backfills read them; two stay as typed. The
    run's details keep the selection in full."""
    materialize(defs, db=cfg.db)
    months = [f"2024-{month:02}-01" for month in range(1, 11)]
    ten = materialize(
        defs, "monthly_sales_performance", db=cfg.db, partitions=PartitionRequest(months)
    )
    materialize(
        defs, "monthly_sales_performance", db=cfg.db, partitions=PartitionRequest(months[:2])
    )
    selections = list(runs.runs_table(cfg).frame["Selection"])
    assert selections[:2] == [
        "monthly_sales_performance [2024-01-01, 2024-02-01]",
        "monthly_sales_performance [2024-01-01 … 2024-10-01 (10 partitions)]",
    ]
    details = runs.run_details(cfg, ten.run_id)
    assert details is not None and ", ".join(months) in words.run_summary(details.run)


def test_a_selection_is_shortened_only_where_it_lists_more_than_three_keys() -> None:
    assert runs.selection_shown(None) == "all assets"
    assert runs.selection_shown("a [k1, k2, k3]") == "a [k1, k2, k3]"
    assert runs.selection_shown("a [2024-01-01...2024-06-01, missing]") == (
        "a [2024-01-01...2024-06-01, missing]"
    )
    assert (
        runs.selection_shown("a [k1, k2, k3, k4, failed]") == "a [k1 … k4 (4 partitions), failed]"
    )
    assert runs.selection_shown('"odd [name" or b') == '"odd [name" or b'


# --- graph, asset, catalog ------------------------------------------------------------------------


def test_graph_model_has_every_asset_its_edges_and_failing_checks(
    tmp_path: Path, db_path: Path
) -> None:
    data = sample_data(tmp_path / "orphans", orphan_rate=0.1)
    cfg = settings_for(defs_file(tmp_path, data), db_path)
    defs = reading.load_defs(cfg)
    materialize(defs, db=db_path)
    model = graph.graph_model(cfg, defs)
    assert [node.name for node in model.nodes] == defs.graph.names
    assert ("sales_data", "joined_data") in model.edges
    joined = next(node for node in model.nodes if node.name == "joined_data")
    assert joined.health == AssetHealth.DEGRADED and joined.group == "joins"
    assert CheckKey("joined_data", "missing_dimension_check") in joined.failing_checks
    assert set(model.groups) == {"ingestion", "joins", "performance", "requests"}


def test_asset_details_before_and_after_a_build(cfg: Settings, defs: Definitions) -> None:
    before = asset.asset_details(cfg, defs, "joined_data")
    assert before.last is None and before.preview.empty and before.history.empty
    assert set(before.checks["Latest outcome"]) == {"Never run"}
    materialize(defs, db=cfg.db)
    materialize(defs, "joined_data", db=cfg.db)
    details = asset.asset_details(cfg, defs, "joined_data")
    assert details.deps == ["products", "sales_data", "sales_reps"]
    assert "dollar_amount" in list(details.schema["Column"])
    assert len(details.preview) == 10
    assert list(details.history["run_id"]) == [1, 2]
    assert set(details.checks["Latest outcome"]) == {"Passed"}
    with pytest.raises(SelectionError, match="no asset named 'nope'.*joined_data"):
        asset.asset_details(cfg, defs, "nope")


def test_catalog_filters_by_name_selection_group_kind_and_health(
    cfg: Settings, defs: Definitions
) -> None:
    everything = catalog.catalog(cfg, defs, catalog.CatalogFilter())
    assert list(everything.frame["Asset"]) == defs.graph.names
    assert set(everything.frame["Health"]) == {"Never built"} and everything.total == 7
    materialize(defs, db=cfg.db)
    materialize(defs, "sales_reps", db=cfg.db)  # joined_data is now stale

    def names(**wanted: object) -> list[str]:
        return list(catalog.catalog(cfg, defs, catalog.CatalogFilter(**wanted)).frame["Asset"])

    assert names(search="SALES") == ["sales_data", "sales_reps", "monthly_sales_performance"]
    assert names(selection="+joined_data and not sales_reps") == [
        "products", "sales_data", "joined_data",
    ]  # fmt: skip
    assert names(groups=("joins",)) == ["joined_data"]
    assert names(health=(AssetHealth.STALE,)) == [
        "joined_data", "monthly_sales_performance", "product_performance",
    ]  # fmt: skip
    assert names(kinds=("view",)) == []
    with pytest.raises(SelectionError, match="unknown asset"):
        names(selection="joined_dta")


# --- checks ---------------------------------------------------------------------------------------


def test_checks_table_opens_on_the_worst_and_says_what_did_not_run(
    cfg: Settings, defs: Definitions, data_dir: Path
) -> None:
    before = checks.checks_table(cfg, defs)
    assert set(before.frame["Latest outcome"]) == {"Never run"}
    assert set(before.frame["Failing rows"]) == {"—"}  # never ran: no count, not zero
    assert materialize(defs, db=cfg.db).ok
    (data_dir / "products.csv").unlink()
    failed = materialize(defs, db=cfg.db)

    table = checks.checks_table(cfg, defs)
    rows = table.frame.set_index("Check")
    # products did not build: its checks did not run, and say so under their last outcome
    note = rows.loc["products.product_id_unique", "Note"]
    assert note == (f"not run in run {failed.run_id}: asset 'products' failed to build in this run")
    assert rows.loc["products.product_id_unique", "Latest outcome"] == "Passed"
    # so do the per-partition checks of the partitioned assets downstream of it
    for key in (
        "monthly_sales_performance.non_negative_totals",
        "product_performance.product_name_not_null",
        "product_performance.row_count",
    ):
        assert rows.loc[key, "Note"].startswith(f"not run in run {failed.run_id}: asset '"), key
    assert table.keys[0] in {c.check_key for c in defs.checks}
    assert table.frame.iloc[0]["Note"] != ""  # not-run ones come before plain passes


def test_one_check_detail_has_its_executions_and_rule(cfg: Settings, defs: Definitions) -> None:
    materialize(defs, db=cfg.db)
    materialize(defs, db=cfg.db)
    key = CheckKey("joined_data", "missing_dimension_check")
    detail = checks.check_detail(cfg, defs, key)
    assert list(detail.executions["Run"]) == [2, 1]
    assert set(detail.executions["Outcome"]) == {"Passed"}
    assert list(detail.observed["run_id"]) == [1, 2]
    assert checks.rule_lines("warn if > 0, error if > 10") == [
        ("warn if > 0", 0.0), ("error if > 10", 10.0),
    ]  # fmt: skip
    assert checks.rule_lines("error if > 1%") == []  # a share is not the observed count


def test_an_anomaly_check_detail_has_its_value_and_band_by_run(
    tmp_path: Path, db_path: Path
) -> None:
    """Several builds with changing row counts: the first five have no band yet, the rest a
    band from the builds before them, and the collapse at the end is anomalous."""
    counts = [1000, 1020, 980, 1010, 990, 1005, 995, 1000, 120]
    state = {"n": counts[0]}

    @declare(name="t")
    def t(con: object) -> str:
        return f"SELECT range AS id FROM range({state['n']})"

    defs = Definitions([t], [builtin.volume_anomaly("t")])
    cfg = settings_for(tmp_path / "unused_defs.py", db_path)
    for n in counts:
        state["n"] = n
        materialize(defs, db=db_path)
    detail = checks.check_detail(cfg, defs, CheckKey("t", "volume_anomaly"))
    band = detail.band
    assert band is not None
    assert list(band.columns) == checks.BAND_COLUMNS
    assert list(band["run_id"]) == list(range(1, len(counts) + 1))  # oldest first
    assert list(band["observed_value"]) == [float(n) for n in counts]
    assert list(band["enough_history"]) == [False] * 5 + [True] * 4
    assert (
        band["expected_low"].iloc[:5].isna().all() and band["expected_high"].iloc[:5].isna().all()
    )
    assert band["band"].iloc[0] == "not enough history (0 of 5 builds)"
    last = band.iloc[-1]
    assert last["anomalous"] and last["outcome"] == "Warned"
    assert last["expected_low"] < 980 and last["expected_high"] > 1020  # the builds before it
    assert last["band"] == f"{figure(last['expected_low'])}–{figure(last['expected_high'])}"
    assert last["zscore"] < -3 and last["reason"] == "below the expected band"
    assert last["label"] == "row count"
    assert not band["anomalous"].iloc[:-1].any()
    assert detail.band_text == f"row count 120, expected {last['band']}"


def test_other_checks_have_no_band(cfg: Settings, defs: Definitions) -> None:
    materialize(defs, db=cfg.db)
    detail = checks.check_detail(cfg, defs, CheckKey("joined_data", "missing_dimension_check"))
    assert detail.band is None and detail.band_text is None


# --- toolbar selections ---------------------------------------------------------------------------


def test_toolbar_actions_turn_into_selections(cfg: Settings, defs: Definitions) -> None:
    assert toolbar.toolbar_selection("all", defs) is None
    assert toolbar.toolbar_selection("checks", defs) is None
    assert toolbar.toolbar_selection("selected", defs, "sales_data") == "sales_data"
    assert toolbar.toolbar_selection("downstream", defs, "sales_data") == "sales_data+"
    assert toolbar.toolbar_selection("upstream", defs, "joined_data") == "+joined_data"
    assert toolbar.planned_assets(defs, "sales_data+") == [
        "sales_data",
        "joined_data",
        "monthly_sales_performance",
        "product_performance",
    ]  # not adhoc_request: reached by `+`, it needs run config a button does not give
    assert toolbar.planned_assets(defs, "adhoc_request") == ["adhoc_request"]
    with pytest.raises(SelectionError, match="pick an asset first"):
        toolbar.toolbar_selection("selected", defs)
    with pytest.raises(SelectionError, match="type a selection first"):
        toolbar.toolbar_selection("free", defs, free_text="  ")
    with pytest.raises(SelectionError):
        toolbar.toolbar_selection("free", defs, free_text="joined_dta")
    assert toolbar.toolbar_selection("free", defs, free_text=" group:joins ") == "group:joins"


def test_stale_only_covers_what_is_behind_and_names_what_needs_config(
    cfg: Settings, defs: Definitions
) -> None:
    first = toolbar.plan(cfg, "stale", defs)
    assert set(first.planned) == set(defs.assets) - {"adhoc_request"}
    assert first.left_out == ["adhoc_request"]  # never built, and said so: not dropped silently
    materialize(defs, db=cfg.db)
    with pytest.raises(SelectionError, match=r"nothing stale to rebuild: adhoc_request needs run"):
        toolbar.plan(cfg, "stale", defs)
    materialize(defs, "sales_reps", db=cfg.db)  # its downstream is now behind it
    behind = toolbar.plan(cfg, "stale", defs)
    assert behind.planned == ["joined_data", "monthly_sales_performance", "product_performance"]
    assert behind.left_out == ["adhoc_request"]


def test_stale_only_leaves_assets_that_only_fail_checks_and_says_why(
    tmp_path: Path, db_path: Path
) -> None:
    """Degraded assets are built and current: the same code and data give the same rows."""
    cfg = settings_for(
        defs_file(tmp_path, sample_data(tmp_path / "orphans", orphan_rate=0.1)), db_path
    )
    defs = reading.load_defs(cfg)
    materialize(defs, db=db_path)
    request = {"department": "North", "product": "Pro Webcam"}
    dates = {"start_date": "2024-01-01", "end_date": "2025-06-30"}
    materialize(defs, "adhoc_request", db=db_path, run_config={"adhoc_request": request | dates})
    materialize(defs, db=db_path)  # "Materialize all" again: adhoc_request is stale, as in the walk
    health = _health(cfg, defs)
    assert health["adhoc_request"] == AssetHealth.STALE
    assert health["sales_data"] == health["joined_data"] == AssetHealth.DEGRADED
    with pytest.raises(SelectionError) as refused:
        toolbar.plan(cfg, "stale", defs)
    message = str(refused.value)
    assert "adhoc_request needs run config (department, product, start_date, end_date)" in message
    assert "fill its Run config form on the Asset graph page" in message
    assert "joined_data, sales_data are built and current but failing checks" in message


def test_an_asset_a_plain_run_leaves_out_says_why_in_its_health(
    cfg: Settings, defs: Definitions
) -> None:
    materialize(defs, db=cfg.db)
    found = catalog.catalog(cfg, defs, catalog.CatalogFilter(search="adhoc"))
    [why] = found.frame["Why"]
    assert why == (
        "never built; built on request only: it needs run config"
        " (department, product, start_date, end_date)"
    )


def test_a_selection_matching_nothing_or_needing_config_starts_nothing(
    cfg: Settings, defs: Definitions
) -> None:
    with pytest.raises(SelectionError, match=r"the selection 'not \*' matches no asset"):
        toolbar.plan(cfg, "free", defs, free_text="not *")
    above = "adhoc_request needs run config .*: fill its Run config form above"
    with pytest.raises(SelectionError, match=above):
        toolbar.plan(cfg, "selected", defs, "adhoc_request", form_above=True)
    everything = toolbar.plan(cfg, "all", defs)
    assert everything.selection is None and everything.left_out == ["adhoc_request"]


# --- errors a page shows --------------------------------------------------------------------------


def test_a_bad_definitions_module_is_a_definition_error(db_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot load definitions module 'no.such.module'"):
        reading.load_defs(Settings(defs="no.such.module", db=db_path))


def test_the_history_reads_while_another_process_holds_the_database(
    cfg: Settings, defs: Definitions
) -> None:
    with held_by_other_process(hold_database(cfg.db)):
        summary = overview.overview(cfg, defs)
    assert summary.asset_count == len(defs.assets)


def test_a_file_that_is_not_a_warehouse_is_a_readable_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(PipelineError, match="notes.duckdb is not a DuckDB database file"):
        runs.runs_table(settings_for("unused", bogus))


def test_errors_show_a_headline_and_drop_duckdb_advice_that_does_not_apply() -> None:
    error = (
        "Invalid Input Error: CSV Error on Line: 3\n"
        "Original Line: 2,B,Books,2.00,extra\n"
        "Expected Number of Columns: 4 Found: 5\n"
        "Possible Solution: Set the correct number of columns\n"
        "* Check that the file is not auto-detected wrongly"
    )
    assert words.headline(error) == "Invalid Input Error: CSV Error on Line: 3"
    assert words.full_error(error) == (
        "Invalid Input Error: CSV Error on Line: 3\nExpected Number of Columns: 4 Found: 5"
    )


def test_a_stored_csv_error_is_shown_without_duckdbs_settings_dump() -> None:
    error = (  # as the engine stored it before it dropped the dump itself
        "data/products.csv: Invalid Input Error: CSV Error on Line: 3\n"
        "Expected Number of Columns: 4 Found: 5\n"
        "Possible fixes:\n"
        "  file = data/products.csv\n"
        "  delimiter = , (Auto-Detected)\n"
        "  strict_mode = true (Auto-Detected)\n"
        "  null_padding = 0"
    )
    assert words.full_error(error) == (
        "data/products.csv: Invalid Input Error: CSV Error on Line: 3\n"
        "Expected Number of Columns: 4 Found: 5"
    )


# --- formatting -----------------------------------------------------------------------------------


def test_times_durations_and_counts_read_like_a_person_wrote_them() -> None:
    now = datetime(2026, 1, 2, 12, 0, 0)
    assert formatting.format_ago(now - timedelta(seconds=5), now) == "5 s ago"
    assert formatting.format_ago(now - timedelta(minutes=3, seconds=9), now) == "3 min ago"
    assert formatting.format_ago(now - timedelta(days=1, hours=2), now) == "1 day ago"
    assert formatting.format_ago(None) == "never"
    assert formatting.format_duration(0.0421) == "42 ms"
    assert formatting.format_duration(125) == "2 min 5 s"
    assert formatting.format_duration(None) == "—"
    shown = formatting.format_time(datetime(2026, 1, 2, 12, 0, 0, 123456))
    assert len(shown) == len("2026-01-02 12:00:00") and "." not in shown
    assert formatting.format_value(1234567.0) == "1,234,567"
    assert formatting.format_count(2485) == "2,485" and formatting.format_count(None) == "—"


def test_load_defs_accepts_a_dotted_module(db_path: Path) -> None:
    loaded = reading.load_defs(Settings(defs="pipeline.examples.sales", db=db_path))
    assert set(loaded.assets) == set(load_definitions("pipeline.examples.sales").assets)


def test_checks_table_says_a_check_changed_since_it_ran(cfg: Settings, db_path: Path) -> None:
    from pipeline import asset
    from pipeline import checks as factories

    orders = asset(lambda con: "SELECT * FROM range(3) t(n)", name="orders")
    materialize(Definitions([orders], [factories.row_count("orders", min=1)]), db=db_path)
    moved = Definitions([orders], [factories.row_count("orders", min=5)])
    table = checks.checks_table(cfg, moved)
    [row] = table.frame.to_dict("records")
    assert row["Latest outcome"] == "Passed"
    assert row["Note"] == (
        "the check changed since it ran (run 1): this outcome is the old definition's; run it again"
    )


def test_a_running_runs_counts_hold_its_checks_already_recorded_as_not_run(
    db_path: Path,
) -> None:
    """While a run goes on, a check recorded as not run (its asset was skipped) still counts
    as not run: the Runs page's counts then add up to the run's planned checks."""
    with store.open_writer(db_path) as con:
        run = store.start_run(con, "materialize", None)
        run.checks_planned = 4
        store.update_run(con, run)
        ran = CheckRecord(run.run_id, "a", "ok", CheckOutcome.PASSED)
        skipped = CheckRecord(run.run_id, "b", "never", CheckOutcome.SKIPPED)
        store.record(con, checks=[ran, skipped])
        live = runs.live_counts(con, run)
    assert (live.checks_passed, live.checks_not_run) == (1, 3)
    assert words.check_counts(live) == "checks: 1 passed, 3 not run"


def test_a_checks_only_run_says_its_checks_saw_the_build_before_a_failed_one(
    cfg: Settings, defs: Definitions, data_dir: Path
) -> None:
    from pipeline.engine import run_checks

    built = materialize(defs, "products", db=cfg.db)
    (data_dir / "products.csv").unlink()
    failed = materialize(defs, "products", db=cfg.db)
    assert not failed.ok

    checked = run_checks(defs, "products", db=cfg.db)

    details = runs.run_details(cfg, checked.run_id)
    assert details is not None
    notes = set(details.checks["Note"])
    assert notes == {
        f"checked the table built in run {built.run_id}; its latest build, run {failed.run_id},"
        " failed"
    }
