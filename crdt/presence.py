"""Awareness (presence) of one room: the latest state of each Yjs client, and which connection owns it.

Presence is not persisted. The server vouches for what it relays:

* A connection may only speak for the Yjs client ids it introduced, and for at most
  `MAX_CLIENTS_PER_CONNECTION` of them; a state larger than `MAX_STATE_BYTES` is refused.
* The name and colour shown (`state["user"]`) are the ones the application gave the connection
  when it joined (its account's), whatever the client sends.
* Anonymous followers' awareness is not relayed at all: the room counts them instead, and
  publishes the count under the reserved client id `FOLLOWERS_CLIENT` as
  `{"followers": n}`, which editors show as "12 personas siguiendo".

When a connection goes away, its clients are announced as gone so cursors do not linger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .protocol import AwarenessEntry, ProtocolError, decode_awareness, encode_awareness

MAX_CLIENTS_PER_CONNECTION = 4  # a browser tab has one Yjs client per document
MAX_STATE_BYTES = 4096  # a name, a colour, a cursor and the unit it is in fit in far less
FOLLOWERS_CLIENT = 1  # the server's own awareness entry: the count of anonymous followers


@dataclass(frozen=True)
class Identity:
    """Who the server says a connection is, for presence."""

    name: str = ""
    color: str = ""
    anonymous: bool = True


class Presence:
    def __init__(self) -> None:
        self._entries: dict[int, AwarenessEntry] = {}
        self._owner: dict[int, str] = {}
        self._identity: dict[str, Identity] = {}
        self._followers: set[str] = set()
        self._followers_clock = 0
        self._followers_shown = 0

    # --- connections ----------------------------------------------------------------------------

    def admit(self, connection: str, identity: Identity | None) -> bool:
        """Record who a connection is; return True if the follower count changed."""
        if identity is None:
            return False
        before = len(self._followers)
        self._identity[connection] = identity
        if identity.anonymous:
            self._followers.add(connection)
        else:
            self._followers.discard(connection)
        return len(self._followers) != before

    def is_follower(self, connection: str) -> bool:
        return connection in self._followers

    @property
    def followers(self) -> int:
        return len(self._followers)

    def followers_message(self) -> bytes | None:
        """The follower count as an awareness update, if it changed since it was last sent."""
        if len(self._followers) == self._followers_shown and self._followers_clock:
            return None
        self._followers_shown = len(self._followers)
        self._followers_clock += 1
        return encode_awareness([self._followers_entry()])

    def _followers_entry(self) -> AwarenessEntry:
        return AwarenessEntry(FOLLOWERS_CLIENT, self._followers_clock, {"followers": self._followers_shown})

    # --- awareness ------------------------------------------------------------------------------

    def apply(self, connection: str, data: bytes) -> bytes | None:
        """Record a connection's awareness update; return the message to relay, if anything changed.

        Raises ProtocolError for a state that is too large or too many client ids."""
        entries = decode_awareness(data)
        identity = self._identity.get(connection)
        if identity is not None and identity.anonymous:
            return None  # followers are a count, not a row each
        accepted = []
        for entry in entries:
            if entry.client_id == FOLLOWERS_CLIENT:
                continue  # the server's own entry
            owner = self._owner.get(entry.client_id)
            if owner is not None and owner != connection:
                continue  # nobody speaks for someone else's cursor
            if owner is None and entry.state is not None:
                mine = sum(1 for o in self._owner.values() if o == connection)
                if mine >= MAX_CLIENTS_PER_CONNECTION:
                    raise ProtocolError("too-many-clients",
                                        f"a connection may speak for at most {MAX_CLIENTS_PER_CONNECTION} Yjs clients")
            known = self._entries.get(entry.client_id)
            if known is not None and entry.clock < known.clock:
                continue
            state = entry.state
            if state is not None:
                if len(json.dumps(state, separators=(",", ":"))) > MAX_STATE_BYTES:
                    raise ProtocolError("too-large", f"an awareness state may hold at most {MAX_STATE_BYTES} bytes")
                if identity is not None:
                    state = {**state, "user": {"name": identity.name, "color": identity.color}}
                entry = AwarenessEntry(entry.client_id, entry.clock, state)
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
        if self._followers_clock:
            entries.append(self._followers_entry())
        return encode_awareness(entries) if entries else None

    def drop(self, connection: str) -> bytes | None:
        """Forget a connection's clients; return the 'they left' message for the others."""
        self._identity.pop(connection, None)
        self._followers.discard(connection)
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
