"""`/yjs/<slug>`: live documents over raw y-protocols WebSocket frames, as y-websocket speaks them.

A stock `WebsocketProvider` (npm `y-websocket`) edits a Constituent document unchanged, with the
same rights, audit and durability as `/collab`: the handshake is an ordinary Flask request (the
session cookie, or a token for programs: `?token=` or `Authorization: Bearer`, minted by
`constituent users token`), which decides who may read and write; the socket is then handed to
the process's live hub (crdt.hub), an event loop that holds every live connection without a
thread each. The browser's editor uses this endpoint too (with `?events=1`: it also receives the
panel events — stage, comments, provenance, amendments, errors — as message type 100, a JSON
`[event, data]` that stock clients never get). With `?state=1` (a client whose document is
still empty: the editor page's early connection, web/src/connect.js) the server sends the whole
document right after its own sync step 1, as the answer to an empty step 1, without waiting for
the client to ask: one round trip less before the text is shown.

Messages from a connection go to its document's room in order; the room stores, then
broadcasts. Refusals reach a stock client as y-websocket's "permission denied" auth message
(type 2) and our editor as an `error` event with a code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import Blueprint, current_app, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from crdt.hub import Connection, Hub
from crdt.protocol import ProtocolError, encode_var_bytes, encode_varuint
from crdt.room import RoomClosed

from . import audit, permissions
from .collab import presence_identity
from .documents import SLUG, get_document
from .models import User
from .services import current_services, services_of

log = logging.getLogger(__name__)
bp = Blueprint("live", __name__)

MESSAGE_AUTH = 2  # y-websocket: auth message; 0 = permission denied, then a reason string
MESSAGE_EVENT = 100  # ours: a JSON [event, data], only to connections that asked (?events=1)
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ENVIRON_KEY = "constituent.live"
_TOKEN_SALT = "constituent-live-token"


def encode_event(event: str, data: dict) -> bytes:
    return encode_varuint(MESSAGE_EVENT) + encode_var_bytes(json.dumps([event, data], separators=(",", ":")).encode())


def encode_denied(reason: str) -> bytes:
    return encode_varuint(MESSAGE_AUTH) + encode_varuint(0) + encode_var_bytes(reason.encode("utf-8"))


# --- tokens for programs -------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_TOKEN_SALT)


def _session_mark(user) -> str:
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:16]


def make_token(user, days: float = 30) -> str:
    """A token that opens live connections as `user` until it expires or the account signs out
    everywhere (which changes its session token) or is deactivated."""
    return _serializer().dumps({"u": user.id, "t": _session_mark(user), "exp": int(time.time() + days * 86400)})


def user_of_token(db, token: str):

    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or data.get("exp", 0) < time.time():
        return None
    user = db.get(User, data["u"])
    if user is None or not user.active or _session_mark(user) != data.get("t"):
        return None
    return user


# --- the connections' side -----------------------------------------------------------------------


@dataclass
class Peer:
    """What the application knows of one live connection."""

    slug: str
    account: int | None
    events: bool  # our editor: wants panel events and error codes
    tokens: float = 0.0  # rate limit bucket
    refill: float = field(default_factory=time.monotonic)
    #: A listener (`accept_listener`): it only receives what its room is sent, never a document.
    listener: bool = False


class LiveEndpoint:
    """Binds the hub's connections to rooms, rights and the audit log (one per application)."""

    def __init__(self, services, config) -> None:
        self.services = services
        self.rate = float(config["SOCKET_RATE"])
        self.burst = float(config["SOCKET_BURST"])
        self.max_message = int(config["MAX_Y_MESSAGE_BYTES"])
        self.hub = Hub(self._on_message, self._on_close, send_buffer=int(config["LIVE_SEND_BUFFER"]),
                       max_message=self.max_message)
        # Leaving a room and auditing are blocking work: never on the hub's loop.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-cleanup")
        self._denied: dict[tuple[str, str], float] = {}  # (address, slug) -> last audited refusal
        # Connection id -> Peer, from adoption (before the hub's loop has registered it) to cleanup.
        self.peers: dict[str, Peer] = {}
        self._lock = threading.Lock()

    @property
    def collab(self):
        return self.services.collab

    # Called by the rooms (SocketHooks) and the collab namespace for this hub's connections.

    def send(self, connection: str, payload: bytes) -> None:
        self.hub.send(connection, payload)

    def broadcast(self, room: str, payload: bytes, skip: str | None) -> None:
        # A document nobody follows here over /yjs costs nothing (no wake-up of the loop). A
        # connection joining meanwhile misses nothing: its handshake is answered after its join,
        # so its own step 1 (answered with everything) reaches the room after this update.
        if room in self.hub.rooms:
            self.hub.broadcast(room, payload, skip)

    def emit(self, connection: str, event: str, data: dict) -> None:
        peer = self.peers.get(connection)
        if peer is not None and peer.events:
            self.hub.send(connection, encode_event(event, data))

    def emit_room(self, slug: str, event: str, data: dict) -> None:
        if slug not in self.hub.rooms:
            return
        self.hub.broadcast(slug, encode_event(event, data), None, only=lambda conn: conn.info.events)

    def report(self, connection: str, document: str | None, code: str, message: str) -> None:
        peer = self.peers.get(connection)
        if peer is None:
            return
        if peer.events:
            self.hub.send(connection, encode_event("error", {"document": document, "code": code, "message": message}))
        else:
            self.hub.send(connection, encode_denied(f"{code}: {message}"))

    def disconnect(self, connection: str) -> None:
        self.hub.close(connection, 4401, "signed out")

    # On the hub's loop: must not block.

    def _within_rate(self, peer: Peer) -> bool:
        if not self.rate:
            return True
        now = time.monotonic()
        peer.tokens = min(self.burst, peer.tokens + (now - peer.refill) * self.rate)
        peer.refill = now
        if peer.tokens < 1:
            return False
        peer.tokens -= 1
        return True

    def _on_message(self, conn: Connection, payload: bytes) -> None:
        peer: Peer = conn.info
        if peer.listener:
            self.hub.close(conn.id, 1003, "this connection only listens")
            return
        if not self._within_rate(peer):
            self.report(conn.id, peer.slug, "rate-limited", "too many messages; the server will ask for what it missed")
            return
        room = self.services.rooms.peek(peer.slug)
        if room is None:
            self.hub.close(conn.id, 1012, "the document was closed; reconnect")
            return
        try:
            room.receive_nowait(conn.id, payload)
        except ProtocolError as exc:
            self.report(conn.id, peer.slug, exc.code, exc.message)
        except RoomClosed:
            self.hub.close(conn.id, 1012, "the document was closed; reconnect")

    def _on_close(self, conn: Connection) -> None:
        if conn.info.listener:
            self.peers.pop(conn.id, None)
            return
        self._pool.submit(self._cleanup, conn.id, conn.info.slug)

    def _cleanup(self, sid: str, slug: str) -> None:
        self.peers.pop(sid, None)
        try:
            self.collab.forget_connection(sid)
        except Exception:
            log.exception("live: forgetting connection %s failed", sid)

    # The handshake (a Flask request in a web server thread).

    def refused_join(self, slug: str, document, account: int | None, acting: str | None) -> None:
        """Someone tried to open a draft they may not see: audited once per address, document and
        minute (a reconnecting client retries every few seconds)."""
        address = request.remote_addr or ""
        now = time.monotonic()
        with self._lock:
            last = self._denied.get((address, slug))
            if last is not None and now - last < 60:
                return
            if len(self._denied) > 10_000:
                self._denied.clear()
            self._denied[(address, slug)] = now
        self.services.rooms.hooks.audit_entries([("collab.join_denied", slug, audit.Actor(
            id=account, label=f"user:{account}" if account else "public", role=acting or "", ip=address), "",
            {"endpoint": "yjs"})])


def _problem(status: int, message: str):
    return {"error": message, "status": status}, status


def _handshake_accept() -> tuple[str | None, object]:
    """The WebSocket handshake's accept key and the server's socket, or (None, a problem)."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return None, _problem(400, "this address is a WebSocket endpoint; connect with a WebSocket client")
    accept = _accept_key(request.headers.get("Sec-WebSocket-Key", ""))
    if accept is None or request.headers.get("Sec-WebSocket-Version") != "13":
        return None, _problem(400, "a WebSocket handshake needs Sec-WebSocket-Key and Sec-WebSocket-Version: 13")
    sock = request.environ.get("gunicorn.socket")
    if sock is None:
        return None, _problem(501, "live connections need the application server (constituent serve)")
    return accept, sock


#: How the addresses of listening endpoints end (`accept_listener`): the middleware looks at
#: these handshakes, and at /yjs/, and leaves every other request alone.
LISTEN_SUFFIX = "/listen"


def accept_listener(room: str, on_join=None):
    """Accept, from a view, a WebSocket that only listens: it joins the hub's `room` and gets what
    is broadcast there (`services.live.hub.broadcast(room, payload)`), binary frames; anything
    it sends closes it (1003). `on_join(connection_id)` runs once it is in the room. The view has
    decided who may listen; its address must end with LISTEN_SUFFIX. Returns the view's answer."""
    if not request.path.endswith(LISTEN_SUFFIX):
        raise ValueError(f"a listening endpoint's address ends with {LISTEN_SUFFIX}")
    accept, sock = _handshake_accept()
    if accept is None:
        return sock
    request.environ[_ENVIRON_KEY] = dict(kind="listen", sock=sock, accept=accept, room=room, on_join=on_join)
    return "", 101


def _accept_key(key: str) -> str | None:
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except (ValueError, TypeError):
        return None
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _WS_GUID).digest()).decode("ascii")


@bp.route("/yjs/<path:slug>", websocket=True)
def yjs(slug: str):
    """Open a live connection to a document (WebSocket upgrade)."""

    services = current_services()
    live: LiveEndpoint = services.live
    if not SLUG.match(slug):
        return _problem(404, f"no document {slug[:80]!r} is available to you")
    user = current_user
    token = request.args.get("token") or ""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    if token:
        user = user_of_token(services.db, token)
        if user is None:
            return _problem(401, "the token is not valid (expired, revoked or not ours)")
    document = get_document(services.db, slug)
    role = permissions.role_in(user, document) if document is not None else None
    acting = permissions.effective_role(user, document) if document is not None else None
    account = user.id if getattr(user, "is_authenticated", False) else None
    if role is None:
        if document is not None:
            live.refused_join(slug, document, account, acting)
        return _problem(404, f"no document {slug!r} is available to you")
    # Permission first, then the request's form (a draft answers 404 whatever is sent).
    accept, sock = _handshake_accept()
    if accept is None:
        return sock
    identity = presence_identity(user)
    request.environ[_ENVIRON_KEY] = dict(
        sock=sock, accept=accept, slug=slug, role=role, acting=acting or "public", account=account,
        suggest=role == "editor" and permissions.must_suggest(user, document),
        session_token=user.session_token if account is not None else None, identity=identity,
        events=request.args.get("events") == "1", ip=request.remote_addr or "",
        state=request.args.get("state") == "1",  # an empty client: the whole document at once
    )
    return "", 101


class LiveMiddleware:
    """Hands an accepted `/yjs/` handshake's socket to the hub and frees the server's thread.

    The Flask view above decides; this only carries the decision out, after Flask has finished
    with the request. Under gunicorn, raising StopIteration from the application closes the
    connection without writing a response (as Flask-SocketIO does); the hub holds a duplicate of
    the socket, so the connection stays open."""

    def __init__(self, wsgi_app, app) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/yjs/") and not path.endswith(LISTEN_SUFFIX):
            return self.wsgi_app(environ, start_response)
        started: list = []

        def defer(status, headers, exc_info=None):
            started[:] = [status, headers, exc_info]
            return lambda data: None

        body = self.wsgi_app(environ, defer)
        decision = environ.get(_ENVIRON_KEY)
        if decision is None or not started or not started[0].startswith("101"):
            start_response(*started)
            return body
        if hasattr(body, "close"):
            body.close()
        self._adopt(decision)
        raise StopIteration()

    @staticmethod
    def _greeting(accept: str) -> bytes:
        return (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode("ascii")

    def _adopt_listener(self, d: dict) -> None:
        live: LiveEndpoint = services_of(self.app).live
        peer = Peer("", None, False, listener=True)
        conn = Connection(id=live.hub.new_id(), room=d["room"], info=peer)
        live.peers[conn.id] = peer
        live.hub.adopt(d["sock"].dup(), self._greeting(d["accept"]), conn)
        if d["on_join"] is not None:
            try:
                d["on_join"](conn.id)
            except Exception:
                log.exception("live: setting up listener %s of %s failed", conn.id, d["room"])
                live.hub.close(conn.id, 1011, "internal error")
                return
        live.hub.release(conn.id)

    def _adopt(self, d: dict) -> None:
        if d.get("kind") == "listen":
            self._adopt_listener(d)
            return
        services = services_of(self.app)
        live: LiveEndpoint = services.live
        peer = Peer(d["slug"], d["account"], d["events"], tokens=live.burst)
        conn = Connection(id=live.hub.new_id(), room=d["slug"], info=peer)
        live.peers[conn.id] = peer
        live.hub.adopt(d["sock"].dup(), self._greeting(d["accept"]), conn)
        try:
            services.collab.attach(conn.id, d["slug"], d["account"], d["session_token"], d["acting"], d["ip"])
            for _attempt in range(3):
                try:
                    services.rooms.get(d["slug"]).join(conn.id, d["role"] == "editor", d["identity"],
                                                       suggest_only=d["suggest"],
                                                       author=str(d["account"]) if d["suggest"] else None,
                                                       send_state=d["state"])
                    break
                except RoomClosed:
                    continue
            else:
                live.hub.close(conn.id, 1011, "the document could not be opened; try again")
                return
        except Exception:
            log.exception("live: could not join connection %s to %s", conn.id, d["slug"])
            live.hub.close(conn.id, 1011, "internal error")
            return
        if d["events"]:
            live.emit(conn.id, "joined", {"document": d["slug"], "role": d["role"],
                                          **({"suggest": True} if d["suggest"] else {})})
        # Only now is the handshake answered: the client's first message comes after its join.
        live.hub.release(conn.id)


def install(app, services) -> None:
    services.live = LiveEndpoint(services, app.config)
    app.register_blueprint(bp)
    app.wsgi_app = LiveMiddleware(app.wsgi_app, app)
