"""Amendments in the assembly stage: drafted, tabled, debated, voted, adopted (applied live to the
text, attributed, recorded in Akoma Ntoso) or rejected or withdrawn; conflicts between open
amendments flagged; adoption refused, with the conflict shown, when the unit changed since tabling."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import requests
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED, LiveServer, login
from lxml import etree

NS = {"a": "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"}
WATER_ARTICLE = "00000000-0000-4000-8000-000000000001"
WATER_PARAGRAPH = "00000000-0000-4000-8000-000000000002"
WATER_SUB = "00000000-0000-4000-8000-000000000003"  # "Toda persona tiene derecho al agua."
MOBILITY = "00000000-0000-4000-8000-000000000004"  # Artículo 2 "Toda persona tiene derecho a moverse."
ANIMALS = "00000000-0000-4000-8000-000000000005"  # Artículo 3 "Los animales son seres sintientes."


# --- an instance whose published document is in the assembly stage -------------------------------


@pytest.fixture(scope="session")
def assembly_template(seeded_template, tmp_path_factory) -> Path:
    from sqlalchemy import select

    from editor import create_app
    from editor.documents import get_document
    from editor.models import User
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance

    instance = tmp_path_factory.mktemp("assembly-instance")
    shutil.copytree(seeded_template, instance, dirs_exist_ok=True)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        admin = db.scalar(select(User).where(User.email == ACCOUNTS["admin"][0]))
        while current_stage(db, document).key != "assembly":
            advance(services, document, admin)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    return instance


@pytest.fixture
def assembly(assembly_template, tmp_path):
    target = tmp_path / "instance"
    shutil.copytree(assembly_template, target)
    live = LiveServer(target).start()
    yield live
    live.stop()


class Member:
    """A signed-in (or anonymous) HTTP client with a CSRF token, speaking English."""

    def __init__(self, server, who: str | None, slug: str = PUBLISHED) -> None:
        self.server, self.who, self.slug = server, who, slug
        self.session = login(server.url, ACCOUNTS[who][0], PASSWORD) if who else requests.Session()
        self.session.headers["Accept-Language"] = "en"
        page = self.session.get(f"{server.url}/d/{slug}/amendments", timeout=10).text
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def api(self, path: str = "") -> str:
        return f"{self.server.url}/api/v1/documents/{self.slug}/amendments{path}"

    def get(self, path: str = ""):
        return self.session.get(self.api(path), timeout=15)

    def post(self, path: str, body: dict):
        return self.session.post(self.api(path), json=body, headers={"X-CSRFToken": self.token}, timeout=30)

    def patch(self, path: str, body: dict):
        return self.session.patch(self.api(path), json=body, headers={"X-CSRFToken": self.token}, timeout=30)

    def page(self, path: str):
        return self.session.get(f"{self.server.url}{path}", timeout=15)

    def form(self, path: str, data: dict):
        return self.session.post(f"{self.server.url}{path}", data={**data, "csrf_token": self.token},
                                 allow_redirects=False, timeout=30)

    def create(self, **body):
        response = self.post("", body)
        assert response.status_code == 201, response.text
        return response.json()

    def act(self, number: int, action: str):
        return self.post(f"/{number}/state", {"action": action})

    def vote(self, number: int, choice: str):
        return self.post(f"/{number}/votes", {"choice": choice})


def unit_json(server, key: str, slug: str = PUBLISHED) -> dict:
    response = requests.get(f"{server.url}/api/v1/documents/{slug}/units/{key}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def user_id(server, who: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{server.instance / 'constituent.sqlite3'}")
    try:
        with engine.connect() as connection:
            return connection.execute(text("select id from user_account where email = :e"),
                                      {"e": ACCOUNTS[who][0]}).scalar_one()
    finally:
        engine.dispose()


def adopt(asa: Member, admin: Member, abel: Member, number: int, table: bool = True):
    """Table (unless done), debate, two votes for, close: returns the close response."""
    if table:
        assert asa.act(number, "table").status_code == 200
    assert admin.act(number, "debate").status_code == 200
    assert asa.vote(number, "for").status_code == 201
    assert abel.vote(number, "for").status_code == 201
    return admin.act(number, "close")


# --- the lifecycle ---------------------------------------------------------------------------------


def test_an_amendment_goes_from_draft_to_adopted_and_another_is_rejected_and_a_third_withdrawn(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    public = Member(assembly, None)

    draft = asa.create(kind="substitution", units=["art_2"], heading="Movilidad",
                       text="Toda persona tiene derecho a moverse\ncon seguridad.",
                       justification="La movilidad debe ser segura.", cosponsors=[ACCOUNTS["abel"][0]])
    assert draft["number"] == 1 and draft["state"] == "draft"
    assert draft["targets"][0]["guid"] == MOBILITY and draft["targets"][0]["label"] == "Artículo 2"
    assert [c["id"] for c in draft["cosponsors"]] == [user_id(assembly, "abel")]
    assert draft["actions"] == ["edit", "table"]
    # A draft is its sponsors' own: the public and the other members do not see it yet.
    assert public.get("/1").status_code == 404
    assert abel.get("/1").status_code == 200
    assert public.get("").json()["amendments"] == []

    # The author rewrites the draft; tabling captures the wording it amends.
    changed = asa.patch("/1", {"text": "Toda persona tiene derecho a moverse con seguridad."})
    assert changed.status_code == 200, changed.text
    assert changed.json()["targets"][0]["proposed"]["text"] == "Toda persona tiene derecho a moverse con seguridad."
    tabled = asa.act(1, "table")
    assert tabled.status_code == 200 and tabled.json()["state"] == "tabled"
    assert tabled.json()["targets"][0]["base"]["text"] == "Toda persona tiene derecho a moverse."
    assert public.get("/1").json()["state"] == "tabled"

    opened = admin.act(1, "debate")
    assert opened.status_code == 200 and opened.json()["state"] == "debate"
    assert "vote" in asa.get("/1").json()["actions"]
    assert asa.vote(1, "for").status_code == 201
    assert abel.vote(1, "for").status_code == 201
    assert Member(assembly, "vera").vote(1, "against").status_code == 403
    closed = admin.act(1, "close")
    assert closed.status_code == 200, closed.text
    result = closed.json()
    assert result["state"] == "adopted"
    assert result["tally"] == {"for": 2, "against": 0, "abstain": 0}
    assert [(v["member_id"], v["choice"]) for v in result["votes"]] == [
        (user_id(assembly, "asa"), "for"), (user_id(assembly, "abel"), "for")]
    assert [h["to"] for h in result["history"]] == ["draft", "tabled", "debate", "adopted"]
    assert result["history"][-1]["by_id"] == user_id(assembly, "admin")
    assert result["changes"] == [{
        "type": "substitution", "guid": MOBILITY, "kind": "article", "eId_before": "art_2", "eId_after": "art_2",
        "label_before": "Artículo 2", "label_after": "Artículo 2",
        "old": {"heading": "Movilidad", "text": "Toda persona tiene derecho a moverse."},
        "new": {"heading": "Movilidad", "text": "Toda persona tiene derecho a moverse con seguridad."}}]
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse con seguridad."

    # A second amendment, voted down: the text does not change.
    second = asa.create(kind="deletion", units=[ANIMALS], table=True)
    assert second["number"] == 2 and second["state"] == "tabled"
    assert admin.act(2, "debate").status_code == 200
    assert asa.vote(2, "for").status_code == 201
    assert abel.vote(2, "against").status_code == 201
    rejected = admin.act(2, "close")
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert rejected.json()["tally"] == {"for": 1, "against": 1, "abstain": 0}
    assert unit_json(assembly, ANIMALS)["text"] == "Los animales son seres sintientes."

    # A third, withdrawn by its author (not by another member) while under debate.
    asa.create(kind="deletion", units=["art_1"], table=True)
    assert admin.act(3, "debate").status_code == 200
    refused = abel.act(3, "withdraw")
    assert refused.status_code == 403 and "author" in refused.json()["error"]
    withdrawn = asa.act(3, "withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert unit_json(assembly, WATER_ARTICLE)["heading"] == "Agua"

    listing = public.get("").json()
    assert listing["counts"] == {"draft": 0, "tabled": 0, "debate": 0, "adopted": 1, "rejected": 1, "withdrawn": 1,
                                 "fallen": 0}
    page = public.page(f"/d/{PUBLISHED}/amendments")
    assert page.status_code == 200
    assert "Amendment 1" in page.text and 'id="state-adopted"' in page.text and 'id="state-withdrawn"' in page.text


def test_refusals_name_the_reason_and_change_nothing(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    vera, lucia, ana = Member(assembly, "vera"), Member(assembly, "lucia"), Member(assembly, "ana")
    anonymous = Member(assembly, None)
    asa.create(kind="substitution", units=[MOBILITY], text="Nuevo texto.", table=True)
    before = admin.get("/1").json()

    def refused(response, status: int, words: str):
        assert response.status_code == status, response.text
        assert words in response.json()["error"], response.json()["error"]

    # Wrong role.
    refused(vera.post("", {"kind": "deletion", "units": [ANIMALS]}), 403, "assembly members")
    refused(ana.post("", {"kind": "deletion", "units": [ANIMALS]}), 403, "assembly members")
    refused(anonymous.post("", {"kind": "deletion", "units": [ANIMALS]}), 401, "Sign in")
    refused(asa.act(1, "debate"), 403, "presiding")
    refused(lucia.vote(1, "for"), 403, "assembly members")
    refused(admin.vote(1, "for"), 403, "assembly members")
    refused(abel.patch("/1", {"text": "Otro."}), 403, "author")
    # Wrong state.
    refused(asa.vote(1, "for"), 409, "under debate")
    refused(asa.act(1, "table"), 409, "tabled")
    refused(admin.act(1, "close"), 409, "under debate")
    refused(asa.patch("/1", {"text": "Otro."}), 409, "draft")
    # Bad input.
    refused(asa.post("", {"kind": "substitution", "units": ["art_99"], "text": "x"}), 400, "'art_99'")
    refused(asa.post("", {"kind": "rewrite", "units": [MOBILITY]}), 400, "kind")
    refused(asa.post("", {"kind": "substitution", "units": [MOBILITY], "text": "Toda persona tiene derecho a moverse.",
                          "heading": "Movilidad"}), 400, "same as the current")
    refused(asa.post("", {"kind": "insertion", "units": [ANIMALS], "position": "inside", "new_kind": "article",
                          "text": "x"}), 400, "cannot go inside")
    refused(asa.post("", {"kind": "deletion", "units": [WATER_ARTICLE, WATER_SUB]}), 400, "inside another unit")
    refused(asa.post("", {"kind": "deletion", "units": [ANIMALS], "cosponsors": [ACCOUNTS["ana"][0]]}), 400,
            "not an assembly member")
    refused(admin.act(1, "adopt"), 400, "Unknown action")
    bad_csrf = asa.session.post(asa.api(""), json={"kind": "deletion", "units": [ANIMALS]}, timeout=10)
    assert bad_csrf.status_code == 400 and "CSRF" in bad_csrf.json()["error"]
    # A double vote.
    assert admin.act(1, "debate").status_code == 200
    assert abel.vote(1, "against").status_code == 201
    refused(abel.vote(1, "for"), 409, "cannot be changed")
    refused(abel.vote(1, "maybe"), 400, "choice")

    after = admin.get("/1").json()
    assert [a["number"] for a in admin.get("").json()["amendments"]] == [1]
    assert after["tally"] == {"for": 0, "against": 1, "abstain": 0}
    assert (after["targets"], after["cosponsors"]) == (before["targets"], before["cosponsors"])
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse."

    # The wrong stage: the draft document is still being drafted.
    elsewhere = Member(assembly, "asa", slug=DRAFT)
    refused(elsewhere.post("", {"kind": "deletion", "units": [ANIMALS]}), 409, "stage Drafting")
    assert elsewhere.get("").json()["amendments"] == []
    # The refused form says so on the page too.
    page = asa.form(f"/d/{PUBLISHED}/amendments/1/state", {"action": "debate"})
    assert page.status_code == 403 and "presiding administrator" in page.text


def test_two_open_amendments_on_one_unit_are_flagged_as_conflicting(assembly):
    asa, abel = Member(assembly, "asa"), Member(assembly, "abel")
    asa.create(kind="substitution", units=[WATER_SUB], text="Toda persona tiene derecho al agua potable.", table=True)
    # A deletion of the whole article touches its sub-units too.
    abel.create(kind="deletion", units=["art_1"], table=True)
    asa.create(kind="substitution", units=[ANIMALS], text="Los animales son seres sintientes y tienen derechos.",
               table=True)
    listing = {a["number"]: a for a in Member(assembly, None).get("").json()["amendments"]}
    assert [c["number"] for c in listing[1]["conflicts"]] == [2]
    assert [c["number"] for c in listing[2]["conflicts"]] == [1]
    assert WATER_SUB in listing[1]["conflicts"][0]["units"]
    assert listing[3]["conflicts"] == []
    page = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments").text
    flagged = re.findall(r'<li class="amendment-item conflicting" data-number="(\d+)"', page)
    assert flagged == ["1", "2"]
    detail = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments/1").text
    assert 'id="conflicts"' in detail and "Touches the same unit as amendment 2" in detail
    # Once one is withdrawn, neither is flagged.
    assert abel.act(2, "withdraw").status_code == 200
    assert Member(assembly, None).get("/1").json()["conflicts"] == []


def test_adoption_is_refused_with_the_conflict_when_the_unit_changed_since_tabling(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a moverse libremente.",
               table=True)
    abel.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a la movilidad.", table=True)
    assert adopt(asa, admin, abel, 1, table=False).json()["state"] == "adopted"
    assert admin.act(2, "debate").status_code == 200
    assert asa.vote(2, "for").status_code == 201 and abel.vote(2, "for").status_code == 201

    refused = admin.act(2, "close")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert "changed since it was tabled" in problem["error"]
    [conflict] = problem["conflicts"]
    assert conflict["unit"] == MOBILITY and conflict["status"] == "changed"
    assert conflict["text"] == [{"op": "keep", "text": "Toda persona tiene derecho a "},
                                {"op": "delete", "text": "moverse."}, {"op": "insert", "text": "moverse libremente."}]
    # Nothing was applied: the amendment is still under debate and the text is the first amendment's.
    second = admin.get("/2").json()
    assert second["state"] == "debate" and second["changes"] == [] and second["tally"]["for"] == 2
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse libremente."
    # The page shows the redline base → current.
    page = admin.form(f"/d/{PUBLISHED}/amendments/2/state", {"action": "close"})
    assert page.status_code == 409
    assert "as tabled" in page.text and "<del>moverse.</del><ins>moverse libremente.</ins>" in page.text
    assert admin.get("/2").json()["state"] == "debate"


def test_adoption_reaches_connected_clients_live_and_is_attributed_to_the_amendment(assembly):
    from collab_client import CollabClient
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from editor.models import Document
    from editor.stages.history import edits_of

    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    clients = [CollabClient(assembly.url, assembly.cookie(who), name=who) for who in ("abel", None)]
    announced: list[dict] = []
    clients[1].sio.on("amendment", announced.append, namespace="/collab")
    for client in clients:
        client.connect()
    try:
        for client in clients:
            assert client.join(PUBLISHED)["ok"]
        new_text = "Toda persona tiene derecho a moverse en transporte público seguro."
        asa.create(kind="substitution", units=[MOBILITY], heading="Movilidad y transporte", text=new_text)
        assert adopt(asa, admin, abel, 1).json()["state"] == "adopted"
        for client in clients:
            assert client.wait_for(lambda c: new_text in c.xml() and "Movilidad y transporte" in c.xml()), client.xml()
            assert "Toda persona tiene derecho a moverse.</p>" not in client.xml()
        from akoma_ntoso import find_unit, read_units
        from crdt.xmltree import fragment_to_etree

        for client in clients:
            with client.lock:
                units = read_units(fragment_to_etree(client.body), {"language": "spa"})
            unit = find_unit(units, MOBILITY)
            assert (unit.heading, unit.text, unit.eid) == ("Movilidad y transporte", new_text, "art_2")
        # Open pages and editors are told of every change of the amendment, in order.
        assert clients[1].wait_for(lambda c: len(announced) >= 6)
        assert [a["state"] for a in announced] == ["draft", "tabled", "debate", "debate", "debate", "adopted"]
        assert {(a["document"], a["number"]) for a in announced} == {(PUBLISHED, 1)}
    finally:
        for client in clients:
            client.close()

    engine = create_engine(f"sqlite:///{assembly.instance / 'constituent.sqlite3'}")
    try:
        with Session(engine) as db:
            document = db.scalar(select(Document).where(Document.slug == PUBLISHED))
            edits = edits_of(db, document, MOBILITY)
            amendment_id = db.execute(
                __import__("sqlalchemy").text("select id from amendment where number = 1 and document_id = :d"),
                {"d": document.id}).scalar_one()
    finally:
        engine.dispose()
    by_amendment = [e for e in edits if e.amendment_id == amendment_id]
    assert len(by_amendment) == 1
    assert by_amendment[0].user_id == user_id(assembly, "admin")
    # The audit log says the amendment changed the text, and which units (it used to say "system",
    # with no units).
    from test_audit import _entries

    rows = [r for r in _entries(assembly.instance, "text.update", PUBLISHED) if r["actor"] == f"amendment:{amendment_id}"]
    assert len(rows) == 1, _entries(assembly.instance, "text.update", PUBLISHED)
    assert MOBILITY in rows[0]["detail"]["units"]
    assert not [r for r in _entries(assembly.instance, "text.update", PUBLISHED) if r["actor"] == "system"]


def test_the_akn_export_records_the_adopted_amendment_and_the_amendment_has_its_own_valid_akn(assembly):
    from akoma_ntoso.akn import validate

    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="substitution", units=[ANIMALS], text="Los animales son seres sintientes y tienen derechos.",
               justification="Reconocer sus derechos.\nComo en otras constituciones.", cosponsors=["abel@example.org"])
    assert adopt(asa, admin, abel, 1).json()["state"] == "adopted"

    response = requests.get(f"{assembly.url}/api/v1/documents/{PUBLISHED}/akn", timeout=15)
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert validate(root) == []
    reference = root.find(".//a:references/a:TLCReference[@name='amendment']", NS)
    assert reference is not None and reference.get("eId") == "amendment_1" and reference.get("showAs") == "Enmienda 1"
    event = root.find(".//a:lifecycle/a:eventRef[@type='amendment']", NS)
    assert event is not None and event.get("source") == "#amendment_1"
    [mod] = root.findall(".//a:passiveModifications/a:textualMod", NS)
    assert mod.get("type") == "substitution"
    assert mod.find("a:source", NS).get("href") == "#amendment_1"
    assert mod.find("a:destination", NS).get("href") == "#art_3"
    texts = ["".join(e.itertext()).strip() for e in (mod.find("a:old", NS), mod.find("a:new", NS))]
    assert texts == ["Animales\nLos animales son seres sintientes.",
                     "Animales\nLos animales son seres sintientes y tienen derechos."]
    article = root.find(".//a:article[@eId='art_3']", NS)
    assert "".join(article.find("a:content", NS).itertext()).strip() == "Los animales son seres sintientes y tienen derechos."

    own = requests.get(f"{assembly.url}/api/v1/documents/{PUBLISHED}/amendments/1/akn", timeout=15)
    assert own.status_code == 200 and own.headers["Content-Type"].startswith("application/akn+xml")
    amendment = etree.fromstring(own.content)
    assert validate(amendment) == []
    assert amendment.find("a:amendment", NS) is not None
    assert reference.get("href") == amendment.find(".//a:FRBRWork/a:FRBRuri", NS).get("value")
    assert amendment.find(".//a:references/a:activeRef", NS).get("href").startswith("/akn/mx-cmx/bill/")
    content = "".join(amendment.find(".//a:amendmentContent", NS).itertext())
    assert "Se reforma el Artículo 3, para quedar como sigue:" in content
    assert "Los animales son seres sintientes y tienen derechos." in content
    assert [p.text for p in amendment.findall(".//a:amendmentJustification/a:p", NS)] == [
        "Reconocer sus derechos.", "Como en otras constituciones."]
    assert [c.get("value") for c in amendment.findall(".//a:voting/a:count", NS)] == ["2", "0", "0"]
    assert amendment.find(".//a:docStatus", NS).text == "aprobada"
    # The amendment's page links it.
    page = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments/1").text
    assert f"/api/v1/documents/{PUBLISHED}/amendments/1/akn" in page


def test_an_insertion_and_a_deletion_leave_a_readable_document(assembly):
    from collab_client import CollabClient

    from akoma_ntoso import read_units
    from akoma_ntoso.akn import validate
    from crdt.xmltree import fragment_to_etree

    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="insertion", units=["art_1"], position="after", new_kind="article", heading="Vivienda",
               text="Toda persona tiene derecho a una vivienda adecuada.")
    assert adopt(asa, admin, abel, 1).json()["state"] == "adopted"
    asa.create(kind="insertion", units=[WATER_SUB], position="inside", new_kind="point",
               text="El agua potable será gratuita para el consumo básico.")
    assert adopt(asa, admin, abel, 2).json()["state"] == "adopted"
    asa.create(kind="deletion", units=[ANIMALS])
    assert adopt(asa, admin, abel, 3).json()["state"] == "adopted"

    outline = requests.get(f"{assembly.url}/api/v1/documents/{PUBLISHED}", timeout=10).json()["outline"]
    articles = outline[0]["children"]
    assert [(a["label"], a["heading"]) for a in articles] == [
        ("Artículo 1", "Agua"), ("Artículo 2", "Vivienda"), ("Artículo 3", "Movilidad")]
    point = articles[0]["children"][0]["children"][0]["children"][0]
    assert (point["kind"], point["eId"]) == ("point", "art_1__para_A__subpara_1__point_I")
    inserted = admin.get("/1").json()
    assert inserted["changes"][0]["type"] == "insertion" and inserted["changes"][0]["eId_after"] == "art_2"
    assert inserted["insertion"]["guid"] == articles[1]["guid"]
    assert admin.get("/3").json()["changes"][0]["eId_before"] == "art_4"

    client = CollabClient(assembly.url, None, name="reader").connect()
    try:
        assert client.join(PUBLISHED)["ok"]
        with client.lock:
            units = read_units(fragment_to_etree(client.body), {"language": "spa"})
    finally:
        client.close()
    assert [u.heading for u in units[0].children] == ["Agua", "Vivienda", "Movilidad"]
    assert ANIMALS not in {u.guid for u in units[0].children}

    akn = requests.get(f"{assembly.url}/api/v1/documents/{PUBLISHED}/akn", timeout=15)
    assert akn.status_code == 200
    root = etree.fromstring(akn.content)
    assert validate(root) == []
    mods = root.findall(".//a:passiveModifications/a:textualMod", NS)
    assert [(m.get("type"), m.find("a:destination", NS).get("href")) for m in mods] == [
        ("insertion", "#art_2"), ("insertion", "#art_1__para_A__subpara_1__point_I"), ("repeal", "#art_4")]
    assert requests.get(f"{assembly.url}/d/{PUBLISHED}", timeout=10).status_code == 200
    for number in (1, 2, 3):
        own = requests.get(f"{assembly.url}/api/v1/documents/{PUBLISHED}/amendments/{number}/akn", timeout=15)
        assert own.status_code == 200 and validate(etree.fromstring(own.content)) == []


def test_members_write_and_table_an_amendment_with_the_pages(assembly):
    asa, admin = Member(assembly, "asa"), Member(assembly, "admin")
    first = asa.page(f"/d/{PUBLISHED}/amendments/new")
    assert first.status_code == 200 and f'value="{MOBILITY}"' in first.text and "Artículo 1, apartado A" in first.text
    second = asa.page(f"/d/{PUBLISHED}/amendments/new?kind=substitution&unit={MOBILITY}&unit={ANIMALS}")
    assert second.status_code == 200
    assert 'name="heading_1"' in second.text and "Los animales son seres sintientes.</textarea>" in second.text
    abel_id = user_id(assembly, "abel")
    assert f'name="cosponsor" value="{abel_id}"' in second.text
    posted = asa.form(f"/d/{PUBLISHED}/amendments/new", {
        "kind": "substitution", "unit": [MOBILITY, ANIMALS],
        "heading_0": "Movilidad", "text_0": "Toda persona tiene derecho a moverse.\r\n\r\nCon seguridad.",
        "heading_1": "Animales", "text_1": "Los animales son seres sintientes.",
        "justification": "Seguridad vial.", "cosponsor": str(abel_id), "submit": "table"})
    assert posted.status_code == 303, posted.text
    assert posted.headers["Location"].endswith(f"/d/{PUBLISHED}/amendments/1")
    made = asa.get("/1").json()
    assert made["state"] == "tabled" and [c["id"] for c in made["cosponsors"]] == [abel_id]
    assert made["targets"][0]["proposed"]["text"] == "Toda persona tiene derecho a moverse.\nCon seguridad."

    detail = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments/1")
    assert detail.status_code == 200
    assert "Con seguridad.</ins>" in detail.text
    assert "Seguridad vial." in detail.text and "Open the debate" not in detail.text
    admin_view = admin.page(f"/d/{PUBLISHED}/amendments/1").text
    assert "Open the debate" in admin_view
    opened = admin.form(f"/d/{PUBLISHED}/amendments/1/state", {"action": "debate"})
    assert opened.status_code == 303
    voted = asa.form(f"/d/{PUBLISHED}/amendments/1/vote", {"choice": "abstain"})
    assert voted.status_code == 303
    assert asa.get("/1").json()["tally"] == {"for": 0, "against": 0, "abstain": 1}

    # The author changes a draft with the same form.
    draft = asa.create(kind="deletion", units=[ANIMALS])
    form = asa.page(f"/d/{PUBLISHED}/amendments/{draft['number']}/edit")
    assert form.status_code == 200 and f'name="unit" value="{ANIMALS}"' in form.text
    assert Member(assembly, "abel").page(f"/d/{PUBLISHED}/amendments/{draft['number']}/edit").status_code in (403, 404)
    rewritten = asa.form(f"/d/{PUBLISHED}/amendments/{draft['number']}/edit", {
        "kind": "deletion", "unit": [ANIMALS, MOBILITY], "justification": "Sobran.", "submit": "draft"})
    assert rewritten.status_code == 303, rewritten.text
    assert asa.get(f"/{draft['number']}").json()["units"] == [ANIMALS, MOBILITY]

    # A refused form keeps what was typed and says why.
    bad = asa.form(f"/d/{PUBLISHED}/amendments/new", {
        "kind": "insertion", "unit": ANIMALS, "position": "inside", "new_kind": "article", "text": "Texto nuevo.",
        "submit": "draft"})
    assert bad.status_code == 400 and "Nothing was saved" in bad.text and "Texto nuevo." in bad.text
    assert [a["number"] for a in asa.get("").json()["amendments"]] == [1, 2]
    # The reading view links the amendments.
    assert f'href="/d/{PUBLISHED}/amendments"' in Member(assembly, None).page(f"/d/{PUBLISHED}").text
    # Only assembly members reach the form.
    assert Member(assembly, "vera").page(f"/d/{PUBLISHED}/amendments/new").status_code == 403


def test_openapi_describes_the_amendment_paths(assembly):
    paths = requests.get(f"{assembly.url}/api/v1/openapi.json", timeout=10).json()["paths"]
    for path in ("/api/v1/documents/{slug}/amendments", "/api/v1/documents/{slug}/amendments/{number}",
                 "/api/v1/documents/{slug}/amendments/{number}/state",
                 "/api/v1/documents/{slug}/amendments/{number}/votes",
                 "/api/v1/documents/{slug}/amendments/{number}/akn"):
        assert path in paths


# --- the amendment document, without a server --------------------------------------------------------


def test_the_amendment_document_says_what_changes_in_the_documents_language():
    from akoma_ntoso.akn import Expression, Work, validate
    from akoma_ntoso.amendment import (
        AmendmentDocument,
        Modification,
        Person,
        Wording,
        export_amendment,
        instruction,
    )

    target = Wording("point", "I.", "art_4__point_I", "", "Texto.", citation="Artículo 4, fracción I")
    new = Wording("indent", "a)", "art_4__point_I__indent_a", "", "Inciso nuevo.")
    assert instruction(Modification("repeal", target), "spa") == "Se suprime el Artículo 4, fracción I."
    assert instruction(Modification("insertion", target, new, "inside"), "spa") == \
        "Se adiciona un inciso al Artículo 4, fracción I, con el texto siguiente:"
    assert instruction(Modification("insertion", target, new, "after"), "eng") == \
        "The following indent is inserted after Artículo 4, fracción I:"
    document = AmendmentDocument(
        number=7, amended=Work(place="mx-cmx", doctype="bill", date="2016-09-15", number="constitucion",
                               title="Constitución"),
        amended_expression=Expression(language="spa", date="2017-01-10"), date="2017-01-10", state="tabled",
        author=Person("3", "Asa"), modifications=(Modification("insertion", target, new, "inside"),))
    root = export_amendment(document)
    assert validate(root) == []
    assert root.find(".//a:FRBRWork/a:FRBRuri", NS).get("value") == "/akn/mx-cmx/amendment/2017-01-10/constitucion-amd-7"
    quoted = root.find(".//a:quotedStructure/a:indent", NS)
    assert quoted.find("a:num", NS).text == "a)" and "".join(quoted.itertext()).endswith("Inciso nuevo.")
