"""Reading the live body into units: the numbers, labels and eIds drafters and readers see."""

import pytest
from lxml import etree

from akoma_ntoso import DocumentStructureError, NumberingError, find_unit, iter_units, read_units

SPANISH = {"title": "Constitución", "language": "spa"}


def body(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def labels(units) -> list[str]:
    return [unit.label for unit in iter_units(units)]


def eids(units) -> list[str]:
    return [unit.eid for unit in iter_units(units)]


def test_articles_are_numbered_from_one_in_document_order():
    units = read_units(
        body('<body><article guid="a"/><article guid="b"/><article guid="c"/></body>'), SPANISH
    )
    assert [u.num for u in units] == ["1", "2", "3"]
    assert labels(units) == ["Artículo 1", "Artículo 2", "Artículo 3"]
    assert eids(units) == ["art_1", "art_2", "art_3"]


def test_inserting_article_in_middle_renumbers_following():
    tree = body(
        """<body>
             <article guid="a"><heading>Ciudad</heading></article>
             <article guid="b"><heading>Agua</heading></article>
             <article guid="c"><heading>Vivienda</heading></article>
           </body>"""
    )
    new = etree.Element("article", guid="new")
    etree.SubElement(new, "heading").text = "Movilidad"
    tree.insert(1, new)

    units = read_units(tree, SPANISH)

    assert [(u.guid, u.label, u.eid) for u in units] == [
        ("a", "Artículo 1", "art_1"),
        ("new", "Artículo 2", "art_2"),
        ("b", "Artículo 3", "art_3"),
        ("c", "Artículo 4", "art_4"),
    ]


def test_article_numbering_continues_across_titles_and_chapters():
    units = read_units(
        body(
            """<body>
                 <title><chapter><article/><article/></chapter><chapter><article/></chapter></title>
                 <title><article/></title>
                 <article/>
               </body>"""
        ),
        SPANISH,
    )
    articles = [u for u in iter_units(units) if u.kind == "article"]
    assert [a.label for a in articles] == [f"Artículo {n}" for n in range(1, 6)]
    assert [a.eid for a in articles] == [f"art_{n}" for n in range(1, 6)]


def test_chapters_restart_per_title():
    units = read_units(
        body(
            """<body>
                 <title><chapter/><chapter/></title>
                 <title><chapter/><chapter/><chapter/></title>
               </body>"""
        ),
        SPANISH,
    )
    assert labels(units) == [
        "TÍTULO PRIMERO",
        "CAPÍTULO I",
        "CAPÍTULO II",
        "TÍTULO SEGUNDO",
        "CAPÍTULO I",
        "CAPÍTULO II",
        "CAPÍTULO III",
    ]
    assert eids(units) == [
        "title_1",
        "title_1__chp_I",
        "title_1__chp_II",
        "title_2",
        "title_2__chp_I",
        "title_2__chp_II",
        "title_2__chp_III",
    ]


def test_top_level_chapters_count_across_the_document():
    units = read_units(body("<body><chapter/><title><chapter/></title><chapter/></body>"), SPANISH)
    assert labels(units) == ["CAPÍTULO I", "TÍTULO PRIMERO", "CAPÍTULO I", "CAPÍTULO II"]
    assert eids(units) == ["chp_I", "title_1", "title_1__chp_I", "chp_II"]


def test_titles_read_like_the_mexico_city_constitution():
    units = read_units(body("<body>" + "<title/>" * 11 + "</body>"), SPANISH)
    assert units[0].label == "TÍTULO PRIMERO"
    assert units[7].label == "TÍTULO OCTAVO"
    assert units[10].label == "TÍTULO DÉCIMO PRIMERO"
    assert units[10].eid == "title_11"


def test_pinned_bis_does_not_advance_counter():
    units = read_units(body('<body><article/><article pin="1 Bis"/><article/></body>'), SPANISH)
    assert [u.num for u in units] == ["1", "1 Bis", "2"]
    assert [u.pinned for u in units] == [False, True, False]
    assert labels(units) == ["Artículo 1", "Artículo 1 Bis", "Artículo 2"]
    assert eids(units) == ["art_1", "art_1_Bis", "art_2"]


def test_pinned_chapter_unico_keeps_its_word():
    units = read_units(
        body(
            '<body><title/><title/><title><chapter pin="ÚNICO"><article/></chapter></title></body>'
        ),
        SPANISH,
    )
    chapter = units[2].children[0]
    assert chapter.label == "CAPÍTULO ÚNICO"
    assert chapter.eid == "title_3__chp_UNICO"


def test_blank_pin_is_no_pin():
    units = read_units(body('<body><article pin=" "/></body>'), SPANISH)
    assert (units[0].num, units[0].pinned) == ("1", False)


def test_lower_units_restart_inside_each_parent():
    units = read_units(
        body(
            """<body>
                 <article><paragraph/><paragraph/></article>
                 <article><paragraph><point/><point/></paragraph><paragraph><point/></paragraph></article>
               </body>"""
        ),
        SPANISH,
    )
    assert labels(units) == ["Artículo 1", "A.", "B.", "Artículo 2", "A.", "I.", "II.", "B.", "I."]


def test_each_kind_is_counted_separately_within_a_parent():
    units = read_units(
        body(
            """<body><article>
                 <paragraph/><subparagraph/><paragraph/><point/><subparagraph/>
               </article></body>"""
        ),
        SPANISH,
    )
    assert [u.label for u in units[0].children] == ["A.", "1.", "B.", "I.", "2."]


def test_eids_follow_naming_convention():
    units = read_units(
        body(
            """<body>
                 <preamble><p>Nosotros, el pueblo…</p></preamble>
                 <title>
                   <chapter>
                     <article pin="16"><paragraph/><paragraph>
                       <subparagraph/><subparagraph/><subparagraph>
                         <point/><point><indent/><indent/></point>
                       </subparagraph>
                     </paragraph></article>
                   </chapter>
                 </title>
                 <title><chapter/></title>
               </body>"""
        ),
        SPANISH,
    )
    assert eids(units) == [
        "preamble",
        "title_1",
        "title_1__chp_I",
        "art_16",
        "art_16__para_A",
        "art_16__para_B",
        "art_16__para_B__subpara_1",
        "art_16__para_B__subpara_2",
        "art_16__para_B__subpara_3",
        "art_16__para_B__subpara_3__point_I",
        "art_16__para_B__subpara_3__point_II",
        "art_16__para_B__subpara_3__point_II__indent_a",
        "art_16__para_B__subpara_3__point_II__indent_b",
        "title_2",
        "title_2__chp_I",
    ]


def test_eid_of_a_pin_keeps_only_safe_characters():
    units = read_units(
        body('<body><article pin="16  Bis"/><article pin="3-A."/><article pin="(ter)"/></body>'),
        SPANISH,
    )
    assert eids(units) == ["art_16_Bis", "art_3-A", "art_ter"]


def test_duplicate_eids_get_numbered_suffixes_in_document_order():
    units = read_units(
        body(
            """<body>
                 <article pin="16 Bis"><paragraph/></article>
                 <article pin="16 Bis"><paragraph/></article>
                 <article pin="16 Bis"/>
               </body>"""
        ),
        SPANISH,
    )
    assert eids(units) == [
        "art_16_Bis",
        "art_16_Bis__para_A",
        "art_16_Bis_2",
        "art_16_Bis_2__para_A",
        "art_16_Bis_3",
    ]
    assert len(set(eids(units))) == len(eids(units))


def test_a_pin_equal_to_a_derived_number_does_not_share_its_eid():
    units = read_units(body('<body><article/><article pin="1"/></body>'), SPANISH)
    assert eids(units) == ["art_1", "art_1_2"]


def test_meta_numbering_overrides_the_default_style():
    tree = body("<body><article><paragraph/><paragraph/></article></body>")
    units = read_units(tree, {"language": "spa", "numbering": {"paragraph": "arabic"}})
    assert labels(units) == ["Artículo 1", "1.", "2."]
    assert eids(units) == ["art_1", "art_1__para_1", "art_1__para_2"]


def test_meta_numbering_may_arrive_as_json_text():
    tree = body("<body><article><point/></article></body>")
    units = read_units(tree, {"language": "spa", "numbering": '{"point": "lower-roman"}'})
    assert labels(units) == ["Artículo 1", "i."]


def test_bad_numbering_meta_is_reported():
    tree = body("<body><article/></body>")
    with pytest.raises(NumberingError, match="not valid JSON"):
        read_units(tree, {"numbering": "{point"})
    with pytest.raises(NumberingError, match="must map unit kinds to text"):
        read_units(tree, {"numbering": ["arabic"]})
    with pytest.raises(NumberingError, match="'section'"):
        read_units(tree, {"numbering": {"section": "arabic"}})


def test_title_eids_use_the_position_whatever_the_style():
    units = read_units(
        body("<body><title/><title/></body>"), {"numbering": {"title": "upper-roman"}}
    )
    assert labels(units) == ["TÍTULO I", "TÍTULO II"]
    assert eids(units) == ["title_1", "title_2"]


def test_english_document_labels():
    units = read_units(
        body("<body><title><chapter><article><paragraph/></article></chapter></title></body>"),
        {"title": "Constitution", "language": "eng"},
    )
    assert labels(units) == ["TITLE 1", "CHAPTER I", "Article 1", "A."]


def test_language_defaults_to_spanish():
    assert labels(read_units(body("<body><title/></body>"), {})) == ["TÍTULO PRIMERO"]


def test_unit_text_is_its_own_paragraphs_not_its_sub_units():
    units = read_units(
        body(
            """<body><article guid="a">
                 <heading>Derecho al agua</heading>
                 <p>Toda persona tiene derecho al agua.</p>
                 <p>La Ciudad garantizará su acceso.</p>
                 <paragraph><p>Texto del apartado.</p></paragraph>
               </article></body>"""
        ),
        SPANISH,
    )
    article = units[0]
    assert article.heading == "Derecho al agua"
    assert article.text == "Toda persona tiene derecho al agua.\nLa Ciudad garantizará su acceso."
    assert article.children[0].text == "Texto del apartado."
    assert article.children[0].heading == ""


def test_preamble_has_no_number_or_label():
    units = read_units(body("<body><preamble><p>Nosotros</p></preamble><article/></body>"), SPANISH)
    preamble = units[0]
    assert (preamble.kind, preamble.num, preamble.label, preamble.eid) == (
        "preamble",
        "",
        "",
        "preamble",
    )
    assert preamble.text == "Nosotros"
    assert units[1].label == "Artículo 1"


def test_empty_text_blocks_read_as_empty_text():
    units = read_units(body("<body><article><heading/><p/><p>b</p></article></body>"), SPANISH)
    assert (units[0].heading, units[0].text) == ("", "\nb")


def test_unit_without_guid_is_read_with_empty_guid():
    assert read_units(body("<body><article/></body>"), SPANISH)[0].guid == ""


def test_iter_units_walks_depth_first_in_document_order():
    units = read_units(
        body(
            """<body><title><article><paragraph/></article></title>
                 <article><point/></article></body>"""
        ),
        SPANISH,
    )
    assert [u.label for u in iter_units(units)] == [
        "TÍTULO PRIMERO",
        "Artículo 1",
        "A.",
        "Artículo 2",
        "I.",
    ]


def test_find_unit_by_eid_or_guid():
    guid = "9b2e7c1a-3f4d-4e5b-8a6c-7d8e9f0a1b2c"
    units = read_units(
        body(f'<body><article/><article><paragraph guid="{guid}"/></article></body>'), SPANISH
    )
    assert find_unit(units, "art_2__para_A").guid == guid
    assert find_unit(units, guid).eid == "art_2__para_A"
    assert find_unit(units, "art_3") is None
    assert find_unit(units, "") is None  # units without a GUID are not found by ""


def test_numbers_follow_the_unit_when_it_moves():
    tree = body('<body><article guid="a"/><article guid="b"/></body>')
    tree.append(tree[0])  # move article "a" to the end
    units = read_units(tree, SPANISH)
    assert [(u.guid, u.label) for u in units] == [("b", "Artículo 1"), ("a", "Artículo 2")]


# --- what is outside the model is refused, with the place named -------------------------


def structure_error(xml: str) -> DocumentStructureError:
    with pytest.raises(DocumentStructureError) as error:
        read_units(body(xml), SPANISH)
    return error.value


def test_unknown_element_is_named_with_its_position():
    error = structure_error("<body><article/><article><section/></article></body>")
    assert "<section>" in str(error)
    assert "/body/article[2]/section[1]" in str(error)
    assert error.path == (1, 0)


def test_unit_in_the_wrong_place_is_refused():
    error = structure_error("<body><article><chapter/></article></body>")
    assert "unexpected unit <chapter> at /body/article[1]/chapter[1]" in str(error)
    assert "paragraph, subparagraph, point" in str(error)
    error = structure_error("<body><paragraph/></body>")
    assert "<paragraph> at /body/paragraph[1]" in str(error)


def test_text_blocks_at_top_level_are_refused():
    assert "<p> at /body/p[1]" in str(structure_error("<body><p>loose</p></body>"))


def test_preamble_must_come_first():
    error = structure_error("<body><article/><preamble/></body>")
    assert "preamble must be the first" in str(error)
    assert error.path == (1,)


def test_preamble_holds_no_units_and_takes_no_pin():
    assert "<article>" in str(structure_error("<body><preamble><article/></preamble></body>"))
    assert "cannot be pinned" in str(structure_error('<body><preamble pin="1"/></body>'))


def test_heading_must_come_first_and_only_once():
    assert "must be the first" in str(
        structure_error("<body><article><p/><heading/></article></body>")
    )
    assert "must be the first" in str(
        structure_error("<body><article><heading/><heading/></article></body>")
    )


def test_paragraphs_come_before_sub_units():
    error = structure_error("<body><article><paragraph/><p>late</p></article></body>")
    assert "comes after a sub-unit" in str(error)
    assert error.path == (0, 1)


def test_text_outside_text_blocks_is_refused():
    error = structure_error("<body><article>stray<p/></article></body>")
    assert "text directly inside <article> at /body/article[1]" in str(error)


def test_unexpected_attributes_are_refused():
    assert "attribute(s) style" in str(structure_error('<body><article style="x"/></body>'))
    assert "text blocks carry none" in str(
        structure_error('<body><article><p class="x"/></article></body>')
    )


def test_text_block_with_elements_other_than_inline_marks_is_refused():
    error = structure_error("<body><article><p>a <span>bold</span></p></article></body>")
    assert "may hold only text and the inline marks" in str(error)
    # Inline marks are text: the unit reads plain (docs/document-model.md, "Inline markup").
    units = read_units(body("<body><article><p>a <b>bold</b> <i>word</i></p></article></body>"), SPANISH)
    assert units[0].text == "a bold word"


def test_root_must_be_body():
    assert "must be <body>" in str(structure_error("<document/>"))


def test_numbers_beyond_a_style_are_reported():
    with pytest.raises(NumberingError, match="99"):
        read_units(body("<body>" + "<title/>" * 100 + "</body>"), SPANISH)
