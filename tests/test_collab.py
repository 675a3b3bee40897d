"""The /collab protocol against a real server process: convergence, rights, repair, bad input."""

from __future__ import annotations

import os
import time

import requests
from conftest import DRAFT, PUBLISHED
from pycrdt import XmlElement, XmlText

from crdt import protocol


def _article(guid: str, heading: str, text: str) -> XmlElement:
    return XmlElement("article", {"guid": guid}, [XmlElement("heading", {}, [XmlText(heading)]),
                                                  XmlElement("p", {}, [XmlText(text)])])


def _first_p_text(client, article_index: int) -> XmlText:
    title = client.body.children[0]
    article = [c for c in title.children if getattr(c, "tag", None) == "article"][article_index]
    p = [c for c in article.children if c.tag == "p"][0]
    return p.children[0]


def _outline(server, who=None):
    session = server.login(who) if who else requests.Session()
    return session.get(f"{server.url}/api/v1/documents/{PUBLISHED}", timeout=10).json()


def _articles(outline):
    found = []

    def walk(units):
        for unit in units:
            if unit["kind"] == "article":
                found.append(unit)
            walk(unit["children"])

    walk(outline["outline"])
    return found


def test_two_clients_converge_on_concurrent_edits_in_the_same_paragraph(server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    assert "Toda persona tiene derecho a moverse." in ana.xml()

    # Both type into the same paragraph at the same time, many times.
    for _round in range(30):
        ana.edit(lambda body: _first_p_text(ana, 1).insert(0, "A"))
        bruno.edit(lambda body: _first_p_text(bruno, 1).insert(len(_first_p_text(bruno, 1)), "B"))
    assert ana.wait_for(lambda c: str(_first_p_text(c, 1)).count("B") == 30)
    assert bruno.wait_for(lambda c: str(_first_p_text(c, 1)).count("A") == 30)
    assert ana.xml() == bruno.xml()

    # What the server stored is the same text: a fresh reader sees it.
    reader = client_factory("vera")
    assert reader.xml() == ana.xml()


def test_inserting_an_article_renumbers_the_following_ones(server, client_factory):
    ana = client_factory("ana")
    before = _articles(_outline(server))
    assert [(a["num"], a["heading"]) for a in before] == [("1", "Agua"), ("2", "Movilidad"), ("3", "Animales")]

    ana.edit(lambda body: body.children[0].children.insert(
        2, _article("11111111-1111-4111-8111-111111111111", "Áreas verdes", "Parques para todos.")))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = _articles(_outline(server))
        if len(after) == 4:
            break
        time.sleep(0.05)
    assert [(a["num"], a["heading"]) for a in after] == [
        ("1", "Agua"), ("2", "Áreas verdes"), ("3", "Movilidad"), ("4", "Animales")]
    # Identity did not move with the number.
    assert after[2]["guid"] == before[1]["guid"] and after[2]["eId"] == "art_3"


def test_viewer_update_is_dropped_and_reported(server, client_factory):
    ana = client_factory("ana")
    vera = client_factory("vera")
    before = ana.xml()
    vera.edit(lambda body: _first_p_text(vera, 1).insert(0, "GOTHAM "))
    assert vera.wait_for(lambda c: any(e["code"] == "read-only" for e in c.errors))
    time.sleep(0.3)
    assert ana.xml() == before
    fresh = client_factory("bruno")
    assert "GOTHAM" not in fresh.xml()


def test_viewer_sync_step2_with_content_is_refused(server, client_factory):
    vera = client_factory("vera")
    vera._remote = True  # make a local change without the client sending it as an update
    vera.edit(lambda body: body.children[0].children.append(_article(
        "22222222-2222-4222-8222-222222222222", "Ciudad Gótica", "La capital se llama Gotham.")))
    vera._remote = False
    vera.send(protocol.sync_step2(vera.state()))
    assert vera.wait_for(lambda c: any(e["code"] == "read-only" for e in c.errors))
    assert "Gotham" not in client_factory("ana").xml()


def test_anonymous_can_read_published_but_not_join_a_draft(server, client_factory):
    anonymous = client_factory(None)
    assert "Agua" in anonymous.xml()
    ack = client_factory(None, slug=DRAFT, join=False).join(DRAFT, wait=False)
    assert ack["ok"] is False and DRAFT in ack["error"]
    # A signed-in viewer may read the draft; the page is invisible to the public.
    assert client_factory("vera", slug=DRAFT).xml()
    assert requests.get(f"{server.url}/d/{DRAFT}", timeout=10).status_code == 404


def test_guids_stay_unique_after_concurrent_naive_splits_of_the_same_unit(server, client_factory):
    """Two clients split article 2 at once, each copying its attributes (GUID included) into the
    new half, as a naive client would. The server keeps the original GUID on the original unit
    and gives each copy a new, deterministic one; all replicas agree."""
    ana, bruno = client_factory("ana"), client_factory("bruno")
    original = "00000000-0000-4000-8000-000000000004"

    def split(client, text):
        def change(body):
            title = body.children[0]
            title.children.insert(3, _article(original, "Movilidad (segunda parte)", text))
        client.edit(change)

    split(ana, "Parte de Ana.")
    split(bruno, "Parte de Bruno.")

    def guids(client):
        from crdt.xmltree import fragment_to_etree
        with client.lock:
            tree = fragment_to_etree(client.body)
        return [e.get("guid") for e in tree.iter("article")]

    assert ana.wait_for(lambda c: len(guids(c)) == 5 and len(set(guids(c))) == 5, timeout=10), guids(ana)
    assert bruno.wait_for(lambda c: guids(c) == guids(ana), timeout=10)
    ids = guids(ana)
    assert ids[1] == original  # the unit that was there first keeps its identity
    # The outline the server serves agrees.
    assert [a["guid"] for a in _articles(_outline(server))] == ids


def test_malformed_payloads_get_errors_and_change_nothing(server, client_factory):
    ana = client_factory("ana")
    bystander = client_factory("bruno")
    before = ana.xml()

    def capture(body):
        _first_p_text(ana, 2).insert(0, "X")

    # a valid update we will truncate (never sent whole)
    ana._remote = True
    ana.edit(capture)
    ana._remote = False
    good_update = ana.state()

    bad_payloads = [
        os.urandom(64),                                   # random bytes
        protocol.sync_update(good_update[: len(good_update) // 2]),  # truncated update inside a valid frame
        protocol.sync_update(good_update)[:-5],           # truncated frame
        b"\x00\x07\x00",                                  # unknown sync step
        b"\x05\x01\x00",                                  # unknown message type
        "a string, not bytes",                            # wrong type
        {"an": "object"},                                 # wrong type
        b"\x00\x02" + b"\xff" * 20,                        # absurd length
    ]
    for payload in bad_payloads:
        ana.sio.emit("y", (PUBLISHED, payload), namespace="/collab")
    # oversized (default limit 8 MiB)
    ana.sio.emit("y", (PUBLISHED, protocol.sync_update(b"\x00" * (9 * 1024 * 1024))), namespace="/collab")
    ana.sio.emit("y", (12, b"\x00\x00\x00"), namespace="/collab")  # wrong slug type

    assert ana.wait_for(lambda c: len(c.errors) >= len(bad_payloads) + 2, timeout=20), ana.errors
    codes = {e["code"] for e in ana.errors}
    assert {"malformed-update", "truncated", "wrong-type", "too-large"} <= codes, codes
    assert all(e.get("message") for e in ana.errors)

    # The server still serves: the bystander's edit reaches a new reader; nothing bad landed.
    bystander.edit(lambda body: _first_p_text(bystander, 1).insert(0, "Hoy: "))
    reader = client_factory("vera")
    assert reader.wait_for(lambda c: "Hoy: Toda persona" in c.xml())
    assert "XLos animales" not in reader.xml()
    assert reader.xml().replace("Hoy: ", "") == before.replace("Hoy: ", "")


def test_presence_is_relayed_and_cleared_when_a_client_leaves(server, client_factory):
    from crdt.protocol import AwarenessEntry, decode_awareness, encode_awareness

    ana, bruno = client_factory("ana"), client_factory("bruno")
    state = {"user": {"name": "La presidenta", "color": "#000000"}, "unit": {"guid": "x", "label": "Artículo 1"}}
    ana.send(encode_awareness([AwarenessEntry(4242, 1, state)]))
    # Relayed with the name and colour of Ana's account (the server vouches for them).
    assert bruno.wait_for(lambda c: any(
        e.client_id == 4242 and e.state and e.state["unit"] == state["unit"] and e.state["user"]["name"] == "Ana"
        and e.state["user"]["color"] != "#000000" for data in c.awareness for e in decode_awareness(data)))
    # Bruno cannot speak for Ana's cursor.
    bruno.send(encode_awareness([AwarenessEntry(4242, 5, {"user": {"name": "Impostor"}})]))
    ana.close()
    assert bruno.wait_for(lambda c: any(
        e.client_id == 4242 and e.state is None for data in c.awareness for e in decode_awareness(data)))
    assert not any(e.state and e.state.get("user", {}).get("name") == "Impostor"
                   for data in bruno.awareness for e in decode_awareness(data))
