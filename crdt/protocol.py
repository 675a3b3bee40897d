"""The y-protocols wire format (sync and awareness), decoded strictly and encoded exactly as Yjs does.

A message is `varuint type` followed by its body. Type 0 is sync: `varuint step` then one
length-prefixed update or state vector (step 0 = step1 carrying a state vector, 1 = step2,
2 = update). Type 1 is awareness: one length-prefixed awareness update. Anything else, any
truncation and any trailing byte is a `ProtocolError`: a peer that sends garbage gets told, and
nothing it sent is applied.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

MAX_VARUINT_BYTES = 8  # 2**56: larger than any length or client id we accept


class MessageType(enum.IntEnum):
    SYNC = 0
    AWARENESS = 1


class SyncStep(enum.IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class ProtocolError(ValueError):
    """A payload that is not a well-formed y-protocols message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SyncMessage:
    step: SyncStep
    data: bytes  # the state vector (step1) or the update (step2, update)


@dataclass(frozen=True)
class AwarenessMessage:
    data: bytes  # the awareness update, as it travels


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict | None  # None means "this client left"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varuint(self) -> int:
        value = 0
        shift = 0
        for _ in range(MAX_VARUINT_BYTES):
            if self.pos >= len(self.data):
                raise ProtocolError("truncated", "message ends inside a number")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise ProtocolError("malformed", "number too large")

    def var_bytes(self) -> bytes:
        length = self.varuint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError(
                "truncated", f"declared length {length} exceeds the {len(self.data) - self.pos} bytes left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def done(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError("malformed", f"{len(self.data) - self.pos} unexpected trailing bytes")


def decode(payload: object) -> SyncMessage | AwarenessMessage:
    """Decode one message; raise ProtocolError naming what is wrong."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ProtocolError("wrong-type", f"payload must be binary, got {type(payload).__name__}")
    reader = _Reader(bytes(payload))
    kind = reader.varuint()
    if kind == MessageType.SYNC:
        step = reader.varuint()
        if step not in (0, 1, 2):
            raise ProtocolError("malformed", f"unknown sync step {step}")
        data = reader.var_bytes()
        reader.done()
        _check_counts(SyncStep(step), data)
        return SyncMessage(SyncStep(step), data)
    if kind == MessageType.AWARENESS:
        data = reader.var_bytes()
        reader.done()
        return AwarenessMessage(data)
    raise ProtocolError("unsupported", f"unknown message type {kind}")


def _check_counts(step: SyncStep, data: bytes) -> None:
    """Refuse counts larger than the message could hold before pycrdt sees them: it reserves
    memory for the count a state vector or an update claims first (a 7-byte step 1 claiming 2**29
    clients cost a gigabyte and most of a second)."""
    if step == SyncStep.STEP1:
        try:
            decode_state_vector(data)  # strict, and linear in the bytes actually sent
        except ProtocolError as exc:
            raise ProtocolError(exc.code, f"bad state vector: {exc.message}") from None
    elif data:
        clients = _Reader(data).varuint()
        if 3 * clients > len(data):  # each client's structs take three bytes at least
            raise ProtocolError("malformed", f"the update claims {clients} clients in {len(data)} bytes")


def decode_awareness(data: bytes) -> list[AwarenessEntry]:
    """Decode an awareness update: count, then (client id, clock, JSON state) per client."""
    reader = _Reader(data)
    count = reader.varuint()
    if count > 10_000:
        raise ProtocolError("malformed", "too many awareness entries")
    entries = []
    for _ in range(count):
        client_id = reader.varuint()
        clock = reader.varuint()
        raw = reader.var_bytes()
        try:
            state = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError("malformed", f"awareness state is not JSON: {exc}") from None
        except RecursionError:  # "[[[[…" a thousand deep: not a cursor, and not the worker's problem
            raise ProtocolError("malformed", "awareness state is nested too deeply") from None
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("malformed", "awareness state must be an object or null")
        entries.append(AwarenessEntry(client_id, clock, state))
    reader.done()
    return entries


def decode_state_vector(data: bytes) -> dict[int, int]:
    """A Yjs state vector as {client id: clock}: a count, then id/clock pairs, all varuints."""
    reader = _Reader(data)
    count = reader.varuint()
    vector = {}
    for _ in range(count):
        client_id = reader.varuint()
        vector[client_id] = reader.varuint()
    reader.done()
    return vector


def encode_state_vector(vector: dict[int, int]) -> bytes:
    return _varuint(len(vector)) + b"".join(_varuint(client) + _varuint(clock) for client, clock in vector.items())


def block_count(update: bytes) -> int:
    """How many client blocks of structs an update carries (its first number)."""
    try:
        return _Reader(update).varuint()
    except ProtocolError:
        return 0


def first_block(update: bytes) -> tuple[int, int, int] | None:
    """(structs, client id, first clock) of an update's first client block, or None if it has none.

    Yjs writes one block per client, highest client id first; an update made by one client (the
    usual case) has one block. Only the header is read: nothing is decoded past it."""
    reader = _Reader(update)
    try:
        if reader.varuint() == 0:
            return None
        structs = reader.varuint()
        return structs, reader.varuint(), reader.varuint()
    except ProtocolError:
        return None


def delete_set_of(update: bytes) -> dict[int, list[tuple[int, int]]] | None:
    """The delete set of an update that carries no structs ({client: [(clock, length)…]}), or
    None if it carries structs or is malformed. (A structless update is what a reader's sync
    step 2 is when it has nothing the server lacks: Yjs always adds its whole delete set.)"""
    reader = _Reader(update)
    try:
        if reader.varuint() != 0:
            return None
        ranges: dict[int, list[tuple[int, int]]] = {}
        for _ in range(reader.varuint()):
            client = reader.varuint()
            own = ranges.setdefault(client, [])
            for _ in range(reader.varuint()):
                own.append((reader.varuint(), reader.varuint()))
        reader.done()
    except ProtocolError:
        return None
    return ranges


def covers(ranges: dict[int, list[tuple[int, int]]], others: dict[int, list[tuple[int, int]]]) -> bool:
    """True if every (clock, length) range in `others` lies within the union of `ranges`."""
    for client, wanted in others.items():
        have = sorted(ranges.get(client, ()))
        merged: list[list[int]] = []
        for clock, length in have:
            if merged and clock <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], clock + length)
            else:
                merged.append([clock, clock + length])
        for clock, length in wanted:
            if length and not any(start <= clock and clock + length <= end for start, end in merged):
                return False
    return True


def _varuint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _var_bytes(data: bytes) -> bytes:
    return _varuint(len(data)) + data


def encode_varuint(value: int) -> bytes:
    """lib0's variable-length unsigned integer (for message types of an application's own)."""
    return _varuint(value)


def encode_var_bytes(data: bytes) -> bytes:
    """lib0's length-prefixed byte string."""
    return _var_bytes(data)


def encode_sync(step: SyncStep, data: bytes) -> bytes:
    return _varuint(MessageType.SYNC) + _varuint(step) + _var_bytes(data)


def sync_step1(state_vector: bytes) -> bytes:
    return encode_sync(SyncStep.STEP1, state_vector)


def sync_step2(update: bytes) -> bytes:
    return encode_sync(SyncStep.STEP2, update)


def sync_update(update: bytes) -> bytes:
    return encode_sync(SyncStep.UPDATE, update)


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    body = bytearray(_varuint(len(entries)))
    for entry in entries:
        body += _varuint(entry.client_id) + _varuint(entry.clock)
        body += _var_bytes(json.dumps(entry.state, separators=(",", ":")).encode("utf-8"))
    return _varuint(MessageType.AWARENESS) + _var_bytes(bytes(body))


EMPTY_UPDATE = b"\x00\x00"
EMPTY_STATE_VECTOR = b"\x00"  # what a new client with an empty document sends in its step 1
