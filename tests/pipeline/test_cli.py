"""`python -m pipeline`: progress while it runs, and exit codes a script can rely on."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import store
from pipeline.__main__ import main
from pipeline.datagen import generate
from pipeline.examples.sales import build_definitions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sales_env(monkeypatch, tutorial_dir):
    monkeypatch.setenv("ASSETBOARD_SALES_DATA", str(tutorial_dir))


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_help_lists_the_commands_and_the_selection_syntax():
    result = _cli("--help")
    assert result.returncode == 0
    for word in ("materialize", "check", "list", "runs", "group:NAME"):
        assert word in result.stdout


def test_materialize_shows_progress_and_exits_0(tutorial_dir, db_path):
    env = {"ASSETBOARD_SALES_DATA": str(tutorial_dir), "PATH": "/usr/bin:/bin"}
    result = _cli("materialize", "--db", str(db_path), env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "      ok  joined_data  300 rows in" in "\n".join(lines)
    assert any("pass    check joined_data.missing_dimension_check" in line for line in lines)
    assert lines[-2].startswith("Run 1 succeeded in")
    assert lines[-1] == (  # a plain run cannot build it, and says so
        "  left out, for want of run config: adhoc_request (department, product, start_date,"
        " end_date)"
    )


def test_failed_asset_exits_1(tmp_path, db_path, monkeypatch, capsys):
    generate(500, tmp_path / "csv")
    (tmp_path / "csv" / "products.csv").unlink()
    monkeypatch.setenv("ASSETBOARD_SALES_DATA", str(tmp_path / "csv"))
    assert main(["materialize", "--db", str(db_path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED  products:" in out and "skipped  joined_data: upstream 'products' failed" in out


def test_check_says_which_build_it_checked_when_the_latest_failed(
    tmp_path, db_path, monkeypatch, capsys
):
    generate(500, tmp_path / "csv")
    monkeypatch.setenv("ASSETBOARD_SALES_DATA", str(tmp_path / "csv"))
    assert main(["materialize", "--db", str(db_path), "--select", "products"]) == 0
    (tmp_path / "csv" / "products.csv").unlink()
    assert main(["materialize", "--db", str(db_path), "--select", "products"]) == 1
    capsys.readouterr()

    main(["check", "--db", str(db_path), "--select", "products"])

    lines = [line for line in capsys.readouterr().out.splitlines() if "check products." in line]
    assert lines and all(
        line.endswith("(checked the table built in run 1; its latest build, run 2, failed)")
        for line in lines
    )


def test_bad_definitions_exit_2_and_are_recorded(db_path, capsys):
    scenario = str(Path(__file__).parent / "scenarios" / "cyclic.py")
    assert main(["materialize", "--defs", scenario, "--db", str(db_path)]) == 2
    assert "dependency cycle: a -> b -> c -> a" in capsys.readouterr().err
    with store.open_store(db_path) as con:
        run = store.list_runs(con)[0]
    assert run.status == "failed" and "dependency cycle" in run.message


def test_unknown_selection_exits_2(sales_env, db_path, capsys):
    assert main(["materialize", "--db", str(db_path), "--select", "joined_dat"]) == 2
    assert "Did you mean 'joined_data'?" in capsys.readouterr().err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["materialise"])
    assert caught.value.code == 2
    assert "invalid choice: 'materialise'" in capsys.readouterr().err


def test_list_check_and_runs(sales_env, db_path, capsys):
    assert main(["runs", "--db", str(db_path)]) == 0
    assert "No runs yet" in capsys.readouterr().out
    assert main(["list", "--db", str(db_path)]) == 0
    listing = capsys.readouterr().out
    assert "joined_data" in listing and "never" in listing and "never run" in listing
    main(["materialize", "--db", str(db_path), "--select", "+joined_data"])
    assert main(["check", "--db", str(db_path), "--select", "joined_data"]) == 0
    out = capsys.readouterr().out
    assert "Run 2 succeeded" in out and "missing_dimension_check" in out
    assert main(["list", "--db", str(db_path)]) == 0
    health = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    for built in ("products", "sales_reps", "sales_data", "joined_data"):
        assert "Fresh" in health[built], health[built]
    assert "Never built" in health["monthly_sales_performance"]  # not selected: still unbuilt
    assert main(["runs", "--db", str(db_path)]) == 0
    runs = capsys.readouterr().out.splitlines()
    assert runs[1].split()[:3] == ["2", "checks", "Succeeded"]
    assert runs[2].split()[:3] == ["1", "materialize", "Succeeded"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["materialize", "--workers", "-1"], "argument --workers: must be from 1 to 64, got -1"),
        (["materialize", "--workers", "0"], "argument --workers: must be from 1 to 64, got 0"),
        (["materialize", "--workers", "two"], "--workers: expected a whole number, got 'two'"),
        (["runs", "--limit", "-1"], "argument --limit: must be from 1 to 1,000,000, got -1"),
        (["runs", "--limit", "1e20"], "argument --limit: expected a whole number, got '1e20'"),
        (
            ["runs", "--limit", "100000000000000000000"],
            "argument --limit: must be from 1 to 1,000,000, got 100000000000000000000",
        ),
        (
            ["report", "--format", "md", "--out", "-", "--history", "-3"],
            "argument --history: must be from 1 to 1,000, got -3",
        ),
        (["list", "--db", ""], "argument --db: is empty: give the path of a DuckDB file"),
    ],
)
def test_numbers_out_of_range_are_refused_before_anything_runs(db_path, capsys, argv, message):
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--db", str(db_path)])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
    assert not db_path.exists()


HOSTILE_DEFS = """
from pipeline import asset, asset_check


@asset(name="evil\\u202ename")
def evil(con):
    raise RuntimeError("\\x1b[2J\\x07" + "x" * 50_000)


@asset
def fine(con):
    return "SELECT 1 AS x"


@asset_check(asset="fine", name="check\\x1b]0;title\\x07")
def noisy(con):
    raise ValueError("bad \\x1b[5m value")
"""


def _no_raw_controls(text: str) -> None:
    raw = [c for c in text if c in "\x00\x07\x1b\r\x9b\u202e" or "\ud800" <= c <= "\udfff"]
    assert not raw


def test_text_from_data_reaches_the_terminal_escaped_and_capped(tmp_path, db_path, capsys):
    defs = tmp_path / "hostile_defs.py"
    defs.write_text(HOSTILE_DEFS)
    assert main(["materialize", "--defs", str(defs), "--db", str(db_path)]) == 1
    out = capsys.readouterr().out
    _no_raw_controls(out)
    assert "FAILED  evil\\u202ename: RuntimeError: \\x1b[2J\\x07xxx" in out
    assert "… [40,059 characters cut]" in out and len(out) < 12_000
    assert "ERROR    check fine.check\\x1b]0;title\\x07: ValueError: bad \\x1b[5m value" in out

    assert main(["list", "--defs", str(defs), "--db", str(db_path)]) == 0
    listing = capsys.readouterr().out
    _no_raw_controls(listing)
    assert (
        "evil\\u202ename" in listing
        and "check check\\x1b]0;title\\x07: could not run (error)" in listing
    )

    from pipeline.engine import record_failed_run

    record_failed_run(db_path, "checks", "sel\x1bect", "why \x1b[31mred\x1b[0m\nsecond line")
    assert main(["runs", "--defs", str(defs), "--db", str(db_path)]) == 0
    runs = capsys.readouterr().out
    _no_raw_controls(runs)
    assert "sel\\x1bect" in runs and "why \\x1b[31mred\\x1b[0m" in runs


def test_errors_on_stderr_are_escaped(tmp_path, db_path, capsys):
    defs = tmp_path / "raises.py"
    defs.write_text('raise RuntimeError("\\x1b[2J cleared your screen")\n')
    assert main(["list", "--defs", str(defs), "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    _no_raw_controls(err)
    assert "RuntimeError: \\x1b[2J cleared your screen" in err


def _into_closed_pipe(*args: str, module: str = "pipeline", env=None):
    """Run a CLI whose stdout is a pipe nobody reads any more, as in `... | head -0`."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
    finally:
        os.close(write)


def _quiet(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert "BrokenPipeError" not in stderr, stderr


def test_runs_into_head_stops_quietly(db_path):
    from pipeline.engine import record_failed_run

    for _ in range(20):  # 20 runs of 6,000-character messages: more than a pipe holds
        record_failed_run(db_path, "materialize", None, "why " * 1500)
    reader = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "runs", "--db", str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert reader.stdout.readline().split()[:2] == ["run", "kind"]
    reader.stdout.close()  # the writer is blocked on the full pipe, and now finds it closed
    _, stderr = reader.communicate(timeout=120)
    _quiet(stderr)
    assert reader.returncode == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["runs"], 1),
        (["list"], 1),
        (["report", "--format", "md", "--out", "-"], 1),
        (["runs", "--help"], 0),  # argparse itself ignores OSError when it prints help
    ],
)
def test_every_printing_subcommand_exits_quietly_on_a_closed_pipe(db_path, args, code):
    from pipeline.engine import record_failed_run

    record_failed_run(db_path, "materialize", None, "a run to report on")
    result = _into_closed_pipe(*args, "--db", str(db_path))
    _quiet(result.stderr)
    assert result.returncode == code


def test_materialize_into_a_closed_pipe_finishes_and_records_the_run(tutorial_dir, db_path):
    env = {"ASSETBOARD_SALES_DATA": str(tutorial_dir), "PATH": "/usr/bin:/bin"}
    result = _into_closed_pipe("materialize", "--db", str(db_path), env=env)
    _quiet(result.stderr)
    assert result.returncode == 0
    with store.open_store(db_path) as con:
        run = store.list_runs(con)[0]
    every_asset = len(build_definitions(tutorial_dir).assets) - 1  # but adhoc_request
    assert run.status == "success" and run.assets_materialized == every_asset


def test_datagen_into_a_closed_pipe_exits_quietly(tmp_path):
    result = _into_closed_pipe(
        "--rows", "5", "--out", str(tmp_path / "csv"), module="pipeline.datagen"
    )
    _quiet(result.stderr)
    assert result.returncode == 1
    assert (tmp_path / "csv" / "sales_data.csv").is_file()


CYCLIC = str(Path(__file__).parent / "scenarios" / "cyclic.py")


def _definition_error_then(err: str, note: str) -> None:
    """The definitions error comes first and whole; the recording problem is one extra line."""
    lines = err.splitlines()
    assert lines[0] == "error: 1 problem in the definitions:"
    assert lines[1] == "  - dependency cycle: a -> b -> c -> a"
    assert len(lines) == 3 and lines[2].startswith("note: this failed run was not recorded in ")
    assert note in lines[2]


def test_broken_definitions_are_not_hidden_by_a_run_in_progress(db_path, capsys):
    from pipeline.warehouse import run_lock

    with run_lock(db_path, "materialize run"):
        assert main(["materialize", "--defs", CYCLIC, "--db", str(db_path)]) == 2
    _definition_error_then(capsys.readouterr().err, "a run is already in progress")


def test_broken_definitions_are_not_hidden_by_a_newer_store(db_path, capsys, monkeypatch):
    from pipeline import engine
    from pipeline.errors import PipelineError

    def newer_store(*args):  # what the store raises for a history written by a newer version
        raise PipelineError("this run history has schema version 99, newer than this Assetboard")

    monkeypatch.setattr(engine, "record_failed_run", newer_store)
    assert main(["check", "--defs", CYCLIC, "--db", str(db_path)]) == 2
    _definition_error_then(capsys.readouterr().err, "schema version 99")


def test_broken_definitions_are_not_hidden_by_an_unusable_database(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    db = tmp_path / "file" / "warehouse.duckdb"
    assert main(["materialize", "--defs", CYCLIC, "--db", str(db)]) == 2
    _definition_error_then(capsys.readouterr().err, str(db))


@pytest.mark.parametrize("command", ["materialize", "check"])
def test_a_bad_selection_is_refused_before_the_database_is_touched(
    sales_env, db_path, capsys, command
):
    from pipeline.warehouse import run_lock

    with run_lock(db_path, "materialize run"):
        assert main([command, "--db", str(db_path), "--select", "joined_dat"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown asset 'joined_dat' at position 0")
    assert not db_path.exists()


@pytest.mark.parametrize(
    ("command", "where", "reason"),
    [
        *[(c, "under_a_file", "is a file, not a folder") for c in ("list", "runs", "materialize")],
        *[(c, "a_folder", "(?i)is a (directory|folder)") for c in ("list", "check")],
        # report has its own 'no database' errors, with exit 2
        *[
            (c, "a_text_file", "not a (valid )?DuckDB database file")
            for c in ("list", "runs", "materialize", "check")
        ],
    ],
)
def test_a_database_that_cannot_be_used_is_a_clear_error(
    sales_env, tmp_path, capsys, command, where, reason
):
    (tmp_path / "file").write_text("not a database")
    db = {
        "under_a_file": tmp_path / "file" / "warehouse.duckdb",
        "a_text_file": tmp_path / "file",
        "a_folder": tmp_path,
    }[where]
    assert main([command, "--db", str(db)]) == 2  # bad usage: another --db fixes it
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(db) in err and err.count("\n") == 1
    assert re.search(reason, err), err


def test_a_deeply_nested_or_quoted_selection_through_the_cli(sales_env, db_path, capsys):
    deep = "(" * 200 + "joined_data" + ")" * 200
    assert main(["materialize", "--db", str(db_path), "--select", deep]) == 2
    assert "selection nested more than 100 levels deep" in capsys.readouterr().err
    assert not db_path.exists()
    assert main(["materialize", "--db", str(db_path), "--select", '+"joined_data"']) == 0
    assert "Run 1 succeeded" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["materialize", "check"])
def test_a_selection_that_matches_nothing_exits_2_and_records_no_run(
    sales_env, db_path, capsys, command
):
    assert main([command, "--db", str(db_path), "--select", "not *"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: the selection 'not *' matches no asset: nothing was run"
    )
    assert not db_path.exists()  # no run recorded to stand as the last one


def test_a_selection_of_only_config_assets_by_pattern_exits_2(sales_env, db_path, capsys):
    assert main(["materialize", "--db", str(db_path), "--select", "group:requests"]) == 2
    err = capsys.readouterr().err
    assert "reaches only assets that need run config, so nothing was run" in err
    assert "adhoc_request (department, product, start_date, end_date)" in err
