"""The Profile tab of the asset details: figures per column and a number column's trend."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from dashboard_env import settings_for, shown
from streamlit.testing.v1 import AppTest

from dashboard import charts
from dashboard.models import asset as asset_model
from pipeline import Definitions, MonthlyPartitions, asset
from pipeline.definitions import load_definitions
from pipeline.engine import materialize
from pipeline.store import Profile

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it
HOSTILE = "[click](http://evil.invalid)"
DEFS = f"""\
from pipeline import Definitions, asset

SQL = '''
SELECT * FROM (VALUES
    (1, 2.5::DOUBLE, DATE '2024-01-02', 'apple', 'red'),
    (2, NULL, DATE '2024-03-01', 'fig', 'red'),
    (3, 4.5, NULL, NULL, 'green'),
    (NULL, 8.5, DATE '2024-02-10', 'kiwi', 'red')
) AS v(n, amount, day, "{HOSTILE}", colour)
'''


@asset
def fruit(con):
    return SQL


@asset(deps=[fruit], kind="view")
def fruit_view(con):
    return "SELECT * FROM fruit"


defs = Definitions(assets=[fruit, fruit_view])
"""


@pytest.fixture
def built(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`fruit` built twice: a profile per build, so its trend has two points."""
    defs = tmp_path / "fruit_defs.py"
    defs.write_text(DEFS, encoding="utf-8")
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    for _ in range(2):
        assert materialize(load_definitions(str(defs)), db=db_path).ok
    return defs


def open_asset(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["asset"] = name
    at.switch_page("views/graph.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_model_shows_each_column_as_text(built: Path, db_path: Path) -> None:
    cfg = settings_for(built, db_path)
    details = asset_model.asset_details(cfg, load_definitions(str(built)), "fruit")
    view = details.profile
    assert view is not None and view.error is None
    rows = view.table.set_index("Column")
    assert rows.loc["amount", "Nulls"] == "1 (25.0%)"
    assert rows.loc["amount", "Quartiles"] == "3 / 4.5 / 7.5"  # approx_quantile interpolates
    assert rows.loc["day", "Min"] == "2024-01-02"
    assert rows.loc[HOSTILE, "Length"] == "3–5, avg 4"
    assert rows.loc["colour", "Top values"] == "red (3), green (1)"
    assert view.note.startswith("Profile of run 2 (4 rows), computed in")
    assert set(view.trend["column"]) == {"n", "amount", "day", HOSTILE, "colour"}
    assert sorted(view.trend["run_id"].unique()) == [1, 2]
    assert view.trend_figures("amount") == [
        "Null share",
        "Distinct",
        "Mean",
        "Min",
        "Max",
        "Median",
        "Std dev",
    ]
    assert view.trend_figures("day") == ["Null share", "Distinct"]  # its min, max are dates
    assert view.trend_figures(HOSTILE) == ["Null share", "Distinct", "Avg length"]
    n = view.distributions["n"]  # 1..3: one whole value a bin
    assert n.binned and list(n.frame["label"]) == ["1", "2", "3"]
    assert list(n.frame["rows"]) == [1, 1, 1]
    day = view.distributions["day"]  # 60 days in bins of 5: labels give both ends
    assert day.binned and day.temporal and day.frame["label"].iloc[0] == "2024-01-02 – 2024-01-06"
    assert day.frame["rows"].sum() == 3
    colour = view.distributions["colour"]  # text: its top values
    assert not colour.binned and list(colour.frame["label"]) == ["red", "green"]


def test_the_asset_details_show_the_profile(built: Path) -> None:
    at = open_asset("fruit")
    assert [t.label for t in at.tabs][:5] == ["Preview", "Schema", "Profile", "History", "Checks"]
    [overview] = [d.value for d in at.dataframe if "Distinct" in d.value.columns]
    assert list(overview.columns) == asset_model.PROFILE_OVERVIEW  # fits the side panel
    assert list(overview["Column"]) == ["n", "amount", "day", HOSTILE, "colour"]
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Column")).select("amount")
    at.run()
    [figures] = [d.value for d in at.dataframe if "Figure" in d.value.columns]
    read = dict(zip(figures["Figure"], figures["Value"], strict=True))
    assert read["Nulls"] == "1 (25.0%)" and read["Quartiles"] == "3 / 4.5 / 7.5"
    assert "Length" not in read  # a number has none: empty figures are left out
    captions = "\n".join(shown(c.value) for c in at.caption)
    assert "Profile of run 2 (4 rows)" in captions
    assert "](http" not in "\n".join(c.value for c in at.caption)  # no link is made of data
    titles = _chart_titles(at)
    assert titles == ["Distribution, min to max", "Null share by run"]
    figure = next(s for s in at.selectbox if s.label == "Over recent builds")
    assert figure.options[:3] == ["Null share", "Distinct", "Mean"]
    figure.select("Mean")
    at.run()
    assert _chart_titles(at) == ["Distribution, min to max", "Mean by run"]
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Column")).select("colour")
    at.run()
    assert not at.exception
    assert _chart_titles(at)[0] == "Top values"


def _chart_titles(at: AppTest) -> list[str]:
    """The titles of the Profile tab's charts (the History tab's row count chart left out)."""
    found = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec.get("title")
        if title and title != "Row count by run":
            found.append(str(title))
    return found


def test_a_view_says_it_is_not_profiled(built: Path) -> None:
    at = open_asset("fruit_view")
    assert "Views are not profiled." in "\n".join(shown(c.value) for c in at.caption)


def test_the_trend_chart_builds_without_streamlit() -> None:
    trend = pd.DataFrame(
        [[1, "Null share", 0.0], [2, "Null share", 0.5]], columns=["run_id", "figure", "value"]
    )
    spec = charts.profile_trend(trend).to_dict()
    assert spec["title"] == "Null share by run"
    assert spec["layer"][0]["encoding"]["y"]["axis"]["format"] == ".1~%"


def test_the_distribution_charts_build_without_streamlit() -> None:
    bins = {"edges": [0.0, 0.5, 1.0], "counts": [3, 1]}
    shape = asset_model.distribution("DOUBLE", {"bins": bins})
    assert shape is not None and list(shape.frame["label"]) == ["0 – 0.5", "0.5 – 1"]
    spec = charts.column_distribution(shape).to_dict()
    assert spec["encoding"]["x"]["field"] == "start" and spec["encoding"]["x2"]["field"] == "end"
    assert spec["mark"]["type"] == "rect" and spec["encoding"]["y2"] == {"datum": 0}
    days = {"edges": ["2024-01-01", "2024-01-02", "2024-01-04"], "counts": [2, 5]}
    shape = asset_model.distribution("DATE", {"bins": days})
    assert shape is not None and list(shape.frame["label"]) == [
        "2024-01-01",
        "2024-01-02 – 2024-01-03",
    ]
    assert charts.column_distribution(shape).to_dict()["encoding"]["x"]["type"] == "temporal"
    top = asset_model.distribution("VARCHAR", {"top": [[HOSTILE, 3], ["b", 1]]})
    assert top is not None and not top.binned
    spec = charts.column_distribution(top).to_dict()
    assert spec["title"] == "Top values" and spec["encoding"]["y"]["sort"] == "-x"
    assert asset_model.distribution("VARCHAR", {"nulls": 0}) is None


def test_the_model_says_why_there_is_no_profile() -> None:
    months = MonthlyPartitions(start="2024-01-01", end="2024-03-01")
    defs = Definitions(
        assets=[
            asset(lambda con: "SELECT 1 AS n", name="table"),
            asset(lambda con: "SELECT 1 AS n", name="view", kind="view"),
            asset(lambda con: "SELECT 1 AS n", name="quiet", profile=False),
            asset(
                lambda con, context: "SELECT DATE '2024-01-01' AS month",
                name="parted",
                partitions=months,
                partition_column="month",
            ),
        ]
    )
    notes = {name: asset_model.profile_view(defs, name, []).note for name in defs.assets}
    assert notes == {
        "table": "No profile yet: each build of a table records one.",
        "view": "Views are not profiled.",
        "quiet": "Profiling is off for this asset (profile=False).",
        "parted": "No profile yet: the whole table is profiled once a run's partitions all built.",
    }
    failed = Profile(3, "table", 10, error="Binder Error: no avg(MAP)", raw_values=False)
    view = asset_model.profile_view(defs, "table", [failed])
    assert view.error == "Binder Error: no avg(MAP)" and view.table.empty
    assert view.note.startswith("Profile of run 3 (10 rows). No values of the data are kept")
