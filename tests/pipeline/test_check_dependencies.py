"""Checks that read other assets wait for them in a run, and bad check dependencies are refused."""

import threading

import pytest

from pipeline import CheckResult, DefinitionError, Definitions, asset, asset_check, materialize


def _parallel_pair(check_blocking=False, parent_sql="SELECT 1 AS id"):
    """`child` and `parent` build at the same time; `parent` finishes only after `child`.

    A check on `child` that reads `parent` would see no `parent` table if it ran right after
    `child`, so it only passes when the engine makes it wait.
    """
    child_built = threading.Event()

    def child(con):
        con.execute("CREATE OR REPLACE TABLE child AS SELECT 1 AS parent_id")
        child_built.set()

    def parent(con):
        assert child_built.wait(timeout=30), "child never built"
        return parent_sql

    def downstream(con):
        return "SELECT * FROM child"

    def parent_exists(con):
        sql = "SELECT * FROM child WHERE parent_id NOT IN (SELECT id FROM parent)"
        count = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
        return CheckResult(passed=count == 0, observed_value=count, failing_rows_sql=sql)

    check = asset_check(
        parent_exists, asset="child", additional_deps=["parent"], blocking=check_blocking
    )
    return Definitions(
        assets=[asset(child), asset(parent), asset(downstream, deps=["child"])], checks=[check]
    )


def test_a_check_waits_for_the_other_assets_it_reads(db_path):
    result = materialize(_parallel_pair(), db=db_path, max_workers=2)
    assert [(c.key, c.outcome) for c in result.checks] == [("child.parent_exists", "passed")]
    assert result.ok


def test_a_failed_blocking_deferred_check_skips_the_downstream(db_path):
    defs = _parallel_pair(check_blocking=True, parent_sql="SELECT 2 AS id")
    result = materialize(defs, db=db_path, max_workers=2)
    assert result.checks[0].outcome == "failed"
    assert result.assets["downstream"].status == "skipped"
    assert result.assets["downstream"].error == (
        "upstream 'child' is blocked by failed check 'child.parent_exists'"
    )


def test_a_deferred_check_is_skipped_when_what_it_reads_failed(db_path):
    defs = _parallel_pair(parent_sql="SELECT nope")
    result = materialize(defs, db=db_path, max_workers=2)
    assert result.assets["parent"].status == "failed"
    assert result.checks[0].outcome == "skipped"
    assert result.checks[0].error == "asset 'parent' was not built in this run"


def test_outside_the_selection_the_check_reads_the_existing_table(db_path):
    assert materialize(_parallel_pair(), db=db_path, max_workers=2).ok
    result = materialize(_parallel_pair(), db=db_path, select="child")
    assert result.checks[0].outcome == "passed"


def _check_reading(dep):
    def verdict(con):
        return CheckResult(passed=True)

    return asset_check(verdict, asset="a", additional_deps=[dep])


def test_check_dependencies_must_exist_and_not_be_downstream():
    assets = [
        asset(lambda con: "SELECT 1 AS x", name="a"),
        asset(lambda con: "SELECT 1 AS x", name="b", deps=["a"]),
    ]
    with pytest.raises(
        DefinitionError, match="'a.verdict' reads unknown asset 'bb'. Did you mean 'b'"
    ):
        Definitions(assets, [_check_reading("bb")])
    with pytest.raises(DefinitionError, match="reads 'b', which is built from 'a'"):
        Definitions(assets, [_check_reading("b")])
