"""Altair charts of the Sales page: a small DataFrame from sales_service in, an alt.Chart out.

Colours follow the value, not its position, so 'Books' keeps its colour when a filter hides the
other categories, and a department has the same colour in the department chart and the top-reps
chart. Money axes use compact labels ($1.2M); tooltips show exact amounts.
"""

from __future__ import annotations

import zlib

import altair as alt
import pandas as pd

REVENUE_COLOUR = "#1e63b8"  # the theme's primary: a plain measure, no category or department
MISSING_COLOUR = "#9D9D9D"
# Category and department palettes share no hue with each other or with REVENUE_COLOUR.
CATEGORY_COLOURS = {
    "Electronics": "#8E6BBF",
    "Clothing": "#D4609A",
    "Home and Garden": "#59A14F",
    "Books": "#9C755F",
}
DEPARTMENT_COLOURS = {
    "North": "#2A9D8F",
    "South": "#E76F51",
    "East": "#E9B44C",
    "West": "#264653",
}
# For values the sample data does not have (other pipelines, other data sets).
EXTRA_COLOURS = ("#72B7B2", "#B6992D", "#FF9DA6", "#79706E", "#D37295", "#86BCB6")
MISSING_LABELS = ("Unknown product", "Unknown rep", "Unknown customer")

# Vega expression: $950, $12.3k, $4.5M, $1.2B: short enough for an axis at any data size.
COMPACT_DOLLARS = (
    "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, '$,.1~f') + 'B'"
    " : abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '$,.1~f') + 'M'"
    " : abs(datum.value) >= 1e3 ? format(datum.value / 1e3, '$,.1~f') + 'k'"
    " : format(datum.value, '$,.0f')"
)
EXACT_DOLLARS = "$,.2f"
COUNT = ",d"
BAR_STEP = 30  # pixels per bar in the horizontal bar charts


def revenue_by_month(frame: pd.DataFrame) -> alt.Chart:
    """Line of monthly revenue: the trend the sales team looks at first."""
    return (
        alt.Chart(frame, title="Revenue by month")
        .mark_line(point=True, color=REVENUE_COLOUR)
        .encode(
            x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount="month")),
            y=alt.Y("revenue:Q", title="Revenue", axis=_money_axis()),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%B %Y"),
                alt.Tooltip("revenue:Q", title="Revenue", format=EXACT_DOLLARS),
                alt.Tooltip("orders:Q", title="Orders", format=COUNT),
            ],
        )
    )


def revenue_by_category(frame: pd.DataFrame) -> alt.Chart:
    """Revenue per product category, largest first."""
    return _bars(
        frame,
        "category",
        "Category",
        "Revenue by category",
        color=_colour_by("category", "Category", frame, CATEGORY_COLOURS, legend=False),
    )


def revenue_by_department(frame: pd.DataFrame) -> alt.Chart:
    """Revenue per sales department, largest first."""
    return _bars(
        frame,
        "department",
        "Department",
        "Revenue by department",
        color=_colour_by("department", "Department", frame, DEPARTMENT_COLOURS, legend=False),
    )


def top_reps(frame: pd.DataFrame) -> alt.Chart:
    """The best-selling reps, coloured by department as in the department chart."""
    return _bars(
        frame,
        "rep_name",
        "Sales rep",
        "Top sales reps by revenue",
        color=_colour_by("department", "Department", frame, DEPARTMENT_COLOURS, legend=True),
        extra_tooltip=[alt.Tooltip("department:N", title="Department")],
    )


def top_customers(frame: pd.DataFrame) -> alt.Chart:
    """The customers bringing in the most revenue."""
    return _bars(
        frame,
        "customer_name",
        "Customer",
        "Top customers by revenue",
        color=alt.ColorValue(REVENUE_COLOUR),
    )


def _bars(
    frame: pd.DataFrame,
    field: str,
    title: str,
    chart_title: str,
    color: alt.Color | alt.ColorValue,
    extra_tooltip: list[alt.Tooltip] | None = None,
) -> alt.Chart:
    """Horizontal bars, largest on top. Each bar gets a fixed height, so one bar left by a
    filter stays a bar rather than a block filling the chart, and long names stay readable."""
    return (
        alt.Chart(frame, title=chart_title)
        .mark_bar()
        .encode(
            y=alt.Y(
                f"{field}:N", title=title, sort=list(frame[field]), axis=alt.Axis(labelLimit=200)
            ),
            x=alt.X("revenue:Q", title="Revenue", axis=_money_axis()),
            color=color,
            tooltip=[*_totals_tooltip(field, title), *(extra_tooltip or [])],
        )
        .properties(height=alt.Step(BAR_STEP))
    )


def _colour_by(
    field: str, title: str, frame: pd.DataFrame, colours: dict[str, str], legend: bool
) -> alt.Color:
    return alt.Color(
        f"{field}:N",
        title=title,
        scale=_scale(frame[field], colours),
        # Below the bars: above, it would push them out of line with the chart beside.
        legend=alt.Legend(orient="bottom", direction="horizontal") if legend else None,
    )


def _money_axis() -> alt.Axis:
    # Few ticks, and drop a label rather than overlap: "$2.4M" labels collide on half-width charts.
    return alt.Axis(
        labelExpr=COMPACT_DOLLARS, tickCount=5, labelOverlap="greedy", labelSeparation=8
    )


def _totals_tooltip(field: str, title: str) -> list[alt.Tooltip]:
    return [
        alt.Tooltip(f"{field}:N", title=title),
        alt.Tooltip("revenue:Q", title="Revenue", format=EXACT_DOLLARS),
        alt.Tooltip("orders:Q", title="Orders", format=COUNT),
        alt.Tooltip("units:Q", title="Units", format=COUNT),
    ]


def _scale(values: pd.Series, colours: dict[str, str]) -> alt.Scale:
    """A colour per value by name: known names keep theirs, missing data is grey."""
    domain = sorted({str(v) for v in values})
    return alt.Scale(domain=domain, range=[_colour(v, colours) for v in domain])


def _colour(value: str, colours: dict[str, str]) -> str:
    if value in colours:
        return colours[value]
    if value in MISSING_LABELS:
        return MISSING_COLOUR
    # crc32, not hash(): the same name gets the same colour in every process.
    return EXTRA_COLOURS[zlib.crc32(value.encode()) % len(EXTRA_COLOURS)]
