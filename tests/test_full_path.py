"""The whole life of the sample constitution, through the HTTP API and live connections, as the
case study lived it: drafting edits, legal review, a petitioner consultation (one petitioner
approves, another objects), the assembly (one amendment adopted after debate and vote, another
rejected), approval and publication. Then what the record must show: the final version's Akoma
Ntoso validates, lists the workflow in order and records the adopted amendment; the diff between
the consultation version and the approved one is exactly the adopted change; the amended unit's
history names the amendment; the petitioner who approved is asked to review again."""

from __future__ import annotations

import re
import time

import pytest
import requests
from conftest import SHARED_DATA, LiveServer, login, require
from lxml import etree
from pycrdt import XmlElement, XmlText

NS = {"a": "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"}


@pytest.fixture
def demo(tmp_path):
    require((SHARED_DATA / "cdmx").is_dir(), f"the shared data is not at {SHARED_DATA}")
    import os

    os.environ["CONSTITUENT_DEMO_RESPONDENTS"] = "300"  # the survey is not what this test is about
    from editor import create_app
    from editor.demo import seed

    instance = tmp_path / "demo"
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    with app.app_context():
        _, slug, _ = seed(app)
    services = app.extensions["constituent"]
    services.rooms.close_all()
    services.engine.dispose()
    server = LiveServer(instance).start()
    yield server, slug
    server.stop()


def _session(server, who: str) -> requests.Session:
    from editor.demo import DEMO_PASSWORD

    session = login(server.url, f"{who}@demo.constituent.mx", DEMO_PASSWORD)
    page = session.get(server.url + "/", timeout=10).text
    session.headers["X-CSRFToken"] = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    return session


def _ok(response, status=200):
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}"
    return response.json() if response.content and response.headers.get("content-type", "").startswith("application/json") else response


def _append_to(client, guid: str, words: str) -> None:
    def find(node):
        for child in node.children:
            if isinstance(child, XmlElement):
                if child.attributes.get("guid") == guid:
                    return child
                found = find(child)
                if found is not None:
                    return found
        return None

    def edit(_body):
        unit = find(client.body)
        paragraph = next(c for c in unit.children if isinstance(c, XmlElement) and c.tag == "p")
        text = next(c for c in paragraph.children if isinstance(c, XmlText))
        # pycrdt indexes text in UTF-8 bytes: the end of "…comité" is not len() characters in.
        text.insert(len(str(text).encode("utf-8")), words)

    client.edit(edit)


def _live_text(server, slug: str) -> str:
    return requests.get(f"{server.url}/api/v1/documents/{slug}/text", timeout=10).text


def _wait_for_text(server, slug: str, words: str) -> None:
    deadline = time.monotonic() + 10
    while words not in _live_text(server, slug):
        assert time.monotonic() < deadline, f"{words!r} never reached the live text"
        time.sleep(0.1)


def test_the_sample_constitution_goes_from_drafting_to_publication(demo):
    from collab_client import CollabClient

    server, slug = demo
    base = f"{server.url}/api/v1/documents/{slug}"
    ana, lucia, admin = _session(server, "ana"), _session(server, "lucia"), _session(server, "admin")
    rosa, omar = _session(server, "asamblea"), _session(server, "asamblea2")

    def advance(session, expect):
        return _ok(session.post(f"{base}/stages/advance", json={"expect": expect}, timeout=60), 201)

    # --- drafting: the committee edits live --------------------------------------------------
    board = _ok(ana.get(f"{base}/reviews", timeout=10))
    petitions = {p["title"]: p for p in board["petitions"]}
    water = next(p for t, p in petitions.items() if t.startswith("Agua suficiente"))
    animals = next(p for t, p in petitions.items() if t.startswith("Protección constitucional a los animales"))

    def scope_units(petition):
        link = _ok(ana.post(f"{base}/reviews/{petition['id']}/link",
                            json={"name": "Peticionaria", "email": f"p{petition['id']}@example.org"}, timeout=10), 201)
        token = link["url"].rsplit("/", 1)[-1]
        petitioner = requests.Session()  # no account: the link is the only key
        page = petitioner.get(f"{server.url}/review/{token}", timeout=10).text
        petitioner.headers["X-CSRFToken"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return petitioner, token, _ok(petitioner.get(f"{server.url}/api/v1/review/{token}", timeout=10))

    # (links can only be issued in the consultation: find the units through the open data meanwhile)
    links = _ok(requests.get(f"{base}/provenance.json", timeout=10))
    water_units = [row["unit_guid"] for row in links["links"] if row["source_kind"] == "petition"
                   and row["source_id"] == water["id"]]
    animal_units = [row["unit_guid"] for row in links["links"] if row["source_kind"] == "petition"
                    and row["source_id"] == animals["id"]]
    assert water_units and animal_units

    committee = CollabClient(server.url, _cookie(ana), name="ana").connect()
    assert committee.join(slug)["role"] == "editor"
    outline = _ok(requests.get(base, timeout=10))
    leaf = _first_leaf_with_text(outline["outline"], skip=set(water_units) | set(animal_units))
    _append_to(committee, leaf, " (redacción del comité)")
    _wait_for_text(server, slug, "(redacción del comité)")
    advance(ana, "legal_review")

    # --- legal review: the legal adviser edits, the committee no longer can ---------------------
    _append_to(committee, leaf, " FUERA-DE-ETAPA")
    assert committee.wait_for(lambda c: any(e.get("code") == "read-only" for e in c.errors))
    # The refused edit stays in that replica only; the browser would reload as a reader. (A raw
    # client that kept it would offer it again when the stage lets it write: see the closing note.)
    committee.close()
    adviser = CollabClient(server.url, _cookie(lucia), name="lucia").connect()
    assert adviser.join(slug)["role"] == "editor"
    _append_to(adviser, leaf, " (revisado)")
    _wait_for_text(server, slug, "(revisado)")
    advance(ana, "consultation")

    # --- consultation: one petitioner approves, another objects --------------------------------
    water_petitioner, water_token, water_scope = scope_units(water)
    animal_petitioner, animal_token, animal_scope = scope_units(animals)
    assert {u["guid"] for u in water_scope["units"]} >= set(water_units)
    assert water_scope["can_review"] is True
    _ok(water_petitioner.post(f"{server.url}/api/v1/review/{water_token}", timeout=10, json={
        "petition": str(water["id"]), "decision": "approve", "comment": "", "seen": water_scope["seen"]}), 201)
    _ok(animal_petitioner.post(f"{server.url}/api/v1/review/{animal_token}", timeout=10, json={
        "petition": str(animals["id"]), "decision": "object", "comment": "Falta prohibir las peleas de perros.",
        "seen": animal_scope["seen"]}), 201)
    outcomes = _ok(ana.get(f"{base}/reviews", timeout=10))["counts"]
    assert outcomes["approved"] == 1 and outcomes["objected"] == 1
    advance(ana, "assembly")

    # --- assembly: nobody writes directly; one amendment adopted, another rejected -------------
    assert "FUERA-DE-ETAPA" not in _live_text(server, slug)
    amended = water_units[0]
    before_amendment = _live_text(server, slug)
    first = _ok(rosa.post(f"{base}/amendments", timeout=10, json={
        "kind": "substitution", "units": [amended],
        "text": "La Ciudad garantiza a toda persona el acceso diario a agua potable, suficiente y asequible.",
        "justification": "Precisar la obligación de la Ciudad.", "cosponsors": ["asamblea2@demo.constituent.mx"],
        "table": True}), 201)
    second = _ok(omar.post(f"{base}/amendments", timeout=10, json={
        "kind": "deletion", "units": [animal_units[0]], "justification": "Materia de ley secundaria.",
        "table": True}), 201)
    watchers = [CollabClient(server.url, _cookie(s), name=n).connect() for s, n in ((ana, "ana"), (rosa, "rosa"))]
    for watcher in watchers:
        assert watcher.join(slug)["ok"]
    for number in (first["number"], second["number"]):
        _ok(admin.post(f"{base}/amendments/{number}/state", json={"action": "debate"}, timeout=10))
    _ok(rosa.post(f"{base}/amendments/{first['number']}/votes", json={"choice": "for"}, timeout=10), 201)
    _ok(omar.post(f"{base}/amendments/{first['number']}/votes", json={"choice": "for"}, timeout=10), 201)
    _ok(rosa.post(f"{base}/amendments/{second['number']}/votes", json={"choice": "against"}, timeout=10), 201)
    _ok(omar.post(f"{base}/amendments/{second['number']}/votes", json={"choice": "abstain"}, timeout=10), 201)
    adopted = _ok(admin.post(f"{base}/amendments/{first['number']}/state", json={"action": "close"}, timeout=60))
    rejected = _ok(admin.post(f"{base}/amendments/{second['number']}/state", json={"action": "close"}, timeout=60))
    assert adopted["state"] == "adopted" and rejected["state"] == "rejected"
    for watcher in watchers:  # live, to everyone connected
        assert watcher.wait_for(lambda c: "agua potable, suficiente y asequible" in c.xml()), watcher.name
    assert "agua potable, suficiente y asequible" not in before_amendment

    # The petitioner who approved that wording is asked to review it again, through the outbox.
    scope = _ok(water_petitioner.get(f"{server.url}/api/v1/review/{water_token}", timeout=10))
    assert scope["rereview_requested"] is True and scope["can_review"] is True
    history = _ok(requests.get(f"{base}/units/{amended}/history", timeout=10))
    assert [e["amendment"] for e in history["steps"][-1]["edits"]] == [first["number"]]

    advance(admin, "approved")
    advance(admin, "published")

    # --- the record ---------------------------------------------------------------------------
    versions = _ok(requests.get(f"{base}/versions", timeout=10))["versions"]
    assert [v["stage"] for v in versions] == ["drafting", "legal_review", "consultation", "assembly", "approved"]
    final = requests.get(f"{base}/akn", params={"version": versions[-1]["number"]}, timeout=10)
    root = etree.fromstring(final.content)
    from akoma_ntoso.akn import validate

    assert validate(root) == []
    assert [s.get("refersTo") for s in root.findall(".//a:workflow/a:step", NS)] == [
        "#stage_drafting", "#stage_legal_review", "#stage_consultation", "#stage_assembly", "#stage_approved",
        "#stage_published"]
    mods = root.findall(".//a:passiveModifications/a:textualMod", NS)
    assert len(mods) == 1 and mods[0].get("type") == "substitution"
    source = mods[0].find("a:source", NS).get("href").lstrip("#")
    reference = root.find(f".//a:references/*[@eId='{source}']", NS)
    assert reference is not None and reference.get("name") == "amendment"
    assert "asequible" in etree.tostring(mods[0].find("a:new", NS), encoding="unicode")

    consultation = next(v for v in versions if v["stage"] == "consultation")
    approved = next(v for v in versions if v["stage"] == "approved")
    diff = _ok(requests.get(f"{base}/diff", params={"from": consultation["number"], "to": approved["number"]},
                            timeout=10))
    assert diff["counts"] == {"added": 0, "removed": 0, "moved": 0, "renumbered": 0, "changed": 1,
                              "split": 0, "merged": 0}
    (change,) = diff["units"]
    assert change["guid"] == amended
    inserted = " ".join(text for op, text in change["redline"]["text"] if op == "+")
    assert "potable, suficiente y asequible" in inserted

    for client in [adviser, *watchers]:
        client.close()


def _cookie(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _first_leaf_with_text(units, skip) -> str:
    """The GUID of the first unit without sub-units (it holds text) outside `skip`."""
    for unit in units:
        if unit["kind"] != "preamble" and not unit["children"] and unit["guid"] not in skip:
            return unit["guid"]
        found = _first_leaf_with_text(unit["children"], skip) if unit["children"] else None
        if found:
            return found
    return ""
