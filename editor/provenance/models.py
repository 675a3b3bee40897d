"""The relational record of provenance: citizen events, and the links between units and their
sources (petitions, survey themes, events). Units are referred to by document and GUID, never by
position, so a link survives edits, renumbering and moves of its unit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

#: Kinds of source a unit can be linked to.
SOURCE_KINDS = ("petition", "theme", "event")

#: How a unit relates to its source. "incorporates": the unit takes up the petition's proposal
#: (its wording is compared with the proposal); "motivated": the source is why the unit exists;
#: "addresses": the unit answers a concern (typical of survey themes); "related": context.
RELATIONS = ("incorporates", "motivated", "addresses", "related")


# --- citizen events ------------------------------------------------------------------------


class CitizenEvent(Base):
    """A registered public discussion and its conclusions, as the public sees it.

    The committee records one directly (editor.provenance.views), or a participant registers one
    on the public calendar and a moderator approves it (editor.participation.calendar): only then
    does a row exist here, so every reader of this table (pages, search, open data, the AKN
    export) sees approved events only. `starts_at` is the moment it begins when known (events
    registered on the calendar; the committee's older records have only `held_on`)."""

    __tablename__ = "citizen_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(300), default="")
    organiser: Mapped[str] = mapped_column(String(300), default="")
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    conclusions: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Where to join it online, when it is held online.
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    #: The staff account that recorded it, or the moderator who approved its registration.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)


# --- links ---------------------------------------------------------------------------------


class ProvenanceLink(Base):
    """A unit (by GUID) tied to a petition, theme or event, with the relation and a note.

    `unit_eid` and `unit_text` record the unit as it was when linked, so that the committee can
    be told what became of it when it was split, merged or deleted.
    """

    __tablename__ = "provenance_link"
    __table_args__ = (
        UniqueConstraint("document_id", "unit_guid", "source_kind", "source_id"),
        Index("ix_link_source", "source_kind", "source_id"),
        CheckConstraint("source_kind IN ('petition', 'theme', 'event')"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    unit_guid: Mapped[str] = mapped_column(String(36))
    source_kind: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[int] = mapped_column(Integer)
    relation: Mapped[str] = mapped_column(String(20), default="motivated")
    note: Mapped[str] = mapped_column(Text, default="")
    #: How the link was made: "manual", "import" (from a petition's references), "suggestion".
    origin: Mapped[str] = mapped_column(String(20), default="manual")
    unit_eid: Mapped[str] = mapped_column(String(255), default="")
    unit_text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SuggestionVerdict(Base):
    """The committee rejected a suggested link: it is not suggested again."""

    __tablename__ = "suggestion_verdict"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    unit_guid: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
