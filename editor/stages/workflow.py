"""A document's stages and its movement through them.

Every document gets its stages from a preset when it is first asked about (a constitution's or
an ordinance's); its administrator may rename them, change who edits and who advances in each,
and add or remove stages not yet reached. Moving to the next stage is one transaction: the text
at the end of the stage is frozen as a named version, and the transition records who, when and
that version. Which roles may do what in the current stage is decided in editor.permissions,
which reads `current_stage` from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from ..models import Document, User
from ..permissions import effective_role
from .models import STAGE_MODES, Stage, StageTransition


class StageError(ValueError):
    """A stage request that cannot be carried out, with the reason for the user."""


@dataclass(frozen=True)
class StageSpec:
    key: str
    mode: str
    edit_roles: tuple[str, ...]
    advance_roles: tuple[str, ...]


DEFAULT_NAMES = {
    "drafting": _l("Drafting"),
    "legal_review": _l("Legal review"),
    "consultation": _l("Petitioner consultation"),
    "assembly": _l("Assembly"),
    "approved": _l("Approved"),
    "published": _l("Published"),
    "first_reading": _l("First reading"),
    "committee": _l("Committee"),
    "second_reading": _l("Second reading"),
    "adopted": _l("Adopted"),
}

MODE_NAMES = {
    "edit": _l("the text is edited"),
    "consultation": _l("petitioners review their articles"),
    "amendments": _l("the text changes only through adopted amendments"),
    "closed": _l("the text is closed"),
}

PRESETS: dict[str, tuple[StageSpec, ...]] = {
    "constitution": (
        StageSpec("drafting", "edit", ("admin", "committee", "legal"), ("admin", "committee")),
        StageSpec("legal_review", "edit", ("admin", "legal"), ("admin", "committee")),
        StageSpec("consultation", "consultation", ("admin", "committee"), ("admin", "committee")),
        StageSpec("assembly", "amendments", (), ("admin",)),
        StageSpec("approved", "closed", (), ("admin",)),
        StageSpec("published", "closed", (), ()),
    ),
    "ordinance": (
        StageSpec("drafting", "edit", ("admin", "committee", "legal"), ("admin", "committee")),
        StageSpec("first_reading", "amendments", (), ("admin",)),
        StageSpec("committee", "edit", ("admin", "committee", "legal"), ("admin", "committee")),
        StageSpec("second_reading", "amendments", (), ("admin",)),
        StageSpec("adopted", "closed", (), ()),
    ),
}

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def preset_for(document: Document) -> str:
    """Every document starts on the constitution's path; its administrator may switch to
    another preset before the first transition (`configure`)."""
    return "constitution"


def stage_name(stage: Stage) -> str:
    return stage.name or str(DEFAULT_NAMES.get(stage.key, stage.key.replace("_", " ").capitalize()))


def stages_of(db, document: Document) -> list[Stage]:
    """The document's stages in order; until they are first configured or a transition is made,
    the preset's (not stored, so that reading never writes)."""
    stages = list(db.scalars(select(Stage).where(Stage.document_id == document.id).order_by(Stage.position)))
    if stages:
        return stages
    return [Stage(document_id=document.id, position=position, key=spec.key, name="", mode=spec.mode,
                  edit_roles=" ".join(spec.edit_roles), advance_roles=" ".join(spec.advance_roles))
            for position, spec in enumerate(PRESETS[preset_for(document)])]


def _stored_stages(db, document: Document) -> list[Stage]:
    """The stages as rows, storing the preset's first if needed (before changing anything)."""
    stages = stages_of(db, document)
    if stages[0].id is None:
        db.add_all(stages)
        db.flush()
    return stages


def transitions_of(db, document: Document) -> list[StageTransition]:
    return list(db.scalars(
        select(StageTransition).where(StageTransition.document_id == document.id).order_by(StageTransition.sequence)))


def current_stage(db, document: Document) -> Stage:
    stages = stages_of(db, document)
    last = db.scalar(select(StageTransition.to_key).where(StageTransition.document_id == document.id)
                     .order_by(StageTransition.sequence.desc()).limit(1))
    for stage in stages:
        if stage.key == last:
            return stage
    return stages[0]


def current_stage_of(document: Document) -> Stage:
    """`current_stage` through the session the document was loaded in (for editor.permissions)."""
    db = object_session(document)
    if db is None:
        raise StageError("the document is not attached to a database session")
    return current_stage(db, document)


def next_stage(db, document: Document) -> Stage | None:
    stages = stages_of(db, document)
    current = current_stage(db, document)
    later = [s for s in stages if s.position > current.position]
    return later[0] if later else None


def advance(services, document: Document, user: User, note: str = "", expect: str | None = None) -> StageTransition:
    """Move the document to its next stage: freeze the text as a version, record the transition.

    `expect` is the key of the stage the caller saw as next: if someone else advanced first, the
    request is refused instead of skipping a stage. Permission is the caller's to check.
    """
    from .versions import freeze  # versions imports this module

    db = services.db
    live = services.texts.cut(document.slug)  # before any write here (see LiveTexts.cut)
    _stored_stages(db, document)
    current = current_stage(db, document)
    target = next_stage(db, document)
    if target is None:
        raise StageError(f"the document is in its last stage ({stage_name(current)}); there is no next stage")
    if expect is not None and expect != target.key:
        raise StageError(f"the document is no longer in the stage you saw; it is now in {stage_name(current)}")
    if len(note) > 2000:
        raise StageError("the note is longer than 2,000 characters")
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

    `rows` is the whole list in order: `{key, name, mode, edit_roles, advance_roles}`. Stages
    already reached must keep their key and place; everything is checked before anything changes.
    """
    from ..models import ROLES

    stages = _stored_stages(db, document)
    current = current_stage(db, document)
    reached = [s for s in stages if s.position <= current.position]
    if len(rows) < len(reached):
        raise StageError("stages already reached cannot be removed")
    keys: set[str] = set()
    for index, row in enumerate(rows):
        key = str(row.get("key") or "").strip()
        where = f"stage {index + 1}"
        if not _KEY.match(key):
            raise StageError(f"{where}: the key {key!r} must be lower-case letters, digits or _ (starting with a letter)")
        if key in keys:
            raise StageError(f"{where}: the key {key!r} is used twice")
        keys.add(key)
        if index < len(reached) and key != reached[index].key:
            raise StageError(f"{where}: {stage_name(reached[index])} has been reached; it cannot be replaced or moved")
        if row.get("mode") not in STAGE_MODES:
            raise StageError(f"{where}: unknown mode {row.get('mode')!r}; expected one of {', '.join(STAGE_MODES)}")
        for field in ("edit_roles", "advance_roles"):
            for role in row.get(field) or ():
                if role not in ROLES:
                    raise StageError(f"{where}: unknown role {role!r}")
        if len(str(row.get("name") or "")) > 120:
            raise StageError(f"{where}: the name is longer than 120 characters")
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
    db.commit()
    return stages_of(db, document)
