"""The change an adopted amendment makes to the text, as operations on units by GUID.

The same operations are applied to a plain lxml copy of the live body (to check that the
result is still a legal unit tree, before anything is changed) and then to the live
`XmlFragment` itself, inside one CRDT transaction. Both follow docs/document-model.md: a unit
holds an optional `heading`, its `p` elements, then its sub-units.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lxml import etree
from pycrdt import XmlElement, XmlFragment, XmlText

from akoma_ntoso import UNIT_KINDS

TEXT_BLOCKS = ("heading", "p")


class ApplyError(ValueError):
    """The operation cannot be applied to this text (its unit is not there)."""


@dataclass(frozen=True)
class Substitute:
    """Replace the heading and paragraphs of unit `guid` (its GUID and sub-units stay)."""

    guid: str
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Insert:
    """Create unit `guid` of `kind` `position` (after, before, inside as first sub-unit) `anchor`."""

    anchor: str
    position: str
    kind: str
    guid: str
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Remove:
    """Delete unit `guid` with its sub-units."""

    guid: str


Operation = Substitute | Insert | Remove


def paragraphs_of(text: str) -> tuple[str, ...]:
    """A unit's text (paragraphs joined by newlines) as its paragraphs."""
    return tuple(text.split("\n")) if text else ()


# --- lxml ------------------------------------------------------------------------------------------


def _find_etree(body: etree._Element, guid: str) -> etree._Element:
    for element in body.iter(*UNIT_KINDS):
        if element.get("guid") == guid:
            return element
    raise ApplyError(f"unit {guid} is not in the text")


def _new_etree(kind: str, guid: str, heading: str, paragraphs: Sequence[str]) -> etree._Element:
    element = etree.Element(kind, guid=guid)
    if heading:
        etree.SubElement(element, "heading").text = heading
    for text in paragraphs:
        etree.SubElement(element, "p").text = text
    return element


def apply_to_etree(body: etree._Element, operations: Sequence[Operation]) -> None:
    """Apply the operations to a plain copy of the body (changed in place)."""
    for op in operations:
        if isinstance(op, Substitute):
            element = _find_etree(body, op.guid)
            for child in [c for c in element if c.tag in TEXT_BLOCKS]:
                element.remove(child)
            for index, child in enumerate(list(_new_etree("x", "", op.heading, op.paragraphs))):
                element.insert(index, child)
        elif isinstance(op, Insert):
            anchor = _find_etree(body, op.anchor)
            new = _new_etree(op.kind, op.guid, op.heading, op.paragraphs)
            if op.position == "inside":
                blocks = [c for c in anchor if c.tag in TEXT_BLOCKS]
                anchor.insert(anchor.index(blocks[-1]) + 1 if blocks else 0, new)
            else:
                parent = anchor.getparent()
                parent.insert(parent.index(anchor) + (1 if op.position == "after" else 0), new)
        elif isinstance(op, Remove):
            element = _find_etree(body, op.guid)
            element.getparent().remove(element)


# --- the live fragment -----------------------------------------------------------------------------


def _walk(parent: XmlFragment | XmlElement) -> Iterator[tuple[XmlFragment | XmlElement, int, XmlElement]]:
    for index, child in enumerate(parent.children):
        if isinstance(child, XmlElement) and child.tag in UNIT_KINDS:
            yield parent, index, child
            yield from _walk(child)


def _find_live(body: XmlFragment, guid: str) -> tuple[XmlFragment | XmlElement, int, XmlElement]:
    for parent, index, element in _walk(body):
        if element.attributes.get("guid") == guid:
            return parent, index, element
    raise ApplyError(f"unit {guid} is not in the text")


def _block(tag: str, text: str) -> XmlElement:
    return XmlElement(tag, {}, [XmlText(text)])


def _new_live(kind: str, guid: str, heading: str, paragraphs: Sequence[str]) -> XmlElement:
    contents = ([_block("heading", heading)] if heading else []) + [_block("p", t) for t in paragraphs]
    return XmlElement(kind, {"guid": guid}, contents)


def _first_unit_index(element: XmlElement) -> int:
    """The index of the element's first sub-unit among its children (its length when it has none)."""
    for index, child in enumerate(element.children):
        if isinstance(child, XmlElement) and child.tag in UNIT_KINDS:
            return index
    return len(element.children)


def apply_to_fragment(body: XmlFragment, operations: Sequence[Operation]) -> None:
    """Apply the operations to the live body (call inside the transaction that attributes them)."""
    for op in operations:
        if isinstance(op, Substitute):
            _, _, element = _find_live(body, op.guid)
            # Everything before the first sub-unit is the unit's own text (heading, p, stray text).
            first = _first_unit_index(element)
            if first:
                del element.children[0:first]
            blocks = ([_block("heading", op.heading)] if op.heading else []) + [_block("p", t) for t in op.paragraphs]
            for index, block in enumerate(blocks):
                element.children.insert(index, block)
        elif isinstance(op, Insert):
            parent, index, anchor = _find_live(body, op.anchor)
            new = _new_live(op.kind, op.guid, op.heading, op.paragraphs)
            if op.position == "inside":
                anchor.children.insert(_first_unit_index(anchor), new)
            else:
                parent.children.insert(index + (1 if op.position == "after" else 0), new)
        elif isinstance(op, Remove):
            parent, index, _ = _find_live(body, op.guid)
            del parent.children[index]
