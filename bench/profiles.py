"""Where the time goes: instrumented runs (bench/costs.py) summarised, and start-up imports.

- `profile_command` runs `python -m bench.costs OUT.json <pipeline args>` `reps` times, taking
  turns with the same command uninstrumented (`python -m pipeline <args>`), so the timers' own
  overhead shows; each run on a fresh database. Per timer it keeps the median over the runs
  of its calls, inclusive and exclusive seconds, and its median call.
- `import_times` runs `python -X importtime -m pipeline --help` and sums each top-level
  package's cumulative import time (medians over the runs).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.costs import SPAWNED_AT
from bench.measure import Sample, run_process, summarize, take_turns
from bench.runs import remove_db

ROOT = Path(__file__).resolve().parents[1]

# Phases of one `python -m pipeline materialize` process, from the timers' labels.
SET_UP = (
    "run lock (enter)",
    "DuckDB connect/close (enter)",
    "recovery.inspect",
    "history open/close (enter)",
    "recovery.prepare",
    "history start_run",
    "signal handlers (enter)",
)
TEAR_DOWN = (
    "DuckDB connect/close (exit)",
    "history open/close (exit)",
    "run lock (exit)",
    "signal handlers (exit)",
)
IMPORTS = "imports (pipeline.__main__ and all it imports)"
RUN = "runner.execute (plan + run + finish)"


def profile_command(
    pipeline_args: Sequence[str],
    db: Path,
    reps: int,
    env: dict[str, str] | None = None,
    *,
    fresh: bool = True,
    keep: bool = False,
) -> dict[str, Any]:
    """Instrumented and plain runs of `python -m pipeline <pipeline_args> --db db`, in turns.

    `fresh`: each run starts from no database (the instrumented side on `db`, the plain side
    on a file beside it), removed again after it; `keep` leaves the last instrumented run's
    database at `db` (for a reader to profile next). Not `fresh`: both sides read `db` as is.
    """
    env = dict(env or os.environ)
    reports: list[dict[str, Any]] = []
    plain_db = db.with_name(f"uninstrumented-{db.name}") if fresh else db
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-costs-") as tmp:
        out = Path(tmp) / "costs.json"

        def instrumented() -> Sample:
            if fresh:
                remove_db(db)
            run_env = dict(env, **{SPAWNED_AT: repr(time.time())})
            args = [*pipeline_args, "--db", str(db)]
            try:
                sample = run_process(
                    [sys.executable, "-m", "bench.costs", str(out), *args],
                    env=run_env,
                    cwd=ROOT,
                    ok_codes=(0, 1),
                )
            except BaseException:
                if fresh:
                    remove_db(db)
                raise
            if fresh and not keep:
                remove_db(db)
            report = json.loads(out.read_text(encoding="utf-8"))
            report["wall_s"] = sample.wall_s
            reports.append(report)
            return sample

        def plain() -> Sample:
            if fresh:
                remove_db(plain_db)
            try:
                command = [sys.executable, "-m", "pipeline", *pipeline_args, "--db", str(plain_db)]
                return run_process(command, env=env, cwd=ROOT, ok_codes=(0, 1))
            finally:
                if fresh:
                    remove_db(plain_db)

        sides: dict[str, Callable[[], Sample]] = {"instrumented": instrumented, "plain": plain}
        samples = take_turns(sides, reps, warmup=0)
    return {
        "wall_s": summarize([s.wall_s for s in samples["instrumented"]]),
        "uninstrumented_wall_s": summarize([s.wall_s for s in samples["plain"]]),
        **summarize_reports(reports),
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarize_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Per timer, medians over the runs; and the process split into phases."""
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for report in reports:
        for row in report["timers"]:
            by_key.setdefault((row["label"], row["thread"]), []).append(row)
    timers = []
    for (label, thread), rows in sorted(by_key.items()):
        timers.append(
            {
                "label": label,
                "thread": thread,
                "runs": len(rows),
                "calls": _median([r["calls"] for r in rows]),
                "inclusive_s": _median([r["inclusive_s"] for r in rows]),
                "exclusive_s": _median([r["exclusive_s"] for r in rows]),
                "median_call_s": _median([r["median_s"] for r in rows]),
                "first_call_s": _median([r["first_s"] for r in rows]),
            }
        )

    def inclusive(report: dict[str, Any], labels: Sequence[str]) -> float:
        return sum(r["inclusive_s"] for r in report["timers"] if r["label"] in labels)

    phases: dict[str, list[float]] = {}
    for report in reports:
        run = inclusive(report, (RUN,))
        engine = inclusive(report, ("engine.materialize (whole run)",))
        defs = inclusive(report, ("load definitions",))
        tear_down = inclusive(report, TEAR_DOWN)
        parts = {
            "interpreter start-up (before the first line of Python)": report["start_up_s"],
            "imports": inclusive(report, (IMPORTS,)),
            "load definitions (import the module, validate the graph)": defs,
            "run set-up (lock, connect, recovery, history, start_run)": engine - run - tear_down,
            "the run (plan, builds and checks, history writes, finish)": run,
            "run tear-down (close DuckDB: checkpoint; close the history)": tear_down,
            (
                "rest of main() (arguments, selection, summary line)"
                if engine
                else "the command itself (main() after loading the definitions)"
            ): inclusive(report, ("pipeline main()",)) - defs - engine,
            "interpreter exit (after main returns)": report["wall_s"] - report["since_spawn_s"],
        }
        for name, seconds in parts.items():
            phases.setdefault(name, []).append(seconds)
    return {
        "runs": len(reports),
        "missing_targets": sorted({m for r in reports for m in r["missing_targets"]}),
        "exit_codes": sorted({r["exit_code"] for r in reports}),
        "timers": timers,
        "phases": {name: summarize(values) for name, values in phases.items()},
    }


def import_times(reps: int = 3, top: int = 12) -> dict[str, Any]:
    """Import seconds of `python -m pipeline --help`: the self time of each module (medians
    over `reps` runs), the slowest modules, and the sums per top-level package (which add up
    to the total)."""
    modules: dict[str, list[float]] = {}
    walls: list[float] = []
    for _ in range(reps):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "pipeline", "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append(time.perf_counter() - started)
        for line in done.stderr.splitlines():
            parsed = _import_line(line)
            if parsed is not None:
                self_us, name = parsed
                modules.setdefault(name.strip(), []).append(self_us / 1e6)
    medians = {name: _median(values) for name, values in modules.items()}
    packages: dict[str, float] = {}
    for name, seconds in medians.items():
        root = name.split(".")[0].lstrip("_")
        packages[root] = packages.get(root, 0.0) + seconds
    return {
        "wall_s": summarize(walls),
        "all_imports_s": sum(medians.values()),
        "modules": sorted(medians.items(), key=lambda item: -item[1])[:top],
        "packages": sorted(packages.items(), key=lambda item: -item[1])[:top],
    }


def _import_line(line: str) -> tuple[float, str] | None:
    """'import time:   123 |   456 |   a.b' -> (123.0, '  a.b'): self time, nested name."""
    if not line.startswith("import time:"):
        return None
    parts = line[len("import time:") :].split("|", 2)
    if len(parts) != 3 or not parts[1].strip().isdigit():
        return None  # the header line
    return float(parts[0]), parts[2][1:]
