"""The unit tree of a legal document, read from the live body: numbers, labels and eIds derived.

The live body (docs/document-model.md) stores units with their GUID, an optional pinned
number, a heading and paragraphs of text, but no numbers: numbers follow from position.
`read_units` walks the body once in document order and derives, for every unit, the number
a reader sees, its label and its Akoma Ntoso `eId` under the Naming Convention.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from lxml import etree

from .errors import DocumentStructureError
from .inline import MARK_ORDER, MARKS, Marked, refresh_refs_in, runs_from_element
from .numbering import (
    NUMBERED_KINDS,
    TRANSITIONAL_ARTICLES,
    format_label,
    format_number,
    label_templates,
    meta_mapping,
    resolve_styles,
)

#: A group of transitional provisions ("TRANSITORIOS"): after the body's last title, chapter or
#: article, holding transitory articles that count apart (PRIMERO, SEGUNDO…). Unnumbered itself.
TRANSITIONAL: Final = "transitional"

#: A schedule or annex ("ANEXO 1", "Schedule 1"): after the transitional provisions, numbered apart,
#: with its own heading, text and units (its articles count within it).
ATTACHMENT: Final = "attachment"

#: A cross-heading: a heading line between units ("Disposiciones generales"), no number, no text
#: of its own; it stands among the units of the body, a title, a chapter, a transitional group or
#: a schedule. A unit element (it has a GUID) whose only block is its heading.
CROSS_HEADING: Final = "crossHeading"

#: Every kind of unit element, outermost first (a transitional group after the numbered kinds).
UNIT_KINDS: Final[tuple[str, ...]] = ("preamble", *NUMBERED_KINDS, TRANSITIONAL, ATTACHMENT, CROSS_HEADING)

#: Elements that hold text (one text node each) rather than units.
TEXT_BLOCKS: Final[tuple[str, ...]] = ("heading", "p")

#: A table among a unit's paragraphs: `<table>` of `<tr>` rows of `<td>` cells, each cell a text
#: block (one text node).
TABLE: Final = "table"

#: What the body itself may hold (a preamble only as its first unit, transitional groups only
#: after every title, chapter and article, schedules last).
TOP_LEVEL_KINDS: Final[tuple[str, ...]] = (
    "preamble", "title", "chapter", "article", CROSS_HEADING, TRANSITIONAL, ATTACHMENT,
)

#: The unit kinds each kind may contain.
ALLOWED_CHILDREN: Final[Mapping[str, tuple[str, ...]]] = {
    "preamble": (),
    "title": ("chapter", "article", CROSS_HEADING),
    "chapter": ("article", CROSS_HEADING),
    "article": ("paragraph", "subparagraph", "point", "indent"),
    "paragraph": ("subparagraph", "point", "indent"),
    "subparagraph": ("point", "indent"),
    "point": ("indent",),
    "indent": (),
    TRANSITIONAL: ("article", CROSS_HEADING),
    ATTACHMENT: ("article", "paragraph", "subparagraph", "point", "indent", CROSS_HEADING),
    CROSS_HEADING: (),
}

#: The Naming Convention's abbreviation of each kind in an eId.
EID_ABBREVIATIONS: Final[Mapping[str, str]] = {
    "preamble": "preamble",
    "title": "title",
    "chapter": "chp",
    "article": "art",
    "paragraph": "para",
    "subparagraph": "subpara",
    "point": "point",
    "indent": "indent",
    TRANSITIONAL: "transitional",
    ATTACHMENT: "att",
    CROSS_HEADING: "crossHeading",
}

_UNIT_ATTRIBUTES: Final = frozenset({"guid", "pin"})

#: The pin that marks a unit the source leaves unnumbered: it shows no number, does not advance
#: its kind's counter, and its eId is `<abbrev>_nn_<k>` (k counts such siblings of its kind).
UNNUMBERED: Final = "-"


@dataclass(frozen=True)
class Table:
    """A table among a unit's paragraphs: rows of cells, each cell's text."""

    rows: tuple[tuple[str, ...], ...]

    @property
    def text(self) -> str:
        """The table as lines of text, one per row, cells joined by " | "."""
        return "\n".join(" | ".join(row) for row in self.rows)


#: One block of a unit's text: a paragraph (its text) or a table.
Block = str | Table


@dataclass(frozen=True)
class Unit:
    """One hierarchical unit of the text (an article, an apartado, a fracción…) as a reader sees it.

    `num` is the number as displayed ("16 Bis", "A", "I", "PRIMERO"; "" for the preamble),
    `label` the full label ("Artículo 16 Bis", "A.", "TÍTULO PRIMERO"; "" for the preamble),
    `eid` the Akoma Ntoso eId, `heading` the unit's heading ("" if none), `text` the unit's own
    paragraphs joined by newlines (not its sub-units' text; a table is one line per row, cells
    joined by " | "), `pinned` whether `num` is a number typed by the drafters rather than derived
    from position, `blocks` the unit's paragraphs and tables in order (see `unit_blocks`).
    """

    guid: str
    kind: str
    num: str
    label: str
    eid: str
    heading: str
    text: str
    children: tuple[Unit, ...] = ()
    pinned: bool = False
    blocks: tuple[Block, ...] = ()


def unit_blocks(unit: Unit) -> tuple[Block, ...]:
    """A unit's paragraphs and tables in order: its `blocks`, or for a unit made without them (an
    amendment's wording) its text's lines as paragraphs."""
    if unit.blocks:
        return unit.blocks
    return tuple(unit.text.split("\n")) if unit.text else ()


def read_units(body: etree._Element, meta: Mapping[str, object]) -> tuple[Unit, ...]:
    """Read the live `<body>` into its unit tree, numbering every unit by position.

    `meta` is the document's meta map: `language` ("spa" by default, or "eng") and the
    optional `numbering` overrides `{kind: style}` (a mapping or its JSON text).
    Raises `DocumentStructureError` for anything outside the model (unknown elements,
    misplaced units or text, extra attributes) and `NumberingError` for bad numbering meta.
    Units without a GUID are read with `guid=""`; repairing them is `guids`' job.
    """
    if body.tag != "body":
        raise DocumentStructureError(f"the document root must be <body>, not <{body.tag!s}>")
    language = str(meta.get("language") or "spa")
    styles = resolve_styles(language, _numbering_overrides(meta.get("numbering")))
    units = _Reader(language, styles, label_templates(meta.get("labels"))).read_body(body)
    if body.find(".//ref") is not None:
        units = refresh_refs_in(units)  # cross-references name their targets' current numbers
    return units


def iter_units(units: Iterable[Unit]) -> Iterator[Unit]:
    """Every unit of the tree in document order: each unit, then its sub-units, depth first."""
    for unit in units:
        yield unit
        yield from iter_units(unit.children)


def find_unit(units: Iterable[Unit], key: str) -> Unit | None:
    """The unit whose eId or GUID is `key` (the first in document order), or None."""
    if not key:
        return None
    for unit in iter_units(units):
        if key in (unit.eid, unit.guid):
            return unit
    return None


def ancestors(units: Iterable[Unit], guid: str) -> tuple[Unit, ...] | None:
    """The units that contain the unit `guid`, outermost first (None when it is not there)."""
    for unit in units:
        if unit.guid == guid:
            return ()
        inner = ancestors(unit.children, guid)
        if inner is not None:
            return (unit, *inner)
    return None


def eid_num(num: str) -> str:
    """A number as an eId component: "16 Bis" → "16_Bis", "ÚNICO" → "UNICO".

    Spaces become `_` and characters outside `[A-Za-z0-9_-]` are removed; accents are removed
    from their letters rather than with them, so Spanish pins stay readable.
    """
    bare = "".join(c for c in unicodedata.normalize("NFD", num) if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9_-]", "", "_".join(bare.split()))


def _numbering_overrides(value: object) -> Mapping[str, str]:
    return meta_mapping(value, "numbering", '{"paragraph": "upper-alpha"}')


# Where each top-level kind may stand: the preamble first, then the body's units, then the
# transitional provisions, then the schedules.
_PLACE: Final[Mapping[str, int]] = {"preamble": 0, TRANSITIONAL: 2, ATTACHMENT: 3}


class _Reader:
    """One pass over the body in document order, holding the counters that outlive a parent."""

    def __init__(self, language: str, styles: Mapping[str, str], labels: Mapping[str, str] | None = None) -> None:
        self.language = language
        self.styles = styles
        self.labels = labels or {}  # the document's own labels (meta's `labels`)
        self.articles = 0  # articles are numbered across the whole document
        self.eids: set[str] = set()

    def read_body(self, body: etree._Element) -> tuple[Unit, ...]:
        _forbid_loose_text(body, "/body", ())
        units: list[Unit] = []
        counters: dict[str, int] = {}
        for index, (child, where) in enumerate(_element_children(body, "/body")):
            path = (index,)
            if child.tag == "preamble" and index > 0:
                raise DocumentStructureError(
                    f"the preamble must be the first unit of the body, found one at {where}", path
                )
            if units and _PLACE.get(str(child.tag), 1) < _PLACE.get(units[-1].kind, 1):
                closing = "schedules" if units[-1].kind == ATTACHMENT else "transitional provisions"
                raise DocumentStructureError(
                    f"<{child.tag!s}> at {where} comes after {closing}; they close the body",
                    path,
                )
            if child.tag not in TOP_LEVEL_KINDS:
                raise DocumentStructureError(
                    f"unexpected <{child.tag!s}> at {where}: the body holds only "
                    f"{', '.join(TOP_LEVEL_KINDS)} units",
                    path,
                )
            units.append(self.read_unit(child, where, path, None, counters))
        return tuple(units)

    def read_unit(
        self,
        element: etree._Element,
        where: str,
        path: tuple[int, ...],
        parent_eid: str | None,
        counters: dict[str, int],
        parent_kind: str | None = None,
    ) -> Unit:
        """Read one unit; `counters` are its siblings' per-kind counters, advanced here."""
        kind = str(element.tag)
        _check_unit_attributes(element, where, path)
        transitory = kind == "article" and parent_kind == TRANSITIONAL
        # A schedule's articles count within it, as transitory articles do within their group.
        apart = transitory or (kind == "article" and parent_kind == ATTACHMENT)
        num, eid_number, pinned = self.number(element, kind, where, path, counters, transitory, apart)
        eid = self.unique_eid(_local_eid(kind, eid_number, parent_eid, apart))

        heading, children = "", []
        blocks: list[Block] = []
        child_counters: dict[str, int] = {}
        stage = 0  # 0: before the heading, 1: in the paragraphs, 2: in the sub-units
        _forbid_loose_text(element, where, path)
        for index, (child, child_where) in enumerate(_element_children(element, where)):
            child_path = (*path, index)
            tag = child.tag
            if tag == "heading":
                if stage > 0:
                    raise DocumentStructureError(
                        f"<heading> at {child_where} must be the first element of its {kind} "
                        "(one heading, before any p or sub-unit)",
                        child_path,
                    )
                heading, stage = _text_of(child, child_where, child_path), 1
            elif tag in ("p", TABLE) and kind != CROSS_HEADING:
                if stage > 1:
                    raise DocumentStructureError(
                        f"<{tag}> at {child_where} comes after a sub-unit; a {kind}'s paragraphs "
                        "come before its sub-units",
                        child_path,
                    )
                if tag == TABLE:
                    blocks.append(_table_of(child, child_where, child_path))
                else:
                    blocks.append(_text_of(child, child_where, child_path))
                stage = 1
            elif tag in ALLOWED_CHILDREN[kind]:
                children.append(self.read_unit(child, child_where, child_path, eid, child_counters, kind))
                stage = 2
            else:
                blocks_allowed = ("heading",) if kind == CROSS_HEADING else ("heading", "p", TABLE)
                allowed = ", ".join((*blocks_allowed, *ALLOWED_CHILDREN[kind]))
                what = "unit" if tag in UNIT_KINDS else "element"
                raise DocumentStructureError(
                    f"unexpected {what} <{tag!s}> at {child_where}: a {kind} holds only {allowed}",
                    child_path,
                )

        label = format_label(TRANSITIONAL_ARTICLES if transitory else kind, num, self.language,
                             self.labels) if num else ""
        return Unit(
            guid=element.get("guid", ""),
            kind=kind,
            num=num,
            label=label,
            eid=eid,
            heading=heading,
            text="\n".join(block if isinstance(block, str) else block.text for block in blocks),
            children=tuple(children),
            pinned=pinned,
            blocks=tuple(blocks),
        )

    def number(
        self,
        element: etree._Element,
        kind: str,
        where: str,
        path: tuple[int, ...],
        counters: dict[str, int],
        transitory: bool = False,
        apart: bool = False,
    ) -> tuple[str, str, bool]:
        """The displayed number, the number its eId uses, and whether it is pinned. A
        `transitory` article counts among its group's articles only, an article `apart` (in a
        schedule) among its schedule's."""
        pin = (element.get("pin") or "").strip()
        if kind in ("preamble", TRANSITIONAL, CROSS_HEADING):
            if pin:
                raise DocumentStructureError(
                    f"the {kind} at {where} has no number and cannot be pinned", path
                )
            if kind in (TRANSITIONAL, CROSS_HEADING):  # named by position: transitional_1…
                return "", str(_advance(counters, kind)), False
            return "", "", False
        if pin == UNNUMBERED:
            unnumbered = counters[f"nn:{kind}"] = counters.get(f"nn:{kind}", 0) + 1
            return "", f"nn_{unnumbered}", True
        if pin:
            return pin, pin, True  # a pinned unit does not advance its kind's counter
        if kind == "article" and not apart:
            self.articles += 1
            position = self.articles
        else:
            position = _advance(counters, kind)
        num = format_number(self.styles[TRANSITIONAL_ARTICLES if transitory else kind], position)
        # Titles and transitory articles are named by their arabic position (title_1,
        # transitional_1__art_1) whatever their style.
        return num, str(position) if kind == "title" or transitory else num, False

    def unique_eid(self, eid: str) -> str:
        """`eid`, or with `_2`, `_3`… appended when an earlier unit already has it."""
        candidate, suffix = eid, 2
        while candidate in self.eids:
            candidate, suffix = f"{eid}_{suffix}", suffix + 1
        self.eids.add(candidate)
        return candidate


def _advance(counters: dict[str, int], kind: str) -> int:
    counters[kind] = counters.get(kind, 0) + 1
    return counters[kind]


def _local_eid(kind: str, number: str, parent_eid: str | None, apart: bool = False) -> str:
    if kind == "preamble":
        return "preamble"
    local = f"{EID_ABBREVIATIONS[kind]}_{eid_num(number)}"
    # Articles are numbered across the document, so their title or chapter is not named;
    # transitory articles count within their group, and a schedule's within it: those are.
    if parent_eid is None or (kind == "article" and not apart):
        return local
    return f"{parent_eid}__{local}"


def _element_children(parent: etree._Element, where: str) -> Iterator[tuple[etree._Element, str]]:
    """Element children (comments and processing instructions skipped) with XPath-like places."""
    seen: dict[str, int] = {}
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        seen[child.tag] = seen.get(child.tag, 0) + 1
        yield child, f"{where}/{child.tag}[{seen[child.tag]}]"


def _check_unit_attributes(element: etree._Element, where: str, path: tuple[int, ...]) -> None:
    extra = sorted({str(name) for name in element.attrib} - _UNIT_ATTRIBUTES)
    if extra:
        raise DocumentStructureError(
            f"<{element.tag!s}> at {where} has attribute(s) {', '.join(extra)}; "
            "units carry only guid and pin",
            path,
        )


def _forbid_loose_text(element: etree._Element, where: str, path: tuple[int, ...]) -> None:
    """Text belongs in a heading or p; whitespace between elements is layout and is allowed."""
    loose = [element.text] + [child.tail for child in element]
    if any(text and text.strip() for text in loose):
        raise DocumentStructureError(
            f"text directly inside <{element.tag!s}> at {where}; text belongs in a heading or p", path
        )


def _table_of(table: etree._Element, where: str, path: tuple[int, ...]) -> Table:
    """A `<table>`: `<tr>` rows of `<td>` cells, each cell a text block; nothing else inside."""
    if len(table.attrib):
        raise DocumentStructureError(f"<table> at {where} has attributes; a table carries none", path)
    _forbid_loose_text(table, where, path)
    rows: list[tuple[str, ...]] = []
    for index, (row, row_where) in enumerate(_element_children(table, where)):
        row_path = (*path, index)
        if row.tag != "tr" or len(row.attrib):
            raise DocumentStructureError(f"<{row.tag!s}> at {row_where}: a table holds only <tr> rows", row_path)
        _forbid_loose_text(row, row_where, row_path)
        cells = []
        for cell_index, (cell, cell_where) in enumerate(_element_children(row, row_where)):
            if cell.tag != "td":
                raise DocumentStructureError(
                    f"<{cell.tag!s}> at {cell_where}: a table row holds only <td> cells", (*row_path, cell_index)
                )
            cells.append(_text_of(cell, cell_where, (*row_path, cell_index)))
        rows.append(tuple(cells))
    return Table(tuple(rows))


def _text_of(block: etree._Element, where: str, path: tuple[int, ...]) -> str:
    if len(block.attrib):
        names = ", ".join(sorted(str(name) for name in block.attrib))
        raise DocumentStructureError(
            f"<{block.tag!s}> at {where} has attribute(s) {names}; text blocks carry none",
            path,
        )
    inline = [child for child in block.iter() if child is not block and isinstance(child.tag, str)]
    if inline:
        # Inline marks (docs/document-model.md, "Inline markup"): the text is read plain, its
        # runs ride along for the readers that show markup (export, reading view).
        for child in inline:
            if child.tag not in MARKS:
                raise DocumentStructureError(
                    f"<{block.tag!s}> at {where} contains <{child.tag!s}>; it may hold only text and "
                    f"the inline marks {', '.join(MARK_ORDER)}", path
                )
        return Marked.of(runs_from_element(block))
    return "".join(str(text) for text in block.itertext())
