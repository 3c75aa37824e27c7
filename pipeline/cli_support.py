"""What the command lines share: argument types that refuse bad numbers up front, error lines,
and a quiet exit when the reader of stdout goes away (`python -m pipeline runs | head -1`).

Kept apart from pipeline/__main__.py so the `report` subcommand and `pipeline.datagen` can use it
without importing the engine.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

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


def os_error_reason(exc: OSError, folder: Path) -> str:
    """Why writing into `folder` failed, in words: names a file standing where `folder` or one
    of its parents should be (the OS only says 'File exists' or 'Not a directory')."""
    for path in (folder, *folder.parents):
        if path.exists():
            if not path.is_dir():
                return f"{path} is a file, not a folder"
            break
    if exc.strerror and exc.filename2:  # os.replace(tmp, target): the target is the news
        return f"{exc.filename2}: {exc.strerror}"
    return exc.strerror or str(exc)


def silence_stdout() -> None:
    """Point stdout at /dev/null after a broken pipe, so later prints and the flush at exit
    neither raise nor print 'Exception ignored ... BrokenPipeError'."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def exit_code_of(main: Callable[[], int]) -> int:
    """Run a CLI's `main`; when its reader closed the pipe, exit 1 without a traceback.

    The recipe of the Python docs (signal module, "Note on SIGPIPE"): a reader such as `head`
    that has seen enough is not an error worth a traceback, but the output is incomplete.
    """
    try:
        code = main()
        sys.stdout.flush()  # data still buffered fails here, not in the interpreter's exit
    except BrokenPipeError:
        silence_stdout()
        return 1
    return code


def print_error(message: object) -> None:
    """`error: ...` on stderr; messages quote names and causes from user code and data, so
    they are capped and their control characters escaped."""
    print(f"error: {for_terminal(str(message))}", file=sys.stderr)
