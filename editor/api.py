"""The JSON API under /api/v1, described by its own OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from akoma_ntoso import AkomaNtosoError, Unit, find_unit

from . import cache, permissions, references
from . import search as search_feature
from .amendments import api as amendments_api
from .assembly import api as assembly_api
from .comments import api as comments_api
from .commissions import api as commissions_api
from .documents import DocumentError, get_document
from .import_findings import describe_all
from .interchange import EXTENSIONS, IMPORTERS, MEDIA_TYPES, TEXT_LANGUAGES, export_document, format_for, import_document
from .livetext import read_live
from .models import Document
from .notifications import views as notifications_views
from .petitions import api as petitions_api
from .problems import problem as _problem
from .provenance import api as links_api
from .provenance.views import unit_provenance
from .review import views as review_views
from .revision import api as revision_api
from .services import current_services
from .stages import api as stages_api
from .stages import unit_views as unit_history_views
from .suggestions import api as suggestions_api
from .survey import collect

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(404)
def _not_found(_exc):
    return _problem(404, "not found")


def _document_json(document: Document) -> dict:
    return {
        "slug": document.slug,
        "title": document.title,
        "language": document.language,
        "type": document.doctype,
        "published": document.published,
    }


def _outline(unit: Unit) -> dict:
    return {
        "guid": unit.guid,
        "kind": unit.kind,
        "eId": unit.eid,
        "num": unit.num,
        "label": unit.label,
        "heading": unit.heading,
        "children": [_outline(child) for child in unit.children],
    }


def _visible(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    return document


@bp.get("/documents")
def documents():
    rows = current_services().db.scalars(select(Document).order_by(Document.title))
    return jsonify({"documents": [_document_json(d) for d in rows if permissions.can_read(current_user, d)]})


@bp.get("/documents/<slug>")
def document(slug: str):
    document = _visible(slug)
    live = read_live(current_services(), slug)
    return jsonify({**_document_json(document), "outline": [_outline(u) for u in live.units]})


@bp.get("/documents/<slug>/units/<key>")
def unit(slug: str, key: str):
    document = _visible(slug)
    live = read_live(current_services(), slug)
    found = find_unit(live.units, key)
    if found is None:
        abort(404)

    return jsonify(
        {
            "guid": found.guid,
            "kind": found.kind,
            "eId": found.eid,
            "num": found.num,
            "label": found.label,
            "heading": found.heading,
            "text": found.text,
            "children": [_outline(child) for child in found.children],
            # Why it exists: the petitions, themes and events linked to it and to its parts.
            "provenance": unit_provenance(document, live, found),
        }
    )


@bp.get("/documents/<slug>/akn")
def akn(slug: str):
    """The live text as Akoma Ntoso 3.0 (validated against the OASIS schema before it is sent)."""
    return _export(slug, "akn")


@bp.get("/documents/<slug>/html")
def html(slug: str):
    return _export(slug, "html")


@bp.get("/documents/<slug>/text")
def text(slug: str):
    return _export(slug, "text")


def _export(slug: str, fmt: str):
    document = _visible(slug)
    version = request.args.get("version")
    if version is None:  # the live text: cached for the public, keyed by the document's state
        response = cache.export(document, fmt, lambda: _exported(slug, fmt, None))
    else:
        response = _exported(slug, fmt, version)
    if response.status_code == 200:
        disposition = "attachment" if request.args.get("download") else "inline"
        suffix = f"-v{version.lstrip('v')}" if version and version != "live" else ""
        response.headers["Content-Disposition"] = f'{disposition}; filename="{slug}{suffix}.{EXTENSIONS[fmt]}"'
    return response


def _exported(slug: str, fmt: str, version: str | None):
    try:
        data = export_document(cache.reader(current_services()), slug, fmt, current_app.config, version=version)
    except DocumentError as exc:
        if version is not None:  # an unknown or malformed version: the client's mistake
            return _problem(404, str(exc))
        return _problem(500, str(exc))
    except AkomaNtosoError:
        if not read_live(current_services(), slug).units:  # the schema wants one unit at least
            return _problem(409, gettext("The document has no titles, chapters or articles yet: there is nothing to export."))
        raise
    return Response(data, content_type=MEDIA_TYPES[fmt])


@bp.post("/documents")
def create():
    """Import an Akoma Ntoso file or plain text as a new live document (editors only).

    multipart/form-data: `file` (or `text` for pasted text), `format` (text|akn|docx), optional
    `slug`, `title`, `type` (act|bill), `publish` (1), `language` (spa|eng|por|fra: a text or Word
    draft's conventions, detected when absent); CSRF token in `csrf_token` or the
    X-CSRFToken header.
    """
    if not current_user.is_authenticated:
        return _problem(401, "sign in to import documents")
    if not permissions.can_create_documents(current_user):
        return _problem(403, "only the drafting committee and administrators import documents")
    form = request.form
    upload = request.files.get("file")
    data = upload.read() if upload else form.get("text", "").encode("utf-8")
    if not data.strip():
        return _problem(400, "send a file (field 'file') or text (field 'text') to import")
    fmt = form.get("format") or format_for(upload.filename if upload else None)
    try:
        result = import_document(
            current_services(),
            data,
            fmt,
            slug=form.get("slug") or None,
            title=form.get("title") or None,
            doctype=form.get("type") or None,
            published=form.get("publish") in ("1", "true", "on"),
            language=form.get("language") or None,
        )
    except (AkomaNtosoError, DocumentError) as exc:
        current_services().db.rollback()
        return _problem(400, str(exc))
    document = result.document
    body = {
        **_document_json(document),
        "url": url_for("public.document", slug=document.slug),
        "outline": [_outline(u) for u in result.built.units],
        # In the request's language, each with its code and the unit it concerns (editor.import_findings).
        "findings": [{"where": f.where, "message": f.message, "code": f.code,
                      **({"unit": f.eid, "url": url_for("public.unit", slug=document.slug, eid=f.eid)} if f.eid else {})}
                     for f in describe_all(result.built)],
    }
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("api.document", slug=document.slug)
    return response


@bp.post("/documents/<slug>/references")
def link_references(slug: str):
    """Link the live text's citations of its own units ("véase el artículo 16") and bring the
    words of its cross-references up to date with their units' current numbers (those who may
    write the text now). JSON body (optional): `link`, `update` (booleans, both true by default).
    Answers how many citations were linked and how many references' words were updated."""
    document = _visible(slug)
    if not current_user.is_authenticated:
        return _problem(401, "sign in to change the text")
    if not permissions.can_write_text(current_user, document):
        return _problem(403, "you may not change the text of this document now")
    options = request.get_json(silent=True) if request.data else {}
    if not isinstance(options, dict) or any(
        not isinstance(options.get(key, True), bool) for key in ("link", "update")
    ):
        return _problem(400, "send a JSON object whose 'link' and 'update' are true or false")
    link, update = options.get("link", True), options.get("update", True)
    result = current_services().texts.change(
        slug, lambda doc: references.link_references(doc, link=link, update=update),
        origin=f"references:{current_user.id}",
    )
    return jsonify({"linked": result.linked, "updated": result.updated})


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


_unit_schema = {
    "type": "object",
    "properties": {
        "guid": {"type": "string", "format": "uuid"},
        "kind": {"type": "string"},
        "eId": {"type": "string"},
        "num": {"type": "string"},
        "label": {"type": "string"},
        "heading": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/OutlineUnit"}},
    },
}

def _export_path(summary: str, media: str, empty: str | None = None) -> dict:
    responses = {"200": {"description": "the document", "content": {media: {}}},
                 "404": {"description": "no such document"}}
    if empty:
        responses["409"] = {"description": empty}
    return {
        "get": {
            "summary": summary,
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "download", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "any value: served as an attachment"},
            ],
            "responses": responses,
        }
    }


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Constituent API", "version": "1"},
    "paths": {
        "/api/v1/documents": {
            "get": {"summary": "Documents the caller may read", "responses": {"200": {"description": "list"}}},
            "post": {
                "summary": "Import an Akoma Ntoso file or plain text as a new document (editors)",
                "requestBody": {"content": {"multipart/form-data": {"schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "text": {"type": "string"},
                        "format": {"type": "string", "enum": list(IMPORTERS)},
                        "slug": {"type": "string"}, "title": {"type": "string"},
                        "type": {"type": "string", "enum": ["act", "bill"]},
                        "publish": {"type": "string"},
                        "language": {"type": "string", "enum": list(TEXT_LANGUAGES)},
                    },
                }}}},
                "responses": {"201": {"description": "created, with the import report in findings"},
                              "400": {"description": "the input cannot be imported (nothing is created)"},
                              "401": {"description": "not signed in"},
                              "403": {"description": "not an editor"}},
            },
        },
        "/api/v1/documents/{slug}": {
            "get": {
                "summary": "A document's metadata and live outline",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "document"}, "404": {"description": "no such document"}},
            }
        },
        **{f"/api/v1/documents/{{slug}}/{fmt}": _export_path(summary, media, empty) for fmt, summary, media, empty in (
            ("akn", "The live text as Akoma Ntoso 3.0 XML, valid against the OASIS schema", "application/akn+xml",
             "the document has no units yet: the schema accepts no empty body"),
            ("html", "The live text as a standalone accessible HTML page", "text/html", None),
            ("text", "The live text as plain text with its labels", "text/plain", None),
        )},
        "/api/v1/documents/{slug}/references": {
            "post": {
                "summary": "Link the live text's citations of its own units and update the words of its references",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"link": {"type": "boolean"}, "update": {"type": "boolean"}},
                }}}},
                "responses": {"200": {"description": "how many citations were linked and references updated"},
                              "400": {"description": "link or update is not true or false"},
                              "401": {"description": "not signed in"},
                              "403": {"description": "may not change the text now"},
                              "404": {"description": "no such document"}},
            }
        },
        "/api/v1/documents/{slug}/units/{key}": {
            "get": {
                "summary": "One unit by eId or GUID: its text and provenance",
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "unit"}, "404": {"description": "no such unit"}},
            }
        },
    },
    "components": {"schemas": {"OutlineUnit": _unit_schema}},
}


def _provenance_paths() -> dict:
    described = {
        "/api/v1/documents/{slug}/provenance.json": "Every link between units and petitions, themes and events (open data)",
        "/api/v1/documents/{slug}/provenance.csv": "The same links as CSV",
    }
    paths = {
        path: {"get": {
            "summary": summary,
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the links"}, "404": {"description": "no such document"}},
        }}
        for path, summary in described.items()
    }
    return {**links_api.OPENAPI_PATHS, **paths}


# Each feature describes its own paths; this document gathers them.
OPENAPI["paths"].update(_provenance_paths())
for _feature in (stages_api, comments_api, review_views, amendments_api, assembly_api, commissions_api, search_feature,
                 collect, revision_api, unit_history_views, petitions_api, suggestions_api, notifications_views):
    OPENAPI["paths"].update(_feature.OPENAPI_PATHS)
