"""Legal units named as drafters cite them, in Spanish or English: "Artículo 16, apartado A,
numeral 3" (`unit_name`, for references and reviews: from the innermost article down). The
amendment's own citation, which also names preambles and unnumbered units and starts from the
outermost article, is `akoma_ntoso.amendment.citation`."""

from __future__ import annotations

from collections.abc import Sequence

from .units import Unit, ancestors

#: The word for a numbered unit below an article, per language.
KIND_WORDS = {
    "spa": {"paragraph": "apartado", "subparagraph": "numeral", "point": "fracción", "indent": "inciso"},
    "eng": {"paragraph": "paragraph", "subparagraph": "subparagraph", "point": "point", "indent": "indent"},
}
KIND_PLURALS = {
    "spa": {"paragraph": "apartados", "subparagraph": "numerales", "point": "fracciones", "indent": "incisos"},
    "eng": {"paragraph": "paragraphs", "subparagraph": "subparagraphs", "point": "points", "indent": "indents"},
}


def component(kind: str, num: str, language: str) -> str:
    word = KIND_WORDS[language].get(kind, kind)
    return f"{word} {num})" if kind == "indent" else f"{word} {num}"


def unit_name(units: Sequence[Unit], unit: Unit, language: str = "spa") -> str:
    """A unit named in full as drafters cite it: "Artículo 16, apartado A, numeral 3"."""
    chain = (*(ancestors(units, unit.guid) or ()), unit)
    # A schedule's articles count within it: "ANEXO 1, Artículo 2".
    schedule = [u for u in chain[:1] if u.kind == "attachment" and u is not unit and u.label]
    articles = [i for i, u in enumerate(chain) if u.kind == "article"]
    if articles:
        chain = (*schedule, *chain[articles[-1]:])
    parts = []
    for u in chain:
        if u.kind == "preamble":
            continue
        if u.kind in ("title", "chapter", "article", "attachment"):
            parts.append(u.label or u.eid)
        elif u.num:
            parts.append(component(u.kind, u.num, language))
    return ", ".join(parts) or unit.eid
