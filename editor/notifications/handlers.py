"""What notifications do when something changes: a document entered a stage, and its people are
told (once, in the process where it happened)."""

from __future__ import annotations

from ..documents import get_document
from ..events import EventBus, StageChanged
from ..stages.current import current_stage
from .service import stage_changed as tell


def subscribe(events: EventBus, services) -> None:
    def stage_changed(event: StageChanged) -> None:
        db = services.db
        document = get_document(db, event.document)
        if document is None:
            return
        stage = current_stage(db, document)
        name = stage.name if stage is not None and stage.key == event.stage else ""
        tell(db, document, event.stage, name or "")
        db.commit()

    events.subscribe(StageChanged, stage_changed, label="notifications.stage")
