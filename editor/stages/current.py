"""A document's stages as they stand: the presets, the stages of a document, its transitions
and its current stage. Reading only: changing stages is editor.stages.workflow. Kept apart so
that editor.permissions and the versions can read the current stage without importing the code
that moves a document (which freezes versions and checks permissions)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import object_session

from ..models import Document
from .models import Stage, StageTransition


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

STAGE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


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


def stored_stages(db, document: Document) -> list[Stage]:
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
