"""Readers never wait on a run: the history is readable while a run holds the DuckDB file.

ASSETBOARD_LOCK_WAIT=0 makes any reader that touched the DuckDB file fail at once, so these
prove the readers do not need it at all.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness import PipelineProcess, run_cli

NO_WAIT = {"ASSETBOARD_LOCK_WAIT": "0"}


def test_list_runs_and_report_answer_while_a_run_holds_the_warehouse(
    db_path: Path, tmp_path: Path
) -> None:
    assert run_cli(db_path, "materialize", version=1).code == 0
    process = PipelineProcess(
        db_path, tmp_path / "pause", "materialize", pause_at="asset-running:raw", version=2
    )
    process.reached("asset-running")  # the run holds the DuckDB file and the run lock now
    try:
        listed = run_cli(db_path, "list", env=NO_WAIT)
        runs = run_cli(db_path, "runs", env=NO_WAIT)
        report = run_cli(db_path, "report", "--format", "json", "--out", "-", env=NO_WAIT)
    finally:
        process.release("asset-running")
    assert process.finish().code == 0

    assert listed.code == 0 and "raw" in listed.stdout, listed.stderr
    assert runs.code == 0, runs.stderr
    assert "Running" in runs.stdout.splitlines()[1]  # the newest run, still going
    assert report.code == 0, report.stderr
    assert json.loads(report.stdout)["run"]["status"] == "running"
