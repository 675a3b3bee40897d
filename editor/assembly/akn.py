"""The assembly in a document's Akoma Ntoso export: `<references>` entries for the body (a
TLCOrganization), its groups (TLCOrganization), its members (TLCPerson, with their group and seat
in showAs) and its rules (TLCConcept: quorum, majorities, changing votes, abstentions, tabling
deadlines). Written in the document's language, outside any request."""

from __future__ import annotations

import re

from akoma_ntoso.akn import OntologyRef

from ..models import Document
from . import rules as assembly_rules
from .models import AssemblyRules

WORDS = {
    "es": {"assembly": "Asamblea", "elected": "electo", "designated": "designado", "quorum": "Quórum",
           "none": "sin quórum", "members": "integrantes", "majority": "Mayoría", "simple": "simple",
           "absolute": "absoluta", "two_thirds_present": "dos tercios de los presentes",
           "two_thirds_members": "dos tercios de los integrantes", "changeable": "El voto puede cambiarse hasta el cierre",
           "final": "El voto no puede cambiarse", "abstentions": "Se registran abstenciones",
           "no_abstentions": "No hay abstenciones", "deadline": "Plazo para presentar enmiendas",
           "substitution": "sustitución", "insertion": "adición", "deletion": "supresión"},
    "en": {"assembly": "Assembly", "elected": "elected", "designated": "designated", "quorum": "Quorum",
           "none": "no quorum", "members": "members", "majority": "Majority", "simple": "simple",
           "absolute": "absolute", "two_thirds_present": "two thirds of those present",
           "two_thirds_members": "two thirds of all members", "changeable": "A vote may be changed until the vote closes",
           "final": "A vote cannot be changed", "abstentions": "Abstentions are recorded",
           "no_abstentions": "No abstentions", "deadline": "Tabling deadline",
           "substitution": "substitution", "insertion": "insertion", "deletion": "deletion"},
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def assembly_references(db, document: Document) -> list[OntologyRef]:
    """The body and its rules as `<references>` entries (none until its rules were configured, or
    when it has no members)."""
    if db.get(AssemblyRules, document.id) is None:
        return []
    members = assembly_rules.members_of(db, document)
    if not members:
        return []
    words = WORDS["en" if document.language.startswith("en") else "es"]
    rules = assembly_rules.rules_of(db, document)
    seats = assembly_rules.seats_of(db, document)
    base = "/ontology/organization/constituent/" + _slug(document.slug)
    found = [OntologyRef("TLCOrganization", "assembly", base + "/assembly", f"{words['assembly']} ({len(members)})")]
    groups = sorted({seats[m.id].group_name for m in members if m.id in seats and seats[m.id].group_name})
    for n, group in enumerate(groups, start=1):
        found.append(OntologyRef("TLCOrganization", f"assemblyGroup_{n}", f"{base}/group/{_slug(group)}", group))
    for member in members:
        seat = seats.get(member.id)
        detail = ", ".join(x for x in ((seat.group_name if seat else ""), words[seat.seat if seat else "elected"]) if x)
        found.append(OntologyRef("TLCPerson", f"assemblyMember_{member.id}",
                                 f"/ontology/person/constituent/{member.id}", f"{member.name} ({detail})"))
    concept = "/ontology/concept/constituent/assembly/"
    needed = assembly_rules.quorum_of(rules, len(members))
    quorum = words["none"] if rules.quorum_kind == "none" else f"{needed} {words['members']}"
    found.append(OntologyRef("TLCConcept", "assemblyQuorum", concept + f"quorum/{rules.quorum_kind}/{needed}",
                             f"{words['quorum']}: {quorum}"))
    found.append(OntologyRef("TLCConcept", "assemblyMajority", concept + f"majority/{rules.majority}",
                             f"{words['majority']}: {words.get(rules.majority, rules.majority)}"))
    for kind in ("substitution", "insertion", "deletion"):
        special = getattr(rules, f"majority_{kind}")
        if special:
            found.append(OntologyRef("TLCConcept", f"assemblyMajority_{kind}", concept + f"majority/{kind}/{special}",
                                     f"{words['majority']} ({words[kind]}): {words.get(special, special)}"))
    found.append(OntologyRef("TLCConcept", "assemblyVotes",
                             concept + ("votes/changeable" if rules.votes_changeable else "votes/final"),
                             words["changeable" if rules.votes_changeable else "final"]))
    found.append(OntologyRef("TLCConcept", "assemblyAbstentions",
                             concept + ("abstentions/recorded" if rules.abstentions else "abstentions/none"),
                             words["abstentions" if rules.abstentions else "no_abstentions"]))
    for n, (stage, deadline) in enumerate(sorted(assembly_rules.deadlines_of(rules).items()), start=1):
        found.append(OntologyRef("TLCConcept", f"assemblyDeadline_{n}",
                                 concept + f"deadline/{_slug(stage)}/{deadline.strftime('%Y-%m-%dT%H:%MZ')}",
                                 f"{words['deadline']} ({stage}): {deadline.strftime('%Y-%m-%d %H:%M')} UTC"))
    return found
