"""What the participation feature does when something changes.

* The public's comments changed: the committee's panels in the editor hear of it live, in every
  server process. A change only moderators may see (a comment waiting for approval, a report)
  reaches only moderators' connections; a published one reaches everyone who may comment on the
  drafting side (they read the public stream beside their own comments).
* The text changed (an edit, an adopted amendment) or the document entered a stage: its followers'
  e-mail updates gather it (editor.participation.follows). Once, in the process where it happened.
"""

from __future__ import annotations

from .. import permissions
from ..documents import get_document
from ..events import AmendmentAdopted, EventBus, PublicCommentsChanged, StageChanged, TextChanged, VersionSaved
from .follows import tell_followers

EVENT = "public-comments"
#: Seconds a busy document's edits are merged before followers' messages are written (one pass for all).
MERGE_WITHIN = 0.5


def subscribe(events: EventBus, services) -> None:
    def changed(event: PublicCommentsChanged) -> None:
        may_hear = permissions.can_comment if event.published else permissions.can_moderate
        if services.collab is not None:
            services.collab.tell_panels(services.db, event.document, may_hear, EVENT, event.units)

    events.subscribe(PublicCommentsChanged, changed, label="participation.panel", everywhere=True)

    def wording_changed(event: TextChanged | AmendmentAdopted) -> None:
        document = get_document(services.db, event.document)
        if document is not None and event.units:
            tell_followers(services, document, units=event.units)

    def stage_changed(event: StageChanged) -> None:
        document = get_document(services.db, event.document)
        if document is not None:
            tell_followers(services, document, stage=True)

    events.subscribe(TextChanged, wording_changed, label="participation.follow.text", merge_within=MERGE_WITHIN)
    events.subscribe(AmendmentAdopted, wording_changed, label="participation.follow.amendment")
    events.subscribe(StageChanged, stage_changed, label="participation.follow.stage")

    def version_saved(event: VersionSaved) -> None:
        document = get_document(services.db, event.document)
        if document is not None:
            tell_followers(services, document, version=True)

    events.subscribe(VersionSaved, version_saved, label="participation.follow.version")
