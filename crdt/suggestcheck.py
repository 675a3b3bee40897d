"""Does an update only suggest? The check crdt.room makes on a suggest-only connection's updates.

The invariant: the document's accepted text (crdt.xmltree.fragment_to_etree(accepted=True): no
suggested insertions, suggested deletions kept, no suggested units) and its meta are the same
before and after the update. Comparing the whole document costs a quarter of a second on a
constitution of 1,600 units, for every keystroke; so the update is applied to a shadow copy
while its events are watched, and only the units it touched are compared, each found in the
document before the update by the GUIDs of the units around it. Whatever cannot be located
that way (a unit without a GUID, duplicated GUIDs, a change at the top of the body) falls back
to comparing the whole document.

With an author (the connection's account), more rules: the suggestions it adds name that author
under ids of theirs (`id_prefix`); other people's pending suggestions in what it touched stay as
they are, and so do other people's suggested units (withdrawing, rewriting or deciding them is
not a suggestion); a suggested unit's GUIDs are new to the document; and a move's new place
names exactly one unit, which that same suggestion marks for removal.
"""

from __future__ import annotations

from lxml import etree
from pycrdt import Doc, Map, XmlElement, XmlFragment, XmlText

from .xmltree import (
    MOVED_FROM_ATTRIBUTE,
    PENDING_UNIT_ATTRIBUTES,
    REMOVAL_ATTRIBUTE,
    SUGGESTION_ATTRIBUTE,
    accepted_delta,
    accepted_signature,
    fragment_to_etree,
    suggestion_mark,
)

#: Elements that are units (docs/document-model.md): they carry a GUID.
UNIT_TAGS = frozenset({"preamble", "title", "chapter", "article", "paragraph", "subparagraph", "point", "indent",
                       "transitional", "attachment", "crossHeading"})


class _Unlocatable(Exception):
    """A touched unit cannot be found by GUIDs: compare the whole document instead."""


def _unit_of(node) -> XmlElement | None:
    """The innermost unit around `node` (itself if it is one); None at the top of the body."""
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement) and node.tag in UNIT_TAGS:
            return node
        node = node.parent
    return None


def _chain(unit: XmlElement) -> tuple[str, ...]:
    """The GUIDs of the unit and the units around it, outermost first."""
    guids: list[str] = []
    node: XmlFragment | XmlElement | XmlText | None = unit
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement) and node.tag in UNIT_TAGS:
            guid = node.attributes.get("guid")
            if not guid:
                raise _Unlocatable()
            guids.append(str(guid))
        node = node.parent
    return tuple(reversed(guids))


def _find(body: XmlFragment, chain: tuple[str, ...]) -> XmlElement | None:
    """The unit at `chain` in `body`, or None if it is not there."""
    node: XmlFragment | XmlElement = body
    for guid in chain:
        found = [c for c in _units_under(node) if c.attributes.get("guid") == guid]
        if len(found) > 1:
            raise _Unlocatable()
        if not found:
            return None
        node = found[0]
    return node if isinstance(node, XmlElement) else None


def _units_under(node: XmlFragment | XmlElement) -> list[XmlElement]:
    return [c for c in node.children if isinstance(c, XmlElement) and c.tag in UNIT_TAGS]


def _suggested(unit: XmlElement | None) -> bool:
    node: XmlFragment | XmlElement | XmlText | None = unit
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement) and node.attributes.get(SUGGESTION_ATTRIBUTE):
            return True
        node = node.parent
    return False


def _accepted(unit: XmlElement) -> list:
    """The unit's accepted text, shallow: its attributes, its own blocks (heading, paragraphs,
    tables) and the GUIDs of its accepted sub-units in order. A sub-unit changed inside is a
    target of its own, compared on its own."""
    # A pending removal (or move) marks the unit but leaves its accepted text as it is.
    out: list = [sorted((str(k), str(v)) for k, v in unit.attributes  # type: ignore[attr-defined]
                        if str(k) not in PENDING_UNIT_ATTRIBUTES)]
    for child in unit.children:
        if isinstance(child, XmlElement) and child.tag in UNIT_TAGS:
            if not child.attributes.get(SUGGESTION_ATTRIBUTE):
                out.append(("unit", str(child.attributes.get("guid") or "")))
        elif isinstance(child, XmlElement):
            out.append((child.tag, etree.tostring(fragment_to_etree(child, str(child.tag), accepted=True)),
                        sorted((str(k), str(v)) for k, v in child.attributes)))  # type: ignore[attr-defined]
        elif isinstance(child, XmlText):
            out.append(("text", _text(child)))
    return out


def _text(text) -> str:
    return "".join(t for t, _a in accepted_delta(text.diff()) if isinstance(t, str))


def _inserts_only_suggestions(event) -> bool:
    """Whatever the event inserts is a suggested unit, or text with no accepted characters."""
    for change in getattr(event, "delta", None) or ():
        inserted = change.get("insert") if isinstance(change, dict) else None
        if inserted is None or isinstance(inserted, str):
            continue
        for item in inserted:
            if isinstance(item, XmlElement):
                if not item.attributes.get(SUGGESTION_ATTRIBUTE):
                    return False
            elif isinstance(item, XmlText):
                if _text(item):
                    return False
            else:
                return False
    return True


def id_prefix(author: str) -> str:
    """How the ids of `author`'s suggestions begin (web/src/suggest.js newSuggestionId): an id is
    bound to its author, so nobody can add parts to another person's suggestion."""
    return f"s{author}-"


def _mark_named(value: object, author: str) -> bool:
    return isinstance(value, dict) and str(value.get("by")) == author \
        and str(value.get("id") or "").startswith(id_prefix(author))


def _element_named(element: XmlElement, author: str) -> bool:
    """Everything pending in an element someone inserts names `author`, with ids of theirs."""
    attributes = element.attributes
    for name in (SUGGESTION_ATTRIBUTE, REMOVAL_ATTRIBUTE):
        if attributes.get(name) and (str(attributes.get("suggestedBy")) != author
                                     or not str(attributes.get(name)).startswith(id_prefix(author))):
            return False
    for child in element.children:
        if isinstance(child, XmlText):
            for _insert, marks in child.diff():
                if any(suggestion_mark(k) and not _mark_named(v, author) for k, v in (marks or {}).items()):
                    return False
        elif isinstance(child, XmlElement) and not _element_named(child, author):
            return False
    return True


def _named(event, author: str) -> bool:
    """Every suggestion the event adds names `author`, under an id of theirs (a suggest-only
    connection cannot make suggestions in someone else's name, nor add to theirs)."""
    for change in getattr(event, "delta", None) or ():
        if not isinstance(change, dict):
            continue
        for key, value in (change.get("attributes") or {}).items():
            if suggestion_mark(key) and value is not None and not _mark_named(value, author):
                return False
        inserted = change.get("insert")
        for item in inserted if isinstance(inserted, list) else ():
            if isinstance(item, XmlElement) and not _element_named(item, author):
                return False
    keys = getattr(event, "keys", None) or {}
    target = getattr(event, "target", None)
    attributes = getattr(target, "attributes", None)
    for name in ("suggestedBy", SUGGESTION_ATTRIBUTE, REMOVAL_ATTRIBUTE, MOVED_FROM_ATTRIBUTE):
        changed = keys.get(name)
        if isinstance(changed, dict) and changed.get("newValue") is not None:
            # A unit marked as suggested, for removal or as a move's new place names this author.
            if attributes is None or str(attributes.get("suggestedBy")) != author:
                return False
            if name in (SUGGESTION_ATTRIBUTE, REMOVAL_ATTRIBUTE) and \
                    not str(changed.get("newValue")).startswith(id_prefix(author)):
                return False
    return True


def _walk_units(node: XmlFragment | XmlElement):
    for child in node.children:
        if isinstance(child, XmlElement):
            if child.tag in UNIT_TAGS:
                yield child
            yield from _walk_units(child)


def _inserted_elements(events) -> list[XmlElement]:
    out: list[XmlElement] = []
    for event in events:
        for change in getattr(event, "delta", None) or ():
            inserted = change.get("insert") if isinstance(change, dict) else None
            if isinstance(inserted, list):
                out.extend(item for item in inserted if isinstance(item, XmlElement))
    return out


def _contains(outer: XmlElement, inner: XmlElement) -> bool:
    """Whether `inner` is `outer` or inside it (compared by GUIDs along `inner`'s ancestors)."""
    guid = outer.attributes.get("guid")
    node: XmlFragment | XmlElement | XmlText | None = inner
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement) and guid and node.attributes.get("guid") == guid:
            return True
        node = node.parent
    return False


def _structure_ok(before: Doc, shadow: Doc, events, author: str) -> bool:
    """New units and moves a suggest-only connection makes are what they say: a suggested unit's
    GUIDs are new to the document, and a move's new place names one unit, marked for removal by
    the same suggestion of this author, neither inside the other."""
    inserted = _inserted_elements(events)
    moved_events = [e for e in events if isinstance((getattr(e, "keys", None) or {}).get(MOVED_FROM_ATTRIBUTE), dict)]
    if not inserted and not moved_events:
        return True
    if inserted:
        existing = {str(u.attributes.get("guid") or "") for u in _walk_units(before.get("body", type=XmlFragment))}
        existing.discard("")
        for element in inserted:
            for unit in [element, *_walk_units(element)]:
                if str(unit.attributes.get("guid") or "") in existing:
                    return False
    placeholders = [e for e in inserted if e.attributes.get(MOVED_FROM_ATTRIBUTE)]
    placeholders += [u for e in inserted for u in _walk_units(e) if u.attributes.get(MOVED_FROM_ATTRIBUTE)]
    placeholders += [e.target for e in moved_events if isinstance(e.target, XmlElement)
                     and e.target.attributes.get(MOVED_FROM_ATTRIBUTE)]
    if not placeholders:
        return True
    units = list(_walk_units(shadow.get("body", type=XmlFragment)))
    for placeholder in placeholders:
        source = str(placeholder.attributes.get(MOVED_FROM_ATTRIBUTE))
        found = [u for u in units if str(u.attributes.get("guid") or "") == source]
        if len(found) != 1:
            return False
        original = found[0]
        if str(original.attributes.get(REMOVAL_ATTRIBUTE)) != str(placeholder.attributes.get(SUGGESTION_ATTRIBUTE)) \
                or str(original.attributes.get("suggestedBy")) != author:
            return False
        if _contains(original, placeholder) or _contains(placeholder, original):
            return False
    return True


def _owner(unit: XmlElement) -> str | None:
    """Who suggested the suggested unit `unit` is in (the nearest one)."""
    node: XmlFragment | XmlElement | XmlText | None = unit
    while node is not None and not isinstance(node, XmlFragment):
        if isinstance(node, XmlElement) and node.attributes.get(SUGGESTION_ATTRIBUTE):
            return str(node.attributes.get("suggestedBy"))
        node = node.parent
    return None


def _others(unit: XmlFragment | XmlElement, author: str, deep: bool = False) -> list:
    """The pending suggestions of other people in `unit`: on the unit itself (a removal), on its
    sub-units (new ones) and in its own text; with `deep`, in its sub-units' text too. A
    connection that may only suggest must leave them as they are (deciding them is not its part)."""
    out: list = []

    def mine(attributes) -> bool:
        return str(attributes.get("suggestedBy")) == author

    def texts(node) -> None:
        for child in node.children:
            if isinstance(child, XmlText):
                for insert, attributes in child.diff():
                    for key, value in (attributes or {}).items():
                        kind = suggestion_mark(key)
                        if kind and isinstance(value, dict) and str(value.get("by")) != author:
                            if out and out[-1][:2] == (kind, str(value.get("id"))):
                                out[-1] = (*out[-1][:2], out[-1][2] + (insert if isinstance(insert, str) else ""))
                            else:
                                out.append((kind, str(value.get("id")), insert if isinstance(insert, str) else ""))
            elif isinstance(child, XmlElement) and (deep or child.tag not in UNIT_TAGS):
                visit(child) if child.tag in UNIT_TAGS else texts(child)
            elif isinstance(child, XmlElement):
                marks(child)

    def marks(element: XmlElement) -> None:
        attributes = element.attributes
        for name in (SUGGESTION_ATTRIBUTE, REMOVAL_ATTRIBUTE):
            if attributes.get(name) and not mine(attributes):
                out.append((name, str(attributes.get(name)), str(attributes.get("guid") or "")))

    def visit(element: XmlElement) -> None:
        marks(element)
        texts(element)

    if isinstance(unit, XmlElement):
        visit(unit)
    else:
        texts(unit)
    return out


def only_suggests(before: Doc, shadow: Doc, update: bytes, author: str | None = None) -> bool:
    """Whether `update` leaves the accepted text and meta of `before` as they are. `shadow` is a
    copy of `before` (same state): the update is applied to it, never to `before`. With `author`
    (an account id), the suggestions it adds must name that author."""
    meta_changed: list[bool] = []
    body = shadow.get("body", type=XmlFragment)
    events: list = []
    watching = body.observe_deep(lambda batch: events.extend(batch))
    meta = shadow.get("meta", type=Map)
    watching_meta = meta.observe_deep(lambda events: meta_changed.append(True))
    try:
        shadow.apply_update(update)
    finally:
        body.unobserve(watching)
        meta.unobserve(watching_meta)
    if meta_changed:
        return False
    if not events:
        return True
    if author is not None and not all(_named(event, author) for event in events):
        return False
    if author is not None and not _structure_ok(before, shadow, events, author):
        return False
    try:
        units: dict[tuple[str, ...], XmlElement] = {}
        for event in events:
            target = event.target
            unit = _unit_of(target)
            if unit is not None and not _suggested(unit) and not _inserts_only_suggestions(event):
                return False  # new accepted text (or a unit moved, i.e. copied): not a suggestion
            if unit is None:
                raise _Unlocatable()  # the top of the body changed: compare everything
            units[_chain(unit)] = unit
        old_body = before.get("body", type=XmlFragment)
        for chain, unit in units.items():
            old = _find(old_body, chain)
            if author is not None and old is not None and _others(old, author) != _others(unit, author):
                return False  # another's suggestion withdrawn or changed
            if _suggested(unit):
                # Inside a suggested unit: fine, unless that unit was accepted text before, or (for
                # a suggest-only connection) it is another person's suggestion.
                if old is not None and not _suggested(old):
                    return False
                if author is not None and _owner(unit) != author:
                    return False
                continue
            if old is None or _suggested(old) or _accepted(old) != _accepted(unit):
                return False
        return True
    except _Unlocatable:
        if author is not None and _others(before.get("body", type=XmlFragment), author, deep=True) != \
                _others(shadow.get("body", type=XmlFragment), author, deep=True):
            return False
        return accepted_signature(before) == accepted_signature(shadow)

