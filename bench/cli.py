"""Whole-process wall times of the command line's quick commands, against the interpreter.

Taking turns, each a child process: `python -c pass` (the interpreter's floor), `python -c
"import duckdb"` (what any DuckDB tool pays), `python -m pipeline --help`, and `python -m
pipeline list --defs <views module> --db <materialized db>` on the views of bench/views.py
(2,000 by default), whose database a real engine run materialized, history included.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from bench.measure import Sample, run_process, summarize, take_turns
from bench.views import ROOT, Workspace

SIDES = ("python -c pass", 'python -c "import duckdb"', "--help", "list")


def commands(workspace: Workspace) -> dict[str, list[str]]:
    db = workspace.ensure_materialized()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import duckdb"': [sys.executable, "-c", "import duckdb"],
        "--help": [sys.executable, "-m", "pipeline", "--help"],
        "list": [
            *(sys.executable, "-m", "pipeline", "list"),
            *("--defs", str(workspace.module), "--db", str(db)),
        ],
    }


def compare(workspace: Workspace, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Median (min to max) wall seconds and peak RSS per command; each command's run is checked
    (exit 0) by run_process."""
    argv = commands(workspace)

    def side(name: str) -> Callable[[], Sample]:
        return lambda: run_process(argv[name], cwd=ROOT)

    samples = take_turns({name: side(name) for name in SIDES}, reps, warmup)
    result: dict[str, Any] = {"views": workspace.views, "sides": {}}
    for name, runs in samples.items():
        result["sides"][name] = {
            "wall_s": summarize([s.wall_s for s in runs]),
            "rss_mb": summarize([s.max_rss_mb for s in runs]),
        }
    floor = result["sides"]["python -c pass"]["wall_s"]
    for name in ("--help", "list"):
        wall = result["sides"][name]["wall_s"]
        result["sides"][name]["over_floor_s"] = wall.median - floor.median
    return result
