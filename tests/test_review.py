"""Petitioner review and the outbox: private links scoped to one petition, approvals and objections
with the wording reviewed, re-review when that wording changes (live, through a committee member's
real collaboration client), the committee's dashboard, and delivery by file, SMTP (a tiny real SMTP
server below) and signed webhooks (a real local HTTP server)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import socketserver
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED, ROOT, LiveServer, free_port
from pycrdt import XmlText
from sqlalchemy import create_engine, select
from test_stages import text_node_in

WATER_UNIT = "00000000-0000-4000-8000-000000000003"  # "Toda persona tiene derecho al agua."
MOBILITY_UNIT = "00000000-0000-4000-8000-000000000004"  # article "Movilidad"
ANIMALS_UNIT = "00000000-0000-4000-8000-000000000005"
WATER_TEXT = "Toda persona tiene derecho al agua."
MOBILITY_TEXT = "Toda persona tiene derecho a moverse."
ANIMALS_TEXT = "Los animales son seres sintientes."
PETITIONER = ("Carlo Patricio Pérez", "carlo@example.net")
OTHER = ("Alejandro Posadas", "alejandro@example.net")


# --- set-up ------------------------------------------------------------------------------------------


def prepare(instance: Path, stage: str = "consultation", extra_petitions: int = 0) -> dict[str, int]:
    """Petitions linked to clauses of the published document, and the document moved to `stage`
    by the administrator, written into the instance before any server opens it."""
    from editor import create_app
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.models import User
    from editor.petitions.models import Petition
    from editor.provenance.links import create_link
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.test_request_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        units = read_live(services, PUBLISHED).units
        water = Petition(document_id=document.id, key="agua", title="Agua potable para todas las personas",
                         petitioners=PETITIONER[0], proposal="Toda persona tiene derecho al agua potable y suficiente.")
        mobility = Petition(document_id=document.id, key="movilidad", title="Movilidad sustentable",
                            petitioners=OTHER[0], proposal="Toda persona tiene derecho a la movilidad segura.")
        unlinked = Petition(document_id=document.id, key="sin-vinculo", title="Petición sin cláusulas")
        db.add_all([water, mobility, unlinked])
        db.flush()
        create_link(db, document, units, WATER_UNIT, "petition", water.id, "incorporates")
        create_link(db, document, units, MOBILITY_UNIT, "petition", mobility.id, "incorporates")
        ids = {"water": water.id, "mobility": mobility.id, "unlinked": unlinked.id}
        for n in range(extra_petitions):
            extra = Petition(document_id=document.id, key=f"extra-{n}", title=f"Petición {n + 1:02d}",
                             proposal="Los animales son seres sintientes.")
            db.add(extra)
            db.flush()
            create_link(db, document, units, ANIMALS_UNIT, "petition", extra.id, "incorporates")
            ids[f"extra-{n}"] = extra.id
        db.commit()
        admin = db.scalar(select(User).where(User.email == ACCOUNTS["admin"][0]))
        while current_stage(db, document).key != stage:
            advance(services, document, admin)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    return ids


def close(app) -> None:
    services = app.extensions["constituent"]
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


@pytest.fixture
def site(instance):
    """The application, in process, over an instance in the consultation stage."""
    from editor import create_app

    ids = prepare(instance)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret",
                      "REVIEW_RATE_LIMIT": "10000 per minute"})
    yield app, ids
    close(app)


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found, "the page has no CSRF token"
    return found.group(1)


def signed_in(app, who: str):
    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def dashboard_token(client) -> str:
    return _csrf(client.get(f"/d/{PUBLISHED}/reviews").get_data(as_text=True))


def issue(client, petition_id: int, who=PETITIONER, language: str = "en", days: str = "60"):
    """Issue a link from the dashboard form; returns (response, the review page path or None)."""
    response = client.post(f"/d/{PUBLISHED}/reviews/{petition_id}/link", data={
        "csrf_token": dashboard_token(client), "name": who[0], "email": who[1], "language": language, "days": days})
    found = re.search(r'id="issued-url" class="review-url" type="text" readonly value="https?://[^/"]+(/review/[^"]+)"',
                      response.get_data(as_text=True))
    return response, (found.group(1) if found else None)


def review_form(petitioner, path: str) -> dict:
    page = petitioner.get(path)
    assert page.status_code == 200, page.status_code
    text = page.get_data(as_text=True)
    return {"csrf_token": _csrf(text), "petition": re.search(r'name="petition" value="(\d+)"', text).group(1),
            "seen": re.search(r'name="seen" value="([^"]+)"', text).group(1)}


def send_review(petitioner, path: str, decision: str, comment: str = "", **changes):
    data = {**review_form(petitioner, path), "decision": decision, "comment": comment, **changes}
    return petitioner.post(path, data=data)


def rows(app, model, *where):
    with app.app_context():
        db = app.extensions["constituent"].db
        found = list(db.scalars(select(model).where(*where).order_by(model.id)))
        db.remove()
        return found


def anonymous(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# --- links: scope, revocation, expiry --------------------------------------------------------------------


def test_a_link_opens_its_own_petitions_clauses_and_nothing_else(site):
    from editor.review.models import PetitionReview, ReviewLink

    app, ids = site
    ana = signed_in(app, "ana")
    issued, water_path = issue(ana, ids["water"])
    assert issued.status_code == 201 and water_path
    assert "shown only this once" in issued.get_data(as_text=True)
    _, mobility_path = issue(ana, ids["mobility"], OTHER)
    token = water_path.rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits, URL-safe base64

    # Only the SHA-256 of the token is stored; nothing in the row holds the token itself.
    link = rows(app, ReviewLink, ReviewLink.petition_id == ids["water"])[0]
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps({k: str(v) for k, v in vars(link).items()})

    petitioner = anonymous(app)
    page = petitioner.get(water_path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert WATER_TEXT in text and "Agua potable para todas las personas" in text
    assert "Article 1" in text or "Artículo 1" in text  # the enclosing article, for context
    assert MOBILITY_TEXT not in text and ANIMALS_TEXT not in text and "Movilidad sustentable" not in text
    assert PETITIONER[1] not in text  # the email is for the committee only
    scope = petitioner.get(f"/api/v1{water_path}").get_json()
    assert [u["guid"] for u in scope["units"]] == [WATER_UNIT] and scope["can_review"] is True

    # The token grants nothing else: no account, no draft, no dashboard, no other petition.
    assert petitioner.get(f"/d/{DRAFT}").status_code == 404
    assert petitioner.get(f"/d/{PUBLISHED}/reviews").status_code == 302
    unknown = petitioner.get("/review/" + "A" * 32)
    assert unknown.status_code == 404
    form = review_form(petitioner, water_path)
    other = petitioner.post(water_path, data={**form, "petition": str(ids["mobility"]), "decision": "approve"})
    assert other.status_code == 404 and other.get_data() == unknown.get_data()
    api_other = petitioner.post(f"/api/v1{water_path}", json={"petition": ids["mobility"], "decision": "approve",
                                                              "seen": form["seen"]},
                                headers={"X-CSRFToken": form["csrf_token"]})
    assert api_other.status_code == 404
    assert rows(app, PetitionReview) == []

    # Revoked: the same answer as an unknown token, for the page, the form and the API.
    revoke = ana.post(f"/d/{PUBLISHED}/reviews/{ids['water']}/revoke", data={"csrf_token": dashboard_token(ana)})
    assert revoke.status_code == 303
    gone = petitioner.get(water_path)
    assert gone.status_code == 404 and gone.get_data() == unknown.get_data()
    assert petitioner.post(water_path, data={**form, "decision": "approve"}).status_code == 404
    assert petitioner.get(f"/api/v1{water_path}").status_code == 404
    assert rows(app, PetitionReview) == []

    # Re-issuing revokes the previous link of that petition.
    _, newer = issue(ana, ids["mobility"], OTHER)
    assert newer != mobility_path
    assert petitioner.get(mobility_path).status_code == 404
    assert petitioner.get(newer).status_code == 200
    board = ana.get(f"/api/v1/documents/{PUBLISHED}/reviews").get_json()
    status = {p["id"]: p["link"]["status"] for p in board["petitions"]}
    assert status == {ids["water"]: "revoked", ids["mobility"]: "active"}
    assert {p["id"]: p["link"]["opened"] for p in board["petitions"]}[ids["mobility"]] == 1


def test_an_expired_link_gets_nothing(site):
    from editor.documents import get_document
    from editor.models import User
    from editor.petitions.models import Petition
    from editor.review.service import issue_link

    app, ids = site
    with app.test_request_context():
        db = app.extensions["constituent"].db
        document = get_document(db, PUBLISHED)
        ana = db.scalar(select(User).where(User.email == ACCOUNTS["ana"][0]))
        long_ago = datetime.now(timezone.utc) - timedelta(days=61)
        _link, old_token = issue_link(db, document, db.get(Petition, ids["water"]), ana, *PETITIONER, now=long_ago)
        _link, short_token = issue_link(db, document, db.get(Petition, ids["mobility"]), ana, *OTHER, days=1,
                                        now=datetime.now(timezone.utc) - timedelta(days=1, seconds=1))
        db.remove()
    petitioner = anonymous(app)
    unknown = petitioner.get("/review/" + "B" * 32)
    for token in (old_token, short_token):
        expired = petitioner.get(f"/review/{token}")
        assert expired.status_code == 404 and expired.get_data() == unknown.get_data()
    board = signed_in(app, "ana").get(f"/d/{PUBLISHED}/reviews").get_data(as_text=True)
    assert board.count('data-status="expired"') == 2


# --- approving and objecting -----------------------------------------------------------------------------


def test_approval_and_objection_store_the_wording_reviewed(site):
    from editor.models import Notification
    from editor.review.models import PetitionReview

    app, ids = site
    ana = signed_in(app, "ana")
    _, water_path = issue(ana, ids["water"])
    _, mobility_path = issue(ana, ids["mobility"], OTHER)
    carlo, alejandro = anonymous(app), anonymous(app)

    page = carlo.get(water_path).get_data(as_text=True)
    # Redline against the proposal: "potable y suficiente" was proposed and is not in the text.
    assert "<del>potable y suficiente.</del>" in page.replace("\n", "") or "<del>" in page and "potable" in page
    assert "You have not reviewed the wording yet." in page

    approved = send_review(carlo, water_path, "approve")
    assert approved.status_code == 303
    page = carlo.get(water_path).get_data(as_text=True)
    assert "your approval of the wording has been recorded" in page
    assert "You approved the wording on" in page and "Unchanged since your last review." in page
    [review] = rows(app, PetitionReview, PetitionReview.petition_id == ids["water"])
    snapshot = json.loads(review.snapshot)["units"]
    assert review.decision == "approve" and review.stage_key == "consultation"
    assert [(u["guid"], u["wording"]) for u in snapshot] == [(WATER_UNIT, WATER_TEXT)]
    assert review.created_at is not None

    # An objection needs a comment, within the limit; a stale page is refused; nothing is stored.
    missing = send_review(alejandro, mobility_path, "object", "   ")
    assert missing.status_code == 400 and "a comment is required" in missing.get_data(as_text=True)
    too_long = send_review(alejandro, mobility_path, "object", "x" * 2001)
    assert too_long.status_code == 400 and "the limit is 2000" in too_long.get_data(as_text=True)
    unknown = send_review(alejandro, mobility_path, "maybe")
    assert unknown.status_code == 400 and "approve the wording or object" in unknown.get_data(as_text=True)
    stale = send_review(alejandro, mobility_path, "approve", seen="0" * 32)
    assert stale.status_code == 409 and "changed while you were reading" in stale.get_data(as_text=True)
    no_csrf = alejandro.post(mobility_path, data={"petition": ids["mobility"], "decision": "approve"})
    assert no_csrf.status_code == 400
    assert rows(app, PetitionReview, PetitionReview.petition_id == ids["mobility"]) == []

    objected = send_review(alejandro, mobility_path, "object", "Falta la movilidad segura para peatones.")
    assert objected.status_code == 303
    [objection] = rows(app, PetitionReview, PetitionReview.petition_id == ids["mobility"])
    assert objection.decision == "object" and objection.comment == "Falta la movilidad segura para peatones."
    assert json.loads(objection.snapshot)["units"][0]["wording"] == "Movilidad\n" + MOBILITY_TEXT
    # The committee is told of the objection in the application.
    told = rows(app, Notification, Notification.message.contains("Falta la movilidad segura"))
    assert len(told) == 3  # ana, bruno and the administrator

    board = ana.get(f"/d/{PUBLISHED}/reviews").get_data(as_text=True)
    assert "1 of 2 petitions approved the wording." in board
    assert 'data-count="approved">1<' in board and 'data-count="objected">1<' in board
    assert "Falta la movilidad segura para peatones." in board and PETITIONER[1] in board
    data = ana.get(f"/api/v1/documents/{PUBLISHED}/reviews").get_json()
    assert data["counts"] == {"approved": 1, "objected": 1, "rereview": 0, "pending": 0}


def test_reviews_close_with_the_consultation_and_reopen_for_a_re_review(site):
    from editor.documents import get_document
    from editor.models import Notification, User
    from editor.outbox import OutboxMessage
    from editor.review.models import PetitionReview, ReviewRequest
    from editor.review.service import notify_changed_units
    from editor.stages.workflow import advance

    app, ids = site
    ana = signed_in(app, "ana")
    _, water_path = issue(ana, ids["water"])
    carlo = anonymous(app)
    assert send_review(carlo, water_path, "approve").status_code == 303

    services = app.extensions["constituent"]
    with app.test_request_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        advance(services, document, db.scalar(select(User).where(User.email == ACCOUNTS["admin"][0])))
        db.remove()
    page = carlo.get(water_path).get_data(as_text=True)
    assert "The petitioner consultation has ended" in page and 'name="decision"' not in page
    late = carlo.post(water_path, data={"csrf_token": _csrf(page), "petition": str(ids["water"]), "seen": "x" * 32,
                                        "decision": "object", "comment": "No"})
    assert late.status_code == 409
    assert len(rows(app, PetitionReview)) == 1
    refused, path = issue(ana, ids["mobility"], OTHER)
    assert refused.status_code == 409 and path is None and "petitioner consultation" in refused.get_data(as_text=True)

    # The text changes after the approval (as an adopted amendment does): the petitioner is asked again.
    append_in_room(services, WATER_UNIT, " potable", origin="test-amendment")
    # The edit is attributed once durable, and its recorder asks the petitioner again by itself.
    deadline = time.monotonic() + 10
    while not rows(app, OutboxMessage, OutboxMessage.event == "review.rereview_requested"):
        assert time.monotonic() < deadline, "the change did not ask the petitioner to review again"
        time.sleep(0.05)
    with app.test_request_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        assert notify_changed_units(services, document, {MOBILITY_UNIT}) == 0  # not a reviewed unit
        assert notify_changed_units(services, document, {WATER_UNIT}) == 0  # already asked
        db.remove()
    [message] = rows(app, OutboxMessage, OutboxMessage.event == "review.rereview_requested")
    assert message.kind == "email" and message.recipient == PETITIONER[1]
    assert "has changed" in message.subject and "the private review link the drafting committee gave you" in message.body
    assert water_path.rsplit("/", 1)[1] not in message.body
    assert len(rows(app, ReviewRequest)) == 1
    # The committee is told in the application (in the document's language), pointing at the dashboard.
    told = rows(app, Notification, Notification.url == f"/d/{PUBLISHED}/reviews#petition-{ids['water']}")
    assert len(told) == 3 and all(ids["water"] and "Agua potable para todas" in n.message for n in told)

    page = carlo.get(water_path).get_data(as_text=True)
    assert "The wording changed after your last review." in page
    assert "<del>agua.</del><ins>agua potable.</ins>" in page
    assert 'name="decision"' in page  # open again, for this petition only, though the consultation ended
    board = ana.get(f"/api/v1/documents/{PUBLISHED}/reviews").get_json()
    assert board["counts"]["rereview"] == 1
    assert send_review(carlo, water_path, "approve").status_code == 303
    latest = rows(app, PetitionReview)[-1]
    assert json.loads(latest.snapshot)["units"][0]["wording"] == "Toda persona tiene derecho al agua potable."
    page = carlo.get(water_path).get_data(as_text=True)
    assert "The petitioner consultation has ended" in page and 'name="decision"' not in page
    assert ana.get(f"/api/v1/documents/{PUBLISHED}/reviews").get_json()["counts"]["approved"] == 1


# --- the committee's side: dashboard, permissions, bad input ----------------------------------------------


def test_the_dashboard_counts_outcomes_like_the_case_study(instance):
    from editor import create_app
    from editor.documents import get_document
    from editor.models import User
    from editor.petitions.models import Petition
    from editor.review.service import issue_link, review_scope, submit_review

    ids = prepare(instance, extra_petitions=12)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.test_request_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        ana = db.scalar(select(User).where(User.email == ACCOUNTS["ana"][0]))
        petitions = [db.get(Petition, i) for key, i in ids.items() if key != "unlinked"]
        assert len(petitions) == 14
        for n, petition in enumerate(petitions):
            link, _token = issue_link(db, document, petition, ana, f"Peticionaria {n}", f"p{n}@example.net")
            seen = review_scope(services, document, petition).fingerprint
            objecting = petition.id == ids["mobility"]
            submit_review(services, document, link, "object" if objecting else "approve",
                          "Falta la movilidad segura." if objecting else "", seen)
        db.remove()
    try:
        ana = signed_in(app, "ana")
        board = ana.get(f"/d/{PUBLISHED}/reviews").get_data(as_text=True)
        assert "13 of 14 petitions approved the wording." in board
        assert 'data-count="approved">13<' in board and 'data-count="objected">1<' in board
        assert "Petición sin cláusulas" not in board  # not linked to the text: nothing to review
        data = ana.get(f"/api/v1/documents/{PUBLISHED}/reviews").get_json()
        assert data["total"] == 14 and data["counts"] == {"approved": 13, "objected": 1, "rereview": 0, "pending": 0}
    finally:
        close(app)


def test_bad_requests_are_refused_and_change_nothing(site):
    from editor.review.models import ReviewLink

    app, ids = site
    ana = signed_in(app, "ana")
    cases = [
        ({"name": "", "email": "a@example.net"}, "Give the petitioner's name."),
        ({"name": "Ana", "email": "not-an-address"}, "is not an email address"),
        ({"name": "Ana", "email": "a@example.net\nBcc: x@example.net"}, "is not an email address"),
        ({"name": "Ana", "email": "a@example.net", "days": "0"}, "1 to 366 days"),
        ({"name": "Ana", "email": "a@example.net", "days": "soon"}, "1 to 366 days"),
        ({"name": "Ana", "email": "a@example.net", "language": "fr"}, "Spanish or English"),
        ({"name": "N" * 201, "email": "a@example.net"}, "longer than 200"),
    ]
    for fields, message in cases:
        data = {"csrf_token": dashboard_token(ana), "language": "es", "days": "60", **fields}
        response = ana.post(f"/d/{PUBLISHED}/reviews/{ids['water']}/link", data=data)
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True).replace("&#39;", "'"), fields
    unlinked = ana.post(f"/d/{PUBLISHED}/reviews/{ids['unlinked']}/link", data={
        "csrf_token": dashboard_token(ana), "name": "Ana", "email": "a@example.net"})
    assert unlinked.status_code == 409 or unlinked.status_code == 404
    assert ana.post(f"/d/{PUBLISHED}/reviews/99999/link", data={
        "csrf_token": dashboard_token(ana), "name": "Ana", "email": "a@example.net"}).status_code == 404
    assert ana.post(f"/d/{PUBLISHED}/reviews/{ids['water']}/link",
                    data={"name": "Ana", "email": "a@example.net"}).status_code == 400  # no CSRF token
    assert ana.post(f"/d/{PUBLISHED}/reviews/{ids['water']}/revoke",
                    data={"csrf_token": dashboard_token(ana)}).status_code == 303  # nothing to revoke: said so
    api = ana.post(f"/api/v1/documents/{PUBLISHED}/reviews/{ids['water']}/link", json=["not", "an", "object"],
                   headers={"X-CSRFToken": dashboard_token(ana)})
    assert api.status_code == 400 and api.get_json()["error"]
    api = ana.post(f"/api/v1/documents/{PUBLISHED}/reviews/{ids['water']}/link", json={"name": "Ana", "email": 5},
                   headers={"X-CSRFToken": dashboard_token(ana)})
    assert api.status_code == 400 and "email must be a string" in api.get_json()["error"]
    assert rows(app, ReviewLink) == []

    # Only the committee (and administrators) manage reviews.
    assert signed_in(app, "vera").get(f"/d/{PUBLISHED}/reviews").status_code == 403
    assert signed_in(app, "lucia").get(f"/d/{PUBLISHED}/reviews").status_code == 403
    assert anonymous(app).get(f"/d/{PUBLISHED}/reviews").status_code == 302
    assert anonymous(app).get(f"/api/v1/documents/{PUBLISHED}/reviews").status_code == 401
    assert signed_in(app, "admin").get(f"/d/{PUBLISHED}/reviews").status_code == 200
    assert signed_in(app, "ana").get("/d/no-such-document/reviews").status_code == 404

    # The petitioner's side: unreadable ids and bodies get the same 404 or a clear 400.
    _, path = issue(ana, ids["water"])
    carlo = anonymous(app)
    form = review_form(carlo, path)
    assert carlo.post(path, data={**form, "petition": "abc", "decision": "approve"}).status_code == 404
    expired_form = carlo.post(path, data={**form, "csrf_token": "stale", "decision": "approve"})
    assert expired_form.status_code == 400 and "Reload the page and send it again." in expired_form.get_data(as_text=True)
    nothing = carlo.get("/api/v1/review/" + "C" * 32)
    assert nothing.status_code == 404 and nothing.get_json() == {"error": "Not found.", "status": 404}
    bad_json = carlo.post(f"/api/v1{path}", data="{", headers={"X-CSRFToken": form["csrf_token"],
                                                              "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "JSON object" in bad_json.get_json()["error"]
    wrong_type = carlo.post(f"/api/v1{path}", json={"petition": ids["water"], "decision": 1, "seen": form["seen"]},
                            headers={"X-CSRFToken": form["csrf_token"]})
    assert wrong_type.status_code == 400 and "decision must be a string" in wrong_type.get_json()["error"]
    ok = carlo.post(f"/api/v1{path}", json={"petition": ids["water"], "decision": "approve", "seen": form["seen"]},
                    headers={"X-CSRFToken": form["csrf_token"]})
    assert ok.status_code == 201 and ok.get_json()["review"]["decision"] == "approve"


def test_the_page_speaks_the_petitioners_language(site):
    app, ids = site
    ana = signed_in(app, "ana")
    _, path = issue(ana, ids["water"], language="es")
    page = anonymous(app).get(path).get_data(as_text=True)
    assert '<html lang="es">' in page
    english = anonymous(app).get(path + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Your petition in the text" in english


def test_asking_again_follows_a_change_made_in_the_documents_own_worker(site):
    """A change applied in the room's worker (as amendments and server-side edits are) publishes
    TextChanged; the review subscriber then reads the live text without waiting for that worker
    (it runs on a thread of its own) and asks the petitioner again, once."""
    from editor.outbox import OutboxMessage

    app, ids = site
    _, path = issue(signed_in(app, "ana"), ids["water"])
    assert send_review(anonymous(app), path, "approve").status_code == 303
    services = app.extensions["constituent"]
    services.rooms.call(PUBLISHED, lambda doc: None)  # open the room: its text is watched from now on

    def change(doc):
        from pycrdt import XmlFragment

        title = doc.get("body", type=XmlFragment).children[0]
        article = [c for c in title.children if getattr(c, "tag", None) == "article"][0]
        paragraph = [c for c in article.children if getattr(c, "tag", None) == "paragraph"][0]
        unit = [c for c in paragraph.children if getattr(c, "tag", None) == "subparagraph"][0]
        text = next(c for c in unit.children if c.tag == "p").children[0]
        with doc.transaction(origin="someone"):
            text.insert(len(str(text)) - 1, " potable")

    started = time.monotonic()
    services.rooms.call(PUBLISHED, change)
    asked = []
    while not asked and time.monotonic() - started < 10:
        asked = rows(app, OutboxMessage, OutboxMessage.event == "review.rereview_requested")
        time.sleep(0.05)
    assert time.monotonic() - started < 5  # nothing waited for itself
    assert services.events.drain()
    assert len(rows(app, OutboxMessage, OutboxMessage.event == "review.rereview_requested")) == 1


# --- live: a committee member edits a reviewed clause ---------------------------------------------------------


def _text_node(client, guid: str) -> XmlText:
    return text_node_in(client.body, guid)


def _session_token(session: requests.Session, url: str) -> str:
    return _csrf(session.get(url, timeout=10).text)


def test_a_live_edit_after_approval_asks_the_petitioner_again_exactly_once(instance):
    from collab_client import CollabClient

    ids = prepare(instance)
    server = LiveServer(instance, {"CONSTITUENT_OUTBOX_POLL_SECONDS": "0.3"}).start()
    clients = []
    try:
        ana = server.login("ana")
        ana.headers["Accept-Language"] = "en"
        board_url = f"{server.url}/d/{PUBLISHED}/reviews"
        issued = ana.post(f"{board_url}/{ids['water']}/link", timeout=10, data={
            "csrf_token": _session_token(ana, board_url), "name": PETITIONER[0], "email": PETITIONER[1],
            "language": "en", "days": "60"})
        assert issued.status_code == 201
        review_url = re.search(r'id="issued-url" class="review-url" type="text" readonly value="([^"]+)"',
                               issued.text).group(1)

        carlo = requests.Session()
        page = carlo.get(review_url, timeout=10).text
        sent = carlo.post(review_url, timeout=10, allow_redirects=False, data={
            "csrf_token": _csrf(page), "petition": re.search(r'name="petition" value="(\d+)"', page).group(1),
            "seen": re.search(r'name="seen" value="([^"]+)"', page).group(1), "decision": "approve"})
        assert sent.status_code == 303

        # Ana changes the approved clause in the live editor, during the consultation.
        editor = CollabClient(server.url, server.cookie("ana"), name="ana").connect()
        clients.append(editor)
        assert editor.join(PUBLISHED)["ok"]

        def edit(_body):
            text = _text_node(editor, WATER_UNIT)
            text.insert(len(str(text)) - 1, " potable y suficiente")

        editor.edit(edit)
        deadline = time.monotonic() + 15
        while "agua potable y suficiente." not in carlo.get(review_url, timeout=10).text:
            assert time.monotonic() < deadline, "the edit never reached the live text"
            time.sleep(0.2)

        # Whether or not the edit itself already triggered it, asking twice queues one message.
        for _ in range(2):
            checked = ana.post(f"{board_url}/check", data={"csrf_token": _session_token(ana, board_url)},
                               timeout=30, allow_redirects=False)
            assert checked.status_code == 303
        engine = create_engine(f"sqlite:///{instance / 'constituent.sqlite3'}")
        with engine.connect() as connection:
            from editor.outbox import OutboxMessage

            messages = list(connection.execute(select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.subject)
                                               .where(OutboxMessage.event == "review.rereview_requested")))
        engine.dispose()
        assert messages == [("email", PETITIONER[1], messages[0][2])]
        assert "Please review again" in messages[0][2]

        page = carlo.get(review_url, timeout=10).text
        assert "The wording changed after your last review." in page
        assert "<del>agua.</del><ins>agua potable y suficiente.</ins>" in page

        # The serving process delivers it in the background: here, to the file backend.
        deadline = time.monotonic() + 15
        while True:
            written = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                       for p in sorted((instance / "outbox").glob("*.eml"))]
            mine = [m for m in written if m["X-Constituent-Event"] == "review.rereview_requested"]
            if mine:
                break
            assert time.monotonic() < deadline, "the outbox was never delivered"
            time.sleep(0.2)
        assert len(mine) == 1 and mine[0]["To"] == PETITIONER[1]
        assert "Hello Carlo Patricio Pérez," in mine[0].get_content()
    finally:
        for client in clients:
            client.close()
        server.stop()


# --- delivery ---------------------------------------------------------------------------------------------


def _outbox_app(instance, **config):
    from editor import create_app

    return create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", **config})


class _Webhook(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"try later")
            return
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_webhook_is_signed_and_retried_with_backoff(site, tmp_path):
    from editor.outbox import OutboxMessage, deliver_due

    app, ids = site
    receiver = type("Receiver", (_Webhook,), {"received": [], "fail_first": 1})
    http = HTTPServer(("127.0.0.1", 0), receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    secret = "a shared secret"
    try:
        app.config.update(OUTBOX_WEBHOOK_URL=f"http://127.0.0.1:{http.server_port}/hooks/constituent",
                          OUTBOX_WEBHOOK_SECRET=secret, OUTBOX_RETRY_SECONDS=60)
        ana = signed_in(app, "ana")
        _, path = issue(ana, ids["water"])
        assert send_review(anonymous(app), path, "approve").status_code == 303
        [queued] = rows(app, OutboxMessage, OutboxMessage.kind == "webhook")
        assert queued.event == "review.submitted" and queued.sent_at is None

        engine = app.extensions["constituent"].engine
        start = datetime.now(timezone.utc)
        first = deliver_due(engine, app.config, now=start)
        assert (first.sent, first.failed) == (0, 1)
        [failed] = rows(app, OutboxMessage, OutboxMessage.kind == "webhook")
        assert failed.attempts == 1 and "HTTP 500" in failed.last_error and failed.sent_at is None
        assert deliver_due(engine, app.config, now=start + timedelta(seconds=30)).failed == 0  # backing off
        assert len(receiver.received) == 1
        second = deliver_due(engine, app.config, now=start + timedelta(seconds=61))
        assert (second.sent, second.failed) == (1, 0)
        [done] = rows(app, OutboxMessage, OutboxMessage.kind == "webhook")
        assert done.attempts == 2 and done.sent_at is not None

        headers, body = receiver.received[-1]
        timestamp, signature = headers["X-Constituent-Timestamp"], headers["X-Constituent-Signature"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"
        assert abs(time.time() - int(timestamp)) < 120
        forged = hmac.new(b"another secret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert signature != f"sha256={forged}"
        event = json.loads(body)
        assert event["event"] == "review.submitted" and event["data"]["decision"] == "approve"
        assert event["data"]["petition"]["id"] == ids["water"] and PETITIONER[1] not in body.decode()
    finally:
        http.shutdown()
        http.server_close()


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 test SMTP ready")
        envelope = {"from": None, "to": [], "data": b""}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-test.local\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == "MAIL":
                envelope["from"] = command
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(command)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)
                envelope["data"] = b"".join(lines)
                self.server.messages.append(dict(envelope))
                self.reply("250 queued")
            elif verb == "RSET" or verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


def test_email_goes_to_a_real_smtp_server_and_a_failure_stays_queued(instance):
    from editor.outbox import OutboxMessage, deliver_due, enqueue_email

    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    smtp.messages = []
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    app = _outbox_app(instance, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.server_address[1],
                      MAIL_FROM="Comité de redacción <comite@example.org>")
    services = app.extensions["constituent"]
    try:
        with app.app_context():
            enqueue_email(services.db, "carlo@example.net", "Revise de nuevo: la redacción cambió",
                          "Hola, Carlo:\n\nLa redacción del artículo 1 cambió.\n", event="test")
            services.db.commit()
        report = deliver_due(services.engine, app.config)
        assert (report.sent, report.failed) == (1, 0)
        [received] = smtp.messages
        assert "carlo@example.net" in received["to"][0] and "comite@example.org" in received["from"]
        message = email.message_from_bytes(received["data"], policy=email.policy.default)
        assert message["Subject"] == "Revise de nuevo: la redacción cambió"
        assert "La redacción del artículo 1 cambió." in message.get_content()
        assert rows(app, OutboxMessage)[0].sent_at is not None

        # No server listening: the message stays queued with its error, and goes once one is there.
        app.config["SMTP_PORT"] = free_port()
        with app.app_context():
            enqueue_email(services.db, "alejandro@example.net", "Asunto", "Cuerpo", event="test")
            services.db.commit()
        report = deliver_due(services.engine, app.config)
        assert (report.sent, report.failed) == (0, 1)
        queued = rows(app, OutboxMessage, OutboxMessage.sent_at.is_(None))
        assert len(queued) == 1 and queued[0].attempts == 1 and "Connection" in queued[0].last_error
        app.config["SMTP_PORT"] = smtp.server_address[1]
        report = deliver_due(services.engine, app.config, ignore_backoff=True)
        assert report.sent == 1 and len(smtp.messages) == 2
    finally:
        close(app)
        smtp.shutdown()
        smtp.server_close()


def test_the_cli_delivers_to_the_file_backend(instance):
    from editor.outbox import OutboxMessage, enqueue_email

    app = _outbox_app(instance)
    services = app.extensions["constituent"]
    with app.app_context():
        enqueue_email(services.db, "carlo@example.net", "Su enlace de revisión", "Hola.\n", event="test")
        enqueue_email(services.db, "alejandro@example.net", "Otro aviso", "Hola.\n", event="test")
        services.db.commit()
    close(app)
    env = {**os.environ, "CONSTITUENT_INSTANCE": str(instance), "SECRET_KEY": "test-secret"}
    listed = subprocess.run([sys.executable, "-m", "editor", "outbox", "list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "carlo@example.net" in listed.stdout and "queued, 0 attempt(s)" in listed.stdout
    done = subprocess.run([sys.executable, "-m", "editor", "outbox", "deliver"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "sent 2, failed 0; 0 still queued" in done.stdout
    files = sorted((instance / "outbox").glob("*.eml"))
    assert len(files) == 2
    first = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert first["To"] == "carlo@example.net" and first["Subject"] == "Su enlace de revisión"
    everything = subprocess.run([sys.executable, "-m", "editor", "outbox", "list", "--all"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.count(" · sent 20") == 2 and "carlo@example.net" in everything.stdout
    app = _outbox_app(instance)
    try:
        assert all(m.sent_at is not None for m in rows(app, OutboxMessage))
    finally:
        close(app)


def test_petitioners_contact_details_never_reach_the_public(site):
    app, ids = site
    committee = signed_in(app, "ana")
    response, path = issue(committee, ids["water"])
    assert path, response.status_code
    assert PETITIONER[1] in committee.get(f"/d/{PUBLISHED}/reviews").get_data(as_text=True)  # the committee sees it
    public = anonymous(app)
    pages = [f"/d/{PUBLISHED}", f"/d/{PUBLISHED}/petitions", f"/d/{PUBLISHED}/petitions/{ids['water']}",
             f"/d/{PUBLISHED}/coverage", f"/d/{PUBLISHED}/versions",
             *(f"/api/v1/documents/{PUBLISHED}/{what}" for what in (
                 "akn", "html", "text", "provenance.json", "provenance.csv", "stages", "versions")),
             f"/api/v1/documents/{PUBLISHED}"]
    for page in pages:
        answer = public.get(page)
        assert answer.status_code == 200, page
        assert PETITIONER[1] not in answer.get_data(as_text=True), f"{page} shows the petitioner's email"
    # nor to the petitioner's own public page (their link shows their petition, not their address)
    assert PETITIONER[1] not in anonymous(app).get(path).get_data(as_text=True)


def append_in_room(services, guid: str, words: str, origin: str, slug: str = PUBLISHED) -> None:
    """Insert `words` before the final full stop of a unit's first paragraph, through the live room
    (as a connection's edit is applied: durable, broadcast, attributed to `origin`)."""

    def change(doc):
        from pycrdt import XmlFragment

        text = text_node_in(doc.get("body", type=XmlFragment), guid)
        with doc.transaction(origin=origin):
            text.insert(len(str(text)) - 1, words)

    services.rooms.call(slug, change)
