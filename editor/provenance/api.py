"""JSON API for provenance links, suggestions and what became of linked units (the editor's
side panel uses it).

Anyone who may read a document may read its links; only editors (`permissions.can_edit`) change
them, with the CSRF token in the `X-CSRFToken` header. Errors are `{"error": …, "status": n}`.
Every change is committed, then announced to the document's live connections (/yjs and
/collab) as the event `provenance` `{"document": slug, "unit": guid}`, so that every open editor
refreshes its panel.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from akoma_ntoso import find_unit, is_valid_guid

from .. import clock, permissions
from ..documents import get_document
from ..events import LinksChanged
from ..inputs import whole_number
from ..livetext import read_live
from ..models import Document, User
from ..petitions.models import Petition, SignatureCount
from ..problems import Problem, handle_problems, json_body
from ..services import current_services
from ..survey.models import Answer, Coding, Respondent, Survey, Theme
from .links import (
    SOURCE_MODELS,
    LinkError,
    acknowledge_link,
    copy_link,
    create_link,
    delete_link,
    eid_citation,
    link_health,
    links_by_unit,
    move_link,
    reject_suggestion,
    search_sources,
    source_of,
    source_title,
    suggest_sources,
    suggest_units,
    unit_index,
)
from .models import RELATIONS, SOURCE_KINDS, ProvenanceLink

bp = Blueprint("provenance_api", __name__, url_prefix="/api/v1")

#: How a link may say it was made through this API.
API_ORIGINS = ("manual", "suggestion")
MAX_SOURCES = 50


handle_problems(bp)


# --- who, what, where ----------------------------------------------------------------------------


def _readable(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise Problem(404, gettext("There is no document %(slug)r available to you.", slug=slug))
    return document


def _editable(slug: str) -> Document:
    document = _readable(slug)
    if not current_user.is_authenticated:
        raise Problem(401, gettext("Sign in to change provenance links."))
    if not permissions.can_edit(current_user, document):
        raise Problem(403, gettext("Only the drafting committee and administrators change provenance links."))
    return document


def _string(data: dict, name: str, required: bool = True, default: str = "") -> str:
    value = data.get(name, None)
    if value is None:
        if required:
            raise Problem(400, gettext("The field %(name)r is missing.", name=name))
        return default
    if not isinstance(value, str):
        raise Problem(400, gettext("The field %(name)r must be a string.", name=name))
    return value


def _kind(value, name: str = "source_kind") -> str:
    if value is None:
        raise Problem(400, gettext("The field %(name)r is missing.", name=name))
    if value not in SOURCE_KINDS:
        raise Problem(400, gettext("Unknown kind of source %(kind)r; expected one of %(kinds)s.",
                                   kind=value, kinds=", ".join(SOURCE_KINDS)))
    return value


def _identifier(value, name: str = "source_id") -> int:
    if value is None:
        raise Problem(400, gettext("The field %(name)r is missing.", name=name))
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and whole_number(value) is not None:
        value = int(value)
    if not isinstance(value, int) or value <= 0 or value > 2**62:
        raise Problem(400, gettext("The field %(name)r must be a positive whole number.", name=name))
    return value


def _source(db, document: Document, kind: str, source_id: int):
    source = source_of(db, document, kind, source_id)
    if source is None:
        raise Problem(404, gettext("There is no %(kind)s %(id)s in this document.", kind=kind, id=source_id))
    return source


def _live(slug: str):
    return read_live(current_services(), slug).units


def _unit_in(units, key: str):
    unit = find_unit(units, key)
    if unit is None:
        raise Problem(400, gettext("There is no unit %(key)r in the text.", key=key))
    return unit


def _announce(slug: str, *guids: str | None) -> None:
    """Tell every open editor of the document, in every process (after the commit; see
    provenance.handlers)."""
    current_services().events.publish(LinksChanged(slug, tuple(dict.fromkeys(g for g in guids if g))))


def _page(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --- what the panel shows ------------------------------------------------------------------------


def _summaries(db, document: Document, pairs) -> dict[tuple[str, int], dict]:
    """A short description of each (kind, id) source, in a few queries whatever their number."""
    wanted: dict[str, set[int]] = {k: set() for k in SOURCE_KINDS}
    for kind, source_id in pairs:
        if kind in wanted:
            wanted[kind].add(source_id)
    found: dict[tuple[str, int], dict] = {}
    if wanted["petition"]:
        latest = {}
        for petition_id, signatures, counted_at in db.execute(
            select(SignatureCount.petition_id, SignatureCount.signatures, SignatureCount.counted_at)
            .where(SignatureCount.petition_id.in_(wanted["petition"]))
            .order_by(SignatureCount.counted_at)
        ):
            latest[petition_id] = (signatures, counted_at)
        for petition in db.scalars(select(Petition).where(
                Petition.id.in_(wanted["petition"]), Petition.document_id == document.id)):
            signatures, counted_at = latest.get(petition.id, (None, None))
            found[("petition", petition.id)] = {
                "kind": "petition", "id": petition.id, "title": petition.title,
                "petitioners": petition.petitioners, "signatures": signatures,
                "counted_at": clock.iso(counted_at), "url": petition.url,
                "page": _page("provenance.petition", slug=document.slug, petition_id=petition.id),
            }
    if wanted["theme"]:
        has_survey = db.scalar(select(func.count(Survey.id)).where(Survey.document_id == document.id)) > 0
        raised = {}
        if has_survey:
            raised = dict(db.execute(
                select(Coding.theme_id, func.count(func.distinct(Respondent.id)))
                .join(Answer, Answer.id == Coding.answer_id)
                .join(Respondent, Respondent.id == Answer.respondent_id)
                .join(Survey, Survey.id == Respondent.survey_id)
                .where(Coding.theme_id.in_(wanted["theme"]), Survey.document_id == document.id)
                .group_by(Coding.theme_id)
            ).all())
        for theme in db.scalars(select(Theme).where(Theme.id.in_(wanted["theme"]), Theme.document_id == document.id)):
            found[("theme", theme.id)] = {
                "kind": "theme", "id": theme.id, "title": theme.name, "key": theme.key,
                "respondents": raised.get(theme.id, 0) if has_survey else None,
                "page": _page("provenance.theme", slug=document.slug, key=theme.key),
            }
    if wanted["event"]:
        model = SOURCE_MODELS["event"]
        for event in db.scalars(select(model).where(model.id.in_(wanted["event"]), model.document_id == document.id)):
            found[("event", event.id)] = {
                "kind": "event", "id": event.id, "title": event.title,
                "held_on": event.held_on.isoformat() if event.held_on else None, "place": event.place,
                "url": event.url, "page": _page("provenance.event", slug=document.slug, event_id=event.id),
            }
    return found


def _place(p) -> dict:
    return {"guid": p.guid, "eId": p.eid, "label": p.label, "heading": p.heading, "share": p.share}


def _health_json(health) -> dict:
    return {"status": health.status, "share": health.share, "now_in": [_place(p) for p in health.now_in]}


def _link_json(link: ProvenanceLink, summaries: dict, authors: dict, health=None, labels=None) -> dict:
    labels = labels or {}
    return {
        "id": link.id,
        "unit": link.unit_guid,
        "unit_label": labels.get(link.unit_guid),
        "linked_as": eid_citation(link.unit_eid),
        "source": summaries.get((link.source_kind, link.source_id),
                                {"kind": link.source_kind, "id": link.source_id, "title": None}),
        "relation": link.relation,
        "note": link.note,
        "origin": link.origin,
        "author": authors.get(link.created_by),
        "created_at": clock.iso(link.created_at),
        "health": _health_json(health) if health is not None else None,
    }




def _authors(db, links) -> dict:
    ids = {link.created_by for link in links if link.created_by}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _links_json(db, document: Document, units, links) -> list[dict]:
    summaries = _summaries(db, document, [(k.source_kind, k.source_id) for k in links])
    authors = _authors(db, links)
    labels = unit_index(units).labels
    return [_link_json(h.link, summaries, authors, h, labels) for h in link_health(units, links)]


def _unit_json(index, unit) -> dict:
    return {"guid": unit.guid, "eId": unit.eid, "kind": unit.kind, "label": index.labels.get(unit.guid, unit.label),
            "heading": unit.heading}


# --- routes --------------------------------------------------------------------------------------


@bp.get("/documents/<slug>/units/<key>/links")
def unit_links(slug: str, key: str):
    """The unit's links with their sources and health; `arrivals`: links of other units that
    were split or merged whose text is now (partly) in this unit."""
    document = _readable(slug)
    db = current_services().db
    units = _live(slug)
    index = unit_index(units)
    unit = find_unit(units, key)
    guid = unit.guid if unit is not None else key
    grouped = links_by_unit(db, document)
    if unit is None and guid not in grouped:
        raise Problem(404, gettext("There is no unit %(key)r in the text.", key=key))
    own = grouped.get(guid, [])
    others = [link for g, links in grouped.items() if g != guid for link in links]
    arrivals = []
    if unit is not None and others:
        troubled = [h for h in link_health(units, others) if h.status != "ok"]
        arrivals = [h for h in troubled if any(p.guid == guid for p in h.now_in)]
    summaries = _summaries(db, document, [(link.source_kind, link.source_id) for link in own + [h.link for h in arrivals]])
    authors = _authors(db, own + [h.link for h in arrivals])
    return jsonify({
        "document": slug,
        "unit": _unit_json(index, unit) if unit is not None else None,
        "can_edit": permissions.can_edit(current_user, document),
        "links": [_link_json(h.link, summaries, authors, h, index.labels) for h in link_health(units, own)],
        "arrivals": [_link_json(h.link, summaries, authors, h, index.labels) for h in arrivals],
    })


@bp.post("/documents/<slug>/links")
def create(slug: str):
    """Link a unit to a source: 201 with the new link, 200 when the pair was linked already (its
    relation and note are updated)."""
    document = _editable(slug)
    db = current_services().db
    data = json_body()
    key = _string(data, "unit")
    kind = _kind(data.get("source_kind"))
    source_id = _identifier(data.get("source_id"))
    relation = _string(data, "relation", required=False, default="motivated")
    if relation not in RELATIONS:
        raise Problem(400, gettext("Unknown relation %(relation)r; expected one of %(relations)s.",
                                   relation=relation, relations=", ".join(RELATIONS)))
    note = _string(data, "note", required=False)
    if len(note) > 2000:
        raise Problem(400, gettext("The note is longer than 2,000 characters."))
    origin = _string(data, "origin", required=False, default="manual")
    if origin not in API_ORIGINS:
        raise Problem(400, gettext("The origin must be one of %(origins)s.", origins=", ".join(API_ORIGINS)))
    _source(db, document, kind, source_id)
    units = _live(slug)
    unit = _unit_in(units, key)
    try:
        link, created = create_link(db, document, units, unit.guid, kind, source_id, relation, note,
                                    user=current_user, origin=origin)
    except LinkError as exc:
        raise Problem(400, str(exc)) from None
    db.commit()
    _announce(slug, unit.guid)
    return _made(db, document, units, link, created)


def _made(db, document: Document, units, link: ProvenanceLink, created: bool):
    """A link made (201) or found already there (200)."""
    response = jsonify({"link": _links_json(db, document, units, [link])[0], "created": created})
    response.status_code = 201 if created else 200
    return response


def _link_of(db, document: Document, link_id: int) -> ProvenanceLink:
    """The document's link `link_id`; 404 otherwise (another document's link is no link here:
    ids are not revealed)."""
    link = db.get(ProvenanceLink, link_id)
    if link is None or link.document_id != document.id:
        raise Problem(404, gettext("There is no link %(id)s in this document.", id=link_id))
    return link


@bp.delete("/documents/<slug>/links/<int:link_id>")
def remove(slug: str, link_id: int):
    document = _editable(slug)
    db = current_services().db
    try:
        link = delete_link(db, document, link_id)
    except LinkError:
        raise Problem(404, gettext("There is no link %(id)s in this document.", id=link_id)) from None
    guid = link.unit_guid
    db.commit()
    _announce(slug, guid)
    return jsonify({"deleted": link_id, "unit": guid})


def _relink(slug: str, link_id: int, action):
    document = _editable(slug)
    db = current_services().db
    data = json_body()
    key = _string(data, "unit")
    units = _live(slug)
    unit = _unit_in(units, key)
    before = _link_of(db, document, link_id).unit_guid
    try:
        result = action(db, document, units, link_id, unit.guid)
    except LinkError as exc:
        raise Problem(409, str(exc)) from None
    db.commit()
    _announce(slug, before, unit.guid)
    return db, document, units, result, before


@bp.post("/documents/<slug>/links/<int:link_id>/move")
def move(slug: str, link_id: int):
    """Re-attach a link to another unit `{unit}` (e.g. the one a merged unit went into)."""
    db, document, units, link, _before = _relink(
        slug, link_id, lambda db, d, u, i, g: move_link(db, d, u, i, g, user=current_user))
    return jsonify({"link": _links_json(db, document, units, [link])[0]})


@bp.post("/documents/<slug>/links/<int:link_id>/copy")
def copy(slug: str, link_id: int):
    """Link another unit `{unit}` to the same source with the same relation and note (e.g. the
    new unit a split produced); the original link keeps its unit, whose current text becomes
    its reference. 201, or 200 when that unit was linked to the source already."""
    db, document, units, (link, created), _before = _relink(
        slug, link_id, lambda db, d, u, i, g: copy_link(db, d, u, i, g, user=current_user))
    return _made(db, document, units, link, created)


@bp.post("/documents/<slug>/links/<int:link_id>/acknowledge")
def acknowledge(slug: str, link_id: int):
    """Keep a link on its changed unit: the unit's current text becomes its reference."""
    document = _editable(slug)
    db = current_services().db
    units = _live(slug)
    _link_of(db, document, link_id)
    try:
        link = acknowledge_link(db, document, units, link_id)
    except LinkError as exc:
        raise Problem(409, str(exc)) from None
    db.commit()
    _announce(slug, link.unit_guid)
    return jsonify({"link": _links_json(db, document, units, [link])[0]})


@bp.get("/documents/<slug>/links/health")
def health(slug: str):
    """The links whose unit was changed (split, rewritten) or is gone (merged, deleted), with
    the units that now hold their text."""
    document = _readable(slug)
    db = current_services().db
    links = [link for group in links_by_unit(db, document).values() for link in group]
    if not links:  # nothing to check: do not read the live text (a whole constitution costs)
        return jsonify({"document": slug, "checked": 0, "links": []})
    units = _live(slug)
    troubled = [h for h in link_health(units, links) if h.status != "ok"]
    summaries = _summaries(db, document, [(h.link.source_kind, h.link.source_id) for h in troubled])
    authors = _authors(db, [h.link for h in troubled])
    labels = unit_index(units).labels
    return jsonify({
        "document": slug,
        "checked": len(links),
        "links": [_link_json(h.link, summaries, authors, h, labels) for h in troubled],
    })


@bp.get("/documents/<slug>/sources")
def sources(slug: str):
    """Petitions, themes and events for the link picker: `q` (every word must appear, accents
    and case aside), `kind`, `limit` (at most 50)."""
    document = _readable(slug)
    db = current_services().db
    kind = request.args.get("kind") or None
    if kind is not None:
        _kind(kind)
    q = request.args.get("q", "")
    if len(q) > 200:
        raise Problem(400, gettext("The search is longer than 200 characters."))
    limit = whole_number(request.args.get("limit", "20"), minimum=1, maximum=MAX_SOURCES)
    if limit is None:
        raise Problem(400, gettext("limit must be a whole number from 1 to %(max)s.", max=MAX_SOURCES))
    found, total = search_sources(db, document, q, kind, limit)
    summaries = _summaries(db, document, [(k, s.id) for k, s in found])
    return jsonify({
        "sources": [summaries.get((k, s.id), {"kind": k, "id": s.id, "title": source_title(k, s)}) for k, s in found],
        "total": total,
        "truncated": total > len(found),
    })


@bp.get("/documents/<slug>/units/<key>/suggestions")
def unit_suggestions(slug: str, key: str):
    """The sources the unit most likely comes from (not linked to it, not rejected for it)."""
    document = _readable(slug)
    db = current_services().db
    units = _live(slug)
    unit = find_unit(units, key)
    if unit is None:
        raise Problem(404, gettext("There is no unit %(key)r in the text.", key=key))
    found = suggest_sources(db, document, units, unit.guid, limit=_limit())
    summaries = _summaries(db, document, [(s.kind, s.id) for s in found])
    return jsonify({
        "unit": _unit_json(unit_index(units), unit),
        "suggestions": [{**summaries.get((s.kind, s.id), {"kind": s.kind, "id": s.id, "title": s.title}),
                         "score": s.score} for s in found],
    })


@bp.get("/documents/<slug>/sources/<kind>/<int:source_id>/suggestions")
def source_suggestions(slug: str, kind: str, source_id: int):
    """The units a petition, theme or event most likely corresponds to."""
    document = _readable(slug)
    db = current_services().db
    _kind(kind)
    source = _source(db, document, kind, source_id)
    units = _live(slug)
    found = suggest_units(db, document, units, kind, source_id, limit=_limit())
    return jsonify({
        "source": _summaries(db, document, [(kind, source_id)]).get((kind, source_id),
                                                                    {"kind": kind, "id": source_id,
                                                                     "title": source_title(kind, source)}),
        "suggestions": [{"guid": s.guid, "eId": s.eid, "label": s.label, "heading": s.heading,
                         "snippet": s.snippet, "score": s.score} for s in found],
    })


def _limit() -> int:
    limit = whole_number(request.args.get("limit", "10"), minimum=1, maximum=MAX_SOURCES)
    if limit is None:
        raise Problem(400, gettext("limit must be a whole number from 1 to %(max)s.", max=MAX_SOURCES))
    return limit


@bp.post("/documents/<slug>/suggestions/reject")
def reject(slug: str):
    """Do not suggest this unit and source `{unit, source_kind, source_id}` together again."""
    document = _editable(slug)
    db = current_services().db
    data = json_body()
    key = _string(data, "unit")
    kind = _kind(data.get("source_kind"))
    source_id = _identifier(data.get("source_id"))
    _source(db, document, kind, source_id)
    unit = find_unit(_live(slug), key)
    guid = unit.guid if unit is not None else key
    if not is_valid_guid(guid):
        raise Problem(400, gettext("There is no unit %(key)r in the text.", key=key))
    try:
        reject_suggestion(db, document, guid, kind, source_id, user=current_user)
    except LinkError as exc:
        raise Problem(400, str(exc)) from None
    db.commit()
    _announce(slug, guid)
    return jsonify({"rejected": {"unit": guid, "source_kind": kind, "source_id": source_id}})


# --- OpenAPI ---------------------------------------------------------------------------------------

_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_UNIT = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "the unit's GUID (or its current eId)"}
_LINK_ID = {"name": "link_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ERRORS = {
    "400": {"description": "bad input (nothing is changed); `{error, status}`"},
    "401": {"description": "not signed in"},
    "403": {"description": "not an editor of the document"},
    "404": {"description": "no such document, unit, link or source"},
}
_JSON = {"content": {"application/json": {}}}
_UNIT_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["unit"], "properties": {"unit": {"type": "string"}}}}}}
_SOURCE_PAIR = {
    "unit": {"type": "string", "description": "GUID or eId of the unit"},
    "source_kind": {"type": "string", "enum": list(SOURCE_KINDS)},
    "source_id": {"type": "integer"},
}


def _changing(summary: str, ok: dict, body: dict | None = None, extra: dict | None = None) -> dict:
    operation = {"summary": summary, "parameters": [_SLUG, *(extra or {}).get("parameters", [])],
                 "responses": {**ok, **_ERRORS},
                 "description": "Editors only; CSRF token in the X-CSRFToken header. Emits the live event "
                                "`provenance` {document, unit} (/yjs and /collab) after the change is committed."}
    if body is not None:
        operation["requestBody"] = body
    return operation


def _reading(summary: str, parameters: list, description: str = "", checked: bool = False) -> dict:
    """A reading operation; `checked`: its query (or a path part) is validated, and refused with 400."""
    responses = {"200": {"description": "ok", **_JSON}, "404": _ERRORS["404"]}
    if checked:
        responses["400"] = {"description": "a parameter is malformed or out of range, named in `error`"}
    return {"summary": summary, "description": description, "parameters": [_SLUG, *parameters],
            "responses": responses}


_LIMIT = {"name": "limit", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SOURCES, "default": 10}}


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/units/{key}/links": {"get": _reading(
        "A unit's provenance links with their sources and health", [_UNIT],
        "`links`: the unit's links, each with its source summary (petition: title, petitioners, latest "
        "signatures; theme: name, respondents who raised it or null without a survey; event: title, date), "
        "relation, note, origin, author, created_at and health {status: ok|changed|gone, share, now_in}. "
        "`arrivals`: links of split or merged units whose text is now partly in this unit.")},
    "/api/v1/documents/{slug}/links": {"post": _changing(
        "Link a unit to a petition, theme or event",
        {"201": {"description": "created", **_JSON}, "200": {"description": "already linked: relation and note updated"}},
        {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["unit", "source_kind", "source_id"],
            "properties": {**_SOURCE_PAIR,
                           "relation": {"type": "string", "enum": list(RELATIONS), "default": "motivated"},
                           "note": {"type": "string", "maxLength": 2000},
                           "origin": {"type": "string", "enum": list(API_ORIGINS), "default": "manual"}}}}}})},
    "/api/v1/documents/{slug}/links/{link_id}": {"delete": _changing(
        "Remove a link", {"200": {"description": "removed", **_JSON}}, None, {"parameters": [_LINK_ID]})},
    "/api/v1/documents/{slug}/links/{link_id}/move": {"post": _changing(
        "Re-attach a link to another unit (after a merge)", {"200": {"description": "moved", **_JSON},
                                                              "409": {"description": "that unit already has this source"}},
        _UNIT_BODY, {"parameters": [_LINK_ID]})},
    "/api/v1/documents/{slug}/links/{link_id}/copy": {"post": _changing(
        "Link another unit to the same source (after a split)",
        {"201": {"description": "created", **_JSON}, "200": {"description": "that unit had this source already"}},
        _UNIT_BODY, {"parameters": [_LINK_ID]})},
    "/api/v1/documents/{slug}/links/{link_id}/acknowledge": {"post": _changing(
        "Keep a link on its changed unit (its current text becomes the reference)",
        {"200": {"description": "ok", **_JSON}, "409": {"description": "the unit is gone"}},
        None, {"parameters": [_LINK_ID]})},
    "/api/v1/documents/{slug}/links/health": {"get": _reading(
        "Links whose unit was split, rewritten, merged or deleted", [],
        "Each with status changed|gone and now_in: the units that now hold a substantial share of the text "
        "the unit had when it was linked.")},
    "/api/v1/documents/{slug}/sources": {"get": _reading(
        "Petitions, themes and events to link (searchable, accent-insensitive)", [
            {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200}},
            {"name": "kind", "in": "query", "required": False, "schema": {"type": "string", "enum": list(SOURCE_KINDS)}},
            {**_LIMIT, "schema": {**_LIMIT["schema"], "default": 20}},
        ], checked=True)},
    "/api/v1/documents/{slug}/units/{key}/suggestions": {"get": _reading(
        "Sources the unit most likely comes from (ranked; linked and rejected pairs left out)", [_UNIT, _LIMIT],
        checked=True)},
    "/api/v1/documents/{slug}/sources/{kind}/{source_id}/suggestions": {"get": _reading(
        "Units a petition, theme or event most likely corresponds to (ranked, Spanish-aware)", [
            {"name": "kind", "in": "path", "required": True, "schema": {"type": "string", "enum": list(SOURCE_KINDS)}},
            {"name": "source_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            _LIMIT,
        ], checked=True)},
    "/api/v1/documents/{slug}/suggestions/reject": {"post": _changing(
        "Reject a suggested link: the pair is not suggested again", {"200": {"description": "recorded", **_JSON}},
        {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["unit", "source_kind", "source_id"], "properties": _SOURCE_PAIR}}}})},
}
