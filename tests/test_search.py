"""Full-text search (`/search`, `/api/v1/search`): across the live text, the petitions, the survey
themes and the citizen events; accent-insensitive and Spanish-aware; drafts only for those who may
read them; fresh after live edits and data changes, also across server processes; on SQLite (FTS5)
and PostgreSQL (tsvector, 'spanish' + unaccent)."""

from __future__ import annotations

import html
import re
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
import requests
from conftest import CDMX, CDMX_TEXT, DRAFT, PASSWORD, PUBLISHED, SHARED_DATA, SMALL_BODY, LiveServer, require

PETITIONS_2016 = SHARED_DATA / "cdmx" / "petitions-2016.csv"
RIVERS = "Rescue Mexico City's rivers! Mexico City needs a comprehensive water policy"
EN = {"Accept-Language": "en"}


def _seed_cdmx_sources(app) -> dict:
    """The 2016 petitions (linked by their references), the default survey themes and one event."""
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.petitions.models import Petition
    from editor.petitions.service import import_petitions
    from editor.provenance.models import CitizenEvent
    from editor.survey.coder import ensure_taxonomy

    require(PETITIONS_2016.exists(), f"the 2016 petitions are not at {PETITIONS_2016}")
    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        document = get_document(db, CDMX)
        units = read_live(services, CDMX).units
        import_petitions(db, document, PETITIONS_2016.read_bytes(), "csv",
                         at=datetime(2016, 9, 1, tzinfo=timezone.utc), units=units)
        ensure_taxonomy(db, document)
        db.add(CitizenEvent(document_id=document.id, title="Foro vecinal sobre movilidad en Iztapalapa",
                            held_on=date(2016, 5, 7), place="Iztapalapa",
                            conclusions="Más transporte público y ciclovías seguras."))
        db.commit()
        rivers = db.query(Petition).filter_by(document_id=document.id, title=RIVERS).one()
        return {"rivers": rivers.id, "document": document.id}


@pytest.fixture
def cdmx_site(cdmx_instance):
    """The application over the Mexico City constitution (published) with its 2016 petitions."""
    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(cdmx_instance), "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False})
    ids = _seed_cdmx_sources(app)
    yield app, ids
    services = app.extensions["constituent"]
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


def _page(client, q, **args) -> str:
    response = client.get("/search", query_string={"q": q, **args}, headers=EN)
    assert response.status_code == 200, (q, response.status_code)
    return response.get_data(as_text=True)


def _links(page: str) -> list[str]:
    """The result links of a search page, in order."""
    return re.findall(r'<a class="search-hit-title" href="([^"]+)"', page)


def _units(page: str, slug: str = CDMX) -> list[str]:
    return [href.rsplit("/", 1)[1] for href in _links(page) if href.startswith(f"/d/{slug}/")
            and "/petitions/" not in href and "/themes/" not in href and "/events/" not in href]


# --- what "agua" finds, and Spanish-aware matching ------------------------------------------


def test_agua_finds_the_water_clauses_the_rivers_petition_and_the_water_theme(cdmx_site):
    app, ids = cdmx_site
    page = _page(app.test_client(), "agua")
    units = _units(page)
    # The right to water (Artículo 9 F) and the sustainable management of water (16 B) lead.
    assert "art_9__para_F" in units[:3] and "art_16__para_B" in units[:3]
    assert "art_9__para_F__subpara_1" in _units(_page(app.test_client(), "agua", kind="unit"))
    # The 2016 petition to rescue the rivers (in English: "water policy" is bridged to "agua").
    assert f"/d/{CDMX}/petitions/{ids['rivers']}" in _links(page)
    assert html.escape(RIVERS, quote=False) in html.unescape(page) or "Rescue Mexico City" in page
    assert f"/d/{CDMX}/themes/agua" in _links(page)
    # Grouped by kind, with counts; matches highlighted (escaped text, <mark>).
    assert re.search(r'<h2 id="results-unit-h">Text <span class="count">\(\d+\)</span></h2>', page)
    assert re.search(r'<h2 id="results-petition-h">Petitions <span class="count">\(1\)</span></h2>', page)
    assert "Derecho al <mark>agua</mark> y a su saneamiento" in page
    assert re.search(r"\d+ results for “agua”", page)


def test_case_and_accents_do_not_matter_and_plurals_meet(cdmx_site):
    app, _ids = cdmx_site
    client = app.test_client()
    lower, upper, shouting = (_links(_page(client, q)) for q in ("movilidad", "Movilidad", "MOVILIDAD"))
    assert lower and lower == upper == shouting
    assert f"/d/{CDMX}/art_13__para_E" in lower  # Derecho a la movilidad
    assert any("/events/" in link for link in lower)  # the forum on mobility
    # "educacion" (no accent) finds "educación", highlighted as written.
    page = _page(client, "educacion")
    assert "<mark>educación</mark>" in page or "<mark>Educación</mark>" in page
    assert _links(page) == _links(_page(client, "EDUCACIÓN"))
    # A plural finds the singular and the other way round.
    plural = client.get("/api/v1/search?q=derechos&kind=unit").get_json()["results"]
    singular = client.get("/api/v1/search?q=derecho&kind=unit").get_json()["results"]
    assert any("<mark>derecho</mark>" in r["snippet_html"] for r in plural)
    assert any("<mark>derechos</mark>" in r["snippet_html"] for r in singular)


def test_a_search_with_no_results_says_so_and_suggests(cdmx_site):
    app, _ids = cdmx_site
    client = app.test_client()
    page = _page(client, "zzqxj")
    assert "Nothing found for “zzqxj”." in page and not _links(page)
    assert "Check the spelling" in page
    # A typing slip: the nearest words of the text are suggested, and they find something.
    slip = _page(client, "agau")
    assert "Did you mean" in slip and 'href="/search?q=agua"' in slip


def test_the_empty_query_is_a_helpful_page(cdmx_site):
    app, _ids = cdmx_site
    client = app.test_client()
    for response in (client.get("/search", headers=EN), client.get("/search?q=", headers=EN),
                     client.get("/search?q=%20%20", headers=EN)):
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Search finds the clauses" in page and "For example:" in page
        assert 'href="/search?q=Agua"' in page  # the survey themes as examples
    nothing = _page(client, "¿¡…!?")
    assert "Your search has no letters or digits to look for." in nothing


ODD_QUERIES = [
    '"', '""', "*", "NEAR", "NEAR(agua movilidad)", "agua NEAR movilidad", "agua -movilidad", "agua OR movilidad",
    "NOT agua", "AND", "head:agua", "{head}: agua", "agua) OR (1=1", "'; DROP TABLE search_entry; --",
    "agua & movilidad | !", "<script>alert(1)</script>", "a" * 5000, "\x00", "水", "%", "_", "\\", "\t\n",
]
#: Operators and punctuation around one word: read as that word.
STILL_AGUA = ["agua*", '"agua', '"agua"', "-agua", "^agua", "agua:*", "(agua)", "\x00agua", "😀 agua", "agua " * 400]


def test_odd_queries_never_fail_and_operators_are_plain_words(cdmx_site):
    app, _ids = cdmx_site
    client = app.test_client()
    agua = _links(_page(client, "agua"))
    for query in ODD_QUERIES + STILL_AGUA:
        page = _page(client, query)
        assert "<script>alert(1)</script>" not in page.split("<main", 1)[1]
        if query in STILL_AGUA:
            assert _links(page) == agua, query
        response = client.get("/api/v1/search", query_string={"q": query})
        assert response.status_code in (200, 400), (query, response.status_code)


def test_undecodable_bytes_in_the_address_are_no_error(cdmx_site):
    app, _ids = cdmx_site
    client = app.test_client()
    for path in ("/search?q=%ED%A0%80agua%FF", "/search?q=agua%00%01", "/api/v1/search?q=%FF%FEagua"):
        assert client.get(path, headers=EN).status_code == 200, path


def test_a_long_query_is_cut_and_the_page_says_so(cdmx_site):
    app, _ids = cdmx_site
    page = _page(app.test_client(), " ".join(f"palabra{i}" for i in range(30)))
    assert "Nothing found" in page
    page = _page(app.test_client(), "agua " + " ".join(["derecho"] * 3) + " " + "x" * 300)
    assert "only its first words were used" in page or "Nothing found" in page


def test_the_json_endpoint(cdmx_site):
    app, ids = cdmx_site
    client = app.test_client()
    body = client.get("/api/v1/search?q=Agua").get_json()
    assert body["words"] == ["agua"] and body["counts"]["petition"] == 1 and body["counts"]["unit"] >= 10
    urls = [r["url"] for r in body["results"]]
    assert f"/d/{CDMX}/petitions/{ids['rivers']}" in urls and f"/d/{CDMX}/art_9__para_F" in urls
    assert any("<mark>agua</mark>" in r["snippet_html"] for r in body["results"])
    only = client.get("/api/v1/search?q=agua&kind=theme").get_json()
    assert {r["kind"] for r in only["results"]} == {"theme"}
    assert client.get("/api/v1/search").status_code == 400
    assert client.get("/api/v1/search?q=agua&kind=bogus").status_code == 400
    assert client.get("/api/v1/search?q=zzqxj").get_json()["total"] == 0
    assert "/api/v1/search" in client.get("/api/v1/openapi.json").get_json()["paths"]


# --- freshness --------------------------------------------------------------------------------


def test_petitions_themes_and_events_changes_are_found_at_once(cdmx_site):
    from editor.petitions.models import Petition
    from editor.provenance.models import CitizenEvent
    from editor.survey.models import Theme

    app, ids = cdmx_site
    client = app.test_client()
    assert "Nothing found" in _page(client, "ajolotes")
    db = app.extensions["constituent"].db
    with app.app_context():
        petition = db.get(Petition, ids["rivers"])
        petition.proposal = "Rescatar los canales de Xochimilco y a los ajolotes."
        db.commit()
    assert f"/d/{CDMX}/petitions/{ids['rivers']}" in _links(_page(client, "ajolote"))
    with app.app_context():
        db.add(Theme(document_id=ids["document"], key="ajolotes", name="Ajolotes", synonyms='["axolote"]'))
        db.add(CitizenEvent(document_id=ids["document"], title="Asamblea por los ajolotes", held_on=date(2016, 6, 1)))
        db.commit()
    links = _links(_page(client, "ajolotes"))
    assert f"/d/{CDMX}/themes/ajolotes" in links and any("/events/" in link for link in links)
    assert f"/d/{CDMX}/themes/ajolotes" in _links(_page(client, "axolote"))  # by its synonym
    with app.app_context():
        db.delete(db.get(Petition, ids["rivers"]))
        db.commit()
    assert f"/d/{CDMX}/petitions/{ids['rivers']}" not in _links(_page(client, "ajolotes"))


def test_survey_answers_are_never_searchable(cdmx_site):
    from editor.survey.models import Answer, Respondent, Survey, SurveyQuestion

    app, ids = cdmx_site
    db = app.extensions["constituent"].db
    with app.app_context():
        survey = Survey(document_id=ids["document"], title="Encuesta")
        db.add(survey)
        db.flush()
        question = SurveyQuestion(survey_id=survey.id, position=1, text="¿Qué le pedirías a la ciudad?", coded=True)
        respondent = Respondent(survey_id=survey.id, receipt_hash="f" * 64, borough="Coyoacán",
                                responded_at=datetime(2016, 4, 1, tzinfo=timezone.utc))
        db.add_all([question, respondent])
        db.flush()
        db.add(Answer(respondent_id=respondent.id, question_id=question.id, text="Mi vecino Zacarías Quetzalpapalotl"))
        db.commit()
    assert "Nothing found" in _page(app.test_client(), "Quetzalpapalotl")


# --- drafts, live edits and several processes (real servers) -----------------------------------


@pytest.fixture
def secret_petition(instance):
    """A petition on the unpublished draft, whose title has a word found nowhere else."""
    from editor import create_app
    from editor.documents import get_document
    from editor.petitions.models import Petition

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.app_context():
        draft = get_document(services.db, DRAFT)
        services.db.add(Petition(document_id=draft.id, key="reservada", title="Petición confidencialísima"))
        services.db.commit()
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    return instance


def _search(session, server, q) -> str:
    response = session.get(f"{server.url}/search", params={"q": q}, headers=EN, timeout=20)
    assert response.status_code == 200
    return response.text


def test_drafts_are_found_only_by_those_who_may_read_them(secret_petition):
    server = LiveServer(secret_petition).start()
    try:
        public = requests.Session()
        page = _search(public, server, "agua")
        assert any(link.startswith(f"/d/{PUBLISHED}/") for link in _links(page))
        assert not any(link.startswith(f"/d/{DRAFT}/") for link in _links(page))
        assert "Nothing found" in _search(public, server, "confidencialisima")
        api = public.get(f"{server.url}/api/v1/search", params={"q": "agua"}, timeout=20).json()
        assert {r["document"] for r in api["results"]} == {PUBLISHED}
        for who in ("ana", "admin"):  # the committee and administrators read drafts
            session = server.login(who)
            links = _links(_search(session, server, "agua"))
            assert any(link.startswith(f"/d/{DRAFT}/") for link in links)
            assert any(link.startswith(f"/d/{PUBLISHED}/") for link in links)
            secret = _search(session, server, "confidencialisima")
            assert any(link.startswith(f"/d/{DRAFT}/petitions/") for link in _links(secret))
            assert '<span class="badge">draft</span>' in secret
        # The public still does not see them after the committee's searches indexed them.
        assert "Nothing found" in _search(public, server, "confidencialisima")
    finally:
        server.stop()


def _first_p_text(client, article_index: int):
    title = client.body.children[0]
    article = [c for c in title.children if getattr(c, "tag", None) == "article"][article_index]
    return [c for c in article.children if c.tag == "p"][0].children[0]


def _eventually(fn, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_a_live_edit_is_found_by_the_next_search_in_every_process(instance):
    """Two server processes over one database: an editor types a new word through one; a reader
    searching through the other finds it (the index follows the store, not a process's memory)."""
    from collab_client import CollabClient

    first = LiveServer(instance).start()
    second = LiveServer(instance).start()
    ana = None
    try:
        reader = requests.Session()
        for server in (first, second):  # both processes index the text as it is
            assert "Nothing found" in _search(reader, server, "bicicletas")
            assert _links(_search(reader, server, "moverse"))
        ana = CollabClient(first.url, first.cookie("ana"), name="ana").connect()
        assert ana.join(PUBLISHED)["ok"]
        # Artículo 2 "Movilidad": "Toda persona tiene derecho a moverse." gains "en bicicletas".
        ana.edit(lambda body: _first_p_text(ana, 1).insert(len(str(_first_p_text(ana, 1))) - 1, " en bicicletas"))
        for server in (second, first):
            page = _eventually(lambda server=server: "<mark>bicicletas</mark>" in _search(reader, server, "bicicleta")
                               and _search(reader, server, "bicicleta"))
            assert page, f"the new word is not found through {server.url}"
            assert "derecho a moverse en <mark>bicicletas</mark>" in page
            assert any(link.startswith(f"/d/{PUBLISHED}/art_2") for link in _links(page))
        # A word removed is no longer found.
        def unsay(body):
            text = _first_p_text(ana, 1)
            start = str(text).index(" en bicicletas")
            del text[start:start + len(" en bicicletas")]

        ana.edit(unsay)
        assert _eventually(lambda: "Nothing found" in _search(reader, second, "bicicletas"))
    finally:
        if ana is not None:
            ana.close()
        first.stop()
        second.stop()


def _race(first, second, slug: str, rounds: int = 6) -> None:
    """Two applications (as two server processes: engines and rooms of their own) over one
    database reindex the same document at once while its text changes: afterwards each unit is
    indexed once, and every word typed is found through both."""
    import threading

    from pycrdt import XmlFragment
    from sqlalchemy import func, select

    from editor.search import backend_of, ensure_fresh, search_entry

    errors = []

    def reindex(app):
        services = app.extensions["constituent"]
        with app.test_request_context("/"):
            from editor.search import readable_documents

            documents = readable_documents(services.db)
            for _ in range(rounds):
                try:
                    ensure_fresh(services, backend_of(app), documents)
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
            services.db.remove()

    for i in range(rounds):
        first.extensions["constituent"].rooms.call(
            slug, lambda doc, i=i: next(_texts(doc.get("body", type=XmlFragment))).insert(0, f"carrera{i}x "))
        threads = [threading.Thread(target=reindex, args=(app,)) for app in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    engine = first.extensions["constituent"].engine
    with engine.connect() as conn:
        duplicates = conn.execute(select(search_entry.c.document_id, search_entry.c.kind, search_entry.c.key)
                                  .group_by(search_entry.c.document_id, search_entry.c.kind, search_entry.c.key)
                                  .having(func.count() > 1)).all()
        assert duplicates == []
        if engine.dialect.name == "sqlite":
            entries = conn.execute(select(func.count()).select_from(search_entry)).scalar()
            assert conn.exec_driver_sql("SELECT count(*) FROM search_fts").scalar() == entries
    for app in (first, second):
        for i in range(rounds):
            assert _links(_page(app.test_client(), f"carrera{i}x")), (app, i)


def test_processes_reindexing_at_once_agree(cdmx_site):
    from editor import create_app

    app, _ids = cdmx_site
    other = create_app({"INSTANCE_PATH": app.config["INSTANCE_PATH"], "SECRET_KEY": "test-secret"})
    try:
        _race(app, other, CDMX)
    finally:
        services = other.extensions["constituent"]
        services.db.remove()
        services.rooms.close_all()
        services.engine.dispose()


# --- PostgreSQL ------------------------------------------------------------------------------


@contextmanager
def _postgres_app():
    import sqlalchemy

    from editor import create_app
    from editor.db import make_engine

    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"constituent_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        require(False, f"PostgreSQL not reachable at 127.0.0.1:5432 as postgres: {exc}")
    app = None
    try:
        import tempfile

        app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="search-pg-"), "SECRET_KEY": "test-secret",
                          "WTF_CSRF_ENABLED": False,
                          "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}"})
        yield app
    finally:
        if app is not None:
            services = app.extensions["constituent"]
            services.db.remove()
            services.rooms.close_all()
            services.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgresql_search_finds_the_same_and_hides_drafts(tmp_path):
    require(CDMX_TEXT.exists(), f"the Mexico City constitution is not at {CDMX_TEXT}")
    from pycrdt import XmlFragment

    from akoma_ntoso.safexml import parse_xml
    from editor import create_app
    from editor.accounts import add_user
    from editor.documents import create_document
    from editor.interchange import import_document
    from editor.search import backend_of

    with _postgres_app() as app:
        services = app.extensions["constituent"]
        backend = backend_of(app)
        assert backend.dialect == "postgresql" and backend.unaccent  # the extension could be created here
        import_document(services, CDMX_TEXT.read_bytes(), "text", slug=CDMX, title=None, doctype="act", published=True)
        create_document(services, DRAFT, "Borrador reservado", parse_xml(SMALL_BODY.replace(
            b"seres sintientes", b"seres sintientes y confidencialisimos")), published=False)
        add_user(services.db, "ana@example.org", "committee", PASSWORD)
        ids = _seed_cdmx_sources(app)
        client = app.test_client()
        page = _page(client, "agua")
        units = _units(page)
        assert "art_9__para_F" in units[:3] and "art_16__para_B" in units[:3]
        assert f"/d/{CDMX}/petitions/{ids['rivers']}" in _links(page)
        assert "Derecho al <mark>agua</mark> y a su saneamiento" in page
        assert _links(_page(client, "movilidad")) == _links(_page(client, "Movilidad"))
        assert f"/d/{CDMX}/art_13__para_E" in _links(_page(client, "movilidad"))
        assert "<mark>educación</mark>" in _page(client, "educacion")
        plural = client.get("/api/v1/search?q=derechos&kind=unit").get_json()["results"]
        assert any("<mark>derecho</mark>" in r["snippet_html"] for r in plural)
        assert "Nothing found for “zzqxj”." in _page(client, "zzqxj")
        for odd in ('"', "agua:* & !", "NEAR(", "-agua", "a" * 3000, "'); DROP TABLE x; --"):
            _page(client, odd)
        # Drafts: not for the public, found by the committee.
        assert not any(link.startswith(f"/d/{DRAFT}/") for link in _links(_page(client, "agua")))
        assert "Nothing found" in _page(client, "confidencialisimos")
        committee = app.test_client()
        assert committee.post("/login", data={"email": "ana@example.org", "password": PASSWORD}).status_code == 302
        assert any(link.startswith(f"/d/{DRAFT}/") for link in _links(_page(committee, "confidencialisimo")))
        # A live edit (through the document's room, as the socket does) is found by the next search.
        assert "Nothing found" in _page(client, "trolebuses")

        def edit(doc):
            body = doc.get("body", type=XmlFragment)
            needle = "Toda persona tiene derecho a la movilidad"
            for node in _texts(body):
                text = str(node)
                if text.startswith(needle):
                    node.insert(len(needle), " en trolebuses")
                    return True
            return False

        assert services.rooms.call(CDMX, edit)
        assert f"/d/{CDMX}/art_13__para_E__subpara_1" in _links(_page(client, "trolebus"))
        # A second process on the same database, reindexing at the same time.
        other = create_app({"INSTANCE_PATH": app.config["INSTANCE_PATH"], "SECRET_KEY": "test-secret",
                            "DATABASE_URL": app.config["DATABASE_URL"]})
        try:
            _race(app, other, CDMX, rounds=4)
        finally:
            other.extensions["constituent"].rooms.close_all()
            other.extensions["constituent"].engine.dispose()


def _texts(node):
    from pycrdt import XmlText

    for child in node.children:
        if isinstance(child, XmlText):
            yield child
        elif hasattr(child, "children"):
            yield from _texts(child)
