"""The benchmark harness at 100 rows, so it cannot rot; and the plain script's parity with the
engine it is the floor for. Nothing here asserts a timing: numbers only go to BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench import (
    bare_duckdb,
    check_sql,
    costs,
    datasets,
    plain_duckdb,
    plain_views,
    profiles,
    snapshot_parts,
    views,
)
from bench.__main__ import main as bench_main
from bench.measure import run_process
from pipeline import ledger, store
from pipeline.datagen import generate
from pipeline.definitions import Definitions
from pipeline.engine import materialize
from pipeline.examples import sales
from pipeline.selection import select

ROOT = Path(__file__).resolve().parents[2]
TABLES = plain_duckdb.TABLES


@pytest.fixture(scope="module")
def csv_100(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return datasets.ensure(100, tmp_path_factory.mktemp("bench-data"))


def _tables(db: Path) -> dict[str, tuple[int, list[tuple[str, str]]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            name: (
                con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0],
                [(row[0], row[1]) for row in con.execute(f'DESCRIBE "{name}"').fetchall()],
            )
            for name in TABLES
        }


def _outcomes(db: Path) -> dict[str, str]:
    with store.open_store(db) as con:
        rows = con.execute("SELECT asset || '.' || check_name, outcome FROM check_results")
        return dict(rows.fetchall())


def test_harness_runs_every_part_at_100_rows(tmp_path: Path) -> None:
    out = tmp_path / "results"
    argv = ["--sizes", "100", "--reps", "1", "--warmup", "0", "--resolver-assets", "300"]
    argv += ["--resolver-edges", "900", "--resolver-reps", "1", "--graph-assets", "40"]
    argv += ["--graph-page-sizes", "40", "--graph-page-reps", "1"]
    argv += ["--views", "30", "--views-layers", "5", "--views-reps", "1"]
    argv += ["--dashboard-sizes", "100", "--orphan-rate", "0.2"]
    argv += ["--data-dir", str(tmp_path / "data"), "--out", str(out)]

    assert bench_main(argv) == 0

    [report] = out.glob("bench-*.md")
    text = report.read_text()
    for heading in ("## Machine", "vs plain DuckDB", "## Resolver and selection", "## Raw loads"):
        assert heading in text
    assert "## Graph page at 40 assets" in text and "## Dashboard pages" in text
    assert "## Graph page in Chromium" in text
    for heading in (
        "vs the plain and the bare floors",
        "## Peak memory against the bare floor",
        "## 30 view assets vs a plain script",
        "## Command-line start: `--help` and `list`",
        "## A run started from the dashboard vs the command line",
        "## Where the time goes",
        "### Imports of `python -m pipeline`",
        "## Partitions at 100 rows",
        "## What checks and profiles add, at 100 rows",
        "## The same pipeline natively and through Dagster",
        "## What automation costs, at 100 rows",
    ):
        assert heading in text
    results = json.loads(report.with_suffix(".json").read_text())
    row = results["materialize"]["100"]
    assert row["engine"]["wall_s"]["n"] == 1 and row["wall_ratio"] > 0 and row["rss_ratio"] > 0
    assert results["resolver"]["sizes"]["select `*`"] == 300
    assert (tmp_path / "data" / "rows-100" / ".complete").is_file()
    assert (tmp_path / "data" / "rows-100-orphans-20pct" / ".complete").is_file()
    floors = results["floors"]["100"]
    assert floors["bare"]["wall_s"]["n"] == 1 and floors["wall_vs_bare"] > 0
    assert set(results["memory"]) == {"clean", "20% orphans"}
    views2000 = results["views2000"]
    assert views2000["views"] == 30 and views2000["wall_ratio"] > 0
    assert views2000["plain_read"]["wall_s"]["n"] == 1 and views2000["wall_ratio_read"] > 0
    assert set(results["cli"]["sides"]) == {
        "python -c pass",
        'python -c "import duckdb"',
        "--help",
        "list",
    }
    dashboard = results["dashboard-run"]["100"]
    assert "skipped" in dashboard or dashboard["dashboard_click_to_shown_s"]["n"] == 1
    sales = results["costs"]["sales"]
    labels = {timer["label"] for timer in sales["timers"]}
    assert {"pipeline main()", profiles.IMPORTS} <= labels
    assert results["costs"]["views"]["runs"] == 1
    dagster = results["dagster"]
    assert "skipped" in dagster or dagster["100"]["dagster_cli"]["wall_s"]["n"] == 1
    automation = results["automation"]
    assert automation["tick_run_s"]["n"] == 1 and automation["idle_tick_s"]["n"] >= 20
    listed = {timer["label"] for timer in results["costs"]["list"]["timers"]}
    assert "pipeline main()" in listed


def test_generated_data_is_reused_and_a_half_written_folder_is_redone(tmp_path: Path) -> None:
    folder = datasets.ensure(100, tmp_path)
    stamp = (folder / ".complete").stat().st_mtime_ns
    assert datasets.ensure(100, tmp_path) == folder
    assert (folder / ".complete").stat().st_mtime_ns == stamp

    (folder / ".complete").unlink()
    (folder / "sales_data.csv").write_text("date,rep_id\n")  # as if interrupted half-way
    datasets.ensure(100, tmp_path)
    assert len((folder / "sales_data.csv").read_text().splitlines()) == 101


def test_row_counts_parse_and_bad_ones_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert [datasets.parse_rows(t) for t in ("100", "100k", "1M", "10_000_000")] == [
        100,
        100_000,
        1_000_000,
        10_000_000,
    ]
    with pytest.raises(SystemExit) as exc:
        bench_main(["--sizes", "10x"])
    assert exc.value.code == 2
    assert "'10x' is not a row count: use e.g. 100, 100k, 1M or 10M" in capsys.readouterr().err


def test_plain_script_builds_the_same_tables_and_checks_as_the_engine(
    tmp_path: Path, csv_100: Path
) -> None:
    plain_db, engine_db = tmp_path / "plain.duckdb", tmp_path / "engine.duckdb"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "plain_duckdb.py"), str(csv_100), str(plain_db)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert materialize(sales.build_definitions(csv_100), datasets.SELECTION, db=engine_db).ok

    assert f"{len(TABLES)} tables" in done.stdout
    assert _tables(plain_db) == _tables(engine_db)
    assert _outcomes(plain_db) == _outcomes(engine_db)
    assert set(_outcomes(plain_db).values()) == {"passed"}


def test_plain_script_records_failing_rows_where_the_engine_does(tmp_path: Path) -> None:
    generate(200, tmp_path / "csv", orphan_rate=0.2, seed=1)
    plain_db, engine_db = tmp_path / "plain.duckdb", tmp_path / "engine.duckdb"
    plain_duckdb.run(tmp_path / "csv", plain_db)
    materialize(sales.build_definitions(tmp_path / "csv"), datasets.SELECTION, db=engine_db)

    failing = {key for key, outcome in _outcomes(engine_db).items() if outcome != "passed"}
    assert failing and failing == {k for k, o in _outcomes(plain_db).items() if o != "passed"}
    with store.open_store(plain_db) as con:
        counts = con.execute(
            "SELECT min(failing_count), max(json_array_length(failing_sample))"
            " FROM check_results WHERE outcome = 'failed'"
        ).fetchone()
    assert counts[0] > 0 and counts[1] == plain_duckdb.FAILING_SAMPLE


def _mirrored_levels(defs: Definitions) -> list[list[str]]:
    """The example's build levels, only the assets the floors build (bench.datasets.SELECTION)."""
    mirrored = select(defs, datasets.SELECTION)
    levels = [[name for name in level if name in mirrored] for level in defs.graph.levels()]
    return [level for level in levels if level]


def test_plain_script_mirrors_the_sales_example_sql(csv_100: Path) -> None:
    """When this fails, the example changed: sync bench/plain_duckdb.py (see its docstring)."""
    defs = sales.build_definitions(csv_100)
    assert plain_duckdb.CSV_COLUMNS == sales.CSV_COLUMNS
    assert plain_duckdb.JOINED_SQL == sales.JOINED_SQL
    assert [list(level) for level in plain_duckdb.LEVELS] == _mirrored_levels(defs)
    assert plain_duckdb.HISTORY_DDL.strip() == store.schema._DDL.strip()
    assert plain_duckdb.LEDGER_DDL.strip() == ledger._DDL.strip()
    recorded = json.loads(check_sql.as_json(check_sql.capture(csv_100)))
    assert plain_duckdb.load_checks() == recorded, (
        "the sales example's checks changed: run `python -m bench.check_sql --write`"
    )


def test_cli_start_imports_neither_jinja2_nor_pandas() -> None:
    """`python -m pipeline` start-up is part of every run (BENCHMARKS.md, 100 rows)."""
    probe = "import sys, pipeline.__main__; print(sorted({'jinja2', 'pandas'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_bare_script_builds_the_same_tables_and_check_outcomes_as_the_engine(
    tmp_path: Path, csv_100: Path
) -> None:
    generate(200, tmp_path / "orphans", orphan_rate=0.2, seed=1)
    for csv_dir in (csv_100, tmp_path / "orphans"):
        bare_db, engine_db = tmp_path / "bare.duckdb", tmp_path / "engine.duckdb"
        failing = bare_duckdb.run(csv_dir, bare_db)
        materialize(sales.build_definitions(csv_dir), datasets.SELECTION, db=engine_db)

        assert _tables(bare_db) == _tables(engine_db)
        engine_failing = [o for o in _outcomes(engine_db).values() if o != "passed"]
        assert failing == len(engine_failing)
        for leftover in (bare_db, engine_db):
            leftover.unlink()
        store.history_path(engine_db).unlink()
    assert failing > 0  # the orphan rows were found


def test_bare_script_mirrors_the_sales_example_sql(csv_100: Path) -> None:
    """When this fails, the example changed: sync bench/bare_duckdb.py (see its docstring)."""
    defs = sales.build_definitions(csv_100)
    assert bare_duckdb.CSV_COLUMNS == sales.CSV_COLUMNS
    assert bare_duckdb.JOINED_SQL == sales.JOINED_SQL
    assert [list(level) for level in bare_duckdb.LEVELS] == _mirrored_levels(defs)
    assert bare_duckdb.CHECKS_FILE == plain_duckdb.CHECKS_FILE


def test_plain_views_script_creates_the_engines_views_in_its_order(tmp_path: Path) -> None:
    module = views.write_defs_module(tmp_path, 25, layers=4)
    defs = views.definitions_from(tmp_path / "views-25.json")
    specs = views.read_spec(tmp_path / "views-25.json")
    assert [s.name for s in specs] == [n for level in defs.graph.levels() for n in level]
    assert all(asset.kind == "view" for asset in defs.assets.values())

    plain_db, engine_db = tmp_path / "plain.duckdb", tmp_path / "engine.duckdb"
    read_db = tmp_path / "plain-read.duckdb"
    assert plain_views.run(tmp_path / "views-25.json", plain_db) == 25
    assert plain_views.main(["--read", str(tmp_path / "views-25.json"), str(read_db)]) == 0
    done = subprocess.run(
        views.engine_command(module, engine_db), cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr

    def contents(db: Path) -> dict[str, list[tuple]]:
        with duckdb.connect(str(db), read_only=True) as con:
            return {s.name: con.execute(f'SELECT * FROM "{s.name}"').fetchall() for s in specs}

    assert contents(plain_db) == contents(engine_db) == contents(read_db)


def test_plain_views_read_floor_reads_every_view(tmp_path: Path) -> None:
    """--read really evaluates each view: one that fails only when read fails the script."""
    spec = tmp_path / "spec.json"
    failing = "SELECT CAST('not a number' AS INTEGER) AS x"
    spec.write_text(json.dumps({"views": [["v", None, "SELECT 1 AS x"], ["w", "v", failing]]}))
    assert plain_views.run(spec, tmp_path / "plain.duckdb") == 2  # created, never read
    with pytest.raises(duckdb.ConversionException):
        plain_views.run(spec, tmp_path / "read.duckdb", read=True)


def test_a_childs_peak_memory_is_its_own_not_the_harnesss() -> None:
    """Linux carries the peak RSS across fork and exec; the spawner keeps it out."""
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: really resident
    sample = run_process([sys.executable, "-c", "pass"])
    assert sample.max_rss_mb < 100, sample
    del ballast


def test_costs_labels_the_engines_statements() -> None:
    label = costs.statement_label
    assert label("BEGIN TRANSACTION") == "sql: BEGIN"
    assert label("SELECT txid_current()") == "sql: guard txid_current()"
    assert label('CREATE OR REPLACE VIEW "v" AS SELECT 1') == "sql: CREATE OR REPLACE VIEW"
    assert label("INSERT INTO assetboard.builds VALUES (1)") == "sql: ledger INSERT"
    costs.register_known_statements()  # the guard's own statement, whatever its text
    from pipeline import guard

    assert label(guard._SNAPSHOT) == "sql: guard catalog snapshot"

    timers = costs.Timers()
    with duckdb.connect() as con:
        cursor = costs.TimedCursor(con, timers, "build")
        assert cursor.execute('DESCRIBE SELECT 1 AS "x"').fetchall()[0][0] == "x"
        assert cursor.execute("SELECT 42").fetchone() == (42,)
    rows = {row["label"]: row for row in timers.rows()}
    assert rows["sql: describe DESCRIBE"]["calls"] == 1
    assert rows["sql: SELECT 42"]["calls"] == 1


def test_snapshot_parts_times_each_branch_of_the_guards_snapshot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert snapshot_parts.main(["--views", "0", "3", "--reps", "1"]) == 0
    table = capsys.readouterr().out
    assert "| `whole snapshot` |" in table or "nothing to time" in table
