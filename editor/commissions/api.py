"""JSON API for commissions under /api/v1/documents/<slug>/commissions.

Reading: anyone who may read the document. Changing: JSON bodies, CSRF token in X-CSRFToken;
errors are `{"error", "status"}`. Setting a commission up, opening debates, closing votes and
reporting: the presiding administrator; voting: the commission's members; reserving an article of
the dictamen: assembly members. The amendments themselves are read and written with the amendments
API (`commission`: the commission's number when writing one).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import permissions
from ..amendments.models import CHOICES, Amendment
from ..amendments.service import (
    AmendmentError,
    announce,
    get_amendment,
    require_can_table,
    require_presiding,
    require_voter,
    tally_of,
)
from ..documents import get_document
from ..models import Document
from ..problems import handle_problems, request_json, status_of
from ..problems import problem as _problem
from ..services import current_services
from .models import Commission
from .service import (
    amendment_in,
    amendments_in,
    close_vote,
    commissions_of,
    create_commission,
    dictamen_of,
    get_commission,
    open_debate,
    report,
    reserve,
    vote,
    working_text,
)

bp = Blueprint("commissions_api", __name__, url_prefix="/api/v1")

handle_problems(bp)


@bp.errorhandler(AmendmentError)
def _on_error(exc: AmendmentError):
    current_services().db.rollback()
    return _problem(status_of(exc), exc.message)


def _document(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise AmendmentError("not-found", gettext("There is no document %(slug)s available to you.", slug=repr(slug)))
    return document


def _commission(document: Document, number: int) -> Commission:
    commission = get_commission(current_services().db, document, number)
    if commission is None:
        raise AmendmentError("not-found", gettext("There is no commission %(n)d.", n=number))
    return commission


def _in_commission(document: Document, number: int) -> tuple[Commission, Amendment]:
    """An amendment written in a commission, with its commission."""
    db = current_services().db
    amendment = get_amendment(db, document, number)
    commission = db.get(Commission, amendment.commission_id) if amendment and amendment.commission_id else None
    if amendment is None or commission is None or not permissions.can_see_amendment(current_user, document, amendment):
        raise AmendmentError("not-found", gettext("There is no amendment %(n)d before a commission.", n=number))
    return commission, amendment_in(db, document, commission, number)


def _body() -> dict:
    data = request_json()
    if not isinstance(data, dict):
        raise AmendmentError("invalid", gettext("Send a JSON object (Content-Type: application/json)."))
    return data


def _short(document: Document, amendment: Amendment) -> dict:
    return {"number": amendment.number, "kind": amendment.kind, "state": amendment.state,
            "tally": tally_of(current_services().db, amendment).as_dict,
            "units": [t.guid for t in amendment.targets],
            "url": url_for("amendments_api.get", slug=document.slug, number=amendment.number)}


def commission_json(document: Document, commission: Commission) -> dict:
    db = current_services().db
    dictamen = dictamen_of(db, commission)
    return {
        "number": commission.number, "name": commission.name, "state": commission.state,
        "units": [{"guid": u.guid, "label": u.label} for u in commission.units],
        "members": [{"id": m.user_id, "name": m.user_name} for m in commission.members],
        "amendments": [_short(document, a) for a in amendments_in(db, commission)
                       if permissions.can_see_amendment(current_user, document, a)],
        "text": [{"guid": guid, "heading": heading, "text": text}
                 for guid, (heading, text) in working_text(db, commission).items()],
        "dictamen": _short(document, dictamen) if dictamen is not None else None,
        "url": url_for("commissions_api.get", slug=document.slug, number=commission.number),
    }


@bp.get("/documents/<slug>/commissions")
def list_commissions(slug: str):
    document = _document(slug)
    return jsonify({"document": slug, "commissions": [commission_json(document, c)
                                                      for c in commissions_of(current_services().db, document)]})


@bp.post("/documents/<slug>/commissions")
def create(slug: str):
    document = _document(slug)
    require_presiding(current_user, document)  # the right first, then the body
    commission = create_commission(current_services(), document, current_user, _body())
    response = jsonify(commission_json(document, commission))
    response.status_code = 201
    return response


@bp.get("/documents/<slug>/commissions/<int:number>")
def get(slug: str, number: int):
    document = _document(slug)
    return jsonify(commission_json(document, _commission(document, number)))


@bp.post("/documents/<slug>/amendments/<int:number>/commission/state")
def state(slug: str, number: int):
    document = _document(slug)
    require_presiding(current_user, document)  # the right first, then the body
    action = _body().get("action")
    if action not in ("debate", "close"):
        raise AmendmentError("invalid", gettext("action must be debate or close."))
    services = current_services()
    commission, item = _in_commission(document, number)
    if action == "debate":
        item = open_debate(services, document, commission, item, current_user)
    else:
        item = close_vote(services, document, commission, item, current_user)
    announce(services, document, item)
    return jsonify(_short(document, item))


@bp.post("/documents/<slug>/amendments/<int:number>/commission/votes")
def votes(slug: str, number: int):
    document = _document(slug)
    require_voter(current_user, document)  # the right first, then the body
    choice = _body().get("choice")
    if choice not in CHOICES:
        raise AmendmentError("invalid", gettext("choice must be one of %(choices)s.", choices=", ".join(CHOICES)))
    services = current_services()
    commission, item = _in_commission(document, number)
    vote(services, document, commission, item, current_user, choice)
    announce(services, document, item)
    response = jsonify(_short(document, item))
    response.status_code = 201
    return response


@bp.post("/documents/<slug>/commissions/<int:number>/report")
def report_to_plenary(slug: str, number: int):
    document = _document(slug)
    require_presiding(current_user, document)
    services = current_services()
    dictamen = report(services, document, _commission(document, number), current_user, current_app.config)
    announce(services, document, dictamen)
    response = jsonify(_short(document, dictamen))
    response.status_code = 201
    return response


@bp.post("/documents/<slug>/commissions/<int:number>/reservations")
def reservations(slug: str, number: int):
    document = _document(slug)
    require_can_table(current_user, document)  # the right first, then the body
    unit = _body().get("unit")
    services = current_services()
    reservation = reserve(services, document, _commission(document, number), current_user, unit, current_app.config)
    announce(services, document, reservation)
    response = jsonify(_short(document, reservation))
    response.status_code = 201
    return response


# --- OpenAPI ---------------------------------------------------------------------------------------

_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"},
           "description": "the commission's number in the document"}
_AMENDMENT = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"},
              "description": "the amendment's number in the document"}
_JSON: dict = {"content": {"application/json": {}}}
_ERRORS = {
    "400": {"description": "bad input, named in `error` (nothing is changed)"},
    "401": {"description": "not signed in"},
    "403": {"description": "the caller's role may not do this"},
    "404": {"description": "no such document, commission or amendment"},
    "409": {"description": "not possible in the commission's or the amendment's state"},
}


def _op(summary: str, status: str, parameters: list, body: dict | None = None, changing: bool = True) -> dict:
    operation: dict = {"summary": summary, "parameters": [_SLUG, *parameters],
                       "responses": {status: {"description": summary, **_JSON},
                                     **(_ERRORS if changing else {"404": _ERRORS["404"]})}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/commissions": {
        "get": _op("The document's commissions: units, members, amendments, adopted wording, dictamen", "200", [],
                   changing=False),
        "post": _op("Set up a commission (presiding administrator)", "201", [], {
            "type": "object", "required": ["name", "units", "members"], "properties": {
                "name": {"type": "string"}, "units": {"type": "array", "items": {"type": "string"}},
                "members": {"type": "array", "items": {"type": ["integer", "string"]}}}}),
    },
    "/api/v1/documents/{slug}/commissions/{number}": {
        "get": _op("One commission", "200", [_NUMBER], changing=False),
    },
    "/api/v1/documents/{slug}/amendments/{number}/commission/state": {
        "post": _op("Open the debate on an amendment in commission, or close its vote (presiding administrator)", "200",
                    [_AMENDMENT], {"type": "object", "required": ["action"], "properties": {
                        "action": {"type": "string", "enum": ["debate", "close"]}}}),
    },
    "/api/v1/documents/{slug}/amendments/{number}/commission/votes": {
        "post": _op("Vote on an amendment in commission (the commission's members)", "201", [_AMENDMENT],
                    {"type": "object", "required": ["choice"], "properties": {
                        "choice": {"type": "string", "enum": ["for", "against", "abstain"]}}}),
    },
    "/api/v1/documents/{slug}/commissions/{number}/report": {
        "post": _op("Report the commission's dictamen to the plenary (tabled as one amendment)", "201", [_NUMBER]),
    },
    "/api/v1/documents/{slug}/commissions/{number}/reservations": {
        "post": _op("Reserve an article of the tabled dictamen for a separate vote (assembly members)", "201",
                    [_NUMBER], {"type": "object", "required": ["unit"], "properties": {"unit": {"type": "string"}}}),
    },
}
