"""Accepting and rejecting suggestions, on the server.

A suggestion is made in the live text itself (editor.suggestions.marks: marks and unit
attributes that y-prosemirror syncs); its creation is in the audit log as the author's
`text.update`. Deciding one is a server-side change of the room's document, like an adopted
amendment or a reverted unit:

* **where**: one transaction in the document's room, whose origin is `suggestion:<account>` (the
  room's `text.update` audit entry names it); durable before connected editors receive it;
* **what is recorded**: every decided part in `suggestion_decision` (accepted or rejected, the
  text, its author, who decided), whatever the text says afterwards; a `suggestion.accepted` or
  `suggestion.rejected` audit entry per suggestion;
* **who changed the unit**: an accepted suggestion is its author's edit, accepted by the decider
  (a `unit_edit` row with `accepted_by_id`, and `TextChanged` crediting the author). A rejected
  one leaves the accepted text as it was: nobody edited it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from .. import audit, clock
from ..errors import DomainError
from ..events import TextChanged
from ..models import Document, User
from ..stages.models import UnitEdit
from .marks import Part, decide, pending
from .models import MAX_TEXT, SuggestionDecision

DECISIONS = {"accept": "accepted", "reject": "rejected"}


class SuggestionError(DomainError):
    """The suggestion cannot be decided (the reason is for the user); nothing changed."""


def pending_suggestions(services, document: Document) -> list[Part]:
    return services.texts.look(document.slug, pending)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def decide_suggestions(services, document: Document, user: User, decision: str, *, suggestion: str | None = None,
                       author: int | None = None, actor: audit.Actor | None = None) -> list[Part]:
    """Accept or reject one suggestion (its id) or every pending one of an author (account id).
    The caller has checked that `user` may decide. Raises SuggestionError when none matched."""
    if decision not in DECISIONS:
        raise SuggestionError("invalid", _("Decide with accept or reject."))
    accept = decision == "accept"
    if suggestion is not None:
        # One suggestion, one author: parts under its id naming someone else are not theirs to decide with it.
        if len({p.author for p in pending_suggestions(services, document) if p.suggestion == suggestion}) > 1:
            raise SuggestionError("conflict", _("This suggestion's parts name different authors; decide them one "
                                                "author at a time."))

        def matches(part: Part) -> bool:
            return part.suggestion == suggestion
    elif author is not None:
        def matches(part: Part) -> bool:
            return part.author == author
    else:
        raise SuggestionError("invalid", _("Name a suggestion or its author."))
    parts = _run(services, document, user, matches, accept)
    if not parts:
        raise SuggestionError("not-found", _("There is no such pending suggestion in the live text."))
    _record(services, document, user, parts, DECISIONS[decision], actor)
    return parts


def _run(services, document: Document, user: User, matches: Callable[[Part], bool], accept: bool) -> list[Part]:
    return services.texts.change(document.slug, lambda doc: decide(doc, matches, accept),
                                 origin=f"suggestion:{user.id}")


def _record(services, document: Document, user: User, parts: list[Part], decision: str,
            actor: audit.Actor | None) -> None:
    db = services.db
    now = clock.now()
    for part in parts:
        db.add(SuggestionDecision(document_id=document.id, guid=part.guid[:36], suggestion=part.suggestion[:64],
                                  kind=part.kind, text=_cut(part.text), author_id=part.author,
                                  author_name=part.name[:120], decided_by_id=user.id, decision=decision, at=now))
    credited: dict[int | None, set[str]] = {}
    if decision == "accepted":
        for part in parts:
            if part.guid:
                credited.setdefault(part.author, set()).add(part.guid)
        for author, guids in credited.items():
            for guid in sorted(guids):
                db.add(UnitEdit(document_id=document.id, guid=guid, user_id=author, accepted_by_id=user.id,
                                first_at=now, last_at=now, count=1))
    db.commit()
    by_id: dict[str, list[Part]] = {}
    for part in parts:
        by_id.setdefault(part.suggestion, []).append(part)
    who = actor or audit.actor_of(user, document)
    audit.record_many(services.engine, [
        (f"suggestion.{decision}", document.slug, who, sid,
         {"author": same[0].author, "author_name": same[0].name, "kinds": sorted({p.kind for p in same}),
          "units": sorted({p.guid for p in same if p.guid})[:50], "text": _cut(" … ".join(p.text for p in same))[:500]})
        for sid, same in by_id.items()])
    if credited:
        services.events.publish(TextChanged(document.slug, {a: frozenset(g) for a, g in credited.items()}))
