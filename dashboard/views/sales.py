"""Sales: revenue, orders and the best reps and customers from `joined_data`, with filters.

Thin on purpose: read the filters, ask dashboard.sales_service for the figures (cached until
joined_data is rebuilt), render. Before joined_data exists, offer to materialize it.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import formatting, runs, sales_charts, settings, state, ui
from dashboard.models import reading, toolbar
from dashboard.models import sales as sales_service
from dashboard.models.sales import (
    DataVersion,
    FilterOptions,
    SalesDataMissingError,
    SalesFigures,
    SalesFilters,
    format_dollars,
)
from dashboard.safe import escape_markdown
from pipeline.errors import PipelineError, RunInProgressError, WarehouseLockedError
from pipeline.looks import look

SELECTION = f"+{sales_service.ASSET}"  # joined_data and everything it is built from


@st.cache_data(max_entries=64, show_spinner=False)
def cached_figures(db: str, version: DataVersion, filters: SalesFilters) -> SalesFigures:
    """Figures per build of joined_data and filters: `version` changes on every rebuild."""
    return sales_service.sales_figures(db, filters)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_options(db: str, version: DataVersion) -> FilterOptions:
    return sales_service.filter_options(db)


def offer_materialize(cfg: settings.Settings) -> None:
    """The empty state: say why there is nothing to show, and build it on one click."""
    ui.empty_state(
        f"**No sales data yet.** The `{sales_service.ASSET}` table has never been materialized."
        " Build it, with the tables it is made from, to see revenue, orders, and the top reps"
        " and customers."
    )
    live = runs.current(cfg.db)
    if st.button(
        f"Materialize {sales_service.ASSET}",
        key=state.BTN_SALES_MATERIALIZE,
        type="primary",
        icon=":material/play_arrow:",
        help="Loads products, sales reps and sales from their CSV files, joins them, and runs"
        " their checks. Takes seconds on the sample data.",
        disabled=live is not None and live.active,
    ):
        try:
            defs = reading.load_defs(cfg)
            runs.start(
                defs,
                cfg.db,
                SELECTION,
                label=f"Materialize {sales_service.ASSET}",
                planned=toolbar.planned_assets(defs, SELECTION),
            )
        except RunInProgressError as exc:
            st.warning(
                f"**A run is already in progress.** {escape_markdown(exc)}",
                icon=":material/hourglass_top:",
            )
        except PipelineError as exc:
            st.error(
                f"**Could not start the run.** {escape_markdown(exc)}", icon=":material/error:"
            )
    if live is not None and not live.active and live.ok is False:
        show_failure(live)
    ui.run_progress(cfg)  # live while it runs; the page shows the figures when it is done


def show_failure(live: runs.LiveRun) -> None:
    """Why the last build from this dashboard left no sales data: each failed asset's error."""
    failed = [name for name, status in live.snapshot().items() if status == "failed"]
    reasons = [  # asset names and error texts: escaped, they may quote the data
        f"- **{escape_markdown(name, one_line=True)}**:"
        f" {escape_markdown(live.asset_error.get(name, 'failed'), one_line=True)}"
        for name in failed
    ]
    if live.error:
        reasons.insert(0, f"- {escape_markdown(live.error, one_line=True)}")
    st.error(
        "**The last build failed, so there is no sales data yet.** Fix the cause, then click"
        " the button again.\n\n" + "\n".join(reasons or ["- see the Runs page for details"]),
        icon=":material/error:",
    )


def _follow_the_data(first: date, last: date) -> None:
    """A date filter left on the whole range widens with new data; a chosen range is kept."""
    span, offered = (first, last), st.session_state.get(state.SALES_DATE_SPAN)
    current = st.session_state.get(state.SALES_DATE_RANGE)
    if offered not in (None, span) and current is not None and tuple(current) == offered:
        st.session_state[state.SALES_DATE_RANGE] = span
    st.session_state[state.SALES_DATE_SPAN] = span


def read_filters(options: FilterOptions) -> SalesFilters:
    """The filter widgets, in one row above the figures."""
    # A row that wraps: at 800 px the date range would otherwise be cut to '2024 / 01 /'.
    row = st.container(horizontal=True, wrap=True)
    start = end = None
    if options.min_date is not None and options.max_date is not None:
        _follow_the_data(options.min_date, options.max_date)
        picked = row.date_input(
            "Dates",
            value=(options.min_date, options.max_date),
            min_value=options.min_date,
            max_value=options.max_date,
            key=state.SALES_DATE_RANGE,
            bind="query-params",
            help="Sales on the first and last day are included.",
            width=240,
        )
        chosen: tuple[date, ...] = (
            tuple(picked) if isinstance(picked, tuple | list) else (picked,) if picked else ()
        )
        start = chosen[0] if chosen else None
        end = chosen[1] if len(chosen) > 1 else None
    chosen_categories = row.multiselect(
        "Categories",
        options.categories,
        key=state.SALES_CATEGORIES,
        bind="query-params",
        placeholder="All categories",
        width=320,
    )
    chosen_departments = row.multiselect(
        "Departments",
        options.departments,
        key=state.SALES_DEPARTMENTS,
        bind="query-params",
        placeholder="All departments",
        width=320,
    )
    return SalesFilters(start, end, tuple(chosen_categories), tuple(chosen_departments))


def show_health(cfg: settings.Settings) -> None:
    """A banner when the table behind the charts is stale, blocked or failing checks."""
    try:
        health = sales_service.data_health(cfg, ui.definitions(cfg))
    except PipelineError:
        return  # broken definitions: the figures still stand on their own
    if health is None:
        return
    shown = look(health.health)
    st.warning(
        f"**The data behind these charts is {shown.label.lower()}:**"
        f" {escape_markdown(health.reason)}",
        icon=f":material/{shown.icon}:",
    )
    st.page_link(
        "views/graph.py",
        label=f"See {sales_service.ASSET} in the graph",
        icon=":material/account_tree:",
        query_params={state.QP_ASSET: sales_service.ASSET},
    )


def show_kpis(figures: SalesFigures) -> None:
    kpis = figures.kpis
    ui.metric_row(
        [
            ("Revenue", format_dollars(kpis.revenue)),
            ("Orders", kpis.orders),
            ("Average order value", format_dollars(kpis.average_order_value, cents=True)),
            ("Units sold", kpis.units),
        ],
        help=[f"${kpis.revenue:,.2f}"],
    )


def show_charts(figures: SalesFigures) -> None:
    st.altair_chart(sales_charts.revenue_by_month(figures.by_month), width="stretch")
    left, right = st.columns(2)
    left.altair_chart(sales_charts.revenue_by_category(figures.by_category), width="stretch")
    right.altair_chart(sales_charts.revenue_by_department(figures.by_department), width="stretch")
    left, right = st.columns(2)
    left.altair_chart(sales_charts.top_reps(figures.top_reps), width="stretch")
    right.altair_chart(sales_charts.top_customers(figures.top_customers), width="stretch")


def main() -> None:
    cfg = settings.current()
    db = str(cfg.db)
    st.title("Sales")
    with ui.guard("read the sales figures"):
        version = sales_service.data_version(db)
        if version is None:
            offer_materialize(cfg)
            return
        ui.run_progress(cfg)  # a rebuild under way anywhere: the page refreshes when it ends
        try:
            options = cached_options(db, version)
            filters = read_filters(options)
            figures = cached_figures(db, version, filters)
        except SalesDataMissingError:  # dropped since data_version looked: as if never built
            offer_materialize(cfg)
            return
        except WarehouseLockedError:  # another process builds: figures not cached yet wait
            st.info(
                "**The warehouse is busy:** another process is building it, so these figures"
                " cannot be read now. They show as soon as the run above ends; figures already"
                " seen show at once.",
                icon=":material/hourglass_top:",
            )
            return
    show_health(cfg)
    if version.ended_at is not None:
        st.caption(
            f"Data as of {formatting.format_time(version.ended_at)}"
            f" ({formatting.format_ago(version.ended_at)}), from the `{sales_service.ASSET}`"
            f" table built by run {version.run_id}."
        )
    if figures.kpis.orders == 0:
        st.info(
            "No sales match these filters: widen the date range or clear a category or department.",
            icon=":material/filter_alt_off:",
        )
        return
    show_kpis(figures)
    show_charts(figures)


main()
