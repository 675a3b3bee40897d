"""The live text: one way to read it, cut it, change it and tell its version.

Every feature reads a document's live text through `services.texts` (or `read_live`, its
shorthand), never through the room or the store directly:

* `read(slug)`: meta and unit tree (`LiveText`). From the document's room, serially with edits;
  or, for a `LiveTexts` made by `from_store()`, from the update store (see below).
* `cut(slug)`: the state, meta and body at one instant, for freezing a version.
* `state_vector(slug)`: the live state vector (anchoring comments).
* `change(slug, fn)`: a server-side change (an adopted amendment), applied in the room so it is
  durable and broadcast before this returns.
* `versions(conn, slugs)`: a fingerprint of each stored text, for caches and the search index.

`text_of(doc)` is the one projection of a CRDT document to meta, body and units: the accepted
text, without pending suggestions (crdt.xmltree.fragment_to_etree(accepted=True)).

Which source: a process that is alone reads its rooms, which hold at least every stored update.
With several processes (REDIS_URL) a room may not have received an update another process has
just stored. Code that keys what it computes by the store's version (the page cache, the search
index) reads `from_store()`, so what it keeps is never older than its key.

Called from a room's own worker (a hook), `read` runs at once on the worker's document
(crdt.room.Room.call), so it never waits for itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pycrdt import Array, Doc, Map, XmlFragment
from sqlalchemy import Connection

from akoma_ntoso import Unit, read_units
from crdt.room import RoomClosed
from crdt.rooms import Rooms
from crdt.store import UpdateStore, text_versions
from crdt.xmltree import fragment_to_etree


@dataclass(frozen=True)
class LiveText:
    """A consistent reading of a document's live text: its meta and its unit tree."""

    meta: dict
    body: etree._Element
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class Cut:
    """The live text at one instant: its whole CRDT state, meta and body (for a version)."""

    state: bytes
    meta: dict
    body: etree._Element

    def __iter__(self):  # state, meta, body = cut
        return iter((self.state, self.meta, self.body))


def meta_of(doc: Doc) -> dict:
    """The meta map as plain values (a browser may set a nested Y.Map, e.g. `labels`)."""
    meta = doc.get("meta", type=Map)
    return {k: _plain(meta[k]) for k in meta.keys()}


def _plain(value):
    return value.to_py() if isinstance(value, (Map, Array)) else value


def _accepted_body(doc: Doc) -> etree._Element:
    """The body without pending suggestions: what every reader but the editor sees."""
    return fragment_to_etree(doc.get("body", type=XmlFragment), accepted=True)


def text_of(doc: Doc) -> LiveText:
    """A CRDT document as meta, body (XML) and numbered units."""
    meta = meta_of(doc)
    body = _accepted_body(doc)
    return LiveText(meta=meta, body=body, units=read_units(body, meta))


#: How many documents' latest readings are kept (a constitution's is a few MB).
RECENT_TEXTS = 8


class LiveTexts:
    """The documents' live texts, read from the rooms (or, `from_store()`, from the store)."""

    def __init__(self, rooms: Rooms, store: UpdateStore, from_store: bool = False) -> None:
        self.rooms = rooms
        self.store = store
        self.reads_store = from_store
        # The latest reading of the most recently read texts: slug -> (room generation, text).
        self._recent: OrderedDict[str, tuple[int, LiveText]] = OrderedDict()
        self._recent_lock = threading.Lock()

    def from_store(self) -> LiveTexts:
        """The same texts, read from the update store: at least as recent as any version
        fingerprint read before (see the module's docstring)."""
        return self if self.reads_store else LiveTexts(self.rooms, self.store, from_store=True)

    def _run(self, slug: str, fn: Callable[[Doc], Any]) -> Any:
        if self.reads_store:
            return fn(self.store.load(slug).doc)
        return self.rooms.call(slug, fn)

    def read(self, slug: str) -> LiveText:
        """The live text. The room's worker only copies the document's state (and not even that
        when the text has not changed since the last reading): the tree and its numbering are
        built in the caller's thread, so that readers of a whole constitution (the editor's
        panels opening, public pages) do not hold up the live edits and joins queued behind them.
        The reading is shared by the callers until the text changes: they must not change it
        (copy the body first, as revert and adoption do)."""
        if self.reads_store:
            meta, body = self._run(slug, lambda doc: (meta_of(doc), _accepted_body(doc)))
            return LiveText(meta=meta, body=body, units=read_units(body, meta))
        for _attempt in range(3):
            room = self.rooms.get(slug)
            with self._recent_lock:
                known = self._recent.get(slug)

            def snapshot(doc: Doc, room=room, known=known):
                if known is not None and known[0] == room.generation:
                    return known[0], None, b""
                return room.generation, meta_of(doc), doc.get_update()

            try:
                generation, meta, state = room.call(snapshot)
                break
            except RoomClosed:
                continue  # evicted between get and call: open it again
        else:
            raise RoomClosed(f"document {slug} could not be opened")
        if meta is None:
            assert known is not None
            return known[1]
        copy: Doc = Doc()
        copy.apply_update(state)
        body = _accepted_body(copy)
        live = LiveText(meta=meta, body=body, units=read_units(body, meta))
        with self._recent_lock:
            self._recent[slug] = (generation, live)
            self._recent.move_to_end(slug)
            while len(self._recent) > RECENT_TEXTS:
                self._recent.popitem(last=False)
        return live

    def cut(self, slug: str) -> Cut:
        """Call it before writing anything in the caller's transaction: the room's worker writes to
        the same database (updates, the audit log), and on SQLite a write transaction held open
        while waiting for the worker would wait for itself."""
        return self._run(slug, lambda doc: Cut(doc.get_update(), meta_of(doc),
                                               _accepted_body(doc)))

    def look(self, slug: str, fn: Callable[[Doc], Any]) -> Any:
        """fn(doc) on the live document as it stands, e.g. to list pending suggestions (fn only reads)."""
        return self._run(slug, fn)

    def state_vector(self, slug: str) -> bytes:
        return self._run(slug, lambda doc: doc.get_state())

    def change(self, slug: str, fn: Callable[[Doc], Any], origin: str | None = None) -> Any:
        """Run fn(doc) in the room: what it changes is durable and broadcast before this returns.
        `origin` ("amendment:12") is who the audit log says made it."""
        if self.reads_store:
            raise RuntimeError("a store reading cannot change the live text")
        return self.rooms.call(slug, fn, origin=origin)

    @staticmethod
    def versions(conn: Connection, slugs: list[str]) -> dict[str, str]:
        return text_versions(conn, slugs)


def read_live(services, slug: str) -> LiveText:
    """The live text of `slug` (shorthand for services.texts.read)."""
    return services.texts.read(slug)
