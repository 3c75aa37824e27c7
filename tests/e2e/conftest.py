"""A real Streamlit server on a temp DuckDB file and a free port, and Debian's headless Chromium.

Playwright drives /usr/bin/chromium (never `playwright install`, which would download a browser);
`make test` installs the Debian package when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_env import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, dashboard_server, leaves_the_machine


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make run`'s command, from the repo root, on the shipped sample CSVs and a fresh DuckDB
    file. No --server.address or usage-stats flag: the shipped config must do that."""
    workdir = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "ASSETBOARD_DB": str(workdir / "warehouse.duckdb"),
        "ASSETBOARD_SALES_DATA": str(ROOT / "data"),
    }
    log = workdir / "streamlit.log"
    with dashboard_server(ROOT, env, log, {"server.fileWatcherType": "none"}) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed: `make test` installs it (apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so the page fixture knows the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:  # what the browser showed when it went wrong
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def outside_requests(page) -> list[str]:
    """Every request the page (and its iframes) makes to another host, from the first
    navigation on: the README promises none, so tests end with `assert outside_requests == []`."""
    seen: list[str] = []

    def record(request) -> None:
        if leaves_the_machine(request.url):
            seen.append(request.url)

    page.on("request", record)
    return seen


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
