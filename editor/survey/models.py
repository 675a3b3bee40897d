"""The relational record of a survey: its questions, respondents and answers, and the themes
answers are coded into."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

# --- survey --------------------------------------------------------------------------------


class Survey(Base):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    #: Generated answers (`constituent survey synthesize`), labelled as such wherever shown.
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


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
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


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
