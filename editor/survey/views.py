"""Survey pages: analysts' coding and counts, the theme taxonomy, and respondents' receipts.

Analysts (committee and administrators) see the counts at /d/<slug>/survey, read and recode
answers at /d/<slug>/survey/answers and edit the taxonomy at /d/<slug>/survey/themes. A
respondent enters their receipt code at /receipt (POST, rate-limited, never in a URL) and sees
their own answers, the themes they were coded into, and the clauses linked to those themes.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import exists, func, select
from wtforms import HiddenField, SelectChoice, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional

from .. import audit, permissions
from ..documents import get_document
from ..inputs import whole_number
from ..limits import configured, limiter
from ..livetext import read_live
from ..models import Document
from ..provenance import links
from ..provenance.models import ProvenanceLink
from ..security import local_path
from ..services import current_services
from .answering import display
from .coder import (
    TaxonomyError,
    add_theme,
    code_document,
    delete_theme,
    empty_synonyms,
    ensure_taxonomy,
    overview,
    recode_answer,
    release_answer,
    synonyms_of,
    theme_counts,
    theme_respondents,
    themes_by_answer,
    themes_of,
    total_respondents,
    update_theme,
)
from .models import CHANNELS, Answer, Coding, Respondent, Survey, SurveyQuestion, Theme
from .questionnaire import question_of
from .service import erase_respondent, find_respondent, respondent_answers, surveys_of

bp = Blueprint("survey", __name__)

PAGE_SIZE = 50


# --- forms ---------------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RecodeForm(FlaskForm):
    themes = MultiCheckboxField(_l("Themes"), choices=[], validate_choice=True)
    next = HiddenField()
    action = HiddenField()


class ThemeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    synonyms = TextAreaField(_l("Synonyms, one per line"), validators=[Optional(), Length(max=20_000)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2_000)])


class ConfirmForm(FlaskForm):
    pass


class ReceiptForm(FlaskForm):
    code = StringField(_l("Your receipt code"), validators=[DataRequired(), Length(max=64)])


# --- access ----------------------------------------------------------------------------------------


def _analyst_document(slug: str):
    """The document, for an analyst: 404 when unreadable, sign-in first, 403 unless committee."""
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.full_path if request.query_string else request.path)))
    if not permissions.can_edit(current_user, document):
        abort(403)
    return document


def _bad_request(message: str):
    """A 400 page saying what is wrong with the request (a Response, so that it can be aborted with)."""
    return current_app.make_response((render_template("error.html", message=message), 400))


def _theme_choices(themes):
    return [SelectChoice(t.key, t.name) for t in themes]


# --- overview --------------------------------------------------------------------------------------


def _coded_questions(db, document):
    return list(db.scalars(
        select(SurveyQuestion).join(Survey, Survey.id == SurveyQuestion.survey_id)
        .where(Survey.document_id == document.id, SurveyQuestion.coded.is_(True))
        .order_by(Survey.id, SurveyQuestion.position)
    ))


def _question_arg(questions):
    raw = request.args.get("question", "").strip()
    if not raw:
        return None
    chosen = whole_number(raw)
    if chosen not in {q.id for q in questions}:
        abort(_bad_request(_("There is no coded question %(question)s in this survey.", question=raw[:40])))
    return next(q for q in questions if q.id == chosen)


def _survey_arg(surveys, respondents):
    """The survey whose counts are shown: `?survey=ID`, or `all` for every survey together; by
    default the latest one with answers (surveys are not merged unless asked: a questionnaire's
    versions and other surveys ask other questions of other people)."""
    raw = request.args.get("survey", "").strip()
    if raw == "all" or (not raw and len(surveys) <= 1):
        return None
    if not raw:
        answered = [s for s in surveys if respondents.get(s.id)]
        return answered[-1] if answered else None
    chosen = whole_number(raw)
    found = next((s for s in surveys if s.id == chosen), None)
    if found is None:
        abort(_bad_request(_("There is no survey %(survey)s in this document.", survey=raw[:40])))
    return found


@bp.route("/d/<slug>/survey")
def overview_page(slug: str):
    document = _analyst_document(slug)
    db = current_services().db
    surveys = surveys_of(db, document)
    respondents = dict(db.execute(
        select(Respondent.survey_id, func.count(Respondent.id)).join(Survey, Survey.id == Respondent.survey_id)
        .where(Survey.document_id == document.id).group_by(Respondent.survey_id)
    ).all())
    chosen_survey = _survey_arg(surveys, respondents)
    channel = request.args.get("channel", "").strip() or None
    if channel is not None and channel not in CHANNELS:
        return _bad_request(_("There is no channel %(channel)s.", channel=channel[:40]))
    questions = [q for q in _coded_questions(db, document) if chosen_survey is None or q.survey_id == chosen_survey.id]
    question = _question_arg(questions)
    summary = overview(db, document, question.id if question else None,
                       survey_id=chosen_survey.id if chosen_survey else None, channel=channel)
    themes = {t.theme.key: t.theme for t in summary.themes}
    chosen_key = request.args.get("theme", "").strip()
    if chosen_key and chosen_key not in themes:
        return _bad_request(_("There is no theme %(theme)s in this document.", theme=chosen_key))
    chosen = themes.get(chosen_key) or (summary.themes[0].theme if summary.themes else None)
    return render_template(
        "survey/overview.html", document=document, surveys=surveys, survey_respondents=respondents,
        questions=questions, question=question, summary=summary, chosen=chosen, themes=themes,
        chosen_survey=chosen_survey, channel=channel, channels=CHANNELS,
    )


# --- answers ---------------------------------------------------------------------------------------


def _answers_url(document, **args):
    args = {k: v for k, v in args.items() if v not in (None, "", 1)}
    return url_for("survey.answers", slug=document.slug, **args)


@bp.route("/d/<slug>/survey/answers")
def answers(slug: str):
    document = _analyst_document(slug)
    db = current_services().db
    themes = themes_of(db, document)
    by_key = {t.key: t for t in themes}
    questions = _coded_questions(db, document)
    question = _question_arg(questions)
    theme_key = request.args.get("theme", "").strip()
    if theme_key and theme_key != "none" and theme_key not in by_key:
        return _bad_request(_("There is no theme %(theme)s in this document.", theme=theme_key))
    query = request.args.get("q", "").strip()
    if len(query) > 200:
        return _bad_request(_("The search is longer than 200 characters."))
    page_arg = request.args.get("page", "1").strip()
    page = whole_number(page_arg, minimum=1, maximum=1_000_000)
    if page is None:
        return _bad_request(_("The page must be a whole number from 1."))

    where = [Survey.document_id == document.id, SurveyQuestion.coded.is_(True)]
    if question is not None:
        where.append(SurveyQuestion.id == question.id)
    if theme_key == "none":
        where.append(~exists().where(Coding.answer_id == Answer.id))
    elif theme_key:
        where.append(Answer.id.in_(select(Coding.answer_id).where(Coding.theme_id == by_key[theme_key].id)))
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(Answer.text.ilike(f"%{escaped}%", escape="\\"))
    matching = (
        select(Answer.id)
        .join(SurveyQuestion, SurveyQuestion.id == Answer.question_id)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .where(*where)
    )
    total = db.scalar(select(func.count()).select_from(matching.subquery())) or 0
    base = (
        select(Answer, SurveyQuestion, Respondent)
        .join(SurveyQuestion, SurveyQuestion.id == Answer.question_id)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .join(Respondent, Respondent.id == Answer.respondent_id)
        .where(*where)
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        return _bad_request(_("There is no page %(page)d: the answers fill %(pages)d.", page=page, pages=pages))
    rows = db.execute(base.order_by(Answer.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    codings = themes_by_answer(db, [a.id for a, _q, _r in rows])
    counts = {c.theme.key: c.respondents for c in theme_counts(db, document)}
    form = RecodeForm()
    here = _answers_url(document, theme=theme_key, q=query, question=question.id if question else None, page=page)
    return render_template(
        "survey/answers.html", document=document, rows=rows, codings=codings, themes=themes, counts=counts,
        theme_key=theme_key, query=query, question=question, questions=questions, page=page, pages=pages,
        total=total, form=form, here=here,
        page_url=lambda n: _answers_url(document, theme=theme_key, q=query,
                                        question=question.id if question else None, page=n),
    )


def _safe_next(document, target: str | None) -> str:
    prefix = url_for("survey.overview_page", slug=document.slug)
    target = local_path(target)
    if target and target.startswith(prefix):
        return target
    return url_for("survey.answers", slug=document.slug)


@bp.route("/d/<slug>/survey/answers/<int:answer_id>/themes", methods=["POST"])
def recode(slug: str, answer_id: int):
    document = _analyst_document(slug)
    db = current_services().db
    row = db.execute(
        select(Answer, SurveyQuestion).join(SurveyQuestion, SurveyQuestion.id == Answer.question_id)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .where(Answer.id == answer_id, Survey.document_id == document.id)
    ).first()
    if row is None:
        abort(404)
    answer, question = row
    themes = themes_of(db, document)
    form = RecodeForm()
    form.themes.choices = _theme_choices(themes)
    if not form.validate_on_submit():
        problems = "; ".join(f"{e}" for errors in form.errors.values() for e in errors)
        return _bad_request(_("The themes were not saved: %(problems)s", problems=problems))
    target = _safe_next(document, form.next.data)
    try:
        if form.action.data == "auto":
            chosen = release_answer(db, answer)
            message = _("The coder decides this answer's themes again: %(themes)s.",
                        themes=", ".join(t.name for t in chosen) or _("none"))
        else:
            chosen = recode_answer(db, answer, form.themes.data or [], current_user)
            message = _("Themes saved: %(themes)s. The counts include this coding.",
                        themes=", ".join(t.name for t in chosen) or _("none"))
    except TaxonomyError as exc:
        db.rollback()
        return _bad_request(str(exc))
    db.commit()
    flash(message, "success")
    return redirect(f"{target}#answer-{answer.id}")


# --- taxonomy --------------------------------------------------------------------------------------


def _synonym_lines(text: str | None) -> list[str]:
    return [line for line in (text or "").splitlines() if line.strip()]


@bp.route("/d/<slug>/survey/themes", methods=["GET", "POST"])
def themes(slug: str):
    document = _analyst_document(slug)
    db = current_services().db
    form = ThemeForm(prefix="new")
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                theme = add_theme(db, document, form.name.data, _synonym_lines(form.synonyms.data),
                                  form.description.data or "")
            except TaxonomyError as exc:
                db.rollback()
                form.name.errors = [*form.name.errors, str(exc)]
                status = 400
            else:
                db.commit()
                flash(_("Theme %(name)s added. Re-code the answers to apply it.", name=theme.name), "success")
                return redirect(url_for("survey.themes", slug=slug) + f"#theme-{theme.key}")
        else:
            status = 400
    rows = themes_of(db, document)
    counts = {c.theme.id: c.respondents for c in theme_counts(db, document)} if rows else {}
    edit_forms = {}
    for theme in rows:
        edit = ThemeForm(prefix=f"t{theme.id}", formdata=None)
        edit.name.data = theme.name
        edit.synonyms.data = "\n".join(synonyms_of(theme))
        edit.description.data = theme.description
        edit_forms[theme.id] = edit
    warnings = {t.id: empty_synonyms(synonyms_of(t)) for t in rows}
    return render_template("survey/themes.html", document=document, form=form, themes=rows, counts=counts,
                           edit_forms=edit_forms, warnings=warnings, confirm=ConfirmForm()), status


def _theme_of(db, document, theme_id: int) -> Theme:
    theme = db.get(Theme, theme_id)
    if theme is None or theme.document_id != document.id:
        abort(404)
    return theme


@bp.route("/d/<slug>/survey/themes/<int:theme_id>", methods=["POST"])
def edit_theme(slug: str, theme_id: int):
    document = _analyst_document(slug)
    db = current_services().db
    theme = _theme_of(db, document, theme_id)
    form = ThemeForm(prefix=f"t{theme.id}")
    if not form.validate_on_submit():
        problems = "; ".join(f"{e}" for errors in form.errors.values() for e in errors)
        return _bad_request(_("The theme was not saved: %(problems)s", problems=problems))
    try:
        update_theme(db, theme, form.name.data, _synonym_lines(form.synonyms.data), form.description.data or "")
    except TaxonomyError as exc:
        db.rollback()
        return _bad_request(str(exc))
    db.commit()
    flash(_("Theme %(name)s saved. Re-code the answers to apply it.", name=theme.name), "success")
    return redirect(url_for("survey.themes", slug=slug) + f"#theme-{theme.key}")


@bp.route("/d/<slug>/survey/themes/<int:theme_id>/delete", methods=["GET", "POST"])
def remove_theme(slug: str, theme_id: int):
    document = _analyst_document(slug)
    db = current_services().db
    theme = _theme_of(db, document, theme_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = theme.name
        removed = delete_theme(db, theme)
        db.commit()
        flash(ngettext("Theme %(name)s deleted, with its codings and %(num)d link to clauses.",
                       "Theme %(name)s deleted, with its codings and %(num)d links to clauses.", removed, name=name),
              "success")
        return redirect(url_for("survey.themes", slug=slug))
    linked = db.scalar(select(func.count(ProvenanceLink.id)).where(
        ProvenanceLink.source_kind == "theme", ProvenanceLink.source_id == theme.id)) or 0
    return render_template("survey/delete_theme.html", document=document, theme=theme, form=form,
                           respondents=theme_respondents(db, theme), linked=linked)


@bp.route("/d/<slug>/survey/taxonomy", methods=["POST"])
def default_taxonomy(slug: str):
    document = _analyst_document(slug)
    db = current_services().db
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ensure_taxonomy(db, document)
    db.commit()
    return redirect(url_for("survey.themes", slug=slug))


@bp.route("/d/<slug>/survey/recode", methods=["POST"])
def recode_all(slug: str):
    document = _analyst_document(slug)
    db = current_services().db
    if not ConfirmForm().validate_on_submit():
        abort(400)
    written = code_document(db, document)
    db.commit()
    flash(ngettext("Answers re-coded: %(num)d theme coding. Answers coded by hand were left as they were.",
                   "Answers re-coded: %(num)d theme codings. Answers coded by hand were left as they were.", written),
          "success")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith(
        url_for("survey.overview_page", slug=slug)) else url_for("survey.overview_page", slug=slug))


# --- receipts ----------------------------------------------------------------------------------------


def _citation(units, guid: str) -> tuple[str, object] | None:
    """("Artículo 16 › A. › 3.", unit) for the unit with `guid`, or None when it is gone."""

    def walk(nodes, trail):
        for unit in nodes:
            here = trail + ((unit.label,) if unit.kind not in ("title", "chapter") and unit.label else ())
            if unit.guid == guid:
                return here or (unit.label or unit.heading,), unit
            found = walk(unit.children, here)
            if found:
                return found
        return None

    found = walk(units, ())
    if found is None:
        return None
    labels, unit = found
    return " › ".join(label for label in labels if label), unit


def _clauses_of(document, themes):
    """For each theme: the current units linked to it, as (citation, unit, link)."""
    db = current_services().db
    live = read_live(current_services(), document.slug)
    out = {}
    for theme in themes:
        items = []
        for link in links.links_of_source(db, document, "theme", theme.id):
            found = _citation(live.units, link.unit_guid)
            if found is not None:
                items.append((found[0], found[1], link))
        out[theme.id] = items
    return out


@bp.route("/receipt", methods=["GET", "POST"])
@limiter.limit(configured("RECEIPT_RATE_LIMIT"), methods=["POST"])
def receipt():
    form = ReceiptForm()
    if request.method == "GET":
        return render_template("survey/receipt.html", form=form)
    if not form.validate_on_submit():
        return render_template("survey/receipt.html", form=form), 400
    db = current_services().db
    respondent = find_respondent(db, form.code.data)
    if respondent is None:
        form.code.data = ""
        response = current_app.make_response(render_template("survey/receipt.html", form=form, not_found=True))
        response.headers["Cache-Control"] = "no-store"
        return response
    survey = db.get(Survey, respondent.survey_id)
    document = db.get(Document, survey.document_id)
    answers = respondent_answers(db, respondent)
    language = "en" if str(get_locale()) == "en" else "es"
    shown = {item.answer.id: display(question_of(item.question), item.answer.text, language) for item in answers}
    raised = {}
    for item in answers:
        for theme in item.themes:
            raised.setdefault(theme.id, theme)
    themes = sorted(raised.values(), key=lambda t: t.name)
    readable = permissions.can_read(current_user, document)
    clauses = _clauses_of(document, themes) if readable and themes else {}
    respondents = {t.id: theme_respondents(db, t) for t in themes}
    total = total_respondents(db, document)
    form.code.data = ""  # never echo the code back into the page
    response = current_app.make_response(render_template(
        "survey/receipt.html", form=form, survey=survey, respondent=respondent, answers=answers, shown=shown,
        themes=themes, language=language,
        document=document if readable else None, clauses=clauses, theme_respondents=respondents, total=total,
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_errorhandler(429)
def _too_many(exc):
    message = _("Too many attempts from your connection. Please wait a little and try again.")
    if request.path.startswith("/api/"):
        return {"error": message, "status": 429}, 429
    return render_template("error.html", message=message), 429


@bp.post("/receipt/erase")
@limiter.limit(configured("RECEIPT_RATE_LIMIT"))
def erase_receipt():
    """A respondent erases their answers with their receipt code (typed again, never in a URL).
    The counts they contributed to stay: see editor.survey.service.erase_respondent."""
    form = ReceiptForm()
    if not form.validate_on_submit() or request.form.get("confirm") != "yes":
        form.code.data = ""
        return render_template("survey/receipt.html", form=form, erase_problem=True), 400
    services = current_services()
    respondent = find_respondent(services.db, form.code.data)
    form.code.data = ""
    if respondent is None:
        response = current_app.make_response(render_template("survey/receipt.html", form=form, not_found=True))
    else:
        erased = erase_respondent(services.db, respondent)
        audit.record(services.engine, "survey.respondent_erased",
                     actor=audit.Actor(label="respondent", ip=request.remote_addr or ""),
                     target=f"respondent:{respondent.id}", detail={"answers": erased})
        response = current_app.make_response(render_template("survey/receipt.html", form=form, erased=erased))
    response.headers["Cache-Control"] = "no-store"
    return response
