"""JSON API for comments: /api/v1/documents/<slug>/comments (the editor's comments panel uses it).

Only accounts that may comment (`permissions.can_comment`: administrators, the drafting
committee and legal advisers) read or write comments; the answers follow the rest of the API:
404 when the document itself is not visible to the caller (drafts stay invisible), 401 when
nobody is signed in, 403 for a signed-in account without the right (the document is visible,
its comments are not). Errors are `{"error": …, "status": n}`; bad input changes nothing.

Every change is committed, then announced as the live event `comments`
`{"document": slug, "unit": guid}` (on /yjs/<slug>?events=1 and Socket.IO /collab) to the
connections open on the document whose account may comment (readers are not told that the drafting side is talking).
"""

from __future__ import annotations

import time

from flask import Blueprint, jsonify, request
from flask_babel import format_number, gettext
from flask_login import current_user
from sqlalchemy import func, select

from akoma_ntoso import find_unit, is_valid_guid, iter_units

from .. import clock, permissions
from ..documents import get_document
from ..events import CommentsChanged
from ..livetext import read_live
from ..models import Document, User
from ..notifications.service import comment_posted, commenters
from ..problems import Problem, handle_problems, json_body
from ..provenance.links import path_labels
from ..services import current_services
from .anchors import AnchorError, decode_position, known, quote_in, state_vector
from .models import MAX_ANCHOR, MAX_BODY, MAX_QUOTE, Comment

bp = Blueprint("comments_api", __name__, url_prefix="/api/v1")

#: How long a request waits for the live text to catch up with what the browser saw (an edit
#: typed just before commenting may still be on its way through the socket).
CATCH_UP_SECONDS = (0.2, 0.4, 0.8)
INCLUDES = ("resolved",)


handle_problems(bp)


# --- who and what --------------------------------------------------------------------------------


def _commentable(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise Problem(404, gettext("There is no document %(slug)r available to you.", slug=slug))
    if not current_user.is_authenticated:
        raise Problem(401, gettext("Sign in to read and write comments."))
    if not permissions.can_comment(current_user, document):
        raise Problem(403, gettext("Only administrators, the drafting committee and legal advisers read and write comments."))
    return document


def _text(data: dict, name: str, limit: int, what: str) -> str:
    """A required text field: `what` is "comment", "reply" or "quote" (for the messages)."""
    value = data.get(name)
    if value is None:
        raise Problem(400, gettext("The field %(name)r is missing.", name=name))
    if not isinstance(value, str):
        raise Problem(400, gettext("The field %(name)r must be a string.", name=name))
    value = value.strip()
    size = {"limit": format_number(limit), "length": format_number(len(value))}
    if not value:
        raise Problem(400, {"comment": gettext("The comment is empty."), "reply": gettext("The reply is empty."),
                            "quote": gettext("The quoted text is empty.")}[what])
    if len(value) > limit:
        raise Problem(400, {
            "comment": gettext("The comment is longer than %(limit)s characters (it has %(length)s).", **size),
            "reply": gettext("The reply is longer than %(limit)s characters (it has %(length)s).", **size),
            "quote": gettext("The quoted text is longer than %(limit)s characters (it has %(length)s): "
                             "comment on a shorter selection.", **size),
        }[what])
    if any(ord(c) < 32 and c not in "\n\t\r" for c in value) or "\x7f" in value:
        raise Problem(400, gettext("The field %(name)r contains control characters.", name=name))
    return value


def _anchor_reason(exc: AnchorError) -> str:
    """What is wrong with an encoded position, in the reader's language."""
    reasons = {
        "empty": gettext("it is empty"),
        "base64": gettext("it is not base64"),
        "short": gettext("it ends too early"),
        "number": gettext("a number in it is too long"),
        "range": gettext("its item id is out of range"),
        "name": gettext("its type name is malformed"),
        "root": gettext("it is relative to %(name)r, not to the document's 'body'", name=exc.value),
        "tag": gettext("it starts with %(tag)s, not 0, 1 or 2", tag=exc.value),
        "trailing": gettext("it has bytes after its end"),
    }
    return reasons.get(exc.code, str(exc))


def _thread(db, document: Document, comment_id: int) -> Comment:
    comment = db.get(Comment, comment_id)
    if comment is None or comment.document_id != document.id:
        raise Problem(404, gettext("There is no comment %(id)s in this document.", id=comment_id))
    return comment


def _catching_up(check):
    """Run `check()` (which raises Problem) again while the live text may still be catching up."""
    for pause in CATCH_UP_SECONDS:
        try:
            return check()
        except Problem:
            time.sleep(pause)
    return check()


def _notify(db, slug: str, document: Document, comment: Comment, thread: Comment, earlier: list[Comment]) -> dict:
    """Tell the people the comment mentions, and (a reply) the thread's participants, as each chose
    (editor.notifications); returns what the writer is told about their mentions. Not committed."""
    units = read_live(current_services(), slug).units
    label = path_labels(units).get(thread.unit_guid) or thread.unit_guid
    author = db.get(User, current_user.id)
    return comment_posted(db, document, comment, thread, author, label, earlier)


def _announce(slug: str, document: Document, *guids: str | None) -> None:
    """Tell the open editors of the document that may comment, in every process (after the
    commit; see comments.handlers)."""
    current_services().events.publish(CommentsChanged(slug, tuple(dict.fromkeys(g for g in guids if g))))


# --- what the panel shows ------------------------------------------------------------------------




class _Context:
    """What serialising comments needs, read once per request: the live units and the names."""

    def __init__(self, db, slug: str, comments: list[Comment]) -> None:

        live = read_live(current_services(), slug)
        self.units = {u.guid: u for u in iter_units(live.units)}
        self.labels = path_labels(live.units)
        ids = {i for c in comments for i in (c.author_id, c.resolved_by_id, c.reopened_by_id) if i is not None}
        self.names = {i: n for i, n in db.execute(select(User.id, User.name).where(User.id.in_(ids)))} if ids else {}

    def name(self, user_id: int | None) -> str | None:
        return self.names.get(user_id) if user_id is not None else None


def _reply_json(reply: Comment, context: _Context) -> dict:
    return {
        "id": reply.id,
        "body": reply.body,
        "author": context.name(reply.author_id),
        "mine": reply.author_id == current_user.id,
        "created_at": clock.iso(reply.created_at),
    }


def _thread_json(comment: Comment, replies: list[Comment], context: _Context) -> dict:
    unit = context.units.get(comment.unit_guid)
    anchor = None
    if comment.quote is not None:
        anchor = {
            "start": comment.anchor_start,
            "end": comment.anchor_end,
            "quote": comment.quote,
            # The fallback's view: is the quoted text still somewhere in the unit?
            "quote_present": unit is not None and quote_in(comment.quote, unit),
        }
    return {
        "id": comment.id,
        "unit": comment.unit_guid,
        "unit_present": unit is not None,
        "unit_label": context.labels.get(comment.unit_guid) if unit is not None else None,
        "unit_eId": unit.eid if unit is not None else None,
        "anchor": anchor,
        "body": comment.body,
        "author": context.name(comment.author_id),
        "mine": comment.author_id == current_user.id,
        "created_at": clock.iso(comment.created_at),
        "status": "resolved" if comment.resolved else "open",
        "resolved_at": clock.iso(comment.resolved_at),
        "resolved_by": context.name(comment.resolved_by_id),
        "reopened_at": clock.iso(comment.reopened_at),
        "reopened_by": context.name(comment.reopened_by_id),
        "replies": [_reply_json(r, context) for r in replies],
    }


def _threads_json(db, slug: str, threads: list[Comment]) -> list[dict]:
    if not threads:  # nothing to place in the text: do not read it (a whole constitution costs)
        return []
    ids = [t.id for t in threads]
    replies: dict[int, list[Comment]] = {i: [] for i in ids}
    if ids:
        for reply in db.scalars(select(Comment).where(Comment.parent_id.in_(ids)).order_by(Comment.created_at, Comment.id)):
            replies[reply.parent_id].append(reply)
    context = _Context(db, slug, threads + [r for rs in replies.values() for r in rs])
    return [_thread_json(t, replies[t.id], context) for t in threads]


def _one(db, slug: str, thread: Comment) -> dict:
    return _threads_json(db, slug, [thread])[0]


# --- routes --------------------------------------------------------------------------------------


@bp.get("/documents/<slug>/comments")
def listing(slug: str):
    """Open threads with their replies (`?include=resolved`: resolved ones too), optionally of one
    unit (`?unit=` GUID or current eId), and the document's counts of open and resolved threads."""
    document = _commentable(slug)
    db = current_services().db
    include = {part for part in request.args.get("include", "").split(",") if part}
    unknown = include - set(INCLUDES)
    if unknown:
        raise Problem(400, gettext("Unknown include %(value)r; expected %(values)s.",
                                   value=sorted(unknown)[0], values=", ".join(INCLUDES)))
    query = select(Comment).where(Comment.document_id == document.id, Comment.parent_id.is_(None))
    key = request.args.get("unit")
    guid = None
    if key is not None:
        if is_valid_guid(key):
            guid = key  # a unit no longer in the text keeps its comments
        else:
            found = find_unit(read_live(current_services(), slug).units, key)
            if found is None:
                raise Problem(400, gettext("There is no unit %(key)r in the text.", key=key))
            guid = found.guid
        query = query.where(Comment.unit_guid == guid)
    if "resolved" not in include:
        query = query.where(Comment.resolved_at.is_(None))
    threads = list(db.scalars(query.order_by(Comment.created_at, Comment.id)))
    counts = {is_open: n for is_open, n in db.execute(
        select(Comment.resolved_at.is_(None), func.count())
        .where(Comment.document_id == document.id, Comment.parent_id.is_(None))
        .group_by(Comment.resolved_at.is_(None))
    )}
    return jsonify({
        "document": slug,
        "unit": guid,
        "open": counts.get(True, 0),
        "resolved": counts.get(False, 0),
        "comments": _threads_json(db, slug, threads),
    })


@bp.get("/documents/<slug>/comments/people")
def people(slug: str):
    """Who may be mentioned (`@name`) in the document's comments: the accounts that may read them."""
    document = _commentable(slug)
    return jsonify({"people": [{"name": u.name, "me": u.id == current_user.id}
                               for u in commenters(current_services().db, document)]})


@bp.get("/documents/<slug>/comments/<int:comment_id>")
def one(slug: str, comment_id: int):
    document = _commentable(slug)
    db = current_services().db
    comment = _thread(db, document, comment_id)
    if comment.parent_id is not None:
        comment = _thread(db, document, comment.parent_id)
    return jsonify({"comment": _one(db, slug, comment)})


@bp.post("/documents/<slug>/comments")
def create(slug: str):
    """A new thread on a unit `{unit, body}`, or on a range of its text
    `{unit, body, anchor: {start, end, quote}}` (start and end: base64 Y.encodeRelativePosition)."""
    document = _commentable(slug)
    services = current_services()
    db = services.db
    data = json_body()
    key = data.get("unit")
    if not isinstance(key, str) or not key:
        raise Problem(400, gettext("The field %(name)r is missing.", name="unit"))
    body = _text(data, "body", MAX_BODY, "comment")
    anchor = data.get("anchor")
    start = end = quote = None
    if anchor is not None:
        if not isinstance(anchor, dict):
            raise Problem(400, gettext("The anchor must be an object {start, end, quote}, or absent for a comment on the whole unit."))
        quote = _text(anchor, "quote", MAX_QUOTE, "quote")
        positions = {}
        for name in ("start", "end"):
            value = anchor.get(name)
            if not isinstance(value, str) or not value:
                raise Problem(400, gettext("The anchor's %(name)r is missing (a base64 Yjs relative position).", name=name))
            if len(value) > MAX_ANCHOR:
                raise Problem(400, gettext("The anchor's %(name)r is longer than %(limit)s characters.", name=name, limit=MAX_ANCHOR))
            try:
                positions[name] = decode_position(value)
            except AnchorError as exc:
                raise Problem(400, gettext("The anchor's %(name)r is not a Yjs relative position: %(reason)s.",
                                           name=name, reason=_anchor_reason(exc))) from None
        start, end = anchor["start"], anchor["end"]

    def check():
        units = read_live(services, slug).units
        unit = find_unit(units, key)
        if unit is None:
            raise Problem(400, gettext("There is no unit %(key)r in the text.", key=key))
        if anchor is not None:
            state = state_vector(services.texts.state_vector(slug))
            for name, position in positions.items():
                if not known(position, state):
                    raise Problem(400, gettext("The anchor's %(name)r points at text this document does not have.", name=name))
            if not quote_in(quote, unit):

                where = path_labels(units).get(unit.guid) or unit.eid or unit.guid
                raise Problem(400, gettext("The quoted text is not in %(unit)s.", unit=where))
        return unit

    unit = _catching_up(check)
    comment = Comment(document_id=document.id, unit_guid=unit.guid, body=body, anchor_start=start,
                      anchor_end=end, quote=quote, author_id=current_user.id)
    db.add(comment)
    db.flush()
    mentions = _notify(db, slug, document, comment, comment, [])
    db.commit()
    _announce(slug, document, unit.guid)
    response = jsonify({"comment": _one(db, slug, comment), "mentions": mentions})
    response.status_code = 201
    return response


@bp.post("/documents/<slug>/comments/<int:comment_id>/replies")
def reply(slug: str, comment_id: int):
    """A reply `{body}` to a thread (threads are one level deep: reply to the thread, not to a reply)."""
    document = _commentable(slug)
    db = current_services().db
    thread = _thread(db, document, comment_id)
    if thread.parent_id is not None:
        raise Problem(400, gettext("Comment %(id)s is a reply; reply to its thread, comment %(thread)s.",
                                   id=comment_id, thread=thread.parent_id))
    body = _text(json_body(), "body", MAX_BODY, "reply")
    answer = Comment(document_id=document.id, unit_guid=thread.unit_guid, parent_id=thread.id, body=body,
                     author_id=current_user.id)
    earlier = [thread, *db.scalars(select(Comment).where(Comment.parent_id == thread.id).order_by(Comment.id))]
    db.add(answer)
    db.flush()
    mentions = _notify(db, slug, document, answer, thread, earlier)
    db.commit()
    _announce(slug, document, thread.unit_guid)
    thread_json = _one(db, slug, thread)
    response = jsonify({"reply": next(r for r in thread_json["replies"] if r["id"] == answer.id), "comment": thread_json,
                        "mentions": mentions})
    response.status_code = 201
    return response


def _status_change(slug: str, comment_id: int, resolve: bool):
    document = _commentable(slug)
    db = current_services().db
    thread = _thread(db, document, comment_id)
    if thread.parent_id is not None:
        raise Problem(400, gettext("Comment %(id)s is a reply; resolve or reopen its thread, comment %(thread)s.",
                                   id=comment_id, thread=thread.parent_id))
    if resolve:
        if thread.resolved:
            raise Problem(409, gettext("Comment %(id)s is already resolved.", id=comment_id))
        thread.resolved_at, thread.resolved_by_id = clock.now(), current_user.id
    else:
        if not thread.resolved:
            raise Problem(409, gettext("Comment %(id)s is open; only a resolved comment is reopened.", id=comment_id))
        thread.resolved_at = thread.resolved_by_id = None
        thread.reopened_at, thread.reopened_by_id = clock.now(), current_user.id
    db.commit()
    _announce(slug, document, thread.unit_guid)
    return jsonify({"comment": _one(db, slug, thread)})


@bp.post("/documents/<slug>/comments/<int:comment_id>/resolve")
def resolve(slug: str, comment_id: int):
    return _status_change(slug, comment_id, True)


@bp.post("/documents/<slug>/comments/<int:comment_id>/reopen")
def reopen(slug: str, comment_id: int):
    return _status_change(slug, comment_id, False)


@bp.delete("/documents/<slug>/comments/<int:comment_id>")
def delete(slug: str, comment_id: int):
    """Its author deletes a comment or a reply; a thread goes with its replies, unless others replied."""
    document = _commentable(slug)
    db = current_services().db
    comment = _thread(db, document, comment_id)
    if comment.author_id != current_user.id:
        raise Problem(403, gettext("Only its author deletes a comment."))
    if comment.parent_id is None:
        others = db.scalar(select(func.count()).where(Comment.parent_id == comment.id, Comment.author_id != current_user.id))
        if others:
            raise Problem(409, gettext("Others have replied to this comment; resolve it instead of deleting it."))
        for own in db.scalars(select(Comment).where(Comment.parent_id == comment.id)):
            db.delete(own)
    guid = comment.unit_guid
    db.delete(comment)
    db.commit()
    _announce(slug, document, guid)
    return jsonify({"deleted": comment_id, "unit": guid})


# --- OpenAPI ---------------------------------------------------------------------------------------

_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_ID = {"name": "comment_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_JSON = {"content": {"application/json": {}}}
_ERRORS = {
    "400": {"description": "bad input (nothing is changed); `{error, status}`"},
    "401": {"description": "not signed in"},
    "403": {"description": "the account may not comment (only administrators, the committee and legal advisers)"},
    "404": {"description": "no such document (or not visible to the caller), or no such comment"},
}
_NOTE = ("Administrators, the drafting committee and legal advisers only. Changes need the CSRF token in the "
         "X-CSRFToken header and emit the live event `comments` {document, unit} (/yjs and /collab) to the "
         "document's connections that may comment, after the change is committed.")
_BODY_ONLY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["body"],
    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY}}}}}}


def _operation(summary: str, ok: dict, parameters: list, body: dict | None = None, conflict: str | None = None) -> dict:
    responses = {**ok, **_ERRORS}
    if conflict:
        responses["409"] = {"description": conflict}
    operation = {"summary": summary, "description": _NOTE, "parameters": [_SLUG, *parameters], "responses": responses}
    if body is not None:
        operation["requestBody"] = body
    return operation


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/comments": {
        "get": _operation(
            "Comment threads with their replies, and the document's counts of open and resolved threads",
            {"200": {"description": "`comments`: threads (id, unit, unit_label, unit_present, anchor {start, end, "
                                    "quote, quote_present} or null, body, author, created_at, status open|resolved, "
                                    "resolved_at/by, reopened_at/by, replies); `open`, `resolved`: counts", **_JSON}},
            [{"name": "unit", "in": "query", "required": False, "schema": {"type": "string"},
              "description": "only the threads of this unit (GUID, or its current eId)"},
             {"name": "include", "in": "query", "required": False, "schema": {"type": "string", "enum": list(INCLUDES)},
              "description": "`resolved`: resolved threads too (by default only open ones)"}]),
        "post": _operation(
            "Comment on a unit, or on a range of its text",
            {"201": {"description": "created: `comment`; `mentions`: {notified, ambiguous, unknown, notice}: "
                                    "whom its @names notified (editor.notifications)", **_JSON}}, [],
            {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["unit", "body"],
                "properties": {
                    "unit": {"type": "string", "description": "GUID (or current eId) of a unit in the live text"},
                    "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY},
                    "anchor": {"type": "object", "required": ["start", "end", "quote"],
                               "description": "absent: the comment is on the whole unit",
                               "properties": {
                                   "start": {"type": "string", "maxLength": MAX_ANCHOR,
                                             "description": "base64 of Y.encodeRelativePosition, relative to the XmlFragment 'body'"},
                                   "end": {"type": "string", "maxLength": MAX_ANCHOR},
                                   "quote": {"type": "string", "minLength": 1, "maxLength": MAX_QUOTE,
                                             "description": "the text of the range, which must be in the unit"}}}}}}}}),
    },
    "/api/v1/documents/{slug}/comments/people": {
        "get": _operation("Who may be mentioned (@name) in the document's comments",
                          {"200": {"description": "`people`: [{name, me}]", **_JSON}}, []),
    },
    "/api/v1/documents/{slug}/comments/{comment_id}": {
        "get": _operation("One thread (a reply's id gives its thread)", {"200": {"description": "`comment`", **_JSON}}, [_ID]),
        "delete": _operation("Delete one's own comment or reply (a thread with its own replies)",
                             {"200": {"description": "deleted", **_JSON}}, [_ID],
                             conflict="others have replied to the thread"),
    },
    "/api/v1/documents/{slug}/comments/{comment_id}/replies": {
        "post": _operation("Reply to a thread (one level: not to a reply)",
                           {"201": {"description": "created: `reply` and its `comment` thread; `mentions` as for a "
                                                  "new comment (the thread's participants are told too)", **_JSON}}, [_ID], _BODY_ONLY),
    },
    "/api/v1/documents/{slug}/comments/{comment_id}/resolve": {
        "post": _operation("Resolve a thread", {"200": {"description": "`comment`", **_JSON}}, [_ID],
                           conflict="the thread is already resolved"),
    },
    "/api/v1/documents/{slug}/comments/{comment_id}/reopen": {
        "post": _operation("Reopen a resolved thread", {"200": {"description": "`comment`", **_JSON}}, [_ID],
                           conflict="the thread is open"),
    },
}
