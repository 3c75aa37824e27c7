"""`python -m dashboard.serve` (what `make run` starts) as a real process: the dashboard and the
daemon come up on one database, a signal to the launcher stops both and leaves no process
behind, and either child ending stops the other with the reason said."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard import serve, settings
from pipeline import store
from pipeline.daemon import daemon_status

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "tests" / "reliability" / "scenario_pipeline.py")
WAIT_SECONDS = 60.0
STARTED = re.compile(r"the dashboard \(pid (\d+)\) and the daemon \(pid (\d+)\)")


def _wait(condition: Callable[[], object], what: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the launcher ended ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _gone(pid: int) -> bool:
    """No process is left in the child's process group (the child or anything it started)."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _running(db: Path) -> bool:
    return daemon_status(db).running


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Launched:
    process: subprocess.Popen[str]
    log: Path
    db: Path
    url: str
    dashboard_pid: int = 0
    daemon_pid: int = 0

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_up(self) -> float:
        """Until the dashboard answers and the daemon's heartbeat is written; the seconds taken."""
        began = time.monotonic()
        _wait(lambda: STARTED.search(self.output), "the launcher's first line", self.process)
        found = STARTED.search(self.output)
        assert found is not None
        self.dashboard_pid, self.daemon_pid = int(found[1]), int(found[2])
        _wait(lambda: _healthy(self.url), "the dashboard's health endpoint", self.process)
        _wait(self.daemon_beats, "the daemon's heartbeat", self.process)
        return time.monotonic() - began

    def daemon_beats(self) -> bool:
        status = daemon_status(self.db)
        return status.running and status.beat is not None and status.beat.stopped_at is None

    def finish(self) -> int:
        return self.process.wait(timeout=WAIT_SECONDS)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Launched]]:
    """Start the launcher from the repo root on a temp database and a temp copy of the sample
    CSVs (so the sensor watches the test's own requests/ folder)."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("*.duckdb*", "requests"))
    started: list[subprocess.Popen[str]] = []

    def start(*extra: str, db: Path | None = None, env: dict[str, str] | None = None) -> Launched:
        db = db or tmp_path / "warehouse.duckdb"
        port = _free_port()
        log = tmp_path / f"serve-{len(started)}.log"
        env = {
            **os.environ,
            "ASSETBOARD_SALES_DATA": str(data),
            settings.ENV_DB: str(db),
            **(env or {}),
        }
        command = [sys.executable, "-m", "dashboard.serve", "--port", str(port)]
        command += ["--interval", "1", *extra]
        with log.open("w", encoding="utf-8") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True
            )
        started.append(process)
        return Launched(process, log, db, f"http://127.0.0.1:{port}")

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_plan_gives_both_children_one_database_and_one_definitions_module(
    tmp_path: Path,
) -> None:
    environ = {"ASSETBOARD_DEFS": "my_pipeline.py", "PATH": "/bin"}
    planned = serve.plan(
        ["--port", "8600", "--interval", "5", "--db", "w.duckdb", "--", "--server.headless", "1"],
        environ,
    )
    db = str(Path("w.duckdb").resolve())
    assert planned.env["ASSETBOARD_DEFS"] == "my_pipeline.py"
    assert planned.env["ASSETBOARD_DB"] == db
    assert planned.env["PATH"] == "/bin"
    assert planned.daemon[1:] == [
        "-m",
        "pipeline",
        "daemon",
        "--defs",
        "my_pipeline.py",
        "--db",
        db,
        "--interval",
        "5",
    ]
    assert planned.dashboard[1:] == [
        "-m",
        "streamlit",
        "run",
        str(ROOT / "dashboard" / "app.py"),
        "--server.port",
        "8600",
        "--server.headless",
        "1",
    ]


def test_without_arguments_the_defaults_are_the_dashboards() -> None:
    planned = serve.plan([], {})
    assert planned.env["ASSETBOARD_DB"] == str(settings.DEFAULT_DB)
    assert planned.env["ASSETBOARD_DEFS"] == settings.DEFAULT_DEFS
    assert "--interval" not in planned.daemon  # the daemon's own default
    assert planned.dashboard[-2:] == ["--server.port", "8501"]


def test_a_bad_interval_is_refused_before_anything_starts(capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        serve.plan(["--interval", "0"], {})
    assert refused.value.code == 2
    assert "'0' is not a number of seconds from 1 to 86400" in capsys.readouterr().err


def test_exits_are_described_in_words() -> None:
    assert serve.describe_exit(1) == "exited with code 1"
    assert serve.describe_exit(-9) == "was killed by SIGKILL"
    assert serve.describe_exit(0) == "exited with code 0"


def test_the_launcher_imports_neither_streamlit_nor_the_pipeline() -> None:
    probe = (
        "import sys, dashboard.serve;"
        " print(sorted({'streamlit', 'pipeline', 'duckdb'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_a_signal_stops_both_and_leaves_no_process(launch, stop: signal.Signals) -> None:
    server = launch()
    server.wait_up()
    server.process.send_signal(stop)
    code = server.finish()
    output = server.output

    assert code == 0, output
    assert f"{stop.name} received; stopping the dashboard and the daemon" in output
    assert "daemon: stopped" in output and "assetboard: both stopped" in output
    assert "Traceback" not in output, output
    assert _gone(server.dashboard_pid) and _gone(server.daemon_pid)
    status = daemon_status(server.db)
    assert not status.running
    assert status.beat is not None and status.beat.stopped_at is not None


def test_the_daemon_dying_stops_the_dashboard_and_says_so(launch) -> None:
    server = launch()
    server.wait_up()
    os.kill(server.daemon_pid, signal.SIGKILL)
    code = server.finish()

    assert code == 1
    assert "the daemon was killed by SIGKILL; stopping the dashboard" in server.output
    assert "assetboard: the dashboard stopped" in server.output
    assert _gone(server.dashboard_pid) and _gone(server.daemon_pid)


def test_the_dashboard_dying_stops_the_daemon_and_says_so(launch) -> None:
    server = launch()
    server.wait_up()
    os.kill(server.dashboard_pid, signal.SIGKILL)
    code = server.finish()

    assert code == 1
    output = server.output
    assert "the dashboard was killed by SIGKILL; stopping the daemon" in output
    assert "daemon: stopped" in output  # cleanly, by SIGTERM
    assert _gone(server.dashboard_pid) and _gone(server.daemon_pid)
    assert not daemon_status(server.db).running


def test_a_second_launcher_on_the_same_database_is_refused_by_its_daemon(launch) -> None:
    first = launch()
    first.wait_up()
    second = launch(db=first.db)
    code = second.finish()
    output = second.output

    assert code == 1
    assert f"the daemon (pid {first.daemon_pid} on" in output  # the daemon names the first
    assert "the daemon exited with code 1; stopping the dashboard" in output
    assert "assetboard: the dashboard stopped" in output
    found = STARTED.search(output)
    assert found is not None and _gone(int(found[1])) and _gone(int(found[2]))
    assert first.process.poll() is None and first.daemon_beats()  # the first goes on


def test_children_stop_when_the_launcher_is_killed_outright(launch) -> None:
    server = launch()
    server.wait_up()
    server.process.kill()  # SIGKILL: nothing runs in the launcher after it
    server.finish()
    deadline = time.monotonic() + WAIT_SECONDS
    while not (_gone(server.dashboard_pid) and _gone(server.daemon_pid)):
        assert time.monotonic() < deadline, "a child outlived its launcher"
        time.sleep(0.05)
    status = daemon_status(server.db)
    assert status.beat is not None and status.beat.stopped_at is not None  # stopped cleanly


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_ctrl_c_in_a_terminal_stops_make_run(tmp_path: Path) -> None:
    """`make run` in a terminal: Ctrl-C reaches make and the launcher (the foreground process
    group), the launcher passes it on to its children once, and everything ends."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("*.duckdb*", "requests"))
    db = tmp_path / "warehouse.duckdb"
    port = _free_port()
    env = {**os.environ, "ASSETBOARD_SALES_DATA": str(data), settings.ENV_DB: str(db)}
    # -o: the virtualenv counts as built (this test must not reinstall it)
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", "run", f"PORT={port}"]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: make, on the terminal's slave side
        os.chdir(ROOT)
        os.execvpe(command[0], command, env)
    output = bytearray()

    def read_some() -> None:
        if select.select([terminal], [], [], 0.05)[0]:
            with contextlib.suppress(OSError):  # the terminal closed: all on it ended
                output.extend(os.read(terminal, 65536))

    try:
        found: re.Match[str] | None = None
        deadline = time.monotonic() + WAIT_SECONDS
        while not (found and _healthy(f"http://127.0.0.1:{port}") and _running(db)):
            assert time.monotonic() < deadline, output.decode(errors="replace")
            read_some()
            found = STARTED.search(output.decode(errors="replace"))
        assert f"open http://localhost:{port}" in output.decode()
        os.write(terminal, b"\x03")  # Ctrl-C, as typed
        deadline = time.monotonic() + WAIT_SECONDS
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            assert time.monotonic() < deadline, output.decode(errors="replace")
            read_some()
        pid = 0  # reaped
        read_some()
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)
    text = output.decode(errors="replace")
    assert "SIGINT received; stopping the dashboard and the daemon" in text, text
    assert text.count("daemon: SIGINT received") == 1, text  # passed on once, not twice
    assert "assetboard: both stopped" in text and "Traceback" not in text, text
    assert _gone(int(found[1])) and _gone(int(found[2]))
    assert not daemon_status(db).running


def test_ctrl_c_during_a_sensors_run_cancels_and_records_it(launch, tmp_path: Path) -> None:
    """The reliability scenario's sensor starts a run whose load DuckDB is busy with for
    minutes; Ctrl-C to the launcher: the daemon cancels the run, records it, and both stop."""
    requests, marker = tmp_path / "requests", tmp_path / "big_load.started"
    requests.mkdir()
    env = {
        "RELIABILITY_AUTOMATION": str(requests),  # a FileSensor on requests/*.json
        "RELIABILITY_SLOW_MARKER": str(marker),  # and an asset that takes minutes
    }
    server = launch("--defs", SCENARIO, env=env)
    server.wait_up()
    (requests / "one.json").write_text("{}", encoding="utf-8")
    _wait(marker.exists, "the sensor's run to reach the long load", server.process)
    asked = time.monotonic()
    server.process.send_signal(signal.SIGINT)
    code = server.finish()
    took = time.monotonic() - asked
    output = server.output

    assert code == 0, output
    assert "daemon: stopped" in output and "assetboard: both stopped" in output, output
    assert "Traceback" not in output and "terminate called" not in output, output
    assert took < 15, f"{took:.1f} s to stop"
    assert _gone(server.dashboard_pid) and _gone(server.daemon_pid)
    with store.open_store(server.db) as con:
        [run] = store.list_runs(con, 10)
    assert run.status == "cancelled" and (run.launched_by or "").startswith("sensor requests")
