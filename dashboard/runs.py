"""Background runs: one click starts a run in a daemon thread that outlives page reruns.

The registry is a module-level object keyed by database path, not session_state, so a browser
reload (a new session) finds the run still going and shows its progress. Progress comes from the
engine's on_event callback. A second start while a run is active raises RunInProgressError with
a message to show. No Streamlit import here: the pages poll `current()`.

Stopping the server (Ctrl-C, SIGTERM) cancels the run in progress and waits for it to record
what it did, before the interpreter tears down the thread that DuckDB is working in.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import engine, store
from pipeline.definitions import Definitions
from pipeline.errors import PipelineError, RunInProgressError
from pipeline.partition_runs import PartitionRequest
from pipeline.states import CheckKey, RunStatus
from pipeline.store import AssetEvent, CheckRecord, PartitionEvent
from pipeline.warehouse import connect, run_active, utcnow

STOP_WAIT_SECONDS = 20.0  # how long a stopping server waits for its run to roll back


@dataclass
class LiveRun:
    """A run started from the dashboard, readable from any session while it goes."""

    db: Path
    kind: str  # materialize | checks
    selection: str | None
    label: str  # what the user clicked, e.g. "Materialize all"
    planned: list[str]
    started_at: datetime = field(default_factory=utcnow)
    run_id: int | None = None
    asset_status: dict[str, str] = field(default_factory=dict)  # asset -> latest status
    asset_error: dict[str, str] = field(default_factory=dict)
    checks: list[CheckRecord] = field(default_factory=list, repr=False)
    ok: bool | None = None  # None until finished
    status: RunStatus | None = None  # how it ended, as the history records it
    error: str | None = None  # the run could not complete (bad selection, locked file)
    finished_at: datetime | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    token: engine.CancelToken = field(default_factory=engine.CancelToken, repr=False)
    only_checks: list[CheckKey] | None = None  # a checks run of these checks alone
    partitions: PartitionRequest | None = None  # the partitions a materialize run builds
    run_config: dict[str, Any] | None = None  # config values of assets that take config
    backfill_id: int | None = None  # the backfill it worked on, once it has ended
    left_out: list[str] = field(default_factory=list)  # reached, but needing run config
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def active(self) -> bool:
        return not self.done.is_set()

    def on_event(self, item: AssetEvent | CheckRecord | PartitionEvent) -> None:
        """The engine's progress callback (called from the run thread); partitions are read
        from the history by the pages that show them."""
        if isinstance(item, PartitionEvent):
            return
        with self._lock:
            self.run_id = item.run_id
            if isinstance(item, AssetEvent):
                self.asset_status[item.asset] = item.status
                if item.error:
                    self.asset_error[item.asset] = item.error
            else:
                self.checks.append(item)

    def progress(self) -> tuple[int, int]:
        """(finished assets, planned assets); checks-only runs count checked assets."""
        with self._lock:
            if self.kind == "checks":
                seen = {record.asset for record in self.checks}
                return len(seen & set(self.planned)), len(self.planned)
            finished = [s for s in self.asset_status.values() if s != "running"]
            return len(finished), len(self.planned)

    def snapshot(self) -> dict[str, str]:
        """Each planned asset's status now: pending, running, materialized, failed, skipped."""
        with self._lock:
            if self.kind == "checks":
                checked = {record.asset for record in self.checks}
                return {
                    name: ("checked" if name in checked else "pending") for name in self.planned
                }
            return {name: self.asset_status.get(name, "pending") for name in self.planned}

    def check_records(self) -> list[CheckRecord]:
        with self._lock:
            return list(self.checks)


_registry: dict[str, LiveRun] = {}
_registry_lock = threading.Lock()


def _key(db: str | Path) -> str:
    return str(Path(db).resolve())


def current(db: str | Path) -> LiveRun | None:
    """The active run on `db`, or the last one this process started (finished)."""
    with _registry_lock:
        return _registry.get(_key(db))


def start(
    defs: Definitions,
    db: str | Path,
    selection: str | None,
    *,
    kind: str = "materialize",
    label: str = "Materialize",
    planned: list[str] | None = None,
    checks: list[CheckKey] | None = None,
    partitions: PartitionRequest | None = None,
    run_config: dict[str, Any] | None = None,
    runner: Callable[..., engine.RunResult] | None = None,
    wait_seconds: float = 2.0,
    left_out: list[str] | None = None,
) -> LiveRun:
    """Start a run in a daemon thread and return at once; RunInProgressError if one is active.

    A file held by another process fails here (WarehouseLockedError), not later in the
    background. `partitions` narrows a materialize run to some partitions, or resumes a
    backfill (engine.materialize's `partitions=`). `runner` replaces engine.materialize /
    engine.run_checks in tests. `left_out` names the assets the click reached but cannot
    build without run config; the engine's own list is added when the run ends.
    """
    if kind not in ("materialize", "checks"):
        raise ValueError(f"unknown run kind {kind!r}; expected 'materialize' or 'checks'")
    if partitions is not None and kind != "materialize":
        raise ValueError("partitions are built by a materialize run, not a checks run")
    key = _key(db)
    with _registry_lock:
        _refuse_if_active(_registry.get(key))
    with connect(db, wait_seconds):
        pass
    with _registry_lock:
        _refuse_if_active(_registry.get(key))
        if run_active(db):
            raise RunInProgressError(
                f"another process is running the pipeline on {db} (for example the command"
                " line); wait for it to finish, then start yours."
            )
        live = LiveRun(
            Path(key),
            kind,
            selection,
            label,
            planned or [],
            only_checks=checks,
            partitions=partitions,
            run_config=run_config,
            left_out=sorted(left_out or []),
        )
        _registry[key] = live
    thread = threading.Thread(
        target=_execute, args=(live, defs, runner), name=f"assetboard-run-{label}", daemon=True
    )
    thread.start()
    return live


def _refuse_if_active(existing: LiveRun | None) -> None:
    if existing is not None and existing.active:
        raise RunInProgressError(
            f"'{existing.label}' is still running (started {existing.started_at:%H:%M:%S}"
            " UTC); wait for it to finish, then start yours."
        )


def _execute(
    live: LiveRun, defs: Definitions, runner: Callable[..., engine.RunResult] | None
) -> None:
    fn = runner or (engine.materialize if live.kind == "materialize" else engine.run_checks)
    extra: dict[str, Any] = {"checks": live.only_checks} if live.only_checks else {}
    if live.partitions is not None:
        extra["partitions"] = live.partitions
    if live.run_config is not None:
        extra["run_config"] = live.run_config
    try:
        result = fn(
            defs,
            live.selection,
            db=live.db,
            on_event=live.on_event,
            cancel=live.token,
            launched_by="dashboard",
            **extra,
        )
        live.run_id = result.run_id
        live.backfill_id = result.backfill.backfill_id if result.backfill else None
        live.ok = result.ok
        live.status = RunStatus(result.run.status)
        live.left_out = sorted(set(live.left_out) | set(result.left_out))
        if result.run.message and not result.ok:
            live.error = result.run.message
    except PipelineError as exc:
        live.ok, live.error = False, str(exc)
    except Exception as exc:  # a daemon thread must never die silently
        live.ok, live.error = False, f"{type(exc).__name__}: {exc}"
    finally:
        live.finished_at = utcnow()
        live.done.set()


def cancel(db: str | Path, run_id: int | None, by: str = "the Cancel button") -> bool:
    """Stop the run on `db`: this process's own run at once, another process's run through
    the history (it looks every quarter of a second). False when nothing was running."""
    live = current(db)
    if live is not None and live.active and (run_id is None or live.run_id in (None, run_id)):
        live.token.cancel(by)
        return True
    return run_id is not None and store.request_cancel(db, run_id, by)


def _stop_all() -> None:
    """At interpreter exit: cancel this process's runs and wait for them to record it."""
    with _registry_lock:
        active = [live for live in _registry.values() if live.active]
    for live in active:
        live.token.cancel("the dashboard server stopping")
    for live in active:
        live.done.wait(STOP_WAIT_SECONDS)


# Before concurrent.futures joins its worker threads at exit (it would wait for the running
# statement to end, uninterrupted): threading's own exit hooks run first, newest first.
getattr(threading, "_register_atexit", atexit.register)(_stop_all)


def wait(db: str | Path, timeout: float = 60.0) -> LiveRun | None:
    """Block until the run on `db` finishes (tests and scripts; pages poll instead)."""
    live = current(db)
    if live is not None and not live.done.wait(timeout):
        raise TimeoutError(f"the run on {db} did not finish within {timeout} s")
    return live
