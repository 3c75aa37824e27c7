"""`python -m pipeline report`: write one run's report as html, json, junit or md.

Exit codes: 0 written, 2 no such run (the message lists recent run ids), no runs yet, or a bad
format. pipeline/__main__.py only registers the subcommand and calls `add_arguments` / `main`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli_support import print_error, whole_number
from pipeline.definitions import Definitions
from pipeline.report import FORMATS, ReportError, build_report, render
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


def main(args: argparse.Namespace, defs: Definitions | None = None) -> int:
    """Build and write the report; a clear message and exit 2 when it cannot be built."""
    if args.format not in FORMATS:
        print_error(f"unknown report format {args.format!r}: use one of {', '.join(FORMATS)}")
        return EXIT_USAGE
    try:
        report = build_report(
            args.db, args.run, defs=defs, defs_module=args.defs, history_length=args.history
        )
    except ReportError as exc:
        print_error(exc)
        return EXIT_USAGE
    text = render(report, args.format)
    if args.out == "-":
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    counts = report.check_counts
    print(
        for_terminal(
            f"Wrote {args.format} report of run {report.run.run_id} ({report.run.status}:"
            f" {counts['failed']} failed, {counts['error']} errors, {counts['warned']} warned,"
            f" {counts['passed']} passed) to {out}"
        )
    )
    return EXIT_OK
