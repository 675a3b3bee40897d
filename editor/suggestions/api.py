"""JSON API of suggestions (under /api/v1): the pending ones, and accepting or rejecting one, or
all of one author's; the notes on a suggestion (editor.suggestions.notes)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext
from flask_login import current_user

from .. import permissions
from ..access import api_document
from ..errors import DomainError
from ..models import Document
from ..problems import Problem, handle_problems, request_json, status_of
from ..services import current_services
from . import notes as notes_service
from .models import MAX_NOTE
from .service import decide_suggestions, pending_suggestions

bp = Blueprint("suggestions_api", __name__, url_prefix="/api/v1")
handle_problems(bp)


def _may_see(user, document: Document) -> bool:
    """Those who write or suggest the live text now (permissions.role_in)."""
    return permissions.role_in(user, document) == "editor"


@bp.get("/documents/<slug>/suggestions")
def listing(slug: str):
    """The pending suggestions of the live text, in text order (for those who may edit or suggest),
    with the number of notes of each. `?notes=<id>,<id>…`: only those numbers, for these ids (what
    the editor's panel asks, without reading the whole live text)."""
    document = api_document(slug, _may_see)
    services = current_services()
    wanted = request.args.get("notes")
    if wanted is not None:
        ids = [i for i in wanted.split(",") if 0 < len(i) <= 64][:500]
        return jsonify({"notes": notes_service.counts(services.db, document, ids)})
    parts = pending_suggestions(services, document)
    return jsonify({"suggestions": [p.json() for p in parts],
                    "notes": notes_service.counts(services.db, document, (p.suggestion for p in parts))})


@bp.post("/documents/<slug>/suggestions/decide")
def decide(slug: str):
    """Body: {"decision": "accept" | "reject", "suggestion": id} for one suggestion (all its
    parts), or {"decision": …, "author": account id} for every pending one of that author."""
    # The stage's writers decide, not those who may only suggest; permission first, then the form.
    document = api_document(slug, permissions.can_write_text)
    data = request_json()
    data = data if isinstance(data, dict) else {}
    decision, suggestion, author = data.get("decision"), data.get("suggestion"), data.get("author")
    which: dict = {}
    if isinstance(suggestion, str) and 0 < len(suggestion) <= 64:
        which["suggestion"] = suggestion
    elif isinstance(author, int) and not isinstance(author, bool) and 0 < author < 1 << 31:
        which["author"] = author
    if decision not in ("accept", "reject") or len(which) != 1:
        raise Problem(400, gettext('Send {"decision": "accept" or "reject"} with the "suggestion" (its id) or the '
                                   '"author" (an account id) whose suggestions to decide.'))
    services = current_services()
    try:
        parts = decide_suggestions(services, document, current_user, decision, **which)
    except DomainError as exc:
        services.db.rollback()
        raise Problem(status_of(exc), exc.message) from None
    return jsonify({"decision": decision, "suggestions": sorted({p.suggestion for p in parts}),
                    "parts": [p.json() for p in parts]})


def _suggestion_id(suggestion: str) -> str:
    if not 0 < len(suggestion) <= 64:
        raise Problem(404, gettext("There is no suggestion %(id)r in this document.", id=suggestion[:80]))
    return suggestion


@bp.get("/documents/<slug>/suggestions/<suggestion>/notes")
def notes(slug: str, suggestion: str):
    """The notes on a suggestion, oldest first (pending or decided: `decided` says which)."""
    document = api_document(slug, _may_see)
    suggestion = _suggestion_id(suggestion)
    db = current_services().db
    found = notes_service.notes_of(db, document, suggestion)
    names = notes_service.names_of(db, found)
    return jsonify({"suggestion": suggestion, "decided": notes_service.decision_of(db, document, suggestion),
                    "notes": [notes_service.note_json(n, names, current_user.id) for n in found]})


@bp.post("/documents/<slug>/suggestions/<suggestion>/notes")
def add_note(slug: str, suggestion: str):
    """Body: {"body": text}. A note on a suggestion pending in the live text; its `@names` and the
    suggestion's author and earlier note writers are told (editor.suggestions.notes)."""
    document = api_document(slug, _may_see)
    data = request_json()
    services = current_services()
    try:
        body = notes_service.checked_body(data.get("body") if isinstance(data, dict) else None)
        suggestion = _suggestion_id(suggestion)
        posted = notes_service.add_note(services, document, current_user, suggestion, body)
    except DomainError as exc:
        services.db.rollback()
        raise Problem(status_of(exc), exc.message) from None
    note = posted.note
    names = notes_service.names_of(services.db, [note])
    response = jsonify({"note": notes_service.note_json(note, names, current_user.id), "mentions": posted.mentions,
                        "count": len(notes_service.notes_of(services.db, document, suggestion))})
    response.status_code = 201
    return response


_SUGGESTION = {"name": "suggestion", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64},
               "description": "the suggestion's id (as the listing gives it)"}


def _path(summary: str, method: str, body: dict | None = None, extra: dict | None = None,
          parameters: list | None = None) -> dict:
    operation: dict = {
        "summary": summary,
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                       *(parameters or [])],
        "responses": {"200": {"description": "ok"}, "401": {"description": "not signed in"},
                      "403": {"description": "may not do this in this stage"},
                      "404": {"description": "no such document (or pending suggestion)"}, **(extra or {})},
    }
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {method: operation}


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/suggestions": _path(
        "The pending suggestions of the live text (for those who may write or suggest it); `notes`: "
        "{suggestion id: number of notes} for those that have notes. With `?notes=<id>,<id>…`, only "
        "`notes`, for those ids (read from the database, not the live text)", "get"),
    "/api/v1/documents/{slug}/suggestions/decide": _path(
        "Accept or reject one suggestion, or every pending one of an author, in the live text: an accepted "
        "one is its author's edit, accepted by the caller; both are audited (suggestion.accepted / .rejected)",
        "post",
        body={"type": "object", "required": ["decision"], "properties": {
            "decision": {"type": "string", "enum": ["accept", "reject"]},
            "suggestion": {"type": "string"}, "author": {"type": "integer"}}},
        extra={"400": {"description": "no decision, or neither a suggestion nor an author"}}),
    "/api/v1/documents/{slug}/suggestions/{suggestion}/notes": {
        **_path("The notes on a suggestion, oldest first (`notes`: id, body, author, mine, created_at; `decided`: "
                "accepted, rejected or null), also once it is decided", "get", parameters=[_SUGGESTION]),
        **_path("Write a note on a suggestion pending in the live text: its @names are notified (`mentions`: "
                "notified, ambiguous, unknown, notice, as for comments), and so are the suggestion's author and "
                "the earlier note writers; audited as suggestion.noted",
                "post", parameters=[_SUGGESTION],
                body={"type": "object", "required": ["body"], "properties": {
                    "body": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE}}},
                extra={"201": {"description": "created: `note`, `mentions`, `count` (notes on the suggestion)"},
                       "400": {"description": "no body, an empty one or one too long; nothing is stored"}}),
    },
}
