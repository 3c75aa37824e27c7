"""Timing primitives: one child process's wall time and peak RSS, and robust summaries."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


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


def run_process(
    cmd: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Sample:
    """Run `cmd` to completion; its own peak RSS comes from os.wait4, so siblings never mix in."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdout=output, stderr=subprocess.STDOUT, env=dict(env or os.environ), cwd=cwd
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if proc.returncode != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")[-2000:]
            raise BenchError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{text}")
    return Sample(wall, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux
