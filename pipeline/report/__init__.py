"""Shareable reports of one run: self-contained HTML, JSON (with a schema), JUnit XML, Markdown.

report = build_report("data/warehouse.duckdb", run="latest", defs_module="pipeline.examples.sales")
Path("report.html").write_text(render(report, "html"))

The renderers (Jinja2 and all) load on first use: `python -m pipeline materialize` registers
the report subcommand's arguments and should not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.report.jsonreport import load_schema, to_dict
    from pipeline.report.model import (
        AssetEntry,
        CheckEntry,
        Report,
        ReportError,
        build_report,
        recent_run_ids,
    )

FORMATS = ("html", "json", "junit", "md")
EXTENSIONS = {"html": "html", "json": "json", "junit": "xml", "md": "md"}
MIME_TYPES = {
    "html": "text/html",
    "json": "application/json",
    "junit": "application/xml",
    "md": "text/markdown",
}
_RENDERERS = {  # format -> (module, function)
    "html": ("html", "render_html"),
    "json": ("jsonreport", "render_json"),
    "junit": ("junit", "render_junit"),
    "md": ("markdown", "render_markdown"),
}
_LAZY = {
    "AssetEntry": "model",
    "CheckEntry": "model",
    "Report": "model",
    "ReportError": "model",
    "build_report": "model",
    "recent_run_ids": "model",
    "load_schema": "jsonreport",
    "to_dict": "jsonreport",
}


def render(report: Report, fmt: str) -> str:
    """The report as text in one of FORMATS: html, json, junit, md."""
    if fmt not in _RENDERERS:
        from pipeline.report.model import ReportError

        raise ReportError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    module, function = _RENDERERS[fmt]
    renderer = getattr(importlib.import_module(f"pipeline.report.{module}"), function)
    return str(renderer(report))


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'pipeline.report' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pipeline.report.{_LAZY[name]}"), name)


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
