"""What the command lines share: argument types that refuse bad numbers up front, and errors.

Kept apart from pipeline/__main__.py so the `report` subcommand and `pipeline.datagen` can use it
without importing the engine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from pipeline.textsafe import for_terminal


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type` accepting whole numbers from `low` to `high`, inclusive.

    argparse turns the ArgumentTypeError into `argument --x: <message>` and exit 2, before
    anything touches the database; out-of-range values otherwise fail deep in DuckDB or a pool.
    """

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, got {value}")
        return value

    parse.__name__ = f"whole number from {low} to {high}"
    return parse


def print_error(message: object) -> None:
    """`error: ...` on stderr; messages quote names and causes from user code and data, so
    they are capped and their control characters escaped."""
    print(f"error: {for_terminal(str(message))}", file=sys.stderr)
