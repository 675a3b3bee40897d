"""The assembly in SQL: its rules per document, what is known of each member (group, seat), the
sittings with their attendance and voting list, and the history of changed votes.

Members are the accounts whose role on the document is `assembly` (editor.roles); `AssemblyMember`
only adds their group and how they got their seat.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..db import Base, UTCDateTime

#: How a member got their seat.
SEATS = ("elected", "designated")
#: The states of a sitting.
SITTING_STATES = ("planned", "open", "closed")
#: The states of an item of the voting list: waiting, under debate, its vote open, decided (or fallen,
#: withdrawn: the amendment says which).
ITEM_STATES = ("pending", "debate", "voting", "done")


class AssemblyRules(Base):
    """The rules of the document's assembly (one row per document; none: the defaults)."""

    __tablename__ = "assembly_rules"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    #: none, count (quorum_count members) or share (quorum_share of all members, rounded up).
    quorum_kind: Mapped[str] = mapped_column(String(10), default="none")
    quorum_count: Mapped[int] = mapped_column(Integer, default=0)
    quorum_share: Mapped[float] = mapped_column(Float, default=0.5)
    #: The majority amendments need (editor.assembly.majority.MAJORITIES), and per kind of
    #: amendment ("" = the default).
    majority: Mapped[str] = mapped_column(String(30), default="simple")
    majority_substitution: Mapped[str] = mapped_column(String(30), default="")
    majority_insertion: Mapped[str] = mapped_column(String(30), default="")
    majority_deletion: Mapped[str] = mapped_column(String(30), default="")
    #: Whether a member may change their vote until the vote closes.
    votes_changeable: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Whether members may abstain (recorded as abstentions, counted neither for nor against).
    abstentions: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Tabling deadlines per stage: JSON {stage key: ISO date-time (UTC)}.
    deadlines: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AssemblyMember(Base):
    """A member's group (party) and seat on one document's assembly."""

    __tablename__ = "assembly_member"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(120), default="")
    seat: Mapped[str] = mapped_column(String(20), default="elected")


class Sitting(Base):
    __tablename__ = "sitting"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    #: The sitting's number within its document (1, 2, …).
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="planned")
    #: Amendments tabled after this moment are not put on this sitting's voting list.
    tabling_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    minutes: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The version of the text frozen when the sitting closed.
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    items: Mapped[list[SittingItem]] = relationship(order_by="SittingItem.position", cascade="all, delete-orphan",
                                                    lazy="selectin")


class SittingAttendance(Base):
    """A member marked present at a sitting by the chair."""

    __tablename__ = "sitting_attendance"

    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SittingItem(Base):
    """An amendment on a sitting's voting list, and, once its vote closed, how it was decided."""

    __tablename__ = "sitting_item"
    __table_args__ = (UniqueConstraint("sitting_id", "amendment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id", ondelete="CASCADE"), index=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    vote_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The decision: the majority applied, members present and in all, the votes for it needed.
    majority: Mapped[str] = mapped_column(String(30), default="")
    present: Mapped[int | None] = mapped_column(Integer, nullable=True)
    members: Mapped[int | None] = mapped_column(Integer, nullable=True)
    required: Mapped[int | None] = mapped_column(Integer, nullable=True)
    adopted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class VoteChange(Base):
    """A vote changed before the vote closed: the choice it had and the one it got."""

    __tablename__ = "amendment_vote_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    old_choice: Mapped[str] = mapped_column(String(10))
    new_choice: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
