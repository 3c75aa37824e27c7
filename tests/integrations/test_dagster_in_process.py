"""The sales example run by Dagster in this process agrees with the native engine: the same
tables with the same rows, the same check verdicts, the same assets built and skipped."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

dg = pytest.importorskip(
    "dagster", reason="Dagster is not installed: `make test` installs requirements-dagster.txt"
)

from dagster import DagsterEventType  # noqa: E402
from dagster_env import (  # noqa: E402
    UNPARTITIONED,
    blocked_data,
    clean_data,
    contents,
    dagster_outcome,
    native_outcome,
)

from pipeline import (  # noqa: E402
    AssetCheckSpec,
    CheckResult,
    Definitions,
    PartitionRequest,
    asset,
    asset_check,
    materialize,
    multi_asset_check,
)
from pipeline.datagen import generate  # noqa: E402
from pipeline.examples.sales import build_definitions  # noqa: E402
from pipeline.integrations.dagster import to_dagster  # noqa: E402
from pipeline.warehouse import run_lock  # noqa: E402

READS_PRODUCTS = "sales_data.product_id_references_products"


def without(verdicts: dict, key: str) -> dict:
    assert key in verdicts
    return {k: v for k, v in verdicts.items() if k != key}


def run_dagster(
    data: Path,
    db: Path,
    select: list[str],
    partition: str | None = None,
    tags: dict | None = None,
    instance=None,
):
    """Dagster's run of `select` (with their checks) on `db`, in this process."""
    defs = to_dagster(build_definitions(data), db=db)
    return dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(*select),
        resources=defs.resources,
        partition_key=partition,
        tags=tags,
        raise_on_error=False,
        instance=instance,
    )


@pytest.fixture
def dbs(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse per engine."""
    return tmp_path / "native.duckdb", tmp_path / "dagster.duckdb"


def test_clean_data_gives_the_same_tables_and_verdicts(tmp_path, dbs):
    data = clean_data(tmp_path / "csv")
    native_db, dagster_db = dbs
    native = native_outcome(materialize(build_definitions(data), UNPARTITIONED, native_db))
    run = run_dagster(data, dagster_db, UNPARTITIONED)
    assert run.success
    assert dagster_outcome(run.all_events) == native
    assert native.built == set(UNPARTITIONED)
    assert len(native.verdicts) == 12 and all(passed for passed, _ in native.verdicts.values())
    assert contents(dagster_db, UNPARTITIONED) == contents(native_db, UNPARTITIONED)


def test_a_failing_blocking_check_skips_the_same_assets(tmp_path, dbs):
    data = blocked_data(tmp_path / "csv")
    native_db, dagster_db = dbs
    native = native_outcome(materialize(build_definitions(data), UNPARTITIONED, native_db))
    run = run_dagster(data, dagster_db, UNPARTITIONED)
    assert not run.success  # Dagster fails the step whose blocking check failed
    dagster = dagster_outcome(run.all_events)
    assert dagster.built == native.built
    # The one difference: Dagster skips everything waiting on a failed step, so a check that
    # reads the blocked asset (products) from another asset is not run; natively it is.
    assert dagster.verdicts == without(native.verdicts, READS_PRODUCTS)
    assert native.built == {"products", "sales_reps", "sales_data"}  # joined_data skipped
    assert native.verdicts["products.product_id_unique"] == (False, "error")
    orphans = native.verdicts["sales_data.product_id_references_products"]
    assert orphans == (False, "error")
    assert contents(dagster_db, UNPARTITIONED) == contents(native_db, UNPARTITIONED)
    assert contents(dagster_db, ["joined_data"]) == {"joined_data": None}


def test_orphans_fail_their_checks_alike_and_build_everything(tmp_path, dbs):
    data = tmp_path / "csv"
    generate(300, data, orphan_rate=0.1, seed=3)
    native_db, dagster_db = dbs
    native = native_outcome(materialize(build_definitions(data), UNPARTITIONED, native_db))
    run = run_dagster(data, dagster_db, UNPARTITIONED)
    assert run.success  # failed checks that are not blocking fail no Dagster step
    assert dagster_outcome(run.all_events) == native
    assert native.built == set(UNPARTITIONED)
    assert native.verdicts["joined_data.missing_dimension_check"] == (False, "error")
    assert contents(dagster_db, UNPARTITIONED) == contents(native_db, UNPARTITIONED)


def test_the_failing_row_count_reaches_dagster(tmp_path, dbs):
    data = blocked_data(tmp_path / "csv")
    native_db, dagster_db = dbs
    native = materialize(build_definitions(data), ["products"], native_db)
    run = run_dagster(data, dagster_db, ["products"])
    (unique,) = [c for c in native.checks if c.check_name == "product_id_unique"]
    (evaluation,) = [
        e.event_specific_data
        for e in run.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "product_id_unique"
    ]
    assert unique.failing_count == 1
    assert evaluation.metadata["failing_count"].value == unique.failing_count
    assert evaluation.metadata["outcome"].value == "failed"
    assert evaluation.blocking


def test_one_static_partition_builds_only_its_rows(tmp_path, dbs):
    data = clean_data(tmp_path / "csv")
    native_db, dagster_db = dbs
    defs = build_definitions(data)
    materialize(defs, UNPARTITIONED, native_db)
    assert run_dagster(data, dagster_db, UNPARTITIONED).success
    native = native_outcome(
        materialize(
            defs, ["product_performance"], native_db, partitions=PartitionRequest(keys=["Books"])
        )
    )
    run = run_dagster(data, dagster_db, ["product_performance"], partition="Books")
    assert run.success
    assert dagster_outcome(run.all_events) == native
    built = contents(dagster_db, ["product_performance"])
    assert built == contents(native_db, ["product_performance"])
    assert {row[0] for row in built["product_performance"] or []} == {"Books"}


def test_a_range_of_months_is_one_single_run_backfill(tmp_path, dbs):
    data = clean_data(tmp_path / "csv")
    native_db, dagster_db = dbs
    defs = build_definitions(data)
    materialize(defs, UNPARTITIONED, native_db)
    assert run_dagster(data, dagster_db, UNPARTITIONED).success
    first, last = "2024-02-01", "2024-04-01"
    native = native_outcome(
        materialize(
            defs,
            ["monthly_sales_performance"],
            native_db,
            partitions=PartitionRequest(first=first, last=last),
        )
    )
    range_tags = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }
    run = run_dagster(data, dagster_db, ["monthly_sales_performance"], tags=range_tags)
    assert run.success
    assert dagster_outcome(run.all_events) == native
    built = contents(dagster_db, ["monthly_sales_performance"])
    assert built == contents(native_db, ["monthly_sales_performance"])
    months = {str(row[0]) for row in built["monthly_sales_performance"] or []}
    assert months == {"2024-02-01", "2024-03-01", "2024-04-01"}


def test_a_step_finding_the_warehouse_held_waits_for_it(tmp_path):
    """A native run (or another Dagster run) holding the file: the step asks Dagster to retry
    it, and builds once the file is free."""
    data = clean_data(tmp_path / "csv")
    db = tmp_path / "dagster.duckdb"
    held, retried = threading.Event(), threading.Event()
    (tmp_path / "dagster_home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home"))

    def native_run() -> None:
        """Hold the run lock until the Dagster run has asked to retry its step."""
        with run_lock(db, "a native run"):
            held.set()
            deadline = time.monotonic() + 60
            while not retried.is_set() and time.monotonic() < deadline:
                if any(
                    instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY)
                    for run in instance.get_runs()
                ):
                    retried.set()
                retried.wait(0.1)

    holder = threading.Thread(target=native_run)
    holder.start()
    assert held.wait(timeout=10)
    try:
        run = run_dagster(data, db, ["products"], instance=instance)
    finally:
        holder.join()
    assert retried.is_set()
    assert run.success
    assert dagster_outcome(run.all_events).built == {"products"}


def test_a_check_that_raises_fails_as_an_error_with_its_message(tmp_path):
    """Natively a check that raises fails the run whatever its severity; Dagster shows it
    failed with ERROR severity and the message."""

    @asset
    def numbers(con):
        return "SELECT 1 AS n"

    @asset_check(asset=numbers, severity="warn")
    def broken(con):
        raise ValueError("the threshold file is missing")

    defs = to_dagster(Definitions([numbers], [broken]), db=tmp_path / "w.duckdb")
    run = dg.materialize([*defs.assets], resources=defs.resources, raise_on_error=False)
    (evaluation,) = [
        e.event_specific_data
        for e in run.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert run.success  # not blocking: the step stands
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["outcome"].value == "error"
    assert "the threshold file is missing" in evaluation.metadata["error"].value


def test_a_multi_asset_check_on_two_assets_is_one_op_called_once(tmp_path):
    """As natively and as Dagster's own: the function runs once, after both assets."""
    calls = []

    @asset
    def a(con):
        return "SELECT 1 AS x"

    @asset
    def b(con):
        return "SELECT 2 AS x"

    @multi_asset_check(specs=[AssetCheckSpec("one", asset=a), AssetCheckSpec("one", asset=b)])
    def both(con):
        calls.append("both")
        for name in ("a", "b"):
            (x,) = con.execute(f"SELECT x FROM {name}").fetchone()
            yield CheckResult(check_name="one", asset=name, passed=x == 1)

    defs = to_dagster(Definitions([a, b], [both]), db=tmp_path / "w.duckdb")
    run = dg.materialize(
        [*defs.assets, *defs.asset_checks], resources=defs.resources, raise_on_error=False
    )
    verdicts = {
        e.event_specific_data.asset_key.path[0]: e.event_specific_data.passed
        for e in run.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert calls == ["both"]
    assert verdicts == {"a": True, "b": False}
