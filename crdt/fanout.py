"""Cross-process fan-out of live documents over Redis Streams.

With several server processes, each process that has a document open holds its own replica of
it. A room appends every batch of updates to the shared store first and only then publishes it
on the document's Redis Stream (`<prefix>:doc:<name>`); every other process holding the
document reads the stream, applies the updates to its replica (without storing them again) and
relays them to its own connections. Awareness (cursors) travels the same way, unstored.

Nothing depends on Redis for durability: the store holds everything. Redis only makes the other
replicas learn sooner. Whenever a process may have missed entries it heals the replica against
the store (state-vector diff), which is always complete:

* the reader lost its connection (network blip, Redis restarted and lost its streams): every
  watched document heals once the reader is back;
* a gap in a publisher's sequence numbers (each room numbers what it publishes, including what
  it failed to publish while Redis was away; a trimmed stream shows up the same way);
* a document is opened: its stream cursor is taken *before* the store is read, so an entry is
  either in what was loaded or after the cursor (usually both: applying twice is harmless).

A control stream (`<prefix>:control`) carries small JSON messages between processes (for the
application: its domain events that every process must see) in the same reader thread.
"""

from __future__ import annotations

import json
import logging
import struct
import threading
import uuid
from typing import TYPE_CHECKING, Callable, cast

import redis

if TYPE_CHECKING:
    from redis.typing import EncodableT, FieldT, KeyT, StreamIdT, StreamRangeResponse

log = logging.getLogger(__name__)

#: Transaction origin of updates that came from another process (never stored again here).
REMOTE = "remote:"

UPDATES = b"u"
AWARENESS = b"a"


def pack(items: list[bytes]) -> bytes:
    return b"".join(struct.pack(">I", len(item)) + item for item in items)


def unpack(blob: bytes) -> list[bytes]:
    items, at = [], 0
    while at < len(blob):
        (size,) = struct.unpack_from(">I", blob, at)
        at += 4
        items.append(blob[at:at + size])
        at += size
    return items


# The clients do not decode responses, so stream ids and fields come back as bytes, and replies
# have RESP2's shapes. redis-py's annotations cannot say so (a client is not generic over
# `decode_responses` or the protocol): these casts are where that is stated, once.
_Fields = dict[bytes, bytes]
_Entries = list[tuple[bytes, _Fields]]


def _latest_id(entries: StreamRangeResponse | None) -> str:
    """The id of the first entry of an XREVRANGE reply (`count=1`: the latest), "0-0" if none."""
    return cast(_Entries, entries)[0][0].decode() if entries else "0-0"


class RedisFanout:
    """One per process: publishes this process's durable updates, reads everyone else's."""

    def __init__(
        self,
        url: str,
        prefix: str = "constituent",
        *,
        maxlen: int = 10_000,
        block_ms: int = 1_000,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.maxlen = maxlen
        self.block_ms = block_ms
        self.process = uuid.uuid4().hex[:16]
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2,
                                           health_check_interval=10)
        # The reader blocks on XREAD: its own connection, with a timeout longer than the block.
        self._reader_redis = redis.Redis.from_url(url, socket_timeout=block_ms / 1000 + 5,
                                                  socket_connect_timeout=2)
        self._wake = f"{prefix}:wake:{self.process}"
        self._control = f"{prefix}:control"
        self._lock = threading.Lock()
        self._cursors: dict[str, str] = {}  # document -> last stream id read ("" = take the latest)
        self._seen: dict[tuple[str, str], int] = {}  # (document, publisher) -> last sequence number
        self._control_cursor: str | None = None
        self._wake_cursor = "0-0"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.deliver: Callable[[str, bytes, list[bytes]], None] = lambda name, kind, items: None
        self.heal: Callable[[str], None] = lambda name: None
        self.on_control: Callable[[dict], None] = lambda message: None
        self.connected = threading.Event()
        self.heals = 0  # how many times documents were healed against the store (for tests, benches)
        self._publish_failures = 0

    def key(self, document: str) -> str:
        return f"{self.prefix}:doc:{document}"

    # --- rooms call these ---------------------------------------------------------------------

    def cursor(self, document: str) -> str:
        """The stream position to read `document` from, taken before the store is read ("" when
        Redis cannot say: the reader heals the document once it can)."""
        try:
            last = self._redis.xrevrange(self.key(document), count=1)
        except redis.RedisError:
            return ""
        return _latest_id(last)

    def watch(self, document: str, cursor: str) -> None:
        with self._lock:
            self._cursors[document] = cursor
            self._forget_sequences(document)
        self._start()
        self._poke()

    def unwatch(self, document: str) -> None:
        with self._lock:
            self._cursors.pop(document, None)
            self._forget_sequences(document)

    def _forget_sequences(self, document: str) -> None:
        """(Under the lock.) Start counting the document's publishers afresh: a new cursor."""
        for seen in [k for k in self._seen if k[0] == document]:
            del self._seen[seen]

    def publish(self, document: str, publisher: str, seq: int, kind: bytes, items: list[bytes]) -> bool:
        """Add one entry to the document's stream; False (logged) when Redis is unavailable.

        `seq` counts every publication of this publisher, failed ones included: a reader that
        sees a gap heals against the store."""
        fields: dict[FieldT, EncodableT] = {"p": self.process, "k": publisher, "s": seq, "t": kind,
                                            "d": pack(items)}
        try:
            self._redis.xadd(self.key(document), fields, maxlen=self.maxlen, approximate=True)
        except redis.RedisError as exc:
            self._publish_failures += 1
            if self._publish_failures == 1 or self._publish_failures % 1000 == 0:
                log.warning("fan-out: could not publish to %s (%s); other processes will heal from the store",
                            document, exc)
            return False
        if self._publish_failures:
            log.info("fan-out: publishing again after %d failures", self._publish_failures)
            self._publish_failures = 0
        return True

    def control(self, message: dict) -> bool:
        """Send a control message to every other process."""
        try:
            self._redis.xadd(self._control, {"p": self.process, "m": json.dumps(message)}, maxlen=1000,
                             approximate=True)
        except redis.RedisError as exc:
            log.warning("fan-out: control message %s not sent: %s", message.get("event") or message.get("kind"), exc)
            return False
        return True

    def close(self) -> None:
        self._stop.set()
        self._poke()
        if self._thread is not None:
            self._thread.join(5)
        for client in (self._redis, self._reader_redis):
            try:
                client.close()
            except redis.RedisError:
                pass

    # --- the reader -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start reading now (control messages flow even before any document is opened)."""
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="redis-fanout", daemon=True)
                self._thread.start()

    def _poke(self) -> None:
        try:
            self._redis.xadd(self._wake, {"w": 1}, maxlen=10, approximate=True)
        except redis.RedisError:
            pass  # the reader is reconnecting anyway

    def _run(self) -> None:
        backoff = 0.1
        healthy, failed = False, False
        while not self._stop.is_set():
            try:
                if not healthy:
                    self._reconnected(after_failure=failed)
                    healthy, failed = True, False
                    backoff = 0.1
                self._read_once()
            except redis.RedisError as exc:
                if healthy:
                    log.warning("fan-out: lost Redis (%s); reconnecting", exc)
                elif not failed:  # never reached it since this process started
                    log.warning("fan-out: cannot reach Redis at %s (%s); serving this process's "
                                "clients alone and retrying", redis.connection.parse_url(self.url).get("host", "?"), exc)
                healthy, failed = False, True
                self.connected.clear()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:  # a bug in a callback must not stop the fan-out
                log.exception("fan-out: reader failed; continuing")
                self._stop.wait(0.5)

    def _reconnected(self, after_failure: bool) -> None:
        """Connected. The first time, documents are read from the cursors taken when they were
        opened. After a failure, every stream is read from its latest entry and every watched
        document heals against the store, which holds anything published while we were not
        reading (Redis may even have restarted and lost the streams)."""
        self._reader_redis.ping()
        wake = self._reader_redis.xrevrange(self._wake, count=1)
        control = self._reader_redis.xrevrange(self._control, count=1)
        with self._lock:
            self._wake_cursor = _latest_id(wake)
            self._control_cursor = _latest_id(control)
            documents = list(self._cursors) if after_failure else []
        for document in documents:
            last = self._reader_redis.xrevrange(self.key(document), count=1)
            with self._lock:
                if document in self._cursors:
                    self._cursors[document] = _latest_id(last)
                    self._forget_sequences(document)
        self.connected.set()
        if after_failure:
            log.info("fan-out: Redis is back; healing %d open documents from the store", len(documents))
        for document in documents:
            self._heal(document)

    def _heal(self, document: str) -> None:
        self.heals += 1
        try:
            self.heal(document)
        except Exception:
            log.exception("fan-out: healing %s failed", document)

    def _read_once(self) -> None:
        with self._lock:
            pending = [d for d, c in self._cursors.items() if not c]
        for document in pending:  # opened while Redis was away: start from the latest, heal
            last = self._reader_redis.xrevrange(self.key(document), count=1)
            with self._lock:
                if document in self._cursors and not self._cursors[document]:
                    self._cursors[document] = _latest_id(last)
            self._heal(document)
        with self._lock:
            assert self._control_cursor is not None  # _run connects (_reconnected) before reading
            streams: dict[KeyT, StreamIdT] = {self.key(d): c for d, c in self._cursors.items()}
            streams[self._wake] = self._wake_cursor
            streams[self._control] = self._control_cursor
        replies = cast("list[tuple[bytes, _Entries]] | None",
                       self._reader_redis.xread(streams, count=1000, block=self.block_ms))
        for key, entries in replies or ():
            stream = key.decode()
            if stream == self._wake:
                self._wake_cursor = entries[-1][0].decode()
                continue
            if stream == self._control:
                self._control_cursor = entries[-1][0].decode()
                for _id, fields in entries:
                    self._control_entry(fields)
                continue
            document = stream[len(self.prefix) + len(":doc:"):]
            with self._lock:
                if document not in self._cursors:
                    continue
                self._cursors[document] = entries[-1][0].decode()
            for _id, fields in entries:
                self._entry(document, fields)

    def _control_entry(self, fields: _Fields) -> None:
        if fields.get(b"p", b"").decode() == self.process:
            return
        try:
            message = json.loads(fields[b"m"])
        except (KeyError, ValueError):
            log.warning("fan-out: unreadable control message")
            return
        self.on_control(message)

    def _entry(self, document: str, fields: _Fields) -> None:
        try:
            process = fields[b"p"].decode()
            publisher = fields[b"k"].decode()
            seq = int(fields[b"s"])
            kind = fields[b"t"]
            items = unpack(fields[b"d"])
        except (KeyError, ValueError, struct.error):
            log.warning("fan-out: unreadable entry on %s; healing from the store", document)
            self._heal(document)
            return
        if process == self.process:
            return  # our own
        with self._lock:
            last = self._seen.get((document, publisher))
            self._seen[(document, publisher)] = seq
        self.deliver(document, kind, items)
        if last is not None and seq != last + 1:  # a gap
            log.info("fan-out: %s missed %d entries from %s; healing from the store", document, seq - last - 1,
                     publisher)
            self._heal(document)

