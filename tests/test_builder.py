"""Importers hand units as their source numbers them to `build`; the live document must show
exactly those numbers, with auto-numbering kept wherever position already gives them."""

from __future__ import annotations

import pytest

from akoma_ntoso import (
    UNNUMBERED,
    DocumentStructureError,
    Draft,
    build,
    find_unit,
    iter_units,
    new_guid,
)


def nums(built, kind):
    return [u.num for u in iter_units(built.units) if u.kind == kind]


def test_source_numbers_survive_and_only_irregular_ones_are_pinned():
    built = build(
        [
            Draft("article", "1", children=[Draft("paragraph", "A"), Draft("paragraph", "B")]),
            Draft("article", "1 Bis"),
            Draft("article", "2"),
            Draft("article", "4"),  # a gap in the source
            Draft("article", "5"),
        ]
    )
    assert nums(built, "article") == ["1", "1 Bis", "2", "4", "5"]
    pinned = {u.num for u in iter_units(built.units) if u.pinned}
    # "4" and "5" cannot be derived after "2" in this model: they are pinned, the rest are not
    assert pinned == {"1 Bis", "4", "5"}
    assert [u.eid for u in built.units] == ["art_1", "art_1_Bis", "art_2", "art_4", "art_5"]


def test_styles_are_inferred_from_the_source_and_recorded_in_meta():
    built = build(
        [
            Draft(
                "article",
                "1",
                children=[
                    Draft("paragraph", "1", children=[Draft("subparagraph", "a")]),
                    Draft("paragraph", "2", children=[Draft("subparagraph", "a"), Draft("subparagraph", "b")]),
                ],
            )
        ],
        language="eng",
    )
    assert built.meta["numbering"] == {"paragraph": "arabic", "subparagraph": "lower-alpha"}
    assert not any(u.pinned for u in iter_units(built.units))
    assert nums(built, "subparagraph") == ["a", "a", "b"]


def test_unnumbered_units_show_no_number_and_get_distinct_nn_eids():
    built = build([Draft("article", "3", children=[Draft("paragraph"), Draft("paragraph")])])
    first, second = built.units[0].children
    assert (first.num, first.label, second.num) == ("", "", "")
    assert built.body.find("article/paragraph").get("pin") == UNNUMBERED
    assert (first.eid, second.eid) == ("art_3__para_nn_1", "art_3__para_nn_2")


def test_valid_source_guids_are_kept_and_bad_or_repeated_ones_replaced_with_a_finding():
    kept = new_guid()
    built = build(
        [
            Draft("article", "1", guid=kept, where="article[1]"),
            Draft("article", "2", guid=kept, where="article[2]"),
            Draft("article", "3", guid="not-a-guid", where="article[3]"),
        ]
    )
    guids = [u.guid for u in built.units]
    assert guids[0] == kept and len(set(guids)) == 3
    assert [f.where for f in built.findings] == ["article[2]", "article[3]"]
    assert find_unit(built.units, kept).num == "1"


def test_nesting_the_model_forbids_is_refused_with_the_place():
    with pytest.raises(DocumentStructureError, match="line 12: an article cannot be part of a paragraph"):
        build([Draft("article", "1", children=[Draft("paragraph", "A", children=[Draft("article", "2", where="line 12")])])])
    with pytest.raises(DocumentStructureError, match="cannot stand at the top"):
        build([Draft("paragraph", "A")])


def test_text_is_cleaned_of_what_xml_cannot_hold():
    built = build([Draft("article", "1", heading="  Derecho\x0b al  agua ", paragraphs=["Toda\x00 persona"])])
    assert (built.units[0].heading, built.units[0].text) == ("Derecho al agua", "Toda persona")


def test_roman_points_win_over_letters_that_read_as_big_numbers():
    built = build([Draft("article", "1", children=[Draft("paragraph", "1", children=[
        Draft("subparagraph", "a", children=[Draft("point", n) for n in ("i", "ii", "iii", "iv")])])])],
        language="eng")
    assert built.meta["numbering"]["point"] == "lower-roman"
    assert not any(u.pinned for u in iter_units(built.units))


def test_titles_chapters_and_articles_always_carry_a_heading_block_for_the_editor():
    built = build([Draft("title", "PRIMERO", children=[Draft("article", "1", paragraphs=["Sin epígrafe."])])])
    article = built.body.find("title/article")
    assert [child.tag for child in article] == ["heading", "p"]
    assert built.units[0].children[0].heading == "" and built.units[0].children[0].text == "Sin epígrafe."
