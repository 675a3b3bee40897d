"""Citations in free text ("Art. 16, A, 3", "Título Sexto"), found and resolved against units."""

from __future__ import annotations

import csv
import importlib.util

import pytest
from conftest import SHARED_DATA, require
from lxml import etree

from akoma_ntoso import read_units
from akoma_ntoso.citations import Citation, parse_citations, resolve, resolve_references

SPANISH = {"title": "Constitución de prueba", "language": "spa"}


def subparagraphs(count: int) -> str:
    return "<subparagraph><p>Texto.</p></subparagraph>" * count


def points(count: int) -> str:
    return "<point><p>Texto.</p></point>" * count


def paragraphs(count: int, inside: str = "") -> str:
    return f"<paragraph><p>Texto.</p>{inside}</paragraph>" * count


# TÍTULO PRIMERO: Art. 1 (numerals 1-3), Art. 2 (A: 1-4, B: 1-2, C: I, II with a), b)).
# TÍTULO SEGUNDO: CAPÍTULO I: Art. 3 (fracciones I-V); CAPÍTULO II: Art. 4 (A-I), Art. 4 Bis.
# TÍTULO TERCERO: CAPÍTULO ÚNICO: Art. 5, Art. 6 (A, B), Art. 6-C, Art. 7 (A-C), Art. 7-C.
# TÍTULO CUARTO: CAPÍTULOS I, II, III with Arts. 8, 9, 10.
BODY = f"""<body>
  <preamble><p>Nosotros, el pueblo.</p></preamble>
  <title><heading>Disposiciones generales</heading>
    <article><heading>De la Ciudad</heading>{subparagraphs(3)}</article>
    <article><heading>Principios</heading>
      <paragraph><heading>Uno</heading>{subparagraphs(4)}</paragraph>
      <paragraph><heading>Dos</heading>{subparagraphs(2)}</paragraph>
      <paragraph><heading>Tres</heading>
        <point><p>Primera.</p></point>
        <point><p>Segunda:</p><indent><p>una;</p></indent><indent><p>otra.</p></indent></point>
      </paragraph>
    </article>
  </title>
  <title><heading>Carta de derechos</heading>
    <chapter><heading>De las normas</heading><article><p>Son:</p>{points(5)}</article></chapter>
    <chapter><heading>De los derechos</heading>
      <article>{paragraphs(9)}</article>
      <article pin="4 Bis"><p>Añadido.</p></article>
    </chapter>
  </title>
  <title><heading>Desarrollo</heading>
    <chapter pin="ÚNICO"><heading>Planeación</heading>
      <article/>
      <article>{paragraphs(2)}</article>
      <article pin="6-C"/>
      <article>{paragraphs(3)}</article>
      <article pin="7-C"/>
    </chapter>
  </title>
  <title><heading>Poderes</heading>
    <chapter><article/></chapter><chapter><article/></chapter><chapter><article/></chapter>
  </title>
</body>"""


@pytest.fixture(scope="module")
def units():
    return read_units(etree.fromstring(BODY), SPANISH)


def paths(text: str) -> list[tuple[str, tuple]]:
    return [(c.text, c.path) for c in parse_citations(text)]


def outcomes(text: str, units) -> list[tuple[str, str | None, str | None]]:
    """(cited text, eId of the unit named or None, problem) for each reference in `text`."""
    return [
        (r.citation.text, r.unit.eid if r.unit else None, r.problem)
        for r in resolve_references(text, units)
    ]


# --- finding references ------------------------------------------------------------------


def test_short_form_chain_is_one_reference():
    assert paths("Art. 16, A, 3") == [
        ("Art. 16, A, 3", (("article", "16"), ("paragraph", "A"), ("subparagraph", "3")))
    ]


def test_named_components():
    assert paths("Artículo 16, apartado A, numeral 3") == [
        (
            "Artículo 16, apartado A, numeral 3",
            (("article", "16"), ("paragraph", "A"), ("subparagraph", "3")),
        )
    ]
    assert paths("véase el artículo 16, apartado A, fracción II, inciso b) del texto") == [
        (
            "artículo 16, apartado A, fracción II, inciso b)",
            (("article", "16"), ("paragraph", "A"), ("point", "II"), ("indent", "b")),
        )
    ]


def test_bare_components_are_read_by_shape():
    # I, V and X right after an apartado are its fracciones; other capitals are apartados.
    assert paths("Art. 2, C, I") == [
        ("Art. 2, C, I", (("article", "2"), ("paragraph", "C"), ("point", "I")))
    ]
    assert paths("Art. 2, A, C") == [
        ("Art. 2, A", (("article", "2"), ("paragraph", "A"))),
        ("C", (("article", "2"), ("paragraph", "C"))),
    ]
    assert paths("Art. 9, B, 2, IV, c)") == [
        (
            "Art. 9, B, 2, IV, c)",
            (
                ("article", "9"),
                ("paragraph", "B"),
                ("subparagraph", "2"),
                ("point", "IV"),
                ("indent", "c"),
            ),
        )
    ]


def test_pinned_article_number():
    assert paths("Art. 16 Bis") == [("Art. 16 Bis", (("article", "16 Bis"),))]
    assert paths("artículo 16 bis, apartado B") == [
        ("artículo 16 bis, apartado B", (("article", "16 bis"), ("paragraph", "B")))
    ]


def test_titles_and_chapters():
    assert paths("Título Sexto") == [("Título Sexto", (("title", "SEXTO"),))]
    assert paths("el TÍTULO DÉCIMO PRIMERO dice") == [
        ("TÍTULO DÉCIMO PRIMERO", (("title", "DÉCIMO PRIMERO"),))
    ]
    assert paths("Capítulo II del Título Quinto") == [
        ("Capítulo II del Título Quinto", (("title", "QUINTO"), ("chapter", "II")))
    ]
    assert paths("Título Quinto, Capítulo II, artículo 30") == [
        (
            "Título Quinto, Capítulo II, artículo 30",
            (("title", "QUINTO"), ("chapter", "II"), ("article", "30")),
        )
    ]
    assert paths("Capítulo Único") == [("Capítulo Único", (("chapter", "ÚNICO"),))]


def test_plural_keyword_lists_articles():
    assert paths("Arts. 4 y 5") == [("Arts. 4", (("article", "4"),)), ("5", (("article", "5"),))]
    assert paths("artículos 4, B y 5, A") == [
        ("artículos 4, B", (("article", "4"), ("paragraph", "B"))),
        ("5, A", (("article", "5"), ("paragraph", "A"))),
    ]
    # "y" straight after an article's number joins another article; a comma gives a numeral.
    assert paths("Art. 4 y 5") == [("Art. 4", (("article", "4"),)), ("5", (("article", "5"),))]
    assert paths("Art. 2, 3") == [("Art. 2, 3", (("article", "2"), ("subparagraph", "3")))]


def test_a_list_goes_back_up_when_a_component_is_not_deeper():
    assert paths("Art. 16, A, 3, 4, B") == [
        ("Art. 16, A, 3", (("article", "16"), ("paragraph", "A"), ("subparagraph", "3"))),
        ("4", (("article", "16"), ("paragraph", "A"), ("subparagraph", "4"))),
        ("B", (("article", "16"), ("paragraph", "B"))),
    ]


def test_references_of_the_petitions_table():
    assert paths("Art. 2, 3. Art. 7, A; Título Sexto") == [
        ("Art. 2, 3", (("article", "2"), ("subparagraph", "3"))),
        ("Art. 7, A", (("article", "7"), ("paragraph", "A"))),
        ("Título Sexto", (("title", "SEXTO"),)),
    ]
    assert paths("Art. 12, E Art. 16, H") == [
        ("Art. 12, E", (("article", "12"), ("paragraph", "E"))),
        ("Art. 16, H", (("article", "16"), ("paragraph", "H"))),
    ]
    assert paths("Art. 4, B, 4 Art. 6, E Art. 11, C") == [
        ("Art. 4, B, 4", (("article", "4"), ("paragraph", "B"), ("subparagraph", "4"))),
        ("Art. 6, E", (("article", "6"), ("paragraph", "E"))),
        ("Art. 11, C", (("article", "11"), ("paragraph", "C"))),
    ]
    assert paths("Art. 11, H.") == [("Art. 11, H", (("article", "11"), ("paragraph", "H")))]
    assert paths("X") == []  # "not incorporated": no reference at all


def test_number_hyphen_capital_is_an_article_and_its_apartado():
    citations = parse_citations("Art. 7, 8-C Art. 24")
    assert [(c.text, c.path) for c in citations] == [
        ("Art. 7", (("article", "7"),)),
        ("8-C", (("article", "8"), ("paragraph", "C"))),
        ("Art. 24", (("article", "24"),)),
    ]
    # Kept for resolving: fracción C of Artículo 8, or an article pinned "8-C".
    assert citations[1].alternatives == (
        (("article", "8"), ("point", "C")),
        (("article", "8-C"),),
    )


def test_reverse_order_references():
    assert paths("la fracción II del artículo 16 dispone") == [
        ("fracción II del artículo 16", (("article", "16"), ("point", "II")))
    ]
    assert paths("inciso b) de la fracción II del apartado A del artículo 16") == [
        (
            "inciso b) de la fracción II del apartado A del artículo 16",
            (("article", "16"), ("paragraph", "A"), ("point", "II"), ("indent", "b")),
        )
    ]
    assert paths("fracciones I y II del artículo 3") == [
        ("fracciones I", (("article", "3"), ("point", "I"))),
        ("II del artículo 3", (("article", "3"), ("point", "II"))),
    ]


def test_a_lower_unit_without_its_article_names_nothing():
    assert paths("según el apartado A del presente artículo") == []


def test_references_to_other_laws_are_dropped():
    text = (
        "de conformidad con el artículo 44 de la Constitución Política de los Estados Unidos "
        "Mexicanos, la fracción II del artículo 3 de la Ley de Aguas y el artículo 2 de esta "
        "Constitución"
    )
    assert paths(text) == [("artículo 2", (("article", "2"),))]


def test_english_forms():
    assert paths("Article 16, paragraph A") == [
        ("Article 16, paragraph A", (("article", "16"), ("paragraph", "A")))
    ]
    citation = parse_citations("under Section 3(1)(a) of this Act")[0]
    assert citation.text == "Section 3(1)(a)"
    assert citation.path == (("article", "3"), ("paragraph", "1"), ("point", "a"))
    assert (("article", "3"), ("paragraph", "1"), ("subparagraph", "a")) in citation.alternatives
    assert paths("Articles 4 and 5") == [
        ("Articles 4", (("article", "4"),)),
        ("5", (("article", "5"),)),
    ]
    assert paths("Chapter 2 of Title 1") == [
        ("Chapter 2 of Title 1", (("title", "1"), ("chapter", "2")))
    ]


def test_words_that_only_look_like_references_are_not():
    assert parse_citations("las artes 16 veces; el partido 3, A; a las 4 y 5") == []
    assert paths("artículo 4, las autoridades") == [("artículo 4", (("article", "4"),))]


def test_each_citation_spans_its_own_text():
    text = "Ver Art. 16, A, 3, 4, B y la fracción II del artículo 5; Título Sexto."
    citations = parse_citations(text)
    assert len(citations) == 5
    for citation in citations:
        assert text[citation.start : citation.end] == citation.text


# --- resolving ---------------------------------------------------------------------------


def test_resolves_chains_and_lists(units):
    assert outcomes("Art. 1, 3", units) == [("Art. 1, 3", "art_1__subpara_3", None)]
    assert outcomes("Art. 2, A, 3, 4, B", units) == [
        ("Art. 2, A, 3", "art_2__para_A__subpara_3", None),
        ("4", "art_2__para_A__subpara_4", None),
        ("B", "art_2__para_B", None),
    ]
    assert outcomes("artículo 2, apartado C, fracción II, inciso b)", units) == [
        (
            "artículo 2, apartado C, fracción II, inciso b)",
            "art_2__para_C__point_II__indent_b",
            None,
        )
    ]
    assert outcomes("Art. 2, C, II, b)", units) == [
        ("Art. 2, C, II, b)", "art_2__para_C__point_II__indent_b", None)
    ]


def test_reports_what_does_not_exist(units):
    assert outcomes("Art. 99", units) == [("Art. 99", None, "there is no Artículo 99")]
    assert outcomes("Art. 1, E", units) == [("Art. 1, E", None, "Artículo 1 has no apartado E")]
    assert outcomes("Art. 2, A, 7", units) == [
        ("Art. 2, A, 7", None, "Artículo 2, apartado A has no numeral 7")
    ]
    assert outcomes("Art. 2, C, I, a)", units) == [
        ("Art. 2, C, I, a)", None, "Artículo 2, apartado C, fracción I has no inciso a)")
    ]
    assert outcomes("Título Noveno", units) == [
        ("Título Noveno", None, "there is no TÍTULO NOVENO")
    ]


def test_titles_compare_without_case_or_accents(units):
    for written in ("Título Segundo", "título segundo", "TITULO SEGUNDO"):
        assert outcomes(written, units) == [(written, "title_2", None)]


def test_pinned_numbers_compare_without_case(units):
    assert outcomes("Art. 4 Bis", units) == [("Art. 4 Bis", "art_4_Bis", None)]
    assert outcomes("art. 4 bis", units) == [("art. 4 bis", "art_4_Bis", None)]
    assert outcomes("Capítulo único", units) == [("Capítulo único", "title_3__chp_UNICO", None)]


def test_letters_and_roman_numbers_compare_exactly(units):
    assert outcomes("Art. 3, fracción ii", units)[0][1] is None
    assert outcomes("Art. 2, apartado a", units)[0][1] is None


def test_a_chapter_number_alone_may_name_several_chapters(units):
    assert outcomes("Capítulo I", units) == [
        (
            "Capítulo I",
            None,
            "CAPÍTULO I is ambiguous: there are 2 (in TÍTULO SEGUNDO; in TÍTULO CUARTO); say which",
        )
    ]
    assert outcomes("Capítulo III", units) == [("Capítulo III", "title_4__chp_III", None)]
    assert outcomes("Capítulo II del Título Segundo", units) == [
        ("Capítulo II del Título Segundo", "title_2__chp_II", None)
    ]
    assert outcomes("Capítulo III del Título Segundo", units) == [
        ("Capítulo III del Título Segundo", None, "TÍTULO SEGUNDO has no CAPÍTULO III")
    ]


def test_an_article_named_inside_its_title(units):
    assert outcomes("Título Segundo, artículo 4", units) == [
        ("Título Segundo, artículo 4", "art_4", None)
    ]
    assert outcomes("artículo 4 del Título Primero", units) == [
        ("artículo 4 del Título Primero", None, "TÍTULO PRIMERO has no Artículo 4")
    ]


def test_a_capital_roman_letter_is_an_apartado_or_a_fraccion_as_the_tree_has_it(units):
    fraccion = resolve(parse_citations("Art. 3, V")[0], units)
    assert (fraccion.unit.eid, fraccion.problem, fraccion.note) == ("art_3__point_V", None, None)
    apartado = resolve(parse_citations("Art. 4, I")[0], units)
    assert (apartado.unit.eid, apartado.problem, apartado.note) == ("art_4__para_I", None, None)
    # Neither: the plain reading's problem is reported.
    assert outcomes("Art. 1, V", units) == [("Art. 1, V", None, "Artículo 1 has no apartado V")]


def test_number_hyphen_capital_resolves_to_what_exists(units):
    # Artículo 5 and Artículo 7, apartado C: the reading of the petitions table.
    assert outcomes("Art. 5, 7-C", units)[1][:2] == ("7-C", "art_7__para_C")
    # Artículo 6 has no apartado C, but an article is pinned "6-C".
    assert outcomes("Art. 5, 6-C", units)[1] == ("6-C", "art_6-C", None)
    # Both exist: the apartado is taken, and the other meaning is said.
    both = resolve_references("Art. 7-C", units)[0]
    assert both.unit.eid == "art_7__para_C"
    assert both.note == "it could also mean Artículo 7-C"


def test_a_skipped_level_is_filled_in_when_only_one_unit_fits(units):
    single = resolve_references("Art. 2, 3", units)[0]
    assert single.unit.eid == "art_2__para_A__subpara_3"
    assert single.note == (
        "Artículo 2 has no numeral 3 of its own; read as Artículo 2, apartado A, numeral 3"
    )
    assert outcomes("Art. 2, 1", units) == [
        (
            "Art. 2, 1",
            None,
            "Artículo 2 has no numeral 1 of its own, and 2 of its parts have one "
            "(apartados A, B); say which",
        )
    ]


def test_an_unnumbered_unit_in_between_is_no_guess():
    # Incisos straight under a numeral live in an unnumbered fracción (the "-" pin).
    units = read_units(
        etree.fromstring(
            """<body><article><subparagraph><point pin="-">
                 <indent><p>una;</p></indent><indent><p>otra.</p></indent>
               </point></subparagraph></article></body>"""
        ),
        SPANISH,
    )
    resolution = resolve_references("artículo 1, numeral 1, inciso b)", units)[0]
    assert resolution.unit.eid == "art_1__subpara_1__point_nn_1__indent_b"
    assert (resolution.problem, resolution.note) == (None, None)
    # Read through it, it is named in the document's language, as the rest of the name.
    deeper = resolve_references("artículo 1, inciso a)", units)[0]
    assert deeper.unit.eid == "art_1__subpara_1__point_nn_1__indent_a"
    assert deeper.note.endswith("read as Artículo 1, numeral 1, fracción sin número, inciso a)"), deeper.note


def test_a_plain_reading_has_no_note(units):
    resolution = resolve_references("Art. 2, A, 3", units)[0]
    assert (resolution.note, resolution.problem) == (None, None)


def test_duplicate_pins_are_ambiguous():
    units = read_units(
        etree.fromstring('<body><article pin="16 Bis"/><article pin="16 Bis"/></body>'), SPANISH
    )
    assert outcomes("Art. 16 Bis", units) == [
        (
            "Art. 16 Bis",
            None,
            "Artículo 16 Bis is ambiguous: there are 2 (art_16_Bis; art_16_Bis_2); say which",
        )
    ]


def test_a_hand_made_citation_resolves_too(units):
    citation = Citation("apartado B", (("article", "2"), ("paragraph", "B")), 0, 10)
    assert resolve(citation, units).unit.eid == "art_2__para_B"
    empty = resolve(Citation("", (), 0, 0), units)
    assert (empty.unit, empty.problem) == (None, "the citation names no unit")


def test_english_document():
    units = read_units(
        etree.fromstring(
            """<body>
                 <article><p>Short title.</p></article>
                 <article><paragraph/><paragraph/></article>
                 <article><paragraph><subparagraph/><subparagraph/></paragraph></article>
               </body>"""
        ),
        {"language": "eng", "numbering": {"paragraph": "arabic", "subparagraph": "lower-alpha"}},
    )
    assert outcomes("Section 3(1)(b)", units) == [
        ("Section 3(1)(b)", "art_3__para_1__subpara_b", None)
    ]
    assert outcomes("Article 2, paragraph 2", units) == [
        ("Article 2, paragraph 2", "art_2__para_2", None)
    ]
    assert outcomes("Article 2(7)", units) == [
        ("Article 2(7)", None, "Article 2 has no paragraph 7")
    ]
    assert outcomes("Article 9", units) == [("Article 9", None, "there is no Article 9")]


# --- the Change.org petitions of 2016 against the constitution in force ------------------

CDMX = SHARED_DATA / "cdmx"
CONSTITUTION = CDMX / "constitucion-politica-cdmx.txt"
PETITIONS = CDMX / "petitions-2016.csv"

# Worked out from the text in force (reforms to 24 March 2023), read by hand: Artículo 12
# (Derecho a la Ciudad) has only numerals 1 and 2, so no apartado E; the mobility apartado the
# petition meant is now Artículo 13, apartado E. Artículo 16 has apartados A to I and numerals
# only inside them; eight of them (all but I) have a numeral 3, so "Art. 16, 3" cannot be told
# apart (by its subject, green areas, it is likely 16, A, 3). Artículo 11 has apartados A to P
# (C, G and H among them); Artículo 64 has numerals 1 to 8; Artículo 8, apartado C is "Derecho a
# la ciencia y a la innovación tecnológica". "X" marks the petition not incorporated.
EXPECTED_PETITIONS = {
    "Art. 64, 2": [("Art. 64, 2", "art_64__subpara_2", None)],
    "Art. 2, 3. Art. 7, A; Título Sexto": [
        ("Art. 2, 3", "art_2__subpara_3", None),
        ("Art. 7, A", "art_7__para_A", None),
        ("Título Sexto", "title_6", None),
    ],
    "Art. 7, 8-C Art. 24": [
        ("Art. 7", "art_7", None),
        ("8-C", "art_8__para_C", None),
        ("Art. 24", "art_24", None),
    ],
    "Art. 13, B": [("Art. 13, B", "art_13__para_B", None)],
    "Art. 16, 3": [
        (
            "Art. 16, 3",
            None,
            "Artículo 16 has no numeral 3 of its own, and 8 of its parts have one "
            "(apartados A, B, C, D, E, F, G, H); say which",
        )
    ],
    "Art. 12, E Art. 16, H": [
        ("Art. 12, E", None, "Artículo 12 has no apartado E"),
        ("Art. 16, H", "art_16__para_H", None),
    ],
    "Art. 8, C": [("Art. 8, C", "art_8__para_C", None)],
    "Art. 11, G": [("Art. 11, G", "art_11__para_G", None)],
    "Art. 16, A, 3, 4, B": [
        ("Art. 16, A, 3", "art_16__para_A__subpara_3", None),
        ("4", "art_16__para_A__subpara_4", None),
        ("B", "art_16__para_B", None),
    ],
    "Art. 4, B, 4 Art. 6, E Art. 11, C": [
        ("Art. 4, B, 4", "art_4__para_B__subpara_4", None),
        ("Art. 6, E", "art_6__para_E", None),
        ("Art. 11, C", "art_11__para_C", None),
    ],
    "X": [],
    "Art. 11, H.": [("Art. 11, H", "art_11__para_H", None)],
}


def test_petitions_2016_against_the_text_in_force():
    require(
        CONSTITUTION.exists() and PETITIONS.exists(),
        f"the CDMX constitution and petitions table are not under {CDMX}",
    )
    require(
        importlib.util.find_spec("akoma_ntoso.text_import") is not None,
        "akoma_ntoso.text_import (import_text) is not written yet",
    )
    from akoma_ntoso.text_import import import_text

    built = import_text(CONSTITUTION.read_text(encoding="utf-8"))
    with PETITIONS.open(encoding="utf-8", newline="") as table:
        references = [row["final_text_refs"] for row in csv.DictReader(table)]

    assert len(references) == 12
    assert {ref: outcomes(ref, built.units) for ref in references} == EXPECTED_PETITIONS

