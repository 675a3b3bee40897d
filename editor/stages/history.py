"""Who changed which unit, and a unit's history across versions.

Live edits are attributed as they are applied: the room applies each connection's update in a
transaction whose origin is the connection, editor.collab maps the units the transaction
touched to the account behind the connection, and `record_edits` keeps one row per account,
unit and spell of editing. Adopted amendments record their own rows (with `amendment_id`).
A unit's history then reads its wording in every version, the live wording, and the edits
that fall between each pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from akoma_ntoso import Unit, iter_units

from .. import clock
from ..amendments.models import Amendment
from ..models import Document, User
from ..redline import Change, word_diff
from .current import stage_name, stages_of
from .models import UnitEdit
from .versions import Text, live_text, version_text, versions_of

#: Edits by the same account to the same unit less than this apart count as one spell.
SPELL = timedelta(minutes=10)


def record_edits(db, document_id: int, touched: Mapping[int | None, Iterable[str]],
                 amendment_id: int | None = None, at: datetime | None = None, commit: bool = True) -> None:
    """Attribute changes: `touched` maps an account id (None: unknown) to the GUIDs it changed."""
    now = at or clock.now()
    for user_id, guids in touched.items():
        for guid in sorted(set(guids)):
            row = None
            if amendment_id is None:
                row = db.scalar(
                    select(UnitEdit)
                    .where(UnitEdit.document_id == document_id, UnitEdit.guid == guid,
                           UnitEdit.user_id.is_(None) if user_id is None else UnitEdit.user_id == user_id,
                           UnitEdit.amendment_id.is_(None))
                    .order_by(UnitEdit.last_at.desc()).limit(1))
                if row is not None and now - clock.as_utc(row.last_at) > SPELL:
                    row = None
            if row is None:
                db.add(UnitEdit(document_id=document_id, guid=guid, user_id=user_id, amendment_id=amendment_id,
                                first_at=now, last_at=now, count=1))
            else:
                row.last_at = now
                row.count += 1
    if commit:
        db.commit()


@dataclass(frozen=True)
class Edit:
    who: str
    user_id: int | None
    amendment_id: int | None
    first_at: datetime
    last_at: datetime
    count: int
    #: An accepted suggestion (editor.suggestions): `who` suggested it, this account accepted it.
    accepted_by: str = ""
    accepted_by_id: int | None = None


@dataclass
class HistoryStep:
    """The unit as it stood in one version (or live), and the edits that led there."""

    text: Text
    stage: str  # the stage's display name
    unit: Unit | None  # None: the unit did not exist then
    heading_diff: list[Change] = field(default_factory=list)
    text_diff: list[Change] = field(default_factory=list)
    changed: bool = False  # differs from the previous step where it existed
    edits: list[Edit] = field(default_factory=list)


def _find(units: Iterable[Unit], guid: str) -> Unit | None:
    return next((u for u in iter_units(units) if u.guid == guid), None)


def edits_of(db, document: Document, guid: str) -> list[Edit]:
    decider = aliased(User)
    rows = db.execute(
        select(UnitEdit, User.name, decider.name).outerjoin(User, User.id == UnitEdit.user_id)
        .outerjoin(decider, decider.id == UnitEdit.accepted_by_id)
        .where(UnitEdit.document_id == document.id, UnitEdit.guid == guid).order_by(UnitEdit.first_at))
    return [Edit(who=name or "", user_id=row.user_id, amendment_id=row.amendment_id,
                 first_at=clock.as_utc(row.first_at), last_at=clock.as_utc(row.last_at), count=row.count,
                 accepted_by=accepter or "", accepted_by_id=row.accepted_by_id)
            for row, name, accepter in rows]


def unit_history(services, document: Document, guid: str, live: Text | None = None) -> list[HistoryStep]:
    """The unit in every version and live, oldest first, each with the edits since the previous step.

    `live`: the live text when the caller has already read it (it is not read twice)."""
    db = services.db
    names = {s.key: stage_name(s) for s in stages_of(db, document)}
    texts = [version_text(v) for v in versions_of(db, document)]
    live = live or live_text(services, document)
    edits = edits_of(db, document, guid)
    steps: list[HistoryStep] = []
    previous: Unit | None = None  # the unit's last wording where it existed
    existed = False  # whether it existed in the step before
    start: datetime | None = None
    for text in [*texts, live]:
        unit = _find(text.units, guid)
        stage = names.get(text.version.stage_key, text.version.stage_key) if text.version else ""
        end = clock.as_utc(text.at) if text.at else None
        step = HistoryStep(text=text, stage=stage, unit=unit)
        step.edits = [e for e in edits if (start is None or e.last_at > start) and (end is None or e.last_at <= end)]
        if unit is not None and previous is not None:
            step.heading_diff = word_diff(previous.heading, unit.heading)
            step.text_diff = word_diff(previous.text, unit.text)
            step.changed = (previous.heading, previous.text) != (unit.heading, unit.text)
        elif unit is not None and steps:
            step.changed = True  # it appeared
        if unit is None and existed:
            step.changed = True  # it was removed
        if unit is not None:
            previous = unit
        existed = unit is not None
        start = end or start
        steps.append(step)
    return steps


def amendment_numbers(db, ids: Iterable[int]) -> dict[int, int]:
    """The per-document numbers of amendments, by id (edits record the id)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}

    return dict(db.execute(select(Amendment.id, Amendment.number).where(Amendment.id.in_(ids))).all())
