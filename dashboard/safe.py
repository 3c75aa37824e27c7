"""Text from data, errors, definitions or the URL, made safe to put into Streamlit Markdown.

Streamlit renders Markdown in st.markdown, st.caption, st.error / warning / info / success,
headings, st.status and widget labels and `help=` tooltips. A value such as
`![x](http://host/a.png)` would fetch an image there, `[click](http://host)` would become a
link, `:red[...]`, `:material/home:` and `$x$` would change what a person reads. Pass every such
value through `escape_markdown` so the page shows it exactly as it is; use plain-text elements
(st.code, st.text, dataframes) where Markdown adds nothing.

Two layers, because Streamlit 1.67 rewrites text in two places:
1. CommonMark and its extensions parse the source: a backslash before every ASCII punctuation
   character makes it literal (links, images, emphasis, code, HTML, headings, lists, tables,
   `$` maths, `:name[...]` directives).
2. After parsing, plugins search the *text* (escapes already gone) and replace patterns:
   `http://` and `www.` and `a@b.c` become links, `:material_x:` and `:emoji:` become icons,
   ` -> ` becomes an arrow. A WORD JOINER (U+2060, zero width, invisible) inside each such
   pattern stops the match; a copy of the text then carries that invisible character.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"

# Every ASCII punctuation character: CommonMark lets a backslash make any of them literal.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Patterns Streamlit's plugins look for in parsed text (see the module docstring, layer 2).
_COLON_BEFORE_WORD = re.compile(r":(?=[\w+/-])")  # :material_x:, :smile:, :red[..], http://
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)  # www.host.com becomes a link
_AT = re.compile(r"@(?=[\w-])")  # name@host.com becomes a mailto: link
_TYPOGRAPHY = re.compile(r"(?<!\S)(<->|->|<-|--|>=|<=|~=)(?!\S)")  # ' -> ' becomes ' → '
_LEADING_SPACE = re.compile(r"^[ \t]+")


def escape_markdown(text: object, *, one_line: bool = False) -> str:
    """`text` as Streamlit Markdown that renders literally, character for character.

    Line breaks stay line breaks (a Markdown hard break); with `one_line` they become spaces,
    for headings, labels and other places that hold one line. Leading spaces become no-break
    spaces, so an indented line is never read as a code block.
    """
    value = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if one_line:
        value = " ".join(part.strip() for part in value.split("\n") if part.strip())
    return "  \n".join(_escape_line(line) for line in value.split("\n"))


def _escape_line(line: str) -> str:
    line = _TYPOGRAPHY.sub(lambda m: WORD_JOINER.join(m.group(1)), line)
    line = _WWW.sub(rf"\1{WORD_JOINER}", line)
    line = _AT.sub(f"@{WORD_JOINER}", line)
    line = _COLON_BEFORE_WORD.sub(f":{WORD_JOINER}", line)
    line = _PUNCTUATION.sub(r"\\\1", line)
    return _LEADING_SPACE.sub(lambda m: "\u00a0" * len(m.group().expandtabs(4)), line)
