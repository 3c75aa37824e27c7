"""Helpers shared by the dashboard tests: a sample CSV folder, a definitions file pointing at
it, and Settings for a temp warehouse. Importable because pytest puts this folder on sys.path."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard.safe import WORD_JOINER
from dashboard.settings import Settings
from pipeline.datagen import generate

ROOT = Path(__file__).resolve().parents[2]


def sample_data(folder: Path, rows: int = 120, orphan_rate: float = 0.0) -> Path:
    """Generated sales CSVs (small, deterministic); orphans make the join checks fail."""
    generate(rows, folder, orphan_rate=orphan_rate, seed=7)
    return folder


def defs_file(tmp_path: Path, data_dir: Path) -> Path:
    """A definitions module bound to `data_dir`: the sales pipeline, no env var involved."""
    path = tmp_path / "sales_defs.py"
    path.write_text(
        "from pipeline.examples.sales import build_definitions\n"
        f"defs = build_definitions({str(data_dir)!r})\n",
        encoding="utf-8",
    )
    return path


def shown(markdown: str) -> str:
    """Roughly what a person reads from Markdown escaped by dashboard.safe: the backslashes and
    invisible word joiners gone, hard breaks as newlines (the app's own `**` stays)."""
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown.replace("  \n", "\n"))
    return text.replace(WORD_JOINER, "").replace("\u00a0", " ")


def settings_for(defs: Path | str, db: Path, wait: float = 2.0) -> Settings:
    return Settings(defs=str(defs), db=db, read_wait_seconds=wait)


@contextmanager
def held_by_other_process(code: str) -> Iterator[subprocess.Popen[str]]:
    """Run `code` in another Python process until it prints 'ready'; stop it afterwards."""
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:  # closes the pipes on the way out
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", f"helper process did not start: {line!r}"
            yield proc
        finally:
            proc.kill()
            proc.wait(10)


def hold_database(db: Path) -> str:
    """Code for held_by_other_process: keep a DuckDB connection open on `db`."""
    return (
        f"import duckdb\ncon = duckdb.connect({str(db)!r})\nprint('ready', flush=True)\ninput()\n"
    )


def hold_run_lock(db: Path) -> str:
    """Code for held_by_other_process: hold the run lock as the CLI would."""
    return (
        "from pipeline.warehouse import run_lock\n"
        f"with run_lock({str(db)!r}, 'materialize run'):\n"
        "    print('ready', flush=True)\n"
        "    input()\n"
    )


def wait_for_file(path: Path, timeout: float = 60.0) -> None:
    """Until `path` exists (a pause point reached in a run thread or process)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)
