"""Links between units (by GUID) and their sources: petitions, themes, citizen events.

A link names its unit by GUID, so it follows the unit through edits, renumbering and moves;
`unit_eid` and `unit_text` keep what the unit was when linked, for telling the committee what
became of it after a split, merge or deletion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from akoma_ntoso import Unit, iter_units
from akoma_ntoso.render import render_text

from ..models import Document
from .models import RELATIONS, SOURCE_KINDS, CitizenEvent, Petition, ProvenanceLink, Theme

SOURCE_MODELS = {"petition": Petition, "theme": Theme, "event": CitizenEvent}

#: How much of a unit's text a link keeps, to say later where that text went.
SNAPSHOT_CHARS = 4000


class LinkError(ValueError):
    """A link that cannot be made or removed, with a message for the user."""


def source_of(db, document: Document, kind: str, source_id: int):
    """The petition, theme or event `kind`/`source_id` of `document`, or None."""
    model = SOURCE_MODELS.get(kind)
    if model is None:
        return None
    row = db.get(model, source_id)
    return row if row is not None and row.document_id == document.id else None


def unit_text(unit: Unit) -> str:
    """A unit's heading and text, its descendants included, as plain text."""
    return render_text((unit,)).strip()


def find_guid(units: Iterable[Unit], guid: str) -> Unit | None:
    return next((u for u in iter_units(units) if u.guid == guid), None)


def create_link(
    db,
    document: Document,
    units,
    unit_guid: str,
    source_kind: str,
    source_id: int,
    relation: str = "motivated",
    note: str = "",
    user=None,
    origin: str = "manual",
) -> tuple[ProvenanceLink, bool]:
    """Link the unit `unit_guid` of the live text `units` to a source; (link, created).

    Linking an already linked pair updates its relation and note (created is False). Nothing is
    written when the unit, the source or the relation is wrong: LinkError says which. The caller
    commits.
    """
    if source_kind not in SOURCE_KINDS:
        raise LinkError(f"unknown kind of source {source_kind!r}; expected one of {', '.join(SOURCE_KINDS)}")
    if relation not in RELATIONS:
        raise LinkError(f"unknown relation {relation!r}; expected one of {', '.join(RELATIONS)}")
    unit = find_guid(units, unit_guid)
    if unit is None:
        raise LinkError(f"there is no unit {unit_guid!r} in the text of {document.slug!r}")
    if source_of(db, document, source_kind, source_id) is None:
        raise LinkError(f"there is no {source_kind} {source_id} for {document.slug!r}")
    note = (note or "").strip()
    if len(note) > 2000:
        raise LinkError("the note is longer than 2,000 characters")
    existing = db.scalar(
        select(ProvenanceLink).where(
            ProvenanceLink.document_id == document.id,
            ProvenanceLink.unit_guid == unit_guid,
            ProvenanceLink.source_kind == source_kind,
            ProvenanceLink.source_id == source_id,
        )
    )
    if existing is not None:
        existing.relation, existing.note = relation, note or existing.note
        return existing, False
    link = ProvenanceLink(
        document_id=document.id,
        unit_guid=unit_guid,
        source_kind=source_kind,
        source_id=source_id,
        relation=relation,
        note=note,
        origin=origin,
        unit_eid=unit.eid,
        unit_text=unit_text(unit)[:SNAPSHOT_CHARS],
        created_by=getattr(user, "id", None),
    )
    db.add(link)
    db.flush()
    return link, True


def delete_link(db, document: Document, link_id: int) -> ProvenanceLink:
    """Remove one link of `document` (the caller commits); LinkError when there is none."""
    link = db.get(ProvenanceLink, link_id)
    if link is None or link.document_id != document.id:
        raise LinkError(f"there is no link {link_id} in {document.slug!r}")
    db.delete(link)
    db.flush()
    return link


def links_by_unit(db, document: Document) -> dict[str, list[ProvenanceLink]]:
    """Every link of the document, grouped by unit GUID, oldest first."""
    grouped: dict[str, list[ProvenanceLink]] = defaultdict(list)
    rows = db.scalars(
        select(ProvenanceLink).where(ProvenanceLink.document_id == document.id).order_by(ProvenanceLink.id)
    )
    for link in rows:
        grouped[link.unit_guid].append(link)
    return dict(grouped)


def links_of_source(db, document: Document, kind: str, source_id: int) -> list[ProvenanceLink]:
    """The links of one petition, theme or event, oldest first."""
    return list(
        db.scalars(
            select(ProvenanceLink)
            .where(
                ProvenanceLink.document_id == document.id,
                ProvenanceLink.source_kind == kind,
                ProvenanceLink.source_id == source_id,
            )
            .order_by(ProvenanceLink.id)
        )
    )


def linked_source_ids(db, document: Document, kind: str) -> set[int]:
    """The ids of the sources of `kind` that at least one unit is linked to."""
    return set(
        db.scalars(
            select(ProvenanceLink.source_id)
            .where(ProvenanceLink.document_id == document.id, ProvenanceLink.source_kind == kind)
            .distinct()
        )
    )
