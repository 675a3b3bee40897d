"""Cross-references in the live text: link the citations it contains, and bring the words of
existing ones up to date ("Link references" in the editor, docs/document-model.md, "Inline markup").

Both run inside the document's room (`services.texts.change`), so the formatting and the words
they write reach every connected editor as one change of the server's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from akoma_ntoso import UNIT_KINDS, read_units
from akoma_ntoso.citations import resolver
from akoma_ntoso.inline import (
    byte_offset,
    chains,
    current_words,
    link_runs,
    plain,
    runs_from_delta,
    spans,
    yjs_attributes,
)
from crdt.xmltree import fragment_to_etree

from .livetext import meta_of


@dataclass(frozen=True)
class Linked:
    """What `link_references` did: citations newly linked, references whose words it updated."""

    linked: int
    updated: int


def _texts(parent: XmlFragment | XmlElement, owner: str | None) -> Iterator[tuple[XmlText, str | None]]:
    """Every text of a heading or p, with the GUID of the unit it belongs to."""
    for child in parent.children:
        if not isinstance(child, XmlElement):
            continue
        if child.tag in ("heading", "p"):
            for text in child.children:
                if isinstance(text, XmlText):
                    yield text, owner
        elif child.tag in UNIT_KINDS:
            yield from _texts(child, str(child.attributes.get("guid") or "") or None)


def link_references(doc: Doc, link: bool = True, update: bool = True) -> Linked:
    """In the live document: link every citation not yet linked to the unit it cites (`link`),
    and make every reference's words name its target's current number (`update`)."""
    body = doc.get("body", type=XmlFragment)
    # Numbered as the accepted text is (a pending suggested unit has no number of its own yet).
    units = read_units(fragment_to_etree(body, accepted=True), meta_of(doc))
    chain_of = chains(units)
    resolve = resolver(units)
    linked = updated = 0
    with doc.transaction():
        for text, owner in list(_texts(body, None)):
            runs = runs_from_delta(text.diff())
            if update:
                for start, end, mark in reversed(list(spans(runs, "ref"))):
                    chain = chain_of.get(mark.get("guid"))
                    words = plain(runs)[start:end]
                    new = current_words(words, chain) if chain else words
                    if new == words:
                        continue
                    # Replace only what differs ("16" in "artículo 16"), keeping the run's marks.
                    head = 0
                    while head < min(len(words), len(new)) and words[head] == new[head]:
                        head += 1
                    tail = 0
                    while tail < min(len(words), len(new)) - head and words[-1 - tail] == new[-1 - tail]:
                        tail += 1
                    current = plain(runs)
                    a, b = start + head, end - tail
                    at = min(a, end - 1)
                    marks = next(r.marks for r, s in _starts(runs) if s <= at < s + len(r.text))
                    del text[byte_offset(current, a):byte_offset(current, b)]
                    text.insert(byte_offset(current, a), new[head:len(new) - tail], yjs_attributes(marks))
                    updated += 1
                    runs = runs_from_delta(text.diff())
            if link:
                new_runs = link_runs(runs, resolve, skip=owner)
                before = {(a, b) for a, b, _ in spans(runs, "ref")}
                current = plain(runs)
                for start, end, mark in spans(new_runs, "ref"):
                    if (start, end) not in before:
                        text.format(byte_offset(current, start), byte_offset(current, end),
                                    {"ref": {"guid": mark.get("guid")}})
                        linked += 1
    return Linked(linked, updated)


def _starts(runs):
    position = 0
    for run in runs:
        yield run, position
        position += len(run.text)
