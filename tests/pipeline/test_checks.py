"""Built-in checks: each factory passes on good data and fails on bad data, run by the engine."""

import duckdb
import pytest

from pipeline import Definitions, asset, checks, materialize
from pipeline.datagen import generate
from pipeline.errors import DefinitionError
from pipeline.examples.sales import build_definitions


def _run(db, tables, check_defs, **options):
    """Materialize tables given as {name: SELECT} (later ones depend on earlier ones)."""
    names = list(tables)
    assets = [
        asset(lambda con, sql=sql: sql, name=name, deps=names[:i])
        for i, (name, sql) in enumerate(tables.items())
    ]
    result = materialize(Definitions(assets, check_defs, **options), db=db)
    return result, {record.key: record for record in result.checks}


PEOPLE = (
    "SELECT * FROM (VALUES (1, 'ann', 'a'), (2, 'bob', 'b'), (3, 'cy', NULL)) t(id, name, team)"
)


def test_not_null_counts_rows_with_any_null_and_per_column(db_path):
    _, records = _run(
        db_path,
        {"people": PEOPLE},
        [checks.not_null("people", "id"), checks.not_null("people", ["name", "team"])],
    )
    assert records["people.id_not_null"].outcome == "passed"
    failed = records["people.name_team_not_null"]
    assert failed.outcome == "failed" and failed.severity == "error"
    assert failed.observed_value == 1 == failed.failing_count
    assert failed.failing_sample == [{"id": 3, "name": "cy", "team": None}]
    assert failed.metadata["nulls_per_column"] == {"name": 0, "team": 1}
    assert failed.metadata["total_rows"] == 3
    assert failed.description == "name, team are never NULL."


def test_unique_finds_repeated_keys_and_ignores_null_keys(db_path):
    sql = "SELECT * FROM (VALUES (1), (2), (2), (2), (NULL), (NULL)) t(id)"
    _, records = _run(db_path, {"keys": sql}, [checks.unique("keys", "id")])
    record = records["keys.id_unique"]
    assert record.outcome == "failed"
    assert record.observed_value == 1  # one key value repeated
    assert record.failing_sample == [{"id": 2, "occurrences": 3}]

    _, records = _run(
        db_path, {"keys": "SELECT * FROM range(5) t(id)"}, [checks.unique("keys", "id")]
    )
    assert records["keys.id_unique"].outcome == "passed"


def test_unique_on_a_composite_key(db_path):
    sql = (
        "SELECT * FROM (VALUES (1, 'x'), (1, 'y'), (2, 'x'), (1, 'x'), (3, NULL), (3, NULL))"
        " t(store, sku)"
    )
    _, records = _run(db_path, {"stock": sql}, [checks.unique("stock", ["store", "sku"])])
    record = records["stock.store_sku_unique"]
    assert record.outcome == "failed" and record.failing_count == 1
    assert record.failing_sample == [{"store": 1, "sku": "x", "occurrences": 2}]
    assert record.description == "Each (store, sku) occurs at most once (NULL keys ignored)."

    _, records = _run(
        db_path,
        {"stock": sql.replace("(1, 'x'), (3", "(1, 'z'), (3")},
        [checks.unique("stock", ["store", "sku"])],
    )
    assert records["stock.store_sku_unique"].outcome == "passed"


def test_accepted_values_lists_the_rows_with_other_values(db_path):
    sql = "SELECT * FROM (VALUES ('Books'), ('Toys'), (NULL), ('Books')) t(category)"
    _, records = _run(
        db_path,
        {"products": sql},
        [
            checks.accepted_values("products", "category", ["Books", "Toys"], name="ok"),
            checks.accepted_values("products", "category", ["Books"]),
        ],
    )
    assert records["products.ok"].outcome == "passed"
    record = records["products.category_accepted_values"]
    assert record.outcome == "failed" and record.failing_count == 1
    assert record.failing_sample == [{"category": "Toys"}]
    assert "$accepted_values" in record.sql and "Books" not in record.sql  # a bound value


def test_accepted_values_on_an_integer_column(db_path):
    sql = "SELECT * FROM range(1, 5) t(level)"
    _, records = _run(db_path, {"t": sql}, [checks.accepted_values("t", "level", [1, 2, 3])])
    assert records["t.level_accepted_values"].failing_sample == [{"level": 4}]


def test_relationships_finds_orphan_keys_and_ignores_null_keys(db_path):
    tables = {
        "reps": "SELECT * FROM (VALUES (1), (2)) t(rep_id)",
        "sales": "SELECT * FROM (VALUES (10, 1), (11, 2), (12, 7), (13, NULL)) t(sale_id, rep_id)",
    }
    _, records = _run(db_path, tables, [checks.relationships("sales", "rep_id", "reps", "rep_id")])
    record = records["sales.rep_id_references_reps"]
    assert record.outcome == "failed" and record.failing_count == 1
    assert record.failing_sample == [{"sale_id": 12, "rep_id": 7}]
    assert record.description == "Every rep_id matches a reps.rep_id (NULLs ignored)."

    tables["sales"] = "SELECT * FROM (VALUES (10, 1), (13, NULL)) t(sale_id, rep_id)"
    _, records = _run(db_path, tables, [checks.relationships("sales", "rep_id", "reps", "rep_id")])
    assert records["sales.rep_id_references_reps"].outcome == "passed"


def test_relationships_to_an_undefined_asset_is_refused_when_defined(db_path):
    check = checks.relationships("sales", "rep_id", "reps", "rep_id")
    with pytest.raises(DefinitionError, match="'sales.rep_id_references_reps' reads unknown"):
        _run(db_path, {"sales": "SELECT 1 AS rep_id"}, [check])


def test_expression_fails_rows_where_the_predicate_is_false_or_null(db_path):
    sql = "SELECT * FROM (VALUES (5), (0), (-2), (NULL)) t(amount)"
    _, records = _run(
        db_path,
        {"sales": sql},
        [
            checks.expression("sales", "amount >= 0"),
            checks.expression("sales", "amount IS NULL OR amount > -10", name="tolerant"),
        ],
    )
    record = records["sales.expression_amount_0"]
    assert record.outcome == "failed" and record.failing_count == 2
    assert record.failing_sample == [{"amount": -2}, {"amount": None}]
    assert record.description == "Every row satisfies: amount >= 0"
    assert records["sales.tolerant"].outcome == "passed"


def test_expression_with_broken_sql_is_an_error_with_duckdbs_message(db_path):
    _, records = _run(
        db_path, {"t": "SELECT 1 AS a"}, [checks.expression("t", "nope > 1", name="x")]
    )
    assert records["t.x"].outcome == "error"
    assert 'column "nope" not found' in records["t.x"].error


@pytest.mark.parametrize(
    ("bounds", "outcome", "threshold"),
    [
        ({"min": 1}, "passed", "row count >= 1"),
        ({"min": 4}, "failed", "row count >= 4"),
        ({"max": 2}, "failed", "row count <= 2"),
        ({"min": 3, "max": 3}, "passed", "row count between 3 and 3"),
    ],
)
def test_row_count_between_bounds(db_path, bounds, outcome, threshold):
    _, records = _run(
        db_path, {"t": "SELECT * FROM range(3) t(n)"}, [checks.row_count("t", **bounds)]
    )
    record = records["t.row_count"]
    assert (record.outcome, record.threshold, record.observed_value) == (outcome, threshold, 3)


def test_row_count_on_an_empty_table_fails(db_path):
    _, records = _run(db_path, {"t": "SELECT 1 AS n WHERE false"}, [checks.row_count("t", min=1)])
    assert records["t.row_count"].outcome == "failed"
    assert records["t.row_count"].observed_value == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: checks.row_count("t"), r"row_count needs min and/or max"),
        (lambda: checks.row_count("t", min=5, max=2), r"min=5, max=2"),
        (lambda: checks.row_count("t", min=-1), r"min=-1"),
        (lambda: checks.not_null("t", []), r"not_null on 't': columns=\[\] must be a column name"),
        (lambda: checks.unique("t", ["a", "a"]), r"list of distinct names"),
        (lambda: checks.accepted_values("t", "c", "abc"), r"must be a non-empty list"),
        (lambda: checks.accepted_values("t", "c", []), r"must be a non-empty list"),
        (lambda: checks.accepted_values("t", "c", ["a", None]), r"use not_null"),
        (lambda: checks.expression("t", "  "), r"predicate must be SQL text"),
        (lambda: checks.not_null(42, "c"), r"42 is not an asset"),
        (lambda: checks.not_null("t", "c", sample_size=-1), r"sample_size -1"),
        (lambda: checks.not_null("t", "c", severity="fatal"), r"severity 'fatal'"),
    ],
)
def test_bad_arguments_are_definition_errors_that_say_what_to_do(make, message):
    with pytest.raises(DefinitionError, match=message):
        make()


def test_hostile_identifiers_and_values_are_quoted_and_bound(db_path):
    table, column = 'odd "table"', 'it\'s "col"'
    value = "O'Brien\"); DROP TABLE victim; --"
    sql = (
        f"SELECT * FROM (VALUES ('{value.replace(chr(39), chr(39) * 2)}'), ('other'), (NULL))"
        f' t("{column.replace(chr(34), chr(34) * 2)}")'
    )
    check_defs = [
        checks.accepted_values(table, column, [value, "other"], name="both"),
        checks.accepted_values(table, column, [value], name="only_hostile"),
        checks.not_null(table, column),
        checks.unique(table, column),
        checks.expression(table, '"it\'s ""col""" <> \'x\'', name="expr"),
    ]
    _, records = _run(db_path, {"victim": "SELECT 1 AS n", table: sql}, check_defs)
    assert records[f"{table}.both"].outcome == "passed"
    assert records[f"{table}.only_hostile"].failing_sample == [{column: "other"}]
    assert records[f"{table}.{column}_not_null"].failing_count == 1
    assert records[f"{table}.{column}_unique"].outcome == "passed"
    assert records[f"{table}.expr"].failing_count == 1  # the NULL row
    with duckdb.connect(str(db_path)) as con:
        assert con.execute("SELECT count(*) FROM victim").fetchone()[0] == 1


def test_the_sales_example_uses_the_factories(tmp_path, db_path):
    defs = build_definitions(tmp_path)
    assert [check.key for check in defs.checks] == [
        "joined_data.column_schema",
        "joined_data.missing_dimension_check",
        "joined_data.row_count",
        "monthly_sales_performance.non_negative_totals",
        "product_performance.product_name_not_null",
        "product_performance.row_count",
        "products.category_accepted_values",
        "products.product_id_not_null",
        "products.product_id_unique",
        "sales_data.non_negative_amounts",
        "sales_data.positive_quantities",
        "sales_data.product_id_references_products",
        "sales_data.rep_id_references_sales_reps",
        "sales_reps.rep_id_not_null",
        "sales_reps.rep_id_unique",
    ]
    blocking = {check.key for check in defs.checks if check.blocking}
    assert blocking == {
        "products.product_id_not_null",
        "products.product_id_unique",
        "sales_reps.rep_id_not_null",
        "sales_reps.rep_id_unique",
    }
    warn = {check.key for check in defs.checks if check.severity == "warn"}
    assert warn == {
        "joined_data.column_schema",
        "monthly_sales_performance.non_negative_totals",
        "sales_data.non_negative_amounts",
    }


def test_sales_example_reports_orphan_keys_per_dimension(tmp_path, db_path):
    generate(600, tmp_path / "csv", orphan_rate=0.1)
    result = materialize(build_definitions(tmp_path / "csv"), db=db_path)
    records = {record.key: record for record in result.checks}
    with duckdb.connect(str(db_path)) as con:
        orphan_reps = con.execute(
            "SELECT count(*) FROM sales_data WHERE rep_id NOT IN (SELECT rep_id FROM sales_reps)"
        ).fetchone()[0]
    assert orphan_reps > 0
    record = records["sales_data.rep_id_references_sales_reps"]
    assert record.outcome == "failed" and record.failing_count == orphan_reps
    assert records["products.category_accepted_values"].outcome == "passed"
    assert records["joined_data.row_count"].outcome == "passed"
    assert records["joined_data.column_schema"].outcome == "passed"  # first build
    assert result.exit_code == 1


def test_relationships_finds_exactly_the_rows_its_first_release_found(tmp_path) -> None:
    """The ANTI JOIN gives NOT EXISTS's rows: on clean keys, NULL keys on either side,
    orphans, and parent keys that repeat."""
    import duckdb

    from pipeline.warehouse import scalar

    first_release = (
        "SELECT * FROM orders AS child WHERE child.customer_id IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM customers AS parent WHERE parent.id = child.customer_id)"
    )
    check = checks.relationships("orders", "customer_id", "customers", "id")
    cases = {
        "clean": ([1, 2, 2, 3], [1, 2, 3]),
        "null child keys": ([1, None, 2, None], [1, 2]),
        "null parent keys": ([1, 2, 4], [1, None, 2]),
        "orphans": ([1, 5, 6, 6, None], [1, 2]),
        "repeated parents": ([1, 2, 7], [1, 1, 2, 2]),
    }
    for case, (children, parents) in cases.items():
        con = duckdb.connect(str(tmp_path / f"{case}.duckdb"))
        con.execute("CREATE TABLE orders (order_id INTEGER, customer_id INTEGER)")
        con.executemany("INSERT INTO orders VALUES (?, ?)", list(enumerate(children)))
        con.execute("CREATE TABLE customers (id INTEGER)")
        con.executemany("INSERT INTO customers VALUES (?)", [[p] for p in parents])
        result = check.fn(con)
        expected = con.execute(f"{first_release} ORDER BY ALL").fetchall()
        found = con.execute(f"{result.failing_rows_sql} ORDER BY ALL").fetchall()
        assert found == expected, case
        assert (
            result.observed_value
            == len(expected)
            == scalar(con, f"SELECT count(*) FROM ({first_release})")
        ), case
        assert result.passed == (not expected), case
        con.close()
