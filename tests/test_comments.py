"""Comments of the drafting side: who may read and write them, bad input refused with nothing
stored, replies, resolve and reopen, a comment that follows its unit (by GUID) through edits,
renumbering and a restart, anchors made by the real Yjs library, and the live `comments` event
that reaches other commenters (and not readers)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import requests
from conftest import DRAFT, PUBLISHED, ROOT, require
from test_links import ANIMALS, MOBILITY, NEW_ARTICLE, WATER_SUB, Api, _article, _set_text, _title, _wait

from editor.comments.anchors import AnchorError, decode_position, state_vector

YJS = ROOT / "tests" / "yjs_client" / "node_modules" / "yjs" / "src" / "index.js"
WATER_TEXT = "Toda persona tiene derecho al agua."


@pytest.fixture
def live(server):
    return server


def _comments(api: Api, query: str = "") -> dict:
    response = api.get("/comments" + query)
    assert response.status_code == 200, response.text
    return response.json()


def _create(api: Api, payload: dict) -> dict:
    response = api.post("/comments", payload)
    assert response.status_code == 201, response.text
    return response.json()["comment"]


def _node_anchor(state: bytes, words: str, tmp_path: Path) -> dict:
    """A range over `words` made by the real Yjs library, as the editor makes it: the start sticks
    to the first character, the end to the last; plus each position's own JSON form."""
    require(shutil.which("node") is not None and YJS.exists(), "needs node and tests/yjs_client/node_modules")
    update = tmp_path / "doc.bin"
    update.write_bytes(state)
    script = f"""
import * as Y from {json.dumps(YJS.as_uri())}
import fs from 'fs'
const doc = new Y.Doc()
Y.applyUpdate(doc, fs.readFileSync({json.dumps(str(update))}))
const words = {json.dumps(words)}
const texts = []
const walk = (node) => {{
  if (node instanceof Y.XmlText) texts.push(node)
  else node.toArray().forEach(walk)
}}
walk(doc.getXmlFragment('body'))
const text = texts.find(t => t.toString().includes(words))
const at = text.toString().indexOf(words)
const out = (rel) => ({{ b64: Buffer.from(Y.encodeRelativePosition(rel)).toString('base64'), json: Y.relativePositionToJSON(rel) }})
console.log(JSON.stringify({{
  start: out(Y.createRelativePositionFromTypeIndex(text, at, 0)),
  end: out(Y.createRelativePositionFromTypeIndex(text, at + words.length, -1)),
  typeEnd: out(Y.createRelativePositionFromTypeIndex(text, text.length, 0)),
  root: out(Y.createRelativePositionFromTypeIndex(doc.getXmlFragment('body'), 0, -1))
}}))
"""
    result = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- who may ------------------------------------------------------------------------------------


def test_only_the_committee_legal_advisers_and_administrators_read_and_write_comments(live):
    made = {}
    for who in ("ana", "lucia", "admin"):
        api = Api(live, who)
        made[who] = _create(api, {"unit": ANIMALS, "body": f"Nota de {who}"})
        assert made[who]["author"] == who.capitalize()
        assert made[who]["mine"] is True and made[who]["unit_label"] == "Artículo 3"
    listed = _comments(Api(live, "lucia"))
    assert [c["body"] for c in listed["comments"]] == ["Nota de ana", "Nota de lucia", "Nota de admin"]
    assert listed["open"] == 3 and [c["mine"] for c in listed["comments"]] == [False, True, False]

    # A reader and an assembly member see the document, not the drafting side's comments.
    for who in ("vera", "asa"):
        api = Api(live, who)
        for response in (api.get("/comments"), api.get(f"/comments/{made['ana']['id']}"),
                         api.post("/comments", {"unit": ANIMALS, "body": "Hola"}),
                         api.post(f"/comments/{made['ana']['id']}/replies", {"body": "Hola"}),
                         api.post(f"/comments/{made['ana']['id']}/resolve")):
            assert response.status_code == 403, (who, response.text)
            assert "legal advisers" in response.json()["error"]
            assert "Nota de" not in response.text
    # Nobody signed in: asked to sign in; a draft stays invisible altogether.
    anonymous = Api(live, None)
    response = anonymous.get("/comments")
    assert response.status_code == 401 and "Sign in" in response.json()["error"]
    assert anonymous.post("/comments", {"unit": ANIMALS, "body": "Hola"}).status_code == 401
    draft = Api(live, None, slug=DRAFT)
    assert draft.get("/comments").status_code == 404
    assert Api(live, "ana", slug=DRAFT).get("/comments").status_code == 200

    assert _comments(Api(live, "admin"))["open"] == 3  # nothing was added by those refused

    # The editor page carries the panel only for those who may comment.
    for who, shown in (("ana", True), ("lucia", True), ("vera", False), ("asa", False), (None, False)):
        page = (live.login(who) if who else requests.Session()).get(f"{live.url}/d/{PUBLISHED}/edit", timeout=10).text
        assert ('id="comments"' in page) is shown, who
        assert ('data-can-comment="true"' in page) is shown, who


# --- bad input ----------------------------------------------------------------------------------


def test_bad_input_gets_a_clear_error_and_stores_nothing(live, client_factory):
    api = Api(live, "ana")
    good = _create(api, {"unit": MOBILITY, "body": "Falta hablar de transporte público."})
    ana = client_factory("ana")
    known_client = max(state_vector(ana.doc.get_state()).items(), key=lambda kv: kv[1])[0]

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    def varuint(n: int) -> bytes:
        out = bytearray()
        while True:
            if n < 0x80:
                out.append(n)
                return bytes(out)
            out.append((n & 0x7F) | 0x80)
            n >>= 7

    a_known_item = b64(b"\x00" + varuint(known_client) + varuint(0) + b"\x00")
    an_unknown_item = b64(b"\x00" + varuint(123456789) + varuint(0) + b"\x00")
    long_ago = b64(b"\x00" + varuint(known_client) + varuint(10**9) + b"\x00")

    def anchored(**anchor) -> dict:
        return {"unit": WATER_SUB, "body": "Comentario", "anchor": {"start": a_known_item, "end": a_known_item,
                                                                   "quote": "derecho al agua", **anchor}}

    cases = [
        ("not JSON", dict(data="unit=x", headers={"Content-Type": "application/x-www-form-urlencoded"}), "JSON object"),
        ("no unit", {"body": "Hola"}, "'unit' is missing"),
        ("unknown unit", {"unit": "art_99", "body": "Hola"}, "no unit 'art_99'"),
        ("no body", {"unit": MOBILITY}, "'body' is missing"),
        ("body not text", {"unit": MOBILITY, "body": 5}, "'body' must be a string"),
        ("empty body", {"unit": MOBILITY, "body": "   \n "}, "comment is empty"),
        ("long body", {"unit": MOBILITY, "body": "a" * 5001}, "longer than 5,000 characters (it has 5,001)"),
        ("control characters", {"unit": MOBILITY, "body": "Hola\x00"}, "control characters"),
        ("anchor not an object", {"unit": MOBILITY, "body": "Hola", "anchor": "agua"}, "anchor must be an object"),
        ("no quote", {"unit": WATER_SUB, "body": "Hola", "anchor": {"start": a_known_item, "end": a_known_item}},
         "'quote' is missing"),
        ("long quote", anchored(quote="agua " * 201), "quoted text is longer than 1,000 characters"),
        ("no start", anchored(start=None), "anchor's 'start' is missing"),
        ("start not base64", anchored(start="not base64!"), "'start' is not a Yjs relative position: it is not base64"),
        ("truncated end", anchored(end=b64(b"\x00\x85")), "'end' is not a Yjs relative position: it ends too early"),
        ("bad tag", anchored(end=b64(b"\x07\x01\x01")), "it starts with 7"),
        ("another root", anchored(start=b64(b"\x01\x04meta\x00")), "relative to 'meta'"),
        ("trailing bytes", anchored(start=b64(b"\x00\x01\x01\x00\x00\x00")), "bytes after its end"),
        ("too long", anchored(start="A" * 300), "longer than 200 characters"),
        ("unknown item", anchored(start=an_unknown_item), "points at text this document does not have"),
        ("future item", anchored(end=long_ago), "'end' points at text this document does not have"),
        ("quote elsewhere", anchored(quote="seres sintientes"), "quoted text is not in Artículo 1 A. 1."),
    ]
    for name, payload, message in cases:
        if "data" in payload:
            response = api.session.post(api.url("/comments"), timeout=15,
                                        headers={"X-CSRFToken": api.token, **payload["headers"]}, data=payload["data"])
        else:
            response = api.post("/comments", payload)
        assert response.status_code == 400, (name, response.status_code, response.text)
        assert message in response.json()["error"], (name, response.json())

    # Without the CSRF token nothing is accepted either.
    response = api.send("POST", "/comments", {"unit": MOBILITY, "body": "Hola"}, token=False)
    assert response.status_code == 400 and "CSRF" in response.json()["error"]

    # Replies, resolving and reopening refuse what makes no sense.
    reply = api.post(f"/comments/{good['id']}/replies", {"body": "De acuerdo."}).json()["reply"]
    for path, payload, status, message in [
        (f"/comments/{good['id']}/replies", {"body": ""}, 400, "reply is empty"),
        (f"/comments/{good['id']}/replies", {"body": "x" * 5001}, 400, "reply is longer than 5,000"),
        (f"/comments/{reply['id']}/replies", {"body": "¿Y esto?"}, 400, f"reply to its thread, comment {good['id']}"),
        (f"/comments/{reply['id']}/resolve", None, 400, "is a reply"),
        ("/comments/999999/replies", {"body": "Hola"}, 404, "no comment 999999"),
        (f"/comments/{good['id']}/reopen", None, 409, "is open"),
    ]:
        response = api.post(path, payload)
        assert response.status_code == status, (path, response.text)
        assert message in response.json()["error"], (path, response.json())
    assert api.post(f"/comments/{good['id']}/resolve").status_code == 200
    twice = api.post(f"/comments/{good['id']}/resolve")
    assert twice.status_code == 409 and "already resolved" in twice.json()["error"]
    for query, message in (("?include=everything", "Unknown include 'everything'"), ("?unit=art_42", "no unit 'art_42'")):
        response = api.get("/comments" + query)
        assert response.status_code == 400 and message in response.json()["error"]

    # Only what was valid is stored.
    everything = _comments(api, "?include=resolved")
    assert [(c["body"], [r["body"] for r in c["replies"]]) for c in everything["comments"]] == [
        ("Falta hablar de transporte público.", ["De acuerdo."])]
    assert everything["open"] == 0 and everything["resolved"] == 1


# --- threads ------------------------------------------------------------------------------------


def test_replies_resolve_reopen_and_delete(live):
    ana, lucia, bruno = Api(live, "ana"), Api(live, "lucia"), Api(live, "bruno")
    thread = _create(ana, {"unit": "art_1", "body": "¿«Toda persona» incluye a las personas morales?"})
    assert thread["unit"] == "00000000-0000-4000-8000-000000000001" and thread["status"] == "open"
    other = _create(ana, {"unit": ANIMALS, "body": "Revisar la definición."})

    first = lucia.post(f"/comments/{thread['id']}/replies", {"body": "Solo a las personas físicas."})
    assert first.status_code == 201
    assert first.json()["reply"]["author"] == "Lucia" and first.json()["comment"]["id"] == thread["id"]
    ana.post(f"/comments/{thread['id']}/replies", {"body": "Entonces lo aclaramos en el texto."})
    [listed] = _comments(bruno, "?unit=art_1")["comments"]
    assert [(r["author"], r["body"]) for r in listed["replies"]] == [
        ("Lucia", "Solo a las personas físicas."), ("Ana", "Entonces lo aclaramos en el texto.")]
    assert _comments(bruno)["open"] == 2

    # Lucia resolves the thread: it leaves the open list, stays with include=resolved.
    resolved = lucia.post(f"/comments/{thread['id']}/resolve")
    assert resolved.status_code == 200
    assert resolved.json()["comment"]["status"] == "resolved" and resolved.json()["comment"]["resolved_by"] == "Lucia"
    listing = _comments(bruno)
    assert [c["id"] for c in listing["comments"]] == [other["id"]] and listing["open"] == 1 and listing["resolved"] == 1
    [kept] = _comments(bruno, "?unit=art_1&include=resolved")["comments"]
    assert kept["status"] == "resolved" and len(kept["replies"]) == 2 and kept["resolved_at"]

    # Bruno reopens it: open again, and who reopened it is recorded.
    reopened = bruno.post(f"/comments/{thread['id']}/reopen").json()["comment"]
    assert reopened["status"] == "open" and reopened["reopened_by"] == "Bruno" and reopened["resolved_by"] is None
    assert _comments(bruno)["open"] == 2
    assert bruno.get(f"/comments/{listed['replies'][0]['id']}").json()["comment"]["id"] == thread["id"]

    # Deleting: one's own reply yes; someone else's comment no; a thread others replied to no.
    own_reply = listed["replies"][1]["id"]
    assert lucia.send("DELETE", f"/comments/{own_reply}").status_code == 403
    assert ana.send("DELETE", f"/comments/{own_reply}").status_code == 200
    refused = ana.send("DELETE", f"/comments/{thread['id']}")
    assert refused.status_code == 409 and "resolve it instead" in refused.json()["error"]
    assert ana.send("DELETE", f"/comments/{other['id']}").status_code == 200
    [left] = _comments(bruno, "?include=resolved")["comments"]
    assert left["id"] == thread["id"] and [r["author"] for r in left["replies"]] == ["Lucia"]


# --- comments follow their unit -----------------------------------------------------------------


def test_a_comment_follows_its_unit_through_edits_renumbering_and_a_restart(live, client_factory, tmp_path):
    api = Api(live, "ana")
    ana = client_factory("ana")
    anchor = _node_anchor(ana.state(), "derecho a moverse", tmp_path)
    comment = _create(api, {"unit": MOBILITY, "body": "¿Moverse cómo?", "anchor": {
        "start": anchor["start"]["b64"], "end": anchor["end"]["b64"], "quote": "derecho a moverse"}})
    assert comment["anchor"]["quote"] == "derecho a moverse" and comment["anchor"]["quote_present"] is True
    assert comment["unit_label"] == "Artículo 2" and comment["unit_eId"] == "art_2"

    # 1. Its text is edited around the quoted words: still there, still on the unit.
    _set_text(ana, MOBILITY, "Toda persona tiene derecho a moverse libremente por la ciudad.")
    [same] = _wait(lambda: [c for c in _comments(api, f"?unit={MOBILITY}")["comments"]
                            if c["id"] == comment["id"] and c["anchor"]["quote_present"]], what="the edit")

    # 2. An article is inserted before it: renumbered, found by its new eId, the comment follows.
    ana.edit(lambda body: _title(ana).children.insert(1, _article(NEW_ARTICLE, "Áreas verdes", "Parques para todos.")))
    moved = _wait(lambda: [c for c in _comments(api, "?unit=art_3")["comments"] if c["unit_label"] == "Artículo 3"],
                  what="the renumbering")
    assert [c["id"] for c in moved] == [comment["id"]] and moved[0]["unit"] == MOBILITY
    assert _comments(api, f"?unit={NEW_ARTICLE}")["comments"] == []

    # 3. The quoted words are rewritten: the comment stays on its unit, its quote is no longer there.
    _set_text(ana, MOBILITY, "Toda persona puede desplazarse libremente por la ciudad.")
    gone = _wait(lambda: [c for c in _comments(api, f"?unit={MOBILITY}")["comments"]
                          if not c["anchor"]["quote_present"]], what="the rewrite")
    assert gone[0]["body"] == "¿Moverse cómo?" and gone[0]["anchor"]["start"] == anchor["start"]["b64"]

    # 4. A restart of the server.
    ana.close()
    live.stop()
    live.start()
    api = Api(live, "ana")
    [after] = _comments(api, "?unit=art_3")["comments"]
    assert after["id"] == comment["id"] and after["unit"] == MOBILITY and after["unit_label"] == "Artículo 3"


def test_anchors_made_by_yjs_are_read_as_yjs_wrote_them(live, client_factory, tmp_path):
    ana = client_factory("ana")
    made = _node_anchor(ana.state(), "derecho al agua", tmp_path)
    for key in ("start", "end", "typeEnd", "root"):
        position = decode_position(made[key]["b64"])
        expected = made[key]["json"]
        assert position.assoc == expected.get("assoc", 0), key
        if expected.get("item"):
            assert (position.kind, position.client, position.clock) == ("item", expected["item"]["client"], expected["item"]["clock"])
        elif expected.get("tname"):
            assert (position.kind, position.root) == ("root", expected["tname"])
        else:
            assert (position.kind, position.client, position.clock) == ("type-end", expected["type"]["client"], expected["type"]["clock"])
    assert decode_position(made["end"]["b64"]).assoc == -1
    # The server accepts the real thing, and keeps it verbatim.
    comment = _create(Api(live, "lucia"), {"unit": WATER_SUB, "body": "Precisar «agua potable».", "anchor": {
        "start": made["start"]["b64"], "end": made["end"]["b64"], "quote": "derecho  al\nagua"}})
    assert comment["anchor"]["start"] == made["start"]["b64"] and comment["anchor"]["end"] == made["end"]["b64"]
    assert comment["anchor"]["quote"] == "derecho  al\nagua" and comment["anchor"]["quote_present"] is True
    with pytest.raises(AnchorError):
        decode_position("")


# --- live ---------------------------------------------------------------------------------------


def test_changes_reach_the_other_commenters_live_and_not_the_readers(live, client_factory):
    heard: dict[str, list[dict]] = {"lucia": [], "vera": []}
    arrived = threading.Event()
    for who in heard:
        client = client_factory(who)

        def on_comments(data, who=who):
            heard[who].append(data)
            if who == "lucia":
                arrived.set()

        client.sio.on("comments", on_comments, namespace="/collab")

    api = Api(live, "ana")
    comment = _create(api, {"unit": ANIMALS, "body": "¿Y los animales de compañía?"})
    assert arrived.wait(10), "no comments event reached the other commenter"
    assert heard["lucia"] == [{"document": PUBLISHED, "unit": ANIMALS}]
    # Committed before the event: a read right away sees it.
    assert [c["body"] for c in _comments(Api(live, "lucia"))["comments"]] == ["¿Y los animales de compañía?"]

    for action in (lambda: api.post(f"/comments/{comment['id']}/replies", {"body": "También."}),
                   lambda: api.post(f"/comments/{comment['id']}/resolve"),
                   lambda: api.post(f"/comments/{comment['id']}/reopen")):
        arrived.clear()
        assert action().status_code in (200, 201)
        assert arrived.wait(10)
    assert len(heard["lucia"]) == 4 and all(h == {"document": PUBLISHED, "unit": ANIMALS} for h in heard["lucia"])
    # The reader in the same document was told nothing.
    assert heard["vera"] == []


def test_the_comment_api_is_described_in_the_openapi_document(live):
    paths = requests.get(f"{live.url}/api/v1/openapi.json", timeout=10).json()["paths"]
    assert set(paths["/api/v1/documents/{slug}/comments"]) == {"get", "post"}
    assert set(paths["/api/v1/documents/{slug}/comments/{comment_id}"]) == {"get", "delete"}
    for action in ("replies", "resolve", "reopen"):
        operation = paths[f"/api/v1/documents/{{slug}}/comments/{{comment_id}}/{action}"]["post"]
        assert "403" in operation["responses"] and "`comments`" in operation["description"]
    anchor = paths["/api/v1/documents/{slug}/comments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert anchor["properties"]["anchor"]["properties"]["quote"]["maxLength"] == 1000
    assert anchor["properties"]["body"]["maxLength"] == 5000
