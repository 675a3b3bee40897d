"""How unit numbers are written and read back: numbering styles, default styles and labels.

A number is derived from a unit's position (see `units.read_units`); this module only turns
the integer into the text a reader sees ("XIV", "AB", "DÉCIMO PRIMERO"), puts it into the
unit's label ("CAPÍTULO XIV", "Artículo 16", "a)") and, for importers, reads such text back
into the integer.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Final, Literal, get_args

from .errors import NumberingError

NumberStyle = Literal[
    "arabic", "upper-alpha", "lower-alpha", "upper-roman", "lower-roman", "ordinal-es"
]
STYLES: Final[tuple[str, ...]] = get_args(NumberStyle)

Language = Literal["spa", "eng", "por", "fra"]
LANGUAGES: Final[tuple[str, ...]] = get_args(Language)

#: The kinds of unit that carry a number, outermost first (the preamble has none).
NUMBERED_KINDS: Final[tuple[str, ...]] = (
    "title",
    "chapter",
    "article",
    "paragraph",
    "subparagraph",
    "point",
    "indent",
)

#: Not a unit kind: the style slot of the articles inside a `transitional` group (transitory
#: articles), which count apart from the body's articles: PRIMERO, SEGUNDO… ("transitional"
#: in meta's `numbering`). The group itself carries no number.
TRANSITIONAL_ARTICLES: Final = "transitional"

#: A schedule or annex (`attachment` unit): numbered apart, after the transitional provisions,
#: "ANEXO 1" / "Schedule 1". Outside NUMBERED_KINDS, which are the body's hierarchy.
ATTACHMENTS: Final = "attachment"

#: Every key of a style table: the numbered kinds, then the transitory articles' slot, then
#: schedules.
STYLED: Final[tuple[str, ...]] = (*NUMBERED_KINDS, TRANSITIONAL_ARTICLES, ATTACHMENTS)

_DEFAULT_STYLES: Final[Mapping[str, str]] = {
    TRANSITIONAL_ARTICLES: "ordinal-es",
    "title": "ordinal-es",
    "chapter": "upper-roman",
    "article": "arabic",
    "paragraph": "upper-alpha",
    "subparagraph": "arabic",
    "point": "upper-roman",
    "indent": "lower-alpha",
    ATTACHMENTS: "arabic",
}

# English titles are numbered "TITLE 1": Spanish ordinal words make no sense there.
_ENGLISH_DEFAULT_STYLES: Final[Mapping[str, str]] = {**_DEFAULT_STYLES, "title": "arabic", TRANSITIONAL_ARTICLES: "arabic"}

# Portuguese and French laws number titles in roman numerals ("TÍTULO I", "TITRE II") and
# transitory provisions in digits; a Portuguese article's paragraphs are "§ 1", its incisos "I -";
# a French article's parts "I.", its items "1°".
_LANGUAGE_DEFAULT_STYLES: Final[Mapping[str, Mapping[str, str]]] = {
    "spa": _DEFAULT_STYLES,
    "eng": _ENGLISH_DEFAULT_STYLES,
    "por": {**_DEFAULT_STYLES, "title": "upper-roman", TRANSITIONAL_ARTICLES: "arabic", "paragraph": "arabic"},
    "fra": {**_DEFAULT_STYLES, "title": "upper-roman", TRANSITIONAL_ARTICLES: "arabic", "paragraph": "upper-roman",
            "point": "arabic"},
}

_SHORT_LABELS: Final[Mapping[str, str]] = {
    "paragraph": "{}.",
    "subparagraph": "{}.",
    "point": "{}.",
    "indent": "{})",
}

_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "spa": {
        "title": "TÍTULO {}",
        "chapter": "CAPÍTULO {}",
        "article": "Artículo {}",
        TRANSITIONAL_ARTICLES: "Artículo {} transitorio",
        ATTACHMENTS: "ANEXO {}",
        **_SHORT_LABELS,
    },
    "eng": {
        "title": "TITLE {}",
        "chapter": "CHAPTER {}",
        "article": "Article {}",
        TRANSITIONAL_ARTICLES: "Transitional article {}",
        ATTACHMENTS: "Schedule {}",
        **_SHORT_LABELS,
    },
    "por": {
        "title": "TÍTULO {}",
        "chapter": "CAPÍTULO {}",
        "article": "Art. {}",
        TRANSITIONAL_ARTICLES: "Art. {} (transitório)",
        ATTACHMENTS: "ANEXO {}",
        **_SHORT_LABELS,
        "paragraph": "§ {}",
        "point": "{} -",
    },
    "fra": {
        "title": "TITRE {}",
        "chapter": "CHAPITRE {}",
        "article": "Article {}",
        TRANSITIONAL_ARTICLES: "Article {} (transitoire)",
        ATTACHMENTS: "ANNEXE {}",
        **_SHORT_LABELS,
        "subparagraph": "{}°",
    },
}


def default_style(kind: str, language: str = "spa") -> str:
    """The style a `kind` of unit is numbered in when the document's meta does not override it."""
    _check_language(language)
    defaults = _LANGUAGE_DEFAULT_STYLES[language]
    try:
        return defaults[kind]
    except KeyError:
        raise NumberingError(
            f"a {kind!r} is not numbered; numbered kinds are {', '.join(STYLED)}"
        ) from None


def resolve_styles(language: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The style of every numbered kind (and of transitory articles): the defaults for
    `language`, then meta's `numbering`."""
    styles = {kind: default_style(kind, language) for kind in STYLED}
    for kind, style in (overrides or {}).items():
        if kind not in styles:
            raise NumberingError(
                f"numbering given for {kind!r}, which is not numbered; "
                f"numbered kinds are {', '.join(STYLED)}"
            )
        styles[kind] = _check_style(style)
    return styles


def format_label(kind: str, num: str, language: str = "spa", labels: Mapping[str, str] | None = None) -> str:
    """The label a reader sees for a unit numbered `num`: "TÍTULO PRIMERO", "Artículo 16 Bis".

    `labels` (meta's `labels`, see `label_templates`) replaces the language's label of a kind with
    the document's own: an imported act keeps "PART 1", "SEC. 2." or "Section 3" as its source
    names them."""
    _check_language(language)
    if labels and kind in labels:
        return labels[kind].replace("{}", num, 1)
    try:
        template = _LABELS[language][kind]
    except KeyError:
        raise NumberingError(
            f"a {kind!r} has no label; labelled kinds are {', '.join(STYLED)}"
        ) from None
    return template.format(num)


def meta_mapping(value: object, key: str, example: str, strict: bool = True) -> Mapping[str, str]:
    """A meta entry that maps unit kinds to strings (`numbering`, `labels`), given as a JSON string
    or a mapping; `example` shows the shape in the error. Not `strict`: what is not such a map
    gives nothing, and entries that are not text are left out, instead of an error."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            if not strict:
                return {}
            raise NumberingError(f"meta '{key}' is not valid JSON: {error}") from None
    if isinstance(value, Mapping) and not strict:
        return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        if not strict:
            return {}
        raise NumberingError(f"meta '{key}' must map unit kinds to text, e.g. {example}")
    return value


def label_templates(value: object) -> dict[str, str]:
    """Meta's `labels`: each labelled kind to a template with one "{}" where the number goes, e.g.
    {"title": "PART {}", "article": "SEC. {}."}. Entries that are not such (an unknown kind, no or
    two "{}", over 40 characters, not text) are left out, as the browser leaves them out: the kind
    keeps its language's label. A value that is no mapping (bad JSON) gives no labels at all: a
    peer's bad write must not make the document unreadable."""
    return {kind: template for kind, template in meta_mapping(value, "labels", "", strict=False).items()
            if kind in STYLED and template.count("{}") == 1 and len(template) <= 40}


def format_number(style: str, number: int) -> str:
    """Write the positive integer `number` in `style`: 14 → "XIV", 28 → "AB", 6 → "SEXTO"."""
    _check_style(style)
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise NumberingError(f"only whole numbers from 1 up can be numbered, not {number!r}")
    if style == "arabic":
        return str(number)
    if style in ("upper-alpha", "lower-alpha"):
        letters = _alpha(number)
        return letters if style == "upper-alpha" else letters.lower()
    if style in ("upper-roman", "lower-roman"):
        numeral = _roman(number)
        return numeral if style == "upper-roman" else numeral.lower()
    return _ordinal_es(number)


def parse_number(style: str, text: str) -> int:
    """Read back the integer that `format_number(style, …)` writes as `text`.

    Roman and alphabetic numbers must be written canonically and in the style's case
    ("xiv" is not an upper-roman number, "IIII" is no roman number at all). Spanish ordinals
    are read the way drafters write them: any case, with or without accents, "DÉCIMO PRIMERO",
    "DECIMOPRIMERO" or "UNDÉCIMO". Surrounding whitespace is ignored.
    """
    _check_style(style)
    stripped = text.strip()
    if style == "arabic":
        if stripped.isascii() and stripped.isdigit() and int(stripped) > 0:
            return int(stripped)
    elif style in ("upper-alpha", "lower-alpha"):
        letters = stripped.upper()
        if re.fullmatch("[A-Z]+", letters) and _in_case(style, stripped):
            return _parse_alpha(letters)
    elif style in ("upper-roman", "lower-roman"):
        number = _parse_roman(stripped.upper())
        if number is not None and _in_case(style, stripped):
            return number
    else:
        number = _ORDINALS_ES.get(_ordinal_key(stripped))
        if number is not None:
            return number
    raise NumberingError(f"{text!r} is not a number in the {style} style")


def _check_style(style: str) -> str:
    if style not in STYLES:
        raise NumberingError(f"unknown numbering style {style!r}; styles are {', '.join(STYLES)}")
    return style


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise NumberingError(
            f"no labels for language {language!r}; supported languages are {', '.join(LANGUAGES)}"
        )


def _in_case(style: str, text: str) -> bool:
    return text.isupper() if style.startswith("upper-") else text.islower()


# Bijective base 26: A … Z, AA, AB … (there is no zero digit, so Z + 1 = AA).
def _alpha(number: int) -> str:
    letters = []
    while number:
        number, digit = divmod(number - 1, 26)
        letters.append(chr(ord("A") + digit))
    return "".join(reversed(letters))


def _parse_alpha(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (ord(letter) - ord("A") + 1)
    return number


_ROMAN_DIGITS: Final[tuple[tuple[int, str], ...]] = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)
_ROMAN_MAX: Final = 3999


def _roman(number: int) -> str:
    if number > _ROMAN_MAX:
        raise NumberingError(f"roman numerals stop at {_ROMAN_MAX}; {number} cannot be written")
    numeral = []
    for value, digits in _ROMAN_DIGITS:
        count, number = divmod(number, value)
        numeral.append(digits * count)
    return "".join(numeral)


def _parse_roman(numeral: str) -> int | None:
    if not re.fullmatch("[MDCLXVI]+", numeral):
        return None
    number, position = 0, 0
    for value, digits in _ROMAN_DIGITS:
        while numeral.startswith(digits, position):
            number += value
            position += len(digits)
    # Only the canonical spelling is a roman number: rejects "IIII", "VX", "IL", "MMMM".
    if position != len(numeral) or number > _ROMAN_MAX or _roman(number) != numeral:
        return None
    return number


# The forms of the Constitución Política de la Ciudad de México: "TÍTULO OCTAVO",
# transitorios "DÉCIMO PRIMERO" … "VIGÉSIMO" … "TRIGÉSIMO NOVENO".
_UNITS_ES: Final = (
    "",
    "PRIMERO",
    "SEGUNDO",
    "TERCERO",
    "CUARTO",
    "QUINTO",
    "SEXTO",
    "SÉPTIMO",
    "OCTAVO",
    "NOVENO",
)
_TENS_ES: Final = (
    "",
    "DÉCIMO",
    "VIGÉSIMO",
    "TRIGÉSIMO",
    "CUADRAGÉSIMO",
    "QUINCUAGÉSIMO",
    "SEXAGÉSIMO",
    "SEPTUAGÉSIMO",
    "OCTOGÉSIMO",
    "NONAGÉSIMO",
)
_ORDINAL_ES_MAX: Final = 99


def _ordinal_es(number: int) -> str:
    if number > _ORDINAL_ES_MAX:
        raise NumberingError(
            f"Spanish ordinal words stop at {_ORDINAL_ES_MAX}; {number} cannot be written"
        )
    tens, units = divmod(number, 10)
    return " ".join(word for word in (_TENS_ES[tens], _UNITS_ES[units]) if word)


def _ordinal_key(text: str) -> str:
    """Case, accents and runs of spaces removed: "Décimo  primero" reads as "DECIMO PRIMERO"."""
    decomposed = unicodedata.normalize("NFD", text.upper())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


def _ordinal_readings() -> dict[str, int]:
    readings: dict[str, int] = {}
    for number in range(1, _ORDINAL_ES_MAX + 1):
        key = _ordinal_key(_ordinal_es(number))
        readings[key] = number
        readings[key.replace(" ", "")] = number  # "DECIMOPRIMERO", as the RAE now spells it
    # Other spellings Spanish drafting uses: undécimo, duodécimo, sétimo.
    readings.update({"UNDECIMO": 11, "DUODECIMO": 12})
    for key, number in list(readings.items()):
        if "SEPTIMO" in key:
            readings[key.replace("SEPTIMO", "SETIMO")] = number
    return readings


_ORDINALS_ES: Final[Mapping[str, int]] = _ordinal_readings()
