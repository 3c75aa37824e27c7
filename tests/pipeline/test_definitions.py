"""Definitions are validated when built: every problem named at once, with how to fix it."""

from pathlib import Path

import pytest

from pipeline import (
    CheckResult,
    DefinitionError,
    Definitions,
    asset,
    asset_check,
    load_definitions,
)

SCENARIOS = Path(__file__).parent / "scenarios"


def test_decorator_defaults_come_from_the_function():
    @asset
    def revenue(con):
        """Revenue per day."""
        return "SELECT 1 AS x"

    assert revenue.name == "revenue"
    assert revenue.description == "Revenue per day."
    assert revenue.group == "default"
    assert revenue.kind == "table"
    assert len(revenue.code_version) == 12


def test_deps_accept_names_and_asset_functions():
    @asset
    def raw(con):
        return "SELECT 1 AS x"

    @asset(deps=[raw, "other"])
    def model(con):
        return "SELECT 1 AS x"

    assert model.deps == ("raw", "other")


def test_code_version_changes_with_the_source_and_can_be_pinned():
    def build_one(con):
        return "SELECT 1 AS x"

    def build_two(con):
        return "SELECT 2 AS x"

    assert asset(build_one).code_version != asset(build_two).code_version
    assert asset(build_one, code_version="v7").code_version == "v7"


def test_bad_kind_and_severity_are_refused_with_the_allowed_values():
    with pytest.raises(DefinitionError, match="kind 'tabel'; use 'table' or 'view'"):
        asset(lambda con: None, name="x", kind="tabel")
    with pytest.raises(DefinitionError, match="severity 'fatal': use error or warn"):
        asset_check(lambda con: None, asset="x", name="c", severity="fatal")


def test_every_problem_is_reported_at_once_and_sorted():
    with pytest.raises(DefinitionError) as caught:
        load_definitions(str(SCENARIOS / "many_problems.py"))
    assert caught.value.problems == [
        "asset 'order_lines' depends on unknown asset 'custmers'. Did you mean 'customers'?"
        " Define 'custmers' or remove it from deps.",
        "asset name 'orders' is defined 2 times; names must be unique",
        "check 'orders_not_empty' targets unknown asset 'ordrs'."
        " Did you mean 'orders' or 'order_lines'?",
    ]
    assert str(caught.value).startswith("3 problems in the definitions:\n  - asset 'order_lines'")


def test_a_cycle_is_reported_with_its_path():
    with pytest.raises(DefinitionError, match=r"dependency cycle: a -> b -> c -> a$"):
        load_definitions(str(SCENARIOS / "cyclic.py"))


def test_duplicate_check_names_on_one_asset_are_refused():
    @asset
    def t(con):
        return "SELECT 1 AS x"

    def passing(con):
        return CheckResult(passed=True)

    first = asset_check(passing, asset=t, name="c")
    second = asset_check(passing, asset=t, name="c")
    with pytest.raises(DefinitionError, match="check 't.c' is defined 2 times"):
        Definitions(assets=[t], checks=[first, second])


def test_something_that_is_not_a_definition_is_named():
    with pytest.raises(DefinitionError, match="'oops' is not an @asset or @asset_check"):
        Definitions(assets=["oops"])


def test_loader_collects_decorated_objects_when_there_is_no_defs():
    defs = load_definitions(str(SCENARIOS / "collected.py"))
    assert sorted(defs.assets) == ["evens", "numbers"]
    assert [check.key for check in defs.checks] == ["evens.evens_not_empty"]
    assert defs.assets["evens"].kind == "view"


def test_loader_finds_defs_by_dotted_module_name():
    defs = load_definitions("pipeline.examples.sales")
    assert {"products", "sales_reps", "sales_data", "joined_data"} <= set(defs.assets)


def test_loader_explains_a_module_that_cannot_be_imported():
    with pytest.raises(DefinitionError, match="cannot load definitions module 'no_such.module'"):
        load_definitions("no_such.module")
    with pytest.raises(DefinitionError, match="RuntimeError: boom while importing"):
        load_definitions(str(SCENARIOS / "broken_import.py"))
    with pytest.raises(DefinitionError, match="no such file"):
        load_definitions(str(SCENARIOS / "missing.py"))


def test_loader_explains_a_module_without_assets():
    with pytest.raises(DefinitionError, match="has no `defs = Definitions"):
        load_definitions("pipeline.errors")
