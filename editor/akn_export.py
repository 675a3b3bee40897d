"""A document's Akoma Ntoso export as Constituent writes it: the text's units with their
provenance references, the stages the document went through and its adopted amendments, under
the work's FRBR identity, validated against the OASIS schema. Used to freeze versions
(editor.stages.versions) and to export (editor.interchange)."""

from __future__ import annotations

import json

from flask import current_app, has_app_context

from akoma_ntoso.akn import DOCTYPES, Expression, Work, export_akn, full_date, to_bytes, validate

from . import clock
from .amendments.records import akn_records
from .assembly.akn import assembly_references
from .documents import DocumentError, record_unit_names
from .models import Document
from .provenance.summaries import Provenance
from .stages.akn import stage_records


class InterchangeError(DocumentError):
    """An import or export that cannot be done, with the reason for the user."""


def build_akn(services, document: Document, meta: dict, units, version=None, config=None) -> bytes:
    """The validated AKN export of `units`: provenance references, the stages the document went
    through (`<workflow>`, `<lifecycle>`) and its adopted amendments (`<passiveModifications>`).

    With `version` (a stages.models.Version being frozen) the expression is that version's.
    """
    if config is None:
        config = current_app.config if has_app_context() else {}
    title = str(meta.get("title") or document.title)
    language = str(meta.get("language") or document.language)
    wids = record_unit_names(services.db, document, units)
    work, expression = identity(document, meta, title, language, config)
    if version is not None:
        expression = Expression(language=language, date=version.created_at.date().isoformat(),
                                version=str(version.number))
    references, refers = Provenance.load(services.db, document).akn_references(units)
    stages = stage_records(services.db, document, full_date(work.date))  # a year-only work date is its 1 January
    amendments = akn_records(services.db, document, units)
    root = export_akn(
        units, work, expression, wids=wids,
        references=[*references, *stages.references, *amendments.references,
                    *assembly_references(services.db, document)], refers=refers,
        workflow=stages.steps, events=[*stages.events, *amendments.events],
        modifications=amendments.modifications,
    )
    errors = validate(root)
    if errors:  # our bug, never the user's: refuse to hand out invalid AKN
        raise InterchangeError("the export does not validate against the Akoma Ntoso schema: " + errors[0])
    return to_bytes(root)


def identity(document: Document, meta: dict, title: str, language: str, config) -> tuple[Work, Expression]:
    frbr = meta.get("frbr") or {}
    if isinstance(frbr, str):
        try:
            frbr = json.loads(frbr)
        except json.JSONDecodeError:
            frbr = {}
    created = document.created_at or clock.now()
    work = Work(
        place=str(frbr.get("place") or config.get("AKN_PLACE", "mx-cmx")),
        doctype=document.doctype if document.doctype in DOCTYPES else "bill",
        date=str(frbr.get("date") or created.date().isoformat()),
        number=str(frbr.get("number") or document.slug),
        title=title,
        subtype=frbr.get("subtype"),
    )
    today = clock.now().date().isoformat()
    return work, Expression(language=language, date=today)
