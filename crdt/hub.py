"""Raw WebSocket connections of live documents, held by one asyncio event loop per process.

A live connection costs a socket and a few small objects here, never a thread: the web server's
threads only authenticate the handshake and hand the socket over (`Hub.adopt`). From then on
this loop reads the connection's frames and writes what the rooms send it.

* **Encoded once.** A room's message becomes one WebSocket frame (server frames are not
  masked, so the same bytes are valid for every receiver), built once and written to every
  receiver.
* **Coalesced.** Calls from room workers are queued in order and flushed on the loop's next
  turn: everything one receiver gets in a turn is one write (one syscall).
* **Bounded.** A receiver whose unsent bytes pass `send_buffer` is dropped; it reconnects and
  resyncs from the server's state. It never grows memory or delays the others.
* **Ordered.** Sends, broadcasts, adoptions and closes are applied in the order they were
  made, so a connection gets its room's sync step 1 before the updates that follow it.

The hub knows nothing of documents' rights: the application's `on_message` callback (run on
the loop: it must not block) decides what to do with each message.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, cast

from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

log = logging.getLogger(__name__)

PREFIX = "yjs."  # connection ids of this hub; Socket.IO's never contain a dot


def frame(payload: bytes, opcode: int = 0x2) -> bytes:
    """One final, unmasked WebSocket frame (binary by default), as a server sends it."""
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(struct.pack("!H", code) + reason.encode("utf-8")[:120], opcode=0x8)


@dataclass(eq=False)
class Connection:
    """One adopted WebSocket: which room it belongs to and what the application knows of it."""

    id: str
    room: str
    info: Any = None  # the application's (who is behind it, rights, rate limit…)
    transport: asyncio.Transport | None = None
    backlog: list[bytes] = field(default_factory=list)  # frames written before the socket was ready
    # Held: the handshake's answer is not written until the application has set the connection up
    # (see Hub.release); the client cannot send anything before it, so nothing races the set-up.
    held: bool = True
    greeting: bytes = b""
    closed: bool = False
    last_seen: float = field(default_factory=time.monotonic)


class _Protocol(asyncio.Protocol):
    def __init__(self, hub: "Hub", conn: Connection) -> None:
        self.hub = hub
        self.conn = conn
        self.ws = WsConnection(ConnectionType.SERVER)
        self.parts: list[bytes] = []
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # connect_accepted_socket makes a stream transport: it writes and has write-buffer limits.
        transport = cast(asyncio.Transport, transport)
        conn = self.conn
        transport.set_write_buffer_limits(high=self.hub.send_buffer)
        conn.transport = transport
        if conn.closed:  # closed before the socket was ready
            transport.close()
            return
        if not conn.held:
            self.hub._open(conn)

    def pause_writing(self) -> None:
        # More unsent bytes than the bound: a slow receiver. Drop it; it reconnects and resyncs.
        log.info("live: dropping slow receiver %s (more than %d bytes unsent)", self.conn.id, self.hub.send_buffer)
        self.hub.slow_drops += 1
        self.hub._abort(self.conn)

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn.closed:
            return
        conn.last_seen = time.monotonic()
        try:
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, BytesMessage):
                    self.size += len(event.data)
                    if self.size > self.hub.max_message:
                        self.hub._close(conn, 1009, "message too large")
                        return
                    self.parts.append(bytes(event.data))
                    if event.message_finished:
                        payload = b"".join(self.parts)
                        self.parts, self.size = [], 0
                        self.hub._deliver(conn, payload)
                        if conn.closed:
                            return
                elif isinstance(event, TextMessage):
                    self.hub._close(conn, 1003, "binary y-protocols messages only")
                    return
                elif isinstance(event, Ping):
                    self.hub._write(conn, frame(bytes(event.payload), opcode=0xA))
                elif isinstance(event, Pong):
                    pass
                elif isinstance(event, CloseConnection):
                    self.hub._close(conn, event.code if event.code else 1000, "")
                    return
        except Exception as exc:  # noqa: BLE001 - a protocol violation (bad framing, unmasked frame…)
            log.info("live: connection %s sent bad WebSocket data: %s", conn.id, exc)
            self.hub._close(conn, 1002, "protocol error")

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub._gone(self.conn)


class Hub:
    """The event loop of live connections (one thread), with ordered cross-thread calls."""

    def __init__(
        self,
        on_message: Callable[[Connection, bytes], None],
        on_close: Callable[[Connection], None],
        send_buffer: int = 8 << 20,
        max_message: int = 8 << 20,
        ping_interval: float = 30.0,
    ) -> None:
        self.on_message = on_message
        self.on_close = on_close
        self.send_buffer = send_buffer
        self.max_message = max_message
        self.ping_interval = ping_interval
        self.connections: dict[str, Connection] = {}
        self.rooms: dict[str, dict[str, Connection]] = {}
        self.slow_drops = 0
        self._ops: list[tuple] = []
        self._lock = threading.Lock()
        self._scheduled = False
        self._counter = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # --- from any thread ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop's thread (once); return when the loop runs, whoever started it."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
                self._thread.start()
        if not self._started.wait(30):
            raise RuntimeError("the live hub's event loop did not start")

    def new_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"{PREFIX}{self._counter}"

    def adopt(self, sock: socket.socket, greeting: bytes, conn: Connection) -> None:
        """Take over an upgraded socket. `greeting` (the 101 response) is written when the
        application calls `release`; what is sent to the connection meanwhile waits behind it."""
        self.start()
        conn.greeting = greeting
        self._op(("adopt", conn, sock))

    def release(self, connection: str) -> None:
        """The application has set the connection up: answer the handshake, then what waited."""
        self._op(("release", connection))

    def send(self, connection: str, payload: bytes) -> None:
        self._op(("send", connection, payload))

    def broadcast(self, room: str, payload: bytes, skip: str | None = None,
                  only: Callable[[Connection], bool] | None = None) -> None:
        self._op(("broadcast", room, payload, skip, only))

    def close(self, connection: str, code: int = 1000, reason: str = "") -> None:
        self._op(("close", connection, code, reason))

    # --- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.call_soon(self._started.set)
        if self.ping_interval:
            loop.call_later(self.ping_interval, self._ping)
        loop.run_forever()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The hub's loop: set by `_run` before `start` returns."""
        assert self._loop is not None, "the live hub has not started"
        return self._loop

    def _op(self, op: tuple) -> None:
        with self._lock:
            self._ops.append(op)
            if self._scheduled:
                return
            self._scheduled = True
        if self._loop is None:
            self.start()
        self._running_loop().call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._lock:
            ops, self._ops = self._ops, []
            self._scheduled = False
        out: dict[Connection, list[bytes]] = {}
        for op in ops:
            kind = op[0]
            if kind == "broadcast":
                _, room, payload, skip, only = op
                members = self.rooms.get(room)
                if not members:
                    continue
                data = frame(payload)
                for member in members.values():
                    if member.id != skip and (only is None or only(member)):
                        out.setdefault(member, []).append(data)
            elif kind == "send":
                conn = self.connections.get(op[1])
                if conn is not None:
                    out.setdefault(conn, []).append(frame(op[2]))
            elif kind == "adopt":
                _, conn, sock = op
                self.connections[conn.id] = conn
                self.rooms.setdefault(conn.room, {})[conn.id] = conn
                self._running_loop().create_task(self._accept(conn, sock))
            elif kind == "release":
                conn = self.connections.get(op[1])
                if conn is not None and conn.held:
                    conn.held = False
                    if conn in out:  # queued behind the greeting
                        conn.backlog.extend(out.pop(conn))
                    if conn.transport is not None:
                        self._open(conn)
            elif kind == "close":
                conn = self.connections.get(op[1])
                if conn is not None:
                    if conn in out:  # what was queued before the close goes first
                        self._write(conn, b"".join(out.pop(conn)))
                    self._close(conn, op[2], op[3])
        for conn, frames in out.items():
            self._write(conn, frames[0] if len(frames) == 1 else b"".join(frames))

    async def _accept(self, conn: Connection, sock: socket.socket) -> None:
        try:
            sock.setblocking(False)
            await self._running_loop().connect_accepted_socket(lambda: _Protocol(self, conn), sock=sock)
        except Exception:
            log.exception("live: could not take over connection %s", conn.id)
            sock.close()
            self._gone(conn)

    def _open(self, conn: Connection) -> None:
        backlog, conn.backlog = conn.backlog, []
        self._write(conn, b"".join([conn.greeting, *backlog]))

    def _write(self, conn: Connection, data: bytes) -> None:
        if conn.closed:
            return
        if conn.transport is None or conn.held:
            conn.backlog.append(data)
            return
        conn.transport.write(data)

    def _deliver(self, conn: Connection, payload: bytes) -> None:
        try:
            self.on_message(conn, payload)
        except Exception:
            log.exception("live: handling a message from %s failed", conn.id)
            self._close(conn, 1011, "internal error")

    def _close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.closed:
            return
        self._write(conn, close_frame(code, reason))
        conn.closed = True
        if conn.transport is not None:
            conn.transport.close()  # after the buffered bytes are written
        self._gone(conn)

    def _abort(self, conn: Connection) -> None:
        conn.closed = True
        if conn.transport is not None:
            conn.transport.abort()
        self._gone(conn)

    def _gone(self, conn: Connection) -> None:
        conn.closed = True
        if self.connections.pop(conn.id, None) is None:
            return
        members = self.rooms.get(conn.room)
        if members is not None:
            members.pop(conn.id, None)
            if not members:
                del self.rooms[conn.room]
        try:
            self.on_close(conn)
        except Exception:
            log.exception("live: closing %s failed", conn.id)

    def _ping(self) -> None:
        """Ping every connection; one silent for two intervals is gone (a dead peer or network)."""
        now = time.monotonic()
        ping = frame(b"", opcode=0x9)
        for conn in list(self.connections.values()):
            if now - conn.last_seen > 2 * self.ping_interval + 1:
                self._abort(conn)
            else:
                self._write(conn, ping)
        self._running_loop().call_later(self.ping_interval, self._ping)
