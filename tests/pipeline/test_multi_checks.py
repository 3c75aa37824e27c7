"""Issue 13: several checks from one function (@multi_asset_check), decorated definitions
callable in unit tests, functions of no arguments refused when defined, and default code
versions that follow the values a factory closes over."""

import duckdb
import pytest

from pipeline import AssetContext, CheckResult, asset, asset_check, checks
from pipeline.errors import DefinitionError, PipelineError


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
