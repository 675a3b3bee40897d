"""Adopted amendments as Akoma Ntoso metadata of the amended document: a `TLCReference`
(name="amendment") per amendment, an `eventRef` type="amendment" per adoption and a
`textualMod` per unit it changed, in `<passiveModifications>`, in the order of adoption (a commission's
dictamen, a compromise, a reserved article and a sub-amendment alike)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from akoma_ntoso import iter_units
from akoma_ntoso.akn import LifecycleEvent, OntologyRef, TextualMod
from akoma_ntoso.amendment import amendment_title

from .. import clock
from .models import DICTAMEN, Amendment, AmendmentChange


@dataclass
class AmendmentRecords:
    references: list[OntologyRef] = field(default_factory=list)
    events: list[LifecycleEvent] = field(default_factory=list)
    modifications: list[TextualMod] = field(default_factory=list)


def _wording(heading: str | None, text: str | None) -> str | None:
    if heading is None and text is None:
        return None
    return "\n".join(part for part in (heading or "", text or "") if part)


def akn_records(db, document, units) -> AmendmentRecords:
    """The records of every amendment adopted so far; `units` is the text being exported (a
    changed unit is pointed at by its eId there, or by the eId it had when it was removed)."""
    records = AmendmentRecords()
    # In plenary: an amendment adopted in commission reaches the text through its dictamen. A
    # sub-amendment or an identical amendment is listed (an event) though it has no change of its own.
    adopted = list(db.scalars(select(Amendment).where(Amendment.document_id == document.id,
                                                      Amendment.state == "adopted",
                                                      or_(Amendment.commission_id.is_(None), Amendment.kind == DICTAMEN))
                              .order_by(Amendment.decided_at, Amendment.number)))
    if not adopted:
        return records
    eids = {u.guid: u.eid for u in iter_units(units)}
    changes: dict[int, list[AmendmentChange]] = {}
    for change in db.scalars(select(AmendmentChange).where(AmendmentChange.amendment_id.in_([a.id for a in adopted]))
                             .order_by(AmendmentChange.amendment_id, AmendmentChange.position)):
        changes.setdefault(change.amendment_id, []).append(change)
    for amendment in adopted:
        reference = f"amendment_{amendment.number}"
        href = amendment.frbr_work or f"/ontology/amendment/constituent/{document.slug}/{amendment.number}"
        records.references.append(OntologyRef("TLCReference", reference, href,
                                              amendment_title(amendment.number, document.language), name="amendment"))
        decided = clock.as_utc(amendment.decided_at)
        day = (decided or amendment.updated_at).date().isoformat()
        records.events.append(LifecycleEvent(eid=f"evt_amendment_{amendment.number}", date=day, type="amendment",
                                             source=reference))
        for index, change in enumerate(changes.get(amendment.id, ()), start=1):
            destination = eids.get(change.guid) or change.eid_after or change.eid_before or ""
            records.modifications.append(TextualMod(
                eid=f"pmod_amendment_{amendment.number}_{index}", type=change.type, source=reference,
                destination=destination,
                old=_wording(change.old_heading, change.old_text) if change.type != "insertion" else None,
                new=_wording(change.new_heading, change.new_text) if change.type != "repeal" else None))
    return records
