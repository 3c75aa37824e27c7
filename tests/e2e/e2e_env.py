"""The real dashboard server and what a browser test checks about the network.

Importable from the e2e tests because pytest puts this folder on sys.path.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(
    url: str, server: subprocess.Popen[str], log: Path, timeout: float = 60
) -> None:
    """Poll the health endpoint: the condition, not a fixed sleep, decides when to go on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health within {timeout} s")


@dataclass
class Server:
    """A running `streamlit run`; `output` is what it printed so far."""

    url: str
    port: int
    log: Path
    process: subprocess.Popen[str]

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def dashboard_server(
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    options: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    script: Path = APP,
) -> Iterator[Server]:
    """Start the dashboard as a person would, from `cwd`, with only the flags in `options`
    (beyond a free port) and the app's own `args` after `--`: everything else comes from the
    shipped config, so tests see it. What the server prints goes to `log`."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script)]
    flags = {"server.port": str(port), **(options or {})}
    command += [part for key, value in flags.items() for part in (f"--{key}", value)]
    if args:
        command += ["--", *args]
    with log.open("w", encoding="utf-8") as output:  # a file: a full pipe would block it
        server = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=output, stderr=subprocess.STDOUT, text=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server, log)
        yield Server(url, port, log, server)
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=20)


@contextmanager
def dashboard_and_daemon(
    env: Mapping[str, str], log: Path, args: Sequence[str] = (), streamlit_args: Sequence[str] = ()
) -> Iterator[Server]:
    """`make run`'s launcher (`python -m dashboard.serve`) from the repo root on a free port, with
    its own `args` (--db, --interval, ...) and Streamlit's after `--`. `process` is the launcher;
    the test stops it (SIGINT, as Ctrl-C) and checks how it ended. What both print goes to
    `log`."""
    port = free_port()
    command = [sys.executable, "-m", "dashboard.serve", "--port", str(port), *args]
    if streamlit_args:
        command += ["--", *streamlit_args]
    with log.open("w", encoding="utf-8") as output:
        launcher = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT, text=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, launcher, log)
        yield Server(url, port, log, launcher)
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def leaves_the_machine(url: str) -> bool:
    """True for a request to any host but this one (data: and blob: URLs stay in the page)."""
    parts = urlsplit(url)
    return parts.scheme not in ("data", "blob", "about") and parts.hostname not in LOCAL_HOSTS
