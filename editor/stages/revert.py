"""Reverting one unit's wording to a frozen version.

A unit's history (`history.unit_history`) shows its wording in every version; a committee
member who may write the live text in the current stage can bring a unit back to the wording
it had in one of them, in one action:

* **what is reverted**: the unit's own wording, i.e. everything before its first sub-unit (its
  heading, its paragraphs and its tables), exactly as the version holds it, inline marks and
  cross-references included (read from the version's CRDT state, not from its plain snapshot).
  Its sub-units, its place in the text and its pin are left as they are: each sub-unit has its
  own history and is reverted on its own, and the number follows from the position. A unit the
  version does not hold, or that is no longer in the live text, cannot be reverted (removed
  units come back through an amendment or by hand);
* **how**: one transaction in the document's room (as an adopted amendment or a loaded revised
  draft), after checking, in the same turn of the room, that the result is still a legal unit
  tree. It is durable before connected editors receive it;
* **who**: the room's audit entry (`text.update`) names `revert:<account>`; a `text.revert`
  entry names the account, the unit and the version; the unit's history records the edit as
  the account's (through `TextChanged`, as live edits are).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from flask_babel import gettext as _
from lxml import etree
from pycrdt import Doc, XmlElement, XmlFragment

from akoma_ntoso import UNIT_KINDS, AkomaNtosoError, Unit, iter_units, read_units
from crdt.xmltree import etree_to_fragment, fragment_to_etree

from .. import audit
from ..errors import DomainError
from ..events import TextChanged
from ..livetext import text_of
from ..models import Document, User
from .versions import get_version


class RevertError(DomainError):
    """The unit cannot be reverted to that version (the reason is for the user); nothing changed."""


@dataclass(frozen=True)
class Reverted:
    guid: str
    version: int
    changed: bool  # False: the unit already read as in that version
    before: Unit
    after: Unit


def version_body(state: bytes) -> etree._Element:
    """A version's body as a plain lxml tree, read from its CRDT state (marks included; its
    pending suggestions, never accepted, left out)."""
    doc: Doc = Doc()
    doc.apply_update(state)
    return fragment_to_etree(doc.get("body", type=XmlFragment), accepted=True)


def _unit_element(body: etree._Element, guid: str) -> etree._Element | None:
    return next((e for e in body.iter(*UNIT_KINDS) if e.get("guid") == guid), None)


def own_blocks(element: etree._Element) -> list[etree._Element]:
    """The unit's own wording: its children before its first sub-unit (heading, p, table)."""
    blocks = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag in UNIT_KINDS:
            break
        blocks.append(child)
    return blocks


def _same(a: list[etree._Element], b: list[etree._Element]) -> bool:
    return [etree.tostring(x, encoding="unicode", with_tail=False) for x in a] == \
        [etree.tostring(x, encoding="unicode", with_tail=False) for x in b]


def _find_live(parent: XmlFragment | XmlElement, guid: str) -> XmlElement | None:
    for child in parent.children:
        if isinstance(child, XmlElement) and child.tag in UNIT_KINDS:
            if child.attributes.get("guid") == guid:
                return child
            found = _find_live(child, guid)
            if found is not None:
                return found
    return None


def _first_unit_index(element: XmlElement) -> int:
    for index, child in enumerate(element.children):
        if isinstance(child, XmlElement) and child.tag in UNIT_KINDS:
            return index
    return len(element.children)


def _find(units, guid: str) -> Unit | None:
    return next((u for u in iter_units(units) if u.guid == guid), None)


def revert_unit(services, document: Document, user: User, guid: str, number: int,
                actor: audit.Actor | None = None) -> Reverted:
    """Give the live unit `guid` the wording it had in version `number` (see the module's docstring).

    The caller has checked that `user` may write the live text. Raises RevertError."""
    db = services.db
    version = get_version(db, document, number)
    if version is None:
        raise RevertError("not-found", _("There is no version %(number)d of this document.", number=number))
    source = _unit_element(version_body(version.state), guid)
    if source is None:
        raise RevertError("invalid", _("This unit did not exist in version %(number)d: there is no wording to go back to.",
                            number=number))
    wanted = [copy.deepcopy(block) for block in own_blocks(source)]
    for block in wanted:
        block.tail = None
    origin = f"revert:{user.id}"

    def run(doc: Doc):
        live = text_of(doc)
        current = _unit_element(live.body, guid)
        if current is None:
            return ("gone", None)
        before = _find(live.units, guid)
        if _same(own_blocks(current), wanted):
            return ("unchanged", (before, before))
        trial = copy.deepcopy(live.body)
        target = _unit_element(trial, guid)
        assert target is not None  # the same tree as `live.body`
        for block in own_blocks(target):
            target.remove(block)
        for index, block in enumerate(wanted):
            target.insert(index, copy.deepcopy(block))
        try:
            read_units(trial, live.meta)
        except AkomaNtosoError as exc:
            return ("invalid", str(exc))
        with doc.transaction(origin=origin):
            element = _find_live(doc.get("body", type=XmlFragment), guid)
            assert element is not None  # found in the same turn of the room
            first = _first_unit_index(element)
            if first:
                del element.children[0:first]
            for index, block in enumerate(wanted):
                attributes = {str(k): str(v) for k, v in block.attrib.items()}
                inserted = element.children.insert(index, XmlElement(str(block.tag), attributes))
                etree_to_fragment(block, inserted)
        return ("applied", (before, _find(text_of(doc).units, guid)))

    status, result = services.texts.change(document.slug, run, origin=origin)
    if status == "gone":
        raise RevertError("conflict", _("This unit is no longer in the live text: it cannot be reverted."))
    if status == "invalid":
        raise RevertError("conflict", _("The wording of version %(number)d cannot be put back: %(reason)s", number=number,
                            reason=result))
    before, after = result
    changed = status == "applied"
    if changed:
        audit.record(services.engine, "text.revert", actor=actor or audit.actor_of(user, document),
                     document=document.slug, target=guid,
                     detail={"unit": after.eid, "label": after.label, "version": number,
                             "version_name": version.name})
        services.events.publish(TextChanged(document.slug, {user.id: frozenset({guid})}))
    return Reverted(guid=guid, version=number, changed=changed, before=before, after=after)
