"""The daemon: evaluates every schedule and sensor each interval and launches their runs.

One daemon per database: it holds `<db>.daemon.lock` (flock, released by the kernel when the
process dies, so a crash never leaves a stale lock) and a second one is refused with the first
one's pid. `python -m pipeline tick` takes the same lock for its single evaluation. Runs go
through the engine in this process, one at a time, as the one-writer warehouse requires.

SIGTERM or Ctrl-C stops it: between ticks at once; during a run, the engine cancels the run
cleanly (rolled back, recorded) and the daemon then stops. A thread writes the heartbeat the
Automation page shows, also while a long run is going.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import store, ticking
from pipeline.definitions import Definitions, definitions_stamp, load_definitions
from pipeline.errors import PipelineError
from pipeline.states import TickStatus
from pipeline.store import automation as ticks_store
from pipeline.store.automation import Tick
from pipeline.warehouse import lock_held

DEFAULT_INTERVAL = 30.0
PROBE_WAIT_SECONDS = 1.0  # daemon_active() holds the lock for microseconds: wait that out
HEARTBEAT_EVERY = 5.0  # seconds; the page calls a daemon unseen for 3 intervals stopped
Log = Callable[[str], None]


class DaemonRunningError(PipelineError):
    """Another daemon (or a `tick`) evaluates this database now."""


def lock_path(db: str | Path) -> Path:
    return Path(f"{db}.daemon.lock")


@contextmanager
def daemon_lock(db: str | Path, what: str) -> Iterator[None]:
    """Hold the daemon lock of `db`, or raise DaemonRunningError naming its holder."""
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + PROBE_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = os.pread(fd, 500, 0).decode(errors="replace")
            if not holder and time.monotonic() < deadline:  # a probe (daemon_active) holds it
                time.sleep(0.01)
                continue
        os.close(fd)
        try:
            info = json.loads(holder)
            who = f"{info['what']} (pid {info['pid']} on {info['host']}, since {info['since']})"
            pid = str(info["pid"])
        except (ValueError, KeyError, TypeError):
            who, pid = "another process", "PID"
        raise DaemonRunningError(
            f"{who} already evaluates the schedules and sensors of {db}: one evaluator per"
            f" database. Stop it first (Ctrl-C in its terminal, or kill -TERM {pid})"
        )
    mine = {"what": what, "pid": os.getpid(), "host": socket.gethostname(), "since": _now()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(mine).encode(), 0)
    try:
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def daemon_active(db: str | Path) -> bool:
    """True while a daemon (or a tick) holds the lock of `db`."""
    return lock_held(lock_path(db))


@dataclass
class DaemonStatus:
    """What the Automation page says of the daemon: running or not, and when last seen."""

    running: bool  # holds the lock now
    beat: ticks_store.DaemonBeat | None  # its last heartbeat, if any was ever written

    def seconds_since_seen(self, now: datetime) -> float | None:
        return None if self.beat is None else (now - self.beat.last_seen).total_seconds()


def daemon_status(db: str | Path) -> DaemonStatus:
    with store.open_store(db) as con:
        beat = ticks_store.daemon_beat(con)
    return DaemonStatus(daemon_active(db), beat)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def engine_launcher(
    defs: Definitions, db: str | Path, on_event: Any = None, cancel: Any = None
) -> ticking.Launch:
    """Launch a tick's run through the engine, in this process and thread."""

    def launch(plan: ticking.RunPlan, launched_by: str) -> int:
        from pipeline import engine
        from pipeline.partition_runs import PartitionRequest

        partitions = PartitionRequest(keys=plan.partition_keys) if plan.partition_keys else None
        result = engine.materialize(
            defs,
            plan.select,
            db,
            on_event=on_event,
            cancel=cancel,
            launched_by=launched_by,
            partitions=partitions,
            run_config=plan.config,
        )
        return result.run_id

    return launch


def describe_tick(tick: Tick) -> str:
    """One line: 'schedule weekly_update_schedule tick 4: requested run 12'."""
    runs = f"requested run {', '.join(map(str, tick.run_ids))}"
    what = runs if tick.status == TickStatus.REQUESTED else str(tick.status)
    if tick.status == TickStatus.PARTIAL:
        rejected = len(tick.rejected)
        what = f"{runs}, rejected {rejected} file{'s' if rejected != 1 else ''}"
    elif tick.status == TickStatus.FAILED and tick.run_ids:
        what += f" ({runs})"
    line = f"{tick.kind} {tick.name} tick {tick.tick_id}: {what}"
    return f"{line}: {tick.reason}" if tick.reason else line


def tick_once(defs: Definitions, db: str | Path, now: datetime, on_event: Any = None) -> list[Tick]:
    """`python -m pipeline tick`: one evaluation under the daemon lock."""
    with daemon_lock(db, "python -m pipeline tick"):
        return ticking.tick(defs, db, now, engine_launcher(defs, db, on_event))


class Daemon:
    """The loop: reload changed definitions, tick, beat, sleep; stop on a signal."""

    def __init__(
        self, target: str, db: str | Path, interval: float, log: Log, on_event: Any = None
    ) -> None:
        from pipeline.engine import CancelToken

        self.target, self.db, self.interval, self.log = target, db, interval, log
        self.on_event = on_event
        self.stop = threading.Event()
        self.token = CancelToken()
        self.started_at = datetime.now(UTC)
        self.defs = load_definitions(target)
        self.stamp = definitions_stamp(target)
        self.said: dict[str, str | None] = {}  # each one's last quiet tick, said once

    def run(self) -> None:
        with daemon_lock(self.db, "the daemon"), self._signals():
            beat = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
            beat.start()
            self.log(
                f"daemon: evaluating {len(self.defs.schedules)} schedules and"
                f" {len(self.defs.sensors)} sensors of {self.db} every {self.interval:g} s"
            )
            try:
                while not self.stop.is_set():
                    self._tick()
                    if self.token.cancelled:  # a signal cancelled the run it was launching
                        self.log(f"daemon: the run in progress was cancelled ({self.token.reason})")
                        break
                    self.stop.wait(self.interval)
            finally:
                self.stop.set()
                beat.join()
                self._write_beat(stopped=True)
                self.log("daemon: stopped")

    def _tick(self) -> None:
        self._reload()
        launch = engine_launcher(self.defs, self.db, self.on_event, self.token)
        try:
            for tick in ticking.tick(self.defs, self.db, datetime.now(UTC), launch):
                if tick.status == TickStatus.SKIPPED and self.said.get(tick.name) == tick.reason:
                    continue  # "no new file" every interval would bury what happened
                self.said[tick.name] = tick.reason if tick.status == TickStatus.SKIPPED else None
                self.log(describe_tick(tick))
        except PipelineError as exc:  # the history cannot be written: said, then tried again
            self.log(f"daemon: this evaluation failed: {exc}")

    def _reload(self) -> None:
        """Definitions edited since the last tick are picked up, as `dagster dev` does; broken
        ones are reported and the last good ones kept."""
        stamp = definitions_stamp(self.target)
        if stamp == self.stamp:
            return
        self.stamp = stamp
        try:
            self.defs = load_definitions(self.target, reload=True)
        except PipelineError as exc:
            self.log(f"daemon: kept the previous definitions: {exc}")
        else:
            self.log(f"daemon: reloaded the definitions from {self.target}")

    def _beat(self) -> None:
        while True:
            self._write_beat()
            if self.stop.wait(min(HEARTBEAT_EVERY, self.interval)):
                return

    def _write_beat(self, stopped: bool = False) -> None:
        try:
            with store.open_writer(self.db) as con:
                ticks_store.beat(
                    con,
                    os.getpid(),
                    socket.gethostname(),
                    self.started_at,
                    datetime.now(UTC),
                    self.interval,
                    stopped,
                )
        except PipelineError as exc:
            print(f"daemon: heartbeat not written: {exc}", file=sys.stderr)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGINT/SIGTERM between runs stop the loop; during a run the engine's own handlers
        cancel the run (our token), and the loop stops after it."""

        def handle(signum: int, frame: Any) -> None:
            self.log(f"daemon: {signal.Signals(signum).name} received, stopping")
            self.stop.set()

        previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
