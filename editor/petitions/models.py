"""The relational record of petitions: signatures over time, thresholds and the obligations
they create, hearings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

#: What a threshold obliges the committee to do once a petition crosses it.
ACTIONS = ("legal_review", "committee_presentation", "executive_audience", "other")

#: The case study's thresholds: (signatures, action, days to fulfil it, committee members assigned).
DEFAULT_THRESHOLDS = (
    (5_000, "legal_review", 30, 0),
    (10_000, "committee_presentation", 30, 3),
    (50_000, "executive_audience", 60, 0),
)

# --- petitions -----------------------------------------------------------------------------


class Petition(Base):
    """A petition filed on a petition platform, about one document."""

    __tablename__ = "petition"
    __table_args__ = (UniqueConstraint("document_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    #: What identifies the petition across imports: its URL, else its folded title.
    key: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(500))
    petitioners: Mapped[str] = mapped_column(String(500), default="")
    proposal: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: The citation of the final text the petition ended up in, as given by its source
    #: ("Art. 16, A, 3, 4, B"; "X" = not incorporated), kept verbatim.
    final_text_refs: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The committee's published reason, when the petition was not (or only partly) incorporated.
    outcome_reason: Mapped[str] = mapped_column(Text, default="", server_default=sql_text("''"))
    #: The version whose numbering its references were last resolved against ("Art. 16" is the
    #: unit that was Artículo 16 in that version); None: the live text's, or never resolved.
    references_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SignatureCount(Base):
    """The signature count of a petition at one moment; a petition's counts form its history."""

    __tablename__ = "signature_count"
    __table_args__ = (UniqueConstraint("petition_id", "counted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signatures: Mapped[int] = mapped_column(Integer, CheckConstraint("signatures >= 0"))


class Threshold(Base):
    """A signature count that, once crossed, obliges the committee to act (per document)."""

    __tablename__ = "threshold"
    __table_args__ = (UniqueConstraint("document_id", "signatures"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    signatures: Mapped[int] = mapped_column(Integer, CheckConstraint("signatures > 0"))
    action: Mapped[str] = mapped_column(String(40))
    #: Days from the crossing to the obligation's due date.
    due_days: Mapped[int] = mapped_column(Integer, default=30)
    #: How many committee members the obligation is assigned to (presentations: up to three).
    members: Mapped[int] = mapped_column(Integer, CheckConstraint("members BETWEEN 0 AND 3"), default=0)


class PetitionEvent(Base):
    """A dated fact in a petition's life: a threshold crossed, a hearing held, a response."""

    __tablename__ = "petition_event"
    __table_args__ = (UniqueConstraint("petition_id", "threshold_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # "threshold", "hearing", …
    threshold_id: Mapped[int | None] = mapped_column(ForeignKey("threshold.id", ondelete="SET NULL"), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    description: Mapped[str] = mapped_column(Text, default="")


class Obligation(Base):
    """What crossing a threshold obliges the committee to do, by when, and who is assigned."""

    __tablename__ = "obligation"
    __table_args__ = (UniqueConstraint("petition_id", "threshold_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    threshold_id: Mapped[int | None] = mapped_column(ForeignKey("threshold.id", ondelete="SET NULL"), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # "open" | "done"
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class ObligationMember(Base):
    __tablename__ = "obligation_member"

    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligation.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)


class Hearing(Base):
    """A meeting of committee members with a petition's petitioners."""

    __tablename__ = "hearing"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class HearingMember(Base):
    __tablename__ = "hearing_member"

    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
