"""The public face of a process (issue 21): the process page with its timeline, next deadline and
participation figures, the home page as the front door, each petition's accountability (review
outcome, the adopted amendments that changed its clauses), the results page of the petitions
over a threshold, the public dashboard, and the planned dates administrators give the stages."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal
from conftest import ACCOUNTS, DRAFT, PUBLISHED, LiveServer, close_app
from sqlalchemy import func, select
from test_accessibility import BLOCKING, _context, _describe, chromium, run_axe  # noqa: F401 - chromium is a fixture
from test_review import _csrf, prepare, signed_in

from editor.demo import DEMO_SLUG

pytest_plugins = ("demo_site",)  # its fixtures: demo_template (the demo constitution with its provenance)

WATER_UNIT = "00000000-0000-4000-8000-000000000003"  # "Toda persona tiene derecho al agua."


# --- helpers -----------------------------------------------------------------------------------------


def _app(instance):
    from editor import create_app

    return create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})


def _reader(app, language: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def _text(html: str) -> str:
    """What a reader sees of a piece of markup: its words, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _element(html: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no #{element_id} on the page"
    return found.group(0)


def _figures(html: str) -> dict[str, tuple[int, str]]:
    """The participation figures: name → (value, the number as shown)."""
    return {name: (int(value), _text(shown)) for name, value, shown in
            re.findall(r'<dd data-figure="(\w+)" data-value="(\d+)">(.*?)</dd>', html, re.S)}


def _database_figures(app, slug: str) -> dict[str, int]:
    """The same figures counted straight from the tables, independently of the page's code."""
    from editor.documents import get_document
    from editor.petitions.models import Petition, PetitionEvent, SignatureCount
    from editor.provenance.models import CitizenEvent
    from editor.survey.models import Respondent, Survey

    with app.app_context():
        db = app.extensions["constituent"].db
        document = get_document(db, slug)
        petitions = list(db.scalars(select(Petition.id).where(Petition.document_id == document.id)))
        signatures = 0
        for petition_id in petitions:
            latest = db.scalar(select(SignatureCount.signatures).where(SignatureCount.petition_id == petition_id)
                               .order_by(SignatureCount.counted_at.desc()).limit(1))
            signatures += latest or 0
        figures = {
            "respondents": db.scalar(select(func.count(Respondent.id)).join(Survey, Survey.id == Respondent.survey_id)
                                     .where(Survey.document_id == document.id)),
            "petitions": len(petitions),
            "signatures": signatures,
            "thresholds": db.scalar(select(func.count(PetitionEvent.id)).where(
                PetitionEvent.petition_id.in_(petitions), PetitionEvent.threshold_id.is_not(None))),
            "events": db.scalar(select(func.count(CitizenEvent.id)).where(CitizenEvent.document_id == document.id)),
        }
        db.remove()
    return figures


def _configure_form(page: str, token: str, **dates) -> dict:
    """The stage configuration form as the page fills it, with `dates` ({"end-0": "2026-…"}) set."""
    form = {"csrf_token": token, "count": re.search(r'name="count" value="(\d+)"', page).group(1)}
    for i, key in re.findall(r'name="key-(\d+)" value="([^"]+)"', page):  # the last row, empty, adds a stage
        form[f"key-{i}"] = key
        form[f"mode-{i}"] = re.search(rf'<select id="mode-{i}" name="mode-{i}">.*?<option value="(\w+)" selected',
                                      page, re.S).group(1)
        for field in ("edit", "advance"):
            form[f"{field}-{i}"] = re.findall(rf'name="{field}-{i}" value="(\w+)" checked', page)
    form.update(dates)
    return form


@pytest.fixture
def demo(demo_template, tmp_path):
    """The application over a private copy of the demo instance (the demo constitution, its petitions,
    survey and events), in this process."""
    target = tmp_path / "demo"
    shutil.copytree(demo_template, target)
    app = _app(target)
    yield app
    close_app(app)


# --- the process page ----------------------------------------------------------------------------------


def test_the_process_page_shows_the_stage_the_next_deadline_and_the_figures_of_the_database(demo):
    from editor import clock

    today = clock.now().date()
    end, next_start, next_end = today + timedelta(days=10), today + timedelta(days=11), today + timedelta(days=40)
    admin = signed_in(demo, "admin")
    page = admin.get(f"/d/{DEMO_SLUG}/stages/configure").get_data(as_text=True)
    form = _configure_form(page, _csrf(page), **{"end-0": end.isoformat(), "start-1": next_start.isoformat(),
                                                 "end-1": next_end.isoformat()})
    saved = admin.post(f"/d/{DEMO_SLUG}/stages/configure", data=form, follow_redirects=True)
    assert "The stages have been saved." in saved.get_data(as_text=True)

    expected = _database_figures(demo, DEMO_SLUG)
    assert expected["respondents"] and expected["petitions"] and expected["thresholds"] and expected["events"]
    for language, stage, later in (("es", "Redacción", "Revisión jurídica"), ("en", "Drafting", "Legal review")):
        response = _reader(demo, language).get(f"/d/{DEMO_SLUG}/process")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in html
        # Where the process stands: the current stage, marked on the timeline too.
        assert stage in _text(_element(html, "current-stage"))
        current = re.findall(r'<li class="timeline-step (\w+)" data-stage="(\w+)"', html)
        assert current[:2] == [("current", "drafting"), ("upcoming", "legal_review")]
        assert re.search(r'data-stage="drafting" aria-current="step"', html)
        # The next deadline: the day the current stage is planned to end, in the reader's language.
        deadline = _element(html, "next-deadline")
        assert f'data-date="{end.isoformat()}"' in deadline
        assert format_date(end, "medium", locale=language) in _text(deadline) and stage in _text(deadline)
        # The next stage's planned dates are on the timeline.
        step = re.search(r'data-stage="legal_review".*?</li>\s*</ul>', html, re.S).group(0)
        assert later in _text(step) and format_date(next_end, "medium", locale=language) in _text(step)
        # Participation: what the database holds, as numbers written in the reader's language.
        shown = _figures(html)
        assert {name: value for name, (value, _) in shown.items()} == expected
        for name, (value, words) in shown.items():
            assert words == format_decimal(value, locale=language), (name, words)


def test_the_stage_configuration_takes_planned_dates_and_refuses_an_end_before_its_start(instance):
    from editor.audit import AuditEvent
    from editor.documents import get_document
    from editor.stages.current import stages_of

    app = _app(instance)
    try:
        admin = signed_in(app, "admin")
        page = admin.get(f"/d/{PUBLISHED}/stages/configure").get_data(as_text=True)
        assert 'type="date" id="start-0"' in page and 'type="date" id="end-0"' in page
        token = _csrf(page)
        refused = admin.post(f"/d/{PUBLISHED}/stages/configure", follow_redirects=True,
                             data=_configure_form(page, token, **{"start-1": "2026-10-01", "end-1": "2026-09-30"}))
        assert "the planned end (September 30, 2026) is before the planned start (October 1, 2026)" in \
            refused.get_data(as_text=True)
        nonsense = admin.post(f"/d/{PUBLISHED}/stages/configure", follow_redirects=True,
                              data=_configure_form(page, token, **{"start-2": "2026-13-45"}))
        assert "“2026-13-45” is not a date" in nonsense.get_data(as_text=True)
        with app.app_context():
            db = app.extensions["constituent"].db
            stages = stages_of(db, get_document(db, PUBLISHED))
            assert all(s.planned_start is None and s.planned_end is None for s in stages)  # nothing was saved
            db.remove()

        saved = admin.post(f"/d/{PUBLISHED}/stages/configure", follow_redirects=True,
                           data=_configure_form(page, token, **{"start-1": "2026-09-30", "end-1": "2026-10-30",
                                                                "end-2": "2026-11-15"}))
        assert "The stages have been saved." in saved.get_data(as_text=True)
        with app.app_context():
            db = app.extensions["constituent"].db
            stages = stages_of(db, get_document(db, PUBLISHED))
            assert [(s.key, str(s.planned_start), str(s.planned_end)) for s in stages[:3]] == [
                ("drafting", "None", "None"), ("legal_review", "2026-09-30", "2026-10-30"),
                ("consultation", "None", "2026-11-15")]
            # Audited like every change on that page: who, and the dates given.
            audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "http.stages.configure_stages")
                                 .order_by(AuditEvent.id)).all()
            assert audited and audited[-1].role == "admin"
            assert json.loads(audited[-1].detail)["form"]["end-1"] == "2026-10-30"
            db.remove()
        # The configuration page shows them back, and the public reads them on the process page.
        again = admin.get(f"/d/{PUBLISHED}/stages/configure").get_data(as_text=True)
        assert 'name="start-1" value="2026-09-30"' in again and 'name="end-2" value="2026-11-15"' in again
        public = _reader(app, "en").get(f"/d/{PUBLISHED}/process").get_data(as_text=True)
        assert "from Sep 30, 2026 to Oct 30, 2026" in _text(public)
    finally:
        close_app(app)


def test_unpublished_documents_process_pages_are_404_to_the_public_and_the_home_page_says_the_stage(demo):
    public = _reader(demo, "es")
    for path in ("process", "petitions/results", "dashboard"):
        assert public.get(f"/d/{DRAFT}/{path}").status_code == 404, path
        assert public.get(f"/d/no-such-document/{path}").status_code == 404, path
    vera = signed_in(demo, "vera")  # a signed-in reader reads drafts
    assert vera.get(f"/d/{DRAFT}/process").status_code == 200

    # The front door: each document with the stage it is in, never "published" for a bill in drafting.
    home = public.get("/").get_data(as_text=True)
    cards = dict(re.findall(r'<li class="document-card" data-slug="([^"]+)">(.*?)</li>\s*(?=<li class="document-card"|</ul>)',
                            home, re.S))
    assert DRAFT not in cards and set(cards) == {DEMO_SLUG, PUBLISHED}
    demo_card = _text(cards[DEMO_SLUG])
    assert "(proyecto)" in demo_card and "Redacción" in demo_card and "publicado" not in demo_card
    assert f'href="/d/{DEMO_SLUG}/process"' in cards[DEMO_SLUG]
    private = vera.get("/").get_data(as_text=True)
    draft_card = re.search(rf'data-slug="{DRAFT}">(.*?)</li>', private, re.S).group(1)
    assert "private-badge" in draft_card
    # The reading tabs lead to the process page.
    document = public.get(f"/d/{DEMO_SLUG}").get_data(as_text=True)
    assert re.search(rf'<nav class="doc-tabs"[^>]*>.*?href="/d/{DEMO_SLUG}/process"', document, re.S)


# --- accountability ------------------------------------------------------------------------------------


def test_a_petitions_page_shows_its_review_outcome_and_the_amendment_that_changed_its_clause(instance):
    """The water petition's petitioner approves its clause in the consultation; the assembly then
    adopts an amendment that rewrites that clause. The petition's public page says both."""
    import time

    from editor.amendments.service import close_vote, create_amendment, open_debate, table, vote
    from editor.documents import get_document
    from editor.models import User
    from editor.petitions.models import Petition
    from editor.review.models import ReviewRequest
    from editor.review.service import issue_link, review_scope, submit_review
    from editor.stages.workflow import advance

    ids = prepare(instance, stage="consultation")
    app = _app(instance)
    try:
        services = app.extensions["constituent"]
        with app.test_request_context():
            db = services.db
            document = get_document(db, PUBLISHED)
            users = {who: db.scalar(select(User).where(User.email == ACCOUNTS[who][0])) for who in ("ana", "admin", "asa", "abel")}
            water = db.get(Petition, ids["water"])
            link, _token = issue_link(db, document, water, users["ana"], "Carlo Patricio Pérez", "carlo@example.net")
            submit_review(services, document, link, "approve", "Me parece bien, pero no publiquen esto.",
                          review_scope(services, document, water).fingerprint)
            advance(services, document, users["admin"])  # to the assembly
            amendment = create_amendment(services, document, users["asa"], {
                "kind": "substitution", "units": [WATER_UNIT], "text": "Toda persona tiene derecho al agua potable y suficiente.",
                "justification": "Lo que pidió la petición."})
            table(services, document, amendment, users["asa"])
            open_debate(services, document, amendment, users["admin"])
            vote(services, document, amendment, users["asa"], "for")
            vote(services, document, amendment, users["abel"], "for")
            decision = close_vote(services, document, amendment, users["admin"])
            assert decision.adopted
            number = amendment.number
            db.remove()
        deadline = time.monotonic() + 10  # the petitioner is asked again after the adoption, off this thread
        while not _rows(app, ReviewRequest) and time.monotonic() < deadline:
            time.sleep(0.1)

        for language in ("en", "es"):
            html = _reader(app, language).get(f"/d/{PUBLISHED}/petitions/{ids['water']}").get_data(as_text=True)
            assert f'<html lang="{language}">' in html
            review = _text(_element(html, "review-outcome"))
            if language == "en":
                assert "The petitioners approved the wording of their clauses on" in review
                assert "they were asked to review it again" in review
            # Their comment (they were never asked whether to publish it) and their address stay private.
            assert "no publiquen" not in html and "carlo@example.net" not in html
            later = re.search(rf'<li data-amendment="{number}">(.*?)</li>', html, re.S)
            assert later, "the adopted amendment is not listed"
            assert f'href="/d/{PUBLISHED}/amendments/{number}"' in later.group(1)
            assert ("Adopted" if language == "en" else "Adoptada") in _text(later.group(1))
            assert "For: 2 · Against: 0 · Abstentions: 0" in _text(later.group(1)) or language == "es"
        # The other petition's clause was not amended: its page lists no amendment.
        other = _reader(app, "en").get(f"/d/{PUBLISHED}/petitions/{ids['mobility']}").get_data(as_text=True)
        assert "data-amendment=" not in other
    finally:
        close_app(app)


def _rows(app, model) -> list:
    with app.app_context():
        db = app.extensions["constituent"].db
        found = list(db.scalars(select(model)))
        db.remove()
    return found


def test_the_results_page_lists_exactly_the_petitions_over_a_threshold(demo):
    from datetime import datetime, timezone

    from editor.documents import get_document
    from editor.petitions.models import Petition, PetitionEvent, SignatureCount

    with demo.app_context():
        db = demo.extensions["constituent"].db
        document = get_document(db, DEMO_SLUG)
        small = Petition(document_id=document.id, key="banquetas", title="Banquetas anchas en el centro")
        db.add(small)
        db.flush()
        db.add(SignatureCount(petition_id=small.id, counted_at=datetime(2016, 6, 1, tzinfo=timezone.utc), signatures=1_200))
        db.commit()
        over = set(db.scalars(select(PetitionEvent.petition_id).join(Petition, Petition.id == PetitionEvent.petition_id)
                              .where(Petition.document_id == document.id, PetitionEvent.threshold_id.is_not(None))))
        not_incorporated = set(db.scalars(select(Petition.id).where(Petition.document_id == document.id,
                                                                    Petition.final_text_refs == "X")))
        small_id = small.id
        db.remove()
    assert over and small_id not in over and not_incorporated <= over

    for language in ("es", "en"):
        html = _reader(demo, language).get(f"/d/{DEMO_SLUG}/petitions/results").get_data(as_text=True)
        assert f'<html lang="{language}">' in html
        rows = {int(p): status for p, status in re.findall(r'<tr data-petition="(\d+)" data-status="(\w+)"', html)}
        assert set(rows) == over
        assert {p for p, status in rows.items() if status == "not_incorporated"} == not_incorporated
        assert "Banquetas anchas" not in html


def test_the_dashboard_shows_the_reports_aggregates_without_names(demo):
    """The public dashboard holds the report's aggregate sections and none of its staff ones."""
    html = _reader(demo, "en").get(f"/d/{DEMO_SLUG}/dashboard?week=2016-W15").get_data(as_text=True)
    for section in ("signatures", "survey", "coverage", "amendments"):
        assert f'id="{section}-h"' in html, section
    for staff in ("thresholds-h", "obligations", "text-h", "reviews-h", "Assigned to"):
        assert staff not in html, staff
    with demo.app_context():
        from editor.models import User

        db = demo.extensions["constituent"].db
        names = [n for n in db.scalars(select(User.name)) if n]
        emails = list(db.scalars(select(User.email)))
        db.remove()
    assert not [n for n in names if n in _text(html)] and not [e for e in emails if e in html]
    assert _reader(demo, "en").get(f"/d/{DEMO_SLUG}/dashboard?week=nonsense").status_code == 400


# --- in a browser: accessible and phone-sized -------------------------------------------------------------


@pytest.fixture(scope="module")
def process_server(demo_template, tmp_path_factory):
    """A server over the demo with planned dates and one stage change (a version in the latest
    changes), so that every part of the process page is drawn."""
    from sqlalchemy import select as query

    from editor import clock
    from editor.documents import get_document
    from editor.models import User
    from editor.stages.current import stages_of
    from editor.stages.workflow import advance, configure

    instance = tmp_path_factory.mktemp("process-live")
    shutil.copytree(demo_template, instance, dirs_exist_ok=True)
    app = _app(instance)
    with app.test_request_context():
        db = app.extensions["constituent"].db
        document = get_document(db, DEMO_SLUG)
        today = clock.now().date()
        rows = [{"key": s.key, "name": s.name, "mode": s.mode, "edit_roles": s.edit_roles.split(),
                 "advance_roles": s.advance_roles.split(),
                 "planned_start": today + timedelta(days=30 * i - 30), "planned_end": today + timedelta(days=30 * i)}
                for i, s in enumerate(stages_of(db, document))]
        configure(db, document, rows)
        advance(app.extensions["constituent"], document, db.scalar(query(User).where(User.role == "admin")))
        db.remove()
    close_app(app)
    live = LiveServer(instance).start()
    yield live
    live.stop()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_the_process_pages_are_accessible_and_fit_a_phone(chromium, process_server, width):  # noqa: F811
    import requests

    listing = requests.get(f"{process_server.url}/d/{DEMO_SLUG}/petitions", timeout=10).text
    petition = re.search(rf'href="(/d/{DEMO_SLUG}/petitions/\d+)"', listing).group(1)
    context = _context(chromium, process_server, None, width)
    try:
        page = context.new_page()
        for path in ("/", f"/d/{DEMO_SLUG}/process", f"/d/{DEMO_SLUG}/petitions/results", petition,
                     f"/d/{DEMO_SLUG}/dashboard"):
            response = page.goto(process_server.url + path)
            assert response.status == 200, path
            violations = run_axe(page, process_server)
            blocking = [v for v in violations if v["impact"] in BLOCKING]
            assert not blocking, f"{path} at {width}px:\n{_describe(blocking)}"
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} at {width}px scrolls sideways by {overflow}px"
        page.goto(f"{process_server.url}/d/{DEMO_SLUG}/process")
        assert "Revisión jurídica" in page.inner_text("#current-stage")
        assert page.locator('.timeline-step[aria-current="step"]').count() == 1
    finally:
        context.close()
