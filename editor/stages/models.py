"""Stages, transitions, named versions and the attribution of edits to units, in SQL.

A document's stages are rows (configurable per document); its current stage is the target of
its latest transition, or its first stage before any. A version is immutable once written: the
CRDT state, the numbered unit tree as JSON (what diffs read) and the AKN export of that moment.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime

#: What the live text allows in a stage: `edit` (the stage's editing roles write it),
#: `consultation` (as `edit`, and petitioners review through their links), `amendments` (the
#: text changes only through adopted amendments), `closed` (nobody changes it).
STAGE_MODES = ("edit", "consultation", "amendments", "closed")


class Stage(Base):
    __tablename__ = "stage"
    __table_args__ = (UniqueConstraint("document_id", "key"), UniqueConstraint("document_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))
    #: The administrator's name for it; empty means the default name of `key`, translated.
    name: Mapped[str] = mapped_column(String(120), default="")
    mode: Mapped[str] = mapped_column(String(20))
    #: Space-separated account roles that write the live text in this stage.
    edit_roles: Mapped[str] = mapped_column(String(200), default="")
    #: Space-separated account roles that move the document from this stage to the next.
    advance_roles: Mapped[str] = mapped_column(String(200), default="")
    #: The calendar the public sees (optional): when the stage is planned to start and its
    #: deadline (the day it is planned to end).
    planned_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    planned_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: Whether the public may comment on the text in this stage (editor.participation): None
    #: follows the mode (open in a consultation, closed otherwise); the administrator may open
    #: or close a stage by hand.
    public_comments: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: Space-separated account roles whose changes to the live text are suggestions in this stage
    #: (editor.suggestions): others accept or reject them. A role in `edit_roles` writes directly.
    suggest_roles: Mapped[str] = mapped_column(String(200), default="", server_default=sql_text("''"))

    @property
    def editors(self) -> frozenset[str]:
        return frozenset(self.edit_roles.split())

    @property
    def suggesters(self) -> frozenset[str]:
        return frozenset((self.suggest_roles or "").split())

    @property
    def advancers(self) -> frozenset[str]:
        return frozenset(self.advance_roles.split())


class Version(Base):
    """A frozen, named state of a document's text (never changed after it is written)."""

    __tablename__ = "version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    stage_key: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The whole CRDT state (a Yjs update from the empty document).
    state: Mapped[bytes] = mapped_column(LargeBinary)
    #: The live meta map and the numbered unit tree, as JSON (see versions.snapshot_json).
    snapshot: Mapped[str] = mapped_column(Text)
    #: The Akoma Ntoso export of this version, validated when it was frozen.
    akn: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))


class StageTransition(Base):
    __tablename__ = "stage_transition"
    __table_args__ = (UniqueConstraint("document_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    from_key: Mapped[str] = mapped_column(String(40))
    to_key: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    user_name: Mapped[str] = mapped_column(String(120), default="")
    user_role: Mapped[str] = mapped_column(String(20), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    note: Mapped[str] = mapped_column(Text, default="")
    #: The version frozen when the document left `from_key` (its text at the end of that stage).
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"), nullable=True)


class UnitEdit(Base):
    """Who changed a unit's text, and when: one row per user (or amendment) and unit per spell of
    editing (edits less than `history.SPELL` apart extend the same row)."""

    __tablename__ = "unit_edit"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    #: Set when the change is an adopted amendment (editor.amendments); then user_id is who adopted it.
    amendment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    count: Mapped[int] = mapped_column(Integer, default=1)
    #: Set when the change is an accepted suggestion (editor.suggestions): then user_id is its
    #: author and this who accepted it.
    accepted_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
