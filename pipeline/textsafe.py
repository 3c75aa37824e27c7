"""Text that came from data or errors, made safe to show: on a terminal, in a report, in XML.

Asset errors, check errors, run messages and even asset names can hold control characters
(`\\x1b[31m` recolours a terminal, `\\r` overwrites a line, U+202E reverses the text after it) or
be a whole CSV line a gigabyte long. Whatever shows such text passes it through here first.
"""

from __future__ import annotations

import re
from functools import cache

# C0 and C1 controls except tab and newline, DEL, bidirectional overrides and isolates, line and
# paragraph separators, and lone surrogates (which cannot even be encoded to UTF-8).
_UNPRINTABLE = (
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)
# The same with tab and newline: text quoted inside a one-line message.
_CONTROL = "[\t\n" + _UNPRINTABLE[1:]
# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
MAX_TEXT = 10_000


@cache
def _pattern(characters: str) -> re.Pattern[str]:
    """Compiled on first use: these wide classes take 5 ms, a tenth of a CLI's start."""
    return re.compile(characters)


_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    if match.group() in _NAMED:
        return _NAMED[match.group()]
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control characters shown as escapes (`\\x1b`, `\\u202e`); tab and newline kept,
    and a Windows line end (CR LF) read as a newline. Only a lone CR, which overwrites the line,
    is shown as `\\r`.

    Backslashes already in the text are left alone: this is for reading, not a reversible code.
    """
    if text.isprintable():  # nothing the pattern matches is printable: most text ends here
        return text
    return _pattern(_UNPRINTABLE).sub(_escape, text.replace("\r\n", "\n"))


def quoted(text: str) -> str:
    """`text` in quotes, for a message that echoes what someone typed: 'name', or "it's" when
    it holds a ', or “both ' and "” when it holds both. Unlike repr(), no backslash the user
    did not type is added; control characters, tabs and newlines are shown as escapes, so the
    message stays on one line."""
    shown = _pattern(_CONTROL).sub(_escape, text)
    if "'" not in shown:
        return f"'{shown}'"
    if '"' not in shown:
        return f'"{shown}"'
    return f"“{shown}”"


def cap(text: str, limit: int = MAX_TEXT) -> str:
    """`text` in at most `limit` characters, ending with how many were cut; capping twice
    changes nothing."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - 40)  # room for the note, whose number has at most 20 digits
    return f"{text[:keep]}… [{len(text) - keep:,} characters cut]"


def window(text: str, position: int, limit: int = MAX_TEXT) -> str:
    """`text` in at most `limit` characters, keeping the part around `position`: an error that
    points at a character must still show it when the text is too long to echo whole. Says
    how many characters were cut before and after the part shown."""
    if len(text) <= limit:
        return text
    position = min(max(position, 0), len(text))
    keep = max(0, limit - 40)
    start = max(0, position - keep // 2)
    if start == 0:
        return cap(text, limit)
    if start + keep >= len(text):
        start = len(text) - keep
        return f"[{start:,} characters cut] …{text[start:]}"
    keep = max(0, limit - 80)  # room for two notes
    start = max(0, min(position - keep // 2, len(text) - keep))
    end = start + keep
    return f"[{start:,} characters cut] …{text[start:end]}… [{len(text) - end:,} characters cut]"


def for_terminal(text: str, limit: int = MAX_TEXT) -> str:
    """Capped first, so a huge text is never scanned whole, then made printable."""
    return printable(cap(text, limit))


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE,
    U+FFFF) shown as an escape, so the document stays well-formed; everything else is kept."""
    return _pattern(_NOT_XML).sub(_escape, text)
