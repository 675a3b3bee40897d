"""Citizen events on the public calendar (no Flask request here).

Rules:
* A signed-in participant registers a discussion: its title, when it starts (and ends), where
  (a place, a link to join online, or both), who organises it, a description and the clauses it
  is about. Where the document asks for it (`ParticipationSetting.event_level`), only a
  participant a moderator approved may register.
* A registration is invisible to everyone but its organiser and the moderators until a moderator
  approves it. Approving it creates the public `CitizenEvent` (editor.provenance.models), which
  the calendar, the search, the open data and the committee's provenance links see; refusing it
  tells the organiser why, privately. Both decisions reach the organiser by e-mail.
* Once the event has begun, its organiser uploads conclusions: text, how many took part, and
  attachments (editor.participation.event_files). They are moderated like the event: the public
  sees them once a moderator approves them, when their text becomes the event's conclusions and
  their files are served. Until then the organiser and the moderators see them, and the
  committee's weekly report lists them in the week they arrived, so that the drafting group
  reads them and links them to clauses (the existing provenance, event → clause).
* Nothing here changes the live text: the text is only read, to resolve the clauses named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from akoma_ntoso import Unit, find_unit, iter_units

from .. import clock
from ..models import Document
from ..outbox import enqueue_email, valid_email
from ..provenance.models import CitizenEvent, ProvenanceLink
from ..security import web_url
from .event_files import CheckedFile, remove, store
from .models import (
    MAX_CONCLUSIONS,
    MAX_EVENT_DESCRIPTION,
    EventAttachment,
    EventConclusions,
    EventRegistration,
    Participant,
)
from .service import settings_of
from .signin import ParticipationError

#: How far back an event may be registered (a discussion already held, to bring its conclusions)
#: and how far ahead.
PAST_LIMIT = timedelta(days=365)
FUTURE_LIMIT = timedelta(days=2 * 365)
MAX_CLAUSES = 20
MAX_PARTICIPANTS = 1_000_000
DECISIONS = ("approve", "reject")
MAX_REASON = 500


@lru_cache(maxsize=8)
def zone_named(name: str) -> ZoneInfo:
    """The calendar's time zone (EVENTS_TIMEZONE): organisers give times in it, readers see them in it."""
    return ZoneInfo(name)


# --- registering -------------------------------------------------------------------------------------


@dataclass
class EventInput:
    """A registration as the form sent it: text, not yet checked."""

    title: str = ""
    day: str = ""  # YYYY-MM-DD, in the calendar's time zone
    starts: str = ""  # HH:MM
    ends: str = ""  # HH:MM, optional, the same day
    place: str = ""
    link: str = ""
    organiser: str = ""
    description: str = ""
    clauses: list[str] = field(default_factory=list)  # GUIDs or eIds


def _clean(value, limit: int, too_long: str, missing: str = "") -> str:
    """`value` without surrounding space; ParticipationError with `missing` when it is required and
    empty, `too_long` (with %(limit)d) when longer than `limit`."""
    value = (value or "").replace("\r\n", "\n").strip() if isinstance(value, str) else ""
    if missing and not value:
        raise ParticipationError("invalid", missing)
    if len(value) > limit:
        raise ParticipationError("invalid", too_long % {"limit": limit})
    if any(ord(c) < 32 and c not in "\n\t" for c in value) or "\x7f" in value:
        raise ParticipationError("invalid", _("The text contains control characters."))
    return value


def _moment(day: str, hour: str, zone: ZoneInfo, problem: str) -> datetime:
    try:
        parsed_day = date.fromisoformat((day or "").strip())
        parsed_time = time.fromisoformat((hour or "").strip())
    except ValueError:
        raise ParticipationError("invalid", problem) from None
    return datetime.combine(parsed_day, parsed_time.replace(second=0, microsecond=0), tzinfo=zone).astimezone(
        timezone.utc)


def may_register(db, document: Document, participant: Participant | None) -> Participant:
    """The participant, if the document lets them register events; else why not."""
    if participant is None or not participant.verified:
        raise ParticipationError("unauthenticated", _("Sign in with your e-mail address to register an event."))
    if settings_of(db, document).event_level == "approved" and not participant.approved:
        raise ParticipationError("forbidden", _("This document takes events only from participants a moderator has "
                                                "approved. Take part in the public comments first; a moderator "
                                                "approves participants there."))
    return participant


def register_event(db, document: Document, units, participant: Participant | None, given: EventInput, zone: ZoneInfo,
                   now: datetime | None = None) -> EventRegistration:
    """A participant's new registration, waiting for a moderator. Commits. Raises
    ParticipationError with the reason (nothing stored)."""
    organiser = may_register(db, document, participant)
    now = now or clock.now()
    title = _clean(given.title, 300, _("The title is longer than %(limit)d characters."), _("Give the event a title."))
    starts_at = _moment(given.day, given.starts, zone, _("Give the day and the time the event starts (e.g. "
                                                         "2017-03-14 and 18:30)."))
    ends_at = _moment(given.day, given.ends, zone, _("Give the time the event ends as hours and minutes (e.g. "
                                                     "20:00), or leave it empty.")) if (given.ends or "").strip() else None
    if ends_at is not None and ends_at <= starts_at:
        raise ParticipationError("invalid", _("The event ends before it starts: give an end time later than the "
                                              "start, on the same day."))
    if starts_at < now - PAST_LIMIT or starts_at > now + FUTURE_LIMIT:
        raise ParticipationError("invalid", _("Give a date within a year before today and two years after it."))
    place = _clean(given.place, 300, _("The place is longer than %(limit)d characters."))
    link = _clean(given.link, 500, _("The link is longer than %(limit)d characters."))
    if link and web_url(link) is None:
        raise ParticipationError("invalid", _("The link to join online must be a web address starting with "
                                              "https:// or http://."))
    if not place and not link:
        raise ParticipationError("invalid", _("Say where the event is held: a place, a link to join online, or "
                                              "both."))
    who = _clean(given.organiser, 300, _("The organiser's name is longer than %(limit)d characters.")) \
        or organiser.display_name
    description = _clean(given.description, MAX_EVENT_DESCRIPTION,
                         _("The description is longer than %(limit)d characters."))
    guids = clause_guids(units, given.clauses)
    registration = EventRegistration(
        document_id=document.id, participant_id=organiser.id, title=title, starts_at=starts_at, ends_at=ends_at,
        place=place, link=link or None, organiser=who, description=description, clauses=json.dumps(guids),
        status="pending", created_at=now)
    db.add(registration)
    db.commit()
    return registration


def clause_guids(units, keys) -> list[str]:
    """The GUIDs of the clauses named by `keys` (GUIDs or eIds), in text order, once each."""
    keys = [k for k in (keys or []) if isinstance(k, str) and k.strip()]
    if len(keys) > MAX_CLAUSES:
        raise ParticipationError("invalid", _("Choose at most %(limit)d clauses.", limit=MAX_CLAUSES))
    wanted = set()
    for key in keys:
        unit = find_unit(units, key.strip()[:100])
        if unit is None:
            raise ParticipationError("not-found", _("There is no clause %(key)s in the text.", key=key[:80]))
        wanted.add(unit.guid)
    return [u.guid for u in iter_units(units) if u.guid in wanted]


def registered_clauses(registration: EventRegistration | None) -> list[str]:
    if registration is None:
        return []
    try:
        found = json.loads(registration.clauses or "[]")
    except ValueError:
        return []
    return [g for g in found if isinstance(g, str)] if isinstance(found, list) else []


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return clock.as_utc(moment).astimezone(zone).date()


# --- moderation ----------------------------------------------------------------------------------------


def _reason(action: str, reason) -> str:
    if action not in DECISIONS:
        raise ParticipationError("invalid", _("Unknown moderation action %(action)r.", action=str(action)[:40]))
    reason = _clean(reason, MAX_REASON, _("The reason is longer than %(limit)d characters."))
    if action == "reject" and not reason:
        raise ParticipationError("invalid", _("Give the organiser the reason for refusing it."))
    return reason


def _deciding(document: Document, item: EventRegistration | EventConclusions, user, action: str, reason,
              now: datetime | None) -> tuple[str, datetime]:
    """The checks every decision makes (the item is the document's, the action known, a refusal
    has its reason, nothing decided twice), then who decided when; returns (reason, now)."""
    if item.document_id != document.id:
        raise ParticipationError("not-found", _("There is nothing to decide with that number in this document."))
    reason = _reason(action, reason)
    if item.status != "pending":
        raise ParticipationError("conflict", _("This was decided already."))
    now = now or clock.now()
    item.moderated_at, item.moderated_by_id = now, getattr(user, "id", None)
    return reason, now


def decide_registration(db, document: Document, registration: EventRegistration, user, action: str, reason="",
                        *, zone: ZoneInfo, link: str = "", now: datetime | None = None) -> CitizenEvent | None:
    """`approve` (the event becomes public) or `reject` (with a reason for the organiser) a
    waiting registration. Commits; queues the organiser's e-mail with it. Returns the event."""
    reason, now = _deciding(document, registration, user, action, reason, now)
    event = None
    if action == "approve":
        event = CitizenEvent(
            document_id=document.id, title=registration.title, held_on=local_day(registration.starts_at, zone),
            place=registration.place, organiser=registration.organiser, conclusions="",
            starts_at=registration.starts_at, ends_at=registration.ends_at, link=registration.link,
            description=registration.description, created_by_id=getattr(user, "id", None), created_at=now)
        db.add(event)
        db.flush()
        registration.status, registration.event_id = "approved", event.id
    else:
        registration.status, registration.reason = "rejected", reason
    _tell_organiser(db, document, registration.participant_id, registration.title, "event", action, reason, link)
    db.commit()
    return event


def decide_conclusions(db, document: Document, conclusions: EventConclusions, user, action: str, reason="", *,
                       link: str = "", now: datetime | None = None) -> None:
    """`approve` (the event's public conclusions become these, and their files are served) or
    `reject` (with a reason for the organiser) waiting conclusions. Commits."""
    reason, now = _deciding(document, conclusions, user, action, reason, now)
    event = db.get(CitizenEvent, conclusions.event_id)
    if action == "approve":
        conclusions.status = "approved"
        event.conclusions = conclusions.body
        if conclusions.participants is not None:
            event.participants = conclusions.participants
    else:
        conclusions.status, conclusions.reason = "rejected", reason
    _tell_organiser(db, document, conclusions.participant_id, event.title, "conclusions", action, reason, link)
    db.commit()


def _tell_organiser(db, document: Document, participant_id: int | None, title: str, what: str, action: str,
                    reason: str, link: str) -> None:
    """The organiser's e-mail about a moderator's decision, in their language (queued, not committed)."""
    person = db.get(Participant, participant_id) if participant_id is not None else None
    if person is None or not valid_email(person.email):
        return
    with force_locale(person.language or "es"):
        subject, line = {
            ("event", "approve"): (
                _("Your event “%(title)s” is on the public calendar", title=title[:150]),
                _("A moderator of %(document)s approved your event. It now shows on the public calendar; after it, "
                  "you can upload its conclusions from its page.", document=document.title)),
            ("event", "reject"): (
                _("Your event “%(title)s” was not accepted", title=title[:150]),
                _("A moderator of %(document)s did not accept your event, for this reason:", document=document.title)),
            ("conclusions", "approve"): (
                _("The conclusions of “%(title)s” are published", title=title[:150]),
                _("A moderator of %(document)s approved the conclusions you uploaded. They are public, and the "
                  "drafting committee reads them.", document=document.title)),
            ("conclusions", "reject"): (
                _("The conclusions of “%(title)s” were not accepted", title=title[:150]),
                _("A moderator of %(document)s did not accept the conclusions you uploaded, for this reason:",
                  document=document.title)),
        }[(what, action)]
        lines = [line]
        if action == "reject":
            lines.append(reason)
            lines.append(_("You may send them again with the problem corrected."))
        body = "\n\n".join([_("Hello %(name)s,", name=person.display_name or person.email), *lines,
                            *([link] if link else [])]) + "\n"
    enqueue_email(db, person.email, subject, body, event=f"participation.{what}_{action}",
                  payload={"document": document.slug, "title": title})


# --- conclusions ---------------------------------------------------------------------------------------


def registration_of(db, event: CitizenEvent) -> EventRegistration | None:
    return db.scalar(select(EventRegistration).where(EventRegistration.event_id == event.id))


def is_organiser(db, event: CitizenEvent, participant: Participant | None) -> bool:
    if participant is None:
        return False
    registration = registration_of(db, event)
    return registration is not None and registration.participant_id == participant.id


def may_conclude(db, document: Document, event: CitizenEvent, participant: Participant | None,
                 now: datetime | None = None) -> Participant:
    """The organiser, if they may upload conclusions for `event` now; else why not."""
    if participant is None or not participant.verified:
        raise ParticipationError("unauthenticated", _("Sign in with your e-mail address to upload conclusions."))
    if event.document_id != document.id or not is_organiser(db, event, participant):
        raise ParticipationError("forbidden", _("Only the organiser who registered this event uploads its "
                                                "conclusions."))
    begins = event.starts_at or datetime.combine(event.held_on, time.min, tzinfo=timezone.utc)
    if clock.as_utc(begins) > (now or clock.now()):
        raise ParticipationError("conflict", _("Conclusions are uploaded after the event: come back once it has "
                                               "taken place."))
    waiting = db.scalar(select(EventConclusions.id).where(EventConclusions.event_id == event.id,
                                                          EventConclusions.status == "pending"))
    if waiting is not None:
        raise ParticipationError("conflict", _("Your conclusions are waiting for a moderator; you can send new ones "
                                               "once they are decided."))
    return participant


def participants_count(value) -> int | None:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_PARTICIPANTS:
        raise ParticipationError("invalid", _("Give how many people took part as a whole number."))
    return int(value)


def submit_conclusions(db, document: Document, event: CitizenEvent, participant: Participant | None, body,
                       participants, files: list[CheckedFile], folder, now: datetime | None = None) -> EventConclusions:
    """The organiser's conclusions with their checked files, waiting for a moderator. The files
    are written only once everything else is valid, and removed again if the record cannot be
    committed. Commits."""
    organiser = may_conclude(db, document, event, participant, now)
    text = _clean(body, MAX_CONCLUSIONS, _("The conclusions are longer than %(limit)d characters."),
                  _("Write the conclusions of the event."))
    count = participants_count(participants)
    now = now or clock.now()
    stored = store(folder, files)
    try:
        conclusions = EventConclusions(document_id=document.id, event_id=event.id, participant_id=organiser.id,
                                       body=text, participants=count, status="pending", submitted_at=now)
        db.add(conclusions)
        db.flush()
        for checked, name in zip(files, stored, strict=True):
            db.add(EventAttachment(conclusions_id=conclusions.id, stored_name=name, filename=checked.filename,
                                   kind=checked.kind, size=checked.size, sha256=checked.sha256, created_at=now))
        db.commit()
    except Exception:
        db.rollback()
        remove(folder, stored)
        raise
    return conclusions


def attachments_of(db, conclusions_ids) -> dict[int, list[EventAttachment]]:
    ids = list(conclusions_ids)
    found: dict[int, list[EventAttachment]] = {i: [] for i in ids}
    if ids:
        for attachment in db.scalars(select(EventAttachment).where(EventAttachment.conclusions_id.in_(ids))
                                     .order_by(EventAttachment.id)):
            found[attachment.conclusions_id].append(attachment)
    return found


def published_conclusions(db, event: CitizenEvent) -> EventConclusions | None:
    """The event's conclusions the public reads (the latest approved), when an organiser sent them."""
    return db.scalar(select(EventConclusions).where(EventConclusions.event_id == event.id,
                                                    EventConclusions.status == "approved")
                     .order_by(EventConclusions.moderated_at.desc(), EventConclusions.id.desc()).limit(1))


def may_see_attachment(db, attachment: EventAttachment, document: Document, *, moderator: bool,
                       participant: Participant | None) -> bool:
    """Public once its conclusions are approved; before, only moderators and the organiser."""
    conclusions = db.get(EventConclusions, attachment.conclusions_id)
    if conclusions is None or conclusions.document_id != document.id:
        return False
    if conclusions.status == "approved" or moderator:
        return True
    return participant is not None and conclusions.participant_id == participant.id


# --- reading ---------------------------------------------------------------------------------------------


def begins_at(event: CitizenEvent) -> datetime:
    """When an event begins, for ordering: its start, else the start of its day (UTC)."""
    if event.starts_at is not None:
        return clock.as_utc(event.starts_at)
    return datetime.combine(event.held_on, time.min, tzinfo=timezone.utc)


def is_upcoming(event: CitizenEvent, now: datetime, zone: ZoneInfo) -> bool:
    """Not over yet: it has not ended (or, without an end, not begun); an event known only by its
    day is upcoming until that day is over where it is held."""
    if event.starts_at is not None:
        return clock.as_utc(event.ends_at or event.starts_at) >= now
    return event.held_on >= now.astimezone(zone).date()


def split_calendar(events, now: datetime, zone: ZoneInfo) -> tuple[list, list]:
    """(upcoming, soonest first; past, latest first) of `events` (CitizenEvents, or summaries
    with an `.event`)."""
    def of(item) -> CitizenEvent:
        return getattr(item, "event", item)

    upcoming = sorted((e for e in events if is_upcoming(of(e), now, zone)), key=lambda e: begins_at(of(e)))
    past = sorted((e for e in events if not is_upcoming(of(e), now, zone)), key=lambda e: begins_at(of(e)),
                  reverse=True)
    return upcoming, past


def upcoming_events(db, document: Document, now: datetime, zone: ZoneInfo) -> list[CitizenEvent]:
    """The document's approved events not over yet, soonest first (the iCal feed)."""
    events = db.scalars(select(CitizenEvent).where(CitizenEvent.document_id == document.id,
                                                   CitizenEvent.held_on >= (now - timedelta(days=2)).date()))
    return split_calendar(list(events), now, zone)[0]


@dataclass
class Waiting:
    """What waits for the document's moderators on the calendar."""

    registrations: list[EventRegistration]
    conclusions: list[tuple[EventConclusions, CitizenEvent, list[EventAttachment]]]
    organisers: dict[int, Participant]


def waiting(db, document: Document) -> Waiting:
    registrations = list(db.scalars(select(EventRegistration).where(
        EventRegistration.document_id == document.id, EventRegistration.status == "pending")
        .order_by(EventRegistration.created_at, EventRegistration.id)))
    pending = list(db.scalars(select(EventConclusions).where(
        EventConclusions.document_id == document.id, EventConclusions.status == "pending")
        .order_by(EventConclusions.submitted_at, EventConclusions.id)))
    files = attachments_of(db, [c.id for c in pending])
    events = {e.id: e for e in db.scalars(select(CitizenEvent).where(
        CitizenEvent.id.in_([c.event_id for c in pending])))} if pending else {}
    people = {r.participant_id for r in registrations} | {c.participant_id for c in pending}
    people.discard(None)
    organisers = {p.id: p for p in db.scalars(select(Participant).where(Participant.id.in_(people)))} if people else {}
    return Waiting(registrations, [(c, events[c.event_id], files[c.id]) for c in pending], organisers)


def waiting_count(db, document: Document) -> int:
    registrations = db.scalar(select(func.count()).where(EventRegistration.document_id == document.id,
                                                         EventRegistration.status == "pending"))
    conclusions = db.scalar(select(func.count()).where(EventConclusions.document_id == document.id,
                                                       EventConclusions.status == "pending"))
    return (registrations or 0) + (conclusions or 0)


def registrations_of(db, document: Document, participant: Participant) -> list[EventRegistration]:
    """A participant's registrations on the document, newest first (their own page)."""
    return list(db.scalars(select(EventRegistration).where(
        EventRegistration.document_id == document.id, EventRegistration.participant_id == participant.id)
        .order_by(EventRegistration.created_at.desc(), EventRegistration.id.desc())))


def conclusions_of(db, event_ids) -> dict[int, list[EventConclusions]]:
    """Every set of conclusions sent for the events, oldest first."""
    ids = list(event_ids)
    found: dict[int, list[EventConclusions]] = {i: [] for i in ids}
    if ids:
        for conclusions in db.scalars(select(EventConclusions).where(EventConclusions.event_id.in_(ids))
                                      .order_by(EventConclusions.submitted_at, EventConclusions.id)):
            found[conclusions.event_id].append(conclusions)
    return found


@dataclass
class ConclusionsRow:
    """Conclusions that arrived in a week, for the committee's weekly report."""

    conclusions: EventConclusions
    event: CitizenEvent
    files: int
    clauses: int  # clauses the committee has linked the event to


def conclusions_between(db, document: Document, start: datetime, end: datetime) -> list[ConclusionsRow]:
    """Conclusions uploaded from `start` (inclusive) to `end`, not refused, oldest first."""
    found = [c for c in db.scalars(select(EventConclusions).where(
        EventConclusions.document_id == document.id, EventConclusions.status != "rejected"))
        if start <= clock.as_utc(c.submitted_at) < end]
    if not found:
        return []
    events = {e.id: e for e in db.scalars(select(CitizenEvent).where(
        CitizenEvent.id.in_([c.event_id for c in found])))}
    files = attachments_of(db, [c.id for c in found])
    linked = dict(db.execute(select(ProvenanceLink.source_id, func.count()).where(
        ProvenanceLink.document_id == document.id, ProvenanceLink.source_kind == "event",
        ProvenanceLink.source_id.in_(list(events))).group_by(ProvenanceLink.source_id)).all())
    rows = [ConclusionsRow(c, events[c.event_id], len(files[c.id]), linked.get(c.event_id, 0)) for c in found]
    rows.sort(key=lambda r: (clock.as_utc(r.conclusions.submitted_at), r.conclusions.id))
    return rows


@dataclass
class EventPage:
    """What an event's public page shows beyond the event itself."""

    clauses: list  # (label, unit) the organiser said it is about
    conclusions: EventConclusions | None  # the published ones, when an organiser sent them
    files: list[EventAttachment]
    registered: bool  # registered on the calendar (not recorded by the committee)
    organiser: bool  # the reader is its organiser
    upcoming: bool


def event_page(db, event: CitizenEvent, units, labels: dict[str, str], participant: Participant | None,
               now: datetime, zone: ZoneInfo) -> EventPage:
    registration = registration_of(db, event)
    published = published_conclusions(db, event)
    return EventPage(
        clauses=clause_labels(units, registered_clauses(registration), labels),
        conclusions=published,
        files=attachments_of(db, [published.id])[published.id] if published is not None else [],
        registered=registration is not None,
        organiser=participant is not None and registration is not None and registration.participant_id == participant.id,
        upcoming=is_upcoming(event, now, zone))


def clause_labels(units, guids: list[str], labels: dict[str, str]) -> list[tuple[str, Unit]]:
    """(label, unit) of the clauses still in the text, in the order given."""
    by_guid = {u.guid: u for u in iter_units(units)}
    return [(labels.get(g) or by_guid[g].eid, by_guid[g]) for g in guids if g in by_guid]
