"""Petitioner review: links, the petitioner's scope, reviews, the dashboard and re-review requests.

Rules:
* A link is a random token (192 bits, URL-safe) of which only the SHA-256 is stored. It is shown
  once, to the committee member who issues it, who passes it on to the petitioner. A link is
  active until it is revoked, expires (`REVIEW_LINK_DAYS`, default 60) or a new link is issued
  for the same petition. Anything else (unknown, revoked, expired, or used with another petition's
  id) is answered exactly like an unknown token.
* A link shows the live wording of the units linked to its petition (ProvenanceLink), redlined
  against the petition's proposal and against the wording the petitioner last reviewed.
* Approving or objecting (a comment is required to object) stores the wording reviewed per unit.
  It is accepted while the document is in a consultation-mode stage, and later only while a
  re-review of that petition is pending.
* `notify_changed_units` asks petitioners whose reviewed wording changed to review again: one
  request per review (idempotent), an email in the outbox, in-app notifications for the committee.
  The email cannot contain the link (its token is not kept); it tells the petitioner to use the
  link they were given, whose expiry is extended so that it still works, or that the committee
  will send a new one when it no longer does.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from akoma_ntoso import Unit, ancestors, iter_units
from akoma_ntoso.naming import unit_name

from .. import clock, permissions
from ..livetext import read_live
from ..models import Document, User
from ..notifications.service import notify_all
from ..notifications.texts import N_
from ..outbox import enqueue_email, enqueue_event, valid_email
from ..petitions.models import Petition
from ..petitions.service import committee_members
from ..provenance.models import ProvenanceLink
from ..redline import redline_html, similarity, word_diff
from ..stages.current import current_stage, stage_name
from .models import DECISIONS, PetitionReview, ReviewLink, ReviewRequest

TOKEN_BYTES = 24  # 192 bits of randomness
MAX_COMMENT = 2000
MAX_NAME = 200
MAX_LINK_DAYS = 366
LANGUAGES = ("es", "en")
OUTCOMES = ("approved", "objected", "rereview", "pending")
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


class ReviewError(ValueError):
    """A review request that cannot be carried out, with the reason for the user; nothing changed."""
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _config(services) -> dict:
    """The application's configuration (requests, commands and event handlers all run in an
    application context); the defaults outside one."""
    return current_app.config if has_app_context() else {}


def _link_days(config) -> int:
    try:
        return int(config.get("REVIEW_LINK_DAYS", 60))
    except (TypeError, ValueError):
        return 60


# --- tokens and links ------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_status(link: ReviewLink | None, now: datetime | None = None) -> str:
    """"none", "active", "revoked" or "expired"."""
    if link is None:
        return "none"
    if link.revoked_at is not None:
        return "revoked"
    expires = clock.as_utc(link.expires_at)
    if expires is not None and expires <= (now or clock.now()):
        return "expired"
    return "active"


def latest_link(db, petition_id: int) -> ReviewLink | None:
    return db.scalar(select(ReviewLink).where(ReviewLink.petition_id == petition_id)
                     .order_by(ReviewLink.id.desc()).limit(1))


def petition_guids(db, document: Document, petition_id: int) -> list[str]:
    """The GUIDs of the units linked to the petition, in the order they were linked."""
    rows = db.scalars(select(ProvenanceLink.unit_guid).where(
        ProvenanceLink.document_id == document.id, ProvenanceLink.source_kind == "petition",
        ProvenanceLink.source_id == petition_id).order_by(ProvenanceLink.id))
    return list(dict.fromkeys(rows))


def issue_link(db, document: Document, petition: Petition, user: User | None, name: str, email: str,
               language: str = "es", days: int | None = None, *, config=None,
               now: datetime | None = None) -> tuple[ReviewLink, str]:
    """A new link for the petition (revoking its previous one): the row and the token, which is
    returned this once and never stored. Permission is the caller's to check. Commits."""
    now = now or clock.now()
    name = " ".join((name or "").split())
    email = (email or "").strip()
    if not name:
        raise ReviewError(_("Give the petitioner's name."))
    if len(name) > MAX_NAME:
        raise ReviewError(_("The name is longer than %(n)d characters.", n=MAX_NAME))
    if not valid_email(email):
        raise ReviewError(_("“%(email)s” is not an email address.", email=email[:254]))
    if language not in LANGUAGES:
        raise ReviewError(_("Choose Spanish or English for the messages to the petitioner."))
    if days is None:
        days = _link_days(config or {})
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_LINK_DAYS:
        raise ReviewError(_("The link must work for 1 to %(n)d days.", n=MAX_LINK_DAYS))
    if petition.document_id != document.id:
        raise ReviewError(_("That petition is not about this document."), 404)
    if not petition_guids(db, document, petition.id):
        raise ReviewError(_("This petition is not linked to any clause yet: link it to the clauses that come "
                            "from it first."), 409)
    for previous in db.scalars(select(ReviewLink).where(ReviewLink.petition_id == petition.id,
                                                        ReviewLink.revoked_at.is_(None))):
        previous.revoked_at = now
        previous.revoked_by = user.id if user is not None else None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ReviewLink(document_id=document.id, petition_id=petition.id, token_hash=hash_token(token),
                      petitioner_name=name, petitioner_email=email, language=language,
                      created_by=user.id if user is not None else None, created_at=now,
                      expires_at=now + timedelta(days=days) if days else None)
    db.add(link)
    db.commit()
    return link, token


def revoke_link(db, document: Document, petition: Petition, user: User | None,
                now: datetime | None = None) -> ReviewLink:
    """Revoke the petition's active link (an expired one is revoked too). Commits."""
    link = db.scalar(select(ReviewLink).where(ReviewLink.petition_id == petition.id,
                                              ReviewLink.document_id == document.id,
                                              ReviewLink.revoked_at.is_(None))
                     .order_by(ReviewLink.id.desc()).limit(1))
    if link is None:
        raise ReviewError(_("This petition has no link to revoke."), 409)
    link.revoked_at = now or clock.now()
    link.revoked_by = user.id if user is not None else None
    db.commit()
    return link


def find_link(db, token: str, petition_id: int | None = None, now: datetime | None = None) -> ReviewLink | None:
    """The active link with this token (and for this petition, when given); else None, whatever
    the reason, so that callers answer every failure alike."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        return None
    link = db.scalar(select(ReviewLink).where(ReviewLink.token_hash == hash_token(token)))
    if link is None or link_status(link, now) != "active":
        return None
    if petition_id is not None and link.petition_id != petition_id:
        return None
    return link


def record_opening(db, link: ReviewLink, now: datetime | None = None) -> None:
    link.last_opened_at = now or clock.now()
    link.opened_count = (link.opened_count or 0) + 1
    db.commit()


# --- the petitioner's scope ------------------------------------------------------------------------


def wording(unit: Unit) -> str:
    """A unit's words without its numbers (heading, text, then its sub-units'): what is compared."""
    parts = [unit.heading, unit.text]
    parts += [wording(child) for child in unit.children]
    return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Line:
    """One unit of a clause as shown: its depth below the clause, label, heading and text."""
    depth: int
    label: str
    heading: str
    text: str


def _lines(unit: Unit, depth: int = 0) -> list[Line]:
    out = [Line(depth, unit.label, unit.heading, unit.text)]
    for child in unit.children:
        out += _lines(child, depth + 1)
    return out


@dataclass
class ScopeUnit:
    guid: str
    name: str  # as drafters cite it: "Artículo 1, apartado A, numeral 1"
    unit: Unit | None  # None: it is no longer in the text
    article: Unit | None  # the enclosing article, when the unit is inside one
    lines: list[Line]
    wording: str
    covers: list[str]  # its GUID and its sub-units'
    proposal_diff: Markup | None = None
    proposal_kept: float | None = None
    reviewed: dict | None = None  # the entry of the latest review's snapshot
    reviewed_diff: Markup | None = None
    changed: bool = False  # differs from what was last reviewed


@dataclass
class Scope:
    document: Document
    petition: Petition
    units: list[ScopeUnit]
    fingerprint: str  # of the wording shown: a review is refused if it changed meanwhile
    latest: PetitionReview | None
    request: ReviewRequest | None  # a pending re-review
    open: bool  # whether a review is accepted now
    reason: str  # why not, for the petitioner ("" when open)
    stage: str  # the stage's display name
    groups: list[tuple[Unit | None, list[ScopeUnit]]] = field(default_factory=list)

    @property
    def any_changed(self) -> bool:
        return any(u.changed for u in self.units)


def _fingerprint(units: Sequence[ScopeUnit]) -> str:
    data = json.dumps([[u.guid, u.wording] for u in units], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def latest_review(db, petition_id: int) -> PetitionReview | None:
    return db.scalar(select(PetitionReview).where(PetitionReview.petition_id == petition_id)
                     .order_by(PetitionReview.id.desc()).limit(1))


def pending_request(db, latest: PetitionReview | None) -> ReviewRequest | None:
    if latest is None:
        return None
    return db.scalar(select(ReviewRequest).where(ReviewRequest.review_id == latest.id))


def snapshot_of(review: PetitionReview) -> dict[str, dict]:
    try:
        data = json.loads(review.snapshot)
    except ValueError:
        return {}
    return {entry["guid"]: entry for entry in data.get("units", []) if isinstance(entry, dict) and "guid" in entry}


def _language(document: Document) -> str:
    return "eng" if document.language == "eng" else "spa"


def review_scope(services, document: Document, petition: Petition, units: Sequence[Unit] | None = None) -> Scope:
    """What the petitioner's page shows, and whether a review is accepted now."""
    db = services.db
    units = tuple(units) if units is not None else read_live(services, document.slug).units
    by_guid = {u.guid: u for u in iter_units(units)}
    latest = latest_review(db, petition.id)
    reviewed = snapshot_of(latest) if latest is not None else {}
    request = pending_request(db, latest)
    proposal = (petition.proposal or "").strip()
    stored = {row.unit_guid: row for row in db.scalars(select(ProvenanceLink).where(
        ProvenanceLink.document_id == document.id, ProvenanceLink.source_kind == "petition",
        ProvenanceLink.source_id == petition.id))}
    language = _language(document)
    items: list[ScopeUnit] = []
    for guid in petition_guids(db, document, petition.id):
        unit = by_guid.get(guid)
        if unit is None:
            before = reviewed.get(guid)
            name = (before or {}).get("name") or stored[guid].unit_eid or guid
            item = ScopeUnit(guid=guid, name=name, unit=None, article=None, lines=[], wording="", covers=[guid])
        else:
            chain = ancestors(units, guid) or ()
            article = next((u for u in reversed(chain) if u.kind == "article"), None)
            item = ScopeUnit(guid=guid, name=unit_name(units, unit, language), unit=unit, article=article,
                             lines=_lines(unit), wording=wording(unit),
                             covers=[u.guid for u in iter_units([unit]) if u.guid])
            if proposal:
                changes = word_diff(proposal, item.wording)
                item.proposal_diff, item.proposal_kept = redline_html(changes), similarity(changes)
        before = reviewed.get(guid)
        if before is not None:
            item.reviewed = before
            item.changed = before.get("wording", "") != item.wording
            if item.changed:
                item.reviewed_diff = redline_html(word_diff(before.get("wording", ""), item.wording))
        items.append(item)
    # Units reviewed earlier but no longer linked are not the petitioner's any more: not shown.
    stage = current_stage(db, document)
    is_open = permissions.petitioner_can_review(document, rereview_pending=request is not None)
    reason = ""
    if not items:
        is_open = False
        reason = _("No clause of the text is linked to your petition at the moment, so there is nothing to review.")
    elif not is_open:
        reason = _("The petitioner consultation has ended (the text is now in the stage “%(stage)s”). You can still "
                   "read the wording here; if it changes in a way that affects your petition, you will be asked "
                   "to review it again.", stage=stage_name(stage))
    scope = Scope(document=document, petition=petition, units=items, fingerprint=_fingerprint(items),
                  latest=latest, request=request, open=is_open, reason=reason, stage=stage_name(stage))
    for item in items:
        key = item.article.guid if item.article is not None else None
        if scope.groups and key is not None and scope.groups[-1][0] is not None and scope.groups[-1][0].guid == key:
            scope.groups[-1][1].append(item)
        else:
            scope.groups.append((item.article, [item]))
    return scope


def submit_review(services, document: Document, link: ReviewLink, decision: str, comment: str, seen: str,
                  *, publish_comment: bool = False, now: datetime | None = None) -> PetitionReview:
    """Record the petitioner's approval or objection of the wording they saw (`seen`: the scope's
    fingerprint). `publish_comment`: the petitioner lets the public read their comment on the
    petition's page (kept only when there is a comment). Commits; raises ReviewError with nothing
    changed."""
    db = services.db
    now = now or clock.now()
    if decision not in DECISIONS:
        raise ReviewError(_("Choose whether you approve the wording or object to it."))
    comment = (comment or "").replace("\r\n", "\n").strip()
    if len(comment) > MAX_COMMENT:
        raise ReviewError(_("Your comment is %(length)d characters long; the limit is %(limit)d.",
                            length=len(comment), limit=MAX_COMMENT))
    if decision == "object" and not comment:
        raise ReviewError(_("Say why you object: a comment is required with an objection."))
    petition = db.get(Petition, link.petition_id)
    scope = review_scope(services, document, petition)
    if not scope.open:
        raise ReviewError(scope.reason, 409)
    if not seen or seen != scope.fingerprint:
        raise ReviewError(_("The wording changed while you were reading it. Read it again below, then send "
                            "your review."), 409)
    snapshot = {"units": [{"guid": u.guid, "name": u.name, "heading": u.unit.heading if u.unit else "",
                           "text": u.unit.text if u.unit else "", "wording": u.wording, "covers": u.covers}
                          for u in scope.units]}
    stage = current_stage(db, document)
    review = PetitionReview(document_id=document.id, petition_id=petition.id, link_id=link.id, decision=decision,
                            comment=comment, snapshot=json.dumps(snapshot, ensure_ascii=False),
                            stage_key=stage.key, created_at=now,
                            publish_comment=bool(publish_comment) and bool(comment))
    db.add(review)
    db.flush()
    config = _config(services)
    enqueue_event(db, config, "review.submitted", {
        "document": document.slug, "petition": {"id": petition.id, "title": petition.title},
        "decision": decision, "comment": comment, "publish_comment": review.publish_comment,
        "units": [u.guid for u in scope.units], "review": review.id, "at": now.isoformat()})
    if decision == "object":
        _notify_committee(db, document, _objection_message(document, petition, link, comment),
                          dashboard_path(document, petition.id))
    db.commit()
    return review


# --- the committee's dashboard ---------------------------------------------------------------------


def dashboard_path(document: Document, petition_id: int | None = None) -> str:
    path = f"/d/{document.slug}/reviews"
    return f"{path}#petition-{petition_id}" if petition_id is not None else path


@dataclass
class DashboardRow:
    petition: Petition
    unit_names: list[str]
    link: ReviewLink | None
    link_status: str  # none, active, revoked, expired
    review: PetitionReview | None
    request: ReviewRequest | None
    outcome: str  # approved, objected, rereview, pending
    at: datetime | None  # when the outcome was reached
    reviews: int  # reviews so far


@dataclass
class Dashboard:
    rows: list[DashboardRow]
    counts: dict[str, int]
    stage: str
    consultation: bool

    @property
    def total(self) -> int:
        return len(self.rows)


def dashboard(services, document: Document, units: Sequence[Unit] | None = None,
              now: datetime | None = None) -> Dashboard:
    """Every petition linked to clauses of the document, with its link and its latest outcome."""
    db = services.db
    now = now or clock.now()
    units = tuple(units) if units is not None else read_live(services, document.slug).units
    by_guid = {u.guid: u for u in iter_units(units)}
    language = _language(document)
    links_by_petition: dict[int, list[ProvenanceLink]] = {}
    for row in db.scalars(select(ProvenanceLink).where(ProvenanceLink.document_id == document.id,
                                                       ProvenanceLink.source_kind == "petition")
                          .order_by(ProvenanceLink.id)):
        links_by_petition.setdefault(row.source_id, []).append(row)
    petitions = list(db.scalars(select(Petition).where(Petition.id.in_(list(links_by_petition)))
                                .order_by(Petition.title, Petition.id))) if links_by_petition else []
    counts_of = dict(db.execute(select(PetitionReview.petition_id, func.count()).where(
        PetitionReview.document_id == document.id).group_by(PetitionReview.petition_id)).all())
    # The latest link, latest review and its pending request of every petition, in three queries.
    links = {link.petition_id: link for link in db.scalars(select(ReviewLink).where(ReviewLink.id.in_(
        select(func.max(ReviewLink.id)).where(ReviewLink.document_id == document.id)
        .group_by(ReviewLink.petition_id))))}
    reviews = {review.petition_id: review for review in db.scalars(select(PetitionReview).where(
        PetitionReview.id.in_(select(func.max(PetitionReview.id)).where(PetitionReview.document_id == document.id)
                              .group_by(PetitionReview.petition_id))))}
    requests = {request.review_id: request for request in db.scalars(select(ReviewRequest).where(
        ReviewRequest.review_id.in_([r.id for r in reviews.values()])))} if reviews else {}
    rows = []
    for petition in petitions:
        names = []
        for link_row in links_by_petition[petition.id]:
            unit = by_guid.get(link_row.unit_guid)
            names.append(unit_name(units, unit, language) if unit is not None
                         else _("%(eid)s (removed)", eid=link_row.unit_eid or link_row.unit_guid))
        link = links.get(petition.id)
        review = reviews.get(petition.id)
        request = requests.get(review.id) if review is not None else None
        if request is not None:
            outcome, at = "rereview", request.created_at
        elif review is not None:
            outcome, at = ("approved" if review.decision == "approve" else "objected"), review.created_at
        else:
            outcome, at = "pending", None
        rows.append(DashboardRow(petition=petition, unit_names=list(dict.fromkeys(names)), link=link,
                                 link_status=link_status(link, now), review=review, request=request,
                                 outcome=outcome, at=clock.as_utc(at), reviews=counts_of.get(petition.id, 0)))
    counts = {outcome: sum(1 for r in rows if r.outcome == outcome) for outcome in OUTCOMES}
    stage = current_stage(db, document)
    return Dashboard(rows=rows, counts=counts, stage=stage_name(stage), consultation=stage.mode == "consultation")


# --- re-review ---------------------------------------------------------------------------------------


def notify_changed_units(services, document: Document, guids: Iterable[str], *,
                         units: Sequence[Unit] | None = None, now: datetime | None = None,
                         commit: bool = True) -> int:
    """Ask petitioners to review again when the wording they reviewed changed.

    For each petition whose latest review covers any of `guids` (a unit or a sub-unit of one it
    reviewed), and where the live wording of a reviewed unit now differs from what was reviewed:
    unless a re-review is already pending since that review, record a re-review request, queue
    an email to the petitioner (and a webhook, when configured) and notify the committee in the
    application. Idempotent. Returns how many petitions were asked.

    `units`: the live unit tree when the caller has it. With `commit=False` the rows are only
    added to the session (the caller commits them with its own change).
    """
    db = services.db
    wanted = {str(g) for g in guids if g}
    if not wanted:
        return 0
    latest_ids = select(func.max(PetitionReview.id)).where(
        PetitionReview.document_id == document.id).group_by(PetitionReview.petition_id)
    reviews = list(db.scalars(select(PetitionReview).where(PetitionReview.id.in_(latest_ids))
                              .order_by(PetitionReview.id)))
    asked_already = set(db.scalars(select(ReviewRequest.review_id).where(
        ReviewRequest.review_id.in_([r.id for r in reviews])))) if reviews else set()
    candidates = []
    for review in reviews:
        if review.id in asked_already:
            continue
        snapshot = snapshot_of(review)
        covered = {g for entry in snapshot.values() for g in (entry.get("covers") or [entry["guid"]])}
        if covered & wanted:
            candidates.append((review, snapshot))
    if not candidates:
        return 0
    now = now or clock.now()
    units = tuple(units) if units is not None else read_live(services, document.slug).units
    by_guid = {u.guid: u for u in iter_units(units)}
    config = _config(services)
    asked = 0
    for review, snapshot in candidates:
        changed = [guid for guid, entry in snapshot.items()
                   if (wording(by_guid[guid]) if guid in by_guid else None) != entry.get("wording", "")]
        if not changed:
            continue
        petition = db.get(Petition, review.petition_id)
        db.add(ReviewRequest(document_id=document.id, petition_id=petition.id, review_id=review.id,
                             guids=json.dumps(changed), created_at=now))
        try:
            db.flush()
        except IntegrityError:
            # Asked at the same moment by another worker: that request stands.
            if not commit:
                raise
            db.rollback()
            return asked + notify_changed_units(services, document, wanted, units=units, now=now)
        names = [snapshot[g].get("name") or g for g in changed]
        _ask_petitioner(db, config, document, petition, review, names, now)
        _notify_committee(db, document, _rereview_message(db, document, petition, names),
                          dashboard_path(document, petition.id))
        enqueue_event(db, config, "review.rereview_requested", {
            "document": document.slug, "petition": {"id": petition.id, "title": petition.title},
            "review": review.id, "changed_units": changed, "at": now.isoformat()})
        asked += 1
    if commit:
        db.commit()
    return asked


def check_changes(services, document: Document, now: datetime | None = None) -> int:
    """Compare every latest review with the live text and ask where the wording changed."""
    db = services.db
    latest_ids = select(func.max(PetitionReview.id)).where(
        PetitionReview.document_id == document.id).group_by(PetitionReview.petition_id)
    guids: set[str] = set()
    for review in db.scalars(select(PetitionReview).where(PetitionReview.id.in_(latest_ids))):
        guids.update(snapshot_of(review))
    return notify_changed_units(services, document, guids, now=now)


def _objection_message(document: Document, petition: Petition, link: ReviewLink, comment: str) -> tuple[str, dict]:
    """The committee's notification of an objection: a catalogue key and its arguments (rendered
    in each reader's language when read, editor.notifications.texts)."""
    return (N_("“%(title)s”: %(name)s objected to the wording: %(comment)s"),
            {"title": petition.title, "name": link.petitioner_name, "comment": _shorten(comment, 300)})


def _rereview_message(db, document: Document, petition: Petition, names: list[str]) -> tuple[str, dict]:
    link = latest_link(db, petition.id)
    who = link.petitioner_name if link is not None else (petition.petitioners or petition.title)
    return (N_("“%(title)s”: the wording %(name)s reviewed has changed (%(units)s); they were asked to review it "
               "again."), {"title": petition.title, "name": who, "units": "; ".join(names)})


def _ask_petitioner(db, config, document: Document, petition: Petition, review: PetitionReview,
                    names: list[str], now: datetime) -> None:
    link = latest_link(db, petition.id)
    if link is None:
        return
    status = link_status(link, now)
    days = _link_days(config)
    if status == "active" and link.expires_at is not None and days:
        # The petitioner is told to use the link they have: make sure it still works for a while.
        link.expires_at = max(clock.as_utc(link.expires_at), now + timedelta(days=days))
    _ = _translator(link.language)
    reviewed_at = _format_date(clock.as_utc(review.created_at), link.language)
    subject = _("Please review again: the wording from your petition “%(title)s” has changed",
                title=_shorten(petition.title, 150))
    paragraphs = [
        _("Hello %(name)s,", name=link.petitioner_name),
        _("On %(date)s you reviewed the wording of %(document)s that comes from your petition “%(title)s”. "
          "Since then the wording of %(units)s has changed.", date=reviewed_at, document=document.title,
          title=petition.title, units="; ".join(names)),
    ]
    if status == "active":
        if link.expires_at is not None:
            paragraphs.append(_("Please open the private review link the drafting committee gave you, read the new "
                                "wording and tell us again whether you approve it. The link works until %(date)s.",
                                date=_format_date(clock.as_utc(link.expires_at), link.language)))
        else:
            paragraphs.append(_("Please open the private review link the drafting committee gave you, read the new "
                                "wording and tell us again whether you approve it."))
        base = (config.get("PUBLIC_URL") or "").rstrip("/")
        if base:
            paragraphs.append(_("It is the address that begins with %(prefix)s", prefix=f"{base}/review/"))
        paragraphs.append(_("For your security this message does not repeat the link: we keep only a fingerprint "
                            "of it, so nobody can read it from our records. If you no longer have it, ask the "
                            "drafting committee for a new one."))
    else:
        paragraphs.append(_("Your previous link no longer works; the drafting committee will send you a new "
                            "private link to review it."))
    paragraphs.append(_("The drafting committee"))
    body = "\n\n".join(paragraphs) + "\n"
    enqueue_email(db, link.petitioner_email, subject, body, event="review.rereview_requested", payload={
        "document": document.slug, "petition": petition.id, "review": review.id, "link": link.id})


def _notify_committee(db, document: Document, message: tuple[str, dict], url: str) -> None:
    """Every committee member and administrator, as each chose (editor.notifications: kind "review")."""
    key, args = message
    notify_all(db, committee_members(db), document, "review", key, args, url)


# --- messages in a given language, with or without a request ----------------------------------------


_CATALOGS: dict[str, object] = {}


def _translator(locale: str):
    """gettext for `locale` that works outside requests (room workers), with %(name)s arguments."""
    from babel.support import NullTranslations, Translations

    catalog = _CATALOGS.get(locale)
    if catalog is None:
        catalog = Translations.load(str(TRANSLATIONS), [locale], domain="messages")
        if not isinstance(catalog, Translations):
            catalog = NullTranslations()
        _CATALOGS[locale] = catalog

    def translate(message: str, **values) -> str:
        text = catalog.gettext(message)
        return text % values if values else text

    return translate


def _format_date(moment: datetime | None, locale: str) -> str:
    if moment is None:
        return ""
    from babel.dates import format_date

    return format_date(moment.date(), "long", locale="es_MX" if locale == "es" else "en")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
