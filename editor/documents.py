"""Legal documents as the application sees them: a row in SQL plus a live CRDT text in the store."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from pycrdt import Doc, Map, XmlFragment
from sqlalchemy import select

from akoma_ntoso import UNIT_KINDS, Unit, is_valid_guid, new_guid, read_units
from crdt.xmltree import etree_to_fragment, fragment_to_etree

from .models import Document

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


class DocumentError(ValueError):
    """A document request that cannot be carried out, with a message for the user."""


@dataclass(frozen=True)
class LiveText:
    """A consistent reading of a document's live text: its meta and its unit tree."""

    meta: dict
    body: etree._Element
    units: tuple[Unit, ...]


def get_document(db, slug: str) -> Document | None:
    return db.scalar(select(Document).where(Document.slug == slug))


def _meta_of(doc: Doc) -> dict:
    meta = doc.get("meta", type=Map)
    return {k: meta[k] for k in meta.keys()}


def read_live(services, slug: str) -> LiveText:
    """Read the live text in the document's room (serially with edits), then number it."""

    def snapshot(doc: Doc):
        return _meta_of(doc), fragment_to_etree(doc.get("body", type=XmlFragment))

    meta, body = services.rooms.call(slug, snapshot)
    return LiveText(meta=meta, body=body, units=read_units(body, meta))


def create_document(
    services,
    slug: str,
    title: str,
    body: etree._Element,
    language: str = "spa",
    published: bool = False,
    doctype: str = "bill",
) -> Document:
    """Create the SQL row and the first CRDT state of a new document, atomically enough:
    the text is stored first, so a row never points at a missing text."""
    db = services.db
    if not SLUG.match(slug):
        raise DocumentError(f"{slug!r} is not a valid slug (lower-case letters, digits and dashes)")
    if get_document(db, slug) or services.store.exists(slug):
        raise DocumentError(f"a document with the slug {slug!r} already exists")
    for element in body.iter(*UNIT_KINDS):
        if not is_valid_guid(element.get("guid") or ""):
            element.set("guid", new_guid())
    read_units(body, {"language": language})  # refuse a body that is not a legal unit tree
    doc = Doc()
    doc["meta"] = meta = Map()
    doc["body"] = fragment = XmlFragment()
    with doc.transaction():
        meta["title"] = title
        meta["language"] = language
        etree_to_fragment(body, fragment)
    services.store.append(slug, [doc.get_update()])
    document = Document(slug=slug, title=title, language=language, published=published, doctype=doctype)
    db.add(document)
    db.commit()
    return document
