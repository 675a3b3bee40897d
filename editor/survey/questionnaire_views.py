"""The committee's questionnaires: written as JSON or CSV (pasted or uploaded, checked at once),
previewed, published, closed and given new versions; kiosks started and ended; the responses that
look like ballot stuffing, listed.

Analysts (committee, administrators) manage; volunteers see the open questionnaires they can
collect answers for (kiosk, tablet, paper).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField, TextAreaField
from wtforms.validators import Optional

from .. import audit, clock, permissions
from ..documents import get_document
from ..inputs import whole_number
from ..services import current_services
from . import answering
from .models import Kiosk, Survey
from .questionnaire import (
    DEMO_QUESTIONNAIRE,
    MAX_DEFINITION_BYTES,
    answered,
    close,
    create_questionnaire,
    definition_of,
    new_version,
    publish,
    questionnaires_of,
    read_definition,
    replace_definition,
)
from .service import SurveyError

bp = Blueprint("questionnaires", __name__)


@bp.app_template_global()
def questionnaire_status(status: str) -> str:
    return {"draft": _("draft"), "open": _("open for answers"), "closed": _("closed"),
            "imported": _("loaded from a file")}.get(status, status)


@bp.app_template_global()
def suspect_reason(suspect: str) -> str:
    """Respondent.suspect's reasons ("same-answers:3;no-challenge"), said in the reader's language."""
    said = []
    for reason in filter(None, suspect.split(";")):
        kind, _sep, number = reason.partition(":")
        n = whole_number(number) or 0
        if kind == "same-answers":
            said.append(ngettext("the same answers as %(num)s earlier response",
                                 "the same answers as %(num)s earlier responses", n))
        elif kind == "one-address":
            said.append(_("%(num)s responses from one address that day", num=n))
        elif kind == "no-challenge":
            said.append(_("sent without solving the page's challenge (no JavaScript, or a script)"))
        else:
            said.append(reason)
    return "; ".join(said)


class DefinitionForm(FlaskForm):
    definition = TextAreaField(validators=[Optional()])
    upload = FileField(validators=[Optional()])


def staff_document(slug: str, analysts: bool = True):
    """The document, for analysts (committee, administrators) or, with `analysts` false, for those
    who collect answers (and volunteers): 404 when unreadable, sign-in first, 403 otherwise."""
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.path)))
    allowed = permissions.can_edit if analysts else permissions.can_collect_answers
    if not allowed(current_user, document):
        abort(403)
    return document


def staff_questionnaire(slug: str, survey_id: int, analysts: bool = True) -> tuple[Any, Survey]:
    """The document and one of its questionnaires, as `staff_document` decides; a draft is for
    analysts only, and a survey loaded from a file is no questionnaire (404)."""
    document = staff_document(slug, analysts)
    survey = current_services().db.get(Survey, survey_id)
    if survey is None or survey.document_id != document.id or survey.status == "imported":
        abort(404)
    if survey.status == "draft" and not permissions.can_edit(current_user, document):
        abort(404)
    return document, survey


def _submitted_definition(form: DefinitionForm):
    """The definition posted (an uploaded file wins over the text box), or SurveyError."""
    upload = request.files.get("upload")
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_DEFINITION_BYTES + 1)
        fmt = "csv" if upload.filename.lower().endswith(".csv") else None
    else:
        data, fmt = (form.definition.data or "").encode("utf-8"), None
    return read_definition(data, fmt)


@bp.route("/d/<slug>/survey/questionnaires", methods=["GET", "POST"])
def index(slug: str):
    document = staff_document(slug, analysts=False)
    db = current_services().db
    analyst = permissions.can_edit(current_user, document)
    form = DefinitionForm()
    problem = None
    if request.method == "POST":
        if not analyst:
            abort(403)
        if form.validate_on_submit():
            try:
                survey = create_questionnaire(db, document, _submitted_definition(form))
            except SurveyError as exc:
                db.rollback()
                problem = str(exc)
            else:
                db.commit()
                audit.record(current_services().engine, "survey.questionnaire_created", document=document.slug,
                             target=f"survey:{survey.id}", detail={"title": survey.title})
                flash(_("Draft questionnaire created. Preview it, then publish it."), "info")
                return redirect(url_for("questionnaires.manage", slug=document.slug, survey_id=survey.id), 303)
        else:
            problem = _("The form expired: send it again.")
    if request.method == "GET" and not form.definition.data:
        form.definition.data = DEMO_QUESTIONNAIRE.read_text(encoding="utf-8")
    surveys = questionnaires_of(db, document)
    if not analyst:
        surveys = [s for s in surveys if s.status == "open"]
    rows = [(s, answered(db, s), answering.by_channel(db, s), answering.suspect_count(db, s)) for s in surveys]
    status = 400 if problem else 200
    return render_template("survey/questionnaires.html", document=document, rows=rows, form=form, problem=problem,
                           analyst=analyst), status


@bp.route("/d/<slug>/survey/<int:survey_id>/manage", methods=["GET", "POST"])
def manage(slug: str, survey_id: int):
    document, survey = staff_questionnaire(slug, survey_id, analysts=False)
    db = current_services().db
    analyst = permissions.can_edit(current_user, document)
    form = DefinitionForm()
    problem = None
    if request.method == "POST":
        if not analyst:
            abort(403)
        if not form.validate_on_submit():
            problem = _("The form expired: send it again.")
        else:
            try:
                replace_definition(db, survey, _submitted_definition(form))
            except SurveyError as exc:
                db.rollback()
                problem = str(exc)
            else:
                db.commit()
                audit.record(current_services().engine, "survey.questionnaire_changed", document=document.slug,
                             target=f"survey:{survey.id}")
                flash(_("Questionnaire saved."), "info")
                return redirect(url_for("questionnaires.manage", slug=document.slug, survey_id=survey.id), 303)
    if not form.definition.data:
        form.definition.data = json.dumps(definition_of(db, survey).to_json(), ensure_ascii=False, indent=2)
    kiosks = list(db.scalars(select(Kiosk).where(Kiosk.survey_id == survey.id, Kiosk.ended_at.is_(None))
                             .order_by(Kiosk.id)))
    now = clock.now()
    kiosks = [k for k in kiosks if clock.as_utc(k.until) > now]
    later = db.scalar(select(Survey).where(Survey.supersedes_id == survey.id))
    return render_template(
        "survey/questionnaire.html", document=document, survey=survey, form=form, problem=problem, analyst=analyst,
        answered=answered(db, survey), channels=answering.by_channel(db, survey),
        suspects=answering.suspect_count(db, survey), kiosks=kiosks, later=later,
        earlier=db.get(Survey, survey.supersedes_id) if survey.supersedes_id else None,
    ), 400 if problem else 200


def _change(slug: str, survey_id: int, action, what: str, done: str):
    document, survey = staff_questionnaire(slug, survey_id)
    db = current_services().db
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        result = action(db, survey)
    except SurveyError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("questionnaires.manage", slug=document.slug, survey_id=survey.id), 303)
    db.commit()
    target = result if isinstance(result, Survey) else survey
    audit.record(current_services().engine, f"survey.questionnaire_{what}", document=document.slug,
                 target=f"survey:{target.id}", detail={"from": survey.id} if target is not survey else {})
    flash(done, "info")
    return redirect(url_for("questionnaires.manage", slug=document.slug, survey_id=target.id), 303)


@bp.post("/d/<slug>/survey/<int:survey_id>/publish")
def publish_page(slug: str, survey_id: int):
    return _change(slug, survey_id, publish, "published",
                   _("Published: residents can answer it now, and its questions can no longer change."))


@bp.post("/d/<slug>/survey/<int:survey_id>/close")
def close_page(slug: str, survey_id: int):
    return _change(slug, survey_id, close, "closed", _("Closed: it takes no more answers."))


@bp.post("/d/<slug>/survey/<int:survey_id>/version")
def version_page(slug: str, survey_id: int):
    return _change(slug, survey_id, new_version, "versioned",
                   _("A new version, as a draft: change it, publish it, and close the earlier one."))


@bp.get("/d/<slug>/survey/<int:survey_id>/questionnaire.json")
def download(slug: str, survey_id: int):
    document, survey = staff_questionnaire(slug, survey_id, analysts=False)
    body = json.dumps(definition_of(current_services().db, survey).to_json(), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="questionnaire-{survey.id}.json"'})


@bp.post("/d/<slug>/survey/<int:survey_id>/kiosks/<int:kiosk_id>/end")
def end_kiosk(slug: str, survey_id: int, kiosk_id: int):
    document, survey = staff_questionnaire(slug, survey_id, analysts=False)
    db = current_services().db
    kiosk = db.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.survey_id != survey.id:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if kiosk.ended_at is None:
        kiosk.ended_at = clock.now()
        db.commit()
        audit.record(current_services().engine, "survey.kiosk_ended", document=document.slug,
                     target=f"kiosk:{kiosk.id}")
    flash(_("The kiosk is ended: it takes no more answers."), "info")
    return redirect(url_for("questionnaires.manage", slug=document.slug, survey_id=survey.id), 303)


@bp.get("/d/<slug>/survey/<int:survey_id>/duplicates")
def duplicates(slug: str, survey_id: int):
    document, survey = staff_questionnaire(slug, survey_id)
    page = whole_number(request.args.get("limit", "500")) or 500
    found = answering.suspects(current_services().db, survey, limit=min(page, 5000))
    return render_template("survey/duplicates.html", document=document, survey=survey, suspects=found)
