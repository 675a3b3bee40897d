"""From units as a source gives them to a live document body: the common end of every importer.

An importer (plain text, Akoma Ntoso) reads its source into `Draft` units: kind, the number as
the source writes it, heading, paragraphs, sub-units. `build` turns them into the live body of
docs/document-model.md, where numbers are derived from position, while keeping every number the
source gives:

* each kind's numbering style is inferred from the numbers the source uses (an English act's
  subsections "(1)", "(2)" make `paragraph` arabic), and styles that differ from the defaults go
  into the meta's `numbering`;
* a unit whose source number is not the one its position gives is pinned to the source number
  ("16 Bis", a gap, a duplicate, "ÚNICO"); a unit the source leaves unnumbered gets the
  `UNNUMBERED` pin;
* GUIDs the source brings are kept when valid and unique, and new ones are made otherwise.

What `build` notices (pins it had to set, GUIDs it had to replace) is returned as findings with
the importer's own, so that the person importing sees one report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from .errors import DocumentStructureError, NumberingError
from .guids import is_valid_guid, new_guid
from .inline import Run, fill_element, normalized
from .numbering import LANGUAGES, STYLED, STYLES, TRANSITIONAL_ARTICLES, default_style, format_number, parse_number
from .units import (
    ALLOWED_CHILDREN,
    ATTACHMENT,
    CROSS_HEADING,
    TABLE,
    TOP_LEVEL_KINDS,
    TRANSITIONAL,
    UNIT_KINDS,
    UNNUMBERED,
    Block,
    Table,
    Unit,
    read_units,
)

# Characters XML 1.0 cannot hold; sources (PDF extractions above all) do contain them.
# The browser editor's schema gives these kinds a heading block always (possibly empty).
_HEADED = ("title", "chapter", "article", ATTACHMENT, CROSS_HEADING)

# No legal text has a thousand units of one kind under one parent.
_PLAUSIBLE = 999

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Draft:
    """A unit as the source gives it.

    `num` is the bare number as written ("16", "A", "I", "a", "PRIMERO", "ÚNICO", "16 Bis"),
    None when the source gives none; `where` says where in the source it was found ("line 898",
    an XPath), for messages. `paragraphs` are the unit's text blocks: paragraphs (str) and
    tables (`Table`). A cross-heading (`crossHeading`) is a draft with only a heading.
    """

    kind: str
    num: str | None = None
    heading: str = ""
    paragraphs: list[Block] = field(default_factory=list)
    children: list[Draft] = field(default_factory=list)
    guid: str | None = None
    where: str = ""
    eid: str | None = None  # the source's own eId (Akoma Ntoso), kept as the unit's wId
    num_text: str | None = None  # the source's number as printed ("SEC. 2.", "PART 1"): its label
    source_tag: str | None = None  # the source's element ("section", "part"), which names it when its number has no word


@dataclass(frozen=True)
class Finding:
    """Something an importer could not carry over as it was, said for the person importing.

    `message` is English. A finding the interface can say in the reader's language also has a
    `code` and its `args` (name, value pairs), rendered by `editor.import_findings`."""

    where: str
    message: str
    code: str = ""
    args: tuple[tuple[str, object], ...] = ()


@dataclass
class Built:
    """An imported document: its live body and meta, its unit tree, and the import report."""

    body: etree._Element
    meta: dict
    units: tuple[Unit, ...]
    findings: list[Finding]
    #: The source's eIds by the GUID of the unit built from them, where the source had its own
    #: (Akoma Ntoso): recorded as the units' first names, so exports carry them as wIds.
    source_eids: dict[str, str] = field(default_factory=dict)
    #: The GUID of the unit built from each draft, by the draft's `where` ("line 12",
    #: "/body/chapter[2]/article[3]"): where a finding's unit is found, to link the report to it.
    places: dict[str, str] = field(default_factory=dict)


def build(
    drafts: Sequence[Draft],
    *,
    language: str = "spa",
    title: str = "",
    findings: Sequence[Finding] = (),
    labels: Mapping[str, str] | None = None,
) -> Built:
    """Build the live body for `drafts` (top-level units in document order).

    `labels` are the document's own labels per kind (meta's `labels`: "CHAPTER {}" for the
    outermost level of an act whose chapters hold parts), kept in the meta built.

    Raises `DocumentStructureError` when the drafts nest in a way the model forbids (naming the
    draft's `where`) and `NumberingError` for an unknown language.
    """
    if language not in LANGUAGES:
        raise NumberingError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    _check_nesting(drafts)
    styles = _infer_styles(drafts, language)
    report = list(findings)
    body = etree.Element("body")
    builder = _BodyBuilder(styles, report)
    builder.add_all(body, drafts)
    meta: dict = {"title": _clean(title), "language": language}
    overrides = {k: s for k, s in styles.items() if s != default_style(k, language)}
    if overrides:
        meta["numbering"] = dict(sorted(overrides.items()))
    if labels:
        meta["labels"] = dict(sorted(labels.items()))
    units = read_units(body, meta)
    return Built(body=body, meta=meta, units=units, findings=report, source_eids=builder.source_eids,
                 places=builder.places)


def _check_nesting(drafts: Sequence[Draft]) -> None:
    for index, draft in enumerate(drafts):
        if draft.kind not in TOP_LEVEL_KINDS:
            raise DocumentStructureError(
                f"{_at(draft)}{_a(draft.kind)} cannot stand at the top of a document "
                f"(only {', '.join(TOP_LEVEL_KINDS)})"
            )
        if draft.kind == "preamble" and index > 0:
            raise DocumentStructureError(f"{_at(draft)}the preamble must come first")
        if draft.kind != ATTACHMENT and any(d.kind == ATTACHMENT for d in drafts[:index]):
            raise DocumentStructureError(f"{_at(draft)}{_a(draft.kind)} cannot follow the schedules")
        if draft.kind not in (TRANSITIONAL, ATTACHMENT) and any(d.kind == TRANSITIONAL for d in drafts[:index]):
            raise DocumentStructureError(f"{_at(draft)}{_a(draft.kind)} cannot follow the transitional provisions")
    stack = list(drafts)
    while stack:
        draft = stack.pop()
        if draft.kind not in UNIT_KINDS:
            raise DocumentStructureError(f"{_at(draft)}{draft.kind!r} is not a kind of unit")
        for child in draft.children:
            if child.kind not in ALLOWED_CHILDREN[draft.kind]:
                raise DocumentStructureError(
                    f"{_at(child)}{_a(child.kind)} cannot be part of {_a(draft.kind)}"
                )
            stack.append(child)


def _infer_styles(drafts: Sequence[Draft], language: str) -> dict[str, str]:
    """Per kind, the style that reads most of the source's numbers (the default on a tie).
    Transitory articles (PRIMERO, SEGUNDO…) have a style of their own."""
    nums: dict[str, list[str]] = {kind: [] for kind in STYLED}
    stack: list[tuple[Draft, str | None]] = [(draft, None) for draft in drafts]
    while stack:
        draft, parent = stack.pop()
        slot = _slot(draft.kind, parent)
        if slot in nums and draft.num not in (None, UNNUMBERED):
            nums[slot].append(_clean(draft.num))
        stack.extend((child, draft.kind) for child in draft.children)
    styles = {}
    for kind, found in nums.items():
        default = default_style(kind, language)
        scores = {style: sum(_reads(style, num) for num in found) for style in STYLES}
        best = [style for style in STYLES if scores[style] == max(scores.values())]
        # On a tie the default wins, else the style that reads the smallest numbers: sequences
        # start at one ("i", "ii" are roman 1, 2 rather than letters 9 and 243).
        styles[kind] = default if default in best else min(best, key=lambda s: _total(s, found))
    return styles


def _reads(style: str, num: str) -> bool:
    """Whether `style` writes `num` (any word is a number in base 26: keep to plausible ones)."""
    try:
        return parse_number(style, num) <= _PLAUSIBLE
    except NumberingError:
        return False


def _total(style: str, nums: Sequence[str]) -> int:
    return sum(parse_number(style, num) for num in nums if _reads(style, num))


class _BodyBuilder:
    """Writes the units in document order with the same counters `read_units` keeps."""

    def __init__(self, styles: dict[str, str], findings: list[Finding]) -> None:
        self.styles = styles
        self.findings = findings
        self.articles = 0
        self.guids: set[str] = set()
        self.source_eids: dict[str, str] = {}
        self.places: dict[str, str] = {}

    def add_all(self, parent: etree._Element, drafts: Sequence[Draft], parent_kind: str | None = None) -> None:
        counters: dict[str, int] = {}
        for draft in drafts:
            self.add(parent, draft, counters, parent_kind)

    def add(self, parent: etree._Element, draft: Draft, counters: dict[str, int], parent_kind: str | None) -> None:
        element = etree.SubElement(parent, draft.kind)
        guid = self.guid_for(draft)
        element.set("guid", guid)
        if draft.eid:
            self.source_eids[guid] = draft.eid
        if draft.where:
            self.places.setdefault(draft.where, guid)
        pin = self.pin_for(draft, counters, _slot(draft.kind, parent_kind), parent_kind)
        if pin:
            element.set("pin", pin)
        if draft.heading.strip() or draft.kind in _HEADED:
            _write_text(etree.SubElement(element, "heading"), draft.heading)
        for paragraph in draft.paragraphs if draft.kind != CROSS_HEADING else ():
            if isinstance(paragraph, Table):
                _add_table(element, paragraph)
            else:
                _write_text(etree.SubElement(element, "p"), paragraph)
        self.add_all(element, draft.children, draft.kind)

    def guid_for(self, draft: Draft) -> str:
        guid = (draft.guid or "").strip().lower()
        if draft.guid and (not is_valid_guid(guid) or guid in self.guids):
            reason = "is used twice" if guid in self.guids else "is not a UUID"
            self.findings.append(
                Finding(draft.where, f"the GUID {draft.guid!r} {reason}; the unit got a new one",
                        "build.guid_twice" if guid in self.guids else "build.guid_invalid",
                        (("guid", repr(draft.guid)),))
            )
            guid = ""
        guid = guid or new_guid()
        self.guids.add(guid)
        return guid

    def pin_for(
        self, draft: Draft, counters: dict[str, int], slot: str, parent_kind: str | None = None
    ) -> str | None:
        """The pin that keeps the source's number, or None when position gives that number.
        `slot` is the style slot: the kind, or TRANSITIONAL_ARTICLES for a transitory article."""
        kind = draft.kind
        if kind in ("preamble", TRANSITIONAL, CROSS_HEADING):
            return None
        if draft.num is None or draft.num == UNNUMBERED:
            return UNNUMBERED
        num = _clean(draft.num)
        if not num:
            return UNNUMBERED
        # The body's articles count across the document (a schedule's within it).
        across = kind == "article" and slot == kind and parent_kind != ATTACHMENT
        position = (self.articles if across else counters.get(kind, 0)) + 1
        style = self.styles[slot]
        try:
            expected = format_number(style, position)
        except NumberingError:  # beyond what the style can write (ordinal words stop at 99)
            expected = None
        if num == expected or (
            style == "ordinal-es" and _reads(style, num) and parse_number(style, num) == position
        ):
            if across:
                self.articles = position
            else:
                counters[kind] = position
            return None
        return num


def _add_table(parent: etree._Element, table: Table) -> None:
    element = etree.SubElement(parent, TABLE)
    for row in table.rows:
        tr = etree.SubElement(element, "tr")
        for cell in row:
            etree.SubElement(tr, "td").text = _clean(cell)


def _slot(kind: str, parent_kind: str | None) -> str:
    """The style slot a unit is numbered in: its kind, or the transitory articles' own."""
    return TRANSITIONAL_ARTICLES if kind == "article" and parent_kind == TRANSITIONAL else kind


def _write_text(block: etree._Element, text: str) -> None:
    """A block's text, `_clean`ed, with its inline markup when the importer kept some (`Marked`)."""
    runs = getattr(text, "runs", None)
    if runs is None:
        block.text = _clean(text)
        return
    runs = normalized(Run(_NOT_XML.sub("", unicodedata.normalize("NFC", r.text)), r.marks) for r in runs)
    fill_element(block, runs)


def _clean(text: str) -> str:
    """Text as a unit holds it: NFC, no characters XML cannot carry, single-spaced, trimmed."""
    text = _NOT_XML.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def _at(draft: Draft) -> str:
    return f"{draft.where}: " if draft.where else ""


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
