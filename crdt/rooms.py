"""The open rooms of one process: opened on demand, evicted when idle, reloaded from the store."""

from __future__ import annotations

import logging
import threading
import time

from .room import Room, RoomClosed, RoomHooks, RoomSettings
from .store import UpdateStore

log = logging.getLogger(__name__)


class Rooms:
    def __init__(
        self,
        store: UpdateStore,
        hooks: RoomHooks,
        settings: RoomSettings | None = None,
        idle_seconds: float = 120.0,
        fanout=None,
    ) -> None:
        """`fanout` (crdt.fanout.RedisFanout): share live documents with other processes."""
        self.store = store
        self.fanout = fanout
        if fanout is not None:
            fanout.deliver = self._deliver
            fanout.heal = self._heal
        self.hooks = hooks
        self.settings = settings or RoomSettings()
        self.idle_seconds = idle_seconds
        self._rooms: dict[str, Room] = {}
        # Per document: Yjs client ids whose updates were refused, kept across evictions (a client
        # that keeps a refused edit and comes back after its room closed is still refused).
        self._refused_clients: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def get(self, name: str) -> Room:
        """The open room for `name`, loading it from the store if needed."""
        with self._lock:
            room = self._rooms.get(name)
            if room is not None and not room.closed.is_set():
                return room
            # The stream position is taken before the room reads the store: whatever another
            # process publishes later is read from the stream, the rest was loaded.
            cursor = self.fanout.cursor(name) if self.fanout is not None else None
            room = Room(name, self.store, self.hooks, self.settings, fanout=self.fanout,
                        refused_clients=self._refused_clients.setdefault(name, set()))
            self._rooms[name] = room
            if self.fanout is not None:
                self.fanout.watch(name, cursor)
            self._start_reaper()
            return room

    def peek(self, name: str) -> Room | None:
        with self._lock:
            room = self._rooms.get(name)
            return room if room is not None and not room.closed.is_set() else None

    def call(self, name: str, fn, timeout: float = 30.0, origin: str | None = None):
        """Run fn(doc) in the document's worker (serially with live edits); `origin` names who
        makes the changes it makes (see Room.call)."""
        for _ in range(3):
            try:
                return self.get(name).call(fn, timeout, origin)
            except RoomClosed:
                continue  # evicted between get and call: open it again
        raise RoomClosed(f"document {name} could not be opened")

    def open_names(self) -> list[str]:
        with self._lock:
            return [n for n, r in self._rooms.items() if not r.closed.is_set()]

    def evict_idle(self) -> list[str]:
        """Close rooms nobody has used for idle_seconds; they compact and leave memory."""
        now = time.monotonic()
        victims = []
        with self._lock:
            for name, room in list(self._rooms.items()):
                if room.closed.is_set():
                    del self._rooms[name]
                    self._unwatch(name)
                elif room.connection_count == 0 and now - room.last_active >= self.idle_seconds:
                    del self._rooms[name]
                    self._unwatch(name)
                    victims.append(room)
        for room in victims:
            room.close()
        return [room.name for room in victims]

    def close_all(self) -> None:
        self._stop.set()
        with self._lock:
            rooms = list(self._rooms.values())
            self._rooms.clear()
        for room in rooms:
            room.close()
            self._unwatch(room.name)

    def _unwatch(self, name: str) -> None:
        if self.fanout is not None:
            self.fanout.unwatch(name)

    def _deliver(self, name: str, kind: bytes, items: list[bytes]) -> None:
        room = self.peek(name)
        if room is not None:
            room.remote(kind, items)

    def _heal(self, name: str) -> None:
        room = self.peek(name)
        if room is not None:
            room.heal()

    def _start_reaper(self) -> None:
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap, name="room-reaper", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        interval = max(0.5, min(30.0, self.idle_seconds / 4))
        while not self._stop.wait(interval):
            try:
                self.evict_idle()
            except Exception:
                log.exception("evicting idle rooms failed")
