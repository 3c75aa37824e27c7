"""The command line's partition options and commands: `--partition`, `--partition-range`,
`--missing`, `--failed`, `--backfill`, `partitions ASSET` and `backfills`.

Spelled as Dagster's CLI spells them (`--partition-range 2024-01-01...2024-06-01`).
"""

from __future__ import annotations

import argparse

from pipeline import store
from pipeline.cli_support import whole_number
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.partition_runs import PartitionRequest
from pipeline.states import RunStatus
from pipeline.textsafe import printable, quoted
from pipeline.warehouse import run_active

RANGE_SEPARATOR = "..."


def _key_range(text: str) -> tuple[str, str]:
    first, separator, last = text.partition(RANGE_SEPARATOR)
    if not separator or not first.strip() or not last.strip():
        raise argparse.ArgumentTypeError(
            f"{quoted(text)} is not a range: write FIRST{RANGE_SEPARATOR}LAST, e.g."
            f" 2024-01-01{RANGE_SEPARATOR}2024-06-01 (both included)"
        )
    return first.strip(), last.strip()


def add_materialize_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--partition",
        action="append",
        metavar="KEY",
        help="build this partition of the selected partitioned assets (repeat for more)",
    )
    parser.add_argument(
        "--partition-range",
        type=_key_range,
        metavar=f"FIRST{RANGE_SEPARATOR}LAST",
        help=f"build the partitions from FIRST to LAST, e.g. 2024-01-01{RANGE_SEPARATOR}2024-06-01",
    )
    parser.add_argument(
        "--missing", action="store_true", help="only partitions never built (or rebuilt since)"
    )
    parser.add_argument(
        "--failed", action="store_true", help="only partitions whose latest build failed"
    )
    parser.add_argument(
        "--backfill",
        type=whole_number(1, 10**12),
        metavar="ID",
        help="resume backfill ID: build its partitions not built yet",
    )


def request_from(args: argparse.Namespace) -> PartitionRequest | None:
    """The partitions asked for, or None when no partition option was given."""
    first, last = args.partition_range or (None, None)
    request = PartitionRequest(
        keys=list(args.partition or []),
        first=first,
        last=last,
        missing=args.missing,
        failed=args.failed,
        backfill=args.backfill,
    )
    if request.backfill is not None and (request.keys or first or args.select):
        raise SelectionError(
            "--backfill resumes a backfill's own partitions: leave out --select, --partition"
            " and --partition-range"
        )
    return request if request.narrowed else None


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    shown = commands.add_parser(
        "partitions", parents=[common], help="every partition of an asset and where it stands"
    )
    shown.add_argument("asset", metavar="ASSET", help="a partitioned asset")
    commands.add_parser("backfills", parents=[common], help="backfills and their progress")


def partitions(args: argparse.Namespace, defs: Definitions) -> int:
    from pipeline.partition_status import partition_states, summarize

    asset = defs.assets.get(args.asset)
    if asset is None or asset.partitions is None:
        names = [n for n, a in defs.assets.items() if a.partitions is not None]
        what = "no asset" if asset is None else "not a partitioned asset:"
        raise SelectionError(
            f"{what} '{args.asset}'; partitioned assets: {', '.join(names) or 'none'}"
        )
    with store.open_store(args.db) as con:
        states = partition_states(defs, con, asset.name)
    print(printable(f"{asset.name}: {summarize(states)}"))
    print(f"{'partition':<14} {'status':<13} {'rows':>12}  {'built':<20} checks")
    for state in states:
        entry = state.entry
        rows = f"{entry.row_count:,}" if entry and entry.row_count is not None else "-"
        when = f"{entry.committed_at:%Y-%m-%d %H:%M:%S}" if entry and entry.committed_at else "-"
        checks = state.check_outcome or "-"
        line = f"{state.key:<14} {state.status:<13} {rows:>12}  {when:<20} {checks}"
        print(printable(line))
        if state.status == "failed" and state.latest is not None and state.latest.error:
            print(printable(f"{'':<4}why: {state.latest.error.splitlines()[0]}"))
    return 0


def backfills(args: argparse.Namespace) -> int:
    from pipeline import backfills as backfill_records

    with store.open_store(args.db) as con:
        found = store.list_backfills(con, 50)
        alive = run_active(args.db)
        rows = [(b, backfill_records.progress(con, b)) for b in found]
    if not rows:
        print("no backfills yet: materialize more than one partition to start one")
        return 0
    print(f"{'id':>5}  {'status':<12} {'progress':<38} assets")
    for backfill, progress in rows:
        status = backfill.status
        if status == RunStatus.RUNNING and not alive:
            status = RunStatus.INTERRUPTED
        line = (
            f"{backfill.backfill_id:>5}  {status:<12} {progress!s:<38} {', '.join(backfill.assets)}"
        )
        print(printable(line))
    return 0
