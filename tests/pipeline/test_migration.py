"""A history written by version 1 (inside the DuckDB file) is migrated and read as before."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipeline import Definitions, asset, materialize, store
from pipeline.states import EventStatus, RunStatus
from pipeline.status import asset_statuses

# The layout Assetboard 0.1 wrote into the `assetboard` schema of the warehouse itself.
V1_DDL = """
CREATE SCHEMA IF NOT EXISTS assetboard;
CREATE TABLE IF NOT EXISTS assetboard.meta (key VARCHAR, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS assetboard.run_ids START 1;
CREATE TABLE IF NOT EXISTS assetboard.runs (
    run_id BIGINT, kind VARCHAR, selection VARCHAR, status VARCHAR,
    started_at TIMESTAMP, ended_at TIMESTAMP, pid INTEGER, planned VARCHAR, message VARCHAR,
    assets_materialized INTEGER, assets_failed INTEGER, assets_skipped INTEGER,
    checks_passed INTEGER, checks_warned INTEGER, checks_failed INTEGER);
CREATE TABLE IF NOT EXISTS assetboard.asset_events (
    run_id BIGINT, asset VARCHAR, status VARCHAR, kind VARCHAR,
    started_at TIMESTAMP, ended_at TIMESTAMP, duration_s DOUBLE, row_count BIGINT,
    columns VARCHAR, preview VARCHAR, code_version VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS assetboard.check_results (
    run_id BIGINT, asset VARCHAR, check_name VARCHAR, outcome VARCHAR, severity VARCHAR,
    blocking BOOLEAN, description VARCHAR, started_at TIMESTAMP, duration_s DOUBLE,
    observed_value DOUBLE, threshold VARCHAR, failing_count BIGINT, failing_sample VARCHAR,
    metadata VARCHAR, sql VARCHAR, error VARCHAR);
"""
T1, T2 = datetime(2026, 11, 1, 9, 0), datetime(2026, 11, 1, 9, 1)


def _defs() -> Definitions:
    return Definitions(
        assets=[
            asset(lambda con: "SELECT 1 AS n", name="kept", code_version="v1"),
            asset(lambda con: "SELECT 2 AS n", name="dropped", code_version="v1"),
        ]
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, **row: object) -> None:
    con.execute(
        f"INSERT INTO assetboard.{table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


@pytest.fixture
def v1_warehouse(db_path: Path) -> Path:
    """Two runs: run 1 built both assets; run 2 died mid-way. `dropped` was dropped by hand."""
    with duckdb.connect(str(db_path)) as con:
        con.execute(V1_DDL)
        con.execute("INSERT INTO assetboard.meta VALUES ('schema_version', '1')")
        con.execute("CREATE TABLE kept AS SELECT * FROM range(5) t(n)")  # 5 rows, not 3
        run = {"kind": "materialize", "pid": 1, "message": None}
        _insert(con, "runs", run_id=1, status="success", started_at=T1, ended_at=T2,
                planned='["kept", "dropped"]', assets_materialized=2, checks_passed=1,
                checks_failed=1, **run)  # fmt: skip
        _insert(con, "runs", run_id=2, selection="kept", status="running", started_at=T2,
                planned='["kept"]', **run)  # fmt: skip
        for name in ("kept", "dropped"):
            _insert(con, "asset_events", run_id=1, asset=name, status="materialized",
                    kind="table", started_at=T1, ended_at=T2, row_count=3,
                    columns='[["n", "BIGINT"]]', preview="[]", code_version="v1")  # fmt: skip
        _insert(con, "asset_events", run_id=2, asset="kept", status="running", kind="table",
                started_at=T2, code_version="v1")  # fmt: skip
        _insert(con, "check_results", run_id=1, asset="kept", check_name="positive",
                outcome="passed", severity="error", blocking=False, started_at=T1,
                failing_sample="[]", metadata=json.dumps({"rows": 5}))  # fmt: skip
        _insert(con, "check_results", run_id=1, asset="kept", check_name="small",
                outcome="error", severity="warn", blocking=False, started_at=T1,
                failing_sample="[]", metadata="{}", error="Binder Error: no column")  # fmt: skip
    return db_path


def test_a_reader_migrates_a_v1_history_once_and_reads_it_as_it_was(v1_warehouse: Path) -> None:
    with store.open_store(v1_warehouse) as con:
        runs = {run.run_id: run for run in store.list_runs(con)}
        first = store.run_events(con, 1)
        results = store.run_check_results(con, 1)
        catalog = store.catalog(con)
        statuses = {n: s.status for n, s in asset_statuses(_defs(), con).items()}
    assert runs[1].status == RunStatus.SUCCESS and runs[1].planned == ["kept", "dropped"]
    assert (runs[1].checks_passed, runs[1].checks_errored) == (1, 1)  # v1 counted errors as failed
    assert runs[2].status == RunStatus.INTERRUPTED  # it died: repaired on the way in
    assert {e.asset: e.status for e in first} == {"kept": "materialized", "dropped": "materialized"}
    assert results[0].metadata == {"rows": 5} and results[1].error.startswith("Binder Error")
    # The catalog is what the file holds: `kept` with its real row count, `dropped` not at all.
    assert set(catalog) == {"kept"} and catalog["kept"].row_count == 5
    assert statuses == {"kept": "fresh", "dropped": "never"}
    with duckdb.connect(str(v1_warehouse), read_only=True) as con:
        left = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'assetboard'"
        ).fetchall()
    assert left == [("builds",)]  # the v1 tables are gone from the warehouse


def test_a_run_on_a_v1_warehouse_migrates_first_and_continues_the_run_numbers(
    v1_warehouse: Path,
) -> None:
    result = materialize(_defs(), db=v1_warehouse)
    assert result.ok and result.run_id == 3
    with store.open_store(v1_warehouse) as con:
        assert [run.run_id for run in store.list_runs(con)] == [3, 2, 1]
        assert store.latest_events(con, EventStatus.MATERIALIZED)["kept"].run_id == 3
