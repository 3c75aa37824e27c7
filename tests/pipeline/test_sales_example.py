"""The worked example on the tutorial's own files and on generated data, and its bad inputs."""

import shutil
from decimal import Decimal

import duckdb
import pytest

from pipeline import materialize, store
from pipeline.datagen import generate
from pipeline.examples.sales import build_definitions


def _scalar(db, sql):
    with duckdb.connect(str(db)) as con:
        return con.execute(sql).fetchone()[0]


def test_tutorial_files_give_300_joined_rows_and_the_known_total(tutorial_dir, db_path):
    result = materialize(build_definitions(tutorial_dir), db=db_path)
    assert result.ok, result.run.message
    assert _scalar(db_path, "SELECT count(*) FROM joined_data") == 300
    assert _scalar(db_path, "SELECT sum(dollar_amount) FROM joined_data") == Decimal("1967260.48")
    check = next(c for c in result.checks if c.check_name == "missing_dimension_check")
    assert check.outcome == "passed" and check.observed_value == 0


def test_joined_data_has_the_tutorial_columns(tutorial_dir, db_path):
    materialize(build_definitions(tutorial_dir), db=db_path)
    with duckdb.connect(str(db_path)) as con:
        columns = [row[0] for row in con.execute("DESCRIBE joined_data").fetchall()]
    assert columns == [
        "date", "dollar_amount", "customer_name", "quantity", "rep_name",
        "department", "hire_date", "product_name", "category", "price",
    ]  # fmt: skip


def test_missing_dimension_check_fails_when_rows_lack_a_rep_or_product(tmp_path, db_path):
    """Catches the seed tutorial's backwards `passed=count > 0`."""
    generate(2000, tmp_path / "csv", orphan_rate=0.1)
    result = materialize(build_definitions(tmp_path / "csv"), db=db_path)
    check = next(c for c in result.checks if c.check_name == "missing_dimension_check")
    orphans = _scalar(
        db_path, "SELECT count(*) FROM joined_data WHERE rep_name IS NULL OR product_name IS NULL"
    )
    assert orphans > 0
    assert check.outcome == "failed"
    assert check.observed_value == orphans == check.failing_count
    assert len(check.failing_sample) == 20
    assert result.exit_code == 1


@pytest.fixture
def good_csv(tutorial_dir, tmp_path, db_path):
    """A CSV folder the test may break, already materialized once."""
    folder = tmp_path / "csv"
    shutil.copytree(tutorial_dir, folder)
    assert materialize(build_definitions(folder), db=db_path).ok
    return folder


def _break_and_rematerialize(folder, db_path, table, content):
    path = folder / f"{table}.csv"
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    before = _scalar(db_path, f"SELECT count(*) FROM {table}")
    result = materialize(build_definitions(folder), db=db_path)
    assert not result.ok and result.exit_code == 1
    assert _scalar(db_path, f"SELECT count(*) FROM {table}") == before  # nothing lost
    with store.open_store(db_path) as con:
        run = store.get_run(con, result.run_id)
    assert run.status == "failed" and run.assets_failed == 1
    assert result.assets["joined_data"].status == "skipped"
    return result.assets[table].error


@pytest.mark.parametrize(
    ("table", "content", "message"),
    [
        ("products", None, "products.csv not found: put products.csv in"),
        ("sales_reps", "", "sales_reps.csv is empty: expected a header line"),
        ("sales_reps", "rep_id,rep_name,department,hire_date\n", "has a header but no data rows"),
        ("products", "id,name\n1,x\n", "has header 'id,name', expected 'product_id,product_name"),
        (
            "products",
            "product_id,product_name,category,price\n1,A,Books,1.00\n2,B,Books,2.00,extra\n",
            "CSV Error on Line: 3",
        ),
        (
            "sales_data",
            "date,rep_id,dollar_amount,customer_name,product_id,quantity\n"
            "2024-01-01,1,12.50,Acme,1,1\n2024-01-02,1,twelve,Acme,1,1\n",
            'Could not convert string "twelve"',
        ),
    ],
    ids=["missing", "empty", "header-only", "wrong-header", "malformed-row", "non-numeric"],
)
def test_bad_csv_fails_clearly_and_keeps_the_previous_table(
    good_csv, db_path, table, content, message
):
    error = _break_and_rematerialize(good_csv, db_path, table, content)
    assert message in error
    assert f"{table}.csv" in error


def test_a_bad_csv_row_says_the_error_and_line_without_duckdbs_settings_dump(good_csv, db_path):
    content = "product_id,product_name,category,price\n1,A,Books,1.00\n2,B,Books,2.00,extra\n"
    error = _break_and_rematerialize(good_csv, db_path, "products", content)
    assert error.endswith(
        "products.csv: Invalid Input Error: CSV Error on Line: 3\n"
        "Expected Number of Columns: 4 Found: 5"
    )  # no "Possible fixes:" heading, no "  delimiter = , (Auto-Detected)" lines after it


JUNK_LINE = "x" * (50 * 1024 * 1024)  # beyond DuckDB's read buffer: it used to vanish silently


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "product_id,product_name,category,price\n1,A,Books,1.00\n" + JUNK_LINE + "\n",
            "line 3 is 50.0 MiB long, more than the 2.0 MiB a CSV line may have",
        ),
        (
            "product_id,product_name,category,price\n" + JUNK_LINE,
            "line 2 is 50.0 MiB long",
        ),
        (
            "product_id,product_name,category,price\n1,A,Books,1.00\n" + "y" * 3_000_000 + "\n",
            "line 3 is 2.9 MiB long",
        ),
    ],
    ids=["junk-last-line", "header-and-one-huge-line", "just-over-the-limit"],
)
def test_an_over_long_line_fails_loudly_without_quoting_it(good_csv, db_path, content, message):
    error = _break_and_rematerialize(good_csv, db_path, "products", content)
    assert message in error and "DuckDB would drop it silently" in error
    assert len(error) < 400  # the line itself is never copied into the message


def test_the_long_line_scan_agrees_with_a_line_by_line_reading(tmp_path):
    """Seeded random files with tiny limits, against the obvious slow answer."""
    import random

    from pipeline.csvfiles import first_long_line

    def slow(data: bytes, limit: int):
        for number, line in enumerate(data.split(b"\n"), 1):
            if len(line) > limit:
                return number, len(line)
        return None

    rnd = random.Random(7)
    path = tmp_path / "lines.csv"
    for _ in range(2_000):
        limit = rnd.choice([1, 2, 3, 5, 8])
        lines = [b"x" * rnd.choice([0, 1, 2, 3, 5, 8, 9, 20]) for _ in range(rnd.randint(0, 9))]
        data = b"\n".join(lines) + (b"\n" if rnd.random() < 0.5 else b"")
        path.write_bytes(data)
        assert first_long_line(path, limit) == slow(data, limit), (limit, data)


def test_pointing_the_example_at_another_folder_makes_its_assets_stale(tmp_path, db_path):
    """Restarting with ASSETBOARD_SALES_DATA=/other/folder must not leave everything Fresh."""
    from pipeline.status import asset_statuses

    generate(200, tmp_path / "first")
    generate(300, tmp_path / "second")
    assert materialize(build_definitions(tmp_path / "first"), db=db_path).ok
    with store.open_store(db_path) as con:
        same = asset_statuses(build_definitions(tmp_path / "first"), con)
        other = asset_statuses(build_definitions(tmp_path / "second"), con)
    assert {name: state.status for name, state in same.items()}["sales_data"] == "fresh"
    stale = {name for name, state in other.items() if state.status == "stale"}
    assert {"products", "sales_reps", "sales_data", "joined_data"} <= stale
    assert other["sales_data"].stale_reason == "its code changed since it was built"
