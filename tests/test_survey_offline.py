"""Volunteers' tablets (issue 20): answers collected with no connection, synced later.

In Chromium: a volunteer opens the collecting page, loses the network, collects three answers
(each shows its receipt code), reloads the page with no network (it still opens and still holds
them), gets the network back and sends them: the database then has exactly those three tablet
answers, with their capture times and their collector, and sending again adds nothing. Through
the API: a batch sent twice is stored once, a bad capture does not stop the good ones, accounts
that may not collect (and the public) are refused, and answers captured while the questionnaire
was open still count when they arrive after it closed.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from conftest import ACCOUNTS, BROWSER_ARGS, CHROMIUM, PASSWORD, PUBLISHED, LiveServer, close_app, require
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from editor.audit import AuditEvent
from editor.survey.models import Answer, Respondent
from editor.survey.service import normalize_receipt

VOLUNTEER = "val@example.org"
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def _seed(instance) -> int:
    """An open questionnaire (the demo's) on the published document and a volunteer; its id."""
    from editor import create_app
    from editor.accounts import add_user
    from editor.documents import get_document
    from editor.survey.questionnaire import create_questionnaire, demo_definition, publish

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    try:
        with app.app_context():
            db = app.extensions["constituent"].db
            survey = create_questionnaire(db, get_document(db, PUBLISHED), demo_definition())
            publish(db, survey)
            add_user(db, VOLUNTEER, "volunteer", PASSWORD)
            db.commit()
            return survey.id
    finally:
        close_app(app)


def _database(instance):
    from editor.db import make_engine

    return make_engine(f"sqlite:///{instance / 'constituent.sqlite3'}")


def _tablet_rows(engine, survey_id: int) -> list[Respondent]:
    with Session(engine) as db:
        return list(db.scalars(select(Respondent).where(Respondent.survey_id == survey_id)
                               .order_by(Respondent.responded_at)))


def _user_id(engine, email: str) -> int:
    from editor.models import User

    with Session(engine) as db:
        return db.scalar(select(User.id).where(User.email == email))


@pytest.fixture(autouse=True)
def _patient_expect():
    """Browser assertions wait up to 20 s (not Playwright's 5 s): servers, browsers and other test
    processes share two cores. They pass as soon as the page shows what they wait for."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


# --- through the API ---------------------------------------------------------------------------------


@pytest.fixture
def app(instance):
    from editor import create_app

    survey_id = _seed(instance)
    application = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    application.config["TEST_SURVEY"] = survey_id
    yield application
    close_app(application)


def _signed_in(app, email: str | None):
    """A test client signed in as `email` (None: the public) and a CSRF token of its session."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    if email:
        assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302
        home = client.get("/").get_data(as_text=True)  # signing in starts a new session: its token
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)
    return client, token


def _capture(**changes) -> dict:
    """One respondent's answers as a tablet keeps them."""
    from editor.survey.service import new_receipt_code

    item = {
        "client_id": str(uuid.uuid4()),
        "captured_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(),
        "code": new_receipt_code(),
        "answers": {"place": {"borough": "Iztapalapa", "neighbourhood": "Santa Cruz Meyehualco"},
                    "words": "agua, tráfico, ruido", "future": "Que haya agua todos los días en mi colonia",
                    "challenge": "agua", "rights": ["agua", "movilidad"], "safety": "2"},
    }
    item.update(changes)
    return item


def _send(app, client, token, items, **headers):
    return client.post(f"/api/surveys/{app.config['TEST_SURVEY']}/responses", json={"responses": items},
                       headers={"X-CSRFToken": token, "Accept-Language": "en", **headers})


def _count(app) -> int:
    with Session(app.extensions["constituent"].engine) as db:
        return db.scalar(select(func.count(Respondent.id)).where(Respondent.survey_id == app.config["TEST_SURVEY"]))


def _synced_entries(app) -> list[AuditEvent]:
    with Session(app.extensions["constituent"].engine) as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == "survey.synced").order_by(AuditEvent.id)))


def test_the_same_batch_sent_twice_is_stored_once(app):
    client, token = _signed_in(app, VOLUNTEER)
    batch = [_capture(), _capture(), _capture()]
    first = _send(app, client, token, batch)
    assert first.status_code == 200
    assert [r["status"] for r in first.get_json()["results"]] == ["stored"] * 3
    assert [r["client_id"] for r in first.get_json()["results"]] == [c["client_id"] for c in batch]
    again = _send(app, client, token, batch)
    assert [r["status"] for r in again.get_json()["results"]] == ["already"] * 3
    assert _count(app) == 3
    engine = app.extensions["constituent"].engine
    volunteer = _user_id(engine, VOLUNTEER)
    rows = _tablet_rows(engine, app.config["TEST_SURVEY"])
    assert {(r.channel, r.collector_id, r.client_id) for r in rows} == {("tablet", volunteer, c["client_id"]) for c in batch}
    assert sorted(r.responded_at for r in rows) == sorted(datetime.fromisoformat(c["captured_at"]) for c in batch)
    # One audit entry per sync request, with the counts, and no respondent's code or answer in the log.
    entries = _synced_entries(app)
    assert [json.loads(e.detail) for e in entries] == [
        {"received": 3, "stored": 3, "already": 0, "refused": 0},
        {"received": 3, "stored": 0, "already": 3, "refused": 0},
    ]
    with Session(engine) as db:
        log = " ".join(db.scalars(select(AuditEvent.detail)))
    assert not any(c["code"] in log or c["code"].replace("-", "") in log for c in batch)
    assert "Que haya agua" not in log


def test_a_bad_capture_does_not_stop_the_good_ones(app):
    client, token = _signed_in(app, VOLUNTEER)
    good = _capture()
    reused = _capture(code=good["code"].lower())  # the same code, as typed differently
    unanswered = _capture(answers={"words": "solo esto"})
    wrong_option = _capture()
    wrong_option["answers"]["challenge"] = "ninguno"
    bad_code = _capture(code="NOT-A-CODE")
    no_time = _capture(captured_at="ayer")
    later = _capture()
    response = _send(app, client, token, [good, reused, unanswered, wrong_option, bad_code, no_time, "nada", later])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["stored", "refused", "refused", "refused", "refused", "refused",
                                              "refused", "stored"]
    assert results[1]["problems"] == {"": "this receipt code is already in use by other answers"}
    assert results[2]["problems"]["future"] == "needs an answer" and results[2]["client_id"] == unanswered["client_id"]
    assert results[3]["problems"] == {"challenge": "is not one of the options"}
    assert results[4]["problems"] == {"": "the receipt code is not a valid code"}
    assert results[5]["problems"] == {"": "the capture time is missing or is not a date and time"}
    assert results[6] == {"client_id": None, "status": "refused", "problems": {"": "each response must be an object"}}
    assert response.get_json()["stored"] == 2 and response.get_json()["refused"] == 6
    engine = app.extensions["constituent"].engine
    stored = _tablet_rows(engine, app.config["TEST_SURVEY"])
    assert {r.client_id for r in stored} == {good["client_id"], later["client_id"]}
    with Session(engine) as db:  # the refused ones left no answer behind either
        assert db.scalar(select(func.count(Answer.id)).where(Answer.respondent_id.not_in([r.id for r in stored]))) == 0
    # The good capture's code works on the receipt page.
    reader, reader_token = _signed_in(app, None)
    receipt = reader.post("/receipt", data={"code": good["code"], "csrf_token": reader_token},
                          headers={"Accept-Language": "en"})
    assert "Que haya agua todos los días en mi colonia" in receipt.get_data(as_text=True)
    # More than 500 at once: refused as a whole, nothing stored.
    too_many = _send(app, client, token, [_capture() for _ in range(501)])
    assert too_many.status_code == 400 and "500" in too_many.get_json()["error"]
    assert _count(app) == 2


def test_viewers_and_the_public_are_refused(app):
    batch = [_capture()]
    viewer, token = _signed_in(app, ACCOUNTS["vera"][0])
    assert _send(app, viewer, token, batch).status_code == 403
    assert viewer.get(f"/api/surveys/{app.config['TEST_SURVEY']}/responses").status_code == 403
    public, token = _signed_in(app, None)
    refused = _send(app, public, token, batch)
    assert refused.status_code == 401 and refused.get_json()["status"] == 401
    volunteer, _token = _signed_in(app, VOLUNTEER)
    no_token = volunteer.post(f"/api/surveys/{app.config['TEST_SURVEY']}/responses", json={"responses": batch})
    assert no_token.status_code == 400 and "CSRF" in no_token.get_json()["error"]
    assert _count(app) == 0
    with Session(app.extensions["constituent"].engine) as db:  # the refusals are logged, without the answers
        denied = list(db.scalars(select(AuditEvent.detail).where(AuditEvent.action.startswith("denied.collect"))))
    assert len(denied) == 3 and not any(batch[0]["code"] in d or "Que haya agua" in d for d in denied)
    # Nor do they get the collecting page: the viewer is refused, the public sent to sign in.
    page = f"/d/{PUBLISHED}/survey/{app.config['TEST_SURVEY']}/collect"
    assert viewer.get(page).status_code == 403
    to_login = public.get(page)
    assert to_login.status_code == 302 and "/login" in to_login.headers["Location"]
    assert volunteer.get(page).status_code == 200
    assert volunteer.get(f"/d/{PUBLISHED}/survey/999/collect").status_code == 404
    # The manifest and the worker hold no data: browsers fetch manifests without cookies.
    manifest = app.test_client().get(page + ".webmanifest")
    assert manifest.status_code == 200 and manifest.headers["Content-Type"].startswith("application/manifest+json")
    assert manifest.get_json()["start_url"] == page and manifest.get_json()["scope"] == page
    worker = app.test_client().get(page + "-worker.js")
    assert worker.status_code == 200 and f'"page": "{page}"' in worker.get_data(as_text=True)
    assert _send(app, volunteer, _token, batch).status_code == 200  # the same batch, by a volunteer
    assert _count(app) == 1


def test_answers_captured_while_open_count_when_they_arrive_after_closing(app):
    from editor.survey.models import Survey
    from editor.survey.questionnaire import close

    client, token = _signed_in(app, VOLUNTEER)
    while_open = _capture(captured_at=datetime.now(timezone.utc).isoformat())
    services = app.extensions["constituent"]
    with app.app_context():
        close(services.db, services.db.get(Survey, app.config["TEST_SURVEY"]))
        services.db.commit()
    after = _capture(captured_at=(datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat())
    response = _send(app, client, token, [while_open, after])
    assert [r["status"] for r in response.get_json()["results"]] == ["stored", "refused"]
    assert response.get_json()["results"][1]["problems"] == {"": "This questionnaire is not taking answers."}
    assert client.get(f"/api/surveys/{app.config['TEST_SURVEY']}/responses").get_json()["status"] == "closed"
    # No new form for a closed questionnaire; the worker and manifest stay for tablets still holding answers.
    base = f"/d/{PUBLISHED}/survey/{app.config['TEST_SURVEY']}"
    assert client.get(base + "/collect").status_code == 404
    assert client.get(base + "/collect-worker.js").status_code == 200
    assert _count(app) == 1


def test_the_same_batch_from_three_connections_at_once_is_stored_once(instance):
    """A tablet that sends again while its first request is still running (a reload, a second tab),
    through the real server: each capture is stored by exactly one of the requests, none fails."""
    import threading

    from conftest import login

    survey_id = _seed(instance)
    server = LiveServer(instance).start()
    engine = _database(instance)
    try:
        batch = [_capture() for _ in range(40)]
        url = f"{server.url}/api/surveys/{survey_id}/responses"
        sessions = [login(server.url, VOLUNTEER) for _ in range(3)]
        tokens = [s.get(url, timeout=10).json()["csrf_token"] for s in sessions]
        start = threading.Barrier(len(sessions))
        answers: list = [None] * len(sessions)

        def send(n: int) -> None:
            start.wait()
            answers[n] = sessions[n].post(url, json={"responses": batch}, headers={"X-CSRFToken": tokens[n]},
                                          timeout=120)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(len(sessions))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [a.status_code for a in answers] == [200, 200, 200], [a.text[:300] for a in answers]
        for n, capture in enumerate(batch):
            statuses = sorted(a.json()["results"][n]["status"] for a in answers)
            assert statuses == ["already", "already", "stored"], (capture["client_id"], statuses)
        assert len(_tablet_rows(engine, survey_id)) == 40
    finally:
        engine.dispose()
        server.stop()


# --- in a real browser ------------------------------------------------------------------------------


def _fill(page, words: str, borough: str, challenge_label: str) -> None:
    """One respondent's answers, the way a person gives them."""
    page.select_option("#q-place-borough", borough)
    page.fill("#q-words", words)
    page.fill("#q-future", f"Una ciudad donde {words}")
    page.get_by_label(challenge_label, exact=True).check()


def _waiting(page) -> str:
    return page.locator("#collect-waiting").inner_text()


def _settled_lines(page, log) -> int:
    """The access log's line count once the page has stopped asking the server for anything.

    The page's last request at start (is the questionnaire still open?) can still be on its way
    when "Ready" shows, and the server writes a request's line only after it has answered it."""
    page.wait_for_load_state("networkidle")
    count, steady_since = log.read_text().count("\n"), time.monotonic()
    deadline = steady_since + 15
    while time.monotonic() - steady_since < 1.0 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = log.read_text().count("\n")
        if now != count:
            count, steady_since = now, time.monotonic()
    return count


@pytest.mark.browser
def test_a_volunteer_collects_offline_reloads_and_syncs(instance):
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    survey_id = _seed(instance)
    access_log = instance / "access.log"  # what reached the server, request by request
    server = LiveServer(instance, args=["--access-log", str(access_log)]).start()
    engine = _database(instance)
    collect_url = f"{server.url}/d/{PUBLISHED}/survey/{survey_id}/collect"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
                page = context.new_page()
                page.set_default_timeout(20_000)
                problems: list[str] = []
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.goto(f"{server.url}/login?next=/d/{PUBLISHED}/survey/{survey_id}/collect")
                page.fill("#email", VOLUNTEER)
                page.fill("#password", PASSWORD)
                page.click("main form button[type=submit]")
                page.wait_for_url(collect_url)
                expect(page.locator("#collect-ready")).to_have_text(
                    "Ready: this page opens and keeps answers without a connection.")
                expect(page.locator("#collect-waiting")).to_have_text("Waiting to be sent: 0")

                reached = _settled_lines(page, access_log)
                context.set_offline(True)
                expect(page.locator("#collect-connection")).to_contain_text("Offline")
                assert f"GET /d/{PUBLISHED}/survey/{survey_id}/collect " in access_log.read_text()
                # Saving with a required question unanswered: told which, nothing kept.
                page.fill("#q-words", "solo palabras")
                page.click("#collect-save")
                expect(page.locator("#collect-problems")).to_be_visible()
                expect(page.locator("#collect-problems")).to_contain_text("needs an answer")
                assert _waiting(page) == "Waiting to be sent: 0"
                shown = []
                people = [("agua y luz", "Iztapalapa", "Water"), ("calles seguras", "Tlalpan", "Crime and safety"),
                          ("más árboles", "Coyoacán", "Pollution")]
                for n, (words, borough, challenge) in enumerate(people, start=1):
                    _fill(page, words, borough, challenge)
                    page.click("#collect-save")
                    receipt = page.locator("#collect-receipt")
                    expect(receipt).to_be_visible()
                    expect(receipt).to_contain_text("shown only this once")
                    code = page.locator("#collect-code").inner_text()
                    assert CODE.match(code), code
                    shown.append(code)
                    # The next person starts from an empty form with nothing of this one left in it.
                    page.click("#collect-next")
                    expect(receipt).to_be_hidden()
                    expect(page.locator("#collect-waiting")).to_have_text(f"Waiting to be sent: {n}")
                    assert page.locator("#collect-code").inner_text() == ""
                    assert page.input_value("#q-words") == "" and page.input_value("#q-future") == ""
                    assert page.input_value("#q-place-borough") == ""
                    assert page.locator("#collect-form input:checked").count() == 0
                    assert words not in page.locator("#collect").inner_text()
                assert len(set(shown)) == 3

                # The page opens again with no network, and still holds the three answers.
                page.reload()
                expect(page.locator("#collect-waiting")).to_have_text("Waiting to be sent: 3")
                expect(page.locator("#collect-connection")).to_contain_text("Offline")
                assert page.locator("#q-words").is_visible()
                kept = page.evaluate("""() => new Promise((resolve, reject) => {
                    const open = indexedDB.open('constituent-collect');
                    open.onsuccess = () => {
                      const all = open.result.transaction('captures').objectStore('captures').getAll();
                      all.onsuccess = () => resolve(all.result);
                      all.onerror = () => reject(all.error);
                    };
                })""")
                assert sorted(k["code"] for k in kept) == sorted(shown)
                # Nothing reached the server while offline: the page came from the service worker.
                assert access_log.read_text().count("\n") == reached
                assert _tablet_rows(engine, survey_id) == []

                context.set_offline(False)
                page.click("#collect-send")
                expect(page.locator("#collect-waiting")).to_have_text("Waiting to be sent: 0")
                rows = _tablet_rows(engine, survey_id)
                volunteer = _user_id(engine, VOLUNTEER)
                assert len(rows) == 3
                assert {(r.channel, r.collector_id) for r in rows} == {("tablet", volunteer)}
                assert sorted(r.responded_at for r in rows) == sorted(
                    datetime.fromisoformat(k["captured_at"]) for k in kept)
                assert {r.client_id for r in rows} == {k["client_id"] for k in kept}
                assert {r.borough for r in rows} == {"Iztapalapa", "Tlalpan", "Coyoacán"}

                # Sending again adds nothing: from the button, and the same batch posted again (as a
                # tablet would whose first answer from the server was lost on the way).
                page.click("#collect-send")
                expect(page.locator("#collect-last")).to_contain_text("nothing to send")
                again = page.evaluate("""async (batch) => {
                    const state = await (await fetch(document.getElementById('collect').dataset.sync)).json();
                    const response = await fetch(document.getElementById('collect').dataset.sync, {
                      method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRFToken': state.csrf_token},
                      body: JSON.stringify({responses: batch})});
                    return (await response.json()).results.map(r => r.status);
                }""", [{k: c[k] for k in ("client_id", "captured_at", "code", "answers")} for c in kept])
                assert again == ["already"] * 3
                assert len(_tablet_rows(engine, survey_id)) == 3

                # One of the codes works on the receipt page, for anyone.
                reader = browser.new_context(locale="en-GB").new_page()
                reader.goto(server.url + "/receipt")
                reader.fill("#code", shown[1].lower())
                reader.keyboard.press("Enter")
                expect(reader.locator("#receipt-result")).to_contain_text("calles seguras")
                assert "agua y luz" not in reader.content()
                assert problems == [], problems
            finally:
                browser.close()
    finally:
        engine.dispose()
        server.stop()


@pytest.mark.browser
def test_the_collecting_page_on_a_phone_in_spanish_by_keyboard(instance, tmp_path):
    """390 px wide, no horizontal scroll; a whole capture with the keyboard alone; Spanish page."""
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    survey_id = _seed(instance)
    server = LiveServer(instance).start()
    try:
        session = requests.Session()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-MX")
                page = context.new_page()
                page.set_default_timeout(20_000)
                page.goto(f"{server.url}/login?next=/d/{PUBLISHED}/survey/{survey_id}/collect")
                page.fill("#email", VOLUNTEER)
                page.fill("#password", PASSWORD)
                page.click("main form button[type=submit]")
                page.wait_for_url(f"**/survey/{survey_id}/collect")
                assert page.locator("html").get_attribute("lang") == "es"
                assert "¿En qué alcaldía y colonia vive?" in page.content()
                overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"horizontal scroll of {overflow}px at 390px"
                page.screenshot(path=str(tmp_path / "collect-phone.png"), full_page=True)
                # By keyboard: the borough, the two texts and the challenge, then Save.
                page.focus("#q-place-borough")
                page.keyboard.press("ArrowDown")
                page.focus("#q-words")
                page.keyboard.type("agua y parques")
                page.keyboard.press("Tab")
                page.keyboard.type("Una ciudad con agua")
                page.focus("#collect-form input[name=q-challenge]")
                page.keyboard.press("Space")
                page.focus("#collect-save")
                page.keyboard.press("Enter")
                expect(page.locator("#collect-receipt")).to_be_visible()
                assert page.evaluate("() => document.activeElement.id") == "collect-receipt-h"
                code = page.locator("#collect-code").inner_text()
                assert normalize_receipt(code)
                page.keyboard.press("Tab")  # the next focusable thing after the code: "Done"
                assert page.evaluate("() => document.activeElement.id") == "collect-next"
                page.keyboard.press("Enter")
                expect(page.locator("#collect-receipt")).to_be_hidden()
                # Online: it was sent at once.
                expect(page.locator("#collect-last[data-kind=sent][data-stored='1']")).to_have_count(1)
                expect(page.locator("#collect[data-waiting='0']")).to_have_count(1)
                token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                  session.get(server.url + "/receipt").text).group(1)
                found = session.post(server.url + "/receipt", data={"code": code, "csrf_token": token})
                assert "agua y parques" in found.text
            finally:
                browser.close()
    finally:
        server.stop()


@pytest.mark.browser
def test_a_tablet_still_sends_what_it_kept_after_the_questionnaire_closed(instance):
    """Answers captured offline while it was open; it closes before the tablet is back online: the
    page still opens (the kept copy), offers no new form, and sends them."""
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    survey_id = _seed(instance)
    server = LiveServer(instance).start()
    engine = _database(instance)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
                page = context.new_page()
                page.set_default_timeout(20_000)
                page.goto(f"{server.url}/login?next=/d/{PUBLISHED}/survey/{survey_id}/collect")
                page.fill("#email", VOLUNTEER)
                page.fill("#password", PASSWORD)
                page.click("main form button[type=submit]")
                expect(page.locator("#collect[data-offline-ready=true]")).to_have_count(1)
                context.set_offline(True)
                _fill(page, "agua", "Iztapalapa", "Water")
                page.click("#collect-save")
                page.click("#collect-next")
                expect(page.locator("#collect-waiting")).to_have_text("Waiting to be sent: 1")
                _close(instance, survey_id)
                context.set_offline(False)
                page.reload()  # the server answers 404 now: the kept copy opens
                expect(page.locator("#collect-closed")).to_contain_text("This questionnaire is closed")
                # Sent on the `online` event or as the page opened (whichever the reload let finish):
                # a capture leaves the tablet only once the server said it has it.
                expect(page.locator("#collect-waiting")).to_have_text("Waiting to be sent: 0")
                assert page.locator("#collect-form").is_hidden()
                rows = _tablet_rows(engine, survey_id)
                assert len(rows) == 1 and rows[0].borough == "Iztapalapa"
            finally:
                browser.close()
    finally:
        engine.dispose()
        server.stop()


def _close(instance, survey_id: int) -> None:
    from editor import create_app
    from editor.survey.models import Survey
    from editor.survey.questionnaire import close

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    try:
        with app.app_context():
            db = app.extensions["constituent"].db
            close(db, db.get(Survey, survey_id))
            db.commit()
    finally:
        close_app(app)
