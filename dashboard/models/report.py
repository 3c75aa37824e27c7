"""What the Report page calls: recent runs to pick from, the chosen run, its report and files.

Plain Python over `pipeline.report` (no Streamlit), so the page only reads widgets and renders.
The permalink is the page's own URL with `?run=ID`, which opens the same report for anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.models.words import launched_from
from dashboard.settings import Settings
from pipeline import store
from pipeline.definitions import Definitions
from pipeline.looks import look
from pipeline.report import EXTENSIONS, MIME_TYPES, Report, build_report, render
from pipeline.states import RunStatus
from pipeline.store import RunRecord

RUNS_OFFERED = 50
FORMAT_LABELS = {"html": "HTML", "json": "JSON", "junit": "JUnit XML", "md": "Markdown"}
FORMAT_HELP = {
    "html": "One self-contained file: opens from disk or an e-mail, no network needed.",
    "json": "The same content as data, with a documented JSON Schema (schema_version 1).",
    "junit": "For CI test reports: a testsuite per asset, a testcase per check; warnings pass.",
    "md": "A short summary to paste into a pull request or a chat.",
}


LATEST = "latest"  # ?run=latest, as `python -m pipeline report --run latest`: the newest run


@dataclass(frozen=True)
class RunChoice:
    """The runs offered in the picker, which one is chosen, and why: `message` when the run
    asked for does not exist, `note` when the default is not simply the newest run."""

    runs: list[RunRecord]
    index: int
    message: str | None = None
    note: str | None = None
    latest: bool = False  # asked for with ?run=latest: the URL keeps saying so

    @property
    def run_ids(self) -> list[int]:
        return [run.run_id for run in self.runs]

    @property
    def run_id(self) -> int:
        return self.runs[self.index].run_id

    def url_value(self, run_id: int) -> str:
        """What `?run=` should hold once `run_id` is picked: `latest` stays while it is shown."""
        return LATEST if self.latest and run_id == self.run_id else str(run_id)


@dataclass(frozen=True)
class Download:
    label: str
    data: bytes
    file_name: str
    mime: str
    help: str


def run_label(run: RunRecord) -> str:
    """'Run 7 · failed · materialize · 2026-11-24 05:54 UTC · from schedule weekly (tick 4)' for
    the picker (plain text: the select box has no emoji font on every machine)."""
    status = look(run.status, RunStatus).label
    when = f"{run.started_at:%Y-%m-%d %H:%M} UTC"
    return (
        f"Run {run.run_id} · {status} · {run.kind} · {when} · from {launched_from(run.launched_by)}"
    )


def summary(report: Report) -> str:
    """One line of counts above the embedded report, e.g. for screen readers and tests."""
    assets = report.asset_counts
    verdict = report.verdict_style.label  # decided from what happened, as in every format
    line = f"Run {report.run.run_id} {verdict} · checks: {report.check_summary()}"
    if assets["failed"] or assets["skipped"]:
        line += f" · assets: {assets['failed']} failed, {assets['skipped']} skipped"
    return line


def choose_run(cfg: Settings, wanted: str | None) -> RunChoice | None:
    """Recent runs with the one in `?run=` chosen; None when there are no runs.

    Without `?run=`, the newest run that ran checks (a materialization of assets without
    checks has no check report to show), saying so when newer runs are passed over; `latest`
    is the newest run whatever it ran. A run older than the picker's list is added to it, so
    every permalink keeps working; an unknown or malformed id falls back to the default with a
    message that says so.
    """
    if not Path(cfg.db).is_file():
        return None
    with store.open_store(cfg.db, cfg.read_wait_seconds) as con:
        runs = store.list_runs(con, RUNS_OFFERED)
        if not runs:
            return None
        if wanted is None or not wanted.strip():
            return _default(runs)
        if wanted.strip().lower() == LATEST:
            return RunChoice(runs, 0, latest=True)
        try:
            run_id = int(wanted)
        except ValueError:
            run_id = None
        older = store.get_run(con, run_id) if run_id is not None else None
    ids = [run.run_id for run in runs]
    if run_id in ids:
        return RunChoice(runs, ids.index(run_id))
    if older is not None:
        return RunChoice([older, *runs], 0)
    recent = ", ".join(map(str, ids[:10]))
    fallback = _default(runs)
    return RunChoice(
        runs,
        fallback.index,
        f"There is no run {wanted!r} in this database (recent runs: {recent}, or 'latest')."
        f" Showing run {fallback.run_id} instead.",
        fallback.note,
    )


def _default(runs: list[RunRecord]) -> RunChoice:
    """The newest run that ran checks, with a note naming the newer runs that did not."""
    index = next((i for i, run in enumerate(runs) if run.ran_checks), None)
    if index is None:
        return RunChoice(runs, 0, note="No run in the list below ran checks: showing the newest.")
    if index == 0:
        return RunChoice(runs, 0)
    newer = [run.run_id for run in runs[:index]]
    which = f"run {newer[0]}" if len(newer) == 1 else f"runs {newer[-1]} to {newer[0]}"
    return RunChoice(
        runs,
        index,
        note=(
            f"Showing run {runs[index].run_id}, the latest run that ran checks: {which} ran"
            " none (pick one below to see it anyway)."
        ),
    )


def load_report(cfg: Settings, defs: Definitions | None, run_id: int) -> Report:
    """The report of one run, as `python -m pipeline report` would write it."""
    return build_report(
        cfg.db, run_id, defs=defs, defs_module=cfg.defs, wait_seconds=cfg.read_wait_seconds
    )


def downloads(report: Report) -> dict[str, Download]:
    """The report in every format (html, json, junit, md), ready for download buttons."""
    stem = f"assetboard-run-{report.run.run_id}"
    return {
        fmt: Download(
            label=FORMAT_LABELS[fmt],
            data=render(report, fmt).encode("utf-8"),
            file_name=f"{stem}.{EXTENSIONS[fmt]}" if fmt != "junit" else f"{stem}-junit.xml",
            mime=MIME_TYPES[fmt],
            help=FORMAT_HELP[fmt],
        )
        for fmt in FORMAT_LABELS
    }


def permalink(page_url: str | None, query_key: str, run_id: int) -> str:
    """The page's URL (query string dropped) with `?run=ID`; relative when the URL is unknown."""
    base = (page_url or "").split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{query_key}={run_id}"
