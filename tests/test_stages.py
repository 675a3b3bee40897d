"""Stages and versions: moving a document through its stages, who may write in each, frozen
versions (immutable, exported, compared) and a unit's history."""

from __future__ import annotations

import re
import time

import requests
from conftest import PUBLISHED, free_port  # noqa: F401
from lxml import etree
from pycrdt import XmlText

NS = {"a": "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"}
WATER = "00000000-0000-4000-8000-000000000003"  # the subparagraph "Toda persona tiene derecho al agua."
MOBILITY = "00000000-0000-4000-8000-000000000004"


def _token(session: requests.Session, server) -> str:
    page = session.get(f"{server.url}/d/{PUBLISHED}/versions", timeout=10).text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def _api(server, who: str):
    session = server.login(who)
    session.headers["X-CSRFToken"] = _token(session, server)
    return session


def _advance(session, server, expect: str | None = None, slug: str = PUBLISHED):
    body = {"expect": expect} if expect else {}
    return session.post(f"{server.url}/api/v1/documents/{slug}/stages/advance", json=body, timeout=30)


def text_node_in(body, guid: str) -> XmlText:
    """The text of the first paragraph of the unit `guid` in a document body (XmlFragment)."""

    def find(node):
        for child in node.children:
            if hasattr(child, "attributes") and child.attributes.get("guid") == guid:
                return child
            if hasattr(child, "children"):
                found = find(child)
                if found is not None:
                    return found
        return None

    unit = find(body)
    paragraph = next(c for c in unit.children if getattr(c, "tag", None) == "p")
    return paragraph.children[0]


def _text_node(client, guid: str) -> XmlText:
    return text_node_in(client.body, guid)


def _append(client, guid: str, words: str) -> None:
    def edit(_body):
        text = _text_node(client, guid)
        text.insert(len(str(text)), words)

    client.edit(edit)


def test_a_document_starts_in_drafting_and_the_public_sees_its_stages(server):
    page = requests.get(f"{server.url}/d/{PUBLISHED}/versions", timeout=10)
    assert page.status_code == 200
    assert 'aria-current="step"' in page.text
    assert "Drafting" in page.text or "Redacción" in page.text
    data = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/stages", timeout=10).json()
    assert data["current"] == "drafting"
    assert [s["key"] for s in data["stages"]] == [
        "drafting", "legal_review", "consultation", "assembly", "approved", "published"]
    assert data["transitions"] == []
    # Nobody but an advancing role moves it on; the refusal changes nothing.
    assert _advance(requests.Session(), server).status_code in (400, 401)  # no CSRF token / not signed in
    assert _advance(_api(server, "vera"), server).status_code == 403
    assert _advance(_api(server, "asa"), server).status_code == 403
    assert requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/stages", timeout=10).json()["current"] == "drafting"


def test_each_stage_decides_who_writes_and_open_editors_learn_it_live(server, client_factory):
    ana = client_factory("ana")
    lucia = client_factory("lucia")
    stages_seen = []
    ana.sio.on("stage", lambda data: stages_seen.append(data), namespace="/collab")
    _append(ana, WATER, " Y al saneamiento.")
    assert lucia.wait_for(lambda c: "saneamiento" in c.xml())

    moved = _advance(_api(server, "bruno"), server, expect="legal_review")
    assert moved.status_code == 201, moved.text
    assert moved.json()["stage"] == "legal_review" and moved.json()["version"]["number"] == 1
    assert ana.wait_for(lambda c: stages_seen and stages_seen[-1]["role"] == "viewer")
    assert stages_seen[-1]["stage"] == "legal_review"

    # In legal review the committee follows; the legal adviser writes.
    before = ana.xml()
    _append(ana, MOBILITY, " TEXTO-NO-PERMITIDO")
    assert ana.wait_for(lambda c: any(e["code"] == "read-only" for e in c.errors))
    _append(lucia, MOBILITY, " Y segura.")
    # Her own replica has it at once; the server's text once her update is stored.
    deadline = time.monotonic() + 10
    live = ""
    while "Y segura." not in live and time.monotonic() < deadline:
        live = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text
        time.sleep(0.05)
    assert "Y segura." in live and "TEXTO-NO-PERMITIDO" not in live
    assert "saneamiento" in before

    # A second request expecting the old next stage is refused instead of skipping a stage.
    again = _advance(_api(server, "bruno"), server, expect="legal_review")
    assert again.status_code == 400 and "ya no está" in again.json()["error"]  # requests ask for Spanish


def test_versions_are_frozen_exported_and_compared(server, client_factory):
    ana = client_factory("ana")
    committee = _api(server, "ana")
    frozen = committee.post(f"{server.url}/api/v1/documents/{PUBLISHED}/versions",
                            json={"name": "Antes de la sesión"}, timeout=30)
    assert frozen.status_code == 201, frozen.text
    assert frozen.json()["number"] == 1 and frozen.json()["name"] == "Antes de la sesión"
    assert _api(server, "vera").post(f"{server.url}/api/v1/documents/{PUBLISHED}/versions", json={},
                                      timeout=10).status_code == 403

    _append(ana, WATER, " potable, suficiente y asequible")
    assert ana.wait_for(lambda c: "asequible" in c.xml())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the live text is read through the room: same order as edits
        if "asequible" in requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text:
            break
        time.sleep(0.1)

    diff = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/diff", params={"from": "1", "to": "live"},
                        timeout=10).json()
    assert diff["counts"]["changed"] == 1 and sum(diff["counts"].values()) == 1
    (unit,) = diff["units"]
    assert unit["guid"] == WATER and unit["statuses"] == ["changed"]
    assert ["+", " potable, suficiente y asequible"] in unit["redline"]["text"] or any(
        op == "+" and "asequible" in text for op, text in unit["redline"]["text"])

    page = requests.get(f"{server.url}/d/{PUBLISHED}/compare", params={"from": "1", "to": "live"}, timeout=10)
    assert page.status_code == 200 and "<ins>" in page.text and "asequible" in page.text

    # The version itself never changes: its AKN is the text as it was.
    akn = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn", params={"version": "1"}, timeout=10)
    assert akn.status_code == 200 and b"asequible" not in akn.content
    root = etree.fromstring(akn.content)
    assert root.find(".//a:FRBRExpression/a:FRBRversionNumber", NS).get("value") == "1"
    assert [s.get("refersTo") for s in root.findall(".//a:workflow/a:step", NS)] == ["#stage_drafting"]
    assert requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn", params={"version": "9"},
                        timeout=10).status_code == 404
    bad = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/diff", params={"from": "x1", "to": "live"}, timeout=10)
    assert bad.status_code == 404 and "no es una versión" in bad.json()["error"]  # requests ask for Spanish

    # The unit's history names who changed it after v1 (recorded off the live path, within a second).
    deadline = time.monotonic() + 10
    while True:
        history = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{WATER}/history", timeout=10).json()
        if history["steps"][-1].get("edits") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [s["label"] for s in history["steps"]] == ["v1", "live"]
    assert history["steps"][1]["changed"] is True
    assert [e["by"] for e in history["steps"][1]["edits"]] == ["Ana"]
    unit_page = requests.get(f"{server.url}/d/{PUBLISHED}/{WATER}", timeout=10)  # redirects to its eId
    assert "History of this clause" in unit_page.text or "Historia de esta cláusula" in unit_page.text


def test_a_full_constitution_path_is_recorded_in_the_akn_workflow(server):
    admin = _api(server, "admin")
    for expect in ("legal_review", "consultation", "assembly", "approved", "published"):
        response = _advance(admin, server, expect=expect)
        assert response.status_code == 201, response.text
    assert _advance(admin, server).status_code == 403  # nobody moves a document on from its last stage
    versions = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/versions", timeout=10).json()["versions"]
    assert [v["stage"] for v in versions] == ["drafting", "legal_review", "consultation", "assembly", "approved"]
    root = etree.fromstring(requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn", timeout=10).content)
    steps = root.findall(".//a:workflow/a:step", NS)
    assert [s.get("refersTo") for s in steps] == [
        "#stage_drafting", "#stage_legal_review", "#stage_consultation", "#stage_assembly", "#stage_approved",
        "#stage_published"]
    (person,) = root.findall(".//a:TLCPerson", NS)  # every transition was made by the administrator
    assert person.get("showAs") == "Admin"
    assert {s.get("by") for s in steps[1:]} == {"#" + person.get("eId")}
    assert {s.get("as") for s in steps[1:]} == {"#role_admin"}
    events = root.findall(".//a:lifecycle/a:eventRef", NS)
    assert len(events) == 6  # the generation, then one per stage entered


def test_the_administrator_configures_stages_and_bad_configurations_change_nothing(server):
    admin = server.login("admin")
    page = admin.get(f"{server.url}/d/{PUBLISHED}/stages/configure", timeout=10)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert server.login("ana").get(f"{server.url}/d/{PUBLISHED}/stages/configure", timeout=10).status_code == 403

    switched = admin.post(f"{server.url}/d/{PUBLISHED}/stages/configure",
                          data={"csrf_token": token, "preset": "ordinance"}, timeout=10)
    assert switched.status_code == 200
    stages = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/stages", timeout=10).json()["stages"]
    assert [s["key"] for s in stages] == ["drafting", "first_reading", "committee", "second_reading", "adopted"]

    form = {"csrf_token": token, "count": "5"}
    for i, s in enumerate(stages):
        form.update({f"key-{i}": s["key"], f"name-{i}": "", f"mode-{i}": s["mode"]})
    form["mode-2"] = "nonsense"
    english = {"Accept-Language": "en"}  # the refusals asserted below are English
    refused = admin.post(f"{server.url}/d/{PUBLISHED}/stages/configure", data=form, headers=english, timeout=10)
    assert "unknown mode" in refused.text
    form["mode-2"] = "edit"
    form["key-0"] = "borrador"  # the current stage cannot be replaced
    refused = admin.post(f"{server.url}/d/{PUBLISHED}/stages/configure", data=form, headers=english, timeout=10)
    assert "cannot be replaced" in refused.text
    after = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/stages", timeout=10).json()["stages"]
    assert after == stages

    form["key-0"] = "drafting"
    form["name-1"] = "Primera lectura en el Cabildo"
    form["remove-3"] = "1"
    form["key-5"], form["mode-5"] = "promulgation", "closed"
    saved = admin.post(f"{server.url}/d/{PUBLISHED}/stages/configure", data=form, timeout=10)
    assert saved.status_code == 200
    after = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/stages", timeout=10).json()["stages"]
    assert [s["key"] for s in after] == ["drafting", "first_reading", "committee", "adopted", "promulgation"]
    assert after[1]["name"] == "Primera lectura en el Cabildo"


def test_export_command_writes_a_version(instance, monkeypatch, tmp_path):
    from click.testing import CliRunner
    from sqlalchemy import select

    from editor import create_app
    from editor.cli import main
    from editor.documents import get_document
    from editor.models import User
    from editor.stages.workflow import advance

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.app_context():
        admin = services.db.scalar(select(User).where(User.role == "admin"))
        advance(services, get_document(services.db, PUBLISHED), admin)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()

    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(instance))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    out = tmp_path / "v1.xml"
    result = CliRunner().invoke(main, ["export", PUBLISHED, "--version", "v1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = etree.parse(str(out)).getroot()
    assert root.find(".//a:FRBRversionNumber", NS).get("value") == "1"
    missing = CliRunner().invoke(main, ["export", PUBLISHED, "--version", "7"])
    assert missing.exit_code != 0 and "has no version 7" in missing.output


def test_renumbering_alone_does_not_bury_the_real_changes_on_the_compare_page(app):
    """An article inserted at the start renumbers every article after it: the compare page lists
    the inserted article and the reworded one, and counts the merely renumbered ones apart, in
    a list that opens on demand."""
    from pycrdt import XmlElement, XmlFragment, XmlText
    from test_fuzz_api import signed_in

    admin, token = signed_in(app, "admin")
    frozen = admin.post(f"/api/v1/documents/{PUBLISHED}/versions", json={"name": "v1"}, headers={"X-CSRFToken": token})
    assert frozen.status_code == 201

    def edit(doc):
        body = doc.get("body", type=XmlFragment)
        with doc.transaction(origin="someone"):
            body.children.insert(0, XmlElement("article", {"guid": "00000000-0000-4000-8000-0000000000aa"}, [
                XmlElement("heading", None, [XmlText("Definiciones")]),
                XmlElement("p", None, [XmlText("En esta Constitución se entiende por ciudad la Ciudad de Prueba.")])]))
            text = text_node_in(body, WATER)
            text.insert(len(str(text)), " Y potable.")

    app.extensions["constituent"].rooms.call(PUBLISHED, edit)
    page = admin.get(f"/d/{PUBLISHED}/compare?from=1&to=live", headers={"Accept-Language": "en"}).get_data(as_text=True)
    listed = re.findall(r'<li class="diff-unit" id="u-([^"]+)"', page)
    assert listed == ["00000000-0000-4000-8000-0000000000aa", WATER], listed
    only = re.search(r'<details class="renumbered-only">\s*<summary>(\d+) units were only renumbered', page)
    assert only is not None and int(only[1]) >= 2
    assert "<del>Artículo 1</del> → <ins>Artículo 2</ins>" in page
    # Asked for, the renumbered ones are listed in full.
    renumbered = admin.get(f"/d/{PUBLISHED}/compare?from=1&to=live&only=renumbered").get_data(as_text=True)
    assert '<details class="renumbered-only">' not in renumbered
    assert len(re.findall(r'<li class="diff-unit"', renumbered)) >= int(only[1])
