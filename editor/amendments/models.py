"""Amendments in SQL: the amendment, the units it targets, its sponsors, its state history, the
votes cast on it and, once adopted, what it changed.

Units are referred to by GUID. The wording of every target is captured when the amendment is
tabled (`base_*`): adoption compares it with the live wording to detect that the unit changed
since, instead of overwriting the change silently.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..commissions import models as _commission_models  # noqa: F401 - the table amendment.commission_id points to
from ..db import Base, UTCDateTime

#: What an amendment does to its target units.
KINDS = ("substitution", "insertion", "deletion")
#: A commission's report to the plenary: a substitution of every unit it changed (not written by hand).
DICTAMEN = "dictamen"
#: How an amendment stands to its `parent`: it amends the parent's proposal (a sub-amendment), it is
#: an article reserved from the parent dictamen for a separate vote (a reserva), or a part of the
#: parent voted separately (a split vote).
RELATIONS = ("amends", "reservation", "part")
#: The states of an amendment; `tabled` and `debate` are "open" (they can conflict). `fallen`: it
#: can no longer be voted, because an earlier decision made it moot (the unit it rewords was deleted,
#: a compromise replaced it): see service.fall.
STATES = ("draft", "tabled", "debate", "adopted", "rejected", "withdrawn", "fallen")
OPEN_STATES = ("tabled", "debate")
#: Where an insertion puts the new unit, relative to its target (the anchor).
POSITIONS = ("after", "before", "inside")
#: A member's vote.
CHOICES = ("for", "against", "abstain")


class Amendment(Base):
    __tablename__ = "amendment"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    #: The amendment's number within its document (1, 2, …), in order of creation.
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    author_name: Mapped[str] = mapped_column(String(120), default="")
    justification: Mapped[str] = mapped_column(Text, default="")
    #: Insertion: where the new unit goes relative to the (single) target, and what it is.
    position: Mapped[str] = mapped_column(String(10), default="")
    new_kind: Mapped[str] = mapped_column(String(20), default="")
    new_heading: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    #: Insertion: the GUID the new unit got (akoma_ntoso.new_guid, when the amendment was adopted).
    new_guid: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    tabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The amendment's Akoma Ntoso work URI, fixed when it is tabled.
    frbr_work: Mapped[str] = mapped_column(String(300), default="")
    #: The tally recorded when the vote was closed.
    votes_for: Mapped[int | None] = mapped_column(Integer, nullable=True)
    votes_against: Mapped[int | None] = mapped_column(Integer, nullable=True)
    votes_abstain: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: A sub-amendment (relation "amends") or a reserved article (relation "reservation"): its parent.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("amendment.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    relation: Mapped[str] = mapped_column(String(20), default="", server_default=sql_text("''"))
    #: A compromise: the numbers of the amendments it replaces, as JSON (they fall when it is adopted).
    replaces: Mapped[str] = mapped_column(Text, default="", server_default=sql_text("''"))
    #: Debated and voted in this commission (not in plenary); a dictamen: the commission that reports it.
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("commission.id", ondelete="SET NULL"),
                                                      nullable=True, index=True)

    targets: Mapped[list[AmendmentTarget]] = relationship(
        order_by="AmendmentTarget.position", cascade="all, delete-orphan", lazy="selectin")
    sponsors: Mapped[list[AmendmentSponsor]] = relationship(
        order_by="AmendmentSponsor.id", cascade="all, delete-orphan", lazy="selectin")


class AmendmentTarget(Base):
    """One unit an amendment acts on, in order; for an insertion, the unit it is placed by."""

    __tablename__ = "amendment_target"
    __table_args__ = (UniqueConstraint("amendment_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    guid: Mapped[str] = mapped_column(String(36), index=True)
    #: Label and eId when the amendment was last written (for showing it once the unit is gone).
    label: Mapped[str] = mapped_column(String(200), default="")
    eid: Mapped[str] = mapped_column(String(255), default="")
    #: Substitution: the proposed heading and text of this unit.
    new_heading: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    #: The unit as it stood when the amendment was tabled (None before): the base of conflicts.
    base_label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    base_eid: Mapped[str | None] = mapped_column(String(255), nullable=True)
    base_heading: Mapped[str | None] = mapped_column(Text, nullable=True)
    base_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The whole unit with its sub-units at tabling, as JSON (a deletion removes all of it).
    base_tree: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: A dictamen's target reserved for a separate vote: the number of the reservation amendment.
    reserved_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AmendmentSponsor(Base):
    """A co-sponsor of an amendment (an assembly member other than its author)."""

    __tablename__ = "amendment_sponsor"
    __table_args__ = (UniqueConstraint("amendment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(String(120), default="")


class AmendmentEvent(Base):
    """One change of state: who moved the amendment from which state to which, and when."""

    __tablename__ = "amendment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    user_name: Mapped[str] = mapped_column(String(120), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: Why, when the state alone does not say it: "replaced by compromise 5", "rebased", …
    note: Mapped[str] = mapped_column(Text, default="", server_default=sql_text("''"))


class AmendmentRevision(Base):
    """The amendment's wording at one moment: each target's base and proposal, as JSON. Kept when the
    proposal or the base changes after tabling (a rebase, an adopted sub-amendment), so both texts stay
    visible."""

    __tablename__ = "amendment_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    #: tabled, rebased, amended (by a sub-amendment)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    wording: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    user_name: Mapped[str] = mapped_column(String(120), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AmendmentVote(Base):
    __tablename__ = "amendment_vote"
    __table_args__ = (UniqueConstraint("amendment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(String(120), default="")
    choice: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AmendmentChange(Base):
    """What an adopted amendment changed in one unit: wording before and after, eIds before and
    after (None: the unit did not exist before / does not exist after)."""

    __tablename__ = "amendment_change"
    __table_args__ = (UniqueConstraint("amendment_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: substitution, insertion or repeal (Akoma Ntoso's textualMod types).
    type: Mapped[str] = mapped_column(String(20))
    guid: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20), default="")
    label_before: Mapped[str | None] = mapped_column(String(200), nullable=True)
    label_after: Mapped[str | None] = mapped_column(String(200), nullable=True)
    eid_before: Mapped[str | None] = mapped_column(String(255), nullable=True)
    eid_after: Mapped[str | None] = mapped_column(String(255), nullable=True)
    old_heading: Mapped[str | None] = mapped_column(Text, nullable=True)
    old_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_heading: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_text: Mapped[str | None] = mapped_column(Text, nullable=True)
