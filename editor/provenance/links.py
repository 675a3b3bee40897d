"""Links between units (by GUID) and their sources: petitions, themes, citizen events.

A link names its unit by GUID, so it follows the unit through edits, renumbering and moves;
`unit_eid` and `unit_text` keep what the unit was when linked, for telling the committee what
became of it after a split, merge or deletion.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import select

from akoma_ntoso import Unit, is_valid_guid, iter_units
from akoma_ntoso.render import render_text

from ..errors import say as _
from ..models import Document
from ..petitions.models import Petition
from ..survey.models import Theme
from .models import RELATIONS, SOURCE_KINDS, CitizenEvent, ProvenanceLink, SuggestionVerdict
from .text import fold, terms

SOURCE_MODELS = {"petition": Petition, "theme": Theme, "event": CitizenEvent}

#: How much of a unit's text a link keeps, to say later where that text went.
SNAPSHOT_CHARS = 4000


#: The kinds of source as a message names them, in the reader's language.
_SOURCE_NAMES = {"petition": lambda: _("petition"), "theme": lambda: _("theme"), "event": lambda: _("event")}


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
        raise LinkError(_("unknown kind of source %(kind)s; expected one of %(kinds)s", kind=repr(source_kind),
                          kinds=", ".join(SOURCE_KINDS)))
    if relation not in RELATIONS:
        raise LinkError(_("unknown relation %(relation)s; expected one of %(relations)s", relation=repr(relation),
                          relations=", ".join(RELATIONS)))
    unit = find_guid(units, unit_guid)
    if unit is None:
        raise LinkError(_("there is no unit %(guid)s in the text of %(slug)s", guid=repr(unit_guid),
                          slug=repr(document.slug)))
    if source_of(db, document, source_kind, source_id) is None:
        raise LinkError(_("there is no %(kind)s %(id)s for %(slug)s", kind=_SOURCE_NAMES[source_kind](), id=source_id,
                          slug=repr(document.slug)))
    note = (note or "").strip()
    if len(note) > 2000:
        raise LinkError(_("the note is longer than 2,000 characters"))
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
        raise LinkError(_("there is no link %(id)s in %(slug)s", id=link_id, slug=repr(document.slug)))
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


# === suggestions, what became of linked units, moving links ====================================
#
# Units are ranked for a source with BM25 over each unit's own words plus those of its
# sub-units (an apartado's numerals, a numeral's incisos), its heading counting three times:
# plain cosine similarity (text.Corpus) favours the shortest fragments that happen to repeat a
# word, while BM25's partial length normalisation lets "B. Gestión sustentable del agua" with
# its seven numerals win over an inciso that says "agua" once. Titles and chapters are left out
# (they hold whole sections of the text, never the clause a petition asks for). Sources are
# ranked for one unit by TF-IDF cosine with the same document-wide weights (the unit's vector
# is fixed, so cosine normalises for the length of each petition, theme or event).
#
# Petition titles on the case study's platform are English while the text is Spanish: source
# texts are bridged through a small English→Spanish glossary of the vocabulary of petitions and
# constitutions before they are compared.

#: A unit still "is" its linked-time self when it holds this share of that text's weight.
OK_SHARE = 0.8
#: …and even below OK_SHARE it counts as merely edited unless some other unit took this much,
#: or it kept less than REWRITTEN_SHARE.
MOVED_SHARE = 0.25
REWRITTEN_SHARE = 0.5
HEADING_BOOST = 3
#: Below this cosine a source shares little more than a common word with the unit.
MIN_SOURCE_SCORE = 0.05
_BM25_K1, _BM25_B = 1.2, 0.75
_NOT_SUGGESTED = ("title", "chapter")


@dataclass(frozen=True)
class UnitSuggestion:
    """A unit that a petition, theme or event most likely corresponds to."""

    guid: str
    eid: str
    label: str  # the path from the article down: "Artículo 16 B."
    heading: str
    snippet: str
    score: float  # 0..1: how much of the source's (weighted) vocabulary the unit covers


@dataclass(frozen=True)
class SourceSuggestion:
    """A petition, theme or event that a unit most likely comes from."""

    kind: str
    id: int
    title: str
    score: float  # cosine similarity, 0..1


@dataclass(frozen=True)
class Place:
    """A unit of the current text that holds part of a linked unit's linked-time text."""

    guid: str
    eid: str
    label: str
    heading: str
    share: float  # of the linked-time text's weight found here, 0..1


@dataclass(frozen=True)
class LinkHealth:
    """What became of a link's unit: "ok", "changed" (split or largely rewritten) or "gone"
    (no longer in the text: merged or deleted); `now_in`, the units that now hold a substantial
    share of its linked-time text, best first."""

    link: ProvenanceLink
    status: str
    share: float  # of the linked-time text still in the unit (0 when gone)
    now_in: tuple[Place, ...] = field(default=())

    @property
    def link_id(self) -> int:
        return self.link.id

    @property
    def unit_guid(self) -> str:
        return self.link.unit_guid


# --- English → Spanish bridge ------------------------------------------------------------------

_GLOSSARY_TEXT = """
water:agua waters:aguas river:rio rivers:rios lake:lago lakes:lagos wetland:humedales wetlands:humedales
aquifer:acuiferos aquifers:acuiferos drainage:drenaje rain:pluvial rainwater:pluvial sewage:saneamiento
sanitation:saneamiento rescue:rescate recovery:recuperacion restore:restauracion restoration:restauracion
policy:politica policies:politicas comprehensive:integral integral:integral sustainable:sustentable
sustainability:sustentabilidad environment:ambiente environmental:ambiental ecology:ecologico
ecological:ecologico climate:climatico pollution:contaminacion contamination:contaminacion air:aire
waste:residuos garbage:residuos green:verdes greenery:verdes spaces:espacios space:espacio areas:areas
area:area park:parques parks:parques tree:arboles trees:arboles forest:bosques forests:bosques
minimum:minimo minimal:minimo inhabitant:habitante inhabitants:habitantes resident:habitantes
residents:habitantes per:por guarantee:garantizar guarantees:garantizar animal:animales animals:animales
guardianship:tutela protection:proteccion protect:proteccion constitutional:constitucional
welfare:bienestar mistreatment:maltrato cruelty:maltrato mobility:movilidad transport:transporte
transportation:transporte traffic:transito public:publico bicycle:bicicleta bicycles:bicicletas
cycling:bicicleta pedestrian:peatones pedestrians:peatones accessibility:accesibilidad
accessible:accesible digital:digitales internet:internet access:acceso universal:universal
free:gratuito connectivity:conectividad technology:tecnologia technologies:tecnologias
innovation:innovacion science:ciencia smart:inteligente city:ciudad information:informacion
communication:comunicacion communications:comunicaciones rights:derechos right:derecho
inclusive:incluyente inclusion:inclusion disability:discapacidad disabilities:discapacidad
disabled:discapacidad women:mujeres woman:mujer girls:ninas gender:genero equality:igualdad
violence:violencia maternity:maternidad paternity:paternidad leave:licencias parents:padres
mothers:madres fathers:padres children:ninos childhood:infancia family:familia families:familias
lgbti:lgbttti lgbt:lgbttti sexual:sexual diversity:diversidad identity:identidad discrimination:discriminacion
transparency:transparencia transparent:transparencia tax:fiscal taxes:fiscal records:declaraciones
declaration:declaracion declarations:declaraciones conflicts:conflicto conflict:conflicto interest:intereses
interests:intereses properties:patrimonial property:patrimonial assets:patrimonial servants:servidores
servant:servidores officials:servidores corruption:corrupcion anticorruption:corrupcion good:buena
administration:administracion government:gobierno accountability:rendicion participation:participacion
citizen:ciudadana citizens:ciudadanos consultation:consulta security:seguridad safety:seguridad
insecurity:inseguridad crime:delitos police:policia justice:justicia health:salud education:educacion
school:escuelas schools:escuelas culture:cultura cultural:culturales employment:empleo work:trabajo
workers:trabajadores jobs:empleo poverty:pobreza housing:vivienda food:alimentacion indigenous:indigenas
peoples:pueblos heritage:patrimonio land:suelo use:uso urban:urbano planning:planeacion
"""
GLOSSARY: dict[str, str] = dict(pair.split(":") for pair in _GLOSSARY_TEXT.split())


def bridge(text: str) -> str:
    """`text` followed by the Spanish for the English words it holds (unknown words are left out
    of the addition; Spanish text passes through untouched, as its words are not in the glossary)."""
    extra = [GLOSSARY[w] for w in fold(text).split() if w in GLOSSARY]
    return text + ("\n" + " ".join(extra) if extra else "")


def source_text(kind: str, source) -> str:
    """What a source says, for comparing it with the text: petition title + proposal; theme name +
    synonyms + description; event title + conclusions."""
    if kind == "petition":
        return f"{source.title}\n{source.proposal or ''}"
    if kind == "theme":
        try:
            synonyms = json.loads(source.synonyms or "[]")
        except ValueError:
            synonyms = []
        words = [s for s in synonyms if isinstance(s, str)] if isinstance(synonyms, list) else []
        return "\n".join([source.name, *words, source.description or ""])
    if kind == "event":
        return f"{source.title}\n{source.conclusions or ''}"
    return ""


def source_title(kind: str, source) -> str:
    return source.name if kind == "theme" else source.title


# --- an index of the units of one text ----------------------------------------------------------


def path_labels(units) -> dict[str, str]:
    """Every unit's label as a reader names it: from its article down ("Artículo 16 B. 3."),
    or its own label above articles ("TÍTULO PRIMERO"); "" for the preamble."""
    labels: dict[str, str] = {}

    def walk(level, prefix: str | None) -> None:
        for unit in level:
            if unit.kind == "article":
                label = unit.label
            elif prefix:
                label = f"{prefix} {unit.label}".strip()
            else:
                label = unit.label
            labels[unit.guid] = label
            walk(unit.children, label if unit.kind not in ("title", "chapter", "preamble") else None)

    walk(units, None)
    return labels


def eid_citation(eid: str) -> str:
    """An eId as a short citation: "art_16__para_B__subpara_3" → "Art. 16, B, 3"."""
    if not eid:
        return ""
    parts = []
    for i, component in enumerate(eid.split("__")):
        kind, _, num = component.partition("_")
        num = num.replace("_", " ")
        if i == 0 and kind == "art":
            parts.append(f"Art. {num}")
        elif i == 0:
            parts.append(f"{kind.capitalize()} {num}".strip())
        else:
            parts.append(num)
    return ", ".join(parts)


class UnitIndex:
    """The words of every unit of one reading of a text, for ranking and for tracing text."""

    def __init__(self, units) -> None:
        self.units: list[Unit] = list(iter_units(units))
        self.by_guid: dict[str, Unit] = {u.guid: u for u in self.units}
        self.parent: dict[str, str | None] = {}
        self.labels = path_labels(units)

        def walk(level, parent) -> None:
            for unit in level:
                self.parent[unit.guid] = parent
                walk(unit.children, unit.guid)

        walk(units, None)
        #: heading + own text of each unit (no sub-units)
        self.own: dict[str, Counter] = {u.guid: Counter(terms(f"{u.heading}\n{u.text}")) for u in self.units}
        #: the words labels are made of ("artículo", "título", "primero", numbers): a text's label
        #: changes with renumbering and says nothing about where the text went
        self.label_words: set[str] = {t for u in self.units for t in terms(u.label)}
        self.subtree: dict[str, Counter] = {}
        for unit in reversed(self.units):  # children before parents
            total = Counter(self.own[unit.guid])
            for child in unit.children:
                total.update(self.subtree[child.guid])
            self.subtree[unit.guid] = total
        # BM25 documents: candidates only, their heading counting HEADING_BOOST times in all.
        self.candidates = [u for u in self.units if u.kind not in _NOT_SUGGESTED and u.guid]
        self.docs: list[Counter] = []
        for unit in self.candidates:
            doc = Counter(self.subtree[unit.guid])
            for term in terms(unit.heading):
                doc[term] += HEADING_BOOST - 1
            self.docs.append(doc)
        n = len(self.docs)
        df: Counter = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        self.lengths = [sum(d.values()) for d in self.docs]
        self.average = (sum(self.lengths) / n) if n else 1.0
        self.bm25_idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.idf = {t: math.log((1 + n) / (1 + f)) + 1.0 for t, f in df.items()}
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(self.docs):
            for term, count in doc.items():
                self.postings.setdefault(term, []).append((i, count))

    # --- helpers ---

    def ancestors(self, guid: str) -> list[str]:
        found = []
        parent = self.parent.get(guid)
        while parent is not None:
            found.append(parent)
            parent = self.parent.get(parent)
        return found

    def snippet(self, unit: Unit, limit: int = 180) -> str:
        text = unit.text
        if not text:
            first = next((u for u in iter_units(unit.children) if u.text), None)
            text = f"{first.label} {first.text}" if first is not None else ""
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"

    def weight(self, term: str) -> float:
        return self.idf.get(term, math.log(1 + len(self.docs)) + 1.0)

    def tfidf(self, counts: Counter) -> dict[str, float]:
        vector = {t: (1 + math.log(f)) * self.idf[t] for t, f in counts.items() if f > 0 and t in self.idf}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def context(self, guid: str) -> Counter:
        """A unit's words with its heading boosted and its ancestors' headings: what it is about."""
        unit = self.by_guid[guid]
        counts = Counter(self.subtree[guid])
        for term in terms(unit.heading):
            counts[term] += HEADING_BOOST - 1
        for ancestor in self.ancestors(guid):
            counts.update(terms(self.by_guid[ancestor].heading))
        return counts

    # --- ranking ---

    def rank_units(self, query: str) -> list[tuple[Unit, float]]:
        """Candidate units by BM25 against `query`, best first, normalised to 0..1."""
        counts = Counter(t for t in terms(query) if t in self.bm25_idf)
        if not counts:
            return []
        weights = {t: (1 + math.log(f)) * self.bm25_idf[t] for t, f in counts.items()}
        best = sum(weights.values()) * (_BM25_K1 + 1)
        scores: dict[int, float] = {}
        for term, weight in weights.items():
            for i, f in self.postings.get(term, ()):
                norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * self.lengths[i] / self.average)
                scores[i] = scores.get(i, 0.0) + weight * f * (_BM25_K1 + 1) / (f + norm)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [(self.candidates[i], score / best) for i, score in ranked]

    # --- tracing text ---

    def snapshot_terms(self, text: str) -> Counter:
        """The words of a link's linked-time text (`unit_text`), its labels' words left out."""
        return Counter(t for t in terms(text) if t not in self.label_words and not t.isdigit())

    def share_in(self, old: Counter, guid: str) -> float:
        """Share of the weight of `old` (term counts) found in the unit `guid` with its sub-units."""
        return _weighted_containment(old, self.subtree[guid], self.weight)

    def places(self, old: Counter, exclude: str | None = None, limit: int = 5) -> list[Place]:
        """The most specific units that hold at least MOVED_SHARE of `old`'s weight, leaving out
        the unit `exclude` and everything inside it (its ancestors count without it)."""
        vocabulary = set(old)
        total = sum(self.weight(t) * n for t, n in old.items())
        if not total:
            return []

        def own(u: Unit) -> Counter:
            return Counter({t: n for t, n in self.own[u.guid].items() if t in vocabulary})

        def visit(unit: Unit) -> tuple[Counter, list[tuple[Unit, float]]]:
            if unit.guid == exclude:
                return Counter(), []
            counts, picks = own(unit), []
            for child in unit.children:
                child_counts, child_picks = visit(child)
                counts.update(child_counts)
                picks.extend(child_picks)
            share = sum(self.weight(t) * min(n, counts[t]) for t, n in old.items()) / total
            if share < MOVED_SHARE or unit.kind in ("title", "chapter"):
                return counts, picks
            # Sub-units that already say where most of it went are more precise than this unit.
            if picks and sum(s for _u, s in picks) >= 0.75 * share:
                return counts, picks
            return counts, [(unit, share)]

        found: list[tuple[Unit, float]] = []
        for root in self.roots:
            found.extend(visit(root)[1])
        found.sort(key=lambda item: -item[1])
        return [
            Place(u.guid, u.eid, self.labels.get(u.guid, u.label), u.heading, round(min(share, 1.0), 3))
            for u, share in found[:limit]
        ]

    @property
    def roots(self) -> list[Unit]:
        return [u for u in self.units if self.parent.get(u.guid) is None]


def _weighted_containment(part: Counter, whole: Counter, weight) -> float:
    """text.containment with each word weighted by its rarity in the document: sharing "derecho"
    says less about where a text went than sharing "acuíferos"."""
    total = sum(weight(t) * n for t, n in part.items())
    if not total:
        return 0.0
    return sum(weight(t) * min(n, whole.get(t, 0)) for t, n in part.items()) / total


_INDEXES: OrderedDict[int, UnitIndex] = OrderedDict()
_INDEX_LOCK = threading.Lock()


def unit_index(units) -> UnitIndex:
    """The index of `units`, cached by content (a few recent readings of each text)."""
    key = hash(tuple((u.guid, u.kind, u.label, u.eid, u.heading, u.text, len(u.children)) for u in iter_units(units)))
    with _INDEX_LOCK:
        found = _INDEXES.get(key)
        if found is not None:
            _INDEXES.move_to_end(key)
            return found
    index = UnitIndex(units)
    with _INDEX_LOCK:
        _INDEXES[key] = index
        while len(_INDEXES) > 4:  # about 11 MB each for the Mexico City constitution
            _INDEXES.popitem(last=False)
    return index


# --- suggestions --------------------------------------------------------------------------------


def _linked_pairs(db, document: Document) -> set[tuple[str, str, int]]:
    rows = db.execute(
        select(ProvenanceLink.unit_guid, ProvenanceLink.source_kind, ProvenanceLink.source_id).where(
            ProvenanceLink.document_id == document.id
        )
    )
    return {(g, k, i) for g, k, i in rows}


def _rejected_pairs(db, document: Document) -> set[tuple[str, str, int]]:
    rows = db.execute(
        select(SuggestionVerdict.unit_guid, SuggestionVerdict.source_kind, SuggestionVerdict.source_id).where(
            SuggestionVerdict.document_id == document.id
        )
    )
    return {(g, k, i) for g, k, i in rows}


def suggest_units(db, document: Document, units, source_kind: str, source_id: int, limit: int = 10) -> list[UnitSuggestion]:
    """The units a petition, theme or event most likely corresponds to, best first; units already
    linked to it or rejected for it are left out, and so are units inside a better-ranked one."""
    source = source_of(db, document, source_kind, source_id)
    if source is None:
        raise LinkError(gettext("There is no %(kind)s %(id)s in this document.", kind=source_kind, id=source_id))
    index = unit_index(units)
    skip = {g for g, k, i in _linked_pairs(db, document) | _rejected_pairs(db, document)
            if k == source_kind and i == source_id}
    ranked = index.rank_units(bridge(source_text(source_kind, source)))
    if not ranked:
        return []
    floor = ranked[0][1] * 0.15
    accepted: list[UnitSuggestion] = []
    taken: set[str] = set()
    for unit, score in ranked:
        if score < floor or len(accepted) >= limit:
            break
        if unit.guid in skip or any(a in taken for a in index.ancestors(unit.guid)):
            continue
        taken.add(unit.guid)
        accepted.append(UnitSuggestion(
            guid=unit.guid, eid=unit.eid, label=index.labels.get(unit.guid, unit.label), heading=unit.heading,
            snippet=index.snippet(unit), score=round(score, 4),
        ))
    return accepted


def suggest_sources(db, document: Document, units, unit_guid: str, limit: int = 10) -> list[SourceSuggestion]:
    """The petitions, themes and events the unit `unit_guid` most likely comes from, best first
    (sources already linked to it, or rejected for it, are left out)."""
    index = unit_index(units)
    if unit_guid not in index.by_guid:
        raise LinkError(gettext("There is no unit %(guid)s in the text.", guid=unit_guid))
    unit_vector = index.tfidf(index.context(unit_guid))
    skip = {(k, i) for g, k, i in _linked_pairs(db, document) | _rejected_pairs(db, document) if g == unit_guid}
    found: list[SourceSuggestion] = []
    for kind, model in SOURCE_MODELS.items():
        for source in db.scalars(select(model).where(model.document_id == document.id)):
            if (kind, source.id) in skip:
                continue
            vector = index.tfidf(Counter(terms(bridge(source_text(kind, source)))))
            score = sum(w * unit_vector.get(t, 0.0) for t, w in vector.items())
            if score >= MIN_SOURCE_SCORE:
                found.append(SourceSuggestion(kind, source.id, source_title(kind, source), round(score, 4)))
    found.sort(key=lambda s: (-s.score, s.kind, s.id))
    return found[:limit]


def reject_suggestion(db, document: Document, unit_guid: str, kind: str, source_id: int, user=None) -> SuggestionVerdict:
    """Record that the committee does not want `unit_guid` linked to a source: it is not suggested
    again (either way round). Idempotent; the caller commits."""
    if kind not in SOURCE_KINDS:
        raise LinkError(gettext("Unknown kind of source %(kind)r.", kind=kind))
    if not isinstance(unit_guid, str) or not is_valid_guid(unit_guid):
        raise LinkError(gettext("%(guid)r is not a unit GUID.", guid=unit_guid))
    if source_of(db, document, kind, source_id) is None:
        raise LinkError(gettext("There is no %(kind)s %(id)s in this document.", kind=kind, id=source_id))
    verdict = db.get(SuggestionVerdict, (document.id, unit_guid, kind, source_id))
    if verdict is None:
        verdict = SuggestionVerdict(
            document_id=document.id, unit_guid=unit_guid, source_kind=kind, source_id=source_id,
            decided_by=getattr(user, "id", None),
        )
        db.add(verdict)
        db.flush()
    return verdict


# --- what became of linked units ----------------------------------------------------------------


def link_health(units, links: Iterable[ProvenanceLink]) -> list[LinkHealth]:
    """For each link, whether its unit is still there with much the same text ("ok"), there but
    with most of its linked-time text gone — typically split — ("changed"), or no longer in the
    text — merged or deleted — ("gone"), and which units now hold that text."""
    links = list(links)
    if not links:
        return []
    index = unit_index(units)
    found = []
    for link in links:
        old = index.snapshot_terms(link.unit_text or "")
        present = link.unit_guid in index.by_guid
        if not present:
            found.append(LinkHealth(link, "gone", 0.0, tuple(index.places(old)) if old else ()))
            continue
        if not old:
            found.append(LinkHealth(link, "ok", 1.0))
            continue
        kept = index.share_in(old, link.unit_guid)
        if kept >= OK_SHARE:
            found.append(LinkHealth(link, "ok", round(kept, 3)))
            continue
        # What the unit lost: look for it elsewhere (the unit's own remaining text is not news).
        remaining = index.subtree[link.unit_guid]
        lost = +Counter({t: n - min(n, remaining.get(t, 0)) for t, n in old.items()})
        elsewhere = [p for p in index.places(old, exclude=link.unit_guid)
                     if _weighted_containment(lost, index.subtree[p.guid], index.weight) >= MOVED_SHARE]
        if elsewhere or kept < REWRITTEN_SHARE:
            found.append(LinkHealth(link, "changed", round(kept, 3), tuple(elsewhere)))
        else:
            found.append(LinkHealth(link, "ok", round(kept, 3)))
    return found


def _own_link(db, document: Document, link_id: int) -> ProvenanceLink:
    link = db.get(ProvenanceLink, link_id) if isinstance(link_id, int) else None
    if link is None or link.document_id != document.id:
        raise LinkError(gettext("There is no link %(id)s in this document.", id=link_id))
    return link


def _snapshot(link: ProvenanceLink, unit: Unit) -> None:
    link.unit_eid = unit.eid
    link.unit_text = unit_text(unit)[:SNAPSHOT_CHARS]


def move_link(db, document: Document, units, link_id: int, unit_guid: str, user=None) -> ProvenanceLink:
    """Re-attach a link to another unit (after a merge), keeping its relation, note and origin.
    LinkError when the unit is not in the text or is already linked to the same source. The
    caller commits."""
    link = _own_link(db, document, link_id)
    unit = find_guid(units, unit_guid) if isinstance(unit_guid, str) else None
    if unit is None:
        raise LinkError(gettext("There is no unit %(guid)s in the text.", guid=unit_guid))
    if unit.guid != link.unit_guid:
        clash = db.scalar(select(ProvenanceLink.id).where(
            ProvenanceLink.document_id == document.id, ProvenanceLink.unit_guid == unit.guid,
            ProvenanceLink.source_kind == link.source_kind, ProvenanceLink.source_id == link.source_id))
        if clash is not None:
            raise LinkError(gettext("That unit is already linked to this source."))
        link.unit_guid = unit.guid
    _snapshot(link, unit)
    db.flush()
    return link


def copy_link(db, document: Document, units, link_id: int, unit_guid: str, user=None) -> tuple[ProvenanceLink, bool]:
    """Link another unit to the same source, with the same relation and note (after a split);
    the original link takes the current text of its unit as its new reference, since the
    committee has now dealt with the split. (link, created); the caller commits."""
    link = _own_link(db, document, link_id)
    copy, created = create_link(db, document, units, unit_guid, link.source_kind, link.source_id,
                                link.relation, link.note, user=user, origin="manual")
    original = find_guid(units, link.unit_guid)
    if original is not None:
        _snapshot(link, original)
    db.flush()
    return copy, created


def acknowledge_link(db, document: Document, units, link_id: int) -> ProvenanceLink:
    """Keep a link on its changed unit: the unit's current text becomes the link's reference
    (so it is "ok" again). The caller commits."""
    link = _own_link(db, document, link_id)
    unit = find_guid(units, link.unit_guid)
    if unit is None:
        raise LinkError(gettext("The unit of this link is no longer in the text; move or remove the link."))
    _snapshot(link, unit)
    db.flush()
    return link


# --- finding sources ----------------------------------------------------------------------------


def search_sources(db, document: Document, query: str = "", kind: str | None = None, limit: int = 20):
    """(matches, total): the document's sources whose title (petitioners, proposal; theme name,
    synonyms; event place, organiser) holds every word of `query`, accents and case aside;
    petitions first, then themes and events, by title."""
    words = fold(query or "").split()
    kinds = [kind] if kind else list(SOURCE_KINDS)
    matches = []
    for k in kinds:
        model = SOURCE_MODELS[k]
        for source in db.scalars(select(model).where(model.document_id == document.id)):
            if k == "petition":
                haystack = f"{source.title} {source.petitioners} {source.proposal}"
            elif k == "theme":
                haystack = f"{source.name} {source.key} {source_text(k, source)}"
            else:
                haystack = f"{source.title} {source.place} {source.organiser}"
            folded = fold(haystack)
            if all(re.search(r"\b" + re.escape(w), folded) for w in words):
                matches.append((SOURCE_KINDS.index(k), fold(source_title(k, source)), k, source))
    matches.sort(key=lambda m: (m[0], m[1], m[3].id))
    return [(k, s) for _o, _t, k, s in matches[:limit]], len(matches)
