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


BATCH_VARIABLE = "ASSETBOARD_BATCH_BELOW"
DEFAULT_BATCH_BELOW_SECONDS = 0.05


def lock_wait_seconds() -> float:
    """Seconds to wait for a database file held by another process (ASSETBOARD_LOCK_WAIT).

    Unset or blank gives the default; anything but a finite number >= 0 raises PipelineError,
    since an infinite or negative wait is never what the user meant.
    """
    return _seconds(
        LOCK_WAIT_VARIABLE,
        DEFAULT_LOCK_WAIT_SECONDS,
        "seconds to wait for a database held by another process",
    )


def batch_below_seconds() -> float:
    """Assets whose last build took less than this share a transaction (ASSETBOARD_BATCH_BELOW);
    0 builds every asset in a transaction of its own."""
    return _seconds(
        BATCH_VARIABLE,
        DEFAULT_BATCH_BELOW_SECONDS,
        "builds faster than this share one transaction; 0 turns that off",
    )


def _seconds(variable: str, default: float, meaning: str) -> float:
    text = os.environ.get(variable, "")
    if not text.strip():
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise PipelineError(
            f"{variable}={text!r} is not a number of seconds >= 0: set it to e.g."
            f" {variable}={default:g} ({meaning}) or unset it"
        )
    return seconds
