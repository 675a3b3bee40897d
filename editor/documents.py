"""Legal documents as the application sees them: a row in SQL plus a live CRDT text in the store."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from lxml import etree
from pycrdt import Doc, Map, XmlFragment
from sqlalchemy import select

from akoma_ntoso import UNIT_KINDS, is_valid_guid, iter_units, new_guid, read_units
from crdt.xmltree import etree_to_fragment

from .inputs import bidi_control_in
from .models import Document, UnitName

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


class DocumentError(ValueError):
    """A document request that cannot be carried out, with a message for the user."""


def get_document(db, slug: str) -> Document | None:
    return db.scalar(select(Document).where(Document.slug == slug))


def create_document(
    services,
    slug: str,
    title: str,
    body: etree._Element,
    language: str = "spa",
    published: bool = False,
    doctype: str = "bill",
    extra_meta: Mapping[str, object] | None = None,
    unit_names: Mapping[str, str] | None = None,
) -> Document:
    """Create the SQL row and the first CRDT state of a new document, atomically enough:
    the text is stored first, so a row never points at a missing text.

    `extra_meta` adds to the live meta map: `numbering` (per-kind styles), `labels` (per-kind
    labels an imported act names its units with) and `frbr` (the work's
    FRBR data an import brings); mappings are stored as JSON text. `unit_names` are the units'
    names in an imported file, by GUID, remembered as their first names (see `record_unit_names`).
    """
    db = services.db
    if not SLUG.match(slug):
        raise DocumentError(f"{slug!r} is not a valid slug (lower-case letters, digits and dashes)")
    control = bidi_control_in(title)
    if control is not None:
        raise DocumentError(f"the title contains an invisible character that reverses the text around it ({control})")
    if get_document(db, slug) or services.store.exists(slug):
        raise DocumentError(f"a document with the slug {slug!r} already exists")
    for element in body.iter(*UNIT_KINDS):
        if not is_valid_guid(element.get("guid") or ""):
            element.set("guid", new_guid())
    values: dict[str, object] = {"title": title, "language": language}
    for key, value in (extra_meta or {}).items():
        values[key] = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, Mapping) else value
    units = read_units(body, values)  # refuse a body that is not a legal unit tree
    doc = Doc()
    doc["meta"] = meta = Map()
    doc["body"] = fragment = XmlFragment()
    with doc.transaction():
        for key, value in values.items():
            meta[key] = value
        etree_to_fragment(body, fragment)
    services.store.append(slug, [doc.get_update()])
    document = Document(slug=slug, title=title, language=language, published=published, doctype=doctype)
    db.add(document)
    db.flush()
    record_unit_names(db, document, units, first=unit_names)
    db.commit()
    return document


def record_unit_names(db, document: Document, units, first: Mapping[str, str] | None = None) -> dict[str, str]:
    """Remember the eId of every unit not seen before (its wId from now on); idempotent.
    `first` gives, by GUID, a name to remember instead: the eId the unit had in an imported
    Akoma Ntoso file ("sec_3"), which its exports then keep as its wId.

    Returns every unit's first eId by GUID (the wIds an export writes where they differ).
    """
    rows = db.execute(select(UnitName.guid, UnitName.first_eid).where(UnitName.document_id == document.id))
    names = {guid: eid for guid, eid in rows}
    first = first or {}
    fresh = {u.guid: first.get(u.guid) or u.eid for u in iter_units(units) if u.guid and u.guid not in names}
    if fresh:
        dialect = db.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        values = [{"document_id": document.id, "guid": g, "first_eid": e} for g, e in fresh.items()]
        db.execute(insert(UnitName).values(values).on_conflict_do_nothing())
        names.update(fresh)
    return names
