"""Domain events: the one owner of "something changed".

A feature that changes something publishes a typed event (`TextChanged`, `StageChanged`,
`CommentsChanged`…) on the application's `EventBus`, after its change is durable. Features that
react subscribe to the event's type in their `handlers` module; nothing is patched onto objects
and no feature calls another's reaction directly.

How a subscription runs:

* **Off the publisher's path.** Each subscription has a bounded queue and a thread of its own
  (started with its first event), so a slow subscriber (a database write, a review notification)
  delays neither the room worker that published nor the other subscribers. A full queue blocks
  the publisher for up to `put_timeout` (back-pressure); past that the event is dropped *for that
  subscriber only*, with an error in the log. The change itself is already durable: only a
  reaction is lost, and it is counted in `stats()`. Events from other processes are never waited
  for (the reader thread also carries the documents' updates): a full queue drops them at once.
* **Retried.** A handler that raises is logged and called again after each of `retries` pauses;
  after the last it is logged as given up and the next event is handled.
* **Coalesced, when asked.** A subscription with `merge_within=s` merges events as they arrive,
  per event type and document (`Event.merge`), and handles them s seconds after the first: a
  document typed into at 20 updates a second costs one write, not twenty, and its backlog is one
  event per document however slow it is (the room workers that publish text changes never wait).
* **Inline, when asked.** `inline=True` runs the handler in the publisher's thread before
  `publish` returns, with the publisher's application context and database session: for
  reactions that must have happened when the request answers (a stage change takes away the
  right to write before the response says it has). No retry: a failure is logged and raised to
  the publisher, which decides.
* **Everywhere, when asked.** `everywhere=True` subscriptions also receive the events published
  in the other server processes, through the Redis control stream (`crdt.fanout`): live panels
  and rights must reach every process's connections. Other subscriptions run once, in the
  process that published (they write rows).

Handlers run inside an application context (see `EventBus(context=…)`), and the scoped database
session is removed after each call.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E", bound="Event")


# --- the events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """Something that changed, after it is durable. `document` is the slug ("" if none)."""

    document: str = ""
    #: The event's name on the wire (the control stream between processes).
    name: ClassVar[str] = "event"

    def merge(self: E, later: E) -> E:
        """This event and a later one of the same type and document as one (coalescing). By
        default the later one stands for both."""
        return later

    def to_wire(self) -> dict[str, Any]:
        return {"event": self.name, "data": _plain(dataclasses.asdict(self))}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The event from its wire form's data (lists back to tuples)."""
        fields: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
        return cls(**fields)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset, tuple, list)):
        return sorted(_plain(v) for v in value) if isinstance(value, (set, frozenset)) else [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class TextChanged(Event):
    """Live edits of the document are durable: `edits` maps an account id (None: not signed in
    or unknown) to the GUIDs of the units it changed. Published by the room hooks after each batch."""

    edits: Mapping[int | None, frozenset[str]] = field(default_factory=dict)
    name: ClassVar[str] = "text-changed"

    def merge(self, later: TextChanged) -> TextChanged:
        edits = {account: set(guids) for account, guids in self.edits.items()}
        for account, guids in later.edits.items():
            edits.setdefault(account, set()).update(guids)
        return TextChanged(self.document, {a: frozenset(g) for a, g in edits.items()})

    @property
    def units(self) -> frozenset[str]:
        return frozenset().union(*self.edits.values()) if self.edits else frozenset()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TextChanged:
        edits = data.get("edits") or {}
        return cls(str(data.get("document", "")), {
            None if account == "None" else int(account): frozenset(str(g) for g in guids)
            for account, guids in edits.items()})


@dataclass(frozen=True)
class StageChanged(Event):
    """The document entered stage `stage` (its key)."""

    stage: str = ""
    name: ClassVar[str] = "stage-changed"


@dataclass(frozen=True)
class VersionSaved(Event):
    """A version of the text was saved on its own (by hand), numbered `number`. A version saved by
    a stage transition comes with that StageChanged instead."""

    number: int = 0
    name: ClassVar[str] = "version-saved"


@dataclass(frozen=True)
class AccountChanged(Event):
    """An administrator changed an account: its role, a document role, deactivated it, or signed
    it out everywhere. Not tied to a document."""

    account: int = 0
    name: ClassVar[str] = "account-changed"


@dataclass(frozen=True)
class CommentsChanged(Event):
    """Comments on these units were added, answered, resolved or removed."""

    units: tuple[str, ...] = ()
    name: ClassVar[str] = "comments-changed"


@dataclass(frozen=True)
class PublicCommentsChanged(Event):
    """The public's comments on these units were added, supported, reported or moderated
    (editor.participation). `published` is False when the change shows only to moderators (a
    comment waiting for approval, a report)."""

    units: tuple[str, ...] = ()
    published: bool = True
    name: ClassVar[str] = "public-comments-changed"


@dataclass(frozen=True)
class LinksChanged(Event):
    """The provenance links (petitions, survey themes, events) of these units changed."""

    units: tuple[str, ...] = ()
    name: ClassVar[str] = "links-changed"


@dataclass(frozen=True)
class AmendmentChanged(Event):
    """Amendment `number` moved to `state` (tabled, withdrawn, debate, adopted, rejected…)."""

    number: int = 0
    state: str = ""
    name: ClassVar[str] = "amendment-changed"


@dataclass(frozen=True)
class AmendmentAdopted(Event):
    """Amendment `number` was adopted and its change is in the live text: `units` are the GUIDs
    it changed. Published after `AmendmentChanged`'s commit."""

    number: int = 0
    units: tuple[str, ...] = ()
    name: ClassVar[str] = "amendment-adopted"


@dataclass(frozen=True)
class SuggestionNotesChanged(Event):
    """A note was written on these pending suggestions (their ids; editor.suggestions.notes)."""

    suggestions: tuple[str, ...] = ()
    name: ClassVar[str] = "suggestion-notes-changed"


EVENTS: dict[str, type[Event]] = {kind.name: kind for kind in (
    TextChanged, StageChanged, VersionSaved, AccountChanged, CommentsChanged, PublicCommentsChanged, LinksChanged,
    AmendmentChanged, AmendmentAdopted, SuggestionNotesChanged)}


def from_wire(message: Mapping[str, Any]) -> Event | None:
    """The event a control-stream message carries, or None if it is not one this process knows."""
    kind = EVENTS.get(str(message.get("event")))
    data = message.get("data")
    if kind is None or not isinstance(data, Mapping):
        return None
    names = {f.name for f in dataclasses.fields(kind)}
    if not set(data) <= names:
        return None
    try:
        return kind.from_data(data)
    except (TypeError, ValueError, AttributeError):
        return None


# --- the bus --------------------------------------------------------------------------------------


@dataclass
class Subscription:
    kind: type[Event]
    handler: Callable[[Any], None]
    label: str
    everywhere: bool = False
    inline: bool = False
    merge_within: float = 0.0
    retries: tuple[float, ...] = (0.1, 0.5, 2.0)
    limit: int = 10_000
    queue: queue.Queue = field(init=False)
    #: Merging subscriptions queue (type, document) keys; the merged event waits here.
    pending: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None
    delivered: int = 0
    failed: int = 0  # calls that raised (each retry counts)
    given_up: int = 0  # events whose every retry failed
    dropped: int = 0  # events lost to a full queue

    def __post_init__(self) -> None:
        self.queue = queue.Queue(self.limit)


_STOP: Any = object()


class EventBus:
    """Typed events to subscribed handlers: see the module's docstring."""

    def __init__(self, context: Callable[[], AbstractContextManager[Any]] | None = None,
                 cleanup: Callable[[], None] | None = None, put_timeout: float = 5.0) -> None:
        self._context = context or nullcontext
        self._cleanup = cleanup or (lambda: None)
        self.put_timeout = put_timeout
        self._subscriptions: list[Subscription] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        #: Sends an event's wire form to the other processes (crdt.fanout's control stream), or None.
        self.relay: Callable[[dict[str, Any]], object] | None = None

    def subscribe(self, kind: type[E], handler: Callable[[E], None], *, label: str = "", everywhere: bool = False,
                  inline: bool = False, merge_within: float = 0.0,
                  retries: Iterable[float] = (0.1, 0.5, 2.0), limit: int = 10_000) -> Subscription:
        if not (isinstance(kind, type) and issubclass(kind, Event)):
            raise TypeError(f"{kind!r} is not an event type")
        if inline and merge_within:
            raise ValueError("an inline subscription cannot wait to merge events")
        subscription = Subscription(kind, handler, label or getattr(handler, "__qualname__", repr(handler)),
                                    everywhere, inline, merge_within, () if inline else tuple(retries), limit)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._subscriptions)

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscription of its type (and, for those that want it, to the other
        processes). Call it after the change is committed."""
        if not isinstance(event, Event):
            raise TypeError(f"{event!r} is not an event")
        subscribers = [s for s in self.subscriptions() if isinstance(event, s.kind)]
        if self.relay is not None and any(s.everywhere for s in subscribers):
            try:
                self.relay(event.to_wire())
            except Exception:  # noqa: BLE001 - the other processes miss a panel update; logged
                log.exception("events: %s of %r could not be sent to the other processes", event.name, event.document)
        for subscription in subscribers:
            if subscription.inline:
                self._call_inline(subscription, event)
            else:
                self._enqueue(subscription, event, self.put_timeout)

    def receive(self, message: Mapping[str, Any]) -> bool:
        """An event published by another process (from the control stream): its `everywhere`
        subscriptions handle it here too. Returns False for a message that is not an event."""
        event = from_wire(message)
        if event is None:
            return False
        for subscription in self.subscriptions():
            if subscription.everywhere and isinstance(event, subscription.kind):
                # Never held back: the reader thread also carries every document's updates.
                self._enqueue(subscription, event, 0)
        return True

    def _enqueue(self, subscription: Subscription, event: Event, timeout: float) -> None:
        if self._closed:
            return
        self._start(subscription)
        item: Any = event
        if subscription.merge_within:
            # Merged as it arrives: the backlog is one event per (type, document), never more.
            key = (type(event), event.document)
            with subscription.lock:
                if key in subscription.pending:
                    subscription.pending[key] = subscription.pending[key].merge(event)
                    return
                subscription.pending[key] = event
            item = key
        try:
            if timeout:
                subscription.queue.put(item, timeout=timeout)
            else:
                subscription.queue.put_nowait(item)
        except queue.Full:
            if subscription.merge_within:
                with subscription.lock:
                    subscription.pending.pop(item, None)
            subscription.dropped += 1
            log.error("events: %s is %d events behind; %s of %r dropped for it", subscription.label,
                      subscription.queue.qsize(), event.name, event.document)

    def _start(self, subscription: Subscription) -> None:
        """The subscription's thread, started with its first event."""
        if subscription.thread is not None:
            return
        with self._lock:
            if subscription.thread is None:
                subscription.thread = threading.Thread(target=self._work, args=(subscription,), daemon=True,
                                                       name=f"events:{subscription.label}"[:60])
                self._threads.append(subscription.thread)
                subscription.thread.start()

    def _work(self, subscription: Subscription) -> None:
        while True:
            taken = [subscription.queue.get()]
            if subscription.merge_within and taken[0] is not _STOP:
                # Let a busy document's next events merge into the pending one (see _enqueue),
                # then take every key that arrived meanwhile: one pause for all of them.
                time.sleep(subscription.merge_within)
                while True:
                    try:
                        taken.append(subscription.queue.get_nowait())
                    except queue.Empty:
                        break
            try:
                for item in taken:
                    if item is _STOP:
                        return
                    if subscription.merge_within:  # the item is a (type, document) key
                        with subscription.lock:
                            item = subscription.pending.pop(item)
                    self._call(subscription, item)
            finally:
                for _ in taken:
                    subscription.queue.task_done()

    @staticmethod
    def _call_inline(subscription: Subscription, event: Event) -> None:
        """In the publisher's thread, sharing its application context and database session (a
        request's): no retry, and a failure is the publisher's, raised to it."""
        try:
            subscription.handler(event)
        except Exception:
            subscription.failed += 1
            log.exception("events: %s failed on %s of %r (inline)", subscription.label, event.name, event.document)
            raise
        subscription.delivered += 1

    def _call(self, subscription: Subscription, event: Event) -> bool:
        """Call the handler on the subscription's thread, in an application context and with a
        database session of its own, retrying as the subscription says."""
        pauses = iter(subscription.retries)
        while True:
            try:
                with self._context():
                    try:
                        subscription.handler(event)
                    finally:
                        self._cleanup()
            except Exception:  # noqa: BLE001 - a failing reaction is logged and retried, never raised
                subscription.failed += 1
                pause = next(pauses, None)
                if pause is None or self._closed:
                    subscription.given_up += 1
                    log.exception("events: %s failed on %s of %r; given up after %d tries", subscription.label,
                                  event.name, event.document, len(subscription.retries) + 1)
                    return False
                log.exception("events: %s failed on %s of %r; trying again in %.1f s", subscription.label,
                              event.name, event.document, pause)
                time.sleep(pause)
                continue
            subscription.delivered += 1
            return True

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event has been handled (tests, shutdown). True if they were."""
        deadline = time.monotonic() + timeout
        for subscription in self.subscriptions():
            while subscription.queue.unfinished_tasks and time.monotonic() < deadline:
                time.sleep(0.01)
        return all(not s.queue.unfinished_tasks for s in self.subscriptions())

    def close(self, timeout: float = 5.0) -> None:
        self._closed = True
        for subscription in self.subscriptions():
            if subscription.thread is None:
                continue
            try:
                subscription.queue.put_nowait(_STOP)
            except queue.Full:
                pass
        for thread in list(self._threads):
            thread.join(timeout)

    def stats(self) -> dict[str, dict[str, int]]:
        return {s.label: {"queued": s.queue.qsize(), "delivered": s.delivered, "failed": s.failed,
                          "given_up": s.given_up, "dropped": s.dropped} for s in self.subscriptions()}
