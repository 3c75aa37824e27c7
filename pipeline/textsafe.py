"""Text from data and errors, made safe to keep and to show.

A CSV line of a gigabyte once ended up whole in an error message, then in the history, the CLI
and a report: stored and shown text is capped, saying how much was cut.
"""

from __future__ import annotations

MAX_TEXT = 10_000


def cap(text: str, limit: int = MAX_TEXT) -> str:
    """`text` in at most `limit` characters, ending with how many were cut; capping twice
    changes nothing."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - 40)  # room for the note, whose number has at most 20 digits
    return f"{text[:keep]}… [{len(text) - keep:,} characters cut]"
