"""escape_markdown: hostile text in, text that Streamlit 1.67 shows literally out.

Two layers are checked, as the module docstring explains: no Markdown syntax survives the
CommonMark parse (every ASCII punctuation character is backslash-escaped, no line is indented
into a code block), and the text left after the parse matches none of the patterns Streamlit's
plugins rewrite afterwards (the regexes below are copied from its 1.67 frontend bundle).
tests/e2e/test_markdown_rendering.py checks the same strings in a real browser.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from dashboard_env import shown

from dashboard.safe import WORD_JOINER, escape_markdown

HOSTILE = [
    "![x](http://evil.invalid/a.png) [click me](http://evil.invalid/phish)",
    ":red[x] :material/home: $x$ <b>b</b> **bold** `code` back\\slash",
    '<img src=http://evil.invalid/i.png> <a href="http://evil.invalid">a</a>',
    "see http://evil.invalid/auto, www.evil.invalid or me@evil.invalid",
    "# heading\n> quote\n- item\n1. one\n    indented code\n| a | b |\n|---|---|",
    "$$x^2$$ and \\(x\\) :smile: :+1: :streamlit: a -> b <- c -- d >= e",
    "~~strike~~ [^1] [ref][r]\n\n[r]: http://evil.invalid",
    "<http://evil.invalid/auto> <script>alert(1)</script> &amp; &lt;",
    ":material_home: :blue-badge[x] :small[x] :help[tip] :rainbow[r] :color[x]{foreground=red}",
    "_italic_ *it* __b__ ***bi*** ``` fence",
    "===\n---\n***\n+ plus\n2) two\n\ttabbed",
    "C:\\temp\\new file.csv, 12:30:05, 50% of $3.50",
]

# Patterns Streamlit 1.67 applies to the parsed text, after escapes are resolved.
AFTER_PARSE = {
    "material icon": re.compile(r":material_(\w+):"),
    "streamlit logo": re.compile(r":streamlit:"),
    "emoji shortcode": re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:"),
    "link to a URL": re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE),
    "mailto link": re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
    "typographic arrow": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
}


def unescaped_punctuation(markdown: str) -> list[str]:
    """ASCII punctuation characters that no backslash makes literal."""
    bare, index = [], 0
    while index < len(markdown):
        char = markdown[index]
        if char == "\\" and index + 1 < len(markdown) and markdown[index + 1] in PUNCTUATION:
            index += 2
            continue
        if char in PUNCTUATION:
            bare.append(char)
        index += 1
    return bare


PUNCTUATION = set(string.punctuation)


@pytest.mark.parametrize("text", HOSTILE)
def test_no_markdown_syntax_survives(text: str) -> None:
    escaped = escape_markdown(text)
    assert unescaped_punctuation(escaped) == []
    for line in escaped.split("  \n"):
        assert not line.startswith((" ", "\t")), "an indented line would be a code block"


@pytest.mark.parametrize("text", HOSTILE)
def test_what_is_read_is_the_text_itself(text: str) -> None:
    assert shown(escape_markdown(text)) == text.replace("\t", "    ")


@pytest.mark.parametrize("text", HOSTILE)
def test_no_pattern_streamlit_rewrites_after_parsing_is_left(text: str) -> None:
    parsed = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escape_markdown(text))
    for what, pattern in AFTER_PARSE.items():
        assert not pattern.search(parsed), f"{what} in {parsed!r}"
    # Before parsing, Streamlit turns ':material/' into ':material_' everywhere.
    assert ":material/" not in escape_markdown(text)


def test_a_link_and_an_image_become_their_own_characters() -> None:
    assert escape_markdown("![i](http://h/i.png) [a](http://h)") == (
        f"\\!\\[i\\]\\(http\\:{WORD_JOINER}\\/\\/h\\/i\\.png\\)"
        f" \\[a\\]\\(http\\:{WORD_JOINER}\\/\\/h\\)"
    )


def test_plain_words_stay_as_they_are() -> None:
    assert escape_markdown("Run 7 failed in 3 s") == "Run 7 failed in 3 s"
    assert escape_markdown("état ünïcode · —") == "état ünïcode · —"


def test_line_breaks_stay_line_breaks_and_one_line_joins_them() -> None:
    assert escape_markdown("first\r\nsecond\rthird\n\nfifth") == (
        "first  \nsecond  \nthird  \n  \nfifth"
    )
    assert escape_markdown("  first\n\n  second  \n", one_line=True) == "first second"


def test_leading_spaces_are_kept_without_making_a_code_block() -> None:
    assert (
        escape_markdown("a\n    b\n\tc")
        == "a  \n\u00a0\u00a0\u00a0\u00a0b  \n" + "\u00a0" * 4 + "c"
    )


def test_anything_is_shown_through_str() -> None:
    assert escape_markdown(ValueError("bad *value*")) == "bad \\*value\\*"
    assert escape_markdown(Path("/tmp/a_b.duckdb")) == "\\/tmp\\/a\\_b\\.duckdb"
    assert escape_markdown(7) == "7"
