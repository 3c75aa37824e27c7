"""The selection syntax: what each form selects, and errors that point at the mistake."""

import pytest

from pipeline import Definitions, SelectionError, asset, select


def _defs() -> Definitions:
    def sql(con):
        return "SELECT 1 AS x"

    return Definitions(
        assets=[
            asset(sql, name="raw_orders", group="raw", tags={"source": "csv"}),
            asset(sql, name="raw_users", group="raw", tags={"source": "api"}),
            asset(sql, name="orders", deps=["raw_orders"], group="core"),
            asset(sql, name="users", deps=["raw_users"], group="core", kind="view"),
            asset(sql, name="report", deps=["orders", "users"], group="marts"),
            asset(sql, name="export", deps=["report"], group="marts"),
        ]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders", {"orders"}),
        ("*", {"raw_orders", "raw_users", "orders", "users", "report", "export"}),
        ("+report", {"report", "orders", "users", "raw_orders", "raw_users"}),
        ("1+report", {"report", "orders", "users"}),
        ("raw_orders+", {"raw_orders", "orders", "report", "export"}),
        ("raw_orders+1", {"raw_orders", "orders"}),
        ("+orders+", {"raw_orders", "orders", "report", "export"}),
        ("group:core", {"orders", "users"}),
        ("tag:source=csv", {"raw_orders"}),
        ("tag:source", {"raw_orders", "raw_users"}),
        ("kind:view", {"users"}),
        ("orders, users", {"orders", "users"}),
        ("orders or export", {"orders", "export"}),
        ("group:marts and not export", {"report"}),
        ("not (group:raw or group:core)", {"report", "export"}),
        ("(+report) and group:raw", {"raw_orders", "raw_users"}),
        ("  orders  ", {"orders"}),
    ],
)
def test_selection_forms(text, expected):
    assert select(_defs(), text) == expected


def test_none_selects_everything():
    assert select(_defs(), None) == set(_defs().assets)


def test_unknown_asset_names_position_and_suggestion():
    with pytest.raises(SelectionError) as caught:
        select(_defs(), "orders or reprot+")
    assert str(caught.value) == (
        "unknown asset 'reprot' at position 10 in selection 'orders or reprot+'."
        " Did you mean 'report' or 'export'?"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"empty selection; use '\*' for every asset at position 0"),
        ("orders and", "selection ends where an asset name was expected at position 10"),
        ("(orders", r"missing '\)' at position 7"),
        ("orders users", "unexpected 'users' at position 7"),
        ("group:nope", "unknown group 'nope' \\(groups: core, marts, raw\\) at position 0"),
        ("kind:matview", "unknown kind 'matview' \\(kinds: table, view\\)"),
        ("owner:me", "unknown filter 'owner': use group:, tag: or kind:"),
        ("orders; drop", "unexpected character ';' at position 6"),
    ],
)
def test_bad_selections_say_what_and_where(text, message):
    with pytest.raises(SelectionError, match=message):
        select(_defs(), text)
