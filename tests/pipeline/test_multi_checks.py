"""Issue 13: several checks from one function (@multi_asset_check), decorated definitions
callable in unit tests, functions of no arguments refused when defined, and default code
versions that follow the values a factory closes over."""

import os
import subprocess
import sys

import duckdb
import pytest

from pipeline import (
    AssetCheckSpec,
    AssetContext,
    CheckResult,
    Definitions,
    asset,
    asset_check,
    checks,
    load_definitions,
    materialize,
    multi_asset_check,
    run_checks,
)
from pipeline.errors import DefinitionError, PipelineError
from pipeline.states import CheckKey, CheckOutcome, EventStatus


@pytest.fixture
def con():
    connection = duckdb.connect(":memory:")
    connection.execute("CREATE TABLE t AS SELECT * FROM range(3) r(id)")
    yield connection
    connection.close()


# Decorated definitions stay callable, as Dagster's are.


def test_a_decorated_check_is_called_with_a_connection(con):
    @asset_check(asset="t")
    def has_rows(con):
        return CheckResult(passed=con.execute("SELECT count(*) FROM t").fetchone()[0] > 0)

    assert has_rows(con) == CheckResult(passed=True)


def test_a_check_taking_a_context_gets_one_naming_its_asset_or_the_one_given(con):
    @asset_check(asset="t")
    def knows(con, context):
        return CheckResult(passed=True, metadata={"asset": context.asset, "run": context.run_id})

    assert knows(con).metadata == {"asset": "t", "run": None}
    assert knows(con, AssetContext("t", run_id=7)).metadata == {"asset": "t", "run": 7}


def test_a_factory_check_is_callable_too(con):
    assert checks.row_count("t", min=1)(con).passed
    assert not checks.row_count("t", min=5)(con).passed
    assert checks.not_null("t", "id")(con).observed_value == 0


def test_a_decorated_asset_is_called_with_a_connection(con):
    @asset
    def doubled(con):
        return "SELECT id * 2 AS id FROM t"

    @asset
    def with_context(con, context):
        return context.asset

    assert doubled(con) == "SELECT id * 2 AS id FROM t"
    assert with_context(con) == "with_context"


def test_a_plain_check_yielding_one_result_is_fine_and_several_point_to_multi_asset_check(con):
    @asset_check(asset="t")
    def one(con):
        yield CheckResult(passed=True)

    @asset_check(asset="t")
    def two(con):
        yield CheckResult(passed=True)
        yield CheckResult(passed=False)

    assert one(con) == CheckResult(passed=True)
    with pytest.raises(PipelineError, match=r"'t.two' reported 2 results.*@multi_asset_check"):
        two(con)


# Functions of no arguments are refused when they are defined, saying how to write them.


def test_a_check_of_no_arguments_is_refused_with_how_to_write_it():
    with pytest.raises(
        DefinitionError,
        match=r"check 'bare' is a function of no arguments.*`def bare\(con\):`.*"
        r"`def bare\(con, context\):`",
    ):

        @asset_check(asset="t")
        def bare():
            return CheckResult(passed=True)


def test_an_asset_of_no_arguments_is_refused_with_how_to_write_it():
    with pytest.raises(DefinitionError, match=r"asset 'bare' .*`def bare\(con\):`"):

        @asset
        def bare():
            return "SELECT 1"


# Several checks from one function.

CALLS: list[str] = []


def _orders(con):
    return "SELECT * FROM (VALUES (1, 10), (2, NULL), (3, -5)) v(id, amount)"


orders = asset(_orders, name="orders")


@asset(deps=["orders"])
def report(con):
    return "SELECT count(*) AS n FROM orders"


@multi_asset_check(
    specs=[
        AssetCheckSpec("amount_present", asset="orders", blocking=True),
        AssetCheckSpec("amount_positive", asset=orders, severity="WARN"),
        AssetCheckSpec("has_rows", asset="orders", description="Some orders exist."),
    ]
)
def order_checks(con):
    """Three verdicts from one scan of orders."""
    CALLS.append("order_checks")
    nulls, negative, rows = con.execute(
        "SELECT count(*) FILTER (amount IS NULL), count(*) FILTER (amount < 0), count(*)"
        " FROM orders"
    ).fetchone()
    yield CheckResult(
        check_name="amount_present",
        passed=nulls == 0,
        observed_value=nulls,
        failing_rows_sql="SELECT * FROM orders WHERE amount IS NULL",
    )
    yield CheckResult(check_name="amount_positive", passed=negative == 0, observed_value=negative)
    yield CheckResult(check_name="has_rows", passed=rows > 0, metadata={"rows": rows})


def test_each_spec_is_a_check_of_its_own_in_definitions():
    defs = Definitions([orders, report], [order_checks])
    assert [c.key for c in defs.checks] == [
        "orders.amount_positive",
        "orders.amount_present",
        "orders.has_rows",
    ]
    present = defs.find_check("orders.amount_present")
    assert (present.blocking, present.severity) == (True, "error")
    assert defs.find_check("orders.amount_positive").severity == "warn"
    assert defs.find_check("orders.has_rows").description == "Some orders exist."
    assert present.description == "Three verdicts from one scan of orders."


def test_materialize_runs_the_function_once_and_records_each_result_on_its_own(db_path):
    CALLS.clear()
    result = materialize(Definitions([orders, report], [order_checks]), db=db_path)
    assert CALLS == ["order_checks"]
    by_name = {record.check_name: record for record in result.checks}
    assert {name: r.outcome for name, r in by_name.items()} == {
        "amount_present": CheckOutcome.FAILED,
        "amount_positive": CheckOutcome.WARNED,
        "has_rows": CheckOutcome.PASSED,
    }
    assert by_name["amount_present"].failing_count == 1
    assert by_name["amount_present"].failing_sample == [{"id": 2, "amount": None}]
    assert by_name["amount_positive"].observed_value == 1
    assert by_name["has_rows"].metadata == {"rows": 3}
    # blocking applies per spec: the failed blocking ERROR check stops report, the warning not
    report_event = result.assets["report"]
    assert report_event.status == EventStatus.SKIPPED
    assert report_event.blocked_by == CheckKey("orders", "amount_present")


def test_one_spec_can_be_run_again_on_its_own(db_path):
    defs = Definitions([orders, report], [order_checks])
    materialize(defs, db=db_path)
    result = run_checks(defs, db=db_path, checks=["orders.has_rows"])
    assert [(r.key, r.outcome) for r in result.checks] == [("orders.has_rows", "passed")]


def test_the_cli_lists_and_runs_a_spec_like_any_check(tmp_path):
    module = tmp_path / "multi_defs.py"
    module.write_text(
        "from pipeline import AssetCheckSpec, CheckResult, asset, multi_asset_check\n"
        "@asset\n"
        "def t(con):\n"
        "    return 'SELECT 1 AS x'\n"
        "@multi_asset_check(specs=[AssetCheckSpec('a', 't'), AssetCheckSpec('b', 't')])\n"
        "def both(con):\n"
        "    return [CheckResult(check_name='a', passed=True),"
        " CheckResult(check_name='b', passed=False)]\n"
    )
    db = str(tmp_path / "w.duckdb")

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "pipeline", *args, "--defs", str(module), "--db", db],
            capture_output=True,
            text=True,
            check=False,
        )

    assert cli("materialize").returncode == 1
    listed = cli("list")
    assert "check a:" in listed.stdout and "check b:" in listed.stdout
    ran = cli("check", "--check", "t.a")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout


def _run_multi(db_path, fn, specs=("a", "b")):
    @asset
    def t(con):
        return "SELECT 1 AS x"

    multi = multi_asset_check(fn, specs=[AssetCheckSpec(name, asset="t") for name in specs])
    result = materialize(Definitions([t], [multi]), db=db_path)
    return {record.check_name: record for record in result.checks}


def test_a_spec_the_function_does_not_report_is_an_error_naming_it(db_path):
    records = _run_multi(db_path, lambda con: [CheckResult(check_name="a", passed=True)])
    assert records["a"].outcome == CheckOutcome.PASSED
    assert records["b"].outcome == CheckOutcome.ERROR
    assert "did not report check 't.b'" in records["b"].error
    assert "CheckResult(check_name='b', passed=...)" in records["b"].error


def test_a_result_naming_no_spec_is_an_error_naming_the_known_specs(db_path):
    records = _run_multi(
        db_path,
        lambda con: [
            CheckResult(check_name="a", passed=True),
            CheckResult(check_name="c", passed=True),
        ],
    )
    assert {r.outcome for r in records.values()} == {CheckOutcome.ERROR}
    assert "reported check 'c', which is none of its checks: t.a, t.b" in records["a"].error


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (lambda con: [CheckResult(passed=True)], "without check_name; name one of its checks"),
        (lambda con: [CheckResult(True, check_name="a")] * 2, "reported check 't.a' twice"),
        (lambda con: None, "reported None; return or yield CheckResult"),
        (lambda con: 1 / 0, "ZeroDivisionError"),
    ],
    ids=["unnamed", "twice", "none", "raises"],
)
def test_a_broken_multi_check_records_every_spec_as_an_error(db_path, returned, message):
    records = _run_multi(db_path, returned)
    assert [r.outcome for r in records.values()] == [CheckOutcome.ERROR] * 2
    assert message in records["b"].error


def test_specs_on_two_assets_are_told_apart_by_asset():
    @multi_asset_check(
        specs=[AssetCheckSpec("fresh", asset="a"), AssetCheckSpec("fresh", asset="b")]
    )
    def freshness(con):
        yield CheckResult(check_name="fresh", asset="a", passed=True)
        yield CheckResult(check_name="fresh", asset="b", passed=False)

    con = duckdb.connect(":memory:")
    a, b = freshness.checks
    assert a(con).passed and not b(con).passed
    assert [r.passed for r in freshness(con)] == [True, False]

    @multi_asset_check(
        specs=[AssetCheckSpec("fresh", asset="a"), AssetCheckSpec("fresh", asset="b")]
    )
    def unclear(con):
        yield CheckResult(check_name="fresh", passed=True)

    with pytest.raises(PipelineError, match=r"names 2 of its checks: add asset="):
        unclear.checks[0](con)


def test_bad_specs_are_refused_when_defined():
    with pytest.raises(DefinitionError, match=r"has two specs named 't.a'"):
        multi_asset_check(
            lambda con: [], specs=[AssetCheckSpec("a", asset="t"), AssetCheckSpec("a", asset="t")]
        )
    with pytest.raises(DefinitionError, match=r"has no specs"):
        multi_asset_check(lambda con: [], specs=[])
    with pytest.raises(DefinitionError, match=r"'a' is not an AssetCheckSpec"):
        multi_asset_check(lambda con: [], specs=["a"])
    with pytest.raises(DefinitionError, match=r"check 'x' has severity 'fatal'"):
        multi_asset_check(lambda con: [], specs=[AssetCheckSpec("x", "t", severity="fatal")])
    with pytest.raises(DefinitionError, match=r"check 'none' is a function of no arguments"):

        @multi_asset_check(specs=[AssetCheckSpec("a", asset="t")])
        def none():
            return []


def test_a_spec_on_an_unknown_asset_is_refused_by_definitions():
    multi = multi_asset_check(lambda con: [], specs=[AssetCheckSpec("a", asset="ordrs")])
    with pytest.raises(DefinitionError, match=r"check 'a' targets unknown asset 'ordrs'"):
        Definitions([orders], [multi])


def test_the_loader_collects_a_multi_asset_check_from_a_module(tmp_path):
    module = tmp_path / "collected_multi.py"
    module.write_text(
        "from pipeline import AssetCheckSpec, CheckResult, asset, multi_asset_check\n"
        "@asset\n"
        "def t(con):\n"
        "    return 'SELECT 1 AS x'\n"
        "@multi_asset_check(specs=[AssetCheckSpec('a', 't'), AssetCheckSpec('b', 't')])\n"
        "def both(con):\n"
        "    return []\n"
    )
    assert [c.key for c in load_definitions(str(module)).checks] == ["t.a", "t.b"]


# Default code versions follow the values a factory closes over.


def _sql_asset(sql, name="made"):
    """A user's factory: the SQL lives in the closure, not in the source."""
    return asset(lambda con: sql, name=name)


def test_a_factory_check_differing_only_in_a_parameter_has_another_code_version():
    assert checks.row_count("t", min=1).code_version != checks.row_count("t", min=5).code_version
    assert checks.row_count("t", min=1).code_version == checks.row_count("t", min=1).code_version
    one, other = checks.not_null("t", "a"), checks.not_null("t", "b")
    assert one.code_version != other.code_version
    assert checks.not_null("t", "a").code_version == one.code_version


def test_an_asset_from_a_users_factory_changes_version_with_the_sql_it_closes_over():
    assert _sql_asset("SELECT 1").code_version != _sql_asset("SELECT 2").code_version
    assert _sql_asset("SELECT 1").code_version == _sql_asset("SELECT 1").code_version


def test_defaults_count_like_closed_over_values():
    first = asset(lambda con, sql="SELECT 1": sql, name="d")
    second = asset(lambda con, sql="SELECT 2": sql, name="d")
    assert first.code_version != second.code_version


def test_a_function_closing_over_nothing_keeps_its_source_hash():
    from pipeline.code_versions import _code_hash

    def plain(con):
        return "SELECT 1"

    assert asset(plain).code_version == _code_hash(plain.__code__)


def test_an_object_that_is_not_a_plain_value_counts_by_its_type_only():
    class Opaque:
        pass

    def made(value):
        return asset(lambda con: value, name="o")

    assert made(Opaque()).code_version == made(Opaque()).code_version
    # A repr with a memory address or live state would give a new version in every process.
    assert made(duckdb.connect()).code_version == made(duckdb.connect()).code_version


def test_code_versions_are_the_same_in_every_process(tmp_path):
    script = (
        "from pipeline import asset, checks\n"
        "def made(sql, keys):\n"
        "    return asset(lambda con: (sql, keys), name='m')\n"
        "print(checks.accepted_values('t', 'c', ['x', 'y']).code_version,"
        " checks.row_count('t', min=3).code_version,"
        " made('SELECT 1', frozenset({'a', 'b', 'c', 'd'})).code_version)\n"
    )

    def versions(seed):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        ran = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        return ran.stdout

    assert versions("1") == versions("2")


def test_changing_the_sql_a_factory_closes_over_marks_the_asset_stale(db_path):
    from pipeline import store
    from pipeline.status import asset_statuses

    materialize(Definitions([_sql_asset("SELECT 1 AS n")]), db=db_path)
    for sql, health in [("SELECT 1 AS n", "fresh"), ("SELECT 2 AS n", "stale")]:
        with store.open_store(db_path) as con:
            state = asset_statuses(Definitions([_sql_asset(sql)]), con)["made"]
        assert (state.status, state.stale_reason) == (
            health,
            None if health == "fresh" else "its code changed since it was built",
        )


def test_a_plain_check_reporting_nothing_says_so(con):
    @asset_check(asset="t")
    def silent(con):
        yield from ()

    with pytest.raises(PipelineError, match=r"check 't.silent' reported no CheckResult"):
        silent(con)


def _two_assets_one_multi_check(calls: list[str], b_sql: str = "SELECT 2 AS x") -> Definitions:
    @asset
    def a(con):
        return "SELECT 1 AS x"

    @asset
    def b(con):
        return b_sql

    @multi_asset_check(specs=[AssetCheckSpec("one", asset=a), AssetCheckSpec("one", asset=b)])
    def both(con, context):
        calls.append(context.asset)
        for name in ("a", "b"):
            x = con.execute(f"SELECT x FROM {name}").fetchone()[0]
            yield CheckResult(check_name="one", asset=name, passed=x == 1)

    return Definitions([a, b], [both])


@pytest.mark.parametrize("workers", [1, 2])
def test_specs_on_two_assets_run_once_when_both_are_built(db_path, workers):
    """As Dagster runs a multi-asset check: one call, after every asset it checks."""
    calls: list[str] = []
    result = materialize(_two_assets_one_multi_check(calls), db=db_path, max_workers=workers)
    assert len(calls) == 1
    assert [(r.key, r.outcome) for r in sorted(result.checks, key=lambda r: r.key)] == [
        ("a.one", CheckOutcome.PASSED),
        ("b.one", CheckOutcome.FAILED),
    ]
    calls.clear()
    again = run_checks(_two_assets_one_multi_check(calls), db=db_path)
    assert len(calls) == 1 and len(again.checks) == 2


def test_a_multi_check_whose_other_asset_failed_says_so_and_is_not_called(db_path):
    calls: list[str] = []
    defs = _two_assets_one_multi_check(calls, b_sql="SELECT x FROM nowhere")
    result = materialize(defs, db=db_path)
    assert calls == []
    checks = {r.key: r for r in result.checks}
    assert checks["a.one"].outcome == CheckOutcome.SKIPPED
    assert "asset 'b' was not built in this run" in (checks["a.one"].error or "")
    assert checks["b.one"].outcome == CheckOutcome.SKIPPED


def test_a_check_run_of_a_multi_check_with_one_asset_missing_runs_the_other(db_path):
    calls: list[str] = []
    defs = _two_assets_one_multi_check(calls)
    materialize(defs, db=db_path, select="a")
    calls.clear()
    result = run_checks(defs, db=db_path)
    checks = {r.key: r for r in result.checks}
    assert "'b' has not been materialized yet" in (checks["b.one"].error or "")
    assert checks["b.one"].outcome == CheckOutcome.ERROR
    assert checks["a.one"].outcome == CheckOutcome.ERROR  # the function read b: it says so
    assert "Table with name b does not exist" in (checks["a.one"].error or "")
    assert len(calls) == 1


def test_a_spec_whose_failing_rows_cannot_be_read_does_not_take_the_next_ones_with_it(db_path):
    @multi_asset_check(
        specs=[AssetCheckSpec("broken", asset="orders"), AssetCheckSpec("readable", asset="orders")]
    )
    def two(con):
        yield CheckResult(
            check_name="broken",
            passed=False,
            failing_rows_sql="SELECT CAST('nope' AS INTEGER) AS n",
        )
        yield CheckResult(
            check_name="readable",
            passed=False,
            failing_rows_sql="SELECT * FROM orders WHERE amount IS NULL",
        )

    result = materialize(Definitions([orders], [two]), db=db_path)

    by_name = {record.check_name: record for record in result.checks}
    assert by_name["broken"].outcome == CheckOutcome.ERROR and "nope" in by_name["broken"].error
    assert by_name["readable"].outcome == CheckOutcome.FAILED
    assert by_name["readable"].failing_count == 1


def _upstream_and_downstream(blocking: bool, calls: list[str]) -> Definitions:
    @asset
    def a(con):
        return "SELECT 1 AS x"

    @asset(deps=["a"])
    def b(con):
        return "SELECT x + 1 AS x FROM a"

    @multi_asset_check(
        specs=[AssetCheckSpec("one", asset=a, blocking=blocking), AssetCheckSpec("one", asset=b)]
    )
    def both(con):
        calls.append("both")
        (total,) = con.execute("SELECT (SELECT x FROM a) + (SELECT x FROM b)").fetchone()
        yield CheckResult(check_name="one", asset="a", passed=total == 3)
        yield CheckResult(check_name="one", asset="b", passed=total == 3)

    return Definitions([a, b], [both])


def test_a_multi_check_on_an_asset_and_its_downstream_runs_once_after_both(db_path):
    calls: list[str] = []
    result = materialize(_upstream_and_downstream(False, calls), db=db_path)
    assert result.ok and calls == ["both"]
    assert {r.key: r.outcome for r in result.checks} == {
        "a.one": CheckOutcome.PASSED,
        "b.one": CheckOutcome.PASSED,
    }


def test_a_blocking_spec_that_would_wait_for_its_own_downstream_is_refused():
    with pytest.raises(DefinitionError) as raised:
        _upstream_and_downstream(True, [])
    assert "check 'a.one' is blocking, but its @multi_asset_check 'both' also checks 'b'" in str(
        raised.value
    )
    assert "Make the spec non-blocking" in str(raised.value)


def test_a_closed_over_path_counts_by_its_value_the_same_in_every_process():
    """Two definitions differing only in the folder they read get different versions, and one
    folder gives one version whatever the interpreter's hash seed."""
    script = (
        "import uuid\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from pipeline import asset\n"
        "def made(value):\n"
        "    return asset(lambda con: value, name='m').code_version\n"
        "print(made(Path('/data/a')), made(Path('/data/b')),"
        " made(uuid.UUID(int=1)), made(uuid.UUID(int=2)),"
        " made((datetime(2024, 1, 1), frozenset({Path('x'), Path('y')}))),"
        " made((datetime(2024, 1, 2), frozenset({Path('x'), Path('y')}))))\n"
    )

    def versions(seed):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        ran = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        return ran.stdout.split()

    first = versions("1")
    assert first == versions("2")
    path_a, path_b, uuid_1, uuid_2, jan_1, jan_2 = first
    assert path_a != path_b and uuid_1 != uuid_2 and jan_1 != jan_2
