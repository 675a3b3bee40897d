"""Domain events (editor.events): one bus owns "something changed".

The bus on its own (typed events, retries, merging, back-pressure, the wire form between
processes), then inside the application: a failing subscriber never stops the room or loses the
change, and the features' reactions all hang off the bus. Events crossing processes are tested
against two real servers in test_scaleout.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from conftest import PUBLISHED
from test_stages import text_node_in

from editor.events import (
    AccountChanged,
    AmendmentAdopted,
    CommentsChanged,
    EventBus,
    LinksChanged,
    StageChanged,
    TextChanged,
    from_wire,
)

WATER = "00000000-0000-4000-8000-000000000003"  # subparagraph "Toda persona tiene derecho al agua."


def _wait(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def bus():
    made = EventBus(put_timeout=0.2)
    yield made
    made.close()


def test_a_subscriber_gets_the_events_of_its_type_in_order_and_nothing_else(bus):
    got: list = []
    bus.subscribe(CommentsChanged, got.append)
    for n in range(50):
        bus.publish(CommentsChanged("doc", (f"u{n}",)))
    bus.publish(LinksChanged("doc", ("x",)))
    assert bus.drain()
    assert [e.units[0] for e in got] == [f"u{n}" for n in range(50)]
    with pytest.raises(TypeError):
        bus.publish({"event": "comments-changed"})  # only typed events
    with pytest.raises(TypeError):
        bus.subscribe(dict, got.append)


def test_a_failing_handler_is_logged_and_retried_and_the_others_are_not_held_up(bus, caplog):
    attempts: list[float] = []
    others: list = []

    def flaky(event):
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise RuntimeError("the database is away")

    flaky_sub = bus.subscribe(StageChanged, flaky, label="flaky", retries=(0.05, 0.05, 0.05))
    bus.subscribe(StageChanged, others.append, label="other")
    with caplog.at_level(logging.ERROR, logger="editor.events"):
        bus.publish(StageChanged("doc", "assembly"))
        assert _wait(lambda: others)  # not behind the flaky one's retries
        assert bus.drain()
    assert len(attempts) == 3 and flaky_sub.failed == 2 and flaky_sub.given_up == 0 and flaky_sub.delivered == 1
    assert sum("flaky failed on stage-changed" in r.getMessage() and "trying again" in r.getMessage()
               for r in caplog.records) == 2


def test_a_handler_that_always_fails_is_given_up_and_the_next_event_is_handled(bus, caplog):
    seen: list = []

    def broken(event):
        seen.append(event)
        if event.stage == "bad":
            raise ValueError("no")

    sub = bus.subscribe(StageChanged, broken, label="broken", retries=(0.01,))
    with caplog.at_level(logging.ERROR, logger="editor.events"):
        bus.publish(StageChanged("doc", "bad"))
        bus.publish(StageChanged("doc", "good"))
        assert bus.drain()
    assert [e.stage for e in seen] == ["bad", "bad", "good"]
    assert sub.given_up == 1 and sub.delivered == 1
    assert any("given up after 2 tries" in r.getMessage() for r in caplog.records)


def test_a_slow_merging_subscriber_keeps_one_event_per_document_and_never_holds_back_the_room(bus):
    release = threading.Event()
    got: list[TextChanged] = []

    def slow(event):
        release.wait(10)
        got.append(event)

    sub = bus.subscribe(TextChanged, slow, merge_within=0.01, limit=2)
    started = time.monotonic()
    for n in range(500):  # far more than the queue holds, from two documents
        bus.publish(TextChanged(f"doc{n % 2}", {n % 3: frozenset({f"u{n}"})}))
    assert time.monotonic() - started < 0.2  # the publisher (a room worker) never waited
    release.set()
    assert bus.drain()
    assert sub.dropped == 0
    assert set().union(*(e.units for e in got)) == {f"u{n}" for n in range(500)}  # nothing lost
    assert len(got) <= 4


def test_edits_arriving_within_the_merge_window_are_handled_as_one(bus):
    got: list[TextChanged] = []
    bus.subscribe(TextChanged, got.append, merge_within=0.3)
    bus.publish(TextChanged("a", {1: frozenset({"u1"})}))
    bus.publish(TextChanged("a", {1: frozenset({"u2"}), None: frozenset({"u3"})}))
    bus.publish(TextChanged("b", {2: frozenset({"v1"})}))
    assert bus.drain()
    assert [(e.document, dict(e.edits)) for e in got] == [
        ("a", {1: frozenset({"u1", "u2"}), None: frozenset({"u3"})}), ("b", {2: frozenset({"v1"})})]
    assert got[0].units == {"u1", "u2", "u3"}


def test_a_full_queue_holds_the_publisher_back_then_drops_for_that_subscriber_only(bus, caplog):
    release = threading.Event()
    slow_got: list = []
    fast_got: list = []

    def slow(event):
        release.wait(10)
        slow_got.append(event)

    slow_sub = bus.subscribe(CommentsChanged, slow, label="slow", limit=2)
    bus.subscribe(CommentsChanged, fast_got.append, label="fast")
    with caplog.at_level(logging.ERROR, logger="editor.events"):
        started = time.monotonic()
        for n in range(5):  # one being handled, two queued, then two that cannot wait
            bus.publish(CommentsChanged("doc", (str(n),)))
        held = time.monotonic() - started
        release.set()
        assert bus.drain()
    assert held >= 0.2  # the publisher was held back (put_timeout) before anything was dropped
    assert slow_sub.dropped == 2 and len(slow_got) == 3
    assert [e.units[0] for e in fast_got] == ["0", "1", "2", "3", "4"]
    assert any("slow is 2 events behind" in r.getMessage() for r in caplog.records)


def test_inline_subscribers_have_run_when_publish_returns_and_their_failure_is_the_publishers(bus):
    got: list = []
    bus.subscribe(AccountChanged, got.append, inline=True)
    bus.publish(AccountChanged(account=7))
    assert got == [AccountChanged(account=7)]
    with pytest.raises(ValueError):
        bus.subscribe(TextChanged, got.append, inline=True, merge_within=0.5)

    def refuse(event):
        raise LookupError("the account is gone")

    failing = bus.subscribe(StageChanged, refuse, inline=True, retries=(0.5, 0.5))
    started = time.monotonic()
    with pytest.raises(LookupError):
        bus.publish(StageChanged("doc", "assembly"))
    assert time.monotonic() - started < 0.4 and failing.failed == 1  # no retry in the request


def test_events_cross_processes_as_json_and_only_everywhere_subscribers_hear_them(bus):
    sent: list[dict] = []
    bus.relay = sent.append
    local: list = []
    everywhere: list = []
    bus.subscribe(AmendmentAdopted, local.append, label="local")
    bus.subscribe(AmendmentAdopted, everywhere.append, label="everywhere", everywhere=True)
    event = AmendmentAdopted("doc", 3, ("g1", "g2"))
    bus.publish(event)
    assert sent == [{"event": "amendment-adopted", "data": {"document": "doc", "number": 3, "units": ["g1", "g2"]}}]
    # Another process receives it: its `everywhere` subscribers handle it, the others don't (they
    # write rows, which the publishing process did).
    other = EventBus()
    try:
        there_local: list = []
        there_everywhere: list = []
        other.subscribe(AmendmentAdopted, there_local.append)
        other.subscribe(AmendmentAdopted, there_everywhere.append, everywhere=True)
        assert other.receive(sent[0])
        assert other.drain()
        assert there_everywhere == [event] and there_local == []
    finally:
        other.close()
    # Events nobody elsewhere listens to stay in the process.
    bus.publish(CommentsChanged("doc", ("u",)))
    assert len(sent) == 1


@pytest.mark.parametrize("message", [
    {"event": "no-such-event", "data": {}},
    {"event": "stage-changed", "data": {"document": "d", "stage": "x", "extra": 1}},
    {"event": "stage-changed"},
    {"kind": "stage", "document": "d"},
    {"event": "amendment-adopted", "data": {"document": "d", "numbr": 1}},
])
def test_unknown_or_malformed_messages_from_the_wire_are_not_events(message):
    assert from_wire(message) is None


def test_every_event_survives_the_wire_form():
    for event in (StageChanged("d", "assembly"), LinksChanged("d", ("b", "a")), CommentsChanged("d", ("x",)),
                  AccountChanged(account=3), AmendmentAdopted("d", 2, ("g",)),
                  TextChanged("d", {None: frozenset({"a"}), 5: frozenset({"b", "c"})})):
        assert from_wire(event.to_wire()) == event, event


# --- inside the application ----------------------------------------------------------------------


def _type_into_water(services, words: str, origin: str = "someone") -> None:
    from pycrdt import XmlFragment

    def change(doc):
        text = text_node_in(doc.get("body", type=XmlFragment), WATER)
        with doc.transaction(origin=origin):
            text.insert(len(str(text)), words)

    services.rooms.call(PUBLISHED, change)


def test_a_subscriber_that_raises_never_stops_the_room_or_loses_the_change(app, caplog):
    """Live edits publish TextChanged after they are durable. A subscriber that fails every time is
    logged, retried and given up on; the room keeps taking edits, every edit is in the store, and
    the application's own subscriber (who edited which unit) still records them."""
    from sqlalchemy import select

    from editor.stages.models import UnitEdit

    services = app.extensions["constituent"]
    calls: list[TextChanged] = []

    def broken(event: TextChanged) -> None:
        calls.append(event)
        raise RuntimeError("a subscriber's bug")

    broken_sub = services.events.subscribe(TextChanged, broken, label="broken", retries=(0.01, 0.01))
    services.rooms.call(PUBLISHED, lambda doc: None)  # open the room: its text is watched from now on
    with caplog.at_level(logging.ERROR, logger="editor.events"):
        _type_into_water(services, " potable")
        assert _wait(lambda: broken_sub.given_up == 1)
        _type_into_water(services, " y limpia")  # the room still takes edits
        assert _wait(lambda: broken_sub.given_up == 2)
        assert services.events.drain()
    assert len(calls) == 6 and all(WATER in event.units for event in calls)
    assert any("broken failed on text-changed" in r.getMessage() and "given up" in r.getMessage()
               for r in caplog.records)
    # Durable: a replica loaded from the store alone has both edits.
    from pycrdt import XmlFragment

    stored = str(services.store.load(PUBLISHED).doc.get("body", type=XmlFragment))
    assert "agua. potable y limpia" in stored
    # And the application's subscriber recorded who edited the unit.
    with app.app_context():
        edits = services.db.scalars(select(UnitEdit).where(UnitEdit.guid == WATER)).all()
        assert edits and sum(e.count for e in edits) >= 1
        services.db.remove()


def test_every_feature_reaction_is_a_subscription_on_the_bus(app):
    """The reactions that used to hang off hooks, listener lists and direct calls are all
    subscriptions, each labelled after its feature."""
    labels = {s.label: s for s in app.extensions["constituent"].events.subscriptions()}
    expected = {
        "live.rights.stage": StageChanged, "live.rights.account": AccountChanged,
        "stages.who-edited": TextChanged, "review.after-edits": TextChanged,
        "review.after-adoption": AmendmentAdopted, "comments.panel": CommentsChanged,
        "provenance.panel": LinksChanged,
    }
    for label, kind in expected.items():
        assert labels[label].kind is kind, label
    assert labels["amendments.panel"].everywhere and labels["comments.panel"].everywhere
    assert not labels["stages.who-edited"].everywhere  # rows are written once, where the edit was made
