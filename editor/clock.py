"""Time, one way: `now()` is an aware UTC datetime, and `as_utc()` makes any stored or given time
one (SQLite hands back naive datetimes, which are UTC; an aware one is converted)."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` as an aware UTC datetime; None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """`moment` in ISO 8601, in UTC (for JSON and open data); None stays None."""
    utc = as_utc(moment)
    return utc.isoformat() if utc is not None else None
