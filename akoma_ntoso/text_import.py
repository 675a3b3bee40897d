"""The plain text of a constitution or ordinance, read into units and built into a live document.

`import_text` reads text laid out the way official compilations print it, one paragraph per
line, and hands the units it finds to `builder.build`, which numbers, pins and identifies them.
`parse_text` stops before building, for callers and tests that want the `Draft` tree itself.

Spanish (`spa`) texts mark their units this way:

* `PREÁMBULO`, then its paragraphs;
* `TÍTULO PRIMERO`, `CAPÍTULO I`, `CAPÍTULO ÚNICO`, each followed by its heading line;
* `Artículo 16` (`ARTÍCULO 16`, `Artículo 16 Bis`, `Artículo 1o.`, `Artículo 1°`), followed by a
  heading line when the next line is short and is no marker, or with its text after `.` / `.-`;
* apartados `A. Medio Ambiente` (a heading when short and without a final period, else text),
  numerales `1. text`, fracciones `I. text`, incisos `a) text`.

English (`eng`) texts: `PREAMBLE`; `TITLE 1` / `PART 1`; `CHAPTER 1` / `CHAPTER I`; `Article 1` /
`Section 1` (heading on the next line or after `Section 1.`); `(1)` paragraphs, `(a)`
subparagraphs, `(i)` points, `(A)` indents, and the labels the editor shows (`A.`, `1.`, `a.`,
`I.`, `a)`), so that `render.render_text` output imports back to the same units.

Portuguese (`por`): `PREÂMBULO`; `TÍTULO I`, `CAPÍTULO I`; `Art. 1º` / `Artigo 1.º` with its text on
the same line (never a heading), `Art. 5º-A`; `§ 1º` paragraphs and `Parágrafo único.`, incisos
`I -`, alíneas `a)`, itens `1.`; `ATO DAS DISPOSIÇÕES CONSTITUCIONAIS TRANSITÓRIAS` opens the
transitory articles, numbered `Art. 1º` again. French (`fra`): `PRÉAMBULE`; `TITRE PREMIER` /
`TITRE Ier` / `TITRE II`, `CHAPITRE Ier`; `Article 1er`, `Article premier`, `Art. 5. -`; `I. –`
paragraphs, `1°` items, `a)`; `DISPOSITIONS TRANSITOIRES`. In both, a line ending with a full stop
after an article's number is its first paragraph, never its heading.

In any language, a text that names no article at all but numbers its sections `1. Definitions`,
`2. Application`… (at least two, in order, each a heading) reads those lines as its articles, and
says so in a finding. The language is detected from the unit markers and common words when not
given (`language=`), Spanish when nothing tells.

A numbered marker goes under the nearest open unit that may hold it (`ALLOWED_CHILDREN`). A
marker that reads two ways (`I.`: apartado I after `H.`, or fracción I) takes the reading the
next marker continues (`I.` then `II.`), else the one that continues an open sequence, else the
innermost place. Unnumbered lines are paragraphs of the innermost open unit. Whatever is not
constitutional text, or cannot be carried over as the source has it, is named in a `Finding`:
the opening before the preamble, reform notes in square brackets, the transitory articles, text
the model can only hold somewhere else. Every non-empty line ends up in a unit or in a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from .builder import Built, Draft, Finding, build
from .errors import NothingToImport, NumberingError
from .numbering import format_number, parse_number
from .units import ALLOWED_CHILDREN, ATTACHMENT, TOP_LEVEL_KINDS, UNIT_KINDS, UNNUMBERED, Block, Table


@dataclass
class ParsedText:
    """The units a text gives, before building: what `import_text` hands to `build`.

    `language` is the one given or detected, `title` the document title (given, or taken from
    the opening), `findings` what the parser could not carry over as the source has it.
    """

    drafts: list[Draft]
    language: str
    title: str
    findings: list[Finding]
    labels: dict[str, str] = field(default_factory=dict)  # the text's own labels (meta's `labels`)


def import_text(text: str, *, language: str | None = None, title: str | None = None) -> Built:
    """Read the plain `text` of a constitution or ordinance into a live document.

    `language` ("spa", "eng", "por" or "fra") is detected when not given; `title` is taken from the text's
    opening when not given. Raises `DocumentStructureError` (from `build`) only for a unit tree
    the model forbids, which the parser does not produce.
    """
    parsed = parse_text(text, language=language, title=title)
    if not any(draft.kind != "preamble" for draft in parsed.drafts):
        examples = {"spa": "“TÍTULO PRIMERO”, “CAPÍTULO I”, “Artículo 1”",
                    "por": "“TÍTULO I”, “CAPÍTULO I”, “Art. 1º”",
                    "fra": "“TITRE PREMIER”, “CHAPITRE Ier”, “Article 1er”"}.get(
            parsed.language, "“PART 1”, “CHAPTER 1”, “Section 1”, “Article 1”, “1. Definitions”")
        raise NothingToImport(f"no title, chapter or article was recognised in the text (lines such as {examples} "
                              "open them): nothing was imported")
    return build(
        parsed.drafts, language=parsed.language, title=parsed.title, findings=parsed.findings, labels=parsed.labels
    )


def parse_text(text: str, *, language: str | None = None, title: str | None = None) -> ParsedText:
    """Read `text` into `Draft` units and findings, without building the live body."""
    language = language or detect_language(text)
    if language not in _CONVENTIONS:
        raise NumberingError(
            f"no plain-text conventions for language {language!r}; "
            f"supported languages are {', '.join(_CONVENTIONS)}"
        )
    conventions = _CONVENTIONS[language]
    lines = _lines(text)
    findings: list[Finding] = []
    sections = _bare_sections(lines, conventions)
    if sections:
        conventions = replace(conventions, sections=frozenset(line.text for line in sections))
        findings.append(Finding(f"line {sections[0].number}", (
            f"the text names no article ({conventions.names['article']} 1…): its {_count(len(sections), 'line')} "
            f"of the form “1. Heading”, numbered 1 to {len(sections)} in order "
            f"({_quote(sections[0].text, 40)}…), were read as its articles, each line's text the heading"),
            "text.bare_sections", (("article", conventions.names["article"]), ("count", len(sections)),
                                   ("quote", _quote(sections[0].text, 40)))))

    labels: dict[str, str] = {}
    inverted = _inverted_containers(lines, conventions)
    if inverted:
        conventions = replace(conventions, swapped=True)
        (outer, first_outer), (inner, first_inner) = inverted
        labels = {"title": f"{outer} {{}}", "chapter": f"{inner} {{}}"}
        findings.append(Finding(f"line {first_outer.number}", (
            f"the text's {outer.lower()}s hold its {inner.lower()}s (line {first_inner.number}): its "
            f"{outer.lower()}s are the outer level (titles, for the model) and its {inner.lower()}s the level "
            "inside them (chapters), labelled as the text names them"), "text.inverted",
            (("outer", outer.lower()), ("inner", inner.lower()), ("line", first_inner.number))))

    labels.update({kind: label for kind, label in _own_words(lines, conventions).items() if kind not in labels})

    start = _body_start(lines, conventions)
    opening, rest = lines[:start], lines[start:]
    annex = _schedule_start(rest, conventions)
    rest, schedules = rest[:annex], rest[annex:]
    end = _transitional_start(rest, conventions)
    body, transitional = rest[:end], rest[end:]

    title_line = None if title is not None else _title_line(opening)
    if title is None:
        title = title_line.text if title_line else ""
    opening_finding = _opening_finding(opening, title_line, rest[0] if rest else None)
    if opening_finding:
        findings.append(opening_finding)

    parser = _BodyParser(conventions)
    drafts = parser.parse(body)
    findings.extend(parser.findings)
    if transitional:
        drafts.extend(_transitional_groups(transitional, conventions, findings))
    if schedules:
        drafts.extend(_schedules(schedules, conventions, findings))
    _tables_in(drafts)
    return ParsedText(drafts=drafts, language=language, title=title, findings=findings, labels=labels)


def detect_language(text: str) -> str:
    """The text's language ("spa", "eng", "por" or "fra"): whose unit markers, then common words,
    it uses most; Spanish when nothing tells them apart."""
    scores = dict.fromkeys(_CONVENTIONS, 0)
    for line in _lines(text):
        for language, conventions in _CONVENTIONS.items():
            if conventions.structural(line.text) or conventions.preamble.match(line.text):
                scores[language] += 10
        words = re.findall(r"[^\W\d_]+", line.text.lower())
        for language, common in _COMMON_WORDS.items():
            scores[language] += sum(word in common for word in words)
    best = max(scores.values())
    return next(language for language in _CONVENTIONS if scores[language] == best)


#: Frequent words of each language that the others rarely use.
_COMMON_WORDS: Final = {
    "spa": frozenset({"el", "los", "las", "y", "del", "por", "con", "su", "se", "una"}),
    "eng": frozenset({"the", "of", "and", "to", "in", "shall", "be", "or", "by", "any"}),
    "por": frozenset({"da", "do", "dos", "das", "e", "em", "os", "ao", "à", "não", "uma", "é"}),
    "fra": frozenset({"le", "les", "des", "du", "et", "est", "au", "aux", "une", "sur", "dans"}),
}


# --------------------------------------------------------------------------------------------
# Lines and markers


@dataclass(frozen=True)
class _Line:
    """A non-empty line of the source: its number (from 1), its text, whether a blank precedes."""

    number: int
    text: str
    after_blank: bool


def _lines(text: str) -> list[_Line]:
    lines, blank = [], False
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = " ".join(raw.replace("\ufeff", "").split())
        if stripped:
            lines.append(_Line(number, stripped, blank))
        blank = not stripped
    return lines


@dataclass(frozen=True)
class _Structural:
    """A title, chapter or article marker: its number as written and what follows it."""

    kind: str
    num: str
    rest: str  # text after the number on the same line ("" when none)
    sentence: bool = False  # the rest follows the number without a separator: text, never a heading


@dataclass(frozen=True)
class _Reading:
    """One way to read a numbered marker: `I.` reads as apartado I or as fracción I."""

    kind: str
    num: str
    style: str
    value: int

    def successor(self) -> str:
        return format_number(self.style, self.value + 1)


@dataclass(frozen=True)
class _Numbered:
    """A numbered marker opening a line (`A.`, `1.`, `I.`, `a)`, `(1)`), with all its readings."""

    readings: tuple[_Reading, ...]
    num: str
    mark: str  # how the number is closed: "." / ")" / "()"; the lookahead compares like with like
    rest: str


# A word of a Spanish ordinal ("PRIMERO", "DÉCIMO PRIMERO"), as títulos and transitorios use.
_ORDINAL_WORD: Final = r"[A-ZÁÉÍÓÚ][A-Za-zÁÉÍÓÚáéíóú]+"
_SEPARATOR: Final = r"(?:\s*[.:]\s*[-–—]?|\s*[-–—])"
_HEADING_LIMIT: Final = 120  # an article's or apartado's heading, a sub-heading
_LONG_HEADING: Final = 80  # a heading this long may be a first sentence: named in the report
_CONTAINER_HEADING_LIMIT: Final = 200  # a título's or capítulo's heading
_DEROGATED: Final = re.compile(r"^\(?\s*(?:se deroga|derogad[oa]|repealed)\b", re.IGNORECASE)
_BRACKET_NOTE: Final = re.compile(r"^\[[^\[\]]*\]$")
_INLINE_NOTE: Final = re.compile(
    r"\s*\[[^\[\]]*(?:reforma|publicad|adicionad|derogad|fe de erratas|amended|inserted|"
    r"repealed)[^\[\]]*\]",
    re.IGNORECASE,
)


def _container_number(rest: str, words: bool) -> tuple[str, str] | None:
    """The number opening a title or chapter line and the text after it, or None.

    With `words`, Spanish ordinals ("PRIMERO", "DÉCIMO PRIMERO"), "PRELIMINAR" and "ÚNICO" count.
    """
    tokens = rest.split(" ")
    candidates = [" ".join(tokens[:2]), tokens[0]] if words else [tokens[0]]
    for candidate in candidates:
        bare = candidate.rstrip(".:-–—")
        if not _is_container_number(bare, words):
            continue
        after = rest[len(candidate) :]
        heading = re.sub(rf"^{_SEPARATOR}?\s*", "", after).strip()
        # "Part 2 of this Act applies to…" is a sentence, not a part.
        if heading and not _is_heading_like(heading, limit=_CONTAINER_HEADING_LIMIT, period=True):
            return None
        return bare, heading
    return None


def _is_container_number(text: str, words: bool) -> bool:
    if re.fullmatch(r"\d{1,3}|[IVXLCDM]+", text):
        return text.isdigit() or _parses("upper-roman", text)
    if not words or not re.fullmatch(rf"{_ORDINAL_WORD}(?: {_ORDINAL_WORD})?", text):
        return False
    return text.upper() in ("PRELIMINAR", "ÚNICO", "UNICO") or _parses("ordinal-es", text)


def _parses(style: str, text: str) -> bool:
    try:
        parse_number(style, text)
    except NumberingError:
        return False
    return True


def _reading(kind: str, num: str, style: str) -> _Reading | None:
    try:
        return _Reading(kind, num, style, parse_number(style, num))
    except NumberingError:
        return None


# A numbered marker's regex, how it closes its number, and its readings as (kind, style).
_NumberedPattern = tuple[re.Pattern[str], str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class _Conventions:
    """How a language's texts mark their units, and what they call them in messages."""

    language: str
    preamble: re.Pattern[str]
    transitional: re.Pattern[str]
    title: re.Pattern[str]
    chapter: re.Pattern[str]
    article: re.Pattern[str]
    numbered_patterns: tuple[_NumberedPattern, ...]
    names: dict[str, str]
    ordinal_words: bool
    #: Lines "1. Heading" read as sections (articles), in a text that names no article at all.
    sections: frozenset[str] = frozenset()
    #: A paragraph the language names instead of numbering ("Parágrafo único."), kept as its pin.
    sole_paragraph: re.Pattern[str] | None = None
    #: Containers read the other way round: a text whose chapters hold parts ("CHAPTER 1" … "PART 1")
    #: has chapters as its outer level (titles, for the model) and parts inside them.
    swapped: bool = False
    #: Whether a line ending in a full stop right after an article's number may be its heading
    #: (Spanish and English compilations print "Artículo 9\nCiudad solidaria."); Portuguese and
    #: French articles open with their text.
    period_headings: bool = True

    def structural(self, text: str) -> _Structural | None:
        """The title, chapter or article this line opens, or None."""
        if text in self.sections:
            match = _BARE_SECTION.match(text)
            assert match is not None  # `sections` holds only lines it matched
            return _Structural("article", match["num"], match["rest"])
        outer, inner = ("chapter", "title") if self.swapped else ("title", "chapter")
        for kind, pattern in ((outer, self.title), (inner, self.chapter)):
            match = pattern.match(text)
            if match:
                rest = _FIRST_FR.sub("I", match["rest"], count=1) if self.language == "fra" else match["rest"]
                found = _container_number(rest, self.ordinal_words)
                if found:
                    return _Structural(kind, found[0], found[1])
        match = self.article.match(text)
        if match:
            bare = "1" if match["num"].lower() == "premier" else match["num"]
            joint = "-" if self.language == "por" else " "  # "Art. 5º-A", "Artículo 16 Bis"
            num = bare + (f"{joint}{match['suffix'].strip(' -')}" if match["suffix"] else "")
            sentence = match.groupdict().get("text")
            if sentence:
                return _Structural("article", num, sentence.strip(), sentence=True)
            return _Structural("article", num, (match["rest"] or "").strip())
        return None

    def numbered(self, text: str) -> _Numbered | None:
        """The numbered marker opening this line, with all its readings, or None."""
        for pattern, mark, kinds in self.numbered_patterns:
            match = pattern.match(text)
            if not match:
                continue
            num = match["num"]
            readings = tuple(
                reading
                for kind, style in kinds
                if (reading := _reading(kind, num, style)) and reading.value <= _PLAUSIBLE
            )
            if readings:
                return _Numbered(readings, num, mark, (match["rest"] or "").strip())
        return None

    def is_marker(self, text: str) -> bool:
        return bool(
            self.structural(text)
            or self.numbered(text)
            or self.preamble.match(text)
            or self.transitional_header(text)
        )

    def transitional_header(self, text: str) -> bool:
        """A line opening the transitory articles: the keyword alone, or an all-caps header."""
        return bool(self.transitional.match(text)) and (len(text) <= 40 or text.isupper())

    def label(self, kind: str, num: str | None) -> str:
        """How a message names a unit: "Artículo 16", "apartado B", "fracción XV", "inciso a)"."""
        name = self.names[kind]
        if kind == "preamble" or not num:
            return name
        if kind in ("title", "chapter", "article"):
            return f"{name} {num}"
        if self.language == "eng":
            return f"{name} ({num})"
        return f"{name} {num}{')' if kind == 'indent' else ''}"


#: French ordinals for the first title or chapter: "TITRE PREMIER", "CHAPITRE Ier", "Chapitre 1er".
_FIRST_FR: Final = re.compile(r"^(?:PREMIER|[Pp]remier|I(?:er|ER)|1(?:er|ER))\b")
#: "1. Definitions": a section with no article word, numbered and headed on one line.
_BARE_SECTION: Final = re.compile(r"(?P<num>\d{1,3})\.\s+(?P<rest>\S.*)$")

# Several hundred units of one kind under one parent is no numbering: "ii" is no apartado.
_PLAUSIBLE: Final = 99


def _numbered(number: str, mark: str, *readings: tuple[str, str]) -> _NumberedPattern:
    """A numbered marker: `number` (a regex naming `num`) then the line's text, if any."""
    return re.compile(rf"{number}(?:\s+(?P<rest>.*))?$"), mark, readings


_ES_NUMBERED: Final = (
    # "A. Medio Ambiente": an apartado, or a fracción when the letter is a roman numeral too.
    _numbered(r"(?P<num>[A-Z])\.", ".", ("paragraph", "upper-alpha"), ("point", "upper-roman")),
    _numbered(r"(?P<num>[IVXLCDM]{2,})\.", ".", ("point", "upper-roman")),
    _numbered(r"(?P<num>\d{1,3})\.", ".", ("subparagraph", "arabic")),
    _numbered(r"(?P<num>[a-z]{1,2})\)", ")", ("indent", "lower-alpha")),
)

_EN_NUMBERED: Final = (
    _numbered(r"\((?P<num>\d{1,3})\)", "()", ("paragraph", "arabic")),
    # "(i)" is subparagraph i after "(h)", else point i.
    _numbered(
        r"\((?P<num>[a-z]{1,4})\)", "()", ("subparagraph", "lower-alpha"), ("point", "lower-roman")
    ),
    _numbered(r"\((?P<num>[A-Z]{1,2})\)", "()", ("indent", "upper-alpha")),
    # The labels the editor shows and exports ("1.", "a.", "i.", "A.", "I.", "a)"): the same
    # number reads as different kinds depending on the styles, so placement decides.
    _numbered(r"(?P<num>\d{1,3})\.", ".", ("paragraph", "arabic"), ("subparagraph", "arabic")),
    _numbered(
        r"(?P<num>[a-z]{1,4})\.", ".", ("subparagraph", "lower-alpha"), ("point", "lower-roman")
    ),
    _numbered(r"(?P<num>[A-Z])\.", ".", ("paragraph", "upper-alpha"), ("point", "upper-roman")),
    _numbered(r"(?P<num>[IVXLCDM]{2,})\.", ".", ("point", "upper-roman")),
    _numbered(r"(?P<num>[a-z]{1,2})\)", ")", ("indent", "lower-alpha")),
    _numbered(r"(?P<num>[A-Z]{1,2})\)", ")", ("indent", "upper-alpha")),
)

_ARTICLE_SUFFIX: Final = r"(?i:bis|ter|qu[áa]ter|quinquies|sexies|septies|octies|[a-z](?![a-z]))"

_CONVENTIONS: Final[dict[str, _Conventions]] = {
    "spa": _Conventions(
        language="spa",
        preamble=re.compile(r"(?:PRE[ÁA]MBULO|Pre[áa]mbulo)\.?$"),
        transitional=re.compile(
            r"(?:(?:ART[ÍI]CULOS?|Art[íi]culos?)\s+)?(?:TRANSITORIOS?|[Tt]ransitorios?)\b"
            r"|DISPOSICIONES TRANSITORIAS|Disposiciones transitorias"
        ),
        title=re.compile(r"(?:T[ÍI]TULO|T[íi]tulo)\s+(?P<rest>.+)$"),
        chapter=re.compile(r"(?:CAP[ÍI]TULO|Cap[íi]tulo)\s+(?P<rest>.+)$"),
        article=re.compile(
            r"(?:ART[ÍI]CULO|Art[íi]culo)\s+(?P<num>\d{1,4})(?:o|°|º)?"
            rf"(?P<suffix>(?:\s*-\s*|\s+){_ARTICLE_SUFFIX})?"
            rf"\s*(?:{_SEPARATOR}\s*(?P<rest>.*))?$"
        ),
        numbered_patterns=_ES_NUMBERED,
        names={
            "preamble": "the preamble",
            "title": "TÍTULO",
            "chapter": "CAPÍTULO",
            "article": "Artículo",
            "paragraph": "apartado",
            "subparagraph": "numeral",
            "point": "fracción",
            "indent": "inciso",
        },
        ordinal_words=True,
    ),
    "eng": _Conventions(
        language="eng",
        preamble=re.compile(r"(?:PREAMBLE|Preamble)\.?$"),
        transitional=re.compile(
            r"(?:TRANSITIONAL|Transitional|TRANSITORY|Transitory)\s+"
            r"(?:PROVISIONS?|[Pp]rovisions?)\b"
        ),
        title=re.compile(r"(?:TITLE|Title|PART|Part)\s+(?P<rest>.+)$"),
        chapter=re.compile(r"(?:CHAPTER|Chapter)\s+(?P<rest>.+)$"),
        article=re.compile(
            r"(?:ARTICLE|Article|SECTION|Section)\s+(?P<num>\d{1,4})"
            rf"(?P<suffix>(?:\s*-\s*|\s*){_ARTICLE_SUFFIX})?"
            rf"\s*(?:{_SEPARATOR}\s*(?P<rest>.*))?$"
        ),
        numbered_patterns=_EN_NUMBERED,
        names={
            "preamble": "the preamble",
            "title": "TITLE",
            "chapter": "CHAPTER",
            "article": "Article",
            "paragraph": "paragraph",
            "subparagraph": "subparagraph",
            "point": "point",
            "indent": "indent",
        },
        ordinal_words=False,
    ),
    # Portuguese (Brazil, Portugal): "Art. 1º A República…", "Artigo 12.º", "§ 1º", "I - …" incisos,
    # "a)" alíneas, "1." itens; "TÍTULO I", "CAPÍTULO II"; "Parágrafo único." is an unnumbered §.
    "por": _Conventions(
        language="por",
        preamble=re.compile(r"(?:PRE[ÂA]MBULO|Pre[âa]mbulo)\.?$"),
        transitional=re.compile(
            r"(?:ATO DAS )?DISPOSI[ÇC][ÕO]ES (?:CONSTITUCIONAIS )?TRANSIT[ÓO]RIAS"
            r"|Disposi[çc][õo]es (?:constitucionais )?transit[óo]rias|Disposi[çc][õo]es finais e transit[óo]rias"
        ),
        title=re.compile(r"(?:T[ÍI]TULO|T[íi]tulo)\s+(?P<rest>.+)$"),
        chapter=re.compile(r"(?:CAP[ÍI]TULO|Cap[íi]tulo)\s+(?P<rest>.+)$"),
        article=re.compile(
            r"(?:ART(?:IGO)?\.?|Art(?:igo)?\.?)\s+(?P<num>\d{1,4})(?:\.?\s?(?:º|°|o)|\.(?=\s|$))?"
            r"(?P<suffix>-[A-Z](?![A-Za-z]))?"
            rf"(?:\s*{_SEPARATOR}\s*(?P<rest>.*)|\s+(?P<text>.+))?\s*$"
        ),
        numbered_patterns=(
            _numbered(r"§\s*(?P<num>\d{1,3})(?:\.?\s?(?:º|°|o))?\.?", "§", ("paragraph", "arabic")),
            _numbered(r"(?P<num>[IVXLCDM]+)\s*[-–—]", "-", ("point", "upper-roman")),
            _numbered(r"(?P<num>[a-z]{1,2})\)", ")", ("indent", "lower-alpha")),
            _numbered(r"(?P<num>\d{1,3})\.", ".", ("subparagraph", "arabic")),
        ),
        names={
            "preamble": "the preamble",
            "title": "TÍTULO",
            "chapter": "CAPÍTULO",
            "article": "Art.",
            "paragraph": "§",
            "subparagraph": "item",
            "point": "inciso",
            "indent": "alínea",
        },
        ordinal_words=False,
        period_headings=False,
        sole_paragraph=re.compile(r"(?P<num>Par[áa]grafo [úu]nico|PAR[ÁA]GRAFO [ÚU]NICO|§ [úu]nico)\s*[.:\-–—]*\s*(?P<rest>.*)$"),
    ),
    # French: "Article 1er", "Article premier", "Art. 2", "TITRE PREMIER", "TITRE Ier", "CHAPITRE II";
    # "I. – …" paragraphs, "1°" items, "a)" sub-items.
    "fra": _Conventions(
        language="fra",
        preamble=re.compile(r"(?:PR[ÉE]AMBULE|Pr[ée]ambule)\.?$"),
        transitional=re.compile(
            r"(?:DISPOSITIONS TRANSITOIRES|Dispositions transitoires|DISPOSITIONS FINALES ET TRANSITOIRES"
            r"|Dispositions finales et transitoires)\b"
        ),
        title=re.compile(r"(?:TITRE|Titre)\s+(?P<rest>.+)$"),
        chapter=re.compile(r"(?:CHAPITRE|Chapitre)\s+(?P<rest>.+)$"),
        article=re.compile(
            r"(?:ARTICLE|Article|Art\.)\s+(?P<num>\d{1,4}|premier|PREMIER)(?:er|ER)?"
            rf"(?P<suffix>(?:\s*-\s*|\s+){_ARTICLE_SUFFIX}(?=[\s.-]|$))?"
            rf"\s*(?:{_SEPARATOR}\s*(?P<rest>.*))?$"
        ),
        numbered_patterns=(
            _numbered(r"(?P<num>[IVXLCDM]+)\.(?:\s*[-–—])?", ".", ("paragraph", "upper-roman")),
            _numbered(r"(?P<num>\d{1,3})\s?°", "°", ("subparagraph", "arabic")),
            _numbered(r"(?P<num>[a-z]{1,2})\)", ")", ("indent", "lower-alpha")),
            _numbered(r"(?P<num>\d{1,3})\.", ".", ("point", "arabic")),
        ),
        names={
            "preamble": "the preamble",
            "title": "TITRE",
            "chapter": "CHAPITRE",
            "article": "Article",
            "paragraph": "paragraphe",
            "subparagraph": "alinéa",
            "point": "point",
            "indent": "sous-point",
        },
        ordinal_words=False,
        period_headings=False,
    ),
}


def _is_heading_like(text: str, *, limit: int = _HEADING_LIMIT, period: bool = False) -> bool:
    """Whether `text` reads as a heading: short, one phrase, no closing punctuation.

    With `period`, a final full stop is allowed ("De la naturaleza … de la ciudad.").
    """
    if not text or len(text) > limit or _DEROGATED.match(text) or _BRACKET_NOTE.match(text):
        return False
    if text.endswith((":", ";", ",")) or (text.endswith(".") and not period):
        return False
    return ". " not in text.rstrip(".")


# --------------------------------------------------------------------------------------------
# Opening, transitory articles and the title


def _inverted_containers(lines: Sequence[_Line], conventions: _Conventions) -> tuple[tuple[str, _Line], tuple[str, _Line]] | None:
    """When the text's first container is a chapter-word one ("CHAPTER 1") and a title-word one
    ("PART 1") comes after it, inside it: ((the chapter word, its first line), (the title word, its
    first line)), the words as the text writes them. None for the usual order."""
    first_chapter: _Line | None = None
    for line in lines:
        marker = conventions.structural(line.text)
        if marker is None or marker.kind == "article":
            continue
        if marker.kind == "title":
            if first_chapter is None:
                return None  # a title-word container comes first: the usual order
            outer = conventions.chapter.match(first_chapter.text)
            inner = conventions.title.match(line.text)
            assert outer is not None and inner is not None
            outer_word = first_chapter.text[: outer.start("rest")].strip()
            return (outer_word, first_chapter), (line.text[: inner.start("rest")].strip(), line)
        first_chapter = first_chapter or line
    return None


#: Words an English text may name its units with, other than the model's labels ("TITLE 1",
#: "Article 1"): kept as the document's own labels.
_OWN_WORDS: Final = {"title": ("PART", "Part"), "article": ("SECTION", "Section")}


def _own_words(lines: Sequence[_Line], conventions: _Conventions) -> dict[str, str]:
    """The labels of an English text that calls its titles "PART" or its articles "Section", as
    its first such line writes the word: {"title": "PART {}", "article": "Section {}"}."""
    if conventions.language != "eng":
        return {}
    found: dict[str, str] = {}
    for line in lines:
        marker = conventions.structural(line.text)
        if marker is None or marker.kind not in _OWN_WORDS or marker.kind in found:
            continue
        word = line.text.split(" ", 1)[0]
        found[marker.kind] = f"{word} {{}}" if word in _OWN_WORDS[marker.kind] else ""
    return {kind: label for kind, label in found.items() if label}


def _bare_sections(lines: Sequence[_Line], conventions: _Conventions) -> list[_Line]:
    """In a text that names no article, its "1. Heading" lines numbered 1, 2, 3… in order (at
    least two): the sections of a by-law written without the word. Nothing in any other text."""
    if any((marker := conventions.structural(line.text)) and marker.kind == "article" for line in lines):
        return []
    found: list[_Line] = []
    for line in lines:
        match = _BARE_SECTION.match(line.text)
        if match and int(match["num"]) == len(found) + 1 and _is_heading_like(match["rest"]):
            found.append(line)
    return found if len(found) >= 2 else []


def _body_start(lines: Sequence[_Line], conventions: _Conventions) -> int:
    """Index of the first line of the constitution proper: the preamble or the first unit."""
    for index, line in enumerate(lines):
        if conventions.preamble.match(line.text) or conventions.structural(line.text):
            return index
    return len(lines)


#: A line opening a schedule or annex, alone on its line: "ANEXO 1", "ANEXO ÚNICO", "Schedule 2",
#: "ANNEXE I" (after the body and its transitional provisions, as the law prints them).
_SCHEDULE: Final = re.compile(
    r"(?P<word>ANEXO|Anexo|SCHEDULE|Schedule|ANNEXE|Annexe)(?:\s+(?P<num>\d{1,3}|[IVXLC]+|[A-Z]|[ÚU]NICO|[Úú]nico))?\.?$")


def _tables_in(drafts: Sequence[Draft]) -> None:
    """Consecutive paragraphs of a unit that are rows of cells ("Consumo | Tarifa"), at least two
    with the same number of cells (two or more), become a table: the way plain text (and this
    product's text export) writes one."""
    for draft in drafts:
        blocks: list[Block] = []
        run: list[tuple[str, ...]] = []
        for block in [*draft.paragraphs, None]:  # None closes the last run
            cells = tuple(cell.strip() for cell in block.split(" | ")) if isinstance(block, str) else ()
            if len(cells) >= 2 and (not run or len(run[0]) == len(cells)):
                run.append(cells)
                continue
            if len(run) >= 2:
                blocks.append(Table(tuple(run)))
            else:
                blocks.extend(" | ".join(row) for row in run)
            run = [cells] if len(cells) >= 2 else []
            if not run and block is not None:
                blocks.append(block)
        draft.paragraphs = blocks
        _tables_in(draft.children)


def _schedule_start(lines: Sequence[_Line], conventions: _Conventions) -> int:
    """Index of the first schedule's line ("ANEXO 1"), once some unit came before it."""
    seen_unit = False
    for index, line in enumerate(lines):
        if _SCHEDULE.match(line.text) and seen_unit:
            return index
        seen_unit = seen_unit or conventions.structural(line.text) is not None
    return len(lines)


def _schedules(lines: Sequence[_Line], conventions: _Conventions, findings: list[Finding]) -> list[Draft]:
    """The schedules: each opened by its line ("ANEXO 1"), then its heading line when that reads as
    one, then its paragraphs and units (articles, numbered items) read as the body's are; a table's
    rows ("a | b") stay lines, as plain text has no tables."""
    starts = [index for index, line in enumerate(lines) if _SCHEDULE.match(line.text)]
    drafts: list[Draft] = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        match = _SCHEDULE.match(lines[start].text)
        assert match is not None
        draft = Draft(ATTACHMENT, num=match["num"] or UNNUMBERED, where=f"line {lines[start].number}")
        content = list(lines[start + 1:end])
        if content and not conventions.is_marker(content[0].text) and _is_heading_like(
                content[0].text, limit=_CONTAINER_HEADING_LIMIT, period=True):
            draft.heading = content.pop(0).text
        parser = _BodyParser(conventions)
        parser.root = parser.stack[0] = _Open(draft, ATTACHMENT, lines[start].text, None, draft.children)
        parser.parse(content)
        findings.extend(parser.findings)
        drafts.append(draft)
    return drafts


def _transitional_start(lines: Sequence[_Line], conventions: _Conventions) -> int:
    for index, line in enumerate(lines):
        if conventions.transitional_header(line.text):
            return index
    return len(lines)


def _title_line(opening: Sequence[_Line]) -> _Line | None:
    """The opening's last all-capitals line ("CONSTITUCIÓN POLÍTICA DE …"), else its first line."""
    for line in reversed(opening):
        letters = [c for c in line.text if c.isalpha()]
        if len(letters) >= 3 and line.text == line.text.upper() and len(line.text) <= 200:
            return line
    return opening[0] if opening else None


def _opening_finding(
    opening: Sequence[_Line], title_line: _Line | None, first: _Line | None
) -> Finding | None:
    """What comes before the preamble or first unit (publication data, the decree) is reported."""
    left = [line for line in opening if line is not title_line]
    if not left:
        return None
    if first:
        message = (
            f"{_line_ranges(left, opening)} ({_count(len(left), 'paragraph')}) before "
            f"“{first.text[:40]}” (line {first.number}) not imported: they come before the "
            "constitutional text (publication data, promulgation decree…)"
        )
    else:
        message = (
            f"{_line_ranges(left, opening)} ({_count(len(left), 'paragraph')}) not imported: "
            "the text has no preamble, title, chapter or article marker to start from"
        )
    args: dict[str, object] = {"runs": _runs(left, opening), "count": len(left)}
    if first:
        args.update(first=first.text[:40], first_line=first.number)
    if title_line:
        message += f"; line {title_line.number} “{title_line.text}” became the document title"
        args.update(title_line=title_line.number, title=title_line.text)
    return Finding(f"line {left[0].number}", message, "text.opening", tuple(args.items()))


def _transitional_groups(
    lines: Sequence[_Line], conventions: _Conventions, findings: list[Finding]
) -> list[Draft]:
    """The transitional provisions: one group per header line ("TRANSITORIOS…", kept as the
    group's heading), each provision a transitory article opened by its ordinal ("PRIMERO.- …",
    "DÉCIMO PRIMERO. - …", "ÚNICO.- …") or, in texts that number them, by "1. …". The text after
    the ordinal is the provision's first paragraph (transitory articles have no headings); the
    lines up to the next ordinal are its further paragraphs."""
    groups: list[Draft] = []
    family: str | None = None  # "word" or "digit": how this text numbers its provisions
    for index, line in enumerate(lines):
        if _CLOSING.match(line.text) and groups and groups[-1].children:
            closing = lines[index:]
            findings.append(Finding(f"line {line.number}", f"{_line_ranges(closing, lines)} ({_count(len(closing), 'paragraph')}, "
                                    f"from {_quote(line.text, 40)}) not imported: the closing (where and when it was "
                                    "given, the signatures) is no provision", "text.closing",
                                    (("runs", _runs(closing, lines)), ("count", len(closing)),
                                     ("quote", _quote(line.text, 40)))))
            break
        if conventions.transitional_header(line.text):
            groups.append(Draft("transitional", heading=line.text, where=f"line {line.number}"))
            family = None
            continue
        group = groups[-1]
        opened = _transitory_opening(line.text, family, len(group.children) + 1, conventions)
        if opened is not None:
            family, num, rest = opened
            group.children.append(Draft("article", num=num, paragraphs=[rest] if rest else [],
                                        where=f"line {line.number}"))
        elif group.children:
            group.children[-1].paragraphs.append(line.text)
        else:
            group.paragraphs.append(line.text)  # text between the header and the first provision
    for group in groups:
        if not group.children:
            findings.append(Finding(group.where, f"{_quote(group.heading)} opens transitional provisions, but no "
                                    "provision follows (PRIMERO.- …, 1. …): its text is kept as the group's",
                                    "text.empty_transitional", (("quote", _quote(group.heading)),)))
        nested = [d for d in group.children
                  if any(isinstance(p, str) and conventions.numbered(p) for p in d.paragraphs[1:])]
        if nested:
            findings.append(Finding(nested[0].where, f"{_count(len(nested), 'transitory article')} with numbered "
                                    "lists (I., 1., a) …): their items are kept as paragraphs", "text.transitory_lists",
                                    (("count", len(nested)),)))
    return groups


#: The closing after the last provision: "Dado en el Salón de Sesiones…", "Given under my hand…".
_CLOSING: Final = re.compile(r"^(?:dad[oa]s? en\b|given (?:at|under|in)\b|done at\b)", re.IGNORECASE)


def _transitory_opening(text: str, family: str | None, expected: int,
                        conventions: _Conventions) -> tuple[str, str, str] | None:
    """(family, number, the rest of the line) when `text` opens a transitory article. Once a
    text has numbered its provisions in words, "1. …" is a paragraph inside one, and the other
    way round; digits must also come in order (a numbered paragraph is not the next provision).
    An article marker of the text's language ("Art. 1º …", "Article 2") opens one too."""
    marker = conventions.structural(text)
    if marker is not None and marker.kind == "article" and family in (None, "digit"):
        return "digit", marker.num, marker.rest
    match = re.match(rf"(?P<num>{_ORDINAL_WORD}(?: {_ORDINAL_WORD})?)\s*[.\-–—:]+\s*(?P<rest>.*)$", text)
    if match and family in (None, "word"):
        word = match["num"]
        if word.upper() in ("ÚNICO", "UNICO") or _parses("ordinal-es", word):
            return "word", word, match["rest"].strip(" -–—")
    match = re.match(r"(?P<num>\d{1,3})\s*[.\-–—)]+\s*(?P<rest>.*)$", text)
    if match and family in (None, "digit") and int(match["num"]) == expected:
        return "digit", match["num"], match["rest"].strip(" -–—")
    return None


def _is_transitory_article(text: str, conventions: _Conventions) -> bool:
    """Whether a line opens a transitory article: "PRIMERO.- …", "DÉCIMO PRIMERO. - …", "1. …"."""
    match = re.match(rf"({_ORDINAL_WORD}(?: {_ORDINAL_WORD})?)\s*[.\-–—]", text)
    if match and (match[1].upper() in ("ÚNICO", "UNICO") or _parses("ordinal-es", match[1])):
        return True
    return bool(conventions.structural(text) or re.match(r"\d{1,3}\.\s", text))


def _runs(lines: Sequence[_Line], context: Sequence[_Line]) -> tuple[tuple[int, int], ...]:
    """Runs of `lines` that are consecutive in `context`, as (first, last) line numbers."""
    position = {id(line): index for index, line in enumerate(context)}
    runs: list[list[_Line]] = []
    for line in lines:
        if runs and position[id(line)] == position[id(runs[-1][-1])] + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    return tuple((run[0].number, run[-1].number) for run in runs)


def _line_ranges(lines: Sequence[_Line], context: Sequence[_Line]) -> str:
    """Runs of `lines` that are consecutive in `context`: "lines 1–25", "lines 1–3 and 5–9"."""
    runs = _runs(lines, context)
    parts = [f"{first}" if first == last else f"{first}–{last}" for first, last in runs]
    word = "line" if len(runs) == 1 and runs[0][0] == runs[0][1] else "lines"
    return f"{word} {_join(parts)}"


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _a(noun: str) -> str:
    """The noun with its English indefinite article: "a numeral", "an inciso"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _quote(text: str, limit: int = 60) -> str:
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


# --------------------------------------------------------------------------------------------
# The body


@dataclass(eq=False)
class _Open:
    """A unit still open for paragraphs and sub-units, with how far its children's numbers got."""

    draft: Draft | None  # None for the body itself
    kind: str  # "body" for the body
    label: str
    parent: _Open | None
    children: list[Draft]
    last: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, style) → last value

    def may_hold(self, kind: str) -> bool:
        allowed = TOP_LEVEL_KINDS if self.kind == "body" else ALLOWED_CHILDREN[self.kind]
        return kind in allowed

    def last_text(self) -> str:
        if self.draft is None:
            return ""
        last = self.draft.paragraphs[-1] if self.draft.paragraphs else self.draft.heading
        return last if isinstance(last, str) else ""  # a table is no lead-in


@dataclass(frozen=True)
class _Placement:
    """Where a numbered marker goes: into `container`, read as `reading`."""

    container: _Open
    reading: _Reading
    score: int  # 3: continues the container's sequence, 2: starts one, 1: neither


@dataclass
class _Trailing:
    """Unnumbered paragraphs after a fracción or inciso: its own, unless its list ends there."""

    item: _Open
    lines: list[_Line]


_RANK: Final = {kind: rank for rank, kind in enumerate(UNIT_KINDS)}
_LIST_ITEMS: Final = ("point", "indent")


class _BodyParser:
    """One pass over the body's lines, keeping the stack of open units."""

    def __init__(self, conventions: _Conventions) -> None:
        self.conventions = conventions
        self.drafts: list[Draft] = []
        self.root = _Open(None, "body", "", None, self.drafts)
        self.stack: list[_Open] = [self.root]
        self.reported: list[tuple[int, Finding]] = []
        self.notes: list[_Line] = []
        self.trailing: _Trailing | None = None
        self.in_preamble = False
        self.read_headings: list[_Line] = []  # article headings taken from the line after the number

    def parse(self, lines: Sequence[_Line]) -> list[Draft]:
        lines = self.without_notes(lines)
        index = 0
        while index < len(lines):
            index = self.read(lines, index)
        self.end_trailing(None)
        self.report_notes()
        self.report_headings()
        return self.drafts

    def report_headings(self) -> None:
        """Say how article headings were told from text: the rule is explicit, and the headings it
        gave that may be first sentences (long ones) are named."""
        if not self.read_headings:
            return
        long = [line for line in self.read_headings if len(line.text) > _LONG_HEADING]
        stop = ("a final full stop only when no blank line separates it from the number"
                if self.conventions.period_headings else "not even a final full stop")
        message = (f"{_count(len(self.read_headings), 'article heading')} read from the line right after the "
                   f"article's number, as the rule goes: a phrase of at most {_HEADING_LIMIT} characters with no "
                   f"closing punctuation ({stop}) is the heading, anything else the article's first paragraph")
        if long:
            message += (f"; {len(long)} of them read like a first sentence rather than a heading, check "
                        f"{_line_ranges(long, self.read_headings) if len(long) > 1 else f'line {long[0].number}'}")
        self.report(self.read_headings[0], message, "text.heading_rule", (
            ("count", len(self.read_headings)), ("limit", _HEADING_LIMIT), ("period", self.conventions.period_headings),
            ("long", len(long)), ("runs", _runs(long, self.read_headings) if len(long) > 1 else
                                  tuple((line.number, line.number) for line in long))))

    @property
    def findings(self) -> list[Finding]:
        """What was reported, in the order of the source's lines."""
        return [finding for _, finding in sorted(self.reported, key=lambda pair: pair[0])]

    def report(self, line: _Line, message: str, code: str = "", args: tuple[tuple[str, object], ...] = ()) -> None:
        self.reported.append((line.number, Finding(f"line {line.number}", message, code, args)))

    def read(self, lines: Sequence[_Line], index: int) -> int:
        """Read the line at `index` (and a heading line after it); the index of the next line."""
        line = lines[index]
        text = line.text
        conventions = self.conventions
        if conventions.preamble.match(text) and self.stack == [self.root] and not self.drafts:
            self.open_unit(self.root, Draft("preamble", where=f"line {line.number}"))
            self.in_preamble = True
            return index + 1
        structural = conventions.structural(text)
        if structural:
            self.in_preamble = False
            return self.read_structural(structural, line, lines, index)
        sole = conventions.sole_paragraph.match(text) if conventions.sole_paragraph and not self.in_preamble else None
        if sole:
            self.read_sole_paragraph(sole["num"].split()[-1].lower(), sole["rest"], line)
            return index + 1
        numbered = None if self.in_preamble else conventions.numbered(text)
        if numbered:
            self.read_numbered(numbered, line, lines, index)
        else:
            self.read_paragraph(text, line)
        return index + 1

    def without_notes(self, lines: Sequence[_Line]) -> list[_Line]:
        """The lines with reform notes ("[Reforma publicada …]") taken out, and noted."""
        kept = []
        for line in lines:
            if _BRACKET_NOTE.match(line.text):
                self.notes.append(line)
                continue
            text = _INLINE_NOTE.sub("", line.text).strip()
            if text != line.text:
                self.notes.append(line)
            if text:
                kept.append(_Line(line.number, text, line.after_blank))
        return kept

    # Titles, chapters, articles ----------------------------------------------------------------

    def read_structural(
        self, marker: _Structural, line: _Line, lines: Sequence[_Line], index: int
    ) -> int:
        self.end_trailing(None)
        container = next(
            (open_ for open_ in reversed(self.stack) if open_.may_hold(marker.kind)), self.root
        )
        if not container.may_hold(marker.kind):  # a title or chapter inside a schedule
            self.report(line, f"{_quote(line.text)} opens {_a(self.conventions.names[marker.kind])} inside "
                              f"{self.root.label}, which holds no such unit; it was kept as text")
            self.read_paragraph(line.text, line)
            return index + 1
        draft = Draft(marker.kind, marker.num, where=f"line {line.number}")
        self.open_unit(container, draft)
        following = lines[index + 1] if index + 1 < len(lines) else None
        if marker.rest:
            if not marker.sentence and (marker.kind != "article" or _is_heading_like(marker.rest)):
                draft.heading = marker.rest
            else:
                draft.paragraphs.append(marker.rest)
            return index + 1
        if following is None or self.conventions.is_marker(following.text):
            return index + 1
        if marker.kind == "article":
            is_heading = _is_heading_like(
                following.text, period=self.conventions.period_headings and not following.after_blank)
        else:
            is_heading = _is_heading_like(
                following.text, limit=_CONTAINER_HEADING_LIMIT, period=True
            )
        if is_heading:
            draft.heading = following.text
            if marker.kind == "article":
                self.read_headings.append(following)
            return index + 2
        return index + 1

    # Apartados, numerales, fracciones, incisos ---------------------------------------------------

    def read_numbered(
        self, marker: _Numbered, line: _Line, lines: Sequence[_Line], index: int
    ) -> None:
        following = self.next_numbered(marker, lines, index) if len(marker.readings) > 1 else None
        placement = self.place(marker, following)
        if placement is None:
            name = self.conventions.names[marker.readings[0].kind]
            self.report(
                line,
                f"the line opens with “{marker.num}” like {_a(name)}, but no open unit here may "
                f"hold {_a(name)}; it was kept as text of {self.place_name(self.stack[-1])}",
            )
            self.read_paragraph(line.text, line)
            return
        innermost = self.stack[-1]
        self.end_trailing(placement)
        self.report_nesting(placement, innermost, line)
        reading = placement.reading
        draft = Draft(reading.kind, reading.num, where=f"line {line.number}")
        if marker.rest:
            # "A. Medio Ambiente": a lettered apartado's short text is its heading.
            lettered = reading.kind == "paragraph" and reading.style == "upper-alpha"
            if lettered and _is_heading_like(marker.rest):
                draft.heading = marker.rest
            else:
                draft.paragraphs.append(marker.rest)
        placement.container.last[(reading.kind, reading.style)] = reading.value
        self.open_unit(placement.container, draft)

    def read_sole_paragraph(self, num: str, rest: str, line: _Line) -> None:
        """"Parágrafo único. …": the article's only paragraph, pinned to the word the law gives it."""
        container = next((open_ for open_ in reversed(self.stack) if open_.may_hold("paragraph")), None)
        if container is None or container.draft is None:
            self.read_paragraph(line.text, line)
            return
        self.trailing = None  # the list before it ends here; the paragraph is the article's own
        self.open_unit(container, Draft("paragraph", num, paragraphs=[rest] if rest else [],
                                        where=f"line {line.number}"))

    def place(self, marker: _Numbered, following: _Numbered | None) -> _Placement | None:
        """Where the marker goes: a reading that continues an open sequence, else the innermost.

        When the next numbered line follows exactly one reading ("I." then "II."), that reading
        is taken.
        """
        readings = marker.readings
        if following and len(readings) > 1:
            fitting = [r for r in readings if r.successor() == following.num]
            if len(fitting) == 1:
                readings = tuple(fitting)
        options = list(self.options(readings))
        if not options:
            return None
        continuing = [option for option in options if option.score == 3]
        if continuing:
            return continuing[0]
        innermost: dict[_Reading, _Placement] = {}
        for option in options:
            innermost.setdefault(option.reading, option)
        return max(innermost.values(), key=lambda option: option.score)

    def options(self, readings: Sequence[_Reading]) -> Iterator[_Placement]:
        """Every open unit that may hold a reading, innermost first, scored for continuity."""
        for container in reversed(self.stack):
            for reading in readings:
                if container.may_hold(reading.kind):
                    last = container.last.get((reading.kind, reading.style))
                    yield _Placement(container, reading, _score(reading.value, last))

    def next_numbered(
        self, marker: _Numbered, lines: Sequence[_Line], index: int
    ) -> _Numbered | None:
        """The next numbered marker closed the same way ("I." … "II.", not "a)"), if any."""
        for line in lines[index + 1 :]:
            if self.conventions.structural(line.text):
                return None
            numbered = self.conventions.numbered(line.text)
            if numbered and numbered.mark == marker.mark:
                return numbered
        return None

    # Unnumbered paragraphs --------------------------------------------------------------------

    def read_paragraph(self, text: str, line: _Line) -> None:
        unit = self.stack[-1]
        if unit.draft is None:  # the body starts with a unit marker, so this cannot happen
            self.report(line, f"{_quote(text)} lies outside any unit and was not imported")
            return
        item_opens_more = unit.last_text().endswith(":")
        unit.draft.paragraphs.append(text)
        if unit.kind not in _LIST_ITEMS:
            return
        if self.trailing and self.trailing.item is unit:
            self.trailing.lines.append(line)
        elif not item_opens_more:
            self.trailing = _Trailing(unit, [line])

    def end_trailing(self, placement: _Placement | None) -> None:
        """Settle paragraphs kept after a list item, now that the next unit (if any) is known.

        If the list goes on (or the next unit goes inside the item), they were the item's own;
        a heading-like one among them is reported, as the model has no headings between units.
        If the list ends there, they most likely belong to the unit holding the list, which
        cannot have paragraphs after its sub-units: they stay with the item, reported.
        """
        trailing, self.trailing = self.trailing, None
        if trailing is None:
            return
        item = trailing.item
        goes_on = placement is not None and (
            (placement.container is item or self.is_inside(placement.container, item))
            or (
                placement.container is item.parent
                and placement.reading.kind == item.kind
                and placement.score == 3
            )
        )
        if goes_on:
            for line in trailing.lines:
                if _is_heading_like(line.text):
                    self.report(
                        line,
                        f"{_quote(line.text)} reads as a sub-heading over the units that follow, "
                        "but the model has no headings between sub-units; it was kept as a "
                        f"paragraph of {self.place_name(item)}",
                        "text.sub_heading",
                        (("quote", _quote(line.text)), ("place", self.place_name(item))),
                    )
            return
        lines, names = trailing.lines, self.conventions.names
        holder = item.parent
        assert holder is not None and holder.draft is not None  # a list item sits in some unit
        if len(lines) == 1:
            what, verb, kept = _quote(lines[0].text), "comes", "it was kept as a paragraph"
        else:
            first = _quote(lines[0].text)
            what = f"{len(lines)} paragraphs ({_line_ranges(lines, lines)}, from {first})"
            verb, kept = "come", "they were kept as paragraphs"
        self.report(
            lines[0],
            f"{what} {verb} after the last {names[item.kind]} of {self.place_name(holder)} and "
            f"most likely belong{'s' if len(lines) == 1 else ''} to that {names[holder.kind]} "
            f"itself, but the model puts a unit's own paragraphs before its sub-units; {kept} "
            f"of {item.label}",
            "text.trailing",
            (("count", len(lines)), ("quote", _quote(lines[0].text)), ("runs", _runs(lines, lines)),
             ("item_kind", names[item.kind]), ("holder", self.place_name(holder)),
             ("holder_kind", names[holder.kind]), ("item", item.label)),
        )

    # Findings that span the body ---------------------------------------------------------------

    def report_nesting(self, placement: _Placement, innermost: _Open, line: _Line) -> None:
        """Report a unit the source nests where the model cannot have it.

        A numeral 1 right after a fracción that reads as a heading or ends with a colon ("II.
        Bases para la determinación de criterios y fórmulas") belongs inside it in the source;
        the model has no numeral inside a fracción, so it is placed after the fracción.
        """
        reading, container = placement.reading, placement.container
        lead_in = innermost.last_text()
        if (
            innermost.draft is None
            or container is innermost
            or reading.value != 1
            or _RANK[reading.kind] >= _RANK[innermost.kind]
            or innermost.children
            or not (lead_in.endswith(":") or _is_heading_like(lead_in))
        ):
            return
        names = self.conventions.names
        self.report(
            line,
            f"{self.conventions.label(reading.kind, reading.num)} opens right after "
            f"{self.place_name(innermost)} as if it were part of it, but the model allows no "
            f"{names[reading.kind]} inside {_a(names[innermost.kind])}; it was placed after it, "
            f"in {self.place_name(container)}",
            "text.nesting",
            (("label", self.conventions.label(reading.kind, reading.num)), ("after", self.place_name(innermost)),
             ("kind", names[reading.kind]), ("inside", names[innermost.kind]), ("place", self.place_name(container))),
        )

    def report_notes(self) -> None:
        if not self.notes:
            return
        numbers = [str(line.number) for line in self.notes]
        self.report(
            self.notes[0],
            f"{_count(len(self.notes), 'reform note')} in square brackets "
            f"(e.g. {_quote(self.notes[0].text, 70)}) not imported: they record the compilation's "
            f"history, not constitutional text (line{'s' if len(numbers) > 1 else ''} "
            f"{_join(numbers)})",
            "text.reform_notes",
            (("count", len(self.notes)), ("example", _quote(self.notes[0].text, 70)),
             ("lines", tuple(line.number for line in self.notes))),
        )

    # The stack -----------------------------------------------------------------------------------

    def open_unit(self, container: _Open, draft: Draft) -> _Open:
        """Add `draft` as the last child of `container` and make it the innermost open unit."""
        del self.stack[self.stack.index(container) + 1 :]
        container.children.append(draft)
        label = self.conventions.label(draft.kind, draft.num)
        opened = _Open(draft, draft.kind, label, container, draft.children)
        self.stack.append(opened)
        return opened

    def is_inside(self, unit: _Open, ancestor: _Open) -> bool:
        while unit.parent is not None:
            if unit.parent is ancestor:
                return True
            unit = unit.parent
        return False

    def place_name(self, unit: _Open) -> str:
        """Where a unit is, from its article (or the top) down: "Artículo 53, apartado B, …"."""
        chain: list[_Open] = []
        current: _Open | None = unit
        while current is not None and current.draft is not None:
            chain.append(current)
            if current.kind == "article":
                break
            current = current.parent
        return ", ".join(open_.label for open_ in reversed(chain)) or "the document"


def _score(value: int, last: int | None) -> int:
    if last is not None:
        return 3 if value == last + 1 else 1
    return 2 if value == 1 else 1
