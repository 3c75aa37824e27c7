"""The Sales charts' Vega-Lite specs: what is plotted, how it is labelled and coloured."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import sales_charts


@pytest.fixture
def by_month() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "revenue": [599223.44, 657739.57],
            "orders": [93, 87],
            "units": [1814, 1826],
        }
    )


def totals(field: str, values: list[str]) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame(
        {
            field: values,
            "revenue": [1000.0 * (n - i) for i in range(n)],
            "orders": [10] * n,
            "units": [20] * n,
        }
    )


def test_revenue_by_month_is_a_dated_line_in_dollars(by_month: pd.DataFrame) -> None:
    spec = sales_charts.revenue_by_month(by_month).to_dict()

    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"] == spec["encoding"]["x"] | {"field": "month", "type": "temporal"}
    assert spec["encoding"]["x"]["title"] == "Month"
    assert spec["encoding"]["y"]["field"] == "revenue"
    assert spec["encoding"]["y"]["type"] == "quantitative"
    assert spec["encoding"]["y"]["title"] == "Revenue"
    assert "'$,.1~f') + 'M'" in spec["encoding"]["y"]["axis"]["labelExpr"]  # $1.2M
    revenue_tip = [t for t in spec["encoding"]["tooltip"] if t["field"] == "revenue"]
    assert revenue_tip[0]["format"] == "$,.2f"


def test_category_bars_keep_each_category_colour_under_a_filter() -> None:
    every = sales_charts.revenue_by_category(
        totals("category", ["Electronics", "Clothing", "Books"])
    ).to_dict()
    books_only = sales_charts.revenue_by_category(totals("category", ["Books"])).to_dict()

    assert every["mark"]["type"] == "bar"
    assert every["encoding"]["y"]["field"] == "category"
    assert every["encoding"]["y"]["type"] == "nominal"
    assert every["encoding"]["y"]["sort"] == ["Electronics", "Clothing", "Books"]  # by revenue
    assert every["encoding"]["x"]["field"] == "revenue"
    assert every["encoding"]["x"]["title"] == "Revenue"

    def colour(spec: dict, value: str) -> str:
        scale = spec["encoding"]["color"]["scale"]
        return scale["range"][scale["domain"].index(value)]

    assert colour(every, "Books") == colour(books_only, "Books") == "#9C755F"
    assert colour(every, "Electronics") != colour(every, "Clothing")


def test_department_bars_and_top_reps_share_department_colours() -> None:
    departments = sales_charts.revenue_by_department(
        totals("department", ["South", "North", "Unknown rep"])
    ).to_dict()
    reps = totals("rep_name", ["Dot Plot", "Chip Cache", "Unknown rep"])
    reps["department"] = ["South", "North", "Unknown rep"]
    top = sales_charts.top_reps(reps).to_dict()

    assert departments["encoding"]["color"]["scale"] == top["encoding"]["color"]["scale"]
    scale = top["encoding"]["color"]["scale"]
    assert scale["range"][scale["domain"].index("Unknown rep")] == sales_charts.MISSING_COLOUR


def test_top_rankings_are_horizontal_bars_largest_first() -> None:
    customers = totals("customer_name", ["Acme Corp", "Epsilon Inc", "Gamma LLC"])
    reps = totals("rep_name", ["Dot Plot", "Chip Cache", "Tony Bologna"])
    reps["department"] = ["South", "North", "South"]

    for spec, field in (
        (sales_charts.top_customers(customers).to_dict(), "customer_name"),
        (sales_charts.top_reps(reps).to_dict(), "rep_name"),
    ):
        assert spec["mark"]["type"] == "bar"
        assert spec["encoding"]["y"]["field"] == field
        assert spec["encoding"]["y"]["type"] == "nominal"
        assert spec["encoding"]["x"]["field"] == "revenue"
        assert spec["encoding"]["x"]["title"] == "Revenue"
    customer_spec = sales_charts.top_customers(customers).to_dict()
    assert customer_spec["encoding"]["y"]["sort"] == ["Acme Corp", "Epsilon Inc", "Gamma LLC"]
    assert customer_spec["title"] == "Top customers by revenue"


def test_unknown_names_get_a_stable_spare_colour() -> None:
    first = sales_charts.revenue_by_category(totals("category", ["Toys", "Books"])).to_dict()
    second = sales_charts.revenue_by_category(totals("category", ["Toys"])).to_dict()

    def colour(spec: dict) -> str:
        scale = spec["encoding"]["color"]["scale"]
        return scale["range"][scale["domain"].index("Toys")]

    assert colour(first) == colour(second) in sales_charts.EXTRA_COLOURS


def test_one_bar_left_by_a_filter_keeps_a_bar_height() -> None:
    spec = sales_charts.revenue_by_category(totals("category", ["Books"])).to_dict()

    assert spec["height"] == {"step": sales_charts.BAR_STEP}  # not one block filling the chart


def test_empty_figures_still_build_a_chart() -> None:
    empty = totals("category", [])
    assert sales_charts.revenue_by_category(empty).to_dict()["encoding"]["y"]["sort"] == []


def test_category_department_and_revenue_colours_never_overlap() -> None:
    category = set(sales_charts.CATEGORY_COLOURS.values())
    department = set(sales_charts.DEPARTMENT_COLOURS.values())

    assert not category & department
    assert sales_charts.REVENUE_COLOUR not in category | department
