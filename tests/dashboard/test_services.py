"""The dashboard's service layer and settings: what the pages show, without Streamlit."""

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

from dashboard import formatting, services, settings
from dashboard.settings import Settings
from pipeline.definitions import Definitions, load_definitions
from pipeline.engine import materialize
from pipeline.errors import (
    DefinitionError,
    PipelineError,
    SelectionError,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return sample_data(tmp_path / "data")


@pytest.fixture
def cfg(tmp_path: Path, data_dir: Path, db_path: Path) -> Settings:
    return settings_for(defs_file(tmp_path, data_dir), db_path)


@pytest.fixture
def defs(cfg: Settings) -> Definitions:
    return services.load_defs(cfg)


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


# --- overview -------------------------------------------------------------------------------------


def test_overview_of_an_empty_store_says_nothing_ran(cfg: Settings, defs: Definitions) -> None:
    summary = services.overview(cfg, defs)
    assert summary.asset_counts == {"fresh": 0, "stale": 0, "never": 4, "failed": 0}
    assert summary.check_counts["never"] == len(defs.checks)
    assert summary.last_run is None
    assert summary.failures == []


def test_overview_after_a_clean_run(cfg: Settings, defs: Definitions) -> None:
    assert materialize(defs, db=cfg.db).ok
    summary = services.overview(cfg, defs)
    assert summary.asset_counts["fresh"] == 4
    assert summary.check_counts == {
        "passed": len(defs.checks),
        "warned": 0,
        "failed": 0,
        "never": 0,
    }
    assert summary.last_run is not None and summary.last_run.status == "success"
    assert "4 built, 0 failed" in services.run_summary(summary.last_run)


def test_overview_lists_failing_checks_first_with_what_they_saw(
    tmp_path: Path, db_path: Path
) -> None:
    data = sample_data(tmp_path / "orphans", orphan_rate=0.1)
    cfg = settings_for(defs_file(tmp_path, data), db_path)
    defs = services.load_defs(cfg)
    materialize(defs, db=db_path)

    summary = services.overview(cfg, defs)
    assert summary.check_counts["failed"] >= 1
    names = [failure.name for failure in summary.failures]
    assert "joined_data.missing_dimension_check" in names
    first = summary.failures[0]
    assert first.outcome in ("failed", "error")
    missing = next(f for f in summary.failures if f.name.endswith("missing_dimension_check"))
    assert "observed" in missing.message and "failing row" in missing.message


def test_a_missing_csv_shows_as_a_failed_asset_with_its_message(
    cfg: Settings, defs: Definitions, data_dir: Path
) -> None:
    (data_dir / "products.csv").unlink()
    result = materialize(defs, db=cfg.db)
    assert not result.ok

    summary = services.overview(cfg, defs)
    assert summary.asset_counts["failed"] == 1
    failure = next(f for f in summary.failures if f.kind == "asset")
    assert failure.name == "products"
    assert "products.csv not found" in failure.message

    details = services.run_details(cfg, result.run_id)
    assert details is not None
    statuses = dict(zip(details.timeline["asset"], details.timeline["status"], strict=True))
    assert statuses["products"] == "failed"
    assert statuses["joined_data"] == "skipped"
    assert any("products.csv not found" in message for _, message in details.errors)


# --- graph and asset details ----------------------------------------------------------------------


def test_graph_model_has_every_asset_its_edges_and_failing_checks(
    tmp_path: Path, db_path: Path
) -> None:
    data = sample_data(tmp_path / "orphans", orphan_rate=0.1)
    cfg = settings_for(defs_file(tmp_path, data), db_path)
    defs = services.load_defs(cfg)
    materialize(defs, db=db_path)

    model = services.graph_model(cfg, defs)
    assert [node.name for node in model.nodes] == defs.graph.names
    assert ("sales_data", "joined_data") in model.edges
    joined = next(node for node in model.nodes if node.name == "joined_data")
    assert joined.status == "fresh" and joined.group == "joins"
    assert "missing_dimension_check" in joined.failed_checks
    assert set(model.groups) == {"ingestion", "joins"}


def test_asset_details_before_and_after_a_build(cfg: Settings, defs: Definitions) -> None:
    before = services.asset_details(cfg, defs, "joined_data")
    assert before.last is None and before.preview.empty and before.history.empty
    assert set(before.checks["Latest outcome"]) == {"Never run"}

    materialize(defs, db=cfg.db)
    materialize(defs, "joined_data", db=cfg.db)
    details = services.asset_details(cfg, defs, "joined_data")
    assert details.deps == ["products", "sales_data", "sales_reps"]
    assert details.description and details.group == "joins"
    assert "dollar_amount" in list(details.schema["Column"])
    assert len(details.preview) == 10
    assert list(details.history["run_id"]) == [1, 2]
    assert list(details.history["row_count"]) == [120, 120]
    assert "Passed" in set(details.checks["Latest outcome"])
    assert set(details.check_history["run_id"]) == {1, 2}


def test_asset_details_of_an_unknown_asset_names_the_real_ones(
    cfg: Settings, defs: Definitions
) -> None:
    with pytest.raises(SelectionError, match="no asset named 'nope'.*joined_data"):
        services.asset_details(cfg, defs, "nope")


# --- runs and checks ------------------------------------------------------------------------------


def test_runs_table_uses_words_a_person_reads(cfg: Settings, defs: Definitions) -> None:
    assert services.runs_table(cfg).empty
    materialize(defs, db=cfg.db)
    table = services.runs_table(cfg)
    assert "checks_failed" not in table.columns and "Checks failed" in table.columns
    row = table.iloc[0]
    assert row["Outcome"] == "Succeeded" and row["Selection"] == "all assets"
    started = next(column for column in table.columns if column.startswith("Started"))
    assert "." not in row[started]  # seconds, never microseconds
    assert row["Duration"].endswith(("ms", " s"))


def test_run_details_timeline_and_unknown_run(cfg: Settings, defs: Definitions) -> None:
    result = materialize(defs, db=cfg.db)
    details = services.run_details(cfg, result.run_id)
    assert details is not None
    assert set(details.timeline["asset"]) == set(defs.assets)
    assert (details.timeline["end_s"] >= details.timeline["start_s"]).all()
    assert details.errors == []
    assert len(details.checks) == len(defs.checks)
    assert services.run_details(cfg, 999) is None


def test_checks_table_and_history(cfg: Settings, defs: Definitions) -> None:
    table = services.checks_table(cfg, defs)
    assert list(table["Check"]) == [check.key for check in defs.checks]
    assert set(table["Latest outcome"]) == {"Never run"}
    assert services.check_history(cfg).empty

    materialize(defs, db=cfg.db)
    materialize(defs, db=cfg.db)
    history = services.check_history(cfg)
    assert set(history["run_id"]) == {1, 2}
    assert set(history["outcome"]) == {"passed"}
    latest = services.latest_check(cfg, defs, "joined_data.missing_dimension_check")
    assert latest is not None and latest.run_id == 2


# --- toolbar selections ---------------------------------------------------------------------------


def test_toolbar_actions_turn_into_selections(cfg: Settings, defs: Definitions) -> None:
    assert services.toolbar_selection("all", defs) is None
    assert services.toolbar_selection("checks", defs) is None
    assert services.toolbar_selection("selected", defs, "sales_data") == "sales_data"
    assert services.toolbar_selection("downstream", defs, "sales_data") == "sales_data+"
    assert services.toolbar_selection("upstream", defs, "joined_data") == "+joined_data"
    assert services.planned_assets(defs, "sales_data+") == ["sales_data", "joined_data"]
    assert services.planned_assets(defs, "+joined_data")[-1] == "joined_data"


def test_toolbar_refuses_what_cannot_apply_with_a_message(cfg: Settings, defs: Definitions) -> None:
    with pytest.raises(SelectionError, match="pick an asset first"):
        services.toolbar_selection("selected", defs)
    with pytest.raises(SelectionError, match="type a selection first"):
        services.toolbar_selection("free", defs, free_text="  ")
    with pytest.raises(SelectionError):
        services.toolbar_selection("free", defs, free_text="joined_dta")
    assert services.toolbar_selection("free", defs, free_text=" group:joins ") == "group:joins"


def test_stale_only_covers_what_is_behind_and_nothing_when_all_fresh(
    cfg: Settings, defs: Definitions
) -> None:
    states = services.statuses(cfg, defs)
    selection = services.toolbar_selection("stale", defs, states=states)
    assert set(services.planned_assets(defs, selection)) == set(defs.assets)

    materialize(defs, db=cfg.db)
    with pytest.raises(SelectionError, match="every asset is fresh"):
        services.toolbar_selection("stale", defs, states=services.statuses(cfg, defs))

    materialize(defs, "sales_reps", db=cfg.db)  # its downstream is now behind it
    selection = services.toolbar_selection("stale", defs, states=services.statuses(cfg, defs))
    planned = services.planned_assets(defs, selection)
    assert set(planned) == defs.graph.downstream("sales_reps") and "sales_reps" not in planned
    assert planned[-1] == "joined_data"


# --- errors a page shows --------------------------------------------------------------------------


def test_a_bad_definitions_module_is_a_definition_error(db_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot load definitions module 'no.such.module'"):
        services.load_defs(Settings(defs="no.such.module", db=db_path))


def test_the_history_reads_while_another_process_holds_the_database(
    cfg: Settings, defs: Definitions
) -> None:
    with held_by_other_process(hold_database(cfg.db)):
        summary = services.overview(cfg, defs)
    assert summary.asset_count == len(defs.assets)


def test_a_file_that_is_not_a_warehouse_is_a_readable_error(
    tmp_path: Path, defs: Definitions
) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(PipelineError, match="notes.duckdb is not a DuckDB database file"):
        services.runs_table(settings_for("unused", bogus))


# --- formatting -----------------------------------------------------------------------------------


def test_times_and_durations_read_like_a_person_wrote_them() -> None:
    now = datetime(2026, 1, 2, 12, 0, 0)
    assert formatting.format_ago(now - timedelta(seconds=5), now) == "5 s ago"
    assert formatting.format_ago(now - timedelta(minutes=3, seconds=9), now) == "3 min ago"
    assert formatting.format_ago(now - timedelta(days=1, hours=2), now) == "1 day ago"
    assert formatting.format_ago(None) == "never"
    assert formatting.format_duration(0.0421) == "42 ms"
    assert formatting.format_duration(3.25) == "3.2 s"
    assert formatting.format_duration(125) == "2 min 5 s"
    assert formatting.format_duration(None) == "—"
    shown = formatting.format_time(datetime(2026, 1, 2, 12, 0, 0, 123456))
    assert len(shown) == len("2026-01-02 12:00:00") and "." not in shown
    assert formatting.format_value(3.0) == "3" and formatting.format_value(1234567.0) == "1,234,567"


def test_load_defs_accepts_a_dotted_module(db_path: Path) -> None:
    loaded = services.load_defs(Settings(defs="pipeline.examples.sales", db=db_path))
    assert isinstance(loaded, Definitions)
    assert set(loaded.assets) == set(load_definitions("pipeline.examples.sales").assets)
