"""Shareable reports of one run: self-contained HTML, JSON (with a schema), JUnit XML, Markdown.

report = build_report("data/warehouse.duckdb", run="latest", defs_module="pipeline.examples.sales")
Path("report.html").write_text(render(report, "html"))
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.report.html import render_html
from pipeline.report.jsonreport import load_schema, render_json, to_dict
from pipeline.report.junit import render_junit
from pipeline.report.markdown import render_markdown
from pipeline.report.model import (
    AssetEntry,
    CheckEntry,
    Report,
    ReportError,
    build_report,
    recent_run_ids,
)

RENDERERS: dict[str, Callable[[Report], str]] = {
    "html": render_html,
    "json": render_json,
    "junit": render_junit,
    "md": render_markdown,
}
FORMATS = tuple(RENDERERS)
EXTENSIONS = {"html": "html", "json": "json", "junit": "xml", "md": "md"}
MIME_TYPES = {
    "html": "text/html",
    "json": "application/json",
    "junit": "application/xml",
    "md": "text/markdown",
}


def render(report: Report, fmt: str) -> str:
    """The report as text in one of FORMATS: html, json, junit, md."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ReportError(
            f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}"
        ) from None
    return renderer(report)


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MIME_TYPES",
    "AssetEntry",
    "CheckEntry",
    "Report",
    "ReportError",
    "build_report",
    "load_schema",
    "recent_run_ids",
    "render",
    "to_dict",
]
