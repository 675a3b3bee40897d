"""What the comments feature does when something changes: the comment panels of the editors who
may comment see the change, in every server process."""

from __future__ import annotations

from .. import permissions
from ..events import CommentsChanged, EventBus


def subscribe(events: EventBus, services) -> None:
    def comments_changed(event: CommentsChanged) -> None:
        if services.collab is not None:
            services.collab.tell_panels(services.db, event.document, permissions.can_comment, "comments", event.units)

    events.subscribe(CommentsChanged, comments_changed, label="comments.panel", everywhere=True)
