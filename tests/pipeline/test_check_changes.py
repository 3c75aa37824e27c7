"""A check changed since it last ran (a threshold moved, a factory's argument changed): its
outcome is the old definition's, and every place that shows it says so until it runs again."""

from __future__ import annotations

from pathlib import Path

from pipeline import Definitions, asset, checks, materialize, run_checks, store
from pipeline.__main__ import main as cli
from pipeline.states import AssetHealth
from pipeline.status import asset_statuses, check_states


@asset
def orders(con):
    return "SELECT * FROM range(5) t(n)"


@asset(deps=[orders])
def report(con):
    return "SELECT count(*) AS n FROM orders"


def defs_with(minimum: int) -> Definitions:
    return Definitions([orders, report], [checks.row_count("orders", min=minimum)])


def statuses(defs: Definitions, db: Path):
    with store.open_store(db) as con:
        return asset_statuses(defs, con), check_states(defs, con)


def test_a_check_whose_threshold_moved_marks_its_asset_stale_not_downstream(
    db_path: Path,
) -> None:
    assert materialize(defs_with(1), db=db_path).ok
    moved = defs_with(10)  # the same check, stricter: its last answer was for min=1
    health, states = statuses(moved, db_path)
    [state] = states.values()
    assert state.changed and state.outcome == "passed"
    assert health["orders"].health == AssetHealth.STALE
    assert health["orders"].reason == (
        "check 'row_count' changed since it last ran (run 1): run its checks again"
    )
    assert health["report"].health == AssetHealth.FRESH  # its data is as it was
    assert health["orders"].stale_reason is None

    rerun = run_checks(moved, "orders", db_path)  # run again: the answer is current, and fails
    assert not rerun.ok
    health, states = statuses(moved, db_path)
    assert not states[next(iter(states))].changed
    assert health["orders"].health == AssetHealth.DEGRADED


def test_an_unchanged_check_stays_as_it_ran(db_path: Path) -> None:
    materialize(defs_with(1), db=db_path)
    health, states = statuses(defs_with(1), db_path)  # rebuilt definitions, same values
    assert not any(s.changed for s in states.values())
    assert health["orders"].health == AssetHealth.FRESH


def test_list_says_the_check_changed(db_path: Path, tmp_path: Path, capsys) -> None:
    module = tmp_path / "defs_min.py"
    text = (
        "from pipeline import Definitions, asset, checks\n"
        "a = asset(lambda con: 'SELECT * FROM range(5) t(n)', name='orders')\n"
        "defs = Definitions([a], [checks.row_count('orders', min={minimum})])\n"
    )
    module.write_text(text.format(minimum=1))
    assert cli(["materialize", "--defs", str(module), "--db", str(db_path)]) == 0
    module.write_text(text.format(minimum=3))
    capsys.readouterr()
    assert cli(["list", "--defs", str(module), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "why: check 'row_count' changed since it last ran (run 1): run its checks again" in out
    assert "check row_count: passed (error), but the check changed since: run it again" in out
