"""Named pause points, so tests can stop a real run at an exact phase and send it a signal.

Set ASSETBOARD_PAUSE_AT to `phase` or `phase:subject` (comma-separated for several) and
ASSETBOARD_PAUSE_DIR to a folder. On reaching the point the engine writes `<phase>.reached`
(holding its PID) there, then holds until `<phase>.release` appears or the run is cancelled.
Unset, a pause point costs one dictionary lookup.

Phases and their subjects: asset-running:ASSET (inside the build's transaction, before the
asset function), before-commit:ASSET, after-commit:ASSET (committed, not yet recorded),
after-record:ASSET (recorded, its checks not started), check-running:ASSET.CHECK, and
history-write:STATUS:ASSET (inside a history transaction recording that event); for the
daemon, tick-claimed:NAME (a tick and its run requests recorded, no run started yet) and
tick-launched:NAME (its run ended, not yet linked to the request).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAUSE_AT = "ASSETBOARD_PAUSE_AT"
PAUSE_DIR = "ASSETBOARD_PAUSE_DIR"
_POLL_SECONDS = 0.01
_stopping = threading.Event()  # set by any cancel: ends pauses that know no run (history-write)


def stopping() -> None:
    """A run is being cancelled: every pause point lets go."""
    _stopping.set()


def pause(phase: str, subject: str | None = None, stop: threading.Event | None = None) -> None:
    """Hold here if a test asked to; `stop` (the run's cancel event) ends the hold early."""
    spec = os.environ.get(PAUSE_AT)
    if not spec:
        return
    wanted = {item.strip() for item in spec.split(",")}
    if phase not in wanted and f"{phase}:{subject}" not in wanted:
        return
    folder = Path(os.environ.get(PAUSE_DIR, "."))
    release = folder / f"{phase}.release"
    scratch = folder / f".{phase}.{os.getpid()}"
    scratch.write_text(str(os.getpid()))
    scratch.replace(folder / f"{phase}.reached")  # appears whole, never half-written
    while not release.exists() and not _stopping.is_set():
        if stop is not None and stop.wait(_POLL_SECONDS):
            break
        if stop is None:
            _stopping.wait(_POLL_SECONDS)
