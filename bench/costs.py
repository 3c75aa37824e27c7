"""Where a `python -m pipeline ...` process spends its time, per function and per SQL statement.

Usage (a child process of the harness; run it yourself to look at one run):
    python -m bench.costs OUT.json materialize --defs MODULE --db FRESH_FILE

It runs `pipeline.__main__.main(argv)` in this process, exactly the command line's path, after
wrapping the engine's own functions with timers (nothing under pipeline/ is edited):
- functions the run calls per asset (`builder.rebuild`, `guard.snapshot`, `guard.verify`,
  `builder.describe`, `ledger.add`, `store.record`, ...), and the set-up and tear-down around
  them (`run_lock`, `connect`, `recovery.prepare`, `store.open_writer`, ...), whose
  context-manager enter and exit are timed apart (closing DuckDB checkpoints its WAL);
- every statement a build or a check sends to DuckDB, through a thin cursor proxy handed to
  `builder.rebuild` and `run_asset_checks`, labelled by what it is (catalog snapshot, ledger
  INSERT, DESCRIBE, COMMIT ...); a statement's fetch is counted with it.

Times are exclusive as well as inclusive: a timer's own time minus the timers inside it, per
thread, so each millisecond is counted once. Builds and checks run in the engine's worker
thread while the calling thread writes the history; the JSON says which thread did what.

Process start-up (interpreter and `site`, before this module's first line) is measured from
BENCH_SPAWNED_AT, the wall-clock time the parent set just before starting this process.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()
_STARTED_WALL = time.time()

import functools  # noqa: E402  (after the clock: start-up is what is measured first)
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import Any  # noqa: E402

SPAWNED_AT = "BENCH_SPAWNED_AT"


class Timers:
    """Inclusive and exclusive seconds and calls per label and thread."""

    def __init__(self) -> None:
        self.inclusive: dict[tuple[str, str], float] = {}
        self.exclusive: dict[tuple[str, str], float] = {}
        self.calls: dict[tuple[str, str], int] = {}
        self.samples: dict[tuple[str, str], list[float]] = {}  # inclusive seconds per call
        self._local = threading.local()
        self._lock = threading.Lock()

    def _stack(self) -> list[list[float]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    @contextmanager
    def timing(self, label: str, count: bool = True) -> Iterator[None]:
        stack = self._stack()
        inner = [0.0]
        stack.append(inner)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            stack.pop()
            if stack:
                stack[-1][0] += elapsed
            key = (label, _thread_role())
            with self._lock:
                self.inclusive[key] = self.inclusive.get(key, 0.0) + elapsed
                self.exclusive[key] = self.exclusive.get(key, 0.0) + elapsed - inner[0]
                self.calls[key] = self.calls.get(key, 0) + (1 if count else 0)
                samples = self.samples.setdefault(key, [])
                if count or not samples:
                    samples.append(elapsed)
                else:  # a fetch belongs to the statement before it
                    samples[-1] += elapsed

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.timing(label):
                return fn(*args, **kwargs)

        return timed

    def wrap_context(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A context-manager function whose enter and exit are timed apart."""

        @contextmanager
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            manager = fn(*args, **kwargs)
            with self.timing(f"{label} (enter)"):
                value = manager.__enter__()
            try:
                yield value
            except BaseException as exc:
                with self.timing(f"{label} (exit)"):
                    if not manager.__exit__(type(exc), exc, exc.__traceback__):
                        raise
            else:
                with self.timing(f"{label} (exit)"):
                    manager.__exit__(None, None, None)

        return timed

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": label,
                "thread": thread,
                "calls": self.calls[(label, thread)],
                "inclusive_s": self.inclusive[(label, thread)],
                "exclusive_s": self.exclusive[(label, thread)],
                "first_s": self.samples[(label, thread)][0],
                "median_s": statistics.median(self.samples[(label, thread)]),
                "max_s": max(self.samples[(label, thread)]),
            }
            for label, thread in sorted(self.inclusive)
        ]


def _thread_role() -> str:
    thread = threading.current_thread()
    if thread is threading.main_thread():
        return "main"
    return "worker" if thread.name.startswith("asset") else thread.name


# Statements of the engine known by their exact text (whitespace folded), filled by
# `instrument` from the modules that hold them, so a reworded statement keeps its label.
KNOWN_STATEMENTS: dict[str, str] = {}
_KNOWN = (("pipeline.guard", "_SNAPSHOT", "sql: guard catalog snapshot"),)


def statement_label(sql: str) -> str:
    """What a statement sent by a build or a check is, in the words BENCHMARKS.md uses."""
    text = " ".join(sql.split())
    upper = text.upper()
    if upper.startswith("BEGIN"):
        return "sql: BEGIN"
    if upper.startswith(("COMMIT", "ROLLBACK")):
        return f"sql: {upper.split()[0]}"
    if text == "SELECT 1":
        return "sql: probe SELECT 1 (before COMMIT)"
    if text in KNOWN_STATEMENTS:
        return KNOWN_STATEMENTS[text]
    if text.startswith("SELECT 'table', schema_name") and "UNION ALL SELECT 'view'" in text:
        return "sql: guard catalog snapshot"
    if text.startswith("SELECT txid_current()"):
        return "sql: guard txid_current()"
    if text.startswith("SELECT 'table' FROM duckdb_tables()") and "duckdb_views()" in text:
        return "sql: relation_kind lookup"
    if upper.startswith("CREATE OR REPLACE VIEW"):
        return "sql: CREATE OR REPLACE VIEW"
    if upper.startswith("CREATE OR REPLACE TABLE") and "read_csv(" in text:
        return "sql: CREATE TABLE AS read_csv (the load)"
    if upper.startswith("CREATE OR REPLACE TABLE"):
        return "sql: CREATE TABLE AS SELECT (the build)"
    if text.startswith("SELECT count(hash(v)) FROM"):
        return "sql: describe row count (view: read in full)"
    if upper.startswith("DESCRIBE"):
        return "sql: describe DESCRIBE"
    if upper.startswith("INSERT INTO ASSETBOARD.BUILDS"):
        return "sql: ledger INSERT"
    if upper.startswith("DROP VIEW"):
        return "sql: DROP scratch view"
    return f"sql: {text[:60]}"


class TimedCursor:
    """A DuckDB cursor whose statements (and their fetches) are timed by label."""

    def __init__(self, cursor: Any, timers: Timers, context: str) -> None:
        self._cursor = cursor
        self._timers = timers
        self._context = context
        self._last = f"{context} fetch"

    def _label(self, sql: str) -> str:
        label = statement_label(sql)
        if self._context == "build":
            if label.startswith("sql: SELECT count(*) FROM"):
                return "sql: describe row count (table)"
            if label.startswith("sql: SELECT * FROM") and "LIMIT ?" in sql:
                return "sql: describe 10-row preview"
            return label
        if label in ("sql: BEGIN", "sql: ROLLBACK", "sql: COMMIT"):
            return f"check {label}"
        return "check sql: the check's statements"

    def execute(self, sql: Any, parameters: Any = None) -> TimedCursor:
        self._last = self._label(str(sql))
        with self._timers.timing(self._last):
            if parameters is None:
                self._cursor.execute(sql)
            else:
                self._cursor.execute(sql, parameters)
        return self

    def _fetch(self, name: str, *args: Any) -> Any:
        with self._timers.timing(self._last, count=False):
            return getattr(self._cursor, name)(*args)

    def fetchall(self) -> Any:
        return self._fetch("fetchall")

    def fetchone(self) -> Any:
        return self._fetch("fetchone")

    def fetchmany(self, *args: Any) -> Any:
        return self._fetch("fetchmany", *args)

    def extract_statements(self, sql: str) -> Any:
        with self._timers.timing("sql: extract_statements (one query?)"):
            return self._cursor.extract_statements(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


# (module, attribute, label, kind): kind "fn", "context", "rebuild" or "checks".
TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("pipeline.__main__", "load_definitions", "load definitions", "fn"),
    ("pipeline.__main__", "print_progress", "print progress line", "fn"),
    ("pipeline.__main__", "_list", "list: whole command", "fn"),
    ("pipeline.selection", "select", "selection", "fn"),
    ("pipeline.engine", "materialize", "engine.materialize (whole run)", "fn"),
    ("pipeline.engine", "run_lock", "run lock", "context"),
    ("pipeline.engine", "connect", "DuckDB connect/close", "context"),
    ("pipeline.store", "open_writer", "history open/close", "context"),
    ("pipeline.store", "open_store", "history open (read)", "context"),
    ("pipeline.recovery", "inspect", "recovery.inspect", "fn"),
    ("pipeline.recovery", "prepare", "recovery.prepare", "fn"),
    ("pipeline.store", "start_run", "history start_run", "fn"),
    ("pipeline.store", "record", "history write (store.record)", "fn"),
    ("pipeline.store", "cancel_request", "history cancel poll", "fn"),
    ("pipeline.engine", "_signals_cancel", "signal handlers", "context"),
    ("pipeline.engine._Runner", "execute", "runner.execute (plan + run + finish)", "fn"),
    ("pipeline.engine._Runner", "_handle", "main: handle a worker message", "fn"),
    ("pipeline.engine._Runner", "_next_message", "main: wait for a worker message", "fn"),
    ("pipeline.engine._Runner", "_schedule", "main: schedule a node", "fn"),
    ("pipeline.engine._Runner", "_finish", "main: finish the run", "fn"),
    ("pipeline.engine._Runner", "_build_task", "worker: build task", "fn"),
    ("pipeline.engine._Runner", "_check_task", "worker: check task", "fn"),
    ("pipeline.builder", "rebuild", "rebuild (one transaction)", "rebuild"),
    ("pipeline.builder", "_write", "write: asset fn + CREATE", "fn"),
    ("pipeline.builder", "relation_kind", "relation_kind()", "fn"),
    ("pipeline.builder", "describe", "describe()", "fn"),
    ("pipeline.guard", "snapshot", "guard.snapshot()", "fn"),
    ("pipeline.guard", "verify", "guard.verify()", "fn"),
    ("pipeline.ledger", "add", "ledger.add()", "fn"),
    ("pipeline.engine", "run_asset_checks", "run_asset_checks()", "checks"),
    ("pipeline.checks_runner", "run_check", "run_check()", "fn"),
    ("pipeline.status", "asset_statuses", "list: asset_statuses", "fn"),
    ("pipeline.status", "check_states", "list: check_states", "fn"),
)


def register_known_statements() -> None:
    """Label the engine's own statements by their text, as this checkout writes them."""
    import importlib

    for module_name, attribute, label in _KNOWN:
        try:
            text = getattr(importlib.import_module(module_name), attribute, None)
        except ImportError:
            text = None
        if isinstance(text, str):
            KNOWN_STATEMENTS[" ".join(text.split())] = label


def instrument(timers: Timers) -> list[str]:
    """Wrap every target that exists; returns those that do not (the code moved on)."""
    import importlib

    register_known_statements()
    missing = []
    for module_name, attribute, label, kind in TARGETS:
        path = module_name.split(".")
        owner: Any = None
        for split in range(len(path), 0, -1):
            try:
                owner = importlib.import_module(".".join(path[:split]))
            except ImportError:
                continue
            for part in path[split:]:
                owner = getattr(owner, part, None)
            break
        original = getattr(owner, attribute, None) if owner is not None else None
        if original is None:
            missing.append(f"{module_name}.{attribute}")
            continue
        if kind == "context":
            wrapped = timers.wrap_context(label, original)
        elif kind == "rebuild":
            wrapped = _with_cursor(timers, label, original, 0, "build")
        elif kind == "checks":
            wrapped = _with_cursor(timers, label, original, 2, "check")
        else:
            wrapped = timers.wrap(label, original)
        setattr(owner, attribute, wrapped)
    return missing


def _with_cursor(
    timers: Timers, label: str, fn: Callable[..., Any], position: int, context: str
) -> Callable[..., Any]:
    """`fn` with its cursor argument (at `position`) replaced by a TimedCursor."""

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        args_list = list(args)
        args_list[position] = TimedCursor(args_list[position], timers, context)
        with timers.timing(label):
            return fn(*args_list, **kwargs)

    return timed


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m bench.costs OUT.json PIPELINE-ARGS...", file=sys.stderr)
        return 2
    out, pipeline_argv = argv[0], argv[1:]
    spawned = float(os.environ.get(SPAWNED_AT, _STARTED_WALL))
    timers = Timers()
    with timers.timing("imports (pipeline.__main__ and all it imports)"):
        import pipeline.__main__ as cli
    missing = instrument(timers)
    with timers.timing("pipeline main()"):
        code = cli.main(pipeline_argv)
    sys.stdout.flush()
    result = {
        "argv": pipeline_argv,
        "exit_code": code,
        "start_up_s": _STARTED_WALL - spawned,
        "in_process_s": time.perf_counter() - _STARTED,
        "since_spawn_s": time.time() - spawned,
        "missing_targets": missing,
        "timers": timers.rows(),
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
