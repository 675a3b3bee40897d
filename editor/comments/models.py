"""The relational record of comments: keyed by document and unit GUID, never by position."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

#: Longest comment or reply, in characters.
MAX_BODY = 5_000
#: Longest quoted text kept with a comment on a range.
MAX_QUOTE = 1_000
#: Longest encoded anchor (base64 of a Yjs relative position: a few bytes in practice).
MAX_ANCHOR = 200


class Comment(Base):
    """A comment on a unit, or on a range of its text (`anchor_start`/`anchor_end`/`quote`), or a
    reply to one (`parent_id`; replies carry their thread's unit and no range)."""

    __tablename__ = "unit_comment"
    __table_args__ = (Index("ix_unit_comment_document_unit", "document_id", "unit_guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    unit_guid: Mapped[str] = mapped_column(String(36))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit_comment.id", ondelete="CASCADE"), nullable=True, index=True
    )
    body: Mapped[str] = mapped_column(Text)
    #: Start and end of the range: Y.encodeRelativePosition(...) in base64, relative to the
    #: document's "body" XmlFragment as y-prosemirror maps it. Null for a comment on the whole unit.
    anchor_start: Mapped[str | None] = mapped_column(String(MAX_ANCHOR), nullable=True)
    anchor_end: Mapped[str | None] = mapped_column(String(MAX_ANCHOR), nullable=True)
    #: The text of the range when the comment was made (the fallback when the anchor is lost).
    quote: Mapped[str | None] = mapped_column(Text, nullable=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    #: The last time the thread was reopened after being resolved, and by whom.
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reopened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None
