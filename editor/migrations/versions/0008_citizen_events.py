"""Citizen events on the public calendar (issue 21): participants register discussions, which a
moderator approves before they show; organisers upload conclusions with attachments, moderated
too. Approved events stay in `citizen_event`, which gets the time they start and end, an online
link, a description and who recorded them; committee-recorded events keep working as they were
(approved by nature: every row there is public). Each document says who may register events.

Revision: 0008
Follows: 0007
Written: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("citizen_event") as batch:
        batch.add_column(sa.Column("starts_at", WHEN, nullable=True))
        batch.add_column(sa.Column("ends_at", WHEN, nullable=True))
        batch.add_column(sa.Column("link", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_citizen_event_created_by", "user_account", ["created_by_id"], ["id"],
                                 ondelete="SET NULL")

    with op.batch_alter_table("participation_setting") as batch:
        batch.add_column(sa.Column("event_level", sa.String(length=10), server_default="email", nullable=False))
        batch.create_check_constraint("ck_participation_event_level", "event_level IN ('email', 'approved')")

    op.create_table(
        "event_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=True),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("organiser", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("clauses", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("moderated_at", WHEN, nullable=True),
        sa.Column("moderated_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_event_registration_status"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["moderated_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["event_id"], ["citizen_event.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", name="uq_event_registration_event"),
    )
    op.create_index("ix_event_registration_document_id", "event_registration", ["document_id"])
    op.create_index("ix_event_registration_participant_id", "event_registration", ["participant_id"])
    op.create_index("ix_event_registration_document_status", "event_registration", ["document_id", "status"])

    op.create_table(
        "event_conclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("submitted_at", WHEN, nullable=False),
        sa.Column("moderated_at", WHEN, nullable=True),
        sa.Column("moderated_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_event_conclusions_status"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["citizen_event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["moderated_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_conclusions_document_id", "event_conclusions", ["document_id"])
    op.create_index("ix_event_conclusions_event_id", "event_conclusions", ["event_id"])
    op.create_index("ix_event_conclusions_participant_id", "event_conclusions", ["participant_id"])

    op.create_table(
        "event_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conclusions_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["conclusions_id"], ["event_conclusions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stored_name", name="uq_event_attachment_stored_name"),
    )
    op.create_index("ix_event_attachment_conclusions_id", "event_attachment", ["conclusions_id"])


def downgrade() -> None:
    op.drop_index("ix_event_attachment_conclusions_id", table_name="event_attachment")
    op.drop_table("event_attachment")
    for name in ("ix_event_conclusions_participant_id", "ix_event_conclusions_event_id",
                 "ix_event_conclusions_document_id"):
        op.drop_index(name, table_name="event_conclusions")
    op.drop_table("event_conclusions")
    for name in ("ix_event_registration_document_status", "ix_event_registration_participant_id",
                 "ix_event_registration_document_id"):
        op.drop_index(name, table_name="event_registration")
    op.drop_table("event_registration")
    with op.batch_alter_table("participation_setting") as batch:
        batch.drop_constraint("ck_participation_event_level", type_="check")
        batch.drop_column("event_level")
    with op.batch_alter_table("citizen_event") as batch:
        batch.drop_constraint("fk_citizen_event_created_by", type_="foreignkey")
        batch.drop_column("created_by_id")
        batch.drop_column("description")
        batch.drop_column("link")
        batch.drop_column("ends_at")
        batch.drop_column("starts_at")
