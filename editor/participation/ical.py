"""The public calendar as iCalendar (RFC 5545), written by hand: a handful of properties need no
library, and every rule that matters is here in a few lines.

* Lines end in CRLF and are folded at 75 octets (a continuation line starts with one space), never
  inside a UTF-8 character (RFC 5545 §3.1).
* TEXT values escape backslash, semicolon, comma and line breaks (§3.3.11).
* Times are in UTC ("…Z"), so no VTIMEZONE is needed; an event known only by its day is an
  all-day event (`DTSTART;VALUE=DATE`).
* Each event has a UID that stays the same for the life of the event (its id and the site's host),
  and the feed's DTSTAMP is when it was produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .. import clock

CRLF = "\r\n"
LIMIT = 75  # octets per line, the CRLF excluded


@dataclass(frozen=True)
class Entry:
    """One VEVENT: what a calendar program shows."""

    uid: str
    summary: str
    starts_at: datetime | None  # UTC; None: an all-day event on `day`
    day: date
    ends_at: datetime | None = None
    location: str = ""
    description: str = ""
    url: str = ""


def escape(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped; line breaks as \\n."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\n", "\\n")
    return "".join(ch for ch in value if ord(ch) >= 32 and ord(ch) != 127)


def fold(line: str) -> str:
    """A content line folded at LIMIT octets, with CRLF after each part."""
    parts: list[str] = []
    current, size, limit = [], 0, LIMIT
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LIMIT - 1  # continuation lines begin with a space
        current.append(ch)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts) + CRLF


def _utc(moment: datetime) -> str:
    return clock.as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def calendar(name: str, entries: list[Entry], now: datetime | None = None) -> str:
    """The VCALENDAR with one VEVENT per entry, as text with CRLF line endings."""
    stamp = _utc(now or clock.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Constituent//Public calendar//ES", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}"]
    for entry in entries:
        lines += ["BEGIN:VEVENT", f"UID:{entry.uid}", f"DTSTAMP:{stamp}"]
        if entry.starts_at is not None:
            lines.append(f"DTSTART:{_utc(entry.starts_at)}")
            if entry.ends_at is not None:
                lines.append(f"DTEND:{_utc(entry.ends_at)}")
        else:
            lines.append(f"DTSTART;VALUE=DATE:{entry.day.strftime('%Y%m%d')}")
            lines.append(f"DTEND;VALUE=DATE:{(entry.day + timedelta(days=1)).strftime('%Y%m%d')}")
        lines.append(f"SUMMARY:{escape(entry.summary)}")
        if entry.location:
            lines.append(f"LOCATION:{escape(entry.location)}")
        if entry.description:
            lines.append(f"DESCRIPTION:{escape(entry.description)}")
        if entry.url:
            lines.append(f"URL:{entry.url}")
        lines += ["STATUS:CONFIRMED", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)
