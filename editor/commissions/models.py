"""A commission in SQL: its units (by GUID; each with everything under it) and its members.

A commission's amendments are ordinary amendments with `amendment.commission_id` set; its report to
the plenary, the dictamen, is an amendment of kind `dictamen` with the same `commission_id`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..db import Base, UTCDateTime

#: working: it debates and votes amendments on its units; reported: its dictamen went to the plenary.
COMMISSION_STATES = ("working", "reported")


class Commission(Base):
    __tablename__ = "commission"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="working")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    units: Mapped[list[CommissionUnit]] = relationship(
        order_by="CommissionUnit.id", cascade="all, delete-orphan", lazy="selectin")
    members: Mapped[list[CommissionMember]] = relationship(
        order_by="CommissionMember.id", cascade="all, delete-orphan", lazy="selectin")


class CommissionUnit(Base):
    """A unit given to the commission, with everything under it."""

    __tablename__ = "commission_unit"
    __table_args__ = (UniqueConstraint("commission_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commission.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(36))
    label: Mapped[str] = mapped_column(String(200), default="")


class CommissionMember(Base):
    __tablename__ = "commission_member"
    __table_args__ = (UniqueConstraint("commission_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commission.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(String(120), default="")
