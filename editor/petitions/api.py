"""JSON API for importing petitions: `POST /api/v1/documents/<slug>/petitions/import`.

The body is the petitions file itself (CSV or JSON, as on the import page); the query says its
`format` (csv or json; default from the Content-Type), `against` (the text whose numbering the
references are read against: a version number or "live"; default the latest frozen version) and
`at` (when counts without a date of their own were counted). For the committee and
administrators (permissions.can_edit), as the import page."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext

from .. import permissions
from ..access import api_document
from ..models import Document
from ..problems import Problem, handle_problems
from ..services import current_services
from .service import MAX_IMPORT_BYTES, PetitionImportError, import_petitions, parse_moment, reference_text

bp = Blueprint("petitions_api", __name__, url_prefix="/api/v1")
handle_problems(bp)


def _document(slug: str) -> Document:
    return api_document(slug, permissions.can_edit)


@bp.post("/documents/<slug>/petitions/import")
def import_(slug: str):
    document = _document(slug)
    fmt = request.args.get("format") or ("json" if request.mimetype == "application/json" else "csv")
    if fmt not in ("csv", "json"):
        raise Problem(400, gettext("The format is csv or json."))
    if (request.content_length or 0) > MAX_IMPORT_BYTES:
        raise Problem(413, gettext("The file is too large: at most %(mb)d MB.", mb=MAX_IMPORT_BYTES // 1048576))
    data = request.get_data(cache=True)
    services = current_services()
    try:
        at = parse_moment(request.args["at"]) if request.args.get("at") else None
    except ValueError as exc:
        raise Problem(400, str(exc)) from None
    try:
        against = reference_text(services, document, request.args.get("against"))
        result = import_petitions(services.db, document, data, fmt, at=at, units=against.units,
                                  version=against.version, live_units=against.live_units)
    except PetitionImportError as exc:
        services.db.rollback()
        raise Problem(400, str(exc)) from None
    return jsonify({
        "created": len(result.created), "updated": len(result.updated), "unchanged": len(result.unchanged),
        "counts_recorded": result.counts_recorded, "thresholds_crossed": len(result.crossings),
        "links_made": result.links_made, "against": result.version if result.version else "live",
        "links": [
            {"petition": report.petition.id, "title": report.petition.title, "references": report.references,
             "not_incorporated": report.not_incorporated,
             "linked": [{"reference": item.reference, "guid": item.unit.guid, "eid": item.unit.eid,
                         "name": item.name, "today": item.now or item.name, "created": item.created,
                         "imprecise": item.imprecise} for item in report.linked],
             "unresolved": [{"reference": u.reference, "problem": u.problem,
                             **({"eid": u.unit.eid} if u.unit is not None else {})} for u in report.unresolved]}
            for report in result.links if report.references],
    }), 200


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/petitions/import": {"post": {
        "summary": "Import petitions and signature counts (the body is the CSV or JSON file) and link their "
                   "references, read against a frozen version's numbering (default the latest) or the live text's",
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "format", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["csv", "json"]}},
                       {"name": "against", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "a version number, or live"},
                       {"name": "at", "in": "query", "required": False, "schema": {"type": "string"}}],
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}},
                                    "application/json": {"schema": {"type": "array"}}}},
        "responses": {"200": {"description": "what the import did, with each reference's link"},
                      "400": {"description": "the file or a parameter is refused; nothing was imported"},
                      "401": {"description": "not signed in"}, "403": {"description": "not the committee"},
                      "404": {"description": "no such document"}, "413": {"description": "the file is too large"}},
    }},
}
