"""Numbering styles and labels: how a drafter sees unit numbers, and how importers read them."""

import pytest

from akoma_ntoso import (
    NumberingError,
    default_style,
    format_label,
    format_number,
    parse_number,
    resolve_styles,
)


@pytest.mark.parametrize(
    ("style", "number", "text"),
    [
        ("arabic", 16, "16"),
        ("upper-alpha", 1, "A"),
        ("upper-alpha", 26, "Z"),
        ("upper-alpha", 27, "AA"),
        ("upper-alpha", 28, "AB"),
        ("upper-alpha", 52, "AZ"),
        ("upper-alpha", 53, "BA"),
        ("upper-alpha", 702, "ZZ"),
        ("upper-alpha", 703, "AAA"),
        ("lower-alpha", 1, "a"),
        ("lower-alpha", 27, "aa"),
        ("upper-roman", 4, "IV"),
        ("upper-roman", 14, "XIV"),
        ("upper-roman", 1999, "MCMXCIX"),
        ("upper-roman", 3999, "MMMCMXCIX"),
        ("lower-roman", 9, "ix"),
        ("ordinal-es", 1, "PRIMERO"),
        ("ordinal-es", 6, "SEXTO"),
        ("ordinal-es", 7, "SÉPTIMO"),
        ("ordinal-es", 8, "OCTAVO"),
        ("ordinal-es", 10, "DÉCIMO"),
        ("ordinal-es", 11, "DÉCIMO PRIMERO"),
        ("ordinal-es", 20, "VIGÉSIMO"),
        ("ordinal-es", 39, "TRIGÉSIMO NOVENO"),
        ("ordinal-es", 42, "CUADRAGÉSIMO SEGUNDO"),
        ("ordinal-es", 99, "NONAGÉSIMO NOVENO"),
    ],
)
def test_numbers_are_written_and_read_back_in_each_style(style, number, text):
    assert format_number(style, number) == text
    assert parse_number(style, text) == number


def test_mexico_city_constitution_titles_read_as_ordinals():
    titles = ["PRIMERO", "SEGUNDO", "TERCERO", "CUARTO", "QUINTO", "SEXTO", "SÉPTIMO", "OCTAVO"]
    assert [format_number("ordinal-es", n) for n in range(1, 9)] == titles


@pytest.mark.parametrize(
    ("style", "last"),
    [
        ("arabic", 1000),
        ("upper-alpha", 1000),
        ("lower-alpha", 1000),
        ("upper-roman", 3999),
        ("lower-roman", 3999),
        ("ordinal-es", 99),
    ],
)
def test_every_number_round_trips(style, last):
    for number in range(1, last + 1):
        assert parse_number(style, format_number(style, number)) == number


def test_roman_round_trip_examples():
    assert parse_number("upper-roman", "XIV") == 14
    assert format_number("upper-roman", parse_number("upper-roman", "XLIX")) == "XLIX"


def test_alpha_numbering_is_bijective_after_z():
    assert [format_number("upper-alpha", n) for n in range(25, 30)] == ["Y", "Z", "AA", "AB", "AC"]
    assert parse_number("upper-alpha", "AB") == 28


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("SEXTO", 6),
        ("Sexto", 6),
        ("  DÉCIMO PRIMERO ", 11),
        ("DECIMO  PRIMERO", 11),
        ("DECIMOPRIMERO", 11),
        ("decimoséptimo", 17),
        ("UNDÉCIMO", 11),
        ("DUODÉCIMO", 12),
        ("VIGÉSIMO SÉTIMO", 27),
    ],
)
def test_spanish_ordinals_are_read_as_drafters_write_them(text, number):
    assert parse_number("ordinal-es", text) == number


@pytest.mark.parametrize(
    ("style", "text"),
    [
        ("arabic", ""),
        ("arabic", "0"),
        ("arabic", "-3"),
        ("arabic", "1.5"),
        ("arabic", "٣"),  # an Arabic-Indic digit is not what "arabic" style writes
        ("upper-alpha", "A1"),
        ("upper-alpha", "ab"),
        ("lower-alpha", "AB"),
        ("upper-alpha", "Ñ"),
        ("upper-roman", "IIII"),
        ("upper-roman", "VX"),
        ("upper-roman", "IL"),
        ("upper-roman", "MMMM"),
        ("upper-roman", "XIVV"),
        ("upper-roman", "xiv"),
        ("lower-roman", "XIV"),
        ("upper-roman", "ÚNICO"),
        ("ordinal-es", "CENTÉSIMO"),
        ("ordinal-es", "SEXTO."),
        ("ordinal-es", "PRIMERO DÉCIMO"),
        ("ordinal-es", ""),
    ],
)
def test_invalid_numbers_are_rejected_with_the_text_and_style_named(style, text):
    with pytest.raises(NumberingError) as error:
        parse_number(style, text)
    assert repr(text) in str(error.value)
    assert style in str(error.value)


@pytest.mark.parametrize(
    ("style", "number", "complaint"),
    [
        ("arabic", 0, "from 1 up"),
        ("upper-alpha", -1, "from 1 up"),
        ("upper-roman", 4000, "3999"),
        ("ordinal-es", 100, "99"),
        ("greek", 1, "unknown numbering style 'greek'"),
    ],
)
def test_numbers_that_cannot_be_written_are_refused(style, number, complaint):
    with pytest.raises(NumberingError, match=complaint):
        format_number(style, number)


def test_unknown_style_is_refused_when_reading():
    with pytest.raises(NumberingError, match="unknown numbering style 'klingon'"):
        parse_number("klingon", "1")


@pytest.mark.parametrize(
    ("kind", "num", "label"),
    [
        ("title", "PRIMERO", "TÍTULO PRIMERO"),
        ("chapter", "I", "CAPÍTULO I"),
        ("chapter", "ÚNICO", "CAPÍTULO ÚNICO"),
        ("article", "16", "Artículo 16"),
        ("article", "16 Bis", "Artículo 16 Bis"),
        ("paragraph", "A", "A."),
        ("subparagraph", "1", "1."),
        ("point", "I", "I."),
        ("indent", "a", "a)"),
    ],
)
def test_spanish_labels(kind, num, label):
    assert format_label(kind, num, "spa") == label


@pytest.mark.parametrize(
    ("kind", "num", "label"),
    [
        ("title", "1", "TITLE 1"),
        ("chapter", "I", "CHAPTER I"),
        ("article", "16", "Article 16"),
        ("paragraph", "A", "A."),
        ("subparagraph", "1", "1."),
        ("point", "I", "I."),
        ("indent", "a", "a)"),
    ],
)
def test_english_labels(kind, num, label):
    assert format_label(kind, num, "eng") == label


def test_default_styles_follow_the_document_model():
    assert resolve_styles("spa") == {
        "title": "ordinal-es",
        "chapter": "upper-roman",
        "article": "arabic",
        "paragraph": "upper-alpha",
        "subparagraph": "arabic",
        "point": "upper-roman",
        "indent": "lower-alpha",
        "transitional": "ordinal-es",  # transitory articles: PRIMERO, SEGUNDO…
        "attachment": "arabic",  # schedules: ANEXO 1, ANEXO 2…
    }


def test_english_titles_are_numbered_in_figures():
    assert default_style("title", "eng") == "arabic"
    assert default_style("chapter", "eng") == "upper-roman"
    assert default_style("transitional", "eng") == "arabic"


def test_meta_numbering_overrides_a_default():
    styles = resolve_styles("spa", {"paragraph": "lower-roman"})
    assert styles["paragraph"] == "lower-roman"
    assert styles["point"] == "upper-roman"


def test_overrides_naming_unknown_kinds_or_styles_are_refused():
    with pytest.raises(NumberingError, match="'section'"):
        resolve_styles("spa", {"section": "arabic"})
    with pytest.raises(NumberingError, match="'preamble'"):
        resolve_styles("spa", {"preamble": "arabic"})
    with pytest.raises(NumberingError, match="unknown numbering style 'roman'"):
        resolve_styles("spa", {"point": "roman"})


def test_unsupported_language_is_named():
    with pytest.raises(NumberingError, match="'ita'"):
        format_label("article", "1", "ita")
    with pytest.raises(NumberingError, match="'ita'"):
        resolve_styles("ita")


def test_preamble_has_no_label_or_style():
    with pytest.raises(NumberingError, match="'preamble'"):
        format_label("preamble", "", "spa")
    with pytest.raises(NumberingError, match="'preamble'"):
        default_style("preamble")
