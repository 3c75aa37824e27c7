"""escape_markdown's output in a real Streamlit 1.67 page: every element that renders Markdown
shows the hostile text character for character, and builds nothing from it.

The unit tests check the escaping against Streamlit's rules as copied from its frontend; this
test asks the frontend itself, so a Streamlit upgrade that adds a Markdown plugin shows here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_env import ROOT, dashboard_server
from markdown_probe_app import HOSTILE, KINDS

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).with_name("markdown_probe_app.py")
# Inside the Markdown of a probe: anything here was built from the hostile text's syntax.
BUILT = (
    "a, img, .katex, strong, em, code, del, li, blockquote, table, h1, h2, h4, h5, h6,"
    " [class*=stMarkdownColored], [class*=stMarkdownBadge], [role=img]"
)
READ = """(box, built) => ({
    text: box.innerText,
    built: [...box.querySelectorAll('[data-testid=stMarkdownContainer],'
        + ' [data-testid=stCaptionContainer]')]
        .flatMap(md => [...md.querySelectorAll(built)].map(el => el.outerHTML.slice(0, 80))),
})"""


def as_read(text: str) -> str:
    """Text as a person reads it: invisible word joiners gone, any run of spaces one space."""
    return " ".join(text.replace("\u2060", "").replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def probe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("probe")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    options = {
        "server.address": "127.0.0.1",
        "server.headless": "true",
        "browser.gatherUsageStats": "false",
        "server.fileWatcherType": "none",
    }
    with dashboard_server(work, env, work / "streamlit.log", options, script=PROBE) as server:
        yield server.url


def test_every_markdown_element_shows_escaped_text_literally(
    page, probe_url: str, outside_requests: list[str], screenshot
) -> None:
    page.goto(probe_url)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
    )
    control = page.locator(".st-key-control").evaluate(READ, BUILT)
    assert len(control["built"]) == 2, "the unescaped control should make a link and an image"

    wrong = []
    for index, text in enumerate(HOSTILE):
        for kind in KINDS:
            seen = page.locator(f".st-key-probe-{index}-{kind}").evaluate(READ, BUILT)
            if as_read(text) not in as_read(seen["text"]) or seen["built"]:
                wrong.append((index, kind, as_read(seen["text"]), seen["built"]))
    assert wrong == []

    button = page.locator(".st-key-probe-0-button")
    button.get_by_test_id("stTooltipHoverTarget").first.hover()
    tooltip = page.get_by_test_id("stTooltipContent")
    tooltip.wait_for()
    assert as_read(tooltip.inner_text()) == HOSTILE[0]
    assert tooltip.locator("a, img").count() == 0
    page.locator(".st-key-probe-1-markdown").scroll_into_view_if_needed()
    screenshot("markdown-probe")
    assert outside_requests == []
