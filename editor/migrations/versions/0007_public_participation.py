"""The public takes part (issue 21): participants and their sign-in codes, public comments on
clauses with their reports and support, each document's moderation settings, and whether a stage
takes public comments.

Revision: 0007
Follows: 0006
Written: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("stage") as batch:
        # Null: as the stage's mode says (open in a consultation); true or false: the administrator's choice.
        batch.add_column(sa.Column("public_comments", sa.Boolean(), nullable=True))

    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("verified_at", WHEN, nullable=True),
        sa.Column("approved_at", WHEN, nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["approved_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", name="uq_participant_email"),
    )
    op.create_table(
        "participant_sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_hash", name="uq_participant_sign_in_link"),
    )
    op.create_index("ix_participant_sign_in_participant_id", "participant_sign_in", ["participant_id"])

    op.create_table(
        "public_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("unit_guid", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("held_for", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("stage_key", sa.String(length=40), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("published_at", WHEN, nullable=True),
        sa.Column("moderated_at", WHEN, nullable=True),
        sa.Column("moderated_by_id", sa.Integer(), nullable=True),
        sa.Column("hidden_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'published', 'hidden')", name="ck_public_comment_state"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parent_id"], ["public_comment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["moderated_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_public_comment_document_id", "public_comment", ["document_id"])
    op.create_index("ix_public_comment_parent_id", "public_comment", ["parent_id"])
    op.create_index("ix_public_comment_participant_id", "public_comment", ["participant_id"])
    op.create_index("ix_public_comment_digest", "public_comment", ["digest"])
    op.create_index("ix_public_comment_document_unit", "public_comment", ["document_id", "unit_guid"])

    op.create_table(
        "public_comment_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("reporter", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comment_id"], ["public_comment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("comment_id", "reporter", name="uq_public_comment_report_reporter"),
    )
    op.create_index("ix_public_comment_report_document_id", "public_comment_report", ["document_id"])
    op.create_index("ix_public_comment_report_comment_id", "public_comment_report", ["comment_id"])

    op.create_table(
        "public_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("unit_guid", sa.String(length=36), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comment_id"], ["public_comment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_id", "document_id", "target", name="uq_public_support_target"),
    )
    op.create_index("ix_public_support_document_id", "public_support", ["document_id"])
    op.create_index("ix_public_support_participant_id", "public_support", ["participant_id"])
    op.create_index("ix_public_support_comment_id", "public_support", ["comment_id"])
    op.create_index("ix_public_support_document_target", "public_support", ["document_id", "target"])

    op.create_table(
        "participation_setting",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("moderation", sa.String(length=4), nullable=False),
        sa.Column("comment_level", sa.String(length=10), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("moderation IN ('pre', 'post')", name="ck_participation_moderation"),
        sa.CheckConstraint("comment_level IN ('email', 'approved')", name="ck_participation_comment_level"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("document_id"),
    )


def downgrade() -> None:
    op.drop_table("participation_setting")
    for name in ("ix_public_support_document_target", "ix_public_support_comment_id",
                 "ix_public_support_participant_id", "ix_public_support_document_id"):
        op.drop_index(name, table_name="public_support")
    op.drop_table("public_support")
    op.drop_index("ix_public_comment_report_comment_id", table_name="public_comment_report")
    op.drop_index("ix_public_comment_report_document_id", table_name="public_comment_report")
    op.drop_table("public_comment_report")
    for name in ("ix_public_comment_document_unit", "ix_public_comment_digest", "ix_public_comment_participant_id",
                 "ix_public_comment_parent_id", "ix_public_comment_document_id"):
        op.drop_index(name, table_name="public_comment")
    op.drop_table("public_comment")
    op.drop_index("ix_participant_sign_in_participant_id", table_name="participant_sign_in")
    op.drop_table("participant_sign_in")
    op.drop_table("participant")
    with op.batch_alter_table("stage") as batch:
        batch.drop_column("public_comments")
