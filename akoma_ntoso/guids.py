"""Unit GUIDs: making them, checking them, and planning the server's deterministic repair.

Every unit carries an immutable GUID, unique in the document (docs/document-model.md, "GUID
rules"). Concurrent edits can still leave two units with one GUID, or a unit with none; the
server then repairs the state, and every replica that repairs the same state must pick the
same new GUIDs. `plan_guid_repairs` says which; writing them into the CRDT is the caller's job.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Final, NamedTuple, TypeGuard

from lxml import etree

from .units import UNIT_KINDS

#: The namespace of every GUID the repair derives (computed, never hard-coded).
NAMESPACE: Final[uuid.UUID] = uuid.uuid5(uuid.NAMESPACE_URL, "https://constituent.example/guid")

_CANONICAL: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class GuidRepair(NamedTuple):
    """Give the unit at `path` (element-child indexes from `<body>`) the GUID `guid`."""

    path: tuple[int, ...]
    guid: str


def new_guid() -> str:
    """A fresh GUID for a new unit: a random UUID4 in canonical lower-case form."""
    return str(uuid.uuid4())


def is_valid_guid(value: object) -> TypeGuard[str]:
    """Whether `value` is a UUID in canonical lower-case form (any version: repairs are UUID5)."""
    return isinstance(value, str) and _CANONICAL.fullmatch(value) is not None


def plan_guid_repairs(body: etree._Element) -> list[GuidRepair]:
    """The deterministic GUID repair of a body, in document order; empty when nothing is wrong.

    Walking the units in document order (depth first, every element counted in the path so
    that the same path can be followed in the CRDT):

    * the first occurrence of a GUID keeps it;
    * the k-th later occurrence (k = 1, 2…) of GUID `g` gets `uuid5(NAMESPACE, f"{g}#{k}")`;
    * a unit without a valid GUID at path `P` gets `uuid5(NAMESPACE, "missing:" + "/".join(P))`.

    A derived GUID can already be taken, typically by an earlier repair of the same GUID
    (`g`, `g` repaired to `g`, `h`; later a new copy of `g` appears and would get `h` again).
    The repaired document must have unique GUIDs, so a taken candidate is skipped: duplicates
    move on to the next k, missing ones try `"missing:P#2"`, `"#3"`… Without such a collision
    the plan is exactly the rule above.
    """
    units = list(_units_in_document_order(body))
    taken = {guid for _, guid in units if is_valid_guid(guid)}
    seen: set[str] = set()
    later_occurrences: dict[str, int] = {}
    repairs: list[GuidRepair] = []
    for path, guid in units:
        if is_valid_guid(guid) and guid not in seen:
            seen.add(guid)
            continue
        if is_valid_guid(guid):
            k = later_occurrences.get(guid, 0)
            while True:
                k += 1
                candidate = _derived(f"{guid}#{k}")
                if candidate not in taken:
                    break
            later_occurrences[guid] = k
        else:
            name = "missing:" + "/".join(str(index) for index in path)
            candidate, attempt = _derived(name), 1
            while candidate in taken:
                attempt += 1
                candidate = _derived(f"{name}#{attempt}")
        taken.add(candidate)
        repairs.append(GuidRepair(path, candidate))
    return repairs


def _derived(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def _units_in_document_order(
    element: etree._Element, path: tuple[int, ...] = ()
) -> Iterator[tuple[tuple[int, ...], str | None]]:
    """(path, guid attribute) of every unit element under `element`, wherever it sits."""
    index = 0
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments are not in the CRDT and take no index
        child_path = (*path, index)
        index += 1
        if child.tag in UNIT_KINDS:
            yield child_path, child.get("guid")
        yield from _units_in_document_order(child, child_path)
