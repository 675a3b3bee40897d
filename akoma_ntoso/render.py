"""The unit tree as people read it: accessible HTML and plain text.

HTML: every unit is a `<section>` whose `id` is its eId (a stable anchor) with its label and
heading in a heading element of the right level and a permalink. The public pages and the
standalone HTML export use the same markup (`render_units`), so an anchor that works on the site
works in a downloaded file.

Plain text follows the conventions `text_import` reads ("TÍTULO PRIMERO" + heading line,
"Artículo 16" + heading line, "A. Medio Ambiente", "1. …", "I. …", "a) …"), so exporting and
importing again gives back the same units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from .units import ATTACHMENT, CROSS_HEADING, Block, Table, Unit, unit_blocks

_LEVELS = {"preamble": 2, "title": 2, "chapter": 3, "article": 4, "transitional": 2, ATTACHMENT: 2,
           CROSS_HEADING: 4}
# Titles, chapters, the preamble and groups of transitional provisions are reached through the
# table of contents; the units of the text proper (articles and below) carry a permalink.
_NOT_LINKED = ("title", "chapter", "preamble", "transitional", ATTACHMENT)
_PREAMBLE = {"spa": "PREÁMBULO", "eng": "PREAMBLE", "por": "PREÂMBULO", "fra": "PRÉAMBULE"}
#: The line that opens a group of transitional provisions without a heading of its own.
#: The word that opens a schedule in plain text, when the schedule has no number.
_SCHEDULE_WORD = {"spa": "ANEXO", "eng": "SCHEDULE", "por": "ANEXO", "fra": "ANNEXE"}
_TRANSITIONAL = {"spa": "TRANSITORIOS", "eng": "TRANSITIONAL PROVISIONS", "por": "DISPOSIÇÕES TRANSITÓRIAS",
                 "fra": "DISPOSITIONS TRANSITOIRES"}


def render_units(
    units: Sequence[Unit],
    link: Callable[[Unit], str] = lambda unit: f"#{unit.eid}",
    permalink_label: Callable[[Unit], str] = lambda unit: f"Permalink to {unit.label}",
    preamble_label: str = "Preamble",
    annotate: Callable[[Unit], str] | None = None,
    transitional_label: str = "Transitional provisions",
) -> str:
    """HTML for the units, as a string of escaped markup.

    `annotate(unit)` may return markup (already escaped) shown after a unit's permalink: the
    site uses it to say which petitions, themes and events a clause comes from.
    """
    out: list[str] = []
    names = {"preamble": preamble_label, "transitional": transitional_label}
    for unit in units:
        _render_unit(out, unit, link, permalink_label, names, annotate)
    return "".join(out)


def render_document(units: Sequence[Unit], title: str, language: str = "spa") -> str:
    """A standalone, accessible HTML page of the whole text (the `html` export)."""
    lang = {"eng": "en", "por": "pt", "fra": "fr"}.get(language, "es")
    english = language == "eng"
    contents = render_units(
        units,
        permalink_label=(lambda u: f"Permalink to {u.label}") if english else (lambda u: f"Enlace permanente a {u.label}"),
        preamble_label="Preamble" if english else "Preámbulo",
        transitional_label="Transitional provisions" if english else "Transitorios",
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{EXPORT_STYLE}</style>\n</head>\n"
        f'<body>\n<main>\n<h1>{escape(title)}</h1>\n{contents}\n</main>\n</body>\n</html>\n'
    )


def render_text(units: Sequence[Unit], title: str = "", language: str = "spa") -> str:
    """The text with its labels, one paragraph per line and a blank line between paragraphs."""
    blocks: list[str] = [title] if title else []
    for unit in units:
        _text_unit(blocks, unit, language)
    return "\n\n".join(blocks) + "\n"


def _render_unit(
    out: list[str],
    unit: Unit,
    link: Callable[[Unit], str],
    permalink_label: Callable[[Unit], str],
    names: dict[str, str],
    annotate: Callable[[Unit], str] | None = None,
) -> None:
    """One unit and its sub-units; `names` name the unnumbered groups (preamble, transitional)
    that have no heading of their own."""
    level = _LEVELS.get(unit.kind, 5)
    if unit.kind == CROSS_HEADING:  # a heading line between units, not a section of its own
        out.append(f'<h{level} class="cross-heading" id="{escape(unit.eid)}" data-guid="{escape(unit.guid)}">'
                   f"{inline_html(unit.heading)}</h{level}>")
        return
    lines = [line for line in _lines(unit) if line]
    linkable = unit.kind not in _NOT_LINKED
    permalink = (
        f' <a class="permalink" href="{escape(link(unit))}" '
        f'aria-label="{escape(permalink_label(unit))}">¶</a>'
        if linkable
        else ""
    )
    if linkable and annotate is not None:
        permalink += annotate(unit)
    has_heading = bool(unit.label or unit.heading or unit.kind in names)
    # The permalink follows the heading when there is one, else the unit's last paragraph.
    link_in_heading = linkable and has_heading and (unit.heading or not lines)
    eid = escape(unit.eid)
    labelled = f' aria-labelledby="{eid}-h"' if has_heading else ""
    out.append(
        f'<section class="unit unit-{unit.kind}" id="{eid}" data-guid="{escape(unit.guid)}"{labelled}>'
    )
    if has_heading:
        out.append(f'<h{level} class="unit-heading" id="{eid}-h">')
        if unit.label:
            out.append(f'<span class="num">{escape(unit.label)}</span> ')
        if unit.heading:
            out.append(f'<span class="heading">{inline_html(unit.heading)}</span>')
        if unit.kind in names and not unit.heading:
            out.append(escape(names[unit.kind]))
        if link_in_heading:
            out.append(permalink)
        out.append(f"</h{level}>")
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        tail = permalink if last and linkable and not link_in_heading else ""
        if isinstance(line, Table):
            out.append(_table_html(line) + (f"<p>{tail.strip()}</p>" if tail else ""))
            continue
        out.append(f"<p>{inline_html(line)}{tail}</p>")
    if linkable and not has_heading and not lines:
        out.append(f"<p>{permalink.strip()}</p>")
    for child in unit.children:
        _render_unit(out, child, link, permalink_label, names, annotate)
    out.append("</section>")


def _table_html(table: Table) -> str:
    rows = "".join("<tr>" + "".join(f"<td>{inline_html(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    return f'<table class="unit-table"><tbody>{rows}</tbody></table>'


def _lines(unit: Unit) -> list[Block]:
    """A unit's text as lines: each paragraph (with its inline markup), and its tables whole."""
    lines: list[Block] = []
    for block in unit_blocks(unit):
        if not isinstance(block, str):
            lines.append(block)  # a table, rendered as one
        elif hasattr(block, "runs"):
            lines.append(block)
        else:
            lines.extend(block.split("\n"))
    return lines


def inline_html(text: str) -> str:
    """Escaped HTML for a block's text with its inline markup: a cross-reference links to its
    unit's current eId anchor (its title names the unit), a term is `<dfn>` where defined."""
    runs = getattr(text, "runs", None)
    if runs is None:
        return escape(text)
    out: list[str] = []
    for run in runs:
        html = escape(run.text)
        for mark in reversed(run.marks):
            if mark.name == "ref":
                eid, href = mark.get("eid"), mark.get("href")
                if eid:
                    html = (f'<a class="ref" href="#{escape(eid)}" data-guid="{escape(mark.get("guid"))}" '
                            f'title="{escape(mark.get("label"))}">{html}</a>')
                elif href:
                    html = f'<cite class="ref" title="{escape(href)}">{html}</cite>'
            elif mark.name == "def":
                html = f"<dfn>{html}</dfn>"
            elif mark.name == "term":
                html = f'<span class="term">{html}</span>'
            elif mark.name in ("b", "i"):
                html = f"<{mark.name}>{html}</{mark.name}>"
            elif mark.name == "note":  # the call, then the note itself (read after the call)
                note = escape(mark.get("text"))
                html = (f'<sup class="note-call">{html}</sup>'
                        f'<small class="note" role="note"> [{html} {note}]</small>')
        out.append(html)
    return "".join(out)


def _text_unit(blocks: list[str], unit: Unit, language: str) -> None:
    lines = [line for line in unit.text.split("\n") if line]
    if unit.kind == "preamble":
        blocks.append(_PREAMBLE.get(language, _PREAMBLE["spa"]))
        blocks.extend(lines)
    elif unit.kind == "transitional":
        blocks.append(unit.heading or _TRANSITIONAL.get(language, _TRANSITIONAL["spa"]))
        blocks.extend(lines)
    elif unit.kind == CROSS_HEADING:
        blocks.append(unit.heading)
    elif unit.kind == ATTACHMENT:
        # "ANEXO 1" + heading line, as a title; a table's rows are lines, cells joined by " | ".
        # An unnumbered one is written with the bare word, which the text import reads back as a schedule.
        label = unit.label or _SCHEDULE_WORD.get(language, _SCHEDULE_WORD["spa"])
        blocks.append(label + (f"\n{unit.heading}" if unit.heading else ""))
        blocks.extend(lines)
    elif unit.kind == "article" and unit.eid.startswith("transitional_"):
        # A transitory article opens with its ordinal, as the law prints it: "PRIMERO.- La …".
        # (Plain text has no place for a transitory article's heading: it reads back as its
        # first paragraph.)
        first = unit.heading or (lines.pop(0) if lines else "")
        blocks.append(f"{unit.num}.- {first}".strip() if unit.num else first)
        blocks.extend(lines)
    elif unit.kind in ("title", "chapter", "article"):
        blocks.append(unit.label + (f"\n{unit.heading}" if unit.heading else ""))
        blocks.extend(lines)
    else:
        # A lower unit is one paragraph opening with its label: "A. Medio Ambiente", "1. Toda…".
        first = unit.heading or (lines.pop(0) if lines else "")
        blocks.append(f"{unit.label} {first}".strip())
        blocks.extend(lines)
    for child in unit.children:
        _text_unit(blocks, child, language)


EXPORT_STYLE = (
    "body{font:1.05rem/1.6 Georgia,'DejaVu Serif',serif;margin:0;color:#1a1a1a;background:#fff}"
    "main{max-width:46rem;margin:0 auto;padding:1rem 1.25rem 4rem}"
    "h1{font-size:1.6rem;line-height:1.25}"
    "h2,h3{text-align:center;font-size:1.15rem;margin:2rem 0 .75rem}"
    "h4{font-size:1.05rem;margin:1.5rem 0 .5rem}h5{font-size:1rem;margin:.75rem 0 .25rem}"
    ".unit-paragraph,.unit-subparagraph,.unit-point,.unit-indent{margin-left:1.25rem}"
    ".unit-title>h2 .heading,.unit-chapter>h3 .heading{display:block}"
    ".unit-subparagraph>h5,.unit-point>h5,.unit-indent>h5{display:inline;font-weight:normal}"
    ".unit-subparagraph>h5+p,.unit-point>h5+p,.unit-indent>h5+p{display:inline}"
    ".unit-paragraph,.unit-subparagraph,.unit-point,.unit-indent{margin-top:.5rem}"
    ".num{font-weight:bold;margin-right:.35em}"
    ".permalink{color:#666;text-decoration:none;margin-left:.35em}"
    ".permalink:focus,.permalink:hover{color:#0645ad;text-decoration:underline}"
    ":target{background:#fff7d6}"
    ".unit-table{border-collapse:collapse;margin:.75rem 0}"
    ".unit-table td{border:1px solid #999;padding:.25rem .5rem;vertical-align:top}"
    ".cross-heading{text-align:center;font-style:italic;font-weight:normal}"
    ".unit-attachment{margin-top:3rem}"
)
