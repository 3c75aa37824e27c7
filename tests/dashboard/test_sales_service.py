"""The Sales figures against the tutorial's CSVs, with pandas on the raw files as the oracle."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.models import sales as sales_service
from dashboard.models.sales import SalesDataMissingError, SalesFilters
from pipeline.datagen import generate
from pipeline.engine import materialize
from pipeline.examples.sales import build_definitions

TOTAL_REVENUE = 1_967_260.48
HOSTILE = "x' OR '1'='1"


@pytest.fixture
def sales_db(db_path: Path, tutorial_dir: Path) -> Path:
    result = materialize(build_definitions(tutorial_dir), db=db_path)
    assert result.ok, result.run.message
    return db_path


@pytest.fixture
def raw_sales(tutorial_dir: Path) -> pd.DataFrame:
    """The joined sales computed with pandas from the CSVs, independent of the service's SQL."""
    sales = pd.read_csv(tutorial_dir / "sales_data.csv", parse_dates=["date"])
    reps = pd.read_csv(tutorial_dir / "sales_reps.csv")
    products = pd.read_csv(tutorial_dir / "products.csv")
    return sales.merge(reps, on="rep_id", how="left").merge(products, on="product_id", how="left")


def test_unfiltered_kpis_match_the_tutorial_totals(sales_db: Path) -> None:
    kpis = sales_service.sales_figures(sales_db).kpis

    assert kpis.orders == 300
    assert kpis.revenue == pytest.approx(TOTAL_REVENUE, abs=0.005)
    assert kpis.units == 5931
    assert kpis.average_order_value == pytest.approx(TOTAL_REVENUE / 300)


def test_every_breakdown_adds_up_to_the_total(sales_db: Path) -> None:
    figures = sales_service.sales_figures(sales_db)

    for frame in (figures.by_month, figures.by_category, figures.by_department):
        assert frame["revenue"].sum() == pytest.approx(TOTAL_REVENUE, abs=0.01)
        assert frame["orders"].sum() == 300
    assert list(figures.by_month["month"].dt.strftime("%Y-%m")) == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]
    assert figures.by_month["revenue"].dtype == "float64"  # DECIMAL cast for the charts


def test_breakdowns_match_pandas_on_the_raw_files(sales_db: Path, raw_sales: pd.DataFrame) -> None:
    figures = sales_service.sales_figures(sales_db)

    expected = raw_sales.groupby("category")["dollar_amount"].sum().round(2)
    got = figures.by_category.set_index("category")["revenue"].round(2)
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert list(figures.by_category["revenue"]) == sorted(
        figures.by_category["revenue"], reverse=True
    )

    reps = raw_sales.groupby("rep_name")["dollar_amount"].sum().nlargest(10)
    assert list(figures.top_reps["rep_name"]) == list(reps.index)
    customers = raw_sales.groupby("customer_name")["dollar_amount"].sum().nlargest(10)
    assert list(figures.top_customers["customer_name"]) == list(customers.index)
    assert figures.top_customers["revenue"].iloc[0] == pytest.approx(customers.iloc[0])


def test_filters_narrow_every_figure(sales_db: Path, raw_sales: pd.DataFrame) -> None:
    filters = SalesFilters(
        start=date(2024, 2, 1),
        end=date(2024, 3, 31),
        categories=("Electronics", "Books"),
        departments=("North",),
    )
    figures = sales_service.sales_figures(sales_db, filters)

    rows = raw_sales[
        raw_sales["date"].between("2024-02-01", "2024-03-31")
        & raw_sales["category"].isin(["Electronics", "Books"])
        & (raw_sales["department"] == "North")
    ]
    assert 0 < len(rows) < 300
    assert figures.kpis.orders == len(rows)
    assert figures.kpis.revenue == pytest.approx(rows["dollar_amount"].sum(), abs=0.005)
    assert figures.kpis.units == rows["quantity"].sum()
    assert set(figures.by_category["category"]) <= {"Electronics", "Books"}
    assert list(figures.by_department["department"]) == ["North"]
    assert set(figures.top_reps["department"]) == {"North"}
    assert list(figures.by_month["month"].dt.month) == [2, 3]


def test_date_range_bounds_are_inclusive(sales_db: Path, raw_sales: pd.DataFrame) -> None:
    day = date(2024, 1, 2)
    figures = sales_service.sales_figures(sales_db, SalesFilters(start=day, end=day))

    assert figures.kpis.orders == int((raw_sales["date"] == "2024-01-02").sum()) > 0


@pytest.mark.parametrize(
    "filters",
    [
        SalesFilters(categories=(HOSTILE,)),
        SalesFilters(departments=(HOSTILE,)),
        SalesFilters(categories=("Electronics') OR TRUE OR list_contains(['",)),
    ],
)
def test_filter_values_are_bound_not_spliced_into_sql(
    sales_db: Path, filters: SalesFilters
) -> None:
    figures = sales_service.sales_figures(sales_db, filters)

    assert figures.kpis.orders == 0
    assert figures.kpis.revenue == 0
    assert figures.kpis.average_order_value is None  # no division by zero
    assert figures.by_month.empty and figures.top_customers.empty


def test_filter_options_come_from_the_data(sales_db: Path) -> None:
    options = sales_service.filter_options(sales_db)

    assert options.min_date == date(2024, 1, 1)
    assert options.max_date == date(2024, 4, 9)
    assert options.categories == ("Books", "Clothing", "Electronics", "Home and Garden")
    assert options.departments == ("East", "North", "South", "West")


def test_never_materialized_says_what_to_do(db_path: Path) -> None:
    assert sales_service.data_version(db_path) is None
    with pytest.raises(SalesDataMissingError, match="has not been materialized.*materialize it"):
        sales_service.sales_figures(db_path)
    with pytest.raises(SalesDataMissingError, match="joined_data"):
        sales_service.filter_options(db_path)


def test_data_version_changes_only_when_joined_data_is_rebuilt(
    sales_db: Path, tutorial_dir: Path
) -> None:
    first = sales_service.data_version(sales_db)
    assert first is not None
    assert sales_service.data_version(sales_db) == first

    materialize(build_definitions(tutorial_dir), select="products", db=sales_db)
    assert sales_service.data_version(sales_db) == first

    materialize(build_definitions(tutorial_dir), select="joined_data", db=sales_db)
    assert sales_service.data_version(sales_db) != first


def test_sales_with_missing_rep_or_product_are_counted_and_labelled(
    db_path: Path, tmp_path: Path
) -> None:
    generate(400, tmp_path / "csv", orphan_rate=0.2)
    materialize(build_definitions(tmp_path / "csv"), db=db_path)  # the check fails, data stays

    figures = sales_service.sales_figures(db_path)
    options = sales_service.filter_options(db_path)

    assert figures.kpis.orders == 400
    assert "Unknown product" in set(figures.by_category["category"])
    assert "Unknown rep" in set(figures.by_department["department"])
    assert figures.by_category["revenue"].sum() == pytest.approx(figures.kpis.revenue)
    assert None not in options.categories


def test_the_unknown_rep_and_product_can_be_picked_in_the_filters(
    db_path: Path, tmp_path: Path
) -> None:
    generate(400, tmp_path / "csv", orphan_rate=0.2)
    materialize(build_definitions(tmp_path / "csv"), db=db_path)
    options = sales_service.filter_options(db_path)
    assert options.departments[-1] == "Unknown rep" and options.categories[-1] == "Unknown product"

    figures = sales_service.sales_figures(db_path)
    unknown = figures.by_department.set_index("department").loc["Unknown rep"]
    only = sales_service.sales_figures(db_path, SalesFilters(departments=("Unknown rep",)))
    assert only.kpis.orders == unknown["orders"]
    assert list(only.by_department["department"]) == ["Unknown rep"]
    both = sales_service.sales_figures(db_path, SalesFilters(departments=("North", "Unknown rep")))
    assert set(both.by_department["department"]) == {"North", "Unknown rep"}
    products = sales_service.sales_figures(db_path, SalesFilters(categories=("Unknown product",)))
    assert list(products.by_category["category"]) == ["Unknown product"]


def test_a_month_without_sales_is_zero_not_bridged(
    db_path: Path, tmp_path: Path, tutorial_dir: Path
) -> None:
    data = tmp_path / "csv"
    data.mkdir()
    for name in ("sales_reps.csv", "products.csv"):
        (data / name).write_bytes((tutorial_dir / name).read_bytes())
    sales = pd.read_csv(tutorial_dir / "sales_data.csv")
    sales[~sales["date"].str.startswith("2024-02")].to_csv(data / "sales_data.csv", index=False)
    assert materialize(build_definitions(data), db=db_path).ok

    by_month = sales_service.sales_figures(db_path).by_month

    # February is on the chart at $0, so the line drops there instead of joining Jan to Mar
    assert list(by_month["month"].dt.strftime("%Y-%m")) == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]
    february = by_month.iloc[1]
    assert (february["revenue"], february["orders"], february["units"]) == (0, 0, 0)
    assert by_month["revenue"].dtype == "float64" and by_month["orders"].dtype == "int64"
