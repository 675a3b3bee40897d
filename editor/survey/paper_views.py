"""The paper backup's pages (editor/survey/paper.py has the rules).

* ``/d/<slug>/survey/<id>/paper``: for those who collect answers (volunteers, committee,
  administrators): how many forms were printed, keyed once, counted and held back; the keying
  form (the sheet's number, the questionnaire's fields, the date written on the sheet); the forms
  whose keyings differ. Analysts also print new forms here.
* ``POST …/paper/print`` (analysts): makes the forms and answers with the printable sheets, one
  questionnaire a page with its number and, on a slip to tear off, its receipt code. The codes are
  kept nowhere, so that page is shown once: a one-use token from the paper page keeps a reload
  from making (and losing) another batch.
* ``POST …/paper/key``: one keying. Bad answers come back with the form as it was sent (400).
* ``…/paper/<number>/resolve``: both keyings side by side, their differences marked, and the
  questionnaire's fields filled from one of them, to be corrected from the sheet and saved as the
  final answers. For analysts, and for a third person who keyed neither side.

The pages never show one keying to the person making the next: the second keying stays blind.
"""

from __future__ import annotations

import secrets
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
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, permissions
from ..inputs import whole_number
from ..models import User
from ..services import current_services
from . import answering, paper
from .answer_views import form_context, posted_answers
from .models import Survey
from .questionnaire import question_of, stored_questions
from .questionnaire_views import staff_questionnaire

bp = Blueprint("paper", __name__)

#: The session slot of the one-use token that lets the paper page's print button make one batch.
PRINT_SLOT = "paper_print"
#: The largest form number the pages read (forms are numbered from 1 within a questionnaire).
MAX_NUMBER = 10_000_000


# --- access ---------------------------------------------------------------------------------------------


def _collecting(slug: str, survey_id: int, *, analysts: bool = False) -> tuple[Any, Survey]:
    """The document and questionnaire, for those who collect answers (with `analysts`, the committee
    and administrators only); see questionnaire_views.staff_questionnaire."""
    return staff_questionnaire(slug, survey_id, analysts=analysts)


# --- what the pages say ------------------------------------------------------------------------------------


def _refusal(exc: paper.PaperError) -> str:
    """A PaperError in the reader's language."""
    said = {
        "not-open": _("Only an open questionnaire can have forms printed: publish it first."),
        "count": _("Print from 1 to %(most)s forms at a time.", most=paper.MAX_PRINT),
        "unknown": _("No form number %(number)s was printed for this questionnaire. Check the number at the top of "
                     "the sheet, and that it is this questionnaire's form.", number=exc.number),
        "counted": _("Form %(number)s already counts: nothing was changed.", number=exc.number),
        "yours": _("You already keyed form %(number)s. A different person must key it the second time: give the "
                   "sheet to someone else.", number=exc.number),
        "mismatch": _("Form %(number)s was keyed twice with differences: it waits for someone to resolve it. "
                      "Nothing was changed.", number=exc.number),
        "no-mismatch": _("Form %(number)s has no differing keyings to resolve.", number=exc.number),
        "not-resolver": _("You keyed form %(number)s: an analyst or a third person resolves it.", number=exc.number),
        "not-taking": _("This questionnaire is not taking answers."),
        "closed": _("This questionnaire is closed: only forms answered while it was open can be keyed (write the "
                    "date on the sheet in the date field)."),
    }
    return said.get(exc.reason, str(exc))


def _date_problem(message: str) -> str:
    return {
        "is not a date (year-month-day)": _("is not a date (year-month-day)"),
        "is in the future": _("is in the future"),
        "is before the form was printed": _("is before the form was printed"),
    }.get(message, message)


def _language() -> str:
    return "en" if str(get_locale()) == "en" else "es"


def _field_name(key: str, questions: dict) -> str:
    """How a difference is named on the pages: the question's wording, or the sheet's date."""
    if key == paper.DATE_FIELD:
        return _("Date written on the form")
    question = questions.get(key)
    return question.wording(_language()) if question else key


def _shown(key: str, value: Any, questions: dict) -> str:
    """A keyed value as the sheet had it: options' labels in the reader's language, "—" for none."""
    if value in (None, "", [], {}):
        return "—"
    question = questions.get(key)
    language = _language()
    if question is not None and question.kind == "multi":
        return "; ".join(answering.display(question, v, language) for v in value)
    if question is not None and question.kind == "place":
        return ", ".join(p for p in (value.get("neighbourhood"), value.get("borough")) if p) or "—"
    if question is not None:
        return answering.display(question, str(value), language)
    return str(value)


def _questions(survey: Survey) -> dict:
    return {q.key: q for q in (question_of(row) for row in stored_questions(current_services().db, survey))}


def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(current_services().db.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


# --- the paper page --------------------------------------------------------------------------------------------


def _print_token() -> str:
    """The one-use token the print button sends (kept while unused, so several views agree)."""
    token = session.get(PRINT_SLOT)
    if not token:
        token = session[PRINT_SLOT] = secrets.token_urlsafe(16)
    return token


def _page(document, survey: Survey, *, answers=None, problems=None, number: str = "", responded_on: str = "",
          refusal: str = "", print_refusal: str = "", status: int = 200):
    db = current_services().db
    state = paper.paper_state(db, survey)
    questions = _questions(survey)
    names = _names(e.entered_by for m in state.mismatches for e in m.entries)
    resolvable = {m.form.number for m in state.mismatches if paper.may_resolve(document, m.entries, current_user)}
    analyst = permissions.can_edit(current_user, document)
    response = make_response(render_template(
        "survey/paper_keying.html", document=document, survey=survey, state=state, analyst=analyst,
        resolvable=resolvable, names=names, field_name=lambda key: _field_name(key, questions),
        answers=answers or {}, problems=problems or {}, number=number, responded_on=responded_on,
        refusal=refusal, print_refusal=print_refusal, date_field=paper.DATE_FIELD, date_problem=_date_problem,
        print_token=_print_token() if analyst and survey.status == "open" else "", max_print=paper.MAX_PRINT,
        languages=current_app.config["LANGUAGES"], default_language=current_app.config["BABEL_DEFAULT_LOCALE"],
        **form_context(survey)), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/d/<slug>/survey/<int:survey_id>/paper")
def overview(slug: str, survey_id: int):
    document, survey = _collecting(slug, survey_id)
    return _page(document, survey)


# --- keying --------------------------------------------------------------------------------------------------


def _audit(action: str, document, keyed: paper.Keyed, survey: Survey) -> None:
    """What was keyed, never the answers themselves."""
    audit.record(current_services().engine, action, actor=audit.actor_of(current_user, document),
                 document=document.slug, target=f"paper-form:{keyed.form.id}",
                 detail={"survey": survey.id, "number": keyed.form.number, "outcome": keyed.outcome,
                         "differ": len(keyed.differ)})


def _keyed_message(keyed: paper.Keyed) -> str:
    number = keyed.form.number
    if keyed.outcome == "counted":
        return _("Form %(number)s counts: both keyings agree. Its receipt code now shows these answers.", number=number)
    if keyed.outcome == "mismatch":
        return ngettext("Form %(number)s differs from its first keying on %(num)d question: it is held back until "
                        "someone resolves it from the sheet.",
                        "Form %(number)s differs from its first keying on %(num)d questions: it is held back until "
                        "someone resolves it from the sheet.", len(keyed.differ), number=number)
    return _("Form %(number)s keyed. It counts once a different person keys it too.", number=number)


@bp.post("/d/<slug>/survey/<int:survey_id>/paper/key")
def key(slug: str, survey_id: int):
    document, survey = _collecting(slug, survey_id)
    services = current_services()
    raw_number = request.form.get("form_number", "").strip()[:20]
    responded_on = request.form.get("responded_on", "").strip()[:20]
    answers = posted_answers(survey)
    kept = {"answers": answers, "number": raw_number, "responded_on": responded_on}
    number = whole_number(raw_number, minimum=1, maximum=MAX_NUMBER)
    if number is None:
        return _page(document, survey, **kept, status=400,
                     refusal=_("Write the form's number, printed at the top of the sheet."))
    try:
        keyed = paper.key_form(services.db, survey, number, answers, current_user, responded_on,
                               secret=answering.answer_secret(current_app.config))
        services.db.commit()
    except answering.AnswerProblems as problems:
        services.db.rollback()
        return _page(document, survey, **kept, problems=problems.problems, status=400)
    except paper.PaperError as exc:
        services.db.rollback()
        # A number never printed is a typing slip (400); the rest is the form's state (409).
        return _page(document, survey, **kept, refusal=_refusal(exc), status=400 if exc.reason == "unknown" else 409)
    except IntegrityError:
        services.db.rollback()
        return _page(document, survey, **kept, status=409,
                     refusal=_("Someone saved form %(number)s at the same moment: look at the state above and try "
                               "again if it is still needed.", number=number))
    _audit("survey.paper_keyed", document, keyed, survey)
    flash(_keyed_message(keyed), "success" if keyed.outcome != "mismatch" else "info")
    return redirect(url_for("paper.overview", slug=document.slug, survey_id=survey.id) + "#keying", code=303)


# --- printing ----------------------------------------------------------------------------------------------


@bp.post("/d/<slug>/survey/<int:survey_id>/paper/print")
def print_forms(slug: str, survey_id: int):
    document, survey = _collecting(slug, survey_id, analysts=True)
    services = current_services()
    count = whole_number(request.form.get("count", ""), minimum=1, maximum=paper.MAX_PRINT)
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        language = current_app.config["BABEL_DEFAULT_LOCALE"]
    token = session.get(PRINT_SLOT)
    if not token or not secrets.compare_digest(str(token), request.form.get("print_token", "")):
        return _page(document, survey, status=409, print_refusal=_(
            "These forms were not made: this print button was already used (a reload of the printed forms' page?) "
            "or the page is too old. The codes of forms made earlier are not kept. Print from this page again."))
    if count is None:
        return _page(document, survey, status=400,
                     print_refusal=_("Print from 1 to %(most)s forms at a time.", most=paper.MAX_PRINT))
    try:
        printed = paper.print_forms(services.db, survey, count)
        services.db.commit()
    except paper.PaperError as exc:
        services.db.rollback()
        return _page(document, survey, status=409, print_refusal=_refusal(exc))
    except IntegrityError:
        services.db.rollback()
        return _page(document, survey, status=409, print_refusal=_(
            "Someone printed forms of this questionnaire at the same moment: print again."))
    session.pop(PRINT_SLOT, None)
    audit.record(services.engine, "survey.paper_printed", actor=audit.actor_of(current_user, document),
                 document=document.slug, target=f"survey:{survey.id}",
                 detail={"survey": survey.id, "count": len(printed), "first": printed[0][0], "last": printed[-1][0],
                         "language": language})
    response = make_response(render_template(
        "survey/paper_print.html", document=document, survey=survey, printed=printed,
        sheets=_sheets(survey, printed, language)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _sheets(survey: Survey, printed: list[tuple[int, str]], language: str) -> Markup:
    """The printable sheets in the language chosen for them (whatever the page's own language)."""
    receipt_url = url_for("survey.receipt", _external=True)
    with force_locale(language):
        form = form_context(survey)
        form["language"] = language
        # A phone's camera opens the receipt page with the code filled in (it stays out of the URL sent).
        qr = {number: Markup(segno.make(f"{receipt_url}#{code}", error="m").svg_inline(
            scale=2, title=_("QR code of your receipt"), svgclass="paper-qr", lineclass=None)) for number, code in printed}
        return Markup(render_template("survey/paper_sheets.html", survey=survey, printed=printed, qr=qr,
                                      receipt_url=receipt_url, **form))


# --- resolving ----------------------------------------------------------------------------------------------


@bp.route("/d/<slug>/survey/<int:survey_id>/paper/<int:form_number>/resolve", methods=["GET", "POST"])
def resolve(slug: str, survey_id: int, form_number: int):
    document, survey = _collecting(slug, survey_id)
    services = current_services()
    db = services.db
    back = url_for("paper.overview", slug=document.slug, survey_id=survey.id)
    try:
        form, entries = paper.mismatched_keyings(db, survey, form_number)
    except paper.PaperError as exc:
        if exc.reason == "unknown":
            abort(404)
        flash(_refusal(exc), "info")
        return redirect(back + "#mismatches", code=303)
    if not paper.may_resolve(document, entries, current_user):
        abort(403)
    if request.method == "GET":
        start = 1 if request.args.get("start") == "2" else 0
        values = paper.entry_values(entries[start])
        return _resolve_page(document, survey, form, entries, answers=values, responded_on=values.get(paper.DATE_FIELD, ""),
                             start=start)
    answers = posted_answers(survey)
    responded_on = request.form.get("responded_on", "").strip()[:20]
    try:
        keyed = paper.resolve_form(db, survey, form_number, answers, current_user, responded_on,
                                   secret=answering.answer_secret(current_app.config))
        db.commit()
    except answering.AnswerProblems as problems:
        db.rollback()
        return _resolve_page(document, survey, form, entries, answers=answers, responded_on=responded_on,
                             problems=problems.problems, status=400)
    except paper.PaperError as exc:
        db.rollback()
        flash(_refusal(exc), "info")
        return redirect(back + "#mismatches", code=303)
    except IntegrityError:
        db.rollback()
        flash(_("Someone resolved form %(number)s at the same moment: nothing was changed.", number=form_number), "info")
        return redirect(back + "#mismatches", code=303)
    _audit("survey.paper_resolved", document, keyed, survey)
    flash(_("Form %(number)s resolved: it counts, once, with the answers you saved.", number=form_number), "success")
    return redirect(back + "#mismatches", code=303)


def _resolve_page(document, survey: Survey, form, entries, *, answers, responded_on: str, problems=None, start: int = 0,
                  status: int = 200):
    db = current_services().db
    questions = _questions(survey)
    differ = paper.differences(db, survey, *entries)
    values = [paper.entry_values(e) for e in entries]
    rows = [(key, _field_name(key, questions), [_shown(key, v.get(key), questions) for v in values], key in differ)
            for key in [*questions, paper.DATE_FIELD]]
    # Where the keyings differ, the field says so (unless the answer sent has a problem of its own).
    marked = {key: _("The two keyings differ here: check the sheet.") for key in differ if key != paper.DATE_FIELD}
    response = make_response(render_template(
        "survey/paper_resolve.html", document=document, survey=survey, form=form, entries=entries, rows=rows,
        field_name=lambda key: _field_name(key, questions),
        differ=differ, names=_names(e.entered_by for e in entries), answers=answers, responded_on=responded_on,
        problems={**marked, **(problems or {})}, sent_problems=problems or {}, start=start,
        date_field=paper.DATE_FIELD, date_problem=_date_problem, **form_context(survey)), status)
    response.headers["Cache-Control"] = "no-store"
    return response
