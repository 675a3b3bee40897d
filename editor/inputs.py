"""One rule for numbers that arrive as text (URL arguments, form fields, file cells): ASCII digits
only, and bounded. `str.isdigit()` also accepts "²" or "٣", which `int()` then refuses or reads
as another number; and `int()` refuses strings of more than 4,300 digits."""

from __future__ import annotations

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
