"""The assembly's body, rules and sittings (issue 23).

Revision: 0013
Follows: 0012
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assembly_rules",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("quorum_kind", sa.String(length=10), nullable=False),
        sa.Column("quorum_count", sa.Integer(), nullable=False),
        sa.Column("quorum_share", sa.Float(), nullable=False),
        sa.Column("majority", sa.String(length=30), nullable=False),
        sa.Column("majority_substitution", sa.String(length=30), nullable=False),
        sa.Column("majority_insertion", sa.String(length=30), nullable=False),
        sa.Column("majority_deletion", sa.String(length=30), nullable=False),
        sa.Column("votes_changeable", sa.Boolean(), nullable=False),
        sa.Column("abstentions", sa.Boolean(), nullable=False),
        sa.Column("deadlines", sa.Text(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_table(
        "assembly_member",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=120), nullable=False),
        sa.Column("seat", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id", "user_id"),
    )
    op.create_table(
        "sitting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("tabling_deadline", WHEN, nullable=True),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("opened_at", WHEN, nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "number"),
    )
    op.create_index(op.f("ix_sitting_document_id"), "sitting", ["document_id"], unique=False)
    op.create_table(
        "sitting_attendance",
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["sitting_id"], ["sitting.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sitting_id", "user_id"),
    )
    op.create_table(
        "sitting_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("vote_opened_at", WHEN, nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("majority", sa.String(length=30), nullable=False),
        sa.Column("present", sa.Integer(), nullable=True),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("required", sa.Integer(), nullable=True),
        sa.Column("adopted", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["sitting_id"], ["sitting.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["amendment_id"], ["amendment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sitting_id", "amendment_id"),
    )
    op.create_index(op.f("ix_sitting_item_sitting_id"), "sitting_item", ["sitting_id"], unique=False)
    op.create_index(op.f("ix_sitting_item_amendment_id"), "sitting_item", ["amendment_id"], unique=False)
    op.create_table(
        "amendment_vote_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("old_choice", sa.String(length=10), nullable=False),
        sa.Column("new_choice", sa.String(length=10), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["amendment_id"], ["amendment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_amendment_vote_change_amendment_id"), "amendment_vote_change", ["amendment_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_amendment_vote_change_amendment_id"), table_name="amendment_vote_change")
    op.drop_table("amendment_vote_change")
    op.drop_index(op.f("ix_sitting_item_amendment_id"), table_name="sitting_item")
    op.drop_index(op.f("ix_sitting_item_sitting_id"), table_name="sitting_item")
    op.drop_table("sitting_item")
    op.drop_table("sitting_attendance")
    op.drop_index(op.f("ix_sitting_document_id"), table_name="sitting")
    op.drop_table("sitting")
    op.drop_table("assembly_member")
    op.drop_table("assembly_rules")
