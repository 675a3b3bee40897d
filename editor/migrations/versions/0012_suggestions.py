"""Suggestions (issue 22): the record of decided suggestions, the roles a stage lets only suggest,
and the unit edits that are accepted suggestions (who accepted them).

Revision: 0012
Follows: 0011
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "suggestion_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("suggestion", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_suggestion_decision_document_id", "suggestion_decision", ["document_id"])
    op.create_index("ix_suggestion_decision_suggestion", "suggestion_decision", ["suggestion"])
    # Plain ADD COLUMN (SQLite does it in place): a batch copy would lose the tables' other constraints.
    op.add_column("stage", sa.Column("suggest_roles", sa.String(length=200), nullable=False, server_default=sa.text("''")))
    op.add_column("unit_edit", sa.Column("accepted_by_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("unit_edit", "accepted_by_id")
    op.drop_column("stage", "suggest_roles")
    op.drop_index("ix_suggestion_decision_suggestion", table_name="suggestion_decision")
    op.drop_index("ix_suggestion_decision_document_id", table_name="suggestion_decision")
    op.drop_table("suggestion_decision")
