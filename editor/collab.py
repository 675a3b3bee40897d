"""The /collab Socket.IO namespace: binds browser and library clients to crdt rooms.

Who may join and who may write is decided here (through editor.permissions) from the Flask
session of the socket's handshake; the room itself only knows "this connection may write".
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from flask import current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_socketio import Namespace, SocketIO, join_room, leave_room
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from akoma_ntoso import plan_guid_repairs
from crdt.fanout import REMOTE
from crdt.hub import PREFIX as LIVE_PREFIX
from crdt.presence import Identity
from crdt.protocol import ProtocolError
from crdt.room import RoomClosed, RoomHooks
from crdt.xmltree import SUGGESTION_ATTRIBUTE, element_at, fragment_to_etree, suggestion_mark

from . import audit, permissions
from .accounts import palette_colour
from .documents import SLUG, get_document
from .events import AccountChanged, EventBus, StageChanged, TextChanged
from .models import User
from .stages.current import current_stage_of

log = logging.getLogger(__name__)
NAMESPACE = "/collab"
REFUSALS_INTERVAL = 60.0  # seconds between aggregated audit entries of one connection's refused writes


def channel(slug: str) -> str:
    return f"doc:{slug}"


@dataclass
class Peer:
    """Who is behind a connection, for the audit log: account, role on the document, address."""

    account: int | None
    role: str
    ip: str
    refused: int = 0  # writes refused since the last one logged
    logged_at: float = 0.0  # when a refusal of this connection was last logged


class SocketHooks(RoomHooks):
    """Room I/O over Socket.IO, plus the legal model's invariants (unique GUIDs), attribution of
    every durable update to the account behind its connection, and the audit log."""

    def __init__(self, socketio: SocketIO, events: EventBus, engine=None) -> None:
        self.socketio = socketio
        #: Where "the text changed" is published (TextChanged, once a batch is durable and sent).
        self.events = events
        #: The database engine for the audit log; None: no audit.
        self.engine = engine
        #: The /yjs endpoint (editor.live.LiveEndpoint): connections whose id starts with LIVE_PREFIX.
        self.live = None
        #: connection (sid) → account id, set by CollabNamespace when a connection joins.
        self.accounts: dict[str, int] = {}
        #: (connection, slug) → who is behind it (the audit log's actor).
        self.peers: dict[tuple[str, str], Peer] = {}
        self._touched: dict[str, dict[str | None, set[str]]] = {}  # slug → connection → GUIDs changed
        # slug → connection → GUIDs where it only made suggestions (editor.suggestions): named in
        # the audit log, but nobody's edit of the unit until someone accepts them.
        self._suggested: dict[str, dict[str | None, set[str]]] = {}
        self._reported: set[tuple[str, str]] = set()  # (connection, code) already logged
        self._structure_changed: dict[str, bool] = {}
        # pycrdt stops calling an observer once its type wrapper and subscription are collected:
        # keep both for as long as the room is open.
        self._watches: dict[str, tuple[XmlFragment, object]] = {}

    def send(self, room: str, connection: str, payload: bytes) -> None:
        if connection.startswith(LIVE_PREFIX):
            if self.live is not None:
                self.live.send(connection, payload)
            return
        self.socketio.emit("y", (room, payload), to=connection, namespace=NAMESPACE)

    def broadcast(self, room: str, payload: bytes, skip: str | None) -> None:
        if self.live is not None:
            self.live.broadcast(room, payload, skip)
        self.socketio.emit("y", (room, payload), to=channel(room), skip_sid=skip, namespace=NAMESPACE)

    def report(self, room: str, connection: str, code: str, message: str) -> None:
        key = (connection, code)
        if key not in self._reported:  # once per connection and kind: a flood does not flood the log
            if len(self._reported) > 100_000:
                self._reported.clear()
            self._reported.add(key)
            log.warning("document %s: refused a message from connection %s: %s (%s)", room, connection, code, message)
        if code in ("read-only", "resync-required", "unintegrable", "suggest-only"):
            self.refused(room, connection, code)
        if connection.startswith(LIVE_PREFIX):
            if self.live is not None:
                self.live.report(connection, room, code, message)
            return
        report_error(self.socketio, connection, room, code, message)

    def _actor(self, room: str, connection: str | None) -> audit.Actor:
        peer = self.peers.get((connection, room)) if connection else None
        if peer is None:
            return audit.Actor(label=connection if connection and ":" in connection else "system")
        if peer.account is None:
            return audit.Actor(label="public", role=peer.role, ip=peer.ip)
        return audit.Actor(id=peer.account, label=f"user:{peer.account}", role=peer.role, ip=peer.ip)

    def refused(self, room: str, connection: str, why: str, named: str = "") -> None:
        """A write from a connection that may not write: the first is logged at once, the rest
        counted and logged every REFUSALS_INTERVAL seconds and when the connection leaves (a flood
        does not flood the log). Writes to documents a connection has not joined count under the
        connection (room ""), whatever document they name."""
        peer = self.peers.get((connection, room))
        detail = {"why": why, "connection": connection, **({"named": named[:80]} if named else {})}
        if peer is not None:
            peer.refused += 1
            now = time.monotonic()
            if peer.refused > 1:
                if now - peer.logged_at >= REFUSALS_INTERVAL:
                    self.audit_entries([("text.refused", room, self._actor(room, connection), "",
                                  {**detail, "why": "more refused writes", "more": peer.refused - 1})])
                    peer.refused, peer.logged_at = 1, now
                return
            peer.logged_at = now
        # The first entry names the document written to (the pattern of a slug, at most 100 characters).
        self.audit_entries([("text.refused", room or named, self._actor(room, connection), "", detail)])

    def forget(self, room: str, connection: str) -> None:
        """The connection left the document: log the refused writes not logged yet."""
        actor = self._actor(room, connection)
        for key in [key for key in self._reported if key[0] == connection]:
            self._reported.discard(key)
        peer = self.peers.pop((connection, room), None)
        if peer is not None and peer.refused > 1:
            self.audit_entries([("text.refused", room, actor, "",
                          {"why": "more refused writes", "connection": connection, "more": peer.refused - 1})])

    def audit_entries(self, entries: list[tuple[str, str, audit.Actor, str, dict]]) -> None:
        if self.engine is None or not entries:
            return
        try:
            audit.record_many(self.engine, entries)
        except Exception:  # the log must not stop the room; the failure is itself logged
            log.exception("audit: could not record %d entries", len(entries))

    def in_transaction(self, room: str, updates: list[tuple[str | None, bytes]]):
        """One `text.update` audit entry per connection in the batch (its account, how many
        updates, their bytes and SHA-256, the units they touched), written in the same
        transaction as the updates: one batch, one commit, and no update without its entry."""
        if self.engine is None:
            return None
        by_origin: dict[str | None, list[bytes]] = {}
        for origin, update in updates:
            by_origin.setdefault(origin, []).append(update)
        touched = self._touched.get(room, {})
        suggested = self._suggested.pop(room, {})
        entries = []
        for origin, payloads in by_origin.items():
            digest = hashlib.sha256(b"".join(payloads)).hexdigest()
            units = sorted(touched.get(origin, ()))
            detail = {"updates": len(payloads), "bytes": sum(map(len, payloads)), "sha256": digest,
                      "units": units[:50], "more_units": max(0, len(units) - 50)}
            if suggested.get(origin):
                detail["suggested_in"] = sorted(suggested[origin])[:50]
            entries.append(("text.update", room, self._actor(room, origin), "", detail))
        return audit.transaction_guard(), lambda connection: audit.record_in(connection, entries)

    def on_load(self, room: str, doc: Doc) -> None:
        body = doc.get("body", type=XmlFragment)
        self._structure_changed[room] = True  # check what was loaded once

        def watch(events) -> None:
            # Typing only touches XmlText; anything else may have moved, copied or re-attributed units.
            if any(not isinstance(event.target, XmlText) for event in events):
                self._structure_changed[room] = True
            for event in events:
                origin = event.transaction.origin
                # Connections' updates carry their connection id, server-side changes their own
                # origin ("amendment:<id>"): the audit log names the units either touched.
                # Another process's updates (REMOTE) were recorded where they were made.
                if isinstance(origin, str) and not origin.startswith(REMOTE):
                    if _only_suggests(event):
                        _touched_units(event, self._suggested.setdefault(room, {}).setdefault(origin, set()))
                        continue
                    guids = self._touched.setdefault(room, {}).setdefault(origin, set())
                    _touched_units(event, guids)

        self._watches[room] = (body, body.observe_deep(watch))

    def on_change(self, room: str, doc: Doc) -> None:
        touched = self._touched.pop(room, None)
        if not touched:
            return
        by_account: dict[int | None, set[str]] = {}
        for connection, guids in touched.items():
            # An adopted amendment, a loaded revised draft and a reverted unit record who made
            # their change themselves (with the amendment; editor.revision and
            # editor.stages.revert publish their own TextChanged).
            # An accepted or rejected suggestion (editor.suggestions) credits its author itself.
            if not guids or connection is None or connection.startswith(
                    ("amendment:", "revision:", "revert:", "suggestion:")):
                continue
            if connection.startswith("references:"):  # "Vincular referencias": the account that pressed it
                account = connection.partition(":")[2]
                by_account.setdefault(int(account) if account.isascii() and account.isdigit() else None, set()).update(guids)
                continue
            by_account.setdefault(self.accounts.get(connection), set()).update(guids)
        if by_account:
            # Its subscribers (who edited, petitioners' re-review) run on their own threads, off
            # the room worker's critical path, and merge a busy room's batches.
            self.events.publish(TextChanged(room, {a: frozenset(g) for a, g in by_account.items()}))

    def on_close(self, room: str) -> None:
        self._touched.pop(room, None)
        self._suggested.pop(room, None)
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


def _in_suggested_unit(node) -> bool:
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement) and node.attributes.get(SUGGESTION_ATTRIBUTE):
            return True
        node = node.parent
    return False


def _only_suggests(event) -> bool:
    """Whether an XmlEvent only adds suggestions (web/src/suggest.js): text inserted marked `ins`,
    text marked `del`, a new unit marked as suggested, or anything inside such a unit. It leaves
    the accepted text as it was. (Deleting text is never counted as only suggesting.)"""
    if _in_suggested_unit(event.target):
        return True
    if getattr(event, "keys", None):
        return False
    seen = False
    for change in getattr(event, "delta", None) or ():
        if not isinstance(change, dict) or "delete" in change:
            return False
        attributes = change.get("attributes") or {}
        marks = {suggestion_mark(key): value for key, value in attributes.items()}
        if "insert" in change:
            inserted = change["insert"]
            if isinstance(inserted, str):
                if not marks.get("ins"):
                    return False
            elif not all(isinstance(item, XmlElement) and item.attributes.get(SUGGESTION_ATTRIBUTE)
                         for item in inserted or ()):
                return False
            seen = True
        elif attributes:
            # Marking text deleted (or taking that mark off); taking `ins` off accepts text.
            if None in marks or ("ins" in marks and not marks["ins"]):
                return False
            seen = True
    return seen


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


class SocketSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie sessions, read once per live connection instead of once per message.

    Flask-SocketIO pushes a request context for every event, over the environ of the
    connection's handshake, and Flask then decodes and verifies the session cookie again (a
    tenth of the server's CPU when a client types fast). For cookie sessions Flask-SocketIO
    freezes the session at connection time anyway, so the decoded session is kept in that
    environ and reused."""

    _KEY = "constituent.socket_session"

    def open_session(self, app, request):
        environ = request.environ
        known = environ.get(self._KEY)
        if known is not None:
            return known
        session = super().open_session(app, request)
        if session is not None and request.path.startswith("/socket.io"):
            environ[self._KEY] = session
        return session


def presence_identity(user) -> Identity:
    """Who a connection is in presence: its account's name and colour, or an anonymous follower."""
    if getattr(user, "is_authenticated", False):

        return Identity(name=user.name or user.email, color=palette_colour(user.id), anonymous=False)
    return Identity(anonymous=True)


def report_error(socketio: SocketIO, sid: str, document: str | None, code: str, message: str) -> None:
    socketio.emit("error", {"document": document, "code": code, "message": message}, to=sid, namespace=NAMESPACE)


class CollabNamespace(Namespace):
    def __init__(self, namespace: str, services) -> None:
        super().__init__(namespace)
        self.services = services
        self.hooks: SocketHooks = services.rooms.hooks
        self._joined: dict[str, set[str]] = {}  # sid -> slugs
        self._buckets: dict[str, list[float]] = {}  # sid -> [tokens, last refill] (rate limit)
        self._rate = 0.0
        self._session_tokens: dict[str, str] = {}  # sid -> the account's session token at join
        self._lock = threading.Lock()

    def _error(self, document, code: str, message: str) -> None:
        report_error(self.socketio, request.sid, document, code, message)

    # --- connections of either endpoint (/collab Socket.IO sids, /yjs hub ids) --------------------

    def attach(self, sid: str, slug: str, account: int | None, session_token: str | None, acting: str,
               ip: str) -> None:
        """A /yjs connection joined `slug`: within reach of rights changes, audited like /collab's."""
        self.hooks.peers[(sid, slug)] = Peer(account, acting, ip)
        with self._lock:
            self._joined.setdefault(sid, set()).add(slug)
            if account is not None:
                self._session_tokens[sid] = session_token or ""
        if account is not None:
            self.hooks.accounts[sid] = account

    def forget_connection(self, sid: str) -> None:
        """A connection went away: leave its rooms, log its refused writes not logged yet."""
        with self._lock:
            slugs = self._joined.pop(sid, set())
            self._buckets.pop(sid, None)
            self._session_tokens.pop(sid, None)
        self.hooks.accounts.pop(sid, None)
        for key_sid, slug in [key for key in list(self.hooks.peers) if key[0] == sid]:
            self.hooks.forget(slug, key_sid)  # refused writes not logged yet, also for documents never joined
        for slug in slugs:
            room = self.services.rooms.peek(slug)
            if room is not None:
                try:
                    room.leave(sid)
                except (RoomClosed, ProtocolError):
                    pass

    def connections_of(self, slug: str) -> list[str]:
        with self._lock:
            return [sid for sid, slugs in self._joined.items() if slug in slugs]

    def tell_panels(self, db, slug: str, may_hear, event: str, units) -> None:
        """Emit `event` for each unit to the connections to `slug` whose account `may_hear(user,
        document)` (each account decided once): how features' panels in the editor hear of a change."""
        document = get_document(db, slug)
        if document is None or not units:
            return
        allowed: dict[int, bool] = {}
        for sid in self.connections_of(slug):
            account = self.hooks.accounts.get(sid)
            if account is None:
                continue
            if account not in allowed:
                user = db.get(User, account)
                allowed[account] = user is not None and may_hear(user, document)
            if allowed[account]:
                for guid in units:
                    self.emit_to(sid, event, {"document": slug, "unit": guid})

    def emit_to(self, sid: str, event: str, data: dict) -> None:
        """A panel event (stage, comments, provenance, amendment…) to one connection."""
        if sid.startswith(LIVE_PREFIX):
            if self.hooks.live is not None:
                self.hooks.live.emit(sid, event, data)
            return
        self.socketio.emit(event, data, to=sid, namespace=NAMESPACE)

    def emit_document(self, slug: str, event: str, data: dict) -> None:
        """A panel event to every connection open on the document, on both endpoints."""
        if self.hooks.live is not None:
            self.hooks.live.emit_room(slug, event, data)
        self.socketio.emit(event, data, to=channel(slug), namespace=NAMESPACE)

    def disconnect_connection(self, sid: str) -> None:
        if sid.startswith(LIVE_PREFIX):
            if self.hooks.live is not None:
                self.hooks.live.disconnect(sid)
            return
        self.socketio.server.disconnect(sid, namespace=NAMESPACE)

    def _sent_by_the_client(self) -> bool:
        """True when `connect` or `disconnect` is an event a client sent under that name (a crafted
        packet), not Socket.IO's own call: Socket.IO calls them while the connection is still
        connecting or already leaving, when it does not count as connected."""
        return self.socketio.server.manager.is_connected(request.sid, self.namespace)

    def on_connect(self, auth=None, *_extra):
        if self._sent_by_the_client():
            return  # it must not reset the connection's documents or rate limit
        with self._lock:
            self._joined[request.sid] = set()
            rate = current_app.config["SOCKET_RATE"]
            self._buckets[request.sid] = [float(current_app.config["SOCKET_BURST"]), time.monotonic()]
            self._rate = rate

    def _within_rate(self) -> bool:
        """A token bucket per connection: SOCKET_BURST messages at once, SOCKET_RATE per second
        sustained (0: no limit). Refused messages are lost to the server; the client resends
        what it still has at the next state-vector resync."""
        if not self._rate:
            return True
        bucket = self._buckets.get(request.sid)
        if bucket is None:
            return True
        now = time.monotonic()
        burst = float(current_app.config["SOCKET_BURST"])
        bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * self._rate)
        bucket[1] = now
        if bucket[0] < 1:
            return False
        bucket[0] -= 1
        return True

    def on_disconnect(self, reason=None, *_extra):
        if self._sent_by_the_client():
            return  # it must not take the connection out of the reach of rights changes
        self.forget_connection(request.sid)

    def on_join(self, data=None, *_extra):
        slug = data.get("document") if isinstance(data, dict) else None
        if not isinstance(slug, str) or not slug:
            return {"ok": False, "error": "join needs {\"document\": slug}"}
        if not SLUG.match(slug):  # no document has such a name (it may not even be valid Unicode)
            return {"ok": False, "error": f"no document {slug!r} is available to you"}
        if not self._within_rate():
            return {"ok": False, "error": "too many messages; slow down"}
        document = get_document(self.services.db, slug)
        role = permissions.role_in(current_user, document) if document else None
        acting = permissions.effective_role(current_user, document) if document else None
        suggest = role == "editor" and document is not None and permissions.must_suggest(current_user, document)
        self.services.db.remove()
        account = current_user.id if current_user.is_authenticated else None
        if role is None:
            if document is not None:  # someone tried to open a draft they may not see
                self.hooks.audit_entries([("collab.join_denied", slug, audit.Actor(
                    id=account, label=f"user:{account}" if account else "public", role=acting or "",
                    ip=request.remote_addr or ""), "", {"connection": request.sid})])
            # The same answer for "missing" and "not yours": drafts stay invisible.
            return {"ok": False, "error": f"no document {slug!r} is available to you"}
        self.hooks.peers[(request.sid, slug)] = Peer(account, acting or "public", request.remote_addr or "")
        for _attempt in range(3):
            try:
                self.services.rooms.get(slug).join(request.sid, role == "editor", presence_identity(current_user),
                                                   suggest_only=suggest, author=str(account) if suggest else None)
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
            self._session_tokens[request.sid] = current_user.session_token
        # "suggest": this connection may only suggest (editor.suggestions); said only when so.
        return {"ok": True, "role": role, **({"suggest": True} if suggest else {})}

    def _redecide(self, sid: str, slug: str, user, document, stage: str) -> None:
        """Re-decide one connection's right to write `document` and tell it its role (the editor
        switches between editing and following)."""
        role = permissions.role_in(user, document) if document is not None else None
        suggest = role == "editor" and document is not None and permissions.must_suggest(user, document)
        peer = self.hooks.peers.get((sid, slug))
        if peer is not None and document is not None:
            peer.role = permissions.effective_role(user, document) or "public"
        room = self.services.rooms.peek(slug)
        if room is not None:
            try:
                room.join(sid, role == "editor", suggest_only=suggest,
                          author=str(user.id) if suggest and user is not None else None)
            except (RoomClosed, ProtocolError):
                pass
        self.emit_to(sid, "stage", {"document": slug, "stage": stage, "role": role or "viewer",
                                    "suggest": suggest})

    def refresh_rights(self, slug: str, stage: str) -> None:
        """The document changed stage: re-decide this process's open connections' right to write
        (a StageChanged subscriber, in every process: see subscribe)."""

        db = self.services.db
        document = get_document(db, slug)
        for sid in self.connections_of(slug):
            account = self.hooks.accounts.get(sid)
            self._redecide(sid, slug, db.get(User, account) if account is not None else None, document, stage)

    def on_leave(self, data=None, *_extra):
        slug = data.get("document") if isinstance(data, dict) else None
        if not isinstance(slug, str):
            return {"ok": False, "error": "leave needs {\"document\": slug}"}
        with self._lock:
            joined = self._joined.get(request.sid, set())
            if slug not in joined:
                return {"ok": False, "error": "not in that document"}
            joined.discard(slug)
        leave_room(channel(slug))
        self.hooks.forget(slug, request.sid)
        room = self.services.rooms.peek(slug)
        if room is not None:
            room.leave(request.sid)
        return {"ok": True}

    def recheck_account(self, user_id: int) -> None:
        """An administrator changed the account (role, role on a document, deactivated, signed
        out everywhere): re-decide its open connections' rights in this process, or close them
        (an AccountChanged subscriber, in every process: see subscribe)."""

        db = self.services.db
        user = db.get(User, user_id)
        if user is not None:
            db.refresh(user)
        with self._lock:
            sids = [sid for sid, account in self.hooks.accounts.items() if account == user_id]
            joined = {sid: set(self._joined.get(sid, ())) for sid in sids}
        for sid in sids:
            if user is None or not user.active or self._session_tokens.get(sid) != user.session_token:
                self.disconnect_connection(sid)  # its session no longer exists
                continue
            for slug in joined[sid]:
                document = get_document(db, slug)
                stage = current_stage_of(document).key if document is not None else ""
                self._redecide(sid, slug, user, document, stage)

    def on_y(self, slug=None, payload=None, *extra):
        if not isinstance(slug, str):
            self._error(None, "wrong-type", "y takes (document slug, binary payload)")
            return
        if not SLUG.match(slug):  # before anything else: no document has such a name
            self._error(slug, "not-joined", "no document has that name; join a document before sending to it")
            return
        if not self._within_rate():
            self._error(slug, "rate-limited", "too many messages; the server will ask for what it missed")
            return
        with self._lock:
            joined = slug in self._joined.get(request.sid, set())
        if not joined:
            if isinstance(payload, (bytes, bytearray)) and payload[:1] == b"\x00" and payload[1:2] in (b"\x01", b"\x02"):
                # a write (sync step 2 or update) to a document it has not joined (or may not see)
                account = self.hooks.accounts.get(request.sid)
                if account is None and current_user.is_authenticated:
                    account = current_user.id
                # One entry per connection (not per document it names), then counts: see refused().
                self.hooks.peers.setdefault((request.sid, ""), Peer(account, "", request.remote_addr or ""))
                self.hooks.refused("", request.sid, "not-joined", slug)
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


def subscribe(events: EventBus, services) -> None:
    """Rights changes re-decide the live connections, in every process. In the process that made
    the change they run before the request answers (inline): a stage change or a deactivation has
    taken away the right to write by the time its page says so."""

    def stage_changed(event: StageChanged) -> None:
        services.collab.refresh_rights(event.document, event.stage)

    def account_changed(event: AccountChanged) -> None:
        services.collab.recheck_account(event.account)

    events.subscribe(StageChanged, stage_changed, label="live.rights.stage", everywhere=True, inline=True)
    events.subscribe(AccountChanged, account_changed, label="live.rights.account", everywhere=True, inline=True)
