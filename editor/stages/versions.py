"""Named versions: freezing the live text, and reading a version (or the live text) back.

Freezing reads the CRDT state in the document's room (serially with edits, so the state is a
consistent cut), numbers it, exports it as Akoma Ntoso (validated) and stores all three in one
row. Readers of a version never touch the CRDT: the numbered unit tree is kept as JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from akoma_ntoso import Table, Unit, read_units

from ..akn_export import build_akn
from ..errors import say as _
from ..events import VersionSaved
from ..inputs import whole_number
from ..livetext import LiveText, read_live
from ..models import Document, User
from .current import StageError, current_stage
from .models import Version

MAX_NAME = 200


@dataclass(frozen=True)
class Text:
    """A readable text to compare or show: a version's or the live one."""

    label: str  # "v3" or "live"
    name: str
    meta: dict
    units: tuple[Unit, ...]
    version: Version | None = None
    at: datetime | None = None


def unit_to_json(unit: Unit) -> dict:
    data = {"guid": unit.guid, "kind": unit.kind, "num": unit.num, "label": unit.label, "eid": unit.eid,
            "heading": unit.heading, "text": unit.text, "pinned": unit.pinned,
            "children": [unit_to_json(c) for c in unit.children]}
    if any(isinstance(block, Table) for block in unit.blocks):  # its tables, with its paragraphs in order
        data["blocks"] = [{"table": [list(row) for row in block.rows]} if isinstance(block, Table) else str(block)
                          for block in unit.blocks]
    return data


def unit_from_json(data: dict) -> Unit:
    # Without tables a unit's blocks are its text's paragraphs, as `read_units` gives them.
    blocks = tuple(Table(tuple(tuple(row) for row in block["table"])) if isinstance(block, dict) else block
                   for block in data["blocks"]) if "blocks" in data else tuple(data["text"].split("\n")) if data["text"] else ()
    return Unit(guid=data["guid"], kind=data["kind"], num=data["num"], label=data["label"], eid=data["eid"],
                heading=data["heading"], text=data["text"], pinned=data.get("pinned", False),
                children=tuple(unit_from_json(c) for c in data.get("children", ())), blocks=blocks)


def snapshot_json(meta: dict, units: tuple[Unit, ...]) -> str:
    return json.dumps({"meta": meta, "units": [unit_to_json(u) for u in units]}, ensure_ascii=False,
                      separators=(",", ":"))


def freeze(services, document: Document, user: User | None, name: str = "", stage_key: str | None = None,
           commit: bool = True, live=None) -> Version:
    """Freeze the live text (or `live`, a LiveTexts.cut) as the document's next numbered version."""
    db = services.db
    name = name.strip()
    if len(name) > MAX_NAME:
        raise StageError(_("a version name has at most %(n)d characters", n=MAX_NAME))
    state, meta, body = live if live is not None else services.texts.cut(document.slug)
    units = read_units(body, meta)
    number = (db.scalar(select(func.max(Version.number)).where(Version.document_id == document.id)) or 0) + 1
    stage_key = stage_key or current_stage(db, document).key
    version = Version(document_id=document.id, number=number, name=name or f"v{number}", stage_key=stage_key,
                      user_id=user.id if user is not None else None, state=state,
                      snapshot=snapshot_json(meta, units), akn=b"", sha256=hashlib.sha256(state).hexdigest())
    db.add(version)
    db.flush()
    version.akn = build_akn(services, document, meta, units, version=version)
    if commit:
        db.commit()
        # Saved on its own (a transition's version is told by its StageChanged, after its commit).
        services.events.publish(VersionSaved(document.slug, version.number))
    return version


def versions_of(db, document: Document, light: bool = False) -> list[Version]:
    """The document's versions, oldest first; `light` leaves their texts unloaded (for lists)."""
    query = select(Version).where(Version.document_id == document.id).order_by(Version.number)
    if light:
        query = query.options(defer(Version.state), defer(Version.snapshot), defer(Version.akn))
    return list(db.scalars(query))


def get_version(db, document: Document, number: int) -> Version | None:
    return db.scalar(select(Version).where(Version.document_id == document.id, Version.number == number))


def version_text(version: Version) -> Text:
    data = json.loads(version.snapshot)
    return Text(label=f"v{version.number}", name=version.name, meta=data["meta"],
                units=tuple(unit_from_json(u) for u in data["units"]), version=version, at=version.created_at)


def live_text(services, document: Document, live: LiveText | None = None) -> Text:
    """The live text as a Text (`live`: a reading the caller already made)."""
    live = live or read_live(services, document.slug)
    return Text(label="live", name="live", meta=live.meta, units=live.units)


def resolve(services, document: Document, spec: str | None) -> Text:
    """The text named by `spec`: "live" (or nothing), "3" or "v3" (a version number)."""
    spec = (spec or "live").strip().lower()
    if spec in ("live", "current", ""):
        return live_text(services, document)
    number = spec[1:] if spec.startswith("v") else spec
    wanted = whole_number(number, maximum=999_999_999)
    if wanted is None:
        raise StageError(_("%(spec)s is not a version: give a version number (3 or v3) or live", spec=repr(spec)))
    version = get_version(services.db, document, wanted)
    if version is None:
        raise StageError(_("%(slug)s has no version %(n)d", slug=document.slug, n=wanted))
    return version_text(version)
