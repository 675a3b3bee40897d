"""The /collab Socket.IO namespace: binds browser and library clients to crdt rooms.

Who may join and who may write is decided here (through editor.permissions) from the Flask
session of the socket's handshake; the room itself only knows "this connection may write".
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from flask import current_app, request
from flask_login import current_user
from flask_socketio import Namespace, SocketIO, join_room, leave_room
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from akoma_ntoso import plan_guid_repairs
from crdt.protocol import ProtocolError
from crdt.room import RoomClosed, RoomHooks
from crdt.xmltree import element_at, fragment_to_etree

from . import permissions
from .documents import get_document

log = logging.getLogger(__name__)
NAMESPACE = "/collab"


def channel(slug: str) -> str:
    return f"doc:{slug}"


class SocketHooks(RoomHooks):
    """Room I/O over Socket.IO, plus the legal model's invariants (unique GUIDs)."""

    def __init__(self, socketio: SocketIO) -> None:
        self.socketio = socketio
        #: connection (sid) → account id, set by CollabNamespace when a connection joins.
        self.accounts: dict[str, int] = {}
        #: Called with (slug, {account id: GUIDs changed}) once a batch is durable (see create_app).
        self.attribute: Callable[[str, dict[int | None, set[str]]], None] | None = None
        self._touched: dict[str, dict[int | None, set[str]]] = {}  # slug → account → GUIDs changed
        self._structure_changed: dict[str, bool] = {}
        # pycrdt stops calling an observer once its type wrapper and subscription are collected:
        # keep both for as long as the room is open.
        self._watches: dict[str, tuple[XmlFragment, object]] = {}

    def send(self, room: str, connection: str, payload: bytes) -> None:
        self.socketio.emit("y", (room, payload), to=connection, namespace=NAMESPACE)

    def broadcast(self, room: str, payload: bytes, skip: str | None) -> None:
        self.socketio.emit("y", (room, payload), to=channel(room), skip_sid=skip, namespace=NAMESPACE)

    def report(self, room: str, connection: str, code: str, message: str) -> None:
        log.warning("document %s: refused a message from connection %s: %s (%s)", room, connection, code, message)
        report_error(self.socketio, connection, room, code, message)

    def on_load(self, room: str, doc: Doc) -> None:
        body = doc.get("body", type=XmlFragment)
        self._structure_changed[room] = True  # check what was loaded once

        def watch(events) -> None:
            # Typing only touches XmlText; anything else may have moved, copied or re-attributed units.
            if any(not isinstance(event.target, XmlText) for event in events):
                self._structure_changed[room] = True
            for event in events:
                origin = event.transaction.origin
                # Connections' updates carry their connection id; server-side changes that
                # attribute themselves (an adopted amendment: "amendment:<id>") are skipped.
                if isinstance(origin, str) and not origin.startswith("amendment:"):
                    account = self.accounts.get(origin)
                    guids = self._touched.setdefault(room, {}).setdefault(account, set())
                    _touched_units(event, guids)

        self._watches[room] = (body, body.observe_deep(watch))

    def on_change(self, room: str, doc: Doc) -> None:
        touched = self._touched.pop(room, None)
        if not touched or self.attribute is None:
            return
        by_account = {account: guids for account, guids in touched.items() if guids}
        if by_account:
            try:
                self.attribute(room, by_account)
            except Exception:  # attribution must never stop the room
                log.exception("document %s: recording who edited failed", room)

    def on_close(self, room: str) -> None:
        self._touched.pop(room, None)
        self._watches.pop(room, None)
        self._structure_changed.pop(room, None)

    def after_apply(self, room: str, doc: Doc) -> None:
        if not self._structure_changed.pop(room, False):
            return
        body = doc.get("body", type=XmlFragment)
        repairs = plan_guid_repairs(fragment_to_etree(body))
        if not repairs:
            return
        log.info("document %s: repairing %d unit GUIDs", room, len(repairs))
        with doc.transaction():
            for path, guid in repairs:
                element_at(body, path).attributes["guid"] = guid
        self._structure_changed.pop(room, None)


def _unit_guid(node) -> str | None:
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement):
            guid = node.attributes.get("guid")
            if guid:
                return str(guid)
        node = node.parent
    return None


def _touched_units(event, guids: set[str]) -> None:
    """Add the GUIDs of the units an XmlEvent changed: the unit around its target, and units inserted."""
    guid = _unit_guid(event.target)
    if guid:
        guids.add(guid)
    for change in getattr(event, "delta", None) or ():
        for item in (change.get("insert") or ()) if isinstance(change, dict) else ():
            if isinstance(item, XmlElement):
                inner = item.attributes.get("guid")
                if inner:
                    guids.add(str(inner))


def report_error(socketio: SocketIO, sid: str, document: str | None, code: str, message: str) -> None:
    socketio.emit("error", {"document": document, "code": code, "message": message}, to=sid, namespace=NAMESPACE)


class CollabNamespace(Namespace):
    def __init__(self, namespace: str, services) -> None:
        super().__init__(namespace)
        self.services = services
        self.hooks: SocketHooks = services.rooms.hooks
        self._joined: dict[str, set[str]] = {}  # sid -> slugs
        self._lock = threading.Lock()

    def _error(self, document, code: str, message: str) -> None:
        report_error(self.socketio, request.sid, document, code, message)

    def on_connect(self, auth=None):
        with self._lock:
            self._joined[request.sid] = set()

    def on_disconnect(self, reason=None):
        with self._lock:
            slugs = self._joined.pop(request.sid, set())
        self.hooks.accounts.pop(request.sid, None)
        for slug in slugs:
            room = self.services.rooms.peek(slug)
            if room is not None:
                try:
                    room.leave(request.sid)
                except (RoomClosed, ProtocolError):
                    pass

    def on_join(self, data=None):
        slug = data.get("document") if isinstance(data, dict) else None
        if not isinstance(slug, str) or not slug:
            return {"ok": False, "error": "join needs {\"document\": slug}"}
        document = get_document(self.services.db, slug)
        role = permissions.role_in(current_user, document) if document else None
        self.services.db.remove()
        if role is None:
            # The same answer for "missing" and "not yours": drafts stay invisible.
            return {"ok": False, "error": f"no document {slug!r} is available to you"}
        for _attempt in range(3):
            try:
                self.services.rooms.get(slug).join(request.sid, role == "editor")
                break
            except RoomClosed:
                continue
        else:
            return {"ok": False, "error": "the document could not be opened; try again"}
        join_room(channel(slug))
        with self._lock:
            self._joined.setdefault(request.sid, set()).add(slug)
        if current_user.is_authenticated:
            self.hooks.accounts[request.sid] = current_user.id
        return {"ok": True, "role": role}

    def refresh_rights(self, slug: str, stage: str) -> None:
        """The document changed stage: re-decide every open connection's right to write, and
        tell each its new role (the editor switches between editing and following)."""
        from .models import User

        db = self.services.db  # the caller's session (a request's): not closed here
        document = get_document(db, slug)
        with self._lock:
            sids = [sid for sid, slugs in self._joined.items() if slug in slugs]
        room = self.services.rooms.peek(slug)
        for sid in sids:
            account = self.hooks.accounts.get(sid)
            user = db.get(User, account) if account is not None else None
            role = permissions.role_in(user, document) if document is not None else None
            if room is not None:
                try:
                    room.join(sid, role == "editor")
                except (RoomClosed, ProtocolError):
                    pass
            self.socketio.emit("stage", {"document": slug, "stage": stage, "role": role or "viewer"},
                               to=sid, namespace=NAMESPACE)

    def on_leave(self, data=None):
        slug = data.get("document") if isinstance(data, dict) else None
        with self._lock:
            joined = self._joined.get(request.sid, set())
            if slug not in joined:
                return {"ok": False, "error": "not in that document"}
            joined.discard(slug)
        leave_room(channel(slug))
        room = self.services.rooms.peek(slug)
        if room is not None:
            room.leave(request.sid)
        return {"ok": True}

    def on_y(self, slug=None, payload=None, *extra):
        if not isinstance(slug, str):
            self._error(None, "wrong-type", "y takes (document slug, binary payload)")
            return
        with self._lock:
            joined = slug in self._joined.get(request.sid, set())
        if not joined:
            self._error(slug, "not-joined", f"join {slug!r} before sending to it")
            return
        limit = current_app.config["MAX_Y_MESSAGE_BYTES"]
        if isinstance(payload, (bytes, bytearray)) and len(payload) > limit:
            self._error(slug, "too-large", f"message of {len(payload)} bytes exceeds the limit of {limit}")
            return
        try:
            self.services.rooms.get(slug).receive(request.sid, payload)
        except ProtocolError as exc:
            self._error(slug, exc.code, exc.message)
        except RoomClosed:
            self._error(slug, "closed", "the document was closed; join it again")
