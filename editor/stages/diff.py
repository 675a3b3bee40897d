"""Comparing two texts of a document (two versions, or a version and the live text).

The comparison is structural first, by GUID: a unit is the same provision in both texts when it
has the same GUID, wherever it stands. Units without a counterpart by GUID (all of them when the
two texts were imported separately) are matched by content and position
(`akoma_ntoso.matching`). Each unit present in either text gets the statuses that apply to it:

* `added` / `removed`: only in the new / only in the old text;
* `moved`: under another parent, or out of order among the siblings both texts share (the
  siblings kept in order are the longest common subsequence; the others moved);
* `renumbered`: its label differs (its position changed, or its pin);
* `changed`: its heading or its own paragraphs differ; then a word-level redline of each;
* `split`: it became several units of its kind (listed once, at its first part, with a redline of
  its whole text against the parts' joined; the other parts are not listed as added);
* `merged`: several units of a kind became this one (the others are not listed as removed).

The sub-units a split or merge carries from one part to another are not reported as moved, and
those it dissolves (a numeral that became an article's own paragraph) not as added or removed.

Only units with a status are listed, in the order of the new text, each removed unit right
after the unit that preceded it in the old text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from akoma_ntoso import Unit, iter_units
from akoma_ntoso.matching import Matching, match_units

from ..redline import DELETE, INSERT, Change, word_diff

STATUSES = ("added", "removed", "moved", "renumbered", "changed", "split", "merged")


@dataclass(frozen=True)
class Placed:
    unit: Unit
    parent: str | None  # the GUID of the containing unit (None: top level)
    order: int  # position in document order


@dataclass
class UnitChange:
    guid: str
    statuses: list[str]
    old: Unit | None
    new: Unit | None
    old_parent: str | None = None
    new_parent: str | None = None
    heading: list[Change] = field(default_factory=list)
    text: list[Change] = field(default_factory=list)
    old_guid: str = ""  # the old unit's GUID (another than `guid` when matched by content)
    parts: list[Unit] = field(default_factory=list)  # split: the new units; merged: the old ones

    @property
    def kind(self) -> str:
        return (self.new or self.old).kind  # type: ignore[union-attr]

    @property
    def label(self) -> str:
        unit = self.new or self.old
        return unit.label or unit.eid  # type: ignore[union-attr]


@dataclass
class Comparison:
    changes: list[UnitChange]
    matching: Matching = field(default_factory=Matching)

    def counts(self) -> dict[str, int]:
        return {status: sum(status in c.statuses for c in self.changes) for status in STATUSES}

    def by_guid(self) -> dict[str, UnitChange]:
        return {c.guid: c for c in self.changes}


def _place(units: Sequence[Unit]) -> dict[str, Placed]:
    placed: dict[str, Placed] = {}

    def walk(children: Sequence[Unit], parent: str | None) -> None:
        for unit in children:
            if unit.guid and unit.guid not in placed:
                placed[unit.guid] = Placed(unit, parent, len(placed))
            walk(unit.children, unit.guid or parent)

    walk(units, None)
    return placed


def _lcs_keep(old: list[str], new: list[str]) -> set[str]:
    """The items of `new` kept in order relative to `old` (a longest common subsequence).

    Patience-style: the longest increasing subsequence of old positions, O(n log n).
    """
    import bisect

    position = {guid: i for i, guid in enumerate(old)}
    seq = [position[g] for g in new if g in position]
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * len(seq)
    for i, value in enumerate(seq):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        previous[i] = tail_index[k - 1] if k else -1
    keep: set[str] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        keep.add(old[seq[i]])
        i = previous[i]
    return keep


def _body(unit: Unit) -> str:
    """The unit's own text and its sub-units' headings and texts, one per line."""
    lines = [unit.text] if unit.text else []
    for child in unit.children:
        lines += [t for t in (child.heading, _body(child)) if t]
    return "\n".join(lines)


def _subtree(unit: Unit) -> set[str]:
    return {u.guid for u in iter_units((unit,))}


def compare(old_units: Sequence[Unit], new_units: Sequence[Unit]) -> Comparison:
    matching = match_units(old_units, new_units)
    o2n = matching.old_to_new()
    new = _place(new_units)
    # The old text in the new text's identities: a matched old unit goes by its new GUID.
    real: dict[str, str] = {}

    def key(guid: str) -> str:
        return o2n.get(guid) or (guid if guid not in new else "old:" + guid)

    old: dict[str, Placed] = {}
    for guid, place in _place(old_units).items():
        real[key(guid)] = guid
        old[key(guid)] = Placed(place.unit, key(place.parent) if place.parent else None, place.order)

    # Splits and merges: their other parts, and what they carry or dissolve.
    parts: dict[str, list[Unit]] = {}
    absorbed_new: set[str] = set()
    absorbed_old: set[str] = set()
    carried: set[str] = set()
    for old_guid, pieces in matching.splits.items():
        head, rest = pieces[0], pieces[1:]
        parts[head] = [new[g].unit for g in pieces]
        inside_old = {key(g) for g in _subtree(old[key(old_guid)].unit)} - {head}
        for g in rest:
            for inner in _subtree(new[g].unit):
                if inner in inside_old:
                    carried.add(inner)
                elif inner not in old:
                    absorbed_new.add(inner)
        absorbed_new.update(rest)
        absorbed_old.update(g for g in inside_old if g not in new)
    for new_guid, pieces in matching.merges.items():
        parts[new_guid] = [old[key(g)].unit for g in pieces]
        inside_new = _subtree(new[new_guid].unit) - {new_guid}
        for g in pieces[1:]:
            for inner in _subtree(old[key(g)].unit):
                inner = key(inner)
                if inner in inside_new:
                    carried.add(inner)
                elif inner not in new:
                    absorbed_old.add(inner)
        absorbed_new.update(g for g in inside_new if g not in old)

    moved: set[str] = set()
    siblings_old: dict[str | None, list[str]] = {}
    siblings_new: dict[str | None, list[str]] = {}
    for guid, place in old.items():
        siblings_old.setdefault(place.parent, []).append(guid)
    for guid, place in new.items():
        siblings_new.setdefault(place.parent, []).append(guid)
        if guid in old and old[guid].parent != place.parent:
            moved.add(guid)
    for parent, children in siblings_new.items():
        shared = [g for g in children if g in old and old[g].parent == parent]
        order_before = [g for g in siblings_old.get(parent, []) if g in new and new[g].parent == parent]
        kept = _lcs_keep(order_before, shared)
        moved.update(g for g in shared if g not in kept)
    moved -= carried

    changes: dict[str, UnitChange] = {}
    for guid, place in new.items():
        if guid in absorbed_new:
            continue
        before = old.get(guid)
        if before is None:
            unit = place.unit
            changes[guid] = UnitChange(guid, ["added"], None, unit, new_parent=place.parent,
                                       heading=[Change(INSERT, unit.heading)] if unit.heading else [],
                                       text=[Change(INSERT, unit.text)] if unit.text else [])
            continue
        statuses = []
        if guid in moved:
            statuses.append("moved")
        if before.unit.label != place.unit.label:
            statuses.append("renumbered")
        heading, text = [], []
        joined = parts.get(guid)
        if joined is not None:
            split = real[guid] in matching.splits
            statuses.append("split" if split else "merged")
            heading = word_diff(before.unit.heading, place.unit.heading)
            olds = [before.unit] if split else joined
            news = joined if split else [place.unit]
            text = word_diff("\n".join(_body(u) for u in olds), "\n".join(_body(u) for u in news))
        elif (before.unit.heading, before.unit.text) != (place.unit.heading, place.unit.text):
            statuses.append("changed")
            heading = word_diff(before.unit.heading, place.unit.heading)
            text = word_diff(before.unit.text, place.unit.text)
        if statuses:
            changes[guid] = UnitChange(guid, statuses, before.unit, place.unit, before.parent, place.parent,
                                       heading, text, old_guid=real[guid], parts=joined or [])
    removed = {guid: place for guid, place in old.items() if guid not in new}

    # New-text order, each removed unit after its nearest old predecessor that is still there.
    after: dict[str | None, list[str]] = {}
    old_order = sorted(old.items(), key=lambda item: item[1].order)
    anchor: str | None = None
    for guid, _where in old_order:
        if guid in removed:
            after.setdefault(anchor, []).append(guid)
        else:
            anchor = guid
    ordered: list[UnitChange] = []

    def emit_removed(anchor_key: str | None) -> None:
        for guid in after.get(anchor_key, ()):
            if guid in absorbed_old:
                continue
            place = removed[guid]
            unit = place.unit
            ordered.append(UnitChange(real[guid], ["removed"], unit, None, old_parent=place.parent,
                                      heading=[Change(DELETE, unit.heading)] if unit.heading else [],
                                      text=[Change(DELETE, unit.text)] if unit.text else [], old_guid=real[guid]))

    emit_removed(None)
    for guid in sorted(new, key=lambda g: new[g].order):
        if guid in changes:
            ordered.append(changes[guid])
        emit_removed(guid)
    return Comparison(ordered, matching)


def change_json(change: UnitChange) -> dict:
    def side(unit: Unit | None, parent: str | None) -> dict | None:
        if unit is None:
            return None
        return {"eid": unit.eid, "label": unit.label, "heading": unit.heading, "text": unit.text, "parent": parent}

    def ops(changes: list[Change]) -> list[list]:
        return [[{0: "=", -1: "-", 1: "+"}[c.op], c.text] for c in changes]

    return {
        "guid": change.guid,
        "old_guid": change.old_guid or None,
        "kind": change.kind,
        "statuses": change.statuses,
        "old": side(change.old, change.old_parent),
        "new": side(change.new, change.new_parent),
        "redline": {"heading": ops(change.heading), "text": ops(change.text)},
        "parts": [{"guid": u.guid, "eid": u.eid, "label": u.label} for u in change.parts],
    }
