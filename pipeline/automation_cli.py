"""The command line's automation commands: `daemon`, `tick`, `automation` (schedules and
sensors with their state and last ticks, `--on NAME` / `--off NAME`), and `--config` for
`materialize`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from pipeline import store
from pipeline.definitions import Definitions
from pipeline.errors import SelectionError
from pipeline.states import TickStatus
from pipeline.store import automation as ticks_store
from pipeline.textsafe import for_terminal

EXIT_OK, EXIT_FAILED = 0, 1


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 1 to 86400")
    return value


def _moment(text: str) -> datetime:
    """--now: ISO date and time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time: write e.g. 2026-12-07T00:00:00 (UTC) or"
            " 2026-12-07T00:00:00+01:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    daemon = commands.add_parser(
        "daemon", parents=[common], help="evaluate schedules and sensors every interval, for good"
    )
    daemon.add_argument(
        "--interval",
        type=_interval,
        default=30.0,
        metavar="SECONDS",
        help="seconds between evaluations (default: 30)",
    )
    tick = commands.add_parser(
        "tick", parents=[common], help="evaluate schedules and sensors once, launch what is due"
    )
    tick.add_argument(
        "--now",
        type=_moment,
        metavar="WHEN",
        help="evaluate as if it were WHEN, e.g. 2026-12-07T00:00:00 (default: now, UTC)",
    )
    automation = commands.add_parser(
        "automation", parents=[common], help="schedules and sensors: state, next run, last ticks"
    )
    switch = automation.add_mutually_exclusive_group()
    switch.add_argument("--on", metavar="NAME", help="switch this schedule or sensor on")
    switch.add_argument("--off", metavar="NAME", help="switch this schedule or sensor off")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="JSON|FILE",
        help='run config for assets that take it: \'{"adhoc_request": {"department": ...}}\''
        " or a file holding that JSON",
    )


def run_config_from(args: argparse.Namespace) -> dict[str, Any] | None:
    from pipeline import run_config

    text = getattr(args, "config", None)
    return None if text is None else run_config.parse_text(text)


def validate(args: argparse.Namespace, defs: Definitions) -> None:
    """Names given to --on/--off must exist: a usage error otherwise."""
    name = getattr(args, "on", None) or getattr(args, "off", None)
    if name is not None and name not in defs.automations:
        known = ", ".join(sorted(defs.automations)) or "none are defined"
        raise SelectionError(f"no schedule or sensor '{name}' (known: {known})")


def daemon(args: argparse.Namespace, on_event: Any) -> int:
    from pipeline.daemon import Daemon

    Daemon(args.defs, args.db, args.interval, _say, on_event).run()
    return EXIT_OK


def tick(args: argparse.Namespace, defs: Definitions, on_event: Any) -> int:
    from pipeline.daemon import describe_tick, tick_once

    now = args.now or datetime.now(UTC)
    recorded = tick_once(defs, args.db, now, on_event)
    for item in recorded:
        _say(describe_tick(item))
    if not recorded:
        _say(f"nothing due at {now:%Y-%m-%d %H:%M:%S %Z}")
    troubled = (TickStatus.FAILED, TickStatus.PARTIAL)  # a rejected file is worth an exit code
    return EXIT_FAILED if any(t.status in troubled for t in recorded) else EXIT_OK


def automation(args: argparse.Namespace, defs: Definitions) -> int:
    from pipeline import ticking
    from pipeline.daemon import daemon_active

    if args.on or args.off:
        name = args.on or args.off
        ticking.set_enabled(args.db, defs, name, bool(args.on))
        _say(f"{defs.automations[name].kind} {name} switched {'on' if args.on else 'off'}")
        return EXIT_OK
    now = datetime.now(UTC)
    with store.open_store(args.db) as con:
        known = ticks_store.states(con)
        recent = {name: ticks_store.ticks(con, name, 3) for name in defs.automations}
    running = "running" if daemon_active(args.db) else "not running (python -m pipeline daemon)"
    _say(f"daemon: {running}")
    if not defs.automations:
        _say("no schedules or sensors are defined")
    for name, item in defs.automations.items():
        state = known.get(name) or ticks_store.AutomationState(name, item.kind)
        switch = "on" if ticking.enabled(item, state) else "off"
        if isinstance(item, ticking.Schedule):
            due = item.next_time(now)
            when = f"{item.in_words()}; next {due:%Y-%m-%d %H:%M %Z}"
            if ended := ticking.partitions_ended(defs, item, due):  # a tick, but no run
                when += f", {ended}"
        else:
            seen = len(state.cursor.get("files", {}))
            when = f"watches {item.path}; {seen} file{'s' * (seen != 1)} seen"
        _say(f"{item.kind} {name} [{switch}]: {when}")
        for entry in recent[name]:
            text = describe(entry).replace("\n", "\n" + " " * 24)
            _say(f"    {entry.evaluated_at:%Y-%m-%d %H:%M:%S} {text}")
    return EXIT_OK


def describe(entry: ticks_store.Tick) -> str:
    from pipeline.daemon import describe_tick

    return describe_tick(entry).split(": ", 1)[1] if ": " in describe_tick(entry) else ""


def _say(line: str) -> None:
    print(for_terminal(line), flush=True)
