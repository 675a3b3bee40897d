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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

#: The server-side default of the text columns added after the first release (rows already there
#: get the empty string). A SQL literal: Alembic compares it as the databases report it.
EMPTY = text("''")

# --- survey --------------------------------------------------------------------------------


#: A survey's life: answers loaded from a file ("imported"), or a questionnaire being written
#: ("draft"), taking answers ("open"), or no longer taking them ("closed").
SURVEY_STATUSES = ("imported", "draft", "open", "closed")
#: How an answer came in: a file, the web page, a kiosk, a volunteer's tablet, a paper form.
CHANNELS = ("import", "web", "kiosk", "tablet", "paper")


class Survey(Base):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    #: Generated answers (`constituent survey synthesize`), labelled as such wherever shown.
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    status: Mapped[str] = mapped_column(String(10), default="imported", server_default="imported")
    #: A questionnaire's version: a published one never changes meaning, it gets a new version
    #: (a new Survey whose `supersedes_id` is the earlier one; their answers stay apart).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id", ondelete="SET NULL"), nullable=True)
    title_en: Mapped[str] = mapped_column(String(300), default="", server_default=EMPTY)
    #: What the survey is for, shown before the first question (with the privacy notice).
    intro: Mapped[str] = mapped_column(Text, default="", server_default=EMPTY)
    intro_en: Mapped[str] = mapped_column(Text, default="", server_default=EMPTY)
    #: About how long answering takes, in minutes (said on the first page).
    minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


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
    #: A questionnaire's question (editor.survey.questionnaire): its name within the
    #: questionnaire, its kind (text, long_text, choice, multi, scale, place), whether it must be
    #: answered, its section, its English wording and its options (JSON). Imported questions
    #: leave them empty.
    key: Mapped[str] = mapped_column(String(60), default="", server_default=EMPTY)
    kind: Mapped[str] = mapped_column(String(12), default="", server_default=EMPTY)
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    section: Mapped[str] = mapped_column(String(200), default="", server_default=EMPTY)
    section_en: Mapped[str] = mapped_column(String(200), default="", server_default=EMPTY)
    text_en: Mapped[str] = mapped_column(Text, default="", server_default=EMPTY)
    options: Mapped[str] = mapped_column(Text, default="", server_default=EMPTY)


class Respondent(Base):
    __tablename__ = "respondent"
    __table_args__ = (UniqueConstraint("survey_id", "client_id", name="uq_respondent_client"),
                      UniqueConstraint("survey_id", "challenge", name="uq_respondent_challenge"))

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the respondent's receipt code; the code itself is shown once and never stored.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    borough: Mapped[str] = mapped_column(String(120), default="")
    neighbourhood: Mapped[str] = mapped_column(String(200), default="")
    #: When the person answered (a tablet's capture time, not when it synced).
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="import", server_default="import")
    #: When the server received the answers (None for imported ones).
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The volunteer or staff member who collected them (kiosk, tablet, paper).
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                     nullable=True)
    #: The id a tablet gave these answers when they were captured: syncing them again adds nothing.
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The web page's solved challenge, usable once.
    challenge: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Keyed digests for finding ballot stuffing without keeping addresses or reading answers:
    #: of the normalised answers, and of the sending address and day.
    fingerprint: Mapped[str] = mapped_column(String(32), default="", server_default=EMPTY, index=True)
    origin: Mapped[str] = mapped_column(String(32), default="", server_default=EMPTY)
    #: Why these answers look like a duplicate ("" when they do not). They are kept and counted;
    #: analysts see the list and decide.
    suspect: Mapped[str] = mapped_column(String(200), default="", server_default=EMPTY)


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


# --- collecting answers --------------------------------------------------------------------------


class Kiosk(Base):
    """A shared tablet a staff member started for one questionnaire: anonymous respondents
    answer one after another; it stops taking answers when ended or after its hours."""

    __tablename__ = "survey_kiosk"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the kiosk's secret (kept in the tablet's cookie only).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    started_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PaperForm(Base):
    """A printed questionnaire: its number and pre-printed receipt code (only the code's hash is
    kept). It counts once two keyings agree, or once a mismatch is resolved."""

    __tablename__ = "survey_paper_form"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The respondent the agreed answers became (None until then).
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("respondent.id", ondelete="SET NULL"),
                                                      nullable=True)


class PaperEntry(Base):
    """One person's keying of a paper form (answers as JSON, by question key), or the resolution
    of a mismatch between two keyings."""

    __tablename__ = "survey_paper_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("survey_paper_form.id", ondelete="CASCADE"), index=True)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    answers: Mapped[str] = mapped_column(Text)
    #: Paper's own date, if the form has one; else when it was keyed.
    responded_on: Mapped[str] = mapped_column(String(10), default="")
    resolution: Mapped[bool] = mapped_column(Boolean, default=False)

