"""The graph page under AppTest: clicks on the graph component, the filter, and large graphs.

The component is a components-v2 element: AppTest does not run its JavaScript, and lists it as
an unknown `bidi_component` element whose proto holds the data sent to the browser. `click`
sends what the browser sends on a click (see its docstring).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dashboard_env import defs_file, sample_data, shown
from streamlit.testing.v1 import AppTest

from dashboard import graph_views, state
from pipeline.definitions import load_definitions
from pipeline.engine import materialize
from pipeline.looks import look
from pipeline.states import Severity

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it
SYNTHETIC = """\
from bench.resolver import synthetic_assets
from pipeline.definitions import Definitions

defs = Definitions(assets=synthetic_assets({n}, {edges}, layers=10))
"""


@pytest.fixture
def sales(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sales example on sample data (orphan rows: a check fails), built once."""
    defs = defs_file(tmp_path, sample_data(tmp_path / "data", orphan_rate=0.1))
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    materialize(load_definitions(str(defs)), db=db_path)
    return defs


@pytest.fixture
def large(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """More synthetic assets than the page draws one by one (never built: no history)."""
    n = graph_views.GROUP_THRESHOLD + 50
    defs = tmp_path / "synthetic_defs.py"
    defs.write_text(SYNTHETIC.format(n=n, edges=n * 3), encoding="utf-8")
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    return defs


def open_graph(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page("views/graph.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def drawn(at: AppTest) -> dict[str, Any]:
    """The data the page sent to the graph component."""
    [graph] = at.get("bidi_component")
    proto = graph.proto
    return json.loads(proto.mixed.json if proto.WhichOneof("data") == "mixed" else proto.json)


def click(at: AppTest, kind: str, name: str) -> AppTest:
    """A click on a box, as the browser reports it, and the rerun it causes.

    AppTest has no public way to fire a components-v2 trigger. The browser's setTriggerValue
    sends one widget state, `$$STREAMLIT_INTERNAL_KEY_<component id>__events`, holding
    {"event": "select", "value": ...}; this adds it to the page's other widget states and runs
    the page with them, as AppTest.run does (through AppTest's internal _tree and _run).
    """
    [graph] = at.get("bidi_component")
    states = at._tree.get_widget_states()
    trigger = states.widgets.add()
    trigger.id = f"$$STREAMLIT_INTERNAL_KEY_{graph.proto.id}__events"
    trigger.json_trigger_value = json.dumps(
        {"event": "select", "value": {"kind": kind, "name": name}}
    )
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at


def heading(at: AppTest) -> str:
    return shown(at.subheader[0].value)


def warnings(at: AppTest) -> str:
    return "\n".join(shown(w.value) for w in at.warning)


# --- clicks ---------------------------------------------------------------------------------


def test_clicking_a_node_shows_it_and_puts_it_in_the_url(sales: Path) -> None:
    at = open_graph(asset="joined_data")
    click(at, "asset", "products")
    assert heading(at) == "products"
    assert at.query_params[state.QP_ASSET] == "products"
    assert drawn(at)["selected"] == "asset:products"


def test_every_click_counts_even_on_the_box_clicked_last(sales: Path) -> None:
    at = open_graph()
    for name in ("products", "sales_reps", "joined_data"):
        assert heading(click(at, "asset", name)) == name
    at.selectbox[0].set_value("sales_data").run()  # another asset, picked outside the graph
    assert heading(at) == "sales_data"
    assert heading(click(at, "asset", "joined_data")) == "joined_data"
    assert heading(click(at, "asset", "joined_data")) == "joined_data"
    at.run()  # a rerun with no click: the trigger is gone, the selection stays
    assert heading(at) == "joined_data"


def test_an_unknown_kind_is_ignored_and_an_unknown_asset_explained(sales: Path) -> None:
    at = open_graph(asset="products")
    click(at, "table", "joined_data")  # not a kind the component sends
    assert heading(at) == "products"
    click(at, "asset", "no_such_asset")  # say, a tab still showing an older definition
    assert "There is no asset named **no_such_asset**" in warnings(at)


def test_the_graph_shows_failing_checks_on_the_node(sales: Path) -> None:
    at = open_graph()
    nodes = {node["name"]: node for node in drawn(at)["nodes"]}
    assert nodes["joined_data"]["ring"] == look(Severity.ERROR).colour
    assert "failing check" in nodes["joined_data"]["lines"][2][0]
    assert nodes["products"]["ring"] is None
    assert drawn(at)["selected"] is None


# --- the filter -----------------------------------------------------------------------------


def test_the_selection_and_the_search_filter_the_graph(sales: Path) -> None:
    at = open_graph(**{state.GRAPH_SELECTION: "+joined_data", state.GRAPH_SEARCH: "SALES"})
    assert {node["name"] for node in drawn(at)["nodes"]} == {"sales_data", "sales_reps"}
    assert "2 assets of 7 match the filter." in "\n".join(shown(c.value) for c in at.caption)


def test_a_selection_that_does_not_parse_is_an_escaped_message(sales: Path) -> None:
    crafted = "[click](http://evil.invalid) or"
    at = open_graph(**{state.GRAPH_SELECTION: crafted})
    [message] = at.warning
    assert message.value.startswith("**The selection does not parse:**")
    assert "\\[click\\]" in message.value  # escaped: no link is made of it
    assert len(drawn(at)["nodes"]) == 7  # the graph ignores it


def test_nothing_matching_says_so(sales: Path) -> None:
    at = open_graph(**{state.GRAPH_SEARCH: "zzz"})
    assert at.get("bidi_component") == []
    assert "No asset matches" in "\n".join(shown(i.value) for i in at.info)


# --- large graphs ---------------------------------------------------------------------------


def test_a_large_graph_opens_on_groups_and_a_click_opens_one(large: Path) -> None:
    at = open_graph()
    assert {node["kind"] for node in drawn(at)["nodes"]} == {"group"}
    click(at, "group", "g3")
    assert at.query_params[state.QP_OPEN] == "g3"
    groups = {node["name"] for node in drawn(at)["nodes"] if node["kind"] == "group"}
    assets = [node for node in drawn(at)["nodes"] if node["kind"] == "asset"]
    assert assets and "g3" not in groups
    at.button(key=state.BTN_GRAPH_GROUPS).click().run()
    assert state.QP_OPEN not in at.query_params
    assert {node["kind"] for node in drawn(at)["nodes"]} == {"group"}


def test_a_selected_asset_in_a_large_graph_shows_its_neighbourhood(large: Path) -> None:
    defs = load_definitions(str(large))
    name = defs.graph.names[100]
    at = open_graph(asset=name)
    near = {name} | defs.graph.upstream(name, 2) | defs.graph.downstream(name, 2)
    assert {node["name"] for node in drawn(at)["nodes"]} == near
    at.number_input(key=state.GRAPH_DEPTH).set_value(1).run()
    near = {name} | set(defs.graph.parents(name)) | set(defs.graph.children(name))
    assert {node["name"] for node in drawn(at)["nodes"]} == near
    group = defs.assets[name].group
    at.button(key=state.BTN_GRAPH_OPEN_GROUP).click().run()
    assert at.query_params[state.QP_OPEN] == group and state.QP_ASSET not in at.query_params


def test_the_full_graph_draws_every_asset(large: Path) -> None:
    at = open_graph()
    at.toggle(key=state.GRAPH_FULL).set_value(True).run()
    assert len(drawn(at)["nodes"]) == graph_views.GROUP_THRESHOLD + 50


def test_an_unknown_group_in_the_url_is_explained(large: Path) -> None:
    at = open_graph(**{state.QP_OPEN: "**nope**"})
    assert "There is no group named ****nope****" in warnings(at)
    assert {node["kind"] for node in drawn(at)["nodes"]} == {"group"}


EMPTY = """\
from pipeline import Definitions, asset


@asset
def nothing_today(con):
    return "SELECT 1 AS order_id, 'x' AS customer WHERE false"


defs = Definitions(assets=[nothing_today])
"""


def test_a_table_built_with_no_rows_says_so_with_its_columns(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = tmp_path / "empty_defs.py"
    defs.write_text(EMPTY, encoding="utf-8")
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    before = open_graph(asset="nothing_today")
    [tab] = [tab for tab in before.tabs if tab.label == "Preview"]
    assert [c.value for c in tab.caption] == ["No preview yet: materialize the asset first."]
    materialize(load_definitions(str(defs)), db=db_path)
    at = open_graph(asset="nothing_today")
    [tab] = [tab for tab in at.tabs if tab.label == "Preview"]
    # It used to say "materialize the asset first" about a table that was built, empty.
    assert [shown(c.value) for c in tab.caption] == [
        "The table is empty: run 1 built it with 0 rows (its columns above)."
    ]
    [table] = tab.dataframe
    assert list(table.value.columns) == ["order_id", "customer"] and table.value.empty
