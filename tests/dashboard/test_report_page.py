"""The Report page: empty store, the latest run's report, permalinks, unknown run ids."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dashboard_env import shown
from streamlit.testing.v1 import AppTest

from dashboard import state
from dashboard.models import report as report_service
from dashboard.settings import Settings
from pipeline.datagen import generate
from pipeline.definitions import load_definitions
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions
from pipeline.report import build_report

PAGE = "../../dashboard/views/report.py"  # relative to this test file


@pytest.fixture
def sales_env(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sales pipeline on small generated data with orphan keys, so a check fails."""
    data = tmp_path / "data"
    generate(200, data, orphan_rate=0.1, seed=1)
    monkeypatch.setenv("ASSETBOARD_SALES_DATA", str(data))
    monkeypatch.setenv("ASSETBOARD_DEFS", "pipeline.examples.sales")
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    return db_path


def _runs(db: Path, data: str, count: int) -> list[int]:
    defs = build_definitions(data)
    return [materialize(defs, db=db).run_id for _ in range(count)]


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30)


def _iframe_html(at: AppTest) -> str:
    frames = at.get("iframe")
    assert len(frames) == 1
    return frames[0].proto.srcdoc


def test_empty_store_says_how_to_get_a_report(sales_env: Path) -> None:
    at = _page().run()
    assert not at.exception
    assert "No runs yet, so there is nothing to report" in at.info[0].value
    assert not at.selectbox


def test_after_a_run_the_latest_report_is_shown_with_files_and_permalink(
    sales_env: Path,
) -> None:
    run_ids = _runs(sales_env, os.environ["ASSETBOARD_SALES_DATA"], 2)
    at = _page().run()
    assert not at.exception
    picker = at.selectbox(key=state.SELECT_REPORT_RUN)
    assert picker.value == run_ids[-1]
    assert picker.options[0].startswith(f"Run {run_ids[-1]} · Failed · materialize · 20")
    assert at.query_params[state.QP_REPORT_RUN] == str(run_ids[-1])
    expected = build_report(sales_env, run_ids[-1]).check_counts
    assert expected["failed"] >= 1 and expected["passed"] >= 1
    summary = shown(at.caption[0].value)
    assert summary.startswith(f"Run {run_ids[-1]} failed · checks: {expected['failed']} failed,")
    assert f"{expected['passed']} passed" in summary
    assert at.code[0].value.endswith(f"?run={run_ids[-1]}")
    html = _iframe_html(at)
    assert f"Run {run_ids[-1]} failed: {expected['failed'] + expected['error']} check" in html
    assert "missing_dimension_check" in html and "https://" not in html
    buttons = [el.proto.label for el in at.get("download_button")]
    assert buttons == ["HTML", "JSON", "JUnit XML", "Markdown"]


def test_permalink_opens_that_run_and_picking_another_updates_it(sales_env: Path) -> None:
    first, second = _runs(sales_env, os.environ["ASSETBOARD_SALES_DATA"], 2)
    at = _page()
    at.query_params[state.QP_REPORT_RUN] = str(first)
    at.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key=state.SELECT_REPORT_RUN).value == first
    assert f"Run {first} failed" in _iframe_html(at)

    at.selectbox(key=state.SELECT_REPORT_RUN).select(second).run()
    assert at.query_params[state.QP_REPORT_RUN] == str(second)
    assert f"Run {second} failed" in _iframe_html(at)


def test_unknown_run_id_gets_a_readable_message_and_the_latest_run(sales_env: Path) -> None:
    (latest,) = _runs(sales_env, os.environ["ASSETBOARD_SALES_DATA"], 1)
    at = _page()
    at.query_params[state.QP_REPORT_RUN] = "999"
    at.run()
    assert not at.exception
    assert shown(at.warning[0].value) == (
        f"There is no run '999' in this database (recent runs: {latest}, or 'latest')."
        f" Showing run {latest} instead."
    )
    assert at.selectbox(key=state.SELECT_REPORT_RUN).value == latest


def _run_without_checks(db: Path) -> int:
    """What the walkthrough did: adhoc_request alone, with run config; it has no checks."""
    defs = build_definitions(os.environ["ASSETBOARD_SALES_DATA"])
    request = {
        "department": "x",
        "product": "y",
        "start_date": "2024-01-01",
        "end_date": "2024-02-01",
    }
    config = {"adhoc_request": request}
    result = materialize(defs, "adhoc_request", db=db, run_config=config)
    assert result.ok and not result.checks
    return result.run_id


def test_by_default_the_report_is_of_the_latest_run_that_ran_checks(sales_env: Path) -> None:
    (checked,) = _runs(sales_env, os.environ["ASSETBOARD_SALES_DATA"], 1)
    unchecked = _run_without_checks(sales_env)
    at = _page().run()
    assert not at.exception and not at.warning
    # It used to show the newest run, with no checks, as a green "Run N passed".
    assert at.selectbox(key=state.SELECT_REPORT_RUN).value == checked
    assert shown(at.info[0].value) == (
        f"Showing run {checked}, the latest run that ran checks: run {unchecked} ran none"
        " (pick one below to see it anyway)."
    )
    assert f"Run {checked} failed" in _iframe_html(at)
    at.selectbox(key=state.SELECT_REPORT_RUN).select(unchecked).run()
    assert shown(at.caption[0].value).startswith(f"Run {unchecked} ran no checks · checks: 0")
    assert f"Run {unchecked} ran no checks" in _iframe_html(at)
    assert "passed" not in shown(at.caption[0].value).split("·")[0]


def test_run_latest_in_the_url_is_the_newest_run_as_documented(sales_env: Path) -> None:
    _runs(sales_env, os.environ["ASSETBOARD_SALES_DATA"], 1)
    unchecked = _run_without_checks(sales_env)
    at = _page()
    at.query_params[state.QP_REPORT_RUN] = "latest"
    at.run()
    # It used to answer "There is no run 'latest'" and then show the latest run anyway.
    assert not at.exception and not at.warning and not at.info
    assert at.selectbox(key=state.SELECT_REPORT_RUN).value == unchecked
    assert at.query_params[state.QP_REPORT_RUN] == "latest"  # the link keeps following
    assert at.code[0].value.endswith(f"?run={unchecked}")  # the permalink names the run


def test_service_offers_every_format_and_keeps_old_permalinks_working(sales_env: Path) -> None:
    run_ids = _runs(sales_env, os.environ["ASSETBOARD_SALES_DATA"], 3)
    cfg = Settings(defs="pipeline.examples.sales", db=sales_env)
    monkey_runs = report_service.RUNS_OFFERED
    try:
        report_service.RUNS_OFFERED = 2  # the first run is now older than the picker's list
        choice = report_service.choose_run(cfg, str(run_ids[0]))
    finally:
        report_service.RUNS_OFFERED = monkey_runs
    assert choice is not None and choice.run_id == run_ids[0] and choice.message is None
    report = report_service.load_report(cfg, load_definitions(cfg.defs), run_ids[0])
    files = report_service.downloads(report)
    assert [f.file_name for f in files.values()] == [
        f"assetboard-run-{run_ids[0]}.html",
        f"assetboard-run-{run_ids[0]}.json",
        f"assetboard-run-{run_ids[0]}-junit.xml",
        f"assetboard-run-{run_ids[0]}.md",
    ]
    assert files["junit"].data.startswith(b"<?xml")
    assert report_service.permalink("http://host:8501/report?run=1#x", "run", 7) == (
        "http://host:8501/report?run=7"
    )


def test_when_no_run_ran_checks_the_newest_is_shown_and_the_page_says_so(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = tmp_path / "unchecked_defs.py"
    defs.write_text(
        "from pipeline import Definitions, asset\n"
        "defs = Definitions([asset(lambda con: 'SELECT 1 AS n', name='plain')])\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    unchecked = load_definitions(str(defs))
    first, newest = (materialize(unchecked, db=db_path).run_id for _ in range(2))
    at = _page().run()
    assert not at.exception and not at.warning
    assert shown(at.info[0].value) == "No run in the list below ran checks: showing the newest."
    assert at.selectbox(key=state.SELECT_REPORT_RUN).value == newest > first
    assert f"Run {newest} ran no checks" in _iframe_html(at)
