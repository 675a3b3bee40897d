"""Review links, reviews and re-review requests, in SQL (units by GUID, never by position)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime
from ..outbox import OutboxMessage  # noqa: F401 - registers the outbox table with the review tables

DECISIONS = ("approve", "object")


class ReviewLink(Base):
    """A petition's private review link. Only the SHA-256 of its token is kept: the token itself
    is shown once, to the committee member who issues it. At most one link of a petition is
    active: issuing a new one revokes the previous one."""

    __tablename__ = "review_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Who the link is for (committee-only; never shown publicly).
    petitioner_name: Mapped[str] = mapped_column(String(200))
    petitioner_email: Mapped[str] = mapped_column(String(254))
    #: The language of the messages sent to the petitioner: "es" or "en".
    language: Mapped[str] = mapped_column(String(5), default="es")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    opened_count: Mapped[int] = mapped_column(Integer, default=0)


class PetitionReview(Base):
    """One approval or objection, with the wording reviewed (per unit GUID) as it was shown."""

    __tablename__ = "petition_review"
    __table_args__ = (CheckConstraint("decision IN ('approve', 'object')", name="ck_review_decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("review_link.id", ondelete="SET NULL"), nullable=True)
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    #: JSON: {"units": [{"guid", "name", "heading", "text", "wording", "covers": [GUIDs]}]}.
    snapshot: Mapped[str] = mapped_column(Text)
    stage_key: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The petitioner chose to let the public read their comment on the petition's page.
    publish_comment: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ReviewRequest(Base):
    """The committee's system asked a petitioner to review again because reviewed wording changed.

    One per review at most (the unique constraint makes asking idempotent); it is pending while
    that review is the petition's latest, answered by the next review.
    """

    __tablename__ = "review_request"
    __table_args__ = (UniqueConstraint("review_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("petition_review.id", ondelete="CASCADE"))
    #: JSON list of the reviewed units whose wording changed.
    guids: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
