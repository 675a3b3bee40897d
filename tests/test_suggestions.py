"""Suggestion mode (issue 22): suggested insertions, deletions and new units in the live text,
decided on the server, and roles a stage lets only suggest (editor.suggestions, crdt.room).

The suggestions here are written the way the web editor writes them (web/src/suggest.js):
formatting attributes `ins` / `del` on text, attributes `suggestion`… on a new unit."""

from __future__ import annotations

import re
import sqlite3

import requests
from conftest import PUBLISHED
from lxml import etree
from pycrdt import Map, XmlElement, XmlText
from test_audit import _entries, _user_id
from test_unit_history import _api, _element
from test_yjs_interop import _wait, yjs_factory  # noqa: F401 - the real Yjs client's fixture

from crdt.xmltree import fragment_to_etree
from editor.stages.current import PRESETS

WATER = "00000000-0000-4000-8000-000000000003"  # Artículo 1's subparagraph: "Toda persona tiene derecho al agua."
ARTICLE_1 = "00000000-0000-4000-8000-000000000001"
ANIMALS = "00000000-0000-4000-8000-000000000005"  # Artículo 3
NEW_ARTICLE = "00000000-0000-4000-8000-0000000000cc"


def _text(body, guid: str) -> XmlText:
    unit = _element(body, guid)
    p = next(c for c in unit.children if getattr(c, "tag", None) == "p")
    return p.children[0]


def _s(text: XmlText) -> str:
    """The characters of a text (str() of a formatted XmlText writes its formatting as tags)."""
    return "".join(t for t, _a in text.diff() if isinstance(t, str))


def _plain(text: XmlText) -> str | None:
    """The text if no range of it is formatted (a suggestion decided leaves none), else None."""
    delta = text.diff()
    return None if any(attributes for _t, attributes in delta) else "".join(t for t, _a in delta)


def _mark(sid: str, account: int, name: str) -> dict:
    return {"id": sid, "by": str(account), "name": name, "at": "2026-12-07T10:00:00Z"}


def _b(text: str, before: str) -> int:
    """pycrdt's offset (UTF-8 bytes) of `before` in `text`."""
    return len(text[: text.index(before)].encode("utf-8"))


def _suggest_in_water(client, account: int) -> None:
    """Ana's two suggestions in Artículo 1: delete "Toda persona" → insert " potable" after "agua"."""
    def change(body):
        text = _text(body, WATER)
        current = _s(text)
        text.format(0, len("Toda persona".encode()), {"del": _mark("s-del", account, "Ana")})
        text.insert(_b(current, "."), " potable", {"ins": _mark("s-ins", account, "Ana")})
    client.edit(change)


def _decide(server, session, decision: str, **which) -> requests.Response:
    return session.post(f"{server.url}/api/v1/documents/{PUBLISHED}/suggestions/decide",
                        json={"decision": decision, **which}, timeout=30)


def _public_text(server) -> str:
    return requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text


def test_suggestions_are_decided_on_the_server_attributed_to_their_author_and_accepted_by_the_decider(
        server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    ana_id, bruno_id = _user_id(server, "ana"), _user_id(server, "bruno")
    _suggest_in_water(ana, ana_id)
    # Bruno's replica gets both, with their author.
    assert bruno.wait_for(lambda c: "potable" in _s(_text(c.body, WATER)))
    runs = {t: a for t, a in _text(bruno.body, WATER).diff()}
    assert runs["Toda persona"]["del"]["by"] == str(ana_id) and runs[" potable"]["ins"]["name"] == "Ana"
    # Pending suggestions are not law: the public text has no insertion and keeps the deletion.
    _wait(lambda: "Toda persona" in _public_text(server))
    assert "potable" not in _public_text(server)

    committee = _api(server, "bruno")
    listed = committee.get(f"{server.url}/api/v1/documents/{PUBLISHED}/suggestions", timeout=10).json()["suggestions"]
    assert {(s["id"], s["kind"], s["text"], s["unit"], s["author"]) for s in listed} == {
        ("s-del", "delete", "Toda persona", WATER, ana_id), ("s-ins", "insert", " potable", WATER, ana_id)}
    # Readers do not see the drafting side's suggestions; a viewer may not decide them.
    assert requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/suggestions", timeout=10).status_code == 401
    viewer = _api(server, "vera")
    assert _decide(server, viewer, "accept", suggestion="s-ins").status_code == 403

    accepted = _decide(server, committee, "accept", suggestion="s-ins")
    assert accepted.status_code == 200, accepted.text
    rejected = _decide(server, committee, "reject", suggestion="s-del")
    assert rejected.status_code == 200, rejected.text
    again = _decide(server, committee, "accept", suggestion="s-del")
    assert again.status_code == 404

    # The text: the insertion is ordinary text, the deletion left no trace; every replica agrees.
    expected = "Toda persona tiene derecho al agua potable."
    for client in (ana, bruno):
        assert client.wait_for(lambda c: _plain(_text(c.body, WATER)) == expected), _text(client.body, WATER).diff()
    assert "Toda persona tiene derecho al agua potable." in _public_text(server)

    # The record keeps both decisions.
    with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
        rows = db.execute("SELECT suggestion, kind, text, author_id, decided_by_id, decision, guid "
                          "FROM suggestion_decision ORDER BY suggestion").fetchall()
    assert rows == [("s-del", "delete", "Toda persona", ana_id, bruno_id, "rejected", WATER),
                    ("s-ins", "insert", " potable", ana_id, bruno_id, "accepted", WATER)]

    # The audit: each decision on its own, by Bruno, naming Ana; the change itself as a text.update.
    done = {e["target"]: e for e in _entries(server.instance, "suggestion.accepted", PUBLISHED)}
    assert done["s-ins"]["actor"] == f"user:{bruno_id}" and done["s-ins"]["detail"]["author"] == ana_id
    assert done["s-ins"]["detail"]["text"] == " potable"
    refused = {e["target"]: e for e in _entries(server.instance, "suggestion.rejected", PUBLISHED)}
    assert refused["s-del"]["actor"] == f"user:{bruno_id}" and "s-ins" not in refused
    updates = _entries(server.instance, "text.update", PUBLISHED)
    assert any(e["actor"] == f"suggestion:{bruno_id}" for e in updates)

    # Who changed the unit: Ana, through her accepted suggestion, and nobody else (making the
    # suggestions, and rejecting one, changed nothing of the accepted text). A later edit of
    # another unit by Bruno is recorded after everything before it.
    def typed(body):
        text = _text(body, ANIMALS)
        text.insert(0, "Hoy ")
    bruno.edit(typed)

    def edits(guid: str):
        with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
            return db.execute("SELECT user_id, accepted_by_id FROM unit_edit WHERE guid = ? ORDER BY id",
                              (guid,)).fetchall()
    assert _wait(lambda: edits(ANIMALS) == [(bruno_id, None)]), edits(ANIMALS)
    assert edits(WATER) == [(ana_id, bruno_id)]
    made = [e for e in updates if e["actor"] == f"user:{ana_id}"]
    assert made and all(WATER not in e["detail"]["units"] for e in made)
    assert any(WATER in e["detail"].get("suggested_in", ()) for e in made)

    # The unit's history: the live wording has the accepted change only, Ana's, accepted by Bruno.
    page = committee.get(f"{server.url}/d/{PUBLISHED}/units/{WATER}/history", timeout=10).text
    assert "potable" in page
    accepted_row = re.search(r'data-accepted-by="([^"]*)"[^>]*>(.*?)</span>', page, re.S)
    assert accepted_row, page
    assert "bruno" in accepted_row.group(1).lower() and "ana" in accepted_row.group(2).lower()


def test_all_of_one_authors_suggestions_are_decided_at_once(server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    ana_id = _user_id(server, "ana")
    _suggest_in_water(ana, ana_id)
    assert bruno.wait_for(lambda c: "potable" in _s(_text(c.body, WATER)))
    committee = _api(server, "bruno")
    answer = _decide(server, committee, "reject", author=ana_id)
    assert answer.status_code == 200 and sorted(answer.json()["suggestions"]) == ["s-del", "s-ins"]
    assert bruno.wait_for(lambda c: _plain(_text(c.body, WATER)) == "Toda persona tiene derecho al agua.")


def test_a_suggestion_whose_parts_name_two_authors_is_not_decided_as_one(server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    ana_id, bruno_id = _user_id(server, "ana"), _user_id(server, "bruno")

    def both(body):
        text = _text(body, WATER)
        text.insert(_b(_s(text), "."), " potable", {"ins": _mark("s-shared", ana_id, "Ana")})
        text.format(0, len(b"Toda"), {"del": _mark("s-shared", bruno_id, "Bruno")})
    ana.edit(both)
    assert bruno.wait_for(lambda c: "potable" in _s(_text(c.body, WATER)))
    committee = _api(server, "bruno")
    refused = _decide(server, committee, "accept", suggestion="s-shared")
    assert refused.status_code == 409, refused.text
    assert "potable" not in _public_text(server)
    # One author at a time, it can be decided.
    assert _decide(server, committee, "accept", author=ana_id).status_code == 200
    assert bruno.wait_for(lambda c: _plain(_text(c.body, WATER)) is None and "potable" in _s(_text(c.body, WATER)))
    assert _wait(lambda: "agua potable" in _public_text(server))


def test_suggestions_survive_concurrent_edits_around_them(server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    ana_id = _user_id(server, "ana")

    # Both edit the same sentence at once, without seeing the other's change first.
    def ana_suggests(body):
        text = _text(body, WATER)
        text.insert(_b(_s(text), "derecho"), "siempre ", {"ins": _mark("s-c", ana_id, "Ana")})

    def bruno_types(body):
        text = _text(body, WATER)
        text.insert(_b(_s(text), "."), " limpia")
        text.insert(0, "Hoy: ")

    with ana.lock, bruno.lock:  # neither applies the other's update in between
        ana.edit(ana_suggests)
        bruno.edit(bruno_types)
    want = "Hoy: Toda persona tiene siempre derecho al agua limpia."
    for client in (ana, bruno):
        assert client.wait_for(lambda c: _s(_text(c.body, WATER)) == want), _s(_text(client.body, WATER))
    runs = _text(bruno.body, WATER).diff()
    assert ("siempre ", {"ins": _mark("s-c", ana_id, "Ana")}) in runs
    committee = _api(server, "bruno")
    assert _decide(server, committee, "accept", suggestion="s-c").status_code == 200
    assert ana.wait_for(lambda c: _plain(_text(c.body, WATER)) == want)


def _new_article(account: int) -> XmlElement:
    return XmlElement("article", {"guid": NEW_ARTICLE, "suggestion": f"s{account}-unit", "suggestedBy": str(account),
                                  "suggestedName": "Ana", "suggestedAt": "2026-12-07T10:00:00Z"},
                      [XmlElement("heading", {}, [XmlText("Aire")]),
                       XmlElement("p", {}, [XmlText("Toda persona tiene derecho a respirar aire limpio.")])])


def _suggest_article(client, account: int) -> None:
    def change(body):
        title = body.children[0]
        index = next(i for i, c in enumerate(title.children) if isinstance(c, XmlElement)
                     and c.attributes.get("guid") == ANIMALS)
        title.children.insert(index, _new_article(account))
    client.edit(change)


def test_a_suggested_article_is_not_law_until_accepted_and_rejecting_removes_it(server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    ana_id = _user_id(server, "ana")
    _suggest_article(ana, ana_id)
    assert bruno.wait_for(lambda c: _element(c.body, NEW_ARTICLE) is not None)
    # Not in the accepted text: the public text, its numbering and the export ignore it.
    unit = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{NEW_ARTICLE}", timeout=10)
    assert unit.status_code == 404
    assert "respirar" not in _public_text(server)
    akn = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn", timeout=30)
    assert akn.status_code == 200 and "respirar" not in akn.text
    committee = _api(server, "bruno")
    listed = committee.get(f"{server.url}/api/v1/documents/{PUBLISHED}/suggestions", timeout=10).json()["suggestions"]
    assert [(s["kind"], s["unit"], s["author"]) for s in listed] == [("unit", NEW_ARTICLE, ana_id)]
    # "Vincular referencias" works while it is pending (it numbers the text as the public reads it).
    linked = committee.post(f"{server.url}/api/v1/documents/{PUBLISHED}/references", json={}, timeout=30)
    assert linked.status_code == 200, linked.text

    assert _decide(server, committee, "accept", suggestion=f"s{ana_id}-unit").status_code == 200
    assert bruno.wait_for(lambda c: "suggestion" not in dict(_element(c.body, NEW_ARTICLE).attributes))
    assert "respirar" in _public_text(server)
    # Accepted, it is numbered as an ordinary article: Artículo 3, before "Animales" (now 4).
    unit = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{NEW_ARTICLE}", timeout=10)
    assert unit.status_code == 200 and unit.json()["label"].endswith("3"), unit.text

    # A second suggested article, rejected: gone from every replica, kept in the record.
    def again(body):
        title = body.children[0]
        title.children.append(XmlElement("article", {"guid": "00000000-0000-4000-8000-0000000000dd",
                                                     "suggestion": "s-unit-2", "suggestedBy": str(ana_id),
                                                     "suggestedName": "Ana"},
                                         [XmlElement("heading", {}, [XmlText("Ruido")])]))
    ana.edit(again)
    assert bruno.wait_for(lambda c: "Ruido" in c.xml())
    assert _decide(server, committee, "reject", suggestion="s-unit-2").status_code == 200
    assert ana.wait_for(lambda c: "Ruido" not in c.xml())
    with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
        rows = db.execute("SELECT suggestion, kind, decision FROM suggestion_decision ORDER BY id").fetchall()
    assert rows == [(f"s{ana_id}-unit", "unit", "accepted"), ("s-unit-2", "unit", "rejected")]


def _units_of_title(body) -> list[str]:
    return [str(c.attributes.get("guid")) for c in body.children[0].children
            if isinstance(c, XmlElement) and c.tag == "article"]


def _guids(body) -> list[str]:
    found: list[str] = []

    def walk(node):
        for child in node.children:
            if isinstance(child, XmlElement):
                if child.attributes.get("guid"):
                    found.append(str(child.attributes.get("guid")))
                walk(child)
    walk(body)
    return found


PLACEHOLDER = "00000000-0000-4000-8000-0000000000ee"


def test_removing_a_whole_article_is_a_suggestion_until_accepted(server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    ana_id, bruno_id = _user_id(server, "ana"), _user_id(server, "bruno")

    def mark(body):
        unit = _element(body, ANIMALS)
        unit.attributes["removal"] = "s-remove"
        unit.attributes["suggestedBy"] = str(ana_id)
        unit.attributes["suggestedName"] = "Ana"
        unit.attributes["suggestedAt"] = "2026-12-07T10:00:00Z"
    ana.edit(mark)
    assert bruno.wait_for(lambda c: _element(c.body, ANIMALS).attributes.get("removal") == "s-remove")
    # Still law: the public text and the export keep it, without the suggestion's attributes.
    assert "sintientes" in _public_text(server)
    akn = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn", timeout=30).text
    assert "sintientes" in akn and "s-remove" not in akn and "suggestedBy" not in akn
    committee = _api(server, "bruno")
    listed = committee.get(f"{server.url}/api/v1/documents/{PUBLISHED}/suggestions", timeout=10).json()["suggestions"]
    assert [(s["id"], s["kind"], s["unit"], s["author"]) for s in listed] == [("s-remove", "remove", ANIMALS, ana_id)]
    assert "sintientes" in listed[0]["text"]

    # Rejected: the article stays, unmarked, everywhere.
    assert _decide(server, committee, "reject", suggestion="s-remove").status_code == 200
    assert ana.wait_for(lambda c: "removal" not in dict(_element(c.body, ANIMALS).attributes)
                        and "suggestedBy" not in dict(_element(c.body, ANIMALS).attributes))
    # Suggested again, and accepted: gone from every replica and from the public text.
    ana.edit(lambda body: (mark(body), _element(body, ANIMALS).attributes.__setitem__("removal", "s-remove-2")))
    assert bruno.wait_for(lambda c: _element(c.body, ANIMALS).attributes.get("removal") == "s-remove-2")
    assert _decide(server, committee, "accept", suggestion="s-remove-2").status_code == 200
    for client in (ana, bruno):
        assert client.wait_for(lambda c: _element(c.body, ANIMALS) is None)
    assert _wait(lambda: "sintientes" not in _public_text(server))
    with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
        rows = db.execute("SELECT suggestion, kind, guid, author_id, decided_by_id, decision "
                          "FROM suggestion_decision ORDER BY id").fetchall()
    assert rows == [("s-remove", "remove", ANIMALS, ana_id, bruno_id, "rejected"),
                    ("s-remove-2", "remove", ANIMALS, ana_id, bruno_id, "accepted")]
    done = {e["target"]: e for e in _entries(server.instance, "suggestion.accepted", PUBLISHED)}
    assert done["s-remove-2"]["detail"]["kinds"] == ["remove"] and done["s-remove-2"]["detail"]["units"] == [ANIMALS]


def _suggest_move(client, account: int, sid: str) -> None:
    """Ana's move of Artículo 1 after Artículo 3, as the editor writes it: the article marked where
    it is, and a placeholder (a suggested unit moved from it, with GUIDs of its own) where it goes."""
    def change(body):
        original = _element(body, ARTICLE_1)
        who = {"suggestedBy": str(account), "suggestedName": "Ana", "suggestedAt": "2026-12-07T10:00:00Z"}
        original.attributes["removal"] = sid
        for key, value in who.items():
            original.attributes[key] = value
        title = body.children[0]
        title.children.append(XmlElement("article", {"guid": PLACEHOLDER, "suggestion": sid, "movedFrom": ARTICLE_1,
                                                     **who}, [XmlElement("heading", {}, [XmlText("Agua")])]))
    client.edit(change)


def test_moving_an_article_is_a_suggestion_and_accepting_it_moves_the_article_as_it_is_then(server, client_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    ana_id, bruno_id = _user_id(server, "ana"), _user_id(server, "bruno")
    order = _units_of_title(bruno.body)
    assert order[0] == ARTICLE_1 and order[-1] == ANIMALS

    _suggest_move(ana, ana_id, "s-move")
    assert bruno.wait_for(lambda c: _element(c.body, PLACEHOLDER) is not None)
    committee = _api(server, "bruno")
    listed = committee.get(f"{server.url}/api/v1/documents/{PUBLISHED}/suggestions", timeout=10).json()["suggestions"]
    assert [(s["id"], s["kind"], s["unit"]) for s in listed] == [("s-move", "remove", ARTICLE_1),
                                                                 ("s-move", "move", ARTICLE_1)]
    # Not law yet: the public numbering is unchanged (Artículo 1 is still first).
    first = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{ARTICLE_1}", timeout=10).json()
    assert first["label"].endswith(" 1"), first

    # Rejected: the placeholder goes, the article stays where it was.
    assert _decide(server, committee, "reject", suggestion="s-move").status_code == 200
    assert ana.wait_for(lambda c: _element(c.body, PLACEHOLDER) is None
                        and "removal" not in dict(_element(c.body, ARTICLE_1).attributes))
    assert _units_of_title(ana.body) == order

    # Suggested again; meanwhile Bruno edits the article where it is. Accepted: the article,
    # with Bruno's edit and its own GUIDs, is where the placeholder was, and only there.
    _suggest_move(ana, ana_id, "s-move-2")
    assert bruno.wait_for(lambda c: _element(c.body, PLACEHOLDER) is not None)
    bruno.edit(lambda body: _text(body, WATER).insert(0, "Hoy: "))
    assert ana.wait_for(lambda c: _s(_text(c.body, WATER)).startswith("Hoy: "))  # the server has it
    assert _decide(server, committee, "accept", suggestion="s-move-2").status_code == 200
    for client in (ana, bruno):
        assert client.wait_for(lambda c: _units_of_title(c.body) == [*order[1:], ARTICLE_1]), _units_of_title(client.body)
        assert client.wait_for(lambda c: _s(_text(c.body, WATER)) == "Hoy: Toda persona tiene derecho al agua."), \
            _s(_text(client.body, WATER))
        guids = _guids(client.body)
        assert guids.count(ARTICLE_1) == 1 and guids.count(WATER) == 1 and PLACEHOLDER not in guids
        moved = dict(_element(client.body, ARTICLE_1).attributes)
        assert not {"removal", "suggestion", "movedFrom", "suggestedBy"} & set(moved), moved
    # Law now: numbered in its new place, under its own address.
    assert _wait(lambda: requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{ARTICLE_1}",
                                      timeout=10).json()["label"].endswith(f" {len(order)}"))
    with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
        rows = db.execute("SELECT suggestion, kind, guid, decision FROM suggestion_decision ORDER BY id").fetchall()
        credited = db.execute("SELECT user_id, accepted_by_id FROM unit_edit WHERE guid = ?", (ARTICLE_1,)).fetchall()
    assert ("s-move-2", "move", ARTICLE_1, "accepted") in rows and ("s-move", "move", ARTICLE_1, "rejected") in rows
    assert (ana_id, bruno_id) in credited


# --- a role that may only suggest ----------------------------------------------------------------


def configure_suggesting_legal(server) -> None:
    """The administrator's stage form: in drafting, legal advisers only suggest."""
    admin = server.login("admin")
    page = admin.get(f"{server.url}/d/{PUBLISHED}/stages/configure", timeout=10)
    assert page.status_code == 200 and 'name="suggest-0"' in page.text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text).group(1)
    form: list[tuple[str, str]] = [("csrf_token", token), ("count", str(len(PRESETS["constitution"])))]
    for i, spec in enumerate(PRESETS["constitution"]):
        form += [(f"key-{i}", spec.key), (f"name-{i}", ""), (f"mode-{i}", spec.mode)]
        form += [(f"edit-{i}", role) for role in spec.edit_roles if not (i == 0 and role == "legal")]
        form += [(f"advance-{i}", role) for role in spec.advance_roles]
    form.append(("suggest-0", "legal"))
    saved = admin.post(f"{server.url}/d/{PUBLISHED}/stages/configure", data=form, timeout=10, allow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    stages = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/stages", timeout=10).json()
    first = stages["stages"][0] if isinstance(stages, dict) else stages[0]
    assert first["suggest_roles"] == ["legal"] and "legal" not in first["edit_roles"]


def test_a_suggest_only_role_cannot_change_the_accepted_text_through_the_socket(server, client_factory,
                                                                                  yjs_factory):  # noqa: F811
    configure_suggesting_legal(server)
    bruno = client_factory("bruno")

    # The real Yjs client, with a legal adviser's session: joins as a writer, of suggestions only.
    lucia = yjs_factory("lucia")
    assert lucia.role == "editor"
    lucia.call("insert", path=[0, 2, 1], index=0, text="NUNCA ")  # Artículo 2's paragraph  # a plain edit of the accepted text
    assert _wait(lambda: any(e.get("code") == "suggest-only" for e in lucia.errors())), lucia.errors()
    # Anything broadcast before a later edit reaches Bruno before it: one by Ana, as a barrier.
    ana = client_factory("ana")

    def barrier(body):
        _text(body, ANIMALS).insert(0, "Hoy ")
    ana.edit(barrier)
    assert bruno.wait_for(lambda c: _s(_text(c.body, ANIMALS)).startswith("Hoy "))
    assert "NUNCA" not in bruno.xml()
    accepted_before = etree.tostring(fragment_to_etree(bruno.body, accepted=True))
    assert "NUNCA" not in _public_text(server)
    refused = _entries(server.instance, "text.refused", PUBLISHED)
    assert any(e["detail"].get("why") == "suggest-only" for e in refused)

    # The same adviser's suggestion goes through, and changes nothing of the accepted text.
    lucia_id = _user_id(server, "lucia")
    adviser = client_factory("lucia")

    def suggest(body):
        text = _text(body, WATER)
        text.insert(_b(_s(text), "."), " potable", {"ins": _mark(f"s{lucia_id}-legal", lucia_id, "Lucía")})
        text.format(0, len(b"Toda"), {"del": _mark(f"s{lucia_id}-legal", lucia_id, "Lucía")})
    adviser.edit(suggest)
    assert bruno.wait_for(lambda c: "potable" in _s(_text(c.body, WATER)))
    assert not adviser.errors
    assert etree.tostring(fragment_to_etree(bruno.body, accepted=True)) == accepted_before

    # A suggested new article is a suggestion too; an unmarked one is refused.
    _suggest_article(adviser, lucia_id)
    assert bruno.wait_for(lambda c: _element(c.body, NEW_ARTICLE) is not None)
    assert not adviser.errors

    # Deciding is not theirs: accepting through the socket (removing the mark) is refused...
    def accept_own(body):
        text = _text(body, WATER)
        text.format(_b(_s(text), " potable"), _b(_s(text), "."), {"ins": None})
    adviser.edit(accept_own)
    assert adviser.wait_for(lambda c: any(e.get("code") == "suggest-only" for e in c.errors))
    # ... and through the API.
    legal = _api(server, "lucia")
    assert _decide(server, legal, "accept", suggestion=f"s{lucia_id}-legal").status_code == 403
    assert "potable" not in _public_text(server)
    # A committee member decides.
    committee = _api(server, "bruno")
    assert _decide(server, committee, "accept", suggestion=f"s{lucia_id}-legal").status_code == 200
    assert _wait(lambda: "agua potable" in _public_text(server))


# --- the check itself (crdt.suggestcheck), without a server ---------------------------------------


def _doc_with(body_xml: str):
    from lxml import etree
    from pycrdt import Doc, XmlFragment

    from crdt.xmltree import etree_to_fragment
    doc = Doc()
    etree_to_fragment(etree.fromstring(body_xml), doc.get("body", type=XmlFragment))
    return doc


CHECKED = ("<body><title guid='t'><heading>T</heading>"
           "<article guid='a1'><heading>Uno</heading><p>Texto uno.</p></article>"
           "<article guid='a2'><heading>Dos</heading><p>Texto dos.</p>"
           "<paragraph guid='a2p'><p>Apartado.</p></paragraph></article></title></body>")


def _units(body):
    return [c for c in body.children[0].children if isinstance(c, XmlElement)][1:]


def _p_of(unit) -> XmlText:
    return next(c for c in unit.children if getattr(c, "tag", None) == "p").children[0]


def _new(guid: str, suggested: bool) -> XmlElement:
    attrs = {"guid": guid, **({"suggestion": "s7-1", "suggestedBy": "7"} if suggested else {})}
    return XmlElement("article", attrs, [XmlElement("heading", {}, [XmlText("Nuevo")])])


def _mark_removal(unit, by: str | None, sid: str | None = None) -> None:
    unit.attributes["removal"] = sid or f"s{by}-3"
    if by is not None:
        unit.attributes["suggestedBy"] = by


def _move_copy(body):
    title = body.children[0]
    index = next(i for i, c in enumerate(title.children) if isinstance(c, XmlElement) and c.attributes.get("guid") == "a1")
    del title.children[index]
    title.children.insert(index, XmlElement("article", {"guid": "a1"}, [XmlElement("heading", {}, [XmlText("Otro")])]))


SUGGESTING = {
    "a suggested insertion": (lambda d, b: _p_of(_units(b)[0]).insert(5, " nuevo", {"ins": {"id": "s1"}}), True),
    "a suggested deletion": (lambda d, b: _p_of(_units(b)[0]).format(0, 5, {"del": {"id": "s1"}}), True),
    "a suggested new article": (lambda d, b: b.children[0].children.insert(2, _new("n1", True)), True),
    "a suggested sub-unit": (lambda d, b: _units(b)[1].children.append(XmlElement(
        "paragraph", {"guid": "n2", "suggestion": "s2"}, [XmlElement("p", {}, [XmlText("Otro.")])])), True),
    "plain typing": (lambda d, b: _p_of(_units(b)[0]).insert(0, "NUNCA "), False),
    "plain deleting": (lambda d, b: _p_of(_units(b)[1]).__delitem__(slice(0, 5)), False),
    "hiding accepted text as inserted": (lambda d, b: _p_of(_units(b)[0]).format(0, 5, {"ins": {"id": "s1"}}), False),
    "typing in a sub-unit": (lambda d, b: _p_of(_element(b, "a2p")).insert(0, "X"), False),
    "an unmarked new article": (lambda d, b: b.children[0].children.insert(2, _new("n1", False)), False),
    "marking an accepted article as suggested": (lambda d, b: _units(b)[0].attributes.__setitem__("suggestion", "s"),
                                                 False),
    "removing an article": (lambda d, b: b.children[0].children.__delitem__(1), False),
    "replacing an article by a copy": (lambda d, b: _move_copy(b), False),
    "pinning a number": (lambda d, b: _units(b)[0].attributes.__setitem__("pin", "1 Bis"), False),
    "a suggested removal of an article": (lambda d, b: _mark_removal(_units(b)[0], "7"), True),
    "a suggested move of an article": (lambda d, b: (_mark_removal(_units(b)[0], "7"), b.children[0].children.append(
        XmlElement("article", {"guid": "n3", "suggestion": "s7-3", "suggestedBy": "7", "movedFrom": "a1"},
                   [XmlElement("heading", {}, [XmlText("Uno")])]))), True),
    "changing the meta": (lambda d, b: d.get("meta", type=Map).__setitem__("language", "eng"), False),
}


def _check(change, author: str | None = "7", setup=None, with_doc: bool = False) -> bool:
    """Whether crdt.suggestcheck lets `author`'s connection make `change` (of the body, or of the
    doc and body with `with_doc`) to CHECKED (after `setup(doc)`)."""
    from pycrdt import Doc, XmlFragment

    from crdt.suggestcheck import only_suggests
    document = _doc_with(CHECKED)
    if setup:
        setup(document)
    client = Doc()
    client.apply_update(document.get_update())
    before = client.get_state()
    with client.transaction():
        body = client.get("body", type=XmlFragment)
        change(client, body) if with_doc else change(body)
    shadow = Doc()
    shadow.apply_update(document.get_update())
    return only_suggests(document, shadow, client.get_update(before), author=author)


def test_only_suggestions_leave_the_accepted_text_as_it_was():
    for what, (change, allowed) in SUGGESTING.items():
        assert _check(change, author=None, with_doc=True) is allowed, what


def test_a_suggest_only_connection_leaves_other_peoples_suggestions_alone():
    from pycrdt import XmlFragment


    def anas(doc):
        """Ana's pending suggestions: an insertion and a deletion in Artículo 1, a new article,
        the removal of Artículo 2's apartado."""
        body = doc.get("body", type=XmlFragment)
        with doc.transaction():
            text = _p_of(_units(body)[0])
            text.insert(5, " nuevo", {"ins": {"id": "a-ins", "by": "1"}})
            text.format(0, 5, {"del": {"id": "a-del", "by": "1"}})
            body.children[0].children.append(XmlElement("article", {"guid": "n9", "suggestion": "a-unit",
                                                                    "suggestedBy": "1"},
                                                        [XmlElement("heading", {}, [XmlText("Suya")])]))
            apartado = _element(body, "a2p")
            apartado.attributes["removal"] = "a-rem"
            apartado.attributes["suggestedBy"] = "1"

    def without(body, guid):
        parent = body.children[0]
        index = next(i for i, c in enumerate(parent.children) if isinstance(c, XmlElement)
                     and c.attributes.get("guid") == guid)
        del parent.children[index]

    changes = {
        "its own insertion next to Ana's": (lambda b: _p_of(_units(b)[0]).insert(0, "Ya ", {"ins": {"id": "s7-x", "by": "7"}}),
                                            True),
        "withdrawing Ana's insertion": (lambda b: _p_of(_units(b)[0]).__delitem__(slice(5, 11)), False),
        "dropping Ana's deletion mark": (lambda b: _p_of(_units(b)[0]).format(0, 5, {"del": None}), False),
        "taking Ana's insertion as its own": (lambda b: _p_of(_units(b)[0]).format(5, 11, {"ins": {"id": "s7-x", "by": "7"}}),
                                              False),
        "removing Ana's new article": (lambda b: without(b, "n9"), False),
        "withdrawing Ana's removal": (lambda b: _element(b, "a2p").attributes.__delitem__("removal"), False),
        "rewriting Ana's new article": (lambda b: _element(b, "n9").children[0].children[0].insert(0, "Otra "), False),
        "turning Ana's new article into a move": (lambda b: _element(b, "n9").attributes.__setitem__("movedFrom", "a1"),
                                                  False),
        "renaming Ana's new article's author": (lambda b: _element(b, "n9").attributes.__setitem__("suggestedName", "X"),
                                                False),
    }
    for what, (change, allowed) in changes.items():
        assert _check(change, setup=anas) is allowed, what
        # None of these changes the accepted text: only the rules about others' suggestions refuse them.
        assert _check(change, author=None, setup=anas), what


def _placeholder(guid: str, sid: str, moved_from: str, by: str = "7") -> XmlElement:
    return XmlElement("article", {"guid": guid, "suggestion": sid, "suggestedBy": by, "movedFrom": moved_from},
                      [XmlElement("heading", {}, [XmlText("Aquí")])])


def test_a_suggest_only_connection_moves_only_what_it_marks_and_where_it_can():


    def move(b, sid="s7-m", marked="a1", moved_from="a1", guid="n5", where=None):
        _mark_removal(_element(b, marked), "7", sid)
        (where(b) if where else b.children[0]).children.append(_placeholder(guid, "s7-m", moved_from))

    changes = {
        "its own move": (lambda b: move(b), True),
        "a move of a unit it did not mark": (lambda b: b.children[0].children.append(_placeholder("n5", "s7-m", "a1")),
                                             False),
        "a move of a unit marked by another suggestion": (lambda b: move(b, sid="s7-other"), False),
        "a placeholder with a GUID already in the text": (lambda b: move(b, guid="a2"), False),
        "a placeholder inside the unit it moves": (lambda b: move(b, marked="a2", moved_from="a2",
                                                                  where=lambda body: _element(body, "a2")), False),
        "a placeholder of a unit it is inside": (lambda b: move(b, marked="t", moved_from="t"), False),
        "a placeholder of a unit that is nowhere": (lambda b: move(b, moved_from="zz"), False),
    }
    for what, (change, allowed) in changes.items():
        assert _check(change) is allowed, what


def test_accepting_a_move_that_is_not_what_it_says_changes_nothing():
    """Whoever wrote it (a committee member's updates are not checked), a placeholder that names a
    unit not marked by its suggestion, or the unit it is inside, is left pending, and the text
    stays whole and readable."""
    from pycrdt import XmlFragment

    from editor.suggestions.marks import decide, pending

    for marked, moved_from, inside in (("", "a1", False), ("t", "t", True), ("a2", "a2", False)):
        document = _doc_with(CHECKED)
        body = document.get("body", type=XmlFragment)
        with document.transaction():
            if marked:
                _mark_removal(_element(body, marked), "7", "s7-m")
            holder = body.children[0] if inside or marked != "a2" else _element(body, "a2")
            holder.children.append(_placeholder("n5", "s7-m", moved_from))
        before = etree.tostring(fragment_to_etree(body, accepted=True))
        decided = decide(document, lambda part: part.suggestion == "s7-m", True)
        assert [p.kind for p in decided if p.kind == "move"] == [], (marked, moved_from)
        assert etree.tostring(fragment_to_etree(body, accepted=True)) == before
        assert any(p.kind == "move" for p in pending(document))


def test_a_suggest_only_connection_makes_suggestions_in_its_own_name_only():

    named = {
        "its own insertion": (lambda b: _p_of(_units(b)[0]).insert(5, " x", {"ins": {"id": "s7-x", "by": "7"}}), True),
        "its insertion under an id of Ana's": (lambda b: _p_of(_units(b)[0]).insert(5, " x", {"ins": {"id": "s1-x", "by": "7"}}),
                                               False),
        "an insertion in Ana's name": (lambda b: _p_of(_units(b)[0]).insert(5, " x", {"ins": {"id": "s", "by": "1"}}),
                                       False),
        "a deletion in Ana's name": (lambda b: _p_of(_units(b)[0]).format(0, 5, {"del": {"id": "s", "by": "1"}}), False),
        "its own new article": (lambda b: b.children[0].children.insert(2, _new("n1", True)), True),
        "a new article in Ana's name": (lambda b: b.children[0].children.insert(2, XmlElement(
            "article", {"guid": "n1", "suggestion": "s", "suggestedBy": "1"}, [XmlElement("heading", {}, [])])), False),
        "its own removal of an article": (lambda b: _mark_removal(_units(b)[0], "7"), True),
        "a removal in Ana's name": (lambda b: _mark_removal(_units(b)[0], "1"), False),
        "a removal in nobody's name": (lambda b: _mark_removal(_units(b)[0], None), False),
    }
    for what, (change, allowed) in named.items():
        assert _check(change) is allowed, what
