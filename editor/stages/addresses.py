"""Stable addresses: what an old eId names today, and pinned numbers that no longer fit.

A unit's address (`/d/<slug>/<eId>`) follows its number, which follows its position: after an
article is inserted before Artículo 3, the old Artículo 3 is `art_4`. Old links must still lead
to the provision they were made for. The rule (docs/stages.md, "Stable addresses"):

* an eId that names a unit of the live text **is that unit** (the current text wins): after
  renumbering `art_3` is today's Artículo 3. Where, in a frozen version, `art_3` named another
  unit that is still in the text, the page says so and links to it ("Artículo 3 in version 1
  is today Artículo 4"): `former_holder(..., other_than=<today's unit>)`;
* an eId that names no unit of the live text is looked up where units' former names are kept:
  the frozen versions, latest first (the latest version in which a unit had that eId), then the
  units' recorded first names (their `wId`s, `UnitName`). It answers a permanent redirect to
  that unit's current address; a unit no longer in the text, or an eId never used, is 404;
* `?version=N` asks for what the eId named in version N: a permanent redirect to that unit's
  current address (404 when version N had no such eId or the unit is gone).

**Pinned numbers.** A pin such as "3 Bis" says the unit comes right after Artículo 3 (or after
another pin of 3: "3 Bis", then "3 Ter"). After a move it may stand elsewhere, still reading
"3 Bis": `misplaced_pins` finds such units, for the editors (the stages page, the unit page for
those who may write, `GET /api/v1/documents/<slug>/pins`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from akoma_ntoso import Unit, iter_units

from ..models import Document, UnitName
from .models import Version


@dataclass(frozen=True)
class FormerHolder:
    """The unit an eId named before: its GUID, and where that name was found."""

    guid: str
    eid: str
    label: str  # its label where it had that eId ("" when only its first name was recorded)
    version: int | None  # the version in which it had that eId; None: its recorded first name (wId)


def _find_eid(units: Iterable[dict], eid: str) -> dict | None:
    for unit in units:
        if unit.get("eid") == eid:
            return unit
        found = _find_eid(unit.get("children", ()), eid)
        if found is not None:
            return found
    return None


def _holder_in(snapshot: str, eid: str) -> tuple[str, str] | None:
    """(GUID, label) of the unit with `eid` in a version's snapshot (versions.snapshot_json), or
    None. The snapshot is parsed only when the eId is in it (about 4 ms for a constitution)."""
    if '"eid":' + json.dumps(eid, ensure_ascii=False) not in snapshot:  # snapshot_json writes no spaces
        return None
    found = _find_eid(json.loads(snapshot).get("units", ()), eid)
    if found is None or not found.get("guid"):
        return None
    return found["guid"], found.get("label", "")


def former_holders(db, document: Document, eid: str, version: int | None = None) -> Iterator[FormerHolder]:
    """The units that had `eid` in the frozen versions, latest version first (only version
    `version` when given), then the unit whose recorded first name it is. The database picks the
    versions whose snapshot mentions the eId (a miss reads no snapshot), and only those are parsed."""
    key = '"eid":' + json.dumps(eid, ensure_ascii=False)  # snapshot_json writes no spaces
    query = select(Version.number).where(Version.document_id == document.id,
                                         Version.snapshot.contains(key, autoescape=True))
    if version is not None:
        query = query.where(Version.number == version)
    for number in db.scalars(query.order_by(Version.number.desc())):
        snapshot = db.scalar(select(Version.snapshot).where(Version.document_id == document.id,
                                                            Version.number == number))
        found = _holder_in(snapshot or "", eid)
        if found is not None:
            yield FormerHolder(found[0], eid, found[1], number)
    if version is None:
        for guid in db.scalars(select(UnitName.guid).where(UnitName.document_id == document.id,
                                                          UnitName.first_eid == eid)):
            yield FormerHolder(guid, eid, "", None)


def former_holder(db, document: Document, eid: str, live_units: Sequence[Unit], version: int | None = None,
                  other_than: str | None = None) -> tuple[FormerHolder, Unit] | None:
    """The latest unit that had `eid` (in version `version` when given) and is still in the live
    text, other than the unit `other_than`; with the unit as it is now. None: there is none."""
    live = {u.guid: u for u in iter_units(live_units)}
    for holder in former_holders(db, document, eid, version):
        if holder.guid == other_than:
            if version is None:
                continue  # a version in which it already named today's unit: look further back
            return None
        unit = live.get(holder.guid)
        if unit is not None:
            return holder, unit
    return None


# --- pinned numbers ---------------------------------------------------------------------------------

#: The suffixes that make a pin an insertion after another number ("16 Bis", "16-Ter", "16A").
_SUFFIX = re.compile(
    r"^(?P<base>.+?)[\s\-_.]*(?P<suffix>bis|ter|qu[aá]ter|quinquies|sexies|septies|octies|no[vn]ies|decies)$",
    re.IGNORECASE)
_LETTER = re.compile(r"^(?P<base>\d+)\s*(?P<suffix>[A-Za-z])$")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().replace(" ", "")


def pin_base(num: str) -> str | None:
    """The number a pin inserts after ("3 Bis" → "3", "16A" → "16"), or None for another pin."""
    num = num.strip()
    found = _SUFFIX.match(num) or _LETTER.match(num)
    return found.group("base").strip() if found else None


@dataclass(frozen=True)
class MisplacedPin:
    """A unit whose pinned number says it follows `base`, but which follows `after` (None: nothing)."""

    unit: Unit
    base: str
    after: Unit | None


#: Kinds whose counter runs across the document (outside transitional groups and schedules).
_ACROSS = {"article", "title"}
_GROUPS = {"transitional", "attachment"}


def _counters(units: Sequence[Unit]) -> dict[tuple, list[Unit]]:
    """The numbered units by counter (kind and the unit that restarts its count), in order."""
    counters: dict[tuple, list[Unit]] = {}

    def walk(level: Sequence[Unit], parent: Unit | None, group: Unit | None) -> None:
        for unit in level:
            if unit.num:
                if unit.kind in _ACROSS:
                    scope = group.guid if group is not None else ""
                elif unit.kind == "chapter" and (parent is None or parent.kind != "title"):
                    scope = group.guid if group is not None else ""
                else:
                    scope = parent.guid if parent is not None else ""
                counters.setdefault((unit.kind, scope), []).append(unit)
            walk(unit.children, unit, unit if unit.kind in _GROUPS else group)

    walk(units, None, None)
    return counters


def misplaced_pins(units: Sequence[Unit]) -> list[MisplacedPin]:
    """Pinned units whose number no longer fits where they stand, in document order.

    A pin "N <suffix>" (Bis, Ter…, or a letter after digits) fits when the numbered unit of its
    kind counted just before it is N, or is itself a pin of N ("3 Bis" before "3 Ter"). Other
    pins (whole numbers, "-" for unnumbered) are the drafters' and are not judged."""
    found: dict[str, MisplacedPin] = {}
    for sequence in _counters(units).values():
        for index, unit in enumerate(sequence):
            if not unit.pinned:
                continue
            base = pin_base(unit.num)
            if base is None:
                continue
            before = sequence[index - 1] if index else None
            if before is not None:
                if _fold(before.num) == _fold(base):
                    continue
                if before.pinned and _fold(pin_base(before.num) or "") == _fold(base):
                    continue
            found[unit.guid] = MisplacedPin(unit, base, before)
    order = {u.guid: i for i, u in enumerate(iter_units(units))}
    return sorted(found.values(), key=lambda m: order.get(m.unit.guid, 0))


def misplaced_json(misplaced: Iterable[MisplacedPin]) -> list[dict]:
    return [{"guid": m.unit.guid, "eid": m.unit.eid, "label": m.unit.label, "pin": m.unit.num, "follows": m.base,
             "after": None if m.after is None else {"guid": m.after.guid, "eid": m.after.eid, "label": m.after.label}}
            for m in misplaced]
