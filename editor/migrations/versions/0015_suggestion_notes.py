"""Notes on suggestions (issue 22): the discussion of a pending suggestion, with mentions.

Revision: 0015
Follows: 0014
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "suggestion_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("suggestion", sa.String(length=64), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_suggestion_note_document_suggestion", "suggestion_note", ["document_id", "suggestion"])


def downgrade() -> None:
    op.drop_index("ix_suggestion_note_document_suggestion", table_name="suggestion_note")
    op.drop_table("suggestion_note")
