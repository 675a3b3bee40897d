"""Residents answer a published questionnaire: on the web, with no account, and at kiosks that
staff start on shared tablets.

* ``/d/<slug>/survey/<id>``: the questionnaire (privacy notice first, sections, progress; the
  page's script keeps the answers across a reload and solves the one-use challenge). Sending it
  (rate-limited per address) stores the answers and leads, by a redirect, to the receipt page,
  which shows the code once, printable and as a QR code leading to /receipt.
* ``/kiosk``: the questionnaire of the kiosk this tablet was started as
  (``POST /d/<slug>/survey/<id>/kiosk``, by staff, who are signed out of the tablet as it starts).
  After each respondent the receipt is shown once, then the page starts afresh: nothing of the
  previous person stays in the page, its history or the browser's storage.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, permissions
from ..documents import get_document
from ..limits import configured, limiter
from ..models import Document
from ..services import current_services
from . import answering
from .models import Kiosk, Survey, Theme
from .questionnaire import places_of, question_of, stored_questions
from .service import normalize_receipt

bp = Blueprint("answering", __name__)

KIOSK_COOKIE = "constituent_kiosk"
#: The session slot holding a receipt code between the answers' POST and the page showing it once.
RECEIPT_SLOT = "survey_receipt"


@bp.app_template_global()
def problem_text(message: str) -> str:
    """A problem of editor.survey.answering in the reader's language."""
    return {
        "needs an answer": _("needs an answer"),
        "must be text": _("must be text"),
        "is not valid text": _("is not valid text"),
        "is too long": _("is too long"),
        "is not one of the options": _("is not one of the options"),
        "is not a point of the scale": _("is not a point of the scale"),
        "must be a list of options": _("must be a list of options"),
        "has a choice that is not one of the options": _("has a choice that is not one of the options"),
        "is not one of the boroughs": _("is not one of the boroughs"),
        "is not a neighbourhood of that borough": _("is not a neighbourhood of that borough"),
        "nothing was answered": _("Nothing was answered."),
        "this questionnaire is not taking answers": _("This questionnaire is not taking answers."),
        "this questionnaire is not published yet": _("This questionnaire is not published yet."),
        "these answers were already sent from this page": _("These answers were already sent from this page."),
        "this page is too old or was not opened here: reload it, your answers are kept":
            _("This page is too old or was not opened here: reload it, your answers are kept."),
    }.get(message, message)


@bp.app_template_global()
def open_questionnaires(document) -> list[Survey]:
    """The document's questionnaires taking answers now (the reading pages invite to answer them)."""
    return list(current_services().db.scalars(
        select(Survey).where(Survey.document_id == document.id, Survey.status == "open").order_by(Survey.id)))


@bp.app_template_global()
def channel_label(channel: str) -> str:
    return {"import": _("loaded from a file"), "web": _("web page"), "kiosk": _("kiosk"),
            "tablet": _("volunteers' tablets"), "paper": _("paper forms")}.get(channel, channel)


def _language() -> str:
    return "en" if str(get_locale()) == "en" else "es"


def _survey(slug: str, survey_id: int) -> tuple[Any, Survey]:
    """The document and questionnaire: 404 unless it is published (open or closed), or a draft
    shown to the document's committee as a preview."""
    db = current_services().db
    document = get_document(db, slug)
    survey = db.get(Survey, survey_id) if document is not None else None
    if survey is None or survey.document_id != document.id or survey.status == "imported":
        abort(404)
    # A questionnaire is as public as its document: an unpublished document's is invisible.
    if not permissions.can_read(current_user, document):
        abort(404)
    if survey.status == "draft" and not permissions.can_edit(current_user, document):
        abort(404)
    return document, survey


def form_context(survey: Survey) -> dict[str, Any]:
    """What the questionnaire's template needs: its questions (with their sections), the places."""
    db = current_services().db
    rows = stored_questions(db, survey)
    questions = [(row, question_of(row)) for row in rows]
    sections: list[tuple[str, list]] = []
    for row, question in questions:
        title = question.section_title(_language())
        if not sections or sections[-1][0] != title:
            sections.append((title, []))
        sections[-1][1].append((row, question))
    places = places_of(rows) if any(q.kind == "place" for _, q in questions) else {}
    wordings = {q.key: q.wording(_language()) for _, q in questions}
    return {"sections": sections, "places": places, "language": _language(), "count": len(questions),
            "wordings": wordings}


def posted_answers(survey: Survey) -> dict[str, Any]:
    """The answers in a posted form (fields q-<key>; a place question's q-<key>-borough and
    q-<key>-neighbourhood; a multi question's several q-<key>)."""
    out: dict[str, Any] = {}
    for row in stored_questions(current_services().db, survey):
        question = question_of(row)
        name = f"q-{question.key}"
        if question.kind == "multi":
            values = request.form.getlist(name)
            if values:
                out[question.key] = values
        elif question.kind == "place":
            borough = request.form.get(f"{name}-borough", "")
            neighbourhood = request.form.get(f"{name}-neighbourhood", "")
            if borough or neighbourhood:
                out[question.key] = {"borough": borough, "neighbourhood": neighbourhood}
        elif request.form.get(name):
            out[question.key] = request.form.get(name)
    return out


def _render(document, survey: Survey, *, kiosk: Kiosk | None = None, answers=None, problems=None, status=200):
    secret = answering.answer_secret(current_app.config)
    response = make_response(render_template(
        "survey/answer.html", document=document, survey=survey, kiosk=kiosk,
        challenge=answering.issue_challenge(secret, survey), answers=answers or {}, problems=problems or {},
        **form_context(survey)), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/d/<slug>/survey/<int:survey_id>")
def questionnaire(slug: str, survey_id: int):
    document, survey = _survey(slug, survey_id)
    return _render(document, survey)


@bp.post("/d/<slug>/survey/<int:survey_id>")
@limiter.limit(configured("SURVEY_SUBMIT_RATE_LIMIT"))
def send(slug: str, survey_id: int):
    document, survey = _survey(slug, survey_id)
    return _take(document, survey, channel="web",
                 done=url_for("answering.thanks", slug=document.slug, survey_id=survey.id))


def _take(document, survey: Survey, *, channel: str, done: str, kiosk: Kiosk | None = None):
    """Store the posted answers and lead to the receipt (303), or show the page again with its
    problems (400). The web page proves itself with its one-use challenge; a kiosk with its cookie,
    and its answers carry a capture id and the code its page showed (it may have sent them after
    the network came back: sending again stores nothing twice)."""
    services = current_services()
    secret = answering.answer_secret(current_app.config)
    answers = posted_answers(survey)
    try:
        if kiosk is None:
            digest, solved = answering.check_challenge(secret, survey, request.form.get("challenge", ""),
                                                       request.form.get("work", ""))
            sent = answering.submit(services.db, survey, answers, channel=channel, secret=secret,
                                    address=request.remote_addr or "", challenge=digest, unsolved=not solved)
            code = sent.code
        else:
            code = normalize_receipt(request.form.get("code", "")) and request.form.get("code", "").strip().upper()
            sent = answering.submit(services.db, survey, answers, channel=channel, secret=secret,
                                    client_id=request.form.get("client_id") or None, code=code or None,
                                    collector_id=kiosk.started_by)
            code = code or sent.code
    except answering.AnswerProblems as problems:
        services.db.rollback()
        return _render(document, survey, kiosk=kiosk, answers=answers, problems=problems.problems, status=400)
    except IntegrityError:  # a code already in use (the page's generator would have to repeat 60 bits)
        services.db.rollback()
        return _render(document, survey, kiosk=kiosk, answers=answers,
                       problems={"": "this page is too old or was not opened here: reload it, your answers are kept"},
                       status=400)
    services.db.commit()
    session[RECEIPT_SLOT] = {"code": code, "survey": survey.id, "themes": sent.themes}
    return redirect(done, code=303)


def _receipt_page(document, survey: Survey, kiosk: Kiosk | None = None):
    shown = session.pop(RECEIPT_SLOT, None)
    if not shown or shown.get("survey") != survey.id:
        if kiosk is not None:
            return redirect(url_for("answering.kiosk_page"))
        return redirect(url_for("answering.questionnaire", slug=document.slug, survey_id=survey.id))
    code = shown["code"]
    link = url_for("survey.receipt", _external=True) + "#" + code
    qr = Markup(segno.make(link, error="m").svg_inline(scale=4, title=_("QR code of your receipt"),
                                                       svgclass="survey-qr", lineclass=None))
    db = current_services().db
    themes = list(db.scalars(select(Theme).where(Theme.document_id == document.id, Theme.key.in_(shown["themes"]))
                             .order_by(Theme.name))) if shown["themes"] else []
    response = make_response(render_template("survey/thanks.html", document=document, survey=survey, code=code,
                                             qr=qr, themes=themes, kiosk=kiosk))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/d/<slug>/survey/<int:survey_id>/thanks")
def thanks(slug: str, survey_id: int):
    document, survey = _survey(slug, survey_id)
    return _receipt_page(document, survey)


# --- kiosks ---------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _kiosk() -> tuple[Any, Survey, Kiosk]:
    """The kiosk this device was started as, still running; else a page saying so (410)."""
    token = request.cookies.get(KIOSK_COOKIE, "")
    db = current_services().db
    kiosk = db.scalar(select(Kiosk).where(Kiosk.token_hash == _token_hash(token))) if token else None
    if kiosk is None or kiosk.ended_at is not None or clock.as_utc(kiosk.until) < clock.now():
        abort(make_response(render_template("survey/kiosk_ended.html"), 404))
    survey = db.get(Survey, kiosk.survey_id)
    return db.get(Document, survey.document_id), survey, kiosk


@bp.post("/d/<slug>/survey/<int:survey_id>/kiosk")
def start_kiosk(slug: str, survey_id: int):
    """Staff start a kiosk on the device they are using: they are signed out of it, and it shows
    this questionnaire to one respondent after another."""
    document, survey = _survey(slug, survey_id)
    if not current_user.is_authenticated or not permissions.can_collect_answers(current_user, document):
        abort(403)
    if survey.status != "open":
        flash(_("Only an open questionnaire can be answered at a kiosk."), "error")
        return redirect(url_for("questionnaires.manage", slug=document.slug, survey_id=survey.id))
    services = current_services()
    token = secrets.token_urlsafe(32)
    place = " ".join(request.form.get("place", "").split())[:200]
    kiosk = Kiosk(survey_id=survey.id, token_hash=_token_hash(token), place=place, started_by=current_user.id,
                  until=clock.now() + timedelta(hours=current_app.config["KIOSK_HOURS"]))
    services.db.add(kiosk)
    services.db.commit()
    audit.record(services.engine, "survey.kiosk_started", actor=audit.actor_of(current_user, document), document=document.slug,
                 target=f"kiosk:{kiosk.id}", detail={"survey": survey.id, "place": place})
    logout_user()
    session.clear()
    response = redirect(url_for("answering.kiosk_page"), code=303)
    response.set_cookie(KIOSK_COOKIE, token, max_age=int(current_app.config["KIOSK_HOURS"] * 3600), httponly=True,
                        samesite="Strict", secure=current_app.config.get("SESSION_COOKIE_SECURE", True), path="/kiosk")
    return response


@bp.get("/kiosk")
def kiosk_page():
    document, survey, kiosk = _kiosk()
    return _render(document, survey, kiosk=kiosk)


@bp.post("/kiosk")
def kiosk_send():
    document, survey, kiosk = _kiosk()
    return _take(document, survey, channel="kiosk", done=url_for("answering.kiosk_done"), kiosk=kiosk)


@bp.get("/kiosk/done")
def kiosk_done():
    document, survey, kiosk = _kiosk()
    return _receipt_page(document, survey, kiosk=kiosk)
