"""Materializing an asset that takes config from its details: the form asks for each field,
refuses bad values with the reason before anything starts, and builds the requested rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dashboard_env import defs_file, sample_data, shown
from streamlit.testing.v1 import AppTest

from dashboard import runs, state
from dashboard.config_form import field_label
from pipeline import store
from pipeline.definitions import load_definitions
from pipeline.engine import materialize

APP = "../../dashboard/app.py"


@pytest.fixture
def built(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = sample_data(tmp_path / "data")
    defs = defs_file(tmp_path, data)
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    materialize(load_definitions(str(defs)), db=db_path)
    return data


def open_adhoc() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["asset"] = "adhoc_request"
    at.switch_page("views/graph.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fill(at: AppTest, **values: str) -> AppTest:
    for name, value in values.items():
        at.text_input(key=state.config_field_key("adhoc_request", name)).input(value)
    at.button(key=f"FormSubmitter:{state.FORM_RUN_CONFIG}-Materialize with this config").click()
    return at.run()


def test_the_form_lists_each_field_and_builds_what_it_asks_for(built: Path, db_path: Path) -> None:
    at = open_adhoc()
    labels = [shown(i.label) for i in at.text_input if i.key.startswith("run_config:")]
    assert labels == ["department (str)", "product (str)", "start_date (date)", "end_date (date)"]
    with duckdb.connect() as con:  # a department and product the sample data has
        department, product = con.execute(
            f"SELECT r.department, p.product_name FROM read_csv('{built}/sales_data.csv') s"
            f" JOIN read_csv('{built}/sales_reps.csv') r USING (rep_id)"
            f" JOIN read_csv('{built}/products.csv') p USING (product_id) LIMIT 1"
        ).fetchone()
    fill(at, department=department, product=product, start_date="2024-01-01",
         end_date="2025-12-31")  # fmt: skip
    assert not at.warning and not at.error, [w.value for w in at.warning]
    live = runs.wait(db_path)
    assert live is not None and live.ok, live.error if live else None
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE department = ? AND product_name = ?)"
            " FROM adhoc_request",
            [department, product],
        ).fetchone()
    assert rows[0] == rows[1] > 0
    with store.open_store(db_path) as con:
        assert store.list_runs(con, 1)[0].launched_by == "dashboard"


def test_field_labels_hold_no_markdown_escapes_for_screen_readers(built: Path) -> None:
    at = open_adhoc()
    # The label is also the input's aria-label: "department \(str\)" would be read out
    labels = [i.label for i in at.text_input if i.key.startswith("run_config:")]
    assert labels == ["department (str)", "product (str)", "start_date (date)", "end_date (date)"]
    assert field_label("_x_ (list[str])") == r"\_x\_ \(list\[str\]\)"  # Markdown would eat it


def test_values_the_config_refuses_start_nothing_and_say_why(built: Path, db_path: Path) -> None:
    at = fill(open_adhoc(), department="North", product="x", start_date="2024-13-01")
    [warning] = at.warning
    text = shown(warning.value)
    assert text.startswith("**Nothing started:** the config of 'adhoc_request' is not valid")
    assert "start_date: Input should be a valid date" in text and "end_date: missing" in text
    with store.open_store(db_path) as con:
        assert len(store.list_runs(con)) == 1  # only the fixture's run


def test_materialize_this_asset_without_config_points_at_the_form(
    built: Path, db_path: Path
) -> None:
    at = open_adhoc()
    at.button(key=state.toolbar_key("graph", state.BTN_SELECTED)).click().run()
    [warning] = at.warning
    text = shown(warning.value)
    assert text.startswith("**Nothing started:** adhoc_request needs run config (department,")
    assert "fill its Run config form above and click 'Materialize with this config'" in text
    assert "--config" not in text  # command-line advice, on a page that has a form for it
    assert runs.current(db_path) is None and not at.status  # no run, no asset shown as queued
    with store.open_store(db_path) as con:
        assert len(store.list_runs(con)) == 1  # only the fixture's run


def test_an_unbuilt_config_asset_points_at_its_form_not_the_buttons(built: Path) -> None:
    at = open_adhoc()
    hint = "\n".join(shown(i.value) for i in at.info)
    assert "**adhoc_request** has not been materialized yet: fill its Run config form below" in hint
