"""What the participation feature does when the public's comments change: the committee's panels
in the editor hear of it live, in every server process. A change only moderators may see (a
comment waiting for approval, a report) reaches only moderators' connections; a published one
reaches everyone who may comment on the drafting side (they read the public stream beside their
own comments)."""

from __future__ import annotations

from .. import permissions
from ..events import EventBus, PublicCommentsChanged

EVENT = "public-comments"


def subscribe(events: EventBus, services) -> None:
    def changed(event: PublicCommentsChanged) -> None:
        may_hear = permissions.can_comment if event.published else permissions.can_moderate
        if services.collab is not None:
            services.collab.tell_panels(services.db, event.document, may_hear, EVENT, event.units)

    events.subscribe(PublicCommentsChanged, changed, label="participation.panel", everywhere=True)
