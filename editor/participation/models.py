"""The public's part in SQL: participants, their sign-in codes, comments, reports, support, and
each document's moderation settings. Units are keyed by GUID, never by position."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

#: Longest comment or reply, in characters (a page of text: a clause's critique, not an essay).
MAX_BODY = 3_000
#: Longest quotation of the clause a comment may carry.
MAX_QUOTE = 500
#: Longest display name, and the longest public reason a moderator gives.
MAX_NAME = 80
MAX_REASON = 500
#: A comment's states: waiting for a moderator, shown, or hidden with a public reason.
STATES = ("pending", "published", "hidden")
#: Per document: pre-moderation (shown once approved) or post-moderation (shown at once).
MODERATION = ("pre", "post")
#: What a participant needs to comment (or to register an event): a verified e-mail, or also a
#: moderator's approval.
LEVELS = ("email", "approved")
#: A registered event's, and its conclusions', states: waiting for a moderator, shown, or refused.
EVENT_STATES = ("pending", "approved", "rejected")
#: Longest description of an event, and longest conclusions, in characters.
MAX_EVENT_DESCRIPTION = 5_000
MAX_CONCLUSIONS = 20_000


class Participant(Base):
    """A resident who takes part without a staff account: an e-mail and a display name.

    The address is verified when its owner follows a sign-in link or types the code sent to it;
    it is never shown publicly (the display name is). `session_token` is part of every signed-in
    session: changing it (signing out) ends them all."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("email", name="uq_participant_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-case, as typed otherwise.
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    #: The language of the messages sent to them: "es" or "en" (the page's when they signed in).
    language: Mapped[str] = mapped_column(String(5), default="es")
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Documents that accept comments only from approved participants ask for this.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


class ParticipantSignIn(Base):
    """One request to sign in: a link and a 6-digit code sent by e-mail, either of which works
    once, until `expires_at`. Only their hashes are kept (the code's keyed with the application's
    secret: six digits alone would be found from their plain hash in a second)."""

    __tablename__ = "participant_sign_in"
    __table_args__ = (UniqueConstraint("link_hash", name="uq_participant_sign_in_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    link_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Wrong codes typed for this request; past a few the request is spent.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: Where to go once signed in (a path on this site).
    next_path: Mapped[str] = mapped_column(String(500), default="")


class PublicComment(Base):
    """A participant's comment on a unit (optionally quoting words of it), or a reply to one
    (`parent_id`; replies carry their thread's unit). Never deleted: a moderator hides it, with
    a public reason, and may restore it."""

    __tablename__ = "public_comment"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'published', 'hidden')", name="ck_public_comment_state"),
        Index("ix_public_comment_document_unit", "document_id", "unit_guid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    unit_guid: Mapped[str] = mapped_column(String(36))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("public_comment.id", ondelete="CASCADE"), nullable=True, index=True)
    #: Null once the participant's record is erased: the comment stays, anonymous.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True, index=True)
    body: Mapped[str] = mapped_column(Text)
    #: Words of the clause the comment is about (they were in it when the comment was made).
    quote: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(10))
    #: Why a comment waits for a moderator: "pre-moderation", "links", "repeated", "approval".
    held_for: Mapped[str] = mapped_column(String(20), default="")
    #: SHA-256 of the body with case and spacing folded: finds the same text posted again.
    digest: Mapped[str] = mapped_column(String(64), index=True)
    #: The stage in which it was written (key).
    stage_key: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The last moderator's action on it, and the public reason of a hidden comment.
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    hidden_reason: Mapped[str] = mapped_column(Text, default="")


class PublicCommentReport(Base):
    """Someone's report that a comment breaks the rules, with their reason. One per reporter
    (a participant, or an address for people who are not signed in); open until a moderator
    hides the comment or dismisses the reports by approving it."""

    __tablename__ = "public_comment_report"
    __table_args__ = (UniqueConstraint("comment_id", "reporter", name="uq_public_comment_report_reporter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("public_comment.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True)
    #: Keyed hash of "participant:<id>" or "address:<ip>": tells reporters apart, stores no address.
    reporter: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    #: "hidden" (the comment was hidden) or "dismissed" (a moderator kept it).
    outcome: Mapped[str] = mapped_column(String(10), default="")


class PublicSupport(Base):
    """A participant supports a clause or a comment: one row per participant and `target`
    ("unit:<guid>" or "comment:<id>"); withdrawing the support deletes it."""

    __tablename__ = "public_support"
    __table_args__ = (
        UniqueConstraint("participant_id", "document_id", "target", name="uq_public_support_target"),
        Index("ix_public_support_document_target", "document_id", "target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    #: The clause supported, or the clause of the comment supported.
    unit_guid: Mapped[str] = mapped_column(String(36))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("public_comment.id", ondelete="CASCADE"), nullable=True, index=True)
    target: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class ParticipationSetting(Base):
    """A document's rules for the public, chosen by its administrator (no row: the defaults,
    pre-moderation and a verified e-mail)."""

    __tablename__ = "participation_setting"
    __table_args__ = (
        CheckConstraint("moderation IN ('pre', 'post')", name="ck_participation_moderation"),
        CheckConstraint("comment_level IN ('email', 'approved')", name="ck_participation_comment_level"),
        CheckConstraint("event_level IN ('email', 'approved')", name="ck_participation_event_level"),
    )

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    moderation: Mapped[str] = mapped_column(String(4), default="pre")
    comment_level: Mapped[str] = mapped_column(String(10), default="email")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    #: Who may register an event on the public calendar (every registration is moderated anyway).
    event_level: Mapped[str] = mapped_column(String(10), default="email", server_default="email")


# --- citizen events on the public calendar ----------------------------------------------------------


class EventRegistration(Base):
    """A participant's registration of a public discussion, as they typed it, waiting for a
    moderator. Approved, it becomes a `CitizenEvent` (editor.provenance.models: what the public,
    the search, the open data and the committee's links see) and `event_id` names it; a
    registration never shows by itself, so nothing unmoderated can reach a public page.
    `clauses` is a JSON list of the GUIDs of the clauses it is about."""

    __tablename__ = "event_registration"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_event_registration_status"),
        UniqueConstraint("event_id", name="uq_event_registration_event"),
        Index("ix_event_registration_document_status", "document_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    #: The organiser; null once their record is erased.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    place: Mapped[str] = mapped_column(String(300), default="")
    #: Where to join it online (an http(s) address), when it is held online.
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: Who organises it, as shown (a collective's name, else the participant's display name).
    organiser: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    clauses: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    #: Why it was refused (told to the organiser, never shown publicly).
    reason: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("citizen_event.id", ondelete="SET NULL"), nullable=True)


class EventConclusions(Base):
    """The conclusions an organiser uploaded after their event, with attachments, waiting for a
    moderator; approved, their text becomes the event's public conclusions. The weekly report
    lists them in the week they were uploaded (`submitted_at`)."""

    __tablename__ = "event_conclusions"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_event_conclusions_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("citizen_event.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True, index=True)
    body: Mapped[str] = mapped_column(Text)
    #: How many people took part, as the organiser counted them.
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class EventAttachment(Base):
    """A file uploaded with conclusions: a PDF or an image (JPEG, PNG, WebP), checked by its
    content when it arrived (editor.participation.event_files). Stored under the instance folder
    by `stored_name`, random: the name the organiser gave it is kept only to show and to offer
    on download. Public when its conclusions are approved."""

    __tablename__ = "event_attachment"
    __table_args__ = (UniqueConstraint("stored_name", name="uq_event_attachment_stored_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conclusions_id: Mapped[int] = mapped_column(ForeignKey("event_conclusions.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    #: "pdf", "jpeg", "png" or "webp": what its content is, whatever its name said.
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Follow(Base):
    """A participant follows a document (`unit_guid` empty) or one of its clauses, and is told by
    e-mail (through the outbox) when it changes. Stopped by a signed link in every message."""

    __tablename__ = "participant_follow"
    __table_args__ = (UniqueConstraint("participant_id", "document_id", "unit_guid", name="uq_participant_follow"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    unit_guid: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: When the participant was last told of a change (changes are gathered: see editor.participation).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

