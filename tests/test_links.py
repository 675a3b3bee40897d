"""Provenance links made from the editor: they follow their unit (by GUID) through edits,
renumbering, moves and a restart; splits and merges are reported with where the text went;
only editors change links; suggestions rank the right clauses of the Mexico City constitution."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, datetime, timezone

import pytest
import requests
from conftest import ACCOUNTS, CDMX, DRAFT, PASSWORD, PUBLISHED, LiveServer, login
from pycrdt import XmlElement, XmlText

MOBILITY = "00000000-0000-4000-8000-000000000004"
ANIMALS = "00000000-0000-4000-8000-000000000005"
WATER_SUB = "00000000-0000-4000-8000-000000000003"
NEW_ARTICLE = "11111111-1111-4111-8111-111111111111"
SPLIT_HALF = "22222222-2222-4222-8222-222222222222"

MOBILITY_TEXT = (
    "Toda persona tiene derecho a moverse por la ciudad en transporte público seguro, accesible y asequible. "
    "Las autoridades construirán ciclovías, banquetas amplias y cruces seguros para peatones."
)


def add_sources(instance, slug: str = PUBLISHED, database_url: str | None = None) -> dict[str, int]:
    """Petitions, themes and an event for `slug`, written straight into the instance's database
    (or the one at `database_url`)."""
    from editor import create_app
    from editor.documents import get_document
    from editor.petitions.models import Petition, SignatureCount
    from editor.provenance.models import CitizenEvent
    from editor.survey.models import Theme

    overrides = {"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"}
    if database_url:
        overrides["DATABASE_URL"] = database_url
    app = create_app(overrides)
    services = app.extensions["constituent"]
    db = services.db
    document = get_document(db, slug)
    rivers = Petition(document_id=document.id, key="https://change.org/rios",
                      title="Rescue Mexico City's rivers! Mexico City needs a comprehensive water policy",
                      petitioners="Carlo Patricio Pérez Castillo", url="https://change.org/rios")
    mobility = Petition(document_id=document.id, key="movilidad", title="Movilidad sustentable",
                        petitioners="Alejandro Posadas", proposal="Ciclovías y banquetas seguras para peatones.")
    water = Theme(document_id=document.id, key="agua", name="Agua",
                  synonyms='["agua potable", "falta de agua", "escasez de agua", "fugas de agua"]')
    animals = Theme(document_id=document.id, key="animales", name="Animales", synonyms='["mascotas", "maltrato animal"]')
    forum = CitizenEvent(document_id=document.id, title="Foro sobre el transporte", held_on=date(2016, 6, 1),
                         place="Coyoacán", conclusions="Más transporte público y ciclovías.")
    db.add_all([rivers, mobility, water, animals, forum])
    db.flush()
    db.add(SignatureCount(petition_id=rivers.id, counted_at=datetime(2016, 9, 1, tzinfo=timezone.utc), signatures=17306))
    db.commit()
    ids = {"rivers": rivers.id, "mobility": mobility.id, "water": water.id, "animals": animals.id, "forum": forum.id}
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    return ids


class Api:
    """A signed-in (or anonymous) HTTP client holding the editor page's CSRF token."""

    def __init__(self, server, who: str | None, slug: str = PUBLISHED) -> None:
        self.base = server.url
        self.slug = slug
        self.session = login(server.url, ACCOUNTS[who][0], PASSWORD) if who else requests.Session()
        self.session.headers["Accept-Language"] = "en"  # the error messages asserted below are English
        page = self.session.get(f"{server.url}/d/{slug}/edit", timeout=10)
        found = re.search(r'data-csrf="([^"]+)"', page.text)
        self.token = found.group(1) if found else ""

    def url(self, path: str) -> str:
        return f"{self.base}/api/v1/documents/{self.slug}{path}"

    def get(self, path: str, **kwargs):
        return self.session.get(self.url(path), timeout=15, **kwargs)

    def send(self, method: str, path: str, json=None, token: bool = True, **kwargs):
        headers = {"X-CSRFToken": self.token} if token else {}
        return self.session.request(method, self.url(path), json=json, headers=headers, timeout=15, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.send("POST", path, json, **kwargs)

    def links(self, key: str) -> list[dict]:
        response = self.get(f"/units/{key}/links")
        assert response.status_code == 200, response.text
        return response.json()["links"]


@pytest.fixture
def sources(instance):
    return add_sources(instance)


@pytest.fixture
def live(instance, sources):
    server = LiveServer(instance).start()
    yield server
    server.stop()


@pytest.fixture
def clients(live):
    """Collaboration clients (pycrdt replicas over /collab) of the `live` server."""
    from collab_client import CollabClient

    made = []

    def make(who: str | None):
        client = CollabClient(live.url, live.cookie(who), name=who or "anonymous").connect()
        made.append(client)
        assert client.join(PUBLISHED)["ok"]
        return client

    yield make
    for client in made:
        client.close()


def _wait(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def _unit(server, key: str) -> dict | None:
    response = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{key}", timeout=10)
    return response.json() if response.status_code == 200 else None


def _title(client):
    return client.body.children[0]


def _article_index(client, guid: str) -> int:
    for i, child in enumerate(_title(client).children):
        if getattr(child, "tag", None) == "article" and child.attributes.get("guid") == guid:
            return i
    raise AssertionError(f"no article {guid}")


def _article(guid: str, heading: str, text: str) -> XmlElement:
    return XmlElement("article", {"guid": guid}, [XmlElement("heading", {}, [XmlText(heading)]),
                                                  XmlElement("p", {}, [XmlText(text)])])


def _set_text(client, guid: str, text: str) -> None:
    def change(body):
        article = _title(client).children[_article_index(client, guid)]
        p = next(c for c in article.children if c.tag == "p")
        content = p.children[0]
        del content[0:len(content)]
        content.insert(0, text)
    client.edit(change)


# --- links follow their unit ------------------------------------------------------------------


def test_a_link_survives_editing_renumbering_moving_and_a_restart(live, sources):
    ana_api = Api(live, "ana")
    made = ana_api.post("/links", {"unit": MOBILITY, "source_kind": "petition", "source_id": sources["mobility"],
                                   "relation": "incorporates", "note": "Propuesta de ciclovías"})
    assert made.status_code == 201, made.text
    link_id = made.json()["link"]["id"]
    assert made.json()["link"]["source"]["title"] == "Movilidad sustentable"
    assert made.json()["link"]["author"] == "Ana"

    def still_linked(key: str = MOBILITY) -> dict:
        [link] = ana_api.links(key)
        assert link["id"] == link_id and link["relation"] == "incorporates" and link["note"] == "Propuesta de ciclovías"
        return link

    from collab_client import CollabClient

    ana = CollabClient(live.url, live.cookie("ana"), name="ana").connect()
    try:
        assert ana.join(PUBLISHED)["ok"]
        # 1. Editing its text.
        _set_text(ana, MOBILITY, "Toda persona tiene derecho a moverse libremente, a pie o en bicicleta.")
        _wait(lambda: "libremente" in (_unit(live, MOBILITY) or {}).get("text", ""), what="the edit")
        assert still_linked()["health"]["status"] in ("ok", "changed")

        # 2. Inserting an article before it: it is renumbered, the link stays on it.
        ana.edit(lambda body: _title(ana).children.insert(1, _article(NEW_ARTICLE, "Áreas verdes", "Parques para todos.")))
        renumbered = _wait(lambda: (u := _unit(live, MOBILITY)) and u["eId"] == "art_3" and u, what="renumbering")
        assert renumbered["guid"] == MOBILITY and renumbered["heading"] == "Movilidad"
        link = still_linked("art_3")  # found by its new eId too
        assert link["unit"] == MOBILITY and link["unit_label"] == "Artículo 3" and link["linked_as"] == "Art. 2"
        assert ana_api.links(NEW_ARTICLE) == []  # the new article did not inherit it

        # 3. Moving it to the end of the title (as the editor does: removed and inserted again, same GUID).
        def move(body):
            index = _article_index(ana, MOBILITY)
            text = str(_title(ana).children[index].children[1].children[0])
            del _title(ana).children[index]
            _title(ana).children.append(_article(MOBILITY, "Movilidad", text))
        ana.edit(move)
        moved = _wait(lambda: (u := _unit(live, MOBILITY)) and u["eId"] == "art_4" and u, what="the move")
        assert moved["text"].startswith("Toda persona tiene derecho a moverse libremente")
        assert still_linked()["unit_label"] == "Artículo 4"
    finally:
        ana.close()

    # 4. A restart of the server.
    live.stop()
    live.start()
    link = still_linked("art_4")
    assert link["unit"] == MOBILITY and link["source"]["kind"] == "petition"
    assert requests.get(f"{live.url}/api/v1/documents/{PUBLISHED}/units/{MOBILITY}/links", timeout=10).json()["links"][0]["id"] == link_id


def test_changes_are_announced_to_every_open_editor(live, sources, clients):
    bruno = clients("bruno")
    heard: list[dict] = []
    arrived = threading.Event()

    def on_provenance(data):
        heard.append(data)
        arrived.set()

    bruno.sio.on("provenance", on_provenance, namespace="/collab")
    ana_api = Api(live, "ana")
    made = ana_api.post("/links", {"unit": ANIMALS, "source_kind": "theme", "source_id": sources["animals"]})
    assert made.status_code == 201
    assert arrived.wait(10), "no provenance event reached the other editor"
    assert heard[0] == {"document": PUBLISHED, "unit": ANIMALS}
    # The change was committed before the event: a read right away sees it.
    assert [link["source"]["title"] for link in Api(live, "bruno").links(ANIMALS)] == ["Animales"]

    arrived.clear()
    assert ana_api.send("DELETE", f"/links/{made.json()['link']['id']}").status_code == 200
    assert arrived.wait(10)
    assert heard[-1] == {"document": PUBLISHED, "unit": ANIMALS}
    assert Api(live, "bruno").links(ANIMALS) == []


# --- splits and merges --------------------------------------------------------------------------


def _health(api) -> dict[int, dict]:
    response = api.get("/links/health")
    assert response.status_code == 200, response.text
    return {link["id"]: link for link in response.json()["links"]}


def test_a_split_and_a_merge_are_reported_with_where_the_text_went(live, sources, clients):
    ana = clients("ana")
    api = Api(live, "ana")
    _set_text(ana, MOBILITY, MOBILITY_TEXT)
    _wait(lambda: "ciclovías" in (_unit(live, MOBILITY) or {}).get("text", ""), what="the longer text")
    split_link = api.post("/links", {"unit": MOBILITY, "source_kind": "event", "source_id": sources["forum"]}).json()["link"]
    merged_link = api.post("/links", {"unit": ANIMALS, "source_kind": "theme", "source_id": sources["animals"]}).json()["link"]
    assert _health(api) == {}

    # Split: the second sentence goes into a new article after it.
    first, second = MOBILITY_TEXT.split(". ", 1)

    def split(body):
        index = _article_index(ana, MOBILITY)
        p = _title(ana).children[index].children[1].children[0]
        del p[len(first) + 1:len(p)]
        _title(ana).children.insert(index + 1, _article(SPLIT_HALF, "", second))
    ana.edit(split)
    report = _wait(lambda: _health(api).get(split_link["id"]), what="the split to be reported")
    assert report["health"]["status"] == "changed"
    assert [p["guid"] for p in report["health"]["now_in"]] == [SPLIT_HALF]
    assert report["health"]["now_in"][0]["label"] == "Artículo 3"
    # The unit's own view says so, and the new unit is offered the link.
    assert api.links(MOBILITY)[0]["health"]["status"] == "changed"
    arrivals = api.get(f"/units/{SPLIT_HALF}/links").json()["arrivals"]
    assert [a["id"] for a in arrivals] == [split_link["id"]]

    # The committee copies the link to the new unit: both halves are linked and nothing is flagged.
    copied = api.post(f"/links/{split_link['id']}/copy", {"unit": SPLIT_HALF})
    assert copied.status_code == 201, copied.text
    assert [link["source"]["id"] for link in api.links(SPLIT_HALF)] == [sources["forum"]]
    assert split_link["id"] not in _health(api)

    # Merge: the animals article goes into the water article (its text appended, the unit removed).
    def merge(body):
        index = _article_index(ana, ANIMALS)
        text = str(_title(ana).children[index].children[1].children[0])
        del _title(ana).children[index]
        water = _title(ana).children[_article_index(ana, "00000000-0000-4000-8000-000000000001")]
        subparagraph = water.children[1].children[1]
        subparagraph.children[0].children[0].insert(len(subparagraph.children[0].children[0]), " " + text)
    ana.edit(merge)
    gone = _wait(lambda: _health(api).get(merged_link["id"]), what="the merge to be reported")
    assert gone["health"]["status"] == "gone"
    assert [p["guid"] for p in gone["health"]["now_in"]] == [WATER_SUB], (
        gone, requests.get(f"{live.url}/api/v1/documents/{PUBLISHED}/text").text)

    moved = api.post(f"/links/{merged_link['id']}/move", {"unit": WATER_SUB})
    assert moved.status_code == 200, moved.text
    assert [link["source"]["title"] for link in api.links(WATER_SUB)] == ["Animales"]
    assert _health(api) == {}

    # A unit deleted outright: gone, and its text is nowhere.
    mobility_link = api.post("/links", {"unit": SPLIT_HALF, "source_kind": "petition",
                                        "source_id": sources["mobility"]}).json()["link"]
    ana.edit(lambda body: _title(ana).children.__delitem__(_article_index(ana, SPLIT_HALF)))
    deleted = _wait(lambda: _health(api).get(mobility_link["id"]), what="the deletion to be reported")
    assert deleted["health"] == {"status": "gone", "share": 0.0, "now_in": []}


# --- rights and bad input -----------------------------------------------------------------------


def test_only_editors_change_links_and_bad_input_changes_nothing(live, sources):
    ana, vera, anonymous = Api(live, "ana"), Api(live, "vera"), Api(live, None)
    good = {"unit": MOBILITY, "source_kind": "petition", "source_id": sources["rivers"], "relation": "motivated"}
    made = ana.post("/links", good)
    assert made.status_code == 201
    link_id = made.json()["link"]["id"]

    def state():
        return [(link["id"], link["relation"], link["note"], link["unit"]) for g in (MOBILITY, ANIMALS)
                for link in ana.links(g)]

    before = state()
    # Readers read.
    assert [link["id"] for link in vera.links(MOBILITY)] == [link_id]
    assert [link["id"] for link in anonymous.links(MOBILITY)] == [link_id]
    assert anonymous.links(MOBILITY)[0]["source"]["signatures"] == 17306
    # …but do not write.
    changes = [("POST", "/links", {**good, "unit": ANIMALS}), ("DELETE", f"/links/{link_id}", None),
               ("POST", f"/links/{link_id}/move", {"unit": ANIMALS}), ("POST", f"/links/{link_id}/copy", {"unit": ANIMALS}),
               ("POST", f"/links/{link_id}/acknowledge", {}),
               ("POST", "/suggestions/reject", {"unit": ANIMALS, "source_kind": "theme", "source_id": sources["animals"]})]
    for method, path, body in changes:
        refused = vera.send(method, path, body)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["status"] == 403 and refused.json()["error"]
        assert anonymous.send(method, path, body).status_code == 401
        assert ana.send(method, path, body, token=False).status_code == 400  # no CSRF token
        assert "CSRF" in ana.send(method, path, body, token=False).json()["error"]
    # Bad input, each with a message naming the problem.
    bad = [
        ({**good, "source_kind": "tweet"}, "tweet"),
        ({**good, "source_id": "many"}, "source_id"),
        ({**good, "source_id": 99999}, "99999"),
        ({**good, "unit": "art_99"}, "art_99"),
        ({**good, "relation": "inspired"}, "inspired"),
        ({**good, "note": "x" * 2001}, "2,000"),
        ({"source_kind": "petition", "source_id": sources["rivers"]}, "unit"),
        ([good], "JSON object"),
    ]
    for body, named in bad:
        refused = ana.post("/links", body)
        assert refused.status_code in (400, 404), (body, refused.text)
        assert named in refused.json()["error"], refused.json()
    assert ana.post(f"/links/{link_id}/move", {"unit": "nowhere"}).status_code == 400
    assert ana.send("DELETE", "/links/424242").status_code == 404
    assert ana.get("/sources?kind=tweets").status_code == 400
    assert ana.get("/sources?limit=5000").status_code == 400
    assert state() == before
    # A draft's links are invisible to the public.
    assert requests.get(f"{live.url}/api/v1/documents/{DRAFT}/units/{MOBILITY}/links", timeout=10).status_code == 404
    # Linking the same pair again updates it (200), it does not duplicate it.
    again = ana.post("/links", {**good, "relation": "related", "note": "otra vez"})
    assert again.status_code == 200 and again.json()["created"] is False
    assert [(link["id"], link["relation"]) for link in ana.links(MOBILITY)] == [(link_id, "related")]


def test_the_source_picker_searches_accent_insensitively(instance, sources):
    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    reader = app.test_client()  # anonymous: the document is published

    def get(path: str) -> dict:
        response = reader.get(f"/api/v1/documents/{PUBLISHED}{path}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    titles = lambda q, kind="": [s["title"] for s in get(f"/sources?q={q}&kind={kind}")["sources"]]  # noqa: E731
    assert titles("perez castillo") == ["Rescue Mexico City's rivers! Mexico City needs a comprehensive water policy"]
    assert titles("AGUA") == ["Agua"]
    assert titles("coyoacan") == ["Foro sobre el transporte"]
    assert titles("movil") == ["Movilidad sustentable"]
    assert titles("", "theme") == ["Agua", "Animales"]
    everything = get("/sources?limit=2")
    assert everything["total"] == 5 and everything["truncated"] is True and len(everything["sources"]) == 2
    # Without a survey nobody "raised" a theme; with one, each respondent counts once.
    assert get("/sources?q=agua")["sources"][0]["respondents"] is None
    from editor.survey.models import Answer, Coding, Respondent, Survey, SurveyQuestion

    with app.app_context():
        db = app.extensions["constituent"].db
        from editor.documents import get_document

        survey = Survey(document_id=get_document(db, PUBLISHED).id, title="Consulta", synthetic=True)
        db.add(survey)
        db.flush()
        question = SurveyQuestion(survey_id=survey.id, position=1, text="¿Qué le preocupa?", coded=True)
        people = [Respondent(survey_id=survey.id, receipt_hash=f"{i:064x}", responded_at=datetime(2016, 5, i + 1))
                  for i in range(3)]
        db.add_all([question, *people])
        db.flush()
        answers = [Answer(respondent_id=people[i].id, question_id=question.id, text=text)
                   for i, text in ((0, "falta de agua"), (0, "fugas de agua"), (1, "agua potable"), (2, "baches"))]
        db.add_all(answers)
        db.flush()
        db.add_all([Coding(answer_id=a.id, theme_id=sources["water"]) for a in answers[:3]])
        db.commit()
    assert get("/sources?q=agua")["sources"][0]["respondents"] == 2
    assert get("/sources?q=animales")["sources"][0]["respondents"] == 0
    services = app.extensions["constituent"]
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


# --- suggestions on the Mexico City constitution -----------------------------------------------


@pytest.fixture
def cdmx_app(cdmx_instance):
    from editor import create_app

    ids = add_sources(cdmx_instance, CDMX)
    app = create_app({"INSTANCE_PATH": str(cdmx_instance), "SECRET_KEY": "test-secret"})
    yield app, ids
    services = app.extensions["constituent"]
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


def _signed_in(app, who: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token}).status_code == 302
    editor_page = client.get(f"/d/{CDMX}/edit").get_data(as_text=True)
    return client, re.search(r'data-csrf="([^"]+)"', editor_page).group(1)


def test_suggestions_find_the_water_clauses_of_the_mexico_city_constitution(cdmx_app):
    app, ids = cdmx_app
    client, token = _signed_in(app, "ana")
    water, rivers = ids["water"], ids["rivers"]
    water_clauses = {"art_16__para_B", "art_9__para_F"}

    theme = client.get(f"/api/v1/documents/{CDMX}/sources/theme/{water}/suggestions").get_json()["suggestions"]
    assert water_clauses & {s["eId"] for s in theme[:3]}, [s["eId"] for s in theme]
    assert water_clauses <= {s["eId"] for s in theme[:5]}, [s["eId"] for s in theme]
    top = next(s for s in theme if s["eId"] == "art_16__para_B")
    assert top["label"] == "Artículo 16 B." and top["heading"] == "Gestión sustentable del agua" and top["snippet"]

    # An English petition title against the Spanish text.
    petition = client.get(f"/api/v1/documents/{CDMX}/sources/petition/{rivers}/suggestions").get_json()["suggestions"]
    eids = [s["eId"] for s in petition]
    assert "art_16__para_B" in eids[:5], eids
    assert all(e.startswith("art_16__para_B") for e in eids[:3]), eids  # rivers, water policy

    # The other way round: which sources does Art. 16 B come from?
    sources = client.get(f"/api/v1/documents/{CDMX}/units/art_16__para_B/suggestions").get_json()["suggestions"]
    assert {(s["kind"], s["id"]) for s in sources[:2]} == {("theme", water), ("petition", rivers)}, sources

    # Rejecting a suggestion removes it (both ways), and only that one.
    b_guid = top["guid"]
    rejected = client.post(f"/api/v1/documents/{CDMX}/suggestions/reject",
                           json={"unit": b_guid, "source_kind": "theme", "source_id": water},
                           headers={"X-CSRFToken": token})
    assert rejected.status_code == 200, rejected.get_json()
    again = client.get(f"/api/v1/documents/{CDMX}/sources/theme/{water}/suggestions").get_json()["suggestions"]
    assert "art_16__para_B" not in [s["eId"] for s in again]
    assert "art_9__para_F" in [s["eId"] for s in again[:5]]
    assert ("theme", water) not in {(s["kind"], s["id"]) for s in client.get(
        f"/api/v1/documents/{CDMX}/units/{b_guid}/suggestions").get_json()["suggestions"]}

    # Confirming one links it, and it is no longer suggested.
    f_guid = next(s["guid"] for s in again if s["eId"] == "art_9__para_F")
    confirmed = client.post(f"/api/v1/documents/{CDMX}/links", headers={"X-CSRFToken": token},
                            json={"unit": f_guid, "source_kind": "theme", "source_id": water, "origin": "suggestion"})
    assert confirmed.status_code == 201 and confirmed.get_json()["link"]["origin"] == "suggestion"
    after = client.get(f"/api/v1/documents/{CDMX}/sources/theme/{water}/suggestions").get_json()["suggestions"]
    assert "art_9__para_F" not in [s["eId"] for s in after]
