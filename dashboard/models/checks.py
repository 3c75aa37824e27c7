"""The Checks page: every check worst first, one check's executions, observed values and rule.

Outcomes come from each check's latest execution; a check whose newest record says it did not
run says so, and a check that never ran shows "—", never zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from dashboard.formatting import (
    format_ago,
    format_count,
    format_time,
    format_value,
    local_time,
)
from dashboard.models import words
from dashboard.models.reading import history
from dashboard.settings import Settings
from pipeline import store
from pipeline.checks_anomaly import band_of
from pipeline.definitions import CheckDef, Definitions
from pipeline.looks import NEVER_RUN, look
from pipeline.states import CheckKey, CheckOutcome
from pipeline.status import CheckState, check_states
from pipeline.store import CheckRecord

# Worst first: what broke, what could not run, what warns, what did not run, what never ran.
_RANK = {CheckOutcome.FAILED: 0, CheckOutcome.ERROR: 1, CheckOutcome.WARNED: 2}
TABLE_COLUMNS = [
    "Check", "Latest outcome", "Note", "Severity", "Observed", "Rule", "Failing rows",
    "Last ran", "Description",
]  # fmt: skip


@dataclass
class ChecksTable:
    frame: pd.DataFrame
    outcomes: list[CheckOutcome | None] = field(default_factory=list)  # per row, for colour
    keys: list[CheckKey] = field(default_factory=list)  # per row: the worst check first


def checks_table(cfg: Settings, defs: Definitions) -> ChecksTable:
    """Every defined check with its latest outcome, worst first (never-run checks included)."""
    with history(cfg) as con:
        states = check_states(defs, con)
    ordered = sorted(defs.checks, key=lambda c: (_rank(states[c.check_key]), c.key))
    rows = [_row(check, states[check.check_key]) for check in ordered]
    return ChecksTable(
        pd.DataFrame(rows, columns=TABLE_COLUMNS),
        [states[c.check_key].outcome for c in ordered],
        [c.check_key for c in ordered],
    )


def _rank(state: CheckState) -> int:
    """Failed, could not run, warned, not run since, never run, passed."""
    if state.outcome is None:
        return 4
    return _RANK.get(state.outcome, 3 if state.not_run_since or state.changed else 5)


def _row(check: CheckDef, state: CheckState) -> dict[str, object]:
    record = state.executed
    severity = record.severity if record else check.severity  # an escalated result shows so
    return {
        "Check": check.key,
        "Latest outcome": look(state.outcome).label if record else NEVER_RUN.label,
        "Note": _not_run_note(state),
        "Severity": severity + (", blocking" if check.blocking else ""),
        "Observed": format_value(record.observed_value) if record else "—",
        "Rule": (record.threshold or "—") if record else "—",
        "Failing rows": format_count(record.failing_count) if record else "—",
        "Last ran": format_ago(record.started_at) if record else "never",
        "Description": check.description or "",
    }


def _not_run_note(state: CheckState) -> str:
    """'not run in run 7: asset 'products' failed to build in this run' when the newest record
    is a skip, or that the check changed since: the outcome shown is then not current."""
    notes = []
    if state.not_run_since and state.latest is not None:
        notes.append(f"not run in run {state.latest.run_id}: {state.latest.error or 'skipped'}")
    if state.changed and state.executed is not None:
        notes.append(
            f"the check changed since it ran (run {state.executed.run_id}): this outcome is"
            " the old definition's; run it again"
        )
    return "; ".join(notes)


def outcome_history(records: Iterable[CheckRecord], short: bool = False) -> pd.DataFrame:
    """One row per check record (skips too): run_id, check, outcome (label), observed, when.

    `short` names checks without their asset (one asset's checks).
    """
    rows = [
        {
            "run_id": r.run_id,
            "check": r.check_name if short else r.key,
            "outcome": look(r.outcome, CheckOutcome).label,
            "observed_value": r.observed_value,
            "when": local_time(r.started_at),
        }
        for r in records
    ]
    frame = pd.DataFrame(rows, columns=["run_id", "check", "outcome", "observed_value", "when"])
    return frame.sort_values(["run_id", "check"]).reset_index(drop=True)


def all_outcomes(cfg: Settings, limit: int = 2000) -> pd.DataFrame:
    """Every recorded check result (skips too, they show as grey cells)."""
    with history(cfg) as con:
        return outcome_history(store.check_history(con, None, limit))


@dataclass
class CheckDetail:
    """One check: its definition, its newest execution, and every execution for the table."""

    check: CheckDef
    executed: CheckRecord | None
    latest: CheckRecord | None
    note: str
    executions: pd.DataFrame  # Run, When, Outcome, Observed, Failing rows, Rule, Note
    outcomes: list[CheckOutcome]  # per executions row
    observed: pd.DataFrame  # run_id, observed_value, outcome (label): for the chart
    rule_lines: list[tuple[str, float]]  # (label, value) from the rule, for the chart
    full_error: str | None = None
    band: pd.DataFrame | None = None  # an anomaly check's value and band by run (band_series)
    band_text: str | None = None  # its newest execution's 'row count 1,204, expected ...'


def check_detail(cfg: Settings, defs: Definitions, key: CheckKey) -> CheckDetail:
    check = next(c for c in defs.checks if c.check_key == key)
    with history(cfg) as con:
        records = [r for r in store.check_history(con, key.asset, 5000) if r.check_name == key.name]
    executed = next((r for r in records if r.outcome != CheckOutcome.SKIPPED), None)
    latest = records[0] if records else None
    state = CheckState(key, latest, executed)
    rows = [
        {
            "Run": r.run_id,
            "When": format_time(r.started_at),  # "—" for a check that did not run
            "Outcome": look(r.outcome, CheckOutcome).label,
            "Observed": format_value(r.observed_value),
            "Failing rows": format_count(r.failing_count),
            "Rule": r.threshold or "—",
            "Note": words.headline(r.error),
        }
        for r in records
    ]
    ran = [r for r in reversed(records) if r.observed_value is not None]
    observed = pd.DataFrame(
        {
            "run_id": [r.run_id for r in ran],
            "observed_value": [r.observed_value for r in ran],
            "outcome": [look(r.outcome, CheckOutcome).label for r in ran],
        }
    )
    return CheckDetail(
        check=check,
        executed=executed,
        latest=latest,
        note=_not_run_note(state),
        executions=pd.DataFrame(
            rows, columns=["Run", "When", "Outcome", "Observed", "Failing rows", "Rule", "Note"]
        ),
        outcomes=[CheckOutcome(r.outcome) for r in records],
        observed=observed,
        rule_lines=rule_lines(executed.threshold if executed else None),
        full_error=words.full_error(executed.error) if executed and executed.error else None,
        band=band_series(records),
        band_text=_band_text(executed),
    )


def _band_text(record: CheckRecord | None) -> str | None:
    band = band_of(record.metadata, record.observed_value) if record else None
    return band.text if band else None


BAND_RUNS = 50  # executions an anomaly check's band chart shows
BAND_COLUMNS = [
    "run_id", "when", "observed_value", "expected_low", "expected_high", "outcome",
    "anomalous", "enough_history", "band", "zscore", "reason", "label",
]  # fmt: skip


def band_series(records: Iterable[CheckRecord], limit: int = BAND_RUNS) -> pd.DataFrame | None:
    """An anomaly check's last `limit` executions that observed a value, oldest first: run_id,
    when, observed_value, expected_low / expected_high (NaN where a side has no bound or there
    was not enough history), outcome (label), anomalous (it warned or failed), enough_history,
    band (text, or why there is none), zscore, reason, label (what the band is of). None when
    no record is of an anomaly check (pipeline.checks_anomaly.band_of knows them)."""
    found = [(r, band_of(r.metadata, r.observed_value)) for r in records]
    if not any(band is not None for _, band in found):
        return None
    ran = sorted(
        ((r, band) for r, band in found if r.observed_value is not None),
        key=lambda pair: pair[0].run_id,
    )[-limit:]
    rows = [
        {
            "run_id": r.run_id,
            "when": local_time(r.started_at),
            "observed_value": r.observed_value,
            "expected_low": band.low if band else None,
            "expected_high": band.high if band else None,
            "outcome": look(r.outcome, CheckOutcome).label,
            "anomalous": r.outcome in (CheckOutcome.WARNED, CheckOutcome.FAILED),
            "enough_history": bool(band and band.enough_history),
            "band": (band.expected or band.reason or "no band") if band else "no band",
            "zscore": band.zscore if band else None,
            "reason": (band.reason if band else None) or "",
            "label": band.label if band else "observed",
        }
        for r, band in ran
    ]
    frame = pd.DataFrame(rows, columns=BAND_COLUMNS)
    for name in ("observed_value", "expected_low", "expected_high", "zscore"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def rule_lines(threshold: str | None) -> list[tuple[str, float]]:
    """The numbers a rule compares with, to draw as lines: 'warn if > 0, error if > 10' gives
    [('warn if > 0', 0), ('error if > 10', 10)]; percentages are not drawn (a share of rows
    is not the observed count)."""
    if not threshold or "%" in threshold:
        return []
    lines = []
    for part in threshold.split(","):
        numbers = re.findall(r"-?\d+(?:\.\d+)?", part)
        for number in numbers[:2]:
            lines.append((part.strip(), float(number)))
    return lines


NULL = "NULL"  # a missing value in a failing row: often why the row fails, so say it plainly


def failing_rows_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A failing-row sample or preview as a DataFrame (empty when there is none).

    A column holding a NULL is shown as text with NULL written out: st.dataframe would draw a
    grey "None", unlike the data's own word for it, and the NULL is often the failure itself.
    """
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        missing = frame[column].isna()
        if missing.any():
            frame[column] = [
                NULL if gap else str(value)
                for value, gap in zip(frame[column], missing, strict=True)
            ]
    return frame
