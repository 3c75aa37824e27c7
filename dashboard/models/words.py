"""Sentences several pages say: the same cause in the same words everywhere."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dashboard.formatting import format_count, format_value
from pipeline.errors import SelectionError
from pipeline.states import CheckOutcome, RunStatus
from pipeline.store import CheckRecord, RunRecord
from pipeline.textsafe import cap

# DuckDB's advice that never applies here: the example gives every column its type, and
# Assetboard never auto-detects one.
# The reader's settings dump ("  delimiter = , (Auto-Detected)") under "Possible solutions:"
# or "Possible fixes:" goes too: histories written before the engine dropped it still hold it.
_INAPPLICABLE = re.compile(
    r"^(Possible Solution|Possible solutions:|Possible fixes:|\* |Original Line:|  file="
    r"|  delimiter|  quote|  escape|  new_line|  header|  skip_rows|  comment|  date_format"
    r"|  timestamp_format|  null_padding|  sample_size|  ignore_errors|  all_varchar"
    r"|  \w+ = ).*|.*auto-detect.*|.*auto_detect.*",
)


def headline(error: str | None) -> str:
    """The first line of an error, for a list or a card; the full text goes behind a toggle."""
    if not error:
        return ""
    first = error.strip().splitlines()[0]
    return first if len(first) <= 300 else first[:299] + "…"


def full_error(error: str) -> str:
    """The error without DuckDB's advice about options this project never uses."""
    kept = [line for line in error.splitlines() if not _INAPPLICABLE.match(line)]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) or error


def check_message(record: CheckRecord) -> str:
    """What a check saw: why it could not run, or observed against its rule and failing rows."""
    if record.error:
        return headline(record.error)
    parts = []
    if record.observed_value is not None:
        parts.append(f"observed {format_value(record.observed_value)}")
    if record.threshold:
        parts.append(f"rule: {record.threshold}")
    if record.failing_count:
        plural = "s" if record.failing_count != 1 else ""
        parts.append(f"{format_count(record.failing_count)} failing row{plural}")
    return ", ".join(parts) or (record.description or "check did not pass")


def run_summary(run: RunRecord) -> str:
    """'Materialize all · 4 built, 1 failed · checks: 5 passed, 7 not run' for one run.

    Never 'all checks passed' unless every planned check ran and passed.
    """
    what = "Materialize" if run.kind == "materialize" else "Checks"
    parts = [f"{what} {run.selection or 'all assets'}"]
    if run.kind == "materialize":
        assets = [f"{run.assets_materialized} built"]
        for count, word in (
            (run.assets_failed, "failed"),
            (run.assets_skipped, "skipped"),
            (run.assets_not_built, "not built"),
        ):
            if count:
                assets.append(f"{count} {word}")
        parts.append(", ".join(assets))
    parts.append(check_counts(run))
    return " · ".join(parts)


def check_tiles_caption(last: RunRecord | None, not_in_last: int, total: int) -> str:
    """What the Overview's check tiles count: each check's latest outcome, whichever run gave
    it, so beside the last run's own tally they must say how many that run did not run."""
    text = "Each check's latest outcome, from whichever run last ran it"
    if last is None or not RunStatus(last.status).finished or not not_in_last:
        return text + "."
    if not_in_last == total:
        return f"{text}; none ran in the last run (run {last.run_id})."
    return f"{text}; {not_in_last:,} of {total:,} did not run in the last run (run {last.run_id})."


def stale_note(names: Sequence[str], shown: int = 5) -> str:
    """'2 stale assets (a, b): rebuild them with Materialize → Stale only.' Stale is not
    broken, but a page that says nothing needs attention while every asset is stale misleads."""
    listed = ", ".join(names[:shown]) + (
        f" and {len(names) - shown:,} more" if len(names) > shown else ""
    )
    noun = "stale asset" if len(names) == 1 else "stale assets"
    them = "it" if len(names) == 1 else "them"
    return f"{len(names):,} {noun} ({listed}): rebuild {them} with Materialize → Stale only."


def selection_problem(exc: SelectionError) -> str:
    """The heading of a selection's error by its kind: a typo in a name parses fine, so
    "does not parse" would send the reader hunting for a syntax mistake."""
    if exc.unknown is not None:
        return f"The selection names an unknown {exc.unknown}"
    return "The selection does not parse"


def check_counts(run: RunRecord) -> str:
    """'checks: 5 passed, 1 warned, 7 not run' (only the counts there are)."""
    return _tally(
        run.checks_planned,
        run.checks_passed,
        run.checks_warned,
        run.checks_failed,
        run.checks_errored,
        run.checks_not_run,
    )


def record_counts(records: Sequence[CheckRecord]) -> str:
    """`check_counts` from a run's check records (a run still in memory), by the same rule:
    every check the run planned has a record, the ones that could not run as skipped."""
    outcomes = [r.outcome for r in records]
    return _tally(
        len(outcomes),
        outcomes.count(CheckOutcome.PASSED),
        outcomes.count(CheckOutcome.WARNED),
        outcomes.count(CheckOutcome.FAILED),
        outcomes.count(CheckOutcome.ERROR),
        outcomes.count(CheckOutcome.SKIPPED),
    )


def _tally(planned: int, passed: int, warned: int, failed: int, errored: int, not_run: int) -> str:
    """Never 'all checks passed' unless every planned check ran and passed."""
    if not planned and not passed:
        return "no checks"
    if passed == planned and planned:
        return "the one check passed" if planned == 1 else f"all {planned} checks passed"
    counts = [
        (passed, "passed"),
        (warned, "warned"),
        (failed, "failed"),
        (errored, "could not run"),
        (not_run, "not run"),
    ]
    shown = [f"{count} {word}" for count, word in counts if count]
    return "checks: " + (", ".join(shown) or "none ran")


_PLACES = {"dashboard": "the dashboard", "command line": "the command line", "python": "Python"}


def launched_from(where: str | None) -> str:
    """'the dashboard', 'the command line': where a run was started, to read in a sentence."""
    if not where:
        return "an unknown place"
    return _PLACES.get(where, where)


def reasons_help(reasons: list[tuple[str, str]], limit: int = 8) -> str | None:
    """'adhoc_request: never built; ...' one line per asset (the first `limit`), for the help
    of a count: a number alone does not say which assets or why. None when there are none."""
    if not reasons:
        return None
    lines = [f"{name}: {cap(headline(reason), 200)}" for name, reason in reasons[:limit]]
    if len(reasons) > limit:
        lines.append(f"and {len(reasons) - limit:,} more")
    return "\n".join(lines)
