"""The selection syntax: what each form selects, and errors that point at the mistake."""

import pytest

from pipeline import Definitions, SelectionError, asset, select
from pipeline.selection import MAX_NESTING, quote_name


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
        ("1 + report", {"report", "orders", "users"}),
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


# --- Deep nesting ------------------------------------------------------------------------------


def test_nesting_up_to_the_limit_parses():
    assert select(_defs(), "(" * MAX_NESTING + "orders" + ")" * MAX_NESTING) == {"orders"}
    assert select(_defs(), "not " * MAX_NESTING + "orders") == (
        {"orders"} if MAX_NESTING % 2 == 0 else set(_defs().assets) - {"orders"}
    )


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(" * 200 + "orders" + ")" * 200, 100),
        ("not " * 5000 + "orders", 400),
        ("(not " * 60 + "orders" + ")" * 60, 250),
    ],
)
def test_nesting_deeper_than_the_limit_is_refused_not_a_recursion_error(text, position):
    with pytest.raises(
        SelectionError,
        match=rf"^selection nested more than 100 levels deep \(parentheses and 'not'\) at"
        rf" position {position} in selection '.*'\. Write it with fewer levels",
    ):
        select(_defs(), text)


# --- Quoted names ------------------------------------------------------------------------------

AWKWARD_NAMES = [
    "my asset",
    "a,b",
    "-starts-with-dash",
    "x:y",
    'say "hi"',
    "umsätze",
    "ümsatz",
    "or",
    "not",
    "2024",
    "2024_sales",
    "+",
    "(paren)",
    "'single'",
]


def _awkward_defs() -> Definitions:
    def sql(con):
        return "SELECT 1 AS x"

    names = ["orders", *AWKWARD_NAMES]
    return Definitions(
        assets=[
            asset(sql, name=name, deps=["orders"] if name != "orders" else []) for name in names
        ]
    )


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_every_name_is_selectable_quoted(name):
    defs = _awkward_defs()
    quoted = '"' + name.replace('"', '""') + '"'
    assert select(defs, quoted) == {name}
    assert select(defs, quote_name(name)) == {name}
    assert select(defs, f"+{quoted}") == {name, "orders"}
    assert select(defs, f"1+{quoted}, orders+0") == {name, "orders"}
    assert select(defs, f"orders+ and not {quoted}") == set(defs.assets) - {name}


def test_plain_names_stay_unquoted_and_unicode_letters_need_no_quotes():
    defs = _awkward_defs()
    assert quote_name("raw_orders.v2") == "raw_orders.v2"
    assert quote_name("ümsatz") == "ümsatz"
    assert select(defs, "ümsatz or umsätze") == {"ümsatz", "umsätze"}
    assert quote_name("or") == '"or"' and quote_name("2024") == '"2024"'
    assert quote_name("group:x") == '"group:x"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"my asset', r"""unterminated quoted name at position 0 in selection '"my asset'\."""
                      r""" End it with " \(write "" for a quote inside a name\)"""),
        ('orders, ""', "empty quoted name at position 8"),
        ('"my assett"', """unknown asset 'my assett' at position 0 in selection '"my assett"'."""
                        " Did you mean 'my asset'"),
        ('2"+"', "expected an asset name, found '2' at position 0"),  # a quoted + is a name
    ],
)  # fmt: skip
def test_bad_quoted_names_say_what_and_where(text, message):
    with pytest.raises(SelectionError, match=message):
        select(_awkward_defs(), text)


def test_typed_text_is_echoed_as_typed_without_python_backslashes():
    with pytest.raises(SelectionError) as raised:
        select(_awkward_defs(), """'"; DROP TABLE x; --""")
    assert str(raised.value) == (
        """unexpected character "'" at position 0 in selection “'"; DROP TABLE x; --”."""
    )
    with pytest.raises(SelectionError) as raised:
        select(_awkward_defs(), "orders or \\x")
    assert str(raised.value) == (  # one backslash each, as typed
        "unexpected character '\\' at position 10 in selection 'orders or \\x'."
    )
    with pytest.raises(SelectionError, match=r"in selection 'orders or\\tdrop'"):
        select(_awkward_defs(), "orders or\tdrop")  # a tab is shown, the message one line


@pytest.mark.parametrize("typed", ["orders" + "x" * 5_000, "orders or " + "(" * 3_000])
def test_a_long_selection_is_quoted_short_in_its_error(typed):
    with pytest.raises(SelectionError) as refused:
        select(_defs(), typed)
    assert len(str(refused.value)) < 1_000  # not the paste, once or twice


def test_a_selection_that_is_one_unknown_name_is_quoted_once():
    with pytest.raises(SelectionError) as refused:
        select(_defs(), "reprot")
    assert str(refused.value).startswith("unknown asset 'reprot' at position 0.")
    assert str(refused.value).count("reprot") == 1


def test_a_long_selection_error_shows_the_character_it_points_at():
    text = "x" * 5_000 + " or **bold** <b>"
    with pytest.raises(SelectionError) as raised:
        select(_defs(), text)
    message = str(raised.value)
    assert message.startswith("unexpected character '<' at position 5013 in selection")
    assert message.endswith(" or **bold** <b>'.") and len(message) < 300
    assert "'[4,856 characters cut] …xxx" in message
