"""The paper backup (issue 20): forms printed with numbers and receipt codes, keyed twice by two
different people, counted once when the keyings agree, held back and listed when they differ, and
resolved once; what staff see on the pages, and who reaches them."""

from __future__ import annotations

import json
import os
import re

import pytest
from conftest import ACCOUNTS, BROWSER_ARGS, CHROMIUM, DRAFT, PASSWORD, PUBLISHED, LiveServer, close_app, require
from sqlalchemy import func, select

from editor.survey.models import Answer, PaperEntry, PaperForm, Respondent, Survey, SurveyQuestion
from editor.survey.service import receipt_hash

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
VOLUNTEERS = {"val": "val@example.org", "victor": "victor@example.org", "wanda": "wanda@example.org"}


@pytest.fixture
def app(instance):
    from editor import create_app

    application = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret",
                              "RECEIPT_RATE_LIMIT": "1000 per minute"})
    _questionnaire(application)
    yield application
    close_app(application)


def _questionnaire(application) -> int:
    """The demo questionnaire, published on the test constitution (its id); three volunteers."""
    from editor.accounts import add_user
    from editor.documents import get_document
    from editor.survey.questionnaire import create_questionnaire, demo_definition, publish

    services = application.extensions["constituent"]
    db = services.db
    try:
        survey = create_questionnaire(db, get_document(db, PUBLISHED), demo_definition())
        publish(db, survey)
        for email in VOLUNTEERS.values():
            add_user(db, email, "volunteer", PASSWORD)
        db.commit()
        return survey.id
    finally:
        services.db.remove()


@pytest.fixture
def db(app):
    from sqlalchemy.orm import Session

    with Session(app.extensions["constituent"].engine, expire_on_commit=False) as session:
        yield session


def _survey(db) -> Survey:
    return db.scalar(select(Survey).where(Survey.status == "open"))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def _client(app, who: str | None = None):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if who:
        email = VOLUNTEERS.get(who) or ACCOUNTS[who][0]
        token = _csrf(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.status_code
    return client


def _page_url(survey) -> str:
    return f"/d/{PUBLISHED}/survey/{survey.id}/paper"


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _print(client, survey, count: int = 3, language: str = "es"):
    page = client.get(_page_url(survey)).get_data(as_text=True)
    token = re.search(r'name="print_token" value="([^"]+)"', page).group(1)
    return client.post(_page_url(survey) + "/print", data={
        "csrf_token": _csrf(page), "print_token": token, "count": str(count), "language": language})


def _sheet(**changes) -> dict:
    """A filled demo questionnaire as the keying form posts it."""
    data = {"q-place-borough": "Xochimilco", "q-place-neighbourhood": "", "q-age": "30-44", "q-safety": "2",
            "q-words": "agua, tráfico, mercados", "q-future": "Una ciudad con agua todos los días y transporte seguro",
            "q-challenge": "agua", "q-rights": ["agua", "movilidad"]}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _key(client, survey, number, **changes):
    page = client.get(_page_url(survey)).get_data(as_text=True)
    data = {"csrf_token": _csrf(page), "form_number": str(number), "responded_on": changes.pop("responded_on", ""),
            **_sheet(**changes)}
    return client.post(_page_url(survey) + "/key", data=data)


def _count(db, model, **where) -> int:
    db.expire_all()
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.scalar(query)


def _printed(app, db, count=3) -> tuple[Survey, dict[int, str]]:
    survey = _survey(db)
    html = _print(_client(app, "ana"), survey, count).get_data(as_text=True)
    numbers = [int(n) for n in re.findall(r'<p class="paper-sheet-number"><span>[^<]*</span> <strong>(\d+)</strong>', html)]
    codes = re.findall(r'<span class="paper-code">([^<]+)</span>', html)
    return survey, dict(zip(numbers, codes, strict=True))


# --- printing ------------------------------------------------------------------------------------------


def test_printing_gives_distinct_numbers_and_codes_shown_once(app, db):
    survey = _survey(db)
    analyst = _client(app, "ana")
    response = _print(analyst, survey, 3)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    numbers = re.findall(r'<p class="paper-sheet-number"><span>[^<]*</span> <strong>(\d+)</strong>', html)
    codes = re.findall(r'<span class="paper-code">([^<]+)</span>', html)
    assert numbers == ["1", "2", "3"] and len(set(codes)) == 3 and all(CODE.fullmatch(c) for c in codes)
    # The sheets in the language chosen for them (the questions' Spanish wording), the page around
    # them in the analyst's, saying that the codes are shown this once.
    assert html.count('class="paper-sheet"') == 3 and '<div class="paper-sheets" lang="es">' in html
    assert "¿Cuál es el mayor reto de la ciudad?" in html and "What is the city" not in html
    assert "Print this page now" in html and "cannot be opened again" in html
    forms = list(db.scalars(select(PaperForm).where(PaperForm.survey_id == survey.id).order_by(PaperForm.number)))
    assert [f.number for f in forms] == [1, 2, 3]
    assert [f.receipt_hash for f in forms] == [receipt_hash(c) for c in codes]  # only the hashes are kept
    assert all(f.respondent_id is None for f in forms)

    # Reloading the printed page (the same POST again) makes no forms and shows no codes.
    again = analyst.post(_page_url(survey) + "/print", data={
        "csrf_token": _csrf(html), "print_token": "spent", "count": "3", "language": "es"})
    assert again.status_code == 409 and not CODE.search(_text(again))
    assert "were not made" in _text(again) and _count(db, PaperForm) == 3

    # The next print run continues the numbers, in English when asked.
    more = _print(analyst, survey, 2, "en").get_data(as_text=True)
    assert re.findall(r'<strong>(\d+)</strong>', more)[-2:] == ["4", "5"] and "What is the city" in more
    assert _count(db, PaperForm) == 5

    from editor.audit import events

    printed = events(app.extensions["constituent"].engine, action="survey.paper_printed")
    assert len(printed) == 2 and all(code not in json.dumps(e.detail) for e in printed for code in codes)


def test_only_analysts_print_and_only_an_open_questionnaire(app, db):
    survey = _survey(db)
    volunteer = _client(app, "val")
    page = volunteer.get(_page_url(survey))
    assert page.status_code == 200 and "Print new forms" not in page.get_data(as_text=True)
    refused = volunteer.post(_page_url(survey) + "/print",
                             data={"csrf_token": _csrf(page.get_data(as_text=True)), "count": "2"})
    assert refused.status_code == 403 and _count(db, PaperForm) == 0
    too_many = _print(_client(app, "ana"), survey, 501)
    assert too_many.status_code == 400 and "from 1 to 500" in _text(too_many) and _count(db, PaperForm) == 0


# --- keying ---------------------------------------------------------------------------------------------


def test_two_matching_keyings_count_the_form_once(app, db):
    survey, codes = _printed(app, db)
    val = _client(app, "val")
    first = _key(val, survey, 2, responded_on="")
    assert first.status_code == 303 and first.headers["Location"].endswith("/paper#keying")
    page = val.get(_page_url(survey))
    assert "Form 2 keyed. It counts once a different person keys it too." in _text(page)
    assert _count(db, Respondent) == 0 and 'id="paper-keyed-once">1<' in page.get_data(as_text=True)

    # The second person types the free text with other capitals and spacing: the same answers.
    second = _key(_client(app, "victor"), survey, 2, **{"q-words": "Agua,  tráfico, MERCADOS ",
                                                       "q-future": "una ciudad con agua todos los días y  transporte seguro"})
    assert second.status_code == 303
    respondents = list(db.scalars(select(Respondent)))
    assert len(respondents) == 1 and respondents[0].channel == "paper" and respondents[0].borough == "Xochimilco"
    assert respondents[0].collector_id == db.scalar(select(PaperEntry.entered_by).order_by(PaperEntry.id).limit(1))
    form = db.scalar(select(PaperForm).where(PaperForm.number == 2))
    assert form.respondent_id == respondents[0].id
    assert all(e.answers == "{}" for e in db.scalars(select(PaperEntry)))  # answers kept in one place only
    page = _client(app, "ana").get(_page_url(survey)).get_data(as_text=True)
    assert 'id="paper-counted">1<' in page and 'id="paper-keyed-once">0<' in page

    # The code printed on form 2's slip shows these answers on /receipt.
    public = _client(app)
    receipt = public.get("/receipt").get_data(as_text=True)
    shown = _text(public.post("/receipt", data={"code": codes[2], "csrf_token": _csrf(receipt)}))
    assert "agua, tráfico, mercados" in shown and "Una ciudad con agua" in shown and "No response has this code" not in shown
    other = _text(public.post("/receipt", data={"code": codes[1], "csrf_token": _csrf(receipt)}))
    assert "No response has this code" in other  # form 1 was never keyed

    # A counted form takes no more keyings: nothing changes.
    late = _key(_client(app, "wanda"), survey, 2, **{"q-challenge": "movilidad"})
    assert late.status_code == 409 and "Form 2 already counts: nothing was changed." in _text(late)
    assert _count(db, Respondent) == 1 and _count(db, PaperEntry) == 2 and _count(db, Answer, respondent_id=form.respondent_id) == 8

    from editor.audit import events

    keyed = events(app.extensions["constituent"].engine, action="survey.paper_keyed")
    assert [json.loads(e.detail)["outcome"] for e in reversed(keyed)] == ["first", "counted"]
    assert "mercados" not in json.dumps([e.detail for e in keyed])


def test_a_sheet_with_a_required_question_left_blank_still_counts(app, db):
    """On paper a person may skip a question the web page would insist on: the sheet is what they
    wrote, and it counts once two keyings agree."""
    survey, _codes = _printed(app, db)
    for who in ("val", "victor"):
        keyed = _key(_client(app, who), survey, 3, **{"q-words": ""})
        assert keyed.status_code == 303, _text(keyed)
    respondent = db.scalar(select(Respondent))
    assert respondent is not None and respondent.channel == "paper"
    questions = {q.id: q.key for q in db.scalars(select(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id))}
    answered = {questions[a.question_id] for a in db.scalars(select(Answer).where(Answer.respondent_id == respondent.id))}
    assert "words" not in answered and "future" in answered


def test_the_same_person_cannot_key_a_form_twice(app, db):
    survey, _codes = _printed(app, db)
    volunteer = _client(app, "val")
    assert _key(volunteer, survey, 1).status_code == 303
    again = _key(volunteer, survey, 1, **{"q-words": "otra cosa"})
    assert again.status_code == 409
    assert "You already keyed form 1. A different person must key it the second time" in _text(again)
    assert _count(db, PaperEntry) == 1 and _count(db, Respondent) == 0


def test_a_mismatch_is_held_back_listed_and_resolved_once(app, db):
    survey, codes = _printed(app, db)
    assert _key(_client(app, "val"), survey, 3, responded_on="").status_code == 303
    differing = _key(_client(app, "victor"), survey, 3, **{"q-challenge": "inseguridad"})
    assert differing.status_code == 303
    assert _count(db, Respondent) == 0 and db.scalar(select(PaperForm).where(PaperForm.number == 3)).respondent_id is None

    analyst = _client(app, "ana")
    page = analyst.get(_page_url(survey))
    listed = _text(page)
    assert 'id="paper-mismatched">1<' in page.get_data(as_text=True)
    row = re.search(r'<tr id="mismatch-3">(.*?)</tr>', page.get_data(as_text=True), re.S).group(1)
    assert "What is the city&#39;s biggest challenge?" in row or "What is the city's biggest challenge?" in row
    assert "How old are you?" not in row  # only what differs
    assert "Resolve form 3" in listed
    # A third keying waits for the resolution; those who keyed it cannot resolve it.
    third = _key(_client(app, "wanda"), survey, 3)
    assert third.status_code == 409 and "waits for someone to resolve it" in _text(third)
    resolve_url = _page_url(survey) + "/3/resolve"
    assert _client(app, "val").get(resolve_url).status_code == 403

    side_by_side = analyst.get(resolve_url)
    html = side_by_side.get_data(as_text=True)
    assert side_by_side.status_code == 200
    assert "<mark>Water</mark>" in html and "<mark>Crime and safety</mark>" in html
    assert html.count('class="paper-differs"') == 1
    # The fields start from the first keying; the other one is a link away.
    assert re.search(r'name="q-challenge" value="agua" checked', html)
    start2 = analyst.get(resolve_url + "?start=2").get_data(as_text=True)
    assert re.search(r'name="q-challenge" value="inseguridad" checked', start2)

    # The sheet says "Corrupción": neither keying had it right.
    data = {"csrf_token": _csrf(html), "responded_on": "", **_sheet(**{"q-challenge": "corrupcion"})}
    done = analyst.post(resolve_url, data=data)
    assert done.status_code == 303 and done.headers["Location"].endswith("/paper#mismatches")
    respondent = db.scalar(select(Respondent))
    assert _count(db, Respondent) == 1 and respondent.channel == "paper"
    assert respondent.receipt_hash == receipt_hash(codes[3])
    texts = set(db.scalars(select(Answer.text).where(Answer.respondent_id == respondent.id)))
    assert "corrupcion" in texts and "agua" in texts  # the challenge as resolved; "agua" is among the rights
    assert _count(db, PaperEntry, resolution=True) == 1
    after = analyst.get(_page_url(survey)).get_data(as_text=True)
    assert "Form 3 resolved: it counts, once" in _text_of(after)
    assert 'id="paper-counted">1<' in after and 'id="paper-mismatched">0<' in after

    # Resolving again, or keying it, changes nothing.
    again = analyst.post(resolve_url, data={**data, "q-challenge": "empleo"})
    assert again.status_code == 303
    assert "Form 3 already counts: nothing was changed." in _text(analyst.get(_page_url(survey)))
    assert _key(_client(app, "wanda"), survey, 3).status_code == 409
    assert _count(db, Respondent) == 1 and _count(db, PaperEntry) == 3
    assert "empleo" not in set(db.scalars(select(Answer.text)))


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_third_person_who_keyed_neither_side_may_resolve(app, db):
    survey, _codes = _printed(app, db)
    _key(_client(app, "val"), survey, 1)
    _key(_client(app, "victor"), survey, 1, **{"q-safety": "4"})
    wanda = _client(app, "wanda")
    page = wanda.get(_page_url(survey) + "/1/resolve")
    assert page.status_code == 200
    done = wanda.post(_page_url(survey) + "/1/resolve",
                      data={"csrf_token": _csrf(page.get_data(as_text=True)), **_sheet(**{"q-safety": "4"})})
    assert done.status_code == 303 and _count(db, Respondent) == 1


def test_after_closing_only_forms_dated_while_open_are_keyed(app, db):
    from editor.clock import now
    from editor.survey.questionnaire import close

    survey, _codes = _printed(app, db)
    close(db, db.get(Survey, survey.id))
    db.commit()
    undated = _key(_client(app, "val"), survey, 1)
    assert undated.status_code == 409 and "This questionnaire is closed" in _text(undated)
    today = now().date().isoformat()  # the (UTC) day it opened and closed
    assert _key(_client(app, "val"), survey, 1, responded_on=today).status_code == 303
    assert _key(_client(app, "victor"), survey, 1, responded_on=today).status_code == 303
    respondent = db.scalar(select(Respondent))
    assert respondent is not None and respondent.channel == "paper"
    assert db.get(Survey, survey.id).opened_at <= respondent.responded_at <= db.get(Survey, survey.id).closed_at


def test_bad_answers_are_refused_with_the_form_kept(app, db):
    survey, _codes = _printed(app, db)
    volunteer = _client(app, "val")
    # An option that does not exist, a date in the future (a required question left empty is not
    # a problem on paper: see test_a_sheet_with_a_required_question_left_blank_still_counts).
    bad = _key(volunteer, survey, 1, responded_on="2999-01-01", **{"q-words": "", "q-age": "ninguna",
                                                                  "q-future": "Más parques en mi colonia"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Some answers need another look; nothing was saved" in _text(bad)
    assert "needs an answer" not in html and "is not one of the options" in html and "is in the future" in html
    assert 'value="1"' in html and "Más parques en mi colonia" in html and 'value="2999-01-01"' in html  # kept
    assert re.search(r'name="q-challenge" value="agua" checked', html)
    # A number that was never printed, or no number at all.
    unknown = _key(volunteer, survey, 99)
    assert unknown.status_code == 400 and "No form number 99 was printed" in _text(unknown)
    assert 'value="99"' in unknown.get_data(as_text=True)
    missing = _key(volunteer, survey, "")
    assert missing.status_code == 400 and "Write the form&#39;s number" in missing.get_data(as_text=True)
    assert _count(db, PaperEntry) == 0 and _count(db, Respondent) == 0
    # Without the CSRF token nothing is stored either.
    forged = volunteer.post(_page_url(survey) + "/key", data={"form_number": "1", **_sheet()})
    assert forged.status_code == 400 and _count(db, PaperEntry) == 0


def test_viewers_and_the_public_cannot_reach_the_paper_pages(app, db):
    survey, _codes = _printed(app, db)
    _key(_client(app, "val"), survey, 1)
    _key(_client(app, "victor"), survey, 1, **{"q-safety": "5"})
    urls = [_page_url(survey), _page_url(survey) + "/1/resolve"]
    public, viewer = _client(app), _client(app, "vera")
    for url in urls:
        to_login = public.get(url)
        assert to_login.status_code == 302 and "/login" in to_login.headers["Location"]
        assert viewer.get(url).status_code == 403
    token = _csrf(viewer.get("/login").get_data(as_text=True))
    for path in ("/key", "/print", "/1/resolve"):
        assert viewer.post(_page_url(survey) + path, data={"csrf_token": token, "form_number": "2", **_sheet()}
                           ).status_code == 403
    assert _count(db, PaperEntry) == 2 and _count(db, PaperForm) == 3 and _count(db, Respondent) == 0
    # Another document's URL does not reach this questionnaire; the unpublished draft is invisible.
    assert _client(app, "ana").get(f"/d/{DRAFT}/survey/{survey.id}/paper").status_code == 404
    assert public.get(f"/d/{DRAFT}/survey/{survey.id}/paper").status_code == 404


# --- in a real browser ---------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_printed_forms_are_one_a4_page_each(instance, tmp_path):
    """The sheets as Chromium prints them on A4: one page per form, the slip with its code on it."""
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    from editor import create_app

    seeding = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    survey_id = _questionnaire(seeding)
    close_app(seeding)
    server = LiveServer(instance).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
            try:
                page = browser.new_page(locale="es-MX")
                page.set_default_timeout(15_000)
                page.goto(server.url + "/login")
                page.fill("#email", ACCOUNTS["ana"][0])
                page.fill("#password", PASSWORD)
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                page.goto(server.url + f"/d/{PUBLISHED}/survey/{survey_id}/paper")
                page.fill("#count", "2")
                page.click(".paper-print-form button[type=submit]")
                page.wait_for_selector(".paper-sheet")
                assert page.locator(".paper-sheet").count() == 2
                page.emulate_media(media="print")
                assert page.locator(".site-header").is_hidden() and page.locator(".paper-print-intro").is_hidden()
                assert page.locator(".paper-code").first.is_visible()
                pdf = tmp_path / "forms.pdf"
                page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
            finally:
                browser.close()
    finally:
        server.stop()
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 2, f"{len(reader.pages)} pages for 2 forms"
    for sheet in reader.pages:
        text = sheet.extract_text()
        assert "¿Cuál es el mayor reto de la ciudad?" in text and CODE.search(text), "a whole form and its slip"
