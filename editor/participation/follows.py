"""Following a document or a clause, and the e-mail updates followers get (no Flask request here).

* A signed-in participant follows a whole document (`Follow.unit_guid` "") or one clause of it
  (by GUID: renumbering never moves it), and stops whenever they like: on the page, on their
  account page, or with the one-click link in every message (a signed token; its GET only asks,
  its POST stops it, so a mail scanner that opens links stops nothing).
* What a follower is told: a followed clause's wording changed (an edit, or an adopted amendment,
  in the clause or a clause inside it); a followed document entered a new stage, with the version
  its text was saved as (and any version saved by hand since), linked to the comparison.
* **Gathered, not flooded.** At most one message per follower and document per
  `FOLLOW_DIGEST_MINUTES`. The message is an outbox row (editor.outbox) queued in the same
  transaction as the follower's `notified_at`: the first change after a quiet interval is due at
  once; a change within the interval goes into the message still waiting in the outbox (its text
  is written again with everything so far), or, once that one is sent, into a new one due when the
  interval ends (`next_attempt_at`). The outbox's own deliverer sends it then: nothing else has to
  run on a timer. `notified_at` is when the latest message was (or will be) due.
* Handlers (editor.participation.handlers) call `tell_followers` after TextChanged,
  AmendmentAdopted, StageChanged and VersionSaved (a version saved by hand). A StageChanged without
  a new transition (the stages were only configured) tells nobody: each message remembers which
  transitions and versions it told.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, or_, select, update

from akoma_ntoso import Unit, find_unit, iter_units

from .. import clock
from ..livetext import read_live
from ..models import Document
from ..outbox import OutboxMessage, enqueue_email, valid_email
from ..provenance.links import path_labels
from ..stages.current import stage_name, stages_of
from ..stages.models import StageTransition, Version
from .models import Follow, Participant

#: The outbox event of a follower's update (and what finds the one still waiting).
EVENT = "participation.follow_update"
_SALT = "constituent-unfollow"
#: One process tells followers one change at a time: two handlers (an edit and a stage change)
#: never both start a new message for the same follower.
_LOCK = threading.Lock()


# --- following ---------------------------------------------------------------------------------------


def follow(db, document: Document, participant: Participant, unit: Unit | None = None) -> bool:
    """Follow the document (`unit` None) or a clause of it. False if it was followed already. Commits."""
    guid = unit.guid if unit is not None else ""
    if _find(db, participant.id, document.id, guid) is not None:
        return False
    db.add(Follow(participant_id=participant.id, document_id=document.id, unit_guid=guid, created_at=clock.now()))
    db.commit()
    return True


def unfollow(db, participant_id: int, document_id: int, guid: str) -> bool:
    """Stop following; False if it was not followed. Commits. When the participant follows nothing
    more in the document, the update still waiting in the outbox for them is dropped too."""
    found = _find(db, participant_id, document_id, guid)
    if found is None:
        return False
    db.delete(found)
    db.flush()
    participant, document = db.get(Participant, participant_id), db.get(Document, document_id)
    rest = db.scalar(select(Follow.id).where(Follow.participant_id == participant_id,
                                             Follow.document_id == document_id).limit(1))
    if rest is None and participant is not None and document is not None:
        now = clock.now()
        waiting = [m.id for m in _messages(db, participant, document, unsent_only=True)]
        if waiting:
            db.execute(delete(OutboxMessage).where(
                OutboxMessage.id.in_(waiting), OutboxMessage.sent_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                .execution_options(synchronize_session=False))
    db.commit()
    return True


def _find(db, participant_id: int, document_id: int, guid: str) -> Follow | None:
    return db.scalar(select(Follow).where(Follow.participant_id == participant_id, Follow.document_id == document_id,
                                          Follow.unit_guid == guid))


def following(db, document: Document, participant: Participant | None, guid: str = "") -> bool:
    return participant is not None and _find(db, participant.id, document.id, guid) is not None


@dataclass
class Followed:
    """One thing a participant follows, as their account page lists it."""

    follow: Follow
    document: Document
    label: str  # "" for the whole document
    eid: str  # "" for the whole document, or a clause no longer in the text


def follows_of(services, participant: Participant) -> list[Followed]:
    """What `participant` follows, by document, the document first and its clauses in text order."""
    db = services.db
    rows = list(db.execute(select(Follow, Document).join(Document, Document.id == Follow.document_id)
                           .where(Follow.participant_id == participant.id).order_by(Document.title, Follow.id)))
    found: list[Followed] = []
    texts: dict[str, tuple[dict[str, str], dict[str, str], list[str]]] = {}
    for row, document in rows:
        if row.unit_guid and document.slug not in texts:
            units = read_live(services, document.slug).units
            texts[document.slug] = (path_labels(units), {u.guid: u.eid for u in iter_units(units)},
                                    [u.guid for u in iter_units(units)])
        labels, eids, order = texts.get(document.slug, ({}, {}, []))
        found.append(Followed(row, document, labels.get(row.unit_guid, "") or (_("a clause no longer in the text")
                                                                               if row.unit_guid else ""),
                              eids.get(row.unit_guid, "")))

    def position(item: Followed) -> tuple:
        order = texts.get(item.document.slug, ({}, {}, []))[2]
        place = order.index(item.follow.unit_guid) if item.follow.unit_guid in order else len(order)
        return (item.document.title, item.document.id, bool(item.follow.unit_guid), place)

    return sorted(found, key=position)


# --- the one-click link to stop ------------------------------------------------------------------------


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def stop_token(secret: str, participant_id: int, document_id: int, guid: str) -> str:
    """The token of the link that stops this follow (it names no address; only this site can make it)."""
    return _serializer(secret).dumps([participant_id, document_id, guid])


def read_stop_token(secret: str, token: str) -> tuple[int, int, str] | None:
    """(participant, document, clause GUID or "") of a genuine token, else None."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        value = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, int) for v in value[:2])
            or not isinstance(value[2], str)):
        return None
    return value[0], value[1], value[2]


# --- telling followers ------------------------------------------------------------------------------------


def interval(config) -> timedelta:
    return timedelta(minutes=float(config.get("FOLLOW_DIGEST_MINUTES", 60)))


def _ancestry(units: tuple[Unit, ...]) -> dict[str, list[str]]:
    """Every unit's GUID with the GUIDs of the units it is inside, itself first."""
    found: dict[str, list[str]] = {}

    def walk(level, above: list[str]) -> None:
        for unit in level:
            found[unit.guid] = [unit.guid, *above]
            walk(unit.children, [unit.guid, *above])

    walk(units, [])
    return found


def tell_followers(services, document: Document, *, units: Iterable[str] = (), stage: bool = False,
                   version: bool = False, now: datetime | None = None) -> int:
    """Gather what changed into each follower's message: `units` whose wording changed (followers
    of them or of a clause they are inside), and, with `stage`, the document's stage transitions
    and versions its followers have not been told of (with `version`, a version saved on its own,
    even without a new stage). Commits. Returns how many followers."""
    with _LOCK:
        return _tell(services, document, set(units), stage, now or clock.now(), version)


def _tell(services, document: Document, changed: set[str], stage: bool, now: datetime, version: bool = False) -> int:
    db = services.db
    follows = list(db.scalars(select(Follow).where(Follow.document_id == document.id)))
    if not follows:
        return 0
    news: dict[int, dict[str, set]] = defaultdict(lambda: {"units": set(), "stages": set(), "versions": set()})
    if changed and any(f.unit_guid for f in follows):
        ancestry = _ancestry(read_live(services, document.slug).units)
        touched = {guid for unit in changed for guid in ancestry.get(unit, [unit])}
        for f in follows:
            if f.unit_guid and f.unit_guid in touched:
                news[f.participant_id]["units"].add(f.unit_guid)
    if stage or version:
        whole = [f for f in follows if not f.unit_guid]
        if whole:
            transitions = list(db.scalars(select(StageTransition).where(StageTransition.document_id == document.id)))
            versions = list(db.execute(select(Version.number, Version.created_at).where(
                Version.document_id == document.id)))
            for f in whole:
                since = clock.as_utc(f.created_at)
                told = _told(db, f.participant_id, document)
                fresh_stages = {t.id for t in transitions if clock.as_utc(t.at) > since} - told["stages"]
                fresh_versions = {n for n, at in versions if clock.as_utc(at) > since} - told["versions"]
                if fresh_stages or (version and fresh_versions):
                    news[f.participant_id]["stages"] |= fresh_stages
                    news[f.participant_id]["versions"] |= fresh_versions
    if not news:
        return 0
    told = 0
    for participant_id, items in news.items():
        participant = db.get(Participant, participant_id)
        if participant is None or not participant.verified or not valid_email(participant.email):
            continue
        _gather(services, document, participant, items, [f for f in follows if f.participant_id == participant_id],
                now)
        told += 1
    db.commit()
    return told


def _messages(db, participant: Participant, document: Document, unsent_only: bool = False) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.event == EVENT, OutboxMessage.recipient == participant.email)
    if unsent_only:
        query = query.where(OutboxMessage.sent_at.is_(None))
    return [m for m in db.scalars(query.order_by(OutboxMessage.id.desc()))
            if m.data().get("participant") == participant.id and m.data().get("document") == document.slug]


def _told(db, participant_id: int, document: Document) -> dict[str, set]:
    """The transitions and versions of `document` the participant's messages have told (or will)."""
    participant = db.get(Participant, participant_id)
    told: dict[str, set] = {"stages": set(), "versions": set()}
    if participant is None:
        return told
    for message in _messages(db, participant, document):
        data = message.data()
        told["stages"].update(data.get("stages") or [])
        told["versions"].update(data.get("versions") or [])
    return told


def _gather(services, document: Document, participant: Participant, items: dict[str, set], follows: list[Follow],
            now: datetime) -> None:
    """Into the message still waiting for this follower and document, else a new one, due now or
    when the interval since the last one ends."""
    db = services.db
    for waiting in _messages(db, participant, document, unsent_only=True):
        claimed = clock.as_utc(waiting.claimed_until)
        if claimed is not None and claimed >= now:
            continue  # being sent right now: what is new goes into the next message
        data = waiting.data()
        payload = _payload(participant, document, items, data)
        subject, body = render(services, document, participant, payload)
        result = db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == waiting.id, OutboxMessage.sent_at.is_(None),
                   or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
            .values(subject=subject, body=body, payload=json.dumps(payload, ensure_ascii=False, sort_keys=True))
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            db.expire(waiting)
            return
    last = max((clock.as_utc(f.notified_at) for f in follows if f.notified_at is not None), default=None)
    gap = interval(current_app.config)
    due = now if last is None or last + gap <= now else last + gap
    payload = _payload(participant, document, items, {})
    subject, body = render(services, document, participant, payload)
    message = enqueue_email(db, participant.email, subject, body, payload=payload, event=EVENT)
    message.next_attempt_at = due
    for f in follows:
        f.notified_at = due


def _payload(participant: Participant, document: Document, items: dict[str, set], before: dict) -> dict:
    return {
        "participant": participant.id, "document": document.slug,
        "units": sorted(set(before.get("units") or []) | items["units"]),
        "stages": sorted(set(before.get("stages") or []) | items["stages"]),
        "versions": sorted(set(before.get("versions") or []) | items["versions"]),
    }


# --- the message ---------------------------------------------------------------------------------------------


def _url(endpoint: str, **values) -> str:
    """An address on this site, whole when CONSTITUENT_PUBLIC_URL says what the site's address is
    (handlers run outside any request, so there is no host to take it from)."""
    path = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT") or "/").build(
        endpoint, values)
    return (current_app.config.get("PUBLIC_URL") or "").rstrip("/") + path


def render(services, document: Document, participant: Participant, payload: dict) -> tuple[str, str]:
    """The subject and text of a follower's message, in their language."""
    db = services.db
    secret = current_app.config["SECRET_KEY"]
    units = read_live(services, document.slug).units if payload.get("units") else ()
    labels = path_labels(units) if units else {}
    with force_locale(participant.language if participant.language in ("es", "en") else "es"):
        subject = _("News of “%(document)s”, which you follow", document=document.title[:200])
        paragraphs = [_("Hello %(name)s,", name=participant.display_name or _("participant")),
                      _("This changed in “%(document)s” since we last wrote to you:", document=document.title)]
        for guid in payload.get("units") or []:
            unit = find_unit(units, guid)
            if unit is None:
                paragraphs.append(_("A clause you follow is no longer in the text.") + "\n"
                                  + _("Stop following it: %(link)s", link=_url(
                                      "participation.stop", token=stop_token(secret, participant.id, document.id,
                                                                             guid))))
                continue
            name = labels.get(guid) or unit.label
            if unit.heading:
                name = f"{name} ({unit.heading})"
            paragraphs.append(
                _("The wording of %(clause)s changed.", clause=name) + "\n"
                + _("Read it: %(link)s", link=_url("public.unit", slug=document.slug, eid=unit.eid)) + "\n"
                + _("Stop following it: %(link)s", link=_url(
                    "participation.stop", token=stop_token(secret, participant.id, document.id, guid))))
        stage_ids = payload.get("stages") or []
        if stage_ids or payload.get("versions"):
            names = {s.key: stage_name(s) for s in stages_of(db, document)}
            transitions = list(db.scalars(select(StageTransition).where(StageTransition.id.in_(stage_ids))
                                          .order_by(StageTransition.sequence))) if stage_ids else []
            frozen = [t.version_id for t in transitions if t.version_id is not None]
            version_of = dict(db.execute(select(Version.id, Version.number).where(Version.id.in_(frozen))).all())
            for t in transitions:
                line = _("The document entered the stage “%(stage)s”.", stage=names.get(t.to_key, t.to_key))
                number = version_of.get(t.version_id)
                if number is not None:
                    line += "\n" + _("The text as it stood was saved as version %(number)d. What changed: %(link)s",
                                     number=number, link=_compare(document, number))
                paragraphs.append(line)
            told = {version_of.get(t.version_id) for t in transitions}
            for number in payload.get("versions") or []:
                if number not in told:
                    paragraphs.append(_("Version %(number)d of the text was saved. What changed: %(link)s",
                                        number=number, link=_compare(document, number)))
            paragraphs.append(_("Stop following this document: %(link)s", link=_url(
                "participation.stop", token=stop_token(secret, participant.id, document.id, ""))))
        paragraphs.append(_("We write at most once every %(minutes)d minutes about a document, gathering what changed "
                            "meanwhile. See and stop everything you follow: %(link)s",
                            minutes=round(interval(current_app.config).total_seconds() / 60),
                            link=_url("participation.account")))
    return subject, "\n\n".join(paragraphs) + "\n"


def _compare(document: Document, number: int) -> str:
    if number > 1:
        return _url("stages.compare_page", slug=document.slug, **{"from": str(number - 1), "to": str(number)})
    return _url("stages.compare_page", slug=document.slug, **{"from": str(number), "to": "live"})
