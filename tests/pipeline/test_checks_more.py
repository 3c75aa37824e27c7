"""Issue 13's checks: `where=` filters, severity in any case, richer accepted_values and unique,
and the metric, regex, expected_schema and row_count_compare factories."""

import duckdb
import pytest

from pipeline import CheckResult, Definitions, asset, asset_check, checks, materialize
from pipeline.errors import DefinitionError


def _run(db, tables, check_defs, **options):
    """Materialize tables given as {name: SELECT} (later ones depend on earlier ones)."""
    names = list(tables)
    assets = [
        asset(lambda con, sql=sql: sql, name=name, deps=names[:i])
        for i, (name, sql) in enumerate(tables.items())
    ]
    result = materialize(Definitions(assets, check_defs, **options), db=db)
    return result, {record.check_name: record for record in result.checks}


def _table(db, sql, params=None):
    """A connection to a file holding table `t` made by `sql`, for calling a check's fn."""
    con = duckdb.connect(str(db))
    con.execute(f"CREATE OR REPLACE TABLE t AS {sql}", params)
    return con


# One row of each check's data is bad, and it is the row `region = 'test'`: excluded by where.
ROWS = (
    "SELECT * FROM (VALUES (1, 'eu', 'a', 10), (2, 'us', 'b', 20), (3, 'test', NULL, -5),"
    " (3, 'test', 'zz', 9999)) t(id, region, grade, amount)"
)
WHERE = "region <> 'test'"


@pytest.mark.parametrize(
    "make",
    [
        lambda where: checks.not_null("t", "grade", where=where),
        lambda where: checks.unique("t", "id", where=where),
        lambda where: checks.accepted_values("t", "grade", ["a", "b"], where=where),
        lambda where: checks.relationships("t", "id", "parents", "id", where=where),
        lambda where: checks.expression("t", "amount >= 0", where=where),
        lambda where: checks.regex("t", "grade", "[a-z]", where=where),
        lambda where: checks.row_count("t", max=2, where=where),
        lambda where: checks.metric("t", "max(amount)", max=100, where=where),
    ],
    ids=[
        "not_null",
        "unique",
        "accepted_values",
        "relationships",
        "expression",
        "regex",
        "row_count",
        "metric",
    ],
)
def test_where_leaves_out_the_rows_it_excludes(db_path, make):
    tables = {"parents": "SELECT * FROM range(1, 3) t(id)", "t": ROWS}
    _, records = _run(db_path, tables, [make(None)])
    [unfiltered] = records.values()
    assert unfiltered.outcome == "failed"
    _, records = _run(db_path, tables, [make(WHERE)])
    [filtered] = records.values()
    assert filtered.outcome == "passed", filtered
    assert f"Only rows where {WHERE}." in filtered.description


def test_where_makes_shares_of_the_matching_rows(db_path):
    check = checks.not_null("t", "grade", error_if=">40%", where="id >= 2")
    _, records = _run(db_path, {"t": ROWS}, [check])
    record = records["grade_not_null"]
    assert record.metadata["total_rows"] == 3  # the rows matching where
    assert record.metadata["failing_pct"] == pytest.approx(33.3333)
    assert record.outcome == "passed"
    assert record.failing_sample == []  # passed: no sample


def test_where_ending_in_a_comment_still_filters(db_path):
    check = checks.not_null("t", "grade", where="region <> 'test' -- the test rows")
    _, records = _run(db_path, {"t": ROWS}, [check])
    assert records["grade_not_null"].outcome == "passed"


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("", r"where='' must be a SQL condition"),
        (42, r"where=42 must be a SQL condition"),
        ("region = 'x'; DROP TABLE t", r"contains ';'"),
        ("region = ", r"where is not valid SQL here"),
        ("x) GROUP BY (y", r"is not a single SQL condition"),
        ("x) UNION SELECT * FROM (SELECT 1", r"is not a single SQL condition"),
    ],
)
def test_a_bad_where_is_refused_when_defined(where, message):
    with pytest.raises(DefinitionError, match=message):
        checks.not_null("t", "c", where=where)


@pytest.mark.parametrize("severity", ["WARN", "Warn", "warn"])
def test_severity_is_accepted_in_any_case(db_path, severity):
    @asset_check(asset="t", severity=severity)
    def custom(con):
        return CheckResult(passed=False)

    made = [
        custom,
        checks.not_null("t", "grade", severity=severity, name="nn"),
        checks.row_count("t", min=10, severity=severity),
        checks.column_schema("t", severity=severity),
        checks.metric("t", "avg(amount)", min=0, severity=severity),
    ]
    assert {check.severity for check in made} == {"warn"}
    _, records = _run(db_path, {"t": ROWS}, made[:3])
    assert {r.outcome for r in records.values()} == {"warned"}
    assert checks.unique("t", "id", severity="ERROR").severity == "error"


def test_a_severity_returned_by_a_check_is_read_in_any_case(db_path):
    @asset_check(asset="t")
    def loud(con):
        return CheckResult(passed=False, severity="WARN")

    _, records = _run(db_path, {"t": ROWS}, [loud])
    (record,) = records.values()
    assert (record.outcome, record.severity) == ("warned", "warn")


@pytest.mark.parametrize(
    "make",
    [
        lambda: asset_check(lambda con: None, asset="t", name="x", severity="fatal"),
        lambda: checks.not_null("t", "c", severity="Fatal"),
        lambda: checks.row_count("t", min=1, severity=None),
    ],
)
def test_an_unknown_severity_is_still_refused(make):
    with pytest.raises(DefinitionError, match="use error or warn"):
        make()


def test_accepted_values_lists_distinct_failing_values_capped(db_path):
    sql = "SELECT CASE WHEN n < 3 THEN 'ok' ELSE 'v' || (n % 25) END AS c FROM range(60) t(n)"
    _, records = _run(db_path, {"t": sql}, [checks.accepted_values("t", "c", ["ok"])])
    record = records["c_accepted_values"]
    assert record.metadata["failing_values_count"] == 25
    assert len(record.metadata["failing_values"]) == 20
    assert record.metadata["failing_values"][:3] == ["v0", "v1", "v10"]  # sorted as text

    private = checks.accepted_values("t", "c", ["ok"], sample_size=0)
    _, records = _run(db_path, {"t": sql}, [private])
    assert "failing_values" not in records["c_accepted_values"].metadata
    assert records["c_accepted_values"].metadata["failing_values_count"] == 25


def test_accepted_values_given_as_text_on_an_integer_column(db_path):
    sql = "SELECT * FROM (VALUES (1), (2), (3), (NULL)) t(level)"
    _, records = _run(
        db_path,
        {"t": sql},
        [
            checks.accepted_values("t", "level", ["1", "2"]),
            checks.accepted_values("t", "level", ["1", "2", "3"], name="all"),
        ],
    )
    record = records["level_accepted_values"]
    assert record.outcome == "failed"
    assert record.failing_sample == [{"level": 3}]
    assert record.metadata["failing_values"] == [3]
    assert records["all"].outcome == "passed"


def test_unique_reports_duplicate_keys_and_rows(db_path):
    sql = "SELECT * FROM (VALUES (1), (2), (2), (2), (3), (3), (4), (NULL), (NULL)) t(id)"
    _, records = _run(db_path, {"t": sql}, [checks.unique("t", "id")])
    record = records["id_unique"]
    assert record.observed_value == 2
    assert (record.metadata["duplicate_keys"], record.metadata["duplicate_rows"]) == (2, 5)
    _, records = _run(db_path, {"t": "SELECT 1 AS id"}, [checks.unique("t", "id")])
    assert records["id_unique"].metadata["duplicate_rows"] == 0


# metric ----------------------------------------------------------------------------------------

AMOUNTS = "SELECT n AS x, n % 5 AS g FROM range(1, 11) t(n)"  # x = 1..10, g has 5 values


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("avg(x)", 5.5),
        ("mean(x)", 5.5),
        ("median(x)", 5.5),
        ("stddev(x)", 3.0276503540974917),
        ("sum(x)", 55),
        ("min(x)", 1),
        ("max(x)", 10),
        ("quantile_cont(x, 0.9)", 9.1),  # the 90th percentile
        ("count(DISTINCT g) / count(*)", 0.5),  # share of distinct values
    ],
)
def test_metric_on_the_usual_aggregates(db_path, expression, value):
    made = [
        checks.metric("t", expression, between=(value, value), name="exact"),  # inclusive
        checks.metric("t", expression, min=value + 0.01, name="too_low"),
        checks.metric("t", expression, max=value - 0.01, name="too_high"),
    ]
    _, records = _run(db_path, {"t": AMOUNTS}, made)
    assert records["exact"].outcome == "passed"
    assert records["exact"].observed_value == pytest.approx(value)
    assert records["exact"].threshold == f"{expression} between {value} and {value}"
    assert records["too_low"].outcome == "failed"
    assert records["too_low"].threshold == f"{expression} >= {value + 0.01}"
    assert records["too_high"].outcome == "failed"
    assert records["too_high"].threshold == f"{expression} <= {value - 0.01}"


def test_metric_is_recorded_by_a_run_and_kept_in_the_history(db_path):
    from pipeline import store

    check = checks.metric("sales", "avg(dollar_amount)", between=(10, 5000))
    assert check.name == "metric_avg_dollar_amount"
    sql = "SELECT * FROM (VALUES (5.0), (20.0), (65.0)) t(dollar_amount)"
    result, records = _run(db_path, {"sales": sql}, [check])
    record = records["metric_avg_dollar_amount"]
    assert (record.outcome, record.observed_value) == ("passed", 30.0)
    assert record.description == "avg(dollar_amount) between 10 and 5000."
    with store.open_store(db_path) as con:
        [stored] = store.run_check_results(con, result.run_id)
    assert (stored.check_name, stored.outcome, stored.observed_value, stored.threshold) == (
        "metric_avg_dollar_amount",
        "passed",
        30.0,
        "avg(dollar_amount) between 10 and 5000",
    )


def test_metric_on_no_rows_fails_and_a_non_number_is_an_error(db_path):
    made = [
        checks.metric("t", "avg(x)", min=0, name="empty", where="x > 100"),
        checks.metric("t", "max(CAST(x AS VARCHAR))", min=0, name="text"),
    ]
    _, records = _run(db_path, {"t": AMOUNTS}, made)
    assert records["empty"].outcome == "failed" and records["empty"].observed_value is None
    assert "no rows matching where" in records["empty"].metadata["reason"]
    assert records["text"].outcome == "error"
    assert "a metric must be a number" in records["text"].error


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: checks.metric("t", "avg(x); DROP TABLE t", min=0), r"contains ';'"),
        (lambda: checks.metric("t", "(SELECT max(x) FROM other)", min=0), r"contains a SELECT"),
        (lambda: checks.metric("t", "avg((SELECT 1))", min=0), r"contains a SELECT"),
        (lambda: checks.metric("t", "x + 1", min=0), r"column x is outside an aggregate"),
        (lambda: checks.metric("t", "avg(x) + x", min=0), r"column x is outside an aggregate"),
        (lambda: checks.metric("t", "42", min=0), r"has no aggregate function"),
        (lambda: checks.metric("t", "avg(x), sum(x)", min=0), r"must be one expression"),
        (lambda: checks.metric("t", "avg(x) FROM other", min=0), r"not valid SQL|one expression"),
        (lambda: checks.metric("t", "sum(x) OVER ()", min=0), r"window function"),
        (lambda: checks.metric("t", " ", min=0), r"must be an aggregate SQL expression"),
        (lambda: checks.metric("t", "avg(x)"), r"give between=\(low, high\), or min="),
        (lambda: checks.metric("t", "avg(x)", between=(1, 2), min=0), r"not both"),
        (lambda: checks.metric("t", "avg(x)", between=(5, 1)), r"low bound 5 is above"),
        (lambda: checks.metric("t", "avg(x)", between=(1,)), r"must be a pair"),
        (lambda: checks.metric("t", "avg(x)", min="3"), r"finite numbers; got '3'"),
        (lambda: checks.metric("t", "avg(x)", max=True), r"finite numbers; got True"),
    ],
)
def test_metric_refuses_what_is_not_one_aggregate_or_a_band(make, message):
    with pytest.raises(DefinitionError, match=message):
        make()


# regex -----------------------------------------------------------------------------------------

EMAILS = (
    "SELECT * FROM (VALUES ('ann@example.com'), ('bob@mail.example.org'), ('not an email'),"
    " (NULL), ('cy@localhost')) t(email)"
)


def test_regex_with_a_pattern_fails_non_matching_values_and_ignores_nulls(db_path):
    made = [
        checks.regex("t", "email", r"[a-z]+@[a-z.]+"),
        checks.regex("t", "email", r"[a-z ]+", name="letters", warn_if=">50%", error_if=">90%"),
    ]
    _, records = _run(db_path, {"t": EMAILS}, made)
    record = records["email_matches_pattern"]
    assert record.outcome == "failed" and record.failing_count == 1
    assert record.failing_sample == [{"email": "not an email"}]
    assert record.metadata["total_rows"] == 4  # non-NULL values only
    assert "$pattern" in record.sql and "[a-z]" not in record.sql  # bound, not in the SQL
    letters = records["letters"]  # 3 of the 4 non-NULL values fail: 75%
    assert (letters.outcome, letters.metadata["failing_pct"]) == ("warned", 75.0)


@pytest.mark.parametrize(
    ("format", "good", "bad"),
    [
        ("email", ["ann@example.com", "a.b+c@x-y.co.uk"], ["ann@", "a b@x.com", "cy@localhost"]),
        (
            "uuid",
            ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000"],
            ["123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g"],
        ),
        ("iso_date", ["2024-01-31", "1999-12-01"], ["2024-13-01", "24-01-01", "2024-01-01T00"]),
    ],
)
def test_regex_named_formats(db_path, format, good, bad):
    with _table(db_path, "SELECT unnest($v) AS v", {"v": [*good, *bad, None]}) as con:
        result = checks.regex("t", "v", format=format).fn(con)
        found = con.execute(result.failing_rows_sql, result.failing_rows_params).fetchall()
    assert sorted(row[0] for row in found) == sorted(bad)
    assert result.observed_value == len(bad)
    assert result.metadata["total_rows"] == len(good) + len(bad)  # the NULL is left out
    assert result.metadata["format"] == format


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: checks.regex("t", "c"), r"give exactly one of pattern= .* or format="),
        (lambda: checks.regex("t", "c", "x", format="email"), r"give exactly one of pattern="),
        (lambda: checks.regex("t", "c", format="phone"), r"format='phone' is not known; use one"),
        (lambda: checks.regex("t", "c", "([a-z]"), r"not a valid regular expression \(RE2\)"),
        (lambda: checks.regex("t", "c", ""), r"must be a non-empty regular expression"),
        (lambda: checks.regex("t", "c", "x", where="a ="), r"where is not valid SQL"),
    ],
)
def test_regex_refuses_bad_arguments(make, message):
    with pytest.raises(DefinitionError, match=message):
        make()


# expected_schema -------------------------------------------------------------------------------

TYPED = "SELECT 1::INTEGER AS id, 'x'::VARCHAR AS name, 2.5::DECIMAL(10,2) AS price"


def test_expected_schema_passes_in_any_order_and_case(db_path):
    check = checks.expected_schema(
        "t", columns={"price": "decimal(10, 2)", "NAME": "varchar", "id": "INTEGER"}
    )
    _, records = _run(db_path, {"t": TYPED}, [check])
    record = records["expected_schema"]
    assert (record.outcome, record.observed_value) == ("passed", 0)
    assert record.metadata["summary"] == "as expected"


def test_expected_schema_names_missing_extra_and_retyped_columns(db_path):
    check = checks.expected_schema(
        "t", columns={"id": "BIGINT", "name": "VARCHAR", "sku": "VARCHAR"}, severity="Warn"
    )
    _, records = _run(db_path, {"t": TYPED}, [check])
    record = records["expected_schema"]
    assert (record.outcome, record.observed_value) == ("warned", 3)
    assert record.metadata["missing"] == ["sku"]
    assert record.metadata["extra"] == ["price"]
    assert record.metadata["retyped"] == {"id": "expected BIGINT, found INTEGER"}
    assert record.metadata["summary"] == (
        "missing: sku; extra: price; id is INTEGER, expected BIGINT"
    )
    assert sorted(record.failing_sample, key=lambda row: row["column_name"]) == [
        {"column_name": "id", "problem": "other type", "expected_type": "BIGINT",
         "actual_type": "INTEGER"},
        {"column_name": "price", "problem": "extra", "expected_type": None,
         "actual_type": "DECIMAL(10,2)"},
        {"column_name": "sku", "problem": "missing", "expected_type": "VARCHAR",
         "actual_type": None},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({}, r"columns=\{\} must be a non-empty dict of name to type"),
        (["id"], r"must be a non-empty dict"),
        ({"id": ""}, r"columns 'id' need a name and a DuckDB type as text"),
        ({"id": 5}, r"columns 'id' need a name and a DuckDB type"),
        ({"id": "INTEGER", "ID": "INTEGER"}, r"columns ID, id name the same column"),
    ],
)
def test_expected_schema_refuses_bad_columns(columns, message):
    with pytest.raises(DefinitionError, match=message):
        checks.expected_schema("t", columns=columns)


# row_count_compare -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "outcome", "threshold"),
    [
        ({"equal": True}, "failed", "row count equal to orders's"),
        ({"ratio_between": (0.5, 0.8)}, "passed", "row count / orders's between 0.5 and 0.8"),
        ({"ratio_between": (0.75, 0.75)}, "passed", "row count / orders's between 0.75 and 0.75"),
        ({"ratio_between": (0.9, 1.1)}, "failed", "row count / orders's between 0.9 and 1.1"),
    ],
)
def test_row_count_compare(db_path, options, outcome, threshold):
    tables = {"orders": "SELECT * FROM range(8) t(n)", "shipped": "SELECT * FROM range(6) t(n)"}
    check = checks.row_count_compare("shipped", "orders", **options)
    assert check.additional_deps == ("orders",)
    _, records = _run(db_path, tables, [check])
    record = records["row_count_compare_orders"]
    assert (record.outcome, record.threshold, record.observed_value) == (outcome, threshold, 0.75)
    assert (record.metadata["row_count"], record.metadata["other_row_count"]) == (6, 8)


def test_row_count_compare_equal_and_an_empty_other(db_path):
    tables = {"a": "SELECT * FROM range(3) t(n)", "b": "SELECT * FROM range(3) t(n)"}
    _, records = _run(db_path, tables, [checks.row_count_compare("b", "a", equal=True)])
    assert records["row_count_compare_a"].outcome == "passed"
    tables["a"] = "SELECT 1 AS n WHERE false"
    made = [checks.row_count_compare("b", "a", ratio_between=(0, 10))]
    _, records = _run(db_path, tables, made)
    record = records["row_count_compare_a"]
    assert (record.outcome, record.observed_value) == ("failed", None)
    assert record.metadata["reason"] == "'a' has no rows: the ratio is undefined"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: checks.row_count_compare("a", "b"), r"give exactly one of equal=True or ratio"),
        (
            lambda: checks.row_count_compare("a", "b", equal=True, ratio_between=(1, 2)),
            r"give exactly one of equal=True",
        ),
        (lambda: checks.row_count_compare("a", "a", equal=True), r"compares 'a' with itself"),
        (lambda: checks.row_count_compare("a", "b", ratio_between=(2, 1)), r"low bound 2 is above"),
        (lambda: checks.row_count_compare("a", "b", ratio_between=(-1, 1)), r"two numbers >= 0"),
        (lambda: checks.row_count_compare("a", 3, equal=True), r"3 is not an asset"),
    ],
)
def test_row_count_compare_refuses_bad_arguments(make, message):
    with pytest.raises(DefinitionError, match=message):
        make()


def test_row_count_compare_on_an_unknown_asset_is_refused_by_definitions(db_path):
    with pytest.raises(DefinitionError, match=r"'t.row_count_compare_nope' reads unknown asset"):
        _run(db_path, {"t": "SELECT 1 AS n"}, [checks.row_count_compare("t", "nope", equal=True)])


def test_regex_matches_a_non_text_column_in_its_text_form(db_path):
    sql = "SELECT * FROM (VALUES (100), (2024), (NULL), (999)) t(code)"
    _, records = _run(db_path, {"t": sql}, [checks.regex("t", "code", "[0-9]{3}")])
    record = records["code_matches_pattern"]
    assert (record.failing_count, record.failing_sample) == (1, [{"code": 2024}])


def test_hostile_names_and_values_in_the_new_checks_are_quoted_and_bound(db_path):
    table, column = 'odd "table"', 'it\'s "col"'
    quoted = '"it\'s ""col"""'
    value = "O'Brien\"); DROP TABLE victim; --"
    sql = (
        f"SELECT * FROM (VALUES ('{value.replace(chr(39), chr(39) * 2)}', 1), ('other', 2),"
        f" (NULL, 3)) t({quoted}, n)"
    )
    check_defs = [
        checks.accepted_values(table, column, ["other"], name="values"),
        checks.regex(table, column, "O'Brien.*", name="pattern"),
        checks.metric(table, f"max(length({quoted}))", min=0, where=f"{quoted} <> 'x'"),
        checks.expected_schema(table, columns={column: "VARCHAR", "n": "INTEGER"}),
        checks.row_count_compare(table, "victim", ratio_between=(3, 3)),
    ]
    _, records = _run(db_path, {"victim": "SELECT 1 AS n", table: sql}, check_defs)
    assert records["values"].metadata["failing_values"] == [value]
    assert records["pattern"].failing_sample == [{column: "other", "n": 2}]
    assert records["metric_max_length_it_s_col"].observed_value == len(value)
    assert records["expected_schema"].outcome == "passed"
    assert records["row_count_compare_victim"].outcome == "passed"
    with duckdb.connect(str(db_path)) as con:
        assert con.execute("SELECT count(*) FROM victim").fetchone()[0] == 1
