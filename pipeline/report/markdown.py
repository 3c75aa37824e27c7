"""The report as a short Markdown summary to paste into a pull request or a chat.

Only what needs attention is listed (failures, errors, warnings, skipped assets); passes are a
count. Cell text is escaped so a `|` or backtick in the data cannot break the table, and control
characters are shown as escapes (`\\x1b`) so they cannot act on whoever reads the file.
"""

from __future__ import annotations

from pipeline.looks import look
from pipeline.report.model import Report, format_number
from pipeline.states import CheckOutcome
from pipeline.textsafe import printable

ICONS = {  # Markdown has no colours: an emoji per outcome; the words come from pipeline/looks.py
    "failed": "❌",
    "error": "⛔",
    "warned": "⚠️",
    "skipped": "⏭️",
    "passed": "✅",
}
MAX_ROWS = 15


def _cell(text: object) -> str:
    value = " ".join(printable(str(text)).split())
    for char in ("\\", "|", "`", "*", "_", "<", ">", "[", "]"):
        value = value.replace(char, "\\" + char)
    return value


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    clean = " ".join(printable(text).split()).replace("|", "\\|")
    fence = "``" if "`" in clean else "`"
    return f"{fence} {clean} {fence}" if fence == "``" else f"`{clean}`"


def render_markdown(report: Report) -> str:
    run, assets = report.run, report.asset_counts
    style = report.verdict_style
    when = f"{run.started_at:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"### {style.icon} {_cell(report.project)}: run {run.run_id}"
        f" {style.label} ({run.kind}, {when})",
        "",
        f"**Checks:** {report.check_summary(' · ')} — **Assets:**"
        f" {assets['materialized']} materialized · {assets['failed']} failed ·"
        f" {assets['skipped']} skipped",
    ]
    if run.message and run.status != "success":
        lines += ["", f"> {_cell(run.message.splitlines()[0])}"]
    if run.launched_by:
        lines += ["", f"Launched by {_cell(run.launched_by)}."]
    attention = [c for c in report.attention if c.outcome != "skipped"]
    not_run = [c for c in report.attention if c.outcome == "skipped"]
    if attention:
        lines += [
            "",
            "| Outcome | Check | Severity | Observed | Threshold | Failing rows | What happened |",
            "|---|---|---|---|---|---|---|",
        ]
        for check in attention[:MAX_ROWS]:
            severity = check.severity + (", blocking" if check.blocking else "")
            failing = "-" if check.failing_count is None else f"{check.failing_count:,}"
            threshold = check.threshold or "-"
            band = check.band
            if band is not None and band.expected is not None:  # rounded as the headline has it
                threshold = f"{band.label} expected {band.expected}"
            lines.append(
                f"| {ICONS.get(check.outcome, '')} {look(check.outcome, CheckOutcome).label}"
                f" | {_code(check.key)}"
                f" | {severity} | {format_number(check.observed_value)}"
                f" | {_cell(threshold)} | {failing} | {_cell(check.headline)} |"
            )
        if len(attention) > MAX_ROWS:
            lines.append(f"\n…and {len(attention) - MAX_ROWS} more in the full report.")
    elif report.checks and not not_run:
        passed = (
            "The one check passed."
            if len(report.checks) == 1
            else f"All {len(report.checks)} checks passed."
        )
        lines += ["", passed]
    within = [c for c in report.checks if c.outcome == "passed" and c.band is not None]
    if within:  # anomaly checks that passed: their value and band, as the table shows the rest
        lines += ["", "**Within their expected band:**"]
        lines += [f"- {_code(c.key)}: {_cell(c.headline)}" for c in within[:MAX_ROWS]]
        if len(within) > MAX_ROWS:
            lines.append(f"- …and {len(within) - MAX_ROWS} more in the full report.")
    if not_run:
        names = ", ".join(_code(c.key) for c in not_run)
        lines += ["", f"⏭️ Not run (their asset was not built): {names}"]
    lines += _partition_lines(report)
    for entry in report.failed_assets:
        lines += ["", f"- ❌ asset {_code(entry.name)} failed: {_cell(entry.error or '')}"]
    skipped = report.skipped_assets
    if skipped:
        lines += ["", "**Skipped assets:**"]
        lines += [f"- {_code(e.name)}: {_cell(e.error or 'skipped')}" for e in skipped]
    lines += [
        "",
        f"<sub>Assetboard report · {_cell(report.database)} · generated"
        f" {report.generated_at:%Y-%m-%d %H:%M:%S} UTC</sub>",
    ]
    return "\n".join(lines) + "\n"


def _partition_lines(report: Report) -> list[str]:
    """Which partitions each asset built or failed, and each check's failing partitions."""
    groups = report.partitioned_assets
    if not groups:
        return []
    counts = report.partition_counts
    lines = [
        "",
        f"**Partitions:** {counts['materialized']} built · {counts['failed']} failed ·"
        f" {counts['skipped']} skipped",
    ]
    for group in groups:
        lines.append(f"- {_code(group.asset)}: {_cell(group.summary())}")
        for build in group.failed:
            why = _cell((build.error or "failed").splitlines()[0])
            lines.append(f"  - ❌ partition {_code(build.key)} failed: {why}")
    failing = [c for check in report.checks for c in report.failing_partitions(check.key)]
    if failing:
        lines += [
            "",
            "| Outcome | Check | Partition | Observed | What happened |",
            "|---|---|---|---|---|",
        ]
        for result in failing[:MAX_ROWS]:
            lines.append(
                f"| {ICONS.get(result.outcome, '')} {look(result.outcome, CheckOutcome).label}"
                f" | {_code(result.check_key)} | {_code(result.key)}"
                f" | {format_number(result.observed_value)} | {_cell(result.headline)} |"
            )
        if len(failing) > MAX_ROWS:
            lines.append(f"\n…and {len(failing) - MAX_ROWS} more partitions in the full report.")
    return lines
