"""Input from outside, read one way everywhere (pages, the API, review links, the command line):

* numbers that arrive as text (URL arguments, form fields, file cells): ASCII digits only, and
  bounded. `str.isdigit()` also accepts "²" or "٣", which `int()` then refuses or reads as
  another number; and `int()` refuses strings of more than 4,300 digits;
* JSON: bounded nesting, numbers Python can convert, valid Unicode (no lone surrogates)."""

from __future__ import annotations

import json
import re

#: Invisible characters that change the direction of the text around them: in a title they can make
#: "gpj.exe" read as "exe.jpg" (Trojan Source). U+200E/F, U+061C and the embeddings, overrides and
#: isolates.
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def bidi_control_in(text: str) -> str | None:
    """The first direction-changing control character of `text`, as U+XXXX; None if it has none."""
    for ch in text:
        if ch in BIDI_CONTROLS:
            return f"U+{ord(ch):04X}"
    return None


#: The largest whole number taken from outside (fits a 64-bit database integer).
LARGEST = 2**62


def whole_number(text: object, *, minimum: int = 0, maximum: int = LARGEST) -> int | None:
    """The whole number `text` spells in ASCII digits (surrounding spaces allowed), if it lies in
    [minimum, maximum]; else None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def _not_unicode(value) -> str | None:
    """The first lone surrogate in a parsed JSON value (JSON's "\\ud800" escapes make them; no
    database or encoder takes them), as its escape; None when all its text is valid Unicode."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"\\u{ord(item[exc.start]):04x}"
    return None


def shown(value: object, limit: int = 60) -> str:
    """`value` as a message quotes it: its repr, cut to about `limit` characters ("…" says where).
    A message that pastes a 5,000-digit number or a whole paragraph back is unreadable."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def surrogate_in(text: str) -> str | None:
    """The first lone surrogate of `text`, as its escape ("\\udce9"); None when it is valid Unicode.
    Command-line arguments have one for every byte that is not UTF-8 (Python's surrogateescape);
    no database or CRDT stores them."""
    return _not_unicode(text)


#: How deeply a JSON body may nest (Python's parser would otherwise recurse until it fails).
MAX_JSON_DEPTH = 64


class BadJSON(ValueError):
    """A JSON body the application refuses, with the reason for the sender. `syntax` is True when
    it is simply not JSON (callers may then say what to send instead)."""

    def __init__(self, message: str, syntax: bool = False) -> None:
        super().__init__(message)
        self.syntax = syntax


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int) -> bool:
    """Whether `text` nests deeper than `limit`. Cheap for the bodies requests carry: text with no
    more than `limit` opening brackets cannot be too deep; otherwise strings are cut out (in C)
    and only the brackets are walked."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def parse_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH):
    """The one JSON reader for what comes from outside (the API, review pages, the command line):
    refuses nesting deeper than `max_depth`, numbers of more digits than Python converts, and text
    that is not valid Unicode (lone surrogates, which no database stores). Raises BadJSON."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadJSON(f"the JSON is not UTF-8 (byte {exc.start})") from None
    if _too_deep(text, max_depth):
        raise BadJSON(f"the JSON nests more than {max_depth} levels deep")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJSON(f"{exc.msg} (line {exc.lineno}, column {exc.colno})", syntax=True) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise BadJSON(f"the JSON cannot be read: {str(exc)[:120]}") from None
    surrogate = _not_unicode(value)
    if surrogate is not None:
        raise BadJSON(f"the JSON contains {surrogate}, half of a surrogate pair: it is not valid Unicode text")
    return value
