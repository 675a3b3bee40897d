"""Pending suggestions in a live document (pycrdt), and accepting or rejecting them in place.

Shapes (written by the web editor, web/src/suggest.js):

* a suggested insertion: text formatted `ins` = {"id", "by" (account id), "name", "at"};
* a suggested deletion: text formatted `del` = the same;
* a suggested new unit: a unit element with the attributes `suggestion` (its id),
  `suggestedBy`, `suggestedName` and `suggestedAt`.

Accepting an insertion removes its mark, accepting a deletion deletes its text; rejecting does
the opposite. Accepting a new unit removes its attributes; rejecting removes the unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from akoma_ntoso import UNIT_KINDS
from crdt.xmltree import SUGGESTION_ATTRIBUTE, fragment_to_etree, suggestion_mark

#: The attributes of a suggested unit.
UNIT_ATTRIBUTES = (SUGGESTION_ATTRIBUTE, "suggestedBy", "suggestedName", "suggestedAt")
KIND_OF_MARK = {"ins": "insert", "del": "delete"}


@dataclass
class Part:
    """One stretch of a pending suggestion: a run of inserted or deleted text, or a new unit."""

    suggestion: str
    kind: str  # "insert", "delete" or "unit"
    guid: str  # the unit it is in (a new unit: its own GUID)
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
            if child.attributes.get(SUGGESTION_ATTRIBUTE):
                on_unit(child, inner, node)
        _walk(child, inner, on_unit, on_range)


def _unit_part(element: XmlElement, guid: str) -> Part:
    attrs = element.attributes
    text = " ".join("".join(fragment_to_etree(element).itertext()).split())
    return Part(str(attrs.get(SUGGESTION_ATTRIBUTE)), "unit", guid, text, _account(attrs.get("suggestedBy")),
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
    """Accept or reject, in one transaction, the suggestions whose parts `matches`; returns them."""
    units: list[tuple[XmlElement, Part, XmlFragment | XmlElement]] = []
    ranges: list[tuple[_Range, Part]] = []

    def on_unit(element: XmlElement, guid: str, parent: XmlFragment | XmlElement) -> None:
        part = _unit_part(element, guid)
        if matches(part):
            units.append((element, part, parent))

    def on_range(found: _Range, guid: str) -> None:
        part = _range_part(found, guid)
        if matches(part):
            ranges.append((found, part))

    body = doc.get("body", type=XmlFragment)
    _walk(body, "", on_unit, on_range)
    if not units and not ranges:
        return []
    with doc.transaction():
        # Text first, from the end of each text backwards (offsets before a change stay valid).
        for (text, start, end, key, kind, _value, _chunk), _part in sorted(
                ranges, key=lambda r: (id(r[0][0]), -r[0][1])):
            if (kind == "insert") == accept:
                text.format(start, end, {key: None})
            else:
                del text[start:end]
        for element, _part, parent in reversed(units):
            if accept:
                for name in UNIT_ATTRIBUTES:
                    if name in element.attributes:
                        del element.attributes[name]
            else:
                for index, child in enumerate(parent.children):
                    if isinstance(child, XmlElement) and child.attributes.get(SUGGESTION_ATTRIBUTE) == \
                            element.attributes.get(SUGGESTION_ATTRIBUTE) and child.attributes.get("guid") == \
                            element.attributes.get("guid"):
                        del parent.children[index]
                        break
    return _merged([p for _r, p in ranges] + [p for _e, p, _parent in units])


def suggestion_ids(parts: list[Part]) -> Iterator[str]:
    seen: set[str] = set()
    for part in parts:
        if part.suggestion not in seen:
            seen.add(part.suggestion)
            yield part.suggestion
