"""An import's findings in the reader's language.

The importers (`akoma_ntoso`) say what they could not carry over in English, and the plain-text
importer also gives each finding a `code` and its `args`. Here those are said again through the
catalogue, so that a Spanish import page reads in Spanish. English readers, and findings without a
code (Akoma Ntoso and Word findings, for now), get the importer's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from flask_babel import get_locale, gettext, ngettext

from akoma_ntoso import Finding


def describe(finding: Finding) -> tuple[str, str]:
    """(where, message) for the import report, in the reader's language."""
    say = SAYINGS.get(finding.code)
    if say is None or str(get_locale()) == "en":
        return finding.where, finding.message
    return _where(finding.where), say(dict(finding.args))


def _where(where: str) -> str:
    match = re.fullmatch(r"line (\d+)", where)
    return gettext("line %(n)s", n=match[1]) if match else where


def _lines(runs: Sequence[Sequence[int]]) -> str:
    """"línea 3", "líneas 1–25 y 30": runs of line numbers as (first, last)."""
    parts = [f"{first}" if first == last else f"{first}–{last}" for first, last in runs]
    joined = parts[0] if len(parts) == 1 else gettext("%(some)s and %(last)s", some=", ".join(parts[:-1]), last=parts[-1])
    single = len(runs) == 1 and runs[0][0] == runs[0][1]
    return gettext("line %(n)s", n=joined) if single else gettext("lines %(n)s", n=joined)


def _paragraphs(count: int) -> str:
    return ngettext("%(num)d paragraph", "%(num)d paragraphs", count)


def _opening(a: Mapping) -> str:
    lines, paragraphs = _lines(a["runs"]), _paragraphs(a["count"])
    if "first" in a:
        text = gettext("%(lines)s (%(paragraphs)s) before “%(first)s” (line %(line)s) not imported: they come before "
                       "the constitutional text (publication data, promulgation decree…)",
                       lines=lines, paragraphs=paragraphs, first=a["first"], line=a["first_line"])
    else:
        text = gettext("%(lines)s (%(paragraphs)s) not imported: the text has no preamble, title, chapter or article "
                       "marker to start from", lines=lines, paragraphs=paragraphs)
    if "title" in a:
        text += gettext("; line %(line)s “%(title)s” became the document title", line=a["title_line"], title=a["title"])
    return text


def _heading_rule(a: Mapping) -> str:
    stop = (gettext("a final full stop only when no blank line separates it from the number") if a["period"]
            else gettext("not even a final full stop"))
    text = ngettext("%(num)d article heading read from the line right after the article's number, as the rule goes: "
                    "a phrase of at most %(limit)s characters with no closing punctuation (%(stop)s) is the heading, "
                    "anything else the article's first paragraph",
                    "%(num)d article headings read from the line right after the article's number, as the rule goes: "
                    "a phrase of at most %(limit)s characters with no closing punctuation (%(stop)s) is the heading, "
                    "anything else the article's first paragraph", a["count"], limit=a["limit"], stop=stop)
    if a["long"]:
        text += ngettext("; %(num)d of them reads like a first sentence rather than a heading, check %(lines)s",
                         "; %(num)d of them read like a first sentence rather than a heading, check %(lines)s",
                         a["long"], lines=_lines(a["runs"]))
    return text


def _reform_notes(a: Mapping) -> str:
    return ngettext("%(num)d reform note in square brackets (e.g. %(example)s) not imported: it records the "
                    "compilation's history, not constitutional text (%(lines)s)",
                    "%(num)d reform notes in square brackets (e.g. %(example)s) not imported: they record the "
                    "compilation's history, not constitutional text (%(lines)s)",
                    a["count"], example=a["example"], lines=_lines([(n, n) for n in a["lines"]]))


def _trailing(a: Mapping) -> str:
    values = {"quote": a["quote"], "item_kind": a["item_kind"], "holder": a["holder"],
              "holder_kind": a["holder_kind"], "item": a["item"]}
    if a["count"] == 1:
        return gettext("%(quote)s comes after the last %(item_kind)s of %(holder)s and most likely belongs to that "
                       "%(holder_kind)s itself, but the model puts a unit's own paragraphs before its sub-units; it "
                       "was kept as a paragraph of %(item)s", **values)
    return gettext("%(count)s paragraphs (%(lines)s, from %(quote)s) come after the last %(item_kind)s of %(holder)s "
                   "and most likely belong to that %(holder_kind)s itself, but the model puts a unit's own paragraphs "
                   "before its sub-units; they were kept as paragraphs of %(item)s",
                   count=a["count"], lines=_lines(a["runs"]), **values)


SAYINGS: dict[str, Callable[[Mapping], str]] = {
    "text.opening": _opening,
    "text.heading_rule": _heading_rule,
    "text.reform_notes": _reform_notes,
    "text.trailing": _trailing,
    "text.sub_heading": lambda a: gettext(
        "%(quote)s reads as a sub-heading over the units that follow, but the model has no headings between "
        "sub-units; it was kept as a paragraph of %(place)s", quote=a["quote"], place=a["place"]),
    "text.nesting": lambda a: gettext(
        "%(label)s opens right after %(after)s as if it were part of it, but the model allows no %(kind)s inside "
        "that %(inside)s; it was placed after it, in %(place)s",
        label=a["label"], after=a["after"], kind=a["kind"], inside=a["inside"], place=a["place"]),
    "text.closing": lambda a: gettext(
        "%(lines)s (%(paragraphs)s, from %(quote)s) not imported: the closing (where and when it was given, the "
        "signatures) is no provision", lines=_lines(a["runs"]), paragraphs=_paragraphs(a["count"]), quote=a["quote"]),
    "text.transitory_lists": lambda a: ngettext(
        "%(num)d transitory article with numbered lists (I., 1., a) …): its items are kept as paragraphs",
        "%(num)d transitory articles with numbered lists (I., 1., a) …): their items are kept as paragraphs",
        a["count"]),
}
