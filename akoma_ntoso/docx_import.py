"""Word drafts (.docx) into a live document: the form real committees circulate.

A `.docx` is read with python-docx, paragraph by paragraph and table by table, in document
order. Word's automatic numbering, which is not in the text of a paragraph but in its list
definition (`numbering.xml`: the level's format and its text, "Artículo %1.-", "%1.", "%2)"), is
rendered as Word shows it, so the plain-text conventions (`text_import`) then recognise
titles, chapters, articles, apartados, numerales, fracciones and incisos in the draft the same
way they do in a pasted law. The paragraph styled "Title" (or the file's title property) is the
document's title.

A Word table becomes a table of the unit it stands in (rows of cells, each cell's text); one whose
rows the plain-text conventions read as units or headings stays one paragraph per row, cells
separated by " | ", and says so. Bold and italic words keep their marks (`b`, `i`); what the model
cannot hold is reported, never dropped silently: underlining is kept as plain text.
Findings name Word paragraphs ("paragraph 12"), counted from the start of the document body.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from .builder import Built, Finding
from .errors import AkomaNtosoError
from .inline import Run, Runs, fill_element, has_marks, make_mark, merged, normalized, plain
from .numbering import format_number
from .text_import import import_text
from .units import TABLE, read_units

#: A .docx is a zip: what its parts may add up to once uncompressed (a zip bomb is refused).
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FORMATS = {
    "decimal": "arabic", "decimalZero": "arabic", "lowerLetter": "lower-alpha", "upperLetter": "upper-alpha",
    "lowerRoman": "lower-roman", "upperRoman": "upper-roman", "ordinalText": "ordinal-es",
}


class DocxError(AkomaNtosoError):
    """The file is not a Word document that can be read."""


@dataclass
class _Paragraph:
    text: str
    emphasis: bool = False  # underlined words, which the model does not keep
    runs: Runs = ()  # the text with its bold and italic words, when it has some
    table_rows: int = 0  # > 0: the first row of a table of that many rows
    is_title: bool = False  # styled "Title": the document's title
    cells: tuple[str, ...] = ()  # a table row's cells (its text is them joined by " | ")


def import_docx(data: bytes, *, language: str | None = None, title: str | None = None) -> Built:
    """Read a Word document into a live document; see the module's docstring."""
    document = _open(data)
    numbering = _Numbering(document)
    paragraphs: list[_Paragraph] = []
    found_title = title
    for block in _blocks(document, numbering):
        if found_title is None and block.is_title:
            found_title = block.text
            continue
        paragraphs.append(block)
    if found_title is None:
        found_title = (document.core_properties.title or "").strip() or None
    if not any(p.text for p in paragraphs):
        raise DocxError("the Word document has no text to import")
    # One Word paragraph per text paragraph, separated by blank lines: line 2k-1 is paragraph k.
    text = "\n\n".join(p.text for p in paragraphs)
    built = import_text(text, language=language, title=found_title)
    kept = _restore_tables(built.body, paragraphs)
    marked = _restore_emphasis(built.body, paragraphs)
    units = read_units(built.body, built.meta) if kept or marked else built.units
    findings = [Finding(_paragraphs(f.where), _paragraphs(f.message), f.code, _paragraph_args(f.args))
                for f in built.findings]
    findings.extend(_docx_findings(paragraphs, kept))
    findings.sort(key=lambda f: int(m[1]) if (m := re.match(r"paragraphs? (\d+)", f.where)) else 0)  # in reading order
    places = {_paragraphs(where): guid for where, guid in built.places.items()}
    return Built(body=built.body, meta=built.meta, units=units, findings=findings, places=places)


def _restore_emphasis(body: etree._Element, paragraphs: list[_Paragraph]) -> int:
    """Give the headings and paragraphs the text import made of bold or italic Word paragraphs their
    marks back: a block whose text ends a marked paragraph's (the conventions may have taken its
    number, "Artículo 3.-", off the front) takes that paragraph's runs from there. How many did."""
    marked = [p for p in paragraphs if p.runs]
    done = 0
    for block in body.iter("p", "heading"):
        text = block.text or ""
        if not text or len(block):
            continue
        source = next((p for p in marked if p.text == text), None) or next(
            (p for p in marked if p.text.endswith(text)), None)
        if source is None:
            continue
        fill_element(block, _tail(source.runs, len(source.text) - len(text)))
        done += 1
    return done


def _tail(runs: Runs, start: int) -> Runs:
    """The runs from character `start` on."""
    out: list[Run] = []
    for run in runs:
        if start >= len(run.text):
            start -= len(run.text)
            continue
        out.append(Run(run.text[start:], run.marks))
        start = 0
    return merged(out)


def _restore_tables(body: etree._Element, paragraphs: list[_Paragraph]) -> set[int]:
    """Turn the paragraphs the plain-text import made of each Word table's rows back into a
    `<table>`, where they are still consecutive paragraphs of one unit; the indexes (from 0) of
    the tables' first rows that became tables."""
    kept: set[int] = set()
    units = [element for element in body.iter() if element.find("p") is not None]
    for index, block in enumerate(paragraphs):
        if not block.table_rows:
            continue
        rows = paragraphs[index:index + block.table_rows]
        wanted = [" ".join(row.text.split()) for row in rows]
        # The plain-text import already reads consecutive " | " rows as a table (text_import._tables_in).
        cells = [[" ".join(cell.split()) for cell in row.cells or ("",)] for row in rows]
        if any([[td.text or "" for td in tr] for tr in table] == cells for table in body.iter(TABLE)):
            kept.add(index)
            continue
        for unit in units:
            children = list(unit)
            texts = [child.text or "" if child.tag == "p" else None for child in children]
            for start in range(len(children) - len(rows) + 1):
                if texts[start:start + len(rows)] == wanted:
                    table = etree.Element(TABLE)
                    for row in rows:
                        tr = etree.SubElement(table, "tr")
                        for cell in row.cells or ("",):
                            etree.SubElement(tr, "td").text = " ".join(cell.split())
                    children[start].addprevious(table)
                    for child in children[start:start + len(rows)]:
                        unit.remove(child)
                    kept.add(index)
                    break
            if index in kept:
                break
    return kept


def _open(data: bytes):
    from docx import Document  # python-docx: imported here, so the AKN and text paths never need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise DocxError(f"the Word document unpacks to more than {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB")
            if "word/document.xml" not in archive.namelist():
                raise DocxError("the file is a zip archive but not a Word document (no word/document.xml)")
    except zipfile.BadZipFile:
        raise DocxError("the file is not a Word document (.docx): it is not a zip archive") from None
    try:
        return Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on a damaged file
        raise DocxError(f"the Word document cannot be read: {str(exc)[:200]}") from None


def _blocks(document, numbering: _Numbering) -> Iterator[_Paragraph]:
    """The body's paragraphs and table rows in document order, with Word's numbering rendered."""
    from docx.table import Table  # python-docx, as in _open
    from docx.text.paragraph import Paragraph  # python-docx, as in _open

    for child in document.element.body.iterchildren():
        if child.tag == f"{_W}p":
            paragraph = Paragraph(child, document)
            text = " ".join(paragraph.text.split())
            label = numbering.label(paragraph)
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            runs = normalized([Run(f"{label} " if label else ""), *(
                Run(run.text, tuple(make_mark(name) for name, on in (("b", run.bold), ("i", run.italic)) if on))
                for run in paragraph.runs)])
            block = _Paragraph(f"{label} {text}".strip(),  # a heading may be Word's number alone
                               emphasis=any(run.underline for run in paragraph.runs),
                               runs=runs if has_marks(runs) and plain(runs) == f"{label} {text}".strip() else (),
                               is_title=style.lower() in ("title", "título", "titulo"))
            if block.text:
                yield block
        elif child.tag == f"{_W}tbl":
            rows = Table(child, document).rows
            for index, row in enumerate(rows):
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat: keep each once
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:
                        cells.append(text)
                yield _Paragraph(" | ".join(cells), table_rows=len(rows) if index == 0 else 0, cells=tuple(cells))


class _Numbering:
    """Word's automatic numbering, counted as Word counts it: per list, each level restarting
    when a level above it advances."""

    def __init__(self, document) -> None:
        self.formats: dict[tuple[str, int], tuple[str, str, int]] = {}  # (abstract, level) -> (format, text, start)
        self.abstract_of: dict[str, str] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            part = document.part.numbering_part
        except (KeyError, NotImplementedError):
            return
        root = part.element
        for abstract in root.findall(f"{_W}abstractNum"):
            key = abstract.get(f"{_W}abstractNumId")
            for level in abstract.findall(f"{_W}lvl"):
                ilvl = int(level.get(f"{_W}ilvl") or 0)
                fmt = level.find(f"{_W}numFmt")
                text = level.find(f"{_W}lvlText")
                start = level.find(f"{_W}start")
                self.formats[(key, ilvl)] = (
                    fmt.get(f"{_W}val") if fmt is not None else "decimal",
                    text.get(f"{_W}val") if text is not None else f"%{ilvl + 1}.",
                    int(start.get(f"{_W}val")) if start is not None and (start.get(f"{_W}val") or "").isdigit() else 1,
                )
        for num in root.findall(f"{_W}num"):
            abstract = num.find(f"{_W}abstractNumId")
            if abstract is not None:
                self.abstract_of[num.get(f"{_W}numId")] = abstract.get(f"{_W}val")

    def label(self, paragraph) -> str:
        """The number Word shows before `paragraph` ("Artículo 3.-", "b)"), or ""."""
        num_id, ilvl = _list_of(paragraph)
        abstract = self.abstract_of.get(num_id or "")
        if abstract is None or (abstract, ilvl) not in self.formats:
            return ""
        counters = self.counters.setdefault(abstract, [0] * 9)
        counters[ilvl] = counters[ilvl] + 1 if counters[ilvl] else self.formats[(abstract, ilvl)][2]
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        fmt, text, _start = self.formats[(abstract, ilvl)]
        if fmt in ("bullet", "none"):
            return ""

        def number(match: re.Match) -> str:
            level = int(match[1]) - 1
            value = counters[level] or self.formats.get((abstract, level), ("decimal", "", 1))[2]
            style = _FORMATS.get(self.formats.get((abstract, level), ("decimal", "", 1))[0], "arabic")
            return format_number(style, max(value, 1))

        return re.sub(r"%([1-9])", number, text).strip()


def _list_of(paragraph) -> tuple[str | None, int]:
    """The list (numId) and level of a paragraph: its own, else its style's (and their bases')."""
    p_pr = paragraph._p.pPr
    num_pr = p_pr.numPr if p_pr is not None else None
    style = paragraph.style
    while (num_pr is None or num_pr.numId is None) and style is not None:
        style_pr = style.element.pPr
        num_pr = style_pr.numPr if style_pr is not None else None
        style = style.base_style
    if num_pr is None or num_pr.numId is None:
        return None, 0
    num_id = str(num_pr.numId.val)
    ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
    return (None if num_id == "0" else num_id), int(ilvl)


def _paragraphs(text: str) -> str:
    """A text importer's "line N" as the Word paragraph it came from (line 2k-1 is paragraph k)."""

    def numbers(match: re.Match) -> str:
        converted = re.sub(r"\d+", lambda n: str((int(n[0]) + 1) // 2), match[2])
        return ("paragraphs " if match[1] else "paragraph ") + converted

    return re.sub(r"\bline(s?) (\d+(?:[–-]\d+)?(?:(?:, | and )\d+(?:[–-]\d+)?)*)", numbers, text)


#: The arguments of a text finding that hold line numbers: one, a list, or runs (first, last).
_LINE_ARGS = ("first_line", "title_line", "line", "lines", "runs")


def _paragraph_args(args: tuple[tuple[str, object], ...]) -> tuple[tuple[str, object], ...]:
    """A coded text finding's arguments with its line numbers as Word paragraph numbers, and
    `("counting", "paragraph")` so that the report says "paragraph 3", not "line 5"."""
    if not args:
        return args

    def paragraph(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value + 1) // 2
        if isinstance(value, (tuple, list)):
            return tuple(paragraph(item) for item in value)
        return value

    return (*((name, paragraph(value) if name in _LINE_ARGS else value) for name, value in args),
            ("counting", "paragraph"))


def _docx_findings(paragraphs: list[_Paragraph], tables: set[int] | None = None) -> list[Finding]:
    """What the Word file holds that is not kept as it was; `tables` are the tables that were."""
    findings = []
    for index, block in enumerate(paragraphs, start=1):
        if block.table_rows and index - 1 not in (tables or set()):
            findings.append(Finding(f"paragraph {index}", f"a table of {block.table_rows} rows is kept as one paragraph "
                                    "per row, its cells separated by “ | ”: its rows were read as units or headings",
                                    "docx.table", (("rows", block.table_rows),)))
    emphasised = [index for index, block in enumerate(paragraphs, start=1) if block.emphasis]
    if emphasised:
        findings.append(Finding(f"paragraph {emphasised[0]}", f"underlined words in {len(emphasised)} "
                                "paragraph(s) are kept as plain text: the model has bold and italics, not underlining",
                                "docx.underline", (("count", len(emphasised)),)))
    return findings
