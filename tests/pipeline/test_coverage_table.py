"""README "Coverage, side by side": every row's Assetboard equivalent, exactly as the table writes
it, passes on a table that keeps the peer's rule and fails on one that breaks it.

The calls and the custom checks are read from the README itself, and every row must have a case
here, so the table and these tests cannot drift apart.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline import Definitions, asset, checks, materialize, run_checks
from pipeline.definitions import CheckDef, MultiCheckDef

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "### Coverage, side by side"


def _section() -> str:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start)
    return text[start:end]


def _rows() -> dict[str, str]:
    """{'Tool their test': the Assetboard cell} for each row of the table."""
    rows = {}
    for line in _section().splitlines():
        if not line.startswith("| ") or line.startswith(("| Tool ", "|---")):
            continue
        tool, test, equivalent, _differences = (
            cell.strip() for cell in line.strip("|").split(" | ")
        )
        key = f"{tool} {test.replace('`', '')}"
        assert key not in rows, f"the table has two rows {key!r}"
        rows[key] = equivalent
    return rows


def _custom_checks() -> dict[str, object]:
    """What the README's custom-check code block defines."""
    [code] = re.findall(r"```python\n(.*?)```", _section(), re.DOTALL)
    namespace: dict[str, object] = {}
    exec(code, namespace)
    return namespace


def _check(cell: str) -> CheckDef | MultiCheckDef:
    """The check a table cell names: a `checks.` call, or "custom check `name`"."""
    if call := re.fullmatch(r"`(checks\.[^`]+)`", cell):
        made = eval(call[1], {"checks": checks, "timedelta": timedelta})
    else:
        named = re.fullmatch(r"custom check `(\w+)`", cell)
        assert named, f"cell {cell!r} is neither a `checks.` call nor a custom check"
        made = _custom_checks()[named[1]]
    assert isinstance(made, CheckDef | MultiCheckDef), cell
    return made


# --- the tables the calls run on ------------------------------------------------------------

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _ago(hours: float) -> str:
    return f"TIMESTAMP '{NOW - timedelta(hours=hours)}'"


def _orders(*rows: tuple) -> str:
    """`orders` holding (id, customer_id, status, amount, email, hours ago) rows."""
    values = ", ".join(
        f"({_sql(i)}, {_sql(c)}, {_sql(s)}, {_sql(a)}::DECIMAL(10,2), {_sql(e)}, {_ago(h)})"
        for i, c, s, a, e, h in rows
    )
    if not rows:
        return _orders((1, 1, "placed", 10, "a@example.com", 1)) + " LIMIT 0"
    return f"SELECT * FROM (VALUES {values}) t(id, customer_id, status, amount, email, created_at)"


def _sql(value: object) -> str:
    if value is None:
        return "NULL"
    return f"'{value}'" if isinstance(value, str) else str(value)


ORDERS = [
    (1, 1, "placed", 10, "ann@example.com", 1),
    (2, 2, "shipped", 25.5, "bob@example.com", 2),
    (3, 2, "shipped", 40, "cy@example.com", 3),
    (4, 3, "returned", 60, "dee@example.com", 5),
]


def _with(index: int, **changes: object) -> str:
    """ORDERS with row `index` changed."""
    names = ("id", "customer_id", "status", "amount", "email", "hours")
    rows = list(ORDERS)
    rows[index] = tuple(changes.get(n, v) for n, v in zip(names, rows[index], strict=True))
    return _orders(*rows)


TABLES = {
    "orders": _orders(*ORDERS),
    "customers": "SELECT * FROM (VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy')) t(id, name)",
    "payments": (
        "SELECT order_id::INTEGER AS order_id, amount::DECIMAL(10,2) AS amount"
        " FROM (VALUES (1, 10), (2, 25.5), (3, 40), (4, 60)) t(order_id, amount)"
    ),
}


@dataclass(frozen=True)
class Case:
    """Tables replaced for the failing build; `history` builds of the default tables come first
    (the baseline of column_schema, the training values of anomaly checks); `then_sql` runs on
    the warehouse after the failing build, whose checks then run again without a rebuild."""

    bad: dict[str, str]
    good: dict[str, str] = field(default_factory=dict)
    history: int = 0
    then_sql: str | None = None


DUPLICATE_ID = _orders(*ORDERS, (1, 1, "placed", 10, "eve@example.com", 1))
NULL_EMAIL = _with(1, email=None)
BAD_STATUS = _with(1, status="lost")
ORPHAN = _with(3, customer_id=9)
NEGATIVE = _with(1, amount=-5)
STALE = _orders(*[(*row[:5], 50) for row in ORDERS])
SAME_KEY = _with(2, customer_id=2, hours=2)  # the same (customer_id, created_at) as row 1
FEWER_PAYMENTS = TABLES["payments"] + " WHERE order_id < 4"
PAYMENTS_RETYPED = "SELECT 1::INTEGER AS order_id, 1.5::DOUBLE AS amount"
PAYMENTS_REORDERED = "SELECT 1.5::DECIMAL(10,2) AS amount, 1::INTEGER AS order_id"
HUGE = _orders(*[(*row[:3], 900, *row[4:]) for row in ORDERS])

CASES = {
    "dbt unique": Case(bad={"orders": DUPLICATE_ID}),
    "dbt not_null": Case(bad={"orders": NULL_EMAIL}),
    "dbt accepted_values": Case(bad={"orders": BAD_STATUS}),
    "dbt relationships": Case(bad={"orders": ORPHAN}),
    "dbt-utils expression_is_true": Case(bad={"orders": NEGATIVE}),
    "dbt-utils expression_is_true with config: where": Case(
        good={"orders": _with(0, amount=-5)},  # a negative amount on a placed order: not checked
        bad={"orders": NEGATIVE},
    ),
    "dbt-utils recency": Case(bad={"orders": STALE}),
    "dbt-utils at_least_one": Case(
        bad={"orders": _orders(*[(*r[:4], None, r[5]) for r in ORDERS])}
    ),
    "dbt-utils not_constant": Case(
        bad={"orders": _orders(*[(*r[:2], "placed", *r[3:]) for r in ORDERS])}
    ),
    "dbt-utils unique_combination_of_columns": Case(bad={"orders": SAME_KEY}),
    "dbt-utils accepted_range": Case(
        good={"orders": _with(1, amount=None)}, bad={"orders": _with(1, amount=1500)}
    ),
    "dbt-utils equal_rowcount": Case(bad={"payments": FEWER_PAYMENTS}),
    "dbt-utils fewer_rows_than": Case(
        bad={"customers": "SELECT range AS id, 'x' AS name FROM range(1, 6)"}
    ),
    "dbt-utils not_null_proportion": Case(bad={"orders": NULL_EMAIL}),
    "dbt-utils sequential_values": Case(bad={"orders": _with(3, id=7)}),
    "dbt-utils cardinality_equality": Case(
        bad={"payments": TABLES["payments"] + " UNION ALL SELECT 1, 10"}
    ),
    "Soda row_count > 0": Case(bad={"orders": _orders()}),
    "Soda missing_count(email) = 0": Case(bad={"orders": NULL_EMAIL}),
    "Soda missing_percent(email) < 5%": Case(bad={"orders": NULL_EMAIL}),
    "Soda duplicate_count(id) = 0": Case(bad={"orders": DUPLICATE_ID}),
    "Soda invalid_count(email) = 0 with valid format: email": Case(
        good={"orders": NULL_EMAIL}, bad={"orders": _with(1, email="bob at example.com")}
    ),
    "Soda invalid_count(status) = 0 with valid regex": Case(
        bad={"orders": _with(1, status="Shipped!")}
    ),
    "Soda invalid_count(status) = 0 with valid values": Case(bad={"orders": BAD_STATUS}),
    "Soda freshness(created_at) < 1d": Case(bad={"orders": STALE}),
    "Soda schema with when required column missing / when wrong column type": Case(
        good={"payments": PAYMENTS_REORDERED}, bad={"payments": PAYMENTS_RETYPED}
    ),
    "Soda schema with when schema changes": Case(
        bad={"orders": TABLES["orders"].replace("SELECT *", "SELECT * EXCLUDE (email)")},
        history=1,
    ),
    "Soda avg(amount) between 10 and 100 (also min, max, sum, stddev)": Case(bad={"orders": HUGE}),
    "Soda percentile(amount, 0.95) < 500": Case(bad={"orders": HUGE}),
    "Soda values in (customer_id) must exist in customers (id)": Case(bad={"orders": ORPHAN}),
    "Soda anomaly detection for row_count": Case(bad={"orders": _orders()}, history=6),
    "Soda anomaly detection for avg(amount)": Case(bad={"orders": HUGE}, history=6),
    "Great Expectations expect_column_values_to_not_be_null": Case(bad={"orders": NULL_EMAIL}),
    "Great Expectations expect_column_values_to_be_unique": Case(bad={"orders": DUPLICATE_ID}),
    "Great Expectations expect_column_values_to_be_in_set": Case(bad={"orders": BAD_STATUS}),
    "Great Expectations expect_column_values_to_be_between": Case(
        good={"orders": _with(1, amount=None)}, bad={"orders": NEGATIVE}
    ),
    "Great Expectations expect_column_values_to_match_regex": Case(
        bad={"orders": _with(1, email="bob")}
    ),
    "Great Expectations expect_column_mean_to_be_between": Case(bad={"orders": HUGE}),
    "Great Expectations expect_table_row_count_to_be_between": Case(bad={"orders": _orders()}),
    "Great Expectations expect_table_columns_to_match_set": Case(
        bad={"payments": TABLES["payments"].replace(" AS amount", " AS amount, 1 AS extra")}
    ),
    "Great Expectations expect_table_columns_to_match_ordered_list": Case(
        bad={"payments": PAYMENTS_REORDERED}
    ),
    "Great Expectations expect_column_values_to_be_of_type": Case(
        bad={"payments": PAYMENTS_RETYPED}
    ),
    "Great Expectations expect_compound_columns_to_be_unique": Case(bad={"orders": SAME_KEY}),
    "Great Expectations expect_table_row_count_to_equal_other_table": Case(
        bad={"payments": FEWER_PAYMENTS}
    ),
    "Great Expectations expect_column_proportion_of_unique_values_to_be_between": Case(
        bad={"orders": _orders(*[(r[0], 1, *r[2:]) for r in ORDERS])}
    ),
    "Dagster build_column_schema_change_checks": Case(
        bad={"orders": TABLES["orders"].replace("SELECT *", "SELECT *, 1 AS extra")}, history=1
    ),
    "Dagster build_last_update_freshness_checks": Case(
        bad={},
        then_sql="UPDATE assetboard.builds SET committed_at = committed_at - INTERVAL 7 HOUR",
    ),
    "Dagster build_metadata_bounds_checks on dagster/row_count": Case(bad={"orders": _orders()}),
    "Dagster @asset_check": Case(bad={"orders": _with(3, id=7)}),
    "Dagster @multi_asset_check": Case(bad={"orders": NEGATIVE}),
}


def test_every_row_of_the_table_has_a_case_and_every_case_a_row():
    rows = set(_rows())
    assert not rows - CASES.keys(), "rows without a test case"
    assert not CASES.keys() - rows, "cases for rows the README does not have"
    assert len(rows) >= 45


def test_the_custom_checks_block_defines_every_custom_check_the_table_names():
    defined = _custom_checks()
    named = {m for cell in _rows().values() for m in re.findall(r"custom check `(\w+)`", cell)}
    assert named <= defined.keys()


def _run(db: Path, made: CheckDef | MultiCheckDef, case: Case, *, failing: bool) -> dict:
    """Build the case's history, then its passing or failing tables with the check: the
    check's records by name."""
    state = dict(TABLES)
    assets = [
        asset(lambda con, name=name: state[name], name=name, profile=False) for name in TABLES
    ]
    defs = Definitions(assets, [made])
    for _ in range(case.history):
        materialize(defs, db=db)
    state.update(case.bad if failing else case.good)
    result = materialize(defs, db=db)
    if failing and case.then_sql:
        with duckdb.connect(str(db)) as con:
            con.execute(case.then_sql)
        result = run_checks(defs, db=db)
    assert result.checks, result
    return {record.check_name: record for record in result.checks}


@pytest.mark.parametrize(("row", "cell"), list(_rows().items()), ids=list(_rows()))
def test_the_equivalent_passes_and_fails_as_the_peer_would(tmp_path, row, cell):
    made = _check(cell)
    case = CASES[row]
    severities = {
        check.name: check.severity
        for check in (made.checks if isinstance(made, MultiCheckDef) else [made])
    }
    good = _run(tmp_path / "good.duckdb", made, case, failing=False)
    assert {name: r.outcome for name, r in good.items()} == dict.fromkeys(severities, "passed"), {
        name: (r.observed_value, r.metadata, r.error) for name, r in good.items()
    }
    bad = _run(tmp_path / "bad.duckdb", made, case, failing=True)
    outcomes = {name: r.outcome for name, r in bad.items()}
    expected = {name: "warned" if s == "warn" else "failed" for name, s in severities.items()}
    assert set(outcomes.values()) != {"passed"}, outcomes
    assert {n: o for n, o in outcomes.items() if o != "passed"} == {
        n: expected[n] for n, o in outcomes.items() if o != "passed"
    }, {name: (r.observed_value, r.metadata, r.error) for name, r in bad.items()}


# --- the differences the table states, on Assetboard's side ---------------------------------


def _verdict(con: duckdb.DuckDBPyConnection, made: CheckDef, **tables: str) -> bool:
    for name, sql in tables.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
    return made(con).passed


def test_the_differences_the_table_states(db_path):
    con = duckdb.connect(str(db_path))
    null_amount = _with(1, amount=None)
    # expression_is_true: a NULL verdict fails here (it passes in dbt) unless written to allow it
    assert not _verdict(con, checks.expression("orders", "amount >= 0"), orders=null_amount)
    assert _verdict(con, checks.expression("orders", "amount IS NULL OR amount >= 0"))
    # fewer_rows_than: equal counts pass here (dbt fails them)
    same = {"customers": "SELECT * FROM range(4) t(id)", "orders": _orders(*ORDERS)}
    compare = checks.row_count_compare("customers", "orders", ratio_between=(0, 1))
    assert _verdict(con, compare, **same)
    # unique_combination_of_columns: rows with a NULL in the key are ignored here
    null_keys = _orders(*[(r[0], None, *r[2:5], 1) for r in ORDERS])
    assert _verdict(con, checks.unique("orders", ["customer_id", "created_at"]), orders=null_keys)
    # not_constant: an all-NULL column fails here (dbt passes it)
    no_status = _orders(*[(*r[:2], None, *r[3:]) for r in ORDERS])
    not_constant = checks.metric("orders", "count(DISTINCT status)", min=2)
    assert not _verdict(con, not_constant, orders=no_status)
    # match_regex: the whole value must match here; GX finds the pattern anywhere
    assert not _verdict(con, checks.regex("orders", "email", "example"), orders=_orders(*ORDERS))
    assert _verdict(con, checks.regex("orders", "email", ".*example.*"))
    # be_in_set with mostly: accepted_values takes shares of all rows, GX of the non-NULL ones
    half_null = _orders(
        (1, 1, None, 10, "a@example.com", 1),
        (2, 1, None, 10, "b@example.com", 1),
        (3, 1, "lost", 10, "c@example.com", 1),
        (4, 1, "placed", 10, "d@example.com", 1),
    )
    values = ["placed", "shipped", "returned"]
    of_all = checks.accepted_values("orders", "status", values, error_if=">30%")
    assert _verdict(con, of_all, orders=half_null)  # 1 of 4 rows
    of_non_null = checks.accepted_values(
        "orders", "status", values, error_if=">30%", where="status IS NOT NULL"
    )
    assert not _verdict(con, of_non_null)  # 1 of 2 non-NULL values, as GX counts
