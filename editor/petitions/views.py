"""Committee pages for petitions: import, signatures, thresholds, obligations, hearings, and the
signed-in user's notifications.

Every page here is staff work: a document the user cannot read is a 404, an anonymous visitor
is sent to sign in, a reader (viewer) gets 403. The public petition pages are elsewhere
(`public_views`).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from akoma_ntoso import iter_units

from .. import audit, clock, permissions
from ..access import staff_document
from ..inputs import whole_number
from ..livetext import read_live
from ..models import Document, Notification
from ..provenance.labels import action_label, relation_label
from ..provenance.links import links_of_source
from ..provenance.models import RELATIONS
from ..services import current_services
from ..stages.versions import versions_of
from .models import ACTIONS, Obligation
from .service import (
    MAX_DUE_DAYS,
    MAX_IMPORT_BYTES,
    MAX_MEMBERS,
    MAX_NOTES,
    MAX_REASON,
    MAX_SIGNATURES,
    PetitionError,
    PetitionImportError,
    assign_obligation,
    committee_members,
    delete_threshold,
    ensure_thresholds,
    evaluate_thresholds,
    get_petition,
    hearings_of,
    import_petitions,
    is_not_incorporated,
    link_references,
    notify_crossings,
    obligation_members,
    obligations_of,
    parse_moment,
    petition_statuses,
    record_hearing,
    reference_text,
    save_threshold,
    set_obligation_done,
    set_outcome_reason,
    shifted_links,
    signature_history,
    thresholds_reached,
    unit_name,
)

bp = Blueprint("petitions", __name__)


# --- forms -----------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (keyboard-usable, no script)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UploadForm(FlaskForm):
    file = FileField(_l("Petitions file (CSV or JSON)"))
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice("auto", _l("From the file name")), SelectChoice("csv", "CSV"), SelectChoice("json", "JSON")],
        default="auto",
    )
    counted_at = StringField(
        _l("Counted at (UTC), for counts without a date of their own"),
        validators=[Optional(), Length(max=40)],
    )
    #: The text whose numbering the references are read against (choices: the versions and "live").
    against = SelectField(_l("Read the petitions' references against"), choices=[], default="")


def _against_choices(form: UploadForm, document: Document) -> None:
    """The versions, latest first (the default), then the live text."""
    versions = versions_of(current_services().db, document, light=True)
    form.against.choices = [SelectChoice(str(v.number), _("Version %(n)d · %(name)s", n=v.number, name=v.name))
                            for v in reversed(versions)] + [SelectChoice("live", _("The live text (today's numbers)"))]
    if not form.against.data:
        form.against.data = str(versions[-1].number) if versions else "live"


class ThresholdForm(FlaskForm):
    threshold_id = HiddenField()
    signatures = IntegerField(_l("Signatures"), validators=[InputRequired(), NumberRange(1, MAX_SIGNATURES)])
    action = SelectField(_l("Action"), choices=[])
    due_days = IntegerField(_l("Days to fulfil it"), validators=[InputRequired(), NumberRange(0, MAX_DUE_DAYS)],
                            default=30)
    members = SelectField(_l("Members assigned"), choices=[SelectChoice(str(n), str(n)) for n in range(MAX_MEMBERS + 1)],
                          default="0")
    op = HiddenField(default="save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [SelectChoice(action, action_label(action)) for action in ACTIONS]


class ObligationForm(FlaskForm):
    op = SelectField(choices=[SelectChoice("done", ""), SelectChoice("reopen", ""), SelectChoice("assign", "")])
    members = MultiCheckboxField(_l("Assigned to"), choices=[], validate_choice=False)


class HearingForm(FlaskForm):
    held_on = DateField(_l("Date"), validators=[DataRequired(message=_l("Give the date of the hearing."))])
    members = MultiCheckboxField(_l("Committee members present"), choices=[], validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=MAX_NOTES)])


class ReasonForm(FlaskForm):
    """The committee's published reason for not incorporating a petition (or only part of it)."""

    # Its length is checked by the service, after line breaks are normalised (a browser sends CRLF).
    reason = TextAreaField(_l("The committee's published reason"), validators=[Optional()])


class BlankForm(FlaskForm):
    """A form with nothing but its CSRF token (buttons that change something)."""


# --- access ----------------------------------------------------------------------------------


def _staff_document(slug: str) -> Document:
    """The document, for a committee member or an administrator; else 404, login or 403."""

    return staff_document(slug, permissions.can_edit)


def _petition_or_404(document: Document, petition_id: int):
    petition = get_petition(current_services().db, document, petition_id)
    if petition is None:
        abort(404)
    return petition


def _member_choices() -> list[SelectChoice]:
    return [SelectChoice(str(u.id), u.name) for u in committee_members(current_services().db)]


@bp.app_template_global()
def unread_notification_count() -> int:
    """How many notifications the signed-in user has not read (0 for visitors)."""
    if not current_user.is_authenticated:
        return 0
    return current_services().db.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))) or 0


# --- the petitions of a document ---------------------------------------------------------------


def _today() -> date:
    return clock.now().date()


def _manage_page(document: Document, form: UploadForm, status: int = 200, problem: str | None = None,
                 result=None):
    db = current_services().db
    thresholds = ensure_thresholds(db, document)
    db.commit()
    _against_choices(form, document)
    statuses = petition_statuses(db, document)
    return render_template(
        "petitions/manage.html", document=document, form=form, statuses=statuses, thresholds=thresholds,
        problem=problem, result=result, today=_today(), max_mb=MAX_IMPORT_BYTES // 1048576,
    ), status


@bp.route("/d/<slug>/petitions/manage", methods=["GET", "POST"])
def manage(slug: str):
    document = _staff_document(slug)
    form = UploadForm()
    if request.method == "GET":
        return _manage_page(document, form)
    _against_choices(form, document)
    if not form.validate_on_submit():
        return _manage_page(document, form, 400, problem=_("The form could not be read; nothing was imported."))
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        return _manage_page(document, form, 400, problem=_("Choose a CSV or JSON file to upload."))
    data = upload.read(MAX_IMPORT_BYTES + 1)
    fmt = form.format.data
    if fmt == "auto":
        name = upload.filename.lower()
        fmt = "json" if name.endswith(".json") else "csv" if name.endswith((".csv", ".txt")) else None
        if fmt is None:
            return _manage_page(document, form, 400,
                                problem=_("The file name does not say whether it is CSV or JSON: choose the format."))
    at = None
    if form.counted_at.data:
        try:
            at = parse_moment(form.counted_at.data)
        except ValueError as exc:
            return _manage_page(document, form, 400, problem=_("Counted at: %(problem)s", problem=str(exc)))
    services = current_services()
    try:
        against = reference_text(services, document, form.against.data)
        result = import_petitions(services.db, document, data, fmt, at=at, units=against.units,
                                  version=against.version, live_units=against.live_units)
    except PetitionImportError as exc:
        services.db.rollback()
        return _manage_page(document, UploadForm(formdata=None), 400, problem=str(exc))
    return _manage_page(document, UploadForm(formdata=None), 200, result=result)


@bp.route("/d/<slug>/petitions/thresholds", methods=["GET", "POST"])
def thresholds(slug: str):
    document = _staff_document(slug)
    db = current_services().db
    problem = None
    status = 200
    if request.method == "POST":
        form = ThresholdForm()
        given = (form.threshold_id.data or "").strip()
        threshold_id = whole_number(given)
        if not form.validate_on_submit():
            fields = [getattr(form, name).label.text + ": " + "; ".join(str(e) for e in errors)
                      for name, errors in form.errors.items() if name in form._fields and name != "csrf_token"]
            problem = " · ".join(fields) or _("The form could not be read; nothing was changed.")
            status = 400
        elif threshold_id is None and (given or form.op.data == "delete"):
            problem, status = _("There is no such threshold; nothing was changed."), 400
        else:
            try:
                if form.op.data == "delete" and threshold_id is not None:
                    delete_threshold(db, document, threshold_id)
                    db.commit()
                    flash(_("Threshold removed."), "info")
                else:
                    save_threshold(db, document, form.signatures.data, form.action.data, form.due_days.data,
                                   int(form.members.data), threshold_id)
                    crossings = evaluate_thresholds(db, document)
                    notify_crossings(db, document, crossings)
                    db.commit()
                    flash(_("Threshold saved."), "info")
                    if crossings:
                        flash(ngettext("%(num)d petition had already reached it: its event and obligation are recorded.",
                                       "%(num)d petitions had already reached it: their events and obligations are recorded.",
                                       len({c.petition.id for c in crossings})), "info")
                return redirect(url_for("petitions.thresholds", slug=slug))
            except PetitionError as exc:
                db.rollback()
                problem, status = str(exc), 400
    rows = []
    for threshold in ensure_thresholds(db, document):
        form = ThresholdForm(formdata=None, obj=threshold, threshold_id=str(threshold.id),
                             members=str(threshold.members))
        rows.append((threshold, form))
    db.commit()
    new = ThresholdForm(formdata=None)
    return render_template("petitions/thresholds.html", document=document, rows=rows, new=new,
                           problem=problem), status


# --- one petition ------------------------------------------------------------------------------


def _petition_page(document: Document, petition, status: int = 200, problem: str | None = None,
                   hearing_form: HearingForm | None = None, reason_form: ReasonForm | None = None):
    services = current_services()
    db = services.db
    history = signature_history(db, petition)
    obligations = obligations_of(db, petition)
    members = obligation_members(db, [o.id for o in obligations])
    choices = _member_choices()
    obligation_forms = {}
    for obligation in obligations:
        form = ObligationForm(formdata=None, members=[str(u.id) for u in members.get(obligation.id, [])])
        form.members.choices = choices
        obligation_forms[obligation.id] = form
    if hearing_form is None:
        hearing_form = HearingForm(formdata=None)
    hearing_form.members.choices = choices
    units = read_live(services, document.slug).units
    by_guid = {u.guid: u for u in iter_units(units)}
    language = "eng" if document.language == "eng" else "spa"
    links = []
    own = links_of_source(db, document, "petition", petition.id)
    shifted = shifted_links(db, document, petition, units, own)  # numbers moved since the version read against
    for link in own:
        unit = by_guid.get(link.unit_guid)
        links.append({
            "link": link,
            "unit": unit,
            "name": unit_name(units, unit, language) if unit else None,
            "relation": relation_label(link.relation),
            "shifted": shifted.get(link.id),
        })
    thresholds = {t.id: t for t in ensure_thresholds(db, document)}
    reason_failed = reason_form is not None and bool(problem)
    if reason_form is None:
        reason_form = ReasonForm(formdata=None, reason=petition.outcome_reason or "")
    present = any(item["unit"] is not None for item in links)
    not_incorporated = not present and (bool(links) or is_not_incorporated(petition.final_text_refs or ""))
    return render_template(
        "petitions/petition.html", document=document, petition=petition, history=history,
        sparkline=_sparkline(history), reached=thresholds_reached(db, petition), obligations=obligations,
        obligation_members=members, obligation_forms=obligation_forms, thresholds=thresholds,
        hearings=hearings_of(db, petition), hearing_form=hearing_form, links=links, problem=problem,
        today=_today(), relations=RELATIONS, reason_form=reason_form, max_reason=MAX_REASON,
        not_incorporated=not_incorporated, reason_failed=reason_failed,
    ), status


def _sparkline(history, width: int = 240, height: int = 48) -> dict | None:
    """Points of an inline SVG line of the signature counts over time (None below two counts)."""
    if len(history) < 2:
        return None
    times = [clock.as_utc(c.counted_at).timestamp() for c in history]
    values = [c.signatures for c in history]
    t0, t1 = min(times), max(times)
    top = max(values) or 1
    span = (t1 - t0) or 1
    points = " ".join(
        f"{2 + (t - t0) / span * (width - 4):.1f},{height - 2 - v / top * (height - 4):.1f}"
        for t, v in zip(times, values, strict=True))
    return {"points": points, "width": width, "height": height, "top": top}


@bp.route("/d/<slug>/petitions/<int:petition_id>/manage")
def petition(slug: str, petition_id: int):
    document = _staff_document(slug)
    return _petition_page(document, _petition_or_404(document, petition_id))


def _form_problem(form: FlaskForm) -> str:
    """What is wrong with a form that did not validate, for the page (its CSRF token: unreadable)."""
    errors = [str(e) for name, errs in form.errors.items() if name != "csrf_token" for e in errs]
    if "csrf_token" in form.errors and not errors:
        errors = [_("The form could not be read; nothing was changed.")]
    return " ".join(errors)


@bp.route("/d/<slug>/petitions/<int:petition_id>/manage/obligations/<int:obligation_id>", methods=["POST"])
def obligation(slug: str, petition_id: int, obligation_id: int):
    document = _staff_document(slug)
    petition = _petition_or_404(document, petition_id)
    db = current_services().db
    found = db.get(Obligation, obligation_id)
    if found is None or found.petition_id != petition.id:
        abort(404)
    form = ObligationForm()
    form.members.choices = _member_choices()
    if not form.validate_on_submit():
        return _petition_page(document, petition, 400, _("The form could not be read; nothing was changed."))
    try:
        if form.op.data == "done":
            set_obligation_done(db, found, True)
            message = _("Obligation marked as done.")
        elif form.op.data == "reopen":
            set_obligation_done(db, found, False)
            message = _("Obligation open again.")
        else:
            assign_obligation(db, found, form.members.data or [])
            message = _("Assignment saved.")
        db.commit()
    except PetitionError as exc:
        db.rollback()
        return _petition_page(document, petition, 400, str(exc))
    flash(message, "info")
    return redirect(url_for("petitions.petition", slug=slug, petition_id=petition.id) + "#obligations")


@bp.route("/d/<slug>/petitions/<int:petition_id>/manage/hearings", methods=["POST"])
def hearing(slug: str, petition_id: int):
    document = _staff_document(slug)
    petition = _petition_or_404(document, petition_id)
    db = current_services().db
    form = HearingForm()
    form.members.choices = _member_choices()
    if not form.validate_on_submit():
        return _petition_page(document, petition, 400, _form_problem(form), hearing_form=form)
    try:
        record_hearing(db, petition, form.held_on.data, form.members.data or [], form.notes.data or "", current_user)
        db.commit()
    except PetitionError as exc:
        db.rollback()
        return _petition_page(document, petition, 400, str(exc), hearing_form=form)
    flash(_("Hearing recorded."), "info")
    return redirect(url_for("petitions.petition", slug=slug, petition_id=petition.id) + "#hearings")


@bp.route("/d/<slug>/petitions/<int:petition_id>/manage/reason", methods=["POST"])
def outcome_reason(slug: str, petition_id: int):
    """Publish, change or withdraw (empty) the committee's reason for not incorporating the petition
    (or only part of it): shown on its public page and the results page; audited with both texts."""
    document = _staff_document(slug)
    petition = _petition_or_404(document, petition_id)
    db = current_services().db
    form = ReasonForm()
    if not form.validate_on_submit():
        return _petition_page(document, petition, 400, _form_problem(form), reason_form=form)
    try:
        before, after = set_outcome_reason(petition, form.reason.data or "")
    except PetitionError as exc:
        db.rollback()
        return _petition_page(document, petition, 400, str(exc), reason_form=form)
    if before == after:
        flash(_("The reason was already this text; nothing was changed."), "info")
        return redirect(url_for("petitions.petition", slug=slug, petition_id=petition.id) + "#reason")
    db.commit()
    audit.record(current_services().engine, "petition.outcome_reason", actor=audit.actor_of(current_user, document),
                 document=document.slug, target=f"petition:{petition.id}",
                 detail={"before": before, "after": after})
    flash(_("The reason is published on the petition's public page.") if after
          else _("The reason was withdrawn from the petition's public page."), "info")
    return redirect(url_for("petitions.petition", slug=slug, petition_id=petition.id) + "#reason")


@bp.route("/d/<slug>/petitions/<int:petition_id>/manage/links", methods=["POST"])
def relink(slug: str, petition_id: int):
    """Link the petition again to the units its references name (after the text changed)."""
    document = _staff_document(slug)
    petition = _petition_or_404(document, petition_id)
    if not BlankForm().validate_on_submit():
        return _petition_page(document, petition, 400, _("The form could not be read; nothing was changed."))
    services = current_services()
    # Against the text the petition's references were last read against (a version stays that
    # version: its numbers do not move), else the live text.
    try:
        against = reference_text(services, document, str(petition.references_version or "live"))
    except PetitionImportError:  # that version is gone: the live text
        against = reference_text(services, document, "live")
    report = link_references(services.db, document, against.units, petition, version=against.version,
                             live_units=against.live_units)
    services.db.commit()
    flash(ngettext("%(num)d link made from the petition's references.",
                   "%(num)d links made from the petition's references.", report.created), "info")
    for item in report.unresolved:
        flash(_("Not found: %(reference)s (%(problem)s)", reference=item.reference, problem=item.problem), "error")
    return redirect(url_for("petitions.petition", slug=slug, petition_id=petition.id) + "#links")
