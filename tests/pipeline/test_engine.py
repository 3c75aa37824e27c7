"""The engine: dependency order, atomic rebuilds, every return type, skips and blocking checks."""

import contextlib
import threading

import duckdb
import pandas as pd
import pytest

from pipeline import (
    CheckResult,
    Definitions,
    SelectionError,
    asset,
    asset_check,
    batches,
    builder,
    checks,
    engine,
    ledger,
    materialize,
    runner_checks,
    store,
)
from pipeline.engine import CancelToken


def _rows(db, sql):
    with duckdb.connect(str(db)) as con:
        return con.execute(sql).fetchall()


def _chain(**overrides):
    """raw -> model, each overridable with a build function."""

    def raw(con):
        return "SELECT * FROM range(3) t(n)"

    def model(con):
        return "SELECT n * 10 AS n FROM raw"

    builds = {"raw": raw, "model": model, **overrides}
    return Definitions(
        assets=[
            asset(builds["raw"], name="raw"),
            asset(builds["model"], name="model", deps=["raw"]),
        ]
    )


def test_materializes_in_dependency_order_and_records_metadata(db_path):
    order = []
    seen = lambda e: order.append((e.asset, e.status))  # noqa: E731
    result = materialize(_chain(), db=db_path, on_event=seen)
    assert result.ok and result.exit_code == 0
    # every planned asset is queued first; each then runs and is materialized, upstream first
    assert order == [
        ("raw", "queued"),
        ("model", "queued"),
        ("raw", "running"),
        ("raw", "materialized"),
        ("model", "running"),
        ("model", "materialized"),
    ]
    assert _rows(db_path, "SELECT n FROM model ORDER BY n") == [(0,), (10,), (20,)]
    event = result.assets["model"]
    assert event.status == "materialized"
    assert event.row_count == 3
    assert event.columns == [["n", "BIGINT"]]
    assert event.preview == [{"n": 0}, {"n": 10}, {"n": 20}]
    assert event.duration_s >= 0 and event.code_version


def test_history_is_kept_in_the_store(db_path):
    first = materialize(_chain(), db=db_path)
    second = materialize(_chain(), db=db_path, select="model")
    with store.open_store(db_path) as con:
        runs = store.list_runs(con)
        assert [r.run_id for r in runs] == [second.run_id, first.run_id]
        assert runs[0].planned == ["model"] and runs[0].selection == "model"
        assert runs[0].status == "success" and runs[0].assets_materialized == 1
        assert [e.asset for e in store.run_events(con, first.run_id)] == ["raw", "model"]


def test_every_supported_return_type(db_path):
    def from_relation(con):
        return con.sql("SELECT 'rel' AS source")

    def from_dataframe(con):
        return pd.DataFrame({"source": ["df", "df"]})

    def by_hand(con):
        con.execute("CREATE OR REPLACE TABLE by_hand AS SELECT 'hand' AS source")

    def as_view(con):
        return "SELECT source FROM from_dataframe"

    defs = Definitions(
        assets=[
            asset(from_relation),
            asset(from_dataframe),
            asset(by_hand),
            asset(as_view, deps=["from_dataframe"], kind="view"),
        ]
    )
    assert materialize(defs, db=db_path).ok
    assert _rows(db_path, "SELECT * FROM from_relation") == [("rel",)]
    assert _rows(db_path, "SELECT count(*) FROM from_dataframe") == [(2,)]
    assert _rows(db_path, "SELECT * FROM by_hand") == [("hand",)]
    assert _rows(
        db_path, "SELECT table_type FROM information_schema.tables WHERE table_name = 'as_view'"
    ) == [("VIEW",)]


def test_changing_kind_replaces_a_table_by_a_view(db_path):
    def numbers(con):
        return "SELECT 1 AS n"

    materialize(Definitions(assets=[asset(numbers)]), db=db_path)
    assert materialize(Definitions(assets=[asset(numbers, kind="view")]), db=db_path).ok
    assert _rows(
        db_path, "SELECT table_type FROM information_schema.tables WHERE table_name = 'numbers'"
    ) == [("VIEW",)]


def _fails_keeping_previous(db_path, broken, message):
    assert materialize(_chain(), db=db_path).ok
    result = materialize(_chain(model=broken), db=db_path)
    assert not result.ok and result.exit_code == 1
    event = result.assets["model"]
    assert event.status == "failed"
    assert message in event.error
    assert _rows(db_path, "SELECT n FROM model ORDER BY n") == [(0,), (10,), (20,)]
    with store.open_store(db_path) as con:
        run = store.get_run(con, result.run_id)
    assert run.status == "failed" and run.assets_failed == 1
    return event


def test_sql_error_leaves_the_previous_table(db_path):
    _fails_keeping_previous(db_path, lambda con: "SELECT no_such_column FROM raw", "no_such_column")


def test_python_error_after_partial_work_is_rolled_back(db_path):
    def half_done(con):
        con.execute("CREATE OR REPLACE TABLE model AS SELECT 99 AS n")
        raise ValueError("upstream API returned garbage")

    _fails_keeping_previous(db_path, half_done, "ValueError: upstream API returned garbage")


def test_swallowed_sql_error_cannot_silently_roll_back(db_path):
    """DuckDB's trap: COMMIT after a failed statement silently discards the transaction."""

    def swallows(con):
        con.execute("CREATE OR REPLACE TABLE model AS SELECT 99 AS n")
        with contextlib.suppress(duckdb.Error):
            con.execute("SELECT * FROM missing_table")

    _fails_keeping_previous(db_path, swallows, "transaction is aborted")


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (42, "returned int, which cannot be materialized"),
        ("DROP TABLE raw", "returned a DROP statement, not a query"),
        ("SELECT 1 AS n; DROP TABLE raw", "returned 2 SQL statements; return exactly one"),
    ],
)
def test_unsupported_returns_are_explained(db_path, returned, message):
    _fails_keeping_previous(db_path, lambda con: returned, message)


def test_none_without_creating_the_table_is_explained(db_path):
    defs = Definitions(assets=[asset(lambda con: None, name="lazy")])
    result = materialize(defs, db=db_path)
    assert "returned None but did not create 'lazy'" in result.assets["lazy"].error


def test_dataframe_cannot_be_a_view(db_path):
    defs = Definitions(assets=[asset(lambda con: pd.DataFrame({"a": [1]}), name="v", kind="view")])
    assert "use kind='table'" in materialize(defs, db=db_path).assets["v"].error


def test_failure_skips_downstream_with_the_reason(db_path):
    result = materialize(_chain(raw=lambda con: "SELECT * FROM nowhere"), db=db_path)
    assert result.assets["raw"].status == "failed"
    assert result.assets["model"].status == "skipped"
    assert result.assets["model"].error == "upstream 'raw' failed"
    assert result.run.assets_skipped == 1


def _with_check(severity, blocking, passed):
    defs = _chain()

    def verdict(con):
        return CheckResult(passed=passed, observed_value=3)

    check = asset_check(verdict, asset="raw", severity=severity, blocking=blocking, name="gate")
    return Definitions(assets=defs.assets.values(), checks=[check])


def test_failed_blocking_error_check_skips_downstream(db_path):
    result = materialize(_with_check("error", True, False), db=db_path)
    assert result.checks[0].outcome == "failed" and result.exit_code == 1
    assert result.assets["model"].status == "skipped"
    assert result.assets["model"].error == "upstream 'raw' is blocked by failed check 'raw.gate'"


def test_non_blocking_error_check_fails_the_run_but_builds_downstream(db_path):
    result = materialize(_with_check("error", False, False), db=db_path)
    assert result.assets["model"].status == "materialized"
    assert result.exit_code == 1


def test_warn_check_never_blocks_nor_fails_the_run(db_path):
    result = materialize(_with_check("warn", True, False), db=db_path)
    assert result.checks[0].outcome == "warned"
    assert result.assets["model"].status == "materialized"
    assert result.ok and result.run.checks_warned == 1


def test_a_crashing_check_is_recorded_as_error(db_path):
    def crash(con):
        raise KeyError("threshold")

    check = asset_check(crash, asset="raw")
    result = materialize(Definitions(_chain().assets.values(), [check]), db=db_path)
    assert result.checks[0].outcome == "error"
    assert result.checks[0].error == "KeyError: 'threshold'"


def test_failing_rows_are_counted_and_sampled(db_path):
    def no_odd(con):
        sql = "SELECT n FROM raw WHERE n % 2 = 1"
        return CheckResult(passed=False, failing_rows_sql=sql)

    check = asset_check(no_odd, asset="raw")
    result = materialize(Definitions(_chain().assets.values(), [check]), db=db_path)
    assert result.checks[0].failing_count == 1
    assert result.checks[0].failing_sample == [{"n": 1}]


def test_assets_of_one_level_build_in_parallel(db_path):
    """Each waits for the other at a barrier: serial execution would time out and fail."""
    barrier = threading.Barrier(2, timeout=10)

    def meet(con):
        barrier.wait()
        return "SELECT 1 AS x"

    defs = Definitions(assets=[asset(meet, name="left"), asset(meet, name="right")])
    result = materialize(defs, db=db_path, max_workers=2)
    assert result.ok, {name: e.error for name, e in result.assets.items()}


def test_unknown_selection_is_a_usage_error_that_touches_nothing(db_path):
    with pytest.raises(SelectionError, match="unknown asset 'modle'"):
        materialize(_chain(), db=db_path, select="modle+")
    assert not db_path.exists()
    assert not store.history_path(db_path).exists()


def test_default_workers_leave_duckdb_the_cores(monkeypatch):

    for cores, workers in ((1, 1), (2, 1), (4, 2), (8, 4), (64, 4)):
        monkeypatch.setattr(engine.os, "cpu_count", lambda cores=cores: cores)
        assert engine.default_workers() == workers


def test_a_check_that_cannot_run_fails_the_run_whatever_its_severity(db_path):
    """As in dbt: a WARN test that errors is an error. Only a WARN check that ran may warn."""
    from pipeline import CheckResult, asset_check

    @asset_check(asset="raw", severity="warn")
    def crashes(con):
        raise RuntimeError("the check's own SQL is broken")

    @asset_check(asset="raw", severity="warn")
    def warns(con):
        return CheckResult(passed=False)

    defs = Definitions(assets=_chain().assets.values(), checks=[crashes, warns])
    result = materialize(defs, db=db_path)
    outcomes = {c.check_name: c.outcome for c in result.checks}
    assert outcomes == {"crashes": "error", "warns": "warned"}
    assert result.run.status == "failed" and result.exit_code == 1
    assert result.run.checks_errored == 1 and result.run.checks_warned == 1

    only_warning = Definitions(assets=_chain().assets.values(), checks=[warns])
    assert materialize(only_warning, db=db_path).exit_code == 0


class _BeginInterrupted:
    """A check's cursor on which a cancel lands while DuckDB runs the check's BEGIN."""

    def __init__(self, cursor, token):
        self._cursor, self._token = cursor, token

    def execute(self, sql, *args):
        if sql == "BEGIN TRANSACTION":
            self._token.cancel("a test")  # as SIGTERM, interrupting the cursor mid-statement
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
        return self._cursor.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def test_a_cancel_as_a_check_begins_keeps_the_build_recorded(db_path, monkeypatch):
    """The build committed and was recorded before its checks started: the cancel makes its
    checks 'not run', and never turns the build into one that did not start."""
    token = CancelToken()
    run_checks = runner_checks.run_asset_checks

    def interrupted(defs, checks_, cursor, *args, **kwargs):
        return run_checks(defs, checks_, _BeginInterrupted(cursor, token), *args, **kwargs)

    monkeypatch.setattr(runner_checks, "run_asset_checks", interrupted)
    defs = Definitions(_chain().assets.values(), [checks.row_count("raw", min=1)])
    result = materialize(defs, db=db_path, cancel=token)

    assert result.run.status == "cancelled"
    assert result.assets["raw"].status == "materialized"
    assert result.assets["model"].status == "not_started"
    [check] = result.checks
    assert (check.outcome, check.skip_reason) == ("skipped", "run_stopped")
    with store.open_store(db_path) as con:
        recorded = {e.asset: e.status for e in store.run_events(con, result.run_id)}
        built = store.latest_events(con, "materialized")["raw"]
        assert store.catalog(con)["raw"].run_id == built.run_id == result.run_id
    assert recorded == {"raw": "materialized", "model": "not_started"}


def test_checks_that_cannot_run_never_unrecord_the_build(db_path, monkeypatch):
    """A failure around the checks (not in a check's own function) is the checks' error: the
    committed build stays materialized in the history, as the catalog says."""

    def broken(*args, **kwargs):
        raise RuntimeError("the check runner broke")

    monkeypatch.setattr(runner_checks, "run_asset_checks", broken)
    defs = Definitions(_chain().assets.values(), [checks.row_count("raw", min=1)])
    result = materialize(defs, db=db_path)

    assert result.run.status == "failed"
    assert {name: e.status for name, e in result.assets.items()} == {
        "raw": "materialized",
        "model": "materialized",
    }
    [check] = result.checks
    assert (check.outcome, check.error) == ("error", "RuntimeError: the check runner broke")
    with store.open_store(db_path) as con:
        built = store.latest_events(con, "materialized")["raw"]
        assert store.catalog(con)["raw"].run_id == built.run_id == result.run_id


class _CommitInterrupted:
    """A build's cursor on which a cancel lands as DuckDB ends its COMMIT: DuckDB committed,
    then reports the interrupt."""

    def __init__(self, cursor, token):
        self._cursor, self._token = cursor, token

    def execute(self, sql, *args):
        result = self._cursor.execute(sql, *args)
        if sql == "COMMIT":
            self._token.cancel("a test")
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
        return result

    def __getattr__(self, name):
        return getattr(self._cursor, name)


@pytest.mark.parametrize(("built", "names"), [("alone", ["a"]), ("in a batch", ["a", "b"])])
def test_a_commit_reporting_a_cancel_once_done_is_recorded_as_built(
    db_path, monkeypatch, built, names
):
    token = CancelToken()
    module, function = (builder, "rebuild") if built == "alone" else (batches, "rebuild_batch")
    original = getattr(module, function)

    def interrupted(cursor, *args, **kwargs):
        return original(_CommitInterrupted(cursor, token), *args, **kwargs)

    monkeypatch.setattr(module, function, interrupted)
    views = [asset(lambda con: "SELECT 1 AS n", name=name, kind="view") for name in names]
    result = materialize(Definitions(views), db=db_path, cancel=token)

    assert result.run.status == "cancelled"
    assert {name: e.status for name, e in result.assets.items()} == dict.fromkeys(
        names, "materialized"
    )
    with store.open_store(db_path) as con:
        catalog, latest = store.catalog(con), store.latest_events(con, "materialized")
    assert {name: (catalog[name].run_id, latest[name].run_id) for name in names} == dict.fromkeys(
        names, (result.run_id, result.run_id)
    )


def test_a_commit_interrupted_before_it_happened_is_still_a_rollback(db_path):
    class Interrupted(_CommitInterrupted):
        def execute(self, sql, *args):
            if sql == "COMMIT":
                raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
            return self._cursor.execute(sql, *args)

    view = asset(lambda con: "SELECT 1 AS n", name="a", kind="view")
    with duckdb.connect(str(db_path)) as con:
        ledger.ensure(con)
        with pytest.raises(duckdb.InterruptException):
            builder.rebuild(Interrupted(con.cursor(), None), view, 1, threading.Event())
        assert builder.relation_kind(con, "a") is None
        assert ledger.current(con) == {}


def test_a_cancel_as_a_batch_begins_reads_as_nothing_started(db_path, monkeypatch):
    """Two cheap builds share a transaction (batches.py); a cancel landing on its BEGIN leaves
    both unbuilt, the previous tables standing, and says so: not a crash of the batch."""
    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "60")  # both are batched from the 2nd run on
    defs = Definitions(
        assets=[
            asset(lambda con: "SELECT 1 AS one", name="first"),
            asset(lambda con: "SELECT 2 AS two", name="second"),
        ]
    )
    first_run = materialize(defs, db=db_path)
    token = CancelToken()
    rebuild_batch = batches.rebuild_batch

    def interrupted(cursor, *args, **kwargs):
        return rebuild_batch(_BeginInterrupted(cursor, token), *args, **kwargs)

    monkeypatch.setattr(batches, "rebuild_batch", interrupted)
    result = materialize(defs, db=db_path, cancel=token)

    assert result.run.status == "cancelled"
    for name in ("first", "second"):
        event = result.assets[name]
        assert event.status == "not_started"
        assert "InterruptException" not in (event.error or "")
    with store.open_store(db_path) as con:
        catalog = store.catalog(con)
        assert {catalog[n].run_id for n in ("first", "second")} == {first_run.run_id}
        recorded = {e.asset: e.status for e in store.run_events(con, result.run_id)}
        built = store.latest_events(con, "materialized")
    assert recorded == {"first": "not_started", "second": "not_started"}
    with duckdb.connect(str(db_path)) as con:  # the history says what the warehouse holds
        standing = ledger.current(con)
    assert _rows(db_path, "SELECT * FROM first, second") == [(1, 2)]
    for name in ("first", "second"):
        assert built[name].run_id == standing[name].run_id == first_run.run_id


def test_a_cancel_on_a_batch_begin_is_the_batch_cancelled(db_path):
    """rebuild_batch's own promise: a cancel landing on its BEGIN is builder.Cancelled, with no
    asset started and nothing written, not an interrupt escaping the batch."""
    views = [
        asset(lambda con: "SELECT 1 AS one", name="first", kind="view"),
        asset(lambda con: "SELECT 2 AS two", name="second", kind="view"),
    ]
    token = CancelToken()
    started: list[str] = []
    with duckdb.connect(str(db_path)) as con:
        ledger.ensure(con)
        cursor = _BeginInterrupted(con.cursor(), token)
        with pytest.raises(builder.Cancelled):
            batches.rebuild_batch(cursor, views, 1, token.event, started.append)
        assert started == []
        assert builder.relation_kind(con, "first") is None
        assert ledger.current(con) == {}


def test_a_batch_that_cannot_begin_builds_its_assets_one_at_a_time(db_path, monkeypatch):
    """A BEGIN failing for another reason than a cancel is the batch failing: its assets are
    built alone, as after any failed batch, and the run neither crashes nor spins."""
    monkeypatch.setenv("ASSETBOARD_BATCH_BELOW", "60")
    defs = Definitions(
        assets=[
            asset(lambda con: "SELECT 1 AS one", name="first"),
            asset(lambda con: "SELECT 2 AS two", name="second"),
        ]
    )
    materialize(defs, db=db_path)

    class BeginFails(_BeginInterrupted):
        def execute(self, sql, *args):
            if sql == "BEGIN TRANSACTION":
                raise duckdb.TransactionException("TransactionContext Error: a test")
            return self._cursor.execute(sql, *args)

    rebuild_batch = batches.rebuild_batch

    def failing(cursor, *args, **kwargs):
        return rebuild_batch(BeginFails(cursor, None), *args, **kwargs)

    monkeypatch.setattr(batches, "rebuild_batch", failing)
    result = materialize(defs, db=db_path)

    assert result.run.status == "success"
    assert {n: e.status for n, e in result.assets.items()} == {
        "first": "materialized",
        "second": "materialized",
    }
    with store.open_store(db_path) as con:
        catalog = store.catalog(con)
    assert {catalog[n].run_id for n in ("first", "second")} == {result.run_id}


def _with_row_check(defs):
    @asset_check(asset="model")
    def has_rows(con):
        (n,) = con.execute("SELECT count(*) FROM model").fetchone()
        return CheckResult(passed=n > 0, observed_value=n)

    return Definitions(assets=list(defs.assets.values()), checks=[has_rows])


def test_checks_only_on_a_failed_build_say_which_build_they_checked(db_path):
    """The failed build left run 1's table: the checks ran on it, and their records say so."""
    assert materialize(_with_row_check(_chain()), db=db_path).ok
    broken = _with_row_check(_chain(model=lambda con: "SELECT no_such_column FROM raw"))
    assert not materialize(broken, db=db_path).ok

    result = engine.run_checks(broken, db=db_path)

    [record] = result.checks
    assert record.outcome == "passed"
    note = "checked the table built in run 1; its latest build, run 2, failed"
    assert record.checked_build == note
    with store.open_store(db_path) as con:
        assert [r.checked_build for r in store.run_check_results(con, result.run_id)] == [note]
    assert materialize(_with_row_check(_chain()), db=db_path).ok  # built again: nothing to say
    assert engine.run_checks(broken, db=db_path).checks[0].checked_build is None
