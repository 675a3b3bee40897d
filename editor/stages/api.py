"""JSON API for stages, versions, comparisons and unit histories (under /api/v1)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext
from flask_login import current_user

from akoma_ntoso import AkomaNtosoError, find_unit

from .. import permissions
from ..documents import get_document
from ..models import Document
from ..problems import Problem, handle_problems, request_json
from ..problems import problem as _problem
from ..services import current_services
from .current import StageError, current_stage, stage_name, stages_of, transitions_of
from .diff import change_json, compare
from .history import amendment_numbers, unit_history
from .models import Version
from .versions import freeze, live_text, resolve, versions_of
from .views import after_transition
from .workflow import advance

bp = Blueprint("stages_api", __name__, url_prefix="/api/v1")


handle_problems(bp)


@bp.errorhandler(StageError)
def _on_stage_error(exc: StageError):
    current_services().db.rollback()
    return _problem(400, str(exc))


def _readable(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise Problem(404, gettext("There is no document %(slug)r available to you.", slug=slug))
    return document


def _allowed(allowed: bool) -> None:
    if not current_user.is_authenticated:
        raise Problem(401, gettext("Sign in first."))
    if not allowed:
        raise Problem(403, gettext("Your role may not do this in the document's current stage."))


def _refuse_if_empty(document: Document) -> None:
    """Freezing an empty document fails in the Akoma Ntoso schema (it wants one unit at least):
    that is the document's state, not the server's failure (409, not 503)."""
    if not live_text(current_services(), document).units:
        raise Problem(409, gettext("The document has no titles, chapters or articles yet: there is nothing to freeze "
                                   "as a version."))


def _version_json(slug: str, version: Version) -> dict:
    return {
        "number": version.number, "name": version.name, "stage": version.stage_key,
        "created_at": version.created_at.isoformat(), "sha256": version.sha256,
        "akn": url_for("api.akn", slug=slug, version=version.number),
    }


def _stage_json(stage) -> dict:
    return {"key": stage.key, "name": stage_name(stage), "mode": stage.mode,
            "edit_roles": sorted(stage.editors), "suggest_roles": sorted(stage.suggesters),
            "advance_roles": sorted(stage.advancers)}


@bp.get("/documents/<slug>/stages")
def stages(slug: str):
    document = _readable(slug)
    db = current_services().db
    numbers = {v.id: v.number for v in versions_of(db, document, light=True)}
    return jsonify({
        "current": current_stage(db, document).key,
        "stages": [_stage_json(s) for s in stages_of(db, document)],
        "transitions": [
            {"sequence": t.sequence, "from": t.from_key, "to": t.to_key, "at": t.at.isoformat(),
             "by": t.user_name, "role": t.user_role, "note": t.note,
             "version": numbers.get(t.version_id)}
            for t in transitions_of(db, document)
        ],
    })


@bp.post("/documents/<slug>/stages/advance")
def advance_stage(slug: str):
    """Body: {"expect": next stage key (optional), "note": text (optional)}."""

    document = _readable(slug)
    _allowed(permissions.can_advance_stage(current_user, document))
    data = request_json()
    if data is None:
        data = {}
    if not isinstance(data, dict) or not all(isinstance(data.get(k, ""), str) for k in ("expect", "note")):
        raise Problem(400, gettext("Send a JSON object with optional string fields expect and note."))
    services = current_services()
    try:
        transition = advance(services, document, current_user, note=data.get("note", ""), expect=data.get("expect") or None)
    except AkomaNtosoError:
        _refuse_if_empty(document)
        raise
    after_transition(services, document, transition.to_key)
    version = services.db.get(Version, transition.version_id)
    return jsonify({"stage": transition.to_key, "from": transition.from_key,
                    "version": _version_json(slug, version)}), 201


@bp.get("/documents/<slug>/versions")
def versions(slug: str):
    document = _readable(slug)
    return jsonify({"versions": [_version_json(slug, v) for v in versions_of(current_services().db, document, light=True)]})


@bp.post("/documents/<slug>/versions")
def freeze_version(slug: str):
    """Body: {"name": text (optional)}."""
    document = _readable(slug)
    _allowed(permissions.can_freeze_version(current_user, document))
    data = request_json() or {}
    name = data.get("name", "") if isinstance(data, dict) else None
    if not isinstance(name, str):
        raise Problem(400, gettext("The field 'name' must be a string."))
    try:
        version = freeze(current_services(), document, current_user, name=name)
    except AkomaNtosoError:
        _refuse_if_empty(document)
        raise
    return jsonify(_version_json(slug, version)), 201


@bp.get("/documents/<slug>/diff")
def diff(slug: str):
    """?from=V&to=W (version numbers or "live"): the structural diff and word redlines."""
    document = _readable(slug)
    services = current_services()
    try:
        old = resolve(services, document, request.args.get("from"))
        new = resolve(services, document, request.args.get("to"))
    except StageError as exc:
        raise Problem(404, str(exc)) from None
    comparison = compare(old.units, new.units)
    return jsonify({"from": old.label, "to": new.label, "counts": comparison.counts(),
                    "units": [change_json(c) for c in comparison.changes]})


@bp.get("/documents/<slug>/units/<key>/history")
def history(slug: str, key: str):
    document = _readable(slug)
    services = current_services()
    live = live_text(services, document)
    unit = find_unit(live.units, key)
    guid = unit.guid if unit is not None else key
    steps = unit_history(services, document, guid, live=live)
    if all(step.unit is None for step in steps):
        raise Problem(404, gettext("There is no unit %(key)r in this document or its versions.", key=key))
    numbers = amendment_numbers(services.db, {e.amendment_id for s in steps for e in s.edits if e.amendment_id})
    return jsonify({"guid": guid, "steps": [
        {"version": step.text.version.number if step.text.version else None, "label": step.text.label,
         "name": step.text.name, "stage": step.stage,
         "at": step.text.at.isoformat() if step.text.at else None,
         "unit": None if step.unit is None else {"eid": step.unit.eid, "label": step.unit.label,
                                                  "heading": step.unit.heading, "text": step.unit.text},
         "changed": step.changed,
         "edits": [{"by": e.who, "amendment": numbers.get(e.amendment_id) if e.amendment_id else None,
                    "first_at": e.first_at.isoformat(), "last_at": e.last_at.isoformat(), "count": e.count}
                   for e in step.edits]}
        for step in steps]})


def _path(summary: str, params=("slug",), query=(), method="get", body=None, responses=None) -> dict:
    operation = {
        "summary": summary,
        "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
        + [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in query],
        "responses": responses or {"200": {"description": "ok"}, "404": {"description": "no such document"}},
    }
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {method: operation}


_WRITE = {"201": {"description": "done"}, "400": {"description": "refused, with the reason"},
          "401": {"description": "not signed in"}, "403": {"description": "not allowed in this stage"},
          "404": {"description": "no such document"},
          "409": {"description": "the document has no units yet: there is nothing to freeze"}}

OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/stages": _path("The document's stages, the current one and every transition"),
    "/api/v1/documents/{slug}/stages/advance": _path(
        "Close the current stage (freezing a version) and enter the next", method="post",
        body={"type": "object", "properties": {"expect": {"type": "string"}, "note": {"type": "string"}}},
        responses=_WRITE),
    "/api/v1/documents/{slug}/versions": {
        **_path("The document's frozen versions"),
        **_path("Freeze the live text as a named version", method="post",
                body={"type": "object", "properties": {"name": {"type": "string"}}}, responses=_WRITE),
    },
    "/api/v1/documents/{slug}/diff": _path(
        "Structural diff (by GUID, else by content and position: added, removed, moved, renumbered, changed, "
        "split, merged) and word redlines between two versions, or a version and the live text",
        query=("from", "to")),
    "/api/v1/documents/{slug}/units/{key}/history": _path(
        "One unit's wording in every version and live, with who changed it and which amendment did",
        params=("slug", "key")),
}
