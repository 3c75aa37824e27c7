"""The report as JUnit XML, so CI systems (GitLab, Jenkins, GitHub test reporters) show checks.

Convention, one `<testsuite>` per asset (name = asset) and one `<testcase>` per check
(classname = asset, name = check name):

- passed  -> a plain `<testcase>`.
- failed  -> `<failure message="..." type="error">` (an ERROR-severity check failed): the message
  gives the failing-row count and observed vs expected; the text adds the SQL and sample rows.
- error   -> `<error message="..." type="error">`: the check could not run (broken SQL, the
  asset failed to build or was never materialized).
- warned  -> NOT a failure: the testcase passes and carries
  `<properties><property name="outcome" value="warned"/>...</properties>` plus the details in
  `<system-out>` starting with "WARN". CI stays green; the warning is still in the file.
- skipped -> `<skipped message="...">` with the reason (e.g. an upstream blocking check failed).

An asset that failed to build adds a testcase named `materialize` to its suite, as an `<error>`
with the build's error text, so a run that broke before any check could run is red in CI too.
A run whose verdict is failed or interrupted with no failing testcase to show for it (its
definitions were broken, its process died) gets a suite `run` with one `<error>` testcase `run`
carrying the run's message: CI is red exactly when the report's verdict is failed or interrupted.

Every testcase has properties `outcome`, `severity` and `blocking`, so a tool can tell warnings
apart; an anomaly check's also has `band` ('row count 120, expected 950' dash '1,050') and the
numbers `value`, `expected_low` and `expected_high` (those it has). A check run per partition
stays one testcase (its name is stable from run to run); its worst outcome decides, a property
`failing_partitions` names where it did not pass, and its text gives each such partition's
outcome. A failed partitioned asset's `materialize` error
lists each failed partition with its error. Suite and root counts (`tests`, `failures`,
`errors`, `skipped`) follow the same rules.

Names, messages and row values come from data and may hold characters XML 1.0 forbids (most
control characters): every attribute and text goes through `xml_safe`, so the file always parses.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from pipeline.report.jsonreport import iso
from pipeline.report.model import AssetEntry, CheckEntry, Report, Verdict, format_number
from pipeline.report.partitions import PartitionBuild, PartitionCheckResult
from pipeline.textsafe import xml_safe


def _details(check: CheckEntry, partitions: list[PartitionCheckResult]) -> str:
    lines = [check.headline]
    for result in partitions:  # where a check run per partition did not pass
        observed = f", observed {format_number(result.observed_value)}"
        shown = observed if result.observed_value is not None else ""
        lines.append(f"partition {result.key}: {result.outcome}, {result.headline}{shown}")
    if check.description:
        lines.append(f"check: {check.description}")
    if check.sql:
        lines.append(f"sql: {check.sql.strip()}")
    if check.failing_sample:
        lines.append("failing rows (sample):")
        lines += [json.dumps(row, default=str, ensure_ascii=False) for row in check.failing_sample]
    if check.metadata:
        lines.append(f"metadata: {json.dumps(check.metadata, default=str, ensure_ascii=False)}")
    return "\n".join(lines)


def _testcase(suite: ET.Element, check: CheckEntry, partitions: list[PartitionCheckResult]) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=check.name,
        classname=check.asset,
        time=f"{check.duration_s or 0:.3f}",
    )
    props = ET.SubElement(case, "properties")
    for name, value in (
        ("outcome", check.outcome),
        ("severity", check.severity),
        ("blocking", str(check.blocking).lower()),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    band = check.band
    if band is not None and check.outcome != "skipped":  # an anomaly check's value and band
        ET.SubElement(props, "property", name="band", value=band.text)
        for name, number in (("value", band.value), ("expected_low", band.low),
                             ("expected_high", band.high)):  # fmt: skip
            if number is not None:
                ET.SubElement(props, "property", name=name, value=repr(number))
    if partitions:
        keys = ", ".join(result.key for result in partitions)
        ET.SubElement(props, "property", name="failing_partitions", value=keys)
    if check.outcome == "failed":
        failure = ET.SubElement(
            case, "failure", message=f"{check.key} failed: {check.headline}", type="error"
        )
        failure.text = _details(check, partitions)
    elif check.outcome == "error":
        error = ET.SubElement(case, "error", message=f"{check.key}: {check.headline}", type="error")
        error.text = _details(check, partitions)
    elif check.outcome == "skipped":
        ET.SubElement(case, "skipped", message=check.error or "skipped")
    elif check.outcome == "warned":
        ET.SubElement(case, "system-out").text = f"WARN {check.key}: {_details(check, partitions)}"


def _count(checks: list[CheckEntry], outcome: str) -> str:
    return str(sum(1 for c in checks if c.outcome == outcome))


def _build_failure(suite: ET.Element, asset: AssetEntry, failed: list[PartitionBuild]) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name="materialize",
        classname=asset.name,
        time=f"{asset.duration_s or 0:.3f}",
    )
    first_line = (asset.error or "failed").splitlines()[0]
    message = f"asset '{asset.name}' failed to materialize: {first_line}"
    text = "\n".join(
        [asset.error or "failed", *(f"partition {b.key} failed: {b.error}" for b in failed)]
    )
    ET.SubElement(case, "error", message=message, type="materialize").text = text


def _set_counts(element: ET.Element, checks: list[CheckEntry], failed_builds: int = 0) -> None:
    """`failed_builds` counts the testcases that are errors without being checks."""
    element.set("tests", str(len(checks) + failed_builds))
    element.set("failures", _count(checks, "failed"))
    element.set("errors", str(int(_count(checks, "error")) + failed_builds))
    element.set("skipped", _count(checks, "skipped"))
    element.set("time", f"{sum(c.duration_s or 0 for c in checks):.3f}")


def _make_xml_safe(root: ET.Element) -> None:
    """One pass over the finished tree, so no field can be forgotten: ElementTree escapes
    markup but writes control characters as they are, which no XML parser accepts."""
    for element in root.iter():
        element.attrib.update({key: xml_safe(value) for key, value in element.attrib.items()})
        if element.text:
            element.text = xml_safe(element.text)
        if element.tail:
            element.tail = xml_safe(element.tail)


def _run_failure(root: ET.Element, report: Report) -> None:
    """The run failed for a reason no check or asset shows: one error testcase says why."""
    suite = ET.SubElement(root, "testsuite", name="run", tests="1", failures="0", errors="1")
    suite.set("skipped", "0")
    suite.set("timestamp", iso(report.run.started_at) or "")
    case = ET.SubElement(suite, "testcase", name="run", classname="run", time="0.000")
    why = report.run.message or "no check or asset recorded why"
    message = f"run {report.run.run_id} {report.verdict_style.label}: {why.splitlines()[0]}"
    ET.SubElement(case, "error", message=message, type="run").text = why


def render_junit(report: Report) -> str:
    """One testsuite per asset that has checks in the run (plus failed assets without any)."""
    root = ET.Element("testsuites", name=f"{report.project} run {report.run.run_id}")
    failed = {entry.name: entry for entry in report.assets if entry.status == "failed"}
    red = failed or any(check.outcome in ("failed", "error") for check in report.checks)
    run_failed = report.verdict in (Verdict.FAILED, Verdict.INTERRUPTED) and not red
    _set_counts(root, report.checks, len(failed) + run_failed)
    if run_failed:
        _run_failure(root, report)
    by_asset: dict[str, list[CheckEntry]] = {}
    for entry in report.assets:
        by_asset[entry.name] = []
    for check in report.checks:
        by_asset.setdefault(check.asset, []).append(check)
    timestamp = iso(report.run.started_at)
    failed_partitions = {group.asset: group.failed for group in report.partitioned_assets}
    for asset, checks in by_asset.items():
        suite = ET.SubElement(root, "testsuite", name=asset, timestamp=timestamp or "")
        _set_counts(suite, checks, int(asset in failed))
        if asset in failed:
            _build_failure(suite, failed[asset], failed_partitions.get(asset, []))
        for check in sorted(checks, key=lambda c: c.name):
            _testcase(suite, check, report.failing_partitions(check.key))
        event = next((e for e in report.assets if e.name == asset), None)
        if event is not None and event.status in ("failed", "skipped") and event.error:
            ET.SubElement(suite, "system-err").text = f"asset {event.status}: {event.error}"
    _make_xml_safe(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
