"""The public view of a sitting, pushed: readers listen, the server asks the database.

A reader of `/d/<slug>/sesion/<n>` opens a WebSocket that only listens
(`…/sesion/<n>/listen`, `editor.live.accept_listener`). Each process has one watcher thread
that, while anyone here listens to a sitting, reads that sitting's stamp (`service.stamp_of`, one
small query) every `INTERVAL` seconds and sends `{"stamp", "state"}` to its listeners when it
changes, and to a listener that has just joined. An audience of any size costs one query per
watched sitting and interval (four a second), where polling cost one request per reader every
0.7 s. Changes made through another process reach this one's listeners through the database, so
nothing else is needed to scale out. The page (web/static/session.js) falls back to polling
`…/estado` when it cannot listen.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..services import services_of
from . import service
from .models import Sitting

log = logging.getLogger(__name__)

PREFIX = "sitting:"
#: Seconds between two reads of the watched sittings' stamps.
INTERVAL = 0.25
#: The thread stops after this many seconds with nobody listening here (it starts again on demand).
IDLE_STOP = 30.0


def room_of(sitting: Sitting) -> str:
    return f"{PREFIX}{sitting.document_id}:{sitting.number}"


def message(stamp: str | None, state: str) -> bytes:
    return json.dumps({"stamp": stamp, "state": state}, separators=(",", ":")).encode("utf-8")


class SittingWatch:
    """One per application: the thread that tells listeners of sittings what changed."""

    def __init__(self, services, interval: float = INTERVAL) -> None:
        self.services = services
        self.interval = interval
        self._told: dict[str, tuple[str | None, set[str]]] = {}  # room -> (stamp sent, who has it)
        self._thread: threading.Thread | None = None
        self._wanted = False  # a listener joined since the thread last looked
        self._lock = threading.Lock()

    def listening(self, connection: str) -> None:
        """A listener is joining its room: make sure someone watches."""
        with self._lock:
            self._wanted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sitting-watch", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        idle = 0.0
        while True:
            time.sleep(self.interval)
            try:
                watched = self.tick()
            except Exception:  # a database hiccup: try again next time
                log.exception("sitting watch: reading the stamps failed")
                watched = True
            with self._lock:
                idle = 0.0 if watched or self._wanted else idle + self.interval
                self._wanted = False
                if idle >= IDLE_STOP:
                    self._thread = None
                    return

    def tick(self) -> bool:
        """Send each watched sitting's stamp where it is new. Returns whether anyone listens."""
        hub = self.services.live.hub
        rooms = [room for room in list(hub.rooms) if room.startswith(PREFIX)]
        for gone in set(self._told) - set(rooms):
            del self._told[gone]
        if not rooms:
            return False
        with Session(self.services.engine) as db:
            for room in rooms:
                members = set(list(hub.rooms.get(room) or {}))
                document_id, number = (int(part) for part in room[len(PREFIX):].split(":"))
                sitting = db.scalar(select(Sitting).where(Sitting.document_id == document_id,
                                                          Sitting.number == number))
                stamp, state = (service.stamp_of(db, sitting), sitting.state) if sitting else (None, "gone")
                told = self._told.get(room)
                payload = message(stamp, state)
                if told is None or told[0] != stamp:
                    hub.broadcast(room, payload)
                else:
                    for connection in members - told[1]:
                        hub.send(connection, payload)
                self._told[room] = (stamp, members)
        return True


_creating = threading.Lock()
_KEY = "constituent.sitting_watch"


def watch_of(app) -> SittingWatch:
    """The application's watcher, made on first use."""
    with _creating:
        watch = app.extensions.get(_KEY)
        if watch is None:
            watch = app.extensions[_KEY] = SittingWatch(services_of(app))
    return watch
