"""JSON API for the assembly of a document, under /api/v1/documents/<slug>/.

Reading (anyone who may read the document): `assembly` (the rules and the members), `sittings`,
`sittings/<n>` (voting list, attendance, outcomes, minutes).
Changing (JSON bodies, CSRF token in X-CSRFToken; errors `{"error", "status"}`):
PUT `assembly` {quorum: {kind: none|count|share, count, share}, majority, majority_by_kind:
{substitution|insertion|deletion: majority or ""}, votes_changeable, abstentions,
tabling_deadlines: {stage key: ISO date-time}} (administrators);
PUT `assembly/members` {id, group, seat: elected|designated} (administrators);
POST `sittings` {day, title, tabling_deadline} (administrators);
PUT `sittings/<n>/attendance` {present: [member ids]} (the presiding administrator);
POST `sittings/<n>/agenda` {amendments: [numbers]} (all open amendments when absent);
POST `sittings/<n>/actions` {action: open|start|open_vote|close_vote|fall|drop|close, amendment: n};
PUT `sittings/<n>/minutes` {minutes}.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext
from flask_login import current_user

from .. import permissions
from ..amendments.service import AmendmentError, announce
from ..documents import get_document
from ..models import Document
from ..problems import handle_problems, request_json, status_of
from ..problems import problem as _problem
from ..services import current_services
from . import service
from .service import AssemblyError

bp = Blueprint("assembly_api", __name__, url_prefix="/api/v1")

handle_problems(bp)


@bp.errorhandler(AssemblyError)
@bp.errorhandler(AmendmentError)
def _on_error(exc):
    current_services().db.rollback()
    extra = {"conflicts": [c.as_dict() for c in exc.conflicts]} if getattr(exc, "conflicts", None) else {}
    return _problem(status_of(exc), exc.message, **extra)


def _document(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise AssemblyError("not-found", gettext("There is no document %(slug)s available to you.", slug=repr(slug)))
    return document


def _sitting(document: Document, number: int):
    sitting = service.get_sitting(current_services().db, document, number)
    if sitting is None:
        raise AssemblyError("not-found", gettext("There is no sitting %(n)d of this document.", n=number))
    return sitting


def _body() -> dict:
    data = request_json()
    if not isinstance(data, dict):
        raise AssemblyError("invalid", gettext("Send a JSON object (Content-Type: application/json)."))
    return data


def sitting_json(db, sitting, detail: bool = True) -> dict:
    data = {"number": sitting.number, "title": sitting.title, "day": sitting.day.isoformat(), "state": sitting.state,
            "tabling_deadline": sitting.tabling_deadline.isoformat() if sitting.tabling_deadline else None,
            "version": sitting.version_number}
    if not detail:
        return data
    rows = service.rows_of(db, sitting)
    data.update(
        present=sorted(service.present_ids(db, sitting)),
        minutes=sitting.minutes,
        outcomes=service.minutes_lines(db, sitting),
        items=[{"amendment": r.amendment.number, "kind": r.amendment.kind, "where": r.where,
                "item_state": r.item.state, "amendment_state": r.amendment.state,
                "outcome": ({"adopted": r.outcome.adopted, "majority": r.outcome.majority,
                             "required": r.outcome.required, "for": r.outcome.votes_for,
                             "against": r.outcome.votes_against, "abstain": r.outcome.abstentions,
                             "present": r.outcome.present, "members": r.outcome.members, "text": r.outcome_text}
                            if r.outcome else None)} for r in rows])
    return data


@bp.route("/documents/<slug>/assembly")
def get_rules(slug: str):
    document = _document(slug)
    return jsonify(service.rules_dict(current_services().db, document))


@bp.route("/documents/<slug>/assembly", methods=["PUT"])
def put_rules(slug: str):
    document = _document(slug)
    db = current_services().db
    service.require_configurer(current_user, document)
    service.save_rules(db, document, current_user, _body())
    return jsonify(service.rules_dict(db, document))


@bp.route("/documents/<slug>/assembly/members", methods=["PUT"])
def put_member(slug: str):
    document = _document(slug)
    db = current_services().db
    service.require_configurer(current_user, document)
    data = _body()
    row = service.set_member(db, document, current_user, data.get("id"), data.get("group", ""),
                             data.get("seat", "elected"))
    return jsonify({"id": row.user_id, "group": row.group_name, "seat": row.seat})


@bp.route("/documents/<slug>/sittings")
def list_sittings(slug: str):
    document = _document(slug)
    db = current_services().db
    return jsonify({"sittings": [sitting_json(db, s, detail=False) for s in service.sittings_of(db, document)]})


@bp.route("/documents/<slug>/sittings", methods=["POST"])
def create_sitting(slug: str):
    document = _document(slug)
    db = current_services().db
    service.require_configurer(current_user, document)
    sitting = service.create_sitting(db, document, current_user, _body())
    return jsonify(sitting_json(db, sitting)), 201


@bp.route("/documents/<slug>/sittings/<int:number>")
def get_sitting(slug: str, number: int):
    document = _document(slug)
    db = current_services().db
    return jsonify(sitting_json(db, _sitting(document, number)))


@bp.route("/documents/<slug>/sittings/<int:number>/attendance", methods=["PUT"])
def attendance(slug: str, number: int):
    document = _document(slug)
    services = current_services()
    service.require_chair(current_user, document)
    found = _sitting(document, number)
    present = _body().get("present")
    if not isinstance(present, list):
        raise AssemblyError("invalid", gettext("present must be a list of member ids."))
    service.set_attendance(services.db, document, found, current_user, present)
    return jsonify(sitting_json(services.db, found))


@bp.route("/documents/<slug>/sittings/<int:number>/agenda", methods=["POST"])
def agenda(slug: str, number: int):
    document = _document(slug)
    services = current_services()
    service.require_configurer(current_user, document)
    found = _sitting(document, number)
    numbers = _body().get("amendments")
    if numbers is not None and not isinstance(numbers, list):
        raise AssemblyError("invalid", gettext("amendments must be a list of amendment numbers."))
    service.build_agenda(services, document, found, current_user, numbers)
    return jsonify(sitting_json(services.db, found))


@bp.route("/documents/<slug>/sittings/<int:number>/actions", methods=["POST"])
def action(slug: str, number: int):
    document = _document(slug)
    services = current_services()
    service.require_chair(current_user, document)
    found = _sitting(document, number)
    data = _body()
    run(services, document, found, data.get("action"), data.get("amendment"))
    return jsonify(sitting_json(services.db, found))


def run(services, document, sitting, action, number):
    """One of the chair's actions (shared by the chair's page); afterwards the open pages of the
    amendments whose state it changed are told (the Socket.IO event `amendment`)."""
    db = services.db
    before = {r.amendment.id: r.amendment.state for r in service.rows_of(db, sitting)}
    result = _run(services, document, sitting, action, number)
    for row in service.rows_of(db, sitting):
        db.refresh(row.amendment)
        if before.get(row.amendment.id) != row.amendment.state:
            announce(services, document, row.amendment)
    return result


def _run(services, document, sitting, action, number):
    if action == "open":
        return service.open_sitting(services.db, document, sitting, current_user)
    if action == "close":
        return service.close_sitting(services, document, sitting, current_user)
    steps = {"start": service.start_item, "open_vote": service.open_vote, "close_vote": service.close_item,
             "fall": service.fall_item, "drop": service.drop_item}
    if action not in steps:
        raise AssemblyError("invalid", gettext("action must be one of %(actions)s.",
                                               actions=", ".join(["open", "close", *steps])))
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise AssemblyError("invalid", gettext("amendment must be the number of an amendment on the list.")) from None
    return steps[action](services, document, sitting, current_user, number)


@bp.route("/documents/<slug>/sittings/<int:number>/minutes", methods=["PUT"])
def minutes(slug: str, number: int):
    document = _document(slug)
    db = current_services().db
    service.require_configurer(current_user, document)
    found = _sitting(document, number)
    text = _body().get("minutes", "")
    service.save_minutes(db, document, found, current_user, text)
    return jsonify(sitting_json(db, found))


# --- the OpenAPI description (gathered by editor.api) ----------------------------------------------

_JSON: dict = {"content": {"application/json": {}}}
_ERRORS = {
    "400": {"description": "bad input, named in `error` (nothing is changed)"},
    "401": {"description": "not signed in"},
    "403": {"description": "the caller's role may not do this"},
    "404": {"description": "no such document or sitting"},
    "409": {"description": "not possible now: the sitting's or the item's state, the document's stage, no quorum, "
                           "a deadline passed, or (closing a vote) the text changed since tabling (`conflicts`)"},
}
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_SITTING = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
_MAJORITY = {"type": "string", "enum": ["simple", "absolute", "two_thirds_present", "two_thirds_members"]}
_RULES = {"type": "object", "properties": {
    "quorum": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["none", "count", "share"]},
                                                "count": {"type": "integer"}, "share": {"type": "number"}}},
    "majority": _MAJORITY,
    "majority_by_kind": {"type": "object", "properties": {
        k: {"type": "string", "enum": ["", *_MAJORITY["enum"]]} for k in ("substitution", "insertion", "deletion")}},
    "votes_changeable": {"type": "boolean"},
    "abstentions": {"type": "boolean"},
    "tabling_deadlines": {"type": "object", "additionalProperties": {"type": "string", "format": "date-time"}},
}}


def _op(summary: str, status: str, parameters: list, body: dict | None = None, changing: bool = True) -> dict:
    operation: dict = {"summary": summary, "parameters": parameters,
                       "responses": {status: {"description": "the result", **_JSON},
                                     **(_ERRORS if changing else {"404": _ERRORS["404"]})}}
    if changing:
        operation["description"] = ("Administrators (rules, members, sittings, voting lists, minutes) and the "
                                    "presiding administrator in a stage that takes amendments (attendance, actions); "
                                    "CSRF token in the X-CSRFToken header.")
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/assembly": {
        "get": _op("The assembly's rules (quorum, majorities, votes, abstentions, tabling deadlines) and its members "
                   "with their group and seat", "200", [_SLUG], changing=False),
        "put": _op("Set the assembly's rules (fields not sent keep their value)", "200", [_SLUG], _RULES),
    },
    "/api/v1/documents/{slug}/assembly/members": {
        "put": _op("A member's group (party) and seat (elected or designated)", "200", [_SLUG],
                   {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"},
                                                                         "group": {"type": "string"},
                                                     "seat": {"type": "string", "enum": ["elected", "designated"]}}}),
    },
    "/api/v1/documents/{slug}/sittings": {
        "get": _op("The document's sittings", "200", [_SLUG], changing=False),
        "post": _op("Plan a sitting", "201", [_SLUG], {"type": "object", "properties": {
            "day": {"type": "string", "format": "date"}, "title": {"type": "string"},
            "tabling_deadline": {"type": "string", "format": "date-time"}}}),
    },
    "/api/v1/documents/{slug}/sittings/{number}": {
        "get": _op("A sitting: its voting list with each item's outcome, attendance, minutes", "200",
                   [_SLUG, _SITTING], changing=False),
    },
    "/api/v1/documents/{slug}/sittings/{number}/attendance": {
        "put": _op("Mark who is present (the whole list; the basis of the quorum)", "200", [_SLUG, _SITTING],
                   {"type": "object", "required": ["present"],
                    "properties": {"present": {"type": "array", "items": {"type": "integer"}}}}),
    },
    "/api/v1/documents/{slug}/sittings/{number}/agenda": {
        "post": _op("Put open amendments on the voting list (all, or those numbered), ordered: the furthest from the "
                    "text first", "200", [_SLUG, _SITTING],
                    {"type": "object", "properties": {"amendments": {"type": "array", "items": {"type": "integer"}}}}),
    },
    "/api/v1/documents/{slug}/sittings/{number}/actions": {
        "post": _op("Run the sitting: open or close it (closing publishes the text as a version), open an item, open "
                    "its vote (needs the quorum), close it (the configured majority decides), declare it fallen, take "
                    "it off the list", "200", [_SLUG, _SITTING],
                    {"type": "object", "required": ["action"], "properties": {
                        "action": {"type": "string",
                                   "enum": ["open", "close", "start", "open_vote", "close_vote", "fall", "drop"]},
                        "amendment": {"type": "integer"}}}),
    },
    "/api/v1/documents/{slug}/sittings/{number}/minutes": {
        "put": _op("The sitting's minutes (free text; the outcomes are generated)", "200", [_SLUG, _SITTING],
                   {"type": "object", "properties": {"minutes": {"type": "string"}}}),
    },
}
