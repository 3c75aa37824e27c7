"""The report as one self-contained HTML file: inline CSS and SVG, no scripts, no network.

Rendered with Jinja2 and autoescaping always on, so text from the data (asset descriptions,
check metadata, failing-row values) is shown as text and never executed; control characters in
it, which autoescaping leaves alone, are shown as escapes (`\\x1b`). The file opens from disk
or an e-mail attachment exactly as it does anywhere else.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from pipeline.checks_anomaly import figure
from pipeline.looks import look
from pipeline.report.model import Report, format_number
from pipeline.states import CheckOutcome, EventStatus
from pipeline.textsafe import printable

if TYPE_CHECKING:
    from jinja2 import Environment

SAMPLE_COLUMNS_SHOWN = 12
SAMPLE_ROWS_SHOWN = 5  # the rest of the sample sits behind "Show N more", to keep pages short


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:,.2f} s"


def _cell(value: object) -> str:
    return "NULL" if value is None else str(value)


def _printable(value: object) -> object:
    """Jinja's finalize: every {{ value }} passes here before autoescaping. Macro output is
    Markup, already made of finalized values, and is left alone."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


@cache
def _environment() -> Environment:
    # Imported on first render, not at import: `python -m pipeline` loads this package for its
    # `report` subcommand, and Jinja2 was a sixth of the CLI's start-up (see BENCHMARKS.md).
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("pipeline.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_printable,
    )
    env.filters.update(
        when=_when,
        seconds=_seconds,
        number=format_number,
        figure=figure,
        cell=_cell,
        check_look=lambda value: look(value, CheckOutcome),
        event_look=lambda value: look(value, EventStatus),
    )
    env.globals.update(
        sample_columns_shown=SAMPLE_COLUMNS_SHOWN,
        sample_rows_shown=SAMPLE_ROWS_SHOWN,
    )
    return env


def render_html(report: Report) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(report=report, run=report.run)
