"""Residents answer the survey in Constituent (issue 20): questionnaires as data, the web page, the
receipt it leads to, kiosks, ballot stuffing, and the demo's own questionnaire on a clone with
nothing beside it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from conftest import ACCOUNTS, BROWSER_ARGS, CHROMIUM, PASSWORD, PUBLISHED, ROOT, LiveServer, free_port, login, require
from sqlalchemy import func, select

from editor.demo import DEMO_SLUG
from editor.survey import answering
from editor.survey.models import Respondent, Survey
from editor.survey.questionnaire import (
    close,
    create_questionnaire,
    definition_of,
    demo_definition,
    new_version,
    publish,
    read_definition,
    replace_definition,
)
from editor.survey.service import SurveyError

pytest_plugins = ("demo_site",)

#: A resident's answers to the demo questionnaire, as the web form posts them.
FORM = {
    "q-place-borough": "Iztapalapa", "q-place-neighbourhood": "San Miguel Teotongo", "q-age": "30-44",
    "q-words": "agua, basura y miedo", "q-future": "Una ciudad con ríos limpios y agua en cada casa",
    "q-challenge": "agua", "q-rights": ["agua", "vivienda"],
}


@pytest.fixture
def db(app):
    """A session of its own on the application's database (as test_survey's)."""
    from sqlalchemy.orm import Session

    with Session(app.extensions["constituent"].engine, expire_on_commit=False) as session:
        yield session


def _document(db, slug=PUBLISHED):
    from editor.documents import get_document

    return get_document(db, slug)


def _open_questionnaire(db, slug=PUBLISHED) -> Survey:
    survey = create_questionnaire(db, _document(db, slug), demo_definition())
    publish(db, survey)
    db.commit()
    return survey


def _challenge(html: str) -> tuple[str, str]:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    challenge = re.search(r'name="challenge" value="([^"]+)"', html).group(1)
    return csrf, challenge


def english(session: requests.Session) -> requests.Session:
    """The session reads the site in English (the wording some assertions look for)."""
    session.headers["Accept-Language"] = "en"
    return session


def answer_over_http(session: requests.Session, url: str, form: dict) -> str:
    """Open the questionnaire at `url`, solve its challenge as the page's script does, send `form`;
    returns the receipt code the thanks page shows."""
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    csrf, challenge = _challenge(page.text)
    sent = session.post(url, data={**form, "csrf_token": csrf, "challenge": challenge,
                                   "work": answering.solve(challenge)}, timeout=30)
    assert sent.status_code == 200 and "survey-thanks" in sent.text, sent.text[:2000]
    return re.search(r'id="receipt-code">([0-9A-Z-]+)<', sent.text).group(1)


def receipt_page(session: requests.Session, base: str, code: str) -> str:
    page = session.get(base + "/receipt", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    shown = session.post(base + "/receipt", data={"csrf_token": csrf, "code": code}, timeout=10)
    assert shown.status_code == 200
    return shown.text


# --- questionnaires as data ------------------------------------------------------------------------


def test_a_questionnaire_is_checked_whole_and_every_problem_is_named(db):
    bad = json.dumps({"title": "", "sections": [{"questions": [
        {"key": "Q 1", "kind": "text", "text": "¿Qué?"},
        {"key": "color", "kind": "choice", "text": "¿Color?", "options": ["rojo"]},
        {"key": "color", "kind": "slider", "text": "¿Cuánto?"},
        {"key": "edad", "kind": "scale", "text": "¿Edad?", "min": 5, "max": 2},
    ]}]}).encode()
    with pytest.raises(SurveyError) as refused:
        read_definition(bad)
    message = str(refused.value)
    for expected in ("the title is missing", "its key must be lower-case", "needs between 2 and 60 options",
                     "its kind must be one of", "max must be above min"):
        assert expected in message, message
    csv = ("key,kind,section,text,text_en,required,options\n"
           "barrio,place,Usted,¿Dónde vive?,Where do you live?,yes,\n"
           "reto,choice,Ciudad,¿Mayor reto?,Biggest challenge?,yes,agua=Agua|Water;empleo=Empleo|Jobs\n"
           "seguridad,scale,Ciudad,¿Qué tan seguro?,,no,min=1;max=4\n").encode()
    definition = read_definition(csv)
    assert [(q.key, q.kind, q.required) for q in definition.questions] == [
        ("barrio", "place", True), ("reto", "choice", True), ("seguridad", "scale", False)]
    assert definition.questions[1].option("empleo").label("en") == "Jobs" and definition.questions[2].high == 4


def test_a_published_questionnaire_keeps_its_meaning_and_a_new_version_counts_apart(db):
    document = _document(db)
    survey = create_questionnaire(db, document, demo_definition())
    changed = demo_definition()
    changed.questions[3] = changed.questions[3].__class__(**{**changed.questions[3].__dict__, "text": "¿Tres palabras?"})
    replace_definition(db, survey, changed)  # a draft changes freely
    publish(db, survey)
    db.commit()
    with pytest.raises(SurveyError, match="make a new version"):
        replace_definition(db, survey, demo_definition())
    secret = b"k" * 32
    first = answering.submit(db, survey, {"place": {"borough": "Tlalpan"}, "words": "agua", "future": "verde",
                                          "challenge": "agua"}, channel="web", secret=secret)
    second = new_version(db, survey)
    assert (second.status, second.version, second.supersedes_id) == ("draft", 2, survey.id)
    assert definition_of(db, second).questions[3].text == "¿Tres palabras?"
    with pytest.raises(answering.AnswerProblems, match="not published yet"):
        answering.submit(db, second, {"words": "x"}, channel="web", secret=secret)
    publish(db, second)
    close(db, survey)
    answering.submit(db, second, {"place": {"borough": "Tlalpan"}, "words": "basura", "future": "limpia",
                                  "challenge": "agua"}, channel="kiosk", secret=secret)
    db.commit()
    with pytest.raises(answering.AnswerProblems, match="not taking answers"):
        answering.submit(db, survey, {"words": "tarde"}, channel="web", secret=secret)
    counts = dict(db.execute(select(Respondent.survey_id, func.count()).group_by(Respondent.survey_id)).all())
    assert counts == {survey.id: 1, second.id: 1}
    assert first.respondent.survey_id == survey.id


def test_answers_are_checked_against_the_questionnaire_and_a_refusal_stores_nothing(db):
    survey = _open_questionnaire(db)
    secret = b"k" * 32
    with pytest.raises(answering.AnswerProblems) as refused:
        answering.submit(db, survey, {"place": {"borough": "Atlantis"}, "words": "", "challenge": "playa",
                                      "safety": "9", "rights": ["agua", "ovnis"], "colour": "azul"},
                         channel="web", secret=secret)
    problems = refused.value.problems
    assert problems["place"] == "is not one of the boroughs" and problems["words"] == "needs an answer"
    assert problems["challenge"] == "is not one of the options" and problems["safety"] == "is not a point of the scale"
    assert "rights" in problems and "colour" in problems[""]
    db.rollback()
    assert db.scalar(select(func.count(Respondent.id))) == 0


# --- the web page -------------------------------------------------------------------------------------


@pytest.fixture
def demo_live(demo_template, tmp_path):
    """A private live server over the demo instance (its open questionnaire and theme links)."""
    instance = tmp_path / "demo-answering"
    shutil.copytree(demo_template, instance)
    live = LiveServer(instance).start()
    yield live
    live.stop()


def _demo_questionnaire_url(base: str) -> str:
    page = requests.get(f"{base}/d/{DEMO_SLUG}", timeout=10).text
    link = re.search(r'href="(/d/[^"]+/survey/\d+)"', page)
    assert link, "the document page does not invite the public to the open survey"
    return base + link.group(1)


def test_a_resident_answers_on_a_phone_gets_a_receipt_and_finds_the_clause_for_their_theme(demo_live):
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    url = _demo_questionnaire_url(demo_live.url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-MX", is_mobile=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.set_default_timeout(20_000)
            page.goto(url)
            assert page.locator(".survey-privacy").is_visible()  # the privacy notice comes first
            assert page.locator(".survey-privacy").bounding_box()["y"] < page.locator(".survey-question").first.bounding_box()["y"]
            page.select_option("#q-place-borough", "Iztapalapa")
            # Only the chosen borough's neighbourhoods are offered.
            assert page.locator("#q-place-neighbourhood option:not([hidden])").count() == 1 + 5
            page.select_option("#q-place-neighbourhood", "San Miguel Teotongo")
            page.fill("#q-words", "agua, basura y miedo")
            page.reload()  # the answers so far survive a reload
            assert page.input_value("#q-words") == "agua, basura y miedo"
            assert page.input_value("#q-place-neighbourhood") == "San Miguel Teotongo"
            assert "2 de 9" in page.inner_text(".survey-progress") or "2 of 9" in page.inner_text(".survey-progress")
            page.fill("#q-future", "Una ciudad con ríos limpios y agua en cada casa")
            page.get_by_label("Agua", exact=True).first.check()
            page.locator("#survey-form button[type=submit]").click()
            code = page.locator("#receipt-code").inner_text()
            assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
            assert page.locator(".survey-qr-box svg").is_visible()
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"horizontal scroll of {overflow}px on a phone"
            # The thanks page's script forgets the sent answers; it may run just after the code shows.
            kept = "() => Object.keys(localStorage).filter(k => k.startsWith('constituent-survey')).length"
            try:
                page.wait_for_function(f"() => ({kept})() === 0", timeout=10_000)
            except PlaywrightTimeout:
                pass
            assert page.evaluate(kept) == 0, "the sent answers stay in the phone's storage"
            page.locator(".survey-thanks form button").click()
            result = page.locator("#receipt-result")
            result.wait_for()
            assert "agua, basura y miedo" in result.inner_text()
            assert "Agua" in result.locator(".survey-receipt").inner_text()  # the chosen option, as a label
            clause = result.locator(f'a[href="/d/{DEMO_SLUG}/art_1"]').first
            assert clause.is_visible()  # the demo links the theme "agua" to article 1
            assert code not in page.url
            assert errors == [], errors
        finally:
            browser.close()
    # The answer was counted at once, coded into themes, as a web answer, not suspected.
    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(demo_live.instance), "SECRET_KEY": "test-secret"})
    try:
        db = app.extensions["constituent"].db
        latest = db.scalar(select(Respondent).order_by(Respondent.id.desc()))
        assert (latest.channel, latest.borough, latest.suspect) == ("web", "Iztapalapa", "")
    finally:
        from conftest import close_app

        close_app(app)


def test_two_identical_answers_are_flagged_not_dropped_and_a_used_page_cannot_send_twice(demo_live):
    url = _demo_questionnaire_url(demo_live.url)
    session = english(requests.Session())
    first = answer_over_http(session, url, FORM)
    second = answer_over_http(session, url, {**FORM, "q-words": "AGUA,  basura y miedo"})  # case and spacing
    assert first != second
    # Replaying a sent page (its one-use challenge) stores nothing more.
    page = session.get(url, timeout=10)
    csrf, challenge = _challenge(page.text)
    form = {**FORM, "csrf_token": csrf, "challenge": challenge, "work": answering.solve(challenge)}
    assert session.post(url, data=form, timeout=10).status_code == 200
    replay = session.post(url, data=form, timeout=10)
    assert replay.status_code == 400 and "already sent" in replay.text
    analyst = english(login(demo_live.url, ACCOUNTS["ana"][0]))
    survey_id = url.rsplit("/", 1)[1]
    listed = analyst.get(f"{demo_live.url}/d/{DEMO_SLUG}/survey/{survey_id}/duplicates", timeout=10)
    assert listed.status_code == 200
    # The audit log records every sending, but never the answers (a respondent may erase them).
    log = subprocess.run([sys.executable, "-m", "editor", "audit", "list", "--action", "http.", "--limit", "50"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "CONSTITUENT_INSTANCE": str(demo_live.instance), "SECRET_KEY": "test-secret"})
    assert log.returncode == 0 and "http.answering.send" in log.stdout, log.stdout[-2000:] + log.stderr[-2000:]
    assert "basura y miedo" not in log.stdout and "San Miguel Teotongo" not in log.stdout
    rows = re.findall(r"<tr>\s*<th scope=\"row\">#\d+", listed.text)
    assert len(rows) == 2 and "the same answers as 1 earlier response" in listed.text


def test_two_hundred_identical_submissions_from_one_address_are_rate_limited_and_reported(demo_live):
    url = _demo_questionnaire_url(demo_live.url)
    session = english(requests.Session())
    outcomes = []
    for _ in range(200):
        page = session.get(url, timeout=10)
        csrf, challenge = _challenge(page.text)
        sent = session.post(url, data={**FORM, "csrf_token": csrf, "challenge": challenge, "work": ""}, timeout=10)
        outcomes.append(sent.status_code)
    accepted, refused = outcomes.count(200), outcomes.count(429)
    assert accepted + refused == 200 and 1 <= accepted <= 10 and refused >= 190, outcomes
    analyst = english(login(demo_live.url, ACCOUNTS["ana"][0]))
    survey_id = url.rsplit("/", 1)[1]
    listed = analyst.get(f"{demo_live.url}/d/{DEMO_SLUG}/survey/{survey_id}/duplicates", timeout=10).text
    assert len(re.findall(r"<tr>\s*<th scope=\"row\">#\d+", listed)) == accepted  # every one that got in
    assert "without solving the page" in listed and f"the same answers as {accepted - 1} earlier" in listed
    overview = analyst.get(f"{demo_live.url}/d/{DEMO_SLUG}/survey/questionnaires", timeout=10).text
    assert re.search(rf">{accepted}</a>", overview), "the questionnaires list does not show the suspects"


# --- kiosks -----------------------------------------------------------------------------------------


def test_a_kiosk_takes_two_respondents_in_a_row_and_the_second_cannot_reach_the_first(demo_live):
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    url = _demo_questionnaire_url(demo_live.url)
    survey_id = int(url.rsplit("/", 1)[1])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 800, "height": 1100}, locale="es-MX")
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(demo_live.url + "/login")
            page.fill("#email", ACCOUNTS["ana"][0])
            page.fill("#password", PASSWORD)
            page.click("form:has(#email) button[type=submit]")
            page.wait_for_url(re.compile(r".*/(?!login)"))
            page.goto(f"{demo_live.url}/d/{DEMO_SLUG}/survey/{survey_id}/manage")
            page.fill("#place", "Mercado de Jamaica")
            page.locator("form[action$='/kiosk'] button[type=submit]").click()
            page.wait_for_url(demo_live.url + "/kiosk")
            # The staff member is signed out of the tablet: a respondent cannot reach their pages.
            assert page.goto(f"{demo_live.url}/d/{DEMO_SLUG}/survey/questionnaires").url.startswith(
                demo_live.url + "/login")
            page.goto(demo_live.url + "/kiosk")

            first_words = "primera persona: agua y bosques"
            page.select_option("#q-place-borough", "Tlalpan")
            page.fill("#q-words", first_words)
            page.fill("#q-future", "Verde")
            page.get_by_label("Agua", exact=True).first.check()
            assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0  # nothing kept
            page.locator("#survey-form button[type=submit]").click()
            first_code = page.locator("#receipt-code").inner_text()
            page.locator("#kiosk-next").click()
            page.wait_for_selector("#survey-form")
            assert page.input_value("#q-words") == ""  # a fresh page for the next person

            # Back, the history, storage: nothing of the first person.
            for _ in range(4):
                page.go_back()
                text = page.content()
                assert first_code not in text and first_words not in text
            assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
            again = page.goto(demo_live.url + "/kiosk/done")
            assert first_code not in page.content() and again.url.endswith("/kiosk")

            page.goto(demo_live.url + "/kiosk")
            page.select_option("#q-place-borough", "Coyoacán")
            page.fill("#q-words", "segunda persona: transporte")
            page.fill("#q-future", "Con metro")
            page.get_by_label("Movilidad y transporte", exact=True).first.check()
            page.locator("#survey-form button[type=submit]").click()
            second_code = page.locator("#receipt-code").inner_text()
            assert second_code != first_code
        finally:
            browser.close()
    session = requests.Session()
    for code, words in ((first_code, first_words), (second_code, "segunda persona: transporte")):
        assert words in receipt_page(session, demo_live.url, code)
    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(demo_live.instance), "SECRET_KEY": "test-secret"})
    try:
        db = app.extensions["constituent"].db
        kiosk = db.scalars(select(Respondent).where(Respondent.channel == "kiosk", Respondent.received_at.is_not(None)))
        assert sorted(r.borough for r in kiosk) == ["Coyoacán", "Tlalpan"]  # both counted, as kiosk answers
    finally:
        from conftest import close_app

        close_app(app)


def test_a_kiosk_keeps_answering_while_the_network_is_down_and_sends_everything_when_it_returns(demo_live):
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    from editor import create_app
    from editor.survey.answer_views import KIOSK_COOKIE, _token_hash
    from editor.survey.models import Kiosk

    survey_id = int(_demo_questionnaire_url(demo_live.url).rsplit("/", 1)[1])
    app = create_app({"INSTANCE_PATH": str(demo_live.instance), "SECRET_KEY": "test-secret"})
    db = app.extensions["constituent"].db
    try:
        db.add(Kiosk(survey_id=survey_id, token_hash=_token_hash("kiosco-del-mercado"), place="Mercado",
                     until=datetime.now(timezone.utc) + timedelta(hours=2)))
        db.commit()
        before = db.scalar(select(func.count(Respondent.id)).where(Respondent.channel == "kiosk",
                                                                   Respondent.received_at.is_not(None)))
    finally:
        db.remove()
    codes = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 800, "height": 1100}, locale="es-MX")
            context.add_cookies([{"name": KIOSK_COOKIE, "value": "kiosco-del-mercado", "url": demo_live.url + "/kiosk"}])
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(demo_live.url + "/kiosk")
            context.set_offline(True)
            for borough, words in (("Tlalpan", "sin red: agua"), ("Xochimilco", "sin red: canales")):
                page.select_option("#q-place-borough", borough)
                page.fill("#q-future", "Limpia")
                page.get_by_label("Agua", exact=True).first.check()
                page.locator("#survey-form button[type=submit]").click()
                # A required question left empty is caught at once, not after the person has gone.
                page.locator("#kiosk-missing").wait_for()
                page.fill("#q-words", words)
                page.locator("#survey-form button[type=submit]").click()
                page.locator("#kiosk-offline-receipt").wait_for()
                codes.append(page.locator("#kiosk-offline-code").inner_text())
                page.locator("#kiosk-offline-next").click()
                assert page.input_value("#q-words") == "" and page.locator("#kiosk-offline-code").inner_text() == ""
            assert "2" in page.locator("#kiosk-waiting").inner_text()
            assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
            context.set_offline(False)
            page.evaluate("() => window.dispatchEvent(new Event('online'))")
            page.locator("#kiosk-waiting").wait_for(state="hidden")
        finally:
            browser.close()
    assert len(set(codes)) == 2 and all(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", c) for c in codes)
    session = requests.Session()
    assert "sin red: agua" in receipt_page(session, demo_live.url, codes[0])
    assert "sin red: canales" in receipt_page(session, demo_live.url, codes[1])
    try:
        after = db.scalar(select(func.count(Respondent.id)).where(Respondent.channel == "kiosk",
                                                                  Respondent.received_at.is_not(None)))
        assert after == before + 2
    finally:
        from conftest import close_app

        close_app(app)


# --- the demo on its own ----------------------------------------------------------------------------


def test_the_demo_in_a_clone_with_nothing_beside_it_has_a_survey_with_themes_and_working_receipts(tmp_path):
    """`make demo` in a fresh clone with no ../shared: the sample document's survey is the
    project's own questionnaire, with themes, open for answers, and a receipt code works."""
    alone = tmp_path / "alone" / "constituent"
    shutil.copytree(ROOT, alone, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "__pycache__", "instance", "tests", ".pytest_cache", ".mypy_cache",
        ".ruff_cache"))
    assert not (alone.parent / "shared").exists()
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if k not in ("CONSTITUENT_SHARED_DATA", "SECRET_KEY")},
           "CONSTITUENT_INSTANCE": str(tmp_path / "instance"), "CONSTITUENT_DEMO_RESPONDENTS": "300",
           "PYTHONPATH": str(alone)}
    log = open(tmp_path / "demo.log", "wb")
    process = subprocess.Popen([sys.executable, "-c", "from editor.cli import main; main()", "demo", "--port",
                                str(port)], cwd=alone, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                if requests.get(base + "/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
            time.sleep(0.25)
        printed = (tmp_path / "demo.log").read_text()
        assert "no synthetic survey" not in printed and "voluntaria@demo.constituent.mx" in printed
        themes = requests.get(f"{base}/d/{DEMO_SLUG}/themes", timeout=10).text
        assert "Inseguridad" in themes and "300" in themes
        # The demo's stages have a calendar: its process page names the next deadline.
        calendar = requests.get(f"{base}/d/{DEMO_SLUG}/process", headers={"Accept-Language": "en"}, timeout=10).text
        assert "Next deadline" in calendar and "is planned to end" in calendar
        url = _demo_questionnaire_url(base)
        session = requests.Session()
        code = answer_over_http(session, url, FORM)
        shown = receipt_page(session, base, code)
        assert "agua, basura y miedo" in shown and f'href="/d/{DEMO_SLUG}/art_1"' in shown
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_kiosk_refuses_answers_sent_without_its_page_token(app):
    """A kiosk's answers come from its own page: a request without the page's CSRF token (another
    site posting to the tablet's browser) is refused and nothing is stored."""
    from editor.survey.answer_views import KIOSK_COOKIE, _token_hash
    from editor.survey.models import Kiosk

    services = app.extensions["constituent"]
    survey = _open_questionnaire(services.db)
    client = app.test_client()
    services.db.add(Kiosk(survey_id=survey.id, token_hash=_token_hash("secreto-del-kiosko"),
                          until=datetime.now(timezone.utc) + timedelta(hours=1)))
    services.db.commit()
    client.set_cookie(KIOSK_COOKIE, "secreto-del-kiosko", path="/kiosk")
    page = client.get("/kiosk")
    assert page.status_code == 200 and b"survey-form" in page.data
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    form = {**{k: v for k, v in FORM.items() if k != "q-rights"}, "client_id": "tablet-0001-capture", "code": ""}
    for token in (None, "IjU1ZjM-another-session"):  # none, and one that is not this session's
        refused = client.post("/kiosk", data={**form, **({"csrf_token": token} if token else {})})
        assert refused.status_code == 400 and b"survey-thanks" not in refused.data
    assert services.db.scalar(select(func.count(Respondent.id)).where(Respondent.survey_id == survey.id)) == 0
    sent = client.post("/kiosk", data={**form, "csrf_token": csrf})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/kiosk/done")
    assert services.db.scalar(select(func.count(Respondent.id)).where(Respondent.survey_id == survey.id)) == 1
