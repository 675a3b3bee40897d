"""A real collaboration client for tests: a pycrdt Doc speaking the /collab protocol over Socket.IO."""

from __future__ import annotations

import threading
import time

import socketio
from pycrdt import Doc, Map, XmlFragment

from crdt import protocol

NS = "/collab"


def _dispatch_in_order(sio: socketio.Client) -> None:
    """Handle incoming messages one at a time, in arrival order, as a browser does.

    python-socketio's threading client runs every incoming Engine.IO message in a new thread; a
    binary event is two messages (header, then attachment), so under load those threads race:
    updates get applied out of order and some attachments are mis-assembled. There is no public
    switch for this, so the client's message trigger is made synchronous.
    """
    eio = sio.eio
    trigger = eio._trigger_event

    def inline(event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)

    eio._trigger_event = inline


class CollabClient:
    """Joins one document, keeps a local replica in sync, sends its own edits as updates."""

    def __init__(self, base_url: str, cookie: str | None = None, name: str = "client") -> None:
        self.base_url = base_url
        self.cookie = cookie
        self.name = name
        self.doc = Doc()
        self.body = self.doc.get("body", type=XmlFragment)
        self.meta = self.doc.get("meta", type=Map)
        self.lock = threading.RLock()
        self.errors: list[dict] = []
        self.received_updates: list[bytes] = []
        self.awareness: list[bytes] = []
        self.synced = threading.Event()
        self.slug: str | None = None
        self._remote = False
        self.sio = socketio.Client(reconnection=False)
        _dispatch_in_order(self.sio)
        self.sio.on("y", self._on_y, namespace=NS)
        self.sio.on("error", self._on_error, namespace=NS)
        self.doc.observe(self._on_local_change)

    # --- connection ---
    def connect(self) -> "CollabClient":
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.sio.connect(self.base_url, headers=headers, transports=["websocket"], namespaces=[NS], wait_timeout=10)
        return self

    def reconnect(self, base_url: str, slug: str | None = None) -> dict:
        """Connect to another server (e.g. after this one died) and join again with the replica
        kept: the sync exchange sends the new server whatever it lacks of ours."""
        slug = slug or self.slug
        self.close()
        self.sio = socketio.Client(reconnection=False)
        _dispatch_in_order(self.sio)
        self.sio.on("y", self._on_y, namespace=NS)
        self.sio.on("error", self._on_error, namespace=NS)
        self.base_url = base_url
        self.synced.clear()
        self.connect()
        return self.join(slug)

    def join(self, slug: str, wait: bool = True) -> dict:
        # The server may send its step 1 before our ack arrives: the reply must carry the slug.
        self.slug = slug
        ack = self.sio.call("join", {"document": slug}, namespace=NS, timeout=10)
        if not ack.get("ok"):
            self.slug = None
            return ack
        with self.lock:
            self.send(protocol.sync_step1(self.doc.get_state()))
        if wait:
            assert self.synced.wait(10), f"{self.name} never synced"
        return ack

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - closing what may already be gone
            pass

    def send(self, payload) -> None:
        self.sio.emit("y", (self.slug, payload), namespace=NS)

    # --- incoming ---
    def _on_error(self, data) -> None:
        self.errors.append(data)

    def _on_y(self, slug, payload) -> None:
        message = protocol.decode(payload)
        if isinstance(message, protocol.AwarenessMessage):
            self.awareness.append(message.data)
            return
        with self.lock:
            if message.step == protocol.SyncStep.STEP1:
                reply = protocol.sync_step2(self.doc.get_update(message.data))
                self.send(reply)
                return
            self._remote = True
            try:
                self.doc.apply_update(message.data)
            finally:
                self._remote = False
            if message.step == protocol.SyncStep.UPDATE:
                self.received_updates.append(message.data)
            else:
                self.synced.set()

    def _on_local_change(self, event) -> None:
        if self._remote or self.slug is None or event.update == protocol.EMPTY_UPDATE:
            return
        self.send(protocol.sync_update(event.update))

    # --- helpers for tests ---
    def edit(self, fn) -> None:
        """Run fn(body) as one local transaction; the resulting update is sent."""
        with self.lock:
            with self.doc.transaction():
                fn(self.body)

    def state(self) -> bytes:
        with self.lock:
            return self.doc.get_update()

    def xml(self) -> str:
        from lxml import etree

        from crdt.xmltree import fragment_to_etree

        with self.lock:
            return etree.tostring(fragment_to_etree(self.body), encoding="unicode")

    def wait_for(self, predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return True
            time.sleep(interval)
        return False


class YjsClient(CollabClient):
    """The same replica over `/yjs/<slug>`: raw y-protocols frames, one document per connection.

    With `events=True` it asks for the panel events our editor gets (type 100: JSON [event, data])
    and records `error` events in `errors`; a y-websocket "permission denied" auth message (type 2,
    what stock clients get) is recorded as {"code": "denied", "message": reason}."""

    def __init__(self, base_url: str, cookie: str | None = None, name: str = "client", token: str | None = None,
                 events: bool = True) -> None:
        self.token = token
        self.events_wanted = events
        self.events: list[tuple[str, dict]] = []
        self.joined = threading.Event()
        self.role: str | None = None
        self.ws = None
        self.closed = threading.Event()
        self.bytes_received = 0
        super().__init__(base_url, cookie, name)

    def connect(self) -> "YjsClient":
        return self  # the connection opens with join(slug): the document is in the address

    def url(self, slug: str) -> str:
        query = []
        if self.events_wanted:
            query.append("events=1")
        if self.token:
            query.append(f"token={self.token}")
        base = self.base_url.replace("http://", "ws://", 1)
        return f"{base}/yjs/{slug}" + ("?" + "&".join(query) if query else "")

    def join(self, slug: str, wait: bool = True) -> dict:
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect

        self.slug = slug
        headers = {"Cookie": self.cookie} if self.cookie else {}
        try:
            self.ws = connect(self.url(slug), additional_headers=headers, open_timeout=10, max_size=None)
        except InvalidStatus as exc:
            self.slug = None
            return {"ok": False, "status": exc.response.status_code}
        self.closed.clear()
        threading.Thread(target=self._read, name=f"yjs-{self.name}", daemon=True).start()
        with self.lock:
            self.send(protocol.sync_step1(self.doc.get_state()))
        if self.events_wanted:
            assert self.joined.wait(10), f"{self.name}: no 'joined' event"
        if wait:
            assert self.synced.wait(10), f"{self.name} never synced"
        return {"ok": True, "role": self.role}

    def reconnect(self, base_url: str, slug: str | None = None) -> dict:
        slug = slug or self.slug
        self.close()
        self.base_url = base_url
        self.synced.clear()
        self.joined.clear()
        return self.join(slug)

    def _read(self) -> None:
        import json

        from websockets.exceptions import ConnectionClosed

        ws = self.ws
        try:
            for message in ws:
                if not isinstance(message, bytes):
                    continue
                self.bytes_received += len(message)
                kind = message[0]
                if kind in (0, 1):
                    self._on_y(self.slug, message)
                elif kind == 100:
                    reader = protocol._Reader(message)
                    reader.varuint()
                    event, data = json.loads(reader.var_bytes())
                    self.events.append((event, data))
                    if event == "joined":
                        self.role = data.get("role")
                        self.joined.set()
                    elif event == "stage":
                        self.role = data.get("role")
                    elif event == "error":
                        self.errors.append(data)
                elif kind == 2:
                    reader = protocol._Reader(message)
                    reader.varuint()
                    reader.varuint()
                    self.errors.append({"code": "denied", "message": reader.var_bytes().decode()})
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001 - closing what may already be gone
                pass

    def send(self, payload) -> None:
        from websockets.exceptions import ConnectionClosed

        if self.ws is None:
            return
        try:
            self.ws.send(bytes(payload))
        except ConnectionClosed:
            pass
