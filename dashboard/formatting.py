"""How the dashboard shows times, durations and numbers: local time to the second, short units.

Plain Python (no Streamlit), shared by the service layer and the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd


def local_time(value: datetime | None) -> datetime | None:
    """The store keeps naive UTC; people read their own clock, to the second."""
    if value is None or pd.isna(value):
        return None
    return value.replace(tzinfo=UTC).astimezone().replace(tzinfo=None, microsecond=0)


def format_time(value: datetime | None) -> str:
    shown = local_time(value)
    return shown.strftime("%Y-%m-%d %H:%M:%S") if shown else "—"


def timezone_name() -> str:
    """The zone `format_time` shows, for column headers ('Started (UTC)')."""
    return datetime.now().astimezone().tzname() or "local"


def format_ago(value: datetime | None, now: datetime | None = None) -> str:
    """'12 s ago', '5 min ago', '3 h ago', '2 days ago' from a naive-UTC time."""
    if value is None:
        return "never"
    now = now or datetime.now(UTC).replace(tzinfo=None)
    seconds = max(0, int((now - value).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def format_duration(seconds: float | None) -> str:
    if seconds is None or pd.isna(seconds):
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def format_value(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def format_count(value: int | None) -> str:
    """A count of rows or checks, with thousands separators; '—' where nothing was counted."""
    if value is None or pd.isna(value):
        return "—"
    return f"{int(value):,}"
