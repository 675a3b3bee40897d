"""What petitioner review does when the text changes: petitioners whose reviewed wording changed
are asked to review it again, whether a committee member typed the change or the assembly
adopted an amendment. Runs once, in the process where the change was made."""

from __future__ import annotations

from ..documents import get_document
from ..events import AmendmentAdopted, EventBus, TextChanged
from .service import notify_changed_units

#: Seconds a busy document's edits are merged before the wording is compared (one pass for all).
MERGE_WITHIN = 0.5


def subscribe(events: EventBus, services) -> None:
    def ask_again(event: TextChanged | AmendmentAdopted) -> None:
        document = get_document(services.db, event.document)
        if document is not None and event.units:
            notify_changed_units(services, document, set(event.units))

    events.subscribe(TextChanged, ask_again, label="review.after-edits", merge_within=MERGE_WITHIN)
    # Inline, in the adoption's request: the re-review is asked for (and committed) by the time
    # the vote's result is shown, as the committee's dashboard expects.
    events.subscribe(AmendmentAdopted, ask_again, label="review.after-adoption", inline=True)
