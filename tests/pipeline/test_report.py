"""Run reports: what they say about a run with passes, warnings, failures, errors and skips.

One tiny pipeline in this file produces every outcome:
  raw (hostile text)  --blocking check fails-->  clean (skipped)  -->  final (skipped)
  other: a passing check, a warn check that fails, a check whose SQL is broken
  broken: fails to build, so its check is skipped
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from pipeline import CheckResult, Definitions, asset, asset_check, materialize
from pipeline.__main__ import main as cli
from pipeline.report import (
    FORMATS,
    CheckEntry,
    ReportError,
    build_report,
    load_schema,
    render,
    to_dict,
)

HOSTILE = "<script>alert(1)</script> \"quoted\" & 'single' & co"
HOSTILE_VALUE = "<script>alert('row')</script>&amp;"


def _raw(con):
    return (
        "SELECT * FROM (VALUES (1, 'ok'), (2, $$" + HOSTILE_VALUE + "$$), (2, 'dup')) t(id, label)"
    )


def _key_check(con):
    sql = (
        "SELECT id, label FROM raw WHERE id IN (SELECT id FROM raw GROUP BY id HAVING count(*) > 1)"
    )
    count = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    return CheckResult(
        count == 0,
        {"note": HOSTILE, "duplicates": count},
        sql,
        observed_value=count,
        threshold="= 0",
    )


def _other(con):
    return "SELECT * FROM range(5) t(n)"


def _broken(con):
    raise RuntimeError("source file is missing")


def build_defs() -> Definitions:
    raw = asset(_raw, name="raw", description=HOSTILE, group="ingest")
    clean = asset(lambda con: "SELECT * FROM raw", name="clean", deps=["raw"])
    final = asset(lambda con: "SELECT * FROM clean", name="final", deps=["clean"])
    other = asset(_other, name="other")
    broken = asset(_broken, name="broken")
    checks = [
        asset_check(_key_check, asset="raw", name="id_unique", blocking=True, description=HOSTILE),
        asset_check(
            lambda con: CheckResult(True, observed_value=5, threshold=">= 1"),
            asset="other",
            name="has_rows",
            description="other has rows",
        ),
        asset_check(
            lambda con: CheckResult(
                False, {}, "SELECT n FROM other WHERE n > 2", observed_value=2, threshold="= 0"
            ),
            asset="other",
            name="small_values",
            severity="warn",
            description="values stay small",
        ),
        asset_check(
            lambda con: CheckResult(False, {}, "SELECT nope FROM other"),
            asset="other",
            name="broken_sql",
        ),
        asset_check(
            lambda con: CheckResult(True), asset="broken", name="never_runs", description="x"
        ),
    ]
    return Definitions(assets=[raw, clean, final, other, broken], checks=checks)


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> tuple[Path, Definitions, list[int]]:
    """A database with two identical runs, so history strips have two points."""
    db = tmp_path_factory.mktemp("report") / "warehouse.duckdb"
    defs = build_defs()
    run_ids = [materialize(defs, db=db).run_id for _ in range(2)]
    return db, defs, run_ids


@pytest.fixture(scope="module")
def report(ran):
    db, defs, _ = ran
    return build_report(db, "latest", defs=defs, defs_module="tests.fake_defs")


def test_report_header_and_counts_describe_the_run(report, ran) -> None:
    db, _, run_ids = ran
    assert report.run.run_id == run_ids[-1]
    assert report.run.status == "failed"
    assert report.project == "fake_defs"
    assert report.database == str(db)
    assert report.check_counts == {
        "failed": 1,
        "error": 1,
        "warned": 1,
        "skipped": 1,
        "passed": 1,
    }
    assert report.asset_counts == {"materialized": 2, "failed": 1, "skipped": 2, "running": 0}


def test_checks_come_failing_first_then_errors_warnings_skips_passes(report) -> None:
    assert [c.key for c in report.checks] == [
        "raw.id_unique",
        "other.broken_sql",
        "other.small_values",
        "broken.never_runs",
        "other.has_rows",
    ]


def test_a_failing_check_carries_its_sql_sample_threshold_and_history(report) -> None:
    failed = report.checks[0]
    assert failed.outcome == "failed" and failed.severity == "error" and failed.blocking
    assert failed.sql.startswith("SELECT id, label FROM raw")
    assert failed.failing_count == 2
    assert {row["label"] for row in failed.failing_sample} == {HOSTILE_VALUE, "dup"}
    assert failed.observed_value == 2 and failed.threshold == "= 0"
    assert failed.headline == "2 failing rows; expected = 0"
    assert [p.outcome for p in failed.history] == ["failed", "failed"]
    assert failed.history[-1].run_id == report.run.run_id


def test_errors_and_skips_say_why(report) -> None:
    by_key = {c.key: c for c in report.checks}
    assert "nope" in by_key["other.broken_sql"].error
    assert by_key["other.broken_sql"].headline.startswith("could not run:")
    assert by_key["broken.never_runs"].error == "asset 'broken' failed to build in this run"


def test_skipped_assets_name_the_blocking_check_even_two_levels_down(report) -> None:
    skipped = {e.name: e for e in report.skipped_assets}
    assert set(skipped) == {"clean", "final"}
    assert skipped["clean"].error == "upstream 'raw' is blocked by failed check 'raw.id_unique'"
    assert skipped["final"].error == "upstream 'clean' was skipped"
    assert skipped["final"].blocked_by == "raw.id_unique"
    assert report.skipped_because("raw.id_unique") == ["clean", "final"]
    assert [e.name for e in report.failed_assets] == ["broken"]
    assert "source file is missing" in report.failed_assets[0].error


def test_asset_events_have_status_rows_and_definitions_detail(report) -> None:
    raw = next(e for e in report.assets if e.name == "raw")
    assert raw.status == "materialized" and raw.row_count == 3 and raw.group == "ingest"
    assert raw.description == HOSTILE and raw.duration_s is not None


def test_an_older_run_shows_the_history_as_it_was_then(ran) -> None:
    db, defs, run_ids = ran
    first = build_report(db, run_ids[0], defs=defs)
    assert first.run.run_id == run_ids[0]
    assert [len(c.history) for c in first.checks] == [1] * 5
    assert build_report(db, str(run_ids[0])).run.run_id == run_ids[0]


def test_unknown_run_lists_recent_runs(ran) -> None:
    db, _, run_ids = ran
    with pytest.raises(ReportError, match=r"no run with id '999'; recent runs: 2, 1") as exc:
        build_report(db, "999")
    assert exc.value.recent_run_ids == list(reversed(run_ids))


def test_no_database_or_no_runs_say_how_to_start_one(tmp_path) -> None:
    with pytest.raises(ReportError, match="nothing has run yet.*pipeline materialize"):
        build_report(tmp_path / "absent.duckdb")
    empty = tmp_path / "empty.duckdb"
    from pipeline import store

    with store.open_writer(empty):  # a history with no runs in it
        pass
    with pytest.raises(ReportError, match="no runs yet"):
        build_report(empty)


def test_unknown_format_is_refused(report) -> None:
    with pytest.raises(ReportError, match="unknown report format 'pdf': use one of html, json"):
        render(report, "pdf")


# --- HTML --------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_shows_hostile_text_as_text(report) -> None:
    page = render(report, "html")
    assert "http://" not in page and "https://" not in page
    parsed = _Tags()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert not {"img", "link", "iframe", "object", "embed"} & set(parsed.tags)
    assert not [
        name
        for name, _ in parsed.attrs
        if name in ("src", "href") and _ is not None and not _.startswith("#")
    ]
    assert "<script" not in page.lower()
    # Escaped in the markup, yet readable as the original text on the page.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;quoted&#34; &amp; &#39;single&#39; &amp; co" in page
    assert "&lt;script&gt;alert(&#39;row&#39;)&lt;/script&gt;&amp;amp;" in page  # sample value
    text = "".join(parsed.text)
    assert HOSTILE in text  # description and metadata
    assert HOSTILE_VALUE in text  # failing-row sample value


def test_html_tells_what_failed_where_and_why_first(report) -> None:
    page = render(report, "html")
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))
    assert (
        f"Run {report.run.run_id} failed: 2 checks failed, 1 asset failed, 2 assets skipped" in text
    )
    attention = text.index("What needs attention")
    assert attention < text.index("raw › id_unique") < text.index("Checks that passed")
    assert "2 failing rows; expected = 0" in text
    assert "blocked downstream: clean, final" in text
    assert "SELECT id, label FROM raw" in text
    assert "upstream 'raw' is blocked by failed check 'raw.id_unique'" in text
    assert "last 2 runs" in text
    assert "Checks that did not pass (3)" in text  # failed, error, warned: as cards
    assert "Checks not run (1)" in text and "asset 'broken' failed to build in this run" in text


# --- JSON --------------------------------------------------------------------------------------


def test_json_validates_against_the_documented_schema(report) -> None:
    document = json.loads(render(report, "json"))
    jsonschema.Draft202012Validator.check_schema(load_schema())
    jsonschema.validate(document, load_schema())
    assert document["schema_version"] == 1
    assert document["run"]["run_id"] == report.run.run_id
    assert document["counts"]["checks"]["failed"] == 1
    assert document["checks"][0]["key"] == "raw.id_unique"
    assert document["skipped_assets"][1] == {
        "name": "final",
        "reason": "upstream 'clean' was skipped",
        "blocked_by": "raw.id_unique",
    }
    for stamp in (document["generated_at"], document["run"]["started_at"]):
        assert stamp.endswith("Z") and datetime.fromisoformat(stamp)


def test_json_schema_rejects_a_document_that_drifts(report) -> None:
    document = to_dict(report)
    document["checks"][0]["outcome"] = "exploded"
    with pytest.raises(jsonschema.ValidationError, match="exploded"):
        jsonschema.validate(json.loads(json.dumps(document)), load_schema())
    del document["checks"][0]["outcome"]
    document["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(json.dumps(document)), load_schema())


# --- JUnit -------------------------------------------------------------------------------------


def test_junit_parses_with_counts_that_match(report) -> None:
    root = ET.fromstring(render(report, "junit"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "6",
        "1",
        "2",
        "1",
    )
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"raw", "clean", "final", "other", "broken"}
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(len(c.findall("failure")) for c in cases)
        assert int(suite.get("errors")) == sum(len(c.findall("error")) for c in cases)
        assert int(suite.get("skipped")) == sum(len(c.findall("skipped")) for c in cases)
    failure = suites["raw"].find("testcase/failure")
    assert failure.get("message") == "raw.id_unique failed: 2 failing rows; expected = 0"
    assert HOSTILE_VALUE in failure.text
    assert "nope" in suites["other"].find("testcase[@name='broken_sql']/error").get("message")
    build = suites["broken"].find("testcase[@name='materialize']/error")
    assert build.get("message") == (
        "asset 'broken' failed to materialize: RuntimeError: source file is missing"
    )


def test_junit_records_warnings_without_failing_the_suite(report) -> None:
    root = ET.fromstring(render(report, "junit"))
    other = next(s for s in root.iter("testsuite") if s.get("name") == "other")
    warned = other.find("testcase[@name='small_values']")
    assert warned.find("failure") is None and warned.find("error") is None
    assert warned.find("properties/property[@name='outcome']").get("value") == "warned"
    assert warned.find("system-out").text.startswith(
        "WARN other.small_values: 2 failing rows; expected = 0"
    )
    assert other.get("failures") == "0"
    skipped = next(s for s in root.iter("testsuite") if s.get("name") == "broken")
    assert skipped.find("testcase/skipped").get("message") == (
        "asset 'broken' failed to build in this run"
    )


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_summary_lists_what_needs_attention(report) -> None:
    text = render(report, "md")
    assert text.startswith(f"### ❌ fake\\_defs: run {report.run.run_id} failed (materialize,")
    assert "**Checks:** 1 failed · 1 could not run · 1 warned · 1 not run · 1 passed" in text
    assert "| ❌ Failed | `raw.id_unique` | error, blocking | 2 | = 0 | 2 |" in text
    assert "`other.broken_sql`" in text and "`other.small_values`" in text
    assert "`other.has_rows`" not in text  # passes are only counted
    assert "- `final`: upstream 'clean' was skipped" in text
    assert "⏭️ Not run (their asset was not built): `broken.never_runs`" in text
    assert "- ❌ asset `broken` failed: RuntimeError: source file is missing" in text
    assert "<script>" not in text


# --- CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_writes_each_format(ran, tmp_path, capsys, fmt) -> None:
    db, _, run_ids = ran
    out = tmp_path / f"report.{fmt}"
    code = cli(["report", "--db", str(db), "--format", fmt, "--out", str(out)])
    assert code == 0
    assert out.stat().st_size > 200
    assert f"Wrote {fmt} report of run {run_ids[-1]} (failed: 1 failed" in capsys.readouterr().out


def test_cli_writes_to_stdout_with_dash(ran, capsys) -> None:
    db, _, run_ids = ran
    code = cli(
        ["report", "--db", str(db), "--run", str(run_ids[0]), "--format", "json", "--out", "-"]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["run"]["run_id"] == run_ids[0]


def test_cli_unknown_run_exits_2_listing_recent_runs(ran, tmp_path, capsys) -> None:
    db, _, _ = ran
    out = tmp_path / "r.html"
    code = cli(["report", "--db", str(db), "--run", "42", "--format", "html", "--out", str(out)])
    assert code == 2 and not out.exists()
    assert "error: no run with id '42'; recent runs: 2, 1 (or use 'latest')" in (
        capsys.readouterr().err
    )


def test_cli_bad_format_and_empty_database_exit_2(tmp_path, capsys) -> None:
    defs: list[str] = []
    db = ["--db", str(tmp_path / "w.duckdb")]
    assert cli(["report", *defs, *db, "--format", "pdf", "--out", "-"]) == 2
    assert "unknown report format 'pdf': use one of html, json, junit, md" in (
        capsys.readouterr().err
    )
    assert cli(["report", *defs, *db, "--format", "md", "--out", "-"]) == 2
    assert "nothing has run yet" in capsys.readouterr().err


def _entry(**fields) -> CheckEntry:
    base = dict(
        key="a.c", asset="a", name="c", outcome="failed", severity="error", blocking=False,
        description=None, started_at=None, duration_s=None, observed_value=None, threshold=None,
        failing_count=None, failing_sample=[], metadata={}, sql=None, error=None,
    )  # fmt: skip
    return CheckEntry(**{**base, **fields})


def test_headline_gives_the_share_of_rows_and_reads_dbt_rules_as_written() -> None:
    built_in = _entry(
        failing_count=79, observed_value=79, threshold="error if > 0", metadata={"total_rows": 2000}
    )
    assert built_in.headline == "79 of 2,000 rows fail (3.95%); error if > 0"
    custom = _entry(outcome="warned", failing_count=1, observed_value=0.25, threshold="<= 0.1")
    assert custom.headline == "1 failing row; observed 0.25; expected <= 0.1"
    assert _entry(outcome="passed", observed_value=5).headline == "observed 5"
    one = _entry(failing_count=1, observed_value=1, metadata={"total_rows": 41})
    assert one.headline == "1 of 41 rows fails (2.44%)"


def test_a_run_that_never_started_reports_its_message_in_every_format(tmp_path) -> None:
    from pipeline.engine import record_failed_run

    db = tmp_path / "w.duckdb"
    run_id = record_failed_run(db, "materialize", None, "definitions are broken: <b>cycle</b>")
    report = build_report(db, "latest")
    assert report.run.run_id == run_id and report.checks == [] and report.assets == []
    page = render(report, "html")
    assert "definitions are broken: &lt;b&gt;cycle&lt;/b&gt;" in page
    assert "This run recorded no check results." in page
    root = ET.fromstring(render(report, "junit"))  # red in CI, as the other formats say failed
    assert (root.get("tests"), root.get("errors"), root.get("failures")) == ("1", "1", "0")
    error = root.find("testsuite[@name='run']/testcase[@name='run']/error")
    assert error.get("message") == f"run {run_id} failed: definitions are broken: <b>cycle</b>"
    jsonschema.validate(json.loads(render(report, "json")), load_schema())
    assert "> definitions are broken: \\<b\\>cycle\\</b\\>" in render(report, "md")


def test_a_run_that_ran_no_checks_never_reads_as_passed(tmp_path, capsys) -> None:
    """A materialization of assets without checks used to be a green 'Run N passed'."""
    db = tmp_path / "w.duckdb"
    run_id = materialize(Definitions([asset(_raw, name="raw")]), db=db).run_id
    report = build_report(db, "latest")
    assert report.verdict == "no_checks" and report.ok  # nothing failed: not red either
    page = unescape(render(report, "html"))
    assert f"Run {run_id} ran no checks" in page and f"Run {run_id} passed" not in page
    assert render(report, "md").startswith(f"### ➖ Assetboard: run {run_id} ran no checks (")
    document = json.loads(render(report, "json"))
    assert document["verdict"] == "no_checks"
    jsonschema.validate(document, load_schema())
    assert cli(["report", "--db", str(db), "--format", "md", "--out", str(tmp_path / "r.md")]) == 0
    assert f"report of run {run_id} (no_checks: 0 failed," in capsys.readouterr().out


# --- Writing --out -----------------------------------------------------------------------------


def _out_error(ran, out: str, capsys) -> str:
    db, _, _ = ran
    code = cli(["report", "--db", str(db), "--format", "html", "--out", out])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    return captured.err


def test_out_under_a_file_is_refused(ran, tmp_path, capsys) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    err = _out_error(ran, str(tmp_path / "file.txt" / "report.html"), capsys)
    assert err.startswith(
        f"error: cannot write the report to {tmp_path / 'file.txt' / 'report.html'}: "
    )
    assert "file.txt is a file, not a folder" in err
    assert "Pass --out a file in a folder you can write to, or '-' for standard output" in err
    assert (tmp_path / "file.txt").read_text() == "not a folder"


def test_out_that_is_a_directory_or_empty_is_refused(ran, tmp_path, capsys) -> None:
    err = _out_error(ran, str(tmp_path), capsys)
    assert f"error: --out {tmp_path} is a folder: give a file name in it" in err
    err = _out_error(ran, "", capsys)
    assert "error: --out is empty: give a file path, or '-' for standard output" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_out_in_a_place_nobody_may_write_is_refused(ran, capsys) -> None:
    # sysfs refuses new files even to root, where a chmod-ed folder would not.
    err = _out_error(ran, "/sys/assetboard-report.html", capsys)
    assert "error: cannot write the report to /sys/assetboard-report.html: Permission denied" in (
        err
    )


def test_a_failed_write_leaves_the_previous_report_whole(ran, tmp_path, capsys, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("the previous report")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)
    err = _out_error(ran, str(out), capsys)
    assert f"cannot write the report to {out}: No space left on device" in err
    assert out.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


def test_a_report_replaces_the_previous_one_and_creates_missing_folders(ran, tmp_path, capsys):
    db, _, _ = ran
    out = tmp_path / "new" / "folder" / "report.md"
    for _ in range(2):
        assert cli(["report", "--db", str(db), "--format", "md", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("### ")
    assert [p.name for p in out.parent.iterdir()] == ["report.md"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it


# --- JSON values -------------------------------------------------------------------------------


def _strict_json(text: str) -> object:
    """json.loads that refuses NaN and Infinity, which are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_value_converts_what_json_lacks() -> None:
    from datetime import date, time
    from decimal import Decimal

    from pipeline.report.jsonreport import json_value

    assert json_value(
        {
            "nested": {"customer_id": 0, "ids": (1, 2), 3: [date(2024, 1, 2)]},
            "when": datetime(2024, 1, 2, 3, 4, 5),
            "at": time(6, 7),
            "money": Decimal("19.99"),
            "precise": Decimal("1.00000000000000000001"),
            "big": Decimal("1E+30"),
            "dec_nan": Decimal("NaN"),
            "raw": b"ab\xff",
            "nan": float("nan"),
            "inf": float("inf"),
            "minus_inf": float("-inf"),
            "set": {3, 1, 2},
            "plain": [None, True, 1, 1.5, "s"],
            "other": object,
        }
    ) == {
        "nested": {"customer_id": 0, "ids": [1, 2], "3": ["2024-01-02"]},
        "when": "2024-01-02T03:04:05",
        "at": "06:07:00",
        "money": 19.99,
        "precise": "1.00000000000000000001",
        "big": 1e30,
        "dec_nan": "NaN",
        "raw": "ab\\xff",
        "nan": "NaN",
        "inf": "Infinity",
        "minus_inf": "-Infinity",
        "set": [1, 2, 3],
        "plain": [None, True, 1, 1.5, "s"],
        "other": "<class 'object'>",
    }


def test_json_report_keeps_nested_metadata_as_objects_and_stays_valid(tmp_path) -> None:
    metadata = {"worst": {"customer_id": 0, "tags": ["x", "y"]}, "pair": (1, 2)}
    defs = Definitions(
        assets=[asset(lambda con: "SELECT 1 AS x", name="a")],
        checks=[
            asset_check(
                lambda con: CheckResult(False, metadata, observed_value=float("nan")),
                asset="a",
                name="c",
            )
        ],
    )
    materialize(defs, db=tmp_path / "w.duckdb")
    document = _strict_json(render(build_report(tmp_path / "w.duckdb"), "json"))
    jsonschema.validate(document, load_schema())
    check = document["checks"][0]
    assert check["metadata"] == {"worst": {"customer_id": 0, "tags": ["x", "y"]}, "pair": [1, 2]}
    assert check["observed_value"] is None  # NaN: the schema says number or null


# --- Control characters in every format -------------------------------------------------------

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\ud800-\udfff]")


def _crash(con):
    raise RuntimeError("boom\x01\x1b[2J")


def _fails_to_build(con):
    raise RuntimeError("asset\x08error")


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    """Control characters from data (a row value), from errors, and in names."""
    db = tmp_path_factory.mktemp("hostile") / "warehouse.duckdb"
    defs = Definitions(
        assets=[
            asset(
                lambda con: "SELECT 'bad' || chr(1) || chr(27) || '[31mred' AS label, 1 AS id",
                name="ctl",
            ),
            asset(_fails_to_build, name="broken\u202e"),  # a bidi override: allowed in names
        ],
        checks=[
            asset_check(
                lambda con: CheckResult(False, {"note": "meta\x00\x1b"}, "SELECT label FROM ctl"),
                asset="ctl",
                name="name\x1b[1mbold",
            ),
            asset_check(_crash, asset="ctl", name="crash"),
        ],
    )
    materialize(defs, db=db)
    report = build_report(db, "latest", defs=defs)
    # A lone surrogate cannot be stored (a store matter), but a report must survive one.
    next(c for c in report.checks if c.name.startswith("name")).metadata["sur"] = "\ud800"
    return report


def test_junit_is_well_formed_whatever_the_data(hostile_report) -> None:
    from xml.dom import minidom

    document = render(hostile_report, "junit")
    assert not NOT_XML.search(document)
    minidom.parseString(document.encode("utf-8"))  # expat: strict XML 1.0 well-formedness
    root = ET.fromstring(document)
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {"name\\x1b[1mbold", "crash", "materialize"}
    failure = cases["name\\x1b[1mbold"].find("failure")
    # sample rows and metadata are JSON in the text, with JSON's own escapes
    assert '{"label": "bad\\u0001\\u001b[31mred"}' in failure.text
    assert '"note": "meta\\u0000\\u001b", "sur": "\\ud800"' in failure.text
    assert cases["crash"].find("error").get("message").endswith("boom\\x01\\x1b[2J")
    assert {suite.get("name") for suite in root.iter("testsuite")} == {"ctl", "broken\u202e"}
    assert cases["materialize"].find("error").text == "RuntimeError: asset\\x08error"


def test_markdown_shows_control_characters_as_escapes(hostile_report) -> None:
    text = render(hostile_report, "md")
    assert not UNPRINTABLE.search(text)
    assert "`ctl.name\\x1b[1mbold`" in text  # inline code: shown as written
    assert "boom\\\\x01\\\\x1b\\[2J" in text  # a table cell: \\ and [ escaped for Markdown


def test_html_shows_control_characters_as_escapes(hostile_report) -> None:
    page = render(hostile_report, "html")
    assert not UNPRINTABLE.search(page)
    parsed = _Tags()
    parsed.feed(page)
    text = "".join(parsed.text)
    for shown in ("bad\\x01\\x1b[31mred", "boom\\x01\\x1b[2J", "name\\x1b[1mbold", "\\ud800"):
        assert shown in text
    page.encode("utf-8")  # the lone surrogate in the metadata would make this raise


# --- One verdict in every format ---------------------------------------------------------------


def _check_raises(con):
    raise RuntimeError("the check itself broke")


def _asset_raises(con):
    raise RuntimeError("source missing")


def _scenario(name: str) -> Definitions:
    """One asset `a` and one check, arranged to give each verdict."""
    build = _asset_raises if name == "asset_failed" else (lambda con: "SELECT 1 AS x")
    check_fn, severity = {
        "all_passed": (lambda con: CheckResult(True), "error"),
        "warn_warned": (lambda con: CheckResult(False, observed_value=3, threshold="= 0"), "warn"),
        "warn_errored": (_check_raises, "warn"),
        "error_failed": (
            lambda con: CheckResult(False, observed_value=3, threshold="= 0"),
            "error",
        ),
        "asset_failed": (lambda con: CheckResult(True), "error"),
    }[name]
    return Definitions(
        assets=[asset(build, name="a")],
        checks=[asset_check(check_fn, asset="a", name="c", severity=severity)],
    )


VERDICTS = {
    "all_passed": ("passed", "✅"),
    "warn_warned": ("passed with warnings", "⚠️"),
    "warn_errored": ("failed", "❌"),
    "error_failed": ("failed", "❌"),
    "asset_failed": ("failed", "❌"),
}


@pytest.fixture(scope="module", params=list(VERDICTS))
def scenario(request, tmp_path_factory):
    db = tmp_path_factory.mktemp(request.param) / "warehouse.duckdb"
    materialize(_scenario(request.param), db=db)
    return request.param, build_report(db, "latest")


def test_the_verdict_follows_what_happened_not_the_stored_status(scenario) -> None:
    from pipeline.report.model import VERDICT_STYLES, Verdict

    name, report = scenario
    expected = {"all_passed": "passed", "warn_warned": "warned"}.get(name, "failed")
    assert report.verdict == Verdict(expected)
    assert report.ok == (expected != "failed")
    assert VERDICT_STYLES[report.verdict].label == VERDICTS[name][0]


def test_markdown_headline_agrees_with_the_verdict(scenario) -> None:
    name, report = scenario
    label, icon = VERDICTS[name]
    text = render(report, "md")
    assert text.startswith(f"### {icon} Assetboard: run 1 {label} (materialize, ")
    if name != "all_passed":
        assert "✅" not in text and "checks passed" not in text
    else:
        assert "The one check passed." in text


def test_json_verdict_and_counts_agree(scenario) -> None:
    name, report = scenario
    document = json.loads(render(report, "json"))
    jsonschema.validate(document, load_schema())
    assert document["verdict"] == {"all_passed": "passed", "warn_warned": "warned"}.get(
        name, "failed"
    )
    checks, assets = document["counts"]["checks"], document["counts"]["assets"]
    failing = checks["failed"] + checks["error"] + assets["failed"]
    assert (document["verdict"] == "failed") == (failing > 0)


def test_junit_is_red_exactly_when_the_verdict_is_failed(scenario) -> None:
    name, report = scenario
    root = ET.fromstring(render(report, "junit"))
    red = int(root.get("failures")) + int(root.get("errors"))
    assert (red > 0) == (VERDICTS[name][0] == "failed")
    if name == "warn_errored":
        case = root.find("testsuite/testcase[@name='c']")
        message = case.find("error").get("message")
        assert message == "a.c: could not run: RuntimeError: the check itself broke"


def test_html_banner_agrees_with_the_verdict(scenario) -> None:
    from pipeline.report.model import VERDICT_STYLES

    name, report = scenario
    label = VERDICTS[name][0]
    page = render(report, "html")
    banner = page[page.index('<header class="banner"') : page.index("</header>")]
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", banner)))
    assert f"Run 1 {label}" in text
    assert VERDICT_STYLES[report.verdict].color in banner
    assert ("✔" in text) == (label != "failed")
    assert f"<title>Assetboard: run 1 {label}</title>" in page


@pytest.mark.parametrize(
    ("status", "outcome", "expected"),
    [
        ("interrupted", "passed", "interrupted"),
        ("running", "passed", "running"),
        ("failed", None, "failed"),  # e.g. broken definitions: failed with no checks at all
        ("interrupted", "error", "failed"),  # a broken check is a failure whatever the status
        ("success", "warned", "warned"),
        ("success", "error", "failed"),
    ],
)
def test_verdict_from_checks_assets_and_run_status(status, outcome, expected) -> None:
    from pipeline.report.model import verdict

    checks = [_entry(outcome=outcome, severity="warn")] if outcome else []
    assert verdict(checks, [], status) == expected


def test_junit_of_an_interrupted_run_is_red(tmp_path) -> None:
    from pipeline.engine import record_failed_run

    db = tmp_path / "w.duckdb"
    record_failed_run(db, "materialize", None, "placeholder")
    report = build_report(db, "latest")
    report.run.status = "interrupted"  # as the store shows a run whose process died
    report.run.message = "the process running it stopped before the run finished"
    assert report.verdict == "interrupted"
    root = ET.fromstring(render(report, "junit"))
    assert (root.get("tests"), root.get("errors")) == ("1", "1")
    assert (
        root.find("testsuite/testcase/error")
        .get("message")
        .startswith("run 1 was interrupted: the process running it stopped")
    )


def test_cli_summary_line_gives_the_verdict(tmp_path, capsys) -> None:
    db = tmp_path / "w.duckdb"
    materialize(_scenario("warn_errored"), db=db)
    out = tmp_path / "r.md"
    assert cli(["report", "--db", str(db), "--format", "md", "--out", str(out)]) == 0
    assert "report of run 1 (failed: 0 failed, 1 could not run, 0 warned, 0 not run, 0 passed)" in (
        capsys.readouterr().out
    )


def test_every_format_says_who_launched_the_run(tmp_path) -> None:
    db = tmp_path / "warehouse.duckdb"
    defs = Definitions(assets=[asset(lambda con: "SELECT 1 AS n", name="one")])
    by = "schedule weekly_update_schedule (tick 4)"
    materialize(defs, db=db, launched_by=by)
    made = build_report(db, "latest", defs=defs)
    assert f"<b>Launched by</b> {by}</span>" in render(made, "html")
    assert "Launched by schedule weekly\\_update\\_schedule (tick 4)." in render(made, "md")
    document = json.loads(render(made, "json"))
    jsonschema.validate(document, load_schema())
    assert document["run"]["launched_by"] == by
