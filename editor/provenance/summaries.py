"""The read side of provenance: what the public pages, the open data and the Akoma Ntoso export
say about each source and each linked unit.

`Provenance.load(db, document)` reads the document's links and sources once (a handful of
queries, whatever the number of links); its methods then answer "why does this unit exist",
"what did this petition lead to", "which clauses address this theme", and "what is not
addressed yet".
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from akoma_ntoso import Unit, iter_units
from akoma_ntoso.akn import OntologyRef

from ..models import Document
from ..petitions.models import Petition, PetitionEvent, SignatureCount, Threshold
from ..survey.coder import theme_counts, theme_respondents, total_respondents
from ..survey.models import Survey, Theme
from .models import CitizenEvent, ProvenanceLink


@dataclass
class PetitionSummary:
    petition: Petition
    signatures: int
    counted_at: datetime | None
    #: The thresholds crossed, lowest first: (signatures, action, date crossed).
    reached: list[tuple[int, str, datetime]] = field(default_factory=list)

    kind = "petition"

    @property
    def id(self) -> int:
        return self.petition.id

    @property
    def title(self) -> str:
        return self.petition.title


@dataclass
class ThemeSummary:
    theme: Theme
    respondents: int
    share: float  # of all respondents of the document's surveys, 0..1

    kind = "theme"

    @property
    def id(self) -> int:
        return self.theme.id

    @property
    def title(self) -> str:
        return self.theme.name


@dataclass
class EventSummary:
    event: CitizenEvent

    kind = "event"

    @property
    def id(self) -> int:
        return self.event.id

    @property
    def title(self) -> str:
        return self.event.title

    @property
    def held_on(self) -> date:
        return self.event.held_on


@dataclass(frozen=True)
class LinkedSource:
    """One link as the public sees it: the unit it is on, the relation and the source."""

    link: ProvenanceLink
    unit: Unit | None  # None: the unit is no longer in the text
    source: PetitionSummary | ThemeSummary | EventSummary


@dataclass
class Provenance:
    document: Document
    petitions: dict[int, PetitionSummary]
    themes: dict[int, ThemeSummary]
    events: dict[int, EventSummary]
    links: list[ProvenanceLink]
    respondents: int  # of all the document's surveys
    synthetic_survey: bool  # whether any of them is synthetic (say so wherever counts show)

    @classmethod
    def load(cls, db, document: Document, guids: set[str] | None = None) -> "Provenance":
        """The document's provenance; with `guids`, only the links of those units, and survey
        figures only for the themes they are linked to (a clause's page: counting respondents
        for every theme of a large survey is the expensive part)."""
        query = select(ProvenanceLink).where(ProvenanceLink.document_id == document.id)
        if guids is not None:
            query = query.where(ProvenanceLink.unit_guid.in_(guids))
        links = list(db.scalars(query.order_by(ProvenanceLink.id)))
        petitions = {p.id: PetitionSummary(p, 0, None) for p in db.scalars(
            select(Petition).where(Petition.document_id == document.id).order_by(Petition.title))}
        if petitions:
            for petition_id, signatures, counted_at in db.execute(
                select(SignatureCount.petition_id, SignatureCount.signatures, SignatureCount.counted_at)
                .join(Petition, Petition.id == SignatureCount.petition_id)
                .where(Petition.document_id == document.id)
                .order_by(SignatureCount.counted_at)
            ):
                summary = petitions[petition_id]
                summary.signatures, summary.counted_at = signatures, counted_at
            for petition_id, signatures, action, occurred_at in db.execute(
                select(PetitionEvent.petition_id, Threshold.signatures, Threshold.action, PetitionEvent.occurred_at)
                .join(Threshold, Threshold.id == PetitionEvent.threshold_id)
                .where(Threshold.document_id == document.id)
                .order_by(Threshold.signatures)
            ):
                petitions[petition_id].reached.append((signatures, action, occurred_at))
        respondents = total_respondents(db, document)
        if guids is None:
            themes = {c.theme.id: ThemeSummary(c.theme, c.respondents, c.share) for c in theme_counts(db, document)}
        else:
            wanted = {link.source_id for link in links if link.source_kind == "theme"}
            themes = {}
            for theme in db.scalars(select(Theme).where(Theme.id.in_(wanted))):
                n = theme_respondents(db, theme)
                themes[theme.id] = ThemeSummary(theme, n, n / respondents if respondents else 0.0)
        synthetic = bool(db.scalar(
            select(func.count(Survey.id)).where(Survey.document_id == document.id, Survey.synthetic.is_(True))))
        events = {e.id: EventSummary(e) for e in db.scalars(
            select(CitizenEvent).where(CitizenEvent.document_id == document.id).order_by(CitizenEvent.held_on.desc()))}
        return cls(document, petitions, themes, events, links, respondents, synthetic)

    # --- lookups ---

    def source(self, kind: str, source_id: int):
        table = {"petition": self.petitions, "theme": self.themes, "event": self.events}.get(kind, {})
        return table.get(source_id)

    def resolved(self, units) -> list[LinkedSource]:
        """Every link with its current unit (None when gone) and its source, in text order."""
        by_guid = {u.guid: u for u in iter_units(units)}
        order = {guid: i for i, guid in enumerate(by_guid)}
        found = []
        for link in self.links:
            source = self.source(link.source_kind, link.source_id)
            if source is not None:
                found.append(LinkedSource(link, by_guid.get(link.unit_guid), source))
        found.sort(key=lambda item: (order.get(item.link.unit_guid, len(order)), item.link.id))
        return found

    def for_unit(self, unit: Unit, units) -> tuple[list[LinkedSource], list[LinkedSource]]:
        """(links on the unit itself, links on units inside it), the latter in text order."""
        inside = {u.guid for u in iter_units(unit.children)}
        own, within = [], []
        for item in self.resolved(units):
            if item.link.unit_guid == unit.guid:
                own.append(item)
            elif item.link.unit_guid in inside:
                within.append(item)
        return own, within

    def of_source(self, kind: str, source_id: int, units) -> list[LinkedSource]:
        return [i for i in self.resolved(units) if i.link.source_kind == kind and i.link.source_id == source_id]

    def counts_by_source(self) -> dict[tuple[str, int], int]:
        """How many units each source is linked to, by (kind, id)."""
        counts: dict[tuple[str, int], int] = defaultdict(int)
        for link in self.links:
            counts[(link.source_kind, link.source_id)] += 1
        return dict(counts)

    def coverage(self, units, successful: int) -> tuple[list[ThemeSummary], list[PetitionSummary]]:
        """Themes that respondents raised and petitions with at least `successful` signatures that
        no unit of the current text is linked to, most raised / most signed first."""
        present = {u.guid for u in iter_units(units)}
        covered: dict[str, set[int]] = defaultdict(set)
        for link in self.links:
            if link.unit_guid in present:
                covered[link.source_kind].add(link.source_id)
        themes = sorted(
            (t for t in self.themes.values() if t.respondents and t.id not in covered["theme"]),
            key=lambda t: -t.respondents,
        )
        petitions = sorted(
            (p for p in self.petitions.values() if p.signatures >= successful and p.id not in covered["petition"]),
            key=lambda p: -p.signatures,
        )
        return themes, petitions

    # --- Akoma Ntoso ---

    def akn_references(self, units, base: str = "/ontology") -> tuple[list[OntologyRef], dict[str, list[str]]]:
        """The `<references>` entries for linked sources and, per unit GUID, the eIds its
        `refersTo` names. Only sources that some unit of `units` is linked to are listed."""
        present = {u.guid for u in iter_units(units)}
        refs: dict[tuple[str, int], OntologyRef] = {}
        refers: dict[str, list[str]] = defaultdict(list)
        for link in self.links:
            source = self.source(link.source_kind, link.source_id)
            if source is None or link.unit_guid not in present:
                continue
            key = (link.source_kind, link.source_id)
            if key not in refs:
                refs[key] = _ontology_ref(source, base)
            eid = refs[key].eid
            if eid not in refers[link.unit_guid]:
                refers[link.unit_guid].append(eid)
        return list(refs.values()), dict(refers)


def link_counts(db, document: Document) -> dict[str, dict[str, int]]:
    """For each linked unit (by GUID), how many petitions, themes and events it is linked to:
    one grouped query, for the reading view's badges (no figures are computed)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"petition": 0, "theme": 0, "event": 0})
    for guid, kind, n in db.execute(
        select(ProvenanceLink.unit_guid, ProvenanceLink.source_kind, func.count())
        .where(ProvenanceLink.document_id == document.id)
        .group_by(ProvenanceLink.unit_guid, ProvenanceLink.source_kind)
    ):
        counts[guid][kind] = n
    return dict(counts)


def _ontology_ref(source, base: str) -> OntologyRef:
    if isinstance(source, PetitionSummary):
        return OntologyRef("TLCReference", f"petition_{source.id}", f"{base}/petition/constituent/{source.id}",
                           source.title, name="petition")
    if isinstance(source, ThemeSummary):
        key = _NCNAME.sub("-", source.theme.key) or str(source.id)
        return OntologyRef("TLCConcept", f"theme_{key}", f"{base}/concept/constituent/theme/{key}", source.title)
    return OntologyRef("TLCEvent", f"event_{source.id}", f"{base}/event/constituent/{source.id}", source.title)


_NCNAME = re.compile(r"[^A-Za-z0-9_.-]+")
