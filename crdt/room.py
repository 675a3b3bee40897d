"""A room: one live document, its connections, and the single worker that applies their messages in order.

The room knows nothing of who a connection is. The application tells it, when a connection
joins, whether that connection may write, and plugs in the I/O through `RoomHooks`
(send to one, broadcast to all, report a problem, inspect or repair after changes).

Every message for the document goes through one queue and one worker thread, so updates are
applied serially and each connection's updates stay in the order it sent them. The worker takes
messages in batches: it applies the batch, appends every resulting update to the store in one
transaction (group commit), and only then sends anything out. Nobody ever sees an update that
a crash could lose.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from pycrdt import Doc, get_update

from . import protocol
from .fanout import AWARENESS, REMOTE, UPDATES
from .presence import Identity, Presence
from .protocol import AwarenessMessage, ProtocolError, SyncMessage, SyncStep, decode_state_vector, first_block
from .store import UpdateStore
from .suggestcheck import only_suggests

log = logging.getLogger(__name__)

#: Every change of any room's document takes the next number (see Room.generation).
_GENERATIONS = itertools.count(1)


class RoomHooks:
    """What the application plugs into a room. Defaults do nothing."""

    def send(self, room: str, connection: str, payload: bytes) -> None:
        """Deliver one y-protocols message to one connection."""

    def broadcast(self, room: str, payload: bytes, skip: str | None) -> None:
        """Deliver one y-protocols message to every connection in the room but `skip`."""

    def report(self, room: str, connection: str, code: str, message: str) -> None:
        """Tell one connection that something it sent was refused."""

    def on_load(self, room: str, doc: Doc) -> None:
        """The document was loaded from the store (runs in the room's worker)."""

    def after_apply(self, room: str, doc: Doc) -> None:
        """A batch changed the document; the application may repair it in a transaction."""

    def in_transaction(self, room: str, updates: list[tuple[str | None, bytes]]):
        """Rows the application writes in the same transaction as a batch's updates, as
        (guard, write(connection)), or None. `guard` (a lock) is taken before the transaction."""
        return None

    def on_durable(self, room: str, updates: list[tuple[str | None, bytes]]) -> None:
        """A batch's updates are in the store, each with its origin (the connection that sent
        it, or None / a label for the server's own changes); called before anyone sees them."""

    def on_change(self, room: str, doc: Doc) -> None:
        """A batch's changes are durable and have been sent out."""

    def on_close(self, room: str) -> None:
        """The room stopped (evicted or failed); forget anything kept for it."""


class RoomClosed(RuntimeError):
    """The room stopped (evicted or failed) before it could take the message."""


@dataclass
class RoomSettings:
    batch_size: int = 512  # messages applied per group commit
    compact_every: int = 1000  # logged updates before the log is folded into a snapshot
    resync_interval: float = 30.0  # seconds between state-vector resyncs with every connection
    queue_limit: int = 20_000  # messages waiting before a sender is told to slow down
    store_retries: tuple[float, ...] = (0.05, 0.25, 1.0)
    heal_interval: float = 0.0  # with fan-out: seconds between safety heals against the store (0: never)
    # Sync replies (step 2) per connection: a byte budget refilled at this rate, holding at most
    # the burst (or two whole documents, if larger). 0: no limit. Bounds what a flood of step 1
    # messages can make the server send to one connection.
    sync_bytes_per_second: float = 64 * 1024
    sync_burst_bytes: int = 4 << 20
    followers_interval: float = 1.0  # at most one follower-count update per this many seconds


@dataclass
class _Batch:
    outbox: list[Callable[[], None]] = field(default_factory=list)
    updates: list[bytes] = field(default_factory=list)
    origins: list[str | None] = field(default_factory=list)  # who sent each update (its connection)


def _new_blocks(update: bytes, state_vector: bytes) -> list[tuple[int, int, int]]:
    """(structs, client id, first clock) of every client block of `update` that a document with
    this state vector lacks.

    Yjs orders blocks by client id, so a refused client's structs can sit behind another's: each
    client found is stripped (as if the document had all of it) and the rest looked at again."""
    lacking = get_update(update, state_vector)
    if protocol.block_count(lacking) <= 1:  # the usual case: one client's own edit
        block = first_block(lacking)
        return [block] if block is not None else []
    state = decode_state_vector(state_vector)
    blocks: list[tuple[int, int, int]] = []
    for _ in range(64):
        block = first_block(get_update(update, protocol.encode_state_vector(state)))
        if block is None:
            return blocks
        blocks.append(block)
        state[block[1]] = 1 << 53
    raise ValueError("the update carries changes of more than 64 clients the document lacks")


class Room:
    def __init__(self, name: str, store: UpdateStore, hooks: RoomHooks, settings: RoomSettings | None = None,
                 fanout=None, refused_clients: set[int] | None = None):
        self.name = name
        # Yjs client ids whose updates were refused (a connection that could not write sent them):
        # their updates are refused for good, so a refused edit never lands later (kept by Rooms
        # across evictions of this room).
        self.refused_clients: set[int] = refused_clients if refused_clients is not None else set()
        self._tainted: set[str] = set()  # connections that had a write refused: never writers again
        self._full_state: bytes | None = None  # sync step 2 of the whole document, for new followers
        self._deleted: dict[int, list[tuple[int, int]]] | None = None  # the document's delete set (cached)
        self._budgets: dict[str, list[float]] = {}  # connection -> [bytes left, last refill]
        self._reload = False  # an update could not integrate: reload the replica from the store
        self._followers_dirty = False
        self._followers_sent = 0.0
        self._subscription: Any = None
        self.fanout = fanout  # crdt.fanout.RedisFanout: other processes holding this document
        self._publisher = uuid.uuid4().hex[:12]
        self._published = 0  # publications attempted (their sequence numbers)
        self._remote = False  # applying another process's updates: not stored again here
        self._needs_heal = False
        self._last_heal = time.monotonic()
        self.store = store
        self.hooks = hooks
        self.settings = settings or RoomSettings()
        self.presence = Presence()
        self._connections: dict[str, bool] = {}  # connection -> may write
        #: A number that changes whenever the document does (unique across rooms and reloads): what
        #: was computed from the document can be reused while it stays the same. Read in the worker.
        self.generation = next(_GENERATIONS)
        # Connections that may write suggestions only: their updates must leave the accepted text
        # as it was (checked against `_shadow`, a copy of the document kept only while one is here).
        self._suggesters: dict[str, str | None] = {}  # connection -> the author its suggestions name
        self._shadow: Doc | None = None
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue(self.settings.queue_limit)
        self._doc: Doc | None = None
        self._batch: _Batch | None = None
        self._in_flight: list[tuple[Any, ...]] = []  # the batch being processed (its calls wait on it)
        self._origin: str | None = None
        self._last_update_id = 0
        self._log_length = 0
        self._last_resync = time.monotonic()
        self.last_active = time.monotonic()
        self.closed = threading.Event()
        self._loaded = threading.Event()
        self._load_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"room:{name}", daemon=True)
        self._thread.start()
        self._loaded.wait()
        if self._load_error is not None:
            raise self._load_error

    # --- called from any thread -------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def join(self, connection: str, can_write: bool, identity: Identity | None = None,
             suggest_only: bool = False, author: str | None = None, send_state: bool = False) -> None:
        """Add a connection, or re-decide its right to write. `identity` is who the server says it
        is in presence (None: keep what it was, or relay its awareness as sent). `suggest_only`:
        a writer whose updates may add suggestions but never change the accepted text; `author`
        (its account id): the name its suggestions must carry (crdt.suggestcheck). `send_state`:
        a new client with an empty document: send it the whole document (the sync step 2 its
        step 1 would ask for, from the same cache) right after our step 1, without waiting for its
        step 1: one round trip less before its text is shown."""
        self._put(("join", connection, can_write, identity, suggest_only, author, send_state))

    def receive_nowait(self, connection: str, payload: object) -> None:
        """Like `receive`, but never waits (for an event loop): a full queue raises ProtocolError."""
        message = protocol.decode(payload)
        if self.closed.is_set():
            raise RoomClosed(f"document {self.name} is not open")
        self.last_active = time.monotonic()
        try:
            self._queue.put_nowait(("message", connection, message))
        except queue.Full:
            raise ProtocolError("overloaded", "too many messages waiting; slow down") from None

    def leave(self, connection: str) -> None:
        self._put(("leave", connection))

    def receive(self, connection: str, payload: object) -> None:
        """Queue a y-protocols message from a connection; raise ProtocolError if it is malformed."""
        message = protocol.decode(payload)
        self._put(("message", connection, message))

    def remote(self, kind: bytes, items: list[bytes]) -> None:
        """Another process's durable updates (or awareness) for this document, from the fan-out."""
        self._put_nowait(("remote", kind, items))

    def heal(self) -> None:
        """Bring the replica up to date with the store (something from another process was missed)."""
        self._put_nowait(("heal",))

    def _put_nowait(self, item: tuple[Any, ...]) -> None:
        if self.closed.is_set():
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._needs_heal = True  # dropped: the store has it; heal once the queue drains

    def call(self, fn: Callable[[Doc], Any], timeout: float = 30.0, origin: str | None = None) -> Any:
        """Run fn(doc) in the worker; changes it makes are durable and broadcast before this returns.
        `origin` names who makes them (e.g. "amendment:12"), for the hooks and the audit log.

        Called from the worker itself (a hook reading the text), fn runs at once on the worker's
        document, which holds every change applied so far: waiting for itself would deadlock.
        Such a call must only read. A change made there is not stored by this call: inside
        `after_apply` it joins the batch being handled, elsewhere (on_load, on_durable,
        on_change) it would be lost."""
        if threading.current_thread() is self._thread and self._doc is not None:
            return fn(self._doc)
        future: Future[Any] = Future()
        self._put(("call", fn, future, origin))
        return future.result(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Finish queued work, compact, stop the worker."""
        if not self.closed.is_set():
            try:
                self._put(("close",))
            except RoomClosed:
                pass
        self._thread.join(timeout)

    def _put(self, item: tuple[Any, ...]) -> None:
        if self.closed.is_set():
            raise RoomClosed(f"document {self.name} is not open")
        self.last_active = time.monotonic()
        try:
            self._queue.put(item, timeout=10)
        except queue.Full:
            raise ProtocolError("overloaded", "too many messages waiting; slow down") from None

    # --- the worker -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            loaded = self.store.load(self.name)
            self._doc = loaded.doc
            self._last_update_id = loaded.last_update_id
            self._log_length = loaded.log_length
            self._subscription = self._doc.observe(self._on_transaction)
            self.hooks.on_load(self.name, self._doc)
        except BaseException as exc:  # noqa: BLE001 - reported to whoever opened the room
            self._load_error = exc
            self.closed.set()
            self._loaded.set()
            return
        self._loaded.set()
        try:
            self._serve()
        except Exception:
            log.exception("room %s failed", self.name)
            self._fail("internal", "the document stopped; reconnect to continue")
        finally:
            try:
                self.hooks.on_close(self.name)
            except Exception:
                log.exception("room %s: on_close hook failed", self.name)

    def _serve(self) -> None:
        settings = self.settings
        while True:
            timeout = max(0.1, settings.resync_interval - (time.monotonic() - self._last_resync))
            if self._healing_due():
                self._needs_heal = True
                timeout = 0.0
            elif self.fanout is not None and settings.heal_interval:
                timeout = min(timeout, max(0.1, settings.heal_interval - (time.monotonic() - self._last_heal)))
            if self._followers_dirty:
                timeout = min(timeout, max(0.05, settings.followers_interval - (time.monotonic() - self._followers_sent)))
            try:
                first = self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
            except queue.Empty:
                self._send_followers()
                if self._needs_heal or self._healing_due():
                    self._process([("heal",)])
                if time.monotonic() - self._last_resync >= settings.resync_interval:
                    self._resync()
                continue
            items = [first]
            while len(items) < settings.batch_size:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._needs_heal:
                items.append(("heal",))
            closing = any(item[0] == "close" for item in items)
            self._in_flight = items
            self._process([item for item in items if item[0] != "close"])
            self._in_flight = []
            if self.closed.is_set():
                return  # failed: the application drops this room and reloads from the store
            if closing:
                self._compact()
                self.closed.set()
                self._fail_pending()
                return
            if time.monotonic() - self._last_resync >= settings.resync_interval:
                self._resync()

    def _process(self, items: list[tuple[Any, ...]]) -> None:
        doc = self._doc
        assert doc is not None
        batch = self._batch = _Batch()
        try:
            for item in items:
                self._handle(doc, item, batch)
            if batch.updates:
                self._origin = None
                try:
                    self.hooks.after_apply(self.name, doc)
                except Exception:
                    log.exception("room %s: after_apply hook failed", self.name)
        finally:
            self._batch = None
            self._origin = None
        if batch.updates:
            if not self._persist(batch.updates, batch.origins):
                return
            self._publish(UPDATES, batch.updates)
            try:
                self.hooks.on_durable(self.name, list(zip(batch.origins, batch.updates, strict=True)))
            except Exception:
                log.exception("room %s: on_durable hook failed", self.name)
        for deliver in batch.outbox:
            try:
                deliver()
            except Exception:
                log.exception("room %s: delivery failed", self.name)
        if batch.updates:
            self.hooks.on_change(self.name, doc)
            if self._log_length >= self.settings.compact_every:
                self._compact()
        if self._reload:
            self._reload_replica()
        self._send_followers()

    def _send_followers(self) -> None:
        """Tell everyone how many anonymous followers there are (at most once per interval)."""
        if not self._followers_dirty or time.monotonic() - self._followers_sent < self.settings.followers_interval:
            return
        self._followers_dirty = False
        self._followers_sent = time.monotonic()
        message = self.presence.followers_message()
        if message is not None:
            try:
                self.hooks.broadcast(self.name, message, None)
            except Exception:
                log.exception("room %s: sending the follower count failed", self.name)

    def _reload_replica(self) -> None:
        """Replace the replica with the store's text: an update that can never integrate (its
        structs wait for something that does not exist) is dropped from memory. The store never
        had it: a transaction that integrates nothing logs nothing."""
        self._reload = False
        try:
            loaded = self.store.load(self.name)
        except Exception:
            log.exception("room %s: could not reload from the store; the pending update stays in memory", self.name)
            return
        if self._doc is not None and self._subscription is not None:
            self._doc.unobserve(self._subscription)
        try:
            self.hooks.on_close(self.name)
        except Exception:
            log.exception("room %s: on_close hook failed", self.name)
        self._doc = loaded.doc
        self._last_update_id = loaded.last_update_id
        self._log_length = loaded.log_length
        self._full_state = None
        self._deleted = None
        self._shadow = None
        self.generation = next(_GENERATIONS)
        self._subscription = self._doc.observe(self._on_transaction)
        self.hooks.on_load(self.name, self._doc)
        log.info("room %s: replica reloaded from the store (an unintegrable update was dropped)", self.name)

    def _handle(self, doc: Doc, item: tuple[Any, ...], batch: _Batch) -> None:
        kind = item[0]
        if kind == "message":
            _, connection, message = item
            if connection not in self._connections:
                return  # left (or never joined) before its message came up
            if isinstance(message, SyncMessage):
                self._handle_sync(doc, connection, message, batch)
            else:
                self._handle_awareness(connection, message, batch)
        elif kind == "join":
            _, connection, can_write, identity, suggest_only, author, send_state = item
            if can_write and connection in self._tainted:
                can_write = False
                self._refuse(batch, connection, "resync-required",
                             "this connection sent changes while it could not write, and they were refused: "
                             "reload to edit from the server's text")
            self._connections[connection] = can_write
            if can_write and suggest_only:
                self._suggesters[connection] = author
            else:
                self._suggesters.pop(connection, None)
                if not self._suggesters:
                    self._shadow = None
            if self.presence.admit(connection, identity):
                self._followers_dirty = True
            step1 = protocol.sync_step1(doc.get_state())
            batch.outbox.append(lambda: self.hooks.send(self.name, connection, step1))
            if send_state:
                self._handle_sync(doc, connection, SyncMessage(SyncStep.STEP1, protocol.EMPTY_STATE_VECTOR), batch)
            present = self.presence.snapshot()
            if present:
                batch.outbox.append(lambda: self.hooks.send(self.name, connection, present))
        elif kind == "leave":
            _, connection = item
            self._connections.pop(connection, None)
            self._budgets.pop(connection, None)
            self._tainted.discard(connection)
            self._suggesters.pop(connection, None)
            if not self._suggesters:
                self._shadow = None
            if self.presence.is_follower(connection):
                self._followers_dirty = True
            gone = self.presence.drop(connection)
            if gone:
                batch.outbox.append(lambda: self.hooks.broadcast(self.name, gone, None))
        elif kind == "remote":
            _, what, items = item
            if what == UPDATES:
                self._apply_remote(doc, items)
            elif what == AWARENESS:
                for payload in items:
                    def relay(payload: bytes = payload) -> None:  # bound now: the loop moves on
                        self.hooks.broadcast(self.name, payload, None)
                    batch.outbox.append(relay)
        elif kind == "heal":
            self._heal(doc)
        elif kind == "call":
            _, fn, future, origin = item
            self._origin = origin
            try:
                result = fn(doc)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                error = exc  # `exc` is unbound when the except clause ends
                batch.outbox.append(lambda: future.set_exception(error))
            else:
                batch.outbox.append(lambda: future.set_result(result))
            finally:
                self._origin = None

    def _handle_sync(self, doc: Doc, connection: str, message: SyncMessage, batch: _Batch) -> None:
        if message.step == SyncStep.STEP1:
            if message.data == protocol.EMPTY_STATE_VECTOR:  # a new follower: the whole document, cached
                if self._full_state is None:
                    self._full_state = protocol.sync_step2(doc.get_update())
                reply = self._full_state
            else:
                try:
                    reply = protocol.sync_step2(doc.get_update(message.data))
                except ValueError as exc:
                    self._refuse(batch, connection, "malformed", f"bad state vector: {exc}")
                    return
            if not self._spend(connection, len(reply)):
                self._refuse(batch, connection, "rate-limited",
                             "too many requests for the document's state; wait before asking again")
                return
            batch.outbox.append(lambda: self.hooks.send(self.name, connection, reply))
            return
        if message.data == protocol.EMPTY_UPDATE:
            return
        if not self._connections.get(connection, False):
            if connection in self._connections and self._adds_nothing(message.data, doc):
                return  # a reader's step 2 with nothing we lack (Yjs always adds its delete set): not a write
            if connection in self._connections:
                # Never again a writer on this connection, and never these Yjs clients' updates:
                # whatever later happens to its rights, the refused edit does not land.
                self._tainted.add(connection)
                try:
                    self.refused_clients.update(client for _s, client, _c in _new_blocks(message.data, doc.get_state()))
                except ValueError:
                    pass
            self._refuse(batch, connection, "read-only", "you may read this document but not change it")
            return
        before = doc.get_state()
        try:
            blocks = _new_blocks(message.data, before)
        except ValueError as exc:
            self._refuse(batch, connection, "malformed-update", f"update refused: {exc}")
            return
        if any(client in self.refused_clients for _s, client, _c in blocks):
            self._refuse(batch, connection, "resync-required",
                         "changes from this client were refused earlier; reload to edit from the server's text")
            return
        have = decode_state_vector(before) if blocks else {}
        if any(clock > have.get(client, 0) for _s, client, clock in blocks):
            # An earlier update of this client never arrived (refused for rate, lost): do not keep
            # this one pending; ask the client for everything we lack instead.
            step1 = protocol.sync_step1(doc.get_state())
            batch.outbox.append(lambda: self.hooks.send(self.name, connection, step1))
            return
        if connection in self._suggesters and not self._only_suggests(doc, message.data, self._suggesters[connection]):
            # Whatever it sent later builds on this: refused for good, as a reader's write.
            self.refused_clients.update(client for _s, client, _c in blocks)
            self._refuse(batch, connection, "suggest-only",
                         "you may only suggest changes in this stage: the accepted text was not changed; "
                         "reload to continue from the server's text")
            return
        self._origin = connection
        try:
            # The transaction's origin names the connection, so that observers can attribute it.
            with doc.transaction(origin=connection):
                doc.apply_update(message.data)
        except ValueError as exc:
            self._refuse(batch, connection, "malformed-update", f"update refused: {exc}")
            return
        finally:
            self._origin = None
        if blocks:
            after_bytes = doc.get_state()
            after = {} if after_bytes == before else decode_state_vector(after_bytes)
            stuck = [(client, clock) for _s, client, clock in blocks if after.get(client, have.get(client, 0)) <= clock]
            if stuck:
                # Its structs refer to something that does not exist (e.g. an offset inside a
                # multi-byte character): Yjs would keep them pending forever, silently. Say so, and
                # drop them (the replica reloads from the store, which never had them).
                log.warning("document %s: an update from connection %s cannot integrate (client %d, clock %d); "
                            "dropped", self.name, connection, *stuck[0])
                self._refuse(batch, connection, "unintegrable",
                             "your last change refers to text the document does not have and was not saved; "
                             "reload to continue from the server's text")
                self._reload = True

    def _only_suggests(self, doc: Doc, update: bytes, author: str | None) -> bool:
        """Whether `update` leaves the accepted text and meta as they are (it adds, changes or
        removes suggestions only). Tried on a shadow copy of the document, caught up first
        (crdt.suggestcheck)."""
        shadow = self._shadow
        try:
            if shadow is None:
                shadow = Doc()
                shadow.apply_update(doc.get_update())
            else:
                shadow.apply_update(doc.get_update(shadow.get_state()))
            if only_suggests(doc, shadow, update, author):
                self._shadow = shadow
                return True
        except ValueError:
            pass
        self._shadow = None  # it holds the refused update: made again from the document next time
        return False

    def _adds_nothing(self, update: bytes, doc: Doc) -> bool:
        """True if applying `update` would change nothing: no structs the document lacks, and no
        deletion it has not made."""
        try:
            known = get_update(update, doc.get_state())  # what the document lacks, plus the delete set
        except ValueError:
            return False
        deleted = protocol.delete_set_of(known)
        if deleted is None:
            return False
        if self._deleted is None:
            self._deleted = protocol.delete_set_of(doc.get_update(doc.get_state())) or {}
        return protocol.covers(self._deleted, deleted)

    def _spend(self, connection: str, size: int) -> bool:
        """Take `size` bytes from the connection's sync budget; False if it has not enough."""
        rate = self.settings.sync_bytes_per_second
        if not rate:
            return True
        capacity = max(float(self.settings.sync_burst_bytes), 2.0 * len(self._full_state or b""), float(size))
        now = time.monotonic()
        bucket = self._budgets.get(connection)
        if bucket is None:
            bucket = self._budgets[connection] = [capacity, now]
        bucket[0] = min(capacity, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if bucket[0] < size:
            return False
        bucket[0] -= size
        return True

    def _handle_awareness(self, connection: str, message: AwarenessMessage, batch: _Batch) -> None:
        try:
            relay = self.presence.apply(connection, message.data)
        except ProtocolError as exc:
            self._refuse(batch, connection, exc.code, exc.message)
            return
        if relay:
            batch.outbox.append(lambda: self.hooks.broadcast(self.name, relay, connection))
            if self.fanout is not None:
                batch.outbox.append(lambda: self._publish(AWARENESS, [relay]))

    def _refuse(self, batch: _Batch, connection: str, code: str, message: str) -> None:
        batch.outbox.append(lambda: self.hooks.report(self.name, connection, code, message))

    def _apply_remote(self, doc: Doc, updates: list[bytes]) -> None:
        """Apply updates another process has stored and published: relayed to this process's
        connections, not stored again."""
        self._remote = True
        try:
            for update in updates:
                with doc.transaction(origin=REMOTE):
                    doc.apply_update(update)
        except ValueError:
            log.exception("room %s: an update from another process could not be applied; healing", self.name)
            self._needs_heal = True
        finally:
            self._remote = False

    def _healing_due(self) -> bool:
        interval = self.settings.heal_interval
        return self.fanout is not None and bool(interval) and time.monotonic() - self._last_heal >= interval

    def _heal(self, doc: Doc) -> None:
        """Apply whatever the store holds that the replica lacks (a state-vector diff)."""
        self._needs_heal = False
        self._last_heal = time.monotonic()
        try:
            stored = self.store.load(self.name).doc
        except Exception:
            log.exception("room %s: could not read the store to heal; will retry", self.name)
            self._needs_heal = True
            return
        # The diff carries the store's whole delete set too (deletions do not show in state vectors).
        missing = stored.get_update(doc.get_state())
        if missing != protocol.EMPTY_UPDATE:
            self._apply_remote(doc, [missing])

    def _publish(self, kind: bytes, items: list[bytes]) -> None:
        if self.fanout is None:
            return
        self._published += 1  # numbered even when it fails: the others see the gap and heal
        self.fanout.publish(self.name, self._publisher, self._published, kind, items)

    def _on_transaction(self, event: Any) -> None:
        update = event.update
        batch = self._batch
        if update != protocol.EMPTY_UPDATE:
            self._full_state = None
            self._deleted = None
            self.generation = next(_GENERATIONS)
        if batch is None or update == protocol.EMPTY_UPDATE:
            return
        if self._remote:  # another process's update: already stored; only relay it here
            message = protocol.sync_update(update)
            batch.outbox.append(lambda: self.hooks.broadcast(self.name, message, None))
            return
        batch.updates.append(update)
        # Who made it: the connection whose message is being applied, or the `origin` of a call.
        # (A document observer's event cannot tell: pycrdt has forgotten the transaction's origin
        # by the time it runs.)
        origin = self._origin
        batch.origins.append(origin)
        message = protocol.sync_update(update)
        batch.outbox.append(lambda: self.hooks.broadcast(self.name, message, origin))

    def _persist(self, updates: list[bytes], origins: list[str | None]) -> bool:
        try:
            rows = self.hooks.in_transaction(self.name, list(zip(origins, updates, strict=True)))
        except Exception:
            log.exception("room %s: preparing the batch's rows failed", self.name)
            rows = None
        guard, also = rows if rows is not None else (None, None)
        for delay in (0.0, *self.settings.store_retries):
            if delay:
                time.sleep(delay)
            try:
                self._last_update_id = self.store.append(self.name, updates, also=also, guard=guard)
                self._log_length += len(updates)
                return True
            except Exception:
                log.exception("room %s: storing %d updates failed", self.name, len(updates))
        # Nothing of this batch was sent anywhere; drop the replica so it reloads from the store.
        self._fail("store-unavailable", "your last changes could not be saved; reconnect to resend them")
        return False

    def _compact(self) -> None:
        if self._log_length == 0 or self._doc is None:
            return
        try:
            self.store.compact(self.name)
            self._log_length = 0
        except Exception:
            log.exception("room %s: compaction failed (the log still holds everything)", self.name)

    def _resync(self) -> None:
        """Ask every writer for what it has that the room lacks (a step 1). Readers are not asked:
        they have nothing to give, and an audience of them would all answer at once."""
        self._last_resync = time.monotonic()
        writers = [connection for connection, can_write in self._connections.items() if can_write]
        if writers and self._doc is not None:
            step1 = protocol.sync_step1(self._doc.get_state())
            for connection in writers:
                self.hooks.send(self.name, connection, step1)

    def _fail(self, code: str, message: str) -> None:
        self.closed.set()
        for connection in list(self._connections):
            self.hooks.report(self.name, connection, code, message)
        self._connections.clear()
        self._fail_pending()

    def _fail_pending(self) -> None:
        # A batch that failed half-way never delivered its calls' results: they must not wait forever.
        in_flight, self._in_flight = self._in_flight, []
        for item in in_flight:
            if item[0] == "call" and not item[2].done():
                item[2].set_exception(RoomClosed(f"document {self.name} closed"))
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item[0] == "call":
                item[2].set_exception(RoomClosed(f"document {self.name} closed"))
