"""A document's stages and its movement through them.

Every document gets its stages from a preset when it is first asked about (a constitution's or
an ordinance's); its administrator may rename them, change who edits and who advances in each,
and add or remove stages not yet reached. Moving to the next stage is one transaction: the text
at the end of the stage is frozen as a named version, and the transition records who, when and
that version. Which roles may do what in the current stage is decided in editor.permissions,
which reads `current_stage` from editor.stages.current (the stages as they stand).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from ..errors import say as _
from ..models import ROLES, Document, User
from ..roles import effective_role
from .current import STAGE_KEY, StageError, current_stage, next_stage, stage_name, stages_of, stored_stages
from .models import STAGE_MODES, Stage, StageTransition
from .versions import freeze


def advance(services, document: Document, user: User, note: str = "", expect: str | None = None) -> StageTransition:
    """Move the document to its next stage: freeze the text as a version, record the transition.

    `expect` is the key of the stage the caller saw as next: if someone else advanced first, the
    request is refused instead of skipping a stage. Permission is the caller's to check.
    """

    db = services.db
    live = services.texts.cut(document.slug)  # before any write here (see LiveTexts.cut)
    stored_stages(db, document)
    current = current_stage(db, document)
    target = next_stage(db, document)
    if target is None:
        raise StageError(_("the document is in its last stage (%(stage)s); there is no next stage", stage=stage_name(current)))
    if expect is not None and expect != target.key:
        raise StageError(_("the document is no longer in the stage you saw; it is now in %(stage)s",
                           stage=stage_name(current)))
    if len(note) > 2000:
        raise StageError(_("the note is longer than 2,000 characters"))
    sequence = (db.scalar(select(func.max(StageTransition.sequence))
                          .where(StageTransition.document_id == document.id)) or 0) + 1
    transition = StageTransition(document_id=document.id, sequence=sequence, from_key=current.key,
                                 to_key=target.key, user_id=user.id, user_name=user.name,
                                 user_role=effective_role(user, document) or "", note=note.strip())
    db.add(transition)
    db.flush()
    version = freeze(services, document, user, name=f"{stage_name(current)}", stage_key=current.key,
                     commit=False, live=live)
    transition.version_id = version.id
    db.commit()
    return transition


def configure(db, document: Document, rows: list[dict]) -> list[Stage]:
    """Replace the stages after the current one (and rename or re-role any stage).

    `rows` is the whole list in order: `{key, name, mode, edit_roles, advance_roles}` (and
    `suggest_roles`: roles whose changes are suggestions, editor.suggestions), and
    optionally `planned_start` and `planned_end` (dates, or None: the public calendar). Stages
    already reached must keep their key and place; everything is checked before anything changes.
    """

    stages = stored_stages(db, document)
    current = current_stage(db, document)
    reached = [s for s in stages if s.position <= current.position]
    if len(rows) < len(reached):
        raise StageError(_("stages already reached cannot be removed"))
    keys: set[str] = set()
    for index, row in enumerate(rows):
        key = str(row.get("key") or "").strip()
        where = _("stage %(n)d", n=index + 1)
        if not STAGE_KEY.match(key):
            raise StageError(_("%(where)s: the key %(key)s must be lower-case letters, digits or _ (starting with a letter)",
                                where=where, key=repr(key)))
        if key in keys:
            raise StageError(_("%(where)s: the key %(key)s is used twice", where=where, key=repr(key)))
        keys.add(key)
        if index < len(reached) and key != reached[index].key:
            raise StageError(_("%(where)s: %(stage)s has been reached; it cannot be replaced or moved",
                                where=where, stage=stage_name(reached[index])))
        if row.get("mode") not in STAGE_MODES:
            raise StageError(_("%(where)s: unknown mode %(mode)s; expected one of %(modes)s",
                                where=where, mode=repr(row.get("mode")), modes=", ".join(STAGE_MODES)))
        for field in ("edit_roles", "suggest_roles", "advance_roles"):
            for role in row.get(field) or ():
                if role not in ROLES:
                    raise StageError(_("%(where)s: unknown role %(role)s", where=where, role=repr(role)))
        if len(str(row.get("name") or "")) > 120:
            raise StageError(_("%(where)s: the name is longer than 120 characters", where=where))
        _check_planned(where, row.get("planned_start"), row.get("planned_end"))
    by_key = {s.key: s for s in stages}
    for stage in stages:
        if stage.key not in keys:
            db.delete(stage)
    db.flush()
    for stage in by_key.values():  # free the positions, then set them
        if stage.key in keys:
            stage.position = -1 - stage.position - 1000
    db.flush()
    for position, row in enumerate(rows):
        stage = by_key.get(row["key"]) if row["key"] in keys else None
        if stage is None:
            stage = Stage(document_id=document.id, key=row["key"])
            db.add(stage)
        stage.position = position
        stage.name = str(row.get("name") or "").strip()
        stage.mode = row["mode"]
        stage.edit_roles = " ".join(sorted(set(row.get("edit_roles") or ())))
        stage.advance_roles = " ".join(sorted(set(row.get("advance_roles") or ())))
        stage.suggest_roles = " ".join(sorted(set(row.get("suggest_roles") or ())))
        stage.planned_start, stage.planned_end = row.get("planned_start"), row.get("planned_end")
    db.commit()
    return stages_of(db, document)


def _check_planned(where: str, start: date | None, end: date | None) -> None:
    """Planned dates are optional, but a stage cannot be planned to end before it starts: the
    public reads them as the process's calendar."""
    for value in (start, end):
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise StageError(_("%(where)s: a planned date must be a day (YYYY-MM-DD), not %(value)s",
                                where=where, value=repr(value)))
    if start is not None and end is not None and end < start:
        raise StageError(_("%(where)s: the planned end (%(end)s) is before the planned start (%(start)s)",
                           where=where, end=end.isoformat(), start=start.isoformat()))
