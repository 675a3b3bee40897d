"""Fuzzing the /collab Socket.IO events with hypothesis: whatever a viewer or an editor sends
(random bytes, truncated or mutated y-protocols messages, huge varuints, bad awareness states,
wrong argument types and counts for join/leave/y, unknown slugs and events), the server answers
it without an exception, names what is wrong, never changes the document, never passes the
garbage on, and keeps serving: afterwards a fresh client joins and syncs, and a valid edit works.

In-process: Flask-SocketIO's test client against the real application (threading mode, events
handled in order, `async_handlers=False`), with the document's room worker running as in
production. Every example is followed by a barrier through the room's worker, so each answer is
checked against the message that caused it. Examples are derandomized: CI runs the same ones.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field

import pytest
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map, Text, XmlFragment
from sqlalchemy import func, select, text
from test_stages import _text_node

from crdt import protocol
from crdt.protocol import AwarenessEntry, AwarenessMessage, ProtocolError, SyncMessage, SyncStep
from crdt.room import Room, RoomClosed, RoomHooks, RoomSettings
from crdt.store import crdt_update

NS = "/collab"
LIMIT = 32768  # MAX_Y_MESSAGE_BYTES here (8 MiB in production): "too large" is cheap to reach
EXAMPLES = 300  # per sending role; two roles
MOBILITY = "00000000-0000-4000-8000-000000000004"  # "Toda persona tiene derecho a moverse."


# --- an in-process site and its connections -----------------------------------------------------


@pytest.fixture
def site(instance):
    from editor import create_app

    app = create_app({
        "INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "MAX_Y_MESSAGE_BYTES": LIMIT,
        # Nothing speaks on its own during the fuzzing: no periodic resync, no eviction; and no
        # rate limit, which would refuse the fuzzer's flood before the handlers see it.
        "ROOM_RESYNC_SECONDS": 3600, "ROOM_IDLE_SECONDS": 3600, "SOCKET_RATE": 0,
    })
    yield app
    services = app.extensions["constituent"]
    services.rooms.close_all()
    services.db.remove()
    services.engine.dispose()


class Peer:
    """One /collab connection through Flask-SocketIO's test client, signed in as `who` (or not),
    with a local pycrdt replica for syncing and editing."""

    def __init__(self, app, who: str | None) -> None:
        self.who = who or "anonymous"
        http = app.test_client()
        if who:
            page = http.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
            signed = http.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
            assert signed.status_code == 302, f"{who} could not sign in"
        self.client = app.extensions["constituent"].socketio.test_client(app, namespace=NS, flask_test_client=http)
        assert self.client.is_connected(NS)
        self.doc = Doc()
        self.body = self.doc.get("body", type=XmlFragment)
        self.doc.get("meta", type=Map)

    def emit(self, event: str, *args, ack: bool = False):
        return self.client.emit(event, *args, namespace=NS, callback=ack)

    def join(self, slug: str) -> dict:
        return self.emit("join", {"document": slug}, ack=True)

    def received(self) -> list[dict]:
        return self.client.get_received(NS)

    def sync(self, services, slug: str) -> None:
        """Sync step 1 → the server's step 2, applied to the local replica."""
        self.emit("y", slug, protocol.sync_step1(self.doc.get_state()))
        settle(services, slug)
        for event in self.received():
            if event["name"] == "y":
                message = protocol.decode(event["args"][1])
                if isinstance(message, SyncMessage) and message.step != SyncStep.STEP1:
                    self.doc.apply_update(message.data)

    def edit(self, fn) -> bytes:
        """Run fn(body) locally and send the resulting update; returns it."""
        before = self.doc.get_state()
        with self.doc.transaction():
            fn(self.body)
        update = self.doc.get_update(before)
        self.emit("y", PUBLISHED, protocol.sync_update(update))
        return update


def settle(services, slug: str) -> None:
    """Wait until the room's worker has handled (and answered) everything sent before."""
    services.rooms.call(slug, lambda doc: None)


@dataclass(frozen=True)
class State:
    body: str
    meta: str
    vector: dict
    update: bytes  # the whole state, for replicas the oracle tries messages on


def state_of(services, slug: str) -> State:
    def read(doc: Doc) -> State:
        return State(str(doc.get("body", type=XmlFragment)), json.dumps(doc.get("meta", type=Map).to_py(), sort_keys=True),
                     protocol.decode_state_vector(doc.get_state()), doc.get_update())

    return services.rooms.call(slug, read)


def logged_updates(services, slug: str) -> int:
    with services.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(crdt_update).where(crdt_update.c.document == slug))


# --- what to send ---------------------------------------------------------------------------------


def _sample_messages(state: State) -> list[bytes]:
    """Valid messages to truncate, mutate and extend: step 1, a real edit as step 2 and as an
    update, and an awareness update."""
    replica = _Replica(state)
    before = replica.doc.get_state()
    _text_node(replica, MOBILITY).insert(0, "Gotham City: ")
    edit = replica.doc.get_update(before)
    presence = protocol.encode_awareness([AwarenessEntry(4242, 1, {"user": {"name": "x", "color": "#f00"}})])
    return [protocol.sync_step1(before), protocol.sync_step2(edit), protocol.sync_update(edit), presence]


class _Replica:
    """A local copy of a document state (what `_text_node` needs: a `body`)."""

    def __init__(self, state: State) -> None:
        self.doc = Doc()
        self.body = self.doc.get("body", type=XmlFragment)
        self.doc.apply_update(state.update)


def _mutate(message: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    data = bytearray(message)
    for kind, where, value in edits:
        if not data:
            data.append(value)
            continue
        where %= len(data)
        if kind == 0:
            data[where] = value
        elif kind == 1:
            data.insert(where, value)
        else:
            del data[where]
    return bytes(data)


def _awareness(entries: list[tuple[int, int, bytes]], count: int | None) -> bytes:
    body = protocol._varuint(len(entries) if count is None else count)
    for client, clock, state in entries:
        body += protocol._varuint(client) + protocol._varuint(clock) + protocol._var_bytes(state)
    return protocol._varuint(protocol.MessageType.AWARENESS) + protocol._var_bytes(body)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_awareness_states = st.one_of(
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=24),  # not JSON, or not UTF-8
    st.sampled_from([b"null", b"{}", b"[]", b"1", b'"x"', b'{"a":', b'"\\ud800"', b"\xff\xfe", b"1e999", b"9" * 5000]),
    st.sampled_from([500, 1000, 10_000]).map(lambda depth: b"[" * depth + b"]" * depth),  # nested too deeply
    st.sampled_from([500, 1000, 3000]).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
)


def payloads(samples: list[bytes]):
    """y payloads: mostly binary garbage of every kind, sometimes not binary at all."""
    big = st.integers(0, 2**80)
    return st.one_of(
        st.binary(max_size=48),  # random bytes
        # A plausible header around a random body: any type, any step, a length-prefixed body.
        st.builds(lambda kind, step, data: protocol._varuint(kind) + protocol._varuint(step) + protocol._var_bytes(data),
                  st.integers(0, 4), st.integers(0, 4), st.binary(max_size=32)),
        # Valid messages cut short, with bytes flipped, inserted or deleted, or with trailing bytes.
        st.builds(lambda m, cut: m[:cut % max(1, len(m))], st.sampled_from(samples), st.integers(0, 10_000)),
        st.builds(_mutate, st.sampled_from(samples),
                  st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4)),
        st.builds(lambda m, tail: m + tail, st.sampled_from(samples), st.binary(min_size=1, max_size=8)),
        # Huge varuints: as the type, the step, a length; and lengths that claim more than is there.
        st.builds(lambda n, tail: b"\xff" * n + tail, st.integers(1, 20), st.binary(max_size=4)),
        st.builds(lambda n, tail: b"\x00" + b"\x80" * n + b"\x01" + tail, st.integers(1, 12), st.binary(max_size=4)),
        st.builds(lambda kind, length, data: protocol._varuint(kind) + (b"\x02" if kind == 0 else b"") +
                  protocol._varuint(length) + data, st.integers(0, 1), big, st.binary(max_size=8)),
        # State vectors and updates inside well-formed envelopes.
        st.builds(lambda step, data: protocol.encode_sync(SyncStep(step), data), st.integers(0, 2), st.binary(max_size=40)),
        st.builds(lambda pairs: protocol.sync_step1(protocol._varuint(len(pairs)) + b"".join(
            protocol._varuint(c) + protocol._varuint(k) for c, k in pairs)), st.lists(st.tuples(big, big), max_size=3)),
        # Awareness: bad JSON, states that are not objects, deep nesting, huge ids, wrong counts.
        st.builds(_awareness, st.lists(st.tuples(big, big, _awareness_states), max_size=3),
                  st.one_of(st.none(), st.integers(0, 20_000))),
        st.binary(min_size=LIMIT + 1, max_size=LIMIT + 16),  # over the size limit
        st.sampled_from(samples),
        # Not binary at all.
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=16),
                  st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)),
    )


_slugs = st.one_of(st.sampled_from([PUBLISHED, DRAFT, "no-such-document", "", " ", "\ud800", "a\x00b", "../x"]),
                   st.text(max_size=12), st.integers(), st.none(), st.lists(st.integers(), max_size=2),
                   st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2))


def actions(samples: list[bytes]):
    """(event, args): mostly y to the joined document, then every other shape of call."""
    y = payloads(samples)
    to_document = st.tuples(st.just("y"), st.tuples(st.just(PUBLISHED), y))
    others = st.one_of(
        st.tuples(st.just("y"), st.one_of(
            st.tuples(), st.tuples(_slugs), st.tuples(_slugs, y), st.tuples(st.just(PUBLISHED), y, _slugs))),
        st.tuples(st.sampled_from(["join", "leave"]), st.one_of(
            st.tuples(), st.tuples(_slugs), st.tuples(st.fixed_dictionaries({"document": _slugs})),
            st.tuples(st.fixed_dictionaries({"document": _slugs}), _slugs),
            st.tuples(st.dictionaries(st.text(max_size=8), _slugs, max_size=2)))),
        st.tuples(st.sampled_from(["connect", "disconnect", "error", "stage", "comments", "nope", ""]),
                  st.tuples(_slugs)),
    )
    return st.one_of(to_document, to_document, to_document, others)


# --- what the server must answer ----------------------------------------------------------------

ACCEPTED = "accepted"  # a valid update from a writer: not garbage, so not part of the fuzzing


def expected_answer(payload, can_write: bool, state: State) -> str | None:
    """The error code a well-behaved server sends back for `payload` on a joined document (None:
    no error), decided independently of the server: by decoding it here and trying it on a replica."""
    if not isinstance(payload, (bytes, bytearray)):
        return "wrong-type"
    if len(payload) > LIMIT:
        return "too-large"
    try:
        message = protocol.decode(payload)
    except ProtocolError as exc:
        return exc.code
    replica = _Replica(state).doc
    if isinstance(message, AwarenessMessage):
        try:
            protocol.decode_awareness(message.data)
        except ProtocolError as exc:
            return exc.code
        except RecursionError:
            return "malformed"
        return None
    if message.step == SyncStep.STEP1:
        try:
            replica.get_update(message.data)
        except ValueError:
            return "malformed"
        return None
    if message.data == protocol.EMPTY_UPDATE:
        return None
    if not can_write:
        return "read-only"
    try:
        replica.apply_update(message.data)
    except ValueError:
        return "malformed-update"
    return ACCEPTED


def _is_edit(event: dict) -> bool:
    if event["name"] != "y":
        return False
    try:
        message = protocol.decode(event["args"][1])
    except (ProtocolError, IndexError):
        return True  # the server never sends garbage either
    return isinstance(message, SyncMessage) and message.step == SyncStep.UPDATE


@dataclass
class Fuzz:
    """One fuzzing run: a sender, an observer, the state that must not change, what went wrong."""

    services: object
    sender: Peer
    observer: Peer
    can_write: bool
    before: dict[str, State]
    joined: set = field(default_factory=lambda: {PUBLISHED})
    examples: int = 0
    found: dict[str, list] = field(default_factory=dict)  # what went wrong → [count, first action]

    def fail(self, what: str, action) -> None:
        self.found.setdefault(what[:300], [0, action])[0] += 1

    @property
    def failures(self) -> list[str]:
        return [f"{self.sender.who}: {what} ({count}×, first after {action!r:.300})"
                for what, (count, action) in self.found.items()]

    def run(self, action) -> None:
        event, args = action
        if event == "y" and args and args[0] == PUBLISHED and len(args) >= 2:
            expect = expected_answer(args[1], self.can_write, self.before[PUBLISHED])
            assume(expect != ACCEPTED)  # a valid edit by an editor is not garbage
        self.examples += 1
        self.sender.received()
        self.observer.received()
        try:
            ack = self.sender.emit(event, *args, ack=event in ("join", "leave"))
        except Exception as exc:  # noqa: BLE001 - an exception escaping a handler is the finding
            self.fail(f"{event} raised {type(exc).__name__}: {exc}", action)
            self._rejoin()
            return
        settle(self.services, PUBLISHED)
        answers = self.sender.received()
        errors = [e["args"][0] for e in answers if e["name"] == "error"]
        if event == "y":
            self._check_y(args, errors, action)
        elif event in ("join", "leave"):
            self._check_ack(event, args, ack, action)
        for error in errors:
            if not isinstance(error.get("message"), str) or not error["message"] or not error.get("code"):
                self.fail(f"an error without code or message: {error!r}", action)
            if error.get("code") in ("internal", "store-unavailable", "closed"):
                self.fail(f"the document stopped: {error!r}", action)
        if any(_is_edit(e) for e in self.observer.received()):
            self.fail("the other connection received an update", action)
        for slug, before in self.before.items():
            if state_of(self.services, slug) != before:
                self.fail(f"document {slug} changed", action)
                self.before[slug] = state_of(self.services, slug)  # report each change once
        if event != "y":
            self._rejoin()

    def _check_y(self, args, errors: list[dict], action) -> None:
        slug = args[0] if args else None
        if not isinstance(slug, str):
            expect, where = "wrong-type", None
        elif slug not in self.joined:
            expect, where = "not-joined", slug
        else:
            payload = args[1] if len(args) > 1 else None
            expect, where = expected_answer(payload, self.can_write, self.before[slug]), slug
        if expect is None:
            if errors:
                self.fail(f"a valid message was refused: {errors!r}", action)
        elif not any(e.get("code") == expect and e.get("document") == where for e in errors):
            self.fail(f"expected error {expect!r} for {where!r}, got {errors!r}", action)

    def _check_ack(self, event: str, args, ack, action) -> None:
        if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
            self.fail(f"{event} answered {ack!r}, not {{ok, …}}", action)
            return
        if not ack["ok"] and not (isinstance(ack.get("error"), str) and ack["error"]):
            self.fail(f"{event} refused without saying why: {ack!r}", action)
        slug = args[0].get("document") if args and isinstance(args[0], dict) else None
        if event == "join" and ack["ok"]:
            if slug == DRAFT and self.sender.who == "anonymous":
                self.fail("an anonymous connection joined a draft", action)
            self.joined.add(slug)
        if event == "leave" and ack["ok"]:
            self.joined.discard(slug)

    def _rejoin(self) -> None:
        """Back to a known place: joined to the published document only (a fake `connect` or
        `disconnect` event, or a leave, may have changed what the server thinks)."""
        for slug in list(self.joined - {PUBLISHED}):
            try:
                self.sender.emit("leave", {"document": slug}, ack=True)
            except Exception:  # noqa: BLE001 - reported by the action that caused it
                pass
        self.joined = {PUBLISHED}
        try:
            ack = self.sender.join(PUBLISHED)
        except Exception as exc:  # noqa: BLE001
            self.fail(f"re-joining raised {type(exc).__name__}: {exc}", "rejoin")
            return
        if not (isinstance(ack, dict) and ack.get("ok")):
            self.fail(f"re-joining was refused: {ack!r}", "rejoin")
        settle(self.services, PUBLISHED)
        self.sender.received()


def _regressions(test):
    """Inputs that broke the server once (or would have), tried first in every run."""
    deep = b"[" * 10_000 + b"]" * 10_000
    for action in [
        # crdt/protocol.py: a deeply nested awareness state raised RecursionError in the room's
        # worker, which stopped the document for everyone connected.
        ("y", (PUBLISHED, _awareness([(7, 1, deep)], None))),
        ("y", (PUBLISHED, _awareness([(7, 1, b'{"a":' * 3000 + b"1" + b"}" * 3000)], None))),
        # crdt/protocol.py: counts that claim more than the message holds (pycrdt reserved memory for them).
        ("y", (PUBLISHED, protocol.sync_step1(protocol._varuint(2**29)))),
        ("y", (PUBLISHED, protocol.sync_update(protocol._varuint(2**29) + b"\x00"))),
        # editor/collab.py: extra arguments and unhashable or non-UTF-8 slugs raised in the handlers.
        ("join", ({"document": PUBLISHED}, "extra")),
        ("leave", ({"document": PUBLISHED}, "extra")),
        ("leave", ({"document": []},)),
        ("join", ({"document": "\ud800"},)),
        # editor/audit.py: a refused write to a slug that is not valid Unicode could not be audited.
        ("y", ("\ud800", protocol.sync_update(protocol.EMPTY_UPDATE))),
        # The envelope: a number that never ends, a length beyond the end, a message over the limit.
        ("y", (PUBLISHED, b"\x00\x02" + b"\xff" * 20)),
        ("y", (PUBLISHED, b"\x00\x01\xff\xff\xff\xff\x7f")),
        ("y", (PUBLISHED, b"\x00" * (LIMIT + 1))),
        ("y", (PUBLISHED,)),
        ("y", (PUBLISHED, "text", "extra")),
        # Client-sent names of the server's own events.
        ("disconnect", ("bye",)),
        ("connect", ({"token": "x"},)),
    ]:
        test = example(action=action)(test)
    return test


def fuzz(app, who: str, observer_who: str | None, can_write: bool, caplog) -> Fuzz:
    services = app.extensions["constituent"]
    caplog.set_level(logging.WARNING)
    sender, observer = Peer(app, who), Peer(app, observer_who)
    assert sender.join(PUBLISHED) == {"ok": True, "role": "editor" if can_write else "viewer"}
    assert observer.join(PUBLISHED)["ok"]
    if who != "anonymous":
        assert sender.join(DRAFT)["ok"]  # both signed-in roles read drafts: garbage may go there too
        sender.emit("leave", {"document": DRAFT}, ack=True)
    settle(services, PUBLISHED)
    before = {slug: state_of(services, slug) for slug in (PUBLISHED, DRAFT)}
    logged = {slug: logged_updates(services, slug) for slug in before}
    run = Fuzz(services, sender, observer, can_write, dict(before))
    samples = _sample_messages(before[PUBLISHED])

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(action=actions(samples))
    @_regressions
    def one(action):
        run.run(action)

    one()
    print(f"\nsocket fuzzing as {who}: {run.examples} examples, {len(run.failures)} failures")

    # Nothing the fuzzing sent was stored, and the text in the store is the text before.
    for slug, state in before.items():
        assert logged_updates(services, slug) == logged[slug], f"updates were stored for {slug}"
        assert state_of(services, slug) == state
    services.rooms.close_all()  # the next reader loads the document from the store
    for slug, state in before.items():
        stored = services.store.load(slug).doc
        assert str(stored.get("body", type=XmlFragment)) == state.body, f"{slug} changed in the store"
    return run


def still_serving(app, before: State) -> None:
    """A fresh editor joins and syncs the unchanged text; its valid edit reaches a reader and the API."""
    services = app.extensions["constituent"]
    editor, reader = Peer(app, "bruno"), Peer(app, None)
    assert editor.join(PUBLISHED) == {"ok": True, "role": "editor"}
    assert reader.join(PUBLISHED) == {"ok": True, "role": "viewer"}
    editor.sync(services, PUBLISHED)
    reader.sync(services, PUBLISHED)
    assert str(editor.body) == before.body == str(reader.body)

    editor.edit(lambda body: _text_node(editor, MOBILITY).insert(0, "Después del ruido: "))
    settle(services, PUBLISHED)
    assert not [e for e in editor.received() if e["name"] == "error"]
    updates = [protocol.decode(e["args"][1]) for e in reader.received() if e["name"] == "y"]
    for message in updates:
        reader.doc.apply_update(message.data)
    assert "Después del ruido: Toda persona tiene derecho a moverse." in str(reader.body)
    unit = app.test_client().get(f"/api/v1/documents/{PUBLISHED}/units/{MOBILITY}").get_json()
    assert unit["text"].startswith("Después del ruido: Toda persona"), unit


def _no_crash_logged(caplog) -> None:
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes, "\n".join(f"{r.name}: {r.getMessage()}" for r in crashes[:10])


# --- the tests ------------------------------------------------------------------------------------


def test_garbage_from_a_viewer_is_refused_and_changes_nothing(site, caplog):
    run = fuzz(site, "vera", "ana", can_write=False, caplog=caplog)
    assert not run.failures, f"{len(run.failures)} failures in {run.examples} examples:\n" + "\n".join(run.failures)
    assert run.examples >= EXAMPLES
    _no_crash_logged(caplog)
    still_serving(site, run.before[PUBLISHED])


def test_garbage_from_an_editor_is_refused_and_changes_nothing(site, caplog):
    run = fuzz(site, "ana", None, can_write=True, caplog=caplog)
    assert not run.failures, f"{len(run.failures)} failures in {run.examples} examples:\n" + "\n".join(run.failures)
    assert run.examples >= EXAMPLES
    _no_crash_logged(caplog)
    still_serving(site, run.before[PUBLISHED])


def test_a_batch_that_cannot_be_stored_does_not_leave_its_callers_waiting(tmp_path):
    """Found while fuzzing: when a room stopped in the middle of a batch, the calls in that batch
    (an API request reading or changing the text) waited for their full timeout instead of being
    told at once, and retried on a fresh room."""
    from test_store import _store

    store = _store(tmp_path)
    room = Room("doc", store, RoomHooks(), RoomSettings(store_retries=()))
    with store.engine.begin() as connection:  # the database loses the log table: every append fails
        connection.execute(text("DROP TABLE crdt_update"))
    started = time.monotonic()
    with pytest.raises(RoomClosed):
        room.call(lambda doc: doc.get("title", type=Text).insert(0, "never stored"), timeout=20)
    assert time.monotonic() - started < 5
    assert room.closed.is_set()


def test_connect_and_disconnect_events_sent_by_a_client_change_nothing(instance):
    """Found while fuzzing: Socket.IO hands a client's event named "connect" or "disconnect" to the
    same handlers as its own calls, so a client could drop its rate limit and leave the server's
    books (rights changes and "sign out everywhere" no longer reached it) while staying in the
    document's channel."""
    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "SOCKET_RATE": 1, "SOCKET_BURST": 5,
                      "ROOM_RESYNC_SECONDS": 3600})
    services = app.extensions["constituent"]
    try:
        vera = Peer(app, "vera")
        assert vera.join(PUBLISHED)["ok"]
        settle(services, PUBLISHED)
        vera.received()
        for event, argument in (("connect", {"token": "x"}), ("disconnect", "client namespace disconnect")):
            vera.emit(event, argument)
        vera.emit("y", PUBLISHED, protocol.sync_step1(Doc().get_state()))  # still joined: step 1 gets a step 2
        settle(services, PUBLISHED)
        answers = vera.received()
        assert [e for e in answers if e["name"] == "y"], answers
        assert not [e for e in answers if e["name"] == "error"], answers
        for _ in range(10):  # still counted: the burst was not refilled, nor the limit dropped
            vera.emit("y", PUBLISHED, b"\x07")
        codes = [e["args"][0]["code"] for e in vera.received() if e["name"] == "error"]
        assert codes.count("rate-limited") >= 5, codes
    finally:
        services.rooms.close_all()
        services.db.remove()
        services.engine.dispose()


def test_counts_claiming_more_than_the_message_holds_are_refused_at_the_door(site):
    """Found while fuzzing: pycrdt reserves memory for the number of clients a state vector or an
    update claims before reading them; a 7-byte sync step 1 claiming 2**29 clients, which anyone
    may send, cost the server a gigabyte and stalled the document's worker for most of a second.
    Such messages are now refused when they arrive, before the room sees them."""
    services = site.extensions["constituent"]
    reader, editor = Peer(site, None), Peer(site, "ana")
    for peer in (reader, editor):
        assert peer.join(PUBLISHED)["ok"]
    settle(services, PUBLISHED)
    before = state_of(services, PUBLISHED)
    for peer, payload, code in (
        (reader, protocol.sync_step1(protocol._varuint(2**29)), "truncated"),
        (reader, protocol.sync_step1(protocol._varuint(3) + b"\x01\x01"), "truncated"),
        (editor, protocol.sync_update(protocol._varuint(2**29) + b"\x00"), "malformed"),
        (editor, protocol.sync_step2(protocol._varuint(1000) + b"\x01\x02\x03"), "malformed"),
    ):
        peer.received()
        peer.emit("y", PUBLISHED, payload)
        answered = [e["args"][0] for e in peer.received() if e["name"] == "error"]  # no waiting for the room
        assert [(e["code"], e["document"]) for e in answered] == [(code, PUBLISHED)], answered
        assert "claims" in answered[0]["message"] or "state vector" in answered[0]["message"]
    assert state_of(services, PUBLISHED) == before
