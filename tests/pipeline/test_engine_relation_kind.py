"""builder.relation_kind: what stands under an asset's name decides how it is replaced."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.builder import relation_kind


def test_tables_views_and_absent_names_in_the_main_schema(db_path: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE TABLE orders AS SELECT 1 AS id")
        con.execute("CREATE VIEW recent AS SELECT * FROM orders")
        con.execute('CREATE TABLE "Odd ""name""" (x INTEGER)')
        con.execute("CREATE SCHEMA assetboard")
        con.execute("CREATE TABLE assetboard.runs (x INTEGER)")
        con.execute("CREATE TEMP VIEW scratch AS SELECT 1")
        con.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
        con.execute("CREATE TABLE other.elsewhere (x INTEGER)")

        assert relation_kind(con, "orders") == "table"
        assert relation_kind(con, "recent") == "view"
        assert relation_kind(con, 'Odd "name"') == "table"
        assert relation_kind(con, "ORDERS") == "table"  # DuckDB ignores case, even quoted
        assert relation_kind(con, "missing") is None
        assert relation_kind(con, "runs") is None  # another schema
        assert relation_kind(con, "scratch") is None  # a temporary view
        assert relation_kind(con, "elsewhere") is None  # another database
        assert relation_kind(con, "tables") is None  # information_schema's own views
