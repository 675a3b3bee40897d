"""Projections between a Yjs XmlFragment and plain lxml trees.

The live document is an XmlFragment; everything that reads it (numbering, Akoma Ntoso export,
HTML) reads an lxml copy made here, so that those readers are pure functions over plain data.
pycrdt's own `str()` does not escape markup, so the copy is built node by node.
"""

from __future__ import annotations

import re
from typing import Iterable, cast

from lxml import etree
from pycrdt import Map, XmlElement, XmlFragment, XmlText

from akoma_ntoso.inline import Mark, Run, fill_element, runs_from_delta, runs_from_element, yjs_attributes

#: The elements that hold text (and inline marks) rather than elements.
TEXT_BLOCKS = ("heading", "p")
#: Pending suggestions (editor/suggestions/marks.py, web/src/suggest.js): a suggested insertion or deletion
#: is a range formatted `ins` / `del` ({"id", "by", "name", "at"}); a suggested new unit is an
#: element with the attribute `suggestion` (its id). None of them is part of the accepted text.
#: A unit suggested for removal carries `removal` (the suggestion's id) and stays accepted text
#: until the removal is accepted; a suggested move is both: the unit where it is, marked `removal`,
#: and a placeholder where it would go, a suggested unit with `movedFrom` (the unit's GUID).
SUGGESTION_MARKS = ("ins", "del")
SUGGESTION_ATTRIBUTE = "suggestion"
REMOVAL_ATTRIBUTE = "removal"
MOVED_FROM_ATTRIBUTE = "movedFrom"
#: The attributes of a pending suggestion on a unit (who suggested it and when: `suggested…`).
PENDING_UNIT_ATTRIBUTES = frozenset({SUGGESTION_ATTRIBUTE, REMOVAL_ATTRIBUTE, MOVED_FROM_ATTRIBUTE, "suggestedBy",
                                     "suggestedName", "suggestedAt"})
_HASHED = re.compile(r"--[A-Za-z0-9+/=]{8}$")

# Characters XML 1.0 cannot carry; a peer may still type them, they are dropped from the copy.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def fragment_to_etree(fragment: XmlFragment | XmlElement, root_tag: str = "body",
                      accepted: bool = False) -> etree._Element:
    """Copy a fragment into an lxml element named `root_tag` (attributes and text included).

    `accepted`: the accepted text only, without pending suggestions (suggested insertions and
    suggested units left out, suggested deletions kept as ordinary text): what the public,
    exports and versions read. Without it, element paths match the fragment's (`element_at`)."""
    root = etree.Element(root_tag)
    _copy_children(fragment, root, accepted)
    return root


def suggestion_mark(key: object) -> str | None:
    """"ins" or "del" if a formatting attribute's key is a suggestion mark (None otherwise)."""
    name = _HASHED.sub("", str(key))
    return name if name in SUGGESTION_MARKS else None


def accepted_delta(delta: list) -> list:
    """An `XmlText.diff()` without suggested insertions, suggested deletions as plain text."""
    out = []
    for insert, attributes in delta:
        if not attributes:
            out.append((insert, attributes))
            continue
        kinds = {suggestion_mark(key) for key, value in attributes.items() if value is not None}
        if "ins" in kinds:
            continue
        kept = {key: value for key, value in attributes.items() if suggestion_mark(key) is None}
        out.append((insert, kept or None))
    return out


def is_suggested(element: XmlElement) -> bool:
    """A unit someone suggested and nobody has accepted yet."""
    return bool(element.attributes.get(SUGGESTION_ATTRIBUTE))


def accepted_signature(doc) -> bytes:
    """The accepted text and meta of a document, as bytes to compare (crdt.room's check that a
    suggest-only connection's update leaves them as they were)."""
    meta = doc.get("meta", type=Map)
    body = fragment_to_etree(doc.get("body", type=XmlFragment), accepted=True)
    return repr(sorted((str(k), repr(_plain(v))) for k, v in meta.items())).encode() + etree.tostring(body)


def _plain(value):
    return value.to_py() if hasattr(value, "to_py") else value


def _copy_children(source: XmlFragment | XmlElement, target: etree._Element, accepted: bool = False) -> None:
    last: etree._Element | None = None
    for child in source.children:
        if isinstance(child, XmlText):
            delta = child.diff()
            if accepted:
                delta = accepted_delta(delta)
            if any(attributes for _, attributes in delta):
                # Formatted ranges (inline marks) become inline child elements, never pseudo-tags.
                # A peer may put anything in a mark's attributes: what XML cannot carry is dropped.
                runs = [Run(_clean(run.text), tuple(Mark(m.name, tuple(sorted((k, _clean(v)) for k, v in m.attrs)))
                                                    for m in run.marks)) for run in runs_from_delta(delta)]
                holder = etree.Element("holder")
                fill_element(holder, runs)
                _append_text(target, last, holder.text or "")
                for inline in list(holder):
                    target.append(inline)
                    last = inline
                continue
            _append_text(target, last, _clean("".join(t for t, _ in delta if isinstance(t, str))))
            continue
        child = cast(XmlElement, child)  # not text: an element (a fragment is only ever the root)
        if accepted and is_suggested(child):
            continue
        tag = child.tag or ""
        if not _NAME.match(tag):
            tag = "invalid"  # a peer's bad element name must not break every reader
        element = etree.SubElement(target, tag)
        # In name order: Yrs keeps attributes in a hash map, whose order differs between two copies
        # of the same document (a fingerprint of the text must not).
        # pycrdt annotates XmlAttributesView.__iter__ as returning an Iterable, not an Iterator
        pairs: list[tuple[str, object]] = list(child.attributes)  # type: ignore[call-overload]
        for key, value in sorted(pairs, key=lambda pair: pair[0]):
            if accepted and key in PENDING_UNIT_ATTRIBUTES:
                continue  # a pending removal is not part of the accepted text
            if _NAME.match(key) and ":" not in key:
                element.set(key, _clean(str(value)))
        _copy_children(child, element, accepted)
        last = element


def _append_text(target: etree._Element, last: etree._Element | None, text: str) -> None:
    if last is None:
        target.text = (target.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def element_at(fragment: XmlFragment, path: Iterable[int]) -> XmlElement:
    """The element reached by following element-child indexes (text children not counted)."""
    node: XmlFragment | XmlElement = fragment
    for index in path:
        elements = [c for c in node.children if isinstance(c, XmlElement)]
        node = elements[index]
    if not isinstance(node, XmlElement):
        raise IndexError("path leads to the fragment itself")
    return node


def etree_to_fragment(source: etree._Element, fragment: XmlFragment | XmlElement) -> None:
    """Append the children of an lxml element (tags, attributes, text) to a live fragment.

    A text block (`heading`, `p`) with inline children (`<i>`, `<ref guid>`…) becomes one
    XmlText whose ranges carry them as formatting attributes (docs/document-model.md)."""
    if source.tag in TEXT_BLOCKS and any(isinstance(child.tag, str) for child in source):
        text = fragment.children.append(XmlText())
        position = 0
        for run in runs_from_element(source):
            text.insert(position, run.text, yjs_attributes(run.marks))
            position += len(run.text.encode("utf-8"))  # pycrdt counts UTF-8 bytes
        return
    if source.text:
        fragment.children.append(XmlText(source.text))
    for child in source:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions are not part of the text
        attrs = {k: v for k, v in child.attrib.items()}
        element = fragment.children.append(XmlElement(child.tag, attrs))
        etree_to_fragment(child, element)
        if child.tail:
            fragment.children.append(XmlText(child.tail))
