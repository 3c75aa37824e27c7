"""Blocking checks that read other assets can still form a cycle, and Definitions refuse it;
without such checks the extra sort is skipped (bench: a third of building 10,000 assets)."""

import pytest

from pipeline import CheckResult, DefinitionError, Definitions, asset, asset_check


def _defs(blocking: bool) -> Definitions:
    """c waits for a's check, which reads d; d waits for b's check, which reads c."""
    a = asset(lambda con: "SELECT 1 AS x", name="a")
    b = asset(lambda con: "SELECT 1 AS x", name="b")
    c = asset(lambda con: "SELECT 1 AS x", name="c", deps=[a])
    d = asset(lambda con: "SELECT 1 AS x", name="d", deps=[b])

    def ok(con):
        return CheckResult(True)

    checks = [
        asset_check(ok, asset=a, name="reads_d", additional_deps=[d], blocking=blocking),
        asset_check(ok, asset=b, name="reads_c", additional_deps=[c], blocking=blocking),
    ]
    return Definitions(assets=[a, b, c, d], checks=checks)


def test_blocking_checks_waiting_on_each_other_are_refused() -> None:
    with pytest.raises(DefinitionError, match="blocking checks wait on each other in a cycle"):
        _defs(blocking=True)


def test_the_same_checks_without_blocking_are_fine() -> None:
    defs = _defs(blocking=False)
    assert defs.graph.levels() == [["a", "b"], ["c", "d"]]
