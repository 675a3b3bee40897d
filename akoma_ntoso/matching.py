"""Which unit of one text is which unit of another: by GUID, else by content and position.

Two texts of the same document share GUIDs; two texts imported separately (a revised draft
written outside the product, two drafts from elsewhere) share none. `match_units` pairs the
units of an old and a new text in phases, cheapest and surest first, so that the costly
similarity measure only ever runs on the few units nothing else could place:

1. **GUID**: a new unit with an old unit's GUID (and kind) is that unit. When that pairs at
   least half the units, the texts are two texts of one document and steps 2 to 5 are skipped
   (see `match_units`).
2. **Exact text**: a unit whose kind, heading and whole text (its sub-units' included) occur
   exactly once on each side; then the same on the unit's own heading and text alone.
3. **Neighbourhood**, top down from every matched pair (the two bodies are a pair): the
   unmatched children of a matched parent, kind by kind, first by exact own text (repeated
   texts paired in order), then each new child with the old children of its kind standing
   between the same matched neighbours, by similarity over `SIMILAR`; a lone old and a lone new
   child of the same kind in such a gap are the same unit when they are at least `POSITIONAL`
   alike (a rewording in place).
4. **Bottom up**: an unmatched container is the old container most of its matched children came
   from.
5. **Anywhere**, kind by kind: what is left, by similarity over `SIMILAR`, with candidates drawn
   from an index of the words the texts share (never all against all); then step 3 again below
   the new pairs.
6. **Splits and merges**: an old unit whose new counterpart is followed by unmatched units of
   its kind that together read as the old text (ratio at least `WHOLE`, and better than the
   counterpart alone) was split; symmetrically, merged.

Similarity is difflib's ratio over words (casefolded, whitespace collapsed).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .units import Unit

#: Two units whose texts are at least this alike may be the same unit reworded.
SIMILAR = 0.6
#: A lone old and a lone new unit of one kind in the same place are the same unit at this ratio.
POSITIONAL = 0.3
#: Parts that together read at least this much as the whole are its split (or merge).
WHOLE = 0.85
#: Texts longer than this together (in words) are compared as bags of words.
LONG = 400
#: Wider gaps between matched neighbours than this are not searched unit against unit.
GAP = 24
#: At most this many candidates per unit are measured in the anywhere phase.
CANDIDATES = 8


@dataclass
class _Node:
    unit: Unit
    index: int
    parent: int | None
    children: list[int]
    own: str  # heading and own text, normalised
    body: str  # own text and every sub-unit's heading and text, normalised (no own heading)

    @property
    def kind(self) -> str:
        return self.unit.kind

    @property
    def whole(self) -> str:
        return self.own_heading + "\x1f" + self.body

    @property
    def own_heading(self) -> str:
        return _norm(self.unit.heading)


@dataclass
class Matching:
    """The result: `pairs` maps a new unit's GUID to the old unit's GUID it is; `splits` maps an
    old unit's GUID to the new units it became (its counterpart first); `merges` maps a new unit's
    GUID to the old units it joins (its counterpart first); `how` says how each pair was made."""

    pairs: dict[str, str] = field(default_factory=dict)
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    merges: dict[str, tuple[str, ...]] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)

    def old_to_new(self) -> dict[str, str]:
        return {old: new for new, old in self.pairs.items()}


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _words(text: str) -> list[str]:
    return text.split()


def similarity(a: str, b: str) -> float:
    """How alike two normalised texts are (0 to 1), by words."""
    if a == b:
        return 1.0
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    if len(wa) + len(wb) > LONG:  # the words in common, in any order: linear, for long texts
        shared = sum((Counter(wa) & Counter(wb)).values())
        return 2 * shared / (len(wa) + len(wb))
    matcher = SequenceMatcher(None, wa, wb, autojunk=False)
    if matcher.real_quick_ratio() < POSITIONAL or matcher.quick_ratio() < POSITIONAL:
        return 0.0
    return matcher.ratio()


def _flatten(units: Sequence[Unit]) -> list[_Node]:
    nodes: list[_Node] = []

    def walk(children: Sequence[Unit], parent: int | None) -> list[int]:
        indexes = []
        for unit in children:
            node = _Node(unit, len(nodes), parent, [], _norm(unit.heading) + "\x1f" + _norm(unit.text), "")
            nodes.append(node)
            indexes.append(node.index)
            node.children = walk(unit.children, node.index)
            parts = [_norm(unit.text)] + [_norm(nodes[c].unit.heading) + " " + nodes[c].body for c in node.children]
            node.body = " ".join(p for p in parts if p.strip())
        return indexes

    walk(units, None)
    return nodes


class _Matcher:
    def __init__(self, old_units: Sequence[Unit], new_units: Sequence[Unit]) -> None:
        self.old = _flatten(old_units)
        self.new = _flatten(new_units)
        self.old_roots = [n.index for n in self.old if n.parent is None]
        self.new_roots = [n.index for n in self.new if n.parent is None]
        self.n2o: dict[int, int] = {}
        self.o2n: dict[int, int] = {}
        self.how: dict[int, str] = {}
        self.visited: set[tuple[int | None, int | None]] = set()

    def pair(self, n: int, o: int, how: str) -> None:
        self.n2o[n] = o
        self.o2n[o] = n
        self.how[n] = how

    # 1
    def by_guid(self) -> None:
        old_by_guid = {node.unit.guid: node for node in self.old if node.unit.guid}
        for node in self.new:
            other = old_by_guid.get(node.unit.guid) if node.unit.guid else None
            if other is not None and other.kind == node.kind and other.index not in self.o2n:
                self.pair(node.index, other.index, "guid")

    # 2
    def by_unique_key(self, key, how: str) -> None:
        old_keys = Counter(key(n) for n in self.old if n.index not in self.o2n)
        new_keys = Counter(key(n) for n in self.new if n.index not in self.n2o)
        old_at = {key(n): n.index for n in self.old if n.index not in self.o2n}
        for node in self.new:
            if node.index in self.n2o:
                continue
            k = key(node)
            if new_keys[k] == 1 and old_keys.get(k) == 1 and k[1].strip("\x1f"):
                self.pair(node.index, old_at[k], how)

    # 3
    def below(self, pairs: Iterable[tuple[int | None, int | None]]) -> None:
        queue = list(pairs)
        while queue:
            n, o = queue.pop()
            if (n, o) in self.visited:
                continue
            self.visited.add((n, o))
            new_children = self.new_roots if n is None else self.new[n].children
            old_children = self.old_roots if o is None else self.old[o].children
            self._children(new_children, old_children)
            queue.extend((c, self.n2o[c]) for c in new_children if c in self.n2o)

    def _children(self, new_children: list[int], old_children: list[int]) -> None:
        free_old = [c for c in old_children if c not in self.o2n]
        if not free_old or all(c in self.n2o for c in new_children):
            return
        # Exact own text, repeated texts paired in order.
        by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
        for o in free_old:
            by_key[(self.old[o].kind, self.old[o].own)].append(o)
        for c in new_children:
            candidates = by_key.get((self.new[c].kind, self.new[c].own)) if c not in self.n2o else None
            if candidates:
                self.pair(c, candidates.pop(0), "own")
        # Between the same matched neighbours, by similarity; a lone pair by position.
        old_position = {o: i for i, o in enumerate(old_children)}
        gaps: dict[int, tuple[int, int]] = {}
        before = -1
        for i, c in enumerate(new_children):
            if c in self.n2o:
                before = old_position.get(self.n2o[c], before)
                continue
            after = next((old_position[self.n2o[p]] for p in new_children[i + 1:]
                          if p in self.n2o and self.n2o[p] in old_position), len(old_children))
            gaps[c] = (before, after) if before < after else (-1, len(old_children))
        for c, (start, stop) in gaps.items():
            kind = self.new[c].kind
            gap = [o for o in old_children[start + 1:stop] if o not in self.o2n and self.old[o].kind == kind]
            if not gap or len(gap) > GAP:  # a wide gap is left to the indexed search (step 5)
                continue
            score, _, o = max((similarity(self.new[c].whole, self.old[o].whole), -k, o) for k, o in enumerate(gap))
            lone = len(gap) == 1 and sum(1 for x, g in gaps.items() if g == (start, stop) and x not in self.n2o
                                         and self.new[x].kind == kind) == 1
            if score >= SIMILAR or (lone and score >= POSITIONAL):
                self.pair(c, o, "similar" if score >= SIMILAR else "position")

    # 4
    def bottom_up(self) -> list[tuple[int, int]]:
        made = []
        for node in reversed(self.new):
            if node.index in self.n2o or not node.children:
                continue
            votes = Counter(self.old[self.n2o[c]].parent for c in node.children if c in self.n2o)
            if not votes:
                continue
            parent, count = votes.most_common(1)[0]
            matched = sum(votes.values())
            if parent is not None and parent not in self.o2n and self.old[parent].kind == node.kind \
                    and count * 2 >= matched:
                self.pair(node.index, parent, "children")
                made.append((node.index, parent))
        return made

    # 5
    def anywhere(self) -> list[tuple[int, int]]:
        free_old = [n for n in self.old if n.index not in self.o2n]
        free_new = [n for n in self.new if n.index not in self.n2o]
        if not free_old or not free_new:
            return []
        index: dict[tuple[str, str], list[int]] = defaultdict(list)
        for node in free_old:
            for word in set(_words(node.whole)):
                if len(word) > 3:
                    index[(node.kind, word)].append(node.index)
        scored = []
        for node in free_new:
            shared: Counter[int] = Counter()
            for word in set(_words(node.whole)):
                if len(word) > 3:
                    hits = index.get((node.kind, word), ())
                    if len(hits) <= 50:  # a word most units share says nothing
                        shared.update(hits)
            for o, _ in shared.most_common(CANDIDATES):
                score = similarity(node.whole, self.old[o].whole)
                if score >= SIMILAR:
                    scored.append((score, -node.index, -o, node.index, o))
        made = []
        for _score, _, _, n, o in sorted(scored, reverse=True):
            if n not in self.n2o and o not in self.o2n:
                self.pair(n, o, "similar")
                made.append((n, o))
        return made

    # 6
    def splits_and_merges(self) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        splits: dict[int, list[int]] = {}
        merges: dict[int, list[int]] = {}
        for n, o in sorted(self.n2o.items()):
            new, old = self.new[n], self.old[o]
            if new.body == old.body:
                continue
            parts = self._followers(self.new, self.new_roots, n, self.n2o)
            merging = self._followers(self.old, self.old_roots, o, self.o2n)
            if not parts and not merging:
                continue
            alone = similarity(new.body, old.body)
            if parts:
                joined, taken = new.body, []
                best = alone
                for p in parts:
                    joined = joined + " " + self.new[p].body
                    score = similarity(joined, old.body)
                    if score < best:
                        break
                    best = score
                    taken.append(p)
                if taken and best >= WHOLE and best > alone:
                    splits[o] = [n, *taken]
                    continue
            parts = merging
            if parts:
                joined, taken = old.body, []
                best = alone
                for p in parts:
                    joined = joined + " " + self.old[p].body
                    score = similarity(new.body, joined)
                    if score < best:
                        break
                    best = score
                    taken.append(p)
                if taken and best >= WHOLE and best > alone:
                    merges[n] = [o, *taken]
        return splits, merges

    @staticmethod
    def _followers(nodes: list[_Node], roots: list[int], i: int, matched: dict[int, int]) -> list[int]:
        """The unmatched units of i's kind right after it among its siblings."""
        node = nodes[i]
        siblings = roots if node.parent is None else nodes[node.parent].children
        after = siblings[siblings.index(i) + 1:]
        followers = []
        for s in after:
            if s in matched or nodes[s].kind != node.kind:
                break
            followers.append(s)
        return followers[:3]

    def run(self, by_content: bool | None) -> Matching:
        self.by_guid()
        if by_content is None:  # two texts of one document: their GUIDs are their history
            by_content = len(self.n2o) * 2 < min(len(self.old), len(self.new))
        if by_content:
            self.by_content()
        splits, merges = self.splits_and_merges()
        g_new = [n.unit.guid for n in self.new]
        g_old = [n.unit.guid for n in self.old]
        return Matching(
            pairs={g_new[n]: g_old[o] for n, o in self.n2o.items()},
            splits={g_old[o]: tuple(g_new[x] for x in parts) for o, parts in splits.items()},
            merges={g_new[n]: tuple(g_old[x] for x in parts) for n, parts in merges.items()},
            how={g_new[n]: self.how.get(n, "") for n in self.n2o},
        )

    def by_content(self) -> None:
        self.by_unique_key(lambda n: (n.kind, n.whole), "exact")
        self.by_unique_key(lambda n: (n.kind, n.own), "own")
        self.below([(None, None)])
        for step in (self.bottom_up, self.anywhere, self.bottom_up):
            self.below(step())


def match_units(old_units: Sequence[Unit], new_units: Sequence[Unit], by_content: bool | None = None) -> Matching:
    """Pair the units of two texts (see the module's docstring). Every unit needs a GUID, unique
    in its text (a fresh import has them).

    `by_content`: whether units without a counterpart by GUID are matched by content and position
    (steps 2 to 5). By default they are unless GUIDs already pair at least half the units: then
    the texts are two texts of one document, whose GUIDs tell their history (a unit deleted and
    another typed anew are two units, however alike), and only splits and merges are looked for."""
    return _Matcher(old_units, new_units).run(by_content)
