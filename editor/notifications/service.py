"""Who is told what, and how: in-app and by e-mail (now, or in the daily digest), as each person
chose for the document (`preferences`).

Mentions (`@name` in a comment or a reply) notify the person named, among the accounts that may
read the document's comments:

* `@"Bruno Díaz"` names a person by their whole display name (any case, accents optional);
* `@Bruno Díaz` does too, without quotes, when those words are exactly one person's whole name;
* `@Bruno` names the one person whose name, or whose first name, is "Bruno".

A name that fits several people notifies none of them, and one that fits nobody notifies nobody:
the writer is told who was notified and which names were ambiguous or unknown (`Mentions`).
A reply also tells the thread's participants (its author and earlier repliers), once each.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import force_locale, gettext, lazy_gettext, ngettext
from sqlalchemy import select, update

from .. import clock, permissions
from ..models import Document, Notification, User
from ..outbox import OutboxError, enqueue_email, valid_email
from ..petitions.models import Obligation, ObligationMember, Petition
from ..roles import effective_role
from .models import DigestItem, NotificationMark, NotificationPreference
from .texts import N_, dumps, loads, render, text_of

#: What a notification is about, in the order the preferences page shows them.
KINDS = ("mention", "reply", "threshold", "obligation", "stage", "review")
KIND_LABELS = {
    "mention": lazy_gettext("Mentions of me"),
    "reply": lazy_gettext("Replies in threads I take part in"),
    "threshold": lazy_gettext("Petitions that cross a threshold"),
    "obligation": lazy_gettext("Obligations that fall due"),
    "stage": lazy_gettext("Stage changes"),
    "review": lazy_gettext("Petitioners' reviews of the wording"),
}
EMAIL_CHOICES = ("off", "immediate", "digest")
EMAIL_LABELS = {
    "off": lazy_gettext("No e-mail"),
    "immediate": lazy_gettext("E-mail at once"),
    "digest": lazy_gettext("Daily digest"),
}
#: In-app on for everything; e-mail at once for mentions, none for the rest.
DEFAULTS = {kind: (True, "immediate" if kind == "mention" else "off") for kind in KINDS}
#: Who hears of a document's stage changes: its drafting side and its assembly.
STAGE_ROLES = frozenset({"admin", "committee", "legal", "assembly"})
#: Obligations due within this many days (or overdue) are reminded to their members.
DUE_WITHIN_DAYS = 3
EXCERPT = 140


class PreferenceError(ValueError):
    pass


# --- preferences ----------------------------------------------------------------------------------


def preferences(db, user_id: int, document_id: int) -> dict[str, tuple[bool, str]]:
    """{kind: (in_app, email)} for one person and document (the defaults where nothing was chosen)."""
    chosen = dict(DEFAULTS)
    for row in db.scalars(select(NotificationPreference).where(
            NotificationPreference.user_id == user_id, NotificationPreference.document_id == document_id)):
        if row.kind in chosen:
            chosen[row.kind] = (bool(row.in_app), row.email if row.email in EMAIL_CHOICES else "off")
    return chosen


def set_preferences(db, user_id: int, document_id: int, choices: dict[str, tuple[bool, str]]) -> None:
    """Store choices (not committed); unknown kinds or e-mail choices are refused, nothing changed."""
    for kind, (in_app, email) in choices.items():
        if kind not in KINDS:
            raise PreferenceError(gettext("Unknown kind of notification %(kind)r.", kind=kind))
        if email not in EMAIL_CHOICES:
            raise PreferenceError(gettext("Unknown e-mail choice %(value)r; expected %(values)s.",
                                          value=email, values=", ".join(EMAIL_CHOICES)))
        if not isinstance(in_app, bool):
            raise PreferenceError(gettext("“in_app” must be true or false."))
    for kind, (in_app, email) in choices.items():
        row = db.get(NotificationPreference, (user_id, document_id, kind))
        if row is None:
            db.add(NotificationPreference(user_id=user_id, document_id=document_id, kind=kind,
                                          in_app=in_app, email=email))
        else:
            row.in_app, row.email = in_app, email


# --- telling someone ------------------------------------------------------------------------------


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_URL") or "").rstrip("/") if has_app_context() else ""


def document_locale(document: Document | None) -> str:
    return "en" if document is not None and document.language == "eng" else "es"


def language_of(user: User) -> str:
    return user.language if user.language in ("es", "en") else "es"


def _email_now(db, user: User, document: Document | None, kind: str, key: str, args: dict, url: str) -> None:
    if not user.active or not valid_email(user.email):
        return
    base = _base_url()
    with force_locale(language_of(user)):
        text = render(key, args, language_of(user))
        lines = [gettext("Hello %(name)s,", name=user.name), "", text]
        if url:
            lines += ["", base + url]
        if document is not None:
            lines += ["", gettext("You receive this because of your notification settings for %(document)s. "
                                  "Change them at %(url)s", document=document.title,
                                  url=f"{base}/notifications/preferences/{document.slug}")]
        subject = _shorten(text, 200)
        if document is not None:
            subject = _shorten(f"{document.title}: {text}", 280)
    try:
        enqueue_email(db, user.email, subject, "\n".join(lines) + "\n", event=f"notification.{kind}",
                      payload={"document": document.slug if document else None, "kind": kind, "user": user.id})
    except OutboxError:
        pass


def notify(db, user: User, document: Document | None, kind: str, key: str, args: dict | None = None,
           url: str = "") -> Notification | None:
    """Tell `user` (not committed): in-app, by e-mail now or in the digest, as they chose for the
    document. Returns the in-app notification, if any."""
    args = args or {}
    in_app, email = (preferences(db, user.id, document.id) if document is not None else DEFAULTS)[kind]
    note = None
    if in_app:
        # `message`: the text in the document's language, for readers of the table that do not render keys.
        note = Notification(user_id=user.id, document_id=document.id if document else None, kind=kind, key=key,
                            args=dumps(args), message=render(key, args, document_locale(document)), url=url[:500])
        db.add(note)
    if email == "immediate":
        _email_now(db, user, document, kind, key, args, url)
    elif email == "digest":
        db.add(DigestItem(user_id=user.id, document_id=document.id if document else None, kind=kind, key=key,
                          args=dumps(args), url=url[:500]))
    return note


def notify_all(db, users: Iterable[User], document: Document, kind: str, key: str, args: dict | None = None,
               url: str = "") -> int:
    """`notify` each of `users`; returns how many notifications were written (in-app)."""
    return sum(1 for user in users if notify(db, user, document, kind, key, args, url) is not None)


def people(db, document: Document, roles: frozenset[str] = STAGE_ROLES) -> list[User]:
    """The active accounts whose role on the document is one of `roles`."""
    users = db.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.id))
    return [u for u in users if effective_role(u, document) in roles]


def commenters(db, document: Document) -> list[User]:
    """Who may read and write the document's comments (and so may be mentioned)."""
    users = db.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.id))
    return [u for u in users if permissions.can_comment(u, document)]


def _shorten(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- mentions -------------------------------------------------------------------------------------

_WORD = r"[^\W_][\w'’.-]*"
_MENTION = re.compile(r'(?<![\w@])@(?:"([^"\n]{1,120})"|(' + _WORD + r"(?: " + _WORD + r"){0,3}))")


def normal(name: str) -> str:
    """A name as compared: without accents, case or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


@dataclass
class Mentions:
    """What the `@names` in a text came to: who they name, and what could not be resolved."""

    people: list[User] = field(default_factory=list)
    ambiguous: list[tuple[str, list[str]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def json(self, notified: list[User]) -> dict:
        return {"notified": [u.name for u in notified],
                "ambiguous": [{"text": t, "candidates": c} for t, c in self.ambiguous],
                "unknown": list(self.unknown)}


def _strip_trailing(word: str) -> str:
    return word.rstrip(".'’-")


def find_mentions(text: str, candidates: list[User]) -> Mentions:
    """Resolve the `@names` of `text` among `candidates` (see the module's docstring)."""
    full: dict[str, list[User]] = defaultdict(list)
    first: dict[str, list[User]] = defaultdict(list)
    for user in candidates:
        name = normal(user.name)
        if not name:
            continue
        full[name].append(user)
        first[name.split(" ")[0]].append(user)
    found = Mentions()
    chosen: dict[int, User] = {}

    def unresolved(written: str, fits: list[User]) -> None:
        if len(fits) > 1:
            if written not in (t for t, _ in found.ambiguous):
                found.ambiguous.append((written, sorted(u.name for u in fits)))
        elif written not in found.unknown:
            found.unknown.append(written)

    for match in _MENTION.finditer(text or ""):
        quoted, words = match.group(1), match.group(2)
        if quoted is not None:
            fits = full.get(normal(quoted), [])
            if len(fits) == 1:
                chosen.setdefault(fits[0].id, fits[0])
            else:
                unresolved(f'@"{quoted}"', fits)
            continue
        parts = [_strip_trailing(w) for w in words.split(" ")]
        for size in range(len(parts), 1, -1):  # the longest run of words that is somebody's whole name
            fits = full.get(normal(" ".join(parts[:size])), [])
            if fits:
                if len(fits) == 1:
                    chosen.setdefault(fits[0].id, fits[0])
                else:
                    unresolved("@" + " ".join(parts[:size]), fits)
                break
        else:
            word = normal(parts[0])
            fits = list({u.id: u for u in full.get(word, []) + first.get(word, [])}.values())
            if len(fits) == 1:
                chosen.setdefault(fits[0].id, fits[0])
            else:
                unresolved("@" + parts[0], fits)
    found.people = list(chosen.values())
    return found


def mention_notice(result: dict) -> str:
    """What the writer is told about their mentions, in their language ("" if there were none)."""
    parts = []
    if result["notified"]:
        parts.append(gettext("Notified: %(names)s.", names=", ".join(result["notified"])))
    for item in result["ambiguous"]:
        parts.append(gettext("%(text)s could be %(names)s: nobody was notified; write the whole name in quotes, "
                             "e.g. @\"%(example)s\".", text=item["text"], names=", ".join(item["candidates"]),
                             example=item["candidates"][0]))
    for text in result["unknown"]:
        parts.append(gettext("%(text)s is nobody who may read these comments: nobody was notified.", text=text))
    return " ".join(parts)


def comment_posted(db, document: Document, comment, thread, author: User, unit_label: str,
                   earlier: Iterable) -> dict:
    """Notify the people a new comment or reply mentions, and (a reply) the thread's participants;
    returns what the writer is told: `{notified, ambiguous, unknown, notice}` (not committed)."""
    candidates = commenters(db, document)
    found = find_mentions(comment.body, candidates)
    url = f"/d/{document.slug}/edit?comment={thread.id}"
    args = {"name": author.name, "unit": unit_label, "excerpt": _shorten(comment.body, EXCERPT)}
    mentioned = [u for u in found.people if u.id != author.id]
    for user in mentioned:
        notify(db, user, document, "mention", N_("%(name)s mentioned you in a comment on %(unit)s: “%(excerpt)s”"),
               args, url)
    if comment.parent_id is not None:
        allowed = {u.id: u for u in candidates}
        told = {author.id} | {u.id for u in mentioned}
        for earlier_id in dict.fromkeys(c.author_id for c in earlier):
            if earlier_id in allowed and earlier_id not in told:
                told.add(earlier_id)
                notify(db, allowed[earlier_id], document, "reply",
                       N_("%(name)s replied in a thread on %(unit)s: “%(excerpt)s”"), args, url)
    result = found.json(mentioned)
    result["notice"] = mention_notice(result)
    return result


# --- stage changes and obligations ----------------------------------------------------------------


def stage_changed(db, document: Document, stage_key: str, stage_name: str = "") -> int:
    """Tell the document's people that it entered a stage (not committed); returns how many."""
    return notify_all(db, people(db, document), document, "stage",
                      N_("“%(document)s” entered the stage %(stage)s."),
                      {"document": document.title, "stage": {"stage": stage_key, "name": stage_name}},
                      f"/d/{document.slug}/stages")


def remind_obligations(db, today: date | None = None, within_days: int = DUE_WITHIN_DAYS) -> int:
    """Tell each member assigned to an open obligation due within `within_days` (or overdue) that it
    is due, once per obligation and member; committed. Returns how many people were told."""
    today = today or clock.now().date()
    rows = db.execute(
        select(Obligation, Petition, User)
        .join(Petition, Petition.id == Obligation.petition_id)
        .join(ObligationMember, ObligationMember.obligation_id == Obligation.id)
        .join(User, User.id == ObligationMember.user_id)
        .where(Obligation.status == "open", Obligation.due_on <= today + timedelta(days=within_days),
               User.active.is_(True))
        .order_by(Obligation.due_on, Obligation.id, User.id)).all()
    told = 0
    for obligation, petition, user in rows:
        ref = f"obligation:{obligation.id}:due"
        if db.get(NotificationMark, (user.id, ref)) is not None:
            continue
        document = db.get(Document, petition.document_id)
        if document is None:
            continue
        db.add(NotificationMark(user_id=user.id, ref=ref))
        notify(db, user, document, "obligation", N_("“%(title)s”: %(action)s is due on %(due)s."),
               {"title": petition.title, "action": {"action": obligation.action},
                "due": {"date": obligation.due_on.isoformat()}},
               f"/d/{document.slug}/petitions/{petition.id}/manage")
        told += 1
    db.commit()
    return told


# --- the daily digest -----------------------------------------------------------------------------


@dataclass
class DigestReport:
    messages: int = 0
    notifications: int = 0


def send_digests(db, now: datetime | None = None) -> DigestReport:
    """One outbox message per person bundling their notifications waiting for the digest; each is
    sent once (claimed by a conditional update in the same transaction as the message)."""
    now = now or clock.now()
    waiting: dict[int, list[DigestItem]] = defaultdict(list)
    for item in db.scalars(select(DigestItem).where(DigestItem.sent_at.is_(None)).order_by(DigestItem.created_at,
                                                                                           DigestItem.id)):
        waiting[item.user_id].append(item)
    report = DigestReport()
    base = _base_url()
    for user_id, items in waiting.items():
        user = db.get(User, user_id)
        claimed = db.execute(update(DigestItem).where(DigestItem.id.in_([i.id for i in items]),
                                                       DigestItem.sent_at.is_(None))
                             .values(sent_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != len(items):  # another digest run took them
            db.rollback()
            continue
        if user is not None and user.active and valid_email(user.email):
            documents = {d.id: d for d in db.scalars(select(Document).where(
                Document.id.in_({i.document_id for i in items if i.document_id})))}
            with force_locale(language_of(user)):
                lines = [gettext("Hello %(name)s,", name=user.name), "",
                         gettext("What happened since your last digest:")]
                by_document: dict[int | None, list[DigestItem]] = defaultdict(list)
                for item in items:
                    by_document[item.document_id].append(item)
                for document_id, group in by_document.items():
                    document = documents.get(document_id) if document_id else None
                    lines += ["", document.title if document else gettext("Other")]
                    for item in group:
                        lines.append("- " + render(item.key, loads(item.args), language_of(user)))
                        if item.url:
                            lines.append("  " + base + item.url)
                lines += ["", gettext("Change what reaches you by e-mail at %(url)s", url=f"{base}/notifications")]
                subject = ngettext("Your daily digest: %(num)d notification", "Your daily digest: %(num)d notifications",
                                   len(items))
            try:
                enqueue_email(db, user.email, subject, "\n".join(lines) + "\n", event="notification.digest",
                              payload={"user": user.id, "items": [i.id for i in items]})
                report.messages += 1
                report.notifications += len(items)
            except OutboxError:
                pass
        db.commit()
    return report


def json_of(notification: Notification, documents: dict[int, Document]) -> dict:
    document = documents.get(notification.document_id) if notification.document_id else None
    return {"id": notification.id, "kind": notification.kind or None, "text": text_of(notification),
            "url": notification.url or None, "document": document.slug if document else None,
            "created_at": clock.iso(notification.created_at), "read": notification.read_at is not None,
            "read_at": clock.iso(notification.read_at)}
