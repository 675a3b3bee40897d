"""Where a comment's range is: Yjs relative positions, read and checked without trusting them.

The browser makes a range's ends with y-prosemirror (`absolutePositionToRelativePosition`) and
sends them encoded by `Y.encodeRelativePosition`, in base64. The encoding (lib0) is one of:

    0, client: varuint, clock: varuint   the position of a character (an item's id)
    1, name: varstring                   a root type ("body")
    2, client: varuint, clock: varuint   the end of a type (by the id of the item holding it)
    then, optionally, assoc: varint      >= 0: sticks to what follows, < 0: to what precedes

The server cannot tell from the encoding which unit a position is in (that is resolved in the
browser, against the live text); it checks that the encoding is well formed and that the item
it names is part of the document (known to its state vector), and that the quoted text is in
the unit's text. These are pure functions; no Flask, no database.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from akoma_ntoso import Unit

#: The root type the editor's positions are relative to.
ROOT = "body"


class AnchorError(ValueError):
    """A relative position that cannot be read. `code` says what is wrong (for a translated
    message), `args[0]` says it in English, `value` is the offending detail if any."""

    def __init__(self, code: str, message: str, value: object = None) -> None:
        super().__init__(message)
        self.code, self.value = code, value


@dataclass(frozen=True)
class Position:
    kind: str  # "item" | "root" | "type-end"
    client: int = 0
    clock: int = 0
    root: str = ""
    assoc: int = 0


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise AnchorError("short", "it ends too early")
        value = self.data[self.at]
        self.at += 1
        return value

    def varuint(self) -> int:
        value, shift = 0, 0
        while True:
            b = self.byte()
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise AnchorError("number", "a number in it is too long")

    def varint(self) -> int:
        b = self.byte()
        value, negative, shift = b & 0x3F, bool(b & 0x40), 6
        while b & 0x80:
            b = self.byte()
            value |= (b & 0x7F) << shift
            shift += 7
            if shift > 63:
                raise AnchorError("number", "a number in it is too long")
        return -value if negative else value

    def done(self) -> bool:
        return self.at >= len(self.data)


def decode_position(encoded: str) -> Position:
    """Read one base64 `Y.encodeRelativePosition` (raises AnchorError saying what is wrong)."""
    if not isinstance(encoded, str) or not encoded:
        raise AnchorError("empty", "it is empty")
    if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", encoded):
        raise AnchorError("base64", "it is not base64")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise AnchorError("base64", "it is not base64") from None
    reader = _Reader(data)
    tag = reader.byte()
    if tag == 0 or tag == 2:
        client, clock = reader.varuint(), reader.varuint()
        if client >= 2**53 or clock >= 2**53:
            raise AnchorError("range", "its item id is out of range")
        position = Position("item" if tag == 0 else "type-end", client=client, clock=clock)
    elif tag == 1:
        length = reader.varuint()
        if length > 64 or reader.at + length > len(data):
            raise AnchorError("name", "its type name is malformed")
        try:
            name = data[reader.at:reader.at + length].decode("utf-8")
        except UnicodeDecodeError:
            raise AnchorError("name", "its type name is malformed") from None
        reader.at += length
        if name != ROOT:
            raise AnchorError("root", f"it is relative to {name!r}, not to the document's {ROOT!r}", name)
        position = Position("root", root=name)
    else:
        raise AnchorError("tag", f"it starts with {tag}, not 0, 1 or 2", tag)
    assoc = 0 if reader.done() else reader.varint()
    if not reader.done():
        raise AnchorError("trailing", "it has bytes after its end")
    return Position(position.kind, position.client, position.clock, position.root, assoc)


def state_vector(encoded: bytes) -> dict[int, int]:
    """A Yjs state vector (`Doc.get_state()`): client → number of items it has written."""
    reader = _Reader(encoded)
    clients = {}
    for _ in range(reader.varuint()):
        client = reader.varuint()
        clients[client] = reader.varuint()
    return clients


def known(position: Position, state: dict[int, int]) -> bool:
    """Whether the document (as `state` describes it) has the item the position refers to."""
    if position.kind == "root":
        return position.root == ROOT
    return position.clock < state.get(position.client, 0)


def normalize(text: str) -> str:
    """Text compared whitespace-insensitively: runs of spaces and line breaks count as one space."""
    return " ".join(text.split())


def unit_text(unit: Unit) -> str:
    """Everything a reader sees of a unit: its heading, its paragraphs and its sub-units' text."""
    parts = [unit.heading, unit.text]
    parts.extend(unit_text(child) for child in unit.children)
    return "\n".join(p for p in parts if p)


def quote_in(quote: str, unit: Unit) -> bool:
    """Whether the quoted text still appears in the unit (whitespace-insensitively)."""
    wanted = normalize(quote)
    return bool(wanted) and wanted in normalize(unit_text(unit))
