"""The public's comments, support and reports, and their moderation (no Flask request here).

Rules:
* A participant comments only with a verified e-mail (and, where the document asks for it, once a
  moderator approved them), only while the document's current stage takes public comments
  (`comments_open`), on a clause of the live text, optionally quoting words that are in it.
  Replies are one level deep, to published comments.
* What a new comment becomes: under post-moderation it is published at once, unless the spam
  heuristics hold it (more than MAX_LINKS links; the same text again from its author, or from
  several people within a day) or its author still needs a moderator's approval; under
  pre-moderation it always waits. A waiting comment is seen by its author ("waiting for
  moderation") and by moderators, nobody else.
* Support: one per participant and clause or comment; given again, it is withdrawn.
* Anyone may report a published comment, once (a participant, or an address); reports wait for a
  moderator, who hides the comment with a public reason (its author is told by e-mail) or keeps it
  (the reports are dismissed). A hidden comment shows its reason in its place and may be restored.
* Nothing here changes the live text: the text is only read, to find clauses and quotes.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from akoma_ntoso import Unit, find_unit, iter_units

from .. import clock
from ..comments.anchors import quote_in
from ..models import Document
from ..outbox import enqueue_email, valid_email
from ..stages.current import current_stage, stage_name, stages_of, stored_stages
from ..stages.models import Stage
from .models import (
    LEVELS,
    MAX_BODY,
    MAX_QUOTE,
    MAX_REASON,
    MODERATION,
    Participant,
    ParticipationSetting,
    PublicComment,
    PublicCommentReport,
    PublicSupport,
)
from .signin import ParticipationError

#: More links than this in a comment send it to the moderators whatever the document's moderation.
MAX_LINKS = 2
#: The same text from this many other participants within REPEAT_WINDOW looks like a campaign.
REPEAT_OTHERS = 2
REPEAT_WINDOW = timedelta(days=1)
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
ACTIONS = ("approve", "trust", "hide", "restore")


# --- the document's rules ------------------------------------------------------------------------


def settings_of(db, document: Document) -> ParticipationSetting:
    """The document's settings (the defaults, unsaved, when its administrator chose none)."""
    found = db.get(ParticipationSetting, document.id)
    return found or ParticipationSetting(document_id=document.id, moderation="pre", comment_level="email",
                                         event_level="email")


def stage_takes_comments(stage: Stage) -> bool:
    """A stage takes public comments when its administrator said so, else when it is a consultation."""
    return stage.public_comments if stage.public_comments is not None else stage.mode == "consultation"


def comments_open(db, document: Document) -> tuple[bool, Stage]:
    stage = current_stage(db, document)
    return stage_takes_comments(stage), stage


def closed_message(stage: Stage) -> str:
    return _("Public comments are closed in the current stage, “%(stage)s”. They open during the public "
             "consultation; until then you can read the text and follow it live.", stage=stage_name(stage))


def save_settings(db, document: Document, user, moderation: str, level: str,
                  stage_choices: dict[str, bool | None], event_level: str | None = None) -> None:
    """Store the administrator's choices: moderation, who may comment, per stage key whether it
    takes comments (None: as its mode says) and who may register events (None: unchanged). Commits."""
    if moderation not in MODERATION:
        raise ParticipationError("invalid", _("Choose pre-moderation or post-moderation."))
    if level not in LEVELS:
        raise ParticipationError("invalid", _("Choose who may comment."))
    if event_level is not None and event_level not in LEVELS:
        raise ParticipationError("invalid", _("Choose who may register events."))
    setting = db.get(ParticipationSetting, document.id)
    if setting is None:
        setting = ParticipationSetting(document_id=document.id, event_level="email")
        db.add(setting)
    setting.moderation, setting.comment_level = moderation, level
    if event_level is not None:
        setting.event_level = event_level
    setting.updated_at, setting.updated_by_id = clock.now(), getattr(user, "id", None)
    stages = {s.key: s for s in stages_of(db, document)}
    if set(stage_choices) - set(stages):
        raise ParticipationError("invalid", _("There is no such stage in this document."))
    if any(stages[key].public_comments != choice for key, choice in stage_choices.items()):
        stored = {s.key: s for s in stored_stages(db, document)}
        for key, choice in stage_choices.items():
            stored[key].public_comments = choice
    db.commit()


# --- writing -------------------------------------------------------------------------------------


def _text(value, limit: int, empty: str, too_long: str) -> str:
    if not isinstance(value, str):
        raise ParticipationError("invalid", empty)
    value = value.replace("\r\n", "\n").strip()
    if not value:
        raise ParticipationError("invalid", empty)
    if len(value) > limit:
        raise ParticipationError("invalid", too_long % {"limit": limit, "length": len(value)})
    if any(ord(c) < 32 and c not in "\n\t" for c in value) or "\x7f" in value:
        raise ParticipationError("invalid", _("The text contains control characters."))
    return value


def digest(body: str) -> str:
    """The text as the spam heuristics compare it: case and spacing folded."""
    return hashlib.sha256(" ".join(body.lower().split()).encode("utf-8")).hexdigest()


def _held_for(db, document: Document, participant: Participant, body: str, setting: ParticipationSetting,
              now: datetime) -> str:
    """Why a new comment must wait for a moderator ("" when it may show at once)."""
    if len(_LINK.findall(body)) > MAX_LINKS:
        return "links"
    same = digest(body)
    again = db.scalar(select(func.count()).where(
        PublicComment.document_id == document.id, PublicComment.digest == same,
        PublicComment.participant_id == participant.id))
    others = db.scalar(select(func.count(func.distinct(PublicComment.participant_id))).where(
        PublicComment.document_id == document.id, PublicComment.digest == same,
        PublicComment.participant_id != participant.id, PublicComment.created_at >= now - REPEAT_WINDOW))
    if again or others >= REPEAT_OTHERS:
        return "repeated"
    if setting.comment_level == "approved" and not participant.approved:
        return "approval"
    if setting.moderation == "pre":
        return "pre-moderation"
    return ""


def may_comment(participant: Participant | None) -> Participant:
    """The participant, if they may take part at all (a verified e-mail address)."""
    if participant is None or not participant.verified:
        raise ParticipationError("unauthenticated", _("Sign in with your e-mail address to comment."))
    return participant


def post_comment(db, document: Document, units: tuple[Unit, ...], participant: Participant | None, key: str,
                 body, quote=None, parent_id: int | None = None, now: datetime | None = None) -> PublicComment:
    """A participant's new comment on the clause `key` (eId or GUID), or reply to `parent_id`.
    Commits. Raises ParticipationError with the reason (nothing stored)."""
    author = may_comment(participant)
    is_open, stage = comments_open(db, document)
    if not is_open:
        raise ParticipationError("conflict", closed_message(stage))
    now = now or clock.now()
    if parent_id is not None:
        parent = db.get(PublicComment, parent_id)
        if parent is None or parent.document_id != document.id:
            raise ParticipationError("not-found", _("There is no comment %(id)s in this document.", id=parent_id))
        if parent.parent_id is not None:
            raise ParticipationError("invalid", _("Reply to the comment itself, not to a reply."))
        if parent.state != "published":
            raise ParticipationError("conflict", _("Only published comments take replies."))
        guid, quote = parent.unit_guid, None
        body = _text(body, MAX_BODY, _("Write your reply."), _("The reply is longer than %(limit)d characters "
                                                               "(it has %(length)d)."))
    else:
        unit = find_unit(units, key) if isinstance(key, str) else None
        if unit is None:
            raise ParticipationError("not-found", _("There is no clause %(key)s in the text.", key=str(key)[:80]))
        guid = unit.guid
        body = _text(body, MAX_BODY, _("Write your comment."), _("The comment is longer than %(limit)d characters "
                                                                 "(it has %(length)d)."))
        quote = quote.strip() if isinstance(quote, str) else ""
        if not quote:
            quote = None
        else:
            quote = _text(quote, MAX_QUOTE, "", _("The quotation is longer than %(limit)d characters: quote fewer "
                                                  "words."))
            if not quote_in(quote, unit):
                raise ParticipationError("invalid", _("The quoted words are not in this clause; copy them from its "
                                                      "text."))
    setting = settings_of(db, document)
    held = _held_for(db, document, author, body, setting, now)
    comment = PublicComment(
        document_id=document.id, unit_guid=guid, parent_id=parent_id, participant_id=author.id, body=body,
        quote=quote, state="pending" if held else "published", held_for=held, digest=digest(body),
        stage_key=stage.key, created_at=now, published_at=None if held else now)
    db.add(comment)
    db.commit()
    return comment


def _visible(comment: PublicComment) -> bool:
    return comment.state in ("published", "hidden")


def toggle_support(db, document: Document, participant: Participant | None, *, unit: Unit | None = None,
                   comment: PublicComment | None = None) -> bool:
    """Support a clause or a published comment, or withdraw the support given before. Returns
    whether the participant supports it now. Commits."""
    supporter = may_comment(participant)
    is_open, stage = comments_open(db, document)
    if not is_open:
        raise ParticipationError("conflict", closed_message(stage))
    if comment is not None:
        if comment.document_id != document.id or comment.state != "published":
            raise ParticipationError("conflict", _("Only published comments can be supported."))
        target, guid, comment_id = f"comment:{comment.id}", comment.unit_guid, comment.id
    elif unit is not None:
        target, guid, comment_id = f"unit:{unit.guid}", unit.guid, None
    else:
        raise ParticipationError("invalid", _("Say which clause or comment you support."))
    found = db.scalar(select(PublicSupport).where(
        PublicSupport.document_id == document.id, PublicSupport.participant_id == supporter.id,
        PublicSupport.target == target))
    if found is not None:
        db.delete(found)
        db.commit()
        return False
    db.add(PublicSupport(document_id=document.id, participant_id=supporter.id, unit_guid=guid,
                         comment_id=comment_id, target=target))
    db.commit()
    return True


def report_comment(db, document: Document, comment: PublicComment, reason, participant: Participant | None,
                   reporter: str) -> bool:
    """Report a published comment with a reason; False when this reporter had reported it already. Commits."""
    if comment.document_id != document.id or comment.state != "published":
        raise ParticipationError("conflict", _("Only published comments can be reported."))
    reason = _text(reason, MAX_REASON, _("Say briefly what is wrong with the comment."),
                   _("The reason is longer than %(limit)d characters."))
    exists = db.scalar(select(PublicCommentReport.id).where(
        PublicCommentReport.comment_id == comment.id, PublicCommentReport.reporter == reporter))
    if exists is not None:
        return False
    db.add(PublicCommentReport(document_id=document.id, comment_id=comment.id, reporter=reporter, reason=reason,
                               participant_id=participant.id if participant is not None else None))
    db.commit()
    return True


# --- moderation ------------------------------------------------------------------------------------


def open_reports(db, comment_ids) -> dict[int, list[PublicCommentReport]]:
    found: dict[int, list[PublicCommentReport]] = defaultdict(list)
    ids = list(comment_ids)
    if ids:
        for report in db.scalars(select(PublicCommentReport).where(
                PublicCommentReport.comment_id.in_(ids), PublicCommentReport.resolved_at.is_(None))
                .order_by(PublicCommentReport.created_at, PublicCommentReport.id)):
            found[report.comment_id].append(report)
    return found


def _resolve_reports(db, comment: PublicComment, user, outcome: str, now: datetime) -> int:
    reports = open_reports(db, [comment.id]).get(comment.id, [])
    for report in reports:
        report.resolved_at, report.resolved_by_id, report.outcome = now, getattr(user, "id", None), outcome
    return len(reports)


def moderate(db, document: Document, comment: PublicComment, user, action: str, reason: str = "", *,
             clause: str = "", link: str = "", now: datetime | None = None) -> dict:
    """A moderator's decision on a comment: `approve` (publish it, or keep it and dismiss its
    reports), `trust` (approve it and its author, whose next comments need no approval where the
    document asks for one), `hide` (with a public reason; its author is e-mailed, `clause` and
    `link` say where) or `restore` (publish a hidden comment again). Commits. Returns what the
    audit log records of it."""
    if comment.document_id != document.id:
        raise ParticipationError("not-found", _("There is no comment %(id)s in this document.", id=comment.id))
    if action not in ACTIONS:
        raise ParticipationError("invalid", _("Unknown moderation action %(action)r.", action=action))
    now = now or clock.now()
    before = comment.state
    detail: dict = {"from": before}
    if action in ("approve", "trust"):
        if before == "hidden":
            raise ParticipationError("conflict", _("This comment is hidden: restore it instead."))
        detail["reports_dismissed"] = _resolve_reports(db, comment, user, "dismissed", now)
        comment.state = "published"
        if comment.published_at is None:
            comment.published_at = now
        if action == "trust" and comment.participant_id is not None:
            author = db.get(Participant, comment.participant_id)
            if author is not None and author.approved_at is None:
                author.approved_at, author.approved_by_id = now, getattr(user, "id", None)
                detail["participant_approved"] = author.id
    elif action == "hide":
        reason = _text(reason, MAX_REASON, _("Give the public reason for hiding the comment."),
                       _("The reason is longer than %(limit)d characters."))
        if before == "hidden":
            raise ParticipationError("conflict", _("This comment is already hidden."))
        detail["reports_upheld"] = _resolve_reports(db, comment, user, "hidden", now)
        comment.state, comment.hidden_reason = "hidden", reason
        detail["reason"] = reason
        _tell_author(db, document, comment, clause, link)
    else:  # restore
        if before != "hidden":
            raise ParticipationError("conflict", _("Only a hidden comment is restored."))
        comment.state, comment.hidden_reason = "published", ""
        if comment.published_at is None:
            comment.published_at = now
    comment.moderated_at, comment.moderated_by_id = now, getattr(user, "id", None)
    db.commit()
    detail["to"] = comment.state
    return detail


def _tell_author(db, document: Document, comment: PublicComment, clause: str, link: str) -> None:
    """The e-mail to the author of a hidden comment, in their language, queued with the change."""
    author = db.get(Participant, comment.participant_id) if comment.participant_id is not None else None
    if author is None or not valid_email(author.email):
        return
    with force_locale(author.language or "es"):
        subject = _("Your comment on %(document)s was hidden by moderation", document=document.title[:200])
        quoted = "\n".join("> " + line for line in comment.body.splitlines())
        paragraphs = [
            _("Hello %(name)s,", name=author.display_name or author.email),
            _("A moderator of %(document)s hid your comment on %(clause)s. This reason is shown publicly in its "
              "place:", document=document.title, clause=clause or _("a clause")),
            comment.hidden_reason,
            _("Your comment:"),
            quoted,
        ]
        if link:
            paragraphs += [_("Where it was:"), link]
        paragraphs.append(_("If you think this is a mistake, you may write a new comment that keeps to the rules."))
    enqueue_email(db, author.email, subject, "\n\n".join(paragraphs) + "\n", event="participation.comment_hidden",
                  payload={"document": document.slug, "comment": comment.id})


# --- reading -----------------------------------------------------------------------------------------


@dataclass
class Entry:
    """A comment as a page shows it: who wrote it, its support, what the viewer may do."""

    comment: PublicComment
    author: str
    supports: int = 0
    supported: bool = False
    mine: bool = False
    unit_label: str = ""
    unit_eid: str = ""
    reports: list[PublicCommentReport] = field(default_factory=list)
    author_approved: bool = False
    replies: list[Entry] = field(default_factory=list)


def support_counts(db, document: Document, targets) -> dict[str, int]:
    targets = list(targets)
    if not targets:
        return {}
    return dict(db.execute(select(PublicSupport.target, func.count()).where(
        PublicSupport.document_id == document.id, PublicSupport.target.in_(targets))
        .group_by(PublicSupport.target)).all())


def supported_by(db, document: Document, participant: Participant | None, targets) -> set[str]:
    targets = list(targets)
    if participant is None or not targets:
        return set()
    return set(db.scalars(select(PublicSupport.target).where(
        PublicSupport.document_id == document.id, PublicSupport.participant_id == participant.id,
        PublicSupport.target.in_(targets))))


def _entries(db, document: Document, comments: list[PublicComment], viewer: Participant | None,
             labels: dict[str, str], eids: dict[str, str], with_reports: bool = False) -> list[Entry]:
    """Entries of top-level `comments` with their replies (those the same rule lets through)."""
    ids = [c.id for c in comments]
    replies: dict[int, list[PublicComment]] = defaultdict(list)
    if ids:
        for reply in db.scalars(select(PublicComment).where(PublicComment.parent_id.in_(ids))
                                .order_by(PublicComment.created_at, PublicComment.id)):
            replies[reply.parent_id].append(reply)
    everything = comments + [r for rs in replies.values() for r in rs]
    authors = {c.participant_id for c in everything if c.participant_id is not None}
    people = {p.id: p for p in db.scalars(select(Participant).where(Participant.id.in_(authors)))} if authors else {}
    targets = [f"comment:{c.id}" for c in everything]
    counts = support_counts(db, document, targets)
    mine = supported_by(db, document, viewer, targets)
    reports = open_reports(db, [c.id for c in everything]) if with_reports else {}
    viewer_id = viewer.id if viewer is not None else None

    def entry(c: PublicComment) -> Entry:
        person = people.get(c.participant_id)
        return Entry(comment=c, author=(person.display_name if person is not None else ""),
                     supports=counts.get(f"comment:{c.id}", 0), supported=f"comment:{c.id}" in mine,
                     mine=viewer_id is not None and c.participant_id == viewer_id,
                     unit_label=labels.get(c.unit_guid, ""), unit_eid=eids.get(c.unit_guid, ""),
                     reports=reports.get(c.id, []), author_approved=person is not None and person.approved)

    shown = []
    for c in comments:
        top = entry(c)
        top.replies = [entry(r) for r in replies[c.id]
                       if with_reports or _visible(r) or (viewer_id is not None and r.participant_id == viewer_id)]
        shown.append(top)
    return shown


def unit_threads(db, document: Document, unit: Unit, viewer: Participant | None,
                 labels: dict[str, str]) -> list[Entry]:
    """The threads on a clause and on the clauses inside it, as `viewer` may see them: published
    and hidden ones (hidden ones show their reason), and the viewer's own waiting ones."""
    inside = {u.guid: u.eid for u in iter_units([unit])}
    query = select(PublicComment).where(PublicComment.document_id == document.id,
                                        PublicComment.unit_guid.in_(list(inside)), PublicComment.parent_id.is_(None))
    if viewer is not None:
        query = query.where((PublicComment.state != "pending") | (PublicComment.participant_id == viewer.id))
    else:
        query = query.where(PublicComment.state != "pending")
    comments = list(db.scalars(query.order_by(PublicComment.created_at, PublicComment.id)))
    return _entries(db, document, comments, viewer, labels, inside)


def stream(db, document: Document, states: tuple[str, ...], labels: dict[str, str], eids: dict[str, str],
           moderator: bool) -> list[Entry]:
    """The document's threads whose first comment is in one of `states` (newest first), for the
    committee's panel in the editor; moderators see reports and waiting replies too."""
    query = select(PublicComment).where(PublicComment.document_id == document.id, PublicComment.parent_id.is_(None),
                                        PublicComment.state.in_(states))
    comments = list(db.scalars(query.order_by(PublicComment.created_at.desc(), PublicComment.id.desc()).limit(500)))
    return _entries(db, document, comments, None, labels, eids, with_reports=moderator)


@dataclass
class Queue:
    pending: list[Entry]
    reported: list[Entry]
    hidden: list[Entry]


def moderation_queue(db, document: Document, labels: dict[str, str], eids: dict[str, str]) -> Queue:
    """What waits for moderators: comments and replies waiting for approval (oldest first),
    published ones with open reports (most reported first), and the latest hidden ones."""
    reported_ids = list(db.scalars(select(PublicCommentReport.comment_id).where(
        PublicCommentReport.document_id == document.id, PublicCommentReport.resolved_at.is_(None)).distinct()))
    pending = list(db.scalars(select(PublicComment).where(
        PublicComment.document_id == document.id, PublicComment.state == "pending")
        .order_by(PublicComment.created_at, PublicComment.id)))
    reported = list(db.scalars(select(PublicComment).where(
        PublicComment.id.in_(reported_ids), PublicComment.state == "published"))) if reported_ids else []
    hidden = list(db.scalars(select(PublicComment).where(
        PublicComment.document_id == document.id, PublicComment.state == "hidden")
        .order_by(PublicComment.moderated_at.desc(), PublicComment.id.desc()).limit(50)))

    def flat(comments: list[PublicComment]) -> list[Entry]:
        entries = _entries(db, document, comments, None, labels, eids, with_reports=True)
        for e in entries:
            e.replies = []  # the queue judges each comment on its own
        return entries

    queue = Queue(flat(pending), flat(reported), flat(hidden))
    queue.reported.sort(key=lambda e: (-len(e.reports), e.comment.created_at))
    return queue


def queue_size(db, document: Document) -> int:
    """Comments waiting for approval plus comments with open reports."""
    pending = db.scalar(select(func.count()).where(PublicComment.document_id == document.id,
                                                   PublicComment.state == "pending"))
    reported = db.scalar(select(func.count(func.distinct(PublicCommentReport.comment_id))).where(
        PublicCommentReport.document_id == document.id, PublicCommentReport.resolved_at.is_(None)))
    return (pending or 0) + (reported or 0)


def counts(db, document: Document) -> dict[str, int]:
    """Published, waiting and hidden comments of the document (threads and replies)."""
    found = dict(db.execute(select(PublicComment.state, func.count()).where(PublicComment.document_id == document.id)
                            .group_by(PublicComment.state)).all())
    return {state: found.get(state, 0) for state in ("published", "pending", "hidden")}
