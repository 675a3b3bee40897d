"""Adopted amendments as Akoma Ntoso metadata of the amended document (placeholder until built)."""

from __future__ import annotations

from dataclasses import dataclass, field

from akoma_ntoso.akn import LifecycleEvent, OntologyRef, TextualMod


@dataclass
class AmendmentRecords:
    references: list[OntologyRef] = field(default_factory=list)
    events: list[LifecycleEvent] = field(default_factory=list)
    modifications: list[TextualMod] = field(default_factory=list)


def akn_records(db, document, units) -> AmendmentRecords:
    return AmendmentRecords()
