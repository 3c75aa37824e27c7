"""Timing primitives: one child process's wall time and peak RSS, and robust summaries."""

from __future__ import annotations

import atexit
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class BenchError(RuntimeError):
    """A benchmarked command failed: the numbers would mean nothing."""


@dataclass(frozen=True)
class Sample:
    wall_s: float
    max_rss_mb: float


@dataclass(frozen=True)
class Stats:
    median: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.median:.3g} ({self.low:.3g}–{self.high:.3g})"


def summarize(values: Sequence[float]) -> Stats:
    if not values:
        raise ValueError("no samples to summarize")
    return Stats(statistics.median(values), min(values), max(values), len(values))


# The spawner: a small Python (no `site`) that starts each measured command and reaps it.
# Linux carries a process's peak RSS across fork and exec: a child started by the harness
# itself would report at least the harness's own peak (41 MB as the harness starts, far more
# after the in-process parts; 514 MB for `python -c pass` under a 500 MB parent). Started
# from this small process (about 6 MB), a child's ru_maxrss is its own (`python -c pass`: 8 MB).
_SPAWNER = r"""
import json, os, sys, time
for line in sys.stdin:
    job = json.loads(line)
    fd = os.open(job["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(job["cwd"])
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execve(job["cmd"][0], job["cmd"], job["env"])
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    os.close(fd)
    reply = {"wall": wall, "maxrss_kib": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
"""


class _Spawner:
    """One long-lived spawner process per harness run, started on first use."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None

    def run(self, cmd: Sequence[str], env: Mapping[str, str], cwd: Path, out: Path) -> dict:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-S", "-c", _SPAWNER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            atexit.register(self.close)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        job = {"cmd": list(cmd), "env": dict(env), "cwd": str(cwd), "out": str(out)}
        self._proc.stdin.write(json.dumps(job) + "\n")
        self._proc.stdin.flush()
        reply = self._proc.stdout.readline()
        if not reply:
            raise BenchError(f"the spawner process died while running {' '.join(cmd)}")
        return json.loads(reply)

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=10)


_spawner = _Spawner()


def run_process(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Sample:
    """Run `cmd` to completion: wall time around it, and its own peak RSS from os.wait4.

    The command is started by a small spawner process (see _SPAWNER), so neither the harness's
    memory nor a sibling's mixes into the peak. `cmd[0]` must be a path (sys.executable).
    `ok_codes`: exit codes that mean the work was done (the engine exits 1 when a check fails,
    which is the expected outcome on data with orphan rows).
    """
    with tempfile.TemporaryDirectory(prefix="assetboard-bench-out-") as tmp:
        out = Path(tmp) / "output.txt"
        reply = _spawner.run(cmd, env or os.environ, cwd or Path.cwd(), out)
        if reply["code"] not in ok_codes:
            text = out.read_text(errors="replace")[-2000:]
            raise BenchError(f"{' '.join(cmd)} exited with {reply['code']}:\n{text}")
    return Sample(reply["wall"], reply["maxrss_kib"] / 1024)  # KiB on Linux


def take_turns(
    sides: Mapping[str, Callable[[], T]], reps: int, warmup: int = 1
) -> dict[str, list[T]]:
    """Run each side once per round, in turn (A B C A B C ...), `warmup` rounds discarded.

    Alternating spreads drift on a shared machine (other jobs, the page cache) over every side
    alike; the discarded first round fills the page cache for all of them.
    """
    samples: dict[str, list[T]] = {side: [] for side in sides}
    for round_ in range(warmup + reps):
        for side, run in sides.items():
            sample = run()
            if round_ >= warmup:
                samples[side].append(sample)
    return samples
