"""What the amendments feature does when something changes: open editors and pages of the
document see an amendment's new state, in every server process."""

from __future__ import annotations

from ..events import AmendmentChanged, EventBus


def subscribe(events: EventBus, services) -> None:
    def amendment_changed(event: AmendmentChanged) -> None:
        if services.collab is not None:
            services.collab.emit_document(event.document, "amendment", {
                "document": event.document, "number": event.number, "state": event.state})

    events.subscribe(AmendmentChanged, amendment_changed, label="amendments.panel", everywhere=True)
