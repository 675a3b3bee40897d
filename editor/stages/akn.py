"""The stages a document went through, as Akoma Ntoso metadata: `<workflow>` steps, `<lifecycle>`
events and the TLC references they point at."""

from __future__ import annotations

from dataclasses import dataclass, field

from akoma_ntoso.akn import LifecycleEvent, OntologyRef, WorkflowStep

from ..models import Document
from .current import stage_name, stages_of, transitions_of


@dataclass
class StageRecords:
    references: list[OntologyRef] = field(default_factory=list)
    steps: list[WorkflowStep] = field(default_factory=list)
    events: list[LifecycleEvent] = field(default_factory=list)


def stage_records(db, document: Document, work_date: str) -> StageRecords:
    """One step for the start of the first stage, then one per transition (who moved the document,
    acting as what, into which stage); each transition is also a lifecycle event: the text frozen
    at the end of a stage is a new expression of the work."""
    records = StageRecords()
    stages = stages_of(db, document)
    names = {s.key: stage_name(s) for s in stages}
    transitions = transitions_of(db, document)
    used = {stages[0].key, *(t.to_key for t in transitions), *(t.from_key for t in transitions)}
    for key in sorted(used):
        records.references.append(OntologyRef("TLCConcept", f"stage_{key}",
                                               f"/ontology/concept/constituent/stage/{key}", names.get(key, key)))
    people: dict[int, str] = {}
    roles: set[str] = set()
    # The schema wants an agent for every step: the text's first stage began with its creation here.
    records.steps.append(WorkflowStep(date=work_date, refers=f"stage_{stages[0].key}", by="constituent"))
    for transition in transitions:
        person = f"person_{transition.user_id}" if transition.user_id else "constituent"
        if transition.user_id:
            people[transition.user_id] = transition.user_name or f"#{transition.user_id}"
        role = f"role_{transition.user_role}" if transition.user_role else None
        if transition.user_role:
            roles.add(transition.user_role)
        day = transition.at.date().isoformat()
        records.steps.append(WorkflowStep(date=day, refers=f"stage_{transition.to_key}", by=person, as_role=role))
        records.events.append(LifecycleEvent(eid=f"evt_stage_{transition.sequence}", date=day, type="generation",
                                             source="constituent", refers=f"stage_{transition.to_key}"))
    for user_id, name in sorted(people.items()):
        records.references.append(OntologyRef("TLCPerson", f"person_{user_id}",
                                              f"/ontology/person/constituent/{user_id}", name))
    for role in sorted(roles):
        records.references.append(OntologyRef("TLCRole", f"role_{role}", f"/ontology/role/constituent/{role}", role))
    return records
