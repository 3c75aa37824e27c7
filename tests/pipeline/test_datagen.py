"""The sample data must look like the shop it stands for and be identical on every run."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.datagen import generate, main

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000


def read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def query(paths: dict[str, Path], sql: str) -> list[tuple]:
    """Run SQL over the three CSVs as views named after the returned keys."""
    with duckdb.connect(":memory:") as con:
        for name, path in paths.items():
            rel = con.read_csv(str(path), header=True)
            con.register(name, rel)
        return con.execute(sql).fetchall()


ORPHAN_SQL = {
    "rep_id": "SELECT count(*) FROM sales_data s ANTI JOIN sales_reps r ON s.rep_id = r.rep_id",
    "product_id": (
        "SELECT count(*) FROM sales_data s ANTI JOIN products p ON s.product_id = p.product_id"
    ),
}


def orphan_count(paths: dict[str, Path], column: str) -> int:
    """Sales rows whose ``column`` matches no row of its dimension table."""
    return query(paths, ORPHAN_SQL[column])[0][0]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(ROWS, tmp_path_factory.mktemp("clean"), orphan_rate=0.0, seed=0)


@pytest.fixture(scope="module")
def orphaned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(5000, tmp_path_factory.mktemp("orphaned"), orphan_rate=0.2, seed=0)


# --- valid cases -----------------------------------------------------------------------------


def test_returns_the_three_paths_inside_out_dir(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "out"
    paths = generate(10, out)
    assert paths == {
        "products": out / "products.csv",
        "sales_reps": out / "sales_reps.csv",
        "sales_data": out / "sales_data.csv",
    }
    assert all(path.is_file() for path in paths.values())
    assert sorted(p.name for p in out.iterdir()) == [
        "products.csv",
        "sales_data.csv",
        "sales_reps.csv",
    ]


def test_headers_are_exact(clean: dict[str, Path]) -> None:
    assert read_header(clean["products"]) == ["product_id", "product_name", "category", "price"]
    assert read_header(clean["sales_reps"]) == ["rep_id", "rep_name", "department", "hire_date"]
    assert read_header(clean["sales_data"]) == [
        "date",
        "rep_id",
        "dollar_amount",
        "customer_name",
        "product_id",
        "quantity",
    ]


def test_row_counts(clean: dict[str, Path]) -> None:
    counts = query(
        clean,
        "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM sales_reps),"
        " (SELECT count(*) FROM sales_data)",
    )[0]
    assert counts == (40, 20, ROWS)


def test_files_use_unix_line_ends(clean: dict[str, Path]) -> None:
    for path in clean.values():
        assert b"\r" not in path.read_bytes()


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    # Enough rows for several DuckDB row groups, so threads really write in parallel.
    first = generate(300_000, tmp_path / "a", orphan_rate=0.1, seed=7)
    second = generate(300_000, tmp_path / "b", orphan_rate=0.1, seed=7)
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes(), name


def test_rerun_into_the_same_directory_overwrites(tmp_path: Path) -> None:
    generate(500, tmp_path)
    before = (tmp_path / "sales_data.csv").read_bytes()
    generate(20, tmp_path)
    generate(500, tmp_path)
    assert (tmp_path / "sales_data.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    first = generate(500, tmp_path / "a", seed=1)
    second = generate(500, tmp_path / "b", seed=2)
    for name in first:
        assert first[name].read_bytes() != second[name].read_bytes(), name


def test_a_prefix_of_rows_is_stable_when_rows_grow_but_its_dates(tmp_path: Path) -> None:
    """Dates spread the rows over the two years whatever their number; the rest stays put."""
    small = generate(100, tmp_path / "small")["sales_data"].read_text().splitlines()
    large = generate(300_000, tmp_path / "large")["sales_data"].read_text().splitlines()
    assert [line.split(",", 1)[1] for line in large[: len(small)]] == [
        line.split(",", 1)[1] for line in small
    ]
    assert small[-1].startswith("2025-12-") and large[len(small)].startswith("2024-01-01")


def test_products_are_plausible(clean: dict[str, Path]) -> None:
    rows = query(clean, "SELECT product_id, product_name, category, price FROM products")
    assert {category for _, _, category, _ in rows} == {
        "Electronics",
        "Books",
        "Home and Garden",
        "Clothing",
    }
    assert len({product_id for product_id, *_ in rows}) == len(rows)
    assert len({name for _, name, _, _ in rows}) == len(rows)
    assert all(price > 0 for *_, price in rows)
    assert all(name.strip() and " " in name for _, name, _, _ in rows)


def test_prices_are_written_with_two_decimals(clean: dict[str, Path]) -> None:
    with clean["products"].open(newline="", encoding="utf-8") as handle:
        prices = [row["price"] for row in csv.DictReader(handle)]
    assert all(len(price.split(".")[1]) == 2 for price in prices)


def test_reps_are_plausible(clean: dict[str, Path]) -> None:
    rows = query(clean, "SELECT rep_id, rep_name, department, hire_date FROM sales_reps")
    assert {department for _, _, department, _ in rows} == {"North", "South", "East", "West"}
    assert len({rep_id for rep_id, *_ in rows}) == len(rows)
    assert len({name for _, name, _, _ in rows}) == len(rows)
    assert all(len(name.split()) == 2 for _, name, _, _ in rows)
    # read_csv only infers DATE for ISO dates, so this also pins the format.
    assert all(type(hire_date).__name__ == "date" for *_, hire_date in rows)


def test_sales_values_are_in_range(clean: dict[str, Path]) -> None:
    (stats,) = query(
        clean,
        """
        SELECT min(date), max(date), count(DISTINCT year(date)),
               count(DISTINCT date_trunc('month', date)), min(quantity), max(quantity),
               min(dollar_amount), count(DISTINCT customer_name),
               typeof(any_value(date)), typeof(any_value(quantity))
        FROM sales_data
        """,
    )
    first, last, years, months, min_qty, max_qty, min_amount, customers, date_type, qty_type = stats
    assert str(first) >= "2024-01-01"
    assert str(last) <= "2025-12-31"
    assert (years, months) == (2, 24)
    assert date_type == "DATE"
    assert qty_type == "BIGINT"
    assert min_qty >= 1
    assert max_qty <= 50
    assert min_amount >= 0
    assert 50 <= customers <= 70


def test_sales_come_in_date_order_as_a_sales_log_does(clean: dict[str, Path]) -> None:
    """One month's query then skips the others (DuckDB's min-max indexes per row group)."""
    with clean["sales_data"].open(newline="", encoding="utf-8") as handle:
        dates = [row["date"] for row in csv.DictReader(handle)]
    assert dates == sorted(dates) and len(set(dates)) > 24


def test_amounts_have_two_decimals_and_follow_price_times_quantity(clean: dict[str, Path]) -> None:
    with clean["sales_data"].open(newline="", encoding="utf-8") as handle:
        amounts = [row["dollar_amount"] for row in csv.DictReader(handle)]
    assert all(len(amount.split(".")[1]) == 2 for amount in amounts)
    (outside,) = query(
        clean,
        """
        SELECT count(*) FROM sales_data s JOIN products p USING (product_id)
        WHERE s.dollar_amount > p.price * s.quantity + 0.01
           OR s.dollar_amount < p.price * s.quantity * 0.85 - 0.01
        """,
    )[0]
    assert outside == 0


def test_no_orphans_when_rate_is_zero(clean: dict[str, Path]) -> None:
    assert orphan_count(clean, "rep_id") == 0
    assert orphan_count(clean, "product_id") == 0


def test_orphan_rate_is_roughly_honoured(orphaned: dict[str, Path]) -> None:
    (share, min_orphan_id) = query(
        orphaned,
        """
        SELECT avg((rep_id NOT IN (SELECT rep_id FROM sales_reps))::INTEGER),
               min(least(rep_id, product_id)) FILTER (WHERE rep_id >= 9000 OR product_id >= 9000)
        FROM sales_data
        """,
    )[0]
    assert 0.17 <= share <= 0.23
    assert min_orphan_id >= 9000


def test_orphan_rows_lose_both_names_in_a_left_join(orphaned: dict[str, Path]) -> None:
    (rep_nulls, product_nulls, both) = query(
        orphaned,
        """
        SELECT count(*) FILTER (WHERE r.rep_name IS NULL),
               count(*) FILTER (WHERE p.product_name IS NULL),
               count(*) FILTER (WHERE r.rep_name IS NULL AND p.product_name IS NULL)
        FROM sales_data s
        LEFT JOIN sales_reps r USING (rep_id)
        LEFT JOIN products p USING (product_id)
        """,
    )[0]
    assert rep_nulls == product_nulls == both > 0
    assert orphan_count(orphaned, "product_id") == both


def test_orphan_rate_one_orphans_every_row(tmp_path: Path) -> None:
    paths = generate(300, tmp_path, orphan_rate=1.0)
    assert orphan_count(paths, "rep_id") == 300
    assert orphan_count(paths, "product_id") == 300


def test_amounts_stay_non_negative_with_orphans(orphaned: dict[str, Path]) -> None:
    assert query(orphaned, "SELECT min(dollar_amount) FROM sales_data")[0][0] >= 0


# --- invalid arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("rows", [0, -5, 1.5, True])
def test_bad_rows_are_rejected(tmp_path: Path, rows: object) -> None:
    with pytest.raises(ValueError, match=r"rows must be an integer >= 1, got"):
        generate(rows, tmp_path / "out")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("rate", [-0.1, 1.5, math.nan, "0.2"])
def test_bad_orphan_rate_is_rejected(tmp_path: Path, rate: object) -> None:
    with pytest.raises(ValueError, match=r"orphan_rate must be a number between 0 and 1"):
        generate(10, tmp_path / "out", orphan_rate=rate)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_bad_seed_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"seed must be an integer that fits in 64 bits"):
        generate(10, tmp_path, seed=2**64)


# --- command line ----------------------------------------------------------------------------


def test_cli_writes_files_and_reports_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--rows", "25", "--orphan-rate", "0.5", "--out", str(tmp_path), "--seed", "3"])
    assert code == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'products.csv'} (40 rows)" in out
    assert f"{tmp_path / 'sales_reps.csv'} (20 rows)" in out
    assert f"{tmp_path / 'sales_data.csv'} (25 rows)" in out
    expected = generate(25, tmp_path / "direct", orphan_rate=0.5, seed=3)
    assert (tmp_path / "sales_data.csv").read_bytes() == expected["sales_data"].read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rows", "0", "--out", "x"], "--rows: must be >= 1, got 0"),
        (["--rows", "ten", "--out", "x"], "--rows: expected a whole number >= 1, got 'ten'"),
        (
            ["--rows", "5", "--orphan-rate", "1.2", "--out", "x"],
            "--orphan-rate: must be between 0 and 1 inclusive, got 1.2",
        ),
        (
            ["--rows", "5", "--orphan-rate", "lots", "--out", "x"],
            "--orphan-rate: expected a number between 0 and 1, got 'lots'",
        ),
        (["--rows", "5", "--out", "x", "--seed", "abc"], "--seed: expected a whole number"),
        (["--out", "x"], "the following arguments are required: --rows"),
        (["--rows", "5"], "the following arguments are required: --out"),
    ],
)
def test_cli_bad_arguments_exit_2_with_a_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_module_runs_as_a_script(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.datagen", "--rows", "5", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sales_data.csv (5 rows)" in result.stdout


def _out_error(out: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--rows", "5", "--out", out]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_cli_out_under_a_file_or_being_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    err = _out_error(str(tmp_path / "file" / "csv"), capsys)
    assert err == (
        f"error: cannot write the sample data to {tmp_path / 'file' / 'csv'}:"
        f" {tmp_path / 'file'} is a file, not a folder. Pass --out a folder you can write to"
        " (it is created if missing)\n"
    )
    err = _out_error(str(tmp_path / "file"), capsys)
    assert f"{tmp_path / 'file'} is a file, not a folder" in err
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_cli_out_that_cannot_be_created_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _out_error("/sys/assetboard-csv", capsys)
    assert err.startswith("error: cannot write the sample data to /sys/assetboard-csv: Operation")


def test_cli_empty_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["--rows", "5", "--out", ""])
    assert exc.value.code == 2
    assert "argument --out: is empty: give the folder to write into" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_a_file_that_cannot_be_replaced_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sales_data.csv").mkdir()  # DuckDB's COPY cannot write there
    err = _out_error(str(tmp_path), capsys)
    assert err.startswith(
        f"error: cannot write the sample data to {tmp_path}:"
        f" {tmp_path / 'sales_data.csv'}: Is a directory. Pass --out a folder"
    )
