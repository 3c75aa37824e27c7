"""Hostile text from an error, the definitions or the URL reaches every page escaped.

An asset whose function fails with Markdown and HTML in its message, a check that crashes the
same way, and crafted query parameters: each page must put the text into Markdown only through
dashboard.safe.escape_markdown, so a person reads it as it is (no link, no image, no colour).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_env import defs_file, sample_data, shown
from streamlit.testing.v1 import AppTest

from dashboard import runs, state
from dashboard.safe import escape_markdown
from pipeline.definitions import load_definitions
from pipeline.engine import materialize

APP = "../../dashboard/app.py"  # relative to this file, as AppTest resolves it
HOSTILE = (
    "![x](http://evil.invalid/a.png) [click me](http://evil.invalid/phish)"
    " :red[red] :material/home: $x$ <b>bold</b>"
)
CHECK_KEY = "products.hostile_check"


def hostile_defs(folder: Path, data_dir: Path) -> Path:
    """The sales pipeline plus an asset and a check that fail with HOSTILE in their message."""
    path = folder / "hostile_defs.py"
    path.write_text(
        f"""
from pipeline import Definitions, asset, asset_check
from pipeline.errors import AssetFailure
from pipeline.examples.sales import build_definitions

HOSTILE = {HOSTILE!r}
base = build_definitions({str(data_dir)!r})


@asset(group="ingestion", description="Described as " + HOSTILE)
def broken(con):
    raise AssetFailure("could not read " + HOSTILE)


@asset_check(asset="products", description="Checks " + HOSTILE)
def hostile_check(con):
    raise RuntimeError("crashed on " + HOSTILE)


defs = Definitions(assets=[*base.assets.values(), broken], checks=[*base.checks, hostile_check])
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def hostile(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A warehouse whose one run recorded the hostile asset error and check error."""
    defs = hostile_defs(tmp_path, sample_data(tmp_path / "data"))
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    result = materialize(load_definitions(str(defs)), db=db_path)
    assert not result.ok  # the hostile asset failed and the hostile check crashed
    yield db_path
    runs.wait(db_path)


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_sources(at: AppTest) -> list[str]:
    """The Markdown source of every element Streamlit renders as Markdown, sidebar included."""
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader")
    sources = [str(element.value) for kind in kinds for element in getattr(at, kind)]
    sources += [str(element.value) for element in at.sidebar.caption]
    return sources + [element.label for element in [*at.status, *at.expander]]


def assert_shown_literally(at: AppTest, text: str) -> None:
    """`text` is on the page escaped, where a person reads it as it is, and never raw."""
    sources = markdown_sources(at)
    assert not [source for source in sources if text in source], "raw text in Markdown"
    escaped = [source for source in sources if escape_markdown(text) in source]
    assert escaped, f"{text!r} is not on the page"
    assert text in shown(escaped[0])


def test_overview_shows_the_asset_error_and_the_check_error_as_text(hostile: Path) -> None:
    at = open_page("overview")
    failures = [shown(m.value) for m in at.markdown if HOSTILE in shown(m.value)]
    assert any("**broken**" in f and f"could not read {HOSTILE}" in f for f in failures)
    assert any(f"**{CHECK_KEY}**" in f and f"crashed on {HOSTILE}" in f for f in failures)
    assert_shown_literally(at, f"could not read {HOSTILE}")
    assert_shown_literally(at, HOSTILE)


def test_graph_page_escapes_the_asset_in_the_url(hostile: Path) -> None:
    at = open_page("graph", **{state.QP_ASSET: HOSTILE})
    assert f"There is no asset named **{HOSTILE}**" in shown(at.warning[0].value)
    assert_shown_literally(at, HOSTILE)


def test_graph_page_escapes_the_description_and_shows_the_error_as_code(hostile: Path) -> None:
    at = open_page("graph", **{state.QP_ASSET: "broken"})
    assert_shown_literally(at, f"Described as {HOSTILE}")
    assert_shown_literally(at, f"could not read {HOSTILE}")  # the failed build's headline


def test_runs_page_escapes_the_run_in_the_url(hostile: Path) -> None:
    at = open_page("runs", **{state.QP_RUN: HOSTILE})
    said = f"**{HOSTILE}** is not a run number; showing the latest run instead."
    assert said in shown(at.warning[0].value)
    assert_shown_literally(at, HOSTILE)
    assert f"could not read {HOSTILE}" in shown(at.error[0].value)


def test_runs_page_says_a_run_number_in_the_url_is_not_among_its_runs(hostile: Path) -> None:
    at = open_page("runs", **{state.QP_RUN: "99"})
    assert "Run 99 is not among the last 1 runs." in shown(at.warning[0].value)
    at = open_page("runs", **{state.QP_RUN: ""})
    assert "The link names no run; showing the latest run instead." in shown(at.warning[0].value)


def test_checks_page_says_the_check_in_the_url_is_unknown_escaped(hostile: Path) -> None:
    at = open_page("checks", **{state.QP_CHECK: HOSTILE})
    assert f"There is no check named **{HOSTILE}**" in shown(at.warning[0].value)
    assert_shown_literally(at, HOSTILE)


def test_checks_page_says_the_check_in_the_url_is_unknown_before_any_run(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sample_data(tmp_path / "data")
    monkeypatch.setenv("ASSETBOARD_DEFS", str(defs_file(tmp_path, data)))
    monkeypatch.setenv("ASSETBOARD_DB", str(db_path))
    at = open_page("checks", **{state.QP_CHECK: HOSTILE})
    assert f"There is no check named **{HOSTILE}**." in shown(at.warning[0].value)
    assert_shown_literally(at, HOSTILE)


def test_checks_page_escapes_the_description_and_shows_the_error_as_code(hostile: Path) -> None:
    at = open_page("checks", **{state.QP_CHECK: CHECK_KEY})
    assert not at.warning
    assert_shown_literally(at, f"Checks {HOSTILE}")
    assert any(f"crashed on {HOSTILE}" in code.value for code in at.code)


def test_report_page_escapes_the_run_in_the_url(hostile: Path) -> None:
    at = open_page("report", **{state.QP_REPORT_RUN: HOSTILE})
    assert f"There is no run {HOSTILE!r} in this database" in shown(at.warning[0].value)
    assert_shown_literally(at, HOSTILE)


def test_the_live_run_panel_escapes_errors_and_names(hostile: Path) -> None:
    at = open_page("materialize")
    at.button(key=state.toolbar_key("toolbar", state.BTN_ALL)).click().run()
    runs.wait(hostile)
    at.run()
    assert "Materialize all: failed" in shown(at.status[0].label)
    assert_shown_literally(at, f"crashed on {HOSTILE}")  # the check's line in the panel
    assert f"could not read {HOSTILE}" in [code.value for code in at.code]


def test_a_selection_typed_by_hand_is_quoted_escaped(hostile: Path) -> None:
    at = open_page("materialize")
    at.text_input(key=state.toolbar_key("toolbar", state.INPUT_FREE_SELECTION)).input(HOSTILE)
    at.button(key=state.toolbar_key("toolbar", state.BTN_FREE)).click().run()
    assert "Nothing started" in shown(at.warning[0].value)
    assert not [source for source in markdown_sources(at) if "](http" in source]
    assert runs.current(hostile) is None


def test_the_sidebar_escapes_the_database_path(
    hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "![i](http:evil.invalid) [a](http:evil.invalid) **x**"
    folder.mkdir()
    monkeypatch.setenv("ASSETBOARD_DB", str(folder / "warehouse.duckdb"))
    at = open_page("overview")
    assert_shown_literally(at, str(folder / "warehouse.duckdb"))
