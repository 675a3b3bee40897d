"""Citizen events' pages: organisers register discussions on the public calendar and upload their
conclusions; moderators approve or refuse both; anyone subscribes to the calendar (iCal) and
downloads approved attachments. The calendar itself and each event's page are the provenance
pages (`/d/<slug>/events`, `/d/<slug>/events/<id>`, editor.provenance.views), which read the
template globals defined here for what only this feature knows.

Who: a signed-in participant registers (where the document asks for it, an approved one) and, as
the organiser of an approved event that has begun, uploads conclusions; moderators
(`permissions.can_moderate`) decide on both; the iCal feed and approved attachments are as public
as the document. Rate limits per participant (editor.config EVENT_*); the rules are in
editor.participation.calendar, the file checks in editor.participation.event_files."""

from __future__ import annotations

from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from akoma_ntoso import iter_units

from .. import audit, clock, permissions
from ..access import staff_document, visible_document
from ..limits import configured, limiter
from ..livetext import read_live
from ..models import Document
from ..outbox import wake
from ..problems import STATUS_OF
from ..provenance.links import path_labels
from ..provenance.models import CitizenEvent
from ..services import current_services
from . import calendar, ical
from . import session as participant_session
from .event_files import MEDIA_TYPES, check_all, files_folder, path_of
from .models import MAX_CONCLUSIONS, MAX_EVENT_DESCRIPTION, EventAttachment, EventConclusions, EventRegistration
from .session import current_participant
from .signin import ParticipationError

bp = Blueprint("events_calendar", __name__)

UPLOAD_ENDPOINT = "events_calendar.conclusions"


def zone() -> ZoneInfo:
    """The calendar's time zone: organisers give times in it, and readers see them in it."""
    return calendar.zone_named(current_app.config["EVENTS_TIMEZONE"])


def _participant_key() -> str:
    participant = current_participant()
    return f"participant:{participant.id}" if participant is not None else f"address:{get_remote_address()}"


def _accepted(response) -> bool:
    """Only what was taken counts against a limit: a refused form keeps what was typed and costs nothing."""
    return response.status_code in (302, 303)


@bp.url_value_preprocessor
def _upload_allowance(endpoint, _values) -> None:
    """The conclusions' form carries up to EVENT_FILES_MAX files of EVENT_FILE_MAX_BYTES each, more
    than the site's limit for one request. Raised here because URL preprocessors run before every
    before-request hook, and the first of those (the CSRF check) reads the form."""
    if endpoint == UPLOAD_ENDPOINT and request.method == "POST":
        config = current_app.config
        request.max_content_length = config["EVENT_FILES_MAX"] * config["EVENT_FILE_MAX_BYTES"] + 1024 * 1024


@bp.errorhandler(413)
def _too_large(_exc):
    config = current_app.config
    message = _("What you sent is larger than this site takes at once: at most %(files)d files of %(size)s MB each. "
                "Nothing was stored; send fewer or smaller files.", files=config["EVENT_FILES_MAX"],
                size=f"{config['EVENT_FILE_MAX_BYTES'] / (1024 * 1024):g}")
    return render_template("error.html", message=message), 413


@bp.errorhandler(429)
def _too_fast(_exc):
    message = _("You have sent more events or conclusions than this site takes in a while. Please wait and try "
                "again later.")
    return render_template("error.html", message=message), 429


@bp.after_request
def _private(response):
    """Forms and the organiser's pages are personal: never cached."""
    if request.endpoint in ("events_calendar.register", "events_calendar.mine", UPLOAD_ENDPOINT,
                            "events_calendar.queue"):
        response.headers["Cache-Control"] = "no-store"
    return response


# --- what the provenance pages ask of this feature ------------------------------------------------------


@bp.app_template_global()
def event_time(event) -> str:
    """When an event is, in the calendar's time zone ("martes, 14 de marzo de 2017, 18:30–20:00 (CST)"),
    or its day when only that is known."""
    if event.starts_at is None:
        return format_date(event.held_on, "medium")
    local = clock.as_utc(event.starts_at).astimezone(zone())
    text = f"{format_date(local.date(), 'full')}, {format_time(local, 'short', rebase=False)}"
    if event.ends_at is not None:
        text += "–" + format_time(clock.as_utc(event.ends_at).astimezone(zone()), "short", rebase=False)
    return f"{text} ({local.tzname()})"


@bp.app_template_global()
def events_waiting(document: Document) -> int:
    """Registrations and conclusions waiting for the document's moderators (their queue's link)."""
    return calendar.waiting_count(current_services().db, document)


# --- registering an event ---------------------------------------------------------------------------------


def _not_signed_in(next_path: str):
    message = _("Sign in with your e-mail address to take part: we send you a code, no password is needed.")
    return render_template("participation/sign_in_first.html", message=message, next_path=next_path), 401


def _sign_in_first(next_path: str):
    return redirect(url_for("participation.sign_in", next=next_path))


def _clause_choices(units) -> list[tuple[object, int, str]]:
    """The clauses an organiser may pick: articles and their apartados, in text order (unit, depth, label)."""
    labels = path_labels(units)
    choices = []
    for unit in iter_units(units):
        if unit.kind == "article":
            choices.append((unit, 0, labels.get(unit.guid, unit.label)))
            choices += [(child, 1, labels.get(child.guid, child.label)) for child in unit.children
                        if child.kind == "paragraph"]
    return choices


def _register_page(document: Document, units, given: calendar.EventInput, problem: str | None, status: int = 200):
    return render_template(
        "participation/event_register.html", document=document, given=given, problem=problem,
        choices=_clause_choices(units), chosen=set(given.clauses), zone_name=current_app.config["EVENTS_TIMEZONE"],
        participant=current_participant(), max_description=MAX_EVENT_DESCRIPTION), status


@bp.route("/d/<slug>/events/register", methods=["GET", "POST"])
@limiter.limit(configured("EVENT_REGISTER_RATE_LIMIT"), methods=["POST"], key_func=_participant_key,
               deduct_when=_accepted)
def register(slug: str):
    """A participant registers a discussion; it waits for a moderator."""
    document = visible_document(slug)
    participant = current_participant()
    here = url_for("events_calendar.register", slug=slug)
    if participant is None:
        return _sign_in_first(here) if request.method == "GET" else _not_signed_in(here)
    services = current_services()
    units = read_live(services, slug).units
    if request.method == "GET":
        problem = None
        try:
            calendar.may_register(services.db, document, participant)
        except ParticipationError as exc:
            problem = exc.message
        return _register_page(document, units, calendar.EventInput(), problem)
    participant_session.acting(participant, slug)
    form = request.form
    given = calendar.EventInput(
        title=form.get("title", ""), day=form.get("day", ""), starts=form.get("starts", ""), ends=form.get("ends", ""),
        place=form.get("place", ""), link=form.get("link", ""), organiser=form.get("organiser", ""),
        description=form.get("description", ""), clauses=form.getlist("clauses")[:100])
    try:
        registration = calendar.register_event(services.db, document, units, participant, given, zone())
    except ParticipationError as exc:
        services.db.rollback()
        return _register_page(document, units, given, exc.message, STATUS_OF[exc.kind])
    audit.record(services.engine, "participation.event_register", actor=audit.actor_of(), document=slug,
                 target=f"event_registration:{registration.id}", detail={"title": registration.title})
    flash(_("Thank you. Your event waits for a moderator: it shows on the public calendar once approved, and we "
            "tell you by e-mail."), "success")
    return redirect(url_for("events_calendar.mine", slug=slug), 303)


@bp.get("/d/<slug>/events/mine")
def mine(slug: str):
    """The participant's registrations on this document, their state, and where to send conclusions."""
    document = visible_document(slug)
    participant = current_participant()
    if participant is None:
        return _sign_in_first(url_for("events_calendar.mine", slug=slug))
    db = current_services().db
    registrations = calendar.registrations_of(db, document, participant)
    events = {e.id: e for e in (db.get(CitizenEvent, r.event_id) for r in registrations if r.event_id) if e}
    sent = calendar.conclusions_of(db, list(events))
    now = clock.now()
    return render_template("participation/events_mine.html", document=document, registrations=registrations,
                           events=events, sent=sent, participant=participant,
                           begun={i: calendar.begins_at(e) <= now for i, e in events.items()})


# --- conclusions --------------------------------------------------------------------------------------------


def _event_of(document: Document, event_id: int) -> CitizenEvent:
    event = current_services().db.get(CitizenEvent, event_id)
    if event is None or event.document_id != document.id:
        abort(404)
    return event


def _conclusions_page(document, event, problem, body="", participants="", status=200):
    config = current_app.config
    return render_template("participation/event_conclusions.html", document=document, event=event, problem=problem,
                           body=body[:MAX_CONCLUSIONS], participants=participants[:12],
                           max_files=config["EVENT_FILES_MAX"],
                           max_mb=f"{config['EVENT_FILE_MAX_BYTES'] / (1024 * 1024):g}",
                           max_conclusions=MAX_CONCLUSIONS, participant=current_participant()), status


@bp.route("/d/<slug>/events/<int:event_id>/conclusions", methods=["GET", "POST"])
@limiter.limit(configured("EVENT_CONCLUSIONS_RATE_LIMIT"), methods=["POST"], key_func=_participant_key,
               deduct_when=_accepted)
def conclusions(slug: str, event_id: int):
    """The organiser uploads the conclusions of their event, with files; they wait for a moderator."""
    document = visible_document(slug)
    event = _event_of(document, event_id)
    participant = current_participant()
    here = url_for(UPLOAD_ENDPOINT, slug=slug, event_id=event_id)
    if participant is None:
        return _sign_in_first(here) if request.method == "GET" else _not_signed_in(here)
    services = current_services()
    db = services.db
    if request.method == "GET":
        try:
            calendar.may_conclude(db, document, event, participant)
        except ParticipationError as exc:
            if exc.kind == "forbidden":
                abort(403)
            return _conclusions_page(document, event, exc.message, status=STATUS_OF[exc.kind])
        return _conclusions_page(document, event, None)
    participant_session.acting(participant, slug)
    config = current_app.config
    body, count = request.form.get("body", ""), request.form.get("participants", "")
    try:
        calendar.may_conclude(db, document, event, participant)
        files = check_all([(f.filename, f.stream) for f in request.files.getlist("files")],
                          config["EVENT_FILES_MAX"], config["EVENT_FILE_MAX_BYTES"])
        sent = calendar.submit_conclusions(db, document, event, participant, body, count, files,
                                           files_folder(config))
    except ParticipationError as exc:
        db.rollback()
        if exc.kind == "forbidden":
            abort(403)
        return _conclusions_page(document, event, exc.message, body, count, STATUS_OF[exc.kind])
    audit.record(services.engine, "participation.event_conclusions", actor=audit.actor_of(), document=slug,
                 target=f"event_conclusions:{sent.id}",
                 detail={"event": event.id, "files": [{"name": f.filename, "kind": f.kind, "bytes": f.size,
                                                       "sha256": f.sha256} for f in files]})
    flash(_("Thank you. Your conclusions wait for a moderator; once approved they show on the event's page, and "
            "the drafting committee reads them in its weekly report."), "success")
    return redirect(url_for("events_calendar.mine", slug=slug), 303)


@bp.get("/d/<slug>/events/files/<int:attachment_id>")
def attachment(slug: str, attachment_id: int):
    """A file sent with conclusions: public once they are approved, to moderators and the organiser
    before. Served as the type its content proved, never as anything a browser would run: images
    inline, PDFs as downloads, no sniffing, and a sandbox in case a browser renders it anyway."""
    document = visible_document(slug)
    db = current_services().db
    found = db.get(EventAttachment, attachment_id)
    if found is None or not calendar.may_see_attachment(
            db, found, document, moderator=permissions.can_moderate(current_user, document),
            participant=current_participant()):
        abort(404)
    path = path_of(files_folder(current_app.config), found.stored_name)
    if path is None:
        abort(404)
    inline = found.kind != "pdf"
    response = send_file(path, mimetype=MEDIA_TYPES[found.kind], conditional=True, etag=found.sha256, max_age=0)
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in found.filename)
    response.headers["Content-Disposition"] = (
        f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; "
        f"filename*=UTF-8''{quote(found.filename, safe='')}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --- the iCal feed ------------------------------------------------------------------------------------------


@bp.get("/d/<slug>/events.ics")
def feed(slug: str):
    """The document's upcoming approved events as iCalendar, to subscribe to in a calendar program."""
    document = visible_document(slug)
    now = clock.now()
    host = request.host.split(":")[0] or "constituent"
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")

    def page(event: CitizenEvent) -> str:
        path = url_for("provenance.event", slug=slug, event_id=event.id)
        return base + path if base else url_for("provenance.event", slug=slug, event_id=event.id, _external=True)

    entries = [ical.Entry(
        uid=f"event-{e.id}@{host}", summary=e.title, starts_at=e.starts_at, day=e.held_on, ends_at=e.ends_at,
        location=", ".join(p for p in (e.place, e.link or "") if p),
        description="\n\n".join(p for p in (e.description, _("Organised by %(who)s", who=e.organiser)
                                             if e.organiser else "", page(e)) if p),
        url=page(e)) for e in calendar.upcoming_events(current_services().db, document, now, zone())]
    body = ical.calendar(_("Citizen events: %(title)s", title=document.title), entries, now)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{slug}-events.ics"'
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- moderation ---------------------------------------------------------------------------------------------


@bp.get("/d/<slug>/events/moderation")
def queue(slug: str):
    """What waits for the moderators on the calendar: registrations and conclusions, oldest first."""
    document = staff_document(slug, permissions.can_moderate)
    services = current_services()
    found = calendar.waiting(services.db, document)
    units = read_live(services, slug).units
    labels = path_labels(units)
    clauses = {r.id: calendar.clause_labels(units, calendar.registered_clauses(r), labels) for r in found.registrations}
    return render_template("participation/events_moderation.html", document=document, waiting=found, clauses=clauses,
                           max_reason=calendar.MAX_REASON)


def _page_link(document: Document, event_id: int | None) -> str:
    """The event's public page, for the organiser's e-mail (or the calendar, when it was refused)."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    endpoint, args = (("provenance.event", {"event_id": event_id}) if event_id else ("provenance.events", {}))
    path = url_for(endpoint, slug=document.slug, **args)
    return base + path if base else url_for(endpoint, slug=document.slug, _external=True, **args)


def _to_decide(slug: str, model, number: int):
    """(document, db, the row, the action) of a moderator's decision; 404 for another document's row."""
    document = staff_document(slug, permissions.can_moderate)
    db = current_services().db
    row = db.get(model, number)
    if row is None or row.document_id != document.id:
        abort(404)
    return document, db, row, request.form.get("action", "")


def _decided(slug: str, action: str, what: str, target: str, detail: dict):
    services = current_services()
    audit.record(services.engine, f"participation.{what}_{action}", actor=audit.actor_of(current_user),
                 document=slug, target=target, detail=detail)
    wake(current_app)
    return redirect(url_for("events_calendar.queue", slug=slug), 303)


def _refused(slug: str, exc: ParticipationError):
    current_services().db.rollback()
    flash(exc.message, "error")
    return make_response(queue(slug), STATUS_OF[exc.kind])


@bp.post("/d/<slug>/events/moderation/registrations/<int:registration_id>")
def decide_registration(slug: str, registration_id: int):
    """approve (the event shows on the calendar) | reject (with a reason for the organiser)."""
    document, db, registration, action = _to_decide(slug, EventRegistration, registration_id)
    try:
        event = calendar.decide_registration(db, document, registration, current_user, action,
                                             request.form.get("reason", ""), zone=zone(),
                                             link=_page_link(document, None))
    except ParticipationError as exc:
        return _refused(slug, exc)
    if event is not None:
        flash(_("The event “%(title)s” is on the public calendar.", title=event.title), "success")
    else:
        flash(_("The registration is refused; its organiser was told why by e-mail."), "success")
    return _decided(slug, action, "event", f"event_registration:{registration.id}",
                    {"event": event.id if event is not None else None, "reason": registration.reason})


@bp.post("/d/<slug>/events/moderation/conclusions/<int:conclusions_id>")
def decide_conclusions(slug: str, conclusions_id: int):
    """approve (the conclusions and their files become public) | reject (with a reason for the organiser)."""
    document, db, sent, action = _to_decide(slug, EventConclusions, conclusions_id)
    try:
        calendar.decide_conclusions(db, document, sent, current_user, action, request.form.get("reason", ""),
                                    link=_page_link(document, sent.event_id))
    except ParticipationError as exc:
        return _refused(slug, exc)
    flash(_("The conclusions are published on the event's page.") if action == "approve"
          else _("The conclusions are refused; their organiser was told why by e-mail."), "success")
    return _decided(slug, action, "conclusions", f"event_conclusions:{sent.id}",
                    {"event": sent.event_id, "reason": sent.reason})
