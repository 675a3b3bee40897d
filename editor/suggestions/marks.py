"""Pending suggestions in a live document (pycrdt), and accepting or rejecting them in place.

Shapes (written by the web editor, web/src/suggest.js):

* a suggested insertion: text formatted `ins` = {"id", "by" (account id), "name", "at"};
* a suggested deletion: text formatted `del` = the same;
* a suggested new unit: a unit element with the attributes `suggestion` (its id),
  `suggestedBy`, `suggestedName` and `suggestedAt`;
* a suggested removal of a whole unit: the unit, still accepted text, with the attributes
  `removal` (the suggestion's id), `suggestedBy`, `suggestedName` and `suggestedAt`;
* a suggested move: both of these under one id, the unit where it is marked `removal`, and where
  it would go a placeholder, a suggested new unit with `movedFrom` (the GUID of the unit moved).

Accepting an insertion removes its mark, accepting a deletion deletes its text; rejecting does
the opposite. Accepting a new unit removes its attributes; rejecting removes the unit. Accepting
a removal removes the unit; rejecting it removes its attributes. Accepting a move puts the unit,
as it is then (edits made to it while the move was pending included), with its own GUID, where
the placeholder is, and removes it from where it was; rejecting removes the placeholder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from akoma_ntoso import UNIT_KINDS
from crdt.xmltree import (
    MOVED_FROM_ATTRIBUTE,
    PENDING_UNIT_ATTRIBUTES,
    REMOVAL_ATTRIBUTE,
    SUGGESTION_ATTRIBUTE,
    fragment_to_etree,
    suggestion_mark,
)

#: The attributes of a pending suggestion on a unit, in a stable order.
UNIT_ATTRIBUTES = tuple(sorted(PENDING_UNIT_ATTRIBUTES))
KIND_OF_MARK = {"ins": "insert", "del": "delete"}


@dataclass
class Part:
    """One stretch of a pending suggestion: a run of inserted or deleted text, or a new unit."""

    suggestion: str
    kind: str  # "insert", "delete", "unit" (a new unit), "remove" (a whole unit) or "move" (where it goes)
    guid: str  # the unit it is in (a new unit: its own GUID; a move: the GUID of the unit moved)
    text: str
    author: int | None
    name: str
    at: str

    def json(self) -> dict:
        return {"id": self.suggestion, "kind": self.kind, "unit": self.guid, "text": self.text,
                "author": self.author, "name": self.name, "at": self.at}


def _account(value: object) -> int | None:
    text = str(value if value is not None else "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


# One stretch of formatted text: (XmlText, start, end in UTF-8 bytes, mark key, kind, value, text).
_Range = tuple[XmlText, int, int, str, str, dict, str]


def _walk(node: XmlFragment | XmlElement, guid: str,
          on_unit: Callable[[XmlElement, str, XmlFragment | XmlElement], None],
          on_range: Callable[[_Range, str], None]) -> None:
    for child in list(node.children):
        if isinstance(child, XmlText):
            position = 0
            for insert, attributes in child.diff():
                size = len(insert.encode("utf-8")) if isinstance(insert, str) else 1
                for key, value in (attributes or {}).items():
                    mark = suggestion_mark(key)
                    if mark and isinstance(value, dict) and value.get("id"):
                        on_range((child, position, position + size, str(key), KIND_OF_MARK[mark], value,
                                  insert if isinstance(insert, str) else ""), guid)
                position += size
            continue
        if not isinstance(child, XmlElement):
            continue
        inner = guid
        if child.tag in UNIT_KINDS or child.tag in ("preamble", "transitional", "attachment", "crossHeading"):
            inner = str(child.attributes.get("guid") or guid)
            if child.attributes.get(SUGGESTION_ATTRIBUTE) or child.attributes.get(REMOVAL_ATTRIBUTE):
                on_unit(child, inner, node)
        _walk(child, inner, on_unit, on_range)


def _unit_part(element: XmlElement, guid: str) -> Part:
    attrs = element.attributes
    blocks = fragment_to_etree(element).iter("heading", "p")  # its heading and paragraphs, apart
    text = " ".join(" ".join("".join(block.itertext()).split()) for block in blocks).strip()
    kind, suggestion = "unit", attrs.get(SUGGESTION_ATTRIBUTE)
    if suggestion and attrs.get(MOVED_FROM_ATTRIBUTE):
        kind, guid = "move", str(attrs.get(MOVED_FROM_ATTRIBUTE))
    elif not suggestion:
        kind, suggestion = "remove", attrs.get(REMOVAL_ATTRIBUTE)
    return Part(str(suggestion), kind, guid, text, _account(attrs.get("suggestedBy")),
                str(attrs.get("suggestedName") or ""), str(attrs.get("suggestedAt") or ""))


def _range_part(found: _Range, guid: str) -> Part:
    _text, _start, _end, _key, kind, value, chunk = found
    return Part(str(value.get("id")), kind, guid, chunk, _account(value.get("by")), str(value.get("name") or ""),
                str(value.get("at") or ""))


def _merged(parts: list[Part]) -> list[Part]:
    """Neighbouring stretches of one suggestion (split by other marks) as one part."""
    out: list[Part] = []
    for part in parts:
        last = out[-1] if out else None
        if last is not None and (last.suggestion, last.kind, last.guid) == (part.suggestion, part.kind, part.guid):
            last.text += part.text
        else:
            out.append(part)
    return out


def pending(doc: Doc) -> list[Part]:
    """Every pending suggestion in the document, in text order."""
    parts: list[Part] = []
    _walk(doc.get("body", type=XmlFragment), "", lambda e, g, _p: parts.append(_unit_part(e, g)),
          lambda r, g: parts.append(_range_part(r, g)))
    return _merged(parts)


def decide(doc: Doc, matches: Callable[[Part], bool], accept: bool) -> list[Part]:
    """Accept or reject, in one transaction, the suggestions whose parts `matches`; returns the
    parts decided (a move that is not what it says, see `_move_here`, is left pending)."""
    units: list[tuple[XmlElement, Part, XmlFragment | XmlElement, str]] = []
    ranges: list[tuple[_Range, Part]] = []

    def on_unit(element: XmlElement, guid: str, parent: XmlFragment | XmlElement) -> None:
        part = _unit_part(element, guid)
        if matches(part):
            units.append((element, part, parent, guid))

    def on_range(found: _Range, guid: str) -> None:
        part = _range_part(found, guid)
        if matches(part):
            ranges.append((found, part))

    body = doc.get("body", type=XmlFragment)
    _walk(body, "", on_unit, on_range)
    if not units and not ranges:
        return []
    decided: list[Part] = [p for _r, p in ranges]
    # Accepted moves last: what is decided inside the unit moved goes with it.
    moving = {part.suggestion for _e, part, _p, _g in units if part.kind == "move" and accept}
    with doc.transaction():
        # Text first, from the end of each text backwards (offsets before a change stay valid).
        for (text, start, end, key, kind, _value, _chunk), _part in sorted(
                ranges, key=lambda r: (id(r[0][0]), -r[0][1])):
            if (kind == "insert") == accept:
                text.format(start, end, {key: None})
            else:
                del text[start:end]
        for element, part, parent, guid in reversed(units):
            if part.suggestion in moving and part.kind in ("move", "remove"):
                continue
            if accept == (part.kind == "remove") or part.kind == "move":
                _remove(parent, guid, part.suggestion)  # an accepted removal, a rejected new unit or move
            else:
                for name in UNIT_ATTRIBUTES:
                    if name in element.attributes:
                        del element.attributes[name]
            decided.append(part)
        for _element, part, _parent, guid in units:
            if part.kind == "move" and part.suggestion in moving and _move_here(body, guid, part.suggestion, part.guid):
                decided += [p for _e, p, _pa, _g in units if p.suggestion == part.suggestion]
    return _merged(decided)


def _index(parent: XmlFragment | XmlElement, guid: str, suggestion: str | None = None) -> int | None:
    """The index of the child unit with `guid` (and, given, with a pending `suggestion` of that id)."""
    for index, child in enumerate(parent.children):
        if isinstance(child, XmlElement) and str(child.attributes.get("guid") or "") == guid and (
                suggestion is None or suggestion in (child.attributes.get(SUGGESTION_ATTRIBUTE),
                                                     child.attributes.get(REMOVAL_ATTRIBUTE))):
            return index
    return None


def _remove(parent: XmlFragment | XmlElement, guid: str, suggestion: str | None = None) -> None:
    index = _index(parent, guid, suggestion)
    if index is not None:
        del parent.children[index]


def _all_units(node: XmlFragment | XmlElement, guid: str) -> list[tuple[XmlElement, XmlFragment | XmlElement]]:
    """Every unit with `guid` under `node`, with its parent."""
    found: list[tuple[XmlElement, XmlFragment | XmlElement]] = []
    for child in node.children:
        if isinstance(child, XmlElement):
            if child.attributes.get("guid") == guid:
                found.append((child, node))
            found += _all_units(child, guid)
    return found


def _within(outer: XmlElement, inner: XmlElement) -> bool:
    """Whether `inner` is `outer` or inside it."""
    guid = outer.attributes.get("guid")
    node: XmlFragment | XmlElement | XmlText | None = inner
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement) and node.attributes.get("guid") == guid:
            return True
        node = node.parent
    return False


def _move_here(body: XmlFragment, placeholder_guid: str, suggestion: str, guid: str) -> bool:
    """An accepted move: the unit `guid`, as it is now, replaces the placeholder, under its own
    GUID, and is removed from where it was. Only a move that is what it says: one placeholder of
    this suggestion, one unit `guid` marked for removal by the same suggestion, neither inside
    the other. Returns whether it moved."""
    placeholders = [(e, p) for e, p in _all_units(body, placeholder_guid)
                    if e.attributes.get(SUGGESTION_ATTRIBUTE) == suggestion]
    sources = _all_units(body, guid)
    if len(placeholders) != 1 or len(sources) != 1:
        return False
    (placeholder, parent), (source, source_parent) = placeholders[0], sources[0]
    if source.attributes.get(REMOVAL_ATTRIBUTE) != suggestion or _within(source, placeholder) \
            or _within(placeholder, source):
        return False
    index = _index(parent, placeholder_guid, suggestion)
    if index is None:
        return False
    attributes = {k: v for k, v in list(source.attributes)  # type: ignore[call-overload]
                  if k not in PENDING_UNIT_ATTRIBUTES}
    attributes["guid"] = "moving-" + guid  # one unit with this GUID at a time
    copy = parent.children.insert(index, XmlElement(str(source.tag), attributes))
    _copy_children(source, copy)
    del parent.children[index + 1]  # the placeholder
    _remove(source_parent, guid, suggestion)
    copy.attributes["guid"] = guid
    return True


def _copy_children(source: XmlElement, target: XmlElement) -> None:
    """Everything inside `source` (elements, attributes, text with its formatting) into `target`."""
    for child in source.children:
        if isinstance(child, XmlText):
            text = target.children.append(XmlText())
            position = 0
            for insert, attributes in child.diff():
                if isinstance(insert, str):
                    text.insert(position, insert, attributes or None)
                    position += len(insert.encode("utf-8"))
                else:
                    text.insert_embed(position, insert, attributes or None)
                    position += 1
        elif isinstance(child, XmlElement):
            element = target.children.append(XmlElement(str(child.tag), dict(list(child.attributes))))  # type: ignore[call-overload]
            _copy_children(child, element)


def suggestion_ids(parts: list[Part]) -> Iterator[str]:
    seen: set[str] = set()
    for part in parts:
        if part.suggestion not in seen:
            seen.add(part.suggestion)
            yield part.suggestion
