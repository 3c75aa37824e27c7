"""Text from data and errors made safe to show: on a terminal, in a report, in XML."""

import xml.etree.ElementTree as ET
from xml.dom import minidom

import pytest

from pipeline.textsafe import cap, printable, quoted, window, xml_safe


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, ünïcödé 🙂", "plain text, ünïcödé 🙂"),
        ("line one\n\tindented", "line one\n\tindented"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("bell\x07 nul\x00 del\x7f", "bell\\x07 nul\\x00 del\\x7f"),
        ("over\rwrite", "over\\rwrite"),
        ("windows\r\nline ends\r\n", "windows\nline ends\n"),
        ("c1 \x9b2J", "c1 \\x9b2J"),
        ("evil\u202ereversed", "evil\\u202ereversed"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("a backslash \\x1b stays", "a backslash \\x1b stays"),
    ],
)
def test_printable_shows_control_characters_as_escapes(text, shown):
    assert printable(text) == shown
    printable(text).encode("utf-8")  # a lone surrogate would make print() raise


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("reprot", "'reprot'"),
        ("it's", '"it\'s"'),
        ("""'"; DROP TABLE x; --""", """“'"; DROP TABLE x; --”"""),  # no backslash added
        ("C:\\data\\x", "'C:\\data\\x'"),  # a typed backslash is shown once, not doubled
        ("two\nlines\tand\x1b[31m", "'two\\nlines\\tand\\x1b[31m'"),  # one line, visible
    ],
)
def test_quoted_echoes_typed_text_without_added_backslashes(text, shown):
    assert quoted(text) == shown


def test_cap_keeps_short_text_and_says_how_much_was_cut():
    assert cap("short", limit=100) == "short"
    assert cap("x" * 100, limit=100) == "x" * 100
    capped = cap("x" * 1_000_060, limit=100)
    assert capped == "x" * 60 + "… [1,000,000 characters cut]"
    assert len(capped) <= 100 and cap(capped, limit=100) == capped  # capping twice: no change


def test_window_keeps_the_part_around_a_position_and_says_what_was_cut():
    assert window("short", 2, limit=100) == "short"
    text = "a" * 1_000 + "<b>" + "z" * 1_000
    shown = window(text, 1_000, limit=100)
    assert "<b>" in shown and len(shown) <= 100
    assert shown.startswith("[990 characters cut] …a") and shown.endswith("z… [993 characters cut]")
    assert window("x" * 1_000 + "<", 1_000, limit=100) == "[941 characters cut] …" + "x" * 59 + "<"
    assert window(text, 0, limit=100) == cap(text, limit=100)  # at the start: cut the end only


def test_cap_default_limit_is_ten_thousand():
    capped = cap("y" * 20_000)
    assert capped == "y" * 9_960 + "… [10,040 characters cut]" and len(capped) <= 10_000


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("ok <&> \"' tab\t nl\n cr\r ünï 🙂", "ok <&> \"' tab\t nl\n cr\r ünï 🙂"),
        ("\x00\x01\x08\x0b\x0c\x1b[31m", "\\x00\\x01\\x08\\x0b\\x0c\\x1b[31m"),
        ("\ud800 \udfff \ufffe \uffff", "\\ud800 \\udfff \\ufffe \\uffff"),
        ("c1 \x85 is allowed", "c1 \x85 is allowed"),
    ],
)
def test_xml_safe_replaces_what_xml_1_0_forbids(text, safe):
    assert xml_safe(text) == safe
    element = ET.Element("t", attr=xml_safe(text))
    element.text = xml_safe(text)
    document = ET.tostring(element, encoding="unicode")
    minidom.parseString(document.encode("utf-8"))  # expat: strict XML 1.0
    assert ET.fromstring(document).get("attr") == safe  # text would turn \r into \n
