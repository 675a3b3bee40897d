"""The relational record of provenance. Units are referred to by document and GUID, never by
position, so a link survives edits, renumbering and moves of its unit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base

#: What a threshold obliges the committee to do once a petition crosses it.
ACTIONS = ("legal_review", "committee_presentation", "executive_audience", "other")

#: The case study's thresholds: (signatures, action, days to fulfil it, committee members assigned).
DEFAULT_THRESHOLDS = (
    (5_000, "legal_review", 30, 0),
    (10_000, "committee_presentation", 30, 3),
    (50_000, "executive_audience", 60, 0),
)

#: Kinds of source a unit can be linked to.
SOURCE_KINDS = ("petition", "theme", "event")

#: How a unit relates to its source. "incorporates": the unit takes up the petition's proposal
#: (its wording is compared with the proposal); "motivated": the source is why the unit exists;
#: "addresses": the unit answers a concern (typical of survey themes); "related": context.
RELATIONS = ("incorporates", "motivated", "addresses", "related")


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


class SignatureCount(Base):
    """The signature count of a petition at one moment; a petition's counts form its history."""

    __tablename__ = "signature_count"
    __table_args__ = (UniqueConstraint("petition_id", "counted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


class HearingMember(Base):
    __tablename__ = "hearing_member"

    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)


# --- survey --------------------------------------------------------------------------------


class Survey(Base):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    #: Generated answers (`constituent survey synthesize`), labelled as such wherever shown.
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


class SurveyQuestion(Base):
    __tablename__ = "survey_question"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    group: Mapped[int] = mapped_column(Integer, default=0)
    widget: Mapped[str] = mapped_column(String(20), default="text")  # select, radio, text, textarea, input
    #: Whether its answers are free text to be coded into themes.
    coded: Mapped[bool] = mapped_column(Boolean, default=False)


class Respondent(Base):
    __tablename__ = "respondent"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the respondent's receipt code; the code itself is shown once and never stored.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    borough: Mapped[str] = mapped_column(String(120), default="")
    neighbourhood: Mapped[str] = mapped_column(String(200), default="")
    responded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Answer(Base):
    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    #: An analyst has set this answer's themes by hand: the automatic coder leaves it alone.
    coded_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)


class Theme(Base):
    """A theme of the document's taxonomy ("agua", "inseguridad"), with its synonyms."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("document_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))  # a slug: "areas-verdes"
    name: Mapped[str] = mapped_column(String(120))
    #: JSON list of words and phrases that signal the theme, as people write them.
    synonyms: Mapped[str] = mapped_column(Text, default="[]")
    description: Mapped[str] = mapped_column(Text, default="")


class Coding(Base):
    """One answer assigned to one theme, by the coder ("auto") or by an analyst ("manual")."""

    __tablename__ = "coding"
    __table_args__ = (UniqueConstraint("answer_id", "theme_id"), Index("ix_coding_theme", "theme_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"))
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10), default="auto")  # "auto" | "manual"
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)


# --- citizen events ------------------------------------------------------------------------


class CitizenEvent(Base):
    """A registered public discussion and its conclusions."""

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


class SuggestionVerdict(Base):
    """The committee rejected a suggested link: it is not suggested again."""

    __tablename__ = "suggestion_verdict"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    unit_guid: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
