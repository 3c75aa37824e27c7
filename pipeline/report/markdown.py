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
            lines.append(
                f"| {ICONS.get(check.outcome, '')} {look(check.outcome, CheckOutcome).label}"
                f" | {_code(check.key)}"
                f" | {severity} | {format_number(check.observed_value)}"
                f" | {_cell(check.threshold or '-')} | {failing} | {_cell(check.headline)} |"
            )
        if len(attention) > MAX_ROWS:
            lines.append(f"\n…and {len(attention) - MAX_ROWS} more in the full report.")
    elif report.checks and not not_run:
        lines += ["", f"All {len(report.checks)} checks passed."]
    if not_run:
        names = ", ".join(_code(c.key) for c in not_run)
        lines += ["", f"⏭️ Not run (their asset was not built): {names}"]
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
