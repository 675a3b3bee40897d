"""Moderators' pages: the queue of a document's public comments (waiting for approval, reported,
hidden), their decisions, the administrator's settings, and the stream of public comments the
committee's panel in the editor reads.

Who: moderators (`permissions.can_moderate`: the drafting committee and administrators) see the
queue and decide; administrators (`can_configure_participation`) choose pre- or post-moderation,
who may comment, and which stages take comments. The stream is public for published (and hidden)
comments; what waits or was reported only moderators see. Every decision is in the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from akoma_ntoso import iter_units

from .. import audit, clock, permissions
from ..access import staff_document, visible_document
from ..events import PublicCommentsChanged
from ..livetext import read_live
from ..models import Document
from ..outbox import wake
from ..problems import STATUS_OF
from ..provenance.links import path_labels
from ..services import current_services
from ..stages.current import stage_name, stages_of
from .models import MAX_REASON, PublicComment
from .service import (
    Entry,
    comments_open,
    counts,
    moderate,
    moderation_queue,
    queue_size,
    save_settings,
    settings_of,
    stage_takes_comments,
    stream,
)
from .signin import ParticipationError

bp = Blueprint("moderation", __name__)

#: The stream's filters: which states of a thread's first comment each shows, and who may ask.
STREAMS = {
    "published": ("published",),
    "hidden": ("hidden",),
    "pending": ("pending",),
    "reported": ("published",),
    "all": ("published", "hidden", "pending"),
}
PUBLIC_STREAMS = ("published", "hidden")
STAGE_CHOICES = {"default": None, "open": True, "closed": False}


class _Lazy(Mapping):
    """A unit → value mapping of the live text, read only when first looked up: a document with
    no comments to place (the editor's panel opening on a whole constitution) reads nothing."""

    def __init__(self, slug: str, which: int, shared: dict) -> None:
        self.slug, self.which, self.shared = slug, which, shared

    def _data(self) -> dict[str, str]:
        if "pair" not in self.shared:
            units = read_live(current_services(), self.slug).units
            self.shared["pair"] = (path_labels(units), {u.guid: u.eid for u in iter_units(units)})
        return self.shared["pair"][self.which]

    def __getitem__(self, key: str) -> str:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


def _labels(slug: str) -> tuple[Mapping[str, str], Mapping[str, str]]:
    shared: dict = {}
    return _Lazy(slug, 0, shared), _Lazy(slug, 1, shared)


@bp.get("/d/<slug>/moderation")
def queue(slug: str):
    document = staff_document(slug, permissions.can_moderate)
    db = current_services().db
    labels, eids = _labels(slug)
    is_open, stage = comments_open(db, document)
    return render_template(
        "participation/queue.html", document=document, queue=moderation_queue(db, document, labels, eids),
        settings=settings_of(db, document), open=is_open, stage=stage_name(stage), max_reason=MAX_REASON,
        can_configure=permissions.can_configure_participation(current_user, document))


def _unit_words(document: Document, guid: str) -> tuple[str, str]:
    """The clause a comment is on, as a reader names it, and the address of its page (for the
    author's e-mail)."""
    labels, eids = _labels(document.slug)
    eid = eids.get(guid)
    if eid is None:
        return _("a clause no longer in the text"), ""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    path = url_for("public.unit", slug=document.slug, eid=eid)
    return labels.get(guid) or eid, (base + path if base else url_for("public.unit", slug=document.slug, eid=eid,
                                                                         _external=True))


@bp.post("/d/<slug>/moderation/<int:comment_id>")
def decide(slug: str, comment_id: int):
    """approve | trust | hide (with a public `reason`) | restore one comment."""
    document = staff_document(slug, permissions.can_moderate)
    services = current_services()
    db = services.db
    comment = db.get(PublicComment, comment_id)
    if comment is None or comment.document_id != document.id:
        abort(404)
    action = request.form.get("action", "")
    clause, link = _unit_words(document, comment.unit_guid)
    try:
        detail = moderate(db, document, comment, current_user, action, request.form.get("reason", ""),
                          clause=clause, link=f"{link}#public-comment-{comment.id}" if link else "")
    except ParticipationError as exc:
        db.rollback()
        flash(exc.message, "error")
        return queue(slug), STATUS_OF[exc.kind]
    audit.record(services.engine, f"participation.{action}", actor=audit.actor_of(current_user, document),
                 document=slug, target=f"public_comment:{comment.id}", detail=detail)
    services.events.publish(PublicCommentsChanged(slug, (comment.unit_guid,), True))
    if action == "hide":
        wake(current_app)
    flash({"approve": _("The comment is published."), "trust": _("The comment is published, and its author's next "
                                                                 "comments need no approval."),
           "hide": _("The comment is hidden; its author was told why by e-mail."),
           "restore": _("The comment is published again.")}[action], "success")
    return redirect(url_for("moderation.queue", slug=slug), 303)


# --- the administrator's settings ---------------------------------------------------------------


@bp.route("/d/<slug>/moderation/settings", methods=["GET", "POST"])
def settings(slug: str):
    document = staff_document(slug, permissions.can_configure_participation)
    db = current_services().db
    problem = None
    if request.method == "POST":
        choices = {}
        for stage in stages_of(db, document):
            value = request.form.get(f"stage-{stage.key}", "default")
            if value not in STAGE_CHOICES:
                abort(400)
            choices[stage.key] = STAGE_CHOICES[value]
        try:
            save_settings(db, document, current_user, request.form.get("moderation", ""),
                          request.form.get("level", ""), choices, request.form.get("event_level"))
        except ParticipationError as exc:
            db.rollback()
            problem = exc.message
        else:
            audit.record(current_services().engine, "participation.settings",
                         actor=audit.actor_of(current_user, document), document=slug,
                         detail={"moderation": request.form.get("moderation"), "level": request.form.get("level"),
                                 "event_level": request.form.get("event_level"),
                                 "stages": {k: v for k, v in choices.items()}})
            flash(_("The rules for public comments are saved."), "success")
            return redirect(url_for("moderation.settings", slug=slug), 303)
    stages = [(s, "default" if s.public_comments is None else "open" if s.public_comments else "closed",
               stage_takes_comments(s)) for s in stages_of(db, document)]
    return render_template("participation/settings.html", document=document, settings=settings_of(db, document),
                           stages=stages, stage_name=stage_name, problem=problem), (400 if problem else 200)


# --- the stream the editor's panel reads --------------------------------------------------------------


def _entry_json(document: Document, entry: Entry, moderator: bool) -> dict:
    c = entry.comment
    shown = c.state != "hidden" or moderator
    return {
        "id": c.id,
        "unit": c.unit_guid,
        "unit_label": entry.unit_label,
        "unit_eId": entry.unit_eid or None,
        "url": (url_for("public.unit", slug=document.slug, eid=entry.unit_eid) + f"#public-comment-{c.id}"
                if entry.unit_eid else None),
        "state": c.state,
        "held_for": c.held_for if moderator else None,
        "body": c.body if shown else None,
        "quote": c.quote if shown else None,
        "hidden_reason": c.hidden_reason if c.state == "hidden" else None,
        "author": entry.author or None,
        "created_at": clock.iso(c.created_at),
        "supports": entry.supports,
        "reports": [r.reason for r in entry.reports] if moderator else None,
        "replies": [_entry_json(document, r, moderator) for r in entry.replies],
    }


@bp.get("/d/<slug>/public-comments.json")
def comments_json(slug: str):
    """The document's public comments, newest thread first: `?state=published` (the default),
    `hidden`, and for moderators `pending`, `reported` and `all`; `?unit=` a GUID."""
    document = visible_document(slug)
    db = current_services().db
    moderator = permissions.can_moderate(current_user, document)
    state = request.args.get("state", "published")
    if state not in STREAMS:
        return jsonify({"error": _("Unknown state %(value)r; expected %(values)s.", value=state,
                                   values=", ".join(STREAMS)), "status": 400}), 400
    if state not in PUBLIC_STREAMS and not moderator:
        status = 403 if current_user.is_authenticated else 401
        return jsonify({"error": _("Only moderators see comments waiting for moderation or reported."),
                        "status": status}), status
    labels, eids = _labels(slug)
    entries = stream(db, document, STREAMS[state], labels, eids, moderator)
    if state == "reported":
        entries = [e for e in entries if e.reports]
    unit = request.args.get("unit")
    if unit:
        entries = [e for e in entries if e.comment.unit_guid == unit]
    is_open, stage = comments_open(db, document)
    found = counts(db, document)
    response = jsonify({
        "document": slug,
        "moderator": moderator,
        "open": is_open,
        "stage": stage_name(stage),
        "counts": {**found, "queue": queue_size(db, document)} if moderator else {"published": found["published"]},
        "queue_url": url_for("moderation.queue", slug=slug) if moderator else None,
        "comments": [_entry_json(document, e, moderator) for e in entries],
    })
    response.headers["Cache-Control"] = "private, no-cache"
    return response
