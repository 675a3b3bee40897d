"""JSON API for loading a revised draft: `POST /api/v1/documents/<slug>/revision`.

One request: the revised text is matched to the live text (with the caller's corrections, if
any) and the matching answered; with `apply`, it is also loaded, as on the page. A correction
names a unit of the revised text by its index (document order, as `units` answers it) and the
old unit it takes over (its GUID) or "new"; a unit given that old unit automatically gives it up,
and two corrections naming the same old unit are refused."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request
from flask_babel import gettext
from flask_login import current_user

from .. import audit, permissions
from ..access import api_document
from ..interchange import IMPORTERS, format_for
from ..livetext import read_live
from ..models import Document
from ..problems import Problem, handle_problems
from ..services import current_services
from ..stages.diff import change_json
from .service import NEW, RevisionError, apply_revision, plan_revision, read_revision

bp = Blueprint("revision_api", __name__, url_prefix="/api/v1")
handle_problems(bp)

_YES = ("1", "true", "yes", "on")


def _document(slug: str) -> Document:
    return api_document(slug, permissions.can_load_revision)


def _corrections(raw: str) -> dict[int, str]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(isinstance(k, str) and k.isdigit() and isinstance(v, str)
                                             for k, v in data.items()):
        raise Problem(400, gettext('corrections: a JSON object from a unit\'s index to an old unit\'s GUID or "new".'))
    return {int(k): v for k, v in data.items()}


@bp.post("/documents/<slug>/revision")
def revise(slug: str):
    """Form fields: file or text, format, corrections (JSON), apply, save_before."""
    document = _document(slug)
    services = current_services()
    upload = request.files.get("file")
    data = upload.read() if upload and upload.filename else (request.form.get("text") or "").encode("utf-8")
    fmt = format_for(upload.filename if upload and upload.filename else None, default=request.form.get("format") or None)
    try:
        plan = plan_revision(read_live(services, slug), read_revision(document, data, fmt),
                             _corrections(request.form.get("corrections", "")))
    except RevisionError as exc:
        raise Problem(400, str(exc)) from None
    answer = {
        "applied": False,
        "counts": plan.counts(),
        "units": [{"index": row.index, "guid": row.unit.guid, "kind": row.unit.kind, "label": row.unit.label,
                   "eid": row.unit.eid, "takes_over": row.old.guid if row.old is not None else NEW, "how": row.how}
                  for row in plan.rows],
        "changes": [change_json(c) for c in plan.comparison.changes],
    }
    if (request.form.get("apply") or "").lower() in _YES:
        try:
            applied = apply_revision(services, document, current_user, plan,
                                     save_before=(request.form.get("save_before") or "").lower() in _YES,
                                     actor=audit.actor_of(current_user, document))
        except RevisionError as exc:
            raise Problem(409, str(exc)) from None
        answer.update(applied=True, version_before=applied.before)
    return jsonify(answer)


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/revision": {"post": {
        "summary": "Match a revised draft (plain text, Akoma Ntoso or Word) to the live text unit by unit, and with "
                   "apply load it as the live text: matched units keep their GUIDs (committee and administrators, "
                   "in a stage where they write the text)",
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"content": {"multipart/form-data": {"schema": {
            "type": "object",
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "text": {"type": "string"},
                "format": {"type": "string", "enum": list(IMPORTERS)},
                "corrections": {"type": "string", "description": "JSON object: a unit's index in the revised text "
                                                                  "→ the GUID of the old unit it takes over, or \"new\""},
                "apply": {"type": "string", "description": "1: load it (otherwise only the matching is answered)"},
                "save_before": {"type": "string", "description": "1: save the text as it stands as a version first"},
            },
        }}}},
        "responses": {"200": {"description": "the matching (units, changes, counts), and whether it was applied"},
                      "400": {"description": "the text or the corrections cannot be used (nothing changed)"},
                      "401": {"description": "not signed in"},
                      "403": {"description": "not allowed in this stage"},
                      "404": {"description": "no such document"},
                      "409": {"description": "the live text changed meanwhile (nothing changed)"}},
    }},
}
