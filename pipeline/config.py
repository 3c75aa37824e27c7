"""Settings read from the environment, validated where they are read.

A typo in an environment variable must be a message naming the variable and a good value, not a
`ValueError` traceback from deep inside an import.
"""

from __future__ import annotations

import math
import os

from pipeline.errors import PipelineError

LOCK_WAIT_VARIABLE = "ASSETBOARD_LOCK_WAIT"
DEFAULT_LOCK_WAIT_SECONDS = 10.0


def lock_wait_seconds() -> float:
    """Seconds to wait for a database file held by another process (ASSETBOARD_LOCK_WAIT).

    Unset or blank gives the default; anything but a finite number >= 0 raises PipelineError,
    since an infinite or negative wait is never what the user meant.
    """
    text = os.environ.get(LOCK_WAIT_VARIABLE, "")
    if not text.strip():
        return DEFAULT_LOCK_WAIT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise PipelineError(
            f"{LOCK_WAIT_VARIABLE}={text!r} is not a number of seconds >= 0: set it to e.g."
            f" {LOCK_WAIT_VARIABLE}={DEFAULT_LOCK_WAIT_SECONDS:g} (seconds to wait for a database"
            " held by another process) or unset it"
        )
    return seconds
