"""Awareness (presence) of one room: the latest state of each Yjs client, and which connection owns it.

Presence is not persisted. A connection may only speak for the Yjs client ids it introduced;
when it goes away, its clients are announced as gone so cursors do not linger.
"""

from __future__ import annotations

from .protocol import AwarenessEntry, decode_awareness, encode_awareness


class Presence:
    def __init__(self) -> None:
        self._entries: dict[int, AwarenessEntry] = {}
        self._owner: dict[int, str] = {}

    def apply(self, connection: str, data: bytes) -> bytes | None:
        """Record a connection's awareness update; return the message to relay, if anything changed."""
        accepted = []
        for entry in decode_awareness(data):
            owner = self._owner.get(entry.client_id)
            if owner is not None and owner != connection:
                continue  # nobody speaks for someone else's cursor
            known = self._entries.get(entry.client_id)
            if known is not None and entry.clock < known.clock:
                continue
            self._owner[entry.client_id] = connection
            if entry.state is None:
                self._entries.pop(entry.client_id, None)
                self._owner.pop(entry.client_id, None)
            else:
                self._entries[entry.client_id] = entry
            accepted.append(entry)
        return encode_awareness(accepted) if accepted else None

    def snapshot(self) -> bytes | None:
        """Every current state, for a connection that just joined."""
        entries = list(self._entries.values())
        return encode_awareness(entries) if entries else None

    def drop(self, connection: str) -> bytes | None:
        """Forget a connection's clients; return the 'they left' message for the others."""
        gone = [cid for cid, owner in self._owner.items() if owner == connection]
        removed = []
        for client_id in gone:
            known = self._entries.pop(client_id, None)
            self._owner.pop(client_id, None)
            clock = known.clock + 1 if known else 0
            removed.append(AwarenessEntry(client_id, clock, None))
        return encode_awareness(removed) if removed else None

    def states(self) -> dict[int, dict]:
        return {cid: dict(e.state or {}) for cid, e in self._entries.items()}
