"""The JSON API under /api/v1, described by its own OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from flask_login import current_user
from sqlalchemy import select

from akoma_ntoso import Unit, find_unit

from . import current_services, permissions
from .documents import get_document, read_live
from .models import Document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _problem(status: int, message: str):
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response


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
    _visible(slug)
    found = find_unit(read_live(current_services(), slug).units, key)
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
        }
    )


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

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Constituent API", "version": "1"},
    "paths": {
        "/api/v1/documents": {
            "get": {"summary": "Documents the caller may read", "responses": {"200": {"description": "list"}}}
        },
        "/api/v1/documents/{slug}": {
            "get": {
                "summary": "A document's metadata and live outline",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "document"}, "404": {"description": "no such document"}},
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
