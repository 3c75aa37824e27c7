"""Partitions in the dashboard under AppTest: the strip in an asset's details, the clicked
partition and its Rebuild button, the backfill form, and backfills on the Runs page.

Two pipelines: the sales example (a monthly and a static partitioned asset) and a tiny monthly
asset whose February fails while a marker file exists and whose March fails its check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_env import defs_file, sample_data, shown, wait_for_file
from streamlit.testing.v1 import AppTest

from dashboard import runs, state
from dashboard.partition_panel import digest
from pipeline import faults, store
from pipeline.definitions import load_definitions
from pipeline.engine import materialize
from pipeline.partition_runs import PartitionRequest
from pipeline.partition_status import partition_states

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it
MONTHLY = "monthly_sales_performance"

FLAKY = """
from pathlib import Path

from pipeline import Definitions, MonthlyPartitions, StaticPartitions, asset, checks

BROKEN = Path({marker!r})


@asset(partitions=MonthlyPartitions(start="2024-01-01", end="2024-07-01"), partition_column="month")
def monthly(con, context):
    start = context.partition_window.start
    if BROKEN.exists() and str(start) == "2024-02-01":
        raise RuntimeError("source for <February> is missing")
    amount = -5 if str(start) == "2024-03-01" else 2
    return f"SELECT DATE '{{start}}' AS month, {{amount}} AS amount"


@asset(partitions=StaticPartitions({keys!r}), partition_column="tag")
def tagged(con, context):
    return con.sql("SELECT $k AS tag", params={{"k": context.partition_key}})


defs = Definitions(
    assets=[monthly, tagged],
    checks=[checks.expression("monthly", "amount >= 0", name="non_negative")],
)
"""
HOSTILE_KEY = "[click](http://evil.example) :red[x]"


class Env:
    def __init__(self, defs_path: Path, db: Path) -> None:
        self.defs_path, self.db = defs_path, db

    def materialize(self, select: str, partitions: PartitionRequest | None = None) -> None:
        defs = load_definitions(str(self.defs_path))
        materialize(defs, select, db=self.db, partitions=partitions)

    def states(self, asset: str) -> dict[str, str]:
        defs = load_definitions(str(self.defs_path))
        with store.open_store(self.db) as con:
            return {s.key: s.status for s in partition_states(defs, con, asset)}


def _env(defs_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs_path))
    monkeypatch.setenv("ASSETBOARD_DB", str(db))
    yield Env(defs_path, db)
    runs.wait(db)  # never leave a run thread behind


@pytest.fixture
def sales(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The sales example with joined_data and three months built."""
    defs_path = defs_file(tmp_path, sample_data(tmp_path / "data"))
    for env in _env(defs_path, db_path, monkeypatch):
        env.materialize("+joined_data")
        env.materialize(MONTHLY, PartitionRequest(first="2024-01-01", last="2024-03-01"))
        yield env


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    marker = tmp_path / "february-is-broken"
    marker.touch()
    return marker


@pytest.fixture
def flaky(
    tmp_path: Path, db_path: Path, broken: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Env]:
    """Backfill 1 (run 1) built January to April: February failed, March failed its check."""
    defs_path = tmp_path / "flaky_defs.py"
    keys = ["plain", HOSTILE_KEY]
    defs_path.write_text(FLAKY.format(marker=str(broken), keys=keys), encoding="utf-8")
    for env in _env(defs_path, db_path, monkeypatch):
        env.materialize("monthly", PartitionRequest(first="2024-01-01", last="2024-04-01"))
        yield env


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def finish(at: AppTest, db: Path) -> AppTest:
    """Wait for the background run, then rerun the page as its fragment timer would."""
    runs.wait(db)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: object) -> str:
    return "\n".join(shown(str(element.value)) for element in elements)  # type: ignore[attr-defined]


def strip(at: AppTest, asset: str) -> list:
    prefix = state.partition_key(state.PARTITION_STRIP, digest(asset))
    return [p for p in at.pills if str(p.key).startswith(prefix)]


def range_keys(asset: str) -> tuple[str, str]:
    return (
        state.partition_key(state.SELECT_BACKFILL_FROM, digest(asset)),
        state.partition_key(state.SELECT_BACKFILL_TO, digest(asset)),
    )


# --- the strip ---------------------------------------------------------------------------------


def test_the_strip_has_one_cell_per_partition_in_rows_by_year(sales: Env) -> None:
    at = open_page("graph", asset=MONTHLY)
    rows = strip(at, MONTHLY)
    assert [row.label for row in rows] == ["2024", "2025"]
    assert [len(row.options) for row in rows] == [12, 12]
    assert rows[0].options[:3] == ["Jan", "Feb", "Mar"]
    assert "**Partitions** · 3 of 24 partitions materialized" in texts(at.markdown)
    legend = texts(at.caption)
    assert "Materialized 3" in legend and "Missing 21" in legend and "Failed 0" in legend
    # The reason under the health starts with the summary too (it comes from status.py).
    assert "3 of 24 partitions materialized; built and up to date" in texts(at.markdown)


def test_cells_are_coloured_by_status_from_the_looks_table(sales: Env) -> None:
    at = open_page("graph", asset=MONTHLY)
    css = "\n".join(element.value for element in at.html)
    first_row = f".st-key-{strip(at, MONTHLY)[0].key} button[role='radio']"
    assert f"{first_row}:nth-child(1) {{ background: #e8f5e9; border: 1px solid #2e7d32; }}" in css
    assert f"{first_row}:nth-child(4) {{ background: transparent; border: 1px dashed" in css


def test_clicking_a_cell_shows_that_partition_and_keeps_it_in_the_url(sales: Env) -> None:
    at = open_page("graph", asset=MONTHLY)
    assert "Click a partition" in texts(at.caption)
    strip(at, MONTHLY)[0].set_value("2024-02-01").run()
    assert at.query_params[state.QP_PARTITION] == "2024-02-01"
    page = texts(at.markdown)
    assert "**February 2024** (2024-02-01)" in page and "Materialized" in page
    assert "non_negative_totals" in page and "Passed" in page
    assert " rows**, built " in texts(at.caption) and "in run 2." in texts(at.caption)
    # Opened from a shared link, the same partition is shown and its cell chosen.
    again = open_page("graph", asset=MONTHLY, partition="2024-02-01")
    assert strip(again, MONTHLY)[0].value == "2024-02-01"
    assert strip(again, MONTHLY)[1].value is None


def test_rebuild_this_partition_builds_only_it(sales: Env) -> None:
    at = open_page("graph", asset=MONTHLY, partition="2024-05-01")
    assert "Never built" in texts(at.caption)
    at.button(key=state.BTN_REBUILD_PARTITION).click().run()
    finish(at, sales.db)
    live = runs.current(sales.db)
    assert live is not None and live.ok and live.partitions == PartitionRequest(keys=["2024-05-01"])
    assert live.label == f"Rebuild {MONTHLY} [2024-05-01]" and live.backfill_id is None
    assert sales.states(MONTHLY)["2024-05-01"] == "materialized"
    assert "**Partitions** · 4 of 24 partitions materialized" in texts(at.markdown)


def test_the_backfill_form_builds_a_range_in_either_order(sales: Env) -> None:
    at = open_page("graph", asset=MONTHLY)
    first, last = range_keys(MONTHLY)
    assert at.selectbox(key=first).value == "2024-04-01"  # the first partition not built
    at.selectbox(key=first).set_value("2024-06-01")
    at.selectbox(key=last).set_value("2024-04-01").run()
    button = at.button(key=state.BTN_BACKFILL_RANGE)
    assert button.label == "Backfill 3 partitions"
    button.click().run()
    finish(at, sales.db)
    live = runs.current(sales.db)
    assert live is not None and live.ok and live.backfill_id is not None
    assert live.partitions == PartitionRequest(first="2024-04-01", last="2024-06-01")
    built = sales.states(MONTHLY)
    assert [k for k, s in built.items() if s == "materialized"] == [
        f"2024-0{month}-01" for month in range(1, 7)
    ]
    assert "6 of 24 partitions materialized" in texts(at.markdown)


def test_all_missing_builds_every_partition_without_rows(sales: Env) -> None:
    at = open_page("graph", asset=MONTHLY)
    assert at.button(key=state.BTN_BACKFILL_FAILED).disabled  # none failed
    missing = at.button(key=state.BTN_BACKFILL_MISSING)
    assert missing.label == "Backfill all missing (21)"
    missing.click().run()
    finish(at, sales.db)
    assert set(sales.states(MONTHLY).values()) == {"materialized"}
    assert at.button(key=state.BTN_BACKFILL_MISSING).disabled


def test_a_failed_partition_shows_its_error_and_all_failed_builds_it_again(
    flaky: Env, broken: Path
) -> None:
    at = open_page("graph", asset="monthly", partition="2024-02-01")
    assert "**February 2024** (2024-02-01)" in texts(at.markdown)
    assert "Its latest build failed in run 1:" in texts(at.caption)
    assert "RuntimeError: source for <February> is missing" in texts(at.code)
    cells = strip(at, "monthly")[0].proto.options
    assert cells[1].content_icon == ":material/error:"  # failed says so, not only in red
    assert cells[2].content == "Mar :red[:material/cancel:]"  # March: its check failed
    broken.unlink()  # the source is back
    at.button(key=state.BTN_BACKFILL_FAILED).click().run()
    finish(at, flaky.db)
    live = runs.current(flaky.db)
    assert live is not None and live.partitions == PartitionRequest(failed=True)
    assert flaky.states("monthly")["2024-02-01"] == "materialized"


def test_keys_from_the_definitions_are_shown_as_text(flaky: Env) -> None:
    at = open_page("graph", asset="tagged", partition=HOSTILE_KEY)
    labels = strip(at, "tagged")[0].options
    assert labels[1] != HOSTILE_KEY and shown(labels[1]) == HOSTILE_KEY
    assert f"**{HOSTILE_KEY}** ·" in texts(at.markdown)
    assert "](http" not in "".join(str(m.value) for m in at.markdown)


def test_a_partition_of_one_row_says_1_row(flaky: Env) -> None:
    at = open_page("graph", asset="monthly", partition="2024-01-01")  # one row per month
    assert "**1 row**, built " in texts(at.caption)


# --- the Runs page -------------------------------------------------------------------------------


def test_the_runs_page_lists_a_backfill_with_progress_and_resumes_it(
    flaky: Env, broken: Path
) -> None:
    at = open_page("runs")
    card = texts(at.markdown)
    assert "**Backfill 1** · :red[:material/error: Failed] · **monthly**" in card
    assert "2024-01-01 … 2024-04-01 (4 partitions)" in texts(at.caption)
    assert at.progress[0].value == 75 and shown(at.progress[0].proto.text).startswith(
        "3 of 4 partitions built, 1 failed"
    )
    assert "**Partitions in this run**" in card
    partitions = at.dataframe[1].value
    assert list(partitions["Status"]) == ["Built", "Failed", "Built", "Built"]
    assert partitions["Checks"][2] == "non_negative failed"
    assert partitions["Checks"][0] == "non_negative passed"  # it ran there: never a blank
    assert partitions["Checks"][1] == "non_negative not run"  # its partition failed to build

    broken.unlink()
    at.button(key=f"{state.BTN_RESUME_BACKFILL}-1").click().run()
    finish(at, flaky.db)
    live = runs.current(flaky.db)
    assert live is not None and live.ok and live.partitions == PartitionRequest(backfill=1)
    with store.open_store(flaky.db) as con:
        backfill = store.get_backfill(con, 1)
        rebuilt = [e.partition_key for e in store.run_partition_events(con, 2)]
    assert backfill is not None and backfill.run_ids == [1, 2] and backfill.status == "success"
    assert rebuilt == ["2024-02-01"]  # only what no run of it had built
    assert "4 of 4 partitions built" in shown(at.progress[0].proto.text)
    assert not [b for b in at.button if str(b.key).startswith(state.BTN_RESUME_BACKFILL)]


def test_a_backfills_run_opens_below(flaky: Env) -> None:
    flaky.materialize("monthly", PartitionRequest(keys=["2024-05-01"]))  # run 2, no backfill
    at = open_page("runs")
    assert at.selectbox(key=state.SELECT_RUN).value == 2
    at.button(key=f"{state.BTN_OPEN_RUN}-1-1").click().run()
    assert at.query_params[state.QP_RUN] == "1"
    assert at.selectbox(key=state.SELECT_RUN).value == 1
    assert any(shown(h.value).startswith("Run 1 ·") for h in at.subheader)


@pytest.fixture
def held_backfill(flaky: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Backfill 2, started from the dashboard, held while it builds May."""
    pauses = tmp_path / "pauses"
    pauses.mkdir()
    # A cancel earlier in this process (another test's) lets every later pause go at once.
    monkeypatch.setattr(faults, "_stopping", threading.Event())
    monkeypatch.setenv("ASSETBOARD_PAUSE_AT", "asset-running:monthly[2024-05-01]")
    monkeypatch.setenv("ASSETBOARD_PAUSE_DIR", str(pauses))
    defs = load_definitions(str(flaky.defs_path))
    request = PartitionRequest(first="2024-05-01", last="2024-06-01")
    runs.start(defs, flaky.db, "monthly", label="Backfill", planned=["monthly"], partitions=request)
    wait_for_file(pauses / "asset-running.reached")
    try:
        yield pauses
    finally:
        (pauses / "asset-running.release").touch()
        runs.wait(flaky.db)


def test_cancel_stops_the_run_of_a_backfill_and_resume_is_offered(
    flaky: Env, held_backfill: Path
) -> None:
    at = open_page("runs")
    assert "**Backfill 2** · :blue[:material/progress_activity: Running]" in texts(at.markdown)
    assert "Backfill 2: 0 of 2 partitions built" in texts(at.caption)  # the live panel
    assert at.button(key=f"{state.BTN_OPEN_RUN}-2-2").label == "Run 2 (going on)"
    assert not [b for b in at.button if b.key == f"{state.BTN_RESUME_BACKFILL}-2"]
    at.button(key=f"{state.BTN_CANCEL_BACKFILL}-2").click().run()
    live = runs.wait(flaky.db)
    assert live is not None and live.status == "cancelled"
    at.run()
    assert "**Backfill 2** · :orange[:material/stop_circle: Cancelled]" in texts(at.markdown)
    assert at.button(key=f"{state.BTN_RESUME_BACKFILL}-2").label == "Resume"


# --- overview and catalog ------------------------------------------------------------------------


def test_overview_and_catalog_give_each_partitioned_assets_summary(sales: Env) -> None:
    at = open_page("overview")
    bars = {shown(bar.proto.text): bar.value for bar in at.progress}
    assert bars["3 of 24 partitions materialized"] == 12
    assert bars["0 of 4 partitions materialized"] == 0
    catalog = open_page("catalog").dataframe[0].value
    why = catalog.loc[catalog["Asset"].str.endswith(f"={MONTHLY}"), "Why"]
    assert list(why) == ["3 of 24 partitions materialized; built and up to date; its checks pass"]


# --- the preview -------------------------------------------------------------------------------


def _preview(at: AppTest) -> tuple[list[dict], str]:
    """The Preview tab's table and the caption under it."""
    [tab] = [tab for tab in at.tabs if tab.label == "Preview"]
    [table] = tab.dataframe
    [caption] = tab.caption
    return table.value.to_dict("records"), shown(str(caption.value))


def test_a_partitioned_preview_is_the_tables_not_the_last_built_partitions(
    flaky: Env, broken: Path
) -> None:
    broken.unlink()
    flaky.materialize("monthly", PartitionRequest(keys=["2024-02-01"]))
    rows, caption = _preview(open_page("graph", asset="monthly"))
    # Rebuilding February alone used to make its one row the preview of a 4-row table.
    assert [row["month"] for row in rows] == [
        "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
    ]  # fmt: skip
    assert caption == (
        "All 4 rows of the table, partition by partition in key order"
        " (newest partition build: run 2)."
    )


def test_partitions_built_before_a_code_change_read_stale_and_say_why(
    flaky: Env, broken: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = tmp_path / "flaky_changed_defs.py"
    source = FLAKY.format(marker=str(broken), keys=["plain", HOSTILE_KEY])
    changed.write_text(source.replace("amount = -5", "amount = -6"), encoding="utf-8")
    monkeypatch.setenv("ASSETBOARD_DEFS", str(changed))
    at = open_page("graph", asset="monthly", partition="2024-01-01")
    # They read "Materialized", with "Stale 0" in the legend, whatever code built them.
    assert "Stale 3" in texts(at.caption)
    assert "Its code changed since it was built." in texts(at.caption)
