"""Asset code cannot damage other assets or the history, and a failed build changes nothing.

Each case is something a tester did: it fails the asset that did it, names what it did, and
leaves every table, view and ledger row exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline import Definitions, asset, materialize, store
from pipeline.states import EventStatus


def _defs(**overrides) -> Definitions:
    builds = {
        "products": lambda con: "SELECT 1 AS id, 'lamp' AS name",
        "dates": lambda con: "SELECT '2024-01-01' AS s",
        "parsed": lambda con: "SELECT CAST(s AS DATE) AS d FROM dates",
        "victim": lambda con: "SELECT 1 AS x",
        **overrides,
    }
    return Definitions(
        assets=[
            asset(builds["products"], name="products"),
            asset(builds["dates"], name="dates"),
            asset(builds["parsed"], name="parsed", deps=["dates"], kind="view"),
            asset(builds["victim"], name="victim", deps=["products"]),
        ]
    )


def _snapshot(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            name: con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
            for name in ("products", "parsed", "victim")
        } | {"ledger": con.execute("SELECT * FROM assetboard.builds ORDER BY ALL").fetchall()}


@pytest.fixture
def built(db_path: Path) -> Path:
    assert materialize(_defs(), db=db_path).ok
    return db_path


def _attempt(db: Path, name: str, fn, kind: str | None = None) -> str:
    """Rebuild `name` with `fn`; the build must fail and leave everything as it was."""
    before = _snapshot(db)
    defs = _defs(**{name: fn})
    result = materialize(defs, db=db, select=name)
    event = result.assets[name]
    assert event.status == EventStatus.FAILED, event
    assert _snapshot(db) == before
    with store.open_store(db) as con:
        assert store.catalog(con)[name].run_id == 1  # still the first build, as recorded
    return event.error


def test_a_second_statement_in_returned_sql_is_refused(built: Path) -> None:
    error = _attempt(built, "victim", lambda con: "SELECT 1 AS x; DROP TABLE products")
    assert "returned 2 SQL statements" in error


def test_dropping_another_asset_inside_the_function_is_rolled_back(built: Path) -> None:
    def drops(con):
        con.execute("DROP TABLE products")

    error = _attempt(built, "victim", drops)
    assert "dropped table main.products" in error


def test_replacing_or_altering_another_asset_is_rolled_back(built: Path) -> None:
    def alters(con):
        con.execute("ALTER TABLE products ADD COLUMN evil INTEGER")
        return "SELECT 1 AS x"

    assert "altered table main.products" in _attempt(built, "victim", alters)

    def replaces(con):
        con.execute("CREATE OR REPLACE TABLE products AS SELECT 666 AS id")
        return "SELECT 1 AS x"

    assert "replaced or altered table main.products" in _attempt(built, "victim", replaces)


def test_touching_the_ledger_is_rolled_back(built: Path) -> None:
    def erases(con):
        con.execute("DELETE FROM assetboard.builds")
        return "SELECT 1 AS x"

    assert "changed Assetboard's ledger" in _attempt(built, "victim", erases)


def test_creating_other_objects_is_refused_but_temporary_ones_are_free(
    built: Path, db_path: Path
) -> None:
    def creates(con):
        con.execute("CREATE TABLE staging AS SELECT 1 AS x")
        return "SELECT * FROM staging"

    error = _attempt(built, "victim", creates)
    assert "created table main.staging" in error and "CREATE TEMP TABLE" in error

    def uses_temp(con):
        con.execute("CREATE TEMP TABLE staging AS SELECT 2 AS x")
        return "SELECT * FROM staging"

    assert materialize(_defs(victim=uses_temp), db=db_path, select="victim").ok


def test_a_commit_inside_the_function_is_detected(built: Path) -> None:
    def commits(con):
        con.execute("COMMIT")
        return "SELECT 1 AS x"

    result = materialize(_defs(victim=commits), db=built, select="victim")
    assert result.assets["victim"].status == EventStatus.FAILED
    assert "ended the engine's transaction" in result.assets["victim"].error


def test_a_view_that_fails_when_read_keeps_the_previous_view(built: Path) -> None:
    def bad_dates(con):
        return "SELECT CAST(s AS DATE) AS d FROM (SELECT 'not a date' AS s)"

    error = _attempt(built, "parsed", bad_dates)
    assert "Conversion Error" in error


def test_a_view_made_from_a_dataframe_is_refused(built: Path) -> None:
    def from_frame(con):
        return con.from_df(pd.DataFrame({"d": [1, 2]}))

    error = _attempt(built, "parsed", from_frame)
    assert "cannot keep the object alive" in error


def test_an_error_message_of_any_size_is_stored_capped(built: Path) -> None:
    def shouts(con):
        raise ValueError("x" * 5_000_000)

    error = _attempt(built, "victim", shouts)
    with store.open_store(built) as con:
        stored = store.latest_events(con, EventStatus.FAILED)["victim"].error
    whole = len("ValueError: ") + 5_000_000
    assert stored == error and stored.endswith(f"… [{whole - 9_960:,} characters cut]")
    assert len(stored) <= 10_000


def test_text_python_cannot_encode_is_stored_escaped_not_fatal(built: Path) -> None:
    """A lone surrogate in an error or a check's metadata once made the history write fail."""
    from pipeline import CheckResult, asset_check

    def lone(con):
        raise ValueError("bad \ud800 byte")

    @asset_check(asset="products")
    def odd_metadata(con):
        return CheckResult(passed=True, metadata={"note": "odd \udcff"})

    defs = Definitions(assets=_defs(victim=lone).assets.values(), checks=[odd_metadata])
    result = materialize(defs, db=built)
    assert result.assets["victim"].status == EventStatus.FAILED
    with store.open_store(built) as con:
        error = store.latest_events(con, EventStatus.FAILED)["victim"].error
        (check,) = store.run_check_results(con, result.run_id)
    assert error == "ValueError: bad \\ud800 byte"  # free text: kept as its escape
    assert check.metadata == {"note": "odd \udcff"}  # JSON: its \u escape reads back as it was
