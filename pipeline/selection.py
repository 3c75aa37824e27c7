"""The selection syntax, a Dagster-compatible subset, turned into a set of asset names.

name  "any name"  *  +name  name+  2+name  name+1  group:NAME  tag:KEY=VALUE  tag:KEY  kind:view
combined with `,` or `or`, `and`, `not`, and parentheses.

A bare name starts with a letter or `_` and goes on with letters, digits, `_`, `.` and `-`
(`raw_orders`, `umsätze`). Any other asset name is written in double quotes, as SQL quotes an
identifier: `"my asset"`, `"2024"`, `"or"`, `"x:y"`; a double quote inside is doubled,
`"a ""quoted"" word"`. A quoted name is always an asset name, never a keyword or a filter.
`quote_name` writes a name in this syntax.

Parentheses and `not` nest at most MAX_NESTING levels deep: the parser recurses, and a deeper
selection gets a SelectionError instead of Python's RecursionError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.definitions import KINDS, Definitions
from pipeline.errors import SelectionError
from pipeline.graph import suggest
from pipeline.textsafe import cap, quoted, window

# A word starts with a letter or `_` in any script: [^\W\d] is \w without the digits.
_WORD = r"[^\W\d][\w.-]*"
_TOKEN = re.compile(
    r"\s*(?:(?P<punct>[(),*+])|(?P<number>\d+)(?![\w.:-])"
    r'|(?P<name>"(?:[^"]|"")*")'
    rf"|(?P<word>{_WORD}(?::[\w.-]+(?:=[\w.-]*)?)?))"
)
_BARE_NAME = re.compile(_WORD)
_KEYWORDS = {"or", "and", "not"}
# Each level costs the parser five Python frames; 100 leave ample room under the default
# recursion limit of 1000 for callers (Streamlit, pytest) and are far beyond any real selection.
MAX_NESTING = 100
QUOTED_MAX = 200  # characters of a selection or a name quoted in an error: not a 5,000-long paste


def _quoted(text: str, position: int | None = None) -> str:
    """`text` as an error message quotes it, cut short when it is long: around `position`
    when the message points at one, so the character it names is still shown."""
    shown = cap(text, QUOTED_MAX) if position is None else window(text, position, QUOTED_MAX)
    return quoted(shown)


@dataclass(frozen=True)
class Token:
    kind: str  # punct, number, word, keyword, name (quoted, text unquoted), end
    text: str
    position: int


def quote_name(name: str) -> str:
    """`name` as it is written in a selection: bare when it can be, else in double quotes."""
    if _BARE_NAME.fullmatch(name) and name.lower() not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def tokenize(text: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].isspace():
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            start = len(text) - len(text[position:].lstrip())
            where = f"at position {start} in selection {_quoted(text, start)}"
            if text[start] == '"':
                raise SelectionError(
                    f'unterminated quoted name {where}. End it with " (write "" for a quote'
                    " inside a name)"
                )
            raise SelectionError(f"unexpected character {quoted(text[start])} {where}.")
        group = match.lastgroup or "word"
        kind, value = group, match.group(group)
        if kind == "word" and value.lower() in _KEYWORDS:
            kind, value = "keyword", value.lower()
        elif kind == "name":
            value = value[1:-1].replace('""', '"')
            if not value:
                raise SelectionError(
                    f"empty quoted name at position {match.start(group)} in selection"
                    f" {_quoted(text, match.start(group))}: write an asset name between the quotes"
                )
        tokens.append(Token(kind, value, match.start(group)))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent: or < and < not < traversal < primary."""

    def __init__(self, text: str, defs: Definitions) -> None:
        self.text = text
        self.defs = defs
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0  # parentheses and `not` entered and not yet left

    def error(
        self, message: str, token: Token, hint: str = "", unknown: str | None = None
    ) -> SelectionError:
        where = f"at position {token.position}"
        if token.text != self.text.strip():  # else the message has just quoted all of it
            where += f" in selection {_quoted(self.text, token.position)}"
        return SelectionError(f"{message} {where}.{hint}", unknown)

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(
                f"selection nested more than {MAX_NESTING} levels deep (parentheses and 'not')",
                token,
                " Write it with fewer levels: 'a or b or c' needs no parentheses.",
            )

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (text is None or token.text == text)

    def parse(self) -> set[str]:
        if self.at("end"):
            raise self.error("empty selection; use '*' for every asset", self.current)
        result = self.parse_or()
        if not self.at("end"):
            raise self.error(f"unexpected {_quoted(self.current.text)}", self.current)
        return result

    def parse_or(self) -> set[str]:
        result = self.parse_and()
        while self.at("keyword", "or") or self.at("punct", ","):
            self.take()
            result |= self.parse_and()
        return result

    def parse_and(self) -> set[str]:
        result = self.parse_not()
        while self.at("keyword", "and"):
            self.take()
            result &= self.parse_not()
        return result

    def parse_not(self) -> set[str]:
        if self.at("keyword", "not"):
            self.enter(self.take())
            result = set(self.defs.assets) - self.parse_not()
            self.depth -= 1
            return result
        return self.parse_traversal()

    def parse_traversal(self) -> set[str]:
        up_depth: int | None = None
        up = False
        after = self.tokens[self.index + 1] if self.at("number") else None
        if after is not None and after.kind == "punct" and after.text == "+":  # not a "+" name
            up_depth = int(self.take().text)
        if self.at("punct", "+"):
            self.take()
            up = True
        base = self.parse_primary()
        down = False
        down_depth: int | None = None
        if self.at("punct", "+"):
            self.take()
            down = True
            if self.at("number"):
                down_depth = int(self.take().text)
        graph = self.defs.graph
        result = set(base)
        for name in base:
            if up:
                result |= graph.upstream(name, up_depth)
            if down:
                result |= graph.downstream(name, down_depth)
        return result

    def parse_primary(self) -> set[str]:
        token = self.take()
        if token.kind == "punct" and token.text == "(":
            self.enter(token)
            result = self.parse_or()
            if not self.at("punct", ")"):
                raise self.error("missing ')'", self.current)
            self.take()
            self.depth -= 1
            return result
        if token.kind == "punct" and token.text == "*":
            return set(self.defs.assets)
        if token.kind == "word":
            return self.resolve_word(token)
        if token.kind == "name":
            return self.resolve_name(token)
        if token.kind == "end":
            raise self.error("selection ends where an asset name was expected", token)
        raise self.error(f"expected an asset name, found {_quoted(token.text)}", token)

    def resolve_name(self, token: Token) -> set[str]:
        if token.text not in self.defs.assets:
            hint = suggest(token.text, self.defs.assets)
            raise self.error(f"unknown asset {_quoted(token.text)}", token, hint, "asset")
        return {token.text}

    def resolve_word(self, token: Token) -> set[str]:
        assets = self.defs.assets.values()
        if ":" not in token.text:
            return self.resolve_name(token)
        field, _, value = token.text.partition(":")
        if field == "group":
            groups = {a.group for a in assets}
            if value not in groups:
                raise self.error(
                    f"unknown group {_quoted(value)} (groups: {', '.join(sorted(groups))})",
                    token,
                    unknown="group",
                )
            return {a.name for a in assets if a.group == value}
        if field == "kind":
            if value not in KINDS:
                raise self.error(
                    f"unknown kind {_quoted(value)} (kinds: table, view)", token, unknown="kind"
                )
            return {a.name for a in assets if a.kind == value}
        if field == "tag":
            key, has_value, tag_value = value.partition("=")
            return {
                a.name
                for a in assets
                if key in a.tags and (not has_value or a.tags[key] == tag_value)
            }
        raise self.error(f"unknown filter {_quoted(field)}: use group:, tag: or kind:", token)


def select(defs: Definitions, selection: str | None) -> set[str]:
    """The asset names `selection` names; None selects every asset."""
    if selection is None:
        return set(defs.assets)
    return _Parser(selection, defs).parse()


def named(selection: str | None) -> set[str]:
    """The names a selection spells out, as opposed to those `*`, a filter or `+` reaches: an
    asset the user named is one they mean to build (run_config.plan)."""
    if selection is None:
        return set()
    return {
        token.text
        for token in tokenize(selection)
        if token.kind == "name" or (token.kind == "word" and ":" not in token.text)
    }
