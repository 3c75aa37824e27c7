"""warn_if / error_if thresholds, the per-result severity, and the failing-row sample's cap."""

import pytest

from pipeline import CheckResult, Definitions, asset, asset_check, checks, materialize, store
from pipeline.errors import DefinitionError
from pipeline.thresholds import parse_threshold


def _bad_rows(count, total=100):
    """A table of `total` rows of which `count` have a NULL `v`."""
    return f"SELECT n, CASE WHEN n < {count} THEN NULL ELSE n END AS v FROM range({total}) t(n)"


def _run(db, sql, check_defs, downstream=False, **options):
    assets = [asset(lambda con: sql, name="t")]
    if downstream:
        assets.append(asset(lambda con: "SELECT * FROM t", name="after", deps=["t"]))
    result = materialize(Definitions(assets, check_defs, **options), db=db)
    return result, {record.check_name: record for record in result.checks}


@pytest.mark.parametrize(
    ("bad", "outcome", "severity"),
    [
        (0, "passed", "error"),
        (1, "warned", "warn"),
        (10, "warned", "warn"),
        (11, "failed", "error"),
    ],
)
def test_warn_if_and_error_if_counts(db_path, bad, outcome, severity):
    check = checks.not_null("t", "v", warn_if=">0", error_if=">10")
    result, records = _run(db_path, _bad_rows(bad), [check])
    record = records["v_not_null"]
    assert (record.outcome, record.severity) == (outcome, severity)
    assert record.threshold == "warn if > 0, error if > 10"
    assert record.observed_value == bad
    assert result.exit_code == (1 if outcome == "failed" else 0)


@pytest.mark.parametrize(("bad", "outcome"), [(2, "passed"), (3, "failed"), (9, "failed")])
def test_error_if_as_a_share_of_rows(db_path, bad, outcome):
    check = checks.not_null("t", "v", error_if=">1%")
    _, records = _run(db_path, _bad_rows(bad, total=200), [check])
    record = records["v_not_null"]
    assert record.outcome == outcome
    assert record.threshold == "error if > 1%"
    assert record.metadata["failing_pct"] == bad / 2


def test_warn_if_alone_makes_a_warning_check(db_path):
    check = checks.unique("t", "v", warn_if=">=2")
    assert check.severity == "warn"
    sql = "SELECT * FROM (VALUES (1), (1), (2), (2), (3)) t(v)"
    _, records = _run(db_path, sql, [check])
    assert (records["v_unique"].outcome, records["v_unique"].severity) == ("warned", "warn")
    _, records = _run(db_path, "SELECT * FROM (VALUES (1), (1), (2)) t(v)", [check])
    assert records["v_unique"].outcome == "passed"


def test_without_thresholds_any_failing_row_counts_at_the_chosen_severity(db_path):
    check = checks.not_null("t", "v", severity="warn")
    _, records = _run(db_path, _bad_rows(1), [check])
    assert (records["v_not_null"].outcome, records["v_not_null"].threshold) == (
        "warned",
        "warn if > 0",
    )


def test_a_warning_from_a_blocking_check_does_not_stop_downstream(db_path):
    check = checks.not_null("t", "v", warn_if=">0", error_if=">10", blocking=True)
    result, _ = _run(db_path, _bad_rows(3), [check], downstream=True)
    assert result.assets["after"].status == "materialized"
    result, _ = _run(db_path, _bad_rows(30), [check], downstream=True)
    assert result.assets["after"].status == "skipped"
    assert "blocked by failed check 't.v_not_null'" in result.assets["after"].error


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"warn_if": "> ten"}, r"warn_if='> ten' is not a threshold; write a comparison such as"),
        ({"error_if": ">"}, r"error_if='>' is not a threshold"),
        ({"error_if": "10"}, r"error_if='10' is not a threshold"),
        ({"error_if": ">-1"}, r"error_if='>-1' is not a threshold"),
        ({"error_if": 10}, r"error_if=10 is not a threshold"),
        ({"error_if": ">150%"}, r"can never be reached; a share of rows is 0-100%"),
        ({"severity": "warn", "error_if": ">0"}, r"has severity 'warn' and error_if='>0'"),
        ({"severity": "error", "warn_if": ">0"}, r"only warn_if='>0': add error_if"),
    ],
)
def test_bad_thresholds_fail_when_the_check_is_defined(options, message):
    with pytest.raises(DefinitionError, match=message) as caught:
        checks.not_null("t", "v", **options)
    assert "check 'v_not_null'" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "failing", "total", "triggered"),
    [
        (">0", 0, 10, False),
        (">0", 1, 10, True),
        (">=5", 5, 10, True),
        ("!=0", 3, 10, True),
        ("= 0", 0, 10, True),
        ("<2", 1, 10, True),
        (">10%", 1, 10, False),
        (">=10%", 1, 10, True),
        (">0%", 0, 0, False),
        (" >= 2.5 ", 3, 10, True),
    ],
)
def test_threshold_comparisons(text, failing, total, triggered):
    assert parse_threshold(text, "c", "warn_if").triggered(failing, total) is triggered


def test_the_sample_is_capped_by_the_definitions_default(db_path):
    _, records = _run(db_path, _bad_rows(50), [checks.not_null("t", "v")])
    record = records["v_not_null"]
    assert record.failing_count == 50 and len(record.failing_sample) == 20
    assert record.failing_sample[0] == {"n": 0, "v": None}

    _, records = _run(db_path, _bad_rows(50), [checks.not_null("t", "v")], failing_sample_size=5)
    assert len(records["v_not_null"].failing_sample) == 5


def test_a_check_can_override_the_sample_size_or_switch_it_off(db_path):
    check_defs = [
        checks.not_null("t", "v", sample_size=3, name="three"),
        checks.not_null("t", "v", sample_size=0, name="private"),
        checks.accepted_values("t", "n", [0], sample_size=0, name="values_private"),
    ]
    _, records = _run(db_path, _bad_rows(50), check_defs, failing_sample_size=5)
    assert len(records["three"].failing_sample) == 3
    for name in ("private", "values_private"):
        record = records[name]
        assert record.outcome == "failed" and record.failing_sample == []
        assert record.failing_count == record.observed_value > 0
    assert records["values_private"].failing_count == 99


def test_sample_size_on_a_hand_written_check(db_path):
    @asset_check(asset="t", sample_size=0)
    def secret(con):
        return CheckResult(False, failing_rows_sql="SELECT * FROM t")

    _, records = _run(db_path, _bad_rows(4, total=4), [secret])
    assert (records["secret"].failing_count, records["secret"].failing_sample) == (4, [])


def test_a_hand_written_check_may_set_its_own_severity(db_path):
    @asset_check(asset="t")
    def soft(con):
        return CheckResult(False, severity="warn")

    @asset_check(asset="t")
    def bogus(con):
        return CheckResult(False, severity="fatal")

    _, records = _run(db_path, "SELECT 1 AS n", [soft, bogus])
    assert (records["soft"].outcome, records["soft"].severity) == ("warned", "warn")
    assert records["bogus"].outcome == "error"
    assert "returned severity 'fatal'; use error or warn" in records["bogus"].error


def test_every_execution_is_kept_in_the_history_with_its_own_severity(db_path):
    check = checks.not_null("t", "v", warn_if=">0", error_if=">10")
    run_ids = [_run(db_path, _bad_rows(bad), [check])[0].run_id for bad in (0, 5, 20)]
    with store.open_store(db_path) as con:
        history = store.check_history(con, "t")
    assert [r.run_id for r in history] == run_ids[::-1]  # newest first
    assert [(r.outcome, r.severity) for r in history] == [
        ("failed", "error"),
        ("warned", "warn"),
        ("passed", "error"),
    ]
    assert [(r.observed_value, r.failing_count) for r in history] == [(20, 20), (5, 5), (0, None)]
    assert {r.threshold for r in history} == {"warn if > 0, error if > 10"}
    assert all(r.started_at is not None for r in history)
    assert len(history[0].failing_sample) == 20 and history[2].failing_sample == []
