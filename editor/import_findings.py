"""An import's findings in the reader's language, each linked to the unit it concerns.

The importers (`akoma_ntoso`) say what they could not carry over in English, and give each finding
a `code` and its `args`. Here those are said again through the catalogue, so that a Spanish import
page reads in Spanish; English readers get the importer's own words. A finding made where a unit
of the imported document stands (a line of a plain text, a Word paragraph, an element of an Akoma
Ntoso file) links to that unit's address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from flask_babel import get_locale, gettext, ngettext

from akoma_ntoso import Built, Finding, Unit, iter_units


@dataclass(frozen=True)
class Shown:
    """A finding as the import report shows it: where in the source, what, and the unit concerned
    (its eId in the imported document; "" when the finding concerns no unit)."""

    where: str
    message: str
    code: str
    eid: str = ""
    label: str = ""


def describe(finding: Finding, unit: Unit | None = None) -> Shown:
    """The finding in the reader's language, with the unit it concerns (see `unit_of`)."""
    eid, label = (unit.eid, unit.label) if unit is not None else ("", "")
    say = SAYINGS.get(finding.code)
    if say is None or str(get_locale()) == "en":
        return Shown(finding.where, finding.message, finding.code, eid, label)
    return Shown(_where(finding.where), say(dict(finding.args)), finding.code, eid, label)


def describe_all(built: Built) -> list[Shown]:
    """Every finding of an import, in the reader's language, each with the unit it concerns."""
    return [describe(finding, unit_of(finding, built)) for finding in built.findings]


#: Findings about the source as a whole or what lies outside its units: no unit to link to.
_NO_UNIT = {"text.opening", "text.closing", "text.heading_rule", "text.bare_sections", "text.inverted",
            "docx.underline", "akn.draft_namespace", "akn.version_2", "akn.collection", "akn.no_meta",
            "akn.language", "akn.work_uri"}


def unit_of(finding: Finding, built: Built) -> Unit | None:
    """The imported unit a finding concerns: for a plain text or a Word draft, the unit whose
    source begins last at or before the finding's line or paragraph; for an Akoma Ntoso file, the
    unit built from the innermost element that holds the finding's element."""
    if finding.code in _NO_UNIT or not built.places:
        return None
    guid = _place(finding.where, built.places)
    if guid is None:
        return None
    return next((unit for unit in iter_units(built.units) if unit.guid == guid), None)


def _place(where: str, places: Mapping[str, str]) -> str | None:
    numbered = re.fullmatch(r"(line|paragraph)s? (\d+)\b.*", where)
    if numbered:
        before = [(int(m[2]), guid) for place, guid in places.items()
                  if (m := re.fullmatch(r"(line|paragraph) (\d+)", place)) and m[1] == numbered[1]
                  and int(m[2]) <= int(numbered[2])]
        return max(before)[1] if before else None
    path = where
    while path and path != "/":
        if path in places:
            return places[path]
        path = path.rsplit("/", 1)[0]
    return None


def _where(where: str) -> str:
    match = re.fullmatch(r"(line|paragraph) (\d+)", where)
    if not match:
        return where
    return gettext("line %(n)s", n=match[2]) if match[1] == "line" else gettext("paragraph %(n)s", n=match[2])


def _lines(runs: Sequence[Sequence[int]], a: Mapping | None = None) -> str:
    """"línea 3", "líneas 1–25 y 30": runs of line numbers as (first, last); of Word paragraphs
    where the finding counts paragraphs (`counting`)."""
    parts = [f"{first}" if first == last else f"{first}–{last}" for first, last in runs]
    joined = parts[0] if len(parts) == 1 else gettext("%(some)s and %(last)s", some=", ".join(parts[:-1]), last=parts[-1])
    single = len(runs) == 1 and runs[0][0] == runs[0][1]
    if a is not None and a.get("counting") == "paragraph":
        return gettext("paragraph %(n)s", n=joined) if single else gettext("paragraphs %(n)s", n=joined)
    return gettext("line %(n)s", n=joined) if single else gettext("lines %(n)s", n=joined)


def _line(number: int, a: Mapping) -> str:
    """"línea 29" (a Word paragraph's number where the finding counts paragraphs)."""
    return _lines([(number, number)], a)


def _paragraphs(count: int) -> str:
    return ngettext("%(num)d paragraph", "%(num)d paragraphs", count)


def _opening(a: Mapping) -> str:
    lines, paragraphs = _lines(a["runs"], a), _paragraphs(a["count"])
    if "first" in a and a.get("counting") == "paragraph":
        text = gettext("%(lines)s (%(paragraphs)s) before “%(first)s” (paragraph %(line)s) not imported: they come "
                       "before the constitutional text (publication data, promulgation decree…)",
                       lines=lines, paragraphs=paragraphs, first=a["first"], line=a["first_line"])
    elif "first" in a:
        text = gettext("%(lines)s (%(paragraphs)s) before “%(first)s” (line %(line)s) not imported: they come before "
                       "the constitutional text (publication data, promulgation decree…)",
                       lines=lines, paragraphs=paragraphs, first=a["first"], line=a["first_line"])
    else:
        text = gettext("%(lines)s (%(paragraphs)s) not imported: the text has no preamble, title, chapter or article "
                       "marker to start from", lines=lines, paragraphs=paragraphs)
    if "title" in a and a.get("counting") == "paragraph":
        text += gettext("; paragraph %(line)s “%(title)s” became the document title", line=a["title_line"],
                        title=a["title"])
    elif "title" in a:
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
                         a["long"], lines=_lines(a["runs"], a))
    return text


def _reform_notes(a: Mapping) -> str:
    return ngettext("%(num)d reform note in square brackets (e.g. %(example)s) not imported: it records the "
                    "compilation's history, not constitutional text (%(lines)s)",
                    "%(num)d reform notes in square brackets (e.g. %(example)s) not imported: they record the "
                    "compilation's history, not constitutional text (%(lines)s)",
                    a["count"], example=a["example"], lines=_lines([(n, n) for n in a["lines"]], a))


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
                   count=a["count"], lines=_lines(a["runs"], a), **values)


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
        "signatures) is no provision", lines=_lines(a["runs"], a), paragraphs=_paragraphs(a["count"]), quote=a["quote"]),
    "text.transitory_lists": lambda a: ngettext(
        "%(num)d transitory article with numbered lists (I., 1., a) …): its items are kept as paragraphs",
        "%(num)d transitory articles with numbered lists (I., 1., a) …): their items are kept as paragraphs",
        a["count"]),
    "text.bare_sections": lambda a: ngettext(
        "the text names no article (%(article)s 1…): its %(num)d line of the form “1. Heading” (%(quote)s…) was read "
        "as its article, the line's text the heading",
        "the text names no article (%(article)s 1…): its %(num)d lines of the form “1. Heading”, numbered 1 to "
        "%(num)d in order (%(quote)s…), were read as its articles, each line's text the heading",
        a["count"], article=a["article"], quote=a["quote"]),
    "text.inverted": lambda a: gettext(
        "the text's %(outer)s hold its %(inner)s (%(line)s): its %(outer)s are the outer level (titles, for the "
        "model) and its %(inner)s the level inside them (chapters), labelled as the text names them",
        outer=a["outer"], inner=a["inner"], line=_line(a["line"], a)),
    "text.empty_transitional": lambda a: gettext(
        "%(quote)s opens transitional provisions, but no provision follows (PRIMERO.- …, 1. …): its text is kept "
        "as the group's", quote=a["quote"]),
    "docx.table": lambda a: ngettext(
        "a table of %(num)d row is kept as one paragraph per row, its cells separated by “ | ”: its rows were read "
        "as units or headings",
        "a table of %(num)d rows is kept as one paragraph per row, its cells separated by “ | ”: its rows were read "
        "as units or headings", a["rows"]),
    "docx.underline": lambda a: ngettext(
        "underlined words in %(num)d paragraph are kept as plain text: the model has bold and italics, not "
        "underlining",
        "underlined words in %(num)d paragraphs are kept as plain text: the model has bold and italics, not "
        "underlining", a["count"]),
    "build.guid_twice": lambda a: gettext("the GUID %(guid)s is used twice; the unit got a new one", guid=a["guid"]),
    "build.guid_invalid": lambda a: gettext("the GUID %(guid)s is not a UUID; the unit got a new one", guid=a["guid"]),
    "akn.draft_namespace": lambda a: gettext(
        "namespace %(namespace)s is a draft of Akoma Ntoso 3.0; read without schema validation",
        namespace=a["namespace"]),
    "akn.version_2": lambda a: gettext("Akoma Ntoso 2.0 file; read without schema validation"),
    "akn.not_imported": lambda a: gettext("<%(tag)s> is not imported", tag=a["tag"]),
    "akn.dangling_ref": lambda a: gettext(
        "a reference to %(href)s names nothing in this document; it is kept as a link to that address",
        href=a["href"]),
    "akn.collection": lambda a: gettext("the collection's other documents (%(others)s) are not imported",
                                        others=a["others"]),
    "akn.no_meta": lambda a: gettext("no <meta>: language taken as Spanish"),
    "akn.language": lambda a: gettext(
        "language %(code)s has no labels in Constituent; labels are shown in English, the text is unchanged",
        code=a["code"]),
    "akn.work_uri": lambda a: gettext(
        "the work URI %(uri)s is not an FRBR URI; the identity is taken from FRBRcountry, FRBRdate and "
        "FRBRnumber: %(identity)s", uri=a["uri"], identity=a["identity"]) if a["identity"] else gettext(
        "the work URI %(uri)s is not an FRBR URI", uri=a["uri"]),
    "akn.too_deep": lambda a: gettext(
        "<%(tag)s> nested too deep for the model; its units are imported into the enclosing unit", tag=a["tag"]),
    "akn.outside_article": lambda a: gettext("<%(tag)s> outside an article is not imported", tag=a["tag"]),
    "akn.loose_container": lambda a: gettext(
        "<%(tag)s> (%(label)s) %(heading)s is no unit of the model above the articles: its number and heading are "
        "not kept; its units are imported", tag=a["tag"], label=a["label"], heading=a["heading"]) if a["heading"]
    else gettext("<%(tag)s> (%(label)s) is no unit of the model above the articles: its number and heading are "
                 "not kept; its units are imported", tag=a["tag"], label=a["label"]),
    "akn.loose_article": lambda a: gettext(
        "<%(tag)s> (%(label)s) outside an article is imported as an article", tag=a["tag"], label=a["label"]),
    "akn.among_schedules": lambda a: gettext("<%(tag)s> among the schedules is not imported", tag=a["tag"]),
    "akn.empty_attachment": lambda a: gettext(
        "the attachment holds <%(tag)s>, not a document; only its number and heading are imported",
        tag=a["tag"]) if a["tag"] else gettext(
        "the attachment holds nothing, not a document; only its number and heading are imported"),
    "akn.schedule_container": lambda a: gettext(
        "<%(tag)s> inside a schedule is kept as a cross-heading followed by its units", tag=a["tag"]),
    "akn.below_incisos": lambda a: gettext(
        "<%(tag)s> is nested deeper than the model's incisos; its text is kept in the enclosing unit", tag=a["tag"]),
    "akn.text_after_subunits": lambda a: gettext(
        "closing text (wrapUp) cannot follow sub-units in the model; it is kept as text of the last sub-unit")
    if a["wrap_up"] else gettext(
        "text after the sub-units cannot follow sub-units in the model; it is kept as text of the last sub-unit"),
}
