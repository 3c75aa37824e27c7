"""Definitions are validated when built: every problem named at once, with how to fix it."""

import sys
from pathlib import Path

import pytest

import pipeline
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
    with pytest.raises(DefinitionError, match="'oops' is not an @asset, @asset_check or @multi"):
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


ONE_ASSET = """
from pipeline import asset


@asset
def one(con):
    return "SELECT 1 AS x"
"""


def test_a_user_file_named_pipeline_py_does_not_replace_this_package(tmp_path):
    user = tmp_path / "pipeline.py"
    user.write_text(ONE_ASSET)
    defs = load_definitions(str(user))
    assert list(defs.assets) == ["one"]
    assert sys.modules["pipeline"] is pipeline
    assert pipeline.__file__ != str(user)


def test_a_user_file_imports_its_siblings_as_python_my_pipeline_py_would(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "assetboard_test_helpers.py").write_text("SQL = 'SELECT 2 AS y'\n")
    (project / "my-pipeline.py").write_text(
        "from dataclasses import dataclass\n"
        "from assetboard_test_helpers import SQL\n"
        "from pipeline import asset\n\n\n"
        "@dataclass\nclass Settings:\n    rows: int = 2\n\n\n"
        "@asset\ndef two(con):\n    return SQL\n"
    )
    path_before = list(sys.path)
    try:
        defs = load_definitions(str(project / "my-pipeline.py"))
    finally:
        sys.modules.pop("assetboard_test_helpers", None)
    assert defs.assets["two"].fn(None) == "SELECT 2 AS y"
    assert sys.path == path_before  # the folder is on sys.path only while the file is imported


def test_two_files_with_the_same_name_in_two_folders_load_side_by_side(tmp_path):
    for folder, name in (("a", "first"), ("b", "second")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "defs.py").write_text(ONE_ASSET.replace("one", name))
    first = load_definitions(str(tmp_path / "a" / "defs.py"))
    second = load_definitions(str(tmp_path / "b" / "defs.py"))
    assert list(first.assets) == ["first"] and list(second.assets) == ["second"]
    assert "defs" not in sys.modules
    assert first.assets["first"].fn.__module__ != second.assets["second"].fn.__module__


def test_a_file_that_fails_to_import_names_the_file_and_leaves_nothing_behind(tmp_path):
    broken = tmp_path / "broken_defs.py"
    broken.write_text("import assetboard_no_such_module\n")
    modules_before, path_before = set(sys.modules), list(sys.path)
    with pytest.raises(
        DefinitionError,
        match=rf"cannot load definitions module '{broken}': ModuleNotFoundError: No module named"
        " 'assetboard_no_such_module'",
    ):
        load_definitions(str(broken))
    assert set(sys.modules) == modules_before and sys.path == path_before
