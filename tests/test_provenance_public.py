"""What the public sees of provenance: why a clause exists, what happened to a petition, the
clauses of a theme or an event, coverage, and the links as open data and inside the AKN export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timezone

import pytest
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED
from lxml import etree

from akoma_ntoso import iter_units
from akoma_ntoso.akn import AKN_NS, validate


@pytest.fixture
def site(instance):
    """The application over a seeded instance, with a petition, a theme and an event linked to
    the published document's first article and its apartado A."""
    from editor import create_app
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.petitions.models import Petition, SignatureCount
    from editor.provenance.links import create_link
    from editor.provenance.models import CitizenEvent
    from editor.survey.models import Answer, Coding, Respondent, Survey, SurveyQuestion, Theme

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False})
    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        units = read_live(services, PUBLISHED).units
        article = next(u for u in iter_units(units) if u.kind == "article")
        apartado = article.children[0]
        petition = Petition(document_id=document.id, key="agua-para-todos", title="Agua para todos",
                            petitioners="Colectivo Ríos Vivos",
                            proposal="Toda persona tiene derecho al agua potable y suficiente.")
        quiet = Petition(document_id=document.id, key="silencio", title="Petición sin respuesta", petitioners="Nadie")
        db.add_all([petition, quiet])
        db.flush()
        db.add_all([
            SignatureCount(petition_id=petition.id, counted_at=datetime(2016, 5, 1, tzinfo=timezone.utc), signatures=9_000),
            SignatureCount(petition_id=petition.id, counted_at=datetime(2016, 6, 1, tzinfo=timezone.utc), signatures=17_306),
            SignatureCount(petition_id=quiet.id, counted_at=datetime(2016, 6, 1, tzinfo=timezone.utc), signatures=25_000),
        ])
        water = Theme(document_id=document.id, key="agua", name="Agua", synonyms='["agua"]')
        noise = Theme(document_id=document.id, key="ruido", name="Ruido", synonyms='["ruido"]')
        event = CitizenEvent(document_id=document.id, title="Foro sobre el agua en Xochimilco", held_on=date(2016, 7, 2),
                             place="Xochimilco", conclusions="Proteger los canales.")
        survey = Survey(document_id=document.id, title="Encuesta", synthetic=True)
        db.add_all([water, noise, event, survey])
        db.flush()
        question = SurveyQuestion(survey_id=survey.id, position=1, text="¿Retos?", coded=True)
        db.add(question)
        db.flush()
        for i, themes in enumerate([[water], [water, noise], [noise], [noise]]):
            respondent = Respondent(survey_id=survey.id, receipt_hash=f"{i:064d}", borough="Xochimilco",
                                    responded_at=datetime(2016, 4, 1, tzinfo=timezone.utc))
            db.add(respondent)
            db.flush()
            answer = Answer(respondent_id=respondent.id, question_id=question.id, text="…")
            db.add(answer)
            db.flush()
            db.add_all([Coding(answer_id=answer.id, theme_id=t.id) for t in themes])
        create_link(db, document, units, article.guid, "petition", petition.id, "incorporates", "Toma su redacción")
        create_link(db, document, units, apartado.guid, "theme", water.id, "addresses")
        create_link(db, document, units, apartado.guid, "event", event.id, "motivated")
        db.commit()
        ids = {"petition": petition.id, "quiet": quiet.id, "event": event.id}
    yield app, article, apartado, ids
    services.rooms.close_all()
    services.engine.dispose()


def _get(app, path, **kwargs):
    return app.test_client().get(path, headers={"Accept-Language": "en"}, **kwargs)


def test_a_clause_page_says_why_the_clause_exists(site):
    app, article, apartado, ids = site
    page = _get(app, f"/d/{PUBLISHED}/{article.eid}").get_data(as_text=True)
    why = page[page.index('id="why"'):]
    # The petition on the article itself, with its latest signature count and the note.
    assert "Agua para todos" in why and "17,306 signatures" in why and "Toma su redacción" in why
    # The theme and the event are on apartado A, inside the article: named by where they are.
    assert "Agua" in why and "raised by 2 respondents (50.0% of all)" in why
    assert "Foro sobre el agua en Xochimilco" in why
    assert re.search(r'href="/d/%s/%s">A\.</a>' % (PUBLISHED, apartado.eid), why)
    assert "synthetic answers" in why  # the survey is labelled for what it is
    # The reading view marks linked clauses.
    reading = _get(app, f"/d/{PUBLISHED}").get_data(as_text=True)
    assert "1 petition" in reading and "1 survey theme · 1 citizen event" in reading


def test_a_clause_without_sources_says_so(site):
    app, article, _apartado, _ids = site
    other = _get(app, f"/d/{PUBLISHED}").get_data(as_text=True)
    eids = re.findall(r'<section class="unit unit-article" id="([^"]+)"', other)
    plain = next(e for e in eids if e != article.eid)
    page = _get(app, f"/d/{PUBLISHED}/{plain}").get_data(as_text=True)
    assert "No petition, survey theme or citizen event is linked to this clause yet." in page


def test_a_petition_page_shows_its_clauses_wording_and_a_word_level_redline(site):
    app, article, _apartado, ids = site
    page = _get(app, f"/d/{PUBLISHED}/petitions/{ids['petition']}").get_data(as_text=True)
    assert "What happened to this petition" in page and "It led to 1 clause" in page
    assert f'href="/d/{PUBLISHED}/{article.eid}"' in page
    # Words of the proposal missing from the clause are struck whole, never half-words.
    deleted = re.findall(r"<del>([^<]*)</del>", page)
    assert deleted and all(not w or w[0] == " " or w[0].isalnum() for w in deleted)
    assert any("potable" in w for w in deleted)
    assert "9,000" in page and "17,306" in page  # the signature history


def test_theme_event_and_coverage_pages(site):
    app, article, apartado, ids = site
    theme = _get(app, f"/d/{PUBLISHED}/themes/agua").get_data(as_text=True)
    assert "Clauses that address this theme" in theme and f"/d/{PUBLISHED}/{apartado.eid}" in theme
    assert "Where respondents raised it" in theme and "Xochimilco" in theme
    themes = _get(app, f"/d/{PUBLISHED}/themes").get_data(as_text=True)
    assert themes.index("Ruido") < themes.index(">Agua<")  # most raised first: 3 against 2
    event = _get(app, f"/d/{PUBLISHED}/events/{ids['event']}").get_data(as_text=True)
    assert "Proteger los canales." in event and f"/d/{PUBLISHED}/{apartado.eid}" in event
    coverage = _get(app, f"/d/{PUBLISHED}/coverage").get_data(as_text=True)
    uncovered = coverage[coverage.index("uncovered-themes-h"):]
    assert "Ruido" in uncovered and ">Agua<" not in uncovered
    # 25,000 signatures and no clause: successful and not addressed; the linked one is not listed.
    assert "Petición sin respuesta" in coverage and "Agua para todos" not in coverage
    assert _get(app, f"/d/{PUBLISHED}/themes/nada").status_code == 404
    assert _get(app, f"/d/{PUBLISHED}/petitions/999").status_code == 404


def test_drafts_keep_their_provenance_private(site):
    app, *_ = site
    for path in (f"/d/{DRAFT}/petitions", f"/d/{DRAFT}/themes", f"/d/{DRAFT}/coverage",
                 f"/api/v1/documents/{DRAFT}/provenance.json"):
        assert _get(app, path).status_code == 404, path


def test_links_are_open_data_in_csv_json_and_the_akn_export(site):
    app, article, apartado, ids = site
    data = _get(app, f"/api/v1/documents/{PUBLISHED}/provenance.json").get_json()
    rows = {(r["source_kind"], r["unit_eid"]) for r in data["links"]}
    assert rows == {("petition", article.eid), ("theme", apartado.eid), ("event", apartado.eid)}
    assert data["synthetic_survey"] is True and data["respondents"] == 4
    petition_row = next(r for r in data["links"] if r["source_kind"] == "petition")
    assert petition_row["petition_signatures"] == 17306 and petition_row["unit_guid"] == article.guid

    unit = _get(app, f"/api/v1/documents/{PUBLISHED}/units/{article.eid}").get_json()
    assert {(r["source_kind"], r["unit_eid"]) for r in unit["provenance"]} == rows  # its own and its parts'

    response = _get(app, f"/api/v1/documents/{PUBLISHED}/provenance.csv")
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["source_title"] for r in table} == {"Agua para todos", "Agua", "Foro sobre el agua en Xochimilco"}

    akn = etree.fromstring(_get(app, f"/api/v1/documents/{PUBLISHED}/akn").data)
    assert validate(akn) == []
    ns = {"a": AKN_NS}
    refs = akn.xpath("//a:references/*", namespaces=ns)
    by_eid = {r.get("eId"): r for r in refs}
    assert by_eid[f"petition_{ids['petition']}"].tag == f"{{{AKN_NS}}}TLCReference"
    assert by_eid[f"petition_{ids['petition']}"].get("name") == "petition"
    assert by_eid["theme_agua"].tag == f"{{{AKN_NS}}}TLCConcept"
    assert f"petition_{ids['quiet']}" not in by_eid  # only sources some clause refers to
    unit = akn.xpath(f"//a:article[@GUID='{article.guid}']", namespaces=ns)[0]
    assert unit.get("refersTo") == f"#petition_{ids['petition']}"
    inner = akn.xpath(f"//*[@GUID='{apartado.guid}']", namespaces=ns)[0]
    assert set(inner.get("refersTo").split()) == {"#theme_agua", f"#event_{ids['event']}"}


def test_committee_records_a_citizen_event_and_bad_input_changes_nothing(site):
    app, *_ = site
    from sqlalchemy import func, select

    from editor.provenance.models import CitizenEvent

    def events():
        with app.app_context():
            return app.extensions["constituent"].db.scalar(select(func.count(CitizenEvent.id)))

    viewer, committee = app.test_client(), app.test_client()
    for client, who in ((viewer, "vera"), (committee, "ana")):
        response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD})
        assert response.status_code == 302
    before = events()
    assert viewer.get(f"/d/{PUBLISHED}/events/new").status_code == 403
    assert app.test_client().get(f"/d/{PUBLISHED}/events/new").status_code == 403
    bad = committee.post(f"/d/{PUBLISHED}/events/new", data={"title": "Foro", "held_on": "2016-13-45"},
                         headers={"Accept-Language": "en"})
    assert bad.status_code == 200 and "field-error" in bad.get_data(as_text=True)
    assert events() == before
    good = committee.post(f"/d/{PUBLISHED}/events/new", data={
        "title": "Asamblea vecinal de Iztapalapa", "held_on": "2016-08-20", "place": "Iztapalapa",
        "participants": "120", "conclusions": "Agua todos los días.",
    })
    assert good.status_code == 302 and events() == before + 1
    page = app.test_client().get(good.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Asamblea vecinal de Iztapalapa" in page and "120 participants" in page


def _import_2016_petitions(instance):
    """Import the real 2016 petitions against the imported Mexico City constitution."""
    from conftest import CDMX, SHARED_DATA, require

    from editor import create_app
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.petitions.service import import_petitions

    source = SHARED_DATA / "cdmx" / "petitions-2016.csv"
    require(source.exists(), f"the 2016 petitions are not at {source}")
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.app_context():
        document = get_document(services.db, CDMX)
        units = read_live(services, CDMX).units
        result = import_petitions(services.db, document, source.read_bytes(), "csv", units=units)
    return app, services, result


def test_article_16_shows_the_green_space_and_rivers_petitions_with_their_signatures(cdmx_instance):
    app, services, _result = _import_2016_petitions(cdmx_instance)
    try:
        page = _get(app, "/d/cdmx/art_16").get_data(as_text=True)
        why = page[page.index('id="why"'):]
        cards = why.split('<li class="source-card')[1:]
        green = next(c for c in cards if "green spaces per inhabitant" in c)
        rivers = next(c for c in cards if "Rescue Mexico City" in c)
        assert "39,182 signatures" in green and "17,306 signatures" in rivers
        # The green-space reference ("Art. 16, 3") names the article for certain, the numeral
        # not: it sits on the article, and its note says why.
        assert "apartado" in green.lower()
        # The rivers petition sits on apartado A numerals 3 and 4 and on apartado B.
        assert re.findall(r">(A\. 3\.|A\. 4\.|B\.)</a>", rivers) == ["A. 3.", "A. 4.", "B."]
        # Mobility's "Art. 16, H" is inside Article 16 too; unrelated petitions are not.
        assert "Sustainable mobility" in why and "Ley 3de3" not in why
        # The petition's own page leads back to the clauses, with their current wording.
        rivers_id = re.search(r'/d/cdmx/petitions/(\d+)">Rescue', why).group(1)
        outcome = _get(app, f"/d/cdmx/petitions/{rivers_id}").get_data(as_text=True)
        assert "It led to 3 clauses" in outcome and 'href="/d/cdmx/art_16__para_B"' in outcome
        assert "Gestión sustentable del agua" in outcome
    finally:
        services.rooms.close_all()
        services.engine.dispose()


@pytest.mark.browser
def test_public_provenance_pages_work_without_login_in_a_real_browser(cdmx_instance):
    import os

    from conftest import CHROMIUM, LiveServer, require
    from playwright.sync_api import sync_playwright

    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    _app, services, _result = _import_2016_petitions(cdmx_instance)
    services.rooms.close_all()
    services.engine.dispose()
    server = LiveServer(cdmx_instance).start()
    problems: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for width in (1280, 390):
                context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
                page = context.new_page()
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.goto(f"{server.url}/d/cdmx/art_16")
                why = page.locator("#why")
                assert why.get_by_role("heading", name="Why this clause exists").is_visible()
                assert why.get_by_text("39,182 signatures").is_visible()
                # Nothing is wider than the phone's screen.
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
                # From the clause to the petition, and on to the coverage page, by keyboard.
                why.get_by_role("link", name=re.compile("Rescue Mexico City")).focus()
                page.keyboard.press("Enter")
                page.wait_for_url(re.compile(r"/d/cdmx/petitions/\d+$"))
                assert page.get_by_role("heading", name="What happened to this petition").is_visible()
                for path in ("/d/cdmx/petitions", "/d/cdmx/themes", "/d/cdmx/events", "/d/cdmx/coverage", "/d/cdmx"):
                    response = page.goto(server.url + path)
                    assert response.status == 200, path
                    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
                coverage = page.goto(server.url + "/d/cdmx/coverage")
                assert coverage.status == 200
                assert page.get_by_text("Maternity and paternity leave for all").is_visible()
                context.close()
            browser.close()
    finally:
        server.stop()
    assert problems == []
