"""The overview, graph, materialize, runs and checks pages under AppTest, reached through the
app's st.navigation as a user reaches them (so page links resolve)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_env import (
    defs_file,
    held_by_other_process,
    hold_database,
    hold_run_lock,
    sample_data,
    shown,
    wait_for_file,
)
from streamlit.testing.v1 import AppTest

from dashboard import runs, state, ui
from pipeline import store
from pipeline.definitions import load_definitions
from pipeline.engine import RunResult, materialize

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it
PAGES = ["overview", "graph", "materialize", "runs", "checks"]


class Env:
    """The temp warehouse and sample data the dashboard's settings point at."""

    def __init__(self, tmp_path: Path, db: Path, orphan_rate: float = 0.0) -> None:
        self.data = sample_data(tmp_path / "data", orphan_rate=orphan_rate)
        self.defs_path = defs_file(tmp_path, self.data)
        self.db = db

    def build(self) -> RunResult:
        return materialize(load_definitions(str(self.defs_path)), db=self.db)


@pytest.fixture
def env(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    made = Env(tmp_path, db_path)
    monkeypatch.setenv("ASSETBOARD_DEFS", str(made.defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    yield made
    runs.wait(db_path)  # never leave a run thread behind


@pytest.fixture
def built(env: Env) -> Env:
    assert env.build().ok
    return env


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: Any) -> str:
    """The elements' text as a person reads it (names and errors in them are escaped)."""
    return "\n".join(shown(str(element.value)) for element in elements)


def chart_titles(at: AppTest) -> list[str]:
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    return [spec.get("title", "") for spec in specs]


# A plain run builds every asset but adhoc_request, which needs run config (a sensor's request).
EVERY_ASSET_FRESH = {
    "products": "Fresh",
    "sales_data": "Fresh",
    "sales_reps": "Fresh",
    "joined_data": "Fresh",
    "adhoc_request": "Never built",
    "monthly_sales_performance": "Fresh",
    "product_performance": "Fresh",
}


def _health_by_asset(at: AppTest) -> dict[str, str]:
    frame = at.dataframe[0].value
    return dict(zip(frame["Asset"], frame["Health"], strict=True))


def finish(at: AppTest, db: Path) -> AppTest:
    """Wait for the background run, then rerun the page as its fragment timer would."""
    runs.wait(db)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- every page: empty store, after a run, broken settings ---------------------------------------

EMPTY_HINTS = {
    "overview": "No runs yet",
    "graph": "Click an asset in the graph",
    "runs": "No runs yet",
    "checks": "No check has run yet",
}


@pytest.mark.parametrize("page", PAGES)
def test_each_page_renders_on_an_empty_store_and_says_what_to_do(env: Env, page: str) -> None:
    at = open_page(page)
    assert not at.error
    if page in EMPTY_HINTS:
        assert EMPTY_HINTS[page] in texts(at.info)
    else:
        assert set(at.dataframe[0].value["Health"]) == {"Never built"}


@pytest.mark.parametrize("page", PAGES)
def test_each_page_renders_after_a_run(built: Env, page: str) -> None:
    at = open_page(page)
    assert not at.error
    assert "No runs yet" not in texts(at.info) and "has not run yet" not in texts(at.info)
    if page == "overview":
        metrics = {metric.label: metric.value for metric in at.metric}
        assert metrics["Fresh"] == "6" and metrics["Never run"] == "0"
        assert "Run 1: Succeeded" in texts(at.success)
    elif page == "runs":
        assert list(at.dataframe[0].value["Outcome"]) == ["Succeeded"]
        assert "Assets in this run" in chart_titles(at)
    elif page == "checks":
        assert set(at.dataframe[0].value["Latest outcome"]) == {"Passed"}
        assert "Outcome per run" in chart_titles(at)
    elif page == "materialize":
        assert _health_by_asset(at) == EVERY_ASSET_FRESH


@pytest.mark.parametrize("page", PAGES)
def test_a_bad_definitions_module_is_a_message_not_a_traceback(
    env: Env, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSETBOARD_DEFS", "no.such.module")
    at = open_page(page)
    assert "Could not load the definitions 'no.such.module'" in texts(at.error)
    assert "cannot load definitions module 'no.such.module'" in texts(at.error)


@pytest.mark.parametrize("page", ["overview", "graph", "runs", "checks", "materialize"])
def test_pages_read_the_history_while_another_process_holds_the_database(
    built: Env, page: str
) -> None:
    """The history lives beside the DuckDB file: a run holding the file never blocks a reader."""
    with held_by_other_process(hold_database(built.db)):
        at = open_page(page)
        assert not at.exception and not at.error, texts(at.error)
        if page == "overview":
            assert {metric.label: metric.value for metric in at.metric}["Fresh"] == "6"


# --- materialize --------------------------------------------------------------------------------


def test_materialize_all_runs_in_the_background_and_shows_the_outcome(env: Env) -> None:
    at = open_page("materialize")
    at.button(key=state.toolbar_key("toolbar", state.BTN_ALL)).click().run()
    assert not at.warning and not at.error
    finish(at, env.db)

    assert "Materialize all: succeeded" in shown(at.status[0].label)
    assert _health_by_asset(at) == EVERY_ASSET_FRESH
    # Drawn last (ui.draw_deferred), so that it never stands above the tables of before the
    # run, but in its place: above the assets.
    order = [type(node).__name__ for node in _in_order(at.main)]
    assert order.index("Status") < order.index("Dataframe")


def _in_order(node: Any) -> Iterator[Any]:
    """The page's elements top to bottom (AppTest keeps a block's children by position)."""
    yield node
    for _, child in sorted(getattr(node, "children", {}).items()):
        yield from _in_order(child)


def test_the_overview_empty_state_button_builds_everything(env: Env) -> None:
    at = open_page("overview")
    at.button(key=state.toolbar_key("overview", state.BTN_ALL)).click().run()
    finish(at, env.db)
    assert {metric.label: metric.value for metric in at.metric}["Fresh"] == "6"
    assert shown(at.status[0].label).startswith("Materialize all: succeeded")  # where the click was


def test_the_overview_never_built_count_says_which_asset_and_why(built: Env) -> None:
    at = open_page("overview")
    [never] = [metric for metric in at.metric if metric.label == "Never built"]
    assert never.value == "1"
    assert shown(never.help) == (
        "adhoc_request: never built; built on request only: it needs run config"
        " (department, product, start_date, end_date)"
    )


def test_the_overview_check_tiles_say_how_many_checks_the_last_run_did_not_run(
    built: Env,
) -> None:
    defs = load_definitions(str(built.defs_path))
    assert materialize(defs, "products", db=built.db).ok  # run 2: only products' checks
    total = len(defs.checks)
    ran = len([check for check in defs.checks if check.check_key.asset == "products"])
    at = open_page("overview")
    assert {metric.label: metric.value for metric in at.metric}["Passed"] == str(total)
    assert (
        f"Each check's latest outcome, from whichever run last ran it; {total - ran} of {total}"
        " did not run in the last run (run 2)."
    ) in texts(at.caption)


def test_needs_attention_names_stale_assets_instead_of_saying_all_is_well(built: Env) -> None:
    assert materialize(load_definitions(str(built.defs_path)), "products", db=built.db).ok
    at = open_page("overview")
    stale = {metric.label: metric.value for metric in at.metric}["Stale"]
    assert stale != "0"
    assert "No failing, blocked or warning" not in texts(at.success)
    said = texts(at.markdown)
    assert f"{stale} stale assets (" in said
    assert "rebuild them with Materialize → Stale only." in said


def test_a_free_selection_builds_only_what_it_names(built: Env) -> None:
    at = open_page("materialize")
    at.text_input(key=state.toolbar_key("toolbar", state.INPUT_FREE_SELECTION)).input("products")
    at.button(key=state.toolbar_key("toolbar", state.BTN_FREE)).click().run()
    finish(at, built.db)
    live = runs.current(built.db)
    assert live is not None and live.selection == "products" and live.planned == ["products"]
    assert "succeeded" in shown(at.status[0].label)


def test_a_bad_free_selection_gets_a_message_and_starts_nothing(built: Env) -> None:
    at = open_page("materialize")
    at.text_input(key=state.toolbar_key("toolbar", state.INPUT_FREE_SELECTION)).input("prodcts")
    at.button(key=state.toolbar_key("toolbar", state.BTN_FREE)).click().run()
    assert "Nothing started" in texts(at.warning)
    assert runs.current(built.db) is None


def test_stale_only_when_only_a_config_asset_is_behind_says_where_to_build_it(
    built: Env,
) -> None:
    at = open_page("materialize")
    at.button(key=state.toolbar_key("toolbar", state.BTN_STALE)).click().run()
    warning = texts(at.warning)
    assert "nothing stale to rebuild: adhoc_request needs run config" in warning
    assert "fill its Run config form on the Asset graph page" in warning
    assert runs.current(built.db) is None


def test_materialize_all_names_the_asset_it_leaves_out_and_why(env: Env) -> None:
    at = open_page("materialize")
    before = texts(at.caption)
    said = "**adhoc_request** needs run config, so Materialize all and Stale only leave it out"
    assert said in before
    at.button(key=state.toolbar_key("toolbar", state.BTN_ALL)).click().run()
    finish(at, env.db)
    label = shown(at.status[0].label)
    assert label.startswith("Materialize all: succeeded — 6 assets built")
    assert "1 left out (needs run config)" in label
    beside = texts(at.info)
    assert "**adhoc_request** needs run config, so this run left it out" in beside
    assert "Run config form on the Asset graph page" in beside


def test_a_selection_that_matches_nothing_records_no_run(built: Env) -> None:
    at = open_page("materialize")
    at.text_input(key=state.toolbar_key("toolbar", state.INPUT_FREE_SELECTION)).input("not *")
    at.button(key=state.toolbar_key("toolbar", state.BTN_FREE)).click().run()
    assert "**Nothing started:** the selection 'not *' matches no asset" in texts(at.warning)
    assert runs.current(built.db) is None
    with store.open_store(built.db) as con:
        assert len(store.list_runs(con)) == 1  # only the fixture's build


def test_run_checks_only_rebuilds_nothing(built: Env) -> None:
    at = open_page("materialize")
    at.button(key=state.toolbar_key("toolbar", state.BTN_CHECKS)).click().run()
    finish(at, built.db)
    live = runs.current(built.db)
    assert live is not None and live.kind == "checks" and live.ok
    assert "Run checks: succeeded" in shown(at.status[0].label)


def test_run_checks_only_says_when_it_checked_the_build_before_a_failed_one(
    built: Env,
) -> None:
    (built.data / "sales_reps.csv").unlink()
    failed = materialize(load_definitions(str(built.defs_path)), "sales_reps", db=built.db)
    assert not failed.ok

    at = open_page("materialize")
    at.button(key=state.toolbar_key("toolbar", state.BTN_CHECKS)).click().run()
    finish(at, built.db)

    lines = [line for line in texts(at.markdown).splitlines() if line.startswith("**sales_reps**")]
    assert len(lines) == 1 and lines[0].endswith(
        f"· checked the table built in run 1; its latest build, run {failed.run_id}, failed"
    )


def test_a_failing_asset_shows_its_error_on_the_page(env: Env) -> None:
    (env.data / "sales_reps.csv").unlink()
    at = open_page("materialize")
    at.button(key=state.toolbar_key("toolbar", state.BTN_ALL)).click().run()
    finish(at, env.db)

    headline = shown(at.status[0].label)
    assert "Materialize all: failed" in headline
    assert "sales_reps.csv not found" in texts(at.code)
    # Checks of unbuilt assets did not run: never "all checks passed", the Runs page's counts
    with store.open_store(env.db) as con:
        (run,) = store.list_runs(con)
    assert "all checks passed" not in headline and run.checks_not_run > 0
    assert headline.endswith(f"checks: {run.checks_passed} passed, {run.checks_not_run} not run"), (
        headline
    )
    at = open_page("runs")
    assert f"checks: {run.checks_passed} passed, {run.checks_not_run} not run" in texts(at.caption)
    assert "**Asset sales_reps: failed**: " in texts(at.error)
    assert "sales_reps.csv not found" in texts(at.error)
    assert "**Asset joined_data: skipped**: upstream 'sales_reps' failed" in texts(at.warning)
    at = open_page("graph", asset="sales_reps")
    assert "its build failed in run 1: " in texts(at.markdown)
    assert "sales_reps.csv not found" in texts(at.markdown)


@pytest.fixture
def paused(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real run started from the dashboard, held while it builds `products`."""
    pauses = tmp_path / "pauses"
    pauses.mkdir()
    monkeypatch.setenv("ASSETBOARD_PAUSE_AT", "asset-running:products")
    monkeypatch.setenv("ASSETBOARD_PAUSE_DIR", str(pauses))
    defs = load_definitions(str(env.defs_path))
    planned = ["products", "sales_data", "sales_reps", "joined_data"]
    runs.start(defs, env.db, None, label="Materialize all", planned=planned)
    wait_for_file(pauses / "asset-running.reached")
    try:
        yield pauses
    finally:
        (pauses / "asset-running.release").touch()
        runs.wait(env.db)


def test_while_a_run_is_active_the_page_shows_progress_and_no_second_start(
    env: Env, paused: Path
) -> None:
    at = open_page("materialize")
    shown_text = texts(at.markdown)
    assert "Run 1 (materialize, from the dashboard): 0 of 6 assets done" in shown_text
    assert "**products** :blue[:material/progress_activity: Running] ·" in shown_text
    assert "**joined_data** :gray[:material/schedule: Queued]" in shown_text
    assert at.progress[0].value == 0 and not at.status  # finished runs get st.status
    assert "A run is in progress" in texts(at.caption)
    # A click in this (or any other) tab says which run is going, instead of nothing.
    at.button(key=state.toolbar_key("toolbar", state.BTN_ALL)).click().run()
    assert "Nothing started: a run is already in progress." in texts(at.warning)
    assert "Run 1 was started from the dashboard at" in texts(at.warning)
    assert "**Materialize all** is running" in texts(at.sidebar.caption)
    # Every page, in any tab, follows the same run.
    assert "0 of 6 assets done" in texts(open_page("runs").markdown)


def test_the_cancel_button_stops_the_run_and_the_history_says_so(env: Env, paused: Path) -> None:
    at = open_page("overview")
    at.button(key=state.BTN_CANCEL_RUN).click().run()
    live = runs.wait(env.db)
    assert live is not None and live.ok is False
    with store.open_store(env.db) as con:
        run = store.list_runs(con, 1)[0]
        events = {e.asset: e.status for e in store.run_events(con, run.run_id)}
    assert run.status == "cancelled" and "Cancel button" in run.message
    assert events == {
        "products": "cancelled",
        "sales_data": "not_started",
        "sales_reps": "not_started",
        "joined_data": "not_started",
        "monthly_sales_performance": "not_started",
        "product_performance": "not_started",
    }
    # Every unbuilt asset is named once, in words that do not repeat its status; every
    # planned check has a record, as not run.
    at = open_page("runs")
    stopped = texts(at.warning)
    for name in events:
        assert f"**Asset {name}: " in stopped
    assert "not started: not started" not in stopped and "not started: the" not in stopped
    assert (
        "**Asset sales_reps: not started**: the run was cancelled by the Cancel button in the"
        " dashboard before it started" in stopped
    )
    with store.open_store(env.db) as con:
        records = store.run_check_results(con, run.run_id)
    assert len(records) == run.checks_planned == run.checks_not_run
    assert f"checks: {run.checks_planned} not run" in texts(at.caption)


def test_a_click_while_another_process_runs_gets_a_clear_message(built: Env) -> None:
    at = open_page("materialize")
    with held_by_other_process(hold_run_lock(built.db)):
        at.button(key=state.toolbar_key("toolbar", state.BTN_ALL)).click().run()
    assert "Nothing started: a run is already in progress." in texts(at.warning)
    assert "another process is running the pipeline" in texts(at.warning)
    assert not at.exception


# --- graph (clicks, filter and large graphs: test_graph_page.py) ---------------------------------


def test_the_asset_query_parameter_selects_the_asset(built: Env) -> None:
    built.build()  # a second build: the row count over time has two points
    at = open_page("graph", asset="joined_data")
    assert shown(at.subheader[0].value) == "joined_data"
    preview = at.dataframe[0].value
    assert len(preview) == 10 and "dollar_amount" in preview.columns
    assert "Row count by run" in chart_titles(at)
    assert "**120 rows**" in texts(at.markdown)


def test_an_unknown_asset_in_the_url_is_explained(built: Env) -> None:
    at = open_page("graph", asset="nope")
    assert "There is no asset named **nope**" in texts(at.warning)
    assert "Click an asset in the graph" in texts(at.info)


def test_the_graph_toolbar_builds_the_selected_asset_and_downstream(built: Env) -> None:
    at = open_page("graph", asset="sales_data")
    at.button(key=state.toolbar_key("graph", state.BTN_DOWNSTREAM)).click().run()
    finish(at, built.db)
    live = runs.current(built.db)
    assert live is not None and live.selection == "sales_data+"
    assert live.planned == [
        "sales_data",
        "joined_data",
        "monthly_sales_performance",
        "product_performance",
    ]
    assert "succeeded" in shown(at.status[0].label)


# --- runs and checks -----------------------------------------------------------------------------


def test_the_run_query_parameter_picks_the_run(built: Env) -> None:
    built.build()
    at = open_page("runs", run="1")
    assert at.selectbox(key=state.SELECT_RUN).value == 1
    assert any(h.value.startswith("Run 1 ·") for h in at.subheader)


def test_the_runs_table_shows_what_was_run_and_from_where_in_full(built: Env) -> None:
    """Selection and From come right after the outcome, wide enough and in rows tall enough
    for Streamlit to wrap their text (it wraps only above 4rem): never cut to an ellipsis. Each
    header says what it holds."""
    at = open_page("runs")
    table = at.dataframe[0]
    assert list(table.value.columns[2:5]) == ["Outcome", "Selection", "From"]
    assert table.proto.row_height > 64
    config = json.loads(table.proto.columns)
    for column in ("Selection", "From"):
        assert config[column]["width"] >= 200 and config[column]["help"]
    assert "shortened" in config["Selection"]["help"]
    assert "schedule or sensor" in config["From"]["help"]


def test_the_checks_page_shows_failing_rows_of_the_chosen_check(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = Env(tmp_path, db_path, orphan_rate=0.1)
    monkeypatch.setenv("ASSETBOARD_DEFS", str(env.defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    env.build()
    env.build()
    key = "joined_data.missing_dimension_check"
    at = open_page("checks", check=key)
    assert at.selectbox(key=state.SELECT_CHECK).value == key
    assert "Failed" in set(at.dataframe[0].value["Latest outcome"])
    assert "Failing rows" in texts(at.markdown)
    assert not at.dataframe[1].value.empty  # the failing-row sample
    assert chart_titles(at) == ["Outcome per run", "Observed value by run"]


def test_failing_rows_show_a_missing_value_as_null(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = Env(tmp_path, db_path, orphan_rate=0.1)
    monkeypatch.setenv("ASSETBOARD_DEFS", str(env.defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    env.build()
    at = open_page("checks", check="joined_data.missing_dimension_check")
    sample = at.dataframe[1].value  # orphan sales: no rep, so no rep_name
    assert "NULL" in set(sample["rep_name"])
    assert not sample.isna().any().any()


def test_a_run_that_failed_only_on_checks_names_them_at_the_top(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every asset built, three checks failed: the run's details say which, first, as they
    say an asset's error, and its checks table opens on them."""
    env = Env(tmp_path, db_path, orphan_rate=0.1)
    monkeypatch.setenv("ASSETBOARD_DEFS", str(env.defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    result = env.build()
    failed = sorted(c.key for c in result.checks if c.outcome == "failed")
    assert len(failed) == 3 and result.run.assets_failed == 0

    at = open_page("runs")
    errors = texts(at.error)
    for key in failed:
        assert f"**Check {key}: failed**: observed" in errors
    assert "Errors" in texts(at.markdown)
    table = at.dataframe[-1].value
    assert list(table["Check"][:3]) == failed and set(table["Outcome"][:3]) == {"Failed"}


def test_a_run_that_only_warned_names_its_warnings_under_their_own_heading(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs_path = tmp_path / "warn_defs.py"
    defs_path.write_text(
        "from pipeline import CheckResult, Definitions, asset, asset_check\n"
        "@asset(name='orders')\n"
        "def orders(con):\n"
        "    return 'SELECT 1 AS id'\n"
        "@asset_check(asset='orders', severity='warn', description='Orders look odd.')\n"
        "def odd(con):\n"
        "    return CheckResult(passed=False, observed_value=3)\n"
        "defs = Definitions([orders], [odd])\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    assert materialize(load_definitions(str(defs_path)), db=db_path).ok

    at = open_page("runs")
    assert "**Check orders.odd: warned**: observed 3" in texts(at.warning)
    assert "**Warnings**" in texts(at.markdown) and "**Errors**" not in texts(at.markdown)
    assert not at.error


def test_a_check_that_did_not_run_has_no_time_in_every_execution(built: Env) -> None:
    (built.data / "sales_data.csv").unlink()  # sales_data fails: its checks do not run
    assert not built.build().ok
    at = open_page("checks", check="sales_data.positive_quantities")
    executions = at.dataframe[-1].value
    assert list(executions["Outcome"]) == ["Not run", "Passed"]
    assert executions["When"].iloc[0] == "—"  # not "None"
    assert executions["When"].iloc[1][:2] == "20"  # a date and time


def test_a_run_started_elsewhere_is_not_shown_as_this_sessions_own(env: Env) -> None:
    """Another tab followed the run; only the tab that started it shows its outcome box."""
    defs = load_definitions(str(env.defs_path))
    runs.start(defs, env.db, None, label="Materialize all", planned=defs.graph.names)
    runs.wait(env.db)  # finished before this session opened the page
    assert not open_page("graph", asset="joined_data").status
    assert not open_page("materialize").status
    assert "Run 1: Succeeded" in texts(open_page("overview").success)  # the history says it


def test_an_anomaly_check_shows_its_value_against_the_expected_band(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count_file = tmp_path / "rows.txt"
    defs_path = tmp_path / "volume_defs.py"
    defs_path.write_text(
        "from pathlib import Path\n"
        "from pipeline import Definitions, asset, checks\n"
        "@asset(name='orders')\n"
        "def orders(con):\n"
        f"    n = int(Path({str(count_file)!r}).read_text())\n"
        "    return f'SELECT range AS id FROM range({n})'\n"
        "defs = Definitions([orders], [checks.volume_anomaly('orders')])\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    defs = load_definitions(str(defs_path))
    for n in [1000, 1020, 980, 1010, 990, 1005, 120]:
        count_file.write_text(str(n), encoding="utf-8")
        materialize(defs, db=db_path)
    at = open_page("checks", check="orders.volume_anomaly")
    assert at.selectbox(key=state.SELECT_CHECK).value == "orders.volume_anomaly"
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    (band_chart,) = [s for s in specs if "band its history expected" in str(s.get("title", ""))]
    names = {layer.get("name") for layer in band_chart["layer"]}
    assert {"band", "anomalous"} <= names
    band = next(layer for layer in band_chart["layer"] if layer.get("name") == "band")
    assert band["mark"]["type"] == "area" and band["encoding"]["y2"]["field"] == "expected_high"
    assert "Observed value by run" not in chart_titles(at)  # the band replaces the rule chart
    assert "Shaded: the band its history expected" in texts(at.caption)
    assert "· row count 120, expected " in texts(at.markdown)  # the latest value and band


# --- the asset catalog ---------------------------------------------------------------------------


def test_a_catalog_selection_typo_keeps_the_table_and_says_why(built: Env) -> None:
    at = open_page("catalog", **{state.CATALOG_SELECTION: "joined_dta"})
    [warning] = at.warning
    text = shown(warning.value)
    assert text.startswith("**The selection names an unknown asset:** unknown asset 'joined_dta'")
    assert text.endswith("The table ignores it.")
    assert not at.error
    assert len(at.dataframe[0].value) == 7  # every asset, unfiltered by the typo


def test_a_catalog_selection_that_does_not_parse_is_told_apart_from_a_typo(built: Env) -> None:
    at = open_page("catalog", **{state.CATALOG_SELECTION: "joined_data or"})
    [warning] = at.warning
    assert shown(warning.value).startswith("**The selection does not parse:** selection ends")


def test_a_long_catalog_selection_is_not_echoed_in_full(built: Env) -> None:
    typed = "joined_data" + "x" * 5_000
    at = open_page("catalog", **{state.CATALOG_SELECTION: typed})
    [warning] = at.warning
    assert len(warning.value) < 1_000 and "4,851 characters cut]" in shown(warning.value)
    assert len(at.dataframe[0].value) == 7


def test_a_run_that_could_not_start_shows_no_asset_as_queued(built: Env) -> None:
    """Started past the toolbar's own refusal (the engine refuses it in the run thread)."""
    defs = load_definitions(str(built.defs_path))
    live = runs.start(defs, built.db, "adhoc_request", label="Try", planned=["adhoc_request"])
    runs.wait(built.db)
    assert live.error is not None and "needs run config" in live.error
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[state.SS_SEEN_RUN] = ui.run_token(live)  # the session that clicked
    at.switch_page("views/materialize.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert shown(at.status[0].label) == "Try: failed — it could not start, see below"
    assert "Queued" not in texts(at.status[0].markdown)
    assert "needs run config" in texts(at.error)
