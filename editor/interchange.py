"""Documents in and out of Constituent: Akoma Ntoso and plain-text import, AKN/HTML/text export.

The CLI (`constituent import` / `export`) and the HTTP API call these functions; the
conversions themselves are `akoma_ntoso`'s. An export reads the live text in its room, so it
shows every edit acknowledged so far.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from akoma_ntoso import LANGUAGES, UNIT_KINDS, Built, Finding, iter_units, read_units
from akoma_ntoso.akn import (
    DOCTYPES,
    MEDIA_TYPE,
    import_akn,
)
from akoma_ntoso.inline import link_body
from akoma_ntoso.render import render_document, render_text
from akoma_ntoso.safexml import MAX_XML_BYTES
from akoma_ntoso.text_import import import_text

from .akn_export import InterchangeError, build_akn
from .documents import (
    SLUG,
    create_document,
    get_document,
)
from .inputs import surrogate_in
from .livetext import read_live
from .models import Document
from .stages.versions import StageError, resolve

EXPORT_FORMATS = ("akn", "html", "text")
MAX_IMPORT_BYTES = MAX_XML_BYTES
MEDIA_TYPES = {"akn": MEDIA_TYPE, "html": "text/html; charset=utf-8", "text": "text/plain; charset=utf-8"}
EXTENSIONS = {"akn": "xml", "html": "html", "text": "txt"}


#: The languages whose plain-text conventions the text and Word importers know.
TEXT_LANGUAGES: tuple[str, ...] = LANGUAGES


@dataclass(frozen=True)
class Reading:
    """What an importer read: the legal units, the document type, and FRBR data if the file had any."""
    built: Built
    doctype: str
    frbr: dict[str, str] = field(default_factory=dict)


def _read_akn(data: bytes, title: str | None, language: str | None = None) -> Reading:
    imported = import_akn(data)  # the file names its own language (FRBRlanguage)
    frbr: dict[str, str] = {}
    if imported.work:
        frbr = {"place": imported.work.place, "date": imported.work.date, "number": imported.work.number}
        if imported.work.subtype:
            frbr["subtype"] = imported.work.subtype
    return Reading(imported.built, imported.doctype, frbr)


def _read_docx(data: bytes, title: str | None, language: str | None = None) -> Reading:
    from akoma_ntoso.docx_import import import_docx  # python-docx loads only for Word files

    return Reading(import_docx(data, title=title, language=language), "bill")


def _read_text(data: bytes, title: str | None, language: str | None = None) -> Reading:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InterchangeError(f"the file is not UTF-8 text (byte {exc.start} cannot be read)") from None
    return Reading(import_text(text, title=title, language=language), "bill")


@dataclass(frozen=True)
class Importer:
    """One way a law comes in: its format name, what people call it, the file name endings that
    mean it, and how it reads the bytes. The command line, the import page and the API all offer
    what is registered here."""

    key: str
    label: str
    suffixes: tuple[str, ...]
    read: Callable[[bytes, str | None, str | None], Reading]  # (data, title, language or None: detected)


#: Every importer, by format name; the first is the default for a file no suffix names.
IMPORTERS: dict[str, Importer] = {importer.key: importer for importer in (
    Importer("text", _l("Plain text"), (".txt", ".text"), _read_text),
    Importer("akn", _l("Akoma Ntoso XML"), (".xml", ".akn"), _read_akn),
    Importer("docx", _l("Word document (.docx)"), (".docx",), _read_docx),
)}


def format_for(filename: str | None, default: str | None = None) -> str:
    """The import format a file's name means (its ending), else `default`, else the first registered."""
    name = (filename or "").lower()
    for importer in IMPORTERS.values():
        if name.endswith(importer.suffixes):
            return importer.key
    return default or next(iter(IMPORTERS))


@dataclass
class ImportResult:
    document: Document
    built: Built

    @property
    def findings(self) -> list[Finding]:
        return self.built.findings

    def counts(self) -> dict[str, int]:
        """How many units of each kind were imported, outermost kind first; transitory
        articles (in a group of transitional provisions) apart from the body's articles."""
        kinds = [TRANSITORY if unit.kind == "article" and unit.eid.startswith("transitional_") else unit.kind
                 for unit in iter_units(self.built.units)]
        return {kind: kinds.count(kind) for kind in (*UNIT_KINDS, TRANSITORY) if kind in kinds}


#: What `ImportResult.counts` calls the articles of a group of transitional provisions.
TRANSITORY = "transitory article"


def import_document(
    services,
    data: bytes,
    fmt: str,
    slug: str | None = None,
    title: str | None = None,
    doctype: str | None = None,
    published: bool = False,
    language: str | None = None,
) -> ImportResult:
    """Create a live document from an AKN file or plain text; nothing is created on error.

    `language` (spa, eng, por, fra) tells a text or Word draft's conventions; detected when None.
    An Akoma Ntoso file names its own."""
    if fmt not in IMPORTERS:
        raise InterchangeError(f"unknown import format {fmt!r}; expected {' or '.join(IMPORTERS)}")
    if language is not None and language not in TEXT_LANGUAGES:
        raise InterchangeError(f"unknown language {language!r}; expected one of {', '.join(TEXT_LANGUAGES)}")
    if len(data) > MAX_IMPORT_BYTES:
        raise InterchangeError(
            f"the file is {len(data) / 1048576:.1f} MB; imports are limited to {MAX_IMPORT_BYTES // 1048576} MB"
        )
    if doctype is not None and doctype not in DOCTYPES:
        raise InterchangeError(f"unknown document type {doctype!r}; expected act or bill")
    reading = IMPORTERS[fmt].read(data, title, language)
    built, kind, frbr = reading.built, reading.doctype, reading.frbr
    # Citations of the document's own units ("véase el artículo 16") become cross-references that
    # follow their unit through renumbering (docs/document-model.md, "Inline markup").
    if link_body(built.body, built.units):
        built.units = read_units(built.body, built.meta)
    title = (title or built.meta.get("title") or "").strip()
    if not title:
        raise InterchangeError("the document has no title: give one")
    if (surrogate := surrogate_in(title)) is not None:
        raise InterchangeError(f"the title is not valid text: {surrogate} is a byte that is not UTF-8 "
                               "or half of a surrogate pair")
    slug = slug or _free_slug(services.db, title)
    extra = {key: built.meta[key] for key in ("numbering", "labels") if built.meta.get(key)}
    if frbr:
        extra["frbr"] = frbr
    document = create_document(
        services,
        slug,
        title[:300],
        built.body,
        language=built.meta.get("language", "spa"),
        published=published,
        doctype=doctype or kind,
        extra_meta=extra,
        unit_names=built.source_eids,  # the source's own eIds, kept as wIds in every export
    )
    return ImportResult(document=document, built=built)


def export_document(services, slug: str, fmt: str, config=None, version: str | int | None = None) -> bytes:
    """The document's live text (or a frozen `version`: a number or "live") in `fmt`; AKN is
    validated against the OASIS schema first (a version's AKN was validated when it was frozen)."""
    if fmt not in EXPORT_FORMATS:
        raise InterchangeError(f"unknown export format {fmt!r}; expected {', '.join(EXPORT_FORMATS)}")
    document = get_document(services.db, slug)
    if document is None:
        raise InterchangeError(f"there is no document {slug!r}")
    if version is not None:

        try:
            text = resolve(services, document, str(version))
        except StageError as exc:
            raise InterchangeError(str(exc)) from None
        if fmt == "akn" and text.version is not None:
            return text.version.akn
        meta, units = text.meta, text.units
    else:
        live = read_live(services, slug)
        meta, units = live.meta, live.units
    title = str(meta.get("title") or document.title)
    language = str(meta.get("language") or document.language)
    if fmt == "text":
        return render_text(units, title, language).encode("utf-8")
    if fmt == "html":
        return render_document(units, title, language).encode("utf-8")
    data = build_akn(services, document, meta, units, config=config)
    services.db.commit()  # the unit names build_akn recorded
    return data


def _free_slug(db, title: str) -> str:
    bare = unicodedata.normalize("NFKD", title.lower()).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", bare).strip("-")[:80].strip("-") or "documento"
    slug, n = base, 2
    while get_document(db, slug) is not None:
        slug, n = f"{base}-{n}", n + 1
    if not SLUG.match(slug):
        raise InterchangeError(f"cannot make a slug from the title {title!r}; give one")
    return slug
