"""The unit tree of a legal document, read from the live body: numbers, labels and eIds derived.

The live body (docs/document-model.md) stores units with their GUID, an optional pinned
number, a heading and paragraphs of text, but no numbers: numbers follow from position.
`read_units` walks the body once in document order and derives, for every unit, the number
a reader sees, its label and its Akoma Ntoso `eId` under the Naming Convention.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from lxml import etree

from .errors import DocumentStructureError, NumberingError
from .numbering import NUMBERED_KINDS, TRANSITIONAL_ARTICLES, format_label, format_number, resolve_styles

#: A group of transitional provisions ("TRANSITORIOS"): after the body's last title, chapter or
#: article, holding transitory articles that count apart (PRIMERO, SEGUNDO…). Unnumbered itself.
TRANSITIONAL: Final = "transitional"

#: Every kind of unit element, outermost first (a transitional group after the numbered kinds).
UNIT_KINDS: Final[tuple[str, ...]] = ("preamble", *NUMBERED_KINDS, TRANSITIONAL)

#: Elements that hold text (one text node each) rather than units.
TEXT_BLOCKS: Final[tuple[str, ...]] = ("heading", "p")

#: What the body itself may hold (a preamble only as its first unit, transitional groups only
#: after every title, chapter and article).
TOP_LEVEL_KINDS: Final[tuple[str, ...]] = ("preamble", "title", "chapter", "article", TRANSITIONAL)

#: The unit kinds each kind may contain.
ALLOWED_CHILDREN: Final[Mapping[str, tuple[str, ...]]] = {
    "preamble": (),
    "title": ("chapter", "article"),
    "chapter": ("article",),
    "article": ("paragraph", "subparagraph", "point", "indent"),
    "paragraph": ("subparagraph", "point", "indent"),
    "subparagraph": ("point", "indent"),
    "point": ("indent",),
    "indent": (),
    TRANSITIONAL: ("article",),
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
}

_UNIT_ATTRIBUTES: Final = frozenset({"guid", "pin"})

#: The pin that marks a unit the source leaves unnumbered: it shows no number, does not advance
#: its kind's counter, and its eId is `<abbrev>_nn_<k>` (k counts such siblings of its kind).
UNNUMBERED: Final = "-"


@dataclass(frozen=True)
class Unit:
    """One hierarchical unit of the text (an article, an apartado, a fracción…) as a reader sees it.

    `num` is the number as displayed ("16 Bis", "A", "I", "PRIMERO"; "" for the preamble),
    `label` the full label ("Artículo 16 Bis", "A.", "TÍTULO PRIMERO"; "" for the preamble),
    `eid` the Akoma Ntoso eId, `heading` the unit's heading ("" if none), `text` the unit's own
    paragraphs joined by newlines (not its sub-units' text), `pinned` whether `num` is a
    number typed by the drafters rather than derived from position.
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
    return _Reader(language, styles).read_body(body)


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
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise NumberingError(f"meta 'numbering' is not valid JSON: {error}") from None
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise NumberingError(
            'meta \'numbering\' must map unit kinds to styles, e.g. {"paragraph": "upper-alpha"}'
        )
    return value


class _Reader:
    """One pass over the body in document order, holding the counters that outlive a parent."""

    def __init__(self, language: str, styles: Mapping[str, str]) -> None:
        self.language = language
        self.styles = styles
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
            if units and units[-1].kind == TRANSITIONAL and child.tag != TRANSITIONAL:
                raise DocumentStructureError(
                    f"<{child.tag!s}> at {where} comes after transitional provisions; they close the body",
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
        num, eid_number, pinned = self.number(element, kind, where, path, counters, transitory)
        eid = self.unique_eid(_local_eid(kind, eid_number, parent_eid, transitory))

        heading, paragraphs, children = "", [], []
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
            elif tag == "p":
                if stage > 1:
                    raise DocumentStructureError(
                        f"<p> at {child_where} comes after a sub-unit; a {kind}'s paragraphs "
                        "come before its sub-units",
                        child_path,
                    )
                paragraphs.append(_text_of(child, child_where, child_path))
                stage = 1
            elif tag in ALLOWED_CHILDREN[kind]:
                children.append(self.read_unit(child, child_where, child_path, eid, child_counters, kind))
                stage = 2
            else:
                allowed = ", ".join(("heading", "p", *ALLOWED_CHILDREN[kind]))
                what = "unit" if tag in UNIT_KINDS else "element"
                raise DocumentStructureError(
                    f"unexpected {what} <{tag!s}> at {child_where}: a {kind} holds only {allowed}",
                    child_path,
                )

        label = format_label(TRANSITIONAL_ARTICLES if transitory else kind, num, self.language) if num else ""
        return Unit(
            guid=element.get("guid", ""),
            kind=kind,
            num=num,
            label=label,
            eid=eid,
            heading=heading,
            text="\n".join(paragraphs),
            children=tuple(children),
            pinned=pinned,
        )

    def number(
        self,
        element: etree._Element,
        kind: str,
        where: str,
        path: tuple[int, ...],
        counters: dict[str, int],
        transitory: bool = False,
    ) -> tuple[str, str, bool]:
        """The displayed number, the number its eId uses, and whether it is pinned. A
        `transitory` article counts among its group's articles only."""
        pin = (element.get("pin") or "").strip()
        if kind in ("preamble", TRANSITIONAL):
            if pin:
                raise DocumentStructureError(
                    f"the {kind} at {where} has no number and cannot be pinned", path
                )
            if kind == TRANSITIONAL:  # named by position: transitional_1, transitional_2…
                return "", str(_advance(counters, TRANSITIONAL)), False
            return "", "", False
        if pin == UNNUMBERED:
            unnumbered = counters[f"nn:{kind}"] = counters.get(f"nn:{kind}", 0) + 1
            return "", f"nn_{unnumbered}", True
        if pin:
            return pin, pin, True  # a pinned unit does not advance its kind's counter
        if kind == "article" and not transitory:
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


def _local_eid(kind: str, number: str, parent_eid: str | None, transitory: bool = False) -> str:
    if kind == "preamble":
        return "preamble"
    local = f"{EID_ABBREVIATIONS[kind]}_{eid_num(number)}"
    # Articles are numbered across the document, so their title or chapter is not named;
    # transitory articles count within their group, which is.
    if parent_eid is None or (kind == "article" and not transitory):
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


def _text_of(block: etree._Element, where: str, path: tuple[int, ...]) -> str:
    if len(block.attrib):
        names = ", ".join(sorted(str(name) for name in block.attrib))
        raise DocumentStructureError(
            f"<{block.tag!s}> at {where} has attribute(s) {names}; text blocks carry none",
            path,
        )
    if any(isinstance(child.tag, str) for child in block):
        raise DocumentStructureError(
            f"<{block.tag!s}> at {where} contains elements; it may hold only text", path
        )
    return "".join(str(text) for text in block.itertext())
