"""The application's services: what every request, command and event handler needs, created
once per application by create_app. Features reach them through `current_services()` (in a
request or application context) or `services_of(app)`; importing this module, not the `editor`
package, keeps the app factory and the blueprints it registers out of each other's imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_socketio import SocketIO
from sqlalchemy import Engine
from sqlalchemy.orm import Session, scoped_session

from crdt.rooms import Rooms
from crdt.store import UpdateStore

from .events import EventBus
from .livetext import LiveTexts

if TYPE_CHECKING:  # the live endpoints import this module
    from .collab import CollabNamespace
    from .live import LiveEndpoint


@dataclass
class Services:
    """What every request, socket and event handler needs, created once per application."""

    engine: Engine
    db: scoped_session[Session]
    store: UpdateStore
    rooms: Rooms
    socketio: SocketIO
    events: EventBus
    texts: LiveTexts
    collab: CollabNamespace | Any = None  # the Socket.IO /collab namespace, set once the app is wired
    live: LiveEndpoint | Any = None  # the /yjs endpoint

    def close(self, drain: float = 0.0) -> None:
        """Stop what the application started, for a command or a test run inside a longer process:
        its event handlers (after up to `drain` seconds for the queued ones), its rooms, its
        session and the engine's connections."""
        if drain:
            self.events.drain(drain)
        self.events.close()
        self.rooms.close_all()
        self.db.remove()
        self.engine.dispose()


def services_of(app: Flask) -> Services:
    return app.extensions["constituent"]


def current_services() -> Services:
    """The services of the application handling the current request, command or event."""
    return services_of(current_app)
