"""What Dagster shows of a team's definitions: the same names, groups, dependencies, tags,
kinds, code versions, partitions, backfill policies and checks."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest

dg = pytest.importorskip(
    "dagster", reason="Dagster is not installed: `make test` installs requirements-dagster.txt"
)

from pipeline import (  # noqa: E402
    BackfillPolicy,
    DailyPartitions,
    Definitions,
    MonthlyPartitions,
    StaticPartitions,
    WeeklyPartitions,
)
from pipeline.examples.sales import build_definitions  # noqa: E402
from pipeline.integrations.dagster import dagster_partitions, to_dagster  # noqa: E402
from pipeline.warehouse import DEFAULT_DB  # noqa: E402


@pytest.fixture(scope="module")
def sales() -> Definitions:
    return build_definitions("/nonexistent")  # nothing is read until an asset is built


@pytest.fixture(scope="module")
def graph(sales):
    return to_dagster(sales, db="/tmp/never-opened.duckdb").resolve_asset_graph()


def test_every_asset_keeps_its_key_group_deps_and_description(sales, graph):
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == set(sales.assets)
    for name, asset in sales.assets.items():
        node = graph.get(dg.AssetKey(name))
        assert node.group_name == asset.group
        assert {key.to_user_string() for key in node.parent_keys} == set(asset.deps)
        assert node.description == asset.description
        assert node.code_version == asset.code_version


def test_tags_and_kinds_say_where_and_what_it_is(graph):
    products = graph.get(dg.AssetKey("products"))
    assert products.tags["source"] == "csv"
    assert {"duckdb", "table"} <= set(products.kinds)


def test_every_check_is_a_dagster_check_of_its_asset(sales, graph):
    found = {
        f"{key.asset_key.to_user_string()}.{key.name}": graph.get_check_spec(key)
        for key in graph.asset_check_keys
    }
    assert set(found) == {check.key for check in sales.checks}
    for check in sales.checks:
        spec = found[check.key]
        assert spec.blocking == check.blocking
        assert spec.metadata["severity"] == check.severity
        assert {d.asset_key.to_user_string() for d in spec.additional_deps} == set(
            check.additional_deps
        )
    assert found["products.product_id_unique"].blocking


def test_partitions_and_backfill_policy_carry_over(graph):
    monthly = graph.get(dg.AssetKey("monthly_sales_performance"))
    assert isinstance(monthly.partitions_def, dg.MonthlyPartitionsDefinition)
    assert monthly.backfill_policy == dg.BackfillPolicy.single_run()
    categories = graph.get(dg.AssetKey("product_performance"))
    assert categories.partitions_def.get_partition_keys() == [
        "Electronics",
        "Books",
        "Home and Garden",
        "Clothing",
    ]
    assert categories.backfill_policy is None  # one partition per run, as natively


@pytest.mark.parametrize(
    "partitions",
    [
        MonthlyPartitions(start="2024-01-01", end="2026-01-01"),
        MonthlyPartitions(start="2025-11-01"),
        MonthlyPartitions(start="2025-11-01", end_offset=1),
        WeeklyPartitions(start="2026-10-04"),
        WeeklyPartitions(start="2026-01-04", end="2026-03-01"),
        DailyPartitions(start="2026-11-20"),
        DailyPartitions(start="2026-11-20", end="2026-11-25"),
        StaticPartitions(["EU", "US", "Home and Garden"]),
    ],
    ids=repr,
)
def test_both_engines_list_the_same_partition_keys(partitions):
    now = datetime(2026, 12, 1, 12)
    converted = dagster_partitions(partitions)
    assert converted.get_partition_keys(current_time=now) == partitions.get_partition_keys(
        now.date()
    )


def test_the_backfill_policy_of_many_partitions_per_run(sales):
    from pipeline.integrations.dagster import dagster_backfill_policy

    assert dagster_backfill_policy(BackfillPolicy.multi_run(3)) == dg.BackfillPolicy.multi_run(3)
    assert dagster_backfill_policy(None) is None


def test_the_module_dagster_loads_reads_its_definitions_and_file_from_the_environment(tmp_path):
    code = (
        "from pipeline.integrations.dagster_defs import defs;"
        "print(defs.resources['duckdb'].database);"
        "print(sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()))"
    )
    defs_file = tmp_path / "tiny.py"
    defs_file.write_text(
        "from pipeline import asset\n\n\n@asset\ndef tiny(con):\n    return 'SELECT 1 AS x'\n"
    )
    env = {"ASSETBOARD_DEFS": str(defs_file), "ASSETBOARD_DB": str(tmp_path / "w.duckdb")}
    shown = _python(code, env)
    assert shown.splitlines() == [str(tmp_path / "w.duckdb"), "['tiny']"]
    default = _python(code, {}).splitlines()
    assert default[0] == DEFAULT_DB
    assert "joined_data" in default[1]


def test_importing_the_pipeline_never_imports_dagster():
    code = (
        "import sys, pipeline, pipeline.engine, pipeline.examples.sales, pipeline.integrations;"
        "print('dagster' in sys.modules)"
    )
    assert _python(code, {}).strip() == "False"


def _python(code: str, env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBOARD_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
