"""How each state looks wherever it is shown: label, colours and icon, in one table.

Every page, the CLI and every report take labels and colours from here, so a word means one
thing everywhere and nothing decides by display text (code compares the StrEnum members).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.states import (
    AssetHealth,
    CheckOutcome,
    EventStatus,
    PartitionStatus,
    RunStatus,
    Severity,
    TickStatus,
    Verdict,
)


@dataclass(frozen=True)
class Look:
    label: str  # what a person reads: "Fresh", "Not run"
    colour: str  # strong colour (graph fill, chart mark, HTML badge)
    tint: str  # light background for a table cell
    streamlit: str  # Streamlit's Markdown colour name: green, orange, red, violet, blue, gray
    icon: str  # Material Symbols name, shown by the dashboard (bundled font, no network)
    symbol: str  # plain-text mark for terminals and Markdown reports


GREEN, AMBER, RED, VIOLET, BLUE, GREY = (
    "#2e7d32",
    "#e0a100",
    "#c62828",
    "#7b1fa2",
    "#1565c0",
    "#78909c",
)
_TINT = {GREEN: "#e8f5e9", AMBER: "#fff8e1", RED: "#ffebee", VIOLET: "#f3e5f5", BLUE: "#e3f2fd"}
_TINT[GREY] = "#eceff1"
_NAME = {GREEN: "green", AMBER: "orange", RED: "red", VIOLET: "violet", BLUE: "blue", GREY: "gray"}


def _look(label: str, colour: str, icon: str, symbol: str) -> Look:
    return Look(label, colour, _TINT[colour], _NAME[colour], icon, symbol)


# Keyed by kind first: StrEnum members of two kinds with one value ("failed") are equal strings
# with equal hashes, so one flat dict (or dict literal) would mix them up.
_TABLE: list[tuple[StrEnum, Look]] = [
    (AssetHealth.FAILED, _look("Failed", RED, "error", "✖")),
    (AssetHealth.BLOCKED, _look("Blocked", VIOLET, "block", "⊘")),
    (AssetHealth.DEGRADED, _look("Degraded", RED, "report", "▲")),
    (AssetHealth.STALE, _look("Stale", AMBER, "update", "~")),
    (AssetHealth.WARNING, _look("Warning", AMBER, "warning", "!")),
    (AssetHealth.FRESH, _look("Fresh", GREEN, "check_circle", "✔")),
    (AssetHealth.NEVER, _look("Never built", GREY, "radio_button_unchecked", "·")),
    (CheckOutcome.PASSED, _look("Passed", GREEN, "check_circle", "✔")),
    (CheckOutcome.WARNED, _look("Warned", AMBER, "warning", "!")),
    (CheckOutcome.FAILED, _look("Failed", RED, "cancel", "✖")),
    (CheckOutcome.ERROR, _look("Could not run", VIOLET, "error", "⛔")),
    (CheckOutcome.SKIPPED, _look("Not run", GREY, "block", "–")),
    (RunStatus.RUNNING, _look("Running", BLUE, "progress_activity", "…")),
    (RunStatus.SUCCESS, _look("Succeeded", GREEN, "check_circle", "✔")),
    (RunStatus.FAILED, _look("Failed", RED, "error", "✖")),
    (RunStatus.CANCELLED, _look("Cancelled", AMBER, "stop_circle", "■")),
    (RunStatus.INTERRUPTED, _look("Interrupted", VIOLET, "power_off", "⚡")),
    (EventStatus.QUEUED, _look("Queued", GREY, "schedule", "…")),
    (EventStatus.RUNNING, _look("Running", BLUE, "progress_activity", "…")),
    (EventStatus.MATERIALIZED, _look("Built", GREEN, "check_circle", "✔")),
    (EventStatus.FAILED, _look("Failed", RED, "error", "✖")),
    (EventStatus.SKIPPED, _look("Skipped", VIOLET, "block", "⊘")),
    (EventStatus.CANCELLED, _look("Rolled back", AMBER, "undo", "■")),
    (EventStatus.INTERRUPTED, _look("Interrupted", VIOLET, "power_off", "⚡")),
    (EventStatus.NOT_STARTED, _look("Not started", GREY, "block", "–")),
    (Verdict.PASSED, _look("Passed", GREEN, "check_circle", "✔")),
    (Verdict.WARNED, _look("Passed with warnings", AMBER, "warning", "✔")),
    (Verdict.FAILED, _look("Failed", RED, "error", "✘")),
    (Verdict.CANCELLED, _look("Cancelled", AMBER, "stop_circle", "■")),
    (Verdict.INTERRUPTED, _look("Interrupted", VIOLET, "power_off", "✘")),
    (Verdict.RUNNING, _look("Running", BLUE, "progress_activity", "…")),
    (Verdict.NO_CHECKS, _look("No checks ran", GREY, "radio_button_unchecked", "–")),
    (Severity.ERROR, _look("Error", RED, "priority_high", "E")),
    (Severity.WARN, _look("Warn", AMBER, "warning", "W")),
    (PartitionStatus.MATERIALIZED, _look("Materialized", GREEN, "check_circle", "✔")),
    (PartitionStatus.STALE, _look("Stale", AMBER, "update", "~")),
    (PartitionStatus.FAILED, _look("Failed", RED, "error", "✖")),
    (PartitionStatus.MISSING, _look("Missing", GREY, "radio_button_unchecked", "·")),
    (TickStatus.REQUESTED, _look("Requested a run", GREEN, "play_circle", "▶")),
    (TickStatus.SKIPPED, _look("Skipped", GREY, "skip_next", "–")),
    (TickStatus.PARTIAL, _look("Requested runs, rejected files", AMBER, "warning", "!")),
    (TickStatus.FAILED, _look("Failed", RED, "error", "✖")),
    (TickStatus.STARTED, _look("Evaluating", BLUE, "hourglass_top", "…")),
]
LOOKS: dict[type[StrEnum], dict[str, Look]] = {}
for _member, _shown in _TABLE:
    LOOKS.setdefault(type(_member), {})[_member.value] = _shown
NEVER_RUN = _look("Never run", GREY, "radio_button_unchecked", "·")  # a check with no record


def look(state: StrEnum | str | None, kind: type[StrEnum] | None = None) -> Look:
    """The look of a state: a member, or a stored string read as a member of `kind`."""
    if state is None:
        return NEVER_RUN
    if kind is None:
        if not isinstance(state, StrEnum):
            raise TypeError(f"look({state!r}) needs the kind of state it is")
        kind = type(state)
    return LOOKS[kind][kind(state).value]
