"""The record of decided suggestions: every accepted or rejected one stays here, whatever the text
now says (a rejected suggestion leaves no trace in the text itself)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

#: What a suggestion proposes: text inserted, text deleted, a new unit.
KINDS = ("insert", "delete", "unit")
DECISIONS = ("accepted", "rejected")
#: Longest text kept with a decision (the rest is cut, marked with "…").
MAX_TEXT = 5_000


class SuggestionDecision(Base):
    """One part of a decided suggestion (a suggestion may insert in one place and delete in
    another, or span two units): one row per kind and unit."""

    __tablename__ = "suggestion_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(36), default="")
    suggestion: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text, default="")
    #: The author as the suggestion names them (account id and name at the time).
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_name: Mapped[str] = mapped_column(String(120), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)
    decision: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


#: Longest note on a suggestion, in characters.
MAX_NOTE = 2_000


class SuggestionNote(Base):
    """A note on a suggestion (its discussion, as in a comment thread): kept whatever becomes of
    the suggestion, readable after it is decided; written only while it is pending."""

    __tablename__ = "suggestion_note"
    __table_args__ = (Index("ix_suggestion_note_document_suggestion", "document_id", "suggestion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    suggestion: Mapped[str] = mapped_column(String(64))
    #: The unit the suggestion was in when the note was written (a new unit: its own GUID).
    guid: Mapped[str] = mapped_column(String(36), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
