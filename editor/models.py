"""The relational facts of the application: who the users are, which documents exist, and the
first names of their units.

The text of a document is not here: it lives in the CRDT store (crdt.store), keyed by slug.
"""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .db import Base, UTCDateTime

#: Account roles. `admin` configures documents and presides over stages; `committee` drafts;
#: `legal` (legal advisers) edits in the review stage and comments; `assembly` tables and votes
#: on amendments; `viewer` reads. Which role may do what, and in which stage, is decided in
#: editor.permissions only.
ROLES = ("admin", "committee", "legal", "assembly", "volunteer", "viewer")
#: Roles an administrator may give an account on one document (overriding its account role there).
#: Administrators are administrators everywhere; petitioners and the public have no account role:
#: petitioners hold a review link (editor.review), the public reads published documents.
DOCUMENT_ROLES = ("committee", "legal", "assembly", "volunteer", "viewer")


clock.now = clock.now  # column defaults


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # Changing it logs the user out everywhere: sessions carry it (see accounts.load_user).
    session_token: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The language of what is written to the account outside a request (e-mail): "es" or "en".
    language: Mapped[str] = mapped_column(String(5), default="es", server_default="es")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active


class Document(Base):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(3), default="spa")
    doctype: Mapped[str] = mapped_column(String(20), default="bill")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class UnitName(Base):
    """The eId a unit (by GUID) had when it was first recorded: its Akoma Ntoso `wId`.

    Recorded for every unit when a document is created or imported, and for new units at their
    first export; an export whose eId for the unit differs (it was renumbered) writes this as
    `wId`, so that readers of successive versions can tell it is the same provision.
    """

    __tablename__ = "unit_name"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    guid: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_eid: Mapped[str] = mapped_column(String(255))


class Notification(Base):
    """Something a user should know about (a mention, a reply, a petition crossed a threshold, an
    obligation is due, the stage changed), shown to them until read.

    Its text is `key` (a catalogue msgid) with `args` (JSON), rendered in the reader's language
    when it is shown (editor.notifications.texts); `message` is the text of older rows, written
    once in the document's language, and the fallback when `key` is empty."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: What it is about: mention, reply, threshold, obligation, stage, review ("" for older rows).
    kind: Mapped[str] = mapped_column(String(20), default="", server_default=sql_text("''"))
    key: Mapped[str] = mapped_column(Text, default="", server_default=sql_text("''"))
    args: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class DocumentMember(Base):
    """An account's role on one document, given by an administrator: it overrides the account's
    own role there (a committee member of one ordinance can be a reader of another)."""

    __tablename__ = "document_member"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class LoginThrottle(Base):
    """Failed sign-ins per email and client address: after a few in a row that address is locked
    out of that account for a while (editor.accounts). Other addresses are not: a stranger cannot
    lock the administrator out before a vote."""

    __tablename__ = "login_throttle"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EndedSession(Base):
    """A browser session that signed out (its id, from the session cookie): the cookie, copied or
    not, no longer signs anyone in. Rows of an account go when it signs out everywhere, which
    ends every older session anyway."""

    __tablename__ = "ended_session"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
