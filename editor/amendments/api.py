"""JSON API for amendments under /api/v1/documents/<slug>/amendments.

Reading: anyone who may read the document (drafts only for their author and co-sponsors).
Changing: JSON bodies, CSRF token in the X-CSRFToken header; errors are `{"error", "status"}`
(a refused adoption also carries `conflicts`). After every change the Socket.IO event
`amendment` {document, number, state} goes to the document's channel on /collab.

Fields of a proposal (POST to create, PATCH to change a draft):
`kind` substitution|insertion|deletion; `units` a list of GUIDs or eIds (a string for one);
substitution: `heading` and `text` (one unit) or `wording` [{heading, text}] (one per unit);
insertion: one unit in `units`, `position` after|before|inside, `new_kind`, `heading`, `text`;
`justification`; `cosponsors` a list of account ids or e-mails of assembly members;
`table` true to table it at once (POST only); `amends` the number of an open substitution whose
proposal this one rewords (a sub-amendment: its units among the parent's); `replaces` the numbers of
open amendments sharing a unit with this compromise (they fall when it is adopted); `commission`
the number of the commission it is written in (voted there, see editor.commissions).
A rebase (POST …/rebase, its author) moves the base of an amendment whose units changed since
tabling to the current wording, with an optional new `heading`/`text` or `wording`. A split vote
(POST …/split, the presiding administrator) takes one `unit` of a multi-unit substitution out to be
voted as a part of its own.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import permissions
from ..commissions.models import Commission
from ..documents import get_document
from ..livetext import read_live
from ..models import Document
from ..problems import handle_problems, request_json, status_of
from ..problems import problem as _problem
from ..services import current_services
from .models import STATES, Amendment
from .service import (
    AmendmentError,
    akn_document,
    amendments_of,
    announce,
    available_actions,
    change_state,
    changes_of,
    create_amendment,
    get_amendment,
    history_of,
    identical_to,
    note_label,
    open_conflicts,
    parent_of,
    rebase,
    replaced_numbers,
    require_author,
    require_can_table,
    require_presiding,
    require_state_changer,
    require_voter,
    revisions_of,
    split,
    table,
    tally_of,
    unit_index,
    update_amendment,
    vote,
    votes_of,
)

bp = Blueprint("amendments_api", __name__, url_prefix="/api/v1")


handle_problems(bp)


@bp.errorhandler(AmendmentError)
def _on_error(exc: AmendmentError):
    current_services().db.rollback()
    extra = {"conflicts": [c.as_dict() for c in exc.conflicts]} if exc.conflicts else {}
    return _problem(status_of(exc), exc.message, **extra)


def readable_document(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise AmendmentError("not-found", gettext("There is no document %(slug)s available to you.", slug=repr(slug)))
    return document


def visible_amendment(document: Document, number: int) -> Amendment:
    amendment = get_amendment(current_services().db, document, number)
    if amendment is None or not permissions.can_see_amendment(current_user, document, amendment):
        raise AmendmentError("not-found", gettext("There is no amendment %(n)d to this document.", n=number))
    return amendment


def _body() -> dict:
    data = request_json()
    if not isinstance(data, dict):
        raise AmendmentError("invalid", gettext("Send a JSON object (Content-Type: application/json)."))
    return data


def amendment_json(document: Document, amendment: Amendment, index: dict, conflicts: dict,
                   detail: bool = True) -> dict:
    """The amendment as the API shows it (the list shows the short form)."""
    db = current_services().db
    count = tally_of(db, amendment)
    data = {
        "number": amendment.number,
        "kind": amendment.kind,
        "state": amendment.state,
        "author": {"id": amendment.author_id, "name": amendment.author_name},
        "cosponsors": [{"id": s.user_id, "name": s.user_name} for s in amendment.sponsors],
        "created_at": amendment.created_at.isoformat() if amendment.created_at else None,
        "tabled_at": amendment.tabled_at.isoformat() if amendment.tabled_at else None,
        "decided_at": amendment.decided_at.isoformat() if amendment.decided_at else None,
        "units": [t.guid for t in amendment.targets],
        "targets": [{"guid": t.guid, "label": t.label, "eId": t.eid} for t in amendment.targets],
        "tally": count.as_dict,
        "parent": ({"number": parent.number, "relation": amendment.relation}
                   if (parent := parent_of(db, amendment)) is not None else None),
        "replaces": replaced_numbers(amendment),
        "commission": (commission.number if amendment.commission_id is not None
                       and (commission := db.get(Commission, amendment.commission_id)) is not None else None),
        "identical": ([a.number for a in identical_to(db, document, amendment)]
                      if amendment.state in ("tabled", "debate") else []),
        "conflicts": [{"number": other.number, "state": other.state, "units": sorted(shared)}
                      for other, shared in conflicts.get(amendment.id, ())],
        "url": url_for("amendments.detail", slug=document.slug, number=amendment.number),
        "akn": url_for("amendments_api.akn", slug=document.slug, number=amendment.number),
    }
    if not detail:
        return data
    targets = []
    for target in amendment.targets:
        located = index.get(target.guid)
        unit = located.unit if located else None
        item = {
            "guid": target.guid, "label": target.label, "eId": unit.eid if unit else target.eid,
            "current": {"heading": unit.heading, "text": unit.text} if unit else None,
            "reserved_by": target.reserved_by,
            "base": ({"label": target.base_label, "eId": target.base_eid, "heading": target.base_heading,
                      "text": target.base_text} if target.base_tree is not None else None),
        }
        if amendment.kind in ("substitution", "dictamen"):
            item["proposed"] = {"heading": target.new_heading, "text": target.new_text}
        targets.append(item)
    voted = current_user.is_authenticated and any(v.user_id == current_user.id for v in votes_of(db, amendment))
    data.update({
        "justification": amendment.justification,
        "targets": targets,
        "insertion": ({"position": amendment.position, "kind": amendment.new_kind, "heading": amendment.new_heading,
                       "text": amendment.new_text, "guid": amendment.new_guid or None}
                      if amendment.kind == "insertion" else None),
        "history": [{"from": e.from_state or None, "to": e.to_state, "by": e.user_name, "by_id": e.user_id,
                     "at": e.at.isoformat(), "note": e.note or None, "why": note_label(e.note) if e.note else None}
                    for e in history_of(db, amendment)],
        "revisions": [{"reason": r.reason, "note": r.note or None, "by": r.user_name, "at": r.at.isoformat(),
                       "targets": json.loads(r.wording)} for r in revisions_of(db, amendment)],
        "votes": [{"member": v.user_name, "member_id": v.user_id, "choice": v.choice, "at": v.at.isoformat()}
                  for v in votes_of(db, amendment)],
        "changes": [{"type": c.type, "guid": c.guid, "kind": c.kind, "eId_before": c.eid_before,
                     "eId_after": c.eid_after, "label_before": c.label_before, "label_after": c.label_after,
                     "old": None if c.type == "insertion" else {"heading": c.old_heading, "text": c.old_text},
                     "new": None if c.type == "repeal" else {"heading": c.new_heading, "text": c.new_text}}
                    for c in changes_of(db, amendment)],
        "actions": available_actions(current_user, document, amendment, voted),
    })
    return data


def _detail(document: Document, amendment: Amendment, status: int = 200):
    services = current_services()
    index = unit_index(read_live(services, document.slug).units)
    response = jsonify(amendment_json(document, amendment, index, open_conflicts(services.db, document)))
    response.status_code = status
    return response


@bp.get("/documents/<slug>/amendments")
def list_amendments(slug: str):
    document = readable_document(slug)
    db = current_services().db
    conflicts = open_conflicts(db, document)
    shown = [a for a in amendments_of(db, document) if permissions.can_see_amendment(current_user, document, a)]
    counts = {state: sum(1 for a in shown if a.state == state)
              for state in STATES}
    return jsonify({"document": slug, "counts": counts,
                    "amendments": [amendment_json(document, a, {}, conflicts, detail=False) for a in shown]})


@bp.post("/documents/<slug>/amendments")
def create(slug: str):
    document = readable_document(slug)
    require_can_table(current_user, document)  # the right first, then the body
    data = _body()
    services = current_services()
    amendment = create_amendment(services, document, current_user, data)
    if data.get("table") is True:
        try:
            table(services, document, amendment, current_user, current_app.config)
        except AmendmentError:
            services.db.rollback()  # the draft stays; say why it was not tabled
            raise
    announce(services, document, amendment)
    response = _detail(document, amendment, 201)
    response.headers["Location"] = url_for("amendments_api.get", slug=slug, number=amendment.number)
    return response


@bp.get("/documents/<slug>/amendments/<int:number>")
def get(slug: str, number: int):
    document = readable_document(slug)
    return _detail(document, visible_amendment(document, number))


@bp.patch("/documents/<slug>/amendments/<int:number>")
def patch(slug: str, number: int):
    document = readable_document(slug)
    amendment = visible_amendment(document, number)
    update_amendment(current_services(), document, amendment, current_user, _body())
    announce(current_services(), document, amendment)
    return _detail(document, amendment)


@bp.post("/documents/<slug>/amendments/<int:number>/state")
def state(slug: str, number: int):
    document = readable_document(slug)
    amendment = visible_amendment(document, number)
    require_state_changer(current_user, document, amendment)
    action = _body().get("action")
    services = current_services()
    amendment = change_state(services, document, amendment, current_user, action, current_app.config)
    announce(services, document, amendment)
    return _detail(document, amendment)


@bp.post("/documents/<slug>/amendments/<int:number>/votes")
def votes(slug: str, number: int):
    document = readable_document(slug)
    amendment = visible_amendment(document, number)
    services = current_services()
    require_voter(current_user, document)
    if amendment.commission_id is not None and amendment.kind != "dictamen":
        raise AmendmentError("conflict", gettext("Amendment %(n)d is voted in its commission.", n=amendment.number))
    vote(services, document, amendment, current_user, _body().get("choice"))
    announce(services, document, amendment)
    return _detail(document, amendment, 201)


@bp.post("/documents/<slug>/amendments/<int:number>/rebase")
def rebase_amendment(slug: str, number: int):
    document = readable_document(slug)
    amendment = visible_amendment(document, number)
    services = current_services()
    require_author(current_user, document, amendment)  # the right first, then the body
    rebase(services, document, amendment, current_user, _body())
    announce(services, document, amendment)
    return _detail(document, amendment)


@bp.post("/documents/<slug>/amendments/<int:number>/split")
def split_vote(slug: str, number: int):
    document = readable_document(slug)
    amendment = visible_amendment(document, number)
    services = current_services()
    require_presiding(current_user, document)  # the right first, then the body
    part = split(services, document, amendment, current_user, _body().get("unit"), current_app.config)
    announce(services, document, part)
    return _detail(document, part, 201)


@bp.get("/documents/<slug>/amendments/<int:number>/akn")
def akn(slug: str, number: int):
    document = readable_document(slug)
    amendment = visible_amendment(document, number)
    data = akn_document(current_services(), document, amendment, current_app.config)
    response = Response(data, content_type="application/akn+xml")
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{slug}-amendment-{number}.xml"'
    return response


# --- OpenAPI ---------------------------------------------------------------------------------------

_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"},
           "description": "the amendment's number in the document"}
_JSON = {"content": {"application/json": {}}}
_ERRORS = {
    "400": {"description": "bad input, named in `error` (nothing is changed)"},
    "401": {"description": "not signed in"},
    "403": {"description": "the caller's role may not do this"},
    "404": {"description": "no such document or amendment (drafts are visible to their sponsors only)"},
    "409": {"description": "not possible in the amendment's state or the document's stage; a refused adoption "
                           "carries `conflicts` (per unit: status changed|gone and word diffs base → current)"},
}
_CHANGING = ("Assembly members (drafting, tabling, withdrawing, voting) and the presiding administrator (debate, "
             "close) only, in a stage that takes amendments; CSRF token in the X-CSRFToken header. Emits the "
             "Socket.IO event `amendment` {document, number, state} on /collab.")
_WORDING = {"type": "object", "properties": {"heading": {"type": "string"}, "text": {"type": "string"}}}
_PROPOSAL = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["substitution", "insertion", "deletion"]},
        "units": {"type": "array", "items": {"type": "string"}, "description": "GUIDs or eIds, in order"},
        "heading": {"type": "string", "description": "substitution of one unit, or the inserted unit"},
        "text": {"type": "string", "description": "paragraphs separated by newlines"},
        "wording": {"type": "array", "items": _WORDING, "description": "substitution: one per unit"},
        "position": {"type": "string", "enum": ["after", "before", "inside"]},
        "new_kind": {"type": "string", "description": "insertion: the kind of the new unit"},
        "justification": {"type": "string"},
        "cosponsors": {"type": "array", "items": {"type": ["integer", "string"]},
                       "description": "account ids or e-mails of assembly members"},
        "table": {"type": "boolean", "description": "POST only: table it at once"},
        "amends": {"type": "integer", "description": "POST only: the open substitution this one rewords"},
        "replaces": {"type": "array", "items": {"type": "integer"},
                     "description": "POST only: a compromise's replaced amendments (they fall on its adoption)"},
        "commission": {"type": "integer", "description": "POST only: the commission it is written in"},
    },
}


def _op(summary: str, responses: dict, body: dict | None = None, number: bool = True, changing: bool = True,
        description: str = "") -> dict:
    operation = {"summary": summary, "parameters": [_SLUG, *([_NUMBER] if number else [])],
                 "responses": {**responses, **(_ERRORS if changing else {"404": _ERRORS["404"]})}}
    if changing or description:
        operation["description"] = " ".join(x for x in (description, _CHANGING if changing else "") if x)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/amendments": {
        "get": _op("The document's amendments with counts by state and conflict flags",
                   {"200": {"description": "`counts` by state and `amendments` (short form)", **_JSON}},
                   number=False, changing=False),
        "post": _op("Write an amendment (a draft, or tabled at once with `table`)",
                    {"201": {"description": "the amendment", **_JSON}}, _PROPOSAL, number=False),
    },
    "/api/v1/documents/{slug}/amendments/{number}": {
        "get": _op("One amendment: targets with current, tabled and proposed wording, sponsors, history, votes, "
                   "tally, conflicts, applied changes and the caller's possible `actions`",
                   {"200": {"description": "the amendment", **_JSON}}, changing=False),
        "patch": _op("Change a draft (its author); fields not sent keep their value",
                     {"200": {"description": "the amendment", **_JSON}}, _PROPOSAL),
    },
    "/api/v1/documents/{slug}/amendments/{number}/state": {
        "post": _op("Move the amendment: table (author, draft), withdraw (author, tabled or under debate), debate "
                    "(presiding, tabled), close (presiding, under debate: adopted if more for than against, "
                    "applied to the live text, else rejected)",
                    {"200": {"description": "the amendment in its new state", **_JSON}},
                    {"type": "object", "required": ["action"], "properties": {
                        "action": {"type": "string", "enum": ["table", "withdraw", "debate", "close"]}}}),
    },
    "/api/v1/documents/{slug}/amendments/{number}/votes": {
        "post": _op("Vote on an amendment under debate (assembly members; one vote each, final)",
                    {"201": {"description": "the amendment with the vote counted", **_JSON}},
                    {"type": "object", "required": ["choice"], "properties": {
                        "choice": {"type": "string", "enum": ["for", "against", "abstain"]}}}),
    },
    "/api/v1/documents/{slug}/amendments/{number}/rebase": {
        "post": _op("Rebase an open amendment whose units changed since tabling (its author): the base becomes the "
                    "current wording, the proposal may be rewritten; both stay in `revisions`, votes cast are cleared",
                    {"200": {"description": "the amendment", **_JSON}},
                    {"type": "object", "properties": {"heading": {"type": "string"}, "text": {"type": "string"},
                                                      "wording": {"type": "array", "items": _WORDING}}}),
    },
    "/api/v1/documents/{slug}/amendments/{number}/split": {
        "post": _op("Split the vote on a tabled substitution of several units (presiding administrator): `unit` is "
                    "voted as a part of its own (a new amendment, relation `part`); the rest is voted without it",
                    {"201": {"description": "the part, tabled", **_JSON}},
                    {"type": "object", "required": ["unit"], "properties": {"unit": {"type": "string"}}}),
    },
    "/api/v1/documents/{slug}/amendments/{number}/akn": {
        "get": _op("The amendment as an Akoma Ntoso 3.0 <amendment> document (valid against the strict OASIS "
                   "schema)", {"200": {"description": "the amendment", "content": {"application/akn+xml": {}}}},
                   changing=False),
    },
}
