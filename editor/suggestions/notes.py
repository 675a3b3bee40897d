"""Notes on a suggestion: its discussion, as comments have threads (issue 22).

* **who**: those who may see suggestions (their role in the live text is "editor": they write or
  suggest it) read and write notes, and only they may be mentioned in one;
* **when**: a note is written on a suggestion pending in the live text; notes stay readable
  after it is accepted or rejected (and are never edited);
* **who is told** (editor.notifications.notify, so each person's preferences, e-mail and
  language apply): the people a note's `@names` mention ("mention"); the suggestion's author
  and the earlier writers of notes on it ("reply"), once each, never the note's own writer;
* **recorded**: the note in `suggestion_note`, and a `suggestion.noted` audit entry.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, clock, permissions
from ..errors import DomainError
from ..events import SuggestionNotesChanged
from ..livetext import read_live
from ..models import Document, User
from ..notifications.service import EXCERPT, find_mentions, mention_notice, notify
from ..notifications.texts import N_
from ..provenance.links import path_labels
from .marks import Part
from .models import MAX_NOTE, SuggestionDecision, SuggestionNote
from .service import pending_suggestions

#: How long a note waits for the live text to catch up with the suggestion the browser showed
#: (a suggestion typed just before writing the note may still be on its way through the socket).
CATCH_UP_SECONDS = (0.1, 0.3)

MENTION = N_("%(name)s mentioned you in a note on a suggestion in %(unit)s: “%(excerpt)s”")
ON_YOURS = N_("%(name)s wrote a note on your suggestion in %(unit)s: “%(excerpt)s”")
REPLY = N_("%(name)s replied in the notes on a suggestion in %(unit)s: “%(excerpt)s”")
NEW_UNIT = N_("a new unit")


class NoteError(DomainError):
    """The note cannot be written (the reason is for the user); nothing was stored."""


def may_see(user, document: Document) -> bool:
    """Those who write or suggest the live text now (permissions.role_in): they see suggestions."""
    return permissions.role_in(user, document) == "editor"


def suggesters(db, document: Document) -> list[User]:
    """Who may see the document's suggestions (and so may be mentioned in a note on one)."""
    users = db.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.id))
    return [u for u in users if may_see(u, document)]


def checked_body(value: object) -> str:
    """The note's text, stripped; NoteError ("invalid") when it is missing, empty, too long or has
    control characters."""
    if not isinstance(value, str):
        raise NoteError("invalid", _('Send {"body": "…"}: the text of the note.'))
    body = value.strip()
    if not body:
        raise NoteError("invalid", _("The note is empty."))
    if len(body) > MAX_NOTE:
        raise NoteError("invalid", _("The note is longer than %(limit)s characters (it has %(length)s).",
                                     limit=format_number(MAX_NOTE), length=format_number(len(body))))
    if any(ord(c) < 32 and c not in "\n\t\r" for c in body) or "\x7f" in body:
        raise NoteError("invalid", _("The note contains control characters."))
    return body


@dataclass
class Posted:
    note: SuggestionNote
    mentions: dict


def _parts_of(services, document: Document, suggestion: str) -> list[Part]:
    """The pending parts of `suggestion`, waiting a moment for the live text to catch up."""
    for pause in (*CATCH_UP_SECONDS, None):
        parts = [p for p in pending_suggestions(services, document) if p.suggestion == suggestion]
        if parts or pause is None:
            return parts
        time.sleep(pause)
    return []  # pragma: no cover - the loop returns


def _where(services, document: Document, part: Part) -> str | dict:
    """The unit a suggestion is in, as readers name it; a suggested new unit (not in the accepted
    text) as "a new unit", in the reader's language."""
    if part.guid:
        label = path_labels(read_live(services, document.slug).units).get(part.guid)
        if label:
            return label
    return {"msg": NEW_UNIT}


def _shorten(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def notice(result: dict) -> str:
    """What the writer is told about their mentions (as for comments, but about these notes)."""
    parts = [mention_notice({**result, "unknown": []})]
    for text in result["unknown"]:
        parts.append(_("%(text)s is nobody who may see this document's suggestions: nobody was notified.", text=text))
    return " ".join(p for p in parts if p)


def _tell(db, document: Document, suggestion: str, note: SuggestionNote, author: User, where: str | dict,
          suggested_by: int | None, earlier: Iterable[int | None]) -> tuple[dict, list[int]]:
    """Notify whom the note concerns (not committed); returns what the writer is told and the ids
    of the people mentioned."""
    candidates = suggesters(db, document)
    allowed = {u.id: u for u in candidates}
    found = find_mentions(note.body, candidates)
    url = f"/d/{document.slug}/edit?suggestion={quote(suggestion, safe='')}"
    args = {"name": author.name, "unit": where, "excerpt": _shorten(note.body, EXCERPT)}
    mentioned = [u for u in found.people if u.id != author.id]
    for user in mentioned:
        notify(db, user, document, "mention", MENTION, args, url)
    told = {author.id} | {u.id for u in mentioned}
    if suggested_by in allowed and suggested_by not in told:
        told.add(suggested_by)
        notify(db, allowed[suggested_by], document, "reply", ON_YOURS, args, url)
    for writer in dict.fromkeys(earlier):
        if writer in allowed and writer not in told:
            told.add(writer)
            notify(db, allowed[writer], document, "reply", REPLY, args, url)
    result = found.json(mentioned)
    result["notice"] = notice(result)
    return result, [u.id for u in mentioned]


def add_note(services, document: Document, user: User, suggestion: str, body: str) -> Posted:
    """Write a note on a pending suggestion and tell whom it concerns (committed); NoteError
    ("not-found") when the suggestion is not pending in the live text. `body`: checked_body's."""
    parts = _parts_of(services, document, suggestion)
    if not parts:
        raise NoteError("not-found", _("There is no such pending suggestion in the live text: notes are "
                                       "written on pending suggestions (those on decided ones stay readable)."))
    first = parts[0]
    db = services.db
    earlier = list(db.scalars(select(SuggestionNote.author_id).where(
        SuggestionNote.document_id == document.id, SuggestionNote.suggestion == suggestion)
        .order_by(SuggestionNote.id)))
    note = SuggestionNote(document_id=document.id, suggestion=suggestion[:64], guid=first.guid[:36],
                          author_id=user.id, body=body, created_at=clock.now())
    db.add(note)
    db.flush()
    author = db.get(User, user.id) or user
    mentions, mentioned = _tell(db, document, suggestion, note, author, _where(services, document, first), first.author, earlier)
    db.commit()
    audit.record(services.engine, "suggestion.noted", actor=audit.actor_of(user, document), document=document.slug,
                 target=suggestion, detail={
                     "note": note.id, "unit": note.guid, "author": first.author, "author_name": first.name,
                     "mentioned": mentioned,
                     "excerpt": _shorten(body, 200)})
    services.events.publish(SuggestionNotesChanged(document.slug, (suggestion,)))
    return Posted(note, mentions)


def notes_of(db, document: Document, suggestion: str) -> list[SuggestionNote]:
    return list(db.scalars(select(SuggestionNote).where(
        SuggestionNote.document_id == document.id, SuggestionNote.suggestion == suggestion)
        .order_by(SuggestionNote.created_at, SuggestionNote.id)))


def decision_of(db, document: Document, suggestion: str) -> str | None:
    """"accepted" or "rejected" once the suggestion was decided, else None."""
    return db.scalar(select(SuggestionDecision.decision).where(
        SuggestionDecision.document_id == document.id, SuggestionDecision.suggestion == suggestion)
        .order_by(SuggestionDecision.id.desc()).limit(1))


def counts(db, document: Document, suggestions: Iterable[str]) -> dict[str, int]:
    """{suggestion: number of notes} for those that have notes (one query)."""
    ids = sorted(set(suggestions))
    if not ids:
        return {}
    return {sid: n for sid, n in db.execute(
        select(SuggestionNote.suggestion, func.count()).where(
            SuggestionNote.document_id == document.id, SuggestionNote.suggestion.in_(ids))
        .group_by(SuggestionNote.suggestion))}


def note_json(note: SuggestionNote, names: dict[int, str], me: int | None) -> dict:
    return {"id": note.id, "suggestion": note.suggestion, "unit": note.guid or None, "body": note.body,
            "author": names.get(note.author_id) if note.author_id is not None else None,
            "mine": note.author_id is not None and note.author_id == me, "created_at": clock.iso(note.created_at)}


def names_of(db, notes: list[SuggestionNote]) -> dict[int, str]:
    ids = {n.author_id for n in notes if n.author_id is not None}
    return {i: n for i, n in db.execute(select(User.id, User.name).where(User.id.in_(ids)))} if ids else {}
