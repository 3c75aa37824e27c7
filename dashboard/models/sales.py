"""The Sales page's figures, computed in DuckDB from the `joined_data` asset.

Every figure is one aggregate query with bound parameters, so the page never pulls the sales
table into pandas: only a few dozen result rows cross over. Money is DECIMAL in the warehouse and
DOUBLE here, which is what charts and st.metric expect. `data_version` changes whenever
`joined_data` is rematerialized, so the page can cache figures keyed on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dashboard.settings import Settings
from pipeline import store
from pipeline.builder import relation_kind
from pipeline.definitions import Definitions
from pipeline.errors import PipelineError
from pipeline.states import AssetHealth
from pipeline.status import AssetStatus, asset_statuses
from pipeline.warehouse import connect, one_row

ASSET = "joined_data"
TOP_N = 10
# Sales whose rep or product is missing (orphan keys) still count, under these labels.
UNKNOWN_REP = "Unknown rep"
UNKNOWN_PRODUCT = "Unknown product"
UNKNOWN_CUSTOMER = "Unknown customer"


class SalesDataMissingError(PipelineError):
    """`joined_data` does not exist in the warehouse yet: materialize it first."""


@dataclass(frozen=True)
class DataVersion:
    """The build of `joined_data` on disk: a cache key, and 'data as of' for the page."""

    run_id: int | None  # None: the table exists but no run recorded building it
    ended_at: datetime | None  # naive UTC, as the store keeps it


@dataclass(frozen=True)
class SalesFilters:
    """What the user narrowed the sales to; an empty tuple means every value."""

    start: date | None = None
    end: date | None = None
    categories: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilterOptions:
    """The values the filter widgets offer, taken from the data itself."""

    min_date: date | None
    max_date: date | None
    categories: tuple[str, ...]
    departments: tuple[str, ...]


@dataclass(frozen=True)
class SalesKpis:
    revenue: float
    orders: int
    units: int
    average_order_value: float | None  # None when no order matches the filters


@dataclass
class SalesFigures:
    """Everything the Sales page shows for one set of filters."""

    kpis: SalesKpis
    # Each frame has revenue (float), orders and units beside its key columns.
    by_month: pd.DataFrame  # month (datetime64), oldest first
    by_category: pd.DataFrame  # category, largest revenue first
    by_department: pd.DataFrame  # department, largest revenue first
    top_reps: pd.DataFrame  # rep_name, department: the TOP_N largest
    top_customers: pd.DataFrame  # customer_name: the TOP_N largest
    filters: SalesFilters = field(default_factory=SalesFilters)


def data_version(db: str | Path) -> DataVersion | None:
    """Which build of `joined_data` the figures come from; None while it does not exist.

    Read from the history's catalog, never from the warehouse: it answers at once even while a
    run holds the DuckDB file, and it changes whenever the dashboard or the CLI rebuilds the
    asset, so the page caches figures keyed on it.
    """
    if not Path(db).exists():
        return None
    with store.open_store(db) as con:
        entry = store.catalog(con).get(ASSET)
    if entry is None:
        return None
    return DataVersion(entry.run_id, entry.committed_at)


def filter_options(db: str | Path) -> FilterOptions:
    """Date bounds, categories and departments present in `joined_data`, sorted; the unknown
    product or rep last when some sales have none, as the charts show that bucket too."""
    sql = f"""
        SELECT min(date), max(date),
            list(DISTINCT category ORDER BY category) FILTER (WHERE category IS NOT NULL),
            bool_or(category IS NULL),
            list(DISTINCT department ORDER BY department) FILTER (WHERE department IS NOT NULL),
            bool_or(department IS NULL)
        FROM {ASSET}
    """
    with _reader(db) as con:
        min_date, max_date, categories, no_product, departments, no_rep = one_row(con, sql)
    return FilterOptions(
        min_date,
        max_date,
        _with_unknown(categories, UNKNOWN_PRODUCT if no_product else None),
        _with_unknown(departments, UNKNOWN_REP if no_rep else None),
    )


def _with_unknown(values: list[str] | None, unknown: str | None) -> tuple[str, ...]:
    """The values, then the label of the sales without one (when there are such sales)."""
    known = tuple(values or ())
    return known if unknown is None or unknown in known else (*known, unknown)


def sales_figures(db: str | Path, filters: SalesFilters | None = None) -> SalesFigures:
    """Every Sales figure for `filters`, one aggregate query each, on one short connection."""
    filters = filters or SalesFilters()
    where, params = _where(filters)
    with _reader(db) as con:

        def query(select: str, tail: str = "", extra: tuple[Any, ...] = ()) -> pd.DataFrame:
            sql = f"SELECT {select} FROM {ASSET} {where} {tail}"
            return con.execute(sql, [*params, *extra]).df()

        kpis = query(_TOTALS).iloc[0]
        # Days first, then months: grouping 10 M rows on the plain date is about four times
        # faster than on date_trunc(date), and the second step sees only a few hundred days.
        by_month = con.execute(
            "SELECT date_trunc('month', day)::DATE AS month, sum(revenue)::DOUBLE AS revenue,"
            " sum(orders)::BIGINT AS orders, sum(units)::BIGINT AS units FROM ("
            " SELECT date AS day, sum(dollar_amount) AS revenue, count(*) AS orders,"
            f" coalesce(sum(quantity), 0) AS units FROM {ASSET} {where} GROUP BY date"
            ") GROUP BY ALL ORDER BY month",
            params,
        ).df()
        by_category = query(f"category, {_TOTALS}", "GROUP BY ALL ORDER BY revenue DESC, 1")
        by_department = query(f"department, {_TOTALS}", "GROUP BY ALL ORDER BY revenue DESC, 1")
        top = "GROUP BY ALL ORDER BY revenue DESC, 1 LIMIT ?"
        top_reps = query(f"rep_name, department, {_TOTALS}", top, (TOP_N,))
        top_customers = query(f"customer_name, {_TOTALS}", top, (TOP_N,))
    orders = int(kpis["orders"])
    revenue = float(kpis["revenue"])
    by_month["month"] = pd.to_datetime(by_month["month"])
    return SalesFigures(
        kpis=SalesKpis(
            revenue=revenue,
            orders=orders,
            units=int(kpis["units"]),
            average_order_value=revenue / orders if orders else None,
        ),
        by_month=_every_month(by_month),
        by_category=_label_missing(by_category, category=UNKNOWN_PRODUCT),
        by_department=_label_missing(by_department, department=UNKNOWN_REP),
        top_reps=_label_missing(top_reps, rep_name=UNKNOWN_REP, department=UNKNOWN_REP),
        top_customers=_label_missing(top_customers, customer_name=UNKNOWN_CUSTOMER),
        filters=filters,
    )


def _every_month(by_month: pd.DataFrame) -> pd.DataFrame:
    """Months between the first and the last with no sale, as zeros: a line chart joins the
    points it has, so a missing May would read as sales falling from April to June."""
    if by_month.empty:
        return by_month
    months = pd.date_range(by_month["month"].min(), by_month["month"].max(), freq="MS")
    filled = by_month.set_index("month").reindex(months, fill_value=0)
    return filled.rename_axis("month").reset_index()


def format_dollars(value: float | None, cents: bool = False) -> str:
    """Money for a KPI, one rule for every filter: '$967,260', '$6,557.53' with cents, and from
    a million on '$1.97M' / '$65.31B' (a metric box is narrow; its help gives every digit)."""
    if value is None:
        return "—"
    if abs(value) >= 1e9:
        return f"${value / 1e9:,.2f}B"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f}M"
    return f"${value:,.2f}" if cents else f"${value:,.0f}"


def data_health(cfg: Settings, defs: Definitions) -> AssetStatus | None:
    """The health of the table behind the charts when it is anything but fresh, else None:
    the page says so above the figures (stale, blocked, failing checks)."""
    if ASSET not in defs.assets:
        return None
    with store.open_store(cfg.db) as con:
        state = asset_statuses(defs, con)[ASSET]
    return None if state.health in (AssetHealth.FRESH, AssetHealth.NEVER) else state


# Revenue and units are 0, not NULL, when no sale matches; DECIMAL becomes DOUBLE for charts.
_TOTALS = (
    "coalesce(sum(dollar_amount), 0)::DOUBLE AS revenue, count(*) AS orders,"
    " coalesce(sum(quantity), 0)::BIGINT AS units"
)


def _label_missing(frame: pd.DataFrame, **labels: str) -> pd.DataFrame:
    """Name the group of sales whose rep or product is missing, rather than showing a blank."""
    return frame.fillna(labels)


def _where(filters: SalesFilters) -> tuple[str, list[Any]]:
    """The WHERE clause for `filters`: its shape depends on which filters are set, every value
    is a bound parameter. Unset filters add no condition, so DuckDB can scan without them."""
    conditions: list[str] = []
    params: list[Any] = []
    if filters.start is not None:
        conditions.append("date >= ?")
        params.append(filters.start)
    if filters.end is not None:
        conditions.append("date <= ?")
        params.append(filters.end)
    for column, chosen, unknown in (
        ("category", filters.categories, UNKNOWN_PRODUCT),
        ("department", filters.departments, UNKNOWN_REP),
    ):
        if chosen:
            # the unknown bucket stands for NULL: sales whose product or rep is missing
            missing = f" OR {column} IS NULL" if unknown in chosen else ""
            conditions.append(f"(list_contains(?::VARCHAR[], {column}){missing})")
            params.append(list(chosen))
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), params


@contextmanager
def _reader(db: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection, or SalesDataMissingError when `joined_data` is absent.

    Read-write like the runs' own connections: in this process it shares their database and
    reads beside a run started here; a run in another process holds the file, and that is a
    WarehouseLockedError at once (no wait), which the page explains.
    """
    with connect(db, 0) as con:
        if not _asset_exists(con):
            raise SalesDataMissingError(
                f"'{ASSET}' has not been materialized in {db} yet: materialize it (the button"
                " on this page, or `python -m pipeline materialize`) to see the sales figures."
            )
        yield con


def _asset_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return relation_kind(con, ASSET) is not None
