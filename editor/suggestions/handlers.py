"""What the suggestions feature does when something changes: the suggestions panels of those who
see suggestions hear of a new note, in every server process."""

from __future__ import annotations

from ..events import EventBus, SuggestionNotesChanged
from .notes import may_see


def subscribe(events: EventBus, services) -> None:
    def notes_changed(event: SuggestionNotesChanged) -> None:
        if services.collab is not None:
            # The panel event names the suggestion (in the place of a unit): its count and notes reload.
            services.collab.tell_panels(services.db, event.document, may_see, "suggestion-notes", event.suggestions)

    events.subscribe(SuggestionNotesChanged, notes_changed, label="suggestions.notes-panel", everywhere=True)
