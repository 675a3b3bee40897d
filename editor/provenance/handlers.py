"""What the provenance feature does when something changes: the provenance panels of every open
editor see a unit's links change, in every server process."""

from __future__ import annotations

from ..events import EventBus, LinksChanged


def subscribe(events: EventBus, services) -> None:
    def links_changed(event: LinksChanged) -> None:
        if services.collab is None:
            return
        for guid in event.units:
            services.collab.emit_document(event.document, "provenance", {"document": event.document, "unit": guid})

    events.subscribe(LinksChanged, links_changed, label="provenance.panel", everywhere=True)
