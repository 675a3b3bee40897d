"""References to units in free text ("Art. 16, A, 3", "Título Sexto"), found and resolved.

Petitions, comments and reports cite a constitution the way Mexican drafters write:
"Art. 16, A, 3", "artículo 16, apartado A, fracción II, inciso b)", "Art. 16 Bis",
"Título Sexto", "Capítulo II del Título Quinto", "Arts. 4 y 5", and English texts
"Section 3(1)(a)" or "Article 16, paragraph A". `parse_citations` finds such references in
text; `resolve` says which unit of a unit tree (see `units.read_units`) one names, or in plain
words why none does; `resolve_references` does both.

How a reference is read:

* It starts at a keyword naming a unit: Artículo/Art./Arts./Article/Section/s./§ (articles),
  Título/Title, Capítulo/Chapter. A lower unit named first ("la fracción II del artículo 16",
  "Capítulo II del Título Quinto") is read when "del"/"de la"/"of" and its enclosing unit follow;
  alone ("el apartado A") it names nothing this module can find and is skipped.
* After the number come components, separated by commas, "y"/"e"/"and", or attached in
  parentheses ("3(1)(a)"). A component named by its keyword ("apartado A", "numeral 3",
  "fracción II", "inciso b)") is of that kind. A bare one is read by its shape: an upper-case
  letter is an apartado (`paragraph`), an arabic number a numeral (`subparagraph`), an upper-case
  roman number a fracción (`point`), a lower-case letter with ")" an inciso (`indent`); but
  right after an apartado, I, V and X are its fracciones ("Art. 2, C, I"), not more apartados.
  Parenthesised components follow English and EU usage: "(1)" a paragraph, "(a)" a point.
* A component that does not go deeper than the one before it starts a sibling reference: in
  "Art. 16, A, 3, 4, B" the "4" is numeral 4 of apartado A, and "B" goes back up to apartado B
  of Artículo 16, so it cites 16-A-3, 16-A-4 and 16-B. After "Arts." (plural) or directly after
  "y" following an article's number, an arabic number is another article: "Arts. 4 y 5".
* "8-C", a number joined by a hyphen to a capital letter, is an article and its apartado. In the
  CDMX petitions table, "Art. 7, 8-C Art. 24" (smart-city petition) cites Artículo 7 and
  Artículo 8, apartado C ("Derecho a la ciencia y a la innovación tecnológica", the apartado the
  digital-rights petition cites as "Art. 8, C"), then Artículo 24. Reading it as numeral 8 of
  Artículo 7 would leave the "C" meaningless (Artículo 7 has apartados A to F, each with at most
  four numerals, and an apartado cannot sit inside a numeral). The other reading, an article
  pinned as "8-C" (as federal laws number "Artículo 17-H"), is kept as an alternative and wins
  only when Artículo 8 has no apartado C and such an article exists.
* A reference ends at anything else: "Art. 2, 3. Art. 7, A; Título Sexto" holds three, and
  ranges ("Arts. 4 a 6") are not read as such. A
  reference followed by the name of another law ("artículo 44 de la Constitución Política de los
  Estados Unidos Mexicanos", "de la Ley…", "del Código…") cites that law and is dropped.

What the shape leaves open is decided by what exists when resolving. A single capital letter
that is also a roman number (C, D, I, L, M, V, X) is an apartado or a fracción; an arabic number
a numeral or (in documents numbering their paragraphs 1, 2, 3) a paragraph; "8-C" as above.
Every such reading is kept in `Citation.alternatives`, and `resolve` takes the first that names
a unit. A component that is not a direct part of the unit before it is looked for deeper, so
"Section 3(1)(a)" finds point (a) even when an unnamed level sits between: if exactly one unit
matches it is taken, and `Resolution.note` says how the reference was read (unless the level
skipped is unnumbered and could not be named); if several match, the reference is unresolved
and the problem lists them ("Art. 16, 3": Artículo 16 has numerals only
inside its apartados). Numbers compare exactly, except words: "Título Sexto" names TÍTULO SEXTO,
"16 bis" names 16 Bis, "Capítulo Único" names CAPÍTULO ÚNICO.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .errors import NumberingError
from .numbering import NUMBERED_KINDS, format_label, parse_number

if TYPE_CHECKING:  # annotations only: units reads inline markup, which resolves citations
    from .units import Unit

#: A reading of a reference: `(kind, num)` steps, outermost first.
Path = tuple[tuple[str, str], ...]
#: A message as a code and its arguments (name, value pairs), said by the interface in the reader's language.
Said = tuple[str, tuple[tuple[str, object], ...]]


@dataclass(frozen=True)
class Citation:
    """A reference to a unit as it was found in a text.

    `text` is the reference as written, `text == source[start:end]`. When one reference names
    several units ("Art. 16, A, 3, 4, B"), the first citation spans from the keyword ("Art. 16,
    A, 3") and each later one only its own components ("4", "B"); `path` always names the whole
    unit: `(("article", "16"), ("paragraph", "A"), ("subparagraph", "4"))`. `alternatives` are
    the other readings the same words allow (see the module's notes), most likely first.
    """

    text: str
    path: Path
    start: int
    end: int
    alternatives: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """What a citation names in a unit tree.

    `unit` is the unit named, or None; then `problem` says why in plain words ("Artículo 12 has
    no apartado E", "there is no Artículo 99"). `note`, for a resolved citation, says where it
    skipped a numbered level ("read as Artículo 2, apartado A, numeral 3") and what else its
    words could name ("it could also mean Artículo 7-C"); None when it is plain.
    """

    citation: Citation
    unit: Unit | None
    problem: str | None
    note: str | None = None
    #: `problem` and the parts of `note` as codes and arguments, for the interface to say them in the
    #: reader's language (editor.petitions.messages): ("cite.missing", (("name", "Artículo 99"),)).
    problem_code: Said | None = None
    note_codes: tuple[Said, ...] = ()


def parse_citations(text: str) -> list[Citation]:
    """Every reference to a unit in `text`, in order (see the module's notes for the forms)."""
    citations: list[Citation] = []
    position = 0
    while match := _KEYWORD.search(text, position):
        reference = _Parser(text).reference(match.start())
        if reference is None:
            position = match.end()
            continue
        items, position = reference
        if not _EXTERNAL.match(text, position):
            citations.extend(item.citation(text) for item in items)
    return citations


def resolve(citation: Citation, units: Sequence[Unit]) -> Resolution:
    """The unit of `units` that `citation` names, or the reason none does."""
    return _Tree(units).resolve(citation)


def resolve_references(text: str, units: Sequence[Unit]) -> list[Resolution]:
    """Find every reference in `text` and resolve it against `units`, in order."""
    tree = _Tree(units)
    return [tree.resolve(citation) for citation in parse_citations(text)]


def resolver(units: Sequence[Unit]) -> Callable[[str], list[Resolution]]:
    """`resolve_references` over one unit tree, for many texts: the tree is indexed once."""
    tree = _Tree(units)
    return lambda text: [tree.resolve(citation) for citation in parse_citations(text)]


# --- reading references ------------------------------------------------------------------

_RANK: Final = {kind: rank for rank, kind in enumerate(NUMBERED_KINDS)}
#: Kinds named on their own, by a keyword and their label ("Artículo 16", "TÍTULO SEXTO").
_LABELLED: Final = ("title", "chapter", "article")

_KEYWORDS: Final = {
    "title": r"t[íi]tulos?|titles?",
    "chapter": r"cap[íi]tulos?|cap\.|chapters?",
    "article": r"art[íi]culos?|articles?|arts?\.?|sections?|secs?\.|ss?\.|§§?",
    "paragraph": r"apartados?|paragraphs?|paras?\.",
    "subparagraph": r"numerales|numeral|subparagraphs?|subparas?\.",
    "point": r"fracciones|fracci[óo]n|fracc?\.|fr\.|points?",
    "indent": r"incisos?|indents?",
}
_PLURAL_ARTICLES: Final = frozenset(
    {"arts", "artículos", "articulos", "articles", "sections", "secs", "ss", "§§"}
)

# A keyword, not inside a word, not followed by a letter ("arte", "partido" are no keywords).
_KEYWORD: Final = re.compile(
    r"(?<![\w§])(?:"
    + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _KEYWORDS.items())
    + r")(?![^\W\d_])\s*",
    re.IGNORECASE,
)

_SUFFIX: Final = r"(?i:bis|ter|qu[áa]ter|quinquies|sexies|septies|octies|nonies|decies)"
_ARABIC: Final = re.compile(rf"\d+(?:\s*-?\s*{_SUFFIX}(?![^\W\d_]))?(?![\w-])")
_COMPACT: Final = re.compile(r"(\d+)-([A-Z])(?!\w)")
_LETTERS: Final = re.compile(r"([A-Za-z]{1,4})(\)?)(?![\w(])")
_WORDS: Final = re.compile(r"([^\W\d_]+)(?:\s+([^\W\d_]+))?")
_PARENTHESISED: Final = re.compile(r"\s?(?P<whole>\(\s*(?P<value>\d+|[A-Za-z]{1,4})\s*\))")
_NAMED_AHEAD: Final = "|".join(_KEYWORDS[k] for k in NUMBERED_KINDS if k != "title")
_SEPARATOR: Final = re.compile(
    r"\s*,\s*(?:(?P<and1>y|e|and)\s+)?"
    r"|\s+(?P<and2>y|e|and)\s+"
    rf"|\s+(?=(?i:{_NAMED_AHEAD})(?![^\W\d_]))",
)
_OF: Final = re.compile(r"\s*,?\s+(?:del|de\s+l[ao]s?|de|of(?:\s+the)?)\s+", re.IGNORECASE)
# Names of other laws after a reference: what it cites is not in this document.
_EXTERNAL: Final = re.compile(
    r"\s*,?\s*(?:del?|de\s+l[ao]s?|of(?:\s+the)?)\s+(?:"
    r"Constituci[óo]n\s+(?:Pol[íi]tica\s+de\s+los\s+Estados|Federal)"
    r"|Ley|C[óo]digo|Reglamento|Decreto|Estatuto|Convenci[óo]n|Tratado|Pacto|Declaraci[óo]n"
    r"|Act|Code|Regulation|Directive|Treaty|Convention)\b"
)
_SOLE: Final = re.compile(r"(?i:[úu]nic[oa])(?![^\W\d_])")

# Bare components by shape: the kinds each may be, the plain reading first.
_AS_ARABIC: Final = ("subparagraph", "paragraph")
_AS_CAPITAL: Final = ("paragraph",)
_AS_CAPITAL_ROMAN: Final = ("paragraph", "point")  # C, D, I, L, M, V, X
# Right after an apartado these are its fracciones I, V and X, not more apartados; the other
# letters that are roman numbers (L = 50, C = 100…) are too large to be fracciones.
_FIRST_ROMANS: Final = frozenset("IVX")
_AS_ROMAN: Final = ("point",)
_AS_SMALL: Final = ("indent", "point")
_AS_SMALL_ROMAN: Final = ("point", "indent")
# In parentheses, English and EU usage: "(1)" paragraph, "(a)" point, "(i)" point or deeper.
_IN_PARENTHESES: Final[dict[tuple[str, ...], tuple[str, ...]]] = {
    _AS_ARABIC: ("paragraph", "subparagraph"),
    _AS_SMALL: ("point", "subparagraph", "indent"),
    _AS_SMALL_ROMAN: ("point", "indent", "subparagraph"),
}

#: More readings than this of one reference are not worth trying.
_MAX_READINGS: Final = 32


@dataclass(frozen=True)
class _Part:
    """One component as written: the readings it allows (each a run of steps), plain first."""

    readings: tuple[Path, ...]
    start: int
    end: int

    @property
    def first_rank(self) -> int:
        return _RANK[self.readings[0][0][0]]

    @property
    def last_rank(self) -> int:
        return _RANK[self.readings[0][-1][0]]


@dataclass(frozen=True)
class _Item:
    """One unit a reference names: its parts outermost first, and the span it is cited by."""

    parts: tuple[_Part, ...]
    start: int
    end: int

    def under(self, outer: _Item) -> _Item:
        return _Item((*outer.parts, *self.parts), self.start, self.end)

    def citation(self, text: str) -> Citation:
        readings: list[Path] = []
        for combination in itertools.product(*(part.readings for part in self.parts)):
            path = tuple(step for run in combination for step in run)
            if not readings or (_nests(path) and path not in readings):
                readings.append(path)
            if len(readings) > _MAX_READINGS:
                break
        return Citation(
            text[self.start : self.end], readings[0], self.start, self.end, tuple(readings[1:])
        )


class _Chain:
    """The parts of one reference as they come, split into the units it names."""

    def __init__(self, start: int) -> None:
        self.stack: list[_Part] = []
        self.items: list[_Item] = []
        self.start = start
        self.end = start
        self.pending = False

    def push(self, part: _Part) -> None:
        if self.pending and part.first_rank <= self.stack[-1].last_rank:
            self.flush()  # not deeper: a sibling, or back up to an outer level
        while self.stack and self.stack[-1].last_rank >= part.first_rank:
            self.stack.pop()
        if not self.pending and self.items:
            self.start = part.start
        self.stack.append(part)
        self.end = part.end
        self.pending = True

    def flush(self) -> None:
        if self.pending:
            self.items.append(_Item(tuple(self.stack), self.start, self.end))
            self.pending = False

    @property
    def top_kind(self) -> str:
        return self.stack[-1].readings[0][-1][0]


class _Parser:
    """Reads one reference at a position of the text (see the module's notes)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def reference(self, start: int) -> tuple[list[_Item], int] | None:
        """The units the reference at `start` names and where it ends, or None if it is none."""
        keyword = _KEYWORD.match(self.text, start)
        if keyword is None:
            return None
        kind = str(keyword.lastgroup)
        head = self.named(kind, keyword.end())
        if head is None:
            return None
        chain = _Chain(start)
        chain.push(head)
        plural = _is_plural(keyword.group(kind))
        end = self.components(chain, head.end, plural)
        chain.flush()
        items = chain.items

        of = _OF.match(self.text, end)
        if of and not _EXTERNAL.match(self.text, end):
            outer = self.reference(of.end())
            if outer is not None and outer[0] and all(
                part.last_rank < head.first_rank for item in outer[0] for part in item.parts
            ):
                outer_items, end = outer
                items = [
                    item.under(container) for container in outer_items for item in items
                ]
                last = items[-1]
                items[-1] = _Item(last.parts, last.start, end)
                return items, end
        if kind not in _LABELLED:
            return [], end  # "el apartado A": its article is not named
        return items, end

    def components(self, chain: _Chain, position: int, plural: bool) -> int:
        """Push the components that follow a reference's head; return where they end."""
        while True:
            attached = _PARENTHESISED.match(self.text, position)
            if attached:
                value, span = attached.group("value"), attached.span("whole")
                part = self.bare(value, span, articles=False, parenthesised=True)
                if part is None:
                    return position
                chain.push(part)
                position = part.end
                continue
            separator = _SEPARATOR.match(self.text, position)
            if separator is None:
                return position
            after = separator.end()
            keyword = _KEYWORD.match(self.text, after)
            if keyword is not None and keyword.lastgroup != "title":
                kind = str(keyword.lastgroup)
                part = self.named(kind, keyword.end())
                if kind == "article":
                    plural = _is_plural(keyword.group(kind))
                if part is not None:
                    part = _Part(part.readings, after, part.end)
            else:
                conjunction = separator.group("and1") or separator.group("and2")
                articles = plural or bool(conjunction and chain.top_kind == "article")
                part = self.bare_at(after, articles, chain.top_kind)
            if part is None:
                return position
            chain.push(part)
            position = part.end

    def named(self, kind: str, position: int) -> _Part | None:
        """The number after a keyword of `kind`, as a part of that kind."""
        text = self.text
        if kind in ("title", "chapter"):
            words = _WORDS.match(text, position)
            if words:
                for end in (words.end(), words.end(1)):
                    written = " ".join(text[position:end].split())
                    if _SOLE.fullmatch(written) or _reads(written, "ordinal-es"):
                        return _Part((((kind, written.upper()),),), position, end)
        if kind in _LABELLED:
            sole = _SOLE.match(text, position)
            if sole:
                return _Part((((kind, sole.group().upper()),),), position, sole.end())
        if kind == "article":
            compact = _COMPACT.match(text, position)
            if compact:
                return _compact(compact)
        arabic = _ARABIC.match(text, position)
        if arabic:
            return _Part((((kind, _spaced(arabic.group())),),), position, arabic.end())
        letters = _LETTERS.match(text, position)
        if letters is None or _shape(value := letters.group(1)) is None:
            return None
        if kind in _LABELLED and not _reads(value, "upper-roman"):
            return None  # "Título A" is no title
        return _Part((((kind, value),),), position, letters.end())

    def bare_at(self, position: int, articles: bool, after: str) -> _Part | None:
        """The component without a keyword at `position`, read by its shape and by the kind
        (`after`) of the component before it."""
        compact = _COMPACT.match(self.text, position)
        if compact:
            return _compact(compact)
        arabic = _ARABIC.match(self.text, position)
        if arabic:
            return self.bare(arabic.group(), arabic.span(), articles)
        letters = _LETTERS.match(self.text, position)
        if letters is None:
            return None
        value, closed = letters.groups()
        if value.islower() and not closed:
            return None  # a lower-case letter is an inciso only as "b)": "a" is a word
        if after == "paragraph" and value in _FIRST_ROMANS:
            return _Part(((("point", value),),), *letters.span())  # "Art. 2, C, I": fracción I
        return self.bare(value, letters.span(), articles)

    def bare(
        self, value: str, span: tuple[int, int], articles: bool, parenthesised: bool = False
    ) -> _Part | None:
        """A component read by its shape: the kinds `_shape` allows, or an article in a list."""
        kinds = ("article",) if articles and value[0].isdigit() else _shape(value)
        if kinds is None:
            return None
        if parenthesised:
            kinds = _IN_PARENTHESES.get(kinds, kinds)
        num = _spaced(value)
        return _Part(tuple(((kind, num),) for kind in kinds), *span)


def _compact(match: re.Match[str]) -> _Part:
    """ "8-C": Artículo 8, apartado C (or fracción C), or an article numbered "8-C"."""
    article, letter = match.groups()
    kinds = _shape(letter) or ()
    readings: list[Path] = [(("article", article), (kind, letter)) for kind in kinds]
    readings.append((("article", match.group()),))
    return _Part(tuple(readings), match.start(), match.end())


def _shape(value: str) -> tuple[str, ...] | None:
    """The kinds a bare component may be, by its shape; None if it is no component."""
    if value[0].isdigit():
        return _AS_ARABIC
    if value.isupper():
        if len(value) == 1:
            return _AS_CAPITAL_ROMAN if _reads(value, "upper-roman") else _AS_CAPITAL
        if _reads(value, "upper-roman"):
            return _AS_ROMAN
        return _AS_CAPITAL if len(value) == 2 else None
    if value.islower():
        if len(value) > 1 and _reads(value, "lower-roman"):
            return _AS_SMALL_ROMAN
        return _AS_SMALL if len(value) <= 2 else None
    return None


def _is_plural(keyword: str) -> bool:
    return keyword.lower().rstrip(".") in _PLURAL_ARTICLES


def _spaced(text: str) -> str:
    return " ".join(text.split())


def _nests(path: Path) -> bool:
    """Whether each step is of a kind that can sit (at some depth) inside the one before."""
    return all(_RANK[a] < _RANK[b] for (a, _), (b, _) in itertools.pairwise(path))


def _reads(text: str, style: str) -> bool:
    try:
        parse_number(style, text)
    except NumberingError:
        return False
    return True


# --- comparing numbers -------------------------------------------------------------------


def _same_number(cited: str, num: str) -> bool:
    """Whether a number as cited names a unit numbered `num`.

    Digits, letters and roman numbers compare exactly ("A" is not "a", "II" not "ii"); words
    compare without case or accents ("16 bis" is "16 Bis", "Único" is "ÚNICO"), and Spanish
    ordinals by their value ("Decimoprimero" is "DÉCIMO PRIMERO"). An unnumbered unit (`num`
    "") is named by nothing.
    """
    if not cited.strip() or not num.strip():
        return False
    if _reads(cited, "ordinal-es") and _reads(num, "ordinal-es"):
        return parse_number("ordinal-es", cited) == parse_number("ordinal-es", num)
    return _number_key(cited) == _number_key(num)


def _number_key(num: str) -> tuple[str, ...]:
    key = []
    for token in re.findall(r"\d+|[^\W\d_]+", num):
        is_word = len(token) > 2 and not token.isdigit()
        is_roman = _reads(token, "upper-roman") or _reads(token, "lower-roman")
        key.append(_folded(token) if is_word and not is_roman else token)
    return tuple(key)


def _folded(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.upper())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- resolving -----------------------------------------------------------------------------

_NAMES: Final = {
    "spa": {
        "title": ("Título", "Títulos"),
        "chapter": ("Capítulo", "Capítulos"),
        "article": ("Artículo", "Artículos"),
        "paragraph": ("apartado", "apartados"),
        "subparagraph": ("numeral", "numerales"),
        "point": ("fracción", "fracciones"),
        "indent": ("inciso", "incisos"),
    },
    "eng": {
        "title": ("Title", "Titles"),
        "chapter": ("Chapter", "Chapters"),
        "article": ("Article", "Articles"),
        "paragraph": ("paragraph", "paragraphs"),
        "subparagraph": ("subparagraph", "subparagraphs"),
        "point": ("point", "points"),
        "indent": ("indent", "indents"),
    },
}


@dataclass(frozen=True)
class _Found:
    """What one reading of a citation names: a unit (with how it was found), or a problem."""

    unit: Unit | None
    problem: str | None = None
    note: str | None = None
    problem_code: Said | None = None
    note_codes: tuple[Said, ...] = ()


class _Tree:
    """A unit tree with what resolving needs: every unit's ancestors and the document language."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = tuple(units)
        self.ancestors: dict[int, tuple[Unit, ...]] = {}
        self.everything: list[Unit] = []
        for unit, ancestors in _walk(self.units, ()):
            self.ancestors[id(unit)] = ancestors
            # "Artículo 1" names the body's article, not a schedule's (they count within it).
            if unit.kind != "attachment" and not any(a.kind == "attachment" for a in ancestors):
                self.everything.append(unit)
        english = ("Article ", "TITLE ", "CHAPTER ")  # labels of English documents
        is_english = any(unit.label.startswith(english) for unit in self.everything)
        self.language = "eng" if is_english else "spa"

    def resolve(self, citation: Citation) -> Resolution:
        if not citation.path:
            return Resolution(citation, None, "the citation names no unit", problem_code=("cite.no_unit", ()))
        readings = (citation.path, *citation.alternatives)
        first = self.find(citation.path)
        for index, reading in enumerate(readings):
            found = first if index == 0 else self.find(reading)
            if found.unit is None:
                continue
            notes = [found.note] if found.note else []
            codes = list(found.note_codes)
            others: dict[int, Unit] = {}  # the other units the words can name, by identity
            for other in readings[index + 1 :]:
                unit = self.find(other).unit
                if unit is not None and unit is not found.unit:
                    others.setdefault(id(unit), unit)
            if others:
                meanings = " or ".join(self.describe(unit) for unit in others.values())
                notes.append(f"it could also mean {meanings}")
                codes.append(("cite.also", (("meanings", tuple(self.describe(unit) for unit in others.values())),)))
            return Resolution(citation, found.unit, None, "; ".join(notes) or None, note_codes=tuple(codes))
        return Resolution(citation, None, first.problem, problem_code=first.problem_code)

    def find(self, path: Path) -> _Found:
        """The unit `path` names: its first step anywhere, each next one inside the last."""
        kind, num = path[0]
        matches = _numbered(self.everything, kind, num)
        if not matches:
            return _Found(None, f"there is no {self.name(kind, num)}",
                          problem_code=("cite.missing", (("name", self.name(kind, num)),)))
        if len(matches) > 1:
            where = "; ".join(self.whereabouts(unit) for unit in matches)
            return _Found(
                None,
                f"{self.name(kind, num)} is ambiguous: there are {len(matches)} ({where}); "
                "say which",
                problem_code=("cite.ambiguous", (("name", self.name(kind, num)), ("count", len(matches)),
                                                 ("places", tuple(self.whereabouts_code(u) for u in matches)))),
            )
        current, notes = matches[0], []
        codes: list[Said] = []
        for kind, num in path[1:]:
            named = _numbered(current.children, kind, num)
            if named:
                current = named[0]
                continue
            deeper = _numbered(_descendants(current), kind, num)
            if not deeper:
                return _Found(None, f"{self.describe(current)} has no {self.name(kind, num)}",
                              problem_code=("cite.no_child", (("unit", self.describe(current)),
                                                              ("name", self.name(kind, num)),
                                                              ("guid", current.guid))))
            if len(deeper) > 1:
                return _Found(
                    None,
                    f"{self.describe(current)} has no {self.name(kind, num)} of its own, and "
                    f"{len(deeper)} of its parts have one ({self.places(deeper, current)}); "
                    "say which",
                    problem_code=("cite.deeper", (("unit", self.describe(current)), ("name", self.name(kind, num)),
                                                  ("count", len(deeper)), ("places", self.places(deeper, current)))),
                )
            skipped = self.ancestors[id(deeper[0])][len(self.ancestors[id(current)]) + 1 :]
            # Naming an article's title or chapter is optional (articles are numbered across
            # them), and an unnumbered unit in between cannot be named at all: no guess there.
            if kind != "article" and any(unit.num for unit in skipped):
                notes.append(
                    f"{self.describe(current)} has no {self.name(kind, num)} of its own; "
                    f"read as {self.describe(deeper[0])}"
                )
                codes.append(("cite.read_as", (("unit", self.describe(current)), ("name", self.name(kind, num)),
                                               ("read", self.describe(deeper[0])))))
            current = deeper[0]
        return _Found(current, None, "; ".join(notes) or None, note_codes=tuple(codes))

    def name(self, kind: str, num: str) -> str:
        """A unit as a message names it: "Artículo 12", "TÍTULO NOVENO", "apartado E"."""
        if kind in _LABELLED:
            return format_label(kind, num, self.language)
        word = _NAMES[self.language][kind][0]
        return f"{word} {num})" if kind == "indent" else f"{word} {num}"

    def describe(self, unit: Unit) -> str:
        """A unit named in full: "Artículo 16, apartado A, numeral 3", "TÍTULO V, CAPÍTULO II"."""
        chain = (*self.ancestors[id(unit)], unit)
        articles = [index for index, u in enumerate(chain) if u.kind == "article"]
        if articles:
            chain = chain[articles[-1] :]  # an article's number names it on its own
        return ", ".join(self.part_name(u) for u in chain if u.kind != "preamble")

    def whereabouts(self, unit: Unit) -> str:
        """Where a unit sits: "in TÍTULO CUARTO", or its eId when it stands at the top."""
        ancestors = self.ancestors[id(unit)]
        return f"in {self.describe(ancestors[-1])}" if ancestors else unit.eid

    def whereabouts_code(self, unit: Unit) -> tuple[str, str]:
        """`whereabouts` for the interface: ("in", "TÍTULO CUARTO"), or ("eid", its eId) at the top."""
        ancestors = self.ancestors[id(unit)]
        return ("in", self.describe(ancestors[-1])) if ancestors else ("eid", unit.eid)

    def part_name(self, unit: Unit) -> str:
        if unit.kind not in _NAMES[self.language]:  # a schedule ("ANEXO 1"), a transitional group
            return unit.label or unit.eid
        if not unit.num:
            word = _NAMES[self.language][unit.kind][0]
            # In the document's language, as the rest of the name: "fracción sin número".
            return f"an unnumbered {word}" if self.language == "eng" else f"{word} sin número"
        return unit.label if unit.kind in _LABELLED else self.name(unit.kind, unit.num)

    def places(self, units: list[Unit], inside: Unit) -> str:
        """Where `units` are inside `inside`: "apartados A, B, C", or each one's full name."""
        depth = len(self.ancestors[id(inside)]) + 1
        parents = [self.ancestors[id(unit)][depth:] for unit in units]
        if all(len(p) == 1 for p in parents) and len({p[0].kind for p in parents}) == 1:
            plural = _NAMES[self.language][parents[0][0].kind][1]
            nums = [p[0].num for p in parents]
            return f"{plural} {', '.join(nums)}"
        return "; ".join(self.describe(unit) for unit in units)


def _walk(
    units: Sequence[Unit], ancestors: tuple[Unit, ...]
) -> Iterator[tuple[Unit, tuple[Unit, ...]]]:
    """Every unit in document order with its ancestors, outermost first."""
    for unit in units:
        yield unit, ancestors
        yield from _walk(unit.children, (*ancestors, unit))


def _numbered(units: Iterable[Unit], kind: str, num: str) -> list[Unit]:
    """The units of `kind` among `units` that a citation of `num` names."""
    return [unit for unit in units if unit.kind == kind and _same_number(num, unit.num)]


def _descendants(unit: Unit) -> Iterator[Unit]:
    """Every unit inside `unit`, in document order."""
    for child in unit.children:
        yield child
        yield from _descendants(child)
