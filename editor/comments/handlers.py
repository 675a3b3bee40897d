"""What the comments feature does when something changes: the comment panels of the editors who
may comment see the change, in every server process."""

from __future__ import annotations

from .. import permissions
from ..documents import get_document
from ..events import CommentsChanged, EventBus
from ..models import User


def subscribe(events: EventBus, services) -> None:
    def comments_changed(event: CommentsChanged) -> None:
        collab = services.collab
        if collab is None or not event.units:
            return
        db = services.db
        document = get_document(db, event.document)
        if document is None:
            return
        allowed: dict[int, bool] = {}
        for sid in collab.connections_of(event.document):
            account = collab.hooks.accounts.get(sid)
            if account is None:
                continue
            if account not in allowed:
                user = db.get(User, account)
                allowed[account] = user is not None and permissions.can_comment(user, document)
            if allowed[account]:
                for guid in event.units:
                    collab.emit_to(sid, "comments", {"document": event.document, "unit": guid})

    events.subscribe(CommentsChanged, comments_changed, label="comments.panel", everywhere=True)
