"""Cheap assets share one transaction (batches.py) and promise what a build of its own does.

Observable: the assets of a batch commit at one instant (the ledger's committed_at); an asset
that fails, or touches what is not its own, fails exactly as it would alone, with its own
message, while the rest of the batch is built; nothing of a failed build is kept.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pytest

from pipeline import Definitions, asset, materialize, store
from pipeline.errors import PipelineError
from pipeline.states import EventStatus

NAMES = [f"v{i}" for i in range(6)]


def _selects(i: int):
    return lambda con: f"SELECT {i} AS x"


def _defs(kind: str = "view", **overrides) -> Definitions:
    builds = {name: _selects(i) for i, name in enumerate(NAMES)}
    builds.update(overrides)
    return Definitions(assets=[asset(fn, name=name, kind=kind) for name, fn in builds.items()])


def _committed(db: Path) -> dict[str, object]:
    with store.open_store(db) as con:
        return {name: entry.committed_at for name, entry in store.catalog(con).items()}


def _contents(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {n: con.execute(f'SELECT * FROM "{n}"').fetchall() for n in NAMES}


def test_views_never_built_commit_together(db_path: Path) -> None:
    result = materialize(_defs(), db=db_path, max_workers=1)

    assert result.ok
    assert len(set(_committed(db_path).values())) == 1  # one transaction for all six
    assert _contents(db_path) == {n: [(i,)] for i, n in enumerate(NAMES)}
    assert all(e.row_count == 1 and e.duration_s is not None for e in result.assets.values())


def test_tables_batch_once_known_to_be_fast(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = materialize(_defs("table"), db=db_path, max_workers=1)
    assert first.ok
    assert len(set(_committed(db_path).values())) == len(NAMES)  # never built: one by one

    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "60")  # a busy machine must not decide this
    assert materialize(_defs("table"), db=db_path, max_workers=1).ok
    assert len(set(_committed(db_path).values())) == 1


def test_a_slow_asset_is_built_alone(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert materialize(_defs("table"), db=db_path, max_workers=1).ok
    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "0.000001")  # every last build was slower

    assert materialize(_defs("table"), db=db_path, max_workers=1).ok
    assert len(set(_committed(db_path).values())) == len(NAMES)


def test_batching_can_be_turned_off(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "0")  # e.g. functions with side effects

    assert materialize(_defs(), db=db_path, max_workers=1).ok
    assert len(set(_committed(db_path).values())) == len(NAMES)


def test_a_bad_setting_is_refused_before_anything_runs(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "fast")

    with pytest.raises(PipelineError, match=r"ASSETBOARD_BATCH_BELOW='fast' is not a number"):
        materialize(_defs(), db=db_path)
    assert not db_path.exists()


def _fails_alone_and_the_rest_is_built(db: Path, name: str, fn) -> str:
    assert materialize(_defs(), db=db, max_workers=1).ok
    before = _contents(db)

    result = materialize(_defs(**{name: fn}), db=db, max_workers=1)

    failed = result.assets[name]
    assert failed.status == EventStatus.FAILED, failed
    others = [e for e in result.assets.values() if e.asset != name]
    assert all(e.status == EventStatus.MATERIALIZED for e in others), others
    assert _contents(db) == before  # the same SQL rebuilt, the hostile one rolled back
    with store.open_store(db) as con:
        catalog = store.catalog(con)
    assert catalog[name].run_id == 1 and {catalog[e.asset].run_id for e in others} == {2}
    return failed.error or ""


def test_an_error_in_one_asset_fails_that_asset_only(db_path: Path) -> None:
    error = _fails_alone_and_the_rest_is_built(
        db_path, "v3", lambda con: "SELECT CAST('seven' AS INTEGER) AS x"
    )

    assert "Conversion Error" in error and "seven" in error


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("DROP VIEW v0", "returned a DROP statement, not a query"),
        ("INSERT INTO t VALUES (1)", "returned a INSERT statement, not a query"),
        ("SELEC 1", "returned SQL that does not parse"),
        ("SELECT 1 AS x; DROP VIEW v0", "returned 2 SQL statements; return exactly one"),
        ("SELECT 1 AS x WITH NO DATA", "returned SQL that does not parse"),
    ],
)
def test_a_view_returning_anything_but_one_query_is_explained(
    db_path: Path, returned: str, message: str
) -> None:
    """A view's SQL skips the separate parse when it has no ';': the CREATE's own parse refuses
    what is not a query, and the message is the one the separate parse gives."""
    error = _fails_alone_and_the_rest_is_built(db_path, "v3", lambda con: returned)

    assert message in error


def test_an_asset_replacing_one_built_before_it_is_caught(db_path: Path) -> None:
    def hostile(con):  # v0 is built first in the batch; v4 replaces it afterwards
        con.execute("CREATE OR REPLACE VIEW v0 AS SELECT 666 AS x")
        return "SELECT 4 AS x"

    error = _fails_alone_and_the_rest_is_built(db_path, "v4", hostile)

    assert "replaced or altered view main.v0" in error


def test_an_asset_dropping_one_built_after_it_is_caught(db_path: Path) -> None:
    def hostile(con):  # v5 comes after v1 in the batch and would rebuild it anyway
        con.execute("DROP VIEW v5")
        return "SELECT 1 AS x"

    error = _fails_alone_and_the_rest_is_built(db_path, "v1", hostile)

    assert "dropped view main.v5" in error


def test_an_asset_creating_an_object_is_caught(db_path: Path) -> None:
    def hostile(con):
        con.execute("CREATE TABLE stray AS SELECT 1 AS x")
        return "SELECT 2 AS x"

    error = _fails_alone_and_the_rest_is_built(db_path, "v2", hostile)

    assert "created table main.stray" in error
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert not con.execute(
            "SELECT * FROM duckdb_tables() WHERE table_name = 'stray'"
        ).fetchall()


def test_an_asset_hiding_an_error_is_caught(db_path: Path) -> None:
    def hides(con):
        with contextlib.suppress(duckdb.Error):
            con.execute("SELECT * FROM no_such_table")
        return "SELECT 3 AS x"

    error = _fails_alone_and_the_rest_is_built(db_path, "v3", hides)

    assert "aborted" in error.lower()


KINDS_OF_VALUES = """
SELECT * FROM (VALUES
    (1, 'lamp', 12.50::DECIMAL(10, 2), DATE '2024-02-29', TIMESTAMP '2024-03-01 10:00:00',
     [1, 2], {'a': 1}, 'x'::BLOB, INTERVAL 3 DAY, NULL::DOUBLE, '😀 <b>'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1e308, '')
) AS t(id, name, price, day, stamp, ids, s, b, i, d, text)
"""


@pytest.mark.parametrize("kind", ["view", "table"])
def test_a_batch_records_what_a_build_of_its_own_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Row counts, column types and previews do not depend on how the asset was built."""
    defs = Definitions(
        assets=[asset(lambda con: KINDS_OF_VALUES, name=n, kind=kind) for n in ("p", "q")]
        + [asset(lambda con: "SELECT * FROM range(25) AS r(n)", name="many", kind=kind)]
        + [asset(lambda con: "SELECT 1 AS x WHERE false", name="empty", kind=kind)]
    )
    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "60")
    recorded = {}
    for how in ("batched", "alone"):
        db = tmp_path / f"{how}.duckdb"
        if how == "alone":
            monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "0")
        assert materialize(defs, db=db, max_workers=1).ok
        assert materialize(defs, db=db, max_workers=1).ok  # a table batches once built
        with store.open_store(db) as con:
            catalog = store.catalog(con)
        recorded[how] = {name: (e.row_count, e.columns, e.preview) for name, e in catalog.items()}
        committed = {e.committed_at for e in catalog.values()}
        assert len(committed) == (1 if how == "batched" else len(catalog))

    assert recorded["batched"] == recorded["alone"]
    assert recorded["alone"]["many"][0] == 25 and len(recorded["alone"]["many"][2]) == 10
    assert recorded["alone"]["empty"][:2] == (0, [["x", "INTEGER"]])


@pytest.mark.parametrize("position", ["v0", "v3"])
def test_an_asset_running_statements_of_its_own_still_shares_the_transaction(
    db_path: Path, position: str
) -> None:
    """Reading upstream data into pandas runs statements: harmless, and checked in full."""

    def reads_first(con):
        (n,) = con.execute("SELECT count(*) FROM duckdb_views()").fetchall()[0]
        con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")  # temporary: free
        return f"SELECT {int(n > -1)} AS x"

    result = materialize(_defs(**{position: reads_first}), db=db_path, max_workers=1)

    assert result.ok, result.assets
    assert len(set(_committed(db_path).values())) == 1
    assert _contents(db_path)[position] == [(1,)]
