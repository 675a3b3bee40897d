"""Comparing texts: the structural diff by GUID and the word-level redline inside changed units."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from conftest import CDMX_TEXT, require

from akoma_ntoso import Unit, iter_units
from editor.redline import DELETE, INSERT, KEEP, word_diff
from editor.stages.diff import compare


def _unit(guid, kind="article", label="", text="", heading="", children=()):
    return Unit(guid=guid, kind=kind, num="", label=label, eid=guid, heading=heading, text=text,
                children=tuple(children))


def _rebuild(units, edits):
    """The unit tree with `edits` (GUID → new text) applied."""
    return tuple(replace(u, text=edits.get(u.guid, u.text), children=_rebuild(u.children, edits)) for u in units)


@pytest.fixture(scope="module")
def constitution():
    require(CDMX_TEXT.exists(), f"the Mexico City constitution is not at {CDMX_TEXT}")
    from akoma_ntoso.text_import import import_text

    return import_text(CDMX_TEXT.read_text(encoding="utf-8")).units


def test_fifty_scattered_edits_to_the_mexico_city_constitution_are_found_exactly(constitution):
    rng = random.Random(2017)
    candidates = [u for u in iter_units(constitution) if len(u.text.split()) >= 6]
    assert len(candidates) > 500  # the real text: hundreds of clauses with wording
    chosen = rng.sample(candidates, 50)
    edits, expected = {}, {}
    for n, unit in enumerate(chosen):
        words = unit.text.split(" ")
        i = rng.randrange(1, len(words) - 1)
        if n % 3 == 0:  # replace a word
            new_word = f"palabra{n}"
            expected[unit.guid] = ([words[i]], [new_word])
            words[i] = new_word
        elif n % 3 == 1:  # insert a word
            new_word = f"nuevo{n}"
            expected[unit.guid] = ([], [new_word])
            words.insert(i, new_word)
        else:  # delete a word
            expected[unit.guid] = ([words[i]], [])
            del words[i]
        edits[unit.guid] = " ".join(words)

    comparison = compare(constitution, _rebuild(constitution, edits))

    assert {c.guid for c in comparison.changes} == set(edits)
    assert all(c.statuses == ["changed"] for c in comparison.changes)
    assert comparison.counts() == {"added": 0, "removed": 0, "moved": 0, "renumbered": 0, "changed": 50,
                                   "split": 0, "merged": 0}
    for change in comparison.changes:
        deleted = [c.text.strip() for c in change.text if c.op == DELETE]
        inserted = [c.text.strip() for c in change.text if c.op == INSERT]
        assert (deleted, inserted) == expected[change.guid], change.label
        kept = "".join(c.text for c in change.text if c.op != INSERT)
        assert kept == change.old.text  # the redline's old side is the old text, word for word


def test_the_structural_diff_names_added_removed_moved_and_renumbered_units():
    old = (
        _unit("a1", label="Artículo 1", text="Uno."),
        _unit("a2", label="Artículo 2", text="Dos.", children=[_unit("p1", "paragraph", "A.", "Apartado")]),
        _unit("a3", label="Artículo 3", text="Tres."),
        _unit("a4", label="Artículo 4", text="Cuatro."),
    )
    new = (
        _unit("a1", label="Artículo 1", text="Uno."),
        _unit("a4", label="Artículo 2", text="Cuatro."),  # moved up, so renumbered
        _unit("a3", label="Artículo 3", text="Tres, con cambios."),
        _unit("a5", label="Artículo 4", text="Nuevo."),
        _unit("a2b", label="Artículo 5", text="", children=[_unit("p1", "paragraph", "A.", "Apartado")]),
    )
    comparison = compare(old, new)
    found = {c.guid: c.statuses for c in comparison.changes}
    assert found == {
        "a4": ["moved", "renumbered"],
        "a3": ["changed"],
        "a5": ["added"],
        "a2b": ["added"],
        "p1": ["moved"],  # same apartado, now inside another article
        "a2": ["removed"],
    }
    # Removed units are listed where they stood: a2 came right after a1.
    assert [c.guid for c in comparison.changes] == ["a2", "a4", "a3", "a5", "a2b", "p1"]


def test_swapping_two_siblings_moves_one_not_both():
    old = (_unit("x", label="Artículo 1"), _unit("y", label="Artículo 2"), _unit("z", label="Artículo 3"))
    new = (_unit("y", label="Artículo 1"), _unit("x", label="Artículo 2"), _unit("z", label="Artículo 3"))
    statuses = {c.guid: c.statuses for c in compare(old, new).changes}
    assert sorted(s for s in statuses.values() if "moved" in s) == [["moved", "renumbered"]]
    assert "z" not in statuses


def test_the_redline_works_in_whole_words_and_ignores_how_accents_are_typed():
    composed = "La Ciudad garantizará el derecho al agua."
    decomposed = composed.replace("á", "a\u0301")
    assert [c.op for c in word_diff(composed, decomposed)] == [KEEP]
    changes = word_diff("Toda persona tiene derecho a la movilidad.", "Toda persona tiene derecho a la movilidad segura.")
    assert [(c.op, c.text) for c in changes if c.op != KEEP] == [(DELETE, "movilidad."), (INSERT, "movilidad segura.")]
