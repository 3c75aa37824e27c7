"""`python -m pipeline report`: write one run's report as html, json, junit or md.

Exit codes: 0 written, 2 no such run (the message lists recent run ids), no runs yet, a bad
format, or an --out that cannot be written: each is fixed by changing an argument, not by running
again. The file is written to a temporary sibling and renamed over --out, so an existing report
is never left truncated. pipeline/__main__.py only registers the subcommand and calls
`add_arguments` / `main`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from pipeline.cli_support import os_error_reason, print_error, whole_number
from pipeline.definitions import Definitions
from pipeline.report import EXTENSIONS, FORMATS, render
from pipeline.textsafe import for_terminal

EXIT_OK, EXIT_USAGE = 0, 2
MAX_HISTORY = 1_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run", default="latest", metavar="RUN_ID", help="run id, or 'latest' (default)"
    )
    parser.add_argument(
        "--format",
        required=True,
        metavar="FORMAT",
        help=f"one of {', '.join(FORMATS)} (junit is JUnit XML for CI test reports)",
    )
    parser.add_argument(
        "--out", required=True, metavar="PATH", help="file to write, or '-' for standard output"
    )
    parser.add_argument(
        "--history",
        type=whole_number(1, MAX_HISTORY),
        default=20,
        metavar="N",
        help=f"outcomes per check, 1 to {MAX_HISTORY:,} (default: 20)",
    )


def _out_problem(out: str, fmt: str) -> str | None:
    """What is wrong with --out that can be told before the report is built, if anything."""
    if not out.strip():
        return "--out is empty: give a file path, or '-' for standard output"
    if Path(out).is_dir():
        example = Path(out) / f"report.{EXTENSIONS[fmt]}"
        return f"--out {out} is a folder: give a file name in it, e.g. {example}"
    return None


def write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary sibling and rename it over `path` (missing folders are created).

    A failure half-way (disk full, killed) leaves an existing file as it was and no temporary
    file behind; readers never see a truncated report. The file gets the usual 0o666 & ~umask.
    """
    target = Path(os.path.realpath(path))  # write through a symlink, as open() would
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def main(args: argparse.Namespace, defs: Definitions | None = None) -> int:
    """Build and write the report; a clear message and exit 2 when it cannot be built."""
    if args.format not in FORMATS:
        print_error(f"unknown report format {args.format!r}: use one of {', '.join(FORMATS)}")
        return EXIT_USAGE
    if args.out != "-" and (problem := _out_problem(args.out, args.format)):
        print_error(problem)
        return EXIT_USAGE
    from pipeline.report.model import ReportError, build_report  # loads with the command

    try:
        report = build_report(
            args.db, args.run, defs=defs, defs_module=args.defs, history_length=args.history
        )
    except ReportError as exc:
        print_error(exc)
        return EXIT_USAGE
    # A lone surrogate from data cannot be encoded: written as the escape \udxxx instead.
    data = render(report, args.format).encode("utf-8", errors="backslashreplace")
    if args.out == "-":
        sys.stdout.write(data.decode("utf-8"))
        return EXIT_OK
    out = Path(args.out)
    try:
        write_atomically(out, data)
    except OSError as exc:
        reason = os_error_reason(exc, out.parent)
        print_error(
            f"cannot write the report to {out}: {reason}. Pass --out a file in a folder you can"
            " write to, or '-' for standard output"
        )
        return EXIT_USAGE
    print(
        for_terminal(
            f"Wrote {args.format} report of run {report.run.run_id} ({report.verdict}:"
            f" {report.check_summary()}) to {out}"
        )
    )
    return EXIT_OK
