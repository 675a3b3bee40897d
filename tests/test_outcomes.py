"""Accountability for each petition (issue 21), its last two parts: the petitioner's review comment,
shown to the public only when they choose to publish it, and the committee's published reason for a
petition it did not incorporate (audited, staff only, length-limited), on the petition's public page
and the results page, in Spanish and English."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from conftest import PUBLISHED
from sqlalchemy import select
from test_process import _element, _reader, _text
from test_review import PETITIONER, _csrf, anonymous, close, issue, prepare, rows, send_review, signed_in

from editor import audit
from editor.petitions.models import Petition
from editor.petitions.service import MAX_REASON
from editor.review.models import PetitionReview

PUBLISHED_WORDS = "Bien redactado; gracias por escucharnos."
PRIVATE_WORDS = "Falta decir potable; esto es solo para el comité."
REASON = "La propuesta ya está cubierta por el artículo 9 y por la ley de aguas vigente."


@pytest.fixture
def site(instance):
    """The consultation stage, with three petitions over a threshold: water and mobility linked to a
    clause each, and one its source marks "X" (not incorporated)."""
    from editor import create_app
    from editor.documents import get_document
    from editor.petitions.models import SignatureCount
    from editor.petitions.service import ensure_thresholds, evaluate_thresholds

    ids = prepare(instance)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret",
                      "REVIEW_RATE_LIMIT": "10000 per minute"})
    with app.test_request_context():
        db = app.extensions["constituent"].db
        document = get_document(db, PUBLISHED)
        db.get(Petition, ids["unlinked"]).final_text_refs = "X"
        for key in ("water", "mobility", "unlinked"):
            db.add(SignatureCount(petition_id=ids[key], counted_at=datetime(2016, 6, 1, tzinfo=timezone.utc),
                                  signatures=12_000))
        db.flush()
        ensure_thresholds(db, document)
        assert evaluate_thresholds(db, document)
        db.commit()
        db.remove()
    yield app, ids
    close(app)


def _public_pages(app, ids) -> dict[str, str]:
    """Everything the public reads that could carry a review: pages, results, open data, exports."""
    public = anonymous(app)
    paths = [f"/d/{PUBLISHED}/petitions/{ids[key]}" for key in ("water", "mobility", "unlinked")]
    paths += [f"/d/{PUBLISHED}/petitions/results", f"/d/{PUBLISHED}/petitions", f"/d/{PUBLISHED}/dashboard",
              f"/d/{PUBLISHED}/process", f"/d/{PUBLISHED}/data.csv", f"/d/{PUBLISHED}/data.json",
              f"/d/{PUBLISHED}/petitions.csv", f"/api/v1/documents/{PUBLISHED}/provenance.json",
              f"/api/v1/documents/{PUBLISHED}/provenance.csv", f"/api/v1/documents/{PUBLISHED}/akn"]
    found = {}
    for path in paths:
        response = public.get(path)
        assert response.status_code == 200, (path, response.status_code)
        found[path] = response.get_data(as_text=True)
    return found


def _result_row(html: str, petition_id: int) -> str:
    found = re.search(rf'<tr data-petition="{petition_id}".*?</tr>', html, re.S)
    assert found, f"petition {petition_id} is not in the results"
    return found.group(0)


# --- the petitioner's comment --------------------------------------------------------------------------


def test_a_comment_is_public_only_when_its_petitioner_publishes_it(site):
    app, ids = site
    committee = signed_in(app, "ana")
    _response, water_path = issue(committee, ids["water"])
    _response, mobility_path = issue(committee, ids["mobility"], who=("Alejandro Posadas", "alejandro@example.net"))
    assert water_path and mobility_path

    # The choice is offered, unticked, and says what the public will see.
    petitioner = anonymous(app)
    page = petitioner.get(water_path).get_data(as_text=True)
    box = re.search(r'<input type="checkbox" id="publish_comment"[^>]*>', page).group(0)
    assert 'name="publish_comment"' in box and "checked" not in box
    assert "Your e-mail address is never shown" in page and "already names the petition's petitioners" in page

    # One approves with a comment and publishes it; the other objects and does not.
    assert send_review(petitioner, water_path, "approve", PUBLISHED_WORDS, publish_comment="1").status_code == 303
    other = anonymous(app)
    assert send_review(other, mobility_path, "object", PRIVATE_WORDS).status_code == 303
    stored = {r.petition_id: r for r in rows(app, PetitionReview)}
    assert stored[ids["water"]].publish_comment is True and stored[ids["mobility"]].publish_comment is False
    # The petitioner's page says which it is.
    assert 'data-published="yes"' in petitioner.get(water_path).get_data(as_text=True)
    assert 'data-published="no"' in other.get(mobility_path).get_data(as_text=True)

    pages = _public_pages(app, ids)
    water = pages[f"/d/{PUBLISHED}/petitions/{ids['water']}"]
    quoted = _element(water, "review-comment")
    assert PUBLISHED_WORDS in _text(quoted)
    assert "The petitioners' comment with their approval of" in _text(quoted)
    results = pages[f"/d/{PUBLISHED}/petitions/results"]
    assert PUBLISHED_WORDS in _text(_result_row(results, ids["water"]))
    # The unpublished comment reaches no public page, file or export, and nor do the e-mail addresses.
    for path, body in pages.items():
        assert PRIVATE_WORDS not in body, f"{path} shows an unpublished comment"
        assert "alejandro@example.net" not in body and PETITIONER[1] not in body, path
    mobility = pages[f"/d/{PUBLISHED}/petitions/{ids['mobility']}"]
    assert 'id="review-comment"' not in mobility
    assert "objected to the wording of their clauses" in _text(_element(mobility, "review-outcome"))
    # Only the committee reads it.
    assert PRIVATE_WORDS in committee.get(f"/d/{PUBLISHED}/reviews").get_data(as_text=True)

    # A later review that is not published takes the earlier published comment off the public page.
    assert send_review(petitioner, water_path, "approve", "Segunda lectura, privada.").status_code == 303
    water = anonymous(app).get(f"/d/{PUBLISHED}/petitions/{ids['water']}").get_data(as_text=True)
    assert PUBLISHED_WORDS not in water and "Segunda lectura" not in water


def test_the_api_takes_an_optional_boolean_publish_comment(site):
    app, ids = site
    committee = signed_in(app, "ana")
    _response, path = issue(committee, ids["water"])
    token = path.rsplit("/", 1)[1]
    petitioner = anonymous(app)
    scope = petitioner.get(f"/api/v1/review/{token}").get_json()
    csrf = _csrf(petitioner.get(path).get_data(as_text=True))
    body = {"petition": ids["water"], "decision": "approve", "comment": PUBLISHED_WORDS, "seen": scope["seen"]}
    for wrong in ("yes", 1, None, []):
        refused = petitioner.post(f"/api/v1/review/{token}", json={**body, "publish_comment": wrong},
                                  headers={"X-CSRFToken": csrf})
        assert refused.status_code == 400, wrong
        assert "publish_comment" in refused.get_json()["error"]
    assert rows(app, PetitionReview) == []
    sent = petitioner.post(f"/api/v1/review/{token}", json=body, headers={"X-CSRFToken": csrf})
    assert sent.status_code == 201 and sent.get_json()["review"]["publish_comment"] is False
    sent = petitioner.post(f"/api/v1/review/{token}", json={**body, "publish_comment": True},
                           headers={"X-CSRFToken": csrf})
    assert sent.status_code == 201 and sent.get_json()["review"]["publish_comment"] is True
    assert petitioner.get(f"/api/v1/review/{token}").get_json()["review"]["publish_comment"] is True
    # Nothing to publish without a comment.
    sent = petitioner.post(f"/api/v1/review/{token}", json={**body, "comment": "", "publish_comment": True},
                           headers={"X-CSRFToken": csrf})
    assert sent.status_code == 201 and sent.get_json()["review"]["publish_comment"] is False
    schema = app.test_client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    properties = (schema.get_json()["paths"]["/api/v1/review/{token}"]["post"]["requestBody"]["content"]
                  ["application/json"]["schema"]["properties"])
    assert properties["publish_comment"]["type"] == "boolean"


# --- the committee's reason ------------------------------------------------------------------------------


def _reason_form(client, petition_id: int) -> tuple[str, str]:
    page = client.get(f"/d/{PUBLISHED}/petitions/{petition_id}/manage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    section = re.search(r'<section aria-labelledby="reason-h" id="reason">.*?</section>', html, re.S).group(0)
    return _csrf(section), section


def _stored_reason(app, petition_id: int) -> str:
    with app.app_context():
        db = app.extensions["constituent"].db
        reason = db.scalar(select(Petition.outcome_reason).where(Petition.id == petition_id))
        db.remove()
    return reason


def _reason_events(app) -> list:
    return audit.events(app.extensions["constituent"].engine, document=PUBLISHED, action="petition.outcome_reason")


def test_the_committee_publishes_its_reason_for_a_petition_not_incorporated(site):
    app, ids = site
    petition_id = ids["unlinked"]
    public_path = f"/d/{PUBLISHED}/petitions/{petition_id}"
    # Before: not incorporated, and no reason yet, on both public pages.
    before = anonymous(app).get(public_path).get_data(as_text=True)
    outcome = _text(_element(before, "outcome-reason"))
    assert "Not incorporated" in outcome and "The committee has not published its reason yet." in outcome
    results = anonymous(app).get(f"/d/{PUBLISHED}/petitions/results").get_data(as_text=True)
    assert "The committee has not published its reason yet." in _text(_result_row(results, petition_id))

    committee = signed_in(app, "ana")
    csrf, section = _reason_form(committee, petition_id)
    assert 'data-not-incorporated="yes"' in section and f'maxlength="{MAX_REASON}"' in section

    # Too long: refused, the text kept in the form, nothing stored, nothing audited.
    long = "x" * (MAX_REASON + 1)
    refused = committee.post(f"/d/{PUBLISHED}/petitions/{petition_id}/manage/reason",
                             data={"csrf_token": csrf, "reason": long})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert f"the limit is {MAX_REASON}" in html and 'id="reason-problem"' in html
    assert re.search(r'<textarea id="reason-text"[^>]*aria-invalid="true"[^>]*>' + long + "</textarea>", html)
    assert _stored_reason(app, petition_id) == "" and _reason_events(app) == []

    # Neither a viewer nor the public may post it; the public is sent to sign in.
    viewer = signed_in(app, "vera")
    viewer_csrf = _csrf(viewer.get(f"/d/{PUBLISHED}/petitions/{petition_id}").get_data(as_text=True))
    assert viewer.post(f"/d/{PUBLISHED}/petitions/{petition_id}/manage/reason",
                       data={"csrf_token": viewer_csrf, "reason": "prank"}).status_code == 403
    public = anonymous(app)
    public_csrf = _csrf(public.get("/login").get_data(as_text=True))
    answer = public.post(f"/d/{PUBLISHED}/petitions/{petition_id}/manage/reason",
                         data={"csrf_token": public_csrf, "reason": "prank"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    # Another document's petition id, or one that does not exist: 404.
    assert committee.post(f"/d/{PUBLISHED}/petitions/999999/manage/reason",
                          data={"csrf_token": csrf, "reason": REASON}).status_code == 404
    assert _stored_reason(app, petition_id) == "" and _reason_events(app) == []

    # Published: stored, audited with who and both texts, shown on both public pages.
    saved = committee.post(f"/d/{PUBLISHED}/petitions/{petition_id}/manage/reason",
                           data={"csrf_token": csrf, "reason": REASON + "\r\n"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#reason")
    assert _stored_reason(app, petition_id) == REASON
    [event] = _reason_events(app)
    assert event.target == f"petition:{petition_id}" and event.role == "committee" and event.actor.startswith("user:")
    assert json.loads(event.detail) == {"before": "", "after": REASON}
    page = anonymous(app).get(public_path).get_data(as_text=True)
    outcome = _text(_element(page, "outcome-reason"))
    assert "Not incorporated" in outcome and REASON in outcome and "has not published" not in outcome
    results = anonymous(app).get(f"/d/{PUBLISHED}/petitions/results").get_data(as_text=True)
    row = _text(_result_row(results, petition_id))
    assert REASON in row and "has not published" not in row
    # The form shows the published text, for editing.
    _csrf_again, section = _reason_form(committee, petition_id)
    assert f">{REASON}</textarea>" in section

    # Withdrawn (empty): audited too, and the public pages say it is missing again.
    assert committee.post(f"/d/{PUBLISHED}/petitions/{petition_id}/manage/reason",
                          data={"csrf_token": csrf, "reason": "  "}).status_code == 302
    assert _stored_reason(app, petition_id) == ""
    assert json.loads(_reason_events(app)[0].detail) == {"before": REASON, "after": ""}
    assert "The committee has not published its reason yet." in anonymous(app).get(public_path).get_data(as_text=True)


def test_a_reason_shows_for_a_partly_incorporated_petition_too(site):
    """A petition linked to a clause is incorporated; a reason the committee publishes for what it
    left out still shows, without calling the petition not incorporated."""
    app, ids = site
    committee = signed_in(app, "ana")
    csrf, section = _reason_form(committee, ids["mobility"])
    assert 'data-not-incorporated="no"' in section
    assert committee.post(f"/d/{PUBLISHED}/petitions/{ids['mobility']}/manage/reason",
                          data={"csrf_token": csrf, "reason": REASON}).status_code == 302
    page = anonymous(app).get(f"/d/{PUBLISHED}/petitions/{ids['mobility']}").get_data(as_text=True)
    outcome = _text(_element(page, "outcome-reason"))
    assert REASON in outcome and "Not incorporated" not in outcome
    assert REASON in _text(_result_row(anonymous(app).get(f"/d/{PUBLISHED}/petitions/results")
                                       .get_data(as_text=True), ids["mobility"]))


# --- both languages ------------------------------------------------------------------------------------


def test_spanish_and_english_pages_render_the_new_parts(site):
    app, ids = site
    committee = signed_in(app, "ana")
    _response, path = issue(committee, ids["water"])
    assert send_review(anonymous(app), path, "approve", PUBLISHED_WORDS, publish_comment="1").status_code == 303
    csrf, _section = _reason_form(committee, ids["unlinked"])
    assert committee.post(f"/d/{PUBLISHED}/petitions/{ids['unlinked']}/manage/reason",
                          data={"csrf_token": csrf, "reason": REASON}).status_code == 302
    for language, not_incorporated in (("es", "No incorporada"), ("en", "Not incorporated")):
        reader = _reader(app, language)
        water = reader.get(f"/d/{PUBLISHED}/petitions/{ids['water']}").get_data(as_text=True)
        assert f'<html lang="{language}">' in water
        assert PUBLISHED_WORDS in _text(_element(water, "review-comment"))
        unlinked = reader.get(f"/d/{PUBLISHED}/petitions/{ids['unlinked']}").get_data(as_text=True)
        outcome = _text(_element(unlinked, "outcome-reason"))
        assert not_incorporated in outcome and REASON in outcome
        results = reader.get(f"/d/{PUBLISHED}/petitions/results").get_data(as_text=True)
        assert f'<html lang="{language}">' in results
        assert REASON in _text(_result_row(results, ids["unlinked"]))
        assert PUBLISHED_WORDS in _text(_result_row(results, ids["water"]))
        # The petitioner's page and the committee's form render in the language too.
        petitioner = anonymous(app)
        petitioner.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        review_page = petitioner.get(f"{path}?lang={language}").get_data(as_text=True)
        assert f'<html lang="{language}">' in review_page and 'id="publish_comment"' in review_page
        committee.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        manage = committee.get(f"/d/{PUBLISHED}/petitions/{ids['unlinked']}/manage").get_data(as_text=True)
        assert f'<html lang="{language}">' in manage and 'id="reason-text"' in manage
