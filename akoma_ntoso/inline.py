"""Inline markup inside text blocks: emphasis, bold, terms, definitions and cross-references.

A text block (`heading`, `p`) of the live document holds one `XmlText` whose ranges may carry
Yjs formatting attributes, the shape y-prosemirror gives ProseMirror marks (attribute name =
mark name, value = the mark's attributes as a map). See docs/document-model.md, "Inline markup":

==========  =========================  ===========================================
attribute   value                      meaning (Akoma Ntoso element on export)
==========  =========================  ===========================================
``i``       ``{}``                     emphasis (``<i>``)
``b``       ``{}``                     bold (``<b>``)
``term``    ``{"refersTo": "..."}``    a defined term used in the text (``<term>``)
``def``     ``{"refersTo": "..."}``    the defining occurrence of a term (``<def>``)
``ref``     ``{"guid": "<uuid>"}``     a cross-reference to the unit with that GUID
``ref``     ``{"href": "..."}``        a reference outside the document, kept as written
``note``    ``{"text": "..."}``        an authorial note or footnote: the marked text is its
                                       call ("*", "1"), the note's own text the attribute
                                       (``<authorialNote marker="*"><p>…</p>``)
==========  =========================  ===========================================

In the plain lxml copy of the body (`crdt.xmltree.fragment_to_etree`) the same ranges are child
elements of the block named like the attribute, with its values as XML attributes, nested in
`MARK_ORDER` (`<p>véase el <ref guid="…">artículo 16</ref></p>`). Every reader of plain text
reads `itertext()`: tags never leak into search, diff or text export.

This module converts between those forms (`Run`s are the common currency), reads Akoma Ntoso
inline markup, finds citations in plain text and links them (`link_runs`), and keeps the words
of a cross-reference naming its target's current number (`current_words`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from lxml import etree

from .citations import Resolution, _same_number, parse_citations, resolver

if TYPE_CHECKING:
    from .units import Unit

#: Inline marks, outermost first: the order nested elements are written in.
MARK_ORDER: Final[tuple[str, ...]] = ("ref", "def", "term", "b", "i", "note")
MARKS: Final = frozenset(MARK_ORDER)
#: The attributes each mark may carry (others are dropped).
MARK_ATTRIBUTES: Final[Mapping[str, tuple[str, ...]]] = {
    "ref": ("guid", "href"),
    "def": ("refersTo",),
    "term": ("refersTo",),
    "b": (),
    "i": (),
    "note": ("text",),
}
#: The call of a note whose source gives no marker.
NOTE_MARKER: Final = "*"
#: Elements read as a line break (a space) and elements whose text is not part of the block.
_BREAKS: Final = ("eol", "br")
_SKIPPED: Final = ("noteRef", "eop")


@dataclass(frozen=True)
class Mark:
    """One inline mark: its name and attributes (sorted pairs; derived ones such as a ref's
    current `eid` and `label` are added by `units.read_units`)."""

    name: str
    attrs: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str:
        return dict(self.attrs).get(key, "")


@dataclass(frozen=True)
class Run:
    """A stretch of text with the marks it carries, in `MARK_ORDER`."""

    text: str
    marks: tuple[Mark, ...] = ()

    def mark(self, name: str) -> Mark | None:
        return next((m for m in self.marks if m.name == name), None)


Runs = tuple[Run, ...]


class Marked(str):
    """A block's plain text that also carries its inline `runs` (str equality, hashing and
    every string operation see the plain text only; `getattr(text, "runs", None)` the markup)."""

    runs: Runs

    def __new__(cls, text: str, runs: Runs = ()) -> Marked:
        value = super().__new__(cls, text)
        value.runs = runs or (Run(text),)
        return value

    @classmethod
    def of(cls, runs: Iterable[Run]) -> Marked:
        runs = merged(runs)
        return cls(plain(runs), runs)


def runs_of(text: str) -> Runs:
    """The runs of a block's text: its markup when it has some, else one plain run."""
    runs = getattr(text, "runs", None)
    return runs if runs is not None else ((Run(text),) if text else ())


def make_mark(name: str, attrs: Mapping[str, object] | None = None) -> Mark:
    allowed = MARK_ATTRIBUTES.get(name, ())
    values = {str(k): str(v) for k, v in (attrs or {}).items() if k in allowed and v not in (None, "")}
    return Mark(name, tuple(sorted(values.items())))


def _ordered(marks: Iterable[Mark]) -> tuple[Mark, ...]:
    by_name = {m.name: m for m in marks}
    return tuple(by_name[name] for name in MARK_ORDER if name in by_name)


def plain(runs: Iterable[Run]) -> str:
    return "".join(run.text for run in runs)


def without_notes(text: str) -> str:
    """A block's text without its notes' calls ("THE SCOTTISH ADMINISTRATION *" → "THE SCOTTISH
    ADMINISTRATION"): for tables of contents and other one-line names."""
    runs = getattr(text, "runs", None)
    if runs is None:
        return text
    return " ".join(plain(run for run in runs if run.mark("note") is None).split())


def has_marks(runs: Iterable[Run]) -> bool:
    return any(run.marks for run in runs)


def merged(runs: Iterable[Run]) -> Runs:
    """The runs with empty ones dropped and neighbours carrying the same marks joined."""
    out: list[Run] = []
    for run in runs:
        if not run.text:
            continue
        if out and out[-1].marks == run.marks:
            out[-1] = Run(out[-1].text + run.text, run.marks)
        else:
            out.append(run)
    return tuple(out)


# --- Yjs formatting attributes ------------------------------------------------------------------


def runs_from_delta(delta: Iterable[tuple[object, Mapping[str, object] | None]]) -> Runs:
    """Runs from an `XmlText.diff()`: `[(text, attributes or None), …]`. Unknown attributes are
    ignored; y-prosemirror's hashed names of overlapping marks (`i--abcdefgh`) are read by name."""
    runs = []
    for insert, attributes in delta:
        if not isinstance(insert, str):
            continue  # an embedded object: no text
        marks = []
        for key, value in (attributes or {}).items():
            name = re.sub(r"--[A-Za-z0-9+/=]{8}$", "", str(key))
            if name in MARKS and value is not None and value is not False:
                marks.append(make_mark(name, value if isinstance(value, Mapping) else None))
        runs.append(Run(insert, _ordered(marks)))
    return merged(runs)


def yjs_attributes(marks: Sequence[Mark]) -> dict[str, dict[str, str]] | None:
    """The formatting attributes a run is written with (None: no formatting)."""
    stored = {m.name: {k: v for k, v in m.attrs if k in MARK_ATTRIBUTES[m.name]} for m in marks}
    return stored or None


def byte_offset(text: str, index: int) -> int:
    """pycrdt's offsets into a text are UTF-8 byte offsets (not characters, not UTF-16 units)."""
    return len(text[:index].encode("utf-8"))


# --- lxml inline elements -------------------------------------------------------------------------


def runs_from_element(block: etree._Element) -> Runs:
    """The runs of a block of the live body's lxml copy (inline children named like their marks;
    any other element contributes its text, unmarked)."""
    runs: list[Run] = []

    def walk(node: etree._Element, marks: tuple[Mark, ...]) -> None:
        runs.append(Run(node.text or "", marks))
        for child in node:
            if isinstance(child.tag, str):
                inner = marks
                if child.tag in MARKS:
                    inner = _ordered((*marks, make_mark(str(child.tag), dict(child.attrib))))
                walk(child, inner)
            runs.append(Run(child.tail or "", marks))

    walk(block, ())
    return merged(runs)


def fill_element(block: etree._Element, runs: Iterable[Run], tag_of=None) -> None:
    """Write runs into an (emptied) lxml block as nested inline elements in `MARK_ORDER`.

    `tag_of(mark)` may return another `(tag, attributes)` for a mark (the Akoma Ntoso export
    writes a ref's href), or None to leave the mark out and keep its text."""
    for child in list(block):
        block.remove(child)
    block.text = None
    open_marks: list[Mark] = []
    stack: list[etree._Element] = []  # where each open mark's text goes (its element, or its parent's)

    def current() -> etree._Element:
        return stack[-1] if stack else block

    for run in runs:
        wanted = [m for m in run.marks if m.name in MARKS]
        common = 0
        while common < len(open_marks) and common < len(wanted) and open_marks[common] == wanted[common]:
            common += 1
        while len(open_marks) > common:
            open_marks.pop()
            stack.pop()
        for mark in wanted[common:]:
            open_marks.append(mark)
            stored = {k: v for k, v in mark.attrs if k in MARK_ATTRIBUTES[mark.name]}
            spec = (mark.name, stored) if tag_of is None else tag_of(mark)
            if spec is None:
                stack.append(current())
                continue
            stack.append(etree.SubElement(current(), spec[0], {k: v for k, v in spec[1].items() if v}))
        target = current()
        if len(target):
            target[-1].tail = (target[-1].tail or "") + run.text
        else:
            target.text = (target.text or "") + run.text


# --- Akoma Ntoso inline markup ------------------------------------------------------------------


def runs_from_akn(element: etree._Element) -> Runs:
    """The runs of an Akoma Ntoso block (namespace stripped): `<i>`, `<b>`, `<term>`, `<def>` and
    `<ref>` become marks (a ref keeps its href; `units` resolve "#eId" hrefs to GUIDs after the
    import is built); an `<authorialNote>` becomes its marker ("*" when it has none) marked as a
    `note` holding the note's text; line breaks become spaces, other inline elements give
    their text. Whitespace is collapsed as `akn._text` does, across element boundaries."""
    runs: list[Run] = []

    def walk(node: etree._Element, marks: tuple[Mark, ...]) -> None:
        runs.append(Run(node.text or "", marks))
        for child in node:
            if child.tag == "authorialNote":  # a note: its call marked with the note's text
                blocks = [p for p in child if p.tag == "p"] or [child]
                note = " ".join(" ".join("".join(block.itertext()).split()) for block in blocks).strip()
                call = child.get("marker") or NOTE_MARKER
                # A note with no text keeps its call (as the browser's empty note does), unmarked.
                runs.append(Run(call, (*marks, make_mark("note", {"text": note}))) if note else Run(call, marks))
            elif isinstance(child.tag, str) and child.tag not in _SKIPPED:
                if child.tag in _BREAKS:
                    runs.append(Run(" ", marks))
                inner = marks
                if child.tag in MARKS:
                    attrs = dict(child.attrib)
                    if child.tag in ("term", "def"):
                        attrs["refersTo"] = attrs.get("refersTo", "")
                    inner = _ordered((*marks, make_mark(str(child.tag), attrs)))
                walk(child, inner)
            runs.append(Run(child.tail or "", marks))

    walk(element, ())
    return normalized(runs)


def normalized(runs: Iterable[Run]) -> Runs:
    """Runs with every stretch of whitespace made one space (kept in the run it starts in) and
    none at either end: "The <term>City Manager</term> may" keeps both spaces."""
    out: list[Run] = []
    pending_space = False
    started = False
    for run in runs:
        pieces: list[str] = []
        for char in run.text:
            if char.isspace():
                if started and not pending_space:
                    pending_space = True
                    pieces.append("\0")
                continue
            started, pending_space = True, False
            pieces.append(char)
        out.append(Run("".join(pieces), run.marks))
    text = "".join(r.text for r in out).rstrip("\0")
    limit, result = len(text), []
    for run in out:
        if limit <= 0:
            break
        result.append(Run(run.text[:limit].replace("\0", " "), run.marks))
        limit -= len(run.text)
    return merged(result)


def note_elements(block: etree._Element, tag: str = "authorialNote") -> None:
    """Give each note `fill_element` wrote in `block` (`<authorialNote>` holding its call as text)
    the shape Akoma Ntoso wants: the call as its `marker`, its text as a paragraph."""
    for note in list(block.iter(tag)):
        text = note.attrib.pop("text", "")
        note.set("marker", (note.text or NOTE_MARKER).strip() or NOTE_MARKER)
        note.text = None
        etree.SubElement(note, tag.replace("authorialNote", "p")).text = text


def to_akn_tag(mark: Mark) -> tuple[str, dict[str, str]] | None:
    """How a mark is written in Akoma Ntoso: a ref to a unit points at its current eId; a ref
    whose unit is gone is written as plain text."""
    if mark.name == "ref":
        if mark.get("guid"):
            eid = mark.get("eid")
            return ("ref", {"href": "#" + eid}) if eid else None
        return ("ref", {"href": mark.get("href")}) if mark.get("href") else None
    if mark.name in ("term", "def"):
        refers = mark.get("refersTo")
        if mark.name == "term" and not refers:
            refers = "#term"  # required by the schema
        return mark.name, ({"refersTo": refers} if refers else {})
    if mark.name == "note":
        return "authorialNote", {"text": mark.get("text"), "placement": "bottom"}
    return mark.name, {}


# --- character ranges ------------------------------------------------------------------------------


def add_mark(runs: Iterable[Run], start: int, end: int, mark: Mark) -> Runs:
    """The runs with `mark` over characters [start, end) (replacing a mark of the same name)."""
    out: list[Run] = []
    position = 0
    for run in runs:
        stop = position + len(run.text)
        cuts = sorted({0, len(run.text), *(c - position for c in (start, end) if position < c < stop)})
        for a, b in itertools.pairwise(cuts):
            piece = run.text[a:b]
            inside = start <= position + a and position + b <= end
            marks = _ordered((*(m for m in run.marks if m.name != mark.name), mark)) if inside else run.marks
            out.append(Run(piece, marks))
        position = stop
    return merged(out)


def rewrite(runs: Iterable[Run], edits: Sequence[tuple[int, int, str | None, Mark]]) -> Runs:
    """The runs with each edit (start, end, new words or None, mark) done in one pass: the mark
    over [start, end) (replacing a mark of its name) and, with new words, those characters
    replaced by them (they take the marks of the first character replaced). Edits are in order
    and do not overlap. One pass keeps a paragraph of many references linear."""
    out: list[Run] = []
    position, index = 0, 0
    for run in runs:
        run_start, run_end = position, position + len(run.text)
        cursor = run_start
        while cursor < run_end:
            while index < len(edits) and edits[index][1] <= cursor:
                index += 1
            edit = edits[index] if index < len(edits) else None
            if edit is not None and edit[0] <= cursor:
                start, end, words, mark = edit
                stop = min(run_end, end)
                marks = _ordered((*(m for m in run.marks if m.name != mark.name), mark))
                if words is None:
                    out.append(Run(run.text[cursor - run_start:stop - run_start], marks))
                elif cursor == start:
                    out.append(Run(words, marks))  # the rest of the replaced characters go
            else:
                stop = min(run_end, edit[0]) if edit is not None else run_end
                out.append(Run(run.text[cursor - run_start:stop - run_start], run.marks))
            cursor = stop
        position = run_end
    return merged(out)


def replace_range(runs: Iterable[Run], start: int, end: int, text: str) -> Runs:
    """The runs with characters [start, end) replaced by `text`, which takes the marks of the
    first character replaced."""
    out: list[Run] = []
    position = 0
    inserted = False
    for run in runs:
        stop = position + len(run.text)
        if stop <= start or position >= end:
            if position >= end and not inserted:
                out.append(Run(text, run.marks))
                inserted = True
            out.append(run)
        else:
            before = run.text[: max(0, start - position)]
            after = run.text[max(0, end - position):] if end < stop else ""
            out.append(Run(before, run.marks))
            if not inserted:
                out.append(Run(text, run.marks))
                inserted = True
            out.append(Run(after, run.marks))
        position = stop
    if not inserted:
        out.append(Run(text))
    return merged(out)


def spans(runs: Iterable[Run], name: str) -> Iterator[tuple[int, int, Mark]]:
    """Each stretch carrying a mark `name` (joined across runs with the same mark)."""
    position = 0
    current: tuple[int, int, Mark] | None = None
    for run in runs:
        mark = run.mark(name)
        stop = position + len(run.text)
        if mark is not None and current is not None and current[2] == mark and current[1] == position:
            current = (current[0], stop, mark)
        else:
            if current is not None:
                yield current
            current = (position, stop, mark) if mark is not None else None
        position = stop
    if current is not None:
        yield current


# --- cross-references --------------------------------------------------------------------------------


def chains(units: Sequence[Unit]) -> dict[str, tuple[Unit, ...]]:
    """Every unit's GUID → the unit with its ancestors, outermost first (the unit last)."""
    found: dict[str, tuple[Unit, ...]] = {}

    def walk(level: Sequence[Unit], above: tuple[Unit, ...]) -> None:
        for unit in level:
            if unit.guid and unit.guid not in found:
                found[unit.guid] = (*above, unit)
            walk(unit.children, (*above, unit))

    walk(units, ())
    return found


_TOKEN = re.compile(r"[^\W_]+")
#: Words that are a number alone ("5", "16 Bis", "IV", "A", "b)"), not a word such as "anterior".
_LONE_NUMBER = re.compile(r"(?:\d+(?:\s*(?i:bis|ter|qu[áa]ter))?|[IVXLCDM]+|[A-Za-z]\))")


def current_words(words: str, chain: tuple[Unit, ...]) -> str:
    """The words of a cross-reference with the numbers it cites brought up to date with its
    target (`chain`: the target with its ancestors).

    "artículo 16" pointing at the article now numbered 17 reads "artículo 17"; "Art. 16, A"
    pointing at apartado A of Artículo 17 reads "Art. 17, A". Words that cite no unit ("el
    artículo anterior", "this Act") or cite a kind the target is not are left as written; a
    lone number ("5" in "Arts. 4 y 5") is the target's number."""
    if not chain or not words.strip():
        return words
    target = chain[-1]
    found = parse_citations(words)
    if not found:
        bare = words.strip()
        if target.num and _LONE_NUMBER.fullmatch(bare) and (target.kind == "indent") == bare.endswith(")"):
            number = bare.rstrip(")")
            if number != target.num and not _same_token(number, target.num):
                return words.replace(number, _cased(target.num, number), 1)
        return words
    citation = found[0]
    by_kind = {unit.kind: unit for unit in chain}
    if citation.path[-1][0] != target.kind or any(kind not in by_kind for kind, _ in citation.path):
        return words
    text = citation.text
    # Each number the citation names, wherever it is written ("inciso b) del artículo 16" names
    # the article last), replaced right to left.
    found_spans: list[tuple[int, int, str]] = []
    for kind, old in citation.path:
        new = by_kind[kind].num
        position, match = 0, None
        while (match := _find_number(text, old, position)) is not None:
            if not any(a < match[1] and match[0] < b for a, b, _ in found_spans):
                break
            position = match[1]
        if match is None or not new:
            return words
        if not _same_token(text[match[0]:match[1]], new):
            found_spans.append((match[0], match[1], _cased(new, text[match[0]:match[1]])))
    for start, end, replacement in sorted(found_spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return words[: citation.start] + text + words[citation.end :]


def _find_number(text: str, num: str, start: int) -> tuple[int, int] | None:
    """Where the number `num` (as a citation reads it) is written in `text` from `start`."""
    words = num.split()
    pattern = r"\s*".join(re.escape(w) for w in words)
    match = re.compile(rf"(?<![^\W_])(?i:{pattern})(?![^\W_])").search(text, start)
    if match is None and len(words) == 1:
        # Words are compared without accents ("Sexto"); find the token that reads the same.
        for token in _TOKEN.finditer(text, start):
            if _same_token(token.group(), num):
                return token.span()
        return None
    return match.span() if match else None


def _same_token(a: str, b: str) -> bool:
    return a == b or _same_number(a, b)


def _cased(new: str, like: str) -> str:
    """`new` written in the case of the number it replaces ("Sexto" → "Séptimo")."""
    if like.isupper() or not any(c.isalpha() for c in like):
        return new
    if like.islower():
        return new.lower()
    if like[:1].isupper() and like[1:].islower():
        return new[:1].upper() + new[1:].lower()
    return new


def refresh_refs(runs: Runs, chain_of: Mapping[str, tuple[Unit, ...]]) -> Runs:
    """The runs with every cross-reference's words naming its target's current number and its
    mark carrying the target's current `eid` and `label` (a ref to a unit that is gone keeps its
    words and gets neither)."""
    text = plain(runs)
    edits: list[tuple[int, int, str | None, Mark]] = []
    for start, end, mark in spans(runs, "ref"):
        guid = mark.get("guid")
        chain = chain_of.get(guid) if guid else None
        if chain is None:
            continue
        words = text[start:end]
        new_words = current_words(words, chain)
        derived = Mark("ref", tuple(sorted((*mark.attrs, ("eid", chain[-1].eid), ("label", _describe(chain))))))
        edits.append((start, end, new_words if new_words != words else None, derived))
    return rewrite(runs, edits) if edits else runs


def _describe(chain: tuple[Unit, ...]) -> str:
    """A unit's full label from its article (or outermost numbered unit) down: "Artículo 17, A."."""
    articles = [i for i, u in enumerate(chain) if u.kind == "article"]
    shown = chain[articles[-1]:] if articles else chain[-1:]
    return " ".join(u.label for u in shown if u.label) or chain[-1].heading or chain[-1].eid


def link_runs(
    runs: Runs, units: Sequence[Unit] | Callable[[str], list[Resolution]], skip: str | None = None
) -> Runs:
    """The runs with every citation of a unit of `units` that is not yet inside a ref linked to
    the unit it cites (citations.resolve_references; unresolved or ambiguous ones are left).
    `units` may be a `citations.resolver` over them, to link many texts; `skip` is the GUID of
    the unit the text belongs to: a unit does not link to itself."""
    text = plain(runs)
    if not text.strip():
        return runs
    resolve = units if callable(units) else resolver(units)
    linked = [(a, b) for a, b, _ in spans(runs, "ref")]
    edits: list[tuple[int, int, str | None, Mark]] = []
    for resolution in resolve(text):
        unit, citation = resolution.unit, resolution.citation
        if unit is None or not unit.guid or unit.guid == skip:
            continue
        start, end = citation.start, citation.end
        if any(a < end and start < b for a, b in linked):
            continue
        edits.append((start, end, None, make_mark("ref", {"guid": unit.guid})))
        linked.append((start, end))
    return rewrite(runs, sorted(edits, key=lambda edit: edit[0])) if edits else runs


def refresh_refs_in(units: Sequence[Unit]) -> tuple[Unit, ...]:
    """The unit tree with every cross-reference refreshed (`refresh_refs`): the words name the
    target's current number and the plain texts say so too."""
    chain_of = chains(units)

    def block(text):
        runs = getattr(text, "runs", None)
        if runs is None or not any(run.mark("ref") for run in runs):
            return text
        return Marked.of(refresh_refs(runs, chain_of))

    def unit(u: Unit) -> Unit:
        blocks = tuple(block(b) for b in u.blocks)
        heading = block(u.heading)
        children = tuple(unit(c) for c in u.children)
        blocks_changed = any(a is not b for a, b in zip(blocks, u.blocks, strict=True))
        if not blocks_changed and heading is u.heading and all(
            a is b for a, b in zip(children, u.children, strict=True)
        ):
            return u
        text = "\n".join(b if isinstance(b, str) else b.text for b in blocks) if blocks_changed else u.text
        return replace(u, blocks=blocks, text=text, heading=heading, children=children)

    return tuple(unit(u) for u in units)


# --- linking and updating a body ---------------------------------------------------------------------

_UNIT_TAGS: Final = (
    "preamble", "title", "chapter", "article", "paragraph", "subparagraph", "point", "indent", "transitional",
)


def _owner_guid(block: etree._Element) -> str | None:
    parent = block.getparent()
    return parent.get("guid") if parent is not None else None


def link_body(body: etree._Element, units: Sequence[Unit]) -> int:
    """Link every citation in the text blocks of a live body's lxml copy (an import before it is
    stored) to the unit of `units` it cites (`link_runs`); returns how many were linked."""
    count = 0
    resolve = resolver(units)
    for block in body.iter("p", "heading"):
        runs = runs_from_element(block)
        if not runs:
            continue
        linked = link_runs(runs, resolve, skip=_owner_guid(block))
        added = len(list(spans(linked, "ref"))) - len(list(spans(runs, "ref")))
        if added:
            fill_element(block, linked)
            count += added
    return count
