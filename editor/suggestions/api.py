"""JSON API of suggestions (under /api/v1): the pending ones, and accepting or rejecting one, or
all of one author's."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext
from flask_login import current_user

from .. import permissions
from ..access import api_document
from ..errors import DomainError
from ..models import Document
from ..problems import Problem, handle_problems, request_json, status_of
from ..services import current_services
from .service import decide_suggestions, pending_suggestions

bp = Blueprint("suggestions_api", __name__, url_prefix="/api/v1")
handle_problems(bp)


def _may_see(user, document: Document) -> bool:
    """Those who write or suggest the live text now (permissions.role_in)."""
    return permissions.role_in(user, document) == "editor"


@bp.get("/documents/<slug>/suggestions")
def listing(slug: str):
    """The pending suggestions of the live text, in text order (for those who may edit or suggest)."""
    document = api_document(slug, _may_see)
    return jsonify({"suggestions": [p.json() for p in pending_suggestions(current_services(), document)]})


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


def _path(summary: str, method: str, body: dict | None = None, extra: dict | None = None) -> dict:
    operation: dict = {
        "summary": summary,
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok"}, "401": {"description": "not signed in"},
                      "403": {"description": "may not do this in this stage"},
                      "404": {"description": "no such document (or pending suggestion)"}, **(extra or {})},
    }
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {method: operation}


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/suggestions": _path(
        "The pending suggestions of the live text (for those who may write or suggest it)", "get"),
    "/api/v1/documents/{slug}/suggestions/decide": _path(
        "Accept or reject one suggestion, or every pending one of an author, in the live text: an accepted "
        "one is its author's edit, accepted by the caller; both are audited (suggestion.accepted / .rejected)",
        "post",
        body={"type": "object", "required": ["decision"], "properties": {
            "decision": {"type": "string", "enum": ["accept", "reject"]},
            "suggestion": {"type": "string"}, "author": {"type": "integer"}}},
        extra={"400": {"description": "no decision, or neither a suggestion nor an author"}}),
}
