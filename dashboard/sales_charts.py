"""Altair charts of the Sales page: a small DataFrame from sales_service in, an alt.Chart out.

Colours follow the value, not its position, so 'Books' keeps its colour when a filter hides the
other categories, and a department has the same colour in the department chart and the top-reps
chart. Money axes use compact labels ($1.2M); tooltips show exact amounts.
"""

from __future__ import annotations

import zlib

import altair as alt
import pandas as pd

REVENUE_COLOUR = "#4C78A8"
MISSING_COLOUR = "#9D9D9D"
CATEGORY_COLOURS = {
    "Electronics": "#4C78A8",
    "Clothing": "#F58518",
    "Home and Garden": "#54A24B",
    "Books": "#B279A2",
}
DEPARTMENT_COLOURS = {
    "North": "#2F6690",
    "South": "#D1495B",
    "East": "#E09F3E",
    "West": "#2A9D8F",
}
# For values the sample data does not have (other pipelines, other data sets).
EXTRA_COLOURS = ("#72B7B2", "#EECA3B", "#FF9DA6", "#9D755D", "#BAB0AC", "#E45756")
MISSING_LABELS = ("Unknown product", "Unknown rep", "Unknown customer")

# Vega expression: $950, $12.3k, $4.5M, $1.2B: short enough for an axis at any data size.
COMPACT_DOLLARS = (
    "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, '$,.1f') + 'B'"
    " : abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '$,.1f') + 'M'"
    " : abs(datum.value) >= 1e3 ? format(datum.value / 1e3, '$,.1f') + 'k'"
    " : format(datum.value, '$,.0f')"
)
EXACT_DOLLARS = "$,.2f"
COUNT = ",d"


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
    return _column_chart(frame, "category", "Category", CATEGORY_COLOURS, "Revenue by category")


def revenue_by_department(frame: pd.DataFrame) -> alt.Chart:
    """Revenue per sales department, largest first."""
    return _column_chart(
        frame, "department", "Department", DEPARTMENT_COLOURS, "Revenue by department"
    )


def top_reps(frame: pd.DataFrame) -> alt.Chart:
    """The best-selling reps, coloured by department as in the department chart."""
    return _ranking(
        frame,
        "rep_name",
        "Sales rep",
        "Top sales reps by revenue",
        color=alt.Color(
            "department:N",
            title="Department",
            scale=_scale(frame["department"], DEPARTMENT_COLOURS),
            legend=alt.Legend(orient="bottom"),
        ),
        extra_tooltip=[alt.Tooltip("department:N", title="Department")],
    )


def top_customers(frame: pd.DataFrame) -> alt.Chart:
    """The customers bringing in the most revenue."""
    return _ranking(
        frame,
        "customer_name",
        "Customer",
        "Top customers by revenue",
        color=alt.value(REVENUE_COLOUR),
    )


def _column_chart(
    frame: pd.DataFrame, field: str, title: str, colours: dict[str, str], chart_title: str
) -> alt.Chart:
    order = list(frame[field])  # already sorted by revenue, largest first
    return (
        alt.Chart(frame, title=chart_title)
        .mark_bar()
        .encode(
            x=alt.X(f"{field}:N", title=title, sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("revenue:Q", title="Revenue", axis=_money_axis()),
            color=alt.Color(
                f"{field}:N", title=title, scale=_scale(frame[field], colours), legend=None
            ),
            tooltip=_totals_tooltip(field, title),
        )
    )


def _ranking(
    frame: pd.DataFrame,
    field: str,
    title: str,
    chart_title: str,
    color: alt.Color | alt.ColorValue,
    extra_tooltip: list[alt.Tooltip] | None = None,
) -> alt.Chart:
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
    )


def _money_axis() -> alt.Axis:
    return alt.Axis(labelExpr=COMPACT_DOLLARS)


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
