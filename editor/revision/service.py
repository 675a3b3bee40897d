"""Loading a revised draft into an existing document.

A committee receives a revised text written outside the product (plain text, Akoma Ntoso or
Word). Loading it must not cost the document its history: every unit of the revised text that
is an existing unit (by GUID, by content, by position: `akoma_ntoso.matching`) takes over that
unit's GUID, and with it its provenance links, comments, petition links and history.

1. `read_revision` reads the upload with the importers the import page uses.
2. `plan_revision` matches it to the live text; the committee may correct the matching
   (`corrections`: which old unit each new unit takes over, or none); the plan is the revised
   body with the GUIDs it will keep, and its comparison with the live text.
3. `apply_revision` makes it the live text: one transaction in the document's room (durable
   before connected editors receive it), attributed to `revision:<account>` in the audit log,
   after checking, in the same turn of the room, that the live text is still the one the plan
   was made against. A version may be saved before and after.

Between the preview and the confirmation the upload waits in a short-lived file of the instance
(`Pending`), named by a signed token; nothing is stored in the database.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from lxml import etree
from pycrdt import Doc, XmlFragment

from akoma_ntoso import UNIT_KINDS, AkomaNtosoError, Built, Unit, iter_units, read_units
from akoma_ntoso.matching import match_units
from crdt.xmltree import etree_to_fragment

from .. import audit
from ..akn_export import InterchangeError
from ..events import TextChanged
from ..interchange import IMPORTERS, MAX_IMPORT_BYTES, TEXT_LANGUAGES
from ..livetext import LiveText, read_live, text_of
from ..models import Document, User
from ..provenance.links import path_labels
from ..stages.diff import Comparison, compare
from ..stages.versions import StageError, freeze

#: How long a preview can be confirmed.
PENDING_SECONDS = 6 * 3600
_SALT = "constituent-revision"
#: The value of a correction meaning "a new unit, none of the old ones".
NEW = "new"


class RevisionError(ValueError):
    """The revised text cannot be loaded (the reason is for the user); nothing was changed."""


def fingerprint(meta: Mapping, body: etree._Element) -> str:
    """What the live text was when a plan was made (the plan is refused against another)."""
    digest = hashlib.sha256(json.dumps(dict(meta), sort_keys=True, default=str).encode())
    digest.update(etree.tostring(body, encoding="utf-8"))
    return digest.hexdigest()


def read_revision(document: Document, data: bytes, fmt: str) -> Built:
    """The revised text's units (fresh GUIDs), read as the import page reads a file; a plain
    text or Word draft with the conventions of the document's language."""
    if fmt not in IMPORTERS:
        raise RevisionError(_("Unknown format %(format)s.", format=repr(fmt)))
    if not data.strip():
        raise RevisionError(_("Paste the revised text or choose a file."))
    if len(data) > MAX_IMPORT_BYTES:
        raise RevisionError(_("The file is too large: at most %(mb)d MB.", mb=MAX_IMPORT_BYTES // 1048576))
    language = document.language if document.language in TEXT_LANGUAGES else None
    try:
        built = IMPORTERS[fmt].read(data, None, language).built
    except (AkomaNtosoError, InterchangeError) as exc:
        raise RevisionError(_("The revised text could not be read: %(reason)s", reason=str(exc))) from None
    if not built.units:
        raise RevisionError(_("No article or other unit was found in the revised text."))
    return built


@dataclass
class Row:
    """One unit of the revised text and the old unit it takes over (None: a new unit)."""

    index: int  # position of the unit in the revised text, document order
    unit: Unit  # as the revised text numbers it
    old: Unit | None
    how: str  # "guid", "exact", "similar", "position", "children", "corrected" or ""
    options: list[Unit] = field(default_factory=list)  # the old units a correction may choose


@dataclass
class Plan:
    body: etree._Element  # the revised body, with the GUIDs it keeps
    units: tuple[Unit, ...]
    rows: list[Row]
    comparison: Comparison
    fingerprint: str
    by_new_guid: dict[str, Row]  # final GUID → its row
    old_units: tuple[Unit, ...] = ()  # the live text it was matched against

    def counts(self) -> dict[str, int]:
        kept = sum(1 for r in self.rows if r.old is not None)
        return {"units": len(self.rows), "kept": kept, "new": len(self.rows) - kept,
                **{k: v for k, v in self.comparison.counts().items() if k != "added"}}


def plan_revision(live: LiveText, built: Built, corrections: Mapping[int, str] | None = None) -> Plan:
    """Match the revised text to the live one, apply the committee's corrections (new unit index
    → an old unit's GUID, or NEW), and compare. Raises RevisionError for a correction that
    cannot be (an old unit chosen twice, of another kind, not in the text)."""
    new_units = list(iter_units(built.units))
    old_by_guid = {u.guid: u for u in iter_units(live.units)}
    names = {**path_labels(live.units), **path_labels(built.units)}

    def _label(unit: Unit) -> str:
        return names.get(unit.guid) or unit.heading[:60] or unit.kind

    matching = match_units(live.units, built.units, by_content=True)
    chosen: dict[int, str | None] = {}
    how: dict[int, str] = {}
    for i, unit in enumerate(new_units):
        chosen[i] = matching.pairs.get(unit.guid)
        how[i] = matching.how.get(unit.guid, "")
    for i, given in (corrections or {}).items():
        if i not in chosen:
            raise RevisionError(_("The form does not match the revised text; load it again."))
        value = None if given == NEW else given
        if value == chosen[i]:
            continue
        if value is not None:
            old = old_by_guid.get(value)
            if old is None:
                raise RevisionError(_("The unit chosen for %(label)s is no longer in the text; load it again.",
                                      label=_label(new_units[i])))
            if old.kind != new_units[i].kind:
                raise RevisionError(_("%(new)s cannot take over %(old)s: they are different kinds of unit.",
                                      new=_label(new_units[i]), old=_label(old)))
            # A unit it was given automatically gives it up; one chosen by hand keeps it (an error below).
            for j, other in chosen.items():
                if other == value and j not in (corrections or {}):
                    chosen[j], how[j] = None, ""
        chosen[i], how[i] = value, "corrected"
    taken: dict[str, int] = {}
    for i, picked in chosen.items():
        if picked is None:
            continue
        if picked in taken:
            raise RevisionError(_("%(first)s and %(second)s both take over %(old)s; choose one of them.",
                                  first=_label(new_units[taken[picked]]), second=_label(new_units[i]),
                                  old=_label(old_by_guid[picked])))
        taken[picked] = i

    body = copy.deepcopy(built.body)
    # A unit that takes over no old one is new: it must not keep a live unit's GUID its file
    # brought along (an Akoma Ntoso export carries them), nor one another unit takes over.
    final: dict[str, str] = {}
    for i, unit in enumerate(new_units):
        picked = chosen[i]
        if picked:
            final[unit.guid] = picked
        elif unit.guid in old_by_guid or unit.guid in taken:
            final[unit.guid] = str(uuid.uuid4())
        else:
            final[unit.guid] = unit.guid
    for element in body.iter(*UNIT_KINDS):
        guid = element.get("guid")
        if guid in final:
            element.set("guid", final[guid])
    try:
        units = read_units(body, live.meta)
    except AkomaNtosoError as exc:
        raise RevisionError(_("The revised text cannot become the live text: %(reason)s", reason=str(exc))) from None
    comparison = compare(live.units, units)
    final_units = list(iter_units(units))
    free = [u for u in iter_units(live.units) if u.guid not in taken]
    rows = []
    for i, unit in enumerate(final_units):
        picked = chosen[i]
        old = old_by_guid.get(picked) if picked else None
        options = ([old] if old is not None else []) + [u for u in free if u.kind == unit.kind]
        rows.append(Row(i, unit, old, how[i] if old is not None else "", options[:40]))
    return Plan(body=body, units=units, rows=rows, comparison=comparison,
                fingerprint=fingerprint(live.meta, live.body), by_new_guid={r.unit.guid: r for r in rows},
                old_units=live.units)


# --- applying -------------------------------------------------------------------------------------


@dataclass
class Applied:
    before: int | None  # the version saved before, if any
    after: int | None
    touched: set[str]


def apply_revision(services, document: Document, user: User | None, plan: Plan, *, save_before: bool = False,
                   save_after: bool = False, actor: audit.Actor | None = None, name: str = "") -> Applied:
    """Make the planned text the live text, as one attributed change (see the module's docstring)."""
    origin = f"revision:{user.id if user is not None else 'cli'}"
    before = after = None
    stale = _("The live text changed since this preview was made; load the revised text again.")
    current = read_live(services, document.slug)
    if fingerprint(current.meta, current.body) != plan.fingerprint:
        raise RevisionError(stale)  # before any version is saved for a load that cannot happen
    if save_before:
        try:
            before = freeze(services, document, user, name=name or _("Before loading a revised draft")).number
        except StageError as exc:
            services.db.rollback()
            raise RevisionError(str(exc)) from None
    expected = plan.fingerprint

    def run(doc: Doc):
        live = text_of(doc)
        if fingerprint(live.meta, live.body) != expected:
            return "stale"
        with doc.transaction(origin=origin):
            fragment = doc.get("body", type=XmlFragment)
            if len(fragment.children):
                del fragment.children[0:len(fragment.children)]
            etree_to_fragment(plan.body, fragment)
        return "applied"

    if services.texts.change(document.slug, run, origin=origin) == "stale":
        raise RevisionError(stale)
    touched = {c.guid for c in plan.comparison.changes if c.new is not None}
    counts = {k: v for k, v in plan.comparison.counts().items() if v}
    # Recorded as soon as the text changed: a version saved after it (audited on its own) may fail.
    audit.record(services.engine, "text.revision", actor=actor, document=document.slug, target="",
                 detail={"units": len(plan.rows), "kept": sum(1 for r in plan.rows if r.old is not None),
                         "changes": counts, "version_before": before})
    if touched:
        services.events.publish(TextChanged(document.slug, {user.id if user is not None else None: frozenset(touched)}))
    if save_after:
        after = freeze(services, document, user, name=_("Revised draft loaded")).number
    return Applied(before, after, touched)


# --- the upload between preview and confirmation -----------------------------------------------------


def _folder() -> Path:
    folder = Path(current_app.config["INSTANCE_PATH"]) / "revisions"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def keep_upload(document: Document, user: User, data: bytes, fmt: str, plan: Plan) -> str:
    """Keep the upload until it is confirmed; the signed token that names it (and what it was
    planned against)."""
    folder = _folder()
    now = time.time()
    for old in folder.glob("*.bin"):  # forget previews nobody confirmed
        try:
            if now - old.stat().st_mtime > PENDING_SECONDS:
                old.unlink()
        except OSError:
            pass
    key = secrets.token_urlsafe(18)
    path = folder / f"{key}.bin"
    with open(path, "wb") as stream:
        stream.write(data)
    os.chmod(path, 0o600)
    return _serializer().dumps({"k": key, "d": document.id, "u": user.id, "f": fmt, "h": plan.fingerprint})


@dataclass(frozen=True)
class Pending:
    key: str
    data: bytes
    fmt: str
    fingerprint: str


def pending_upload(token: str, document: Document, user: User) -> Pending:
    """The upload a token names, if it is this document's and this account's, and recent."""
    try:
        claims = _serializer().loads(token or "", max_age=PENDING_SECONDS)
    except BadSignature:
        raise RevisionError(_("This preview has expired or is not valid; load the revised text again.")) from None
    if not isinstance(claims, dict) or claims.get("d") != document.id or claims.get("u") != user.id:
        raise RevisionError(_("This preview has expired or is not valid; load the revised text again."))
    key = str(claims.get("k", ""))
    path = _folder() / f"{key}.bin"
    if not key.replace("-", "").replace("_", "").isalnum() or not path.exists():
        raise RevisionError(_("This preview has expired or is not valid; load the revised text again."))
    return Pending(key, path.read_bytes(), str(claims.get("f", "text")), str(claims.get("h", "")))


def forget_upload(pending: Pending) -> None:
    try:
        (_folder() / f"{pending.key}.bin").unlink()
    except OSError:
        pass
