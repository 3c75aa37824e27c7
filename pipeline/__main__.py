"""The command line: `python -m pipeline materialize|check|list|runs|report|daemon|tick|...`.

Exit codes: 0 all good (warnings allowed), 1 an asset or an ERROR check failed (or the run could
not start), 2 bad usage (including a --db that cannot be a DuckDB file) or bad definitions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import automation_cli, partition_cli, selection, store
from pipeline.cli_support import (
    exit_code_of,
    os_error_reason,
    print_error,
    silence_stdout,
    whole_number,
)
from pipeline.definitions import Definitions, load_definitions
from pipeline.errors import DatabaseFileError, DefinitionError, PipelineError, SelectionError
from pipeline.looks import look
from pipeline.report import cli as report_cli
from pipeline.states import AssetHealth, CheckOutcome, RunStatus
from pipeline.store import AssetEvent, CheckRecord, PartitionEvent
from pipeline.textsafe import cap, for_terminal, printable
from pipeline.warehouse import DEFAULT_DB

if TYPE_CHECKING:
    from pipeline import status

DEFAULT_DEFS = "pipeline.examples.sales"
MAX_WORKERS = 64
MAX_RUNS_LISTED = 1_000_000
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
AUTOMATION_LAUNCHERS = ("schedule ", "sensor ")  # ticking.label: said under their runs

_ASSET_MARKS = {
    "running": "..",
    "materialized": "ok",
    "failed": "FAILED",
    "skipped": "skipped",
    "cancelled": "rolled back",
    "interrupted": "stopped",
    "not_started": "not run",
}
_CHECK_MARKS = {"passed": "pass", "warned": "WARN", "failed": "FAIL", "error": "ERROR"}


def _database(text: str) -> str:
    # "" would open the current folder as a database and fail with a confusing DuckDB message.
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give the path of a DuckDB file")
    return text


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--defs",
        default=DEFAULT_DEFS,
        metavar="MODULE",
        help=f"module or .py file defining `defs = Definitions(...)` (default: {DEFAULT_DEFS})",
    )
    common.add_argument(
        "--db",
        type=_database,
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"DuckDB file (default: {DEFAULT_DB})",
    )
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Materialize DuckDB assets, run their checks, and show what happened.",
        epilog='Selection syntax: name, "any name" (a quote inside doubled), *, +name'
        " (upstream), name+ (downstream), 2+name, name+1, group:NAME, tag:KEY=VALUE, kind:view;"
        " combine with ',', or, and, not, ( ).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "materialize", parents=[common], help="rebuild assets in dependency order, then check them"
    )
    run.add_argument(
        "--select", metavar="SEL", help="which assets (default: all), e.g. 'joined_data+'"
    )
    run.add_argument(
        "--workers",
        type=whole_number(1, MAX_WORKERS),
        metavar="N",
        help=f"assets built at once, 1 to {MAX_WORKERS} (default: half the cores, 1 to 4)",
    )
    partition_cli.add_materialize_arguments(run)
    automation_cli.add_config_argument(run)
    check = commands.add_parser(
        "check", parents=[common], help="run checks on the current tables without rebuilding"
    )
    check.add_argument("--select", metavar="SEL", help="checks of which assets (default: all)")
    check.add_argument(
        "--check",
        action="append",
        metavar="ASSET.CHECK",
        help="run only this check (repeat for more), e.g. products.product_id_unique",
    )
    commands.add_parser("list", parents=[common], help="assets with their status and checks")
    runs = commands.add_parser("runs", parents=[common], help="recent runs, newest first")
    runs.add_argument(
        "--limit",
        type=whole_number(1, MAX_RUNS_LISTED),
        default=20,
        metavar="N",
        help="how many (default: 20)",
    )
    report_cli.add_arguments(
        commands.add_parser("report", parents=[common], help="write a run's report (html, json...)")
    )
    partition_cli.add_commands(commands, common)
    automation_cli.add_commands(commands, common)
    return parser


def print_progress(item: AssetEvent | CheckRecord | PartitionEvent) -> None:
    """One line per asset (or partition) start and outcome, one per check, flushed as they
    happen.

    A reader that goes away (`... | head`) must not abort the run it watches: the run goes on
    and is recorded, with its progress no longer shown.
    """
    if isinstance(item, PartitionEvent):
        if item.status not in _ASSET_MARKS:
            return
        line = f"  {_ASSET_MARKS[item.status]:>7}  {item.asset}[{item.partition_key}]"
        if item.status == "materialized":
            line += f"  {item.row_count:,} rows in {item.duration_s or 0:.2f} s"
        elif item.error:
            line += f": {cap(item.error)}"
    elif isinstance(item, AssetEvent):
        if item.status not in _ASSET_MARKS:  # queued: every planned asset, said at the start
            return
        line = f"  {_ASSET_MARKS[item.status]:>7}  {item.asset}"
        if item.status == "materialized":
            line += f"  {item.row_count:,} rows in {item.duration_s:.2f} s"
        elif item.error:
            line += f": {cap(item.error)}"
    else:
        if item.outcome == "skipped":
            return
        line = f"  {_CHECK_MARKS[item.outcome]:>7}    check {item.key}"
        if item.failing_count:
            line += f" ({item.failing_count:,} failing rows)"
        if item.checked_build:  # a checks-only run saw the build before a failed one
            line += f" ({item.checked_build})"
        if item.error:
            line += f": {cap(item.error)}"
    try:
        print(printable(line), flush=True)
    except BrokenPipeError:
        silence_stdout()


def _run(args: argparse.Namespace, defs: Definitions) -> int:
    from pipeline import engine  # DuckDB is imported by the commands that need it

    if args.command == "materialize":
        result = engine.materialize(
            defs,
            args.select,
            args.db,
            args.workers,
            print_progress,
            launched_by="command line",
            partitions=partition_cli.request_from(args),
            run_config=automation_cli.run_config_from(args),
        )
    else:
        result = engine.run_checks(
            defs, args.select, args.db, print_progress, checks=args.check,
            launched_by="command line",
        )  # fmt: skip
    run = result.run
    assets = (
        f" {run.assets_materialized} materialized, {run.assets_failed} failed,"
        f" {run.assets_skipped} skipped, {run.assets_not_built} not built;"
        if run.kind == "materialize"
        else ""
    )
    print(
        f"Run {run.run_id} {look(run.status, RunStatus).label.lower()} in"
        f" {run.duration_s or 0:.2f} s:{assets} checks {run.checks_passed} passed,"
        f" {run.checks_warned} warned, {run.checks_failed} failed,"
        f" {run.checks_errored} could not run, {run.checks_not_run} not run"
    )
    if run.message:
        print(f"  {run.message}")
    if result.left_out:
        from pipeline import run_config

        print(f"  {for_terminal(run_config.left_out_note(defs, result.left_out) or '')}")
    return result.exit_code


def _list(args: argparse.Namespace, defs: Definitions) -> int:
    from pipeline import status  # the health model: only `list` needs it

    with store.open_store(args.db) as con:
        statuses = status.asset_statuses(defs, con, previews=False)
        checks = status.check_states(defs, con)
    header = f"{'asset':<24} {'group':<12} {'kind':<6} {'health':<11} {'rows':>12}  last built"
    print(header)
    for name, state in statuses.items():
        asset = defs.assets[name]
        last = state.last_materialization
        rows = f"{last.row_count:,}" if last and last.row_count is not None else "-"
        when = f"{last.ended_at:%Y-%m-%d %H:%M:%S} UTC" if last and last.ended_at else "-"
        shown = printable(f"{name:<24} {asset.group:<12} {asset.kind:<6}")
        print(f"{shown} {look(state.health).label:<11} {rows:>12}  {when}")
        if state.health != AssetHealth.FRESH:
            print(f"{'':<4}why: {for_terminal(state.reason or '')}")
        elif state.partitions is not None:
            print(f"{'':<4}{state.partitions}")
        for check in defs.checks_for(name):
            print(f"{'':<4}check {printable(check.name)}: {_check_line(checks[check.check_key])}")
    return EXIT_OK


def _check_line(state: status.CheckState) -> str:
    """'failed (error)', 'warned (warn), not run in run 7' or 'never run': the severity is the
    result's (a warn_if/error_if check escalates), not the declared one."""
    record = state.executed
    if record is None:
        return "never run"
    line = f"{look(record.outcome, CheckOutcome).label.lower()} ({record.severity})"
    if state.not_run_since and state.latest is not None:
        line += f", not run in run {state.latest.run_id}"
    if state.changed:
        line += ", but the check changed since: run it again"
    return line


def _runs(args: argparse.Namespace) -> int:
    with store.open_store(args.db) as con:
        runs = store.list_runs(con, args.limit)
    if not runs:
        print(f"No runs yet in {args.db}: start one with `python -m pipeline materialize`.")
        return EXIT_OK
    print(f"{'run':>5}  {'kind':<11} {'status':<11} {'started (UTC)':<19} {'secs':>7}  selection")
    for run in runs:
        secs = f"{run.duration_s:.2f}" if run.duration_s is not None else "-"
        print(
            f"{run.run_id:>5}  {run.kind:<11} {look(run.status, RunStatus).label:<11}"
            f" {run.started_at:%Y-%m-%d %H:%M:%S}"
            f" {secs:>7}  {for_terminal(run.selection or '*')}"
        )
        if run.message:
            print(f"{'':>7}{for_terminal(run.message.splitlines()[0])}")
        if run.launched_by and run.launched_by.startswith(AUTOMATION_LAUNCHERS):
            print(f"{'':>7}launched by {for_terminal(run.launched_by)}")
    return EXIT_OK


def _record_failed_run(args: argparse.Namespace, message: str) -> None:
    """Keep the history saying why a run never started, after the error is on screen.

    Best effort: when it cannot be recorded (a run in progress, a locked, unwritable or newer
    database) one line says so; it never replaces the error the user has to fix first.
    """
    kind = "materialize" if args.command == "materialize" else "checks"
    try:
        from pipeline import engine

        engine.record_failed_run(args.db, kind, args.select, message)
    except OSError as exc:
        reason = os_error_reason(exc, Path(args.db).parent)
    except Exception as exc:
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    else:
        return
    note = f"note: this failed run was not recorded in {args.db}: {reason}"
    print(for_terminal(note), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Definitions are loaded and the selection parsed before anything opens the database, so a
    mistake in them is reported as such (exit 2), never hidden behind a database problem."""
    args = build_parser().parse_args(argv)
    try:
        defs = load_definitions(args.defs)
        if args.command in ("materialize", "check"):
            selection.select(defs, args.select)
        for key in getattr(args, "check", None) or ():
            defs.find_check(key)
        if args.command == "automation":
            automation_cli.validate(args, defs)
    except DefinitionError as exc:
        print_error(exc)
        if args.command in ("materialize", "check"):
            _record_failed_run(args, str(exc))
        return EXIT_USAGE
    except SelectionError as exc:
        print_error(exc)
        return EXIT_USAGE
    try:
        if args.command in ("materialize", "check"):
            return _run(args, defs)
        if args.command == "report":
            return report_cli.main(args, defs)
        if args.command == "list":
            return _list(args, defs)
        if args.command == "partitions":
            return partition_cli.partitions(args, defs)
        if args.command == "backfills":
            return partition_cli.backfills(args)
        if args.command == "daemon":
            return automation_cli.daemon(args, print_progress)
        if args.command == "tick":
            return automation_cli.tick(args, defs, print_progress)
        if args.command == "automation":
            return automation_cli.automation(args, defs)
        return _runs(args)
    except (SelectionError, DatabaseFileError) as exc:  # what the user typed cannot work
        print_error(exc)
        return EXIT_USAGE
    except PipelineError as exc:
        print_error(exc)
        return EXIT_FAILED
    except BrokenPipeError:
        raise  # an OSError, but exit_code_of's to handle: the reader went away
    except Exception as exc:
        duckdb = sys.modules.get("duckdb")  # loaded only by commands that opened the warehouse
        if not isinstance(exc, OSError) and not (duckdb and isinstance(exc, duckdb.IOException)):
            raise
        # the --db given cannot work: bad usage
        reason = os_error_reason(exc, Path(args.db).parent) if isinstance(exc, OSError) else exc
        print_error(
            f"cannot use the database {args.db}: {str(reason).rstrip('.!')}. Pass --db a DuckDB"
            " file in a folder you can write to (it is created if missing)"
        )
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(exit_code_of(main))
