"""A run started on the command line shows in the dashboard as it goes, and the dashboard's
Cancel button stops it: the request travels through the history, the CLI exits 130."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import SCENARIO, PipelineProcess, assert_history_matches_warehouse, run_cli
from streamlit.testing.v1 import AppTest

from dashboard import state
from pipeline import store

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it


def test_the_dashboard_follows_and_cancels_a_run_started_on_the_command_line(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli(db_path, "materialize", version=1).code == 0
    monkeypatch.setenv("ASSETBOARD_DEFS", SCENARIO)
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    cli = PipelineProcess(
        db_path, tmp_path / "pause", "materialize", "--workers", "1",
        pause_at="asset-running:raw", version=2,
    )  # fmt: skip
    cli.reached("asset-running")

    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/overview.py").run()
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert "from the command line): 0 of 4 assets done" in shown
    assert "**raw** :blue[:material/progress_activity: Running]" in shown
    assert "**side** :gray[:material/schedule: Queued]" in shown

    at.button(key=state.BTN_CANCEL_RUN).click().run()
    finished = cli.finish()  # the paused build lets go on the cancel request
    assert finished.code == 130, finished.stdout + finished.stderr
    assert "cancelled by the Cancel button in the dashboard" in finished.stdout
    with store.open_store(db_path) as con:
        run = store.list_runs(con, 1)[0]
    assert run.status == "cancelled" and run.cancel_requested_by.startswith("the Cancel button")
    assert_history_matches_warehouse(db_path)
