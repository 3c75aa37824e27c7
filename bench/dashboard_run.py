"""A run started from the dashboard, in a real browser, against the same run from the command line.

Taking turns on the same CSVs, each on a fresh database:
- cli: `python -m pipeline materialize --db FRESH` as a child process; its whole wall time, and
  the run's own duration as its history records it;
- dashboard: a fresh `streamlit run dashboard/app.py` (tests/e2e/e2e_env.py starts it the way
  the browser tests do) and headless Chromium through Playwright (/usr/bin/chromium, the e2e
  flags; never `playwright install`). The Materialize page is loaded and left to settle; then
  "Materialize all" is clicked, and the time runs from the click (a capture listener in the
  page stamps `Date.now()`) until the page shows the outcome "Materialize all: succeeded"
  (a MutationObserver stamps `Date.now()` the moment that text enters the page). The server
  start and the page load are not timed.

From the history's started_at / ended_at (naive UTC) and the browser's stamps (the same
machine clock) each dashboard run splits into: click to run start, the run itself, and run end
to outcome shown: the UI's own latency.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.measure import run_process, summarize, take_turns
from bench.runs import recorded_run, remove_db

ROOT = Path(__file__).resolve().parents[1]
E2E_ENV = ROOT / "tests" / "e2e" / "e2e_env.py"
BUTTON = "Materialize all"
OUTCOME = r"Materialize all: (succeeded|failed|cancelled)"

# Stamps the first click and the moment the outcome text appears, in the page's clock (ms). The
# observer looks at most once per animation frame, and only after the click: reading the page's
# text on every DOM mutation of a run in progress cost the browser more than the page did.
_OBSERVE = """
(pattern) => {
  window.__benchClickAt = null;
  window.__benchShownAt = null;
  const outcome = new RegExp(pattern);
  let queued = false;
  document.addEventListener('click', () => {
    if (window.__benchClickAt === null) window.__benchClickAt = Date.now();
  }, true);
  const look = () => {
    queued = false;
    if (window.__benchShownAt === null && outcome.test(document.body.textContent)) {
      window.__benchShownAt = Date.now();
    }
  };
  new MutationObserver(() => {
    if (window.__benchClickAt !== null && window.__benchShownAt === null && !queued) {
      queued = true;
      requestAnimationFrame(look);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""


@dataclass(frozen=True)
class DashboardSample:
    click_to_shown_s: float
    run_s: float  # the run's own duration, from its history
    click_to_start_s: float  # click to the run's recorded start
    end_to_shown_s: float  # the run's recorded end to the outcome on the page
    outcome: str


def _e2e_env() -> ModuleType:
    """tests/e2e/e2e_env.py, so the server starts exactly as the browser tests start it."""
    if "bench_e2e_env" in sys.modules:
        return sys.modules["bench_e2e_env"]
    spec = importlib.util.spec_from_file_location("bench_e2e_env", E2E_ENV)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {E2E_ENV}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def unavailable() -> str | None:
    """Why this part cannot run here, or None."""
    if not E2E_ENV.is_file():
        return f"{E2E_ENV.relative_to(ROOT)} is missing"
    if not Path("/usr/bin/chromium").exists():
        return "Debian chromium is not installed (`make browser` installs it)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed in this environment"
    return None


def _epoch(value: datetime) -> float:
    return value.replace(tzinfo=UTC).timestamp()


def _dashboard_run(
    browser: Any, env_module: ModuleType, csv_dir: Path, folder: Path, timeout_s: float
) -> DashboardSample:
    db = folder / "dashboard.duckdb"
    env = {**os.environ, "ASSETBOARD_DB": str(db), "ASSETBOARD_SALES_DATA": str(csv_dir)}
    log = folder / "streamlit.log"
    try:
        options = {"server.fileWatcherType": "none"}
        with env_module.dashboard_server(ROOT, env, log, options) as server:
            context = browser.new_context(viewport={"width": 1440, "height": 960})
            try:
                page = context.new_page()
                page.goto(f"{server.url}/materialize")
                button = page.get_by_role("button", name=BUTTON)
                button.wait_for(timeout=timeout_s * 1000)
                page.wait_for_function(  # the first script run has finished
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                    timeout=timeout_s * 1000,
                )
                page.evaluate(_OBSERVE, OUTCOME)
                button.click()
                page.wait_for_function(
                    "() => window.__benchShownAt !== null", timeout=timeout_s * 1000
                )
                clicked, shown = page.evaluate("[window.__benchClickAt, window.__benchShownAt]")
                outcome = page.get_by_text(BUTTON + ":").first.text_content() or ""
            finally:
                context.close()
        run = recorded_run(db)
        if run["launched_by"] != "dashboard" or run["ended_at"] is None:
            raise RuntimeError(f"the dashboard's run was not recorded as expected: {run}")
        return DashboardSample(
            click_to_shown_s=(shown - clicked) / 1000,
            run_s=run["duration_s"],
            click_to_start_s=_epoch(run["started_at"]) - clicked / 1000,
            end_to_shown_s=shown / 1000 - _epoch(run["ended_at"]),
            outcome=outcome.strip()[:120],
        )
    finally:
        remove_db(db)


def compare(csv_dir: Path, reps: int, warmup: int = 1, timeout_s: float = 600) -> dict[str, Any]:
    """The dashboard's click-to-outcome and the CLI's whole process, taking turns."""
    if reason := unavailable():
        return {"skipped": reason}
    from playwright.sync_api import sync_playwright

    env_module = _e2e_env()
    cli_runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-dash-") as tmp:
        folder = Path(tmp)
        cli_db = folder / "cli.duckdb"
        env = dict(os.environ, ASSETBOARD_SALES_DATA=str(csv_dir))
        command = [sys.executable, "-m", "pipeline", "materialize", "--db", str(cli_db)]

        def cli() -> Any:
            try:
                sample = run_process(command, env=env, cwd=ROOT)
                cli_runs.append(recorded_run(cli_db)["duration_s"])
                return sample
            finally:
                remove_db(cli_db)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=env_module.CHROMIUM_ARGS
            )

            def dashboard() -> DashboardSample:
                return _dashboard_run(browser, env_module, csv_dir, folder, timeout_s)

            try:
                sides: dict[str, Callable[[], Any]] = {"cli": cli, "dashboard": dashboard}
                samples = take_turns(sides, reps, warmup)
            finally:
                browser.close()
    dash: list[DashboardSample] = samples["dashboard"]
    cli_wall = summarize([s.wall_s for s in samples["cli"]])
    result: dict[str, Any] = {
        "cli_wall_s": cli_wall,
        "cli_run_s": summarize(cli_runs[warmup:]),
        "dashboard_click_to_shown_s": summarize([d.click_to_shown_s for d in dash]),
        "dashboard_run_s": summarize([d.run_s for d in dash]),
        "click_to_start_s": summarize([d.click_to_start_s for d in dash]),
        "end_to_shown_s": summarize([d.end_to_shown_s for d in dash]),
        "outcomes": sorted({d.outcome for d in dash}),
    }
    shown = result["dashboard_click_to_shown_s"]
    result["ratio"] = shown.median / cli_wall.median
    result["ratio_minima"] = shown.low / cli_wall.low
    result["run_ratio"] = result["dashboard_run_s"].median / result["cli_run_s"].median
    return result
