"""The public view of a sitting is pushed to its readers (editor/assembly/watch.py): a reader's
WebSocket on `/d/<slug>/sesion/<n>/listen` hears the sitting's stamp when it joins and each time
the chair changes something a reader sees, the same stamp `…/estado` gives; it can only listen,
and it opens only where the public view does."""

from __future__ import annotations

import json

import pytest
import requests
from conftest import PUBLISHED
from test_amendments import ANIMALS, assembly, assembly_template  # noqa: F401 - the instance in the assembly stage
from test_browser_session import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

HEARD_WITHIN = 20  # seconds a listener waits for a message before the test gives up on it


def _listen(server, number: int = 1):
    """An anonymous reader's listening WebSocket."""
    return connect(server.url.replace("http://", "ws://", 1) + f"/d/{PUBLISHED}/sesion/{number}/listen",
                   open_timeout=10)


def _heard(ws) -> dict:
    return json.loads(ws.recv(timeout=HEARD_WITHIN))


def _stamp(server, number: int = 1) -> dict:
    return requests.get(f"{server.url}/d/{PUBLISHED}/sesion/{number}/estado", timeout=10).json()


def _open_sitting(server) -> tuple[Client, int]:
    """A tabled amendment and an open first sitting with it on the voting list."""
    asa, admin = Client(server, "asa"), Client(server, "admin")
    made = asa.send("POST", "/amendments", {"kind": "substitution", "units": [ANIMALS], "table": True,
                                            "text": "Los animales son seres sintientes y tienen derechos."})
    assert made.status_code == 201, made.text
    assert admin.send("PUT", "/assembly", {"quorum": {"kind": "count", "count": 1},
                                           "majority": "simple"}).status_code == 200
    assert admin.send("POST", "/sittings", {"day": "2016-09-15", "title": "Primera sesión"}).status_code == 201
    return admin, made.json()["number"]


def test_an_anonymous_listener_hears_the_stamp_on_joining_and_at_each_change(assembly):  # noqa: F811
    server = assembly
    admin, number = _open_sitting(server)
    # A planned sitting is not public: nobody anonymous may listen to it.
    with pytest.raises(InvalidStatus) as refused:
        _listen(server)
    assert refused.value.response.status_code == 404

    assert admin.send("POST", "/sittings/1/actions", {"action": "open"}).status_code == 200
    with _listen(server) as reader, _listen(server) as other:
        first = _heard(reader)
        assert first == _stamp(server) and first["state"] == "open"
        assert _heard(other) == first

        # Each change the public view shows reaches both readers, as /estado has it.
        assert admin.send("POST", "/sittings/1/agenda", {"amendments": [number]}).status_code == 200
        after_agenda = _heard(reader)
        assert after_agenda["stamp"] != first["stamp"] and after_agenda == _stamp(server)
        assert _heard(other) == after_agenda
        assert admin.send("POST", "/sittings/1/actions", {"action": "start", "amendment": number}).status_code == 200
        debating = _heard(reader)
        assert debating["stamp"] != after_agenda["stamp"] and debating == _stamp(server)
        assert _heard(other) == debating

        # A reader joining later hears the current stamp at once, not only at the next change.
        with _listen(server) as late:
            assert _heard(late) == debating

        # Closing the sitting is heard too.
        assert admin.send("POST", "/sittings/1/actions", {"action": "close"}).status_code == 200
        closing = _heard(reader)
        assert closing["state"] == "closed" and closing == _stamp(server)


def test_a_listener_cannot_send_and_a_sitting_that_does_not_exist_cannot_be_listened_to(assembly):  # noqa: F811
    server = assembly
    admin, _number = _open_sitting(server)
    assert admin.send("POST", "/sittings/1/actions", {"action": "open"}).status_code == 200
    with _listen(server) as reader:
        _heard(reader)
        reader.send(b"\x00\x00")  # a y-protocols message, say: this connection only listens
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                reader.recv(timeout=HEARD_WITHIN)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
    # No such sitting, no such document: refused before any upgrade.
    for number in (2, 99):
        with pytest.raises(InvalidStatus) as refused:
            _listen(server, number)
        assert refused.value.response.status_code == 404
    url = server.url.replace("http://", "ws://", 1) + "/d/no-such-document/sesion/1/listen"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)
    assert refused.value.response.status_code == 404
