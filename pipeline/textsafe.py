"""Text from data and errors, made safe to keep and to show.

A CSV line of a gigabyte once ended up whole in an error message, then in the history, the CLI
and a report: stored and shown text is capped, saying how much was cut.
"""

from __future__ import annotations

MAX_TEXT = 10_000


def cap(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` characters, ending with how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} characters cut]"
