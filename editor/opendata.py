"""Open data downloads of a document, beside its AKN, HTML and plain-text exports:

* `/d/<slug>/data.csv`      one row per unit of the live text (eId, GUID, kind, number, heading,
                            its own text, parent, and the petitions, themes and events linked to it);
* `/d/<slug>/data.json`     the document's metadata, current stage and latest version, the outline
                            with the text of every unit, the provenance links and their sources;
* `/d/<slug>/petitions.csv` the petitions with their latest signatures, thresholds crossed and clauses;
* `/d/<slug>/themes.csv`    the survey themes with how many respondents raised them, and their clauses.

Only what the public pages already show: aggregate survey counts (never an answer's words,
never a receipt), petitions as published (no e-mail address of anyone), no account data.
Drafts are invisible to those who may not read them (404, as for the reading page).

CSV files are UTF-8 with a byte-order mark and CRLF line ends (RFC 4180): Excel, as installed
in Mexico, reads a CSV without the mark as Windows-1252 and mangles every accent; with it,
"Artículo" stays "Artículo". Python reads them with `encoding="utf-8-sig"`.
`?download=1` makes any of them an attachment, like the other exports.
"""

from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Response, request, url_for

from akoma_ntoso import Unit

from . import clock
from .access import visible_document
from .livetext import read_live
from .provenance.summaries import Provenance
from .provenance.views import Labels, link_row
from .security import spreadsheet_safe, web_url
from .services import current_services
from .stages.current import current_stage, stage_name
from .stages.versions import versions_of

bp = Blueprint("opendata", __name__)

UNIT_COLUMNS = ("eId", "guid", "kind", "num", "label", "heading", "text", "parent_eId", "depth",
                "petition_ids", "theme_ids", "theme_keys", "event_ids", "url")
PETITION_COLUMNS = ("id", "key", "title", "petitioners", "signatures", "counted_at", "thresholds_reached",
                    "unit_eIds", "url", "platform_url")
THEME_COLUMNS = ("id", "key", "name", "respondents", "share", "synthetic_survey", "unit_eIds", "url")




def _send(body: str, media: str, filename: str) -> Response:
    response = Response(body.encode("utf-8"), content_type=f"{media}; charset=utf-8")
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _csv(columns, rows, filename: str) -> Response:
    out = io.StringIO()
    out.write("\ufeff")  # the byte-order mark: Excel then reads the file as UTF-8
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return _send(out.getvalue(), "text/csv", filename)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return str(spreadsheet_safe(" ".join(str(v) for v in value)))
    return str(spreadsheet_safe(value))


class _Reading:
    """One consistent reading of a document for the downloads: live text, provenance, links by unit."""

    def __init__(self, slug: str) -> None:
        self.document = visible_document(slug)
        services = current_services()
        self.live = read_live(services, slug)
        self.provenance = Provenance.load(services.db, self.document)
        self.resolved = self.provenance.resolved(self.live.units)
        self.by_unit: dict[str, dict[str, list]] = {}
        for item in self.resolved:
            kinds = self.by_unit.setdefault(item.link.unit_guid, {"petition": [], "theme": [], "event": []})
            if item.link.source_id not in kinds[item.link.source_kind]:
                kinds[item.link.source_kind].append(item.link.source_id)

    def sources(self, unit: Unit) -> dict[str, list]:
        return self.by_unit.get(unit.guid, {"petition": [], "theme": [], "event": []})

    def unit_url(self, unit: Unit) -> str:
        return url_for("public.unit", slug=self.document.slug, eid=unit.eid, _external=True)

    def clauses_of(self, kind: str, source_id: int) -> list[str]:
        """The eIds of the current units a source is linked to, in text order."""
        found = []
        for item in self.resolved:
            if item.link.source_kind == kind and item.link.source_id == source_id and item.unit is not None:
                if item.unit.eid not in found:
                    found.append(item.unit.eid)
        return found


def _rows(reading: _Reading):
    """(unit, parent, depth) for every unit, in document order."""

    def walk(units, parent, depth):
        for unit in units:
            yield unit, parent, depth
            yield from walk(unit.children, unit, depth + 1)

    yield from walk(reading.live.units, None, 0)


@bp.get("/d/<slug>/data.csv")
def units_csv(slug: str):
    reading = _Reading(slug)
    themes = reading.provenance.themes
    rows = []
    for unit, parent, depth in _rows(reading):
        sources = reading.sources(unit)
        rows.append({
            "eId": unit.eid, "guid": unit.guid, "kind": unit.kind, "num": unit.num, "label": unit.label,
            "heading": unit.heading, "text": unit.text, "parent_eId": parent.eid if parent else "",
            "depth": depth, "petition_ids": sources["petition"], "theme_ids": sources["theme"],
            "theme_keys": [themes[t].theme.key for t in sources["theme"] if t in themes],
            "event_ids": sources["event"], "url": reading.unit_url(unit),
        })
    return _csv(UNIT_COLUMNS, rows, f"{slug}-units.csv")


def _unit_json(reading: _Reading, unit: Unit) -> dict:
    sources = reading.sources(unit)
    return {
        "eId": unit.eid, "guid": unit.guid, "kind": unit.kind, "num": unit.num, "label": unit.label,
        "heading": unit.heading, "text": unit.text, "url": reading.unit_url(unit),
        "petitions": sources["petition"], "themes": sources["theme"], "events": sources["event"],
        "children": [_unit_json(reading, child) for child in unit.children],
    }


def _stage_and_version(document) -> tuple[dict | None, dict | None]:

    db = current_services().db
    stage = current_stage(db, document)
    versions = versions_of(db, document, light=True)
    latest = versions[-1] if versions else None
    stage_json = {"key": stage.key, "name": stage_name(stage), "mode": stage.mode}
    version_json = None
    if latest is not None:
        version_json = {
            "number": latest.number, "name": latest.name, "stage": latest.stage_key,
            "frozen_at": clock.iso(latest.created_at), "sha256": latest.sha256,
            "akn": url_for("api.akn", slug=document.slug, version=f"v{latest.number}", _external=True),
        }
    return stage_json, version_json


@bp.get("/d/<slug>/data.json")
def document_json(slug: str):
    reading = _Reading(slug)
    document, provenance = reading.document, reading.provenance
    stage, version = _stage_and_version(document)
    labels = Labels(reading.live.units)
    petitions = [_petition_row(reading, p) for p in provenance.petitions.values()]
    themes = [_theme_row(reading, t) for t in provenance.themes.values()]
    events = [{
        "id": e.id, "title": e.title, "held_on": e.held_on.isoformat() if e.held_on else None,
        "place": e.event.place, "unit_eIds": reading.clauses_of("event", e.id),
        "url": url_for("provenance.event", slug=slug, event_id=e.id, _external=True),
    } for e in provenance.events.values()]
    body = {
        "document": {
            "slug": document.slug, "title": document.title, "language": document.language,
            "type": document.doctype, "published": document.published,
            "url": url_for("public.document", slug=slug, _external=True),
        },
        "generated_at": clock.now().isoformat(timespec="seconds"),
        "text": "live",
        "stage": stage,
        "latest_version": version,
        "downloads": {
            "akn": url_for("api.akn", slug=slug, _external=True),
            "html": url_for("api.html", slug=slug, _external=True),
            "text": url_for("api.text", slug=slug, _external=True),
            "units_csv": url_for("opendata.units_csv", slug=slug, _external=True),
            "petitions_csv": url_for("opendata.petitions_csv", slug=slug, _external=True),
            "themes_csv": url_for("opendata.themes_csv", slug=slug, _external=True),
            "provenance_csv": url_for("provenance.open_data_csv", slug=slug, _external=True),
            # The audit chain's current head (it changes with every audited action, so it is
            # linked, not copied into this cached file): save it to prove the log later.
            "audit_head": url_for("audit_head", _external=True),
        },
        "units": [_unit_json(reading, unit) for unit in reading.live.units],
        "provenance": {
            "respondents": provenance.respondents,
            "synthetic_survey": provenance.synthetic_survey,
            "links": [link_row(slug, labels, item) for item in reading.resolved],
            "petitions": petitions,
            "themes": themes,
            "events": events,
        },
    }
    text = json.dumps(body, ensure_ascii=False, indent=1)
    return _send(text, "application/json", f"{slug}.json")


def _petition_row(reading: _Reading, summary) -> dict:
    petition = summary.petition

    return {
        "id": summary.id, "key": petition.key, "title": petition.title, "petitioners": petition.petitioners,
        "signatures": summary.signatures, "counted_at": clock.iso(summary.counted_at),
        "thresholds_reached": [{"signatures": s, "action": a, "at": clock.iso(at)} for s, a, at in summary.reached],
        "unit_eIds": reading.clauses_of("petition", summary.id),
        "url": url_for("provenance.petition", slug=reading.document.slug, petition_id=summary.id, _external=True),
        "platform_url": web_url(petition.url),
    }


def _theme_row(reading: _Reading, summary) -> dict:
    return {
        "id": summary.id, "key": summary.theme.key, "name": summary.theme.name,
        "respondents": summary.respondents, "share": round(summary.share, 4),
        "synthetic_survey": reading.provenance.synthetic_survey,
        "unit_eIds": reading.clauses_of("theme", summary.id),
        "url": url_for("provenance.theme", slug=reading.document.slug, key=summary.theme.key, _external=True),
    }


@bp.get("/d/<slug>/petitions.csv")
def petitions_csv(slug: str):
    reading = _Reading(slug)
    rows = []
    for summary in sorted(reading.provenance.petitions.values(), key=lambda p: (-p.signatures, p.id)):
        row = _petition_row(reading, summary)
        row["thresholds_reached"] = [f"{t['signatures']}:{t['action']}" for t in row["thresholds_reached"]]
        rows.append(row)
    return _csv(PETITION_COLUMNS, rows, f"{slug}-petitions.csv")


@bp.get("/d/<slug>/themes.csv")
def themes_csv(slug: str):
    reading = _Reading(slug)
    rows = [_theme_row(reading, t) for t in sorted(reading.provenance.themes.values(),
                                                   key=lambda t: (-t.respondents, t.theme.key))]
    return _csv(THEME_COLUMNS, rows, f"{slug}-themes.csv")

