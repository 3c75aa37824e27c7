"""`python -m dashboard.serve`: the dashboard and the daemon together, as `make run` starts them
(and as `dagster dev` starts its webserver beside its daemon).

    python -m dashboard.serve [--port 8501] [--interval 30] [--defs M] [--db P] [-- streamlit args]

Two child processes on the same definitions and database: `python -m streamlit run
dashboard/app.py` (given ASSETBOARD_DEFS and ASSETBOARD_DB) and `python -m pipeline daemon`
(given --defs and --db). Neither is imported here: this module stays light and never imports
Streamlit or the pipeline.

Ctrl-C, SIGTERM or SIGHUP is passed on to both, once (each child runs in a process group of its
own, so a terminal's Ctrl-C reaches only this process); both then stop cleanly, the daemon
cancelling and recording a run in progress. A second Ctrl-C kills them at once. If either child
ends by itself, the other is stopped and the reason is said. On Linux the children are also
told to stop (SIGTERM) if this process is killed outright.

Exit codes: 0 both stopped cleanly on request; 1 a child ended by itself (the other was then
stopped), or did not stop cleanly on request; 2 bad usage.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from dashboard import settings

APP = Path(__file__).resolve().with_name("app.py")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
GRACE_SECONDS = 30.0  # how long both may take to stop before they are killed
POLL_SECONDS = 0.1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DASHBOARD, DAEMON = "the dashboard", "the daemon"


def _say(message: str) -> None:
    print(f"assetboard: {message}", file=sys.stderr, flush=True)


def _interval(text: str) -> str:
    """The daemon's own bounds, checked before anything starts (it would refuse them too)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 1 to 86400")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.serve",
        description="Start the dashboard and the daemon on the same database; Ctrl-C stops both.",
        epilog="Arguments after -- go to `streamlit run`, e.g. -- --server.address 0.0.0.0",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--port", type=int, default=8501, metavar="N", help="dashboard port (default: 8501)"
    )
    parser.add_argument(
        "--interval",
        type=_interval,
        metavar="SECONDS",
        help="seconds between the daemon's evaluations, 1 to 86400 (default: the daemon's, 30)",
    )
    parser.add_argument(
        "--defs",
        metavar="MODULE",
        help=f"definitions module or .py file (default: ${settings.ENV_DEFS},"
        f" else {settings.DEFAULT_DEFS})",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        help=f"DuckDB file (default: ${settings.ENV_DB}, else data/warehouse.duckdb)",
    )
    return parser


@dataclass(frozen=True)
class Plan:
    """The two commands and the environment they share."""

    dashboard: list[str]
    daemon: list[str]
    env: dict[str, str]
    cfg: settings.Settings


def plan(argv: Sequence[str], environ: Mapping[str, str]) -> Plan:
    """What to start for these arguments: both children on one definitions module and one
    (absolute) database path, resolved as the dashboard resolves its own settings."""
    argv = list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = build_parser().parse_args(argv[:cut])
    streamlit_args = argv[cut + 1 :]
    own = [
        part
        for flag in ("defs", "db")
        if getattr(args, flag)
        for part in (f"--{flag}", getattr(args, flag))
    ]
    cfg = settings.from_sources(own, dict(environ))
    env = {
        **environ,
        settings.ENV_DEFS: cfg.defs,
        settings.ENV_DB: str(cfg.db),
        "PYTHONUNBUFFERED": "1",  # their lines reach a log file as they happen
    }
    dashboard = [sys.executable, "-m", "streamlit", "run", str(APP)]
    dashboard += ["--server.port", str(args.port), *streamlit_args]
    daemon = [sys.executable, "-m", "pipeline", "daemon", "--defs", cfg.defs, "--db", str(cfg.db)]
    if args.interval is not None:
        daemon += ["--interval", args.interval]
    return Plan(dashboard, daemon, env, cfg)


def describe_exit(code: int) -> str:
    """'exited with code 1', 'was killed by SIGKILL' (Popen gives -N for signal N)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


def _stop_with(launcher: int) -> Callable[[], None]:
    """What the child runs before exec: SIGTERM it when the launcher dies, even by SIGKILL
    (Linux's PR_SET_PDEATHSIG; elsewhere nothing). libc is looked up here, in the launcher,
    so the forked child only makes the call."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
    pr_set_pdeathsig = 1

    def arm() -> None:
        if prctl is not None:
            prctl(pr_set_pdeathsig, int(signal.SIGTERM))
        if os.getppid() != launcher:  # it died before the call above: go now
            os._exit(EXIT_FAILED)

    return arm


class Launcher:
    """Starts both children, watches them, and stops them together."""

    def __init__(self, planned: Plan, grace: float = GRACE_SECONDS) -> None:
        self.plan = planned
        self.grace = grace
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.requested: signal.Signals | None = None  # the first stop signal received
        self.forced = False  # a second one: kill now

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        received = signal.Signals(signum)
        if self.requested is None:
            self.requested = received
        else:
            self.forced = True

    def _start(self, name: str, command: list[str]) -> None:
        # A process group of its own: a terminal's Ctrl-C reaches only the launcher, which
        # passes it on once.
        self.children[name] = subprocess.Popen(
            command, env=self.plan.env, process_group=0, preexec_fn=_stop_with(os.getpid())
        )

    def run(self) -> int:
        previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        try:
            self._start(DAEMON, self.plan.daemon)
            self._start(DASHBOARD, self.plan.dashboard)
            cfg = self.plan.cfg
            _say(
                f"{DASHBOARD} (pid {self.children[DASHBOARD].pid}) and {DAEMON}"
                f" (pid {self.children[DAEMON].pid}) on {cfg.db}, definitions {cfg.defs};"
                " Ctrl-C stops both"
            )
            ended = self._watch()
            return self._stop(ended)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _watch(self) -> str | None:
        """Until a stop signal (None) or a child's end (its name)."""
        while self.requested is None:
            for name, child in self.children.items():
                if child.poll() is not None:
                    return name
            time.sleep(POLL_SECONDS)
        return None

    def _stop(self, ended: str | None) -> int:
        if ended is not None:
            other = DASHBOARD if ended == DAEMON else DAEMON
            code = self.children[ended].returncode
            _say(f"{ended} {describe_exit(code)}; stopping {other}")
            if ended == DAEMON:
                _say("to run the dashboard alone: python -m streamlit run dashboard/app.py")
            signum = signal.SIGTERM
        else:
            assert self.requested is not None
            signum = signal.SIGTERM if self.requested == signal.SIGHUP else self.requested
            _say(f"{self.requested.name} received; stopping {DASHBOARD} and {DAEMON}")
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signum)
        clean = self._wait_all(ended, signum)
        return EXIT_OK if clean and ended is None else EXIT_FAILED

    def _wait_all(self, ended: str | None, sent: signal.Signals) -> bool:
        """Wait for both (killing them after the grace period or a second signal); True when
        each one asked to stop exited with code 0 or was ended by the signal sent (as one still
        starting up, before its handlers are set, is)."""
        deadline = time.monotonic() + self.grace
        killed: set[str] = set()
        while any(child.poll() is None for child in self.children.values()):
            late = time.monotonic() > deadline
            if late or self.forced:
                for name, child in self.children.items():
                    if child.poll() is None and name not in killed:
                        why = f"did not stop within {self.grace:g} s" if late else "asked twice"
                        _say(f"{name} {why}: killing it")
                        child.kill()
                        killed.add(name)
            time.sleep(POLL_SECONDS)
        clean = True
        for name, child in self.children.items():
            if name == ended:  # said already
                continue
            stopped = child.returncode in (0, -sent)
            if not stopped and name not in killed:
                _say(f"{name} {describe_exit(child.returncode)} while stopping")
            clean = clean and stopped
        if clean:
            others = [name for name in self.children if name != ended]
            _say("both stopped" if ended is None else f"{' and '.join(others)} stopped")
        return clean


def main(argv: Sequence[str] | None = None) -> int:
    planned = plan(sys.argv[1:] if argv is None else argv, os.environ)
    return Launcher(planned).run()


if __name__ == "__main__":
    sys.exit(main())
