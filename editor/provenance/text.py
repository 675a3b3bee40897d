"""Spanish-aware text comparison, shared by the theme coder and the link suggester.

People write "Inseguridad", "la inseguridad en las calles", "INSEGURIDAD!!", "contaminacion"
and "áreas verdes"; clauses say "seguridad ciudadana" and "espacios verdes". To compare them:

* `fold` lower-cases, strips accents (keeping ñ as n) and punctuation;
* `stem` folds plurals and a few derivational endings so that "calles" ~ "calle",
  "contaminación" ~ "contaminar" ~ "contaminantes";
* `terms` gives the stems of the content words of a text (Spanish and English stop words out);
* `Corpus` weighs terms by inverse document frequency over a set of texts (the units of a
  document) and ranks them by cosine similarity to a query (a petition, a theme).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset(
    """
    a al algo algun alguna algunas alguno algunos ante antes aqui asi aun cada casi como con
    contra cual cuales cuando cuyo de del desde donde dos el ella ellas ello ellos en entre era
    eran es esa esas ese eso esos esta estan estas este esto estos fue fueron ha han hasta hay la
    las le les lo los mas me mi mis mucho muy ni no nos nuestra nuestro o otra otras otro otros
    para pero poco por porque que quien quienes se sea sean segun ser si sido sin sobre solo su
    sus tal tambien tan tanto te tiene tienen toda todas todo todos tu tus un una unas uno unos
    y ya yo usted ustedes cdmx ciudad mexico
    the of and or to in on for with by as at from is are be this that these those it its an
    """.split()
)

# Derivational endings folded to a common stem, longest first. Deliberately light: the aim is
# that inflections of one word meet, not that related words collapse ("seguridad" and
# "inseguridad" stay apart; the theme taxonomy relates them by synonyms).
_SUFFIXES = (
    "amientos", "imientos", "amiento", "imiento", "aciones", "iciones", "uciones",
    "acion", "icion", "ucion", "antes", "entes", "mente", "ante", "ente",
    "ables", "ibles", "able", "ible", "idades", "idad", "ivas", "ivos", "iva", "ivo",
    "ales", "al", "ando", "iendo", "ados", "idos", "adas", "idas", "ado", "ido", "ada", "ida",
    "ar", "er", "ir",
)


def fold(text: str) -> str:
    """Lower-case, accents stripped ("Contaminación" → "contaminacion"), punctuation to spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(stripped))


def stem(word: str) -> str:
    """A light Spanish stem of a folded word: plural and common derivational endings removed."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:  # plural suffixes ("-aciones", "-antes") are in the list
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if word.endswith("ces") and len(word) > 4:  # luces → luz
        word = word[:-3] + "z"
    elif word.endswith("es") and len(word) > 4 and word[-3] not in "aeiou":
        word = word[:-2]  # "ciudades" → "ciudad", "mujeres" → "mujer", "calles" → "call"
    elif word.endswith("s") and len(word) > 3:
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if len(word) > 4 and word[-1] in "aeo":
        return word[:-1]  # verde/verdes, calle/calles, agua
    return word


def terms(text: str) -> list[str]:
    """The stems of the content words of `text`, in order (stop words and 1-letter words out)."""
    return [stem(w) for w in fold(text).split() if w not in STOPWORDS and len(w) > 1]


def phrase_terms(phrase: str) -> tuple[str, ...]:
    """A synonym or query phrase as the sequence of its content stems."""
    return tuple(terms(phrase))


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether the stems of `phrase` occur consecutively in `haystack` (both from `terms`)."""
    n = len(phrase)
    if n == 0:
        return False
    if n == 1:
        return phrase[0] in haystack
    first = phrase[0]
    return any(haystack[i : i + n] == list(phrase) for i, t in enumerate(haystack) if t == first)


@dataclass(frozen=True)
class Ranked:
    key: object
    score: float


class Corpus:
    """TF-IDF vectors of a set of texts (each under a key), for ranking them against a query."""

    def __init__(self, items: Iterable[tuple[object, str]]) -> None:
        self.keys: list[object] = []
        counts: list[Counter] = []
        for key, text in items:
            self.keys.append(key)
            counts.append(Counter(terms(text)))
        df: Counter = Counter()
        for c in counts:
            df.update(c.keys())
        n = max(len(counts), 1)
        self.idf = {t: math.log((1 + n) / (1 + f)) + 1.0 for t, f in df.items()}
        self._default_idf = math.log(1 + n) + 1.0
        self.vectors = [self._weigh(c) for c in counts]

    def _weigh(self, counts: Counter) -> dict[str, float]:
        vector = {t: (1 + math.log(f)) * self.idf.get(t, self._default_idf) for t, f in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def vector(self, text: str) -> dict[str, float]:
        return self._weigh(Counter(terms(text)))

    def rank(self, query: str, limit: int = 10, minimum: float = 0.05) -> list[Ranked]:
        """The keys whose texts are most similar to `query`, best first, above `minimum`."""
        q = self.vector(query)
        if not q:
            return []
        scored = []
        for key, vector in zip(self.keys, self.vectors, strict=True):
            small, large = (q, vector) if len(q) < len(vector) else (vector, q)
            score = sum(w * large.get(t, 0.0) for t, w in small.items())
            if score >= minimum:
                scored.append(Ranked(key, round(score, 4)))
        scored.sort(key=lambda r: -r.score)
        return scored[:limit]


def containment(part: str, whole: str) -> float:
    """Share of the content words of `part` found in `whole` (0..1): how much of a unit's old
    text now lives in another unit."""
    a = Counter(terms(part))
    if not a:
        return 0.0
    b = Counter(terms(whole))
    return sum(min(n, b[t]) for t, n in a.items()) / sum(a.values())
