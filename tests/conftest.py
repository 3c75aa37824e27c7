"""Fixtures shared by every test package: temporary warehouses and the tutorial's real files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_DATA = ROOT.parent / "shared" / "tutorial-data"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh DuckDB file per test: real files, never :memory:, as the app uses them."""
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def tutorial_dir() -> Path:
    """The tutorial's own CSVs, read where they live in ../shared/ (never copied)."""
    if not (TUTORIAL_DATA / "sales_data.csv").is_file():
        pytest.skip(f"tutorial data not found at {TUTORIAL_DATA}: ../shared/ is absent here")
    return TUTORIAL_DATA
