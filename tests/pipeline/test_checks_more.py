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


def _table(db, sql):
    """A connection to a file holding table `t` made by `sql`, for calling a check's fn."""
    con = duckdb.connect(str(db))
    con.execute(f"CREATE OR REPLACE TABLE t AS {sql}")
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
