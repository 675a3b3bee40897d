"""The update store and rooms without a network: compaction, idle eviction, reload, order."""

from __future__ import annotations

import time

from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText
from sqlalchemy import func, select

from crdt import protocol
from crdt.room import RoomHooks, RoomSettings
from crdt.rooms import Rooms
from crdt.store import UpdateStore, crdt_update
from editor.db import make_engine


class Recorder(RoomHooks):
    def __init__(self):
        self.sent, self.broadcasts, self.reports = [], [], []

    def send(self, room, connection, payload):
        self.sent.append((connection, payload))

    def broadcast(self, room, payload, skip):
        self.broadcasts.append((payload, skip))

    def report(self, room, connection, code, message):
        self.reports.append((connection, code, message))


def _store(tmp_path) -> UpdateStore:
    store = UpdateStore(make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}"))
    store.create_schema()
    return store


def _typing_updates(n: int) -> tuple[list[bytes], str]:
    doc = Doc()
    body = doc.get("body", type=XmlFragment)
    updates = []
    doc.observe(lambda e: updates.append(e.update))
    p = body.children.append(XmlElement("p"))
    text = p.children.append(XmlText())
    for i in range(n):
        text.insert(len(text), f"{i % 10}")
    return updates, str(text)


def _log_rows(store: UpdateStore, name: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(crdt_update).where(crdt_update.c.document == name)).scalar_one()


def test_room_applies_persists_and_compacts_into_a_snapshot(tmp_path):
    store = _store(tmp_path)
    hooks = Recorder()
    rooms = Rooms(store, hooks, RoomSettings(compact_every=100), idle_seconds=3600)
    room = rooms.get("doc")
    room.join("writer", True)
    room.join("reader", False)
    updates, expected = _typing_updates(250)
    for update in updates:
        room.receive("writer", protocol.sync_update(update))
    text = room.call(lambda doc: str(doc.get("body", type=XmlFragment)))
    assert expected in text
    # The reader got every update, the writer none of its own.
    relayed = [p for p, skip in hooks.broadcasts if skip == "writer"]
    assert len(relayed) == len(updates)
    # Compaction folded the log: fewer rows than updates, and the state reloads identically.
    room.call(lambda doc: None)  # runs after the previous batch's compaction
    assert _log_rows(store, "doc") < 100
    rooms.close_all()
    reloaded = store.load("doc").doc
    assert str(reloaded.get("body", type=XmlFragment)) == text


def test_idle_room_is_evicted_and_reloads_with_everything(tmp_path):
    store = _store(tmp_path)
    rooms = Rooms(store, Recorder(), RoomSettings(), idle_seconds=0.2)
    room = rooms.get("doc")
    room.join("w", True)
    updates, expected = _typing_updates(40)
    for update in updates:
        room.receive("w", protocol.sync_update(update))
    room.call(lambda doc: None)
    room.leave("w")
    deadline = time.monotonic() + 5
    while rooms.peek("doc") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rooms.peek("doc") is None, "an idle room stays in memory"
    assert room.closed.wait(5), "the evicted room never finished closing"
    assert _log_rows(store, "doc") == 0  # closing compacted the log into the snapshot
    again = rooms.get("doc")
    assert again is not room
    assert expected in again.call(lambda doc: str(doc.get("body", type=XmlFragment)))
    rooms.close_all()


def test_viewer_step2_is_refused_but_its_step1_is_answered(tmp_path):
    store = _store(tmp_path)
    hooks = Recorder()
    rooms = Rooms(store, hooks, idle_seconds=3600)
    room = rooms.get("doc")
    room.join("viewer", False)
    updates, _ = _typing_updates(3)
    room.receive("viewer", protocol.sync_step2(updates[0]))
    room.receive("viewer", protocol.sync_step1(Doc().get_state()))
    room.call(lambda doc: None)
    assert [code for _c, code, _m in hooks.reports] == ["read-only"]
    assert any(c == "viewer" and protocol.decode(p).step == protocol.SyncStep.STEP2 for c, p in hooks.sent
               if isinstance(protocol.decode(p), protocol.SyncMessage))
    assert store.load("doc").log_length == 0
    rooms.close_all()


def test_an_update_that_arrives_before_its_dependency_is_not_kept_pending(tmp_path):
    """An update whose causal parent has not arrived is not kept pending (unseen) nor misapplied:
    the room asks its sender for what it lacks (a sync step 1), and the sender's answer (step 2)
    brings both, in order."""
    store = _store(tmp_path)
    hooks = Recorder()
    rooms = Rooms(store, hooks, idle_seconds=3600)
    room = rooms.get("doc")
    room.join("w", True)
    doc = Doc()
    doc["t"] = text = Text()
    updates = []
    doc.observe(lambda e: updates.append(e.update))
    text += "hola"
    text += " mundo"
    room.receive("w", protocol.sync_update(updates[1]))
    assert room.call(lambda d: str(d.get("t", type=Text))) == ""
    asked = [protocol.decode(p) for c, p in hooks.sent if c == "w"]
    step1 = [m for m in asked if isinstance(m, protocol.SyncMessage) and m.step == protocol.SyncStep.STEP1]
    assert step1, "the sender was not asked for what the room lacks"
    room.receive("w", protocol.sync_step2(doc.get_update(step1[-1].data)))
    assert room.call(lambda d: str(d.get("t", type=Text))) == "hola mundo"
    rooms.close_all()
    assert str(store.load("doc").doc.get("t", type=Text)) == "hola mundo"


def test_updates_after_a_compaction_that_emptied_the_log_survive_reload(tmp_path):
    """Compaction deletes every logged update; the ids handed out afterwards must still sort after
    the snapshot, or a reload would silently skip them."""
    store = _store(tmp_path)
    first, _ = _typing_updates(5)
    store.append("doc", first[:3])
    store.compact("doc")
    assert _log_rows(store, "doc") == 0
    store.append("doc", first[3:])
    reloaded = store.load("doc").doc
    assert "01234" in str(reloaded.get("body", type=XmlFragment))


def test_a_failing_call_hands_its_own_error_back(tmp_path):
    store = _store(tmp_path)
    rooms = Rooms(store, Recorder(), idle_seconds=3600)

    def broken(doc):
        raise LookupError("no such unit")

    import pytest

    with pytest.raises(LookupError, match="no such unit"):
        rooms.call("doc", broken)
    assert rooms.call("doc", lambda doc: "still serving") == "still serving"
    rooms.close_all()
